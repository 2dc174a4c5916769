//! Parameter initialisation with PyTorch's rules (`torch.nn.init`), every draw from an explicit
//! seeded [`Rng`].
//!
//! The functions work like PyTorch's in-place `nn.init.*_` functions: they refill a [`Param`]
//! with new values of the same shape and dtype.
//!
//! | function | draws |
//! |---|---|
//! | [`uniform`] | U(lo, hi) |
//! | [`normal`] | N(mean, std²) |
//! | [`xavier_uniform`] | U(±gain·√(6 / (fan_in + fan_out))) |
//! | [`xavier_normal`] | N(0, gain²·2 / (fan_in + fan_out)) |
//! | [`kaiming_uniform`] | U(±gain·√(3 / fan)) |
//! | [`kaiming_normal`] | N(0, gain² / fan) |
//!
//! `fan_in` / `fan_out` follow [`fan_in_out`]; `gain` follows [`calculate_gain`].
//!
//! Two whole-model re-initialisations from the GAN papers' reference code walk a module tree and
//! match on each module's class name (the part of [`Module::describe`] before the `(`), exactly
//! as the PyTorch code matches on `classname.find('Conv')`:
//! [`init_dcgan`] (DCGAN's `weights_init`) and [`init_cyclegan`] (CycleGAN's
//! `init_weights(net, 'normal', gain)`).
//!
//! ```
//! use minimax_nn::init;
//! use minimax_nn::Param;
//! use tensor::{DType, Rng, Tensor};
//! let w = Param::new("weight", Tensor::zeros([10, 100], DType::F32));
//! let mut rng = Rng::seed(0);
//! // Linear's default: kaiming_uniform with a = √5, i.e. U(±1/√fan_in)
//! init::kaiming_uniform(&w, 5f64.sqrt(), init::FanMode::FanIn, init::Nonlinearity::LeakyRelu, &mut rng);
//! assert!(w.value().to_vec_f64().iter().all(|v| v.abs() <= 0.1));
//! ```

use crate::Module;
use autograd::Param;
use tensor::{Rng, Tensor};

/// The non-linearity that follows a layer, for [`calculate_gain`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nonlinearity {
    /// No non-linearity (identity). Gain 1.
    Linear,
    /// A convolution (PyTorch's `conv1d`, `conv2d`, `conv_transpose2d`, …). Gain 1.
    Conv,
    /// σ. Gain 1.
    Sigmoid,
    /// tanh. Gain 5/3.
    Tanh,
    /// ReLU. Gain √2.
    Relu,
    /// LeakyReLU with the negative slope given as `param` (default 0.01). Gain √(2 / (1 + slope²)).
    LeakyRelu,
    /// SELU. Gain 3/4.
    Selu,
}

/// Which fan [`kaiming_uniform`] / [`kaiming_normal`] preserve the variance of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanMode {
    /// Preserve the variance of the activations in the forward pass.
    FanIn,
    /// Preserve the variance of the gradients in the backward pass.
    FanOut,
}

/// The recommended gain for a non-linearity (PyTorch's `nn.init.calculate_gain`). `param` is
/// the negative slope for [`Nonlinearity::LeakyRelu`] (`None` means 0.01) and ignored otherwise.
///
/// ```
/// use minimax_nn::init::{calculate_gain, Nonlinearity};
/// assert_eq!(calculate_gain(Nonlinearity::Relu, None), 2f64.sqrt());
/// assert_eq!(calculate_gain(Nonlinearity::Tanh, None), 5.0 / 3.0);
/// ```
pub fn calculate_gain(nonlinearity: Nonlinearity, param: Option<f64>) -> f64 {
    match nonlinearity {
        Nonlinearity::Linear | Nonlinearity::Conv | Nonlinearity::Sigmoid => 1.0,
        Nonlinearity::Tanh => 5.0 / 3.0,
        Nonlinearity::Relu => 2f64.sqrt(),
        Nonlinearity::LeakyRelu => {
            let slope = param.unwrap_or(0.01);
            (2.0 / (1.0 + slope * slope)).sqrt()
        }
        Nonlinearity::Selu => 0.75,
    }
}

