//! Elementwise kernels: unary maps and binary zips on contiguous slices.
//!
//! Each op is one arm of a `match` hoisted outside its loop, so every loop body is a plain
//! expression LLVM can vectorise; [`unary`] and [`binary`] pick the widest build (AVX-512, AVX2+FMA or baseline) at run time.

use crate::kernels::{simd_twin, Simd};
use crate::Element;
use std::mem::MaybeUninit;

/// Views an initialised slice as one the `*_uninit` kernels may write into.
///
/// # Safety
/// The callee must store only initialised values (every kernel here does), so the slice stays
/// initialised; `MaybeUninit<T>` has the layout of `T`.
#[inline(always)]
pub(crate) unsafe fn as_uninit<T>(s: &mut [T]) -> &mut [MaybeUninit<T>] {
    // SAFETY: same layout; the caller promises to keep every element initialised.
    unsafe { &mut *(s as *mut [T] as *mut [MaybeUninit<T>]) }
}

/// A one-input elementwise operation. Scalar parameters are stored as f64.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnaryOp {
    /// -x
    Neg,
    /// |x|
    Abs,
    /// sign(x) ∈ {-1, 0, 1}
    Sign,
    /// e^x
    Exp,
    /// ln x
    Log,
    /// √x
    Sqrt,
    /// x²
    Square,
    /// 1/x
    Recip,
    /// sin x
    Sin,
    /// cos x
    Cos,
    /// max(x, 0) (NaN stays NaN)
    Relu,
    /// x if x > 0 else slope·x
    LeakyRelu(f64),
    /// 1/(1+e^-x)
    Sigmoid,
    /// tanh x
    Tanh,
    /// ln(1+e^x), stable
    Softplus,
    /// ln σ(x) = -softplus(-x), stable
    LogSigmoid,
    /// min(max(x, lo), hi)
    Clamp(f64, f64),
    /// x + c
    AddScalar(f64),
    /// x · c
    MulScalar(f64),
    /// x / c (a true division, not a multiplication by 1/c)
    DivScalar(f64),
    /// x^c
    PowScalar(f64),
    /// c^x
    ScalarPow(f64),
    /// 1 where x > c else 0
    GtScalar(f64),
    /// 1 where x ≥ c else 0
    GeScalar(f64),
    /// 1 where x < c else 0
    LtScalar(f64),
    /// 1 where x == c else 0
    EqScalar(f64),
    /// copy
    Copy,
}

#[inline(always)]
fn softplus<T: Element>(x: T) -> T {
    // ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|); ln_1p keeps the tail term accurate when
    // e^-|x| is small (ln(1 + e) would round 1 + e and lose it).
    let ax = x.abs();
    x.max_e(T::ZERO) + (-ax).fast_exp().fast_ln_1p()
}

#[inline(always)]
fn b<T: Element>(c: bool) -> T {
    if c {
        T::ONE
    } else {
        T::ZERO
    }
}

