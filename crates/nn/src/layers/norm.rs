//! Normalisation layers: batch norm, instance norm, layer norm.
//!
//! Batch and instance norm normalise with autograd's `normalize` op, whose backward is the
//! closed form (g − mean(g) − x̂·mean(g·x̂))/σ, written with Var ops so it has second
//! derivatives too; `tests/norm_closed_form.rs` checks it against the composed version. Layer
//! norm is written with primitive Var ops (mean, sub, square, sqrt, div, mul, add).
//!
//! y = (x − mean) / √(var + eps) · weight + bias, where the variance is the *biased* one (÷n).
//! Batch and instance norm keep running statistics (buffers `running_mean`, `running_var`),
//! updated in training mode with `running ← (1 − momentum)·running + momentum·batch`, where the
//! variance that goes in is the *unbiased* one (÷(n − 1)) — PyTorch's convention.

use super::{channel_shape, param_var, py_bool, py_float};
use crate::Module;
use autograd::{Param, Var};
use std::cell::Cell;
use tensor::{DType, Tensor};

/// Options of [`BatchNorm1d`], [`BatchNorm2d`] and [`InstanceNorm2d`] (PyTorch's keyword
/// arguments). `momentum = None` (PyTorch's cumulative average) is not supported.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NormOptions {
    /// Added to the variance before the square root. Default 1e-5.
    pub eps: f64,
    /// Weight of the new batch statistics in the running averages. Default 0.1.
    pub momentum: f64,
    /// Whether the layer has a learnable per-channel `weight` (ones) and `bias` (zeros).
    pub affine: bool,
    /// Whether the layer keeps running statistics (and uses them in evaluation mode).
    pub track_running_stats: bool,
}

impl NormOptions {
    /// Batch norm's defaults: eps 1e-5, momentum 0.1, affine, tracking running statistics.
    pub fn batch_norm() -> NormOptions {
        NormOptions {
            eps: 1e-5,
            momentum: 0.1,
            affine: true,
            track_running_stats: true,
        }
    }
    /// Instance norm's defaults: eps 1e-5, momentum 0.1, not affine, no running statistics.
    pub fn instance_norm() -> NormOptions {
        NormOptions {
            eps: 1e-5,
            momentum: 0.1,
            affine: false,
            track_running_stats: false,
        }
    }
    /// The same options with another `affine`.
    pub fn with_affine(self, affine: bool) -> NormOptions {
        NormOptions { affine, ..self }
    }
    /// The same options with another `track_running_stats`.
    pub fn with_track_running_stats(self, track_running_stats: bool) -> NormOptions {
        NormOptions {
            track_running_stats,
            ..self
        }
    }
    /// The same options with another `eps`.
    pub fn with_eps(self, eps: f64) -> NormOptions {
        NormOptions { eps, ..self }
    }
    /// The same options with another `momentum`.
    pub fn with_momentum(self, momentum: f64) -> NormOptions {
        NormOptions { momentum, ..self }
    }
}

/// The state shared by the batch and instance norms: per-channel affine parameters and running
/// statistics.
#[derive(Clone, Debug)]
struct ChannelNorm {
    name: &'static str,
    num_features: usize,
    opts: NormOptions,
    weight: Option<Param>,
    bias: Option<Param>,
    running_mean: Option<Param>,
    running_var: Option<Param>,
    training: Cell<bool>,
}

fn buffer(name: &str, t: Tensor) -> Param {
    let p = Param::new(name, t);
    p.set_requires_grad(false);
    p
}

impl ChannelNorm {
    fn new(name: &'static str, num_features: usize, opts: NormOptions) -> ChannelNorm {
        let c = [num_features];
        ChannelNorm {
            name,
            num_features,
            opts,
            weight: opts
                .affine
                .then(|| Param::new("weight", Tensor::ones(c, DType::F32))),
            bias: opts
                .affine
                .then(|| Param::new("bias", Tensor::zeros(c, DType::F32))),
            running_mean: opts
                .track_running_stats
                .then(|| buffer("running_mean", Tensor::zeros(c, DType::F32))),
            running_var: opts
                .track_running_stats
                .then(|| buffer("running_var", Tensor::ones(c, DType::F32))),
            training: Cell::new(true),
        }
    }

