//! Conditional generation in two stages — StackGAN (Zhang et al. 2017), on the printed digits.
//!
//! ```text
//! φ = [one-hot digit, style attributes]          (10 + 7: sans/serif/mono, bold, italic, condensed, light)
//! conditioning augmentation (one per stage):   (μ, log σ²) = Linear(φ);  c = μ + σ ⊙ ε,  ε ~ N(0, I)
//!                                              KL(N(μ, σ²) ‖ N(0, I)) added to G's loss with weight 2
//!                                              (the KL averaged over the batch and c's dimensions)
//! stage I:   x̃₁ = G₁(c₁, z)             16×16        D₁(φ, x) judges 16×16 images (real ones: 2×2 means)
//! stage II:  x̃₂ = G₂(x̃₁, c₂)            32×32        D₂(φ, x) judges 32×32 images
//!            (G₂ encodes x̃₁ to 8×8, joins c₂ tiled over it, two residual blocks, upsamples twice)
//! each iteration, for stage s = I then II (stage II starts from stage I's image, detached):
//!   φ̂ = φ shifted by one in the batch                         (wrong pairs)
//!   L_Ds = BCE(Ds(φ, x), 1) + ½·BCE(Ds(φ̂, x), 0) + ½·BCE(Ds(φ, x̃s), 0)
//!   L_Gs = BCE(Ds(φ, x̃s), 1) + 2·KL
//! ```
//!
//! Conditioning augmentation turns one condition into a neighbourhood of codes: the generator
//! cannot memorise one image per condition, and a condition it saw rarely borrows from its
//! neighbours. `--no-ca` uses c = μ (no noise, no KL); the report measures what that does to the
//! diversity of the samples of one condition. Stage II sees the whole low-resolution draft and
//! only has to add detail, which is why the refinement beats a one-stage model at the same size.

use crate::data::{downsample2, BatchKind, Data, Printed};
use crate::method::{
    finite, gan_adam, update, DataInfo, Method, MethodInfo, OptKind, OptSpec, Options, Record,
    TrainError,
};
use crate::metrics::printed::STYLES;
use crate::metrics::PrintedClassifier;
use autograd::{no_grad, Tape, Var};
use nn::format::RawTensor;
use nn::loss::{bce_with_logits, kl_normal, Reduction};
use nn::optim::{compute_gradients, OptimError};
use nn::{
    params_of, Adam, BatchNorm2d, Conv2d, ConvTranspose2d, Flatten, Frozen, LeakyReLU, Linear,
    Module, Optimizer, ReLU, ResidualBlock, Sequential, Tanh, Unflatten,
};
use tensor::{Conv2dParams, ConvTranspose2dParams, DType, Rng, Tensor};

/// Length of φ: the one-hot digit and the 7 style attributes.
pub const PHI: usize = 17;

/// Hyperparameters of StackGAN.
#[derive(Clone, Debug)]
pub struct StackGanConfig {
    /// Batch size m.
    pub batch: usize,
    /// Dimension of z.
    pub z_dim: usize,
    /// Dimension of the augmented condition c.
    pub c_dim: usize,
    /// Weight of the KL term (2 in StackGAN).
    pub kl_weight: f64,
    /// Conditioning augmentation on (c = μ + σ⊙ε) or off (c = μ).
    pub augment: bool,
    /// Learning rate of every network (Adam, betas 0.5, 0.999).
    pub lr: f64,
    /// Stage II trains only after this many iterations (StackGAN trains stage I first).
    pub stage2_from: usize,
}

impl Default for StackGanConfig {
    /// Batch 32, z of 32 dims, c of 16, KL weight 2, augmentation on, Adam 2e-4, stage II from
    /// iteration 2,000 on.
    fn default() -> Self {
        StackGanConfig {
            batch: 32,
            z_dim: 32,
            c_dim: 16,
            kl_weight: 2.0,
            augment: true,
            lr: 2e-4,
            stage2_from: 2000,
        }
    }
}

