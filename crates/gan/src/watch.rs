//! What a run watches during training for its report, and the report's sections drawn from it.
//!
//! `metrics.csv` keeps one row every `--log-every` iterations; a report drawn from those rows
//! alone shows a few dozen points of a run. The run loop ([`crate::run::train`]) therefore hands
//! every iteration to a [`Watch`], which keeps:
//!
//! - **curves**: every figure of every iteration, or of every k-th iteration when a run is
//!   longer than [`CURVE_POINTS`] iterations (k chosen so about that many points remain);
//! - on **1-D data**, the tutorial's central claim measured: at about [`JSD_POINTS`] iterations
//!   spread over the run, the true Jensen–Shannon divergence between the data and the
//!   generator (integrated numerically: the data's density against a kernel density estimate
//!   of G's samples) beside D's estimate (V + ln 4)/2 on fresh samples; and at the start, ¼,
//!   ½ and the end of the run, the data density, G's density, D(x) and the optimal
//!   D*(x) = p_data/(p_data + p_g) on a grid;
//! - on **2-D data**, about [`FRAMES`] pictures of the samples over D's decision surface, all
//!   with the same axes, which the report shows behind a slider.
//!
//! Everything is drawn with generators of its own fixed seeds, never the training generator,
//! so watching does not change what is trained (a resumed run still matches a straight one
//! bit for bit).

use crate::data::{Data, Dataset};
use crate::method::{Method, Record};
use crate::metrics::{jsd_1d, jsd_from_value, kde_1d, Kde};
use crate::report::png::{FAKE_COLOR, REAL_COLOR};
use crate::report::svg::{LineChart, Style, PALETTE};
use crate::report::{ImageAxes, Report, ScatterPlot};
use tensor::{DType, Rng, Tensor};

/// About how many points each curve of the report keeps.
pub const CURVE_POINTS: usize = 2000;
/// About how many frames of the 2-D decision surface a run captures.
pub const FRAMES: usize = 30;
/// About how many iterations of a 1-D run get the true JSD and D's estimate measured.
pub const JSD_POINTS: usize = 40;
/// Samples of G (and of the data) each 1-D measurement draws.
pub const JSD_SAMPLES: usize = 2000;

/// Every `every`-th iteration of `n` so that about `points` remain (every iteration for short
/// runs).
fn spacing(n: usize, points: usize) -> usize {
    n.div_ceil(points.max(1)).max(1)
}

// ---------------------------------------------------------------------------------------------
// Curves
// ---------------------------------------------------------------------------------------------

/// The figures of the run's iterations, for the report's curves: one row `[step, values…]` per
/// kept iteration, in the order of the method's record keys.
#[derive(Debug, Clone, Default)]
pub struct Curves {
    keys: Vec<&'static str>,
    /// Keep every `every`-th iteration of this invocation.
    every: usize,
    /// The first iteration this invocation trains (rows before it come from `metrics.csv`).
    start: usize,
    rows: Vec<Vec<f64>>,
}

impl Curves {
    /// Curves for an invocation that trains iterations `start + 1 ..= steps`.
    pub fn new(start: usize, steps: usize) -> Curves {
        Curves {
            keys: Vec::new(),
            every: spacing(steps.saturating_sub(start), CURVE_POINTS),
            start,
            rows: Vec::new(),
        }
    }

