//! Dropout with its own seeded generator.
//!
//! Each layer keeps a generator forked at construction from the `Rng` it is given, so a run is
//! reproducible from its seed and the masks do not depend on what else draws random numbers.
//! Training mode zeroes elements (or whole channels) with probability `p` and scales the rest by
//! 1/(1 − p) ("inverted" dropout), so evaluation mode is the identity.

use super::py_float;
use crate::Module;
use autograd::Var;
use std::cell::{Cell, RefCell};
use tensor::{Rng, Shape, Tensor};

#[derive(Clone, Debug)]
struct DropoutCore {
    p: f64,
    rng: RefCell<Rng>,
    training: Cell<bool>,
}

impl DropoutCore {
    #[track_caller]
    fn new(name: &str, p: f64, rng: &mut Rng) -> DropoutCore {
        assert!(
            (0.0..=1.0).contains(&p),
            "{name}: p must be in [0, 1], got {p}"
        );
        DropoutCore {
            p,
            rng: RefCell::new(rng.fork()),
            training: Cell::new(true),
        }
    }

    /// x · mask, the mask of shape `mask_shape` (broadcast over x) drawn from the layer's rng.
    fn forward(&self, x: &Var, mask_shape: Shape) -> Var {
        if !self.training.get() || self.p == 0.0 {
            return x.clone();
        }
        let mask = if self.p == 1.0 {
            Tensor::zeros(mask_shape, x.dtype())
        } else {
            let keep = Tensor::bernoulli(
                mask_shape,
                1.0 - self.p,
                x.dtype(),
                &mut self.rng.borrow_mut(),
            );
            keep.mul_scalar(1.0 / (1.0 - self.p))
        };
        x.mul(&x.constant(mask))
    }
}

macro_rules! dropout_common {
    ($t:ident) => {
        impl $t {
            /// The probability of zeroing.
            pub fn p(&self) -> f64 {
                self.0.p
            }
            /// Whether the layer is in training mode.
            pub fn is_training(&self) -> bool {
                self.0.training.get()
            }
            /// The state of the layer's generator (to save in a checkpoint).
            pub fn rng_state(&self) -> [u64; 4] {
                self.0.rng.borrow().state()
            }
            /// Restores the layer's generator (a resumed run then draws the same masks).
            pub fn set_rng_state(&self, state: [u64; 4]) {
                *self.0.rng.borrow_mut() = Rng::from_state(state);
            }
        }
    };
}

/// Zeroes each element with probability `p` in training mode and scales the others by
/// 1/(1 − p), like `torch.nn.Dropout`; the identity in evaluation mode.
#[derive(Clone, Debug)]
pub struct Dropout(DropoutCore);

impl Dropout {
    /// A dropout layer whose generator is forked from `rng`. Panics unless 0 ≤ p ≤ 1.
    #[track_caller]
    pub fn new(p: f64, rng: &mut Rng) -> Dropout {
        Dropout(DropoutCore::new("Dropout", p, rng))
    }
}

dropout_common!(Dropout);

impl Module for Dropout {
    fn forward(&self, x: &Var) -> Var {
        self.0.forward(x, *x.shape())
    }
    fn describe(&self) -> String {
        format!("Dropout(p={})", py_float(self.0.p))
    }
    fn set_own_training(&self, training: bool) {
        self.0.training.set(training);
    }
    crate::as_dyn!();
}

/// Zeroes whole channels (`x[n, c, …]`) with probability `p` in training mode and scales the
/// others by 1/(1 − p), like `torch.nn.Dropout2d`; the identity in evaluation mode. Input
/// `[N, C, H, W]` (any `[N, C, …]` works).
#[derive(Clone, Debug)]
pub struct Dropout2d(DropoutCore);

impl Dropout2d {
    /// A channel-dropout layer whose generator is forked from `rng`. Panics unless 0 ≤ p ≤ 1.
    #[track_caller]
    pub fn new(p: f64, rng: &mut Rng) -> Dropout2d {
        Dropout2d(DropoutCore::new("Dropout2d", p, rng))
    }
}

dropout_common!(Dropout2d);

impl Module for Dropout2d {
    fn forward(&self, x: &Var) -> Var {
        assert!(
            x.ndim() >= 2,
            "Dropout2d: expects input [N, C, …], got {:?}",
            x.shape()
        );
        let mut s: Vec<usize> = vec![1; x.ndim()];
        s[0] = x.dims()[0];
        s[1] = x.dims()[1];
        self.0.forward(x, Shape::new(&s))
    }
    fn describe(&self) -> String {
        format!("Dropout2d(p={})", py_float(self.0.p))
    }
    fn set_own_training(&self, training: bool) {
        self.0.training.set(training);
    }
    crate::as_dyn!();
}
