//! Winograd convolution for the DCGAN layer: 4×4 kernels, stride 2, padding 1.
//!
//! Every DCGAN halves or doubles the image with `Conv2d(cin, cout, 4, 2, 1)` or
//! `ConvTranspose2d(cin, cout, 4, 2, 1)`, and those layers are nearly all of a training step's
//! arithmetic. This module computes them with about a third of the multiplications of im2col +
//! GEMM, in two steps.
//!
//! **1. Stride 2 becomes four stride-1 convolutions (polyphase split).** In one dimension, with
//! `xp` the input padded by one zero on each side, the output is
//! `y[i] = Σₖ w[k]·xp[2i + k]` for `k = 0..4`. Writing `k = 2t + p` (`p` the phase, `t = 0, 1`):
//!
//! ```text
//! y[i] = Σₚ Σₜ w[2t + p] · uₚ[i + t]      with  uₚ[j] = xp[2j + p]
//! ```
//!
//! so each phase is a plain stride-1 correlation of the sub-sampled input `uₚ` with the 2-tap
//! filter `(w[p], w[2 + p])`. In 2-D there are four phases `(p, q)`; they act like four times as
//! many input channels, each with a 2×2 filter.
//!
//! **2. Each 2×2 correlation is a Winograd `F(7×7, 2×2)`.** A correlation of a 2-tap filter
//! `g` with an 8-sample tile `d` giving 7 outputs is, by Toom–Cook interpolation at the points
//! `0, ±1, ±2, ±½` and `∞`,
//!
//! ```text
//! y = Aᵀ [ (G g) ⊙ (Bᵀ d) ]
//! ```
//!
//! with `G` (8×2) evaluating the filter polynomial at the points, `Bᵀ` (8×8) the inverse
//! transposed Vandermonde matrix and `Aᵀ` (7×8) the transposed evaluation matrix of the output
//! (see [`matrices`] for the construction). In 2-D the tile is 8×8 and
//! `Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A`: 64 products instead of 7·7·4 = 196. Summed over input
//! channels, the products at each of the 64 transform positions form a matrix product
//!
//! ```text
//! Ŷ[ξη] (cout × tiles) = Ŵ[ξη] (cout × 4·cin) · X̂[ξη] (4·cin × tiles)
//! ```
//!
//! so the work is 64 GEMMs, each `196 / 64 ≈ 3.1` times smaller than the direct one, plus the
//! cheap transforms. An output image is cut into 7×7 tiles (8×8 inputs overlapping by one);
//! a 7×7 output (the 14×14 → 7×7 layer of the 28×28 DCGAN) is exactly one tile.
//!
//! **The gradients are the adjoints of the same bilinear form**, so they live in the same
//! transform domain and cost the same:
//!
//! ```text
//! input gradient:   dX̂[ξη] = Ŵ[ξη]ᵀ · dŶ[ξη],   dŶ = A dY Aᵀ,   dx = B dX̂ Bᵀ (scattered back)
//! weight gradient:  dŴ[ξη] = dŶ[ξη] · X̂[ξη]ᵀ,   dw = Gᵀ dŴ G
//! ```
//!
//! The transposed convolution `ConvTranspose2d(·, ·, 4, 2, 1)` is the input gradient of the
//! convolution, so it runs the same code.
//!
//! **Accuracy.** The transforms have entries up to 5.25 and cancel, so in f32 the result
//! carries a relative error of about 3·10⁻⁵ of the output's scale, against about 10⁻⁶ for the
//! direct sum (`tests` measures it). Training rarely notices (cuDNN's Winograd algorithms make
//! the same trade), but [`crate::ops::conv`] uses it only for f32 and it can be switched off
//! with [`crate::set_winograd`]; f64, used for gradient checks, always sums directly.
//!
//! **Memory, not arithmetic, is the cost that remains.** The 64 transformed weights are 16
//! times the weight, so they are never stored: each row `ξ` of positions builds
//! `R[s] = Σₜ G[ξ][t]·w[t][s]` once and each `Ŵ[ξη]` from it just before its product
//! (`products`); the weight gradient likewise sums its products into `Gᵀ dŴ G` as they come
//! (`filter_products`). The input and output-gradient transforms (4 MiB for the 28×28
//! DCGAN's batch of 64) do go through memory; on x86-64 with AVX2 they read and write the images
//! in place, one 8×8 tile in registers at a time (`mod tiles`), and the forward and
//! input-gradient products run on a small kernel of our own (`tiles::panel_product`) instead of
//! `matrixmultiply`: the weights are built directly in its panel order (so nothing packs them),
//! and the transformed inputs' rows, which lie far apart, are prefetched a panel ahead. On the
//! DCGAN layer that took the products from about 4.6 to 3.8 ms (70 GFLOP/s, 1 thread).
//!
//! Every output element is computed by the same operations whatever the thread count: tasks
//! split the work by channel (transforms) or by transform position (GEMMs), never inside a sum.
//! The batch size can matter, though: with a multiple of 8 GEMM columns the f32 transforms run
//! on the AVX2 tile path (fused multiply-adds), otherwise on the portable one, so one sample
//! may get slightly different bits alone than inside a batch.

use crate::kernels::elementwise::as_uninit;
use crate::kernels::fill_uninit;
use crate::kernels::gemm::gemm_raw;
use crate::parallel::{for_chunks_mut, map_indexed};
use crate::pool::{self, Buffer};
use crate::Element;
use std::mem::MaybeUninit;
use std::sync::OnceLock;

/// Outputs per tile side.
pub const M: usize = 7;
/// Tile side in the transform domain (`M + 2 − 1`).
pub const ALPHA: usize = 8;
/// Transform positions per tile.
const POS: usize = ALPHA * ALPHA;
/// The finite interpolation points (the eighth is ∞).
const POINTS: [f64; ALPHA - 1] = [0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5];

/// The Toom–Cook matrices of `F(7, 2)`, in f64.
#[derive(Debug)]
pub struct Matrices {
    /// `Bᵀ` (8×8): input tile → transform domain.
    pub bt: [[f64; ALPHA]; ALPHA],
    /// `Aᵀ` (7×8): transform domain → outputs.
    pub at: [[f64; ALPHA]; M],
    /// `G` (8×2): 2-tap filter → transform domain.
    pub g: [[f64; 2]; ALPHA],
}

/// Evaluation row of a polynomial with `k` coefficients at a point (`None` = ∞, which picks
/// the leading coefficient).
fn eval_row(point: Option<f64>, k: usize) -> Vec<f64> {
    (0..k)
        .map(|j| match point {
            Some(a) => a.powi(j as i32),
            None => f64::from(u8::from(j == k - 1)),
        })
        .collect()
}

/// Inverse of a small square matrix by Gauss–Jordan elimination with partial pivoting.
fn invert(a: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = a.len();
    let mut m: Vec<Vec<f64>> = a
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut r = row.clone();
            r.extend((0..n).map(|j| f64::from(u8::from(i == j))));
            r
        })
        .collect();
    for c in 0..n {
        let p = (c..n)
            .max_by(|&i, &j| m[i][c].abs().total_cmp(&m[j][c].abs()))
            .unwrap_or(c);
        m.swap(c, p);
        let d = m[c][c];
        for v in m[c].iter_mut() {
            *v /= d;
        }
        let pivot = m[c].clone();
        for (i, row) in m.iter_mut().enumerate() {
            let f = row[c];
            if i != c && f != 0.0 {
                for (v, pv) in row.iter_mut().zip(&pivot) {
                    *v -= f * pv;
                }
            }
        }
    }
    m.into_iter().map(|r| r[n..].to_vec()).collect()
}

/// The matrices, built once by Toom–Cook: a linear convolution `s = g ∗ h` is
/// `V⁻¹ [(V₂ g) ⊙ (V₇ h)]` (evaluate both polynomials at the 8 points, multiply, interpolate),
/// where `Vₖ` is the 8×k evaluation matrix and `V = V₈`. A correlation is the transpose of a
/// convolution in its data argument, so `y = V₇ᵀ [(V₂ g) ⊙ (V⁻ᵀ d)]`:
/// `Aᵀ = V₇ᵀ`, `G = V₂`, `Bᵀ = V⁻ᵀ`.
pub fn matrices() -> &'static Matrices {
    static MATS: OnceLock<Matrices> = OnceLock::new();
    MATS.get_or_init(|| {
        let points: Vec<Option<f64>> = POINTS.iter().map(|&a| Some(a)).chain([None]).collect();
        let v: Vec<Vec<f64>> = points.iter().map(|&a| eval_row(a, ALPHA)).collect();
        let vinv = invert(&v);
        let mut m = Matrices {
            bt: [[0.0; ALPHA]; ALPHA],
            at: [[0.0; ALPHA]; M],
            g: [[0.0; 2]; ALPHA],
        };
        for (i, &a) in points.iter().enumerate() {
            let r7 = eval_row(a, M);
            for (j, &e) in r7.iter().enumerate() {
                m.at[j][i] = e;
            }
            let r2 = eval_row(a, 2);
            m.g[i] = [r2[0], r2[1]];
            for j in 0..ALPHA {
                m.bt[i][j] = vinv[j][i];
            }
        }
        m
    })
}

/// The problem: a convolution of `[n, cin, h, w]` with a `[cout, cin, 4, 4]` weight, stride 2,
/// padding 1, giving `[n, cout, oh, ow]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geom {
    /// Batch size.
    pub n: usize,
    /// Input channels of the convolution.
    pub cin: usize,
    /// Output channels of the convolution.
    pub cout: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output height, `⌊h / 2⌋`.
    pub oh: usize,
    /// Output width, `⌊w / 2⌋`.
    pub ow: usize,
}

impl Geom {
    fn tiles(&self) -> (usize, usize) {
        (self.oh.div_ceil(M), self.ow.div_ceil(M))
    }
    /// GEMM columns: one per (sample, tile).
    fn cols(&self) -> usize {
        let (th, tw) = self.tiles();
        self.n * th * tw
    }
    /// GEMM inner dimension of the forward product: channel × phase.
    fn ci(&self) -> usize {
        4 * self.cin
    }

    /// Whether the Winograd form pays here: enough channels for the GEMMs to dominate, and
    /// outputs that fill at least half of their 7×7 tiles (a 4×4 output would waste most of
    /// its tile). Depends on the shapes only.
    pub fn worthwhile(&self) -> bool {
        let (th, tw) = self.tiles();
        self.n > 0
            && self.cin >= 16
            && self.cout >= 16
            && self.oh * self.ow > 0
            && 2 * self.oh * self.ow >= M * M * th * tw
            && self.oh == self.h / 2
            && self.ow == self.w / 2
    }
}

// ------------------------------------------------------------------------------ row mixing

/// `dst[a] = Σₖ m[a][k] · src[k]` for rows of `len` elements: `m` is `ro × ri` (row-major),
/// row `k` of `src` starts at `k·ss`, row `a` of `dst` at `a·ds`. Zero coefficients (the
/// transforms have many) are skipped. Every transform of this module is made of these.
/// `dst` may be uninitialised: its rows are written (every element of each), never read, and
/// nothing between them is touched.
#[allow(clippy::too_many_arguments)]
fn mix_rows<T: Element>(
    m: &[T],
    ro: usize,
    ri: usize,
    src: &[T],
    ss: usize,
    dst: &mut [MaybeUninit<T>],
    ds: usize,
    len: usize,
) {
    assert!(m.len() >= ro * ri, "winograd: matrix too small");
    assert!(
        ri == 0 || len == 0 || src.len() >= (ri - 1) * ss + len,
        "winograd: source rows out of bounds"
    );
    assert!(
        ro == 0 || len == 0 || dst.len() >= (ro - 1) * ds + len,
        "winograd: destination rows out of bounds"
    );
    #[cfg(target_arch = "x86_64")]
    {
        if T::DTYPE == crate::DType::F32 && crate::kernels::simd_enabled() {
            // SAFETY: `Element` is sealed to f32 and f64 and the tag says f32, so the casts
            // keep type and length; the CPU has AVX2 and FMA (checked); the row extents were
            // asserted above; the kernel only stores into `dst`.
            unsafe {
                let f = |v: &[T]| std::slice::from_raw_parts(v.as_ptr() as *const f32, v.len());
                let d = dst.as_mut_ptr() as *mut f32;
                mix_rows_f32_avx2(f(m), ro, ri, f(src), ss, d, ds, len);
            }
            return;
        }
    }
    for a in 0..ro {
        let coef = &m[a * ri..(a + 1) * ri];
        let d = fill_uninit(&mut dst[a * ds..a * ds + len], T::ZERO);
        for (k, &c) in coef.iter().enumerate() {
            if c != T::ZERO {
                for (dv, &sv) in d.iter_mut().zip(&src[k * ss..k * ss + len]) {
                    *dv += c * sv;
                }
            }
        }
    }
}

