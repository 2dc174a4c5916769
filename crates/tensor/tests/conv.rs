//! Convolutions, pooling and upsampling: against naive loops, through adjoint identities, on
//! hand-computed cases, across dtypes and thread counts, and their error messages.

use minimax_tensor::{Conv2dParams, ConvTranspose2dParams, DType, Rng, Tensor};
use proptest::prelude::*;

// ---------------------------------------------------------------------------- helpers

fn rand(shape: &[usize], rng: &mut Rng) -> Tensor {
    Tensor::randn(shape, 0.0, 1.0, DType::F64, rng)
}

fn dot(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.dims(), b.dims());
    a.to_vec_f64()
        .iter()
        .zip(b.to_vec_f64())
        .map(|(x, y)| x * y)
        .sum()
}

fn close(a: &[f64], b: &[f64], tol: f64) -> Result<(), String> {
    if a.len() != b.len() {
        return Err(format!("lengths differ: {} vs {}", a.len(), b.len()));
    }
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        if (x - y).abs() > tol * (1.0 + y.abs()) {
            return Err(format!("element {i}: {x} vs {y}"));
        }
    }
    Ok(())
}

fn dims4(t: &Tensor) -> [usize; 4] {
    let d = t.dims();
    [d[0], d[1], d[2], d[3]]
}

fn out_len(len: usize, k: usize, s: usize, p: usize, d: usize) -> usize {
    (len + 2 * p - d * (k - 1) - 1) / s + 1
}

/// The direct 7-loop convolution (plus the group loop).
fn naive_conv2d(x: &Tensor, w: &Tensor, b: Option<&Tensor>, p: Conv2dParams) -> Tensor {
    let [n, cin, h, wd] = dims4(x);
    let [cout, cing, kh, kw] = dims4(w);
    let (xs, ws) = (x.to_vec_f64(), w.to_vec_f64());
    let bs = b.map(|b| b.to_vec_f64());
    let oh = out_len(h, kh, p.stride.0, p.padding.0, p.dilation.0);
    let ow = out_len(wd, kw, p.stride.1, p.padding.1, p.dilation.1);
    let coutg = cout / p.groups;
    let mut out = vec![0.0; n * cout * oh * ow];
    for ni in 0..n {
        for co in 0..cout {
            let g = co / coutg;
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut s = bs.as_ref().map_or(0.0, |b| b[co]);
                    for ci in 0..cing {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let iy = (oy * p.stride.0 + ky * p.dilation.0) as isize
                                    - p.padding.0 as isize;
                                let ix = (ox * p.stride.1 + kx * p.dilation.1) as isize
                                    - p.padding.1 as isize;
                                if iy < 0 || ix < 0 || iy as usize >= h || ix as usize >= wd {
                                    continue;
                                }
                                let c = g * cing + ci;
                                s += xs[((ni * cin + c) * h + iy as usize) * wd + ix as usize]
                                    * ws[((co * cing + ci) * kh + ky) * kw + kx];
                            }
                        }
                    }
                    out[((ni * cout + co) * oh + oy) * ow + ox] = s;
                }
            }
        }
    }
    Tensor::from_vec(out, [n, cout, oh, ow])
}

/// The transposed convolution as a scatter: every input pixel adds `x · W` into the output.
fn naive_conv_transpose2d(
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    p: ConvTranspose2dParams,
) -> Tensor {
    let [n, cin, h, wd] = dims4(x);
    let [_, coutg, kh, kw] = dims4(w);
    let cout = coutg * p.groups;
    let cing = cin / p.groups;
    let oh = ((h - 1) * p.stride.0 + p.dilation.0 * (kh - 1) + p.output_padding.0 + 1) as isize
        - 2 * p.padding.0 as isize;
    let ow = ((wd - 1) * p.stride.1 + p.dilation.1 * (kw - 1) + p.output_padding.1 + 1) as isize
        - 2 * p.padding.1 as isize;
    let (oh, ow) = (oh as usize, ow as usize);
    let (xs, ws) = (x.to_vec_f64(), w.to_vec_f64());
    let mut out = vec![0.0; n * cout * oh * ow];
    for ni in 0..n {
        for ci in 0..cin {
            let g = ci / cing;
            for iy in 0..h {
                for ix in 0..wd {
                    let v = xs[((ni * cin + ci) * h + iy) * wd + ix];
                    for cg in 0..coutg {
                        let co = g * coutg + cg;
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let oy = (iy * p.stride.0 + ky * p.dilation.0) as isize
                                    - p.padding.0 as isize;
                                let ox = (ix * p.stride.1 + kx * p.dilation.1) as isize
                                    - p.padding.1 as isize;
                                if oy < 0 || ox < 0 || oy as usize >= oh || ox as usize >= ow {
                                    continue;
                                }
                                out[((ni * cout + co) * oh + oy as usize) * ow + ox as usize] +=
                                    v * ws[((ci * coutg + cg) * kh + ky) * kw + kx];
                            }
                        }
                    }
                }
            }
        }
    }
    if let Some(b) = b {
        let bs = b.to_vec_f64();
        for (i, o) in out.iter_mut().enumerate() {
            *o += bs[(i / (oh * ow)) % cout];
        }
    }
    Tensor::from_vec(out, [n, cout, oh, ow])
}

/// The weight gradient of conv2d as the plain sum over samples and output positions.
fn naive_conv2d_weight_grad(x: &Tensor, gy: &Tensor, ws: [usize; 4], p: Conv2dParams) -> Tensor {
    let [n, cin, h, wd] = dims4(x);
    let [_, cout, oh, ow] = dims4(gy);
    let [_, cing, kh, kw] = ws;
    let coutg = cout / p.groups;
    let (xs, gs) = (x.to_vec_f64(), gy.to_vec_f64());
    let mut dw = vec![0.0; cout * cing * kh * kw];
    for co in 0..cout {
        let g = co / coutg;
        for ci in 0..cing {
            for ky in 0..kh {
                for kx in 0..kw {
                    let mut s = 0.0;
                    for ni in 0..n {
                        for oy in 0..oh {
                            for ox in 0..ow {
                                let iy = (oy * p.stride.0 + ky * p.dilation.0) as isize
                                    - p.padding.0 as isize;
                                let ix = (ox * p.stride.1 + kx * p.dilation.1) as isize
                                    - p.padding.1 as isize;
                                if iy < 0 || ix < 0 || iy as usize >= h || ix as usize >= wd {
                                    continue;
                                }
                                s += gs[((ni * cout + co) * oh + oy) * ow + ox]
                                    * xs[((ni * cin + g * cing + ci) * h + iy as usize) * wd
                                        + ix as usize];
                            }
                        }
                    }
                    dw[((co * cing + ci) * kh + ky) * kw + kx] = s;
                }
            }
        }
    }
    Tensor::from_vec(dw, ws)
}

