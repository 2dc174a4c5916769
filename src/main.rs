//! The `minimax` command. With no arguments it runs the README's main job: a DCGAN trained on
//! the embedded handwritten digits, writing its run folder to `runs/dcgan-digits`.

mod cli;

use cli::{Args, Spec, UsageError};
use gan::methods::vanilla::{GanConfig, Noise, OptimizerKind};
use gan::objectives::GanLoss;
use gan::run::{self, DataSpec, ModelKind, RunConfig};
use nn::Module;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

const MAIN_HELP: &str = "\
minimax — a from-scratch tensor, autodiff and GAN engine

usage: minimax [COMMAND] [OPTIONS]

commands:
  train <gan|dcgan|ae|vae|energy>   train a model and write a run folder
  sample --checkpoint F --out FILE   draw samples from a trained generator (.npy or .png)
  explain gan                        one iteration of the original GAN algorithm, step by step
  inspect --checkpoint F             the model summary and per-tensor statistics of a checkpoint

With no command, runs `minimax train dcgan --data digits --out runs/dcgan-digits`.
`minimax COMMAND --help` explains each command.

The embedded digits are the UCI optdigits test set (E. Alpaydin, C. Kaynak, 1998; CC BY 4.0),
as redistributed by scikit-learn.";

const TRAIN_HELP: &str = "\
usage: minimax train <gan|dcgan|ae|vae|energy> [OPTIONS]

gan and dcgan train the original algorithm with the options below. ae and vae train the §2
auto-encoder baselines on the digits (--steps, default 3000; --seed; --out), and energy trains the
discriminator alone as an energy on ring8 or grid25 (--steps = rounds, default 2000).

  --data D        ring8 | grid25 | gauss1d | digits | idx:PATH | npy:PATH   (default: digits for
                  dcgan, ring8 for gan)
  --steps N       iterations in total, counting a resumed run's (default: 1500 dcgan, 20000 gan)
  --batch M       batch size m (default 64 for dcgan, 256 for gan)
  --k K           D steps per iteration (default 1)
  --noise N       gaussian | uniform (default gaussian)
  --z-dim D       noise dimension (default 100 for dcgan, 16 for gan)
  --loss L        minimax | nonsaturating | lsgan | wgan | wgan-gp | hinge (default nonsaturating)
  --lr R          learning rate of both nets (default 2e-4 for dcgan, 1e-3 for gan)
  --seed S        seed of models and every random draw (default 0)
  --threads T     worker threads (default: all cores)
  --out DIR       run folder (default runs/<model>-<data>)
  --log-every N   iterations between logged rows and checkpoints (default 50)
  --resume        continue from DIR/checkpoint.safetensors, bit-for-bit

Writes DIR/checkpoint.safetensors, metrics.csv, samples.npy, samples.png and report.html.
Ctrl-C saves a checkpoint before exiting; a NaN stops training and keeps the last good checkpoint.";

const SAMPLE_HELP: &str = "\
usage: minimax sample --checkpoint F --out FILE.npy|FILE.png [--n N] [--seed S]

Draws N samples (default 2500; 100 for a .png grid) from the generator saved in F.";

const EXPLAIN_HELP: &str = "\
usage: minimax explain gan [--seed S]

Runs one iteration of the original GAN algorithm (Goodfellow et al. 2014) on a tiny 1-D
problem and prints every quantity the algorithm box names, with live numbers.";

const INSPECT_HELP: &str = "\
usage: minimax inspect --checkpoint F

Prints the model summary stored in F and statistics (shape, min, mean, max) of every tensor.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(e)) => {
            eprintln!("minimax: {e}");
            ExitCode::from(2)
        }
        Err(Failure::Run(e)) => {
            eprintln!("minimax: {e}");
            ExitCode::from(1)
        }
    }
}

enum Failure {
    Usage(UsageError),
    Run(String),
}

impl From<UsageError> for Failure {
    fn from(e: UsageError) -> Failure {
        Failure::Usage(e)
    }
}

