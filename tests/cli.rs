//! The `minimax` command as a user runs it: usage errors (one line, exit code 2), run folders,
//! bit-for-bit resume, sampling, inspection and the step-by-step explanation.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn minimax(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_minimax"))
        .args(args)
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// The error line: the last line on stderr (a training run announces itself first).
fn last_line(o: &Output) -> String {
    let e = stderr(o);
    format!("{}\n", e.lines().last().unwrap_or(""))
}

/// A fresh folder path for one test (not created), removed with everything in it when the
/// guard is dropped, so the tests leave nothing behind in the temporary directory.
struct Tmp(PathBuf);

impl std::ops::Deref for Tmp {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Tmp {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for Tmp {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tmp(name: &str) -> Tmp {
    let p = std::env::temp_dir().join(format!("minimax-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    Tmp(p)
}

#[test]
fn usage_errors_are_one_line_with_exit_code_2() {
    for (args, msg) in [
        (vec!["train"], "minimax: train: say what to train: gan, dcgan, ae, vae, energy, cgan, pix2pix, stackgan, direct, dtn, cyclegan, vaegan or stargan (see `minimax train --help`)\n"),
        (vec!["train", "dcgan", "--steps", "ten"], "minimax: train dcgan: --steps expects a whole number, got 'ten'\n"),
        (vec!["train", "gan", "--data", "mnist"], "minimax: train gan: --data must be ring8, grid25, gauss1d, digits, printed, printed16, printed8, edges2printed, idx:PATH, npy:PATH or X+Y, got 'mnist'\n"),
        (vec!["train", "gan", "--loss", "fancy"], "minimax: train gan: --loss must be one of minimax|nonsaturating|lsgan|wgan|wgan-gp|hinge, got 'fancy'\n"),
        (vec!["train", "gan", "--stepz", "3"], "minimax: train gan: unknown option --stepz (see `minimax train gan --help`)\n"),
        (vec!["train", "ae", "--loss", "hinge"], "minimax: train ae: ae takes no option --loss (see `minimax train ae --help`)\n"),
        (vec!["train", "vae", "--k", "5"], "minimax: train vae: vae takes no option --k (see `minimax train vae --help`)\n"),
        (vec!["train", "energy", "--z-dim", "5"], "minimax: train energy: energy takes no option --z-dim (see `minimax train energy --help`)\n"),
        (vec!["train", "pix2vec"], "minimax: train: unknown method 'pix2vec' (gan, dcgan, ae, vae, energy, cgan, pix2pix, stackgan, direct, dtn, cyclegan, vaegan or stargan; see `minimax train --help`)\n"),
        (vec!["train", "gan", "--batch", "1000000000000"], "minimax: train gan: --batch expects a whole number from 1 to 65536, got '1000000000000'\n"),
        (vec!["train", "gan", "--z-dim", "18446744073709551615"], "minimax: train gan: --z-dim expects a whole number from 1 to 4096, got '18446744073709551615'\n"),
        (vec!["train", "gan", "--lr", "nan"], "minimax: train gan: --lr expects a number from 0e0 to 1e1, got 'nan'\n"),
        (vec!["train", "gan", "--threads", "100000"], "minimax: train gan: --threads expects a whole number of threads from 1 to 256, got '100000'\n"),
        (vec!["frobnicate"], "minimax: unknown command 'frobnicate' (commands: train, sample, translate, encode, explain, inspect; see `minimax --help`)\n"),
        (vec!["train", "gan", "--seeds", "3"], "minimax: train gan: --seeds expects 2 to 10 whole numbers separated by commas (0,1,2), got '3'\n"),
        (vec!["train", "gan", "--seeds", "0,x"], "minimax: train gan: --seeds expects 2 to 10 whole numbers separated by commas (0,1,2), got '0,x'\n"),
        (vec!["train", "gan", "--seeds", "0,1,0"], "minimax: train gan: --seeds names seed 0 twice; each seed is run once\n"),
        (vec!["train", "gan", "--seeds", "0,1", "--seed", "4"], "minimax: train gan: --seeds runs fresh runs of its own seeds; drop --seed and --resume\n"),
        (vec!["sample", "--out", "x.npy"], "minimax: sample: --checkpoint is required (see `minimax sample --help`)\n"),
        (vec!["sample", "--checkpoint", "c", "--out", "x.jpg"], "minimax: sample: --out must end in .npy or .png, got 'x.jpg'\n"),
        (vec!["sample", "--checkpoint", "c", "--out", "x.npy", "--n", "0"], "minimax: sample: --n expects a whole number from 1 to 100000, got '0'\n"),
    ] {
        let o = minimax(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&o), msg, "{args:?}");
    }
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        vec!["--help"],
        vec!["train", "--help"],
        vec!["train", "gan", "--help"],
        vec!["train", "energy", "--help"],
        vec!["sample", "--help"],
        vec!["explain", "--help"],
        vec!["inspect", "--help"],
        vec!["encode", "--help"],
    ] {
        let o = minimax(&args);
        assert!(o.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("usage: minimax"),
            "{args:?}"
        );
    }
}

#[test]
fn bad_files_get_an_actionable_message_and_exit_code_1() {
    let o = minimax(&[
        "train",
        "gan",
        "--data",
        "idx:/nonexistent/train-images",
        "--steps",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("/nonexistent/train-images"), "{e}");
    let gz = tmp("gz");
    std::fs::create_dir_all(&gz).unwrap();
    let f = gz.join("images.idx.gz");
    std::fs::write(&f, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0]).unwrap();
    let o = minimax(&[
        "train",
        "gan",
        "--data",
        &format!("idx:{}", f.display()),
        "--steps",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("gunzip"), "{}", stderr(&o));
    let o = minimax(&["inspect", "--checkpoint", &f.display().to_string()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("images.idx.gz"), "{}", stderr(&o));
}

fn tensors(path: &Path) -> Vec<(String, Vec<u8>)> {
    let (t, _) = nn::format::safetensors::load(path).expect("a valid checkpoint");
    let mut v: Vec<(String, Vec<u8>)> = t.into_iter().map(|(n, r)| (n, r.data)).collect();
    v.sort();
    v
}

#[test]
fn resume_continues_bit_for_bit_and_the_run_folder_is_complete() {
    let (a, b) = (tmp("straight"), tmp("resumed"));
    let common = [
        "train",
        "gan",
        "--data",
        "ring8",
        "--batch",
        "32",
        "--log-every",
        "5",
        "--seed",
        "3",
    ];
    let run = |dir: &Path, steps: &str, resume: bool| {
        let mut args: Vec<&str> = common.to_vec();
        let d = dir.display().to_string();
        args.extend(["--steps", steps, "--out"]);
        let mut owned: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        owned.push(d);
        if resume {
            owned.push("--resume".into());
        }
        let refs: Vec<&str> = owned.iter().map(|s| s.as_str()).collect();
        let o = minimax(&refs);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    run(&a, "20", false);
    run(&b, "10", false);
    run(&b, "20", true);
    assert_eq!(
        tensors(&a.join("checkpoint.safetensors")),
        tensors(&b.join("checkpoint.safetensors"))
    );
    assert_eq!(
        std::fs::read(a.join("samples.npy")).unwrap(),
        std::fs::read(b.join("samples.npy")).unwrap()
    );
    let csv = std::fs::read_to_string(b.join("metrics.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + 4,
        "header + a row every 5 of 20 iterations:\n{csv}"
    );
    for f in ["samples.png", "report.html"] {
        assert!(std::fs::metadata(b.join(f)).unwrap().len() > 1000, "{f}");
    }
    let html = std::fs::read_to_string(b.join("report.html")).unwrap();
    assert!(html.contains("data:image/png;base64,") && html.contains("<svg"));
    // resuming with other data is refused
    let o = minimax(&[
        "train",
        "gan",
        "--data",
        "grid25",
        "--steps",
        "30",
        "--out",
        &b.display().to_string(),
        "--resume",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        last_line(&o),
        "minimax: --resume: the checkpoint was trained with --data ring8, but this run asks for --data grid25\n"
    );
    // and so is resuming with another value of an option the checkpoint fixes
    let o = minimax(&[
        "train",
        "gan",
        "--batch",
        "64",
        "--steps",
        "30",
        "--out",
        &b.display().to_string(),
        "--resume",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        last_line(&o),
        "minimax: --resume: the checkpoint was trained with --batch 32, but this run asks for --batch 64 (resume without --batch, or start a new run)\n"
    );
    // sample and inspect read the same checkpoint
    let npy = b.join("more.npy");
    let ck = b.join("checkpoint.safetensors").display().to_string();
    let o = minimax(&[
        "sample",
        "--checkpoint",
        &ck,
        "--n",
        "7",
        "--out",
        &npy.display().to_string(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = nn::io::load_npy(&npy).unwrap();
    assert_eq!(t.dims(), &[7, 2]);
    let o = minimax(&["inspect", "--checkpoint", &ck]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("trained 20 iterations on ring8")
            && out.contains("gen.0.weight")
            && out.contains("option.batch = 32")
            && out.contains("[128, 16]"),
        "{out}"
    );
}

#[test]
fn explain_gan_prints_the_algorithm_with_live_numbers() {
    let o = minimax(&["explain", "gan"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "Learning D (repeated k = 1 time)",
        "x: m real examples",
        "Ṽ = 1/m Σ ln D(xⁱ) + 1/m Σ ln(1 − D(x̃ⁱ))",
        "θd after θd ← θd + η∇Ṽ (ascent)",
        "Learning G (once)",
        "JSD estimate (V + ln 4)/2",
    ] {
        assert!(out.contains(needle), "missing '{needle}' in:\n{out}");
    }
    // the printed update is the ascent: θd after = θd before + 0.1 · gradient
    let grab = |label: &str| -> Vec<f64> {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap();
        line.split(['[', ']'])
            .skip(1)
            .step_by(2)
            .map(|s| s.trim().parse::<f64>().unwrap())
            .collect()
    };
    let (before, grad, after) = (grab("θd before"), grab("∇θd Ṽ"), grab("θd after"));
    for i in 0..2 {
        assert!(
            (after[i] - (before[i] + 0.1 * grad[i])).abs() < 2e-4,
            "{before:?} {grad:?} {after:?}"
        );
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_saves_a_checkpoint_before_exiting() {
    let dir = tmp("ctrlc");
    let child = Command::new(env!("CARGO_BIN_EXE_minimax"))
        .args([
            "train",
            "gan",
            "--data",
            "ring8",
            "--batch",
            "16",
            "--steps",
            "100000000",
            "--log-every",
            "5",
        ])
        .arg("--out")
        .arg(&dir)
        .env("RAYON_NUM_THREADS", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    // wait until training is under way (the first checkpoint exists)
    let ckpt = dir.join("checkpoint.safetensors");
    let t0 = std::time::Instant::now();
    while !ckpt.exists() {
        assert!(t0.elapsed().as_secs() < 60, "training did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let o = child.wait_with_output().expect("the run ends");
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("interrupted at iteration") && e.contains("continue with --resume"),
        "{e}"
    );
    let (_, meta) = nn::format::safetensors::load(&ckpt).unwrap();
    let step: usize = meta
        .iter()
        .find(|(k, _)| k == "step")
        .unwrap()
        .1
        .parse()
        .unwrap();
    assert!(step > 0 && step < 100000000);
    assert!(dir.join("report.html").exists() && dir.join("samples.npy").exists());
}

#[test]
fn data_a_method_cannot_train_on_is_refused_before_any_folder_is_made() {
    let dir = tmp("vae-ring");
    let o = minimax(&[
        "train",
        "vae",
        "--data",
        "ring8",
        "--steps",
        "1",
        "--out",
        &dir.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        last_line(&o),
        "minimax: train vae: the auto-encoders are built for 8×8 one-channel images such as --data digits, but ring8 has examples of shape [2]\n"
    );
    assert!(
        !dir.exists(),
        "the run folder was created before the data was checked"
    );
    let o = minimax(&[
        "train",
        "energy",
        "--data",
        "digits",
        "--steps",
        "1",
        "--out",
        &dir.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("known modes"), "{}", stderr(&o));
    assert!(!dir.exists());
}

#[test]
fn explain_cgan_shows_three_pairs_whose_terms_sum_to_the_methods_d_loss() {
    let o = minimax(&["explain", "cgan"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let value_after = |needle: &str| -> f64 {
        let line = out
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no '{needle}' in:\n{out}"));
        line.rsplit(['=', ' '])
            .find(|s| !s.is_empty())
            .unwrap()
            .trim_end_matches(',')
            .parse()
            .unwrap()
    };
    let terms = value_after("BCE(D(c, x), 1)")
        + value_after("½·BCE(D(ĉ, x), 0)")
        + value_after("½·BCE(D(c, G(c, z)), 0)");
    let shown = value_after("  L_D ");
    assert!((terms - shown).abs() < 2e-6, "{terms} vs {shown}");
    let line = out.lines().find(|l| l.contains("reports L_D =")).unwrap();
    let reported: f64 = line
        .split("L_D = ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((reported - shown).abs() < 1e-6, "{reported} vs {shown}");
    assert_eq!(out.lines().filter(|l| l.contains("(target")).count(), 3);
}

#[test]
fn cli_manners_version_broken_pipes_and_plain_progress_lines() {
    let o = minimax(&["--version"]);
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("minimax {}\n", env!("CARGO_PKG_VERSION"))
    );
    // a closed pipe ends the program quietly: no panic message on stderr
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' --help | head -1 > /dev/null",
            env!("CARGO_BIN_EXE_minimax")
        ))
        .output()
        .expect("sh runs");
    assert!(o.status.success());
    assert_eq!(stderr(&o), "", "a panic on the broken pipe");
    // with stderr not a terminal, a plain line every --log-every iterations
    let dir = tmp("plain");
    let o = minimax(&[
        "train",
        "gan",
        "--steps",
        "20",
        "--log-every",
        "10",
        "--batch",
        "16",
        "--out",
        &dir.display().to_string(),
    ]);
    assert!(o.status.success());
    let e = stderr(&o);
    let lines: Vec<&str> = e.lines().filter(|l| l.starts_with("step ")).collect();
    assert_eq!(lines.len(), 2, "{e}");
    assert!(
        lines[0].starts_with("step 10/20 d_loss") && lines[1].starts_with("step 20/20"),
        "{e}"
    );
}

#[test]
fn a_killed_save_leaves_nothing_behind_after_the_next_run() {
    let dir = tmp("stale");
    std::fs::create_dir_all(&dir).unwrap();
    let stale = dir.join("checkpoint.safetensors.tmp-4242-7");
    std::fs::write(&stale, b"half a checkpoint").unwrap();
    let o = minimax(&[
        "train",
        "gan",
        "--steps",
        "2",
        "--batch",
        "8",
        "--out",
        &dir.display().to_string(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stale.exists(), "the stale temporary file is still there");
    assert!(dir.join("checkpoint.safetensors").exists());
}

#[test]
fn an_exploding_run_stops_before_it_saves_an_exploded_state() {
    let dir = tmp("explode");
    let o = minimax(&[
        "train",
        "dcgan",
        "--lr",
        "10",
        "--steps",
        "60",
        "--log-every",
        "1",
        "--out",
        &dir.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = last_line(&o);
    assert!(
        e.contains("training stopped: step")
            && e.contains("NaN, infinite or larger than 1e10 in magnitude (try a lower --lr)"),
        "{e}"
    );
    // whatever was saved before is finite and loads
    let ck = dir.join("checkpoint.safetensors");
    if ck.exists() {
        let o = minimax(&["inspect", "--checkpoint", &ck.display().to_string()]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
}

#[test]
fn explain_cyclegan_shows_every_term_and_the_networks_it_reaches() {
    let o = minimax(&["explain", "cyclegan"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let line = |needle: &str| -> String {
        out.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no '{needle}' in:\n{out}"))
            .to_string()
    };
    let value = |l: &str| -> f64 {
        l.split(" = ")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let names = [
        "(D_Y(G(x)) − 1)²",
        "(D_X(F(y)) − 1)²",
        "λ|F(G(x)) − x|",
        "λ|G(F(y)) − y|",
        "½λ|G(y) − y|",
        "½λ|F(x) − x|",
    ];
    let sum: f64 = names.iter().map(|n| value(&line(n))).sum();
    let own = line("The method's own step");
    let own: f64 = own
        .split("loss ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((sum - own).abs() < 1e-4, "{sum} vs {own}");
    // which networks each term reaches
    let reaches = |n: &str| -> Vec<String> {
        let l = line(n);
        l.split('→')
            .nth(1)
            .unwrap()
            .split(", ")
            .filter(|p| !p.trim().ends_with('—'))
            .map(|p| p.split_whitespace().next().unwrap().to_string())
            .collect()
    };
    assert_eq!(reaches(names[0]), ["G"]);
    assert_eq!(reaches(names[1]), ["F"]);
    assert_eq!(reaches(names[2]), ["G", "F"]);
    assert_eq!(reaches(names[3]), ["G", "F"]);
    assert_eq!(reaches(names[4]), ["G"]);
    assert_eq!(reaches(names[5]), ["F"]);
    assert_eq!(reaches("½[(D_Y(y) − 1)²"), ["D_Y"]);
    assert_eq!(reaches("½[(D_X(x) − 1)²"), ["D_X"]);
}

#[test]
fn translate_refuses_inputs_of_the_wrong_shape_or_range() {
    let dir = tmp("p2p");
    let o = minimax(&[
        "train",
        "pix2pix",
        "--steps",
        "1",
        "--batch",
        "2",
        "--ngf",
        "4",
        "--ndf",
        "4",
        "--out",
        &dir.display().to_string(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ck = dir.join("checkpoint.safetensors").display().to_string();
    let bad = dir.join("bad.npy");
    let out = dir.join("out.npy").display().to_string();
    let run = |t: &tensor::Tensor| {
        nn::io::save_npy(&bad, t).unwrap();
        minimax(&[
            "translate",
            "--checkpoint",
            &ck,
            "--input",
            &bad.display().to_string(),
            "--out",
            &out,
        ])
    };
    let o = run(&tensor::Tensor::zeros([3, 1, 8, 8], tensor::DType::F32));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!(
            "minimax: translate: {} holds an array of shape [3, 1, 8, 8], but this pix2pix run translates [N, 1, 32, 32] with N ≥ 1\n",
            bad.display()
        )
    );
    let o = run(&tensor::Tensor::full(
        [1, 1, 32, 32],
        2.0,
        tensor::DType::F32,
    ));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("has a pixel 2; pixels must be in [0, 1] (like samples.npy)"),
        "{}",
        stderr(&o)
    );
    let o = minimax(&[
        "translate",
        "--checkpoint",
        &ck,
        "--input",
        "x.npy",
        "--out",
        "y.png",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "minimax: translate: --out must end in .npy, got 'y.png'\n"
    );
}

#[test]
fn explain_latent_shows_the_terms_their_reach_and_the_reversal_as_a_sign_flip() {
    let o = minimax(&["explain", "latent"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let line = |needle: &str| -> String {
        out.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no '{needle}' in:\n{out}"))
            .to_string()
    };
    let reaches = |n: &str| -> Vec<String> {
        line(n)
            .split('→')
            .nth(1)
            .unwrap()
            .split(", ")
            .map(|p| p.split_whitespace().next().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        reaches("|Dec_X(μ_X) − x|"),
        ["Enc_X", "Enc_shared", "Dec_shared", "Dec_X"]
    );
    assert_eq!(
        reaches("(D_Y(Dec_Y(μ_X)) − 1)²"),
        ["Enc_X", "Enc_shared", "Dec_shared", "Dec_Y"]
    );
    assert_eq!(
        reaches("L_C(C(R(μ_X)), C(R(μ_Y)))"),
        ["Enc_X", "Enc_Y", "Enc_shared", "C"]
    );
    let numbers = |needle: &str| -> Vec<f64> {
        line(needle)
            .split(':')
            .nth(1)
            .unwrap()
            .split_whitespace()
            .take(4)
            .map(|v| v.parse().unwrap())
            .collect()
    };
    let (plain, rev) = (numbers("without R:"), numbers("through R:"));
    assert_eq!(plain.len(), 4);
    for (a, b) in plain.iter().zip(&rev) {
        assert!(*a != 0.0 && *a == -*b, "{plain:?} vs {rev:?}");
    }
}

#[test]
fn encode_writes_codes_and_refuses_what_it_cannot_encode() {
    let dir = tmp("encode");
    let o = minimax(&[
        "train",
        "vaegan",
        "--steps",
        "2",
        "--batch",
        "4",
        "--channels",
        "4",
        "--hidden",
        "8",
        "--code",
        "3",
        "--out",
        &dir.display().to_string(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ck = dir.join("checkpoint.safetensors").display().to_string();
    let input = dir.join("in.npy");
    let out = dir.join("codes.npy");
    let (i, z) = (input.display().to_string(), out.display().to_string());
    nn::io::save_npy(
        &input,
        &tensor::Tensor::full([5, 1, 8, 8], 0.5, tensor::DType::F32),
    )
    .unwrap();
    for domain in ["x", "y"] {
        let o = minimax(&[
            "encode",
            "--checkpoint",
            &ck,
            "--domain",
            domain,
            "--input",
            &i,
            "--out",
            &z,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let codes = nn::io::load_npy(&out).unwrap();
        assert_eq!(codes.dims(), &[5, 3]);
        assert_eq!(codes.dtype(), tensor::DType::F32);
    }
    let o = minimax(&[
        "encode",
        "--checkpoint",
        &ck,
        "--domain",
        "z",
        "--input",
        &i,
        "--out",
        &z,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "minimax: encode: --domain must be x or y, got 'z'\n"
    );
    nn::io::save_npy(
        &input,
        &tensor::Tensor::zeros([2, 8, 8], tensor::DType::F32),
    )
    .unwrap();
    let o = minimax(&["encode", "--checkpoint", &ck, "--input", &i, "--out", &z]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!("minimax: encode: {i} holds an array of shape [2, 8, 8], but this vaegan run encodes [N, 1, 8, 8] with N ≥ 1\n")
    );
    // a run without a latent space
    let dir2 = tmp("encode-direct");
    let o = minimax(&[
        "train",
        "direct",
        "--steps",
        "1",
        "--batch",
        "2",
        "--out",
        &dir2.display().to_string(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    nn::io::save_npy(
        &input,
        &tensor::Tensor::zeros([2, 1, 8, 8], tensor::DType::F32),
    )
    .unwrap();
    let ck2 = dir2.join("checkpoint.safetensors").display().to_string();
    let o = minimax(&["encode", "--checkpoint", &ck2, "--input", &i, "--out", &z]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "minimax: encode: a direct run has no latent space to encode into (vaegan has)\n"
    );
}

/// Built without parallelism (`cargo test --release --no-default-features`), `--threads` above 1
/// is refused rather than ignored.
#[cfg(not(feature = "parallel"))]
#[test]
fn a_build_without_parallelism_refuses_more_threads() {
    let o = minimax(&["train", "gan", "--threads", "4", "--steps", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "minimax: train gan: this minimax was built without parallelism (--no-default-features), so --threads can only be 1, got 4\n"
    );
}

#[test]
fn translate_to_attributes_with_a_stargan_run_and_refuses_what_does_not_apply() {
    let dir = tmp("stargan");
    let o = minimax(&[
        "train",
        "stargan",
        "--steps",
        "1",
        "--batch",
        "2",
        "--channels",
        "2",
        "--n-critic",
        "1",
        "--out",
        &dir.display().to_string(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ck = dir.join("checkpoint.safetensors").display().to_string();
    // five of the run's own images as input
    let input = dir.join("in.npy");
    let x = nn::io::load_npy(dir.join("samples.npy"))
        .unwrap()
        .narrow(0, 0, 5);
    nn::io::save_npy(&input, &x.contiguous()).unwrap();
    let input = input.display().to_string();
    let to = |spec: &str, name: &str| -> (Output, PathBuf) {
        let out = dir.join(name);
        let o = minimax(&[
            "translate",
            "--checkpoint",
            &ck,
            "--input",
            &input,
            "--out",
            &out.display().to_string(),
            "--to",
            spec,
        ]);
        (o, out)
    };
    let load = |p: &Path| nn::io::load_npy(p).unwrap();
    let (o, bold) = to("bold,italic", "bold.npy");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!(
            "translated 5 images of shape [1, 32, 32] to {}\n",
            bold.display()
        )
    );
    let b = load(&bold);
    assert_eq!(b.dims(), &[5, 1, 32, 32]);
    assert!(b.to_vec_f32().iter().all(|p| (0.0..=1.0).contains(p)));
    // the order and spaces do not matter; other attributes give other images
    let (o, again) = to(" italic, bold", "again.npy");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(load(&again).to_vec_f32(), b.to_vec_f32());
    let (o, none) = to("none", "none.npy");
    assert!(o.status.success(), "{}", stderr(&o));
    let (o, empty) = to("", "empty.npy");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(load(&none).to_vec_f32(), load(&empty).to_vec_f32());
    assert_ne!(load(&none).to_vec_f32(), b.to_vec_f32());
    // an unknown attribute: one line naming the allowed ones
    let (o, _) = to("bold,fancy", "bad.npy");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "minimax: translate: unknown attribute 'fancy' in --to (a stargan run knows bold, italic, serif; or none)\n"
    );
    assert!(!dir.join("bad.npy").exists());
    // a stargan run needs --to
    let o = minimax(&[
        "translate",
        "--checkpoint",
        &ck,
        "--input",
        &input,
        "--out",
        &dir.join("plain.npy").display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "minimax: translate: a stargan run translates to attributes: give --to with the ones to turn on (bold,italic,serif), or --to none\n"
    );
    // --to on a run without attributes
    let p2p = tmp("p2p-to");
    let o = minimax(&[
        "train",
        "pix2pix",
        "--steps",
        "1",
        "--batch",
        "2",
        "--ngf",
        "4",
        "--ndf",
        "4",
        "--out",
        &p2p.display().to_string(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = minimax(&[
        "translate",
        "--checkpoint",
        &p2p.join("checkpoint.safetensors").display().to_string(),
        "--input",
        &input,
        "--out",
        &dir.join("p.npy").display().to_string(),
        "--to",
        "bold",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "minimax: translate: a pix2pix run takes no attributes, so --to does not apply\n"
    );
}

#[test]
fn seeds_runs_each_seed_into_its_folder_and_tables_the_figures() {
    let dir = tmp("seeds");
    // the runs go beside it, into folders of their own
    let _runs = (tmp("seeds-seed3"), tmp("seeds-seed5"));
    let out = dir.to_str().unwrap();
    // a trailing slash still names the folder whose seeds go beside it
    let given = format!("{out}/");
    let o = minimax(&[
        "train", "gan", "--data", "gauss1d", "--steps", "60", "--seeds", "3,5", "--out", &given,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    // each run's own figures, then the table of them
    let jsd = |seed: u64| {
        let f = format!("{out}-seed{seed}/metrics.csv");
        assert!(Path::new(&f).exists(), "{f} missing");
        let block = text.split(&format!("seed {seed}:")).nth(1).unwrap();
        let line = block
            .lines()
            .find(|l| l.trim_start().starts_with("true JSD"))
            .unwrap();
        line.rsplit(' ').next().unwrap().to_string()
    };
    let (a, b) = (jsd(3), jsd(5));
    let row = text
        .lines()
        .find(|l| l.starts_with("| true JSD"))
        .expect("a table row for the JSD");
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert_eq!(cells[2..4], [a.as_str(), b.as_str()]);
    let (x, y): (f64, f64) = (a.parse().unwrap(), b.parse().unwrap());
    let want = format!("{:.4} ± {:.4}", (x + y) / 2.0, (x - y).abs() / 2f64.sqrt());
    assert_eq!(cells[4], want);
    assert!(text.contains("| figure | seed 3 | seed 5 | mean ± sd |"));
}

/// DTN's encoder is pre-trained one way: `--oracle-f` and `--distorted-f` together are refused
/// in one line, before any training.
#[test]
fn dtn_takes_one_kind_of_encoder() {
    let out = tmp("dtn-two-encoders");
    let o = minimax(&[
        "train",
        "dtn",
        "--oracle-f",
        "--distorted-f",
        "--steps",
        "1",
        "--out",
        &out.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        last_line(&o),
        "minimax: train dtn: give --oracle-f or --distorted-f, not both\n"
    );
    assert!(!out.join("checkpoint.safetensors").exists());
}
