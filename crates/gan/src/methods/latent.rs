//! A common latent space for two domains: a VAE-GAN per domain (the baseline), and the
//! tutorial's four ways to make the two domains' codes mean the same thing.
//!
//! ```text
//! per domain k ∈ {X, Y}: Enc_k(x) = (μ_k, log σ²_k), z_k = μ_k + σ_k ⊙ ε, ε ~ N(0, I),
//! Dec_k(z) an image, D_k a discriminator of domain k's images (LSGAN)
//!
//! VAE-GAN (Larsen et al. 2016), each domain on its own — the baseline:
//!   L_k = λ_rec |Dec_k(z_k) − x_k| + λ_kl KL(N(μ_k, σ²_k) ‖ N(0, I)) + λ_gan (D_k(Dec_k(z_k)) − 1)²
//!         [+ mean (D_k′(Dec_k(z_k)) − D_k′(x_k))²   --feature-recon; D_k′ = D_k's last hidden layer]
//! translation X → Y = Dec_Y(μ_X(x)),  Y → X = Dec_X(μ_Y(y))
//!
//! the four fixes, alone or together:
//!   --share-layers   Enc_X and Enc_Y share their last two layers, Dec_X and Dec_Y their first
//!                    two (CoGAN, UNIT): the same high-level code ↔ feature maps for both domains
//!   --latent-d adversarial|reversal
//!                    C(μ) guesses a code's domain: L_C = BCE(C(μ_X), 1) + BCE(C(μ_Y), 0)
//!                    adversarial: C takes its own step on L_C, then the encoders add −λ_dom L_C
//!                    reversal: one step of L + L_C(C(R(μ))), R = identity forwards and
//!                    −λ_dom × the gradient backwards: C descends L_C, the encoders ascend it
//!   --latent-cycle   λ_cyc SmoothL1(Dec_X(μ_Y(Dec_Y(z_X))), x) and the same from y (ComboGAN)
//!   --semantic       λ_sem |μ_Y(Dec_Y(z_X)) − sg(μ_X)| and the same from y (XGAN; sg: the
//!                    source's code is a constant target, or both codes could shrink together)
//!   --same-start     (with any of them) Enc_Y's and Dec_Y's own layers start as copies of
//!                    Enc_X's and Dec_X's: a printed and a handwritten 3 that look alike start
//!                    with alike codes
//!   the last two translate inside the loss; a translation must then look like its new domain:
//!                    λ_gan (D_Y(Dec_Y(z_X)) − 1)² + λ_gan (D_X(Dec_X(z_Y)) − 1)²
//!
//! D_k's step: ½ (D_k(x_k) − 1)² + ½ mean over D_k's fakes (Dec_k's outputs) of D_k(fake)²
//! λ_rec = 10, λ_kl = 0.01, λ_gan = 1 (UNIT's 100 : 0.1 : 10, divided by 10), λ_cyc = 10
//! (ComboGAN), λ_sem = 1, λ_dom = 1 (XGAN: "1 works"); Adam 2e-4 (0.5, 0.999) for everything
//! ```
//!
//! Trained separately, each auto-encoder is free to put a printed 3 and a handwritten 3 at
//! unrelated codes: nothing in L_X mentions Y. Sharing layers gives both domains the same
//! decoder of high-level codes; the code discriminator makes the two clouds of codes overlap;
//! the cycle asks a code to survive a trip through the other domain; semantic consistency asks
//! the translation to have the code of its source. The run measures how far the codes line up
//! (see [`crate::metrics::alignment`]).
//!
//! The handwritten digits the digit classifier holds out (a fifth of them, split with seed 0)
//! are held out here too, so every figure on Y is measured on digits no network trained on.

use crate::data::{BatchKind, Data, Dataset, Digits};
use crate::method::{
    apply, finite, gan_adam, update, DataInfo, Method, MethodInfo, OptKind, OptSpec, Options,
    Record, TrainError,
};
use crate::methods::direct::{bce_to, check_unpaired_8x8};
use crate::metrics::alignment::{
    domain_accuracy, nearest_label_accuracy, nearest_label_confusion, pca2,
};
use crate::report::svg::ColorBar;
use crate::report::{Image, ImageAxes, Picture, ScatterPlot};
use autograd::{no_grad, Var};
use nn::loss::{kl_normal, l1, mse, smooth_l1, Reduction};
use nn::optim::{compute_gradients, OptimError};
use nn::{
    Adam, Conv2d, ConvTranspose2d, Flatten, Frozen, LeakyReLU, Linear, Module, Optimizer, ReLU,
    Sequential, Tanh, Unflatten,
};
use tensor::{Conv2dParams, ConvTranspose2dParams, DType, Rng, Tensor};

/// Domain X's index (the printed digits).
pub const X: usize = 0;
/// Domain Y's index (the handwritten digits).
pub const Y: usize = 1;
const NAMES: [&str; 2] = ["X", "Y"];

/// How a code discriminator aligns the codes, if there is one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeDiscriminator {
    /// None (no `--latent-d`).
    Off,
    /// C's own step, then the encoders' step against it (adding −λ_dom·L_C).
    Adversarial,
    /// One step through a gradient-reversal layer ([`Var::grad_reverse`]).
    Reversal,
}

