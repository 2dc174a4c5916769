//! Backward semantics: accumulation, reuse, second derivatives, control, anomaly mode and the
//! inspection tools, each against values computed by hand.

use minimax_autograd::{grad, no_grad, Param, Tape, Var};
use tensor::{DType, Tensor};

fn t(v: &[f64]) -> Tensor {
    Tensor::from_vec(v.to_vec(), [v.len()])
}

#[test]
fn second_derivative_of_sum_of_cubes_is_6x() {
    let tape = Tape::new();
    let x = tape.leaf(t(&[1.0, -2.0, 0.5]));
    let y = x.pow_scalar(3.0).sum_all();
    let g = grad(&[&y], &[&x], None, true)[0].clone();
    assert_eq!(g.value().to_vec_f64(), vec![3.0, 12.0, 0.75]);
    let gg = grad(&[&g.sum_all()], &[&x], None, false)[0].clone();
    assert_eq!(gg.value().to_vec_f64(), vec![6.0, -12.0, 3.0]);
}

#[test]
fn node_with_several_consumers_gets_the_sum() {
    // y = a·a + 3a + exp(a) uses `a` four times: dy/da = 2a + 3 + e^a
    let tape = Tape::new();
    let a = tape.leaf(t(&[0.5, -1.0]));
    let y = (&a * &a + a.mul_scalar(3.0) + a.exp()).sum_all();
    y.backward();
    let g = a.grad().unwrap().to_vec_f64();
    for (gi, ai) in g.iter().zip([0.5f64, -1.0]) {
        assert!((gi - (2.0 * ai + 3.0 + ai.exp())).abs() < 1e-12);
    }
    // an intermediate reused by two branches
    let tape = Tape::new();
    let x = tape.leaf(t(&[2.0]));
    let h = x.square(); // h = x², used twice
    let z = (&h * &h + &h).sum_all(); // z = x⁴ + x², dz/dx = 4x³ + 2x = 36
    z.backward();
    assert_eq!(x.grad().unwrap().to_vec_f64(), vec![36.0]);
}

#[test]
fn backward_twice_accumulates_like_pytorch_retain_graph() {
    let p = Param::new("w", t(&[1.0, 2.0]));
    let tape = Tape::new();
    let w = tape.param(&p);
    let y = w.square().sum_all();
    y.backward();
    assert_eq!(p.grad().unwrap().to_vec_f64(), vec![2.0, 4.0]);
    y.backward();
    assert_eq!(p.grad().unwrap().to_vec_f64(), vec![4.0, 8.0]);
    p.zero_grad();
    assert!(p.grad().is_none());
}

#[test]
fn parameter_used_in_two_models_accumulates_both() {
    let shared = Param::new("shared", t(&[3.0]));
    let tape = Tape::new();
    let s1 = tape.param(&shared);
    let s2 = tape.param(&shared);
    let y = (s1.mul_scalar(2.0) + s2.square()).sum_all(); // d/ds = 2 + 2s = 8
    y.backward();
    assert_eq!(shared.grad().unwrap().to_vec_f64(), vec![8.0]);
}

#[test]
fn no_grad_detach_and_frozen_params_cut_the_graph() {
    let p = Param::new("w", t(&[1.0]));
    let tape = Tape::new();
    let w = tape.param(&p);
    let y = {
        let _g = no_grad();
        w.mul_scalar(2.0)
    };
    assert!(!y.requires_grad());
    assert!(minimax_autograd::is_grad_enabled());
    let d = w.detach();
    assert!(!d.requires_grad());
    let z = (&w * &d).sum_all(); // gradient flows only through the first factor: d = 1
    z.backward();
    assert_eq!(p.grad().unwrap().to_vec_f64(), vec![1.0]);
    p.set_requires_grad(false);
    let tape = Tape::new();
    assert!(!tape.param(&p).requires_grad());
    let err = tape.param(&p).sum_all().try_backward().unwrap_err();
    assert!(err.0.contains("does not require a gradient"), "{err}");
}