/// `(fan_in, fan_out)` of a weight of shape `dims`, with PyTorch's rule
/// (`_calculate_fan_in_and_fan_out`): `fan_in = dims[1]·r`, `fan_out = dims[0]·r`, where `r` is
/// the product of the remaining (kernel) dimensions. So a `Linear` weight `[out, in]` has
/// `(in, out)`, a `Conv2d` weight `[out, in/g, kh, kw]` has `(in/g·kh·kw, out·kh·kw)`, and — as
/// in PyTorch — a `ConvTranspose2d` weight `[in, out/g, kh, kw]` has `(out/g·kh·kw, in·kh·kw)`.
/// Panics below 2 dimensions.
///
/// ```
/// assert_eq!(minimax_nn::init::fan_in_out(&[64, 3, 4, 4]), (48, 1024));
/// ```
#[track_caller]
pub fn fan_in_out(dims: &[usize]) -> (usize, usize) {
    assert!(
        dims.len() >= 2,
        "fan_in_out: fan in and fan out cannot be computed for a tensor with fewer than 2 dimensions (shape {dims:?})"
    );
    let receptive: usize = dims[2..].iter().product();
    (dims[1] * receptive, dims[0] * receptive)
}

fn refill(p: &Param, f: impl FnOnce(&Tensor) -> Tensor) {
    let old = p.value();
    let new = f(&old);
    p.set_value(new);
}

/// Refills `p` with draws from U(lo, hi).
pub fn uniform(p: &Param, lo: f64, hi: f64, rng: &mut Rng) {
    refill(p, |t| {
        Tensor::rand_uniform(*t.shape(), lo, hi, t.dtype(), rng)
    });
}

/// Refills `p` with draws from N(mean, std²).
pub fn normal(p: &Param, mean: f64, std: f64, rng: &mut Rng) {
    refill(p, |t| Tensor::randn(*t.shape(), mean, std, t.dtype(), rng));
}

/// Fills `p` with `v`.
pub fn constant(p: &Param, v: f64) {
    refill(p, |t| Tensor::full(*t.shape(), v, t.dtype()));
}

/// Fills `p` with zeros.
pub fn zeros(p: &Param) {
    constant(p, 0.0);
}

/// Fills `p` with ones.
pub fn ones(p: &Param) {
    constant(p, 1.0);
}

/// Glorot & Bengio (2010): U(±gain·√(6 / (fan_in + fan_out))).
#[track_caller]
pub fn xavier_uniform(p: &Param, gain: f64, rng: &mut Rng) {
    let (fi, fo) = fan_in_out(p.value().dims());
    let bound = gain * (6.0 / (fi + fo) as f64).sqrt();
    uniform(p, -bound, bound, rng);
}

/// Glorot & Bengio (2010): N(0, std²) with std = gain·√(2 / (fan_in + fan_out)).
#[track_caller]
pub fn xavier_normal(p: &Param, gain: f64, rng: &mut Rng) {
    let (fi, fo) = fan_in_out(p.value().dims());
    let std = gain * (2.0 / (fi + fo) as f64).sqrt();
    normal(p, 0.0, std, rng);
}

fn kaiming_std(p: &Param, a: f64, mode: FanMode, nonlinearity: Nonlinearity) -> f64 {
    let (fi, fo) = fan_in_out(p.value().dims());
    let fan = match mode {
        FanMode::FanIn => fi,
        FanMode::FanOut => fo,
    };
    calculate_gain(nonlinearity, Some(a)) / (fan as f64).sqrt()
}

/// He et al. (2015): U(±√3·std) with std = gain / √fan, gain = `calculate_gain(nonlinearity, a)`
/// (`a` is the LeakyReLU slope, used only with [`Nonlinearity::LeakyRelu`]). PyTorch's default
/// for `Linear` and `Conv2d` weights is `a = √5`, `FanIn`, `LeakyRelu`, i.e. U(±1/√fan_in).
#[track_caller]
pub fn kaiming_uniform(
    p: &Param,
    a: f64,
    mode: FanMode,
    nonlinearity: Nonlinearity,
    rng: &mut Rng,
) {
    let bound = 3f64.sqrt() * kaiming_std(p, a, mode, nonlinearity);
    uniform(p, -bound, bound, rng);
}

