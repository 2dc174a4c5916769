//! Charts as standalone SVG: line charts (loss curves over iterations, densities over x) and
//! axes drawn around raster pictures (scatter plots rendered as PNG).
//!
//! Every chart has a title, tick labels on both axes, axis labels (which should name the unit,
//! or say "(no unit)") and a legend below the axes box, so no entry ever covers the data. The
//! legend draws each entry exactly as its series is drawn (colour, width, dash, opacity,
//! markers).

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

/// How a series is drawn: its colour (by default the next colour of [`PALETTE`]), line width,
/// dash pattern, opacity, whether its points get dots, and which y axis it is measured on.
///
/// ```
/// use minimax_gan::report::svg::Style;
/// let d_of_x = Style::default().color("#2ca02c").dash("6 3").right_axis();
/// assert!(d_of_x.right_axis && d_of_x.dash == Some("6 3"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Style {
    /// A CSS colour; `None` takes the palette colour of the series' position.
    pub color: Option<&'static str>,
    /// Stroke width in pixels (default 1.5).
    pub width: f64,
    /// An SVG `stroke-dasharray` such as `"6 3"` (dash 6 px, gap 3 px); `None` for solid.
    pub dash: Option<&'static str>,
    /// Stroke opacity in [0, 1] (default 1).
    pub opacity: f64,
    /// Whether each point also gets a dot (for series measured at a few iterations only).
    pub markers: bool,
    /// Whether the series is measured on the right-hand y axis ([`LineChart::y2_range`]).
    pub right_axis: bool,
}

impl Default for Style {
    fn default() -> Style {
        Style {
            color: None,
            width: 1.5,
            dash: None,
            opacity: 1.0,
            markers: false,
            right_axis: false,
        }
    }
}

impl Style {
    /// Sets the colour.
    pub fn color(mut self, color: &'static str) -> Style {
        self.color = Some(color);
        self
    }
    /// Sets the stroke width in pixels.
    pub fn width(mut self, width: f64) -> Style {
        self.width = width;
        self
    }
    /// Sets the dash pattern (`stroke-dasharray`).
    pub fn dash(mut self, pattern: &'static str) -> Style {
        self.dash = Some(pattern);
        self
    }
    /// Sets the opacity (clamped to [0, 1]).
    pub fn opacity(mut self, opacity: f64) -> Style {
        self.opacity = opacity.clamp(0.0, 1.0);
        self
    }
    /// Draws a dot at every point.
    pub fn markers(mut self) -> Style {
        self.markers = true;
        self
    }
    /// Measures the series on the right-hand y axis.
    pub fn right_axis(mut self) -> Style {
        self.right_axis = true;
        self
    }
}

/// A named series of `(x, y)` points and how it is drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Name shown in the legend.
    pub name: String,
    /// Points in drawing order.
    pub points: Vec<(f64, f64)>,
    /// How the series is drawn.
    pub style: Style,
}

/// The symbol of a legend entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Mark {
    /// A short line drawn like a series of this [`Style`] (its colour must be set).
    Line(Style),
    /// A filled dot, as a scatter plot draws samples.
    Dot {
        /// A CSS colour.
        color: String,
        /// Fill opacity in [0, 1].
        opacity: f64,
    },
}

/// One entry of a legend: a symbol and its label.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendEntry {
    /// The text.
    pub label: String,
    /// The symbol drawn before it.
    pub mark: Mark,
}

/// The range an axis shows and the step between its ticks.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scale {
    lo: f64,
    hi: f64,
    step: f64,
}

impl Scale {
    /// `[lo, hi]` exactly, with nice ticks inside.
    fn fixed(lo: f64, hi: f64, target: usize) -> Scale {
        Scale {
            lo,
            hi,
            step: nice_ticks(lo, hi, target).0,
        }
    }