#[test]
fn gradient_reversal_flips_and_scales() {
    let tape = Tape::new();
    let x = tape.leaf(t(&[1.0, 2.0]));
    let y = x.grad_reverse(0.3).mul_scalar(2.0).sum_all();
    assert_eq!(y.item(), 6.0);
    y.backward();
    assert_eq!(x.grad().unwrap().to_vec_f64(), vec![-0.6, -0.6]);
}

#[test]
fn broadcasting_gradients_sum_back_to_the_input_shape() {
    let tape = Tape::new();
    let a = tape.leaf(Tensor::from_vec(
        vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0],
        [2, 3],
    ));
    let b = tape.leaf(t(&[10.0, 20.0, 30.0]));
    let y = (&a * &b).sum_all();
    y.backward();
    assert_eq!(b.grad().unwrap().to_vec_f64(), vec![5.0, 7.0, 9.0]);
    assert_eq!(
        a.grad().unwrap().to_vec_f64(),
        vec![10.0, 20.0, 30.0, 10.0, 20.0, 30.0]
    );
}

#[test]
fn anomaly_mode_names_log_of_zero_in_forward() {
    let tape = Tape::new();
    tape.set_anomaly(true);
    let x = tape.leaf(t(&[1.0, 0.0]));
    let line = line!() + 1;
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| x.log()));
    let msg = *r.unwrap_err().downcast::<String>().unwrap();
    assert!(msg.contains("anomaly: log (tape index 1)"), "{msg}");
    assert!(msg.contains(&format!("semantics.rs:{line}")), "{msg}");
}

#[test]
fn anomaly_mode_names_zero_over_zero_in_backward() {
    // sqrt(x) at 0 is finite (0) but its backward divides by 2·sqrt(0) = 0: g/0 = inf,
    // and 0·inf = NaN further down.
    let tape = Tape::new();
    tape.set_anomaly(true);
    let x = tape.leaf(t(&[0.0, 4.0]));
    let line = line!() + 1;
    let y = x.sqrt().sum_all();
    let err = y.try_backward().unwrap_err();
    assert!(
        err.0.contains("the backward of sqrt (tape index 1"),
        "{err}"
    );
    assert!(err.0.contains(&format!("semantics.rs:{line}")), "{err}");
    // without anomaly mode the same graph runs and gives inf
    let tape = Tape::new();
    let x = tape.leaf(t(&[0.0, 4.0]));
    x.sqrt().sum_all().backward();
    let g = x.grad().unwrap().to_vec_f64();
    assert!(g[0].is_infinite() && g[1] == 0.25);
}

#[test]
fn mixing_tapes_is_a_clear_error() {
    let a = Tape::new().leaf(t(&[1.0]));
    let b = Tape::new().leaf(t(&[1.0]));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| &a + &b));
    let msg = *r.unwrap_err().downcast::<String>().unwrap();
    assert!(
        msg.starts_with("add: inputs come from different tapes"),
        "{msg}"
    );
}

#[test]
fn shape_errors_name_the_op_and_shapes_at_the_callers_line() {
    let tape = Tape::new();
    let a = tape.leaf(Tensor::zeros([2, 3], DType::F64));
    let b = tape.leaf(Tensor::zeros([4], DType::F64));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| a.mul(&b)));
    let msg = *r.unwrap_err().downcast::<String>().unwrap();
    assert_eq!(
        msg,
        "mul: shapes cannot be broadcast together: [2, 3] and [4]"
    );
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| a.matmul(&b)));
    let msg = *r.unwrap_err().downcast::<String>().unwrap();
    assert!(
        msg.starts_with("matmul: inner dimensions differ (3 vs 4)"),
        "{msg}"
    );
}

