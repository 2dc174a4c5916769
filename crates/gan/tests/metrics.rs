//! Metrics against closed forms and hand-built cases.

use minimax_gan::data::{Dataset, Gaussian1d, Grid25, Ring8};
use minimax_gan::metrics::{
    class_coverage, confidence_summary, frechet_distance, frechet_distance_gaussians, jsd_1d,
    jsd_from_value, kde_1d, mode_report, silverman_bandwidth, sqrtm_psd, symmetric_eigen,
    GaussianFit,
};
use std::f64::consts::LN_2;
use tensor::{Rng, Tensor};

// ---------------------------------------------------------------- JSD and KDE

#[test]
fn jsd_of_identical_densities_is_zero() {
    let g = Gaussian1d::new(0.3, 1.2);
    let v = jsd_1d(|x| g.pdf(x), |x| g.pdf(x), -12.0, 12.0, 2000);
    assert!(v.abs() < 1e-14, "{v}");
}

#[test]
fn jsd_of_disjoint_densities_is_ln2() {
    let a = Gaussian1d::new(-10.0, 1.0);
    let b = Gaussian1d::new(10.0, 1.0);
    let v = jsd_1d(|x| a.pdf(x), |x| b.pdf(x), -25.0, 25.0, 4000);
    assert!((v - LN_2).abs() < 1e-9, "{v}");
    // Two boxes with jumps: Simpson's rule is only first order at a jump, still close.
    let box_a = |x: f64| if (0.0..1.0).contains(&x) { 1.0 } else { 0.0 };
    let box_b = |x: f64| if (2.0..3.0).contains(&x) { 1.0 } else { 0.0 };
    let v = jsd_1d(box_a, box_b, -1.0, 4.0, 100_000);
    assert!((v - LN_2).abs() < 1e-3, "{v}");
}

/// A reference by the midpoint rule on a very fine grid, written independently of `jsd_1d`.
fn reference_jsd(p: impl Fn(f64) -> f64, q: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    let n = 2_000_000;
    let h = (hi - lo) / n as f64;
    let mut s = 0.0;
    for i in 0..n {
        let x = lo + (i as f64 + 0.5) * h;
        let (a, b) = (p(x), q(x));
        let m = 0.5 * (a + b);
        if a > 0.0 {
            s += 0.5 * a * (a / m).ln();
        }
        if b > 0.0 {
            s += 0.5 * b * (b / m).ln();
        }
    }
    s * h
}

#[test]
fn jsd_of_two_gaussians_matches_a_high_resolution_reference() {
    let p = Gaussian1d::new(0.0, 1.0);
    let q = Gaussian1d::new(1.0, 1.5);
    let v = jsd_1d(|x| p.pdf(x), |x| q.pdf(x), -15.0, 15.0, 3000);
    let r = reference_jsd(|x| p.pdf(x), |x| q.pdf(x), -15.0, 15.0);
    assert!((v - r).abs() < 1e-9, "simpson {v} reference {r}");
    assert!(v > 0.05 && v < LN_2);
    // Symmetric in its arguments; odd n is rounded up to even.
    let w = jsd_1d(|x| q.pdf(x), |x| p.pdf(x), -15.0, 15.0, 2999);
    assert!((v - w).abs() < 1e-12);
}

#[test]
fn optimal_discriminator_value_gives_the_jsd() {
    // V(G, D*) = ∫ p ln(p/(p+q)) + q ln(q/(p+q)) = −ln 4 + 2·JSD.
    let p = Gaussian1d::new(0.0, 1.0);
    let q = Gaussian1d::new(2.0, 0.7);
    let n = 200_000;
    let (lo, hi) = (-12.0, 12.0);
    let h = (hi - lo) / n as f64;
    let v: f64 = (0..n)
        .map(|i| {
            let x = lo + (i as f64 + 0.5) * h;
            let (a, b) = (p.pdf(x), q.pdf(x));
            let mut t = 0.0;
            if a > 0.0 {
                t += a * (a / (a + b)).ln();
            }
            if b > 0.0 {
                t += b * (b / (a + b)).ln();
            }
            t
        })
        .sum::<f64>()
        * h;
    let jsd = jsd_1d(|x| p.pdf(x), |x| q.pdf(x), lo, hi, 4000);
    assert!((jsd_from_value(v) - jsd).abs() < 1e-8);
    assert!(jsd_from_value(-(4.0f64).ln()).abs() < 1e-15);
    assert!((jsd_from_value(0.0) - LN_2).abs() < 1e-15);
}

