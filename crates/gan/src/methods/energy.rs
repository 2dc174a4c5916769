//! The discriminator alone as an energy function, trained iteratively.
//!
//! ```text
//! initialise θd
//! each round:
//!   x̃⁰ = noise U(−r, r)ᵈ                 (or last round's x̃, "persistent", some restarted)
//!   repeat T times:                       (gradient ascent on the input: x̃ ≈ argmaxₓ D(x))
//!     x̃ ← clamp(x̃ + η ∇ₓ D(x̃), −r, r)     (D frozen, x̃ detached; the clamp is optional)
//!   sample m real examples x
//!   L = −(1/m Σ D(xⁱ) − 1/m Σ D(x̃ⁱ)) + λ (1/m Σ D(xⁱ)² + 1/m Σ D(x̃ⁱ)²)
//!   θd ← θd − η_d ∇L   (Adam by default)   (real data up, negatives down, D² keeps D bounded)
//! ```
//!
//! [`EnergyModel::round`] is that box. There is no generator: each round solves (approximately)
//! x̃ = argmaxₓ D(x) by T gradient steps — the negatives are where the previous D is most
//! wrong, and the update pushes D down there. Training is done when the negatives match the
//! data. The tutorial's point is the cost: every round pays T forward-and-backward passes through
//! D for its negatives ([`EnergyRecord::grad_evals`], [`EnergyRecord::ascent_seconds`]), where a
//! GAN's generator amortises the argmax into one forward pass G(z).
//!
//! The λ·D² term (Du & Mordatch 2019 use the same one on the energy) keeps the scores bounded:
//! without it, E D(x) − E D(x̃) can grow without limit by scaling D. D must score every sample
//! independently (no batch norm), so that the gradient of Σᵢ D(x̃ⁱ) with respect to x̃ⁱ is
//! ∇ₓD(x̃ⁱ).
//!
//! `docs/energy.md` has the measured figures on the ring of 8: how quality and cost grow with
//! T, persistent against noise starts, and the settings that did not work.

use crate::data::{BatchKind, Data, DataSpec, Dataset};
use crate::method::{
    finite, update, DataInfo, Method, MethodInfo, OptKind, OptSpec, OptimizerKind, Options, Record,
    TrainError,
};
use crate::metrics::{ModeReport, Modes};
use crate::models::mlp_discriminator;
use autograd::{grad, no_grad, Tape};
use nn::optim::{compute_gradients, OptimError};
use nn::{Module, Optimizer};
use std::time::Instant;
use tensor::{DType, Rng, Tensor};

/// Where each round's gradient ascent starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Fresh noise every round.
    Noise,
    /// Last round's negatives (persistent chains), a fraction of them restarted from noise.
    Persistent,
}

impl Start {
    /// The CLI name (`"noise"` or `"persistent"`).
    pub fn name(self) -> &'static str {
        match self {
            Start::Noise => "noise",
            Start::Persistent => "persistent",
        }
    }
}

/// Hyperparameters of the iterative energy training.
#[derive(Clone, Debug)]
pub struct EnergyConfig {
    /// T, gradient-ascent steps per round.
    pub t: usize,
    /// η, the ascent step size on x.
    pub eta: f64,
    /// Rounds to train (what [`train_energy`] runs).
    pub rounds: usize,
    /// Batch size m (real examples and negatives per round).
    pub batch: usize,
    /// Hidden units of D ([`mlp_discriminator`], the vanilla GAN's D).
    pub hidden: usize,
    /// D's learning rate η_d.
    pub lr: f64,
    /// Adam's (β₁, β₂).
    pub betas: (f64, f64),
    /// D's update rule.
    pub optimizer: OptimizerKind,
    /// λ, the weight of the D² penalty.
    pub penalty: f64,
    /// Where the ascent starts.
    pub start: Start,
    /// With [`Start::Persistent`], the fraction of chains restarted from noise each round
    /// (0 keeps every chain; 1 is the same as [`Start::Noise`]).
    pub restart: f64,
    /// r: noise is U(−r, r) per coordinate. The box must cover the data (the ring lies in
    /// [−1, 1]², the grid of 25 in [−4, 4]²).
    pub init_range: f64,
    /// Clamp the negatives to the noise box [−r, r] after every ascent step.
    pub clamp: bool,
}