#[test]
fn tape_table_dot_and_trace_show_values_and_gradients() {
    let tape = Tape::new();
    let a = tape.leaf(t(&[2.0])).named("a");
    let b = tape.leaf(t(&[-3.0])).named("b");
    let c = (&a * &b).named("c");
    let l = (c.add_scalar(10.0)).sum_all().named("L");
    let trace = l.backward_trace().unwrap();
    let table = tape.to_string();
    assert!(table.contains("mul c"), "{table}");
    assert!(table.contains("#0,#1"), "{table}");
    // after backward the table shows ∂L/∂a = b = -3 and ∂L/∂b = a = 2
    let row_a = table.lines().find(|l| l.contains("leaf a")).unwrap();
    assert!(row_a.trim_end().ends_with("-3.0000"), "{row_a}");
    let row_b = table.lines().find(|l| l.contains("leaf b")).unwrap();
    assert!(row_b.trim_end().ends_with("2.0000"), "{row_b}");
    assert!(
        trace.contains("rule: ∂L/∂a = ∂L/∂out · b, ∂L/∂b = ∂L/∂out · a"),
        "{trace}"
    );
    assert!(trace.contains("→ #0 receives [-3.0000]"), "{trace}");
    let dot = tape.to_dot();
    assert!(dot.starts_with("digraph tape {"));
    assert!(
        dot.contains("n0 -> n2;") && dot.contains("n1 -> n2;"),
        "{dot}"
    );
}

#[test]
fn gradient_penalty_through_linear_and_leaky_relu_gets_weight_gradients() {
    // D(x) = w2 · leaky_relu(W1 x); penalty (‖∇ₓD‖ − 1)² differentiated w.r.t. W1, w2,
    // checked against finite differences of the penalty in the weights.
    let w1 = Tensor::from_vec(vec![0.5f64, -0.3, 0.8, 0.2, -0.6, 0.4], [3, 2]);
    let w2 = Tensor::from_vec(vec![0.7f64, -0.5, 0.9], [1, 3]);
    let xs = Tensor::from_vec(vec![0.3f64, -0.2, 0.9, 0.4], [2, 2]);
    let penalty = |w: &[Var]| -> Var {
        let x = w[0].tape().leaf(xs.clone());
        let h = x.matmul(&w[0].t()).leaky_relu(0.2);
        let d = h.matmul(&w[1].t()).sum_all();
        let g = grad(&[&d], &[&x], None, true)[0].clone();
        let norm = g.square().sum(&[1], false).sqrt();
        norm.add_scalar(-1.0).square().mean_all()
    };
    let r = minimax_autograd::gradcheck(&penalty, &[w1, w2], Default::default());
    assert!(r.is_ok(), "{}", r.unwrap_err());
}

#[test]
fn gradient_penalty_through_conv2d_linear_and_leaky_relu() {
    // D(x) = w2 · flatten(leaky_relu(conv2d(x, k, stride 2, pad 1))); x̂ per sample;
    // penalty E(‖∇ₓ̂D(x̂)‖₂ − 1)² with the norm over each flattened sample, differentiated
    // with respect to the conv kernel and the linear weight, checked by finite differences.
    let mut rng = tensor::Rng::seed(5);
    let k = Tensor::randn([2, 1, 3, 3], 0.0, 0.5, DType::F64, &mut rng);
    let w2 = Tensor::randn([1, 8], 0.0, 0.5, DType::F64, &mut rng);
    let xs = Tensor::randn([3, 1, 4, 4], 0.0, 1.0, DType::F64, &mut rng);
    let p = tensor::Conv2dParams::new((2, 2), (1, 1));
    let penalty = |w: &[Var]| -> Var {
        let x = w[0].tape().leaf(xs.clone());
        let h = x.conv2d(&w[0], p).leaky_relu(0.2).flatten(1, -1);
        let d = h.matmul(&w[1].t()).sum_all();
        let g = grad(&[&d], &[&x], None, true)[0].clone();
        let norm = g.flatten(1, -1).square().sum(&[1], false).sqrt();
        norm.add_scalar(-1.0).square().mean_all()
    };
    let r = minimax_autograd::gradcheck(&penalty, &[k, w2], Default::default());
    assert!(r.is_ok(), "{}", r.unwrap_err());
    assert!(r.unwrap().checked == 18 + 8);
}

