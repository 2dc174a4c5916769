//! Optimizers against steps computed by hand with the documented formulas, plus skipping,
//! error reporting, state save/restore and independence of two optimizers.
//!
//! The literal trajectories (`*_REF`) were computed separately in plain Python floats
//! following PyTorch's `_single_tensor_*` code; the in-test formulas follow the papers'
//! notation. Both must agree with the implementation.

use autograd::{Param, Tape, Var};
use minimax_nn::optim::{
    Adam, AdamConfig, AdamW, AdamWConfig, Optim, OptimErrorKind, Optimizer, ParamGroup, RmsProp,
    RmsPropConfig, Sgd, SgdConfig,
};
use minimax_nn::{as_dyn, Module};
use tensor::{DType, Tensor};

const THETA0: [f64; 2] = [1.0, -2.0];
const GRADS: [[f64; 2]; 3] = [[0.5, -1.0], [0.2, 0.3], [-0.4, 0.1]];

fn param(name: &str, v: &[f64]) -> Param {
    Param::new(name, Tensor::from_slice(v, [v.len()]))
}

fn set_grad(p: &Param, g: &[f64]) {
    p.set_grad(Some(
        Tensor::from_slice(g, [g.len()]).to_dtype(p.value().dtype()),
    ));
}

fn vals(p: &Param) -> Vec<f64> {
    p.value().to_vec_f64()
}

#[track_caller]
fn assert_close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= tol * (1.0 + b.abs()),
            "element {i}: got {a}, want {b} (all: {got:?} vs {want:?})"
        );
    }
}

/// Runs `steps` steps of `opt` on `p` with the gradients `GRADS`, returning the trajectory.
fn run(opt: &mut dyn Optimizer, p: &Param, steps: usize) -> Vec<Vec<f64>> {
    (0..steps)
        .map(|t| {
            set_grad(p, &GRADS[t]);
            let r = opt.step().unwrap();
            assert_eq!(r.updated, 1);
            vals(p)
        })
        .collect()
}

// ---------------------------------------------------------------------------------- Adam

const ADAM_REF: [[f64; 2]; 2] = [
    [0.900000002, -1.900000001],
    [0.8101424839029282, -1.8572151424292265],
];
const ADAM_WD_REF: [[f64; 2]; 2] = [
    [0.9000000016666666, -1.9000000008333333],
    [0.8072814605072346, -1.8400703555381717],
];
const ADAMW_REF: [[f64; 2]; 2] = [
    [0.890000002, -1.880000001],
    [0.7912424838829282, -1.8184151424192265],
];
const AMSGRAD_REF: [[f64; 2]; 2] = [
    [0.900000001, -1.9000000005],
    [0.8322835510128204, -1.8333997552615722],
];

/// Adam by the paper's formulas: m, v moments; m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ);
/// θ ← θ − lr·m̂/(√v̂ + ε). `wd` is added to the gradient, or decoupled (AdamW).
fn adam_by_hand(grads: &[[f64; 2]], wd: f64, decoupled: bool, amsgrad: bool) -> Vec<Vec<f64>> {
    let (lr, b1, b2, eps) = (0.1, 0.9, 0.999, 1e-8);
    let mut th = THETA0.to_vec();
    let (mut m, mut v, mut vmax) = (vec![0.0; 2], vec![0.0; 2], vec![0.0f64; 2]);
    let mut out = vec![];
    for (t, g) in grads.iter().enumerate() {
        let t = (t + 1) as i32;
        for i in 0..2 {
            let mut gi = g[i];
            if decoupled {
                th[i] -= lr * wd * th[i];
            } else {
                gi += wd * th[i];
            }
            m[i] = b1 * m[i] + (1.0 - b1) * gi;
            v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
            vmax[i] = vmax[i].max(v[i]);
            let m_hat = m[i] / (1.0 - b1.powi(t));
            let v_hat = if amsgrad { vmax[i] } else { v[i] } / (1.0 - b2.powi(t));
            th[i] -= lr * m_hat / (v_hat.sqrt() + eps);
        }
        out.push(th.clone());
    }
    out
}

fn adam_cfg() -> AdamConfig {
    AdamConfig::default().lr(0.1).betas(0.9, 0.999).eps(1e-8)
}

#[test]
fn adam_first_two_steps_match_the_formulas() {
    let p = param("w", &THETA0);
    let mut opt = Adam::new(vec![p.clone()], adam_cfg()).unwrap();
    let got = run(&mut opt, &p, 2);
    let want = adam_by_hand(&GRADS[..2], 0.0, false, false);
    for t in 0..2 {
        assert_close(&got[t], &want[t], 1e-12);
        assert_close(&got[t], &ADAM_REF[t], 1e-12);
    }
    // the first step moves each element by lr (up to ε) against its gradient's sign
    assert_close(&got[0], &[0.9, -1.9], 1e-7);
    assert_eq!(opt.step_count(0), 2);
    let m = opt.buffer(0, "exp_avg").unwrap().to_vec_f64();
    assert_close(&m, &[0.9 * 0.05 + 0.1 * 0.2, 0.9 * -0.1 + 0.1 * 0.3], 1e-15);
}

#[test]
fn adam_l2_weight_decay_goes_into_the_gradient() {
    let p = param("w", &THETA0);
    let mut opt = Adam::new(vec![p.clone()], adam_cfg().weight_decay(0.1)).unwrap();
    let got = run(&mut opt, &p, 2);
    let want = adam_by_hand(&GRADS[..2], 0.1, false, false);
    for t in 0..2 {
        assert_close(&got[t], &want[t], 1e-12);
        assert_close(&got[t], &ADAM_WD_REF[t], 1e-12);
    }
}

