//! Optimizers: SGD, Adam, AdamW and RMSprop, with PyTorch's update rules and defaults.
//!
//! An optimizer is a list of named [`Param`]s, per-parameter state it keeps itself (so two
//! optimizers over two modules never touch each other's state) and an [`UpdateRule`]: the
//! element-wise formula of one step, written once for `f32` and `f64`. [`Optim`] does the rest
//! for every rule: it checks the gradients, skips and reports parameters without one, keeps
//! the step counters, dispatches on the dtype, and saves and restores the state.
//!
//! ```
//! use autograd::{Param, Tape};
//! use minimax_nn::optim::{Adam, AdamConfig, Optimizer};
//! use tensor::Tensor;
//!
//! let w = Param::new("w", Tensor::from_vec(vec![1.0f32, -2.0], [2]));
//! let mut opt = Adam::new(vec![w.clone()], AdamConfig::default().lr(0.1)).unwrap();
//! let tape = Tape::new();
//! let loss = tape.param(&w).square().sum_all(); // Σ w², gradient 2w
//! loss.backward();
//! let report = opt.step().unwrap();
//! assert_eq!(report.updated, 1);
//! // Adam's first step moves every element by lr against the sign of its gradient
//! assert!((w.value().to_vec_f32()[0] - 0.9).abs() < 1e-6);
//! opt.zero_grad();
//! ```
//!
//! # What `step` does with unusual parameters
//!
//! - A parameter whose gradient is `None` (no backward pass reached it) is **skipped** and its
//!   name listed in [`StepReport::no_grad`]; it is never treated as a zero gradient (which
//!   would still move it under momentum or weight decay). Its state and step counter do not
//!   advance, as in PyTorch.
//! - A frozen parameter (`requires_grad == false`) is skipped and listed in
//!   [`StepReport::frozen`], even if it holds a stale gradient.
//! - A non-finite gradient (NaN or ±Inf) makes `step` return an [`OptimError`] of kind
//!   [`OptimErrorKind::NonFiniteGrad`] naming the parameter and the first bad element, and
//!   **no parameter is updated** (all gradients are checked before any update), so a training
//!   loop can stop on the first NaN with the model still at its last finite state.
//! - The same `Param` listed twice (a layer shared by two modules) is updated once.
//!
//! # Parameter groups
//!
//! [`Optim::with_groups`] takes several [`ParamGroup`]s, each with its own learning rate
//! (PyTorch's `param_groups`, e.g. a smaller rate for a pretrained backbone). The other
//! hyperparameters are shared. [`Optimizer::lr`] is then the optimizer's base rate, and
//! [`Optimizer::set_lr`] (what schedules call) sets every group's rate in proportion: a group
//! built with rate `r` under base rate `b` gets `lr · r / b`, as PyTorch's schedulers scale each
//! group from its own initial rate. A single-group optimizer saves exactly the state it always
//! did; a grouped one adds the group sizes and rates (see [`Optimizer::state_tensors`]).
//!
//! ```
//! use autograd::Param;
//! use minimax_nn::optim::{Optim, Optimizer, ParamGroup, SgdConfig};
//! use tensor::Tensor;
//!
//! let head = Param::new("head", Tensor::from_vec(vec![1.0f64], [1]));
//! let body = Param::new("body", Tensor::from_vec(vec![1.0f64], [1]));
//! let groups = vec![
//!     ParamGroup::new(vec![head.clone()]),            // the base rate, 0.1
//!     ParamGroup::new(vec![body.clone()]).lr(0.01),  // its own rate
//! ];
//! let mut opt = Optim::with_groups(groups, SgdConfig::default().lr(0.1)).unwrap();
//! head.set_grad(Some(Tensor::from_vec(vec![1.0f64], [1])));
//! body.set_grad(Some(Tensor::from_vec(vec![1.0f64], [1])));
//! opt.step().unwrap();
//! assert_eq!(head.value().to_vec_f64(), vec![0.9]);
//! assert_eq!(body.value().to_vec_f64(), vec![0.99]);
//! opt.set_lr(0.05); // a schedule halves the base rate: the group's halves too
//! assert!((opt.group_lr(1) - 0.005).abs() < 1e-18);
//! ```

