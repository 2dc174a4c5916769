//! The auto-encoder as a generator, and the variational auto-encoder (Kingma & Welling
//! 2014): the baselines a GAN is compared with on the same digits.
//!
//! ```text
//! Auto-encoder                              VAE
//!   x ──Enc──▶ c ──Dec──▶ x̂                   x ──Enc──▶ (μ, log σ²)
//!   L = mean (x − x̂)²                          ε ~ N(0, I);  z = μ + σ ⊙ ε   (reparameterisation)
//!                                              x̂ = Dec(z)
//!   generate: Dec(c), c ~ N(0, I)              L = recon + β·KL
//!   (a code it never saw: uncontrolled)        recon = 1/m Σᵢ ‖xᵢ − x̂ᵢ‖²
//!                                              KL    = 1/m Σᵢ −½ Σ_d (1 + log σ² − μ² − σ²)
//!                                              generate: Dec(z), z ~ N(0, I)
//! ```
//!
//! [`Autoencoder::step`] and [`Vae::step`] are those boxes, one Adam update each. The decoder
//! ends in `tanh`, so it outputs images `[N, 1, 8, 8]` in the range of [`crate::data::Digits`].
//!
//! The tutorial's point: an auto-encoder is trained only on the codes of real images, so nothing
//! says what the decoder does with any other code — [`Autoencoder::sample`] decodes codes drawn
//! from N(0, I), a distribution the encoder was never asked to match, and
//! [`Autoencoder::interpolate`] decodes mixtures of two codes. The VAE's KL term pulls every
//! code distribution towards N(0, I) and its noise makes the decoder handle a neighbourhood
//! of each code, so [`Vae::sample`] decodes codes of the distribution it was trained for.
//! [`nearest_neighbour_mse`] measures the difference; `docs/ae-vae.md` has the figures.

use crate::data::{BatchKind, Data, Dataset};
use crate::method::{
    finite, update, DataInfo, Method, MethodInfo, OptKind, OptSpec, Options, Record, TrainError,
};
use autograd::{no_grad, Tape, Var};
use nn::layers::{
    Conv2d, ConvTranspose2d, Flatten, LeakyReLU, Linear, ReLU, Sequential, Tanh, Unflatten,
};
use nn::loss::{kl_normal, mse, Reduction};
use nn::optim::compute_gradients;
use nn::optim::{AdamConfig, OptimError};
use nn::{params_of, Adam, Module, Optimizer};
use std::time::Instant;
use tensor::{Conv2dParams, ConvTranspose2dParams, DType, Rng, Tensor};

/// Pixels of one 8×8 image.
const PIXELS: usize = 64;

/// The shape of the encoder and decoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    /// Fully connected: [`mlp_encoder`] and [`mlp_decoder`] with `hidden` units.
    Mlp,
    /// Small convolutional pair: [`conv_encoder`] and [`conv_decoder`] with `channels`.
    Conv,
}

impl Arch {
    /// The CLI name (`"mlp"` or `"conv"`).
    pub fn name(self) -> &'static str {
        match self {
            Arch::Mlp => "mlp",
            Arch::Conv => "conv",
        }
    }
}

/// Enc: [N, 1, 8, 8] → Flatten → Linear(64, h) → ReLU → Linear(h, h) → ReLU → Linear(h, out).
pub fn mlp_encoder(out_dim: usize, hidden: usize, rng: &mut Rng) -> Sequential {
    Sequential::new()
        .add(Flatten::new())
        .add(Linear::new(PIXELS, hidden, true, rng))
        .add(ReLU::new())
        .add(Linear::new(hidden, hidden, true, rng))
        .add(ReLU::new())
        .add(Linear::new(hidden, out_dim, true, rng))
}

/// Dec: [N, d] → Linear(d, h) → ReLU → Linear(h, h) → ReLU → Linear(h, 64) → tanh →
/// [N, 1, 8, 8].
pub fn mlp_decoder(code_dim: usize, hidden: usize, rng: &mut Rng) -> Sequential {
    Sequential::new()
        .add(Linear::new(code_dim, hidden, true, rng))
        .add(ReLU::new())
        .add(Linear::new(hidden, hidden, true, rng))
        .add(ReLU::new())
        .add(Linear::new(hidden, PIXELS, true, rng))
        .add(Tanh::new())
        .add(Unflatten::new(1, &[1, 8, 8]))
}