fn conv(cin: usize, cout: usize, k: usize, s: usize, p: usize, rng: &mut Rng) -> Conv2d {
    Conv2d::with_options(
        cin,
        cout,
        (k, k),
        Conv2dParams::new((s, s), (p, p)),
        true,
        rng,
    )
}

fn convt(cin: usize, cout: usize, rng: &mut Rng) -> ConvTranspose2d {
    ConvTranspose2d::with_options(
        cin,
        cout,
        (4, 4),
        ConvTranspose2dParams::new((2, 2), (1, 1)),
        true,
        rng,
    )
}

/// One stage's discriminator: convolutions to features, φ compressed to 16 numbers and joined,
/// then a small head to one logit.
pub struct StageD {
    /// Convolutions on the image.
    pub features: Sequential,
    /// φ → 16.
    pub embed: Linear,
    /// [features, embedded φ] → logit.
    pub head: Sequential,
}

impl StageD {
    fn new(side: usize, rng: &mut Rng) -> StageD {
        let mut features = Sequential::new()
            .add(conv(1, 32, 4, 2, 1, rng))
            .add(LeakyReLU::new(0.2));
        let (mut c, mut s) = (32, side / 2);
        while s > 4 {
            features = features
                .add(conv(c, 2 * c, 4, 2, 1, rng))
                .add(BatchNorm2d::new(2 * c))
                .add(LeakyReLU::new(0.2));
            c *= 2;
            s /= 2;
        }
        let features = features.add(Flatten::new());
        let embed = Linear::new(PHI, 16, true, rng);
        let head = Sequential::new()
            .add(Linear::new(c * 16 + 16, 128, true, rng))
            .add(LeakyReLU::new(0.2))
            .add(Linear::new(128, 1, true, rng));
        StageD {
            features,
            embed,
            head,
        }
    }

    /// The logit of each pair (φⁱ, xⁱ).
    pub fn judge(&self, phi: &Var, x: &Var) -> Var {
        let f = self.features.forward(x);
        self.head
            .forward(&Var::cat(&[&f, &self.embed.forward(phi)], 1))
    }

    fn modules(&self) -> [&dyn Module; 3] {
        [&self.features, &self.embed, &self.head]
    }
}

/// Stage II's generator: the stage-I image encoded to 8×8, c tiled over it, two residual blocks,
/// two upsamplings to 32×32.
pub struct StageTwo {
    /// 16×16 image → [32, 8, 8].
    pub encode: Sequential,
    /// [32 + c, 8, 8] → 32×32 image.
    pub decode: Sequential,
    c_dim: usize,
}

fn res_block(ch: usize, rng: &mut Rng) -> ResidualBlock {
    ResidualBlock::new(
        Sequential::new()
            .add(conv(ch, ch, 3, 1, 1, rng))
            .add(BatchNorm2d::new(ch))
            .add(ReLU::new())
            .add(conv(ch, ch, 3, 1, 1, rng))
            .add(BatchNorm2d::new(ch)),
    )
}

impl StageTwo {
    fn new(c_dim: usize, rng: &mut Rng) -> StageTwo {
        let encode = Sequential::new()
            .add(conv(1, 16, 3, 1, 1, rng))
            .add(ReLU::new())
            .add(conv(16, 32, 4, 2, 1, rng))
            .add(BatchNorm2d::new(32))
            .add(ReLU::new());
        let decode = Sequential::new()
            .add(conv(32 + c_dim, 32, 3, 1, 1, rng))
            .add(BatchNorm2d::new(32))
            .add(ReLU::new())
            .add(res_block(32, rng))
            .add(res_block(32, rng))
            .add(convt(32, 16, rng))
            .add(BatchNorm2d::new(16))
            .add(ReLU::new())
            .add(convt(16, 8, rng))
            .add(BatchNorm2d::new(8))
            .add(ReLU::new())
            .add(conv(8, 1, 3, 1, 1, rng))
            .add(Tanh::new());
        StageTwo {
            encode,
            decode,
            c_dim,
        }
    }