/// Hyperparameters of the latent-space method.
#[derive(Clone, Debug)]
pub struct LatentConfig {
    /// Batch size m (of each domain).
    pub batch: usize,
    /// Learning rate of every network (Adam, betas 0.5, 0.999).
    pub lr: f64,
    /// Code dimension d.
    pub code: usize,
    /// Channels c of the first conv layer (the second has 2c).
    pub channels: usize,
    /// Width of the (shareable) fully connected layers.
    pub hidden: usize,
    /// Fix 1: share the last two encoder layers and the first two decoder layers.
    pub share_layers: bool,
    /// Fix 2: a discriminator on the codes.
    pub latent_d: CodeDiscriminator,
    /// Fix 3: cycle consistency through the code.
    pub latent_cycle: bool,
    /// Fix 4: semantic consistency of the code.
    pub semantic: bool,
    /// Start Enc_Y's and Dec_Y's own layers as copies of Enc_X's and Dec_X's.
    pub same_start: bool,
    /// Add the reconstruction in D's features (VAE-GAN's reference).
    pub feature_recon: bool,
    /// λ_rec, the weight of the pixel reconstruction (L1).
    pub lambda_rec: f64,
    /// λ_kl.
    pub lambda_kl: f64,
    /// λ_gan.
    pub lambda_gan: f64,
    /// λ_cyc.
    pub lambda_cycle: f64,
    /// λ_sem.
    pub lambda_sem: f64,
    /// λ_dom.
    pub lambda_dom: f64,
}

impl Default for LatentConfig {
    /// The baseline: batch 64, codes of 16, 32 channels, 128 hidden, no fix, the weights of the
    /// box above, Adam 2e-4.
    fn default() -> Self {
        LatentConfig {
            batch: 64,
            lr: 2e-4,
            code: 16,
            channels: 32,
            hidden: 128,
            share_layers: false,
            latent_d: CodeDiscriminator::Off,
            latent_cycle: false,
            semantic: false,
            same_start: false,
            feature_recon: false,
            lambda_rec: 10.0,
            lambda_kl: 0.01,
            lambda_gan: 1.0,
            lambda_cycle: 10.0,
            lambda_sem: 1.0,
            lambda_dom: 1.0,
        }
    }
}

impl LatentConfig {
    /// Whether the loss translates (the cycle or the semantic term is on).
    pub fn translates(&self) -> bool {
        self.latent_cycle || self.semantic
    }
}

/// Both domains' encoders, decoders and discriminators, the code discriminator, their
/// optimizers and the generator of every random draw.
pub struct Latent {
    /// Enc_X's and Enc_Y's own first layers: image → Conv(1, c, 4, 2, 1) → LeakyReLU(0.2) →
    /// Conv(c, 2c, 4, 2, 1) → LeakyReLU(0.2) → Flatten (`[N, 8c]`).
    pub enc_low: [Sequential; 2],
    /// Their last layers, Linear(8c, h) → LeakyReLU(0.2) → Linear(h, 2d) (μ, then log σ²): one
    /// module for both domains with shared layers, else one each.
    pub enc_high: Vec<Sequential>,
    /// The decoders' first layers, Linear(d, h) → ReLU → Linear(h, 8c) → ReLU: shared or one each.
    pub dec_high: Vec<Sequential>,
    /// Dec_X's and Dec_Y's own last layers: `[N, 8c]` → [2c, 2, 2] → ConvT(2c, c, 4, 2, 1) →
    /// ReLU → ConvT(c, 1, 4, 2, 1) → tanh.
    pub dec_low: [Sequential; 2],
    /// D_X and D_Y: Conv(1, c) → LeakyReLU → Conv(c, 2c) → LeakyReLU → Flatten → Linear(8c, 1).
    pub disc: [Sequential; 2],
    /// C: Linear(d, h) → LeakyReLU(0.2) → Linear(h, h) → LeakyReLU(0.2) → Linear(h, 1), a logit
    /// that the code came from X (with `--latent-d`).
    pub code_disc: Option<Sequential>,
    opt_gen: Adam,
    opt_disc: Adam,
    opt_code: Option<Adam>,
    y_train: Digits,
    /// Hyperparameters.
    pub cfg: LatentConfig,
    rng: Rng,
    step: usize,
}

fn encoder_low(c: usize, rng: &mut Rng) -> Sequential {
    let p = Conv2dParams::new((2, 2), (1, 1));
    Sequential::new()
        .add(Conv2d::with_options(1, c, (4, 4), p, true, rng))
        .add(LeakyReLU::new(0.2))
}

fn encoder_high(c: usize, h: usize, d: usize, rng: &mut Rng) -> Sequential {
    let p = Conv2dParams::new((2, 2), (1, 1));
    Sequential::new()
        .add(Conv2d::with_options(c, 2 * c, (4, 4), p, true, rng))
        .add(LeakyReLU::new(0.2))
        .add(Flatten::new())
        .add(Linear::new(8 * c, h, true, rng))
        .add(LeakyReLU::new(0.2))
        .add(Linear::new(h, 2 * d, true, rng))
}

fn decoder_high(c: usize, h: usize, d: usize, rng: &mut Rng) -> Sequential {
    let p = ConvTranspose2dParams::new((2, 2), (1, 1));
    Sequential::new()
        .add(Linear::new(d, h, true, rng))
        .add(ReLU::new())
        .add(Linear::new(h, 8 * c, true, rng))
        .add(ReLU::new())
        .add(Unflatten::new(1, &[2 * c, 2, 2]))
        .add(ConvTranspose2d::with_options(
            2 * c,
            c,
            (4, 4),
            p,
            true,
            rng,
        ))
        .add(ReLU::new())
}

