//! Shape ops: views (reshape, flatten, permute, transpose, expand, squeeze, unsqueeze, narrow),
//! copies (index_select, gather, one_hot, cat, stack, split, pad, flip, repeat) against index
//! arithmetic, and the adjoint pairs used by autograd (index_select/index_add,
//! gather/scatter_add, reflect pad/pad_reflect_adjoint).

mod common;

use common::*;
use minimax_tensor::{DType, PadMode, Tensor};
use proptest::prelude::*;

/// A tensor with values from `seed` in a random layout, with its dims and row-major values.
fn arb_tensor(
    shape: impl Strategy<Value = Vec<usize>>,
) -> impl Strategy<Value = (Tensor, Vec<usize>, Vec<f64>)> {
    (shape, layout(), dtype(), any::<u64>()).prop_map(|(d, l, dt, seed)| {
        let (t, v) = rand_tensor(&d, seed, dt, l);
        (t, d, v)
    })
}

/// A random permutation of `0..n`.
fn perm(n: usize) -> impl Strategy<Value = Vec<usize>> {
    Just((0..n).collect::<Vec<usize>>()).prop_shuffle()
}

/// The value of `x` (row-major values `v`, shape `d`) at a multi-index.
fn at(v: &[f64], d: &[usize], idx: &[usize]) -> f64 {
    v[ravel(idx, d)]
}

