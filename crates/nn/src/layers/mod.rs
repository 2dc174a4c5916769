//! Layers with PyTorch's default initialisation, parameter names and layouts (`weight`, `bias`,
//! `running_mean`, `running_var`) and semantics, one file per family:
//!
//! | file | layers |
//! |---|---|
//! | `linear.rs` | [`Linear`] |
//! | `conv.rs` | [`Conv2d`], [`ConvTranspose2d`] |
//! | `norm.rs` | [`BatchNorm1d`], [`BatchNorm2d`], [`InstanceNorm2d`], [`LayerNorm`] |
//! | `activation.rs` | [`ReLU`], [`LeakyReLU`], [`Tanh`], [`Sigmoid`], [`Softplus`], [`GradientReversal`] |
//! | `dropout.rs` | [`Dropout`], [`Dropout2d`] |
//! | `shape.rs` | [`Flatten`], [`Unflatten`], [`ReflectionPad2d`], [`ZeroPad2d`], [`Upsample`], [`AvgPool2d`], [`MaxPool2d`] |
//! | `embedding.rs` | [`Embedding`] |
//! | `container.rs` | [`Sequential`], [`ResidualBlock`] |
//!
//! Random constructors take `&mut Rng`; parameters are f32. Cloning a layer (or calling its
//! `shared()`) gives a second layer with the *same* parameters (a [`Param`] is a shared handle),
//! so two models that both use it accumulate gradients into one place. An `Rc<M>` of any module
//! is itself a module, so one layer instance can also sit in two containers.
//!
//! # Running a layer with explicit parameter values
//!
//! Layers never read a parameter with `tape.param(p)` directly; they call [`param_var`], which
//! first looks for a value *bound* to that parameter by [`with_params`] or
//! [`functional_forward`] (like `torch.func.functional_call`). That is how a gradient check
//! differentiates with respect to parameters: the checker's input Vars are bound in place of the
//! module's parameters, so the same forward code is checked, including for nested containers.
//!
//! ```
//! use autograd::{gradcheck, Var};
//! use minimax_nn::layers::{functional_forward, Linear};
//! use minimax_nn::Module;
//! use tensor::{Rng, Tensor};
//! let lin = Linear::new(3, 2, true, &mut Rng::seed(0));
//! // inputs: x, then every parameter in `params()` order (weight, bias)
//! let f = |v: &[Var]| functional_forward(&lin, &v[0], &v[1..]);
//! let mut inputs = vec![Tensor::from_vec(vec![0.5f64, -1.0, 2.0], [1, 3])];
//! inputs.extend(lin.params().iter().map(|p| p.value()));
//! assert!(gradcheck(&f, &inputs, Default::default()).is_ok());
//! ```

mod activation;
mod container;
mod conv;
mod dropout;
mod embedding;
mod linear;
mod norm;
mod shape;

pub use activation::{GradientReversal, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh};
pub use container::{ResidualBlock, Sequential};
pub use conv::{Conv2d, ConvTranspose2d};
pub use dropout::{Dropout, Dropout2d};
pub use embedding::Embedding;
pub use linear::Linear;
pub use norm::{BatchNorm1d, BatchNorm2d, InstanceNorm2d, LayerNorm, NormOptions};
pub use shape::{AvgPool2d, Flatten, MaxPool2d, ReflectionPad2d, Unflatten, Upsample, ZeroPad2d};

use crate::Module;
use autograd::{Param, Var};
use std::cell::RefCell;

thread_local! {
    /// Parameter bindings of the enclosing [`with_params`] calls: (parameter id, value).
    static BOUND: RefCell<Vec<(usize, Var)>> = const { RefCell::new(Vec::new()) };
}

/// Removes the bindings made by one [`with_params`] call, also on panic.
struct Unbind(usize);

impl Drop for Unbind {
    fn drop(&mut self) {
        BOUND.with(|b| b.borrow_mut().truncate(self.0));
    }
}

/// The value a layer uses for parameter `p` in a forward pass whose input is `x`: the Var bound
/// to `p` by an enclosing [`with_params`] (innermost first), else `x.tape().param(p)` (which is a
/// constant when `p` is frozen or inside `no_grad`). Write custom modules with this too, so they
/// can be gradient-checked with respect to their parameters.
pub fn param_var(x: &Var, p: &Param) -> Var {
    let id = p.id();
    let bound = BOUND.with(|b| {
        b.borrow()
            .iter()
            .rev()
            .find(|(i, _)| *i == id)
            .map(|(_, v)| v.clone())
    });
    match bound {
        Some(v) => v,
        None => x.tape().param(p),
    }
}

/// Runs `f` with each parameter of `bindings` replaced by the given Var in every layer's forward
/// pass (see [`param_var`]). Panics if a Var's shape differs from its parameter's.
#[track_caller]
pub fn with_params<R>(bindings: &[(Param, Var)], f: impl FnOnce() -> R) -> R {
    for (p, v) in bindings {
        let ps = *p.value().shape();
        assert!(
            ps == *v.shape(),
            "with_params: parameter '{}' is {:?} but the value bound to it is {:?}",
            p.name(),
            ps,
            v.shape()
        );
    }
    let start = BOUND.with(|b| {
        let mut b = b.borrow_mut();
        let n = b.len();
        b.extend(bindings.iter().map(|(p, v)| (p.id(), v.clone())));
        n
    });
    let _guard = Unbind(start);
    f()
}

/// `m.forward(x)` with `m.params()` (in that order) replaced by `params` — a functional call:
/// the result is differentiable with respect to `x` and every Var of `params`. Panics if the
/// number of Vars differs from the number of parameters.
#[track_caller]
pub fn functional_forward(m: &dyn Module, x: &Var, params: &[Var]) -> Var {
    let ps = m.params();
    assert!(
        ps.len() == params.len(),
        "functional_forward: the module has {} parameters but {} values were given",
        ps.len(),
        params.len()
    );
    let bindings: Vec<(Param, Var)> = ps.into_iter().zip(params.iter().cloned()).collect();
    with_params(&bindings, || m.forward(x))
}

/// A shape of `ndim` ones except `channels` at axis 1 (to broadcast a per-channel `[C]` value
/// over `[N, C, …]`).
pub(crate) fn channel_shape(ndim: usize, channels: usize) -> Vec<usize> {
    let mut s = vec![1; ndim];
    s[1] = channels;
    s
}

/// Formats a bool the way PyTorch's reprs do (`True`/`False`).
pub(crate) fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// Formats a float the way Python does for simple values (`0.2`, `1.0`, `1e-05`).
pub(crate) fn py_float(x: f64) -> String {
    if x != 0.0 && (x.abs() < 1e-4 || x.abs() >= 1e16) {
        // Python: 1e-05, 2.5e-07
        let s = format!("{x:e}");
        match s.split_once('e') {
            Some((m, e)) => {
                let (sign, digits) = if let Some(d) = e.strip_prefix('-') {
                    ("-", d)
                } else {
                    ("+", e)
                };
                format!("{m}e{sign}{digits:0>2}")
            }
            None => s,
        }
    } else if x.fract() == 0.0 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}
