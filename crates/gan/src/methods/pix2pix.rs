//! Conditional generation from an image — pix2pix with a PatchGAN discriminator (Isola et al.
//! 2017).
//!
//! ```text
//! G: A → B, a U-Net (encoder down to 1×1, decoder back up, each decoder level joined to the
//!    encoder level of the same size; dropout in the two innermost decoder levels)
//! D(A, B): a PatchGAN — a map of logits, each judging one patch of the pair (A, B)
//! each iteration:
//!   sample m pairs (A, B)
//!   L_D = ½ [ BCE(D(A, B), 1) + BCE(D(A, G(A)), 0) ]          (mean over the map; "D's loss halved")
//!   θd ← θd − η ∇L_D
//!   L_G = BCE(D(A, G(A)), 1) + λ·‖G(A) − B‖₁                  (λ = 100)
//!   θg ← θg − η ∇L_G
//! ```
//!
//! The L1 term alone (`--objective l1`) learns the average of what could be B: right on the
//! low frequencies, blurry wherever B is uncertain. The GAN term alone (`--objective gan`) makes
//! sharp images that need not be the B of this A. Together, L1 pins down the content and the
//! PatchGAN — which only sees patches, so it judges texture and edges — the sharpness.
//!
//! The PatchGAN: Conv(4, s2) with LeakyReLU(0.2), then n − 1 more Conv(4, s2) + BN + LeakyReLU,
//! then Conv(4, s1) + BN + LeakyReLU and Conv(4, s1) to one logit per patch. Each logit sees a
//! square of [`receptive_field`]`(n)` pixels: 16 for n = 1, 34 for 2, 70 for 3. On 32-px glyphs
//! n = 1 judges patches of half the image; n = 2 already sees all of it (a plain D).

use crate::data::{BatchKind, Data};
use crate::method::{
    finite, gan_adam, update, DataInfo, Method, MethodInfo, OptKind, OptSpec, Options, Record,
    TrainError,
};
use crate::report::{image_grid, Picture};
use autograd::{no_grad, Tape, Var};
use nn::loss::{bce_with_logits, l1, Reduction};
use nn::optim::{compute_gradients, OptimError};
use nn::{
    Adam, BatchNorm2d, Conv2d, Dropout, Frozen, LeakyReLU, Module, Optimizer, ReLU, Sequential,
    Tanh,
};
use tensor::{Conv2dParams, DType, Rng, Tensor};

/// The side of the square each PatchGAN logit sees, for `n` stride-2 layers: going back from
/// one output pixel, each 4×4 stride-1 layer adds 3 pixels and each 4×4 stride-2 layer maps r to
/// 2(r − 1) + 4.
pub fn receptive_field(n: usize) -> usize {
    let mut r = 1 + 3 + 3;
    for _ in 0..n {
        r = 2 * (r - 1) + 4;
    }
    r
}

use crate::models::{conv as down, convt as up};

/// The U-Net generator: `levels` encoder levels, each halving the side, and as many decoder
/// levels, each doubling it and joined (concatenated along channels) to the encoder level of
/// the same size.
pub struct UNet {
    downs: Vec<Sequential>,
    ups: Vec<Sequential>,
    drops: Vec<Option<Dropout>>,
    names: Vec<String>,
}