/// Builds the expected row-major values of an output of shape `od` by mapping each output
/// index to a value.
fn expect(od: &[usize], f: impl Fn(&[usize]) -> f64) -> Vec<f64> {
    (0..od.iter().product())
        .map(|lin| f(&unravel(lin, od)))
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn reshape_and_flatten_keep_row_major_order(
        (x, d, v) in arb_tensor(shape()),
        order in perm(4),
        merges in prop::collection::vec(any::<bool>(), 4),
    ) {
        // target: the dims in another order, with some neighbours merged
        let dims: Vec<usize> = order.iter().filter(|&&i| i < d.len()).map(|&i| d[i]).collect();
        let mut target: Vec<usize> = Vec::new();
        for (i, k) in dims.into_iter().enumerate() {
            if merges[i] && !target.is_empty() {
                *target.last_mut().unwrap() *= k;
            } else {
                target.push(k);
            }
        }
        let r = x.reshape(target.clone());
        prop_assert_eq!(r.dims(), &target[..]);
        prop_assert_eq!(r.to_vec_f64(), v.clone());
        if x.is_contiguous() {
            prop_assert!(r.shares_storage(&x), "reshape of a contiguous tensor is a view");
        }
        if !d.is_empty() {
            let nd = d.len() as isize;
            let f = x.flatten(0, -1);
            prop_assert_eq!(f.dims(), &[v.len()][..]);
            prop_assert_eq!(f.to_vec_f64(), v.clone());
            let s = (order[0] as isize) % nd;
            let e = s + (order[1] as isize) % (nd - s);
            let g = x.flatten(s, e);
            let mut want: Vec<usize> = d[..s as usize].to_vec();
            want.push(d[s as usize..=e as usize].iter().product());
            want.extend_from_slice(&d[e as usize + 1..]);
            prop_assert_eq!(g.dims(), &want[..]);
            prop_assert_eq!(g.to_vec_f64(), v.clone());
        }
    }

    #[test]
    fn permute_transpose_are_index_maps(
        (x, d, v) in arb_tensor(shape()),
        p in perm(4),
        ab in (0usize..4, 0usize..4),
    ) {
        let nd = d.len();
        let p: Vec<usize> = p.into_iter().filter(|&i| i < nd).collect();
        let y = x.permute(&p);
        prop_assert!(y.shares_storage(&x));
        let od: Vec<usize> = p.iter().map(|&i| d[i]).collect();
        prop_assert_eq!(y.dims(), &od[..]);
        let want = expect(&od, |oi| {
            let mut ii = vec![0; nd];
            for (k, &pk) in p.iter().enumerate() {
                ii[pk] = oi[k];
            }
            at(&v, &d, &ii)
        });
        prop_assert_eq!(y.to_vec_f64(), want);
        if nd > 0 {
            let (a, b) = (ab.0 % nd, ab.1 % nd);
            let t = x.transpose(a as isize, b as isize - nd as isize);
            let mut od = d.clone();
            od.swap(a, b);
            let want = expect(&od, |oi| {
                let mut ii = oi.to_vec();
                ii.swap(a, b);
                at(&v, &d, &ii)
            });
            prop_assert_eq!(t.to_vec_f64(), want);
            if nd == 2 {
                prop_assert_eq!(x.t().to_vec_f64(), x.transpose(0, 1).to_vec_f64());
            }
        }
    }

    #[test]
    fn expand_squeeze_unsqueeze(
        (x, d, v) in arb_tensor(shape_rank(0, 3)),
        ax in 0usize..5,
        lead in 1usize..4,
        neg in any::<bool>(),
    ) {
        let nd = d.len();
        // unsqueeze anywhere in 0..=nd (negative: -1 is the end), then squeeze it back
        let a = ax % (nd + 1);
        let arg = if neg { a as isize - (nd as isize + 1) } else { a as isize };
        let u = x.unsqueeze(arg);
        let mut ud = d.clone();
        ud.insert(a, 1);
        prop_assert_eq!(u.dims(), &ud[..]);
        prop_assert_eq!(u.to_vec_f64(), v.clone());
        prop_assert!(u.shares_storage(&x));
        let s = u.squeeze(a as isize);
        prop_assert_eq!(s.dims(), &d[..]);
        prop_assert_eq!(s.to_vec_f64(), v.clone());
        // expand the unsqueezed dim to `lead` and add a leading dim
        let mut ed = vec![2];
        ed.extend_from_slice(&ud);
        ed[a + 1] = lead;
        let e = u.expand(ed.clone());
        prop_assert!(e.shares_storage(&x));
        prop_assert_eq!(e.dims(), &ed[..]);
        let want = expect(&ed, |oi| {
            let mut ii: Vec<usize> = oi[1..].to_vec();
            ii.remove(a);
            at(&v, &d, &ii)
        });
        prop_assert_eq!(e.to_vec_f64(), want.clone());
        // a broadcast view behaves like its materialised copy in later ops
        prop_assert_eq!(e.contiguous().to_vec_f64(), want.clone());
        prop_assert_eq!(e.mul_scalar(2.0).to_vec_f64(), want.iter().map(|w| 2.0 * w).collect::<Vec<_>>());
    }

    #[test]
    fn narrow_and_split_cat_round_trip(
        (x, d, v) in arb_tensor(shape_rank(1, 4)),
        ax in any::<prop::sample::Index>(),
        cuts in prop::collection::vec(0usize..6, 0..3),
    ) {
        let nd = d.len();
        let a = ax.index(nd);
        let n = d[a];
        // sizes from sorted cut points (empty pieces allowed)
        let mut pts: Vec<usize> = cuts.iter().map(|c| c % (n + 1)).collect();
        pts.push(0);
        pts.push(n);
        pts.sort();
        let sizes: Vec<usize> = pts.windows(2).map(|w| w[1] - w[0]).collect();
        let parts = x.split(a as isize, &sizes);
        prop_assert_eq!(parts.len(), sizes.len());
        for (k, p) in parts.iter().enumerate() {
            let start = pts[k];
            let mut pd = d.clone();
            pd[a] = sizes[k];
            prop_assert_eq!(p.dims(), &pd[..]);
            let want = expect(&pd, |oi| {
                let mut ii = oi.to_vec();
                ii[a] += start;
                at(&v, &d, &ii)
            });
            prop_assert_eq!(p.to_vec_f64(), want.clone());
            prop_assert_eq!(x.narrow(a as isize, start, sizes[k]).to_vec_f64(), want);
        }
        let refs: Vec<&Tensor> = parts.iter().collect();
        let back = Tensor::cat(&refs, a as isize - nd as isize);
        prop_assert_eq!(back.dims(), &d[..]);
        prop_assert_eq!(back.to_vec_f64(), v.clone());
    }

    #[test]
    fn stack_matches_cat_of_unsqueezed(
        d in shape_rank(0, 3),
        k in 1usize..4,
        ax in 0usize..5,
        seed in any::<u64>(),
        l in layout(),
    ) {
        let nd = d.len();
        let a = ax % (nd + 1);
        let ts: Vec<(Tensor, Vec<f64>)> =
            (0..k).map(|i| rand_tensor(&d, seed.wrapping_add(i as u64), DType::F32, l)).collect();
        let refs: Vec<&Tensor> = ts.iter().map(|t| &t.0).collect();
        let s = Tensor::stack(&refs, a as isize);
        let mut sd = d.clone();
        sd.insert(a, k);
        prop_assert_eq!(s.dims(), &sd[..]);
        let want = expect(&sd, |oi| {
            let mut ii = oi.to_vec();
            let which = ii.remove(a);
            at(&ts[which].1, &d, &ii)
        });
        prop_assert_eq!(s.to_vec_f64(), want);
        // and each slice comes back out
        for (i, (_, tv)) in ts.iter().enumerate() {
            prop_assert_eq!(s.narrow(a as isize, i, 1).squeeze(a as isize).to_vec_f64(), tv.clone());
        }
    }

    /// index_select picks slices; index_add is its adjoint: ⟨select(x), y⟩ = ⟨x, index_add(y)⟩.
    #[test]
    fn index_select_and_its_adjoint_index_add(
        (x, d, v) in arb_tensor(shape_rank(1, 4)),
        ax in any::<prop::sample::Index>(),
        raw in prop::collection::vec(any::<prop::sample::Index>(), 0..7),
        seed in any::<u64>(),
    ) {
        let nd = d.len();
        let a = ax.index(nd);
        let idx: Vec<usize> = raw.iter().map(|i| i.index(d[a])).collect();
        let s = x.index_select(a as isize, &idx);
        let mut sd = d.clone();
        sd[a] = idx.len();
        prop_assert_eq!(s.dims(), &sd[..]);
        prop_assert_eq!(s.dtype(), x.dtype());
        let want = expect(&sd, |oi| {
            let mut ii = oi.to_vec();
            ii[a] = idx[ii[a]];
            at(&v, &d, &ii)
        });
        prop_assert_eq!(s.to_vec_f64(), want.clone());
        let (y, yv) = rand_tensor(&sd, seed, x.dtype(), Layout::Permuted);
        let back = Tensor::index_add(d.clone(), a as isize, &idx, &y);
        prop_assert_eq!(back.dims(), &d[..]);
        let lhs = dot(&want, &yv);
        let rhs = dot(&v, &back.to_vec_f64());
        prop_assert!((lhs - rhs).abs() <= 1e-5 * (1.0 + lhs.abs()), "{} vs {}", lhs, rhs);
    }

    /// gather against index arithmetic; scatter_add is its adjoint.
    #[test]
    fn gather_and_its_adjoint_scatter_add(
        (x, d, v) in arb_tensor(shape_rank(1, 4)),
        ax in any::<prop::sample::Index>(),
        shrink in prop::collection::vec(any::<prop::sample::Index>(), 4),
        along in 1usize..6,
        seed in any::<u64>(),
        idx_f64 in any::<bool>(),
    ) {
        let nd = d.len();
        let a = ax.index(nd);
        // index shape: no larger than x off the axis, anything along it
        let id: Vec<usize> = (0..nd)
            .map(|k| if k == a { along } else { 1 + shrink[k].index(d[k]) })
            .collect();
        let mut r = minimax_tensor::Rng::seed(seed);
        let iv: Vec<f64> = (0..id.iter().product()).map(|_| r.below(d[a]) as f64).collect();
        let it = from_f64(iv.clone(), &id, if idx_f64 { DType::F64 } else { DType::F32 });
        let g = x.gather(a as isize, &it);
        prop_assert_eq!(g.dims(), &id[..]);
        let want = expect(&id, |oi| {
            let mut ii = oi.to_vec();
            ii[a] = iv[ravel(oi, &id)] as usize;
            at(&v, &d, &ii)
        });
        prop_assert_eq!(g.to_vec_f64(), want.clone());
        let (y, yv) = rand_tensor(&id, seed ^ 7, x.dtype(), Layout::Narrowed);
        let s = Tensor::scatter_add(d.clone(), a as isize, &it, &y);
        prop_assert_eq!(s.dims(), &d[..]);
        let lhs = dot(&want, &yv);
        let rhs = dot(&v, &s.to_vec_f64());
        prop_assert!((lhs - rhs).abs() <= 1e-5 * (1.0 + lhs.abs()), "{} vs {}", lhs, rhs);
    }

    /// Constant and reflect padding against index arithmetic, and the reflect adjoint.
    #[test]
    fn pad_constant_reflect_and_adjoint(
        (x, d, v) in arb_tensor(shape_rank(1, 4)),
        k in 1usize..4,
        raw in prop::collection::vec((0usize..5, 0usize..5), 3),
        c in -3.0f64..3.0,
        seed in any::<u64>(),
    ) {
        let nd = d.len();
        let k = k.min(nd);
        let first = nd - k;
        let pads: Vec<(usize, usize)> = raw[..k].to_vec();
        let mut od = d.clone();
        for i in 0..k {
            od[first + i] += pads[i].0 + pads[i].1;
        }
        let c = round_to(c, x.dtype());
        let p = x.pad(&pads, PadMode::Constant(c));
        prop_assert_eq!(p.dims(), &od[..]);
        let want = expect(&od, |oi| {
            let mut ii = oi.to_vec();
            for i in 0..k {
                let j = oi[first + i] as isize - pads[i].0 as isize;
                if j < 0 || j >= d[first + i] as isize {
                    return c;
                }
                ii[first + i] = j as usize;
            }
            at(&v, &d, &ii)
        });
        prop_assert_eq!(p.to_vec_f64(), want);

        // reflect needs pad < size
        let rp: Vec<(usize, usize)> = (0..k)
            .map(|i| (pads[i].0 % d[first + i], pads[i].1 % d[first + i]))
            .collect();
        let mut rd = d.clone();
        for i in 0..k {
            rd[first + i] += rp[i].0 + rp[i].1;
        }
        let r = x.pad(&rp, PadMode::Reflect);
        prop_assert_eq!(r.dims(), &rd[..]);
        let want = expect(&rd, |oi| {
            let mut ii = oi.to_vec();
            for i in 0..k {
                let n = d[first + i] as isize;
                let mut j = oi[first + i] as isize - rp[i].0 as isize;
                if j < 0 {
                    j = -j;
                }
                if j >= n {
                    j = 2 * (n - 1) - j;
                }
                ii[first + i] = j as usize;
            }
            at(&v, &d, &ii)
        });
        prop_assert_eq!(r.to_vec_f64(), want.clone());
        let (y, yv) = rand_tensor(&rd, seed, x.dtype(), Layout::Offset);
        let back = y.pad_reflect_adjoint(&rp, d.clone());
        prop_assert_eq!(back.dims(), &d[..]);
        let lhs = dot(&want, &yv);
        let rhs = dot(&v, &back.to_vec_f64());
        prop_assert!((lhs - rhs).abs() <= 1e-5 * (1.0 + lhs.abs()), "{} vs {}", lhs, rhs);
    }

    #[test]
    fn flip_reverses_the_given_axes(
        (x, d, v) in arb_tensor(shape()),
        mask in prop::collection::vec(any::<bool>(), 4),
    ) {
        let nd = d.len();
        let axes: Vec<isize> = (0..nd).filter(|&i| mask[i]).map(|i| i as isize - nd as isize).collect();
        let f = x.flip(&axes);
        prop_assert_eq!(f.dims(), &d[..]);
        let want = expect(&d, |oi| {
            let ii: Vec<usize> = (0..nd).map(|k| if mask[k] { d[k] - 1 - oi[k] } else { oi[k] }).collect();
            at(&v, &d, &ii)
        });
        prop_assert_eq!(f.to_vec_f64(), want);
        prop_assert_eq!(f.flip(&axes).to_vec_f64(), v.clone());
    }

    #[test]
    fn repeat_tiles_like_pytorch(
        (x, d, v) in arb_tensor(shape_rank(0, 4)),
        extra in 0usize..3,
        reps in prop::collection::vec(0usize..4, 7),
    ) {
        let nd = d.len();
        let reps: Vec<usize> = reps[..nd + extra].to_vec();
        let mut dd = vec![1; extra];
        dd.extend_from_slice(&d);
        let od: Vec<usize> = reps.iter().zip(&dd).map(|(r, k)| r * k).collect();
        let y = x.repeat(&reps);
        prop_assert_eq!(y.dims(), &od[..]);
        let want = expect(&od, |oi| {
            let ii: Vec<usize> = (0..nd).map(|k| oi[extra + k] % d[k]).collect();
            at(&v, &d, &ii)
        });
        prop_assert_eq!(y.to_vec_f64(), want);
    }
}