    /// G₂(x̃₁, c).
    pub fn forward(&self, draft: &Var, c: &Var) -> Var {
        let h = self.encode.forward(draft);
        let m = h.dims()[0];
        let tiled = c
            .reshape([m, self.c_dim, 1, 1])
            .expand([m, self.c_dim, 8, 8]);
        self.decode.forward(&Var::cat(&[&h, &tiled], 1))
    }
}

/// Both stages, their discriminators and conditioning augmentations, four optimizers and the
/// generator of every random draw.
pub struct StackGan {
    /// Stage I's conditioning augmentation: φ → (μ, log σ²).
    pub ca1: Linear,
    /// G₁: [z, c₁] → 16×16.
    pub g1: Sequential,
    /// D₁.
    pub d1: StageD,
    /// Stage II's conditioning augmentation.
    pub ca2: Linear,
    /// G₂.
    pub g2: StageTwo,
    /// D₂.
    pub d2: StageD,
    opts: [Adam; 4],
    /// Hyperparameters.
    pub cfg: StackGanConfig,
    rng: Rng,
    step: usize,
}

/// A conditioning augmentation's layer φ → (μ, log σ²). φ is mostly one-hot, so its weight is
/// an embedding table of the digit and the styles, initialised as one: N(0, 1) for the μ half
/// (a condition's code starts as distinct as an embedding's), 0 for the log σ² half (σ = 1).
fn ca_layer(cd: usize, rng: &mut Rng) -> Linear {
    let ca = Linear::new(PHI, 2 * cd, true, rng);
    let w = &ca.params()[0];
    let mu = Tensor::randn([cd, PHI], 0.0, 1.0, DType::F32, rng);
    let logvar = Tensor::zeros([cd, PHI], DType::F32);
    w.set_value(Tensor::cat(&[&mu, &logvar], 0));
    ca
}

/// φ for each (digit, attribute row): `[m, 17]`.
pub fn condition(labels: &[usize], attrs: &Tensor) -> Tensor {
    let a = attrs.to_vec_f32();
    let k = attrs.dims()[1];
    let mut v = Vec::with_capacity(labels.len() * PHI);
    for (i, &l) in labels.iter().enumerate() {
        v.extend((0..10).map(|d| (d == l) as u8 as f32));
        v.extend_from_slice(&a[i * k..(i + 1) * k]);
    }
    Tensor::from_vec(v, [labels.len(), PHI])
}

/// The batch shifted by one: row i gets row i − 1 (the wrong pairs, as StackGAN makes them).
pub fn shifted(phi: &Tensor) -> Tensor {
    let m = phi.dims()[0];
    let idx: Vec<usize> = (0..m).map(|i| (i + m - 1) % m).collect();
    phi.index_select(0, &idx)
}

fn bce(l: &Var, t: f64) -> Var {
    let target = l.constant(Tensor::full(*l.shape(), t, DType::F32));
    bce_with_logits(l, &target, None, Reduction::Mean)
}

