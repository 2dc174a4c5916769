//! The backward pass: one loop over the tape in reverse.

use crate::derivatives;
use crate::op::Op;
use crate::tape::{set_grad_enabled, Input, LeafKind, Small, Tape, TapeDataRefs, Var};
use std::fmt;
use tensor::Tensor;

/// An error from a backward pass (a non-finite gradient in anomaly mode, or bad arguments).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutogradError(pub String);

impl fmt::Display for AutogradError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for AutogradError {}

/// What a backward step did, for the step-by-step trace.
pub struct Step<'a> {
    /// Tape index of the node.
    pub index: usize,
    /// The node's op.
    pub op: &'a Op,
    /// The node's label, if any.
    pub label: Option<&'a str>,
    /// The gradient of the loss with respect to the node's output.
    pub grad: &'a Tensor,
    /// The gradients passed to each input (`None` for constants).
    pub input_grads: &'a [Option<Var>],
    /// Tape indices of the inputs.
    pub input_ids: &'a [Option<usize>],
}

pub(crate) struct Engine<'h> {
    pub accumulate: bool,
    pub create_graph: bool,
    pub hook: Option<&'h mut dyn FnMut(&Step<'_>)>,
}

/// The gradients in flight during a pass: one slot per tape index from `base` up, pointing
/// into the short list of gradients that have arrived at a node not yet processed (in a chain
/// of ops, one). The list is what holds the 180-byte gradients, so a pass over a long tape
/// neither allocates nor clears a tape-sized vector of them.
struct Pending {
    base: usize,
    /// 0: no gradient yet; k: `live[k - 1]`.
    slots: Vec<u32>,
    live: Vec<(usize, Var)>,
}

impl Pending {
    /// Slots for nodes `base..=top`, in `slots` (a reused buffer).
    fn new(base: usize, top: usize, mut slots: Vec<u32>) -> Pending {
        slots.clear();
        slots.resize(top + 1 - base, 0);
        Pending {
            base,
            slots,
            live: Vec::with_capacity(4),
        }
    }

    /// Removes and returns the gradient that reached node `i`.
    fn take(&mut self, i: usize) -> Option<Var> {
        let s = std::mem::replace(&mut self.slots[i - self.base], 0);
        if s == 0 {
            return None;
        }
        let k = s as usize - 1;
        let (_, g) = self.live.swap_remove(k);
        if let Some(&(moved, _)) = self.live.get(k) {
            self.slots[moved - self.base] = s;
        }
        Some(g)
    }

    /// The gradient that reached node `i`, in place.
    fn get_mut(&mut self, i: usize) -> Option<&mut Var> {
        match self.slots[i - self.base] {
            0 => None,
            s => Some(&mut self.live[s as usize - 1].1),
        }
    }

    /// Hands node `i`'s gradient on to node `j` as it is (without moving it if `j` has none
    /// yet).
    fn pass_on(&mut self, i: usize, j: usize) {
        match j.checked_sub(self.base) {
            Some(jj) if self.slots[jj] == 0 => {
                let s = std::mem::replace(&mut self.slots[i - self.base], 0);
                self.slots[jj] = s;
                self.live[s as usize - 1].0 = j;
            }
            _ => {
                if let Some(g) = self.take(i) {
                    self.add(j, g);
                }
            }
        }
    }

    /// Adds `g` to the gradient of node `i` (dropped below `base`: nothing asked for it).
    fn add(&mut self, i: usize, g: Var) {
        let Some(slot) = i.checked_sub(self.base).map(|k| &mut self.slots[k]) else {
            return;
        };
        if *slot == 0 {
            self.live.push((i, g));
            *slot = u32::try_from(self.live.len()).expect("fewer than 2³² gradients in flight");
        } else {
            let old = &mut self.live[*slot as usize - 1].1;
            // unrecorded gradients are summed in the first one's buffer when nothing else
            // holds it (a rule's fresh output usually); else (or on the tape) a new sum
            let recorded = old.id.is_some() || g.id.is_some();
            if recorded || !old.value.add_assign_if_unique(&g.value) {
                *old = old.add(&g);
            }
        }
    }
}

