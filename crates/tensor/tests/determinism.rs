//! Every kernel family gives bit-identical results on 1 and 2 threads (fixed chunking, results
//! combined in chunk order, GEMM blocks computed with the same operation sequence).

mod common;

use common::*;
use minimax_tensor::{DType, Tensor};

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

/// Runs `f` in a 1-thread and a 2-thread pool and asserts the results have the same shape,
/// dtype and bits.
#[track_caller]
fn same_on_1_and_2_threads(what: &str, f: impl Fn() -> Tensor + Send + Sync) {
    let one = pool(1).install(&f);
    let two = pool(2).install(&f);
    assert_eq!(one.dims(), two.dims(), "{what}: shapes differ");
    assert_eq!(one.dtype(), two.dtype());
    let (a, b) = (one.to_vec_f64(), two.to_vec_f64());
    let differ = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x.to_bits() != y.to_bits() && !(x.is_nan() && y.is_nan()));
    if let Some(i) = differ {
        panic!(
            "{what}: element {i} differs: {:e} (1 thread) vs {:e} (2 threads)",
            a[i], b[i]
        );
    }
}

fn t(d: &[usize], seed: u64, dt: DType) -> Tensor {
    rand_tensor(d, seed, dt, Layout::Contiguous).0
}

#[test]
fn elementwise_is_thread_count_independent() {
    let n = (1 << 20) + 123;
    for dt in [DType::F32, DType::F64] {
        let x = t(&[n], 1, dt);
        let y = t(&[n], 2, dt);
        same_on_1_and_2_threads("exp", || x.exp());
        same_on_1_and_2_threads("tanh", || x.tanh());
        same_on_1_and_2_threads("add", || x.add(&y));
        same_on_1_and_2_threads("mul of a transposed view", || {
            let a = x.narrow(0, 0, 1024 * 1024).reshape([1024, 1024]);
            a.t().mul(&a)
        });
    }
}

#[test]
fn broadcast_binary_is_thread_count_independent() {
    for dt in [DType::F32, DType::F64] {
        let a = t(&[1024, 1025], 3, dt);
        let row = t(&[1025], 4, dt);
        let col = t(&[1024, 1], 5, dt);
        same_on_1_and_2_threads("[1024,1025] + [1025]", || a.add(&row));
        same_on_1_and_2_threads("[1024,1] * [1025]", || col.mul(&row));
        same_on_1_and_2_threads("where", || Tensor::where_(&a.gt_scalar(0.0), &a, &row));
    }
}

#[test]
fn reductions_are_thread_count_independent() {
    for dt in [DType::F32, DType::F64] {
        // 1031 * 1030 > 1M elements
        let x = t(&[1031, 1030], 6, dt);
        let x3 = x.reshape([1031, 10, 103]);
        same_on_1_and_2_threads("sum all", || x.sum_all());
        same_on_1_and_2_threads("sum leading", || x.sum(&[0], false));
        same_on_1_and_2_threads("sum trailing", || x.sum(&[1], false));
        same_on_1_and_2_threads("sum leading two", || x3.sum(&[0, 1], false));
        same_on_1_and_2_threads("sum middle", || x3.sum(&[1], true));
        same_on_1_and_2_threads("sum outer and inner", || x3.sum(&[0, 2], false));
        let nchw = x.reshape([1031, 5, 2, 103]);
        same_on_1_and_2_threads("sum over N, H, W", || nchw.sum(&[0, 2, 3], true));
        same_on_1_and_2_threads("max over N, H, W", || nchw.max(&[0, 2, 3], false));
        same_on_1_and_2_threads("sum of a transposed view", || x.t().sum(&[1], false));
        same_on_1_and_2_threads("mean all", || x.mean_all());
        same_on_1_and_2_threads("var trailing", || x.var(&[1], true, false));
        same_on_1_and_2_threads("max all", || x.max(&[], false));
        same_on_1_and_2_threads("min leading", || x.min(&[0], false));
        same_on_1_and_2_threads("logsumexp trailing", || x.logsumexp(&[-1], false));
        let long = t(&[(1 << 20) + 77], 7, dt);
        same_on_1_and_2_threads("sum of a long vector", || long.sum_all());
    }
}

