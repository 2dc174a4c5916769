//! Synthetic datasets with known densities: 1-D Gaussians and PacGAN's 2-D mixtures.

use super::Dataset;
use std::f64::consts::PI;
use tensor::{Rng, Tensor};

/// The density of N(mean, std²) at `x`.
pub(crate) fn normal_pdf(x: f64, mean: f64, std: f64) -> f64 {
    let z = (x - mean) / std;
    (-0.5 * z * z).exp() / (std * (2.0 * PI).sqrt())
}

/// One-dimensional Gaussian data N(mean, std²), examples of shape `[1]`.
///
/// With a known density ([`Gaussian1d::pdf`]) the true JSD between data and generator can be
/// integrated numerically ([`crate::metrics::jsd_1d`]) and compared with the estimate a trained
/// discriminator gives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gaussian1d {
    /// Mean of the distribution.
    pub mean: f64,
    /// Standard deviation (must be positive).
    pub std: f64,
}

impl Gaussian1d {
    /// N(mean, std²). Panics unless `std` is positive and finite.
    #[track_caller]
    pub fn new(mean: f64, std: f64) -> Gaussian1d {
        assert!(
            std > 0.0 && std.is_finite(),
            "Gaussian1d: std must be positive and finite, got {std}"
        );
        Gaussian1d { mean, std }
    }

    /// The density at `x`.
    pub fn pdf(&self, x: f64) -> f64 {
        normal_pdf(x, self.mean, self.std)
    }
}

impl Dataset for Gaussian1d {
    fn sample(&self, m: usize, rng: &mut Rng) -> Tensor {
        let v: Vec<f32> = (0..m)
            .map(|_| (self.mean + self.std * rng.normal()) as f32)
            .collect();
        Tensor::from_vec(v, [m, 1])
    }
    fn sample_shape(&self) -> Vec<usize> {
        vec![1]
    }
    fn name(&self) -> &str {
        "gaussian1d"
    }
    fn density(&self, x: f64) -> Option<f64> {
        Some(self.pdf(x))
    }
}

/// A one-dimensional mixture of Gaussians, examples of shape `[1]`: the JSD demo with a mode a
/// generator can miss.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianMixture1d {
    components: Vec<Gaussian1d>,
    weights: Vec<f64>,
}

impl GaussianMixture1d {
    /// A mixture of `components` with the given `weights` (normalised here to sum to 1).
    ///
    /// Panics if the lists are empty or of different lengths, or a weight is negative or all are 0.
    #[track_caller]
    pub fn new(components: Vec<Gaussian1d>, weights: Vec<f64>) -> GaussianMixture1d {
        assert!(
            !components.is_empty() && components.len() == weights.len(),
            "GaussianMixture1d: {} components but {} weights",
            components.len(),
            weights.len()
        );
        assert!(
            weights.iter().all(|w| *w >= 0.0 && w.is_finite()),
            "GaussianMixture1d: weights must be non-negative, got {weights:?}"
        );
        let total: f64 = weights.iter().sum();
        assert!(total > 0.0, "GaussianMixture1d: weights sum to 0");
        let weights = weights.iter().map(|w| w / total).collect();
        GaussianMixture1d {
            components,
            weights,
        }
    }

    /// An equal-weight mixture of N(mean1, std²) and N(mean2, std²).
    #[track_caller]
    pub fn two_modes(mean1: f64, mean2: f64, std: f64) -> GaussianMixture1d {
        GaussianMixture1d::new(
            vec![Gaussian1d::new(mean1, std), Gaussian1d::new(mean2, std)],
            vec![0.5, 0.5],
        )
    }

    /// The components.
    pub fn components(&self) -> &[Gaussian1d] {
        &self.components
    }

    /// The weights (summing to 1).
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// The density at `x`.
    pub fn pdf(&self, x: f64) -> f64 {
        self.components
            .iter()
            .zip(&self.weights)
            .map(|(c, w)| w * c.pdf(x))
            .sum()
    }

    fn pick(&self, rng: &mut Rng) -> usize {
        let u = rng.uniform();
        let mut acc = 0.0;
        for (i, w) in self.weights.iter().enumerate() {
            acc += w;
            if u < acc {
                return i;
            }
        }
        self.weights.len() - 1
    }
}

