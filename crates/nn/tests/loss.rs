//! Losses: hand-computed values, the stable BCE-with-logits against the textbook form,
//! finiteness at extreme logits, and first and second derivatives by finite differences.

use autograd::testing::{config, shape, tensor_away_from_kinks, tensor_in};
use autograd::{gradcheck, gradgradcheck, CheckOptions, Tape, Var};
use minimax_nn::loss::{
    bce, bce_with_logits, cross_entropy, kl_normal, l1, mse, nll, smooth_l1, Reduction,
};
use proptest::prelude::*;
use tensor::{DType, Shape, Tensor};

fn t64(v: &[f64]) -> Tensor {
    Tensor::from_slice(v, [v.len()])
}

#[track_caller]
fn close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (a, b) in got.iter().zip(want) {
        assert!(
            (a - b).abs() <= tol * (1.0 + b.abs()),
            "got {got:?}, want {want:?}"
        );
    }
}

/// Runs `f` on leaves made of `inputs` and returns the loss value and each input's gradient.
fn eval(inputs: &[Tensor], f: impl Fn(&[Var]) -> Var) -> (Vec<f64>, Vec<Vec<f64>>) {
    let tape = Tape::new();
    let vs: Vec<Var> = inputs.iter().map(|t| tape.leaf(t.clone())).collect();
    let y = f(&vs);
    let val = y.value().to_vec_f64();
    y.sum_all().backward();
    let grads = vs
        .iter()
        .map(|v| v.grad().map_or(vec![], |g| g.to_vec_f64()))
        .collect();
    (val, grads)
}

const R: [Reduction; 3] = [Reduction::Mean, Reduction::Sum, Reduction::None];

// ---------------------------------------------------------------------------------- values

#[test]
fn mse_l1_smooth_l1_values_and_reductions() {
    let (x, t) = (t64(&[1.0, 2.0, 3.0]), t64(&[0.0, 2.0, 5.0]));
    let v = |f: &dyn Fn(&Var, &Var, Reduction) -> Var, r| {
        eval(&[x.clone(), t.clone()], |v| f(&v[0], &v[1], r)).0
    };
    assert_eq!(v(&mse, Reduction::None), vec![1.0, 0.0, 4.0]);
    assert_eq!(v(&mse, Reduction::Sum), vec![5.0]);
    close(&v(&mse, Reduction::Mean), &[5.0 / 3.0], 1e-15);
    assert_eq!(v(&l1, Reduction::None), vec![1.0, 0.0, 2.0]);
    assert_eq!(v(&l1, Reduction::Mean), vec![1.0]);

    // d = [0.5, −2, 1], β = 1: ½d² below β, |d| − ½ from β on
    let (x, t) = (t64(&[0.5, -2.0, 1.0]), t64(&[0.0, 0.0, 0.0]));
    let (val, g) = eval(&[x.clone(), t.clone()], |v| {
        smooth_l1(&v[0], &v[1], 1.0, Reduction::None)
    });
    assert_eq!(val, vec![0.125, 1.5, 0.5]);
    assert_eq!(g[0], vec![0.5, -1.0, 1.0]);
    let (val, _) = eval(&[x.clone(), t.clone()], |v| {
        smooth_l1(&v[0], &v[1], 2.0, Reduction::Sum)
    });
    assert_eq!(val, vec![0.0625 + 1.0 + 0.25]);
    let (val, _) = eval(&[x, t], |v| smooth_l1(&v[0], &v[1], 0.0, Reduction::None));
    assert_eq!(val, vec![0.5, 2.0, 1.0], "β = 0 is L1");
}

#[test]
fn bce_values_clamp_the_log_at_minus_100_with_finite_gradients() {
    let ln2 = 2f64.ln();
    for dtype in [DType::F64, DType::F32] {
        let p = t64(&[0.5, 0.9, 0.0, 1.0, 1.0]).to_dtype(dtype);
        let t = t64(&[1.0, 0.0, 1.0, 1.0, 0.0]).to_dtype(dtype);
        let (val, g) = eval(&[p, t], |v| bce(&v[0], &v[1], Reduction::None));
        close(&val, &[ln2, -(0.1f64.ln()), 100.0, 0.0, 100.0], 1e-6);
        for gi in &g {
            assert!(
                gi.iter().all(|x| x.is_finite()),
                "{dtype}: non-finite gradient {g:?}"
            );
        }
        // dℓ/dp = −t/p + (1 − t)/(1 − p) where the logs are not clamped, and PyTorch's
        // (p − t)/max(p(1 − p), 1e-12) at p = 0 and 1: −1e12, 0, 1e12
        close(&g[0][..2], &[-2.0, 10.0], 1e-5);
        close(&g[0][2..], &[-1e12, 0.0, 1e12], 1e-6);
    }
    let p = t64(&[0.25, 0.75]);
    let (val, _) = eval(&[p, t64(&[1.0, 1.0])], |v| {
        bce(&v[0], &v[1], Reduction::Mean)
    });
    close(&val, &[-(0.25f64.ln() + 0.75f64.ln()) / 2.0], 1e-15);
}