fn run(args: &[String]) -> Result<(), Failure> {
    let Some(cmd) = args.first() else {
        let words: Vec<String> = ["dcgan", "--data", "digits", "--out", "runs/dcgan-digits"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        return train(&words);
    };
    let rest = &args[1..];
    match cmd.as_str() {
        "--help" | "-h" | "help" => {
            println!("{MAIN_HELP}");
            Ok(())
        }
        "train" => train(rest),
        "sample" => sample(rest),
        "explain" => explain(rest),
        "inspect" => inspect(rest),
        other => Err(UsageError(format!("unknown command '{other}' (commands: train, sample, explain, inspect; see `minimax --help`)")).into()),
    }
}

fn set_threads(a: &Args) -> Result<(), Failure> {
    let t: usize = a.get("threads", 0, "a whole number of threads")?;
    if t > 0 {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
            .map_err(|e| Failure::Run(format!("cannot set {t} threads: {e}")))?;
    }
    Ok(())
}

fn train(words: &[String]) -> Result<(), Failure> {
    const SPEC: Spec = Spec {
        values: &[
            "data",
            "steps",
            "batch",
            "k",
            "noise",
            "z-dim",
            "loss",
            "lr",
            "seed",
            "threads",
            "out",
            "log-every",
        ],
        switches: &["resume"],
    };
    let Some(a) = Args::parse("train", words, &SPEC)? else {
        println!("{TRAIN_HELP}");
        return Ok(());
    };
    let what = match a.positional.as_slice() {
        [w] => w.as_str(),
        [] => return Err(UsageError(
            "train: say what to train: gan, dcgan, ae, vae or energy (see `minimax train --help`)"
                .into(),
        )
        .into()),
        more => {
            return Err(UsageError(format!(
                "train: expected one model name, got {}",
                more.join(" ")
            ))
            .into())
        }
    };
    let model = match what {
        "gan" => ModelKind::Mlp,
        "dcgan" => ModelKind::Dcgan,
        "ae" | "vae" | "energy" => return train_baseline(what, &a),
        other => {
            return Err(UsageError(format!(
                "train: unknown model '{other}' (gan, dcgan, ae, vae, energy)"
            ))
            .into())
        }
    };
    let dcgan = model == ModelKind::Dcgan;
    let data_s = a
        .value("data")
        .unwrap_or(if dcgan { "digits" } else { "ring8" })
        .to_string();
    let data = DataSpec::parse(&data_s).ok_or_else(|| {
        UsageError(format!("train: --data must be ring8, grid25, gauss1d, digits, idx:PATH or npy:PATH, got '{data_s}'"))
    })?;
    let loss_s = a.choice(
        "loss",
        "nonsaturating",
        &[
            "minimax",
            "nonsaturating",
            "lsgan",
            "wgan",
            "wgan-gp",
            "hinge",
        ],
    )?;
    let noise = match a
        .choice("noise", "gaussian", &["gaussian", "uniform"])?
        .as_str()
    {
        "uniform" => Noise::Uniform,
        _ => Noise::Gaussian,
    };
    let lr: f64 = a.get("lr", if dcgan { 2e-4 } else { 1e-3 }, "a number like 2e-4")?;
    let gan_cfg = GanConfig {
        k: a.get("k", 1, "a whole number ≥ 1")?,
        batch: a.get("batch", if dcgan { 64 } else { 256 }, "a whole number ≥ 1")?,
        noise,
        z_dim: a.get("z-dim", if dcgan { 100 } else { 16 }, "a whole number ≥ 1")?,
        lr_d: lr,
        lr_g: lr,
        loss: GanLoss::parse(&loss_s).expect("checked by choice"),
        optimizer: OptimizerKind::Adam,
        ..GanConfig::default()
    };
    if gan_cfg.k == 0 || gan_cfg.batch == 0 || gan_cfg.z_dim == 0 {
        return Err(UsageError("train: --k, --batch and --z-dim must be at least 1".into()).into());
    }
    let out =
        PathBuf::from(a.value("out").map(|s| s.to_string()).unwrap_or_else(|| {
            format!("runs/{}-{}", model.name(), data_s.replace([':', '/'], "_"))
        }));
    let cfg = RunConfig {
        model,
        data,
        steps: a.get("steps", if dcgan { 1500 } else { 20000 }, "a whole number")?,
        gan: gan_cfg,
        hidden: 128,
        seed: a.get("seed", 0, "a whole number")?,
        out,
        resume: a.switch("resume"),
        log_every: a
            .get::<usize>("log-every", 50, "a whole number ≥ 1")?
            .max(1),
    };
    set_threads(&a)?;
    run::install_interrupt_handler();
    let tty = std::io::stderr().is_terminal();
    eprintln!(
        "minimax: training {} on {} for {} iterations → {}",
        cfg.model.name(),
        cfg.data.spec(),
        cfg.steps,
        cfg.out.display()
    );
    let mut last = std::time::Instant::now();
    let mut progress = |line: &str| {
        if tty && last.elapsed().as_millis() >= 100 {
            run::show_progress_line(line);
            last = std::time::Instant::now();
        }
    };
    let summary = run::train(&cfg, &mut progress).map_err(|e| {
        if tty {
            eprintln!();
        }
        Failure::Run(e.to_string())
    })?;
    if tty {
        eprintln!();
    }
    if summary.interrupted {
        eprintln!(
            "minimax: interrupted at iteration {}; checkpoint saved (continue with --resume)",
            summary.steps
        );
    }
    println!("{} iterations in {:.1} s", summary.steps, summary.seconds);
    for (k, v) in &summary.metrics {
        println!("  {k}: {v}");
    }
    println!("run folder: {} (open report.html)", cfg.out.display());
    Ok(())
}

fn train_baseline(what: &str, a: &Args) -> Result<(), Failure> {
    let which = match what {
        "ae" => run::Baseline::Ae,
        "vae" => run::Baseline::Vae,
        _ => run::Baseline::Energy,
    };
    let energy = which == run::Baseline::Energy;
    let data_s = a
        .value("data")
        .unwrap_or(if energy { "ring8" } else { "digits" })
        .to_string();
    let data = DataSpec::parse(&data_s).ok_or_else(|| {
        UsageError(format!("train: --data must be ring8, grid25, gauss1d, digits, idx:PATH or npy:PATH, got '{data_s}'"))
    })?;
    let steps: usize = a.get("steps", if energy { 2000 } else { 3000 }, "a whole number")?;
    let seed: u64 = a.get("seed", 0, "a whole number")?;
    let out = PathBuf::from(
        a.value("out")
            .map(|s| s.to_string())
            .unwrap_or_else(|| format!("runs/{what}-{data_s}")),
    );
    set_threads(a)?;
    let tty = std::io::stderr().is_terminal();
    eprintln!(
        "minimax: training {what} on {} for {steps} {} → {}",
        data.spec(),
        if energy { "rounds" } else { "steps" },
        out.display()
    );
    let mut last = std::time::Instant::now();
    let mut progress = |line: &str| {
        if tty && last.elapsed().as_millis() >= 100 {
            run::show_progress_line(line);
            last = std::time::Instant::now();
        }
    };
    let s = run::train_baseline(which, &data, steps, seed, &out, &mut progress)
        .map_err(|e| Failure::Run(e.to_string()))?;
    if tty {
        eprintln!();
    }
    println!(
        "{} {} in {:.1} s",
        s.steps,
        if energy { "rounds" } else { "steps" },
        s.seconds
    );
    for (k, v) in &s.metrics {
        println!("  {k}: {v}");
    }
    println!("run folder: {} (open report.html)", out.display());
    Ok(())
}

fn sample(words: &[String]) -> Result<(), Failure> {
    const SPEC: Spec = Spec {
        values: &["checkpoint", "n", "seed", "out"],
        switches: &[],
    };
    let Some(a) = Args::parse("sample", words, &SPEC)? else {
        println!("{SAMPLE_HELP}");
        return Ok(());
    };
    let ckpt = PathBuf::from(a.required("checkpoint")?);
    let out = PathBuf::from(a.required("out")?);
    let png = match out.extension().and_then(|e| e.to_str()) {
        Some("png") => true,
        Some("npy") => false,
        _ => {
            return Err(UsageError(format!(
                "sample: --out must end in .npy or .png, got '{}'",
                out.display()
            ))
            .into())
        }
    };
    let n: usize = a.get("n", if png { 100 } else { 2500 }, "a whole number ≥ 1")?;
    let seed: u64 = a.get("seed", 0, "a whole number")?;
    let loaded = run::load_run(&ckpt).map_err(|e| Failure::Run(e.to_string()))?;
    let mut rng = tensor::Rng::seed(seed);
    let s = gan::methods::vanilla::sample_generator(
        loaded.g.as_dyn(),
        loaded.noise,
        loaded.z_dim,
        n,
        &mut rng,
    );
    let result = if png {
        if s.ndim() == 4 {
            gan::report::image_grid(&s, 10, 1, 4)
                .write_png(&out)
                .map_err(|e| e.to_string())
        } else if s.ndim() == 2 && s.dims()[1] == 2 {
            gan::report::ScatterPlot::fit(480, 480, &[&s])
                .fake(&s)
                .render()
                .write_png(&out)
                .map_err(|e| e.to_string())
        } else {
            Err("a .png needs image or 2-D samples; use .npy".to_string())
        }
    } else {
        let saved = if s.ndim() == 4 {
            s.add_scalar(1.0).mul_scalar(0.5).clamp(0.0, 1.0)
        } else {
            s.clone()
        };
        nn::io::save_npy(&out, &saved).map_err(|e| e.to_string())
    };
    result.map_err(|e| Failure::Run(format!("sample: {e}")))?;
    println!(
        "wrote {n} samples of shape {:?} to {}",
        &s.dims()[1..],
        out.display()
    );
    Ok(())
}

fn inspect(words: &[String]) -> Result<(), Failure> {
    const SPEC: Spec = Spec {
        values: &["checkpoint"],
        switches: &[],
    };
    let Some(a) = Args::parse("inspect", words, &SPEC)? else {
        println!("{INSPECT_HELP}");
        return Ok(());
    };
    let ckpt = PathBuf::from(a.required("checkpoint")?);
    let loaded = run::load_run(&ckpt).map_err(|e| Failure::Run(e.to_string()))?;
    println!(
        "{}: trained {} iterations on {}",
        ckpt.display(),
        loaded.step,
        loaded.data
    );
    for (k, v) in loaded.extras.metadata() {
        println!("  {k} = {v}");
    }
    println!("\nGenerator (gen):\n{}", loaded.g.summary());
    println!("Discriminator (disc):\n{}", loaded.d.summary());
    println!(
        "{:<28} {:<18} {:>10} {:>10} {:>10}",
        "tensor", "shape", "min", "mean", "max"
    );
    let pair = run::Pair {
        g: loaded.g.as_dyn(),
        d: loaded.d.as_dyn(),
    };
    for (name, p) in pair.named_params().into_iter().chain(pair.named_buffers()) {
        let v = p.value().to_vec_f64();
        let (mn, mx) = v
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
        println!(
            "{:<28} {:<18} {:>10.4} {:>10.4} {:>10.4}",
            name,
            format!("{:?}", p.value().dims()),
            mn,
            mean,
            mx
        );
    }
    Ok(())
}

fn explain(words: &[String]) -> Result<(), Failure> {
    const SPEC: Spec = Spec {
        values: &["seed"],
        switches: &[],
    };
    let Some(a) = Args::parse("explain", words, &SPEC)? else {
        println!("{EXPLAIN_HELP}");
        return Ok(());
    };
    match a.positional.as_slice() {
        [w] if w == "gan" => {}
        [] => return Err(UsageError("explain: say what to explain: gan".into()).into()),
        other => {
            return Err(UsageError(format!(
                "explain: unknown topic '{}' (only: gan)",
                other.join(" ")
            ))
            .into())
        }
    }
    let seed: u64 = a.get("seed", 0, "a whole number")?;
    print!("{}", gan::explain::explain_gan(seed));
    Ok(())
}
