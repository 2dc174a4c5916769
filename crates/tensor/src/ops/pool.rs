//! Pooling and upsampling on NCHW tensors, each with its adjoint (the backward pass), with
//! PyTorch's semantics: `avg_pool2d` counts the zero padding in the mean
//! (`count_include_pad = true`) and, like `max_pool2d`, rounds the output size down
//! (`ceil_mode = false`); `max_pool2d` returns PyTorch's indices (`h·W + w` inside each
//! `(n, c)` plane).
//!
//! Every output plane is computed by one thread in a fixed order, so results do not depend on
//! the number of threads.

use crate::error::{ok, TensorError};
use crate::parallel;
use crate::shape::Shape;
use crate::{with_dtype, Element, Tensor};

/// Runs `f(plane_index, plane)` over the consecutive `plane`-long planes of `out`, in parallel
/// when there is enough work.
fn for_planes<T: Send, F>(out: &mut [T], plane: usize, f: F)
where
    F: Fn(usize, &mut [T]) + Send + Sync,
{
    if plane == 0 || out.is_empty() {
        return;
    }
    let per = (parallel::CHUNK / plane).max(1);
    parallel::for_chunks_mut(out, per * plane, |ci, ch| {
        for (j, pl) in ch.chunks_mut(plane).enumerate() {
            f(ci * per + j, pl);
        }
    });
}

fn nchw(op: &str, what: &str, s: &Shape) -> Result<[usize; 4], TensorError> {
    match *s.dims() {
        [a, b, c, d] => Ok([a, b, c, d]),
        _ => Err(TensorError::new(format!(
            "{op}: {what} {s:?} must be 4-D [N, C, H, W]"
        ))),
    }
}

/// Output size of a pooling window sweep, checking PyTorch's constraints.
fn pool_out(
    op: &str,
    s: &Shape,
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
) -> Result<(usize, usize), TensorError> {
    let d = nchw(op, "input", s)?;
    if kernel.0 == 0 || kernel.1 == 0 || stride.0 == 0 || stride.1 == 0 {
        return Err(TensorError::new(format!(
            "{op}: kernel {kernel:?} and stride {stride:?} must be positive"
        )));
    }
    if 2 * padding.0 > kernel.0 || 2 * padding.1 > kernel.1 {
        return Err(TensorError::new(format!(
            "{op}: padding {padding:?} must be at most half of the kernel {kernel:?}"
        )));
    }
    if d[2] == 0 || d[3] == 0 {
        return Err(TensorError::new(format!(
            "{op}: input {s:?} has an empty spatial dimension"
        )));
    }
    let (h, w) = (d[2] + 2 * padding.0, d[3] + 2 * padding.1);
    if h < kernel.0 || w < kernel.1 {
        return Err(TensorError::new(format!(
            "{op}: input {s:?} padded by {padding:?} is smaller than the kernel {kernel:?}"
        )));
    }
    Ok(((h - kernel.0) / stride.0 + 1, (w - kernel.1) / stride.1 + 1))
}

/// The input rows (or columns) `lo..hi` a window starting at output position `o` covers.
#[inline]
fn window(o: usize, k: usize, s: usize, p: usize, len: usize) -> (usize, usize) {
    let start = (o * s) as isize - p as isize;
    let lo = start.max(0) as usize;
    let hi = ((start + k as isize).max(0) as usize).min(len);
    (lo, hi.max(lo))
}

impl Tensor {
    /// 2-D average pooling of `[N, C, H, W]` (PyTorch's `F.avg_pool2d` with
    /// `count_include_pad = true`, `ceil_mode = false`): every window sum is divided by
    /// `kh·kw`, padding counting as zeros. Output `[N, C, (H + 2·ph − kh)/sh + 1, …]`.
    /// Padding may be at most half the kernel.
    #[track_caller]
    pub fn avg_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Tensor {
        let op = "avg_pool2d";
        let d = ok(nchw(op, "input", &self.shape));
        let (oh, ow) = ok(pool_out(op, &self.shape, kernel, stride, padding));
        let x = self.contiguous();
        let (h, w) = (d[2], d[3]);
        with_dtype!(self.dtype(), T => {
            let xs = x.as_slice::<T>();
            let mut out = vec![T::ZERO; d[0] * d[1] * oh * ow];
            let div = T::from_f64((kernel.0 * kernel.1) as f64);
            for_planes(&mut out, oh * ow, |pi, pl| {
                let src = &xs[pi * h * w..(pi + 1) * h * w];
                for oy in 0..oh {
                    let (y0, y1) = window(oy, kernel.0, stride.0, padding.0, h);
                    for ox in 0..ow {
                        let (x0, x1) = window(ox, kernel.1, stride.1, padding.1, w);
                        let mut s = T::ZERO;
                        for iy in y0..y1 {
                            for &v in &src[iy * w + x0..iy * w + x1] {
                                s += v;
                            }
                        }
                        pl[oy * ow + ox] = s / div;
                    }
                }
            });
            Tensor::from_vec(out, [d[0], d[1], oh, ow])
        })
    }

