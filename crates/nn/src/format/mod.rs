//! On-disk tensor formats, independent of the crate's tensor type.
//!
//! This module reads and writes three formats using only `std`:
//!
//! * [`json`]: a small strict JSON value type, parser and serializer (used for
//!   safetensors headers, and usable for configuration files).
//! * [`safetensors`]: the [safetensors](https://github.com/huggingface/safetensors)
//!   checkpoint format.
//! * [`npy`]: NumPy's `.npy` single-array format.
//!
//! Everything works on [`RawTensor`]: a dtype, a shape and little-endian bytes.
//! Converting to and from the library's own tensor type is left to the caller,
//! usually through [`RawTensor::from_f32`] and [`RawTensor::to_f32_vec`].
//!
//! Readers never panic on malformed input: every problem is reported as a
//! [`FormatError`] whose message names the file (when known), the tensor (when
//! there is one) and what is wrong. Writers go through a temporary file in the
//! target's directory that is renamed over the target, so an interrupted save
//! never leaves a half-written file behind.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

pub mod json;
pub mod npy;
pub mod safetensors;

/// Element type of a [`RawTensor`].
///
/// Only the element types the library uses are supported; the names follow the
/// safetensors spelling (`"F32"`, `"F64"`, `"I64"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RawDType {
    /// IEEE 754 single precision, 4 bytes.
    F32,
    /// IEEE 754 double precision, 8 bytes.
    F64,
    /// Two's-complement signed 64-bit integer, 8 bytes.
    I64,
}

impl RawDType {
    /// All supported dtypes, in a fixed order.
    pub const ALL: [RawDType; 3] = [RawDType::F32, RawDType::F64, RawDType::I64];

    /// Size of one element in bytes.
    pub fn size_of(self) -> usize {
        match self {
            RawDType::F32 => 4,
            RawDType::F64 | RawDType::I64 => 8,
        }
    }

    /// Name as safetensors spells it: `"F32"`, `"F64"` or `"I64"`.
    pub fn name(self) -> &'static str {
        match self {
            RawDType::F32 => "F32",
            RawDType::F64 => "F64",
            RawDType::I64 => "I64",
        }
    }

    /// Inverse of [`RawDType::name`] (exact, case-sensitive match).
    pub fn from_name(name: &str) -> Option<RawDType> {
        RawDType::ALL.into_iter().find(|d| d.name() == name)
    }
}

impl fmt::Display for RawDType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A tensor as stored on disk: dtype, shape (row-major / C order) and the
/// elements as little-endian bytes.
///
/// The fields are public, so nothing forces `data.len()` to match the shape;
/// [`RawTensor::validate`] checks it, and every writer in this module checks
/// it before writing anything. Tensors returned by the readers are always
/// valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawTensor {
    /// Element type.
    pub dtype: RawDType,
    /// Dimensions, outermost first. An empty shape is a scalar (one element).
    pub shape: Vec<usize>,
    /// Elements in row-major order, each little-endian.
    pub data: Vec<u8>,
}

impl RawTensor {
    /// Builds an `F32` tensor from a shape and row-major values.
    ///
    /// # Panics
    ///
    /// Panics if `values.len()` is not the product of `shape`.
    pub fn from_f32(shape: &[usize], values: &[f32]) -> RawTensor {
        check_len(shape, values.len());
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        RawTensor {
            dtype: RawDType::F32,
            shape: shape.to_vec(),
            data,
        }
    }

    /// Builds an `F64` tensor from a shape and row-major values.
    ///
    /// # Panics
    ///
    /// Panics if `values.len()` is not the product of `shape`.
    pub fn from_f64(shape: &[usize], values: &[f64]) -> RawTensor {
        check_len(shape, values.len());
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        RawTensor {
            dtype: RawDType::F64,
            shape: shape.to_vec(),
            data,
        }
    }

    /// Builds an `I64` tensor from a shape and row-major values.
    ///
    /// # Panics
    ///
    /// Panics if `values.len()` is not the product of `shape`.
    pub fn from_i64(shape: &[usize], values: &[i64]) -> RawTensor {
        check_len(shape, values.len());
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        RawTensor {
            dtype: RawDType::I64,
            shape: shape.to_vec(),
            data,
        }
    }