#[test]
fn matmul_is_thread_count_independent() {
    for dt in [DType::F32, DType::F64] {
        let a = t(&[300, 500], 8, dt);
        let b = t(&[500, 400], 9, dt);
        same_on_1_and_2_threads("300x500x400", || a.matmul(&b));
        let bt = t(&[400, 500], 10, dt);
        same_on_1_and_2_threads("300x500x400, B transposed", || a.matmul(&bt.t()));
        let tall = t(&[400, 500], 11, dt);
        same_on_1_and_2_threads("400x500x300 (row blocks)", || {
            tall.matmul(&b.narrow(1, 0, 300))
        });
        let ab = t(&[8, 100, 120], 12, dt);
        let bb = t(&[120, 90], 13, dt);
        same_on_1_and_2_threads("batched, broadcast B", || ab.matmul(&bb));
        let bb2 = t(&[8, 120, 90], 14, dt);
        same_on_1_and_2_threads("batched", || ab.matmul(&bb2));
        // W2's layer shape (4.2 M multiply-adds: split since the threshold went down to 2 M),
        // and Linear's x·Wᵀ + b with the bias written before the product is added
        let x = t(&[256, 128], 15, dt);
        let w = t(&[130, 128], 16, dt);
        let bias = t(&[130], 17, dt);
        same_on_1_and_2_threads("256x128x130, B transposed", || x.matmul(&w.t()));
        same_on_1_and_2_threads("linear", || x.linear(&w, Some(&bias)));
    }
}

#[test]
fn softmax_is_thread_count_independent() {
    for dt in [DType::F32, DType::F64] {
        let x = t(&[1024, 1025], 15, dt);
        same_on_1_and_2_threads("softmax last", || x.softmax(-1));
        same_on_1_and_2_threads("softmax first", || x.softmax(0));
        same_on_1_and_2_threads("log_softmax last", || x.log_softmax(-1));
    }
}

#[test]
fn normalize_is_thread_count_independent() {
    for dt in [DType::F32, DType::F64] {
        // batch norm's [N, C, H, W] over (0, 2, 3), large enough to run in parallel
        let x = t(&[64, 64, 14, 14], 31, dt);
        let g = t(&[64, 64, 14, 14], 32, dt);
        same_on_1_and_2_threads("normalize", || x.normalize_with_stats(&[0, 2, 3], 1e-5).0);
        let y = x.normalize_with_stats(&[0, 2, 3], 1e-5).0;
        same_on_1_and_2_threads("normalize_backward", || {
            g.normalize_backward(&x, &y, &[0, 2, 3], 1e-5)
        });
        let w = t(&[64], 33, dt);
        same_on_1_and_2_threads("channel_affine", || x.channel_affine(&w, Some(&w)));
        same_on_1_and_2_threads("channel_affine_backward (w)", || {
            g.channel_affine_backward(&x).0
        });
        same_on_1_and_2_threads("channel_affine_backward (b)", || {
            g.channel_affine_backward(&x).1
        });
    }
}

/// Padding and its reflect adjoint split planes between threads from 2¹⁶ elements: a residual
/// block's 64 × 64 × 4 × 4 activations padded by 1, and a 7×7 convolution's pad of 3, give the
/// same bits on 1 and 2 threads, and the parallel adjoint equals the index-by-index sum.
#[test]
fn padding_is_thread_count_independent() {
    use minimax_tensor::PadMode;
    for dt in [DType::F32, DType::F64] {
        for (d, p) in [([64, 64, 4, 4], 1), ([64, 32, 8, 8], 3)] {
            let x = t(&d, 41, dt);
            let pads = [(p, p), (p, p)];
            same_on_1_and_2_threads("reflect pad", || x.pad(&pads, PadMode::Reflect));
            same_on_1_and_2_threads("constant pad", || x.pad(&pads, PadMode::Constant(0.5)));
            let padded = x.pad(&pads, PadMode::Reflect);
            let g = t(padded.dims(), 42, dt);
            same_on_1_and_2_threads("reflect adjoint", || g.pad_reflect_adjoint(&pads, x.dims()));
            // the adjoint by index arithmetic: every padded position adds to its source
            let (h, w) = (d[2], d[3]);
            let (oh, ow) = (h + 2 * p, w + 2 * p);
            let src = |o: usize, n: usize| {
                let i = o as isize - p as isize;
                (if i < 0 {
                    -i
                } else if i >= n as isize {
                    2 * (n as isize - 1) - i
                } else {
                    i
                }) as usize
            };
            let gv = g.to_vec_f64();
            let mut want = vec![0.0; x.numel()];
            for plane in 0..d[0] * d[1] {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let v = gv[(plane * oh + oy) * ow + ox];
                        let i = (plane * h + src(oy, h)) * w + src(ox, w);
                        want[i] = if dt == DType::F32 {
                            (want[i] as f32 + v as f32) as f64
                        } else {
                            want[i] + v
                        };
                    }
                }
            }
            let got = pool(2).install(|| g.pad_reflect_adjoint(&pads, x.dims()));
            assert_eq!(got.to_vec_f64(), want, "{dt:?} {d:?} pad {p}: adjoint");
        }
    }
}
