//! Checkpoints: a module's parameters and buffers, plus optimizer, schedule and RNG state and
//! any extra tensors, in one safetensors file.
//!
//! Module tensors are stored under their [`Module::named_params`] /
//! [`Module::named_buffers`] paths (`"gen.0.weight"`, `"disc.1.running_mean"`) with PyTorch's
//! layouts, so `safetensors.torch.load_file` + `load_state_dict` reads them in PyTorch.
//! Everything else goes under reserved prefixes that start with `__` (no module path may):
//!
//! | prefix | what | written by |
//! |---|---|---|
//! | `__optim__.<name>.` | [`Optimizer::state_tensors`] (`__optim__.g.adam.3.exp_avg`, `….step`, `….lr`) | [`Extras::optimizer`] |
//! | `__schedule__.<name>.` | [`LrSchedule::state_tensors`] (`epoch`) | [`Extras::schedule`] |
//! | `__rng__.<name>` | an [`Rng`]'s four `u64` words, as I64 bits | [`Extras::rng`] |
//! | `__extra__.<name>` | any tensor (fixed noise for sample grids, …) | [`Extras::tensor`] |
//!
//! The optimizer's parameter names go in the metadata (`__optim__.<name>.params`, a JSON array)
//! so restoring into an optimizer over other parameters is an error, not silent nonsense.
//! User metadata keys must not start with `__`.
//!
//! With all of them saved, a resumed run continues bit for bit (`tests/checkpoint.rs` checks
//! it). Saving is atomic (temporary file, then rename). Loading never panics and changes no
//! parameter unless everything checks out; every error names the file and the tensor.
//!
//! ```
//! # use autograd::{Param, Var};
//! # use minimax_nn::{Module, as_dyn};
//! # use tensor::{DType, Rng, Tensor};
//! # struct Affine { w: Param }
//! # impl Module for Affine {
//! #     fn forward(&self, x: &Var) -> Var { x.mul(&x.tape().param(&self.w)) }
//! #     fn describe(&self) -> String { "Affine".into() }
//! #     fn own_params(&self) -> Vec<(String, Param)> { vec![("weight".into(), self.w.clone())] }
//! #     as_dyn!();
//! # }
//! use minimax_nn::checkpoint::{load_checkpoint, save_checkpoint, Extras};
//! use minimax_nn::optim::{Adam, AdamConfig};
//! let model = Affine { w: Param::new("weight", Tensor::ones([3], DType::F32)) };
//! let opt = Adam::new(model.named_params(), AdamConfig::default()).unwrap();
//! let rng = Rng::seed(7);
//! let path = std::env::temp_dir().join(format!("doc-ckpt-{}.safetensors", std::process::id()));
//!
//! let mut extras = Extras::new();
//! extras.optimizer("g", &opt).rng("data", &rng).metadata("epoch", "3");
//! save_checkpoint(&path, &model, &extras).unwrap();
//!
//! let fresh = Affine { w: Param::new("weight", Tensor::zeros([3], DType::F32)) };
//! let mut opt2 = Adam::new(fresh.named_params(), AdamConfig::default()).unwrap();
//! let loaded = load_checkpoint(&path, &fresh).unwrap();
//! loaded.restore_optimizer("g", &mut opt2).unwrap();
//! assert_eq!(loaded.rng("data").unwrap(), rng);
//! assert_eq!(loaded.metadata_value("epoch"), Some("3"));
//! assert_eq!(fresh.w.value().to_vec_f32(), vec![1.0; 3]);
//! # std::fs::remove_file(&path).unwrap();
//! ```

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use crate::format::json::Json;
use crate::format::{safetensors, FormatError, RawTensor};
use crate::io::{from_raw, raw_dtype, to_raw, u64s_from_raw, u64s_to_raw};
use crate::module::Module;
use crate::optim::Optimizer;
use crate::schedule::LrSchedule;
use autograd::Param;
use tensor::{Rng, Tensor};

/// Prefix of optimizer state keys.
pub const OPTIM_PREFIX: &str = "__optim__.";
/// Prefix of schedule state keys.
pub const SCHEDULE_PREFIX: &str = "__schedule__.";
/// Prefix of RNG state keys.
pub const RNG_PREFIX: &str = "__rng__.";
/// Prefix of extra tensors.
pub const EXTRA_PREFIX: &str = "__extra__.";
/// Module paths and user metadata keys must not start with this.
pub const RESERVED: &str = "__";

