//! The one run loop every method trains in, as `minimax train` performs it: data and the method
//! from a [`RunConfig`], the iteration loop with live progress, periodic atomic checkpoints,
//! Ctrl-C saving, bit-for-bit resume, NaN stops naming the term, `metrics.csv` whose columns come
//! from the method's records, and the run folder (`checkpoint.safetensors`, `metrics.csv`,
//! `samples.npy`, `samples.png`, `report.html`).
//!
//! Nothing here names a method: the loop sees a [`Method`]. What is measured at the end is
//! chosen by the data (modes for the 2-D mixtures, the digit classifier for the digits, the true
//! JSD for the 1-D Gaussian), plus the figures the method adds ([`Method::evaluate`]).
//!
//! # The checkpoint format
//!
//! One safetensors file per run. Each network's tensors are stored under its name
//! ([`Method::networks`]: `gen.0.weight`, `disc.2.running_mean`, `enc.…`, with PyTorch's
//! layouts), each optimizer's state under its name ([`Method::optimizers`]), the training
//! generator as `train`, the method's other state ([`Method::state`]) as extra tensors
//! `state.NAME`, and in the metadata: `format` = `minimax-run-1`, `method`, `data`,
//! `sample_shape` (`1x8x8`), `step`, `seed` and `option.NAME` for every option of the method.
//! [`load_run`] rebuilds any method from it, validating the metadata before anything is
//! allocated from it.

pub use crate::data::DataSpec;
use crate::data::{Data, Dataset, Gaussian1d};
use crate::method::{DataInfo, Method, MethodInfo, Options, Record};
use crate::methods;
use crate::metrics::{evaluate_digits, jsd_1d, kde_1d, DigitClassifier};
use crate::report::svg::{Style, PALETTE};
use crate::report::{image_grid, Image, LineChart, Picture, Report, ScatterPlot};
use crate::watch::{Curves, Watch};
use nn::checkpoint::Extras;
use nn::{load_checkpoint, save_checkpoint, Group, Module};
use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tensor::{DType, Rng, Tensor};

/// Everything `minimax train NAME` needs.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The method.
    pub method: &'static MethodInfo,
    /// Its options (checked, defaults filled in).
    pub options: Options,
    /// Data.
    pub data: DataSpec,
    /// Iterations to reach (counting those of a resumed run).
    pub steps: usize,
    /// Seed of the networks and of every training draw.
    pub seed: u64,
    /// Run folder.
    pub out: PathBuf,
    /// Continue from `out/checkpoint.safetensors`.
    pub resume: bool,
    /// Iterations between logged rows and checkpoints.
    pub log_every: usize,
}

impl RunConfig {
    /// The method called `name` with its defaults (its default data and iterations), seed 0,
    /// writing to `out`; change the fields or call [`RunConfig::options`] to adjust.
    pub fn new(name: &str, out: impl Into<PathBuf>) -> Result<RunConfig, RunError> {
        let method = methods::find(name).ok_or_else(|| {
            RunError(format!(
                "unknown method '{name}' (methods: {})",
                methods::names()
            ))
        })?;
        Ok(RunConfig {
            method,
            options: Options::defaults(method),
            data: DataSpec::parse(method.default_data).expect("a method's default data parses"),
            steps: method.default_steps,
            seed: 0,
            out: out.into(),
            resume: false,
            log_every: 50,
        })
    }

    /// Sets options of the method (as on the command line: `("batch", "32")`, a switch as
    /// `("no-clamp", "true")`), keeping the others.
    pub fn options(mut self, given: &[(&str, &str)]) -> Result<RunConfig, RunError> {
        let mut all: Vec<(String, String)> = self
            .options
            .pairs()
            .into_iter()
            .filter(|(k, _)| self.options.was_given(k))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for (k, v) in given {
            all.retain(|(n, _)| n != k);
            all.push((k.to_string(), v.to_string()));
        }
        self.options = Options::parse(self.method, &all).map_err(RunError)?;
        Ok(self)
    }
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

// ---------------------------------------------------------------------------------------------
// The checkpoint
// ---------------------------------------------------------------------------------------------

/// The `format` metadata of a run checkpoint.
pub const FORMAT: &str = "minimax-run-1";
/// The largest example a checkpoint may describe, in values (what `sample_shape` may multiply
/// to).
const MAX_EXAMPLE: usize = crate::data::MAX_EXAMPLE;

fn shape_string(shape: &[usize]) -> String {
    shape
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("x")
}

/// What a checkpoint says about its run besides the tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct RunMeta {
    /// The method's options.
    pub options: Options,
    /// The `--data` it trained on.
    pub data: String,
    /// The shape of one example.
    pub shape: Vec<usize>,
    /// The run's seed.
    pub seed: u64,
}

/// Writes a method's networks, optimizers, generator, state and `meta` to `path`, atomically.
pub fn save_run(method: &dyn Method, meta: &RunMeta, path: &Path) -> Result<(), RunError> {
    let nets = method.networks();
    let group = Group::new(&nets);
    let mut ex = Extras::new();
    for (name, opt) in method.optimizers() {
        ex.optimizer(name, opt);
    }
    ex.rng("train", method.rng());
    for (name, t) in method.state() {
        ex.tensor(&format!("state.{name}"), &t);
    }
    ex.metadata("format", FORMAT)
        .metadata("method", method.info().name)
        .metadata("data", &meta.data)
        .metadata("sample_shape", &shape_string(&meta.shape))
        .metadata("step", &method.iterations().to_string())
        .metadata("seed", &meta.seed.to_string());
    for (k, v) in meta.options.pairs() {
        ex.metadata(&format!("option.{k}"), v);
    }
    save_checkpoint(path, &group, &ex).map_err(|e| RunError(e.to_string()))
}

/// A method rebuilt from a checkpoint, for `minimax sample`, `inspect` and `--resume`.
pub struct Loaded {
    /// The method with its networks, optimizers, generator, state and iteration count restored.
    pub method: Box<dyn Method>,
    /// The run's options, data, example shape and seed.
    pub meta: RunMeta,
    /// Everything else in the file (all metadata, for `inspect`).
    pub extras: nn::LoadedExtras,
}

