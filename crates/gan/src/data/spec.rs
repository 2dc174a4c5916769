//! What `--data` names, and the data a run trains on: batches that say what they are.

use super::{
    idx, DataError, DataErrorKind, Dataset, Digits, EdgesToGlyphs, Gaussian1d, Grid25, NpyDataset,
    Printed, Resolution, Ring8,
};
use std::path::PathBuf;
use tensor::{Rng, Tensor};

/// The kinds of batch a method can take. A run checks that its data gives the kind its method
/// takes before anything is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchKind {
    /// Examples alone: `[m, …]`.
    Unlabelled,
    /// Examples with their class: `([m, …], labels)`.
    Labelled,
    /// Examples of two domains, the i-th of one the counterpart of the i-th of the other.
    Paired,
    /// Examples of two domains drawn independently.
    Unpaired,
}

impl BatchKind {
    /// How the kind is written in messages.
    pub fn name(self) -> &'static str {
        match self {
            BatchKind::Unlabelled => "unlabelled",
            BatchKind::Labelled => "labelled",
            BatchKind::Paired => "paired",
            BatchKind::Unpaired => "unpaired two-domain",
        }
    }
}

/// Where the training data comes from: what `--data` names.
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
    /// The embedded printed digits at 32, 16 or 8 px (`printed`, `printed16`, `printed8`).
    Printed(Resolution),
    /// Pairs (edges of a printed glyph, the glyph) at 32 px (`edges2printed`).
    EdgesToPrinted,
    /// MNIST-style IDX image file.
    Idx(PathBuf),
    /// Any NPY array [N, …].
    Npy(PathBuf),
    /// Two domains drawn independently (`X+Y`, e.g. `npy:a.npy+digits`).
    Unpaired(Box<DataSpec>, Box<DataSpec>),
}

/// The largest example a data file may have, in values (a 512×512 image with 4 channels).
pub const MAX_EXAMPLE: usize = 1 << 20;

impl DataSpec {
    /// The spellings [`DataSpec::parse`] reads, for messages.
    pub const CHOICES: &'static str = "ring8, grid25, gauss1d, digits, printed, printed16, printed8, edges2printed, idx:PATH, npy:PATH or X+Y";

