//! A PNG encoder, image grids and 2-D scatter plots.
//!
//! # The encoder
//!
//! A PNG file is the 8-byte signature `89 50 4E 47 0D 0A 1A 0A` followed by chunks, each a
//! big-endian length, a 4-letter type, the data, and a CRC-32 of type and data. We write three:
//! `IHDR` (width, height, bit depth 8, colour type 0 = grayscale or 2 = RGB, no interlace),
//! one `IDAT` holding the zlib stream of the scanlines (each row prefixed by filter byte 0,
//! "None"), and `IEND`.
//!
//! The zlib stream (RFC 1950) is a 2-byte header, deflate data (RFC 1951) and the Adler-32 of
//! the uncompressed bytes. [`Compression::Fixed`] (the default) compresses with LZ77 (greedy
//! matching on 3-byte hash chains, 32 KiB window) and deflate's fixed Huffman codes — plots
//! and upscaled sample grids have long runs and repeated rows, so they shrink 10–50×.
//! [`Compression::Stored`] writes uncompressed deflate blocks (at most 65,535 bytes each),
//! which any decoder reads and which is easy to check by hand.

use super::svg::{ColorBar, ImageAxes, LegendEntry, Mark};
use super::{nice_ticks, write_atomic};
use std::io;
use std::path::Path;
use tensor::Tensor;

// ---------------------------------------------------------------- checksums

const fn crc_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[n] = c;
        n += 1;
    }
    t
}

static CRC_TABLE: [u32; 256] = crc_table();

/// The CRC-32 of `bytes` (ISO-HDLC, reflected polynomial 0xEDB88320, as PNG and zlib use):
/// `crc32(b"123456789") == 0xCBF43926`.
pub fn crc32(bytes: &[u8]) -> u32 {
    crc32_update(0, bytes)
}

