//! im2col and col2im: the two data movements that turn a 2-D convolution into a matrix product.
//!
//! For one image `x` of shape `[C, H, W]` and a kernel of size `kh × kw`, im2col builds the
//! matrix `cols` with one **row per kernel tap** `(c, ky, kx)` (so `C·kh·kw` rows, in the same
//! order as a PyTorch weight `[Cout, C, kh, kw]` flattened to `[Cout, C·kh·kw]`) and one
//! **column per output pixel** `(oy, ox)` (so `Hout·Wout` columns):
//!
//! ```text
//! cols[(c, ky, kx), (oy, ox)] = x[c, oy·sh − ph + ky·dh, ox·sw − pw + kx·dw]   (0 outside x)
//! ```
//!
//! A convolution is then `W[Cout, C·kh·kw] · cols`. col2im is the adjoint (transpose) of
//! im2col: every entry of `cols` is *added* back to the input pixel it was read from, so a pixel
//! covered by several taps receives the sum. It turns `Wᵀ · y` into a transposed convolution
//! (and into the input gradient of a convolution).
//!
//! Both work on plain slices, for any [`Element`]; the rows of `cols` may be spaced `ld`
//! elements apart (`ld ≥ Hout·Wout`), so that several images can fill side-by-side column blocks
//! of one wide matrix. A padded convolution first copies the image into a zero-bordered buffer,
//! so that the inner loops read without bounds tests: a contiguous copy (stride 1) or a strided
//! gather with the same trip count for every row.

use crate::Element;

/// The geometry of one 2-D convolution over a single image: everything im2col and col2im need.
///
/// `oh × ow` is given explicitly (usually [`ConvGeom::out_len`] of the other fields) so that a
/// caller may ask for fewer output positions than fit, as the weight gradient of a transposed
/// convolution with `output_padding` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeom {
    /// Channels of the image (all groups together).
    pub channels: usize,
    /// Image height.
    pub h: usize,
    /// Image width.
    pub w: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Stride (vertical, horizontal).
    pub stride: (usize, usize),
    /// Zero padding added on both sides (vertical, horizontal).
    pub padding: (usize, usize),
    /// Spacing between kernel taps (vertical, horizontal).
    pub dilation: (usize, usize),
    /// Output height (number of vertical kernel positions).
    pub oh: usize,
    /// Output width (number of horizontal kernel positions).
    pub ow: usize,
}

impl ConvGeom {
    /// The number of kernel positions along one axis:
    /// `⌊(len + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1`, or `None` if the padded
    /// input is shorter than the dilated kernel (or the stride is 0).
    pub fn out_len(
        len: usize,
        k: usize,
        stride: usize,
        padding: usize,
        dilation: usize,
    ) -> Option<usize> {
        let span = dilation * (k.max(1) - 1) + 1;
        let padded = len + 2 * padding;
        if stride == 0 || padded < span {
            None
        } else {
            Some((padded - span) / stride + 1)
        }
    }

    /// Rows of the im2col matrix: `channels · kh · kw`.
    #[inline]
    pub fn rows(&self) -> usize {
        self.channels * self.kh * self.kw
    }

    /// Columns of the im2col matrix: `oh · ow`.
    #[inline]
    pub fn cols(&self) -> usize {
        self.oh * self.ow
    }

    /// Elements of one image: `channels · h · w`.
    #[inline]
    pub fn image_len(&self) -> usize {
        self.channels * self.h * self.w
    }
}

/// im2col and col2im for one [`ConvGeom`].
///
/// When the convolution pads its input, the image is first copied into a zero-bordered buffer
/// of `C × (H + 2·ph) × (W + 2·pw)` (see [`Im2col::pad`]); every tap then reads inside that
/// buffer, so the copy loops have fixed trip counts and no bounds tests, which keeps them fast
/// on the small images of a GAN (a 7×7 output row is only 7 elements long).
#[derive(Clone, Debug)]
pub struct Im2col {
    g: ConvGeom,
    hp: usize,
    wp: usize,
    /// For narrow outputs, the offset of every output position's pixel from the tap's first
    /// one: one loop of `oh·ow` iterations per row beats `oh` loops of a few iterations each.
    offs: Vec<u32>,
    /// For every im2col row `(c, ky, kx)`, the offset of its first pixel in the padded image.
    row_base: Vec<usize>,
}

/// Below this output width, rows are copied through the offset table.
const TABLE_BELOW_WIDTH: usize = 16;