/// He et al. (2015): N(0, std²) with std = gain / √fan (see [`kaiming_uniform`]).
#[track_caller]
pub fn kaiming_normal(p: &Param, a: f64, mode: FanMode, nonlinearity: Nonlinearity, rng: &mut Rng) {
    let std = kaiming_std(p, a, mode, nonlinearity);
    normal(p, 0.0, std, rng);
}

/// PyTorch's default initialisation of a layer's weight and bias (`Linear`, `Conv2d`,
/// `ConvTranspose2d`): weight by `kaiming_uniform(a = √5)` = U(±1/√fan_in), bias U(±1/√fan_in)
/// with the weight's fan_in.
#[track_caller]
pub fn pytorch_default(weight: &Param, bias: Option<&Param>, rng: &mut Rng) {
    kaiming_uniform(
        weight,
        5f64.sqrt(),
        FanMode::FanIn,
        Nonlinearity::LeakyRelu,
        rng,
    );
    if let Some(b) = bias {
        let (fan_in, _) = fan_in_out(weight.value().dims());
        let bound = if fan_in > 0 {
            1.0 / (fan_in as f64).sqrt()
        } else {
            0.0
        };
        uniform(b, -bound, bound, rng);
    }
}

/// The class name of a module: its [`Module::describe`] text up to the first `(`
/// (`"Conv2d"` for `"Conv2d(3, 64, kernel_size=(4, 4), …)"`).
pub fn class_name(m: &dyn Module) -> String {
    let d = m.describe();
    match d.find('(') {
        Some(i) => d[..i].to_string(),
        None => d,
    }
}

/// Calls `f` on `m` and every descendant, parents first, children in order.
pub fn visit(m: &dyn Module, f: &mut dyn FnMut(&dyn Module)) {
    f(m);
    for (_, c) in m.children() {
        visit(c, f);
    }
}

fn own(m: &dyn Module, name: &str) -> Option<Param> {
    m.own_params()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, p)| p)
}

/// DCGAN's `weights_init` (Radford et al. 2016), applied to every module of the tree:
/// a module whose class name contains `"Conv"` (`Conv2d`, `ConvTranspose2d`) gets its weight from
/// N(0, 0.02²) and its bias (if any) set to 0; one whose class name contains `"Norm"` and that
/// has a weight (affine `BatchNorm*`, `InstanceNorm2d`, `LayerNorm`) gets its weight from
/// N(1, 0.02²) and its bias set to 0. Other modules are left alone. Draws happen in tree order.
pub fn init_dcgan(module: &dyn Module, rng: &mut Rng) {
    visit(module, &mut |m| {
        let class = class_name(m);
        if class.contains("Conv") {
            if let Some(w) = own(m, "weight") {
                normal(&w, 0.0, 0.02, rng);
            }
            if let Some(b) = own(m, "bias") {
                zeros(&b);
            }
        } else if class.contains("Norm") {
            if let Some(w) = own(m, "weight") {
                normal(&w, 1.0, 0.02, rng);
            }
            if let Some(b) = own(m, "bias") {
                zeros(&b);
            }
        }
    });
}

/// CycleGAN/pix2pix's `init_weights(net, init_type='normal', init_gain=gain)` (gain 0.02 in
/// their code): `Conv*` and `Linear` weights from N(0, gain²) and their biases 0; `BatchNorm*`
/// weights from N(1, gain²) and biases 0. (Their instance norms have no parameters.)
pub fn init_cyclegan(module: &dyn Module, gain: f64, rng: &mut Rng) {
    visit(module, &mut |m| {
        let class = class_name(m);
        if class.contains("Conv") || class.contains("Linear") {
            if let Some(w) = own(m, "weight") {
                normal(&w, 0.0, gain, rng);
            }
            if let Some(b) = own(m, "bias") {
                zeros(&b);
            }
        } else if class.contains("BatchNorm") {
            if let Some(w) = own(m, "weight") {
                normal(&w, 1.0, gain, rng);
            }
            if let Some(b) = own(m, "bias") {
                zeros(&b);
            }
        }
    });
}
