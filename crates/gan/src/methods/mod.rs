//! One file per method of the tutorial, each a config, the models it needs and a `step` that
//! reads like the paper's algorithm box, behind the [`Method`](crate::method::Method)
//! interface.
//!
//! [`METHODS`] is the only place a method is registered: `minimax train NAME`, `sample`,
//! `inspect` and the run loop find it there.

use crate::method::MethodInfo;

pub mod autoencoder;
pub mod cgan;
pub mod cyclegan;
pub mod direct;
pub mod dtn;
pub mod energy;
pub mod latent;
pub mod pix2pix;
pub mod stackgan;
pub mod stargan;
pub mod vanilla;

/// Every method `minimax train` knows, in the order `minimax train --help` lists them.
pub static METHODS: &[&MethodInfo] = &[
    &vanilla::GAN,
    &vanilla::DCGAN,
    &autoencoder::AE,
    &autoencoder::VAE,
    &energy::ENERGY,
    &cgan::CGAN,
    &pix2pix::PIX2PIX,
    &stackgan::STACKGAN,
    &direct::DIRECT,
    &dtn::DTN,
    &cyclegan::CYCLEGAN,
    &latent::VAEGAN,
    &stargan::STARGAN,
];

/// The method called `name`.
pub fn find(name: &str) -> Option<&'static MethodInfo> {
    METHODS.iter().copied().find(|m| m.name == name)
}

/// The names of every method, for messages (`gan, dcgan, ae, vae or energy`).
pub fn names() -> String {
    let n: Vec<&str> = METHODS.iter().map(|m| m.name).collect();
    match n.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => n.join(""),
    }
}