/// A module with nothing in it, to read a checkpoint's metadata before building anything.
struct Nothing;
impl Module for Nothing {
    fn forward(&self, x: &autograd::Var) -> autograd::Var {
        x.clone()
    }
    fn describe(&self) -> String {
        "Nothing".into()
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

/// The name and element count of the first tensor of `module` holding NaN or ±∞, with how many
/// such elements it has.
pub fn first_non_finite(module: &dyn Module) -> Option<(String, usize)> {
    first_beyond(module, f64::INFINITY)
}

/// A weight this large means the run has exploded: no network here has a use for it, and the
/// next steps would overflow.
pub const EXPLODED: f64 = 1e10;

/// The name of the first tensor of `module` holding NaN, ±∞ or a value of magnitude above
/// `limit`, with how many such values it has. Reads the values in place (no copy).
pub fn first_beyond(module: &dyn Module, limit: f64) -> Option<(String, usize)> {
    module
        .named_params()
        .into_iter()
        .chain(module.named_buffers())
        .find_map(|(name, p)| {
            let t = p.value().contiguous();
            let bad = match t.dtype() {
                DType::F32 => t
                    .as_slice::<f32>()
                    .iter()
                    .filter(|x| !(x.abs() as f64 <= limit))
                    .count(),
                DType::F64 => t
                    .as_slice::<f64>()
                    .iter()
                    .filter(|x| !(x.abs() <= limit))
                    .count(),
            };
            (bad > 0).then_some((name, bad))
        })
}

/// Reads a run checkpoint and rebuilds its method: the metadata is validated first (method
/// known, options within their ranges, the example shape bounded), then the networks are built
/// and loaded strictly (every tensor present with its shape), and optimizers, generator, state
/// and iteration count restored. Weights holding NaN, ±∞ or values beyond [`EXPLODED`] are
/// refused, naming the tensor, unless `allow_non_finite` (for `inspect`).
pub fn load_run(path: &Path, allow_non_finite: bool) -> Result<Loaded, RunError> {
    let file = path.display();
    let probe = nn::checkpoint::load_checkpoint_with(path, &Nothing, false)
        .map_err(|e| RunError(e.to_string()))?;
    let meta = |key: &str| {
        probe.metadata_value(key).ok_or_else(|| {
            RunError(format!(
                "{file}: not a minimax run checkpoint (its metadata has no '{key}')"
            ))
        })
    };
    if meta("format")? != FORMAT {
        return Err(RunError(format!(
            "{file}: checkpoint format '{}' is not '{FORMAT}', the one this version reads",
            meta("format")?
        )));
    }
    let name = meta("method")?;
    let info = methods::find(name).ok_or_else(|| {
        RunError(format!(
            "{file}: the checkpoint is of method '{name}', which this version does not know (methods: {})",
            methods::names()
        ))
    })?;
    let given: Vec<(String, String)> = probe
        .metadata()
        .into_iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("option.")
                .map(|k| (k.to_string(), v.to_string()))
        })
        .collect();
    let options =
        Options::parse(info, &given).map_err(|e| RunError(format!("{file}: metadata: {e}")))?;
    let shape_s = meta("sample_shape")?;
    let shape: Option<Vec<usize>> = shape_s.split('x').map(|d| d.parse().ok()).collect();
    let shape = match shape {
        Some(s)
            if !s.is_empty()
                && s.len() <= 3
                && s.iter().all(|&d| d >= 1)
                && s.iter()
                    .try_fold(1usize, |a, &d| a.checked_mul(d))
                    .is_some_and(|n| n <= MAX_EXAMPLE) =>
        {
            s
        }
        _ => {
            return Err(RunError(format!(
                "{file}: metadata 'sample_shape' is '{shape_s}'; expected 1 to 3 sizes like 1x8x8 with at most {MAX_EXAMPLE} values"
            )))
        }
    };
    let number = |key: &str, max: u64| -> Result<u64, RunError> {
        let v = meta(key)?;
        v.parse::<u64>().ok().filter(|&n| n <= max).ok_or_else(|| {
            RunError(format!(
                "{file}: metadata '{key}' is '{v}', not a whole number up to {max}"
            ))
        })
    };
    let step = number("step", 1 << 40)? as usize;
    let seed = number("seed", u64::MAX)?;
    let data = meta("data")?.to_string();
    let mut method = (info.build)(
        &options,
        &DataInfo {
            spec: data.clone(),
            shape: shape.clone(),
        },
        seed,
    )
    .map_err(|e| RunError(format!("{file}: {e}")))?;
    let extras = {
        let nets = method.networks();
        let group = Group::new(&nets);
        let ex = load_checkpoint(path, &group).map_err(|e| RunError(e.to_string()))?;
        if !allow_non_finite {
            if let Some((name, bad)) = first_beyond(&group, EXPLODED) {
                return Err(RunError(format!(
                    "{file}: tensor '{name}' holds {bad} NaN, infinite or exploded (beyond {EXPLODED:e}) value(s); the weights are unusable (`minimax inspect --allow-non-finite` shows them)"
                )));
            }
        }
        ex
    };
    for (name, opt) in method.optimizers_mut() {
        extras
            .restore_optimizer(name, opt)
            .map_err(|e| RunError(e.to_string()))?;
    }
    method.set_rng(extras.rng("train").map_err(|e| RunError(e.to_string()))?);
    let mut state = Vec::new();
    for n in extras.tensor_names() {
        if let Some(k) = n.strip_prefix("state.") {
            state.push((
                k.to_string(),
                extras.tensor(n).map_err(|e| RunError(e.to_string()))?,
            ));
        }
    }
    method.set_iterations(step);
    method
        .restore_state(&state)
        .map_err(|e| RunError(format!("{file}: method state: {e}")))?;
    Ok(Loaded {
        method,
        meta: RunMeta {
            options,
            data,
            shape,
            seed,
        },
        extras,
    })
}

// ---------------------------------------------------------------------------------------------
// The loop
// ---------------------------------------------------------------------------------------------

/// The rows of `metrics.csv`: `step`, the record's keys, `seconds`.
struct Metrics {
    keys: Vec<&'static str>,
    rows: Vec<Vec<f64>>,
}

impl Metrics {
    fn header(&self) -> String {
        let mut h = vec!["step"];
        h.extend(&self.keys);
        h.push("seconds");
        h.join(",")
    }
    fn csv(&self) -> String {
        let mut s = self.header();
        s.push('\n');
        for r in &self.rows {
            let cells: Vec<String> = r.iter().map(|v| v.to_string()).collect();
            s.push_str(&cells.join(","));
            s.push('\n');
        }
        s
    }
    /// Rows of an earlier `metrics.csv` with the same columns, up to `step`.
    fn read(&mut self, text: &str, step: usize) {
        let mut lines = text.lines();
        if lines.next() != Some(self.header().as_str()) {
            return;
        }
        let width = self.keys.len() + 2;
        self.rows = lines
            .map(|l| {
                l.split(',')
                    .map(|c| c.parse::<f64>().unwrap_or(f64::NAN))
                    .collect::<Vec<_>>()
            })
            .filter(|r| r.len() == width && r[0] <= step as f64)
            .collect();
    }
}

