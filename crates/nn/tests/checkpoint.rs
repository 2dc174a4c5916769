//! Checkpoints: PyTorch names, bit-for-bit resume of a training loop, exact error messages,
//! and loading corrupt files without panicking. Also `.npy` files of tensors.

use autograd::testing::config;
use autograd::{no_grad, Param, Tape, Var};
use minimax_nn::checkpoint::{
    load_checkpoint, load_checkpoint_with, save_checkpoint, CheckpointErrorKind, Extras,
};
use minimax_nn::format::{safetensors, RawTensor};
use minimax_nn::loss::{mse, Reduction};
use minimax_nn::optim::{Adam, AdamConfig, Optimizer};
use minimax_nn::schedule::{LrSchedule, StepLr};
use minimax_nn::{as_dyn, Module};
use proptest::prelude::*;
use std::path::PathBuf;
use tensor::{DType, Rng, Tensor};

/// A file path of this process in the temporary directory; the file is removed when the guard
/// is dropped, so the tests leave nothing behind.
struct Tmp(PathBuf);

impl std::ops::Deref for Tmp {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::path::Path> for Tmp {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A fresh path for a file `name` (see [`Tmp`]).
fn tmp(name: &str) -> Tmp {
    let file = format!("minimax-checkpoint-tests-{}-{name}", std::process::id());
    Tmp(std::env::temp_dir().join(file))
}

// ---------------------------------------------------------------------------------- toy modules

/// y = x·Wᵀ + b, PyTorch's `Linear` layout (weight [out, in]).
struct Lin {
    weight: Param,
    bias: Param,
}

impl Lin {
    fn new(i: usize, o: usize, rng: &mut Rng) -> Lin {
        Lin {
            weight: Param::new("weight", Tensor::randn([o, i], 0.0, 0.5, DType::F32, rng)),
            bias: Param::new("bias", Tensor::randn([o], 0.0, 0.1, DType::F32, rng)),
        }
    }
}

impl Module for Lin {
    fn forward(&self, x: &Var) -> Var {
        let t = x.tape();
        x.matmul(&t.param(&self.weight).t())
            .add(&t.param(&self.bias))
    }
    fn describe(&self) -> String {
        "Lin".into()
    }
    fn own_params(&self) -> Vec<(String, Param)> {
        vec![
            ("weight".into(), self.weight.clone()),
            ("bias".into(), self.bias.clone()),
        ]
    }
    as_dyn!();
}

/// A BatchNorm-like module: subtracts the batch mean in training (updating a running mean
/// buffer) and the running mean in evaluation, then scales by a learned weight.
struct Norm {
    weight: Param,
    running_mean: Param,
    training: std::cell::Cell<bool>,
}

impl Norm {
    fn new(c: usize) -> Norm {
        let running_mean = Param::new("running_mean", Tensor::zeros([c], DType::F32));
        running_mean.set_requires_grad(false);
        Norm {
            weight: Param::new("weight", Tensor::ones([c], DType::F32)),
            running_mean,
            training: std::cell::Cell::new(true),
        }
    }
}

impl Module for Norm {
    fn forward(&self, x: &Var) -> Var {
        let t = x.tape();
        let centered = if self.training.get() {
            let m = x.mean(&[0], false);
            {
                let _g = no_grad();
                let rm = self
                    .running_mean
                    .value()
                    .mul_scalar(0.9)
                    .add(&m.value().mul_scalar(0.1));
                self.running_mean.set_value(rm);
            }
            x.sub(&m)
        } else {
            x.sub(&t.param(&self.running_mean))
        };
        centered.mul(&t.param(&self.weight))
    }
    fn describe(&self) -> String {
        "Norm".into()
    }
    fn own_params(&self) -> Vec<(String, Param)> {
        vec![("weight".into(), self.weight.clone())]
    }
    fn own_buffers(&self) -> Vec<(String, Param)> {
        vec![("running_mean".into(), self.running_mean.clone())]
    }
    fn set_own_training(&self, training: bool) {
        self.training.set(training);
    }
    as_dyn!();
}

/// Lin(2→4) → Norm(4) → tanh → Lin(4→1), as a `Sequential` would name them.
struct Net {
    l0: Lin,
    n1: Norm,
    l2: Lin,
}

impl Net {
    fn new(seed: u64) -> Net {
        let mut rng = Rng::seed(seed);
        Net {
            l0: Lin::new(2, 4, &mut rng),
            n1: Norm::new(4),
            l2: Lin::new(4, 1, &mut rng),
        }
    }
}

impl Module for Net {
    fn forward(&self, x: &Var) -> Var {
        self.l2
            .forward(&self.n1.forward(&self.l0.forward(x)).tanh())
    }
    fn describe(&self) -> String {
        "Net".into()
    }
    fn children(&self) -> Vec<(String, &dyn Module)> {
        vec![
            ("0".into(), &self.l0),
            ("1".into(), &self.n1),
            ("2".into(), &self.l2),
        ]
    }
    as_dyn!();
}

/// Every parameter and buffer, as bits.
fn bits(m: &dyn Module) -> Vec<(String, Vec<u32>)> {
    m.named_params()
        .into_iter()
        .chain(m.named_buffers())
        .map(|(n, p)| {
            (
                n,
                p.value().to_vec_f32().iter().map(|x| x.to_bits()).collect(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------- names

#[test]
fn module_tensors_are_stored_under_pytorch_state_dict_names() {
    let net = Net::new(1);
    let path = tmp("names.safetensors");
    save_checkpoint(&path, &net, &Extras::new()).unwrap();
    let (tensors, metadata) = safetensors::load(&path).unwrap();
    let names: Vec<&str> = tensors.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "0.bias",
            "0.weight",
            "1.running_mean",
            "1.weight",
            "2.bias",
            "2.weight"
        ]
    );
    let w = &tensors[1].1;
    assert_eq!((w.shape.clone(), w.dtype.name()), (vec![4, 2], "F32"));
    assert_eq!(
        minimax_nn::io::from_raw(w).unwrap().to_vec_f32(),
        net.l0.weight.value().to_vec_f32()
    );
    assert!(metadata.is_empty());
}

// ---------------------------------------------------------------------------------- resume

struct Run {
    net: Net,
    opt: Adam,
    sched: StepLr,
    rng: Rng,
    steps: usize,
}

impl Run {
    fn new(init_seed: u64) -> Run {
        let net = Net::new(init_seed);
        let opt = Adam::new(
            net.named_params(),
            AdamConfig::default()
                .lr(0.05)
                .betas(0.5, 0.999)
                .amsgrad(true),
        )
        .unwrap();
        Run {
            sched: StepLr::new(opt.lr(), 2, 0.5),
            net,
            opt,
            rng: Rng::seed(99),
            steps: 0,
        }
    }

    /// One step on a random minibatch of 8 from the data; an "epoch" is 3 steps.
    fn step(&mut self, x: &Tensor, y: &Tensor) {
        let idx: Vec<usize> = (0..8).map(|_| self.rng.below(x.dims()[0])).collect();
        let tape = Tape::new();
        let xb = tape.constant(x.index_select(0, &idx));
        let yb = tape.constant(y.index_select(0, &idx));
        mse(&self.net.forward(&xb), &yb, Reduction::Mean).backward();
        let r = self.opt.step().unwrap();
        assert!(r.all_updated(), "{r}");
        self.opt.zero_grad();
        self.steps += 1;
        if self.steps % 3 == 0 {
            self.sched.step(&mut self.opt);
        }
    }

    fn save(&self, path: &std::path::Path) {
        let mut extras = Extras::new();
        extras
            .optimizer("net", &self.opt)
            .schedule("net", &self.sched)
            .rng("data", &self.rng)
            .tensor("fixed_z", &Tensor::ones([2, 2], DType::F32))
            .metadata("step", &self.steps.to_string());
        save_checkpoint(path, &self.net, &extras).unwrap();
    }

    fn resume(path: &std::path::Path) -> Run {
        let mut run = Run::new(12345); // other initial weights: all must come from the file
        let loaded = load_checkpoint(path, &run.net).unwrap();
        loaded.restore_optimizer("net", &mut run.opt).unwrap();
        loaded.restore_schedule("net", &mut run.sched).unwrap();
        run.rng = loaded.rng("data").unwrap();
        run.steps = loaded.metadata_value("step").unwrap().parse().unwrap();
        assert_eq!(loaded.tensor("fixed_z").unwrap().to_vec_f32(), vec![1.0; 4]);
        assert_eq!(loaded.tensor_names(), ["fixed_z"]);
        assert_eq!(
            loaded.metadata(),
            [("step", run.steps.to_string().as_str())]
        );
        run
    }
}

#[test]
fn a_resumed_run_continues_bit_for_bit() {
    let mut data_rng = Rng::seed(5);
    let x = Tensor::randn([64, 2], 0.0, 1.0, DType::F32, &mut data_rng);
    let y = x.narrow(1, 0, 1).mul(&x.narrow(1, 1, 1)).tanh();
    let (n, k) = (10, 4);

    let mut straight = Run::new(7);
    for _ in 0..n {
        straight.step(&x, &y);
    }

    let mut first = Run::new(7);
    for _ in 0..k {
        first.step(&x, &y);
    }
    let path = tmp("resume.safetensors");
    first.save(&path);
    drop(first);
    let mut resumed = Run::resume(&path);
    for _ in k..n {
        resumed.step(&x, &y);
    }

    assert_eq!(bits(&straight.net), bits(&resumed.net));
    assert_eq!(straight.opt.state_tensors(), resumed.opt.state_tensors());
    assert_eq!(straight.opt.lr().to_bits(), resumed.opt.lr().to_bits());
    assert_eq!(straight.sched.epoch(), resumed.sched.epoch());
    assert_eq!(straight.rng, resumed.rng);
    assert_eq!(
        straight.opt.lr(),
        0.05 * 0.5,
        "the schedule really ran (3 epochs, step_size 2)"
    );
    assert_ne!(
        bits(&straight.net),
        bits(&Run::new(7).net),
        "training really ran"
    );
}

// ---------------------------------------------------------------------------------- errors

fn lin_file(name: &str, tensors: &[(&str, RawTensor)]) -> Tmp {
    let path = tmp(name);
    let t: Vec<(String, RawTensor)> = tensors
        .iter()
        .map(|(n, t)| (n.to_string(), t.clone()))
        .collect();
    safetensors::save(&path, &t, &[]).unwrap();
    path
}

fn lin32() -> Lin {
    Lin::new(2, 3, &mut Rng::seed(0))
}

#[test]
fn missing_tensor_message() {
    let path = lin_file(
        "missing.safetensors",
        &[("weight", RawTensor::from_f32(&[3, 2], &[0.0; 6]))],
    );
    let m = lin32();
    let before = bits(&m);
    let e = load_checkpoint(&path, &m).unwrap_err();
    assert_eq!(e.kind(), CheckpointErrorKind::Missing);
    assert_eq!(e.tensor(), Some("bias"));
    assert_eq!(
        e.to_string(),
        format!(
            "{}: tensor 'bias': missing from the checkpoint (the module expects [3] F32)",
            path.display()
        )
    );
    assert_eq!(bits(&m), before, "nothing is loaded when anything is wrong");
    // non-strict: the rest loads, the missing one is reported
    let loaded = load_checkpoint_with(&path, &m, false).unwrap();
    assert_eq!(loaded.missing(), ["bias"]);
    assert_eq!(m.weight.value().to_vec_f32(), vec![0.0; 6]);
}

#[test]
fn shape_mismatch_message() {
    let path = lin_file(
        "shape.safetensors",
        &[
            ("weight", RawTensor::from_f32(&[2, 2], &[0.0; 4])),
            ("bias", RawTensor::from_f32(&[3], &[0.0; 3])),
        ],
    );
    for strict in [true, false] {
        let e = load_checkpoint_with(&path, &lin32(), strict).unwrap_err();
        assert_eq!(e.kind(), CheckpointErrorKind::ShapeMismatch);
        assert_eq!(
            e.to_string(),
            format!(
                "{}: tensor 'weight': shape mismatch: the checkpoint has [2, 2] but the module expects [3, 2]",
                path.display()
            )
        );
    }
}

#[test]
fn dtype_mismatch_message() {
    let path = lin_file(
        "dtype.safetensors",
        &[
            ("weight", RawTensor::from_f64(&[3, 2], &[0.0; 6])),
            ("bias", RawTensor::from_f32(&[3], &[0.0; 3])),
        ],
    );
    let e = load_checkpoint(&path, &lin32()).unwrap_err();
    assert_eq!(e.kind(), CheckpointErrorKind::DtypeMismatch);
    assert_eq!(
        e.to_string(),
        format!("{}: tensor 'weight': dtype mismatch: the checkpoint has F64 but the module expects F32", path.display())
    );
}

#[test]
fn unexpected_tensors_and_several_problems_at_once() {
    let path = lin_file(
        "unexpected.safetensors",
        &[
            ("weight", RawTensor::from_f32(&[3, 2], &[0.0; 6])),
            ("bias", RawTensor::from_f32(&[4], &[0.0; 4])),
            ("extra.weight", RawTensor::from_f32(&[1], &[0.0])),
        ],
    );
    let e = load_checkpoint(&path, &lin32()).unwrap_err();
    assert_eq!(e.problems().len(), 2);
    assert_eq!(
        e.to_string(),
        format!(
            "{}: tensor 'bias': shape mismatch: the checkpoint has [4] but the module expects [3]; \
             tensor 'extra.weight': unexpected: the module has no tensor of this name (load with strict = false to ignore it)",
            path.display()
        )
    );
    let path = lin_file(
        "unexpected2.safetensors",
        &[
            ("weight", RawTensor::from_f32(&[3, 2], &[0.0; 6])),
            ("bias", RawTensor::from_f32(&[3], &[0.0; 3])),
            ("extra.weight", RawTensor::from_f32(&[1], &[0.0])),
        ],
    );
    let loaded = load_checkpoint_with(&path, &lin32(), false).unwrap();
    assert_eq!(loaded.unexpected(), ["extra.weight"]);
}

#[test]
fn truncated_file_message() {
    let path = tmp("truncated.safetensors");
    save_checkpoint(&path, &lin32(), &Extras::new()).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 5]).unwrap();
    let e = load_checkpoint(&path, &lin32()).unwrap_err();
    assert_eq!(e.kind(), CheckpointErrorKind::Format);
    assert_eq!(e.tensor(), Some("weight"));
    assert_eq!(
        e.to_string(),
        format!(
            "{}: tensor 'weight': data_offsets [12, 36) end beyond the data section, which is 31 bytes (the file may be truncated)",
            path.display()
        )
    );
    std::fs::write(&path, &bytes[..6]).unwrap();
    let e = load_checkpoint(&path, &lin32()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: file is 6 bytes, too short to be a safetensors file (it must start with an 8-byte header length)",
            path.display()
        )
    );
    let e = load_checkpoint(tmp("no-such-file.safetensors"), &lin32()).unwrap_err();
    assert!(
        e.to_string().starts_with(&format!(
            "{}: cannot read file: ",
            tmp("no-such-file.safetensors").display()
        )),
        "{e}"
    );
}

#[test]
fn reserved_names_are_rejected_on_save() {
    struct Bad(Param);
    impl Module for Bad {
        fn forward(&self, x: &Var) -> Var {
            x.clone()
        }
        fn describe(&self) -> String {
            "Bad".into()
        }
        fn own_params(&self) -> Vec<(String, Param)> {
            vec![("__optim__.x".into(), self.0.clone())]
        }
        as_dyn!();
    }
    let path = tmp("reserved.safetensors");
    let e = save_checkpoint(
        &path,
        &Bad(Param::new("p", Tensor::zeros([1], DType::F32))),
        &Extras::new(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), CheckpointErrorKind::Reserved);
    assert!(
        e.to_string()
            .contains("tensor '__optim__.x': module paths starting with \"__\" are reserved"),
        "{e}"
    );
    let mut extras = Extras::new();
    extras.metadata("__mine", "x");
    let e = save_checkpoint(&path, &lin32(), &extras).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: metadata key \"__mine\" is reserved (keys starting with \"__\" are)",
            path.display()
        )
    );
    assert!(!path.exists(), "nothing written");
}

