//! Convolutions: [`Conv2d`] and [`ConvTranspose2d`] on `[N, C, H, W]`, with PyTorch's weight
//! layouts and default initialisation. The bias is added by the convolution kernel as it
//! writes its output ([`autograd::Var::conv2d_bias`]).

use super::param_var;
use crate::init;
use crate::Module;
use autograd::{Param, Var};
use tensor::{Conv2dParams, ConvTranspose2dParams, DType, Rng, Tensor};

fn pair(name: &str, (a, b): (usize, usize), default: usize) -> Option<String> {
    ((a, b) != (default, default)).then(|| format!(", {name}=({a}, {b})"))
}

#[track_caller]
fn check_groups(layer: &str, in_channels: usize, out_channels: usize, groups: usize) {
    assert!(
        groups > 0 && in_channels % groups == 0 && out_channels % groups == 0,
        "{layer}: in_channels {in_channels} and out_channels {out_channels} must be divisible by groups {groups}"
    );
}

/// A 2-D convolution, like `torch.nn.Conv2d`.
///
/// - `weight`: `[out_channels, in_channels/groups, kh, kw]`, U(±1/√fan_in) with
///   fan_in = in_channels/groups·kh·kw (PyTorch's `kaiming_uniform(a = √5)`);
/// - `bias` (optional): `[out_channels]`, U(±1/√fan_in).
///
/// Input `[N, in_channels, H, W]`, output `[N, out_channels, H', W']` with
/// H' = (H + 2·padding − dilation·(kh − 1) − 1)/stride + 1. Cloning shares the parameters.
///
/// ```
/// use autograd::Tape;
/// use minimax_nn::layers::Conv2d;
/// use minimax_nn::Module;
/// use tensor::{Conv2dParams, DType, Rng, Tensor};
/// // DCGAN's discriminator block: Conv2d(3, 64, 4, 2, 1, bias=False)
/// let conv = Conv2d::with_options(3, 64, (4, 4), Conv2dParams::new((2, 2), (1, 1)), false, &mut Rng::seed(0));
/// let tape = Tape::new();
/// let y = conv.forward(&tape.constant(Tensor::zeros([1, 3, 32, 32], DType::F32)));
/// assert_eq!(y.dims(), &[1, 64, 16, 16]);
/// assert_eq!(conv.describe(), "Conv2d(3, 64, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), bias=False)");
/// ```
#[derive(Clone, Debug)]
pub struct Conv2d {
    /// `[out_channels, in_channels/groups, kh, kw]`.
    pub weight: Param,
    /// `[out_channels]`, if the layer has a bias.
    pub bias: Option<Param>,
    /// Stride, padding, dilation and groups.
    pub params: Conv2dParams,
}

impl Conv2d {
    /// A `k × k` convolution with PyTorch's defaults: stride 1, no padding, dilation 1, one
    /// group, with bias; parameters drawn from `rng`.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel_size: usize,
        rng: &mut Rng,
    ) -> Conv2d {
        Conv2d::with_options(
            in_channels,
            out_channels,
            (kernel_size, kernel_size),
            Conv2dParams::default(),
            true,
            rng,
        )
    }

    /// A convolution with every option (`Conv2dParams::new(stride, padding)`, then
    /// `.with_dilation(…)`, `.with_groups(…)`). Panics unless both channel counts are divisible
    /// by the number of groups.
    #[track_caller]
    pub fn with_options(
        in_channels: usize,
        out_channels: usize,
        kernel_size: (usize, usize),
        params: Conv2dParams,
        bias: bool,
        rng: &mut Rng,
    ) -> Conv2d {
        check_groups("Conv2d", in_channels, out_channels, params.groups);
        let shape = [
            out_channels,
            in_channels / params.groups,
            kernel_size.0,
            kernel_size.1,
        ];
        let weight = Param::new("weight", Tensor::zeros(shape, DType::F32));
        let bias = bias.then(|| Param::new("bias", Tensor::zeros([out_channels], DType::F32)));
        init::pytorch_default(&weight, bias.as_ref(), rng);
        Conv2d {
            weight,
            bias,
            params,
        }
    }

    /// A convolution using the given parameters (weight `[out, in/groups, kh, kw]`, bias `[out]`).
    #[track_caller]
    pub fn from_params(weight: Param, bias: Option<Param>, params: Conv2dParams) -> Conv2d {
        let d = weight.value().dims().to_vec();
        assert!(
            d.len() == 4,
            "Conv2d::from_params: weight must be [out, in/groups, kh, kw], got {d:?}"
        );
        if let Some(b) = &bias {
            assert!(
                b.value().dims() == [d[0]],
                "Conv2d::from_params: bias must be [{}], got {:?}",
                d[0],
                b.value().dims()
            );
        }
        check_groups("Conv2d", d[1] * params.groups, d[0], params.groups);
        Conv2d {
            weight,
            bias,
            params,
        }
    }

    /// A second layer with the same parameters (gradients from both accumulate into them).
    pub fn shared(&self) -> Conv2d {
        self.clone()
    }

    /// Number of input channels.
    pub fn in_channels(&self) -> usize {
        self.weight.value().dims()[1] * self.params.groups
    }

    /// Number of output channels.
    pub fn out_channels(&self) -> usize {
        self.weight.value().dims()[0]
    }

    /// `(kh, kw)`.
    pub fn kernel_size(&self) -> (usize, usize) {
        let d = self.weight.value().dims().to_vec();
        (d[2], d[3])
    }
}

