//! Pictures and pages of a run, written with `std` only.
//!
//! - [`png`]: a PNG encoder (grayscale and RGB, zlib/deflate, CRC-32 and Adler-32 written
//!   here), sample grids of images ([`png::image_grid`]) and 2-D scatter plots with an optional
//!   discriminator surface ([`png::ScatterPlot`]).
//! - [`svg`]: line charts (loss curves, densities) as standalone SVG, with axes, units and a
//!   legend, and the axes drawn around a raster picture ([`svg::ImageAxes`]).
//! - [`html`]: a [`html::Report`] builder that puts text, tables, SVG charts and PNG images
//!   (inline, base64; side by side, in axes, or as frames behind a slider) into one
//!   self-contained HTML file that opens offline.
//!
//! Files are written to a temporary file next to the target and renamed over it, so an
//! interrupted run never leaves a half-written picture or page.

#![warn(missing_docs)]

pub mod font;
pub mod html;
pub mod png;
pub mod svg;

pub use html::Report;
pub use png::{encode_png, image_grid, write_png, Image, ScatterPlot};
pub use svg::{ImageAxes, LineChart, Style};

/// A picture for a report: an image shown as it is (a grid of samples), or a raster plot
/// drawn inside axes (a scatter plot, whose axes say what its coordinates are).
#[derive(Debug, Clone)]
pub enum Picture {
    /// An image shown at its own size.
    Image(Image),
    /// A raster plot inside its axes: the image fills the axes box ([`ImageAxes`]).
    InAxes(Box<ImageAxes>, Image),
}

impl From<Image> for Picture {
    fn from(image: Image) -> Picture {
        Picture::Image(image)
    }
}

use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` through `<path>.tmp-<pid>-<n>` in the same directory, synced and
/// renamed over `path`; on failure the temporary file is removed and `path` is untouched.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: path does not name a file", path.display()),
        )
    })?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let tmp = path.with_file_name(tmp_name);
    let result = (|| -> io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io::Error::new(
            e.kind(),
            format!("cannot write {}: {e}", path.display()),
        ));
    }
    Ok(())
}

/// "Nice" tick positions covering `[lo, hi]`: multiples of a step of 1, 2 or 5 × 10ᵏ chosen so
/// that about `target` ticks fall in the range. Returns `(step, ticks)`; every tick is within
/// `[lo, hi]` (up to rounding).
pub(crate) fn nice_ticks(lo: f64, hi: f64, target: usize) -> (f64, Vec<f64>) {
    let span = hi - lo;
    if !span.is_finite() || span <= 0.0 {
        return (1.0, vec![lo]);
    }
    let step = nice_step(span / target.max(2) as f64);
    (step, ticks_with_step(lo, hi, step))
}

/// The multiples of `step` within `[lo, hi]` (up to rounding), at most 1000 of them.
pub(crate) fn ticks_with_step(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step - 1e-9).ceil();
    let last = (hi / step + 1e-9).floor();
    let mut ticks = Vec::new();
    let mut k = first;
    while k <= last && ticks.len() < 1000 {
        let v = k * step;
        ticks.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
        k += 1.0;
    }
    ticks
}

/// The smallest of 1, 2, 5 × 10ᵏ that is at least `raw`.
pub(crate) fn nice_step(raw: f64) -> f64 {
    let exp = raw.log10().floor();
    let base = 10f64.powf(exp);
    let f = raw / base;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * base
}

/// Formats a tick value with as many decimals as the step needs (no "-0").
pub(crate) fn format_tick(v: f64, step: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e6).contains(&a) {
        return format!("{v:.1e}");
    }
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let s = format!("{v:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// Images `idx` of `images` (`[N, 1, H, W]`, values in [−1, 1]) side by side as text, one line
/// per pixel row, darkest ` ` to brightest `@` — a picture for a terminal (the examples print
/// digits with it).
///
/// ```
/// let t = tensor::Tensor::from_vec(vec![-1.0f32, 1.0, 1.0, -1.0], [1, 1, 2, 2]);
/// assert_eq!(minimax_gan::report::text_images(&t, &[0]), [" @", "@ "]);
/// ```
pub fn text_images(images: &tensor::Tensor, idx: &[usize]) -> Vec<String> {
    let d = images.dims();
    let (h, w) = (d[d.len() - 2], d[d.len() - 1]);
    let v = images.to_vec_f32();
    (0..h)
        .map(|r| {
            idx.iter()
                .map(|&i| {
                    v[i * h * w + r * w..i * h * w + r * w + w]
                        .iter()
                        .map(|&p| b" .:-=+*#%@"[(((p + 1.0) / 2.0 * 9.99) as usize).min(9)] as char)
                        .collect::<String>()
                })
                .collect::<Vec<_>>()
                .join("  ")
        })
        .collect()
}