    /// The adjoint of [`Tensor::avg_pool2d`] (its backward pass): `self` is the output gradient;
    /// each value, divided by `kh·kw`, is added to every input position of its window. Returns a
    /// tensor of `input_shape`.
    #[track_caller]
    pub fn avg_pool2d_backward(
        &self,
        input_shape: impl Into<Shape>,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Tensor {
        let op = "avg_pool2d_backward";
        let is = input_shape.into();
        let d = ok(nchw(op, "input_shape", &is));
        let (oh, ow) = ok(pool_out(op, &is, kernel, stride, padding));
        let gd = ok(nchw(op, "grad_out", &self.shape));
        assert!(
            gd == [d[0], d[1], oh, ow],
            "{op}: grad_out {:?} does not match the output [{}, {}, {oh}, {ow}] of input {is:?}",
            self.shape,
            d[0],
            d[1]
        );
        let gy = self.contiguous();
        let (h, w) = (d[2], d[3]);
        with_dtype!(self.dtype(), T => {
            let gs = gy.as_slice::<T>();
            let mut out = vec![T::ZERO; is.numel()];
            let div = T::from_f64((kernel.0 * kernel.1) as f64);
            for_planes(&mut out, h * w, |pi, pl| {
                let g = &gs[pi * oh * ow..(pi + 1) * oh * ow];
                for oy in 0..oh {
                    let (y0, y1) = window(oy, kernel.0, stride.0, padding.0, h);
                    for ox in 0..ow {
                        let (x0, x1) = window(ox, kernel.1, stride.1, padding.1, w);
                        let v = g[oy * ow + ox] / div;
                        for iy in y0..y1 {
                            for o in &mut pl[iy * w + x0..iy * w + x1] {
                                *o += v;
                            }
                        }
                    }
                }
            });
            Tensor::from_vec(out, is)
        })
    }

    /// 2-D max pooling of `[N, C, H, W]` (PyTorch's `F.max_pool2d(..., return_indices=True)`
    /// with `ceil_mode = false`; padding counts as −∞, NaN propagates). Returns the pooled
    /// tensor and, for each output element, the flat index `h·W + w` of its maximum inside its
    /// `(n, c)` plane (the first one on ties).
    #[track_caller]
    pub fn max_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> (Tensor, Vec<usize>) {
        let op = "max_pool2d";
        let d = ok(nchw(op, "input", &self.shape));
        let (oh, ow) = ok(pool_out(op, &self.shape, kernel, stride, padding));
        let x = self.contiguous();
        let (h, w) = (d[2], d[3]);
        let mut idx = vec![0usize; d[0] * d[1] * oh * ow];
        with_dtype!(self.dtype(), T => {
            let xs = x.as_slice::<T>();
            for_planes(&mut idx, oh * ow, |pi, pl| {
                let src = &xs[pi * h * w..(pi + 1) * h * w];
                for oy in 0..oh {
                    let (y0, y1) = window(oy, kernel.0, stride.0, padding.0, h);
                    for ox in 0..ow {
                        let (x0, x1) = window(ox, kernel.1, stride.1, padding.1, w);
                        let mut bi = y0 * w + x0;
                        let mut best: T = src[bi];
                        'win: for iy in y0..y1 {
                            for ix in x0..x1 {
                                let v = src[iy * w + ix];
                                if v > best || (v.is_nan() && !best.is_nan()) {
                                    best = v;
                                    bi = iy * w + ix;
                                    if v.is_nan() {
                                        break 'win;
                                    }
                                }
                            }
                        }
                        pl[oy * ow + ox] = bi;
                    }
                }
            });
        });
        let out = x.max_pool2d_gather(&idx, [d[0], d[1], oh, ow]);
        (out, idx)
    }

    /// The adjoint of [`Tensor::max_pool2d_gather`] and the backward pass of
    /// [`Tensor::max_pool2d`]: `self` is the output gradient; each value is added to the input
    /// position its index names (indices as returned by `max_pool2d`). Returns `input_shape`.
    #[track_caller]
    pub fn max_pool2d_backward(&self, indices: &[usize], input_shape: impl Into<Shape>) -> Tensor {
        let op = "max_pool2d_backward";
        let is = input_shape.into();
        let d = ok(nchw(op, "input_shape", &is));
        let gd = ok(nchw(op, "grad_out", &self.shape));
        assert!(
            gd[0] == d[0] && gd[1] == d[1] && indices.len() == self.numel(),
            "{op}: grad_out {:?} with {} indices does not fit input {is:?}",
            self.shape,
            indices.len()
        );
        let hw = d[2] * d[3];
        let ohw = gd[2] * gd[3];
        assert!(
            indices.iter().all(|&i| i < hw),
            "{op}: an index is out of range for planes of {}×{}",
            d[2],
            d[3]
        );
        let gy = self.contiguous();
        with_dtype!(self.dtype(), T => {
            let gs = gy.as_slice::<T>();
            let mut out = vec![T::ZERO; is.numel()];
            for_planes(&mut out, hw, |pi, pl| {
                let g = &gs[pi * ohw..(pi + 1) * ohw];
                for (&v, &i) in g.iter().zip(&indices[pi * ohw..(pi + 1) * ohw]) {
                    pl[i] += v;
                }
            });
            Tensor::from_vec(out, is)
        })
    }

