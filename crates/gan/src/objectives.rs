//! GAN objectives, each written as its equation.
//!
//! D's output is a **logit** l, and D(x) = σ(l). Logs of σ are computed in the stable form
//! ln σ(l) = −softplus(−l) and ln(1 − σ(l)) = ln σ(−l) = −softplus(l) — never sigmoid then log,
//! which gives ln 0 = −∞ as soon as σ saturates in f32. Tests check each stable form against the
//! textbook formula wherever both are finite.
//!
//! Conventions: `value` is the quantity D *maximises*; every `*_loss` is a quantity to
//! *minimise*.

use autograd::{grad, Var};
use tensor::{DType, Rng, Tensor};

/// The value function of Goodfellow et al. (2014), estimated on a batch:
///
/// V(D, G) = E_x[ln D(x)] + E_z[ln(1 − D(G(z)))]
///
/// from D's logits on real samples and on generated ones. D is trained by gradient **ascent**
/// on V (`maximize` in the optimizer), as the tutorial writes θd ← θd + η∇V.
#[track_caller]
pub fn value(real_logits: &Var, fake_logits: &Var) -> Var {
    let ln_d_real = real_logits.log_sigmoid(); // ln σ(l)
    let ln_one_minus_d_fake = fake_logits.neg().log_sigmoid(); // ln(1 − σ(l)) = ln σ(−l)
    ln_d_real.mean_all() + ln_one_minus_d_fake.mean_all()
}

/// The Jensen–Shannon estimate from V: with D optimal, V = −ln 4 + 2·JSD(p_data ‖ p_g), so
/// JSD ≈ (V + ln 4) / 2. With a D that is not optimal this is a lower bound.
pub fn jsd_estimate(v: f64) -> f64 {
    (v + 4f64.ln()) / 2.0
}

/// Which objective pair trains D and G.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GanLoss {
    /// The original minimax game: D maximises V, G minimises E ln(1 − D(G(z))) ("saturating":
    /// its gradient vanishes when D confidently rejects G's samples).
    Minimax,
    /// The non-saturating variant: G maximises E ln D(G(z)) (minimises −E ln D(G(z))).
    NonSaturating,
    /// Least squares (Mao et al.): D minimises ½E(D(x) − 1)² + ½E D(G(z))², G ½E(D(G(z)) − 1)²,
    /// with D's raw output (no sigmoid).
    Lsgan,
    /// Wasserstein (Arjovsky et al.): the critic maximises E C(x) − E C(G(z)) with its weights
    /// clipped to [−c, c]; G minimises −E C(G(z)).
    Wgan,
    /// WGAN with gradient penalty (Gulrajani et al.): the WGAN critic loss plus
    /// λ·E(‖∇ₓ̂C(x̂)‖₂ − 1)², see [`gradient_penalty`].
    WganGp,
    /// Hinge (Lim & Ye; Miyato et al.): D minimises E relu(1 − D(x)) + E relu(1 + D(G(z))),
    /// G minimises −E D(G(z)).
    Hinge,
}

impl GanLoss {
    /// Parses the names the CLI uses (`minimax`, `nonsaturating`, `lsgan`, `wgan`, `wgan-gp`,
    /// `hinge`).
    pub fn parse(s: &str) -> Option<GanLoss> {
        Some(match s {
            "minimax" | "saturating" => GanLoss::Minimax,
            "nonsaturating" | "non-saturating" | "ns" => GanLoss::NonSaturating,
            "lsgan" => GanLoss::Lsgan,
            "wgan" => GanLoss::Wgan,
            "wgan-gp" | "wgangp" => GanLoss::WganGp,
            "hinge" => GanLoss::Hinge,
            _ => return None,
        })
    }

