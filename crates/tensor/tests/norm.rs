//! The fused normalisation of batch/instance norm and its backward pass against the same
//! formulas composed from primitive ops (in f64 to 1e-12, in f32 to a few ulps of the
//! values' scale), over axis sets that take the fused kernel (kept axes adjacent) and that do
//! not, for any layout of the input.

mod common;

use common::*;
use minimax_tensor::{DType, Tensor};
use proptest::prelude::*;

fn composed(x: &Tensor, axes: &[isize], eps: f64) -> (Tensor, Tensor, Tensor) {
    let mean = x.mean(axes, true);
    let centred = x.sub(&mean);
    let var = centred.square().mean(axes, true);
    (centred.div(&var.add_scalar(eps).sqrt()), mean, var)
}

fn composed_backward(g: &Tensor, x: &Tensor, y: &Tensor, axes: &[isize], eps: f64) -> Tensor {
    let inv = x
        .sub(&x.mean(axes, true))
        .square()
        .mean(axes, true)
        .add_scalar(eps)
        .pow_scalar(-0.5);
    g.sub(&g.mean(axes, true))
        .sub(&y.mul(&g.mul(y).mean(axes, true)))
        .mul(&inv)
}

#[track_caller]
fn close(what: &str, got: &Tensor, want: &Tensor, tol: f64) {
    assert_eq!(got.dims(), want.dims(), "{what}: shape");
    assert_eq!(got.dtype(), want.dtype(), "{what}: dtype");
    let scale = want.to_vec_f64().iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for (i, (a, b)) in got.to_vec_f64().iter().zip(want.to_vec_f64()).enumerate() {
        assert!(
            (a - b).abs() <= tol * scale,
            "{what}: element {i}: {a:e} vs {b:e}"
        );
    }
}