    /// Starts from an earlier invocation's logged rows (`[step, values…, seconds]`, as
    /// `metrics.csv` holds them) with columns `keys`, when a run resumes.
    pub fn earlier(&mut self, keys: &[&'static str], rows: &[Vec<f64>]) {
        self.keys = keys.to_vec();
        self.rows = rows
            .iter()
            .filter(|r| r.len() > keys.len() && r[0] <= self.start as f64)
            .map(|r| r[..=keys.len()].to_vec())
            .collect();
    }

    /// Records iteration `step`'s figures if it is one to keep (and always the last, `last`).
    pub fn record(&mut self, step: usize, rec: &Record, last: bool) {
        if self.keys.is_empty() {
            self.keys = rec.keys();
        }
        if (step - self.start) % self.every == 0 || last {
            let mut row = vec![step as f64];
            row.extend(rec.figures.iter().map(|f| f.value));
            self.rows.push(row);
        }
    }

    /// Iterations between kept points of this invocation.
    pub fn every(&self) -> usize {
        self.every
    }

    /// The first iteration this invocation trained.
    pub fn start(&self) -> usize {
        self.start
    }

    /// The `(iteration, value)` points of `key` (non-finite values kept, so a line breaks at
    /// them); empty for a key the method does not record.
    pub fn series(&self, key: &str) -> Vec<(f64, f64)> {
        let Some(i) = self.keys.iter().position(|k| *k == key) else {
            return Vec::new();
        };
        self.rows.iter().map(|r| (r[0], r[i + 1])).collect()
    }

    /// The keys recorded.
    pub fn keys(&self) -> &[&'static str] {
        &self.keys
    }
}

/// Whether any point of `series` has a finite value.
fn any_finite(series: &[(f64, f64)]) -> bool {
    series.iter().any(|p| p.1.is_finite())
}

// ---------------------------------------------------------------------------------------------
// 1-D data: densities, D(x) and the JSD over training
// ---------------------------------------------------------------------------------------------

/// G's samples and D on the grid at one iteration.
#[derive(Debug, Clone)]
struct Snapshot {
    step: usize,
    /// G's samples, sorted.
    samples: Vec<f64>,
    /// D(x) on the grid, if the method has a D giving probabilities.
    d: Option<Vec<f64>>,
}

/// One measurement of the JSD.
#[derive(Debug, Clone, Copy)]
struct JsdPoint {
    step: usize,
    /// JSD(p_data, p_g) integrated numerically.
    truth: f64,
    /// (V + ln 4)/2 with V measured on fresh samples, if the method has a D.
    estimate: Option<f64>,
}

/// The Jensen–Shannon divergence (nats) between 1-D data of density `p_data` and the
/// distribution of G's `samples` (sorted, finite, at least one), estimated by a Gaussian kernel
/// density estimate ([`kde_1d`], Silverman's bandwidth) and integrated by Simpson's rule
/// ([`jsd_1d`]) over `range` widened to 5 bandwidths beyond the samples, in at least 2,000
/// intervals and at least 4 per bandwidth (up to 100,000), so that even the narrow spike of a
/// collapsed G is resolved.
///
/// The kernel smooths G's distribution, so even samples of the data's own distribution give a
/// small positive value (about 0.001 for 2,000 samples of a Gaussian).
#[track_caller]
pub fn true_jsd(p_data: impl Fn(f64) -> f64, samples: &[f64], range: (f64, f64)) -> f64 {
    assert!(!samples.is_empty(), "true_jsd: no samples");
    let kde = kde_1d(samples, None);
    let reach = 5.0 * kde.bandwidth();
    let lo = range.0.min(samples[0] - reach);
    let hi = range.1.max(samples[samples.len() - 1] + reach);
    let intervals = ((hi - lo) / (kde.bandwidth() / 4.0)).clamp(2000.0, 100_000.0) as usize;
    jsd_1d(p_data, |x| kde.pdf(x), lo, hi, intervals)
}

/// D's estimate of the JSD, (V + ln 4)/2, with V = mean ln D(x) over `real` + mean
/// ln(1 − D(x̃)) over `fake`, from D's probabilities on real and generated samples. The
/// probabilities are clamped to [1e-7, 1 − 1e-7], whose logarithms are finite.
///
/// ```
/// use minimax_gan::watch::estimated_jsd;
/// // a D that cannot tell (½ everywhere) estimates 0; a perfect one ln 2
/// assert!(estimated_jsd(&[0.5; 4], &[0.5; 4]).abs() < 1e-12);
/// assert!((estimated_jsd(&[1.0; 4], &[0.0; 4]) - std::f64::consts::LN_2).abs() < 1e-6);
/// ```
#[track_caller]
pub fn estimated_jsd(real: &[f64], fake: &[f64]) -> f64 {
    assert!(
        !real.is_empty() && !fake.is_empty(),
        "estimated_jsd: need probabilities on real and generated samples"
    );
    let clamp = |p: f64| p.clamp(1e-7, 1.0 - 1e-7);
    let mean = |v: &[f64], f: &dyn Fn(f64) -> f64| {
        v.iter().map(|&p| f(clamp(p))).sum::<f64>() / v.len() as f64
    };
    jsd_from_value(mean(real, &|p| p.ln()) + mean(fake, &|p| (1.0 - p).ln()))
}

/// The densities of 1-D data: the known density, or a kernel density estimate of its samples.
enum DataDensity {
    Known,
    Estimated(Kde),
}

/// What a 1-D run watches.
struct OneD {
    /// The x range the density charts show.
    range: (f64, f64),
    /// The points of the charts' curves.
    grid: Vec<f64>,
    density: DataDensity,
    /// Real samples D's estimate is measured on.
    real: Tensor,
    /// Iterations whose densities are drawn.
    snapshot_at: Vec<usize>,
    snapshots: Vec<Snapshot>,
    jsd_every: usize,
    jsd: Vec<JsdPoint>,
}

/// Points of each density curve.
const GRID: usize = 241;

impl OneD {
    fn new(data: &dyn Dataset, start: usize, steps: usize) -> OneD {
        let real = data.sample(5000, &mut Rng::seed(11));
        let mut xs = real.to_vec_f64();
        xs.retain(|x| x.is_finite());
        if xs.is_empty() {
            xs.push(0.0);
        }
        let (lo, hi) = xs
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        // half the data's span again on each side: room to see a generator that starts elsewhere
        let pad = ((hi - lo) / 2.0).max(0.5);
        let range = (lo - pad, hi + pad);
        let grid = (0..GRID)
            .map(|i| range.0 + (range.1 - range.0) * i as f64 / (GRID - 1) as f64)
            .collect();
        let density = if data.density(lo).is_some() {
            DataDensity::Known
        } else {
            DataDensity::Estimated(kde_1d(&xs, None))
        };
        let mut snapshot_at = vec![start, steps / 4, steps / 2, steps];
        snapshot_at.retain(|&s| s >= start);
        snapshot_at.dedup();
        OneD {
            range,
            grid,
            density,
            real: real.narrow(0, 0, JSD_SAMPLES.min(5000)),
            snapshot_at,
            snapshots: Vec::new(),
            jsd_every: spacing(steps.saturating_sub(start), JSD_POINTS),
            jsd: Vec::new(),
        }
    }

