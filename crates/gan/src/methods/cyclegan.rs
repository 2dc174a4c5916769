//! Unpaired translation both ways, tied by cycle consistency — CycleGAN (Zhu et al. 2017), the
//! tutorial's third remedy.
//!
//! ```text
//! G: X → Y and F: Y → X, with D_Y judging G's outputs and D_X judging F's
//! each iteration, on unpaired batches x of X and y of Y:
//!   L_G,F = (D_Y(G(x)) − 1)² + (D_X(F(y)) − 1)²                        (LSGAN)
//!         + λ (|F(G(x)) − x| + |G(F(y)) − y|)                          (cycle, λ = 10)
//!         + ½λ (|G(y) − y| + |F(x) − x|)                               (identity)
//!   θ_G,F ← θ_G,F − η ∇L_G,F                                           (one Adam over both)
//!   L_D_Y = ½ [(D_Y(y) − 1)² + D_Y(ỹ)²],  ỹ from a history pool of G's outputs
//!   L_D_X = ½ [(D_X(x) − 1)² + D_X(x̃)²],  x̃ from a history pool of F's outputs
//! ```
//!
//! The history pool keeps the last 50 generated images of each direction; once full, each new
//! image is, with probability ½, swapped with a stored one (D sees the stored one, the new one
//! stays), so D also remembers what G did a while ago. The pool draws from its own seeded
//! generator, saved in checkpoints with its images, so a resumed run continues bit for bit.
//!
//! Cycle consistency asks that translating there and back returns the input, which rules out
//! a G that ignores x. It does not say *which* digit of Y a printed 3 should become: a G that
//! maps every 3 to a handwritten 8 and F that maps it back is just as consistent. The run
//! measures how often the content survives.

use crate::data::{BatchKind, Data};
use crate::method::apply;
use crate::method::{
    finite, gan_adam, update, DataInfo, Method, MethodInfo, OptKind, OptSpec, Options, Record,
    TrainError,
};
use crate::methods::direct::check_unpaired_8x8;
use autograd::Var;
use nn::loss::{l1, Reduction};
use nn::optim::{compute_gradients, OptimError};
use nn::{
    params_of, Adam, Conv2d, ConvTranspose2d, Frozen, InstanceNorm2d, LeakyReLU, Module, Optimizer,
    ReLU, ReflectionPad2d, ResidualBlock, Sequential, Tanh,
};
use tensor::{Conv2dParams, ConvTranspose2dParams, DType, Rng, Tensor};

/// A history pool of generated images (Shrivastava et al. 2017, as CycleGAN uses it).
#[derive(Clone, Debug)]
pub struct HistoryPool {
    capacity: usize,
    images: Vec<Tensor>,
    rng: Rng,
}

impl HistoryPool {
    /// An empty pool of `capacity` images, drawing from `Rng::seed(seed)`.
    pub fn new(capacity: usize, seed: u64) -> HistoryPool {
        HistoryPool {
            capacity,
            images: Vec::new(),
            rng: Rng::seed(seed),
        }
    }

    /// The images D should see for this batch `[m, …]`: while the pool fills, the new images
    /// (stored); after, each new image is with probability ½ returned as is, or else swapped
    /// with a stored one chosen uniformly (the stored one is returned, the new one kept).
    pub fn query(&mut self, batch: &Tensor) -> Tensor {
        if self.capacity == 0 {
            return batch.clone();
        }
        let m = batch.dims()[0];
        let mut out = Vec::with_capacity(m);
        for i in 0..m {
            let img = batch.narrow(0, i, 1).contiguous();
            if self.images.len() < self.capacity {
                self.images.push(img.clone());
                out.push(img);
            } else if self.rng.uniform() < 0.5 {
                let k = self.rng.below(self.capacity);
                out.push(std::mem::replace(&mut self.images[k], img));
            } else {
                out.push(img);
            }
        }
        Tensor::cat(&out.iter().collect::<Vec<_>>(), 0)
    }

    /// The stored images `[n, …]` (none: `None`).
    pub fn images(&self) -> Option<Tensor> {
        (!self.images.is_empty()).then(|| Tensor::cat(&self.images.iter().collect::<Vec<_>>(), 0))
    }

    /// The state of its generator.
    pub fn rng(&self) -> &Rng {
        &self.rng
    }

