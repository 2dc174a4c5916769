//! Tensor operations, one file per family.

pub mod elementwise;
pub mod matmul;
pub mod reduce;
pub mod shape;
