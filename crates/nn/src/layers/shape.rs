//! Layers that reshape, pad, resample or pool; none has parameters.

use crate::Module;
use autograd::Var;
use tensor::PadMode;

/// Merges dimensions `start_dim..=end_dim` into one, like `torch.nn.Flatten` (defaults 1 and
/// −1: `[N, C, H, W]` → `[N, C·H·W]`).
#[derive(Clone, Copy, Debug)]
pub struct Flatten {
    /// First merged dimension (negative counts from the end).
    pub start_dim: isize,
    /// Last merged dimension (negative counts from the end).
    pub end_dim: isize,
}

impl Flatten {
    /// PyTorch's defaults: `start_dim = 1`, `end_dim = -1`.
    pub fn new() -> Flatten {
        Flatten::with_dims(1, -1)
    }
    /// Merges `start_dim..=end_dim`.
    pub fn with_dims(start_dim: isize, end_dim: isize) -> Flatten {
        Flatten { start_dim, end_dim }
    }
}

impl Default for Flatten {
    fn default() -> Self {
        Flatten::new()
    }
}

impl Module for Flatten {
    fn forward(&self, x: &Var) -> Var {
        x.flatten(self.start_dim, self.end_dim)
    }
    fn describe(&self) -> String {
        format!(
            "Flatten(start_dim={}, end_dim={})",
            self.start_dim, self.end_dim
        )
    }
    crate::as_dyn!();
}

/// Splits dimension `dim` into `sizes`, like `torch.nn.Unflatten` (`[N, 1024]` with dim 1 and
/// sizes `[64, 4, 4]` → `[N, 64, 4, 4]`).
#[derive(Clone, Debug)]
pub struct Unflatten {
    /// The split dimension (negative counts from the end).
    pub dim: isize,
    /// The sizes it is split into (their product must equal its size).
    pub sizes: Vec<usize>,
}

impl Unflatten {
    /// Splits `dim` into `sizes`.
    pub fn new(dim: isize, sizes: &[usize]) -> Unflatten {
        Unflatten {
            dim,
            sizes: sizes.to_vec(),
        }
    }
}

impl Module for Unflatten {
    fn forward(&self, x: &Var) -> Var {
        let d = x.shape().axis(self.dim, "Unflatten");
        let n: usize = self.sizes.iter().product();
        assert!(
            n == x.dims()[d],
            "Unflatten: sizes {:?} (product {n}) do not match dimension {d} of input {:?}",
            self.sizes,
            x.shape()
        );
        let mut s = x.dims()[..d].to_vec();
        s.extend_from_slice(&self.sizes);
        s.extend_from_slice(&x.dims()[d + 1..]);
        x.reshape(s)
    }
    fn describe(&self) -> String {
        let s: Vec<String> = self.sizes.iter().map(|d| d.to_string()).collect();
        let tuple = if s.len() == 1 {
            format!("({},)", s[0])
        } else {
            format!("({})", s.join(", "))
        };
        format!("Unflatten(dim={}, unflattened_size={tuple})", self.dim)
    }
    crate::as_dyn!();
}

fn pad_2d(
    x: &Var,
    (left, right, top, bottom): (usize, usize, usize, usize),
    mode: PadMode,
    name: &str,
) -> Var {
    assert!(
        x.ndim() >= 2,
        "{name}: expects input [N, C, H, W] or [C, H, W], got {:?}",
        x.shape()
    );
    x.pad(&[(top, bottom), (left, right)], mode)
}

/// Pads the last two dimensions by mirroring without repeating the edge, like
/// `torch.nn.ReflectionPad2d`. The padding is PyTorch's 4-tuple `(left, right, top, bottom)`:
/// left/right apply to the width (last dimension), top/bottom to the height. Each must be
/// smaller than the dimension it pads.
#[derive(Clone, Copy, Debug)]
pub struct ReflectionPad2d {
    /// `(left, right, top, bottom)`.
    pub padding: (usize, usize, usize, usize),
}

impl ReflectionPad2d {
    /// Padding `(left, right, top, bottom)`.
    pub fn new(padding: (usize, usize, usize, usize)) -> ReflectionPad2d {
        ReflectionPad2d { padding }
    }
    /// The same padding `p` on all four sides.
    pub fn all(p: usize) -> ReflectionPad2d {
        ReflectionPad2d::new((p, p, p, p))
    }
}

impl Module for ReflectionPad2d {
    fn forward(&self, x: &Var) -> Var {
        pad_2d(x, self.padding, PadMode::Reflect, "ReflectionPad2d")
    }
    fn describe(&self) -> String {
        let (l, r, t, b) = self.padding;
        format!("ReflectionPad2d(({l}, {r}, {t}, {b}))")
    }
    crate::as_dyn!();
}

/// Pads the last two dimensions with zeros, like `torch.nn.ZeroPad2d`. The padding is
/// PyTorch's 4-tuple `(left, right, top, bottom)` (pix2pix's discriminator pads asymmetrically,
/// e.g. `(1, 0, 1, 0)`).
#[derive(Clone, Copy, Debug)]
pub struct ZeroPad2d {
    /// `(left, right, top, bottom)`.
    pub padding: (usize, usize, usize, usize),
}