impl Default for EnergyConfig {
    /// Tuned on the ring of 8 (see `docs/energy.md`): T = 10 steps of η = 0.05 from persistent
    /// chains (20 % restarted each round), clamped to the noise box U(−2, 2)²; 2,000 rounds of
    /// batch 128; D the GAN's 2 → 64 → 64 → 1 LeakyReLU(0.2) MLP with Adam 1e-3, betas (0.5,
    /// 0.999); λ = 1.
    fn default() -> Self {
        EnergyConfig {
            t: 10,
            eta: 0.05,
            rounds: 2000,
            batch: 128,
            hidden: 64,
            lr: 1e-3,
            betas: (0.5, 0.999),
            optimizer: OptimizerKind::Adam,
            penalty: 1.0,
            start: Start::Persistent,
            restart: 0.2,
            init_range: 2.0,
            clamp: true,
        }
    }
}

/// T steps of gradient ascent x ← x + η ∇ₓD(x) from `x0` `[N, …]`; returns the final points.
/// With `bound = Some(r)` every step is followed by clamping each coordinate to [−r, r]
/// (projected gradient ascent), so points cannot run off where nothing constrains D.
///
/// Each step records D on a fresh tape with the points as a leaf and D's parameters frozen (so
/// they are constants and get no gradient), and takes ∇ₓ Σᵢ D(xᵢ) with [`autograd::grad`]: the
/// points are detached from everything before them. D's parameters are unfrozen afterwards.
/// Costs T forward and backward passes of D on N points.
pub fn ascend(d: &dyn Module, x0: &Tensor, t: usize, eta: f64, bound: Option<f64>) -> Tensor {
    d.set_requires_grad(false);
    let mut x = x0.clone();
    for _ in 0..t {
        let tape = Tape::new();
        let xv = tape.leaf(x.clone());
        let score = d.forward(&xv).sum_all();
        let g = grad(&[&score], &[&xv], None, false);
        x = x.add(&g[0].value().mul_scalar(eta));
        if let Some(r) = bound {
            x = x.clamp(-r, r);
        }
    }
    d.set_requires_grad(true);
    x
}

/// What one round measured.
#[derive(Clone, Debug, PartialEq)]
pub struct EnergyRecord {
    /// Round number (1-based).
    pub round: usize,
    /// E D(x) on the real batch (before the update).
    pub d_real: f64,
    /// E D(x̃⁰), the negatives' starting points, before the ascent.
    pub d_start: f64,
    /// E D(x̃) after the T ascent steps (before the update).
    pub d_neg: f64,
    /// L = E D(x̃) − E D(x) + λ·(E D(x)² + E D(x̃)²).
    pub loss: f64,
    /// The penalty term E D(x)² + E D(x̃)² (unweighted).
    pub penalty: f64,
    /// Mean distance of the starting points to the nearest mode.
    pub start_mode_dist: f64,
    /// Mean distance of the negatives to the nearest mode.
    pub neg_mode_dist: f64,
    /// PacGAN's mode report of the negatives (on the m negatives of this round).
    pub modes: ModeReport,
    /// Gradient evaluations ∇ₓD(x̃ⁱ) this round: T·m (T forward+backward passes of m points).
    pub grad_evals: usize,
    /// Gradient evaluations since training began.
    pub total_grad_evals: usize,
    /// Wall time of the T ascent steps, in seconds.
    pub ascent_seconds: f64,
    /// Wall time of the whole round, in seconds.
    pub seconds: f64,
}

impl EnergyRecord {
    /// The CSV header matching [`EnergyRecord::csv_row`].
    pub const CSV_HEADER: &'static str = "round,d_real,d_start,d_neg,loss,penalty,start_mode_dist,neg_mode_dist,modes_covered,high_quality_frac,reverse_kl,grad_evals,total_grad_evals,ascent_seconds,seconds";
    /// One CSV row.
    pub fn csv_row(&self) -> String {
        format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{:.6},{:.6}",
            self.round,
            self.d_real,
            self.d_start,
            self.d_neg,
            self.loss,
            self.penalty,
            self.start_mode_dist,
            self.neg_mode_dist,
            self.modes.modes_covered,
            self.modes.high_quality_frac,
            self.modes.reverse_kl,
            self.grad_evals,
            self.total_grad_evals,
            self.ascent_seconds,
            self.seconds
        )
    }
}

