//! One generator for many domains — StarGAN (Choi et al. 2018), on the printed digits, the
//! domains being the style attributes of the faces.
//!
//! ```text
//! c ∈ {0, 1}³: (bold, italic, serif), one multi-label vector (StarGAN's CelebA mode)
//! G(x, c): c tiled over the image and joined to its channels;  D(x) = (D_src(x), D_cls(x))
//! each iteration, n_critic = 5 times:
//!   draw x with its own attributes c′, and target attributes c (c′ of a shuffled batch)
//!   x̃ = G(x, c);  x̂ = αx + (1 − α)x̃,  α ~ U(0, 1) one per sample
//!   L_D = −E D_src(x) + E D_src(x̃)
//!         + λ_cls·BCE(D_cls(x), c′)                                         (λ_cls = 1)
//!         + λ_gp·E(‖∇x̂ D_src(x̂)‖₂ − 1)²,  the norm over each flattened sample (λ_gp = 10)
//!   θ_D ← Adam(θ_D, ∇L_D)
//! then once:
//!   L_G = −E D_src(G(x, c)) + λ_cls·BCE(D_cls(G(x, c)), c)
//!         + λ_rec·E‖x − G(G(x, c), c′)‖₁                                    (λ_rec = 10)
//!         [+ λ_id·E‖x − G(x, c′)‖₁   with --lambda-id: not StarGAN's, off by default]
//!   θ_G ← Adam(θ_G, ∇L_G)                              Adam 1e-4, betas (0.5, 0.999)
//! BCE: binary cross-entropy with logits, summed over the attributes, averaged over the batch
//! ```
//!
//! The domains are the combinations of three style attributes of the 37 faces, read from the
//! face list: bold, italic and serif (the serif family against sans and mono). One generator
//! learns every translation between them; D's second head says which attributes an image
//! has, and G is rewarded when D reads the requested ones from its output. The reconstruction
//! term (translate to c, then back to the image's own c′) keeps what the attributes do not
//! describe: the digit, its jitter, the face's foundry and width. It does not rule out a G that
//! maps every digit to another shape and the way back undoes it (seed 2 of the defaults does
//! that); the optional identity term, CycleGAN's, does: a scramble cannot also leave x as it is
//! when asked for x's own attributes.
//!
//! D_src(x) is a 4×4 map of critic scores (a PatchGAN's, as StarGAN's); its mean is the
//! critic's value, and the penalty differentiates the sum of the map. The penalty is WGAN-GP's
//! ([`crate::objectives::gradient_penalty_at`]): α is drawn once per sample and broadcast over
//! its pixels, and the norm is taken over the whole flattened sample.
//!
//! The printed digits give exact answers: the same (digit, instance) is rendered with the same
//! jitter in every face, so translating a held-out glyph to another face's attributes has a
//! true result — the glyph in the face that differs from the source face in just those
//! attributes (DejaVu Sans → DejaVu Sans Bold, Liberation Serif → Liberation Sans Italic).
//! [`StarGan::measure`] compares with it, and with doing nothing.

use crate::data::{BatchKind, Data, Printed, Resolution};
use crate::method::{
    finite, gan_adam, update, DataInfo, Method, MethodInfo, OptKind, OptSpec, Options, Record,
    TrainError,
};
use crate::metrics::PrintedClassifier;
use crate::models::convt;
use autograd::{no_grad, Tape, Var};
use nn::layers::NormOptions;
use nn::loss::{bce_with_logits, l1, Reduction};
use nn::optim::{compute_gradients, OptimError};
use nn::{
    params_of, Adam, Conv2d, Frozen, InstanceNorm2d, LeakyReLU, Module, Optimizer, ReLU,
    ResidualBlock, Sequential, Tanh,
};
use tensor::{Conv2dParams, DType, Rng, Tensor};

/// The attributes of a domain, in the order of the vector c: bold, italic, serif.
pub const ATTRIBUTES: [&str; 3] = ["bold", "italic", "serif"];

/// Number of attributes (the length of c).
pub const N_ATTRS: usize = 3;