impl UNet {
    /// A U-Net for `side`×`side` one-channel images (`side` a power of two, down to 1×1), with
    /// `ngf` channels at the first level, doubling up to 4·ngf; dropout `p` in the two innermost
    /// decoder levels.
    pub fn new(side: usize, ngf: usize, p: f64, rng: &mut Rng) -> UNet {
        let levels = side.trailing_zeros() as usize;
        let ch: Vec<usize> = (0..levels).map(|i| ngf << i.min(2)).collect();
        let mut downs = Vec::new();
        for i in 0..levels {
            let cin = if i == 0 { 1 } else { ch[i - 1] };
            let mut s = Sequential::new();
            if i > 0 {
                s = s.add(LeakyReLU::new(0.2));
            }
            s = s.add(down(cin, ch[i], rng));
            if i > 0 && i + 1 < levels {
                s = s.add(BatchNorm2d::new(ch[i]));
            }
            downs.push(s);
        }
        // decoder level j brings the innermost level (levels − 1 − j) back up to level (levels − 2 − j)
        let mut ups = Vec::new();
        let mut drops = Vec::new();
        for j in 0..levels {
            let i = levels - 1 - j; // the encoder level this decoder level undoes
            let cin = if j == 0 { ch[i] } else { 2 * ch[i] };
            let cout = if i == 0 { 1 } else { ch[i - 1] };
            let mut s = Sequential::new().add(ReLU::new()).add(up(cin, cout, rng));
            if i == 0 {
                s = s.add(Tanh::new());
            } else {
                s = s.add(BatchNorm2d::new(cout));
            }
            ups.push(s);
            drops.push((j < 2 && i > 0 && p > 0.0).then(|| Dropout::new(p, rng)));
        }
        let names = (0..levels)
            .map(|i| format!("down{i}"))
            .chain((0..levels).map(|j| format!("up{j}")))
            .collect();
        UNet {
            downs,
            ups,
            drops,
            names,
        }
    }

    /// The dropout layers' generators (saved in checkpoints so a resumed run draws the same
    /// masks).
    fn dropouts(&self) -> impl Iterator<Item = &Dropout> {
        self.drops.iter().flatten()
    }
}

