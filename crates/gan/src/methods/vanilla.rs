//! §1 — The original GAN algorithm (Goodfellow et al. 2014), as the seed writes it.
//!
//! ```text
//! initialise θd, θg
//! each iteration:
//!   learning D, repeated k times:
//!     sample m real examples x¹…xᵐ;  sample m noise vectors z¹…zᵐ;  x̃ⁱ = G(zⁱ)
//!     Ṽ = 1/m Σ ln D(xⁱ) + 1/m Σ ln(1 − D(x̃ⁱ))
//!     θd ← θd + η ∇Ṽ                          (gradient ascent)
//!   learning G, once:
//!     sample another m noise vectors z¹…zᵐ
//!     Ṽ = 1/m Σ ln(1 − D(G(zⁱ)))   (saturating)   or   −1/m Σ ln D(G(zⁱ))   (non-saturating)
//!     θg ← θg − η ∇Ṽ
//! ```
//!
//! [`Gan::step`] is that box. The other objectives of [`GanLoss`] plug into the same loop (D
//! then minimises its loss, plus λ·penalty for WGAN-GP, with clipping for WGAN).

use crate::data::Dataset;
use crate::objectives::{self, GanLoss};
use autograd::{no_grad, Tape, Var};
use nn::optim::{AdamConfig, OptimError, SgdConfig};
use nn::{Adam, Module, Optimizer, Sgd};
use std::fmt;
use std::time::Instant;
use tensor::{DType, Rng, Tensor};

/// The distribution z is drawn from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Noise {
    /// z ~ N(0, I)
    Gaussian,
    /// z ~ U(−1, 1)ᵈ
    Uniform,
}

impl Noise {
    /// `m` noise vectors of dimension `dim`, as an f32 tensor [m, dim].
    pub fn sample(self, m: usize, dim: usize, rng: &mut Rng) -> Tensor {
        match self {
            Noise::Gaussian => Tensor::randn([m, dim], 0.0, 1.0, DType::F32, rng),
            Noise::Uniform => Tensor::rand_uniform([m, dim], -1.0, 1.0, DType::F32, rng),
        }
    }
    /// The CLI name.
    pub fn name(self) -> &'static str {
        match self {
            Noise::Gaussian => "gaussian",
            Noise::Uniform => "uniform",
        }
    }
}

/// Which update rule both networks use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptimizerKind {
    /// Adam with the configured betas.
    Adam,
    /// Plain SGD (the seed's θ ← θ ± η∇).
    Sgd,
}

/// Hyperparameters of the algorithm.
#[derive(Clone, Debug)]
pub struct GanConfig {
    /// D steps per iteration.
    pub k: usize,
    /// Batch size m.
    pub batch: usize,
    /// Noise distribution.
    pub noise: Noise,
    /// Noise dimension.
    pub z_dim: usize,
    /// D's learning rate.
    pub lr_d: f64,
    /// G's learning rate.
    pub lr_g: f64,
    /// Adam's (β₁, β₂).
    pub betas: (f64, f64),
    /// The objective pair.
    pub loss: GanLoss,
    /// WGAN-GP's λ.
    pub gp_lambda: f64,
    /// WGAN's clipping bound c.
    pub clip: f64,
    /// Update rule.
    pub optimizer: OptimizerKind,
}

impl Default for GanConfig {
    /// The reference defaults of the seed (PyTorch-GAN `gan`): k = 1, m = 64, z ~ N(0, I) of
    /// 100 dims, Adam 2e-4 with betas (0.5, 0.999), non-saturating G.
    fn default() -> Self {
        GanConfig {
            k: 1,
            batch: 64,
            noise: Noise::Gaussian,
            z_dim: 100,
            lr_d: 2e-4,
            lr_g: 2e-4,
            betas: (0.5, 0.999),
            loss: GanLoss::NonSaturating,
            gp_lambda: 10.0,
            clip: 0.01,
            optimizer: OptimizerKind::Adam,
        }
    }
}