/// [`mix_rows`] for f32 with AVX2: each output row is summed in four independent 8-lane
/// registers (32 columns at a time) with fused multiply-adds and stored once (`dst` is only
/// written, so it may point at uninitialised memory).
///
/// # Safety
/// AVX2 and FMA must be available; `src` must hold the rows described and `dst` be valid for
/// writing them.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn mix_rows_f32_avx2(
    m: &[f32],
    ro: usize,
    ri: usize,
    src: &[f32],
    ss: usize,
    dp: *mut f32,
    ds: usize,
    len: usize,
) {
    use std::arch::x86_64::*;
    let sp = src.as_ptr();
    for a in 0..ro {
        let coef = &m[a * ri..(a + 1) * ri];
        let d = dp.add(a * ds);
        let mut j = 0;
        while j + 32 <= len {
            let mut acc = [_mm256_setzero_ps(); 4];
            for (k, &c) in coef.iter().enumerate() {
                if c != 0.0 {
                    let cv = _mm256_set1_ps(c);
                    let s = sp.add(k * ss + j);
                    for (i, av) in acc.iter_mut().enumerate() {
                        *av = _mm256_fmadd_ps(cv, _mm256_loadu_ps(s.add(8 * i)), *av);
                    }
                }
            }
            for (i, av) in acc.iter().enumerate() {
                _mm256_storeu_ps(d.add(j + 8 * i), *av);
            }
            j += 32;
        }
        while j + 8 <= len {
            let mut acc = _mm256_setzero_ps();
            for (k, &c) in coef.iter().enumerate() {
                if c != 0.0 {
                    acc = _mm256_fmadd_ps(
                        _mm256_set1_ps(c),
                        _mm256_loadu_ps(sp.add(k * ss + j)),
                        acc,
                    );
                }
            }
            _mm256_storeu_ps(d.add(j), acc);
            j += 8;
        }
        for jj in j..len {
            let mut v = 0.0f32;
            for (k, &c) in coef.iter().enumerate() {
                if c != 0.0 {
                    v = c.mul_add(*sp.add(k * ss + jj), v);
                }
            }
            d.add(jj).write(v);
        }
    }
}

/// Two-sided transform of a block of `[r][c][len]` rows: `out = L · blk · Rᵀ` per column of
/// `len` values, with `L` `ro × r` and `R` `co × c`; `out` is `[ro][co][len]`, every element
/// of it written (it may start uninitialised).
#[allow(clippy::too_many_arguments)]
fn transform2<T: Element>(
    l: &[T],
    ro: usize,
    r: &[T],
    co: usize,
    blk: &[T],
    (rows, cols): (usize, usize),
    len: usize,
    tmp: &mut Vec<T>,
    out: &mut [MaybeUninit<T>],
) {
    if tmp.len() < ro * cols * len {
        tmp.resize(ro * cols * len, T::ZERO);
    }
    for c in 0..cols {
        mix_rows(
            l,
            ro,
            rows,
            &blk[c * len..],
            cols * len,
            // SAFETY: `mix_rows` stores only initialised values, so `tmp` stays initialised.
            unsafe { as_uninit(&mut tmp[c * len..]) },
            cols * len,
            len,
        );
    }
    for a in 0..ro {
        mix_rows(
            r,
            co,
            cols,
            &tmp[a * cols * len..],
            len,
            &mut out[a * co * len..],
            len,
            len,
        );
    }
}

/// The matrices in `T`, row-major: `Bᵀ`, `B`, `Aᵀ`, `A`, `G`, and `A` / `Aᵀ` padded to 8×8
/// with zeros (for the AVX2 tiles).
struct Coef<T> {
    bt: Vec<T>,
    b: Vec<T>,
    at: Vec<T>,
    a: Vec<T>,
    g: Vec<T>,
    a8: Vec<T>,
    at8: Vec<T>,
}

impl<T: Element> Coef<T> {
    fn new() -> Self {
        let m = matrices();
        let t = T::from_f64;
        let mut c = Coef {
            bt: vec![T::ZERO; POS],
            b: vec![T::ZERO; POS],
            at: vec![T::ZERO; M * ALPHA],
            a: vec![T::ZERO; M * ALPHA],
            g: m.g.iter().flat_map(|r| [t(r[0]), t(r[1])]).collect(),
            a8: vec![T::ZERO; POS],
            at8: vec![T::ZERO; POS],
        };
        for i in 0..M {
            for xi in 0..ALPHA {
                c.a8[xi * ALPHA + i] = t(m.at[i][xi]);
                c.at8[i * ALPHA + xi] = t(m.at[i][xi]);
            }
        }
        for i in 0..ALPHA {
            for j in 0..ALPHA {
                c.bt[i * ALPHA + j] = t(m.bt[i][j]);
                c.b[j * ALPHA + i] = t(m.bt[i][j]);
            }
        }
        for i in 0..M {
            for j in 0..ALPHA {
                c.at[i * ALPHA + j] = t(m.at[i][j]);
                c.a[j * M + i] = t(m.at[i][j]);
            }
        }
        c
    }
}

/// A pointer shared by tasks that write disjoint elements through it.
#[derive(Clone, Copy)]
struct SharedMut<T>(*mut T);
// SAFETY: used only where each task writes elements no other task touches (stated at each use).
unsafe impl<T: Send> Send for SharedMut<T> {}
unsafe impl<T: Send> Sync for SharedMut<T> {}

/// A buffer of `len` elements that starts uninitialised (from the [`pool`], not zero-filled):
/// it is written through [`Fresh::slots`] (`MaybeUninit`) or through [`Fresh::as_mut_ptr`]
/// (raw pointers), never through a `&[T]` or `&mut [T]`, and becomes a `Vec<T>` with
/// [`Fresh::assume_init`] once every element has been written.
struct Fresh<T> {
    /// Length 0, capacity at least `len`.
    v: Vec<T>,
    len: usize,
}

impl<T: Element> Fresh<T> {
    fn new(len: usize) -> Self {
        let mut v: Vec<T> = pool::take(len);
        v.clear();
        v.reserve(len);
        Fresh { v, len }
    }

    /// The `len` slots, to be written.
    fn slots(&mut self) -> &mut [MaybeUninit<T>] {
        &mut self.v.spare_capacity_mut()[..self.len]
    }

    /// A pointer to slot 0, valid for writing all `len` slots (tasks that write disjoint
    /// parts share it through [`SharedMut`]).
    fn as_mut_ptr(&mut self) -> *mut T {
        self.v.as_mut_ptr()
    }

    /// The written buffer.
    ///
    /// # Safety
    /// Every one of the `len` slots must have been written with a value.
    unsafe fn assume_init(mut self) -> Vec<T> {
        // SAFETY: capacity ≥ len, and the caller promises all `len` elements are initialised.
        unsafe { self.v.set_len(self.len) };
        self.v
    }
}

/// Writes zeros into the gap at the end of each `stride`-long row of `slots` past its first
/// `used` elements (the padding [`spread`] adds between rows of the transform-domain
/// buffers, which no one reads but which must be initialised like the rest).
fn zero_gaps<T: Element>(slots: &mut [MaybeUninit<T>], stride: usize, used: usize) {
    if stride > used {
        for row in slots.chunks_mut(stride) {
            if row.len() > used {
                fill_uninit(&mut row[used..], T::ZERO);
            }
        }
    }
}

/// A zeroed working buffer of a task, from the [`pool`] and back to it when dropped, so the
/// 64+ tasks of every call reuse warm pages instead of faulting fresh ones in.
fn scratch<T: Element>(len: usize) -> Buffer<T> {
    Buffer::new(pool::filled(len, T::ZERO))
}

/// A stride of at least `len` elements that is not a multiple of 512 bytes: rows of the
/// transform-domain buffers (and stacked planes) are read 8 or 64 at a time down a column, and
/// at a 4-KiB-aligned stride those would all fall in the same few L1 cache sets.
fn spread<T>(len: usize) -> usize {
    let size = std::mem::size_of::<T>();
    if (len * size).is_multiple_of(512) {
        len + 64 / size
    } else {
        len
    }
}

/// Zero-bordered copies of the `n` planes `src[(i·stride + 0)..]` (each `h × w`) at offset
/// `(top, left)` in planes of `ph × pw` (stored [`spread`] apart); the borders are zeroed once
/// and stay zero.
#[allow(clippy::too_many_arguments)]
fn pad_planes<T: Element>(
    src: &[T],
    n: usize,
    stride: usize,
    (h, w): (usize, usize),
    (top, left): (usize, usize),
    (ph, pw): (usize, usize),
    out: &mut Vec<T>,
) {
    let ps = spread::<T>(ph * pw);
    if out.len() != n * ps {
        out.clear();
        out.resize(n * ps, T::ZERO);
    }
    for i in 0..n {
        let plane = &src[i * stride..i * stride + h * w];
        let dst = &mut out[i * ps..i * ps + ph * pw];
        for r in 0..h {
            dst[(r + top) * pw + left..][..w].copy_from_slice(&plane[r * w..(r + 1) * w]);
        }
    }
}

/// Where each GEMM column's tile starts in a stack of padded planes of `ph × pw` of `T`
/// ([`spread`] apart): tile `(ty, tx)` of sample `n` at `n·stride + step·(ty·pw + tx)`.
fn tile_bases<T>(g: &Geom, (ph, pw): (usize, usize), step: usize) -> Vec<usize> {
    let (th, tw) = g.tiles();
    let ps = spread::<T>(ph * pw);
    let mut v = Vec::with_capacity(g.cols());
    for nn in 0..g.n {
        for ty in 0..th {
            for tx in 0..tw {
                v.push(nn * ps + step * (ty * pw + tx));
            }
        }
    }
    v
}

/// `row[col] = planes[base[col] + off]` for every column.
#[inline]
fn gather<T: Element>(row: &mut [T], planes: &[T], base: &[usize], off: usize) {
    for (r, &b) in row.iter_mut().zip(base) {
        *r = planes[b + off];
    }
}

/// Copies the interiors of `n` padded planes (`ps` apart, rows `pw` long, the image at row and
/// column `border`) plus `add` into `n` images of `h × w` at `dst + first + i·stride`, writing
/// every element of each image (which may be uninitialised before).
///
/// # Safety
/// Every image `dst + first + i·stride .. + h·w` must be valid for writes and written by this
/// caller alone.
#[allow(clippy::too_many_arguments)]
unsafe fn copy_out<T: Element>(
    dst: SharedMut<T>,
    first: usize,
    stride: usize,
    n: usize,
    (h, w): (usize, usize),
    pad: &[T],
    (ps, pw): (usize, usize),
    border: usize,
    add: T,
) {
    for i in 0..n {
        // SAFETY: the image is this caller's to write (the function's contract); viewed as
        // `MaybeUninit` slots, it is never read.
        let img = unsafe {
            std::slice::from_raw_parts_mut(
                dst.0.add(first + i * stride) as *mut MaybeUninit<T>,
                h * w,
            )
        };
        for r in 0..h {
            let src = &pad[i * ps + (r + border) * pw + border..][..w];
            for (d, &v) in img[r * w..(r + 1) * w].iter_mut().zip(src) {
                d.write(v + add);
            }
        }
    }
}

// ------------------------------------------------------------------------------ transforms
//
// Tiles: tile (ty, tx) of a sample covers outputs [7ty, 7ty + 7) × [7tx, 7tx + 7) and, in each
// phase (p, q), the padded-input samples xp[2(7ty + a) + p][2(7tx + b) + q] for a, b < 8, where
// xp[r][s] = x[r − 1][s − 1]. Images are first copied into zero-bordered planes big enough for
// every tile, so the gathers and scatters need no bounds tests. A GEMM column is a
// (sample, tile) pair: col = (n·th + ty)·tw + tx.

impl Geom {
    /// Side of the padded input planes: `2·7·tiles + 2` (covers xp up to the last tile).
    fn padded_input(&self) -> (usize, usize) {
        let (th, tw) = self.tiles();
        (2 * M * th + 2, 2 * M * tw + 2)
    }
}