/// Enc: Conv(1, c, 4, 2, 1) → LeakyReLU(0.2) → Conv(c, 2c, 4, 2, 1) → LeakyReLU(0.2) → Flatten
/// → Linear(2c·2·2, out). 8×8 → 4×4 → 2×2; no batch norm, so the code of an image does not
/// depend on the rest of its batch.
pub fn conv_encoder(out_dim: usize, c: usize, rng: &mut Rng) -> Sequential {
    let p = Conv2dParams::new((2, 2), (1, 1));
    Sequential::new()
        .add(Conv2d::with_options(1, c, (4, 4), p, true, rng))
        .add(LeakyReLU::new(0.2))
        .add(Conv2d::with_options(c, 2 * c, (4, 4), p, true, rng))
        .add(LeakyReLU::new(0.2))
        .add(Flatten::new())
        .add(Linear::new(2 * c * 4, out_dim, true, rng))
}

/// Dec: Linear(d, 2c·2·2) → [2c, 2, 2] → ReLU → ConvT(2c, c, 4, 2, 1) → ReLU → ConvT(c, 1, 4, 2,
/// 1) → tanh: 2×2 → 4×4 → 8×8.
pub fn conv_decoder(code_dim: usize, c: usize, rng: &mut Rng) -> Sequential {
    let p = ConvTranspose2dParams::new((2, 2), (1, 1));
    Sequential::new()
        .add(Linear::new(code_dim, 2 * c * 4, true, rng))
        .add(Unflatten::new(1, &[2 * c, 2, 2]))
        .add(ReLU::new())
        .add(ConvTranspose2d::with_options(
            2 * c,
            c,
            (4, 4),
            p,
            true,
            rng,
        ))
        .add(ReLU::new())
        .add(ConvTranspose2d::with_options(c, 1, (4, 4), p, true, rng))
        .add(Tanh::new())
}

fn build(
    arch: Arch,
    enc_out: usize,
    code_dim: usize,
    hidden: usize,
    channels: usize,
    rng: &mut Rng,
) -> (Sequential, Sequential) {
    match arch {
        Arch::Mlp => (
            mlp_encoder(enc_out, hidden, rng),
            mlp_decoder(code_dim, hidden, rng),
        ),
        Arch::Conv => (
            conv_encoder(enc_out, channels, rng),
            conv_decoder(code_dim, channels, rng),
        ),
    }
}

fn adam(
    enc: &Sequential,
    dec: &Sequential,
    lr: f64,
    betas: (f64, f64),
) -> Result<Adam, OptimError> {
    Adam::new(
        params_of(&[("enc", enc), ("dec", dec)]),
        AdamConfig::default().lr(lr).betas(betas.0, betas.1),
    )
}

fn grad_norm(mods: &[&dyn Module]) -> f64 {
    let params: Vec<_> = mods.iter().flat_map(|m| m.params()).collect();
    nn::optim::grad_norm(&params)
}

/// Runs `f` on `x` in chunks of 500 rows without recording, concatenating the results.
fn chunked(x: &Tensor, f: impl Fn(&Var) -> Var) -> Tensor {
    let _off = no_grad();
    let n = x.dims()[0];
    let mut parts = Vec::new();
    let mut done = 0;
    while done < n {
        let m = (n - done).min(500);
        let chunk = x.narrow(0, done, m).contiguous();
        parts.push(f(&Tape::new().constant(chunk)).value().clone());
        done += m;
    }
    Tensor::cat(&parts.iter().collect::<Vec<_>>(), 0)
}

/// `steps` mixtures (1 − t)·a + t·b of two codes `a`, `b` (`[1, d]` each), t = 0, 1/(steps−1),
/// …, 1, as `[steps, d]`.
fn mix_codes(a: &Tensor, b: &Tensor, steps: usize) -> Tensor {
    assert!(
        steps >= 2,
        "interpolate: need at least 2 steps, got {steps}"
    );
    let (a, b) = (a.to_vec_f64(), b.to_vec_f64());
    let mut out = Vec::with_capacity(steps * a.len());
    for i in 0..steps {
        let t = i as f64 / (steps - 1) as f64;
        out.extend(
            a.iter()
                .zip(&b)
                .map(|(u, v)| ((1.0 - t) * u + t * v) as f32),
        );
    }
    Tensor::from_vec(out, [steps, a.len()])
}

/// One image `[1, 8, 8]` or `[1, 1, 8, 8]` as a batch of one.
#[track_caller]
fn one_image(x: &Tensor) -> Tensor {
    assert!(
        x.numel() == PIXELS,
        "interpolate: expects one 8×8 image, got shape {:?}",
        x.dims()
    );
    x.reshape([1, 1, 8, 8])
}

/// A diagonal Gaussian N(mean, diag(std²)) fitted to codes, for [`Autoencoder::sample_from`].
#[derive(Clone, Debug, PartialEq)]
pub struct CodeGaussian {
    /// Per-dimension mean of the codes.
    pub mean: Vec<f64>,
    /// Per-dimension standard deviation of the codes (population, divided by N).
    pub std: Vec<f64>,
}