/// What [`EnergyModel::update_d`] computed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UpdateTerms {
    /// E D(x).
    pub d_real: f64,
    /// E D(x̃).
    pub d_neg: f64,
    /// E D(x)² + E D(x̃)².
    pub penalty: f64,
    /// L = E D(x̃) − E D(x) + λ·penalty.
    pub loss: f64,
}

/// D, its optimizer, the persistent negatives and the generator of all random draws.
pub struct EnergyModel {
    /// D: points → one score per point (higher = more like the data).
    pub d: Box<dyn Module>,
    /// D's optimizer (minimises L).
    pub opt: Box<dyn Optimizer>,
    /// Hyperparameters.
    pub cfg: EnergyConfig,
    /// Every random draw of training comes from here.
    pub rng: Rng,
    /// Rounds done.
    pub round: usize,
    /// Last round's negatives (the persistent chains), if any.
    pub negatives: Option<Tensor>,
    /// Gradient evaluations ∇ₓD(x̃ⁱ) so far.
    pub total_grad_evals: usize,
}

impl EnergyModel {
    /// Trains `d` with `cfg`; `seed` seeds the training generator.
    pub fn new(
        d: Box<dyn Module>,
        cfg: EnergyConfig,
        seed: u64,
    ) -> Result<EnergyModel, OptimError> {
        let opt = cfg
            .optimizer
            .build(d.named_params(), cfg.lr, cfg.betas, false)?;
        Ok(EnergyModel {
            d,
            opt,
            cfg,
            rng: Rng::seed(seed),
            round: 0,
            negatives: None,
            total_grad_evals: 0,
        })
    }

    /// D = [`mlp_discriminator`]`(in_dim, cfg.hidden)` (the vanilla GAN's D), initialised from
    /// `Rng::seed(seed)`, trained with `cfg` (training draws from `Rng::seed(seed + 1)`).
    pub fn mlp(in_dim: usize, cfg: EnergyConfig, seed: u64) -> Result<EnergyModel, OptimError> {
        let d = mlp_discriminator(in_dim, cfg.hidden, &mut Rng::seed(seed));
        EnergyModel::new(Box::new(d), cfg, seed.wrapping_add(1))
    }

    fn noise(&mut self, m: usize, shape: &[usize]) -> Tensor {
        let mut dims = vec![m];
        dims.extend_from_slice(shape);
        let r = self.cfg.init_range;
        Tensor::rand_uniform(dims, -r, r, DType::F32, &mut self.rng)
    }

    /// The starting points x̃⁰ of this round's ascent: fresh noise, or the persistent chains
    /// with each restarted from noise with probability `restart` (all noise on the first round).
    pub fn starting_points(&mut self, m: usize, shape: &[usize]) -> Tensor {
        let fresh = self.noise(m, shape);
        let chains = match (self.cfg.start, &self.negatives) {
            (Start::Persistent, Some(prev)) if prev.dims()[0] == m => prev.clone(),
            _ => return fresh,
        };
        let keep: Vec<f32> = (0..m)
            .map(|_| {
                if self.rng.uniform() < self.cfg.restart {
                    0.0
                } else {
                    1.0
                }
            })
            .collect();
        let mut kdims = vec![1; chains.ndim()];
        kdims[0] = m;
        let keep = Tensor::from_vec(keep, kdims);
        let restart = keep.neg().add_scalar(1.0);
        chains.mul(&keep).add(&fresh.mul(&restart))
    }

    fn bound(&self) -> Option<f64> {
        self.cfg.clamp.then_some(self.cfg.init_range)
    }

