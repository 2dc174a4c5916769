//! The `minimax` command. With no arguments it runs the README's main job: a DCGAN trained on
//! the embedded handwritten digits, writing its run folder to `runs/dcgan-digits`.
//!
//! The command knows no method by name: `train`, `sample` and `inspect` look methods up in
//! [`gan::methods::METHODS`], so adding a method changes nothing here.

mod cli;

use cli::{Args, Spec, UsageError};
use gan::method::{MethodInfo, OptKind, Options};
use gan::methods;
use gan::run::{self, DataSpec, RunConfig};
use nn::{Group, Module};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const MAIN_HELP: &str = "\
minimax — a from-scratch tensor, autodiff and GAN engine

usage: minimax [COMMAND] [OPTIONS]

commands:
  train METHOD                       train a method and write a run folder (`minimax train --help`)
  sample --checkpoint F --out FILE   draw samples from a trained run (.npy or .png)
  explain gan|cgan|cyclegan|latent   one iteration of the original GAN algorithm, one D step of
                                     the conditional GAN, one CycleGAN iteration or one step of
                                     a common latent space, live
  translate --checkpoint F --input X.npy --out Y.npy   translate images with a trained run
  encode --checkpoint F --domain x|y --input X.npy --out Z.npy   codes of images (vaegan)
  inspect --checkpoint F             the networks and per-tensor statistics of a checkpoint

With no command, runs `minimax train dcgan --data digits --channels 16 --steps 10000 --lr 1e-3
--lr-d 2.5e-4 --ema 0.99 --refine 5 --out runs/dcgan-digits`.
`minimax COMMAND --help` explains each command.

The embedded digits are the UCI optdigits test set (E. Alpaydin, C. Kaynak, 1998; CC BY 4.0),
as redistributed by scikit-learn.";

const TRAIN_COMMON: &str = "\
Options of every run:
  --data D        ring8 | grid25 | gauss1d (points) · digits (8×8 handwritten) · printed,
                  printed16, printed8 (printed digits at 32, 16, 8 px) · edges2printed (pairs:
                  a glyph's edges, the glyph) · idx:PATH | npy:PATH (your files) · X+Y (two
                  domains drawn independently, e.g. printed8+digits) (default: the method's)
  --steps N       iterations in total, counting a resumed run's (default: the method's)
  --seed S        seed of the networks and every random draw (default 0)
  --seeds A,B,…   one run per seed (2 to 10 different ones), into DIR-seedA, DIR-seedB, …
                  (replacing what is there), then a Markdown table of every final figure per
                  seed with its mean ± sd; not with --seed or --resume
  --threads T     worker threads, 1 to 256 (default: all cores)
  --out DIR       run folder (default runs/<method>-<data>)
  --log-every N   iterations between logged rows and checkpoints (default 50)
  --resume        continue from DIR/checkpoint.safetensors, bit-for-bit, with the options it
                  was trained with (an option given again must agree with them)
  --winograd      compute DCGAN's 4×4 stride-2 f32 convolutions in Winograd form: 1.3–1.7×
                  faster on those layers, relative error ~3e-5 instead of ~5e-7 (off: exact
                  sums, the default; resume with the same choice to stay bit-for-bit)

Writes DIR/checkpoint.safetensors, metrics.csv, samples.npy, samples.png and report.html.
Ctrl-C saves a checkpoint and exits with status 130; a NaN stops training and keeps the last
good checkpoint. `minimax train METHOD --help` lists a method's own options.";

const SAMPLE_HELP: &str = "\
usage: minimax sample --checkpoint F --out FILE.npy|FILE.png [--n N] [--seed S] [--condition C]

Draws N samples (1 to 100000; default 2500, 100 for a .png grid) from the run saved in F.
A conditional run (cgan, stackgan) draws the classes 0–9 in turn, or only class C with
--condition C; a stackgan run also takes style words: --condition 3,bold,italic,serif (any of
bold, italic, condensed, light, and one family: sans, serif or mono; unnamed styles are off,
the family sans).";

const EXPLAIN_HELP: &str = "\
usage: minimax explain gan|cgan|cyclegan|latent [--seed S]