const PREFIXES: [&str; 4] = [OPTIM_PREFIX, SCHEDULE_PREFIX, RNG_PREFIX, EXTRA_PREFIX];

/// Category of a [`CheckpointError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckpointErrorKind {
    /// The file could not be read or written, or is not a valid safetensors file (see
    /// [`CheckpointError::format_error`]).
    Format,
    /// A module tensor is not in the file.
    Missing,
    /// A tensor has another shape in the file than in the module.
    ShapeMismatch,
    /// A tensor has another dtype in the file than in the module.
    DtypeMismatch,
    /// The file holds a tensor the module does not have (strict loading).
    Unexpected,
    /// A module path, extra name or metadata key uses the reserved `__` prefix.
    Reserved,
    /// Optimizer, schedule, RNG or extra state is missing or does not fit.
    State,
}

/// An error saving or loading a checkpoint. Its message starts with the file and names each
/// tensor concerned, e.g.
/// `run/ckpt.safetensors: tensor 'gen.0.weight': shape mismatch: the checkpoint has [4, 2] but the module expects [3, 2]`.
/// When several tensors are wrong, all are listed, separated by `; `.
#[derive(Debug)]
pub struct CheckpointError {
    kind: CheckpointErrorKind,
    file: String,
    problems: Vec<(Option<String>, String)>,
    source: Option<FormatError>,
}

impl CheckpointError {
    fn new(
        kind: CheckpointErrorKind,
        file: &str,
        tensor: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        CheckpointError {
            kind,
            file: file.to_string(),
            problems: vec![(tensor.map(str::to_string), message.into())],
            source: None,
        }
    }
    fn format(file: &str, e: FormatError) -> Self {
        CheckpointError {
            kind: CheckpointErrorKind::Format,
            file: file.to_string(),
            problems: vec![(e.tensor().map(str::to_string), e.message().to_string())],
            source: Some(e),
        }
    }
    /// The category (of the first problem).
    pub fn kind(&self) -> CheckpointErrorKind {
        self.kind
    }
    /// The file.
    pub fn file(&self) -> &str {
        &self.file
    }
    /// The tensor of the first problem, if it concerns one.
    pub fn tensor(&self) -> Option<&str> {
        self.problems.first().and_then(|(t, _)| t.as_deref())
    }
    /// Every problem found: (tensor, description).
    pub fn problems(&self) -> &[(Option<String>, String)] {
        &self.problems
    }
    /// The underlying format error, for [`CheckpointErrorKind::Format`].
    pub fn format_error(&self) -> Option<&FormatError> {
        self.source.as_ref()
    }
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file)?;
        for (i, (t, m)) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            if let Some(t) = t {
                write!(f, "tensor '{t}': ")?;
            }
            f.write_str(m)?;
        }
        Ok(())
    }
}

impl std::error::Error for CheckpointError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// What goes into a checkpoint besides the module: optimizer, schedule and RNG state, extra
/// tensors and metadata. Build it with the chaining methods, then [`save_checkpoint`].
#[derive(Clone, Debug, Default)]
pub struct Extras {
    tensors: Vec<(String, RawTensor)>,
    /// Reserved keys written by the methods (optimizer parameter names).
    state_metadata: Vec<(String, String)>,
    /// The caller's keys.
    metadata: Vec<(String, String)>,
}

#[track_caller]
fn check_name(what: &str, name: &str) {
    assert!(
        !name.is_empty() && !name.contains('.'),
        "Extras::{what}: the name '{name}' must be non-empty and contain no '.'"
    );
}

impl Extras {
    /// Nothing yet.
    pub fn new() -> Extras {
        Extras::default()
    }

    /// Adds a tensor, stored as `__extra__.<name>` (any name).
    pub fn tensor(&mut self, name: &str, t: &Tensor) -> &mut Self {
        self.tensors
            .push((format!("{EXTRA_PREFIX}{name}"), to_raw(t)));
        self
    }

