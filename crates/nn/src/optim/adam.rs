//! Adam and AdamW, as `torch.optim.Adam` / `torch.optim.AdamW` compute them.
//!
//! For each element, with g the gradient, γ the learning rate, λ the weight decay, β₁, β₂ the
//! betas, ε, and t the parameter's step (1 on the first update):
//!
//! ```text
//! g ← −g                                  if maximize
//! θ ← θ·(1 − γλ)                          AdamW: decoupled weight decay
//! g ← g + λ·θ                             Adam: L2 penalty in the gradient (if λ ≠ 0)
//! m ← β₁·m + (1 − β₁)·g                   first moment   (exp_avg)
//! v ← β₂·v + (1 − β₂)·g²                  second moment  (exp_avg_sq)
//! v̂ ← max(v̂, v)                           amsgrad only   (max_exp_avg_sq)
//! θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)      (√v̂ instead of √v with amsgrad)
//! ```
//!
//! The last line is PyTorch's arrangement of the bias corrections: ε is added after dividing
//! by √(1 − β₂ᵗ), i.e. to √v̂ₜ of the paper's notation.

use super::{c, non_negative, UpdateRule};
use tensor::Element;

/// Hyperparameters of [`Adam`](super::Adam), with PyTorch's defaults.
///
/// ```
/// use nn::optim::AdamConfig;
/// // the DCGAN / pix2pix / CycleGAN setting
/// let cfg = AdamConfig::default().lr(2e-4).betas(0.5, 0.999);
/// assert_eq!(cfg.eps, 1e-8);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate γ (default 1e-3).
    pub lr: f64,
    /// (β₁, β₂): decay rates of the moment estimates (default (0.9, 0.999)).
    pub betas: (f64, f64),
    /// ε added to the denominator (default 1e-8).
    pub eps: f64,
    /// L2 penalty λ added to the gradient (default 0).
    pub weight_decay: f64,
    /// AMSGrad: divide by the running maximum of the second moment (default false).
    pub amsgrad: bool,
    /// Gradient ascent instead of descent (default false).
    pub maximize: bool,
}

/// Hyperparameters of [`AdamW`](super::AdamW), with PyTorch's defaults: Adam's, except a
/// decoupled weight decay of 1e-2.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamWConfig {
    /// Learning rate γ (default 1e-3).
    pub lr: f64,
    /// (β₁, β₂) (default (0.9, 0.999)).
    pub betas: (f64, f64),
    /// ε added to the denominator (default 1e-8).
    pub eps: f64,
    /// Decoupled weight decay λ: θ ← θ·(1 − γλ) before the Adam step (default 1e-2).
    pub weight_decay: f64,
    /// AMSGrad (default false).
    pub amsgrad: bool,
    /// Gradient ascent instead of descent (default false).
    pub maximize: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            maximize: false,
        }
    }
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 1e-2,
            amsgrad: false,
            maximize: false,
        }
    }
}

macro_rules! adam_builders {
    ($t:ty) => {
        setters!($t {
            /// Sets the learning rate.
            lr: f64,
            /// Sets ε.
            eps: f64,
            /// Sets the weight decay.
            weight_decay: f64,
            /// Turns AMSGrad on or off.
            amsgrad: bool,
            /// Turns gradient ascent on or off.
            maximize: bool,
        });
        impl $t {
            /// Sets (β₁, β₂).
            pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
                self.betas = (beta1, beta2);
                self
            }
        }
    };
}

adam_builders!(AdamConfig);
adam_builders!(AdamWConfig);

/// The hyperparameters both variants share, and whether the decay is decoupled.
struct AdamParams {
    lr: f64,
    betas: (f64, f64),
    eps: f64,
    weight_decay: f64,
    maximize: bool,
    decoupled: bool,
}

fn validate(p: &AdamParams) -> Result<(), String> {
    non_negative("learning rate", p.lr)?;
    non_negative("epsilon value", p.eps)?;
    for (i, b) in [p.betas.0, p.betas.1].into_iter().enumerate() {
        if !(0.0..1.0).contains(&b) {
            return Err(format!("Invalid beta parameter at index {i}: {b}"));
        }
    }
    non_negative("weight_decay value", p.weight_decay)
}

fn fields(amsgrad: bool) -> Vec<&'static str> {
    if amsgrad {
        vec!["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    } else {
        vec!["exp_avg", "exp_avg_sq"]
    }
}

fn update<T: Element>(p: &AdamParams, step: u64, w: &mut [T], g: &[T], state: &mut [&mut [T]]) {
    let (b1, b2) = p.betas;
    let t = step as f64;
    let bias_correction1 = 1.0 - b1.powf(t);
    let bias_correction2_sqrt = (1.0 - b2.powf(t)).sqrt();
    let step_size: T = c(p.lr / bias_correction1);
    let (beta1, beta2, one_m_b1, one_m_b2): (T, T, T, T) = (c(b1), c(b2), c(1.0 - b1), c(1.0 - b2));
    let (eps, wd, bc2): (T, T, T) = (c(p.eps), c(p.weight_decay), c(bias_correction2_sqrt));
    let decay: T = c(1.0 - p.lr * p.weight_decay);
    let (m, rest) = state.split_first_mut().expect("exp_avg");
    let (v, rest) = rest.split_first_mut().expect("exp_avg_sq");
    let mut vmax = rest.first_mut();
    for k in 0..w.len() {
        let mut d = if p.maximize { -g[k] } else { g[k] };
        if p.decoupled {
            w[k] *= decay;
        } else if p.weight_decay != 0.0 {
            d += wd * w[k];
        }
        m[k] = beta1 * m[k] + one_m_b1 * d;
        v[k] = beta2 * v[k] + one_m_b2 * d * d;
        let second = match vmax.as_mut() {
            Some(vm) => {
                vm[k] = vm[k].max_e(v[k]);
                vm[k]
            }
            None => v[k],
        };
        let denom = second.sqrt() / bc2 + eps;
        w[k] -= step_size * m[k] / denom;
    }
}

impl AdamConfig {
    fn params(&self) -> AdamParams {
        AdamParams {
            lr: self.lr,
            betas: self.betas,
            eps: self.eps,
            weight_decay: self.weight_decay,
            maximize: self.maximize,
            decoupled: false,
        }
    }
}

impl AdamWConfig {
    fn params(&self) -> AdamParams {
        AdamParams {
            lr: self.lr,
            betas: self.betas,
            eps: self.eps,
            weight_decay: self.weight_decay,
            maximize: self.maximize,
            decoupled: true,
        }
    }
}

macro_rules! adam_rule {
    ($t:ty, $kind:literal) => {
        impl UpdateRule for $t {
            const KIND: &'static str = $kind;
            fn learning_rate(&self) -> f64 {
                self.lr
            }
            fn set_learning_rate(&mut self, lr: f64) {
                self.lr = lr;
            }
            fn validate(&self) -> Result<(), String> {
                validate(&self.params())
            }
            fn state_fields(&self) -> Vec<&'static str> {
                fields(self.amsgrad)
            }
            fn update<T: Element>(&self, step: u64, w: &mut [T], g: &[T], state: &mut [&mut [T]]) {
                update(&self.params(), step, w, g, state)
            }
        }
    };
}
adam_rule!(AdamConfig, "adam");
adam_rule!(AdamWConfig, "adamw");