#[test]
fn restoring_state_into_the_wrong_objects_is_an_error() {
    let net = Net::new(1);
    let opt = Adam::new(net.named_params(), AdamConfig::default()).unwrap();
    let mut extras = Extras::new();
    extras.optimizer("g", &opt).rng("zero", &Rng::seed(1));
    let path = tmp("wrong-objects.safetensors");
    save_checkpoint(&path, &net, &extras).unwrap();
    let loaded = load_checkpoint(&path, &net).unwrap();

    let lin = lin32();
    let mut other = Adam::new(lin.named_params(), AdamConfig::default()).unwrap();
    let e = loaded.restore_optimizer("g", &mut other).unwrap_err();
    assert_eq!(e.kind(), CheckpointErrorKind::State);
    assert_eq!(
        e.to_string(),
        format!(
            "{}: optimizer 'g' was saved over other parameters: parameter 0 is '0.weight' in the checkpoint but 'weight' here",
            path.display()
        )
    );
    let mut sgd = minimax_nn::optim::Sgd::new(net.named_params(), Default::default()).unwrap();
    let e = loaded.restore_optimizer("g", &mut sgd).unwrap_err();
    assert!(
        e.to_string().ends_with(
            "optimizer 'g': sgd: saved state 'adam.lr' belongs to a 'adam' optimizer, not 'sgd'"
        ),
        "{e}"
    );
    let e = loaded.restore_optimizer("d", &mut sgd).unwrap_err();
    assert!(
        e.to_string()
            .ends_with("no optimizer state named 'd' in the checkpoint"),
        "{e}"
    );
    let e = loaded.rng("data").unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: tensor '__rng__.data': no such generator state in the checkpoint",
            path.display()
        )
    );
    assert!(loaded.rng("zero").is_ok());
    let e = loaded
        .restore_schedule("net", &mut StepLr::new(1.0, 1, 0.5))
        .unwrap_err();
    assert!(
        e.to_string()
            .ends_with("no schedule state named 'net' in the checkpoint"),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------- corrupt files

/// A valid checkpoint with optimizer, schedule and RNG state.
fn valid_bytes() -> Vec<u8> {
    let net = Net::new(3);
    let mut opt = Adam::new(net.named_params(), AdamConfig::default()).unwrap();
    let tape = Tape::new();
    let x = tape.constant(Tensor::ones([2, 2], DType::F32));
    net.forward(&x).sum_all().backward();
    opt.step().unwrap();
    let mut extras = Extras::new();
    extras
        .optimizer("g", &opt)
        .schedule("g", &StepLr::new(1.0, 1, 0.5))
        .rng("data", &Rng::seed(4))
        .tensor("z", &Tensor::zeros([3], DType::F64))
        .metadata("note", "hello");
    let path = tmp("valid-source.safetensors");
    save_checkpoint(&path, &net, &extras).unwrap();
    std::fs::read(&path).unwrap()
}

#[derive(Clone, Debug)]
enum Damage {
    Truncate(usize),
    FlipBit(usize, u8),
    FlipBits(Vec<(usize, u8)>),
    Random(Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (0usize..100_000).prop_map(Damage::Truncate),
        (0usize..100_000, 0u8..8).prop_map(|(p, b)| Damage::FlipBit(p, b)),
        proptest::collection::vec((0usize..100_000, 0u8..8), 2..6).prop_map(Damage::FlipBits),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Damage::Random),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Loading damaged files returns Ok or Err, never panics; an error names the file, and a
    /// failed load changes no parameter.
    #[test]
    fn damaged_files_never_panic(d in damage(), case in 0u64..u64::MAX) {
        let good = valid_bytes();
        let bytes = match &d {
            Damage::Truncate(n) => good[..n % good.len()].to_vec(),
            Damage::FlipBit(p, b) => {
                let mut v = good.clone();
                let i = p % v.len();
                v[i] ^= 1 << b;
                v
            }
            Damage::FlipBits(flips) => {
                let mut v = good.clone();
                for (p, b) in flips {
                    let i = p % v.len();
                    v[i] ^= 1 << b;
                }
                v
            }
            Damage::Random(r) => r.clone(),
        };
        let path = tmp(&format!("damaged-{case}.safetensors"));
        std::fs::write(&path, &bytes).unwrap();
        let net = Net::new(8);
        let before = bits(&net);
        match load_checkpoint(&path, &net) {
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.starts_with(&path.display().to_string()), "{msg}");
                prop_assert_eq!(bits(&net), before);
            }
            Ok(loaded) => {
                let mut opt = Adam::new(net.named_params(), AdamConfig::default()).unwrap();
                let _ = loaded.restore_optimizer("g", &mut opt);
                let _ = loaded.restore_schedule("g", &mut StepLr::new(1.0, 1, 0.5));
                let _ = loaded.rng("data");
                let _ = loaded.tensor("z");
            }
        }
        std::fs::remove_file(&path).unwrap();
    }
}

