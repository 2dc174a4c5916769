//! The tape: nodes recorded in creation order, and [`Var`], a cheap handle to a value on it.
//!
//! Because nodes are appended in the order they are created, walking the tape backwards is a
//! valid topological order: backward is one loop, with no graph search.

use crate::op::Op;
use crate::param::Param;
use std::cell::{Cell, RefCell};
use std::panic::Location;
use std::rc::Rc;
use tensor::{DType, Shape, Tensor};

/// One input of a recorded node: the node it came from, or the value of a constant. (An input
/// on the tape is found by its index — its value is that node's — so a node stays small.)
#[derive(Clone, Debug)]
pub enum Input {
    /// The output of node `i`.
    Node(usize),
    /// A constant value.
    Constant(Box<Tensor>),
}

impl Input {
    /// Tape index of the input, or `None` for a constant.
    pub fn id(&self) -> Option<usize> {
        match self {
            Input::Node(i) => Some(*i),
            Input::Constant(_) => None,
        }
    }
}

/// A short list stored inline for one or two items (most ops), on the heap beyond that — so
/// recording a node or running its rule allocates no list.
#[derive(Clone, Debug)]
pub enum Small<T> {
    /// No item.
    Zero,
    /// One item.
    One([T; 1]),
    /// Two items.
    Two([T; 2]),
    /// Any number.
    Many(Vec<T>),
}

impl<T> std::ops::Deref for Small<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            Small::Zero => &[],
            Small::One(a) => a,
            Small::Two(a) => a,
            Small::Many(v) => v,
        }
    }
}

impl<T> std::ops::DerefMut for Small<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        match self {
            Small::Zero => &mut [],
            Small::One(a) => a,
            Small::Two(a) => a,
            Small::Many(v) => v,
        }
    }
}

impl<T> From<Vec<T>> for Small<T> {
    fn from(v: Vec<T>) -> Small<T> {
        Small::Many(v)
    }
}

impl<T> Small<T> {
    /// Builds from an iterator of known length.
    pub fn collect<I: ExactSizeIterator<Item = T>>(mut it: I) -> Small<T> {
        match it.len() {
            0 => Small::Zero,
            1 => Small::One([it.next().unwrap()]),
            2 => {
                let a = it.next().unwrap();
                Small::Two([a, it.next().unwrap()])
            }
            _ => Small::Many(it.collect()),
        }
    }
}

/// What kind of leaf a node is.
#[derive(Clone, Debug)]
pub enum LeafKind {
    /// Not a leaf: the result of an op.
    None,
    /// A user input created with [`Tape::leaf`]; its gradient is kept on the node.
    Input,
    /// A parameter; backward accumulates into [`Param::grad`].
    Param(Param),
}

/// One recorded operation.
#[derive(Clone, Debug)]
pub struct Node {
    /// The operation and its parameters.
    pub op: Op,
    /// Its inputs.
    pub inputs: Small<Input>,
    /// The value it produced.
    pub value: Tensor,
    /// Where in the user's code it was recorded.
    pub location: &'static Location<'static>,
    /// Leaf kind.
    pub leaf: LeafKind,
    /// The label given with [`Var::named`], if any.
    pub label: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct TapeData {
    /// The nodes, stored inline: recording an op allocates no node of its own (a scalar op
    /// allocates only its output tensor). The backward pass moves a node's op and inputs out
    /// while its rule runs, as the rule may record more nodes. A dropped tape leaves this
    /// buffer to the next one on its thread, so a training loop does not regrow it every step.
    pub(crate) nodes: Vec<Node>,
    /// The gradient of the last backward pass with respect to each node (kept for inspection
    /// and for input leaves, whose gradients accumulate). Sized by the backward pass, not by
    /// recording, so the forward pass does not pay for it.
    pub(crate) grads: Vec<Option<Tensor>>,
    /// Scratch of the backward pass (its per-node gradient slots), kept between passes.
    pub(crate) slots: Vec<u32>,
    pub(crate) anomaly: bool,
    /// Set while a backward pass runs: its gradients are checked by the backward engine,
    /// which names the op whose rule produced them.
    pub(crate) in_backward: bool,
}

/// Disjoint borrows of a tape's nodes and gradients.
pub(crate) struct TapeDataRefs<'a> {
    pub(crate) nodes: &'a [Node],
    pub(crate) grads: &'a mut [Option<Tensor>],
}

impl TapeData {
    pub(crate) fn split(&mut self) -> TapeDataRefs<'_> {
        TapeDataRefs {
            nodes: &self.nodes,
            grads: &mut self.grads,
        }
    }
}

/// Tapes with at most this many nodes leave their (emptied) buffers to the next tape on the
/// thread — a few MB at most.
const SPARE_MAX_NODES: usize = 1 << 14;

/// The emptied buffers of the last dropped tape on this thread.
struct Spare {
    nodes: Vec<Node>,
    grads: Vec<Option<Tensor>>,
    slots: Vec<u32>,
}