impl CodeGaussian {
    /// Fits mean and standard deviation per dimension to codes `[N, d]`.
    #[track_caller]
    pub fn fit(codes: &Tensor) -> CodeGaussian {
        assert!(
            codes.ndim() == 2 && codes.dims()[0] > 0,
            "CodeGaussian::fit: expects codes [N, d] with N > 0, got {:?}",
            codes.dims()
        );
        let (n, d) = (codes.dims()[0], codes.dims()[1]);
        let v = codes.to_vec_f64();
        let mut mean = vec![0.0; d];
        for row in v.chunks_exact(d) {
            for (m, x) in mean.iter_mut().zip(row) {
                *m += x / n as f64;
            }
        }
        let mut var = vec![0.0; d];
        for row in v.chunks_exact(d) {
            for ((s, x), m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (x - m) * (x - m) / n as f64;
            }
        }
        CodeGaussian {
            mean,
            std: var.into_iter().map(f64::sqrt).collect(),
        }
    }

    /// `n` codes `[n, d]` drawn from the fitted Gaussian with `rng`.
    pub fn sample(&self, n: usize, rng: &mut Rng) -> Tensor {
        let d = self.mean.len();
        let mut out = Vec::with_capacity(n * d);
        for _ in 0..n {
            for k in 0..d {
                out.push((self.mean[k] + self.std[k] * rng.normal()) as f32);
            }
        }
        Tensor::from_vec(out, [n, d])
    }
}

/// Mean over `samples` of the per-pixel squared distance to the nearest image of `reference`:
/// 1/N Σᵢ minⱼ 1/P ‖sᵢ − rⱼ‖² (P pixels per image). Low means every sample looks like some
/// real image; a decoder fed codes it never saw produces blends that are far from all of them.
///
/// Panics if the two sets have different image sizes or either is empty.
#[track_caller]
pub fn nearest_neighbour_mse(samples: &Tensor, reference: &Tensor) -> f64 {
    let (n, r) = (samples.dims()[0], reference.dims()[0]);
    assert!(
        n > 0 && r > 0,
        "nearest_neighbour_mse: empty set ({n} samples, {r} references)"
    );
    let p = samples.numel() / n;
    assert_eq!(
        p,
        reference.numel() / r,
        "nearest_neighbour_mse: samples {:?} and references {:?} differ in size",
        samples.dims(),
        reference.dims()
    );
    let s = samples.to_vec_f32();
    let rf = reference.to_vec_f32();
    let mut total = 0.0f64;
    for a in s.chunks_exact(p) {
        let best = rf
            .chunks_exact(p)
            .map(|b| a.iter().zip(b).map(|(u, v)| (u - v) * (u - v)).sum::<f32>())
            .fold(f32::INFINITY, f32::min);
        total += best as f64 / p as f64;
    }
    total / n as f64
}

// ---------------------------------------------------------------------------------------------
// The auto-encoder
// ---------------------------------------------------------------------------------------------

/// Hyperparameters of the auto-encoder.
#[derive(Clone, Debug)]
pub struct AeConfig {
    /// Encoder/decoder shape.
    pub arch: Arch,
    /// Code dimension d.
    pub code_dim: usize,
    /// Hidden units of the MLP pair.
    pub hidden: usize,
    /// Base channels of the convolutional pair.
    pub channels: usize,
    /// Batch size m.
    pub batch: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Adam's (β₁, β₂).
    pub betas: (f64, f64),
}

impl Default for AeConfig {
    /// MLP 64 → 256 → 256 → 8 and back, batch 64, Adam 1e-3 with betas (0.9, 0.999): a few
    /// thousand steps on the embedded digits take seconds in release (see `docs/ae-vae.md`).
    fn default() -> Self {
        AeConfig {
            arch: Arch::Mlp,
            code_dim: 8,
            hidden: 256,
            channels: 32,
            batch: 64,
            lr: 1e-3,
            betas: (0.9, 0.999),
        }
    }
}

/// What one auto-encoder step measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AeRecord {
    /// Step number (1-based).
    pub step: usize,
    /// L = mean over the batch and the 64 pixels of (x − Dec(Enc(x)))².
    pub recon: f64,
    /// ‖∇θ L‖ over encoder and decoder.
    pub grad_norm: f64,
    /// Wall time of the step in seconds.
    pub seconds: f64,
}

impl AeRecord {
    /// The CSV header matching [`AeRecord::csv_row`].
    pub const CSV_HEADER: &'static str = "step,recon,grad_norm,seconds";
    /// One CSV row.
    pub fn csv_row(&self) -> String {
        format!(
            "{},{},{},{:.6}",
            self.step, self.recon, self.grad_norm, self.seconds
        )
    }
}

