//! Constructors, random draws (moments and reproducibility), dtype conversion, element access
//! and copy-on-write `data_mut`, computed by hand.

use minimax_tensor::{DType, Rng, Tensor};

#[test]
fn filled_constructors() {
    let z = Tensor::zeros([2, 3], DType::F32);
    assert_eq!(z.dims(), &[2, 3]);
    assert_eq!(z.dtype(), DType::F32);
    assert_eq!(z.to_vec_f32(), vec![0.0; 6]);
    let o = Tensor::ones([4], DType::F64);
    assert_eq!(o.dtype(), DType::F64);
    assert_eq!(o.to_vec_f64(), vec![1.0; 4]);
    let f = Tensor::full([2, 2], -1.5, DType::F32);
    assert_eq!(f.to_vec_f32(), vec![-1.5; 4]);
    let s = Tensor::scalar(0.1, DType::F32);
    assert_eq!(s.dims(), &[] as &[usize]);
    assert_eq!(s.item(), 0.1f32 as f64);
    assert_eq!(f.zeros_like().to_vec_f32(), vec![0.0; 4]);
    assert_eq!(f.ones_like().dims(), &[2, 2]);
    assert_eq!(Tensor::zeros([3, 0], DType::F32).numel(), 0);
    let e = Tensor::eye(3, DType::F64);
    assert_eq!(
        e.to_vec_f64(),
        vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    );
    let fs = Tensor::from_slice(&[1.0f64, 2.0], [2, 1]);
    assert_eq!(fs.dims(), &[2, 1]);
    assert_eq!(fs.to_vec_f64(), vec![1.0, 2.0]);
}

