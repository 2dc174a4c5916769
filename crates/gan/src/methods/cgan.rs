//! Conditional generation — the conditional GAN with mismatched pairs (GAN-CLS, Reed et al.
//! 2016).
//!
//! ```text
//! G(c, z): the condition c (a digit) is embedded and joined to z;  D(c, x): judges realism AND match
//! each iteration:
//!   sample m real pairs (cⁱ, xⁱ); m noise vectors zⁱ; x̃ⁱ = G(cⁱ, zⁱ)
//!   wrong conditions ĉⁱ ≠ cⁱ, uniform over the other classes   (a real image with a wrong condition)
//!   L_D = BCE(D(c, x), 1) + ½·BCE(D(ĉ, x), 0) + ½·BCE(D(c, x̃), 0)
//!   θd ← θd − η ∇L_D
//!   sample another m noise vectors;  L_G = BCE(D(c, G(c, z)), 1)   (non-saturating)
//!   θg ← θg − η ∇L_G
//! ```
//!
//! Why the mismatched pair: with only (c, real) → 1 and (c, fake) → 0, D can tell real from
//! fake by realism alone and never has to check that x matches c — so nothing makes G obey c.
//! The pair (wrong c, real image) is realistic but must be rejected, and only a D that reads the
//! condition can do that.
//!
//! The ablations: `--no-mismatch` drops the wrong pair (L_D = BCE(D(c, x), 1) + BCE(D(c, x̃),
//! 0)); `--d-ignores-condition` gives D no condition at all (then G may ignore c too). And the
//! tutorial's argument for a GAN here: `--supervised` trains the same G by regression,
//! L = mean ‖G(c, z) − x‖² over real pairs — the best such G outputs the mean image of each
//! class, a blur, whatever z is.
//!
//! Networks (8×8 images): G = DCGAN's generator on [z, E_g(c)]; D = DCGAN's convolutions on x,
//! their features joined to E_d(c), then Linear → LeakyReLU(0.2) → Linear to one logit.

use crate::data::{BatchKind, Data};
use crate::method::{
    finite, gan_adam, update, DataInfo, Method, MethodInfo, OptKind, OptSpec, Options, Record,
    TrainError,
};
use crate::models;
use autograd::{no_grad, Tape, Var};
use nn::loss::{bce_with_logits, mse, Reduction};
use nn::optim::{compute_gradients, OptimError};
use nn::{params_of, Adam, Embedding, Frozen, LeakyReLU, Linear, Module, Optimizer, Sequential};
use tensor::{DType, Rng, Tensor};

/// Hyperparameters of the conditional GAN.
#[derive(Clone, Debug)]
pub struct CganConfig {
    /// Batch size m.
    pub batch: usize,
    /// Dimension of z.
    pub z_dim: usize,
    /// Dimension of the condition embeddings E_g(c) and E_d(c).
    pub embed_dim: usize,
    /// Learning rate of both networks (Adam, betas 0.5, 0.999).
    pub lr: f64,
    /// Use the mismatched pair (GAN-CLS).
    pub mismatch: bool,
    /// Give D the condition.
    pub d_sees_condition: bool,
    /// Train G by L2 regression instead (no D).
    pub supervised: bool,
}

impl Default for CganConfig {
    /// Batch 64, z of 100 dims, embeddings of 16, Adam 2e-4 (0.5, 0.999): DCGAN's settings.
    fn default() -> Self {
        CganConfig {
            batch: 64,
            z_dim: 100,
            embed_dim: 16,
            lr: 2e-4,
            mismatch: true,
            d_sees_condition: true,
            supervised: false,
        }
    }
}

/// G(c, z), D(c, x), their optimizers and the generator of every random draw.
pub struct Cgan {
    /// E_g: class → embedding.
    pub g_embed: Embedding,
    /// G's body on [z, E_g(c)].
    pub g: Sequential,
    /// E_d: class → embedding.
    pub d_embed: Embedding,
    /// D's convolutions on x (to features).
    pub d: Sequential,
    /// D's head on [features, E_d(c)] (or the features alone) to one logit.
    pub d_head: Sequential,
    opt_g: Adam,
    opt_d: Adam,
    /// Hyperparameters.
    pub cfg: CganConfig,
    /// The number of classes.
    pub classes: usize,
    rng: Rng,
    step: usize,
}