    fn p_data(&self, data: &dyn Dataset, x: f64) -> f64 {
        match &self.density {
            DataDensity::Known => data.density(x).unwrap_or(0.0),
            DataDensity::Estimated(kde) => kde.pdf(x),
        }
    }

    /// Whether iteration `step` (of an invocation that started at `start`) gets a snapshot of
    /// the densities and a measurement of the JSD.
    fn due(&self, step: usize, start: usize, last: bool) -> (bool, bool) {
        (
            self.snapshot_at.contains(&step),
            (step - start) % self.jsd_every == 0 || last,
        )
    }

    /// Draws G's samples and evaluates D: a snapshot of the densities and D(x) if `snapshot`,
    /// the true JSD and D's estimate if `measure`.
    fn capture(
        &mut self,
        method: &dyn Method,
        data: &dyn Dataset,
        step: usize,
        snapshot: bool,
        measure: bool,
    ) {
        if !snapshot && !measure {
            return;
        }
        let Some(g) = method.sample(JSD_SAMPLES, &mut Rng::seed(21)) else {
            return;
        };
        let mut samples: Vec<f64> = g.to_vec_f64();
        samples.retain(|x| x.is_finite());
        if samples.is_empty() {
            return;
        }
        samples.sort_by(f64::total_cmp);
        let probabilities = |x: &Tensor| -> Option<Vec<f64>> {
            method
                .discriminate(&x.to_dtype(DType::F32))
                .map(|p| p.to_vec_f64())
        };
        if measure {
            let truth = true_jsd(|x| self.p_data(data, x), &samples, self.range);
            let estimate = probabilities(&self.real)
                .zip(probabilities(&g))
                .map(|(real, fake)| estimated_jsd(&real, &fake));
            self.jsd.push(JsdPoint {
                step,
                truth,
                estimate,
            });
        }
        if snapshot {
            let grid = Tensor::from_vec(self.grid.clone(), [GRID, 1]);
            self.snapshots.push(Snapshot {
                step,
                samples,
                d: probabilities(&grid),
            });
        }
    }

