//! The normalisation of batch and instance norm, x̂ = (x − mean)/√(var + eps) over some axes,
//! its backward pass, and the per-channel affine step `x̂·w[c] + b[c]` with its parameter
//! gradients, each fused into one read of the inputs and one write of the result
//! (the composed version — mean, subtract, square, mean, divide — makes five passes over the
//! tensor and three temporaries; its backward eleven).
//!
//! The fused kernels take a contiguous tensor whose kept axes are adjacent, viewed as
//! `[outer, mid, inner]` with statistics per `mid` index ("channel"): batch norm's `[N, C, H, W]`
//! over (0, 2, 3) is `[N, C, H·W]`, instance norm's over (2, 3) is `[1, N·C, H·W]`. Other axis
//! sets are computed by the composed ops. Statistics are summed in 8 lanes of the element type over blocks of 256, blocks and rows
//! in f64, channels in parallel, so the result does not depend on the number of threads.

use crate::kernels::reduce::{dot_and_sum_lanes8, sum_lanes8};
use crate::parallel;
use crate::{with_dtype, Element, Shape, Tensor};
use std::mem::MaybeUninit;

/// `[outer, mid, inner]` when the axes not in `axes` (sorted, distinct) are adjacent.
fn three_way(shape: &Shape, axes: &[usize]) -> Option<(usize, usize, usize)> {
    let nd = shape.ndim();
    let kept: Vec<usize> = (0..nd).filter(|d| !axes.contains(d)).collect();
    let (a, b) = match (kept.first(), kept.last()) {
        (Some(&a), Some(&b)) => (a, b + 1),
        _ => (0, 0),
    };
    if kept.len() != b - a {
        return None;
    }
    let prod = |r: std::ops::Range<usize>| r.map(|d| shape[d]).product::<usize>();
    Some((prod(0..a), prod(a..b), prod(b..nd)))
}

/// Σ f(aᵢ, bᵢ) over one row: blocks of 256 elements are summed in 8 independent lanes of the
/// element type (a single running sum would wait four cycles an element), blocks in f64.
#[inline(always)]
fn sum8<T: Element>(a: &[T], b: &[T], f: impl Fn(T, T) -> T) -> f64 {
    let mut total = 0.0f64;
    for (a, b) in a.chunks(256).zip(b.chunks(256)) {
        total += sum_lanes8(a, b, &f).to_f64();
    }
    total
}

/// `(Σ gᵢ·yᵢ, Σ gᵢ)` over one row in one read, blocked like [`sum8`] (the same bits as two
/// [`sum8`] calls).
#[inline(always)]
fn dot_and_sum8<T: Element>(g: &[T], y: &[T]) -> (f64, f64) {
    let mut total = (0.0f64, 0.0f64);
    for (g, y) in g.chunks(256).zip(y.chunks(256)) {
        let (d, s) = dot_and_sum_lanes8(g, y);
        total = (total.0 + d.to_f64(), total.1 + s.to_f64());
    }
    total
}

/// `(Σ g·y, Σ g)` over every row of channel `c`, rows added in order.
fn channel_dot_and_sum<T: Element>(
    g: &[T],
    y: &[T],
    dims: (usize, usize, usize),
    c: usize,
) -> (f64, f64) {
    rows(g, dims, c)
        .zip(rows(y, dims, c))
        .map(|(g, y)| dot_and_sum8(g, y))
        .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1))
}

/// The rows of channel `c` in `[outer, mid, inner]` data.
fn rows<T>(
    x: &[T],
    (outer, mid, inner): (usize, usize, usize),
    c: usize,
) -> impl Iterator<Item = &[T]> {
    (0..outer).map(move |o| &x[(o * mid + c) * inner..][..inner])
}

/// Per-channel statistics of `[outer, mid, inner]` data: (mean, biased var, 1/√(var + eps)).
fn stats<T: Element>(x: &[T], dims: (usize, usize, usize), c: usize, eps: f64) -> (f64, f64, f64) {
    let n = (dims.0 * dims.2) as f64;
    let mean = rows(x, dims, c).map(|r| sum8(r, r, |v, _| v)).sum::<f64>() / n;
    let m = T::from_f64(mean);
    let var = rows(x, dims, c)
        .map(|r| sum8(r, r, |v, _| (v - m) * (v - m)))
        .sum::<f64>()
        / n;
    (mean, var, 1.0 / (var + eps).sqrt())
}

/// Elements from which the per-channel statistics are computed on several threads: lower than
/// the elementwise threshold, as each element costs a few f64 operations here (instance norm on
/// a 64 × 64 × 4 × 4 batch, a residual block's, is split).
const NORM_PAR_THRESHOLD: usize = 1 << 16;