/// `X̂ = Bᵀ d B` for every input tile of every (channel, phase): `[cin][4][64][J]`, so that the
/// GEMM operand of position `ξη` is rows `ci' = 4c + phase` with stride `64·J`.
fn input_transform<T: Element>(x: &[T], g: &Geom, cf: &Coef<T>) -> Vec<T> {
    let j = g.cols();
    let (ph_, pw_) = g.padded_input();
    let xs = spread::<T>(POS * j);
    let mut out = Fresh::<T>::new(g.ci() * xs);
    for_chunks_mut(out.slots(), 4 * xs, |c, chunk| {
        // the padding after each phase's 64·j elements
        zero_gaps(chunk, xs, POS * j);
        #[cfg(target_arch = "x86_64")]
        if tile_path::<T>(j) {
            // SAFETY: T is f32 (tile_path checks the tag of the sealed Element), so the casts
            // keep type and length; AVX2/FMA present; j is a multiple of 8 and the chunk holds
            // 3·xs + 64·j elements, which the tiles write (every one of the four phases'
            // 64·j) and never read; channel c of every sample lies in `x` (n·cin·plane
            // elements, channel c of sample nn at (nn·cin + c)·plane).
            unsafe {
                let f = |v: &[T]| std::slice::from_raw_parts(v.as_ptr() as *const f32, v.len());
                let d = std::slice::from_raw_parts_mut(
                    chunk.as_mut_ptr() as *mut MaybeUninit<f32>,
                    chunk.len(),
                );
                tiles::input_phases_direct(
                    f(x),
                    c * g.h * g.w,
                    g.cin * g.h * g.w,
                    (g.h, g.w),
                    g.tiles(),
                    f(&cf.bt),
                    (d, xs),
                    j,
                );
            }
            return;
        }
        let mut pad = scratch::<T>(0);
        let base = tile_bases::<T>(g, (ph_, pw_), 2 * M);
        pad_planes(
            &x[c * g.h * g.w..],
            g.n,
            g.cin * g.h * g.w,
            (g.h, g.w),
            (1, 1),
            (ph_, pw_),
            &mut pad,
        );
        let mut blk = scratch::<T>(POS * j);
        let mut tmp = scratch::<T>(0);
        for ph in 0..4 {
            let (p, q) = (ph / 2, ph % 2);
            for a in 0..ALPHA {
                for b in 0..ALPHA {
                    let off = (2 * a + p) * pw_ + 2 * b + q;
                    gather(&mut blk[(a * ALPHA + b) * j..][..j], &pad, &base, off);
                }
            }
            let dst = &mut chunk[ph * xs..ph * xs + POS * j];
            transform2(
                &cf.bt,
                ALPHA,
                &cf.bt,
                ALPHA,
                &blk,
                (ALPHA, ALPHA),
                j,
                &mut tmp,
                dst,
            );
        }
    });
    // SAFETY: each channel's chunk had its four phases' 64·j elements written by the tiles or
    // `transform2`, and the gaps after them zeroed.
    unsafe { out.assume_init() }
}

/// The adjoint of [`input_transform`]: `d = B X̂ Bᵀ` per tile, added into the input positions
/// the tile was gathered from (tiles overlap by one row and column). `xh` is `[cin][4][64][J]`;
/// returns `[n, cin, h, w]`, plus `bias[c]` everywhere when given.
fn input_inverse<T: Element>(xh: &[T], g: &Geom, cf: &Coef<T>, bias: Option<&[T]>) -> Vec<T> {
    let j = g.cols();
    let (ph_, pw_) = g.padded_input();
    let plane = g.h * g.w;
    let mut dx = Fresh::<T>::new(g.n * g.cin * plane);
    let ptr = SharedMut(dx.as_mut_ptr());
    map_indexed(g.cin, |c| {
        let ptr = ptr;
        let bc = bias.map_or(T::ZERO, |b| b[c]);
        #[cfg(target_arch = "x86_64")]
        if tile_path::<T>(j) {
            for nn in 0..g.n {
                // SAFETY: task `c` alone writes channel `c` of every sample; in bounds of `dx`;
                // the slots are written, not read.
                let img = unsafe {
                    std::slice::from_raw_parts_mut(
                        ptr.0.add((nn * g.cin + c) * plane) as *mut MaybeUninit<T>,
                        plane,
                    )
                };
                fill_uninit(img, bc);
            }
            let xs = spread::<T>(POS * j);
            let src = &xh[c * 4 * xs..][..3 * xs + POS * j];
            // SAFETY: T is f32 (tile_path), so the casts keep type and length; AVX2/FMA
            // present; j is a multiple of 8 and `src` holds the four phases of channel c; the
            // writes go to channel c of every sample (cin·plane apart, from offset c·plane) of
            // `dx`, which only this task touches, and were initialised just above.
            unsafe {
                let f = |v: &[T]| std::slice::from_raw_parts(v.as_ptr() as *const f32, v.len());
                tiles::inverse_phases_direct(
                    (f(src), xs),
                    (ptr.0 as *mut f32).add(c * plane),
                    g.cin * plane,
                    (g.h, g.w),
                    g.tiles(),
                    f(&cf.b),
                    j,
                );
            }
            return;
        }
        let ps = spread::<T>(ph_ * pw_);
        let mut pad = scratch::<T>(g.n * ps);
        let base = tile_bases::<T>(g, (ph_, pw_), 2 * M);
        let mut blk = scratch::<T>(POS * j);
        let mut tmp = scratch::<T>(0);
        for ph in 0..4 {
            let (p, q) = (ph / 2, ph % 2);
            let src = &xh[(c * 4 + ph) * spread::<T>(POS * j)..][..POS * j];
            transform2(
                &cf.b,
                ALPHA,
                &cf.b,
                ALPHA,
                src,
                (ALPHA, ALPHA),
                j,
                &mut tmp,
                // SAFETY: `transform2` stores only initialised values.
                unsafe { as_uninit(&mut blk) },
            );
            for a in 0..ALPHA {
                for b in 0..ALPHA {
                    let off = (2 * a + p) * pw_ + 2 * b + q;
                    let row = &blk[(a * ALPHA + b) * j..][..j];
                    for (&v, &bs) in row.iter().zip(&base) {
                        pad[bs + off] += v;
                    }
                }
            }
        }
        // SAFETY: task `c` alone writes channel `c` of every sample, all inside `dx`
        unsafe {
            copy_out(
                ptr,
                c * plane,
                g.cin * plane,
                g.n,
                (g.h, g.w),
                &pad,
                (ps, pw_),
                1,
                bc,
            )
        };
    });
    // SAFETY: the tasks cover every channel of every sample, and each wrote its planes whole
    // (filled with the bias before the tiles added to them, or by `copy_out`).
    unsafe { dx.assume_init() }
}

/// The weight as four 2×2-filter taps per (output channel, input channel, phase):
/// `taps[tap][co][4c + phase] = w[co][c][2t + p][2s + q]` for `tap = 2t + s`, `phase = 2p + q`,
/// each tap's matrix stored as `layout` says (at `layout.index(co, 4c + phase)`; the panels'
/// padding rows zero).
/// `Ŵ[ξη] = Σₜ Σₛ G[ξ][t] · G[η][s] · taps[2t + s]` is then the weight transform `G g Gᵀ` at
/// position `ξη` (see [`products`]).
fn weight_taps<T: Element>(w: &[T], g: &Geom, layout: Layout) -> Vec<T> {
    let ci = g.ci();
    let len = layout.len(g.cout, ci);
    let mut taps = Fresh::<T>::new(4 * len);
    for_chunks_mut(taps.slots(), len, |tap, out| {
        if layout != Layout::Plain {
            // the panels' padding rows stay zero
            fill_uninit(out, T::ZERO);
        }
        let (t, s) = (tap / 2, tap % 2);
        for co in 0..g.cout {
            for c in 0..g.cin {
                let k = &w[(co * g.cin + c) * 16..][..16];
                for ph in 0..4 {
                    let (p, q) = (ph / 2, ph % 2);
                    out[layout.index(co, c * 4 + ph, g.cout, ci)]
                        .write(k[(2 * t + p) * 4 + 2 * s + q]);
                }
            }
        }
    });
    // SAFETY: each tap's `len` slots were zeroed first (panels) or, in the plain layout
    // (`len` = cout·ci, `index` a bijection onto 0..len), each written once above.
    unsafe { taps.assume_init() }
}

/// Rows per panel of the AVX2 products' left operand (`tiles::panel_product`: 6 rows × 16
/// columns of the result fill 12 of the 16 vector registers).
const MR: usize = 6;

/// How [`weight_taps`] lays out each tap's `cout × 4·cin` matrix: as it is (`matrixmultiply`
/// reads it directly or transposed and packs it itself), or already in the panels of `MR`
/// rows that `tiles::panel_product` reads — of the matrix (forward) or of its transpose (input
/// gradient). The transformed weights are built elementwise from the taps, so they come out in
/// the same layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    Plain,
    Panels,
    PanelsTransposed,
}

impl Layout {
    /// The layout for products with `j` columns: panels (of `Ŵ`, or of `Ŵᵀ` when `transposed`)
    /// where the AVX2 kernel runs (the tile path), else plain.
    fn for_products<T: Element>(j: usize, transposed: bool) -> Layout {
        match (tile_path::<T>(j), transposed) {
            (false, _) => Layout::Plain,
            (true, false) => Layout::Panels,
            (true, true) => Layout::PanelsTransposed,
        }
    }

    /// Elements per tap (panels are padded with zero rows to a multiple of `MR`).
    fn len(self, cout: usize, ci: usize) -> usize {
        match self {
            Layout::Plain => cout * ci,
            Layout::Panels => cout.div_ceil(MR) * MR * ci,
            Layout::PanelsTransposed => ci.div_ceil(MR) * MR * cout,
        }
    }

    /// Where element `(co, ci')` of a tap goes.
    fn index(self, co: usize, cip: usize, cout: usize, ci: usize) -> usize {
        match self {
            Layout::Plain => co * ci + cip,
            Layout::Panels => (co / MR) * MR * ci + cip * MR + co % MR,
            Layout::PanelsTransposed => (cip / MR) * MR * cout + co * MR + cip % MR,
        }
    }
}

/// The weight gradient `[cout, cin, 4, 4]` from its four taps `[4][cout][4·cin]` (the adjoint
/// of [`weight_taps`]).
fn weight_from_taps<T: Element>(taps: &[T], g: &Geom) -> Vec<T> {
    let ci = g.ci();
    let len = g.cout * ci;
    assert!(taps.len() >= 4 * len, "winograd: weight taps");
    let mut dw = Fresh::<T>::new(g.cout * g.cin * 16);
    for_chunks_mut(dw.slots(), g.cin * 16, |co, chunk| {
        for c in 0..g.cin {
            for ph in 0..4 {
                let (p, q) = (ph / 2, ph % 2);
                for tap in 0..4 {
                    let (t, s) = (tap / 2, tap % 2);
                    chunk[c * 16 + (2 * t + p) * 4 + 2 * s + q]
                        .write(taps[tap * len + co * ci + c * 4 + ph]);
                }
            }
        }
    });
    // SAFETY: for each output channel, (c, p, t, q, s) runs over all cin·16 kernel taps, so
    // every element was written once.
    unsafe { dw.assume_init() }
}

/// The weight-gradient products with the adjoint weight transform `dw = Gᵀ dŴ G` folded in, so
/// the 64 products `dŴ[ξη] = dŶ[ξη] · X̂[ξη]ᵀ` (16 times the weight's size) never go through
/// memory: each row ξ of positions (in parallel) sums its products as they come into
/// `Q_ξ[s] = Σ_η G[η][s] · dŴ[ξη]`, then `taps[t][s] = Σ_ξ G[ξ][t] · Q_ξ[s]` adds the rows in
/// order. Returns the taps `[4][cout][4·cin]` (tap `2t + s`).
fn filter_products<T: Element>(dyh: &[T], xh: &[T], g: &Geom, cf: &Coef<T>) -> Vec<T> {
    let (ci, j, cout) = (g.ci(), g.cols(), g.cout);
    let ts = spread::<T>(POS * j);
    let len = cout * ci;
    assert!(
        dyh.len() >= cout * ts && xh.len() >= ci * ts,
        "winograd: transform-domain operands"
    );
    let rows: Vec<Vec<T>> = map_indexed(ALPHA, |xi| {
        // (zeroed once per task: 1/(8·J) of the products' writes into it)
        let mut c = pool::filled(len, T::ZERO);
        let mut q = pool::filled(2 * len, T::ZERO);
        for eta in 0..ALPHA {
            let pos = xi * ALPHA + eta;
            // SAFETY: dŶ[pos] is cout × J with rows ts apart from pos·j, X̂[pos]ᵀ is J × ci'
            // with columns ts apart from pos·j (pos·j + J ≤ ts, lengths asserted above); `c`
            // holds cout × ci' initialised elements with rows ci' apart.
            unsafe {
                gemm_raw(
                    cout,
                    j,
                    ci,
                    T::ONE,
                    dyh.as_ptr().add(pos * j),
                    ts as isize,
                    1,
                    xh.as_ptr().add(pos * j),
                    1,
                    ts as isize,
                    T::ZERO,
                    c.as_mut_ptr(),
                    ci as isize,
                    1,
                )
            };
            for s in 0..2 {
                let gs = cf.g[2 * eta + s];
                if gs != T::ZERO {
                    for (qv, &cv) in q[s * len..(s + 1) * len].iter_mut().zip(c.iter()) {
                        *qv += gs * cv;
                    }
                }
            }
        }
        pool::give(c);
        q
    });
    let mut taps = Fresh::<T>::new(4 * len);
    for_chunks_mut(taps.slots(), len, |tap, dst| {
        let (t, s) = (tap / 2, tap % 2);
        let dst = fill_uninit(dst, T::ZERO);
        for (xi, q) in rows.iter().enumerate() {
            let gt = cf.g[2 * xi + t];
            if gt != T::ZERO {
                for (d, &v) in dst.iter_mut().zip(&q[s * len..(s + 1) * len]) {
                    *d += gt * v;
                }
            }
        }
    });
    for q in rows {
        pool::give(q);
    }
    // SAFETY: every tap's `len` slots were zero-filled (then added to) above.
    unsafe { taps.assume_init() }
}