    /// The JSD chart and the density charts.
    fn draw(&self, rep: &mut Report, data: &dyn Dataset, curves: &Curves) {
        let batch = curves.series("jsd");
        let has_estimate = any_finite(&batch) && self.jsd.iter().any(|p| p.estimate.is_some());
        let truth: Vec<(f64, f64)> = self.jsd.iter().map(|p| (p.step as f64, p.truth)).collect();
        if !truth.is_empty() {
            let mut chart = LineChart::new(if has_estimate {
                "The true JSD and D's estimate of it over training"
            } else {
                "The true JSD between the data and G over training"
            })
            .x_label("iteration")
            .y_label("JSD (nats; at most ln 2 ≈ 0.693)");
            if has_estimate {
                chart = chart.series_styled(
                    "D's estimate (V + ln 4)/2 on each training batch",
                    &batch,
                    Style::default().color(PALETTE[0]).width(1.0).opacity(0.3),
                );
            }
            chart = chart.series_styled(
                "true JSD: p_data against a KDE of 2,000 G samples",
                &truth,
                Style::default().color(PALETTE[3]).width(2.6).markers(),
            );
            if has_estimate {
                let est: Vec<(f64, f64)> = self
                    .jsd
                    .iter()
                    .map(|p| (p.step as f64, p.estimate.unwrap_or(f64::NAN)))
                    .collect();
                chart = chart.series_styled(
                    "D's estimate (V + ln 4)/2 on 2,000 fresh real and G samples",
                    &est,
                    Style::default()
                        .color(PALETTE[0])
                        .width(1.6)
                        .dash("6 3")
                        .markers(),
                );
            }
            let density = match self.density {
                DataDensity::Known => "the data's known density",
                DataDensity::Estimated(_) => "a kernel density estimate of 5,000 data samples",
            };
            let caption = if has_estimate {
                format!(
                    "With D at its optimum D* = p_data/(p_data + p_g), V = −ln 4 + 2·JSD, so \
                     (V + ln 4)/2 is the JSD; any other D gives less. Red: the true JSD, \
                     integrated numerically from {density} and a kernel density estimate of \
                     2,000 samples of G (smoothing keeps it slightly above 0 even for a \
                     perfect G). Blue dashed: D's estimate with V measured on 2,000 fresh \
                     real and generated samples at the same iterations. Faint blue: the estimate \
                     on each training batch (metrics.csv's jsd column).{}",
                    resumed(curves.start())
                )
            } else {
                format!(
                    "The true JSD, integrated numerically from {density} and a kernel density \
                     estimate of 2,000 samples of G; this method has no discriminator \
                     whose estimate could be set beside it."
                )
            };
            rep.svg(caption, chart.to_svg());
        }
        if self.snapshots.is_empty() {
            return;
        }
        // every snapshot on the same axes, so they compare at a glance
        let p_data: Vec<f64> = self.grid.iter().map(|&x| self.p_data(data, x)).collect();
        let p_g: Vec<Vec<f64>> = self
            .snapshots
            .iter()
            .map(|s| {
                let kde = kde_1d(&s.samples, None);
                self.grid.iter().map(|&x| kde.pdf(x)).collect()
            })
            .collect();
        let data_peak = p_data.iter().cloned().fold(0.0, f64::max);
        let peak = p_g.iter().flatten().cloned().fold(data_peak, f64::max);
        // a collapsed G is a tall spike: cut it at 1.6× the data's peak rather than flatten the
        // data's curve in every panel
        let top = (peak * 1.05).min(1.6 * data_peak).max(1e-9);
        let svgs: Vec<String> = self
            .snapshots
            .iter()
            .zip(&p_g)
            .map(|(s, pg)| {
                let at = |v: &[f64]| -> Vec<(f64, f64)> {
                    self.grid.iter().cloned().zip(v.iter().cloned()).collect()
                };
                let mut chart = LineChart::new(format!("iteration {}", s.step))
                    .size(460.0, 300.0)
                    .x_range(self.range.0, self.range.1)
                    .y_range(0.0, top)
                    .x_label("x (the data's value, no unit)")
                    .y_label("density (per unit of x)")
                    .series_styled(
                        "p_data",
                        &at(&p_data),
                        Style::default().color(PALETTE[0]).width(3.2),
                    )
                    .series_styled(
                        "p_g",
                        &at(pg),
                        Style::default().color(PALETTE[1]).width(1.6),
                    );
                if let Some(d) = &s.d {
                    // D* = p_data/(p_data + p_g), undefined where neither has mass
                    let optimal: Vec<f64> = p_data
                        .iter()
                        .zip(pg)
                        .map(|(&a, &b)| {
                            if a + b > 0.02 * data_peak {
                                a / (a + b)
                            } else {
                                f64::NAN
                            }
                        })
                        .collect();
                    chart = chart
                        .y2_range(0.0, 1.05)
                        .y2_label("D(x), D*(x) (probability)")
                        .series_styled(
                            "D(x)",
                            &at(d),
                            Style::default()
                                .color(PALETTE[2])
                                .width(2.0)
                                .dash("7 3")
                                .right_axis(),
                        )
                        .series_styled(
                            "D*(x)",
                            &at(&optimal),
                            Style::default()
                                .color("#555555")
                                .width(1.5)
                                .dash("2 3")
                                .right_axis(),
                        );
                }
                chart.to_svg()
            })
            .collect();
        let has_d = self.snapshots.iter().any(|s| s.d.is_some());
        let cut = if peak > top {
            " G's density is cut at the top of the axes where it peaks higher (as an untrained or \
             collapsing G does)."
        } else {
            ""
        };
        rep.svgs(
            format!(
                "The data density p_data (thick blue) and G's density p_g (thin orange: a \
                 kernel density estimate of 2,000 samples) at {}{}.{cut}",
                when(&self.snapshots.iter().map(|s| s.step).collect::<Vec<_>>(), curves.start()),
                if has_d {
                    ", with D(x) (green dashes, right axis) and the optimal discriminator \
                     D*(x) = p_data/(p_data + p_g) (grey dots, right axis; left out where both \
                     densities are below 2 % of the data's peak, where it is a ratio of noise): the better D is trained, the closer it follows D*, and \
                     where p_g = p_data both are ½"
                } else {
                    ""
                }
            ),
            &svgs,
        );
    }
}

/// "iterations 0, 250, 500 and 1000 (the start, a quarter, half and the end of the run)", or
/// for a resumed run the iterations alone.
fn when(steps: &[usize], start: usize) -> String {
    let list: Vec<String> = steps.iter().map(|s| s.to_string()).collect();
    let list = match list.len() {
        1 => format!("iteration {}", list[0]),
        n => format!(
            "iterations {} and {}",
            list[..n - 1].join(", "),
            list[n - 1]
        ),
    };
    if start == 0 && steps.len() == 4 {
        format!("{list} (the start, a quarter, half and the end of the run)")
    } else {
        list
    }
}

/// What a caption adds for a run resumed at `start`.
fn resumed(start: usize) -> String {
    if start == 0 {
        String::new()
    } else {
        format!(
            " This invocation resumed at iteration {start}: before it, only the rows of \
             metrics.csv are known."
        )
    }
}

// ---------------------------------------------------------------------------------------------
// 2-D data: frames of the samples over D's decision surface
// ---------------------------------------------------------------------------------------------

/// Side of each 2-D frame, in pixels.
const FRAME_SIZE: usize = 360;
/// Bands of D's surface in the frames: one per 0.1 of probability.
const SURFACE_LEVELS: usize = 10;

/// What a 2-D run watches.
struct TwoD {
    /// An empty plot with the ranges every frame shares.
    plot: ScatterPlot,
    real: Tensor,
    every: usize,
    /// `(iteration, PNG)`.
    frames: Vec<(usize, Vec<u8>)>,
    /// Whether the frames show D's surface.
    surface: bool,
}

impl TwoD {
    fn new(data: &dyn Dataset, start: usize, steps: usize) -> TwoD {
        let real = data.sample(1000, &mut Rng::seed(7));
        // the data's extent widened by 80 %, the same for every frame
        let fit = ScatterPlot::fit(FRAME_SIZE, FRAME_SIZE, &[&real]);
        let widen = |(lo, hi): (f64, f64)| {
            let (c, r) = ((lo + hi) / 2.0, (hi - lo) / 2.0 * 1.8);
            (c - r, c + r)
        };
        TwoD {
            plot: ScatterPlot::new(
                FRAME_SIZE,
                FRAME_SIZE,
                widen(fit.x_range()),
                widen(fit.y_range()),
            )
            .levels(SURFACE_LEVELS),
            real,
            every: spacing(steps.saturating_sub(start), FRAMES),
            frames: Vec::new(),
            surface: false,
        }
    }