    /// Restores stored images `[n, …]` (n ≤ capacity) and the generator.
    pub fn restore(&mut self, images: Option<&Tensor>, rng: Rng) -> Result<(), String> {
        self.rng = rng;
        self.images.clear();
        if let Some(t) = images {
            let n = t.dims()[0];
            if n > self.capacity {
                return Err(format!("{n} images for a pool of {}", self.capacity));
            }
            for i in 0..n {
                self.images.push(t.narrow(0, i, 1).contiguous());
            }
        }
        Ok(())
    }
}

/// CycleGAN's generator for 8×8 images: ReflectionPad(3) → Conv 7×7 (1 → c) → IN → ReLU →
/// Conv 3×3 stride 2 (c → 2c) → IN → ReLU → 3 residual blocks (reflection padding, instance
/// norm) → ConvT 4×4 stride 2 (2c → c) → IN → ReLU → ReflectionPad(3) → Conv 7×7 (c → 1) → tanh.
pub fn cycle_generator(c: usize, rng: &mut Rng) -> Sequential {
    let mut s = Sequential::new()
        .add(ReflectionPad2d::all(3))
        .add(Conv2d::new(1, c, 7, rng))
        .add(InstanceNorm2d::new(c))
        .add(ReLU::new())
        .add(Conv2d::with_options(
            c,
            2 * c,
            (3, 3),
            Conv2dParams::new((2, 2), (1, 1)),
            true,
            rng,
        ))
        .add(InstanceNorm2d::new(2 * c))
        .add(ReLU::new());
    for _ in 0..3 {
        s = s.add(ResidualBlock::cyclegan(2 * c, rng));
    }
    s.add(ConvTranspose2d::with_options(
        2 * c,
        c,
        (4, 4),
        ConvTranspose2dParams::new((2, 2), (1, 1)),
        true,
        rng,
    ))
    .add(InstanceNorm2d::new(c))
    .add(ReLU::new())
    .add(ReflectionPad2d::all(3))
    .add(Conv2d::new(c, 1, 7, rng))
    .add(Tanh::new())
}

/// CycleGAN's PatchGAN for 8×8 images (one stride-2 layer): Conv 4×4 s2 (1 → c) → LeakyReLU →
/// Conv 4×4 s1 (c → 2c) → IN → LeakyReLU → Conv 4×4 s1 (2c → 1): a 2×2 map of scores.
pub fn cycle_discriminator(c: usize, rng: &mut Rng) -> Sequential {
    let s1 = Conv2dParams::new((1, 1), (1, 1));
    Sequential::new()
        .add(Conv2d::with_options(
            1,
            c,
            (4, 4),
            Conv2dParams::new((2, 2), (1, 1)),
            true,
            rng,
        ))
        .add(LeakyReLU::new(0.2))
        .add(Conv2d::with_options(c, 2 * c, (4, 4), s1, true, rng))
        .add(InstanceNorm2d::new(2 * c))
        .add(LeakyReLU::new(0.2))
        .add(Conv2d::with_options(2 * c, 1, (4, 4), s1, true, rng))
}

/// Hyperparameters of CycleGAN.
#[derive(Clone, Debug)]
pub struct CycleGanConfig {
    /// Batch size m (of each domain).
    pub batch: usize,
    /// λ, the weight of the cycle terms (the identity terms get ½λ).
    pub lambda: f64,
    /// Use the identity terms.
    pub identity: bool,
    /// History pool capacity (0: no pool).
    pub pool: usize,
    /// Channels of the generators' first layer.
    pub ngf: usize,
    /// Learning rate of every network (Adam, betas 0.5, 0.999).
    pub lr: f64,
    /// Linear decay: the learning rate stays `lr` for this many iterations, then falls linearly
    /// over [`CycleGanConfig::decay_steps`] iterations (CycleGAN: 100 epochs, then 100 more
    /// decaying to 0).
    pub decay_from: usize,
    /// Iterations of the linear decay (0: no decay).
    pub decay_steps: usize,
}

impl CycleGanConfig {
    /// The learning rate of iteration `t` (1-based): `lr` until `decay_from`, then
    /// `lr · (1 − (t − decay_from) / (decay_steps + 1))`, PyTorch CycleGAN's linear rule
    /// (it never reaches exactly 0 within the decay), and 0 after it.
    pub fn lr_at(&self, t: usize) -> f64 {
        crate::method::linear_decay(self.lr, t, self.decay_from, self.decay_steps)
    }
}

