//! Layers against values computed by hand and PyTorch's semantics: forward values, running
//! statistics, default initialisation, names, modes, freezing and shared parameters.

use autograd::{Param, Tape, Var};
use minimax_nn::init::{self, FanMode, Nonlinearity};
use minimax_nn::layers::*;
use minimax_nn::Module;
use tensor::{DType, Rng, Tensor};

fn f32s(v: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.iter().map(|&x| x as f32).collect::<Vec<f32>>(), shape)
}

fn assert_close(got: &Tensor, want: &[f64], tol: f64) {
    let g = got.to_vec_f64();
    assert_eq!(g.len(), want.len(), "length: got {g:?}, want {want:?}");
    for (i, (a, b)) in g.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= tol,
            "element {i}: got {a}, want {b} (all: {g:?})"
        );
    }
}

fn run(m: &dyn Module, x: Tensor) -> Tensor {
    let tape = Tape::new();
    m.forward(&tape.constant(x)).value().clone()
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let s = (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n).sqrt();
    (m, s)
}

// ------------------------------------------------------------------ Linear

#[test]
fn linear_forward_by_hand() {
    let lin = Linear::new(2, 3, true, &mut Rng::seed(0));
    lin.weight
        .set_value(f32s(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]));
    lin.bias
        .as_ref()
        .unwrap()
        .set_value(f32s(&[0.5, -1.0, 0.0], &[3]));
    let y = run(&lin, f32s(&[1.0, 1.0, 2.0, -1.0], &[2, 2]));
    // [1, 1]: [3.5, 6, 11]; [2, -1]: [0.5, 1, 4]
    assert_eq!(y.dims(), &[2, 3]);
    assert_close(&y, &[3.5, 6.0, 11.0, 0.5, 1.0, 4.0], 1e-6);
    // batch dimensions and a 1-D input
    assert_eq!(
        run(&lin, Tensor::ones([4, 5, 2], DType::F32)).dims(),
        &[4, 5, 3]
    );
    assert_close(&run(&lin, f32s(&[1.0, 0.0], &[2])), &[1.5, 2.0, 5.0], 1e-6);
    // without bias
    let nob = Linear::from_params(lin.weight.clone(), None);
    assert_close(
        &run(&nob, f32s(&[1.0, 1.0], &[1, 2])),
        &[3.0, 7.0, 11.0],
        1e-6,
    );
}

#[test]
fn linear_default_init_is_pytorch_kaiming_uniform() {
    let lin = Linear::new(100, 10, true, &mut Rng::seed(1));
    assert_eq!(lin.weight.value().dims(), &[10, 100]);
    let w = lin.weight.value().to_vec_f64();
    assert!(
        w.iter().all(|v| v.abs() <= 0.1),
        "weights must lie in ±1/√100"
    );
    let (m, s) = mean_std(&w);
    let want = 0.1 / 3f64.sqrt();
    assert!(m.abs() < 0.01, "mean {m}");
    assert!((s - want).abs() < 0.1 * want, "std {s}, want {want} ± 10 %");
    let b = lin.bias.as_ref().unwrap().value().to_vec_f64();
    assert!(b.iter().all(|v| v.abs() <= 0.1));
    assert!(b.iter().any(|v| *v != 0.0));
    // same seed, same weights; another seed, other weights
    let again = Linear::new(100, 10, true, &mut Rng::seed(1));
    assert_eq!(again.weight.value().to_vec_f64(), w);
    assert_ne!(
        Linear::new(100, 10, true, &mut Rng::seed(2))
            .weight
            .value()
            .to_vec_f64(),
        w
    );
}

// ------------------------------------------------------------------ init

#[test]
fn fans_gains_and_init_distributions() {
    assert_eq!(init::fan_in_out(&[10, 100]), (100, 10));
    // Conv2d weight [out, in/groups, kh, kw]
    assert_eq!(init::fan_in_out(&[64, 3, 4, 4]), (3 * 16, 64 * 16));
    // ConvTranspose2d weight [in, out/groups, kh, kw]: PyTorch takes fan_in from dim 1
    assert_eq!(init::fan_in_out(&[128, 64, 4, 4]), (64 * 16, 128 * 16));
    assert_eq!(init::calculate_gain(Nonlinearity::Linear, None), 1.0);
    assert_eq!(init::calculate_gain(Nonlinearity::Sigmoid, None), 1.0);
    assert_eq!(init::calculate_gain(Nonlinearity::Relu, None), 2f64.sqrt());
    assert_eq!(init::calculate_gain(Nonlinearity::Tanh, None), 5.0 / 3.0);
    assert!(
        (init::calculate_gain(Nonlinearity::LeakyRelu, Some(0.2)) - (2.0 / 1.04f64).sqrt()).abs()
            < 1e-15
    );
    assert!(
        (init::calculate_gain(Nonlinearity::LeakyRelu, None) - (2.0 / 1.0001f64).sqrt()).abs()
            < 1e-15
    );

    let mut rng = Rng::seed(3);
    let p = Param::new("w", Tensor::zeros([200, 300], DType::F32));
    init::xavier_uniform(&p, 2.0, &mut rng);
    let bound = 2.0 * (6.0 / 500.0f64).sqrt();
    let v = p.value().to_vec_f64();
    assert!(v.iter().all(|x| x.abs() <= bound + 1e-6));
    let (_, s) = mean_std(&v);
    assert!((s - bound / 3f64.sqrt()).abs() < 0.02 * bound);

    init::xavier_normal(&p, 1.0, &mut rng);
    let (m, s) = mean_std(&p.value().to_vec_f64());
    let want = (2.0 / 500.0f64).sqrt();
    assert!(
        m.abs() < 0.1 * want && (s - want).abs() < 0.02 * want,
        "xavier_normal {m} {s}"
    );

    init::kaiming_normal(&p, 0.0, FanMode::FanOut, Nonlinearity::Relu, &mut rng);
    let (_, s) = mean_std(&p.value().to_vec_f64());
    let want = 2f64.sqrt() / 200f64.sqrt();
    assert!(
        (s - want).abs() < 0.02 * want,
        "kaiming_normal fan_out {s} vs {want}"
    );

    init::kaiming_uniform(&p, 0.2, FanMode::FanIn, Nonlinearity::LeakyRelu, &mut rng);
    let bound = 3f64.sqrt() * (2.0 / 1.04f64).sqrt() / 300f64.sqrt();
    let v = p.value().to_vec_f64();
    assert!(v.iter().all(|x| x.abs() <= bound + 1e-6));
    assert!(v.iter().any(|x| x.abs() > 0.95 * bound));

    init::normal(&p, 1.0, 0.02, &mut rng);
    let (m, s) = mean_std(&p.value().to_vec_f64());
    assert!((m - 1.0).abs() < 0.001 && (s - 0.02).abs() < 0.001);
    init::uniform(&p, 2.0, 3.0, &mut rng);
    assert!(p
        .value()
        .to_vec_f64()
        .iter()
        .all(|x| (2.0..3.0).contains(x)));
    init::constant(&p, 0.5);
    assert!(p.value().to_vec_f64().iter().all(|x| *x == 0.5));
    // the dtype and shape are kept
    let q = Param::new("q", Tensor::zeros([3, 4], DType::F64));
    init::normal(&q, 0.0, 1.0, &mut rng);
    assert_eq!(
        (q.value().dtype(), q.value().dims()),
        (DType::F64, &[3usize, 4][..])
    );
}