    fn capture(&mut self, method: &dyn Method, step: usize, start: usize, last: bool) {
        if !((step - start) % self.every == 0 || last) {
            return;
        }
        // the same noise every frame, so a point can be followed from frame to frame
        let Some(fake) = method.sample(1000, &mut Rng::seed(8)) else {
            return;
        };
        let mut plot = self.plot.clone();
        let (nx, ny) = (64, 64);
        let grid = plot.surface_points(nx, ny);
        if let Some(d) = method.discriminate(&grid.to_dtype(DType::F32)) {
            plot = plot.surface(&d.to_vec_f64(), nx, ny);
            self.surface = true;
        }
        // G's samples first and the data over them, so the data stays visible where G covers it
        let png = plot.fake(&fake).real(&self.real).render().to_png();
        self.frames.push((step, png));
    }

    fn draw(&self, rep: &mut Report) {
        if self.frames.is_empty() {
            return;
        }
        let mut axes: ImageAxes = self
            .plot
            .axes(if self.surface {
                "Samples over D's decision surface"
            } else {
                "Samples"
            })
            .x_label("x₁ (no unit)")
            .y_label("x₂ (no unit)")
            .legend(ScatterPlot::legend_dot("data (1,000 samples)", REAL_COLOR))
            .legend(ScatterPlot::legend_dot(
                "generated (1,000 samples, the same random draws in every frame)",
                FAKE_COLOR,
            ));
        if self.surface {
            axes = axes.color_bar(
                self.plot
                    .surface_color_bar("D(x): probability that x is real", (0.0, 1.0)),
            );
        }
        let frames: Vec<(String, Vec<u8>)> = self
            .frames
            .iter()
            .map(|(s, png)| (format!("iteration {s}"), png.clone()))
            .collect();
        let (first, last) = (self.frames[0].0, self.frames[self.frames.len() - 1].0);
        let caption = format!(
            "{} frames from iteration {first} to {last}{}; move the slider to step through \
             training. Points outside the axes are not drawn.",
            frames.len(),
            if self.surface {
                ": blue dots the data (drawn over the generated ones), orange dots the \
                 generated samples, the background D's probability that a point is real in \
                 bands of 0.1 (orange below ½, white around ½, blue above)"
            } else {
                ": blue dots the data (drawn over the generated ones), orange dots the \
                 generated samples"
            }
        );
        rep.frames(caption, &axes, &frames);
    }
}

// ---------------------------------------------------------------------------------------------
// The watch
// ---------------------------------------------------------------------------------------------

/// Everything a run records during training for its report (see the module's documentation).
pub struct Watch {
    /// Every figure of every kept iteration.
    pub curves: Curves,
    start: usize,
    steps: usize,
    one_d: Option<OneD>,
    two_d: Option<TwoD>,
}

impl Watch {
    /// A watch for an invocation that trains iterations `start + 1 ..= steps` on `data`
    /// (examples of shape `shape`).
    pub fn new(data: &Data, shape: &[usize], start: usize, steps: usize) -> Watch {
        Watch {
            curves: Curves::new(start, steps),
            start,
            steps,
            one_d: (shape == [1]).then(|| OneD::new(data.train.as_ref(), start, steps)),
            two_d: (shape == [2]).then(|| TwoD::new(data.train.as_ref(), start, steps)),
        }
    }

