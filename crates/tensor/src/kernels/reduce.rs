//! Reductions over contiguous runs, in a fixed order.
//!
//! A run is summed with 8 independent accumulators (lane `i` takes elements `i, i+8, …`),
//! combined pairwise at the end. Long runs are first cut into fixed blocks of
//! [`crate::parallel::CHUNK`] elements, whose partial results are combined in block order.
//! The order never depends on the thread count, so results are bit-identical for any pool.

use crate::kernels::simd_twin;
use crate::parallel;
use crate::Element;

/// How a run is reduced to one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceOp {
    /// Σ x
    Sum,
    /// max x (NaN propagates)
    Max,
    /// min x (NaN propagates)
    Min,
}

impl ReduceOp {
    #[inline(always)]
    fn identity<T: Element>(self) -> T {
        match self {
            ReduceOp::Sum => T::ZERO,
            ReduceOp::Max => T::from_f64(f64::NEG_INFINITY),
            ReduceOp::Min => T::from_f64(f64::INFINITY),
        }
    }
    #[inline(always)]
    fn combine<T: Element>(self, a: T, b: T) -> T {
        match self {
            ReduceOp::Sum => a + b,
            ReduceOp::Max => {
                if a >= b || a.is_nan() {
                    a
                } else {
                    b
                }
            }
            ReduceOp::Min => {
                if a <= b || a.is_nan() {
                    a
                } else {
                    b
                }
            }
        }
    }
}

#[inline(always)]
fn run_loop<T: Element>(op: ReduceOp, s: &[T], out: &mut [T]) {
    let mut acc = [op.identity::<T>(); 8];
    let chunks = s.chunks_exact(8);
    let rem = chunks.remainder();
    match op {
        ReduceOp::Sum => {
            for c in chunks {
                for i in 0..8 {
                    acc[i] += c[i];
                }
            }
        }
        _ => {
            for c in chunks {
                for i in 0..8 {
                    acc[i] = op.combine(acc[i], c[i]);
                }
            }
        }
    }
    for (i, &x) in rem.iter().enumerate() {
        acc[i] = op.combine(acc[i], x);
    }
    let a = [
        op.combine(acc[0], acc[4]),
        op.combine(acc[1], acc[5]),
        op.combine(acc[2], acc[6]),
        op.combine(acc[3], acc[7]),
    ];
    out[0] = op.combine(op.combine(a[0], a[2]), op.combine(a[1], a[3]));
}

simd_twin! {
    /// Reduces `s` into `out[0]` with 8 lanes (the widest build this CPU has).
    pub fn reduce_run_simd / reduce_run_with <T>(op: ReduceOp, s: &[T], out: &mut [T]) => run_loop
}

/// Reduces a whole run, splitting runs longer than one block into fixed blocks (in parallel
/// when the feature is on) and combining the partials in block order.
pub fn reduce_run<T: Element>(op: ReduceOp, s: &[T]) -> T {
    let block = parallel::CHUNK;
    if s.len() <= block {
        let mut o = [T::ZERO];
        reduce_run_simd(op, s, &mut o);
        return o[0];
    }
    let nb = s.len().div_ceil(block);
    let partials: Vec<T> = parallel::map_indexed_if(s.len() >= parallel::PAR_THRESHOLD, nb, |i| {
        let mut o = [T::ZERO];
        reduce_run_simd(op, &s[i * block..((i + 1) * block).min(s.len())], &mut o);
        o[0]
    });
    let mut acc = op.identity::<T>();
    for p in partials {
        acc = op.combine(acc, p);
    }
    acc
}

/// Reduces each of `out.len()` consecutive runs of length `run` in `src`.
pub fn reduce_runs<T: Element>(op: ReduceOp, src: &[T], run: usize, out: &mut [T]) {
    if run == 0 {
        out.iter_mut().for_each(|o| *o = op.identity());
        return;
    }
    if out.len() == 1 {
        out[0] = reduce_run(op, src);
        return;
    }
    // Each output is reduced by reduce_run (blocked for long runs, like the single-output
    // case), so its order is fixed whatever the thread count.
    let per = (parallel::CHUNK / run).max(1);
    parallel::for_chunks_mut_if(src.len() >= parallel::PAR_THRESHOLD, out, per, |ci, o| {
        for (j, oj) in o.iter_mut().enumerate() {
            let r = ci * per + j;
            *oj = reduce_run(op, &src[r * run..(r + 1) * run]);
        }
    });
}