fn decoder_low(c: usize, rng: &mut Rng) -> Sequential {
    let p = ConvTranspose2dParams::new((2, 2), (1, 1));
    Sequential::new()
        .add(ConvTranspose2d::with_options(c, 1, (4, 4), p, true, rng))
        .add(Tanh::new())
}

fn discriminator(c: usize, rng: &mut Rng) -> Sequential {
    let p = Conv2dParams::new((2, 2), (1, 1));
    Sequential::new()
        .add(Conv2d::with_options(1, c, (4, 4), p, true, rng))
        .add(LeakyReLU::new(0.2))
        .add(Conv2d::with_options(c, 2 * c, (4, 4), p, true, rng))
        .add(LeakyReLU::new(0.2))
        .add(Flatten::new())
        .add(Linear::new(8 * c, 1, true, rng))
}

/// mean (s − t)² over a batch of scores.
fn ls(s: &Var, t: f64) -> Var {
    s.add_scalar(-t).square().mean_all()
}

/// L_C, the code discriminator's loss: BCE(C(μ_X), 1) + BCE(C(μ_Y), 0), each averaged over its
/// batch. With `reverse = Some(λ)` the codes pass through a gradient-reversal layer first, so
/// the value is the same and the gradient reaching the codes is −λ times L_C's.
pub fn code_loss(c: &dyn Module, mu_x: &Var, mu_y: &Var, reverse: Option<f64>) -> Var {
    let r = |v: &Var| match reverse {
        Some(l) => v.grad_reverse(l),
        None => v.clone(),
    };
    bce_to(&c.forward(&r(mu_x)), 1.0).add(&bce_to(&c.forward(&r(mu_y)), 0.0))
}

/// A path through the networks as one module (what `translate` and `encode` apply): Enc_from's
/// mean code, then Dec_to if there is one.
struct Path<'a> {
    m: &'a Latent,
    from: usize,
    to: Option<usize>,
}

