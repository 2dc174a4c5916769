//! W5: one convolution layer of the DCGAN discriminator (`Conv2d(64, 128, 4, 2, 1)` on a
//! 64×64×14×14 batch) and of its generator (`ConvTranspose2d(128, 64, 4, 2, 1)` on 64×128×7×7),
//! f32: the forward pass and the two gradient kernels autograd calls in the backward pass.
//!
//! Included by a bench root as `#[path = "common/conv.rs"] mod conv;` and run as
//! `conv::run(threads)`, which works inside its own rayon pool of that many threads (the global
//! pool is never created here). Prints one line per case:
//! `bench=w5a-conv2d impl=minimax case=forward threads=1 median_ms=… min_ms=… gflops=…`
//! (gflops counts the direct algorithm's multiply-adds, so Winograd can exceed the peak).

use std::time::Instant;
use tensor::{Conv2dParams, ConvTranspose2dParams, DType, Rng, Tensor};

const WARMUP: usize = 3;
const ITERS: usize = 20;

/// Times `f` (3 warm-ups, then 20 timed calls) and prints the line; `flops` is per call.
fn time_case(bench: &str, case: &str, threads: usize, flops: f64, mut f: impl FnMut() -> Tensor) {
    let imp = if tensor::winograd_enabled() {
        "minimax"
    } else {
        "minimax-direct"
    };
    for _ in 0..WARMUP {
        std::hint::black_box(f());
    }
    let mut ms: Vec<f64> = (0..ITERS)
        .map(|_| {
            let t0 = Instant::now();
            std::hint::black_box(f());
            t0.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = if ITERS % 2 == 1 {
        ms[ITERS / 2]
    } else {
        0.5 * (ms[ITERS / 2 - 1] + ms[ITERS / 2])
    };
    println!(
        "bench={bench} impl={imp} case={case} threads={threads} median_ms={median:.3} min_ms={:.3} gflops={:.2}",
        ms[0],
        flops / (median * 1e-3) / 1e9
    );
}

/// Runs the W5 cases on a rayon pool of `threads` threads and prints their timings:
/// `impl=minimax` with the Winograd path switched on (`tensor::set_winograd(true)`, opt-in in the
/// library), then `impl=minimax-direct` with im2col + GEMM, the library's default. (The labels
/// date from when Winograd was the default for these layers.)
pub fn run(threads: usize) {
    for winograd in [true, false] {
        let before = tensor::set_winograd(winograd);
        run_cases(threads);
        tensor::set_winograd(before);
    }
}

fn run_cases(threads: usize) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("rayon pool");
    pool.install(|| {
        let mut rng = Rng::seed(5);
        let f32 = DType::F32;

        // W5a: Conv2d(64, 128, 4, 2, 1) on [64, 64, 14, 14] -> [64, 128, 7, 7]
        let (n, cin, cout, k, h) = (64, 64, 128, 4, 14);
        let ho = 7;
        let x = Tensor::randn([n, cin, h, h], 0.0, 1.0, f32, &mut rng);
        let w = Tensor::randn([cout, cin, k, k], 0.0, 0.05, f32, &mut rng);
        let b = Tensor::randn([cout], 0.0, 0.05, f32, &mut rng);
        let gy = Tensor::randn([n, cout, ho, ho], 0.0, 1.0, f32, &mut rng);
        let p = Conv2dParams::new((2, 2), (1, 1));
        let flops = 2.0 * (n * cout * ho * ho * cin * k * k) as f64;
        let name = "w5a-conv2d";
        time_case(name, "forward", threads, flops, || {
            x.conv2d(&w, Some(&b), p)
        });
        time_case(name, "input-grad", threads, flops, || {
            gy.conv2d_input_grad(&w, (h, h), p)
        });
        time_case(name, "weight-grad", threads, flops, || {
            x.conv2d_weight_grad(&gy, w.shape(), p)
        });

        // W5b: ConvTranspose2d(128, 64, 4, 2, 1) on [64, 128, 7, 7] -> [64, 64, 14, 14]
        let (n, cin, cout, k, h) = (64, 128, 64, 4, 7);
        let ho = 14;
        let x = Tensor::randn([n, cin, h, h], 0.0, 1.0, f32, &mut rng);
        let w = Tensor::randn([cin, cout, k, k], 0.0, 0.05, f32, &mut rng);
        let b = Tensor::randn([cout], 0.0, 0.05, f32, &mut rng);
        let gy = Tensor::randn([n, cout, ho, ho], 0.0, 1.0, f32, &mut rng);
        let p = ConvTranspose2dParams::new((2, 2), (1, 1));
        let flops = 2.0 * (n * cin * h * h * cout * k * k) as f64;
        let name = "w5b-conv-transpose2d";
        time_case(name, "forward", threads, flops, || {
            x.conv_transpose2d(&w, Some(&b), p)
        });
        time_case(name, "input-grad", threads, flops, || {
            gy.conv_transpose2d_input_grad(&w, p)
        });
        time_case(name, "weight-grad", threads, flops, || {
            x.conv_transpose2d_weight_grad(&gy, w.shape(), p)
        });

        // W6's residual-block layer: Conv2d(64, 64, 3) on a reflection-padded
        // [64, 64, 6, 6] -> [64, 64, 4, 4], and its last layer Conv2d(32, 1, 7) on
        // [64, 32, 14, 14] -> [64, 1, 8, 8]
        for (name, cin, cout, k, h) in
            [("w6-res-conv", 64, 64, 3, 6), ("w6-out-conv", 32, 1, 7, 14)]
        {
            let ho = h - k + 1;
            let x = Tensor::randn([64, cin, h, h], 0.0, 1.0, f32, &mut rng);
            let w = Tensor::randn([cout, cin, k, k], 0.0, 0.05, f32, &mut rng);
            let b = Tensor::randn([cout], 0.0, 0.05, f32, &mut rng);
            let gy = Tensor::randn([64, cout, ho, ho], 0.0, 1.0, f32, &mut rng);
            let p = Conv2dParams::default();
            let flops = 2.0 * (64 * cout * ho * ho * cin * k * k) as f64;
            time_case(name, "forward", threads, flops, || {
                x.conv2d(&w, Some(&b), p)
            });
            time_case(name, "input-grad", threads, flops, || {
                gy.conv2d_input_grad(&w, (h, h), p)
            });
            time_case(name, "weight-grad", threads, flops, || {
                x.conv2d_weight_grad(&gy, w.shape(), p)
            });
        }
    });
}
