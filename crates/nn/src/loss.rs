//! Loss functions on [`Var`], with PyTorch's definitions and [`Reduction`]s.
//!
//! Each loss is written with differentiable ops, so its gradient (and the gradient of its
//! gradient) comes from the tape. Elementwise losses require `input` and `target` of the same
//! shape and dtype and panic otherwise, naming the loss and both shapes (PyTorch would
//! broadcast some of them with a warning; a silent broadcast of `[N, 1]` against `[N]` is a
//! classic bug). The target may be a constant or a value that requires a gradient.
//!
//! | loss | element ℓ |
//! |---|---|
//! | [`bce`] | −[t·max(ln p, −100) + (1 − t)·max(ln(1 − p), −100)] |
//! | [`bce_with_logits`] | (1 − t)·x + (1 + (w − 1)·t)·softplus(−x) |
//! | [`mse`] | (x − t)² |
//! | [`l1`] | \|x − t\| |
//! | [`smooth_l1`] | ½(x − t)²/β if \|x − t\| < β, else \|x − t\| − ½β |
//! | [`cross_entropy`] | −log_softmax(x)\[c\] |
//! | [`nll`] | −x\[c\] |
//! | [`kl_normal`] | −½ Σ_d (1 + log σ² − μ² − σ²) per sample |
//!
//! ```
//! use autograd::Tape;
//! use minimax_nn::loss::{bce_with_logits, Reduction};
//! use tensor::Tensor;
//! let tape = Tape::new();
//! let logits = tape.leaf(Tensor::from_vec(vec![0.0f64, 200.0], [2]));
//! let target = tape.constant(Tensor::from_vec(vec![1.0f64, 0.0], [2]));
//! let l = bce_with_logits(&logits, &target, None, Reduction::None);
//! let v = l.value().to_vec_f64();
//! assert!((v[0] - 2f64.ln()).abs() < 1e-15); // ln 2
//! assert_eq!(v[1], 200.0); // finite where sigmoid-then-log gives inf
//! ```

use autograd::Var;
use tensor::{Shape, Tensor};

/// How a loss combines its per-element (or per-sample) values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// The mean (PyTorch's default).
    #[default]
    Mean,
    /// The sum.
    Sum,
    /// No reduction: one value per element (per sample for [`cross_entropy`], [`nll`] and
    /// [`kl_normal`]).
    None,
}

/// Applies `r` to `x`.
pub fn reduce(x: &Var, r: Reduction) -> Var {
    match r {
        Reduction::Mean => x.mean_all(),
        Reduction::Sum => x.sum_all(),
        Reduction::None => x.clone(),
    }
}

#[track_caller]
fn same_shape(loss: &str, input: &Var, target: &Var) {
    assert!(
        input.shape() == target.shape(),
        "{loss}: input shape {:?} and target shape {:?} differ (reshape one so they match)",
        input.shape(),
        target.shape()
    );
    assert!(
        input.dtype() == target.dtype(),
        "{loss}: input dtype {} and target dtype {} differ (convert one with .to_dtype())",
        input.dtype(),
        target.dtype()
    );
}

/// The floor PyTorch's BCE backward puts under p(1 − p): its input gradient is
/// (p − t) / max(p(1 − p), 1e-12).
const BCE_EPS: f64 = 1e-12;

/// One log of [`bce`], for u = p or u = 1 − p, given also w = 1 − u as its own variable (for
/// u = 1 − p that is p itself, exact where 1 − p rounds to 1 in f32): the value
/// max(ln u, −100) (PyTorch's clamp), with the derivative w / max(u·w, 1e-12), which is 1/u
/// wherever u·w ≥ 1e-12 (there the value is ln u, unclamped: u ≥ 1e-12 > e^−100). So the two
/// terms of the loss, −t·L(p, 1 − p) − (1 − t)·L(1 − p, p), have the input gradient of PyTorch's
/// backward, (p − t) / max(p(1 − p), 1e-12), finite at p = 0 and 1, and the floor is tested on
/// p(1 − p) as PyTorch tests it, not on a rounded 1 − p.
///
/// Where u·w < 1e-12 (and for NaN: NaN compares false, so it propagates through ln u) the
/// value is the constant max(ln u, −100) plus s − s for s = −w²/(2·1e-12), whose derivatives
/// in u, w/1e-12 and −1/1e-12, are those of the floored formula, so second derivatives match
/// PyTorch's double backward too. Those elements go through ln 1, so neither the forward pass
/// (anomaly mode) nor the backward pass (0/0) ever sees ln 0 (the "double where" trick).
fn bce_log(u: &Var, w: &Var) -> Var {
    let (uv, wv) = (u.value(), w.value());
    // 1 where u·w = p(1 − p) < 1e-12: p within about 1e-12 of 0 or 1
    let floored = uv.mul(&wv).lt_scalar(BCE_EPS);
    if floored.sum_all().item() == 0.0 {
        return u.log(); // the usual case: nothing is floored
    }
    let keep = floored.neg().add_scalar(1.0);
    let one = u.constant(Tensor::ones(*u.shape(), u.dtype()));
    let safe = Var::where_(&floored, &one, u);
    let value = u.constant(uv.log().clamp(-100.0, f64::INFINITY));
    let s = w.square().mul_scalar(-0.5 / BCE_EPS);
    let floor = value.add(&s.sub(&s.detach()));
    Var::where_(&keep, &safe.log(), &floor)
}

