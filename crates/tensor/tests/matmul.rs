//! Matrix products against a naive f64 triple loop: 2-D, batched, broadcast batch, 1-D
//! promotion, transposed views as operands, and sizes large enough to be split over threads.

mod common;

use common::*;
use minimax_tensor::{DType, Tensor};
use proptest::prelude::*;

/// Naive batched product of row-major `a` [batch_a.., m, k] and `b` [batch_b.., k, n] with
/// broadcast batch dimensions; returns the product and Σ|a||b| per output (for tolerances).
fn matmul_ref(
    a: &[f64],
    ad: &[usize],
    b: &[f64],
    bd: &[usize],
) -> (Vec<usize>, Vec<f64>, Vec<f64>) {
    let (an, bn) = (ad.len(), bd.len());
    let (m, k, n) = (ad[an - 2], ad[an - 1], bd[bn - 1]);
    assert_eq!(k, bd[bn - 2]);
    let (ba, bb) = (&ad[..an - 2], &bd[..bn - 2]);
    let batch = broadcast_ref(ba, bb).unwrap();
    let nb: usize = batch.iter().product();
    let mut out = vec![0.0; nb * m * n];
    let mut mag = vec![0.0; nb * m * n];
    let pick = |bi: &[usize], d: &[usize]| -> usize {
        let lead = bi.len() - d.len();
        let idx: Vec<usize> = (0..d.len())
            .map(|i| if d[i] == 1 { 0 } else { bi[lead + i] })
            .collect();
        ravel(&idx, d)
    };
    for q in 0..nb {
        let bi = unravel(q, &batch);
        let (oa, ob) = (pick(&bi, ba) * m * k, pick(&bi, bb) * k * n);
        for i in 0..m {
            for j in 0..n {
                let (mut s, mut g) = (0.0, 0.0);
                for l in 0..k {
                    let p = a[oa + i * k + l] * b[ob + l * n + j];
                    s += p;
                    g += p.abs();
                }
                out[q * m * n + i * n + j] = s;
                mag[q * m * n + i * n + j] = g;
            }
        }
    }
    let mut od = batch;
    od.extend_from_slice(&[m, n]);
    (od, out, mag)
}

fn check(got: &Tensor, od: &[usize], want: &[f64], mag: &[f64], k: usize, what: &str) {
    assert_eq!(got.dims(), od, "{what}: shape");
    let e = match got.dtype() {
        DType::F32 => f32::EPSILON as f64,
        DType::F64 => f64::EPSILON,
    };
    let g = got.to_vec_f64();
    for i in 0..want.len() {
        let tol = 2.0 * (k as f64 + 1.0) * e * mag[i];
        assert!(
            (g[i] - want[i]).abs() <= tol,
            "{what}: element {i}: got {:e}, want {:e}",
            g[i],
            want[i]
        );
    }
}