thread_local! {
    static SPARE: RefCell<Spare> = const {
        RefCell::new(Spare {
            nodes: Vec::new(),
            grads: Vec::new(),
            slots: Vec::new(),
        })
    };
}

impl Drop for TapeData {
    fn drop(&mut self) {
        if self.nodes.capacity() > SPARE_MAX_NODES || self.grads.capacity() > SPARE_MAX_NODES {
            return;
        }
        let mut nodes = std::mem::take(&mut self.nodes);
        let mut grads = std::mem::take(&mut self.grads);
        let mut slots = std::mem::take(&mut self.slots);
        nodes.clear();
        grads.clear();
        slots.clear();
        // (no spare during thread teardown, or while another tape is being handed one)
        let _ = SPARE.try_with(|s| {
            if let Ok(mut s) = s.try_borrow_mut() {
                if nodes.capacity() > s.nodes.capacity() {
                    s.nodes = nodes;
                }
                if grads.capacity() > s.grads.capacity() {
                    s.grads = grads;
                }
                if slots.capacity() > s.slots.capacity() {
                    s.slots = slots;
                }
            }
        });
    }
}

/// A recording of one computation (usually one forward pass).
#[derive(Clone, Debug, Default)]
pub struct Tape(pub(crate) Rc<RefCell<TapeData>>);

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
    static ANOMALY_DEFAULT: Cell<bool> = const { Cell::new(false) };
}

/// Whether operations are currently recorded (false inside [`no_grad`]).
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Restores the previous recording state when dropped (see [`no_grad`]).
pub struct GradModeGuard {
    prev: bool,
}

impl Drop for GradModeGuard {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.prev));
    }
}

/// Turns recording off until the guard is dropped, like `torch.no_grad()`.
///
/// ```
/// use minimax_autograd::{no_grad, Tape};
/// use tensor::{DType, Tensor};
/// let tape = Tape::new();
/// let x = tape.leaf(Tensor::ones([2], DType::F64));
/// let y = {
///     let _g = no_grad();
///     &x * 2.0
/// };
/// assert!(!y.requires_grad());
/// ```
pub fn no_grad() -> GradModeGuard {
    set_grad_enabled(false)
}

/// Sets whether operations are recorded, returning a guard that restores the previous state.
pub fn set_grad_enabled(on: bool) -> GradModeGuard {
    let prev = GRAD_ENABLED.with(|g| g.replace(on));
    GradModeGuard { prev }
}

/// Makes new tapes on this thread start with anomaly mode on (or off).
pub fn set_anomaly_default(on: bool) {
    ANOMALY_DEFAULT.with(|a| a.set(on));
}

impl Tape {
    /// An empty tape.
    pub fn new() -> Tape {
        let (nodes, grads, slots) = SPARE
            .try_with(|s| match s.try_borrow_mut() {
                Ok(mut s) => (
                    std::mem::take(&mut s.nodes),
                    std::mem::take(&mut s.grads),
                    std::mem::take(&mut s.slots),
                ),
                Err(_) => Default::default(),
            })
            .unwrap_or_default();
        Tape(Rc::new(RefCell::new(TapeData {
            nodes,
            grads,
            slots,
            anomaly: ANOMALY_DEFAULT.with(|a| a.get()),
            in_backward: false,
        })))
    }

    /// Anomaly mode: every op's output and every gradient is checked for NaN/Inf, and the
    /// first offender is reported with its op name, tape index and source location.
    pub fn set_anomaly(&self, on: bool) {
        self.0.borrow_mut().anomaly = on;
    }

    /// Whether anomaly mode is on.
    pub fn anomaly(&self) -> bool {
        self.0.borrow().anomaly
    }