impl StackGan {
    /// The networks, drawn from `seed`.
    pub fn new(cfg: StackGanConfig, seed: u64) -> Result<StackGan, OptimError> {
        let mut rng = Rng::seed(seed);
        let cd = cfg.c_dim;
        let ca1 = ca_layer(cd, &mut rng);
        let g1 = Sequential::new()
            .add(Linear::new(cfg.z_dim + cd, 64 * 16, true, &mut rng))
            .add(Unflatten::new(1, &[64, 4, 4]))
            .add(BatchNorm2d::new(64))
            .add(ReLU::new())
            .add(convt(64, 32, &mut rng))
            .add(BatchNorm2d::new(32))
            .add(ReLU::new())
            .add(convt(32, 16, &mut rng))
            .add(BatchNorm2d::new(16))
            .add(ReLU::new())
            .add(conv(16, 1, 3, 1, 1, &mut rng))
            .add(Tanh::new());
        let d1 = StageD::new(16, &mut rng);
        let ca2 = ca_layer(cd, &mut rng);
        let g2 = StageTwo::new(cd, &mut rng);
        let d2 = StageD::new(32, &mut rng);
        for m in [&g1 as &dyn Module, &g2.encode, &g2.decode]
            .into_iter()
            .chain(d1.modules())
            .chain(d2.modules())
        {
            nn::init::init_dcgan(m, &mut rng);
        }
        let adam = |p| gan_adam(p, cfg.lr);
        let opts = [
            adam(params_of(&[("ca1", &ca1), ("gen1", &g1)]))?,
            adam(params_of(&[
                ("disc1", &d1.features),
                ("disc1_embed", &d1.embed),
                ("disc1_head", &d1.head),
            ]))?,
            adam(params_of(&[
                ("ca2", &ca2),
                ("gen2_encode", &g2.encode),
                ("gen2_decode", &g2.decode),
            ]))?,
            adam(params_of(&[
                ("disc2", &d2.features),
                ("disc2_embed", &d2.embed),
                ("disc2_head", &d2.head),
            ]))?,
        ];
        Ok(StackGan {
            ca1,
            g1,
            d1,
            ca2,
            g2,
            d2,
            opts,
            cfg,
            rng: Rng::seed(seed.wrapping_add(1)),
            step: 0,
        })
    }

    /// Conditioning augmentation: c = μ + σ ⊙ ε (or μ without augmentation) and the KL term.
    fn augment(&self, ca: &Linear, phi: &Var, eps: &Tensor) -> (Var, Var) {
        let h = ca.forward(phi);
        let cd = self.cfg.c_dim;
        let (mu, logvar) = (h.narrow(1, 0, cd), h.narrow(1, cd, cd));
        if self.cfg.augment {
            let c = mu.add(&logvar.mul_scalar(0.5).exp().mul(&phi.constant(eps.clone())));
            // StackGAN's convention: the mean over the batch AND the dimensions (our kl_normal
            // sums the dimensions), so the weight 2 does not grow with c's size
            let kl = kl_normal(&mu, &logvar, Reduction::Mean).mul_scalar(1.0 / cd as f64);
            (c, kl)
        } else {
            let zero = phi.constant(Tensor::zeros([], DType::F32));
            (mu, zero)
        }
    }

    /// Stage I's image for φ, z, ε₁ on `phi`'s tape, with its KL term.
    pub fn stage1(&self, phi: &Var, z: &Tensor, eps: &Tensor) -> (Var, Var) {
        let (c, kl) = self.augment(&self.ca1, phi, eps);
        (
            self.g1
                .forward(&Var::cat(&[&phi.constant(z.clone()), &c], 1)),
            kl,
        )
    }

    /// Stage II's image from a stage-I image, with its KL term.
    pub fn stage2(&self, phi: &Var, draft: &Var, eps: &Tensor) -> (Var, Var) {
        let (c, kl) = self.augment(&self.ca2, phi, eps);
        (self.g2.forward(draft, &c), kl)
    }

    fn randn(&mut self, m: usize, d: usize) -> Tensor {
        Tensor::randn([m, d], 0.0, 1.0, DType::F32, &mut self.rng)
    }

