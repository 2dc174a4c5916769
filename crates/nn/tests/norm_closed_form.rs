//! Batch and instance norm use autograd's `normalize` op (closed-form backward); here its values,
//! gradients and second derivatives are checked against the same normalisation composed from
//! primitive ops.

use autograd::{grad, Tape, Var};
use minimax_nn::layers::{BatchNorm1d, BatchNorm2d, InstanceNorm2d};
use minimax_nn::Module;
use tensor::{DType, Rng, Tensor};

/// (x − mean)/√(var + eps) from primitive ops (what the layers did before the fused op).
fn composed(x: &Var, axes: &[isize], eps: f64) -> Var {
    let d = x.sub(&x.mean(axes, true));
    d.div(&d.square().mean(axes, true).add_scalar(eps).sqrt())
}

fn close(a: &Tensor, b: &Tensor, tol: f64) {
    let (a, b) = (a.to_vec_f64(), b.to_vec_f64());
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{x} vs {y}");
    }
}

#[test]
fn closed_form_matches_the_composed_version_to_second_order() {
    let mut rng = Rng::seed(4);
    for (shape, axes) in [
        (vec![5, 3], vec![0isize]),
        (vec![4, 3, 2, 3], vec![0, 2, 3]),
        (vec![2, 3, 4, 2], vec![2, 3]),
    ] {
        let x0 = Tensor::randn(shape.clone(), 0.5, 2.0, DType::F64, &mut rng);
        let w = Tensor::randn(shape.clone(), 0.0, 1.0, DType::F64, &mut rng);
        let run = |fused: bool| -> (Tensor, Tensor, Tensor) {
            let tape = Tape::new();
            let x = tape.leaf(x0.clone());
            let y = if fused {
                x.normalize(&axes, 1e-5)
            } else {
                composed(&x, &axes, 1e-5)
            };
            let l = y.mul(&x.constant(w.clone())).mul(&x.tanh()).sum_all();
            let g = grad(&[&l], &[&x], None, true)[0].clone();
            let gg = grad(&[&g.square().sum_all()], &[&x], None, false)[0].clone();
            (y.value().clone(), g.value().clone(), gg.value().clone())
        };
        let (yf, gf, ggf) = run(true);
        let (yc, gc, ggc) = run(false);
        close(&yf, &yc, 1e-12);
        close(&gf, &gc, 1e-10);
        close(&ggf, &ggc, 1e-8);
    }
}

#[test]
fn the_norm_layers_record_one_normalize_node_and_keep_their_running_statistics() {
    let mut rng = Rng::seed(1);
    let x = Tensor::randn([6, 3, 2, 2], 1.0, 2.0, DType::F32, &mut rng);
    let bn = BatchNorm2d::new(3);
    let tape = Tape::new();
    let xv = tape.leaf(x.clone());
    let y = bn.forward(&xv);
    let names: Vec<&str> = (0..tape.len()).map(|i| tape.node(i).op.name()).collect();
    assert_eq!(
        names.iter().filter(|n| **n == "normalize").count(),
        1,
        "{names:?}"
    );
    // running statistics: momentum 0.1 of the batch mean and the unbiased variance, per channel
    let m = x.mean(&[0, 2, 3], false).to_vec_f64();
    let v = x.var(&[0, 2, 3], true, false).to_vec_f64();
    let rm = bn.running_mean().unwrap().value().to_vec_f64();
    let rv = bn.running_var().unwrap().value().to_vec_f64();
    for c in 0..3 {
        assert!((rm[c] - 0.1 * m[c]).abs() < 1e-5);
        assert!((rv[c] - (0.9 + 0.1 * v[c])).abs() < 1e-4);
    }
    // every channel of the output is normalised
    let ym = y.value().mean(&[0, 2, 3], false).to_vec_f64();
    assert!(ym.iter().all(|m| m.abs() < 1e-5), "{ym:?}");
    // the other two layers run through the same op
    for out in [
        BatchNorm1d::new(3).forward(&tape.leaf(Tensor::randn(
            [5, 3],
            0.0,
            1.0,
            DType::F32,
            &mut rng,
        ))),
        InstanceNorm2d::new(3).forward(&xv),
    ] {
        assert!(out.value().all_finite());
    }
}
