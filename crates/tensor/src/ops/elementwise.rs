//! Elementwise ops on tensors, with NumPy/PyTorch broadcasting.

use crate::error::{ok, TensorError};
use crate::kernels::elementwise::{self as kern, BinaryOp, Stepping, UnaryOp};
use crate::parallel;
use crate::shape::{broadcast_shapes, Shape, MAX_DIMS};
use crate::{with_dtype, Element, Tensor};
use std::mem::MaybeUninit;

impl Tensor {
    /// Applies a unary kernel, producing a new contiguous tensor.
    pub fn unary(&self, op: UnaryOp) -> Tensor {
        with_dtype!(self.dtype(), T => {
            if self.numel() <= SMALL_UNARY && self.is_contiguous() {
                return unary_small::<T>(self, op);
            }
            let x = self.contiguous();
            let src = x.as_slice::<T>();
            let out = new_written(src.len(), parallel::CHUNK, |ci, o| {
                let s = &src[ci * parallel::CHUNK..ci * parallel::CHUNK + o.len()];
                kern::unary_uninit(op, s, o);
            });
            Tensor::from_vec(out, self.shape)
        })
    }

    /// Applies a binary kernel with broadcasting; errors name the op and both shapes/dtypes.
    pub fn try_binary(&self, other: &Tensor, op: BinaryOp) -> Result<Tensor, TensorError> {
        if self.dtype() != other.dtype() {
            return Err(TensorError::new(format!(
                "{}: dtype mismatch: {} {:?} and {} {:?} (convert one with .to_dtype())",
                op.name(),
                self.dtype(),
                self.shape,
                other.dtype(),
                other.shape
            )));
        }
        let out_shape = broadcast_shapes(&self.shape, &other.shape).ok_or_else(|| {
            TensorError::shapes(
                op.name(),
                "shapes cannot be broadcast together",
                &self.shape,
                &other.shape,
            )
        })?;
        Ok(with_dtype!(self.dtype(), T => binary_impl::<T>(self, other, op, out_shape)))
    }

    /// Applies a binary kernel with broadcasting, panicking at the caller's line on mismatch.
    #[track_caller]
    pub fn binary(&self, other: &Tensor, op: BinaryOp) -> Tensor {
        ok(self.try_binary(other, op))
    }

    /// The gradient of [`Tensor::leaky_relu`] at `input` (`relu` with slope 0), given the
    /// gradient `self` of its output: `self` where `input > 0`, else `slope · self`, in one pass.
    #[track_caller]
    pub fn leaky_relu_backward(&self, input: &Tensor, slope: f64) -> Tensor {
        self.binary(input, BinaryOp::LeakyReluBackward(slope))
    }

    /// `self + other`, broadcasting.
    #[track_caller]
    pub fn add(&self, other: &Tensor) -> Tensor {
        self.binary(other, BinaryOp::Add)
    }
    /// `self - other`, broadcasting.
    #[track_caller]
    pub fn sub(&self, other: &Tensor) -> Tensor {
        self.binary(other, BinaryOp::Sub)
    }
    /// `self * other`, broadcasting.
    #[track_caller]
    pub fn mul(&self, other: &Tensor) -> Tensor {
        self.binary(other, BinaryOp::Mul)
    }
    /// `self / other`, broadcasting.
    #[track_caller]
    pub fn div(&self, other: &Tensor) -> Tensor {
        self.binary(other, BinaryOp::Div)
    }
    /// `self ^ other`, broadcasting.
    #[track_caller]
    pub fn pow(&self, other: &Tensor) -> Tensor {
        self.binary(other, BinaryOp::Pow)
    }
    /// Elementwise maximum, broadcasting.
    #[track_caller]
    pub fn maximum(&self, other: &Tensor) -> Tensor {
        self.binary(other, BinaryOp::Maximum)
    }
    /// Elementwise minimum, broadcasting.
    #[track_caller]
    pub fn minimum(&self, other: &Tensor) -> Tensor {
        self.binary(other, BinaryOp::Minimum)
    }
    /// Mask (1/0) of `self == other`.
    #[track_caller]
    pub fn eq(&self, other: &Tensor) -> Tensor {
        self.binary(other, BinaryOp::Eq)
    }
    /// Mask (1/0) of `self != other`.
    #[track_caller]
    pub fn ne(&self, other: &Tensor) -> Tensor {
        self.binary(other, BinaryOp::Ne)
    }
    /// Mask (1/0) of `self < other`.
    #[track_caller]
    pub fn lt(&self, other: &Tensor) -> Tensor {
        self.binary(other, BinaryOp::Lt)
    }
    /// Mask (1/0) of `self <= other`.
    #[track_caller]
    pub fn le(&self, other: &Tensor) -> Tensor {
        self.binary(other, BinaryOp::Le)
    }
    /// Mask (1/0) of `self > other`.
    #[track_caller]
    pub fn gt(&self, other: &Tensor) -> Tensor {
        self.binary(other, BinaryOp::Gt)
    }
    /// Mask (1/0) of `self >= other`.
    #[track_caller]
    pub fn ge(&self, other: &Tensor) -> Tensor {
        self.binary(other, BinaryOp::Ge)
    }