/// `dŶ = A dY Aᵀ` for every output tile (zero beyond the image): `[cout][64][J]`.
fn output_grad_transform<T: Element>(dy: &[T], g: &Geom, cf: &Coef<T>) -> Vec<T> {
    let (th, tw) = g.tiles();
    let j = g.cols();
    let plane = g.oh * g.ow;
    let (ph_, pw_) = (M * th, M * tw);
    let ys = spread::<T>(POS * j);
    let mut out = Fresh::<T>::new(g.cout * ys);
    for_chunks_mut(out.slots(), ys, |co, chunk| {
        // the padding after the 64·j elements
        zero_gaps(chunk, ys, POS * j);
        #[cfg(target_arch = "x86_64")]
        if tile_path::<T>(j) {
            // SAFETY: T is f32 (tile_path), so the casts keep type and length; AVX2/FMA
            // present; j is a multiple of 8 and the chunk holds 64·j elements, which the tiles
            // write (all of them) and never read; `dy` holds n·cout·plane elements, channel co
            // of sample nn at (nn·cout + co)·plane.
            unsafe {
                let d = std::slice::from_raw_parts_mut(
                    chunk.as_mut_ptr() as *mut MaybeUninit<f32>,
                    POS * j,
                );
                let a8 = std::slice::from_raw_parts(cf.a8.as_ptr() as *const f32, POS);
                let f = |v: &[T]| std::slice::from_raw_parts(v.as_ptr() as *const f32, v.len());
                tiles::output_grad_direct(
                    f(dy),
                    co * plane,
                    g.cout * plane,
                    (g.oh, g.ow),
                    (th, tw),
                    a8,
                    d,
                    j,
                );
            }
            return;
        }
        let mut pad = scratch::<T>(0);
        pad_planes(
            &dy[co * plane..],
            g.n,
            g.cout * plane,
            (g.oh, g.ow),
            (0, 0),
            (ph_, pw_),
            &mut pad,
        );
        let base = tile_bases::<T>(g, (ph_, pw_), M);
        let mut blk = scratch::<T>(M * M * j);
        let mut tmp = scratch::<T>(0);
        for i in 0..M {
            for l in 0..M {
                gather(&mut blk[(i * M + l) * j..][..j], &pad, &base, i * pw_ + l);
            }
        }
        transform2(
            &cf.a,
            ALPHA,
            &cf.a,
            ALPHA,
            &blk,
            (M, M),
            j,
            &mut tmp,
            &mut chunk[..POS * j],
        );
    });
    // SAFETY: each channel's 64·j elements were written by the tiles or `transform2`, and
    // the gap after them zeroed.
    unsafe { out.assume_init() }
}

/// The adjoint of [`output_grad_transform`]: `Y = Aᵀ Ŷ A` per tile, cut to the image, plus
/// `bias[co]`. `yh` is `[cout][64][J]`; returns `[n, cout, oh, ow]`.
fn output_inverse<T: Element>(yh: &[T], g: &Geom, cf: &Coef<T>, bias: Option<&[T]>) -> Vec<T> {
    let (th, tw) = g.tiles();
    let j = g.cols();
    let plane = g.oh * g.ow;
    let (ph_, pw_) = (M * th, M * tw);
    let mut y = Fresh::<T>::new(g.n * g.cout * plane);
    let ptr = SharedMut(y.as_mut_ptr());
    map_indexed(g.cout, |co| {
        let ptr = ptr;
        #[cfg(target_arch = "x86_64")]
        if tile_path::<T>(j) {
            let src = &yh[co * spread::<T>(POS * j)..][..POS * j];
            let b = bias.map_or(0.0, |b| b[co].to_f64()) as f32;
            for nn in 0..g.n {
                // SAFETY: task `co` alone writes channel `co` of every sample; in bounds of `y`;
                // the slots are written, not read.
                let img = unsafe {
                    std::slice::from_raw_parts_mut(
                        ptr.0.add((nn * g.cout + co) * plane) as *mut MaybeUninit<T>,
                        plane,
                    )
                };
                fill_uninit(img, T::ZERO);
            }
            // SAFETY: T is f32 (tile_path), so the casts keep type and length; AVX2/FMA
            // present; j is a multiple of 8 and `src` holds 64·j elements; the writes go to
            // channel co of every sample (cout·plane apart, from offset co·plane) of `y`,
            // which only this task touches and which was set to +0.0 just above.
            unsafe {
                let f = |v: &[T]| std::slice::from_raw_parts(v.as_ptr() as *const f32, v.len());
                tiles::output_direct(
                    f(src),
                    (ptr.0 as *mut f32).add(co * plane),
                    g.cout * plane,
                    (g.oh, g.ow),
                    (th, tw),
                    f(&cf.at8),
                    b,
                    j,
                );
            }
            return;
        }
        let mut blk = scratch::<T>(M * M * j);
        let ps = spread::<T>(ph_ * pw_);
        let mut pad = scratch::<T>(g.n * ps);
        let base = tile_bases::<T>(g, (ph_, pw_), M);
        let mut tmp = scratch::<T>(0);
        let src = &yh[co * spread::<T>(POS * j)..][..POS * j];
        transform2(
            &cf.at,
            M,
            &cf.at,
            M,
            src,
            (ALPHA, ALPHA),
            j,
            &mut tmp,
            // SAFETY: `transform2` stores only initialised values.
            unsafe { as_uninit(&mut blk) },
        );
        for i in 0..M {
            for l in 0..M {
                let row = &blk[(i * M + l) * j..][..j];
                for (&v, &bs) in row.iter().zip(&base) {
                    pad[bs + i * pw_ + l] = v;
                }
            }
        }
        let b = bias.map_or(T::ZERO, |b| b[co]);
        // SAFETY: task `co` alone writes channel `co` of every sample, all inside `y`
        unsafe {
            copy_out(
                ptr,
                co * plane,
                g.cout * plane,
                g.n,
                (g.oh, g.ow),
                &pad,
                (ps, pw_),
                0,
                b,
            )
        };
    });
    // SAFETY: the tasks cover every channel of every sample, and each wrote its planes whole
    // (zero-filled before the tiles put the outputs in, or by `copy_out`).
    unsafe { y.assume_init() }
}

// ------------------------------------------------------------------------------ f32 tiles with AVX2

/// Whether the transforms may take the AVX2 tile path: f32, the CPU has AVX2 and FMA,
/// and the GEMM columns come in groups of 8.
fn tile_path<T: Element>(j: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        T::DTYPE == crate::DType::F32 && crate::kernels::simd_enabled() && j.is_multiple_of(8)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = j;
        false
    }
}

/// The input transform and its adjoint for f32, one 8×8 tile in registers at a time, straight
/// from and to the images: a tile's eight rows are eight vectors (every other sample of an
/// image row, for the phase; masks supply the zero padding), `Bᵀ` is applied as
/// multiply-adds of whole rows, the tile is transposed and `Bᵀ` applied again, and 8 tiles (8
/// GEMM columns) are transposed together so that each transform position is stored as one
/// vector of 8 consecutive columns. The same sums as [`transform2`] (fused multiply-adds, and
/// the rows of the points ±a computed together, which takes 40 of the 64 multiply-adds),
/// without the padded copies and the column-major gathers.
#[cfg(target_arch = "x86_64")]
mod tiles {
    use super::{ALPHA, POS};
    use std::arch::x86_64::*;
    use std::mem::MaybeUninit;

    #[inline(always)]
    unsafe fn transpose8(r: [__m256; 8]) -> [__m256; 8] {
        let t0 = _mm256_unpacklo_ps(r[0], r[1]);
        let t1 = _mm256_unpackhi_ps(r[0], r[1]);
        let t2 = _mm256_unpacklo_ps(r[2], r[3]);
        let t3 = _mm256_unpackhi_ps(r[2], r[3]);
        let t4 = _mm256_unpacklo_ps(r[4], r[5]);
        let t5 = _mm256_unpackhi_ps(r[4], r[5]);
        let t6 = _mm256_unpacklo_ps(r[6], r[7]);
        let t7 = _mm256_unpackhi_ps(r[6], r[7]);
        let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        [
            _mm256_permute2f128_ps::<0x20>(s0, s4),
            _mm256_permute2f128_ps::<0x20>(s1, s5),
            _mm256_permute2f128_ps::<0x20>(s2, s6),
            _mm256_permute2f128_ps::<0x20>(s3, s7),
            _mm256_permute2f128_ps::<0x31>(s0, s4),
            _mm256_permute2f128_ps::<0x31>(s1, s5),
            _mm256_permute2f128_ps::<0x31>(s2, s6),
            _mm256_permute2f128_ps::<0x31>(s3, s7),
        ]
    }

    /// `Σ m[i][k] · v[k]` over the four `k` given.
    #[inline(always)]
    unsafe fn dot4(m: &[f32; 64], i: usize, v: &[__m256; 8], k: [usize; 4]) -> __m256 {
        let mut acc = _mm256_mul_ps(_mm256_set1_ps(m[i * 8 + k[0]]), v[k[0]]);
        for &kk in &k[1..] {
            acc = _mm256_fmadd_ps(_mm256_set1_ps(m[i * 8 + kk]), v[kk], acc);
        }
        acc
    }

    /// `r[i] = Σₖ m[i][k] · v[k]` (m 8×8 row-major) for a matrix whose rows belong to the
    /// interpolation points (`Bᵀ`, `A`):
    /// rows `2p + 1` and `2p + 2` are the points `±a`, and a row for `−a` is the row for `a`
    /// with its odd entries negated, so the even and odd halves of one row give both:
    /// `r₊ = e + o`, `r₋ = e − o`. 40 multiply-adds instead of 64.
    #[inline(always)]
    unsafe fn apply_rows(m: &[f32], v: &[__m256; 8]) -> [__m256; 8] {
        let m: &[f32; 64] = m[..64].try_into().unwrap();
        let (even, odd) = ([0, 2, 4, 6], [1, 3, 5, 7]);
        let mut r = [_mm256_setzero_ps(); 8];
        for i in [0, 7] {
            r[i] = _mm256_add_ps(dot4(m, i, v, even), dot4(m, i, v, odd));
        }
        for p in 0..3 {
            let i = 2 * p + 1;
            let (e, o) = (dot4(m, i, v, even), dot4(m, i, v, odd));
            r[i] = _mm256_add_ps(e, o);
            r[i + 1] = _mm256_sub_ps(e, o);
        }
        r
    }

    /// `r[i] = Σₖ m[i][k] · v[k]` for a matrix whose columns belong to the interpolation
    /// points (`B`, `Aᵀ`):
    /// columns `2p + 1` and `2p + 2` are `±a`, equal in even rows and opposite in odd ones, so
    /// their inputs enter as a sum `s` (even rows) or a difference `d` (odd rows): 40
    /// multiply-adds instead of 64. (Both forms have no branches, so the loops unroll and the
    /// vectors stay in registers; a zero coefficient costs a multiply-add.)
    #[inline(always)]
    unsafe fn apply_cols(m: &[f32], v: &[__m256; 8]) -> [__m256; 8] {
        let m: &[f32; 64] = m[..64].try_into().unwrap();
        let mut s = *v;
        let mut d = *v;
        for p in 0..3 {
            s[2 * p + 1] = _mm256_add_ps(v[2 * p + 1], v[2 * p + 2]);
            d[2 * p + 1] = _mm256_sub_ps(v[2 * p + 1], v[2 * p + 2]);
        }
        let mut r = [_mm256_setzero_ps(); 8];
        for (i, ri) in r.iter_mut().enumerate() {
            let u = if i % 2 == 0 { &s } else { &d };
            *ri = dot4(m, i, u, [0, 1, 3, 5]);
            *ri = _mm256_fmadd_ps(_mm256_set1_ps(m[i * 8 + 7]), u[7], *ri);
        }
        r
    }

    /// [`apply_rows`] (`rows`) or [`apply_cols`] on 8 vectors given as `v[k][lane]`, for the
    /// tests.
    ///
    /// # Safety
    /// AVX2 and FMA; `m.len() ≥ 64`.
    #[cfg(test)]
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn paired(m: &[f32], rows: bool, v: &[[f32; 8]; 8]) -> [[f32; 8]; 8] {
        let vv: [__m256; 8] = std::array::from_fn(|k| _mm256_loadu_ps(v[k].as_ptr()));
        let r = if rows {
            apply_rows(m, &vv)
        } else {
            apply_cols(m, &vv)
        };
        let mut out = [[0.0; 8]; 8];
        for (o, ri) in out.iter_mut().zip(r) {
            _mm256_storeu_ps(o.as_mut_ptr(), ri);
        }
        out
    }

    /// Columns taken together: 16 when `j` allows, so that each position's stores fill whole
    /// 64-byte cache lines before the next phase moves elsewhere.
    #[inline(always)]
    fn block(j: usize) -> usize {
        if j.is_multiple_of(16) {
            16
        } else {
            8
        }
    }

