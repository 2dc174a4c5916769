//! Unpaired translation by direct transformation: G_{X→Y} trained only to fool D_Y.
//!
//! ```text
//! each iteration:
//!   sample m examples x of X and, independently, m examples y of Y       (no pairs)
//!   L_D = BCE(D_Y(y), 1) + BCE(D_Y(G(x)), 0);            θ_D ← θ_D − η ∇L_D
//!   L_G = BCE(D_Y(G(x)), 1);                             θ_G ← θ_G − η ∇L_G
//! ```
//!
//! Nothing in the loss mentions x: any G whose outputs look like Y satisfies it, including one
//! that ignores its input and draws some digit of Y. What keeps the content is the generator's
//! shape. A **deep** G squeezes x through a small bottleneck and rebuilds an image from it — free
//! to map every x anywhere. A **shallow** G (two 3×3 convolutions at full resolution, the
//! tutorial's first remedy) can only change x locally: it restyles strokes but cannot turn a 3
//! into a 7. The run measures how often our handwritten-digit classifier still reads x's digit in
//! G(x) (label preservation).

use crate::data::{BatchKind, Data};
use crate::method::{
    apply, finite, gan_adam, update, DataInfo, Method, MethodInfo, OptKind, OptSpec, Options,
    Record, TrainError,
};
use crate::models;
use autograd::{no_grad, Var};
use nn::loss::{bce_with_logits, Reduction};
use nn::optim::{compute_gradients, OptimError};
use nn::{
    Adam, Conv2d, ConvTranspose2d, Flatten, Frozen, LeakyReLU, Linear, Module, Optimizer, ReLU,
    Sequential, Tanh, Unflatten,
};
use tensor::{Conv2dParams, ConvTranspose2dParams, Rng, Tensor};

/// Which generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    /// Two 3×3 convolutions at full resolution.
    Shallow,
    /// An encoder to a bottleneck of 8 numbers and a decoder back.
    Deep,
}

/// The shallow G: Conv(1, 32, 3, 1, 1) → ReLU → Conv(32, 1, 3, 1, 1) → tanh, at full resolution.
pub fn shallow_generator(rng: &mut Rng) -> Sequential {
    let p = Conv2dParams::new((1, 1), (1, 1));
    Sequential::new()
        .add(Conv2d::with_options(1, 32, (3, 3), p, true, rng))
        .add(ReLU::new())
        .add(Conv2d::with_options(32, 1, (3, 3), p, true, rng))
        .add(Tanh::new())
}

/// The deep G for 8×8 images: Conv(1, 32, 4, 2, 1) → LeakyReLU → Conv(32, 64, 4, 2, 1) →
/// LeakyReLU → Flatten → Linear(256, 8) (the bottleneck) → Linear(8, 256) → [64, 2, 2] → ReLU →
/// ConvT(64, 32, 4, 2, 1) → ReLU → ConvT(32, 1, 4, 2, 1) → tanh.
pub fn deep_generator(rng: &mut Rng) -> Sequential {
    let d = Conv2dParams::new((2, 2), (1, 1));
    let u = ConvTranspose2dParams::new((2, 2), (1, 1));
    Sequential::new()
        .add(Conv2d::with_options(1, 32, (4, 4), d, true, rng))
        .add(LeakyReLU::new(0.2))
        .add(Conv2d::with_options(32, 64, (4, 4), d, true, rng))
        .add(LeakyReLU::new(0.2))
        .add(Flatten::new())
        .add(Linear::new(256, 8, true, rng))
        .add(Linear::new(8, 256, true, rng))
        .add(Unflatten::new(1, &[64, 2, 2]))
        .add(ReLU::new())
        .add(ConvTranspose2d::with_options(64, 32, (4, 4), u, true, rng))
        .add(ReLU::new())
        .add(ConvTranspose2d::with_options(32, 1, (4, 4), u, true, rng))
        .add(Tanh::new())
}

/// `m` targets of value `t` shaped like `l`.
pub(crate) fn bce_to(l: &Var, t: f64) -> Var {
    let target = l.constant(Tensor::full(*l.shape(), t, l.dtype()));
    bce_with_logits(l, &target, None, Reduction::Mean)
}

/// G_{X→Y}, D_Y, their optimizers and the generator of every random draw.
pub struct Direct {
    /// G: X → Y.
    pub g: Sequential,
    /// D_Y (DCGAN's discriminator for 8×8 images).
    pub d: Sequential,
    opt_g: Adam,
    opt_d: Adam,
    batch: usize,
    /// Which generator.
    pub depth: Depth,
    rng: Rng,
    step: usize,
}