/// A random small convolution problem.
#[derive(Clone, Debug)]
struct Case {
    n: usize,
    cin_g: usize,
    cout_g: usize,
    k: (usize, usize),
    hw: (usize, usize),
    p: Conv2dParams,
    bias: bool,
    seed: u64,
}

impl Case {
    fn cin(&self) -> usize {
        self.cin_g * self.p.groups
    }
    fn cout(&self) -> usize {
        self.cout_g * self.p.groups
    }
    fn weight_shape(&self) -> [usize; 4] {
        [self.cout(), self.cin_g, self.k.0, self.k.1]
    }
    fn input_shape(&self) -> [usize; 4] {
        [self.n, self.cin(), self.hw.0, self.hw.1]
    }
    fn out_hw(&self) -> (usize, usize) {
        let p = &self.p;
        (
            out_len(self.hw.0, self.k.0, p.stride.0, p.padding.0, p.dilation.0),
            out_len(self.hw.1, self.k.1, p.stride.1, p.padding.1, p.dilation.1),
        )
    }
    /// The conv_transpose2d parameters whose output has this case's input size when applied to
    /// this case's output.
    fn transpose_params(&self) -> ConvTranspose2dParams {
        let p = &self.p;
        // the rows a strided conv leaves unused: (H + 2p − d(k − 1) − 1) mod s
        let rest = |len: usize, k: usize, s: usize, pad: usize, d: usize| {
            (len + 2 * pad - d * (k - 1) - 1) % s
        };
        ConvTranspose2dParams {
            stride: p.stride,
            padding: p.padding,
            output_padding: (
                rest(self.hw.0, self.k.0, p.stride.0, p.padding.0, p.dilation.0),
                rest(self.hw.1, self.k.1, p.stride.1, p.padding.1, p.dilation.1),
            ),
            dilation: p.dilation,
            groups: p.groups,
        }
    }
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        (1usize..=3, 1usize..=2, 1usize..=3, 1usize..=3),
        (1usize..=4, 1usize..=4, 1usize..=3, 1usize..=3),
        (0usize..=2, 0usize..=2, 1usize..=2, 1usize..=2),
        (0usize..=4, 0usize..=4, any::<bool>(), any::<u64>()),
    )
        .prop_map(
            |(
                (n, groups, cin_g, cout_g),
                (kh, kw, sh, sw),
                (ph, pw, dh, dw),
                (eh, ew, bias, seed),
            )| {
                let span_h = dh * (kh - 1) + 1;
                let span_w = dw * (kw - 1) + 1;
                let h = span_h.saturating_sub(2 * ph).max(1) + eh;
                let w = span_w.saturating_sub(2 * pw).max(1) + ew;
                Case {
                    n,
                    cin_g,
                    cout_g,
                    k: (kh, kw),
                    hw: (h, w),
                    p: Conv2dParams {
                        stride: (sh, sw),
                        padding: (ph, pw),
                        dilation: (dh, dw),
                        groups,
                    },
                    bias,
                    seed,
                }
            },
        )
}

