//! Element types. A [`Tensor`](crate::Tensor) carries its dtype as a runtime tag; kernels are
//! written once, generic over [`Element`], and dispatched on the tag with [`with_dtype!`](crate::with_dtype).

use crate::pool::Buffer;
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};
use std::sync::Arc;

/// The runtime element type of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    /// 32-bit float: the default, fast.
    F32,
    /// 64-bit float: for gradient checks and exact teaching figures.
    F64,
}

impl DType {
    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 => 8,
        }
    }
    /// Lower-case name as PyTorch prints it (`float32`, `float64`).
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Shared, immutable element storage. Cloning is cheap (an `Arc` clone). Large buffers return
/// to the [`pool`](crate::pool) when the last handle is dropped.
#[derive(Clone)]
pub enum Storage {
    /// f32 elements.
    F32(Arc<Buffer<f32>>),
    /// f64 elements.
    F64(Arc<Buffer<f64>>),
}

impl Storage {
    /// The dtype tag of this storage.
    pub fn dtype(&self) -> DType {
        match self {
            Storage::F32(_) => DType::F32,
            Storage::F64(_) => DType::F64,
        }
    }
    /// Number of elements held.
    pub fn len(&self) -> usize {
        match self {
            Storage::F32(v) => v.len(),
            Storage::F64(v) => v.len(),
        }
    }
    /// Whether the storage holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Keeps [`Element`] to f32 and f64: storage, kernels and the buffer pool rely on the dtype tag
/// naming the type exactly.
mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point element type a kernel can be instantiated with: f32 or f64 (the trait is
/// sealed, so no other crate can add a type under one of their dtype tags).
pub trait Element:
    sealed::Sealed
    + Copy
    + Send
    + Sync
    + 'static
    + Default
    + PartialOrd
    + PartialEq
    + fmt::Debug
    + fmt::Display
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
{
    /// The runtime tag for this type.
    const DTYPE: DType;
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Converts from f64 (rounding for f32).
    fn from_f64(v: f64) -> Self;
    /// Converts to f64 (exact).
    fn to_f64(self) -> f64;
    /// e^x.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;
    /// Sine.
    fn sin(self) -> Self;
    /// Cosine.
    fn cos(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// x^y.
    fn powf(self, y: Self) -> Self;
    /// ln(1 + x), accurate near 0.
    fn ln_1p(self) -> Self;
    /// e^x with the vectorisable approximation for f32 (see [`crate::kernels::fastmath`]), std for f64.
    fn fast_exp(self) -> Self;
    /// ln x, vectorisable approximation for f32, std for f64.
    fn fast_ln(self) -> Self;
    /// ln(1 + x), vectorisable approximation for f32 (accurate near 0), std `ln_1p` for f64.
    fn fast_ln_1p(self) -> Self;
    /// tanh x, vectorisable approximation for f32, std for f64.
    fn fast_tanh(self) -> Self;
    /// 1 / (1 + e^-x), vectorisable approximation for f32, exact formula for f64.
    fn fast_sigmoid(self) -> Self;
    /// Whether the value is NaN.
    fn is_nan(self) -> bool;
    /// Whether the value is finite.
    fn is_finite(self) -> bool;
    /// Larger of two (NaN propagates from `self`).
    #[inline(always)]
    fn max_e(self, o: Self) -> Self {
        if self >= o || self.is_nan() {
            self
        } else {
            o
        }
    }
    /// Smaller of two (NaN propagates from `self`).
    #[inline(always)]
    fn min_e(self, o: Self) -> Self {
        if self <= o || self.is_nan() {
            self
        } else {
            o
        }
    }
    /// Borrow the elements of a storage of this type, or `None` for another dtype.
    fn slice(s: &Storage) -> Option<&[Self]>;
    /// Wraps a vector as storage.
    fn wrap(v: Vec<Self>) -> Storage;
    /// Mutable access to the vector of a storage of this type (copy-on-write).
    fn make_mut(s: &mut Storage) -> Option<&mut Vec<Self>>;
}

macro_rules! impl_element {
    ($t:ty, $tag:ident, $fe:expr, $fl:expr, $fl1p:expr, $ft:expr, $fs:expr) => {
        impl Element for $t {
            const DTYPE: DType = DType::$tag;
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn sin(self) -> Self {
                <$t>::sin(self)
            }
            #[inline(always)]
            fn cos(self) -> Self {
                <$t>::cos(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            #[inline(always)]
            fn powf(self, y: Self) -> Self {
                <$t>::powf(self, y)
            }
            #[inline(always)]
            fn ln_1p(self) -> Self {
                <$t>::ln_1p(self)
            }
            #[inline(always)]
            fn fast_exp(self) -> Self {
                $fe(self)
            }
            #[inline(always)]
            fn fast_ln(self) -> Self {
                $fl(self)
            }
            #[inline(always)]
            fn fast_ln_1p(self) -> Self {
                $fl1p(self)
            }
            #[inline(always)]
            fn fast_tanh(self) -> Self {
                $ft(self)
            }
            #[inline(always)]
            fn fast_sigmoid(self) -> Self {
                $fs(self)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline(always)]
            fn slice(s: &Storage) -> Option<&[Self]> {
                match s {
                    Storage::$tag(v) => Some(v.as_slice()),
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
            #[inline(always)]
            fn wrap(v: Vec<Self>) -> Storage {
                Storage::$tag(Arc::new(Buffer::new(v)))
            }
            #[inline(always)]
            fn make_mut(s: &mut Storage) -> Option<&mut Vec<Self>> {
                match s {
                    Storage::$tag(v) => Some(&mut **Arc::make_mut(v)),
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
        }
    };
}
impl_element!(
    f32,
    F32,
    crate::kernels::fastmath::exp_f32,
    crate::kernels::fastmath::ln_f32,
    crate::kernels::fastmath::ln_1p_f32,
    crate::kernels::fastmath::tanh_f32,
    crate::kernels::fastmath::sigmoid_f32
);
impl_element!(
    f64,
    F64,
    f64::exp,
    f64::ln,
    f64::ln_1p,
    f64::tanh,
    |x: f64| 1.0 / (1.0 + (-x).exp())
);

/// Runs `$body` with the type alias `$T` bound to the Rust type of the runtime dtype `$dt`.
///
/// ```
/// use minimax_tensor::{with_dtype, DType, Element};
/// let size = with_dtype!(DType::F64, T => std::mem::size_of::<T>());
/// assert_eq!(size, 8);
/// ```
#[macro_export]
macro_rules! with_dtype {
    ($dt:expr, $T:ident => $body:expr) => {
        match $dt {
            $crate::DType::F32 => {
                #[allow(dead_code)]
                type $T = f32;
                $body
            }
            $crate::DType::F64 => {
                #[allow(dead_code)]
                type $T = f64;
                $body
            }
        }
    };
}