    /// One round: negatives by T ascent steps from [`EnergyModel::starting_points`], m real
    /// examples from `data`, one D update ([`EnergyModel::update_d`]); negatives are scored
    /// against `modes` (2-D data only).
    pub fn round(&mut self, data: &dyn Dataset, modes: &Modes) -> Result<EnergyRecord, TrainError> {
        let t0 = Instant::now();
        self.round += 1;
        let m = self.cfg.batch;
        let x0 = self.starting_points(m, &data.sample_shape());
        let d_start = self.score(&x0).mean_all().item();
        let ta = Instant::now();
        let neg = ascend(self.d.as_dyn(), &x0, self.cfg.t, self.cfg.eta, self.bound());
        let ascent_seconds = ta.elapsed().as_secs_f64();
        let grad_evals = self.cfg.t * m;
        self.total_grad_evals += grad_evals;
        finite(self.round, "negatives' mean", neg.mean_all().item())?;
        let x = data.sample(m, &mut self.rng);
        let u = self.update_d(&x, &neg)?;
        let rec = EnergyRecord {
            round: self.round,
            d_real: u.d_real,
            d_start,
            d_neg: u.d_neg,
            loss: u.loss,
            penalty: u.penalty,
            start_mode_dist: modes.mean_distance(&x0),
            neg_mode_dist: modes.mean_distance(&neg),
            modes: modes.report(&neg),
            grad_evals,
            total_grad_evals: self.total_grad_evals,
            ascent_seconds,
            seconds: 0.0,
        };
        self.negatives = Some(neg);
        Ok(EnergyRecord {
            seconds: t0.elapsed().as_secs_f64(),
            ..rec
        })
    }

    /// One D update on real examples `x` and negatives `neg` (constants: nothing flows back
    /// into the ascent): minimise
    /// L = E D(x̃) − E D(x) + λ·(E D(x)² + E D(x̃)²), i.e. maximise E D(x) − E D(x̃) with the
    /// scores kept bounded.
    pub fn update_d(&mut self, x: &Tensor, neg: &Tensor) -> Result<UpdateTerms, TrainError> {
        let (d, lambda, round) = (&self.d, self.cfg.penalty, self.round);
        let u = compute_gradients(self.opt.as_ref(), |tape| {
            let real = d.forward(&tape.constant(x.clone()));
            let fake = d.forward(&tape.constant(neg.clone()));
            let (er, ef) = (real.mean_all(), fake.mean_all());
            let penalty = real.square().mean_all().add(&fake.square().mean_all());
            let loss = ef.sub(&er).add(&penalty.mul_scalar(lambda));
            let u = UpdateTerms {
                d_real: finite(round, "D(x)", er.item())?,
                d_neg: finite(round, "D(x̃)", ef.item())?,
                penalty: penalty.item(),
                loss: finite(round, "D loss", loss.item())?,
            };
            Ok((loss, u))
        })?;
        update(self.opt.as_mut(), self.round, "D")?;
        Ok(u)
    }

    /// D's scores on `x`, without recording.
    pub fn score(&self, x: &Tensor) -> Tensor {
        let _off = no_grad();
        self.d
            .forward(&Tape::new().constant(x.clone()))
            .value()
            .clone()
    }

    /// `n` samples of the trained energy model: T ascent steps (the configured T and η) from
    /// fresh noise U(−r, r) drawn with `rng`. Returns the samples and the gradient evaluations
    /// they cost (T·n).
    pub fn sample(&self, n: usize, shape: &[usize], rng: &mut Rng) -> (Tensor, usize) {
        self.sample_with(n, shape, self.cfg.t, rng)
    }

    /// [`EnergyModel::sample`] with `t` ascent steps instead of the configured T.
    pub fn sample_with(
        &self,
        n: usize,
        shape: &[usize],
        t: usize,
        rng: &mut Rng,
    ) -> (Tensor, usize) {
        let mut dims = vec![n];
        dims.extend_from_slice(shape);
        let r = self.cfg.init_range;
        let x0 = Tensor::rand_uniform(dims, -r, r, DType::F32, rng);
        (
            ascend(self.d.as_dyn(), &x0, t, self.cfg.eta, self.bound()),
            t * n,
        )
    }
}