    /// Parses `ring8`, `grid25`, `gauss1d`, `digits`, `printed`, `printed16`, `printed8`,
    /// `edges2printed`, `idx:PATH`, `npy:PATH`, and `X+Y` for two domains.
    pub fn parse(s: &str) -> Option<DataSpec> {
        if let Some((x, y)) = s.split_once('+') {
            let (x, y) = (DataSpec::parse(x)?, DataSpec::parse(y)?);
            if matches!(x, DataSpec::Unpaired(..)) || matches!(y, DataSpec::Unpaired(..)) {
                return None;
            }
            return Some(DataSpec::Unpaired(Box::new(x), Box::new(y)));
        }
        Some(match s {
            "ring8" => DataSpec::Ring8,
            "grid25" => DataSpec::Grid25,
            "gauss1d" => DataSpec::Gauss1d,
            "digits" => DataSpec::Digits,
            "printed" => DataSpec::Printed(Resolution::R32),
            "printed16" => DataSpec::Printed(Resolution::R16),
            "printed8" => DataSpec::Printed(Resolution::R8),
            "edges2printed" => DataSpec::EdgesToPrinted,
            _ => {
                if let Some(p) = s.strip_prefix("idx:").filter(|p| !p.is_empty()) {
                    DataSpec::Idx(PathBuf::from(p))
                } else if let Some(p) = s.strip_prefix("npy:").filter(|p| !p.is_empty()) {
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
            DataSpec::Printed(r) => r.name().into(),
            DataSpec::EdgesToPrinted => "edges2printed".into(),
            DataSpec::Idx(p) => format!("idx:{}", p.display()),
            DataSpec::Npy(p) => format!("npy:{}", p.display()),
            DataSpec::Unpaired(x, y) => format!("{}+{}", x.spec(), y.spec()),
        }
    }

    /// Opens one domain (files are read and validated here).
    fn open_one(&self) -> Result<Box<dyn Dataset>, DataError> {
        let ds: Box<dyn Dataset> = match self {
            DataSpec::Ring8 => Box::new(Ring8::new()),
            DataSpec::Grid25 => Box::new(Grid25::new()),
            DataSpec::Gauss1d => Box::new(Gaussian1d::new(4.0, 1.25)),
            DataSpec::Digits => Box::new(Digits::new()),
            DataSpec::Printed(r) => Box::new(Printed::new(*r)),
            DataSpec::EdgesToPrinted => Box::new(EdgesToGlyphs::new(Printed::new(Resolution::R32))),
            DataSpec::Idx(p) => {
                let t = idx::read_images(p)?;
                if t.dims()[0] == 0 || t.numel() == 0 {
                    return Err(DataError::new(
                        DataErrorKind::Invalid,
                        format!("the file holds no image (its images are {:?})", t.dims()),
                    )
                    .with_path(p));
                }
                Box::new(NpyDataset::from_tensor(p.display().to_string(), &t))
            }
            DataSpec::Npy(p) => Box::new(NpyDataset::open(p)?),
            DataSpec::Unpaired(..) => unreachable!("split by DataSpec::open"),
        };
        let shape = ds.sample_shape();
        let values: usize = shape.iter().product();
        if shape.len() > 3 || values == 0 || values > MAX_EXAMPLE {
            return Err(DataError::new(
                DataErrorKind::Invalid,
                format!(
                    "each example has shape {shape:?}; minimax trains on points [d], images [h, w] \
                     or [c, h, w] with 1 to {MAX_EXAMPLE} values"
                ),
            )
            .with_path(self.spec()));
        }
        Ok(ds)
    }

    /// Opens the data (files are read and validated here), all of it for training.
    pub fn open(&self) -> Result<Data, DataError> {
        match self {
            DataSpec::Unpaired(x, y) => Ok(Data {
                spec: self.clone(),
                train: x.open_one()?,
                other: Some(y.open_one()?),
                test: None,
            }),
            one => Ok(Data::single(one.clone(), one.open_one()?)),
        }
    }

    /// Opens the data with part of it held out for measuring: the handwritten digits split
    /// 80/20 per class (seed 0, [`Digits::split`]); the printed digits (and their edges) split
    /// by instance, 8 and 9 of every digit held out in every face
    /// ([`Printed::split_held_out`]). Data without a fixed split is all for training
    /// ([`Data::test`] is `None`).
    pub fn open_held_out(&self) -> Result<Data, DataError> {
        let split = |train: Box<dyn Dataset>, test: Box<dyn Dataset>| Data {
            spec: self.clone(),
            train,
            other: None,
            test: Some(test),
        };
        match self {
            DataSpec::Printed(r) => {
                let (train, test) = Printed::new(*r).split_held_out();
                Ok(split(Box::new(train), Box::new(test)))
            }
            DataSpec::EdgesToPrinted => {
                let (train, test) = Printed::new(Resolution::R32).split_held_out();
                Ok(split(
                    Box::new(EdgesToGlyphs::new(train)),
                    Box::new(EdgesToGlyphs::new(test)),
                ))
            }
            DataSpec::Digits => {
                let (train, test) = Digits::new().split(0.2, 0);
                Ok(Data {
                    spec: self.clone(),
                    train: Box::new(train),
                    other: None,
                    test: Some(Box::new(test)),
                })
            }
            DataSpec::Unpaired(x, y) => {
                let xs = x.open_held_out()?;
                Ok(Data {
                    spec: self.clone(),
                    train: xs.train,
                    other: Some(y.open_one()?),
                    test: xs.test,
                })
            }
            _ => self.open(),
        }
    }
}

/// The data a run trains on, giving batches of the kinds it has.
pub struct Data {
    /// What it was opened from.
    pub spec: DataSpec,
    /// The examples (domain X of two).
    pub train: Box<dyn Dataset>,
    /// Domain Y, for two-domain data.
    pub other: Option<Box<dyn Dataset>>,
    /// Held-out examples for measuring, when the method holds some out.
    pub test: Option<Box<dyn Dataset>>,
}

impl Data {
    /// One data set as data.
    pub fn single(spec: DataSpec, train: Box<dyn Dataset>) -> Data {
        Data {
            spec,
            train,
            other: None,
            test: None,
        }
    }

    /// The kinds of batch this data gives.
    pub fn kinds(&self) -> Vec<BatchKind> {
        if self.other.is_some() {
            return vec![BatchKind::Unpaired];
        }
        let mut k = vec![BatchKind::Unlabelled];
        if self.train.num_classes() > 0 {
            k.push(BatchKind::Labelled);
        }
        if self.train.paired() {
            k.push(BatchKind::Paired);
        }
        k
    }

    /// Whether it gives batches of `kind`.
    pub fn gives(&self, kind: BatchKind) -> bool {
        self.kinds().contains(&kind)
    }

    /// The shape of one example (of domain X for two domains).
    pub fn sample_shape(&self) -> Vec<usize> {
        self.train.sample_shape()
    }

    /// `m` examples.
    pub fn unlabelled(&self, m: usize, rng: &mut Rng) -> Tensor {
        self.train.sample(m, rng)
    }

    /// `m` examples with their labels. Panics if the data has no labels (a run checks
    /// [`Data::gives`] before it starts).
    #[track_caller]
    pub fn labelled(&self, m: usize, rng: &mut Rng) -> (Tensor, Vec<usize>) {
        self.train
            .sample_labelled(m, rng)
            .unwrap_or_else(|| panic!("Data::labelled: {} has no labels", self.train.name()))
    }

    /// `m` pairs (A, B). Panics unless the data is paired (a run checks [`Data::gives`]).
    #[track_caller]
    pub fn paired(&self, m: usize, rng: &mut Rng) -> (Tensor, Tensor) {
        self.train
            .sample_paired(m, rng)
            .unwrap_or_else(|| panic!("Data::paired: {} is not paired", self.train.name()))
    }

    /// `m` examples of each domain, drawn independently (X first). Panics unless the data has
    /// two domains.
    #[track_caller]
    pub fn unpaired(&self, m: usize, rng: &mut Rng) -> (Tensor, Tensor) {
        let y = self
            .other
            .as_ref()
            .unwrap_or_else(|| panic!("Data::unpaired: {} has one domain", self.spec.spec()));
        let x = self.train.sample(m, rng);
        (x, y.sample(m, rng))
    }
}
