//! Element-wise activations, and the gradient-reversal layer. None has parameters.

use super::py_float;
use crate::Module;
use autograd::Var;

/// max(x, 0), like `torch.nn.ReLU`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReLU;

impl ReLU {
    /// The layer.
    pub fn new() -> ReLU {
        ReLU
    }
}

impl Module for ReLU {
    fn forward(&self, x: &Var) -> Var {
        x.relu()
    }
    fn describe(&self) -> String {
        "ReLU()".to_string()
    }
    crate::as_dyn!();
}

/// x if x > 0, else `negative_slope`·x, like `torch.nn.LeakyReLU` (GANs use 0.2; PyTorch's
/// default is 0.01).
#[derive(Clone, Copy, Debug)]
pub struct LeakyReLU {
    /// The slope for negative inputs.
    pub negative_slope: f64,
}

impl LeakyReLU {
    /// The layer with the given negative slope.
    pub fn new(negative_slope: f64) -> LeakyReLU {
        LeakyReLU { negative_slope }
    }
}

impl Default for LeakyReLU {
    /// PyTorch's default slope, 0.01.
    fn default() -> Self {
        LeakyReLU::new(0.01)
    }
}

impl Module for LeakyReLU {
    fn forward(&self, x: &Var) -> Var {
        x.leaky_relu(self.negative_slope)
    }
    fn describe(&self) -> String {
        format!(
            "LeakyReLU(negative_slope={})",
            py_float(self.negative_slope)
        )
    }
    crate::as_dyn!();
}

/// tanh x, like `torch.nn.Tanh`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tanh;

impl Tanh {
    /// The layer.
    pub fn new() -> Tanh {
        Tanh
    }
}

impl Module for Tanh {
    fn forward(&self, x: &Var) -> Var {
        x.tanh()
    }
    fn describe(&self) -> String {
        "Tanh()".to_string()
    }
    crate::as_dyn!();
}

/// σ(x) = 1/(1 + e^−x), like `torch.nn.Sigmoid`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sigmoid;

impl Sigmoid {
    /// The layer.
    pub fn new() -> Sigmoid {
        Sigmoid
    }
}

impl Module for Sigmoid {
    fn forward(&self, x: &Var) -> Var {
        x.sigmoid()
    }
    fn describe(&self) -> String {
        "Sigmoid()".to_string()
    }
    crate::as_dyn!();
}

/// ln(1 + e^(β·x)) / β, and x itself where β·x > `threshold` (for numerical stability), like
/// `torch.nn.Softplus` (defaults β = 1, threshold = 20).
#[derive(Clone, Copy, Debug)]
pub struct Softplus {
    /// β.
    pub beta: f64,
    /// Above this value of β·x the layer is linear.
    pub threshold: f64,
}

impl Softplus {
    /// PyTorch's defaults: β = 1, threshold = 20.
    pub fn new() -> Softplus {
        Softplus::with_options(1.0, 20.0)
    }
    /// With explicit β and threshold.
    pub fn with_options(beta: f64, threshold: f64) -> Softplus {
        Softplus { beta, threshold }
    }
}

impl Default for Softplus {
    fn default() -> Self {
        Softplus::new()
    }
}

impl Module for Softplus {
    fn forward(&self, x: &Var) -> Var {
        let bx = if self.beta == 1.0 {
            x.clone()
        } else {
            x.mul_scalar(self.beta)
        };
        let soft = bx.softplus();
        let soft = if self.beta == 1.0 {
            soft
        } else {
            soft.mul_scalar(1.0 / self.beta)
        };
        let linear = bx.value().gt_scalar(self.threshold);
        Var::where_(&linear, x, &soft)
    }
    fn describe(&self) -> String {
        format!(
            "Softplus(beta={}, threshold={})",
            py_float(self.beta),
            py_float(self.threshold)
        )
    }
    crate::as_dyn!();
}

/// The gradient-reversal layer of DANN (Ganin & Lempitsky 2015): identity in the forward pass,
/// gradient multiplied by −λ in the backward pass (uses [`Var::grad_reverse`]).
#[derive(Clone, Copy, Debug)]
pub struct GradientReversal {
    /// λ.
    pub lambda: f64,
}

impl GradientReversal {
    /// The layer with the given λ.
    pub fn new(lambda: f64) -> GradientReversal {
        GradientReversal { lambda }
    }
}

impl Module for GradientReversal {
    fn forward(&self, x: &Var) -> Var {
        x.grad_reverse(self.lambda)
    }
    fn describe(&self) -> String {
        format!("GradientReversal(lambda={})", py_float(self.lambda))
    }
    crate::as_dyn!();
}
