//! Line charts as standalone SVG: loss curves over steps, densities over x.

use super::{format_tick, nice_ticks, ticks_with_step};
use std::fmt::Write;

/// Ten distinguishable series colours (the "tab10" palette), used in order.
pub const PALETTE: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// Escapes `&`, `<`, `>`, `"` and `'` for XML/HTML text and attribute values.
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A named series of `(x, y)` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Name shown in the legend.
    pub name: String,
    /// Points in drawing order.
    pub points: Vec<(f64, f64)>,
}

/// A line chart: several named series, axes with "nice" ticks and labels, a legend, rendered
/// as one standalone `<svg>` element (usable as a file or inline in HTML).
///
/// ```
/// use minimax_gan::report::svg::LineChart;
/// let svg = LineChart::new("losses")
///     .x_label("step")
///     .series_y("D loss", &[1.4, 1.2, 1.3])
///     .series_y("G loss", &[0.7, 0.9, 0.8])
///     .to_svg();
/// assert!(svg.starts_with("<svg") && svg.matches("<polyline").count() == 2);
/// ```
///
/// Each series becomes one `<polyline>` per run of finite points (a NaN or infinite value breaks
/// the line, so a diverged loss shows as a gap, not as a wild spike). Unless fixed with
/// [`LineChart::x_range`] / [`LineChart::y_range`], each axis spans the finite data widened to
/// the enclosing "nice" tick values (1, 2 or 5 × 10ᵏ steps); data `(x, y)` is drawn at
/// `px = left + (x − x_lo)/(x_hi − x_lo)·(right − left)`,
/// `py = bottom − (y − y_lo)/(y_hi − y_lo)·(bottom − top)` with the box of
/// [`LineChart::plot_area`].
#[derive(Debug, Clone)]
pub struct LineChart {
    title: String,
    x_label: String,
    y_label: String,
    width: f64,
    height: f64,
    series: Vec<Series>,
    x_range: Option<(f64, f64)>,
    y_range: Option<(f64, f64)>,
}

const MARGIN_LEFT: f64 = 64.0;
const MARGIN_RIGHT: f64 = 20.0;
const MARGIN_TOP: f64 = 34.0;
const MARGIN_BOTTOM: f64 = 48.0;

impl LineChart {
    /// An empty chart titled `title`, 640 × 360 px.
    pub fn new(title: impl Into<String>) -> LineChart {
        LineChart {
            title: title.into(),
            x_label: String::new(),
            y_label: String::new(),
            width: 640.0,
            height: 360.0,
            series: Vec::new(),
            x_range: None,
            y_range: None,
        }
    }

    /// Sets the size in pixels (at least 200 × 150).
    pub fn size(mut self, width: f64, height: f64) -> LineChart {
        self.width = width.max(200.0);
        self.height = height.max(150.0);
        self
    }

    /// Label under the x axis.
    pub fn x_label(mut self, label: impl Into<String>) -> LineChart {
        self.x_label = label.into();
        self
    }

    /// Label along the y axis.
    pub fn y_label(mut self, label: impl Into<String>) -> LineChart {
        self.y_label = label.into();
        self
    }

    /// Fixes the x axis to `[lo, hi]` exactly (points outside are drawn outside the axes box,
    /// clipped by it). Panics unless `lo < hi`, both finite.
    #[track_caller]
    pub fn x_range(mut self, lo: f64, hi: f64) -> LineChart {
        assert!(
            lo < hi && lo.is_finite() && hi.is_finite(),
            "x_range: need lo < hi"
        );
        self.x_range = Some((lo, hi));
        self
    }

    /// Fixes the y axis to `[lo, hi]` exactly. Panics unless `lo < hi`, both finite.
    #[track_caller]
    pub fn y_range(mut self, lo: f64, hi: f64) -> LineChart {
        assert!(
            lo < hi && lo.is_finite() && hi.is_finite(),
            "y_range: need lo < hi"
        );
        self.y_range = Some((lo, hi));
        self
    }

