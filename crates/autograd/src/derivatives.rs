//! Every backward rule, in one table — like PyTorch's `derivatives.yaml`.
//!
//! Each rule receives the node's inputs `x`, its output `out` and the incoming gradient `g`
//! (all [`Var`]s), and returns one gradient per input. Rules are written with the same
//! differentiable ops as the forward pass: with `create_graph` they are recorded too, so a
//! gradient can itself be differentiated (gradient penalties, R1). Masks such as `[x > 0]` are
//! constants: they are piecewise constant, so their derivative is zero almost everywhere.

use crate::op::Op;
use crate::tape::{Small, Var};
use tensor::{Conv2dParams, ConvTranspose2dParams, PadMode, Tensor};

/// Gradients of one node's inputs, given the gradient `g` of its output. `need[i]` says whether
/// input `i` needs one (a constant input gets `None`).
pub fn backward(op: &Op, x: &[Var], out: &Var, g: &Var, need: &[bool]) -> Small<Option<Var>> {
    let c = |t: Tensor| g.constant(t);
    let one = |v: Var| Small::One([Some(v)]);
    // For broadcasting binary ops: reduce a gradient back to the input's shape.
    let fit = |v: Var, i: usize| -> Option<Var> {
        if need[i] {
            Some(v.sum_to(x[i].shape()))
        } else {
            None
        }
    };
    match op {
        Op::Leaf => Small::Zero,
        Op::Neg => one(g.neg()),
        Op::Abs => one(g.mul(&c(x[0].value.sign()))),
        Op::Exp => one(g.mul(out)),
        Op::Log => one(g.div(&x[0])),
        Op::Sqrt => one(g.div(&out.mul_scalar(2.0))),
        Op::Square => one(g.mul(&x[0]).mul_scalar(2.0)),
        Op::Reciprocal => one(g.mul(&out.square()).neg()),
        Op::Sin => one(g.mul(&x[0].cos())),
        Op::Cos => one(g.mul(&x[0].sin()).neg()),
        // with nothing recorded, one fused pass (the same products: g·1 or g·slope)
        Op::Relu | Op::LeakyRelu(_) if !crate::is_grad_enabled() => {
            let s = if let Op::LeakyRelu(s) = op { *s } else { 0.0 };
            one(c(g.value.leaky_relu_backward(&x[0].value, s)))
        }
        Op::Relu => one(g.mul(&c(x[0].value.gt_scalar(0.0)))),
        Op::LeakyRelu(s) => {
            let pos = x[0].value.gt_scalar(0.0);
            // slope where x <= 0, 1 where x > 0
            let m = pos.mul_scalar(1.0 - s).add_scalar(*s);
            one(g.mul(&c(m)))
        }
        Op::Sigmoid => one(g.mul(&out.mul(&out.neg().add_scalar(1.0)))),
        Op::Tanh => one(g.mul(&out.square().neg().add_scalar(1.0))),
        Op::Softplus => one(g.mul(&x[0].sigmoid())),
        Op::LogSigmoid => one(g.mul(&x[0].neg().sigmoid())),
        Op::Clamp(lo, hi) => {
            let m = x[0]
                .value
                .ge_scalar(*lo)
                .mul(&x[0].value.neg().ge_scalar(-*hi));
            one(g.mul(&c(m)))
        }
        Op::AddScalar(_) => one(g.clone()),
        Op::MulScalar(k) => one(g.mul_scalar(*k)),
        Op::PowScalar(k) => {
            if *k == 0.0 {
                one(g.mul_scalar(0.0))
            } else if *k == 1.0 {
                one(g.clone())
            } else if *k == 2.0 {
                one(g.mul(&x[0]).mul_scalar(2.0))
            } else {
                one(g.mul(&x[0].pow_scalar(k - 1.0)).mul_scalar(*k))
            }
        }
        Op::Add => Small::Two([fit(g.clone(), 0), fit(g.clone(), 1)]),
        Op::Sub => Small::Two([
            fit(g.clone(), 0),
            if need[1] { fit(g.neg(), 1) } else { None },
        ]),
        Op::Mul => Small::Two([
            if need[0] { fit(g.mul(&x[1]), 0) } else { None },
            if need[1] { fit(g.mul(&x[0]), 1) } else { None },
        ]),
        Op::Div => Small::Two([
            if need[0] { fit(g.div(&x[1]), 0) } else { None },
            if need[1] {
                fit(g.mul(out).div(&x[1]).neg(), 1)
            } else {
                None
            },
        ]),
        Op::Pow => Small::Two([
            if need[0] {
                fit(g.mul(&x[1]).mul(&x[0].pow(&x[1].add_scalar(-1.0))), 0)
            } else {
                None
            },
            // ∂(aᵇ)/∂b = aᵇ·ln a; at a = 0 the limit is 0 (PyTorch masks it the same way)
            if need[1] {
                let nonzero = c(x[0].value.ne(&Tensor::zeros(*x[0].shape(), x[0].dtype())));
                let safe_a = Var::where_(
                    nonzero.value(),
                    &x[0],
                    &c(Tensor::ones(*x[0].shape(), x[0].dtype())),
                );
                fit(g.mul(out).mul(&safe_a.log()).mul(&nonzero), 1)
            } else {
                None
            },
        ]),
        Op::Maximum | Op::Minimum => {
            let (a, b) = (&x[0].value, &x[1].value);
            let wins = if matches!(op, Op::Maximum) {
                a.gt(b)
            } else {
                a.lt(b)
            };
            let tie = a.eq(b).mul_scalar(0.5);
            let ma = wins.add(&tie);
            let mb = ma.neg().add_scalar(1.0);
            Small::Two([
                if need[0] { fit(g.mul(&c(ma)), 0) } else { None },
                if need[1] { fit(g.mul(&c(mb)), 1) } else { None },
            ])
        }
        Op::Where(cond) => {
            let zero = c(Tensor::zeros([1], g.dtype()).reshape(tensor::Shape::scalar()));
            Small::Two([
                if need[0] {
                    fit(Var::where_(cond, g, &zero), 0)
                } else {
                    None
                },
                if need[1] {
                    fit(Var::where_(cond, &zero, g), 1)
                } else {
                    None
                },
            ])
        }
        Op::Sum { axes, keepdim } => {
            let kept = x[0].value.reduced_shape(axes, true);
            let gk = if *keepdim { g.clone() } else { g.reshape(kept) };
            one(gk.expand(*x[0].shape()))
        }
        Op::Max { axes, keepdim } | Op::Min { axes, keepdim } => {
            let kept = x[0].value.reduced_shape(axes, true);
            let o = out.value.reshape(kept);
            let mask = x[0].value.eq(&o);
            let count = mask.sum(&axes.iter().map(|&a| a as isize).collect::<Vec<_>>(), true);
            let w = mask.div(&count);
            let gk = if *keepdim { g.clone() } else { g.reshape(kept) };
            one(gk.mul(&c(w)))
        }
        Op::Reshape => one(g.reshape(*x[0].shape())),
        Op::Permute(p) => {
            let mut inv = vec![0; p.len()];
            for (i, &pi) in p.iter().enumerate() {
                inv[pi] = i;
            }
            one(g.permute(&inv))
        }
        Op::Expand => one(g.sum_to(x[0].shape())),
        Op::Narrow { axis, start } => {
            let full = x[0].dims()[*axis];
            let len = g.dims()[*axis];
            let nd = x[0].ndim();
            let mut pads = vec![(0, 0); nd - axis];
            pads[0] = (*start, full - start - len);
            one(g.pad(&pads, PadMode::Constant(0.0)))
        }
        Op::Pad { pads, mode } => match mode {
            PadMode::Constant(_) => {
                let nd = x[0].ndim();
                let first = nd - pads.len();
                let mut v = g.clone();
                for (i, &(b, _)) in pads.iter().enumerate() {
                    v = v.narrow((first + i) as isize, b, x[0].dims()[first + i]);
                }
                one(v)
            }
            PadMode::Reflect => one(g.pad_reflect_adjoint(pads, *x[0].shape())),
        },
        Op::PadReflectAdjoint { pads } => one(g.pad(pads, PadMode::Reflect)),
        Op::Cat { axis } => {
            let mut start = 0;
            x.iter()
                .enumerate()
                .map(|(i, xi)| {
                    let len = xi.dims()[*axis];
                    let r = if need[i] {
                        Some(g.narrow(*axis as isize, start, len))
                    } else {
                        None
                    };
                    start += len;
                    r
                })
                .collect::<Vec<_>>()
                .into()
        }
        Op::IndexSelect { axis, indices } => {
            one(g.index_add(*x[0].shape(), *axis as isize, indices))
        }
        Op::IndexAdd { axis, indices } => one(g.index_select(*axis as isize, indices)),
        Op::Gather { axis, index } => one(g.scatter_add(*x[0].shape(), *axis as isize, index)),
        Op::ScatterAdd { axis, index, .. } => one(g.gather(*axis as isize, index)),
        Op::Flip(axes) => one(g.flip(axes)),
        Op::Matmul => {
            let (a, b) = (&x[0], &x[1]);
            Small::Two([
                if need[0] {
                    Some(g.matmul(&b.transpose(-1, -2)).sum_to(a.shape()))
                } else {
                    None
                },
                if need[1] && b.ndim() == 2 && a.ndim() == 2 && stored_transposed(&b.value) {
                    // B is a transposed view (Linear's Wᵀ): compute (gᵀ·A)ᵀ, so the gradient
                    // reaching the stored W through the transpose is contiguous, not copied
                    Some(g.t().matmul(a).t())
                } else if need[1] {
                    Some(a.transpose(-1, -2).matmul(g).sum_to(b.shape()))
                } else {
                    None
                },
            ])
        }
        Op::Linear => {
            let (xv, w) = (&x[0], &x[1]);
            let mut out = vec![
                need[0].then(|| g.matmul(w)),
                // (gᵀ·x) is [out, in], contiguous like W
                need[1].then(|| g.t().matmul(xv)),
            ];
            if x.len() == 3 {
                out.push(need[2].then(|| g.sum(&[0], false)));
            }
            Small::Many(out)
        }
        Op::GradReverse(l) => one(g.mul_scalar(-l)),
        Op::Conv2d(p) => {
            let (xv, w) = (&x[0], &x[1]);
            let mut out = vec![
                need[0].then(|| g.conv_transpose2d(w, transpose_for(*p, w, hw(xv)))),
                need[1].then(|| Var::conv2d_weight_grad(xv, g, *w.shape(), *p)),
            ];
            if x.len() == 2 {
                return Small::Two([out[0].take(), out[1].take()]);
            }
            // the bias reaches every pixel of its channel in every sample
            out.push(need[2].then(|| g.sum(&[0, 2, 3], false)));
            Small::Many(out)
        }
        Op::ConvTranspose2d(p) => {
            let (xv, w) = (&x[0], &x[1]);
            let mut out = vec![
                need[0].then(|| crop_to(g.conv2d(w, p.conv_params()), hw(xv))),
                need[1].then(|| Var::conv_transpose2d_weight_grad(xv, g, *w.shape(), *p)),
            ];
            if x.len() == 2 {
                return Small::Two([out[0].take(), out[1].take()]);
            }
            out.push(need[2].then(|| g.sum(&[0, 2, 3], false)));
            Small::Many(out)
        }
        Op::Conv2dWeightGrad(p) => {
            // out = Σₙ gₙ · im2col(xₙ)ᵀ is bilinear: ⟨out, V⟩ = ⟨g, conv2d(x, V)⟩ = ⟨x, conv2dᵀ(g, V)⟩
            let (xv, gv) = (&x[0], &x[1]);
            Small::Two([
                if need[0] {
                    Some(gv.conv_transpose2d(g, transpose_for(*p, g, hw(xv))))
                } else {
                    None
                },
                if need[1] {
                    Some(xv.conv2d(g, *p))
                } else {
                    None
                },
            ])
        }
        Op::ConvTranspose2dWeightGrad(p) => {
            // out = conv2d_weight_grad(input = g, grad_out = x)
            let (xv, gv) = (&x[0], &x[1]);
            let pc = p.conv_params();
            Small::Two([
                if need[0] {
                    Some(crop_to(gv.conv2d(g, pc), hw(xv)))
                } else {
                    None
                },
                // the transposed conv of x with the forward's own parameters has g's shape
                if need[1] {
                    Some(xv.conv_transpose2d(g, *p))
                } else {
                    None
                },
            ])
        }
        Op::AvgPool2d {
            kernel,
            stride,
            padding,
        } => one(g.avg_pool2d_backward(*x[0].shape(), *kernel, *stride, *padding)),
        Op::AvgPool2dBackward {
            kernel,
            stride,
            padding,
        } => one(g.avg_pool2d(*kernel, *stride, *padding)),
        Op::MaxPool2d { indices } => one(g.max_pool2d_backward(indices, *x[0].shape())),
        Op::MaxPool2dBackward { indices } => one(g.max_pool2d_gather(indices, *x[0].shape())),
        Op::MaxPool2dGather { indices } => one(g.max_pool2d_backward(indices, *x[0].shape())),
        Op::ChannelAffine => {
            let (xv, w) = (&x[0], &x[1]);
            let has_bias = x.len() == 3;
            if !crate::is_grad_enabled() {
                // nothing is recorded: the same products and sums, one pass for the input
                // gradient and one for both parameter gradients
                let dx = need[0].then(|| c(g.value.channel_affine(&w.value, None)));
                let sums = (need[1] || (has_bias && need[2]))
                    .then(|| g.value.channel_affine_backward(&xv.value));
                let mut out = vec![
                    dx,
                    sums.as_ref().filter(|_| need[1]).map(|s| c(s.0.clone())),
                ];
                if has_bias {
                    out.push(sums.filter(|_| need[2]).map(|s| c(s.1)));
                }
                return Small::Many(out);
            }
            let nd = xv.ndim();
            let axes: Vec<isize> = (0..nd as isize).filter(|&a| a != 1).collect();
            let mut cs = vec![1usize; nd];
            cs[1] = w.dims()[0];
            let mut out = vec![
                need[0].then(|| g.mul(&w.reshape(cs.as_slice()))),
                need[1].then(|| g.mul(xv).sum(&axes, false)),
            ];
            if has_bias {
                out.push(need[2].then(|| g.sum(&axes, false)));
            }
            Small::Many(out)
        }
        #[cfg(test)]
        Op::MutantChannelAffine => {
            let mut r = backward(&Op::ChannelAffine, x, out, g, need);
            if crate::is_grad_enabled() {
                r[1] = r[1].take().map(|dw| dw.mul_scalar(2.0));
            }
            r
        }
        Op::Normalize { axes, eps } => {
            let ax: Vec<isize> = axes.iter().map(|&a| a as isize).collect();
            if !crate::is_grad_enabled() {
                // nothing is recorded: the same formula as one fused tensor kernel
                return one(c(g.value.normalize_backward(
                    &x[0].value,
                    &out.value,
                    &ax,
                    *eps,
                )));
            }
            // the closed form of batch/instance norm's backward; 1/σ is rebuilt from x as a Var
            // and x̂ is this node's own output, so second derivatives flow through both
            let xv = &x[0];
            let centred = xv.sub(&xv.mean(&ax, true));
            let inv_std = centred
                .square()
                .mean(&ax, true)
                .add_scalar(*eps)
                .pow_scalar(-0.5);
            let g_mean = g.mean(&ax, true);
            let gx_mean = g.mul(out).mean(&ax, true);
            one(g.sub(&g_mean).sub(&out.mul(&gx_mean)).mul(&inv_std))
        }
        Op::UpsampleNearest2d(s) => one(g.upsample_nearest2d_backward(*s)),
        Op::UpsampleNearest2dBackward(s) => one(g.upsample_nearest2d(*s)),
    }
}