/// The loop for one unary op, on matching-length slices. `dst` may be uninitialised: it is
/// only written, so a fresh output buffer need not be zero-filled first.
#[inline(always)]
pub fn unary_loop<T: Element>(op: UnaryOp, src: &[T], dst: &mut [MaybeUninit<T>]) {
    let n = src.len().min(dst.len());
    let (src, dst) = (&src[..n], &mut dst[..n]);
    macro_rules! map {
        (|$x:ident| $e:expr) => {
            for (d, &$x) in dst.iter_mut().zip(src) {
                d.write($e);
            }
        };
    }
    match op {
        UnaryOp::Neg => map!(|x| -x),
        UnaryOp::Abs => map!(|x| x.abs()),
        UnaryOp::Sign => map!(|x| if x > T::ZERO {
            T::ONE
        } else if x < T::ZERO {
            -T::ONE
        } else {
            T::ZERO
        }),
        UnaryOp::Exp => map!(|x| x.fast_exp()),
        UnaryOp::Log => map!(|x| x.fast_ln()),
        UnaryOp::Sqrt => map!(|x| x.sqrt()),
        UnaryOp::Square => map!(|x| x * x),
        UnaryOp::Recip => map!(|x| T::ONE / x),
        UnaryOp::Sin => map!(|x| x.sin()),
        UnaryOp::Cos => map!(|x| x.cos()),
        // NaN propagates (as in PyTorch), so anomaly checks still see it
        UnaryOp::Relu => map!(|x| if x > T::ZERO || x.is_nan() {
            x
        } else {
            T::ZERO
        }),
        UnaryOp::LeakyRelu(s) => {
            let s = T::from_f64(s);
            map!(|x| if x > T::ZERO { x } else { x * s })
        }
        UnaryOp::Sigmoid => map!(|x| x.fast_sigmoid()),
        UnaryOp::Tanh => map!(|x| x.fast_tanh()),
        UnaryOp::Softplus => map!(|x| softplus(x)),
        UnaryOp::LogSigmoid => map!(|x| -softplus(-x)),
        UnaryOp::Clamp(lo, hi) => {
            let (lo, hi) = (T::from_f64(lo), T::from_f64(hi));
            map!(|x| if x < lo {
                lo
            } else if x > hi {
                hi
            } else {
                x
            })
        }
        UnaryOp::AddScalar(c) => {
            let c = T::from_f64(c);
            map!(|x| x + c)
        }
        UnaryOp::MulScalar(c) => {
            let c = T::from_f64(c);
            map!(|x| x * c)
        }
        UnaryOp::DivScalar(c) => {
            let c = T::from_f64(c);
            map!(|x| x / c)
        }
        UnaryOp::PowScalar(c) => {
            if c == 2.0 {
                map!(|x| x * x)
            } else if c == 1.0 {
                map!(|x| x)
            } else if c == 0.5 {
                map!(|x| x.sqrt())
            } else if c == 3.0 {
                map!(|x| x * x * x)
            } else if c == -1.0 {
                map!(|x| T::ONE / x)
            } else {
                let c = T::from_f64(c);
                map!(|x| x.powf(c))
            }
        }
        UnaryOp::ScalarPow(c) => {
            let c = T::from_f64(c);
            map!(|x| c.powf(x))
        }
        UnaryOp::GtScalar(c) => {
            let c = T::from_f64(c);
            map!(|x| b(x > c))
        }
        UnaryOp::GeScalar(c) => {
            let c = T::from_f64(c);
            map!(|x| b(x >= c))
        }
        UnaryOp::LtScalar(c) => {
            let c = T::from_f64(c);
            map!(|x| b(x < c))
        }
        UnaryOp::EqScalar(c) => {
            let c = T::from_f64(c);
            map!(|x| b(x == c))
        }
        UnaryOp::Copy => map!(|x| x),
    }
}

simd_twin! {
    /// Applies `op` to `src`, writing every element of `dst` (the widest build this CPU has).
    pub fn unary_uninit / unary_uninit_with <T>(op: UnaryOp, src: &[T], dst: &mut [MaybeUninit<T>]) => unary_loop
}

/// Applies `op` to `src`, overwriting `dst`.
#[inline]
pub fn unary<T: Element>(op: UnaryOp, src: &[T], dst: &mut [T]) {
    // SAFETY: the kernel stores only initialised values.
    unary_uninit(op, src, unsafe { as_uninit(dst) })
}

/// [`unary`] in the build of `level` if this CPU has it (returns whether it ran), for twin
/// tests.
pub fn unary_with<T: Element>(level: Simd, op: UnaryOp, src: &[T], dst: &mut [T]) -> bool {
    // SAFETY: the kernel stores only initialised values.
    unary_uninit_with(level, op, src, unsafe { as_uninit(dst) })
}

/// A two-input elementwise operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BinaryOp {
    /// a + b
    Add,
    /// a - b
    Sub,
    /// a · b
    Mul,
    /// a / b
    Div,
    /// a^b
    Pow,
    /// max(a, b)
    Maximum,
    /// min(a, b)
    Minimum,
    /// 1 where a == b
    Eq,
    /// 1 where a != b
    Ne,
    /// 1 where a < b
    Lt,
    /// 1 where a <= b
    Le,
    /// 1 where a > b
    Gt,
    /// 1 where a >= b
    Ge,
    /// a where b > 0, else slope·a: the gradient `a` of `leaky_relu(b, slope)` (and of
    /// `relu(b)` with slope 0) passed back to its input.
    LeakyReluBackward(f64),
}

