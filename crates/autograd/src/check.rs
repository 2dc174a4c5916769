//! Gradient checks, in f64 with central differences: the analytic gradient from the tape
//! against (f(x + ε) − f(x − ε)) / 2ε, element by element.

use crate::backward::grad;
use crate::tape::{Tape, Var};
use std::fmt;
use tensor::{DType, Rng, Tensor};

/// Tolerances and step for [`gradcheck`] / [`gradgradcheck`].
#[derive(Clone, Copy, Debug)]
pub struct CheckOptions {
    /// Finite-difference step.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance (of the numeric value).
    pub rtol: f64,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
        }
    }
}

/// The outcome of a check: the worst element found.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckReport {
    /// Which input the worst element belongs to.
    pub input: usize,
    /// Its multi-index in that input.
    pub index: Vec<usize>,
    /// The gradient from the tape.
    pub analytic: f64,
    /// The finite-difference gradient.
    pub numeric: f64,
    /// |analytic − numeric| − (atol + rtol·|numeric|): positive means failure.
    pub excess: f64,
    /// |analytic − numeric|.
    pub error: f64,
    /// Number of elements compared.
    pub checked: usize,
}

impl CheckReport {
    /// Whether every element was within tolerance.
    pub fn passed(&self) -> bool {
        self.excess <= 0.0
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} over {} elements; worst: input {} index {:?}: analytic {:.8e}, numeric {:.8e}, error {:.3e}",
            if self.passed() { "passed" } else { "FAILED" },
            self.checked,
            self.input,
            self.index,
            self.analytic,
            self.numeric,
            self.error
        )
    }
}

fn unravel(mut lin: usize, dims: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; dims.len()];
    for d in (0..dims.len()).rev() {
        idx[d] = lin % dims[d];
        lin /= dims[d];
    }
    idx
}

/// Reduces a (possibly non-scalar) output to a scalar with fixed pseudo-random weights, so
/// every output element takes part in the check.
fn project(y: &Var, seed: u64) -> Var {
    if y.numel() == 1 {
        return y.reshape(tensor::Shape::scalar());
    }
    let mut rng = Rng::seed(seed);
    let w = Tensor::rand_uniform(*y.shape(), 0.5, 1.5, DType::F64, &mut rng);
    y.mul(&y.constant(w)).sum_all()
}

/// Compares the tape's gradient of `f` with central differences, for every element of every
/// input (converted to f64). `f` may return any shape; it is projected to a scalar with fixed
/// random weights.
pub fn gradcheck_report(
    f: &dyn Fn(&[Var]) -> Var,
    inputs: &[Tensor],
    opts: CheckOptions,
) -> CheckReport {
    let xs: Vec<Tensor> = inputs
        .iter()
        .map(|t| t.to_dtype(DType::F64).contiguous())
        .collect();
    let scalar = |vals: &[Tensor]| -> f64 {
        let tape = Tape::new();
        // leaves, not constants: a function that differentiates internally (gradgradcheck)
        // needs its inputs on the tape
        let vs: Vec<Var> = vals.iter().map(|t| tape.leaf(t.clone())).collect();
        project(&f(&vs), 17).item()
    };
    let tape = Tape::new();
    let vs: Vec<Var> = xs.iter().map(|t| tape.leaf(t.clone())).collect();
    let y = project(&f(&vs), 17);
    let refs: Vec<&Var> = vs.iter().collect();
    let analytic: Vec<Vec<f64>> = if y.requires_grad() {
        grad(&[&y], &refs, None, false)
            .iter()
            .map(|g| g.value().to_vec_f64())
            .collect()
    } else {
        xs.iter().map(|x| vec![0.0; x.numel()]).collect()
    };
    let mut worst = CheckReport {
        input: 0,
        index: vec![],
        analytic: 0.0,
        numeric: 0.0,
        excess: f64::NEG_INFINITY,
        error: 0.0,
        checked: 0,
    };
    for (k, x) in xs.iter().enumerate() {
        for lin in 0..x.numel() {
            let mut plus = xs.clone();
            let mut minus = xs.clone();
            plus[k].data_mut::<f64>()[lin] += opts.eps;
            minus[k].data_mut::<f64>()[lin] -= opts.eps;
            let num = (scalar(&plus) - scalar(&minus)) / (2.0 * opts.eps);
            let an = analytic[k][lin];
            let err = (an - num).abs();
            let excess = if err.is_nan() {
                f64::INFINITY
            } else {
                err - (opts.atol + opts.rtol * num.abs())
            };
            worst.checked += 1;
            if excess > worst.excess {
                worst = CheckReport {
                    input: k,
                    index: unravel(lin, x.dims()),
                    analytic: an,
                    numeric: num,
                    excess,
                    error: err,
                    checked: worst.checked,
                };
            }
        }
    }
    worst
}

/// [`gradcheck_report`] that returns `Err(report)` when any element is out of tolerance.
pub fn gradcheck(
    f: &dyn Fn(&[Var]) -> Var,
    inputs: &[Tensor],
    opts: CheckOptions,
) -> Result<CheckReport, CheckReport> {
    let r = gradcheck_report(f, inputs, opts);
    if r.passed() {
        Ok(r)
    } else {
        Err(r)
    }
}

/// Checks second derivatives: builds g(x) = Σᵢ ⟨∂⟨f(x), w⟩/∂xᵢ, uᵢ⟩ with `create_graph` (fixed
/// random w, u) and gradchecks it — so the backward formulas are themselves differentiated.
pub fn gradgradcheck(
    f: &dyn Fn(&[Var]) -> Var,
    inputs: &[Tensor],
    opts: CheckOptions,
) -> Result<CheckReport, CheckReport> {
    let h = |vs: &[Var]| -> Var {
        let y = project(&f(vs), 17);
        let live: Vec<&Var> = vs.iter().filter(|v| v.requires_grad()).collect();
        if !y.requires_grad() || live.is_empty() {
            return y.mul_scalar(0.0);
        }
        let gs = grad(&[&y], &live, None, true);
        let mut rng = Rng::seed(29);
        let mut total: Option<Var> = None;
        for g in gs {
            let u = Tensor::rand_uniform(*g.shape(), -1.0, 1.0, DType::F64, &mut rng);
            let t = g.mul(&g.constant(u)).sum_all();
            total = Some(match total {
                None => t,
                Some(s) => s.add(&t),
            });
        }
        total.unwrap()
    };
    gradcheck(&h, inputs, opts)
}
