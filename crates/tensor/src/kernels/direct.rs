//! Direct convolution for layers with very few output channels (stride 1, no dilation, one
//! group), such as an image generator's last layer (32 channels → 1) or a critic's score head.
//!
//! im2col + GEMM turns such a layer into a matrix product with one or two rows: the im2col
//! matrix (every input pixel copied `kh·kw` times) and `matrixmultiply`'s packed copy of it
//! are then far larger than the arithmetic, and the GEMM micro-kernel computes eight rows to
//! use one. Here each kernel tap `(c, ky, kx)` is applied to whole output rows at once, reading
//! the (zero-padded) image where it lies: `out[co, oy, ·] += w[co, c, ky, kx] · x[c, oy + ky,
//! kx ..]`. The row loops are plain element loops, compiled for each SIMD level like the other
//! kernels — except at AVX-512 for f32, where the rows are written with intrinsics and end in a
//! **masked** step instead of a scalar tail: [`forward`] and [`data_backward`] work 16 lanes a
//! step; [`filter_backward`] keeps its 8 interleaved partial sums (their order fixes the bits)
//! in one 256-bit register. Rows here are short (a padded 8×8 image's row is 14 wide, a wide
//! output 7 to 100 or so) and the compiler's own AVX-512 build of the plain loops, which works
//! 64 elements per unrolled step, left most of each row to its scalar tail (W6's last layer:
//! input gradient 0.66 → 0.75–0.82 ms, slower than AVX2). All builds do the same
//! multiplications and additions in the same order, so they give the same bits.
//!
//! All three functions work on one sample whose image `xp` is already padded
//! (`cin × hp × wp`, with `hp = oh + kh − 1`, `wp = ow + kw − 1`), and on outputs laid out
//! **wide**: output row `oy` starts at `oy · wp`, so that one tap reads one contiguous run of
//! the image, `xp[c, ky, kx + j]` for `j` in `0..wide_len()` (one long loop instead of `oh`
//! short ones). The `wp − ow` columns at the end of each wide row are scratch: the forward
//! kernel writes something there. The two backward kernels read the output gradient
//! *extended* ([`Direct::ext_len`]): `kw − 1` zeros before and after, zeros in the scratch
//! columns.

use super::{simd_level, simd_twin, Simd};
#[cfg(target_arch = "x86_64")]
use crate::DType;
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

