//! Every layer passes `gradcheck` and `gradgradcheck` (f64, central differences) with respect to
//! its input and every parameter, on proptest-generated inputs (64 cases per layer; set
//! MINIMAX_PROPTEST_CASES for more); and after one backward pass every parameter of every layer
//! has a non-zero gradient (candle's fused LayerNorm had no backward: no layer may silently stop
//! learning).
//!
//! Parameters become gradcheck inputs through [`functional_forward`]: the checker's Vars are
//! bound in place of `m.params()`, so the layer's own forward code is what gets checked.

use autograd::testing::*;
use autograd::{gradcheck, gradgradcheck, CheckOptions, Tape, Var};
use minimax_nn::init;
use minimax_nn::layers::*;
use minimax_nn::Module;
use proptest::prelude::*;
use tensor::{Conv2dParams, ConvTranspose2dParams, DType, Rng, Shape, Tensor};

/// gradcheck and gradgradcheck of `f` at `inputs`.
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

/// Checks `m` with respect to `x` and every parameter (at the parameters' current values).
fn check_module(m: &dyn Module, x: Tensor) -> Result<(), TestCaseError> {
    let f = |v: &[Var]| functional_forward(m, &v[0], &v[1..]);
    let mut inputs = vec![x];
    inputs.extend(m.params().iter().map(|p| p.value().to_dtype(DType::F64)));
    check(&f, &inputs)
}

/// Gives every parameter of `m` values from N(mean, 0.5²) (so affine norms are not at their
/// trivial ones/zeros initialisation).
fn scramble(m: &dyn Module, mean: f64, seed: u64) {
    let mut rng = Rng::seed(seed);
    for p in m.params() {
        init::normal(&p, mean, 0.5, &mut rng);
    }
}

/// f64 tensors in [-2, 2] of the given dims in which every group of elements that a norm
/// normalises together (`group_of(index) -> group id`) has a spread (max − min) of at least
/// 0.5, so the variance is far from zero and finite differences stay accurate.
fn spread_tensor(
    dims: Vec<usize>,
    group_of: fn(&[usize], &[usize]) -> usize,
) -> impl Strategy<Value = Tensor> {
    let s = Shape::new(&dims);
    tensor_in(Just(s), -2.0, 2.0).prop_filter("a normalised group is nearly constant", move |t| {
        let v = t.to_vec_f64();
        let mut lo = std::collections::HashMap::<usize, (f64, f64)>::new();
        for (lin, x) in v.iter().enumerate() {
            let mut idx = vec![0; dims.len()];
            let mut r = lin;
            for d in (0..dims.len()).rev() {
                idx[d] = r % dims[d];
                r /= dims[d];
            }
            let e = lo
                .entry(group_of(&idx, &dims))
                .or_insert((f64::INFINITY, f64::NEG_INFINITY));
            e.0 = e.0.min(*x);
            e.1 = e.1.max(*x);
        }
        lo.values().all(|(a, b)| b - a >= 0.5)
    })
}

