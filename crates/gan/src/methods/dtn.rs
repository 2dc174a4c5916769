//! Unpaired translation with a pre-trained encoder that must agree — the Domain Transfer
//! Network (DTN, Taigman et al. 2017), the tutorial's second remedy.
//!
//! ```text
//! f: the feature layers of a digit classifier pre-trained on X (the printed digits, labels of X
//!    used here and only here), frozen
//! G = g ∘ f: f's 64 features → g, a DCGAN-style decoder → an 8×8 image
//! each iteration, on unpaired batches x of X and y of Y (the paper's form, `--raw-features`;
//! by default f's features are standardised per domain, below):
//!   L_D = BCE(D(y), 1) + BCE(D(G(x)), 0) + BCE(D(G(y)), 0)
//!   L_G = BCE(D(G(x)), 1) + BCE(D(G(y)), 1)
//!         + α·mean (f(x) − f(G(x)))²        L_CONST: G(x) must have x's features
//!         + β·mean (y − G(y))²              L_TID: on Y, G is the identity
//!   α = β = 15
//! ```
//!
//! f was trained to tell printed digits apart, so its features say which digit x is; L_CONST
//! makes G(x) carry the same features, so the digit survives the translation even though the
//! GAN term alone would not care. L_TID keeps G from drifting on images already in Y. (The paper's
//! D is a three-way classifier — real y, G(x), G(y); here D is binary with both generated kinds
//! as fakes. In our trials the three-way D kept the digit no more often with an f trained on
//! printed digits, and less often after 6,000 iterations.)
//!
//! **Each domain's features standardised** (the default): f's features also say which
//! *domain* an image comes from — printed and handwritten digits give them different means and
//! spreads — so L_CONST, read literally, asks G(x) to keep x's printed look too, against D. Here
//! every feature is standardised with its own domain's mean and spread,
//! s_X(h) = (h − mean_X)/sd_X and likewise s_Y, estimated once before the first iteration from
//! 4,096 unlabelled images drawn (with replacement) from each domain's training set:
//!
//! ```text
//!   G(x) = g(s_X(f(x)))        G(y) = g(s_Y(f(y)))
//!   L_CONST = mean (s_X(f(x)) − s_Y(f(G(x))))²        (G(x) should be a Y image)
//! ```
//!
//! G(x) must then stand to the average handwritten digit as x stands to the average printed
//! one, and g reads both domains' features on one scale, so what L_TID teaches it on Y carries
//! over to X. (A public TensorFlow implementation of DTN gets a similar effect from batch
//! normalisation inside f, run in training mode on batches of one domain at a time — there
//! f(G(x)) is normalised by the statistics of its own batch.) `--raw-features` keeps the paper's
//! literal form.
//!
//! How good can that be? `--oracle-f` pre-trains f on both domains with their labels — no
//! longer an unpaired method, but an encoder that reads handwriting as well as print — and so
//! measures DTN's ceiling on this task (docs/translation.md).

use crate::data::{BatchKind, Data};
use crate::method::apply;
use crate::method::{
    finite, gan_adam, update, DataInfo, Method, MethodInfo, OptKind, OptSpec, Options, Record,
    TrainError,
};
use crate::methods::direct::{bce_to, check_unpaired_8x8};
use crate::metrics::DigitClassifier;
use crate::models;
use autograd::{no_grad, Var};
use nn::loss::{mse, Reduction};
use nn::optim::{compute_gradients, OptimError};
use nn::{Adam, Frozen, Module, Optimizer, Sequential};
use tensor::{DType, Rng, Tensor};