#[test]
fn adamw_decays_the_weights_separately() {
    let p = param("w", &THETA0);
    let cfg = AdamWConfig::default()
        .lr(0.1)
        .betas(0.9, 0.999)
        .eps(1e-8)
        .weight_decay(0.1);
    let mut opt = AdamW::new(vec![p.clone()], cfg).unwrap();
    let got = run(&mut opt, &p, 2);
    let want = adam_by_hand(&GRADS[..2], 0.1, true, false);
    for t in 0..2 {
        assert_close(&got[t], &want[t], 1e-12);
        assert_close(&got[t], &ADAMW_REF[t], 1e-12);
    }
    // step 1: θ(1 − lr·λ) − lr·sign(g): the decay is not normalised away as Adam's L2 term is
    assert_close(&got[0], &[1.0 * 0.99 - 0.1, -2.0 * 0.99 + 0.1], 1e-7);
    assert_eq!(AdamWConfig::default().weight_decay, 1e-2);
    assert_eq!(AdamConfig::default().weight_decay, 0.0);
}

#[test]
fn amsgrad_divides_by_the_running_maximum() {
    // a large gradient then a tiny one: v shrinks, its maximum does not
    let grads = [[1.0, -2.0], [0.01, 0.01]];
    let p = param("w", &THETA0);
    let mut opt = Adam::new(vec![p.clone()], adam_cfg().amsgrad(true)).unwrap();
    let mut got = vec![];
    for g in &grads {
        set_grad(&p, g);
        opt.step().unwrap();
        got.push(vals(&p));
    }
    let want = adam_by_hand(&grads, 0.0, false, true);
    let plain = adam_by_hand(&grads, 0.0, false, false);
    for t in 0..2 {
        assert_close(&got[t], &want[t], 1e-12);
        assert_close(&got[t], &AMSGRAD_REF[t], 1e-12);
    }
    assert!(
        (got[1][0] - plain[1][0]).abs() > 1e-5,
        "amsgrad must differ from Adam here (by 3e-5)"
    );
    let vmax = opt.buffer(0, "max_exp_avg_sq").unwrap().to_vec_f64();
    assert_close(&vmax, &[0.001, 0.004], 1e-15);
}

// ---------------------------------------------------------------------------------- SGD

const SGD_DAMP_REF: [[f64; 2]; 3] = [
    [0.949, -1.898],
    [0.8842458999999999, -1.8314918],
    [0.8611713886899999, -1.77898607738],
];
const SGD_NESTEROV_REF: [[f64; 2]; 3] = [
    [0.9031, -1.8062],
    [0.82207411, -1.77714822],
    [0.842401658191, -1.7412506163819998],
];

/// SGD by PyTorch's documented algorithm: g ← g + λθ; b ← g (t = 1) or μb + (1 − τ)g;
/// g ← g + μb (Nesterov) or b; θ ← θ − γg.
fn sgd_by_hand(mu: f64, damp: f64, wd: f64, nesterov: bool) -> Vec<Vec<f64>> {
    let lr = 0.1;
    let mut th = THETA0.to_vec();
    let mut b = vec![0.0; 2];
    let mut out = vec![];
    for (t, g) in GRADS.iter().enumerate() {
        for i in 0..2 {
            let gi = g[i] + wd * th[i];
            b[i] = if t == 0 {
                gi
            } else {
                mu * b[i] + (1.0 - damp) * gi
            };
            let step = if nesterov { gi + mu * b[i] } else { b[i] };
            th[i] -= lr * step;
        }
        out.push(th.clone());
    }
    out
}

#[test]
fn sgd_momentum_dampening_weight_decay_three_steps() {
    let p = param("w", &THETA0);
    let cfg = SgdConfig::default()
        .lr(0.1)
        .momentum(0.9)
        .dampening(0.1)
        .weight_decay(0.01);
    let mut opt = Sgd::new(vec![p.clone()], cfg).unwrap();
    let got = run(&mut opt, &p, 3);
    let want = sgd_by_hand(0.9, 0.1, 0.01, false);
    for t in 0..3 {
        assert_close(&got[t], &want[t], 1e-13);
        assert_close(&got[t], &SGD_DAMP_REF[t], 1e-13);
    }
    // the first step uses b = g: dampening does not apply to it
    assert_close(
        &got[0],
        &[1.0 - 0.1 * (0.5 + 0.01), -2.0 - 0.1 * (-1.0 - 0.02)],
        1e-15,
    );
}

#[test]
fn sgd_nesterov_weight_decay_three_steps() {
    let p = param("w", &THETA0);
    let cfg = SgdConfig::default()
        .lr(0.1)
        .momentum(0.9)
        .nesterov(true)
        .weight_decay(0.01);
    let mut opt = Sgd::new(vec![p.clone()], cfg).unwrap();
    let got = run(&mut opt, &p, 3);
    let want = sgd_by_hand(0.9, 0.0, 0.01, true);
    for t in 0..3 {
        assert_close(&got[t], &want[t], 1e-13);
        assert_close(&got[t], &SGD_NESTEROV_REF[t], 1e-13);
    }
}