/// What one iteration measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepRecord {
    /// Iteration number (1-based).
    pub step: usize,
    /// Ṽ on the last D step's batch (NaN for objectives without a sigmoid D).
    pub v: f64,
    /// Mean D(x) on real data (a probability for sigmoid objectives, the raw output otherwise).
    pub d_real: f64,
    /// Mean D(G(z)) (same convention).
    pub d_fake: f64,
    /// JSD estimate (Ṽ + ln 4)/2 (NaN without a sigmoid D).
    pub jsd: f64,
    /// D's loss (−Ṽ for the minimax game; with the penalty for WGAN-GP).
    pub d_loss: f64,
    /// G's loss.
    pub g_loss: f64,
    /// The gradient penalty term (0 unless WGAN-GP).
    pub gp: f64,
    /// ‖∇θd‖ of the last D step.
    pub grad_norm_d: f64,
    /// ‖∇θg‖ of the G step.
    pub grad_norm_g: f64,
    /// Wall time of the iteration in seconds.
    pub seconds: f64,
}

impl StepRecord {
    /// The CSV header matching [`StepRecord::csv_row`].
    pub const CSV_HEADER: &'static str =
        "step,v,d_real,d_fake,jsd,d_loss,g_loss,gp,grad_norm_d,grad_norm_g,seconds";
    /// One CSV row.
    pub fn csv_row(&self) -> String {
        format!(
            "{},{},{},{},{},{},{},{},{},{},{:.6}",
            self.step,
            self.v,
            self.d_real,
            self.d_fake,
            self.jsd,
            self.d_loss,
            self.g_loss,
            self.gp,
            self.grad_norm_d,
            self.grad_norm_g,
            self.seconds
        )
    }
}

/// Why training stopped.
#[derive(Debug)]
pub enum TrainError {
    /// A loss term became NaN or infinite.
    NonFinite {
        /// Iteration.
        step: usize,
        /// Which term ("D loss", "G loss", "V", "gradient penalty").
        term: &'static str,
        /// Its value.
        value: f64,
    },
    /// The optimizer refused a step (e.g. a non-finite gradient, named by parameter).
    Optim {
        /// Iteration.
        step: usize,
        /// Which network.
        net: &'static str,
        /// The optimizer's error.
        error: OptimError,
    },
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::NonFinite { step, term, value } => {
                write!(f, "step {step}: the {term} is {value} (not finite)")
            }
            TrainError::Optim { step, net, error } => {
                write!(f, "step {step}: {net} update failed: {error}")
            }
        }
    }
}

impl std::error::Error for TrainError {}

/// Which part of the iteration an [`Event`] comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The i-th of the k D steps (0-based).
    D(usize),
    /// The G step.
    G,
}

/// What an event shows.
#[derive(Clone, Copy, Debug)]
pub enum Shown<'a> {
    /// A tensor (a batch, D's outputs, …).
    Tensor(&'a Tensor),
    /// A number.
    Scalar(f64),
    /// Named parameter values or gradients.
    Params(&'a [(String, Tensor)]),
}

/// One observable moment of an iteration, for [`Gan::step_observed`] (what `minimax explain
/// gan` prints).
#[derive(Clone, Copy, Debug)]
pub struct Event<'a> {
    /// Where in the iteration.
    pub phase: Phase,
    /// What it is, in the seed's words.
    pub what: &'a str,
    /// The value.
    pub shown: Shown<'a>,
}

/// A generator, a discriminator, their optimizers and the generator of all random draws.
pub struct Gan {
    /// G.
    pub g: Box<dyn Module>,
    /// D (outputs a logit per sample).
    pub d: Box<dyn Module>,
    /// G's optimizer.
    pub opt_g: Box<dyn Optimizer>,
    /// D's optimizer (`maximize` for the minimax/non-saturating objectives: ascent on V).
    pub opt_d: Box<dyn Optimizer>,
    /// Hyperparameters.
    pub cfg: GanConfig,
    /// Every random draw of training comes from here (saved in checkpoints).
    pub rng: Rng,
    /// Iterations done.
    pub step: usize,
}

