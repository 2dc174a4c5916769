//! gan
pub mod data;
