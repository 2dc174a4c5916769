//! Datasets: where real samples come from.
//!
//! Every dataset implements [`Dataset`]: `sample(m, rng)` draws a batch of `m` examples as an f32
//! [`Tensor`] of shape `[m, …]`, with every random draw taken from the caller's [`Rng`], so a seed
//! fixes the data stream exactly.
//!
//! | dataset | sample shape | what it is for |
//! |---|---|---|
//! | [`Gaussian1d`] | `[1]` | the tutorial's theory of the original GAN on one dimension: D*, V(G, D*) and the true JSD |
//! | [`GaussianMixture1d`] | `[1]` | the same with two modes, where a generator can drop one |
//! | [`Ring8`] | `[2]` | PacGAN's ring of 8 Gaussians, the mode-collapse benchmark |
//! | [`Grid25`] | `[2]` | PacGAN's 5×5 grid of Gaussians |
//! | [`Digits`] | `[1, 8, 8]` | 1,797 real handwritten digits, embedded in the crate |
//! | [`Printed`] | `[1, s, s]`, s = 32, 16, 8 | 3,700 printed digits in 37 font faces, with style attributes and same-glyph pairs, embedded |
//! | [`NpyDataset`] | anything | a NumPy array of examples `[N, …]` that a user has |
//!
//! [`idx`] reads MNIST-style IDX files (`train-images-idx3-ubyte`) into tensors, with errors
//! that say what is wrong with the file.

#![warn(missing_docs)]

pub mod augment;
mod digits;
pub mod idx;
mod npy;
mod printed;
mod spec;
mod toy;

pub use digits::Digits;
pub use npy::NpyDataset;
pub use printed::{
    downsample2, edges, Attributes, EdgesToGlyphs, Family, Glyph, Jitter, Printed, Resolution,
};
pub use spec::{BatchKind, Data, DataSpec, MAX_EXAMPLE};
pub use toy::{Gaussian1d, GaussianMixture1d, Grid25, Ring8};

use std::fmt;
use std::path::Path;
use tensor::{Rng, Tensor};

/// A source of real examples.
///
/// Implementations are deterministic given the generator: the same `Rng` state gives the same
/// batch.
pub trait Dataset {
    /// Draws `m` examples as an f32 tensor of shape `[m, …sample_shape()]`.
    fn sample(&self, m: usize, rng: &mut Rng) -> Tensor;
    /// The shape of one example (`[2]` for a point in the plane, `[1, 8, 8]` for a digit).
    fn sample_shape(&self) -> Vec<usize>;
    /// A short name for logs and reports (`"ring8"`, `"digits"`, …).
    fn name(&self) -> &str;
    /// The number of classes when examples have labels (10 for the digits), else 0.
    fn num_classes(&self) -> usize {
        0
    }
    /// `m` examples with their labels, drawing exactly what [`Dataset::sample`] draws for the
    /// same generator state; `None` when the examples have no labels.
    fn sample_labelled(&self, _m: usize, _rng: &mut Rng) -> Option<(Tensor, Vec<usize>)> {
        None
    }
    /// The length of each example's attribute vector (7 for the printed digits: family
    /// sans/serif/mono, bold, italic, condensed, light), 0 without attributes.
    fn attribute_dim(&self) -> usize {
        0
    }
    /// `m` examples with their labels and attribute vectors `[m, attribute_dim]`, drawing what
    /// [`Dataset::sample`] draws; `None` without attributes.
    fn sample_attributed(&self, _m: usize, _rng: &mut Rng) -> Option<(Tensor, Vec<usize>, Tensor)> {
        None
    }
    /// Whether the examples come in pairs (A, B) ([`Dataset::sample_paired`]).
    fn paired(&self) -> bool {
        false
    }
    /// `m` pairs (A, B), A's i-th the counterpart of B's i-th; `None` for unpaired data.
    fn sample_paired(&self, _m: usize, _rng: &mut Rng) -> Option<(Tensor, Tensor)> {
        None
    }
    /// The label of every example of [`Dataset::examples`], for labelled finite data.
    fn example_labels(&self) -> Option<Vec<usize>> {
        None
    }
    /// Every pair (A, B) of a finite paired data set.
    fn examples_paired(&self) -> Option<(Tensor, Tensor)> {
        None
    }
    /// Every example `[N, …]` of a finite data set (`None` for a distribution one can only
    /// sample).
    fn examples(&self) -> Option<Tensor> {
        None
    }
    /// The modes of a known mixture (the ring and the grid), to score samples against.
    fn modes(&self) -> Option<crate::metrics::Modes> {
        None
    }
    /// The density at `x` of a known distribution of 1-D examples (the 1-D Gaussian), so the
    /// report can integrate the true JSD between the data and a generator; `None` when the
    /// density is not known (the report then estimates it from samples).
    fn density(&self, _x: f64) -> Option<f64> {
        None
    }
}

/// What kind of problem a [`DataError`] reports, for callers that react differently to a missing
/// file and a corrupt one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DataErrorKind {
    /// The file does not exist.
    NotFound,
    /// Reading the file failed for another reason (permissions, a directory, …).
    Io,
    /// The file is compressed (gzip) and must be decompressed first.
    Compressed,
    /// The file does not start with the magic number of the expected format.
    BadMagic,
    /// The file is shorter than its header says.
    Truncated,
    /// The file is readable but its contents are not usable (wrong rank, extra bytes, an
    /// unsupported element type, an empty array, …).
    Invalid,
}

/// An error from loading a dataset file. Its message names the file and says what was found and
/// what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataError {
    kind: DataErrorKind,
    path: Option<String>,
    message: String,
}

impl DataError {
    /// An error of the given kind with a message (no file attached).
    pub fn new(kind: DataErrorKind, message: impl Into<String>) -> DataError {
        DataError {
            kind,
            path: None,
            message: message.into(),
        }
    }

    /// Attaches the file the error is about; `Display` then prints `"<path>: <message>"`.
    pub fn with_path(mut self, path: impl AsRef<Path>) -> DataError {
        self.path = Some(path.as_ref().display().to_string());
        self
    }

    /// The kind of problem.
    pub fn kind(&self) -> DataErrorKind {
        self.kind
    }

    /// The file the error is about, if known.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// The description of the problem, without the file name.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{p}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for DataError {}

/// Reads a whole file, turning a missing file into a [`DataErrorKind::NotFound`] error that names
/// the path.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|e| {
        let kind = if e.kind() == std::io::ErrorKind::NotFound {
            DataErrorKind::NotFound
        } else {
            DataErrorKind::Io
        };
        let msg = if kind == DataErrorKind::NotFound {
            "no such file".to_string()
        } else {
            format!("cannot read file: {e}")
        };
        DataError::new(kind, msg).with_path(path)
    })
}

/// `m` rows drawn uniformly with replacement from `data`, a flat row-major array of `n` rows of
/// `row` values each.
pub(crate) fn sample_rows(data: &[f32], n: usize, row: usize, m: usize, rng: &mut Rng) -> Vec<f32> {
    assert!(n > 0, "cannot sample from an empty dataset");
    let mut out = Vec::with_capacity(m * row);
    for _ in 0..m {
        let i = rng.below(n);
        out.extend_from_slice(&data[i * row..(i + 1) * row]);
    }
    out
}
