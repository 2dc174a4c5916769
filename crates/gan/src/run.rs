//! A training run as the `minimax train` command performs it: data and models from a
//! [`RunConfig`], the loop with live progress, checkpoints that resume bit-for-bit, and the run
//! folder (`checkpoint.safetensors`, `metrics.csv`, `samples.npy`, `samples.png`,
//! `report.html`).

use crate::data::{idx, Dataset, Digits, Gaussian1d, Grid25, NpyDataset, Ring8};
use crate::methods::vanilla::{sample_generator, Gan, GanConfig, Noise, StepRecord};
use crate::metrics::{evaluate_digits, jsd_1d, kde_1d, mode_report, DigitClassifier};
use crate::models;
use crate::objectives::GanLoss;
use crate::report::{image_grid, Image, LineChart, Report, ScatterPlot};
use autograd::Var;
use nn::checkpoint::Extras;
use nn::layers::{Flatten, Sequential, Unflatten};
use nn::{load_checkpoint, save_checkpoint, Module};
use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tensor::{DType, Rng, Tensor};

/// Where the training data comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum DataSpec {
    /// The ring of 8 Gaussians (PacGAN).
    Ring8,
    /// The 5×5 grid of Gaussians (PacGAN).
    Grid25,
    /// A 1-D Gaussian N(4, 1.25²).
    Gauss1d,
    /// The embedded 8×8 handwritten digits.
    Digits,
    /// MNIST-style IDX image file.
    Idx(PathBuf),
    /// Any NPY array [N, …].
    Npy(PathBuf),
}

impl DataSpec {
    /// Parses `ring8`, `grid25`, `gauss1d`, `digits`, `idx:PATH`, `npy:PATH`.
    pub fn parse(s: &str) -> Option<DataSpec> {
        Some(match s {
            "ring8" => DataSpec::Ring8,
            "grid25" => DataSpec::Grid25,
            "gauss1d" => DataSpec::Gauss1d,
            "digits" => DataSpec::Digits,
            _ => {
                if let Some(p) = s.strip_prefix("idx:") {
                    DataSpec::Idx(PathBuf::from(p))
                } else if let Some(p) = s.strip_prefix("npy:") {
                    DataSpec::Npy(PathBuf::from(p))
                } else {
                    return None;
                }
            }
        })
    }
    /// The spelling [`DataSpec::parse`] reads.
    pub fn spec(&self) -> String {
        match self {
            DataSpec::Ring8 => "ring8".into(),
            DataSpec::Grid25 => "grid25".into(),
            DataSpec::Gauss1d => "gauss1d".into(),
            DataSpec::Digits => "digits".into(),
            DataSpec::Idx(p) => format!("idx:{}", p.display()),
            DataSpec::Npy(p) => format!("npy:{}", p.display()),
        }
    }
    /// Opens the data set (files are read and validated here).
    pub fn open(&self) -> Result<Box<dyn Dataset>, RunError> {
        Ok(match self {
            DataSpec::Ring8 => Box::new(Ring8::new()),
            DataSpec::Grid25 => Box::new(Grid25::new()),
            DataSpec::Gauss1d => Box::new(Gaussian1d::new(4.0, 1.25)),
            DataSpec::Digits => Box::new(Digits::new()),
            DataSpec::Idx(p) => {
                let t = idx::read_images(p).map_err(|e| RunError(e.to_string()))?;
                Box::new(NpyDataset::from_tensor(p.display().to_string(), &t))
            }
            DataSpec::Npy(p) => Box::new(NpyDataset::open(p).map_err(|e| RunError(e.to_string()))?),
        })
    }
}

/// Which generator/discriminator pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    /// MLPs (any data; images are flattened).
    Mlp,
    /// DCGAN-style convolutional pair (square 1-channel images of side 8 or 28).
    Dcgan,
}

impl ModelKind {
    /// `gan` → MLP, `dcgan` → convolutional.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Mlp => "gan",
            ModelKind::Dcgan => "dcgan",
        }
    }
}

/// Everything `minimax train gan|dcgan` needs.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Model pair.
    pub model: ModelKind,
    /// Data.
    pub data: DataSpec,
    /// Iterations to reach (counting those of a resumed run).
    pub steps: usize,
    /// Algorithm hyperparameters.
    pub gan: GanConfig,
    /// Hidden width of the MLPs.
    pub hidden: usize,
    /// Seed of models and training draws.
    pub seed: u64,
    /// Run folder.
    pub out: PathBuf,
    /// Continue from `out/checkpoint.safetensors`.
    pub resume: bool,
    /// Iterations between logged rows / checkpoints.
    pub log_every: usize,
}