/// Copies `n` elements read `stride` apart from `s` to consecutive places at `d`.
///
/// # Safety
/// `s` must be readable at `j·stride` and `d` writable at `j` for `j < n`.
#[inline(always)]
unsafe fn gather<T: Copy>(s: *const T, stride: usize, d: *mut T, n: usize) {
    match stride {
        1 => std::ptr::copy_nonoverlapping(s, d, n),
        2 => {
            for j in 0..n {
                *d.add(j) = *s.add(2 * j);
            }
        }
        _ => {
            for j in 0..n {
                *d.add(j) = *s.add(j * stride);
            }
        }
    }
}

/// Adds `n` consecutive elements from `s` to places `stride` apart at `d`.
///
/// # Safety
/// `s` must be readable at `j` and `d` writable at `j·stride` for `j < n`.
#[inline(always)]
unsafe fn scatter_add<T: Element>(s: *const T, d: *mut T, stride: usize, n: usize) {
    match stride {
        1 => {
            for j in 0..n {
                *d.add(j) += *s.add(j);
            }
        }
        2 => {
            for j in 0..n {
                *d.add(2 * j) += *s.add(j);
            }
        }
        _ => {
            for j in 0..n {
                *d.add(j * stride) += *s.add(j);
            }
        }
    }
}

impl Im2col {
    /// The plan for `g`. Panics if a stride or dilation is 0 or `oh × ow` exceeds what fits.
    pub fn new(g: &ConvGeom) -> Im2col {
        assert!(
            g.stride.0 > 0 && g.stride.1 > 0 && g.dilation.0 > 0 && g.dilation.1 > 0,
            "im2col: stride {:?} and dilation {:?} must be positive",
            g.stride,
            g.dilation
        );
        let fits = |o: usize, len, k, s, p, d| {
            o == 0 || ConvGeom::out_len(len, k, s, p, d).is_some_and(|m| o <= m)
        };
        assert!(
            fits(g.oh, g.h, g.kh, g.stride.0, g.padding.0, g.dilation.0)
                && fits(g.ow, g.w, g.kw, g.stride.1, g.padding.1, g.dilation.1),
            "im2col: {}×{} kernel positions do not fit geometry {g:?}",
            g.oh,
            g.ow
        );
        let (hp, wp) = (g.h + 2 * g.padding.0, g.w + 2 * g.padding.1);
        let offs = if g.ow < TABLE_BELOW_WIDTH && hp * wp <= u32::MAX as usize {
            let (sh, sw) = g.stride;
            (0..g.oh)
                .flat_map(|oy| (0..g.ow).map(move |ox| (oy * sh * wp + ox * sw) as u32))
                .collect()
        } else {
            Vec::new()
        };
        let mut row_base = Vec::with_capacity(g.rows());
        for c in 0..g.channels {
            for ky in 0..g.kh {
                for kx in 0..g.kw {
                    row_base.push(c * hp * wp + ky * g.dilation.0 * wp + kx * g.dilation.1);
                }
            }
        }
        Im2col {
            g: *g,
            hp,
            wp,
            offs,
            row_base,
        }
    }

    /// The geometry this plan is for.
    pub fn geom(&self) -> &ConvGeom {
        &self.g
    }

    /// Whether the image is padded (and must go through [`Im2col::pad`] first).
    pub fn is_padded(&self) -> bool {
        self.g.padding != (0, 0)
    }

    /// Elements of one padded image, `C · (H + 2·ph) · (W + 2·pw)`.
    pub fn padded_len(&self) -> usize {
        self.g.channels * self.hp * self.wp
    }

    /// Copies image `x` (`[C, H, W]`) into the middle of `xp` (`[C, H + 2·ph, W + 2·pw]`),
    /// zeroing the border.
    pub fn pad<T: Element>(&self, x: &[T], xp: &mut [T]) {
        let g = &self.g;
        let (h, w, hp, wp) = (g.h, g.w, self.hp, self.wp);
        let (ph, pw) = g.padding;
        for (c, dst) in xp[..self.padded_len()]
            .chunks_exact_mut(hp * wp)
            .enumerate()
        {
            let src = &x[c * h * w..(c + 1) * h * w];
            dst[..ph * wp].fill(T::ZERO);
            dst[(ph + h) * wp..].fill(T::ZERO);
            for y in 0..h {
                let row = &mut dst[(ph + y) * wp..(ph + y + 1) * wp];
                row[..pw].fill(T::ZERO);
                row[pw..pw + w].copy_from_slice(&src[y * w..(y + 1) * w]);
                row[pw + w..].fill(T::ZERO);
            }
        }
    }

