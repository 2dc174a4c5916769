//! Unpaired translation with a pre-trained encoder that must agree — the Domain Transfer
//! Network (DTN, Taigman et al. 2017), the tutorial's second remedy.
//!
//! ```text
//! f: the feature layers of a digit classifier pre-trained on X (the printed digits, labels of X
//!    used here and only here), frozen
//! G = g ∘ f: f's 64 features → g, a DCGAN-style decoder → an 8×8 image
//! each iteration, on unpaired batches x of X and y of Y:
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
//! as fakes.)
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
use tensor::{Rng, Tensor};

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
}

impl Default for DtnConfig {
    /// Batch 64, α = β = 15 (the reference code's weights), Adam 2e-4.
    fn default() -> Self {
        DtnConfig {
            batch: 64,
            alpha: 15.0,
            beta: 15.0,
            lr: 2e-4,
            distorted_f: false,
            oracle_f: false,
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
    rng: Rng,
    step: usize,
}

/// G = g ∘ f as one module (what `translate` applies).
struct Composed<'a>(&'a Dtn);

impl Module for Composed<'_> {
    fn forward(&self, x: &Var) -> Var {
        self.0.g.forward(&self.0.f.features_var(x))
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
            rng: Rng::seed(seed.wrapping_add(1)),
            step: 0,
        })
    }

    /// G(x) = g(f(x)) on `x`'s tape.
    pub fn generate(&self, x: &Var) -> Var {
        self.g.forward(&self.f.features_var(x))
    }

    /// One iteration (the box above).
    pub fn step(&mut self, data: &Data) -> Result<Record, TrainError> {
        self.step += 1;
        let step = self.step;
        let (x, y) = data.unpaired(self.cfg.batch, &mut self.rng);
        let this = &*self;
        let d_loss = compute_gradients(&this.opt_d, |tape| {
            let (gx, gy) = {
                let _off = no_grad();
                (
                    this.generate(&tape.constant(x.clone())),
                    this.generate(&tape.constant(y.clone())),
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
            let (gx, gy) = (this.generate(&xv), this.generate(&yv));
            let gan = bce_to(&this.d.forward(&gx), 1.0).add(&bce_to(&this.d.forward(&gy), 1.0));
            let fx = {
                let _off = no_grad();
                this.f.features_var(&xv)
            };
            let cons = mse(&this.f.features_var(&gx), &fx.detach(), Reduction::Mean);
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
    fn translate(&self, x: &Tensor) -> Option<Tensor> {
        Some(apply(&Composed(self), x))
    }
    fn evaluate(&self, _data: &Data) -> Vec<(String, String)> {
        // the handwritten digits that the classifier measuring translations holds out: f never
        // trained on them (with --oracle-f it trained on the rest, see train_both_domains)
        let (_, hw) = crate::data::Digits::new().split(0.2, 0);
        vec![
            (
                "f's held-out accuracy on the printed digits (pre-trained, frozen)".into(),
                format!("{:.1} %", 100.0 * self.f.held_out_accuracy()),
            ),
            (
                "f's accuracy on held-out handwritten digits".into(),
                format!("{:.1} %", 100.0 * self.f.accuracy(hw.images(), hw.labels())),
            ),
        ]
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
        OptSpec { name: "oracle-f", help: "pre-train f on the printed and the handwritten digits with their labels: not unpaired any more, DTN's ceiling with an encoder that reads both domains", default: "false", kind: OptKind::Switch },
    ],
    charts: &[
        ("Adversarial terms", &["d_loss", "g_gan"]),
        ("L_CONST and L_TID", &["l_const", "l_tid"]),
    ],
    build,
};
