//! Kernel benchmarks, one line of `key=value` pairs per figure.
//!
//! ```text
//! cargo bench --bench kernels            # everything
//! cargo bench --bench kernels -- w1      # only benches whose name starts with "w1"
//! ```
//!
//! Method (as in ../shared/peers): 3 untimed warm-up iterations, then every iteration timed
//! separately; the median and minimum are reported. Threads come from explicit rayon pools
//! (`ThreadPoolBuilder::new().num_threads(t)` + `install`).

use std::hint::black_box;
use std::time::Instant;
use tensor::{Rng, Tensor, UnaryOp};

#[path = "common/conv.rs"]
mod conv;

const WARMUP: usize = 3;

struct Stats {
    median_ms: f64,
    min_ms: f64,
}

fn ms(f: &mut impl FnMut()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64() * 1e3
}

fn time_it(iters: usize, mut f: impl FnMut()) -> Stats {
    for _ in 0..WARMUP {
        f();
    }
    stats((0..iters).map(|_| ms(&mut f)).collect())
}

/// Times `f` and `g` in alternating iterations (after 3 warm-ups each).
fn time_pair(iters: usize, mut f: impl FnMut(), mut g: impl FnMut()) -> (Stats, Stats) {
    for _ in 0..WARMUP {
        f();
        g();
    }
    let (mut vf, mut vg) = (Vec::with_capacity(iters), Vec::with_capacity(iters));
    for _ in 0..iters {
        vf.push(ms(&mut f));
        vg.push(ms(&mut g));
    }
    (stats(vf), stats(vg))
}

fn stats(mut v: Vec<f64>) -> Stats {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    let median_ms = if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    };
    Stats {
        median_ms,
        min_ms: v[0],
    }
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("rayon pool")
}

fn randn(n: usize, seed: u64) -> Vec<f32> {
    let mut r = Rng::seed(seed);
    (0..n).map(|_| r.normal() as f32).collect()
}

fn gemm_iters(n: usize) -> usize {
    match n {
        0..=64 => 2000,
        65..=256 => 200,
        257..=512 => 50,
        _ => 20,
    }
}

/// W1: C = A·B for square f32 n×n, ours (`Tensor::matmul`, output allocated per call as a
/// user would) against `matrixmultiply::sgemm` called directly into a preallocated C.
fn w1_sgemm(threads: usize) {
    let p = pool(threads);
    for n in [64usize, 256, 512, 1024] {
        let (av, bv) = (randn(n * n, 1), randn(n * n, 2));
        let a = Tensor::from_slice(&av, [n, n]);
        let b = Tensor::from_slice(&bv, [n, n]);
        let iters = gemm_iters(n);
        let flops = 2.0 * (n as f64).powi(3);
        let mut c = vec![0f32; n * n];
        // The two are timed in alternating iterations, so both see the same machine load.
        let (ours, direct) = p.install(|| {
            time_pair(
                iters,
                || {
                    black_box(a.matmul(&b));
                },
                || {
                    // SAFETY: av, bv and c hold n×n row-major f32 matrices.
                    unsafe {
                        matrixmultiply::sgemm(
                            n,
                            n,
                            n,
                            1.0,
                            av.as_ptr(),
                            n as isize,
                            1,
                            bv.as_ptr(),
                            n as isize,
                            1,
                            0.0,
                            c.as_mut_ptr(),
                            n as isize,
                            1,
                        );
                    }
                    black_box(&mut c);
                },
            )
        });
        for (name, s) in [("minimax", &ours), ("matrixmultiply", &direct)] {
            println!(
                "bench=w1-sgemm impl={name} n={n} threads={threads} median_ms={:.4} min_ms={:.4} gflops={:.1}",
                s.median_ms,
                s.min_ms,
                flops / (s.median_ms * 1e-3) / 1e9
            );
        }
    }
}

/// Elementwise f32 ops on 2^20 elements; bandwidth counts 4-byte reads and writes
/// (3 per element for binary ops, 2 for unary ops and copy).
fn elementwise(threads: usize) {
    let p = pool(threads);
    let n = 1usize << 20;
    let x = Tensor::from_vec(randn(n, 3), [n]);
    let y = Tensor::from_vec(randn(n, 4), [n]);
    let ops: [(&str, usize, &(dyn Fn() -> Tensor + Sync)); 5] = [
        ("add", 3, &|| x.add(&y)),
        ("mul", 3, &|| x.mul(&y)),
        ("exp", 2, &|| x.exp()),
        ("tanh", 2, &|| x.tanh()),
        ("copy", 2, &|| x.unary(UnaryOp::Copy)),
    ];
    for (op, words, f) in ops {
        let s = p.install(|| {
            time_it(200, || {
                black_box(f());
            })
        });
        let bytes = (words * 4 * n) as f64;
        println!(
            "bench=elementwise op={op} n={n} threads={threads} median_ms={:.4} gbps={:.2}",
            s.median_ms,
            bytes / (s.median_ms * 1e-3) / 1e9
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; the first other argument filters by bench-name prefix.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let want = |name: &str| filter.as_deref().is_none_or(|f| name.starts_with(f));
    if want("w1-sgemm") {
        println!(
            "# note: matrixmultiply is built without its `threading` feature, so \
             impl=matrixmultiply runs on one thread even at threads=2"
        );
        for t in [1, 2] {
            w1_sgemm(t);
        }
    }
    if want("elementwise") {
        for t in [1, 2] {
            elementwise(t);
        }
    }
    if want("w5") {
        for t in [1, 2] {
            conv::run(t);
        }
    }
}