#[test]
fn init_dcgan_touches_norms_but_not_linear_and_is_seeded() {
    let build = || {
        Sequential::new()
            .add(Linear::new(4, 600, true, &mut Rng::seed(0)))
            .add(BatchNorm1d::new(600))
            .add(ReLU::new())
    };
    let m = build();
    let before = m.get(0).unwrap().params()[0].value().to_vec_f64();
    m.get(1).unwrap().params()[1].set_value(Tensor::ones([600], DType::F32));
    init::init_dcgan(&m, &mut Rng::seed(5));
    assert_eq!(
        m.get(0).unwrap().params()[0].value().to_vec_f64(),
        before,
        "Linear is not a conv"
    );
    let bn = m.get(1).unwrap().params();
    let (mean, std) = mean_std(&bn[0].value().to_vec_f64());
    assert!(
        (mean - 1.0).abs() < 0.005 && (std - 0.02).abs() < 0.003,
        "norm weight N(1, 0.02): {mean} {std}"
    );
    assert!(
        bn[1].value().to_vec_f64().iter().all(|x| *x == 0.0),
        "norm bias 0"
    );
    let m2 = build();
    init::init_dcgan(&m2, &mut Rng::seed(5));
    assert_eq!(
        m2.get(1).unwrap().params()[0].value().to_vec_f64(),
        bn[0].value().to_vec_f64()
    );

    // CycleGAN's init also covers Linear
    init::init_cyclegan(&m, 0.02, &mut Rng::seed(6));
    let lin = m.get(0).unwrap().params();
    let (mean, std) = mean_std(&lin[0].value().to_vec_f64());
    assert!(
        mean.abs() < 0.003 && (std - 0.02).abs() < 0.002,
        "Linear weight N(0, 0.02): {mean} {std}"
    );
    assert!(lin[1].value().to_vec_f64().iter().all(|x| *x == 0.0));
    assert_eq!(init::class_name(m.get(1).unwrap()), "BatchNorm1d");
}

// ------------------------------------------------------------------ batch norm

#[test]
fn batchnorm1d_train_eval_and_running_stats_by_hand() {
    let eps = 1e-5;
    let bn = BatchNorm1d::new(2);
    assert!(bn.is_training());
    bn.weight().unwrap().set_value(f32s(&[2.0, 1.0], &[2]));
    bn.bias().unwrap().set_value(f32s(&[0.0, 1.0], &[2]));
    // channel 0: [1, 3, 5] mean 3, biased var 8/3, unbiased 4
    // channel 1: [2, 6, 10] mean 6, biased var 32/3, unbiased 16
    let y = run(&bn, f32s(&[1.0, 2.0, 3.0, 6.0, 5.0, 10.0], &[3, 2]));
    let s0 = (8.0f64 / 3.0 + eps).sqrt();
    let s1 = (32.0f64 / 3.0 + eps).sqrt();
    let want = [
        2.0 * -2.0 / s0,
        -4.0 / s1 + 1.0,
        0.0,
        1.0,
        2.0 * 2.0 / s0,
        4.0 / s1 + 1.0,
    ];
    assert_close(&y, &want, 1e-5);
    assert_close(&bn.running_mean().unwrap().value(), &[0.3, 0.6], 1e-6);
    assert_close(
        &bn.running_var().unwrap().value(),
        &[0.9 + 0.4, 0.9 + 1.6],
        1e-6,
    );
    // second step: channel 0 [0, 2] mean 1, unbiased var 2; channel 1 [0, 4] mean 2, unbiased 8
    run(&bn, f32s(&[0.0, 0.0, 2.0, 4.0], &[2, 2]));
    let rm = [0.9 * 0.3 + 0.1 * 1.0, 0.9 * 0.6 + 0.1 * 2.0];
    let rv = [0.9 * 1.3 + 0.1 * 2.0, 0.9 * 2.5 + 0.1 * 8.0];
    assert_close(&bn.running_mean().unwrap().value(), &rm, 1e-6);
    assert_close(&bn.running_var().unwrap().value(), &rv, 1e-6);
    // eval: the running statistics, and no update
    bn.eval();
    assert!(!bn.is_training());
    let y = run(&bn, f32s(&[1.0, 1.0], &[1, 2]));
    let want = [
        2.0 * (1.0 - rm[0]) / (rv[0] + eps).sqrt(),
        (1.0 - rm[1]) / (rv[1] + eps).sqrt() + 1.0,
    ];
    assert_close(&y, &want, 1e-5);
    assert_close(&bn.running_mean().unwrap().value(), &rm, 1e-6);
    // [N, C, L]: statistics over N and L
    let bn = BatchNorm1d::new(1);
    let y = run(&bn, f32s(&[1.0, 3.0, 5.0, 7.0], &[2, 1, 2]));
    let s = (5.0f64 + eps).sqrt();
    assert_close(&y, &[-3.0 / s, -1.0 / s, 1.0 / s, 3.0 / s], 1e-5);
    assert_close(
        &bn.running_var().unwrap().value(),
        &[0.9 + 0.1 * 20.0 / 3.0],
        1e-6,
    );
}

