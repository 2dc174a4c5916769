//! minimax: re-exports the four crates.
pub use autograd;
pub use gan;
pub use nn;
pub use tensor;