/// Removes temporary files an interrupted save left in the run folder.
fn remove_stale_temporaries(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("checkpoint.safetensors.tmp-") || name.ends_with(".csv.tmp") {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// Checks the data, builds (or, with `resume`, reloads) the method, and trains it as
/// configured, writing the run folder. `progress` receives a one-line status after every
/// iteration. Nothing is written before the data, the method and the options are checked.
pub fn train(cfg: &RunConfig, progress: &mut dyn FnMut(&str)) -> Result<RunSummary, RunError> {
    let t0 = Instant::now();
    let info = cfg.method;
    let data = if info.holds_out {
        cfg.data.open_held_out()
    } else {
        cfg.data.open()
    }
    .map_err(|e| RunError(e.to_string()))?;
    if !data.gives(info.takes) {
        let gives: Vec<&str> = data.kinds().iter().map(|k| k.name()).collect();
        return Err(RunError(format!(
            "{} trains on {} batches, but --data {} gives {} ones",
            info.name,
            info.takes.name(),
            cfg.data.spec(),
            gives.join(" or ")
        )));
    }
    let shape = data.sample_shape();
    let ckpt = cfg.out.join("checkpoint.safetensors");
    let mut meta = RunMeta {
        options: cfg.options.clone(),
        data: cfg.data.spec(),
        shape: shape.clone(),
        seed: cfg.seed,
    };
    let mut method = if cfg.resume {
        if !ckpt.exists() {
            return Err(RunError(format!(
                "--resume: there is no checkpoint at {} (start without --resume, or point --out at an earlier run)",
                ckpt.display()
            )));
        }
        let loaded = load_run(&ckpt, false)?;
        let was = &loaded.meta;
        let name = loaded.method.info().name;
        if name != info.name {
            return Err(RunError(format!(
                "--resume: the checkpoint is of method '{name}', but this run is '{}'",
                info.name
            )));
        }
        if was.data != meta.data {
            return Err(RunError(format!(
                "--resume: the checkpoint was trained with --data {}, but this run asks for --data {}",
                was.data, meta.data
            )));
        }
        // options given now must agree with the checkpoint's; the others are the checkpoint's
        for ((k, have), (_, want)) in was.options.pairs().into_iter().zip(cfg.options.pairs()) {
            if cfg.options.was_given(k) && have != want {
                return Err(RunError(format!(
                    "--resume: the checkpoint was trained with --{k} {have}, but this run asks for --{k} {want} (resume without --{k}, or start a new run)"
                )));
            }
        }
        meta = RunMeta {
            options: was.options.clone(),
            seed: was.seed,
            ..meta
        };
        loaded.method
    } else {
        (info.build)(
            &cfg.options,
            &DataInfo {
                spec: meta.data.clone(),
                shape: shape.clone(),
            },
            cfg.seed,
        )
        .map_err(RunError)?
    };
    fs::create_dir_all(&cfg.out).map_err(|e| {
        RunError(format!(
            "cannot create the run folder {}: {e}",
            cfg.out.display()
        ))
    })?;
    remove_stale_temporaries(&cfg.out);
    let metrics_path = cfg.out.join("metrics.csv");
    let mut metrics = Metrics {
        keys: Vec::new(),
        rows: Vec::new(),
    };
    let mut earlier = if cfg.resume {
        fs::read_to_string(&metrics_path).ok()
    } else {
        None
    };
    let write_csv = |m: &Metrics| -> Result<(), RunError> {
        let tmp = metrics_path.with_extension("csv.tmp");
        fs::write(&tmp, m.csv())
            .and_then(|_| fs::rename(&tmp, &metrics_path))
            .map_err(|e| RunError(format!("cannot write {}: {e}", metrics_path.display())))
    };
    let start = method.iterations();
    // what the report shows besides metrics.csv: every iteration's figures, and on 1-D and 2-D
    // data the densities, the JSD and D's decision surface through the run
    let mut watch = Watch::new(&data, &shape, start, cfg.steps);
    watch.at_start(method.as_ref(), &data);
    let started = Instant::now();
    let mut stopped_by_user = false;
    let kept = |ckpt: &Path| {
        if ckpt.exists() {
            format!("the last good checkpoint ({}) is kept", ckpt.display())
        } else {
            "no checkpoint was written yet".to_string()
        }
    };
    while method.iterations() < cfg.steps {
        if interrupted() {
            stopped_by_user = true;
            watch.at_stop(method.as_ref(), &data);
            break;
        }
        let ts = Instant::now();
        let mut rec: Record = match method.step(&data) {
            Ok(r) => r,
            Err(e) => {
                write_csv(&metrics)?;
                return Err(RunError(format!("training stopped: {e}; {}", kept(&ckpt))));
            }
        };
        let seconds = ts.elapsed().as_secs_f64();
        add_grad_norms(&mut rec, method.as_ref());
        let step = method.iterations();
        // an update that made a weight non-finite or exploded stops the run before it is saved
        let nets = method.networks();
        if let Some((name, bad)) = first_beyond(&Group::new(&nets), EXPLODED) {
            write_csv(&metrics)?;
            return Err(RunError(format!(
                "training stopped: step {step}: the update made {bad} value(s) of '{name}' NaN, infinite or larger than {EXPLODED:e} in magnitude (try a lower --lr); {}",
                kept(&ckpt)
            )));
        }
        drop(nets);
        if metrics.keys.is_empty() {
            metrics.keys = rec.keys();
            if let Some(text) = earlier.take() {
                metrics.read(&text, start);
                watch.curves.earlier(&metrics.keys, &metrics.rows);
            }
        }
        watch.after_step(method.as_ref(), &data, step, &rec);
        let done = step - start;
        let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-9);
        let eta = (cfg.steps.saturating_sub(step)) as f64 / rate.max(1e-9);
        progress(&format!(
            "step {step}/{} {} | {rate:.1} it/s, ETA {eta:.0}s",
            cfg.steps,
            rec.summary()
        ));
        if step % cfg.log_every == 0 || step == cfg.steps {
            let mut row = vec![step as f64];
            row.extend(rec.figures.iter().map(|f| f.value));
            row.push(seconds);
            metrics.rows.push(row);
            write_csv(&metrics)?;
            save_run(method.as_ref(), &meta, &ckpt)?;
        }
    }
    if metrics.keys.is_empty() {
        if let Some(text) = earlier.take() {
            // nothing was trained in this invocation: keep what was logged
            let _ = fs::write(&metrics_path, text);
        }
    } else {
        write_csv(&metrics)?;
    }
    save_run(method.as_ref(), &meta, &ckpt)?;
    let figures = finish(method.as_ref(), cfg, &meta, &data, &metrics, &watch)?;
    Ok(RunSummary {
        steps: method.iterations(),
        interrupted: stopped_by_user,
        metrics: figures,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// The 2-D samples over D's decision surface (D's probability that a point is real, on a
/// grid), or `None` for a method without a sigmoid D or without samples.
fn scatter_with_surface(method: &dyn Method, data: &dyn Dataset, size: usize) -> Option<Image> {
    let mut rng = Rng::seed(7);
    let real = data.sample(1000, &mut rng);
    let fake = method.sample(1000, &mut rng)?;
    let plot = ScatterPlot::fit(size, size, &[&real, &fake]);
    let (nx, ny) = (72, 72);
    let grid = plot.surface_points(nx, ny);
    let probs = method
        .discriminate(&grid.to_dtype(DType::F32))?
        .to_vec_f64();
    Some(
        plot.surface(&probs, nx, ny)
            .real(&real)
            .fake(&fake)
            .render_labelled(SCATTER_LEGEND, "shading: D(x), blue above 0.5"),
    )
}

/// The legend of the 2-D `samples.png`.
const SCATTER_LEGEND: &[(&str, [u8; 3])] = &[
    ("data", crate::report::png::REAL_COLOR),
    ("generated", crate::report::png::FAKE_COLOR),
];

fn finish(
    method: &dyn Method,
    cfg: &RunConfig,
    meta: &RunMeta,
    data: &Data,
    history: &Metrics,
    watch: &Watch,
) -> Result<Vec<(String, String)>, RunError> {
    let shape = &meta.shape;
    let mut figures: Vec<(String, String)> =
        vec![("iterations".into(), method.iterations().to_string())];
    let mut rep = Report::new(format!(
        "minimax train {} --data {}",
        method.info().name,
        meta.data
    ));
    let opts: Vec<String> = meta
        .options
        .pairs()
        .iter()
        .map(|(k, v)| format!("--{k} {v}"))
        .collect();
    rep.paragraph(format!(
        "{} iterations, seed {}, options: {}.",
        method.iterations(),
        meta.seed,
        opts.join(" ")
    ));
    let mut rng = Rng::seed(meta.seed.wrapping_add(99));
    // the sections under the table of final measurements, in the order they are shown
    let mut body = Report::new("");
    let mut pictures: Vec<(String, Picture)> = Vec::new();
    // a conditional method is sampled with the classes in turn, and its samples saved with them
    let labels: Option<Vec<usize>> =
        (method.classes() > 0).then(|| (0..2500).map(|i| i % method.classes()).collect());
    let before = rng.clone();
    let drawn = match &labels {
        Some(l) => method.sample_classes(l, &mut rng),
        None => method.sample(2500, &mut rng),
    };
    if let Some(samples) = drawn {
        let saved = for_saving(&samples, shape);
        let io = |e: nn::format::FormatError| RunError(e.to_string());
        nn::io::save_npy(cfg.out.join("samples.npy"), &saved).map_err(io)?;
        if let Some(l) = &labels {
            let l: Vec<i64> = l.iter().map(|&c| c as i64).collect();
            nn::format::npy::save_npy(
                &cfg.out.join("labels.npy"),
                &nn::format::RawTensor::from_i64(&[l.len()], &l),
            )
            .map_err(io)?;
            for (name, t) in method.files(labels.as_deref().unwrap_or(&[]), &mut before.clone()) {
                nn::format::npy::save_npy(&cfg.out.join(name), &t).map_err(io)?;
            }
        }
        let picture = if shape.len() >= 2 {
            figures.extend(image_metrics(&cfg.data, &samples, labels.as_deref()));
            let n = 100.min(samples.dims()[0]);
            let scale = if shape[shape.len() - 1] <= 8 { 4 } else { 2 };
            let real = data.train.sample(n, &mut Rng::seed(5));
            let generated = image_grid(&samples.narrow(0, 0, n), 10, 1, scale);
            body.images(
                grid_caption(n, shape, scale, method.classes()),
                &[
                    ("generated", &generated),
                    ("real (training examples)", &image_grid(&real, 10, 1, scale)),
                ],
            );
            generated
        } else if *shape == [2] {
            if let Some(modes) = data.train.modes() {
                let m = modes.report(&samples);
                figures.push((
                    "modes covered".into(),
                    format!("{} / {}", m.modes_covered, m.num_modes()),
                ));
                figures.push((
                    "high-quality samples".into(),
                    format!("{:.1} %", 100.0 * m.high_quality_frac),
                ));
                figures.push((
                    "reverse KL of the mode histogram".into(),
                    m.reverse_kl_text(),
                ));
            }
            watch.draw_data_sections(&mut body, data);
            match scatter_with_surface(method, data.train.as_ref(), 480) {
                Some(img) => img,
                None => {
                    let real = data.train.sample(2500, &mut rng);
                    ScatterPlot::fit(480, 480, &[&real, &samples])
                        .real(&real)
                        .fake(&samples)
                        .render_labelled(SCATTER_LEGEND, "2,500 of each")
                }
            }
        } else {
            let s = samples.to_vec_f64();
            let real = data.train.sample(2500, &mut rng).to_vec_f64();
            if cfg.data == DataSpec::Gauss1d {
                let truth = Gaussian1d::new(4.0, 1.25);
                let kde = kde_1d(&s, None);
                let jsd = jsd_1d(|x| truth.pdf(x), |x| kde.pdf(x), -6.0, 14.0, 4000);
                figures.push((
                    "true JSD(data ‖ G) (KDE of 2,500 samples)".into(),
                    format!("{jsd:.4}"),
                ));
                let jsd = history.keys.iter().position(|k| *k == "jsd");
                if let Some(last) = jsd.and_then(|i| history.rows.last().map(|r| r[i + 1])) {
                    figures.push((
                        "D's estimate (V + ln 4)/2 at the last logged step".into(),
                        format!("{last:.4}"),
                    ));
                }
            }
            if *shape == [1] {
                watch.draw_data_sections(&mut body, data);
            } else {
                body.svg(
                    format!(
                        "Every coordinate of 2,500 generated and 2,500 real examples pooled (the \
                         examples have {} coordinates), as kernel density estimates.",
                        shape[0]
                    ),
                    pooled_density_chart(&s, &real),
                );
            }
            histogram_image(&s, &real, 480, 240)
        };
        picture
            .write_png(cfg.out.join("samples.png"))
            .map_err(|e| RunError(format!("cannot write samples.png: {e}")))?;
    }
    // a method that translates is measured on the held-out pairs (or the held-out first domain)
    if let Some((a, b)) = data
        .test
        .as_ref()
        .and_then(|t| t.examples_paired())
        .or_else(|| data.train.examples_paired())
    {
        if let Some(out) = method.translate(&a) {
            let io = |e: nn::format::FormatError| RunError(e.to_string());
            nn::io::save_npy(cfg.out.join("samples.npy"), &for_saving(&out, shape)).map_err(io)?;
            nn::io::save_npy(cfg.out.join("sources.npy"), &for_saving(&a, shape)).map_err(io)?;
            figures.extend(translation_metrics(&out, &b));
            if a.dims() == b.dims() {
                // the baseline every translation must beat: the input itself
                let l1 = a.sub(&b).abs().mean_all().item() / 2.0;
                figures.push((
                    "doing nothing (output = input): L1 to the truth".into(),
                    format!("{l1:.4}"),
                ));
            }
            let n = 50.min(out.dims()[0]);
            let idx: Vec<usize> = (0..n).map(|i| (i * 131) % out.dims()[0]).collect();
            let rows: Vec<Tensor> = idx
                .iter()
                .flat_map(|&i| [a.narrow(0, i, 1), out.narrow(0, i, 1), b.narrow(0, i, 1)])
                .collect();
            let grid = Tensor::cat(&rows.iter().collect::<Vec<_>>(), 0);
            let picture = image_grid(&grid, 15, 1, 2);
            picture
                .write_png(cfg.out.join("samples.png"))
                .map_err(|e| RunError(format!("cannot write samples.png: {e}")))?;
            pictures.insert(
                0,
                (
                    "Held-out inputs (A), their translations G(A) and the truths (B), in threes \
                     along each row; pixel values from −1 (black) to +1 (white)"
                        .into(),
                    picture.into(),
                ),
            );
        }
    }
    // a method that translates between two unpaired domains is measured on X's held-out examples
    if let (DataSpec::Unpaired(xs, ys), Some(x_set)) =
        (&data.spec, data.test.as_ref().or(Some(&data.train)))
    {
        // each domain's classifier is trained once and serves every figure of its domain
        let y_clf = classifier_for(ys);
        if let (Some(x), Some(labels)) = (x_set.examples(), x_set.example_labels()) {
            if let Some(out) = method.translate(&x) {
                let io = |e: nn::format::FormatError| RunError(e.to_string());
                nn::io::save_npy(cfg.out.join("samples.npy"), &for_saving(&out, shape))
                    .map_err(io)?;
                nn::io::save_npy(cfg.out.join("sources.npy"), &for_saving(&x, shape))
                    .map_err(io)?;
                let l: Vec<i64> = labels.iter().map(|&c| c as i64).collect();
                nn::format::npy::save_npy(
                    &cfg.out.join("labels.npy"),
                    &nn::format::RawTensor::from_i64(&[l.len()], &l),
                )
                .map_err(io)?;
                figures.extend(preservation(y_clf.as_ref(), "X→Y", &out, &labels));
                figures.extend(preservation(
                    y_clf.as_ref(),
                    "doing nothing (G = identity)",
                    &x,
                    &labels,
                ));
                let n = 20.min(x.dims()[0]);
                let idx: Vec<usize> = (0..n).map(|i| (i * 37 + i / 10) % x.dims()[0]).collect();
                let rows: Vec<Tensor> =
                    [&x, &out].iter().map(|t| t.index_select(0, &idx)).collect();
                let grid = Tensor::cat(&rows.iter().collect::<Vec<_>>(), 0);
                let scale = if shape[shape.len() - 1] <= 8 { 4 } else { 2 };
                let picture = image_grid(&grid, n, 1, scale);
                picture
                    .write_png(cfg.out.join("samples.png"))
                    .map_err(|e| RunError(format!("cannot write samples.png: {e}")))?;
                pictures.insert(
                    0,
                    (
                        format!(
                            "{n} held-out sources (top row) and their translations (bottom row); \
                             pixel values from −1 (black) to +1 (white)"
                        ),
                        picture.into(),
                    ),
                );
            }
        }
        // the reverse direction, on the held-out examples of Y's classifier
        if let Some((clf, _)) = &y_clf {
            let y = clf.held_out().images().clone();
            if let Some(back) = method.translate_reverse(&y) {
                let x_clf = classifier_for(xs);
                figures.extend(preservation(
                    x_clf.as_ref(),
                    "Y→X",
                    &back,
                    clf.held_out().labels(),
                ));
            }
        }
    }
    figures.extend(method.evaluate(data));
    pictures.extend(method.pictures(data));
    rep.table("Final measurements", &figures);
    rep.append(body);
    for (caption, picture) in &pictures {
        rep.picture(caption.clone(), picture);
    }
    curve_charts(&mut rep, method.info().charts, &watch.curves, cfg.log_every);
    rep.write(cfg.out.join("report.html"))
        .map_err(|e| RunError(format!("cannot write report.html: {e}")))?;
    Ok(figures)
}

/// The caption of the generated grid beside the real one: what each is, the scale, the
/// colours, and for a conditional method which class each sample was asked for.
fn grid_caption(n: usize, shape: &[usize], scale: usize, classes: usize) -> String {
    let (h, w) = (shape[shape.len() - 2], shape[shape.len() - 1]);
    let colours = if shape.len() == 3 && shape[0] == 3 {
        "each colour channel from −1 (none) to +1 (full)"
    } else {
        "grey levels from −1 (black) to +1 (white), the data's range"
    };
    let mut c = format!(
        "{n} generated samples (left) beside {n} training examples (right), 10 per row, at the same \
         scale: each {h}×{w} image drawn {scale}× larger, with grey lines between images; \
         {colours}."
    );
    if classes == 10 {
        c.push_str(" Sample i was asked for class i mod 10, so column k holds class k.");
    } else if classes > 0 {
        c.push_str(&format!(
            " Sample i was asked for class i mod {classes}, reading row by row."
        ));
    }
    c
}

/// A density chart of every coordinate of `samples` and `real` pooled, for examples that are
/// vectors of more than 2 values.
fn pooled_density_chart(samples: &[f64], real: &[f64]) -> String {
    let finite = |v: &[f64]| -> Vec<f64> { v.iter().cloned().filter(|x| x.is_finite()).collect() };
    let (g, r) = (finite(samples), finite(real));
    let mut chart = LineChart::new("All coordinates pooled")
        .x_label("value of a coordinate (no unit)")
        .y_label("density (per unit of value)");
    if g.is_empty() || r.is_empty() {
        return chart.to_svg();
    }
    let lo = g.iter().chain(&r).cloned().fold(f64::INFINITY, f64::min);
    let hi = g
        .iter()
        .chain(&r)
        .cloned()
        .fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, hi + 1.0)
    };
    let grid: Vec<f64> = (0..241)
        .map(|i| lo + (hi - lo) * i as f64 / 240.0)
        .collect();
    for (name, v, color) in [
        ("real examples", &r, PALETTE[0]),
        ("generated by G", &g, PALETTE[1]),
    ] {
        let kde = crate::metrics::kde_1d(v, None);
        let pts: Vec<(f64, f64)> = grid.iter().map(|&x| (x, kde.pdf(x))).collect();
        chart = chart.series_styled(name, &pts, Style::default().color(color).width(2.0));
    }
    chart.to_svg()
}

/// The method's charts, drawn from every kept iteration, then a chart of the gradient norms
/// the method logs that none of its charts draws.
fn curve_charts(rep: &mut Report, charts: &[(&str, &[&str])], curves: &Curves, log_every: usize) {
    let every = match curves.every() {
        1 => "every iteration".to_string(),
        k => format!("one iteration in {k}"),
    };
    let earlier = if curves.start() > 0 {
        format!(
            " (up to iteration {}, where this invocation resumed, the rows of metrics.csv)",
            curves.start()
        )
    } else {
        String::new()
    };
    let when = format!(
        "at {every}{earlier}; metrics.csv itself keeps one row every {log_every} iterations"
    );
    let mut drawn: Vec<&str> = Vec::new();
    for (title, keys) in charts {
        curve_chart(rep, title, keys, curves, &when);
        drawn.extend(keys.iter());
    }
    let grads: Vec<&str> = curves
        .keys()
        .iter()
        .cloned()
        .filter(|k| k.contains("grad_norm") && !drawn.contains(k))
        .collect();
    if !grads.is_empty() {
        curve_chart(rep, "Gradient norms", &grads, curves, &when);
    }
}

/// One chart of the columns `keys` over the iterations (those with a finite value), each later
/// line thinner than the one before, so a line drawn over another leaves its edges visible.
fn curve_chart(rep: &mut Report, title: &str, keys: &[&str], curves: &Curves, when: &str) {
    let grad = keys.iter().all(|k| k.contains("grad_norm"));
    let mut chart = LineChart::new(title).x_label("iteration").y_label(if grad {
        "L2 norm of the gradient (no unit)"
    } else {
        "value (no unit)"
    });
    let mut shown = Vec::new();
    for k in keys {
        let s = curves.series(k);
        if s.iter().any(|p| p.1.is_finite()) {
            let width = (2.6 - 0.8 * shown.len() as f64).max(0.8);
            chart = chart.series_styled(*k, &s, Style::default().width(width));
            shown.push(*k);
        }
    }
    if shown.is_empty() {
        return;
    }
    let (what, thinner) = if shown.len() == 1 {
        ("column", "")
    } else {
        (
            "columns",
            " Each line is drawn thinner than the one before it, so none hides another.",
        )
    };
    rep.svg(
        format!(
            "{title}: the {what} {} of metrics.csv (named in the legend) {when}.{thinner}",
            shown.join(", ")
        ),
        chart.to_svg(),
    );
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
        // real counts in the left half of each bin, generated ones in the right half
        for (half, c, color) in [(0, cr[b], [70u8, 110, 220]), (1, cs[b], [220u8, 80, 60])] {
            let bh = (c as f64 / top * (h as f64 - 4.0)) as usize;
            let x0 = b * w / bins;
            let x1 = ((b + 1) * w / bins).max(x0 + 1);
            let x0 = x0 + half * (x1 - x0) / 2;
            for y in h - bh..h {
                for x in x0..x1.min(w) {
                    let i = (y * w + x) * 3;
                    px[i..i + 3].copy_from_slice(&color);
                }
            }
        }
    }
    let plot = Image {
        width: w,
        height: h,
        channels: 3,
        pixels: px,
    };
    let (xs, xv) = crate::report::nice_ticks(lo, hi, 8);
    let xt: Vec<(f64, String)> = xv
        .iter()
        .map(|&v| {
            (
                (v - lo) / (hi - lo + 1e-12) * w as f64,
                crate::report::format_tick(v, xs),
            )
        })
        .collect();
    let (ys, yv) = crate::report::nice_ticks(0.0, top, 5);
    let yt: Vec<(f64, String)> = yv
        .iter()
        .map(|&c| {
            (
                h as f64 - c / top * (h as f64 - 4.0),
                crate::report::format_tick(c, ys),
            )
        })
        .collect();
    crate::report::png::labelled_frame(
        &plot,
        &xt,
        &yt,
        &[("data", [70, 110, 220]), ("generated", [220, 80, 60])],
        "60 bins: samples per bin",
    )
}

/// Samples scaled for saving: images to [0, 1] (tanh output is in [−1, 1]); points as they are.
fn for_saving(samples: &Tensor, shape: &[usize]) -> Tensor {
    if shape.len() >= 2 {
        samples.add_scalar(1.0).mul_scalar(0.5).clamp(0.0, 1.0)
    } else {
        samples.clone()
    }
}

/// How a classifier of the data's digits (trained here, seeded) judges generated 8×8 digits —
/// the same figures for every method, so they can be compared: the handwritten digits' for
/// `digits`, the printed digits' for `printed8`, nothing for other data. With `labels` (a
/// conditional method's requested classes), also how often the classifier reads the requested
/// class.
fn image_metrics(
    data: &DataSpec,
    samples: &Tensor,
    labels: Option<&[usize]>,
) -> Vec<(String, String)> {
    let (clf, what) = match data {
        DataSpec::Digits => (DigitClassifier::train(0), "digits"),
        DataSpec::Printed(crate::data::Resolution::R8) => {
            (DigitClassifier::train_printed(0), "printed digits")
        }
        DataSpec::Printed(crate::data::Resolution::R32) => return printed_metrics(samples, labels),
        _ => return Vec::new(),
    };
    let r = evaluate_digits(&clf, samples, clf.held_out().images());
    // the same figure for real held-out digits: what "confident" means for this classifier
    let real_confident = clf.confident_fraction(clf.held_out().images());
    let mut out = vec![
        (
            format!("classifier held-out accuracy ({what})"),
            format!("{:.1} %", 100.0 * clf.held_out_accuracy()),
        ),
        (
            format!("held-out real {what} classified with p > 0.9"),
            format!("{:.1} %", 100.0 * real_confident),
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
            format!("Fréchet distance to held-out {what} (classifier features)"),
            format!("{:.2}", r.frechet),
        ),
    ];
    if let Some(l) = labels {
        let pred = clf.predict(samples);
        let agree = pred.iter().zip(l).filter(|(p, l)| p == l).count();
        out.push((
            "label agreement (classifier reads the requested class)".into(),
            format!("{:.3}", agree as f64 / l.len() as f64),
        ));
    }
    out
}

/// The digit classifier of a kind of data, trained here (seeded): the handwritten digits', the
/// printed digits' at 8×8, or none.
fn classifier_for(data: &DataSpec) -> Option<(DigitClassifier, &'static str)> {
    match data {
        DataSpec::Digits => Some((DigitClassifier::train(0), "handwritten digits")),
        DataSpec::Printed(crate::data::Resolution::R8) => {
            Some((DigitClassifier::train_printed(0), "printed digits"))
        }
        _ => None,
    }
}

/// How translations `out` of images of digits `labels` read to `target`, the target domain's
/// classifier and its name (none: no figures): the share read as the source's digit (label
/// preservation), the share read confidently, and the Fréchet distance to its held-out digits.
fn preservation(
    target: Option<&(DigitClassifier, &'static str)>,
    what: &str,
    out: &Tensor,
    labels: &[usize],
) -> Vec<(String, String)> {
    let Some((clf, name)) = target else {
        return Vec::new();
    };
    let r = evaluate_digits(&clf, out, clf.held_out().images());
    let pred = clf.predict(out);
    let kept = pred.iter().zip(labels).filter(|(p, l)| p == l).count();
    vec![
        (
            format!("{what}: label preservation ({name} classifier)"),
            format!("{:.3}", kept as f64 / labels.len().max(1) as f64),
        ),
        (
            format!("{what}: classified with p > 0.9"),
            format!("{:.1} %", 100.0 * r.confident_fraction),
        ),
        (
            format!("{what}: Fréchet distance to held-out {name}"),
            format!("{:.2}", r.frechet),
        ),
    ]
}

/// How the 32-px printed-digit classifier judges generated 32-px printed digits: the share it
/// reads confidently, the Fréchet distance of its features to the held-out glyphs, and for a
/// conditional method how often it reads the requested digit.
fn printed_metrics(samples: &Tensor, labels: Option<&[usize]>) -> Vec<(String, String)> {
    let clf = crate::metrics::PrintedClassifier::train(0);
    let conf = clf.confidence(samples);
    let confident = conf.iter().filter(|&&p| p > 0.9).count() as f64 / conf.len() as f64;
    let mut out = vec![
        (
            "classifier held-out accuracy (32-px printed digits)".to_string(),
            format!("{:.1} %", 100.0 * clf.digit_accuracy()),
        ),
        (
            "samples classified with p > 0.9".into(),
            format!("{:.1} %", 100.0 * confident),
        ),
        (
            "Fréchet distance to held-out printed digits (classifier features)".into(),
            format!("{:.2}", clf.frechet_to_held_out(samples)),
        ),
    ];
    if let Some(l) = labels {
        let pred = clf.predict(samples);
        let agree = pred.iter().zip(l).filter(|(p, l)| p == l).count();
        out.push((
            "label agreement (classifier reads the requested class)".into(),
            format!("{:.3}", agree as f64 / l.len() as f64),
        ));
    }
    out
}

/// How close translations are to their true counterparts (images `[N, 1, s, s]` in [−1, 1]):
/// the mean absolute difference on [0, 1] pixels, and — for images whose side is a multiple of
/// 8 — the Fréchet distance between the printed-digit classifier's features of both, the images
/// first averaged down to 8×8.
fn translation_metrics(out: &Tensor, truth: &Tensor) -> Vec<(String, String)> {
    let l1 = out.sub(truth).abs().mean_all().item() / 2.0;
    let mut v = vec![(
        "L1 to the truth on held-out pairs (pixels in [0, 1])".to_string(),
        format!("{l1:.4}"),
    )];
    let side = out.dims()[3];
    if out.dims()[1] == 1 && side % 8 == 0 && side >= 8 && out.dims()[0] >= 2 {
        let mut a = out.clone();
        let mut b = truth.clone();
        while a.dims()[3] > 8 {
            a = crate::data::downsample2(&a);
            b = crate::data::downsample2(&b);
        }
        let clf = DigitClassifier::train_printed(0);
        let fd = crate::metrics::frechet_distance(&clf.features(&a), &clf.features(&b));
        v.push((
            "Fréchet distance to the truths (printed-digit classifier features at 8×8)".into(),
            format!("{fd:.2}"),
        ));
    }
    v
}

/// For a method whose record holds no gradient norm of its own, logs one per optimizer,
/// `grad_norm_<optimizer>`: the norm of the gradients its last update applied (NaN, "does not
/// apply", for an optimizer that has taken no step yet, such as StackGAN's stage II before it
/// starts), so that every report can chart them.
fn add_grad_norms(rec: &mut Record, method: &dyn Method) {
    if rec.figures.iter().any(|f| f.key.starts_with("grad_norm")) {
        return;
    }
    for (name, opt) in method.optimizers() {
        let norm = opt.grad_norm().unwrap_or(f64::NAN);
        rec.log(static_key(format!("grad_norm_{name}")), norm);
    }
}

/// `key` as a `&'static str` (record keys are static): each distinct key is allocated once
/// per process and kept, so the few optimizer names of the methods cost a few bytes in all.
fn static_key(key: String) -> &'static str {
    static KEYS: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut keys = KEYS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(k) = keys.iter().find(|k| **k == key) {
        return k;
    }
    let k: &'static str = Box::leak(key.into_boxed_str());
    keys.push(k);
    k
}

/// Writes one line to stderr, replacing the previous one (for a terminal).
pub fn show_progress_line(line: &str) {
    let mut e = std::io::stderr();
    let _ = write!(e, "\r{line}\x1b[K");
    let _ = e.flush();
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

// ---------------------------------------------------------------------------------------------
// Several seeds
// ---------------------------------------------------------------------------------------------

/// The leading number of a figure as printed (`"0.597"`, `"69.3 %"`, `"10 / 10"`), with the
/// number of decimals it was printed with and what follows it (`" %"`); `None` when the figure
/// does not start with a number.
fn leading_number(v: &str) -> Option<(f64, usize, &str)> {
    let end = v
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && c == '-')))
        .map_or(v.len(), |(i, _)| i);
    let num = &v[..end];
    // 1.5e-3 is not "1.5" with a unit "e-3"
    if v[end..].starts_with(['e', 'E']) {
        return None;
    }
    let x: f64 = num.parse().ok()?;
    let decimals = num.split_once('.').map_or(0, |(_, d)| d.len());
    Some((x, decimals, &v[end..]))
}

