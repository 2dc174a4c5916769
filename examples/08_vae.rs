//! 08 — the tutorial's baselines for a generator: an auto-encoder and a VAE on the embedded 8×8 digits, used as
//! generators. Trains both on a stratified 80 % split, then measures reconstruction on the
//! held-out 20 % and how real the *generated* images look: the mean per-pixel squared distance
//! of each sample to its nearest training digit (`nearest_neighbour_mse`), for
//! - the AE decoding codes from N(0, I) (codes it was never trained on),
//! - the AE decoding codes from a Gaussian fitted to its training codes,
//! - the AE decoding midpoints of two codes (interpolation),
//! - the VAE decoding z ~ N(0, I), and its midpoints.
//!
//! Run: `cargo run --release --example 08_vae [-- STEPS SEED [OUT_DIR]]` (OUT_DIR: write PNG
//! grids of the samples there; `ARCH=conv` in the environment for the convolutional pair).

use gan::data::Digits;
use gan::methods::autoencoder::{
    nearest_neighbour_mse, train_ae, train_vae, AeConfig, Arch, CodeGaussian, VaeConfig,
};
use gan::report::image_grid;
use std::time::Instant;
use tensor::{Rng, Tensor};

fn midpoints(
    interp: &dyn Fn(&Tensor, &Tensor) -> Tensor,
    data: &Tensor,
    pairs: usize,
    rng: &mut Rng,
) -> Tensor {
    let n = data.dims()[0];
    let mids: Vec<Tensor> = (0..pairs)
        .map(|_| {
            let a = data.narrow(0, rng.below(n), 1).contiguous();
            let b = data.narrow(0, rng.below(n), 1).contiguous();
            interp(&a, &b).narrow(0, 2, 1).contiguous() // t = 1/2 of 5 steps
        })
        .collect();
    Tensor::cat(&mids.iter().collect::<Vec<_>>(), 0)
}

fn main() {
    minimax::quiet_broken_pipes();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let steps: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(3000);
    let seed: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let out = args.get(2).cloned();
    let (train, test) = Digits::new().split(0.2, 0);
    let n_samples = 500;
    let arch = match std::env::var("ARCH").as_deref() {
        Ok("conv") => Arch::Conv,
        _ => Arch::Mlp,
    };
    let ae_cfg = AeConfig {
        arch,
        ..AeConfig::default()
    };
    let vae_cfg = VaeConfig {
        arch,
        ..VaeConfig::default()
    };

    let t0 = Instant::now();
    let mut first = None;
    let ae = train_ae(ae_cfg, &train, steps, seed, &mut |r| {
        first.get_or_insert(r.recon);
        if r.step.is_multiple_of((steps / 5).max(1)) {
            println!(
                "AE  step {:5}  recon (mean per pixel) {:.4}",
                r.step, r.recon
            );
        }
    })
    .expect("AE training");
    let ae_secs = t0.elapsed().as_secs_f64();
    let ae_first = first.unwrap_or(f64::NAN);

    let t0 = Instant::now();
    let mut first = None;
    let vae = train_vae(vae_cfg, &train, steps, seed, &mut |r| {
        first.get_or_insert(r.recon_mse);
        if r.step.is_multiple_of((steps / 5).max(1)) {
            println!(
                "VAE step {:5}  loss {:.3}  recon {:.3} ({:.4} per pixel)  KL {:.3}  mean σ {:.3}",
                r.step, r.loss, r.recon, r.recon_mse, r.kl, r.mean_sigma
            );
        }
    })
    .expect("VAE training");
    let vae_secs = t0.elapsed().as_secs_f64();
    let vae_first = first.unwrap_or(f64::NAN);

    let real = train.images();
    let mut rng = Rng::seed(1000 + seed);
    let ae_codes = ae.encode(real);
    let fit = CodeGaussian::fit(&ae_codes);
    let ae_prior = ae.sample(n_samples, &mut rng);
    let ae_fitted = ae.sample_from(&fit, n_samples, &mut rng);
    let ae_mid = midpoints(
        &|a, b| ae.interpolate(a, b, 5),
        real,
        n_samples,
        &mut Rng::seed(7),
    );
    let vae_prior = vae.sample(n_samples, &mut rng);
    let vae_mid = midpoints(
        &|a, b| vae.interpolate(a, b, 5),
        real,
        n_samples,
        &mut Rng::seed(7),
    );
    let held_out = test.images().clone();

    println!();
    println!(
        "{steps} steps, seed {seed}, {} encoder/decoder, train {} / test {} digits",
        arch.name(),
        train.len(),
        test.len()
    );
    println!(
        "AE : batch recon {ae_first:.4} → test recon {:.4} (train {:.4}) in {ae_secs:.1} s",
        ae.recon_mse(test.images()),
        ae.recon_mse(real)
    );
    println!(
        "VAE: batch recon {vae_first:.4} → test recon {:.4} (train {:.4}) in {vae_secs:.1} s",
        vae.recon_mse(test.images()),
        vae.recon_mse(real)
    );
    println!(
        "AE code statistics: per-dimension mean {:?}, std {:?}",
        fit.mean
            .iter()
            .map(|v| (v * 100.0).round() / 100.0)
            .collect::<Vec<_>>(),
        fit.std
            .iter()
            .map(|v| (v * 100.0).round() / 100.0)
            .collect::<Vec<_>>()
    );
    println!("nearest-training-digit MSE per pixel ({n_samples} generated images each, all {} held-out digits; lower = more like a real digit):", held_out.dims()[0]);
    for (name, x) in [
        ("held-out real digits (reference)", &held_out),
        ("AE, codes ~ N(0, I)", &ae_prior),
        ("AE, codes ~ Gaussian fitted to codes", &ae_fitted),
        ("AE, midpoint of two codes", &ae_mid),
        ("VAE, z ~ N(0, I)", &vae_prior),
        ("VAE, midpoint of two means", &vae_mid),
    ] {
        println!("  {name:38} {:.4}", nearest_neighbour_mse(x, real));
    }
    if let Some(dir) = out {
        std::fs::create_dir_all(&dir).expect("output directory");
        for (name, x) in [
            ("ae_prior", &ae_prior),
            ("ae_fitted", &ae_fitted),
            ("vae_prior", &vae_prior),
        ] {
            let grid = image_grid(&x.narrow(0, 0, 64).contiguous(), 8, 1, 4);
            grid.write_png(format!("{dir}/{name}.png")).expect("png");
        }
        let a = real.narrow(0, 0, 1).contiguous();
        let b = real.narrow(0, 1, 1).contiguous();
        let rows = Tensor::cat(
            &[&ae.interpolate(&a, &b, 8), &vae.interpolate(&a, &b, 8)],
            0,
        );
        image_grid(&rows, 8, 1, 4)
            .write_png(format!("{dir}/interpolation.png"))
            .expect("png");
        println!("wrote {dir}/{{ae_prior,ae_fitted,vae_prior,interpolation}}.png");
    }
}
