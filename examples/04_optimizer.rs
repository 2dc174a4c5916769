//! 04 — optimizers, a training loop and checkpoints, on y = w·x + b (two parameters).
//!
//! One SGD step and one Adam step checked by hand, gradient ascent with `maximize` (the GAN
//! discriminator's update θ ← θ + η∇V), binary cross-entropy on logits against BCE on
//! probabilities, a training loop fitting y = 3x + 1, a run resumed from a checkpoint bit for
//! bit, a checkpoint loaded into a fresh model, two loading errors, and a `.npy` file.
//!
//! Run: `cargo run --release --example 04_optimizer [-- DIR]` (files go to DIR, by default a
//! folder in the system's temporary directory).

use autograd::{grad, Param, Tape};
use nn::checkpoint::{load_checkpoint, save_checkpoint, Extras};
use nn::io::{load_npy, save_npy};
use nn::layers::{Linear, Sequential};
use nn::loss::{bce, bce_with_logits, mse, Reduction};
use nn::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
use nn::Module;
use std::path::PathBuf;
use tensor::{DType, Rng, Tensor};

/// `Sequential(Linear(1, 1))` with w and b set by hand: parameters "0.weight" [1, 1] and
/// "0.bias" [1].
fn model(w: f32, b: f32) -> Sequential {
    Sequential::new().add(Linear::from_params(
        Param::new("weight", Tensor::from_vec(vec![w], [1, 1])),
        Some(Param::new("bias", Tensor::from_vec(vec![b], [1]))),
    ))
}

/// (w, b) of the model.
fn wb(m: &Sequential) -> (f32, f32) {
    let p = m.params();
    (p[0].value().to_vec_f32()[0], p[1].value().to_vec_f32()[0])
}

/// (∂/∂w, ∂/∂b) accumulated in the model.
fn grads(m: &Sequential) -> (f32, f32) {
    let p = m.params();
    let g = |i: usize| p[i].grad().expect("a gradient").to_vec_f32()[0];
    (g(0), g(1))
}

/// Mean squared error of the model on (x, y), recorded on a new tape.
fn loss_of(m: &Sequential, x: &Tensor, y: &Tensor) -> autograd::Var {
    let tape = Tape::new();
    mse(
        &m.forward(&tape.constant(x.clone())),
        &tape.constant(y.clone()),
        Reduction::Mean,
    )
}

/// One Adam step on a minibatch of 16 drawn with `rng`; returns the minibatch loss.
fn train_step(m: &Sequential, opt: &mut Adam, rng: &mut Rng, x: &Tensor, y: &Tensor) -> f32 {
    let idx: Vec<usize> = (0..16).map(|_| rng.below(x.dims()[0])).collect();
    let loss = loss_of(m, &x.index_select(0, &idx), &y.index_select(0, &idx));
    loss.backward();
    opt.step().expect("finite gradients");
    opt.zero_grad();
    loss.item() as f32
}

fn bits(m: &Sequential) -> Vec<u32> {
    m.params()
        .iter()
        .flat_map(|p| p.value().to_vec_f32())
        .map(f32::to_bits)
        .collect()
}