/// Mean ± sample standard deviation (n − 1) of figures printed like `0.597`, `69.3 %` or
/// `7 / 8` (the part after a number must be the same in every figure), with the figures' own
/// decimals and unit; `None` if one is not such a figure.
fn mean_sd(values: &[&str]) -> Option<String> {
    let p: Vec<(f64, usize, &str)> = values
        .iter()
        .map(|v| leading_number(v.trim()))
        .collect::<Option<_>>()?;
    if p.len() < 2 || p.iter().any(|(_, _, u)| *u != p[0].2) {
        return None;
    }
    let n = p.len() as f64;
    let mean = p.iter().map(|(x, _, _)| x).sum::<f64>() / n;
    let var = p.iter().map(|(x, _, _)| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    // a count like `7 / 8` gets one decimal in its mean
    let whole = p.iter().all(|(_, d, _)| *d == 0);
    let d = p.iter().map(|(_, d, _)| *d).max().unwrap_or(0)
        + usize::from(whole && p[0].2.starts_with(" /"));
    Some(format!("{mean:.d$} ± {:.d$}{}", var.sqrt(), p[0].2))
}

/// The final figures of runs with several seeds as a Markdown table: one row per figure, one
/// column per seed, and a last column with the mean ± the sample standard deviation (n − 1),
/// printed with the figures' own decimals and unit. A count `a / b` is averaged over `a`
/// (`7.2 ± 0.8 / 8`); a list `x, y, z` item by item. A figure that is not numeric, or is
/// missing from a run, gets `—` in the last column.
///
/// `runs[i]` are the figures of seed `seeds[i]` in the order the run printed them; the rows
/// follow the first run's order (a figure only later runs print is left out), and a `|` in a
/// figure is written `\|` so that it stays in its cell.
pub fn seeds_table(seeds: &[u64], runs: &[Vec<(String, String)>]) -> Vec<String> {
    let mut out = Vec::new();
    let head: Vec<String> = seeds.iter().map(|s| format!("seed {s}")).collect();
    out.push(format!("| figure | {} | mean ± sd |", head.join(" | ")));
    out.push(format!("|---|{}---|", "---|".repeat(seeds.len())));
    let Some(first) = runs.first() else {
        return out;
    };
    for (name, _) in first {
        let values: Vec<Option<&str>> = runs
            .iter()
            .map(|r| r.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()))
            .collect();
        let cells: Vec<&str> = values.iter().map(|v| v.unwrap_or("—")).collect();
        let summary = values
            .iter()
            .copied()
            .collect::<Option<Vec<&str>>>()
            .and_then(|vs| {
                let lists: Vec<Vec<&str>> = vs.iter().map(|v| v.split(", ").collect()).collect();
                let k = lists[0].len();
                if lists.iter().any(|l| l.len() != k) {
                    return None;
                }
                (0..k)
                    .map(|i| mean_sd(&lists.iter().map(|l| l[i]).collect::<Vec<_>>()))
                    .collect::<Option<Vec<String>>>()
                    .map(|parts| parts.join(", "))
            })
            .unwrap_or_else(|| "—".to_string());
        // a `|` inside a figure would end its cell
        let esc = |t: &str| t.replace('|', "\\|");
        let cells: Vec<String> = cells.iter().map(|c| esc(c)).collect();
        out.push(format!(
            "| {} | {} | {} |",
            esc(name),
            cells.join(" | "),
            esc(&summary)
        ));
    }
    out
}

