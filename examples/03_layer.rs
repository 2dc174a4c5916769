//! 03 — modules: build two small models, print them, run them, list their parameters by
//! path, watch batch norm change behaviour between training and evaluation mode, freeze a
//! layer, and share one.
//!
//! Run: `cargo run --release --example 03_layer [-- DIR]`
//!
//! With a directory argument it also writes both models there as `mlp.safetensors` and
//! `cnn.safetensors` (the files docs/nn.md reads from Python).

use autograd::Tape;
use nn::checkpoint::{save_checkpoint, Extras};
use nn::layers::{BatchNorm2d, Conv2d, Flatten, LeakyReLU, Linear, ReLU, Sequential};
use nn::loss::{mse, Reduction};
use nn::optim::{Optimizer, Sgd, SgdConfig};
use nn::Module;
use tensor::{Conv2dParams, DType, Rng, Tensor};

/// Per-channel mean and biased variance of a `[N, C, H, W]` tensor, as two short lists.
fn channel_stats(t: &Tensor) -> (Vec<f64>, Vec<f64>) {
    (
        t.mean(&[0, 2, 3], false).to_vec_f64(),
        t.var(&[0, 2, 3], false, false).to_vec_f64(),
    )
}

fn fmt(v: &[f64]) -> String {
    // rounded first, so that −0.00001 prints as +0.0000
    let s: Vec<String> = v
        .iter()
        .map(|x| format!("{:+.4}", (x * 1e4).round() / 1e4 + 0.0))
        .collect();
    format!("[{}]", s.join(", "))
}

fn main() {
    minimax::quiet_broken_pipes();
    let out_dir = std::env::args().nth(1);
    let mut rng = Rng::seed(0);

    // ----------------------------------------------------------------- an MLP
    println!("== A multilayer perceptron ==\n");
    let mlp = Sequential::new()
        .add(Linear::new(2, 128, true, &mut rng))
        .add(ReLU::new())
        .add(Linear::new(128, 1, true, &mut rng));
    print!("{}", mlp.summary());

    let tape = Tape::new();
    let x = tape.constant(Tensor::from_vec(
        vec![0.0f32, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0],
        [4, 2],
    ));
    let y = mlp.forward(&x);
    println!("\nforward: x {:?} -> y {:?}", x.dims(), y.dims());
    println!("y = {}", y.value());

    println!("\nnamed_params() (the state_dict keys):");
    for (name, p) in mlp.named_params() {
        println!("  {name:<10} {:?}", p.value().dims());
    }

    // ----------------------------------------------------------------- a small CNN
    println!("\n== A convolutional network with batch norm ==\n");
    let cnn = Sequential::new()
        .add(Conv2d::with_options(
            1,
            8,
            (3, 3),
            Conv2dParams::new((2, 2), (1, 1)),
            false,
            &mut rng,
        ))
        .add(BatchNorm2d::new(8))
        .add(LeakyReLU::new(0.2))
        .add(Flatten::new())
        .add(Linear::new(8 * 4 * 4, 1, true, &mut rng));
    print!("{}", cnn.summary());
    println!("\nnamed_params():");
    for (name, p) in cnn.named_params() {
        println!("  {name:<16} {:?}", p.value().dims());
    }
    println!("named_buffers() (saved, not trained):");
    for (name, b) in cnn.named_buffers() {
        println!("  {name:<16} {:?}", b.value().dims());
    }

    // ----------------------------------------------------------------- train / eval
    println!("\n== Training and evaluation mode ==\n");
    let images = Tensor::randn([16, 1, 8, 8], 0.5, 2.0, DType::F32, &mut rng);
    let run = |label: &str| {
        let tape = Tape::new();
        let outs = cnn.forward_all(&tape.constant(images.clone()));
        let (m, v) = channel_stats(outs[1].value()); // the BatchNorm2d output
        println!("{label}: batch-norm output, first 4 channels");
        println!("  mean {}", fmt(&m[..4]));
        println!("  var  {}", fmt(&v[..4]));
        outs.last().unwrap().value().to_vec_f32()
    };
    let bn_buffers = |label: &str| {
        let b = cnn.named_buffers();
        let rm = b[0].1.value().to_vec_f64();
        let rv = b[1].1.value().to_vec_f64();
        println!("{label}: running_mean {}", fmt(&rm[..4]));
        println!("{label}: running_var  {}", fmt(&rv[..4]));
    };
    bn_buffers("before");
    let train_out = run("train mode (batch statistics)");
    bn_buffers("after one training pass");
    cnn.eval();
    let eval_out = run("eval mode (running statistics)");
    println!(
        "network output for image 0: train {:+.4}, eval {:+.4}",
        train_out[0], eval_out[0]
    );
    cnn.train(true);

    // ----------------------------------------------------------------- freezing
    println!("\n== Freezing a layer ==\n");
    mlp.get(0).unwrap().set_requires_grad(false);
    let mut opt = Sgd::new(mlp.named_params(), SgdConfig::default().lr(0.1)).unwrap();
    let tape = Tape::new();
    let x = tape.constant(Tensor::from_vec(vec![1.0f32, 2.0], [1, 2]));
    let target = tape.constant(Tensor::from_vec(vec![1.0f32], [1, 1]));
    mse(&mlp.forward(&x), &target, Reduction::Mean).backward();
    for (name, p) in mlp.named_params() {
        println!(
            "  {name:<10} requires_grad {:<5}  grad {}",
            p.requires_grad(),
            if p.grad().is_some() {
                "computed"
            } else {
                "None"
            }
        );
    }
    println!("  step: {}", opt.step().unwrap());
    opt.zero_grad();
    mlp.set_requires_grad(true);

    // ----------------------------------------------------------------- sharing
    println!("\n== Sharing a layer ==\n");
    let shared = Linear::new(2, 2, false, &mut rng);
    let twice = Sequential::new().add(shared.shared()).add(shared.shared());
    let names: Vec<String> = twice.named_params().into_iter().map(|(n, _)| n).collect();
    let ps = twice.params();
    println!("paths {names:?}; the same Param: {}", ps[0].ptr_eq(&ps[1]));
    let tape = Tape::new();
    let x = tape.constant(Tensor::from_vec(vec![1.0f32, -1.0], [1, 2]));
    twice.forward(&x).sum_all().backward(); // Σ W(Wx)
    let w = shared.weight.value();
    let xv = x.value();
    // y = (x·Wᵀ)·Wᵀ; ∂Σy/∂W = 1ᵀ·(x·Wᵀ) (outer use) + (1·W)ᵀ·x (inner use)
    let ones = Tensor::ones([1, 2], DType::F32);
    let by_hand = ones
        .t()
        .matmul(&xv.matmul(&w.t()))
        .add(&ones.matmul(&w).t().matmul(xv));
    println!(
        "gradient accumulated in the shared weight: {}",
        shared.weight.grad().unwrap()
    );
    println!("first use + second use, by hand:          {by_hand}");

    if let Some(dir) = out_dir {
        std::fs::create_dir_all(&dir).expect("create the output directory");
        println!();
        for (name, m) in [("mlp", &mlp), ("cnn", &cnn)] {
            let path = std::path::Path::new(&dir).join(format!("{name}.safetensors"));
            save_checkpoint(&path, m, &Extras::new()).expect("save");
            println!("wrote {}", path.display());
        }
    }
}