/// PyTorch's BCE backward, (p − t)/max(p(1 − p), 1e-12), at p = 0 and 1 (where the logs are
/// clamped at −100) and within 1e-12 of them; elsewhere the exact derivative, which a central
/// difference confirms; the target's gradient max(ln(1 − p), −100) − max(ln p, −100).
#[test]
fn bce_gradient_is_pytorchs_where_the_log_is_clamped() {
    let torch = |p: f64, t: f64| (p - t) / (p * (1.0 - p)).max(1e-12);
    // (2e-9 and 1e-13 with t = 0: in f32 1 − p rounds to 1, and the floor must still be
    // tested on p(1 − p), as PyTorch does: dℓ/dp ≈ 1 and 0.1, not 0)
    let ps = [
        0.0,
        0.0,
        0.0,
        1.0,
        1.0,
        1.0,
        1e-13,
        1.0 - 1e-13,
        1e-300,
        2e-9,
        2e-9,
        1e-13,
    ];
    let ts = [1.0, 0.0, 0.3, 0.0, 1.0, 0.3, 1.0, 0.0, 0.5, 0.0, 1.0, 0.0];
    for dtype in [DType::F64, DType::F32] {
        let p = t64(&ps).to_dtype(dtype);
        let t = t64(&ts).to_dtype(dtype);
        let (pv, tv) = (p.to_vec_f64(), t.to_vec_f64());
        let (val, g) = eval(&[p, t], |v| bce(&v[0], &v[1], Reduction::None));
        for i in 0..ps.len() {
            let want = torch(pv[i], tv[i]);
            assert!(
                (g[0][i] - want).abs() <= 1e-6 * want.abs().max(1.0),
                "{dtype}: p {} t {}: dℓ/dp {} vs PyTorch's {want}",
                pv[i],
                tv[i],
                g[0][i]
            );
            let clog = |x: f64| x.ln().max(-100.0);
            let want_t = clog(1.0 - pv[i]) - clog(pv[i]);
            assert!(
                (g[1][i] - want_t).abs() <= 1e-5 * want_t.abs().max(1.0),
                "{dtype}: p {} t {}: dℓ/dt {} vs {want_t}",
                pv[i],
                tv[i],
                g[1][i]
            );
            assert!(val[i].is_finite() && val[i] <= 100.0 + 1e-9);
        }
    }
    // p = 0 and 1 in the mean: the gradient is the elementwise one over N
    let (_, g) = eval(&[t64(&[0.0, 1.0, 0.5]), t64(&[1.0, 0.0, 1.0])], |v| {
        bce(&v[0], &v[1], Reduction::Mean)
    });
    close(&g[0], &[-1e12 / 3.0, 1e12 / 3.0, -2.0 / 3.0], 1e-12);
    // elsewhere the exact derivative: central differences, close to 0 and 1 as well
    let ps = t64(&[1e-3, 0.3, 0.5, 0.97, 1.0 - 1e-4]);
    let ts = t64(&[1.0, 0.0, 0.2, 0.6, 0.0]);
    let o = CheckOptions {
        eps: 1e-8,
        atol: 1e-6,
        rtol: 1e-5,
    };
    let r = gradcheck(&|v| bce(&v[0], &v[1], Reduction::Sum), &[ps, ts], o);
    assert!(r.is_ok(), "{}", r.unwrap_err());
}

#[test]
fn bce_at_0_and_1_is_clean_in_anomaly_mode() {
    let tape = Tape::new();
    tape.set_anomaly(true); // panics on the first op that produces a NaN or Inf
    let p = tape.leaf(t64(&[0.0, 1.0, 0.5]));
    let t = tape.constant(t64(&[1.0, 0.0, 1.0]));
    let l = bce(&p, &t, Reduction::Sum);
    close(&l.value().to_vec_f64(), &[200.0 + 2f64.ln()], 1e-15);
    l.backward();
    assert!(p.grad().unwrap().all_finite());
}

