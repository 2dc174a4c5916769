//! General matrix multiply through `matrixmultiply`, with strides passed straight through (a
//! transposed operand is read in place, never copied).
//!
//! With more than one thread, large products are cut into blocks of rows (or of columns, when
//! the output is wider than tall), each computed by one `matrixmultiply` call with the full
//! inner dimension. Blocks are multiples of 8 rows/columns, and `matrixmultiply` computes each
//! output element with the same sequence of operations (the same k-blocking and micro-kernel)
//! whatever the block it sits in, so the result is bit-identical for any number of threads; a
//! test checks it with 1- and 2-thread pools. On one thread the product is a single call, so
//! `B` is packed once.

use crate::parallel;
use crate::{DType, Element};
use std::mem::MaybeUninit;

/// Products with fewer multiply-adds than this run as one call on the calling thread (W2's
/// 256×128×128 layers, 4.2 M, are split: on two threads they take 72–75 µs instead of 132).
pub const GEMM_SPLIT_FLOPS: usize = 1 << 21;
/// The smallest block (rows or columns) a product is split into.
pub const GEMM_BLOCK: usize = 64;

/// A read-only strided matrix operand.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, T> {
    /// Backing elements.
    pub data: &'a [T],
    /// Offset of element (0, 0).
    pub offset: usize,
    /// Stride between rows.
    pub rs: isize,
    /// Stride between columns.
    pub cs: isize,
}

/// Single call into matrixmultiply: C = alpha·A·B + beta·C.
///
/// # Safety
/// All pointers must be valid for the strided `m×k`, `k×n` and `m×n` extents given.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm_raw<T: Element>(
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: *const T,
    rsa: isize,
    csa: isize,
    b: *const T,
    rsb: isize,
    csb: isize,
    beta: T,
    c: *mut T,
    rsc: isize,
    csc: isize,
) {
    match T::DTYPE {
        DType::F32 => matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha.to_f64() as f32,
            a as *const f32,
            rsa,
            csa,
            b as *const f32,
            rsb,
            csb,
            beta.to_f64() as f32,
            c as *mut f32,
            rsc,
            csc,
        ),
        DType::F64 => matrixmultiply::dgemm(
            m,
            k,
            n,
            alpha.to_f64(),
            a as *const f64,
            rsa,
            csa,
            b as *const f64,
            rsb,
            csb,
            beta.to_f64(),
            c as *mut f64,
            rsc,
            csc,
        ),
    }
}

impl<T> MatRef<'_, T> {
    /// Whether every element of a `rows × cols` matrix with these strides (either sign) lies
    /// in `data`.
    fn fits(&self, rows: usize, cols: usize) -> bool {
        if rows == 0 || cols == 0 {
            return true;
        }
        let r = (rows - 1) as i128 * self.rs as i128;
        let c = (cols - 1) as i128 * self.cs as i128;
        let first = self.offset as i128 + r.min(0) + c.min(0);
        let last = self.offset as i128 + r.max(0) + c.max(0);
        first >= 0 && last < self.data.len() as i128
    }
}

struct SendPtr<T>(*mut T);
unsafe impl<T> Send for SendPtr<T> {}
unsafe impl<T> Sync for SendPtr<T> {}

/// C (row-major `m×n`, contiguous) = alpha·A·B + beta·C, split into fixed blocks for large work.
#[allow(clippy::too_many_arguments)]
pub fn gemm<T: Element>(
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: &mut [T],
) {
    assert!(c.len() >= m * n, "gemm: output buffer too small");
    // SAFETY: c holds at least m·n initialised elements.
    unsafe { gemm_ptr(m, k, n, alpha, a, b, beta, c.as_mut_ptr()) }
}