    fn check_input(&self, x: &Var, ndims: &[usize], layout: &str) {
        assert!(
            ndims.contains(&x.ndim()) && x.dims()[1] == self.num_features,
            "{}({}): expects input {layout} with C = {}, got {:?}",
            self.name,
            self.num_features,
            self.num_features,
            x.shape()
        );
    }

    /// Normalises `x` over `axes` (batch norm: all but the channel axis; instance norm: the
    /// spatial axes), then applies the affine parameters.
    fn forward(&self, x: &Var, axes: &[isize], what: &str) -> Var {
        let c = self.num_features;
        let cshape = channel_shape(x.ndim(), c);
        let n: usize = axes.iter().map(|&a| x.dims()[a as usize]).product();
        let use_batch_stats = self.training.get() || !self.opts.track_running_stats;
        let xhat = if use_batch_stats {
            assert!(
                n > 1,
                "{}: expected more than 1 value per channel {what} (input {:?})",
                self.name,
                x.shape()
            );
            // one op with the closed-form backward (autograd's `normalize`); the composed
            // version (mean, sub, square, mean, div) gives the same values and gradients — a
            // test checks both
            let (xhat, mean, var) = x.normalize_with_stats(axes, self.opts.eps);
            if self.training.get() && self.opts.track_running_stats {
                self.update_running(&mean, &var, n);
            }
            xhat
        } else {
            let rm = self.running_mean.as_ref().expect("running_mean").value();
            let rv = self.running_var.as_ref().expect("running_var").value();
            let rm = x.constant(rm.to_dtype(x.dtype()).reshape(cshape.clone()));
            let rstd = rv
                .to_dtype(x.dtype())
                .add_scalar(self.opts.eps)
                .sqrt()
                .reshape(cshape.clone());
            x.sub(&rm).div(&x.constant(rstd))
        };
        match (&self.weight, &self.bias) {
            (Some(w), Some(b)) => xhat.channel_affine(&param_var(x, w), Some(&param_var(x, b))),
            _ => xhat,
        }
    }

    /// running ← (1 − m)·running + m·stat, with the unbiased variance; statistics of shape
    /// `[N or 1, C, 1, …]` are averaged over their first axis (the per-sample statistics of
    /// instance norm, as PyTorch does).
    fn update_running(&self, mean: &Tensor, biased_var: &Tensor, n: usize) {
        let _g = autograd::no_grad();
        let c = self.num_features;
        let m = self.opts.momentum;
        let per_channel = |t: &Tensor| t.mean(&[0], false).reshape([c]);
        let unbiased = biased_var.mul_scalar(n as f64 / (n as f64 - 1.0));
        for (buf, stat) in [
            (self.running_mean.as_ref(), per_channel(mean)),
            (self.running_var.as_ref(), per_channel(&unbiased)),
        ] {
            let buf = buf.expect("running statistics");
            let old = buf.value();
            let new = old
                .mul_scalar(1.0 - m)
                .add(&stat.to_dtype(old.dtype()).mul_scalar(m));
            buf.set_value(new);
        }
    }

    fn own_params(&self) -> Vec<(String, Param)> {
        let mut v = Vec::new();
        if let (Some(w), Some(b)) = (&self.weight, &self.bias) {
            v.push(("weight".to_string(), w.clone()));
            v.push(("bias".to_string(), b.clone()));
        }
        v
    }

    fn own_buffers(&self) -> Vec<(String, Param)> {
        let mut v = Vec::new();
        if let (Some(m), Some(r)) = (&self.running_mean, &self.running_var) {
            v.push(("running_mean".to_string(), m.clone()));
            v.push(("running_var".to_string(), r.clone()));
        }
        v
    }

    fn describe(&self) -> String {
        format!(
            "{}({}, eps={}, momentum={}, affine={}, track_running_stats={})",
            self.name,
            self.num_features,
            py_float(self.opts.eps),
            py_float(self.opts.momentum),
            py_bool(self.opts.affine),
            py_bool(self.opts.track_running_stats)
        )
    }
}

