//! Matrix products: 2-D, batched, and with broadcast batch dimensions, through
//! [`crate::kernels::gemm`] with the operands' own strides (transposed views are not copied).

use crate::error::{ok, TensorError};
use crate::kernels::gemm::{gemm, gemm_uninit, MatRef};
use crate::parallel;
use crate::shape::{broadcast_shapes, Shape};
use crate::{with_dtype, Element, Tensor};
use std::mem::MaybeUninit;

impl Tensor {
    /// `x·Wᵀ + b`, PyTorch's `F.linear` for a batch of rows: `self` is `[N, in]`, `weight`
    /// `[out, in]` (read transposed in place), `bias` `[out]`; returns `[N, out]`. The bias is
    /// written first and the product added onto it by the GEMM, so no separate pass adds it.
    #[track_caller]
    pub fn linear(&self, weight: &Tensor, bias: Option<&Tensor>) -> Tensor {
        ok(self.try_linear(weight, bias))
    }

    /// Fallible [`Tensor::linear`].
    pub fn try_linear(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
    ) -> Result<Tensor, TensorError> {
        for (what, t) in [("weight", Some(weight)), ("bias", bias)] {
            if let Some(t) = t.filter(|t| t.dtype() != self.dtype()) {
                return Err(TensorError::new(format!(
                    "linear: dtype mismatch: input {} {:?} and {what} {} {:?}",
                    self.dtype(),
                    self.shape,
                    t.dtype(),
                    t.shape
                )));
            }
        }
        if self.ndim() != 2 || weight.ndim() != 2 || self.shape[1] != weight.shape[1] {
            return Err(TensorError::shapes(
                "linear",
                "expects input [N, in] and weight [out, in]",
                &self.shape,
                &weight.shape,
            ));
        }
        let (n, k, m_out) = (self.shape[0], self.shape[1], weight.shape[0]);
        if let Some(b) = bias.filter(|b| b.dims() != [m_out]) {
            return Err(TensorError::shapes(
                "linear",
                "bias must be [out]",
                &b.shape,
                &weight.shape,
            ));
        }
        let out = with_dtype!(self.dtype(), T => {
            let x = MatRef {
                data: T::slice(&self.storage).unwrap(),
                offset: self.offset,
                rs: self.strides[0] as isize,
                cs: self.strides[1] as isize,
            };
            // Wᵀ: element (i, o) of the [in, out] operand is weight[o, i]
            let wt = MatRef {
                data: T::slice(&weight.storage).unwrap(),
                offset: weight.offset,
                rs: weight.strides[1] as isize,
                cs: weight.strides[0] as isize,
            };
            let len = n * m_out;
            let mut out: Vec<T> = crate::pool::take(len);
            match bias {
                Some(b) => {
                    let b = b.contiguous();
                    let bs = b.as_slice::<T>();
                    for _ in 0..n {
                        out.extend_from_slice(bs);
                    }
                    gemm(n, k, m_out, T::ONE, x, wt, T::ONE, &mut out);
                }
                None => {
                    gemm_uninit(n, k, m_out, T::ONE, x, wt, &mut out.spare_capacity_mut()[..len]);
                    // SAFETY: gemm_uninit wrote all n·out elements.
                    unsafe { out.set_len(len) };
                }
            }
            Tensor::from_vec(out, [n, m_out])
        });
        Ok(out)
    }

    /// Matrix product with PyTorch's `matmul` rules: 1-D operands are promoted (and the added
    /// dimension removed), batch dimensions broadcast.
    #[track_caller]
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        ok(self.try_matmul(other))
    }

    /// Fallible [`Tensor::matmul`].
    pub fn try_matmul(&self, other: &Tensor) -> Result<Tensor, TensorError> {
        if self.dtype() != other.dtype() {
            return Err(TensorError::new(format!(
                "matmul: dtype mismatch: {} {:?} and {} {:?}",
                self.dtype(),
                self.shape,
                other.dtype(),
                other.shape
            )));
        }
        if self.ndim() == 0 || other.ndim() == 0 {
            return Err(TensorError::shapes(
                "matmul",
                "both operands need at least 1 dimension",
                &self.shape,
                &other.shape,
            ));
        }
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
        let (an, bn) = (a.ndim(), b.ndim());
        let (m, k) = (a.shape[an - 2], a.shape[an - 1]);
        let (k2, n) = (b.shape[bn - 2], b.shape[bn - 1]);
        if k != k2 {
            return Err(TensorError::shapes(
                "matmul",
                &format!("inner dimensions differ ({k} vs {k2})"),
                &self.shape,
                &other.shape,
            ));
        }
        let ba = Shape::new(&a.shape[..an - 2]);
        let bb = Shape::new(&b.shape[..bn - 2]);
        let batch = broadcast_shapes(&ba, &bb).ok_or_else(|| {
            TensorError::shapes(
                "matmul",
                "batch dimensions cannot be broadcast",
                &self.shape,
                &other.shape,
            )
        })?;
        let mut out_dims = batch.dims().to_vec();
        out_dims.extend_from_slice(&[m, n]);
        let mut ea_dims = batch.dims().to_vec();
        ea_dims.extend_from_slice(&[m, k]);
        let mut eb_dims = batch.dims().to_vec();
        eb_dims.extend_from_slice(&[k, n]);
        let ea = a.expand(ea_dims);
        let eb = b.expand(eb_dims);
        let nb = batch.numel();
        let nd = out_dims.len();
        let out = with_dtype!(self.dtype(), T => {
            // gemm_uninit writes every element, so the output is not zero-filled first
            let total = nb * m * n;
            let mut out: Vec<T> = crate::pool::take(total);
            let (xa, xb) = (T::slice(&ea.storage).unwrap(), T::slice(&eb.storage).unwrap());
            let offsets = |t: &Tensor, bi: usize| -> usize {
                let mut off = t.offset;
                let mut r = bi;
                for d in (0..nd - 2).rev() {
                    off += (r % batch[d]) * t.strides[d];
                    r /= batch[d];
                }
                off
            };
            let run = |bi: usize, c: &mut [MaybeUninit<T>]| {
                let am = MatRef { data: xa, offset: offsets(&ea, bi), rs: ea.strides[nd - 2] as isize, cs: ea.strides[nd - 1] as isize };
                let bm = MatRef { data: xb, offset: offsets(&eb, bi), rs: eb.strides[nd - 2] as isize, cs: eb.strides[nd - 1] as isize };
                gemm_uninit(m, k, n, T::ONE, am, bm, c);
            };
            let buf = &mut out.spare_capacity_mut()[..total];
            if nb > 1 && m * n * k * nb >= (1 << 18) {
                parallel::for_chunks_mut(buf, m * n, |bi, c| run(bi, c));
            } else if m * n > 0 {
                for (bi, c) in buf.chunks_mut(m * n).enumerate() {
                    run(bi, c);
                }
            }
            // SAFETY: each of the nb batches wrote its whole m×n block above.
            unsafe { out.set_len(total) };
            Tensor::from_vec(out, out_dims)
        });
        Ok(finish(out, self.ndim(), other.ndim()))
    }
}

/// Removes the dimensions added for 1-D operands.
fn finish(out: Tensor, a_nd: usize, b_nd: usize) -> Tensor {
    match (a_nd, b_nd) {
        (1, 1) => out.reshape(Shape::scalar()),
        (1, _) => out.squeeze(-2),
        (_, 1) => out.squeeze(-1),
        _ => out,
    }
}