/// Reduces a `[outer, out.len(), inner]` row-major block over its first and last axes:
/// `out[j] = op over (o, i) of src[o, j, i]` — batch norm's statistics and a convolution's bias
/// gradient, `[N, C, H, W]` over (0, 2, 3), without a permuted copy. Each `out[j]` combines its
/// `outer` runs (each reduced like [`reduce_run`]) pairwise in a fixed order, computed by one
/// task, so the result does not depend on the thread count.
pub fn reduce_middle<T: Element>(
    op: ReduceOp,
    src: &[T],
    outer: usize,
    inner: usize,
    out: &mut [T],
) {
    let mid = out.len();
    assert_eq!(src.len(), outer * mid * inner, "reduce_middle: extent");
    let per = (parallel::CHUNK / (outer * inner).max(1)).max(1);
    parallel::for_chunks_mut_if(src.len() >= parallel::PAR_THRESHOLD, out, per, |ci, o| {
        for (jj, oj) in o.iter_mut().enumerate() {
            let j = ci * per + jj;
            let run = |k: usize| {
                let start = (k * mid + j) * inner;
                reduce_run(op, &src[start..start + inner])
            };
            *oj = pairwise(op, 0, outer, &run);
        }
    });
}

/// `op` over `f(k)` for `k in k0..k1`: in order up to 8 terms, else the two halves combined, so
/// the rounding error of a sum grows with log(k1 − k0).
fn pairwise<T: Element>(op: ReduceOp, k0: usize, k1: usize, f: &impl Fn(usize) -> T) -> T {
    if k1 - k0 <= 8 {
        (k0..k1).fold(op.identity(), |acc, k| op.combine(acc, f(k)))
    } else {
        let mid = k0 + (k1 - k0) / 2;
        op.combine(pairwise(op, k0, mid, f), pairwise(op, mid, k1, f))
    }
}

/// Rows per leaf of the pairwise row summation in [`reduce_rows`].
pub const ROW_BLOCK: usize = 1024;

/// Reduces over the leading `rows` of a `[rows, cols]` row-major block: `out[j] = op_i src[i, j]`
/// (vectorised across `j`). Sums add up to [`ROW_BLOCK`] rows in order, then combine blocks
/// pairwise, so the order is fixed and the rounding error grows with log(rows), not rows.
pub fn reduce_rows<T: Element>(op: ReduceOp, src: &[T], rows: usize, cols: usize, out: &mut [T]) {
    out.iter_mut().for_each(|o| *o = op.identity());
    let per = (parallel::CHUNK / rows.max(1)).max(64);
    parallel::for_chunks_mut(out, per, |ci, o| {
        rows_into(op, src, cols, ci * per, 0, rows, o);
    });
}

/// Combines rows `r0..r1` of columns `c0..c0 + o.len()` into `o`.
fn rows_into<T: Element>(
    op: ReduceOp,
    src: &[T],
    cols: usize,
    c0: usize,
    r0: usize,
    r1: usize,
    o: &mut [T],
) {
    if op == ReduceOp::Sum && r1 - r0 > ROW_BLOCK {
        let mid = r0 + (r1 - r0) / 2;
        rows_into(op, src, cols, c0, r0, mid, o);
        let mut tmp = crate::pool::Buffer::new(crate::pool::filled(o.len(), T::ZERO));
        rows_into(op, src, cols, c0, mid, r1, &mut tmp);
        crate::kernels::elementwise::add_assign(o, &tmp);
        return;
    }
    for i in r0..r1 {
        let row = &src[i * cols + c0..i * cols + c0 + o.len()];
        match op {
            ReduceOp::Sum => crate::kernels::elementwise::add_assign(o, row),
            _ => {
                for (d, &x) in o.iter_mut().zip(row) {
                    *d = op.combine(*d, x);
                }
            }
        }
    }
}

/// Σ f(aᵢ, bᵢ) in 8 interleaved partial sums of the element type, added pairwise at the end: a
/// single running sum waits four cycles an element on its own additions; eight independent ones
/// let the loop vectorise. (`dot` is `f = a·b`; a plain sum passes `a` twice.)
#[inline(always)]
pub fn sum_lanes8<T: Element>(a: &[T], b: &[T], f: impl Fn(T, T) -> T) -> T {
    let mut acc = [T::ZERO; 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail = ac
        .remainder()
        .iter()
        .zip(bc.remainder())
        .fold(T::ZERO, |s, (&x, &y)| s + f(x, y));
    for (x8, y8) in ac.zip(bc) {
        for l in 0..8 {
            acc[l] += f(x8[l], y8[l]);
        }
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// `(Σ aᵢ·bᵢ, Σ aᵢ)` in one pass over both slices: the same partial sums, added in the same
/// order, as two calls of [`sum_lanes8`] (so the same bits), reading `a` once.
#[inline(always)]
pub fn dot_and_sum_lanes8<T: Element>(a: &[T], b: &[T]) -> (T, T) {
    let (mut dot, mut sum) = ([T::ZERO; 8], [T::ZERO; 8]);
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let (at, bt) = (ac.remainder(), bc.remainder());
    let tail_dot = at.iter().zip(bt).fold(T::ZERO, |s, (&x, &y)| s + x * y);
    let tail_sum = at.iter().fold(T::ZERO, |s, &x| s + x);
    for (x8, y8) in ac.zip(bc) {
        for l in 0..8 {
            dot[l] += x8[l] * y8[l];
            sum[l] += x8[l];
        }
    }
    let fold = |a: [T; 8]| ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
    (fold(dot) + tail_dot, fold(sum) + tail_sum)
}