#[cfg(test)]
mod seeds_tests {
    use super::*;

    fn figs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn the_table_gives_mean_and_sample_deviation_in_the_figures_units() {
        let runs = [
            figs(&[
                ("preservation", "0.500"),
                ("confident", "60.0 %"),
                ("classes", "10 / 10"),
            ]),
            figs(&[
                ("preservation", "0.700"),
                ("confident", "70.0 %"),
                ("classes", "9 / 10"),
            ]),
            figs(&[
                ("preservation", "0.600"),
                ("confident", "65.5 %"),
                ("classes", "10 / 10"),
            ]),
        ];
        let t = seeds_table(&[0, 1, 2], &runs);
        assert_eq!(t[0], "| figure | seed 0 | seed 1 | seed 2 | mean ± sd |");
        assert_eq!(t[1], "|---|---|---|---|---|");
        // mean 0.6, sd sqrt(((0.1)² + (0.1)² + 0) / 2) = 0.1
        assert_eq!(
            t[2],
            "| preservation | 0.500 | 0.700 | 0.600 | 0.600 ± 0.100 |"
        );
        // mean 65.1667, sd sqrt((5.1667² + 4.8333² + 0.3333²) / 2) = 5.0083
        assert_eq!(
            t[3],
            "| confident | 60.0 % | 70.0 % | 65.5 % | 65.2 ± 5.0 % |"
        );
        // counts are averaged over their numerator, with one decimal
        assert_eq!(
            t[4],
            "| classes | 10 / 10 | 9 / 10 | 10 / 10 | 9.7 ± 0.6 / 10 |"
        );
    }