/// Binary cross-entropy on probabilities `prob` ∈ [0, 1] (PyTorch's `BCELoss`):
/// ℓ = −[t·ln p + (1 − t)·ln(1 − p)], with each log clamped at −100 as PyTorch does, so
/// p = 0 or 1 gives 100, not ∞.
///
/// Prefer [`bce_with_logits`] on the logits: it is exact where this one saturates. The input
/// gradient is PyTorch's, (p − t) / max(p(1 − p), 1e-12): the exact derivative wherever
/// p(1 − p) ≥ 1e-12, and finite at p = 0 and 1 (−t·10¹² at p = 0, (1 − t)·10¹² at p = 1). The
/// target gradient is max(ln(1 − p), −100) − max(ln p, −100).
///
/// Panics if a finite probability is outside [0, 1] (NaN propagates, so a training loop can
/// catch it at the optimizer step), or if shapes or dtypes differ.
#[track_caller]
pub fn bce(prob: &Var, target: &Var, reduction: Reduction) -> Var {
    same_shape("bce", prob, target);
    let p = prob.value();
    let outside = p.lt_scalar(0.0).add(&p.gt_scalar(1.0));
    if outside.sum_all().item() > 0.0 {
        let vals = p.to_vec_f64();
        let (i, v) = vals
            .iter()
            .enumerate()
            .find(|(_, v)| **v < 0.0 || **v > 1.0)
            .expect("an element is outside [0, 1]");
        panic!("bce: probabilities must be in [0, 1], but element {i} is {v} (use bce_with_logits on logits)");
    }
    let q = 1.0 - prob;
    let l = target
        .mul(&bce_log(prob, &q))
        .add(&(1.0 - target).mul(&bce_log(&q, prob)))
        .neg();
    reduce(&l, reduction)
}

/// Binary cross-entropy on logits (PyTorch's `BCEWithLogitsLoss`), in the stable form
/// ℓ = (1 − t)·x + (1 + (w − 1)·t)·softplus(−x), never sigmoid then log: it equals
/// −[w·t·ln σ(x) + (1 − t)·ln(1 − σ(x))] and stays finite (with gradient σ(x) − t for w = 1)
/// for any finite x.
///
/// `pos_weight` (w) weights the positive term and broadcasts against the target (usually one
/// weight per class, shape `[C]` for targets `[N, C]`). Panics if shapes or dtypes differ.
#[track_caller]
pub fn bce_with_logits(
    logits: &Var,
    target: &Var,
    pos_weight: Option<&Var>,
    reduction: Reduction,
) -> Var {
    same_shape("bce_with_logits", logits, target);
    let sp = logits.neg().softplus();
    let lin = (1.0 - target).mul(logits);
    let l = match pos_weight {
        None => lin.add(&sp),
        Some(w) => {
            let log_weight = w.add_scalar(-1.0).mul(target).add_scalar(1.0);
            lin.add(&log_weight.mul(&sp))
        }
    };
    reduce(&l, reduction)
}

/// Mean squared error (PyTorch's `MSELoss`): ℓ = (x − t)². Panics if shapes or dtypes differ.
#[track_caller]
pub fn mse(input: &Var, target: &Var, reduction: Reduction) -> Var {
    same_shape("mse", input, target);
    reduce(&input.sub(target).square(), reduction)
}

/// Mean absolute error (PyTorch's `L1Loss`): ℓ = |x − t|. Panics if shapes or dtypes differ.
#[track_caller]
pub fn l1(input: &Var, target: &Var, reduction: Reduction) -> Var {
    same_shape("l1", input, target);
    reduce(&input.sub(target).abs(), reduction)
}

/// Smooth L1 (PyTorch's `SmoothL1Loss`, Huber divided by β): with d = x − t,
/// ℓ = ½d²/β if |d| < β, else |d| − ½β; β = 0 is plain L1 (PyTorch's default β is 1).
///
/// Panics if β < 0 or shapes or dtypes differ.
#[track_caller]
pub fn smooth_l1(input: &Var, target: &Var, beta: f64, reduction: Reduction) -> Var {
    same_shape("smooth_l1", input, target);
    assert!(
        beta >= 0.0,
        "smooth_l1: beta must be non-negative, got {beta}"
    );
    let d = input.sub(target);
    let ad = d.abs();
    if beta == 0.0 {
        return reduce(&ad, reduction);
    }
    let small = ad.value().lt_scalar(beta);
    let quad = d.square().mul_scalar(0.5 / beta);
    let lin = ad.add_scalar(-0.5 * beta);
    reduce(&Var::where_(&small, &quad, &lin), reduction)
}

