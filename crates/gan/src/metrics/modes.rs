//! PacGAN's mode metrics for the 2-D ring and grid benchmarks.

use super::kl_to_uniform;
use crate::data::{Grid25, Ring8};
use std::fmt;
use tensor::Tensor;

/// A sample is high-quality when its distance to the nearest mode is below this many σ.
pub const HIGH_QUALITY_STDS: f64 = 3.0;

/// How a set of 2-D samples covers a mixture's modes (PacGAN, Lin et al. 2018, Table 1).
#[derive(Debug, Clone, PartialEq)]
pub struct ModeReport {
    /// Number of modes that received at least one high-quality sample.
    pub modes_covered: usize,
    /// Fraction (0..=1, not a percentage) of the samples that are high-quality.
    pub high_quality_frac: f64,
    /// KL(p ‖ uniform) in nats, p the histogram of high-quality samples over their nearest
    /// modes (see [`mode_report`] for the exact convention). 0 for perfectly balanced coverage,
    /// ln K when every high-quality sample sits on one mode, NaN when no sample is high-quality.
    pub reverse_kl: f64,
    /// The histogram: high-quality samples per mode, in the order of the modes given.
    pub counts: Vec<usize>,
    /// Number of samples scored.
    pub num_samples: usize,
}

impl ModeReport {
    /// Number of modes of the mixture (K).
    pub fn num_modes(&self) -> usize {
        self.counts.len()
    }
}

impl ModeReport {
    /// The reverse KL with 4 decimals, or `n/a (no high-quality sample)` where it is undefined
    /// (no sample lies near a mode, so the histogram it compares is empty).
    pub fn reverse_kl_text(&self) -> String {
        if self.reverse_kl.is_nan() {
            "n/a (no high-quality sample)".to_string()
        } else {
            format!("{:.4}", self.reverse_kl)
        }
    }
}

impl fmt::Display for ModeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "modes covered {}/{}, high quality {:.1} % of {}, reverse KL {}",
            self.modes_covered,
            self.num_modes(),
            100.0 * self.high_quality_frac,
            self.num_samples,
            self.reverse_kl_text()
        )
    }
}

