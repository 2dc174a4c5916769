//! The [`Module`] trait: a forward function plus named parameters, buffers and children.
//!
//! Paths follow PyTorch's `state_dict`: a child's items are prefixed with its name and a dot
//! (`"1.weight"` for the weight of the second layer of a `Sequential`), so the same names serve
//! as checkpoint keys and as the labels in a printed summary.

use autograd::{Param, Var};

/// A network component.
pub trait Module {
    /// Applies the module to `x` (recording on `x`'s tape).
    fn forward(&self, x: &Var) -> Var;

    /// A one-line description of this module alone, like PyTorch's `extra_repr`
    /// (`"Linear(in_features=2, out_features=128, bias=true)"`).
    fn describe(&self) -> String;

    /// The module's own parameters (not its children's), with local names (`"weight"`).
    fn own_params(&self) -> Vec<(String, Param)> {
        Vec::new()
    }

    /// The module's own buffers: state saved in checkpoints but not trained (batch-norm
    /// running statistics). Buffers are `Param`s with `requires_grad == false`.
    fn own_buffers(&self) -> Vec<(String, Param)> {
        Vec::new()
    }

    /// Direct children with their names.
    fn children(&self) -> Vec<(String, &dyn Module)> {
        Vec::new()
    }

    /// Switches this module alone between training (`true`) and evaluation mode.
    fn set_own_training(&self, _training: bool) {}

    /// All parameters of the module and its descendants, by path.
    fn named_params(&self) -> Vec<(String, Param)> {
        let mut out = self.own_params();
        for (name, c) in self.children() {
            for (p, v) in c.named_params() {
                out.push((format!("{name}.{p}"), v));
            }
        }
        out
    }

    /// All buffers of the module and its descendants, by path.
    fn named_buffers(&self) -> Vec<(String, Param)> {
        let mut out = self.own_buffers();
        for (name, c) in self.children() {
            for (p, v) in c.named_buffers() {
                out.push((format!("{name}.{p}"), v));
            }
        }
        out
    }

    /// All parameters (handles), in path order.
    fn params(&self) -> Vec<Param> {
        self.named_params().into_iter().map(|(_, p)| p).collect()
    }

    /// Training (`true`) or evaluation mode for the whole tree (batch norm, dropout).
    fn train(&self, training: bool) {
        self.set_own_training(training);
        for (_, c) in self.children() {
            c.train(training);
        }
    }

    /// Evaluation mode for the whole tree.
    fn eval(&self) {
        self.train(false);
    }

    /// Clears every parameter's gradient.
    fn zero_grad(&self) {
        for p in self.params() {
            p.zero_grad();
        }
    }

    /// Freezes (`false`) or unfreezes (`true`) every parameter, e.g. D during the G step.
    fn set_requires_grad(&self, on: bool) {
        for p in self.params() {
            p.set_requires_grad(on);
        }
    }

    /// Total number of trainable elements; a parameter reached by two paths (a shared layer)
    /// counts once, as in PyTorch's `sum(p.numel() for p in model.parameters())`.
    fn num_params(&self) -> usize {
        let mut seen = std::collections::HashSet::new();
        self.params()
            .iter()
            .filter(|p| seen.insert(p.id()))
            .map(|p| p.numel())
            .sum()
    }

    /// A printed tree like PyTorch's repr, with each parameter's shape and the counts.
    fn summary(&self) -> String {
        fn rec(m: &dyn Module, name: &str, depth: usize, out: &mut String) {
            let pad = "  ".repeat(depth);
            let own: usize = m.own_params().iter().map(|(_, p)| p.numel()).sum();
            let label = if name.is_empty() {
                String::new()
            } else {
                format!("({name}): ")
            };
            let children = m.children();
            if children.is_empty() {
                let shapes: Vec<String> = m
                    .own_params()
                    .iter()
                    .map(|(n, p)| format!("{n} {:?}", p.value().dims()))
                    .collect();
                let extra = if shapes.is_empty() {
                    String::new()
                } else {
                    format!("  [{}; {own} params]", shapes.join(", "))
                };
                out.push_str(&format!("{pad}{label}{}{extra}\n", m.describe()));
            } else {
                out.push_str(&format!("{pad}{label}{}(\n", m.describe()));
                for (n, c) in children {
                    rec(c, &n, depth + 1, out);
                }
                out.push_str(&format!("{pad})\n"));
            }
        }
        let mut s = String::new();
        rec(self.as_dyn(), "", 0, &mut s);
        let total = self.num_params();
        s.push_str(&format!("Total parameters: {total}\n"));
        s
    }

    /// `self` as a trait object (implemented by every sized module through the blanket helper).
    fn as_dyn(&self) -> &dyn Module;
}

/// Implements [`Module::as_dyn`] for a type (use inside `impl Module for X { … }`).
#[macro_export]
macro_rules! as_dyn {
    () => {
        fn as_dyn(&self) -> &dyn $crate::Module {
            self
        }
    };
}
