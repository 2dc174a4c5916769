//! The one interface every training method implements, the static list of method descriptions
//! that registers them, and the pieces the methods share (noise, training errors, records,
//! options).
//!
//! A method is one file in [`crate::methods`]: its algorithm box as the module doc, a config with
//! its defaults, the networks it builds, and one [`Method::step`] that performs an iteration and
//! returns a [`Record`] of named figures. Everything else — data, the loop, progress,
//! checkpoints, resume, NaN stops, `metrics.csv`, samples, the report — is the run loop's
//! ([`crate::run`]), the same for every method. `docs/architecture.md` walks through adding one.
//!
//! A method is registered by one [`MethodInfo`] in [`crate::methods::METHODS`]: its name, help,
//! options and the kind of batch it takes. The command line and the run loop look methods up
//! there and never name one.

use crate::data::{BatchKind, Data};
use nn::optim::{AdamConfig, OptimError, SgdConfig};
use nn::{Adam, Module, Optimizer, Sgd};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use tensor::{DType, Rng, Tensor};

// ---------------------------------------------------------------------------------------------
// The interface
// ---------------------------------------------------------------------------------------------

/// A training method: networks, their optimizers, a generator of random draws and one
/// iteration of the method's algorithm.
pub trait Method {
    /// The description this method was built from.
    fn info(&self) -> &'static MethodInfo;

    /// One iteration of the algorithm, drawing every batch from `data` and every random number
    /// from the method's own generator ([`Method::rng`]). Returns the iteration's figures.
    fn step(&mut self, data: &Data) -> Result<Record, TrainError>;