#[test]
fn sgd_plain_is_theta_minus_lr_grad_in_f32_and_f64() {
    for dtype in [DType::F32, DType::F64] {
        let p = Param::new(
            "w",
            Tensor::from_vec(vec![1.0f64, -2.0], [2]).to_dtype(dtype),
        );
        let mut opt = Sgd::new(vec![p.clone()], SgdConfig::default().lr(0.5)).unwrap();
        set_grad(&p, &[0.25, -0.5]);
        opt.step().unwrap();
        assert_eq!(p.value().dtype(), dtype);
        assert_eq!(vals(&p), vec![0.875, -1.75]);
        assert!(
            opt.buffer(0, "momentum_buffer").is_none(),
            "no buffer without momentum"
        );
    }
}

#[test]
fn invalid_configs_are_rejected_with_pytorchs_messages() {
    let p = || vec![param("w", &[1.0])];
    let e = Sgd::new(
        p(),
        SgdConfig::default()
            .momentum(0.9)
            .dampening(0.1)
            .nesterov(true),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "sgd: Nesterov momentum requires a momentum and zero dampening"
    );
    assert_eq!(e.kind(), OptimErrorKind::InvalidConfig);
    let e = Adam::new(p(), AdamConfig::default().lr(-1.0)).unwrap_err();
    assert_eq!(e.to_string(), "adam: Invalid learning rate: -1");
    let e = AdamW::new(p(), AdamWConfig::default().betas(0.9, 1.0)).unwrap_err();
    assert_eq!(e.to_string(), "adamw: Invalid beta parameter at index 1: 1");
    let e = RmsProp::new(p(), RmsPropConfig::default().eps(f64::NAN)).unwrap_err();
    assert_eq!(e.to_string(), "rmsprop: Invalid epsilon value: NaN");
    let e = Adam::new(Vec::<Param>::new(), AdamConfig::default()).unwrap_err();
    assert_eq!(e.to_string(), "adam: optimizer got an empty parameter list");
}

// ---------------------------------------------------------------------------------- RMSprop

const RMSPROP_REF: [[f64; 2]; 3] = [
    [0.9666666685185185, -1.9666666675925926],
    [0.9339583420729392, -1.952969043519946],
    [0.9321404194868224, -1.9432339914079044],
];

#[test]
fn rmsprop_centered_with_momentum_three_steps() {
    let (lr, alpha, eps, wd, mu) = (0.01, 0.9, 1e-8, 0.1, 0.5);
    let p = param("w", &THETA0);
    let cfg = RmsPropConfig::default()
        .lr(lr)
        .alpha(alpha)
        .eps(eps)
        .weight_decay(wd)
        .momentum(mu)
        .centered(true);
    let mut opt = RmsProp::new(vec![p.clone()], cfg).unwrap();
    let got = run(&mut opt, &p, 3);
    // v ← αv + (1−α)g²; ḡ ← αḡ + (1−α)g; b ← μb + g/(√(v − ḡ²) + ε); θ ← θ − lr·b
    let mut th = THETA0.to_vec();
    let (mut v, mut gbar, mut b) = (vec![0.0; 2], vec![0.0; 2], vec![0.0; 2]);
    for (t, g) in GRADS.iter().enumerate() {
        for i in 0..2 {
            let gi = g[i] + wd * th[i];
            v[i] = alpha * v[i] + (1.0 - alpha) * gi * gi;
            gbar[i] = alpha * gbar[i] + (1.0 - alpha) * gi;
            b[i] = mu * b[i] + gi / ((v[i] - gbar[i] * gbar[i]).sqrt() + eps);
            th[i] -= lr * b[i];
        }
        assert_close(&got[t], &th, 1e-12);
        assert_close(&got[t], &RMSPROP_REF[t], 1e-12);
    }
    for f in ["square_avg", "momentum_buffer", "grad_avg"] {
        assert!(opt.buffer(0, f).is_some(), "{f}");
    }
}

// ---------------------------------------------------------------------------------- maximize

/// `maximize` with gradient g is exactly minimizing with −g (weight decay included).
#[test]
fn maximize_is_descent_on_the_negated_gradient_for_every_optimizer() {
    fn check(make: &dyn Fn(bool) -> Box<dyn FnMut(&Param) -> Box<dyn Optimizer>>) {
        let (a, b) = (param("a", &THETA0), param("b", &THETA0));
        let mut oa = make(true)(&a);
        let mut ob = make(false)(&b);
        for g in GRADS {
            set_grad(&a, &g);
            set_grad(&b, &[-g[0], -g[1]]);
            oa.step().unwrap();
            ob.step().unwrap();
            assert_eq!(vals(&a), vals(&b), "{}", oa.kind());
        }
        assert_ne!(vals(&a), THETA0.to_vec());
    }
    check(&|mx| {
        Box::new(move |p: &Param| {
            let cfg = SgdConfig::default()
                .lr(0.1)
                .momentum(0.9)
                .weight_decay(0.01)
                .maximize(mx);
            Box::new(Sgd::new(vec![p.clone()], cfg).unwrap()) as Box<dyn Optimizer>
        })
    });
    check(&|mx| {
        Box::new(move |p: &Param| {
            let cfg = adam_cfg().weight_decay(0.01).amsgrad(true).maximize(mx);
            Box::new(Adam::new(vec![p.clone()], cfg).unwrap()) as Box<dyn Optimizer>
        })
    });
    check(&|mx| {
        Box::new(move |p: &Param| {
            Box::new(AdamW::new(vec![p.clone()], AdamWConfig::default().maximize(mx)).unwrap())
                as Box<dyn Optimizer>
        })
    });
    check(&|mx| {
        Box::new(move |p: &Param| {
            let cfg = RmsPropConfig::default()
                .momentum(0.5)
                .centered(true)
                .weight_decay(0.01)
                .maximize(mx);
            Box::new(RmsProp::new(vec![p.clone()], cfg).unwrap()) as Box<dyn Optimizer>
        })
    });
}

