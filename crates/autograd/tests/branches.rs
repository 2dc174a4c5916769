//! Ops whose backward has more than one branch give the same first derivatives on every
//! branch.
//!
//! Without `create_graph` some rules run fused on tensors (ReLU and leaky ReLU,
//! `channel_affine`, `normalize`), the engine rescales the gradient in place for the scalar
//! ops (`add_scalar`, `mul_scalar`, `neg`, `grad_reverse`) and sums the gradients of a value
//! used several times into one buffer; with `create_graph` all of them are recorded Var ops
//! (the differentiable branch that gradient penalties differentiate again). Each case below
//! computes the gradient of ⟨f(x), G⟩ (G fixed and random) three ways — `Var::backward` (what
//! training runs), `grad` without and `grad` with `create_graph` — and requires the same
//! values: bit for bit where both branches do the same arithmetic, within 1e-13 (f64) or
//! 1e-6 (f32) of the gradient's scale where a fused kernel sums in another order (measured:
//! `channel_affine` 1.7e-16 / 9.1e-8, `normalize` 2.6e-16 / 2.3e-7). Convolutions, `linear`
//! and matmul with a transposed operand take the same code on both branches, but have
//! branches of their own (with or without bias, B stored transposed) and are compared too.
//! `gradcheck`
//! checks both branches against finite differences (`check::tests` shows it catching a
//! doubled weight gradient in a differentiable branch that the fused one does not have).

use minimax_autograd::{grad, gradcheck, CheckOptions, Tape, Var};
use tensor::{Conv2dParams, ConvTranspose2dParams, DType, Rng, Tensor};

type F = dyn Fn(&[Var]) -> Var;

/// The gradients of ⟨f(x), G⟩ with respect to the inputs marked in `leaf` (the others are
/// constants), by `backward`, by `grad` without `create_graph` and by `grad` with it.
fn three_ways(f: &F, inputs: &[Tensor], leaf: &[bool]) -> [Vec<Tensor>; 3] {
    let run = |how: usize| -> Vec<Tensor> {
        let tape = Tape::new();
        let vs: Vec<Var> = inputs
            .iter()
            .zip(leaf)
            .map(|(t, &l)| {
                if l {
                    tape.leaf(t.clone())
                } else {
                    tape.constant(t.clone())
                }
            })
            .collect();
        let y = f(&vs);
        let mut rng = Rng::seed(41);
        let g =
            Tensor::rand_uniform(*y.shape(), -1.0, 1.0, DType::F64, &mut rng).to_dtype(y.dtype());
        let wanted: Vec<&Var> = vs
            .iter()
            .zip(leaf)
            .filter(|(_, &l)| l)
            .map(|(v, _)| v)
            .collect();
        if how == 0 {
            y.try_backward_with(&g).unwrap();
            wanted.iter().map(|v| v.grad().unwrap()).collect()
        } else {
            grad(&[&y], &wanted, Some(&[g]), how == 2)
                .iter()
                .map(|v| v.value().clone())
                .collect()
        }
    };
    [run(0), run(1), run(2)]
}

/// Checks the three gradients agree: bit for bit when `exact`, else within `tol` of the largest
/// magnitude. Returns the largest difference relative to that scale.
#[track_caller]
fn agree(name: &str, f: &F, inputs: &[Tensor], leaf: &[bool], exact: bool) -> f64 {
    let [bw, fused, recorded] = three_ways(f, inputs, leaf);
    let mut worst = 0.0f64;
    for (k, ((a, b), c)) in bw.iter().zip(&fused).zip(&recorded).enumerate() {
        let (a, b, c) = (a.to_vec_f64(), b.to_vec_f64(), c.to_vec_f64());
        let scale = c.iter().fold(1e-300f64, |m, v| m.max(v.abs()));
        for i in 0..a.len() {
            if exact {
                assert_eq!(
                    (a[i].to_bits(), b[i].to_bits()),
                    (c[i].to_bits(), c[i].to_bits()),
                    "{name}: gradient {k}, element {i}: backward {}, grad {}, grad with create_graph {}",
                    a[i],
                    b[i],
                    c[i]
                );
            }
            worst = worst
                .max((a[i] - c[i]).abs() / scale)
                .max((b[i] - c[i]).abs() / scale);
        }
    }
    let tol = if inputs[0].dtype() == DType::F64 {
        1e-13
    } else {
        1e-6
    };
    assert!(
        worst <= tol,
        "{name}: the branches differ by {worst:e} of the gradient's scale"
    );
    worst
}