    /// Fills row `row = (c·kh + ky)·kw + kx` of the im2col matrix into `dst[..oh·ow]`, reading
    /// the *padded* image `xp` (the output of [`Im2col::pad`], or the image itself when the
    /// convolution has no padding).
    #[inline]
    pub fn padded_row<T: Element>(&self, xp: &[T], row: usize, dst: &mut [T]) {
        let g = &self.g;
        assert!(xp.len() >= self.padded_len() && dst.len() >= g.cols() && row < g.rows());
        // SAFETY: lengths checked above; `new` checked that every tap stays inside the image.
        unsafe { self.fill_row(xp.as_ptr(), row, dst.as_mut_ptr()) }
    }

    /// # Safety
    /// `xp` must hold `padded_len()` elements, `dst` `oh·ow`, and `row < rows()`.
    #[inline(always)]
    unsafe fn fill_row<T: Element>(&self, xp: *const T, row: usize, dst: *mut T) {
        let g = &self.g;
        let base = xp.add(*self.row_base.get_unchecked(row));
        if !self.offs.is_empty() {
            for (k, &o) in self.offs.iter().enumerate() {
                *dst.add(k) = *base.add(o as usize);
            }
            return;
        }
        let step = g.stride.0 * self.wp;
        for oy in 0..g.oh {
            gather(base.add(oy * step), g.stride.1, dst.add(oy * g.ow), g.ow);
        }
    }

    /// im2col of one image `x` (`[C, H, W]`, contiguous) into `cols`, row `r` starting at
    /// `cols[r·ld]` (`ld ≥ oh·ow`; elements between rows are untouched). `scratch` holds the
    /// padded copy of the image when the convolution pads (it is resized as needed, so one
    /// buffer can serve many images).
    pub fn image<T: Element>(&self, x: &[T], cols: &mut [T], ld: usize, scratch: &mut Vec<T>) {
        let g = &self.g;
        let (rows, n) = (g.rows(), g.cols());
        assert!(
            ld >= n,
            "im2col: row stride {ld} is below the row length {n}"
        );
        assert!(x.len() >= g.image_len(), "im2col: image slice too short");
        if n == 0 || rows == 0 {
            return;
        }
        assert!(
            cols.len() >= (rows - 1) * ld + n,
            "im2col: column slice too short"
        );
        let xp: &[T] = if self.is_padded() {
            scratch.resize(self.padded_len(), T::ZERO);
            self.pad(x, scratch);
            scratch
        } else {
            x
        };
        for r in 0..rows {
            // SAFETY: bounds checked above.
            unsafe { self.fill_row(xp.as_ptr(), r, cols.as_mut_ptr().add(r * ld)) }
        }
    }

    /// col2im, the adjoint of [`Im2col::image`]: adds every entry of `cols` (rows `ld` apart)
    /// into the pixel of `out` (`[C, H, W]`, contiguous) that im2col reads it from; entries
    /// that fall in the padding are dropped. `out` is accumulated into, not overwritten;
    /// `scratch` holds the padded image when the convolution pads.
    ///
    /// Each pixel receives its contributions in a fixed order (kernel tap, then output
    /// position), so the result does not depend on how callers spread images over threads.
    pub fn col2im<T: Element>(&self, cols: &[T], ld: usize, out: &mut [T], scratch: &mut Vec<T>) {
        let g = &self.g;
        let (rows, n) = (g.rows(), g.cols());
        assert!(
            ld >= n,
            "col2im: row stride {ld} is below the row length {n}"
        );
        assert!(out.len() >= g.image_len(), "col2im: image slice too short");
        if n == 0 || rows == 0 {
            return;
        }
        assert!(
            cols.len() >= (rows - 1) * ld + n,
            "col2im: column slice too short"
        );
        let padded = self.is_padded();
        let xp: &mut [T] = if padded {
            scratch.clear();
            scratch.resize(self.padded_len(), T::ZERO);
            scratch
        } else {
            out
        };
        let (hp, wp) = (self.hp, self.wp);
        let step = g.stride.0 * wp;
        for (r, &rb) in self.row_base.iter().enumerate() {
            // SAFETY: lengths checked above; every tap stays inside the padded image.
            unsafe {
                let base = xp.as_mut_ptr().add(rb);
                let src = cols.as_ptr().add(r * ld);
                if !self.offs.is_empty() {
                    for (k, &o) in self.offs.iter().enumerate() {
                        *base.add(o as usize) += *src.add(k);
                    }
                    continue;
                }
                for oy in 0..g.oh {
                    scatter_add(src.add(oy * g.ow), base.add(oy * step), g.stride.1, g.ow);
                }
            }
        }
        if padded {
            let (h, w) = (g.h, g.w);
            let (ph, pw) = g.padding;
            for c in 0..g.channels {
                for y in 0..h {
                    let s = &scratch[c * hp * wp + (ph + y) * wp + pw..][..w];
                    let d = &mut out[(c * h + y) * w..][..w];
                    for (o, &v) in d.iter_mut().zip(s) {
                        *o += v;
                    }
                }
            }
        }
    }
}