/// An encoder, a decoder, their optimizer and the generator of all random draws.
pub struct Autoencoder {
    /// Enc: images `[N, 1, 8, 8]` → codes `[N, d]`.
    pub enc: Sequential,
    /// Dec: codes `[N, d]` → images `[N, 1, 8, 8]` in (−1, 1).
    pub dec: Sequential,
    /// One Adam over both (parameters named `enc.*` and `dec.*`).
    pub opt: Adam,
    /// Hyperparameters.
    pub cfg: AeConfig,
    /// Every random draw of training comes from here.
    pub rng: Rng,
    /// Steps done.
    pub step: usize,
    /// The method description it runs under.
    pub info: &'static MethodInfo,
}

impl Autoencoder {
    /// Builds the networks of `cfg` (initialised from `Rng::seed(seed)`) and their optimizer;
    /// training draws continue from the same generator.
    pub fn new(cfg: AeConfig, seed: u64) -> Result<Autoencoder, OptimError> {
        let mut rng = Rng::seed(seed);
        let (enc, dec) = build(
            cfg.arch,
            cfg.code_dim,
            cfg.code_dim,
            cfg.hidden,
            cfg.channels,
            &mut rng,
        );
        let opt = adam(&enc, &dec, cfg.lr, cfg.betas)?;
        Ok(Autoencoder {
            enc,
            dec,
            opt,
            cfg,
            rng,
            step: 0,
            info: &AE,
        })
    }

    /// One step: sample m images x, L = mean (x − Dec(Enc(x)))² ([`mse`] with `Mean`), one Adam
    /// update of θ_enc and θ_dec.
    pub fn step(&mut self, data: &dyn Dataset) -> Result<AeRecord, TrainError> {
        let t0 = Instant::now();
        self.step += 1;
        let step = self.step;
        let x = data.sample(self.cfg.batch, &mut self.rng);
        let (enc, dec) = (&self.enc, &self.dec);
        let recon = compute_gradients(&self.opt, |tape| {
            let x = tape.constant(x);
            let x_hat = dec.forward(&enc.forward(&x));
            let loss = mse(&x_hat, &x, Reduction::Mean);
            let recon = finite(step, "reconstruction loss", loss.item())?;
            Ok((loss, recon))
        })?;
        let grad_norm = grad_norm(&[&self.enc, &self.dec]);
        update(&mut self.opt, step, "auto-encoder")?;
        Ok(AeRecord {
            step: self.step,
            recon,
            grad_norm,
            seconds: t0.elapsed().as_secs_f64(),
        })
    }

    /// The codes Enc(x) `[N, d]` of images `[N, 1, 8, 8]`, without recording.
    pub fn encode(&self, x: &Tensor) -> Tensor {
        chunked(x, |v| self.enc.forward(v))
    }

    /// The images Dec(c) `[N, 1, 8, 8]` of codes `[N, d]`, without recording.
    pub fn decode(&self, codes: &Tensor) -> Tensor {
        chunked(codes, |v| self.dec.forward(v))
    }

    /// Dec(Enc(x)).
    pub fn reconstruct(&self, x: &Tensor) -> Tensor {
        self.decode(&self.encode(x))
    }

    /// Mean per-pixel squared reconstruction error on images `x` (the training loss, on any set).
    pub fn recon_mse(&self, x: &Tensor) -> f64 {
        self.reconstruct(x).sub(x).square().mean_all().item()
    }

    /// `n` images decoded from codes drawn from **N(0, I)** with `rng`.
    ///
    /// Nothing in training relates the codes to N(0, I): the encoder's codes occupy whatever
    /// region (scale, offset, shape) the reconstruction loss happened to give them, so most of
    /// these codes were never seen by the decoder and its output there is uncontrolled — the
    /// tutorial's point. [`Autoencoder::sample_from`] with a [`CodeGaussian`] fitted to the training
    /// codes is the fairer baseline.
    pub fn sample(&self, n: usize, rng: &mut Rng) -> Tensor {
        self.decode(&Tensor::randn(
            [n, self.cfg.code_dim],
            0.0,
            1.0,
            DType::F32,
            rng,
        ))
    }

    /// `n` images decoded from codes drawn from `prior` (e.g. `CodeGaussian::fit(&ae.encode(x))`
    /// for the training images `x`).
    pub fn sample_from(&self, prior: &CodeGaussian, n: usize, rng: &mut Rng) -> Tensor {
        self.decode(&prior.sample(n, rng))
    }

    /// Dec((1 − t)·Enc(x1) + t·Enc(x2)) for `steps` values of t from 0 to 1: `[steps, 1, 8, 8]`,
    /// the first and last being the reconstructions of `x1` and `x2` (each one image, `[1, 8,
    /// 8]` or `[1, 1, 8, 8]`). Panics if `steps < 2`.
    #[track_caller]
    pub fn interpolate(&self, x1: &Tensor, x2: &Tensor, steps: usize) -> Tensor {
        let a = self.encode(&one_image(x1));
        let b = self.encode(&one_image(x2));
        self.decode(&mix_codes(&a, &b, steps))
    }
}