impl Module for UNet {
    fn forward(&self, x: &Var) -> Var {
        let mut skips = Vec::new();
        let mut h = x.clone();
        for d in &self.downs {
            h = d.forward(&h);
            skips.push(h.clone());
        }
        let levels = self.downs.len();
        for (j, (u, drop)) in self.ups.iter().zip(&self.drops).enumerate() {
            if j > 0 {
                // join the encoder level of the same size
                h = Var::cat(&[&h, &skips[levels - 1 - j]], 1);
            }
            h = u.forward(&h);
            if let Some(d) = drop {
                h = d.forward(&h);
            }
        }
        h
    }
    fn describe(&self) -> String {
        format!("UNet(levels={})", self.downs.len())
    }
    fn children(&self) -> Vec<(String, &dyn Module)> {
        let mods = self.downs.iter().chain(&self.ups).map(|s| s as &dyn Module);
        self.names.iter().cloned().zip(mods).collect()
    }
    fn set_own_training(&self, training: bool) {
        for d in self.dropouts() {
            d.set_own_training(training);
        }
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

/// The PatchGAN on pairs (A, B) joined along channels: `n` stride-2 layers, then two stride-1
/// layers, `ndf` channels at the first (doubling, at most 8·ndf).
pub fn patchgan(n: usize, ndf: usize, rng: &mut Rng) -> Sequential {
    let s1 = Conv2dParams::new((1, 1), (1, 1));
    let mut s = Sequential::new()
        .add(down(2, ndf, rng))
        .add(LeakyReLU::new(0.2));
    let mut c = ndf;
    for _ in 1..n {
        let next = (c * 2).min(8 * ndf);
        s = s
            .add(down(c, next, rng))
            .add(BatchNorm2d::new(next))
            .add(LeakyReLU::new(0.2));
        c = next;
    }
    let next = (c * 2).min(8 * ndf);
    s.add(Conv2d::with_options(c, next, (4, 4), s1, true, rng))
        .add(BatchNorm2d::new(next))
        .add(LeakyReLU::new(0.2))
        .add(Conv2d::with_options(next, 1, (4, 4), s1, true, rng))
}

/// What pix2pix's G is trained on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Objective {
    /// GAN + λ·L1 (pix2pix).
    Pix2pix,
    /// λ·L1 alone (no D).
    L1,
    /// The GAN term alone.
    Gan,
}

/// Hyperparameters of pix2pix.
#[derive(Clone, Debug)]
pub struct Pix2pixConfig {
    /// Batch size m.
    pub batch: usize,
    /// λ, the weight of the L1 term.
    pub lambda: f64,
    /// PatchGAN's stride-2 layers n.
    pub patch_layers: usize,
    /// Channels of G's first level.
    pub ngf: usize,
    /// Channels of D's first layer.
    pub ndf: usize,
    /// Dropout in G's two innermost decoder levels.
    pub dropout: f64,
    /// Learning rate of both networks (Adam, betas 0.5, 0.999).
    pub lr: f64,
    /// What G is trained on.
    pub objective: Objective,
}

impl Default for Pix2pixConfig {
    /// λ = 100, n = 1 (16-px patches), G 32 channels and D 32 (half of pix2pix's 64, for a
    /// CPU), dropout ½, Adam 2e-4 (0.5, 0.999), batch 16.
    fn default() -> Self {
        Pix2pixConfig {
            batch: 16,
            lambda: 100.0,
            patch_layers: 1,
            ngf: 32,
            ndf: 32,
            dropout: 0.5,
            lr: 2e-4,
            objective: Objective::Pix2pix,
        }
    }
}

/// G, D, their optimizers and the generator of every random draw.
pub struct Pix2pix {
    /// G: A → B.
    pub g: UNet,
    /// D: (A, B) → a map of logits.
    pub d: Sequential,
    opt_g: Adam,
    opt_d: Adam,
    /// Hyperparameters.
    pub cfg: Pix2pixConfig,
    rng: Rng,
    step: usize,
}

fn ones_like(v: &Var, value: f64) -> Var {
    v.constant(Tensor::full(*v.shape(), value, DType::F32))
}

impl Pix2pix {
    /// G and D for `side`×`side` images, drawn from `seed`.
    pub fn new(cfg: Pix2pixConfig, side: usize, seed: u64) -> Result<Pix2pix, OptimError> {
        let mut rng = Rng::seed(seed);
        let g = UNet::new(side, cfg.ngf, cfg.dropout, &mut rng);
        let d = patchgan(cfg.patch_layers, cfg.ndf, &mut rng);
        nn::init::init_dcgan(&g, &mut rng);
        nn::init::init_dcgan(&d, &mut rng);
        let adam = |m: &dyn Module| gan_adam(m.named_params(), cfg.lr);
        let (opt_g, opt_d) = (adam(&g)?, adam(&d)?);
        Ok(Pix2pix {
            g,
            d,
            opt_g,
            opt_d,
            cfg,
            rng: Rng::seed(seed.wrapping_add(1)),
            step: 0,
        })
    }

    /// D's map of logits for the pairs (A, B).
    pub fn judge(&self, a: &Var, b: &Var) -> Var {
        self.d.forward(&Var::cat(&[a, b], 1))
    }