// ------------------------------------------------------------------ hand-computed cases

fn t(v: &[f32], d: &[usize]) -> Tensor {
    Tensor::from_slice(v, d)
}

#[test]
fn pad_by_hand() {
    let x = t(&[1.0, 2.0, 3.0], &[3]);
    assert_eq!(
        x.pad(&[(2, 2)], PadMode::Reflect).to_vec_f32(),
        vec![3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]
    );
    assert_eq!(
        x.pad(&[(1, 2)], PadMode::Constant(-1.0)).to_vec_f32(),
        vec![-1.0, 1.0, 2.0, 3.0, -1.0, -1.0]
    );
    let m = t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let r = m.pad(&[(1, 1), (1, 0)], PadMode::Reflect);
    assert_eq!(r.dims(), &[4, 4]);
    #[rustfmt::skip]
    assert_eq!(r.to_vec_f32(), vec![
        5.0, 4.0, 5.0, 6.0,
        2.0, 1.0, 2.0, 3.0,
        5.0, 4.0, 5.0, 6.0,
        2.0, 1.0, 2.0, 3.0,
    ]);
    // only the last dimension
    let r = m.pad(&[(0, 2)], PadMode::Reflect);
    assert_eq!(
        r.to_vec_f32(),
        vec![1.0, 2.0, 3.0, 2.0, 1.0, 4.0, 5.0, 6.0, 5.0, 4.0]
    );
    // the adjoint folds the mirrored gradient back: [3,2,1,2,3,2,1] ← ones
    let g = Tensor::ones([7], DType::F32);
    assert_eq!(
        g.pad_reflect_adjoint(&[(2, 2)], [3]).to_vec_f32(),
        vec![2.0, 3.0, 2.0]
    );
}