impl Default for CycleGanConfig {
    /// CycleGAN's settings: λ = 10, identity ½λ, pools of 50, Adam 2e-4 (0.5, 0.999); batch 16
    /// and 16 channels for 8×8 images on a CPU.
    fn default() -> Self {
        CycleGanConfig {
            batch: 16,
            lambda: 10.0,
            identity: true,
            pool: 50,
            ngf: 16,
            lr: 2e-4,
            decay_from: 0,
            decay_steps: 0,
        }
    }
}

/// G, F, D_X, D_Y, their optimizers, the two pools and the generator of every random draw.
pub struct CycleGan {
    /// G: X → Y.
    pub g: Sequential,
    /// F: Y → X.
    pub f: Sequential,
    /// D_X.
    pub dx: Sequential,
    /// D_Y.
    pub dy: Sequential,
    opt_gf: Adam,
    opt_dx: Adam,
    opt_dy: Adam,
    /// F's outputs for D_X.
    pub pool_x: HistoryPool,
    /// G's outputs for D_Y.
    pub pool_y: HistoryPool,
    /// Hyperparameters.
    pub cfg: CycleGanConfig,
    rng: Rng,
    step: usize,
}

/// mean (s − t)² over a score map.
fn ls(s: &Var, t: f64) -> Var {
    s.add_scalar(-t).square().mean_all()
}

impl CycleGan {
    /// The four networks, drawn from `seed`; the pools draw from `seed + 2` and `seed + 3`.
    pub fn new(cfg: CycleGanConfig, seed: u64) -> Result<CycleGan, OptimError> {
        let mut rng = Rng::seed(seed);
        let g = cycle_generator(cfg.ngf, &mut rng);
        let f = cycle_generator(cfg.ngf, &mut rng);
        let dx = cycle_discriminator(2 * cfg.ngf, &mut rng);
        let dy = cycle_discriminator(2 * cfg.ngf, &mut rng);
        for m in [&g, &f, &dx, &dy] {
            nn::init::init_dcgan(m, &mut rng);
        }
        let adam = |p| gan_adam(p, cfg.lr);
        let opt_gf = adam(params_of(&[("g", &g), ("f", &f)]))?;
        let opt_dx = adam(dx.named_params())?;
        let opt_dy = adam(dy.named_params())?;
        Ok(CycleGan {
            pool_x: HistoryPool::new(cfg.pool, seed.wrapping_add(2)),
            pool_y: HistoryPool::new(cfg.pool, seed.wrapping_add(3)),
            g,
            f,
            dx,
            dy,
            opt_gf,
            opt_dx,
            opt_dy,
            cfg,
            rng: Rng::seed(seed.wrapping_add(1)),
            step: 0,
        })
    }