gan: runs one iteration of the original GAN algorithm (Goodfellow et al. 2014) on a tiny 1-D
problem and prints every quantity the algorithm box names, with live numbers.
cgan: runs one D step of the conditional GAN on four real digits and prints its three pairs
(real/right, real/wrong, fake/right), each term of D's loss, and D's outputs after the update.
cyclegan: runs one CycleGAN iteration on four printed and four handwritten digits and prints every
loss term (two GAN, two cycle, two identity, both D terms) with the networks its gradient reaches.
latent: runs one iteration of a common latent space with every fix on and prints each term with
the networks its gradient reaches, and the gradient-reversal layer's sign flip.";

const TRANSLATE_HELP: &str = "\
usage: minimax translate --checkpoint F --input X.npy --out Y.npy [--direction x2y|y2x] [--to A,B]

Translates the images of X.npy (float32 [N, 1, H, W], pixels in [0, 1], the shape the run
trained on) with the run saved in F (pix2pix, direct, dtn, cyclegan, vaegan, stargan) and writes
them to Y.npy in the same form — the convention of samples.npy. --direction y2x translates back,
for a run that has a way back (cyclegan, vaegan). A run that translates to attributes (stargan)
needs --to: the attributes to turn on, separated by commas (bold,italic,serif), the others off;
--to none for none of them.";

const ENCODE_HELP: &str = "\
usage: minimax encode --checkpoint F --input X.npy --out Z.npy [--domain x|y]

