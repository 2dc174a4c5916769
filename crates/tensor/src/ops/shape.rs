//! Shape ops. Views (no copy): reshape of a contiguous tensor, permute, transpose, expand,
//! squeeze, unsqueeze, narrow. Copies: everything else.

use crate::error::{ok, TensorError};
use crate::shape::{Shape, MAX_DIMS};
use crate::{with_dtype, DType, Element, Tensor};

/// How [`Tensor::pad`] fills the border.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PadMode {
    /// A constant value.
    Constant(f64),
    /// Mirror without repeating the edge (PyTorch's `reflect`): `[a b c]` padded by 2 → `c b a b c b a`.
    Reflect,
}

/// Visits the rows (last dimension) of a padded tensor in order: for each, `f(src, (dst,
/// len))` with `src` the offset of the unpadded row it copies (`None` when the row lies in a
/// constant border) and `dst`, `len` the padded row's offset and length. Index arithmetic is
/// done once per row, not per element. (Padding of the last two dimensions only, the common
/// case, goes through [`pad_planes`] instead.)
fn pad_rows(
    in_dims: &[usize],
    full: &[(usize, usize)],
    reflect: bool,
    mut f: impl FnMut(Option<usize>, (usize, usize)),
) {
    let nd = in_dims.len();
    let out_dims: Vec<usize> = (0..nd)
        .map(|d| in_dims[d] + full[d].0 + full[d].1)
        .collect();
    let len = out_dims[nd - 1];
    let rows: usize = out_dims[..nd - 1].iter().product();
    let mut idx = vec![0usize; nd - 1];
    for r in 0..rows {
        let mut off = 0usize;
        let mut inside = true;
        for d in 0..nd - 1 {
            let i = idx[d] as isize - full[d].0 as isize;
            let i = if i >= 0 && (i as usize) < in_dims[d] {
                i as usize
            } else if reflect {
                reflect_near(i, in_dims[d])
            } else {
                inside = false;
                0
            };
            off = off * in_dims[d] + i;
        }
        f(inside.then_some(off * in_dims[nd - 1]), (r * len, len));
        for d in (0..nd - 1).rev() {
            idx[d] += 1;
            if idx[d] < out_dims[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

/// One padded row: `row` copied into the middle of `out`, the borders reflected (or left as
/// they are, the constant fill, when `reflect` is false).
fn row_pad<T: Copy>(row: &[T], out: &mut [T], (pl, _pr): (usize, usize), reflect: bool) {
    let w = row.len();
    out[pl..pl + w].copy_from_slice(row);
    if reflect {
        for j in (0..pl).chain(pl + w..out.len()) {
            out[j] = row[reflect_near(j as isize - pl as isize, w)];
        }
    }
}

/// [`reflect_index`] for an index at most `n − 1` outside `0..n` (what reflect padding, whose
/// pads are smaller than the dimension, produces): one comparison instead of a division.
#[inline]
fn reflect_near(i: isize, n: usize) -> usize {
    let n = n as isize;
    let j = if i < 0 {
        -i
    } else if i >= n {
        2 * (n - 1) - i
    } else {
        i
    };
    debug_assert!(
        (0..n).contains(&j),
        "reflect_near: {i} is too far outside 0..{n}"
    );
    j as usize
}

/// Elements from which padding and its adjoint run on several threads (planes split between
/// them): the elementwise threshold, under which a residual block's padded 64 × 64 × 6 × 6
/// activations (147 K elements) are split.
const PAD_PAR_THRESHOLD: usize = crate::parallel::PAR_THRESHOLD;

/// Where each padded position along one dimension reads: `Some(i)` for element `i` of the
/// unpadded dimension of size `n` (mirrored in a reflected border), `None` in a constant border.
fn pad_sources(n: usize, (before, after): (usize, usize), reflect: bool) -> Vec<Option<usize>> {
    (0..n + before + after)
        .map(|o| {
            let i = o as isize - before as isize;
            if i >= 0 && (i as usize) < n {
                Some(i as usize)
            } else if reflect {
                Some(reflect_near(i, n))
            } else {
                None
            }
        })
        .collect()
}

/// The padding of `outer` planes of `h × w` (the unpadded leading dimensions taken as one):
/// each padded row is gathered through the two source maps (its middle, from column `pl` on,
/// copied), planes in parallel chunks for large tensors. Every element is written once
/// (borders with `fill` in constant mode).
fn pad_planes<T: Element>(
    s: &[T],
    outer: usize,
    (h, w): (usize, usize),
    (rows, cols): (&[Option<usize>], &[Option<usize>]),
    pl: usize,
    fill: T,
) -> Vec<T> {
    let (oh, ow) = (rows.len(), cols.len());
    let plane = oh * ow;
    let n = outer * plane;
    let mut v = crate::pool::take(n);
    if plane > 0 {
        let chunk = (crate::parallel::CHUNK / plane).max(1) * plane;
        crate::parallel::for_chunks_mut_if(
            n >= PAD_PAR_THRESHOLD,
            &mut v.spare_capacity_mut()[..n],
            chunk,
            |ci, o| {
                let p0 = ci * chunk / plane;
                for (k, op) in o.chunks_mut(plane).enumerate() {
                    let src = &s[(p0 + k) * h * w..][..h * w];
                    for (orow, r) in op.chunks_mut(ow).zip(rows) {
                        match r {
                            Some(y) => {
                                let row = &src[y * w..][..w];
                                // the borders through the map, the middle copied
                                let (left, rest) = orow.split_at_mut(pl);
                                let (mid, right) = rest.split_at_mut(w);
                                for (e, c) in left.iter_mut().zip(cols) {
                                    e.write(c.map_or(fill, |x| row[x]));
                                }
                                for (e, &v) in mid.iter_mut().zip(row) {
                                    e.write(v);
                                }
                                for (e, c) in right.iter_mut().zip(&cols[pl + w..]) {
                                    e.write(c.map_or(fill, |x| row[x]));
                                }
                            }
                            None => {
                                for e in orow {
                                    e.write(fill);
                                }
                            }
                        }
                    }
                }
            },
        );
    }
    // SAFETY: the chunks cover 0..n and every element of each was written above.
    unsafe { v.set_len(n) };
    v
}

/// The adjoint of [`pad_planes`] with reflection: each padded plane of the gradient `g` is
/// added back onto the `h × w` plane it was gathered from, elements in row order (the same
/// order, hence the same bits, on any number of threads).
fn unpad_planes<T: Element>(
    g: &[T],
    outer: usize,
    (h, w): (usize, usize),
    (rows, cols): (&[Option<usize>], &[Option<usize>]),
) -> Vec<T> {
    let (oh, ow) = (rows.len(), cols.len());
    let plane = h * w;
    let mut out = crate::pool::filled(outer * plane, T::ZERO);
    if plane > 0 {
        let chunk = (crate::parallel::CHUNK / plane).max(1) * plane;
        crate::parallel::for_chunks_mut_if(
            outer * oh * ow >= PAD_PAR_THRESHOLD,
            &mut out,
            chunk,
            |ci, o| {
                let p0 = ci * chunk / plane;
                for (k, ip) in o.chunks_mut(plane).enumerate() {
                    let src = &g[(p0 + k) * oh * ow..][..oh * ow];
                    for (grow, r) in src.chunks(ow).zip(rows) {
                        let y = r.expect("reflect padding reads every row");
                        let row = &mut ip[y * w..][..w];
                        for (&v, c) in grow.iter().zip(cols) {
                            row[c.expect("reflect padding reads every column")] += v;
                        }
                    }
                }
            },
        );
    }
    out
}

/// `(outer, (h, w), (pt, pb), (pl, pr))` when only the last two dimensions are padded (or only
/// the last, then `h = 1`): the plane form [`pad_planes`] works on.
#[allow(clippy::type_complexity)]
fn plane_form(
    in_dims: &[usize],
    full: &[(usize, usize)],
) -> Option<(usize, (usize, usize), (usize, usize), (usize, usize))> {
    let nd = in_dims.len();
    let lead = (0..nd - 1).take_while(|&d| full[d] == (0, 0)).count();
    if lead + 2 < nd {
        return None;
    }
    let outer: usize = in_dims[..lead].iter().product();
    let (h, vert) = if lead == nd - 1 {
        (1, (0, 0))
    } else {
        (in_dims[nd - 2], full[nd - 2])
    };
    Some((outer, (h, in_dims[nd - 1]), vert, full[nd - 1]))
}

impl Tensor {
    /// A tensor with the same elements in a new shape (a view when contiguous).
    #[track_caller]
    pub fn reshape(&self, shape: impl Into<Shape>) -> Tensor {
        ok(self.try_reshape(shape))
    }

    /// Fallible [`Tensor::reshape`].
    pub fn try_reshape(&self, shape: impl Into<Shape>) -> Result<Tensor, TensorError> {
        let shape = shape.into();
        if shape.numel() != self.numel() {
            return Err(TensorError::new(format!(
                "reshape: cannot reshape {:?} ({} elements) into {:?} ({} elements)",
                self.shape,
                self.numel(),
                shape,
                shape.numel()
            )));
        }
        let c = self.contiguous();
        Ok(Tensor::from_parts(
            c.storage,
            shape,
            shape.contiguous_strides(),
            c.offset,
        ))
    }

    /// Merges dimensions `start..=end` into one.
    #[track_caller]
    pub fn flatten(&self, start: isize, end: isize) -> Tensor {
        if self.ndim() == 0 {
            return self.reshape([1]);
        }
        let (s, e) = (
            self.shape.axis(start, "flatten"),
            self.shape.axis(end, "flatten"),
        );
        assert!(
            s <= e,
            "flatten: start {start} is after end {end} for shape {:?}",
            self.shape
        );
        let mut d: Vec<usize> = self.dims()[..s].to_vec();
        d.push(self.dims()[s..=e].iter().product());
        d.extend_from_slice(&self.dims()[e + 1..]);
        self.reshape(d)
    }

    /// Reorders dimensions (a view): output dim `i` is input dim `perm[i]`.
    #[track_caller]
    pub fn permute(&self, perm: &[usize]) -> Tensor {
        let nd = self.ndim();
        let mut seen = [false; MAX_DIMS];
        let valid = perm.len() == nd
            && perm
                .iter()
                .all(|&p| p < nd && !std::mem::replace(&mut seen[p], true));
        assert!(
            valid,
            "permute: {:?} is not a permutation of the {} dimensions of shape {:?}",
            perm, nd, self.shape
        );
        let mut shape = [0usize; MAX_DIMS];
        let mut strides = [0usize; MAX_DIMS];
        for (i, &p) in perm.iter().enumerate() {
            shape[i] = self.shape[p];
            strides[i] = self.strides[p];
        }
        Tensor::from_parts(
            self.storage.clone(),
            Shape::new(&shape[..nd]),
            strides,
            self.offset,
        )
    }

    /// Swaps two dimensions (a view).
    #[track_caller]
    pub fn transpose(&self, a: isize, b: isize) -> Tensor {
        let (a, b) = (
            self.shape.axis(a, "transpose"),
            self.shape.axis(b, "transpose"),
        );
        let mut perm: Vec<usize> = (0..self.ndim()).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }

    /// Transpose of a 2-D tensor (a view).
    #[track_caller]
    pub fn t(&self) -> Tensor {
        assert!(
            self.ndim() == 2,
            "t: expects a 2-D tensor, got shape {:?}",
            self.shape
        );
        self.transpose(0, 1)
    }

    /// Broadcasts to `shape` (a read-only view with stride 0 on broadcast dimensions).
    #[track_caller]
    pub fn expand(&self, shape: impl Into<Shape>) -> Tensor {
        ok(self.try_expand(shape))
    }

    /// Fallible [`Tensor::expand`].
    pub fn try_expand(&self, shape: impl Into<Shape>) -> Result<Tensor, TensorError> {
        let shape = shape.into();
        if shape == self.shape {
            return Ok(self.clone());
        }
        let (n, m) = (shape.ndim(), self.ndim());
        let err = || TensorError::shapes("expand", "cannot broadcast", &self.shape, &shape);
        if m > n {
            return Err(err());
        }
        let mut strides = [0usize; MAX_DIMS];
        for i in 0..n {
            if i < n - m {
                continue;
            }
            let j = i - (n - m);
            if self.shape[j] == shape[i] {
                strides[i] = self.strides[j];
            } else if self.shape[j] == 1 {
                strides[i] = 0;
            } else {
                return Err(err());
            }
        }
        Ok(Tensor::from_parts(
            self.storage.clone(),
            shape,
            strides,
            self.offset,
        ))
    }

    /// Same as [`Tensor::expand`] (NumPy's name).
    #[track_caller]
    pub fn broadcast_to(&self, shape: impl Into<Shape>) -> Tensor {
        self.expand(shape)
    }

    /// Removes dimension `axis`, which must have size 1 (a view).
    #[track_caller]
    pub fn squeeze(&self, axis: isize) -> Tensor {
        let a = self.shape.axis(axis, "squeeze");
        assert!(
            self.shape[a] == 1,
            "squeeze: dimension {a} of shape {:?} has size {}, not 1",
            self.shape,
            self.shape[a]
        );
        let mut d = self.dims().to_vec();
        let mut s = self.strides().to_vec();
        d.remove(a);
        s.remove(a);
        let mut st = [0usize; MAX_DIMS];
        st[..s.len()].copy_from_slice(&s);
        Tensor::from_parts(self.storage.clone(), Shape::new(&d), st, self.offset)
    }

    /// Inserts a dimension of size 1 at `axis` (0..=ndim; negative counts from the end) (a view).
    #[track_caller]
    pub fn unsqueeze(&self, axis: isize) -> Tensor {
        let n = self.ndim() as isize + 1;
        let a = if axis < 0 { axis + n } else { axis };
        assert!(
            (0..n).contains(&a),
            "unsqueeze: axis {axis} is out of range for shape {:?}",
            self.shape
        );
        let a = a as usize;
        let mut d = self.dims().to_vec();
        let mut s = self.strides().to_vec();
        let inner = if a < self.ndim() {
            self.strides[a] * self.shape[a]
        } else {
            1
        };
        d.insert(a, 1);
        s.insert(a, inner);
        let mut st = [0usize; MAX_DIMS];
        st[..s.len()].copy_from_slice(&s);
        Tensor::from_parts(self.storage.clone(), Shape::new(&d), st, self.offset)
    }

    /// Elements `start..start+len` along `axis` (a view).
    #[track_caller]
    pub fn narrow(&self, axis: isize, start: usize, len: usize) -> Tensor {
        let a = self.shape.axis(axis, "narrow");
        assert!(
            start + len <= self.shape[a],
            "narrow: range {}..{} is out of bounds for dimension {} of shape {:?}",
            start,
            start + len,
            a,
            self.shape
        );
        Tensor::from_parts(
            self.storage.clone(),
            self.shape.with(a, len),
            self.strides,
            self.offset + start * self.strides[a],
        )
    }

    /// Selects the given indices along `axis` (a copy).
    #[track_caller]
    pub fn index_select(&self, axis: isize, indices: &[usize]) -> Tensor {
        let a = self.shape.axis(axis, "index_select");
        for &i in indices {
            assert!(
                i < self.shape[a],
                "index_select: index {i} is out of bounds for dimension {a} of shape {:?}",
                self.shape
            );
        }
        let parts: Vec<Tensor> = indices
            .iter()
            .map(|&i| self.narrow(a as isize, i, 1))
            .collect();
        if parts.is_empty() {
            return Tensor::zeros(self.shape.with(a, 0), self.dtype());
        }
        Tensor::cat(&parts.iter().collect::<Vec<_>>(), a as isize)
    }

    /// Adds the slices of `src` (whose dimension `axis` has `indices.len()` entries) into a
    /// zero tensor of `shape` at `indices` along `axis` — the adjoint of [`Tensor::index_select`].
    #[track_caller]
    pub fn index_add(
        shape: impl Into<Shape>,
        axis: isize,
        indices: &[usize],
        src: &Tensor,
    ) -> Tensor {
        let shape = shape.into();
        let a = shape.axis(axis, "index_add");
        assert!(
            src.ndim() == shape.ndim()
                && (0..shape.ndim())
                    .all(|d| src.shape[d] == if d == a { indices.len() } else { shape[d] }),
            "index_add: src {:?} does not match shape {:?} with {} indices along axis {a}",
            src.shape,
            shape,
            indices.len()
        );
        for &i in indices {
            assert!(
                i < shape[a],
                "index_add: index {i} is out of bounds for dimension {a} of shape {shape:?}"
            );
        }
        let outer: usize = shape[..a].iter().product();
        let inner: usize = shape[a + 1..].iter().product();
        let src = src.contiguous();
        with_dtype!(src.dtype(), T => {
            let s = src.as_slice::<T>();
            let mut out = crate::pool::filled(shape.numel(), T::ZERO);
            let (n, k) = (shape[a], indices.len());
            for o in 0..outer {
                for (j, &i) in indices.iter().enumerate() {
                    let dst = &mut out[(o * n + i) * inner..(o * n + i + 1) * inner];
                    let sr = &s[(o * k + j) * inner..(o * k + j + 1) * inner];
                    for (d, &x) in dst.iter_mut().zip(sr) {
                        *d += x;
                    }
                }
            }
            Tensor::from_vec(out, shape)
        })
    }

    /// `out[..., i, ...] = self[..., index[..., i, ...], ...]` along `axis` (PyTorch's `gather`).
    /// `index` holds integral values (any dtype) and has the shape of the output; other
    /// dimensions must not exceed `self`'s.
    #[track_caller]
    pub fn gather(&self, axis: isize, index: &Tensor) -> Tensor {
        let a = self.shape.axis(axis, "gather");
        assert!(
            index.ndim() == self.ndim(),
            "gather: index shape {:?} must have as many dimensions as input {:?}",
            index.shape,
            self.shape
        );
        let idx = index.to_vec_f64();
        let x = self.contiguous();
        let xs = self.shape.contiguous_strides();
        let os = index.shape.contiguous_strides();
        let nd = self.ndim();
        with_dtype!(self.dtype(), T => {
            let s = x.as_slice::<T>();
            let mut out = crate::pool::take(idx.len());
            for (lin, &v) in idx.iter().enumerate() {
                let mut off = 0;
                for d in 0..nd {
                    let c = (lin / os[d]) % index.shape[d];
                    let c = if d == a {
                        assert!(v >= 0.0 && v.fract() == 0.0 && (v as usize) < self.shape[a], "gather: index value {v} is not a valid index into dimension {a} of size {}", self.shape[a]);
                        v as usize
                    } else {
                        assert!(c < self.shape[d], "gather: index shape {:?} exceeds input shape {:?} in dimension {d}", index.shape, self.shape);
                        c
                    };
                    off += c * xs[d];
                }
                out.push(s[off]);
            }
            Tensor::from_vec(out, index.shape)
        })
    }

    /// Adds `src` into a zero tensor of `shape` at the positions `index` names along `axis` —
    /// the adjoint of [`Tensor::gather`].
    #[track_caller]
    pub fn scatter_add(
        shape: impl Into<Shape>,
        axis: isize,
        index: &Tensor,
        src: &Tensor,
    ) -> Tensor {
        let shape = shape.into();
        let a = shape.axis(axis, "scatter_add");
        assert!(
            index.shape == src.shape,
            "scatter_add: index shape {:?} and src shape {:?} differ",
            index.shape,
            src.shape
        );
        assert!(
            index.ndim() == shape.ndim(),
            "scatter_add: index shape {:?} must have as many dimensions as shape {:?}",
            index.shape,
            shape
        );
        let idx = index.to_vec_f64();
        for &v in &idx {
            assert!(
                v >= 0.0 && v.fract() == 0.0 && (v as usize) < shape[a],
                "scatter_add: index value {v} is not a valid index into dimension {a} of size {}",
                shape[a]
            );
        }
        let xs = shape.contiguous_strides();
        let os = index.shape.contiguous_strides();
        let src = src.contiguous();
        with_dtype!(src.dtype(), T => {
            let s = src.as_slice::<T>();
            let mut out = crate::pool::filled(shape.numel(), T::ZERO);
            for (lin, &v) in idx.iter().enumerate() {
                let mut off = 0;
                for d in 0..shape.ndim() {
                    let c = if d == a { v as usize } else { (lin / os[d]) % index.shape[d] };
                    assert!(c < shape[d], "scatter_add: position {c} out of bounds for dimension {d} of {:?}", shape);
                    off += c * xs[d];
                }
                out[off] += s[lin];
            }
            Tensor::from_vec(out, shape)
        })
    }

    /// One-hot rows: `out[i, classes[i]] = 1`.
    #[track_caller]
    pub fn one_hot(classes: &[usize], num_classes: usize, dtype: DType) -> Tensor {
        with_dtype!(dtype, T => {
            let mut v = vec![T::ZERO; classes.len() * num_classes];
            for (i, &c) in classes.iter().enumerate() {
                assert!(c < num_classes, "one_hot: class {c} is out of range for {num_classes} classes");
                v[i * num_classes + c] = T::ONE;
            }
            Tensor::from_vec(v, [classes.len(), num_classes])
        })
    }

    /// Concatenates tensors along `axis`; all other dimensions must match.
    #[track_caller]
    pub fn cat(tensors: &[&Tensor], axis: isize) -> Tensor {
        ok(Tensor::try_cat(tensors, axis))
    }

    /// Fallible [`Tensor::cat`].
    pub fn try_cat(tensors: &[&Tensor], axis: isize) -> Result<Tensor, TensorError> {
        let first = tensors
            .first()
            .ok_or_else(|| TensorError::new("cat: expects at least one tensor"))?;
        let nd = first.ndim();
        if nd == 0 {
            return Err(TensorError::new(
                "cat: cannot concatenate 0-dimensional tensors (unsqueeze them first)",
            ));
        }
        let n = nd as isize;
        let a = if axis < 0 { axis + n } else { axis };
        if a < 0 || a >= n {
            return Err(TensorError::new(format!(
                "cat: axis {axis} is out of range for shape {:?}",
                first.shape
            )));
        }
        let a = a as usize;
        let mut total = 0;
        for t in tensors {
            if t.dtype() != first.dtype() {
                return Err(TensorError::dtypes("cat", first.dtype(), t.dtype()));
            }
            if t.ndim() != nd || (0..nd).any(|d| d != a && t.shape[d] != first.shape[d]) {
                return Err(TensorError::shapes(
                    "cat",
                    &format!("shapes must match except in dimension {a}"),
                    &first.shape,
                    &t.shape,
                ));
            }
            total += t.shape[a];
        }
        let out_shape = first.shape.with(a, total);
        let outer: usize = first.shape[..a].iter().product();
        let inner: usize = first.shape[a + 1..].iter().product();
        Ok(with_dtype!(first.dtype(), T => {
            let cs: Vec<Tensor> = tensors.iter().map(|t| t.contiguous()).collect();
            let mut out: Vec<T> = crate::pool::take(out_shape.numel());
            for o in 0..outer {
                for c in &cs {
                    let len = c.shape[a] * inner;
                    out.extend_from_slice(&c.as_slice::<T>()[o * len..(o + 1) * len]);
                }
            }
            Tensor::from_vec(out, out_shape)
        }))
    }

    /// Stacks equal-shaped tensors along a new dimension `axis`.
    #[track_caller]
    pub fn stack(tensors: &[&Tensor], axis: isize) -> Tensor {
        // a loop, not a closure, so an axis error is reported at the caller's line
        let mut us = Vec::with_capacity(tensors.len());
        for t in tensors {
            us.push(t.unsqueeze(axis));
        }
        Tensor::cat(&us.iter().collect::<Vec<_>>(), axis)
    }

    /// Splits along `axis` into pieces of the given sizes (views), which must sum to the dimension.
    #[track_caller]
    pub fn split(&self, axis: isize, sizes: &[usize]) -> Vec<Tensor> {
        let a = self.shape.axis(axis, "split");
        assert!(
            sizes.iter().sum::<usize>() == self.shape[a],
            "split: sizes {:?} do not sum to dimension {a} of shape {:?}",
            sizes,
            self.shape
        );
        let mut start = 0;
        sizes
            .iter()
            .map(|&s| {
                let t = self.narrow(a as isize, start, s);
                start += s;
                t
            })
            .collect()
    }

    /// Pads the last `pads.len()` dimensions: `pads[i] = (before, after)` for dimension
    /// `ndim - pads.len() + i`. Reflect padding needs `before, after < size` of that dimension.
    #[track_caller]
    pub fn pad(&self, pads: &[(usize, usize)], mode: PadMode) -> Tensor {
        let nd = self.ndim();
        assert!(
            pads.len() <= nd,
            "pad: {} (before, after) pairs given for shape {:?}",
            pads.len(),
            self.shape
        );
        if nd == 0 {
            return self.clone();
        }
        let first = nd - pads.len();
        let mut full = vec![(0usize, 0usize); nd];
        full[first..].copy_from_slice(pads);
        let out_dims: Vec<usize> = (0..nd)
            .map(|d| self.shape[d] + full[d].0 + full[d].1)
            .collect();
        let out_shape = Shape::new(&out_dims);
        if let PadMode::Reflect = mode {
            for d in first..nd {
                assert!(
                    full[d].0 < self.shape[d] && full[d].1 < self.shape[d],
                    "pad: reflect padding ({}, {}) must be smaller than dimension {d} of shape {:?}",
                    full[d].0,
                    full[d].1,
                    self.shape
                );
            }
        }
        let x = self.contiguous();
        let in_dims: Vec<usize> = (0..nd).map(|d| self.shape[d]).collect();
        let reflect = matches!(mode, PadMode::Reflect);
        if let Some((outer, (h, w), vert, horiz)) = plane_form(&in_dims, &full) {
            let rows = pad_sources(h, vert, reflect);
            let cols = pad_sources(w, horiz, reflect);
            return with_dtype!(self.dtype(), T => {
                let fill = match mode { PadMode::Constant(v) => T::from_f64(v), PadMode::Reflect => T::ZERO };
                let out = pad_planes(x.as_slice::<T>(), outer, (h, w), (&rows, &cols), horiz.0, fill);
                Tensor::from_vec(out, out_shape)
            });
        }
        with_dtype!(self.dtype(), T => {
            let s = x.as_slice::<T>();
            let fill = match mode { PadMode::Constant(v) => T::from_f64(v), PadMode::Reflect => T::ZERO };
            let mut out = crate::pool::filled(out_shape.numel(), fill);
            pad_rows(&in_dims, &full, reflect, |src, dst| {
                let o = &mut out[dst.0..dst.0 + dst.1];
                if let Some(src) = src {
                    let row = &s[src..src + in_dims[nd - 1]];
                    row_pad(row, o, full[nd - 1], reflect);
                }
            });
            Tensor::from_vec(out, out_shape)
        })
    }

    /// The adjoint of reflect padding: folds a padded gradient of shape `self` back onto the
    /// unpadded `shape`, adding each mirrored element to the element it copied.
    #[track_caller]
    pub fn pad_reflect_adjoint(&self, pads: &[(usize, usize)], shape: impl Into<Shape>) -> Tensor {
        let shape = shape.into();
        let nd = shape.ndim();
        let first = nd - pads.len();
        let mut full = vec![(0usize, 0usize); nd];
        full[first..].copy_from_slice(pads);
        let g = self.contiguous();
        let in_dims: Vec<usize> = (0..nd).map(|d| shape[d]).collect();
        if let Some((outer, (h, w), vert, horiz)) = plane_form(&in_dims, &full) {
            let rows = pad_sources(h, vert, true);
            let cols = pad_sources(w, horiz, true);
            return with_dtype!(self.dtype(), T => {
                let out = unpad_planes(g.as_slice::<T>(), outer, (h, w), (&rows, &cols));
                Tensor::from_vec(out, shape)
            });
        }
        with_dtype!(self.dtype(), T => {
            let s = g.as_slice::<T>();
            let mut out = crate::pool::filled(shape.numel(), T::ZERO);
            let w = in_dims[nd - 1];
            let (pl, _) = full[nd - 1];
            pad_rows(&in_dims, &full, true, |src, dst| {
                let src = src.expect("reflect padding reads every output row");
                let grow = &s[dst.0..dst.0 + dst.1];
                let orow = &mut out[src..src + w];
                for (j, &v) in grow.iter().enumerate() {
                    let i = j as isize - pl as isize;
                    let i = if i >= 0 && (i as usize) < w { i as usize } else { reflect_near(i, w) };
                    orow[i] += v;
                }
            });
            Tensor::from_vec(out, shape)
        })
    }

    /// Reverses the order of elements along each of `axes`.
    #[track_caller]
    pub fn flip(&self, axes: &[isize]) -> Tensor {
        let nd = self.ndim();
        let mut fl = [false; MAX_DIMS];
        for &a in axes {
            fl[self.shape.axis(a, "flip")] = true;
        }
        let x = self.contiguous();
        let st = self.shape.contiguous_strides();
        with_dtype!(self.dtype(), T => {
            let s = x.as_slice::<T>();
            let out: Vec<T> = (0..self.numel())
                .map(|lin| {
                    let mut off = 0;
                    for d in 0..nd {
                        let c = (lin / st[d]) % self.shape[d];
                        let c = if fl[d] { self.shape[d] - 1 - c } else { c };
                        off += c * st[d];
                    }
                    s[off]
                })
                .collect();
            Tensor::from_vec(out, self.shape)
        })
    }

    /// Tiles the tensor `reps[d]` times along each dimension (PyTorch's `repeat`; `reps` may
    /// have more entries than dimensions, adding leading ones).
    #[track_caller]
    pub fn repeat(&self, reps: &[usize]) -> Tensor {
        assert!(
            reps.len() >= self.ndim(),
            "repeat: {} repetitions given for shape {:?}; need at least {}",
            reps.len(),
            self.shape,
            self.ndim()
        );
        let mut d = vec![1usize; reps.len() - self.ndim()];
        d.extend_from_slice(self.dims());
        let out_dims: Vec<usize> = reps.iter().zip(&d).map(|(r, di)| r * di).collect();
        let out_shape = Shape::new(&out_dims);
        // output element (.., c_k, ..) copies input element (.., c_k mod d_k, ..)
        let x = self.contiguous();
        let st = Shape::new(&d).contiguous_strides();
        let ost = out_shape.contiguous_strides();
        with_dtype!(self.dtype(), T => {
            let s = x.as_slice::<T>();
            let out: Vec<T> = (0..out_shape.numel())
                .map(|lin| {
                    let mut off = 0;
                    for k in 0..d.len() {
                        let c = (lin / ost[k]) % out_dims[k];
                        off += (c % d[k]) * st[k];
                    }
                    s[off]
                })
                .collect();
            Tensor::from_vec(out, out_shape)
        })
    }
}