    /// One iteration (the box above): G and F, then D_Y and D_X on pooled fakes.
    pub fn step(&mut self, data: &Data) -> Result<Record, TrainError> {
        self.step += 1;
        let step = self.step;
        let lr = self.cfg.lr_at(step);
        for opt in [&mut self.opt_gf, &mut self.opt_dx, &mut self.opt_dy] {
            opt.set_lr(lr);
        }
        let (x, y) = data.unpaired(self.cfg.batch, &mut self.rng);
        let _frozen = Frozen::new(&[&self.dx, &self.dy]);
        let this = &*self;
        let (lam, id) = (this.cfg.lambda, this.cfg.identity);
        let (terms, fake_y, fake_x) = compute_gradients(&this.opt_gf, |tape| {
            let (xv, yv) = (tape.constant(x.clone()), tape.constant(y.clone()));
            let (gx, fy) = (this.g.forward(&xv), this.f.forward(&yv));
            let gan_g = ls(&this.dy.forward(&gx), 1.0);
            let gan_f = ls(&this.dx.forward(&fy), 1.0);
            let cyc_x = l1(&this.f.forward(&gx), &xv, Reduction::Mean);
            let cyc_y = l1(&this.g.forward(&fy), &yv, Reduction::Mean);
            let mut loss = gan_g.add(&gan_f).add(&cyc_x.add(&cyc_y).mul_scalar(lam));
            let (mut id_y, mut id_x) = (f64::NAN, f64::NAN);
            if id {
                let iy = l1(&this.g.forward(&yv), &yv, Reduction::Mean);
                let ix = l1(&this.f.forward(&xv), &xv, Reduction::Mean);
                (id_y, id_x) = (iy.item(), ix.item());
                loss = loss.add(&iy.add(&ix).mul_scalar(0.5 * lam));
            }
            finite(step, "G and F's loss", loss.item())?;
            let t = [
                gan_g.item(),
                gan_f.item(),
                cyc_x.item(),
                cyc_y.item(),
                id_y,
                id_x,
            ];
            Ok((loss, (t, gx.value().clone(), fy.value().clone())))
        })?;
        update(&mut self.opt_gf, step, "G and F")?;
        drop(_frozen);
        let ty = self.pool_y.query(&fake_y);
        let tx = self.pool_x.query(&fake_x);
        let mut d_losses = [0.0; 2];
        for (k, (real, fake)) in [(&y, &ty), (&x, &tx)].into_iter().enumerate() {
            let this = &*self;
            let d = if k == 0 { &this.dy } else { &this.dx };
            let opt = if k == 0 { &this.opt_dy } else { &this.opt_dx };
            d_losses[k] = compute_gradients(opt, |tape| {
                let l = ls(&d.forward(&tape.constant(real.clone())), 1.0)
                    .add(&ls(&d.forward(&tape.constant(fake.clone())), 0.0))
                    .mul_scalar(0.5);
                let v = finite(step, if k == 0 { "D_Y loss" } else { "D_X loss" }, l.item())?;
                Ok((l, v))
            })?;
            if k == 0 {
                update(&mut self.opt_dy, step, "D_Y")?;
            } else {
                update(&mut self.opt_dx, step, "D_X")?;
            }
        }
        let mut rec = Record::new();
        rec.show("gan_g", terms[0])
            .show("gan_f", terms[1])
            .show("cycle_x", terms[2])
            .show("cycle_y", terms[3])
            .log("identity_y", terms[4])
            .log("identity_x", terms[5])
            .show("d_y", d_losses[0])
            .show("d_x", d_losses[1])
            .log("lr", lr);
        Ok(rec)
    }
}

fn words(rng: &Rng) -> Tensor {
    // the generator's four words as exact f64 halves
    let v: Vec<f64> = rng
        .state()
        .iter()
        .flat_map(|w| [(w >> 32) as f64, (w & 0xffff_ffff) as f64])
        .collect();
    Tensor::from_vec(v, [8])
}

fn unwords(t: &Tensor) -> Result<Rng, String> {
    let v = t.to_vec_f64();
    if v.len() != 8
        || v.iter()
            .any(|h| !(0.0..4294967296.0).contains(h) || h.fract() != 0.0)
    {
        return Err("a pool's generator state is not 8 halves of 4 words".into());
    }
    let w: Vec<u64> = v
        .chunks_exact(2)
        .map(|p| ((p[0] as u64) << 32) | p[1] as u64)
        .collect();
    if w.iter().all(|&x| x == 0) {
        return Err("a pool's generator state is all zero".into());
    }
    Ok(Rng::from_state([w[0], w[1], w[2], w[3]]))
}

impl Method for CycleGan {
    fn info(&self) -> &'static MethodInfo {
        &CYCLEGAN
    }
    fn step(&mut self, data: &Data) -> Result<Record, TrainError> {
        CycleGan::step(self, data)
    }
    fn networks(&self) -> Vec<(&'static str, &dyn Module)> {
        vec![
            ("gen_xy", &self.g),
            ("gen_yx", &self.f),
            ("disc_x", &self.dx),
            ("disc_y", &self.dy),
        ]
    }
    fn optimizers(&self) -> Vec<(&'static str, &dyn Optimizer)> {
        vec![
            ("generators", &self.opt_gf),
            ("disc_x", &self.opt_dx),
            ("disc_y", &self.opt_dy),
        ]
    }
    fn optimizers_mut(&mut self) -> Vec<(&'static str, &mut dyn Optimizer)> {
        vec![
            ("generators", &mut self.opt_gf),
            ("disc_x", &mut self.opt_dx),
            ("disc_y", &mut self.opt_dy),
        ]
    }
    crate::rng_and_step!();
    fn state(&self) -> Vec<(String, Tensor)> {
        let mut v = Vec::new();
        for (name, pool) in [("pool_x", &self.pool_x), ("pool_y", &self.pool_y)] {
            v.push((format!("{name}_rng"), words(pool.rng())));
            if let Some(imgs) = pool.images() {
                v.push((name.to_string(), imgs));
            }
        }
        v
    }
    fn restore_state(&mut self, state: &[(String, Tensor)]) -> Result<(), String> {
        let find = |n: &str| state.iter().find(|(k, _)| k == n).map(|(_, t)| t);
        for (k, _) in state {
            if !["pool_x", "pool_y", "pool_x_rng", "pool_y_rng"].contains(&k.as_str()) {
                return Err(format!("unknown state '{k}'"));
            }
        }
        for (name, pool) in [("pool_x", &mut self.pool_x), ("pool_y", &mut self.pool_y)] {
            let rng = unwords(
                find(&format!("{name}_rng")).ok_or_else(|| format!("no {name}_rng state"))?,
            )?;
            let imgs = find(name);
            if let Some(t) = imgs {
                if t.dims().len() != 4 || t.dims()[1..] != [1, 8, 8] || t.dtype() != DType::F32 {
                    return Err(format!("{name} holds {:?} {}", t.dims(), t.dtype()));
                }
            }
            pool.restore(imgs, rng)?;
        }
        Ok(())
    }
    fn translate(&self, x: &Tensor) -> Option<Tensor> {
        Some(apply(&self.g, x))
    }
    fn translate_reverse(&self, y: &Tensor) -> Option<Tensor> {
        Some(apply(&self.f, y))
    }
}