fn rand(dims: &[usize], seed: u64, dtype: DType) -> Tensor {
    let mut rng = Rng::seed(seed);
    Tensor::rand_uniform(dims, -2.0, 2.0, DType::F64, &mut rng).to_dtype(dtype)
}

const DTYPES: [DType; 2] = [DType::F64, DType::F32];

#[test]
fn relu_and_leaky_relu_agree_on_every_branch() {
    for dt in DTYPES {
        // zeros too: the kink belongs to the negative side on both branches
        let x = Tensor::from_vec(vec![-1.5, -0.0, 0.0, 0.25, 2.0, -3.0], [2, 3]).to_dtype(dt);
        let relu = |v: &[Var]| v[0].relu().mul(&v[0]);
        agree("relu", &relu, std::slice::from_ref(&x), &[true], true);
        for slope in [0.2, 0.0, 1.5] {
            let leaky = move |v: &[Var]| v[0].leaky_relu(slope).mul(&v[0]);
            agree(
                "leaky_relu",
                &leaky,
                std::slice::from_ref(&x),
                &[true],
                true,
            );
        }
        let y = rand(&[4, 5], 2, dt);
        agree("relu", &relu, &[y], &[true], true);
    }
}

#[test]
fn channel_affine_agrees_on_every_branch_with_and_without_bias() {
    for dt in DTYPES {
        for dims in [vec![5, 3], vec![2, 3, 4], vec![2, 3, 2, 3]] {
            let x = rand(&dims, 3, dt);
            let w = rand(&[3], 4, dt);
            let b = rand(&[3], 5, dt);
            let with_bias = |v: &[Var]| v[0].channel_affine(&v[1], Some(&v[2]));
            let without = |v: &[Var]| v[0].channel_affine(&v[1], None);
            // every subset of the inputs asking for a gradient (the fused branch computes the
            // two parameter sums together, or one alone)
            for mask in 1..8u32 {
                let leaf = [mask & 1 != 0, mask & 2 != 0, mask & 4 != 0];
                let inputs = [x.clone(), w.clone(), b.clone()];
                agree("channel_affine", &with_bias, &inputs, &leaf, false);
                if mask < 4 {
                    agree("channel_affine", &without, &inputs[..2], &leaf[..2], false);
                }
            }
        }
    }
}

#[test]
fn normalize_agrees_on_every_branch() {
    for dt in DTYPES {
        for (dims, axes) in [
            (vec![6, 3], vec![0]),
            (vec![2, 3, 2, 2], vec![0, 2, 3]), // batch norm
            (vec![2, 3, 2, 2], vec![2, 3]),    // instance norm
            (vec![2, 3, 5], vec![-1]),         // layer norm over the last axis
        ] {
            let x = rand(&dims, 6, dt);
            let f = move |v: &[Var]| v[0].normalize(&axes, 1e-5);
            agree("normalize", &f, &[x], &[true], false);
        }
    }
}