    /// The networks, each under its own name (the checkpoint keys' first component).
    fn networks(&self) -> Vec<(&'static str, &dyn Module)>;

    /// The optimizers, each under its own name.
    fn optimizers(&self) -> Vec<(&'static str, &dyn Optimizer)>;

    /// The optimizers, mutably (for restoring their state), in the order of
    /// [`Method::optimizers`].
    fn optimizers_mut(&mut self) -> Vec<(&'static str, &mut dyn Optimizer)>;

    /// The generator of every random draw of training (saved in checkpoints).
    fn rng(&self) -> &Rng;

    /// Replaces the training generator (when a run resumes).
    fn set_rng(&mut self, rng: Rng);

    /// Iterations done.
    fn iterations(&self) -> usize;

    /// Sets the iteration counter (when a run resumes).
    fn set_iterations(&mut self, n: usize);

    /// State besides networks, optimizers and the generator that a resumed run needs to
    /// continue bit for bit (the energy model's persistent chains, a history pool), by name.
    fn state(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// Restores what [`Method::state`] returned (called after [`Method::set_iterations`]).
    fn restore_state(&mut self, state: &[(String, Tensor)]) -> Result<(), String> {
        match state.first() {
            None => Ok(()),
            Some((name, _)) => Err(format!("this method keeps no state named '{name}'")),
        }
    }

    /// `n` samples drawn with `rng` in evaluation mode, shaped like the data (`[n, …]`, images
    /// in [−1, 1]), or `None` if the method does not generate.
    fn sample(&self, _n: usize, _rng: &mut Rng) -> Option<Tensor> {
        None
    }

    /// The number of classes the method generates from (0 for an unconditional method).
    fn classes(&self) -> usize {
        0
    }

    /// One sample of each class in `labels` (`[labels.len(), …]`), drawn with `rng` in
    /// evaluation mode; `None` for an unconditional method.
    fn sample_classes(&self, _labels: &[usize], _rng: &mut Rng) -> Option<Tensor> {
        None
    }

    /// `n` samples of the condition written `spec` on the command line (`minimax sample
    /// --condition`): by default a class number; a method with richer conditions reads its own
    /// words. `None` for an unconditional method; `Err` names what is wrong with `spec`.
    fn sample_condition(
        &self,
        spec: &str,
        n: usize,
        rng: &mut Rng,
    ) -> Option<Result<Tensor, String>> {
        let k = self.classes();
        if k == 0 {
            return None;
        }
        Some(match spec.parse::<usize>().ok().filter(|&c| c < k) {
            Some(c) => self
                .sample_classes(&vec![c; n], rng)
                .ok_or_else(|| "this method does not sample classes".to_string()),
            None => Err(format!(
                "--condition expects a class from 0 to {}, got '{spec}'",
                k - 1
            )),
        })
    }

    /// The probability D gives that each point of `x` is real (a sigmoid discriminator), for
    /// drawing D's decision surface; `None` if the method has no such D.
    fn discriminate(&self, _x: &Tensor) -> Option<Tensor> {
        None
    }

    /// B for each A of `x` (`[N, …]` in [−1, 1], the data's first domain) for a method that
    /// translates, in evaluation mode; `None` otherwise.
    fn translate(&self, _x: &Tensor) -> Option<Tensor> {
        None
    }

    /// X for each example of domain Y in `y`, for a method that translates both ways; `None`
    /// otherwise.
    fn translate_reverse(&self, _y: &Tensor) -> Option<Tensor> {
        None
    }

    /// The codes `[N, d]` of examples `x` (`[N, …]` in [−1, 1]) of domain `domain` (0 for X, 1
    /// for Y), for a method that encodes into a latent space, in evaluation mode; `None` for a
    /// method without one or a domain it does not have.
    fn encode(&self, _x: &Tensor, _domain: usize) -> Option<Tensor> {
        None
    }

    /// The names of the attributes [`Method::translate_to`] reads, in the order of its
    /// `attrs` (StarGAN's `["bold", "italic", "serif"]`); empty for a method that does not
    /// translate to attributes (the default).
    fn attribute_names(&self) -> &'static [&'static str] {
        &[]
    }

    /// Each image of `x` (`[N, …]` in [−1, 1]) translated to the domain with attributes
    /// `attrs` (one 0/1 value per name of [`Method::attribute_names`], the same for every
    /// image), in evaluation mode; `None` for a method that does not translate to attributes
    /// or for `attrs` of the wrong length.
    fn translate_to(&self, _x: &Tensor, _attrs: &[f32]) -> Option<Tensor> {
        None
    }

    /// Pictures only this method can draw (a PatchGAN's map, its codes in a plane), with their
    /// captions, for the report: an image as it is, or a plot inside axes.
    fn pictures(&self, _data: &Data) -> Vec<(String, crate::report::Picture)> {
        Vec::new()
    }

    /// Files only this method writes beside `samples.npy`, for the samples of `labels` drawn
    /// with `rng` (the generator as it was before those samples were drawn, so the method can
    /// draw the same ones again): StackGAN's stage-I images and requested styles.
    fn files(&self, _labels: &[usize], _rng: &mut Rng) -> Vec<(String, nn::format::RawTensor)> {
        Vec::new()
    }

    /// Final figures only this method has (a held-out reconstruction error, a cost count),
    /// as (what, value). The figures that depend on the data are the run loop's.
    fn evaluate(&self, _data: &Data) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// Implements [`Method::rng`], [`Method::set_rng`], [`Method::iterations`] and
/// [`Method::set_iterations`] inside `impl Method for …` for a method that keeps its generator in
/// a field `rng` and its iteration count in a field `step` (what every method here does).
#[macro_export]
macro_rules! rng_and_step {
    () => {
        fn rng(&self) -> &Rng {
            &self.rng
        }
        fn set_rng(&mut self, rng: Rng) {
            self.rng = rng;
        }
        fn iterations(&self) -> usize {
            self.step
        }
        fn set_iterations(&mut self, n: usize) {
            self.step = n;
        }
    };
}

/// What a method is, for the command line and the run loop: the only place a method is
/// registered ([`crate::methods::METHODS`]).
pub struct MethodInfo {
    /// The name on the command line (`minimax train NAME`) and in checkpoints.
    pub name: &'static str,
    /// One line for `minimax train --help`.
    pub help: &'static str,
    /// A paragraph for `minimax train NAME --help`.
    pub about: &'static str,
    /// The kind of batch its step takes.
    pub takes: BatchKind,
    /// The data it trains on when `--data` is not given.
    pub default_data: &'static str,
    /// Iterations when `--steps` is not given.
    pub default_steps: usize,
    /// Whether it trains on part of the data and is measured on the rest ([`Data::test`]).
    pub holds_out: bool,
    /// Its own options (besides the run loop's `--data`, `--steps`, `--seed`, `--out`,
    /// `--resume`, `--log-every`, `--threads`).
    pub options: &'static [OptSpec],
    /// The charts of the report: a title and the record keys drawn on it.
    pub charts: &'static [(&'static str, &'static [&'static str])],
    /// Builds the method for data of the given kind with these options, its networks drawn
    /// from `seed`; refuses data it cannot train on with a message a person can act on.
    pub build: fn(&Options, &DataInfo, u64) -> Result<Box<dyn Method>, String>,
}

impl fmt::Debug for MethodInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MethodInfo")
            .field("name", &self.name)
            .finish()
    }
}

