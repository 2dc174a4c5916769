//! The recorded operations. Each tape node holds one [`Op`]: its name, its parameters and (in
//! the node) its inputs, so the tape can be printed, drawn and stepped through.

use std::rc::Rc;
use tensor::{Conv2dParams, ConvTranspose2dParams, PadMode, Shape, Tensor};

/// A differentiable operation recorded on the tape.
#[derive(Clone, Debug)]
pub enum Op {
    /// A leaf: a user input with `requires_grad`, or a parameter.
    Leaf,
    /// -a
    Neg,
    /// |a|
    Abs,
    /// e^a
    Exp,
    /// ln a
    Log,
    /// √a
    Sqrt,
    /// a²
    Square,
    /// 1/a
    Reciprocal,
    /// sin a
    Sin,
    /// cos a
    Cos,
    /// max(a, 0)
    Relu,
    /// a if a > 0 else slope·a
    LeakyRelu(f64),
    /// σ(a)
    Sigmoid,
    /// tanh a
    Tanh,
    /// ln(1 + e^a)
    Softplus,
    /// ln σ(a)
    LogSigmoid,
    /// clamp(a, lo, hi)
    Clamp(f64, f64),
    /// a + c
    AddScalar(f64),
    /// a · c
    MulScalar(f64),
    /// a^c
    PowScalar(f64),
    /// a + b (broadcasting)
    Add,
    /// a - b
    Sub,
    /// a · b
    Mul,
    /// a / b
    Div,
    /// a^b
    Pow,
    /// max(a, b)
    Maximum,
    /// min(a, b)
    Minimum,
    /// cond ? a : b (cond is a constant mask)
    Where(Box<Tensor>),
    /// Σ over axes
    Sum {
        /// reduced axes (resolved)
        axes: Vec<usize>,
        /// whether reduced axes are kept as size 1
        keepdim: bool,
    },
    /// max over axes
    Max {
        /// reduced axes (resolved)
        axes: Vec<usize>,
        /// whether reduced axes are kept as size 1
        keepdim: bool,
    },
    /// min over axes
    Min {
        /// reduced axes (resolved)
        axes: Vec<usize>,
        /// whether reduced axes are kept as size 1
        keepdim: bool,
    },
    /// new shape, same elements
    Reshape,
    /// reorder dimensions
    Permute(Vec<usize>),
    /// broadcast to a larger shape
    Expand,
    /// a slice along one axis
    Narrow {
        /// axis
        axis: usize,
        /// first index
        start: usize,
    },
    /// padding of the trailing dimensions
    Pad {
        /// (before, after) per trailing dimension
        pads: Vec<(usize, usize)>,
        /// constant or reflect
        mode: PadMode,
    },
    /// adjoint of reflect padding (folds the border back)
    PadReflectAdjoint {
        /// (before, after) per trailing dimension
        pads: Vec<(usize, usize)>,
    },
    /// concatenation along an axis
    Cat {
        /// axis
        axis: usize,
    },
    /// selection of indices along an axis
    IndexSelect {
        /// axis
        axis: usize,
        /// indices
        indices: Vec<usize>,
    },
    /// adjoint of index_select
    IndexAdd {
        /// axis
        axis: usize,
        /// indices
        indices: Vec<usize>,
    },
    /// gather along an axis
    Gather {
        /// axis
        axis: usize,
        /// index tensor (constant)
        index: Box<Tensor>,
    },
    /// adjoint of gather
    ScatterAdd {
        /// axis
        axis: usize,
        /// index tensor (constant)
        index: Box<Tensor>,
        /// output shape
        shape: Box<Shape>,
    },
    /// reverse along axes
    Flip(Vec<isize>),
    /// matrix product (≥ 2-D operands, broadcast batch)
    Matmul,
    /// x·Wᵀ (+ b): x [N, in], W [out, in], optional b [out] (a third input)
    Linear,
    /// identity forward, −λ·grad backward
    GradReverse(f64),
    /// 2-D convolution of x [N, Cin, H, W] with w [Cout, Cin/groups, kh, kw], optional b [Cout]
    /// (a third input)
    Conv2d(Conv2dParams),
    /// 2-D transposed convolution of x with w [Cin, Cout/groups, kh, kw], optional b [Cout]
    /// (a third input)
    ConvTranspose2d(ConvTranspose2dParams),
    /// the weight gradient of conv2d, as a function of (input, grad_out)
    Conv2dWeightGrad(Conv2dParams),
    /// the weight gradient of conv_transpose2d, as a function of (input, grad_out)
    ConvTranspose2dWeightGrad(ConvTranspose2dParams),
    /// average pooling
    AvgPool2d {
        /// window
        kernel: (usize, usize),
        /// step
        stride: (usize, usize),
        /// zero padding
        padding: (usize, usize),
    },
    /// adjoint of average pooling
    AvgPool2dBackward {
        /// window
        kernel: (usize, usize),
        /// step
        stride: (usize, usize),
        /// zero padding
        padding: (usize, usize),
    },
    /// max pooling (the arg-max positions are kept)
    MaxPool2d {
        /// flat h·W + w index of each maximum within its plane
        indices: Rc<Vec<usize>>,
    },
    /// scatter of a pooled gradient to the arg-max positions (adjoint of the gather below)
    MaxPool2dBackward {
        /// positions
        indices: Rc<Vec<usize>>,
    },
    /// gather at the arg-max positions
    MaxPool2dGather {
        /// positions
        indices: Rc<Vec<usize>>,
    },
    /// x·w[c] + b[c] along axis 1 (inputs x, w and optionally b), batch norm's affine step
    ChannelAffine,
    /// Test builds only: [`Op::ChannelAffine`] whose differentiable backward branch (the one
    /// run with `create_graph`) doubles the weight gradient — the mutant that passed every
    /// test while gradcheck ran the fused branch only (`check::tests`).
    #[cfg(test)]
    MutantChannelAffine,
    /// (x − mean)/√(var + eps) over axes (biased variance), with a closed-form backward
    Normalize {
        /// normalised axes (resolved)
        axes: Vec<usize>,
        /// added to the variance
        eps: f64,
    },
    /// nearest-neighbour upsampling by an integer factor
    UpsampleNearest2d(usize),
    /// adjoint of nearest upsampling (sum over each block)
    UpsampleNearest2dBackward(usize),
}