impl Direct {
    /// The networks for 8×8 images, drawn from `seed`.
    pub fn new(depth: Depth, batch: usize, lr: f64, seed: u64) -> Result<Direct, OptimError> {
        let mut rng = Rng::seed(seed);
        let g = match depth {
            Depth::Shallow => shallow_generator(&mut rng),
            Depth::Deep => deep_generator(&mut rng),
        };
        let d = models::dcgan_discriminator(2, 64, &mut rng);
        nn::init::init_dcgan(&d, &mut rng);
        let adam = |m: &dyn Module| gan_adam(m.named_params(), lr);
        let (opt_g, opt_d) = (adam(&g)?, adam(&d)?);
        Ok(Direct {
            g,
            d,
            opt_g,
            opt_d,
            batch,
            depth,
            rng: Rng::seed(seed.wrapping_add(1)),
            step: 0,
        })
    }

    /// One iteration (the box above).
    pub fn step(&mut self, data: &Data) -> Result<Record, TrainError> {
        self.step += 1;
        let step = self.step;
        let (x, y) = data.unpaired(self.batch, &mut self.rng);
        let this = &*self;
        let (d_loss, d_real, d_fake) = compute_gradients(&this.opt_d, |tape| {
            let fake = {
                let _off = no_grad();
                this.g.forward(&tape.constant(x.clone()))
            }
            .detach();
            let (real, faked) = (this.d.forward(&tape.constant(y)), this.d.forward(&fake));
            let l = bce_to(&real, 1.0).add(&bce_to(&faked, 0.0));
            let v = finite(step, "D loss", l.item())?;
            let p = |t: &Var| t.value().sigmoid().mean_all().item();
            Ok((l, (v, p(&real), p(&faked))))
        })?;
        update(&mut self.opt_d, step, "D_Y")?;
        let _frozen = Frozen::new(&[&self.d]);
        let this = &*self;
        let g_loss = compute_gradients(&this.opt_g, |tape| {
            let l = bce_to(&this.d.forward(&this.g.forward(&tape.constant(x))), 1.0);
            let v = finite(step, "G loss", l.item())?;
            Ok((l, v))
        })?;
        update(&mut self.opt_g, step, "G")?;
        let mut rec = Record::new();
        rec.show("d_loss", d_loss)
            .show("g_loss", g_loss)
            .show("d_real", d_real)
            .show("d_fake", d_fake);
        Ok(rec)
    }
}

impl Method for Direct {
    fn info(&self) -> &'static MethodInfo {
        &DIRECT
    }
    fn step(&mut self, data: &Data) -> Result<Record, TrainError> {
        Direct::step(self, data)
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
    fn translate(&self, x: &Tensor) -> Option<Tensor> {
        Some(apply(&self.g, x))
    }
}

/// Checks that the data is two domains of 8×8 one-channel images.
pub(crate) fn check_unpaired_8x8(name: &str, data: &DataInfo) -> Result<(), String> {
    if data.shape == [1, 8, 8] && data.spec.contains('+') {
        Ok(())
    } else {
        Err(format!(
            "train {name}: built for two unpaired domains of 8×8 images (--data printed8+digits), not {} with examples of shape {:?}",
            data.spec, data.shape
        ))
    }
}

fn build(o: &Options, data: &DataInfo, seed: u64) -> Result<Box<dyn Method>, String> {
    check_unpaired_8x8("direct", data)?;
    let depth = if o.word("generator") == "deep" {
        Depth::Deep
    } else {
        Depth::Shallow
    };
    Ok(Box::new(
        Direct::new(depth, o.usize("batch"), o.f64("lr"), seed).map_err(|e| e.to_string())?,
    ))
}

/// `minimax train direct`: G_{X→Y} and D_Y alone.
pub static DIRECT: MethodInfo = MethodInfo {
    name: "direct",
    help: "unpaired translation by G_{X→Y} and D_Y alone, with a shallow or a deep G (printed8+digits)",
    about: "Direct transformation: G_{X→Y} is trained only to fool D_Y, on unpaired batches of X \
            (printed digits) and Y (handwritten digits). A shallow G (two 3×3 convolutions) \
            keeps its input; a deep G (an 8-number bottleneck) is free to ignore it. The run \
            translates the held-out printed instances and measures how often the handwritten \
            classifier reads the source digit.",
    takes: BatchKind::Unpaired,
    default_data: "printed8+digits",
    default_steps: 1500,
    holds_out: true,
    options: &[
        OptSpec { name: "generator", help: "G's shape", default: "shallow", kind: OptKind::Choice(&["shallow", "deep"]) },
        OptSpec { name: "batch", help: "batch size m (of each domain)", default: "64", kind: OptKind::Int { min: 1, max: 65536 } },
        OptSpec { name: "lr", help: "learning rate of both networks (Adam, betas 0.5, 0.999)", default: "2e-4", kind: OptKind::Float { min: 0.0, max: 10.0 } },
    ],
    charts: &[
        ("Losses", &["d_loss", "g_loss"]),
        ("D_Y(y) and D_Y(G(x))", &["d_real", "d_fake"]),
    ],
    build,
};