impl Module for Path<'_> {
    fn forward(&self, x: &Var) -> Var {
        let (mu, _) = self.m.encode_var(x, self.from);
        match self.to {
            Some(k) => self.m.decode_var(&mu, k),
            None => mu,
        }
    }
    fn describe(&self) -> String {
        match self.to {
            Some(k) => format!("Dec_{}∘μ_{}", NAMES[k], NAMES[self.from]),
            None => format!("μ_{}", NAMES[self.from]),
        }
    }
    fn children(&self) -> Vec<(String, &dyn Module)> {
        let mut v: Vec<(String, &dyn Module)> = vec![
            ("enc_low".into(), &self.m.enc_low[self.from]),
            ("enc_high".into(), self.m.high(&self.m.enc_high, self.from)),
        ];
        if let Some(k) = self.to {
            v.push(("dec_high".into(), self.m.high(&self.m.dec_high, k)));
            v.push(("dec_low".into(), &self.m.dec_low[k]));
        }
        v
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

impl Latent {
    /// The networks of `cfg`, drawn from `Rng::seed(seed)`; training draws from `seed + 1`.
    pub fn new(cfg: LatentConfig, seed: u64) -> Result<Latent, OptimError> {
        let mut rng = Rng::seed(seed);
        let (c, h, d) = (cfg.channels, cfg.hidden, cfg.code);
        let n_high = if cfg.share_layers { 1 } else { 2 };
        let enc_low = [encoder_low(c, &mut rng), encoder_low(c, &mut rng)];
        let enc_high: Vec<Sequential> = (0..n_high)
            .map(|_| encoder_high(c, h, d, &mut rng))
            .collect();
        let dec_high: Vec<Sequential> = (0..n_high)
            .map(|_| decoder_high(c, h, d, &mut rng))
            .collect();
        let dec_low = [decoder_low(c, &mut rng), decoder_low(c, &mut rng)];
        let disc = [discriminator(c, &mut rng), discriminator(c, &mut rng)];
        let code_disc = (cfg.latent_d != CodeDiscriminator::Off).then(|| {
            Sequential::new()
                .add(Linear::new(d, h, true, &mut rng))
                .add(LeakyReLU::new(0.2))
                .add(Linear::new(h, h, true, &mut rng))
                .add(LeakyReLU::new(0.2))
                .add(Linear::new(h, 1, true, &mut rng))
        });
        if cfg.same_start {
            // Enc_Y's and Dec_Y's own layers start as copies of Enc_X's and Dec_X's
            for (a, b) in [(&enc_low[X], &enc_low[Y]), (&dec_low[X], &dec_low[Y])] {
                for (p, q) in a.params().iter().zip(b.params()) {
                    q.set_value(p.value().clone());
                }
            }
        }
        let mut gen_params = Vec::new();
        for (name, m) in Self::generator_modules(&enc_low, &enc_high, &dec_high, &dec_low) {
            gen_params.extend(
                m.named_params()
                    .into_iter()
                    .map(|(n, p)| (format!("{name}.{n}"), p)),
            );
        }
        let opt_gen = gan_adam(gen_params, cfg.lr)?;
        let opt_disc = gan_adam(
            nn::params_of(&[("disc_x", &disc[X]), ("disc_y", &disc[Y])]),
            cfg.lr,
        )?;
        let opt_code = match &code_disc {
            Some(c) => Some(gan_adam(c.named_params(), cfg.lr)?),
            None => None,
        };
        Ok(Latent {
            enc_low,
            enc_high,
            dec_high,
            dec_low,
            disc,
            code_disc,
            opt_gen,
            opt_disc,
            opt_code,
            y_train: Digits::new().split(0.2, 0).0,
            cfg,
            rng: Rng::seed(seed.wrapping_add(1)),
            step: 0,
        })
    }

    fn generator_modules<'a>(
        enc_low: &'a [Sequential; 2],
        enc_high: &'a [Sequential],
        dec_high: &'a [Sequential],
        dec_low: &'a [Sequential; 2],
    ) -> Vec<(&'static str, &'a dyn Module)> {
        let mut v: Vec<(&'static str, &dyn Module)> =
            vec![("enc_x", &enc_low[X]), ("enc_y", &enc_low[Y])];
        if enc_high.len() == 1 {
            v.push(("enc_shared", &enc_high[0]));
            v.push(("dec_shared", &dec_high[0]));
        } else {
            v.push(("enc_x_top", &enc_high[X]));
            v.push(("enc_y_top", &enc_high[Y]));
            v.push(("dec_x_top", &dec_high[X]));
            v.push(("dec_y_top", &dec_high[Y]));
        }
        v.push(("dec_x", &dec_low[X]));
        v.push(("dec_y", &dec_low[Y]));
        v
    }

    fn high<'a>(&self, v: &'a [Sequential], k: usize) -> &'a Sequential {
        &v[k.min(v.len() - 1)]
    }

    /// (μ, log σ²) = Enc_k(x), each `[N, d]`, on `x`'s tape.
    pub fn encode_var(&self, x: &Var, k: usize) -> (Var, Var) {
        let d = self.cfg.code;
        let h = self
            .high(&self.enc_high, k)
            .forward(&self.enc_low[k].forward(x));
        (h.narrow(1, 0, d), h.narrow(1, d, d))
    }

    /// Dec_k(z), images `[N, 1, 8, 8]` in (−1, 1), on `z`'s tape.
    pub fn decode_var(&self, z: &Var, k: usize) -> Var {
        self.dec_low[k].forward(&self.high(&self.dec_high, k).forward(z))
    }

    /// The mean codes μ_k(x) `[N, d]` of images `[N, 1, 8, 8]` of domain `k`, without recording.
    pub fn codes(&self, x: &Tensor, k: usize) -> Tensor {
        apply(
            &Path {
                m: self,
                from: k,
                to: None,
            },
            x,
        )
    }

    /// Dec_to(μ_from(x)): images of domain `from` translated into domain `to` (or reconstructed
    /// when they are equal), without recording.
    pub fn translate_between(&self, x: &Tensor, from: usize, to: usize) -> Tensor {
        apply(
            &Path {
                m: self,
                from,
                to: Some(to),
            },
            x,
        )
    }

    /// One iteration (the box above): C's step (adversarial), the encoders' and decoders' step
    /// (with C's, through the reversal layer), then D_X's and D_Y's.
    pub fn step(&mut self, data: &Data) -> Result<Record, TrainError> {
        self.step += 1;
        let step = self.step;
        let (m, d) = (self.cfg.batch, self.cfg.code);
        let x = data.train.sample(m, &mut self.rng);
        let y = self.y_train.sample(m, &mut self.rng);
        let eps: Vec<Tensor> = (0..2)
            .map(|_| Tensor::randn([m, d], 0.0, 1.0, DType::F32, &mut self.rng))
            .collect();
        let batch = [x, y];
        let mut rec = Record::new();

        // 1. C's own step (adversarial): L_C on the current codes, constants for C
        if self.cfg.latent_d == CodeDiscriminator::Adversarial {
            let this = &*self;
            let c = this.code_disc.as_ref().expect("a code discriminator");
            let opt = this.opt_code.as_ref().expect("its optimizer");
            let (mx, my) = {
                let _off = no_grad();
                let tape = autograd::Tape::new();
                (
                    this.encode_var(&tape.constant(batch[X].clone()), X)
                        .0
                        .value()
                        .clone(),
                    this.encode_var(&tape.constant(batch[Y].clone()), Y)
                        .0
                        .value()
                        .clone(),
                )
            };
            let l = compute_gradients(opt, |tape| {
                let l = code_loss(c, &tape.constant(mx), &tape.constant(my), None);
                let v = finite(step, "code discriminator loss", l.item())?;
                Ok((l, v))
            })?;
            update(self.opt_code.as_mut().expect("its optimizer"), step, "C")?;
            rec.show("code_d", l);
        }

        // 2. the encoders and decoders (and C through the reversal layer)
        let mut frozen: Vec<&dyn Module> = vec![&self.disc[X], &self.disc[Y]];
        if self.cfg.latent_d == CodeDiscriminator::Adversarial {
            frozen.push(self.code_disc.as_ref().expect("a code discriminator"));
        }
        let guard = Frozen::new(&frozen);
        if let Some(c) = &self.code_disc {
            c.zero_grad();
        }
        let this = &*self;
        let cfg = &this.cfg;
        let (terms, fakes) = compute_gradients(&this.opt_gen, |tape| {
            let xs = [
                tape.constant(batch[X].clone()),
                tape.constant(batch[Y].clone()),
            ];
            let mut t: Vec<(&'static str, f64)> = Vec::new();
            let mut loss = xs[X].constant(Tensor::scalar(0.0, DType::F32));
            let mut mus = Vec::new();
            let mut zs = Vec::new();
            let mut fakes: [Vec<Tensor>; 2] = [Vec::new(), Vec::new()];
            for k in [X, Y] {
                let (mu, lv) = this.encode_var(&xs[k], k);
                let z = mu.add(&lv.mul_scalar(0.5).exp().mul(&tape.constant(eps[k].clone())));
                let out = this.decode_var(&z, k);
                let l_rec = l1(&out, &xs[k], Reduction::Mean);
                let l_kl = kl_normal(&mu, &lv, Reduction::Mean);
                let l_gan = ls(&this.disc[k].forward(&out), 1.0);
                loss = loss
                    .add(&l_rec.mul_scalar(cfg.lambda_rec))
                    .add(&l_kl.mul_scalar(cfg.lambda_kl))
                    .add(&l_gan.mul_scalar(cfg.lambda_gan));
                t.push((["rec_x", "rec_y"][k], l_rec.item()));
                t.push((["kl_x", "kl_y"][k], l_kl.item()));
                t.push((["gan_x", "gan_y"][k], l_gan.item()));
                if cfg.feature_recon {
                    let feats = |v: &Var| {
                        let all = this.disc[k].forward_all(v);
                        all[all.len() - 2].clone()
                    };
                    let real = {
                        let _off = no_grad();
                        feats(&xs[k])
                    };
                    let l_feat = mse(&feats(&out), &real.detach(), Reduction::Mean);
                    loss = loss.add(&l_feat);
                    t.push((["feat_x", "feat_y"][k], l_feat.item()));
                }
                fakes[k].push(out.value().clone());
                mus.push(mu);
                zs.push(z);
            }
            if cfg.translates() {
                let (mut l_tgan, mut l_cyc, mut l_sem) = (Vec::new(), Vec::new(), Vec::new());
                for k in [X, Y] {
                    let j = 1 - k;
                    let across = this.decode_var(&zs[k], j);
                    l_tgan.push(ls(&this.disc[j].forward(&across), 1.0));
                    fakes[j].push(across.value().clone());
                    let (mu2, _) = this.encode_var(&across, j);
                    if cfg.latent_cycle {
                        let back = this.decode_var(&mu2, k);
                        l_cyc.push(smooth_l1(&back, &xs[k], 1.0, Reduction::Mean));
                    }
                    if cfg.semantic {
                        // the source's code is the target, not something to move
                        l_sem.push(l1(&mu2, &mus[k].detach(), Reduction::Mean));
                    }
                }
                let sum = |v: &[Var]| v[0].add(&v[1]);
                let g = sum(&l_tgan);
                loss = loss.add(&g.mul_scalar(cfg.lambda_gan));
                t.push(("translation_gan", g.item()));
                if cfg.latent_cycle {
                    let c = sum(&l_cyc);
                    loss = loss.add(&c.mul_scalar(cfg.lambda_cycle));
                    t.push(("cycle", c.item()));
                }
                if cfg.semantic {
                    let s = sum(&l_sem);
                    loss = loss.add(&s.mul_scalar(cfg.lambda_sem));
                    t.push(("semantic", s.item()));
                }
            }
            if let Some(c) = &this.code_disc {
                let l_c = match cfg.latent_d {
                    CodeDiscriminator::Reversal => {
                        let l = code_loss(c, &mus[X], &mus[Y], Some(cfg.lambda_dom));
                        loss = loss.add(&l);
                        l
                    }
                    _ => {
                        let l = code_loss(c, &mus[X], &mus[Y], None);
                        loss = loss.add(&l.mul_scalar(-cfg.lambda_dom));
                        l
                    }
                };
                t.push(("code_d_seen_by_encoders", l_c.item()));
            }
            finite(step, "encoders' and decoders' loss", loss.item())?;
            Ok((loss, (t, fakes)))
        })?;
        drop(guard);
        update(&mut self.opt_gen, step, "encoders and decoders")?;
        if self.cfg.latent_d == CodeDiscriminator::Reversal {
            update(self.opt_code.as_mut().expect("its optimizer"), step, "C")?;
        }
        // every term gets a column, NaN when its fix is off
        let value = |key: &str| {
            terms
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(f64::NAN, |&(_, v)| v)
        };
        for k in [
            "rec_x",
            "rec_y",
            "kl_x",
            "kl_y",
            "gan_x",
            "gan_y",
            "translation_gan",
            "cycle",
            "semantic",
        ] {
            rec.show(k, value(k));
        }
        rec.log("feat_x", value("feat_x"))
            .log("feat_y", value("feat_y"));
        if self.cfg.latent_d == CodeDiscriminator::Reversal {
            rec.show("code_d", value("code_d_seen_by_encoders"));
        } else if self.cfg.latent_d == CodeDiscriminator::Off {
            rec.show("code_d", f64::NAN);
        }
        // 3. D_X and D_Y on real images and their decoders' outputs
        let this = &*self;
        let d_losses = compute_gradients(&this.opt_disc, |tape| {
            let mut total = tape.constant(Tensor::scalar(0.0, DType::F32));
            let mut vals = [0.0; 2];
            for k in [X, Y] {
                let fake = Tensor::cat(&fakes[k].iter().collect::<Vec<_>>(), 0);
                let l = ls(&this.disc[k].forward(&tape.constant(batch[k].clone())), 1.0)
                    .add(&ls(&this.disc[k].forward(&tape.constant(fake)), 0.0))
                    .mul_scalar(0.5);
                vals[k] = finite(step, ["D_X loss", "D_Y loss"][k], l.item())?;
                total = total.add(&l);
            }
            Ok((total, vals))
        })?;
        update(&mut self.opt_disc, step, "D_X and D_Y")?;
        rec.show("d_x", d_losses[X]).show("d_y", d_losses[Y]);
        Ok(rec)
    }

    /// The held-out examples of both domains with their digits: X's from the data, Y's the
    /// handwritten digits held out of training.
    fn held_out(&self, data: &Data) -> Option<[(Tensor, Vec<usize>); 2]> {
        let xs = data.test.as_ref().unwrap_or(&data.train);
        let y = Digits::new().split(0.2, 0).1;
        Some([
            (xs.examples()?, xs.example_labels()?),
            (y.images().clone(), y.labels().to_vec()),
        ])
    }
}

