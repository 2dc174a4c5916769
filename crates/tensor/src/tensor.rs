//! The [`Tensor`] type: shared immutable storage, a shape, strides and an offset.
//!
//! Views (`permute`, `transpose`, `expand`, `narrow`, `squeeze`, `unsqueeze`, and `reshape` of a
//! contiguous tensor) share storage and cost nothing; a broadcast view has stride 0 on the
//! broadcast dimensions. Every other op writes a new contiguous tensor. Values are never mutated
//! behind a user's back: the only in-place entry point, [`Tensor::data_mut`], copies first if the
//! storage is shared.

use crate::dtype::{DType, Element, Storage};
use crate::rng::Rng;
use crate::shape::{Shape, MAX_DIMS};
use crate::with_dtype;
use std::fmt;

/// An n-dimensional array of f32 or f64 values.
#[derive(Clone)]
pub struct Tensor {
    pub(crate) storage: Storage,
    pub(crate) shape: Shape,
    pub(crate) strides: [usize; MAX_DIMS],
    pub(crate) offset: usize,
}

impl Tensor {
    // ------------------------------------------------------------------ construction

    /// A contiguous tensor owning `data`, with the given shape.
    ///
    /// Panics if the number of elements does not match the shape.
    #[track_caller]
    pub fn from_vec<T: Element>(data: Vec<T>, shape: impl Into<Shape>) -> Tensor {
        let shape = shape.into();
        match Tensor::try_from_vec(data, shape) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Like [`Tensor::from_vec`], returning an error instead of panicking.
    pub fn try_from_vec<T: Element>(
        data: Vec<T>,
        shape: impl Into<Shape>,
    ) -> Result<Tensor, crate::TensorError> {
        let shape = shape.into();
        if data.len() != shape.numel() {
            return Err(crate::TensorError::new(format!(
                "from_vec: {} values cannot fill shape {:?} ({} elements)",
                data.len(),
                shape,
                shape.numel()
            )));
        }
        Ok(Tensor {
            storage: T::wrap(data),
            strides: shape.contiguous_strides(),
            shape,
            offset: 0,
        })
    }

    /// A contiguous tensor copied from a slice.
    #[track_caller]
    pub fn from_slice<T: Element>(data: &[T], shape: impl Into<Shape>) -> Tensor {
        Tensor::from_vec(data.to_vec(), shape)
    }

    /// A 0-dimensional tensor holding `v`.
    pub fn scalar(v: f64, dtype: DType) -> Tensor {
        Tensor::full(Shape::scalar(), v, dtype)
    }

    /// A tensor with every element equal to `v`.
    pub fn full(shape: impl Into<Shape>, v: f64, dtype: DType) -> Tensor {
        let shape = shape.into();
        with_dtype!(dtype, T => Tensor::from_vec(crate::pool::filled(shape.numel(), T::from_f64(v)), shape))
    }

    /// A tensor of zeros.
    pub fn zeros(shape: impl Into<Shape>, dtype: DType) -> Tensor {
        Tensor::full(shape, 0.0, dtype)
    }

    /// A tensor of ones.
    pub fn ones(shape: impl Into<Shape>, dtype: DType) -> Tensor {
        Tensor::full(shape, 1.0, dtype)
    }

    /// Zeros with the shape and dtype of `self`.
    pub fn zeros_like(&self) -> Tensor {
        Tensor::zeros(self.shape, self.dtype())
    }

    /// Ones with the shape and dtype of `self`.
    pub fn ones_like(&self) -> Tensor {
        Tensor::ones(self.shape, self.dtype())
    }

    /// `[start, start + step, …]` up to but excluding `end` (like `torch.arange`).
    #[track_caller]
    pub fn arange(start: f64, end: f64, step: f64, dtype: DType) -> Tensor {
        assert!(step != 0.0, "arange: step must be non-zero");
        let n = ((end - start) / step).ceil().max(0.0) as usize;
        with_dtype!(dtype, T => {
            let v: Vec<T> = (0..n).map(|i| T::from_f64(start + i as f64 * step)).collect();
            Tensor::from_vec(v, [n])
        })
    }

    /// `n` evenly spaced values from `start` to `end`, both included (like `torch.linspace`).
    pub fn linspace(start: f64, end: f64, n: usize, dtype: DType) -> Tensor {
        with_dtype!(dtype, T => {
            let v: Vec<T> = (0..n)
                .map(|i| {
                    if n == 1 {
                        T::from_f64(start)
                    } else if 2 * i < n {
                        T::from_f64(start + (end - start) * i as f64 / (n - 1) as f64)
                    } else {
                        // the second half counts back from `end`, so the last value is
                        // exactly `end` (start + (end - start) need not be)
                        T::from_f64(end - (end - start) * (n - 1 - i) as f64 / (n - 1) as f64)
                    }
                })
                .collect();
            Tensor::from_vec(v, [n])
        })
    }

    /// The `n × n` identity matrix.
    pub fn eye(n: usize, dtype: DType) -> Tensor {
        with_dtype!(dtype, T => {
            let mut v = vec![T::ZERO; n * n];
            for i in 0..n {
                v[i * n + i] = T::ONE;
            }
            Tensor::from_vec(v, [n, n])
        })
    }

    /// Uniform draws in `[low, high)` from `rng`. A draw that rounds up to `high` in the
    /// tensor's dtype is redrawn (so f32 draws never equal `high`).
    pub fn rand_uniform(
        shape: impl Into<Shape>,
        low: f64,
        high: f64,
        dtype: DType,
        rng: &mut Rng,
    ) -> Tensor {
        let shape = shape.into();
        with_dtype!(dtype, T => {
            let hi = T::from_f64(high);
            // if [low, high) is empty in T, any draw is accepted (no infinite redraw)
            let open = hi > T::from_f64(low);
            let v: Vec<T> = (0..shape.numel())
                .map(|_| loop {
                    let x = T::from_f64(low + (high - low) * rng.uniform());
                    if x < hi || !open {
                        break x;
                    }
                })
                .collect();
            Tensor::from_vec(v, shape)
        })
    }

    /// Normal draws with the given mean and standard deviation from `rng`.
    pub fn randn(
        shape: impl Into<Shape>,
        mean: f64,
        std: f64,
        dtype: DType,
        rng: &mut Rng,
    ) -> Tensor {
        let shape = shape.into();
        with_dtype!(dtype, T => {
            let v: Vec<T> = (0..shape.numel())
                .map(|_| T::from_f64(mean + std * rng.normal()))
                .collect();
            Tensor::from_vec(v, shape)
        })
    }

    /// 1 with probability `p`, else 0, drawn from `rng`.
    #[track_caller]
    pub fn bernoulli(shape: impl Into<Shape>, p: f64, dtype: DType, rng: &mut Rng) -> Tensor {
        assert!(
            (0.0..=1.0).contains(&p),
            "bernoulli: p = {p} is not in [0, 1]"
        );
        let shape = shape.into();
        with_dtype!(dtype, T => {
            let v: Vec<T> = (0..shape.numel())
                .map(|_| if rng.uniform() < p { T::ONE } else { T::ZERO })
                .collect();
            Tensor::from_vec(v, shape)
        })
    }

    // ------------------------------------------------------------------ inspection

    /// The element type.
    #[inline]
    pub fn dtype(&self) -> DType {
        self.storage.dtype()
    }
    /// The shape.
    #[inline]
    pub fn shape(&self) -> &Shape {
        &self.shape
    }
    /// The dimensions as a slice.
    #[inline]
    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }
    /// Number of dimensions.
    #[inline]
    pub fn ndim(&self) -> usize {
        self.shape.ndim()
    }
    /// Number of elements.
    #[inline]
    pub fn numel(&self) -> usize {
        self.shape.numel()
    }
    /// Size of dimension `axis` (negative counts from the end).
    #[track_caller]
    pub fn dim(&self, axis: isize) -> usize {
        self.shape[self.shape.axis(axis, "dim")]
    }
    /// The strides, in elements.
    pub fn strides(&self) -> &[usize] {
        &self.strides[..self.ndim()]
    }
    /// Whether the elements are laid out densely in row-major order starting at the offset.
    pub fn is_contiguous(&self) -> bool {
        let mut acc = 1;
        for i in (0..self.ndim()).rev() {
            if self.shape[i] != 1 && self.strides[i] != acc {
                return false;
            }
            acc *= self.shape[i];
        }
        true
    }