fn build(o: &Options, data: &DataInfo, seed: u64) -> Result<Box<dyn Method>, String> {
    check_unpaired_8x8("cyclegan", data)?;
    let cfg = CycleGanConfig {
        batch: o.usize("batch"),
        lambda: o.f64("lambda"),
        identity: !o.switch("no-identity"),
        pool: o.usize("pool"),
        ngf: o.usize("ngf"),
        lr: o.f64("lr"),
        decay_from: o.usize("decay-from"),
        decay_steps: o.usize("decay-steps"),
    };
    Ok(Box::new(
        CycleGan::new(cfg, seed).map_err(|e| e.to_string())?,
    ))
}

/// `minimax train cyclegan`: two generators tied by cycle consistency.
pub static CYCLEGAN: MethodInfo = MethodInfo {
    name: "cyclegan",
    help: "CycleGAN: G: X→Y and F: Y→X tied by cycle consistency (printed8+digits)",
    about: "CycleGAN (Zhu et al. 2017): two generators and two discriminators, the LSGAN \
            objective, cycle terms λ(|F(G(x)) − x| + |G(F(y)) − y|) with λ = 10, identity terms \
            ½λ, history pools of 50 generated images, instance norm and reflection padding. The \
            run measures both directions on held-out digits.",
    takes: BatchKind::Unpaired,
    default_data: "printed8+digits",
    default_steps: 1500,
    holds_out: true,
    options: &[
        OptSpec {
            name: "batch",
            help: "batch size m (of each domain)",
            default: "16",
            kind: OptKind::Int { min: 1, max: 4096 },
        },
        OptSpec {
            name: "lambda",
            help: "λ, the weight of the cycle terms (identity: ½λ)",
            default: "10",
            kind: OptKind::Float { min: 0.0, max: 1e6 },
        },
        OptSpec {
            name: "no-identity",
            help: "ablation: no identity terms",
            default: "false",
            kind: OptKind::Switch,
        },
        OptSpec {
            name: "pool",
            help: "history pool size per discriminator (0: none)",
            default: "50",
            kind: OptKind::Int { min: 0, max: 10000 },
        },
        OptSpec {
            name: "ngf",
            help: "channels of the generators' first layer",
            default: "16",
            kind: OptKind::Int { min: 1, max: 256 },
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
            name: "decay-from",
            help: "keep the learning rate for this many iterations, then decay it linearly",
            default: "0",
            kind: OptKind::Int {
                min: 0,
                max: 1_000_000_000,
            },
        },
        OptSpec {
            name: "decay-steps",
            help: "iterations of linear learning-rate decay towards 0 (0: none)",
            default: "0",
            kind: OptKind::Int {
                min: 0,
                max: 1_000_000_000,
            },
        },
    ],
    charts: &[
        (
            "Adversarial terms (LSGAN)",
            &["gan_g", "gan_f", "d_y", "d_x"],
        ),
        (
            "Cycle and identity terms",
            &["cycle_x", "cycle_y", "identity_y", "identity_x"],
        ),
    ],
    build,
};