fn event<'a>(phase: Phase, what: &'a str, shown: Shown<'a>) -> Event<'a> {
    Event { phase, what, shown }
}

fn grads_of(m: &dyn Module) -> Vec<(String, Tensor)> {
    m.named_params()
        .into_iter()
        .filter_map(|(n, p)| p.grad().map(|g| (n, g)))
        .collect()
}

fn values_of(m: &dyn Module) -> Vec<(String, Tensor)> {
    m.named_params()
        .into_iter()
        .map(|(n, p)| (n, p.value()))
        .collect()
}

fn grad_norm(m: &dyn Module) -> f64 {
    nn::optim::grad_norm(&m.params())
}

fn mean_of(t: &Tensor) -> f64 {
    t.mean_all().item()
}

impl Gan {
    /// Builds the optimizers for `g` and `d` from `cfg`; `seed` seeds the training generator.
    pub fn new(
        g: Box<dyn Module>,
        d: Box<dyn Module>,
        cfg: GanConfig,
        seed: u64,
    ) -> Result<Gan, OptimError> {
        // D ascends V for the objectives written with V; the others are losses to minimise.
        let ascend = cfg.loss.uses_sigmoid();
        let (opt_g, opt_d): (Box<dyn Optimizer>, Box<dyn Optimizer>) = match cfg.optimizer {
            OptimizerKind::Adam => (
                Box::new(Adam::new(
                    g.named_params(),
                    AdamConfig::default()
                        .lr(cfg.lr_g)
                        .betas(cfg.betas.0, cfg.betas.1),
                )?),
                Box::new(Adam::new(
                    d.named_params(),
                    AdamConfig::default()
                        .lr(cfg.lr_d)
                        .betas(cfg.betas.0, cfg.betas.1)
                        .maximize(ascend),
                )?),
            ),
            OptimizerKind::Sgd => (
                Box::new(Sgd::new(
                    g.named_params(),
                    SgdConfig::default().lr(cfg.lr_g),
                )?),
                Box::new(Sgd::new(
                    d.named_params(),
                    SgdConfig::default().lr(cfg.lr_d).maximize(ascend),
                )?),
            ),
        };
        Ok(Gan {
            g,
            d,
            opt_g,
            opt_d,
            cfg,
            rng: Rng::seed(seed),
            step: 0,
        })
    }

    /// One iteration: k D steps, then one G step, drawing every batch from `data` and the
    /// noise distribution with [`Gan::rng`].
    pub fn step(&mut self, data: &dyn Dataset) -> Result<StepRecord, TrainError> {
        self.step_observed(data, &mut |_| {})
    }

    /// [`Gan::step`], reporting every sampled batch, D's outputs, Ṽ, the gradients and the
    /// parameters before and after each update to `observe`.
    pub fn step_observed(
        &mut self,
        data: &dyn Dataset,
        observe: &mut dyn FnMut(&Event),
    ) -> Result<StepRecord, TrainError> {
        let t0 = Instant::now();
        self.step += 1;
        let mut rec = StepRecord {
            step: self.step,
            ..StepRecord::default()
        };
        for i in 0..self.cfg.k {
            let x = data.sample(self.cfg.batch, &mut self.rng);
            let z = self
                .cfg
                .noise
                .sample(self.cfg.batch, self.cfg.z_dim, &mut self.rng);
            self.d_step(i, &x, &z, &mut rec, observe)?;
        }
        let z = self
            .cfg
            .noise
            .sample(self.cfg.batch, self.cfg.z_dim, &mut self.rng);
        self.g_step(&z, &mut rec, observe)?;
        rec.seconds = t0.elapsed().as_secs_f64();
        Ok(rec)
    }

    fn check(&self, term: &'static str, value: f64) -> Result<(), TrainError> {
        if value.is_finite() {
            Ok(())
        } else {
            Err(TrainError::NonFinite {
                step: self.step,
                term,
                value,
            })
        }
    }