impl BinaryOp {
    /// The op's name as the user calls it.
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::Pow => "pow",
            BinaryOp::Maximum => "maximum",
            BinaryOp::Minimum => "minimum",
            BinaryOp::Eq => "eq",
            BinaryOp::Ne => "ne",
            BinaryOp::Lt => "lt",
            BinaryOp::Le => "le",
            BinaryOp::Gt => "gt",
            BinaryOp::Ge => "ge",
            BinaryOp::LeakyReluBackward(_) => "leaky_relu_backward",
        }
    }
}

/// How the two inputs of a binary loop advance: both by one, or one of them held fixed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stepping {
    /// `a[i] op b[i]`
    Both,
    /// `a[0] op b[i]`
    ScalarA,
    /// `a[i] op b[0]`
    ScalarB,
}

/// The loop for one binary op; like [`unary_loop`], `dst` is only written.
#[inline(always)]
pub fn binary_loop<T: Element>(
    op: BinaryOp,
    st: Stepping,
    a: &[T],
    bb: &[T],
    dst: &mut [MaybeUninit<T>],
) {
    macro_rules! zip {
        (|$x:ident, $y:ident| $e:expr) => {
            match st {
                Stepping::Both => {
                    let n = dst.len();
                    let (a, bb) = (&a[..n], &bb[..n]);
                    for i in 0..n {
                        let ($x, $y) = (a[i], bb[i]);
                        dst[i].write($e);
                    }
                }
                Stepping::ScalarA => {
                    let $x = a[0];
                    let n = dst.len();
                    let bb = &bb[..n];
                    for i in 0..n {
                        let $y = bb[i];
                        dst[i].write($e);
                    }
                }
                Stepping::ScalarB => {
                    let $y = bb[0];
                    let n = dst.len();
                    let a = &a[..n];
                    for i in 0..n {
                        let $x = a[i];
                        dst[i].write($e);
                    }
                }
            }
        };
    }
    match op {
        BinaryOp::Add => zip!(|x, y| x + y),
        BinaryOp::Sub => zip!(|x, y| x - y),
        BinaryOp::Mul => zip!(|x, y| x * y),
        BinaryOp::Div => zip!(|x, y| x / y),
        BinaryOp::Pow => zip!(|x, y| x.powf(y)),
        BinaryOp::Maximum => zip!(|x, y| x.max_e(y)),
        BinaryOp::Minimum => zip!(|x, y| x.min_e(y)),
        BinaryOp::Eq => zip!(|x, y| b(x == y)),
        BinaryOp::Ne => zip!(|x, y| b(x != y)),
        BinaryOp::Lt => zip!(|x, y| b(x < y)),
        BinaryOp::Le => zip!(|x, y| b(x <= y)),
        BinaryOp::Gt => zip!(|x, y| b(x > y)),
        BinaryOp::Ge => zip!(|x, y| b(x >= y)),
        BinaryOp::LeakyReluBackward(s) => {
            let s = T::from_f64(s);
            zip!(|x, y| if y > T::ZERO { x } else { x * s })
        }
    }
}

simd_twin! {
    /// Applies `op` elementwise, writing every element of `dst` (the widest build this CPU has).
    pub fn binary_uninit / binary_uninit_with <T>(op: BinaryOp, st: Stepping, a: &[T], bb: &[T], dst: &mut [MaybeUninit<T>]) => binary_loop
}

/// Applies `op` elementwise, overwriting `dst`.
#[inline]
pub fn binary<T: Element>(op: BinaryOp, st: Stepping, a: &[T], bb: &[T], dst: &mut [T]) {
    // SAFETY: the kernel stores only initialised values.
    binary_uninit(op, st, a, bb, unsafe { as_uninit(dst) })
}

/// [`binary`] in the build of `level` if this CPU has it (returns whether it ran), for twin
/// tests.
pub fn binary_with<T: Element>(
    level: Simd,
    op: BinaryOp,
    st: Stepping,
    a: &[T],
    bb: &[T],
    dst: &mut [T],
) -> bool {
    // SAFETY: the kernel stores only initialised values.
    binary_uninit_with(level, op, st, a, bb, unsafe { as_uninit(dst) })
}

/// `dst[i] += a[i]` (accumulation used by reductions over leading axes).
#[inline(always)]
pub fn add_assign_loop<T: Element>(dst: &mut [T], a: &[T]) {
    for (d, &x) in dst.iter_mut().zip(a) {
        *d += x;
    }
}

simd_twin! {
    /// `dst += a` elementwise.
    pub fn add_assign / add_assign_with <T>(dst: &mut [T], a: &[T]) => add_assign_loop
}
