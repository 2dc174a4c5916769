//! 13 — CycleGAN: printed digits to handwritten ones and back, without a single pair.
//!
//! G: X → Y and F: Y → X, each fooling its own discriminator, tied by the cycle terms
//! |F(G(x)) − x| and |G(F(y)) − y|. Every 100 iterations it prints the terms; at the end, ten
//! held-out printed digits, their translations and the way back as text, and how often a
//! classifier trained on handwritten digits reads the source digit in G(x), against doing
//! nothing. `minimax train cyclegan` is the full version (1,500 iterations, both directions
//! measured); `minimax explain cyclegan` shows one iteration term by term.
//!
//! Knobs: `STEPS` (default 300), `SEED` (default 0).
//!
//! Run: `cargo run --release --example 13_cyclegan`

use gan::data::DataSpec;
use gan::method::Method;
use gan::methods::cyclegan::{CycleGan, CycleGanConfig};
use gan::metrics::DigitClassifier;
use gan::report::text_images;
use tensor::Tensor;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    minimax::quiet_broken_pipes();
    let (steps, seed) = (env("STEPS", 300) as usize, env("SEED", 0));
    let data = DataSpec::parse("printed8+digits")
        .expect("a data name")
        .open_held_out()
        .expect("the embedded digits");
    let mut cg = CycleGan::new(CycleGanConfig::default(), seed).expect("optimizers");
    let t0 = std::time::Instant::now();
    for step in 1..=steps {
        let r = cg.step(&data).expect("no NaN");
        if step % 100 == 0 {
            println!(
                "step {step}: GAN G {:.3} F {:.3}   cycle x {:.3} y {:.3}   D_Y {:.3} D_X {:.3}",
                r.get("gan_g").unwrap(),
                r.get("gan_f").unwrap(),
                r.get("cycle_x").unwrap(),
                r.get("cycle_y").unwrap(),
                r.get("d_y").unwrap(),
                r.get("d_x").unwrap()
            );
        }
    }
    println!("{:.1} s\n", t0.elapsed().as_secs_f64());
    let test = data.test.as_ref().expect("held-out printed digits");
    let (x, labels) = (test.examples().unwrap(), test.example_labels().unwrap());
    let gx = cg.translate(&x).unwrap();
    let back = cg.translate_reverse(&gx).unwrap();
    let idx: Vec<usize> = (0..10).map(|d| d * 74 + 3).collect();
    for (title, t) in [("printed x", &x), ("G(x)", &gx), ("F(G(x))", &back)] {
        println!("{title}:");
        for r in text_images(t, &idx) {
            println!("  {r}");
        }
    }
    let clf = DigitClassifier::train(0);
    let read = |t: &Tensor| {
        let p = clf.predict(t);
        p.iter().zip(&labels).filter(|(a, b)| a == b).count() as f64 / labels.len() as f64
    };
    println!(
        "\nthe handwritten-digit classifier reads the source digit in {:.1} % of G(x) ({} held-out glyphs); in the printed digits themselves: {:.1} %",
        100.0 * read(&gx),
        labels.len(),
        100.0 * read(&x)
    );
}