    /// One D update on the real batch `x` and noise `z` ("learning D" in the box).
    pub fn d_step(
        &mut self,
        i: usize,
        x: &Tensor,
        z: &Tensor,
        rec: &mut StepRecord,
        observe: &mut dyn FnMut(&Event),
    ) -> Result<(), TrainError> {
        let ph = Phase::D(i);
        observe(&event(ph, "x: m real examples", Shown::Tensor(x)));
        observe(&event(ph, "z: m noise vectors", Shown::Tensor(z)));
        let tape = Tape::new();
        // x̃ = G(z): G is not being trained here, so nothing of it is recorded.
        let fake = {
            let _off = no_grad();
            self.g.forward(&tape.constant(z.clone()))
        }
        .detach();
        observe(&event(ph, "x̃ = G(z)", Shown::Tensor(fake.value())));
        let real_out = self.d.forward(&tape.constant(x.clone()));
        let fake_out = self.d.forward(&fake);
        let loss = self.cfg.loss;
        let (pr, pf) = if loss.uses_sigmoid() {
            (real_out.value().sigmoid(), fake_out.value().sigmoid())
        } else {
            (real_out.value().clone(), fake_out.value().clone())
        };
        observe(&event(ph, "D(x)", Shown::Tensor(&pr)));
        observe(&event(ph, "D(x̃)", Shown::Tensor(&pf)));
        rec.d_real = mean_of(&pr);
        rec.d_fake = mean_of(&pf);
        let objective: Var = if loss.uses_sigmoid() {
            // Ṽ = 1/m Σ ln D(xⁱ) + 1/m Σ ln(1 − D(x̃ⁱ)), ascended by the optimizer
            let v = objectives::value(&real_out, &fake_out);
            rec.v = v.item();
            rec.jsd = objectives::jsd_estimate(rec.v);
            rec.d_loss = -rec.v;
            observe(&event(
                ph,
                "Ṽ = 1/m Σ ln D(xⁱ) + 1/m Σ ln(1 − D(x̃ⁱ))",
                Shown::Scalar(rec.v),
            ));
            self.check("V", rec.v)?;
            v
        } else {
            rec.v = f64::NAN;
            rec.jsd = f64::NAN;
            let mut l = loss.d_loss(&real_out, &fake_out);
            if loss == GanLoss::WganGp {
                let d = &self.d;
                let gp = objectives::gradient_penalty(
                    &|v: &Var| d.forward(v),
                    &tape.constant(x.clone()),
                    &fake,
                    &mut self.rng,
                );
                rec.gp = gp.item();
                self.check("gradient penalty", rec.gp)?;
                l = l + gp.mul_scalar(self.cfg.gp_lambda);
            }
            rec.d_loss = l.item();
            observe(&event(ph, "D loss", Shown::Scalar(rec.d_loss)));
            l
        };
        self.check("D loss", rec.d_loss)?;
        self.opt_d.zero_grad();
        objective.backward();
        // the tape holds the parameters' values: without it (and the values shown below), the
        // optimizer updates them in place instead of copying each one first
        drop((objective, real_out, fake_out, fake, tape));
        rec.grad_norm_d = grad_norm(self.d.as_dyn());
        observe(&event(
            ph,
            "θd before the update",
            Shown::Params(&values_of(self.d.as_dyn())),
        ));
        observe(&event(
            ph,
            "∇θd Ṽ",
            Shown::Params(&grads_of(self.d.as_dyn())),
        ));
        self.opt_d.step().map_err(|error| TrainError::Optim {
            step: self.step,
            net: "D",
            error,
        })?;
        if loss == GanLoss::Wgan {
            objectives::clip_weights(&self.d.params(), self.cfg.clip);
        }
        let after = values_of(self.d.as_dyn());
        observe(&event(
            ph,
            if loss.uses_sigmoid() {
                "θd after θd ← θd + η∇Ṽ (ascent)"
            } else {
                "θd after the update"
            },
            Shown::Params(&after),
        ));
        Ok(())
    }

