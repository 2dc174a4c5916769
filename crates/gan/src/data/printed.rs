//! Printed digits: 0–9 typeset in 37 font faces, embedded in the crate.
//!
//! A second image domain beside the handwritten [`Digits`](super::Digits), with labels, style
//! attributes (family, bold, italic, condensed, light) and exact ground-truth pairs between
//! styles: every (digit, instance) has one random jitter (rotation, scale, shift) and is
//! rendered with that same jitter in every face.

use super::{sample_rows, Dataset};
use std::sync::OnceLock;
use tensor::{Rng, Tensor};

/// The 32×32 renderings: uint8 `[10, 10, 37, 32, 32]` (digit, instance, face, y, x), ink 255 on
/// 0 (see `crates/gan/data/README.md` for origin and licence).
const PRINTED_32_NPY: &[u8] = include_bytes!("../../data/printed-32.npy");
/// The 8×8 optdigits-style counts: uint8 `[10, 10, 37, 8, 8]`, values 0..=16.
const PRINTED_8_NPY: &[u8] = include_bytes!("../../data/printed-8.npy");
/// One row per face: `face,font_file,family,bold,italic,condensed,light`.
const FACES_CSV: &str = include_str!("../../data/faces.csv");
/// One row per (digit, instance): `digit,instance,rotation_deg,scale,dx,dy`.
const JITTER_CSV: &str = include_str!("../../data/jitter.csv");

/// The image size of a [`Printed`] set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// 32×32, the renderings as they are (antialiased, 0..=255 scaled to [−1, 1]).
    R32,
    /// 16×16, the 2×2 mean of the 32×32 images (see [`downsample2`]).
    R16,
    /// 8×8, optdigits-style: the 32×32 image thresholded at 128 and the on-pixels counted in
    /// 4×4 blocks (0..=16), scaled exactly as [`Digits`](super::Digits) scales its pixels.
    R8,
}

impl Resolution {
    /// The side of one image in pixels: 32, 16 or 8.
    pub fn side(self) -> usize {
        match self {
            Resolution::R32 => 32,
            Resolution::R16 => 16,
            Resolution::R8 => 8,
        }
    }

    /// The dataset name at this resolution: `"printed"`, `"printed16"` or `"printed8"`.
    pub fn name(self) -> &'static str {
        match self {
            Resolution::R32 => "printed",
            Resolution::R16 => "printed16",
            Resolution::R8 => "printed8",
        }
    }
}

/// The type family of a font face.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// Sans-serif (DejaVu Sans, Liberation Sans and their condensed/narrow faces).
    Sans,
    /// Serif (DejaVu Serif, Liberation Serif).
    Serif,
    /// Monospaced (DejaVu Sans Mono, Liberation Mono).
    Mono,
}

/// The style of a font face, as listed in `faces.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Attributes {
    /// Sans, serif or mono.
    pub family: Family,
    /// A bold face.
    pub bold: bool,
    /// An italic or oblique face.
    pub italic: bool,
    /// A condensed (DejaVu) or narrow (Liberation) face.
    pub condensed: bool,
    /// A light face (only DejaVu Sans ExtraLight).
    pub light: bool,
}

impl Attributes {
    /// The attributes as a conditioning vector: one-hot family (sans, serif, mono), then bold,
    /// italic, condensed and light as 0 or 1.
    pub fn vector(&self) -> [f32; 7] {
        let b = |x: bool| if x { 1.0 } else { 0.0 };
        [
            b(self.family == Family::Sans),
            b(self.family == Family::Serif),
            b(self.family == Family::Mono),
            b(self.bold),
            b(self.italic),
            b(self.condensed),
            b(self.light),
        ]
    }

    /// Whether the face is a serif face.
    pub fn serif(&self) -> bool {
        self.family == Family::Serif
    }
}

/// Which rendering an image is: the digit, which of its jittered instances, and the face.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Glyph {
    /// The digit, 0–9 (the label).
    pub digit: usize,
    /// The jittered instance of the digit, `0..Printed::INSTANCES`; the same instance has the
    /// same jitter in every face.
    pub instance: usize,
    /// The font face, `0..Printed::FACES` (the row of `faces.csv`).
    pub face: usize,
}

