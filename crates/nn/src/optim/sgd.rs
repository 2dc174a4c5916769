//! SGD, as `torch.optim.SGD` computes it.
//!
//! For each element, with g the gradient, γ the learning rate, λ the weight decay, μ the
//! momentum, τ the dampening and t the step:
//!
//! ```text
//! g ← −g                          if maximize (gradient ascent; applied first, as PyTorch's code does)
//! g ← g + λ·θ                     if λ ≠ 0
//! b ← g                           if μ ≠ 0 and t = 1
//! b ← μ·b + (1 − τ)·g             if μ ≠ 0 and t > 1
//! g ← g + μ·b  (nesterov)  or  g ← b
//! θ ← θ − γ·g
//! ```
//!
//! PyTorch's documentation writes `maximize` as `θ ← θ + γ·g` at the end; its implementation
//! negates the gradient first, so with weight decay the weights still shrink when maximizing.
//! We follow the implementation.

use super::{c, non_negative, UpdateRule};
use tensor::Element;

/// Hyperparameters of [`Sgd`](super::Sgd), with PyTorch's defaults.
///
/// ```
/// use minimax_nn::optim::SgdConfig;
/// let cfg = SgdConfig::default().lr(0.1).momentum(0.9).nesterov(true);
/// assert_eq!(cfg.dampening, 0.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate γ (default 1e-3).
    pub lr: f64,
    /// Momentum factor μ (default 0: no momentum buffer).
    pub momentum: f64,
    /// Dampening τ of the momentum (default 0).
    pub dampening: f64,
    /// L2 penalty λ added to the gradient (default 0).
    pub weight_decay: f64,
    /// Nesterov momentum (default false; needs μ > 0 and τ = 0).
    pub nesterov: bool,
    /// Gradient ascent instead of descent (default false).
    pub maximize: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
        }
    }
}

setters!(SgdConfig {
    /// Sets the learning rate.
    lr: f64,
    /// Sets the momentum factor.
    momentum: f64,
    /// Sets the dampening.
    dampening: f64,
    /// Sets the L2 weight decay.
    weight_decay: f64,
    /// Turns Nesterov momentum on or off.
    nesterov: bool,
    /// Turns gradient ascent on or off.
    maximize: bool,
});

impl UpdateRule for SgdConfig {
    const KIND: &'static str = "sgd";

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn validate(&self) -> Result<(), String> {
        non_negative("learning rate", self.lr)?;
        non_negative("momentum value", self.momentum)?;
        non_negative("weight_decay value", self.weight_decay)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err("Nesterov momentum requires a momentum and zero dampening".into());
        }
        Ok(())
    }

    fn state_fields(&self) -> Vec<&'static str> {
        if self.momentum != 0.0 {
            vec!["momentum_buffer"]
        } else {
            vec![]
        }
    }

    fn update<T: Element>(&self, step: u64, w: &mut [T], g: &[T], state: &mut [&mut [T]]) {
        let (lr, wd, mu, damp): (T, T, T, T) = (
            c(self.lr),
            c(self.weight_decay),
            c(self.momentum),
            c(1.0 - self.dampening),
        );
        for k in 0..w.len() {
            let mut d = if self.maximize { -g[k] } else { g[k] };
            if self.weight_decay != 0.0 {
                d += wd * w[k];
            }
            if self.momentum != 0.0 {
                let b = &mut state[0][k];
                *b = if step == 1 { d } else { mu * *b + damp * d };
                d = if self.nesterov { d + mu * *b } else { *b };
            }
            w[k] -= lr * d;
        }
    }
}
