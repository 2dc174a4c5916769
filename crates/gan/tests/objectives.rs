//! Objectives: stable forms equal the textbook formulas, hand-computed values, and the
//! gradient penalty's value and gradient on a case small enough to do by hand.

use autograd::{Param, Tape, Var};
use minimax_gan::objectives::{self, GanLoss};
use tensor::{DType, Tensor};

fn v(tape: &Tape, x: &[f64]) -> Var {
    tape.leaf(Tensor::from_vec(x.to_vec(), [x.len(), 1]))
}
fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn value_function_equals_the_textbook_form_and_hand_value() {
    let tape = Tape::new();
    let (lr, lf) = ([0.5, -1.0, 2.0], [-0.3, 1.2]);
    let val = objectives::value(&v(&tape, &lr), &v(&tape, &lf)).item();
    let textbook = lr.iter().map(|&l| sig(l).ln()).sum::<f64>() / 3.0
        + lf.iter().map(|&l| (1.0 - sig(l)).ln()).sum::<f64>() / 2.0;
    assert!((val - textbook).abs() < 1e-12, "{val} vs {textbook}");
    // by hand: ln σ(0.5) = −0.474077, ln σ(−1) = −1.313262, ln σ(2) = −0.126928,
    // ln(1−σ(−0.3)) = −0.554355, ln(1−σ(1.2)) = −1.463282
    let hand = (-0.474077 - 1.313262 - 0.126928) / 3.0 + (-0.554355 - 1.463282) / 2.0;
    assert!((val - hand).abs() < 1e-5);
    // a perfectly confused D (σ = ½ everywhere) gives V = −ln 4 and a JSD estimate of 0
    let z = objectives::value(&v(&tape, &[0.0, 0.0]), &v(&tape, &[0.0]));
    assert!((z.item() + 4f64.ln()).abs() < 1e-12);
    assert!(objectives::jsd_estimate(z.item()).abs() < 1e-12);
}

#[test]
fn stable_forms_stay_finite_where_the_textbook_saturates() {
    let tape = Tape::new();
    // f32 logits of ±200: σ saturates to exactly 0 or 1, so ln(σ) or ln(1−σ) is −inf there
    let real = tape.leaf(Tensor::from_vec(vec![-200.0f32, 200.0], [2, 1]));
    let fake = tape.leaf(Tensor::from_vec(vec![200.0f32, -200.0], [2, 1]));
    let val = objectives::value(&real, &fake).item();
    assert!(val.is_finite());
    assert!((val - (-200.0 / 2.0 - 200.0 / 2.0)).abs() < 1e-3, "{val}");
    let textbook = real.sigmoid().log().mean_all().item();
    assert!(
        textbook.is_infinite(),
        "the naive form overflows: {textbook}"
    );
    for loss in [GanLoss::Minimax, GanLoss::NonSaturating] {
        let g = loss.g_loss(&fake);
        assert!(g.item().is_finite());
        g.backward();
    }
    assert!(fake.grad().unwrap().all_finite());
}

#[test]
fn each_loss_against_its_equation() {
    let tape = Tape::new();
    let (lr, lf) = ([0.7, -0.2], [0.1, -1.5, 0.4]);
    let (r, f) = (v(&tape, &lr), v(&tape, &lf));
    let mean =
        |x: &[f64], g: &dyn Fn(f64) -> f64| x.iter().map(|&a| g(a)).sum::<f64>() / x.len() as f64;
    let cases: Vec<(GanLoss, f64, f64)> = vec![
        (
            GanLoss::Minimax,
            -(mean(&lr, &|l| sig(l).ln()) + mean(&lf, &|l| (1.0 - sig(l)).ln())),
            mean(&lf, &|l| (1.0 - sig(l)).ln()),
        ),
        (
            GanLoss::NonSaturating,
            -(mean(&lr, &|l| sig(l).ln()) + mean(&lf, &|l| (1.0 - sig(l)).ln())),
            -mean(&lf, &|l| sig(l).ln()),
        ),
        (
            GanLoss::Lsgan,
            0.5 * mean(&lr, &|d| (d - 1.0).powi(2)) + 0.5 * mean(&lf, &|d| d * d),
            0.5 * mean(&lf, &|d| (d - 1.0).powi(2)),
        ),
        (
            GanLoss::Wgan,
            mean(&lf, &|d| d) - mean(&lr, &|d| d),
            -mean(&lf, &|d| d),
        ),
        (
            GanLoss::Hinge,
            mean(&lr, &|d| (1.0 - d).max(0.0)) + mean(&lf, &|d| (1.0 + d).max(0.0)),
            -mean(&lf, &|d| d),
        ),
    ];
    for (loss, d_expect, g_expect) in cases {
        let d = loss.d_loss(&r, &f).item();
        let g = loss.g_loss(&f).item();
        assert!(
            (d - d_expect).abs() < 1e-12,
            "{loss:?} D: {d} vs {d_expect}"
        );
        assert!(
            (g - g_expect).abs() < 1e-12,
            "{loss:?} G: {g} vs {g_expect}"
        );
    }
    assert_eq!(GanLoss::parse("wgan-gp"), Some(GanLoss::WganGp));
    assert_eq!(GanLoss::parse("nope"), None);
}