// ---------------------------------------------------------------------------- property tests

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn conv2d_matches_naive(c in case_strategy()) {
        let mut rng = Rng::seed(c.seed);
        let x = rand(&c.input_shape(), &mut rng);
        let w = rand(&c.weight_shape(), &mut rng);
        let b = rand(&[c.cout()], &mut rng);
        let b = if c.bias { Some(&b) } else { None };
        let y = x.conv2d(&w, b, c.p);
        let want = naive_conv2d(&x, &w, b, c.p);
        prop_assert_eq!(y.dims(), want.dims());
        close(&y.to_vec_f64(), &want.to_vec_f64(), 1e-12).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn conv_transpose2d_matches_naive_scatter(c in case_strategy(), oph in 0usize..3, opw in 0usize..3) {
        // here the case's input is the transposed conv's input
        let mut rng = Rng::seed(c.seed);
        let p = c.p;
        let tp = ConvTranspose2dParams {
            stride: p.stride,
            padding: (0, 0),
            output_padding: (oph % p.stride.0.max(p.dilation.0), opw % p.stride.1.max(p.dilation.1)),
            dilation: p.dilation,
            groups: p.groups,
        };
        // keep the padding only where the output stays positive
        let full = |len: usize, k: usize, s: usize, d: usize| (len - 1) * s + d * (k - 1) + 1;
        let tp = ConvTranspose2dParams {
            padding: (
                p.padding.0.min((full(c.hw.0, c.k.0, p.stride.0, p.dilation.0) - 1) / 2),
                p.padding.1.min((full(c.hw.1, c.k.1, p.stride.1, p.dilation.1) - 1) / 2),
            ),
            ..tp
        };
        let x = rand(&c.input_shape(), &mut rng);
        let w = rand(&[c.cin(), c.cout_g, c.k.0, c.k.1], &mut rng);
        let b = rand(&[c.cout()], &mut rng);
        let b = if c.bias { Some(&b) } else { None };
        let y = x.conv_transpose2d(&w, b, tp);
        let want = naive_conv_transpose2d(&x, &w, b, tp);
        prop_assert_eq!(y.dims(), want.dims());
        close(&y.to_vec_f64(), &want.to_vec_f64(), 1e-12).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn conv_transpose2d_is_adjoint_of_conv2d(c in case_strategy()) {
        let mut rng = Rng::seed(c.seed);
        let x = rand(&c.input_shape(), &mut rng);
        let w = rand(&c.weight_shape(), &mut rng);
        let (oh, ow) = c.out_hw();
        let y = rand(&[c.n, c.cout(), oh, ow], &mut rng);
        let ty = y.conv_transpose2d(&w, None, c.transpose_params());
        prop_assert_eq!(ty.dims(), x.dims());
        let lhs = dot(&x.conv2d(&w, None, c.p), &y);
        let rhs = dot(&x, &ty);
        prop_assert!((lhs - rhs).abs() <= 1e-10 * (1.0 + lhs.abs()), "{} vs {}", lhs, rhs);
        // the input gradient is the same transposed convolution
        let gx = y.conv2d_input_grad(&w, c.hw, c.p);
        prop_assert_eq!(gx.to_vec_f64(), ty.to_vec_f64());
    }

    #[test]
    fn conv2d_weight_grad_matches_naive(c in case_strategy()) {
        let mut rng = Rng::seed(c.seed);
        let x = rand(&c.input_shape(), &mut rng);
        let (oh, ow) = c.out_hw();
        let gy = rand(&[c.n, c.cout(), oh, ow], &mut rng);
        let dw = x.conv2d_weight_grad(&gy, c.weight_shape(), c.p);
        let want = naive_conv2d_weight_grad(&x, &gy, c.weight_shape(), c.p);
        prop_assert_eq!(dw.dims(), want.dims());
        close(&dw.to_vec_f64(), &want.to_vec_f64(), 1e-12).map_err(TestCaseError::fail)?;
        // and it is the adjoint of w ↦ conv2d(x, w)
        let w = rand(&c.weight_shape(), &mut rng);
        let lhs = dot(&x.conv2d(&w, None, c.p), &gy);
        let rhs = dot(&w, &dw);
        prop_assert!((lhs - rhs).abs() <= 1e-10 * (1.0 + lhs.abs()), "{} vs {}", lhs, rhs);
    }

    #[test]
    fn conv_transpose2d_grads_are_adjoints(c in case_strategy()) {
        // the case's conv output plays the transposed conv's input
        let mut rng = Rng::seed(c.seed);
        let tp = c.transpose_params();
        let (oh, ow) = c.out_hw();
        let x = rand(&[c.n, c.cout(), oh, ow], &mut rng);
        let w = rand(&c.weight_shape(), &mut rng); // [Cin_t = cout, Cout_t/groups = cin_g, kh, kw]
        let y = x.conv_transpose2d(&w, None, tp);
        prop_assert_eq!(y.dims(), &c.input_shape());
        let gy = rand(&c.input_shape(), &mut rng);
        // input gradient: ⟨convT(x), gy⟩ = ⟨x, convT_input_grad(gy)⟩, and it is conv2d
        let gx = gy.conv_transpose2d_input_grad(&w, tp);
        prop_assert_eq!(gx.dims(), x.dims());
        let lhs = dot(&y, &gy);
        let rhs = dot(&x, &gx);
        prop_assert!((lhs - rhs).abs() <= 1e-10 * (1.0 + lhs.abs()), "{} vs {}", lhs, rhs);
        prop_assert_eq!(gx.to_vec_f64(), gy.conv2d(&w, None, c.p).to_vec_f64());
        // weight gradient: ⟨convT(x, w), gy⟩ = ⟨w, dW⟩
        let dw = x.conv_transpose2d_weight_grad(&gy, c.weight_shape(), tp);
        prop_assert_eq!(dw.dims(), w.dims());
        let rhs = dot(&w, &dw);
        prop_assert!((lhs - rhs).abs() <= 1e-10 * (1.0 + lhs.abs()), "{} vs {}", lhs, rhs);
        // and equals the conv2d weight gradient with the roles swapped
        prop_assert_eq!(dw.to_vec_f64(), gy.conv2d_weight_grad(&x, c.weight_shape(), c.p).to_vec_f64());
    }

    #[test]
    fn avg_pool2d_adjoint(n in 1usize..3, ch in 1usize..3, k in (1usize..4, 1usize..4), s in (1usize..4, 1usize..4),
                          pad in (0usize..2, 0usize..2), extra in (0usize..5, 0usize..5), seed in any::<u64>()) {
        let pad = (pad.0.min(k.0 / 2), pad.1.min(k.1 / 2));
        let shape = [n, ch, k.0 + extra.0, k.1 + extra.1];
        let mut rng = Rng::seed(seed);
        let x = rand(&shape, &mut rng);
        let ax = x.avg_pool2d(k, s, pad);
        let y = rand(ax.dims(), &mut rng);
        let aty = y.avg_pool2d_backward(shape, k, s, pad);
        let (lhs, rhs) = (dot(&ax, &y), dot(&x, &aty));
        prop_assert!((lhs - rhs).abs() <= 1e-10 * (1.0 + lhs.abs()), "{} vs {}", lhs, rhs);
        // and the forward pass is a conv2d with a constant depthwise kernel
        let w = Tensor::full([ch, 1, k.0, k.1], 1.0 / (k.0 * k.1) as f64, DType::F64);
        let want = x.conv2d(&w, None, Conv2dParams { stride: s, padding: pad, dilation: (1, 1), groups: ch });
        close(&ax.to_vec_f64(), &want.to_vec_f64(), 1e-12).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn max_pool2d_adjoint(n in 1usize..3, ch in 1usize..3, k in (1usize..4, 1usize..4), s in (1usize..4, 1usize..4),
                          pad in (0usize..2, 0usize..2), extra in (0usize..5, 0usize..5), seed in any::<u64>()) {
        let pad = (pad.0.min(k.0 / 2), pad.1.min(k.1 / 2));
        let shape = [n, ch, k.0 + extra.0, k.1 + extra.1];
        let mut rng = Rng::seed(seed);
        let x = rand(&shape, &mut rng);
        let (mx, idx) = x.max_pool2d(k, s, pad);
        // values: the naive window maximum, and the value at the index
        let xs = x.to_vec_f64();
        let [_, _, h, w] = shape;
        let [_, _, oh, ow] = dims4(&mx);
        let mv = mx.to_vec_f64();
        for (j, &i) in idx.iter().enumerate() {
            let plane = j / (oh * ow);
            let (oy, ox) = ((j % (oh * ow)) / ow, j % ow);
            let mut best = f64::NEG_INFINITY;
            for ky in 0..k.0 {
                for kx in 0..k.1 {
                    let iy = (oy * s.0 + ky) as isize - pad.0 as isize;
                    let ix = (ox * s.1 + kx) as isize - pad.1 as isize;
                    if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                        best = best.max(xs[plane * h * w + iy as usize * w + ix as usize]);
                    }
                }
            }
            prop_assert_eq!(mv[j], best);
            prop_assert_eq!(xs[plane * h * w + i], best);
        }
        // gather and backward are adjoint
        let gx = x.max_pool2d_gather(&idx, mx.dims());
        prop_assert_eq!(gx.to_vec_f64(), mv);
        let y = rand(mx.dims(), &mut rng);
        let aty = y.max_pool2d_backward(&idx, shape);
        let (lhs, rhs) = (dot(&gx, &y), dot(&x, &aty));
        prop_assert!((lhs - rhs).abs() <= 1e-10 * (1.0 + lhs.abs()), "{} vs {}", lhs, rhs);
    }

    #[test]
    fn upsample_nearest2d_adjoint(n in 1usize..3, ch in 1usize..3, h in 1usize..5, w in 1usize..5,
                                  scale in 1usize..4, seed in any::<u64>()) {
        let mut rng = Rng::seed(seed);
        let x = rand(&[n, ch, h, w], &mut rng);
        let ux = x.upsample_nearest2d(scale);
        prop_assert_eq!(ux.dims(), &[n, ch, h * scale, w * scale]);
        let uv = ux.to_vec_f64();
        let xv = x.to_vec_f64();
        for (j, &v) in uv.iter().enumerate() {
            let plane = j / (h * w * scale * scale);
            let r = j % (h * w * scale * scale);
            let (oy, ox) = (r / (w * scale), r % (w * scale));
            prop_assert_eq!(v, xv[plane * h * w + (oy / scale) * w + ox / scale]);
        }
        let y = rand(ux.dims(), &mut rng);
        let aty = y.upsample_nearest2d_backward(scale);
        let (lhs, rhs) = (dot(&ux, &y), dot(&x, &aty));
        prop_assert!((lhs - rhs).abs() <= 1e-10 * (1.0 + lhs.abs()), "{} vs {}", lhs, rhs);
    }
}

// ---------------------------------------------------------------------------- hand-computed cases

#[test]
fn conv2d_by_hand() {
    // [[1 2 3]      [[1 2]
    //  [4 5 6]   ⋆   [3 4]]
    //  [7 8 9]]
    // (0,0): 1·1 + 2·2 + 4·3 + 5·4 = 37, (0,1): 2 + 6 + 15 + 24 = 47,
    // (1,0): 4 + 10 + 21 + 32 = 67,     (1,1): 5 + 12 + 24 + 36 = 77.
    let x = Tensor::from_vec((1..=9).map(|v| v as f64).collect::<Vec<_>>(), [1, 1, 3, 3]);
    let w = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], [1, 1, 2, 2]);
    let y = x.conv2d(&w, None, Conv2dParams::default());
    assert_eq!(y.to_vec_f64(), vec![37.0, 47.0, 67.0, 77.0]);
    assert_eq!(
        format!("{y}"),
        "tensor([[[[37.0000, 47.0000],\n          [67.0000, 77.0000]]]], shape=[1, 1, 2, 2], dtype=float64)"
    );
    // with bias 0.5, padding 1 and stride 2: positions (−1,−1), (−1,1), (1,−1), (1,1)
    // (−1,−1) sees only x[0,0]·w[1,1] = 4; (−1,1): x[0,1]·3 + x[0,2]·4 = 6 + 12 = 18;
    // (1,−1): x[1,0]·2 + x[2,0]·4 = 8 + 28 = 36; (1,1) = 77.
    let b = Tensor::from_vec(vec![0.5f64], [1]);
    let y = x.conv2d(&w, Some(&b), Conv2dParams::new((2, 2), (1, 1)));
    assert_eq!(y.to_vec_f64(), vec![4.5, 18.5, 36.5, 77.5]);
    // dilation 2 on a 3×3 input with a 2×2 kernel: a single position, the four corners
    let y = x.conv2d(&w, None, Conv2dParams::default().with_dilation((2, 2)));
    assert_eq!(
        y.to_vec_f64(),
        vec![1.0 + 2.0 * 3.0 + 3.0 * 7.0 + 4.0 * 9.0]
    );
}