/// Drops trailing rows/columns beyond `hw`: with an output_padding of at least the stride
/// (allowed when the dilation is larger), a transposed conv's output has border rows no input
/// reaches, and the conv2d that is its adjoint sees one row more.
fn crop_to(v: Var, hw: (usize, usize)) -> Var {
    let (h, w) = (v.dims()[2], v.dims()[3]);
    let v = if h > hw.0 { v.narrow(2, 0, hw.0) } else { v };
    if w > hw.1 {
        v.narrow(3, 0, hw.1)
    } else {
        v
    }
}

/// Whether a 2-D tensor is the transpose of a contiguous one (column-major, more than one
/// row and column).
fn stored_transposed(t: &Tensor) -> bool {
    let d = t.dims();
    d[0] > 1 && d[1] > 1 && t.strides()[..2] == [1, d[0]]
}

fn hw(v: &Var) -> (usize, usize) {
    (v.dims()[2], v.dims()[3])
}

/// The transposed-convolution parameters that map a conv2d output back to an input of size
/// `in_hw` (the `output_padding` absorbs the rows a strided conv dropped).
fn transpose_for(p: Conv2dParams, w: &Var, in_hw: (usize, usize)) -> ConvTranspose2dParams {
    let k = (w.dims()[2], w.dims()[3]);
    let out =
        |i: usize, k: usize, s: usize, pd: usize, d: usize| (i + 2 * pd - d * (k - 1) - 1) / s + 1;
    let back =
        |o: usize, k: usize, s: usize, pd: usize, d: usize| (o - 1) * s + d * (k - 1) + 1 - 2 * pd;
    let oh = out(in_hw.0, k.0, p.stride.0, p.padding.0, p.dilation.0);
    let ow = out(in_hw.1, k.1, p.stride.1, p.padding.1, p.dilation.1);
    let op_h = in_hw.0 - back(oh, k.0, p.stride.0, p.padding.0, p.dilation.0);
    let op_w = in_hw.1 - back(ow, k.1, p.stride.1, p.padding.1, p.dilation.1);
    ConvTranspose2dParams::new(p.stride, p.padding)
        .with_output_padding((op_h, op_w))
        .with_dilation(p.dilation)
        .with_groups(p.groups)
}