    /// Adds a series of `(x, y)` points.
    pub fn series(mut self, name: impl Into<String>, points: &[(f64, f64)]) -> LineChart {
        self.series.push(Series {
            name: name.into(),
            points: points.to_vec(),
        });
        self
    }

    /// Adds a series of values at x = 0, 1, 2, … (one per step).
    pub fn series_y(self, name: impl Into<String>, ys: &[f64]) -> LineChart {
        let pts: Vec<(f64, f64)> = ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect();
        self.series(name, &pts)
    }

    /// The series added so far.
    pub fn series_list(&self) -> &[Series] {
        &self.series
    }

    /// The axes box in SVG pixels: `(left, top, right, bottom)`.
    pub fn plot_area(&self) -> (f64, f64, f64, f64) {
        (
            MARGIN_LEFT,
            MARGIN_TOP,
            self.width - MARGIN_RIGHT,
            self.height - MARGIN_BOTTOM,
        )
    }

    /// The range an axis shows and its tick step: a fixed range with nice ticks inside it, or
    /// the finite data widened to multiples of the tick step.
    fn axis(
        &self,
        fixed: Option<(f64, f64)>,
        pick: impl Fn(&(f64, f64)) -> f64,
    ) -> (f64, f64, f64) {
        if let Some((lo, hi)) = fixed {
            let (step, _) = nice_ticks(lo, hi, 6);
            return (lo, hi, step);
        }
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for s in &self.series {
            for p in &s.points {
                if p.0.is_finite() && p.1.is_finite() {
                    lo = lo.min(pick(p));
                    hi = hi.max(pick(p));
                }
            }
        }
        if lo > hi {
            return (0.0, 1.0, 0.2);
        }
        if lo == hi {
            let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
            lo -= d;
            hi += d;
        }
        let (step, _) = nice_ticks(lo, hi, 6);
        let (a, b) = (
            (lo / step + 1e-9).floor() * step,
            (hi / step - 1e-9).ceil() * step,
        );
        // Snap values like 0.30000000000000004 to the tick they stand for.
        let snap = |v: f64| (v / step).round() * step;
        (snap(a), snap(b), step)
    }

    /// The data ranges the axes show: `((x_lo, x_hi), (y_lo, y_hi))`.
    pub fn domain(&self) -> ((f64, f64), (f64, f64)) {
        let (x0, x1, _) = self.axis(self.x_range, |p| p.0);
        let (y0, y1, _) = self.axis(self.y_range, |p| p.1);
        ((x0, x1), (y0, y1))
    }