    /// Number of elements: the product of the shape (1 for a scalar).
    ///
    /// Saturates at `usize::MAX` if the product overflows (such a shape can
    /// never match its data, so [`RawTensor::validate`] rejects it).
    pub fn numel(&self) -> usize {
        checked_numel(&self.shape).unwrap_or(usize::MAX)
    }

    /// Checks that `data.len()` equals `numel × dtype size`.
    pub fn validate(&self) -> Result<(), FormatError> {
        let need = checked_numel(&self.shape).and_then(|n| n.checked_mul(self.dtype.size_of()));
        match need {
            None => Err(FormatError::new(
                FormatErrorKind::InvalidInput,
                format!(
                    "shape {} has more elements than fit in memory",
                    shape_str(&self.shape)
                ),
            )),
            Some(need) if need != self.data.len() => Err(FormatError::new(
                FormatErrorKind::InvalidInput,
                format!(
                    "data is {} bytes but shape {} of {} needs {} bytes",
                    self.data.len(),
                    shape_str(&self.shape),
                    self.dtype,
                    need
                ),
            )),
            Some(_) => Ok(()),
        }
    }

    /// Decodes the elements as `f32`, converting from any dtype with `as`
    /// (`F64` is rounded to nearest; `I64` beyond ±2^24 loses precision).
    ///
    /// Decodes `data.len() / dtype size` elements; a trailing partial element
    /// (only possible in a tensor that fails [`RawTensor::validate`]) is
    /// ignored.
    pub fn to_f32_vec(&self) -> Vec<f32> {
        match self.dtype {
            RawDType::F32 => chunks4(&self.data).map(f32::from_le_bytes).collect(),
            RawDType::F64 => chunks8(&self.data)
                .map(|b| f64::from_le_bytes(b) as f32)
                .collect(),
            RawDType::I64 => chunks8(&self.data)
                .map(|b| i64::from_le_bytes(b) as f32)
                .collect(),
        }
    }

    /// Decodes the elements as `f64`, converting from any dtype (exact for
    /// `F32`; `I64` beyond ±2^53 loses precision).
    ///
    /// Same handling of a trailing partial element as [`RawTensor::to_f32_vec`].
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match self.dtype {
            RawDType::F32 => chunks4(&self.data)
                .map(|b| f32::from_le_bytes(b) as f64)
                .collect(),
            RawDType::F64 => chunks8(&self.data).map(f64::from_le_bytes).collect(),
            RawDType::I64 => chunks8(&self.data)
                .map(|b| i64::from_le_bytes(b) as f64)
                .collect(),
        }
    }

    /// Decodes the elements as `i64`, converting from any dtype with `as`:
    /// floats are truncated toward zero, saturate at the `i64` range, and NaN
    /// becomes 0.
    ///
    /// Same handling of a trailing partial element as [`RawTensor::to_f32_vec`].
    pub fn to_i64_vec(&self) -> Vec<i64> {
        match self.dtype {
            RawDType::F32 => chunks4(&self.data)
                .map(|b| f32::from_le_bytes(b) as i64)
                .collect(),
            RawDType::F64 => chunks8(&self.data)
                .map(|b| f64::from_le_bytes(b) as i64)
                .collect(),
            RawDType::I64 => chunks8(&self.data).map(i64::from_le_bytes).collect(),
        }
    }
}

fn chunks4(data: &[u8]) -> impl Iterator<Item = [u8; 4]> + '_ {
    data.chunks_exact(4).map(|c| [c[0], c[1], c[2], c[3]])
}

fn chunks8(data: &[u8]) -> impl Iterator<Item = [u8; 8]> + '_ {
    data.chunks_exact(8)
        .map(|c| [c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
}

fn check_len(shape: &[usize], len: usize) {
    let numel = checked_numel(shape);
    assert!(
        numel == Some(len),
        "RawTensor: {} values given for shape {}",
        len,
        shape_str(shape)
    );
}

/// Product of the dimensions, `None` on overflow.
pub(crate) fn checked_numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// `[2, 3]`-style rendering of a shape for error messages.
pub(crate) fn shape_str(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", dims.join(", "))
}

/// Broad category of a [`FormatError`], for callers that want to react
/// differently to, say, a missing file and a corrupt one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FormatErrorKind {
    /// Reading or writing the file failed (see [`std::error::Error::source`]).
    Io,
    /// The bytes are not a valid file of the expected format (truncated,
    /// corrupt, or a different kind of file).
    Corrupt,
    /// The file is valid but uses a feature this module does not implement
    /// (another dtype, Fortran order, big-endian data, a newer version).
    Unsupported,
    /// The caller asked to write something that cannot be written
    /// (data length not matching the shape, duplicate names, ...).
    InvalidInput,
}