/// The wrong conditions ĉ of a batch: for each class cⁱ, one of the other `classes − 1`
/// classes, uniformly (one draw of `rng` each). Panics if `classes < 2`.
#[track_caller]
pub fn mismatched(c: &[usize], classes: usize, rng: &mut Rng) -> Vec<usize> {
    assert!(
        classes >= 2,
        "mismatched: need at least 2 classes, got {classes}"
    );
    c.iter()
        .map(|&ci| (ci + 1 + rng.below(classes - 1)) % classes)
        .collect()
}

/// The classes as a constant column of indices `[m]` (what [`Embedding`] reads).
fn class_var(tape: &Tape, c: &[usize]) -> Var {
    tape.constant(Tensor::from_vec(
        c.iter().map(|&k| k as f32).collect::<Vec<_>>(),
        [c.len()],
    ))
}

fn targets(tape: &Tape, m: usize, value: f32) -> Var {
    tape.constant(Tensor::full([m, 1], value as f64, DType::F32))
}

impl Cgan {
    /// Builds G and D for 8×8 images (`base` = side / 4) from `seed`.
    pub fn new(
        cfg: CganConfig,
        classes: usize,
        side: usize,
        seed: u64,
    ) -> Result<Cgan, OptimError> {
        let mut rng = Rng::seed(seed);
        let base = side / 4;
        let ch = 64;
        let g_embed = Embedding::new(classes, cfg.embed_dim, &mut rng);
        let g = models::dcgan_generator(cfg.z_dim + cfg.embed_dim, base, ch, &mut rng);
        let d = models::dcgan_features(ch, &mut rng);
        nn::init::init_dcgan(&g, &mut rng);
        nn::init::init_dcgan(&d, &mut rng);
        let features = 2 * ch * base * base;
        let joined = features
            + if cfg.d_sees_condition {
                cfg.embed_dim
            } else {
                0
            };
        let d_head = Sequential::new()
            .add(Linear::new(joined, 128, true, &mut rng))
            .add(LeakyReLU::new(0.2))
            .add(Linear::new(128, 1, true, &mut rng));
        let d_embed = Embedding::new(classes, cfg.embed_dim, &mut rng);
        let adam = |named| gan_adam(named, cfg.lr);
        let opt_g = adam(params_of(&[("gen", &g), ("gen_embed", &g_embed)]))?;
        let opt_d = adam(params_of(&[
            ("disc", &d),
            ("disc_embed", &d_embed),
            ("disc_head", &d_head),
        ]))?;
        Ok(Cgan {
            g_embed,
            g,
            d_embed,
            d,
            d_head,
            opt_g,
            opt_d,
            cfg,
            classes,
            rng: Rng::seed(seed.wrapping_add(1)),
            step: 0,
        })
    }

    /// G(c, z) = G([z, E_g(c)]) on `z`'s tape.
    pub fn generate(&self, c: &[usize], z: &Var) -> Var {
        let e = self.g_embed.forward(&class_var(z.tape(), c));
        self.g.forward(&Var::cat(&[z, &e], 1))
    }

    /// D's logit for each pair (cⁱ, xⁱ): head([features(x), E_d(c)]) (the condition left out
    /// when D ignores it).
    pub fn judge(&self, c: &[usize], x: &Var) -> Var {
        let f = self.d.forward(x);
        if self.cfg.d_sees_condition {
            let e = self.d_embed.forward(&class_var(x.tape(), c));
            self.d_head.forward(&Var::cat(&[&f, &e], 1))
        } else {
            self.d_head.forward(&f)
        }
    }

    fn noise(&mut self, m: usize) -> Tensor {
        Tensor::randn([m, self.cfg.z_dim], 0.0, 1.0, DType::F32, &mut self.rng)
    }