/// Hyperparameters of StarGAN.
#[derive(Clone, Debug)]
pub struct StarGanConfig {
    /// Batch size m.
    pub batch: usize,
    /// D updates per G update (n_critic).
    pub n_critic: usize,
    /// λ_cls, the weight of the attribute-classification terms.
    pub lambda_cls: f64,
    /// λ_rec, the weight of the reconstruction term.
    pub lambda_rec: f64,
    /// λ_id, the weight of an identity term E‖x − G(x, c′)‖₁ (translating to x's own
    /// attributes returns x; CycleGAN's identity loss, not in StarGAN); 0: off.
    pub lambda_id: f64,
    /// λ_gp, the weight of the gradient penalty.
    pub lambda_gp: f64,
    /// Channels of G's first layer and D's first layer (they double at each downsampling).
    pub channels: usize,
    /// Residual blocks of G at the bottleneck.
    pub res_blocks: usize,
    /// Learning rate of both networks (Adam, betas 0.5, 0.999).
    pub lr: f64,
}

impl Default for StarGanConfig {
    /// StarGAN's settings — λ_cls = 1, λ_rec = 10, λ_gp = 10, n_critic = 5, Adam 1e-4
    /// (0.5, 0.999) — with networks sized for 32×32 images on a CPU: 16 channels, 2 residual
    /// blocks, batch 16.
    fn default() -> Self {
        StarGanConfig {
            batch: 16,
            n_critic: 5,
            lambda_cls: 1.0,
            lambda_rec: 10.0,
            lambda_id: 0.0,
            lambda_gp: 10.0,
            channels: 16,
            res_blocks: 2,
            lr: 1e-4,
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

fn norm(c: usize) -> InstanceNorm2d {
    InstanceNorm2d::with_options(
        c,
        NormOptions {
            affine: true,
            ..NormOptions::instance_norm()
        },
    )
}

/// StarGAN's generator: x and c tiled over it in, an image of the same size out.
///
/// ```text
/// [1 + 3, s, s] → Conv 7×7 (→ c) → IN → ReLU
///   → Conv 4×4 s2 (→ 2c) → IN → ReLU → Conv 4×4 s2 (→ 4c) → IN → ReLU      (s/4)
///   → residual blocks (Conv 3×3 → IN → ReLU → Conv 3×3 → IN, plus the input)
///   → ConvT 4×4 s2 (→ 2c) → IN → ReLU → ConvT 4×4 s2 (→ c) → IN → ReLU
///   → Conv 7×7 (→ 1) → tanh
/// ```
/// (instance norm with affine parameters, as StarGAN's).
pub struct StarG {
    /// The layers, on the joined [x, tiled c].
    pub net: Sequential,
    n_attrs: usize,
}

impl StarG {
    /// A generator for `n_attrs` attributes with `c` channels in its first layer and `blocks`
    /// residual blocks, drawn from `rng`.
    pub fn new(n_attrs: usize, c: usize, blocks: usize, rng: &mut Rng) -> StarG {
        let mut net = Sequential::new()
            .add(conv(1 + n_attrs, c, 7, 1, 3, rng))
            .add(norm(c))
            .add(ReLU::new())
            .add(conv(c, 2 * c, 4, 2, 1, rng))
            .add(norm(2 * c))
            .add(ReLU::new())
            .add(conv(2 * c, 4 * c, 4, 2, 1, rng))
            .add(norm(4 * c))
            .add(ReLU::new());
        for _ in 0..blocks {
            net = net.add(ResidualBlock::new(
                Sequential::new()
                    .add(conv(4 * c, 4 * c, 3, 1, 1, rng))
                    .add(norm(4 * c))
                    .add(ReLU::new())
                    .add(conv(4 * c, 4 * c, 3, 1, 1, rng))
                    .add(norm(4 * c)),
            ));
        }
        let net = net
            .add(convt(4 * c, 2 * c, rng))
            .add(norm(2 * c))
            .add(ReLU::new())
            .add(convt(2 * c, c, rng))
            .add(norm(c))
            .add(ReLU::new())
            .add(conv(c, 1, 7, 1, 3, rng))
            .add(Tanh::new());
        StarG { net, n_attrs }
    }

    /// G(x, c): `x` `[m, 1, s, s]`, `c` `[m, n_attrs]` on the same tape.
    #[track_caller]
    pub fn forward(&self, x: &Var, c: &Var) -> Var {
        let d = x.dims().to_vec();
        assert!(
            d.len() == 4 && c.dims() == [d[0], self.n_attrs],
            "StarG: x must be [m, 1, s, s] and c [m, {}], got {:?} and {:?}",
            self.n_attrs,
            d,
            c.dims()
        );
        let tiled = c
            .reshape([d[0], self.n_attrs, 1, 1])
            .expand([d[0], self.n_attrs, d[2], d[3]]);
        self.net.forward(&Var::cat(&[x, &tiled], 1))
    }
}

/// StarGAN's discriminator: stride-2 convolutions with LeakyReLU(0.01) and no normalisation
/// down to 4×4, then two heads — D_src, a 3×3 convolution to a 4×4 map of critic scores, and
/// D_cls, a 4×4 convolution to one logit per attribute.
pub struct StarD {
    /// Conv 4×4 s2 → LeakyReLU(0.01), channels c, 2c, 4c, … until the map is 4×4.
    pub trunk: Sequential,
    /// The critic head: Conv 3×3 s1 (→ 1).
    pub src: Conv2d,
    /// The attribute head: Conv 4×4 (→ n_attrs), no bias (as StarGAN's).
    pub cls: Conv2d,
}

impl StarD {
    /// A discriminator of `side`×`side` images (a power of two ≥ 8) with `c` channels in its
    /// first layer, for `n_attrs` attributes, drawn from `rng`.
    #[track_caller]
    pub fn new(side: usize, c: usize, n_attrs: usize, rng: &mut Rng) -> StarD {
        assert!(
            side >= 8 && side.is_power_of_two(),
            "StarD: the side must be a power of two ≥ 8, got {side}"
        );
        let (mut trunk, mut ch, mut s, mut cin) = (Sequential::new(), c, side, 1);
        while s > 4 {
            trunk = trunk
                .add(conv(cin, ch, 4, 2, 1, rng))
                .add(LeakyReLU::new(0.01));
            cin = ch;
            ch *= 2;
            s /= 2;
        }
        let src = conv(cin, 1, 3, 1, 1, rng);
        let cls = Conv2d::with_options(cin, n_attrs, (4, 4), Conv2dParams::default(), false, rng);
        StarD { trunk, src, cls }
    }

    /// D_src(x), the map of critic scores `[m, 1, 4, 4]`.
    pub fn critic(&self, x: &Var) -> Var {
        self.src.forward(&self.trunk.forward(x))
    }

    /// (D_src(x), D_cls(x)): the critic map and the attribute logits `[m, n_attrs]`.
    pub fn forward(&self, x: &Var) -> (Var, Var) {
        let h = self.trunk.forward(x);
        let m = h.dims()[0];
        let cls = self.cls.forward(&h);
        let n = cls.dims()[1];
        (self.src.forward(&h), cls.reshape([m, n]))
    }

    /// The three parts, for freezing and optimizers.
    pub fn modules(&self) -> [&dyn Module; 3] {
        [&self.trunk, &self.src, &self.cls]
    }

    /// Every parameter, in the order of [`StarD::modules`].
    pub fn params(&self) -> Vec<autograd::Param> {
        self.modules().iter().flat_map(|m| m.params()).collect()
    }
}

/// α for the penalty: `[m, 1, 1, 1]`, one U(0, 1) draw per sample.
pub fn draw_alpha(m: usize, rng: &mut Rng) -> Tensor {
    Tensor::rand_uniform([m, 1, 1, 1], 0.0, 1.0, DType::F32, rng)
}

/// x̂ = αx + (1 − α)x̃ for `alpha` `[m, 1, 1, 1]`: each sample on the segment between its real
/// and its generated image.
pub fn interpolates(real: &Tensor, fake: &Tensor, alpha: &Tensor) -> Tensor {
    real.mul(alpha).add(&fake.mul(&alpha.neg().add_scalar(1.0)))
}

/// StarGAN's penalty E(‖∇x̂ D_src(x̂)‖₂ − 1)², x̂ = αx + (1 − α)x̃, with the given per-sample
/// `alpha` `[m, 1, 1, 1]`; differentiable with respect to D's parameters (the gradient is
/// recorded). `critic` is D_src.
pub fn gradient_penalty(
    critic: &dyn Fn(&Var) -> Var,
    real: &Var,
    fake: &Var,
    alpha: &Tensor,
) -> Var {
    crate::objectives::gradient_penalty_at(critic, real, fake, alpha)
}

/// (bold, italic, serif) of each row of the printed digits' 7-long attribute vectors
/// (family sans/serif/mono, bold, italic, condensed, light): `[m, 7]` → `[m, 3]`.
pub fn domain_of(attrs: &Tensor) -> Tensor {
    attrs.index_select(1, &[3, 4, 1])
}

/// c as 0/1 from a face's attributes.
pub fn face_domain(face: usize) -> [f32; 3] {
    let a = Printed::face_attributes(face);
    [
        a.bold as u8 as f32,
        a.italic as u8 as f32,
        a.serif() as u8 as f32,
    ]
}

/// The face that differs from `face` in the attributes `target` (bold, italic, serif) and in
/// nothing else — the same foundry (DejaVu or Liberation), the same width (condensed or not),
/// mono or not — if there is one. Mono faces have no serif counterpart, nor the narrow
/// Liberation faces or DejaVu's only light face. `target` equal to the face's own attributes
/// gives `face`.
pub fn counterpart(face: usize, target: [bool; 3]) -> Option<usize> {
    let key = |f: usize| {
        let a = Printed::face_attributes(f);
        (
            Printed::face_name(f).starts_with("DejaVu"),
            a.condensed,
            a.light,
            a.family == crate::data::Family::Mono,
        )
    };
    (0..Printed::FACES).find(|&f| {
        let a = Printed::face_attributes(f);
        key(f) == key(face) && [a.bold, a.italic, a.serif()] == target
    })
}

/// The held-out translation tasks of [`StarGan::measure`]: for every held-out glyph `i` and
/// every attribute combination other than its own that has a [`counterpart`] face `f`,
/// (`i`, the combination, the position of the same glyph in `f`) — 204 tasks per held-out
/// (digit, instance), 4,080 in all.
pub fn held_out_tasks(held: &Printed) -> Vec<(usize, [f32; 3], usize)> {
    let mut v = Vec::new();
    for i in 0..held.len() {
        let face = held.index(i).face;
        for k in 0..8 {
            let t = [k & 4 != 0, k & 2 != 0, k & 1 != 0];
            let Some(f) = counterpart(face, t) else {
                continue;
            };
            if f == face {
                continue;
            }
            if let Some(j) = held.same_glyph(i, f) {
                v.push((i, t.map(|b| b as u8 as f32), j));
            }
        }
    }
    v
}

/// What [`StarGan::measure`] found on the held-out translation tasks.
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    /// Number of (glyph, target attributes) tasks.
    pub tasks: usize,
    /// Mean L1 between G(x, c) and the truth, pixels in [0, 1].
    pub l1: f64,
    /// Mean L1 between the source x itself and the truth (doing nothing).
    pub l1_identity: f64,
    /// With a classifier: the fraction of translations whose bold, italic and serif it reads
    /// as requested, per attribute, then all three at once.
    pub attributes: Option<[f64; 4]>,
    /// The same for the sources as they are (doing nothing).
    pub attributes_identity: Option<[f64; 4]>,
    /// The same for the true glyphs (what the classifier can read at best).
    pub attributes_truth: Option<[f64; 4]>,
    /// With a classifier: the fraction of translations it reads as the source's digit.
    pub labels: Option<f64>,
}

fn agreement(read: &[[bool; 3]], want: &[[f32; 3]]) -> [f64; 4] {
    let n = read.len().max(1) as f64;
    let mut a = [0.0; 4];
    for (r, w) in read.iter().zip(want) {
        let ok: Vec<bool> = (0..3).map(|k| r[k] == (w[k] > 0.5)).collect();
        for k in 0..3 {
            a[k] += ok[k] as u8 as f64;
        }
        a[3] += ok.iter().all(|&b| b) as u8 as f64;
    }
    a.map(|x| x / n)
}

/// G, D, their optimizers and the generator of every random draw.
pub struct StarGan {
    /// G(x, c).
    pub g: StarG,
    /// (D_src, D_cls).
    pub d: StarD,
    opt_g: Adam,
    opt_d: Adam,
    /// Hyperparameters.
    pub cfg: StarGanConfig,
    rng: Rng,
    step: usize,
}

/// BCE with logits summed over the attributes and averaged over the batch (StarGAN's).
fn bce_attrs(logits: &Var, target: &Var) -> Var {
    bce_with_logits(logits, target, None, Reduction::Sum).mul_scalar(1.0 / logits.dims()[0] as f64)
}

impl StarGan {
    /// G and D for 32×32 images, drawn from `seed` (PyTorch's default initialisation, as
    /// StarGAN's); training draws from `seed + 1`. (DCGAN's N(0, 0.02²) initialisation, which
    /// the other adversarial methods here use, made the small networks of the tests fall into
    /// scrambling digits — see `docs/translation.md` — in five runs of seven, and did no better
    /// at the defaults: one seed of three, as with PyTorch's.)
    pub fn new(cfg: StarGanConfig, seed: u64) -> Result<StarGan, OptimError> {
        StarGan::with_side(cfg, 32, seed)
    }

    /// [`StarGan::new`] for `side`×`side` images.
    pub fn with_side(cfg: StarGanConfig, side: usize, seed: u64) -> Result<StarGan, OptimError> {
        let mut rng = Rng::seed(seed);
        let g = StarG::new(N_ATTRS, cfg.channels, cfg.res_blocks, &mut rng);
        let d = StarD::new(side, cfg.channels, N_ATTRS, &mut rng);
        let opt_g = gan_adam(g.net.named_params(), cfg.lr)?;
        let opt_d = gan_adam(
            params_of(&[
                ("disc", &d.trunk),
                ("disc_src", &d.src),
                ("disc_cls", &d.cls),
            ]),
            cfg.lr,
        )?;
        Ok(StarGan {
            g,
            d,
            opt_g,
            opt_d,
            cfg,
            rng: Rng::seed(seed.wrapping_add(1)),
            step: 0,
        })
    }

    /// A batch: images, their own attributes c′ and target attributes c (c′ of the batch
    /// shuffled, as StarGAN draws them).
    fn batch(&mut self, data: &Data) -> (Tensor, Tensor, Tensor) {
        let m = self.cfg.batch;
        let (x, _, a) = data
            .train
            .sample_attributed(m, &mut self.rng)
            .expect("StarGAN's data has attributes (checked when built)");
        let own = domain_of(&a);
        let target = own.index_select(0, &self.rng.permutation(m));
        (x, own, target)
    }

    /// One iteration (the box above): n_critic updates of D, then one of G.
    pub fn step(&mut self, data: &Data) -> Result<Record, TrainError> {
        self.step += 1;
        let step = self.step;
        let mut d_sum = [0.0f64; 4];
        for _ in 0..self.cfg.n_critic {
            let (x, own, target) = self.batch(data);
            let alpha = draw_alpha(x.dims()[0], &mut self.rng);
            let this = &*self;
            let fake = {
                let _off = no_grad();
                let t = Tape::new();
                this.g
                    .forward(&t.constant(x.clone()), &t.constant(target))
                    .value()
                    .clone()
            };
            let cfg = &this.cfg;
            let terms = compute_gradients(&this.opt_d, |tape| {
                let (xv, fv) = (tape.constant(x.clone()), tape.constant(fake.clone()));
                let (src_real, cls_real) = this.d.forward(&xv);
                let src_fake = this.d.critic(&fv);
                let adv = src_fake.mean_all().sub(&src_real.mean_all());
                let cls = bce_attrs(&cls_real, &tape.constant(own.clone()));
                let gp = gradient_penalty(&|v: &Var| this.d.critic(v), &xv, &fv, &alpha);
                let gp_v = finite(step, "gradient penalty", gp.item())?;
                let loss = adv
                    .add(&cls.mul_scalar(cfg.lambda_cls))
                    .add(&gp.mul_scalar(cfg.lambda_gp));
                let l = finite(step, "D loss", loss.item())?;
                Ok((loss, [l, adv.item(), cls.item(), gp_v]))
            })?;
            update(&mut self.opt_d, step, "D")?;
            for k in 0..4 {
                d_sum[k] += terms[k] / self.cfg.n_critic as f64;
            }
        }
        let (x, own, target) = self.batch(data);
        let _frozen = Frozen::new(&self.d.modules());
        let this = &*self;
        let cfg = &this.cfg;
        let g_terms = compute_gradients(&this.opt_g, |tape| {
            let xv = tape.constant(x);
            let fake = this.g.forward(&xv, &tape.constant(target.clone()));
            let (src, cls) = this.d.forward(&fake);
            let adv = src.mean_all().neg();
            let cls = bce_attrs(&cls, &tape.constant(target));
            let back = this.g.forward(&fake, &tape.constant(own.clone()));
            let rec = l1(&back, &xv, Reduction::Mean);
            let mut loss = adv
                .add(&cls.mul_scalar(cfg.lambda_cls))
                .add(&rec.mul_scalar(cfg.lambda_rec));
            let mut id = f64::NAN;
            if cfg.lambda_id > 0.0 {
                let same = l1(
                    &this.g.forward(&xv, &tape.constant(own)),
                    &xv,
                    Reduction::Mean,
                );
                id = same.item();
                loss = loss.add(&same.mul_scalar(cfg.lambda_id));
            }
            let l = finite(step, "G loss", loss.item())?;
            Ok((loss, [l, adv.item(), cls.item(), rec.item(), id]))
        })?;
        update(&mut self.opt_g, step, "G")?;
        let mut rec = Record::new();
        rec.show("d_loss", d_sum[0])
            .log("d_adv", d_sum[1])
            .log("d_cls", d_sum[2])
            .show("gp", d_sum[3])
            .show("g_loss", g_terms[0])
            .log("g_adv", g_terms[1])
            .show("g_cls", g_terms[2])
            .show("g_rec", g_terms[3])
            .log("g_id", g_terms[4]);
        Ok(rec)
    }

    /// G(x, c) for images `x` `[n, 1, s, s]` in [−1, 1] and attributes `c` `[n, 3]`, in
    /// evaluation mode without recording, in chunks of 500.
    pub fn generate(&self, x: &Tensor, c: &Tensor) -> Tensor {
        self.g.net.eval();
        let _off = no_grad();
        let n = x.dims()[0];
        let mut parts = Vec::new();
        let mut done = 0;
        while done < n {
            let k = (n - done).min(500);
            let t = Tape::new();
            let out = self.g.forward(
                &t.constant(x.narrow(0, done, k).contiguous()),
                &t.constant(c.narrow(0, done, k).contiguous()),
            );
            parts.push(out.value().clone());
            done += k;
        }
        self.g.net.train(true);
        Tensor::cat(&parts.iter().collect::<Vec<_>>(), 0)
    }

    /// Translates the held-out glyphs ([`held_out_tasks`]) and compares with the truth and with
    /// doing nothing; with a classifier, also reads the attributes and digits.
    pub fn measure(&self, clf: Option<&PrintedClassifier>) -> Measured {
        let (_, held) = Printed::new(Resolution::R32).split_held_out();
        let tasks = held_out_tasks(&held);
        let src: Vec<usize> = tasks.iter().map(|t| t.0).collect();
        let tru: Vec<usize> = tasks.iter().map(|t| t.2).collect();
        let want: Vec<[f32; 3]> = tasks.iter().map(|t| t.1).collect();
        let x = held.images().index_select(0, &src);
        let truth = held.images().index_select(0, &tru);
        let c = Tensor::from_vec(want.iter().flatten().copied().collect(), [tasks.len(), 3]);
        let out = self.generate(&x, &c);
        let l1 = |a: &Tensor| a.sub(&truth).abs().mean_all().item() / 2.0;
        let mut m = Measured {
            tasks: tasks.len(),
            l1: l1(&out),
            l1_identity: l1(&x),
            attributes: None,
            attributes_identity: None,
            attributes_truth: None,
            labels: None,
        };
        if let Some(clf) = clf {
            m.attributes = Some(agreement(&clf.styles(&out), &want));
            m.attributes_identity = Some(agreement(&clf.styles(&x), &want));
            m.attributes_truth = Some(agreement(&clf.styles(&truth), &want));
            let digits = clf.predict(&out);
            let right = digits
                .iter()
                .zip(&src)
                .filter(|(d, &i)| **d == held.labels()[i])
                .count();
            m.labels = Some(right as f64 / tasks.len() as f64);
        }
        m
    }
}

/// The eight attribute combinations, (bold, italic, serif) as bits 4, 2, 1 of 0..8.
fn combination(k: usize) -> [f32; 3] {
    [
        (k & 4 != 0) as u8 as f32,
        (k & 2 != 0) as u8 as f32,
        (k & 1 != 0) as u8 as f32,
    ]
}

fn fmt4(a: [f64; 4]) -> String {
    a.iter()
        .map(|v| format!("{v:.3}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Method for StarGan {
    fn info(&self) -> &'static MethodInfo {
        &STARGAN
    }
    fn step(&mut self, data: &Data) -> Result<Record, TrainError> {
        StarGan::step(self, data)
    }
    fn networks(&self) -> Vec<(&'static str, &dyn Module)> {
        vec![
            ("gen", &self.g.net),
            ("disc", &self.d.trunk),
            ("disc_src", &self.d.src),
            ("disc_cls", &self.d.cls),
        ]
    }
    fn optimizers(&self) -> Vec<(&'static str, &dyn Optimizer)> {
        vec![("gen", &self.opt_g), ("disc", &self.opt_d)]
    }
    fn optimizers_mut(&mut self) -> Vec<(&'static str, &mut dyn Optimizer)> {
        vec![("gen", &mut self.opt_g), ("disc", &mut self.opt_d)]
    }
    crate::rng_and_step!();
    /// `n` held-out glyphs drawn with `rng`, the i-th translated to the attribute combination
    /// i mod 8 ((bold, italic, serif) as bits 4, 2, 1): StarGAN translates, it does not draw
    /// from noise.
    fn sample(&self, n: usize, rng: &mut Rng) -> Option<Tensor> {
        let (_, held) = Printed::new(Resolution::R32).split_held_out();
        let idx: Vec<usize> = (0..n).map(|_| rng.below(held.len())).collect();
        let c: Vec<f32> = (0..n).flat_map(|i| combination(i % 8)).collect();
        Some(self.generate(
            &held.images().index_select(0, &idx),
            &Tensor::from_vec(c, [n, 3]),
        ))
    }
    fn attribute_names(&self) -> &'static [&'static str] {
        &ATTRIBUTES
    }
    fn translate_to(&self, x: &Tensor, attrs: &[f32]) -> Option<Tensor> {
        if attrs.len() != N_ATTRS {
            return None;
        }
        let n = x.dims()[0];
        Some(self.generate(x, &Tensor::from_vec(attrs.repeat(n), [n, N_ATTRS])))
    }
    fn pictures(&self, _data: &Data) -> Vec<(String, crate::report::Picture)> {
        // digits 0–9 (instance 8) in DejaVu Sans and Liberation Serif, each to all 8 domains
        let (_, held) = Printed::new(Resolution::R32).split_held_out();
        let mut out = Vec::new();
        for face in [4, 36] {
            let idx: Vec<usize> = (0..held.len())
                .filter(|&i| held.index(i).face == face && held.index(i).instance == 8)
                .collect();
            let x = held.images().index_select(0, &idx);
            let mut rows = vec![x.clone()];
            for k in 0..8 {
                let c: Vec<f32> = (0..idx.len()).flat_map(|_| combination(k)).collect();
                rows.push(self.generate(&x, &Tensor::from_vec(c, [idx.len(), 3])));
            }
            let grid = Tensor::cat(&rows.iter().collect::<Vec<_>>(), 0);
            out.push((
                format!(
                    "Held-out digits in {} (top row), translated to plain, serif, italic, \
                     italic serif, bold, bold serif, bold italic, bold italic serif (rows below)",
                    Printed::face_name(face)
                ),
                crate::report::image_grid(&grid, idx.len(), 1, 2).into(),
            ));
        }
        out
    }
    fn evaluate(&self, _data: &Data) -> Vec<(String, String)> {
        let clf = PrintedClassifier::train(0);
        let m = self.measure(Some(&clf));
        let mut v = vec![
            (
                format!(
                    "held-out translations to another face's attributes ({} tasks): L1 to the \
                     same glyph in that face (pixels in [0, 1])",
                    m.tasks
                ),
                format!("{:.4}", m.l1),
            ),
            (
                "the same L1 for doing nothing (the source itself)".into(),
                format!("{:.4}", m.l1_identity),
            ),
        ];
        let a = clf.style_accuracy();
        v.push((
            "attribute classifier held-out accuracy (bold, italic, serif)".into(),
            format!("{:.3}, {:.3}, {:.3}", a[0], a[1], a[2]),
        ));
        for (what, x) in [
            ("translations", m.attributes),
            ("doing nothing", m.attributes_identity),
            ("the true glyphs", m.attributes_truth),
        ] {
            if let Some(x) = x {
                v.push((
                    format!(
                        "attribute agreement with the target, {what} (bold, italic, serif, all three)"
                    ),
                    fmt4(x),
                ));
            }
        }
        if let Some(l) = m.labels {
            v.push((
                "label preservation (the classifier reads the source's digit)".into(),
                format!("{l:.3}"),
            ));
        }
        v
    }
}

fn build(o: &Options, data: &DataInfo, seed: u64) -> Result<Box<dyn Method>, String> {
    if data.spec != "printed" {
        return Err(format!(
            "train stargan: StarGAN is built for the 32-px printed digits with their styles (--data printed), not {}",
            data.spec
        ));
    }
    let cfg = StarGanConfig {
        batch: o.usize("batch"),
        n_critic: o.usize("n-critic"),
        lambda_cls: o.f64("lambda-cls"),
        lambda_rec: o.f64("lambda-rec"),
        lambda_id: o.f64("lambda-id"),
        lambda_gp: o.f64("lambda-gp"),
        channels: o.usize("channels"),
        res_blocks: o.usize("res-blocks"),
        lr: o.f64("lr"),
    };
    Ok(Box::new(
        StarGan::new(cfg, seed).map_err(|e| e.to_string())?,
    ))
}

/// `minimax train stargan`: one generator translating printed digits between style domains.
pub static STARGAN: MethodInfo = MethodInfo {
    name: "stargan",
    help:
        "StarGAN: one G(x, c) translating between all combinations of bold, italic, serif (printed)",
    about: "StarGAN (Choi et al. 2018) on the printed digits: one generator G(x, c) with the \
            target attributes c = (bold, italic, serif) tiled over the image; D has a critic \
            head (WGAN-GP, λ_gp = 10, α per sample, norm per sample) and an attribute head \
            (binary cross-entropy per attribute, λ_cls = 1); G also reconstructs x from G(x, c) \
            with x's own attributes (L1, λ_rec = 10); 5 D updates per G update, Adam 1e-4 \
            (0.5, 0.999). The run translates held-out glyphs to other faces' attributes and \
            compares with the same glyphs rendered in those faces. `minimax translate --to \
            bold,italic` translates images of your own.",
    takes: BatchKind::Labelled,
    default_data: "printed",
    default_steps: 1200,
    holds_out: true,
    options: &[
        OptSpec {
            name: "batch",
            help: "batch size m",
            default: "16",
            kind: OptKind::Int { min: 2, max: 4096 },
        },
        OptSpec {
            name: "n-critic",
            help: "D updates per G update",
            default: "5",
            kind: OptKind::Int { min: 1, max: 100 },
        },
        OptSpec {
            name: "lambda-cls",
            help: "λ_cls, the weight of the attribute-classification terms",
            default: "1",
            kind: OptKind::Float { min: 0.0, max: 1e6 },
        },
        OptSpec {
            name: "lambda-rec",
            help: "λ_rec, the weight of the reconstruction term",
            default: "10",
            kind: OptKind::Float { min: 0.0, max: 1e6 },
        },
        OptSpec {
            name: "lambda-id",
            help: "λ_id, the weight of an identity term |x − G(x, own attributes)| (0: off, as StarGAN)",
            default: "0",
            kind: OptKind::Float { min: 0.0, max: 1e6 },
        },
        OptSpec {
            name: "lambda-gp",
            help: "λ_gp, the weight of the gradient penalty",
            default: "10",
            kind: OptKind::Float { min: 0.0, max: 1e6 },
        },
        OptSpec {
            name: "channels",
            help: "channels of the first layer of G and of D (doubling at each downsampling)",
            default: "16",
            kind: OptKind::Int { min: 1, max: 256 },
        },
        OptSpec {
            name: "res-blocks",
            help: "residual blocks at G's bottleneck",
            default: "2",
            kind: OptKind::Int { min: 0, max: 16 },
        },
        OptSpec {
            name: "lr",
            help: "learning rate of both networks (Adam, betas 0.5, 0.999)",
            default: "1e-4",
            kind: OptKind::Float {
                min: 0.0,
                max: 10.0,
            },
        },
    ],
    charts: &[
        ("Critic terms (WGAN-GP)", &["d_adv", "g_adv", "gp"]),
        ("Attribute classification", &["d_cls", "g_cls"]),
        ("Reconstruction", &["g_rec"]),
    ],
    build,
};
