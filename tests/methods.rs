//! Every registered method through the one run loop, as a user runs it: a complete run folder,
//! `metrics.csv` whose columns are the method's record, a checkpoint that `sample` and
//! `inspect` rebuild, and a resumed run identical bit for bit to a straight one.

use gan::methods::METHODS;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn minimax(args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_minimax"))
        .args(args)
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("the binary runs")
}

fn tmp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("minimax-methods-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}

fn tensors(path: &Path) -> Vec<(String, Vec<u8>)> {
    let (t, _) = nn::format::safetensors::load(path).expect("a valid checkpoint");
    let mut v: Vec<(String, Vec<u8>)> = t.into_iter().map(|(n, r)| (n, r.data)).collect();
    v.sort();
    v
}

/// Small settings per method, so the whole test takes seconds.
fn small(name: &str) -> Vec<&'static str> {
    match name {
        "gan" => vec!["--batch", "32"],
        // with the moving average of G, so resume covers its state, and refined samples
        "dcgan" => vec!["--batch", "16", "--ema", "0.9", "--refine", "2"],
        "cgan" => vec!["--batch", "16"],
        "energy" => vec!["--batch", "32", "--t", "3"],
        "pix2pix" => vec!["--batch", "4", "--ngf", "8", "--ndf", "8"],
        "stackgan" => vec!["--batch", "4"],
        // every fix on, so resume covers the code discriminator's own optimizer
        "vaegan" => vec![
            "--batch",
            "16",
            "--share-layers",
            "--latent-d",
            "adversarial",
            "--latent-cycle",
            "--semantic",
            "--feature-recon",
        ],
        "stargan" => vec!["--batch", "4", "--channels", "4", "--n-critic", "2"],
        _ => vec!["--batch", "32"],
    }
}

fn train(name: &str, dir: &Path, steps: usize, resume: bool) -> Output {
    let mut args: Vec<String> = vec!["train".into(), name.into()];
    args.extend(small(name).iter().map(|s| s.to_string()));
    args.extend([
        "--steps".into(),
        steps.to_string(),
        "--log-every".into(),
        "3".into(),
        "--seed".into(),
        "4".into(),
        "--out".into(),
        dir.display().to_string(),
    ]);
    if resume {
        args.push("--resume".into());
    }
    minimax(&args)
}

/// The texts `train METHOD --help` prints are single-spaced sentences (a string continued on
/// the next source line without `\` would carry the indentation into the help).
#[test]
fn every_method_describes_itself_in_plain_sentences() {
    for info in METHODS {
        let texts = std::iter::once(info.help)
            .chain(std::iter::once(info.about))
            .chain(info.options.iter().map(|o| o.help));
        for t in texts {
            assert!(
                !t.contains("  ") && !t.contains('\n'),
                "{}: {t:?}",
                info.name
            );
        }
    }
}

