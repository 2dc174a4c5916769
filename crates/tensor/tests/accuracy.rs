//! Float32 accuracy of the default convolution path on DCGAN's layers (the 28×28 benchmark's G
//! and D), forward and both gradients, against a float64 computation of the same float32
//! inputs. PyTorch's float32 error on these layers is 2·10⁻⁷–2·10⁻⁶ (normwise); the default
//! path must stay within 10× of the smaller figure. The Winograd form (opt-in) is measured
//! beside it and printed.

use minimax_tensor::{Conv2dParams, ConvTranspose2dParams, DType, Rng, Tensor};

/// ‖got − want‖₂ / ‖want‖₂.
fn normwise(got: &Tensor, want: &Tensor) -> f64 {
    let (g, w) = (got.to_vec_f64(), want.to_vec_f64());
    assert_eq!(g.len(), w.len());
    let num: f64 = g.iter().zip(&w).map(|(a, b)| (a - b) * (a - b)).sum();
    let den: f64 = w.iter().map(|b| b * b).sum();
    (num / den).sqrt()
}

/// The twelve figures (4 layers × forward, input gradient, weight gradient) of the f32 path
/// that is on for this thread, each against f64 on the same (f32-rounded) inputs.
fn errors() -> Vec<(String, f64)> {
    let mut rng = Rng::seed(7);
    let n = 8;
    let p = Conv2dParams::new((2, 2), (1, 1));
    let tp = ConvTranspose2dParams::new((2, 2), (1, 1));
    // f32 values, and the same values in f64
    let draw = |dims: &[usize], scale: f64, rng: &mut Rng| {
        let t = Tensor::randn(dims.to_vec(), 0.0, scale, DType::F32, rng);
        let d = t.to_dtype(DType::F64);
        (t, d)
    };
    let mut out = Vec::new();
    // D: Conv(1, 64) 28 → 14 and Conv(64, 128) 14 → 7
    for (cin, cout, h) in [(1, 64, 28), (64, 128, 14)] {
        let (x, xd) = draw(&[n, cin, h, h], 1.0, &mut rng);
        let (w, wd) = draw(&[cout, cin, 4, 4], 0.02, &mut rng);
        let (b, bd) = draw(&[cout], 0.02, &mut rng);
        let (dy, dyd) = draw(&[n, cout, h / 2, h / 2], 1.0, &mut rng);
        let name = format!("D conv {cin}→{cout} {h}×{h}");
        out.push((
            format!("{name} forward"),
            normwise(&x.conv2d(&w, Some(&b), p), &xd.conv2d(&wd, Some(&bd), p)),
        ));
        out.push((
            format!("{name} input gradient"),
            normwise(
                &dy.conv2d_input_grad(&w, (h, h), p),
                &dyd.conv2d_input_grad(&wd, (h, h), p),
            ),
        ));
        out.push((
            format!("{name} weight gradient"),
            normwise(
                &x.conv2d_weight_grad(&dy, w.shape(), p),
                &xd.conv2d_weight_grad(&dyd, wd.shape(), p),
            ),
        ));
    }
    // G: ConvT(128, 64) 7 → 14 and ConvT(64, 1) 14 → 28
    for (cin, cout, h) in [(128, 64, 7), (64, 1, 14)] {
        let (x, xd) = draw(&[n, cin, h, h], 1.0, &mut rng);
        let (w, wd) = draw(&[cin, cout, 4, 4], 0.02, &mut rng);
        let (dy, dyd) = draw(&[n, cout, 2 * h, 2 * h], 1.0, &mut rng);
        let name = format!("G conv-transpose {cin}→{cout} {h}×{h}");
        out.push((
            format!("{name} forward"),
            normwise(
                &x.conv_transpose2d(&w, None, tp),
                &xd.conv_transpose2d(&wd, None, tp),
            ),
        ));
        out.push((
            format!("{name} input gradient"),
            normwise(
                &dy.conv_transpose2d_input_grad(&w, tp),
                &dyd.conv_transpose2d_input_grad(&wd, tp),
            ),
        ));
        out.push((
            format!("{name} weight gradient"),
            normwise(
                &x.conv_transpose2d_weight_grad(&dy, w.shape(), tp),
                &xd.conv_transpose2d_weight_grad(&dyd, wd.shape(), tp),
            ),
        ));
    }
    out
}

#[test]
fn the_default_convolutions_are_within_ten_times_pytorch_float32_error() {
    assert!(
        !minimax_tensor::winograd_enabled(),
        "the exact path is the default"
    );
    let exact = errors();
    let fast = minimax_tensor::with_winograd(true, errors);
    for ((name, e), (_, f)) in exact.iter().zip(&fast) {
        eprintln!("{name:<44} default {e:.2e}   Winograd {f:.2e}");
        assert!(*e < 2e-6, "{name}: normwise error {e:e} (bound 2e-6)");
    }
    // the Winograd form is what the default avoids: over the bound on some layer
    let worst = fast.iter().map(|(_, f)| *f).fold(0.0, f64::max);
    assert!(worst > 2e-6, "Winograd's worst error {worst:e}");
}