/// Ten colours for ten digits.
const DIGIT_COLORS: [[u8; 3]; 10] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
];

/// Two pictures of the held-out codes of both domains on the same 2-D projection (their first
/// two principal axes), in axes with a legend: coloured by domain (X blue, Y red), and by digit.
pub fn code_pictures(codes: [&Tensor; 2], labels: [&[usize]; 2]) -> (Picture, Picture) {
    let n = codes[X].dims()[0];
    let both = pca2(&Tensor::cat(&[codes[X], codes[Y]], 0));
    let parts = [both.narrow(0, 0, n), both.narrow(0, n, both.dims()[0] - n)];
    let (blue, red) = ([70, 110, 220], [220, 80, 60]);
    let axes = |plot: &ScatterPlot, title: &str| {
        plot.axes(title)
            .x_label("first principal axis of the codes (no unit)")
            .y_label("second principal axis (no unit)")
    };
    let plot = ScatterPlot::fit(320, 320, &[&both]).radius(1.8);
    let domain_axes = axes(&plot, "Codes by domain")
        .legend(ScatterPlot::legend_dot("X: printed", blue))
        .legend(ScatterPlot::legend_dot("Y: handwritten", red));
    let by_domain = plot
        .clone()
        .points(&parts[Y], red)
        .points(&parts[X], blue)
        .render();
    let mut digit_axes = axes(&plot, "Codes by digit");
    for (digit, color) in DIGIT_COLORS.iter().enumerate() {
        digit_axes = digit_axes.legend(ScatterPlot::legend_dot(digit.to_string(), *color));
    }
    let mut plot = plot;
    for k in [Y, X] {
        for (digit, color) in DIGIT_COLORS.iter().enumerate() {
            let idx: Vec<usize> = (0..labels[k].len())
                .filter(|&i| labels[k][i] == digit)
                .collect();
            if !idx.is_empty() {
                plot = plot.points(&parts[k].index_select(0, &idx), *color);
            }
        }
    }
    (
        Picture::InAxes(Box::new(domain_axes), by_domain),
        Picture::InAxes(Box::new(digit_axes), plot.render()),
    )
}