/// A run that could not start or had to stop, with a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunError(pub String);

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for RunError {}

/// G and D under one module, so one checkpoint holds both (`gen.…`, `disc.…`).
pub struct Pair<'a> {
    /// Generator.
    pub g: &'a dyn Module,
    /// Discriminator.
    pub d: &'a dyn Module,
}

impl Module for Pair<'_> {
    /// The generator's forward pass.
    fn forward(&self, x: &Var) -> Var {
        self.g.forward(x)
    }
    fn describe(&self) -> String {
        "GanPair".into()
    }
    fn children(&self) -> Vec<(String, &dyn Module)> {
        vec![("gen".into(), self.g), ("disc".into(), self.d)]
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

/// The models for `model` on data of the given sample shape, drawn from `seed`.
pub fn build_models(
    model: ModelKind,
    shape: &[usize],
    z_dim: usize,
    hidden: usize,
    seed: u64,
) -> Result<(Box<dyn Module>, Box<dyn Module>), RunError> {
    let mut rng = Rng::seed(seed);
    let dim: usize = shape.iter().product();
    match model {
        ModelKind::Mlp => {
            let g = models::mlp_generator(z_dim, hidden, dim, &mut rng);
            let d = models::mlp_discriminator(dim, hidden, &mut rng);
            if shape.len() == 1 {
                Ok((Box::new(g), Box::new(d)))
            } else {
                let g = Sequential::new().add(g).add(Unflatten::new(1, shape));
                let d = Sequential::new().add(Flatten::new()).add(d);
                Ok((Box::new(g), Box::new(d)))
            }
        }
        ModelKind::Dcgan => match shape {
            [1, h, w] if h == w && (*h == 8 || *h == 28) => {
                let base = h / 4;
                let g = models::dcgan_generator(z_dim, base, 64, &mut rng);
                let d = models::dcgan_discriminator(base, 64, &mut rng);
                nn::init::init_dcgan(&g, &mut rng);
                nn::init::init_dcgan(&d, &mut rng);
                Ok((Box::new(g), Box::new(d)))
            }
            _ => Err(RunError(format!(
                "dcgan needs 1-channel square images of side 8 or 28, but the data's samples have shape {shape:?} (use `minimax train gan` for other data)"
            ))),
        },
    }
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Makes Ctrl-C (SIGINT) set a flag the loop checks, so it saves a checkpoint before exiting.
pub fn install_interrupt_handler() {
    #[cfg(unix)]
    {
        extern "C" fn on_sigint(_: i32) {
            INTERRUPTED.store(true, Ordering::SeqCst);
        }
        extern "C" {
            fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
        }
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            signal(2, on_sigint);
        }
    }
}

/// Whether Ctrl-C was pressed.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// How a run ended.
#[derive(Debug)]
pub struct RunSummary {
    /// Iterations done in total.
    pub steps: usize,
    /// Whether Ctrl-C stopped it.
    pub interrupted: bool,
    /// Final quality figures, as (name, value) pairs.
    pub metrics: Vec<(String, String)>,
    /// Wall time of this invocation.
    pub seconds: f64,
}

fn meta_usize(extras: &nn::LoadedExtras, key: &str) -> Result<usize, RunError> {
    extras
        .metadata_value(key)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            RunError(format!(
                "{}: metadata '{key}' is missing or not a number",
                extras.file()
            ))
        })
}

/// The models and config stored in a run's checkpoint, for `minimax sample` and `inspect`.
pub struct Loaded {
    /// Generator.
    pub g: Box<dyn Module>,
    /// Discriminator.
    pub d: Box<dyn Module>,
    /// Noise distribution.
    pub noise: Noise,
    /// Noise dimension.
    pub z_dim: usize,
    /// Data the run trained on.
    pub data: String,
    /// Shape of one sample.
    pub shape: Vec<usize>,
    /// Iterations done.
    pub step: usize,
    /// Everything else in the file.
    pub extras: nn::LoadedExtras,
}