    /// The tensor itself if contiguous, else a contiguous copy.
    pub fn contiguous(&self) -> Tensor {
        if self.is_contiguous() {
            return self.clone();
        }
        with_dtype!(self.dtype(), T => Tensor::from_vec(self.gather_strided::<T>(), self.shape))
    }

    /// Copies the elements in row-major order (any layout).
    fn gather_strided<T: Element>(&self) -> Vec<T> {
        let src = T::slice(&self.storage).expect("dtype tag matches storage");
        let n = self.numel();
        let mut out = crate::pool::take(n);
        if n == 0 {
            return out;
        }
        let nd = self.ndim();
        if nd == 0 {
            out.push(src[self.offset]);
            return out;
        }
        let inner = self.shape[nd - 1];
        let is = self.strides[nd - 1];
        let mut idx = [0usize; MAX_DIMS];
        let mut base = self.offset;
        let outer = n / inner;
        for _ in 0..outer {
            if is == 1 {
                out.extend_from_slice(&src[base..base + inner]);
            } else {
                for j in 0..inner {
                    out.push(src[base + j * is]);
                }
            }
            // advance the outer index (all dims but the last)
            let mut d = nd - 1;
            while d > 0 {
                d -= 1;
                idx[d] += 1;
                base += self.strides[d];
                if idx[d] < self.shape[d] {
                    break;
                }
                base -= self.strides[d] * self.shape[d];
                idx[d] = 0;
            }
        }
        out
    }

