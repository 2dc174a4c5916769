//! Proptest strategies for property-testing ops and modules the way minimax tests its own
//! (enable the `testing` feature).
//!
//! ```ignore
//! use minimax_autograd::testing::*;
//! proptest::proptest! {
//!     #[test]
//!     fn my_op_gradient(x in tensor_away_from_kinks(shape(1..=3, 1..=4), 0.1)) {
//!         let r = minimax_autograd::gradcheck(&|v| my_op(&v[0]), &[x], Default::default());
//!         proptest::prop_assert!(r.is_ok(), "{}", r.unwrap_err());
//!     }
//! }
//! ```

use proptest::prelude::*;
use tensor::{Shape, Tensor};

/// Number of cases per property: 64 by default, `MINIMAX_PROPTEST_CASES` to change it.
pub fn cases() -> u32 {
    std::env::var("MINIMAX_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64)
}

/// A proptest config with [`cases`] cases.
pub fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        ..ProptestConfig::default()
    }
}

/// Shapes with a rank in `ranks` and each dimension in `dims`.
pub fn shape(
    ranks: std::ops::RangeInclusive<usize>,
    dims: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = Shape> {
    ranks.prop_flat_map(move |r| {
        proptest::collection::vec(dims.clone(), r).prop_map(|d| Shape::new(&d))
    })
}

/// Two shapes that broadcast together: a base shape, and a second one made by dropping some
/// leading dimensions and setting some of the rest to 1 (randomly on either side).
pub fn broadcast_pair(
    ranks: std::ops::RangeInclusive<usize>,
    dims: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = (Shape, Shape)> {
    shape(ranks, dims)
        .prop_flat_map(|s| {
            let n = s.ndim();
            (
                Just(s),
                0..=n,
                proptest::collection::vec(any::<bool>(), n),
                any::<bool>(),
            )
        })
        .prop_map(|(s, drop, ones, swap)| {
            let mut d: Vec<usize> = s.dims()[drop..].to_vec();
            for (i, x) in d.iter_mut().enumerate() {
                if ones[drop + i] {
                    *x = 1;
                }
            }
            let b = Shape::new(&d);
            if swap {
                (b, s)
            } else {
                (s, b)
            }
        })
}

/// f64 tensors of the given shapes with values in `[lo, hi]`.
pub fn tensor_in(
    shape: impl Strategy<Value = Shape>,
    lo: f64,
    hi: f64,
) -> impl Strategy<Value = Tensor> {
    shape.prop_flat_map(move |s| {
        proptest::collection::vec(lo..=hi, s.numel()).prop_map(move |v| Tensor::from_vec(v, s))
    })
}

/// f64 tensors in [-2, 2] with every |x| ≥ `margin` (away from the kink of relu, abs, …) —
/// finite differences across a kink are meaningless.
pub fn tensor_away_from_kinks(
    shape: impl Strategy<Value = Shape>,
    margin: f64,
) -> impl Strategy<Value = Tensor> {
    shape.prop_flat_map(move |s| {
        proptest::collection::vec((margin..=2.0f64, any::<bool>()), s.numel()).prop_map(move |v| {
            Tensor::from_vec(
                v.into_iter()
                    .map(|(x, neg)| if neg { -x } else { x })
                    .collect::<Vec<f64>>(),
                s,
            )
        })
    })
}

/// Strictly positive f64 tensors in [`lo`, 3] (for log, sqrt, pow bases), `lo > 0`.
pub fn positive_tensor(
    shape: impl Strategy<Value = Shape>,
    lo: f64,
) -> impl Strategy<Value = Tensor> {
    tensor_in(shape, lo, 3.0)
}

/// Pairs of f64 tensors whose elements differ by at least `margin` everywhere (for maximum,
/// minimum and comparisons, where ties are kinks), of broadcast-compatible shapes.
pub fn separated_pair(
    pair: impl Strategy<Value = (Shape, Shape)>,
    margin: f64,
) -> impl Strategy<Value = (Tensor, Tensor)> {
    pair.prop_flat_map(move |(a, b)| (tensor_in(Just(a), -2.0, 2.0), tensor_in(Just(b), -2.0, 2.0)))
        .prop_filter("elements too close", move |(a, b)| {
            let d = a.sub(b).abs();
            d.to_vec_f64().iter().all(|&x| x >= margin)
        })
}