/// Pixels per cell of [`confusion_picture`].
pub const CONFUSION_CELL: usize = 28;

/// A picture of where the nearest-neighbour labels go, from [`nearest_label_confusion`]'s
/// `counts` (`n × n`): the cell in row a (handwritten digit a, bottom row 0), column b (the
/// digit of the nearest printed code) is shaded by the share of a's codes that land on b,
/// white for none to dark blue for all; the diagonal, digit by digit, is the nearest-neighbour
/// label. Each cell is [`CONFUSION_CELL`] pixels wide, with a 1-pixel grey border.
///
/// Panics if `counts` is empty or not square.
#[track_caller]
pub fn confusion_picture(counts: &[Vec<usize>]) -> Picture {
    let n = counts.len();
    assert!(
        n > 0 && counts.iter().all(|row| row.len() == n),
        "confusion_picture: the counts must be a non-empty square table"
    );
    let bar = ColorBar {
        label: "share of the handwritten digit's codes".into(),
        range: (0.0, 1.0),
        stops: vec![(0.0, [255, 255, 255]), (1.0, [25, 60, 150])],
        levels: 0,
    };
    let side = n * CONFUSION_CELL;
    let mut pixels = vec![0u8; side * side * 3];
    for (a, row) in counts.iter().enumerate() {
        let total: usize = row.iter().sum();
        for (b, &count) in row.iter().enumerate() {
            let share = count as f64 / total.max(1) as f64;
            let color = bar.color_at(share);
            // row a is drawn from the bottom up, so digit 0 sits at y = 0 of the axes
            let (x0, y0) = (b * CONFUSION_CELL, (n - 1 - a) * CONFUSION_CELL);
            for y in y0..y0 + CONFUSION_CELL {
                for x in x0..x0 + CONFUSION_CELL {
                    let edge = x == x0
                        || y == y0
                        || x + 1 == x0 + CONFUSION_CELL
                        || y + 1 == y0 + CONFUSION_CELL;
                    let o = (y * side + x) * 3;
                    pixels[o..o + 3].copy_from_slice(if edge { &[200; 3] } else { &color });
                }
            }
        }
    }
    let top = n as f64 - 0.5;
    let axes = ImageAxes::new(
        "Digit of each handwritten code's nearest printed code",
        side,
        side,
        (-0.5, top),
        (-0.5, top),
    )
    .x_label("digit of the nearest printed code")
    .y_label("handwritten digit")
    .tick_target(n)
    .color_bar(bar);
    Picture::InAxes(
        Box::new(axes),
        Image {
            width: side,
            height: side,
            channels: 3,
            pixels,
        },
    )
}