/// Gradient ascent as the tutorial writes it for D: θ ← θ + η∇V.
#[test]
fn maximize_sgd_is_gradient_ascent() {
    let p = param("d", &[1.0, 2.0]);
    let mut opt = Sgd::new(vec![p.clone()], SgdConfig::default().lr(0.5).maximize(true)).unwrap();
    set_grad(&p, &[1.0, -4.0]);
    opt.step().unwrap();
    assert_eq!(vals(&p), vec![1.5, 0.0]);
}

// ---------------------------------------------------------------------------------- skipping and errors

#[test]
fn params_without_gradient_or_frozen_are_skipped_and_reported() {
    let (a, b, c) = (param("a", &[1.0]), param("b", &[2.0]), param("c", &[3.0]));
    let named = vec![
        ("m.a".to_string(), a.clone()),
        ("m.b".to_string(), b.clone()),
        ("m.c".to_string(), c.clone()),
    ];
    let mut opt = Adam::new(named, adam_cfg()).unwrap();
    set_grad(&a, &[1.0]);
    set_grad(&c, &[1.0]);
    c.set_requires_grad(false);
    let r = opt.step().unwrap();
    assert_eq!(r.updated, 1);
    assert_eq!(r.no_grad, vec!["m.b".to_string()]);
    assert_eq!(r.frozen, vec!["m.c".to_string()]);
    assert_eq!(r.skipped(), 2);
    assert!(!r.all_updated());
    assert_eq!(
        r.to_string(),
        "updated 1 of 3 parameters; no gradient: 'm.b'; frozen: 'm.c'"
    );
    assert_eq!((vals(&b), vals(&c)), (vec![2.0], vec![3.0]));
    assert_eq!(
        (opt.step_count(0), opt.step_count(1), opt.step_count(2)),
        (1, 0, 0)
    );
    // b's first gradient arrives later: its own step counter starts at 1 (bias correction)
    set_grad(&b, &[1.0]);
    opt.step().unwrap();
    assert_eq!((opt.step_count(0), opt.step_count(1)), (2, 1));
    assert_close(&vals(&b), &[1.9], 1e-7);
    opt.zero_grad();
    assert!(a.grad().is_none() && b.grad().is_none());
    let r = opt.step().unwrap();
    assert_eq!((r.updated, r.no_grad.len()), (0, 2));
}

#[test]
fn a_non_finite_gradient_is_an_error_and_nothing_moves() {
    let a = param("gen.0.weight", &[1.0, 2.0, 3.0, 4.0]);
    let b = Param::new(
        "gen.1.weight",
        Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], [2, 2]),
    );
    let mut opt = Sgd::new(vec![a.clone(), b.clone()], SgdConfig::default().lr(0.1)).unwrap();
    set_grad(&a, &[1.0, 1.0, 1.0, 1.0]);
    b.set_grad(Some(Tensor::from_vec(
        vec![0.0f64, f64::NAN, f64::INFINITY, 1.0],
        [2, 2],
    )));
    let e = opt.step().unwrap_err();
    assert_eq!(e.kind(), OptimErrorKind::NonFiniteGrad);
    assert_eq!(e.param(), Some("gen.1.weight"));
    assert_eq!(
        e.to_string(),
        "sgd: parameter 'gen.1.weight': gradient has 2 non-finite elements (first: NaN at [0, 1]); no parameter was updated"
    );
    assert_eq!(
        vals(&a),
        vec![1.0, 2.0, 3.0, 4.0],
        "a was checked after b? it must not move"
    );
    assert_eq!(opt.step_count(0), 0);
}

#[test]
fn a_gradient_of_the_wrong_shape_or_dtype_is_an_error() {
    let a = param("w", &[1.0, 2.0]);
    let mut opt = Sgd::new(vec![a.clone()], SgdConfig::default()).unwrap();
    a.set_grad(Some(Tensor::zeros([3], DType::F64)));
    let e = opt.step().unwrap_err();
    assert_eq!(e.kind(), OptimErrorKind::GradMismatch);
    assert_eq!(
        e.to_string(),
        "sgd: parameter 'w': gradient is [3] float64 but the parameter is [2] float64"
    );
    a.set_grad(Some(Tensor::zeros([2], DType::F32)));
    assert_eq!(opt.step().unwrap_err().kind(), OptimErrorKind::GradMismatch);
}

#[test]
fn a_param_listed_twice_is_updated_once() {
    let p = param("shared", &[1.0]);
    let mut opt = Sgd::new(vec![p.clone(), p.clone()], SgdConfig::default().lr(1.0)).unwrap();
    assert_eq!(opt.param_names(), vec!["shared".to_string()]);
    set_grad(&p, &[1.0]);
    opt.step().unwrap();
    assert_eq!(vals(&p), vec![0.0]);
}

#[test]
fn set_lr_changes_the_next_step() {
    let p = param("w", &[0.0]);
    let mut opt = Sgd::new(vec![p.clone()], SgdConfig::default().lr(1.0)).unwrap();
    opt.set_lr(0.25);
    assert_eq!(opt.lr(), 0.25);
    set_grad(&p, &[1.0]);
    opt.step().unwrap();
    assert_eq!(vals(&p), vec![-0.25]);
}