#[test]
fn conv_transpose2d_by_hand() {
    let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], [1, 1, 2, 2]);
    let ones = Tensor::ones([1, 1, 2, 2], DType::F64);
    // stride 1: overlapping 2×2 stamps
    let y = x.conv_transpose2d(&ones, None, ConvTranspose2dParams::default());
    assert_eq!(y.dims(), &[1, 1, 3, 3]);
    assert_eq!(
        y.to_vec_f64(),
        vec![1.0, 3.0, 2.0, 4.0, 10.0, 6.0, 3.0, 7.0, 4.0]
    );
    // stride 2: each pixel becomes a 2×2 block
    let y = x.conv_transpose2d(&ones, None, ConvTranspose2dParams::new((2, 2), (0, 0)));
    assert_eq!(
        y.to_vec_f64(),
        vec![1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 3.0, 3.0, 4.0, 4.0]
    );
    // padding 1 crops the border of the stride-1 result; output_padding 1 (stride 2) adds a zero row/column
    let y = x.conv_transpose2d(&ones, None, ConvTranspose2dParams::new((1, 1), (1, 1)));
    assert_eq!(y.to_vec_f64(), vec![10.0]);
    let y = x.conv_transpose2d(
        &ones,
        None,
        ConvTranspose2dParams::new((2, 2), (0, 0)).with_output_padding((1, 1)),
    );
    assert_eq!(y.dims(), &[1, 1, 5, 5]);
    assert_eq!(y.to_vec_f64()[20..], [0.0; 5]);
    // two input channels, two output channels, bias
    let x = Tensor::from_vec(vec![1.0f64, 2.0], [1, 2, 1, 1]);
    let w = Tensor::from_vec(vec![1.0f64, 10.0, 100.0, 1000.0], [2, 2, 1, 1]);
    let b = Tensor::from_vec(vec![0.25f64, 0.5], [2]);
    let y = x.conv_transpose2d(&w, Some(&b), ConvTranspose2dParams::default());
    assert_eq!(
        y.to_vec_f64(),
        vec![1.0 + 200.0 + 0.25, 10.0 + 2000.0 + 0.5]
    );
}

#[test]
fn conv2d_grads_by_hand() {
    let x = Tensor::from_vec((1..=9).map(|v| v as f64).collect::<Vec<_>>(), [1, 1, 3, 3]);
    let w = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], [1, 1, 2, 2]);
    let gy = Tensor::ones([1, 1, 2, 2], DType::F64);
    // dW[ky, kx] = sum of the 2×2 window of x at offset (ky, kx)
    let dw = x.conv2d_weight_grad(&gy, [1, 1, 2, 2], Conv2dParams::default());
    assert_eq!(dw.to_vec_f64(), vec![12.0, 16.0, 24.0, 28.0]);
    // dX: how many output positions see each pixel, weighted by the tap
    let dx = gy.conv2d_input_grad(&w, (3, 3), Conv2dParams::default());
    assert_eq!(
        dx.to_vec_f64(),
        vec![1.0, 3.0, 2.0, 4.0, 10.0, 6.0, 3.0, 7.0, 4.0]
    );
    // bias gradient: a plain sum
    assert_eq!(gy.sum(&[0, 2, 3], false).to_vec_f64(), vec![4.0]);
    // stride 2 over a 4×4 input gives 2×2; an input of 5×5 also gives 2×2 (the extra row/col is unused)
    let g = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], [1, 1, 2, 2]);
    let dx = g.conv2d_input_grad(
        &Tensor::ones([1, 1, 2, 2], DType::F64),
        (5, 5),
        Conv2dParams::new((2, 2), (0, 0)),
    );
    assert_eq!(dx.dims(), &[1, 1, 5, 5]);
    assert_eq!(
        dx.to_vec_f64()[..10],
        [1.0, 1.0, 2.0, 2.0, 0.0, 1.0, 1.0, 2.0, 2.0, 0.0]
    );
    assert_eq!(dx.to_vec_f64()[20..], [0.0; 5]);
}