    /// One G update on noise `z` ("learning G" in the box). D is frozen meanwhile, so its
    /// parameters are constants on this tape and get no gradient.
    pub fn g_step(
        &mut self,
        z: &Tensor,
        rec: &mut StepRecord,
        observe: &mut dyn FnMut(&Event),
    ) -> Result<(), TrainError> {
        observe(&event(
            Phase::G,
            "z: another m noise vectors",
            Shown::Tensor(z),
        ));
        // freeze D for this step, restoring each parameter's own setting afterwards (also if
        // the step panics), so parameters a user froze on purpose stay frozen
        struct Restore(Vec<(autograd::Param, bool)>);
        impl Drop for Restore {
            fn drop(&mut self) {
                for (p, r) in &self.0 {
                    p.set_requires_grad(*r);
                }
            }
        }
        let _restore = Restore(
            self.d
                .params()
                .into_iter()
                .map(|p| {
                    let r = p.requires_grad();
                    (p, r)
                })
                .collect(),
        );
        self.d.set_requires_grad(false);
        let result = (|| {
            let tape = Tape::new();
            let fake = self.g.forward(&tape.constant(z.clone()));
            let out = self.d.forward(&fake);
            let gl = self.cfg.loss.g_loss(&out);
            rec.g_loss = gl.item();
            let what = match self.cfg.loss {
                GanLoss::Minimax => "Ṽ = 1/m Σ ln(1 − D(G(zⁱ))) (minimised)",
                GanLoss::NonSaturating => "−1/m Σ ln D(G(zⁱ)) (minimised)",
                _ => "G loss",
            };
            observe(&event(Phase::G, what, Shown::Scalar(rec.g_loss)));
            self.check("G loss", rec.g_loss)?;
            self.opt_g.zero_grad();
            gl.backward();
            // as in the D step: no tape holding the parameters during the update
            drop((gl, out, fake, tape));
            rec.grad_norm_g = grad_norm(self.g.as_dyn());
            observe(&event(
                Phase::G,
                "θg before the update",
                Shown::Params(&values_of(self.g.as_dyn())),
            ));
            observe(&event(
                Phase::G,
                "∇θg",
                Shown::Params(&grads_of(self.g.as_dyn())),
            ));
            self.opt_g.step().map_err(|error| TrainError::Optim {
                step: self.step,
                net: "G",
                error,
            })?;
            let after = values_of(self.g.as_dyn());
            observe(&event(
                Phase::G,
                "θg after θg ← θg − η∇",
                Shown::Params(&after),
            ));
            Ok(())
        })();
        result
    }

    /// `n` samples of G in evaluation mode (batch norm uses running statistics), drawn with
    /// `rng`.
    pub fn sample(&self, n: usize, rng: &mut Rng) -> Tensor {
        sample_generator(self.g.as_dyn(), self.cfg.noise, self.cfg.z_dim, n, rng)
    }

    /// D's logits on `x`, in evaluation mode, without recording.
    pub fn discriminate(&self, x: &Tensor) -> Tensor {
        self.d.eval();
        let _off = no_grad();
        let out = self
            .d
            .forward(&Tape::new().constant(x.clone()))
            .value()
            .clone();
        self.d.train(true);
        out
    }
}

/// `n` samples of a generator in evaluation mode, in batches of 500.
pub fn sample_generator(
    g: &dyn Module,
    noise: Noise,
    z_dim: usize,
    n: usize,
    rng: &mut Rng,
) -> Tensor {
    g.eval();
    let _off = no_grad();
    let mut parts = Vec::new();
    let mut done = 0;
    while done < n {
        let m = (n - done).min(500);
        let z = noise.sample(m, z_dim, rng);
        parts.push(g.forward(&Tape::new().constant(z)).value().clone());
        done += m;
    }
    g.train(true);
    Tensor::cat(&parts.iter().collect::<Vec<_>>(), 0)
}