/// An operand with logical shape `d`, built either directly in a random layout or as the
/// transpose (`.t()` / `.transpose(-1, -2)`) of a tensor stored the other way round.
fn operand(d: &[usize], seed: u64, dt: DType, l: Layout, via_t: bool) -> (Tensor, Vec<f64>) {
    if !via_t || d.len() < 2 {
        return rand_tensor(d, seed, dt, l);
    }
    let nd = d.len();
    let mut sd = d.to_vec();
    sd.swap(nd - 2, nd - 1);
    let (s, _) = rand_tensor(&sd, seed, dt, l);
    let t = if nd == 2 { s.t() } else { s.transpose(-1, -2) };
    let v = t.to_vec_f64();
    (t, v)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn matmul_2d_and_batched_match_naive(
        (ba, bb, _) in broadcast_pair_upto(2),
        (m, k, n) in (0usize..7, 0usize..7, 0usize..7),
        dt in dtype(),
        (la, lb) in (layout(), layout()),
        (ta, tb) in (any::<bool>(), any::<bool>()),
        seed in any::<u64>(),
    ) {
        let mut ad = ba.clone();
        ad.extend_from_slice(&[m, k]);
        let mut bd = bb.clone();
        bd.extend_from_slice(&[k, n]);
        let (a, av) = operand(&ad, seed, dt, la, ta);
        let (b, bv) = operand(&bd, seed ^ 1, dt, lb, tb);
        let c = a.matmul(&b);
        prop_assert_eq!(c.dtype(), dt);
        let (od, want, mag) = matmul_ref(&av, &ad, &bv, &bd);
        check(&c, &od, &want, &mag, k, &format!("{ad:?}{la:?}{ta} @ {bd:?}{lb:?}{tb} {dt:?}"));
    }

    /// Products with one dimension of 1 or 2 (a matrix times a vector goes through `gemm`'s own
    /// loops, not `matrixmultiply`) and the others up to 300, every layout of either operand.
    #[test]
    fn thin_products_match_naive(
        small in 1usize..=2,
        which in 0usize..3,
        (x, y) in (1usize..300, 1usize..300),
        dt in dtype(),
        (la, lb) in (layout(), layout()),
        (ta, tb) in (any::<bool>(), any::<bool>()),
        seed in any::<u64>(),
    ) {
        let (m, k, n) = match which {
            0 => (small, x, y),
            1 => (x, small, y),
            _ => (x, y, small),
        };
        let (a, av) = operand(&[m, k], seed, dt, la, ta);
        let (b, bv) = operand(&[k, n], seed ^ 1, dt, lb, tb);
        let c = a.matmul(&b);
        let (od, want, mag) = matmul_ref(&av, &[m, k], &bv, &[k, n]);
        check(&c, &od, &want, &mag, k, &format!("[{m}, {k}]{la:?}{ta} @ [{k}, {n}]{lb:?}{tb} {dt:?}"));
    }

    /// 1-D operands are promoted (a vector on the left is a row, on the right a column) and
    /// the added dimension removed, as in PyTorch.
    #[test]
    fn matmul_promotes_vectors(
        batch in shape_rank(0, 2),
        (m, k, n) in (1usize..6, 1usize..6, 1usize..6),
        dt in dtype(),
        l in layout(),
        seed in any::<u64>(),
    ) {
        let (x, xv) = rand_tensor(&[k], seed, dt, l);
        let (y, yv) = rand_tensor(&[k], seed ^ 3, dt, l);
        let mut ad = batch.clone();
        ad.extend_from_slice(&[m, k]);
        let mut bd = batch.clone();
        bd.extend_from_slice(&[k, n]);
        let (a, av) = rand_tensor(&ad, seed ^ 5, dt, l);
        let (b, bv) = rand_tensor(&bd, seed ^ 7, dt, l);

        // vector · vector -> 0-d
        let d = x.matmul(&y);
        let (_, w, g) = matmul_ref(&xv, &[1, k], &yv, &[k, 1]);
        check(&d, &[], &w, &g, k, "vec @ vec");

        // vector @ [.., k, n] -> [.., n]
        let c = x.matmul(&b);
        let (_, w, g) = matmul_ref(&xv, &[1, k], &bv, &bd);
        let mut od = batch.clone();
        od.push(n);
        check(&c, &od, &w, &g, k, "vec @ mat");

        // [.., m, k] @ vector -> [.., m]
        let c = a.matmul(&y);
        let (_, w, g) = matmul_ref(&av, &ad, &yv, &[k, 1]);
        let mut od = batch.clone();
        od.push(m);
        check(&c, &od, &w, &g, k, "mat @ vec");
    }
}

/// Products large enough to be split into row or column blocks (and batched products large
/// enough to run batches in parallel), in 1- and 2-thread pools, with transposed operands.
#[test]
fn large_products_split_over_threads_match_naive() {
    let cases: &[(&[usize], &[usize], bool, bool)] = &[
        (&[130, 70], &[70, 200], false, false), // wider than tall: column blocks
        (&[200, 70], &[70, 130], true, false),  // taller than wide: row blocks, A transposed
        (&[150, 90], &[90, 150], false, true),  // B transposed
        (&[5, 40, 40], &[40, 40], false, false), // batched, broadcast B
        (&[3, 1, 33, 50], &[4, 50, 33], true, true), // broadcast batch, both transposed
    ];
    for dt in [DType::F32, DType::F64] {
        for (ci, &(ad, bd, ta, tb)) in cases.iter().enumerate() {
            let (a, av) = operand(ad, ci as u64, dt, Layout::Contiguous, ta);
            let (b, bv) = operand(bd, 100 + ci as u64, dt, Layout::Contiguous, tb);
            let (od, want, mag) = matmul_ref(&av, ad, &bv, bd);
            let k = ad[ad.len() - 1];
            for threads in [1, 2] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let c = pool.install(|| a.matmul(&b));
                check(
                    &c,
                    &od,
                    &want,
                    &mag,
                    k,
                    &format!("case {ci} {dt:?} {threads} threads"),
                );
            }
        }
    }
}