fn per_channel(i: &[usize], _: &[usize]) -> usize {
    i[1]
}
fn per_sample_channel(i: &[usize], d: &[usize]) -> usize {
    i[0] * d[1] + i[1]
}
fn per_sample(i: &[usize], _: &[usize]) -> usize {
    i[0]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn linear(n in 1usize..=3, i in 1usize..=4, o in 1usize..=3, bias in any::<bool>(), seed in any::<u64>()) {
        let lin = Linear::new(i, o, bias, &mut Rng::seed(seed));
        let x = Tensor::randn([n, i], 0.0, 1.0, DType::F64, &mut Rng::seed(seed ^ 1));
        check_module(&lin, x)?;
    }

    #[test]
    fn linear_on_batched_and_1d_inputs(x in tensor_in(shape(1..=3, 2..=2), -2.0, 2.0), seed in any::<u64>()) {
        let lin = Linear::new(x.dims()[x.ndim() - 1], 2, true, &mut Rng::seed(seed));
        check_module(&lin, x)?;
    }

    #[test]
    fn batchnorm1d_train(
        x in (2usize..=4, 1usize..=3).prop_flat_map(|(n, c)| spread_tensor(vec![n, c], per_channel)),
        seed in any::<u64>(),
    ) {
        let bn = BatchNorm1d::new(x.dims()[1]);
        scramble(&bn, 1.0, seed);
        check_module(&bn, x)?;
    }

    #[test]
    fn batchnorm1d_train_ncl(
        x in (2usize..=3, 1usize..=2, 1usize..=3).prop_flat_map(|(n, c, l)| spread_tensor(vec![n, c, l], per_channel)),
        seed in any::<u64>(),
    ) {
        let bn = BatchNorm1d::new(x.dims()[1]);
        scramble(&bn, 1.0, seed);
        check_module(&bn, x)?;
    }

    #[test]
    fn batchnorm2d_train(
        x in (2usize..=3, 1usize..=2, 1usize..=2, 1usize..=3)
            .prop_flat_map(|(n, c, h, w)| spread_tensor(vec![n, c, h, w], per_channel)),
        seed in any::<u64>(),
    ) {
        let bn = BatchNorm2d::new(x.dims()[1]);
        scramble(&bn, 1.0, seed);
        check_module(&bn, x)?;
    }

    #[test]
    fn batchnorm2d_eval(x in tensor_in(shape(4..=4, 1..=3), -2.0, 2.0), seed in any::<u64>()) {
        let bn = BatchNorm2d::new(x.dims()[1]);
        scramble(&bn, 1.0, seed);
        // some running statistics, then evaluation mode (a batch of one is fine here)
        let tape = Tape::new();
        bn.forward(&tape.constant(Tensor::randn([4, x.dims()[1], 2, 2], 0.5, 2.0, DType::F32, &mut Rng::seed(seed))));
        bn.eval();
        check_module(&bn, x)?;
    }

    #[test]
    fn instancenorm2d(
        x in (1usize..=2, 1usize..=2, 1usize..=2, 2usize..=3)
            .prop_flat_map(|(n, c, h, w)| spread_tensor(vec![n, c, h, w], per_sample_channel)),
        affine in any::<bool>(),
        track in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let opts = NormOptions::instance_norm().with_affine(affine).with_track_running_stats(track);
        let inorm = InstanceNorm2d::with_options(x.dims()[1], opts);
        scramble(&inorm, 1.0, seed);
        check_module(&inorm, x)?;
    }

    #[test]
    fn layernorm(
        x in (1usize..=3, 2usize..=4).prop_flat_map(|(n, d)| spread_tensor(vec![n, d], per_sample)),
        affine in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let ln = LayerNorm::with_options(&[x.dims()[1]], 1e-5, affine);
        scramble(&ln, 1.0, seed);
        check_module(&ln, x)?;
    }

    #[test]
    fn layernorm_two_dims(
        x in (1usize..=2, 1usize..=2, 2usize..=3).prop_flat_map(|(n, a, b)| spread_tensor(vec![n, a, b], per_sample)),
        seed in any::<u64>(),
    ) {
        let ln = LayerNorm::new(&x.dims()[1..]);
        scramble(&ln, 1.0, seed);
        check_module(&ln, x)?;
    }

    #[test]
    fn dropout(x in tensor_in(shape(1..=3, 1..=4), -2.0, 2.0), p in 0.0f64..0.9, seed in any::<u64>()) {
        // a fresh layer per call, so every evaluation draws the same mask
        let f = |v: &[Var]| Dropout::new(p, &mut Rng::seed(seed)).forward(&v[0]);
        check(&f, std::slice::from_ref(&x))?;
        let d = Dropout::new(p, &mut Rng::seed(seed));
        d.eval();
        check_module(&d, x)?;
    }

    #[test]
    fn dropout2d(x in tensor_in(shape(4..=4, 1..=3), -2.0, 2.0), p in 0.0f64..0.9, seed in any::<u64>()) {
        let f = |v: &[Var]| Dropout2d::new(p, &mut Rng::seed(seed)).forward(&v[0]);
        check(&f, &[x])?;
    }

    #[test]
    fn smooth_activations(x in tensor_in(shape(0..=3, 1..=3), -3.0, 3.0)) {
        check_module(&Tanh::new(), x.clone())?;
        check_module(&Sigmoid::new(), x.clone())?;
        check_module(&Softplus::new(), x.clone())?;
        check_module(&Softplus::with_options(2.0, 20.0), x.clone())?;
        // far above the threshold: linear
        check_module(&Softplus::with_options(1.0, 1.0), x.mul_scalar(0.1).add_scalar(10.0))?;
    }

    #[test]
    fn kinked_activations(x in tensor_away_from_kinks(shape(0..=3, 1..=3), 0.05), slope in 0.0f64..0.5) {
        check_module(&ReLU::new(), x.clone())?;
        check_module(&LeakyReLU::new(slope), x)?;
    }

    #[test]
    fn gradient_reversal(x in tensor_in(shape(0..=3, 1..=3), -2.0, 2.0), lambda in 0.0f64..2.0) {
        // The layer's gradient is deliberately not the derivative of its forward pass (the
        // identity), so gradcheck cannot apply; check the rule itself. First derivative of
        // Σ w·GR(x)²: −λ·2x·w. Its derivative again passes through the layer: (−λ)²·2w.
        let gr = GradientReversal::new(lambda);
        let tape = Tape::new();
        let xv = tape.leaf(x.clone());
        let w = tape.constant(Tensor::randn(*x.shape(), 0.0, 1.0, DType::F64, &mut Rng::seed(1)));
        let y = gr.forward(&xv).square().mul(&w).sum_all();
        let g = autograd::grad(&[&y], &[&xv], None, true)[0].clone();
        let want = x.mul(w.value()).mul_scalar(-2.0 * lambda);
        prop_assert!(g.value().allclose(&want, 1e-12, 1e-12), "first: {:?} vs {:?}", g.value(), want);
        let gg = autograd::grad(&[&g.sum_all()], &[&xv], None, false)[0].clone();
        let want = w.value().mul_scalar(2.0 * lambda * lambda);
        prop_assert!(gg.value().allclose(&want, 1e-12, 1e-12), "second: {:?} vs {:?}", gg.value(), want);
    }

    #[test]
    fn shape_layers(x in tensor_in(shape(4..=4, 2..=3), -2.0, 2.0), l in 0usize..=1, r in 0usize..=1, t in 0usize..=1, b in 0usize..=1) {
        check_module(&ReflectionPad2d::new((l, r, t, b)), x.clone())?;
        check_module(&ZeroPad2d::new((l, r, t, b)), x.clone())?;
        check_module(&Flatten::new(), x.clone())?;
        let d = x.dims().to_vec();
        check_module(&Unflatten::new(1, &[d[1], 1]), x.clone())?;
        let net = Sequential::new().add(Flatten::new()).add(Unflatten::new(1, &[d[1], d[2], d[3]]));
        check_module(&net, x)?;
    }

    #[test]
    fn embedding(n in 1usize..=4, dim in 1usize..=3, seed in any::<u64>()) {
        let emb = Embedding::new(4, dim, &mut Rng::seed(seed));
        let mut rng = Rng::seed(seed ^ 7);
        let idx: Vec<f64> = (0..n).map(|_| rng.below(4) as f64).collect();
        let idx = Tensor::from_vec(idx, [n]);
        // the indices are not differentiable: only the weight is a gradcheck input
        let f = |v: &[Var]| functional_forward(&emb, &v[0].constant(idx.clone()), &v[..1]);
        check(&f, &[emb.weight.value().to_dtype(DType::F64)])?;
    }

    #[test]
    fn conv2d(
        (n, cin, cout, groups) in (1usize..=2, 1usize..=2, 1usize..=2, 1usize..=2),
        (kh, kw, stride, pad, dil) in (1usize..=3, 1usize..=2, 1usize..=2, 0usize..=1, 1usize..=2),
        (h, w) in (2usize..=4, 2usize..=4),
        bias in any::<bool>(),
        seed in any::<u64>(),
    ) {
        prop_assume!(h + 2 * pad > dil * (kh - 1) && w + 2 * pad > dil * (kw - 1));
        let p = Conv2dParams::new((stride, stride), (pad, pad)).with_dilation((dil, 1)).with_groups(groups);
        let conv = Conv2d::with_options(cin * groups, cout * groups, (kh, kw), p, bias, &mut Rng::seed(seed));
        let x = Tensor::randn([n, cin * groups, h, w], 0.0, 1.0, DType::F64, &mut Rng::seed(seed ^ 3));
        check_module(&conv, x)?;
    }

    #[test]
    fn conv_transpose2d(
        (n, cin, cout, groups) in (1usize..=2, 1usize..=2, 1usize..=2, 1usize..=2),
        (kh, kw, stride, pad, dil, outpad) in (1usize..=3, 1usize..=2, 1usize..=2, 0usize..=1, 1usize..=2, 0usize..=1),
        (h, w) in (1usize..=3, 1usize..=3),
        bias in any::<bool>(),
        seed in any::<u64>(),
    ) {
        prop_assume!(outpad < stride.max(dil));
        // the output must not be empty: (h − 1)·s − 2p + d·(k − 1) + op + 1 ≥ 1
        prop_assume!((h - 1) * stride + dil * (kh - 1) + outpad >= 2 * pad);
        prop_assume!((w - 1) * stride + (kw - 1) >= 2 * pad);
        let p = ConvTranspose2dParams::new((stride, stride), (pad, pad))
            .with_dilation((dil, 1))
            .with_output_padding((outpad, 0))
            .with_groups(groups);
        let conv = ConvTranspose2d::with_options(cin * groups, cout * groups, (kh, kw), p, bias, &mut Rng::seed(seed));
        let x = Tensor::randn([n, cin * groups, h, w], 0.0, 1.0, DType::F64, &mut Rng::seed(seed ^ 5));
        check_module(&conv, x)?;
    }

    #[test]
    fn pooling_and_upsampling(
        x in tensor_in(shape(4..=4, 2..=4), -2.0, 2.0),
        k in 1usize..=2,
        pad in 0usize..=1,
        scale in 1usize..=2,
    ) {
        prop_assume!(pad * 2 <= k);
        check_module(&AvgPool2d::with_options((k, k), (k, 1), (pad, pad)), x.clone())?;
        // max pooling has no derivative where a window's maximum is tied, and the generated
        // values can repeat: it is checked on x's ranks (same order, values 0.03 apart)
        let v = x.to_vec_f64();
        let mut order: Vec<usize> = (0..v.len()).collect();
        order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let mut ranked = vec![0.0; v.len()];
        for (r, &i) in order.iter().enumerate() {
            ranked[i] = r as f64 * 0.03 - 1.5;
        }
        let xr = Tensor::from_vec(ranked, *x.shape());
        check_module(&MaxPool2d::with_options((k, k), (1, k), (pad, pad)), xr)?;
        check_module(&Upsample::new(scale), x)?;
    }

    #[test]
    fn residual_block(seed in any::<u64>()) {
        let rb = ResidualBlock::cyclegan(2, &mut Rng::seed(seed));
        let x = Tensor::randn([1, 2, 3, 3], 0.0, 1.0, DType::F64, &mut Rng::seed(seed ^ 9));
        // finite differences that straddle the ReLU's kink measure neither side's slope (one
        // seed put an input 3.5e-6 from it: analytic −1.73, numeric −1.51)
        prop_assume!(relu_margin(&rb, &x) > 1e-3);
        check_module(&rb, x)?;
    }

    #[test]
    fn sequential_mlp(x in tensor_in(shape(2..=2, 2..=3), -2.0, 2.0), seed in any::<u64>()) {
        let mut rng = Rng::seed(seed);
        let i = x.dims()[1];
        let net = Sequential::new()
            .add(Linear::new(i, 3, true, &mut rng))
            .add(LayerNorm::new(&[3]))
            .add(Tanh::new())
            .add(Linear::new(3, 2, true, &mut rng))
            .add(Softplus::new());
        check_module(&net, x)?;
    }
}

