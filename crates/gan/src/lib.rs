//! # minimax gan
//!
//! GAN objectives, training loops, models, datasets, metrics and reports — one readable file
//! per method of the tutorial (see `docs/`).
#![warn(missing_docs)]

pub mod data;
pub mod explain;
pub mod method;
pub mod methods;
pub mod metrics;
pub mod models;
pub mod objectives;
pub mod report;
pub mod run;
pub mod watch;