/// Defines `$name`, which runs the build of [`simd_level`], and `$with`, which runs the build of
/// a given level if the CPU has it: at AVX-512 for f32 the masked rows of [`masked`], otherwise
/// the plain loops compiled for the level (`$plain_with`, the AVX-512 build capped at AVX2).
macro_rules! masked_twin {
    ($(#[$m:meta])* fn $name:ident / $with:ident ($a:ident, $b:ident, $out:ident) => $plain_with:ident) => {
        $(#[$m])*
        #[inline]
        pub fn $name<T: Element>(d: Direct, $a: &[T], $b: &[T], $out: &mut [T]) {
            $with(simd_level(), d, $a, $b, $out);
        }

        #[doc = concat!("Runs the `level` build of [`", stringify!($name), "`] if this CPU has it; returns whether it ran.")]
        #[inline]
        pub fn $with<T: Element>(level: Simd, d: Direct, $a: &[T], $b: &[T], $out: &mut [T]) -> bool {
            if !(level <= simd_level() || level.available()) {
                return false;
            }
            #[cfg(target_arch = "x86_64")]
            if level == Simd::Avx512 && T::DTYPE == DType::F32 {
                // SAFETY: the CPU has AVX-512 F/VL (checked); the tag says f32 (see `as_f32`).
                unsafe { masked::$name(d, as_f32($a), as_f32($b), as_f32_mut($out)) };
                return true;
            }
            $plain_with(level.min(Simd::Avx2), d, $a, $b, $out)
        }
    };
}

/// The row operations the three loops are made of (`four` and `one` for the forward and the
/// input gradient, `dot_lanes` for the weight gradient).
trait Rows<T: Element> {
    /// `dst[i] = dst[i] + w₀·s₀[i] + w₁·s₁[i] + w₂·s₂[i] + w₃·s₃[i]`, added left to right.
    fn four(dst: &mut [T], w: [T; 4], s: [&[T]; 4]);
    /// `dst[i] = dst[i] + w·s[i]`.
    fn one(dst: &mut [T], w: T, s: &[T]);
    /// The products `g[j]·s[j]` summed in [`LANES`] interleaved partial sums: lane `k` adds the
    /// products at `j ≡ k (mod LANES)` in order of `j`.
    fn dot_lanes(g: &[T], s: &[T]) -> [T; LANES];
}

/// Plain element loops, vectorised by the compiler for the level they are compiled at.
struct Plain;

impl<T: Element> Rows<T> for Plain {
    #[inline(always)]
    fn four(dst: &mut [T], [w0, w1, w2, w3]: [T; 4], [s0, s1, s2, s3]: [&[T]; 4]) {
        let n = dst.len();
        let (s0, s1, s2, s3) = (&s0[..n], &s1[..n], &s2[..n], &s3[..n]);
        for j in 0..n {
            dst[j] = dst[j] + w0 * s0[j] + w1 * s1[j] + w2 * s2[j] + w3 * s3[j];
        }
    }
    #[inline(always)]
    fn one(dst: &mut [T], w: T, s: &[T]) {
        for (a, &v) in dst.iter_mut().zip(s) {
            *a += w * v;
        }
    }
    #[inline(always)]
    fn dot_lanes(g: &[T], s: &[T]) -> [T; LANES] {
        let len = g.len().min(s.len());
        let mut part = [T::ZERO; LANES];
        let (gc, gr) = g[..len].split_at(len - len % LANES);
        let (sc, sr) = s[..len].split_at(len - len % LANES);
        for (gv, sv) in gc.chunks_exact(LANES).zip(sc.chunks_exact(LANES)) {
            for k in 0..LANES {
                part[k] += gv[k] * sv[k];
            }
        }
        for (k, (&gv, &sv)) in gr.iter().zip(sr).enumerate() {
            part[k] += gv * sv;
        }
        part
    }
}

#[inline(always)]
fn forward_loop<T: Element>(d: Direct, xp: &[T], w: &[T], out: &mut [T]) {
    forward_rows::<T, Plain>(d, xp, w, out)
}

#[inline(always)]
fn forward_rows<T: Element, R: Rows<T>>(d: Direct, xp: &[T], w: &[T], out: &mut [T]) {
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
            let s = |k: usize| &xp[d.tap_offset(t + k)..][..len];
            R::four(o, [w0, w1, w2, w3], [s(0), s(1), s(2), s(3)]);
            t += 4;
        }
        for t in t..taps {
            R::one(o, wc[t], &xp[d.tap_offset(t)..][..len]);
        }
    }
}

simd_twin! {
    #[allow(dead_code)] // the public dispatcher below goes through the `_with` runner
    fn forward_plain / forward_plain_with <T>(d: Direct, xp: &[T], w: &[T], out: &mut [T]) => forward_loop, up to Avx2
}

masked_twin! {
    /// `out[co] = Σ_t w[co, t] · xp[tap t ..]` for one sample, in the wide layout (`out` is
    /// `cout × wide_len`, overwritten), the taps added in order; the build of [`simd_level`].
    fn forward / forward_with (xp, w, out) => forward_plain_with
}

#[inline(always)]
fn data_backward_loop<T: Element>(d: Direct, dy: &[T], w: &[T], dxp: &mut [T]) {
    data_backward_rows::<T, Plain>(d, dy, w, dxp)
}

#[inline(always)]
fn data_backward_rows<T: Element, R: Rows<T>>(d: Direct, dy: &[T], w: &[T], dxp: &mut [T]) {
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
                    let s = [src(kx), src(kx + 1), src(kx + 2), src(kx + 3)];
                    R::four(dst, [w0, w1, w2, w3], s);
                    kx += 4;
                }
                for kx in kx..d.kw {
                    R::one(dst, wr[kx], src(kx));
                }
            }
        }
    }
}

simd_twin! {
    #[allow(dead_code)] // the public dispatcher below goes through the `_with` runner
    fn data_backward_plain / data_backward_plain_with <T>(d: Direct, dy: &[T], w: &[T], dxp: &mut [T]) => data_backward_loop, up to Avx2
}