#[test]
fn pooling_by_hand() {
    let x = Tensor::from_vec((1..=16).map(|v| v as f64).collect::<Vec<_>>(), [1, 1, 4, 4]);
    let a = x.avg_pool2d((2, 2), (2, 2), (0, 0));
    assert_eq!(a.to_vec_f64(), vec![3.5, 5.5, 11.5, 13.5]);
    let (m, idx) = x.max_pool2d((2, 2), (2, 2), (0, 0));
    assert_eq!(m.to_vec_f64(), vec![6.0, 8.0, 14.0, 16.0]);
    assert_eq!(idx, vec![5, 7, 13, 15]);
    // count_include_pad: the corner window of a 3×3 pool with padding 1 holds 4 pixels but divides by 9
    let x3 = Tensor::from_vec((1..=9).map(|v| v as f64).collect::<Vec<_>>(), [1, 1, 3, 3]);
    let a = x3.avg_pool2d((3, 3), (2, 2), (1, 1));
    assert_eq!(a.dims(), &[1, 1, 2, 2]);
    let want = [12.0 / 9.0, 16.0 / 9.0, 24.0 / 9.0, 28.0 / 9.0];
    close(&a.to_vec_f64(), &want, 1e-15).unwrap();
    // padding is −∞ for max pooling, even when every pixel is negative
    let (m, idx) = x3.neg().max_pool2d((3, 3), (2, 2), (1, 1));
    assert_eq!(m.to_vec_f64(), vec![-1.0, -2.0, -4.0, -5.0]);
    assert_eq!(idx, vec![0, 1, 3, 4]);
    // backward scatters (and adds where windows share a maximum)
    let g = Tensor::ones([1, 1, 2, 2], DType::F64);
    let (_, idx) = x3.max_pool2d((2, 2), (1, 1), (0, 0));
    assert_eq!(idx, vec![4, 5, 7, 8]);
    assert_eq!(
        g.max_pool2d_backward(&idx, [1, 1, 3, 3]).to_vec_f64(),
        vec![0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0]
    );
    let (_, idx) = x3.max_pool2d((3, 3), (1, 1), (1, 1));
    assert_eq!(idx, vec![4, 5, 5, 7, 8, 8, 7, 8, 8]);
    assert_eq!(
        Tensor::ones([1, 1, 3, 3], DType::F64)
            .max_pool2d_backward(&idx, [1, 1, 3, 3])
            .to_vec_f64(),
        vec![0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 2.0, 4.0]
    );
    let (_, idx) = x3.max_pool2d((3, 3), (2, 2), (1, 1));
    let back = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], [1, 1, 2, 2])
        .max_pool2d_backward(&idx, [1, 1, 3, 3]);
    assert_eq!(
        back.to_vec_f64(),
        vec![0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 3.0, 4.0]
    );
    // NaN propagates
    let xn = Tensor::from_vec(vec![1.0f64, f64::NAN, 3.0, 2.0], [1, 1, 2, 2]);
    let (m, idx) = xn.max_pool2d((2, 2), (2, 2), (0, 0));
    assert!(m.to_vec_f64()[0].is_nan());
    assert_eq!(idx, vec![1]);
}

#[test]
fn upsample_by_hand() {
    let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], [1, 1, 2, 2]);
    let u = x.upsample_nearest2d(2);
    assert_eq!(
        u.to_vec_f64(),
        vec![1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 3.0, 3.0, 4.0, 4.0]
    );
    let g = Tensor::arange(0.0, 16.0, 1.0, DType::F64).reshape([1, 1, 4, 4]);
    assert_eq!(
        g.upsample_nearest2d_backward(2).to_vec_f64(),
        vec![
            0.0 + 1.0 + 4.0 + 5.0,
            2.0 + 3.0 + 6.0 + 7.0,
            8.0 + 9.0 + 12.0 + 13.0,
            10.0 + 11.0 + 14.0 + 15.0
        ]
    );
}

// ---------------------------------------------------------------------------- layouts and dtypes

#[test]
fn non_contiguous_inputs_give_the_same_result() {
    let mut rng = Rng::seed(7);
    let x = rand(&[2, 5, 6, 3], &mut rng);
    let xt = x.permute(&[0, 3, 1, 2]); // [2, 3, 5, 6], a view
    assert!(!xt.is_contiguous());
    let w = rand(&[4, 3, 3, 3], &mut rng);
    let p = Conv2dParams::new((1, 2), (1, 0));
    assert_eq!(
        xt.conv2d(&w, None, p).to_vec_f64(),
        xt.contiguous().conv2d(&w, None, p).to_vec_f64()
    );
    let (a, _) = xt.max_pool2d((2, 2), (2, 2), (0, 0));
    let (b, _) = xt.contiguous().max_pool2d((2, 2), (2, 2), (0, 0));
    assert_eq!(a.to_vec_f64(), b.to_vec_f64());
}