/// Builder setters for an optimizer config: `setters!(Config { /// doc\n field: type, … })`
/// gives `Config::field(self, value) -> Self` for each field.
macro_rules! setters {
    ($t:ty { $($(#[$doc:meta])* $name:ident : $ty:ty),* $(,)? }) => {
        impl $t {
            $(
                $(#[$doc])*
                pub fn $name(mut self, $name: $ty) -> Self {
                    self.$name = $name;
                    self
                }
            )*
        }
    };
}

mod adam;
mod rmsprop;
mod sgd;

pub use adam::{AdamConfig, AdamWConfig};
pub use rmsprop::RmsPropConfig;
pub use sgd::SgdConfig;

/// The L2 norm of all the gradients of `params` together, √(Σ g²), like PyTorch's
/// `torch.nn.utils.get_total_norm` over the parameters' `.grad`s. A parameter listed twice (a
/// shared layer) counts once; parameters without a gradient count as zero. Summed in f64
/// straight from the gradients' elements, without a copy.
pub fn grad_norm(params: &[Param]) -> f64 {
    let mut seen = HashSet::new();
    let mut sum = 0.0f64;
    for p in params {
        if !seen.insert(p.id()) {
            continue;
        }
        if let Some(g) = p.grad() {
            let g = g.contiguous();
            sum += match g.dtype() {
                tensor::DType::F32 => squares_f32(g.as_slice::<f32>()),
                tensor::DType::F64 => g.as_slice::<f64>().iter().map(|x| x * x).sum::<f64>(),
            };
        }
    }
    sum.sqrt()
}

/// Σ x² in f64 over f32 elements, in 8 independent lanes (so the loop vectorises).
fn squares_f32(xs: &[f32]) -> f64 {
    let mut acc = [0.0f64; 8];
    let mut chunks = xs.chunks_exact(8);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            let x = x as f64;
            *a += x * x;
        }
    }
    let tail: f64 = chunks
        .remainder()
        .iter()
        .map(|&x| (x as f64) * (x as f64))
        .sum();
    acc.iter().sum::<f64>() + tail
}

/// Records `f` on a fresh tape, back-propagates the loss it returns into the gradients of
/// `opt`'s parameters (cleared first, like `opt.zero_grad()`), and drops the tape before it
/// returns whatever else `f` returned. Call [`Optimizer::step`] next.
///
/// Why a scope: a tape keeps every parameter value it read, for the backward pass. While a tape
/// lives, the optimizer cannot update those values in place and copies each one first — correct,
/// but a full copy of the model per step. Here the tape cannot outlive the backward pass: `T`
/// must be `Send`, and a [`autograd::Var`] (which holds its tape) is not, so no `Var` can leak
/// out with the result; plain numbers and [`Tensor`]s can.
///
/// `f` may refuse to go on (a non-finite loss term, say) by returning `Err`; then nothing is
/// back-propagated.
///
/// ```
/// use autograd::Param;
/// use minimax_nn::optim::{compute_gradients, Optimizer, Sgd, SgdConfig};
/// use tensor::Tensor;
/// let w = Param::new("w", Tensor::from_vec(vec![3.0f32], [1]));
/// let mut opt = Sgd::new(vec![w.clone()], SgdConfig::default().lr(0.5)).unwrap();
/// let loss: f64 = compute_gradients(&opt, |tape| {
///     let l = tape.param(&w).square().sum_all(); // w², gradient 2w = 6
///     let v = l.item();
///     Ok::<_, ()>((l, v))
/// })
/// .unwrap();
/// opt.step().unwrap();
/// assert_eq!(loss, 9.0);
/// assert_eq!(w.value().to_vec_f32(), vec![0.0]); // 3 − 0.5·6
/// ```
pub fn compute_gradients<T: Send, E>(
    opt: &dyn Optimizer,
    f: impl FnOnce(&autograd::Tape) -> Result<(autograd::Var, T), E>,
) -> Result<T, E> {
    opt.zero_grad();
    let tape = autograd::Tape::new();
    let (loss, out) = f(&tape)?;
    loss.backward();
    drop(loss);
    drop(tape);
    Ok(out)
}

use crate::format::{RawDType, RawTensor};
use autograd::Param;
use std::collections::HashSet;
use std::fmt;
use tensor::{with_dtype, Element, Tensor};

/// Stochastic gradient descent with momentum, dampening, Nesterov, weight decay.
pub type Sgd = Optim<SgdConfig>;
/// Adam (Kingma & Ba) with L2 weight decay added to the gradient, and AMSGrad.
pub type Adam = Optim<AdamConfig>;
/// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay.
pub type AdamW = Optim<AdamWConfig>;
/// RMSprop (Hinton), optionally centered and with momentum.
pub type RmsProp = Optim<RmsPropConfig>;

/// What every optimizer can do; object-safe, so a training loop can hold `&mut dyn Optimizer`.
pub trait Optimizer {
    /// Applies one update to every parameter that has a gradient.
    ///
    /// Errors (updating nothing) on a non-finite gradient, or a gradient whose shape or dtype
    /// differs from its parameter's. See the [module docs](self) for skipped parameters.
    fn step(&mut self) -> Result<StepReport, OptimError>;
    /// Clears the gradients of all the optimizer's parameters (sets them to `None`, like
    /// PyTorch's `zero_grad(set_to_none=True)`).
    fn zero_grad(&self);
    /// The current learning rate.
    fn lr(&self) -> f64;
    /// Sets the learning rate (what schedules do).
    fn set_lr(&mut self, lr: f64);
    /// Short lower-case name used in state keys: `"sgd"`, `"adam"`, `"adamw"`, `"rmsprop"`.
    fn kind(&self) -> &'static str;
    /// The names of the parameters, in the optimizer's order (state index `i` is name `i`).
    fn param_names(&self) -> Vec<String>;
    /// The L2 norm of the gradients the last successful [`Optimizer::step`] applied, over all
    /// of them together (a parameter listed twice counted once), as [`grad_norm`] computes it;
    /// `None` before the first step (and for an optimizer that does not keep it). It stays
    /// readable after the gradients are cleared.
    fn grad_norm(&self) -> Option<f64> {
        None
    }
    /// The state needed to resume bit for bit: `"<kind>.lr"` (F64 scalar), and for each
    /// parameter `i` that has been stepped `"<kind>.<i>.step"` (I64 scalar) and its buffers
    /// `"<kind>.<i>.<field>"` (PyTorch's names: `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`,
    /// `momentum_buffer`, `square_avg`, `grad_avg`), in the parameter's dtype and shape. An
    /// optimizer with several [parameter groups](ParamGroup) adds `"<kind>.groups"` (I64, the
    /// number of parameters of each group) and `"<kind>.group_lr"` (F64, each group's rate);
    /// with one group these are left out, so its state is what it was before groups existed.
    fn state_tensors(&self) -> Vec<(String, RawTensor)>;
    /// Restores what [`Optimizer::state_tensors`] returned. Validates everything first (kind,
    /// indices, fields, shapes, dtypes, step counts, lr) and changes nothing on error.
    fn load_state_tensors(&mut self, state: &[(String, RawTensor)]) -> Result<(), OptimError>;
}

/// The element-wise formula of one optimizer, written once for `f32` and `f64`.
///
/// Implement it (with a config struct holding the hyperparameters) to add an optimizer;
/// [`Optim`] turns it into an [`Optimizer`].
pub trait UpdateRule: Clone + fmt::Debug {
    /// Short lower-case name used in state keys and error messages.
    const KIND: &'static str;
    /// The learning rate.
    fn learning_rate(&self) -> f64;
    /// Sets the learning rate.
    fn set_learning_rate(&mut self, lr: f64);
    /// Checks the hyperparameters, with PyTorch's messages (`"Invalid learning rate: -1"`).
    fn validate(&self) -> Result<(), String>;
    /// Names of the per-parameter buffers this configuration keeps (zeros before the first
    /// step), in the order [`UpdateRule::update`] receives them.
    fn state_fields(&self) -> Vec<&'static str>;
    /// Updates one parameter in place: `w` its elements, `g` its gradient, `state` its buffers
    /// (as listed by [`UpdateRule::state_fields`]); `step` counts this parameter's updates,
    /// this one included (1 on the first).
    fn update<T: Element>(&self, step: u64, w: &mut [T], g: &[T], state: &mut [&mut [T]]);
}

/// Named parameters an optimizer can be built from: `module.named_params()`
/// (`Vec<(String, Param)>`), or plain `Vec<Param>` (named with [`Param::name`]).
pub trait IntoNamedParams {
    /// The parameters with their names.
    fn into_named_params(self) -> Vec<(String, Param)>;
}

impl IntoNamedParams for Vec<(String, Param)> {
    fn into_named_params(self) -> Vec<(String, Param)> {
        self
    }
}

impl IntoNamedParams for &[(String, Param)] {
    fn into_named_params(self) -> Vec<(String, Param)> {
        self.to_vec()
    }
}

impl IntoNamedParams for Vec<Param> {
    fn into_named_params(self) -> Vec<(String, Param)> {
        self.into_iter().map(|p| (p.name(), p)).collect()
    }
}

impl IntoNamedParams for &[Param] {
    fn into_named_params(self) -> Vec<(String, Param)> {
        self.iter().map(|p| (p.name(), p.clone())).collect()
    }
}

/// Parameters with their own learning rate, one of the groups of [`Optim::with_groups`]
/// (PyTorch's parameter groups; the other hyperparameters are the optimizer's).
#[derive(Clone, Debug)]
pub struct ParamGroup {
    params: Vec<(String, Param)>,
    lr: Option<f64>,
}

impl ParamGroup {
    /// A group of `params` at the optimizer's learning rate.
    pub fn new(params: impl IntoNamedParams) -> ParamGroup {
        ParamGroup {
            params: params.into_named_params(),
            lr: None,
        }
    }

    /// The same group with its own learning rate.
    pub fn lr(self, lr: f64) -> ParamGroup {
        ParamGroup {
            lr: Some(lr),
            ..self
        }
    }
}

/// One group's place in [`Optim::params`] and its learning rate.
#[derive(Clone, Debug, PartialEq)]
struct GroupInfo {
    /// Its parameters are `params[start..start + len]`.
    start: usize,
    len: usize,
    /// Its current learning rate.
    lr: f64,
    /// Its rate over the optimizer's base rate, kept by [`Optimizer::set_lr`].
    scale: f64,
}

/// What one [`Optimizer::step`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepReport {
    /// Number of parameters updated.
    pub updated: usize,
    /// Parameters skipped because their gradient was `None`.
    pub no_grad: Vec<String>,
    /// Parameters skipped because they are frozen (`requires_grad == false`).
    pub frozen: Vec<String>,
}

impl StepReport {
    /// Number of parameters skipped, for either reason.
    pub fn skipped(&self) -> usize {
        self.no_grad.len() + self.frozen.len()
    }
    /// Whether every parameter was updated.
    pub fn all_updated(&self) -> bool {
        self.skipped() == 0
    }
}

impl fmt::Display for StepReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.updated + self.skipped();
        write!(f, "updated {} of {total} parameters", self.updated)?;
        let list = |v: &[String]| {
            v.iter()
                .map(|n| format!("'{n}'"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !self.no_grad.is_empty() {
            write!(f, "; no gradient: {}", list(&self.no_grad))?;
        }
        if !self.frozen.is_empty() {
            write!(f, "; frozen: {}", list(&self.frozen))?;
        }
        Ok(())
    }
}

/// Category of an [`OptimError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OptimErrorKind {
    /// A gradient holds NaN or ±Inf.
    NonFiniteGrad,
    /// A gradient's shape or dtype differs from its parameter's.
    GradMismatch,
    /// A hyperparameter is out of range, or the parameter list is empty.
    InvalidConfig,
    /// Saved state does not fit this optimizer or its parameters.
    InvalidState,
}

/// An optimizer error; its message names the optimizer and the parameter, e.g.
/// `adam: parameter 'gen.0.weight': gradient has 1 non-finite element (first: NaN at [0, 1]); no parameter was updated`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptimError {
    kind: OptimErrorKind,
    who: String,
    param: Option<String>,
    message: String,
}