    /// The finite `values` widened to multiples of a nice tick step ([0, 1] with none).
    fn fit(values: impl Iterator<Item = f64>, target: usize) -> Scale {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.filter(|v| v.is_finite()) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if lo > hi {
            return Scale {
                lo: 0.0,
                hi: 1.0,
                step: 0.2,
            };
        }
        if lo == hi {
            let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
            lo -= d;
            hi += d;
        }
        let step = nice_ticks(lo, hi, target).0;
        let (a, b) = (
            (lo / step + 1e-9).floor() * step,
            (hi / step - 1e-9).ceil() * step,
        );
        // Snap values like 0.30000000000000004 to the tick they stand for.
        let snap = |v: f64| (v / step).round() * step;
        Scale {
            lo: snap(a),
            hi: snap(b),
            step,
        }
    }

    fn ticks(&self) -> Vec<f64> {
        ticks_with_step(self.lo, self.hi, self.step)
    }
}

/// Everything around the data: title, axes box, ticks, tick labels and axis labels.
struct Frame<'a> {
    width: f64,
    /// `(left, top, right, bottom)` of the axes box.
    area: (f64, f64, f64, f64),
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    y2_label: &'a str,
    x: Scale,
    y: Scale,
    y2: Option<Scale>,
    /// Light grid lines across the box (a raster picture draws its own).
    grid: bool,
}

impl Frame<'_> {
    fn px(&self, x: f64) -> f64 {
        let (left, _, right, _) = self.area;
        left + (x - self.x.lo) / (self.x.hi - self.x.lo) * (right - left)
    }

    fn py(&self, y: f64, scale: &Scale) -> f64 {
        let (_, top, _, bottom) = self.area;
        bottom - (y - scale.lo) / (scale.hi - scale.lo) * (bottom - top)
    }

    fn draw(&self, s: &mut String) {
        let (left, top, right, bottom) = self.area;
        let _ = writeln!(
            s,
            r#"<text x="{:.2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">{}</text>"#,
            self.width / 2.0,
            escape_xml(self.title)
        );
        for t in self.x.ticks() {
            let x = self.px(t);
            if self.grid {
                let _ = writeln!(
                    s,
                    r##"<line x1="{x:.2}" y1="{top}" x2="{x:.2}" y2="{bottom}" stroke="#e5e5e5"/>"##
                );
            }
            let _ = writeln!(
                s,
                r##"<line x1="{x:.2}" y1="{bottom}" x2="{x:.2}" y2="{:.2}" stroke="#333"/><text class="tick" x="{x:.2}" y="{:.2}" text-anchor="middle">{}</text>"##,
                bottom + 4.0,
                bottom + 16.0,
                format_tick(t, self.x.step)
            );
        }
        for t in self.y.ticks() {
            let y = self.py(t, &self.y);
            if self.grid {
                let _ = writeln!(
                    s,
                    r##"<line x1="{left}" y1="{y:.2}" x2="{right}" y2="{y:.2}" stroke="#e5e5e5"/>"##
                );
            }
            let _ = writeln!(
                s,
                r##"<line x1="{:.2}" y1="{y:.2}" x2="{left}" y2="{y:.2}" stroke="#333"/><text class="tick" x="{:.2}" y="{:.2}" text-anchor="end">{}</text>"##,
                left - 4.0,
                left - 6.0,
                y + 4.0,
                format_tick(t, self.y.step)
            );
        }
        if let Some(y2) = &self.y2 {
            for t in y2.ticks() {
                let y = self.py(t, y2);
                let _ = writeln!(
                    s,
                    r##"<line x1="{right}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="#333"/><text class="tick" x="{:.2}" y="{:.2}" text-anchor="start">{}</text>"##,
                    right + 4.0,
                    right + 6.0,
                    y + 4.0,
                    format_tick(t, y2.step)
                );
            }
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
                bottom + 36.0,
                escape_xml(self.x_label)
            );
        }
        let cy = (top + bottom) / 2.0;
        if !self.y_label.is_empty() {
            let cx = 16.0;
            let _ = writeln!(
                s,
                r#"<text x="{cx}" y="{cy:.2}" text-anchor="middle" transform="rotate(-90 {cx} {cy:.2})">{}</text>"#,
                escape_xml(self.y_label)
            );
        }
        if self.y2.is_some() && !self.y2_label.is_empty() {
            let cx = self.width - 12.0;
            let _ = writeln!(
                s,
                r#"<text x="{cx:.2}" y="{cy:.2}" text-anchor="middle" transform="rotate(90 {cx:.2} {cy:.2})">{}</text>"#,
                escape_xml(self.y2_label)
            );
        }
    }
}