    /// The CLI name.
    pub fn name(self) -> &'static str {
        match self {
            GanLoss::Minimax => "minimax",
            GanLoss::NonSaturating => "nonsaturating",
            GanLoss::Lsgan => "lsgan",
            GanLoss::Wgan => "wgan",
            GanLoss::WganGp => "wgan-gp",
            GanLoss::Hinge => "hinge",
        }
    }

    /// D's loss to minimise, from its outputs on a real and a generated batch. For the
    /// minimax and non-saturating games this is −V (so minimising it is ascent on V); the
    /// gradient penalty of WGAN-GP is added separately.
    #[track_caller]
    pub fn d_loss(self, real: &Var, fake: &Var) -> Var {
        match self {
            GanLoss::Minimax | GanLoss::NonSaturating => value(real, fake).neg(),
            GanLoss::Lsgan => (real.add_scalar(-1.0).square().mean_all()
                + fake.square().mean_all())
            .mul_scalar(0.5),
            GanLoss::Wgan | GanLoss::WganGp => fake.mean_all() - real.mean_all(),
            GanLoss::Hinge => {
                real.neg().add_scalar(1.0).relu().mean_all()
                    + fake.add_scalar(1.0).relu().mean_all()
            }
        }
    }

    /// G's loss to minimise, from D's outputs on a generated batch.
    #[track_caller]
    pub fn g_loss(self, fake: &Var) -> Var {
        match self {
            // E ln(1 − D(G(z))) = E ln σ(−l)
            GanLoss::Minimax => fake.neg().log_sigmoid().mean_all(),
            // −E ln D(G(z)) = −E ln σ(l)
            GanLoss::NonSaturating => fake.log_sigmoid().mean_all().neg(),
            GanLoss::Lsgan => fake.add_scalar(-1.0).square().mean_all().mul_scalar(0.5),
            GanLoss::Wgan | GanLoss::WganGp | GanLoss::Hinge => fake.mean_all().neg(),
        }
    }

    /// Whether D's output goes through a sigmoid (so D(x) = σ(logit) is a probability).
    pub fn uses_sigmoid(self) -> bool {
        matches!(self, GanLoss::Minimax | GanLoss::NonSaturating)
    }
}

/// The WGAN-GP penalty E(‖∇ₓ̂ D(x̂)‖₂ − 1)² with x̂ = αx + (1 − α)x̃, α ~ U(0, 1) drawn **once
/// per sample** (broadcast over the sample's other dimensions) and the norm taken over the
/// **whole flattened sample** — the two places implementations commonly get wrong. The result
/// is differentiable with respect to D's parameters (it is built with `create_graph`).
#[track_caller]
pub fn gradient_penalty(d: &dyn Fn(&Var) -> Var, real: &Var, fake: &Var, rng: &mut Rng) -> Var {
    let n = real.dims()[0];
    let mut ashape = vec![1usize; real.ndim()];
    ashape[0] = n;
    let alpha = Tensor::rand_uniform(ashape, 0.0, 1.0, real.dtype(), rng);
    gradient_penalty_at(d, real, fake, &alpha)
}

/// [`gradient_penalty`] with given mixing weights `alpha` of shape [N, 1, …, 1].
#[track_caller]
pub fn gradient_penalty_at(d: &dyn Fn(&Var) -> Var, real: &Var, fake: &Var, alpha: &Tensor) -> Var {
    let a = real.constant(alpha.clone());
    let one_minus_a = real.constant(alpha.neg().add_scalar(1.0));
    // x̂ is a new leaf: the penalty differentiates D with respect to it.
    let xhat_val = (real.detach() * &a + fake.detach() * &one_minus_a)
        .value()
        .clone();
    let xhat = real.tape().leaf(xhat_val);
    let out = d(&xhat).sum_all();
    let g = grad(&[&out], &[&xhat], None, true)[0].clone();
    let norms = g
        .flatten(1, -1)
        .square()
        .sum(&[1], false)
        .add_scalar(1e-12)
        .sqrt();
    norms.add_scalar(-1.0).square().mean_all()
}

/// The R1 penalty (Mescheder et al. 2018): (γ/2)·E‖∇ₓ D(x)‖² on real data, norm over each
/// flattened sample.
#[track_caller]
pub fn r1_penalty(d: &dyn Fn(&Var) -> Var, real: &Var, gamma: f64) -> Var {
    let x = real.tape().leaf(real.value().clone());
    let out = d(&x).sum_all();
    let g = grad(&[&out], &[&x], None, true)[0].clone();
    g.flatten(1, -1)
        .square()
        .sum(&[1], false)
        .mean_all()
        .mul_scalar(gamma / 2.0)
}

/// Clips every element of the given parameters to [−c, c] (WGAN's Lipschitz constraint).
pub fn clip_weights(params: &[autograd::Param], c: f64) {
    for p in params {
        match p.value().dtype() {
            DType::F32 => {
                p.update::<f32>(|v| v.iter_mut().for_each(|x| *x = x.clamp(-c as f32, c as f32)))
            }
            DType::F64 => p.update::<f64>(|v| v.iter_mut().for_each(|x| *x = x.clamp(-c, c))),
        }
    }
}