impl Module for Conv2d {
    fn forward(&self, x: &Var) -> Var {
        let w = param_var(x, &self.weight);
        let b = self.bias.as_ref().map(|b| param_var(x, b));
        x.conv2d_bias(&w, b.as_ref(), self.params)
    }

    fn describe(&self) -> String {
        let (kh, kw) = self.kernel_size();
        let p = self.params;
        let mut s = format!(
            "Conv2d({}, {}, kernel_size=({kh}, {kw}), stride=({}, {})",
            self.in_channels(),
            self.out_channels(),
            p.stride.0,
            p.stride.1
        );
        s.extend(pair("padding", p.padding, 0));
        s.extend(pair("dilation", p.dilation, 1));
        if p.groups != 1 {
            s.push_str(&format!(", groups={}", p.groups));
        }
        if self.bias.is_none() {
            s.push_str(", bias=False");
        }
        s.push(')');
        s
    }

    fn own_params(&self) -> Vec<(String, Param)> {
        let mut v = vec![("weight".to_string(), self.weight.clone())];
        if let Some(b) = &self.bias {
            v.push(("bias".to_string(), b.clone()));
        }
        v
    }

    crate::as_dyn!();
}

/// A 2-D transposed convolution (the adjoint of a convolution; "deconvolution" in the GAN
/// papers), like `torch.nn.ConvTranspose2d`.
///
/// - `weight`: `[in_channels, out_channels/groups, kh, kw]` (PyTorch's layout), initialised as
///   PyTorch does: U(±1/√fan_in) with fan_in computed from that layout, out_channels/groups·kh·kw;
/// - `bias` (optional): `[out_channels]`, U(±1/√fan_in).
///
/// Output size H' = (H − 1)·stride − 2·padding + dilation·(kh − 1) + output_padding + 1.
/// Cloning shares the parameters.
///
/// ```
/// use autograd::Tape;
/// use minimax_nn::layers::ConvTranspose2d;
/// use minimax_nn::Module;
/// use tensor::{ConvTranspose2dParams, DType, Rng, Tensor};
/// // DCGAN's generator: ConvTranspose2d(512, 256, 4, 2, 1, bias=False) doubles the size
/// let p = ConvTranspose2dParams::new((2, 2), (1, 1));
/// let up = ConvTranspose2d::with_options(8, 4, (4, 4), p, false, &mut Rng::seed(0));
/// let tape = Tape::new();
/// let y = up.forward(&tape.constant(Tensor::zeros([1, 8, 4, 4], DType::F32)));
/// assert_eq!(y.dims(), &[1, 4, 8, 8]);
/// ```
#[derive(Clone, Debug)]
pub struct ConvTranspose2d {
    /// `[in_channels, out_channels/groups, kh, kw]`.
    pub weight: Param,
    /// `[out_channels]`, if the layer has a bias.
    pub bias: Option<Param>,
    /// Stride, padding, output padding, dilation and groups.
    pub params: ConvTranspose2dParams,
}