// ---------------------------------------------------------------------------------- modules

/// y = x·W + b with W [2, 2], b [2]: enough structure for two independent modules.
struct Tiny {
    w: Param,
    b: Param,
}

impl Tiny {
    fn new(seed: f64, dtype: DType) -> Tiny {
        Tiny {
            w: Param::new(
                "weight",
                Tensor::from_vec(vec![seed, -0.5, 0.25, seed / 2.0], [2, 2]).to_dtype(dtype),
            ),
            b: Param::new(
                "bias",
                Tensor::from_vec(vec![0.1, -0.1], [2]).to_dtype(dtype),
            ),
        }
    }
}

impl Module for Tiny {
    fn forward(&self, x: &Var) -> Var {
        let t = x.tape();
        x.matmul(&t.param(&self.w)).add(&t.param(&self.b))
    }
    fn describe(&self) -> String {
        "Tiny".into()
    }
    fn own_params(&self) -> Vec<(String, Param)> {
        vec![
            ("weight".into(), self.w.clone()),
            ("bias".into(), self.b.clone()),
        ]
    }
    as_dyn!();
}

/// One step of both modules on a shared loss: Σ (m1(x) · m2(x))².
fn backward_both(m1: &Tiny, m2: &Tiny, k: usize) {
    let tape = Tape::new();
    let x = tape.constant(
        Tensor::from_vec(vec![1.0, k as f64, -0.5, 0.3], [2, 2]).to_dtype(m1.w.value().dtype()),
    );
    m1.forward(&x)
        .mul(&m2.forward(&x))
        .square()
        .sum_all()
        .backward();
}

fn snapshot(m: &Tiny) -> Vec<u64> {
    m.params()
        .iter()
        .flat_map(|p| p.value().to_vec_f64())
        .map(f64::to_bits)
        .collect()
}

#[test]
fn two_optimizers_over_two_modules_do_not_interfere() {
    for dtype in [DType::F32, DType::F64] {
        // together: one backward feeds both, then each optimizer steps its own module
        let (g, d) = (Tiny::new(0.7, dtype), Tiny::new(-0.3, dtype));
        let mut og = Adam::new(g.named_params(), adam_cfg()).unwrap();
        let mut od = Sgd::new(
            d.named_params(),
            SgdConfig::default().lr(0.05).momentum(0.9).maximize(true),
        )
        .unwrap();
        // apart: the same gradients, but each optimizer alone on a copy
        let (g2, d2) = (Tiny::new(0.7, dtype), Tiny::new(-0.3, dtype));
        let mut og2 = Adam::new(g2.named_params(), adam_cfg()).unwrap();
        let mut od2 = Sgd::new(
            d2.named_params(),
            SgdConfig::default().lr(0.05).momentum(0.9).maximize(true),
        )
        .unwrap();
        for k in 0..4 {
            backward_both(&g, &d, k);
            let rg = og.step().unwrap();
            let rd = od.step().unwrap();
            assert_eq!((rg.updated, rd.updated), (2, 2));
            og.zero_grad();
            od.zero_grad();

            backward_both(&g2, &d2, k);
            og2.step().unwrap();
            og2.zero_grad(); // clears only g2's grads
            assert!(
                d2.w.grad().is_some(),
                "zero_grad of one optimizer touched another module"
            );
            od2.step().unwrap();
            od2.zero_grad();
            assert_eq!(snapshot(&g), snapshot(&g2));
            assert_eq!(snapshot(&d), snapshot(&d2));
        }
        assert_eq!(og.state_tensors(), og2.state_tensors());
        assert_eq!(od.state_tensors(), od2.state_tensors());
        assert_ne!(snapshot(&g), snapshot(&Tiny::new(0.7, dtype)));
    }
}

// ---------------------------------------------------------------------------------- state

#[test]
fn state_round_trips_and_the_next_step_is_bit_identical() {
    let make = |p: &Param| {
        let cfg = RmsPropConfig::default()
            .momentum(0.9)
            .centered(true)
            .lr(0.01);
        RmsProp::new(vec![("w".to_string(), p.clone())], cfg).unwrap()
    };
    let (a, b) = (param("w", &THETA0), param("w", &THETA0));
    let mut oa = make(&a);
    run(&mut oa, &a, 2);
    let saved = oa.state_tensors();
    let keys: Vec<&str> = saved.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "rmsprop.lr",
            "rmsprop.0.step",
            "rmsprop.0.square_avg",
            "rmsprop.0.momentum_buffer",
            "rmsprop.0.grad_avg"
        ]
    );
    b.set_value(a.value());
    let mut ob = make(&b);
    ob.set_lr(123.0);
    ob.load_state_tensors(&saved).unwrap();
    assert_eq!(ob.lr(), 0.01);
    assert_eq!(ob.step_count(0), 2);
    set_grad(&a, &GRADS[2]);
    set_grad(&b, &GRADS[2]);
    oa.step().unwrap();
    ob.step().unwrap();
    assert_eq!(vals(&a), vals(&b));
}