/// A new buffer of `[outer, mid, inner]` elements, each row of `inner` written by
/// `f(first element index, channel, row)` (which must write all of it), in parallel chunks of
/// whole rows for large tensors.
fn by_rows<T: Element>(
    (outer, mid, inner): (usize, usize, usize),
    f: impl Fn(usize, usize, &mut [MaybeUninit<T>]) + Send + Sync,
) -> Vec<T> {
    let len = outer * mid * inner;
    let inner = inner.max(1);
    let chunk = (parallel::CHUNK / inner).max(1) * inner;
    super::elementwise::new_written(len, chunk, |ci, o| {
        let first = ci * chunk;
        for (r, row) in o.chunks_mut(inner).enumerate() {
            let e0 = first + r * inner;
            f(e0, (e0 / inner) % mid, row);
        }
    })
}

impl Tensor {
    /// (x − mean)/√(var + eps) over `axes` (negative counts from the end; empty = all), with the
    /// biased variance, as batch and instance norm compute it; returns `(x̂, mean, var)`, the
    /// statistics with the reduced axes kept as size 1.
    #[track_caller]
    pub fn normalize_with_stats(&self, axes: &[isize], eps: f64) -> (Tensor, Tensor, Tensor) {
        let ax = self.resolve_axes(axes, "normalize");
        let axi: Vec<isize> = ax.iter().map(|&a| a as isize).collect();
        let Some(dims) = three_way(self.shape(), &ax).filter(|_| self.numel() > 0) else {
            let mean = self.mean(&axi, true);
            let centred = self.sub(&mean);
            let var = centred.square().mean(&axi, true);
            let v = centred.div(&var.add_scalar(eps).sqrt());
            return (v, mean, var);
        };
        let x = self.contiguous();
        let mut stat_shape: Vec<usize> = self.dims().to_vec();
        for &a in &ax {
            stat_shape[a] = 1;
        }
        with_dtype!(self.dtype(), T => {
            let xs = x.as_slice::<T>();
            let st = parallel::map_indexed_if(x.numel() >= NORM_PAR_THRESHOLD, dims.1, |c| {
                stats(xs, dims, c, eps)
            });
            let coef: Vec<(T, T)> = st.iter().map(|s| (T::from_f64(s.0), T::from_f64(s.2))).collect();
            let out = by_rows(dims, |e0, c, row| {
                let (m, inv) = coef[c];
                let src = &xs[e0..e0 + row.len()];
                for (o, &x) in row.iter_mut().zip(src) {
                    o.write((x - m) * inv);
                }
            });
            let mean: Vec<T> = st.iter().map(|s| T::from_f64(s.0)).collect();
            let var: Vec<T> = st.iter().map(|s| T::from_f64(s.1)).collect();
            (
                Tensor::from_vec(out, *self.shape()),
                Tensor::from_vec(mean, stat_shape.as_slice()),
                Tensor::from_vec(var, stat_shape.as_slice()),
            )
        })
    }

    /// `self·w[c] + b[c]` with `c` the index along axis 1 (`w` and `b` of shape `[C]`, `b`
    /// optional): the affine step of batch and instance norm in one pass (the same products and
    /// sums as `mul` then `add` of the broadcast `[1, C, 1, …]` parameters, bit for bit).
    #[track_caller]
    pub fn channel_affine(&self, w: &Tensor, b: Option<&Tensor>) -> Tensor {
        let c = if self.ndim() >= 2 { self.dims()[1] } else { 0 };
        for (what, t) in [("weight", Some(w)), ("bias", b)] {
            if let Some(t) = t {
                assert!(
                    self.ndim() >= 2 && t.dims() == [c] && t.dtype() == self.dtype(),
                    "channel_affine: input {} {:?} needs a {what} of shape [{c}] (axis 1), got {} {:?}",
                    self.dtype(),
                    self.shape(),
                    t.dtype(),
                    t.shape()
                );
            }
        }
        let dims = (
            self.dims()[0],
            c,
            self.dims()[2..].iter().product::<usize>(),
        );
        let (x, w, b) = (self.contiguous(), w.contiguous(), b.map(|b| b.contiguous()));
        with_dtype!(self.dtype(), T => {
            let (xs, ws) = (x.as_slice::<T>(), w.as_slice::<T>());
            let bs = b.as_ref().map(|b| b.as_slice::<T>());
            let out = by_rows(dims, |e0, c, row| {
                let src = &xs[e0..e0 + row.len()];
                let wc = ws[c];
                match bs {
                    Some(bs) => {
                        let bc = bs[c];
                        for (o, &v) in row.iter_mut().zip(src) {
                            o.write(v * wc + bc);
                        }
                    }
                    None => {
                        for (o, &v) in row.iter_mut().zip(src) {
                            o.write(v * wc);
                        }
                    }
                }
            });
            Tensor::from_vec(out, *self.shape())
        })
    }