/// The smallest |input| of the ReLU inside a residual block's branch, computed like the module
/// (f32 parameters), far more accurate than the margin it is compared with.
fn relu_margin(rb: &ResidualBlock, x: &Tensor) -> f64 {
    let tape = Tape::new();
    let body = rb.conv_block();
    let mut h = tape.constant(x.to_dtype(DType::F32));
    for i in 0..body.len() {
        let layer = body.get(i).unwrap();
        if layer.describe() == "ReLU()" {
            return h
                .value()
                .to_vec_f64()
                .iter()
                .fold(f64::INFINITY, |m, v| m.min(v.abs()));
        }
        h = layer.forward(&h);
    }
    f64::INFINITY
}

/// One backward pass of a weighted sum of the output; every parameter must get a non-zero
/// gradient.
fn assert_every_param_learns(name: &str, m: &dyn Module, x: Tensor) {
    let tape = Tape::new();
    let y = m.forward(&tape.constant(x));
    let w = Tensor::randn(*y.shape(), 0.0, 1.0, y.dtype(), &mut Rng::seed(11));
    m.zero_grad();
    y.mul(&tape.constant(w)).sum_all().backward();
    assert!(!m.params().is_empty(), "{name}: no parameters to check");
    for (p, v) in m.named_params() {
        let g = v
            .grad()
            .unwrap_or_else(|| panic!("{name}: parameter {p} got no gradient"));
        assert!(
            g.to_vec_f64().iter().any(|x| *x != 0.0),
            "{name}: parameter {p} got an all-zero gradient"
        );
        assert!(
            g.all_finite(),
            "{name}: parameter {p} got a non-finite gradient"
        );
    }
}