#[test]
fn repeat_by_hand() {
    let x = t(&[1.0, 2.0], &[2]);
    let r = x.repeat(&[2, 2]);
    assert_eq!(r.dims(), &[2, 4]);
    assert_eq!(r.to_vec_f32(), vec![1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
    assert_eq!(
        x.repeat(&[3]).to_vec_f32(),
        vec![1.0, 2.0, 1.0, 2.0, 1.0, 2.0]
    );
    let m = t(&[1.0, 2.0, 3.0, 4.0], &[2, 2]);
    assert_eq!(
        m.repeat(&[2, 1]).to_vec_f32(),
        vec![1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0]
    );
    // five dimensions (ten once interleaved with the repetitions) are fine
    let y = Tensor::ones([1, 1, 1, 1, 2], DType::F32);
    assert_eq!(y.repeat(&[2, 2, 2, 2, 2]).dims(), &[2, 2, 2, 2, 4]);
    assert_eq!(y.repeat(&[2, 2, 2, 2, 2]).sum_all().item(), 64.0);
}

#[test]
fn one_hot_gather_scatter_by_hand() {
    let o = Tensor::one_hot(&[2, 0, 1], 3, DType::F64);
    assert_eq!(o.dims(), &[3, 3]);
    assert_eq!(
        o.to_vec_f64(),
        vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    );
    let x = t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let idx = t(&[2.0, 0.0, 1.0, 1.0], &[2, 2]);
    assert_eq!(x.gather(1, &idx).to_vec_f32(), vec![3.0, 1.0, 5.0, 5.0]);
    let s = Tensor::scatter_add([2, 3], 1, &idx, &t(&[1.0, 2.0, 3.0, 4.0], &[2, 2]));
    assert_eq!(s.to_vec_f32(), vec![2.0, 0.0, 1.0, 0.0, 7.0, 0.0]);
    let sel = x.index_select(1, &[2, 2, 0]);
    assert_eq!(sel.to_vec_f32(), vec![3.0, 3.0, 1.0, 6.0, 6.0, 4.0]);
    let back = Tensor::index_add([2, 3], 1, &[2, 2, 0], &sel);
    assert_eq!(back.to_vec_f32(), vec![1.0, 0.0, 6.0, 4.0, 0.0, 12.0]);
    assert_eq!(x.index_select(0, &[]).dims(), &[0, 3]);
}

#[test]
fn views_share_storage_and_copies_do_not() {
    let x = t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    for v in [
        x.reshape([3, 2]),
        x.t(),
        x.permute(&[1, 0]),
        x.narrow(1, 1, 2),
        x.unsqueeze(0),
        x.unsqueeze(0).squeeze(0),
        x.expand([4, 2, 3]),
    ] {
        assert!(v.shares_storage(&x));
    }
    assert!(!x.flip(&[0]).shares_storage(&x));
    assert!(!x.t().contiguous().shares_storage(&x));
    // reshape of a non-contiguous view copies, and keeps logical order
    assert_eq!(
        x.t().reshape([6]).to_vec_f32(),
        vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]
    );
}