    /// Per channel (axis 1), `Σ self·x` and `Σ self` over every other axis, each `[C]`: the
    /// weight and bias gradients of [`Tensor::channel_affine`], given its output gradient
    /// `self` and its input `x`, in one read of both. Summed like the normalisation's
    /// statistics, so the result does not depend on the number of threads.
    #[track_caller]
    pub fn channel_affine_backward(&self, x: &Tensor) -> (Tensor, Tensor) {
        assert!(
            self.shape() == x.shape() && self.dtype() == x.dtype() && x.ndim() >= 2,
            "channel_affine_backward: gradient {} {:?} and input {} {:?} must have one shape (at least 2-D) and dtype",
            self.dtype(),
            self.shape(),
            x.dtype(),
            x.shape()
        );
        let dims = (
            x.dims()[0],
            x.dims()[1],
            x.dims()[2..].iter().product::<usize>(),
        );
        let (g, x) = (self.contiguous(), x.contiguous());
        with_dtype!(x.dtype(), T => {
            let (gs, xs) = (g.as_slice::<T>(), x.as_slice::<T>());
            let sums = parallel::map_indexed_if(xs.len() >= NORM_PAR_THRESHOLD, dims.1, |c| {
                let (sgx, sg) = channel_dot_and_sum(gs, xs, dims, c);
                (T::from_f64(sgx), T::from_f64(sg))
            });
            (
                Tensor::from_vec(sums.iter().map(|s| s.0).collect::<Vec<T>>(), [dims.1]),
                Tensor::from_vec(sums.iter().map(|s| s.1).collect::<Vec<T>>(), [dims.1]),
            )
        })
    }

    /// The gradient of [`Tensor::normalize_with_stats`]'s x̂ with respect to `x`, given the
    /// gradient `self` of the loss with respect to x̂ (`xhat` is that op's output at `x`):
    /// (g − mean(g) − x̂·mean(g·x̂)) / √(var + eps), means over `axes`.
    #[track_caller]
    pub fn normalize_backward(
        &self,
        x: &Tensor,
        xhat: &Tensor,
        axes: &[isize],
        eps: f64,
    ) -> Tensor {
        assert!(
            self.shape() == x.shape() && x.shape() == xhat.shape(),
            "normalize_backward: gradient {:?}, input {:?} and output {:?} must have one shape",
            self.shape(),
            x.shape(),
            xhat.shape()
        );
        let ax = x.resolve_axes(axes, "normalize_backward");
        let axi: Vec<isize> = ax.iter().map(|&a| a as isize).collect();
        let Some(dims) = three_way(x.shape(), &ax).filter(|_| x.numel() > 0) else {
            let centred = x.sub(&x.mean(&axi, true));
            let inv_std = centred
                .square()
                .mean(&axi, true)
                .add_scalar(eps)
                .pow_scalar(-0.5);
            let g_mean = self.mean(&axi, true);
            let gx_mean = self.mul(xhat).mean(&axi, true);
            return self.sub(&g_mean).sub(&xhat.mul(&gx_mean)).mul(&inv_std);
        };
        let (x, g, y) = (x.contiguous(), self.contiguous(), xhat.contiguous());
        with_dtype!(x.dtype(), T => {
            let (xs, gs, ys) = (x.as_slice::<T>(), g.as_slice::<T>(), y.as_slice::<T>());
            let (outer, mid, inner) = dims;
            let n = (outer * inner) as f64;
            let coef = parallel::map_indexed_if(xs.len() >= NORM_PAR_THRESHOLD, mid, |c| {
                let (_, _, inv) = stats(xs, dims, c, eps);
                let (sgy, sg) = channel_dot_and_sum(gs, ys, dims, c);
                (T::from_f64(sg / n), T::from_f64(sgy / n), T::from_f64(inv))
            });
            let out = by_rows(dims, |e0, c, row| {
                let (gm, gym, inv) = coef[c];
                let r = e0..e0 + row.len();
                for ((o, &g), &y) in row.iter_mut().zip(&gs[r.clone()]).zip(&ys[r]) {
                    o.write((g - gm - y * gym) * inv);
                }
            });
            Tensor::from_vec(out, *x.shape())
        })
    }
}