    /// `cond ? a : b` elementwise with broadcasting of all three (`cond` is a 1/0 mask;
    /// any non-zero counts as true).
    #[track_caller]
    pub fn where_(cond: &Tensor, a: &Tensor, b: &Tensor) -> Tensor {
        ok(Tensor::try_where(cond, a, b))
    }

    /// Fallible form of [`Tensor::where_`].
    pub fn try_where(cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor, TensorError> {
        if a.dtype() != b.dtype() {
            return Err(TensorError::dtypes("where", a.dtype(), b.dtype()));
        }
        let ab = broadcast_shapes(&a.shape, &b.shape).ok_or_else(|| {
            TensorError::shapes(
                "where",
                "shapes cannot be broadcast together",
                &a.shape,
                &b.shape,
            )
        })?;
        let s = broadcast_shapes(&cond.shape, &ab).ok_or_else(|| {
            TensorError::shapes(
                "where",
                "condition shape cannot be broadcast to",
                &cond.shape,
                &ab,
            )
        })?;
        let c = cond.to_dtype(a.dtype()).expand(s).contiguous();
        let (ea, eb) = (a.expand(s).contiguous(), b.expand(s).contiguous());
        Ok(with_dtype!(a.dtype(), T => {
            let (c, x, y) = (c.as_slice::<T>(), ea.as_slice::<T>(), eb.as_slice::<T>());
            let v: Vec<T> = c.iter().zip(x).zip(y).map(|((&c, &x), &y)| if c != T::ZERO { x } else { y }).collect();
            Tensor::from_vec(v, s)
        }))
    }

    /// -x
    pub fn neg(&self) -> Tensor {
        self.unary(UnaryOp::Neg)
    }
    /// |x|
    pub fn abs(&self) -> Tensor {
        self.unary(UnaryOp::Abs)
    }
    /// sign(x) ∈ {-1, 0, 1}
    pub fn sign(&self) -> Tensor {
        self.unary(UnaryOp::Sign)
    }
    /// e^x (f32: the approximation of [`crate::kernels::fastmath::exp_f32`]).
    pub fn exp(&self) -> Tensor {
        self.unary(UnaryOp::Exp)
    }
    /// ln x (f32: [`crate::kernels::fastmath::ln_f32`]).
    pub fn log(&self) -> Tensor {
        self.unary(UnaryOp::Log)
    }
    /// √x
    pub fn sqrt(&self) -> Tensor {
        self.unary(UnaryOp::Sqrt)
    }
    /// x²
    pub fn square(&self) -> Tensor {
        self.unary(UnaryOp::Square)
    }
    /// 1/x
    pub fn reciprocal(&self) -> Tensor {
        self.unary(UnaryOp::Recip)
    }
    /// sin x
    pub fn sin(&self) -> Tensor {
        self.unary(UnaryOp::Sin)
    }
    /// cos x
    pub fn cos(&self) -> Tensor {
        self.unary(UnaryOp::Cos)
    }
    /// max(x, 0)
    pub fn relu(&self) -> Tensor {
        self.unary(UnaryOp::Relu)
    }
    /// x for x > 0, else slope·x
    pub fn leaky_relu(&self, slope: f64) -> Tensor {
        self.unary(UnaryOp::LeakyRelu(slope))
    }
    /// 1/(1 + e^-x)
    pub fn sigmoid(&self) -> Tensor {
        self.unary(UnaryOp::Sigmoid)
    }
    /// tanh x
    pub fn tanh(&self) -> Tensor {
        self.unary(UnaryOp::Tanh)
    }
    /// ln(1 + e^x), computed stably as max(x, 0) + ln(1 + e^-|x|).
    pub fn softplus(&self) -> Tensor {
        self.unary(UnaryOp::Softplus)
    }
    /// ln σ(x) = -softplus(-x), stable for large |x|.
    pub fn log_sigmoid(&self) -> Tensor {
        self.unary(UnaryOp::LogSigmoid)
    }
    /// min(max(x, lo), hi)
    pub fn clamp(&self, lo: f64, hi: f64) -> Tensor {
        self.unary(UnaryOp::Clamp(lo, hi))
    }
    /// x + c
    pub fn add_scalar(&self, c: f64) -> Tensor {
        self.unary(UnaryOp::AddScalar(c))
    }
    /// x - c
    pub fn sub_scalar(&self, c: f64) -> Tensor {
        self.unary(UnaryOp::AddScalar(-c))
    }
    /// x · c
    pub fn mul_scalar(&self, c: f64) -> Tensor {
        self.unary(UnaryOp::MulScalar(c))
    }
    /// x / c
    pub fn div_scalar(&self, c: f64) -> Tensor {
        self.unary(UnaryOp::DivScalar(c))
    }
    /// x^c
    pub fn pow_scalar(&self, c: f64) -> Tensor {
        self.unary(UnaryOp::PowScalar(c))
    }
    /// c^x
    pub fn scalar_pow(&self, c: f64) -> Tensor {
        self.unary(UnaryOp::ScalarPow(c))
    }
    /// Mask (1/0) of x > c.
    pub fn gt_scalar(&self, c: f64) -> Tensor {
        self.unary(UnaryOp::GtScalar(c))
    }
    /// Mask (1/0) of x ≥ c.
    pub fn ge_scalar(&self, c: f64) -> Tensor {
        self.unary(UnaryOp::GeScalar(c))
    }
    /// Mask (1/0) of x < c.
    pub fn lt_scalar(&self, c: f64) -> Tensor {
        self.unary(UnaryOp::LtScalar(c))
    }
    /// Mask (1/0) of x == c.
    pub fn eq_scalar(&self, c: f64) -> Tensor {
        self.unary(UnaryOp::EqScalar(c))
    }
}

fn binary_impl<T: Element>(a: &Tensor, b: &Tensor, op: BinaryOp, out_shape: Shape) -> Tensor {
    let n = out_shape.numel();
    if n == 0 {
        return Tensor::from_vec(Vec::<T>::new(), out_shape);
    }
    // Fast paths: same shape (both contiguous) or one side a single element. A one-element
    // side is held fixed (a contiguous copy of one element is cheap).
    let stepping = if a.shape == b.shape && a.is_contiguous() && b.is_contiguous() {
        Some(Stepping::Both)
    } else if b.numel() == 1 && a.shape == out_shape && a.is_contiguous() {
        Some(Stepping::ScalarB)
    } else if a.numel() == 1 && b.shape == out_shape && b.is_contiguous() {
        Some(Stepping::ScalarA)
    } else {
        None
    };
    if let Some(st) = stepping {
        let (ca, cb) = (a.contiguous(), b.contiguous());
        let (x, y) = (ca.as_slice::<T>(), cb.as_slice::<T>());
        let out = new_written(n, parallel::CHUNK, |ci, o| {
            let r = ci * parallel::CHUNK..ci * parallel::CHUNK + o.len();
            // the stepping side of a scalar operand is its one element
            let xs = if st == Stepping::ScalarA {
                x
            } else {
                &x[r.clone()]
            };
            let ys = if st == Stepping::ScalarB { y } else { &y[r] };
            kern::binary_uninit(op, st, xs, ys, o);
        });
        return Tensor::from_vec(out, out_shape);
    }
    // General path: walk rows of the output's last dimension with broadcast (zero) strides.
    // Adjacent dimensions laid out alike in both operands are merged first, so a broadcast
    // over the trailing dims of a batch-norm ([N, C, H, W] − [1, C, 1, 1]) walks rows of H·W.
    let (ea, eb, iter_shape) = coalesce(&a.expand(out_shape), &b.expand(out_shape));
    let (xa, xb) = (
        T::slice(&ea.storage).unwrap(),
        T::slice(&eb.storage).unwrap(),
    );
    let nd = iter_shape.ndim();
    let inner = if nd == 0 { 1 } else { iter_shape[nd - 1] };
    let (sa, sb) = if nd == 0 {
        (0, 0)
    } else {
        (ea.strides[nd - 1], eb.strides[nd - 1])
    };
    let rows_per = (parallel::CHUNK / inner.max(1)).max(1);
    let out = new_written(n, rows_per * inner, |ci, o| {
        let row0 = ci * rows_per;
        let mut idx = [0usize; MAX_DIMS];
        // multi-index of row0 over dims 0..nd-1
        let mut r = row0;
        for d in (0..nd.saturating_sub(1)).rev() {
            idx[d] = r % iter_shape[d];
            r /= iter_shape[d];
        }
        let mut oa = ea.offset
            + (0..nd.saturating_sub(1))
                .map(|d| idx[d] * ea.strides[d])
                .sum::<usize>();
        let mut ob = eb.offset
            + (0..nd.saturating_sub(1))
                .map(|d| idx[d] * eb.strides[d])
                .sum::<usize>();
        let mut tmp_a = vec![T::ZERO; if sa > 1 { inner } else { 0 }];
        let mut tmp_b = vec![T::ZERO; if sb > 1 { inner } else { 0 }];
        for orow in o.chunks_mut(inner) {
            let (pa, sta) = match sa {
                0 => (&xa[oa..oa + 1], true),
                1 => (&xa[oa..oa + inner], false),
                _ => {
                    for j in 0..inner {
                        tmp_a[j] = xa[oa + j * sa];
                    }
                    (&tmp_a[..], false)
                }
            };
            let (pb, stb) = match sb {
                0 => (&xb[ob..ob + 1], true),
                1 => (&xb[ob..ob + inner], false),
                _ => {
                    for j in 0..inner {
                        tmp_b[j] = xb[ob + j * sb];
                    }
                    (&tmp_b[..], false)
                }
            };
            // short rows: the plain loop inline, no dispatch per row
            let run = |st: Stepping, pa: &[T], pb: &[T], o: &mut [MaybeUninit<T>]| {
                if inner < 32 {
                    kern::binary_loop(op, st, pa, pb, o)
                } else {
                    kern::binary_uninit(op, st, pa, pb, o)
                }
            };
            match (sta, stb) {
                (false, false) => run(Stepping::Both, pa, pb, orow),
                (true, false) => run(Stepping::ScalarA, pa, pb, orow),
                (false, true) => run(Stepping::ScalarB, pa, pb, orow),
                (true, true) => {
                    let mut one = [MaybeUninit::uninit()];
                    run(Stepping::Both, pa, pb, &mut one);
                    // SAFETY: the kernel wrote the one element.
                    let v = unsafe { one[0].assume_init() };
                    orow.iter_mut().for_each(|o| {
                        o.write(v);
                    });
                }
            }
            // advance to the next row
            let mut d = nd.saturating_sub(1);
            while d > 0 {
                d -= 1;
                idx[d] += 1;
                oa += ea.strides[d];
                ob += eb.strides[d];
                if idx[d] < iter_shape[d] {
                    break;
                }
                oa -= ea.strides[d] * iter_shape[d];
                ob -= eb.strides[d] * iter_shape[d];
                idx[d] = 0;
            }
        }
    });
    Tensor::from_vec(out, out_shape)
}

/// Contiguous inputs of at most this many elements take [`unary_small`].
const SMALL_UNARY: usize = 16;

/// [`Tensor::unary`] of a small contiguous tensor (a scalar in an autodiff chain): the kernel
/// loop on the stored elements, written straight into the output buffer — without the
/// chunking machinery, a copy of the input's view, or the run-time choice of the AVX2 build
/// (the baseline build gives the same bits; `unary_simd_matches_scalar_twin`), which are
/// most of the cost of an op on one element.
fn unary_small<T: Element>(x: &Tensor, op: UnaryOp) -> Tensor {
    let n = x.numel();
    let src = &T::slice(&x.storage).expect("dtype tag matches storage")[x.offset..x.offset + n];
    let mut out = Vec::with_capacity(n);
    kern::unary_loop(op, src, &mut out.spare_capacity_mut()[..n]);
    // SAFETY: the loop wrote all n elements (`src` has n).
    unsafe { out.set_len(n) };
    Tensor::from_parts(T::wrap(out), x.shape, x.shape.contiguous_strides(), 0)
}

/// A new buffer of `n` elements, written chunk by chunk (in parallel for large `n`) by
/// `fill(chunk_index, chunk)`, which must write every element of its chunk — the elementwise
/// kernels do — so the buffer is never zero-filled first (that fill cost ~20 % of an
/// elementwise op, and a fifth of W2's instructions). Also the output of the fused normalize.
pub(crate) fn new_written<T: Element>(
    n: usize,
    chunk: usize,
    fill: impl Fn(usize, &mut [MaybeUninit<T>]) + Send + Sync,
) -> Vec<T> {
    let mut v = crate::pool::take(n);
    parallel::for_chunks_mut_if(
        n >= parallel::PAR_THRESHOLD,
        &mut v.spare_capacity_mut()[..n],
        chunk,
        fill,
    );
    // SAFETY: the chunks cover 0..n and `fill` wrote every element of each.
    unsafe { v.set_len(n) };
    v
}

/// Merges adjacent dimensions that both (broadcast) operands lay out contiguously relative to
/// each other, and drops size-1 dimensions; returns views with the merged shape and strides.
fn coalesce(a: &Tensor, b: &Tensor) -> (Tensor, Tensor, Shape) {
    let shape = *a.shape();
    let mut dims: Vec<usize> = Vec::new();
    let mut sa: Vec<usize> = Vec::new();
    let mut sb: Vec<usize> = Vec::new();
    for d in 0..shape.ndim() {
        if shape[d] == 1 {
            continue;
        }
        if let Some(last) = dims.len().checked_sub(1) {
            if sa[last] == a.strides[d] * shape[d] && sb[last] == b.strides[d] * shape[d] {
                dims[last] *= shape[d];
                sa[last] = a.strides[d];
                sb[last] = b.strides[d];
                continue;
            }
        }
        dims.push(shape[d]);
        sa.push(a.strides[d]);
        sb.push(b.strides[d]);
    }
    if dims.is_empty() {
        dims.push(1);
        sa.push(0);
        sb.push(0);
    }
    let ns = Shape::new(&dims);
    let mut ast = [0usize; MAX_DIMS];
    let mut bst = [0usize; MAX_DIMS];
    ast[..sa.len()].copy_from_slice(&sa);
    bst[..sb.len()].copy_from_slice(&sb);
    (
        Tensor::from_parts(a.storage.clone(), ns, ast, a.offset),
        Tensor::from_parts(b.storage.clone(), ns, bst, b.offset),
        ns,
    )
}

macro_rules! impl_op {
    ($tr:ident, $m:ident, $f:ident, $sc:ident) => {
        impl std::ops::$tr<&Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $m(self, o: &Tensor) -> Tensor {
                Tensor::$f(self, o)
            }
        }
        impl std::ops::$tr<Tensor> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $m(self, o: Tensor) -> Tensor {
                Tensor::$f(&self, &o)
            }
        }
        impl std::ops::$tr<f64> for &Tensor {
            type Output = Tensor;
            fn $m(self, c: f64) -> Tensor {
                self.$sc(c)
            }
        }
        impl std::ops::$tr<f64> for Tensor {
            type Output = Tensor;
            fn $m(self, c: f64) -> Tensor {
                self.$sc(c)
            }
        }
    };
}
impl_op!(Add, add, add, add_scalar);
impl_op!(Sub, sub, sub, sub_scalar);
impl_op!(Mul, mul, mul, mul_scalar);
impl_op!(Div, div, div, div_scalar);

impl std::ops::Neg for &Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(self)
    }
}
impl std::ops::Neg for Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(&self)
    }
}
