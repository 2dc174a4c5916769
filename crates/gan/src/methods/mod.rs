//! One file per method of the tutorial, each a config, the models it needs and a `step` that
//! reads like the paper's algorithm box.

pub mod autoencoder;
pub mod energy;
pub mod vanilla;