/// A node's op and inputs while its rule runs. They are moved out of the tape (the rule may
/// record onto it, which can move the nodes) and put back when this is dropped, also on a
/// panic. With a hook they are copied instead, so the hook sees the tape whole.
struct Taken<'t> {
    tape: &'t Tape,
    i: usize,
    op: Op,
    inputs: Small<Input>,
    moved: bool,
}

impl<'t> Taken<'t> {
    fn new(tape: &'t Tape, i: usize, copy: bool) -> Taken<'t> {
        let mut d = tape.0.borrow_mut();
        let node = &mut d.nodes[i];
        let (op, inputs) = if copy {
            (node.op.clone(), node.inputs.clone())
        } else {
            (
                std::mem::replace(&mut node.op, Op::Leaf),
                std::mem::replace(&mut node.inputs, Small::Zero),
            )
        };
        Taken {
            tape,
            i,
            op,
            inputs,
            moved: !copy,
        }
    }
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        if self.moved {
            match self.tape.0.try_borrow_mut() {
                Ok(mut d) => {
                    let node = &mut d.nodes[self.i];
                    node.op = std::mem::replace(&mut self.op, Op::Leaf);
                    node.inputs = std::mem::replace(&mut self.inputs, Small::Zero);
                }
                // never reached today (nothing holds the tape while a rule runs); losing the
                // node's op would silently drop gradients later, so say so loudly
                Err(_) if !std::thread::panicking() => {
                    panic!(
                        "autograd: node {} could not be put back on its tape",
                        self.i
                    )
                }
                Err(_) => {}
            }
        }
    }
}

