//! W2 and W3 of ../shared/peers: one GAN training iteration (a D step on real + detached fake,
//! then a G step), built only from minimax's crates, with the peers' layers, loss
//! (BCE-with-logits = the non-saturating objective), Adam(2e-4, (0.5, 0.999)) and batch sizes.
//!
//! `cargo bench --bench training [-- w2|w3|w6|w7]` prints, for 1 and 2 threads:
//! `bench=w2-mlp-gan-2d threads=N median_ms=… min_ms=…`,
//! `bench=w3-dcgan-28 threads=N median_ms=… min_ms=… gflops=…` (gflops from the peers' nominal
//! 11 GFLOP per iteration),
//! `bench=w6-cyclegan-8 threads=N median_ms=… min_ms=…` (one CycleGAN iteration on 8×8 images)
//! and `bench=w7-stargan-gp-32 threads=N median_ms=… min_ms=…` (one StarGAN critic step with
//! its gradient penalty, a double backward through a conv stack, on 32×32 images).
//!
//! One difference in structure, stated rather than hidden: during the G step our D is frozen
//! (`set_requires_grad(false)`), so its weight gradients are not computed there; PyTorch's
//! reference loop computes and then discards them.

use gan::data::Dataset;
use gan::method::gan_adam;
use gan::methods::cyclegan::cycle_discriminator;
use gan::methods::stargan::StarD;
use gan::methods::vanilla::{Gan, GanConfig};
use gan::models::{dcgan_discriminator, dcgan_generator, mlp_discriminator, mlp_generator};
use gan::objectives::gradient_penalty_at;
use nn::loss::{cross_entropy, l1, Reduction};
use nn::optim::compute_gradients;
use nn::{
    params_of, Conv2d, ConvTranspose2d, Frozen, InstanceNorm2d, Module, Optimizer, ReLU,
    ReflectionPad2d, ResidualBlock, Sequential, Tanh,
};
use std::time::Instant;
use tensor::{Conv2dParams, ConvTranspose2dParams, DType, Rng, Tensor};

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
                return;
            }
            if filter.as_deref() == Some("w6-layers") {
                w6_layers(threads);
                return;
            }
            if want("w3") {
                w3(threads);
            }
            if want("w6") {
                w6(threads);
            }
            if want("w7") {
                w7(threads);
            }
        });
    }
}

/// `cargo bench --bench training -- w3-layers` (or `w6-layers`): where an iteration's time
/// goes, layer by layer — each layer of G and D on its input (batch 64), forward recorded, then
/// backward from a gradient of ones (input gradient and parameter gradients), medians of 20.
fn w3_layers(threads: usize) {
    let mut rng = Rng::seed(0);
    let g = dcgan_generator(100, 7, 64, &mut rng);
    let d = dcgan_discriminator(7, 64, &mut rng);
    let z = Tensor::randn([64, 100], 0.0, 1.0, DType::F32, &mut rng);
    let x = Tensor::rand_uniform([64, 1, 28, 28], -1.0, 1.0, DType::F32, &mut rng);
    layers("w3-layers", threads, &[("G", &g, z), ("D", &d, x)]);
}

/// W6's networks layer by layer (see [`w3_layers`]); a residual block counts as one layer.
fn w6_layers(threads: usize) {
    let mut rng = Rng::seed(0);
    let g = w6_generator(&mut rng);
    let d = cycle_discriminator(32, &mut rng);
    let x = Tensor::rand_uniform([64, 1, 8, 8], -1.0, 1.0, DType::F32, &mut rng);
    layers("w6-layers", threads, &[("G", &g, x.clone()), ("D", &d, x)]);
}

fn layers(tag: &str, threads: usize, nets: &[(&str, &Sequential, Tensor)]) {
    for (net, model, input) in nets {
        let mut input = input.clone();
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
                "{tag} threads={threads} {net}.{i} {:<60} fwd_ms={fwd:.3} bwd_ms={:.3}",
                layer.describe(),
                full - fwd
            );
            tf += fwd;
            tb += full - fwd;
            input = out;
        }
        println!("{tag} threads={threads} {net} total fwd_ms={tf:.3} bwd_ms={tb:.3}");
    }
}