impl Op {
    /// The op's name as printed on the tape.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Leaf => "leaf",
            Op::Neg => "neg",
            Op::Abs => "abs",
            Op::Exp => "exp",
            Op::Log => "log",
            Op::Sqrt => "sqrt",
            Op::Square => "square",
            Op::Reciprocal => "reciprocal",
            Op::Sin => "sin",
            Op::Cos => "cos",
            Op::Relu => "relu",
            Op::LeakyRelu(_) => "leaky_relu",
            Op::Sigmoid => "sigmoid",
            Op::Tanh => "tanh",
            Op::Softplus => "softplus",
            Op::LogSigmoid => "log_sigmoid",
            Op::Clamp(..) => "clamp",
            Op::AddScalar(_) => "add_scalar",
            Op::MulScalar(_) => "mul_scalar",
            Op::PowScalar(_) => "pow_scalar",
            Op::Add => "add",
            Op::Sub => "sub",
            Op::Mul => "mul",
            Op::Div => "div",
            Op::Pow => "pow",
            Op::Maximum => "maximum",
            Op::Minimum => "minimum",
            Op::Where(_) => "where",
            Op::Sum { .. } => "sum",
            Op::Max { .. } => "max",
            Op::Min { .. } => "min",
            Op::Reshape => "reshape",
            Op::Permute(_) => "permute",
            Op::Expand => "expand",
            Op::Narrow { .. } => "narrow",
            Op::Pad { .. } => "pad",
            Op::PadReflectAdjoint { .. } => "pad_reflect_adjoint",
            Op::Cat { .. } => "cat",
            Op::IndexSelect { .. } => "index_select",
            Op::IndexAdd { .. } => "index_add",
            Op::Gather { .. } => "gather",
            Op::ScatterAdd { .. } => "scatter_add",
            Op::Flip(_) => "flip",
            Op::Matmul => "matmul",
            Op::Linear => "linear",
            Op::GradReverse(_) => "grad_reverse",
            Op::Conv2d(_) => "conv2d",
            Op::ConvTranspose2d(_) => "conv_transpose2d",
            Op::Conv2dWeightGrad(_) => "conv2d_weight_grad",
            Op::ConvTranspose2dWeightGrad(_) => "conv_transpose2d_weight_grad",
            Op::AvgPool2d { .. } => "avg_pool2d",
            Op::AvgPool2dBackward { .. } => "avg_pool2d_backward",
            Op::MaxPool2d { .. } => "max_pool2d",
            Op::MaxPool2dBackward { .. } => "max_pool2d_backward",
            Op::MaxPool2dGather { .. } => "max_pool2d_gather",
            Op::ChannelAffine => "channel_affine",
            #[cfg(test)]
            Op::MutantChannelAffine => "mutant_channel_affine",
            Op::Normalize { .. } => "normalize",
            Op::UpsampleNearest2d(_) => "upsample_nearest2d",
            Op::UpsampleNearest2dBackward(_) => "upsample_nearest2d_backward",
        }
    }

    /// The backward rule in words, as the step-by-step trace prints it.
    pub fn rule(&self) -> &'static str {
        match self {
            Op::Leaf => "leaf: gradient accumulates here",
            Op::Neg => "∂L/∂a = -∂L/∂out",
            Op::Abs => "∂L/∂a = ∂L/∂out · sign(a)",
            Op::Exp => "∂L/∂a = ∂L/∂out · out",
            Op::Log => "∂L/∂a = ∂L/∂out / a",
            Op::Sqrt => "∂L/∂a = ∂L/∂out / (2·out)",
            Op::Square => "∂L/∂a = ∂L/∂out · 2a",
            Op::Reciprocal => "∂L/∂a = -∂L/∂out · out²",
            Op::Sin => "∂L/∂a = ∂L/∂out · cos a",
            Op::Cos => "∂L/∂a = -∂L/∂out · sin a",
            Op::Relu => "∂L/∂a = ∂L/∂out · [a > 0]",
            Op::LeakyRelu(_) => "∂L/∂a = ∂L/∂out · (a > 0 ? 1 : slope)",
            Op::Sigmoid => "∂L/∂a = ∂L/∂out · out·(1 - out)",
            Op::Tanh => "∂L/∂a = ∂L/∂out · (1 - out²)",
            Op::Softplus => "∂L/∂a = ∂L/∂out · σ(a)",
            Op::LogSigmoid => "∂L/∂a = ∂L/∂out · σ(-a)",
            Op::Clamp(..) => "∂L/∂a = ∂L/∂out · [lo ≤ a ≤ hi]",
            Op::AddScalar(_) => "∂L/∂a = ∂L/∂out",
            Op::MulScalar(_) => "∂L/∂a = ∂L/∂out · c",
            Op::PowScalar(_) => "∂L/∂a = ∂L/∂out · c·a^(c-1)",
            Op::Add => "∂L/∂a = ∂L/∂out, ∂L/∂b = ∂L/∂out (summed over broadcast dims)",
            Op::Sub => "∂L/∂a = ∂L/∂out, ∂L/∂b = -∂L/∂out",
            Op::Mul => "∂L/∂a = ∂L/∂out · b, ∂L/∂b = ∂L/∂out · a",
            Op::Div => "∂L/∂a = ∂L/∂out / b, ∂L/∂b = -∂L/∂out · out / b",
            Op::Pow => "∂L/∂a = ∂L/∂out · b·a^(b-1), ∂L/∂b = ∂L/∂out · out·ln a",
            Op::Maximum => "∂L/∂a = ∂L/∂out · ([a > b] + ½[a = b]), b likewise",
            Op::Minimum => "∂L/∂a = ∂L/∂out · ([a < b] + ½[a = b]), b likewise",
            Op::Where(_) => "∂L/∂a = cond ? ∂L/∂out : 0, ∂L/∂b = cond ? 0 : ∂L/∂out",
            Op::Sum { .. } => "∂L/∂a = ∂L/∂out broadcast back over the summed axes",
            Op::Max { .. } => "∂L/∂a = ∂L/∂out at the maxima (shared equally by ties), 0 elsewhere",
            Op::Min { .. } => "∂L/∂a = ∂L/∂out at the minima (shared equally by ties), 0 elsewhere",
            Op::Reshape => "∂L/∂a = reshape(∂L/∂out, shape of a)",
            Op::Permute(_) => "∂L/∂a = permute(∂L/∂out, inverse permutation)",
            Op::Expand => "∂L/∂a = ∂L/∂out summed over the broadcast dims",
            Op::Narrow { .. } => "∂L/∂a = ∂L/∂out padded with zeros back to a's shape",
            Op::Pad { .. } => "∂L/∂a = the inner part of ∂L/∂out (reflect: border folded back)",
            Op::PadReflectAdjoint { .. } => "∂L/∂a = reflect-pad(∂L/∂out)",
            Op::Cat { .. } => "∂L/∂aᵢ = the slice of ∂L/∂out that came from aᵢ",
            Op::IndexSelect { .. } => "∂L/∂a = index_add(∂L/∂out) at the selected indices",
            Op::IndexAdd { .. } => "∂L/∂a = index_select(∂L/∂out)",
            Op::Gather { .. } => "∂L/∂a = scatter_add(∂L/∂out) at the gathered positions",
            Op::ScatterAdd { .. } => "∂L/∂a = gather(∂L/∂out)",
            Op::Flip(_) => "∂L/∂a = flip(∂L/∂out)",
            Op::Matmul => "∂L/∂A = ∂L/∂out · Bᵀ, ∂L/∂B = Aᵀ · ∂L/∂out",
            Op::Linear => "∂L/∂x = ∂L/∂out · W, ∂L/∂W = (∂L/∂out)ᵀ · x, ∂L/∂b = Σₙ ∂L/∂out",
            Op::GradReverse(_) => "∂L/∂a = -λ · ∂L/∂out",
            Op::Conv2d(_) => {
                "∂L/∂x = conv_transpose2d(∂L/∂out, w), ∂L/∂w = conv2d_weight_grad(x, ∂L/∂out), \
                 ∂L/∂b = Σₙ,ₕ,ᵥ ∂L/∂out"
            }
            Op::ConvTranspose2d(_) => {
                "∂L/∂x = conv2d(∂L/∂out, w), ∂L/∂w = conv_transpose2d_weight_grad(x, ∂L/∂out), \
                 ∂L/∂b = Σₙ,ₕ,ᵥ ∂L/∂out"
            }
            Op::Conv2dWeightGrad(_) => {
                "bilinear in (x, g): ∂/∂x = conv_transpose2d(g, V), ∂/∂g = conv2d(x, V)"
            }
            Op::ConvTranspose2dWeightGrad(_) => {
                "bilinear in (x, g): ∂/∂x = conv2d(g, V), ∂/∂g = conv_transpose2d(x, V)"
            }
            Op::AvgPool2d { .. } => {
                "∂L/∂x = avg_pool2d_backward(∂L/∂out): each window's gradient spread evenly"
            }
            Op::AvgPool2dBackward { .. } => "∂L/∂a = avg_pool2d(∂L/∂out)",
            Op::MaxPool2d { .. } => {
                "∂L/∂x = ∂L/∂out routed to the position of each window's maximum"
            }
            Op::MaxPool2dBackward { .. } => "∂L/∂a = ∂L/∂out gathered at the maxima",
            Op::MaxPool2dGather { .. } => "∂L/∂a = ∂L/∂out scattered to the maxima",
            Op::ChannelAffine => {
                "∂L/∂x = ∂L/∂out · w[c], ∂L/∂w[c] = Σ ∂L/∂out · x, ∂L/∂b[c] = Σ ∂L/∂out (sums over all but axis 1)"
            }
            Op::Normalize { .. } => {
                "∂L/∂x = (g − mean(g) − x̂·mean(g·x̂)) / √(var + eps), means over the normalised axes"
            }
            #[cfg(test)]
            Op::MutantChannelAffine => "channel_affine's, with ∂L/∂w doubled under create_graph",
            Op::UpsampleNearest2d(_) => "∂L/∂x = ∂L/∂out summed over each scale×scale block",
            Op::UpsampleNearest2dBackward(_) => "∂L/∂a = nearest-upsample(∂L/∂out)",
        }
    }
}

/// The names of every differentiable op (all but `leaf`). The test suite checks that each has
/// a gradcheck and gradgradcheck test, so an op added without one fails the suite.
pub const OP_NAMES: &[&str] = &[
    "neg",
    "abs",
    "exp",
    "log",
    "sqrt",
    "square",
    "reciprocal",
    "sin",
    "cos",
    "relu",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "softplus",
    "log_sigmoid",
    "clamp",
    "add_scalar",
    "mul_scalar",
    "pow_scalar",
    "add",
    "sub",
    "mul",
    "div",
    "pow",
    "maximum",
    "minimum",
    "where",
    "sum",
    "max",
    "min",
    "reshape",
    "permute",
    "expand",
    "narrow",
    "pad",
    "pad_reflect_adjoint",
    "cat",
    "index_select",
    "index_add",
    "gather",
    "scatter_add",
    "flip",
    "matmul",
    "linear",
    "grad_reverse",
    "conv2d",
    "conv_transpose2d",
    "conv2d_weight_grad",
    "conv_transpose2d_weight_grad",
    "avg_pool2d",
    "avg_pool2d_backward",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool2d_gather",
    "upsample_nearest2d",
    "upsample_nearest2d_backward",
    "normalize",
];
