//! Direct convolution for layers with very few output channels (stride 1, no dilation, one
//! group), such as an image generator's last layer (32 channels → 1) or a critic's score head.
//!
//! im2col + GEMM turns such a layer into a matrix product with one or two rows: the im2col
//! matrix (every input pixel copied `kh·kw` times) and `matrixmultiply`'s packed copy of it
//! are then far larger than the arithmetic, and the GEMM micro-kernel computes eight rows to
//! use one. Here each kernel tap `(c, ky, kx)` is applied to whole output rows at once, reading
//! the (zero-padded) image where it lies: `out[co, oy, ·] += w[co, c, ky, kx] · x[c, oy + ky,
//! kx ..]`. The row loops are plain element loops, compiled for each SIMD level like the other
//! kernels but used only up to AVX2+FMA: rows here are short (a padded 8×8 image's row is 14
//! wide) and the AVX-512 build, which works 64 elements per unrolled step, leaves most of each
//! to its scalar tail (W6's last layer: input gradient 0.66 → 0.75–0.82 ms). All builds do the
//! same multiplications and additions in the same order, so they give the same bits.
//!
//! All three functions work on one sample whose image `xp` is already padded
//! (`cin × hp × wp`, with `hp = oh + kh − 1`, `wp = ow + kw − 1`), and on outputs laid out
//! **wide**: output row `oy` starts at `oy · wp`, so that one tap reads one contiguous run of
//! the image, `xp[c, ky, kx + j]` for `j` in `0..wide_len()` (one long loop instead of `oh`
//! short ones). The `wp − ow` columns at the end of each wide row are scratch: the forward
//! kernel writes something there. The two backward kernels read the output gradient
//! *extended* ([`Direct::ext_len`]): `kw − 1` zeros before and after, zeros in the scratch
//! columns.

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
    /// Length of one output channel's gradient in the extended wide layout the backward
    /// kernels read: `kw − 1` zeros, the wide layout (zeros in its scratch columns), `kw − 1`
    /// zeros.
    pub fn ext_len(&self) -> usize {
        self.wide_len() + 2 * (self.kw - 1)
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
        let wc = &w[co * taps..(co + 1) * taps];
        // four taps per pass over the output: a quarter of the loads and stores of `o`, and the
        // same sum, ((o + w₀s₀) + w₁s₁) + …, as one tap at a time
        let mut t = 0;
        while t + 4 <= taps {
            let (w0, w1, w2, w3) = (wc[t], wc[t + 1], wc[t + 2], wc[t + 3]);
            let s0 = &xp[d.tap_offset(t)..][..len];
            let s1 = &xp[d.tap_offset(t + 1)..][..len];
            let s2 = &xp[d.tap_offset(t + 2)..][..len];
            let s3 = &xp[d.tap_offset(t + 3)..][..len];
            for j in 0..len {
                o[j] = o[j] + w0 * s0[j] + w1 * s1[j] + w2 * s2[j] + w3 * s3[j];
            }
            t += 4;
        }
        for t in t..taps {
            let wv = wc[t];
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
    pub fn forward / forward_with <T>(d: Direct, xp: &[T], w: &[T], out: &mut [T]) => forward_loop, up to Avx2
}

#[inline(always)]
fn data_backward_loop<T: Element>(d: Direct, dy: &[T], w: &[T], dxp: &mut [T]) {
    let (len, taps) = (d.wide_len(), d.taps());
    let (ext, pad, span) = (d.ext_len(), d.kw - 1, d.wide_len() + d.kw - 1);
    assert!(dxp.len() >= d.cin * d.hp() * d.wp() && w.len() >= d.cout * taps);
    assert!(dy.len() >= d.cout * ext && len > 0);
    // gathered by image rows: dxp[c, ky, i] += Σ_kx w[co, c, ky, kx] · dy[i − kx], the shifted
    // dy read from its zero-extended copy, four kx per pass over the rows
    for co in 0..d.cout {
        let g = &dy[co * ext..(co + 1) * ext];
        for c in 0..d.cin {
            for ky in 0..d.kh {
                let base = (c * d.hp() + ky) * d.wp();
                let dst = &mut dxp[base..base + span];
                let wr = &w[co * taps + (c * d.kh + ky) * d.kw..][..d.kw];
                let src = |kx: usize| &g[pad - kx..pad - kx + span];
                let mut kx = 0;
                while kx + 4 <= d.kw {
                    let (w0, w1, w2, w3) = (wr[kx], wr[kx + 1], wr[kx + 2], wr[kx + 3]);
                    let (s0, s1, s2, s3) = (src(kx), src(kx + 1), src(kx + 2), src(kx + 3));
                    for i in 0..span {
                        dst[i] = dst[i] + w0 * s0[i] + w1 * s1[i] + w2 * s2[i] + w3 * s3[i];
                    }
                    kx += 4;
                }
                for kx in kx..d.kw {
                    let wv = wr[kx];
                    for (a, &v) in dst.iter_mut().zip(src(kx)) {
                        *a += wv * v;
                    }
                }
            }
        }
    }
}

simd_twin! {
    /// Adds the adjoint of [`forward`] to the padded image gradient `dxp` of one sample:
    /// `dxp[tap t ..] += w[co, t] · dy[co]`, `dy` extended (see [`Direct::ext_len`]).
    pub fn data_backward / data_backward_with <T>(d: Direct, dy: &[T], w: &[T], dxp: &mut [T]) => data_backward_loop, up to Avx2
}

/// Lanes of the dot products in [`filter_backward`]: products are summed in 8 interleaved
/// partial sums (one AVX2 register), which are then added in order.
const LANES: usize = 8;

#[inline(always)]
fn filter_backward_loop<T: Element>(d: Direct, xp: &[T], dy: &[T], dw: &mut [T]) {
    let (len, taps, ext) = (d.wide_len(), d.taps(), d.ext_len());
    assert!(xp.len() >= d.cin * d.hp() * d.wp() && dw.len() >= d.cout * taps);
    assert!(dy.len() >= d.cout * ext);
    for co in 0..d.cout {
        let g = &dy[co * ext + d.kw - 1..][..len];
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
    /// `dw[co, t] += Σ_j dy[co, j] · xp[tap t + j]`, `dy` extended (see [`Direct::ext_len`]).
    pub fn filter_backward / filter_backward_with <T>(d: Direct, xp: &[T], dy: &[T], dw: &mut [T]) => filter_backward_loop, up to Avx2
}