/// Trains an auto-encoder for `steps` steps on `data` (images `[1, 8, 8]`, e.g.
/// [`crate::data::Digits`]), reporting every step to `on_record`. What `minimax train ae` runs.
pub fn train_ae(
    cfg: AeConfig,
    data: &dyn Dataset,
    steps: usize,
    seed: u64,
    on_record: &mut dyn FnMut(&AeRecord),
) -> Result<Autoencoder, TrainError> {
    let mut ae = Autoencoder::new(cfg, seed).map_err(|error| TrainError::Optim {
        step: 0,
        net: "auto-encoder",
        error,
    })?;
    for _ in 0..steps {
        let r = ae.step(data)?;
        on_record(&r);
    }
    Ok(ae)
}

// ---------------------------------------------------------------------------------------------
// The variational auto-encoder
// ---------------------------------------------------------------------------------------------

/// Hyperparameters of the VAE.
#[derive(Clone, Debug)]
pub struct VaeConfig {
    /// Encoder/decoder shape.
    pub arch: Arch,
    /// Latent dimension d (the encoder outputs 2d numbers: μ then log σ²).
    pub latent_dim: usize,
    /// Hidden units of the MLP pair.
    pub hidden: usize,
    /// Base channels of the convolutional pair.
    pub channels: usize,
    /// Batch size m.
    pub batch: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Adam's (β₁, β₂).
    pub betas: (f64, f64),
    /// β, the weight of the KL term (1 for the VAE's bound; β-VAE otherwise).
    pub kl_weight: f64,
}

impl Default for VaeConfig {
    /// MLP 64 → 256 → 256 → 2·8 and 8 → 256 → 256 → 64, batch 64, Adam 1e-3 with betas (0.9,
    /// 0.999), β = 1.
    fn default() -> Self {
        VaeConfig {
            arch: Arch::Mlp,
            latent_dim: 8,
            hidden: 256,
            channels: 32,
            batch: 64,
            lr: 1e-3,
            betas: (0.9, 0.999),
            kl_weight: 1.0,
        }
    }
}

/// What one VAE step measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VaeRecord {
    /// Step number (1-based).
    pub step: usize,
    /// The loss minimised: recon + β·KL.
    pub loss: f64,
    /// recon = 1/m Σᵢ ‖xᵢ − Dec(zᵢ)‖², summed over the 64 pixels, mean over the batch.
    pub recon: f64,
    /// The same error per pixel (recon / 64), comparable with [`AeRecord::recon`].
    pub recon_mse: f64,
    /// KL = 1/m Σᵢ −½ Σ_d (1 + log σ² − μ² − σ²), in nats per image.
    pub kl: f64,
    /// Mean σ over the batch and the latent dimensions.
    pub mean_sigma: f64,
    /// ‖∇θ L‖ over encoder and decoder.
    pub grad_norm: f64,
    /// Wall time of the step in seconds.
    pub seconds: f64,
}

impl VaeRecord {
    /// The CSV header matching [`VaeRecord::csv_row`].
    pub const CSV_HEADER: &'static str =
        "step,loss,recon,recon_mse,kl,mean_sigma,grad_norm,seconds";
    /// One CSV row.
    pub fn csv_row(&self) -> String {
        format!(
            "{},{},{},{},{},{},{},{:.6}",
            self.step,
            self.loss,
            self.recon,
            self.recon_mse,
            self.kl,
            self.mean_sigma,
            self.grad_norm,
            self.seconds
        )
    }
}

/// The terms of the VAE's loss on one batch, as Vars on the batch's tape.
pub struct VaeTerms {
    /// μ `[m, d]`.
    pub mu: Var,
    /// log σ² `[m, d]`.
    pub logvar: Var,
    /// z = μ + σ ⊙ ε `[m, d]`.
    pub z: Var,
    /// Dec(z) `[m, 1, 8, 8]`.
    pub x_hat: Var,
    /// 1/m Σᵢ ‖xᵢ − x̂ᵢ‖².
    pub recon: Var,
    /// 1/m Σᵢ KL(N(μᵢ, σᵢ²) ‖ N(0, I)).
    pub kl: Var,
    /// recon + β·KL.
    pub loss: Var,
}

/// An encoder to (μ, log σ²), a decoder, their optimizer and the generator of all random
/// draws.
pub struct Vae {
    /// Enc: images `[N, 1, 8, 8]` → `[N, 2d]`: columns 0..d are μ, columns d..2d are log σ².
    pub enc: Sequential,
    /// Dec: latents `[N, d]` → images `[N, 1, 8, 8]` in (−1, 1).
    pub dec: Sequential,
    /// One Adam over both (parameters named `enc.*` and `dec.*`).
    pub opt: Adam,
    /// Hyperparameters.
    pub cfg: VaeConfig,
    /// Every random draw of training (batches and ε) comes from here.
    pub rng: Rng,
    /// Steps done.
    pub step: usize,
    /// The method description it runs under.
    pub info: &'static MethodInfo,
}

