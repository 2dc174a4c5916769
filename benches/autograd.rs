//! W4 of ../shared/peers: autodiff overhead on a chain of scalar ops.
//! x is a scalar leaf; 1000 times y = y·1.0001 + 0.0001 (2000 recorded ops), then backward.
//! Prints `bench=w4-scalar-chain threads=1 median_ms=<total> us_per_op=<total/2000>`.

use autograd::Tape;
use std::time::Instant;
use tensor::{DType, Tensor};

fn iteration() -> f64 {
    let tape = Tape::new();
    let x = tape.leaf(Tensor::ones([1], DType::F32));
    let mut y = x.clone();
    for _ in 0..1000 {
        y = y.mul_scalar(1.0001).add_scalar(0.0001);
    }
    y.backward();
    x.grad().expect("x has a gradient").item()
}

fn main() {
    let filter = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    if filter
        .as_deref()
        .is_some_and(|f| !"w4-scalar-chain".starts_with(f))
    {
        return;
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    pool.install(|| {
        let g = iteration();
        assert!(
            (g - 1.0001f64.powi(1000)).abs() < 1e-2,
            "wrong gradient {g}"
        );
        for _ in 0..3 {
            iteration();
        }
        let mut ts: Vec<f64> = (0..50)
            .map(|_| {
                let t0 = Instant::now();
                std::hint::black_box(iteration());
                t0.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        ts.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let med = ts[ts.len() / 2];
        println!(
            "bench=w4-scalar-chain threads=1 median_ms={:.4} min_ms={:.4} us_per_op={:.4}",
            med,
            ts[0],
            med * 1e3 / 2000.0
        );
    });
}