// ---------------------------------------------------------------------------------- npy

#[test]
fn npy_round_trips_tensors_and_reports_integer_arrays() {
    let path = tmp("a.npy");
    let t = Tensor::from_vec(vec![1.5f32, -2.0, 3.25, 0.0, 1e-30, 7.0], [2, 3]);
    minimax_nn::io::save_npy(&path, &t).unwrap();
    let back = minimax_nn::io::load_npy(&path).unwrap();
    assert_eq!((back.dims(), back.dtype()), (&[2usize, 3][..], DType::F32));
    assert_eq!(back.to_vec_f32(), t.to_vec_f32());
    // a transposed (non-contiguous) f64 view is written in row-major order of the view
    let d = Tensor::from_vec(vec![0.1f64, 0.2, 0.3, 0.4, 0.5, 0.6], [2, 3]).t();
    minimax_nn::io::save_npy(&path, &d).unwrap();
    let back = minimax_nn::io::load_npy(&path).unwrap();
    assert_eq!((back.dims(), back.dtype()), (&[3usize, 2][..], DType::F64));
    assert_eq!(back.to_vec_f64(), vec![0.1, 0.4, 0.2, 0.5, 0.3, 0.6]);

    minimax_nn::format::npy::save_npy(&path, &RawTensor::from_i64(&[2], &[1, 2])).unwrap();
    let e = minimax_nn::io::load_npy(&path).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: holds integers (I64), which have no tensor dtype; read it as a RawTensor with to_i64_vec()",
            path.display()
        )
    );
}
