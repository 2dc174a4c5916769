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
//! of one wide matrix. The loops find, once per kernel tap, the range of output positions whose
//! input lies inside the image, so the inner loops have no bounds tests: a contiguous copy
//! (stride 1) or a strided gather, and the zero border is written once.

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

/// The output positions `o` in `0..out` whose input coordinate `o·stride + off` lies in
/// `0..len`, as a half-open range (empty when none does).
#[inline]
fn valid_range(off: isize, stride: usize, len: usize, out: usize) -> (usize, usize) {
    let s = stride as isize;
    let lo = if off >= 0 { 0 } else { ((-off) + s - 1) / s };
    let hi = if (len as isize) <= off {
        0
    } else {
        ((len as isize - off + s - 1) / s) as usize
    };
    let lo = (lo as usize).min(out);
    let hi = hi.min(out);
    (lo, hi.max(lo))
}

/// The input offset of kernel tap `k` along one axis: `k·dilation − padding`.
#[inline]
fn tap_offset(k: usize, dilation: usize, padding: usize) -> isize {
    (k * dilation) as isize - padding as isize
}

/// Fills row `row = (c·kh + ky)·kw + kx` of the im2col matrix of image `x` (`[C, H, W]`,
/// contiguous) into `dst` (length `oh·ow`).
#[inline]
pub fn im2col_row<T: Element>(x: &[T], g: &ConvGeom, row: usize, dst: &mut [T]) {
    let (oh, ow) = (g.oh, g.ow);
    let dst = &mut dst[..oh * ow];
    let kx = row % g.kw;
    let ky = (row / g.kw) % g.kh;
    let c = row / (g.kw * g.kh);
    let (sh, sw) = g.stride;
    let offy = tap_offset(ky, g.dilation.0, g.padding.0);
    let offx = tap_offset(kx, g.dilation.1, g.padding.1);
    let (y0, y1) = valid_range(offy, sh, g.h, oh);
    let (x0, x1) = valid_range(offx, sw, g.w, ow);
    let plane = &x[c * g.h * g.w..(c + 1) * g.h * g.w];
    dst[..y0 * ow].fill(T::ZERO);
    dst[y1 * ow..].fill(T::ZERO);
    if x1 == x0 {
        dst[y0 * ow..y1 * ow].fill(T::ZERO);
        return;
    }
    for oy in y0..y1 {
        let iy = (oy * sh) as isize + offy;
        let src = &plane[iy as usize * g.w..(iy as usize + 1) * g.w];
        let d = &mut dst[oy * ow..(oy + 1) * ow];
        d[..x0].fill(T::ZERO);
        d[x1..].fill(T::ZERO);
        let ix0 = (x0 * sw) as isize + offx;
        let ix0 = ix0 as usize;
        let d = &mut d[x0..x1];
        if sw == 1 {
            d.copy_from_slice(&src[ix0..ix0 + d.len()]);
        } else {
            for (j, v) in d.iter_mut().enumerate() {
                *v = src[ix0 + j * sw];
            }
        }
    }
}

/// im2col of one image `x` (`[C, H, W]`, contiguous): writes the `C·kh·kw × oh·ow` matrix into
/// `cols`, row `r` starting at `cols[r·ld]` (`ld ≥ oh·ow`; elements between rows are untouched).
pub fn im2col<T: Element>(x: &[T], g: &ConvGeom, cols: &mut [T], ld: usize) {
    let n = g.cols();
    assert!(
        ld >= n,
        "im2col: row stride {ld} is below the row length {n}"
    );
    assert!(x.len() >= g.image_len(), "im2col: image slice too short");
    if n == 0 {
        return;
    }
    for r in 0..g.rows() {
        im2col_row(x, g, r, &mut cols[r * ld..r * ld + n]);
    }
}

/// col2im, the adjoint of [`im2col`]: adds every entry of `cols` (rows `ld` apart) into the pixel
/// of `out` (`[C, H, W]`, contiguous) that im2col would have read it from. Entries that fall in
/// the padding are dropped. `out` is accumulated into, not overwritten.
///
/// Each pixel receives its contributions in a fixed order (channel, then kernel tap, then output
/// position), so the result does not depend on how callers spread images over threads.
pub fn col2im<T: Element>(cols: &[T], ld: usize, g: &ConvGeom, out: &mut [T]) {
    let n = g.cols();
    assert!(
        ld >= n,
        "col2im: row stride {ld} is below the row length {n}"
    );
    assert!(out.len() >= g.image_len(), "col2im: image slice too short");
    if n == 0 {
        return;
    }
    let (sh, sw) = g.stride;
    let (oh, ow) = (g.oh, g.ow);
    let mut row = 0;
    for c in 0..g.channels {
        let plane = &mut out[c * g.h * g.w..(c + 1) * g.h * g.w];
        for ky in 0..g.kh {
            let offy = tap_offset(ky, g.dilation.0, g.padding.0);
            let (y0, y1) = valid_range(offy, sh, g.h, oh);
            for kx in 0..g.kw {
                let offx = tap_offset(kx, g.dilation.1, g.padding.1);
                let (x0, x1) = valid_range(offx, sw, g.w, ow);
                let src = &cols[row * ld..row * ld + n];
                row += 1;
                if x1 == x0 {
                    continue;
                }
                let ix0 = ((x0 * sw) as isize + offx) as usize;
                for oy in y0..y1 {
                    let iy = ((oy * sh) as isize + offy) as usize;
                    let s = &src[oy * ow + x0..oy * ow + x1];
                    let d = &mut plane[iy * g.w..(iy + 1) * g.w];
                    if sw == 1 {
                        for (o, &v) in d[ix0..ix0 + s.len()].iter_mut().zip(s) {
                            *o += v;
                        }
                    } else {
                        for (j, &v) in s.iter().enumerate() {
                            d[ix0 + j * sw] += v;
                        }
                    }
                }
            }
        }
    }
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