/// The random jitter of one (digit, instance), shared by all faces (from `jitter.csv`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Jitter {
    /// Rotation in degrees, in [−10, 10].
    pub rotation_deg: f64,
    /// Glyph height as a fraction of 31 px, in [0.85, 1].
    pub scale: f64,
    /// Horizontal shift of the glyph centre in 32-px pixels, in [−1.5, 1.5].
    pub dx: f64,
    /// Vertical shift of the glyph centre in 32-px pixels, in [−1.5, 1.5].
    pub dy: f64,
}

/// One parsed row of `faces.csv`.
#[derive(Debug, Clone, Copy)]
struct Face {
    stem: &'static str,
    attributes: Attributes,
}

/// Printed digits: the digits 0–9 rendered in 37 font faces of the DejaVu and Liberation
/// families, 10 jittered instances each, 3,700 images (images CC0 1.0; see
/// `crates/gan/data/README.md`).
///
/// Every (digit, instance) is rendered with the same jitter in every face, so the images of one
/// [`Glyph`] `{digit, instance}` across faces are exact style-translation pairs
/// ([`Printed::same_glyph`]). The data is compiled into the crate. Images have shape
/// `[1, s, s]` with `s` = [`Resolution::side`], values in [−1, 1] (−1 = paper, 1 = ink), row 0 at
/// the top. In the full set, image `i` is glyph `i = (digit·10 + instance)·37 + face`
/// (digit-major, then instance, then face).
#[derive(Clone, Debug)]
pub struct Printed {
    images: Tensor,
    glyphs: Vec<Glyph>,
    labels: Vec<usize>,
    /// For each flat glyph id `(digit·10 + instance)·37 + face`, its first position in this set.
    lookup: Vec<Option<usize>>,
    res: Resolution,
    name: String,
}

impl Printed {
    /// Number of digits (classes).
    pub const DIGITS: usize = 10;
    /// Jittered instances of each digit.
    pub const INSTANCES: usize = 10;
    /// Font faces (rows of `faces.csv`).
    pub const FACES: usize = 37;
    /// The instances [`Printed::split_held_out`] puts in the test set.
    pub const HELD_OUT_INSTANCES: [usize; 2] = [8, 9];

    /// Number of images in the full set.
    const LEN: usize = Printed::DIGITS * Printed::INSTANCES * Printed::FACES;

    /// All 3,700 images at resolution `res`, parsed from the embedded NPY files.
    ///
    /// 32 px: `v / 127.5 − 1`; 16 px: [`downsample2`] of the 32-px images; 8 px: the counts
    /// 0..=16 as `v / 8 − 1`, exactly as [`Digits`](super::Digits).
    pub fn new(res: Resolution) -> Printed {
        let images = match res {
            Resolution::R32 => full_32(),
            Resolution::R16 => downsample2(&full_32()),
            Resolution::R8 => {
                let data = npy_u8(PRINTED_8_NPY, "printed-8.npy", 8);
                let pixels = data
                    .iter()
                    .map(|&v| {
                        assert!(v <= 16, "embedded printed-8.npy: pixel count {v} > 16");
                        v as f32 / 8.0 - 1.0
                    })
                    .collect();
                Tensor::from_vec(pixels, [Printed::LEN, 1, 8, 8])
            }
        };
        let glyphs: Vec<Glyph> = (0..Printed::LEN).map(glyph_of_flat).collect();
        Printed::from_parts(images, glyphs, res, res.name().to_string())
    }

    fn from_parts(images: Tensor, glyphs: Vec<Glyph>, res: Resolution, name: String) -> Printed {
        let mut lookup = vec![None; Printed::LEN];
        for (i, g) in glyphs.iter().enumerate() {
            lookup[flat_of_glyph(*g)].get_or_insert(i);
        }
        Printed {
            images,
            labels: glyphs.iter().map(|g| g.digit).collect(),
            glyphs,
            lookup,
            res,
            name,
        }
    }

    /// The resolution of the images.
    pub fn resolution(&self) -> Resolution {
        self.res
    }

    /// All images, f32 `[N, 1, s, s]` in [−1, 1].
    pub fn images(&self) -> &Tensor {
        &self.images
    }

    /// The digit (0–9) of each image.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// Which glyph image `i` is.
    ///
    /// Panics if `i` is out of range.
    #[track_caller]
    pub fn index(&self, i: usize) -> Glyph {
        self.check_index("index", i);
        self.glyphs[i]
    }