/// Hyperparameters of DTN.
#[derive(Clone, Debug)]
pub struct DtnConfig {
    /// Batch size m (of each domain).
    pub batch: usize,
    /// α, the weight of L_CONST.
    pub alpha: f64,
    /// β, the weight of L_TID.
    pub beta: f64,
    /// Learning rate of g and D (Adam, betas 0.5, 0.999).
    pub lr: f64,
    /// Pre-train f on distorted printed digits (see
    /// [`DigitClassifier::train_printed_distorted`]) instead of the plain ones.
    pub distorted_f: bool,
    /// Pre-train f on the printed **and the handwritten** digits with their labels (see
    /// [`DigitClassifier::train_both_domains`]): not an unpaired method any more, but the
    /// ceiling of DTN when its encoder reads both domains. Exclusive with `distorted_f`.
    pub oracle_f: bool,
    /// Standardise f's features with each domain's own mean and spread (see the module
    /// documentation); `false` compares them as they are, the paper's form.
    pub standardize: bool,
}

/// How many images, drawn with replacement from each domain's training set, estimate the
/// features' means and spreads.
pub const STATS_SAMPLE: usize = 4096;

/// Added to each feature's variance before its square root is taken: a feature that hardly
/// varies in one domain is not blown up into noise.
pub const STATS_VAR_FLOOR: f64 = 0.01;

impl Default for DtnConfig {
    /// Batch 64, α = β = 15 (the reference code's weights), Adam 2e-4, features standardised
    /// per domain.
    fn default() -> Self {
        DtnConfig {
            batch: 64,
            alpha: 15.0,
            beta: 15.0,
            lr: 2e-4,
            distorted_f: false,
            oracle_f: false,
            standardize: true,
        }
    }
}

/// f (frozen), g, D, their optimizers and the generator of every random draw.
pub struct Dtn {
    /// The pre-trained classifier whose feature layers are f.
    pub f: DigitClassifier,
    /// g: f's features (64) → an 8×8 image.
    pub g: Sequential,
    /// D on 8×8 images.
    pub d: Sequential,
    opt_g: Adam,
    opt_d: Adam,
    /// Hyperparameters.
    pub cfg: DtnConfig,
    /// With [`DtnConfig::standardize`], once estimated: `[4, 64]`, the rows mean_X, sd_X,
    /// mean_Y, sd_Y of f's features.
    stats: Option<Tensor>,
    stats_seed: u64,
    rng: Rng,
    step: usize,
}

/// Domain X (the printed digits) or Y (the handwritten ones), for [`Dtn::features`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// The printed digits.
    X,
    /// The handwritten digits (and G's outputs, which should be handwritten digits).
    Y,
}

/// Each column's mean and spread `sqrt(var + STATS_VAR_FLOOR)` of `[N, d]` features, as two
/// rows `[2, d]` (computed in f64).
fn mean_and_spread(h: &Tensor) -> Tensor {
    let h = h.to_dtype(DType::F64);
    let mean = h.mean(&[0], true);
    let spread = h.var(&[0], false, true).add_scalar(STATS_VAR_FLOOR).sqrt();
    Tensor::cat(&[&mean, &spread], 0).to_dtype(DType::F32)
}

/// G = g ∘ f as one module (what `translate` applies).
struct Composed<'a>(&'a Dtn);