#[test]
fn saturating_generator_gradient_vanishes_where_nonsaturating_does_not() {
    // D confidently rejects G's sample: logit −8. The saturating loss' gradient ∝ σ(l) ≈ 3e-4;
    // the non-saturating one's ∝ 1 − σ(l) ≈ 1.
    let tape = Tape::new();
    let f = v(&tape, &[-8.0]);
    GanLoss::Minimax.g_loss(&f).backward();
    let sat = f.grad().unwrap().item();
    let tape = Tape::new();
    let f = v(&tape, &[-8.0]);
    GanLoss::NonSaturating.g_loss(&f).backward();
    let ns = f.grad().unwrap().item();
    assert!((sat - (-sig(-8.0))).abs() < 1e-12, "{sat}");
    assert!((ns - (-(1.0 - sig(-8.0)))).abs() < 1e-12, "{ns}");
}

/// A linear critic D(x) = w·x on 2-D samples: ∇ₓD = w for every x̂, so the penalty is
/// (‖w‖ − 1)² whatever α is, and its gradient with respect to w is 2(‖w‖ − 1)·w/‖w‖.
#[test]
fn gradient_penalty_value_and_gradient_by_hand() {
    let w = Param::new("w", Tensor::from_vec(vec![3.0f64, 4.0], [2, 1]));
    let tape = Tape::new();
    let wv = tape.param(&w);
    let d = |x: &Var| x.matmul(&wv);
    let real = tape.constant(Tensor::from_vec(vec![1.0f64, 2.0, -1.0, 0.5], [2, 2]));
    let fake = tape.constant(Tensor::from_vec(vec![0.0f64, 0.0, 3.0, 1.0], [2, 2]));
    let mut rng = tensor::Rng::seed(1);
    let gp = objectives::gradient_penalty(&d, &real, &fake, &mut rng);
    assert!(
        (gp.item() - 16.0).abs() < 1e-9,
        "(‖w‖ − 1)² = (5 − 1)² = 16, got {}",
        gp.item()
    );
    gp.backward();
    let g = w.grad().unwrap().to_vec_f64();
    assert!(
        (g[0] - 2.0 * 4.0 * 3.0 / 5.0).abs() < 1e-9 && (g[1] - 2.0 * 4.0 * 4.0 / 5.0).abs() < 1e-9,
        "{g:?}"
    );
}

/// A quadratic critic D(x) = Σ x², ∇ₓD(x̂) = 2x̂: the penalty depends on α, which must be one
/// number per sample (the same for both coordinates) and the norm taken over the whole sample.
#[test]
fn gradient_penalty_mixes_per_sample_and_takes_the_norm_over_the_sample() {
    let tape = Tape::new();
    let d = |x: &Var| x.square().sum(&[1], false);
    let real = tape.constant(Tensor::from_vec(vec![1.0f64, 1.0, 2.0, 0.0], [2, 2]));
    let fake = tape.constant(Tensor::from_vec(vec![0.0f64, 0.0, 0.0, 2.0], [2, 2]));
    let alpha = Tensor::from_vec(vec![0.5f64, 0.25], [2, 1]);
    let gp = objectives::gradient_penalty_at(&d, &real, &fake, &alpha);
    // x̂₁ = (0.5, 0.5): ‖2x̂₁‖ = √2; x̂₂ = (0.5, 1.5): ‖2x̂₂‖ = √10
    let expect = ((2f64.sqrt() - 1.0).powi(2) + (10f64.sqrt() - 1.0).powi(2)) / 2.0;
    assert!(
        (gp.item() - expect).abs() < 1e-9,
        "{} vs {expect}",
        gp.item()
    );
    // the drawn α has one value per sample
    let mut rng = tensor::Rng::seed(3);
    let a = Tensor::rand_uniform([4, 1, 1, 1], 0.0, 1.0, DType::F64, &mut rng);
    assert_eq!(a.dims(), &[4, 1, 1, 1]);
}

#[test]
fn r1_penalty_by_hand() {
    let w = Param::new("w", Tensor::from_vec(vec![1.0f64, -2.0], [2, 1]));
    let tape = Tape::new();
    let wv = tape.param(&w);
    let d = |x: &Var| x.matmul(&wv);
    let real = tape.constant(Tensor::from_vec(
        vec![0.3f64, 0.1, 2.0, -1.0, 0.0, 0.0],
        [3, 2],
    ));
    let r1 = objectives::r1_penalty(&d, &real, 10.0);
    // ∇ₓD = w for every sample: (γ/2)·‖w‖² = 5 · 5 = 25; d/dw = γ·w
    assert!((r1.item() - 25.0).abs() < 1e-9);
    r1.backward();
    assert_eq!(w.grad().unwrap().to_vec_f64(), vec![10.0, -20.0]);
}

#[test]
fn weight_clipping_clamps_every_element() {
    let p = Param::new("w", Tensor::from_vec(vec![0.5f32, -0.02, 0.003, -3.0], [4]));
    objectives::clip_weights(&[p.clone()], 0.01);
    assert_eq!(p.value().to_vec_f32(), vec![0.01, -0.01, 0.003, -0.01]);
}
