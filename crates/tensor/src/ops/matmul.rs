//! Matrix products: 2-D, batched, and with broadcast batch dimensions, through
//! [`crate::kernels::gemm`] with the operands' own strides (transposed views are not copied).

use crate::error::{ok, TensorError};
use crate::kernels::gemm::{gemm_uninit, MatRef};
use crate::parallel;
use crate::shape::{broadcast_shapes, Shape};
use crate::{with_dtype, Element, Tensor};
use std::mem::MaybeUninit;

impl Tensor {
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
