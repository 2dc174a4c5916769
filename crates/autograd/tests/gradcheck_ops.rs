//! Every differentiable op passes gradcheck and gradgradcheck on proptest-generated inputs
//! (64 cases per op; set MINIMAX_PROPTEST_CASES for more). `every_op_has_a_gradient_test`
//! fails when an op is added to `OP_NAMES` without a test here.

use minimax_autograd::testing::*;
use minimax_autograd::{gradcheck, gradgradcheck, CheckOptions, Var, OP_NAMES};
use proptest::prelude::*;
use tensor::{PadMode, Shape, Tensor};

/// A case: the differentiable inputs, and auxiliary values (axes, indices, masks) that the
/// function reads but gradcheck must not perturb.
type Case = (Vec<Tensor>, Vec<Tensor>);

fn check(f: &dyn Fn(&[Var]) -> Var, inputs: &[Tensor]) -> Result<(), TestCaseError> {
    let opts = CheckOptions::default();
    if let Err(r) = gradcheck(f, inputs, opts) {
        return Err(TestCaseError::fail(format!("gradcheck {r}")));
    }
    if let Err(r) = gradgradcheck(f, inputs, opts) {
        return Err(TestCaseError::fail(format!("gradgradcheck {r}")));
    }
    Ok(())
}

fn small() -> impl Strategy<Value = Shape> {
    shape(0..=3, 1..=3)
}
fn one(s: impl Strategy<Value = Tensor>) -> impl Strategy<Value = Case> {
    s.prop_map(|t| (vec![t], vec![]))
}
fn two(
    pair: impl Strategy<Value = (Shape, Shape)>,
    lo: f64,
    hi: f64,
) -> impl Strategy<Value = Case> {
    pair.prop_flat_map(move |(a, b)| (tensor_in(Just(a), lo, hi), tensor_in(Just(b), lo, hi)))
        .prop_map(|(a, b)| (vec![a, b], vec![]))
}
fn axis_case() -> impl Strategy<Value = Case> {
    with_axis().prop_map(|(t, a)| (vec![t], vec![Tensor::scalar(a as f64, tensor::DType::F64)]))
}
fn plain() -> impl Strategy<Value = Case> {
    one(tensor_in(small(), -2.0, 2.0))
}
fn kinked() -> impl Strategy<Value = Case> {
    one(tensor_away_from_kinks(small(), 0.05))
}
fn positive() -> impl Strategy<Value = Case> {
    one(positive_tensor(small(), 0.3))
}
fn pair() -> impl Strategy<Value = Case> {
    two(broadcast_pair(1..=3, 1..=3), -2.0, 2.0)
}
fn image() -> impl Strategy<Value = Shape> {
    shape(3..=3, 2..=4)
}
/// (x, axis) with an axis index valid for x.
fn with_axis() -> impl Strategy<Value = (Tensor, usize)> {
    tensor_in(shape(1..=3, 1..=3), -2.0, 2.0).prop_flat_map(|t| {
        let n = t.ndim();
        (Just(t), 0..n)
    })
}
fn index_case() -> impl Strategy<Value = (Tensor, usize, Vec<usize>)> {
    with_axis().prop_flat_map(|(t, a)| {
        let n = t.dims()[a];
        (Just(t), Just(a), proptest::collection::vec(0..n, 1..=4))
    })
}
fn gather_case() -> impl Strategy<Value = (Tensor, usize, Tensor)> {
    with_axis().prop_flat_map(|(t, a)| {
        let mut d = t.dims().to_vec();
        let n = d[a];
        d[a] = 3;
        let len: usize = d.iter().product();
        (
            Just(t),
            Just(a),
            proptest::collection::vec(0..n, len).prop_map(move |v| {
                Tensor::from_vec(
                    v.into_iter().map(|x| x as f64).collect::<Vec<f64>>(),
                    d.clone(),
                )
            }),
        )
    })
}

/// [`conv_case`] plus a bias `[Cout]` as a third input.
fn conv_bias_case(transposed: bool) -> impl Strategy<Value = Case> {
    conv_case(transposed).prop_flat_map(move |(v, aux)| {
        let groups = aux[0].to_vec_f64()[3] as usize;
        let cout = if transposed {
            v[1].dims()[1] * groups
        } else {
            v[1].dims()[0]
        };
        (
            Just(v),
            Just(aux),
            tensor_in(Just(Shape::new(&[cout])), -1.0, 1.0),
        )
            .prop_map(|(mut v, aux, b)| {
                v.push(b);
                (v, aux)
            })
    })
}

