//! The differentiable ops on [`Var`]: each computes its value with the tensor crate and records
//! one node. Composite ops (mean, var, softmax, …) are written with the primitive ones, so the
//! tape shows their parts and their gradients come for free.

use crate::op::Op;
use crate::tape::Var;
use std::rc::Rc;
use tensor::{Conv2dParams, ConvTranspose2dParams, PadMode, Shape, Tensor, TensorError};

macro_rules! unary_ops {
    ($($(#[$m:meta])* $name:ident => $op:expr, $f:expr;)*) => {
        impl Var {
            $(
                $(#[$m])*
                #[track_caller]
                pub fn $name(&self) -> Var {
                    let f: fn(&Tensor) -> Tensor = $f;
                    self.tape.record($op, &[self], f(&self.value))
                }
            )*
        }
    };
}

unary_ops! {
    /// -x
    neg => Op::Neg, |t| t.neg();
    /// |x|
    abs => Op::Abs, |t| t.abs();
    /// e^x
    exp => Op::Exp, |t| t.exp();
    /// ln x
    log => Op::Log, |t| t.log();
    /// √x
    sqrt => Op::Sqrt, |t| t.sqrt();
    /// x²
    square => Op::Square, |t| t.square();
    /// 1/x
    reciprocal => Op::Reciprocal, |t| t.reciprocal();
    /// sin x
    sin => Op::Sin, |t| t.sin();
    /// cos x
    cos => Op::Cos, |t| t.cos();
    /// max(x, 0)
    relu => Op::Relu, |t| t.relu();
    /// σ(x) = 1/(1 + e^-x)
    sigmoid => Op::Sigmoid, |t| t.sigmoid();
    /// tanh x
    tanh => Op::Tanh, |t| t.tanh();
    /// ln(1 + e^x), stable
    softplus => Op::Softplus, |t| t.softplus();
    /// ln σ(x), stable
    log_sigmoid => Op::LogSigmoid, |t| t.log_sigmoid();
}

fn binary_value(a: &Var, b: &Var, op: tensor::BinaryOp) -> Result<Tensor, TensorError> {
    a.value.try_binary(&b.value, op)
}

impl Var {
    /// x if x > 0, else slope·x
    #[track_caller]
    pub fn leaky_relu(&self, slope: f64) -> Var {
        self.tape
            .record(Op::LeakyRelu(slope), &[self], self.value.leaky_relu(slope))
    }
    /// min(max(x, lo), hi)
    #[track_caller]
    pub fn clamp(&self, lo: f64, hi: f64) -> Var {
        self.tape
            .record(Op::Clamp(lo, hi), &[self], self.value.clamp(lo, hi))
    }
    /// x + c
    #[track_caller]
    pub fn add_scalar(&self, c: f64) -> Var {
        self.tape
            .record(Op::AddScalar(c), &[self], self.value.add_scalar(c))
    }
    /// x · c
    #[track_caller]
    pub fn mul_scalar(&self, c: f64) -> Var {
        self.tape
            .record(Op::MulScalar(c), &[self], self.value.mul_scalar(c))
    }
    /// x^c
    #[track_caller]
    pub fn pow_scalar(&self, c: f64) -> Var {
        self.tape
            .record(Op::PowScalar(c), &[self], self.value.pow_scalar(c))
    }
    /// Identity forward, −λ·gradient backward (the gradient-reversal layer of DANN/XGAN).
    #[track_caller]
    pub fn grad_reverse(&self, lambda: f64) -> Var {
        self.tape
            .record(Op::GradReverse(lambda), &[self], self.value.clone())
    }

    #[track_caller]
    fn binary(&self, other: &Var, op: Op, bop: tensor::BinaryOp) -> Var {
        match binary_value(self, other, bop) {
            Ok(v) => self.tape.record(op, &[self, other], v),
            Err(e) => panic!("{e}"),
        }
    }
    /// a + b with broadcasting.
    #[track_caller]
    pub fn add(&self, o: &Var) -> Var {
        self.binary(o, Op::Add, tensor::BinaryOp::Add)
    }
    /// a - b with broadcasting.
    #[track_caller]
    pub fn sub(&self, o: &Var) -> Var {
        self.binary(o, Op::Sub, tensor::BinaryOp::Sub)
    }
    /// a · b with broadcasting.
    #[track_caller]
    pub fn mul(&self, o: &Var) -> Var {
        self.binary(o, Op::Mul, tensor::BinaryOp::Mul)
    }
    /// a / b with broadcasting.
    #[track_caller]
    pub fn div(&self, o: &Var) -> Var {
        self.binary(o, Op::Div, tensor::BinaryOp::Div)
    }
    /// a^b with broadcasting.
    #[track_caller]
    pub fn pow(&self, o: &Var) -> Var {
        self.binary(o, Op::Pow, tensor::BinaryOp::Pow)
    }
    /// max(a, b) with broadcasting.
    #[track_caller]
    pub fn maximum(&self, o: &Var) -> Var {
        self.binary(o, Op::Maximum, tensor::BinaryOp::Maximum)
    }
    /// min(a, b) with broadcasting.
    #[track_caller]
    pub fn minimum(&self, o: &Var) -> Var {
        self.binary(o, Op::Minimum, tensor::BinaryOp::Minimum)
    }
    /// cond ? a : b, with `cond` a constant 1/0 mask; all three broadcast.
    #[track_caller]
    pub fn where_(cond: &Tensor, a: &Var, b: &Var) -> Var {
        let v = Tensor::where_(cond, &a.value, &b.value);
        a.tape.record(Op::Where(Box::new(cond.clone())), &[a, b], v)
    }

    // ------------------------------------------------------------------ reductions

    /// Σ over `axes` (all if empty).
    #[track_caller]
    pub fn sum(&self, axes: &[isize], keepdim: bool) -> Var {
        let ax = self.value.resolve_axes(axes, "sum");
        let v = self.value.sum(axes, keepdim);
        self.tape.record(Op::Sum { axes: ax, keepdim }, &[self], v)
    }
    /// Σ of all elements (0-d).
    #[track_caller]
    pub fn sum_all(&self) -> Var {
        self.sum(&[], false)
    }
    /// Mean over `axes` (all if empty) = sum · (1/n).
    #[track_caller]
    pub fn mean(&self, axes: &[isize], keepdim: bool) -> Var {
        let ax = self.value.resolve_axes(axes, "mean");
        let n: usize = ax.iter().map(|&a| self.dims()[a]).product();
        self.sum(axes, keepdim).mul_scalar(1.0 / n as f64)
    }
    /// Mean of all elements (0-d).
    #[track_caller]
    pub fn mean_all(&self) -> Var {
        self.mean(&[], false)
    }
    /// Variance over `axes`, biased (÷n) or unbiased (÷(n−1)).
    #[track_caller]
    pub fn var(&self, axes: &[isize], unbiased: bool, keepdim: bool) -> Var {
        let ax = self.value.resolve_axes(axes, "var");
        let n: usize = ax.iter().map(|&a| self.dims()[a]).product();
        let d = self.sub(&self.mean(axes, true));
        let denom = if unbiased { n as f64 - 1.0 } else { n as f64 };
        d.square().sum(axes, keepdim).mul_scalar(1.0 / denom)
    }
    /// Maximum over `axes`.
    #[track_caller]
    pub fn max(&self, axes: &[isize], keepdim: bool) -> Var {
        let ax = self.value.resolve_axes(axes, "max");
        let v = self.value.max(axes, keepdim);
        self.tape.record(Op::Max { axes: ax, keepdim }, &[self], v)
    }
    /// Minimum over `axes`.
    #[track_caller]
    pub fn min(&self, axes: &[isize], keepdim: bool) -> Var {
        let ax = self.value.resolve_axes(axes, "min");
        let v = self.value.min(axes, keepdim);
        self.tape.record(Op::Min { axes: ax, keepdim }, &[self], v)
    }
    /// ln Σ e^x over `axes`, as m + ln Σ e^(x − m) with m = max (detached: the result does
    /// not depend on m).
    #[track_caller]
    pub fn logsumexp(&self, axes: &[isize], keepdim: bool) -> Var {
        let m = self.constant(self.value.max(axes, true).clamp(-f64::MAX, f64::MAX));
        let s = self.sub(&m).exp().sum(axes, true).log().add(&m);
        if keepdim {
            s
        } else {
            let ax = self.value.resolve_axes(axes, "logsumexp");
            s.reshape(self.value.reduced_shape(&ax, false))
        }
    }
    /// Softmax along `axis`.
    #[track_caller]
    pub fn softmax(&self, axis: isize) -> Var {
        self.log_softmax(axis).exp()
    }
    /// Log-softmax along `axis`: x − logsumexp(x), computed as (x − m) − ln Σ e^(x − m) with
    /// m = max (detached), in PyTorch's order: x − m is exact for the entries that matter,
    /// where x − (m + ln Σ e^(x − m)) would put up to half an ulp of m into every
    /// log-probability (see [`tensor::Tensor::log_softmax`]).
    #[track_caller]
    pub fn log_softmax(&self, axis: isize) -> Var {
        let m = self.constant(self.value.max(&[axis], true).clamp(-f64::MAX, f64::MAX));
        let d = self.sub(&m);
        let lse = d.exp().sum(&[axis], true).log();
        d.sub(&lse)
    }
    /// Sums a broadcast value back to `shape` (the adjoint of broadcasting).
    #[track_caller]
    pub fn sum_to(&self, shape: &Shape) -> Var {
        if self.shape() == shape {
            return self.clone();
        }
        let nd = self.ndim();
        let lead = nd - shape.ndim();
        let mut axes: Vec<isize> = (0..lead as isize).collect();
        for (i, &d) in shape.iter().enumerate() {
            if d == 1 && self.dims()[lead + i] != 1 {
                axes.push((lead + i) as isize);
            }
        }
        let s = if axes.is_empty() {
            self.clone()
        } else {
            self.sum(&axes, true)
        };
        s.reshape(*shape)
    }

    // ------------------------------------------------------------------ shape

    /// Same elements, new shape.
    #[track_caller]
    pub fn reshape(&self, shape: impl Into<Shape>) -> Var {
        let shape = shape.into();
        if *self.shape() == shape {
            return self.clone();
        }
        let v = self.value.reshape(shape);
        self.tape.record(Op::Reshape, &[self], v)
    }
    /// Merges dimensions `start..=end`.
    #[track_caller]
    pub fn flatten(&self, start: isize, end: isize) -> Var {
        let s = *self.value.flatten(start, end).shape();
        self.reshape(s)
    }
    /// Removes a size-1 dimension.
    #[track_caller]
    pub fn squeeze(&self, axis: isize) -> Var {
        let s = *self.value.squeeze(axis).shape();
        self.reshape(s)
    }
    /// Inserts a size-1 dimension.
    #[track_caller]
    pub fn unsqueeze(&self, axis: isize) -> Var {
        let s = *self.value.unsqueeze(axis).shape();
        self.reshape(s)
    }
    /// Reorders dimensions.
    #[track_caller]
    pub fn permute(&self, perm: &[usize]) -> Var {
        let v = self.value.permute(perm);
        self.tape.record(Op::Permute(perm.to_vec()), &[self], v)
    }
    /// Swaps two dimensions.
    #[track_caller]
    pub fn transpose(&self, a: isize, b: isize) -> Var {
        let (a, b) = (
            self.shape().axis(a, "transpose"),
            self.shape().axis(b, "transpose"),
        );
        let mut perm: Vec<usize> = (0..self.ndim()).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }
    /// Transpose of a 2-D value.
    #[track_caller]
    pub fn t(&self) -> Var {
        assert!(
            self.ndim() == 2,
            "t: expects a 2-D value, got shape {:?}",
            self.shape()
        );
        self.permute(&[1, 0])
    }
    /// Broadcasts to `shape`.
    #[track_caller]
    pub fn expand(&self, shape: impl Into<Shape>) -> Var {
        let shape = shape.into();
        if *self.shape() == shape {
            return self.clone();
        }
        let v = self.value.expand(shape);
        self.tape.record(Op::Expand, &[self], v)
    }
    /// Elements `start..start+len` along `axis`.
    #[track_caller]
    pub fn narrow(&self, axis: isize, start: usize, len: usize) -> Var {
        let a = self.shape().axis(axis, "narrow");
        let v = self.value.narrow(axis, start, len);
        self.tape.record(Op::Narrow { axis: a, start }, &[self], v)
    }
    /// Splits along `axis` into pieces of the given sizes.
    #[track_caller]
    pub fn split(&self, axis: isize, sizes: &[usize]) -> Vec<Var> {
        let a = self.shape().axis(axis, "split");
        assert!(
            sizes.iter().sum::<usize>() == self.dims()[a],
            "split: sizes {:?} do not sum to dimension {a} of shape {:?}",
            sizes,
            self.shape()
        );
        let mut start = 0;
        sizes
            .iter()
            .map(|&s| {
                let v = self.narrow(a as isize, start, s);
                start += s;
                v
            })
            .collect()
    }
    /// Pads the trailing dimensions (see [`Tensor::pad`]).
    #[track_caller]
    pub fn pad(&self, pads: &[(usize, usize)], mode: PadMode) -> Var {
        let v = self.value.pad(pads, mode);
        self.tape.record(
            Op::Pad {
                pads: pads.to_vec(),
                mode,
            },
            &[self],
            v,
        )
    }
    /// The adjoint of reflect padding (folds the border back onto `shape`).
    #[track_caller]
    pub fn pad_reflect_adjoint(&self, pads: &[(usize, usize)], shape: impl Into<Shape>) -> Var {
        let v = self.value.pad_reflect_adjoint(pads, shape);
        self.tape.record(
            Op::PadReflectAdjoint {
                pads: pads.to_vec(),
            },
            &[self],
            v,
        )
    }
    /// Concatenates along `axis`.
    #[track_caller]
    pub fn cat(vars: &[&Var], axis: isize) -> Var {
        let first = vars.first().expect("cat: expects at least one Var");
        let ts: Vec<&Tensor> = vars.iter().map(|v| &v.value).collect();
        let v = match Tensor::try_cat(&ts, axis) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        let a = first.shape().axis(axis, "cat");
        first.tape.record(Op::Cat { axis: a }, vars, v)
    }
    /// Stacks along a new axis.
    #[track_caller]
    pub fn stack(vars: &[&Var], axis: isize) -> Var {
        let us: Vec<Var> = vars.iter().map(|v| v.unsqueeze(axis)).collect();
        Var::cat(&us.iter().collect::<Vec<_>>(), axis)
    }
    /// Selects indices along `axis`.
    #[track_caller]
    pub fn index_select(&self, axis: isize, indices: &[usize]) -> Var {
        let a = self.shape().axis(axis, "index_select");
        let v = self.value.index_select(axis, indices);
        self.tape.record(
            Op::IndexSelect {
                axis: a,
                indices: indices.to_vec(),
            },
            &[self],
            v,
        )
    }
    /// Adds slices into zeros of `shape` at `indices` (adjoint of index_select).
    #[track_caller]
    pub fn index_add(&self, shape: impl Into<Shape>, axis: isize, indices: &[usize]) -> Var {
        let shape = shape.into();
        let a = shape.axis(axis, "index_add");
        let v = Tensor::index_add(shape, axis, indices, &self.value);
        self.tape.record(
            Op::IndexAdd {
                axis: a,
                indices: indices.to_vec(),
            },
            &[self],
            v,
        )
    }
    /// Gathers along `axis` at the positions of the constant `index` tensor.
    #[track_caller]
    pub fn gather(&self, axis: isize, index: &Tensor) -> Var {
        let a = self.shape().axis(axis, "gather");
        let v = self.value.gather(axis, index);
        self.tape.record(
            Op::Gather {
                axis: a,
                index: Box::new(index.clone()),
            },
            &[self],
            v,
        )
    }
    /// Scatter-adds into zeros of `shape` (adjoint of gather).
    #[track_caller]
    pub fn scatter_add(&self, shape: impl Into<Shape>, axis: isize, index: &Tensor) -> Var {
        let shape = shape.into();
        let a = shape.axis(axis, "scatter_add");
        let v = Tensor::scatter_add(shape, axis, index, &self.value);
        self.tape.record(
            Op::ScatterAdd {
                axis: a,
                index: Box::new(index.clone()),
                shape: Box::new(shape),
            },
            &[self],
            v,
        )
    }
    /// Reverses along `axes`.
    #[track_caller]
    pub fn flip(&self, axes: &[isize]) -> Var {
        let v = self.value.flip(axes);
        self.tape.record(Op::Flip(axes.to_vec()), &[self], v)
    }
    /// Tiles `reps[d]` times along each dimension (composite: reshape, expand, reshape).
    #[track_caller]
    pub fn repeat(&self, reps: &[usize]) -> Var {
        assert!(
            reps.len() >= self.ndim(),
            "repeat: {} repetitions given for shape {:?}",
            reps.len(),
            self.shape()
        );
        let mut d = vec![1usize; reps.len() - self.ndim()];
        d.extend_from_slice(self.dims());
        let mut inter = Vec::new();
        let mut big = Vec::new();
        for (i, &r) in reps.iter().enumerate() {
            inter.extend_from_slice(&[1, d[i]]);
            big.extend_from_slice(&[r, d[i]]);
        }
        let out: Vec<usize> = reps.iter().zip(&d).map(|(r, di)| r * di).collect();
        self.reshape(inter).expand(big).reshape(out)
    }

    /// `x·Wᵀ + b` for `x` `[N, in]`, `weight` `[out, in]`, `bias` `[out]`: a `Linear` layer's
    /// product as one op (the bias written into the output before the GEMM adds onto it; W's
    /// gradient computed as (∂L/∂out)ᵀ·x, contiguous like W). Other input ranks take the
    /// composed `matmul(wᵀ) + b`.
    #[track_caller]
    pub fn linear(&self, weight: &Var, bias: Option<&Var>) -> Var {
        if self.ndim() != 2 {
            let y = self.matmul(&weight.t());
            return match bias {
                Some(b) => y.add(b),
                None => y,
            };
        }
        let v = match self.value.try_linear(&weight.value, bias.map(|b| &b.value)) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        match bias {
            Some(b) => self.tape.record(Op::Linear, &[self, weight, b], v),
            None => self.tape.record(Op::Linear, &[self, weight], v),
        }
    }
    /// Matrix product with PyTorch's `matmul` rules (1-D operands promoted, batch broadcast).
    #[track_caller]
    pub fn matmul(&self, other: &Var) -> Var {
        let a = if self.ndim() == 1 {
            self.unsqueeze(0)
        } else {
            self.clone()
        };
        let b = if other.ndim() == 1 {
            other.unsqueeze(1)
        } else {
            other.clone()
        };
        let v = match a.value.try_matmul(&b.value) {
            Ok(v) => v,
            Err(_) => panic!(
                "{}",
                self.value
                    .try_matmul(&other.value)
                    .err()
                    .expect("same failure")
            ),
        };
        let out = self.tape.record(Op::Matmul, &[&a, &b], v);
        match (self.ndim(), other.ndim()) {
            (1, 1) => out.reshape(Shape::scalar()),
            (1, _) => out.squeeze(-2),
            (_, 1) => out.squeeze(-1),
            _ => out,
        }
    }
}

impl Var {
    /// 2-D convolution without bias (see [`Var::conv2d_bias`]).
    #[track_caller]
    pub fn conv2d(&self, w: &Var, p: Conv2dParams) -> Var {
        self.conv2d_bias(w, None, p)
    }
    /// 2-D convolution, weight layout `[Cout, Cin/groups, kh, kw]`, plus `bias[c]` (`[Cout]`)
    /// on every output of channel `c` — like `torch.nn.functional.conv2d`. The bias is added
    /// by the convolution kernel as it writes its output (one pass fewer than a broadcast add),
    /// and its gradient is the sum of the output gradient over batch and pixels.
    #[track_caller]
    pub fn conv2d_bias(&self, w: &Var, bias: Option<&Var>, p: Conv2dParams) -> Var {
        let v = match self.value.try_conv2d(&w.value, bias.map(|b| &b.value), p) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        match bias {
            Some(b) => self.tape.record(Op::Conv2d(p), &[self, w, b], v),
            None => self.tape.record(Op::Conv2d(p), &[self, w], v),
        }
    }
    /// 2-D transposed convolution without bias (see [`Var::conv_transpose2d_bias`]).
    #[track_caller]
    pub fn conv_transpose2d(&self, w: &Var, p: ConvTranspose2dParams) -> Var {
        self.conv_transpose2d_bias(w, None, p)
    }
    /// 2-D transposed convolution, weight layout `[Cin, Cout/groups, kh, kw]`, plus `bias[c]`
    /// (`[Cout]`) on every output of channel `c`, added by the kernel (see
    /// [`Var::conv2d_bias`]).
    #[track_caller]
    pub fn conv_transpose2d_bias(
        &self,
        w: &Var,
        bias: Option<&Var>,
        p: ConvTranspose2dParams,
    ) -> Var {
        let v = match self
            .value
            .try_conv_transpose2d(&w.value, bias.map(|b| &b.value), p)
        {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        match bias {
            Some(b) => self.tape.record(Op::ConvTranspose2d(p), &[self, w, b], v),
            None => self.tape.record(Op::ConvTranspose2d(p), &[self, w], v),
        }
    }
    /// The weight gradient of conv2d as a differentiable function of (input, grad_out).
    #[track_caller]
    pub fn conv2d_weight_grad(
        input: &Var,
        grad_out: &Var,
        weight_shape: Shape,
        p: Conv2dParams,
    ) -> Var {
        let v = input
            .value
            .conv2d_weight_grad(&grad_out.value, weight_shape, p);
        input
            .tape
            .record(Op::Conv2dWeightGrad(p), &[input, grad_out], v)
    }
    /// The weight gradient of conv_transpose2d as a differentiable function of (input, grad_out).
    #[track_caller]
    pub fn conv_transpose2d_weight_grad(
        input: &Var,
        grad_out: &Var,
        weight_shape: Shape,
        p: ConvTranspose2dParams,
    ) -> Var {
        let v = input
            .value
            .conv_transpose2d_weight_grad(&grad_out.value, weight_shape, p);
        input
            .tape
            .record(Op::ConvTranspose2dWeightGrad(p), &[input, grad_out], v)
    }
    /// Average pooling (count_include_pad, like PyTorch's default).
    #[track_caller]
    pub fn avg_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Var {
        let v = self.value.avg_pool2d(kernel, stride, padding);
        self.tape.record(
            Op::AvgPool2d {
                kernel,
                stride,
                padding,
            },
            &[self],
            v,
        )
    }
    /// The adjoint of average pooling, producing `input_shape`.
    #[track_caller]
    pub fn avg_pool2d_backward(
        &self,
        input_shape: Shape,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Var {
        let v = self
            .value
            .avg_pool2d_backward(input_shape, kernel, stride, padding);
        self.tape.record(
            Op::AvgPool2dBackward {
                kernel,
                stride,
                padding,
            },
            &[self],
            v,
        )
    }
    /// Max pooling.
    #[track_caller]
    pub fn max_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Var {
        let (v, idx) = self.value.max_pool2d(kernel, stride, padding);
        self.tape.record(
            Op::MaxPool2d {
                indices: Rc::new(idx),
            },
            &[self],
            v,
        )
    }
    /// Scatter-add of a pooled gradient to the arg-max `indices` (output `input_shape`).
    #[track_caller]
    pub fn max_pool2d_backward(&self, indices: &Rc<Vec<usize>>, input_shape: Shape) -> Var {
        let v = self.value.max_pool2d_backward(indices, input_shape);
        self.tape.record(
            Op::MaxPool2dBackward {
                indices: indices.clone(),
            },
            &[self],
            v,
        )
    }
    /// Gather at the arg-max `indices` (output `out_shape`).
    #[track_caller]
    pub fn max_pool2d_gather(&self, indices: &Rc<Vec<usize>>, out_shape: Shape) -> Var {
        let v = self.value.max_pool2d_gather(indices, out_shape);
        self.tape.record(
            Op::MaxPool2dGather {
                indices: indices.clone(),
            },
            &[self],
            v,
        )
    }
    /// (x − mean)/√(var + eps) over `axes`, with the biased variance — the normalisation of
    /// batch and instance norm as one op with a closed-form backward (instead of five recorded
    /// primitive ops). Returns the normalised value and the per-slice mean and biased variance
    /// (keepdim), which the norms use for their running statistics.
    #[track_caller]
    pub fn normalize_with_stats(&self, axes: &[isize], eps: f64) -> (Var, Tensor, Tensor) {
        let ax = self.value.resolve_axes(axes, "normalize");
        let (v, mean, var) = self.value.normalize_with_stats(axes, eps);
        (
            self.tape
                .record(Op::Normalize { axes: ax, eps }, &[self], v),
            mean,
            var,
        )
    }
    /// `self·w[c] + b[c]` with `c` the index along axis 1 (`w`, `b`: `[C]`): batch and instance
    /// norm's affine step as one op — one pass forward, and backward one pass for the input
    /// gradient and one for both parameter gradients (instead of a broadcast `mul` and `add`
    /// and their reductions).
    #[track_caller]
    pub fn channel_affine(&self, w: &Var, b: Option<&Var>) -> Var {
        let v = self.value.channel_affine(&w.value, b.map(|b| &b.value));
        match b {
            Some(b) => self.tape.record(Op::ChannelAffine, &[self, w, b], v),
            None => self.tape.record(Op::ChannelAffine, &[self, w], v),
        }
    }
    /// [`Var::normalize_with_stats`] without the statistics.
    #[track_caller]
    pub fn normalize(&self, axes: &[isize], eps: f64) -> Var {
        self.normalize_with_stats(axes, eps).0
    }
    /// Nearest-neighbour upsampling by an integer factor.
    #[track_caller]
    pub fn upsample_nearest2d(&self, scale: usize) -> Var {
        let v = self.value.upsample_nearest2d(scale);
        self.tape.record(Op::UpsampleNearest2d(scale), &[self], v)
    }
    /// The adjoint of nearest upsampling.
    #[track_caller]
    pub fn upsample_nearest2d_backward(&self, scale: usize) -> Var {
        let v = self.value.upsample_nearest2d_backward(scale);
        self.tape
            .record(Op::UpsampleNearest2dBackward(scale), &[self], v)
    }
}

macro_rules! impl_var_op {
    ($tr:ident, $m:ident, $f:ident, $sc:expr, $rsc:expr) => {
        impl std::ops::$tr<&Var> for &Var {
            type Output = Var;
            #[track_caller]
            fn $m(self, o: &Var) -> Var {
                Var::$f(self, o)
            }
        }
        impl std::ops::$tr<Var> for Var {
            type Output = Var;
            #[track_caller]
            fn $m(self, o: Var) -> Var {
                Var::$f(&self, &o)
            }
        }
        impl std::ops::$tr<&Var> for Var {
            type Output = Var;
            #[track_caller]
            fn $m(self, o: &Var) -> Var {
                Var::$f(&self, o)
            }
        }
        impl std::ops::$tr<Var> for &Var {
            type Output = Var;
            #[track_caller]
            fn $m(self, o: Var) -> Var {
                Var::$f(self, &o)
            }
        }
        impl std::ops::$tr<f64> for &Var {
            type Output = Var;
            #[track_caller]
            fn $m(self, c: f64) -> Var {
                let f: fn(&Var, f64) -> Var = $sc;
                f(self, c)
            }
        }
        impl std::ops::$tr<f64> for Var {
            type Output = Var;
            #[track_caller]
            fn $m(self, c: f64) -> Var {
                let f: fn(&Var, f64) -> Var = $sc;
                f(&self, c)
            }
        }
        impl std::ops::$tr<&Var> for f64 {
            type Output = Var;
            #[track_caller]
            fn $m(self, v: &Var) -> Var {
                let f: fn(f64, &Var) -> Var = $rsc;
                f(self, v)
            }
        }
        impl std::ops::$tr<Var> for f64 {
            type Output = Var;
            #[track_caller]
            fn $m(self, v: Var) -> Var {
                let f: fn(f64, &Var) -> Var = $rsc;
                f(self, &v)
            }
        }
    };
}
impl_var_op!(Add, add, add, |v, c| v.add_scalar(c), |c, v| v
    .add_scalar(c));
impl_var_op!(Sub, sub, sub, |v, c| v.add_scalar(-c), |c, v| v
    .neg()
    .add_scalar(c));
impl_var_op!(Mul, mul, mul, |v, c| v.mul_scalar(c), |c, v| v
    .mul_scalar(c));
impl_var_op!(Div, div, div, |v, c| v.mul_scalar(1.0 / c), |c, v| v
    .reciprocal()
    .mul_scalar(c));

impl std::ops::Neg for &Var {
    type Output = Var;
    #[track_caller]
    fn neg(self) -> Var {
        Var::neg(self)
    }
}
impl std::ops::Neg for Var {
    type Output = Var;
    #[track_caller]
    fn neg(self) -> Var {
        Var::neg(&self)
    }
}