#[test]
fn the_engines_in_place_steps_agree_with_the_rules() {
    for dt in DTYPES {
        let x = rand(&[3, 4], 7, dt);
        // add_scalar, mul_scalar, neg and grad_reverse are rescaled in place without a graph
        let chain = |v: &[Var]| {
            v[0].square()
                .mul_scalar(3.0)
                .add_scalar(1.0)
                .neg()
                .grad_reverse(0.5)
                .mul_scalar(-0.25)
        };
        agree(
            "scalar ops",
            &chain,
            std::slice::from_ref(&x),
            &[true],
            true,
        );
        // a value with several consumers: its gradients summed in one buffer, or recorded adds
        let shared = |v: &[Var]| {
            let a = v[0].sin();
            a.mul(&a).add(&a.mul_scalar(3.0)).add(&a.exp()).add(&a)
        };
        agree("accumulation", &shared, &[x], &[true], true);
    }
}

#[test]
fn products_and_convolutions_with_bias_agree_on_every_branch() {
    for dt in DTYPES {
        // matmul's second branch: B stored transposed (Linear's Wᵀ) is differentiated as
        // (gᵀ·A)ᵀ
        let (a, bt) = (rand(&[4, 3], 8, dt), rand(&[5, 3], 9, dt));
        let mm = |v: &[Var]| v[0].matmul(&v[1].t());
        agree(
            "matmul, B transposed",
            &mm,
            &[a.clone(), bt.clone()],
            &[true, true],
            true,
        );
        let w = rand(&[5, 3], 10, dt);
        let b = rand(&[5], 11, dt);
        let lin = |v: &[Var]| v[0].linear(&v[1], Some(&v[2]));
        agree("linear", &lin, &[a, w, b], &[true, true, true], true);
        let x = rand(&[2, 3, 5, 5], 12, dt);
        let k = rand(&[4, 3, 3, 3], 13, dt);
        let bias = rand(&[4], 14, dt);
        let p = Conv2dParams::new((2, 1), (1, 1));
        let conv = move |v: &[Var]| v[0].conv2d_bias(&v[1], Some(&v[2]), p);
        agree(
            "conv2d with bias",
            &conv,
            &[x.clone(), k.clone(), bias.clone()],
            &[true; 3],
            true,
        );
        let kt = rand(&[3, 4, 3, 3], 15, dt);
        let pt = ConvTranspose2dParams::new((2, 2), (1, 1));
        let convt = move |v: &[Var]| v[0].conv_transpose2d_bias(&v[1], Some(&v[2]), pt);
        agree(
            "conv_transpose2d with bias",
            &convt,
            &[x, kt, bias],
            &[true; 3],
            true,
        );
    }
}

/// The branches above are all right, not just equal: gradcheck (which checks the fused and the
/// differentiable branch against finite differences) passes on the cases that are not covered
/// by `gradcheck_ops.rs` as they are here (subsets of inputs, B transposed, layer norm).
#[test]
fn both_branches_pass_gradcheck_on_the_same_cases() {
    let opts = CheckOptions::default();
    let (x, w, b) = (
        rand(&[2, 3, 4], 3, DType::F64),
        rand(&[3], 4, DType::F64),
        rand(&[3], 5, DType::F64),
    );
    let only_params = {
        let x = x.clone();
        move |v: &[Var]| {
            let xc = v[0].tape().constant(x.clone());
            xc.channel_affine(&v[0], Some(&v[1])).mul(&xc)
        }
    };
    let r = gradcheck(&only_params, &[w, b], opts);
    assert!(
        r.is_ok(),
        "channel_affine, parameters only: {}",
        r.unwrap_err()
    );
    let mm = |v: &[Var]| v[0].matmul(&v[1].t()).square();
    let r = gradcheck(
        &mm,
        &[rand(&[4, 3], 8, DType::F64), rand(&[5, 3], 9, DType::F64)],
        opts,
    );
    assert!(r.is_ok(), "matmul, B transposed: {}", r.unwrap_err());
    let ln = |v: &[Var]| v[0].normalize(&[-1], 1e-3).mul(&v[0].sin());
    let r = gradcheck(&ln, &[x], opts);
    assert!(
        r.is_ok(),
        "normalize over the last axis: {}",
        r.unwrap_err()
    );
}