#[test]
fn bce_propagates_nan_instead_of_hiding_it() {
    let (val, _) = eval(&[t64(&[f64::NAN, 0.5]), t64(&[1.0, 1.0])], |v| {
        bce(&v[0], &v[1], Reduction::None)
    });
    assert!(val[0].is_nan());
    assert_eq!(val[1], 2f64.ln());
}

#[test]
#[should_panic(
    expected = "bce: probabilities must be in [0, 1], but element 1 is 1.5 (use bce_with_logits on logits)"
)]
fn bce_rejects_probabilities_outside_0_1() {
    eval(&[t64(&[0.5, 1.5]), t64(&[1.0, 1.0])], |v| {
        bce(&v[0], &v[1], Reduction::Mean)
    });
}

#[test]
fn bce_with_logits_values_and_pos_weight() {
    let ln2 = 2f64.ln();
    let x = t64(&[0.0, 0.0, 1.0]);
    let t = t64(&[1.0, 0.0, 0.5]);
    let (val, _) = eval(&[x.clone(), t.clone()], |v| {
        bce_with_logits(&v[0], &v[1], None, Reduction::None)
    });
    close(&val, &[ln2, ln2, 0.5 + (1.0 + (-1f64).exp()).ln()], 1e-15);
    // w = 3 on the positive term: 3·ln 2 for (0, 1); the negative term is unweighted
    let w = t64(&[3.0, 3.0, 3.0]);
    let (val, g) = eval(&[x, t, w], |v| {
        bce_with_logits(&v[0], &v[1], Some(&v[2]), Reduction::None)
    });
    close(
        &val,
        &[3.0 * ln2, ln2, 0.5 + 2.0 * (1.0 + (-1f64).exp()).ln()],
        1e-15,
    );
    // dℓ/dx = (1 − t) − (1 + (w − 1)t)·σ(−x): at (0, 1, 3): −3/2
    close(&g[0][..1], &[-1.5], 1e-15);
}