#[test]
fn batchnorm2d_statistics_over_batch_and_space() {
    let bn = BatchNorm2d::new(2);
    // channel 0 holds 0..4 over (n, h, w), channel 1 holds 10 × that
    let x = f32s(&[0.0, 1.0, 0.0, 10.0, 2.0, 3.0, 20.0, 30.0], &[2, 2, 1, 2]);
    let y = run(&bn, x);
    // mean 1.5, biased var 1.25 (channel 0); 15, 125 (channel 1): both normalise to the same
    let s = (1.25f64 + 1e-5).sqrt();
    let s1 = (125.0f64 + 1e-5).sqrt();
    assert_close(
        &y,
        &[
            -1.5 / s,
            -0.5 / s,
            -15.0 / s1,
            -5.0 / s1,
            0.5 / s,
            1.5 / s,
            5.0 / s1,
            15.0 / s1,
        ],
        1e-5,
    );
    assert_close(&bn.running_mean().unwrap().value(), &[0.15, 1.5], 1e-6);
    assert_close(
        &bn.running_var().unwrap().value(),
        &[0.9 + 0.1 * 5.0 / 3.0, 0.9 + 0.1 * 500.0 / 3.0],
        1e-4,
    );
    // without running statistics: batch statistics in eval mode too
    let free =
        BatchNorm2d::with_options(1, NormOptions::batch_norm().with_track_running_stats(false));
    free.eval();
    assert!(free.own_buffers().is_empty());
    let y = run(&free, f32s(&[1.0, 3.0], &[1, 1, 1, 2]));
    assert_close(
        &y,
        &[-1.0 / (1.0f64 + 1e-5).sqrt(), 1.0 / (1.0f64 + 1e-5).sqrt()],
        1e-5,
    );
}

#[test]
#[should_panic(expected = "more than 1 value per channel")]
fn batchnorm_training_on_one_value_per_channel_panics() {
    run(&BatchNorm1d::new(3), Tensor::ones([1, 3], DType::F32));
}

#[test]
fn instancenorm_per_sample_and_channel() {
    let inorm = InstanceNorm2d::new(2);
    assert!(inorm.own_params().is_empty() && inorm.own_buffers().is_empty());
    // sample 0: channel 0 [1, 3] → ±1/√(1+eps), channel 1 [0, 0, …]; sample 1: channel 0 [0, 4]
    let x = f32s(&[1.0, 3.0, 5.0, 5.0, 0.0, 4.0, -1.0, 1.0], &[2, 2, 1, 2]);
    let y = run(&inorm, x.clone());
    let a = 1.0 / (1.0f64 + 1e-5).sqrt();
    let b = 2.0 / (4.0f64 + 1e-5).sqrt();
    assert_close(&y, &[-a, a, 0.0, 0.0, -b, b, -a, a], 1e-5);
    // eval mode without running statistics: still instance statistics
    inorm.eval();
    assert_close(
        &run(&inorm, x.clone()),
        &[-a, a, 0.0, 0.0, -b, b, -a, a],
        1e-5,
    );

    // affine and tracked: running stats are the per-sample stats averaged over the batch
    let opts = NormOptions::instance_norm()
        .with_affine(true)
        .with_track_running_stats(true);
    let t = InstanceNorm2d::with_options(2, opts);
    assert_eq!(t.own_params().len(), 2);
    t.weight().unwrap().set_value(f32s(&[3.0, 1.0], &[2]));
    let y = run(&t, x.clone());
    assert_close(
        &y,
        &[-3.0 * a, 3.0 * a, 0.0, 0.0, -3.0 * b, 3.0 * b, -a, a],
        1e-5,
    );
    // channel 0 means 2 and 2, unbiased vars 2 and 8; channel 1 means 5 and 0, vars 0 and 2
    assert_close(&t.running_mean().unwrap().value(), &[0.2, 0.25], 1e-6);
    assert_close(
        &t.running_var().unwrap().value(),
        &[0.9 + 0.5, 0.9 + 0.1],
        1e-6,
    );
    t.eval();
    let y = run(&t, f32s(&[0.2, 0.2, 0.25, 0.25], &[1, 2, 1, 2]));
    assert_close(&y, &[0.0; 4], 1e-6);
}

#[test]
fn layernorm_over_trailing_dims() {
    let ln = LayerNorm::new(&[3]);
    ln.weight
        .as_ref()
        .unwrap()
        .set_value(f32s(&[1.0, 2.0, 3.0], &[3]));
    ln.bias
        .as_ref()
        .unwrap()
        .set_value(f32s(&[0.0, 0.0, 1.0], &[3]));
    let y = run(&ln, f32s(&[1.0, 2.0, 3.0, 0.0, 0.0, 6.0], &[2, 3]));
    let s = (2.0f64 / 3.0 + 1e-5).sqrt();
    let t = (8.0f64 + 1e-5).sqrt();
    assert_close(
        &y,
        &[
            -1.0 / s,
            0.0,
            3.0 / s + 1.0,
            -2.0 / t,
            -4.0 / t,
            3.0 * 4.0 / t + 1.0,
        ],
        1e-5,
    );
    // two trailing dims, no affine: the whole [2, 2] block of each sample is one group
    let ln = LayerNorm::with_options(&[2, 2], 1e-5, false);
    assert!(ln.own_params().is_empty());
    let y = run(&ln, f32s(&[1.0, 3.0, 1.0, 3.0], &[1, 2, 2]));
    let a = 1.0 / (1.0f64 + 1e-5).sqrt();
    assert_close(&y, &[-a, a, -a, a], 1e-5);
}

// ------------------------------------------------------------------ dropout

