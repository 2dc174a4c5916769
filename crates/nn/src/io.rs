//! [`Tensor`] ↔ [`RawTensor`] conversion, and `.npy` files of tensors.
//!
//! The [`format`](crate::format) module reads and writes bytes on disk; this module is the
//! bridge to the library's tensors. Floats convert exactly both ways (`f32` ↔ `F32`,
//! `f64` ↔ `F64`). `I64` has no tensor dtype: integer state (step counters, RNG words) stays a
//! [`RawTensor`], read with [`RawTensor::to_i64_vec`] or [`u64s_from_raw`].
//!
//! ```
//! use tensor::Tensor;
//! let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], [3]);
//! let raw = minimax_nn::io::to_raw(&t);
//! assert_eq!(raw.shape, vec![3]);
//! assert_eq!(minimax_nn::io::from_raw(&raw).unwrap().to_vec_f32(), vec![1.0, 2.0, 3.0]);
//! ```

use std::path::Path;

use crate::format::{npy, FormatError, FormatErrorKind, RawDType, RawTensor};
use tensor::{DType, Tensor, MAX_DIMS};

/// The on-disk dtype of a tensor dtype.
pub fn raw_dtype(dtype: DType) -> RawDType {
    match dtype {
        DType::F32 => RawDType::F32,
        DType::F64 => RawDType::F64,
    }
}

/// The tensor dtype of an on-disk dtype, or `None` for `I64`.
pub fn tensor_dtype(dtype: RawDType) -> Option<DType> {
    match dtype {
        RawDType::F32 => Some(DType::F32),
        RawDType::F64 => Some(DType::F64),
        RawDType::I64 => None,
    }
}

/// Copies a tensor (any layout) into a row-major [`RawTensor`] of the same dtype.
pub fn to_raw(t: &Tensor) -> RawTensor {
    let c = t.contiguous();
    match t.dtype() {
        DType::F32 => RawTensor::from_f32(t.dims(), c.as_slice::<f32>()),
        DType::F64 => RawTensor::from_f64(t.dims(), c.as_slice::<f64>()),
    }
}

/// Converts a [`RawTensor`] to a tensor of the same dtype (bit-exact).
///
/// Errors (never panics) if the data length does not match the shape, the shape has more
/// than [`MAX_DIMS`] dimensions, or the dtype is `I64` (integers have no tensor dtype: use
/// [`RawTensor::to_i64_vec`]).
pub fn from_raw(raw: &RawTensor) -> Result<Tensor, FormatError> {
    raw.validate()?;
    if raw.shape.len() > MAX_DIMS {
        return Err(FormatError::new(
            FormatErrorKind::Unsupported,
            format!(
                "shape {:?} has {} dimensions; tensors have at most {MAX_DIMS}",
                raw.shape,
                raw.shape.len()
            ),
        ));
    }
    let shape = tensor::Shape::new(&raw.shape);
    match raw.dtype {
        RawDType::F32 => Ok(Tensor::from_vec(raw.to_f32_vec(), shape)),
        RawDType::F64 => Ok(Tensor::from_vec(raw.to_f64_vec(), shape)),
        RawDType::I64 => Err(FormatError::new(
            FormatErrorKind::Unsupported,
            "holds integers (I64), which have no tensor dtype; read it as a RawTensor with to_i64_vec()",
        )),
    }
}

/// Stores `u64` words bit for bit as an `I64` tensor of shape `[n]` (safetensors and NumPy
/// have no unsigned 64-bit type in common use; PyTorch stores its generator state the same
/// way).
pub fn u64s_to_raw(words: &[u64]) -> RawTensor {
    let v: Vec<i64> = words.iter().map(|&w| w as i64).collect();
    RawTensor::from_i64(&[v.len()], &v)
}

/// The inverse of [`u64s_to_raw`]: the words of a 1-D `I64` tensor, bit for bit.
pub fn u64s_from_raw(raw: &RawTensor) -> Result<Vec<u64>, FormatError> {
    raw.validate()?;
    if raw.dtype != RawDType::I64 || raw.shape.len() != 1 {
        return Err(FormatError::new(
            FormatErrorKind::Corrupt,
            format!(
                "expected a 1-D I64 tensor of u64 words, found {} of shape {:?}",
                raw.dtype, raw.shape
            ),
        ));
    }
    Ok(raw.to_i64_vec().into_iter().map(|w| w as u64).collect())
}

/// Writes a tensor as a NumPy `.npy` file (atomically; `np.load` reads it with the same
/// dtype and shape). Errors name the file.
pub fn save_npy(path: impl AsRef<Path>, t: &Tensor) -> Result<(), FormatError> {
    npy::save_npy(path.as_ref(), &to_raw(t))
}

/// Reads a float32 or float64 `.npy` file as a tensor. Errors (never panics) name the file:
/// unreadable or corrupt files, integer arrays, Fortran order, more than [`MAX_DIMS`]
/// dimensions.
pub fn load_npy(path: impl AsRef<Path>) -> Result<Tensor, FormatError> {
    let path = path.as_ref();
    let raw = npy::load_npy(path)?;
    from_raw(&raw).map_err(|e| e.with_file(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_are_bit_exact_for_views_and_both_dtypes() {
        let t = Tensor::from_vec(
            vec![1.5f32, -0.0, f32::MIN_POSITIVE, 7.25, f32::NAN, 3.0],
            [2, 3],
        );
        let tt = t.t(); // a non-contiguous view
        let back = from_raw(&to_raw(&tt)).unwrap();
        assert_eq!(back.dims(), &[3, 2]);
        let a: Vec<u32> = tt.to_vec_f32().iter().map(|x| x.to_bits()).collect();
        let b: Vec<u32> = back.to_vec_f32().iter().map(|x| x.to_bits()).collect();
        assert_eq!(a, b);
        let d = Tensor::from_vec(vec![0.1f64, 1e-300], [2]);
        let r = to_raw(&d);
        assert_eq!(r.dtype, RawDType::F64);
        assert_eq!(from_raw(&r).unwrap().to_vec_f64(), vec![0.1, 1e-300]);
        let s = Tensor::scalar(2.0, DType::F32);
        assert_eq!(to_raw(&s).shape, Vec::<usize>::new());
        assert_eq!(from_raw(&to_raw(&s)).unwrap().item(), 2.0);
    }

    #[test]
    fn integer_and_malformed_raw_tensors_are_errors() {
        let e = from_raw(&RawTensor::from_i64(&[2], &[1, 2])).unwrap_err();
        assert!(e.to_string().contains("I64"), "{e}");
        let mut bad = RawTensor::from_f32(&[2], &[1.0, 2.0]);
        bad.data.pop();
        assert!(from_raw(&bad).is_err());
        let deep = RawTensor::from_f32(&[1; 9], &[1.0]);
        assert!(from_raw(&deep)
            .unwrap_err()
            .to_string()
            .contains("9 dimensions"));
    }

    #[test]
    fn u64_words_round_trip() {
        let w = [0u64, 1, u64::MAX, 1 << 63];
        let r = u64s_to_raw(&w);
        assert_eq!(r.dtype, RawDType::I64);
        assert_eq!(u64s_from_raw(&r).unwrap(), w.to_vec());
        assert!(u64s_from_raw(&RawTensor::from_f64(&[1], &[1.0])).is_err());
    }
}