impl OptimError {
    /// An error raised by `who` (an optimizer or schedule kind).
    pub fn new(
        kind: OptimErrorKind,
        who: impl Into<String>,
        param: Option<String>,
        message: impl Into<String>,
    ) -> OptimError {
        OptimError {
            kind,
            who: who.into(),
            param,
            message: message.into(),
        }
    }
    /// The category.
    pub fn kind(&self) -> OptimErrorKind {
        self.kind
    }
    /// The parameter concerned, if any.
    pub fn param(&self) -> Option<&str> {
        self.param.as_deref()
    }
    /// The problem alone, without the optimizer and parameter prefixes.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for OptimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.who)?;
        if let Some(p) = &self.param {
            write!(f, "parameter '{p}': ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for OptimError {}

/// The state an optimizer keeps for one parameter.
#[derive(Clone, Debug)]
struct ParamState {
    /// Updates applied so far (PyTorch's `state['step']`).
    step: u64,
    /// The buffers named by [`UpdateRule::state_fields`], in the parameter's dtype and shape.
    bufs: Vec<Tensor>,
}

/// An optimizer: named parameters, their state, and an [`UpdateRule`].
///
/// Use it through the aliases [`Sgd`], [`Adam`], [`AdamW`] and [`RmsProp`], e.g.
/// `Adam::new(g.named_params(), AdamConfig::default().lr(2e-4).betas(0.5, 0.999))`.
#[derive(Clone, Debug)]
pub struct Optim<R: UpdateRule> {
    config: R,
    params: Vec<(String, Param)>,
    state: Vec<Option<ParamState>>,
    /// One group (the whole list, at the config's rate) unless built by `with_groups`.
    groups: Vec<GroupInfo>,
    /// The norm of the gradients the last successful `step` applied.
    last_norm: Option<f64>,
}

fn multi_index(mut lin: usize, dims: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; dims.len()];
    for d in (0..dims.len()).rev() {
        if dims[d] > 0 {
            idx[d] = lin % dims[d];
            lin /= dims[d];
        }
    }
    idx
}

/// Number of non-finite elements of `t`, and the first one (flat index and value).
fn non_finite(t: &Tensor) -> Option<(usize, usize, f64)> {
    with_dtype!(t.dtype(), T => {
        let c = t.contiguous();
        let s = c.as_slice::<T>();
        let first = s.iter().position(|x| !x.is_finite())?;
        let count = s[first..].iter().filter(|x| !x.is_finite()).count();
        Some((count, first, s[first].to_f64()))
    })
}

impl<R: UpdateRule> Optim<R> {
    /// An optimizer over `params` (duplicates of the same `Param` are kept once, under their
    /// first name). Errors if `config` is invalid or the list is empty, like PyTorch.
    pub fn new(params: impl IntoNamedParams, config: R) -> Result<Self, OptimError> {
        config
            .validate()
            .map_err(|m| OptimError::new(OptimErrorKind::InvalidConfig, R::KIND, None, m))?;
        let mut seen = HashSet::new();
        let params: Vec<(String, Param)> = params
            .into_named_params()
            .into_iter()
            .filter(|(_, p)| seen.insert(p.id()))
            .collect();
        if params.is_empty() {
            return Err(OptimError::new(
                OptimErrorKind::InvalidConfig,
                R::KIND,
                None,
                "optimizer got an empty parameter list",
            ));
        }
        let state = vec![None; params.len()];
        let groups = vec![GroupInfo {
            start: 0,
            len: params.len(),
            lr: config.learning_rate(),
            scale: 1.0,
        }];
        Ok(Optim {
            config,
            params,
            state,
            groups,
            last_norm: None,
        })
    }

    /// An optimizer over parameter groups, each with its own learning rate (the base rate
    /// `config`'s unless [`ParamGroup::lr`] set one); the parameters are numbered group after
    /// group. Errors, like PyTorch, if `config` or a group's rate is invalid, a group is empty,
    /// or a parameter appears in two groups (within one group, duplicates are kept once), and
    /// if a group has a rate of its own while the base rate is 0 (a schedule could not scale
    /// it).
    pub fn with_groups(groups: Vec<ParamGroup>, config: R) -> Result<Self, OptimError> {
        let invalid = |m: String| OptimError::new(OptimErrorKind::InvalidConfig, R::KIND, None, m);
        config.validate().map_err(invalid)?;
        if groups.is_empty() {
            return Err(invalid("optimizer got an empty parameter list".into()));
        }
        let base = config.learning_rate();
        let mut params: Vec<(String, Param)> = Vec::new();
        let mut owner: std::collections::HashMap<usize, usize> = Default::default();
        let mut out = Vec::with_capacity(groups.len());
        for (g, group) in groups.into_iter().enumerate() {
            let lr = group.lr.unwrap_or(base);
            let mut own = config.clone();
            own.set_learning_rate(lr);
            own.validate()
                .map_err(|m| invalid(format!("parameter group {g}: {m}")))?;
            let scale = match group.lr {
                None => 1.0,
                Some(_) if base > 0.0 => lr / base,
                Some(_) if lr == 0.0 => 1.0,
                Some(_) => {
                    return Err(invalid(format!(
                        "parameter group {g} has learning rate {lr} but the base rate is 0, so a schedule could not scale it"
                    )))
                }
            };
            let start = params.len();
            for (name, p) in group.params {
                match owner.get(&p.id()) {
                    Some(&h) if h == g => continue,
                    Some(&h) => {
                        return Err(invalid(format!(
                            "parameter '{name}' appears in parameter groups {h} and {g}"
                        )))
                    }
                    None => {
                        owner.insert(p.id(), g);
                        params.push((name, p));
                    }
                }
            }
            let len = params.len() - start;
            if len == 0 {
                return Err(invalid(format!("parameter group {g} is empty")));
            }
            out.push(GroupInfo {
                start,
                len,
                lr,
                scale,
            });
        }
        let state = vec![None; params.len()];
        Ok(Optim {
            config,
            params,
            state,
            groups: out,
            last_norm: None,
        })
    }

    /// Number of parameter groups (1 unless built by [`Optim::with_groups`]).
    pub fn num_groups(&self) -> usize {
        self.groups.len()
    }

    /// The learning rate of group `group`. Panics (at the caller) if there is no such group.
    #[track_caller]
    pub fn group_lr(&self, group: usize) -> f64 {
        self.group(group).lr
    }

    /// Sets the learning rate of group `group`; later [`Optimizer::set_lr`] calls keep its new
    /// ratio to the base rate (when that is positive). Panics (at the caller) if there is no
    /// such group or `lr` is negative or NaN.
    #[track_caller]
    pub fn set_group_lr(&mut self, group: usize, lr: f64) {
        self.group(group);
        assert!(
            lr >= 0.0,
            "{}: set_group_lr: learning rate {lr} of group {group} is not ≥ 0",
            R::KIND
        );
        let base = self.config.learning_rate();
        let g = &mut self.groups[group];
        g.lr = lr;
        if base > 0.0 {
            g.scale = lr / base;
        }
    }

    /// The group parameter `index` belongs to. Panics (at the caller) if there is no such
    /// parameter.
    #[track_caller]
    pub fn group_of(&self, index: usize) -> usize {
        assert!(
            index < self.params.len(),
            "{}: group_of: parameter {index} out of range for {} parameters",
            R::KIND,
            self.params.len()
        );
        self.groups
            .iter()
            .position(|g| index < g.start + g.len)
            .expect("the groups cover every parameter")
    }

    #[track_caller]
    fn group(&self, group: usize) -> &GroupInfo {
        let n = self.groups.len();
        self.groups.get(group).unwrap_or_else(|| {
            panic!(
                "{}: parameter group {group} out of range for {n} group{}",
                R::KIND,
                if n == 1 { "" } else { "s" }
            )
        })
    }

    /// The hyperparameters (with the current learning rate).
    pub fn config(&self) -> &R {
        &self.config
    }

    /// The parameters with their names, in order.
    pub fn params(&self) -> &[(String, Param)] {
        &self.params
    }

    /// How many updates parameter `index` has received (0 before its first).
    pub fn step_count(&self, index: usize) -> u64 {
        self.state
            .get(index)
            .and_then(|s| s.as_ref())
            .map_or(0, |s| s.step)
    }

    /// A copy of one state buffer of parameter `index` (`"exp_avg"`, `"momentum_buffer"`, …),
    /// or `None` before its first update or for a field this configuration does not keep.
    pub fn buffer(&self, index: usize, field: &str) -> Option<Tensor> {
        let st = self.state.get(index)?.as_ref()?;
        let k = self
            .config
            .state_fields()
            .iter()
            .position(|f| *f == field)?;
        Some(st.bufs[k].clone())
    }

    fn err(
        &self,
        kind: OptimErrorKind,
        param: Option<&str>,
        message: impl Into<String>,
    ) -> OptimError {
        OptimError::new(kind, R::KIND, param.map(str::to_string), message)
    }

    fn state_error(&self, message: impl Into<String>) -> OptimError {
        self.err(OptimErrorKind::InvalidState, None, message)
    }
}

impl<R: UpdateRule> Optimizer for Optim<R> {
    fn step(&mut self) -> Result<StepReport, OptimError> {
        let mut report = StepReport::default();
        // 1. check every gradient before touching any parameter
        let mut work: Vec<(usize, Tensor)> = Vec::with_capacity(self.params.len());
        for (i, (name, p)) in self.params.iter().enumerate() {
            if !p.requires_grad() {
                report.frozen.push(name.clone());
                continue;
            }
            let Some(g) = p.grad() else {
                report.no_grad.push(name.clone());
                continue;
            };
            let (shape, dtype) = {
                let v = p.value();
                (*v.shape(), v.dtype())
            };
            if *g.shape() != shape || g.dtype() != dtype {
                return Err(self.err(
                    OptimErrorKind::GradMismatch,
                    Some(name),
                    format!(
                        "gradient is {:?} {} but the parameter is {:?} {}",
                        g.shape(),
                        g.dtype(),
                        shape,
                        dtype
                    ),
                ));
            }
            if let Some((count, first, value)) = non_finite(&g) {
                let s = if count == 1 { "" } else { "s" };
                return Err(self.err(
                    OptimErrorKind::NonFiniteGrad,
                    Some(name),
                    format!(
                        "gradient has {count} non-finite element{s} (first: {value} at {:?}); no parameter was updated",
                        multi_index(first, shape.dims())
                    ),
                ));
            }
            work.push((i, g.contiguous()));
        }
        let applied: Vec<Param> = work
            .iter()
            .map(|(i, _)| self.params[*i].1.clone())
            .collect();
        self.last_norm = Some(grad_norm(&applied));
        // 2. update, each group at its own rate (a copy of the config only where it differs)
        let Optim {
            config,
            params,
            state,
            groups,
            ..
        } = self;
        let fields = config.state_fields().len();
        let rules: Vec<Option<R>> = groups
            .iter()
            .map(|g| {
                (g.lr != config.learning_rate()).then(|| {
                    let mut r = config.clone();
                    r.set_learning_rate(g.lr);
                    r
                })
            })
            .collect();
        let mut gi = 0;
        for (i, g) in work {
            while i >= groups[gi].start + groups[gi].len {
                gi += 1;
            }
            let rule = rules[gi].as_ref().unwrap_or(config);
            let p = &params[i].1;
            let st = state[i].get_or_insert_with(|| ParamState {
                step: 0,
                bufs: (0..fields)
                    .map(|_| Tensor::zeros(*g.shape(), g.dtype()))
                    .collect(),
            });
            st.step += 1;
            let step = st.step;
            with_dtype!(g.dtype(), T => {
                let gs = g.as_slice::<T>();
                let mut bufs: Vec<&mut [T]> = st.bufs.iter_mut().map(|b| b.data_mut::<T>()).collect();
                p.update::<T>(|w| rule.update(step, w, gs, &mut bufs));
            });
            report.updated += 1;
        }
        Ok(report)
    }

    fn zero_grad(&self) {
        for (_, p) in &self.params {
            p.zero_grad();
        }
    }

    fn lr(&self) -> f64 {
        self.config.learning_rate()
    }

    fn set_lr(&mut self, lr: f64) {
        self.config.set_learning_rate(lr);
        for g in &mut self.groups {
            g.lr = lr * g.scale;
        }
    }

    fn kind(&self) -> &'static str {
        R::KIND
    }

    fn param_names(&self) -> Vec<String> {
        self.params.iter().map(|(n, _)| n.clone()).collect()
    }

    fn grad_norm(&self) -> Option<f64> {
        self.last_norm
    }

    fn state_tensors(&self) -> Vec<(String, RawTensor)> {
        let kind = R::KIND;
        let fields = self.config.state_fields();
        let mut out = vec![(format!("{kind}.lr"), RawTensor::from_f64(&[], &[self.lr()]))];
        if self.groups.len() > 1 {
            let n = [self.groups.len()];
            let sizes: Vec<i64> = self.groups.iter().map(|g| g.len as i64).collect();
            let lrs: Vec<f64> = self.groups.iter().map(|g| g.lr).collect();
            out.push((format!("{kind}.groups"), RawTensor::from_i64(&n, &sizes)));
            out.push((format!("{kind}.group_lr"), RawTensor::from_f64(&n, &lrs)));
        }
        for (i, st) in self.state.iter().enumerate() {
            let Some(st) = st else { continue };
            out.push((
                format!("{kind}.{i}.step"),
                RawTensor::from_i64(&[], &[st.step as i64]),
            ));
            for (f, b) in fields.iter().zip(&st.bufs) {
                out.push((format!("{kind}.{i}.{f}"), crate::io::to_raw(b)));
            }
        }
        out
    }

    fn load_state_tensors(&mut self, saved: &[(String, RawTensor)]) -> Result<(), OptimError> {
        let kind = R::KIND;
        let fields = self.config.state_fields();
        let n = self.params.len();
        let mut lr = None;
        let (mut group_sizes, mut group_lr): (Option<Vec<i64>>, Option<Vec<f64>>) = (None, None);
        let mut steps: Vec<Option<u64>> = vec![None; n];
        let mut bufs: Vec<Vec<Option<Tensor>>> = vec![vec![None; fields.len()]; n];
        for (key, raw) in saved {
            raw.validate()
                .map_err(|e| self.state_error(format!("'{key}': {e}")))?;
            let Some(rest) = key.strip_prefix(kind).and_then(|r| r.strip_prefix('.')) else {
                let other = key.split('.').next().unwrap_or("");
                return Err(self.state_error(format!(
                    "saved state '{key}' belongs to a '{other}' optimizer, not '{kind}'"
                )));
            };
            if rest == "lr" {
                let ok = raw.dtype == RawDType::F64 && raw.shape.is_empty();
                let v = raw.to_f64_vec().first().copied().unwrap_or(f64::NAN);
                if !ok || !v.is_finite() || v < 0.0 {
                    return Err(self.state_error(format!(
                        "'{key}' must be a finite, non-negative F64 scalar (found {} {:?} = {v})",
                        raw.dtype, raw.shape
                    )));
                }
                lr = Some(v);
                continue;
            }
            if rest == "groups" {
                let v = raw.to_i64_vec();
                if raw.dtype != RawDType::I64 || raw.shape.len() != 1 || v.iter().any(|&x| x < 1) {
                    return Err(self.state_error(format!(
                        "'{key}' must be a 1-D I64 tensor of group sizes ≥ 1 (found {} {:?})",
                        raw.dtype, raw.shape
                    )));
                }
                group_sizes = Some(v);
                continue;
            }
            if rest == "group_lr" {
                let v = raw.to_f64_vec();
                if raw.dtype != RawDType::F64
                    || raw.shape.len() != 1
                    || v.iter().any(|&x| !x.is_finite() || x < 0.0)
                {
                    return Err(self.state_error(format!(
                        "'{key}' must be a 1-D F64 tensor of finite, non-negative rates (found {} {:?} = {v:?})",
                        raw.dtype, raw.shape
                    )));
                }
                group_lr = Some(v);
                continue;
            }
            let (idx, field) = rest.split_once('.').unwrap_or((rest, ""));
            let Some(i) = idx.parse::<usize>().ok().filter(|&i| i < n) else {
                return Err(self.state_error(format!(
                    "'{key}' does not name one of the {n} parameters by index"
                )));
            };
            let name = &self.params[i].0;
            let perr = |m: String| {
                OptimError::new(OptimErrorKind::InvalidState, kind, Some(name.clone()), m)
            };
            if field == "step" {
                let v = raw.to_i64_vec();
                if raw.dtype != RawDType::I64 || !raw.shape.is_empty() || v[0] < 1 {
                    return Err(perr(format!(
                        "'{key}' must be an I64 scalar ≥ 1 (found {} {:?})",
                        raw.dtype, raw.shape
                    )));
                }
                steps[i] = Some(v[0] as u64);
                continue;
            }
            let Some(k) = fields.iter().position(|f| *f == field) else {
                return Err(perr(format!(
                    "'{key}': this {kind} configuration keeps no '{field}' (it keeps: {})",
                    fields.join(", ")
                )));
            };
            let (shape, dtype) = {
                let v = self.params[i].1.value();
                (*v.shape(), v.dtype())
            };
            if raw.shape != shape.dims() || raw.dtype != crate::io::raw_dtype(dtype) {
                return Err(perr(format!(
                    "'{key}' is {} {:?} but the parameter is {} {:?}",
                    raw.dtype,
                    raw.shape,
                    crate::io::raw_dtype(dtype),
                    shape.dims()
                )));
            }
            let t = crate::io::from_raw(raw).map_err(|e| perr(format!("'{key}': {e}")))?;
            bufs[i][k] = Some(t);
        }
        let Some(lr) = lr else {
            return Err(self.state_error(format!("the saved state has no '{kind}.lr'")));
        };
        // the groups' rates: as saved, or (a single-group state) the saved rate scaled
        let have: Vec<i64> = self.groups.iter().map(|g| g.len as i64).collect();
        let group_lr: Vec<f64> = match (group_sizes, group_lr) {
            (None, None) => self.groups.iter().map(|g| lr * g.scale).collect(),
            (Some(sizes), Some(lrs)) if sizes == have && lrs.len() == have.len() => lrs,
            (Some(sizes), Some(lrs)) => {
                return Err(self.state_error(format!(
                    "the saved state has parameter groups of sizes {sizes:?} (rates {lrs:?}) but this optimizer's are {have:?}"
                )))
            }
            (sizes, _) => {
                let missing = if sizes.is_some() { "group_lr" } else { "groups" };
                return Err(self.state_error(format!(
                    "the saved state is incomplete: missing '{kind}.{missing}'"
                )));
            }
        };
        let mut state = vec![None; n];
        for i in 0..n {
            let have = bufs[i].iter().filter(|b| b.is_some()).count();
            match steps[i] {
                None if have == 0 => {}
                Some(step) if have == fields.len() => {
                    let b = bufs[i]
                        .iter_mut()
                        .map(|b| b.take().expect("all present"))
                        .collect();
                    state[i] = Some(ParamState { step, bufs: b });
                }
                _ => {
                    let missing: Vec<String> = std::iter::once("step")
                        .filter(|_| steps[i].is_none())
                        .chain(
                            fields
                                .iter()
                                .zip(&bufs[i])
                                .filter(|(_, b)| b.is_none())
                                .map(|(f, _)| *f),
                        )
                        .map(|f| format!("'{kind}.{i}.{f}'"))
                        .collect();
                    return Err(OptimError::new(
                        OptimErrorKind::InvalidState,
                        kind,
                        Some(self.params[i].0.clone()),
                        format!(
                            "the saved state is incomplete: missing {}",
                            missing.join(", ")
                        ),
                    ));
                }
            }
        }
        self.state = state;
        self.config.set_learning_rate(lr);
        for (g, glr) in self.groups.iter_mut().zip(group_lr) {
            g.lr = glr;
        }
        Ok(())
    }
}

/// A scalar hyperparameter in the element type (the update formulas are computed in the
/// parameter's own precision, as PyTorch does).
#[inline(always)]
fn c<T: Element>(v: f64) -> T {
    T::from_f64(v)
}

/// `Ok` if `v ≥ 0` (NaN fails), else PyTorch's message `"Invalid <what>: <v>"`.
fn non_negative(what: &str, v: f64) -> Result<(), String> {
    if v >= 0.0 {
        Ok(())
    } else {
        Err(format!("Invalid {what}: {v}"))
    }
}
