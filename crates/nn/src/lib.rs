//! # minimax nn
//!
//! Modules, parameters, layers, optimizers, losses and checkpoints.
#![warn(missing_docs)]

pub mod format;