macro_rules! channel_norm_accessors {
    () => {
        /// The layer's options.
        pub fn options(&self) -> NormOptions {
            self.0.opts
        }
        /// Number of channels.
        pub fn num_features(&self) -> usize {
            self.0.num_features
        }
        /// The per-channel scale `[C]` (ones at first), if affine.
        pub fn weight(&self) -> Option<&Param> {
            self.0.weight.as_ref()
        }
        /// The per-channel shift `[C]` (zeros at first), if affine.
        pub fn bias(&self) -> Option<&Param> {
            self.0.bias.as_ref()
        }
        /// The running mean `[C]` (zeros at first), if tracked.
        pub fn running_mean(&self) -> Option<&Param> {
            self.0.running_mean.as_ref()
        }
        /// The running (unbiased) variance `[C]` (ones at first), if tracked.
        pub fn running_var(&self) -> Option<&Param> {
            self.0.running_var.as_ref()
        }
        /// Whether the layer is in training mode.
        pub fn is_training(&self) -> bool {
            self.0.training.get()
        }
    };
}

macro_rules! channel_norm_module {
    () => {
        fn describe(&self) -> String {
            self.0.describe()
        }
        fn own_params(&self) -> Vec<(String, Param)> {
            self.0.own_params()
        }
        fn own_buffers(&self) -> Vec<(String, Param)> {
            self.0.own_buffers()
        }
        fn set_own_training(&self, training: bool) {
            self.0.training.set(training);
        }
        crate::as_dyn!();
    };
}

/// Batch normalisation over `[N, C]` or `[N, C, L]` inputs (statistics per channel over N and
/// L), like `torch.nn.BatchNorm1d`. Parameters `weight`, `bias` `[C]`; buffers `running_mean`,
/// `running_var` `[C]`. Training mode uses the batch statistics (and needs more than one value
/// per channel) and updates the running ones; evaluation mode uses the running ones.
/// Cloning shares the parameters and buffers.
#[derive(Clone, Debug)]
pub struct BatchNorm1d(ChannelNorm);

impl BatchNorm1d {
    /// PyTorch's defaults (eps 1e-5, momentum 0.1, affine, tracking running statistics).
    pub fn new(num_features: usize) -> BatchNorm1d {
        Self::with_options(num_features, NormOptions::batch_norm())
    }
    /// With explicit options.
    pub fn with_options(num_features: usize, opts: NormOptions) -> BatchNorm1d {
        BatchNorm1d(ChannelNorm::new("BatchNorm1d", num_features, opts))
    }
    channel_norm_accessors!();
}

impl Module for BatchNorm1d {
    fn forward(&self, x: &Var) -> Var {
        self.0.check_input(x, &[2, 3], "[N, C] or [N, C, L]");
        let axes: &[isize] = if x.ndim() == 2 { &[0] } else { &[0, 2] };
        self.0.forward(x, axes, "when training")
    }
    channel_norm_module!();
}

/// Batch normalisation over `[N, C, H, W]` inputs (statistics per channel over N, H, W), like
/// `torch.nn.BatchNorm2d`; see [`BatchNorm1d`] for parameters, buffers and modes.
#[derive(Clone, Debug)]
pub struct BatchNorm2d(ChannelNorm);

impl BatchNorm2d {
    /// PyTorch's defaults (eps 1e-5, momentum 0.1, affine, tracking running statistics).
    pub fn new(num_features: usize) -> BatchNorm2d {
        Self::with_options(num_features, NormOptions::batch_norm())
    }
    /// With explicit options.
    pub fn with_options(num_features: usize, opts: NormOptions) -> BatchNorm2d {
        BatchNorm2d(ChannelNorm::new("BatchNorm2d", num_features, opts))
    }
    channel_norm_accessors!();
}

impl Module for BatchNorm2d {
    fn forward(&self, x: &Var) -> Var {
        self.0.check_input(x, &[4], "[N, C, H, W]");
        self.0.forward(x, &[0, 2, 3], "when training")
    }
    channel_norm_module!();
}

/// Instance normalisation over `[N, C, H, W]` inputs (statistics per sample and channel over H
/// and W), like `torch.nn.InstanceNorm2d`: by default no affine parameters and no running
/// statistics (CycleGAN's setting). With `track_running_stats`, training mode updates the
/// running statistics with the per-sample statistics averaged over the batch, and evaluation
/// mode uses them; otherwise both modes use the instance statistics.
#[derive(Clone, Debug)]
pub struct InstanceNorm2d(ChannelNorm);

