//! Tensor operations, one file per family.

pub mod conv;
pub mod elementwise;
pub mod matmul;
pub mod norm;
pub mod pool;
pub mod reduce;
pub mod shape;