    /// Adds an optimizer's state (and its parameter names) under `__optim__.<name>.`.
    /// Panics if `name` is empty or contains a `.`.
    #[track_caller]
    pub fn optimizer(&mut self, name: &str, opt: &dyn Optimizer) -> &mut Self {
        check_name("optimizer", name);
        for (k, t) in opt.state_tensors() {
            self.tensors.push((format!("{OPTIM_PREFIX}{name}.{k}"), t));
        }
        let names = Json::Array(opt.param_names().into_iter().map(Json::String).collect());
        self.state_metadata.push((
            format!("{OPTIM_PREFIX}{name}.params"),
            names.to_json_string(),
        ));
        self
    }

    /// Adds a schedule's state under `__schedule__.<name>.`.
    /// Panics if `name` is empty or contains a `.`.
    #[track_caller]
    pub fn schedule(&mut self, name: &str, schedule: &dyn LrSchedule) -> &mut Self {
        check_name("schedule", name);
        for (k, t) in schedule.state_tensors() {
            self.tensors
                .push((format!("{SCHEDULE_PREFIX}{name}.{k}"), t));
        }
        self
    }

    /// Adds a generator's state as `__rng__.<name>`.
    /// Panics if `name` is empty or contains a `.`.
    #[track_caller]
    pub fn rng(&mut self, name: &str, rng: &Rng) -> &mut Self {
        check_name("rng", name);
        self.tensors
            .push((format!("{RNG_PREFIX}{name}"), u64s_to_raw(&rng.state())));
        self
    }

    /// Adds a metadata string (keys starting with `__` are reserved: [`save_checkpoint`]
    /// rejects them).
    pub fn metadata(&mut self, key: &str, value: &str) -> &mut Self {
        self.metadata.push((key.to_string(), value.to_string()));
        self
    }
}

/// Writes `module`'s parameters and buffers and `extras` to a safetensors file at `path`,
/// atomically. Errors (writing nothing) if a module path or metadata key starts with `__`,
/// two tensors or keys share a name, or the file cannot be written.
pub fn save_checkpoint(
    path: impl AsRef<Path>,
    module: &dyn Module,
    extras: &Extras,
) -> Result<(), CheckpointError> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let mut tensors = Vec::new();
    for (name, p) in module
        .named_params()
        .into_iter()
        .chain(module.named_buffers())
    {
        if name.starts_with(RESERVED) {
            return Err(CheckpointError::new(
                CheckpointErrorKind::Reserved,
                &file,
                Some(&name),
                "module paths starting with \"__\" are reserved for optimizer, schedule, RNG and extra state",
            ));
        }
        tensors.push((name, to_raw(&p.value())));
    }
    tensors.extend(extras.tensors.iter().cloned());
    if let Some((k, _)) = extras
        .metadata
        .iter()
        .find(|(k, _)| k.starts_with(RESERVED))
    {
        return Err(CheckpointError::new(
            CheckpointErrorKind::Reserved,
            &file,
            None,
            format!("metadata key \"{k}\" is reserved (keys starting with \"__\" are)"),
        ));
    }
    let metadata: Vec<(String, String)> = extras
        .state_metadata
        .iter()
        .chain(&extras.metadata)
        .cloned()
        .collect();
    safetensors::save(path, &tensors, &metadata).map_err(|e| CheckpointError::format(&file, e))
}

/// Loads a checkpoint into `module` strictly (like PyTorch's `load_state_dict(strict=True)`):
/// see [`load_checkpoint_with`].
pub fn load_checkpoint(
    path: impl AsRef<Path>,
    module: &dyn Module,
) -> Result<LoadedExtras, CheckpointError> {
    load_checkpoint_with(path, module, true)
}

fn describe(t: &Tensor) -> String {
    format!("{:?} {}", t.dims(), raw_dtype(t.dtype()))
}

