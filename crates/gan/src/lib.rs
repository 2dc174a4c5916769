//! gan
pub mod data;
pub mod metrics;