impl Vae {
    /// Builds the networks of `cfg` (initialised from `Rng::seed(seed)`) and their optimizer;
    /// training draws continue from the same generator.
    pub fn new(cfg: VaeConfig, seed: u64) -> Result<Vae, OptimError> {
        let mut rng = Rng::seed(seed);
        let d = cfg.latent_dim;
        let (enc, dec) = build(cfg.arch, 2 * d, d, cfg.hidden, cfg.channels, &mut rng);
        let opt = adam(&enc, &dec, cfg.lr, cfg.betas)?;
        Ok(Vae {
            enc,
            dec,
            opt,
            cfg,
            rng,
            step: 0,
            info: &VAE,
        })
    }

    /// The loss on images `x` (a Var on the tape to record on) with the noise `eps` `[m, d]`:
    /// (μ, log σ²) = Enc(x); z = μ + exp(½ log σ²) ⊙ ε; x̂ = Dec(z);
    /// recon = 1/m Σᵢ ‖xᵢ − x̂ᵢ‖² ([`mse`] with `Sum`, divided by m);
    /// KL = [`kl_normal`](μ, log σ², `Mean`); L = recon + β·KL.
    ///
    /// The KL is the closed form −½ Σ_d (1 + log σ² − μ² − σ²), summed over the d latent
    /// dimensions and averaged over the batch (nats per image), the same reduction as the
    /// reconstruction term (summed over pixels, averaged over the batch): together they are the
    /// negative evidence lower bound per image for a Gaussian decoder of variance ½, up to a
    /// constant.
    pub fn terms(&self, x: &Var, eps: &Tensor) -> VaeTerms {
        let d = self.cfg.latent_dim;
        let m = x.dims()[0];
        let h = self.enc.forward(x);
        let mu = h.narrow(1, 0, d);
        let logvar = h.narrow(1, d, d);
        let sigma = logvar.mul_scalar(0.5).exp();
        let z = mu.add(&sigma.mul(&x.constant(eps.clone())));
        let x_hat = self.dec.forward(&z);
        let recon = mse(&x_hat, x, Reduction::Sum).mul_scalar(1.0 / m as f64);
        let kl = kl_normal(&mu, &logvar, Reduction::Mean);
        let loss = recon.add(&kl.mul_scalar(self.cfg.kl_weight));
        VaeTerms {
            mu,
            logvar,
            z,
            x_hat,
            recon,
            kl,
            loss,
        }
    }

    /// One step: sample m images x and ε ~ N(0, I) `[m, d]`, L = recon + β·KL ([`Vae::terms`]),
    /// one Adam update of θ_enc and θ_dec (the gradient reaches the encoder through z = μ + σ⊙ε).
    pub fn step(&mut self, data: &dyn Dataset) -> Result<VaeRecord, TrainError> {
        let t0 = Instant::now();
        self.step += 1;
        let x = data.sample(self.cfg.batch, &mut self.rng);
        let m = x.dims()[0];
        let eps = Tensor::randn(
            [m, self.cfg.latent_dim],
            0.0,
            1.0,
            DType::F32,
            &mut self.rng,
        );
        let step = self.step;
        let this = &*self;
        let (loss, recon, kl, mean_sigma) = compute_gradients(&this.opt, |tape| {
            let t = this.terms(&tape.constant(x), &eps);
            let recon = finite(step, "reconstruction term", t.recon.item())?;
            let kl = finite(step, "KL term", t.kl.item())?;
            let loss = finite(step, "VAE loss", t.loss.item())?;
            let mean_sigma = t.logvar.value().mul_scalar(0.5).exp().mean_all().item();
            Ok((t.loss, (loss, recon, kl, mean_sigma)))
        })?;
        let grad_norm = grad_norm(&[&self.enc, &self.dec]);
        update(&mut self.opt, step, "VAE")?;
        Ok(VaeRecord {
            step: self.step,
            loss,
            recon,
            recon_mse: recon / PIXELS as f64,
            kl,
            mean_sigma,
            grad_norm,
            seconds: t0.elapsed().as_secs_f64(),
        })
    }

    /// μ(x) `[N, d]`, the mean code of each image, without recording.
    pub fn encode_mean(&self, x: &Tensor) -> Tensor {
        let d = self.cfg.latent_dim;
        chunked(x, |v| self.enc.forward(v).narrow(1, 0, d))
    }