#[test]
fn kde_integrates_to_one_and_tracks_the_density() {
    let data = Gaussian1d::new(0.0, 1.0);
    let mut rng = Rng::seed(21);
    let xs = data.sample(20_000, &mut rng).to_vec_f64();
    let h = silverman_bandwidth(&xs);
    let expect = 0.9 * 20_000f64.powf(-0.2); // σ = IQR/1.34 ≈ 1 for a standard normal
    assert!((h / expect - 1.0).abs() < 0.05, "bandwidth {h} vs {expect}");
    let kde = kde_1d(&xs, None);
    assert_eq!(kde.bandwidth(), h);
    assert_eq!(kde.len(), 20_000);
    let mass = jsd_integral(|x| kde.pdf(x), -8.0, 8.0);
    assert!((mass - 1.0).abs() < 1e-6, "mass {mass}");
    // The generator matches the data: a small JSD, from smoothing and sampling noise only.
    let same = jsd_1d(|x| data.pdf(x), |x| kde.pdf(x), -8.0, 8.0, 2000);
    assert!(same < 3e-3, "{same}");
    // A shifted generator: the KDE recovers the true JSD closely.
    let shifted = Gaussian1d::new(3.0, 1.0);
    let ys = shifted.sample(20_000, &mut rng).to_vec_f64();
    let kde2 = kde_1d(&ys, None);
    let est = jsd_1d(|x| data.pdf(x), |x| kde2.pdf(x), -10.0, 14.0, 4000);
    let truth = jsd_1d(|x| data.pdf(x), |x| shifted.pdf(x), -10.0, 14.0, 4000);
    assert!((est - truth).abs() < 0.01, "{est} vs {truth}");
    // A fixed bandwidth is used as given; a collapsed sample set gets a narrow spike.
    assert_eq!(kde_1d(&xs, Some(0.25)).bandwidth(), 0.25);
    assert_eq!(silverman_bandwidth(&[2.0; 10]), 1e-3 * 2.0);
    let spike = kde_1d(&[0.5; 10], None);
    assert!((spike.pdf(0.5) - 1.0 / (1e-3 * (2.0 * std::f64::consts::PI).sqrt())).abs() < 1e-6);
}

fn jsd_integral(f: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    let n = 20_000;
    let h = (hi - lo) / n as f64;
    (0..n).map(|i| f(lo + (i as f64 + 0.5) * h)).sum::<f64>() * h
}

// ---------------------------------------------------------------- PacGAN mode metrics

fn points(p: &[[f64; 2]]) -> Tensor {
    let v: Vec<f32> = p.iter().flat_map(|q| [q[0] as f32, q[1] as f32]).collect();
    Tensor::from_vec(v, [p.len(), 2])
}

#[test]
fn all_samples_on_one_mode() {
    let ring = Ring8;
    let m = ring.modes()[3];
    let s = ring.sigma();
    let pts: Vec<[f64; 2]> = (0..2500)
        .map(|i| {
            let a = i as f64 * 0.1;
            [m[0] + 2.0 * s * a.cos(), m[1] + 2.0 * s * a.sin()]
        })
        .collect();
    let r = mode_report(&points(&pts), &ring.modes(), s);
    assert_eq!(r.modes_covered, 1);
    assert_eq!(r.high_quality_frac, 1.0);
    assert_eq!(r.counts[3], 2500);
    assert!((r.reverse_kl - (8.0f64).ln()).abs() < 1e-12);
    assert_eq!(r.num_samples, 2500);
    assert_eq!(r.num_modes(), 8);
    assert!(r.to_string().contains("modes covered 1/8"), "{r}");
}

#[test]
fn uniform_over_all_modes_and_half_and_half() {
    let grid = Grid25;
    let modes = grid.modes();
    let pts: Vec<[f64; 2]> = (0..2500).map(|i| modes[i % 25]).collect();
    let r = mode_report(&points(&pts), &modes, grid.sigma());
    assert_eq!(r.modes_covered, 25);
    assert_eq!(r.high_quality_frac, 1.0);
    assert_eq!(r.counts, vec![100; 25]);
    assert!(r.reverse_kl.abs() < 1e-12);

    let ring = Ring8.modes();
    let pts: Vec<[f64; 2]> = (0..100)
        .map(|i| ring[if i % 2 == 0 { 0 } else { 5 }])
        .collect();
    let r = mode_report(&points(&pts), &ring, 0.01);
    assert_eq!(r.modes_covered, 2);
    assert!((r.reverse_kl - (4.0f64).ln()).abs() < 1e-12);
}