impl ZeroPad2d {
    /// Padding `(left, right, top, bottom)`.
    pub fn new(padding: (usize, usize, usize, usize)) -> ZeroPad2d {
        ZeroPad2d { padding }
    }
    /// The same padding `p` on all four sides.
    pub fn all(p: usize) -> ZeroPad2d {
        ZeroPad2d::new((p, p, p, p))
    }
}

impl Module for ZeroPad2d {
    fn forward(&self, x: &Var) -> Var {
        pad_2d(x, self.padding, PadMode::Constant(0.0), "ZeroPad2d")
    }
    fn describe(&self) -> String {
        let (l, r, t, b) = self.padding;
        format!("ZeroPad2d(({l}, {r}, {t}, {b}))")
    }
    crate::as_dyn!();
}

/// Formats `(a, b)` as PyTorch prints a pooling argument given as an int (`2`) when both are
/// equal, else as a tuple (`(2, 3)`).
fn int_or_pair((a, b): (usize, usize)) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("({a}, {b})")
    }
}

/// Nearest-neighbour upsampling of `[N, C, H, W]` by an integer factor (each pixel becomes a
/// `scale × scale` block), like `torch.nn.Upsample(scale_factor=scale, mode='nearest')`.
#[derive(Clone, Copy, Debug)]
pub struct Upsample {
    /// The integer scale factor.
    pub scale_factor: usize,
}

impl Upsample {
    /// Nearest upsampling by `scale_factor` (≥ 1).
    #[track_caller]
    pub fn new(scale_factor: usize) -> Upsample {
        assert!(
            scale_factor >= 1,
            "Upsample: scale_factor must be at least 1"
        );
        Upsample { scale_factor }
    }
}

impl Module for Upsample {
    fn forward(&self, x: &Var) -> Var {
        x.upsample_nearest2d(self.scale_factor)
    }
    fn describe(&self) -> String {
        format!(
            "Upsample(scale_factor={:.1}, mode='nearest')",
            self.scale_factor as f64
        )
    }
    crate::as_dyn!();
}

/// Average pooling of `[N, C, H, W]`, like `torch.nn.AvgPool2d` (with its defaults
/// `count_include_pad = True`, `ceil_mode = False`: each window's sum is divided by kh·kw,
/// padding counting as zeros). The stride defaults to the kernel size.
#[derive(Clone, Copy, Debug)]
pub struct AvgPool2d {
    /// `(kh, kw)`.
    pub kernel_size: (usize, usize),
    /// `(sh, sw)`.
    pub stride: (usize, usize),
    /// `(ph, pw)`, at most half the kernel.
    pub padding: (usize, usize),
}

impl AvgPool2d {
    /// A `k × k` pool with stride `k` and no padding (`nn.AvgPool2d(k)`).
    pub fn new(k: usize) -> AvgPool2d {
        AvgPool2d::with_options((k, k), (k, k), (0, 0))
    }
    /// With explicit kernel size, stride and padding.
    pub fn with_options(
        kernel_size: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> AvgPool2d {
        AvgPool2d {
            kernel_size,
            stride,
            padding,
        }
    }
}

impl Module for AvgPool2d {
    fn forward(&self, x: &Var) -> Var {
        x.avg_pool2d(self.kernel_size, self.stride, self.padding)
    }
    fn describe(&self) -> String {
        format!(
            "AvgPool2d(kernel_size={}, stride={}, padding={})",
            int_or_pair(self.kernel_size),
            int_or_pair(self.stride),
            int_or_pair(self.padding)
        )
    }
    crate::as_dyn!();
}

/// Max pooling of `[N, C, H, W]`, like `torch.nn.MaxPool2d` (dilation 1, `ceil_mode =
/// False`); the gradient goes to each window's arg-max. The stride defaults to the kernel size.
#[derive(Clone, Copy, Debug)]
pub struct MaxPool2d {
    /// `(kh, kw)`.
    pub kernel_size: (usize, usize),
    /// `(sh, sw)`.
    pub stride: (usize, usize),
    /// `(ph, pw)`, at most half the kernel.
    pub padding: (usize, usize),
}

impl MaxPool2d {
    /// A `k × k` pool with stride `k` and no padding (`nn.MaxPool2d(k)`).
    pub fn new(k: usize) -> MaxPool2d {
        MaxPool2d::with_options((k, k), (k, k), (0, 0))
    }
    /// With explicit kernel size, stride and padding.
    pub fn with_options(
        kernel_size: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> MaxPool2d {
        MaxPool2d {
            kernel_size,
            stride,
            padding,
        }
    }
}

impl Module for MaxPool2d {
    fn forward(&self, x: &Var) -> Var {
        x.max_pool2d(self.kernel_size, self.stride, self.padding)
    }
    fn describe(&self) -> String {
        format!(
            "MaxPool2d(kernel_size={}, stride={}, padding={}, dilation=1, ceil_mode=False)",
            int_or_pair(self.kernel_size),
            int_or_pair(self.stride),
            int_or_pair(self.padding)
        )
    }
    crate::as_dyn!();
}