#[test]
fn dropout_zeros_scales_is_seeded_and_identity_in_eval() {
    let n = 20_000;
    let x = Tensor::ones([n], DType::F32);
    let d = Dropout::new(0.3, &mut Rng::seed(9));
    let y = run(&d, x.clone()).to_vec_f64();
    let zeros = y.iter().filter(|v| **v == 0.0).count() as f64 / n as f64;
    assert!((zeros - 0.3).abs() < 0.015, "fraction of zeros {zeros}");
    assert!(
        y.iter().all(|v| *v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-6),
        "kept values are scaled by 1/(1-p)"
    );
    // the same seed gives the same mask; the next call another one
    let d2 = Dropout::new(0.3, &mut Rng::seed(9));
    assert_eq!(run(&d2, x.clone()).to_vec_f64(), y);
    assert_ne!(run(&d2, x.clone()).to_vec_f64(), y);
    // restoring the generator's state replays the mask
    let st = d.rng_state();
    let a = run(&d, x.clone()).to_vec_f64();
    d.set_rng_state(st);
    assert_eq!(run(&d, x.clone()).to_vec_f64(), a);
    d.eval();
    assert_eq!(run(&d, x.clone()).to_vec_f64(), vec![1.0; n]);
    // edge probabilities
    assert_eq!(
        run(&Dropout::new(0.0, &mut Rng::seed(1)), x.clone()).to_vec_f64(),
        vec![1.0; n]
    );
    assert_eq!(
        run(&Dropout::new(1.0, &mut Rng::seed(1)), x.clone()).to_vec_f64(),
        vec![0.0; n]
    );
    // the gradient goes through the kept elements only, scaled
    let tape = Tape::new();
    let xv = tape.leaf(Tensor::ones([100], DType::F64));
    let d = Dropout::new(0.5, &mut Rng::seed(4));
    let y = d.forward(&xv);
    y.sum_all().backward();
    assert_eq!(xv.grad().unwrap().to_vec_f64(), y.value().to_vec_f64());
}

#[test]
fn dropout2d_drops_whole_channels() {
    let d = Dropout2d::new(0.5, &mut Rng::seed(2));
    let y = run(&d, Tensor::ones([8, 16, 3, 3], DType::F32)).to_vec_f64();
    let mut dropped = 0;
    for ch in y.chunks(9) {
        assert!(
            ch.iter().all(|v| *v == ch[0]),
            "a channel is all kept or all dropped"
        );
        assert!(ch[0] == 0.0 || ch[0] == 2.0);
        dropped += (ch[0] == 0.0) as usize;
    }
    assert!(
        (dropped as f64 / 128.0 - 0.5).abs() < 0.15,
        "dropped {dropped} of 128 channels"
    );
    d.eval();
    assert_eq!(
        run(&d, Tensor::ones([2, 2, 2, 2], DType::F32)).to_vec_f64(),
        vec![1.0; 16]
    );
}

// ------------------------------------------------------------------ activations

#[test]
fn activations_by_hand() {
    let x = f32s(&[-2.0, -0.5, 0.0, 1.5], &[4]);
    assert_close(&run(&ReLU::new(), x.clone()), &[0.0, 0.0, 0.0, 1.5], 0.0);
    assert_close(
        &run(&LeakyReLU::new(0.2), x.clone()),
        &[-0.4, -0.1, 0.0, 1.5],
        1e-7,
    );
    assert_close(
        &run(&LeakyReLU::default(), x.clone()),
        &[-0.02, -0.005, 0.0, 1.5],
        1e-7,
    );
    let th: Vec<f64> = [-2.0f64, -0.5, 0.0, 1.5].iter().map(|v| v.tanh()).collect();
    assert_close(&run(&Tanh::new(), x.clone()), &th, 1e-6);
    let sg: Vec<f64> = [-2.0f64, -0.5, 0.0, 1.5]
        .iter()
        .map(|v| 1.0 / (1.0 + (-v).exp()))
        .collect();
    assert_close(&run(&Sigmoid::new(), x.clone()), &sg, 1e-6);
    // softplus: ln(1 + e^(βx))/β, and x itself where βx > threshold
    let xs = [-2.0f64, 0.0, 1.5, 19.0, 30.0];
    let want: Vec<f64> = xs
        .iter()
        .map(|&v| if v > 20.0 { v } else { (1.0 + v.exp()).ln() })
        .collect();
    let x64 = Tensor::from_vec(xs.to_vec(), [5]);
    assert_close(&run(&Softplus::new(), x64.clone()), &want, 1e-12);
    let sp = Softplus::with_options(2.0, 3.0);
    let want: Vec<f64> = xs
        .iter()
        .map(|&v| {
            if 2.0 * v > 3.0 {
                v
            } else {
                (1.0 + (2.0 * v).exp()).ln() / 2.0
            }
        })
        .collect();
    assert_close(&run(&sp, x64), &want, 1e-12);
}

#[test]
fn gradient_reversal_is_identity_forward_and_negates_backward() {
    let tape = Tape::new();
    let x = tape.leaf(Tensor::from_vec(vec![1.0f64, -2.0], [2]));
    let y = GradientReversal::new(0.5).forward(&x);
    assert_eq!(y.value().to_vec_f64(), vec![1.0, -2.0]);
    y.mul(&tape.constant(Tensor::from_vec(vec![3.0f64, 4.0], [2])))
        .sum_all()
        .backward();
    assert_eq!(x.grad().unwrap().to_vec_f64(), vec![-1.5, -2.0]);
}

// ------------------------------------------------------------------ shape layers

#[test]
fn pads_follow_pytorch_left_right_top_bottom() {
    let x = f32s(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[1, 1, 2, 3]);
    // (left 1, right 2, top 0, bottom 1): width [a b c] → [b a b c b a], height [r0 r1] → [r0 r1 r0]
    let y = run(&ReflectionPad2d::new((1, 2, 0, 1)), x.clone());
    assert_eq!(y.dims(), &[1, 1, 3, 6]);
    #[rustfmt::skip]
    let want = [2.0, 1.0, 2.0, 3.0, 2.0, 1.0,
                5.0, 4.0, 5.0, 6.0, 5.0, 4.0,
                2.0, 1.0, 2.0, 3.0, 2.0, 1.0];
    assert_close(&y, &want, 0.0);
    // (left 1, right 0, top 2, bottom 0)
    let y = run(&ZeroPad2d::new((1, 0, 2, 0)), x.clone());
    assert_eq!(y.dims(), &[1, 1, 4, 4]);
    #[rustfmt::skip]
    let want = [0.0, 0.0, 0.0, 0.0,
                0.0, 0.0, 0.0, 0.0,
                0.0, 1.0, 2.0, 3.0,
                0.0, 4.0, 5.0, 6.0];
    assert_close(&y, &want, 0.0);
    // a [C, H, W] input works too
    assert_eq!(
        run(&ReflectionPad2d::all(1), f32s(&[1.0; 6], &[1, 2, 3])).dims(),
        &[1, 4, 5]
    );
    assert_eq!(
        run(&ZeroPad2d::all(2), f32s(&[1.0; 6], &[1, 1, 2, 3])).dims(),
        &[1, 1, 6, 7]
    );
}