    /// One iteration (the box above), or one regression step with `supervised`.
    pub fn step(&mut self, data: &Data) -> Result<Record, TrainError> {
        self.step += 1;
        let step = self.step;
        let m = self.cfg.batch;
        let (x, c) = data.labelled(m, &mut self.rng);
        let mut rec = Record::new();
        if self.cfg.supervised {
            let z = self.noise(m);
            let this = &*self;
            let l = compute_gradients(&this.opt_g, |tape| {
                let fake = this.generate(&c, &tape.constant(z));
                let l = mse(&fake, &tape.constant(x), Reduction::Mean);
                let v = finite(step, "L2 loss", l.item())?;
                Ok((l, v))
            })?;
            update(&mut self.opt_g, step, "G")?;
            let nan = f64::NAN;
            rec.show("d_loss", nan)
                .show("g_loss", nan)
                .show("l2", l)
                .show("d_real", nan)
                .show("d_wrong", nan)
                .show("d_fake", nan);
            return Ok(rec);
        }
        // learning D
        let z = self.noise(m);
        let wrong = if self.cfg.mismatch {
            mismatched(&c, self.classes, &mut self.rng)
        } else {
            Vec::new()
        };
        let this = &*self;
        let (d_loss, d_real, d_wrong, d_fake) = compute_gradients(&this.opt_d, |tape| {
            let fake = {
                let _off = no_grad();
                this.generate(&c, &tape.constant(z))
            }
            .detach();
            let real_x = tape.constant(x.clone());
            let real = this.judge(&c, &real_x);
            let faked = this.judge(&c, &fake);
            let bce =
                |l: &Var, t: f32| bce_with_logits(l, &targets(tape, m, t), None, Reduction::Mean);
            let mean_p = |l: &Var| l.value().sigmoid().mean_all().item();
            let (loss, d_wrong) = if this.cfg.mismatch {
                let mis = this.judge(&wrong, &real_x);
                let l = bce(&real, 1.0)
                    .add(&bce(&mis, 0.0).mul_scalar(0.5))
                    .add(&bce(&faked, 0.0).mul_scalar(0.5));
                (l, mean_p(&mis))
            } else {
                (bce(&real, 1.0).add(&bce(&faked, 0.0)), f64::NAN)
            };
            let v = finite(step, "D loss", loss.item())?;
            Ok((loss, (v, mean_p(&real), d_wrong, mean_p(&faked))))
        })?;
        update(&mut self.opt_d, step, "D")?;
        // learning G, D frozen
        let z = self.noise(m);
        let _frozen = Frozen::new(&[&self.d, &self.d_embed, &self.d_head]);
        let this = &*self;
        let g_loss = compute_gradients(&this.opt_g, |tape| {
            let out = this.judge(&c, &this.generate(&c, &tape.constant(z)));
            let l = bce_with_logits(&out, &targets(tape, m, 1.0), None, Reduction::Mean);
            let v = finite(step, "G loss", l.item())?;
            Ok((l, v))
        })?;
        update(&mut self.opt_g, step, "G")?;
        rec.show("d_loss", d_loss)
            .show("g_loss", g_loss)
            .show("l2", f64::NAN)
            .show("d_real", d_real)
            .show("d_wrong", d_wrong)
            .show("d_fake", d_fake);
        Ok(rec)
    }

    /// One image of each class of `labels`, z drawn with `rng`, G in evaluation mode.
    pub fn sample_classes(&self, labels: &[usize], rng: &mut Rng) -> Tensor {
        self.g.eval();
        let _off = no_grad();
        let mut parts = Vec::new();
        for chunk in labels.chunks(500) {
            let z = Tensor::randn([chunk.len(), self.cfg.z_dim], 0.0, 1.0, DType::F32, rng);
            let tape = Tape::new();
            parts.push(self.generate(chunk, &tape.constant(z)).value().clone());
        }
        self.g.train(true);
        Tensor::cat(&parts.iter().collect::<Vec<_>>(), 0)
    }
}

