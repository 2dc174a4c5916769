//! Crafted checkpoints: seeded mutations of a real run checkpoint — bytes of the header and of
//! the data, metadata values, tensor shapes, truncations, non-finite weights — fed to
//! `run::load_run`, the entry point of `minimax inspect`, `minimax sample` and `--resume`, and
//! what loads is sampled. Nothing may panic or take long; every refusal is one clear line.
//!
//! CI runs 2,000 cases; for 10⁵:
//! `MINIMAX_FUZZ_CASES=100000 cargo test --release -p minimax-gan --test fuzz_checkpoint -- --nocapture`

use minimax_gan::data::DataSpec;
use minimax_gan::run::{load_run, train, RunConfig};
use nn::format::safetensors;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};
use tensor::Rng;

const NASTY: &[&str] = &[
    "",
    "0",
    "-1",
    "1",
    "4294967296",
    "18446744073709551615",
    "99999999999999999999999",
    "1e308",
    "NaN",
    "inf",
    "2x1000000",
    "1x8x8",
    "2",
    "0x0",
    "1x1x1x1",
    "gan",
    "dcgan",
    "cyclegan",
    "minimax-run-1",
    "true",
    "abc\u{0}def",
    "ring8",
    "npy:/nonexistent",
];

/// A real checkpoint of a small gan run on the ring.
fn seed_checkpoint(dir: &Path) -> Vec<u8> {
    let cfg = RunConfig::new("gan", dir)
        .and_then(|c| c.options(&[("hidden", "8"), ("batch", "8"), ("z-dim", "2")]))
        .unwrap();
    let cfg = RunConfig {
        data: DataSpec::Ring8,
        steps: 3,
        log_every: 3,
        ..cfg
    };
    train(&cfg, &mut |_| {}).unwrap();
    std::fs::read(dir.join("checkpoint.safetensors")).unwrap()
}

/// One mutation of the file's bytes, drawn with `rng`.
fn mutate(orig: &[u8], rng: &mut Rng, scratch: &Path) -> (String, Vec<u8>) {
    let header_len = u64::from_le_bytes(orig[..8].try_into().unwrap()) as usize;
    match rng.below(6) {
        0 => {
            // flip a few bytes of the JSON header
            let mut b = orig.to_vec();
            for _ in 0..1 + rng.below(4) {
                let i = 8 + rng.below(header_len);
                b[i] = rng.below(256) as u8;
            }
            ("header bytes".into(), b)
        }
        1 => {
            // flip bytes of the data
            let mut b = orig.to_vec();
            for _ in 0..1 + rng.below(8) {
                let i = 8 + header_len + rng.below(b.len() - 8 - header_len);
                b[i] = rng.below(256) as u8;
            }
            ("data bytes".into(), b)
        }
        2 => {
            // truncate anywhere, or change the header length field
            let mut b = orig.to_vec();
            if rng.below(2) == 0 {
                b.truncate(rng.below(orig.len()));
            } else {
                let v = [0u64, 1, header_len as u64 + 1, u64::MAX, 1 << 40][rng.below(5)];
                b[..8].copy_from_slice(&v.to_le_bytes());
            }
            ("length".into(), b)
        }
        3 | 4 => {
            // a metadata value replaced by a nasty one, or removed
            let (t, meta) = safetensors::deserialize(orig).unwrap();
            let k = rng.below(meta.len());
            let key = meta[k].0.clone();
            let mut m = meta.clone();
            if rng.below(5) == 0 {
                m.remove(k);
            } else {
                m[k].1 = NASTY[rng.below(NASTY.len())].to_string();
            }
            let p = scratch.join("meta.safetensors");
            safetensors::save(&p, &t, &m).unwrap();
            (format!("metadata {key}"), std::fs::read(&p).unwrap())
        }
        _ => {
            // a tensor's shape changed, or its values made NaN/∞/huge
            let (mut t, meta) = safetensors::deserialize(orig).unwrap();
            let k = rng.below(t.len());
            let name = t[k].0.clone();
            let raw = &mut t[k].1;
            if rng.below(2) == 0 && !raw.shape.is_empty() {
                let d = rng.below(raw.shape.len());
                raw.shape[d] = [0, 1, 2, 3, 1000][rng.below(5)];
                let n: usize = raw.shape.iter().product();
                raw.data.resize(n * raw.dtype.size_of(), 0);
            } else if raw.dtype == nn::format::RawDType::F32 && raw.data.len() >= 4 {
                let v = [f32::NAN, f32::INFINITY, -f32::INFINITY, 3e38][rng.below(4)];
                let i = rng.below(raw.data.len() / 4);
                raw.data[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
            }
            let p = scratch.join("tensor.safetensors");
            safetensors::save(&p, &t, &meta).unwrap();
            (format!("tensor {name}"), std::fs::read(&p).unwrap())
        }
    }
}

#[test]
fn mutated_checkpoints_never_panic_hang_or_load_garbage() {
    let cases: usize = std::env::var("MINIMAX_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let dir = std::env::temp_dir().join(format!("minimax-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let orig = seed_checkpoint(&dir.join("run"));
    let target = dir.join("case.safetensors");
    let mut rng = Rng::seed(2026);
    let (mut loaded, mut refused) = (0usize, 0usize);
    let mut slowest = Duration::ZERO;
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for case in 0..cases {
        let (what, bytes) = mutate(&orig, &mut rng, &dir);
        std::fs::write(&target, &bytes).unwrap();
        let t0 = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let strict = load_run(&target, false);
            let lenient = load_run(&target, true);
            // what loads must sample (what `minimax sample` does next)
            if let Ok(l) = &strict {
                let s = l.method.sample(5, &mut Rng::seed(0)).expect("gan samples");
                assert!(
                    s.to_vec_f64().iter().all(|v| v.is_finite()),
                    "a checkpoint loaded without --allow-non-finite gave non-finite samples"
                );
            }
            (strict.map(|_| ()), lenient.map(|_| ()))
        }));
        let took = t0.elapsed();
        slowest = slowest.max(took);
        let (strict, _) = match outcome {
            Ok(r) => r,
            Err(_) => {
                std::panic::set_hook(quiet);
                panic!("case {case} ({what}) panicked");
            }
        };
        assert!(
            took < Duration::from_secs(10),
            "case {case} ({what}) took {took:?}"
        );
        match strict {
            Ok(()) => loaded += 1,
            Err(e) => {
                refused += 1;
                assert!(
                    !e.0.is_empty() && !e.0.contains('\n'),
                    "case {case} ({what}): not one clear line: {e:?}"
                );
            }
        }
    }
    std::panic::set_hook(quiet);
    eprintln!(
        "{cases} mutated checkpoints: {loaded} loaded, {refused} refused, slowest {slowest:?}"
    );
    // most mutations break something; some (a flipped data byte) make another valid checkpoint
    assert!(refused > cases / 3, "{refused} of {cases} refused");
    let _ = std::fs::remove_dir_all(&dir);
}