    /// Renders the chart as a standalone SVG document (one `<svg>` element with an `xmlns`).
    pub fn to_svg(&self) -> String {
        let (w, h) = (self.width, self.height);
        let (left, top, right, bottom) = self.plot_area();
        let (x0, x1, xs) = self.axis(self.x_range, |p| p.0);
        let (y0, y1, ys) = self.axis(self.y_range, |p| p.1);
        let px = |x: f64| left + (x - x0) / (x1 - x0) * (right - left);
        let py = |y: f64| bottom - (y - y0) / (y1 - y0) * (bottom - top);
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(
            s,
            r#"<rect x="0" y="0" width="{w}" height="{h}" fill="white"/>"#
        );
        // The clip rectangle depends only on the size, so charts of equal size inlined in one
        // HTML page may share the id harmlessly, and the output stays deterministic.
        let clip = format!("minimax-clip-{w}x{h}");
        let _ = writeln!(
            s,
            r#"<defs><clipPath id="{clip}"><rect x="{left}" y="{top}" width="{}" height="{}"/></clipPath></defs>"#,
            right - left,
            bottom - top
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="20" text-anchor="middle" font-size="14" font-weight="bold">{}</text>"#,
            w / 2.0,
            escape_xml(&self.title)
        );
        // Grid and ticks.
        let xt = ticks_with_step(x0, x1, xs);
        let yt = ticks_with_step(y0, y1, ys);
        for &t in &xt {
            let x = px(t);
            let _ = writeln!(
                s,
                r##"<line x1="{x:.2}" y1="{top}" x2="{x:.2}" y2="{bottom}" stroke="#e5e5e5"/><text x="{x:.2}" y="{:.2}" text-anchor="middle">{}</text>"##,
                bottom + 16.0,
                format_tick(t, xs)
            );
        }
        for &t in &yt {
            let y = py(t);
            let _ = writeln!(
                s,
                r##"<line x1="{left}" y1="{y:.2}" x2="{right}" y2="{y:.2}" stroke="#e5e5e5"/><text x="{:.2}" y="{:.2}" text-anchor="end">{}</text>"##,
                left - 6.0,
                y + 4.0,
                format_tick(t, ys)
            );
        }
        let _ = writeln!(
            s,
            r##"<rect x="{left}" y="{top}" width="{}" height="{}" fill="none" stroke="#333"/>"##,
            right - left,
            bottom - top
        );
        if !self.x_label.is_empty() {
            let _ = writeln!(
                s,
                r#"<text x="{:.2}" y="{:.2}" text-anchor="middle">{}</text>"#,
                (left + right) / 2.0,
                h - 10.0,
                escape_xml(&self.x_label)
            );
        }
        if !self.y_label.is_empty() {
            let (cx, cy) = (16.0, (top + bottom) / 2.0);
            let _ = writeln!(
                s,
                r#"<text x="{cx}" y="{cy:.2}" text-anchor="middle" transform="rotate(-90 {cx} {cy:.2})">{}</text>"#,
                escape_xml(&self.y_label)
            );
        }
        // Series.
        for (k, ser) in self.series.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
            for &(x, y) in &ser.points {
                if x.is_finite() && y.is_finite() {
                    runs.last_mut().unwrap().push((x, y));
                } else if !runs.last().unwrap().is_empty() {
                    runs.push(Vec::new());
                }
            }
            for run in runs.iter().filter(|r| !r.is_empty()) {
                let pts: Vec<String> = run
                    .iter()
                    .map(|&(x, y)| format!("{:.2},{:.2}", px(x), py(y)))
                    .collect();
                let _ = writeln!(
                    s,
                    r#"<polyline class="series" data-name="{}" points="{}" fill="none" stroke="{color}" stroke-width="1.5" clip-path="url(#{clip})"/>"#,
                    escape_xml(&ser.name),
                    pts.join(" ")
                );
            }
        }
        // Legend, top right inside the axes box.
        if !self.series.is_empty() {
            let longest = self
                .series
                .iter()
                .map(|s| s.name.chars().count())
                .max()
                .unwrap_or(0);
            let lw = 36.0 + 7.0 * longest as f64;
            let lh = 8.0 + 16.0 * self.series.len() as f64;
            let (lx, ly) = (right - lw - 8.0, top + 8.0);
            let _ = writeln!(
                s,
                r##"<rect x="{lx:.2}" y="{ly:.2}" width="{lw:.2}" height="{lh:.2}" fill="white" fill-opacity="0.85" stroke="#bbb"/>"##
            );
            for (k, ser) in self.series.iter().enumerate() {
                let color = PALETTE[k % PALETTE.len()];
                let y = ly + 14.0 + 16.0 * k as f64;
                let _ = writeln!(
                    s,
                    r#"<line x1="{:.2}" y1="{:.2}" x2="{:.2}" y2="{:.2}" stroke="{color}" stroke-width="2.5"/><text x="{:.2}" y="{:.2}">{}</text>"#,
                    lx + 6.0,
                    y - 4.0,
                    lx + 26.0,
                    y - 4.0,
                    lx + 30.0,
                    y,
                    escape_xml(&ser.name)
                );
            }
        }
        s.push_str("</svg>\n");
        s
    }
}