#[test]
fn grad_refuses_values_from_another_tape_and_mismatched_seeds() {
    let t1 = Tape::new();
    let x1 = t1.leaf(t(&[2.0]));
    let y1 = x1.mul_scalar(3.0).sum_all();
    let x2 = Tape::new().leaf(t(&[5.0]));
    let err = minimax_autograd::try_grad(&[&y1], &[&x2], None, false).unwrap_err();
    assert!(
        err.0.starts_with("grad: input 0 is on a different tape"),
        "{err}"
    );
    let seed = Tensor::ones([], DType::F32);
    let err = y1.try_backward_with(&seed).unwrap_err();
    assert!(
        err.0.contains("float32") && err.0.contains("float64"),
        "{err}"
    );
}

#[test]
fn pow_gradient_with_respect_to_the_exponent_is_zero_at_a_zero_base() {
    let tape = Tape::new();
    let a = tape.leaf(t(&[0.0, 2.0]));
    let b = tape.leaf(t(&[2.0, 3.0]));
    a.pow(&b).sum_all().backward();
    let gb = b.grad().unwrap().to_vec_f64();
    assert_eq!(gb[0], 0.0);
    assert!((gb[1] - 8.0 * 2f64.ln()).abs() < 1e-12);
}

#[test]
fn intermediate_gradients_show_the_last_pass_only() {
    let tape = Tape::new();
    let x = tape.leaf(t(&[1.0]));
    let h = x.mul_scalar(2.0);
    let y = h.mul_scalar(3.0).sum_all();
    y.backward();
    assert_eq!(h.grad().unwrap().to_vec_f64(), vec![3.0]);
    let z = x.mul_scalar(5.0).sum_all();
    z.backward();
    assert!(h.grad().is_none(), "h was not reached by the second pass");
    assert_eq!(
        x.grad().unwrap().to_vec_f64(),
        vec![6.0 + 5.0],
        "leaves accumulate"
    );
}

fn close(got: f64, want: f64, rtol: f64) {
    assert!(
        (got - want).abs() <= rtol * want.abs(),
        "got {got}, want {want} (rtol {rtol})"
    );
}

#[test]
fn long_scalar_chain_matches_the_closed_form() {
    // y = a·y + b, n times from y = x: dy/dx = aⁿ. The chain's rules (add_scalar passes the
    // gradient on, mul_scalar rescales it) take the backward engine's tensor-only path unless
    // the graph is recorded, so this checks that path against the closed form.
    let (a, b, n) = (1.0001f64, 0.0001, 1000i32);
    let tape = Tape::new();
    let x = tape.leaf(t(&[0.5]));
    let mut y = x.clone();
    let mut mid = None;
    for k in 0..n {
        y = y.mul_scalar(a).add_scalar(b);
        if k + 1 == n / 2 {
            mid = Some(y.clone());
        }
    }
    let mid = mid.unwrap();
    let an = a.powi(n);
    close(y.item(), an * 0.5 + b * (an - 1.0) / (a - 1.0), 1e-12);
    y.backward();
    close(x.grad().unwrap().item(), an, 1e-12);
    // an intermediate node shows its own gradient, dy/dmid = a^(n/2)
    close(mid.grad().unwrap().item(), a.powi(n / 2), 1e-12);
    // a second pass accumulates into the leaf, like PyTorch
    y.backward();
    close(x.grad().unwrap().item(), 2.0 * an, 1e-12);
    // grad() of an intermediate and the leaf at once, in any order
    let g = grad(&[&y], &[&x, &mid, &x], None, false);
    close(g[0].item(), an, 1e-12);
    close(g[1].item(), a.powi(n / 2), 1e-12);
    close(g[2].item(), an, 1e-12);
    // negation and gradient reversal (−λ·g) are tensor-only rules too
    let w = y.neg().grad_reverse(0.5).add_scalar(1.0);
    close(grad(&[&w], &[&x], None, false)[0].item(), 0.5 * an, 1e-12);
    // in f32, as the W4 benchmark runs it
    let tape = Tape::new();
    let x32 = tape.leaf(Tensor::ones([1], DType::F32));
    let mut y = x32.clone();
    for _ in 0..n {
        y = y.mul_scalar(a).add_scalar(b);
    }
    y.backward();
    close(x32.grad().unwrap().item(), an, 1e-4);
}