impl Module for Composed<'_> {
    fn forward(&self, x: &Var) -> Var {
        self.0.g.forward(&self.0.features(x, Domain::X))
    }
    fn describe(&self) -> String {
        "g∘f".into()
    }
    fn children(&self) -> Vec<(String, &dyn Module)> {
        vec![("f".into(), self.0.f.network()), ("g".into(), &self.0.g)]
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

impl Dtn {
    /// f pre-trained (seed `seed`) on the printed digits, distorted ones or both domains (see
    /// [`DtnConfig`]), g and D drawn from `seed`.
    pub fn new(cfg: DtnConfig, seed: u64) -> Result<Dtn, OptimError> {
        let f = if cfg.oracle_f {
            DigitClassifier::train_both_domains(seed)
        } else if cfg.distorted_f {
            DigitClassifier::train_printed_distorted(8, 3, seed)
        } else {
            DigitClassifier::train_printed(seed)
        };
        f.network().set_requires_grad(false);
        let mut rng = Rng::seed(seed);
        let g = models::dcgan_generator(crate::metrics::classifier::FEATURE_DIM, 2, 64, &mut rng);
        let d = models::dcgan_discriminator(2, 64, &mut rng);
        nn::init::init_dcgan(&g, &mut rng);
        nn::init::init_dcgan(&d, &mut rng);
        let adam = |m: &dyn Module| gan_adam(m.named_params(), cfg.lr);
        let (opt_g, opt_d) = (adam(&g)?, adam(&d)?);
        Ok(Dtn {
            f,
            g,
            d,
            opt_g,
            opt_d,
            cfg,
            stats: None,
            stats_seed: seed ^ 0x57A7,
            rng: Rng::seed(seed.wrapping_add(1)),
            step: 0,
        })
    }

    /// f's features of images `v` of `domain` on `v`'s tape: standardised with that domain's
    /// mean and spread when [`DtnConfig::standardize`] is on and they have been estimated (at
    /// the first iteration, or restored from a checkpoint), else as they are — also, with
    /// `standardize` on, before the first iteration.
    pub fn features(&self, v: &Var, domain: Domain) -> Var {
        let h = self.f.features_var(v);
        match (&self.stats, self.cfg.standardize) {
            (Some(st), true) => {
                let row = if domain == Domain::X { 0 } else { 2 };
                let tape = h.tape();
                let mean = tape.constant(st.narrow(0, row, 1));
                let spread = tape.constant(st.narrow(0, row + 1, 1));
                h.sub(&mean).div(&spread)
            }
            _ => h,
        }
    }

    /// The estimated means and spreads of f's features, `[4, 64]` (rows mean_X, sd_X, mean_Y,
    /// sd_Y), once the first iteration has estimated them; `None` with raw features.
    pub fn feature_stats(&self) -> Option<&Tensor> {
        self.stats.as_ref()
    }

    /// Estimates [`Dtn::feature_stats`] from [`STATS_SAMPLE`] training images of each domain,
    /// drawn with a generator of their own (the training draws stay those of raw features).
    fn estimate_stats(&mut self, data: &Data) {
        let mut rng = Rng::seed(self.stats_seed);
        let (x, y) = data.unpaired(STATS_SAMPLE, &mut rng);
        let (sx, sy) = (
            mean_and_spread(&self.f.features(&x)),
            mean_and_spread(&self.f.features(&y)),
        );
        self.stats = Some(Tensor::cat(&[&sx, &sy], 0));
    }

    /// G(x) = g(s_X(f(x))) on `x`'s tape (see [`Dtn::features`]; g(f(x)) with raw features).
    pub fn generate(&self, x: &Var) -> Var {
        self.g.forward(&self.features(x, Domain::X))
    }

    /// G(y) = g(s_Y(f(y))) on `y`'s tape, for images `y` of Y (see [`Dtn::features`]).
    pub fn generate_y(&self, y: &Var) -> Var {
        self.g.forward(&self.features(y, Domain::Y))
    }

    /// One iteration (the module's boxes: the first with raw features, the second's G and
    /// L_CONST with standardised ones).
    pub fn step(&mut self, data: &Data) -> Result<Record, TrainError> {
        if self.cfg.standardize && self.stats.is_none() {
            self.estimate_stats(data);
        }
        self.step += 1;
        let step = self.step;
        let (x, y) = data.unpaired(self.cfg.batch, &mut self.rng);
        let this = &*self;
        let d_loss = compute_gradients(&this.opt_d, |tape| {
            let (gx, gy) = {
                let _off = no_grad();
                (
                    this.generate(&tape.constant(x.clone())),
                    this.generate_y(&tape.constant(y.clone())),
                )
            };
            let l = bce_to(&this.d.forward(&tape.constant(y.clone())), 1.0)
                .add(&bce_to(&this.d.forward(&gx.detach()), 0.0))
                .add(&bce_to(&this.d.forward(&gy.detach()), 0.0));
            let v = finite(step, "D loss", l.item())?;
            Ok((l, v))
        })?;
        update(&mut self.opt_d, step, "D")?;
        let _frozen = Frozen::new(&[&self.d]);
        let this = &*self;
        let (gan, cons, tid) = compute_gradients(&this.opt_g, |tape| {
            let xv = tape.constant(x);
            let yv = tape.constant(y);
            let (gx, gy) = (this.generate(&xv), this.generate_y(&yv));
            let gan = bce_to(&this.d.forward(&gx), 1.0).add(&bce_to(&this.d.forward(&gy), 1.0));
            let fx = {
                let _off = no_grad();
                this.features(&xv, Domain::X)
            };
            let cons = mse(
                &this.features(&gx, Domain::Y),
                &fx.detach(),
                Reduction::Mean,
            );
            let tid = mse(&gy, &yv, Reduction::Mean);
            let l = gan
                .add(&cons.mul_scalar(this.cfg.alpha))
                .add(&tid.mul_scalar(this.cfg.beta));
            finite(step, "G loss", l.item())?;
            Ok((l, (gan.item(), cons.item(), tid.item())))
        })?;
        update(&mut self.opt_g, step, "g")?;
        let mut rec = Record::new();
        rec.show("d_loss", d_loss)
            .show("g_gan", gan)
            .show("l_const", cons)
            .show("l_tid", tid);
        Ok(rec)
    }
}

impl Method for Dtn {
    fn info(&self) -> &'static MethodInfo {
        &DTN
    }
    fn step(&mut self, data: &Data) -> Result<Record, TrainError> {
        Dtn::step(self, data)
    }
    fn networks(&self) -> Vec<(&'static str, &dyn Module)> {
        vec![
            ("encoder", self.f.network()),
            ("gen", &self.g),
            ("disc", &self.d),
        ]
    }
    fn optimizers(&self) -> Vec<(&'static str, &dyn Optimizer)> {
        vec![("g", &self.opt_g), ("d", &self.opt_d)]
    }
    fn optimizers_mut(&mut self) -> Vec<(&'static str, &mut dyn Optimizer)> {
        vec![("g", &mut self.opt_g), ("d", &mut self.opt_d)]
    }
    crate::rng_and_step!();
    fn state(&self) -> Vec<(String, Tensor)> {
        self.stats
            .iter()
            .map(|t| ("feature_stats".to_string(), t.clone()))
            .collect()
    }
    fn restore_state(&mut self, state: &[(String, Tensor)]) -> Result<(), String> {
        let want = [4, crate::metrics::classifier::FEATURE_DIM];
        self.stats = None;
        for (k, t) in state {
            if k != "feature_stats" {
                return Err(format!("unknown state '{k}'"));
            }
            if t.dims() != want || t.dtype() != DType::F32 {
                return Err(format!(
                    "feature_stats holds {} {:?}, not float32 {want:?}",
                    t.dtype(),
                    t.dims()
                ));
            }
            // every spread is at least the square root of the variance floor
            let v = t.to_vec_f32();
            let floor = STATS_VAR_FLOOR.sqrt() as f32 * 0.999;
            let bad = v.iter().any(|x| !x.is_finite())
                || [1, 3]
                    .iter()
                    .any(|&r| v[r * want[1]..(r + 1) * want[1]].iter().any(|&s| s < floor));
            if bad {
                return Err(format!(
                    "feature_stats holds a non-finite value or a spread below {:.1}: the checkpoint is damaged",
                    STATS_VAR_FLOOR.sqrt()
                ));
            }
            self.stats = Some(t.clone());
        }
        if self.cfg.standardize && self.stats.is_none() && self.step > 0 {
            return Err(
                "no feature_stats: the checkpoint was saved by a DTN that compared f's \
                        raw features; train again (or with --raw-features)"
                    .into(),
            );
        }
        Ok(())
    }
    fn translate(&self, x: &Tensor) -> Option<Tensor> {
        Some(apply(&Composed(self), x))
    }
    fn evaluate(&self, data: &Data) -> Vec<(String, String)> {
        // the handwritten digits that the classifier measuring translations holds out: f never
        // trained on them (with --oracle-f it trained on the rest, see train_both_domains)
        let (_, hw) = crate::data::Digits::new().split(0.2, 0);
        let mut v = vec![
            (
                "f's held-out accuracy on the printed digits (pre-trained, frozen)".into(),
                format!("{:.1} %", 100.0 * self.f.held_out_accuracy()),
            ),
            (
                "f's accuracy on held-out handwritten digits".into(),
                format!("{:.1} %", 100.0 * self.f.accuracy(hw.images(), hw.labels())),
            ),
        ];
        // a proxy for L_CONST (which compares f's features, not f's verdict): does f itself
        // read x's digit in G(x)? Set beside the label preservation (the handwriting
        // classifier's reading of the same translations), it shows how often G(x) convinces f
        // without the handwriting classifier reading x's digit in it.
        let held = data.test.as_ref().unwrap_or(&data.train);
        if let (Some(x), Some(labels)) = (held.examples(), held.example_labels()) {
            if let Some(gx) = self.translate(&x) {
                v.push((
                    "X→Y: label preservation as f itself reads it".into(),
                    format!("{:.3}", self.f.accuracy(&gx, &labels)),
                ));
            }
        }
        v
    }
}

