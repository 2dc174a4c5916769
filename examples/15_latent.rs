//! 15 — A common latent space: two VAE-GANs, one for printed digits and one for handwritten
//! ones, first trained apart, then with shared layers that start alike.
//!
//! Each domain has its own encoder to a code z and decoder back; X → Y is Dec_Y(μ_X(x)). Trained
//! apart, nothing makes a printed 3 and a handwritten 3 land on the same code, and the
//! translation is a lottery. With the fix, the two encoders share their last layers and their
//! own first layers start as copies (the decoders likewise).
//! For both it prints how well the codes line up (on held-out digits of both domains): whether
//! a classifier can still tell the domains' codes apart, how often a handwritten digit's nearest
//! printed code shows its digit, and how often a handwritten-digit classifier reads x's digit
//! in the translation. Then ten printed digits and their translations as text.
//! `minimax train vaegan [fixes]` is the full version (1,500 iterations, pictures of the codes);
//! `minimax explain latent` shows one iteration term by term.
//!
//! Knobs: `STEPS` (default 600), `SEED` (default 0).
//!
//! Run: `cargo run --release --example 15_latent`

use gan::data::DataSpec;
use gan::method::Method;
use gan::methods::latent::{Latent, LatentConfig, X, Y};
use gan::metrics::DigitClassifier;
use gan::report::text_images;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    minimax::quiet_broken_pipes();
    let (steps, seed) = (env("STEPS", 600) as usize, env("SEED", 0));
    let data = DataSpec::parse("printed8+digits")
        .expect("a data name")
        .open_held_out()
        .expect("the embedded digits");
    let test = data.test.as_ref().expect("held-out printed digits");
    let (x, labels) = (test.examples().unwrap(), test.example_labels().unwrap());
    let clf = DigitClassifier::train(0);
    let variants = [
        ("apart (the baseline)", LatentConfig::default()),
        (
            "shared layers started alike",
            LatentConfig {
                share_layers: true,
                same_start: true,
                ..LatentConfig::default()
            },
        ),
    ];
    let mut last = None;
    for (name, cfg) in variants {
        let mut m = Latent::new(cfg, seed).expect("optimizers");
        let t0 = std::time::Instant::now();
        for _ in 0..steps {
            m.step(&data).expect("no NaN");
        }
        println!(
            "{name}: {steps} iterations in {:.1} s",
            t0.elapsed().as_secs_f64()
        );
        for (k, v) in m.evaluate(&data) {
            println!("  {k}: {v}");
        }
        let pred = clf.predict(&m.translate_between(&x, X, Y));
        let kept = pred.iter().zip(&labels).filter(|(a, b)| a == b).count();
        println!(
            "  X→Y label preservation (a handwritten-digit classifier reads x's digit): {:.3}\n",
            kept as f64 / labels.len() as f64
        );
        last = Some(m);
    }
    let m = last.expect("two variants");
    let idx: Vec<usize> = (0..10).map(|d| d * 74 + 3).collect();
    let gx = m.translate_between(&x, X, Y);
    for (title, t) in [("printed x", &x), ("Dec_Y(μ_X(x)), with the fix", &gx)] {
        println!("{title}:");
        for r in text_images(t, &idx) {
            println!("  {r}");
        }
    }
}