#[test]
#[should_panic(expected = "reflect padding")]
fn reflection_pad_must_be_smaller_than_the_input() {
    run(
        &ReflectionPad2d::all(2),
        Tensor::ones([1, 1, 2, 2], DType::F32),
    );
}

#[test]
fn flatten_and_unflatten_shapes() {
    let x = Tensor::zeros([2, 3, 4, 5], DType::F32);
    assert_eq!(run(&Flatten::new(), x.clone()).dims(), &[2, 60]);
    assert_eq!(run(&Flatten::with_dims(0, 1), x.clone()).dims(), &[6, 4, 5]);
    assert_eq!(
        run(&Flatten::with_dims(-2, -1), x.clone()).dims(),
        &[2, 3, 20]
    );
    let flat = Tensor::zeros([2, 60], DType::F32);
    assert_eq!(
        run(&Unflatten::new(1, &[3, 4, 5]), flat.clone()).dims(),
        &[2, 3, 4, 5]
    );
    assert_eq!(run(&Unflatten::new(-1, &[6, 10]), flat).dims(), &[2, 6, 10]);
    // values keep their order
    let x = f32s(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], &[1, 6]);
    let y = run(&Unflatten::new(1, &[2, 3]), x);
    assert_eq!(y.get(&[0, 1, 0]), 3.0);
}

// ------------------------------------------------------------------ embedding

#[test]
fn embedding_looks_up_rows_and_accumulates_repeated_ones() {
    let mut rng = Rng::seed(0);
    let emb = Embedding::new(4, 3, &mut rng);
    let (_, s) = mean_std(
        &Embedding::new(100, 100, &mut rng)
            .weight
            .value()
            .to_vec_f64(),
    );
    assert!((s - 1.0).abs() < 0.03, "N(0, 1) init, std {s}");
    emb.weight.set_value(f32s(
        &(0..12).map(|v| v as f64).collect::<Vec<_>>(),
        &[4, 3],
    ));
    let tape = Tape::new();
    let idx = tape.constant(f32s(&[2.0, 0.0, 2.0], &[3]));
    let y = emb.forward(&idx);
    assert_eq!(y.dims(), &[3, 3]);
    assert_close(
        y.value(),
        &[6.0, 7.0, 8.0, 0.0, 1.0, 2.0, 6.0, 7.0, 8.0],
        0.0,
    );
    y.sum_all().backward();
    let g = emb.weight.grad().unwrap();
    assert_close(
        &g,
        &[1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0, 0.0, 0.0],
        0.0,
    );
    // index tensors of any shape
    assert_eq!(
        run(&emb, f32s(&[1.0, 3.0, 0.0, 0.0], &[2, 2])).dims(),
        &[2, 2, 3]
    );
}

#[test]
#[should_panic(expected = "not an integer in 0..4")]
fn embedding_rejects_out_of_range_indices() {
    run(&Embedding::new(4, 2, &mut Rng::seed(0)), f32s(&[4.0], &[1]));
}

// ------------------------------------------------------------------ descriptions and trees

#[test]
fn describe_like_pytorch_repr() {
    let mut rng = Rng::seed(0);
    let cases: Vec<(Box<dyn Module>, &str)> = vec![
        (
            Box::new(Linear::new(2, 128, true, &mut rng)),
            "Linear(in_features=2, out_features=128, bias=True)",
        ),
        (
            Box::new(BatchNorm2d::new(64)),
            "BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)",
        ),
        (
            Box::new(BatchNorm1d::new(8)),
            "BatchNorm1d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)",
        ),
        (
            Box::new(InstanceNorm2d::new(3)),
            "InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)",
        ),
        (
            Box::new(LayerNorm::new(&[8])),
            "LayerNorm((8,), eps=1e-05, elementwise_affine=True)",
        ),
        (
            Box::new(LayerNorm::new(&[2, 3])),
            "LayerNorm((2, 3), eps=1e-05, elementwise_affine=True)",
        ),
        (Box::new(Dropout::new(0.5, &mut rng)), "Dropout(p=0.5)"),
        (
            Box::new(Dropout2d::new(0.25, &mut rng)),
            "Dropout2d(p=0.25)",
        ),
        (Box::new(ReLU::new()), "ReLU()"),
        (
            Box::new(LeakyReLU::new(0.2)),
            "LeakyReLU(negative_slope=0.2)",
        ),
        (Box::new(Tanh::new()), "Tanh()"),
        (Box::new(Sigmoid::new()), "Sigmoid()"),
        (
            Box::new(Softplus::new()),
            "Softplus(beta=1.0, threshold=20.0)",
        ),
        (
            Box::new(GradientReversal::new(1.0)),
            "GradientReversal(lambda=1.0)",
        ),
        (
            Box::new(ReflectionPad2d::all(3)),
            "ReflectionPad2d((3, 3, 3, 3))",
        ),
        (
            Box::new(ZeroPad2d::new((1, 0, 1, 0))),
            "ZeroPad2d((1, 0, 1, 0))",
        ),
        (
            Box::new(Embedding::new(10, 8, &mut rng)),
            "Embedding(10, 8)",
        ),
        (Box::new(Flatten::new()), "Flatten(start_dim=1, end_dim=-1)"),
        (
            Box::new(Unflatten::new(1, &[64, 4, 4])),
            "Unflatten(dim=1, unflattened_size=(64, 4, 4))",
        ),
        (Box::new(Sequential::new()), "Sequential"),
    ];
    for (m, want) in cases {
        assert_eq!(m.describe(), want);
    }
}

fn small_net(rng: &mut Rng) -> Sequential {
    Sequential::new()
        .add(Linear::new(2, 3, true, rng))
        .add(ReLU::new())
        .add(Linear::new(3, 1, false, rng))
}

