//! 07 — a DCGAN on the embedded 8×8 digits, judged by a classifier trained on the spot.
//!
//! A shorter version of `cargo run --release` (which trains 1,500 iterations and writes a run
//! folder): 400 iterations, then the samples are printed as text and scored.
//!
//! Run: `cargo run --release --example 07_digits`

use gan::data::Digits;
use gan::methods::vanilla::{Gan, GanConfig};
use gan::metrics::{evaluate_digits, DigitClassifier};
use gan::models::{dcgan_discriminator, dcgan_generator};
use tensor::Rng;

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
    let data = Digits::new();
    let mut rng = Rng::seed(0);
    let g = dcgan_generator(100, 2, 64, &mut rng);
    let d = dcgan_discriminator(2, 64, &mut rng);
    nn::init::init_dcgan(&g, &mut rng);
    nn::init::init_dcgan(&d, &mut rng);
    let mut gan = Gan::new(Box::new(g), Box::new(d), GanConfig::default(), 1).expect("optimizers");
    let t0 = std::time::Instant::now();
    for step in 1..=400 {
        let r = gan.step(&data).expect("no NaN");
        if step % 100 == 0 {
            println!(
                "step {step}: V {:+.3}  D(x) {:.3}  D(G(z)) {:.3}",
                r.v, r.d_real, r.d_fake
            );
        }
    }
    println!("{:.1} s\n", t0.elapsed().as_secs_f64());
    let samples = gan.sample(500, &mut Rng::seed(9));
    let v = samples.to_vec_f64();
    let rows: Vec<Vec<String>> = (0..8).map(|k| show(&v[k * 64..(k + 1) * 64])).collect();
    for r in 0..8 {
        println!(
            "{}",
            rows.iter()
                .map(|img| img[r].clone())
                .collect::<Vec<_>>()
                .join("  ")
        );
    }
    let clf = DigitClassifier::train(0);
    let report = evaluate_digits(&clf, &samples, clf.held_out().images());
    println!(
        "\nclassifier (held-out accuracy {:.1} %) on 500 samples:\n{report}",
        100.0 * clf.held_out_accuracy()
    );
}