    /// The forward half of every tile transform: for each block of [`block`]`(j)` GEMM columns,
    /// each of `phases` phases and each group of 8 columns in the block, `load(col, phase)` gives
    /// a tile's 8 rows, `m · tile · mᵀ` is taken in registers and the group is stored at
    /// `out[phase·stride + ξη·j + col]`. The phases of a block are taken together, so the images
    /// they share are read from memory once. `out` is only stored into (every element of each
    /// phase's `64·j`), so it may start uninitialised.
    #[inline(always)]
    unsafe fn transform_tiles(
        m: &[f32],
        (out, stride, phases): (&mut [MaybeUninit<f32>], usize, usize),
        j: usize,
        mut load: impl FnMut(usize, usize) -> [__m256; 8],
    ) {
        assert!(
            phases > 0 && out.len() >= (phases - 1) * stride + POS * j,
            "winograd: tile output"
        );
        let dst = out.as_mut_ptr() as *mut f32;
        let blk = block(j);
        for b0 in (0..j).step_by(blk) {
            for ph in 0..phases {
                for g0 in (b0..b0 + blk).step_by(8) {
                    // (built by from_fn: a zeroed array would be cleared in memory first)
                    let res: [[__m256; 8]; 8] = std::array::from_fn(|ci| {
                        apply_rows(m, &transpose8(apply_rows(m, &load(g0 + ci, ph))))
                    });
                    store_group(&res, dst.add(ph * stride), j, g0);
                }
            }
        }
    }

    /// The adjoint half: for each block of [`block`]`(j)` columns, each phase and each group of
    /// 8 columns, the tiles of `src[phase·stride + ξη·j + col]`, `m · tile · mᵀ` in registers,
    /// then `put(col, phase, rows)`.
    #[inline(always)]
    unsafe fn untransform_tiles(
        m: &[f32],
        (src, stride, phases): (&[f32], usize, usize),
        j: usize,
        mut put: impl FnMut(usize, usize, [__m256; 8]),
    ) {
        assert!(
            phases > 0 && src.len() >= (phases - 1) * stride + POS * j,
            "winograd: tile input"
        );
        let blk = block(j);
        for b0 in (0..j).step_by(blk) {
            for ph in 0..phases {
                for g0 in (b0..b0 + blk).step_by(8) {
                    let cols = load_group(src.as_ptr().add(ph * stride), j, g0);
                    for (ci, v) in cols.iter().enumerate() {
                        put(g0 + ci, ph, apply_cols(m, &transpose8(apply_cols(m, v))));
                    }
                }
            }
        }
    }

    // AMD's masked loads and stores (`vmaskmovps`) cost several plain ones (on Zen 3 the masked
    // stores were a third of the input-gradient transform's time), so a row is read and
    // written with plain moves and the mask applied in registers wherever the 8 lanes lie in
    // memory the task may touch: inside the slice for reads, inside the task's own image plane
    // for writes. Only rows at the edge of a plane take the masked instructions. (A blend of
    // the old and new values would be turned back into a masked store by the compiler, so
    // the writes below leave lanes outside the mask alone arithmetically instead.)

    /// The 8 lanes at `p` where `mask` is set, zeros elsewhere; `whole`: all 8 may be read.
    #[inline(always)]
    unsafe fn load8(p: *const f32, mask: __m256i, whole: bool) -> __m256 {
        if whole {
            _mm256_and_ps(_mm256_loadu_ps(p), _mm256_castsi256_ps(mask))
        } else {
            _mm256_maskload_ps(p, mask)
        }
    }

    /// `p[l] += v[l]` where `mask` is set; `whole`: all 8 lanes are the caller's to rewrite
    /// (the others get `+0.0` added, which leaves every value but `−0.0` unchanged).
    #[inline(always)]
    unsafe fn add8(p: *mut f32, mask: __m256i, v: __m256, whole: bool) {
        let v = _mm256_and_ps(v, _mm256_castsi256_ps(mask));
        if whole {
            _mm256_storeu_ps(p, _mm256_add_ps(_mm256_loadu_ps(p), v));
        } else {
            _mm256_maskstore_ps(p, mask, _mm256_add_ps(_mm256_maskload_ps(p, mask), v));
        }
    }

    /// `p[l] = v[l]` where `mask` is set, into lanes that hold `+0.0` (all bits clear), so
    /// that or-ing the bits in is exact; `whole`: all 8 lanes are the caller's to rewrite.
    #[inline(always)]
    unsafe fn put8(p: *mut f32, mask: __m256i, v: __m256, whole: bool) {
        if whole {
            let v = _mm256_and_ps(v, _mm256_castsi256_ps(mask));
            _mm256_storeu_ps(p, _mm256_or_ps(_mm256_loadu_ps(p), v));
        } else {
            _mm256_maskstore_ps(p, mask, v);
        }
    }

    /// Whether the 8 elements from offset `o` lie in `0..len`.
    #[inline(always)]
    fn within(o: isize, len: usize) -> bool {
        o >= 0 && o + 8 <= len as isize
    }

    /// Stores the transformed tiles of GEMM columns `g0..g0 + 8` (`res[col][η]` holding
    /// position `(ξ, η)` in lane `ξ`) at `dst[ξη·j + g0..]`, one vector of 8 columns per
    /// position.
    #[inline(always)]
    unsafe fn store_group(res: &[[__m256; 8]; 8], dst: *mut f32, j: usize, g0: usize) {
        for eta in 0..ALPHA {
            let by_col = transpose8(std::array::from_fn(|ci| res[ci][eta]));
            for (xi, v) in by_col.iter().enumerate() {
                _mm256_storeu_ps(dst.add((xi * ALPHA + eta) * j + g0), *v);
            }
        }
    }

    /// The inverse of [`store_group`]: the tiles of columns `g0..g0 + 8` from `src[ξη·j + g0..]`.
    #[inline(always)]
    unsafe fn load_group(src: *const f32, j: usize, g0: usize) -> [[__m256; 8]; 8] {
        let mut cols = [[_mm256_setzero_ps(); 8]; 8];
        for eta in 0..ALPHA {
            let mut by_xi = [_mm256_setzero_ps(); 8];
            for (xi, v) in by_xi.iter_mut().enumerate() {
                *v = _mm256_loadu_ps(src.add((xi * ALPHA + eta) * j + g0));
            }
            for (c, v) in cols.iter_mut().zip(transpose8(by_xi)) {
                c[eta] = v;
            }
        }
        cols
    }

