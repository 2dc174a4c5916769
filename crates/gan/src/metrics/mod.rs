//! Metrics: how close a generator's samples are to the data.
//!
//! - [`jsd_1d`] integrates the Jensen–Shannon divergence between two 1-D densities, and
//!   [`kde_1d`] turns a generator's samples into a density, so the true JSD can be compared with
//!   the discriminator's estimate [`jsd_from_value`] (the tutorial: V(G, D*) = −log 4 + 2·JSD).
//! - [`mode_report`] scores 2-D samples on PacGAN's ring and grid benchmarks: modes covered,
//!   high-quality fraction and reverse KL of the mode histogram.
//! - [`frechet_distance`] compares two feature sets through Gaussians fitted to them (the
//!   Fréchet distance behind FID, here on features of our own digit classifier).
//! - [`class_coverage`] and [`confidence_summary`] summarise a classifier's view of generated
//!   images: which classes appear, and how confidently.
//! - [`DigitClassifier`] is a small classifier (an MLP) trained here on the embedded
//!   digits; [`evaluate_digits`] uses it to score generated digits (class coverage, confidence
//!   and a Fréchet distance on its features) in a [`DigitReport`].
//!
//! Everything is computed in f64.

#![warn(missing_docs)]

pub mod alignment;
mod classes;
pub mod classifier;
mod frechet;
mod jsd;
mod modes;
pub mod printed;

pub use classes::{class_coverage, confidence_summary, ClassCoverage, ConfidenceSummary};
pub use classifier::{evaluate_digits, ClassifierConfig, DigitClassifier, DigitReport};
pub use frechet::{
    frechet_distance, frechet_distance_gaussians, sqrtm_psd, symmetric_eigen, GaussianFit,
};
pub use jsd::{jsd_1d, jsd_from_value, kde_1d, silverman_bandwidth, Kde};
pub use modes::{mode_report, ModeReport, Modes, HIGH_QUALITY_STDS};
pub use printed::PrintedClassifier;

/// KL(p ‖ uniform over `counts.len()` bins) of the normalised histogram `counts`, in nats:
/// Σ pᵢ ln(pᵢ K) over the bins with pᵢ > 0. An empty bin contributes 0 (the 0·ln 0 = 0
/// convention), so the value is finite and lies in [0, ln K]. NaN when every count is 0 (the
/// histogram is undefined).
pub(crate) fn kl_to_uniform(counts: &[usize]) -> f64 {
    let total: usize = counts.iter().sum();
    if total == 0 {
        return f64::NAN;
    }
    let k = counts.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / total as f64;
            p * (p * k).ln()
        })
        .sum()
}
