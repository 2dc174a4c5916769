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

/// im2col and col2im for one [`ConvGeom`], working through a *phase buffer*.
///
/// The image is first copied, zero-padded, into `sh·sw` phase images per channel: phase
/// `(a, b)` holds the padded pixels `(i·sh + a, j·sw + b)`. Every kernel tap then reads one
/// phase image at unit stride (tap `ky` reads phase `ky·dh mod sh` from row `ky·dh div sh` on),
/// so each im2col row is `oh` contiguous runs of `ow` elements with no bounds tests, copied a
/// few elements at a time: this keeps the copies cheap on the small images of a GAN (a 7×7
/// output row is only 7 elements long) whatever the stride, padding and dilation. For stride 1
/// the phase buffer is just the padded image, and without padding the image itself.
#[derive(Clone, Debug)]
pub struct Im2col {
    g: ConvGeom,
    /// Height and width of one phase image.
    hs: usize,
    ws: usize,
    /// For every im2col row `(c, ky, kx)`, the offset in the phase buffer of the pixel it
    /// reads at output position (0, 0).
    row_base: Vec<usize>,
    /// Offsets in a channel's phases of image row `y` and column `x` (their sum is the pixel).
    y_off: Vec<usize>,
    x_off: Vec<usize>,
}

/// Copies `n` consecutive elements in fixed-size pieces (cheaper than a `memcpy` call for the
/// short runs of small images).
///
/// # Safety
/// `s` must be readable and `d` writable for `n` elements, without overlap.
#[inline(always)]
unsafe fn copy_run<T: Copy>(s: *const T, d: *mut T, n: usize) {
    if n >= 32 {
        std::ptr::copy_nonoverlapping(s, d, n);
        return;
    }
    let mut k = 0;
    while k + 8 <= n {
        std::ptr::copy_nonoverlapping(s.add(k), d.add(k), 8);
        k += 8;
    }
    if k + 4 <= n {
        std::ptr::copy_nonoverlapping(s.add(k), d.add(k), 4);
        k += 4;
    }
    if k + 2 <= n {
        std::ptr::copy_nonoverlapping(s.add(k), d.add(k), 2);
        k += 2;
    }
    if k < n {
        *d.add(k) = *s.add(k);
    }
}