/// Continues a CRC-32: `crc32_update(crc32(a), b) == crc32(a ++ b)`.
pub fn crc32_update(crc: u32, bytes: &[u8]) -> u32 {
    let mut c = !crc;
    for &b in bytes {
        c = CRC_TABLE[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

/// The Adler-32 checksum of `bytes` (RFC 1950): `adler32(b"Wikipedia") == 0x11E60398`.
pub fn adler32(bytes: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 is the largest n with 255·n(n+1)/2 + (n+1)(MOD−1) < 2³²: reduce once per block.
    for chunk in bytes.chunks(5552) {
        for &x in chunk {
            a += x as u32;
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

// ---------------------------------------------------------------- deflate

/// How the zlib stream inside a PNG is compressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Compression {
    /// Uncompressed ("stored") deflate blocks.
    Stored,
    /// LZ77 with deflate's fixed Huffman codes.
    #[default]
    Fixed,
}

/// Packs bits least-significant first, as deflate requires.
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    fn new(out: Vec<u8>) -> BitWriter {
        BitWriter { out, acc: 0, n: 0 }
    }
    /// Writes the `n` low bits of `v`, least-significant first.
    fn bits(&mut self, v: u32, n: u32) {
        self.acc |= (v as u64) << self.n;
        self.n += n;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }
    /// Writes a Huffman code, which deflate stores most-significant bit first.
    fn code(&mut self, code: u32, len: u32) {
        let rev = code.reverse_bits() >> (32 - len);
        self.bits(rev, len);
    }
    /// Pads with zero bits to a byte boundary.
    fn align(&mut self) {
        if self.n > 0 {
            self.out.push(self.acc as u8);
            self.acc = 0;
            self.n = 0;
        }
    }
    fn finish(mut self) -> Vec<u8> {
        self.align();
        self.out
    }
}

const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// Writes literal/length symbol `sym` (0..=287) with the fixed Huffman code of RFC 1951 §3.2.6.
fn fixed_symbol(w: &mut BitWriter, sym: u32) {
    match sym {
        0..=143 => w.code(0x30 + sym, 8),
        144..=255 => w.code(0x190 + sym - 144, 9),
        256..=279 => w.code(sym - 256, 7),
        _ => w.code(0xC0 + sym - 280, 8),
    }
}

fn fixed_match(w: &mut BitWriter, len: usize, dist: usize) {
    let li = LEN_BASE.iter().rposition(|&b| b as usize <= len).unwrap();
    fixed_symbol(w, 257 + li as u32);
    w.bits((len - LEN_BASE[li] as usize) as u32, LEN_EXTRA[li] as u32);
    let di = DIST_BASE.iter().rposition(|&b| b as usize <= dist).unwrap();
    w.code(di as u32, 5);
    w.bits(
        (dist - DIST_BASE[di] as usize) as u32,
        DIST_EXTRA[di] as u32,
    );
}

const WINDOW: usize = 32_768;
const MAX_MATCH: usize = 258;
const MIN_MATCH: usize = 3;
const HASH_BITS: u32 = 15;
const MAX_CHAIN: usize = 48;

fn hash3(d: &[u8], i: usize) -> usize {
    let v = (d[i] as u32) << 16 | (d[i + 1] as u32) << 8 | d[i + 2] as u32;
    (v.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
}

/// One final fixed-Huffman block holding all of `data`.
fn deflate_fixed(data: &[u8], w: &mut BitWriter) {
    w.bits(1, 1); // BFINAL
    w.bits(1, 2); // BTYPE = 01, fixed Huffman
    let n = data.len();
    let mut head = vec![u32::MAX; 1 << HASH_BITS];
    let mut prev = vec![u32::MAX; n];
    let insert = |head: &mut Vec<u32>, prev: &mut Vec<u32>, i: usize| {
        if i + MIN_MATCH <= n {
            let h = hash3(data, i);
            prev[i] = head[h];
            head[h] = i as u32;
        }
    };
    let mut i = 0;
    while i < n {
        let mut best_len = 0;
        let mut best_dist = 0;
        if i + MIN_MATCH <= n {
            let max_len = MAX_MATCH.min(n - i);
            let mut cand = head[hash3(data, i)];
            let mut chain = 0;
            while cand != u32::MAX && chain < MAX_CHAIN {
                let c = cand as usize;
                if i - c > WINDOW {
                    break;
                }
                if data[c + best_len.min(max_len - 1)] == data[i + best_len.min(max_len - 1)] {
                    let mut l = 0;
                    while l < max_len && data[c + l] == data[i + l] {
                        l += 1;
                    }
                    if l > best_len {
                        best_len = l;
                        best_dist = i - c;
                        if l == max_len {
                            break;
                        }
                    }
                }
                cand = prev[c];
                chain += 1;
            }
        }
        if best_len >= MIN_MATCH {
            fixed_match(w, best_len, best_dist);
            for k in i..i + best_len {
                insert(&mut head, &mut prev, k);
            }
            i += best_len;
        } else {
            fixed_symbol(w, data[i] as u32);
            insert(&mut head, &mut prev, i);
            i += 1;
        }
    }
    fixed_symbol(w, 256); // end of block
}

/// Stored blocks of at most 65,535 bytes; the last one is final (an empty input gives one
/// empty final block).
fn deflate_stored(data: &[u8], w: &mut BitWriter) {
    let mut chunks: Vec<&[u8]> = data.chunks(65_535).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let last = chunks.len() - 1;
    for (k, c) in chunks.into_iter().enumerate() {
        w.bits((k == last) as u32, 1);
        w.bits(0, 2); // BTYPE = 00, stored
        w.align();
        let len = c.len() as u16;
        w.out.extend_from_slice(&len.to_le_bytes());
        w.out.extend_from_slice(&(!len).to_le_bytes());
        w.out.extend_from_slice(c);
    }
}

/// A zlib stream (RFC 1950) of `data`: header `78 01`, deflate data, big-endian Adler-32.
pub fn zlib_compress(data: &[u8], compression: Compression) -> Vec<u8> {
    // CMF 0x78: deflate with a 32 KiB window; FLG 0x01 makes (CMF·256 + FLG) a multiple of 31.
    let mut w = BitWriter::new(vec![0x78, 0x01]);
    match compression {
        Compression::Stored => deflate_stored(data, &mut w),
        Compression::Fixed => deflate_fixed(data, &mut w),
    }
    let mut out = w.finish();
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

// ---------------------------------------------------------------- PNG

fn check_args(width: usize, height: usize, channels: usize, len: usize) -> Result<(), String> {
    if channels != 1 && channels != 3 {
        return Err(format!(
            "PNG: {channels} channels; only 1 (grayscale) and 3 (RGB) are supported"
        ));
    }
    if width == 0 || height == 0 || width > u32::MAX as usize / 4 || height > u32::MAX as usize / 4
    {
        return Err(format!("PNG: invalid size {width} × {height}"));
    }
    if len != width * height * channels {
        return Err(format!(
            "PNG: {len} bytes given for {width} × {height} × {channels} = {} expected",
            width * height * channels
        ));
    }
    Ok(())
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// Encodes 8-bit pixels as a PNG file with [`Compression::Fixed`]. `pixels` is row-major,
/// top row first, `channels` bytes per pixel: 1 = grayscale, 3 = RGB.
///
/// Panics if `channels` is not 1 or 3, a size is 0, or `pixels.len() != width·height·channels`.
#[track_caller]
pub fn encode_png(width: usize, height: usize, channels: usize, pixels: &[u8]) -> Vec<u8> {
    encode_png_with(width, height, channels, pixels, Compression::Fixed)
}

/// [`encode_png`] with a choice of [`Compression`].
#[track_caller]
pub fn encode_png_with(
    width: usize,
    height: usize,
    channels: usize,
    pixels: &[u8],
    compression: Compression,
) -> Vec<u8> {
    if let Err(e) = check_args(width, height, channels, pixels.len()) {
        panic!("{e}");
    }
    let stride = width * channels;
    let mut raw = Vec::with_capacity(height * (stride + 1));
    for row in pixels.chunks_exact(stride) {
        raw.push(0); // filter type 0: None
        raw.extend_from_slice(row);
    }
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&(width as u32).to_be_bytes());
    ihdr.extend_from_slice(&(height as u32).to_be_bytes());
    ihdr.push(8); // bit depth
    ihdr.push(if channels == 1 { 0 } else { 2 }); // colour type
    ihdr.extend_from_slice(&[0, 0, 0]); // compression, filter method, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib_compress(&raw, compression));
    chunk(&mut out, b"IEND", &[]);
    out
}

/// Writes a PNG file (see [`encode_png`]) through a temporary file renamed over `path`.
/// Invalid arguments give an `InvalidInput` error instead of a panic.
pub fn write_png(
    path: impl AsRef<Path>,
    width: usize,
    height: usize,
    channels: usize,
    pixels: &[u8],
) -> io::Result<()> {
    check_args(width, height, channels, pixels.len())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    write_atomic(path.as_ref(), &encode_png(width, height, channels, pixels))
}

/// An 8-bit image: `height` rows of `width` pixels of `channels` bytes (1 = gray, 3 = RGB),
/// top row first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Bytes per pixel: 1 (grayscale) or 3 (RGB).
    pub channels: usize,
    /// Row-major pixel bytes, `width · height · channels` of them.
    pub pixels: Vec<u8>,
}

impl Image {
    /// The image as PNG bytes.
    pub fn to_png(&self) -> Vec<u8> {
        encode_png(self.width, self.height, self.channels, &self.pixels)
    }

    /// Writes the image as a PNG file (temporary file + rename).
    pub fn write_png(&self, path: impl AsRef<Path>) -> io::Result<()> {
        write_png(path, self.width, self.height, self.channels, &self.pixels)
    }

    /// The bytes of pixel `(x, y)` (`channels` of them).
    pub fn pixel(&self, x: usize, y: usize) -> &[u8] {
        let o = (y * self.width + x) * self.channels;
        &self.pixels[o..o + self.channels]
    }
}

// ---------------------------------------------------------------- image grids

/// Gray level of the padding between grid cells.
pub const GRID_PAD_VALUE: u8 = 128;

/// Tiles images `[N, C, H, W]` (C = 1 or 3) with values in [−1, 1] — the range of a `tanh`
/// generator and of [`crate::data::Digits`] — into one image, like torchvision's `make_grid`:
/// `cols` per row (fewer if N < cols), `pad` pixels of mid-gray ([`GRID_PAD_VALUE`]) around and
/// between cells, each pixel repeated `upscale × upscale` times (nearest neighbour, so 8×8
/// digits stay crisp). Values are mapped linearly −1 → 0, 1 → 255, clamped; NaN becomes 0.
/// For images in [0, 1] use [`image_grid_range`] with `(0.0, 1.0)`.
///
/// The output is `cols·W·upscale + (cols + 1)·pad` wide and
/// `rows·H·upscale + (rows + 1)·pad` high, rows = ⌈N / cols⌉; cells are filled row by row.
///
/// Panics unless `images` is 4-D with C ∈ {1, 3} and N ≥ 1, and `cols`, `upscale` ≥ 1.
#[track_caller]
pub fn image_grid(images: &Tensor, cols: usize, pad: usize, upscale: usize) -> Image {
    image_grid_range(images, (-1.0, 1.0), cols, pad, upscale)
}

/// [`image_grid`] for values in `range = (lo, hi)`: lo → 0, hi → 255.
#[track_caller]
pub fn image_grid_range(
    images: &Tensor,
    range: (f64, f64),
    cols: usize,
    pad: usize,
    upscale: usize,
) -> Image {
    let d = images.dims();
    assert!(
        d.len() == 4 && (d[1] == 1 || d[1] == 3) && d[0] >= 1 && d[2] >= 1 && d[3] >= 1,
        "image_grid: images must be [N, C, H, W] with C = 1 or 3 and N >= 1, got {d:?}"
    );
    assert!(
        cols >= 1 && upscale >= 1,
        "image_grid: cols and upscale must be >= 1"
    );
    let (lo, hi) = range;
    assert!(hi > lo, "image_grid: empty value range ({lo}, {hi})");
    let (n, c, h, w) = (d[0], d[1], d[2], d[3]);
    let cols = cols.min(n);
    let rows = n.div_ceil(cols);
    let (cw, ch) = (w * upscale, h * upscale);
    let width = cols * cw + (cols + 1) * pad;
    let height = rows * ch + (rows + 1) * pad;
    let mut pixels = vec![GRID_PAD_VALUE; width * height * c];
    let v = images.to_vec_f32();
    let to_byte = |x: f32| -> u8 {
        let t = (x as f64 - lo) / (hi - lo);
        if t.is_nan() {
            0
        } else {
            (t.clamp(0.0, 1.0) * 255.0).round() as u8
        }
    };
    for k in 0..n {
        let (gr, gc) = (k / cols, k % cols);
        let (ox, oy) = (pad + gc * (cw + pad), pad + gr * (ch + pad));
        for y in 0..ch {
            for x in 0..cw {
                let (sy, sx) = (y / upscale, x / upscale);
                let o = ((oy + y) * width + ox + x) * c;
                for ch_i in 0..c {
                    pixels[o + ch_i] = to_byte(v[((k * c + ch_i) * h + sy) * w + sx]);
                }
            }
        }
    }
    Image {
        width,
        height,
        channels: c,
        pixels,
    }
}

// ---------------------------------------------------------------- scatter plots

/// Colour of real samples in a scatter plot (blue).
pub const REAL_COLOR: [u8; 3] = [31, 119, 180];
/// Colour of generated samples in a scatter plot (orange-red).
pub const FAKE_COLOR: [u8; 3] = [230, 85, 13];
/// Opacity of the sample discs of a scatter plot.
pub const DOT_OPACITY: f64 = 0.6;
/// The surface colour of D(x) = 0 ("fake"): light orange.
pub const SURFACE_FAKE: [u8; 3] = [253, 208, 162];
/// The surface colour of D(x) = 1 ("real"): light blue. D(x) = ½ is white.
pub const SURFACE_REAL: [u8; 3] = [158, 202, 225];

/// `#rrggbb` for an RGB colour.
pub fn css_color(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// A 2-D scatter plot rasterised to an RGB [`Image`]: generated and real samples as dots over an
/// optional background showing a discriminator's output D(x) on the plane.
///
/// ```
/// use minimax_gan::report::png::ScatterPlot;
/// use tensor::Tensor;
/// let fake = Tensor::from_vec(vec![0.5f32, 0.5, -0.5, 0.2], [2, 2]);
/// let plot = ScatterPlot::new(200, 200, (-1.5, 1.5), (-1.5, 1.5));
/// // Evaluate D at the cell centres it asks for, then hand the values back.
/// let grid = plot.surface_points(32, 32); // [32·32, 2]
/// let d: Vec<f64> = grid.to_vec_f64().chunks(2).map(|p| if p[0] > 0.0 { 0.9 } else { 0.1 }).collect();
/// let img = plot.surface(&d, 32, 32).fake(&fake).render();
/// assert_eq!((img.width, img.height, img.channels), (200, 200, 3));
/// ```
///
/// Conventions: x grows to the right, y upwards; the plot maps `x_range × y_range` onto the
/// whole image (pixel centres at data coordinates given by [`ScatterPlot::to_data`]). The
/// background is white with light-gray grid lines at "nice" tick positions and darker axes
/// through 0. Samples are discs of radius 1.6 px blended at 60 % opacity, drawn in the order the
/// layers were added, so put the real data first. Non-finite and out-of-range points are skipped.
#[derive(Debug, Clone)]
pub struct ScatterPlot {
    width: usize,
    height: usize,
    x_range: (f64, f64),
    y_range: (f64, f64),
    layers: Vec<(Vec<[f64; 2]>, [u8; 3])>,
    surface: Option<Surface>,
    radius: f64,
    /// Colour bands of the surface (0: a continuous scale).
    levels: usize,
}

#[derive(Debug, Clone)]
struct Surface {
    values: Vec<f64>,
    nx: usize,
    ny: usize,
    lo: f64,
    hi: f64,
}

/// `t` in [0, 1] moved to the middle of its band of `levels` equal bands (`t` itself for 0).
pub fn quantize(t: f64, levels: usize) -> f64 {
    if levels == 0 {
        return t;
    }
    let n = levels as f64;
    ((t * n).floor().min(n - 1.0) + 0.5) / n
}

/// `plot` (RGB) on a white canvas with room around it for labels, drawn with the 5×7 font
/// at twice its size: each `(pixel, text)` of `xticks` centred under the plot at that column,
/// each of `yticks` right-aligned left of it at that row (ticks outside the plot are left out),
/// and above the plot a legend, a disc of each colour followed by its label, with `note` on the
/// line under it. What a standalone PNG needs to be read without the report around it.
pub fn labelled_frame(
    plot: &Image,
    xticks: &[(f64, String)],
    yticks: &[(f64, String)],
    legend: &[(&str, [u8; 3])],
    note: &str,
) -> Image {
    use super::font::{draw_text, text_width, GLYPH_H};
    const S: usize = 2;
    assert_eq!(plot.channels, 3, "labelled_frame: an RGB plot");
    let th = GLYPH_H * S;
    let inside = |p: f64, len: usize| (0.0..=len as f64).contains(&p);
    let left = yticks
        .iter()
        .filter(|(p, _)| inside(*p, plot.height))
        .map(|(_, l)| text_width(l, S))
        .max()
        .unwrap_or(0)
        + 10;
    let (top, bottom) = (2 * (th + 6) + 6, th + 12);
    let (w, h) = (left + plot.width + 12, top + plot.height + bottom);
    let mut im = Image {
        width: w,
        height: h,
        channels: 3,
        pixels: vec![255; w * h * 3],
    };
    for y in 0..plot.height {
        let src = &plot.pixels[y * plot.width * 3..(y + 1) * plot.width * 3];
        let o = ((top + y) * w + left) * 3;
        im.pixels[o..o + src.len()].copy_from_slice(src);
    }
    let ink = [40, 40, 40];
    for (p, l) in yticks.iter().filter(|(p, _)| inside(*p, plot.height)) {
        let y = ((top as f64 + p) as usize)
            .saturating_sub(th / 2)
            .min(h - th);
        draw_text(&mut im, (left - 6 - text_width(l, S), y), l, ink, S);
    }
    for (p, l) in xticks.iter().filter(|(p, _)| inside(*p, plot.width)) {
        let x = ((left as f64 + p) as usize).saturating_sub(text_width(l, S) / 2);
        let x = x.min(w.saturating_sub(text_width(l, S)));
        draw_text(&mut im, (x, top + plot.height + 6), l, ink, S);
    }
    let mut x = left;
    let r = (th / 2) as isize;
    for (label, color) in legend {
        let (cx, cy) = (x as isize + r, 4 + r);
        for dy in -r..=r {
            for dx in -r..=r {
                // (clipped at the right edge: a legend wider than the picture is cut off)
                if dx * dx + dy * dy <= r * r && ((cx + dx) as usize) < w {
                    let o = (((cy + dy) as usize) * w + (cx + dx) as usize) * 3;
                    im.pixels[o..o + 3].copy_from_slice(color);
                }
            }
        }
        x += 2 * r as usize + 6;
        draw_text(&mut im, (x, 4), label, ink, S);
        x += text_width(label, S) + 20;
    }
    draw_text(&mut im, (left, 4 + th + 6), note, ink, S);
    im
}

fn tensor_points(samples: &Tensor) -> Vec<[f64; 2]> {
    assert!(
        samples.ndim() == 2 && samples.dims()[1] == 2,
        "ScatterPlot: samples must be [N, 2], got {:?}",
        samples.dims()
    );
    samples
        .to_vec_f64()
        .chunks_exact(2)
        .map(|p| [p[0], p[1]])
        .collect()
}

impl ScatterPlot {
    /// An empty plot of `width × height` pixels showing `x_range × y_range`.
    ///
    /// Panics if a size is 0 or a range is empty or not finite.
    #[track_caller]
    pub fn new(width: usize, height: usize, x_range: (f64, f64), y_range: (f64, f64)) -> Self {
        assert!(
            width > 0 && height > 0,
            "ScatterPlot: size must be positive"
        );
        for (lo, hi) in [x_range, y_range] {
            assert!(
                lo.is_finite() && hi.is_finite() && lo < hi,
                "ScatterPlot: invalid range ({lo}, {hi})"
            );
        }
        ScatterPlot {
            width,
            height,
            x_range,
            y_range,
            layers: Vec::new(),
            surface: None,
            radius: 1.6,
            levels: 0,
        }
    }

    /// A plot whose ranges cover every finite point of `samples` (each `[N, 2]`) with a 10 %
    /// margin, with the same scale on both axes (the shorter range is widened about its centre),
    /// so a ring stays round.
    #[track_caller]
    pub fn fit(width: usize, height: usize, samples: &[&Tensor]) -> Self {
        let (mut x0, mut x1, mut y0, mut y1) =
            (f64::INFINITY, -f64::INFINITY, f64::INFINITY, -f64::INFINITY);
        for s in samples {
            for p in tensor_points(s) {
                if p[0].is_finite() && p[1].is_finite() {
                    x0 = x0.min(p[0]);
                    x1 = x1.max(p[0]);
                    y0 = y0.min(p[1]);
                    y1 = y1.max(p[1]);
                }
            }
        }
        if x0 > x1 {
            (x0, x1, y0, y1) = (-1.0, 1.0, -1.0, 1.0);
        }
        let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let mut hw = ((x1 - x0) / 2.0 * 1.1).max(1e-6);
        let mut hh = ((y1 - y0) / 2.0 * 1.1).max(1e-6);
        let aspect = width as f64 / height as f64;
        if hw / hh < aspect {
            hw = hh * aspect;
        } else {
            hh = hw / aspect;
        }
        ScatterPlot::new(width, height, (cx - hw, cx + hw), (cy - hh, cy + hh))
    }

    /// Adds samples `[N, 2]` drawn in `color`.
    #[track_caller]
    pub fn points(mut self, samples: &Tensor, color: [u8; 3]) -> Self {
        self.layers.push((tensor_points(samples), color));
        self
    }

    /// Adds real samples `[N, 2]` in [`REAL_COLOR`].
    #[track_caller]
    pub fn real(self, samples: &Tensor) -> Self {
        self.points(samples, REAL_COLOR)
    }

    /// Adds generated samples `[N, 2]` in [`FAKE_COLOR`].
    #[track_caller]
    pub fn fake(self, samples: &Tensor) -> Self {
        self.points(samples, FAKE_COLOR)
    }

    /// Sets the disc radius of samples in pixels (default 1.6).
    pub fn radius(mut self, r: f64) -> Self {
        self.radius = r.max(0.5);
        self
    }

    /// Draws the surface in `n` bands of equal width instead of a continuous scale (0 for
    /// continuous, the default): contour-like bands whose value the colour bar reads off, and
    /// a picture that compresses several times smaller.
    pub fn levels(mut self, n: usize) -> Self {
        self.levels = n;
        self
    }

    /// The x range shown, `(lo, hi)`.
    pub fn x_range(&self) -> (f64, f64) {
        self.x_range
    }

    /// The y range shown, `(lo, hi)`.
    pub fn y_range(&self) -> (f64, f64) {
        self.y_range
    }

    /// The axes to draw around this plot's picture ([`ImageAxes`]): its ranges, ticks where
    /// its grid lines are, and the title; add labels and a legend ([`ScatterPlot::legend_dot`])
    /// to them.
    pub fn axes(&self, title: impl Into<String>) -> ImageAxes {
        ImageAxes::new(title, self.width, self.height, self.x_range, self.y_range).tick_target(8)
    }

    /// A legend entry for samples drawn in `color`, as the plot draws them.
    pub fn legend_dot(label: impl Into<String>, color: [u8; 3]) -> LegendEntry {
        LegendEntry {
            label: label.into(),
            mark: Mark::Dot {
                color: css_color(color),
                opacity: DOT_OPACITY,
            },
        }
    }

    /// The colour bar of this plot's surface colours for values `range = (lo, hi)` (as given
    /// to [`ScatterPlot::surface_with_range`]; `(0, 1)` for [`ScatterPlot::surface`]), in its
    /// bands ([`ScatterPlot::levels`]), labelled `label`.
    pub fn surface_color_bar(&self, label: impl Into<String>, range: (f64, f64)) -> ColorBar {
        ColorBar {
            label: label.into(),
            range,
            stops: vec![
                (0.0, SURFACE_FAKE),
                (0.5, [255, 255, 255]),
                (1.0, SURFACE_REAL),
            ],
            levels: self.levels,
        }
    }

    /// The centres of an `nx × ny` grid of cells covering the plot, as an f32 tensor
    /// `[nx·ny, 2]`: row `j·nx + i` is cell column `i` (left to right) of cell row `j` (top to
    /// bottom, i.e. decreasing y). Evaluate D on them and pass the values to
    /// [`ScatterPlot::surface`] in the same order.
    pub fn surface_points(&self, nx: usize, ny: usize) -> Tensor {
        let (x0, x1) = self.x_range;
        let (y0, y1) = self.y_range;
        let mut v = Vec::with_capacity(nx * ny * 2);
        for j in 0..ny {
            for i in 0..nx {
                v.push((x0 + (i as f64 + 0.5) / nx as f64 * (x1 - x0)) as f32);
                v.push((y1 - (j as f64 + 0.5) / ny as f64 * (y1 - y0)) as f32);
            }
        }
        Tensor::from_vec(v, [nx * ny, 2])
    }

    /// A background from discriminator outputs in [0, 1] (probabilities D(x), not logits) at
    /// the cell centres of [`ScatterPlot::surface_points`]`(nx, ny)`, interpolated bilinearly:
    /// 0 ("fake") is light orange, ½ white, 1 ("real") light blue.
    #[track_caller]
    pub fn surface(self, values: &[f64], nx: usize, ny: usize) -> Self {
        self.surface_with_range(values, nx, ny, (0.0, 1.0))
    }

    /// [`ScatterPlot::surface`] for values in `range = (lo, hi)` (a critic's raw scores, say):
    /// lo is shown as 0 and hi as 1, values outside are clamped.
    #[track_caller]
    pub fn surface_with_range(
        mut self,
        values: &[f64],
        nx: usize,
        ny: usize,
        range: (f64, f64),
    ) -> Self {
        assert!(
            nx >= 1 && ny >= 1 && values.len() == nx * ny,
            "ScatterPlot::surface: {} values for a {nx} × {ny} grid",
            values.len()
        );
        assert!(
            range.1 > range.0,
            "ScatterPlot::surface: empty range {range:?}"
        );
        self.surface = Some(Surface {
            values: values.to_vec(),
            nx,
            ny,
            lo: range.0,
            hi: range.1,
        });
        self
    }

    /// Data coordinates of the centre of pixel `(px, py)` (py = 0 is the top row).
    pub fn to_data(&self, px: usize, py: usize) -> (f64, f64) {
        let (x0, x1) = self.x_range;
        let (y0, y1) = self.y_range;
        (
            x0 + (px as f64 + 0.5) / self.width as f64 * (x1 - x0),
            y1 - (py as f64 + 0.5) / self.height as f64 * (y1 - y0),
        )
    }

    /// Continuous pixel coordinates of the data point `(x, y)`: pixel `(px, py)` covers
    /// `[px, px + 1) × [py, py + 1)`.
    pub fn to_pixel(&self, x: f64, y: f64) -> (f64, f64) {
        let (x0, x1) = self.x_range;
        let (y0, y1) = self.y_range;
        (
            (x - x0) / (x1 - x0) * self.width as f64,
            (y1 - y) / (y1 - y0) * self.height as f64,
        )
    }

    fn surface_color(&self, s: &Surface, px: usize, py: usize) -> [f64; 3] {
        let (x, y) = self.to_data(px, py);
        let (x0, x1) = self.x_range;
        let (y0, y1) = self.y_range;
        let u = ((x - x0) / (x1 - x0) * s.nx as f64 - 0.5).clamp(0.0, (s.nx - 1) as f64);
        let v = ((y1 - y) / (y1 - y0) * s.ny as f64 - 0.5).clamp(0.0, (s.ny - 1) as f64);
        let (i0, j0) = (u.floor() as usize, v.floor() as usize);
        let (i1, j1) = ((i0 + 1).min(s.nx - 1), (j0 + 1).min(s.ny - 1));
        let (fu, fv) = (u - i0 as f64, v - j0 as f64);
        let at = |i: usize, j: usize| {
            let t = (s.values[j * s.nx + i] - s.lo) / (s.hi - s.lo);
            if t.is_nan() {
                0.5
            } else {
                t.clamp(0.0, 1.0)
            }
        };
        let t = (1.0 - fv) * ((1.0 - fu) * at(i0, j0) + fu * at(i1, j0))
            + fv * ((1.0 - fu) * at(i0, j1) + fu * at(i1, j1));
        let t = quantize(t, self.levels);
        // Diverging map: 0 → light orange, ½ → white, 1 → light blue.
        let fake = SURFACE_FAKE.map(|v| v as f64);
        let real = SURFACE_REAL.map(|v| v as f64);
        let (end, a) = if t < 0.5 {
            (fake, 1.0 - 2.0 * t)
        } else {
            (real, 2.0 * t - 1.0)
        };
        [0, 1, 2].map(|k| 255.0 + a * (end[k] - 255.0))
    }

    /// [`ScatterPlot::render`] framed for a standalone file by [`labelled_frame`]: tick values
    /// along the left and bottom edges, a legend of `(label, colour)` discs and a `note` above.
    pub fn render_labelled(&self, legend: &[(&str, [u8; 3])], note: &str) -> Image {
        let ticks = |lo: f64, hi: f64, at: &dyn Fn(f64) -> f64| -> Vec<(f64, String)> {
            let (step, t) = super::nice_ticks(lo, hi, 8);
            t.iter()
                .map(|&v| (at(v), super::format_tick(v, step)))
                .collect()
        };
        let xt = ticks(self.x_range.0, self.x_range.1, &|v| self.to_pixel(v, 0.0).0);
        let yt = ticks(self.y_range.0, self.y_range.1, &|v| self.to_pixel(0.0, v).1);
        labelled_frame(&self.render(), &xt, &yt, legend, note)
    }

    /// Rasterises the plot to an RGB image.
    pub fn render(&self) -> Image {
        let (w, h) = (self.width, self.height);
        let mut buf = vec![[255.0f64; 3]; w * h];
        if let Some(s) = &self.surface {
            for py in 0..h {
                for px in 0..w {
                    buf[py * w + px] = self.surface_color(s, px, py);
                }
            }
        }
        // Grid lines at nice ticks, axes through 0, a frame.
        let blend = |buf: &mut Vec<[f64; 3]>, i: usize, c: [f64; 3], a: f64| {
            for k in 0..3 {
                buf[i][k] = buf[i][k] * (1.0 - a) + c[k] * a;
            }
        };
        let gray = [0.0, 0.0, 0.0];
        let (_, xt) = nice_ticks(self.x_range.0, self.x_range.1, 8);
        let (_, yt) = nice_ticks(self.y_range.0, self.y_range.1, 8);
        for &x in &xt {
            let px = self.to_pixel(x, 0.0).0.floor();
            if px >= 0.0 && (px as usize) < w {
                let a = if x == 0.0 { 0.45 } else { 0.12 };
                for py in 0..h {
                    blend(&mut buf, py * w + px as usize, gray, a);
                }
            }
        }
        for &y in &yt {
            let py = self.to_pixel(0.0, y).1.floor();
            if py >= 0.0 && (py as usize) < h {
                let a = if y == 0.0 { 0.45 } else { 0.12 };
                for px in 0..w {
                    blend(&mut buf, py as usize * w + px, gray, a);
                }
            }
        }
        for px in 0..w {
            blend(&mut buf, px, gray, 0.6);
            blend(&mut buf, (h - 1) * w + px, gray, 0.6);
        }
        for py in 1..h - 1 {
            blend(&mut buf, py * w, gray, 0.6);
            blend(&mut buf, py * w + w - 1, gray, 0.6);
        }
        // Samples as discs.
        let r = self.radius;
        for (pts, color) in &self.layers {
            let c = color.map(|v| v as f64);
            for p in pts {
                if !(p[0].is_finite() && p[1].is_finite()) {
                    continue;
                }
                let (cx, cy) = self.to_pixel(p[0], p[1]);
                if cx < -r || cy < -r || cx > w as f64 + r || cy > h as f64 + r {
                    continue;
                }
                let (xa, xb) = ((cx - r).floor().max(0.0), (cx + r).ceil().min(w as f64));
                let (ya, yb) = ((cy - r).floor().max(0.0), (cy + r).ceil().min(h as f64));
                for py in ya as usize..yb as usize {
                    for px in xa as usize..xb as usize {
                        let (dx, dy) = (px as f64 + 0.5 - cx, py as f64 + 0.5 - cy);
                        if dx * dx + dy * dy <= r * r {
                            blend(&mut buf, py * w + px, c, DOT_OPACITY);
                        }
                    }
                }
            }
        }
        let pixels = buf
            .iter()
            .flat_map(|p| p.map(|v| v.round().clamp(0.0, 255.0) as u8))
            .collect();
        Image {
            width: w,
            height: h,
            channels: 3,
            pixels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The frame puts the plot below the legend and right of the y labels, writes each tick
    /// inside the plot's extent beside it in dark ink, drops ticks outside, and draws the
    /// legend's discs in their colours.
    #[test]
    fn labelled_frame_puts_ticks_and_legend_beside_the_plot() {
        let plot = Image {
            width: 100,
            height: 60,
            channels: 3,
            pixels: vec![200; 100 * 60 * 3],
        };
        let yt = vec![(30.0, "10".to_string()), (75.0, "999999".to_string())];
        let xt = vec![(50.0, "0".to_string()), (-5.0, "7".to_string())];
        let im = labelled_frame(&plot, &xt, &yt, &[("data", [1, 2, 3])], "note");
        // left margin: "10" is 2 glyphs at scale 2 (22 px) + 10; the dropped tick does not widen it
        let (left, top) = (22 + 10, 2 * (14 + 6) + 6);
        assert_eq!((im.width, im.height), (left + 100 + 12, top + 60 + 14 + 12));
        assert_eq!(im.pixel(left, top), [200, 200, 200]);
        assert_eq!(im.pixel(left + 99, top + 59), [200, 200, 200]);
        let dark = |x0: usize, x1: usize, y0: usize, y1: usize| {
            (y0..y1).any(|y| (x0..x1).any(|x| im.pixel(x, y) == [40, 40, 40]))
        };
        // "10" right-aligned left of the plot, centred on row 30
        assert!(dark(left - 6 - 22, left - 6, top + 30 - 7, top + 30 + 7));
        // "0" centred under column 50; nothing under the plot's left edge (the dropped "7")
        assert!(dark(left + 45, left + 55, top + 66, top + 80));
        assert!(!dark(left - 12, left + 6, top + 66, top + 80));
        // the legend's disc, then its label and the note
        assert_eq!(im.pixel(left + 7, 4 + 7), [1, 2, 3]);
        assert!(dark(left + 20, left + 70, 4, 18) && dark(left, left + 50, 24, 38));
        // ticks on the plot's edges are drawn; labels and a legend wider than a tiny plot are
        // clipped, not a panic
        let tiny = Image {
            width: 4,
            height: 4,
            channels: 3,
            pixels: vec![200; 4 * 4 * 3],
        };
        let edge = vec![(4.0, "1.0e-5".to_string())];
        let im = labelled_frame(&tiny, &edge, &edge, &[("a long legend", [1, 2, 3]); 3], "x");
        let dark = (0..im.height).any(|y| (0..im.width).any(|x| im.pixel(x, y) == [40, 40, 40]));
        assert!(dark && im.width > 4 + 6 * 12);
    }
}