    /// The images Dec(z) `[N, 1, 8, 8]` of latents `[N, d]`, without recording.
    pub fn decode(&self, z: &Tensor) -> Tensor {
        chunked(z, |v| self.dec.forward(v))
    }

    /// Dec(μ(x)): the deterministic reconstruction.
    pub fn reconstruct(&self, x: &Tensor) -> Tensor {
        self.decode(&self.encode_mean(x))
    }

    /// Mean per-pixel squared error of [`Vae::reconstruct`] on images `x`.
    pub fn recon_mse(&self, x: &Tensor) -> f64 {
        self.reconstruct(x).sub(x).square().mean_all().item()
    }

    /// `n` images Dec(z), z ~ N(0, I) drawn with `rng`: the prior the KL term trained the codes
    /// towards.
    pub fn sample(&self, n: usize, rng: &mut Rng) -> Tensor {
        self.decode(&Tensor::randn(
            [n, self.cfg.latent_dim],
            0.0,
            1.0,
            DType::F32,
            rng,
        ))
    }

    /// Dec((1 − t)·μ(x1) + t·μ(x2)) for `steps` values of t from 0 to 1: `[steps, 1, 8, 8]`.
    /// Panics if `steps < 2`.
    #[track_caller]
    pub fn interpolate(&self, x1: &Tensor, x2: &Tensor, steps: usize) -> Tensor {
        let a = self.encode_mean(&one_image(x1));
        let b = self.encode_mean(&one_image(x2));
        self.decode(&mix_codes(&a, &b, steps))
    }
}

/// Trains a VAE for `steps` steps on `data` (images `[1, 8, 8]`, e.g.
/// [`crate::data::Digits`]), reporting every step to `on_record`. What `minimax train vae`
/// runs.
pub fn train_vae(
    cfg: VaeConfig,
    data: &dyn Dataset,
    steps: usize,
    seed: u64,
    on_record: &mut dyn FnMut(&VaeRecord),
) -> Result<Vae, TrainError> {
    let mut vae = Vae::new(cfg, seed).map_err(|error| TrainError::Optim {
        step: 0,
        net: "VAE",
        error,
    })?;
    for _ in 0..steps {
        let r = vae.step(data)?;
        on_record(&r);
    }
    Ok(vae)
}

// ---------------------------------------------------------------------------------------------
// `minimax train ae` and `minimax train vae`
// ---------------------------------------------------------------------------------------------

impl AeRecord {
    /// The figures as a [`Record`] (the columns of `metrics.csv`).
    pub fn to_record(&self) -> Record {
        let mut r = Record::new();
        r.show("recon", self.recon).log("grad_norm", self.grad_norm);
        r
    }
}

impl VaeRecord {
    /// The figures as a [`Record`] (the columns of `metrics.csv`).
    pub fn to_record(&self) -> Record {
        let mut r = Record::new();
        r.show("loss", self.loss)
            .show("recon", self.recon)
            .log("recon_mse", self.recon_mse)
            .show("kl", self.kl)
            .log("mean_sigma", self.mean_sigma)
            .log("grad_norm", self.grad_norm);
        r
    }
}

/// Final figures of an auto-encoder: the reconstruction error on the held-out examples and how
/// far its samples are from the nearest training example.
fn auto_encoder_figures(
    data: &Data,
    recon_mse: &dyn Fn(&Tensor) -> f64,
    sample: &dyn Fn(usize, &mut Rng) -> Tensor,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(test) = data.test.as_ref().and_then(|t| t.examples()) {
        out.push((
            "held-out reconstruction MSE".into(),
            format!("{:.4}", recon_mse(&test)),
        ));
    }
    if let Some(train) = data.train.examples() {
        let samples = sample(500, &mut Rng::seed(1));
        out.push((
            "mean squared distance of a sample to its nearest training example".into(),
            format!("{:.4}", nearest_neighbour_mse(&samples, &train)),
        ));
    }
    out
}

macro_rules! ae_method {
    ($t:ty, $net:literal) => {
        impl Method for $t {
            fn info(&self) -> &'static MethodInfo {
                self.info
            }
            fn step(&mut self, data: &Data) -> Result<Record, TrainError> {
                <$t>::step(self, data.train.as_ref()).map(|r| r.to_record())
            }
            fn networks(&self) -> Vec<(&'static str, &dyn Module)> {
                vec![("enc", &self.enc), ("dec", &self.dec)]
            }
            fn optimizers(&self) -> Vec<(&'static str, &dyn Optimizer)> {
                vec![($net, &self.opt)]
            }
            fn optimizers_mut(&mut self) -> Vec<(&'static str, &mut dyn Optimizer)> {
                vec![($net, &mut self.opt)]
            }
            crate::rng_and_step!();
            fn sample(&self, n: usize, rng: &mut Rng) -> Option<Tensor> {
                Some(<$t>::sample(self, n, rng))
            }
            fn evaluate(&self, data: &Data) -> Vec<(String, String)> {
                auto_encoder_figures(data, &|x| self.recon_mse(x), &|n, rng| {
                    <$t>::sample(self, n, rng)
                })
            }
        }
    };
}
ae_method!(Autoencoder, "ae");
ae_method!(Vae, "vae");