#[test]
fn loading_state_that_does_not_fit_is_an_error_and_changes_nothing() {
    let p = param("w", &THETA0);
    let mut adam = Adam::new(vec![p.clone()], adam_cfg()).unwrap();
    set_grad(&p, &GRADS[0]);
    adam.step().unwrap();
    let saved = adam.state_tensors();

    let mut sgd = Sgd::new(vec![p.clone()], SgdConfig::default()).unwrap();
    let e = sgd.load_state_tensors(&saved).unwrap_err();
    assert_eq!(
        e.to_string(),
        "sgd: saved state 'adam.lr' belongs to a 'adam' optimizer, not 'sgd'"
    );

    let q = param("w", &[1.0, 2.0, 3.0]);
    let mut other = Adam::new(vec![q], adam_cfg()).unwrap();
    let e = other.load_state_tensors(&saved).unwrap_err();
    assert_eq!(
        e.to_string(),
        "adam: parameter 'w': 'adam.0.exp_avg' is F64 [2] but the parameter is F64 [3]"
    );
    assert_eq!(other.step_count(0), 0);

    let mut ams = Adam::new(vec![p.clone()], adam_cfg().amsgrad(true)).unwrap();
    let e = ams.load_state_tensors(&saved).unwrap_err();
    assert_eq!(
        e.to_string(),
        "adam: parameter 'w': the saved state is incomplete: missing 'adam.0.max_exp_avg_sq'"
    );
    let partial: Vec<_> = saved
        .iter()
        .filter(|(k, _)| k != "adam.lr")
        .cloned()
        .collect();
    let mut fresh = Adam::new(vec![p.clone()], adam_cfg()).unwrap();
    assert_eq!(
        fresh.load_state_tensors(&partial).unwrap_err().to_string(),
        "adam: the saved state has no 'adam.lr'"
    );
    assert_eq!(fresh.load_state_tensors(&saved), Ok(()));
}

/// The Adam/AdamW update runs as a vectorised loop over long parameters and as its scalar
/// tail over short ones: a 37-element parameter must follow, bit for bit, the trajectories of
/// 37 one-element parameters given the same gradients, for every option and both dtypes.
#[test]
fn adam_long_parameters_match_elementwise_updates_bit_for_bit() {
    let n = 37;
    let configs: Vec<(
        &str,
        Box<dyn Fn(Vec<(String, Param)>) -> Box<dyn Optimizer>>,
    )> = vec![
        (
            "adam",
            Box::new(|p| Box::new(Adam::new(p, AdamConfig::default().lr(0.05)).unwrap())),
        ),
        (
            "adam wd+maximize",
            Box::new(|p| {
                let cfg = AdamConfig::default()
                    .lr(0.05)
                    .weight_decay(0.1)
                    .maximize(true);
                Box::new(Adam::new(p, cfg).unwrap())
            }),
        ),
        (
            "adam amsgrad",
            Box::new(|p| {
                let cfg = AdamConfig::default().lr(0.05).amsgrad(true);
                Box::new(Adam::new(p, cfg).unwrap())
            }),
        ),
        (
            "adamw",
            Box::new(|p| {
                let cfg = AdamWConfig::default().lr(0.05).weight_decay(0.3);
                Box::new(AdamW::new(p, cfg).unwrap())
            }),
        ),
    ];
    for dtype in [DType::F32, DType::F64] {
        for (name, make) in &configs {
            let theta: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin() * 2.0).collect();
            let long = Param::new("long", Tensor::from_slice(&theta, [n]).to_dtype(dtype));
            let shorts: Vec<Param> = theta
                .iter()
                .map(|&t| Param::new("s", Tensor::from_slice(&[t], [1]).to_dtype(dtype)))
                .collect();
            let mut opt_long = make(vec![("long".into(), long.clone())]);
            let mut opt_short = make(
                shorts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (format!("s{i}"), p.clone()))
                    .collect(),
            );
            for step in 0..4 {
                let g: Vec<f64> = (0..n)
                    .map(|i| ((i * 7 + step * 3) as f64 * 0.91).cos() * (1.0 + i as f64 * 0.1))
                    .collect();
                set_grad(&long, &g);
                for (p, &gi) in shorts.iter().zip(&g) {
                    set_grad(p, &[gi]);
                }
                opt_long.step().unwrap();
                opt_short.step().unwrap();
                let got = vals(&long);
                for (i, p) in shorts.iter().enumerate() {
                    let want = vals(p)[0];
                    assert_eq!(
                        got[i].to_bits(),
                        want.to_bits(),
                        "{name} {dtype:?} step {step} element {i}: {} vs {want}",
                        got[i]
                    );
                }
            }
        }
    }
}

#[test]
fn grad_norm_is_the_l2_norm_of_all_gradients_with_shared_params_once() {
    use minimax_nn::optim::grad_norm;
    // f32 gradients of 37 elements (past the 8-lane loop's tail) and an f64 one
    let a = Param::new("a", Tensor::zeros([37], DType::F32));
    let ga: Vec<f64> = (0..37).map(|i| (i as f64 - 18.0) * 0.25).collect();
    set_grad(&a, &ga);
    let b = param("b", &[0.0, 0.0]);
    set_grad(&b, &[3.0, -4.0]);
    let c = param("c", &[1.0]); // no gradient: counts as zero
    let want = (ga.iter().map(|x| x * x).sum::<f64>() + 25.0).sqrt();
    let got = grad_norm(&[a.clone(), b.clone(), c.clone()]);
    assert!((got - want).abs() < 1e-12 * want, "{got} vs {want}");
    // a parameter listed twice (shared by two models) counts once
    assert_eq!(grad_norm(&[a.clone(), b.clone(), a.clone(), c]), got);
    assert_eq!(grad_norm(&[b]), 5.0);
    assert_eq!(grad_norm(&[]), 0.0);
}

// ---------------------------------------------------------------------------------- groups