impl Method for Latent {
    fn info(&self) -> &'static MethodInfo {
        &VAEGAN
    }
    fn step(&mut self, data: &Data) -> Result<Record, TrainError> {
        Latent::step(self, data)
    }
    fn networks(&self) -> Vec<(&'static str, &dyn Module)> {
        let mut v =
            Self::generator_modules(&self.enc_low, &self.enc_high, &self.dec_high, &self.dec_low);
        v.push(("disc_x", &self.disc[X]));
        v.push(("disc_y", &self.disc[Y]));
        if let Some(c) = &self.code_disc {
            v.push(("code_disc", c));
        }
        v
    }
    fn optimizers(&self) -> Vec<(&'static str, &dyn Optimizer)> {
        let mut v: Vec<(&'static str, &dyn Optimizer)> =
            vec![("generators", &self.opt_gen), ("discs", &self.opt_disc)];
        if let Some(o) = &self.opt_code {
            v.push(("code_disc", o));
        }
        v
    }
    fn optimizers_mut(&mut self) -> Vec<(&'static str, &mut dyn Optimizer)> {
        let mut v: Vec<(&'static str, &mut dyn Optimizer)> = vec![
            ("generators", &mut self.opt_gen),
            ("discs", &mut self.opt_disc),
        ];
        if let Some(o) = &mut self.opt_code {
            v.push(("code_disc", o));
        }
        v
    }
    crate::rng_and_step!();
    fn translate(&self, x: &Tensor) -> Option<Tensor> {
        Some(self.translate_between(x, X, Y))
    }
    fn translate_reverse(&self, y: &Tensor) -> Option<Tensor> {
        Some(self.translate_between(y, Y, X))
    }
    fn encode(&self, x: &Tensor, domain: usize) -> Option<Tensor> {
        (domain < 2).then(|| self.codes(x, domain))
    }
    fn evaluate(&self, data: &Data) -> Vec<(String, String)> {
        let Some(held) = self.held_out(data) else {
            return Vec::new();
        };
        let codes = [self.codes(&held[X].0, X), self.codes(&held[Y].0, Y)];
        let mut v = vec![
            (
                "code domain classifier's accuracy (0.5: the domains' codes are indistinguishable)"
                    .to_string(),
                format!("{:.3}", domain_accuracy(&codes[X], &codes[Y], 0)),
            ),
            (
                "cross-domain nearest neighbour: a handwritten code labelled by the nearest printed code"
                    .to_string(),
                format!(
                    "{:.3}",
                    nearest_label_accuracy(&codes[Y], &held[Y].1, &codes[X], &held[X].1)
                ),
            ),
        ];
        for k in [X, Y] {
            let back = self.translate_between(&held[k].0, k, k);
            let err = back.sub(&held[k].0).abs().mean_all().item() * 0.5;
            v.push((
                format!(
                    "reconstruction error of {} (mean |Dec(μ(x)) − x|, pixels in [0, 1])",
                    ["X", "Y"][k]
                ),
                format!("{err:.4}"),
            ));
        }
        v
    }
    fn pictures(&self, data: &Data) -> Vec<(String, Picture)> {
        let Some(held) = self.held_out(data) else {
            return Vec::new();
        };
        let codes = [self.codes(&held[X].0, X), self.codes(&held[Y].0, Y)];
        let (by_domain, by_digit) = code_pictures([&codes[X], &codes[Y]], [&held[X].1, &held[Y].1]);
        vec![
            (
                "Held-out codes of both domains projected on their first two principal axes, \
                 coloured by domain (blue: printed X, red: handwritten Y)"
                    .into(),
                by_domain,
            ),
            (
                "The same codes coloured by digit (the legend names each colour)".into(),
                by_digit,
            ),
            (
                "Where the nearest-neighbour label goes: the cell in row a, column b is the \
                 share of the held-out handwritten a's whose nearest printed code is a b; the \
                 diagonal is the nearest-neighbour label digit by digit"
                    .into(),
                confusion_picture(&nearest_label_confusion(
                    &codes[Y], &held[Y].1, &codes[X], &held[X].1, 10,
                )),
            ),
        ]
    }
}

fn build(o: &Options, data: &DataInfo, seed: u64) -> Result<Box<dyn Method>, String> {
    check_unpaired_8x8("vaegan", data)?;
    if !data.spec.ends_with("+digits") {
        return Err(format!(
            "train vaegan: Y must be the handwritten digits (--data printed8+digits), not {}",
            data.spec
        ));
    }
    let cfg = LatentConfig {
        batch: o.usize("batch"),
        lr: o.f64("lr"),
        code: o.usize("code"),
        channels: o.usize("channels"),
        hidden: o.usize("hidden"),
        share_layers: o.switch("share-layers"),
        latent_d: match o.word("latent-d") {
            "adversarial" => CodeDiscriminator::Adversarial,
            "reversal" => CodeDiscriminator::Reversal,
            _ => CodeDiscriminator::Off,
        },
        latent_cycle: o.switch("latent-cycle"),
        semantic: o.switch("semantic"),
        same_start: o.switch("same-start"),
        feature_recon: o.switch("feature-recon"),
        lambda_rec: o.f64("lambda-rec"),
        lambda_kl: o.f64("lambda-kl"),
        lambda_gan: o.f64("lambda-gan"),
        lambda_cycle: o.f64("lambda-cycle"),
        lambda_sem: o.f64("lambda-sem"),
        lambda_dom: o.f64("lambda-dom"),
    };
    Ok(Box::new(Latent::new(cfg, seed).map_err(|e| e.to_string())?))
}