impl MethodInfo {
    /// The help text of `minimax train NAME --help`: the paragraph and every option with its
    /// default.
    pub fn usage(&self) -> String {
        let mut s = format!(
            "usage: minimax train {} [OPTIONS]\n\n{}\n\nIts options:\n",
            self.name, self.about
        );
        for o in self.options {
            let (arg, default) = match o.kind {
                OptKind::Switch => (String::new(), String::new()),
                _ => (
                    format!(" {}", o.kind.metavar()),
                    format!(" (default {})", o.default),
                ),
            };
            s.push_str(&format!("  --{}{arg}\n      {}{default}\n", o.name, o.help));
        }
        s.push_str(&format!(
            "\nAnd the options of every run (default data {}, {} iterations): --data, --steps, \
             --seed, --out, --resume, --log-every, --threads (see `minimax train --help`).",
            self.default_data, self.default_steps
        ));
        s
    }
}

/// What a method is built for: the data's name and the shape of one example.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataInfo {
    /// The `--data` spelling (`"digits"`, `"ring8"`, `"npy:PATH"`).
    pub spec: String,
    /// The shape of one example (`[2]`, `[1, 8, 8]`).
    pub shape: Vec<usize>,
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

/// One named figure of an iteration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Figure {
    /// Column name in `metrics.csv` (`"d_loss"`).
    pub key: &'static str,
    /// The value (NaN where the figure does not apply).
    pub value: f64,
    /// Whether the progress line shows it.
    pub shown: bool,
}

/// What one iteration measured: named figures, in a fixed order per method (the columns of
/// `metrics.csv`, after `step`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    /// The figures in column order.
    pub figures: Vec<Figure>,
}

impl Record {
    /// An empty record.
    pub fn new() -> Record {
        Record::default()
    }
    /// Adds a figure the progress line shows.
    pub fn show(&mut self, key: &'static str, value: f64) -> &mut Record {
        self.figures.push(Figure {
            key,
            value,
            shown: true,
        });
        self
    }
    /// Adds a figure that only goes to `metrics.csv` and the report.
    pub fn log(&mut self, key: &'static str, value: f64) -> &mut Record {
        self.figures.push(Figure {
            key,
            value,
            shown: false,
        });
        self
    }
    /// The value of `key`, if recorded.
    pub fn get(&self, key: &str) -> Option<f64> {
        self.figures.iter().find(|f| f.key == key).map(|f| f.value)
    }
    /// The column names, in order.
    pub fn keys(&self) -> Vec<&'static str> {
        self.figures.iter().map(|f| f.key).collect()
    }
    /// The shown figures as `key value` pairs for a progress line.
    pub fn summary(&self) -> String {
        self.figures
            .iter()
            .filter(|f| f.shown && !f.value.is_nan())
            .map(|f| format!("{} {:.4}", f.key, f.value))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

// ---------------------------------------------------------------------------------------------
// Training errors
// ---------------------------------------------------------------------------------------------

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

/// `value` if finite, else the [`TrainError::NonFinite`] naming `term` at iteration `step`.
pub fn finite(step: usize, term: &'static str, value: f64) -> Result<f64, TrainError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(TrainError::NonFinite { step, term, value })
    }
}

/// `opt.step()`, with a refusal reported as a [`TrainError::Optim`] naming the network.
pub fn update(opt: &mut dyn Optimizer, step: usize, net: &'static str) -> Result<(), TrainError> {
    opt.step()
        .map(|_| ())
        .map_err(|error| TrainError::Optim { step, net, error })
}

// ---------------------------------------------------------------------------------------------
// Noise and optimizers
// ---------------------------------------------------------------------------------------------

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
    /// Reads a CLI name.
    pub fn parse(s: &str) -> Option<Noise> {
        match s {
            "gaussian" => Some(Noise::Gaussian),
            "uniform" => Some(Noise::Uniform),
            _ => None,
        }
    }
}

