//! Trained models against measured quality, in versions small enough for CI. Every run is
//! seeded, so the figures are reproducible; the docs give the full-size figures and commands.

use gan::methods::vanilla::GanConfig;
use gan::run::{train, DataSpec, ModelKind, RunConfig};

fn run(
    model: ModelKind,
    data: DataSpec,
    steps: usize,
    gan: GanConfig,
    name: &str,
) -> Vec<(String, String)> {
    let out = std::env::temp_dir().join(format!("minimax-quality-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let cfg = RunConfig {
        model,
        data,
        steps,
        gan,
        hidden: 128,
        seed: 0,
        out: out.clone(),
        resume: false,
        log_every: steps,
    };
    let s = train(&cfg, &mut |_| {}).expect("training runs");
    let _ = std::fs::remove_dir_all(&out);
    s.metrics
}

fn metric(m: &[(String, String)], key: &str) -> f64 {
    let v = &m
        .iter()
        .find(|(k, _)| k.starts_with(key))
        .unwrap_or_else(|| panic!("no metric {key} in {m:?}"))
        .1;
    v.split([' ', '/']).next().unwrap().parse().unwrap()
}

#[test]
fn vanilla_gan_on_the_ring_covers_the_modes() {
    let cfg = GanConfig {
        batch: 256,
        z_dim: 16,
        lr_d: 1e-3,
        lr_g: 1e-3,
        ..GanConfig::default()
    };
    let m = run(ModelKind::Mlp, DataSpec::Ring8, 2000, cfg, "ring");
    let modes = metric(&m, "modes covered");
    let hq = metric(&m, "high-quality");
    assert!(modes >= 7.0, "{m:?}");
    assert!(hq >= 20.0, "{m:?}");
}

#[test]
fn dcgan_on_digits_makes_digits_the_classifier_recognises() {
    let cfg = GanConfig {
        batch: 64,
        z_dim: 100,
        ..GanConfig::default()
    };
    let m = run(ModelKind::Dcgan, DataSpec::Digits, 300, cfg, "digits");
    assert!(metric(&m, "classes covered") >= 8.0, "{m:?}");
    assert!(metric(&m, "mean classifier confidence") >= 0.6, "{m:?}");
}
