//! Shared strategies and naive references for the tensor tests.
//!
//! Shapes have rank 0..=4 and dimensions 1..=5. Values come from a seeded [`Rng`] (the seed is
//! part of the proptest case, so a failure is reproducible), and every tensor can be built in
//! one of several memory layouts with the same logical values, so strided views go through the
//! same properties as contiguous tensors.
#![allow(dead_code)]

use minimax_tensor::{DType, Rng, Tensor};
use proptest::prelude::*;

/// Proptest config used by every property: 64 cases (the brief's minimum) keeps debug runs short.
pub fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A shape of rank 0..=4 with dimensions 1..=5.
pub fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..=5, 0..=4)
}

/// A shape of rank `lo..=hi` with dimensions 1..=5.
pub fn shape_rank(lo: usize, hi: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..=5, lo..=hi)
}

/// Two shapes that broadcast together, and their broadcast shape `(a, b, out)`. Each operand
/// is a suffix of `out` (so ranks may differ) with some dimensions replaced by 1.
pub fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>, Vec<usize>)> {
    broadcast_pair_upto(4)
}

/// Like [`broadcast_pair`], with the broadcast shape of rank at most `max_rank`.
pub fn broadcast_pair_upto(
    max_rank: usize,
) -> impl Strategy<Value = (Vec<usize>, Vec<usize>, Vec<usize>)> {
    shape_rank(0, max_rank)
        .prop_flat_map(|out| {
            let n = out.len();
            (
                Just(out),
                0..=n,
                0..=n,
                prop::collection::vec(any::<bool>(), n),
                prop::collection::vec(any::<bool>(), n),
            )
        })
        .prop_map(|(out, ra, rb, ma, mb)| {
            let n = out.len();
            let mk = |r: usize, m: &[bool]| -> Vec<usize> {
                (n - r..n).map(|i| if m[i] { 1 } else { out[i] }).collect()
            };
            let a = mk(ra, &ma);
            let b = mk(rb, &mb);
            // The broadcast of a and b may be smaller than `out` (ones everywhere in some
            // dimension, or both ranks below n): recompute it.
            let o = broadcast_ref(&a, &b).expect("compatible by construction");
            (a, b, o)
        })
}

/// NumPy broadcasting of two shapes, computed independently of the library.
pub fn broadcast_ref(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return None;
        };
    }
    Some(out)
}

/// How a tensor's elements are laid out in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `from_vec`.
    Contiguous,
    /// Stored with the dimensions reversed, then `permute`d back (strides reversed).
    Permuted,
    /// A `narrow`ed window of a larger tensor in every dimension (gaps between rows).
    Narrowed,
    /// A contiguous window starting at a non-zero offset of a larger buffer.
    Offset,
}

/// One of the layouts.
pub fn layout() -> impl Strategy<Value = Layout> {
    prop_oneof![
        Just(Layout::Contiguous),
        Just(Layout::Permuted),
        Just(Layout::Narrowed),
        Just(Layout::Offset),
    ]
}

/// Row-major strides of a shape.
pub fn strides_of(dims: &[usize]) -> Vec<usize> {
    let mut s = vec![1; dims.len()];
    for i in (0..dims.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * dims[i + 1];
    }
    s
}

/// The multi-index of row-major position `lin` in `dims`.
pub fn unravel(lin: usize, dims: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; dims.len()];
    let mut r = lin;
    for d in (0..dims.len()).rev() {
        idx[d] = r % dims[d];
        r /= dims[d];
    }
    idx
}

/// The row-major position of a multi-index.
pub fn ravel(idx: &[usize], dims: &[usize]) -> usize {
    idx.iter().zip(strides_of(dims)).map(|(i, s)| i * s).sum()
}

/// `n` values drawn from `seed`: normal(0, 2), rounded to f32 when `dtype` is f32 so the f64
/// copy is exactly what the tensor holds.
pub fn values(n: usize, seed: u64, dtype: DType) -> Vec<f64> {
    let mut r = Rng::seed(seed);
    (0..n)
        .map(|_| {
            let v = 2.0 * r.normal();
            match dtype {
                DType::F32 => v as f32 as f64,
                DType::F64 => v,
            }
        })
        .collect()
}

