//! minimax: re-exports the four crates.
pub use autograd;
pub use gan;
pub use nn;
pub use tensor;

/// Using the crates from another program (the page `docs/embedding.md`, whose examples run as
/// this crate's doc tests).
#[doc = include_str!("../docs/embedding.md")]
pub mod embedding {}