    /// Looks at the method before the invocation's first iteration.
    pub fn at_start(&mut self, method: &dyn Method, data: &Data) {
        self.look(method, data, self.start, self.start >= self.steps);
    }

    /// Records iteration `step`'s figures and looks at the method after it.
    pub fn after_step(&mut self, method: &dyn Method, data: &Data, step: usize, rec: &Record) {
        let last = step >= self.steps;
        self.curves.record(step, rec, last);
        if step > self.start {
            self.look(method, data, step, last);
        }
    }

    /// Looks at the method at the end of an invocation stopped early (Ctrl-C), so the last
    /// frame, snapshot and measurement show where it stopped.
    pub fn at_stop(&mut self, method: &dyn Method, data: &Data) {
        let step = method.iterations();
        if let Some(o) = &mut self.one_d {
            let snapshot = o.snapshots.last().map(|s| s.step) != Some(step);
            let measure = o.jsd.last().map(|p| p.step) != Some(step);
            o.capture(method, data.train.as_ref(), step, snapshot, measure);
        }
        if let Some(t) = &mut self.two_d {
            if t.frames.last().map(|f| f.0) != Some(step) {
                t.capture(method, step, self.start, true);
            }
        }
    }

    fn look(&mut self, method: &dyn Method, data: &Data, step: usize, last: bool) {
        let start = self.start;
        if let Some(o) = &mut self.one_d {
            let (snapshot, measure) = o.due(step, start, last);
            o.capture(method, data.train.as_ref(), step, snapshot, measure);
        }
        if let Some(t) = &mut self.two_d {
            t.capture(method, step, start, last);
        }
    }