impl Method for Cgan {
    fn info(&self) -> &'static MethodInfo {
        &CGAN
    }
    fn step(&mut self, data: &Data) -> Result<Record, TrainError> {
        Cgan::step(self, data)
    }
    fn networks(&self) -> Vec<(&'static str, &dyn Module)> {
        vec![
            ("gen", &self.g),
            ("gen_embed", &self.g_embed),
            ("disc", &self.d),
            ("disc_embed", &self.d_embed),
            ("disc_head", &self.d_head),
        ]
    }
    fn optimizers(&self) -> Vec<(&'static str, &dyn Optimizer)> {
        vec![("g", &self.opt_g), ("d", &self.opt_d)]
    }
    fn optimizers_mut(&mut self) -> Vec<(&'static str, &mut dyn Optimizer)> {
        vec![("g", &mut self.opt_g), ("d", &mut self.opt_d)]
    }
    crate::rng_and_step!();
    fn classes(&self) -> usize {
        self.classes
    }
    fn sample_classes(&self, labels: &[usize], rng: &mut Rng) -> Option<Tensor> {
        Some(Cgan::sample_classes(self, labels, rng))
    }
    fn sample(&self, n: usize, rng: &mut Rng) -> Option<Tensor> {
        let labels: Vec<usize> = (0..n).map(|i| i % self.classes).collect();
        Some(Cgan::sample_classes(self, &labels, rng))
    }
}

fn build(o: &Options, data: &DataInfo, seed: u64) -> Result<Box<dyn Method>, String> {
    if data.shape != [1, 8, 8] {
        return Err(format!(
            "train cgan: the conditional GAN is built for 8×8 one-channel images with labels (--data digits or printed8), but {} has examples of shape {:?}",
            data.spec, data.shape
        ));
    }
    let cfg = CganConfig {
        batch: o.usize("batch"),
        z_dim: o.usize("z-dim"),
        embed_dim: o.usize("embed-dim"),
        lr: o.f64("lr"),
        mismatch: !o.switch("no-mismatch"),
        d_sees_condition: !o.switch("d-ignores-condition"),
        supervised: o.switch("supervised"),
    };
    Ok(Box::new(
        Cgan::new(cfg, 10, 8, seed).map_err(|e| e.to_string())?,
    ))
}

/// `minimax train cgan`: the conditional GAN with mismatched pairs.
pub static CGAN: MethodInfo = MethodInfo {
    name: "cgan",
    help: "a conditional GAN: G(c, z) and D(c, x) with mismatched pairs (labelled 8×8 digits)",
    about: "The conditional GAN with mismatched pairs (GAN-CLS, Reed et al. 2016): D learns to \
            accept (c, real x), and to reject (wrong c, real x) and (c, G(c, z)). Trains on \
            labelled 8×8 digits (digits or printed8); samples are drawn for the classes 0–9 in \
            turn and saved with labels.npy.",
    takes: BatchKind::Labelled,
    default_data: "digits",
    default_steps: 1500,
    holds_out: false,
    options: &[
        OptSpec {
            name: "batch",
            help: "batch size m",
            default: "64",
            kind: OptKind::Int { min: 1, max: 65536 },
        },
        OptSpec {
            name: "z-dim",
            help: "dimension of z",
            default: "100",
            kind: OptKind::Int { min: 1, max: 4096 },
        },
        OptSpec {
            name: "embed-dim",
            help: "dimension of the condition embeddings",
            default: "16",
            kind: OptKind::Int { min: 1, max: 4096 },
        },
        OptSpec {
            name: "lr",
            help: "learning rate of both networks (Adam, betas 0.5, 0.999)",
            default: "2e-4",
            kind: OptKind::Float {
                min: 0.0,
                max: 10.0,
            },
        },
        OptSpec {
            name: "no-mismatch",
            help: "ablation: D's loss without the (wrong c, real x) pair",
            default: "false",
            kind: OptKind::Switch,
        },
        OptSpec {
            name: "d-ignores-condition",
            help: "ablation: D does not see the condition",
            default: "false",
            kind: OptKind::Switch,
        },
        OptSpec {
            name: "supervised",
            help: "baseline: train G alone by L2 regression to real images of its class",
            default: "false",
            kind: OptKind::Switch,
        },
    ],
    charts: &[
        ("Losses", &["d_loss", "g_loss", "l2"]),
        (
            "D's outputs on the three pairs",
            &["d_real", "d_wrong", "d_fake"],
        ),
    ],
    build,
};