Encodes the images of X.npy (float32 [N, 1, H, W], pixels in [0, 1], the shape the run trained
on) of domain x (the first of the run's two domains, the default) or y with the run saved in F
(vaegan) and writes their mean codes μ(x) to Z.npy as float32 [N, D].";

const INSPECT_HELP: &str = "\
usage: minimax inspect --checkpoint F [--allow-non-finite]

Prints the run's metadata, each network's summary and statistics (shape, min, mean, max, and
the count of NaN or infinite values) of every tensor. A checkpoint whose weights hold NaN or
infinite values is refused unless --allow-non-finite.";

/// Ctrl-C's conventional exit status (128 + SIGINT).
const INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    minimax::quiet_broken_pipes();
    let mut args = Vec::new();
    for a in std::env::args_os().skip(1) {
        match a.into_string() {
            Ok(s) => args.push(s),
            Err(bad) => {
                eprintln!(
                    "minimax: the argument {bad:?} is not valid UTF-8 (rename the file or folder)"
                );
                return ExitCode::from(2);
            }
        }
    }
    match run(&args) {
        Ok(code) => ExitCode::from(code),
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

/// What `minimax` with no command runs: DCGAN on the embedded digits with a recipe measured to
/// give sharper digits in the same minute than DCGAN's reference settings (narrower networks,
/// so more iterations fit; a higher learning rate for G than for D; samples from a moving
/// average of G's weights, each noise vector refined by 5 small steps up D's logit). See
/// docs/dcgan.md for the comparison.
const MAIN_JOB: &[&str] = &[
    "dcgan",
    "--data",
    "digits",
    "--channels",
    "16",
    "--steps",
    "10000",
    "--lr",
    "1e-3",
    "--lr-d",
    "2.5e-4",
    "--ema",
    "0.99",
    "--refine",
    "5",
    "--out",
    "runs/dcgan-digits",
];

fn run(args: &[String]) -> Result<u8, Failure> {
    let Some(cmd) = args.first() else {
        let words: Vec<String> = MAIN_JOB.iter().map(|s| s.to_string()).collect();
        return train(&words);
    };
    let rest = &args[1..];
    match cmd.as_str() {
        "--help" | "-h" | "help" => {
            println!("{MAIN_HELP}");
            Ok(0)
        }
        "--version" | "-V" | "version" => {
            println!("minimax {}", env!("CARGO_PKG_VERSION"));
            Ok(0)
        }
        "train" => train(rest),
        "sample" => sample(rest).map(|_| 0),
        "explain" => explain(rest).map(|_| 0),
        "inspect" => inspect(rest).map(|_| 0),
        "translate" => translate(rest).map(|_| 0),
        "encode" => encode(rest).map(|_| 0),
        other => Err(UsageError(format!("unknown command '{other}' (commands: train, sample, translate, encode, explain, inspect; see `minimax --help`)")).into()),
    }
}

/// Runs `f` on a thread of rayon's pool, waiting for it. Parallel work that `f` starts is then
/// shared between that thread and the others of the pool (`--threads N` threads in all),
/// instead of being handed to N workers while the calling thread waits beside them: on 2 cores
/// that third thread made small networks train slower on 2 threads than on 1.
fn on_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    #[cfg(feature = "parallel")]
    {
        let mut out = None;
        rayon::scope(|_| out = Some(f()));
        out.expect("the scope ran its closure")
    }
    #[cfg(not(feature = "parallel"))]
    f()
}

fn set_threads(a: &Args) -> Result<(), Failure> {
    let t: usize = a.get("threads", 0, "a whole number of threads from 1 to 256")?;
    if t > 256 {
        return Err(UsageError(format!(
            "{}: --threads expects a whole number of threads from 1 to 256, got '{t}'",
            a.command
        ))
        .into());
    }
    #[cfg(feature = "parallel")]
    if t > 0 {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
            .map_err(|e| Failure::Run(format!("cannot set {t} threads: {e}")))?;
    }
    #[cfg(not(feature = "parallel"))]
    if t > 1 {
        return Err(UsageError(format!(
            "{}: this minimax was built without parallelism (--no-default-features), so --threads can only be 1, got {t}",
            a.command
        ))
        .into());
    }
    Ok(())
}

fn train_help() -> String {
    let mut s = String::from("usage: minimax train METHOD [OPTIONS]\n\nMethods:\n");
    for m in methods::METHODS {
        s.push_str(&format!("  {:<8} {}\n", m.name, m.help));
    }
    s.push('\n');
    s.push_str(TRAIN_COMMON);
    s
}

const COMMON_VALUES: [&str; 7] = [
    "data",
    "steps",
    "seed",
    "seeds",
    "threads",
    "out",
    "log-every",
];

fn train(words: &[String]) -> Result<u8, Failure> {
    // the method decides which options exist, so find it first
    let name = words.iter().find(|w| !w.starts_with('-'));
    let help = words.iter().any(|w| w == "--help" || w == "-h");
    let Some(name) = name else {
        if help {
            println!("{}", train_help());
            return Ok(0);
        }
        return Err(UsageError(format!(
            "train: say what to train: {} (see `minimax train --help`)",
            methods::names()
        ))
        .into());
    };
    let info: &'static MethodInfo = methods::find(name).ok_or_else(|| {
        UsageError(format!(
            "train: unknown method '{name}' ({}; see `minimax train --help`)",
            methods::names()
        ))
    })?;
    if help {
        println!("{}", info.usage());
        return Ok(0);
    }
    let own: Vec<&'static str> = info.options.iter().map(|o| o.name).collect();
    let mut spec = Spec::new(&COMMON_VALUES, &["resume", "winograd"]);
    for o in info.options {
        match o.kind {
            OptKind::Switch => spec.switches.push(o.name),
            _ => spec.values.push(o.name),
        }
    }
    // an option of another method is named as such, not as unknown
    for w in words {
        let Some(flag) = w.strip_prefix("--") else {
            continue;
        };
        let flag = flag.split('=').next().unwrap_or(flag);
        if !spec.values.contains(&flag)
            && !spec.switches.contains(&flag)
            && methods::METHODS
                .iter()
                .any(|m| m.options.iter().any(|o| o.name == flag))
        {
            return Err(UsageError(format!(
                "train {name}: {name} takes no option --{flag} (see `minimax train {name} --help`)"
            ))
            .into());
        }
    }
    let command = format!("train {name}");
    let a = Args::parse(&command, words, &spec)?.expect("--help was handled above");
    if a.positional.len() > 1 {
        return Err(UsageError(format!(
            "train: expected one method name, got {}",
            a.positional.join(" ")
        ))
        .into());
    }
    let options =
        Options::parse(info, &a.given(&own)).map_err(|e| UsageError(format!("{command}: {e}")))?;
    let data_s = a.value("data").unwrap_or(info.default_data).to_string();
    let data = DataSpec::parse(&data_s).ok_or_else(|| {
        UsageError(format!(
            "{command}: --data must be {}, got '{data_s}'",
            DataSpec::CHOICES
        ))
    })?;
    let steps: usize = a.get("steps", info.default_steps, "a whole number")?;
    if steps > 1_000_000_000 {
        return Err(UsageError(format!(
            "{command}: --steps expects a whole number up to 1000000000, got '{steps}'"
        ))
        .into());
    }
    let log_every: usize = a.get("log-every", 50, "a whole number ≥ 1")?;
    if log_every == 0 {
        return Err(UsageError(format!("{command}: --log-every must be at least 1")).into());
    }
    let out = PathBuf::from(a.value("out").map(|s| s.to_string()).unwrap_or_else(|| {
        format!(
            "runs/{}-{}",
            info.name,
            data_s.replace([':', '/', '+'], "_")
        )
    }));
    let seeds = match a.value("seeds") {
        None => None,
        Some(list) => {
            let parsed: Option<Vec<u64>> = list.split(',').map(|s| s.trim().parse().ok()).collect();
            match parsed {
                Some(v) if (2..=10).contains(&v.len()) => {
                    if let Some(d) = v.iter().find(|s| v.iter().filter(|t| t == s).count() > 1) {
                        return Err(UsageError(format!(
                            "{command}: --seeds names seed {d} twice; each seed is run once"
                        ))
                        .into());
                    }
                    Some(v)
                }
                _ => {
                    return Err(UsageError(format!(
                        "{command}: --seeds expects 2 to 10 whole numbers separated by commas (0,1,2), got '{list}'"
                    ))
                    .into())
                }
            }
        }
    };
    if seeds.is_some() && (a.value("seed").is_some() || a.switch("resume")) {
        return Err(UsageError(format!(
            "{command}: --seeds runs fresh runs of its own seeds; drop --seed and --resume"
        ))
        .into());
    }
    let cfg = RunConfig {
        method: info,
        options,
        data,
        steps,
        seed: a.get("seed", 0, "a whole number")?,
        out,
        resume: a.switch("resume"),
        log_every,
    };
    set_threads(&a)?;
    if a.switch("winograd") {
        tensor::set_winograd(true);
    }
    run::install_interrupt_handler();
    let Some(seeds) = seeds else {
        return train_one(&cfg).map(|(code, _)| code);
    };
    // runs/x/ names the folder runs/x, so its seeds go to runs/x-seed0, …
    let base = cfg
        .out
        .components()
        .collect::<PathBuf>()
        .display()
        .to_string();
    let mut figures = Vec::new();
    for (k, &s) in seeds.iter().enumerate() {
        let mut one = cfg.clone();
        one.seed = s;
        one.out = PathBuf::from(format!("{base}-seed{s}"));
        println!("seed {s}:");
        let (code, figs) = train_one(&one)?;
        if code != 0 || run::interrupted() {
            let rest: Vec<String> = seeds[k + 1..].iter().map(|s| s.to_string()).collect();
            eprintln!(
                "minimax: --seeds stopped at seed {s}; continue it with `--seed {s} --out {} --resume`{}",
                one.out.display(),
                if rest.is_empty() {
                    String::new()
                } else {
                    format!(", then run seeds {} the same way", rest.join(", "))
                }
            );
            if !figures.is_empty() {
                println!();
                for line in run::seeds_table(&seeds[..k], &figures) {
                    println!("{line}");
                }
            }
            return Ok(if code != 0 { code } else { INTERRUPTED });
        }
        figures.push(figs);
    }
    println!();
    for line in run::seeds_table(&seeds, &figures) {
        println!("{line}");
    }
    Ok(0)
}