    /// One iteration (the box above).
    pub fn step(&mut self, data: &Data) -> Result<Record, TrainError> {
        self.step += 1;
        let step = self.step;
        let (a, b) = data.paired(self.cfg.batch, &mut self.rng);
        let obj = self.cfg.objective;
        let this = &*self;
        let (mut d_loss, mut d_real, mut d_fake) = (f64::NAN, f64::NAN, f64::NAN);
        if obj != Objective::L1 {
            (d_loss, d_real, d_fake) = compute_gradients(&this.opt_d, |tape| {
                let av = tape.constant(a.clone());
                let fake = {
                    let _off = no_grad();
                    this.g.forward(&av)
                }
                .detach();
                let real = this.judge(&av, &tape.constant(b.clone()));
                let faked = this.judge(&av, &fake);
                let l = bce_with_logits(&real, &ones_like(&real, 1.0), None, Reduction::Mean)
                    .add(&bce_with_logits(
                        &faked,
                        &ones_like(&faked, 0.0),
                        None,
                        Reduction::Mean,
                    ))
                    .mul_scalar(0.5);
                let v = finite(step, "D loss", l.item())?;
                let p = |x: &Var| x.value().sigmoid().mean_all().item();
                Ok((l, (v, p(&real), p(&faked))))
            })?;
            update(&mut self.opt_d, step, "D")?;
        }
        let _frozen = Frozen::new(&[&self.d]);
        let this = &*self;
        let (g_gan, g_l1) = compute_gradients(&this.opt_g, |tape| {
            let av = tape.constant(a);
            let fake = this.g.forward(&av);
            let dist = l1(&fake, &tape.constant(b), Reduction::Mean);
            let (loss, gan) = match obj {
                Objective::L1 => (dist.mul_scalar(this.cfg.lambda), f64::NAN),
                _ => {
                    let out = this.judge(&av, &fake);
                    let gan = bce_with_logits(&out, &ones_like(&out, 1.0), None, Reduction::Mean);
                    let g = gan.item();
                    if obj == Objective::Gan {
                        (gan, g)
                    } else {
                        (gan.add(&dist.mul_scalar(this.cfg.lambda)), g)
                    }
                }
            };
            finite(step, "G loss", loss.item())?;
            Ok((loss, (gan, dist.item())))
        })?;
        update(&mut self.opt_g, step, "G")?;
        let mut rec = Record::new();
        rec.show("d_loss", d_loss)
            .show("g_gan", g_gan)
            .show("g_l1", g_l1)
            .log("d_real", d_real)
            .log("d_fake", d_fake);
        Ok(rec)
    }

    /// G(A) for images A `[N, 1, s, s]` in [−1, 1], in evaluation mode (no dropout), in chunks.
    pub fn translate(&self, a: &Tensor) -> Tensor {
        crate::method::apply(&self.g, a)
    }