    /// Lanes `s + 0..8` and `s + 8..16` that fall in `0..w`.
    #[inline(always)]
    unsafe fn col_masks(s: isize, w: usize) -> (__m256i, __m256i) {
        let sv = _mm256_set1_epi32(s as i32);
        let (lo, hi) = (
            _mm256_add_epi32(sv, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)),
            _mm256_add_epi32(sv, _mm256_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15)),
        );
        let (neg, wv) = (_mm256_set1_epi32(-1), _mm256_set1_epi32(w as i32));
        let inside = |v| _mm256_and_si256(_mm256_cmpgt_epi32(v, neg), _mm256_cmpgt_epi32(wv, v));
        (inside(lo), inside(hi))
    }

    /// Where a GEMM column's tile sits in one channel of the images: `(sample, first padded
    /// row − 1, first padded column − 1)` in image coordinates.
    #[inline(always)]
    fn tile_origin(col: usize, (th, tw): (usize, usize)) -> (usize, isize, isize) {
        let (tx, ty, nn) = (col % tw, (col / tw) % th, col / (tw * th));
        (
            nn,
            (2 * super::M * ty) as isize - 1,
            (2 * super::M * tx) as isize - 1,
        )
    }

    /// The input transform of one channel, all four phases `(p, q)`:
    /// `out[phase·stride + ξη·j + col]` for every transform position and GEMM column, read
    /// from the images in place — a tile row is 16 consecutive floats of an image row split into
    /// even and odd samples; rows outside the image are zero and columns outside it are masked
    /// off. `x` is the whole input, channel `c` of sample 0 starting at `first`.
    ///
    /// # Safety
    /// AVX2 and FMA; every sample's channel `c` (`sstride` apart from `first`, `h × w` each) for
    /// the samples of the `j` columns lies in `x`; `j` a multiple of 8;
    /// `out.len() ≥ 3·stride + 64·j`.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn input_phases_direct(
        x: &[f32],
        first: usize,
        sstride: usize,
        (h, w): (usize, usize),
        tiles: (usize, usize),
        bt: &[f32],
        (out, stride): (&mut [MaybeUninit<f32>], usize),
        j: usize,
    ) {
        let len = x.len();
        transform_tiles(bt, (out, stride, 4), j, |col, ph| {
            let (p, q) = (ph / 2, ph % 2);
            let (nn, r0, s0) = tile_origin(col, tiles);
            let s = s0 + q as isize;
            let (mlo, mhi) = col_masks(s, w);
            let mut d = [_mm256_setzero_ps(); 8];
            for (a, da) in d.iter_mut().enumerate() {
                let r = r0 + (2 * a + p) as isize;
                if r >= 0 && (r as usize) < h {
                    // lanes outside 0..w are masked off (and, at the ends of `x`, never read)
                    let o = (first + nn * sstride) as isize + r * w as isize + s;
                    let ptr = x.as_ptr().wrapping_offset(o);
                    let lo = load8(ptr, mlo, within(o, len));
                    let hi = load8(ptr.wrapping_add(8), mhi, within(o + 8, len));
                    let sh = _mm256_shuffle_ps::<0b10_00_10_00>(lo, hi);
                    *da = _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(
                        _mm256_castps_pd(sh),
                    ));
                }
            }
            d
        });
    }

    /// Lanes `l < 7` of a 7-wide tile row starting at column `s` that fall in `0..w`.
    #[inline(always)]
    unsafe fn row7_mask(s: isize, w: usize) -> __m256i {
        let v = _mm256_add_epi32(
            _mm256_set1_epi32(s as i32),
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        );
        let in_tile = _mm256_cmpgt_epi32(_mm256_set1_epi32(s as i32 + 7), v);
        let inside = _mm256_and_si256(
            _mm256_cmpgt_epi32(v, _mm256_set1_epi32(-1)),
            _mm256_cmpgt_epi32(_mm256_set1_epi32(w as i32), v),
        );
        _mm256_and_si256(in_tile, inside)
    }

    /// The output-gradient transform of one channel, `dŶ = A dY Aᵀ` per 7×7 tile, read from
    /// the gradient images in place: `out[ξη·j + col]`. `dy` is the whole gradient, channel
    /// `co` of sample 0 starting at `first`. `a8` is `A` (8×7) with a zero eighth column, so a
    /// tile is an 8×8 block with a zero last row and column.
    ///
    /// # Safety
    /// AVX2 and FMA; every sample's channel `co` (`sstride` apart from `first`, `oh × ow` each)
    /// of the `j` columns' samples lies in `dy`; `j` a multiple of 8; `a8.len() ≥ 64`.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn output_grad_direct(
        dy: &[f32],
        first: usize,
        sstride: usize,
        (oh, ow): (usize, usize),
        (th, tw): (usize, usize),
        a8: &[f32],
        out: &mut [MaybeUninit<f32>],
        j: usize,
    ) {
        let len = dy.len();
        transform_tiles(a8, (out, 0, 1), j, |col, _| {
            let (tx, ty, nn) = (col % tw, (col / tw) % th, col / (tw * th));
            let (r0, s) = (super::M * ty, (super::M * tx) as isize);
            let mask = row7_mask(s, ow);
            let mut d = [_mm256_setzero_ps(); 8];
            for (i, di) in d.iter_mut().take(super::M).enumerate() {
                if r0 + i < oh {
                    // lanes past the tile or the image are masked off
                    let o = (first + nn * sstride + (r0 + i) * ow) as isize + s;
                    *di = load8(dy.as_ptr().wrapping_offset(o), mask, within(o, len));
                }
            }
            d
        });
    }

    /// The output transform of one channel, `Y = Aᵀ Ŷ A` per tile plus `bias`, written into
    /// the output images in place (each output element belongs to exactly one tile). `at8` is
    /// `Aᵀ` (7×8) with a zero eighth row.
    ///
    /// # Safety
    /// AVX2 and FMA; `y` points at channel `co` of sample 0 and every sample's channel `co`
    /// (`sstride` apart, `oh × ow` each) of the `j` columns' samples holds `+0.0`, is writable
    /// and is not touched by anyone else during the call; `j` a multiple of 8;
    /// `src.len() ≥ 64·j`, `at8.len() ≥ 64`.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn output_direct(
        src: &[f32],
        y: *mut f32,
        sstride: usize,
        (oh, ow): (usize, usize),
        (th, tw): (usize, usize),
        at8: &[f32],
        bias: f32,
        j: usize,
    ) {
        let bv = _mm256_set1_ps(bias);
        let plane = oh * ow;
        untransform_tiles(at8, (src, 0, 1), j, |col, _, d| {
            let (tx, ty, nn) = (col % tw, (col / tw) % th, col / (tw * th));
            let (r0, s) = (super::M * ty, (super::M * tx) as isize);
            let mask = row7_mask(s, ow);
            for (i, di) in d.iter().take(super::M).enumerate() {
                if r0 + i < oh {
                    let o = ((r0 + i) * ow) as isize + s;
                    let ptr = y.wrapping_offset((nn * sstride) as isize + o);
                    put8(ptr, mask, _mm256_add_ps(*di, bv), within(o, plane));
                }
            }
        });
    }

    /// The adjoint of [`input_phases_direct`]: `d = B X̂ Bᵀ` per tile and phase, added into the
    /// images in place (masked the same way); `dx` must hold their starting values.
    ///
    /// # Safety
    /// AVX2 and FMA; `dx` points at channel `c` of sample 0 and every sample's channel `c`
    /// (`sstride` apart, `h × w` each) of the `j` columns' samples is initialised, writable and
    /// not touched by anyone else during the call; `j` a multiple of 8;
    /// `src.len() ≥ 3·stride + 64·j`.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn inverse_phases_direct(
        (src, stride): (&[f32], usize),
        dx: *mut f32,
        sstride: usize,
        (h, w): (usize, usize),
        tiles: (usize, usize),
        b: &[f32],
        j: usize,
    ) {
        let z = _mm256_setzero_ps();
        let plane = h * w;
        untransform_tiles(b, (src, stride, 4), j, |col, ph, d| {
            let (p, q) = (ph / 2, ph % 2);
            let (nn, r0, s0) = tile_origin(col, tiles);
            let s = s0 + q as isize;
            let (mlo, mhi) = col_masks(s, w);
            for (a, da) in d.iter().enumerate() {
                let r = r0 + (2 * a + p) as isize;
                if r >= 0 && (r as usize) < h {
                    let o = r * w as isize + s;
                    let ptr = dx.wrapping_offset((nn * sstride) as isize + o);
                    let (ul, uh) = (_mm256_unpacklo_ps(*da, z), _mm256_unpackhi_ps(*da, z));
                    let lo = _mm256_permute2f128_ps::<0x20>(ul, uh);
                    let hi = _mm256_permute2f128_ps::<0x31>(ul, uh);
                    add8(ptr, mlo, lo, within(o, plane));
                    add8(ptr.wrapping_add(8), mhi, hi, within(o + 8, plane));
                }
            }
        });
    }

    /// `C = A · B` for one transform position, with `A` already in panels: `A` (`m × k`) is
    /// stored as `⌈m / MR⌉` panels of [`super::MR`] rows, element `(i, kk)` at
    /// `a[(i / MR)·MR·k + kk·MR + i % MR]` (rows past `m` zero); `B` (`k × n`) has rows `rs`
    /// apart and contiguous columns; `C` (`m × n`) gets rows `c_rs` apart. Columns of `B` are
    /// copied 16 (or, last, 8) at a time into `panel`, contiguous, and every panel of `A`
    /// multiplies them in 12 (or 6) accumulator registers, so the panel stays in L1 while `A`
    /// streams by. The weights never need packing: [`super::weight_taps`] writes their taps in
    /// this order, and the transformed weight built from them is in it too. While a panel of
    /// columns is in use, the rows of the next one (or of `next_b`, the next product's `B`,
    /// after the last) are prefetched.
    ///
    /// # Safety
    /// AVX2 and FMA; `n` a multiple of 8; `a` holds `⌈m / MR⌉·MR·k` elements, `b` every
    /// `b[kk·rs + col]` for `kk < k`, `col < n`; `c` is writable at every `c[i·c_rs + col]` for
    /// `i < m`, `col < n` (each of which is stored, never read: it may be uninitialised);
    /// `panel.len() ≥ 16·k`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn panel_product(
        dims: (usize, usize, usize),
        a: *const f32,
        b: (*const f32, usize),
        c: (*mut f32, usize),
        panel: &mut [f32],
        next_b: Option<*const f32>,
    ) {
        panel_loop::<Avx2Tiles>(dims, a, b, c, panel, next_b)
    }

    /// [`panel_product`] with AVX-512: columns of `B` are copied 32 at a time (then 16, then
    /// 8) and each panel of `A` multiplies them in 12 (or 6) 16-lane accumulators, twice the
    /// columns per instruction. Every element of `C` is the same chain of fused multiply-adds
    /// in the same order as in [`panel_product`], so the two give the same bits.
    ///
    /// # Safety
    /// AVX-512 F/VL, AVX2 and FMA; as [`panel_product`], but `panel.len() ≥ 32·k`.
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    pub unsafe fn panel_product_avx512(
        dims: (usize, usize, usize),
        a: *const f32,
        b: (*const f32, usize),
        c: (*mut f32, usize),
        panel: &mut [f32],
        next_b: Option<*const f32>,
    ) {
        panel_loop::<Avx512Tiles>(dims, a, b, c, panel, next_b)
    }

    /// The register tiles of one instruction set: the column widths its micro-kernels take,
    /// widest first (the last is 8, which every `n` here is a multiple of).
    trait Tiles {
        const WIDTHS: &'static [usize];
        /// `MR × width` of `C` (see [`micro`]).
        ///
        /// # Safety
        /// As [`micro`], with the CPU features of the tiles' set.
        unsafe fn micro(
            width: usize,
            k: usize,
            a: *const f32,
            b: *const f32,
            c: (*mut f32, usize),
            rows: usize,
        );
    }

    /// [`panel_product`]'s tiles: 16 or 8 columns in 8-lane registers.
    struct Avx2Tiles;
    impl Tiles for Avx2Tiles {
        const WIDTHS: &'static [usize] = &[16, 8];
        #[inline(always)]
        unsafe fn micro(
            width: usize,
            k: usize,
            a: *const f32,
            b: *const f32,
            c: (*mut f32, usize),
            rows: usize,
        ) {
            if width == 16 {
                micro::<2>(k, a, b, c, rows)
            } else {
                micro::<1>(k, a, b, c, rows)
            }
        }
    }

    /// [`panel_product_avx512`]'s tiles: 32 or 16 columns in 16-lane registers, then 8.
    struct Avx512Tiles;
    impl Tiles for Avx512Tiles {
        const WIDTHS: &'static [usize] = &[32, 16, 8];
        #[inline(always)]
        unsafe fn micro(
            width: usize,
            k: usize,
            a: *const f32,
            b: *const f32,
            c: (*mut f32, usize),
            rows: usize,
        ) {
            match width {
                32 => micro512::<2>(k, a, b, c, rows),
                16 => micro512::<1>(k, a, b, c, rows),
                _ => micro::<1>(k, a, b, c, rows),
            }
        }
    }

    /// The loop of both panel products: columns of `B` taken `width` at a time (the widest of
    /// `T::WIDTHS` that fits), copied into `panel`, multiplied by every panel of `A` in
    /// registers, with the next columns' rows prefetched meanwhile. Inlined into each product,
    /// so that the micro-kernels compile with its instruction set.
    ///
    /// # Safety
    /// As [`panel_product`], with `panel.len() ≥ T::WIDTHS[0]·k` and the CPU features of `T`.
    #[inline(always)]
    unsafe fn panel_loop<T: Tiles>(
        (m, k, n): (usize, usize, usize),
        a: *const f32,
        (b, rs): (*const f32, usize),
        (c, c_rs): (*mut f32, usize),
        panel: &mut [f32],
        next_b: Option<*const f32>,
    ) {
        const MR: usize = super::MR;
        assert!(
            n.is_multiple_of(8) && panel.len() >= T::WIDTHS[0] * k,
            "winograd: panel product"
        );
        if m == 0 || n == 0 {
            return;
        }
        let panels = m.div_ceil(MR);
        // rows of the next columns' B to prefetch before each panel of A: B's rows lie far
        // apart (one per input channel and phase), so fetched on demand each would stall
        let ahead = k.div_ceil(panels);
        let mut col = 0;
        while col < n {
            let width = T::WIDTHS
                .iter()
                .copied()
                .find(|&w| n - col >= w)
                .unwrap_or(8);
            for kk in 0..k {
                let src = b.add(kk * rs + col);
                let dst = panel.as_mut_ptr().add(kk * width);
                for v in 0..width / 8 {
                    _mm256_storeu_ps(dst.add(8 * v), _mm256_loadu_ps(src.add(8 * v)));
                }
            }
            let next = (col + width < n).then(|| b.add(col + width)).or(next_b);
            // a row's 4·width bytes may straddle one cache line more than they fill: fetch at
            // 0, 60, 124 … bytes
            let lines = (width * 4 / 64).max(1) + 1;
            for p in 0..panels {
                if let Some(nb) = next {
                    for kk in p * ahead..k.min((p + 1) * ahead) {
                        let row = nb.wrapping_add(kk * rs) as *const i8;
                        for l in 0..lines {
                            let off = (64 * l).saturating_sub(4);
                            _mm_prefetch::<_MM_HINT_T0>(row.wrapping_add(off));
                        }
                    }
                }
                let rows = MR.min(m - p * MR);
                let (ap, cp) = (a.add(p * MR * k), c.add(p * MR * c_rs + col));
                T::micro(width, k, ap, panel.as_ptr(), (cp, c_rs), rows);
            }
            col += width;
        }
    }

    /// [`micro`] with `NV` 16-lane vectors per row: `MR × 16·NV` of `C`.
    #[inline(always)]
    unsafe fn micro512<const NV: usize>(
        k: usize,
        a: *const f32,
        b: *const f32,
        (c, c_rs): (*mut f32, usize),
        rows: usize,
    ) {
        const MR: usize = super::MR;
        let mut acc = [[_mm512_setzero_ps(); NV]; MR];
        for kk in 0..k {
            let bv: [__m512; NV] =
                std::array::from_fn(|v| _mm512_loadu_ps(b.add((kk * NV + v) * 16)));
            for (r, row) in acc.iter_mut().enumerate() {
                let av = _mm512_set1_ps(*a.add(kk * MR + r));
                for (x, &bb) in row.iter_mut().zip(&bv) {
                    *x = _mm512_fmadd_ps(av, bb, *x);
                }
            }
        }
        for (r, row) in acc.iter().enumerate().take(rows) {
            for (v, x) in row.iter().enumerate() {
                _mm512_storeu_ps(c.add(r * c_rs + 16 * v), *x);
            }
        }
    }

    /// `MR × 8·NV` of `C` from a panel of `A` and `NV` vectors per row of `B`, in registers;
    /// the first `rows` rows are stored.
    #[inline(always)]
    unsafe fn micro<const NV: usize>(
        k: usize,
        a: *const f32,
        b: *const f32,
        (c, c_rs): (*mut f32, usize),
        rows: usize,
    ) {
        const MR: usize = super::MR;
        let mut acc = [[_mm256_setzero_ps(); NV]; MR];
        for kk in 0..k {
            let bv: [__m256; NV] =
                std::array::from_fn(|v| _mm256_loadu_ps(b.add((kk * NV + v) * 8)));
            for (r, row) in acc.iter_mut().enumerate() {
                let av = _mm256_broadcast_ss(&*a.add(kk * MR + r));
                for (x, &bb) in row.iter_mut().zip(&bv) {
                    *x = _mm256_fmadd_ps(av, bb, *x);
                }
            }
        }
        for (r, row) in acc.iter().enumerate().take(rows) {
            for (v, x) in row.iter().enumerate() {
                _mm256_storeu_ps(c.add(r * c_rs + 8 * v), *x);
            }
        }
    }
}
// ------------------------------------------------------------------------------ the products

/// A strided matrix operand: element `(r, c)` at `ptr[r·rs + c·cs]`.
#[derive(Clone, Copy)]
struct Operand<T> {
    ptr: *const T,
    rs: isize,
    cs: isize,
}
impl<T> Operand<T> {
    /// The operand's pointer moved `off` elements on.
    ///
    /// # Safety
    /// `off` must stay inside the slice the operand points into.
    unsafe fn at(&self, off: usize) -> *const T {
        self.ptr.add(off)
    }
}

// SAFETY: an operand only points into a slice that outlives the products and is only read.
unsafe impl<T: Sync> Send for Operand<T> {}
unsafe impl<T: Sync> Sync for Operand<T> {}

/// The left operand of the per-position products: the transformed weight
/// `Ŵ[ξη] = G g Gᵀ` (`cout × 4·cin`), built from the four taps just before its product, so the
/// 64 transformed weights (16 times the weight's size) never go through memory; used as is or
/// transposed.
#[derive(Clone, Copy)]
struct Weight<'a, T> {
    taps: &'a [T],
    g: &'a [T],
    transposed: bool,
    layout: Layout,
    cout: usize,
    ci: usize,
}