/// Which update rule a network uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptimizerKind {
    /// Adam with the configured betas.
    Adam,
    /// Plain SGD (the tutorial's θ ← θ ± η∇).
    Sgd,
}

impl OptimizerKind {
    /// An optimizer of this kind over `params` with learning rate `lr` (Adam with `betas`),
    /// ascending when `maximize`.
    pub fn build(
        self,
        params: Vec<(String, nn::Param)>,
        lr: f64,
        betas: (f64, f64),
        maximize: bool,
    ) -> Result<Box<dyn Optimizer>, OptimError> {
        Ok(match self {
            OptimizerKind::Adam => Box::new(Adam::new(
                params,
                AdamConfig::default()
                    .lr(lr)
                    .betas(betas.0, betas.1)
                    .maximize(maximize),
            )?),
            OptimizerKind::Sgd => Box::new(Sgd::new(
                params,
                SgdConfig::default().lr(lr).maximize(maximize),
            )?),
        })
    }
}

/// Adam with DCGAN's betas (0.5, 0.999) and learning rate `lr` over `params` — the optimizer
/// of every adversarial network here (pass `module.named_params()` or [`nn::params_of`]).
pub fn gan_adam(params: Vec<(String, nn::Param)>, lr: f64) -> Result<Adam, OptimError> {
    Adam::new(params, AdamConfig::default().lr(lr).betas(0.5, 0.999))
}

/// `module` applied to `x` (`[N, …]`, N ≥ 1) in evaluation mode, without recording, in chunks
/// of 500 rows (then back in training mode): how a trained generator translates or encodes.
pub fn apply(module: &dyn Module, x: &Tensor) -> Tensor {
    module.eval();
    let _off = autograd::no_grad();
    let n = x.dims()[0];
    let mut parts = Vec::new();
    let mut done = 0;
    while done < n {
        let k = (n - done).min(500);
        let t = autograd::Tape::new();
        parts.push(
            module
                .forward(&t.constant(x.narrow(0, done, k).contiguous()))
                .value()
                .clone(),
        );
        done += k;
    }
    module.train(true);
    Tensor::cat(&parts.iter().collect::<Vec<_>>(), 0)
}

/// `n` (≥ 1) samples of a generator in evaluation mode, in batches of 500: G(z) with z drawn
/// from `noise` with `rng`.
pub fn sample_generator(
    g: &dyn Module,
    noise: Noise,
    z_dim: usize,
    n: usize,
    rng: &mut Rng,
) -> Tensor {
    sample_generator_from(g, noise, z_dim, n, rng, |z| z)
}

/// [`sample_generator`] with each batch of noise passed through `prepare` before G sees it
/// (recording is on inside `prepare`, so it may differentiate through G; G is in evaluation
/// mode throughout).
pub fn sample_generator_from(
    g: &dyn Module,
    noise: Noise,
    z_dim: usize,
    n: usize,
    rng: &mut Rng,
    prepare: impl Fn(Tensor) -> Tensor,
) -> Tensor {
    g.eval();
    let mut parts = Vec::new();
    let mut done = 0;
    while done < n {
        let m = (n - done).min(500);
        let z = prepare(noise.sample(m, z_dim, rng));
        let _off = autograd::no_grad();
        parts.push(
            g.forward(&autograd::Tape::new().constant(z))
                .value()
                .clone(),
        );
        done += m;
    }
    g.train(true);
    Tensor::cat(&parts.iter().collect::<Vec<_>>(), 0)
}

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

/// What values an option takes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptKind {
    /// A whole number in `min..=max`.
    Int {
        /// Smallest value.
        min: u64,
        /// Largest value (bounds what a command line or a checkpoint can make us allocate).
        max: u64,
    },
    /// A finite number in `min..=max`.
    Float {
        /// Smallest value.
        min: f64,
        /// Largest value.
        max: f64,
    },
    /// One of some words.
    Choice(&'static [&'static str]),
    /// A switch: present or not.
    Switch,
}

impl OptKind {
    fn metavar(&self) -> String {
        match self {
            OptKind::Int { .. } => "N".into(),
            OptKind::Float { .. } => "X".into(),
            OptKind::Choice(c) => c.join("|"),
            OptKind::Switch => String::new(),
        }
    }