    /// D's probability map σ(D(A, B)) `[N, 1, h, w]`, in evaluation mode.
    pub fn patch_map(&self, a: &Tensor, b: &Tensor) -> Tensor {
        self.d.eval();
        let _off = no_grad();
        let tape = Tape::new();
        let m = self
            .judge(&tape.constant(a.clone()), &tape.constant(b.clone()))
            .value()
            .sigmoid();
        self.d.train(true);
        m
    }
}

/// Each map `[N, 1, h, w]` of values in [0, 1] enlarged to `side`×`side` (nearest) and scaled to
/// [−1, 1], to draw beside the images.
fn enlarge(maps: &Tensor, side: usize) -> Tensor {
    let d = maps.dims();
    let (n, h, w) = (d[0], d[2], d[3]);
    let v = maps.to_vec_f32();
    let mut out = Vec::with_capacity(n * side * side);
    for k in 0..n {
        for y in 0..side {
            for x in 0..side {
                let (sy, sx) = (y * h / side, x * w / side);
                out.push(v[k * h * w + sy * w + sx] * 2.0 - 1.0);
            }
        }
    }
    Tensor::from_vec(out, [n, 1, side, side])
}

/// The u64 words of the dropout generators as f64 halves (exact), and back.
fn words_to_tensor(words: &[u64]) -> Tensor {
    let halves: Vec<f64> = words
        .iter()
        .flat_map(|w| [(w >> 32) as f64, (w & 0xffff_ffff) as f64])
        .collect();
    let n = halves.len();
    Tensor::from_vec(halves, [n])
}

fn tensor_to_words(t: &Tensor) -> Option<Vec<u64>> {
    let v = t.to_vec_f64();
    if v.len() % 2 != 0
        || v.iter()
            .any(|&h| !(0.0..4294967296.0).contains(&h) || h.fract() != 0.0)
    {
        return None;
    }
    Some(
        v.chunks_exact(2)
            .map(|p| ((p[0] as u64) << 32) | p[1] as u64)
            .collect(),
    )
}

impl Method for Pix2pix {
    fn info(&self) -> &'static MethodInfo {
        &PIX2PIX
    }
    fn step(&mut self, data: &Data) -> Result<Record, TrainError> {
        Pix2pix::step(self, data)
    }
    fn networks(&self) -> Vec<(&'static str, &dyn Module)> {
        vec![("gen", &self.g), ("disc", &self.d)]
    }
    fn optimizers(&self) -> Vec<(&'static str, &dyn Optimizer)> {
        vec![("g", &self.opt_g), ("d", &self.opt_d)]
    }
    fn optimizers_mut(&mut self) -> Vec<(&'static str, &mut dyn Optimizer)> {
        vec![("g", &mut self.opt_g), ("d", &mut self.opt_d)]
    }
    crate::rng_and_step!();
    fn state(&self) -> Vec<(String, Tensor)> {
        let words: Vec<u64> = self.g.dropouts().flat_map(|d| d.rng_state()).collect();
        vec![("dropout_rngs".into(), words_to_tensor(&words))]
    }
    fn restore_state(&mut self, state: &[(String, Tensor)]) -> Result<(), String> {
        for (name, t) in state {
            if name != "dropout_rngs" {
                return Err(format!("unknown state '{name}'"));
            }
            let words =
                tensor_to_words(t).ok_or("dropout_rngs is not a list of generator words")?;
            let drops: Vec<&Dropout> = self.g.dropouts().collect();
            if words.len() != 4 * drops.len() || words.chunks(4).any(|w| w == [0; 4]) {
                return Err(format!(
                    "dropout_rngs holds {} words for {} dropout layers",
                    words.len(),
                    drops.len()
                ));
            }
            for (d, w) in drops.iter().zip(words.chunks_exact(4)) {
                d.set_rng_state([w[0], w[1], w[2], w[3]]);
            }
        }
        Ok(())
    }
    fn translate(&self, x: &Tensor) -> Option<Tensor> {
        Some(Pix2pix::translate(self, x))
    }
    fn evaluate(&self, _data: &Data) -> Vec<(String, String)> {
        vec![(
            "PatchGAN receptive field".into(),
            format!(
                "{} px ({} stride-2 layers)",
                receptive_field(self.cfg.patch_layers),
                self.cfg.patch_layers
            ),
        )]
    }
    fn pictures(&self, data: &Data) -> Vec<(String, Picture)> {
        let Some((a, b)) = data
            .test
            .as_ref()
            .and_then(|t| t.examples_paired())
            .or_else(|| data.train.examples_paired())
        else {
            return Vec::new();
        };
        // 8 held-out glyphs, one face each
        let idx: Vec<usize> = (0..8).map(|i| (i * 97) % a.dims()[0]).collect();
        let (a, b) = (a.index_select(0, &idx), b.index_select(0, &idx));
        let fake = Pix2pix::translate(self, &a);
        let side = a.dims()[3];
        let map = self.patch_map(&a, &fake);
        let (h, w) = (map.dims()[2], map.dims()[3]);
        let on_fake = enlarge(&map, side);
        let on_real = enlarge(&self.patch_map(&a, &b), side);
        // rows: A, G(A), B, D's map on (A, G(A)), D's map on (A, B)
        let mut rows = Vec::new();
        for k in 0..8 {
            for t in [&a, &fake, &b, &on_fake, &on_real] {
                rows.push(t.narrow(0, k, 1));
            }
        }
        let grid = Tensor::cat(&rows.iter().collect::<Vec<_>>(), 0);
        vec![(
            format!(
                "Held-out glyphs, one per row: edges A, G(A), the truth B, then D's patch map on (A, G(A)) and on (A, B) (white = D says real; each of its {h}×{w} cells judges a {}-px patch)",
                receptive_field(self.cfg.patch_layers)
            ),
            image_grid(&grid, 5, 2, 3).into(),
        )]
    }
}