/// Trains [`EnergyModel::mlp`] for `cfg.rounds` rounds on 2-D `data` (e.g. [`crate::data::Ring8`] with
/// [`Modes::ring8`]), reporting every round to `on_record` (`minimax train energy` runs
/// [`EnergyRun`] in the run loop instead).
pub fn train_energy(
    cfg: EnergyConfig,
    data: &dyn Dataset,
    modes: &Modes,
    seed: u64,
    on_record: &mut dyn FnMut(&EnergyRecord),
) -> Result<EnergyModel, TrainError> {
    let in_dim = data.sample_shape().iter().product();
    let rounds = cfg.rounds;
    let mut em = EnergyModel::mlp(in_dim, cfg, seed).map_err(|error| TrainError::Optim {
        step: 0,
        net: "D",
        error,
    })?;
    for _ in 0..rounds {
        let r = em.round(data, modes)?;
        on_record(&r);
    }
    Ok(em)
}

// ---------------------------------------------------------------------------------------------
// `minimax train energy`
// ---------------------------------------------------------------------------------------------

impl EnergyRecord {
    /// The figures as a [`Record`] (the columns of `metrics.csv`).
    pub fn to_record(&self) -> Record {
        let mut r = Record::new();
        r.show("d_real", self.d_real)
            .log("d_start", self.d_start)
            .show("d_neg", self.d_neg)
            .log("loss", self.loss)
            .log("penalty", self.penalty)
            .log("start_mode_dist", self.start_mode_dist)
            .show("neg_mode_dist", self.neg_mode_dist)
            .log("modes_covered", self.modes.modes_covered as f64)
            .log("high_quality_frac", self.modes.high_quality_frac)
            .log("reverse_kl", self.modes.reverse_kl)
            .log("grad_evals", self.grad_evals as f64)
            .log("total_grad_evals", self.total_grad_evals as f64)
            .log("ascent_seconds", self.ascent_seconds);
        r
    }
}

/// The energy model as a [`Method`]: the model, the modes its negatives are scored against and
/// the shape of one example.
pub struct EnergyRun {
    /// D, its optimizer and the persistent chains.
    pub model: EnergyModel,
    modes: Modes,
    shape: Vec<usize>,
}

impl Method for EnergyRun {
    fn info(&self) -> &'static MethodInfo {
        &ENERGY
    }
    fn step(&mut self, data: &Data) -> Result<Record, TrainError> {
        self.model
            .round(data.train.as_ref(), &self.modes)
            .map(|r| r.to_record())
    }
    fn networks(&self) -> Vec<(&'static str, &dyn Module)> {
        vec![("disc", self.model.d.as_dyn())]
    }
    fn optimizers(&self) -> Vec<(&'static str, &dyn Optimizer)> {
        vec![("d", self.model.opt.as_ref())]
    }
    fn optimizers_mut(&mut self) -> Vec<(&'static str, &mut dyn Optimizer)> {
        vec![("d", self.model.opt.as_mut())]
    }
    fn rng(&self) -> &Rng {
        &self.model.rng
    }
    fn set_rng(&mut self, rng: Rng) {
        self.model.rng = rng;
    }
    fn iterations(&self) -> usize {
        self.model.round
    }
    fn set_iterations(&mut self, n: usize) {
        self.model.round = n;
    }
    fn state(&self) -> Vec<(String, Tensor)> {
        let mut v = vec![(
            "total_grad_evals".to_string(),
            Tensor::from_vec(vec![self.model.total_grad_evals as f64], [1]),
        )];
        if let Some(n) = &self.model.negatives {
            v.push(("negatives".to_string(), n.clone()));
        }
        v
    }
    fn restore_state(&mut self, state: &[(String, Tensor)]) -> Result<(), String> {
        self.model.negatives = None;
        for (name, t) in state {
            match name.as_str() {
                "total_grad_evals" if t.numel() == 1 => {
                    let v = t.to_vec_f64()[0];
                    if !(v >= 0.0 && v <= 1e15 && v.fract() == 0.0) {
                        return Err(format!("total_grad_evals is {v}, not a count"));
                    }
                    self.model.total_grad_evals = v as usize;
                }
                "negatives" => {
                    let mut want = vec![self.model.cfg.batch];
                    want.extend_from_slice(&self.shape);
                    if t.dims() != want.as_slice() || t.dtype() != tensor::DType::F32 {
                        return Err(format!(
                            "the persistent negatives are {:?} {}, expected {want:?} f32",
                            t.dims(),
                            t.dtype()
                        ));
                    }
                    self.model.negatives = Some(t.clone());
                }
                other => return Err(format!("unknown state '{other}'")),
            }
        }
        Ok(())
    }
    fn sample(&self, n: usize, rng: &mut Rng) -> Option<Tensor> {
        Some(self.model.sample(n, &self.shape, rng).0)
    }
    fn evaluate(&self, _data: &Data) -> Vec<(String, String)> {
        vec![
            (
                "gradient evaluations per sample drawn (T)".into(),
                self.model.cfg.t.to_string(),
            ),
            (
                "total gradient evaluations in training".into(),
                self.model.total_grad_evals.to_string(),
            ),
        ]
    }
}