/// The stroke attributes of a style in `color`.
fn stroke_attributes(style: &Style, color: &str) -> String {
    let mut a = format!(r#"stroke="{color}" stroke-width="{}""#, style.width);
    if let Some(d) = style.dash {
        let _ = write!(a, r#" stroke-dasharray="{d}""#);
    }
    if style.opacity < 1.0 {
        let _ = write!(a, r#" stroke-opacity="{}""#, style.opacity);
    }
    a
}

/// Pixels a legend label of `text` takes at font size 12 (an upper estimate for sans-serif).
fn text_width(text: &str) -> f64 {
    6.8 * text.chars().count() as f64
}

/// Where each legend entry goes when entries are laid out left to right from `x0`, wrapping
/// before `x1`: the entries' `(x, row)` and the number of rows.
fn legend_layout(entries: &[LegendEntry], x0: f64, x1: f64) -> (Vec<(f64, usize)>, usize) {
    let mut at = Vec::with_capacity(entries.len());
    let (mut x, mut row) = (x0, 0);
    for e in entries {
        let w = 30.0 + text_width(&e.label);
        if x > x0 && x + w > x1 {
            x = x0;
            row += 1;
        }
        at.push((x, row));
        x += w + 18.0;
    }
    (at, if entries.is_empty() { 0 } else { row + 1 })
}

/// Height of one legend row in pixels.
const LEGEND_ROW: f64 = 18.0;

/// Draws `entries` in rows from `(x0, y0)` (the top of the first row), wrapping before `x1`.
fn draw_legend(s: &mut String, entries: &[LegendEntry], x0: f64, x1: f64, y0: f64) {
    let (at, _) = legend_layout(entries, x0, x1);
    for (e, &(x, row)) in entries.iter().zip(&at) {
        let y = y0 + LEGEND_ROW * row as f64 + 9.0;
        s.push_str(r#"<g class="legend-entry">"#);
        match &e.mark {
            Mark::Line(style) => {
                let color = style.color.unwrap_or("#333");
                let _ = write!(
                    s,
                    r#"<line x1="{x:.2}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" {}/>"#,
                    x + 24.0,
                    stroke_attributes(style, color)
                );
                if style.markers {
                    let _ = write!(
                        s,
                        r#"<circle cx="{:.2}" cy="{y:.2}" r="2.5" fill="{color}"/>"#,
                        x + 12.0
                    );
                }
            }
            Mark::Dot { color, opacity } => {
                let _ = write!(
                    s,
                    r#"<circle cx="{:.2}" cy="{y:.2}" r="4" fill="{}" fill-opacity="{opacity}"/>"#,
                    x + 12.0,
                    escape_xml(color)
                );
            }
        }
        let _ = writeln!(
            s,
            r#"<text x="{:.2}" y="{:.2}">{}</text></g>"#,
            x + 30.0,
            y + 4.0,
            escape_xml(&e.label)
        );
    }
}

/// A line chart: several named series, axes with "nice" ticks and labels, a legend, rendered
/// as one standalone `<svg>` element (usable as a file or inline in HTML).
///
/// ```
/// use minimax_gan::report::svg::LineChart;
/// let svg = LineChart::new("losses")
///     .x_label("iteration")
///     .y_label("loss (no unit)")
///     .series_y("D loss", &[1.4, 1.2, 1.3])
///     .series_y("G loss", &[0.7, 0.9, 0.8])
///     .to_svg();
/// assert!(svg.starts_with("<svg") && svg.matches("<polyline").count() == 2);
/// assert!(svg.contains(">D loss</text>") && svg.contains(">loss (no unit)</text>"));
/// ```
///
/// Each series becomes one `<polyline class="series">` per run of finite points (a NaN or
/// infinite value breaks the line, so a diverged loss shows as a gap, not as a wild spike); a
/// run of one point is drawn as a dot.
/// Unless fixed with [`LineChart::x_range`] / [`LineChart::y_range`], each axis spans the
/// finite data widened to the enclosing "nice" tick values (1, 2 or 5 × 10ᵏ steps); data
/// `(x, y)` is drawn at `px = left + (x − x_lo)/(x_hi − x_lo)·(right − left)`,
/// `py = bottom − (y − y_lo)/(y_hi − y_lo)·(bottom − top)` with the box of
/// [`LineChart::plot_area`]. Series styled with [`Style::right_axis`] are measured on a second
/// y axis on the right ([`LineChart::y2_range`], [`LineChart::y2_label`]).
///
/// The legend sits below the chart's `width × height`, in as many rows as it needs, so the
/// SVG is taller than `height` by those rows and never covers a line.
#[derive(Debug, Clone)]
pub struct LineChart {
    title: String,
    x_label: String,
    y_label: String,
    y2_label: String,
    width: f64,
    height: f64,
    series: Vec<Series>,
    x_range: Option<(f64, f64)>,
    y_range: Option<(f64, f64)>,
    y2_range: Option<(f64, f64)>,
}

const MARGIN_LEFT: f64 = 64.0;
const MARGIN_RIGHT: f64 = 20.0;
/// The right margin when a second y axis needs room for its tick labels and its label.
const MARGIN_RIGHT_Y2: f64 = 64.0;
const MARGIN_TOP: f64 = 34.0;
const MARGIN_BOTTOM: f64 = 48.0;

#[track_caller]
fn check_range(what: &str, lo: f64, hi: f64) {
    assert!(
        lo < hi && lo.is_finite() && hi.is_finite(),
        "{what}: need finite lo < hi, got [{lo}, {hi}]"
    );
}

impl LineChart {
    /// An empty chart titled `title`, 640 × 360 px (plus the legend's rows).
    pub fn new(title: impl Into<String>) -> LineChart {
        LineChart {
            title: title.into(),
            x_label: String::new(),
            y_label: String::new(),
            y2_label: String::new(),
            width: 640.0,
            height: 360.0,
            series: Vec::new(),
            x_range: None,
            y_range: None,
            y2_range: None,
        }
    }

    /// Sets the size in pixels (at least 200 × 150), not counting the legend's rows.
    pub fn size(mut self, width: f64, height: f64) -> LineChart {
        self.width = width.max(200.0);
        self.height = height.max(150.0);
        self
    }

    /// Label under the x axis (say what x is and its unit).
    pub fn x_label(mut self, label: impl Into<String>) -> LineChart {
        self.x_label = label.into();
        self
    }

    /// Label along the left y axis (say what y is and its unit, or "(no unit)").
    pub fn y_label(mut self, label: impl Into<String>) -> LineChart {
        self.y_label = label.into();
        self
    }

    /// Label along the right y axis, which series styled with [`Style::right_axis`] use.
    pub fn y2_label(mut self, label: impl Into<String>) -> LineChart {
        self.y2_label = label.into();
        self
    }

    /// Fixes the x axis to `[lo, hi]` exactly (points outside are clipped by the axes box).
    /// Panics unless `lo < hi`, both finite.
    #[track_caller]
    pub fn x_range(mut self, lo: f64, hi: f64) -> LineChart {
        check_range("x_range", lo, hi);
        self.x_range = Some((lo, hi));
        self
    }

    /// Fixes the left y axis to `[lo, hi]` exactly. Panics unless `lo < hi`, both finite.
    #[track_caller]
    pub fn y_range(mut self, lo: f64, hi: f64) -> LineChart {
        check_range("y_range", lo, hi);
        self.y_range = Some((lo, hi));
        self
    }

    /// Fixes the right y axis to `[lo, hi]` exactly (a probability's `[0, 1]`, say). Panics
    /// unless `lo < hi`, both finite.
    #[track_caller]
    pub fn y2_range(mut self, lo: f64, hi: f64) -> LineChart {
        check_range("y2_range", lo, hi);
        self.y2_range = Some((lo, hi));
        self
    }

    /// Adds a series of `(x, y)` points, drawn in the next palette colour.
    pub fn series(self, name: impl Into<String>, points: &[(f64, f64)]) -> LineChart {
        self.series_styled(name, points, Style::default())
    }

    /// Adds a series of `(x, y)` points drawn with `style`.
    pub fn series_styled(
        mut self,
        name: impl Into<String>,
        points: &[(f64, f64)],
        style: Style,
    ) -> LineChart {
        self.series.push(Series {
            name: name.into(),
            points: points.to_vec(),
            style,
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

    fn has_right_axis(&self) -> bool {
        self.y2_range.is_some() || self.series.iter().any(|s| s.style.right_axis)
    }

    /// The axes box in SVG pixels: `(left, top, right, bottom)`.
    pub fn plot_area(&self) -> (f64, f64, f64, f64) {
        let right = if self.has_right_axis() {
            MARGIN_RIGHT_Y2
        } else {
            MARGIN_RIGHT
        };
        (
            MARGIN_LEFT,
            MARGIN_TOP,
            self.width - right,
            self.height - MARGIN_BOTTOM,
        )
    }

    /// The scale of one axis: fixed, or fitted to the finite points of the series `on` picks.
    fn scale(
        &self,
        fixed: Option<(f64, f64)>,
        on: impl Fn(&Series) -> bool,
        pick: impl Fn(&(f64, f64)) -> f64,
    ) -> Scale {
        if let Some((lo, hi)) = fixed {
            return Scale::fixed(lo, hi, 6);
        }
        let values = self
            .series
            .iter()
            .filter(|s| on(s))
            .flat_map(|s| s.points.iter())
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .map(&pick);
        Scale::fit(values, 6)
    }

    fn scales(&self) -> (Scale, Scale, Option<Scale>) {
        let x = self.scale(self.x_range, |_| true, |p| p.0);
        let y = self.scale(self.y_range, |s| !s.style.right_axis, |p| p.1);
        let y2 = self
            .has_right_axis()
            .then(|| self.scale(self.y2_range, |s| s.style.right_axis, |p| p.1));
        (x, y, y2)
    }

    /// The data ranges the x axis and the left y axis show: `((x_lo, x_hi), (y_lo, y_hi))`.
    pub fn domain(&self) -> ((f64, f64), (f64, f64)) {
        let (x, y, _) = self.scales();
        ((x.lo, x.hi), (y.lo, y.hi))
    }

    /// The range the right y axis shows, if the chart has one.
    pub fn domain_right(&self) -> Option<(f64, f64)> {
        self.scales().2.map(|s| (s.lo, s.hi))
    }

    /// The style of series `k` with its colour resolved (the palette's `k`-th by default).
    fn resolved_style(&self, k: usize) -> Style {
        let style = &self.series[k].style;
        Style {
            color: Some(style.color.unwrap_or(PALETTE[k % PALETTE.len()])),
            ..style.clone()
        }
    }

    /// The legend: one entry per series, drawn as the series is.
    pub fn legend(&self) -> Vec<LegendEntry> {
        (0..self.series.len())
            .map(|k| LegendEntry {
                label: self.series[k].name.clone(),
                mark: Mark::Line(self.resolved_style(k)),
            })
            .collect()
    }

    /// Renders the chart as a standalone SVG document (one `<svg class="chart">` element with an
    /// `xmlns`), `width` wide and `height` plus the legend's rows high.
    pub fn to_svg(&self) -> String {
        let (x, y, y2) = self.scales();
        let frame = Frame {
            width: self.width,
            area: self.plot_area(),
            title: &self.title,
            x_label: &self.x_label,
            y_label: &self.y_label,
            y2_label: &self.y2_label,
            x,
            y,
            y2,
            grid: true,
        };
        let (left, top, right, bottom) = frame.area;
        let legend = self.legend();
        let (_, rows) = legend_layout(&legend, left, self.width - 8.0);
        let w = self.width;
        let h = self.height + LEGEND_ROW * rows as f64;
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(
            s,
            r#"<rect x="0" y="0" width="{w}" height="{h}" fill="white"/>"#
        );
        // The clip rectangle depends only on the axes box, so charts with equal boxes inlined in
        // one HTML page may share the id harmlessly, and the output stays deterministic.
        let clip = format!("minimax-clip-{left}-{top}-{right}-{bottom}");
        let _ = writeln!(
            s,
            r#"<defs><clipPath id="{clip}"><rect x="{left}" y="{top}" width="{}" height="{}"/></clipPath></defs>"#,
            right - left,
            bottom - top
        );
        frame.draw(&mut s);
        for (k, ser) in self.series.iter().enumerate() {
            let style = self.resolved_style(k);
            let color = style.color.unwrap_or("#333");
            let scale = match (&frame.y2, style.right_axis) {
                (Some(y2), true) => y2,
                _ => &frame.y,
            };
            let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
            for &(px, py) in &ser.points {
                if px.is_finite() && py.is_finite() {
                    runs.last_mut().unwrap().push((px, py));
                } else if !runs.last().unwrap().is_empty() {
                    runs.push(Vec::new());
                }
            }
            for run in runs.iter().filter(|r| !r.is_empty()) {
                let pts: Vec<(f64, f64)> = run
                    .iter()
                    .map(|&(a, b)| (frame.px(a), frame.py(b, scale)))
                    .collect();
                if let [(a, b)] = pts[..] {
                    // a single point draws no line: show it as a dot
                    let _ = writeln!(
                        s,
                        r#"<circle class="series" data-name="{}" cx="{a:.2}" cy="{b:.2}" r="2.5" fill="{color}" clip-path="url(#{clip})"/>"#,
                        escape_xml(&ser.name)
                    );
                    continue;
                }
                let text: Vec<String> = pts.iter().map(|(a, b)| format!("{a:.2},{b:.2}")).collect();
                let _ = writeln!(
                    s,
                    r#"<polyline class="series" data-name="{}" points="{}" fill="none" {} clip-path="url(#{clip})"/>"#,
                    escape_xml(&ser.name),
                    text.join(" "),
                    stroke_attributes(&style, color)
                );
                if style.markers {
                    for (a, b) in pts {
                        let _ = writeln!(
                            s,
                            r#"<circle class="marker" cx="{a:.2}" cy="{b:.2}" r="2.5" fill="{color}" clip-path="url(#{clip})"/>"#
                        );
                    }
                }
            }
        }
        draw_legend(&mut s, &legend, left, w - 8.0, self.height);
        s.push_str("</svg>\n");
        s
    }
}

/// A colour scale shown beside a picture: which colour stands for which value.
#[derive(Debug, Clone, PartialEq)]
pub struct ColorBar {
    /// What the colours measure, with its unit (drawn along the bar).
    pub label: String,
    /// The values at the bottom and the top of the bar.
    pub range: (f64, f64),
    /// Colours at positions in [0, 1] along the bar (0 = bottom), in increasing position;
    /// between two stops the colour is interpolated linearly.
    pub stops: Vec<(f64, [u8; 3])>,
    /// The number of equal bands the colours come in (each the colour of its middle), or 0
    /// for a continuous scale.
    pub levels: usize,
}

impl ColorBar {
    /// The colour at position `t` in [0, 1] along the bar (of `t`'s band, with bands).
    pub fn color_at(&self, t: f64) -> [u8; 3] {
        let t = super::png::quantize(t.clamp(0.0, 1.0), self.levels);
        let Some(first) = self.stops.first() else {
            return [128, 128, 128];
        };
        let mut prev = *first;
        for &(p, c) in &self.stops {
            if t <= p {
                let f = if p > prev.0 {
                    (t - prev.0) / (p - prev.0)
                } else {
                    1.0
                };
                return [0, 1, 2].map(|k| {
                    (prev.1[k] as f64 + f * (c[k] as f64 - prev.1[k] as f64)).round() as u8
                });
            }
            prev = (p, c);
        }
        prev.1
    }
}

/// Axes around a raster picture: a scatter plot rendered as a PNG fills the axes box exactly,
/// and this draws everything around it — title, ticks and tick labels, axis labels, a legend
/// below and an optional colour bar on the right — as a transparent SVG laid over it.
///
/// ```
/// use minimax_gan::report::svg::ImageAxes;
/// let axes = ImageAxes::new("samples", 300, 200, (-2.0, 2.0), (-1.0, 1.0))
///     .x_label("x₁ (no unit)")
///     .y_label("x₂ (no unit)");
/// let (left, top) = axes.image_origin();
/// let (w, h) = axes.size();
/// assert!(left > 0.0 && top > 0.0 && w > 300.0 && h > 200.0);
/// assert!(axes.to_svg().contains(">x₁ (no unit)</text>"));
/// ```
///
/// The picture's pixel column `px` (of `image_width`) shows x = `x_lo + (px + ½)/image_width ·
/// (x_hi − x_lo)` and row `py` shows y = `y_hi − (py + ½)/image_height · (y_hi − y_lo)`, the
/// convention of [`super::png::ScatterPlot`]; ticks are placed at "nice" values with about
/// [`ImageAxes::tick_target`] per axis, as the scatter plot places its grid lines.
#[derive(Debug, Clone)]
pub struct ImageAxes {
    title: String,
    x_label: String,
    y_label: String,
    image_width: usize,
    image_height: usize,
    x_range: (f64, f64),
    y_range: (f64, f64),
    ticks: usize,
    legend: Vec<LegendEntry>,
    color_bar: Option<ColorBar>,
}

/// Width the colour bar and its labels take right of the axes box.
const COLOR_BAR_SPACE: f64 = 90.0;

impl ImageAxes {
    /// Axes for a picture of `image_width × image_height` pixels showing `x_range × y_range`.
    /// Panics if a size is 0 or a range is empty or not finite.
    #[track_caller]
    pub fn new(
        title: impl Into<String>,
        image_width: usize,
        image_height: usize,
        x_range: (f64, f64),
        y_range: (f64, f64),
    ) -> ImageAxes {
        assert!(
            image_width > 0 && image_height > 0,
            "ImageAxes: the picture's size must be positive"
        );
        check_range("ImageAxes x_range", x_range.0, x_range.1);
        check_range("ImageAxes y_range", y_range.0, y_range.1);
        ImageAxes {
            title: title.into(),
            x_label: String::new(),
            y_label: String::new(),
            image_width,
            image_height,
            x_range,
            y_range,
            ticks: 8,
            legend: Vec::new(),
            color_bar: None,
        }
    }

    /// Label under the x axis.
    pub fn x_label(mut self, label: impl Into<String>) -> ImageAxes {
        self.x_label = label.into();
        self
    }

    /// Label along the y axis.
    pub fn y_label(mut self, label: impl Into<String>) -> ImageAxes {
        self.y_label = label.into();
        self
    }

    /// About how many ticks per axis (default 8, as [`super::png::ScatterPlot`] draws its grid).
    pub fn tick_target(mut self, n: usize) -> ImageAxes {
        self.ticks = n.max(2);
        self
    }

    /// Adds a legend entry (drawn below the axes).
    pub fn legend(mut self, entry: LegendEntry) -> ImageAxes {
        self.legend.push(entry);
        self
    }

    /// Adds a colour bar right of the axes.
    pub fn color_bar(mut self, bar: ColorBar) -> ImageAxes {
        self.color_bar = Some(bar);
        self
    }

    /// The picture's size in pixels.
    pub fn image_size(&self) -> (usize, usize) {
        (self.image_width, self.image_height)
    }

    /// Where the picture's top-left corner goes, in the SVG's pixels.
    pub fn image_origin(&self) -> (f64, f64) {
        (MARGIN_LEFT, MARGIN_TOP)
    }

    fn width(&self) -> f64 {
        let right = MARGIN_RIGHT
            + if self.color_bar.is_some() {
                COLOR_BAR_SPACE
            } else {
                0.0
            };
        MARGIN_LEFT + self.image_width as f64 + right
    }

    fn rows(&self) -> usize {
        legend_layout(&self.legend, MARGIN_LEFT, self.width() - 8.0).1
    }

    /// The whole SVG's size in pixels: the picture, the margins and the legend's rows.
    pub fn size(&self) -> (f64, f64) {
        let h =
            MARGIN_TOP + self.image_height as f64 + MARGIN_BOTTOM + LEGEND_ROW * self.rows() as f64;
        (self.width(), h)
    }

    /// The overlay as one `<svg class="overlay">` element of [`ImageAxes::size`], transparent
    /// except for what it draws, to lay over the picture placed at [`ImageAxes::image_origin`].
    pub fn to_svg(&self) -> String {
        let (w, h) = self.size();
        let (left, top) = self.image_origin();
        let (right, bottom) = (
            left + self.image_width as f64,
            top + self.image_height as f64,
        );
        let frame = Frame {
            width: w,
            area: (left, top, right, bottom),
            title: &self.title,
            x_label: &self.x_label,
            y_label: &self.y_label,
            y2_label: "",
            x: Scale::fixed(self.x_range.0, self.x_range.1, self.ticks),
            y: Scale::fixed(self.y_range.0, self.y_range.1, self.ticks),
            y2: None,
            grid: false,
        };
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="overlay" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
        );
        frame.draw(&mut s);
        if let Some(bar) = &self.color_bar {
            self.draw_color_bar(&mut s, bar, right + 24.0, top, bottom);
        }
        draw_legend(&mut s, &self.legend, left, w - 8.0, bottom + MARGIN_BOTTOM);
        s.push_str("</svg>\n");
        s
    }

    /// A vertical bar of 64 bands from `bar.range.0` (bottom) to `bar.range.1` (top) at `x`,
    /// with ticks on its right and the label beyond them.
    fn draw_color_bar(&self, s: &mut String, bar: &ColorBar, x: f64, top: f64, bottom: f64) {
        let bands = if bar.levels > 0 { bar.levels } else { 64 };
        let band = (bottom - top) / bands as f64;
        for i in 0..bands {
            let c = bar.color_at((i as f64 + 0.5) / bands as f64);
            let _ = writeln!(
                s,
                r#"<rect x="{x:.2}" y="{:.2}" width="14" height="{:.2}" fill="rgb({},{},{})"/>"#,
                bottom - (i + 1) as f64 * band,
                band + 0.5,
                c[0],
                c[1],
                c[2]
            );
        }
        let _ = writeln!(
            s,
            r##"<rect x="{x:.2}" y="{top}" width="14" height="{}" fill="none" stroke="#333"/>"##,
            bottom - top
        );
        let scale = Scale::fixed(bar.range.0, bar.range.1, 4);
        for t in scale.ticks() {
            let y = bottom - (t - scale.lo) / (scale.hi - scale.lo) * (bottom - top);
            let _ = writeln!(
                s,
                r##"<line x1="{:.2}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="#333"/><text class="tick" x="{:.2}" y="{:.2}">{}</text>"##,
                x + 14.0,
                x + 18.0,
                x + 20.0,
                y + 4.0,
                format_tick(t, scale.step)
            );
        }
        let (cx, cy) = (x + 60.0, (top + bottom) / 2.0);
        let _ = writeln!(
            s,
            r#"<text x="{cx:.2}" y="{cy:.2}" text-anchor="middle" transform="rotate(90 {cx:.2} {cy:.2})">{}</text>"#,
            escape_xml(&bar.label)
        );
    }
}