#[test]
fn arange_and_linspace() {
    let a = Tensor::arange(0.0, 5.0, 1.0, DType::F32);
    assert_eq!(a.to_vec_f32(), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
    let b = Tensor::arange(1.0, 2.0, 0.25, DType::F64);
    assert_eq!(b.to_vec_f64(), vec![1.0, 1.25, 1.5, 1.75]);
    let c = Tensor::arange(5.0, 0.0, -2.0, DType::F64);
    assert_eq!(c.to_vec_f64(), vec![5.0, 3.0, 1.0]);
    assert_eq!(Tensor::arange(3.0, 1.0, 1.0, DType::F32).dims(), &[0]);
    // like torch.arange(0, 1, 0.1): 10 elements, computed as start + i·step
    let d = Tensor::arange(0.0, 1.0, 0.1, DType::F64);
    assert_eq!(d.numel(), 10);
    assert_eq!(d.get(&[3]), 3.0 * 0.1);
    let l = Tensor::linspace(0.0, 1.0, 5, DType::F32);
    assert_eq!(l.to_vec_f32(), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    let l = Tensor::linspace(-1.0, 1.0, 3, DType::F64);
    assert_eq!(l.to_vec_f64(), vec![-1.0, 0.0, 1.0]);
    assert_eq!(
        Tensor::linspace(2.0, 7.0, 1, DType::F64).to_vec_f64(),
        vec![2.0]
    );
    assert_eq!(Tensor::linspace(2.0, 7.0, 0, DType::F64).numel(), 0);
    // both ends are exact (start + (end - start) is not always end: -3 + 3.1 != 0.1)
    for (s, e) in [
        (-3.0, 0.1),
        (5.275492379532281, -4.898619485211566),
        (0.1, 0.7),
    ] {
        for n in [2, 5, 10] {
            let l = Tensor::linspace(s, e, n, DType::F64).to_vec_f64();
            assert_eq!((l[0], l[n - 1]), (s, e), "linspace({s}, {e}, {n})");
            // symmetric: the middle is where the two halves meet, monotone throughout
            assert!(l.windows(2).all(|w| (w[1] - w[0]) * (e - s) > 0.0));
        }
    }
}

fn moments(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n;
    (m, var)
}

#[test]
fn random_moments_with_a_seed() {
    let n = 100_000;
    for dt in [DType::F32, DType::F64] {
        let mut r = Rng::seed(1234);
        let u = Tensor::rand_uniform([n], -2.0, 4.0, dt, &mut r).to_vec_f64();
        assert!(u.iter().all(|&x| (-2.0..4.0).contains(&x)));
        let (m, v) = moments(&u);
        assert!((m - 1.0).abs() < 0.03, "uniform mean {m}");
        assert!((v - 3.0).abs() < 0.05, "uniform var {v}");

        let g = Tensor::randn([n], 3.0, 0.5, dt, &mut r).to_vec_f64();
        let (m, v) = moments(&g);
        assert!((m - 3.0).abs() < 0.01, "normal mean {m}");
        assert!((v.sqrt() - 0.5).abs() < 0.01, "normal std {}", v.sqrt());

        let b = Tensor::bernoulli([n], 0.3, dt, &mut r).to_vec_f64();
        assert!(b.iter().all(|&x| x == 0.0 || x == 1.0));
        let (m, _) = moments(&b);
        assert!((m - 0.3).abs() < 0.01, "bernoulli mean {m}");
        let none = Tensor::bernoulli([100], 0.0, dt, &mut r);
        assert_eq!(none.sum_all().item(), 0.0);
        let all = Tensor::bernoulli([100], 1.0, dt, &mut r);
        assert_eq!(all.sum_all().item(), 100.0);
    }
}

#[test]
fn random_draws_are_reproducible() {
    let draw = |seed: u64| {
        let mut r = Rng::seed(seed);
        let a = Tensor::rand_uniform([7, 3], 0.0, 1.0, DType::F32, &mut r);
        let b = Tensor::randn([5], 0.0, 1.0, DType::F64, &mut r);
        let c = Tensor::bernoulli([9], 0.5, DType::F32, &mut r);
        (a.to_vec_f64(), b.to_vec_f64(), c.to_vec_f64(), r.state())
    };
    assert_eq!(draw(42), draw(42));
    assert_ne!(draw(42).0, draw(43).0);
    // a restored state continues the same stream
    let mut r = Rng::seed(9);
    let _ = Tensor::randn([3], 0.0, 1.0, DType::F32, &mut r);
    let mut r2 = Rng::from_state(r.state());
    assert_eq!(
        Tensor::randn([4], 0.0, 1.0, DType::F32, &mut r).to_vec_f32(),
        Tensor::randn([4], 0.0, 1.0, DType::F32, &mut r2).to_vec_f32()
    );
}

/// A uniform draw just below 1 must not round up to the excluded upper bound in f32.
#[test]
fn rand_uniform_f32_excludes_the_upper_bound() {
    // xoshiro256++ outputs rotl(s0 + s3, 23) + s0: with s0 = 0 and s3 = !0 the first output
    // is u64::MAX, i.e. the largest uniform() value, 1 - 2^-53.
    let mut r = Rng::from_state([0, 0, 0, u64::MAX]);
    assert_eq!(r.clone().next(), u64::MAX);
    let t = Tensor::rand_uniform([1], 0.0, 1.0, DType::F32, &mut r);
    let v = t.item();
    assert!((0.0..1.0).contains(&v), "uniform draw {v} not in [0, 1)");
    let mut r = Rng::from_state([0, 0, 0, u64::MAX]);
    let t = Tensor::rand_uniform([1], -3.0, 5.0, DType::F32, &mut r);
    assert!(t.item() < 5.0, "uniform draw {} not below 5", t.item());
}

#[test]
fn dtype_conversion() {
    let a = Tensor::from_vec(vec![0.1f64, 1e40, -2.0], [3]);
    let b = a.to_dtype(DType::F32);
    assert_eq!(b.dtype(), DType::F32);
    assert_eq!(b.to_vec_f32(), vec![0.1f32, f32::INFINITY, -2.0]);
    let c = b.to_dtype(DType::F64);
    assert_eq!(c.to_vec_f64(), vec![0.1f32 as f64, f64::INFINITY, -2.0]);
    assert!(a.to_dtype(DType::F64).shares_storage(&a));
    // a view converts in logical order
    let m = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]);
    assert_eq!(
        m.t().to_dtype(DType::F64).to_vec_f64(),
        vec![1.0, 3.0, 2.0, 4.0]
    );
}