/// Two groups, each stepping at its own rate: SGD's θ − γ·g and Adam's first step (±γ per
/// element) with the group's γ; a schedule's `set_lr` scales both rates together.
#[test]
fn parameter_groups_step_with_their_own_learning_rates() {
    for dtype in [DType::F64, DType::F32] {
        let p = |name: &str| Param::new(name, Tensor::from_slice(&THETA0, [2]).to_dtype(dtype));
        let (a, b, c) = (p("a"), p("b"), p("c"));
        let groups = vec![
            ParamGroup::new(vec![a.clone(), b.clone()]),
            ParamGroup::new(vec![("c".to_string(), c.clone())]).lr(0.25),
        ];
        let mut sgd = Optim::with_groups(groups, SgdConfig::default().lr(0.5)).unwrap();
        assert_eq!(sgd.num_groups(), 2);
        assert_eq!(
            (sgd.group_lr(0), sgd.group_lr(1), sgd.lr()),
            (0.5, 0.25, 0.5)
        );
        assert_eq!((sgd.group_of(1), sgd.group_of(2)), (0, 1));
        assert_eq!(sgd.param_names(), ["a", "b", "c"]);
        for q in [&a, &b, &c] {
            set_grad(q, &GRADS[0]);
        }
        assert_eq!(sgd.step().unwrap().updated, 3);
        let sgd_step =
            |lr: f64| -> Vec<f64> { (0..2).map(|k| THETA0[k] - lr * GRADS[0][k]).collect() };
        assert_close(&vals(&a), &sgd_step(0.5), 1e-7);
        assert_close(&vals(&b), &sgd_step(0.5), 1e-7);
        assert_close(&vals(&c), &sgd_step(0.25), 1e-7);

        // a schedule halves the base rate: the group follows
        sgd.set_lr(0.25);
        assert_eq!((sgd.group_lr(0), sgd.group_lr(1)), (0.25, 0.125));
        // and a group's own rate can be changed
        sgd.set_group_lr(1, 1.0);
        let before = vals(&c);
        set_grad(&c, &GRADS[1]);
        a.set_grad(None);
        b.set_grad(None);
        sgd.step().unwrap();
        assert_close(&vals(&c), &[before[0] - 0.2, before[1] - 0.3], 1e-7);
        sgd.set_lr(0.5);
        assert_eq!(sgd.group_lr(1), 2.0, "the new ratio is kept");

        // Adam's first step moves every element by its group's rate
        let (x, y) = (p("x"), p("y"));
        let groups = vec![
            ParamGroup::new(vec![x.clone()]).lr(0.1),
            ParamGroup::new(vec![y.clone()]).lr(0.001),
        ];
        let mut adam = Optim::with_groups(groups, adam_cfg()).unwrap();
        set_grad(&x, &GRADS[0]);
        set_grad(&y, &GRADS[0]);
        adam.step().unwrap();
        assert_close(&vals(&x), &[THETA0[0] - 0.1, THETA0[1] + 0.1], 1e-6);
        assert_close(&vals(&y), &[THETA0[0] - 0.001, THETA0[1] + 0.001], 1e-6);
    }
}

#[test]
fn invalid_parameter_groups_are_rejected() {
    let (a, b) = (param("a", &[1.0]), param("b", &[2.0]));
    let cfg = || SgdConfig::default().lr(0.1);
    let err = |groups: Vec<ParamGroup>| Optim::with_groups(groups, cfg()).unwrap_err();
    let e = err(vec![
        ParamGroup::new(vec![a.clone(), b.clone()]),
        ParamGroup::new(vec![b.clone()]),
    ]);
    assert_eq!(e.kind(), OptimErrorKind::InvalidConfig);
    assert_eq!(
        e.to_string(),
        "sgd: parameter 'b' appears in parameter groups 0 and 1"
    );
    assert_eq!(
        err(vec![ParamGroup::new(vec![a.clone()]).lr(-1.0)]).to_string(),
        "sgd: parameter group 0: Invalid learning rate: -1"
    );
    assert_eq!(
        err(vec![
            ParamGroup::new(vec![a.clone()]),
            ParamGroup::new(Vec::<Param>::new())
        ])
        .to_string(),
        "sgd: parameter group 1 is empty"
    );
    assert_eq!(
        err(vec![]).to_string(),
        "sgd: optimizer got an empty parameter list"
    );
    let e = Optim::with_groups(
        vec![ParamGroup::new(vec![a.clone()]).lr(0.1)],
        SgdConfig::default().lr(0.0),
    )
    .unwrap_err();
    assert!(e.to_string().contains("the base rate is 0"), "{e}");
    // duplicates within one group are kept once, as in `new`
    let opt = Optim::with_groups(vec![ParamGroup::new(vec![a.clone(), a])], cfg()).unwrap();
    assert_eq!(opt.param_names(), ["a"]);
}

