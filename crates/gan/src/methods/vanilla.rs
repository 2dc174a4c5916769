//! The original GAN algorithm (Goodfellow et al. 2014), as the tutorial writes it.
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

use crate::data::{BatchKind, Data, Dataset};
use crate::method::{
    finite, sample_generator_from, update, DataInfo, Method, MethodInfo, Noise, OptKind, OptSpec,
    OptimizerKind, Options, Record, TrainError,
};
use crate::models;
use crate::objectives::{self, GanLoss};
use autograd::{no_grad, Tape, Var};
use nn::layers::{Flatten, Sequential, Unflatten};
use nn::optim::{compute_gradients, OptimError};
use nn::{Frozen, Module, Optimizer};
use std::time::Instant;
use tensor::{Rng, Tensor};

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
    /// Decay β of an exponential moving average of G's weights, from which samples are drawn
    /// (0: off, samples come from G itself). See [`Gan::ema_decay`].
    pub ema: f64,
    /// Linear learning-rate decay: both rates stay as set for this many iterations, then fall
    /// linearly over [`GanConfig::decay_steps`] iterations ([`crate::method::linear_decay`]).
    pub decay_from: usize,
    /// Iterations of the linear decay (0: no decay).
    pub decay_steps: usize,
    /// Steps of latent refinement when sampling (0: off): see [`Gan::refine`].
    pub refine: usize,
    /// The step size η of that refinement.
    pub refine_eta: f64,
}