fn check_digit_shape(name: &str, data: &DataInfo) -> Result<(), String> {
    if data.shape == [1, 8, 8] {
        Ok(())
    } else {
        Err(format!(
            "train {name}: the auto-encoders are built for 8×8 one-channel images such as --data digits, but {} has examples of shape {:?}",
            data.spec, data.shape
        ))
    }
}

fn arch(o: &Options) -> Arch {
    if o.word("arch") == "conv" {
        Arch::Conv
    } else {
        Arch::Mlp
    }
}

const ARCH: OptSpec = OptSpec {
    name: "arch",
    help: "encoder and decoder: MLPs or a small convolutional pair",
    default: "mlp",
    kind: OptKind::Choice(&["mlp", "conv"]),
};
const HIDDEN: OptSpec = OptSpec {
    name: "hidden",
    help: "hidden units of the MLP pair",
    default: "256",
    kind: OptKind::Int { min: 1, max: 4096 },
};
const BATCH: OptSpec = OptSpec {
    name: "batch",
    help: "batch size m",
    default: "64",
    kind: OptKind::Int { min: 1, max: 65536 },
};
const LR: OptSpec = OptSpec {
    name: "lr",
    help: "Adam's learning rate (betas 0.9, 0.999)",
    default: "1e-3",
    kind: OptKind::Float {
        min: 0.0,
        max: 10.0,
    },
};

/// `minimax train ae`: the auto-encoder as a generator.
pub static AE: MethodInfo = MethodInfo {
    name: "ae",
    help: "an auto-encoder, sampled by decoding codes from N(0, I) (8×8 digits)",
    about: "An auto-encoder trained on reconstruction alone, then sampled by decoding codes \
            drawn from N(0, I) — codes it never saw, which is why it is a poor generator. \
            Trains on 80 % of the digits; the rest measure the reconstruction.",
    takes: BatchKind::Unlabelled,
    default_data: "digits",
    default_steps: 3000,
    holds_out: true,
    options: &[
        BATCH,
        LR,
        OptSpec {
            name: "code-dim",
            help: "code dimension d",
            default: "8",
            kind: OptKind::Int { min: 1, max: 4096 },
        },
        ARCH,
        HIDDEN,
    ],
    charts: &[("Reconstruction loss", &["recon"])],
    build: |o, data, seed| {
        check_digit_shape("ae", data)?;
        let cfg = AeConfig {
            arch: arch(o),
            code_dim: o.usize("code-dim"),
            hidden: o.usize("hidden"),
            batch: o.usize("batch"),
            lr: o.f64("lr"),
            ..AeConfig::default()
        };
        let mut m = Autoencoder::new(cfg, seed).map_err(|e| e.to_string())?;
        m.info = &AE;
        Ok(Box::new(m))
    },
};

/// `minimax train vae`: the variational auto-encoder.
pub static VAE: MethodInfo = MethodInfo {
    name: "vae",
    help: "a variational auto-encoder (8×8 digits)",
    about: "A variational auto-encoder (Kingma & Welling 2014): reconstruction plus β·KL to \
            N(0, I), sampled by decoding z ~ N(0, I). Trains on 80 % of the digits; the rest \
            measure the reconstruction.",
    takes: BatchKind::Unlabelled,
    default_data: "digits",
    default_steps: 3000,
    holds_out: true,
    options: &[
        BATCH,
        LR,
        OptSpec {
            name: "latent-dim",
            help: "latent dimension d",
            default: "8",
            kind: OptKind::Int { min: 1, max: 4096 },
        },
        OptSpec {
            name: "kl-weight",
            help: "β, the weight of the KL term",
            default: "1",
            kind: OptKind::Float { min: 0.0, max: 1e6 },
        },
        ARCH,
        HIDDEN,
    ],
    charts: &[
        ("Loss and its terms", &["loss", "recon", "kl"]),
        ("Mean σ of the codes", &["mean_sigma"]),
    ],
    build: |o, data, seed| {
        check_digit_shape("vae", data)?;
        let cfg = VaeConfig {
            arch: arch(o),
            latent_dim: o.usize("latent-dim"),
            kl_weight: o.f64("kl-weight"),
            hidden: o.usize("hidden"),
            batch: o.usize("batch"),
            lr: o.f64("lr"),
            ..VaeConfig::default()
        };
        let mut m = Vae::new(cfg, seed).map_err(|e| e.to_string())?;
        m.info = &VAE;
        Ok(Box::new(m))
    },
};