/// C (row-major `m×n`, contiguous) = alpha·A·B written into uninitialised memory: like
/// [`gemm`] with beta = 0, where C is only written, never read, so the caller need not
/// zero-fill a fresh output buffer. Every one of the `m·n` elements is written.
#[allow(clippy::too_many_arguments)]
pub fn gemm_uninit<T: Element>(
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    c: &mut [MaybeUninit<T>],
) {
    assert!(c.len() >= m * n, "gemm: output buffer too small");
    // SAFETY: c has room for m·n elements; with beta = 0 neither the k = 0 fill below nor
    // matrixmultiply reads C before writing it (its kernels skip loading C when beta is 0).
    unsafe { gemm_ptr(m, k, n, alpha, a, b, T::ZERO, c.as_mut_ptr() as *mut T) }
}

/// The body of [`gemm`] and [`gemm_uninit`]: C (row-major `m×n` at `c`, contiguous) =
/// alpha·A·B + beta·C. With beta = 0, C is only written (every element), never read.
///
/// # Safety
/// `c` must be valid for writing `m·n` elements, and for reading them (initialised) if
/// `beta != 0`.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn gemm_ptr<T: Element>(
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: *mut T,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k > 0 {
        assert!(a.fits(m, k), "gemm: A ({m}×{k}) exceeds its buffer");
        assert!(b.fits(k, n), "gemm: B ({k}×{n}) exceeds its buffer");
    }
    if k == 0 {
        for i in 0..m * n {
            let x = c.add(i);
            if beta == T::ZERO {
                x.write(T::ZERO);
            } else {
                *x = *x * beta;
            }
        }
        return;
    }
    let ap = a.data.as_ptr().add(a.offset);
    let bp = b.data.as_ptr().add(b.offset);
    if n == 1 {
        gemv(m, k, alpha, ap, a.rs, a.cs, bp, b.rs, beta, c);
        return;
    }
    if k == 1 && b.cs == 1 {
        outer(m, n, alpha, ap, a.rs, bp, beta, c);
        return;
    }
    let cp = SendPtr(c);
    let work = m * n * k;
    let threads = parallel::current_threads();
    if threads <= 1 || work < GEMM_SPLIT_FLOPS || (m <= GEMM_BLOCK && n <= GEMM_BLOCK) {
        unsafe {
            gemm_raw(
                m, k, n, alpha, ap, a.rs, a.cs, bp, b.rs, b.cs, beta, cp.0, n as isize, 1,
            )
        };
        return;
    }
    let (ap, bp) = (ap as usize, bp as usize);
    let cp = &cp;
    let block_for = |len: usize| (len.div_ceil(threads).div_ceil(8) * 8).max(GEMM_BLOCK);
    if m >= n {
        let blk = block_for(m);
        let nb = m.div_ceil(blk);
        parallel::map_indexed(nb, |i| {
            let r0 = i * blk;
            let rows = blk.min(m - r0);
            unsafe {
                gemm_raw(
                    rows,
                    k,
                    n,
                    alpha,
                    (ap as *const T).offset(r0 as isize * a.rs),
                    a.rs,
                    a.cs,
                    bp as *const T,
                    b.rs,
                    b.cs,
                    beta,
                    cp.0.add(r0 * n),
                    n as isize,
                    1,
                )
            }
        });
    } else {
        let blk = block_for(n);
        let nb = n.div_ceil(blk);
        parallel::map_indexed(nb, |j| {
            let c0 = j * blk;
            let cols = blk.min(n - c0);
            unsafe {
                gemm_raw(
                    m,
                    k,
                    cols,
                    alpha,
                    ap as *const T,
                    a.rs,
                    a.cs,
                    (bp as *const T).offset(c0 as isize * b.cs),
                    b.rs,
                    b.cs,
                    beta,
                    cp.0.add(c0),
                    n as isize,
                    1,
                )
            }
        });
    }
}

