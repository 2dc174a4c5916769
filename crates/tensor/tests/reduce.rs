//! Reductions (sum, mean, var, max, min, argmax, logsumexp) over random axis sets against f64
//! references, softmax / log-softmax identities, and the large parallel paths.

mod common;

use common::*;
use minimax_tensor::{DType, Shape, Tensor};
use proptest::prelude::*;

/// Groups the values of a row-major tensor by their index over the kept (unreduced) axes.
/// Returns the kept dims and, for each output element (row-major), its reduced values in
/// row-major order.
fn groups(vals: &[f64], dims: &[usize], reduced: &[bool]) -> (Vec<usize>, Vec<Vec<f64>>) {
    let kept: Vec<usize> = (0..dims.len()).filter(|&d| !reduced[d]).collect();
    let kdims: Vec<usize> = kept.iter().map(|&d| dims[d]).collect();
    let mut g = vec![Vec::new(); kdims.iter().product()];
    for (lin, &v) in vals.iter().enumerate() {
        let idx = unravel(lin, dims);
        let kidx: Vec<usize> = kept.iter().map(|&d| idx[d]).collect();
        g[ravel(&kidx, &kdims)].push(v);
    }
    (kdims, g)
}

fn keep_dims(dims: &[usize], reduced: &[bool]) -> Vec<usize> {
    (0..dims.len())
        .map(|d| if reduced[d] { 1 } else { dims[d] })
        .collect()
}

fn eps(dt: DType) -> f64 {
    match dt {
        DType::F32 => f32::EPSILON as f64,
        DType::F64 => f64::EPSILON,
    }
}