#[test]
fn every_parameter_of_every_layer_gets_a_gradient() {
    let mut rng = Rng::seed(0);
    let x2 = Tensor::randn([4, 6], 0.0, 1.0, DType::F32, &mut rng);
    let x3 = Tensor::randn([4, 3, 5], 0.0, 1.0, DType::F32, &mut rng);
    let x4 = Tensor::randn([2, 3, 4, 4], 0.0, 1.0, DType::F32, &mut rng);
    let affine_in = NormOptions::instance_norm().with_affine(true);
    let cases: Vec<(&str, Box<dyn Module>, Tensor)> = vec![
        (
            "Linear",
            Box::new(Linear::new(6, 3, true, &mut rng)),
            x2.clone(),
        ),
        ("BatchNorm1d", Box::new(BatchNorm1d::new(6)), x2.clone()),
        (
            "BatchNorm1d [N, C, L]",
            Box::new(BatchNorm1d::new(3)),
            x3.clone(),
        ),
        ("BatchNorm2d", Box::new(BatchNorm2d::new(3)), x4.clone()),
        (
            "InstanceNorm2d affine",
            Box::new(InstanceNorm2d::with_options(3, affine_in)),
            x4.clone(),
        ),
        ("LayerNorm", Box::new(LayerNorm::new(&[6])), x2.clone()),
        (
            "LayerNorm 2-D",
            Box::new(LayerNorm::new(&[3, 5])),
            x3.clone(),
        ),
        (
            "Embedding",
            Box::new(Embedding::new(5, 4, &mut rng)),
            Tensor::from_vec(vec![0.0f32, 1.0, 2.0, 3.0, 4.0], [5]),
        ),
        (
            "Sequential",
            Box::new(
                Sequential::new()
                    .add(Linear::new(6, 8, true, &mut rng))
                    .add(BatchNorm1d::new(8))
                    .add(LeakyReLU::new(0.2))
                    .add(Dropout::new(0.3, &mut rng))
                    .add(Linear::new(8, 8, true, &mut rng))
                    .add(LayerNorm::new(&[8]))
                    .add(Linear::new(8, 1, true, &mut rng))
                    .add(Sigmoid::new()),
            ),
            x2.clone(),
        ),
    ];
    for (name, m, x) in cases {
        assert_every_param_learns(name, m.as_ref(), x);
    }
}

#[test]
fn batchnorm_eval_parameters_learn_too() {
    let bn = BatchNorm2d::new(3);
    let mut rng = Rng::seed(1);
    let tape = Tape::new();
    bn.forward(&tape.constant(Tensor::randn([4, 3, 2, 2], 0.0, 1.0, DType::F32, &mut rng)));
    bn.eval();
    assert_every_param_learns(
        "BatchNorm2d eval",
        &bn,
        Tensor::randn([1, 3, 2, 2], 0.0, 1.0, DType::F32, &mut rng),
    );
}