/// For every transform position `ξη`, `C(ξη) = Ŵ[ξη] · B(ξη)` (or `Ŵ[ξη]ᵀ · B(ξη)`), an
/// `m × k` by `k × n` product; `B(ξη)` starts `ξη · b_step` elements in, `C(ξη)` at
/// `c + ξη · c_step` with rows `c_rs` apart. The eight rows `ξ` of positions run in parallel,
/// each position of a row in turn: a row shares the half-transformed weight
/// `R[s] = Σₜ G[ξ][t] · taps[t][s]`, from which each `Ŵ[ξη] = Σₛ G[η][s] · R[s]` is two
/// multiply-adds per element (none at the points 0 and ∞, where G's row is (1, 0) or (0, 1)).
/// `c` is only written (each position's `m` rows of `n`), so it may start uninitialised.
#[allow(clippy::too_many_arguments)]
fn products<T: Element>(
    (m, k, n): (usize, usize, usize),
    a: Weight<'_, T>,
    b: Operand<T>,
    b_step: usize,
    c: &mut [MaybeUninit<T>],
    c_step: usize,
    c_rs: usize,
) {
    assert!(
        m == 0 || n == 0 || (POS - 1) * c_step + (m - 1) * c_rs + n <= c.len(),
        "winograd: product output out of bounds"
    );
    let len = a.layout.len(a.cout, a.ci);
    assert!(a.taps.len() >= 4 * len, "winograd: weight taps");
    let panels = a.layout != Layout::Plain;
    // the panel kernel is f32 AVX2 (the casts below rely on it)
    assert!(
        !panels || tile_path::<T>(n),
        "winograd: panels off the tile path"
    );
    assert!(
        m * k == a.cout * a.ci
            && (!panels || (a.layout == Layout::PanelsTransposed) == a.transposed)
            && (!panels || b.cs == 1),
        "winograd: product shape"
    );
    let (g, one, z) = (a.g, T::ONE, T::ZERO);
    let (rs, cs) = if a.transposed {
        (1, a.ci as isize)
    } else {
        (a.ci as isize, 1)
    };
    let cp = SharedMut(c.as_mut_ptr() as *mut T);
    map_indexed(ALPHA, |xi| {
        let cp = cp;
        let mut built = Vec::new();
        // (zeroed once per task; rewritten for each of its positions)
        let mut w = scratch::<T>(len);
        #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut, unused_variables))]
        let mut panel = if panels {
            scratch::<T>(32 * k)
        } else {
            scratch::<T>(0)
        };
        let (g0, g1) = (g[2 * xi], g[2 * xi + 1]);
        let half: &[T] = if (g0, g1) == (one, z) {
            &a.taps[..2 * len]
        } else if (g0, g1) == (z, one) {
            &a.taps[2 * len..4 * len]
        } else {
            built = pool::filled(2 * len, T::ZERO);
            let rows = [g0, z, g1, z, z, g0, z, g1];
            // SAFETY: `mix_rows` stores only initialised values.
            mix_rows(
                &rows,
                2,
                4,
                a.taps,
                len,
                unsafe { as_uninit(&mut built) },
                len,
                len,
            );
            &built
        };
        for eta in 0..ALPHA {
            let pos = xi * ALPHA + eta;
            let aptr = match (g[2 * eta], g[2 * eta + 1]) {
                (e0, e1) if (e0, e1) == (one, z) => half.as_ptr(),
                (e0, e1) if (e0, e1) == (z, one) => half[len..].as_ptr(),
                _ => {
                    // SAFETY: `mix_rows` stores only initialised values.
                    let wu = unsafe { as_uninit(&mut w) };
                    mix_rows(&g[2 * eta..2 * eta + 2], 1, 2, half, len, wu, 0, len);
                    w.as_ptr()
                }
            };
            #[cfg(target_arch = "x86_64")]
            if panels {
                // SAFETY: panels are only chosen on the AVX2 tile path (`tile_path`: T is
                // f32, AVX2/FMA present, n = j a multiple of 8), so the casts keep type and
                // length; `aptr` holds the ⌈m/MR⌉·MR·k elements of the layout; `b` and `c` as
                // below (the kernel only stores into `c`), with B's columns contiguous
                // (asserted); `panel` holds 32·k elements; the AVX-512 kernel only where the
                // CPU has it (`simd_level`).
                unsafe {
                    let kernel = if crate::kernels::simd_level() >= crate::kernels::Simd::Avx512 {
                        tiles::panel_product_avx512
                    } else {
                        tiles::panel_product
                    };
                    kernel(
                        (m, k, n),
                        aptr as *const f32,
                        (b.at(pos * b_step) as *const f32, b.rs as usize),
                        (cp.0.add(pos * c_step) as *mut f32, c_rs),
                        std::slice::from_raw_parts_mut(panel.as_mut_ptr() as *mut f32, 32 * k),
                        (eta + 1 < ALPHA).then(|| b.at((pos + 1) * b_step) as *const f32),
                    )
                };
                continue;
            }
            // SAFETY: `aptr` holds `cout × ci` = m × k (or k × m, read transposed) elements;
            // `b` covers every position's operand (the callers' layouts); position `pos` writes
            // only its own rows of `c` (disjoint from other positions: `c_step` ≥ n and rows
            // `c_rs` apart interleave without overlap), within the extent asserted above; with
            // β = 0 `matrixmultiply` writes C without reading it.
            unsafe {
                gemm_raw(
                    m,
                    k,
                    n,
                    T::ONE,
                    aptr,
                    rs,
                    cs,
                    b.at(pos * b_step),
                    b.rs,
                    b.cs,
                    T::ZERO,
                    cp.0.add(pos * c_step),
                    c_rs as isize,
                    1,
                )
            }
        }
        pool::give(built);
    });
}

// ------------------------------------------------------------------------------ the kernels

/// Forward: `[n, cin, h, w]` ⋆ `[cout, cin, 4, 4]` (stride 2, padding 1) + bias →
/// `[n, cout, oh, ow]`.
pub fn forward<T: Element>(x: &[T], w: &[T], bias: Option<&[T]>, g: &Geom) -> Vec<T> {
    assert_eq!(x.len(), g.n * g.cin * g.h * g.w, "winograd: input size");
    assert_eq!(w.len(), g.cout * g.cin * 16, "winograd: weight size");
    let cf = Coef::<T>::new();
    let (ci, j) = (g.ci(), g.cols());
    // channels of the transform-domain buffers are `ts` apart
    let ts = spread::<T>(POS * j);
    let xh = input_transform(x, g, &cf);
    let layout = Layout::for_products::<T>(j, false);
    let taps = weight_taps(w, g, layout);
    let mut yh = Fresh::<T>::new(g.cout * ts);
    // Ŷ[ξη] (cout × J) = Ŵ[ξη] (cout × ci') · X̂[ξη] (ci' × J)
    let a = Weight {
        taps: &taps,
        g: &cf.g,
        transposed: false,
        layout,
        cout: g.cout,
        ci,
    };
    let b = Operand {
        ptr: xh.as_ptr(),
        rs: ts as isize,
        cs: 1,
    };
    products((g.cout, ci, j), a, b, j, yh.slots(), j, ts);
    zero_gaps(yh.slots(), ts, POS * j);
    // SAFETY: the products wrote the 64·J elements at the start of every channel's row, and
    // the gaps after them were zeroed.
    let yh = unsafe { yh.assume_init() };
    let y = output_inverse(&yh, g, &cf, bias);
    for v in [xh, taps, yh] {
        pool::give(v);
    }
    y
}

/// Input gradient (and transposed convolution): `dy [n, cout, oh, ow]` with the weight
/// `[cout, cin, 4, 4]` → `[n, cin, h, w]`, plus `bias[c]` per output channel when given.
pub fn data_backward<T: Element>(dy: &[T], w: &[T], bias: Option<&[T]>, g: &Geom) -> Vec<T> {
    assert_eq!(
        dy.len(),
        g.n * g.cout * g.oh * g.ow,
        "winograd: grad_out size"
    );
    assert_eq!(w.len(), g.cout * g.cin * 16, "winograd: weight size");
    let cf = Coef::<T>::new();
    let (ci, j) = (g.ci(), g.cols());
    let ts = spread::<T>(POS * j);
    let dyh = output_grad_transform(dy, g, &cf);
    let layout = Layout::for_products::<T>(j, true);
    let taps = weight_taps(w, g, layout);
    let mut xh = Fresh::<T>::new(ci * ts);
    // dX̂[ξη] (ci' × J) = Ŵ[ξη]ᵀ (ci' × cout) · dŶ[ξη] (cout × J)
    let a = Weight {
        taps: &taps,
        g: &cf.g,
        transposed: true,
        layout,
        cout: g.cout,
        ci,
    };
    let b = Operand {
        ptr: dyh.as_ptr(),
        rs: ts as isize,
        cs: 1,
    };
    products((ci, g.cout, j), a, b, j, xh.slots(), j, ts);
    zero_gaps(xh.slots(), ts, POS * j);
    // SAFETY: the products wrote the 64·J elements at the start of every row (channel and
    // phase), and the gaps after them were zeroed.
    let xh = unsafe { xh.assume_init() };
    let dx = input_inverse(&xh, g, &cf, bias);
    for v in [dyh, taps, xh] {
        pool::give(v);
    }
    dx
}

