//! Containers: [`Sequential`] and CycleGAN's [`ResidualBlock`]; and `Rc<M>` / `Box<M>` as
//! modules, so one layer instance can sit in two models.

use super::{Conv2d, InstanceNorm2d, ReLU, ReflectionPad2d};
use crate::Module;
use autograd::{Param, Var};
use std::rc::Rc;
use tensor::Rng;

/// Layers applied one after the other, like `torch.nn.Sequential`. Children are named
/// `"0"`, `"1"`, …, so parameter paths are `"0.weight"`, `"2.bias"`, as in PyTorch.
///
/// ```
/// use minimax_nn::layers::{Linear, ReLU, Sequential};
/// use minimax_nn::Module;
/// use tensor::Rng;
/// let mut rng = Rng::seed(0);
/// let mlp = Sequential::new()
///     .add(Linear::new(2, 8, true, &mut rng))
///     .add(ReLU::new())
///     .add(Linear::new(8, 1, true, &mut rng));
/// let names: Vec<String> = mlp.named_params().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
/// ```
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
}

impl Sequential {
    /// An empty container (its forward pass is the identity).
    pub fn new() -> Sequential {
        Sequential { layers: Vec::new() }
    }

    /// The container with `layer` appended (builder style).
    #[allow(clippy::should_implement_trait)]
    pub fn add<M: Module + 'static>(mut self, layer: M) -> Sequential {
        self.layers.push(Box::new(layer));
        self
    }

    /// Appends a layer.
    pub fn push<M: Module + 'static>(&mut self, layer: M) {
        self.layers.push(Box::new(layer));
    }

    /// Appends an already boxed layer.
    pub fn push_boxed(&mut self, layer: Box<dyn Module>) {
        self.layers.push(layer);
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether there is no layer.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// Layer `i`.
    pub fn get(&self, i: usize) -> Option<&dyn Module> {
        self.layers.get(i).map(|b| b.as_ref())
    }

    /// The outputs of every layer in turn (for inspection: activations, feature matching).
    pub fn forward_all(&self, x: &Var) -> Vec<Var> {
        let mut out = Vec::with_capacity(self.layers.len());
        let mut h = x.clone();
        for l in &self.layers {
            h = l.forward(&h);
            out.push(h.clone());
        }
        out
    }
}

impl Module for Sequential {
    fn forward(&self, x: &Var) -> Var {
        let mut h = x.clone();
        for l in &self.layers {
            h = l.forward(&h);
        }
        h
    }
    fn describe(&self) -> String {
        "Sequential".to_string()
    }
    fn children(&self) -> Vec<(String, &dyn Module)> {
        self.layers
            .iter()
            .enumerate()
            .map(|(i, l)| (i.to_string(), l.as_ref()))
            .collect()
    }
    crate::as_dyn!();
}

/// A module behind an `Rc` is a module: put clones of one `Rc` into two models to share the
/// layer (its parameters, buffers and mode) between them.
impl<M: Module + ?Sized> Module for Rc<M> {
    fn forward(&self, x: &Var) -> Var {
        (**self).forward(x)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn own_params(&self) -> Vec<(String, Param)> {
        (**self).own_params()
    }
    fn own_buffers(&self) -> Vec<(String, Param)> {
        (**self).own_buffers()
    }
    fn children(&self) -> Vec<(String, &dyn Module)> {
        (**self).children()
    }
    fn set_own_training(&self, training: bool) {
        (**self).set_own_training(training)
    }
    crate::as_dyn!();
}

/// A boxed module is a module.
impl<M: Module + ?Sized> Module for Box<M> {
    fn forward(&self, x: &Var) -> Var {
        (**self).forward(x)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn own_params(&self) -> Vec<(String, Param)> {
        (**self).own_params()
    }
    fn own_buffers(&self) -> Vec<(String, Param)> {
        (**self).own_buffers()
    }
    fn children(&self) -> Vec<(String, &dyn Module)> {
        (**self).children()
    }
    fn set_own_training(&self, training: bool) {
        (**self).set_own_training(training)
    }
    crate::as_dyn!();
}

/// y = x + block(x): the residual block of CycleGAN's ResNet generator (its `ResnetBlock`).
///
/// [`ResidualBlock::cyclegan`] builds CycleGAN's block: `ReflectionPad2d(1)`, `Conv2d(dim, dim,
/// 3)` with bias, `InstanceNorm2d(dim)`, `ReLU`, `ReflectionPad2d(1)`, `Conv2d(dim, dim, 3)`,
/// `InstanceNorm2d(dim)`. The block is the child `"conv_block"`, so parameter paths are
/// `"conv_block.1.weight"`, `"conv_block.5.bias"`, matching CycleGAN's checkpoints.
pub struct ResidualBlock {
    conv_block: Sequential,
}

impl ResidualBlock {
    /// x + `conv_block`(x); `conv_block` must keep the shape.
    pub fn new(conv_block: Sequential) -> ResidualBlock {
        ResidualBlock { conv_block }
    }

    /// CycleGAN's block for `dim` channels (instance norm, reflection padding, no dropout).
    pub fn cyclegan(dim: usize, rng: &mut Rng) -> ResidualBlock {
        ResidualBlock::new(
            Sequential::new()
                .add(ReflectionPad2d::all(1))
                .add(Conv2d::new(dim, dim, 3, rng))
                .add(InstanceNorm2d::new(dim))
                .add(ReLU::new())
                .add(ReflectionPad2d::all(1))
                .add(Conv2d::new(dim, dim, 3, rng))
                .add(InstanceNorm2d::new(dim)),
        )
    }

    /// The residual branch.
    pub fn conv_block(&self) -> &Sequential {
        &self.conv_block
    }
}

impl Module for ResidualBlock {
    fn forward(&self, x: &Var) -> Var {
        let r = self.conv_block.forward(x);
        assert!(
            r.shape() == x.shape(),
            "ResidualBlock: the block maps {:?} to {:?}; it must keep the shape",
            x.shape(),
            r.shape()
        );
        x.add(&r)
    }
    fn describe(&self) -> String {
        "ResidualBlock".to_string()
    }
    fn children(&self) -> Vec<(String, &dyn Module)> {
        vec![("conv_block".to_string(), &self.conv_block as &dyn Module)]
    }
    crate::as_dyn!();
}