#[test]
fn pos_weight_broadcasts_over_the_batch() {
    let x = Tensor::zeros([2, 3], DType::F64);
    let t = Tensor::ones([2, 3], DType::F64);
    let w = t64(&[1.0, 2.0, 4.0]);
    let (val, _) = eval(&[x, t, w], |v| {
        bce_with_logits(&v[0], &v[1], Some(&v[2]), Reduction::None)
    });
    let ln2 = 2f64.ln();
    close(
        &val,
        &[ln2, 2.0 * ln2, 4.0 * ln2, ln2, 2.0 * ln2, 4.0 * ln2],
        1e-15,
    );
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn bce_with_logits_stays_finite_at_plus_minus_200() {
    for dtype in [DType::F64, DType::F32] {
        let x = t64(&[200.0, 200.0, -200.0, -200.0]).to_dtype(dtype);
        let t = t64(&[0.0, 1.0, 1.0, 0.0]).to_dtype(dtype);
        let (val, g) = eval(&[x, t], |v| {
            bce_with_logits(&v[0], &v[1], None, Reduction::None)
        });
        assert!(
            val.iter().chain(&g[0]).all(|v| v.is_finite()),
            "{dtype}: {val:?} {g:?}"
        );
        close(&[val[0], val[2]], &[200.0, 200.0], 1e-7);
        assert!(
            val[1] >= 0.0 && val[1] < 1e-30 && val[3] >= 0.0 && val[3] < 1e-30,
            "{val:?}"
        );
        // gradient σ(x) − t
        close(&g[0], &[1.0, 0.0, -1.0, 0.0], 1e-7);
        // the textbook form is not finite there: that is the point
        let textbook = -(0.0 * sigmoid(200.0).ln() + 1.0 * (1.0 - sigmoid(200.0)).ln());
        assert!(textbook.is_infinite());
    }
}

#[test]
fn cross_entropy_and_nll_values() {
    let logits = Tensor::from_vec(vec![1.0, 2.0, 3.0, 1.0, 1.0, 1.0], [2, 3]);
    let lse = 3.0 + (1.0 + (-1f64).exp() + (-2f64).exp()).ln();
    let (val, g) = eval(&[logits.clone()], |v| {
        cross_entropy(&v[0], &[2, 0], Reduction::None)
    });
    close(&val, &[lse - 3.0, 3f64.ln()], 1e-15);
    // gradient softmax − one_hot
    let sm: Vec<f64> = [1.0f64, 2.0, 3.0].iter().map(|x| (x - lse).exp()).collect();
    close(
        &g[0],
        &[
            sm[0],
            sm[1],
            sm[2] - 1.0,
            1.0 / 3.0 - 1.0,
            1.0 / 3.0,
            1.0 / 3.0,
        ],
        1e-12,
    );
    let (val, _) = eval(&[logits], |v| {
        cross_entropy(&v[0], &[2, 0], Reduction::Mean)
    });
    close(&val, &[(lse - 3.0 + 3f64.ln()) / 2.0], 1e-15);

    let lp = Tensor::from_vec(vec![-1.0, -2.0, -0.5, -3.0], [2, 2]);
    let (val, _) = eval(&[lp.clone()], |v| nll(&v[0], &[1, 0], Reduction::None));
    assert_eq!(val, vec![2.0, 0.5]);
    let (val, _) = eval(&[lp], |v| nll(&v[0], &[1, 0], Reduction::Mean));
    assert_eq!(val, vec![1.25]);

    // large logits stay finite (log_softmax, not log of softmax)
    let big = Tensor::from_vec(vec![1000.0f32, 0.0], [1, 2]);
    let (val, _) = eval(&[big], |v| cross_entropy(&v[0], &[1], Reduction::Sum));
    close(&val, &[1000.0], 1e-6);
}

/// `[N, C, H, W]` with a class per pixel is the `[N·H·W, C]` case with the class axis moved
/// last; `None` keeps the shape `[N, H, W]` and the mean is over all N·H·W positions.
#[test]
fn cross_entropy_per_position_is_the_flattened_case() {
    let mut rng = tensor::Rng::seed(3);
    let x = Tensor::randn([2, 3, 2, 2], 0.0, 1.5, DType::F64, &mut rng);
    let classes = [0usize, 2, 1, 1, 2, 0, 0, 1];
    let flat = x.permute(&[0, 2, 3, 1]).contiguous().reshape([8, 3]);
    let (val, g) = eval(&[x.clone()], |v| {
        cross_entropy(&v[0], &classes, Reduction::None)
    });
    let (want, gf) = eval(&[flat.clone()], |v| {
        cross_entropy(&v[0], &classes, Reduction::None)
    });
    close(&val, &want, 1e-15);
    // the gradient, moved back from [N, H, W, C] to [N, C, H, W]
    let gf = Tensor::from_vec(gf[0].clone(), [2, 2, 2, 3])
        .permute(&[0, 3, 1, 2])
        .to_vec_f64();
    close(&g[0], &gf, 1e-15);
    let tape = Tape::new();
    let none = cross_entropy(&tape.leaf(x.clone()), &classes, Reduction::None);
    assert_eq!(none.dims(), &[2, 2, 2]);
    let (mean, _) = eval(&[x.clone()], |v| {
        cross_entropy(&v[0], &classes, Reduction::Mean)
    });
    close(&mean, &[want.iter().sum::<f64>() / 8.0], 1e-15);
    let (val, _) = eval(&[x.clone()], |v| nll(&v[0], &classes, Reduction::Sum));
    let (want, _) = eval(&[flat], |v| nll(&v[0], &classes, Reduction::Sum));
    close(&val, &want, 1e-15);
}

#[test]
#[should_panic(expected = "nll: 3 target classes given for 8 positions (input [2, 3, 2, 2])")]
fn nll_per_position_needs_a_class_per_position() {
    eval(&[Tensor::zeros([2, 3, 2, 2], DType::F64)], |v| {
        nll(&v[0], &[0, 1, 2], Reduction::Mean)
    });
}

#[test]
#[should_panic(
    expected = "cross_entropy: target class 3 at position 1 is out of range for 3 classes"
)]
fn cross_entropy_rejects_a_class_out_of_range() {
    eval(&[Tensor::zeros([2, 3], DType::F64)], |v| {
        cross_entropy(&v[0], &[0, 3], Reduction::Mean)
    });
}

#[test]
#[should_panic(expected = "mse: input shape [4, 1] and target shape [4] differ")]
fn elementwise_losses_reject_mismatched_shapes() {
    eval(
        &[
            Tensor::zeros([4, 1], DType::F64),
            Tensor::zeros([4], DType::F64),
        ],
        |v| mse(&v[0], &v[1], Reduction::Mean),
    );
}

