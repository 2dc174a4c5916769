//! # minimax autograd
//!
//! Reverse-mode automatic differentiation on a tape.
//!
//! - A [`Tape`] records nodes in creation order; a [`Var`] is a handle to a value on it.
//!   Walking the tape backwards is a topological order, so backward is one loop.
//! - Every backward rule lives in [`derivatives`], written with the same differentiable ops,
//!   so with `create_graph` gradients can be differentiated again (gradient penalties).
//! - [`Var::backward`] accumulates into parameters' and leaves' `.grad`; [`grad()`] returns
//!   gradients without touching them.
//! - [`no_grad`], [`Var::detach`], [`Var::grad_reverse`], anomaly mode ([`Tape::set_anomaly`]).
//! - [`gradcheck`] (on both backward branches of every rule, fused and differentiable) /
//!   [`gradgradcheck`] in f64, and proptest strategies in `testing`
//!   (feature `testing`).
//! - Inspection: `Display` for [`Tape`] (a table), [`Tape::to_dot`], [`Var::backward_trace`].
//!
//! ```
//! use minimax_autograd::Tape;
//! use tensor::{DType, Tensor};
//! let tape = Tape::new();
//! let x = tape.leaf(Tensor::from_vec(vec![1.0f64, 2.0, 3.0], [3]));
//! let y = x.pow_scalar(3.0).sum_all(); // Σ x³
//! let g = minimax_autograd::grad(&[&y], &[&x], None, true)[0].clone(); // 3x², on the tape
//! let gg = minimax_autograd::grad(&[&g.sum_all()], &[&x], None, false)[0].clone(); // 6x
//! assert_eq!(gg.value().to_vec_f64(), vec![6.0, 12.0, 18.0]);
//! ```
#![warn(missing_docs)]

pub mod backward;
pub mod check;
pub mod derivatives;
pub mod inspect;
pub mod op;
pub mod ops;
pub mod param;
pub mod tape;
#[cfg(feature = "testing")]
pub mod testing;

pub use backward::{grad, try_grad, AutogradError};
pub use check::{
    gradcheck, gradcheck_branch_report, gradcheck_report, gradgradcheck, CheckOptions, CheckReport,
};
pub use op::{Op, OP_NAMES};
pub use param::Param;
pub use tape::{
    is_grad_enabled, no_grad, set_anomaly_default, set_grad_enabled, LeafKind, Tape, Var,
};
