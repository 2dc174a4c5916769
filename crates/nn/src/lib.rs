//! # minimax nn
//!
//! Modules, parameters, layers, optimizers, losses and checkpoints, with PyTorch's semantics,
//! parameter layouts and `state_dict` names.
#![warn(missing_docs)]

pub mod checkpoint;
pub mod format;
pub mod group;
pub mod init;
pub mod io;
pub mod layers;
pub mod loss;
pub mod module;
pub mod optim;
pub mod schedule;

pub use autograd::Param;
pub use checkpoint::{load_checkpoint, save_checkpoint, CheckpointError, Extras, LoadedExtras};
pub use group::{params_of, Frozen, Group};
pub use layers::*;
pub use loss::Reduction;
pub use module::Module;
pub use optim::{Adam, AdamW, Optimizer, RmsProp, Sgd, StepReport};
pub use schedule::LrSchedule;