#[test]
fn summary_text_of_a_small_sequential() {
    let net = small_net(&mut Rng::seed(0));
    let want = "Sequential(\n\
                \x20 (0): Linear(in_features=2, out_features=3, bias=True)  [weight [3, 2], bias [3]; 9 params]\n\
                \x20 (1): ReLU()\n\
                \x20 (2): Linear(in_features=3, out_features=1, bias=False)  [weight [1, 3]; 3 params]\n\
                )\n\
                Total parameters: 12\n";
    assert_eq!(net.summary(), want);
    assert_eq!(net.num_params(), 12);
}

#[test]
fn named_params_and_buffers_use_state_dict_paths() {
    let mut rng = Rng::seed(0);
    let net = Sequential::new()
        .add(Linear::new(2, 4, true, &mut rng))
        .add(BatchNorm1d::new(4))
        .add(
            Sequential::new()
                .add(LeakyReLU::new(0.2))
                .add(Linear::new(4, 1, true, &mut rng)),
        );
    let names: Vec<String> = net.named_params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "0.weight",
            "0.bias",
            "1.weight",
            "1.bias",
            "2.1.weight",
            "2.1.bias"
        ]
    );
    let bufs: Vec<String> = net.named_buffers().into_iter().map(|(n, _)| n).collect();
    assert_eq!(bufs, ["1.running_mean", "1.running_var"]);
    for (_, b) in net.named_buffers() {
        assert!(!b.requires_grad(), "buffers are not trained");
    }
    let tape = Tape::new();
    assert_eq!(
        net.forward(&tape.constant(Tensor::ones([5, 2], DType::F32)))
            .dims(),
        &[5, 1]
    );
}

#[test]
fn train_and_eval_reach_every_layer() {
    let mut rng = Rng::seed(0);
    let bn = std::rc::Rc::new(BatchNorm2d::new(2));
    let drop = std::rc::Rc::new(Dropout2d::new(0.5, &mut rng));
    let net = Sequential::new()
        .add(Sequential::new().add(bn.clone()).add(ReLU::new()))
        .add(drop.clone());
    assert!(bn.is_training() && drop.is_training());
    net.eval();
    assert!(!bn.is_training() && !drop.is_training());
    net.train(true);
    assert!(bn.is_training() && drop.is_training());
}

#[test]
fn set_requires_grad_false_freezes() {
    let net = small_net(&mut Rng::seed(0));
    net.set_requires_grad(false);
    let tape = Tape::new();
    let x = tape.leaf(Tensor::ones([4, 2], DType::F32));
    let y = net.forward(&x).sum_all();
    y.backward();
    for (n, p) in net.named_params() {
        assert!(p.grad().is_none(), "{n} is frozen but got a gradient");
    }
    assert!(
        x.grad().is_some(),
        "the input still gets its gradient (the G step through a frozen D)"
    );
    net.set_requires_grad(true);
    let tape = Tape::new();
    net.forward(&tape.constant(Tensor::ones([4, 2], DType::F32)))
        .sum_all()
        .backward();
    assert!(net.params().iter().all(|p| p.grad().is_some()));
}

#[test]
fn shared_parameters_accumulate_gradients_from_two_models() {
    let mut rng = Rng::seed(0);
    let enc = Linear::new(2, 2, false, &mut rng);
    enc.weight.set_value(f32s(&[1.0, 0.0, 0.0, 1.0], &[2, 2]));
    let head_a = Linear::new(2, 1, false, &mut rng);
    head_a.weight.set_value(f32s(&[1.0, 1.0], &[1, 2]));
    let head_b = Linear::new(2, 1, false, &mut rng);
    head_b.weight.set_value(f32s(&[2.0, -1.0], &[1, 2]));
    let model_a = Sequential::new().add(enc.shared()).add(head_a);
    let model_b = Sequential::new().add(enc.clone()).add(head_b);
    assert!(model_a.params()[0].ptr_eq(&model_b.params()[0]));
    let x = f32s(&[1.0, 2.0], &[1, 2]);
    // loss_a = [1 1]·W·x → dW = [1 1]ᵀ xᵀ = [[1, 2], [1, 2]]
    let tape = Tape::new();
    model_a
        .forward(&tape.constant(x.clone()))
        .sum_all()
        .backward();
    assert_close(&enc.weight.grad().unwrap(), &[1.0, 2.0, 1.0, 2.0], 1e-6);
    // loss_b = [2 −1]·W·x → dW = [[2, 4], [−1, −2]], added on
    let tape = Tape::new();
    model_b
        .forward(&tape.constant(x.clone()))
        .sum_all()
        .backward();
    assert_close(&enc.weight.grad().unwrap(), &[3.0, 6.0, 0.0, 0.0], 1e-6);
    // both models in one graph, sharing through an Rc
    enc.weight.zero_grad();
    let shared = std::rc::Rc::new(enc.clone());
    let a = Sequential::new().add(shared.clone());
    let b = Sequential::new().add(shared);
    let tape = Tape::new();
    let xv = tape.constant(x);
    a.forward(&xv)
        .add(&b.forward(&xv).mul_scalar(2.0))
        .sum_all()
        .backward();
    // d/dW Σ 3·W x = 3·[1 1]ᵀ xᵀ
    assert_close(&enc.weight.grad().unwrap(), &[3.0, 6.0, 3.0, 6.0], 1e-6);
    // a model holding the shared layer twice counts its parameters once (PyTorch does too)
    let both = Sequential::new().add(a).add(b);
    assert_eq!(both.params().len(), 2 * enc.params().len());
    assert_eq!(both.num_params(), enc.num_params());
}

#[test]
fn functional_forward_replaces_parameters() {
    let lin = Linear::new(2, 1, true, &mut Rng::seed(0));
    let tape = Tape::new();
    let x = tape.constant(Tensor::from_vec(vec![1.0f64, 2.0], [1, 2]));
    let w = tape.leaf(Tensor::from_vec(vec![3.0f64, 4.0], [1, 2]));
    let b = tape.leaf(Tensor::from_vec(vec![0.5f64], [1]));
    let y = functional_forward(&lin, &x, &[w.clone(), b.clone()]);
    assert_eq!(y.value().to_vec_f64(), vec![11.5]);
    y.sum_all().backward();
    assert_eq!(w.grad().unwrap().to_vec_f64(), vec![1.0, 2.0]);
    assert!(
        lin.weight.grad().is_none(),
        "the module's own parameters are not touched"
    );
    // bindings end with the call, also nested ones
    let inner: Var = with_params(&[(lin.weight.clone(), w.clone())], || {
        param_var(&x, &lin.weight)
    });
    assert_eq!(inner.value().to_vec_f64(), vec![3.0, 4.0]);
    assert_eq!(param_var(&x, &lin.weight).value().dtype(), DType::F32);
}