    #[test]
    fn a_missing_or_non_numeric_figure_has_no_summary() {
        let runs = [
            figs(&[
                ("a", "1.0"),
                ("b", "yes"),
                ("c", "0.90, 0.80"),
                ("d", "3 / 8"),
            ]),
            figs(&[("b", "no"), ("c", "0.70, 0.60"), ("d", "3 / 9")]),
        ];
        let t = seeds_table(&[3, 4], &runs);
        assert_eq!(t[2], "| a | 1.0 | — | — |");
        assert_eq!(t[3], "| b | yes | no | — |");
        // lists item by item: (0.9, 0.7) and (0.8, 0.6), each sd 0.1414
        assert_eq!(
            t[4],
            "| c | 0.90, 0.80 | 0.70, 0.60 | 0.80 ± 0.14, 0.70 ± 0.14 |"
        );
        assert_eq!(
            t[5], "| d | 3 / 8 | 3 / 9 | — |",
            "counts out of different totals"
        );
        assert_eq!(leading_number("-2.50 nats"), Some((-2.5, 2, " nats")));
        assert_eq!(leading_number("NaN"), None);
        assert_eq!(leading_number("1.5e-3"), None);
        let t = seeds_table(
            &[0, 1],
            &[figs(&[("mean |x|", "1.0")]), figs(&[("mean |x|", "3.0")])],
        );
        assert_eq!(t[2], "| mean \\|x\\| | 1.0 | 3.0 | 2.0 ± 1.4 |");
    }
}