/// Error from reading or writing a tensor file.
///
/// Its `Display` reads `"<file>: tensor '<name>': <problem>"`, leaving out the
/// file or the tensor when not known, e.g.
/// `checkpoint.safetensors: tensor 'gen.0.weight': data_offsets [0, 400) but shape [10, 11] of F32 needs 440 bytes`.
#[derive(Debug)]
pub struct FormatError {
    kind: FormatErrorKind,
    file: Option<String>,
    tensor: Option<String>,
    message: String,
    source: Option<io::Error>,
}

impl FormatError {
    /// Creates an error with the given kind and problem description (no file,
    /// no tensor).
    pub fn new(kind: FormatErrorKind, message: impl Into<String>) -> FormatError {
        FormatError {
            kind,
            file: None,
            tensor: None,
            message: message.into(),
            source: None,
        }
    }

    /// Creates an [`FormatErrorKind::Io`] error wrapping `err`; the message is
    /// `"<what>: <err>"`.
    pub fn io(what: &str, err: io::Error) -> FormatError {
        FormatError {
            kind: FormatErrorKind::Io,
            file: None,
            tensor: None,
            message: format!("{what}: {err}"),
            source: Some(err),
        }
    }

    /// Sets the file the error is about (shown first in the message).
    pub fn with_file(mut self, path: impl AsRef<Path>) -> FormatError {
        self.file = Some(path.as_ref().display().to_string());
        self
    }

    /// Sets the tensor the error is about.
    pub fn with_tensor(mut self, name: impl Into<String>) -> FormatError {
        self.tensor = Some(name.into());
        self
    }

    /// Broad category of the error.
    pub fn kind(&self) -> FormatErrorKind {
        self.kind
    }