fn build_energy(o: &Options, data: &DataInfo, seed: u64) -> Result<Box<dyn Method>, String> {
    let modes = DataSpec::parse(&data.spec)
        .and_then(|s| s.open().ok())
        .and_then(|d| d.train.modes())
        .ok_or_else(|| {
            format!(
                "train energy: the energy model is measured against known modes (--data ring8 or grid25), and {} has none",
                data.spec
            )
        })?;
    let cfg = EnergyConfig {
        t: o.usize("t"),
        eta: o.f64("eta"),
        batch: o.usize("batch"),
        hidden: o.usize("hidden"),
        lr: o.f64("lr"),
        penalty: o.f64("penalty"),
        start: if o.word("start") == "noise" {
            Start::Noise
        } else {
            Start::Persistent
        },
        restart: o.f64("restart"),
        init_range: o.f64("range"),
        clamp: !o.switch("no-clamp"),
        ..EnergyConfig::default()
    };
    let in_dim = data.shape.iter().product();
    let model = EnergyModel::mlp(in_dim, cfg, seed).map_err(|e| e.to_string())?;
    Ok(Box::new(EnergyRun {
        model,
        modes,
        shape: data.shape.clone(),
    }))
}

/// `minimax train energy`: the discriminator alone, sampled by gradient ascent.
pub static ENERGY: MethodInfo = MethodInfo {
    name: "energy",
    help: "the discriminator alone as an energy, its negatives found by gradient ascent (ring8, grid25)",
    about: "The discriminator alone as an energy function: each round finds negatives by T \
            steps of gradient ascent on D's input, then pushes D up on real data and down on \
            the negatives. One iteration is one round.",
    takes: BatchKind::Unlabelled,
    default_data: "ring8",
    default_steps: 2000,
    holds_out: false,
    options: &[
        OptSpec { name: "t", help: "T, ascent steps per round", default: "10", kind: OptKind::Int { min: 1, max: 10000 } },
        OptSpec { name: "eta", help: "η, the ascent step size on x", default: "0.05", kind: OptKind::Float { min: 0.0, max: 100.0 } },
        OptSpec { name: "batch", help: "real examples and negatives per round", default: "128", kind: OptKind::Int { min: 1, max: 65536 } },
        OptSpec { name: "hidden", help: "hidden units of D", default: "64", kind: OptKind::Int { min: 1, max: 4096 } },
        OptSpec { name: "lr", help: "D's learning rate (Adam, betas 0.5, 0.999)", default: "1e-3", kind: OptKind::Float { min: 0.0, max: 10.0 } },
        OptSpec { name: "penalty", help: "λ, the weight of the D² penalty", default: "1", kind: OptKind::Float { min: 0.0, max: 1e6 } },
        OptSpec { name: "start", help: "where each round's ascent starts", default: "persistent", kind: OptKind::Choice(&["persistent", "noise"]) },
        OptSpec { name: "restart", help: "fraction of persistent chains restarted from noise each round", default: "0.2", kind: OptKind::Float { min: 0.0, max: 1.0 } },
        OptSpec { name: "range", help: "r: starting noise is U(−r, r) per coordinate", default: "2", kind: OptKind::Float { min: 0.0, max: 1e6 } },
        OptSpec { name: "no-clamp", help: "do not clamp the negatives to [−r, r]", default: "false", kind: OptKind::Switch },
    ],
    charts: &[
        ("E D(x) and E D(x̃)", &["d_real", "d_neg"]),
        ("Negatives' mean distance to the modes", &["start_mode_dist", "neg_mode_dist"]),
        ("High-quality fraction of the negatives", &["high_quality_frac"]),
    ],
    build: build_energy,
};