/// im2col of one image `x` (`[C, H, W]`, contiguous): writes the `C·kh·kw × oh·ow` matrix into
/// `cols`, row `r` starting at `cols[r·ld]` (`ld ≥ oh·ow`; elements between rows are untouched).
/// For many images of one geometry, make an [`Im2col`] plan once instead.
pub fn im2col<T: Element>(x: &[T], g: &ConvGeom, cols: &mut [T], ld: usize) {
    Im2col::new(g).image(x, cols, ld, &mut Vec::new())
}

/// col2im, the adjoint of [`im2col`]: adds every entry of `cols` (rows `ld` apart) into the pixel
/// of `out` (`[C, H, W]`, contiguous) that im2col would have read it from (see
/// [`Im2col::col2im`]).
pub fn col2im<T: Element>(cols: &[T], ld: usize, g: &ConvGeom, out: &mut [T]) {
    Im2col::new(g).col2im(cols, ld, out, &mut Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geom(c: usize, h: usize, w: usize, k: usize, s: usize, p: usize, d: usize) -> ConvGeom {
        ConvGeom {
            channels: c,
            h,
            w,
            kh: k,
            kw: k,
            stride: (s, s),
            padding: (p, p),
            dilation: (d, d),
            oh: ConvGeom::out_len(h, k, s, p, d).unwrap(),
            ow: ConvGeom::out_len(w, k, s, p, d).unwrap(),
        }
    }

    #[test]
    fn im2col_matches_definition() {
        for &(c, h, w, k, s, p, d) in &[
            (2, 5, 4, 3, 1, 1, 1),
            (1, 7, 6, 2, 2, 2, 2),
            (3, 4, 4, 3, 3, 0, 1),
        ] {
            let g = geom(c, h, w, k, s, p, d);
            let x: Vec<f64> = (0..g.image_len()).map(|i| i as f64 + 1.0).collect();
            let ld = g.cols() + 3;
            let mut cols = vec![-7.0; g.rows() * ld];
            im2col(&x, &g, &mut cols, ld);
            for ci in 0..c {
                for ky in 0..k {
                    for kx in 0..k {
                        let r = (ci * k + ky) * k + kx;
                        for oy in 0..g.oh {
                            for ox in 0..g.ow {
                                let iy = (oy * s + ky * d) as isize - p as isize;
                                let ix = (ox * s + kx * d) as isize - p as isize;
                                let want =
                                    if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w
                                    {
                                        x[(ci * h + iy as usize) * w + ix as usize]
                                    } else {
                                        0.0
                                    };
                                assert_eq!(cols[r * ld + oy * g.ow + ox], want);
                            }
                        }
                        assert!(cols[r * ld + g.cols()..(r + 1) * ld]
                            .iter()
                            .all(|&v| v == -7.0));
                    }
                }
            }
        }
    }

    #[test]
    fn col2im_is_adjoint_of_im2col() {
        let g = geom(2, 6, 5, 3, 2, 1, 2);
        let x: Vec<f64> = (0..g.image_len())
            .map(|i| (i as f64 * 0.37).sin())
            .collect();
        let y: Vec<f64> = (0..g.rows() * g.cols())
            .map(|i| (i as f64 * 0.11).cos())
            .collect();
        let mut cx = vec![0.0; g.rows() * g.cols()];
        im2col(&x, &g, &mut cx, g.cols());
        let mut ty = vec![0.0; g.image_len()];
        col2im(&y, g.cols(), &g, &mut ty);
        let a: f64 = cx.iter().zip(&y).map(|(a, b)| a * b).sum();
        let b: f64 = x.iter().zip(&ty).map(|(a, b)| a * b).sum();
        assert!((a - b).abs() < 1e-12 * a.abs().max(1.0));
    }
}