fn main() {
    minimax::quiet_broken_pipes();
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("minimax-04_optimizer"));
    std::fs::create_dir_all(&dir).expect("create the output directory");

    // Two points on y = 3x + 1, and a model starting at w = 1, b = 0.
    let x = Tensor::from_vec(vec![1.0f32, 2.0], [2, 1]);
    let y = Tensor::from_vec(vec![4.0f32, 7.0], [2, 1]);

    println!("== One step by hand ==\n");
    let m = model(1.0, 0.0);
    let loss = loss_of(&m, &x, &y);
    loss.backward();
    let (gw, gb) = grads(&m);
    println!("x = [1, 2], y = [4, 7], w = 1, b = 0: predictions [1, 2], errors [-3, -5]");
    println!("loss = ((-3)² + (-5)²) / 2 = {}", loss.item());
    println!("∂L/∂w = mean(2·err·x) = (2·-3·1 + 2·-5·2) / 2 = {gw}");
    println!("∂L/∂b = mean(2·err)   = (2·-3 + 2·-5) / 2     = {gb}");

    // SGD: θ ← θ − η∇L
    let lr = 0.01;
    let mut sgd = Sgd::new(m.named_params(), SgdConfig::default().lr(lr)).unwrap();
    let report = sgd.step().unwrap();
    let (w, b) = wb(&m);
    println!("\nSGD, η = {lr} ({report}):");
    println!("  w ← 1 − {lr}·({gw}) = {w}");
    println!("  b ← 0 − {lr}·({gb}) = {b}");
    println!("  loss {} → {:.5}", loss.item(), loss_of(&m, &x, &y).item());

    // Adam, first step: m = (1 − β₁)g, v = (1 − β₂)g², bias-corrected m̂ = g, v̂ = g², so each
    // parameter moves by η·g/(|g| + ε) ≈ η against the sign of its gradient.
    let m = model(1.0, 0.0);
    loss_of(&m, &x, &y).backward();
    let alr = 0.1;
    let mut adam = Adam::new(m.named_params(), AdamConfig::default().lr(alr)).unwrap();
    adam.step().unwrap();
    let (w, b) = wb(&m);
    let ea = adam.buffer(0, "exp_avg").unwrap().to_vec_f32()[0];
    let es = adam.buffer(0, "exp_avg_sq").unwrap().to_vec_f32()[0];
    println!("\nAdam, η = {alr}, β = (0.9, 0.999), first step (f32 arithmetic):");
    println!(
        "  exp_avg    m = 0.1·({gw}) = {ea:.6}   m̂ = m / (1 − 0.9)   = {:.4}",
        ea / 0.1
    );
    println!(
        "  exp_avg_sq v = 0.001·{} = {es:.6}   v̂ = v / (1 − 0.999) = {:.4}",
        gw * gw,
        es / 0.001
    );
    println!(
        "  w ← 1 − {alr}·m̂/(√v̂ + ε) = 1 − {alr}·({gw})/{} = {w:.6}",
        gw.abs()
    );
    println!("  b ← 0 − {alr}·({gb})/{} = {b:.6}", gb.abs());
    println!("  (each parameter moves by η against the sign of its gradient, whatever its size)");

    // maximize: gradient ascent, the discriminator's θ ← θ + η∇V. With V = −L, ascending V
    // must land exactly where descending L did.
    let m = model(1.0, 0.0);
    let v = loss_of(&m, &x, &y).neg(); // V = −L
    v.backward();
    let (vw, vb) = grads(&m);
    let mut ascent =
        Sgd::new(m.named_params(), SgdConfig::default().lr(lr).maximize(true)).unwrap();
    ascent.step().unwrap();
    let (w, b) = wb(&m);
    println!("\nSGD with maximize(true) on V = −L, η = {lr}:");
    println!("  ∇V = ({vw}, {vb})");
    println!("  w ← 1 + {lr}·{vw} = {w}");
    println!("  b ← 0 + {lr}·{vb} = {b}");
    println!("  V {} → {:.5}", v.item(), -loss_of(&m, &x, &y).item());
    let descended = model(1.0, 0.0);
    loss_of(&descended, &x, &y).backward();
    Sgd::new(descended.named_params(), SgdConfig::default().lr(lr))
        .unwrap()
        .step()
        .unwrap();
    println!(
        "  same bits as the descent step on L: {}",
        bits(&m) == bits(&descended)
    );

    // ------------------------------------------------------------ BCE on logits
    println!("\n== Why the GAN losses take logits ==\n");
    let tape = Tape::new();
    let logits = tape.leaf(Tensor::from_vec(vec![-20.0f32, 0.0, 20.0, 200.0], [4]));
    let fake = tape.constant(Tensor::zeros([4], DType::F32)); // target 0: "this sample is fake"
    let stable = bce_with_logits(&logits, &fake, None, Reduction::None);
    let naive = bce(&logits.sigmoid(), &fake, Reduction::None);
    let g_stable = grad(&[&stable.sum_all()], &[&logits], None, false)[0]
        .value()
        .clone();
    let g_naive = grad(&[&naive.sum_all()], &[&logits], None, false)[0]
        .value()
        .clone();
    println!("logit x                  {:?}", logits.value().to_vec_f32());
    println!(
        "σ(x) in f32              {:?}",
        logits.value().sigmoid().to_vec_f32()
    );
    println!("bce_with_logits(x, 0)    {:?}", stable.value().to_vec_f32());
    println!("  its gradient           {:?}", g_stable.to_vec_f32());
    println!("bce(σ(x), 0)             {:?}", naive.value().to_vec_f32());
    println!("  its gradient           {:?}", g_naive.to_vec_f32());

    // ------------------------------------------------------------ a training loop
    println!("\n== Fitting y = 3x + 1 ==\n");
    let mut data_rng = Rng::seed(1);
    let xs = Tensor::rand_uniform([64, 1], -1.0, 1.0, DType::F32, &mut data_rng);
    let ys = xs.mul_scalar(3.0).add_scalar(1.0);
    let steps = 200;
    let resume_at = 100;

    let net = Sequential::new().add(Linear::new(1, 1, true, &mut Rng::seed(0)));
    let (w0, b0) = wb(&net);
    println!("start (PyTorch's default init): w = {w0:.4}, b = {b0:.4}");
    let mut opt = Adam::new(net.named_params(), AdamConfig::default().lr(0.05)).unwrap();
    let mut rng = Rng::seed(2); // draws the minibatches
    let ckpt_mid = dir.join("step100.safetensors");
    for step in 1..=steps {
        let l = train_step(&net, &mut opt, &mut rng, &xs, &ys);
        if step == 1 || step % 25 == 0 {
            let (w, b) = wb(&net);
            println!("step {step:>3}  loss {l:.6}  w = {w:.4}  b = {b:.4}");
        }
        if step == resume_at {
            let mut extras = Extras::new();
            extras
                .optimizer("net", &opt)
                .rng("data", &rng)
                .metadata("step", &step.to_string());
            save_checkpoint(&ckpt_mid, &net, &extras).unwrap();
        }
    }
    let (w, b) = wb(&net);
    println!("learned: w = {w:.6}, b = {b:.6} (target 3, 1)");

    // ------------------------------------------------------------ resume bit for bit
    println!("\n== Resuming from step {resume_at} ==\n");
    let resumed = Sequential::new().add(Linear::new(1, 1, true, &mut Rng::seed(99)));
    let mut opt2 = Adam::new(resumed.named_params(), AdamConfig::default().lr(0.05)).unwrap();
    let loaded = load_checkpoint(&ckpt_mid, &resumed).unwrap();
    loaded.restore_optimizer("net", &mut opt2).unwrap();
    let mut rng2 = loaded.rng("data").unwrap();
    let start: usize = loaded.metadata_value("step").unwrap().parse().unwrap();
    println!(
        "loaded {}: step {start}, Adam's step count {}",
        ckpt_mid.display(),
        opt2.step_count(0)
    );
    for _ in start..steps {
        train_step(&resumed, &mut opt2, &mut rng2, &xs, &ys);
    }
    let (rw, rb) = wb(&resumed);
    println!("resumed run after step {steps}: w = {rw:.6}, b = {rb:.6}");
    println!(
        "parameters equal the uninterrupted run's bit for bit: {}",
        bits(&resumed) == bits(&net)
    );
    println!(
        "optimizer state and RNG equal too: {}",
        opt2.state_tensors() == opt.state_tensors() && rng2 == rng
    );

    // ------------------------------------------------------------ save and load
    println!("\n== Saving and loading ==\n");
    let path = dir.join("model.safetensors");
    let mut extras = Extras::new();
    extras
        .optimizer("net", &opt)
        .rng("data", &rng)
        .metadata("step", &steps.to_string());
    save_checkpoint(&path, &net, &extras).unwrap();
    println!("saved {}", path.display());
    let fresh = Sequential::new().add(Linear::new(1, 1, true, &mut Rng::seed(7)));
    let (fw, fb) = wb(&fresh);
    println!("fresh model before loading: w = {fw:.6}, b = {fb:.6}");
    load_checkpoint(&path, &fresh).unwrap();
    let (fw, fb) = wb(&fresh);
    println!("fresh model after loading:  w = {fw:.6}, b = {fb:.6}");
    println!(
        "values match the trained model: {}",
        bits(&fresh) == bits(&net)
    );

    println!("\nLoading into the wrong model is an error that changes nothing:");
    let wide = Sequential::new().add(Linear::new(2, 1, true, &mut Rng::seed(0)));
    let before = bits(&wide);
    println!("  {}", load_checkpoint(&path, &wide).unwrap_err());
    println!(
        "  (the model's values are unchanged: {})",
        bits(&wide) == before
    );
    let bare = Linear::new(1, 1, true, &mut Rng::seed(0)); // paths "weight", not "0.weight"
    println!("  {}", load_checkpoint(&path, &bare).unwrap_err());

    // ------------------------------------------------------------ .npy
    let npy = dir.join("xs.npy");
    save_npy(&npy, &xs).unwrap();
    let back = load_npy(&npy).unwrap();
    println!(
        "\nwrote {} ({:?} {}); read back equal: {}",
        npy.display(),
        back.dims(),
        back.dtype(),
        back.to_vec_f32() == xs.to_vec_f32()
    );
}