/// Loads a checkpoint written by [`save_checkpoint`] (or any safetensors file with the same
/// names) into `module`, and returns the rest of the file.
///
/// Every module parameter and buffer must be in the file with the same shape and dtype; the
/// error lists every problem, naming the tensor and both shapes (or dtypes). With `strict`,
/// a missing tensor is an error, and so is a file tensor outside the reserved prefixes that the
/// module does not have; without it, both are only listed in [`LoadedExtras::missing`] /
/// [`LoadedExtras::unexpected`] (shape and dtype mismatches are errors either way, as in
/// PyTorch). Values are assigned only if everything checks out. Never panics.
pub fn load_checkpoint_with(
    path: impl AsRef<Path>,
    module: &dyn Module,
    strict: bool,
) -> Result<LoadedExtras, CheckpointError> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let (tensors, metadata) =
        safetensors::load(path).map_err(|e| CheckpointError::format(&file, e))?;
    let by_name: HashMap<&str, &RawTensor> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();

    let targets: Vec<(String, Param)> = module
        .named_params()
        .into_iter()
        .chain(module.named_buffers())
        .collect();
    let mut problems: Vec<(CheckpointErrorKind, String, String)> = Vec::new();
    let mut missing = Vec::new();
    let mut values: Vec<(&Param, Tensor)> = Vec::with_capacity(targets.len());
    for (name, p) in &targets {
        let cur = p.value();
        let Some(raw) = by_name.get(name.as_str()) else {
            if strict {
                problems.push((
                    CheckpointErrorKind::Missing,
                    name.clone(),
                    format!(
                        "missing from the checkpoint (the module expects {})",
                        describe(&cur)
                    ),
                ));
            } else {
                missing.push(name.clone());
            }
            continue;
        };
        if raw.shape != cur.dims() {
            problems.push((
                CheckpointErrorKind::ShapeMismatch,
                name.clone(),
                format!(
                    "shape mismatch: the checkpoint has {:?} but the module expects {:?}",
                    raw.shape,
                    cur.dims()
                ),
            ));
            continue;
        }
        if raw.dtype != raw_dtype(cur.dtype()) {
            problems.push((
                CheckpointErrorKind::DtypeMismatch,
                name.clone(),
                format!(
                    "dtype mismatch: the checkpoint has {} but the module expects {}",
                    raw.dtype,
                    raw_dtype(cur.dtype())
                ),
            ));
            continue;
        }
        match from_raw(raw) {
            Ok(t) => values.push((p, t)),
            Err(e) => problems.push((
                CheckpointErrorKind::DtypeMismatch,
                name.clone(),
                e.message().to_string(),
            )),
        }
    }
    let known: HashSet<&str> = targets.iter().map(|(n, _)| n.as_str()).collect();
    let mut unexpected = Vec::new();
    for (name, _) in &tensors {
        if known.contains(name.as_str()) || PREFIXES.iter().any(|p| name.starts_with(p)) {
            continue;
        }
        if strict {
            problems.push((
                CheckpointErrorKind::Unexpected,
                name.clone(),
                "unexpected: the module has no tensor of this name (load with strict = false to ignore it)".into(),
            ));
        } else {
            unexpected.push(name.clone());
        }
    }
    if let Some((kind, _, _)) = problems.first() {
        return Err(CheckpointError {
            kind: *kind,
            file,
            problems: problems.into_iter().map(|(_, t, m)| (Some(t), m)).collect(),
            source: None,
        });
    }
    for (p, t) in values {
        p.set_value(t);
    }
    let extras = tensors
        .into_iter()
        .filter(|(n, _)| PREFIXES.iter().any(|p| n.starts_with(p)))
        .collect();
    Ok(LoadedExtras {
        file,
        tensors: extras,
        metadata,
        missing,
        unexpected,
    })
}

/// Everything a loaded checkpoint holds besides the module's tensors.
#[derive(Clone, Debug)]
pub struct LoadedExtras {
    file: String,
    tensors: Vec<(String, RawTensor)>,
    metadata: Vec<(String, String)>,
    missing: Vec<String>,
    unexpected: Vec<String>,
}

impl LoadedExtras {
    fn err(&self, tensor: Option<&str>, message: impl Into<String>) -> CheckpointError {
        CheckpointError::new(CheckpointErrorKind::State, &self.file, tensor, message)
    }

    /// The file it was loaded from.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Module tensors absent from the file (non-strict loading only; they kept their values).
    pub fn missing(&self) -> &[String] {
        &self.missing
    }

    /// File tensors the module does not have (non-strict loading only).
    pub fn unexpected(&self) -> &[String] {
        &self.unexpected
    }

    /// The names of the extra tensors saved with [`Extras::tensor`].
    pub fn tensor_names(&self) -> Vec<&str> {
        self.tensors
            .iter()
            .filter_map(|(n, _)| n.strip_prefix(EXTRA_PREFIX))
            .collect()
    }

