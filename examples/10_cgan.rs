//! 10 — a conditional GAN: ask for a digit and get that digit.
//!
//! G(c, z) and D(c, x) on the embedded 8×8 digits with GAN-CLS's mismatched pairs: D learns to
//! accept (c, real x) and to reject (wrong c, real x) and (c, G(c, z)). Every 200 iterations it
//! prints D's mean output on the three pairs; at the end, one generated digit per class (0–9,
//! left to right, two draws each) and how often a classifier reads the class asked for.
//! `minimax train cgan` is the full version (1,500 iterations, a run folder, a report).
//!
//! Knobs: `STEPS` (default 1000), `SEED` (default 0), `NO_MISMATCH=1` (drop the wrong pair and
//! watch the label agreement fall to chance).
//!
//! Run: `cargo run --release --example 10_cgan`

use gan::data::DataSpec;
use gan::methods::cgan::{Cgan, CganConfig};
use gan::metrics::DigitClassifier;
use tensor::Rng;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn show(img: &[f64]) -> Vec<String> {
    img.chunks(8)
        .map(|row| {
            row.iter()
                .map(|&v| b" .:-=+*#%@"[(((v + 1.0) / 2.0 * 9.99) as usize).min(9)] as char)
                .collect()
        })
        .collect()
}

fn main() {
    minimax::quiet_broken_pipes();
    let (steps, seed) = (env("STEPS", 1000) as usize, env("SEED", 0));
    let cfg = CganConfig {
        mismatch: env("NO_MISMATCH", 0) == 0,
        ..CganConfig::default()
    };
    let data = DataSpec::Digits.open().expect("the embedded digits");
    let mut cg = Cgan::new(cfg, 10, 8, seed).expect("optimizers");
    let t0 = std::time::Instant::now();
    for step in 1..=steps {
        let r = cg.step(&data).expect("no NaN");
        if step % 200 == 0 {
            println!(
                "step {step}: D(c, x) {:.3}   D(wrong c, x) {:.3}   D(c, G(c, z)) {:.3}",
                r.get("d_real").unwrap(),
                r.get("d_wrong").unwrap(),
                r.get("d_fake").unwrap()
            );
        }
    }
    println!("{:.1} s\n", t0.elapsed().as_secs_f64());
    let labels: Vec<usize> = (0..1000).map(|i| i % 10).collect();
    let samples = cg.sample_classes(&labels, &mut Rng::seed(9));
    let v = samples.to_vec_f64();
    for first in [0, 10] {
        let rows: Vec<Vec<String>> = (first..first + 10)
            .map(|k| show(&v[k * 64..(k + 1) * 64]))
            .collect();
        for r in 0..8 {
            println!(
                "{}",
                rows.iter()
                    .map(|img| img[r].clone())
                    .collect::<Vec<_>>()
                    .join("  ")
            );
        }
        println!();
    }
    let clf = DigitClassifier::train(0);
    let read = clf.predict(&samples);
    let agree = read.iter().zip(&labels).filter(|(a, b)| a == b).count();
    println!(
        "the classifier (held-out accuracy {:.1} %) reads the requested class in {agree} of 1000 samples",
        100.0 * clf.held_out_accuracy()
    );
}