#[test]
fn kl_normal_sums_latent_dims_and_reduces_over_the_batch() {
    let ln2 = 2f64.ln();
    let mu = Tensor::from_vec(vec![0.0, 1.0, 2.0, 0.0], [2, 2]);
    let logvar = Tensor::from_vec(vec![0.0, 0.0, ln2, 0.0], [2, 2]);
    // sample 0: −½[(1 + 0 − 0 − 1) + (1 + 0 − 1 − 1)] = ½
    // sample 1: −½[(1 + ln 2 − 4 − 2) + 0] = 5/2 − ln2/2
    let per = [0.5, 2.5 - ln2 / 2.0];
    let get = |r| {
        eval(&[mu.clone(), logvar.clone()], |v| {
            kl_normal(&v[0], &v[1], r)
        })
        .0
    };
    close(&get(Reduction::None), &per, 1e-15);
    close(&get(Reduction::Sum), &[per[0] + per[1]], 1e-15);
    close(&get(Reduction::Mean), &[(per[0] + per[1]) / 2.0], 1e-15);
    // N(0, I) itself: zero
    let z = Tensor::zeros([3, 4, 2], DType::F64);
    let (val, g) = eval(&[z.clone(), z], |v| {
        kl_normal(&v[0], &v[1], Reduction::Mean)
    });
    assert_eq!(val, vec![0.0]);
    assert!(g.iter().flatten().all(|&x| x == 0.0));
}

// ---------------------------------------------------------------------------------- derivatives

fn opts() -> CheckOptions {
    CheckOptions {
        eps: 1e-6,
        atol: 1e-6,
        rtol: 1e-4,
    }
}

#[track_caller]
fn check_both(
    name: &str,
    f: &dyn Fn(&[Var]) -> Var,
    inputs: &[Tensor],
) -> Result<(), TestCaseError> {
    let r = gradcheck(f, inputs, opts());
    prop_assert!(r.is_ok(), "{name} gradcheck: {}", r.unwrap_err());
    let r = gradgradcheck(f, inputs, opts());
    prop_assert!(r.is_ok(), "{name} gradgradcheck: {}", r.unwrap_err());
    Ok(())
}