/// Adds `n` consecutive elements of `s` into `d`, four at a time.
///
/// # Safety
/// `s` must be readable and `d` writable for `n` elements, without overlap.
#[inline(always)]
unsafe fn add_run<T: Element>(s: *const T, d: *mut T, n: usize) {
    let mut k = 0;
    while k + 4 <= n {
        // on local copies, so that the four adds become one vector add
        let mut a = std::ptr::read_unaligned(d.add(k) as *const [T; 4]);
        let b = std::ptr::read_unaligned(s.add(k) as *const [T; 4]);
        for j in 0..4 {
            a[j] += b[j];
        }
        std::ptr::write_unaligned(d.add(k) as *mut [T; 4], a);
        k += 4;
    }
    if k + 2 <= n {
        *d.add(k) += *s.add(k);
        *d.add(k + 1) += *s.add(k + 1);
        k += 2;
    }
    if k < n {
        *d.add(k) += *s.add(k);
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
        let (sh, sw) = g.stride;
        let hs = (g.h + 2 * g.padding.0).div_ceil(sh);
        let ws = (g.w + 2 * g.padding.1).div_ceil(sw);
        let phase = hs * ws;
        let mut row_base = Vec::with_capacity(g.rows());
        for c in 0..g.channels {
            for ky in 0..g.kh {
                let (a, qy) = ((ky * g.dilation.0) % sh, (ky * g.dilation.0) / sh);
                for kx in 0..g.kw {
                    let (b, qx) = ((kx * g.dilation.1) % sw, (kx * g.dilation.1) / sw);
                    row_base.push(((c * sh + a) * sw + b) * phase + qy * ws + qx);
                }
            }
        }
        let y_off = (0..g.h)
            .map(|y| ((y + g.padding.0) % sh) * sw * phase + ((y + g.padding.0) / sh) * ws)
            .collect();
        let x_off = (0..g.w)
            .map(|x| ((x + g.padding.1) % sw) * phase + (x + g.padding.1) / sw)
            .collect();
        Im2col {
            g: *g,
            hs,
            ws,
            row_base,
            y_off,
            x_off,
        }
    }

    /// The geometry this plan is for.
    pub fn geom(&self) -> &ConvGeom {
        &self.g
    }

    /// Whether the image is read through a phase buffer (it is padded or strided), rather
    /// than in place.
    pub fn uses_buffer(&self) -> bool {
        self.g.padding != (0, 0) || self.g.stride != (1, 1)
    }

    /// Elements of the phase buffer: `C · sh · sw · ⌈(H + 2·ph) / sh⌉ · ⌈(W + 2·pw) / sw⌉`.
    pub fn buffer_len(&self) -> usize {
        self.g.channels * self.g.stride.0 * self.g.stride.1 * self.hs * self.ws
    }

    /// Copies image `x` (`[C, H, W]`) into the phase buffer `buf` (zero padding included).
    pub fn fill_buffer<T: Element>(&self, x: &[T], buf: &mut [T]) {
        let g = &self.g;
        let (sh, sw) = g.stride;
        let (ph, pw) = g.padding;
        let (hs, ws) = (self.hs, self.ws);
        let (h, w) = (g.h, g.w);
        assert!(x.len() >= g.image_len() && buf.len() >= self.buffer_len());
        let phase = hs * ws;
        // one padded image row, widened to ws·sw so that it splits into sw phase rows
        let mut line = vec![T::ZERO; ws * sw];
        for (c, cb) in buf[..self.buffer_len()]
            .chunks_exact_mut(sh * sw * phase)
            .enumerate()
        {
            let src = &x[c * h * w..(c + 1) * h * w];
            let mut y = -(ph as isize);
            for i in 0..hs {
                for a in 0..sh {
                    let rows = &mut cb[a * sw * phase..(a + 1) * sw * phase];
                    let inside = y >= 0 && (y as usize) < h;
                    y += 1;
                    if !inside {
                        for b in 0..sw {
                            rows[b * phase + i * ws..][..ws].fill(T::ZERO);
                        }
                        continue;
                    }
                    let r = &src[(y - 1) as usize * w..][..w];
                    if sw == 1 {
                        let d = &mut rows[i * ws..][..ws];
                        d[..pw].fill(T::ZERO);
                        d[pw..pw + w].copy_from_slice(r);
                        d[pw + w..].fill(T::ZERO);
                        continue;
                    }
                    line[pw..pw + w].copy_from_slice(r);
                    if sw == 2 {
                        let (d0, d1) = rows.split_at_mut(phase);
                        let d0 = &mut d0[i * ws..][..ws];
                        let d1 = &mut d1[i * ws..][..ws];
                        let l = &line[..2 * ws];
                        // SAFETY: d0 and d1 hold ws elements, l 2·ws.
                        unsafe {
                            let (p0, p1, lp) = (d0.as_mut_ptr(), d1.as_mut_ptr(), l.as_ptr());
                            for j in 0..ws {
                                *p0.add(j) = *lp.add(2 * j);
                                *p1.add(j) = *lp.add(2 * j + 1);
                            }
                        }
                    } else {
                        for (j, ch) in line.chunks_exact(sw).enumerate() {
                            for (b, &v) in ch.iter().enumerate() {
                                rows[b * phase + i * ws + j] = v;
                            }
                        }
                    }
                }
            }
        }
    }

    /// The phase buffer of `x`: `x` itself when no buffer is needed, else `scratch` filled.
    fn source<'a, T: Element>(&self, x: &'a [T], scratch: &'a mut Vec<T>) -> &'a [T] {
        assert!(
            x.len() >= self.g.image_len(),
            "im2col: image slice too short"
        );
        if !self.uses_buffer() {
            return x;
        }
        if scratch.len() < self.buffer_len() {
            scratch.resize(self.buffer_len(), T::ZERO);
        }
        self.fill_buffer(x, scratch);
        scratch
    }

    /// im2col of one image `x` (`[C, H, W]`, contiguous) into `cols`, row `r` starting at
    /// `cols[r·ld]` (`ld ≥ oh·ow`; elements between rows are untouched). `scratch` holds the
    /// phase buffer (it is resized as needed, so one buffer can serve many images).
    pub fn image<T: Element>(&self, x: &[T], cols: &mut [T], ld: usize, scratch: &mut Vec<T>) {
        let g = &self.g;
        let (rows, n) = (g.rows(), g.cols());
        assert!(
            ld >= n,
            "im2col: row stride {ld} is below the row length {n}"
        );
        if n == 0 || rows == 0 {
            return;
        }
        assert!(
            cols.len() >= (rows - 1) * ld + n,
            "im2col: column slice too short"
        );
        let src = self.source(x, scratch);
        let (oh, ow, ws) = (g.oh, g.ow, self.ws);
        for (r, &rb) in self.row_base.iter().enumerate() {
            // SAFETY: `cols` holds row r (checked above); `new` checked that every tap at every
            // output position lies inside the phase buffer, which `source` provides.
            unsafe {
                let s = src.as_ptr().add(rb);
                let d = cols.as_mut_ptr().add(r * ld);
                for oy in 0..oh {
                    copy_run(s.add(oy * ws), d.add(oy * ow), ow);
                }
            }
        }
    }

    /// The im2col matrix of image `x` transposed, one *patch* per row: `dst[q·ld + r]` is
    /// element `r` of the patch under output position `q` (`ld ≥ rows`). The layout a product
    /// with the patches on the right (`dY · colsᵀ`) reads fastest.
    pub fn patches<T: Element>(&self, x: &[T], dst: &mut [T], ld: usize, scratch: &mut Vec<T>) {
        let g = &self.g;
        let (rows, n) = (g.rows(), g.cols());
        assert!(
            ld >= rows,
            "im2col: patch stride {ld} is below the patch length {rows}"
        );
        if n == 0 || rows == 0 {
            return;
        }
        assert!(
            dst.len() >= (n - 1) * ld + rows,
            "im2col: patch slice too short"
        );
        let src = self.source(x, scratch);
        let mut q = 0;
        for oy in 0..g.oh {
            for ox in 0..g.ow {
                let d = &mut dst[q * ld..q * ld + rows];
                // SAFETY: every tap at every output position lies inside the phase buffer
                // (checked by `new`), which `source` provides.
                unsafe {
                    let base = src.as_ptr().add(oy * self.ws + ox);
                    for (o, &rb) in d.iter_mut().zip(&self.row_base) {
                        *o = *base.add(rb);
                    }
                }
                q += 1;
            }
        }
    }

    /// col2im, the adjoint of [`Im2col::image`]: adds every entry of `cols` (rows `ld` apart)
    /// into the pixel of `out` (`[C, H, W]`, contiguous) that im2col reads it from; entries
    /// that fall in the padding are dropped. `out` is accumulated into, not overwritten;
    /// `scratch` holds the phase buffer.
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
        let buffered = self.uses_buffer();
        let acc: &mut [T] = if buffered {
            scratch.clear();
            scratch.resize(self.buffer_len(), T::ZERO);
            scratch
        } else {
            out
        };
        let (oh, ow, ws) = (g.oh, g.ow, self.ws);
        for (r, &rb) in self.row_base.iter().enumerate() {
            // SAFETY: as in `image`, with `acc` the phase buffer (or the image itself).
            unsafe {
                let d = acc.as_mut_ptr().add(rb);
                let s = cols.as_ptr().add(r * ld);
                for oy in 0..oh {
                    add_run(s.add(oy * ow), d.add(oy * ws), ow);
                }
            }
        }
        if buffered {
            // back from the phases to the image, dropping the padding
            let (h, w) = (g.h, g.w);
            let plane = g.stride.0 * g.stride.1 * self.hs * ws;
            for c in 0..g.channels {
                let ph = &scratch[c * plane..(c + 1) * plane];
                for (y, &yo) in self.y_off.iter().enumerate() {
                    let o = &mut out[(c * h + y) * w..][..w];
                    if g.stride.1 == 1 {
                        let s = &ph[yo + self.x_off[0]..][..w];
                        for (v, &a) in o.iter_mut().zip(s) {
                            *v += a;
                        }
                    } else {
                        for (v, &xo) in o.iter_mut().zip(&self.x_off) {
                            *v += ph[yo + xo];
                        }
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
            (2, 6, 7, 3, 3, 2, 1),
            (1, 5, 5, 2, 1, 0, 3),
            (2, 11, 9, 4, 2, 1, 1),
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
    fn patches_are_the_transpose() {
        for &(c, h, w, k, s, p, d) in &[
            (2, 5, 4, 3, 1, 1, 1),
            (1, 7, 6, 2, 2, 2, 2),
            (3, 4, 4, 3, 3, 0, 1),
        ] {
            let g = geom(c, h, w, k, s, p, d);
            let x: Vec<f64> = (0..g.image_len()).map(|i| i as f64 + 1.0).collect();
            let mut cols = vec![0.0; g.rows() * g.cols()];
            im2col(&x, &g, &mut cols, g.cols());
            let ld = g.rows() + 2;
            let mut pt = vec![-1.0; g.cols() * ld];
            Im2col::new(&g).patches(&x, &mut pt, ld, &mut Vec::new());
            for r in 0..g.rows() {
                for q in 0..g.cols() {
                    assert_eq!(pt[q * ld + r], cols[r * g.cols() + q]);
                }
            }
        }
    }

    #[test]
    fn col2im_matches_a_naive_scatter() {
        for &(c, h, w, k, s, p, d) in &[
            (2, 5, 4, 3, 1, 1, 1),
            (1, 7, 6, 2, 2, 2, 2),
            (3, 9, 8, 4, 2, 1, 1),
            (2, 6, 7, 3, 3, 2, 1),
            (1, 5, 5, 2, 1, 0, 3),
        ] {
            let g = geom(c, h, w, k, s, p, d);
            let ld = g.cols() + 1;
            let cols: Vec<f64> = (0..g.rows() * ld).map(|i| (i as f64 * 0.7).sin()).collect();
            let mut got = vec![0.5; g.image_len()];
            col2im(&cols, ld, &g, &mut got);
            let mut want = vec![0.5; g.image_len()];
            for ci in 0..c {
                for ky in 0..k {
                    for kx in 0..k {
                        let r = (ci * k + ky) * k + kx;
                        for oy in 0..g.oh {
                            for ox in 0..g.ow {
                                let iy = (oy * s + ky * d) as isize - p as isize;
                                let ix = (ox * s + kx * d) as isize - p as isize;
                                if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                                    want[(ci * h + iy as usize) * w + ix as usize] +=
                                        cols[r * ld + oy * g.ow + ox];
                                }
                            }
                        }
                    }
                }
            }
            for (a, b) in got.iter().zip(&want) {
                assert!((a - b).abs() < 1e-12, "{a} vs {b}");
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