/// Rebuilds G and D from a checkpoint's metadata and loads their weights.
pub fn load_run(path: &Path) -> Result<Loaded, RunError> {
    // first read the metadata with an empty module, then build the right models
    struct Empty;
    impl Module for Empty {
        fn forward(&self, x: &Var) -> Var {
            x.clone()
        }
        fn describe(&self) -> String {
            "Empty".into()
        }
        fn as_dyn(&self) -> &dyn Module {
            self
        }
    }
    let probe = nn::checkpoint::load_checkpoint_with(path, &Empty, false)
        .map_err(|e| RunError(e.to_string()))?;
    let model = match probe.metadata_value("model") {
        Some("gan") => ModelKind::Mlp,
        Some("dcgan") => ModelKind::Dcgan,
        other => {
            return Err(RunError(format!(
                "{}: not a minimax GAN checkpoint (metadata 'model' is {other:?})",
                path.display()
            )))
        }
    };
    let shape: Vec<usize> = probe
        .metadata_value("sample_shape")
        .unwrap_or("")
        .split('x')
        .filter_map(|s| s.parse().ok())
        .collect();
    let z_dim = meta_usize(&probe, "z_dim")?;
    let hidden = meta_usize(&probe, "hidden")?;
    let noise = match probe.metadata_value("noise") {
        Some("uniform") => Noise::Uniform,
        _ => Noise::Gaussian,
    };
    let (g, d) = build_models(model, &shape, z_dim, hidden, 0)?;
    let extras = load_checkpoint(
        path,
        &Pair {
            g: g.as_dyn(),
            d: d.as_dyn(),
        },
    )
    .map_err(|e| RunError(e.to_string()))?;
    let step = meta_usize(&extras, "step")?;
    let data = extras.metadata_value("data").unwrap_or("?").to_string();
    Ok(Loaded {
        g,
        d,
        noise,
        z_dim,
        data,
        shape,
        step,
        extras,
    })
}

fn save(gan: &Gan, cfg: &RunConfig, shape: &[usize], path: &Path) -> Result<(), RunError> {
    let mut ex = Extras::new();
    ex.optimizer("g", gan.opt_g.as_ref())
        .optimizer("d", gan.opt_d.as_ref())
        .rng("train", &gan.rng)
        .metadata("model", cfg.model.name())
        .metadata("data", &cfg.data.spec())
        .metadata(
            "sample_shape",
            &shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("x"),
        )
        .metadata("z_dim", &cfg.gan.z_dim.to_string())
        .metadata("hidden", &cfg.hidden.to_string())
        .metadata("noise", cfg.gan.noise.name())
        .metadata("loss", cfg.gan.loss.name())
        .metadata("step", &gan.step.to_string())
        .metadata("seed", &cfg.seed.to_string());
    save_checkpoint(
        path,
        &Pair {
            g: gan.g.as_dyn(),
            d: gan.d.as_dyn(),
        },
        &ex,
    )
    .map_err(|e| RunError(e.to_string()))
}

fn progress_line(rec: &StepRecord, total: usize, rate: f64) -> String {
    let eta = (total.saturating_sub(rec.step)) as f64 / rate.max(1e-9);
    let v = if rec.v.is_nan() {
        String::new()
    } else {
        format!(" V {:+.3} JSD≈{:.3}", rec.v, rec.jsd)
    };
    format!(
        "step {}/{} D loss {:.4} G loss {:.4}{v} D(x) {:.3} D(G(z)) {:.3} | {:.1} it/s, ETA {:.0}s",
        rec.step, total, rec.d_loss, rec.g_loss, rec.d_real, rec.d_fake, rate, eta
    )
}