/// Scores samples `[N, 2]` against a mixture of isotropic Gaussians with the given `modes` and
/// common standard deviation `sigma`, following PacGAN's protocol (use N = 2,500 to compare with
/// its Table 1; [`crate::data::Ring8`] and [`crate::data::Grid25`] provide the modes and σ).
///
/// Each sample is assigned to its nearest mode (the first one on a tie); it is high-quality if
/// its σ-normalised distance ‖x − μ‖ / σ to that mode is below [`HIGH_QUALITY_STDS`] = 3, and
/// then counts in that mode's bin. A mode is covered if its bin is not empty.
///
/// # Reverse KL, as PacGAN's code computes it
///
/// PacGAN's `MetricLogger` (`synthetic_data_experiments/PacGAN/pacgan/extensions.py` in
/// github.com/fjxmlzn/PacGAN) builds `detail_of_coverage`, the per-mode count of samples whose
/// normalised distance `sqrt(Σ d² / diag(variance))` to the nearest mode is below 3 (samples
/// further away are dropped, not put in any bin), normalises it by its own sum — the number of
/// high-quality samples, not N — and logs its entropy (`scipy.stats.entropy`) and its JSD
/// against the uniform distribution. The Stacked-MNIST code of the same repository computes the
/// KL column as `KLD(p, q)` with `q` uniform and `sum(p·log(p/q) for p, q if p != 0)`, i.e. the
/// KL of the mode histogram to the uniform distribution with empty bins skipped. For the 2-D
/// tables this equals ln K − entropy. We compute exactly that:
///
/// reverse_kl = Σ_{k : pₖ > 0} pₖ ln(pₖ K),  pₖ = countₖ / Σ counts,
///
/// in natural logs. An empty bin contributes 0 (0·ln 0 = 0), as in their code, so the value is
/// always finite, in [0, ln K]; missed modes raise it only through the mass moving elsewhere.
/// When no sample is high-quality the histogram is 0/0: PacGAN's numpy code would produce NaN
/// and so do we (`modes_covered` is then 0 and `high_quality_frac` 0).
///
/// Panics unless `samples` is `[N, 2]` with N > 0, `modes` is non-empty and `sigma > 0`.
#[track_caller]
pub fn mode_report(samples: &Tensor, modes: &[[f64; 2]], sigma: f64) -> ModeReport {
    assert!(
        samples.ndim() == 2 && samples.dims()[1] == 2 && samples.dims()[0] > 0,
        "mode_report: samples must be [N, 2] with N > 0, got {:?}",
        samples.dims()
    );
    assert!(!modes.is_empty(), "mode_report: no modes given");
    assert!(
        sigma > 0.0 && sigma.is_finite(),
        "mode_report: sigma must be positive, got {sigma}"
    );
    let v = samples.to_vec_f64();
    let n = v.len() / 2;
    let mut counts = vec![0usize; modes.len()];
    let mut good = 0usize;
    for p in v.chunks_exact(2) {
        let mut best = (usize::MAX, f64::INFINITY);
        for (k, m) in modes.iter().enumerate() {
            let d2 = (p[0] - m[0]).powi(2) + (p[1] - m[1]).powi(2);
            if d2 < best.1 {
                best = (k, d2);
            }
        }
        // NaN samples never satisfy the comparison: they are low quality.
        if best.0 != usize::MAX && best.1.sqrt() / sigma < HIGH_QUALITY_STDS {
            counts[best.0] += 1;
            good += 1;
        }
    }
    ModeReport {
        modes_covered: counts.iter().filter(|&&c| c > 0).count(),
        high_quality_frac: good as f64 / n as f64,
        reverse_kl: kl_to_uniform(&counts),
        counts,
        num_samples: n,
    }
}

/// The modes of a 2-D benchmark (a dataset's [`crate::data::Dataset::modes`]), to score
/// samples with.
#[derive(Clone, Debug, PartialEq)]
pub struct Modes {
    /// Mode centres.
    pub centres: Vec<[f64; 2]>,
    /// Standard deviation of every mode.
    pub sigma: f64,
}

impl Modes {
    /// PacGAN's ring of 8 ([`Ring8`]).
    pub fn ring8() -> Modes {
        let r = Ring8::new();
        Modes {
            centres: r.modes(),
            sigma: r.sigma(),
        }
    }

    /// PacGAN's grid of 25 ([`Grid25`]).
    pub fn grid25() -> Modes {
        let g = Grid25::new();
        Modes {
            centres: g.modes(),
            sigma: g.sigma(),
        }
    }

    /// 1/N Σᵢ minₖ ‖xᵢ − μₖ‖ for points `[N, 2]`: how far the points are from the data.
    #[track_caller]
    pub fn mean_distance(&self, points: &Tensor) -> f64 {
        assert!(
            points.ndim() == 2 && points.dims()[1] == 2 && points.dims()[0] > 0,
            "Modes::mean_distance: points must be [N, 2] with N > 0, got {:?}",
            points.dims()
        );
        let v = points.to_vec_f64();
        let n = v.len() / 2;
        v.chunks_exact(2)
            .map(|p| {
                self.centres
                    .iter()
                    .map(|m| ((p[0] - m[0]).powi(2) + (p[1] - m[1]).powi(2)).sqrt())
                    .fold(f64::INFINITY, f64::min)
            })
            .sum::<f64>()
            / n as f64
    }

    /// PacGAN's [`mode_report`] of points `[N, 2]` against these modes.
    pub fn report(&self, points: &Tensor) -> ModeReport {
        mode_report(points, &self.centres, self.sigma)
    }
}
