//! 11 — StackGAN: a 16×16 draft, then a 32×32 refinement, both asked for a digit in a style.
//!
//! The condition is the digit and its face's style (family, bold, italic, condensed, light),
//! augmented (c = μ + σ·ε); stage I draws 16×16, stage II refines the draft to 32×32. Every 100
//! iterations it prints both stages' D and G losses; at the end, the same two conditions drawn
//! by both stages, as text.
//! `minimax train stackgan` is the full version (4,000 iterations, per-stage measurements). At
//! 400 iterations the model does not follow its conditions yet (the two drafts look alike): it
//! takes a few thousand iterations (`STEPS=4000`, several minutes) to draw the digit asked for.
//!
//! Knobs: `STEPS` (default 400), `SEED` (default 0), `NO_CA=1` (no conditioning augmentation).
//!
//! Run: `cargo run --release --example 11_stackgan`

use gan::data::DataSpec;
use gan::methods::stackgan::{condition, parse_condition, StackGan, StackGanConfig};
use tensor::{Rng, Tensor};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn show(img: &[f32], side: usize, step: usize) -> Vec<String> {
    img.chunks(side)
        .step_by(step)
        .map(|row| {
            row.iter()
                .step_by(step)
                .map(|&v| b" .:-=+*#%@"[(((v + 1.0) / 2.0 * 9.99) as usize).min(9)] as char)
                .collect()
        })
        .collect()
}

fn main() {
    minimax::quiet_broken_pipes();
    let (steps, seed) = (env("STEPS", 400) as usize, env("SEED", 0));
    let cfg = StackGanConfig {
        augment: env("NO_CA", 0) == 0,
        // stage I alone for the first half, as StackGAN trains it
        stage2_from: steps / 2,
        ..StackGanConfig::default()
    };
    let data = DataSpec::parse("printed")
        .expect("a data name")
        .open_held_out()
        .expect("the embedded printed digits");
    let mut sg = StackGan::new(cfg, seed).expect("optimizers");
    let t0 = std::time::Instant::now();
    for step in 1..=steps {
        let r = sg.step(&data).expect("no NaN");
        if step % 100 == 0 {
            let two = match (r.get("d2_loss").unwrap(), r.get("g2_loss").unwrap()) {
                (d, g) if d.is_finite() => format!("stage II D {d:.3} G {g:.3}"),
                _ => "stage II waits for stage I".to_string(),
            };
            println!(
                "step {step}: stage I D {:.3} G {:.3}   {two}",
                r.get("d1_loss").unwrap(),
                r.get("g1_loss").unwrap()
            );
        }
    }
    println!("{:.1} s\n", t0.elapsed().as_secs_f64());
    for spec in ["2,serif,bold", "5,mono,italic"] {
        let (digit, attrs) = parse_condition(spec).expect("a valid condition");
        let phi = condition(&[digit], &Tensor::from_vec(attrs.to_vec(), [1, 7]));
        let (one, two) = sg.generate(&phi, &mut Rng::seed(3));
        println!("condition {spec}: stage I (16×16)   stage II (32×32, every other row)");
        let a = show(&one.to_vec_f32(), 16, 1);
        let b = show(&two.to_vec_f32(), 32, 2);
        for r in 0..16 {
            println!("{}   {}", a[r], b[r]);
        }
        println!();
    }
}