impl Dataset for GaussianMixture1d {
    fn sample(&self, m: usize, rng: &mut Rng) -> Tensor {
        let v: Vec<f32> = (0..m)
            .map(|_| {
                let c = self.components[self.pick(rng)];
                (c.mean + c.std * rng.normal()) as f32
            })
            .collect();
        Tensor::from_vec(v, [m, 1])
    }
    fn sample_shape(&self) -> Vec<usize> {
        vec![1]
    }
    fn name(&self) -> &str {
        "gaussian-mixture1d"
    }
    fn density(&self, x: f64) -> Option<f64> {
        Some(self.pdf(x))
    }
}

/// `m` points of an equal-weight mixture of isotropic Gaussians N(mode, σ²I) in the plane: pick a
/// mode uniformly, add σ times a standard normal to each coordinate.
fn sample_modes(modes: &[[f64; 2]], sigma: f64, m: usize, rng: &mut Rng) -> Tensor {
    let mut v = Vec::with_capacity(2 * m);
    for _ in 0..m {
        let c = modes[rng.below(modes.len())];
        v.push((c[0] + sigma * rng.normal()) as f32);
        v.push((c[1] + sigma * rng.normal()) as f32);
    }
    Tensor::from_vec(v, [m, 2])
}

/// PacGAN's ring: 8 equally weighted Gaussians with σ = 0.01 centred at (cos 2πk/8, sin 2πk/8)
/// for k = 0..8, on the unit circle. Examples have shape `[2]`.
///
/// The angles are 2πk/8, k = 0..7 — not `linspace(0, 2π, 8)`, which repeats the endpoint and
/// makes only 7 distinct modes. Matches `MEANS` and `VARIANCES` in PacGAN's
/// `synthetic_data_experiments/2DRing_GAN&PacGAN/config.py`. Score samples with
/// [`crate::metrics::mode_report`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ring8;

impl Ring8 {
    /// Standard deviation of each mode, per coordinate.
    pub const SIGMA: f64 = 0.01;

    /// The ring dataset.
    pub fn new() -> Ring8 {
        Ring8
    }

    /// The 8 mode centres, in order k = 0..8 (counter-clockwise from (1, 0)).
    pub fn modes(&self) -> Vec<[f64; 2]> {
        (0..8)
            .map(|k| {
                let a = 2.0 * PI * k as f64 / 8.0;
                [a.cos(), a.sin()]
            })
            .collect()
    }

    /// σ of every mode (0.01).
    pub fn sigma(&self) -> f64 {
        Ring8::SIGMA
    }
}

impl Dataset for Ring8 {
    fn sample(&self, m: usize, rng: &mut Rng) -> Tensor {
        sample_modes(&self.modes(), self.sigma(), m, rng)
    }
    fn sample_shape(&self) -> Vec<usize> {
        vec![2]
    }
    fn name(&self) -> &str {
        "ring8"
    }
    fn modes(&self) -> Option<crate::metrics::Modes> {
        Some(crate::metrics::Modes {
            centres: Ring8::modes(self),
            sigma: self.sigma(),
        })
    }
}

/// PacGAN's grid: 25 equally weighted Gaussians with σ = 0.05 centred at {−4, −2, 0, 2, 4}².
/// Examples have shape `[2]`.
///
/// Matches `synthetic_data_experiments/2DGrid_GAN&PacGAN/config.py` of PacGAN, including the
/// order of the modes (first coordinate outer, second inner). Score samples with
/// [`crate::metrics::mode_report`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Grid25;

impl Grid25 {
    /// Standard deviation of each mode, per coordinate.
    pub const SIGMA: f64 = 0.05;

    /// The grid dataset.
    pub fn new() -> Grid25 {
        Grid25
    }

    /// The 25 mode centres: (−4, −4), (−4, −2), …, (4, 4).
    pub fn modes(&self) -> Vec<[f64; 2]> {
        let c = [-4.0, -2.0, 0.0, 2.0, 4.0];
        c.iter()
            .flat_map(|&x| c.iter().map(move |&y| [x, y]))
            .collect()
    }

    /// σ of every mode (0.05).
    pub fn sigma(&self) -> f64 {
        Grid25::SIGMA
    }
}

impl Dataset for Grid25 {
    fn sample(&self, m: usize, rng: &mut Rng) -> Tensor {
        sample_modes(&self.modes(), self.sigma(), m, rng)
    }
    fn sample_shape(&self) -> Vec<usize> {
        vec![2]
    }
    fn name(&self) -> &str {
        "grid25"
    }
    fn modes(&self) -> Option<crate::metrics::Modes> {
        Some(crate::metrics::Modes {
            centres: Grid25::modes(self),
            sigma: self.sigma(),
        })
    }
}