/// Checks the input (`[N, C]`, or `[N, C, d₁, …]` with one class per position) and the class
/// indices (row-major over `[N, d₁, …]`), and gathers x[i, cᵢ, …] with shape `[N, d₁, …]`.
#[track_caller]
fn pick(loss: &str, x: &Var, classes: &[usize]) -> Var {
    assert!(
        x.ndim() >= 2,
        "{loss}: expects input of shape [N, C] or [N, C, d1, ...], got {:?}",
        x.shape()
    );
    let c = x.dims()[1];
    // the class axis moved last: [N, d₁, …, C], one row of C scores per target
    let mut order: Vec<usize> = vec![0];
    order.extend(2..x.ndim());
    order.push(1);
    let lead: Vec<usize> = order[..order.len() - 1]
        .iter()
        .map(|&a| x.dims()[a])
        .collect();
    let n: usize = lead.iter().product();
    assert!(
        classes.len() == n,
        "{loss}: {} target classes given for {n} positions (input {:?})",
        classes.len(),
        x.shape()
    );
    if let Some((i, &k)) = classes.iter().enumerate().find(|(_, &k)| k >= c) {
        panic!("{loss}: target class {k} at position {i} is out of range for {c} classes");
    }
    let rows = if x.ndim() == 2 {
        x.clone()
    } else {
        x.permute(&order).reshape(Shape::new(&[n, c]))
    };
    let idx: Vec<f64> = classes.iter().map(|&k| k as f64).collect();
    rows.gather(1, &Tensor::from_vec(idx, [n, 1]))
        .reshape(Shape::new(&lead))
}

/// Negative log-likelihood (PyTorch's `NLLLoss`) of log-probabilities `[N, C]` and one class
/// index per sample: ℓᵢ = −xᵢ\[cᵢ\]; [`Reduction::None`] gives shape `[N]`. As in PyTorch, the
/// input may also be `[N, C, d₁, …]` with one class per position (`classes` row-major over
/// `[N, d₁, …]`, e.g. a class per pixel): then [`Reduction::None`] gives `[N, d₁, …]` and the
/// mean is over all positions.
///
/// Panics if the input has fewer than 2 dimensions, the number of classes given is not one per
/// position, or a class is out of range.
#[track_caller]
pub fn nll(log_probs: &Var, classes: &[usize], reduction: Reduction) -> Var {
    reduce(&pick("nll", log_probs, classes).neg(), reduction)
}

/// Cross-entropy of logits `[N, C]` (or `[N, C, d₁, …]`, one class per position, as in
/// [`nll`]) and class indices (PyTorch's `CrossEntropyLoss`): [`nll`] of [`Var::log_softmax`]
/// over the class axis.
///
/// Panics if the input has fewer than 2 dimensions, the number of classes given is not one per
/// position, or a class is out of range.
#[track_caller]
pub fn cross_entropy(logits: &Var, classes: &[usize], reduction: Reduction) -> Var {
    assert!(
        logits.ndim() >= 2,
        "cross_entropy: expects logits of shape [N, C] or [N, C, d1, ...], got {:?}",
        logits.shape()
    );
    reduce(
        &pick("cross_entropy", &logits.log_softmax(1), classes).neg(),
        reduction,
    )
}

/// KL divergence KL(N(μ, σ²) ‖ N(0, I)) of a diagonal Gaussian given by `mu` and
/// `logvar` = ln σ² (the VAE's regularizer): per sample,
/// −½ Σ_d (1 + logvar − μ² − e^logvar), summed over every dimension but the first.
///
/// The reduction is then over the batch (dimension 0): [`Reduction::Mean`] gives the mean
/// per-sample KL (as in the VAE paper's per-datapoint bound and StackGAN's conditioning
/// augmentation), [`Reduction::Sum`] the total over the batch (PyTorch's VAE example, whose
/// reconstruction term is also summed), [`Reduction::None`] one value per sample, shape `[N]`.
/// A 1-D input is a batch of 1-dimensional latents. Panics if shapes or dtypes differ or the
/// input is 0-D.
#[track_caller]
pub fn kl_normal(mu: &Var, logvar: &Var, reduction: Reduction) -> Var {
    same_shape("kl_normal", mu, logvar);
    assert!(
        mu.ndim() >= 1,
        "kl_normal: expects a batch dimension, got shape {:?}",
        mu.shape()
    );
    let term = logvar.add_scalar(1.0).sub(&mu.square()).sub(&logvar.exp());
    let per_elem = term.mul_scalar(-0.5);
    let per_sample = if mu.ndim() == 1 {
        per_elem
    } else {
        let axes: Vec<isize> = (1..mu.ndim() as isize).collect();
        per_elem.sum(&axes, false)
    };
    reduce(&per_sample, reduction)
}