impl ConvTranspose2d {
    /// A `k × k` transposed convolution with PyTorch's defaults: stride 1, no padding, no output
    /// padding, dilation 1, one group, with bias; parameters drawn from `rng`.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel_size: usize,
        rng: &mut Rng,
    ) -> ConvTranspose2d {
        ConvTranspose2d::with_options(
            in_channels,
            out_channels,
            (kernel_size, kernel_size),
            ConvTranspose2dParams::default(),
            true,
            rng,
        )
    }

    /// A transposed convolution with every option (`ConvTranspose2dParams::new(stride,
    /// padding)`, then `.with_output_padding(…)`, `.with_dilation(…)`, `.with_groups(…)`).
    /// Panics unless both channel counts are divisible by the number of groups.
    #[track_caller]
    pub fn with_options(
        in_channels: usize,
        out_channels: usize,
        kernel_size: (usize, usize),
        params: ConvTranspose2dParams,
        bias: bool,
        rng: &mut Rng,
    ) -> ConvTranspose2d {
        check_groups("ConvTranspose2d", in_channels, out_channels, params.groups);
        let shape = [
            in_channels,
            out_channels / params.groups,
            kernel_size.0,
            kernel_size.1,
        ];
        let weight = Param::new("weight", Tensor::zeros(shape, DType::F32));
        let bias = bias.then(|| Param::new("bias", Tensor::zeros([out_channels], DType::F32)));
        init::pytorch_default(&weight, bias.as_ref(), rng);
        ConvTranspose2d {
            weight,
            bias,
            params,
        }
    }

    /// A transposed convolution using the given parameters (weight `[in, out/groups, kh, kw]`,
    /// bias `[out]`).
    #[track_caller]
    pub fn from_params(
        weight: Param,
        bias: Option<Param>,
        params: ConvTranspose2dParams,
    ) -> ConvTranspose2d {
        let d = weight.value().dims().to_vec();
        assert!(
            d.len() == 4,
            "ConvTranspose2d::from_params: weight must be [in, out/groups, kh, kw], got {d:?}"
        );
        check_groups("ConvTranspose2d", d[0], d[1] * params.groups, params.groups);
        if let Some(b) = &bias {
            assert!(
                b.value().dims() == [d[1] * params.groups],
                "ConvTranspose2d::from_params: bias must be [{}], got {:?}",
                d[1] * params.groups,
                b.value().dims()
            );
        }
        ConvTranspose2d {
            weight,
            bias,
            params,
        }
    }

    /// A second layer with the same parameters (gradients from both accumulate into them).
    pub fn shared(&self) -> ConvTranspose2d {
        self.clone()
    }

    /// Number of input channels.
    pub fn in_channels(&self) -> usize {
        self.weight.value().dims()[0]
    }

    /// Number of output channels.
    pub fn out_channels(&self) -> usize {
        self.weight.value().dims()[1] * self.params.groups
    }

    /// `(kh, kw)`.
    pub fn kernel_size(&self) -> (usize, usize) {
        let d = self.weight.value().dims().to_vec();
        (d[2], d[3])
    }
}

impl Module for ConvTranspose2d {
    fn forward(&self, x: &Var) -> Var {
        let w = param_var(x, &self.weight);
        let b = self.bias.as_ref().map(|b| param_var(x, b));
        x.conv_transpose2d_bias(&w, b.as_ref(), self.params)
    }

    fn describe(&self) -> String {
        let (kh, kw) = self.kernel_size();
        let p = self.params;
        let mut s = format!(
            "ConvTranspose2d({}, {}, kernel_size=({kh}, {kw}), stride=({}, {})",
            self.in_channels(),
            self.out_channels(),
            p.stride.0,
            p.stride.1
        );
        s.extend(pair("padding", p.padding, 0));
        s.extend(pair("dilation", p.dilation, 1));
        s.extend(pair("output_padding", p.output_padding, 0));
        if p.groups != 1 {
            s.push_str(&format!(", groups={}", p.groups));
        }
        if self.bias.is_none() {
            s.push_str(", bias=False");
        }
        s.push(')');
        s
    }

    fn own_params(&self) -> Vec<(String, Param)> {
        let mut v = vec![("weight".to_string(), self.weight.clone())];
        if let Some(b) = &self.bias {
            v.push(("bias".to_string(), b.clone()));
        }
        v
    }

    crate::as_dyn!();
}