#[test]
fn far_off_junk_lowers_quality_but_not_coverage() {
    let ring = Ring8.modes();
    let s = 0.01;
    let mut pts: Vec<[f64; 2]> = (0..800).map(|i| ring[i % 8]).collect();
    // 200 junk points at the centre (100σ from every mode) and beyond the ring.
    pts.extend((0..100).map(|_| [0.0, 0.0]));
    pts.extend((0..100).map(|i| [3.0, i as f64 * 0.01]));
    let r = mode_report(&points(&pts), &ring, s);
    assert_eq!(r.modes_covered, 8);
    assert!((r.high_quality_frac - 0.8).abs() < 1e-12);
    assert!(r.reverse_kl.abs() < 1e-12, "junk is dropped, not binned");
    // The 3σ threshold: 2.9σ counts, 3.1σ does not (on the x axis, from mode 0 at (1, 0)).
    let r = mode_report(
        &points(&[[1.0 + 2.9 * s, 0.0], [1.0 + 3.1 * s, 0.0]]),
        &ring,
        s,
    );
    assert_eq!((r.counts[0], r.modes_covered), (1, 1));
    assert_eq!(r.high_quality_frac, 0.5);
    // Nothing high-quality: no coverage, KL undefined.
    let r = mode_report(&points(&[[0.0, 0.0], [5.0, 5.0]]), &ring, s);
    assert_eq!((r.modes_covered, r.high_quality_frac), (0, 0.0));
    assert!(r.reverse_kl.is_nan());
    assert!(
        r.to_string()
            .ends_with("reverse KL n/a (no high-quality sample)"),
        "{r}"
    );
    // NaN samples are low quality, never a panic.
    let r = mode_report(&points(&[[f64::NAN, 0.0], [1.0, 0.0]]), &ring, s);
    assert_eq!(r.high_quality_frac, 0.5);
}

#[test]
fn real_data_scores_like_a_perfect_generator() {
    // For an isotropic 2-D Gaussian, P(‖x − μ‖ < 3σ) = 1 − e^{−4.5} ≈ 0.98889.
    let p = 1.0 - (-4.5f64).exp();
    let mut rng = Rng::seed(4);
    for (ds, modes, sigma) in [
        (&Ring8 as &dyn Dataset, Ring8.modes(), Ring8.sigma()),
        (&Grid25 as &dyn Dataset, Grid25.modes(), Grid25.sigma()),
    ] {
        let r = mode_report(&ds.sample(20_000, &mut rng), &modes, sigma);
        assert_eq!(r.modes_covered, modes.len());
        assert!((r.high_quality_frac - p).abs() < 0.005, "{r}");
        assert!(r.reverse_kl < 0.01, "{r}");
    }
}

// ---------------------------------------------------------------- Fréchet distance

/// Correlated features x = A z, z ~ N(0, I). With `singular`, A has rank < d (as features of a
/// real network often do); otherwise A is lower-triangular with a non-zero diagonal.
fn random_features(n: usize, d: usize, singular: bool, rng: &mut Rng) -> Vec<f64> {
    let a: Vec<f64> = (0..d * d)
        .map(|f| {
            let (i, k) = (f / d, f % d);
            if singular {
                ((f * 7 % 11) as f64 - 5.0) / 5.0 // rank-deficient for d = 6
            } else if k < i {
                ((i * 7 + k * 3) % 11) as f64 / 5.0 - 1.0
            } else if k == i {
                1.0 + 0.2 * i as f64
            } else {
                0.0
            }
        })
        .collect();
    let mut out = Vec::with_capacity(n * d);
    for _ in 0..n {
        let z: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
        for i in 0..d {
            out.push((0..d).map(|k| a[i * d + k] * z[k]).sum());
        }
    }
    out
}