/// A grouped optimizer's state (buffers, steps, base and group rates) round-trips, and the
/// next step is bit-identical; a single-group optimizer's state has no group keys, so
/// checkpoints written before groups existed still load, also into a grouped optimizer.
#[test]
fn grouped_state_round_trips_and_single_group_state_is_unchanged() {
    let make = |a: &Param, b: &Param| {
        let groups = vec![
            ParamGroup::new(vec![a.clone()]),
            ParamGroup::new(vec![b.clone()]).lr(3e-4),
        ];
        Optim::with_groups(groups, adam_cfg().amsgrad(true)).unwrap()
    };
    let (a, b) = (param("a", &THETA0), param("b", &THETA0));
    let mut oa = make(&a, &b);
    for g in &GRADS[..2] {
        set_grad(&a, g);
        set_grad(&b, g);
        oa.step().unwrap();
    }
    oa.set_lr(0.05); // both groups' rates move, and must come back as they are now
    let saved = oa.state_tensors();
    let keys: Vec<&str> = saved.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(&keys[..3], ["adam.lr", "adam.groups", "adam.group_lr"]);
    assert_eq!(saved[1].1.to_i64_vec(), vec![1, 1]);
    assert_eq!(
        saved[2].1.to_f64_vec(),
        vec![oa.group_lr(0), oa.group_lr(1)]
    );

    let (a2, b2) = (param("a", &THETA0), param("b", &THETA0));
    a2.set_value(a.value());
    b2.set_value(b.value());
    let mut ob = make(&a2, &b2);
    ob.set_group_lr(1, 9.0);
    ob.load_state_tensors(&saved).unwrap();
    assert_eq!(
        (ob.lr(), ob.group_lr(0), ob.group_lr(1)),
        (0.05, oa.group_lr(0), oa.group_lr(1))
    );
    assert_eq!((ob.step_count(0), ob.step_count(1)), (2, 2));
    assert_eq!(ob.state_tensors(), saved);
    for (p, q) in [(&a, &a2), (&b, &b2)] {
        set_grad(p, &GRADS[2]);
        set_grad(q, &GRADS[2]);
    }
    oa.step().unwrap();
    ob.step().unwrap();
    assert_eq!(vals(&a), vals(&a2));
    assert_eq!(vals(&b), vals(&b2));

    // a single-group optimizer: the keys it always had, and nothing else
    let c = param("c", &THETA0);
    let mut single = Adam::new(vec![c.clone()], adam_cfg()).unwrap();
    set_grad(&c, &GRADS[0]);
    single.step().unwrap();
    let old = single.state_tensors();
    let keys: Vec<&str> = old.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "adam.lr",
            "adam.0.step",
            "adam.0.exp_avg",
            "adam.0.exp_avg_sq"
        ]
    );
    let one_group = Optim::with_groups(vec![ParamGroup::new(vec![c.clone()])], adam_cfg()).unwrap();
    assert_eq!(one_group.state_tensors()[..1], old[..1]);
    // ... which loads into a grouped optimizer over the same parameters: each group's rate is
    // the saved rate times the group's ratio
    let (d, e) = (param("d", &THETA0), param("e", &THETA0));
    let mut two = Adam::new(vec![d.clone(), e.clone()], adam_cfg()).unwrap();
    set_grad(&d, &GRADS[0]);
    set_grad(&e, &GRADS[0]);
    two.set_lr(0.5);
    two.step().unwrap();
    let flat = two.state_tensors();
    let mut grouped = Optim::with_groups(
        vec![
            ParamGroup::new(vec![d.clone()]),
            ParamGroup::new(vec![e.clone()]).lr(adam_cfg().lr / 2.0),
        ],
        adam_cfg(),
    )
    .unwrap();
    grouped.load_state_tensors(&flat).unwrap();
    assert_eq!(
        (grouped.lr(), grouped.group_lr(0), grouped.group_lr(1)),
        (0.5, 0.5, 0.25)
    );
    assert_eq!(grouped.step_count(1), 1);

    // grouped state into other groups, or with a group key missing: an error, nothing changes
    let mut other = Optim::with_groups(
        vec![ParamGroup::new(vec![d.clone(), e.clone()])],
        adam_cfg().amsgrad(true),
    )
    .unwrap();
    let renamed: Vec<_> = saved.clone();
    let err = other.load_state_tensors(&renamed).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "adam: the saved state has parameter groups of sizes [1, 1] (rates {:?}) but this optimizer's are [2]",
            [oa.group_lr(0), oa.group_lr(1)]
        )
    );
    assert_eq!(other.step_count(0), 0);
    let partial: Vec<_> = saved
        .iter()
        .filter(|(k, _)| k != "adam.group_lr")
        .cloned()
        .collect();
    let err = make(&a2, &b2).load_state_tensors(&partial).unwrap_err();
    assert_eq!(
        err.to_string(),
        "adam: the saved state is incomplete: missing 'adam.group_lr'"
    );
}

/// `Optimizer::grad_norm`: none before the first step, then √(Σ g²) of the gradients that step
/// applied (a parameter listed twice counted once, one without a gradient adding nothing),
/// still readable once the gradients are cleared, and replaced by the next step's.
#[test]
fn grad_norm_is_the_norm_of_the_gradients_applied() {
    let (a, b, c) = (
        param("a", &[1.0, 2.0]),
        param("b", &[3.0]),
        param("c", &[0.5]),
    );
    let params = vec![a.clone(), b.clone(), a.clone(), c.clone()];
    let mut opt = Sgd::new(params, SgdConfig::default()).unwrap();
    set_grad(&a, &[3.0, 0.0]);
    set_grad(&b, &[4.0]);
    assert_eq!(opt.grad_norm(), None);
    opt.step().unwrap();
    assert_eq!(opt.grad_norm(), Some(5.0));
    opt.zero_grad();
    assert_eq!(opt.grad_norm(), Some(5.0));
    set_grad(&c, &[2.0]);
    opt.step().unwrap();
    assert_eq!(opt.grad_norm(), Some(2.0));
    // a step refused for a non-finite gradient keeps the last norm
    set_grad(&c, &[f64::NAN]);
    assert!(opt.step().is_err());
    assert_eq!(opt.grad_norm(), Some(2.0));
}