/// Runs training as configured, writing the run folder. `progress` receives a one-line status
/// after every iteration (the CLI shows it on a terminal).
pub fn train(cfg: &RunConfig, progress: &mut dyn FnMut(&str)) -> Result<RunSummary, RunError> {
    let t0 = Instant::now();
    let data = cfg.data.open()?;
    let shape = data.sample_shape();
    fs::create_dir_all(&cfg.out).map_err(|e| {
        RunError(format!(
            "cannot create the run folder {}: {e}",
            cfg.out.display()
        ))
    })?;
    let ckpt = cfg.out.join("checkpoint.safetensors");
    let (g, d) = build_models(cfg.model, &shape, cfg.gan.z_dim, cfg.hidden, cfg.seed)?;
    let mut gan = Gan::new(g, d, cfg.gan.clone(), cfg.seed.wrapping_add(1))
        .map_err(|e| RunError(e.to_string()))?;
    let metrics_path = cfg.out.join("metrics.csv");
    let mut history: Vec<StepRecord> = Vec::new();
    if cfg.resume {
        if !ckpt.exists() {
            return Err(RunError(format!(
                "--resume: there is no checkpoint at {} (start without --resume, or point --out at an earlier run)",
                ckpt.display()
            )));
        }
        let ex = load_checkpoint(
            &ckpt,
            &Pair {
                g: gan.g.as_dyn(),
                d: gan.d.as_dyn(),
            },
        )
        .map_err(|e| RunError(e.to_string()))?;
        for (key, want) in [
            ("model", cfg.model.name().to_string()),
            ("data", cfg.data.spec()),
            ("loss", cfg.gan.loss.name().to_string()),
            ("noise", cfg.gan.noise.name().to_string()),
            ("z_dim", cfg.gan.z_dim.to_string()),
        ] {
            let have = ex.metadata_value(key).unwrap_or("?");
            if have != want {
                return Err(RunError(format!(
                    "--resume: the checkpoint was trained with {key} '{have}', but this run asks for '{want}'"
                )));
            }
        }
        ex.restore_optimizer("g", gan.opt_g.as_mut())
            .map_err(|e| RunError(e.to_string()))?;
        ex.restore_optimizer("d", gan.opt_d.as_mut())
            .map_err(|e| RunError(e.to_string()))?;
        gan.rng = ex.rng("train").map_err(|e| RunError(e.to_string()))?;
        gan.step = meta_usize(&ex, "step")?;
        // keep the logged rows up to the checkpoint
        if let Ok(text) = fs::read_to_string(&metrics_path) {
            history = text
                .lines()
                .skip(1)
                .filter_map(parse_row)
                .filter(|r| r.step <= gan.step)
                .collect();
        }
    }
    let mut csv = String::from(StepRecord::CSV_HEADER);
    csv.push('\n');
    for r in &history {
        csv.push_str(&r.csv_row());
        csv.push('\n');
    }
    let write_csv = |csv: &str| -> Result<(), RunError> {
        let tmp = metrics_path.with_extension("csv.tmp");
        fs::write(&tmp, csv)
            .and_then(|_| fs::rename(&tmp, &metrics_path))
            .map_err(|e| RunError(format!("cannot write {}: {e}", metrics_path.display())))
    };
    let mut snapshots: Vec<(usize, Image)> = Vec::new();
    let snap_every = (cfg.steps / 4).max(1);
    let start = gan.step;
    let started = Instant::now();
    let mut stopped_by_user = false;
    while gan.step < cfg.steps {
        if interrupted() {
            stopped_by_user = true;
            break;
        }
        let rec = match gan.step(data.as_ref()) {
            Ok(r) => r,
            Err(e) => {
                write_csv(&csv)?;
                let kept = if ckpt.exists() {
                    format!("the last good checkpoint ({}) is kept", ckpt.display())
                } else {
                    "no checkpoint was written yet".to_string()
                };
                return Err(RunError(format!("training stopped: {e}; {kept}")));
            }
        };
        let done = gan.step - start;
        let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-9);
        progress(&progress_line(&rec, cfg.steps, rate));
        if gan.step % cfg.log_every == 0 || gan.step == cfg.steps {
            csv.push_str(&rec.csv_row());
            csv.push('\n');
            history.push(rec.clone());
            write_csv(&csv)?;
            save(&gan, cfg, &shape, &ckpt)?;
        }
        if shape.len() == 1 && shape[0] == 2 && (gan.step % snap_every == 0) {
            snapshots.push((gan.step, scatter_with_surface(&gan, data.as_ref(), 360)));
        }
    }
    write_csv(&csv)?;
    save(&gan, cfg, &shape, &ckpt)?;
    let metrics = finish(&gan, cfg, data.as_ref(), &shape, &history, &snapshots)?;
    Ok(RunSummary {
        steps: gan.step,
        interrupted: stopped_by_user,
        metrics,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

fn parse_row(line: &str) -> Option<StepRecord> {
    let v: Vec<f64> = line
        .split(',')
        .map(|s| s.parse::<f64>().unwrap_or(f64::NAN))
        .collect();
    if v.len() != 11 {
        return None;
    }
    Some(StepRecord {
        step: v[0] as usize,
        v: v[1],
        d_real: v[2],
        d_fake: v[3],
        jsd: v[4],
        d_loss: v[5],
        g_loss: v[6],
        gp: v[7],
        grad_norm_d: v[8],
        grad_norm_g: v[9],
        seconds: v[10],
    })
}

/// The 2-D samples over D's decision surface (σ of D's logit on a grid).
fn scatter_with_surface(gan: &Gan, data: &dyn Dataset, size: usize) -> Image {
    let mut rng = Rng::seed(7);
    let real = data.sample(1000, &mut rng);
    let fake = gan.sample(1000, &mut rng);
    let plot = ScatterPlot::fit(size, size, &[&real, &fake]);
    let (nx, ny) = (72, 72);
    let grid = plot.surface_points(nx, ny);
    let logits = gan.discriminate(&grid.to_dtype(DType::F32));
    let probs: Vec<f64> = logits.sigmoid().to_vec_f64();
    plot.surface(&probs, nx, ny)
        .real(&real)
        .fake(&fake)
        .render()
}

/// Samples scaled for saving: images to [0, 1] (tanh output is in [−1, 1]); points as they are.
fn for_saving(samples: &Tensor, shape: &[usize]) -> Tensor {
    if shape.len() >= 2 {
        samples.add_scalar(1.0).mul_scalar(0.5).clamp(0.0, 1.0)
    } else {
        samples.clone()
    }
}

fn histogram_image(samples: &[f64], real: &[f64], w: usize, h: usize) -> Image {
    let lo = samples
        .iter()
        .chain(real)
        .cloned()
        .fold(f64::INFINITY, f64::min);
    let hi = samples
        .iter()
        .chain(real)
        .cloned()
        .fold(f64::NEG_INFINITY, f64::max);
    let bins = 60;
    let count = |xs: &[f64]| {
        let mut c = vec![0usize; bins];
        for &x in xs {
            let b = (((x - lo) / (hi - lo + 1e-12)) * bins as f64) as usize;
            c[b.min(bins - 1)] += 1;
        }
        c
    };
    let (cs, cr) = (count(samples), count(real));
    let top = cs.iter().chain(&cr).cloned().max().unwrap_or(1).max(1) as f64;
    let mut px = vec![255u8; w * h * 3];
    for b in 0..bins {
        for (c, color) in [(cr[b], [70u8, 110, 220]), (cs[b], [220u8, 80, 60])] {
            let bh = (c as f64 / top * (h as f64 - 4.0)) as usize;
            let x0 = b * w / bins;
            let x1 = ((b + 1) * w / bins).max(x0 + 1);
            let x0 = if color[0] == 220 {
                x0 + (x1 - x0) / 2
            } else {
                x0
            };
            for y in h - bh..h {
                for x in x0..x1.min(w) {
                    let i = (y * w + x) * 3;
                    px[i..i + 3].copy_from_slice(&color);
                }
            }
        }
    }
    Image {
        width: w,
        height: h,
        channels: 3,
        pixels: px,
    }
}

fn finish(
    gan: &Gan,
    cfg: &RunConfig,
    data: &dyn Dataset,
    shape: &[usize],
    history: &[StepRecord],
    snapshots: &[(usize, Image)],
) -> Result<Vec<(String, String)>, RunError> {
    let mut rng = Rng::seed(cfg.seed.wrapping_add(99));
    let samples = sample_generator(gan.g.as_dyn(), gan.cfg.noise, gan.cfg.z_dim, 2500, &mut rng);
    let saved = for_saving(&samples, shape);
    let io = |e: nn::format::FormatError| RunError(e.to_string());
    nn::io::save_npy(cfg.out.join("samples.npy"), &saved).map_err(io)?;
    let mut metrics: Vec<(String, String)> = vec![("iterations".into(), gan.step.to_string())];
    let picture = if shape.len() >= 2 {
        if cfg.data == DataSpec::Digits {
            metrics.extend(digit_metrics(&samples));
        }
        let n = 100.min(saved.dims()[0]);
        image_grid(
            &samples.narrow(0, 0, n),
            10,
            1,
            if shape[shape.len() - 1] <= 8 { 4 } else { 2 },
        )
    } else if shape == [2] {
        if let Some(modes) = match cfg.data {
            DataSpec::Ring8 => Some((Ring8::new().modes(), Ring8::new().sigma())),
            DataSpec::Grid25 => Some((Grid25::new().modes(), Grid25::new().sigma())),
            _ => None,
        } {
            let m = mode_report(&samples, &modes.0, modes.1);
            metrics.push((
                "modes covered".into(),
                format!("{} / {}", m.modes_covered, m.num_modes()),
            ));
            metrics.push((
                "high-quality samples".into(),
                format!("{:.1} %", 100.0 * m.high_quality_frac),
            ));
            metrics.push((
                "reverse KL of the mode histogram".into(),
                format!("{:.4}", m.reverse_kl),
            ));
        }
        scatter_with_surface(gan, data, 480)
    } else {
        let s = samples.to_vec_f64();
        let real = data.sample(2500, &mut rng).to_vec_f64();
        if cfg.data == DataSpec::Gauss1d {
            let truth = Gaussian1d::new(4.0, 1.25);
            let kde = kde_1d(&s, None);
            let jsd = jsd_1d(|x| truth.pdf(x), |x| kde.pdf(x), -6.0, 14.0, 4000);
            metrics.push((
                "true JSD(data ‖ G) (KDE of 2,500 samples)".into(),
                format!("{jsd:.4}"),
            ));
            if let Some(last) = history.last() {
                metrics.push((
                    "D's estimate (V + ln 4)/2 at the last step".into(),
                    format!("{:.4}", last.jsd),
                ));
            }
        }
        histogram_image(&s, &real, 480, 240)
    };
    picture
        .write_png(cfg.out.join("samples.png"))
        .map_err(|e| RunError(format!("cannot write samples.png: {e}")))?;
    // the report
    let steps: Vec<f64> = history.iter().map(|r| r.step as f64).collect();
    let series = |f: &dyn Fn(&StepRecord) -> f64| -> Vec<(f64, f64)> {
        steps
            .iter()
            .zip(history)
            .map(|(&s, r)| (s, f(r)))
            .filter(|(_, y)| y.is_finite())
            .collect()
    };
    let mut rep = Report::new(format!(
        "minimax train {} --data {}",
        cfg.model.name(),
        cfg.data.spec()
    ));
    rep.paragraph(format!(
        "{} iterations, batch {}, k = {}, z ~ {} of {} dims, loss {}, seed {}.",
        gan.step,
        cfg.gan.batch,
        cfg.gan.k,
        cfg.gan.noise.name(),
        cfg.gan.z_dim,
        cfg.gan.loss.name(),
        cfg.seed
    ));
    rep.table("Final measurements", &metrics);
    rep.image("Samples (blue: data, red: generator)", &picture);
    rep.svg(
        "Losses",
        LineChart::new("losses")
            .x_label("iteration")
            .series("D loss", &series(&|r| r.d_loss))
            .series("G loss", &series(&|r| r.g_loss))
            .to_svg(),
    );
    if cfg.gan.loss != GanLoss::Wgan && cfg.gan.loss.uses_sigmoid() {
        rep.svg(
            "V and the JSD estimate (V + ln 4)/2",
            LineChart::new("V and JSD")
                .x_label("iteration")
                .series("V", &series(&|r| r.v))
                .series("JSD estimate", &series(&|r| r.jsd))
                .to_svg(),
        );
    }
    rep.svg(
        "D(x) and D(G(z))",
        LineChart::new("D outputs")
            .x_label("iteration")
            .series("D(x)", &series(&|r| r.d_real))
            .series("D(G(z))", &series(&|r| r.d_fake))
            .to_svg(),
    );
    for (s, img) in snapshots {
        rep.image(
            format!("Iteration {s}: samples over D's decision surface (bright = D says real)"),
            img,
        );
    }
    rep.write(cfg.out.join("report.html"))
        .map_err(|e| RunError(format!("cannot write report.html: {e}")))?;
    Ok(metrics)
}

/// Writes one line to stderr, replacing the previous one (for a terminal).
pub fn show_progress_line(line: &str) {
    let mut e = std::io::stderr();
    let _ = write!(e, "\r{line}\x1b[K");
    let _ = e.flush();
}

/// How a digit classifier trained here (seeded) judges generated 8×8 digits — the same figures
/// for every method, so they can be compared.
fn digit_metrics(samples: &Tensor) -> Vec<(String, String)> {
    let clf = DigitClassifier::train(0);
    let r = evaluate_digits(&clf, samples, clf.held_out().images());
    vec![
        (
            "classifier held-out accuracy".into(),
            format!("{:.1} %", 100.0 * clf.held_out_accuracy()),
        ),
        (
            "classes covered (p > 0.9 on ≥ 1 % of samples)".into(),
            format!("{} / 10", r.class_coverage),
        ),
        (
            "mean classifier confidence".into(),
            format!("{:.3}", r.mean_confidence),
        ),
        (
            "samples classified with p > 0.9".into(),
            format!("{:.1} %", 100.0 * r.confident_fraction),
        ),
        (
            "Fréchet distance to held-out digits (classifier features)".into(),
            format!("{:.2}", r.frechet),
        ),
    ]
}

/// Saves an encoder/decoder pair (decoder under `gen.`, encoder under `disc.` — the slots
/// `minimax sample`/`inspect` read).
fn save_pair(enc: &dyn Module, dec: &dyn Module, out: &Path) -> Result<(), RunError> {
    save_checkpoint(
        out.join("checkpoint.safetensors"),
        &Pair { g: dec, d: enc },
        &Extras::new(),
    )
    .map_err(|e| RunError(e.to_string()))
}

/// The baselines of seed §2 that `minimax train ae|vae|energy` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Baseline {
    /// Auto-encoder, sampled by decoding codes from N(0, I).
    Ae,
    /// Variational auto-encoder.
    Vae,
    /// The discriminator alone as an energy, its negatives found by gradient ascent.
    Energy,
}

/// Trains a §2 baseline on `data` (digits for ae/vae, ring8 or grid25 for energy) for `steps`
/// steps (rounds for energy) and writes the run folder: `checkpoint.safetensors` (the networks),
/// `metrics.csv`, `samples.npy`, `samples.png`, `report.html`.
pub fn train_baseline(
    which: Baseline,
    data: &DataSpec,
    steps: usize,
    seed: u64,
    out: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<RunSummary, RunError> {
    use crate::methods::autoencoder::{
        nearest_neighbour_mse, AeConfig, Autoencoder, Vae, VaeConfig,
    };
    use crate::methods::energy::{EnergyConfig, EnergyModel, Modes};
    let t0 = Instant::now();
    fs::create_dir_all(out).map_err(|e| {
        RunError(format!(
            "cannot create the run folder {}: {e}",
            out.display()
        ))
    })?;
    let ds = data.open()?;
    let fail = |e: crate::methods::vanilla::TrainError| RunError(format!("training stopped: {e}"));
    let mut rng = Rng::seed(seed.wrapping_add(99));
    let mut metrics: Vec<(String, String)> = Vec::new();
    let mut csv = String::new();
    let mut losses: Vec<(f64, f64)> = Vec::new();
    let name = match which {
        Baseline::Ae => "ae",
        Baseline::Vae => "vae",
        Baseline::Energy => "energy",
    };
    let (samples, picture) = match which {
        Baseline::Ae | Baseline::Vae => {
            if *data != DataSpec::Digits {
                return Err(RunError(format!(
                    "train {name}: the auto-encoders are built for the 8×8 digits (--data digits), not {}",
                    data.spec()
                )));
            }
            let digits = Digits::new();
            let (train_set, test_set) = digits.split(0.2, 0);
            csv.push_str(if which == Baseline::Ae {
                crate::methods::autoencoder::AeRecord::CSV_HEADER
            } else {
                crate::methods::autoencoder::VaeRecord::CSV_HEADER
            });
            csv.push('\n');
            // one row per step: the loss for the curve, the CSV row, the progress line
            let mut log = |step: usize, loss: f64, row: String, line: String| {
                losses.push((step as f64, loss));
                csv.push_str(&row);
                csv.push('\n');
                progress(&line);
            };
            let (samples, recon_mse) = if which == Baseline::Ae {
                let mut m = Autoencoder::new(AeConfig::default(), seed)
                    .map_err(|e| RunError(e.to_string()))?;
                for _ in 0..steps {
                    let r = m.step(&train_set).map_err(fail)?;
                    let line = format!("step {}/{steps} reconstruction {:.4}", r.step, r.recon);
                    log(r.step, r.recon, r.csv_row(), line);
                }
                save_pair(&m.enc, &m.dec, out)?;
                (m.sample(2500, &mut rng), m.recon_mse(test_set.images()))
            } else {
                let mut m =
                    Vae::new(VaeConfig::default(), seed).map_err(|e| RunError(e.to_string()))?;
                for _ in 0..steps {
                    let r = m.step(&train_set).map_err(fail)?;
                    let line = format!(
                        "step {}/{steps} loss {:.3} (recon {:.3} + KL {:.3})",
                        r.step, r.loss, r.recon, r.kl
                    );
                    log(r.step, r.loss, r.csv_row(), line);
                }
                save_pair(&m.enc, &m.dec, out)?;
                (m.sample(2500, &mut rng), m.recon_mse(test_set.images()))
            };
            metrics.push((
                "held-out reconstruction MSE".into(),
                format!("{recon_mse:.4}"),
            ));
            metrics.push((
                "mean squared distance of a sample to its nearest training digit".into(),
                format!(
                    "{:.4}",
                    nearest_neighbour_mse(&samples.narrow(0, 0, 500), train_set.images())
                ),
            ));
            metrics.extend(digit_metrics(&samples));
            let picture = image_grid(&samples.narrow(0, 0, 100), 10, 1, 4);
            (for_saving(&samples, &[1, 8, 8]), picture)
        }
        Baseline::Energy => {
            let modes = match data {
                DataSpec::Ring8 => Modes::ring8(),
                DataSpec::Grid25 => Modes::grid25(),
                other => {
                    return Err(RunError(format!(
                        "train energy: the energy model is measured on ring8 or grid25, not {}",
                        other.spec()
                    )))
                }
            };
            let cfg = EnergyConfig {
                rounds: steps,
                ..EnergyConfig::default()
            };
            let mut em = EnergyModel::mlp(2, cfg, seed).map_err(|e| RunError(e.to_string()))?;
            csv.push_str(crate::methods::energy::EnergyRecord::CSV_HEADER);
            csv.push('\n');
            for _ in 0..steps {
                let r = em.round(ds.as_ref(), &modes).map_err(fail)?;
                losses.push((r.round as f64, r.loss));
                csv.push_str(&r.csv_row());
                csv.push('\n');
                progress(&format!(
                    "round {}/{steps} E D(x) {:.3} E D(x̃) {:.3} negatives' distance to modes {:.3}",
                    r.round, r.d_real, r.d_neg, r.neg_mode_dist
                ));
            }
            let (samples, evals) = em.sample(2500, &[2], &mut rng);
            let m = modes.report(&samples);
            metrics.push((
                "modes covered by 2,500 fresh negatives".into(),
                format!("{} / {}", m.modes_covered, m.num_modes()),
            ));
            metrics.push((
                "high-quality negatives".into(),
                format!("{:.1} %", 100.0 * m.high_quality_frac),
            ));
            metrics.push((
                "gradient evaluations to draw them".into(),
                evals.to_string(),
            ));
            metrics.push((
                "total gradient evaluations in training".into(),
                em.total_grad_evals.to_string(),
            ));
            save_checkpoint(
                out.join("checkpoint.safetensors"),
                em.d.as_dyn(),
                &Extras::new(),
            )
            .map_err(|e| RunError(e.to_string()))?;
            let real = ds.sample(2500, &mut rng);
            let picture = ScatterPlot::fit(480, 480, &[&real, &samples])
                .real(&real)
                .fake(&samples)
                .render();
            (samples, picture)
        }
    };
    fs::write(out.join("metrics.csv"), &csv)
        .map_err(|e| RunError(format!("cannot write metrics.csv: {e}")))?;
    nn::io::save_npy(out.join("samples.npy"), &samples).map_err(|e| RunError(e.to_string()))?;
    picture
        .write_png(out.join("samples.png"))
        .map_err(|e| RunError(format!("cannot write samples.png: {e}")))?;
    let mut rep = Report::new(format!("minimax train {name} --data {}", data.spec()));
    rep.table("Final measurements", &metrics);
    rep.image("Samples", &picture);
    rep.svg(
        "Loss",
        LineChart::new("loss")
            .x_label("step")
            .series("loss", &losses)
            .to_svg(),
    );
    rep.write(out.join("report.html"))
        .map_err(|e| RunError(format!("cannot write report.html: {e}")))?;
    Ok(RunSummary {
        steps,
        interrupted: false,
        metrics,
        seconds: t0.elapsed().as_secs_f64(),
    })
}