#[test]
fn frechet_of_identical_sets_is_zero_and_shift_gives_mean_term() {
    let mut rng = Rng::seed(9);
    let (n, d) = (500, 6);
    let f = random_features(n, d, false, &mut rng);
    let a = Tensor::from_vec(f.clone(), [n, d]);
    let fd = frechet_distance(&a, &a);
    assert!(fd.abs() < 1e-9, "{fd}");
    let shift: Vec<f64> = (0..d).map(|i| 0.5 * i as f64 - 1.0).collect();
    let moved: Vec<f64> = f
        .chunks(d)
        .flat_map(|r| r.iter().zip(&shift).map(|(x, s)| x + s).collect::<Vec<_>>())
        .collect();
    let b = Tensor::from_vec(moved, [n, d]);
    let expect: f64 = shift.iter().map(|s| s * s).sum();
    let fd = frechet_distance(&a, &b);
    assert!((fd - expect).abs() < 1e-8, "{fd} vs {expect}");
    // A singular covariance: the square root of the rounding noise in its zero eigenvalue
    // (about √ε·‖Σ‖) limits the accuracy to roughly 1e-8 relative.
    let g = random_features(n, d, true, &mut rng);
    let ga = Tensor::from_vec(g.clone(), [n, d]);
    assert!(frechet_distance(&ga, &ga).abs() < 1e-6);
    let gb: Vec<f64> = g
        .chunks(d)
        .flat_map(|r| r.iter().zip(&shift).map(|(x, s)| x + s).collect::<Vec<_>>())
        .collect();
    let fd = frechet_distance(&ga, &Tensor::from_vec(gb, [n, d]));
    assert!((fd - expect).abs() < 1e-6 * expect, "{fd} vs {expect}");
    // f32 features work too (converted to f64).
    let a32 = Tensor::from_vec(f.iter().map(|&x| x as f32).collect::<Vec<_>>(), [n, d]);
    assert!(frechet_distance(&a32, &a32).abs() < 1e-6);
}

fn fit(mean: Vec<f64>, cov: Vec<f64>) -> GaussianFit {
    GaussianFit {
        dim: mean.len(),
        mean,
        cov,
    }
}

#[test]
fn frechet_matches_closed_forms() {
    // Diagonal covariances: Σ (√a − √b)² + ‖Δμ‖².
    let a = [4.0f64, 1.0, 0.25, 9.0];
    let b = [1.0f64, 1.0, 1.0, 0.0];
    let mut ca = vec![0.0; 16];
    let mut cb = vec![0.0; 16];
    for i in 0..4 {
        ca[i * 4 + i] = a[i];
        cb[i * 4 + i] = b[i];
    }
    let expect: f64 = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x.sqrt() - y.sqrt()).powi(2))
        .sum::<f64>()
        + 1.0
        + 4.0;
    let fd = frechet_distance_gaussians(
        &fit(vec![0.0, 0.0, 1.0, 2.0], ca),
        &fit(vec![0.0, 0.0, 0.0, 0.0], cb),
    );
    assert!((fd - expect).abs() < 1e-12, "{fd} vs {expect}");

    // Commuting but not diagonal: rotate both diagonal covariances by the same rotation.
    let (c, s) = (0.6f64, 0.8f64);
    let rot = |d0: f64, d1: f64| {
        vec![
            c * c * d0 + s * s * d1,
            c * s * (d0 - d1),
            c * s * (d0 - d1),
            s * s * d0 + c * c * d1,
        ]
    };
    let fd = frechet_distance_gaussians(
        &fit(vec![0.0, 0.0], rot(4.0, 0.5)),
        &fit(vec![0.0, 0.0], rot(1.0, 2.0)),
    );
    let expect = (2.0 - 1.0f64).powi(2) + (0.5f64.sqrt() - 2.0f64.sqrt()).powi(2);
    assert!((fd - expect).abs() < 1e-12, "{fd} vs {expect}");

    // Non-commuting 2 × 2: for a 2 × 2 PSD M, tr √M = √(tr M + 2√det M), and
    // tr(Σ₁^½ Σ₂ Σ₁^½) = tr(Σ₁Σ₂), det = det Σ₁ det Σ₂.
    let s1: Vec<f64> = vec![2.0, 0.6, 0.6, 1.0];
    let s2: Vec<f64> = vec![0.5, -0.3, -0.3, 3.0];
    let tr12 = s1[0] * s2[0] + s1[1] * s2[2] + s1[2] * s2[1] + s1[3] * s2[3];
    let det = (s1[0] * s1[3] - s1[1] * s1[2]) * (s2[0] * s2[3] - s2[1] * s2[2]);
    let expect = 3.0 + 3.5 - 2.0 * (tr12 + 2.0 * det.sqrt()).sqrt();
    let fd = frechet_distance_gaussians(&fit(vec![0.0, 0.0], s1), &fit(vec![0.0, 0.0], s2));
    assert!((fd - expect).abs() < 1e-12, "{fd} vs {expect}");

    // One dimension: (μ₁ − μ₂)² + (σ₁ − σ₂)².
    let fd = frechet_distance_gaussians(&fit(vec![1.0], vec![9.0]), &fit(vec![-1.0], vec![4.0]));
    assert!((fd - 5.0).abs() < 1e-12);
}