impl Default for GanConfig {
    /// The reference defaults the tutorial follows (PyTorch-GAN `gan`): k = 1, m = 64, z ~ N(0, I) of
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
            ema: 0.0,
            decay_from: 0,
            decay_steps: 0,
            refine: 0,
            refine_eta: 0.02,
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
    /// What it is, in the tutorial's words.
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
    /// The method description it runs under (`gan` unless built as `dcgan`).
    pub info: &'static MethodInfo,
    /// The moving average of G's parameters (in the order of `g.params()`), when
    /// `cfg.ema > 0`; empty otherwise.
    pub ema: Vec<Tensor>,
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
        let opt_g = cfg
            .optimizer
            .build(g.named_params(), cfg.lr_g, cfg.betas, false)?;
        let opt_d = cfg
            .optimizer
            .build(d.named_params(), cfg.lr_d, cfg.betas, ascend)?;
        let ema = if cfg.ema > 0.0 {
            g.params().iter().map(|p| p.value()).collect()
        } else {
            Vec::new()
        };
        Ok(Gan {
            g,
            d,
            opt_g,
            opt_d,
            cfg,
            rng: Rng::seed(seed),
            step: 0,
            info: &GAN,
            ema,
        })
    }

    /// The decay used after iteration `t` (1-based): `min(β, (1 + t) / (10 + t))`, so that the
    /// average forgets the random initial weights early on (with a fixed β = 0.999, 22 % of
    /// the average after 1,500 iterations would still be the initial weights).
    pub fn ema_decay(&self, t: usize) -> f64 {
        self.cfg.ema.min((1.0 + t as f64) / (10.0 + t as f64))
    }

    /// Moves the average towards G's current parameters: `avg ← β·avg + (1 − β)·θ`.
    fn update_ema(&mut self) {
        if self.ema.is_empty() {
            return;
        }
        let beta = self.ema_decay(self.step);
        for (avg, p) in self.ema.iter_mut().zip(self.g.params()) {
            *avg = avg.mul_scalar(beta).add(&p.value().mul_scalar(1.0 - beta));
        }
    }

    /// Runs `f` with G's parameters replaced by their moving average (when there is one),
    /// then puts G's own parameters back. Batch norm keeps G's running statistics.
    pub fn with_average<R>(&self, f: impl FnOnce(&dyn Module) -> R) -> R {
        if self.ema.is_empty() {
            return f(self.g.as_dyn());
        }
        let params = self.g.params();
        let own: Vec<Tensor> = params.iter().map(|p| p.value()).collect();
        for (p, avg) in params.iter().zip(&self.ema) {
            p.set_value(avg.clone());
        }
        let out = f(self.g.as_dyn());
        for (p, v) in params.iter().zip(own) {
            p.set_value(v);
        }
        out
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
        if self.cfg.decay_steps > 0 {
            let (from, steps) = (self.cfg.decay_from, self.cfg.decay_steps);
            let decay = |lr| crate::method::linear_decay(lr, self.step, from, steps);
            let (lr_d, lr_g) = (decay(self.cfg.lr_d), decay(self.cfg.lr_g));
            self.opt_d.set_lr(lr_d);
            self.opt_g.set_lr(lr_g);
        }
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
        let step = self.step;
        let loss = self.cfg.loss;
        observe(&event(ph, "x: m real examples", Shown::Tensor(x)));
        observe(&event(ph, "z: m noise vectors", Shown::Tensor(z)));
        let (g, d, rng, gp_lambda) = (&self.g, &self.d, &mut self.rng, self.cfg.gp_lambda);
        // record D's objective on a fresh tape and back-propagate it; the tape is gone when
        // this returns, so the update below changes the parameters in place
        let terms = compute_gradients(self.opt_d.as_ref(), |tape| {
            // x̃ = G(z): G is not being trained here, so nothing of it is recorded.
            let fake = {
                let _off = no_grad();
                g.forward(&tape.constant(z.clone()))
            }
            .detach();
            observe(&event(ph, "x̃ = G(z)", Shown::Tensor(fake.value())));
            let real_out = d.forward(&tape.constant(x.clone()));
            let fake_out = d.forward(&fake);
            let (pr, pf) = if loss.uses_sigmoid() {
                (real_out.value().sigmoid(), fake_out.value().sigmoid())
            } else {
                (real_out.value().clone(), fake_out.value().clone())
            };
            observe(&event(ph, "D(x)", Shown::Tensor(&pr)));
            observe(&event(ph, "D(x̃)", Shown::Tensor(&pf)));
            let (d_real, d_fake) = (mean_of(&pr), mean_of(&pf));
            if loss.uses_sigmoid() {
                // Ṽ = 1/m Σ ln D(xⁱ) + 1/m Σ ln(1 − D(x̃ⁱ)), ascended by the optimizer
                let v = objectives::value(&real_out, &fake_out);
                let value = v.item();
                observe(&event(
                    ph,
                    "Ṽ = 1/m Σ ln D(xⁱ) + 1/m Σ ln(1 − D(x̃ⁱ))",
                    Shown::Scalar(value),
                ));
                finite(step, "V", value)?;
                Ok((v, (d_real, d_fake, value, -value, 0.0)))
            } else {
                let mut l = loss.d_loss(&real_out, &fake_out);
                let mut gp_value = 0.0;
                if loss == GanLoss::WganGp {
                    let gp = objectives::gradient_penalty(
                        &|v: &Var| d.forward(v),
                        &tape.constant(x.clone()),
                        &fake,
                        rng,
                    );
                    gp_value = finite(step, "gradient penalty", gp.item())?;
                    l = l + gp.mul_scalar(gp_lambda);
                }
                let value = l.item();
                observe(&event(ph, "D loss", Shown::Scalar(value)));
                finite(step, "D loss", value)?;
                Ok((l, (d_real, d_fake, f64::NAN, value, gp_value)))
            }
        })?;
        (rec.d_real, rec.d_fake, rec.v, rec.d_loss, rec.gp) = terms;
        rec.jsd = objectives::jsd_estimate(rec.v);
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
        update(self.opt_d.as_mut(), step, "D")?;
        if loss == GanLoss::Wgan {
            objectives::clip_weights(&self.d.params(), self.cfg.clip);
        }
        observe(&event(
            ph,
            if loss.uses_sigmoid() {
                "θd after θd ← θd + η∇Ṽ (ascent)"
            } else {
                "θd after the update"
            },
            Shown::Params(&values_of(self.d.as_dyn())),
        ));
        Ok(())
    }

    /// One G update on noise `z` ("learning G" in the box). D is frozen meanwhile
    /// ([`nn::Frozen`]), so its parameters are constants on this tape and get no gradient.
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
        let step = self.step;
        let _frozen = Frozen::new(&[self.d.as_dyn()]);
        let (g, d, loss) = (&self.g, &self.d, self.cfg.loss);
        rec.g_loss = compute_gradients(self.opt_g.as_ref(), |tape| {
            let fake = g.forward(&tape.constant(z.clone()));
            let gl = loss.g_loss(&d.forward(&fake));
            let value = gl.item();
            let what = match loss {
                GanLoss::Minimax => "Ṽ = 1/m Σ ln(1 − D(G(zⁱ))) (minimised)",
                GanLoss::NonSaturating => "−1/m Σ ln D(G(zⁱ)) (minimised)",
                _ => "G loss",
            };
            observe(&event(Phase::G, what, Shown::Scalar(value)));
            finite(step, "G loss", value)?;
            Ok((gl, value))
        })?;
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
        update(self.opt_g.as_mut(), step, "G")?;
        self.update_ema();
        observe(&event(
            Phase::G,
            "θg after θg ← θg − η∇",
            Shown::Params(&values_of(self.g.as_dyn())),
        ));
        Ok(())
    }

    /// `n` samples of G in evaluation mode (batch norm uses running statistics), drawn with
    /// `rng` — from the moving average of G's weights when `cfg.ema > 0`.
    pub fn sample(&self, n: usize, rng: &mut Rng) -> Tensor {
        let (noise, z_dim) = (self.cfg.noise, self.cfg.z_dim);
        self.with_average(|g| {
            sample_generator_from(g, noise, z_dim, n, rng, |z| self.refine_with(g, z))
        })
    }

    /// Latent refinement ([`GanConfig::refine`] steps of size η = [`GanConfig::refine_eta`]):
    /// each noise vector climbs
    ///
    /// ```text
    /// z ← z + η ∇_z [ l(G(z)) − ‖z‖²/2 ]
    /// ```
    ///
    /// with l = D's logit, G and D in evaluation mode (G's moving average when there is one).
    /// For the non-saturating and minimax losses D estimates D*(x) = p_data/(p_data + p_g), so
    /// its logit is ln(p_data(x)/p_g(x)), and −‖z‖²/2 is the log-density of z ~ N(0, I) up to a
    /// constant: the climb moves z towards where p(z)·p_data(G(z))/p_g(G(z)) is high, the
    /// generator's density corrected by D's estimate of the ratio (the discriminator-driven
    /// sampling of Che et al. 2020, without its Langevin noise). A few small steps sharpen the
    /// samples; many steps or large ones pull every z to D's favourite points and cost
    /// diversity (docs/dcgan.md measures both).
    pub fn refine(&self, z: &Tensor) -> Tensor {
        self.with_average(|g| {
            g.eval();
            let z = self.refine_with(g, z.clone());
            g.train(true);
            z
        })
    }

    /// [`Gan::refine`] through the generator `g` as it is (its mode and weights untouched).
    fn refine_with(&self, g: &dyn Module, mut z: Tensor) -> Tensor {
        if self.cfg.refine == 0 {
            return z;
        }
        self.d.eval();
        for _ in 0..self.cfg.refine {
            let tape = Tape::new();
            let zv = tape.leaf(z.clone());
            let climb =
                self.d.forward(&g.forward(&zv)).sum_all() - zv.square().sum_all().mul_scalar(0.5);
            let dz = autograd::grad(&[&climb], &[&zv], None, false);
            z = z.add(&dz[0].value().mul_scalar(self.cfg.refine_eta));
        }
        self.d.train(true);
        z
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

// ---------------------------------------------------------------------------------------------
// `minimax train gan` and `minimax train dcgan`
// ---------------------------------------------------------------------------------------------

impl StepRecord {
    /// The figures as a [`Record`] (the columns of `metrics.csv`).
    pub fn to_record(&self) -> Record {
        let mut r = Record::new();
        r.show("d_loss", self.d_loss)
            .show("g_loss", self.g_loss)
            .show("v", self.v)
            .show("jsd", self.jsd)
            .show("d_real", self.d_real)
            .show("d_fake", self.d_fake)
            .log("gp", self.gp)
            .log("grad_norm_d", self.grad_norm_d)
            .log("grad_norm_g", self.grad_norm_g);
        r
    }
}

impl Method for Gan {
    fn info(&self) -> &'static MethodInfo {
        self.info
    }
    fn step(&mut self, data: &Data) -> Result<Record, TrainError> {
        Gan::step(self, data.train.as_ref()).map(|r| r.to_record())
    }
    fn networks(&self) -> Vec<(&'static str, &dyn Module)> {
        vec![("gen", self.g.as_dyn()), ("disc", self.d.as_dyn())]
    }
    fn optimizers(&self) -> Vec<(&'static str, &dyn Optimizer)> {
        vec![("g", self.opt_g.as_ref()), ("d", self.opt_d.as_ref())]
    }
    fn optimizers_mut(&mut self) -> Vec<(&'static str, &mut dyn Optimizer)> {
        vec![("g", self.opt_g.as_mut()), ("d", self.opt_d.as_mut())]
    }
    crate::rng_and_step!();
    fn state(&self) -> Vec<(String, Tensor)> {
        let names = self.g.named_params().into_iter().map(|(n, _)| n);
        names
            .zip(&self.ema)
            .map(|(n, t)| (format!("ema.{n}"), t.clone()))
            .collect()
    }
    fn restore_state(&mut self, state: &[(String, Tensor)]) -> Result<(), String> {
        if state.is_empty() {
            return Ok(());
        }
        let named = self.g.named_params();
        if self.ema.is_empty() || state.len() != named.len() {
            return Err(format!(
                "the checkpoint holds {} moving-average tensors of G, this run expects {} (was it trained with another --ema?)",
                state.len(),
                if self.ema.is_empty() { 0 } else { named.len() }
            ));
        }
        let mut ema = Vec::with_capacity(named.len());
        for (want, p) in &named {
            let key = format!("ema.{want}");
            let Some((_, t)) = state.iter().find(|(n, _)| n == &key) else {
                return Err(format!(
                    "no moving average '{key}' for G's parameter '{want}'"
                ));
            };
            if t.shape() != p.value().shape() {
                return Err(format!(
                    "moving average '{key}' {:?} does not match G's parameter '{want}' {:?}",
                    t.dims(),
                    p.value().dims()
                ));
            }
            ema.push(t.clone());
        }
        self.ema = ema;
        Ok(())
    }
    fn sample(&self, n: usize, rng: &mut Rng) -> Option<Tensor> {
        Some(Gan::sample(self, n, rng))
    }
    fn discriminate(&self, x: &Tensor) -> Option<Tensor> {
        Some(Gan::discriminate(self, x).sigmoid())
    }
}