    /// The file the error is about, if known.
    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }

    /// The tensor the error is about, if any.
    pub fn tensor(&self) -> Option<&str> {
        self.tensor.as_deref()
    }

    /// The problem alone, without the file and tensor prefixes.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}: ")?;
        }
        if let Some(tensor) = &self.tensor {
            write!(f, "tensor '{tensor}': ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for FormatError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Reads a whole file, mapping failure to a [`FormatError`] naming the file.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, FormatError> {
    fs::read(path).map_err(|e| FormatError::io("cannot read file", e).with_file(path))
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` atomically: the bytes go to
/// `<path>.tmp-<pid>-<n>` in the same directory, are flushed to disk, and the
/// temporary file is renamed over `path`. On failure the temporary file is
/// removed and `path` is left untouched.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FormatError> {
    let Some(name) = path.file_name() else {
        return Err(
            FormatError::new(FormatErrorKind::InvalidInput, "path does not name a file")
                .with_file(path),
        );
    };
    let mut tmp_name = name.to_os_string();
    tmp_name.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let tmp = path.with_file_name(tmp_name);

    let result = (|| -> io::Result<()> {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(FormatError::io("cannot write file", e).with_file(path));
    }
    // Make the rename itself durable where the platform allows it; failure
    // here does not affect the file's contents, so it is not reported.
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn dtype_names_and_sizes() {
        assert_eq!(RawDType::F32.size_of(), 4);
        assert_eq!(RawDType::F64.size_of(), 8);
        assert_eq!(RawDType::I64.size_of(), 8);
        for d in RawDType::ALL {
            assert_eq!(RawDType::from_name(d.name()), Some(d));
            assert_eq!(d.to_string(), d.name());
        }
        assert_eq!(RawDType::from_name("f32"), None);
        assert_eq!(RawDType::from_name("F16"), None);
    }

    #[test]
    fn constructors_and_conversions() {
        let t = RawTensor::from_f32(&[2, 2], &[1.0, -2.5, 3.0, 1e-3]);
        assert_eq!(t.dtype, RawDType::F32);
        assert_eq!(t.data.len(), 16);
        assert_eq!(&t.data[4..8], &(-2.5f32).to_le_bytes());
        assert_eq!(t.to_f32_vec(), vec![1.0, -2.5, 3.0, 1e-3]);
        assert_eq!(t.to_f64_vec(), vec![1.0, -2.5, 3.0, 1e-3f32 as f64]);
        assert_eq!(t.to_i64_vec(), vec![1, -2, 3, 0]);
        assert!(t.validate().is_ok());

        let t = RawTensor::from_f64(&[3], &[0.1, f64::MAX, -0.0]);
        assert_eq!(t.to_f64_vec()[0], 0.1);
        assert_eq!(t.to_f32_vec()[0], 0.1f32);
        assert_eq!(t.to_f32_vec()[1], f32::INFINITY);
        assert_eq!(t.to_i64_vec(), vec![0, i64::MAX, 0]);

        let t = RawTensor::from_i64(&[], &[-7]);
        assert_eq!(t.numel(), 1);
        assert_eq!(t.to_i64_vec(), vec![-7]);
        assert_eq!(t.to_f32_vec(), vec![-7.0]);
        assert_eq!(t.to_f64_vec(), vec![-7.0]);

        let nan = RawTensor::from_f32(&[1], &[f32::NAN]);
        assert_eq!(nan.to_i64_vec(), vec![0]);
        let empty = RawTensor::from_f32(&[0, 5], &[]);
        assert_eq!(empty.numel(), 0);
        assert!(empty.to_f32_vec().is_empty());
    }

    #[test]
    #[should_panic(expected = "5 values given for shape [2, 3]")]
    fn constructor_panics_on_length_mismatch() {
        RawTensor::from_f32(&[2, 3], &[0.0; 5]);
    }

    #[test]
    fn validate_messages() {
        let mut t = RawTensor::from_f32(&[10, 11], &[0.0; 110]);
        t.data.truncate(400);
        let e = t.validate().unwrap_err();
        assert_eq!(e.kind(), FormatErrorKind::InvalidInput);
        assert_eq!(
            e.to_string(),
            "data is 400 bytes but shape [10, 11] of F32 needs 440 bytes"
        );
        let t = RawTensor {
            dtype: RawDType::F64,
            shape: vec![usize::MAX, 2],
            data: vec![],
        };
        assert_eq!(t.numel(), usize::MAX);
        assert_eq!(
            t.validate().unwrap_err().to_string(),
            format!(
                "shape [{}, 2] has more elements than fit in memory",
                usize::MAX
            )
        );
    }

    #[test]
    fn error_display_composition() {
        let e = FormatError::new(FormatErrorKind::Corrupt, "bad thing");
        assert_eq!(e.to_string(), "bad thing");
        let e = e.with_tensor("w");
        assert_eq!(e.to_string(), "tensor 'w': bad thing");
        let e = e.with_file("dir/ckpt.safetensors");
        assert_eq!(e.to_string(), "dir/ckpt.safetensors: tensor 'w': bad thing");
        assert_eq!(e.file(), Some("dir/ckpt.safetensors"));
        assert_eq!(e.tensor(), Some("w"));
        assert_eq!(e.message(), "bad thing");
        assert!(e.source().is_none());
        let io = FormatError::io(
            "cannot read file",
            io::Error::new(io::ErrorKind::NotFound, "gone"),
        );
        assert_eq!(io.kind(), FormatErrorKind::Io);
        assert_eq!(io.to_string(), "cannot read file: gone");
        assert!(io.source().is_some());
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir =
            std::env::temp_dir().join(format!("minimax-format-atomic-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("out.bin");
        write_atomic(&target, b"first").unwrap();
        write_atomic(&target, b"second").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"second");
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.bin")]);

        let missing = dir.join("no-such-dir").join("x.bin");
        let e = write_atomic(&missing, b"x").unwrap_err();
        assert_eq!(e.kind(), FormatErrorKind::Io);
        assert!(e
            .to_string()
            .starts_with(&format!("{}: cannot write file: ", missing.display())));
        fs::remove_dir_all(&dir).unwrap();
    }
}
