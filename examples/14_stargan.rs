//! 14 — StarGAN: one generator for every combination of bold, italic and serif.
//!
//! G(x, c) takes a printed digit and the attributes c = (bold, italic, serif) it should have;
//! D is a WGAN-GP critic with a second head that reads the attributes. Every 100 iterations it
//! prints the terms; at the end, held-out glyphs are translated to the attributes of other
//! faces and compared with the same glyphs rendered in those faces (the printed digits have the
//! truth), against doing nothing, and a classifier reads the attributes and the digits of the
//! translations. `minimax train stargan` is the full version with a report; `minimax translate
//! --to bold,italic` translates images of your own.
//!
//! Knobs: `STEPS` (default 1200, the run's default: about 7 minutes on two idle cores), `SEED`
//! (default 0; seed 2 scrambles the digits, see `docs/translation.md`).
//!
//! Run: `cargo run --release --example 14_stargan`

use gan::data::DataSpec;
use gan::methods::stargan::{StarGan, StarGanConfig};
use gan::metrics::PrintedClassifier;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    minimax::quiet_broken_pipes();
    let (steps, seed) = (env("STEPS", 1200) as usize, env("SEED", 0));
    let data = DataSpec::parse("printed")
        .expect("a data name")
        .open_held_out()
        .expect("the embedded printed digits");
    let mut sg = StarGan::new(StarGanConfig::default(), seed).expect("optimizers");
    let t0 = std::time::Instant::now();
    for step in 1..=steps {
        let r = sg.step(&data).expect("no NaN");
        if step % 100 == 0 {
            println!(
                "step {step}: D {:.3} (critic {:.3}, cls {:.3}, gp {:.4})   G {:.3} (critic {:.3}, cls {:.3}, rec {:.4})",
                r.get("d_loss").unwrap(),
                r.get("d_adv").unwrap(),
                r.get("d_cls").unwrap(),
                r.get("gp").unwrap(),
                r.get("g_loss").unwrap(),
                r.get("g_adv").unwrap(),
                r.get("g_cls").unwrap(),
                r.get("g_rec").unwrap()
            );
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "{steps} iterations in {secs:.1} s ({:.3} s per iteration: 5 D updates and 1 G update)\n",
        secs / steps.max(1) as f64
    );
    let clf = PrintedClassifier::train(0);
    let m = sg.measure(Some(&clf));
    let show = |a: Option<[f64; 4]>| {
        let a = a.expect("measured with a classifier");
        format!(
            "bold {:.3}  italic {:.3}  serif {:.3}  all three {:.3}",
            a[0], a[1], a[2], a[3]
        )
    };
    println!(
        "{} held-out translations to another face's attributes",
        m.tasks
    );
    println!(
        "  L1 to the same glyph in that face (pixels in [0, 1]): StarGAN {:.4}, doing nothing {:.4}",
        m.l1, m.l1_identity
    );
    println!("  attribute agreement with the target:");
    println!("    StarGAN          {}", show(m.attributes));
    println!("    doing nothing    {}", show(m.attributes_identity));
    println!("    the true glyphs  {}", show(m.attributes_truth));
    println!(
        "  label preservation (the classifier reads the source's digit): {:.3}",
        m.labels.expect("measured with a classifier")
    );
}
