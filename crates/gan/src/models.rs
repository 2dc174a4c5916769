//! The networks the methods train: MLPs for 1-D and 2-D data, DCGAN-style convolutional pairs
//! for 8×8 digits and for 28×28 images (the W3 benchmark's models). All use PyTorch's default
//! initialisation unless a method re-initialises them.

use nn::layers::{
    BatchNorm2d, Conv2d, ConvTranspose2d, Flatten, LeakyReLU, Linear, ReLU, Sequential, Tanh,
    Unflatten,
};
use tensor::{Conv2dParams, ConvTranspose2dParams, Rng};

/// G: z → Linear(z, h) → ReLU → Linear(h, h) → ReLU → Linear(h, out).
pub fn mlp_generator(z_dim: usize, hidden: usize, out_dim: usize, rng: &mut Rng) -> Sequential {
    Sequential::new()
        .add(Linear::new(z_dim, hidden, true, rng))
        .add(ReLU::new())
        .add(Linear::new(hidden, hidden, true, rng))
        .add(ReLU::new())
        .add(Linear::new(hidden, out_dim, true, rng))
}

/// D: x → Linear(in, h) → LeakyReLU(0.2) → Linear(h, h) → LeakyReLU(0.2) → Linear(h, 1): one
/// logit per sample (D(x) = σ(logit) for the sigmoid-based objectives).
pub fn mlp_discriminator(in_dim: usize, hidden: usize, rng: &mut Rng) -> Sequential {
    Sequential::new()
        .add(Linear::new(in_dim, hidden, true, rng))
        .add(LeakyReLU::new(0.2))
        .add(Linear::new(hidden, hidden, true, rng))
        .add(LeakyReLU::new(0.2))
        .add(Linear::new(hidden, 1, true, rng))
}

/// A 4×4 transposed convolution with stride 2 and padding 1: doubles the side.
pub fn convt(cin: usize, cout: usize, rng: &mut Rng) -> ConvTranspose2d {
    ConvTranspose2d::with_options(
        cin,
        cout,
        (4, 4),
        ConvTranspose2dParams::new((2, 2), (1, 1)),
        true,
        rng,
    )
}

/// A 4×4 convolution with stride 2 and padding 1: halves the side.
pub fn conv(cin: usize, cout: usize, rng: &mut Rng) -> Conv2d {
    Conv2d::with_options(
        cin,
        cout,
        (4, 4),
        Conv2dParams::new((2, 2), (1, 1)),
        true,
        rng,
    )
}

/// DCGAN generator for `side`×`side` single-channel images, `side` = 4·base: z → Linear →
/// [2c, base, base] → BN → ReLU → ConvT(2c, c, 4, 2, 1) → BN → ReLU → ConvT(c, 1, 4, 2, 1) → tanh.
/// With `base = 7, c = 64` this is exactly the W3 benchmark's G (28×28); with `base = 2` it
/// makes 8×8 digits.
pub fn dcgan_generator(z_dim: usize, base: usize, c: usize, rng: &mut Rng) -> Sequential {
    Sequential::new()
        .add(Linear::new(z_dim, 2 * c * base * base, true, rng))
        .add(Unflatten::new(1, &[2 * c, base, base]))
        .add(BatchNorm2d::new(2 * c))
        .add(ReLU::new())
        .add(convt(2 * c, c, rng))
        .add(BatchNorm2d::new(c))
        .add(ReLU::new())
        .add(convt(c, 1, rng))
        .add(Tanh::new())
}

/// DCGAN discriminator for `side`×`side` single-channel images (`side` = 4·base): Conv(1, c, 4,
/// 2, 1) → LeakyReLU(0.2) → Conv(c, 2c, 4, 2, 1) → BN → LeakyReLU(0.2) → Flatten → Linear(2c·base², 1).
/// With `base = 7, c = 64` this is exactly the W3 benchmark's D.
pub fn dcgan_discriminator(base: usize, c: usize, rng: &mut Rng) -> Sequential {
    dcgan_features(c, rng).add(Linear::new(2 * c * base * base, 1, true, rng))
}

/// [`dcgan_discriminator`] without its last layer: images `side`×`side` → features
/// `[N, 2c·(side/4)²]` (what a conditional D joins its condition to).
pub fn dcgan_features(c: usize, rng: &mut Rng) -> Sequential {
    Sequential::new()
        .add(conv(1, c, rng))
        .add(LeakyReLU::new(0.2))
        .add(conv(c, 2 * c, rng))
        .add(BatchNorm2d::new(2 * c))
        .add(LeakyReLU::new(0.2))
        .add(Flatten::new())
}