#[test]
fn every_method_trains_samples_inspects_and_resumes_bit_for_bit() {
    assert_eq!(METHODS.len(), 13);
    for info in METHODS {
        let name = info.name;
        let (a, b) = (tmp(&format!("{name}-a")), tmp(&format!("{name}-b")));
        let o = train(name, &a, 12, false);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let o = train(name, &b, 6, false);
        assert!(o.status.success(), "{name}");
        let o = train(name, &b, 12, true);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let (ca, cb) = (
            a.join("checkpoint.safetensors"),
            b.join("checkpoint.safetensors"),
        );
        assert_eq!(tensors(&ca), tensors(&cb), "{name}: resumed run differs");
        assert_eq!(
            std::fs::read(a.join("samples.npy")).unwrap(),
            std::fs::read(b.join("samples.npy")).unwrap(),
            "{name}: samples differ"
        );
        // metrics.csv: step, the record's columns, seconds; a row every 3 iterations, the
        // resumed run keeping the rows before its checkpoint
        let csv = std::fs::read_to_string(b.join("metrics.csv")).unwrap();
        let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
        assert_eq!(header.first(), Some(&"step"), "{name}");
        assert_eq!(header.last(), Some(&"seconds"), "{name}");
        assert!(header.len() > 2, "{name}: {header:?}");
        // every method logs gradient norms (its own, or one per optimizer), positive and
        // finite in every row; only StackGAN's stage II, which starts later, is NaN ("does not
        // apply") in these 12 iterations
        let norms: Vec<usize> = (0..header.len())
            .filter(|&i| header[i].starts_with("grad_norm"))
            .collect();
        assert!(!norms.is_empty(), "{name}: no gradient norm in {header:?}");
        for row in csv.lines().skip(1) {
            let cells: Vec<&str> = row.split(',').collect();
            for &i in &norms {
                let v: f64 = cells[i].parse().unwrap();
                let later = name == "stackgan" && header[i].ends_with('2');
                assert!(
                    if later {
                        v.is_nan()
                    } else {
                        v > 0.0 && v.is_finite()
                    },
                    "{name}: {} = {v}",
                    header[i]
                );
            }
        }
        for (_, keys) in info.charts {
            for k in keys.iter() {
                assert!(header.contains(k), "{name}: chart key {k} is not a column");
            }
        }
        let steps: Vec<&str> = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap())
            .collect();
        assert_eq!(steps, ["3", "6", "9", "12"], "{name}:\n{csv}");
        for f in ["samples.png", "report.html"] {
            assert!(
                std::fs::metadata(b.join(f)).unwrap().len() > 500,
                "{name}: {f}"
            );
        }
        // sample (or translate) and inspect rebuild the method from its checkpoint
        let npy = b.join("more.npy");
        if matches!(
            info.takes,
            gan::data::BatchKind::Paired | gan::data::BatchKind::Unpaired
        ) {
            // the held-out sources, translated again from the checkpoint
            let o = minimax(&[
                "translate".into(),
                "--checkpoint".into(),
                cb.display().to_string(),
                "--input".into(),
                b.join("sources.npy").display().to_string(),
                "--out".into(),
                npy.display().to_string(),
            ]);
            assert!(
                o.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert_eq!(
                nn::io::load_npy(&npy).unwrap().to_vec_f32(),
                nn::io::load_npy(b.join("samples.npy"))
                    .unwrap()
                    .to_vec_f32(),
                "{name}: translate differs from the run's own translations"
            );
            // the way back exists for cyclegan and vaegan only
            let o = minimax(&[
                "translate".into(),
                "--checkpoint".into(),
                cb.display().to_string(),
                "--input".into(),
                npy.display().to_string(),
                "--out".into(),
                b.join("back.npy").display().to_string(),
                "--direction".into(),
                "y2x".into(),
            ]);
            if name == "cyclegan" || name == "vaegan" {
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                let t = nn::io::load_npy(b.join("back.npy")).unwrap();
                assert_eq!(t.dims(), nn::io::load_npy(&npy).unwrap().dims());
            } else {
                assert_eq!(o.status.code(), Some(1), "{name}");
                assert_eq!(
                    String::from_utf8_lossy(&o.stderr),
                    format!("minimax: translate: a {name} run does not translate back (y2x)\n")
                );
            }
        } else {
            let o = minimax(&[
                "sample".into(),
                "--checkpoint".into(),
                cb.display().to_string(),
                "--n".into(),
                "5".into(),
                "--out".into(),
                npy.display().to_string(),
            ]);
            assert!(
                o.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let s = nn::io::load_npy(&npy).unwrap();
            assert_eq!(s.dims()[0], 5, "{name}");
        }
        // a conditional method saves the requested classes and samples one class on request
        let labels = b.join("labels.npy");
        // (an unpaired translation saves its sources' digits there too)
        let conditional = name == "cgan" || name == "stackgan";
        let unpaired = info.takes == gan::data::BatchKind::Unpaired;
        assert_eq!(
            std::fs::metadata(&labels).is_ok(),
            conditional || unpaired,
            "{name}: labels.npy"
        );
        let with_condition = |c: &str| {
            minimax(&[
                "sample".into(),
                "--checkpoint".into(),
                cb.display().to_string(),
                "--n".into(),
                "4".into(),
                "--condition".into(),
                c.into(),
                "--out".into(),
                npy.display().to_string(),
            ])
        };
        if conditional {
            let bytes = std::fs::read(&labels).unwrap();
            let raw = nn::format::npy::from_npy_bytes(&bytes).unwrap();
            assert_eq!(raw.shape, [2500], "{name}");
            assert_eq!(raw.dtype, nn::format::RawDType::I64, "{name}");
            let o = with_condition("3");
            assert!(
                o.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let mut want = vec![4];
            want.extend(&nn::io::load_npy(b.join("samples.npy")).unwrap().dims()[1..]);
            assert_eq!(nn::io::load_npy(&npy).unwrap().dims(), want.as_slice());
            let (bad, message) = if name == "stackgan" {
                let o = with_condition("3,bold,italic,serif");
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                ("3,fancy", "minimax: sample: unknown condition word 'fancy' (bold, italic, condensed, light, sans, serif, mono)\n")
            } else {
                (
                    "10",
                    "minimax: sample: --condition expects a class from 0 to 9, got '10'\n",
                )
            };
            let o = with_condition(bad);
            assert_eq!(o.status.code(), Some(2));
            assert_eq!(String::from_utf8_lossy(&o.stderr), message);
        } else {
            let o = with_condition("3");
            assert_eq!(o.status.code(), Some(1), "{name}");
            assert_eq!(
                String::from_utf8_lossy(&o.stderr),
                format!("minimax: sample: a {name} run is not conditional, so --condition does not apply\n")
            );
        }
        let o = minimax(&[
            "inspect".into(),
            "--checkpoint".into(),
            cb.display().to_string(),
        ]);
        assert!(o.status.success(), "{name}");
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains(&format!("{name} trained 12 iterations")) && out.contains("method = "),
            "{name}: {out}"
        );
        let _ = std::fs::remove_dir_all(&a);
        let _ = std::fs::remove_dir_all(&b);
    }
}

#[test]
fn a_checkpoint_with_non_finite_weights_is_refused_naming_the_tensor() {
    let dir = tmp("nan");
    let o = train("gan", &dir, 3, false);
    assert!(o.status.success());
    let ck = dir.join("checkpoint.safetensors");
    let (mut t, meta) = nn::format::safetensors::load(&ck).unwrap();
    let w = t.iter_mut().find(|(n, _)| n == "gen.0.weight").unwrap();
    w.1.data[..4].copy_from_slice(&f32::NAN.to_le_bytes());
    nn::format::safetensors::save(&ck, &t, &meta).unwrap();
    let o = minimax(&[
        "inspect".into(),
        "--checkpoint".into(),
        ck.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains(
            "tensor 'gen.0.weight' holds 1 NaN, infinite or exploded (beyond 1e10) value(s)"
        ),
        "{e}"
    );
    let o = minimax(&[
        "inspect".into(),
        "--checkpoint".into(),
        ck.display().to_string(),
        "--allow-non-finite".into(),
    ]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    let row = out.lines().find(|l| l.starts_with("gen.0.weight")).unwrap();
    assert!(
        row.trim_end().ends_with(" 1"),
        "the NaN count column: {row}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn crafted_metadata_is_refused_before_anything_is_allocated() {
    let dir = tmp("meta");
    let o = train("gan", &dir, 3, false);
    assert!(o.status.success());
    let ck = dir.join("checkpoint.safetensors");
    let (t, meta) = nn::format::safetensors::load(&ck).unwrap();
    for (key, value, message) in [
        (
            "option.hidden",
            "4294967296",
            "--hidden expects a whole number from 1 to 4096, got '4294967296'",
        ),
        (
            "sample_shape",
            "18446744073709551615",
            "metadata 'sample_shape' is '18446744073709551615'",
        ),
        (
            "sample_shape",
            "2x1000000",
            "metadata 'sample_shape' is '2x1000000'",
        ),
        (
            "method",
            "cyclegan9",
            "of method 'cyclegan9', which this version does not know",
        ),
        ("option.loss", "fancy", "--loss must be one of"),
        ("step", "-1", "metadata 'step' is '-1'"),
        ("format", "old", "checkpoint format 'old'"),
    ] {
        let bad = dir.join("bad.safetensors");
        let m: Vec<(String, String)> = meta
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    if k == key {
                        value.to_string()
                    } else {
                        v.clone()
                    },
                )
            })
            .collect();
        nn::format::safetensors::save(&bad, &t, &m).unwrap();
        let o = minimax(&[
            "inspect".into(),
            "--checkpoint".into(),
            bad.display().to_string(),
        ]);
        assert_eq!(o.status.code(), Some(1), "{key}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(message), "{key}: {e}");
        assert_eq!(e.lines().count(), 1, "{key}: {e}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_divergent_update_stops_the_run_before_it_is_saved() {
    let dir = tmp("diverge");
    let o = minimax(&[
        "train".into(),
        "dcgan".into(),
        "--batch".into(),
        "8".into(),
        "--lr".into(),
        "10".into(),
        "--steps".into(),
        "60".into(),
        "--log-every".into(),
        "1".into(),
        "--out".into(),
        dir.display().to_string(),
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    if o.status.success() {
        // the run stayed finite: then every weight it saved must be finite too
        let (t, _) = nn::format::safetensors::load(&dir.join("checkpoint.safetensors")).unwrap();
        for (n, r) in t.iter().filter(|(n, _)| !n.starts_with("__")) {
            assert!(
                r.data
                    .chunks_exact(4)
                    .all(|b| f32::from_le_bytes(b.try_into().unwrap()).is_finite()),
                "{n}"
            );
        }
    } else {
        assert!(e.contains("training stopped: step"), "{e}");
        // the last checkpoint loads (it is finite)
        if dir.join("checkpoint.safetensors").exists() {
            let o = minimax(&[
                "inspect".into(),
                "--checkpoint".into(),
                dir.join("checkpoint.safetensors").display().to_string(),
            ]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A paired translation prints the baseline it must beat, the input taken as the output, with
/// the L1 of the held-out pairs themselves.
#[test]
fn a_paired_translation_prints_the_do_nothing_baseline() {
    let dir = tmp("p2p-baseline");
    let o = train("pix2pix", &dir, 2, false);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    let line = text
        .lines()
        .find(|l| l.contains("doing nothing (output = input): L1 to the truth: "))
        .expect("the baseline line");
    let printed: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    let data = gan::data::DataSpec::parse("edges2printed")
        .unwrap()
        .open_held_out()
        .unwrap();
    let (a, b) = data.test.as_ref().unwrap().examples_paired().unwrap();
    let l1 = a.sub(&b).abs().mean_all().item() / 2.0;
    assert_eq!(printed, format!("{l1:.4}").parse::<f64>().unwrap());
    assert!(printed > 0.1, "edges are far from glyphs: {printed}");
    let _ = std::fs::remove_dir_all(&dir);
}