/// A small convolution case: x [N, Cin, H, W], w, and (stride, padding, dilation, groups).
/// `transposed` picks the weight layout [Cin, Cout/g, k, k] instead of [Cout, Cin/g, k, k].
fn conv_case(transposed: bool) -> impl Strategy<Value = Case> {
    (
        1usize..=2,
        1usize..=2,
        1usize..=2,
        1usize..=2,
        3usize..=5,
        1usize..=3,
        1usize..=2,
        0usize..=1,
        1usize..=2,
    )
        .prop_filter(
            "kernel larger than the padded input",
            |&(_, _, _, _, h, k, _, p, d)| h + 2 * p >= d * (k - 1) + 1,
        )
        .prop_flat_map(move |(n, g, ci, co, h, k, s, p, d)| {
            let (cin, cout) = (ci * g, co * g);
            let ws = if transposed {
                [cin, cout / g, k, k]
            } else {
                [cout, cin / g, k, k]
            };
            (
                tensor_in(Just(Shape::new(&[n, cin, h, h + 1])), -1.0, 1.0),
                tensor_in(Just(Shape::new(&ws)), -1.0, 1.0),
                Just([s as f64, p as f64, d as f64, g as f64]),
            )
        })
        .prop_map(|(x, w, hp)| (vec![x, w], vec![Tensor::from_vec(hp.to_vec(), [4])]))
}
fn conv_p(aux: &[Tensor]) -> tensor::Conv2dParams {
    let h: Vec<usize> = aux[0].to_vec_f64().iter().map(|&v| v as usize).collect();
    tensor::Conv2dParams::new((h[0], h[0]), (h[1], h[1]))
        .with_dilation((h[2], h[2]))
        .with_groups(h[3])
}
fn convt_p(aux: &[Tensor]) -> tensor::ConvTranspose2dParams {
    let h: Vec<usize> = aux[0].to_vec_f64().iter().map(|&v| v as usize).collect();
    // output_padding must be smaller than the stride or the dilation
    tensor::ConvTranspose2dParams::new((h[0], h[0]), (h[1], h[1]))
        .with_dilation((h[2], h[2]))
        .with_groups(h[3])
        .with_output_padding((h[0].max(h[2]) - 1, 0))
}
fn pool_input() -> impl Strategy<Value = Case> {
    one(tensor_in(
        shape(4..=4, 1..=2)
            .prop_flat_map(|s| (Just(s), 4usize..=5, 4usize..=6))
            .prop_map(|(s, h, w)| Shape::new(&[s[0], s[1], h, w])),
        -2.0,
        2.0,
    ))
}

macro_rules! op_tests {
    ($($name:ident : $strat:expr => |$v:ident, $aux:ident| $body:expr;)*) => {
        const TESTED: &[&str] = &[$(stringify!($name)),*];
        proptest! {
            #![proptest_config(config())]
            $(
                #[test]
                #[allow(unused_variables)]
                fn $name(case in $strat) {
                    let (inputs, $aux): Case = case;
                    check(&|$v: &[Var]| $body, &inputs)?;
                }
            )*
        }
    };
}