/// c (`m` contiguous elements) = alpha·A·b + beta·c, a matrix times a vector (a GEMM with
/// `n = 1`), as plain loops: dot products of A's rows with b when the rows are contiguous, else,
/// when A is stored by columns, c accumulated as Σₚ b[p]·A[:, p] over contiguous columns. On
/// this machine that is 2–3.6× faster than `matrixmultiply`, whose packing and 8-wide
/// micro-kernel are wasted on one column (256×128 by a vector: 6.5 µs against 20.7; 64×6272:
/// 56 against 200). Never split over threads. With beta = 0, c is written without being read.
///
/// # Safety
/// As [`gemm_raw`] with `n = 1`: A valid for the strided `m×k` extent, b for `k` elements
/// `rsb` apart, c for `m` contiguous elements.
#[allow(clippy::too_many_arguments)]
unsafe fn gemv<T: Element>(
    m: usize,
    k: usize,
    alpha: T,
    a: *const T,
    rsa: isize,
    csa: isize,
    b: *const T,
    rsb: isize,
    beta: T,
    c: *mut T,
) {
    let bt = |p: usize| unsafe { *b.offset(p as isize * rsb) };
    let store = |i: usize, v: T| unsafe {
        let e = c.add(i);
        if beta == T::ZERO {
            e.write(alpha * v);
        } else {
            *e = *e * beta + alpha * v;
        }
    };
    if rsa == 1 && csa != 1 {
        // A stored by columns
        let mut acc = vec![T::ZERO; m];
        for p in 0..k {
            let s = bt(p);
            let col = unsafe { std::slice::from_raw_parts(a.offset(p as isize * csa), m) };
            for (x, &v) in acc.iter_mut().zip(col) {
                *x += s * v;
            }
        }
        for (i, &v) in acc.iter().enumerate() {
            store(i, v);
        }
    } else if csa == 1 {
        // dot products of A's contiguous rows with b (copied first when strided)
        let packed: Vec<T>;
        let bv: &[T] = if rsb == 1 {
            unsafe { std::slice::from_raw_parts(b, k) }
        } else {
            packed = (0..k).map(bt).collect();
            &packed
        };
        for i in 0..m {
            let ar = unsafe { std::slice::from_raw_parts(a.offset(i as isize * rsa), k) };
            store(i, dot_lanes(ar, bv));
        }
    } else {
        for i in 0..m {
            let dot = (0..k).fold(T::ZERO, |s, p| {
                s + unsafe { *a.offset(i as isize * rsa + p as isize * csa) } * bt(p)
            });
            store(i, dot);
        }
    }
}

/// C (row-major `m×n`, contiguous) = alpha·a·bᵀ + beta·C, the outer product of a column `a`
/// (`m` elements `rsa` apart) and a contiguous row `b` (a GEMM with `k = 1`): one pass writing
/// C, against 0.5 ms for `matrixmultiply` on W3's 64×6272 case (1.5 GFLOP/s).
///
/// # Safety
/// `a` valid for `m` elements `rsa` apart, `b` for `n` contiguous ones, `c` for `m·n` (read
/// only when beta ≠ 0).
#[allow(clippy::too_many_arguments)]
unsafe fn outer<T: Element>(
    m: usize,
    n: usize,
    alpha: T,
    a: *const T,
    rsa: isize,
    b: *const T,
    beta: T,
    c: *mut T,
) {
    let b = unsafe { std::slice::from_raw_parts(b, n) };
    for i in 0..m {
        let s = alpha * unsafe { *a.offset(i as isize * rsa) };
        let row = unsafe { std::slice::from_raw_parts_mut(c.add(i * n) as *mut MaybeUninit<T>, n) };
        if beta == T::ZERO {
            for (o, &v) in row.iter_mut().zip(b) {
                o.write(s * v);
            }
        } else {
            for (o, &v) in row.iter_mut().zip(b) {
                // SAFETY: with beta ≠ 0 the caller's C is initialised
                let old = unsafe { o.assume_init() };
                o.write(old * beta + s * v);
            }
        }
    }
}

/// Σ xᵢ·yᵢ in 8 interleaved partial sums (so the loop vectorises).
fn dot_lanes<T: Element>(x: &[T], y: &[T]) -> T {
    crate::kernels::reduce::sum_lanes8(x, y, |a, b| a * b)
}