#[test]
fn item_and_get_on_views() {
    let m = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
    assert_eq!(m.get(&[1, 2]), 6.0);
    assert_eq!(m.t().get(&[2, 1]), 6.0);
    assert_eq!(m.t().get(&[0, 1]), 4.0);
    assert_eq!(m.narrow(1, 1, 2).get(&[1, 0]), 5.0);
    assert_eq!(m.narrow(0, 1, 1).narrow(1, 2, 1).item(), 6.0);
    let e = Tensor::from_vec(vec![7.0f64], [1]).expand([3, 4]);
    assert_eq!(e.get(&[2, 3]), 7.0);
    assert_eq!(Tensor::scalar(2.0, DType::F64).get(&[]), 2.0);
    assert_eq!(m.sum_all().item(), 21.0);
    assert_eq!(m.dim(-1), 3);
    assert_eq!(m.dim(0), 2);
}

#[test]
fn data_mut_copies_on_write() {
    let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]);
    let mut b = a.clone();
    assert!(b.shares_storage(&a));
    b.data_mut::<f32>()[0] = 10.0;
    assert_eq!(
        a.to_vec_f32(),
        vec![1.0, 2.0, 3.0, 4.0],
        "a clone must not change"
    );
    assert_eq!(b.to_vec_f32(), vec![10.0, 2.0, 3.0, 4.0]);
    assert!(!b.shares_storage(&a));
    // unshared storage is updated in place (no copy)
    let p = b.data_mut::<f32>().as_ptr();
    b.data_mut::<f32>()[1] = 20.0;
    assert_eq!(b.data_mut::<f32>().as_ptr(), p);
    assert_eq!(b.to_vec_f32(), vec![10.0, 20.0, 3.0, 4.0]);

    // a transposed view: made contiguous in logical order first, the source untouched
    let mut t = a.t();
    let d = t.data_mut::<f32>();
    assert_eq!(d, &[1.0, 3.0, 2.0, 4.0]);
    d[1] = -1.0;
    assert_eq!(t.to_vec_f32(), vec![1.0, -1.0, 2.0, 4.0]);
    assert_eq!(t.get(&[0, 1]), -1.0);
    assert_eq!(a.to_vec_f32(), vec![1.0, 2.0, 3.0, 4.0]);

    // a narrowed (offset) view: only its own elements are exposed
    let mut n = a.reshape([4]).narrow(0, 1, 2);
    assert_eq!(n.data_mut::<f32>().len(), 2);
    n.data_mut::<f32>()[0] = 9.0;
    assert_eq!(n.to_vec_f32(), vec![9.0, 3.0]);
    assert_eq!(a.to_vec_f32(), vec![1.0, 2.0, 3.0, 4.0]);

    // a broadcast view
    let one = Tensor::from_vec(vec![5.0f64], [1]);
    let mut e = one.expand([3]);
    e.data_mut::<f64>()[2] = 0.0;
    assert_eq!(e.to_vec_f64(), vec![5.0, 5.0, 0.0]);
    assert_eq!(one.to_vec_f64(), vec![5.0]);
}

#[test]
fn contiguity_and_comparisons() {
    let m = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
    assert!(m.is_contiguous());
    assert!(!m.t().is_contiguous());
    assert!(m.t().contiguous().is_contiguous());
    assert!(m.narrow(0, 1, 1).is_contiguous());
    assert!(!m.narrow(1, 0, 2).is_contiguous());
    assert!(m.unsqueeze(1).is_contiguous());
    assert_eq!(m.t().strides(), &[1, 3]);
    assert!(m.allclose(&m.add_scalar(1e-7), 0.0, 1e-6));
    assert!(!m.allclose(&m.add_scalar(1e-3), 0.0, 1e-6));
    assert!(!m.allclose(&m.reshape([3, 2]), 1.0, 1.0));
    assert!(m.all_finite());
    assert!(!m.div_scalar(0.0).all_finite());
}
