//! A reader for MNIST-style IDX files (`train-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, …).
//!
//! The IDX format (LeCun et al.): a 4-byte magic number — two zero bytes, an element-type code
//! (`0x08` = unsigned byte, `0x09` i8, `0x0B` i16, `0x0C` i32, `0x0D` f32, `0x0E` f64) and the
//! number of dimensions — then each dimension as a big-endian `u32`, then the elements in
//! row-major order. MNIST and Fashion-MNIST images are `0x00000803` (`[N, 28, 28]` bytes) and
//! their labels `0x00000801` (`[N]` bytes); both are read here.
//!
//! The files are usually downloaded gzip-compressed (`.gz`). This crate has no gzip decoder, so a
//! compressed file is reported as such, with the command that decompresses it.

use super::{read_file, DataError, DataErrorKind};
use std::path::Path;
use tensor::Tensor;

/// Magic number of an IDX file of unsigned-byte images `[N, H, W]`.
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned-byte labels `[N]`.
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// Reads an IDX image file (`0x00000803`, unsigned bytes `[N, H, W]`) into an f32 tensor
/// `[N, 1, H, W]` with pixels scaled linearly from 0..=255 to [−1, 1] (0 → −1, 255 → 1).
///
/// Errors name the file and say what is wrong: missing file, a gzip-compressed file (with the
/// `gunzip` command to run), a wrong magic number (what was found and what was expected), a file
/// shorter than its header says (expected and found byte counts), or trailing bytes.
pub fn read_images(path: impl AsRef<Path>) -> Result<Tensor, DataError> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    images_from_bytes(&bytes).map_err(|e| with_gunzip_hint(e, path))
}

/// Reads an IDX label file (`0x00000801`, unsigned bytes `[N]`), with the same errors as
/// [`read_images`].
pub fn read_labels(path: impl AsRef<Path>) -> Result<Vec<usize>, DataError> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    labels_from_bytes(&bytes).map_err(|e| with_gunzip_hint(e, path))
}

/// [`read_images`] on the bytes of a file already in memory (errors carry no path).
pub fn images_from_bytes(bytes: &[u8]) -> Result<Tensor, DataError> {
    let (dims, data) = parse(bytes, IMAGES_MAGIC, "images")?;
    let (n, h, w) = (dims[0], dims[1], dims[2]);
    let v: Vec<f32> = data.iter().map(|&b| b as f32 / 127.5 - 1.0).collect();
    Ok(Tensor::from_vec(v, [n, 1, h, w]))
}

/// [`read_labels`] on the bytes of a file already in memory (errors carry no path).
pub fn labels_from_bytes(bytes: &[u8]) -> Result<Vec<usize>, DataError> {
    let (_, data) = parse(bytes, LABELS_MAGIC, "labels")?;
    Ok(data.iter().map(|&b| b as usize).collect())
}

fn with_gunzip_hint(e: DataError, path: &Path) -> DataError {
    if e.kind() == DataErrorKind::Compressed {
        let p = path.display();
        DataError::new(
            DataErrorKind::Compressed,
            format!(
                "file is gzip-compressed (it starts with the bytes 1f 8b); decompress it first \
                 with `gunzip {p}` and read the decompressed file"
            ),
        )
        .with_path(path)
    } else {
        e.with_path(path)
    }
}

/// A human description of an IDX magic number.
fn describe_magic(magic: u32) -> String {
    let b = magic.to_be_bytes();
    if b[0] != 0 || b[1] != 0 {
        return format!(
            "0x{magic:08x} (bytes {:02x} {:02x} {:02x} {:02x}: not an IDX file, whose first two bytes are 0)",
            b[0], b[1], b[2], b[3]
        );
    }
    let ty = match b[2] {
        0x08 => "u8",
        0x09 => "i8",
        0x0B => "i16",
        0x0C => "i32",
        0x0D => "f32",
        0x0E => "f64",
        _ => "unknown type",
    };
    let what = match (b[2], b[3]) {
        (0x08, 3) => ": an image file",
        (0x08, 1) => ": a label file",
        _ => "",
    };
    let s = if b[3] == 1 { "" } else { "s" };
    format!(
        "0x{magic:08x} (IDX, {ty} elements, {} dimension{s}{what})",
        b[3]
    )
}

/// Checks the header against `expected` magic and returns the dimensions and the element bytes.
fn parse<'a>(
    bytes: &'a [u8],
    expected: u32,
    what: &str,
) -> Result<(Vec<usize>, &'a [u8]), DataError> {
    if bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
        return Err(DataError::new(
            DataErrorKind::Compressed,
            "data is gzip-compressed (it starts with the bytes 1f 8b); decompress it first with `gunzip`",
        ));
    }
    if bytes.len() < 4 {
        return Err(DataError::new(
            DataErrorKind::Truncated,
            format!(
                "truncated: expected at least 4 bytes (the IDX magic number {}), found {}",
                describe_magic(expected),
                bytes.len()
            ),
        ));
    }
    let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if magic != expected {
        return Err(DataError::new(
            DataErrorKind::BadMagic,
            format!(
                "not an IDX {what} file: magic number {} found, expected {}",
                describe_magic(magic),
                describe_magic(expected)
            ),
        ));
    }
    let ndim = bytes[3] as usize;
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(DataError::new(
            DataErrorKind::Truncated,
            format!(
                "truncated: the header of {ndim} dimensions needs {header} bytes, found {}",
                bytes.len()
            ),
        ));
    }
    let dims: Vec<usize> = (0..ndim)
        .map(|i| {
            let o = 4 + 4 * i;
            u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize
        })
        .collect();
    let need = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| {
            DataError::new(
                DataErrorKind::Invalid,
                format!("header dimensions {dims:?} overflow"),
            )
        })?;
    let found = bytes.len() - header;
    let dims_str = dims
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(" × ");
    if found < need {
        return Err(DataError::new(
            DataErrorKind::Truncated,
            format!(
                "truncated: the header declares {dims_str} = {need} bytes of data after the \
                 {header}-byte header, found {found} (file is {} bytes, expected {}); the \
                 download may be incomplete",
                bytes.len(),
                header + need
            ),
        ));
    }
    if found > need {
        return Err(DataError::new(
            DataErrorKind::Invalid,
            format!(
                "{} unexpected bytes after the data: the header declares {dims_str} = {need} \
                 bytes after the {header}-byte header (file of {} bytes), found {found}",
                found - need,
                header + need
            ),
        ));
    }
    Ok((dims, &bytes[header..]))
}