    /// Where glyph `g` is in this set (the first occurrence if [`Printed::select`] repeated it),
    /// or `None` if this set does not hold it (or `g` names no glyph of the full set).
    pub fn position(&self, g: Glyph) -> Option<usize> {
        if g.digit >= Printed::DIGITS
            || g.instance >= Printed::INSTANCES
            || g.face >= Printed::FACES
        {
            return None;
        }
        self.lookup[flat_of_glyph(g)]
    }

    /// The style attributes of the face of image `i`.
    ///
    /// Panics if `i` is out of range.
    #[track_caller]
    pub fn attributes(&self, i: usize) -> Attributes {
        self.check_index("attributes", i);
        Printed::face_attributes(self.glyphs[i].face)
    }

    /// The style attributes of face `face`, from the embedded `faces.csv`.
    ///
    /// Panics if `face >= Printed::FACES`.
    #[track_caller]
    pub fn face_attributes(face: usize) -> Attributes {
        check_face("face_attributes", face);
        faces()[face].attributes
    }

    /// The font file stem of face `face`, e.g. `"DejaVuSans-Bold"` or
    /// `"LiberationSerif-Regular"`.
    ///
    /// Panics if `face >= Printed::FACES`.
    #[track_caller]
    pub fn face_name(face: usize) -> &'static str {
        check_face("face_name", face);
        faces()[face].stem
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.glyphs.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.glyphs.is_empty()
    }

    /// The images at `indices` (in that order, repeats allowed) with their labels and glyphs;
    /// the name is kept.
    ///
    /// Panics if an index is out of range.
    #[track_caller]
    pub fn select(&self, indices: &[usize]) -> Printed {
        let s = self.res.side();
        let row = s * s;
        let src = self.images.as_slice::<f32>();
        let mut pixels = Vec::with_capacity(indices.len() * row);
        let mut glyphs = Vec::with_capacity(indices.len());
        for &i in indices {
            assert!(
                i < self.len(),
                "Printed::select: index {i} out of range for {} images",
                self.len()
            );
            pixels.extend_from_slice(&src[i * row..(i + 1) * row]);
            glyphs.push(self.glyphs[i]);
        }
        Printed::from_parts(
            Tensor::from_vec(pixels, [indices.len(), 1, s, s]),
            glyphs,
            self.res,
            self.name.clone(),
        )
    }

    /// Splits by instance into `(train, test)`: the test set holds the instances
    /// [`Printed::HELD_OUT_INSTANCES`] (8 and 9) of every digit in every face, the train set the
    /// other instances (0..=7). Both keep this set's order; their names get `-train` and `-test`
    /// appended. Since a jitter belongs to a (digit, instance), no test image shares its jitter
    /// with a train image.
    pub fn split_held_out(&self) -> (Printed, Printed) {
        let held = |i: &usize| Printed::HELD_OUT_INSTANCES.contains(&self.glyphs[*i].instance);
        let train: Vec<usize> = (0..self.len()).filter(|i| !held(i)).collect();
        let test: Vec<usize> = (0..self.len()).filter(held).collect();
        let mut a = self.select(&train);
        let mut b = self.select(&test);
        a.name = format!("{}-train", self.name);
        b.name = format!("{}-test", self.name);
        (a, b)
    }

    /// The position in this set of the same (digit, instance) as image `i`, rendered in face
    /// `face` (the same jitter, another style), or `None` if this set does not hold it.
    /// `face` equal to image `i`'s own face finds that glyph again.
    ///
    /// Panics if `i` is out of range or `face >= Printed::FACES`.
    #[track_caller]
    pub fn same_glyph(&self, i: usize, face: usize) -> Option<usize> {
        self.check_index("same_glyph", i);
        check_face("same_glyph", face);
        let g = self.glyphs[i];
        self.position(Glyph { face, ..g })
    }

    /// `m` images drawn uniformly with replacement, with their digits: `([m, 1, s, s], labels)`.
    /// Draws exactly what [`Dataset::sample`] draws for the same generator state.
    ///
    /// Panics if the set is empty.
    #[track_caller]
    pub fn sample_labelled(&self, m: usize, rng: &mut Rng) -> (Tensor, Vec<usize>) {
        let s = self.res.side();
        let row = s * s;
        let src = self.images.as_slice::<f32>();
        let n = self.len();
        assert!(n > 0, "Printed: cannot sample from an empty set");
        let mut pixels = Vec::with_capacity(m * row);
        let mut labels = Vec::with_capacity(m);
        for _ in 0..m {
            let i = rng.below(n);
            pixels.extend_from_slice(&src[i * row..(i + 1) * row]);
            labels.push(self.labels[i]);
        }
        (Tensor::from_vec(pixels, [m, 1, s, s]), labels)
    }

    /// `m` images drawn like [`Printed::sample_labelled`] (the same draws), with their labels and
    /// the indices of the images drawn (for their [`Printed::attributes`]).
    pub fn sample_indexed(&self, m: usize, rng: &mut Rng) -> (Tensor, Vec<usize>, Vec<usize>) {
        let s = self.res.side();
        let row = s * s;
        let src = self.images.as_slice::<f32>();
        let n = self.len();
        assert!(n > 0, "Printed: cannot sample from an empty set");
        let mut pixels = Vec::with_capacity(m * row);
        let mut labels = Vec::with_capacity(m);
        let mut idx = Vec::with_capacity(m);
        for _ in 0..m {
            let i = rng.below(n);
            pixels.extend_from_slice(&src[i * row..(i + 1) * row]);
            labels.push(self.labels[i]);
            idx.push(i);
        }
        (Tensor::from_vec(pixels, [m, 1, s, s]), labels, idx)
    }

    /// The jitter of `(digit, instance)`, the same in every face (from the embedded
    /// `jitter.csv`).
    ///
    /// Panics if `digit >= Printed::DIGITS` or `instance >= Printed::INSTANCES`.
    #[track_caller]
    pub fn jitter(digit: usize, instance: usize) -> Jitter {
        assert!(
            digit < Printed::DIGITS && instance < Printed::INSTANCES,
            "Printed::jitter: (digit {digit}, instance {instance}) out of range (digits 0..{}, \
             instances 0..{})",
            Printed::DIGITS,
            Printed::INSTANCES
        );
        jitters()[digit * Printed::INSTANCES + instance]
    }

    #[track_caller]
    fn check_index(&self, what: &str, i: usize) {
        assert!(
            i < self.len(),
            "Printed::{what}: index {i} out of range for {} images",
            self.len()
        );
    }
}