/// `x`, and a target at distance ≥ 0.1 from it elementwise (|x − t| is a kink of l1 at 0).
fn pair_away_from_zero() -> impl Strategy<Value = (Tensor, Tensor)> {
    shape(1..=3, 1..=4)
        .prop_flat_map(|s| {
            (
                tensor_in(Just(s), -2.0, 2.0),
                tensor_away_from_kinks(Just(s), 0.1),
            )
        })
        .prop_map(|(x, d)| (x.clone(), x.sub(&d)))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mse_l1_derivatives((x, t) in pair_away_from_zero(), r in 0..3usize) {
        check_both("mse", &|v| mse(&v[0], &v[1], R[r]), &[x.clone(), t.clone()])?;
        check_both("l1", &|v| l1(&v[0], &v[1], R[r]), &[x, t])?;
    }

    #[test]
    fn smooth_l1_derivatives((x, t) in pair_away_from_zero(), r in 0..3usize) {
        // away from the switch at |d| = β as well
        let beta = 0.5;
        let d = x.sub(&t).abs().to_vec_f64();
        prop_assume!(d.iter().all(|d| (d - beta).abs() > 0.02));
        check_both("smooth_l1", &|v| smooth_l1(&v[0], &v[1], beta, R[r]), &[x, t])?;
    }

    #[test]
    fn bce_derivatives(p in tensor_in(shape(1..=3, 1..=4), 0.05, 0.95), r in 0..3usize, seed in 0u64..1000) {
        let mut rng = tensor::Rng::seed(seed);
        let t = Tensor::rand_uniform(*p.shape(), 0.0, 1.0, DType::F64, &mut rng);
        check_both("bce", &|v| bce(&v[0], &v[1], R[r]), &[p, t])?;
    }

    #[test]
    fn bce_with_logits_derivatives(
        x in tensor_in(shape(1..=3, 1..=4), -4.0, 4.0),
        r in 0..3usize,
        seed in 0u64..1000,
    ) {
        let mut rng = tensor::Rng::seed(seed);
        let t = Tensor::rand_uniform(*x.shape(), 0.0, 1.0, DType::F64, &mut rng);
        let last = *x.dims().last().unwrap();
        let w = Tensor::rand_uniform([last], 0.5, 3.0, DType::F64, &mut rng);
        check_both("bce_with_logits", &|v| bce_with_logits(&v[0], &v[1], None, R[r]), &[x.clone(), t.clone()])?;
        check_both("bce_with_logits(pos_weight)", &|v| bce_with_logits(&v[0], &v[1], Some(&v[2]), R[r]), &[x, t, w])?;
    }

    /// The stable form equals the textbook −[w·t·ln σ(x) + (1 − t)·ln(1 − σ(x))] wherever the
    /// latter is accurate.
    #[test]
    fn bce_with_logits_equals_the_textbook_form(
        x in tensor_in(shape(1..=2, 1..=5), -15.0, 15.0),
        seed in 0u64..1000,
        weighted in any::<bool>(),
    ) {
        let mut rng = tensor::Rng::seed(seed);
        let t = Tensor::rand_uniform(*x.shape(), 0.0, 1.0, DType::F64, &mut rng);
        let w = Tensor::full(*x.shape(), if weighted { 2.5 } else { 1.0 }, DType::F64);
        let (got, _) = eval(&[x.clone(), t.clone(), w.clone()], |v| {
            bce_with_logits(&v[0], &v[1], weighted.then_some(&v[2]), Reduction::None)
        });
        let (xs, ts, ws) = (x.to_vec_f64(), t.to_vec_f64(), w.to_vec_f64());
        for i in 0..xs.len() {
            let s = sigmoid(xs[i]);
            let textbook = -(ws[i] * ts[i] * s.ln() + (1.0 - ts[i]) * (1.0 - s).ln());
            prop_assert!(textbook.is_finite());
            prop_assert!((got[i] - textbook).abs() <= 1e-8 * (1.0 + textbook.abs()), "x {} t {}: {} vs {}", xs[i], ts[i], got[i], textbook);
        }
    }

    #[test]
    fn cross_entropy_and_nll_derivatives(
        n in 1..4usize,
        c in 2..5usize,
        seed in 0u64..1000,
        r in 0..3usize,
    ) {
        let mut rng = tensor::Rng::seed(seed);
        let logits = Tensor::randn([n, c], 0.0, 2.0, DType::F64, &mut rng);
        let classes: Vec<usize> = (0..n).map(|_| rng.below(c)).collect();
        check_both("cross_entropy", &|v| cross_entropy(&v[0], &classes, R[r]), &[logits.clone()])?;
        check_both("nll", &|v| nll(&v[0], &classes, R[r]), &[logits])?;
    }

    /// One class per position of `[N, C, d₁, d₂]` (PyTorch's K-dimensional case).
    #[test]
    fn cross_entropy_and_nll_derivatives_per_position(
        (n, c, h, w) in (1..3usize, 2..4usize, 1..3usize, 1..3usize),
        seed in 0u64..1000,
        r in 0..3usize,
    ) {
        let mut rng = tensor::Rng::seed(seed);
        let logits = Tensor::randn([n, c, h, w], 0.0, 2.0, DType::F64, &mut rng);
        let classes: Vec<usize> = (0..n * h * w).map(|_| rng.below(c)).collect();
        check_both("cross_entropy", &|v| cross_entropy(&v[0], &classes, R[r]), &[logits.clone()])?;
        check_both("nll", &|v| nll(&v[0], &classes, R[r]), &[logits])?;
    }

    #[test]
    fn kl_normal_derivatives(
        s in shape(1..=3, 1..=3),
        seed in 0u64..1000,
        r in 0..3usize,
    ) {
        let mut rng = tensor::Rng::seed(seed);
        let mu = Tensor::rand_uniform(s, -2.0, 2.0, DType::F64, &mut rng);
        let logvar = Tensor::rand_uniform(s, -2.0, 2.0, DType::F64, &mut rng);
        check_both("kl_normal", &|v| kl_normal(&v[0], &v[1], R[r]), &[mu, logvar])?;
    }
}

#[test]
fn reduction_none_keeps_the_per_sample_shape() {
    let x = Tensor::zeros([3, 4], DType::F32);
    let (val, _) = eval(&[x.clone(), x.clone()], |v| {
        kl_normal(&v[0], &v[1], Reduction::None)
    });
    assert_eq!(val.len(), 3);
    let tape = Tape::new();
    let l = cross_entropy(&tape.leaf(x), &[0, 1, 2], Reduction::None);
    assert_eq!(*l.shape(), Shape::new(&[3]));
    assert_eq!(Reduction::default(), Reduction::Mean);
}
