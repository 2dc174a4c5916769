//! [`Param`]: a named, shared, mutable parameter (value, gradient, `requires_grad`).
//!
//! A model owns its parameters as `Param`s; each forward pass puts them on that pass's
//! [`Tape`](crate::Tape) with [`Tape::param`](crate::Tape::param), and
//! [`Var::backward`](crate::Var::backward) accumulates into [`Param::grad`] (PyTorch semantics:
//! gradients add up until [`Param::zero_grad`]). Cloning a `Param` clones the handle: both
//! clones are the same parameter, which is how two models share a layer.

use std::cell::RefCell;
use std::rc::Rc;
use tensor::Tensor;

/// The data behind a [`Param`].
#[derive(Debug)]
pub struct ParamData {
    /// Name (set by the module that owns it; the checkpoint key is the module path plus this).
    pub name: String,
    /// Current value.
    pub value: Tensor,
    /// Accumulated gradient, `None` until a backward pass reaches this parameter.
    pub grad: Option<Tensor>,
    /// Whether backward passes compute a gradient for it (false = frozen).
    pub requires_grad: bool,
}

/// A shared handle to a trainable tensor.
#[derive(Clone, Debug)]
pub struct Param(Rc<RefCell<ParamData>>);

impl Param {
    /// A new trainable parameter.
    pub fn new(name: impl Into<String>, value: Tensor) -> Param {
        Param(Rc::new(RefCell::new(ParamData {
            name: name.into(),
            value,
            grad: None,
            requires_grad: true,
        })))
    }
    /// The parameter's name.
    pub fn name(&self) -> String {
        self.0.borrow().name.clone()
    }
    /// Renames the parameter.
    pub fn set_name(&self, name: impl Into<String>) {
        self.0.borrow_mut().name = name.into();
    }
    /// The current value (a cheap shared handle).
    pub fn value(&self) -> Tensor {
        self.0.borrow().value.clone()
    }
    /// Replaces the value. Panics if the shape or dtype would change.
    #[track_caller]
    pub fn set_value(&self, v: Tensor) {
        let mut d = self.0.borrow_mut();
        assert!(
            v.shape() == d.value.shape() && v.dtype() == d.value.dtype(),
            "Param::set_value: parameter '{}' is {:?} {} but the new value is {:?} {}",
            d.name,
            d.value.shape(),
            d.value.dtype(),
            v.shape(),
            v.dtype()
        );
        d.value = v;
    }
    /// The accumulated gradient, if any.
    pub fn grad(&self) -> Option<Tensor> {
        self.0.borrow().grad.clone()
    }
    /// Sets (or clears) the gradient.
    pub fn set_grad(&self, g: Option<Tensor>) {
        self.0.borrow_mut().grad = g;
    }
    /// Clears the gradient (PyTorch's `zero_grad(set_to_none=True)`).
    pub fn zero_grad(&self) {
        self.0.borrow_mut().grad = None;
    }
    /// Whether gradients are computed for this parameter.
    pub fn requires_grad(&self) -> bool {
        self.0.borrow().requires_grad
    }
    /// Freezes (`false`) or unfreezes (`true`) the parameter.
    pub fn set_requires_grad(&self, r: bool) {
        self.0.borrow_mut().requires_grad = r;
    }
    /// Adds `g` to the accumulated gradient.
    #[track_caller]
    pub fn accumulate_grad(&self, g: &Tensor) {
        let mut d = self.0.borrow_mut();
        assert!(
            g.shape() == d.value.shape(),
            "Param::accumulate_grad: gradient {:?} does not match parameter '{}' {:?}",
            g.shape(),
            d.name,
            d.value.shape()
        );
        d.grad = Some(match d.grad.take() {
            None => g.contiguous(),
            Some(old) => old.add(g),
        });
    }
    /// Runs `f` on the value's elements in place (for optimizer steps). The buffer is made
    /// unique first, so tensors that shared it (e.g. on an old tape) keep the old values.
    pub fn update<T: tensor::Element>(&self, f: impl FnOnce(&mut [T])) {
        let mut d = self.0.borrow_mut();
        f(d.value.data_mut::<T>());
    }
    /// Whether two handles are the same parameter.
    pub fn ptr_eq(&self, other: &Param) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.0.borrow().value.numel()
    }
    /// A stable identity for maps keyed by parameter (the address of the shared cell).
    pub fn id(&self) -> usize {
        Rc::as_ptr(&self.0) as *const u8 as usize
    }
}