// ------------------------------------------------------------------ convolutions, pooling

#[test]
fn conv2d_forward_by_hand_and_shapes() {
    let mut rng = Rng::seed(0);
    let conv = Conv2d::new(1, 2, 2, &mut rng);
    assert_eq!(conv.weight.value().dims(), &[2, 1, 2, 2]);
    // filter 0 sums the window, filter 1 takes top-left minus bottom-right
    conv.weight.set_value(f32s(
        &[1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, -1.0],
        &[2, 1, 2, 2],
    ));
    conv.bias
        .as_ref()
        .unwrap()
        .set_value(f32s(&[0.5, 0.0], &[2]));
    let x = f32s(
        &(1..=9).map(|v| v as f64).collect::<Vec<_>>(),
        &[1, 1, 3, 3],
    );
    let y = run(&conv, x.clone());
    assert_eq!(y.dims(), &[1, 2, 2, 2]);
    // windows [1 2; 4 5] [2 3; 5 6] [4 5; 7 8] [5 6; 8 9]
    assert_close(&y, &[12.5, 16.5, 24.5, 28.5, -4.0, -4.0, -4.0, -4.0], 1e-5);
    // stride 2, padding 1: output (3 + 2 − 2)/2 + 1 = 2
    let strided = Conv2d::from_params(
        conv.weight.clone(),
        None,
        tensor::Conv2dParams::new((2, 2), (1, 1)),
    );
    let y = run(&strided, x);
    // padded windows: [0 0; 0 1] [0 0; 2 3] [0 4; 0 7] [5 6; 8 9]
    assert_close(&y, &[1.0, 5.0, 11.0, 28.0, -1.0, -3.0, -7.0, -4.0], 1e-5);
    // groups: weight [out, in/groups, kh, kw]
    let g = Conv2d::with_options(
        4,
        6,
        (3, 1),
        tensor::Conv2dParams::default().with_groups(2),
        false,
        &mut rng,
    );
    assert_eq!(g.weight.value().dims(), &[6, 2, 3, 1]);
    assert_eq!(
        run(&g, Tensor::zeros([2, 4, 5, 5], DType::F32)).dims(),
        &[2, 6, 3, 5]
    );
    let dil = Conv2d::with_options(
        1,
        1,
        (3, 3),
        tensor::Conv2dParams::default().with_dilation((2, 2)),
        true,
        &mut rng,
    );
    assert_eq!(
        run(&dil, Tensor::zeros([1, 1, 7, 6], DType::F32)).dims(),
        &[1, 1, 3, 2]
    );
}

#[test]
fn conv_transpose2d_forward_by_hand_and_shapes() {
    let mut rng = Rng::seed(0);
    let p = tensor::ConvTranspose2dParams::new((2, 2), (0, 0));
    let up = ConvTranspose2d::with_options(1, 1, (2, 2), p, true, &mut rng);
    assert_eq!(up.weight.value().dims(), &[1, 1, 2, 2]);
    up.weight
        .set_value(f32s(&[1.0, 2.0, 3.0, 4.0], &[1, 1, 2, 2]));
    up.bias.as_ref().unwrap().set_value(f32s(&[1.0], &[1]));
    // each input pixel stamps value·kernel into its own 2×2 block
    let y = run(&up, f32s(&[1.0, 10.0], &[1, 1, 1, 2]));
    assert_eq!(y.dims(), &[1, 1, 2, 4]);
    assert_close(&y, &[2.0, 3.0, 11.0, 21.0, 4.0, 5.0, 31.0, 41.0], 1e-5);
    // weight layout [in, out/groups, kh, kw]; DCGAN's first block maps 1×1 to 4×4
    let g = ConvTranspose2d::with_options(
        100,
        64,
        (4, 4),
        tensor::ConvTranspose2dParams::default(),
        false,
        &mut rng,
    );
    assert_eq!(g.weight.value().dims(), &[100, 64, 4, 4]);
    assert_eq!(
        run(&g, Tensor::zeros([2, 100, 1, 1], DType::F32)).dims(),
        &[2, 64, 4, 4]
    );
    let p = tensor::ConvTranspose2dParams::new((2, 2), (1, 1))
        .with_output_padding((1, 1))
        .with_groups(2);
    let h = ConvTranspose2d::with_options(4, 6, (3, 3), p, true, &mut rng);
    assert_eq!(h.weight.value().dims(), &[4, 3, 3, 3]);
    assert_eq!(h.out_channels(), 6);
    assert_eq!(
        run(&h, Tensor::zeros([1, 4, 5, 5], DType::F32)).dims(),
        &[1, 6, 10, 10]
    );
}

#[test]
fn conv_default_init_uses_pytorch_fans() {
    let mut rng = Rng::seed(4);
    // Conv2d(16, 8, 3): fan_in = 16·9 = 144, bound 1/12
    let c = Conv2d::new(16, 8, 3, &mut rng);
    let w = c.weight.value().to_vec_f64();
    let bound = 1.0 / 12.0;
    assert!(w.iter().all(|v| v.abs() <= bound));
    let (_, s) = mean_std(&w);
    assert!(
        (s - bound / 3f64.sqrt()).abs() < 0.1 * bound / 3f64.sqrt(),
        "std {s}"
    );
    assert!(c
        .bias
        .as_ref()
        .unwrap()
        .value()
        .to_vec_f64()
        .iter()
        .all(|v| v.abs() <= bound));
    // ConvTranspose2d(8, 4, 3): weight [8, 4, 3, 3], fan_in from dim 1 = 4·9 = 36, bound 1/6
    let t = ConvTranspose2d::new(8, 4, 3, &mut rng);
    let w = t.weight.value().to_vec_f64();
    assert!(w.iter().all(|v| v.abs() <= 1.0 / 6.0));
    assert!(
        w.iter().any(|v| v.abs() > 0.9 / 6.0),
        "bound is 1/6, not 1/√72"
    );
    let b = t.bias.as_ref().unwrap().value().to_vec_f64();
    assert!(b.iter().all(|v| v.abs() <= 1.0 / 6.0));
    // DCGAN re-initialisation: N(0, 0.02) weights, zero biases
    let net = Sequential::new()
        .add(Conv2d::new(16, 64, 4, &mut rng))
        .add(ConvTranspose2d::new(64, 8, 4, &mut rng));
    init::init_dcgan(&net, &mut rng);
    for (name, p) in net.named_params() {
        let v = p.value().to_vec_f64();
        if name.ends_with("weight") {
            let (m, s) = mean_std(&v);
            assert!(
                m.abs() < 0.002 && (s - 0.02).abs() < 0.001,
                "{name}: {m} {s}"
            );
        } else {
            assert!(v.iter().all(|x| *x == 0.0), "{name} must be zero");
        }
    }
}

