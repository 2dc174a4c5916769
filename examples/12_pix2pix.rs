//! 12 — pix2pix: from a printed glyph's edges to the glyph, with a U-Net and a PatchGAN.
//!
//! The pairs (A = edges, B = glyph) come from the embedded printed digits at 32×32; instances 8
//! and 9 of every digit are held out. Every 100 iterations it prints D's loss, G's GAN term and
//! its L1 to the true B; at the end, three held-out glyphs as text (edges, G's output, truth)
//! and the L1 over all held-out pairs against doing nothing (A itself).
//! `minimax train pix2pix` is the full version (1,000 iterations, the PatchGAN's map in the
//! report).
//!
//! Knobs: `STEPS` (default 300), `SEED` (default 0), `OBJECTIVE` (`pix2pix`, `l1` or `gan`).
//!
//! Run: `cargo run --release --example 12_pix2pix`

use gan::data::DataSpec;
use gan::methods::pix2pix::{receptive_field, Objective, Pix2pix, Pix2pixConfig};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn show(img: &[f32], side: usize) -> Vec<String> {
    img.chunks(side)
        .step_by(2)
        .map(|row| {
            row.iter()
                .map(|&v| b" .:-=+*#%@"[(((v + 1.0) / 2.0 * 9.99) as usize).min(9)] as char)
                .collect()
        })
        .collect()
}

fn main() {
    minimax::quiet_broken_pipes();
    let steps: usize = env("STEPS", "300").parse().expect("STEPS is a number");
    let seed: u64 = env("SEED", "0").parse().expect("SEED is a number");
    let objective = match env("OBJECTIVE", "pix2pix").as_str() {
        "l1" => Objective::L1,
        "gan" => Objective::Gan,
        _ => Objective::Pix2pix,
    };
    let cfg = Pix2pixConfig {
        ngf: 16,
        ndf: 16,
        objective,
        ..Pix2pixConfig::default()
    };
    println!(
        "PatchGAN with {} stride-2 layer: each of its logits judges a {}-px patch of the 32-px pair",
        cfg.patch_layers,
        receptive_field(cfg.patch_layers)
    );
    let data = DataSpec::EdgesToPrinted
        .open_held_out()
        .expect("the embedded printed digits");
    let mut p = Pix2pix::new(cfg, 32, seed).expect("optimizers");
    let t0 = std::time::Instant::now();
    for step in 1..=steps {
        let r = p.step(&data).expect("no NaN");
        if step % 100 == 0 {
            println!(
                "step {step}: D loss {:.3}   G's GAN term {:.3}   L1 to B {:.4}",
                r.get("d_loss").unwrap(),
                r.get("g_gan").unwrap(),
                r.get("g_l1").unwrap() / 2.0
            );
        }
    }
    println!("{:.1} s\n", t0.elapsed().as_secs_f64());
    let (a, b) = data
        .test
        .as_ref()
        .and_then(|t| t.examples_paired())
        .expect("held-out pairs");
    let out = p.translate(&a);
    for i in [5, 300, 600] {
        let px = 32 * 32;
        let cols: Vec<Vec<String>> = [&a, &out, &b]
            .iter()
            .map(|t| show(&t.as_slice::<f32>()[i * px..(i + 1) * px], 32))
            .collect();
        for r in 0..16 {
            println!("{}   {}   {}", cols[0][r], cols[1][r], cols[2][r]);
        }
        println!();
    }
    let l1 = |x: &tensor::Tensor| x.sub(&b).abs().mean_all().item() / 2.0;
    println!(
        "L1 to the truth over {} held-out pairs: G {:.4}, doing nothing (the edges) {:.4}",
        a.dims()[0],
        l1(&out),
        l1(&a)
    );
}