#[test]
fn second_derivative_through_a_long_scalar_chain() {
    // z = y², y = aⁿx + c: dz/dx = 2y·aⁿ and d²z/dx² = 2a²ⁿ. With create_graph the chain's
    // rules are recorded (the tensor-only path must not be taken), so the gradient can be
    // differentiated again.
    let (a, b, n) = (1.0001f64, 0.0001, 1000);
    let tape = Tape::new();
    let x = tape.leaf(t(&[0.5]));
    let mut y = x.clone();
    for _ in 0..n {
        y = y.mul_scalar(a).add_scalar(b);
    }
    let z = y.square();
    let an = a.powi(n as i32);
    let g = grad(&[&z], &[&x], None, true)[0].clone();
    assert!(g.requires_grad());
    close(g.item(), 2.0 * y.item() * an, 1e-12);
    let gg = grad(&[&g], &[&x], None, false)[0].clone();
    close(gg.item(), 2.0 * an * an, 1e-12);
    // the rules ran with each node's op moved out of the tape (they recorded onto it); every
    // op is back in place
    let names: Vec<&str> = (1..=2 * n).map(|i| tape.node(i).op.name()).collect();
    assert!(names.chunks(2).all(|p| p == ["mul_scalar", "add_scalar"]));
    assert_eq!(tape.node(2 * n + 1).op.name(), "square");
    // with several chain ops between the gradient and x: d/dx of (dz/dx)·3 − 1
    let h = g.mul_scalar(3.0).add_scalar(-1.0).neg();
    close(
        grad(&[&h], &[&x], None, false)[0].item(),
        -6.0 * an * an,
        1e-12,
    );
}

#[test]
fn anomaly_mode_names_a_scalar_rule_that_overflows_in_backward() {
    // forward: 1e-30 · 1e30 · 1e30 = 1e30 is finite in f32; backward: 1e30 · 1e30 is not
    let tape = Tape::new();
    tape.set_anomaly(true);
    let x = tape.leaf(Tensor::full([1], 1e-30, DType::F32));
    let line = line!() + 1;
    let y = x.mul_scalar(1e30);
    let z = y.mul_scalar(1e30);
    let err = z.try_backward().unwrap_err();
    assert!(
        err.0.contains("the backward of mul_scalar (tape index 1"),
        "{err}"
    );
    assert!(err.0.contains(&format!("semantics.rs:{line}")), "{err}");
}

#[test]
fn scalar_rules_add_to_a_gradient_already_there() {
    // h = eˣ feeds mul_scalar, neg and add_scalar: y = 2h − h + (h + 1) = 2h + 1, dy/dx = 2eˣ.
    // Each of the three rules hands its gradient to h, the later ones adding to the first's.
    let tape = Tape::new();
    let x = tape.leaf(t(&[0.3, -1.2]));
    let h = x.exp();
    let y = (h.mul_scalar(2.0) + h.neg() + h.add_scalar(1.0)).sum_all();
    y.backward();
    let want: Vec<f64> = [0.3f64, -1.2].iter().map(|v| 2.0 * v.exp()).collect();
    let got = x.grad().unwrap().to_vec_f64();
    for (g, w) in got.iter().zip(&want) {
        close(*g, *w, 1e-14);
    }
    close(h.grad().unwrap().to_vec_f64()[0], 2.0, 1e-15);
    // a leaf used directly by two scalar rules
    let tape = Tape::new();
    let x = tape.leaf(t(&[1.5]));
    let y = x.mul_scalar(3.0) + x.grad_reverse(2.0);
    y.backward();
    close(x.grad().unwrap().item(), 3.0 - 2.0, 1e-15);
}

