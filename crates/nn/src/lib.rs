//! # minimax nn
//!
//! Modules, parameters, layers, optimizers, losses and checkpoints, with PyTorch's semantics,
//! parameter layouts and `state_dict` names.
#![warn(missing_docs)]

pub mod format;
pub mod module;

pub use autograd::Param;
pub use module::Module;
