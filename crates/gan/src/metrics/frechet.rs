//! The Fréchet distance between Gaussians fitted to two feature sets (the distance behind FID).

use tensor::Tensor;

/// A Gaussian fitted to a feature set `[N, d]`: the mean and the sample covariance.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianFit {
    /// Feature dimension d.
    pub dim: usize,
    /// Mean, length d.
    pub mean: Vec<f64>,
    /// Covariance, d × d row-major, with the unbiased N − 1 denominator (as `numpy.cov` and the
    /// reference FID code use).
    pub cov: Vec<f64>,
}

impl GaussianFit {
    /// Fits mean and covariance to `features` `[N, d]` (any dtype; computed in f64).
    ///
    /// Panics unless `features` is 2-D with N ≥ 2 and d ≥ 1.
    #[track_caller]
    pub fn fit(features: &Tensor) -> GaussianFit {
        assert!(
            features.ndim() == 2 && features.dims()[0] >= 2 && features.dims()[1] >= 1,
            "GaussianFit::fit: features must be [N, d] with N >= 2, got {:?}",
            features.dims()
        );
        let (n, d) = (features.dims()[0], features.dims()[1]);
        let x = features.to_vec_f64();
        let mut mean = vec![0.0; d];
        for row in x.chunks_exact(d) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        for m in &mut mean {
            *m /= n as f64;
        }
        let mut cov = vec![0.0; d * d];
        let mut c = vec![0.0; d];
        for row in x.chunks_exact(d) {
            for j in 0..d {
                c[j] = row[j] - mean[j];
            }
            for i in 0..d {
                let ci = c[i];
                for j in i..d {
                    cov[i * d + j] += ci * c[j];
                }
            }
        }
        for i in 0..d {
            for j in i..d {
                let v = cov[i * d + j] / (n - 1) as f64;
                cov[i * d + j] = v;
                cov[j * d + i] = v;
            }
        }
        GaussianFit { dim: d, mean, cov }
    }
}

/// The Fréchet (2-Wasserstein) distance between Gaussians fitted to two feature sets `[N, d]` and
/// `[M, d]`: ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^{1/2}). See [`frechet_distance_gaussians`].
///
/// Panics if the feature dimensions differ or a set has fewer than 2 rows.
#[track_caller]
pub fn frechet_distance(a: &Tensor, b: &Tensor) -> f64 {
    frechet_distance_gaussians(&GaussianFit::fit(a), &GaussianFit::fit(b))
}

/// The Fréchet distance between N(μ₁, Σ₁) and N(μ₂, Σ₂):
/// ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁Σ₂)^{1/2}.
///
/// Σ₁Σ₂ is not symmetric, so the trace term is computed in the equivalent symmetric form
/// tr (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2} (the two matrices are similar, so they have the same
/// eigenvalues): Σ₁^{1/2} from a Jacobi eigendecomposition of Σ₁, then the eigenvalues of the
/// symmetric positive semi-definite product, whose square roots are summed. Everything is in
/// f64; eigenvalues that come out slightly negative from rounding are treated as 0, and a total
/// that rounds below 0 is returned as 0.
///
/// Accuracy: about 1e-12 relative for well-conditioned covariances. A singular covariance
/// (fewer samples than features, or linearly dependent features, common for network features)
/// has zero eigenvalues computed as rounding noise of size ε·‖Σ‖, and their square roots add an
/// absolute error of order √ε·‖Σ‖ ≈ 1e-8·‖Σ‖ — the same limit as `scipy.linalg.sqrtm` in the
/// reference FID code, and far below anything a comparison of generators can resolve.
///
/// Panics if the dimensions differ.
#[track_caller]
pub fn frechet_distance_gaussians(a: &GaussianFit, b: &GaussianFit) -> f64 {
    assert_eq!(
        a.dim, b.dim,
        "frechet_distance: feature dimensions differ ({} vs {})",
        a.dim, b.dim
    );
    let d = a.dim;
    let mean_term: f64 = a
        .mean
        .iter()
        .zip(&b.mean)
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    let trace = |m: &[f64]| (0..d).map(|i| m[i * d + i]).sum::<f64>();
    let s1h = sqrtm_psd(&a.cov, d);
    let mut m = matmul(&matmul(&s1h, &b.cov, d), &s1h, d);
    symmetrize(&mut m, d);
    let (eig, _) = symmetric_eigen(&m, d);
    let tr_sqrt: f64 = eig.iter().map(|&l| l.max(0.0).sqrt()).sum();
    (mean_term + trace(&a.cov) + trace(&b.cov) - 2.0 * tr_sqrt).max(0.0)
}

fn matmul(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut c = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            let aik = a[i * n + k];
            if aik == 0.0 {
                continue;
            }
            for j in 0..n {
                c[i * n + j] += aik * b[k * n + j];
            }
        }
    }
    c
}

fn symmetrize(m: &mut [f64], n: usize) {
    for i in 0..n {
        for j in i + 1..n {
            let v = 0.5 * (m[i * n + j] + m[j * n + i]);
            m[i * n + j] = v;
            m[j * n + i] = v;
        }
    }
}

/// Eigendecomposition of a symmetric n × n matrix (row-major) by the cyclic Jacobi method:
/// returns `(λ, V)` with A = V diag(λ) Vᵀ, V orthogonal and row-major, eigenvector k in column
/// k. Eigenvalues are in no particular order.
///
/// Jacobi rotations are slower than QR-based methods (O(n³) per sweep, typically 6–10 sweeps)
/// but simple and very accurate for symmetric matrices, including tiny eigenvalues — which is
/// what a matrix square root of a nearly singular covariance needs. Only the upper triangle's
/// symmetry is assumed, not checked; pass (A + Aᵀ)/2 if in doubt.
///
/// Panics if `a.len() != n * n`.
#[track_caller]
pub fn symmetric_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    assert_eq!(a.len(), n * n, "symmetric_eigen: matrix is not {n} × {n}");
    let mut a = a.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let norm2: f64 = a.iter().map(|x| x * x).sum();
    for _sweep in 0..100 {
        let mut off = 0.0;
        for p in 0..n {
            for q in p + 1..n {
                off += a[p * n + q] * a[p * n + q];
            }
        }
        if off <= 1e-30 * norm2 || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq.abs() <= f64::MIN_POSITIVE {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                // A ← Pᵀ A P with P the rotation in the (p, q) plane; V ← V P.
                for k in 0..n {
                    let akp = a[k * n + p];
                    let akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let apk = a[p * n + k];
                    let aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                a[p * n + q] = 0.0;
                a[q * n + p] = 0.0;
                for k in 0..n {
                    let vkp = v[k * n + p];
                    let vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let eig = (0..n).map(|i| a[i * n + i]).collect();
    (eig, v)
}

/// The square root of a symmetric positive semi-definite n × n matrix (row-major):
/// V diag(√max(λ, 0)) Vᵀ from [`symmetric_eigen`]. Negative eigenvalues (rounding noise on a
/// singular matrix) are clamped to 0. The result is symmetric.
#[track_caller]
pub fn sqrtm_psd(a: &[f64], n: usize) -> Vec<f64> {
    let (eig, v) = symmetric_eigen(a, n);
    let s: Vec<f64> = eig.iter().map(|&l| l.max(0.0).sqrt()).collect();
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for j in i..n {
            let x: f64 = (0..n).map(|k| v[i * n + k] * s[k] * v[j * n + k]).sum();
            out[i * n + j] = x;
            out[j * n + i] = x;
        }
    }
    out
}