#[test]
fn gradients_summed_in_place_never_change_a_shared_tensor() {
    // x feeds three add_scalars: each passes the same gradient tensor on, which the tape also
    // keeps as the gradient of each add node and which the caller passed in as grad_output.
    // Summing at x must not write into that tensor. `c` is recorded first, so the backward
    // pass reaches x through b and a (the shared tensor) before c's fresh 3·g: the first
    // gradient to land at x is the shared one, and the in-place sum must refuse it.
    let tape = Tape::new();
    let x = tape.leaf(t(&[1.0, 2.0]));
    let c = x.mul_scalar(3.0);
    let a = x.add_scalar(1.0);
    let b = x.add_scalar(2.0);
    let y = &a + &b + &c;
    let go = t(&[0.5, -1.0]);
    y.try_backward_with(&go).unwrap();
    assert_eq!(go.to_vec_f64(), vec![0.5, -1.0]);
    assert_eq!(x.grad().unwrap().to_vec_f64(), vec![2.5, -5.0]);
    for v in [&a, &b, &c] {
        assert_eq!(v.grad().unwrap().to_vec_f64(), vec![0.5, -1.0]);
    }
    // the same through grad(), which keeps no gradient on the tape
    let g = grad(&[&y], &[&x], Some(std::slice::from_ref(&go)), false);
    assert_eq!(g[0].value().to_vec_f64(), vec![2.5, -5.0]);
    assert_eq!(go.to_vec_f64(), vec![0.5, -1.0]);
    // and with the graph recorded (the rules run as ops; these gradients are constants, as
    // y is linear in x)
    let g = grad(&[&y], &[&x], Some(std::slice::from_ref(&go)), true);
    assert_eq!(g[0].value().to_vec_f64(), vec![2.5, -5.0]);
    assert_eq!(go.to_vec_f64(), vec![0.5, -1.0]);
}

#[test]
fn grad_of_an_intermediate_alone_takes_what_reaches_it() {
    // Only an intermediate is asked for: the pass stops there, and a pass-through rule at the
    // lowest node reached hands its gradient below it without losing the answer.
    let tape = Tape::new();
    let x = tape.leaf(t(&[1.0, -2.0]));
    let mid = x.mul_scalar(2.0);
    let up = mid.add_scalar(1.0);
    let y = (&up * &up).sum_all();
    let g = grad(&[&y], &[&mid], None, false);
    // dy/dmid = 2·(mid + 1) = 2·(2x + 1)
    assert_eq!(g[0].value().to_vec_f64(), vec![6.0, -6.0]);
    let g = grad(&[&y], &[&up], None, false);
    assert_eq!(g[0].value().to_vec_f64(), vec![6.0, -6.0]);
    assert!(x.grad().is_none(), "grad() leaves .grad alone");
}

/// The gradient of a weight used as `x · Wᵀ` (Linear) reaches W contiguous — computed as
/// (gᵀ·x) rather than as the transpose of xᵀ·g, which would be copied — with the right values;
/// other products keep the general rule.
#[test]
fn linear_weight_gradient_arrives_contiguous() {
    let tape = Tape::new();
    let x0 = Tensor::from_vec(
        (0..12).map(|v| v as f64 * 0.5 - 2.0).collect::<Vec<_>>(),
        [3, 4],
    );
    let w0 = Tensor::from_vec(
        (0..20).map(|v| (v as f64 * 0.37).sin()).collect::<Vec<_>>(),
        [5, 4],
    );
    let x = tape.leaf(x0.clone());
    let w = tape.leaf(w0.clone());
    let y = x.matmul(&w.t());
    let g0 = Tensor::from_vec((0..15).map(|v| v as f64 - 7.0).collect::<Vec<_>>(), [3, 5]);
    y.try_backward_with(&g0).unwrap();
    let gw = w.grad().unwrap();
    assert!(gw.is_contiguous(), "strides {:?}", gw.strides());
    // dW[o, i] = Σₙ g[n, o]·x[n, i]
    let (g, xv) = (g0.to_vec_f64(), x0.to_vec_f64());
    let want: Vec<f64> = (0..20)
        .map(|e| (0..3).map(|n| g[n * 5 + e / 4] * xv[n * 4 + e % 4]).sum())
        .collect();
    let near = |a: Vec<f64>, b: Vec<f64>| {
        assert_eq!(a.len(), b.len());
        for (p, q) in a.iter().zip(&b) {
            assert!((p - q).abs() <= 1e-12 * (1.0 + q.abs()), "{a:?} vs {b:?}");
        }
    };
    near(gw.to_vec_f64(), want);
    // dX = g·W
    let w = w0.to_vec_f64();
    let want_x: Vec<f64> = (0..12)
        .map(|e| (0..5).map(|o| g[(e / 4) * 5 + o] * w[o * 4 + e % 4]).sum())
        .collect();
    near(x.grad().unwrap().to_vec_f64(), want_x);
}