masked_twin! {
    /// Adds the adjoint of [`forward`] to the padded image gradient `dxp` of one sample:
    /// `dxp[tap t ..] += w[co, t] · dy[co]`, `dy` extended (see [`Direct::ext_len`]); the build
    /// of [`simd_level`].
    fn data_backward / data_backward_with (dy, w, dxp) => data_backward_plain_with
}

/// `v` as the f32 slice it is.
///
/// # Safety
/// `T` must be f32 (`Element` is sealed to f32 and f64, so checking `T::DTYPE` suffices).
#[cfg(target_arch = "x86_64")]
unsafe fn as_f32<T: Element>(v: &[T]) -> &[f32] {
    debug_assert!(T::DTYPE == DType::F32);
    // SAFETY: same type, same length (the caller's promise).
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const f32, v.len()) }
}

/// `v` as the mutable f32 slice it is; see [`as_f32`].
///
/// # Safety
/// As [`as_f32`].
#[cfg(target_arch = "x86_64")]
unsafe fn as_f32_mut<T: Element>(v: &mut [T]) -> &mut [f32] {
    debug_assert!(T::DTYPE == DType::F32);
    // SAFETY: same type, same length (the caller's promise).
    unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr() as *mut f32, v.len()) }
}

/// The AVX-512 rows for f32: 16 lanes a step, the last step masked, each lane doing exactly
/// the plain loop's multiplications and additions (no fused multiply-add), so the bits are the
/// baseline build's.
#[cfg(target_arch = "x86_64")]
mod masked {
    use super::{data_backward_rows, filter_backward_rows, forward_rows, Direct, Rows, LANES};
    use std::arch::x86_64::*;

    /// Private to this module, so that only the entry points below, compiled for AVX-512, can
    /// run loops with these rows.
    struct Masked;

    /// The lanes of `n − j` remaining elements, at most 16.
    #[inline(always)]
    fn mask(left: usize) -> __mmask16 {
        if left >= 16 {
            !0
        } else {
            ((1u32 << left) - 1) as __mmask16
        }
    }

    impl Rows<f32> for Masked {
        #[inline(always)]
        fn four(dst: &mut [f32], w: [f32; 4], s: [&[f32]; 4]) {
            let n = dst.len();
            assert!(s.iter().all(|r| r.len() >= n), "direct: short source row");
            // SAFETY: only reached through `forward`/`data_backward` below, which are compiled
            // for (and only called on CPUs with) AVX-512 F; every masked access stays within
            // the first `n` elements of `dst` and of each source row (asserted above).
            unsafe { four(dst.as_mut_ptr(), n, w, s.map(|r| r.as_ptr())) }
        }
        #[inline(always)]
        fn one(dst: &mut [f32], w: f32, s: &[f32]) {
            let n = dst.len().min(s.len());
            // SAFETY: as in `four`; both slices hold at least `n` elements.
            unsafe { one(dst.as_mut_ptr(), n, w, s.as_ptr()) }
        }
        #[inline(always)]
        fn dot_lanes(g: &[f32], s: &[f32]) -> [f32; LANES] {
            let n = g.len().min(s.len());
            // SAFETY: as in `four`; both slices hold at least `n` elements.
            unsafe { dot_lanes(g.as_ptr(), s.as_ptr(), n) }
        }
    }

