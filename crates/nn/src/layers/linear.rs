//! `Linear`: y = x·Wᵀ + b.

use super::{param_var, py_bool};
use crate::init;
use crate::Module;
use autograd::{Param, Var};
use tensor::{DType, Rng, Tensor};

/// A fully connected layer, y = x·Wᵀ + b, like `torch.nn.Linear`.
///
/// - `weight`: `[out_features, in_features]`, U(±1/√in_features) (PyTorch's
///   `kaiming_uniform(a = √5)`);
/// - `bias` (optional): `[out_features]`, U(±1/√in_features).
///
/// Input `[…, in_features]`, output `[…, out_features]`. Cloning shares the parameters.
///
/// ```
/// use autograd::Tape;
/// use minimax_nn::layers::Linear;
/// use minimax_nn::Module;
/// use tensor::{DType, Rng, Tensor};
/// let lin = Linear::new(2, 3, true, &mut Rng::seed(0));
/// let tape = Tape::new();
/// let y = lin.forward(&tape.constant(Tensor::ones([4, 2], DType::F32)));
/// assert_eq!(y.dims(), &[4, 3]);
/// ```
#[derive(Clone, Debug)]
pub struct Linear {
    /// `[out_features, in_features]`.
    pub weight: Param,
    /// `[out_features]`, if the layer has a bias.
    pub bias: Option<Param>,
    in_features: usize,
    out_features: usize,
}

impl Linear {
    /// A layer with PyTorch's default initialisation drawn from `rng`.
    pub fn new(in_features: usize, out_features: usize, bias: bool, rng: &mut Rng) -> Linear {
        let weight = Param::new(
            "weight",
            Tensor::zeros([out_features, in_features], DType::F32),
        );
        let bias = bias.then(|| Param::new("bias", Tensor::zeros([out_features], DType::F32)));
        init::pytorch_default(&weight, bias.as_ref(), rng);
        Linear {
            weight,
            bias,
            in_features,
            out_features,
        }
    }

    /// A layer using the given parameters (weight `[out, in]`, bias `[out]`).
    #[track_caller]
    pub fn from_params(weight: Param, bias: Option<Param>) -> Linear {
        let d = weight.value().dims().to_vec();
        assert!(
            d.len() == 2,
            "Linear::from_params: weight must be [out, in], got {d:?}"
        );
        if let Some(b) = &bias {
            assert!(
                b.value().dims() == [d[0]],
                "Linear::from_params: bias must be [{}], got {:?}",
                d[0],
                b.value().dims()
            );
        }
        Linear {
            weight,
            bias,
            in_features: d[1],
            out_features: d[0],
        }
    }

    /// A second layer with the same parameters (gradients from both accumulate into them).
    pub fn shared(&self) -> Linear {
        self.clone()
    }

    /// Number of input features.
    pub fn in_features(&self) -> usize {
        self.in_features
    }

    /// Number of output features.
    pub fn out_features(&self) -> usize {
        self.out_features
    }
}

impl Module for Linear {
    fn forward(&self, x: &Var) -> Var {
        let w = param_var(x, &self.weight);
        let b = self.bias.as_ref().map(|b| param_var(x, b));
        x.linear(&w, b.as_ref())
    }

    fn describe(&self) -> String {
        format!(
            "Linear(in_features={}, out_features={}, bias={})",
            self.in_features,
            self.out_features,
            py_bool(self.bias.is_some())
        )
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
