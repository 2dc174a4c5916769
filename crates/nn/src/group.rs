//! Several modules handled as one: one checkpoint, one optimizer, one freeze.
//!
//! A GAN method owns several networks (G and D; CycleGAN's two generators and two
//! discriminators). [`Group`] names them so one checkpoint holds all of them under their names
//! (`gen.0.weight`, `disc.1.bias`, like one PyTorch `state_dict` per network with a prefix);
//! [`params_of`] gives one optimizer the parameters of several networks; [`Frozen`] freezes any
//! set of modules for one scope and restores each parameter's own setting afterwards.
//!
//! ```
//! use minimax_nn::{Frozen, Linear, Module, group::params_of};
//! use tensor::Rng;
//! let mut rng = Rng::seed(0);
//! let (g, d) = (Linear::new(2, 2, true, &mut rng), Linear::new(2, 1, true, &mut rng));
//! let both = params_of(&[("g", &g), ("d", &d)]);
//! assert_eq!(both[0].0, "g.weight");
//! {
//!     let _frozen = Frozen::new(&[&d]);
//!     assert!(!d.params()[0].requires_grad());
//! }
//! assert!(d.params()[0].requires_grad()); // restored when the guard goes
//! ```

use crate::module::Module;
use autograd::{Param, Var};

/// Named modules as one module: its parameters and buffers are each module's, prefixed with its
/// name. It is a container for checkpoints and summaries, so it has no forward pass of its own.
pub struct Group<'a> {
    members: Vec<(String, &'a dyn Module)>,
}

impl<'a> Group<'a> {
    /// The modules under their names (names must be distinct and contain no `.`).
    #[track_caller]
    pub fn new(members: &[(&str, &'a dyn Module)]) -> Group<'a> {
        for (i, (n, _)) in members.iter().enumerate() {
            assert!(
                !n.is_empty() && !n.contains('.'),
                "Group::new: the name '{n}' must be non-empty and contain no '.'"
            );
            assert!(
                members[..i].iter().all(|(m, _)| m != n),
                "Group::new: the name '{n}' is used twice"
            );
        }
        Group {
            members: members.iter().map(|(n, m)| (n.to_string(), *m)).collect(),
        }
    }
}

impl Module for Group<'_> {
    /// A group has no forward pass: it panics, naming its members (call one of them instead).
    fn forward(&self, _x: &Var) -> Var {
        let names: Vec<&str> = self.members.iter().map(|(n, _)| n.as_str()).collect();
        panic!(
            "Group::forward: a group of modules ({}) has no forward pass; call one of them",
            names.join(", ")
        )
    }
    fn describe(&self) -> String {
        "Group".into()
    }
    fn children(&self) -> Vec<(String, &dyn Module)> {
        self.members.iter().map(|(n, m)| (n.clone(), *m)).collect()
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

/// The parameters of several modules with their names prefixed by each module's name, for one
/// optimizer over all of them (CycleGAN's two generators, an encoder and a decoder).
pub fn params_of(modules: &[(&str, &dyn Module)]) -> Vec<(String, Param)> {
    modules
        .iter()
        .flat_map(|(prefix, m)| {
            m.named_params()
                .into_iter()
                .map(move |(n, p)| (format!("{prefix}.{n}"), p))
        })
        .collect()
}

/// Freezes every parameter of some modules while it lives (D during G's step), then gives each
/// parameter back its own `requires_grad` — also when the scope is left by a panic or an early
/// return, and without unfreezing a parameter that a user had frozen on purpose.
#[must_use = "the modules are frozen only while the guard lives"]
pub struct Frozen {
    saved: Vec<(Param, bool)>,
}

impl Frozen {
    /// Freezes the parameters of `modules`.
    pub fn new(modules: &[&dyn Module]) -> Frozen {
        let saved: Vec<(Param, bool)> = modules
            .iter()
            .flat_map(|m| m.params())
            .map(|p| {
                let r = p.requires_grad();
                (p, r)
            })
            .collect();
        for (p, _) in &saved {
            p.set_requires_grad(false);
        }
        Frozen { saved }
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        // in reverse, so a parameter listed twice ends with its first (original) setting
        for (p, r) in self.saved.iter().rev() {
            p.set_requires_grad(*r);
        }
    }
}