const LOSSES: &[&str] = &[
    "minimax",
    "nonsaturating",
    "lsgan",
    "wgan",
    "wgan-gp",
    "hinge",
];

macro_rules! gan_options {
    ($batch:literal, $z:literal, $lr:literal $(, $extra:expr)*) => {
        &[
            OptSpec { name: "batch", help: "batch size m", default: $batch, kind: OptKind::Int { min: 1, max: 65536 } },
            OptSpec { name: "k", help: "D steps per iteration", default: "1", kind: OptKind::Int { min: 1, max: 1000 } },
            OptSpec { name: "noise", help: "the distribution of z", default: "gaussian", kind: OptKind::Choice(&["gaussian", "uniform"]) },
            OptSpec { name: "z-dim", help: "dimension of z", default: $z, kind: OptKind::Int { min: 1, max: 4096 } },
            OptSpec { name: "loss", help: "the objective pair", default: "nonsaturating", kind: OptKind::Choice(LOSSES) },
            OptSpec { name: "lr", help: "learning rate of G, and of D unless --lr-d is given (Adam, betas 0.5, 0.999)", default: $lr, kind: OptKind::Float { min: 0.0, max: 10.0 } },
            OptSpec { name: "lr-d", help: "D's own learning rate (0: the same as --lr)", default: "0", kind: OptKind::Float { min: 0.0, max: 10.0 } },
            OptSpec { name: "ema", help: "decay of a moving average of G's weights that samples are drawn from (0: off)", default: "0", kind: OptKind::Float { min: 0.0, max: 0.99999 } },
            OptSpec { name: "decay-from", help: "keep the learning rates for this many iterations, then decay them linearly", default: "0", kind: OptKind::Int { min: 0, max: 1_000_000_000 } },
            OptSpec { name: "decay-steps", help: "iterations of linear learning-rate decay towards 0 (0: none)", default: "0", kind: OptKind::Int { min: 0, max: 1_000_000_000 } },
            OptSpec { name: "refine", help: "steps of latent refinement when sampling: z climbs D's logit of G(z) minus |z|²/2 (0: off)", default: "0", kind: OptKind::Int { min: 0, max: 1000 } },
            OptSpec { name: "refine-eta", help: "step size of the latent refinement", default: "0.02", kind: OptKind::Float { min: 0.0, max: 10.0 } },
            $($extra,)*
        ]
    };
}