    /// The 8 partial sums in one 256-bit register; the last step adds only its lanes (a
    /// masked add, so untouched lanes keep their bits, −0 included).
    #[inline]
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    unsafe fn dot_lanes(g: *const f32, s: *const f32, n: usize) -> [f32; LANES] {
        let mut acc = _mm256_setzero_ps();
        let mut j = 0;
        // SAFETY: full steps read 8 elements below `n`; the last reads only its masked lanes.
        unsafe {
            while j + LANES <= n {
                let p = _mm256_mul_ps(_mm256_loadu_ps(g.add(j)), _mm256_loadu_ps(s.add(j)));
                acc = _mm256_add_ps(acc, p);
                j += LANES;
            }
            if j < n {
                let m = ((1u32 << (n - j)) - 1) as __mmask8;
                let p = _mm256_mul_ps(
                    _mm256_maskz_loadu_ps(m, g.add(j)),
                    _mm256_maskz_loadu_ps(m, s.add(j)),
                );
                acc = _mm256_mask_add_ps(acc, m, acc, p);
            }
        }
        let mut out = [0f32; LANES];
        // SAFETY: `out` holds 8 floats.
        unsafe { _mm256_storeu_ps(out.as_mut_ptr(), acc) };
        out
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    unsafe fn four(dst: *mut f32, n: usize, w: [f32; 4], s: [*const f32; 4]) {
        let wv = w.map(|v| _mm512_set1_ps(v));
        let mut j = 0;
        while j < n {
            let m = mask(n - j);
            // SAFETY: lanes past `n` are masked off: neither read nor written.
            unsafe {
                let mut a = _mm512_maskz_loadu_ps(m, dst.add(j));
                for k in 0..4 {
                    let x = _mm512_maskz_loadu_ps(m, s[k].add(j));
                    a = _mm512_add_ps(a, _mm512_mul_ps(wv[k], x));
                }
                _mm512_mask_storeu_ps(dst.add(j), m, a);
            }
            j += 16;
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    unsafe fn one(dst: *mut f32, n: usize, w: f32, s: *const f32) {
        let wv = _mm512_set1_ps(w);
        let mut j = 0;
        while j < n {
            let m = mask(n - j);
            // SAFETY: lanes past `n` are masked off: neither read nor written.
            unsafe {
                let x = _mm512_maskz_loadu_ps(m, s.add(j));
                let a = _mm512_add_ps(_mm512_maskz_loadu_ps(m, dst.add(j)), _mm512_mul_ps(wv, x));
                _mm512_mask_storeu_ps(dst.add(j), m, a);
            }
            j += 16;
        }
    }

    /// [`super::forward`] with masked rows.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F and VL.
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    pub(super) unsafe fn forward(d: Direct, xp: &[f32], w: &[f32], out: &mut [f32]) {
        forward_rows::<f32, Masked>(d, xp, w, out)
    }

    /// [`super::data_backward`] with masked rows.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F and VL.
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    pub(super) unsafe fn data_backward(d: Direct, dy: &[f32], w: &[f32], dxp: &mut [f32]) {
        data_backward_rows::<f32, Masked>(d, dy, w, dxp)
    }

    /// [`super::filter_backward`] with a masked last step.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F and VL.
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    pub(super) unsafe fn filter_backward(d: Direct, xp: &[f32], dy: &[f32], dw: &mut [f32]) {
        filter_backward_rows::<f32, Masked>(d, xp, dy, dw)
    }
}

/// Lanes of the dot products in [`filter_backward`]: products are summed in 8 interleaved
/// partial sums (one AVX2 register), which are then added in order.
const LANES: usize = 8;

#[inline(always)]
fn filter_backward_loop<T: Element>(d: Direct, xp: &[T], dy: &[T], dw: &mut [T]) {
    filter_backward_rows::<T, Plain>(d, xp, dy, dw)
}

#[inline(always)]
fn filter_backward_rows<T: Element, R: Rows<T>>(d: Direct, xp: &[T], dy: &[T], dw: &mut [T]) {
    let (len, taps, ext) = (d.wide_len(), d.taps(), d.ext_len());
    assert!(xp.len() >= d.cin * d.hp() * d.wp() && dw.len() >= d.cout * taps);
    assert!(dy.len() >= d.cout * ext);
    for co in 0..d.cout {
        let g = &dy[co * ext + d.kw - 1..][..len];
        for t in 0..taps {
            let part = R::dot_lanes(g, &xp[d.tap_offset(t)..][..len]);
            let mut s = T::ZERO;
            for v in part {
                s += v;
            }
            dw[co * taps + t] += s;
        }
    }
}

simd_twin! {
    #[allow(dead_code)] // the public dispatcher below goes through the `_with` runner
    fn filter_backward_plain / filter_backward_plain_with <T>(d: Direct, xp: &[T], dy: &[T], dw: &mut [T]) => filter_backward_loop, up to Avx2
}

masked_twin! {
    /// Adds one sample's weight gradient to `dw` (`cout × taps`):
    /// `dw[co, t] += Σ_j dy[co, j] · xp[tap t + j]`, `dy` extended (see [`Direct::ext_len`]);
    /// the build of [`simd_level`].
    fn filter_backward / filter_backward_with (xp, dy, dw) => filter_backward_plain_with
}