impl Dataset for Printed {
    fn sample(&self, m: usize, rng: &mut Rng) -> Tensor {
        let s = self.res.side();
        let v = sample_rows(self.images.as_slice::<f32>(), self.len(), s * s, m, rng);
        Tensor::from_vec(v, [m, 1, s, s])
    }
    fn sample_shape(&self) -> Vec<usize> {
        let s = self.res.side();
        vec![1, s, s]
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn num_classes(&self) -> usize {
        Printed::DIGITS
    }
    fn examples(&self) -> Option<Tensor> {
        Some(self.images.clone())
    }
    fn example_labels(&self) -> Option<Vec<usize>> {
        Some(self.labels.clone())
    }
    fn sample_labelled(&self, m: usize, rng: &mut Rng) -> Option<(Tensor, Vec<usize>)> {
        Some(Printed::sample_labelled(self, m, rng))
    }
    fn attribute_dim(&self) -> usize {
        7
    }
    fn sample_attributed(&self, m: usize, rng: &mut Rng) -> Option<(Tensor, Vec<usize>, Tensor)> {
        let (x, labels, idx) = self.sample_indexed(m, rng);
        let a: Vec<f32> = idx
            .iter()
            .flat_map(|&i| self.attributes(i).vector())
            .collect();
        Some((x, labels, Tensor::from_vec(a, [m, 7])))
    }
}

/// A paired task built from the printed digits (pix2pix's): A = the glyph's [`edges`], B = the
/// glyph, at 32 px. Pair i of a batch is the same image in both.
#[derive(Clone, Debug)]
pub struct EdgesToGlyphs {
    glyphs: Printed,
    edges: Tensor,
    name: String,
}

impl EdgesToGlyphs {
    /// The pairs of every image of `glyphs`.
    pub fn new(glyphs: Printed) -> EdgesToGlyphs {
        let edges = edges(glyphs.images());
        let name = glyphs.name().replacen("printed", "edges2printed", 1);
        EdgesToGlyphs {
            glyphs,
            edges,
            name,
        }
    }
    /// The glyphs (B).
    pub fn glyphs(&self) -> &Printed {
        &self.glyphs
    }
    /// The edges (A) of every glyph, `[N, 1, s, s]` in {−1, 1}.
    pub fn edges(&self) -> &Tensor {
        &self.edges
    }
}

impl Dataset for EdgesToGlyphs {
    /// The glyphs B alone.
    fn sample(&self, m: usize, rng: &mut Rng) -> Tensor {
        self.glyphs.sample(m, rng)
    }
    fn sample_shape(&self) -> Vec<usize> {
        self.glyphs.sample_shape()
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn examples(&self) -> Option<Tensor> {
        Some(self.glyphs.images().clone())
    }
    fn paired(&self) -> bool {
        true
    }
    fn examples_paired(&self) -> Option<(Tensor, Tensor)> {
        Some((self.edges.clone(), self.glyphs.images().clone()))
    }
    fn sample_paired(&self, m: usize, rng: &mut Rng) -> Option<(Tensor, Tensor)> {
        let n = self.glyphs.len();
        let idx: Vec<usize> = (0..m).map(|_| rng.below(n)).collect();
        let pick = |t: &Tensor| {
            let s = t.numel() / n;
            let src = t.as_slice::<f32>();
            let mut v = Vec::with_capacity(m * s);
            for &i in &idx {
                v.extend_from_slice(&src[i * s..(i + 1) * s]);
            }
            let mut dims = t.dims().to_vec();
            dims[0] = m;
            Tensor::from_vec(v, dims)
        };
        Some((pick(&self.edges), pick(self.glyphs.images())))
    }
}

/// 2×2 mean pooling: `[N, C, H, W]` → `[N, C, H/2, W/2]`, each output pixel the mean of a 2×2
/// block (summed in f64). Turns the 32-px printed digits into the 16-px ones.
///
/// Panics unless `images` has rank 4 and even `H` and `W`.
#[track_caller]
pub fn downsample2(images: &Tensor) -> Tensor {
    let d = images.dims();
    assert!(
        d.len() == 4 && d[2] % 2 == 0 && d[3] % 2 == 0,
        "downsample2: expected images [N, C, H, W] with even H and W, got shape {d:?}"
    );
    let (planes, h, w) = (d[0] * d[1], d[2], d[3]);
    let (ho, wo) = (h / 2, w / 2);
    let x = images.to_vec_f32();
    let mut out = Vec::with_capacity(planes * ho * wo);
    for p in 0..planes {
        let plane = &x[p * h * w..(p + 1) * h * w];
        for y in 0..ho {
            for xo in 0..wo {
                let at = |dy: usize, dx: usize| plane[(2 * y + dy) * w + 2 * xo + dx] as f64;
                out.push(((at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) * 0.25) as f32);
            }
        }
    }
    Tensor::from_vec(out, [d[0], d[1], ho, wo])
}

/// Edge maps of images in [−1, 1]: `[N, C, H, W]` → the same shape, each channel separately.
///
/// Pixels are mapped to [0, 1] by `(x + 1) / 2`; a pixel is an edge when the maximum minus the
/// minimum over its 3×3 neighbourhood is at least 0.5, with pixels outside the image counted as
/// 0 (paper). So a filled square gives a two-pixel ring (its boundary and the pixels just outside
/// it), and ink on the image border is always an edge. Edges are 1.0, the rest −1.0.
///
/// Panics unless `images` has rank 4.
#[track_caller]
pub fn edges(images: &Tensor) -> Tensor {
    let d = images.dims();
    assert!(
        d.len() == 4,
        "edges: expected images [N, C, H, W], got shape {d:?}"
    );
    let (planes, h, w) = (d[0] * d[1], d[2], d[3]);
    let x: Vec<f32> = images
        .to_vec_f32()
        .iter()
        .map(|v| (v + 1.0) * 0.5)
        .collect();
    let mut out: Vec<f32> = Vec::with_capacity(x.len());
    for p in 0..planes {
        let (lo, hi) = min_max_3x3(&x[p * h * w..(p + 1) * h * w], h, w);
        out.extend(
            lo.iter()
                .zip(&hi)
                .map(|(l, h)| if h - l >= 0.5 { 1.0 } else { -1.0 }),
        );
    }
    Tensor::from_vec(out, d.to_vec())
}

/// The minimum and the maximum over every pixel's 3×3 neighbourhood of an `h × w` plane,
/// pixels outside it counted as 0.
pub(crate) fn min_max_3x3(plane: &[f32], h: usize, w: usize) -> (Vec<f32>, Vec<f32>) {
    let mut lo = Vec::with_capacity(h * w);
    let mut hi = Vec::with_capacity(h * w);
    for y in 0..h {
        for x in 0..w {
            let (mut a, mut b) = (f32::INFINITY, f32::NEG_INFINITY);
            for dy in -1isize..=1 {
                for dx in -1isize..=1 {
                    let (yy, xx) = (y as isize + dy, x as isize + dx);
                    let v = if yy < 0 || xx < 0 || yy >= h as isize || xx >= w as isize {
                        0.0
                    } else {
                        plane[yy as usize * w + xx as usize]
                    };
                    a = a.min(v);
                    b = b.max(v);
                }
            }
            lo.push(a);
            hi.push(b);
        }
    }
    (lo, hi)
}

/// The glyph at flat position `i` of the full set.
fn glyph_of_flat(i: usize) -> Glyph {
    Glyph {
        digit: i / (Printed::INSTANCES * Printed::FACES),
        instance: i / Printed::FACES % Printed::INSTANCES,
        face: i % Printed::FACES,
    }
}

/// The flat position of a glyph in the full set (the inverse of [`glyph_of_flat`]).
fn flat_of_glyph(g: Glyph) -> usize {
    (g.digit * Printed::INSTANCES + g.instance) * Printed::FACES + g.face
}

#[track_caller]
fn check_face(what: &str, face: usize) {
    assert!(
        face < Printed::FACES,
        "Printed::{what}: face {face} out of range (there are {} faces)",
        Printed::FACES
    );
}

/// The full 32-px set, `[3700, 1, 32, 32]` in [−1, 1].
fn full_32() -> Tensor {
    let data = npy_u8(PRINTED_32_NPY, "printed-32.npy", 32);
    let pixels = data.iter().map(|&v| v as f32 / 127.5 - 1.0).collect();
    Tensor::from_vec(pixels, [Printed::LEN, 1, 32, 32])
}

/// The data of an embedded uint8 NPY file of shape `[10, 10, 37, side, side]`, after checking
/// its header (magic, version, `'|u1'`, C order, shape) and length.
fn npy_u8(bytes: &'static [u8], file: &str, side: usize) -> &'static [u8] {
    let bad = |what: String| -> ! { panic!("embedded {file}: {what}") };
    if !bytes.starts_with(b"\x93NUMPY") || bytes.len() < 10 {
        bad("not an NPY file (no \\x93NUMPY magic)".into());
    }
    let (header_start, header_len) = match (bytes[6], bytes[7]) {
        (1, 0) => (10, u16::from_le_bytes([bytes[8], bytes[9]]) as usize),
        (2, 0) | (3, 0) if bytes.len() >= 12 => (
            12,
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
        ),
        (major, minor) => bad(format!("unsupported NPY version {major}.{minor}")),
    };
    let Some(header) = bytes.get(header_start..header_start + header_len) else {
        bad(format!("header of {header_len} bytes is truncated"));
    };
    let header = std::str::from_utf8(header).unwrap_or_else(|_| bad("header is not text".into()));
    let value = |key: &str| -> &str {
        let k = format!("'{key}':");
        let at = header
            .find(&k)
            .unwrap_or_else(|| bad(format!("header {header:?} has no {k}")));
        header[at + k.len()..].trim_start()
    };
    let descr = value("descr");
    if !descr.starts_with("'|u1'") {
        bad(format!("dtype is not '|u1' (header {header:?})"));
    }
    if !value("fortran_order").starts_with("False") {
        bad(format!("array is not in C order (header {header:?})"));
    }
    let shape_text = value("shape");
    let shape: Vec<usize> = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .unwrap_or_else(|| bad(format!("bad shape in header {header:?}")))
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .unwrap_or_else(|_| bad(format!("bad shape in header {header:?}")))
        })
        .collect();
    let want = [
        Printed::DIGITS,
        Printed::INSTANCES,
        Printed::FACES,
        side,
        side,
    ];
    if shape != want {
        bad(format!("shape {shape:?}, expected {want:?}"));
    }
    let data = &bytes[header_start + header_len..];
    let need: usize = want.iter().product();
    if data.len() != need {
        bad(format!("{} data bytes, expected {need}", data.len()));
    }
    data
}

/// The 37 faces of the embedded `faces.csv`, parsed once.
fn faces() -> &'static [Face] {
    static FACES: OnceLock<Vec<Face>> = OnceLock::new();
    FACES.get_or_init(|| {
        let mut lines = FACES_CSV.lines();
        assert_eq!(
            lines.next().map(str::trim),
            Some("face,font_file,family,bold,italic,condensed,light"),
            "embedded faces.csv: unexpected header"
        );
        let flag = |line: usize, s: &str| match s {
            "0" => false,
            "1" => true,
            _ => panic!("embedded faces.csv line {line}: flag {s:?} is not 0 or 1"),
        };
        let mut out = Vec::with_capacity(Printed::FACES);
        for (k, line) in lines.enumerate() {
            let n = k + 2;
            let f: Vec<&'static str> = line.split(',').map(str::trim).collect();
            assert_eq!(f.len(), 7, "embedded faces.csv line {n}: {line:?}");
            assert_eq!(
                f[0],
                k.to_string(),
                "embedded faces.csv line {n}: face index"
            );
            let stem = f[1]
                .strip_suffix(".ttf")
                .unwrap_or_else(|| panic!("embedded faces.csv line {n}: font file {:?}", f[1]));
            let family = match f[2] {
                "sans" => Family::Sans,
                "serif" => Family::Serif,
                "mono" => Family::Mono,
                other => panic!("embedded faces.csv line {n}: family {other:?}"),
            };
            out.push(Face {
                stem,
                attributes: Attributes {
                    family,
                    bold: flag(n, f[3]),
                    italic: flag(n, f[4]),
                    condensed: flag(n, f[5]),
                    light: flag(n, f[6]),
                },
            });
        }
        assert_eq!(out.len(), Printed::FACES, "embedded faces.csv: face count");
        out
    })
}

