//! Direct convolution for layers with very few output channels (stride 1, no dilation, one
//! group), such as an image generator's last layer (32 channels → 1) or a critic's score head.
//!
//! im2col + GEMM turns such a layer into a matrix product with one or two rows: the im2col
//! matrix (every input pixel copied `kh·kw` times) and `matrixmultiply`'s packed copy of it
//! are then far larger than the arithmetic, and the GEMM micro-kernel computes eight rows to
//! use one. Here each kernel tap `(c, ky, kx)` is applied to whole output rows at once, reading
//! the (zero-padded) image where it lies: `out[co, oy, ·] += w[co, c, ky, kx] · x[c, oy + ky,
//! kx ..]`. The row loops are plain element loops, compiled twice (AVX2+FMA and the baseline)
//! like the other kernels; both builds do the same multiplications and additions in the same
//! order, so they give the same bits.
//!
//! All three functions work on one sample whose image `xp` is already padded
//! (`cin × hp × wp`, with `hp = oh + kh − 1`, `wp = ow + kw − 1`), and on outputs laid out
//! **wide**: output row `oy` starts at `oy · wp`, so that one tap reads one contiguous run of
//! the image, `xp[c, ky, kx + j]` for `j` in `0..wide_len()` (one long loop instead of `oh`
//! short ones). The `wp − ow` columns at the end of each wide row are scratch: the forward
//! kernel writes something there, the two backward kernels need zeros there.

use super::simd_twin;
use crate::Element;

/// The shape of one sample's direct convolution.
#[derive(Clone, Copy, Debug)]
pub struct Direct {
    /// Input channels.
    pub cin: usize,
    /// Output channels.
    pub cout: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Output height.
    pub oh: usize,
    /// Output width.
    pub ow: usize,
}

impl Direct {
    /// Padded image height `oh + kh − 1`.
    pub fn hp(&self) -> usize {
        self.oh + self.kh - 1
    }
    /// Padded image width `ow + kw − 1`.
    pub fn wp(&self) -> usize {
        self.ow + self.kw - 1
    }
    /// Length of one output channel in the wide layout: `(oh − 1) · wp + ow`.
    pub fn wide_len(&self) -> usize {
        (self.oh - 1) * self.wp() + self.ow
    }
    /// Kernel taps per output channel, `cin · kh · kw`.
    pub fn taps(&self) -> usize {
        self.cin * self.kh * self.kw
    }
    /// Where tap `t = (c·kh + ky)·kw + kx` starts in the padded image.
    #[inline(always)]
    fn tap_offset(&self, t: usize) -> usize {
        let (c, k) = (t / (self.kh * self.kw), t % (self.kh * self.kw));
        (c * self.hp() + k / self.kw) * self.wp() + k % self.kw
    }
}

#[inline(always)]
fn forward_loop<T: Element>(d: Direct, xp: &[T], w: &[T], out: &mut [T]) {
    let (len, taps) = (d.wide_len(), d.taps());
    assert!(xp.len() >= d.cin * d.hp() * d.wp() && w.len() >= d.cout * taps);
    assert!(out.len() >= d.cout * len);
    for co in 0..d.cout {
        let o = &mut out[co * len..(co + 1) * len];
        o.fill(T::ZERO);
        for t in 0..taps {
            let wv = w[co * taps + t];
            let src = &xp[d.tap_offset(t)..][..len];
            for (a, &v) in o.iter_mut().zip(src) {
                *a += wv * v;
            }
        }
    }
}

simd_twin! {
    /// `out[co] = Σ_t w[co, t] · xp[tap t ..]` for one sample, in the wide layout (`out` is
    /// `cout × wide_len`, overwritten), the taps added in order.
    pub fn forward / forward_avx2 / forward_scalar <T>(d: Direct, xp: &[T], w: &[T], out: &mut [T]) => forward_loop
}

#[inline(always)]
fn data_backward_loop<T: Element>(d: Direct, dy: &[T], w: &[T], dxp: &mut [T]) {
    let (len, taps) = (d.wide_len(), d.taps());
    assert!(dxp.len() >= d.cin * d.hp() * d.wp() && w.len() >= d.cout * taps);
    assert!(dy.len() >= d.cout * len);
    for t in 0..taps {
        let dst = &mut dxp[d.tap_offset(t)..][..len];
        for co in 0..d.cout {
            let wv = w[co * taps + t];
            for (a, &v) in dst.iter_mut().zip(&dy[co * len..(co + 1) * len]) {
                *a += wv * v;
            }
        }
    }
}

simd_twin! {
    /// Adds the adjoint of [`forward`] to the padded image gradient `dxp` of one sample:
    /// `dxp[tap t ..] += w[co, t] · dy[co]`, `dy` wide with zeros in its scratch columns.
    pub fn data_backward / data_backward_avx2 / data_backward_scalar <T>(d: Direct, dy: &[T], w: &[T], dxp: &mut [T]) => data_backward_loop
}

/// Lanes of the dot products in [`filter_backward`]: products are summed in 8 interleaved
/// partial sums (one AVX2 register), which are then added in order.
const LANES: usize = 8;

#[inline(always)]
fn filter_backward_loop<T: Element>(d: Direct, xp: &[T], dy: &[T], dw: &mut [T]) {
    let (len, taps) = (d.wide_len(), d.taps());
    assert!(xp.len() >= d.cin * d.hp() * d.wp() && dw.len() >= d.cout * taps);
    assert!(dy.len() >= d.cout * len);
    for co in 0..d.cout {
        let g = &dy[co * len..(co + 1) * len];
        for t in 0..taps {
            let src = &xp[d.tap_offset(t)..][..len];
            let mut part = [T::ZERO; LANES];
            let (gc, gr) = g.split_at(len - len % LANES);
            let (sc, sr) = src.split_at(len - len % LANES);
            for (gv, sv) in gc.chunks_exact(LANES).zip(sc.chunks_exact(LANES)) {
                for k in 0..LANES {
                    part[k] += gv[k] * sv[k];
                }
            }
            for (k, (&gv, &sv)) in gr.iter().zip(sr).enumerate() {
                part[k] += gv * sv;
            }
            let mut s = T::ZERO;
            for v in part {
                s += v;
            }
            dw[co * taps + t] += s;
        }
    }
}

simd_twin! {
    /// Adds one sample's weight gradient to `dw` (`cout × taps`):
    /// `dw[co, t] += Σ_j dy[co, j] · xp[tap t + j]`, `dy` wide with zeros in its scratch
    /// columns.
    pub fn filter_backward / filter_backward_avx2 / filter_backward_scalar <T>(d: Direct, xp: &[T], dy: &[T], dw: &mut [T]) => filter_backward_loop
}