#[test]
fn gaussian_fit_uses_the_unbiased_covariance() {
    let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 6.0, 5.0, 10.0], [3, 2]);
    let g = GaussianFit::fit(&x);
    assert_eq!(g.mean, vec![3.0, 6.0]);
    // Column 0: deviations −2, 0, 2 → var 4; column 1: −4, 0, 4 → var 16; cov 8.
    assert_eq!(g.cov, vec![4.0, 8.0, 8.0, 16.0]);
}

#[test]
fn jacobi_eigendecomposition_reconstructs_and_square_root_squares() {
    let mut rng = Rng::seed(17);
    let n = 7;
    let b: Vec<f64> = (0..n * n).map(|_| rng.normal()).collect();
    // A = B Bᵀ, symmetric positive semi-definite.
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            a[i * n + j] = (0..n).map(|k| b[i * n + k] * b[j * n + k]).sum();
        }
    }
    let (eig, v) = symmetric_eigen(&a, n);
    for i in 0..n {
        for j in 0..n {
            let r: f64 = (0..n).map(|k| v[i * n + k] * eig[k] * v[j * n + k]).sum();
            assert!((r - a[i * n + j]).abs() < 1e-10, "A[{i},{j}]");
            let o: f64 = (0..n).map(|k| v[k * n + i] * v[k * n + j]).sum();
            assert!(
                (o - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12,
                "VᵀV[{i},{j}]"
            );
        }
    }
    assert!(eig.iter().all(|&l| l > -1e-10));
    let r = sqrtm_psd(&a, n);
    for i in 0..n {
        for j in 0..n {
            let sq: f64 = (0..n).map(|k| r[i * n + k] * r[k * n + j]).sum();
            assert!((sq - a[i * n + j]).abs() < 1e-9);
            assert_eq!(r[i * n + j], r[j * n + i]);
        }
    }
    // Already diagonal and 1 × 1 and 0 × 0 inputs.
    assert_eq!(symmetric_eigen(&[3.0, 0.0, 0.0, 5.0], 2).0, vec![3.0, 5.0]);
    assert_eq!(sqrtm_psd(&[9.0], 1), vec![3.0]);
    assert!(symmetric_eigen(&[], 0).0.is_empty());
}

// ---------------------------------------------------------------- classes

#[test]
fn class_coverage_counts_and_kl() {
    let c = class_coverage(&[0, 0, 1, 3], 4);
    assert_eq!(c.counts, vec![2, 1, 0, 1]);
    assert_eq!(c.classes_covered, 3);
    // p = (½, ¼, 0, ¼): ½ ln 2 + ¼ ln 1 + ¼ ln 1.
    assert!((c.kl_to_uniform - 0.5 * LN_2).abs() < 1e-12);
    assert_eq!(c.frequencies(), vec![0.5, 0.25, 0.0, 0.25]);
    let all: Vec<usize> = (0..100).map(|i| i % 10).collect();
    let c = class_coverage(&all, 10);
    assert_eq!(c.classes_covered, 10);
    assert!(c.kl_to_uniform.abs() < 1e-12);
    assert!(class_coverage(&[], 10).kl_to_uniform.is_nan());
}

#[test]
#[should_panic(expected = "label 10 at position 1 is not below num_classes = 10")]
fn class_coverage_rejects_out_of_range_labels() {
    class_coverage(&[1, 10], 10);
}

#[test]
fn confidence_summary_of_probabilities() {
    let p = Tensor::from_vec(vec![1.0f32, 0.0, 0.0, 0.25, 0.5, 0.25], [2, 3]);
    let s = confidence_summary(&p);
    assert_eq!(s.predicted, vec![0, 1]);
    assert!((s.mean_max_prob - 0.75).abs() < 1e-7);
    let h2 = -(0.5f64 * 0.5f64.ln() + 2.0 * 0.25 * 0.25f64.ln());
    assert!((s.mean_entropy - h2 / 2.0).abs() < 1e-7);
    let c = class_coverage(&s.predicted, 3);
    assert_eq!(c.classes_covered, 2);
}

#[test]
#[should_panic(expected = "pass softmax outputs, not logits")]
fn confidence_summary_rejects_logits() {
    confidence_summary(&Tensor::from_vec(vec![2.0f32, -1.0, 0.5], [1, 3]));
}