/// W6's generator, exactly `cyclegan_models` of the peers' script (ours in the CycleGAN method
/// has three residual blocks and a 4×4 transposed conv; the bench follows the peer):
/// ReflectionPad(3) Conv(1,32,7) IN ReLU, Conv(32,64,3,2,1) IN ReLU, 2 residual blocks,
/// ConvT(64,32,3,2,1, output_padding 1) IN ReLU, ReflectionPad(3) Conv(32,1,7) Tanh.
fn w6_generator(rng: &mut Rng) -> Sequential {
    let down = Conv2dParams::new((2, 2), (1, 1));
    let up = ConvTranspose2dParams::new((2, 2), (1, 1)).with_output_padding((1, 1));
    Sequential::new()
        .add(ReflectionPad2d::all(3))
        .add(Conv2d::new(1, 32, 7, rng))
        .add(InstanceNorm2d::new(32))
        .add(ReLU::new())
        .add(Conv2d::with_options(32, 64, (3, 3), down, true, rng))
        .add(InstanceNorm2d::new(64))
        .add(ReLU::new())
        .add(ResidualBlock::cyclegan(64, rng))
        .add(ResidualBlock::cyclegan(64, rng))
        .add(ConvTranspose2d::with_options(64, 32, (3, 3), up, true, rng))
        .add(InstanceNorm2d::new(32))
        .add(ReLU::new())
        .add(ReflectionPad2d::all(3))
        .add(Conv2d::new(32, 1, 7, rng))
        .add(Tanh::new())
}

/// mean (s − t)² over a score map: LSGAN's term (PyTorch's `MSELoss` against a constant map).
fn ls(s: &autograd::Var, t: f64) -> autograd::Var {
    s.add_scalar(-t).square().mean_all()
}

/// W6 (`w6_torch`): one CycleGAN iteration, batch 64 of 1×8×8 in each domain. The G step updates
/// both generators with one Adam (LSGAN + 10·cycle L1 + 5·identity L1) while both Ds are
/// frozen, then each D takes a step on real vs the (detached) generated batch, LSGAN halved.
/// Adam 2e-4 (0.5, 0.999). No history pool, as in the peer (it changes no arithmetic).
fn w6(threads: usize) {
    let mut rng = Rng::seed(0);
    let (g_ab, g_ba) = (w6_generator(&mut rng), w6_generator(&mut rng));
    let (d_a, d_b) = (
        cycle_discriminator(32, &mut rng),
        cycle_discriminator(32, &mut rng),
    );
    let a = Tensor::rand_uniform([64, 1, 8, 8], -1.0, 1.0, DType::F32, &mut rng);
    let b = Tensor::rand_uniform([64, 1, 8, 8], -1.0, 1.0, DType::F32, &mut rng);
    let mut opt_g = gan_adam(params_of(&[("g_ab", &g_ab), ("g_ba", &g_ba)]), 2e-4).unwrap();
    let mut opt_da = gan_adam(d_a.named_params(), 2e-4).unwrap();
    let mut opt_db = gan_adam(d_b.named_params(), 2e-4).unwrap();
    {
        let tape = autograd::Tape::new();
        assert_eq!(g_ab.forward(&tape.constant(a.clone())).dims(), a.dims());
        assert_eq!(
            d_b.forward(&tape.constant(b.clone())).dims(),
            &[64, 1, 2, 2]
        );
    }
    let (med, min) = time(30, || {
        let frozen = Frozen::new(&[&d_a, &d_b]);
        let (fb, fa) = compute_gradients(&opt_g, |tape| {
            let (av, bv) = (tape.constant(a.clone()), tape.constant(b.clone()));
            let (fb, fa) = (g_ab.forward(&av), g_ba.forward(&bv));
            let gan = ls(&d_b.forward(&fb), 1.0).add(&ls(&d_a.forward(&fa), 1.0));
            let cycle = l1(&g_ba.forward(&fb), &av, Reduction::Mean).add(&l1(
                &g_ab.forward(&fa),
                &bv,
                Reduction::Mean,
            ));
            let identity = l1(&g_ab.forward(&bv), &bv, Reduction::Mean).add(&l1(
                &g_ba.forward(&av),
                &av,
                Reduction::Mean,
            ));
            let loss = gan
                .add(&cycle.mul_scalar(10.0))
                .add(&identity.mul_scalar(5.0));
            Ok::<_, ()>((loss, (fb.value().clone(), fa.value().clone())))
        })
        .unwrap();
        opt_g.step().unwrap();
        drop(frozen);
        for (d, opt, real, fake) in [(&d_a, &mut opt_da, &a, &fa), (&d_b, &mut opt_db, &b, &fb)] {
            compute_gradients(&*opt, |tape| {
                let loss = ls(&d.forward(&tape.constant(real.clone())), 1.0)
                    .add(&ls(&d.forward(&tape.constant(fake.clone())), 0.0))
                    .mul_scalar(0.5);
                Ok::<_, ()>((loss, ()))
            })
            .unwrap();
            opt.step().unwrap();
        }
    });
    println!("bench=w6-cyclegan-8 threads={threads} median_ms={med:.2} min_ms={min:.2}");
}