impl Engine<'_> {
    /// Runs node `i`'s rule on tensors, if it is one of the rules whose result needs neither
    /// the op's inputs nor its output (the same arithmetic as [`derivatives::backward`],
    /// without building those Vars): the gradient is rescaled where it lies, or passed on
    /// as it is, and handed to the input. Only for passes that record no graph and have no
    /// hook. Returns false (having done nothing) for other nodes.
    fn fast_step(
        &self,
        tape: &Tape,
        pending: &mut Pending,
        i: usize,
        anomaly: bool,
    ) -> Result<bool, AutogradError> {
        let mut guard = tape.0.borrow_mut();
        let d = &mut *guard;
        let node = &d.nodes[i];
        let (LeafKind::None, [Input::Node(j)]) = (&node.leaf, &*node.inputs) else {
            return Ok(false);
        };
        let j = *j;
        let Some(g) = pending.get_mut(i) else {
            return Ok(false);
        };
        let g = &mut g.value;
        // the gradient that reached node i, which the tape keeps for inspection
        let seen = match node.op {
            Op::AddScalar(_) => g.clone(),
            Op::MulScalar(c) => {
                let t = g.mul_scalar(c);
                std::mem::replace(g, t)
            }
            Op::Neg => {
                let t = g.neg();
                std::mem::replace(g, t)
            }
            Op::GradReverse(l) => {
                let t = g.mul_scalar(-l);
                std::mem::replace(g, t)
            }
            _ => return Ok(false),
        };
        if anomaly && !g.all_finite() {
            return Err(non_finite(&node.op, i, node.location, 0, j));
        }
        if self.accumulate {
            d.grads[i] = Some(seen);
        }
        // (adding to a gradient already at j is a recorded op: the tape must be free)
        drop(guard);
        pending.pass_on(i, j);
        Ok(true)
    }

    /// Runs backward from `roots` (node index, gradient) down to node `lowest`, returning the
    /// gradient that reached each node of `wanted` (`None` if none did).
    pub(crate) fn run(
        &mut self,
        tape: &Tape,
        roots: &[(usize, Var)],
        lowest: usize,
        wanted: &[usize],
    ) -> Result<Vec<Option<Var>>, AutogradError> {
        let mut found: Vec<Option<Var>> = wanted.iter().map(|_| None).collect();
        // wanted nodes from the top down, met in that order by the loop below
        let mut want: Vec<(usize, usize)> = wanted.iter().copied().zip(0..).collect();
        want.sort_unstable_by(|a, b| b.cmp(a));
        let mut next_want = 0;
        let top = match roots.iter().map(|r| r.0).filter(|&i| i >= lowest).max() {
            Some(t) => t,
            None => return Ok(found),
        };
        let spare_slots = std::mem::take(&mut tape.0.borrow_mut().slots);
        let mut pending = Pending::new(lowest, top, spare_slots);
        if self.accumulate {
            let mut d = tape.0.borrow_mut();
            let n = d.nodes.len();
            if d.grads.len() < n {
                d.grads.resize(n, None);
            }
            // what an intermediate node shows is this pass's gradient (or none); input leaves
            // keep accumulating, like PyTorch's .grad
            let TapeDataRefs { nodes, grads } = d.split();
            for (slot, node) in grads.iter_mut().zip(nodes) {
                if !matches!(node.leaf, LeafKind::Input) {
                    *slot = None;
                }
            }
        }
        for (i, g) in roots {
            pending.add(*i, g.clone());
        }
        let _mode = set_grad_enabled(self.create_graph);
        let anomaly = tape.anomaly();
        struct InBackward<'t>(&'t Tape, bool);
        impl Drop for InBackward<'_> {
            fn drop(&mut self) {
                self.0 .0.borrow_mut().in_backward = self.1;
            }
        }
        let _flag = InBackward(
            tape,
            std::mem::replace(&mut tape.0.borrow_mut().in_backward, true),
        );
        // without a graph to record or a hook to show them, simple rules run on tensors
        let fast = !self.create_graph && self.hook.is_none();
        for i in (lowest..=top).rev() {
            let Some(g) = pending.get_mut(i) else {
                continue;
            };
            while let Some(&(w, k)) = want.get(next_want) {
                if w < i {
                    break;
                }
                if w == i {
                    found[k] = Some(g.clone());
                }
                next_want += 1;
            }
            if fast && self.fast_step(tape, &mut pending, i, anomaly)? {
                continue;
            }
            let g = pending.take(i).expect("node i has a gradient");
            let (leaf, location) = {
                let mut d = tape.0.borrow_mut();
                let d = &mut *d;
                let node = &d.nodes[i];
                if self.accumulate {
                    let slot = &mut d.grads[i];
                    *slot = Some(match slot.take() {
                        Some(old) if matches!(node.leaf, LeafKind::Input) => old.add(&g.value),
                        _ => g.value.clone(),
                    });
                }
                (node.leaf.clone(), node.location)
            };
            match &leaf {
                LeafKind::Param(p) if self.accumulate => p.accumulate_grad(&g.value),
                _ => {}
            }
            if !matches!(leaf, LeafKind::None) {
                continue;
            }
            let node = Taken::new(tape, i, self.hook.is_some());
            let (op, inputs) = (&node.op, &node.inputs);
            let (x, out) = {
                let d = tape.0.borrow();
                let x = Small::collect(inputs.iter().map(|inp| Var {
                    tape: tape.clone(),
                    id: inp.id(),
                    value: match inp {
                        Input::Node(j) => d.nodes[*j].value.clone(),
                        Input::Constant(t) => (**t).clone(),
                    },
                }));
                let out = Var {
                    tape: tape.clone(),
                    id: Some(i),
                    value: d.nodes[i].value.clone(),
                };
                (x, out)
            };
            let mut need_small = [false; 4];
            let need_vec: Vec<bool>;
            let need: &[bool] = if inputs.len() <= 4 {
                for (k, inp) in inputs.iter().enumerate() {
                    need_small[k] = inp.id().is_some();
                }
                &need_small[..inputs.len()]
            } else {
                need_vec = inputs.iter().map(|inp| inp.id().is_some()).collect();
                &need_vec
            };
            let mut res = derivatives::backward(op, &x, &out, &g, need);
            if let Some(h) = self.hook.as_mut() {
                let ids: Vec<Option<usize>> = inputs.iter().map(|i| i.id()).collect();
                let label = tape.0.borrow().nodes[i].label.clone();
                h(&Step {
                    index: i,
                    op,
                    label: label.as_deref(),
                    grad: &g.value,
                    input_grads: &res[..],
                    input_ids: &ids,
                });
            }
            for (k, r) in res.iter_mut().enumerate() {
                let (Some(r), Some(j)) = (r.take(), inputs[k].id()) else {
                    continue;
                };
                if anomaly && !r.value.all_finite() {
                    return Err(non_finite(op, i, location, k, j));
                }
                debug_assert_eq!(
                    r.shape(),
                    x[k].shape(),
                    "backward of {} gave input {k} a gradient of the wrong shape",
                    op.name()
                );
                pending.add(j, r);
            }
        }
        let mut d = tape.0.borrow_mut();
        if pending.slots.capacity() > d.slots.capacity() {
            d.slots = pending.slots;
        }
        Ok(found)
    }
}