/// `minimax train gan`: the original algorithm with MLPs on any data.
pub static GAN: MethodInfo = MethodInfo {
    name: "gan",
    help: "the original GAN algorithm with MLPs (any data; images are flattened)",
    about: "The original algorithm (Goodfellow et al. 2014): k steps of D's ascent on V, then one \
            step of G, with MLP networks. Trains on any data; on 1-D data the report sets the \
            true JSD beside D's estimate, on the ring and the grid it counts the modes.",
    takes: BatchKind::Unlabelled,
    default_data: "ring8",
    default_steps: 20000,
    holds_out: false,
    options: gan_options!(
        "256",
        "16",
        "1e-3",
        OptSpec {
            name: "hidden",
            help: "hidden units of both MLPs",
            default: "128",
            kind: OptKind::Int { min: 1, max: 4096 }
        }
    ),
    charts: CHARTS,
    build: build_gan,
};

/// `minimax train dcgan`: the original algorithm with DCGAN's convolutional pair.
pub static DCGAN: MethodInfo = MethodInfo {
    name: "dcgan",
    help: "the original algorithm with DCGAN's convolutional networks (8×8 or 28×28 images)",
    about: "The original algorithm with DCGAN's networks (Radford et al. 2016): transposed \
            convolutions with batch norm in G, strided convolutions in D. Trains on square \
            one-channel images of side 8 (the embedded digits) or 28 (an MNIST IDX file).",
    takes: BatchKind::Unlabelled,
    default_data: "digits",
    default_steps: 1500,
    holds_out: false,
    options: gan_options!(
        "64",
        "100",
        "2e-4",
        OptSpec {
            name: "channels",
            help: "c: channels of G's last hidden layer and D's first (2c in the others)",
            default: "64",
            kind: OptKind::Int { min: 1, max: 1024 }
        }
    ),
    charts: CHARTS,
    build: build_dcgan,
};

