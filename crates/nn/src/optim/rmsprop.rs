//! RMSprop, as `torch.optim.RMSprop` computes it.
//!
//! For each element, with g the gradient, γ the learning rate, α the smoothing constant, λ the
//! weight decay, μ the momentum:
//!
//! ```text
//! g ← −g                              if maximize
//! g ← g + λ·θ                         if λ ≠ 0
//! v ← α·v + (1 − α)·g²                (square_avg)
//! ḡ ← α·ḡ + (1 − α)·g                 centered only (grad_avg)
//! a ← √(v − ḡ²) + ε   if centered,  else  √v + ε
//! b ← μ·b + g / a;  θ ← θ − γ·b       if μ > 0 (momentum_buffer)
//! θ ← θ − γ·g / a                     otherwise
//! ```
//!
//! (ε is added outside the square root, as PyTorch does, unlike some other libraries.)

use super::{c, non_negative, UpdateRule};
use tensor::Element;

/// Hyperparameters of [`RmsProp`](super::RmsProp), with PyTorch's defaults.
///
/// ```
/// use minimax_nn::optim::RmsPropConfig;
/// // the WGAN (weight clipping) setting
/// let cfg = RmsPropConfig::default().lr(5e-5);
/// assert_eq!(cfg.alpha, 0.99);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RmsPropConfig {
    /// Learning rate γ (default 1e-2).
    pub lr: f64,
    /// Smoothing constant α (default 0.99).
    pub alpha: f64,
    /// ε added to the denominator (default 1e-8).
    pub eps: f64,
    /// L2 penalty λ added to the gradient (default 0).
    pub weight_decay: f64,
    /// Momentum factor μ (default 0).
    pub momentum: f64,
    /// Normalize by an estimate of the gradient's variance instead of its second moment
    /// (default false).
    pub centered: bool,
    /// Gradient ascent instead of descent (default false).
    pub maximize: bool,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        RmsPropConfig {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            maximize: false,
        }
    }
}

setters!(RmsPropConfig {
    /// Sets the learning rate.
    lr: f64,
    /// Sets the smoothing constant α.
    alpha: f64,
    /// Sets ε.
    eps: f64,
    /// Sets the L2 weight decay.
    weight_decay: f64,
    /// Sets the momentum factor.
    momentum: f64,
    /// Turns the centered variant on or off.
    centered: bool,
    /// Turns gradient ascent on or off.
    maximize: bool,
});

impl UpdateRule for RmsPropConfig {
    const KIND: &'static str = "rmsprop";

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn validate(&self) -> Result<(), String> {
        non_negative("learning rate", self.lr)?;
        non_negative("epsilon value", self.eps)?;
        non_negative("momentum value", self.momentum)?;
        non_negative("weight_decay value", self.weight_decay)?;
        non_negative("alpha value", self.alpha)
    }

    fn state_fields(&self) -> Vec<&'static str> {
        let mut f = vec!["square_avg"];
        if self.momentum > 0.0 {
            f.push("momentum_buffer");
        }
        if self.centered {
            f.push("grad_avg");
        }
        f
    }

    fn update<T: Element>(&self, _step: u64, w: &mut [T], g: &[T], state: &mut [&mut [T]]) {
        let (lr, alpha, one_m_alpha, eps, wd, mu): (T, T, T, T, T, T) = (
            c(self.lr),
            c(self.alpha),
            c(1.0 - self.alpha),
            c(self.eps),
            c(self.weight_decay),
            c(self.momentum),
        );
        let mut bufs = state.iter_mut();
        let sq = bufs.next().expect("square_avg");
        let mut buf = if self.momentum > 0.0 {
            bufs.next()
        } else {
            None
        };
        let mut gavg = if self.centered { bufs.next() } else { None };
        for k in 0..w.len() {
            let mut d = if self.maximize { -g[k] } else { g[k] };
            if self.weight_decay != 0.0 {
                d += wd * w[k];
            }
            sq[k] = alpha * sq[k] + one_m_alpha * d * d;
            let avg = match gavg.as_mut() {
                Some(ga) => {
                    ga[k] = alpha * ga[k] + one_m_alpha * d;
                    (sq[k] - ga[k] * ga[k]).sqrt() + eps
                }
                None => sq[k].sqrt() + eps,
            };
            match buf.as_mut() {
                Some(b) => {
                    b[k] = mu * b[k] + d / avg;
                    w[k] -= lr * b[k];
                }
                None => w[k] -= lr * d / avg,
            }
        }
    }
}