op_tests! {
    neg: plain() => |v, aux| v[0].neg();
    abs: kinked() => |v, aux| v[0].abs();
    exp: plain() => |v, aux| v[0].exp();
    log: positive() => |v, aux| v[0].log();
    sqrt: positive() => |v, aux| v[0].sqrt();
    square: plain() => |v, aux| v[0].square();
    reciprocal: positive() => |v, aux| v[0].reciprocal();
    sin: plain() => |v, aux| v[0].sin();
    cos: plain() => |v, aux| v[0].cos();
    relu: kinked() => |v, aux| v[0].relu();
    leaky_relu: kinked() => |v, aux| v[0].leaky_relu(0.2);
    sigmoid: plain() => |v, aux| v[0].sigmoid();
    tanh: plain() => |v, aux| v[0].tanh();
    softplus: plain() => |v, aux| v[0].softplus();
    log_sigmoid: plain() => |v, aux| v[0].log_sigmoid();
    clamp: one(tensor_away_from_kinks(small(), 0.05).prop_filter("near a bound", |t| t.to_vec_f64().iter().all(|x| (x.abs() - 1.0).abs() > 0.05))) => |v, aux| v[0].clamp(-1.0, 1.0);
    add_scalar: plain() => |v, aux| v[0].add_scalar(0.7);
    mul_scalar: plain() => |v, aux| v[0].mul_scalar(-1.3);
    pow_scalar: positive() => |v, aux| v[0].pow_scalar(2.5);
    add: pair() => |v, aux| &v[0] + &v[1];
    sub: pair() => |v, aux| &v[0] - &v[1];
    mul: pair() => |v, aux| &v[0] * &v[1];
    div: broadcast_pair(1..=3, 1..=3).prop_flat_map(|(a, b)| (tensor_in(Just(a), -2.0, 2.0), positive_tensor(Just(b), 0.5))).prop_map(|(a, b)| (vec![a, b], vec![])) => |v, aux| &v[0] / &v[1];
    pow: two(broadcast_pair(1..=3, 1..=3), 0.5, 2.0) => |v, aux| v[0].pow(&v[1]);
    maximum: separated_pair(broadcast_pair(1..=2, 1..=3), 0.05).prop_map(|(a, b)| (vec![a, b], vec![])) => |v, aux| v[0].maximum(&v[1]);
    minimum: separated_pair(broadcast_pair(1..=2, 1..=3), 0.05).prop_map(|(a, b)| (vec![a, b], vec![])) => |v, aux| v[0].minimum(&v[1]);
    r#where: (pair(), any::<u64>()) .prop_map(|((v, _), seed)| {
        let s = tensor::broadcast_shapes(v[0].shape(), v[1].shape()).unwrap();
        let mut rng = tensor::Rng::seed(seed);
        let c = Tensor::bernoulli(s, 0.5, tensor::DType::F64, &mut rng);
        (v, vec![c])
    }) => |v, aux| Var::where_(&aux[0], &v[0], &v[1]);
    sum: axis_case() => |v, aux| {
        let a = aux[0].item() as isize;
        v[0].sum(&[a], a % 2 == 0).add(&v[0].sum(&[], false).reshape(Shape::scalar()))
    };
    max: one(tensor_in(shape(1..=3, 1..=3), -2.0, 2.0)) => |v, aux| v[0].max(&[-1], false).add(&v[0].max(&[], true).reshape(Shape::scalar()));
    min: one(tensor_in(shape(1..=3, 1..=3), -2.0, 2.0)) => |v, aux| v[0].min(&[0], true);
    reshape: one(tensor_in(shape(2..=2, 1..=3), -2.0, 2.0)) => |v, aux| { let n = v[0].numel(); v[0].reshape([n]).square() };
    permute: one(tensor_in(shape(3..=3, 1..=3), -2.0, 2.0)) => |v, aux| v[0].permute(&[2, 0, 1]).square();
    expand: one(tensor_in(shape(2..=2, 1..=1), -2.0, 2.0)) => |v, aux| v[0].expand([3, 1, 2]).square();
    narrow: axis_case() => |v, aux| {
        let a = aux[0].item() as usize;
        let n = v[0].dims()[a];
        v[0].narrow(a as isize, n / 2, n - n / 2).square()
    };
    pad: one(tensor_in(image(), -2.0, 2.0)) => |v, aux| {
        let (h, w) = (v[0].dims()[1], v[0].dims()[2]);
        v[0].pad(&[((h - 1).min(1), 1), (1, (w - 1).min(2))], PadMode::Reflect).square()
            .add(&v[0].pad(&[(0, 2)], PadMode::Constant(0.5)).sum_all())
    };
    pad_reflect_adjoint: one(tensor_in(shape(3..=3, 3..=4), -2.0, 2.0)) => |v, aux| {
        let d = v[0].dims().to_vec();
        // the adjoint maps a padded gradient back onto the unpadded shape
        v[0].pad_reflect_adjoint(&[(1, 0)], [d[0], d[1], d[2] - 1]).square()
    };
    cat: two(shape(2..=2, 1..=3).prop_map(|s| (s, s)), -2.0, 2.0) => |v, aux| Var::cat(&[&v[0], &v[1].square()], 1);
    index_select: index_case().prop_map(|(t, a, i)| {
        let idx = Tensor::from_vec(i.iter().map(|&x| x as f64).collect::<Vec<f64>>(), [i.len()]);
        (vec![t], vec![Tensor::scalar(a as f64, tensor::DType::F64), idx])
    }) => |v, aux| {
        let a = aux[0].item() as usize;
        let idx: Vec<usize> = aux[1].to_vec_f64().iter().map(|&x| x as usize).collect();
        v[0].index_select(a as isize, &idx).square()
    };
    index_add: axis_case() => |v, aux| {
        let a = aux[0].item() as usize;
        let mut s = *v[0].shape();
        let n = s[a];
        s = s.with(a, n + 1);
        let idx: Vec<usize> = (0..n).map(|i| (i * 2) % (n + 1)).collect();
        v[0].index_add(s, a as isize, &idx).square()
    };
    gather: gather_case().prop_map(|(t, a, i)| (vec![t], vec![Tensor::scalar(a as f64, tensor::DType::F64), i])) => |v, aux| {
        v[0].gather(aux[0].item() as isize, &aux[1]).square()
    };
    scatter_add: gather_case().prop_map(|(t, a, i)| (vec![t], vec![Tensor::scalar(a as f64, tensor::DType::F64), i])) => |v, aux| {
        let a = aux[0].item() as isize;
        let src = v[0].gather(a, &aux[1]);
        src.scatter_add(*v[0].shape(), a, &aux[1]).square()
    };
    flip: one(tensor_in(shape(2..=3, 1..=3), -2.0, 2.0)) => |v, aux| v[0].flip(&[0, -1]).mul(&v[0]);
    linear: (1usize..=3, 1usize..=3, 1usize..=3, any::<bool>()).prop_flat_map(|(n, i, o, bias)| {
        let b = if bias { vec![o] } else { vec![] };
        (tensor_in(Just(Shape::new(&[n, i])), -2.0, 2.0), tensor_in(Just(Shape::new(&[o, i])), -2.0, 2.0), tensor_in(Just(Shape::new(&b)), -2.0, 2.0), Just(bias))
    }).prop_map(|(x, w, b, bias)| if bias { (vec![x, w, b], vec![]) } else { (vec![x, w], vec![]) }) => |v, aux| v[0].linear(&v[1], v.get(2)).square();
    matmul: (1usize..=3, 1usize..=3, 1usize..=3, 1usize..=2).prop_flat_map(|(m, k, n, b)| {
        (tensor_in(Just(Shape::new(&[b, m, k])), -2.0, 2.0), tensor_in(Just(Shape::new(&[k, n])), -2.0, 2.0))
    }).prop_map(|(a, b)| (vec![a, b], vec![])) => |v, aux| v[0].matmul(&v[1]).square();
    conv2d: conv_case(false) => |v, aux| v[0].conv2d(&v[1], conv_p(&aux)).square();
    conv_transpose2d: conv_case(true) => |v, aux| v[0].conv_transpose2d(&v[1], convt_p(&aux)).square();
    conv2d_bias: conv_bias_case(false) => |v, aux| v[0].conv2d_bias(&v[1], Some(&v[2]), conv_p(&aux)).square();
    conv_transpose2d_bias: conv_bias_case(true) => |v, aux| v[0].conv_transpose2d_bias(&v[1], Some(&v[2]), convt_p(&aux)).square();
    conv2d_weight_grad: conv_case(false) => |v, aux| {
        let p = conv_p(&aux);
        // grad_out as a function of both inputs, so both arguments of the op get gradients
        let g = v[0].conv2d(&v[1], p);
        Var::conv2d_weight_grad(&v[0], &g, *v[1].shape(), p).square()
    };
    conv_transpose2d_weight_grad: conv_case(true) => |v, aux| {
        let p = convt_p(&aux);
        let g = v[0].conv_transpose2d(&v[1], p);
        Var::conv_transpose2d_weight_grad(&v[0], &g, *v[1].shape(), p).square()
    };
    avg_pool2d: pool_input() => |v, aux| v[0].avg_pool2d((2, 3), (2, 1), (1, 1)).square();
    avg_pool2d_backward: pool_input() => |v, aux| {
        let s = *v[0].shape();
        let y = v[0].avg_pool2d((3, 2), (1, 2), (1, 0));
        y.avg_pool2d_backward(s, (3, 2), (1, 2), (1, 0)).square()
    };
    max_pool2d: pool_input() => |v, aux| v[0].max_pool2d((2, 2), (2, 2), (0, 1)).square();
    max_pool2d_backward: pool_input() => |v, aux| {
        let (_, idx) = v[0].value().max_pool2d((2, 2), (1, 2), (0, 0));
        let idx = std::rc::Rc::new(idx);
        let y = v[0].max_pool2d((2, 2), (1, 2), (0, 0));
        y.max_pool2d_backward(&idx, *v[0].shape()).mul(&v[0])
    };
    max_pool2d_gather: pool_input() => |v, aux| {
        let (y, idx) = v[0].value().max_pool2d((3, 3), (1, 1), (1, 1));
        let idx = std::rc::Rc::new(idx);
        v[0].square().max_pool2d_gather(&idx, *y.shape())
    };
    upsample_nearest2d: pool_input() => |v, aux| v[0].upsample_nearest2d(2).square();
    channel_affine: (tensor_in(shape(2..=4, 1..=3), -2.0, 2.0), any::<bool>()).prop_flat_map(|(x, bias)| {
        let c = Shape::new(&[x.dims()[1]]);
        (Just(x), tensor_in(Just(c), -2.0, 2.0), tensor_in(Just(c), -2.0, 2.0), Just(bias))
    }).prop_map(|(x, w, b, bias)| if bias { (vec![x, w, b], vec![]) } else { (vec![x, w], vec![]) }) => |v, aux| {
        // times x again, so that the second derivatives in x and w are not all zero
        v[0].channel_affine(&v[1], v.get(2)).mul(&v[0])
    };
    normalize: one(tensor_in(shape(2..=4, 2..=3), -2.0, 2.0)) => |v, aux| {
        let nd = v[0].ndim() as isize;
        let axes: Vec<isize> = (0..nd).filter(|&a| a != 1).collect();
        // weighted so the gradient is not identically zero (Σ x̂ = 0 on every slice)
        v[0].normalize(&axes, 1e-3).mul(&v[0].sin())
    };
    upsample_nearest2d_backward: one(tensor_in(shape(2..=2, 1..=2).prop_flat_map(|s| (Just(s), 1usize..=3, 1usize..=3)).prop_map(|(s, h, w)| Shape::new(&[s[0], s[1], 2 * h, 2 * w])), -2.0, 2.0)) => |v, aux| v[0].upsample_nearest2d_backward(2).square();
}