/// `minimax train vaegan`: a VAE-GAN per domain, and the four fixes that align their codes.
pub static VAEGAN: MethodInfo = MethodInfo {
    name: "vaegan",
    help: "a VAE-GAN per domain and four ways to share their latent space (printed8+digits)",
    about: "A common latent space (VAE-GAN, Larsen et al. 2016, per domain): Enc_X, Dec_X, D_X \
            and Enc_Y, Dec_Y, D_Y with reconstruction (L1, 10), KL (0.01) and LSGAN (1) terms; \
            X → Y is Dec_Y(μ_X(x)). Alone, the two codes need not line up; four fixes, alone or \
            together: --share-layers (UNIT), --latent-d adversarial|reversal (a code \
            discriminator the encoders fool, XGAN), --latent-cycle (SmoothL1, 10, ComboGAN), \
            --semantic (XGAN). The run measures the alignment on held-out digits of both domains.",
    takes: BatchKind::Unpaired,
    default_data: "printed8+digits",
    default_steps: 1500,
    holds_out: true,
    options: &[
        OptSpec {
            name: "batch",
            help: "batch size m (of each domain)",
            default: "64",
            kind: OptKind::Int { min: 1, max: 65536 },
        },
        OptSpec {
            name: "lr",
            help: "learning rate of every network (Adam, betas 0.5, 0.999)",
            default: "2e-4",
            kind: OptKind::Float {
                min: 0.0,
                max: 10.0,
            },
        },
        OptSpec {
            name: "code",
            help: "code dimension d",
            default: "16",
            kind: OptKind::Int { min: 1, max: 4096 },
        },
        OptSpec {
            name: "channels",
            help: "channels c of the first conv layer",
            default: "32",
            kind: OptKind::Int { min: 1, max: 512 },
        },
        OptSpec {
            name: "hidden",
            help: "width of the fully connected layers",
            default: "128",
            kind: OptKind::Int { min: 1, max: 8192 },
        },
        OptSpec {
            name: "share-layers",
            help: "fix 1: share the encoders' last two and the decoders' first two layers",
            default: "false",
            kind: OptKind::Switch,
        },
        OptSpec {
            name: "latent-d",
            help: "fix 2: a discriminator on the codes that the encoders fool",
            default: "none",
            kind: OptKind::Choice(&["none", "adversarial", "reversal"]),
        },
        OptSpec {
            name: "latent-cycle",
            help: "fix 3: cycle consistency through the code (SmoothL1)",
            default: "false",
            kind: OptKind::Switch,
        },
        OptSpec {
            name: "semantic",
            help: "fix 4: a translation keeps its source's code",
            default: "false",
            kind: OptKind::Switch,
        },
        OptSpec {
            name: "same-start",
            help: "the domains' own layers start as copies of each other",
            default: "false",
            kind: OptKind::Switch,
        },
        OptSpec {
            name: "feature-recon",
            help: "also reconstruct in D's last hidden layer (VAE-GAN's reference)",
            default: "false",
            kind: OptKind::Switch,
        },
        OptSpec {
            name: "lambda-rec",
            help: "λ_rec, the weight of the L1 reconstruction",
            default: "10",
            kind: OptKind::Float { min: 0.0, max: 1e6 },
        },
        OptSpec {
            name: "lambda-kl",
            help: "λ_kl, the weight of the KL term",
            default: "0.01",
            kind: OptKind::Float { min: 0.0, max: 1e6 },
        },
        OptSpec {
            name: "lambda-gan",
            help: "λ_gan, the weight of every generator GAN term",
            default: "1",
            kind: OptKind::Float { min: 0.0, max: 1e6 },
        },
        OptSpec {
            name: "lambda-cycle",
            help: "λ_cyc, the weight of the latent cycle",
            default: "10",
            kind: OptKind::Float { min: 0.0, max: 1e6 },
        },
        OptSpec {
            name: "lambda-sem",
            help: "λ_sem, the weight of semantic consistency",
            default: "1",
            kind: OptKind::Float { min: 0.0, max: 1e6 },
        },
        OptSpec {
            name: "lambda-dom",
            help: "λ_dom, the weight of fooling the code discriminator",
            default: "1",
            kind: OptKind::Float { min: 0.0, max: 1e6 },
        },
    ],
    charts: &[
        (
            "Reconstruction (mean |Dec(z) − x| on pixels in [−1, 1])",
            &["rec_x", "rec_y"],
        ),
        ("KL", &["kl_x", "kl_y"]),
        (
            "Adversarial terms (LSGAN)",
            &["gan_x", "gan_y", "translation_gan", "d_x", "d_y"],
        ),
        ("Alignment terms", &["code_d", "cycle", "semantic"]),
    ],
    build,
};