/// A shape and a set of axes to reduce: `(dims, mask, axes as passed)`. An all-false mask is
/// passed as `&[]`, which means "every axis"; axes are sometimes given as negative numbers,
/// unsorted or repeated.
fn shape_and_axes() -> impl Strategy<Value = (Vec<usize>, Vec<bool>, Vec<isize>)> {
    shape()
        .prop_flat_map(|d| {
            let n = d.len();
            (
                Just(d),
                prop::collection::vec(any::<bool>(), n),
                prop::collection::vec(any::<bool>(), n),
                any::<bool>(),
            )
        })
        .prop_map(|(d, mut mask, neg, rev)| {
            let n = d.len();
            let mut axes: Vec<isize> = (0..n)
                .filter(|&i| mask[i])
                .map(|i| {
                    if neg[i] {
                        i as isize - n as isize
                    } else {
                        i as isize
                    }
                })
                .collect();
            if rev {
                axes.reverse();
                if let Some(&a) = axes.first() {
                    axes.push(a);
                }
            }
            if axes.is_empty() {
                mask = vec![true; n];
            }
            (d, mask, axes)
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn reductions_match_f64_reference(
        (dims, mask, axes) in shape_and_axes(),
        keepdim in any::<bool>(),
        dt in dtype(),
        l in layout(),
        seed in any::<u64>(),
    ) {
        let (x, xv) = rand_tensor(&dims, seed, dt, l);
        let (kdims, g) = groups(&xv, &dims, &mask);
        let want_dims = if keepdim { keep_dims(&dims, &mask) } else { kdims.clone() };
        let what = format!("{dims:?} axes {axes:?} keepdim {keepdim} {dt:?} {l:?}");
        let e = eps(dt);

        let check = |name: &str, t: &Tensor, want: &[f64], tol: &dyn Fn(usize) -> f64| {
            assert_eq!(t.dims(), &want_dims[..], "{name} {what}: shape");
            assert_eq!(t.dtype(), dt);
            let got = t.to_vec_f64();
            for i in 0..want.len() {
                let ok = (got[i] - want[i]).abs() <= tol(i) || got[i] == want[i]
                    || (got[i].is_nan() && want[i].is_nan());
                assert!(ok, "{name} {what}: element {i}: got {:e}, want {:e}", got[i], want[i]);
            }
        };

        let sum_abs: Vec<f64> = g.iter().map(|v| v.iter().map(|x| x.abs()).sum()).collect();
        let len = g[0].len() as f64;

        let sums: Vec<f64> = g.iter().map(|v| v.iter().sum()).collect();
        check("sum", &x.sum(&axes, keepdim), &sums, &|i| 2.0 * len * e * sum_abs[i]);

        let means: Vec<f64> = sums.iter().map(|s| s / len).collect();
        check("mean", &x.mean(&axes, keepdim), &means, &|i| 2.0 * len * e * sum_abs[i] / len);

        for unbiased in [false, true] {
            let denom = if unbiased { len - 1.0 } else { len };
            let vars: Vec<f64> = g
                .iter()
                .zip(&means)
                .map(|(v, m)| v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / denom)
                .collect();
            let sq: Vec<f64> = g.iter().map(|v| v.iter().map(|x| x * x).sum()).collect();
            check(
                if unbiased { "var unbiased" } else { "var biased" },
                &x.var(&axes, unbiased, keepdim),
                &vars,
                &|i| 8.0 * len * e * sq[i] / denom,
            );
        }

        let maxs: Vec<f64> = g.iter().map(|v| v.iter().cloned().fold(f64::NEG_INFINITY, f64::max)).collect();
        let mins: Vec<f64> = g.iter().map(|v| v.iter().cloned().fold(f64::INFINITY, f64::min)).collect();
        check("max", &x.max(&axes, keepdim), &maxs, &|_| 0.0);
        check("min", &x.min(&axes, keepdim), &mins, &|_| 0.0);

        let lse: Vec<f64> = g
            .iter()
            .zip(&maxs)
            .map(|(v, m)| m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln())
            .collect();
        check("logsumexp", &x.logsumexp(&axes, keepdim), &lse, &|i| {
            8.0 * len * e * (1.0 + lse[i].abs())
        });
    }

    #[test]
    fn argmax_matches_reference(
        dims in shape_rank(1, 4),
        axis_pick in any::<prop::sample::Index>(),
        neg in any::<bool>(),
        keepdim in any::<bool>(),
        dt in dtype(),
        l in layout(),
        seed in any::<u64>(),
    ) {
        let (x, xv) = rand_tensor(&dims, seed, dt, l);
        let nd = dims.len();
        let a = axis_pick.index(nd);
        let mut mask = vec![false; nd];
        mask[a] = true;
        let (kdims, g) = groups(&xv, &dims, &mask);
        let want: Vec<usize> = g
            .iter()
            .map(|v| {
                let mut best = 0;
                for (i, &y) in v.iter().enumerate() {
                    if y > v[best] {
                        best = i;
                    }
                }
                best
            })
            .collect();
        let axis = if neg { a as isize - nd as isize } else { a as isize };
        prop_assert_eq!(x.argmax_indices(axis), want.clone());
        let t = x.argmax(axis, keepdim);
        let want_dims = if keepdim { keep_dims(&dims, &mask) } else { kdims };
        prop_assert_eq!(t.dims(), &want_dims[..]);
        prop_assert_eq!(t.dtype(), dt);
        let got: Vec<usize> = t.to_vec_f64().iter().map(|&v| v as usize).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn softmax_rows_sum_to_one_and_log_softmax_is_its_log(
        dims in shape_rank(1, 4),
        axis_pick in any::<prop::sample::Index>(),
        dt in dtype(),
        l in layout(),
        seed in any::<u64>(),
        shift in -50.0f64..50.0,
    ) {
        let (x, xv) = rand_tensor(&dims, seed, dt, l);
        let nd = dims.len();
        let a = axis_pick.index(nd);
        let sm = x.softmax(a as isize);
        let lsm = x.log_softmax(a as isize);
        prop_assert_eq!(sm.dims(), &dims[..]);
        prop_assert_eq!(lsm.dims(), &dims[..]);
        let tol = if dt == DType::F32 { 2e-6 } else { 1e-14 };
        // rows sum to one
        let s = sm.sum(&[a as isize], false).to_vec_f64();
        for v in &s {
            prop_assert!((v - 1.0).abs() <= tol * dims[a] as f64, "row sum {}", v);
        }
        // against the f64 reference, and log_softmax = log(softmax)
        let mut mask = vec![false; nd];
        mask[a] = true;
        let smv = sm.to_vec_f64();
        let lsv = lsm.to_vec_f64();
        let log_sm = sm.log().to_vec_f64();
        let (_, g) = groups(&xv, &dims, &mask);
        let kept: Vec<usize> = (0..nd).filter(|&d| d != a).collect();
        let kdims: Vec<usize> = kept.iter().map(|&d| dims[d]).collect();
        for (lin, &v) in xv.iter().enumerate() {
            let idx = unravel(lin, &dims);
            let k: Vec<usize> = kept.iter().map(|&d| idx[d]).collect();
            let row = &g[ravel(&k, &kdims)];
            let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let z: f64 = row.iter().map(|y| (y - m).exp()).sum();
            let p = (v - m).exp() / z;
            let lp = v - m - z.ln();
            prop_assert!((smv[lin] - p).abs() <= tol * 4.0 * p.max(1e-30) + tol * 1e-3, "softmax {} vs {}", smv[lin], p);
            prop_assert!((lsv[lin] - lp).abs() <= tol * 4.0 * (1.0 + lp.abs()), "log_softmax {} vs {}", lsv[lin], lp);
            prop_assert!((lsv[lin] - log_sm[lin]).abs() <= tol * 8.0 * (1.0 + lp.abs()), "log(softmax) {} vs {}", log_sm[lin], lsv[lin]);
        }
        // softmax is invariant under adding a constant
        let shifted = x.add_scalar(shift).softmax(a as isize).to_vec_f64();
        for (p, q) in smv.iter().zip(&shifted) {
            prop_assert!((p - q).abs() <= 64.0 * tol * (1.0 + shift.abs()) * p.max(1e-3), "{} vs {}", p, q);
        }
    }
}

// ------------------------------------------------------------------ hand-computed cases

#[test]
fn small_reductions_by_hand() {
    let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
    assert_eq!(x.sum(&[0], false).to_vec_f32(), vec![5.0, 7.0, 9.0]);
    assert_eq!(x.sum(&[1], true).dims(), &[2, 1]);
    assert_eq!(x.sum(&[1], true).to_vec_f32(), vec![6.0, 15.0]);
    assert_eq!(x.sum(&[-1, 0], false).item(), 21.0);
    assert_eq!(x.sum_all().dims(), &[] as &[usize]);
    assert_eq!(x.mean_all().item(), 3.5);
    assert_eq!(x.mean(&[0], false).to_vec_f32(), vec![2.5, 3.5, 4.5]);
    assert_eq!(x.var(&[1], false, false).to_vec_f32(), vec![2.0 / 3.0; 2]);
    assert_eq!(x.var(&[1], true, false).to_vec_f32(), vec![1.0, 1.0]);
    assert_eq!(x.max(&[0], false).to_vec_f32(), vec![4.0, 5.0, 6.0]);
    assert_eq!(x.min(&[1], false).to_vec_f32(), vec![1.0, 4.0]);
    assert_eq!(x.argmax(1, false).to_vec_f32(), vec![2.0, 2.0]);
    // transposed view
    let t = x.t();
    assert_eq!(t.sum(&[0], false).to_vec_f32(), vec![6.0, 15.0]);
    assert_eq!(t.max(&[1], false).to_vec_f32(), vec![4.0, 5.0, 6.0]);
}

/// mean and var divide by the count (a true division), like sum(x) / n.
#[test]
fn mean_and_var_divide_exactly() {
    let x = Tensor::from_vec(vec![1.0f32, 1.0, 3.0], [3]);
    assert_eq!(x.mean_all().item(), (5.0f32 / 3.0) as f64);
    let y = Tensor::from_vec(vec![1.0f64, 1.0, 3.0, 2.0, 2.0, 3.0], [2, 3]);
    assert_eq!(y.mean(&[1], false).to_vec_f64(), vec![5.0 / 3.0, 7.0 / 3.0]);
    // var of [0, 0, 1, 1, 1]: Σ(x - 0.6)² = 1.2, / 3 (biased /5, unbiased /4)
    let z = Tensor::from_vec(vec![0.0f64, 0.0, 1.0, 1.0, 1.0], [5]);
    let ss = 2.0 * 0.6f64 * 0.6 + 3.0 * 0.4 * 0.4;
    assert_eq!(z.var(&[], false, false).item(), ss / 5.0);
    assert_eq!(z.var(&[], true, false).item(), ss / 4.0);
    assert!(Tensor::ones([1], DType::F64)
        .var(&[], true, false)
        .item()
        .is_nan());
}

#[test]
fn argmax_takes_the_first_of_ties_and_nan_wins() {
    let x = Tensor::from_vec(vec![1.0f64, 3.0, 3.0, 0.0, 2.0, 2.0], [2, 3]);
    assert_eq!(x.argmax_indices(1), vec![1, 1]);
    assert_eq!(x.argmax_indices(0), vec![0, 0, 0]);
    let y = Tensor::from_vec(vec![1.0f64, f64::NAN, 5.0], [3]);
    assert_eq!(y.argmax_indices(0), vec![1]);
    assert!(y.max(&[], false).item().is_nan());
    assert!(y.min(&[0], false).item().is_nan());
    let z = Tensor::from_vec(vec![f64::NAN, 1.0], [2]);
    assert!(z.max(&[0], false).item().is_nan());
    assert!(z.min(&[0], false).item().is_nan());
}

#[test]
fn logsumexp_handles_infinities() {
    let x = Tensor::from_vec(
        vec![
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
            0.0,
            f64::NEG_INFINITY,
            1000.0,
            1000.0,
        ],
        [3, 2],
    );
    let l = x.logsumexp(&[1], false).to_vec_f64();
    assert_eq!(l[0], f64::NEG_INFINITY);
    assert_eq!(l[1], 0.0);
    assert!((l[2] - (1000.0 + 2f64.ln())).abs() < 1e-12);
    let s = x.softmax(1).to_vec_f64();
    assert_eq!(&s[2..], &[1.0, 0.0, 0.5, 0.5]);
}

#[test]
fn reductions_of_scalars_and_empty_tensors() {
    let s = Tensor::scalar(2.5, DType::F64);
    assert_eq!(s.sum(&[], false).item(), 2.5);
    assert_eq!(s.max(&[], true).item(), 2.5);
    assert_eq!(s.mean(&[], false).item(), 2.5);
    // PyTorch accepts dim 0 / -1 on a 0-d tensor and reduces nothing.
    assert_eq!(s.sum(&[0], false).item(), 2.5);
    assert_eq!(s.sum(&[-1], true).dims(), &[] as &[usize]);
    assert_eq!(s.softmax(0).item(), 1.0);
    let e = Tensor::zeros([0, 3], DType::F32);
    assert_eq!(e.sum(&[0], false).to_vec_f32(), vec![0.0; 3]);
    assert_eq!(e.sum(&[1], false).dims(), &[0]);
    assert_eq!(e.sum_all().item(), 0.0);
    assert!(e.mean_all().item().is_nan());
}

/// A ≥ 1M-element sum over all axes, the leading axis and the trailing axis (the parallel,
/// blocked paths) against f64 references.
#[test]
fn large_reductions_are_accurate() {
    let (r, c) = (1031, 1030);
    let v = values(r * c, 11, DType::F32);
    let x = from_f64(v.clone(), &[r, c], DType::F32);
    let total: f64 = v.iter().sum();
    let abs: f64 = v.iter().map(|x| x.abs()).sum();
    let got = x.sum_all().item();
    assert!((got - total).abs() <= 1e-5 * abs, "{got} vs {total}");
    let cols = x.sum(&[0], false).to_vec_f64();
    let rows = x.sum(&[1], false).to_vec_f64();
    let maxs = x.max(&[0], false).to_vec_f64();
    for j in 0..c {
        let want: f64 = (0..r).map(|i| v[i * c + j]).sum();
        let a: f64 = (0..r).map(|i| v[i * c + j].abs()).sum();
        assert!((cols[j] - want).abs() <= 2e-4 * a, "col {j}");
        let m = (0..r)
            .map(|i| v[i * c + j])
            .fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(maxs[j], m, "max col {j}");
    }
    for i in 0..r {
        let want: f64 = v[i * c..(i + 1) * c].iter().sum();
        let a: f64 = v[i * c..(i + 1) * c].iter().map(|x| x.abs()).sum();
        assert!((rows[i] - want).abs() <= 2e-4 * a, "row {i}");
    }
    // the middle axis of a 3-D view: permute + contiguous path
    let y = x.reshape([r, 10, 103]);
    let mid = y.sum(&[1], false).to_vec_f64();
    for i in [0, 517, r - 1] {
        for k in [0, 50, 102] {
            let want: f64 = (0..10).map(|j| v[i * c + j * 103 + k]).sum();
            assert!((mid[i * 103 + k] - want).abs() < 1e-4, "({i}, {k})");
        }
    }
}

/// Summing 2^20 copies of 0.1 in f32 along any axis layout stays within 3e-5 of the exact
/// value (a sequential f32 sum drifts by ~1%).
#[test]
fn long_sums_are_accurate_on_every_path() {
    let n = 1usize << 20;
    let want = 0.1f32 as f64 * n as f64;
    let cases: Vec<(Tensor, Vec<isize>, f64)> = vec![
        (Tensor::full([n], 0.1, DType::F32), vec![], want),
        (Tensor::full([n, 1], 0.1, DType::F32), vec![0], want),
        (Tensor::full([2, n], 0.1, DType::F32), vec![1], want),
        (Tensor::full([n, 3], 0.1, DType::F32), vec![0], want),
        (
            Tensor::full([n / 64, 64], 0.1, DType::F32),
            vec![0],
            want / 64.0,
        ),
        (
            Tensor::full([n / 2, 2], 0.1, DType::F32).t(),
            vec![1],
            want / 2.0,
        ),
        // batch-norm layout: outer and inner axes reduced, the middle kept
        (
            Tensor::full([n / 4, 2, 2], 0.1, DType::F32),
            vec![0, 2],
            want / 2.0,
        ),
        (
            Tensor::full([n / 8, 2, 4], 0.1, DType::F32),
            vec![0, 2],
            want / 2.0,
        ),
    ];
    for (t, axes, w) in cases {
        for got in t.sum(&axes, false).to_vec_f64() {
            let rel = (got - w).abs() / w;
            assert!(
                rel < 3e-5,
                "sum of {:?} over {axes:?}: {got} vs {w} (rel {rel:e})",
                t.dims()
            );
        }
    }
}

#[test]
fn sum_to_by_hand() {
    let g = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
    assert_eq!(
        g.sum_to(&Shape::new(&[3])).to_vec_f32(),
        vec![5.0, 7.0, 9.0]
    );
    assert_eq!(g.sum_to(&Shape::new(&[2, 1])).to_vec_f32(), vec![6.0, 15.0]);
    assert_eq!(g.sum_to(&Shape::new(&[1, 3])).dims(), &[1, 3]);
    assert_eq!(g.sum_to(&Shape::new(&[])).item(), 21.0);
    assert_eq!(g.sum_to(&Shape::new(&[2, 3])).to_vec_f32(), g.to_vec_f32());
}

#[test]
fn dot_and_sum_in_one_pass_equal_two_passes_bit_for_bit() {
    use minimax_tensor::kernels::reduce::{dot_and_sum_lanes8, sum_lanes8};
    for len in 0..40 {
        let a: Vec<f32> = (0..len)
            .map(|i| ((i * 37) % 11) as f32 * 0.37 - 1.3)
            .collect();
        let b: Vec<f32> = (0..len)
            .map(|i| ((i * 17) % 7) as f32 * 0.29 - 0.8)
            .collect();
        let (d, s) = dot_and_sum_lanes8(&a, &b);
        assert_eq!(
            d.to_bits(),
            sum_lanes8(&a, &b, |x, y| x * y).to_bits(),
            "dot, {len}"
        );
        assert_eq!(
            s.to_bits(),
            sum_lanes8(&a, &a, |x, _| x).to_bits(),
            "sum, {len}"
        );
        let (a64, b64): (Vec<f64>, Vec<f64>) = (
            a.iter().map(|&v| v.into()).collect(),
            b.iter().map(|&v| v.into()).collect(),
        );
        let (d, s) = dot_and_sum_lanes8(&a64, &b64);
        assert_eq!(
            d.to_bits(),
            sum_lanes8(&a64, &b64, |x, y| x * y).to_bits(),
            "f64 dot, {len}"
        );
        assert_eq!(
            s.to_bits(),
            sum_lanes8(&a64, &a64, |x, _| x).to_bits(),
            "f64 sum, {len}"
        );
    }
}

/// Rows of large magnitude (about 1e4, differences of a few units): `log_softmax` in f32
/// against an f64 reference computed from the same f32 inputs. Computed as
/// (x − m) − ln Σ e^(x−m) (PyTorch's order), x − m is exact and every log-probability is
/// within a few 1e-7 of the reference; the old x − (m + ln Σ e^(x−m)) rounded m + ln Σ to
/// f32, half an ulp of 1e4 (4.9e-4), in every element.
#[test]
fn log_softmax_of_rows_of_large_magnitude_is_accurate_elementwise() {
    let (rows, cols) = (64, 10);
    let mut rng = minimax_tensor::Rng::seed(21);
    let x = Tensor::rand_uniform([rows, cols], -2.0, 2.0, DType::F32, &mut rng).add_scalar(1e4);
    let xv = x.to_vec_f64(); // exactly the f32 inputs
    let got = x.log_softmax(1).to_vec_f64();
    let mut worst = 0.0f64;
    for r in 0..rows {
        let row = &xv[r * cols..(r + 1) * cols];
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        for c in 0..cols {
            worst = worst.max((got[r * cols + c] - ((row[c] - m) - lse)).abs());
        }
    }
    eprintln!("log_softmax, rows around 1e4 in f32: largest elementwise error {worst:e}");
    assert!(worst < 2e-6, "largest elementwise error {worst:e}");
}