    /// Adds the 1-D or 2-D sections (the JSD and density charts, or the frames) to `rep`.
    pub fn draw_data_sections(&self, rep: &mut Report, data: &Data) {
        if let Some(o) = &self.one_d {
            o.draw(rep, data.train.as_ref(), &self.curves);
        }
        if let Some(t) = &self.two_d {
            t.draw(rep);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Gaussian1d;
    use crate::method::Record;

    fn samples(d: &Gaussian1d, n: usize, seed: u64) -> Vec<f64> {
        let mut v = d.sample(n, &mut Rng::seed(seed)).to_vec_f64();
        v.sort_by(f64::total_cmp);
        v
    }

    #[test]
    fn the_true_jsd_is_near_0_for_the_same_distribution_and_ln_2_for_disjoint_ones() {
        let data = Gaussian1d::new(4.0, 1.25);
        let same = true_jsd(|x| data.pdf(x), &samples(&data, 2000, 1), (-2.0, 10.0));
        assert!((0.0..0.003).contains(&same), "{same}");
        let far = Gaussian1d::new(40.0, 1.25);
        let apart = true_jsd(|x| data.pdf(x), &samples(&far, 2000, 2), (-2.0, 10.0));
        assert!((apart - std::f64::consts::LN_2).abs() < 1e-3, "{apart}");
        // a collapsed G, all its samples on the data's mean, is nearly as far as can be: its
        // estimate is a spike N(4, 0.004²) (the bandwidth of equal samples), which the
        // integration must resolve (2,000 intervals would step over it in two)
        let spike = true_jsd(|x| data.pdf(x), &[4.0; 2000], (-2.0, 10.0));
        let narrow = Gaussian1d::new(4.0, 0.004);
        let exact = jsd_1d(|x| data.pdf(x), |x| narrow.pdf(x), -4.0, 12.0, 400_000);
        assert!(
            exact > 0.65 && (spike - exact).abs() < 1e-3,
            "{spike} vs {exact}"
        );
        let coarse = jsd_1d(|x| data.pdf(x), |x| narrow.pdf(x), -4.0, 12.0, 2000);
        assert!((coarse - exact).abs() > 0.01, "{coarse} vs {exact}");
        // in between, it agrees with the JSD of the two densities themselves
        let near = Gaussian1d::new(5.0, 1.25);
        let exact = jsd_1d(|x| data.pdf(x), |x| near.pdf(x), -10.0, 20.0, 4000);
        let measured = true_jsd(|x| data.pdf(x), &samples(&near, 2000, 3), (-2.0, 10.0));
        assert!((measured - exact).abs() < 0.01, "{measured} vs {exact}");
    }

    #[test]
    fn the_optimal_discriminator_estimates_the_true_jsd() {
        // V(G, D*) = −ln 4 + 2·JSD: with D* = p/(p + q), (V + ln 4)/2 is the JSD
        let (p, q) = (Gaussian1d::new(0.0, 1.0), Gaussian1d::new(1.0, 1.0));
        let d_star = |x: f64| p.pdf(x) / (p.pdf(x) + q.pdf(x));
        let on = |v: Vec<f64>| v.into_iter().map(d_star).collect::<Vec<_>>();
        let estimate = estimated_jsd(&on(samples(&p, 50_000, 4)), &on(samples(&q, 50_000, 5)));
        let exact = jsd_1d(|x| p.pdf(x), |x| q.pdf(x), -12.0, 13.0, 4000);
        assert!((estimate - exact).abs() < 0.005, "{estimate} vs {exact}");
        // any other D estimates less
        let worse = |x: f64| (d_star(x) + 0.5) / 2.0;
        let on = |v: Vec<f64>| v.into_iter().map(worse).collect::<Vec<_>>();
        let lower = estimated_jsd(&on(samples(&p, 50_000, 4)), &on(samples(&q, 50_000, 5)));
        assert!(lower < estimate - 0.01, "{lower} vs {estimate}");
    }

    #[test]
    fn curves_keep_every_iteration_of_a_short_run_and_about_2000_points_of_a_long_one() {
        let mut rec = Record::new();
        rec.show("loss", 1.0).log("grad_norm", 2.0);
        let mut short = Curves::new(0, 300);
        for step in 1..=300 {
            short.record(step, &rec, step == 300);
        }
        assert_eq!(short.every(), 1);
        assert_eq!(short.series("loss").len(), 300);
        assert_eq!(short.series("grad_norm")[0], (1.0, 2.0));
        assert!(short.series("nothing").is_empty());
        let mut long = Curves::new(0, 20_001);
        for step in 1..=20_001 {
            long.record(step, &rec, step == 20_001);
        }
        assert_eq!(long.every(), 11);
        let s = long.series("loss");
        assert_eq!(s.len(), 20_001 / 11 + 1, "every 11th and the last");
        assert_eq!(s.last().unwrap().0, 20_001.0);
        // a resumed run starts from the rows metrics.csv logged up to where it resumed
        let mut resumed = Curves::new(10, 20);
        resumed.earlier(
            &["loss", "grad_norm"],
            &[vec![5.0, 0.5, 0.1, 0.01], vec![10.0, 0.4, 0.2, 0.01]],
        );
        for step in 11..=20 {
            resumed.record(step, &rec, step == 20);
        }
        let s = resumed.series("loss");
        assert_eq!(s.len(), 12);
        assert_eq!(&s[..3], &[(5.0, 0.5), (10.0, 0.4), (11.0, 1.0)]);
    }
}