    /// The elements of a contiguous tensor of dtype `T`.
    ///
    /// Panics if the dtype differs or the tensor is a non-contiguous view (call
    /// [`Tensor::contiguous`] first).
    #[track_caller]
    pub fn as_slice<T: Element>(&self) -> &[T] {
        let s = match T::slice(&self.storage) {
            Some(s) => s,
            None => panic!(
                "as_slice: tensor has dtype {} but {} was asked for",
                self.dtype(),
                T::DTYPE
            ),
        };
        assert!(
            self.is_contiguous(),
            "as_slice: tensor of shape {:?} with strides {:?} is a non-contiguous view; call .contiguous() first",
            self.shape,
            self.strides()
        );
        &s[self.offset..self.offset + self.numel()]
    }

    /// Mutable access to the elements, for in-place updates where ownership is clear (an
    /// optimizer step on a parameter's own buffer). Makes the tensor contiguous and its storage
    /// unshared first (copy-on-write), so no other tensor sees the change.
    #[track_caller]
    pub fn data_mut<T: Element>(&mut self) -> &mut [T] {
        if !self.is_contiguous() || self.offset != 0 || self.storage.len() != self.numel() {
            *self = with_dtype!(self.dtype(), U => Tensor::from_vec(self.gather_strided::<U>(), self.shape));
        }
        let dt = self.dtype();
        match T::make_mut(&mut self.storage) {
            Some(v) => v.as_mut_slice(),
            None => panic!(
                "data_mut: tensor has dtype {dt} but {} was asked for",
                T::DTYPE
            ),
        }
    }

    /// The elements in row-major order, converted to `T`.
    pub fn to_vec<T: Element>(&self) -> Vec<T> {
        with_dtype!(self.dtype(), U => {
            let c = self.contiguous();
            c.as_slice::<U>().iter().map(|&x| T::from_f64(x.to_f64())).collect()
        })
    }

    /// The elements as f32.
    pub fn to_vec_f32(&self) -> Vec<f32> {
        self.to_vec::<f32>()
    }

    /// The elements as f64.
    pub fn to_vec_f64(&self) -> Vec<f64> {
        self.to_vec::<f64>()
    }

    /// The single value of a one-element tensor, as f64.
    #[track_caller]
    pub fn item(&self) -> f64 {
        assert!(
            self.numel() == 1,
            "item: tensor of shape {:?} has {} elements, not 1",
            self.shape,
            self.numel()
        );
        self.to_vec_f64()[0]
    }

    /// The element at a multi-index, as f64.
    #[track_caller]
    pub fn get(&self, index: &[usize]) -> f64 {
        assert!(
            index.len() == self.ndim() && index.iter().zip(self.dims()).all(|(i, d)| i < d),
            "get: index {:?} is out of bounds for shape {:?}",
            index,
            self.shape
        );
        let off = self.offset
            + index
                .iter()
                .zip(self.strides())
                .map(|(i, s)| i * s)
                .sum::<usize>();
        with_dtype!(self.dtype(), T => T::slice(&self.storage).unwrap()[off].to_f64())
    }

    /// Converts to another dtype (a copy, or `self` if it already has that dtype).
    pub fn to_dtype(&self, dtype: DType) -> Tensor {
        if dtype == self.dtype() {
            return self.clone();
        }
        with_dtype!(dtype, T => Tensor::from_vec(self.to_vec::<T>(), self.shape))
    }