/// The 100 jitters of the embedded `jitter.csv`, indexed by `digit·10 + instance`, parsed once.
fn jitters() -> &'static [Jitter] {
    static JITTERS: OnceLock<Vec<Jitter>> = OnceLock::new();
    JITTERS.get_or_init(|| {
        let mut lines = JITTER_CSV.lines();
        assert_eq!(
            lines.next().map(str::trim),
            Some("digit,instance,rotation_deg,scale,dx,dy"),
            "embedded jitter.csv: unexpected header"
        );
        let mut out: Vec<Option<Jitter>> = vec![None; Printed::DIGITS * Printed::INSTANCES];
        for (k, line) in lines.enumerate() {
            let n = k + 2;
            let f: Vec<&str> = line.split(',').map(str::trim).collect();
            assert_eq!(f.len(), 6, "embedded jitter.csv line {n}: {line:?}");
            let int = |s: &str, below: usize| -> usize {
                match s.parse() {
                    Ok(v) if v < below => v,
                    _ => panic!("embedded jitter.csv line {n}: bad index {s:?}"),
                }
            };
            let real = |s: &str| -> f64 {
                s.parse()
                    .unwrap_or_else(|_| panic!("embedded jitter.csv line {n}: bad number {s:?}"))
            };
            let (d, i) = (int(f[0], Printed::DIGITS), int(f[1], Printed::INSTANCES));
            let slot = &mut out[d * Printed::INSTANCES + i];
            assert!(
                slot.is_none(),
                "embedded jitter.csv line {n}: ({d}, {i}) repeated"
            );
            *slot = Some(Jitter {
                rotation_deg: real(f[2]),
                scale: real(f[3]),
                dx: real(f[4]),
                dy: real(f[5]),
            });
        }
        out.into_iter()
            .enumerate()
            .map(|(k, j)| j.unwrap_or_else(|| panic!("embedded jitter.csv: no row for {k}")))
            .collect()
    })
}