/// One run of `cfg`, with progress on stderr and the final figures on stdout; returns the exit
/// status and the figures.
fn train_one(cfg: &RunConfig) -> Result<(u8, Vec<(String, String)>), Failure> {
    let info = cfg.method;
    let tty = std::io::stderr().is_terminal();
    eprintln!(
        "minimax: training {} on {} for {} iterations → {}",
        info.name,
        cfg.data.spec(),
        cfg.steps,
        cfg.out.display()
    );
    let mut last = std::time::Instant::now();
    let mut calls = 0usize;
    let every = cfg.log_every;
    let mut progress = |line: &str| {
        calls += 1;
        if tty {
            if last.elapsed().as_millis() >= 100 {
                run::show_progress_line(line);
                last = std::time::Instant::now();
            }
        } else if calls % every == 0 {
            // a log file or a pipe gets a plain line every --log-every iterations
            eprintln!("{line}");
        }
    };
    let summary = on_pool(|| run::train(cfg, &mut progress)).map_err(|e| {
        if tty {
            eprintln!();
        }
        Failure::Run(e.to_string())
    })?;
    if tty {
        eprintln!();
    }
    println!("{} iterations in {:.1} s", summary.steps, summary.seconds);
    for (k, v) in &summary.metrics {
        println!("  {k}: {v}");
    }
    println!("run folder: {} (open report.html)", cfg.out.display());
    if summary.interrupted {
        eprintln!(
            "minimax: interrupted at iteration {}; checkpoint saved (continue with --resume)",
            summary.steps
        );
        return Ok((INTERRUPTED, summary.metrics));
    }
    Ok((0, summary.metrics))
}