    /// Picks, for each element of an `out_shape` (`[N, C, oh, ow]`) tensor, the element of
    /// `self` (`[N, C, H, W]`) at the flat in-plane index `h·W + w` given by `indices`: the
    /// forward pass of max pooling with known indices, and the adjoint of
    /// [`Tensor::max_pool2d_backward`] (needed for second derivatives).
    #[track_caller]
    pub fn max_pool2d_gather(&self, indices: &[usize], out_shape: impl Into<Shape>) -> Tensor {
        let op = "max_pool2d_gather";
        let os = out_shape.into();
        let d = ok(nchw(op, "input", &self.shape));
        let od = ok(nchw(op, "out_shape", &os));
        assert!(
            od[0] == d[0] && od[1] == d[1] && indices.len() == os.numel(),
            "{op}: {} indices of shape {os:?} do not fit input {:?}",
            indices.len(),
            self.shape
        );
        let hw = d[2] * d[3];
        let ohw = od[2] * od[3];
        assert!(
            indices.iter().all(|&i| i < hw),
            "{op}: an index is out of range for planes of {}×{}",
            d[2],
            d[3]
        );
        let x = self.contiguous();
        with_dtype!(self.dtype(), T => {
            let xs = x.as_slice::<T>();
            let mut out = vec![T::ZERO; os.numel()];
            for_planes(&mut out, ohw, |pi, pl| {
                let src = &xs[pi * hw..(pi + 1) * hw];
                for (o, &i) in pl.iter_mut().zip(&indices[pi * ohw..(pi + 1) * ohw]) {
                    *o = src[i];
                }
            });
            Tensor::from_vec(out, os)
        })
    }

    /// Nearest-neighbour upsampling of `[N, C, H, W]` by an integer factor (PyTorch's
    /// `F.interpolate(x, scale_factor=scale, mode="nearest")`): each pixel becomes a
    /// `scale × scale` block. Output `[N, C, H·scale, W·scale]`.
    #[track_caller]
    pub fn upsample_nearest2d(&self, scale: usize) -> Tensor {
        let op = "upsample_nearest2d";
        let d = ok(nchw(op, "input", &self.shape));
        assert!(scale > 0, "{op}: scale must be positive");
        let (h, w) = (d[2], d[3]);
        let (oh, ow) = (h * scale, w * scale);
        let x = self.contiguous();
        with_dtype!(self.dtype(), T => {
            let xs = x.as_slice::<T>();
            let mut out = vec![T::ZERO; d[0] * d[1] * oh * ow];
            for_planes(&mut out, oh * ow, |pi, pl| {
                let src = &xs[pi * h * w..(pi + 1) * h * w];
                for (oy, row) in pl.chunks_mut(ow).enumerate() {
                    let s = &src[(oy / scale) * w..(oy / scale + 1) * w];
                    for (o, &v) in row.chunks_mut(scale).zip(s) {
                        o.fill(v);
                    }
                }
            });
            Tensor::from_vec(out, [d[0], d[1], oh, ow])
        })
    }

    /// The adjoint of [`Tensor::upsample_nearest2d`] (its backward pass): sums each
    /// `scale × scale` block of the gradient `[N, C, H·scale, W·scale]` into `[N, C, H, W]`.
    #[track_caller]
    pub fn upsample_nearest2d_backward(&self, scale: usize) -> Tensor {
        let op = "upsample_nearest2d_backward";
        let d = ok(nchw(op, "grad_out", &self.shape));
        assert!(scale > 0, "{op}: scale must be positive");
        assert!(
            d[2].is_multiple_of(scale) && d[3].is_multiple_of(scale),
            "{op}: grad_out {:?} is not a multiple of the scale {scale}",
            self.shape
        );
        let (gh, gw) = (d[2], d[3]);
        let (h, w) = (gh / scale, gw / scale);
        let g = self.contiguous();
        with_dtype!(self.dtype(), T => {
            let gs = g.as_slice::<T>();
            let mut out = vec![T::ZERO; d[0] * d[1] * h * w];
            for_planes(&mut out, h * w, |pi, pl| {
                let src = &gs[pi * gh * gw..(pi + 1) * gh * gw];
                for (iy, row) in pl.chunks_mut(w).enumerate() {
                    for dy in 0..scale {
                        let s = &src[(iy * scale + dy) * gw..(iy * scale + dy + 1) * gw];
                        for (o, blk) in row.iter_mut().zip(s.chunks(scale)) {
                            for &v in blk {
                                *o += v;
                            }
                        }
                    }
                }
            });
            Tensor::from_vec(out, [d[0], d[1], h, w])
        })
    }
}