    /// D's and G's update of one stage: `real` at the stage's size, `fake` made on the tape.
    #[allow(clippy::too_many_arguments)]
    fn train_stage(
        &mut self,
        stage: usize,
        phi: &Tensor,
        real: &Tensor,
        make: &dyn Fn(&Self, &Var) -> (Var, Var),
    ) -> Result<(f64, f64, f64), TrainError> {
        let step = self.step;
        let wrong = shifted(phi);
        let (gi, di) = (2 * stage, 2 * stage + 1);
        let this = &*self;
        let d = if stage == 0 { &this.d1 } else { &this.d2 };
        let d_loss = compute_gradients(&this.opts[di], |tape| {
            let p = tape.constant(phi.clone());
            let fake = {
                let _off = no_grad();
                make(this, &p).0
            }
            .detach();
            let x = tape.constant(real.clone());
            let l = bce(&d.judge(&p, &x), 1.0)
                .add(&bce(&d.judge(&tape.constant(wrong.clone()), &x), 0.0).mul_scalar(0.5))
                .add(&bce(&d.judge(&p, &fake), 0.0).mul_scalar(0.5));
            let v = finite(
                step,
                if stage == 0 { "D₁ loss" } else { "D₂ loss" },
                l.item(),
            )?;
            Ok((l, v))
        })?;
        update(
            &mut self.opts[di],
            step,
            if stage == 0 { "D₁" } else { "D₂" },
        )?;
        let this = &*self;
        let d = if stage == 0 { &this.d1 } else { &this.d2 };
        let _frozen = Frozen::new(&d.modules());
        let (g_loss, kl) = compute_gradients(&this.opts[gi], |tape| {
            let p = tape.constant(phi.clone());
            let (fake, kl) = make(this, &p);
            let adv = bce(&d.judge(&p, &fake), 1.0);
            let l = adv.add(&kl.mul_scalar(this.cfg.kl_weight));
            let v = finite(
                step,
                if stage == 0 { "G₁ loss" } else { "G₂ loss" },
                l.item(),
            )?;
            Ok((l, (v, kl.item())))
        })?;
        update(
            &mut self.opts[gi],
            step,
            if stage == 0 { "G₁" } else { "G₂" },
        )?;
        Ok((d_loss, g_loss, kl))
    }

    /// One iteration: stage I, then stage II from stage I's (updated, detached) image.
    pub fn step(&mut self, data: &Data) -> Result<Record, TrainError> {
        self.step += 1;
        let m = self.cfg.batch;
        let (x, labels, attrs) = data
            .train
            .sample_attributed(m, &mut self.rng)
            .expect("StackGAN's data has attributes (checked when built)");
        let phi = condition(&labels, &attrs);
        let x16 = downsample2(&x);
        let z = self.randn(m, self.cfg.z_dim);
        let eps1 = self.randn(m, self.cfg.c_dim);
        let eps2 = self.randn(m, self.cfg.c_dim);
        let s1 = self.train_stage(0, &phi, &x16, &|s: &Self, p: &Var| s.stage1(p, &z, &eps1))?;
        let s2 = if self.step > self.cfg.stage2_from {
            let draft = {
                let _off = no_grad();
                let t = Tape::new();
                self.stage1(&t.constant(phi.clone()), &z, &eps1)
                    .0
                    .value()
                    .clone()
            };
            self.train_stage(1, &phi, &x, &|s: &Self, p: &Var| {
                s.stage2(p, &p.constant(draft.clone()), &eps2)
            })?
        } else {
            (f64::NAN, f64::NAN, f64::NAN)
        };
        let mut rec = Record::new();
        rec.show("d1_loss", s1.0)
            .show("g1_loss", s1.1)
            .log("kl1", s1.2)
            .show("d2_loss", s2.0)
            .show("g2_loss", s2.1)
            .log("kl2", s2.2);
        Ok(rec)
    }

    /// Stage-I and stage-II images for conditions `phi` `[n, 17]`, drawn with `rng`, in
    /// evaluation mode.
    pub fn generate(&self, phi: &Tensor, rng: &mut Rng) -> (Tensor, Tensor) {
        let nets: [&dyn Module; 3] = [&self.g1, &self.g2.encode, &self.g2.decode];
        for g in nets {
            g.eval();
        }
        let _off = no_grad();
        let n = phi.dims()[0];
        let (mut one, mut two) = (Vec::new(), Vec::new());
        let mut done = 0;
        while done < n {
            let k = (n - done).min(500);
            let z = Tensor::randn([k, self.cfg.z_dim], 0.0, 1.0, DType::F32, rng);
            let e1 = Tensor::randn([k, self.cfg.c_dim], 0.0, 1.0, DType::F32, rng);
            let e2 = Tensor::randn([k, self.cfg.c_dim], 0.0, 1.0, DType::F32, rng);
            let t = Tape::new();
            let p = t.constant(phi.narrow(0, done, k).contiguous());
            let (a, _) = self.stage1(&p, &z, &e1);
            let (b, _) = self.stage2(&p, &a, &e2);
            one.push(a.value().clone());
            two.push(b.value().clone());
            done += k;
        }
        for g in nets {
            g.train(true);
        }
        let cat = |v: Vec<Tensor>| Tensor::cat(&v.iter().collect::<Vec<_>>(), 0);
        (cat(one), cat(two))
    }
}