fn sample(words: &[String]) -> Result<(), Failure> {
    let Some(a) = Args::parse(
        "sample",
        words,
        &Spec::new(&["checkpoint", "n", "seed", "out", "condition"], &[]),
    )?
    else {
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
    let n: usize = a.get(
        "n",
        if png { 100 } else { 2500 },
        "a whole number from 1 to 100000",
    )?;
    if !(1..=100_000).contains(&n) {
        return Err(UsageError(format!(
            "sample: --n expects a whole number from 1 to 100000, got '{n}'"
        ))
        .into());
    }
    let seed: u64 = a.get("seed", 0, "a whole number")?;
    let loaded = run::load_run(&ckpt, false).map_err(|e| Failure::Run(e.to_string()))?;
    let name = loaded.method.info().name;
    let mut rng = tensor::Rng::seed(seed);
    let method = loaded.method.as_ref();
    let drawn = match a.value("condition") {
        None => method.sample(n, &mut rng),
        Some(c) => match method.sample_condition(c, n, &mut rng) {
            None => {
                return Err(Failure::Run(format!(
                    "sample: a {name} run is not conditional, so --condition does not apply"
                )))
            }
            Some(Err(e)) => return Err(UsageError(format!("sample: {e}")).into()),
            Some(Ok(s)) => Some(s),
        },
    };
    let s = drawn
        .ok_or_else(|| Failure::Run(format!("sample: a {name} run does not generate samples")))?;
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

fn translate(words: &[String]) -> Result<(), Failure> {
    let Some(a) = Args::parse(
        "translate",
        words,
        &Spec::new(&["checkpoint", "input", "out", "direction", "to"], &[]),
    )?
    else {
        println!("{TRANSLATE_HELP}");
        return Ok(());
    };
    let (ckpt, input, out) = npy_paths(&a)?;
    let back = match a.value("direction").unwrap_or("x2y") {
        "x2y" => false,
        "y2x" => true,
        other => {
            return Err(UsageError(format!(
                "translate: --direction must be x2y or y2x, got '{other}'"
            ))
            .into())
        }
    };
    if a.value("to").is_some() && a.value("direction").is_some() {
        return Err(UsageError("translate: give --to or --direction, not both".into()).into());
    }
    let loaded = run::load_run(&ckpt, false).map_err(|e| Failure::Run(e.to_string()))?;
    let name = loaded.method.info().name;
    let names = loaded.method.attribute_names();
    let attrs = match a.value("to") {
        Some(_) if names.is_empty() => {
            return Err(Failure::Run(format!(
                "translate: a {name} run takes no attributes, so --to does not apply"
            )))
        }
        Some(spec) => Some(parse_attributes(spec, name, names).map_err(UsageError)?),
        None if !names.is_empty() => {
            return Err(UsageError(format!(
                "translate: a {name} run translates to attributes: give --to with the ones to turn on ({}), or --to none",
                names.join(",")
            ))
            .into())
        }
        None => None,
    };
    let x = read_images("translate", &input, &loaded)?;
    let y = if let Some(attrs) = &attrs {
        loaded.method.translate_to(&x, attrs).ok_or_else(|| {
            Failure::Run(format!(
                "translate: a {name} run does not translate to attributes"
            ))
        })?
    } else if back {
        loaded.method.translate_reverse(&x).ok_or_else(|| {
            Failure::Run(format!(
                "translate: a {name} run does not translate back (y2x)"
            ))
        })?
    } else {
        loaded.method.translate(&x).ok_or_else(|| {
            Failure::Run(format!("translate: a {name} run does not translate images"))
        })?
    };
    let y = y.add_scalar(1.0).mul_scalar(0.5).clamp(0.0, 1.0);
    nn::io::save_npy(&out, &y).map_err(|e| Failure::Run(format!("translate: {e}")))?;
    println!(
        "translated {} images of shape {:?} to {}",
        y.dims()[0],
        &y.dims()[1..],
        out.display()
    );
    Ok(())
}

/// `--checkpoint`, `--input` and `--out` of `translate` and `encode` (the output a .npy file).
fn npy_paths(a: &Args) -> Result<(PathBuf, PathBuf, PathBuf), Failure> {
    let ckpt = PathBuf::from(a.required("checkpoint")?);
    let input = PathBuf::from(a.required("input")?);
    let out = PathBuf::from(a.required("out")?);
    if out.extension().and_then(|e| e.to_str()) != Some("npy") {
        return Err(UsageError(format!(
            "{}: --out must end in .npy, got '{}'",
            a.command,
            out.display()
        ))
        .into());
    }
    Ok((ckpt, input, out))
}

/// The images of `input` (float32 `[N, …]` with the run's example shape, pixels in [0, 1]) as
/// the networks take them (in [−1, 1]), or one line saying what is wrong.
fn read_images(cmd: &str, input: &Path, loaded: &run::Loaded) -> Result<tensor::Tensor, Failure> {
    let name = loaded.method.info().name;
    let x = nn::io::load_npy(input).map_err(|e| Failure::Run(format!("{cmd}: {e}")))?;
    let mut want = vec![x.dims().first().copied().unwrap_or(0)];
    want.extend(&loaded.meta.shape);
    if x.dims() != want.as_slice() || want[0] == 0 {
        return Err(Failure::Run(format!(
            "{cmd}: {} holds an array of shape {:?}, but this {name} run {} [N, {}] with N ≥ 1",
            input.display(),
            x.dims(),
            if cmd == "encode" {
                "encodes"
            } else {
                "translates"
            },
            loaded
                .meta
                .shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let v = x.to_vec_f64();
    if let Some(bad) = v.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        return Err(Failure::Run(format!(
            "{cmd}: {} has a pixel {bad}; pixels must be in [0, 1] (like samples.npy)",
            input.display()
        )));
    }
    Ok(x.to_dtype(tensor::DType::F32)
        .mul_scalar(2.0)
        .add_scalar(-1.0))
}

fn encode(words: &[String]) -> Result<(), Failure> {
    let Some(a) = Args::parse(
        "encode",
        words,
        &Spec::new(&["checkpoint", "input", "out", "domain"], &[]),
    )?
    else {
        println!("{ENCODE_HELP}");
        return Ok(());
    };
    let (ckpt, input, out) = npy_paths(&a)?;
    let domain = match a.value("domain").unwrap_or("x") {
        "x" => 0,
        "y" => 1,
        other => {
            return Err(
                UsageError(format!("encode: --domain must be x or y, got '{other}'")).into(),
            )
        }
    };
    let loaded = run::load_run(&ckpt, false).map_err(|e| Failure::Run(e.to_string()))?;
    let name = loaded.method.info().name;
    let x = read_images("encode", &input, &loaded)?;
    let z = loaded.method.encode(&x, domain).ok_or_else(|| {
        Failure::Run(format!(
            "encode: a {name} run has no latent space to encode into (vaegan has)"
        ))
    })?;
    nn::io::save_npy(&out, &z.to_dtype(tensor::DType::F32))
        .map_err(|e| Failure::Run(format!("encode: {e}")))?;
    println!(
        "encoded {} images of domain {} to codes of {} dimensions in {}",
        z.dims()[0],
        ["x", "y"][domain],
        z.dims()[1],
        out.display()
    );
    Ok(())
}

/// The 0/1 vector of `--to A,B`: the attributes named are on, the others off; `none` (or
/// nothing) turns all off. An unknown word is an error naming the allowed ones.
fn parse_attributes(spec: &str, method: &str, names: &[&str]) -> Result<Vec<f32>, String> {
    let mut v = vec![0.0f32; names.len()];
    let words: Vec<&str> = spec
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect();
    if words == ["none"] {
        return Ok(v);
    }
    for w in words {
        match names.iter().position(|n| *n == w) {
            Some(k) => v[k] = 1.0,
            None => {
                return Err(format!(
                    "translate: unknown attribute '{w}' in --to (a {method} run knows {}; or none)",
                    names.join(", ")
                ))
            }
        }
    }
    Ok(v)
}

fn inspect(words: &[String]) -> Result<(), Failure> {
    let Some(a) = Args::parse(
        "inspect",
        words,
        &Spec::new(&["checkpoint"], &["allow-non-finite"]),
    )?
    else {
        println!("{INSPECT_HELP}");
        return Ok(());
    };
    let ckpt = PathBuf::from(a.required("checkpoint")?);
    let loaded = run::load_run(&ckpt, a.switch("allow-non-finite"))
        .map_err(|e| Failure::Run(e.to_string()))?;
    let m = loaded.method.as_ref();
    println!(
        "{}: {} trained {} iterations on {}",
        ckpt.display(),
        m.info().name,
        m.iterations(),
        loaded.meta.data
    );
    for (k, v) in loaded.extras.metadata() {
        println!("  {k} = {v}");
    }
    let nets = m.networks();
    for (name, net) in &nets {
        println!("\n{name}:\n{}", net.summary());
    }
    println!(
        "{:<28} {:<18} {:>10} {:>10} {:>10} {:>8}",
        "tensor", "shape", "min", "mean", "max", "NaN/inf"
    );
    let group = Group::new(&nets);
    for (name, p) in group
        .named_params()
        .into_iter()
        .chain(group.named_buffers())
    {
        let v = p.value().to_vec_f64();
        let finite: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        let bad = v.len() - finite.len();
        let (mn, mx) = finite
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        let mean = finite.iter().sum::<f64>() / finite.len().max(1) as f64;
        let stat = |x: f64| {
            if finite.is_empty() {
                "-".to_string()
            } else {
                format!("{x:.4}")
            }
        };
        println!(
            "{:<28} {:<18} {:>10} {:>10} {:>10} {:>8}",
            name,
            format!("{:?}", p.value().dims()),
            stat(mn),
            stat(mean),
            stat(mx),
            bad
        );
    }
    Ok(())
}

fn explain(words: &[String]) -> Result<(), Failure> {
    let Some(a) = Args::parse("explain", words, &Spec::new(&["seed"], &[]))? else {
        println!("{EXPLAIN_HELP}");
        return Ok(());
    };
    let seed: u64 = a.get("seed", 0, "a whole number")?;
    match a.positional.as_slice() {
        [w] if w == "gan" => print!("{}", gan::explain::explain_gan(seed)),
        [w] if w == "cgan" => print!("{}", gan::explain::explain_cgan(seed)),
        [w] if w == "cyclegan" => print!("{}", gan::explain::explain_cyclegan(seed)),
        [w] if w == "latent" => print!("{}", gan::explain::explain_latent(seed)),
        [] => {
            return Err(UsageError(
                "explain: say what to explain: gan, cgan, cyclegan or latent".into(),
            )
            .into())
        }
        other => {
            return Err(UsageError(format!(
                "explain: unknown topic '{}' (gan, cgan, cyclegan or latent)",
                other.join(" ")
            ))
            .into())
        }
    }
    Ok(())
}
