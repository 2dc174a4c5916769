//! Any NumPy array of examples as a dataset.

use super::{read_file, sample_rows, DataError, DataErrorKind, Dataset};
use nn::format::npy::from_npy_bytes;
use std::path::Path;
use tensor::{Rng, Tensor};

/// A dataset made of the rows of one array `[N, …]`: each example is one `[…]` slice, drawn
/// uniformly with replacement. Reads NumPy `.npy` files (`'<f4'`, `'<f8'` or `'<i8'`, C order;
/// see `nn::format::npy`), converted to f32; also wraps any tensor
/// ([`NpyDataset::from_tensor`]), for example images read with [`super::idx::read_images`].
#[derive(Debug, Clone)]
pub struct NpyDataset {
    data: Tensor,
    name: String,
}

impl NpyDataset {
    /// Loads the array in the `.npy` file at `path`. The first axis indexes examples; a 1-D
    /// array `[N]` is read as `N` examples of shape `[1]`.
    ///
    /// Errors name the file: missing file, not an NPY file or an unsupported one (the reader's
    /// message), or an array with no example (`N = 0` or a 0-dimensional array).
    pub fn open(path: impl AsRef<Path>) -> Result<NpyDataset, DataError> {
        let path = path.as_ref();
        let bytes = read_file(path)?;
        if bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
            return Err(DataError::new(
                DataErrorKind::Compressed,
                format!(
                    "file is gzip-compressed (it starts with the bytes 1f 8b); decompress it \
                     first with `gunzip {}`",
                    path.display()
                ),
            )
            .with_path(path));
        }
        let raw = from_npy_bytes(&bytes).map_err(|e| {
            let kind = if bytes.starts_with(b"\x93NUMPY") {
                DataErrorKind::Invalid
            } else {
                DataErrorKind::BadMagic
            };
            DataError::new(kind, e.message().to_string()).with_path(path)
        })?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "npy".into());
        let mut shape = raw.shape.clone();
        if shape.is_empty() {
            return Err(DataError::new(
                DataErrorKind::Invalid,
                "the array is 0-dimensional (a scalar); expected an array of examples [N, …]",
            )
            .with_path(path));
        }
        if shape.len() == 1 {
            shape.push(1);
        }
        if shape[0] == 0 {
            return Err(DataError::new(
                DataErrorKind::Invalid,
                format!("the array {shape:?} holds no example (N = 0)"),
            )
            .with_path(path));
        }
        let data = Tensor::from_vec(raw.to_f32_vec(), shape);
        Ok(NpyDataset { data, name })
    }

    /// A dataset of the rows of `data` (`[N, …]`, converted to contiguous f32; a 1-D tensor is
    /// read as `N` examples of shape `[1]`). Panics if `data` is 0-dimensional or has no row.
    #[track_caller]
    pub fn from_tensor(name: impl Into<String>, data: &Tensor) -> NpyDataset {
        assert!(
            data.ndim() >= 1 && data.dims()[0] > 0,
            "NpyDataset::from_tensor: expected an array of examples [N, …] with N > 0, got shape {:?}",
            data.dims()
        );
        let mut shape = data.dims().to_vec();
        if shape.len() == 1 {
            shape.push(1);
        }
        NpyDataset {
            data: Tensor::from_vec(data.to_vec_f32(), shape),
            name: name.into(),
        }
    }

    /// All examples, f32 `[N, …]`.
    pub fn data(&self) -> &Tensor {
        &self.data
    }

    /// Number of examples `N`.
    pub fn len(&self) -> usize {
        self.data.dims()[0]
    }

    /// Whether there is no example (never true for a constructed dataset).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Dataset for NpyDataset {
    fn sample(&self, m: usize, rng: &mut Rng) -> Tensor {
        let row = self.data.numel() / self.len();
        let v = sample_rows(self.data.as_slice::<f32>(), self.len(), row, m, rng);
        let mut shape = vec![m];
        shape.extend_from_slice(&self.data.dims()[1..]);
        Tensor::from_vec(v, shape)
    }
    fn sample_shape(&self) -> Vec<usize> {
        self.data.dims()[1..].to_vec()
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn examples(&self) -> Option<Tensor> {
        Some(self.data.clone())
    }
}
