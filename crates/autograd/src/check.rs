//! Gradient checks, in f64 with central differences: the analytic gradient from the tape
//! against (f(x + ε) − f(x − ε)) / 2ε, element by element.
//!
//! Some backward rules have two branches: a fused one on tensors when nothing is recorded
//! (`create_graph` false: ReLU, `channel_affine`, `normalize`, the scalar ops the engine
//! rescales in place) and one written with differentiable ops when the gradient is itself
//! recorded (`create_graph` true). [`gradcheck`] computes the analytic gradient both ways and
//! checks each against the finite differences, so a wrong formula in either branch fails;
//! [`gradcheck_branch_report`] checks one.

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
    /// Number of elements compared (each against every backward branch checked).
    pub checked: usize,
    /// Whether the worst element's analytic gradient came from the backward pass with
    /// `create_graph` (the rules' differentiable branches) rather than without (their fused
    /// branches).
    pub create_graph: bool,
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
            "{} over {} elements; worst: input {} index {:?}: analytic {:.8e} (backward {} create_graph), numeric {:.8e}, error {:.3e}",
            if self.passed() { "passed" } else { "FAILED" },
            self.checked,
            self.input,
            self.index,
            self.analytic,
            if self.create_graph { "with" } else { "without" },
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
/// input (converted to f64), computing the gradient twice: by a backward pass without
/// `create_graph` (the rules' fused branches) and by one with it (their differentiable
/// branches). The report is the worst element of either. `f` may return any shape; it is
/// projected to a scalar with fixed random weights.
pub fn gradcheck_report(
    f: &dyn Fn(&[Var]) -> Var,
    inputs: &[Tensor],
    opts: CheckOptions,
) -> CheckReport {
    check_branches(f, inputs, opts, &[false, true])
}

/// [`gradcheck_report`] on one backward branch: the analytic gradient comes from a backward
/// pass with `create_graph` (the rules' differentiable branches) or without it (their fused
/// branches, what `Var::backward` runs).
pub fn gradcheck_branch_report(
    f: &dyn Fn(&[Var]) -> Var,
    inputs: &[Tensor],
    opts: CheckOptions,
    create_graph: bool,
) -> CheckReport {
    check_branches(f, inputs, opts, &[create_graph])
}

/// The analytic gradient of `⟨f, w⟩` with respect to every input, by a backward pass with or
/// without `create_graph`.
fn analytic_gradient(
    f: &dyn Fn(&[Var]) -> Var,
    xs: &[Tensor],
    create_graph: bool,
) -> Vec<Vec<f64>> {
    let tape = Tape::new();
    let vs: Vec<Var> = xs.iter().map(|t| tape.leaf(t.clone())).collect();
    let y = project(&f(&vs), 17);
    let refs: Vec<&Var> = vs.iter().collect();
    if y.requires_grad() {
        grad(&[&y], &refs, None, create_graph)
            .iter()
            .map(|g| g.value().to_vec_f64())
            .collect()
    } else {
        xs.iter().map(|x| vec![0.0; x.numel()]).collect()
    }
}

fn check_branches(
    f: &dyn Fn(&[Var]) -> Var,
    inputs: &[Tensor],
    opts: CheckOptions,
    branches: &[bool],
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
    let analytic: Vec<(bool, Vec<Vec<f64>>)> = branches
        .iter()
        .map(|&cg| (cg, analytic_gradient(f, &xs, cg)))
        .collect();
    let mut worst = CheckReport {
        input: 0,
        index: vec![],
        analytic: 0.0,
        numeric: 0.0,
        excess: f64::NEG_INFINITY,
        error: 0.0,
        checked: 0,
        create_graph: false,
    };
    for (k, x) in xs.iter().enumerate() {
        for lin in 0..x.numel() {
            let mut plus = xs.clone();
            let mut minus = xs.clone();
            plus[k].data_mut::<f64>()[lin] += opts.eps;
            minus[k].data_mut::<f64>()[lin] -= opts.eps;
            let num = (scalar(&plus) - scalar(&minus)) / (2.0 * opts.eps);
            worst.checked += 1;
            for (cg, an) in &analytic {
                let an = an[k][lin];
                let err = (an - num).abs();
                let excess = if err.is_nan() {
                    f64::INFINITY
                } else {
                    err - (opts.atol + opts.rtol * num.abs())
                };
                if excess > worst.excess {
                    worst = CheckReport {
                        input: k,
                        index: unravel(lin, x.dims()),
                        analytic: an,
                        numeric: num,
                        excess,
                        error: err,
                        checked: worst.checked,
                        create_graph: *cg,
                    };
                }
            }
        }
    }
    worst
}

/// [`gradcheck_report`] (both backward branches) that returns `Err(report)` when any element
/// is out of tolerance.
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
/// (The first derivatives of g's differentiable branches against finite differences are
/// [`gradcheck`]'s job: it checks both branches.)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::Op;

    /// `x·w[c] + b[c]` recorded as the test-only [`Op::MutantChannelAffine`]: the right value,
    /// and the right gradients from the fused backward branch, but a doubled weight gradient
    /// from the differentiable one — the mutation of `derivatives.rs` that once passed every
    /// test in autograd, nn and gan.
    fn mutant(v: &[Var]) -> Var {
        let (x, w, b) = (&v[0], &v[1], &v[2]);
        let value = x.value.channel_affine(&w.value, Some(&b.value));
        let y = x.tape.record(Op::MutantChannelAffine, &[x, w, b], value);
        y.mul(x) // a product after it, so the check also differentiates through g
    }

    fn inputs() -> Vec<Tensor> {
        let mut rng = Rng::seed(3);
        vec![
            Tensor::rand_uniform([2, 3, 2], -2.0, 2.0, DType::F64, &mut rng),
            Tensor::rand_uniform([3], 0.5, 1.5, DType::F64, &mut rng),
            Tensor::rand_uniform([3], -1.0, 1.0, DType::F64, &mut rng),
        ]
    }

    #[test]
    fn gradcheck_catches_a_doubled_weight_gradient_in_a_differentiable_branch() {
        let opts = CheckOptions::default();
        // the blind spot: the fused branch alone (all gradcheck used to run) is right
        let fused = gradcheck_branch_report(&mutant, &inputs(), opts, false);
        assert!(fused.passed(), "{fused}");
        // the differentiable branch, against finite differences, is not
        let diff = gradcheck_branch_report(&mutant, &inputs(), opts, true);
        assert!(!diff.passed(), "{diff}");
        assert_eq!(diff.input, 1, "the weight");
        assert!((diff.analytic / diff.numeric - 2.0).abs() < 1e-6, "{diff}");
        // and gradcheck, which now runs both, fails on it, naming the branch
        let r = gradcheck(&mutant, &inputs(), opts).unwrap_err();
        assert_eq!((r.input, r.create_graph), (1, true));
        assert!(
            r.to_string().contains("FAILED") && r.to_string().contains("with create_graph"),
            "{r}"
        );
        // gradgradcheck is a gradcheck too, so it now fails as well (its outer backward
        // passes through the mutant again); it used to differentiate the mutated branch
        // against itself, and pass
        assert!(gradgradcheck(&mutant, &inputs(), opts).is_err());
    }

    #[test]
    fn the_real_channel_affine_passes_on_both_branches() {
        let real = |v: &[Var]| v[0].channel_affine(&v[1], Some(&v[2])).mul(&v[0]);
        let r = gradcheck(&real, &inputs(), CheckOptions::default());
        assert!(r.is_ok(), "{}", r.unwrap_err());
        assert_eq!(r.unwrap().checked, 12 + 3 + 3);
    }
}
