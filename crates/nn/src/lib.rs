//! # minimax nn
//!
//! Modules, parameters, layers, optimizers, losses and checkpoints, with PyTorch's semantics,
//! parameter layouts and `state_dict` names.
#![warn(missing_docs)]

pub mod format;
pub mod init;
pub mod layers;
pub mod module;

pub use autograd::Param;
pub use layers::*;
pub use module::Module;