/// A tensor holding `vals` (row-major, logical) with shape `dims`, laid out as `layout`.
pub fn build(vals: &[f64], dims: &[usize], dtype: DType, layout: Layout) -> Tensor {
    let n: usize = dims.iter().product();
    assert_eq!(vals.len(), n);
    let junk = 1.0e30;
    let t = match layout {
        Layout::Contiguous => from_f64(vals.to_vec(), dims, dtype),
        Layout::Permuted => {
            let rev: Vec<usize> = dims.iter().rev().copied().collect();
            let mut store = vec![0.0; n];
            for (lin, &v) in vals.iter().enumerate() {
                let mut idx = unravel(lin, dims);
                idx.reverse();
                store[ravel(&idx, &rev)] = v;
            }
            let perm: Vec<usize> = (0..dims.len()).rev().collect();
            from_f64(store, &rev, dtype).permute(&perm)
        }
        Layout::Narrowed => {
            let big: Vec<usize> = dims.iter().map(|d| d + 2).collect();
            let nb: usize = big.iter().product();
            let mut store = vec![junk; nb];
            for (lin, &v) in vals.iter().enumerate() {
                let idx: Vec<usize> = unravel(lin, dims).iter().map(|i| i + 1).collect();
                store[ravel(&idx, &big)] = v;
            }
            let mut t = from_f64(store, &big, dtype);
            for (d, &len) in dims.iter().enumerate() {
                t = t.narrow(d as isize, 1, len);
            }
            t
        }
        Layout::Offset => {
            let mut store = vec![junk; 3];
            store.extend_from_slice(vals);
            store.push(junk);
            from_f64(store, &[n + 4], dtype)
                .narrow(0, 3, n)
                .reshape(dims.to_vec())
        }
    };
    assert_eq!(t.dims(), dims);
    assert_eq!(t.dtype(), dtype);
    t
}

/// A contiguous tensor of the given dtype from f64 values.
pub fn from_f64(vals: Vec<f64>, dims: &[usize], dtype: DType) -> Tensor {
    match dtype {
        DType::F32 => Tensor::from_vec(vals.iter().map(|&v| v as f32).collect::<Vec<_>>(), dims),
        DType::F64 => Tensor::from_vec(vals, dims),
    }
}

/// A tensor of shape `dims` with values from `seed`, and its values as f64.
pub fn rand_tensor(dims: &[usize], seed: u64, dtype: DType, layout: Layout) -> (Tensor, Vec<f64>) {
    let vals = values(dims.iter().product(), seed, dtype);
    (build(&vals, dims, dtype, layout), vals)
}

/// Either dtype.
pub fn dtype() -> impl Strategy<Value = DType> {
    prop_oneof![Just(DType::F32), Just(DType::F64)]
}

/// Bitwise equality, with all NaNs equal.
pub fn same_bits_f64(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Asserts two f64 slices are equal element for element (NaN == NaN), naming the first mismatch.
#[track_caller]
pub fn assert_same(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            same_bits_f64(g, w) || g == w,
            "{what}: element {i}: got {g:e}, want {w:e}"
        );
    }
}

/// Asserts `|got - want| <= atol + rtol·|want|` element for element (NaN == NaN).
#[track_caller]
pub fn assert_close(got: &[f64], want: &[f64], rtol: f64, atol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        if g.is_nan() && w.is_nan() || g == w {
            continue;
        }
        assert!(
            (g - w).abs() <= atol + rtol * w.abs(),
            "{what}: element {i}: got {g:e}, want {w:e} (diff {:e})",
            (g - w).abs()
        );
    }
}

/// Rounds an f64 reference to the tensor's dtype.
pub fn round_to(v: f64, dtype: DType) -> f64 {
    match dtype {
        DType::F32 => v as f32 as f64,
        DType::F64 => v,
    }
}

/// ⟨x, y⟩ in f64.
pub fn dot(x: &[f64], y: &[f64]) -> f64 {
    assert_eq!(x.len(), y.len());
    x.iter().zip(y).map(|(a, b)| a * b).sum()
}