    /// Number of recorded nodes.
    pub fn len(&self) -> usize {
        self.0.borrow().nodes.len()
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of node `i`.
    pub fn node(&self, i: usize) -> Rc<Node> {
        Rc::new(self.0.borrow().nodes[i].clone())
    }

    /// The gradient stored on node `i` by the last backward pass.
    pub fn node_grad(&self, i: usize) -> Option<Tensor> {
        self.0.borrow().grads.get(i).cloned().flatten()
    }

    /// A constant: its value takes part in computations but gets no gradient.
    pub fn constant(&self, t: Tensor) -> Var {
        Var {
            tape: self.clone(),
            id: None,
            value: t,
        }
    }

    /// A leaf that requires a gradient (like `torch.tensor(..., requires_grad=True)`); after
    /// backward its gradient is [`Var::grad`].
    #[track_caller]
    pub fn leaf(&self, t: Tensor) -> Var {
        let id = self.push(Node {
            op: Op::Leaf,
            inputs: Small::Zero,
            value: t.clone(),
            location: Location::caller(),
            leaf: LeafKind::Input,
            label: None,
        });
        Var {
            tape: self.clone(),
            id: Some(id),
            value: t,
        }
    }

    /// Puts a parameter on the tape. A frozen parameter (`requires_grad == false`), or any
    /// parameter inside [`no_grad`], becomes a constant.
    #[track_caller]
    pub fn param(&self, p: &Param) -> Var {
        let value = p.value();
        if !p.requires_grad() || !is_grad_enabled() {
            return self.constant(value);
        }
        let id = self.push(Node {
            op: Op::Leaf,
            inputs: Small::Zero,
            value: value.clone(),
            location: Location::caller(),
            leaf: LeafKind::Param(p.clone()),
            label: Some(p.name()),
        });
        Var {
            tape: self.clone(),
            id: Some(id),
            value,
        }
    }

    pub(crate) fn push(&self, n: Node) -> usize {
        let mut d = self.0.borrow_mut();
        if d.nodes.capacity() == 0 {
            d.nodes.reserve(256);
        }
        d.nodes.push(n);
        d.nodes.len() - 1
    }

    /// Whether two handles are the same tape.
    pub fn same(&self, other: &Tape) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    /// Records `op` with `inputs` producing `value`, unless recording is off or no input needs
    /// a gradient (then the result is a constant). Checks the value in anomaly mode.
    #[track_caller]
    pub(crate) fn record(&self, op: Op, inputs: &[&Var], value: Tensor) -> Var {
        let location = Location::caller();
        for v in inputs {
            if !v.tape.same(self) {
                panic!(
                    "{}: inputs come from different tapes (a Var from one forward pass was mixed with another's; \
                     use .detach() or put both on one tape) at {}",
                    op.name(),
                    location
                );
            }
        }
        let needs = is_grad_enabled() && inputs.iter().any(|v| v.id.is_some());
        let anomaly = {
            let d = self.0.borrow();
            d.anomaly && !d.in_backward
        };
        if anomaly && !value.all_finite() {
            let idx = self.len();
            panic!(
                "anomaly: {} (tape index {}) produced a non-finite value (NaN or Inf) at {}; input shapes: {}",
                op.name(),
                idx,
                location,
                inputs
                    .iter()
                    .map(|v| format!("{:?}", v.value.shape()))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if !needs {
            return Var {
                tape: self.clone(),
                id: None,
                value,
            };
        }
        let inputs = Small::collect(inputs.iter().map(|v| match v.id {
            Some(i) => Input::Node(i),
            None => Input::Constant(Box::new(v.value.clone())),
        }));
        let node = Node {
            op,
            inputs,
            value: value.clone(),
            location,
            leaf: LeafKind::None,
            label: None,
        };
        let id = {
            let mut d = self.0.borrow_mut();
            if d.nodes.capacity() == 0 {
                d.nodes.reserve(256);
            }
            d.nodes.push(node);
            d.nodes.len() - 1
        };
        Var {
            tape: self.clone(),
            id: Some(id),
            value,
        }
    }
}

/// A value on a tape: a cheap handle (the tape, a node index, and the value).
#[derive(Clone, Debug)]
pub struct Var {
    pub(crate) tape: Tape,
    pub(crate) id: Option<usize>,
    pub(crate) value: Tensor,
}

impl Var {
    /// The value.
    pub fn value(&self) -> &Tensor {
        &self.value
    }
    /// The tape this value lives on.
    pub fn tape(&self) -> &Tape {
        &self.tape
    }
    /// The node index on the tape, or `None` for a constant.
    pub fn id(&self) -> Option<usize> {
        self.id
    }
    /// Whether a gradient flows to this value.
    pub fn requires_grad(&self) -> bool {
        self.id.is_some()
    }
    /// The shape of the value.
    pub fn shape(&self) -> &Shape {
        self.value.shape()
    }
    /// The dimensions of the value.
    pub fn dims(&self) -> &[usize] {
        self.value.dims()
    }
    /// The dtype of the value.
    pub fn dtype(&self) -> DType {
        self.value.dtype()
    }
    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.value.numel()
    }
    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.value.ndim()
    }
    /// The single value of a one-element Var.
    #[track_caller]
    pub fn item(&self) -> f64 {
        self.value.item()
    }
    /// The same value, cut off from the graph (a constant on the same tape).
    pub fn detach(&self) -> Var {
        self.tape.constant(self.value.clone())
    }
    /// A constant on this Var's tape (handy to combine a tensor with a Var).
    pub fn constant(&self, t: Tensor) -> Var {
        self.tape.constant(t)
    }
    /// Labels the node (shown by the tape printer and the DOT export).
    pub fn named(self, label: &str) -> Var {
        if let Some(i) = self.id {
            self.tape.0.borrow_mut().nodes[i].label = Some(label.to_string());
        }
        self
    }
    /// The gradient stored on this node by the last backward pass (for leaves created with
    /// [`Tape::leaf`], and for any node for inspection).
    pub fn grad(&self) -> Option<Tensor> {
        self.id
            .and_then(|i| self.tape.0.borrow().grads.get(i).cloned().flatten())
    }
}
