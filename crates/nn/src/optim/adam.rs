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
/// use minimax_nn::optim::AdamConfig;
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
    let k = Consts {
        step_size: c(p.lr / bias_correction1),
        beta1: c(b1),
        beta2: c(b2),
        one_m_b1: c(1.0 - b1),
        one_m_b2: c(1.0 - b2),
        eps: c(p.eps),
        wd: c(p.weight_decay),
        bc2: c(bias_correction2_sqrt),
        decay: c(1.0 - p.lr * p.weight_decay),
        sign: if p.maximize { -T::ONE } else { T::ONE },
        decoupled: p.decoupled,
        l2: !p.decoupled && p.weight_decay != 0.0,
    };
    let (m, rest) = state.split_first_mut().expect("exp_avg");
    let (v, rest) = rest.split_first_mut().expect("exp_avg_sq");
    let vmax = rest.first_mut().map(|vm| &mut **vm);
    #[cfg(target_arch = "x86_64")]
    if tensor::kernels::simd_enabled() {
        // SAFETY: the CPU has AVX2 and FMA (checked at run time).
        unsafe { update_avx2(&k, w, g, m, v, vmax) };
        return;
    }
    update_loop(&k, w, g, m, v, vmax)
}

/// The per-step constants of one update, in the parameter's precision.
#[derive(Clone, Copy)]
struct Consts<T> {
    step_size: T,
    beta1: T,
    beta2: T,
    one_m_b1: T,
    one_m_b2: T,
    eps: T,
    wd: T,
    bc2: T,
    decay: T,
    /// −1 with `maximize`, else 1 (an exact sign flip).
    sign: T,
    decoupled: bool,
    /// Adam's L2 penalty in the gradient (λ ≠ 0, not decoupled).
    l2: bool,
}

/// The update of the module docs, element by element. Every slice is cut to one length and
/// the flags are loop-invariant (the compiler moves their tests out of the loop), so the loop
/// body is straight-line code the compiler vectorises; the arithmetic is the same sequence as PyTorch's (no fused
/// multiply-adds are introduced), so both builds give the same bits.
#[inline(always)]
fn update_loop<T: Element>(
    k: &Consts<T>,
    w: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    vmax: Option<&mut [T]>,
) {
    let n = w.len();
    let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
    macro_rules! body {
        (|$i:ident| $second:expr) => {
            for $i in 0..n {
                let i = $i;
                let mut d = k.sign * g[i];
                if k.decoupled {
                    w[i] *= k.decay;
                } else if k.l2 {
                    d += k.wd * w[i];
                }
                m[i] = k.beta1 * m[i] + k.one_m_b1 * d;
                v[i] = k.beta2 * v[i] + k.one_m_b2 * d * d;
                let second = $second;
                let denom = second.sqrt() / k.bc2 + k.eps;
                w[i] -= k.step_size * m[i] / denom;
            }
        };
    }
    match vmax {
        Some(vm) => {
            let vm = &mut vm[..n];
            body!(|i| {
                vm[i] = vm[i].max_e(v[i]);
                vm[i]
            })
        }
        None => body!(|i| v[i]),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn update_avx2<T: Element>(
    k: &Consts<T>,
    w: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    vmax: Option<&mut [T]>,
) {
    update_loop(k, w, g, m, v, vmax)
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