/// The conditions of a sampling run: digit `labels[i]` in face `(i / 10) · 7 mod 37` (cycling
/// through the faces), as φ with the faces' bold/italic/serif.
pub fn sampling_conditions(labels: &[usize]) -> (Tensor, Vec<[f32; 3]>) {
    let faces: Vec<usize> = (0..labels.len())
        .map(|i| (i / 10 * 7) % Printed::FACES)
        .collect();
    let attrs: Vec<f32> = faces
        .iter()
        .flat_map(|&f| Printed::face_attributes(f).vector())
        .collect();
    let styles = faces
        .iter()
        .map(|&f| {
            let a = Printed::face_attributes(f);
            [
                a.bold as u8 as f32,
                a.italic as u8 as f32,
                a.serif() as u8 as f32,
            ]
        })
        .collect();
    (
        condition(labels, &Tensor::from_vec(attrs, [labels.len(), 7])),
        styles,
    )
}

/// Reads `DIGIT[,WORD…]`: a digit 0–9 and style words (bold, italic, condensed, light, and at
/// most one family: sans, serif, mono) into a digit and an attribute vector (family one-hot,
/// then bold, italic, condensed, light); the family is sans unless named.
pub fn parse_condition(spec: &str) -> Result<(usize, [f32; 7]), String> {
    let mut parts = spec.split(',').map(str::trim);
    let d = parts.next().unwrap_or("");
    let digit = d
        .parse::<usize>()
        .ok()
        .filter(|&v| v < 10)
        .ok_or_else(|| format!("--condition starts with a digit from 0 to 9, got '{d}'"))?;
    let mut a = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    let mut family: Option<&str> = None;
    for w in parts {
        let (slot, fam) = match w {
            "sans" => (0, true),
            "serif" => (1, true),
            "mono" => (2, true),
            "bold" => (3, false),
            "italic" => (4, false),
            "condensed" => (5, false),
            "light" => (6, false),
            other => {
                return Err(format!(
                    "unknown condition word '{other}' (bold, italic, condensed, light, sans, serif, mono)"
                ))
            }
        };
        if fam {
            if let Some(f) = family {
                return Err(format!("--condition names two families: {f} and {w}"));
            }
            family = Some(w);
            a[..3].copy_from_slice(&[0.0; 3]);
        }
        a[slot] = 1.0;
    }
    Ok((digit, a))
}

fn up2(x: &Tensor) -> Tensor {
    x.upsample_nearest2d(2)
}