#[test]
fn f32_agrees_with_f64() {
    let mut rng = Rng::seed(11);
    let p = Conv2dParams::new((2, 1), (1, 2))
        .with_dilation((1, 2))
        .with_groups(2);
    let x = rand(&[3, 6, 11, 9], &mut rng);
    let w = rand(&[8, 3, 3, 2], &mut rng);
    let b = rand(&[8], &mut rng);
    let f = |t: &Tensor| t.to_dtype(DType::F32);
    let rel = |a: &Tensor, b: &Tensor| {
        assert_eq!(a.dtype(), DType::F32);
        let (a, b) = (a.to_vec_f64(), b.to_vec_f64());
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-4 * scale, "{x} vs {y} (scale {scale})");
        }
    };
    let y = x.conv2d(&w, Some(&b), p);
    rel(&f(&x).conv2d(&f(&w), Some(&f(&b)), p), &y);
    let gy = rand(y.dims(), &mut rng);
    rel(
        &f(&x).conv2d_weight_grad(&f(&gy), w.shape(), p),
        &x.conv2d_weight_grad(&gy, w.shape(), p),
    );
    rel(
        &f(&gy).conv2d_input_grad(&f(&w), (11, 9), p),
        &gy.conv2d_input_grad(&w, (11, 9), p),
    );
    let tp = ConvTranspose2dParams::new((2, 2), (1, 0))
        .with_output_padding((1, 0))
        .with_groups(2);
    let wt = rand(&[6, 2, 3, 4], &mut rng);
    rel(
        &f(&x).conv_transpose2d(&f(&wt), None, tp),
        &x.conv_transpose2d(&wt, None, tp),
    );
    rel(
        &f(&x).avg_pool2d((3, 2), (2, 2), (1, 1)),
        &x.avg_pool2d((3, 2), (2, 2), (1, 1)),
    );
}

#[test]
fn empty_batch() {
    let x = Tensor::zeros([0, 3, 8, 8], DType::F32);
    let w = Tensor::ones([4, 3, 3, 3], DType::F32);
    let p = Conv2dParams::new((2, 2), (1, 1));
    let y = x.conv2d(&w, None, p);
    assert_eq!(y.dims(), &[0, 4, 4, 4]);
    let dw = x.conv2d_weight_grad(&y, [4, 3, 3, 3], p);
    assert_eq!(dw.to_vec_f32(), vec![0.0; 108]);
    let t = y.conv_transpose2d(&w, None, ConvTranspose2dParams::new((2, 2), (1, 1)));
    assert_eq!(t.dims(), &[0, 3, 7, 7]);
}

// ---------------------------------------------------------------------------- determinism

fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

fn bits(t: &Tensor) -> Vec<u32> {
    t.to_vec_f32().iter().map(|v| v.to_bits()).collect()
}

fn p1_deep() -> Conv2dParams {
    Conv2dParams::new((2, 2), (1, 1))
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let mut rng = Rng::seed(3);
    let f = |t: Tensor| t.to_dtype(DType::F32);
    // a batch big enough to be split over threads, with groups
    let p = Conv2dParams::new((2, 2), (1, 1)).with_groups(2);
    let x = f(rand(&[16, 32, 14, 14], &mut rng));
    let w = f(rand(&[64, 16, 4, 4], &mut rng));
    let b = f(rand(&[64], &mut rng));
    let gy = f(rand(&[16, 64, 7, 7], &mut rng));
    let tp = ConvTranspose2dParams::new((2, 2), (1, 1)).with_groups(2);
    let run = || {
        vec![
            bits(&x.conv2d(&w, Some(&b), p)),
            bits(&x.conv2d_weight_grad(&gy, w.shape(), p)),
            bits(&gy.conv2d_input_grad(&w, (14, 14), p)),
            bits(&gy.conv_transpose2d(&w, None, tp)),
            bits(&gy.conv_transpose2d_weight_grad(&x, w.shape(), tp)),
            bits(&x.avg_pool2d((3, 3), (2, 2), (1, 1))),
            bits(&x.avg_pool2d((3, 3), (2, 2), (1, 1)).avg_pool2d_backward(
                x.shape(),
                (3, 3),
                (2, 2),
                (1, 1),
            )),
        ]
    };
    let one = in_pool(1, run);
    let two = in_pool(2, run);
    let three = in_pool(3, run);
    assert!(one == two, "1 and 2 threads differ");
    assert!(one == three, "1 and 3 threads differ");
    // and a single sample (where the GEMM itself is split) matches its row of the batch
    let x1 = x.narrow(0, 5, 1);
    let y1 = in_pool(2, || x1.conv2d(&w, Some(&b), p));
    let yb = x.conv2d(&w, Some(&b), p).narrow(0, 5, 1);
    assert_eq!(bits(&y1), bits(&yb));

    // a deep layer on a small map (weights larger than a block's columns), whose block size
    // follows the thread count
    let (xd, wd) = (
        f(rand(&[16, 128, 8, 8], &mut rng)),
        f(rand(&[256, 128, 4, 4], &mut rng)),
    );
    let gd = f(rand(&[16, 256, 4, 4], &mut rng));
    let run = || {
        vec![
            bits(&xd.conv2d(&wd, None, p1_deep())),
            bits(&gd.conv2d_input_grad(&wd, (8, 8), p1_deep())),
            bits(&xd.conv2d_weight_grad(&gd, wd.shape(), p1_deep())),
        ]
    };
    let one = in_pool(1, run);
    assert!(one == in_pool(2, run), "deep layer: 1 and 2 threads differ");
    assert!(one == in_pool(3, run), "deep layer: 1 and 3 threads differ");

    // one group: the Winograd path (tensor::kernels::winograd, off by default; on inside each
    // pool's thread here), with 16 samples (its AVX2 tile path) and 5 (its portable path)
    let p1 = Conv2dParams::new((2, 2), (1, 1));
    let t1 = ConvTranspose2dParams::new((2, 2), (1, 1));
    let w1 = f(rand(&[64, 32, 4, 4], &mut rng));
    for n in [16, 5] {
        let (x, gy) = (x.narrow(0, 0, n), gy.narrow(0, 0, n));
        let run = || {
            vec![
                bits(&x.conv2d(&w1, Some(&b), p1)),
                bits(&x.conv2d_weight_grad(&gy, w1.shape(), p1)),
                bits(&gy.conv2d_input_grad(&w1, (14, 14), p1)),
                bits(&gy.conv_transpose2d(&w1, None, t1)),
                bits(&gy.conv_transpose2d_weight_grad(&x, w1.shape(), t1)),
            ]
        };
        let run = || minimax_tensor::with_winograd(true, run);
        let one = in_pool(1, run);
        assert!(
            one == in_pool(2, run),
            "winograd, n {n}: 1 and 2 threads differ"
        );
        assert!(
            one == in_pool(3, run),
            "winograd, n {n}: 1 and 3 threads differ"
        );
    }
}