fn non_finite(
    op: &Op,
    i: usize,
    location: &std::panic::Location<'_>,
    k: usize,
    j: usize,
) -> AutogradError {
    AutogradError(format!(
        "anomaly: the backward of {} (tape index {i}, recorded at {location}) produced a non-finite gradient (NaN or Inf) for its input {k} (tape index {j})",
        op.name()
    ))
}

impl Var {
    /// Backpropagates from this value — a single number, such as a loss — accumulating
    /// gradients into the parameters' and leaves' `.grad` (PyTorch semantics). Calling it twice
    /// on the same graph works and adds the gradients again, as PyTorch does with
    /// `retain_graph=True`.
    ///
    /// Panics, pointing at the caller, if the value has more than one element (PyTorch refuses
    /// too: "grad can be implicitly created only for scalar outputs"): say what its gradient is
    /// with [`Var::backward_with`] (ones for the gradient of its sum), or reduce it first.
    #[track_caller]
    pub fn backward(&self) {
        if let Err(e) = self.try_backward() {
            panic!("{e}");
        }
    }

    /// Backward seeded with `grad_output`, the gradient of the loss with respect to this value
    /// (same shape and dtype): for a non-scalar value, `backward_with(&Tensor::ones(..))`
    /// backpropagates the gradient of its sum.
    ///
    /// Panics, pointing at the caller, if the shapes or dtypes differ.
    #[track_caller]
    pub fn backward_with(&self, grad_output: &Tensor) {
        if let Err(e) = self.try_backward_with(grad_output) {
            panic!("{e}");
        }
    }

    /// Like [`Var::backward`], returning a non-scalar value or an anomaly-mode failure as an
    /// error.
    pub fn try_backward(&self) -> Result<(), AutogradError> {
        if self.shape().numel() != 1 {
            return Err(AutogradError(format!(
                "backward: the value has shape {:?}, but backward() starts from a single number (a loss); reduce it (sum_all, mean_all) or call backward_with(grad_output) with its gradient",
                self.shape().dims()
            )));
        }
        let seed = Tensor::ones(*self.shape(), self.dtype());
        self.try_backward_with(&seed)
    }

    /// Backward seeded with `grad_output` (the gradient of the loss with respect to this value).
    pub fn try_backward_with(&self, grad_output: &Tensor) -> Result<(), AutogradError> {
        if grad_output.shape() != self.shape() || grad_output.dtype() != self.dtype() {
            return Err(AutogradError(format!(
                "backward: grad_output {:?} {} does not match the value's {:?} {}",
                grad_output.shape(),
                grad_output.dtype(),
                self.shape(),
                self.dtype()
            )));
        }
        let Some(id) = self.id else {
            return Err(AutogradError(
                "backward: this value does not require a gradient (it depends on no leaf or parameter, or was computed under no_grad / detach)".into(),
            ));
        };
        let mut e = Engine {
            accumulate: true,
            create_graph: false,
            hook: None,
        };
        e.run(
            &self.tape,
            &[(id, self.tape.constant(grad_output.clone()))],
            0,
            &[],
        )?;
        Ok(())
    }