/// Weight gradient: input `[n, cin, h, w]` and `dy [n, cout, oh, ow]` → `[cout, cin, 4, 4]`.
pub fn filter_backward<T: Element>(x: &[T], dy: &[T], g: &Geom) -> Vec<T> {
    assert_eq!(x.len(), g.n * g.cin * g.h * g.w, "winograd: input size");
    assert_eq!(
        dy.len(),
        g.n * g.cout * g.oh * g.ow,
        "winograd: grad_out size"
    );
    let cf = Coef::<T>::new();
    let xh = input_transform(x, g, &cf);
    let dyh = output_grad_transform(dy, g, &cf);
    let taps = filter_products(&dyh, &xh, g, &cf);
    let dw = weight_from_taps(&taps, g);
    for v in [xh, dyh, taps] {
        pool::give(v);
    }
    dw
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_points_pair_up_in_every_matrix() {
        // rows of Bᵀ (and columns of Aᵀ) for the points ±a differ only in the sign of the odd
        // powers — what the AVX2 tiles' paired transforms rely on
        let m = matrices();
        for p in 0..3 {
            let (a, b) = (2 * p + 1, 2 * p + 2);
            for k in 0..ALPHA {
                let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
                assert!(
                    (m.bt[b][k] - sign * m.bt[a][k]).abs() < 1e-12,
                    "Bᵀ[{b}][{k}]"
                );
            }
            for i in 0..M {
                let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
                assert!(
                    (m.at[i][b] - sign * m.at[i][a]).abs() < 1e-12,
                    "Aᵀ[{i}][{b}]"
                );
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn paired_transforms_equal_the_matrix_products() {
        if !crate::kernels::simd_enabled() {
            return;
        }
        let cf = Coef::<f32>::new();
        let mut rng = crate::Rng::seed(7);
        let v: [[f32; 8]; 8] =
            std::array::from_fn(|_| std::array::from_fn(|_| rng.uniform() as f32 * 2.0 - 1.0));
        for (name, m, rows) in [
            ("Bᵀ", &cf.bt, true),
            ("A", &cf.a8, true),
            ("B", &cf.b, false),
            ("Aᵀ", &cf.at8, false),
        ] {
            // SAFETY: AVX2 and FMA checked above; each matrix is 8×8
            let got = unsafe { tiles::paired(m, rows, &v) };
            for i in 0..ALPHA {
                for l in 0..8 {
                    let want: f64 = (0..ALPHA)
                        .map(|k| f64::from(m[i * ALPHA + k]) * f64::from(v[k][l]))
                        .sum();
                    let err = (f64::from(got[i][l]) - want).abs();
                    assert!(err < 1e-5 * (1.0 + want.abs()), "{name} row {i}: {err}");
                }
            }
        }
    }

    /// The AVX-512 panel product equals the AVX2 one bit for bit, and both equal the plain
    /// sums, for row counts off the panel height, column counts that use every width (32, 16
    /// and 8), strided B and C, and the prefetch of a next operand.
    #[test]
    fn avx512_panel_product_equals_the_avx2_one() {
        use crate::kernels::Simd;
        if !Simd::Avx512.available() {
            eprintln!("skipped: this CPU has no AVX-512");
            return;
        }
        let mut rng = crate::Rng::seed(19);
        let cases: [(usize, usize, usize); 6] = [
            (1, 1, 8),
            (6, 5, 16),
            (7, 13, 24),
            (13, 40, 56),
            (12, 64, 72),
            (5, 3, 104),
        ];
        for (m, k, n) in cases {
            let (rs, c_rs) = (n + 8, n + 3);
            let r = |len: usize, rng: &mut crate::Rng| -> Vec<f32> {
                (0..len).map(|_| rng.uniform() as f32 * 2.0 - 1.0).collect()
            };
            let mut a = r(m.div_ceil(MR) * MR * k, &mut rng);
            // rows past m are zero in the layout
            for (idx, v) in a.iter_mut().enumerate() {
                let (p, rest) = (idx / (MR * k), idx % (MR * k));
                if p * MR + rest % MR >= m {
                    *v = 0.0;
                }
            }
            let b = r(k * rs, &mut rng);
            let next = r(k * rs, &mut rng);
            let run = |wide: bool| {
                let mut c = vec![f32::NAN; m * c_rs];
                let mut panel = vec![0f32; 32 * k];
                let args = (
                    (m, k, n),
                    a.as_ptr(),
                    (b.as_ptr(), rs),
                    (c.as_mut_ptr(), c_rs),
                );
                // SAFETY: AVX-512 and AVX2 checked above; the operands are sized as the
                // kernels' contracts ask (A in panels, B k × rs, C m × c_rs, panel 32·k).
                unsafe {
                    if wide {
                        tiles::panel_product_avx512(
                            args.0,
                            args.1,
                            args.2,
                            args.3,
                            &mut panel,
                            Some(next.as_ptr()),
                        )
                    } else {
                        tiles::panel_product(
                            args.0,
                            args.1,
                            args.2,
                            args.3,
                            &mut panel,
                            Some(next.as_ptr()),
                        )
                    }
                };
                c
            };
            let (c2, c5) = (run(false), run(true));
            for i in 0..m {
                for j in 0..n {
                    let (x, y) = (c2[i * c_rs + j], c5[i * c_rs + j]);
                    assert_eq!(
                        x.to_bits(),
                        y.to_bits(),
                        "{m}×{k}×{n}: C[{i}, {j}] {x} vs {y}"
                    );
                    let want: f64 = (0..k)
                        .map(|kk| {
                            let ai = (i / MR) * MR * k + kk * MR + i % MR;
                            f64::from(a[ai]) * f64::from(b[kk * rs + j])
                        })
                        .sum();
                    assert!(
                        (f64::from(y) - want).abs() < 1e-5 * (1.0 + k as f64),
                        "{m}×{k}×{n}"
                    );
                }
                // the gaps between C's rows are left alone
                assert!(c5[i * c_rs + n..(i + 1) * c_rs].iter().all(|v| v.is_nan()));
            }
        }
    }

    #[test]
    fn one_dimensional_f7_2_is_a_correlation() {
        // y = Aᵀ[(G g) ⊙ (Bᵀ d)] against the direct sum, in f64
        let m = matrices();
        let d: Vec<f64> = (0..ALPHA).map(|i| (i as f64 * 0.37).sin()).collect();
        let gf = [0.7, -1.3];
        let gg: Vec<f64> = (0..ALPHA)
            .map(|i| m.g[i][0] * gf[0] + m.g[i][1] * gf[1])
            .collect();
        let bd: Vec<f64> = (0..ALPHA)
            .map(|i| (0..ALPHA).map(|k| m.bt[i][k] * d[k]).sum())
            .collect();
        for i in 0..M {
            let y: f64 = (0..ALPHA).map(|k| m.at[i][k] * gg[k] * bd[k]).sum();
            let direct = gf[0] * d[i] + gf[1] * d[i + 1];
            assert!((y - direct).abs() < 1e-12, "output {i}: {y} vs {direct}");
        }
    }

    use crate::{Conv2dParams, Rng, Tensor};

    fn max_rel_err(a: &[f64], b: &[f64]) -> f64 {
        assert_eq!(a.len(), b.len());
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        a.iter()
            .zip(b)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
            / scale
    }

    /// Shapes: one tile exactly (14 → 7), several tiles with partial ones and odd input sizes.
    const SHAPES: [(usize, usize, usize, usize, usize); 3] =
        [(2, 3, 5, 14, 14), (1, 2, 3, 29, 17), (3, 4, 2, 16, 31)];

    #[test]
    fn f64_kernels_equal_the_direct_convolution() {
        let mut rng = Rng::seed(3);
        let p = Conv2dParams::new((2, 2), (1, 1));
        for (n, cin, cout, h, w) in SHAPES {
            let g = Geom {
                n,
                cin,
                cout,
                h,
                w,
                oh: h / 2,
                ow: w / 2,
            };
            let x = Tensor::randn([n, cin, h, w], 0.0, 1.0, crate::DType::F64, &mut rng);
            let wt = Tensor::randn([cout, cin, 4, 4], 0.0, 1.0, crate::DType::F64, &mut rng);
            let b = Tensor::randn([cout], 0.0, 1.0, crate::DType::F64, &mut rng);
            let dy = Tensor::randn(
                [n, cout, h / 2, w / 2],
                0.0,
                1.0,
                crate::DType::F64,
                &mut rng,
            );
            let bx = Tensor::randn([cin], 0.0, 1.0, crate::DType::F64, &mut rng);
            let y = forward(x.as_slice::<f64>(), wt.as_slice(), Some(b.as_slice()), &g);
            let y_ref = x.conv2d(&wt, Some(&b), p).to_vec_f64();
            assert!(max_rel_err(&y, &y_ref) < 1e-12, "forward {g:?}");
            let dx = data_backward(dy.as_slice::<f64>(), wt.as_slice(), Some(bx.as_slice()), &g);
            let dx_ref = dy
                .conv2d_input_grad(&wt, (h, w), p)
                .add(&bx.reshape([1, cin, 1, 1]))
                .to_vec_f64();
            assert!(max_rel_err(&dx, &dx_ref) < 1e-12, "input gradient {g:?}");
            let dw = filter_backward(x.as_slice::<f64>(), dy.as_slice(), &g);
            let dw_ref = x.conv2d_weight_grad(&dy, [cout, cin, 4, 4], p).to_vec_f64();
            assert!(max_rel_err(&dw, &dw_ref) < 1e-12, "weight gradient {g:?}");
        }
    }

    #[test]
    fn f32_error_of_the_dcgan_layer_is_a_few_1e_5() {
        // the switch is off by default; on for this thread only
        crate::with_winograd(true, f32_error_of_the_dcgan_layer)
    }

    fn f32_error_of_the_dcgan_layer() {
        // Conv2d(cin, cout, 4, 2, 1) and its two gradients, in f32 through the public ops (which
        // take the Winograd path) against the f64 direct sums. Batches of 8 columns take the
        // AVX2 tile path where available, the batch of 4 the portable one; the 28-, 29- and
        // 30-pixel inputs have several tiles (the last one partial for 30; 29 is odd). On the
        // tile path the products take 16 columns at a time and then 8 (24 and 16 columns
        // below), in panels of 6 rows with the last one partial (20, 40, 64 and 128 rows).
        let mut rng = Rng::seed(4);
        let p = Conv2dParams::new((2, 2), (1, 1));
        for (n, cin, cout, h) in [
            (4, 64, 128, 14),
            (8, 64, 128, 14),
            (2, 16, 24, 28),
            (2, 16, 16, 29),
            (4, 16, 16, 30),
            (6, 16, 20, 28),
            (16, 32, 40, 14),
            (8, 16, 16, 30),
        ] {
            let o = h / 2;
            let x = Tensor::rand_uniform([n, cin, h, h], -1.0, 1.0, crate::DType::F64, &mut rng);
            let w = Tensor::randn([cout, cin, 4, 4], 0.0, 0.02, crate::DType::F64, &mut rng);
            let dy = Tensor::randn([n, cout, o, o], 0.0, 1.0, crate::DType::F64, &mut rng);
            let b = Tensor::randn([cout], 0.0, 0.1, crate::DType::F64, &mut rng);
            let bt = Tensor::randn([cin], 0.0, 0.1, crate::DType::F64, &mut rng);
            let f = |t: &Tensor| t.to_dtype(crate::DType::F32);
            let pt = crate::ConvTranspose2dParams::new((2, 2), (1, 1))
                .with_output_padding((h % 2, h % 2));
            let mut cases = vec![
                // with a bias, added by the output transform
                (
                    f(&x).conv2d(&f(&w), Some(&f(&b)), p).to_vec_f64(),
                    x.conv2d(&w, Some(&b), p).to_vec_f64(),
                ),
                (
                    f(&dy).conv2d_input_grad(&f(&w), (h, h), p).to_vec_f64(),
                    dy.conv2d_input_grad(&w, (h, h), p).to_vec_f64(),
                ),
                (
                    f(&x)
                        .conv2d_weight_grad(&f(&dy), [cout, cin, 4, 4], p)
                        .to_vec_f64(),
                    x.conv2d_weight_grad(&dy, [cout, cin, 4, 4], p).to_vec_f64(),
                ),
            ];
            // the transposed convolution with its bias (filled in before the tiles add up)
            cases.push((
                f(&dy)
                    .conv_transpose2d(&f(&w), Some(&f(&bt)), pt)
                    .to_vec_f64(),
                dy.conv_transpose2d(&w, Some(&bt), pt).to_vec_f64(),
            ));
            for (i, (got, want)) in cases.iter().enumerate() {
                let e = max_rel_err(got, want);
                eprintln!("winograd f32, n {n} cin {cin} h {h}, case {i}: relative error {e:e}");
                // 1e-6 would mean the direct path ran; above 2e-4 the transforms are off
                assert!(
                    e > 1e-6 && e < 2e-4,
                    "n {n} h {h} case {i}: relative error {e:e}"
                );
            }
        }
    }

    #[test]
    fn tiny_f32_cases_match_the_direct_sums() {
        // The three kernels in f32 on shapes small enough for Miri (docs/tensor.md): one
        // sample (one GEMM column: the portable transforms) and eight (eight columns: the
        // AVX2 tiles and panel products where available, also under Miri with
        // `-C target-feature=+avx2,+fma`), against the f64 direct sums.
        // The kernels are called directly, so two channels suffice (`worthwhile` wants 16).
        let mut rng = Rng::seed(5);
        let p = Conv2dParams::new((2, 2), (1, 1));
        for (n, cin, cout, h) in [(1, 2, 3, 14), (8, 2, 3, 14)] {
            // under Miri without AVX2 (the default), eight samples take the portable path
            // again, at 3 minutes instead of 1
            if cfg!(miri) && n > 1 && !tile_path::<f32>(n) {
                continue;
            }
            let g = Geom {
                n,
                cin,
                cout,
                h,
                w: h,
                oh: h / 2,
                ow: h / 2,
            };
            let f64_ = crate::DType::F64;
            let x = Tensor::rand_uniform([n, cin, h, h], -1.0, 1.0, f64_, &mut rng);
            let wt = Tensor::randn([cout, cin, 4, 4], 0.0, 0.5, f64_, &mut rng);
            let b = Tensor::randn([cout], 0.0, 0.1, f64_, &mut rng);
            let dy = Tensor::randn([n, cout, h / 2, h / 2], 0.0, 1.0, f64_, &mut rng);
            let bx = Tensor::randn([cin], 0.0, 0.1, f64_, &mut rng);
            let f = |t: &Tensor| t.to_dtype(crate::DType::F32);
            let (xf, wf, bf, dyf, bxf) = (f(&x), f(&wt), f(&b), f(&dy), f(&bx));
            let wide = |v: Vec<f32>| v.into_iter().map(f64::from).collect::<Vec<_>>();
            let y = wide(forward(
                xf.as_slice::<f32>(),
                wf.as_slice(),
                Some(bf.as_slice()),
                &g,
            ));
            let y_ref = x.conv2d(&wt, Some(&b), p).to_vec_f64();
            let dx = wide(data_backward(
                dyf.as_slice::<f32>(),
                wf.as_slice(),
                Some(bxf.as_slice()),
                &g,
            ));
            let dx_ref = dy
                .conv2d_input_grad(&wt, (h, h), p)
                .add(&bx.reshape([1, cin, 1, 1]))
                .to_vec_f64();
            let dw = wide(filter_backward(xf.as_slice::<f32>(), dyf.as_slice(), &g));
            let dw_ref = x.conv2d_weight_grad(&dy, [cout, cin, 4, 4], p).to_vec_f64();
            for (what, got, want) in [
                ("forward", &y, &y_ref),
                ("input gradient", &dx, &dx_ref),
                ("weight gradient", &dw, &dw_ref),
            ] {
                let e = max_rel_err(got, want);
                assert!(e < 2e-4, "{what}, n {n}: relative error {e:e}");
            }
        }
    }

    #[test]
    fn worthwhile_only_for_filled_tiles_and_enough_channels() {
        let g = |n, cin, cout, h| Geom {
            n,
            cin,
            cout,
            h,
            w: h,
            oh: h / 2,
            ow: h / 2,
        };
        assert!(g(64, 64, 128, 14).worthwhile());
        assert!(g(2, 16, 16, 28).worthwhile());
        assert!(g(4, 32, 32, 64).worthwhile()); // 32×32 in 5×5 tiles: 84 % filled
        assert!(!g(4, 32, 32, 8).worthwhile()); // 4×4 in one 7×7 tile: 33 %
        assert!(!g(64, 1, 64, 28).worthwhile()); // one input channel
        assert!(!g(64, 64, 8, 14).worthwhile());
        assert!(!g(0, 64, 128, 14).worthwhile()); // an empty batch takes the direct path

        // and gives empty results / a zero weight gradient (found in review: the tile path
        // asserted on it)
        let p = Conv2dParams::new((2, 2), (1, 1));
        let x = Tensor::zeros([0, 16, 14, 14], crate::DType::F32);
        let w = Tensor::ones([16, 16, 4, 4], crate::DType::F32);
        let dy = Tensor::zeros([0, 16, 7, 7], crate::DType::F32);
        assert_eq!(x.conv2d(&w, None, p).dims(), &[0, 16, 7, 7]);
        assert_eq!(
            dy.conv2d_input_grad(&w, (14, 14), p).dims(),
            &[0, 16, 14, 14]
        );
        let dw = x.conv2d_weight_grad(&dy, [16, 16, 4, 4], p);
        assert!(dw.to_vec_f64().iter().all(|&v| v == 0.0));
        let pt = crate::ConvTranspose2dParams::new((2, 2), (1, 1));
        assert_eq!(dy.conv_transpose2d(&w, None, pt).dims(), &[0, 16, 14, 14]);
    }
}