#[test]
fn matmul_by_hand() {
    let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
    let b = Tensor::from_vec(vec![7.0f32, 8.0, 9.0, 10.0, 11.0, 12.0], [3, 2]);
    assert_eq!(a.matmul(&b).to_vec_f32(), vec![58.0, 64.0, 139.0, 154.0]);
    assert_eq!(
        a.t().matmul(&a).to_vec_f32(),
        vec![17.0, 22.0, 27.0, 22.0, 29.0, 36.0, 27.0, 36.0, 45.0]
    );
    let v = Tensor::from_vec(vec![1.0f32, 1.0, 1.0], [3]);
    assert_eq!(a.matmul(&v).to_vec_f32(), vec![6.0, 15.0]);
    assert_eq!(v.matmul(&v).item(), 3.0);
    assert_eq!(v.matmul(&v).dims(), &[] as &[usize]);
    // broadcast (stride-0) operands and narrowed views are read in place
    let row = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], [1, 3]).expand([4, 3]);
    assert_eq!(row.matmul(&b).to_vec_f32(), [58.0, 64.0].repeat(4));
    let col = Tensor::from_vec(vec![2.0f64], [1, 1]).expand([3, 2]);
    let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], [2, 2]);
    assert_eq!(col.matmul(&x).to_vec_f64(), vec![8.0, 12.0].repeat(3));
    let n = a.narrow(1, 1, 2); // [[2, 3], [5, 6]]
    assert_eq!(n.matmul(&n).to_vec_f32(), vec![19.0, 24.0, 40.0, 51.0]);
    // empty batch
    let z = Tensor::zeros([0, 2, 3], DType::F32).matmul(&b);
    assert_eq!(z.dims(), &[0, 2, 2]);
    // empty inner dimension: zeros
    let e = Tensor::zeros([2, 0], DType::F64).matmul(&Tensor::zeros([0, 3], DType::F64));
    assert_eq!(e.to_vec_f64(), vec![0.0; 6]);
}

/// The safe `gemm` kernel checks that strided operands fit their buffers.
#[test]
#[should_panic(expected = "gemm: B (3×2) exceeds its buffer")]
fn gemm_rejects_operands_outside_their_buffers() {
    use minimax_tensor::kernels::gemm::{gemm, MatRef};
    let a = [1.0f32; 6];
    let b = [1.0f32; 5];
    let mut c = [0.0f32; 4];
    let am = MatRef {
        data: &a[..],
        offset: 0,
        rs: 3,
        cs: 1,
    };
    let bm = MatRef {
        data: &b[..],
        offset: 0,
        rs: 2,
        cs: 1,
    };
    gemm(2, 3, 2, 1.0, am, bm, 0.0, &mut c);
}

/// Negative strides are fine as long as every element is inside the buffer.
#[test]
fn gemm_accepts_negative_strides_inside_the_buffer() {
    use minimax_tensor::kernels::gemm::{gemm, MatRef};
    // A = [[1, 2], [3, 4]] read bottom-up: [[3, 4], [1, 2]]
    let a = [1.0f64, 2.0, 3.0, 4.0];
    let b = [1.0f64, 0.0, 0.0, 1.0];
    let mut c = [0.0f64; 4];
    let am = MatRef {
        data: &a[..],
        offset: 2,
        rs: -2,
        cs: 1,
    };
    let bm = MatRef {
        data: &b[..],
        offset: 0,
        rs: 2,
        cs: 1,
    };
    gemm(2, 2, 2, 1.0, am, bm, 0.0, &mut c);
    assert_eq!(c, [3.0, 4.0, 1.0, 2.0]);
}

/// `linear` is `matmul(wᵀ) + b` (the bias written first, the product added onto it), with and
/// without bias, on layouts the GEMM reads in place; bad shapes and dtypes name the op.
#[test]
fn linear_is_matmul_of_the_transpose_plus_bias() {
    for (n, i, o) in [(1, 1, 1), (5, 3, 4), (64, 100, 37), (3, 0, 2)] {
        let (x, xv) = rand_tensor(&[n, i], 1, DType::F64, Layout::Narrowed);
        let (w, wv) = rand_tensor(&[o, i], 2, DType::F64, Layout::Permuted);
        let (b, bv) = rand_tensor(&[o], 3, DType::F64, Layout::Contiguous);
        let (_, want, mag) = matmul_ref(&xv, &[n, i], &transpose(&wv, o, i), &[i, o]);
        check(
            &x.linear(&w, None),
            &[n, o],
            &want,
            &mag,
            i,
            "linear, no bias",
        );
        let with_b: Vec<f64> = want
            .iter()
            .enumerate()
            .map(|(e, v)| v + bv[e % o])
            .collect();
        let mag_b: Vec<f64> = mag
            .iter()
            .enumerate()
            .map(|(e, v)| v + bv[e % o].abs())
            .collect();
        check(
            &x.linear(&w, Some(&b)),
            &[n, o],
            &with_b,
            &mag_b,
            i + 1,
            "linear",
        );
    }
    let x = Tensor::zeros([2, 3], DType::F32);
    let err = x
        .try_linear(&Tensor::zeros([4, 2], DType::F32), None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("linear") && err.contains("[2, 3]") && err.contains("[4, 2]"),
        "{err}"
    );
    let err = x
        .try_linear(
            &Tensor::zeros([4, 3], DType::F32),
            Some(&Tensor::zeros([3], DType::F32)),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("bias must be [out]"), "{err}");
    let err = x
        .try_linear(&Tensor::zeros([4, 3], DType::F64), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("dtype mismatch"), "{err}");
}

fn transpose(v: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    (0..rows * cols)
        .map(|e| v[(e % rows) * cols + e / rows])
        .collect()
}