impl InstanceNorm2d {
    /// PyTorch's defaults (eps 1e-5, momentum 0.1, not affine, no running statistics).
    pub fn new(num_features: usize) -> InstanceNorm2d {
        Self::with_options(num_features, NormOptions::instance_norm())
    }
    /// With explicit options (e.g. `NormOptions::instance_norm().with_affine(true)`).
    pub fn with_options(num_features: usize, opts: NormOptions) -> InstanceNorm2d {
        InstanceNorm2d(ChannelNorm::new("InstanceNorm2d", num_features, opts))
    }
    channel_norm_accessors!();
}

impl Module for InstanceNorm2d {
    fn forward(&self, x: &Var) -> Var {
        self.0.check_input(x, &[4], "[N, C, H, W]");
        self.0.forward(x, &[2, 3], "(more than 1 spatial element)")
    }
    channel_norm_module!();
}

/// Layer normalisation over the last dimensions (`normalized_shape`), like
/// `torch.nn.LayerNorm`: statistics per sample (biased variance), no running statistics, and
/// if `elementwise_affine` a `weight` (ones) and `bias` (zeros) of shape `normalized_shape`.
#[derive(Clone, Debug)]
pub struct LayerNorm {
    normalized_shape: Vec<usize>,
    eps: f64,
    /// `normalized_shape`, if elementwise affine.
    pub weight: Option<Param>,
    /// `normalized_shape`, if elementwise affine.
    pub bias: Option<Param>,
}

impl LayerNorm {
    /// PyTorch's defaults: eps 1e-5, elementwise affine.
    pub fn new(normalized_shape: &[usize]) -> LayerNorm {
        Self::with_options(normalized_shape, 1e-5, true)
    }
    /// With explicit eps and elementwise affine.
    pub fn with_options(
        normalized_shape: &[usize],
        eps: f64,
        elementwise_affine: bool,
    ) -> LayerNorm {
        assert!(
            !normalized_shape.is_empty(),
            "LayerNorm: normalized_shape must not be empty"
        );
        let s = normalized_shape.to_vec();
        LayerNorm {
            weight: elementwise_affine
                .then(|| Param::new("weight", Tensor::ones(s.clone(), DType::F32))),
            bias: elementwise_affine
                .then(|| Param::new("bias", Tensor::zeros(s.clone(), DType::F32))),
            normalized_shape: s,
            eps,
        }
    }
    /// The normalised trailing shape.
    pub fn normalized_shape(&self) -> &[usize] {
        &self.normalized_shape
    }
}

impl Module for LayerNorm {
    fn forward(&self, x: &Var) -> Var {
        let k = self.normalized_shape.len();
        assert!(
            x.ndim() >= k && x.dims()[x.ndim() - k..] == self.normalized_shape[..],
            "LayerNorm: input {:?} does not end with normalized_shape {:?}",
            x.shape(),
            self.normalized_shape
        );
        let axes: Vec<isize> = (x.ndim() - k..x.ndim()).map(|a| a as isize).collect();
        let mean = x.mean(&axes, true);
        let d = x.sub(&mean);
        let var = d.square().mean(&axes, true);
        let y = d.div(&var.add_scalar(self.eps).sqrt());
        match (&self.weight, &self.bias) {
            (Some(w), Some(b)) => y.mul(&param_var(x, w)).add(&param_var(x, b)),
            _ => y,
        }
    }

    fn describe(&self) -> String {
        let dims: Vec<String> = self
            .normalized_shape
            .iter()
            .map(|d| d.to_string())
            .collect();
        let tuple = if dims.len() == 1 {
            format!("({},)", dims[0])
        } else {
            format!("({})", dims.join(", "))
        };
        format!(
            "LayerNorm({tuple}, eps={}, elementwise_affine={})",
            py_float(self.eps),
            py_bool(self.weight.is_some())
        )
    }

    fn own_params(&self) -> Vec<(String, Param)> {
        let mut v = Vec::new();
        if let (Some(w), Some(b)) = (&self.weight, &self.bias) {
            v.push(("weight".to_string(), w.clone()));
            v.push(("bias".to_string(), b.clone()));
        }
        v
    }

    crate::as_dyn!();
}