/// grad_reverse is deliberately not the derivative of its forward (identity), so finite
/// differences cannot check it; instead its first and second derivatives must be exactly −λ
/// times those of the identity.
#[test]
fn grad_reverse() {
    let tape = minimax_autograd::Tape::new();
    let x = tape.leaf(Tensor::from_vec(vec![0.5f64, -1.5, 2.0], [3]));
    let y = x.grad_reverse(0.5).pow_scalar(3.0).sum_all();
    let g = minimax_autograd::grad(&[&y], &[&x], None, true)[0].clone();
    assert_eq!(
        g.value().to_vec_f64(),
        vec![-0.5 * 3.0 * 0.25, -0.5 * 3.0 * 2.25, -0.5 * 3.0 * 4.0]
    );
    let gg = minimax_autograd::grad(&[&g.sum_all()], &[&x], None, false)[0].clone();
    // d/dx of (−λ·3x²) where the inner x went through the reversal once more: (−λ)²·6x
    assert_eq!(
        gg.value().to_vec_f64(),
        vec![0.25 * 6.0 * 0.5, 0.25 * 6.0 * -1.5, 0.25 * 6.0 * 2.0]
    );
}

#[test]
fn every_op_has_a_gradient_test() {
    let mut tested: Vec<String> = TESTED
        .iter()
        .map(|s| s.trim_start_matches("r#").to_string())
        .collect();
    tested.push("grad_reverse".into()); // checked exactly in `grad_reverse` above
    let missing: Vec<&&str> = OP_NAMES
        .iter()
        .filter(|n| !tested.contains(&n.to_string()))
        .collect();
    assert!(
        missing.is_empty(),
        "ops without a gradcheck/gradgradcheck test: {missing:?}"
    );
}

#[test]
fn gradcheck_catches_a_wrong_gradient() {
    // a deliberately wrong "op": forward x², backward through 3x (via a detached trick)
    let f = |v: &[Var]| {
        let x = &v[0];
        // value x², gradient 3x: x²  = 1.5x² - 0.5x² where the second term is detached
        x.square().mul_scalar(1.5) - x.square().detach().mul_scalar(0.5)
    };
    let x = Tensor::from_vec(vec![1.0f64, -2.0, 0.5], [3]);
    let r = gradcheck(&f, &[x], CheckOptions::default()).unwrap_err();
    assert_eq!(r.input, 0);
    assert_eq!(r.index, vec![1]); // the largest |x| gives the largest error
    assert!((r.analytic / r.numeric - 1.5).abs() < 1e-6, "{r}");
    assert!(r.to_string().contains("FAILED"));
}
