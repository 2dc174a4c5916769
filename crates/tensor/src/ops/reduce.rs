//! Reductions over any set of axes, with `keepdim`; softmax and log-softmax.

use crate::kernels::reduce::{reduce_middle, reduce_rows, reduce_runs, ReduceOp};
use crate::shape::Shape;
use crate::{with_dtype, Element, Tensor};

impl Tensor {
    /// Resolves, sorts and de-duplicates axes; an empty list means all axes.
    #[track_caller]
    pub fn resolve_axes(&self, axes: &[isize], op: &str) -> Vec<usize> {
        if axes.is_empty() {
            return (0..self.ndim()).collect();
        }
        if self.ndim() == 0 {
            // like PyTorch, a 0-d tensor accepts axis 0 and -1, which name nothing to reduce
            for &a in axes {
                assert!(
                    a == 0 || a == -1,
                    "{op}: axis {a} is out of range for shape [] (0 dimensions)"
                );
            }
            return Vec::new();
        }
        // a loop, not a closure, so an axis error is reported at the caller's line
        let mut v: Vec<usize> = Vec::with_capacity(axes.len());
        for &a in axes {
            v.push(self.shape.axis(a, op));
        }
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The shape after reducing `axes` (kept as size 1 with `keepdim`).
    pub fn reduced_shape(&self, axes: &[usize], keepdim: bool) -> Shape {
        let mut d = Vec::new();
        for i in 0..self.ndim() {
            if axes.contains(&i) {
                if keepdim {
                    d.push(1);
                }
            } else {
                d.push(self.shape[i]);
            }
        }
        Shape::new(&d)
    }

    #[track_caller]
    fn reduce(&self, op: ReduceOp, axes: &[isize], keepdim: bool, name: &str) -> Tensor {
        let ax = self.resolve_axes(axes, name);
        let out_shape = self.reduced_shape(&ax, keepdim);
        let nd = self.ndim();
        let kept: Vec<usize> = (0..nd).filter(|i| !ax.contains(i)).collect();
        let run: usize = ax.iter().map(|&a| self.shape[a]).product();
        if ax.len() < nd && op != ReduceOp::Sum && run == 0 {
            panic!(
                "{name}: cannot reduce over an empty dimension of shape {:?}",
                self.shape
            );
        }
        with_dtype!(self.dtype(), T => {
            let mut out = crate::pool::filled(out_shape.numel(), T::ZERO);
            let prefix = ax.iter().enumerate().all(|(i, &a)| i == a);
            let cols = self.numel() / run.max(1);
            // (with a single column the data is one run: the blocked run reduction below is
            // faster and no permuted copy is made)
            // the kept axes as one block [k0, k1) between reduced ones: [N, C, H, W] over
            // (0, 2, 3), as batch norm and conv bias gradients reduce
            let (k0, k1) = (kept.first().copied().unwrap_or(0), kept.last().map_or(0, |k| k + 1));
            if prefix && !ax.is_empty() && ax.len() < nd && self.is_contiguous() && cols > 1 {
                // leading axes: accumulate rows in order
                reduce_rows(op, self.as_slice::<T>(), run, cols, &mut out);
            } else if k0 > 0 && k1 < nd && kept.len() == k1 - k0 && self.is_contiguous() {
                let dims = self.shape.dims();
                let outer: usize = dims[..k0].iter().product();
                let inner: usize = dims[k1..].iter().product();
                reduce_middle(op, self.as_slice::<T>(), outer, inner, &mut out);
            } else {
                let mut perm = kept.clone();
                perm.extend_from_slice(&ax);
                let x = self.permute(&perm).contiguous();
                reduce_runs(op, x.as_slice::<T>(), run, &mut out);
            }
            Tensor::from_vec(out, out_shape)
        })
    }

    /// Sum over `axes` (all if empty).
    #[track_caller]
    pub fn sum(&self, axes: &[isize], keepdim: bool) -> Tensor {
        self.reduce(ReduceOp::Sum, axes, keepdim, "sum")
    }
    /// Sum of all elements, as a 0-d tensor.
    pub fn sum_all(&self) -> Tensor {
        self.sum(&[], false)
    }
    /// Mean over `axes` (all if empty).
    #[track_caller]
    pub fn mean(&self, axes: &[isize], keepdim: bool) -> Tensor {
        let ax = self.resolve_axes(axes, "mean");
        let n: usize = ax.iter().map(|&a| self.shape[a]).product();
        self.sum(axes, keepdim).div_scalar(n as f64)
    }
    /// Mean of all elements, as a 0-d tensor.
    pub fn mean_all(&self) -> Tensor {
        self.mean(&[], false)
    }
    /// Variance over `axes`: biased (divide by n) or unbiased (n - 1).
    #[track_caller]
    pub fn var(&self, axes: &[isize], unbiased: bool, keepdim: bool) -> Tensor {
        let ax = self.resolve_axes(axes, "var");
        let n: usize = ax.iter().map(|&a| self.shape[a]).product();
        let m = self.mean(axes, true);
        let d = self.sub(&m).square().sum(axes, keepdim);
        let denom = if unbiased { n as f64 - 1.0 } else { n as f64 };
        d.div_scalar(denom)
    }
    /// Maximum over `axes` (NaN propagates).
    #[track_caller]
    pub fn max(&self, axes: &[isize], keepdim: bool) -> Tensor {
        self.reduce(ReduceOp::Max, axes, keepdim, "max")
    }
    /// Minimum over `axes` (NaN propagates).
    #[track_caller]
    pub fn min(&self, axes: &[isize], keepdim: bool) -> Tensor {
        self.reduce(ReduceOp::Min, axes, keepdim, "min")
    }
    /// Index of the (first) maximum along `axis`, as a tensor of integral values in the input's dtype.
    #[track_caller]
    pub fn argmax(&self, axis: isize, keepdim: bool) -> Tensor {
        let a = self.shape.axis(axis, "argmax");
        let idx = self.argmax_indices(axis);
        let s = self.reduced_shape(&[a], keepdim);
        with_dtype!(self.dtype(), T => Tensor::from_vec(idx.iter().map(|&i| T::from_f64(i as f64)).collect::<Vec<T>>(), s))
    }
    /// Index of the (first) maximum along `axis` for each position of the other axes, in row-major order.
    #[track_caller]
    pub fn argmax_indices(&self, axis: isize) -> Vec<usize> {
        let a = self.shape.axis(axis, "argmax");
        let n = self.shape[a];
        assert!(
            n > 0,
            "argmax: dimension {a} of shape {:?} is empty",
            self.shape
        );
        let mut perm: Vec<usize> = (0..self.ndim()).filter(|&i| i != a).collect();
        perm.push(a);
        let x = self.permute(&perm).contiguous();
        with_dtype!(self.dtype(), T => {
            x.as_slice::<T>()
                .chunks(n)
                .map(|r| {
                    let mut best = 0;
                    for (i, &v) in r.iter().enumerate() {
                        if v > r[best] || (v.is_nan() && !r[best].is_nan()) {
                            best = i;
                        }
                    }
                    best
                })
                .collect()
        })
    }
    /// The maximum over `axes` (kept as size 1), with 0 where it is not finite: subtracted
    /// from the input, an all −∞ slice then stays −∞ (not NaN).
    #[track_caller]
    fn finite_max(&self, axes: &[isize]) -> Tensor {
        let m = self.max(axes, true);
        with_dtype!(self.dtype(), T => {
            let v: Vec<T> = m.as_slice::<T>().iter().map(|&x| if x.is_finite() { x } else { T::ZERO }).collect();
            Tensor::from_vec(v, *m.shape())
        })
    }
    /// ln Σ e^x over `axes`, computed as m + ln Σ e^(x - m) with m the maximum.
    #[track_caller]
    pub fn logsumexp(&self, axes: &[isize], keepdim: bool) -> Tensor {
        let m_safe = self.finite_max(axes);
        let s = self.sub(&m_safe).exp().sum(axes, true).log().add(&m_safe);
        if keepdim {
            s
        } else {
            let ax = self.resolve_axes(axes, "logsumexp");
            s.reshape(self.reduced_shape(&ax, false))
        }
    }
    /// Softmax along `axis`: e^(x - max) / Σ e^(x - max).
    #[track_caller]
    pub fn softmax(&self, axis: isize) -> Tensor {
        let m = self.max(&[axis], true);
        let e = self.sub(&m).exp();
        e.div(&e.sum(&[axis], true))
    }
    /// Log-softmax along `axis`: x − logsumexp(x), computed as (x − m) − ln Σ e^(x − m) with m
    /// the maximum, in PyTorch's order. (x − m + ln Σ would first round m + ln Σ e^(x − m),
    /// putting up to half an ulp of m into every log-probability: 4.9·10⁻⁴ for f32 rows near
    /// 10⁴, against a few 10⁻⁷ this way.)
    #[track_caller]
    pub fn log_softmax(&self, axis: isize) -> Tensor {
        let d = self.sub(&self.finite_max(&[axis]));
        let lse = d.exp().sum(&[axis], true).log();
        d.sub(&lse)
    }
    /// Sums a broadcast result back to `shape` (the adjoint of broadcasting `shape` up to
    /// `self.shape()`): sums leading extra dimensions and dimensions where `shape` has 1.
    #[track_caller]
    pub fn sum_to(&self, shape: &Shape) -> Tensor {
        if self.shape == *shape {
            return self.clone();
        }
        let nd = self.ndim();
        let fits = shape.ndim() <= nd
            && (0..shape.ndim())
                .all(|i| shape[i] == 1 || shape[i] == self.shape[nd - shape.ndim() + i]);
        assert!(
            fits,
            "sum_to: cannot sum {:?} to {:?} (the target must broadcast to the source)",
            self.shape, shape
        );
        let lead = nd - shape.ndim();
        let mut axes: Vec<isize> = (0..lead as isize).collect();
        for (i, &d) in shape.iter().enumerate() {
            if d == 1 && self.shape[lead + i] != 1 {
                axes.push((lead + i) as isize);
            }
        }
        if axes.is_empty() {
            return self.reshape(*shape);
        }
        self.sum(&axes, true).reshape(*shape)
    }
}