/// `Var::log_softmax` on f32 rows of large magnitude (about 1e4, differences of a few units)
/// against an f64 reference from the same inputs: computed as (x − m) − ln Σ e^(x−m) every
/// log-probability is within a few 1e-7 (x − (m + ln Σ e^(x−m)) was off by up to half an ulp
/// of 1e4, 4.9e-4). Its gradient, g − softmax·Σg per row, is checked the same way.
#[test]
fn log_softmax_of_rows_of_large_magnitude_is_accurate_elementwise() {
    let (rows, cols) = (64, 10);
    let mut rng = tensor::Rng::seed(21);
    let x0 = Tensor::rand_uniform([rows, cols], -2.0, 2.0, DType::F32, &mut rng).add_scalar(1e4);
    let g0 = Tensor::rand_uniform([rows, cols], -1.0, 1.0, DType::F32, &mut rng);
    let (xv, gv) = (x0.to_vec_f64(), g0.to_vec_f64());
    let tape = Tape::new();
    let x = tape.leaf(x0);
    let y = x.log_softmax(1);
    y.mul(&tape.constant(g0)).sum_all().backward();
    let (got, dx) = (y.value().to_vec_f64(), x.grad().unwrap().to_vec_f64());
    let (mut worst, mut worst_grad) = (0.0f64, 0.0f64);
    for r in 0..rows {
        let row = &xv[r * cols..(r + 1) * cols];
        let g = &gv[r * cols..(r + 1) * cols];
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        let gsum: f64 = g.iter().sum();
        for c in 0..cols {
            let want = (row[c] - m) - lse;
            worst = worst.max((got[r * cols + c] - want).abs());
            let dwant = g[c] - want.exp() * gsum;
            worst_grad = worst_grad.max((dx[r * cols + c] - dwant).abs());
        }
    }
    eprintln!(
        "Var::log_softmax near 1e4 in f32: value error {worst:e}, gradient error {worst_grad:e}"
    );
    assert!(worst < 2e-6, "largest elementwise error {worst:e}");
    assert!(worst_grad < 1e-5, "largest gradient error {worst_grad:e}");
}

#[test]
fn backward_on_a_non_scalar_refuses_and_names_backward_with() {
    let tape = Tape::new();
    let x = tape.leaf(Tensor::from_vec(vec![1.0f64, 2.0, 3.0], [3]));
    let y = x.square();
    let err = y.try_backward().unwrap_err().to_string();
    assert_eq!(
        err,
        "backward: the value has shape [3], but backward() starts from a single number (a loss); reduce it (sum_all, mean_all) or call backward_with(grad_output) with its gradient"
    );
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| y.backward()));
    assert!(caught.is_err());
    assert!(x.grad().is_none(), "nothing accumulated");
    // with its gradient said, it runs: d/dx Σ wᵢ xᵢ² = 2 wᵢ xᵢ
    y.backward_with(&Tensor::from_vec(vec![1.0f64, 0.5, -1.0], [3]));
    assert_eq!(x.grad().unwrap().to_vec_f64(), vec![2.0, 2.0, -6.0]);
    // a one-element value of any rank is a loss
    let tape = Tape::new();
    let w = tape.leaf(Tensor::from_vec(vec![3.0f64], [1, 1]));
    w.square().backward();
    assert_eq!(w.grad().unwrap().to_vec_f64(), vec![6.0]);
}