    /// Backward with a callback for every node it passes (used by the step-by-step trace).
    pub fn backward_with_hook(&self, hook: &mut dyn FnMut(&Step<'_>)) -> Result<(), AutogradError> {
        let Some(id) = self.id else {
            return Err(AutogradError(
                "backward: this value does not require a gradient".into(),
            ));
        };
        let seed = self
            .tape
            .constant(Tensor::ones(*self.shape(), self.dtype()));
        let mut e = Engine {
            accumulate: true,
            create_graph: false,
            hook: Some(hook),
        };
        e.run(&self.tape, &[(id, seed)], 0, &[])?;
        Ok(())
    }
}

/// Gradients of `outputs` with respect to `inputs`, without touching any `.grad`
/// (like `torch.autograd.grad`). `grad_outputs` defaults to ones. With `create_graph` the
/// returned gradients are themselves on the tape and can be differentiated again. An input the
/// outputs do not depend on gets a zero gradient.
#[track_caller]
pub fn grad(
    outputs: &[&Var],
    inputs: &[&Var],
    grad_outputs: Option<&[Tensor]>,
    create_graph: bool,
) -> Vec<Var> {
    match try_grad(outputs, inputs, grad_outputs, create_graph) {
        Ok(g) => g,
        Err(e) => panic!("{e}"),
    }
}

/// Fallible [`grad`].
pub fn try_grad(
    outputs: &[&Var],
    inputs: &[&Var],
    grad_outputs: Option<&[Tensor]>,
    create_graph: bool,
) -> Result<Vec<Var>, AutogradError> {
    let tape = match outputs.first() {
        Some(o) => o.tape.clone(),
        None => return Err(AutogradError("grad: no outputs given".into())),
    };
    for (what, vars) in [("output", outputs), ("input", inputs)] {
        if let Some(k) = vars.iter().position(|v| !v.tape.same(&tape)) {
            return Err(AutogradError(format!(
                "grad: {what} {k} is on a different tape than output 0 (values from two forward passes cannot be differentiated together)"
            )));
        }
    }
    let mut roots = Vec::new();
    for (k, o) in outputs.iter().enumerate() {
        let go = match grad_outputs {
            Some(gs) => {
                let g = gs.get(k).ok_or_else(|| {
                    AutogradError(format!(
                        "grad: {} outputs but {} grad_outputs",
                        outputs.len(),
                        gs.len()
                    ))
                })?;
                if g.shape() != o.shape() || g.dtype() != o.dtype() {
                    return Err(AutogradError(format!(
                        "grad: grad_output {k} is {:?} {} but output {k} is {:?} {}",
                        g.shape(),
                        g.dtype(),
                        o.shape(),
                        o.dtype()
                    )));
                }
                g.clone()
            }
            None => Tensor::ones(*o.shape(), o.dtype()),
        };
        if let Some(id) = o.id {
            roots.push((id, tape.constant(go)));
        }
    }
    let mut lowest = usize::MAX;
    for (k, i) in inputs.iter().enumerate() {
        match i.id {
            Some(id) => lowest = lowest.min(id),
            None => {
                return Err(AutogradError(format!(
                    "grad: input {k} does not require a gradient (a constant, or created under no_grad)"
                )))
            }
        }
    }
    let mut e = Engine {
        accumulate: false,
        create_graph,
        hook: None,
    };
    let ids: Vec<usize> = inputs.iter().map(|i| i.id.unwrap()).collect();
    let grads = e.run(
        &tape,
        &roots,
        if lowest == usize::MAX { 0 } else { lowest },
        &ids,
    )?;
    Ok(inputs
        .iter()
        .zip(grads)
        .map(|(i, g)| match g {
            Some(g) => g,
            None => tape.constant(Tensor::zeros(*i.shape(), i.dtype())),
        })
        .collect())
}