/// Shapes with the axis sets of BatchNorm1d/2d, InstanceNorm2d, a reduction over everything,
/// and sets whose kept axes are not adjacent (the composed fallback).
fn case() -> impl Strategy<Value = (Vec<usize>, Vec<isize>)> {
    prop_oneof![
        (2usize..9, 1usize..5).prop_map(|(n, c)| (vec![n, c], vec![0])),
        (1usize..5, 1usize..5, 2usize..6, 1usize..6)
            .prop_map(|(n, c, h, w)| (vec![n, c, h, w], vec![0, 2, 3])),
        (1usize..5, 1usize..5, 2usize..6, 1usize..6)
            .prop_map(|(n, c, h, w)| (vec![n, c, h, w], vec![-2, -1])),
        (2usize..6, 1usize..5, 1usize..6).prop_map(|(n, c, l)| (vec![n, c, l], vec![])),
        (2usize..5, 2usize..5, 2usize..5).prop_map(|(a, b, c)| (vec![a, b, c], vec![1])),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fused_normalize_and_backward_match_the_composed_ops(
        (dims, axes) in case(),
        dt in dtype(),
        l in layout(),
        seed in any::<u64>(),
    ) {
        let (x, _) = rand_tensor(&dims, seed, dt, l);
        let x = x.mul_scalar(3.0).add_scalar(0.5);
        let (g, _) = rand_tensor(&dims, seed ^ 9, dt, l);
        let tol = if dt == DType::F64 { 1e-12 } else { 2e-5 };
        let eps = 1e-5;
        let (y, m, v) = x.normalize_with_stats(&axes, eps);
        let (y0, m0, v0) = composed(&x, &axes, eps);
        let what = format!("{dims:?} over {axes:?} {dt:?} {l:?}");
        close(&format!("x̂ {what}"), &y, &y0, tol);
        close(&format!("mean {what}"), &m, &m0, tol);
        close(&format!("var {what}"), &v, &v0, tol);
        let dx = g.normalize_backward(&x, &y, &axes, eps);
        let dx0 = composed_backward(&g, &x, &y0, &axes, eps);
        close(&format!("dx {what}"), &dx, &dx0, tol * 10.0);
    }
}

#[test]
fn normalize_backward_rejects_mismatched_shapes() {
    let x = Tensor::zeros([2, 3], DType::F32);
    let g = Tensor::zeros([3, 2], DType::F32);
    let err = std::panic::catch_unwind(|| g.normalize_backward(&x, &x, &[0], 1e-5))
        .expect_err("shapes differ");
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(
        msg.contains("normalize_backward") && msg.contains("[3, 2]") && msg.contains("[2, 3]"),
        "{msg}"
    );
}

/// f32 statistics over long rows (64×64 images) and a large mean stay as accurate as the
/// same computation in f64 rounded to f32 (a single running f32 sum over 8192 values near 100
/// would be off by about 1e-4 relative).
#[test]
fn f32_statistics_over_long_rows_match_f64() {
    let mut rng = minimax_tensor::Rng::seed(5);
    let x64 = Tensor::randn([2, 3, 64, 64], 100.0, 0.5, DType::F64, &mut rng);
    let x32 = x64.to_dtype(DType::F32);
    let x64 = x32.to_dtype(DType::F64); // the same values exactly
    let (y32, m32, v32) = x32.normalize_with_stats(&[0, 2, 3], 1e-5);
    let (y64, m64, v64) = x64.normalize_with_stats(&[0, 2, 3], 1e-5);
    close("mean", &m32.to_dtype(DType::F64), &m64, 1e-7);
    close("var", &v32.to_dtype(DType::F64), &v64, 1e-5);
    close("x̂", &y32.to_dtype(DType::F64), &y64, 1e-5);
}

fn t(d: &[usize], seed: u64, dt: DType) -> Tensor {
    rand_tensor(d, seed, dt, Layout::Contiguous).0
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn channel_affine_matches_mul_then_add(
        dims in proptest::collection::vec(1usize..=4, 2..=4),
        seed in 0u64..1000,
        bias in any::<bool>(),
        f32_ in any::<bool>(),
    ) {
        let dt = if f32_ { DType::F32 } else { DType::F64 };
        let c = dims[1];
        let x = t(&dims, seed, dt);
        let w = t(&[c], seed + 1, dt);
        let b = t(&[c], seed + 2, dt);
        let mut cs = vec![1usize; dims.len()];
        cs[1] = c;
        // forward: the same products and sums as the broadcast ops, bit for bit
        let got = x.channel_affine(&w, bias.then_some(&b));
        let mut want = x.mul(&w.reshape(cs.as_slice()));
        if bias {
            want = want.add(&b.reshape(cs.as_slice()));
        }
        prop_assert_eq!(got.to_vec_f64(), want.to_vec_f64());
        // backward sums against the composed reductions
        let g = t(&dims, seed + 3, dt);
        let axes: Vec<isize> = (0..dims.len() as isize).filter(|&a| a != 1).collect();
        let (dw, db) = g.channel_affine_backward(&x);
        let tol = if f32_ { 1e-5 } else { 1e-12 };
        close("Σ g·x", &dw, &g.mul(&x).sum(&axes, false), tol);
        close("Σ g", &db, &g.sum(&axes, false), tol);
        // a strided (transposed) input gives the same values as its contiguous copy
        let xt = x.transpose(0, 1).contiguous().transpose(0, 1);
        prop_assert_eq!(xt.channel_affine(&w, Some(&b)).to_vec_f64(), x.channel_affine(&w, Some(&b)).to_vec_f64());
    }
}

#[test]
fn channel_affine_names_the_shapes() {
    let x = Tensor::zeros([2, 3, 4], DType::F32);
    let w = Tensor::zeros([4], DType::F32);
    let err = std::panic::catch_unwind(|| x.channel_affine(&w, None)).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(
        msg.contains("channel_affine")
            && msg.contains("[2, 3, 4]")
            && msg.contains("[3]")
            && msg.contains("[4]"),
        "{msg}"
    );
    let g = Tensor::zeros([2, 3, 5], DType::F32);
    let err = std::panic::catch_unwind(|| g.channel_affine_backward(&x)).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(
        msg.contains("channel_affine_backward") && msg.contains("[2, 3, 5]"),
        "{msg}"
    );
}