impl Method for StackGan {
    fn info(&self) -> &'static MethodInfo {
        &STACKGAN
    }
    fn step(&mut self, data: &Data) -> Result<Record, TrainError> {
        StackGan::step(self, data)
    }
    fn networks(&self) -> Vec<(&'static str, &dyn Module)> {
        vec![
            ("ca1", &self.ca1),
            ("gen1", &self.g1),
            ("disc1", &self.d1.features),
            ("disc1_embed", &self.d1.embed),
            ("disc1_head", &self.d1.head),
            ("ca2", &self.ca2),
            ("gen2_encode", &self.g2.encode),
            ("gen2_decode", &self.g2.decode),
            ("disc2", &self.d2.features),
            ("disc2_embed", &self.d2.embed),
            ("disc2_head", &self.d2.head),
        ]
    }
    fn optimizers(&self) -> Vec<(&'static str, &dyn Optimizer)> {
        ["g1", "d1", "g2", "d2"]
            .into_iter()
            .zip(self.opts.iter().map(|o| o as &dyn Optimizer))
            .collect()
    }
    fn optimizers_mut(&mut self) -> Vec<(&'static str, &mut dyn Optimizer)> {
        ["g1", "d1", "g2", "d2"]
            .into_iter()
            .zip(self.opts.iter_mut().map(|o| o as &mut dyn Optimizer))
            .collect()
    }
    crate::rng_and_step!();
    fn classes(&self) -> usize {
        10
    }
    fn sample_classes(&self, labels: &[usize], rng: &mut Rng) -> Option<Tensor> {
        Some(self.generate(&sampling_conditions(labels).0, rng).1)
    }
    fn sample(&self, n: usize, rng: &mut Rng) -> Option<Tensor> {
        let labels: Vec<usize> = (0..n).map(|i| i % 10).collect();
        self.sample_classes(&labels, rng)
    }
    fn sample_condition(
        &self,
        spec: &str,
        n: usize,
        rng: &mut Rng,
    ) -> Option<Result<Tensor, String>> {
        Some(parse_condition(spec).map(|(digit, attrs)| {
            let a = Tensor::from_vec(attrs.repeat(n), [n, 7]);
            self.generate(&condition(&vec![digit; n], &a), rng).1
        }))
    }
    fn files(&self, labels: &[usize], rng: &mut Rng) -> Vec<(String, RawTensor)> {
        let (phi, styles) = sampling_conditions(labels);
        let (one, _) = self.generate(&phi, rng);
        let one = one.add_scalar(1.0).mul_scalar(0.5).clamp(0.0, 1.0);
        let attrs: Vec<i64> = styles.iter().flatten().map(|&s| s as i64).collect();
        vec![
            (
                "attrs.npy".into(),
                RawTensor::from_i64(&[labels.len(), 3], &attrs),
            ),
            (
                "samples-stage1.npy".into(),
                RawTensor::from_f32(one.dims(), &one.to_vec_f32()),
            ),
        ]
    }
    fn evaluate(&self, _data: &Data) -> Vec<(String, String)> {
        let clf = PrintedClassifier::train(0);
        let labels: Vec<usize> = (0..1000).map(|i| i % 10).collect();
        let (phi, styles) = sampling_conditions(&labels);
        let (one, two) = self.generate(&phi, &mut Rng::seed(17));
        let mut out = vec![(
            "attribute classifier held-out accuracy (bold, italic, serif)".to_string(),
            {
                let a = clf.style_accuracy();
                format!("{:.3}, {:.3}, {:.3}", a[0], a[1], a[2])
            },
        )];
        for (name, img) in [
            ("stage I (16×16, upsampled)", up2(&one)),
            ("stage II (32×32)", two),
        ] {
            let pred = clf.predict(&img);
            let agree = pred.iter().zip(&labels).filter(|(p, l)| p == l).count();
            let st = clf.styles(&img);
            let mut style_agree = [0usize; 3];
            for (got, want) in st.iter().zip(&styles) {
                for k in 0..3 {
                    style_agree[k] += (got[k] == (want[k] > 0.5)) as usize;
                }
            }
            out.push((
                format!("{name}: Fréchet distance to held-out glyphs"),
                format!("{:.2}", clf.frechet_to_held_out(&img)),
            ));
            out.push((
                format!("{name}: label agreement"),
                format!("{:.3}", agree as f64 / labels.len() as f64),
            ));
            out.push((
                format!("{name}: attribute agreement ({})", STYLES.join(", ")),
                style_agree
                    .iter()
                    .map(|&a| format!("{:.3}", a as f64 / labels.len() as f64))
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
        }
        // diversity within one condition: 10 conditions × 10 draws, mean pairwise distance
        let cond_labels: Vec<usize> = (0..10).collect();
        let (phi10, _) = sampling_conditions(&cond_labels);
        let idx: Vec<usize> = (0..100).map(|i| i / 10).collect();
        let (_, imgs) = self.generate(&phi10.index_select(0, &idx), &mut Rng::seed(23));
        let v = imgs.to_vec_f32();
        let px = 32 * 32;
        let (mut sum, mut count) = (0.0f64, 0usize);
        for c in 0..10 {
            for a in 0..10 {
                for b in a + 1..10 {
                    let (i, j) = (c * 10 + a, c * 10 + b);
                    let d: f32 = v[i * px..(i + 1) * px]
                        .iter()
                        .zip(&v[j * px..(j + 1) * px])
                        .map(|(x, y)| (x - y).abs())
                        .sum();
                    sum += d as f64 / (2.0 * px as f64);
                    count += 1;
                }
            }
        }
        out.push((
            "diversity within one condition (mean L1 between two draws, pixels in [0, 1])".into(),
            format!("{:.4}", sum / count as f64),
        ));
        out
    }
}

fn build(o: &Options, data: &DataInfo, seed: u64) -> Result<Box<dyn Method>, String> {
    if data.spec != "printed" {
        return Err(format!(
            "train stackgan: StackGAN is built for the 32-px printed digits with their styles (--data printed), not {}",
            data.spec
        ));
    }
    let cfg = StackGanConfig {
        batch: o.usize("batch"),
        z_dim: o.usize("z-dim"),
        c_dim: o.usize("c-dim"),
        kl_weight: o.f64("kl-weight"),
        augment: !o.switch("no-ca"),
        lr: o.f64("lr"),
        stage2_from: o.usize("stage2-from"),
    };
    Ok(Box::new(
        StackGan::new(cfg, seed).map_err(|e| e.to_string())?,
    ))
}

/// `minimax train stackgan`: two-stage conditional generation of printed digits.
pub static STACKGAN: MethodInfo = MethodInfo {
    name: "stackgan",
    help:
        "StackGAN: a 16×16 draft, then a 32×32 refinement, conditioned on digit and style (printed)",
    about: "StackGAN (Zhang et al. 2017) on the printed digits: the condition is the digit and \
            the face's style attributes, augmented (c = μ + σ⊙ε, KL weight 2); stage I draws a \
            16×16 image, stage II refines it to 32×32; each stage has its own D judging \
            (image, condition) with wrong pairs. Writes labels.npy, attrs.npy (bold, italic, \
            serif of each sample's requested face) and samples-stage1.npy beside samples.npy.",
    takes: BatchKind::Labelled,
    default_data: "printed",
    default_steps: 4000,
    holds_out: true,
    options: &[
        OptSpec {
            name: "batch",
            help: "batch size m",
            default: "32",
            kind: OptKind::Int { min: 2, max: 4096 },
        },
        OptSpec {
            name: "z-dim",
            help: "dimension of z",
            default: "32",
            kind: OptKind::Int { min: 1, max: 4096 },
        },
        OptSpec {
            name: "c-dim",
            help: "dimension of the augmented condition c",
            default: "16",
            kind: OptKind::Int { min: 1, max: 1024 },
        },
        OptSpec {
            name: "kl-weight",
            help: "weight of the conditioning augmentation's KL term",
            default: "2",
            kind: OptKind::Float { min: 0.0, max: 1e4 },
        },
        OptSpec {
            name: "no-ca",
            help: "ablation: no conditioning augmentation (c = μ)",
            default: "false",
            kind: OptKind::Switch,
        },
        OptSpec {
            name: "stage2-from",
            help: "stage II trains only after this many iterations of stage I",
            default: "2000",
            kind: OptKind::Int {
                min: 0,
                max: 1_000_000_000,
            },
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
    ],
    charts: &[
        ("Stage I", &["d1_loss", "g1_loss"]),
        ("Stage II", &["d2_loss", "g2_loss"]),
        ("KL of the conditioning augmentation", &["kl1", "kl2"]),
    ],
    build,
};
