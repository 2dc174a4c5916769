//! # minimax tensors
//!
//! A dtype-tagged n-dimensional array ([`Tensor`]) with NumPy/PyTorch broadcasting, reductions
//! that give the same bits for any thread count, GEMM through `matrixmultiply`, and im2col
//! convolutions. Hot kernels are compiled for AVX2+FMA and chosen at run time, with a scalar
//! path that runs anywhere.
//!
//! ```
//! use minimax_tensor::{DType, Tensor};
//! let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]);
//! let b = Tensor::ones([2], DType::F32);
//! let c = &a + &b; // broadcasting [2, 2] + [2]
//! assert_eq!(c.to_vec_f32(), vec![2.0, 3.0, 4.0, 5.0]);
//! assert_eq!(a.matmul(&a).to_vec_f32(), vec![7.0, 10.0, 15.0, 22.0]);
//! ```
#![warn(missing_docs)]

pub mod dtype;
pub mod error;
pub mod kernels;
pub mod ops;
pub mod parallel;
pub mod pool;
pub mod rng;
pub mod shape;
pub mod tensor;

pub use dtype::{DType, Element, Storage};
pub use error::TensorError;
pub use kernels::elementwise::{BinaryOp, UnaryOp};
pub use ops::conv::{
    set_winograd, winograd_enabled, with_winograd, Conv2dParams, ConvTranspose2dParams,
};
pub use ops::shape::PadMode;
pub use rng::Rng;
pub use shape::{broadcast_shapes, Shape, MAX_DIMS};
pub use tensor::Tensor;