    /// The extra tensor saved as `name` with [`Extras::tensor`].
    pub fn tensor(&self, name: &str) -> Result<Tensor, CheckpointError> {
        let key = format!("{EXTRA_PREFIX}{name}");
        let raw = self
            .tensors
            .iter()
            .find(|(n, _)| *n == key)
            .map(|(_, t)| t)
            .ok_or_else(|| self.err(Some(&key), "no such extra tensor in the checkpoint"))?;
        from_raw(raw).map_err(|e| self.err(Some(&key), e.message()))
    }

    /// The user metadata (reserved `__` keys left out), in file order.
    pub fn metadata(&self) -> Vec<(&str, &str)> {
        self.metadata
            .iter()
            .filter(|(k, _)| !k.starts_with(RESERVED))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// One metadata value.
    pub fn metadata_value(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The entries under `prefix`, with the prefix removed.
    fn under(&self, prefix: &str) -> Vec<(String, RawTensor)> {
        self.tensors
            .iter()
            .filter_map(|(n, t)| n.strip_prefix(prefix).map(|k| (k.to_string(), t.clone())))
            .collect()
    }

    /// Restores the state saved with [`Extras::optimizer`] under `name` into `opt`, which must
    /// be the same kind of optimizer over parameters with the same names, in the same order.
    /// Changes nothing on error.
    pub fn restore_optimizer(
        &self,
        name: &str,
        opt: &mut dyn Optimizer,
    ) -> Result<(), CheckpointError> {
        let prefix = format!("{OPTIM_PREFIX}{name}.");
        let names_key = format!("{prefix}params");
        let Some(saved) = self.metadata_value(&names_key) else {
            return Err(self.err(
                None,
                format!("no optimizer state named '{name}' in the checkpoint"),
            ));
        };
        let saved: Option<Vec<String>> = Json::parse(saved).ok().and_then(|j| {
            j.as_array()
                .and_then(|a| a.iter().map(|s| s.as_str().map(str::to_string)).collect())
        });
        let Some(saved) = saved else {
            return Err(self.err(
                None,
                format!("metadata '{names_key}' is not a JSON array of strings"),
            ));
        };
        let have = opt.param_names();
        if saved != have {
            let detail = match saved.iter().zip(&have).position(|(a, b)| a != b) {
                Some(i) => format!(
                    "parameter {i} is '{}' in the checkpoint but '{}' here",
                    saved[i], have[i]
                ),
                None => format!(
                    "the checkpoint has {} parameters, this optimizer {}",
                    saved.len(),
                    have.len()
                ),
            };
            return Err(self.err(
                None,
                format!("optimizer '{name}' was saved over other parameters: {detail}"),
            ));
        }
        let state = self.under(&prefix);
        opt.load_state_tensors(&state)
            .map_err(|e| self.err(None, format!("optimizer '{name}': {e}")))
    }

    /// Restores the state saved with [`Extras::schedule`] under `name` into `schedule`.
    pub fn restore_schedule(
        &self,
        name: &str,
        schedule: &mut dyn LrSchedule,
    ) -> Result<(), CheckpointError> {
        let state = self.under(&format!("{SCHEDULE_PREFIX}{name}."));
        if state.is_empty() {
            return Err(self.err(
                None,
                format!("no schedule state named '{name}' in the checkpoint"),
            ));
        }
        schedule
            .load_state_tensors(&state)
            .map_err(|e| self.err(None, format!("schedule '{name}': {e}")))
    }

    /// The generator saved with [`Extras::rng`] under `name`.
    pub fn rng(&self, name: &str) -> Result<Rng, CheckpointError> {
        let key = format!("{RNG_PREFIX}{name}");
        let Some((_, raw)) = self.tensors.iter().find(|(n, _)| *n == key) else {
            return Err(self.err(Some(&key), "no such generator state in the checkpoint"));
        };
        let words = u64s_from_raw(raw).map_err(|e| self.err(Some(&key), e.message()))?;
        match <[u64; 4]>::try_from(words) {
            Ok(s) if s != [0; 4] => Ok(Rng::from_state(s)),
            Ok(_) => Err(self.err(Some(&key), "the all-zero generator state is invalid")),
            Err(w) => Err(self.err(
                Some(&key),
                format!("expected 4 state words, found {}", w.len()),
            )),
        }
    }
}