fn build(o: &Options, data: &DataInfo, seed: u64) -> Result<Box<dyn Method>, String> {
    check_unpaired_8x8("dtn", data)?;
    if !data.spec.starts_with("printed8+") {
        return Err(format!(
            "train dtn: f is pre-trained on the printed digits, so X must be printed8 (--data printed8+digits), not {}",
            data.spec
        ));
    }
    if o.switch("oracle-f") && o.switch("distorted-f") {
        return Err("train dtn: give --oracle-f or --distorted-f, not both".into());
    }
    let cfg = DtnConfig {
        batch: o.usize("batch"),
        alpha: o.f64("alpha"),
        beta: o.f64("beta"),
        lr: o.f64("lr"),
        distorted_f: o.switch("distorted-f"),
        oracle_f: o.switch("oracle-f"),
        standardize: !o.switch("raw-features"),
    };
    Ok(Box::new(Dtn::new(cfg, seed).map_err(|e| e.to_string())?))
}

/// `minimax train dtn`: translation through a pre-trained encoder that must agree.
pub static DTN: MethodInfo = MethodInfo {
    name: "dtn",
    help: "the Domain Transfer Network: G = g∘f with f pre-trained on X, L_CONST and L_TID (printed8+digits)",
    about: "DTN (Taigman et al. 2017): f, the feature layers of a printed-digit classifier \
            (pre-trained here, frozen), then a decoder g; G(x) must keep x's features \
            (L_CONST, weight 15) and leave handwritten digits as they are (L_TID, weight 15), \
            while D judges G's outputs against real handwritten digits.",
    takes: BatchKind::Unpaired,
    default_data: "printed8+digits",
    default_steps: 1500,
    holds_out: true,
    options: &[
        OptSpec { name: "batch", help: "batch size m (of each domain)", default: "64", kind: OptKind::Int { min: 1, max: 65536 } },
        OptSpec { name: "alpha", help: "α, the weight of L_CONST", default: "15", kind: OptKind::Float { min: 0.0, max: 1e6 } },
        OptSpec { name: "beta", help: "β, the weight of L_TID", default: "15", kind: OptKind::Float { min: 0.0, max: 1e6 } },
        OptSpec { name: "lr", help: "learning rate of g and D (Adam, betas 0.5, 0.999)", default: "2e-4", kind: OptKind::Float { min: 0.0, max: 10.0 } },
        OptSpec { name: "distorted-f", help: "pre-train f on randomly distorted printed digits (rotation, shear, scale, shift, thinner strokes)", default: "false", kind: OptKind::Switch },
        OptSpec { name: "raw-features", help: "compare f's features as they are (the paper's form), not standardised with each domain's own mean and spread", default: "false", kind: OptKind::Switch },
        OptSpec { name: "oracle-f", help: "pre-train f on the printed and the handwritten digits with their labels: not unpaired any more, DTN's ceiling with an encoder that reads both domains", default: "false", kind: OptKind::Switch },
    ],
    charts: &[
        ("Adversarial terms", &["d_loss", "g_gan"]),
        ("L_CONST and L_TID", &["l_const", "l_tid"]),
    ],
    build,
};
