//! W2 and W3 of ../shared/peers: one GAN training iteration (a D step on real + detached fake,
//! then a G step), built only from minimax's crates, with the peers' layers, loss
//! (BCE-with-logits = the non-saturating objective), Adam(2e-4, (0.5, 0.999)) and batch sizes.
//!
//! `cargo bench --bench training [-- w2|w3]` prints, for 1 and 2 threads:
//! `bench=w2-mlp-gan-2d threads=N median_ms=… min_ms=…` and
//! `bench=w3-dcgan-28 threads=N median_ms=… min_ms=… gflops=…` (gflops from the peers' nominal
//! 11 GFLOP per iteration).
//!
//! One difference in structure, stated rather than hidden: during the G step our D is frozen
//! (`set_requires_grad(false)`), so its weight gradients are not computed there; PyTorch's
//! reference loop computes and then discards them.

use gan::data::Dataset;
use gan::methods::vanilla::{Gan, GanConfig};
use gan::models::{dcgan_discriminator, dcgan_generator, mlp_discriminator, mlp_generator};
use std::time::Instant;
use tensor::{DType, Rng, Tensor};

/// W2's data: a fresh N(0, I) batch in 2-D every time.
struct Randn2;
impl Dataset for Randn2 {
    fn sample(&self, m: usize, rng: &mut Rng) -> Tensor {
        Tensor::randn([m, 2], 0.0, 1.0, DType::F32, rng)
    }
    fn sample_shape(&self) -> Vec<usize> {
        vec![2]
    }
    fn name(&self) -> &str {
        "randn2"
    }
}

/// W3's data: one fixed batch U(−1, 1) of 28×28 images, as the peer script uses.
struct FixedImages(Tensor);
impl Dataset for FixedImages {
    fn sample(&self, m: usize, _rng: &mut Rng) -> Tensor {
        assert_eq!(m, self.0.dims()[0]);
        self.0.clone()
    }
    fn sample_shape(&self) -> Vec<usize> {
        vec![1, 28, 28]
    }
    fn name(&self) -> &str {
        "fixed-28"
    }
}

/// Timed iterations: `default`, or `MINIMAX_BENCH_ITERS` when set (a profiler run under
/// callgrind takes `MINIMAX_BENCH_ITERS=1`; the warm-up shrinks with it).
fn iterations(default: usize) -> usize {
    std::env::var("MINIMAX_BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
        .max(1)
}

fn time(iters: usize, mut f: impl FnMut()) -> (f64, f64) {
    let iters = iterations(iters);
    for _ in 0..iters.min(3) {
        f();
    }
    let mut ts: Vec<f64> = (0..iters)
        .map(|_| {
            let t0 = Instant::now();
            f();
            t0.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ts.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (ts[ts.len() / 2], ts[0])
}

fn w2(threads: usize) {
    let mut rng = Rng::seed(0);
    let g = mlp_generator(16, 128, 2, &mut rng);
    let d = mlp_discriminator(2, 128, &mut rng);
    let cfg = GanConfig {
        batch: 256,
        z_dim: 16,
        ..GanConfig::default()
    };
    let mut gan = Gan::new(Box::new(g), Box::new(d), cfg, 1).unwrap();
    let (med, min) = time(50, || {
        gan.step(&Randn2).unwrap();
    });
    println!("bench=w2-mlp-gan-2d threads={threads} median_ms={med:.3} min_ms={min:.3}");
}

fn w3(threads: usize) {
    let mut rng = Rng::seed(0);
    let g = dcgan_generator(100, 7, 64, &mut rng);
    let d = dcgan_discriminator(7, 64, &mut rng);
    let real = Tensor::rand_uniform([64, 1, 28, 28], -1.0, 1.0, DType::F32, &mut rng);
    let cfg = GanConfig {
        batch: 64,
        z_dim: 100,
        ..GanConfig::default()
    };
    let mut gan = Gan::new(Box::new(g), Box::new(d), cfg, 1).unwrap();
    let data = FixedImages(real);
    let (med, min) = time(20, || {
        gan.step(&data).unwrap();
    });
    println!(
        "bench=w3-dcgan-28 threads={threads} median_ms={med:.1} min_ms={min:.1} gflops={:.1}",
        11.0 / (med * 1e-3)
    );
}

fn main() {
    // `MINIMAX_WINOGRAD=1` times DCGAN's convolutions in Winograd form (the opt-in fast path;
    // the default is im2col + GEMM)
    if std::env::var("MINIMAX_WINOGRAD").as_deref() == Ok("1") {
        tensor::set_winograd(true);
    }
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let want = |name: &str| filter.as_deref().is_none_or(|f| name.starts_with(f));
    let only: Option<usize> = std::env::var("MINIMAX_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok());
    for threads in [1, 2] {
        if only.is_some_and(|t| t != threads) {
            continue;
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            if want("w2") {
                w2(threads);
            }
            if filter.as_deref() == Some("w3-layers") {
                w3_layers(threads);
            } else if want("w3") {
                w3(threads);
            }
        });
    }
}

/// `cargo bench --bench training -- w3-layers`: where a W3 iteration's time goes, layer by
/// layer — each layer of G and D on its W3 input (batch 64), forward recorded, then backward
/// from a gradient of ones (input gradient and parameter gradients), medians of 20.
fn w3_layers(threads: usize) {
    let mut rng = Rng::seed(0);
    let g = dcgan_generator(100, 7, 64, &mut rng);
    let d = dcgan_discriminator(7, 64, &mut rng);
    let z = Tensor::randn([64, 100], 0.0, 1.0, DType::F32, &mut rng);
    let x = Tensor::rand_uniform([64, 1, 28, 28], -1.0, 1.0, DType::F32, &mut rng);
    for (net, model, input) in [("G", &g, z), ("D", &d, x)] {
        let mut input = input;
        let (mut tf, mut tb) = (0.0, 0.0);
        for i in 0..model.len() {
            let layer = model.get(i).unwrap();
            let inp = input.clone();
            let (fwd, _) = time(20, || {
                let tape = autograd::Tape::new();
                let _ = layer.forward(&tape.leaf(inp.clone()));
            });
            let (full, _) = time(20, || {
                let tape = autograd::Tape::new();
                let y = layer.forward(&tape.leaf(inp.clone()));
                y.try_backward_with(&Tensor::ones(*y.shape(), y.dtype()))
                    .unwrap();
            });
            let tape = autograd::Tape::new();
            let out = layer.forward(&tape.leaf(inp)).value().clone();
            println!(
                "w3-layers threads={threads} {net}.{i} {:<60} fwd_ms={fwd:.3} bwd_ms={:.3}",
                layer.describe(),
                full - fwd
            );
            tf += fwd;
            tb += full - fwd;
            input = out;
        }
        println!("w3-layers threads={threads} {net} total fwd_ms={tf:.3} bwd_ms={tb:.3}");
    }
}