#[test]
fn pooling_and_upsampling_by_hand() {
    let x = f32s(
        &(1..=16).map(|v| v as f64).collect::<Vec<_>>(),
        &[1, 1, 4, 4],
    );
    let y = run(&AvgPool2d::new(2), x.clone());
    assert_eq!(y.dims(), &[1, 1, 2, 2]);
    assert_close(&y, &[3.5, 5.5, 11.5, 13.5], 1e-6);
    // padding counts as zeros (count_include_pad): corner window [0 0; 0 1] / 4
    let y = run(&AvgPool2d::with_options((2, 2), (2, 2), (1, 1)), x.clone());
    assert_eq!(y.dims(), &[1, 1, 3, 3]);
    assert_close(
        &y.narrow(3, 0, 1),
        &[0.25, (5.0 + 9.0) / 4.0, 13.0 / 4.0],
        1e-6,
    );
    let y = run(&MaxPool2d::new(2), x.clone());
    assert_close(&y, &[6.0, 8.0, 14.0, 16.0], 0.0);
    let y = run(
        &Upsample::new(2),
        f32s(&[1.0, 2.0, 3.0, 4.0], &[1, 1, 2, 2]),
    );
    assert_eq!(y.dims(), &[1, 1, 4, 4]);
    #[rustfmt::skip]
    let want = [1.0, 1.0, 2.0, 2.0,
                1.0, 1.0, 2.0, 2.0,
                3.0, 3.0, 4.0, 4.0,
                3.0, 3.0, 4.0, 4.0];
    assert_close(&y, &want, 0.0);
}

#[test]
fn residual_block_is_cyclegans() {
    let rb = ResidualBlock::cyclegan(3, &mut Rng::seed(0));
    let names: Vec<String> = rb.named_params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "conv_block.1.weight",
            "conv_block.1.bias",
            "conv_block.5.weight",
            "conv_block.5.bias"
        ]
    );
    assert!(
        rb.named_buffers().is_empty(),
        "instance norms without running statistics"
    );
    let kinds: Vec<String> = rb
        .conv_block()
        .children()
        .iter()
        .map(|(_, m)| init::class_name(*m))
        .collect();
    assert_eq!(
        kinds,
        [
            "ReflectionPad2d",
            "Conv2d",
            "InstanceNorm2d",
            "ReLU",
            "ReflectionPad2d",
            "Conv2d",
            "InstanceNorm2d"
        ]
    );
    let x = Tensor::randn([2, 3, 5, 5], 0.0, 1.0, DType::F32, &mut Rng::seed(1));
    assert_eq!(run(&rb, x.clone()).dims(), &[2, 3, 5, 5]);
    // with the last conv at zero the branch is instance-normalised zeros: y = x
    for p in rb.conv_block().get(5).unwrap().params() {
        init::zeros(&p);
    }
    assert_close(&run(&rb, x.clone()), &x.to_vec_f64(), 1e-6);
    // and a block on its own: y = x + block(x)
    let plain = ResidualBlock::new(Sequential::new().add(LeakyReLU::new(0.5)));
    let y = run(&plain, f32s(&[-2.0, 2.0], &[2]));
    assert_close(&y, &[-3.0, 4.0], 1e-6);
}

#[test]
fn describe_convolutions_and_pools_like_pytorch() {
    let mut rng = Rng::seed(0);
    let p = tensor::Conv2dParams::new((2, 2), (1, 1));
    assert_eq!(
        Conv2d::new(3, 8, 3, &mut rng).describe(),
        "Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))"
    );
    assert_eq!(
        Conv2d::with_options(3, 64, (4, 4), p, false, &mut rng).describe(),
        "Conv2d(3, 64, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), bias=False)"
    );
    assert_eq!(
        Conv2d::with_options(
            4,
            4,
            (3, 3),
            tensor::Conv2dParams::default()
                .with_dilation((2, 2))
                .with_groups(2),
            true,
            &mut rng
        )
        .describe(),
        "Conv2d(4, 4, kernel_size=(3, 3), stride=(1, 1), dilation=(2, 2), groups=2)"
    );
    let tp = tensor::ConvTranspose2dParams::new((2, 2), (1, 1)).with_output_padding((1, 1));
    assert_eq!(
        ConvTranspose2d::with_options(128, 64, (3, 3), tp, true, &mut rng).describe(),
        "ConvTranspose2d(128, 64, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))"
    );
    assert_eq!(
        ConvTranspose2d::with_options(
            100,
            512,
            (4, 4),
            tensor::ConvTranspose2dParams::default(),
            false,
            &mut rng
        )
        .describe(),
        "ConvTranspose2d(100, 512, kernel_size=(4, 4), stride=(1, 1), bias=False)"
    );
    assert_eq!(
        AvgPool2d::new(2).describe(),
        "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    );
    assert_eq!(
        AvgPool2d::with_options((3, 3), (2, 2), (1, 1)).describe(),
        "AvgPool2d(kernel_size=3, stride=2, padding=1)"
    );
    assert_eq!(
        MaxPool2d::new(2).describe(),
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    );
    assert_eq!(
        Upsample::new(2).describe(),
        "Upsample(scale_factor=2.0, mode='nearest')"
    );
    assert_eq!(
        ResidualBlock::cyclegan(2, &mut rng).describe(),
        "ResidualBlock"
    );
}