const CHARTS: &[(&str, &[&str])] = &[
    ("Losses", &["d_loss", "g_loss"]),
    (
        "V = mean ln D(x) + mean ln(1 − D(G(z))) on each batch",
        &["v"],
    ),
    ("D's JSD estimate (V + ln 4)/2 on each batch", &["jsd"]),
    ("D(x) and D(G(z))", &["d_real", "d_fake"]),
    (
        "Gradient norms ‖∇θd‖, ‖∇θg‖",
        &["grad_norm_d", "grad_norm_g"],
    ),
];

fn config(o: &Options) -> GanConfig {
    GanConfig {
        k: o.usize("k"),
        batch: o.usize("batch"),
        noise: Noise::parse(o.word("noise")).expect("checked"),
        z_dim: o.usize("z-dim"),
        lr_d: match o.f64("lr-d") {
            0.0 => o.f64("lr"),
            d => d,
        },
        lr_g: o.f64("lr"),
        loss: GanLoss::parse(o.word("loss")).expect("checked"),
        optimizer: OptimizerKind::Adam,
        ema: o.f64("ema"),
        decay_from: o.usize("decay-from"),
        decay_steps: o.usize("decay-steps"),
        refine: o.usize("refine"),
        refine_eta: o.f64("refine-eta"),
        ..GanConfig::default()
    }
}

fn finish(
    info: &'static MethodInfo,
    g: Box<dyn Module>,
    d: Box<dyn Module>,
    o: &Options,
    seed: u64,
) -> Result<Box<dyn Method>, String> {
    let mut gan = Gan::new(g, d, config(o), seed.wrapping_add(1)).map_err(|e| e.to_string())?;
    gan.info = info;
    Ok(Box::new(gan))
}

fn build_gan(o: &Options, data: &DataInfo, seed: u64) -> Result<Box<dyn Method>, String> {
    let mut rng = Rng::seed(seed);
    let shape = &data.shape;
    let dim: usize = shape.iter().product();
    let hidden = o.usize("hidden");
    let g = models::mlp_generator(o.usize("z-dim"), hidden, dim, &mut rng);
    let d = models::mlp_discriminator(dim, hidden, &mut rng);
    let (g, d): (Box<dyn Module>, Box<dyn Module>) = if shape.len() == 1 {
        (Box::new(g), Box::new(d))
    } else {
        (
            Box::new(Sequential::new().add(g).add(Unflatten::new(1, shape))),
            Box::new(Sequential::new().add(Flatten::new()).add(d)),
        )
    };
    finish(&GAN, g, d, o, seed)
}

fn build_dcgan(o: &Options, data: &DataInfo, seed: u64) -> Result<Box<dyn Method>, String> {
    let mut rng = Rng::seed(seed);
    match data.shape[..] {
        [1, h, w] if h == w && (h == 8 || h == 28) => {
            let base = h / 4;
            let c = o.usize("channels");
            let g = models::dcgan_generator(o.usize("z-dim"), base, c, &mut rng);
            let d = models::dcgan_discriminator(base, c, &mut rng);
            nn::init::init_dcgan(&g, &mut rng);
            nn::init::init_dcgan(&d, &mut rng);
            finish(&DCGAN, Box::new(g), Box::new(d), o, seed)
        }
        _ => Err(format!(
            "dcgan needs 1-channel square images of side 8 or 28, but the data's samples have shape {:?} (use `minimax train gan` for other data)",
            data.shape
        )),
    }
}