/// The direct kernels (stride 1, at most 4 output channels: an image generator's last layer,
/// a critic's score head) give the same bits on any number of threads, with and without
/// padding, and their AVX2 and AVX-512 builds equal their baseline builds bit for bit.
#[test]
fn direct_kernels_are_deterministic_and_twin_exact() {
    use minimax_tensor::kernels::direct::{self, Direct};
    let mut rng = Rng::seed(11);
    let f = |t: Tensor| t.to_dtype(DType::F32);
    for (cout, pad) in [(1, 0), (2, 3), (4, 1)] {
        let p = Conv2dParams::new((1, 1), (pad, pad));
        let x = f(rand(&[16, 32, 8, 8], &mut rng));
        let w = f(rand(&[cout, 32, 7, 7], &mut rng));
        let b = f(rand(&[cout], &mut rng));
        let o = 8 + 2 * pad - 6;
        let gy = f(rand(&[16, cout, o, o], &mut rng));
        let run = || {
            vec![
                bits(&x.conv2d(&w, Some(&b), p)),
                bits(&x.conv2d_weight_grad(&gy, w.shape(), p)),
                bits(&gy.conv2d_input_grad(&w, (8, 8), p)),
            ]
        };
        let one = in_pool(1, run);
        assert!(
            one == in_pool(2, run),
            "cout {cout}: 1 and 2 threads differ"
        );
        assert!(
            one == in_pool(3, run),
            "cout {cout}: 1 and 3 threads differ"
        );
        // and each against the naive sums
        let y = x.conv2d(&w, Some(&b), p).to_vec_f64();
        close(&y, &naive_conv2d(&x, &w, Some(&b), p).to_vec_f64(), 1e-4).unwrap();
    }
    // wide rows of 86, 16, 19, 7, 5 and 13 elements: AVX-512 rows with a masked tail, none, or
    // only a masked step
    for (cin, cout, kh, kw, oh, ow) in [
        (3, 2, 3, 5, 6, 11),
        (2, 1, 1, 1, 1, 16),
        (2, 3, 2, 3, 3, 5),
        (1, 4, 3, 2, 2, 3),
        (2, 1, 7, 7, 1, 5),
        (1, 1, 1, 1, 1, 13),
    ] {
        let d = Direct {
            cin,
            cout,
            kh,
            kw,
            oh,
            ow,
        };
        twin_exact(d, &mut rng);
    }
    let d = Direct {
        cin: 3,
        cout: 2,
        kh: 3,
        kw: 5,
        oh: 6,
        ow: 11,
    };
    let (xp, w, dy) = direct_operands(d, &mut rng);
    // the dispatchers run the build of the level in use
    let level = minimax_tensor::kernels::simd_level();
    let (mut a, mut b) = (
        vec![0f32; d.cout * d.wide_len()],
        vec![1f32; d.cout * d.wide_len()],
    );
    direct::forward(d, &xp, &w, &mut a);
    assert!(direct::forward_with(level, d, &xp, &w, &mut b));
    assert_eq!(a, b, "forward: the dispatcher is not the {level:?} build");
    let (mut a, mut b) = (vec![0f32; xp.len()], vec![0f32; xp.len()]);
    direct::data_backward(d, &dy, &w, &mut a);
    assert!(direct::data_backward_with(level, d, &dy, &w, &mut b));
    assert_eq!(
        a, b,
        "data backward: the dispatcher is not the {level:?} build"
    );
    let (mut a, mut b) = (vec![0f32; w.len()], vec![0f32; w.len()]);
    direct::filter_backward(d, &xp, &dy, &mut a);
    assert!(direct::filter_backward_with(level, d, &xp, &dy, &mut b));
    assert_eq!(
        a, b,
        "filter backward: the dispatcher is not the {level:?} build"
    );
    assert!(a.iter().any(|&g| g != 0.0));
}

// ---------------------------------------------------------------------------- errors

fn err(r: Result<Tensor, minimax_tensor::TensorError>) -> String {
    r.expect_err("expected an error").to_string()
}

#[test]
fn conv_error_messages() {
    let x = Tensor::zeros([2, 3, 8, 8], DType::F32);
    let w = Tensor::zeros([16, 4, 3, 3], DType::F32);
    assert_eq!(
        err(x.try_conv2d(&w, None, Conv2dParams::default())),
        "conv2d: input [2, 3, 8, 8] has 3 channels but weight [16, 4, 3, 3] expects 4 (groups 1)"
    );
    let w2 = Tensor::zeros([16, 2, 3, 3], DType::F32);
    let x4 = Tensor::zeros([2, 4, 8, 8], DType::F32);
    assert_eq!(
        err(x.try_conv2d(&w2, None, Conv2dParams::default().with_groups(2))),
        "conv2d: input [2, 3, 8, 8] has 3 channels but weight [16, 2, 3, 3] expects 4 (groups 2)"
    );
    assert_eq!(
        err(x4.try_conv2d(
            &Tensor::zeros([15, 2, 3, 3], DType::F32),
            None,
            Conv2dParams::default().with_groups(2)
        )),
        "conv2d: weight [15, 2, 3, 3] has 15 output channels, which groups 2 does not divide"
    );
    let big = Tensor::zeros([16, 3, 11, 3], DType::F32);
    assert_eq!(
        err(x.try_conv2d(&big, None, Conv2dParams::new((1, 1), (1, 0)))),
        "conv2d: output size 0×6 is not positive: input [2, 3, 8, 8] padded by (1, 0) is smaller than \
         weight [16, 3, 11, 3] dilated by (1, 1)"
    );
    let w64 = Tensor::zeros([16, 3, 3, 3], DType::F64);
    assert_eq!(
        err(x.try_conv2d(&w64, None, Conv2dParams::default())),
        "conv2d: dtype mismatch: input [2, 3, 8, 8] is float32 but weight [16, 3, 3, 3] is float64 \
         (convert one with .to_dtype())"
    );
    let w3 = Tensor::zeros([16, 3, 3, 3], DType::F32);
    let b = Tensor::zeros([8], DType::F32);
    assert_eq!(
        err(x.try_conv2d(&w3, Some(&b), Conv2dParams::default())),
        "conv2d: bias [8] must have shape [16] to match weight [16, 3, 3, 3]"
    );
    assert_eq!(
        err(Tensor::zeros([3, 8, 8], DType::F32).try_conv2d(&w3, None, Conv2dParams::default())),
        "conv2d: input [3, 8, 8] must be 4-D [N, C, H, W]"
    );
    assert_eq!(
        err(x.try_conv2d(&w3, None, Conv2dParams::new((0, 1), (0, 0)))),
        "conv2d: stride (0, 1) must be positive"
    );
    // transposed convolution
    assert_eq!(
        err(x.try_conv_transpose2d(&w3, None, ConvTranspose2dParams::default())),
        "conv_transpose2d: input [2, 3, 8, 8] has 3 channels but weight [16, 3, 3, 3] expects 16 (groups 1)"
    );
    let wt = Tensor::zeros([3, 5, 3, 3], DType::F32);
    assert_eq!(
        err(x.try_conv_transpose2d(&wt, None, ConvTranspose2dParams::new((2, 2), (0, 0)).with_output_padding((2, 0)))),
        "conv_transpose2d: output_padding (2, 0) must be smaller than the stride (2, 2) or the dilation (1, 1)"
    );
    assert!(x
        .try_conv_transpose2d(&wt, None, ConvTranspose2dParams::new((1, 1), (6, 1)))
        .is_err());
    assert_eq!(
        x.try_conv_transpose2d(&wt, None, ConvTranspose2dParams::new((2, 2), (1, 1)))
            .unwrap()
            .dims(),
        &[2, 5, 15, 15]
    );
}

