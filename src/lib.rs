//! minimax: re-exports the four crates under short names (`minimax::tensor`, `autograd`, `nn`,
//! `gan`) and a prelude of what most programs use.
pub use autograd;
pub use gan;
pub use nn;
pub use tensor;

/// Lets a closed pipe end the program quietly (`minimax --help | head -1`, an example piped to
/// `head`), as it does for other command-line tools, instead of a panic in `println!`: restores
/// the default action of SIGPIPE, which Rust's runtime sets to "ignore". A no-op off Unix.
pub fn quiet_broken_pipes() {
    #[cfg(unix)]
    {
        extern "C" {
            fn signal(signum: i32, handler: usize) -> usize;
        }
        const SIGPIPE: i32 = 13;
        const SIG_DFL: usize = 0;
        // SAFETY: restores the default action of SIGPIPE (terminate), which needs no handler.
        unsafe {
            signal(SIGPIPE, SIG_DFL);
        }
    }
}

/// What most programs use, in one `use minimax::prelude::*;`: tensors and their random
/// generator, the tape and its values, `no_grad` and `grad`, the `Module` and `Optimizer`
/// traits (their methods need them in scope), the common layers, Adam and SGD with their
/// configurations, `compute_gradients`, and the losses' `Reduction`.
///
/// ```
/// use minimax::prelude::*;
///
/// let tape = Tape::new();
/// let w = tape.leaf(Tensor::from_vec(vec![3.0f64], [1]));
/// w.square().sum_all().backward();
/// assert_eq!(w.grad().unwrap().to_vec_f64(), vec![6.0]);
/// let layer = Linear::new(2, 1, true, &mut Rng::seed(0));
/// assert_eq!(layer.params().len(), 2);
/// ```
pub mod prelude {
    pub use autograd::{grad, no_grad, Param, Tape, Var};
    pub use nn::loss::Reduction;
    pub use nn::optim::{compute_gradients, AdamConfig, SgdConfig};
    pub use nn::{
        Adam, Conv2d, ConvTranspose2d, Flatten, LeakyReLU, Linear, Module, Optimizer, ReLU,
        Sequential, Sgd, Sigmoid, Tanh,
    };
    pub use tensor::{DType, Rng, Tensor};
}

/// Using the crates from another program (the page `docs/embedding.md`, whose examples run as
/// this crate's doc tests).
#[doc = include_str!("../docs/embedding.md")]
pub mod embedding {}