    /// Checks `v`, returning it normalised, or the message after `--name `.
    fn check(&self, v: &str) -> Result<String, String> {
        match *self {
            OptKind::Int { min, max } => match v.parse::<u64>() {
                Ok(x) if (min..=max).contains(&x) => Ok(x.to_string()),
                _ => Err(format!(
                    "expects a whole number from {min} to {max}, got '{v}'"
                )),
            },
            OptKind::Float { min, max } => match v.parse::<f64>() {
                Ok(x) if x.is_finite() && x >= min && x <= max => Ok(v.to_string()),
                _ => Err(format!(
                    "expects a number from {min:e} to {max:e}, got '{v}'"
                )),
            },
            OptKind::Choice(c) => {
                if c.contains(&v) {
                    Ok(v.to_string())
                } else {
                    Err(format!("must be one of {}, got '{v}'", c.join("|")))
                }
            }
            OptKind::Switch => match v {
                "true" | "false" => Ok(v.to_string()),
                _ => Err(format!("is a switch (true or false), got '{v}'")),
            },
        }
    }
}

/// One option of a method: `--name`, its help, its default and what values it takes.
#[derive(Clone, Copy, Debug)]
pub struct OptSpec {
    /// Name without the leading `--`.
    pub name: &'static str,
    /// One line of help.
    pub help: &'static str,
    /// The default value (`"false"` for a switch).
    pub default: &'static str,
    /// What values it takes.
    pub kind: OptKind,
}

/// A method's options, every one checked against its [`OptSpec`] and defaulted where not
/// given. Stored in checkpoints as metadata `option.NAME`.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    method: &'static str,
    values: BTreeMap<&'static str, String>,
    given: BTreeSet<&'static str>,
}

impl Options {
    /// Checks `given` (name, value) pairs against `info`'s options (a switch's value is
    /// `"true"`), filling in the defaults. Errors name the option and what it expects.
    pub fn parse(info: &'static MethodInfo, given: &[(String, String)]) -> Result<Options, String> {
        let mut values = BTreeMap::new();
        let mut seen = BTreeSet::new();
        for (name, v) in given {
            let Some(spec) = info.options.iter().find(|o| o.name == name) else {
                return Err(format!("{} takes no option --{name}", info.name));
            };
            let v = spec.kind.check(v).map_err(|e| format!("--{name} {e}"))?;
            values.insert(spec.name, v);
            seen.insert(spec.name);
        }
        for o in info.options {
            values
                .entry(o.name)
                .or_insert_with(|| o.default.to_string());
        }
        Ok(Options {
            method: info.name,
            values,
            given: seen,
        })
    }

    /// The defaults of `info`.
    pub fn defaults(info: &'static MethodInfo) -> Options {
        Options::parse(info, &[]).expect("defaults are valid")
    }

    /// Every option as (name, value), in name order.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        self.values.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }

    /// Whether `name` was given (not defaulted).
    pub fn was_given(&self, name: &str) -> bool {
        self.given.contains(name)
    }

    #[track_caller]
    fn raw(&self, name: &str) -> &str {
        self.values.get(name).unwrap_or_else(|| {
            panic!(
                "Options: method '{}' declares no option '{name}'",
                self.method
            )
        })
    }

    /// A whole-number option (validated when parsed).
    #[track_caller]
    pub fn usize(&self, name: &str) -> usize {
        self.raw(name).parse().expect("validated when parsed")
    }

    /// A number option (validated when parsed).
    #[track_caller]
    pub fn f64(&self, name: &str) -> f64 {
        self.raw(name).parse().expect("validated when parsed")
    }

    /// A choice option's word.
    #[track_caller]
    pub fn word(&self, name: &str) -> &str {
        self.raw(name)
    }

    /// Whether a switch is on.
    #[track_caller]
    pub fn switch(&self, name: &str) -> bool {
        self.raw(name) == "true"
    }
}

/// The learning rate of iteration `t` (1-based) under a linear decay: `lr` until `from`, then
/// `lr · (1 − (t − from) / (steps + 1))` (PyTorch CycleGAN's rule: it never reaches exactly 0
/// within the decay), and 0 after it. `steps = 0` turns the decay off.
pub fn linear_decay(lr: f64, t: usize, from: usize, steps: usize) -> f64 {
    if steps == 0 || t <= from {
        return lr;
    }
    let k = (t - from) as f64 / (steps + 1) as f64;
    lr * (1.0 - k).max(0.0)
}