#[test]
#[should_panic(
    expected = "conv2d: input [2, 3, 8, 8] has 3 channels but weight [16, 4, 3, 3] expects 4 (groups 1)"
)]
fn conv2d_panics_with_the_message() {
    let x = Tensor::zeros([2, 3, 8, 8], DType::F32);
    let w = Tensor::zeros([16, 4, 3, 3], DType::F32);
    let _ = x.conv2d(&w, None, Conv2dParams::default());
}

#[test]
#[should_panic(expected = "conv2d_input_grad: grad_out [1, 2, 5, 5] is 5×5 but an input of 8×8")]
fn input_grad_checks_the_size() {
    let g = Tensor::zeros([1, 2, 5, 5], DType::F32);
    let w = Tensor::zeros([2, 3, 3, 3], DType::F32);
    let _ = g.conv2d_input_grad(&w, (8, 8), Conv2dParams::default());
}

/// Random operands of one sample's direct convolution: the padded image, the weights and the
/// output gradient in the extended wide layout (its zeros where they belong).
fn direct_operands(
    d: minimax_tensor::kernels::direct::Direct,
    rng: &mut Rng,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let v = |n: usize, rng: &mut Rng| rand(&[n], rng).to_dtype(DType::F32).to_vec_f32();
    let xp = v(d.cin * d.hp() * d.wp(), rng);
    let w = v(d.cout * d.cin * d.kh * d.kw, rng);
    let mut dy = v(d.cout * d.ext_len(), rng);
    for (j, g) in dy.iter_mut().enumerate() {
        // the extended layout's zeros: kw − 1 before and after, and the scratch columns
        let k = (j % d.ext_len()) as isize - (d.kw - 1) as isize;
        if k < 0 || k as usize >= d.wide_len() || (k as usize) % d.wp() >= d.ow {
            *g = 0.0;
        }
    }
    (xp, w, dy)
}

/// `v` between two guards of 17 copies of `guard` each (more than one masked step): returns the
/// buffer and the range of `v` in it.
fn guarded(v: &[f32], guard: f32) -> (Vec<f32>, std::ops::Range<usize>) {
    const G: usize = 17;
    let mut b = vec![guard; G];
    b.extend_from_slice(v);
    b.extend(std::iter::repeat_n(guard, G));
    (b, G..G + v.len())
}

fn f32_bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Every SIMD build of the three direct kernels this CPU has gives the baseline build's bits,
/// each operand handed over as an exact slice of a guarded buffer: inputs between NaNs, so that
/// a masked step that read past its row would turn an output NaN; outputs between 7.0s, so that
/// one that wrote (or added) past its row would change a guard. The weight gradient never reads
/// the extended dy's padding, so that is NaN too.
fn twin_exact(d: minimax_tensor::kernels::direct::Direct, rng: &mut Rng) {
    use minimax_tensor::kernels::direct;
    use minimax_tensor::kernels::Simd;
    let (xp, w, dy) = direct_operands(d, rng);
    let mut dy_nan_pads = dy.clone();
    for (j, g) in dy_nan_pads.iter_mut().enumerate() {
        let k = (j % d.ext_len()) as isize - (d.kw - 1) as isize;
        if k < 0 || k as usize >= d.wide_len() {
            *g = f32::NAN;
        }
    }
    let start = rand(&[xp.len()], rng).to_dtype(DType::F32).to_vec_f32();
    let (xp, xr) = guarded(&xp, f32::NAN);
    let (w, wr) = guarded(&w, f32::NAN);
    let (dy, dr) = guarded(&dy, f32::NAN);
    let (dyn_, dnr) = guarded(&dy_nan_pads, f32::NAN);
    let run = |level: Simd| {
        let (mut f, fr) = guarded(&vec![0f32; d.cout * d.wide_len()], 7.0);
        assert!(direct::forward_with(
            level,
            d,
            &xp[xr.clone()],
            &w[wr.clone()],
            &mut f[fr]
        ));
        let (mut g, gr) = guarded(&start, 7.0);
        assert!(direct::data_backward_with(
            level,
            d,
            &dy[dr.clone()],
            &w[wr.clone()],
            &mut g[gr]
        ));
        let (mut h, hr) = guarded(&vec![0f32; wr.len()], 7.0);
        assert!(direct::filter_backward_with(
            level,
            d,
            &xp[xr.clone()],
            &dyn_[dnr.clone()],
            &mut h[hr]
        ));
        [f32_bits(&f), f32_bits(&g), f32_bits(&h)]
    };
    let base = run(Simd::Baseline);
    for (name, out) in ["forward", "data backward", "filter backward"]
        .iter()
        .zip(&base)
    {
        // the outputs between the guards (17 each side) are numbers, the guards untouched
        let n = out.len();
        assert!(
            out[..17]
                .iter()
                .chain(&out[n - 17..])
                .all(|b| *b == 7f32.to_bits()),
            "{name} {d:?}: the baseline build wrote a guard"
        );
        assert!(
            out[17..n - 17].iter().all(|b| !f32::from_bits(*b).is_nan()),
            "{name} {d:?}: the baseline build read a guard"
        );
        assert!(
            out[17..n - 17].iter().any(|b| f32::from_bits(*b) != 0.0),
            "{name} {d:?}: all zero"
        );
    }
    let levels = [Simd::Avx2, Simd::Avx512]
        .into_iter()
        .filter(|l| l.available());
    for level in levels {
        let out = run(level);
        for (k, name) in ["forward", "data backward", "filter backward"]
            .iter()
            .enumerate()
        {
            assert_eq!(
                out[k], base[k],
                "{name} {d:?}: {level:?} and baseline builds differ (guards included)"
            );
        }
    }
}