fn build(o: &Options, data: &DataInfo, seed: u64) -> Result<Box<dyn Method>, String> {
    let side = match data.shape[..] {
        [1, h, w] if h == w && h >= 8 && h.is_power_of_two() => h,
        _ => {
            return Err(format!(
                "train pix2pix: the U-Net needs square one-channel images whose side is a power of two (8 or more), but {} has examples of shape {:?}",
                data.spec, data.shape
            ))
        }
    };
    let n = o.usize("patch-layers");
    if receptive_field(n) > 4 * side {
        return Err(format!(
            "train pix2pix: --patch-layers {n} makes patches of {} px, far larger than the {side}-px images",
            receptive_field(n)
        ));
    }
    let cfg = Pix2pixConfig {
        batch: o.usize("batch"),
        lambda: o.f64("lambda"),
        patch_layers: n,
        ngf: o.usize("ngf"),
        ndf: o.usize("ndf"),
        dropout: o.f64("dropout"),
        lr: o.f64("lr"),
        objective: match o.word("objective") {
            "l1" => Objective::L1,
            "gan" => Objective::Gan,
            _ => Objective::Pix2pix,
        },
    };
    Ok(Box::new(
        Pix2pix::new(cfg, side, seed).map_err(|e| e.to_string())?,
    ))
}

/// `minimax train pix2pix`: image-to-image translation with a U-Net and a PatchGAN.
pub static PIX2PIX: MethodInfo = MethodInfo {
    name: "pix2pix",
    help: "pix2pix: a U-Net G and a PatchGAN D on paired images (edges2printed)",
    about: "pix2pix (Isola et al. 2017): G, a U-Net, maps A to B; D, a PatchGAN, judges patches \
            of the pair (A, B). G's loss is the GAN term + λ·L1 to the true B; D's loss is \
            halved. Trains on pairs (edges2printed: a printed glyph's edges → the glyph, \
            instances 8 and 9 held out); samples.npy holds the held-out edges translated, \
            sources.npy the edges.",
    takes: BatchKind::Paired,
    default_data: "edges2printed",
    default_steps: 1000,
    holds_out: true,
    options: &[
        OptSpec {
            name: "batch",
            help: "batch size m",
            default: "16",
            kind: OptKind::Int { min: 1, max: 4096 },
        },
        OptSpec {
            name: "lambda",
            help: "λ, the weight of the L1 term",
            default: "100",
            kind: OptKind::Float { min: 0.0, max: 1e6 },
        },
        OptSpec {
            name: "patch-layers",
            help: "the PatchGAN's stride-2 layers n (receptive field 16, 34, 70 px for 1, 2, 3)",
            default: "1",
            kind: OptKind::Int { min: 1, max: 6 },
        },
        OptSpec {
            name: "objective",
            help: "G's loss: GAN + λ·L1, λ·L1 alone, or GAN alone",
            default: "pix2pix",
            kind: OptKind::Choice(&["pix2pix", "l1", "gan"]),
        },
        OptSpec {
            name: "ngf",
            help: "channels of G's first level",
            default: "32",
            kind: OptKind::Int { min: 1, max: 256 },
        },
        OptSpec {
            name: "ndf",
            help: "channels of D's first layer",
            default: "32",
            kind: OptKind::Int { min: 1, max: 256 },
        },
        OptSpec {
            name: "dropout",
            help: "dropout in G's two innermost decoder levels",
            default: "0.5",
            kind: OptKind::Float {
                min: 0.0,
                max: 0.95,
            },
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
    ],
    charts: &[
        ("D's loss and G's GAN term", &["d_loss", "g_gan"]),
        ("L1 to the true B", &["g_l1"]),
        (
            "D's mean output on real and generated pairs",
            &["d_real", "d_fake"],
        ),
    ],
    build,
};