    /// Whether two tensors share the same storage buffer.
    pub fn shares_storage(&self, other: &Tensor) -> bool {
        match (&self.storage, &other.storage) {
            (Storage::F32(a), Storage::F32(b)) => std::sync::Arc::ptr_eq(a, b),
            (Storage::F64(a), Storage::F64(b)) => std::sync::Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// Adds `other` into this tensor's buffer in place, if the buffer belongs to this tensor
    /// alone (no other tensor or view shares it), both are contiguous, and the shapes and
    /// dtypes match; returns whether it did (if not, nothing changed). The result has the bits
    /// of [`Tensor::add`]. For accumulating sums (gradients) without a new buffer per term.
    pub fn add_assign_if_unique(&mut self, other: &Tensor) -> bool {
        if self.shape != other.shape
            || self.offset != 0
            || !self.is_contiguous()
            || !other.is_contiguous()
        {
            return false;
        }
        fn add<T: Element>(dst: Option<&mut Vec<T>>, src: &[T]) -> bool {
            match dst {
                Some(d) if d.len() == src.len() => {
                    let par = d.len() >= crate::parallel::PAR_THRESHOLD;
                    crate::parallel::for_chunks_mut_if(par, d, crate::parallel::CHUNK, |ci, o| {
                        let s = &src[ci * crate::parallel::CHUNK..][..o.len()];
                        crate::kernels::elementwise::add_assign(o, s);
                    });
                    true
                }
                _ => false,
            }
        }
        match (&mut self.storage, &other.storage) {
            (Storage::F32(a), Storage::F32(_)) => add(
                std::sync::Arc::get_mut(a).map(|b| &mut **b),
                other.as_slice::<f32>(),
            ),
            (Storage::F64(a), Storage::F64(_)) => add(
                std::sync::Arc::get_mut(a).map(|b| &mut **b),
                other.as_slice::<f64>(),
            ),
            _ => false,
        }
    }

    /// Whether all elements are finite.
    pub fn all_finite(&self) -> bool {
        with_dtype!(self.dtype(), T => self.contiguous().as_slice::<T>().iter().all(|x| x.is_finite()))
    }

    /// Whether two tensors have the same shape and all elements within `atol + rtol·|b|`.
    pub fn allclose(&self, other: &Tensor, rtol: f64, atol: f64) -> bool {
        self.shape == other.shape
            && self
                .to_vec_f64()
                .iter()
                .zip(other.to_vec_f64())
                .all(|(a, b)| (a - b).abs() <= atol + rtol * b.abs() || (a.is_nan() && b.is_nan()))
    }

    pub(crate) fn from_parts(
        storage: Storage,
        shape: Shape,
        strides: [usize; MAX_DIMS],
        offset: usize,
    ) -> Tensor {
        Tensor {
            storage,
            shape,
            strides,
            offset,
        }
    }
}

// ---------------------------------------------------------------------- printing

fn fmt_value(v: f64, prec: usize) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else if v != 0.0 && (v.abs() >= 1e6 || v.abs() < 1e-4) {
        format!("{v:.prec$e}")
    } else {
        format!("{v:.prec$}")
    }
}

const EDGE: usize = 3;
const ELIDE_ABOVE: usize = 1000;

fn fmt_rec(
    f: &mut fmt::Formatter<'_>,
    vals: &[f64],
    dims: &[usize],
    strides: &[usize],
    base: usize,
    width: usize,
    prec: usize,
    elide: bool,
    indent: usize,
) -> fmt::Result {
    if dims.is_empty() {
        return write!(f, "{:>width$}", fmt_value(vals[base], prec));
    }
    let n = dims[0];
    write!(f, "[")?;
    let show: Vec<Option<usize>> = if elide && n > 2 * EDGE {
        (0..EDGE)
            .map(Some)
            .chain(std::iter::once(None))
            .chain((n - EDGE..n).map(Some))
            .collect()
    } else {
        (0..n).map(Some).collect()
    };
    for (k, i) in show.iter().enumerate() {
        if k > 0 {
            if dims.len() == 1 {
                write!(f, ", ")?;
            } else {
                write!(f, ",")?;
                for _ in 0..dims.len() - 1 {
                    writeln!(f)?;
                }
                write!(f, "{:indent$}", "", indent = indent + 1)?;
            }
        }
        match i {
            Some(i) => fmt_rec(
                f,
                vals,
                &dims[1..],
                &strides[1..],
                base + i * strides[0],
                width,
                prec,
                elide,
                indent + 1,
            )?,
            None => write!(f, "...")?,
        }
    }
    write!(f, "]")
}

impl fmt::Display for Tensor {
    /// Prints like PyTorch: `tensor([[1.0000, 2.0000], …], shape=[2, 2], dtype=float32)`,
    /// eliding the middle of dimensions longer than 6 when the tensor has over 1000 elements.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let vals = self.to_vec_f64();
        let prec = f.precision().unwrap_or(4);
        let width = vals
            .iter()
            .map(|&v| fmt_value(v, prec).len())
            .max()
            .unwrap_or(1);
        let strides: Vec<usize> = self.shape.contiguous_strides()[..self.ndim()].to_vec();
        write!(f, "tensor(")?;
        if vals.is_empty() {
            write!(f, "[]")?;
        } else {
            fmt_rec(
                f,
                &vals,
                self.dims(),
                &strides,
                0,
                width,
                prec,
                vals.len() > ELIDE_ABOVE,
                7,
            )?;
        }
        write!(f, ", shape={:?}, dtype={})", self.shape, self.dtype())
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