/// W7 (`w7_torch`): one StarGAN critic step, batch 16 of 1×32×32, 5 domains. D is `stargan_d`
/// of the peers' script: Conv(1,64,4,2,1), Conv(64,128,4,2,1), Conv(128,256,4,2,1), each with
/// LeakyReLU(0.01); source head Conv(256,1,3,1,1); class head Conv(256,5,4) with a bias (as
/// PyTorch's default). Loss: −mean D_src(x) + mean D_src(fake) + cross-entropy of the class
/// head on x + 10·E(‖∇x̂ D_src(x̂)‖₂ − 1)², α per sample, the norm over each flattened sample,
/// back-propagated through the penalty (a double backward). Adam 1e-4 (0.5, 0.999). The fake
/// batch is fixed; α is drawn afresh every step.
fn w7(threads: usize) {
    let mut rng = Rng::seed(0);
    let mut d = StarD::new(32, 64, 5, &mut rng);
    d.cls = Conv2d::with_options(256, 5, (4, 4), Conv2dParams::default(), true, &mut rng);
    let x = Tensor::rand_uniform([16, 1, 32, 32], -1.0, 1.0, DType::F32, &mut rng);
    let fake = Tensor::rand_uniform([16, 1, 32, 32], -1.0, 1.0, DType::F32, &mut rng);
    let labels: Vec<usize> = (0..16).map(|i| (i * 7) % 5).collect();
    let named = d
        .params()
        .into_iter()
        .enumerate()
        .map(|(i, p)| (format!("d.{i}"), p))
        .collect();
    let mut opt = gan_adam(named, 1e-4).unwrap();
    {
        let tape = autograd::Tape::new();
        let (src, cls) = d.forward(&tape.constant(x.clone()));
        assert_eq!((src.dims(), cls.dims()), (&[16, 1, 4, 4][..], &[16, 5][..]));
    }
    let (med, min) = time(30, || {
        let alpha = Tensor::rand_uniform([16, 1, 1, 1], 0.0, 1.0, DType::F32, &mut rng);
        compute_gradients(&opt, |tape| {
            let (xv, fv) = (tape.constant(x.clone()), tape.constant(fake.clone()));
            let (src_r, cls_r) = d.forward(&xv);
            let src_f = d.critic(&fv);
            let gp = gradient_penalty_at(&|v| d.critic(v), &xv, &fv, &alpha);
            let loss = src_r
                .mean_all()
                .neg()
                .add(&src_f.mean_all())
                .add(&cross_entropy(&cls_r, &labels, Reduction::Mean))
                .add(&gp.mul_scalar(10.0));
            Ok::<_, ()>((loss, ()))
        })
        .unwrap();
        opt.step().unwrap();
    });
    println!("bench=w7-stargan-gp-32 threads={threads} median_ms={med:.2} min_ms={min:.2}");
}
