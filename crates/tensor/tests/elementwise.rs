//! Elementwise ops: broadcasting binary ops against a naive index-arithmetic reference, unary
//! ops against std (exact for f64, within the fastmath bounds for f32), and the SIMD kernels
//! against their scalar twins, bit for bit.

mod common;

use common::*;
use minimax_tensor::kernels::elementwise::{add_assign_with, binary_with, unary_with, Stepping};
use minimax_tensor::kernels::reduce::{reduce_run_with, ReduceOp};
use minimax_tensor::kernels::Simd;
use minimax_tensor::{BinaryOp, DType, Rng, Tensor, UnaryOp};
use proptest::prelude::*;

const BINARY_OPS: [BinaryOp; 15] = [
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::Pow,
    BinaryOp::Maximum,
    BinaryOp::Minimum,
    BinaryOp::Eq,
    BinaryOp::Ne,
    BinaryOp::Lt,
    BinaryOp::Le,
    BinaryOp::Gt,
    BinaryOp::Ge,
    BinaryOp::LeakyReluBackward(0.25),
    BinaryOp::LeakyReluBackward(0.0),
];

fn bool_f(c: bool) -> f64 {
    if c {
        1.0
    } else {
        0.0
    }
}

/// The reference value of `x op y` in f64 (inputs are exactly the tensor's values).
fn binary_ref(op: BinaryOp, x: f64, y: f64) -> f64 {
    match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div => x / y,
        BinaryOp::Pow => x.powf(y),
        BinaryOp::Maximum => x.max(y),
        BinaryOp::Minimum => x.min(y),
        BinaryOp::Eq => bool_f(x == y),
        BinaryOp::Ne => bool_f(x != y),
        BinaryOp::Lt => bool_f(x < y),
        BinaryOp::Le => bool_f(x <= y),
        BinaryOp::Gt => bool_f(x > y),
        BinaryOp::Ge => bool_f(x >= y),
        BinaryOp::LeakyReluBackward(s) => {
            if y > 0.0 {
                x
            } else {
                x * s
            }
        }
    }
}

/// Broadcast `x op y` by explicit index arithmetic.
fn broadcast_ref_values(
    op: BinaryOp,
    a: &[f64],
    ad: &[usize],
    b: &[f64],
    bd: &[usize],
    out: &[usize],
) -> Vec<f64> {
    let n: usize = out.iter().product();
    let nd = out.len();
    (0..n)
        .map(|lin| {
            let idx = unravel(lin, out);
            let pick = |d: &[usize]| -> Vec<usize> {
                let lead = nd - d.len();
                (0..d.len())
                    .map(|i| if d[i] == 1 { 0 } else { idx[lead + i] })
                    .collect()
            };
            let x = a[ravel(&pick(ad), ad)];
            let y = b[ravel(&pick(bd), bd)];
            binary_ref(op, x, y)
        })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    /// Every binary op, every dtype, every layout of either operand, against the reference.
    #[test]
    fn binary_ops_broadcast_match_reference(
        (ad, bd, od) in broadcast_pair(),
        la in layout(),
        lb in layout(),
        dt in dtype(),
        seed in any::<u64>(),
    ) {
        let (a, av) = rand_tensor(&ad, seed, dt, la);
        let mut bv = values(bd.iter().product(), seed ^ 0x5555, dt);
        // Make some elements equal so the comparisons see ties.
        if !bv.is_empty() && !av.is_empty() {
            bv[0] = av[0];
        }
        let b = build(&bv, &bd, dt, lb);
        for op in BINARY_OPS {
            let c = a.binary(&b, op);
            prop_assert_eq!(c.dims(), &od[..], "{:?}", op);
            prop_assert_eq!(c.dtype(), dt);
            let want: Vec<f64> = broadcast_ref_values(op, &av, &ad, &bv, &bd, &od)
                .into_iter()
                .map(|v| round_to(v, dt))
                .collect();
            let what = format!("{op:?} {ad:?} {la:?} with {bd:?} {lb:?} {dt:?}");
            match (op, dt) {
                // std's f32 powf is not the f64 one rounded; everything else is exact
                // (f32 +,-,*,/ are correctly rounded, as is the f64 result rounded to f32).
                (BinaryOp::Pow, DType::F32) => {
                    assert_close(&c.to_vec_f64(), &want, 3e-7, 1e-30, &what)
                }
                _ => assert_same(&c.to_vec_f64(), &want, &what),
            }
        }
    }

    /// Unary ops in f64 are exactly std (or the stated formula) on every element.
    #[test]
    fn unary_f64_exact(dims in shape(), l in layout(), seed in any::<u64>()) {
        let (x, xv) = rand_tensor(&dims, seed, DType::F64, l);
        for (op, f) in unary_cases() {
            let got = x.unary(op).to_vec_f64();
            let want: Vec<f64> = xv.iter().map(|&v| f(v)).collect();
            let what = format!("{op:?} f64 {dims:?} {l:?}");
            match op {
                // x^2, x^3, x^-1 and x^0.5 are computed by multiplication/sqrt; std's powf
                // may differ in the last bit.
                UnaryOp::PowScalar(c) if [2.0, 3.0, -1.0, 0.5].contains(&c) => {
                    assert_close(&got, &want, 4.5e-16, 0.0, &what)
                }
                _ => assert_same(&got, &want, &what),
            }
        }
    }

    /// Unary ops in f32: exact where the op is one correctly rounded operation, within the
    /// documented fastmath bounds for exp/ln/tanh/sigmoid (plus half an ulp for the rounding of
    /// the reference), and within a few ulp for libm-based ones.
    #[test]
    fn unary_f32_within_bounds(dims in shape(), l in layout(), seed in any::<u64>()) {
        let (x, xv) = rand_tensor(&dims, seed, DType::F32, l);
        const HALF_ULP: f64 = 1.0 / 16_777_216.0;
        for (op, f) in unary_cases() {
            let got = x.unary(op).to_vec_f64();
            let exact: Vec<f64> = xv.iter().map(|&v| f(v)).collect();
            let rounded: Vec<f64> = exact.iter().map(|&v| round_to(v, DType::F32)).collect();
            let what = format!("{op:?} f32 {dims:?} {l:?}");
            match op {
                UnaryOp::Exp => assert_close(&got, &exact, 1.8e-7 + HALF_ULP, 0.0, &what),
                UnaryOp::Log => assert_close(&got, &exact, 1.9e-7 + HALF_ULP, 0.0, &what),
                UnaryOp::Tanh | UnaryOp::Sigmoid => {
                    assert_close(&got, &exact, 2.4e-7 + HALF_ULP, 0.0, &what)
                }
                // composed of exp and ln: a few ulp relative, plus the absolute error of
                // the ln term when the result is tiny
                UnaryOp::Softplus | UnaryOp::LogSigmoid => {
                    assert_close(&got, &exact, 8e-7, 0.0, &what)
                }
                UnaryOp::Sin | UnaryOp::Cos => assert_close(&got, &exact, 2.4e-7, 1e-7, &what),
                UnaryOp::PowScalar(_) | UnaryOp::ScalarPow(_) => {
                    assert_close(&got, &exact, 2.4e-7, 0.0, &what)
                }
                // one correctly rounded f32 op on exact f32 inputs (constants are rounded to
                // f32 first, as the kernel does)
                _ => assert_same(&got, &rounded, &what),
            }
        }
    }

    /// The AVX2 and AVX-512 builds of every unary op equal the baseline build bit for bit.
    #[test]
    fn unary_simd_matches_scalar_twin(len in 0usize..300, seed in any::<u64>()) {
        let v = twin_values(len, seed);
        let v32: Vec<f32> = v.iter().map(|&x| x as f32).collect();
        for (op, _) in unary_cases() {
            for level in wide_levels() {
                let (mut s, mut d) = (vec![0.0f32; len], vec![0.0f32; len]);
                assert!(unary_with(Simd::Baseline, op, &v32, &mut s));
                assert!(unary_with(level, op, &v32, &mut d));
                assert_bits32(&s, &d, &format!("{op:?} f32 {level:?}"));
                let (mut s, mut d) = (vec![0.0f64; len], vec![0.0f64; len]);
                assert!(unary_with(Simd::Baseline, op, &v, &mut s));
                assert!(unary_with(level, op, &v, &mut d));
                assert_bits64(&s, &d, &format!("{op:?} f64 {level:?}"));
            }
        }
    }

    /// The AVX2 and AVX-512 builds of every binary op and stepping equal the baseline build
    /// bit for bit.
    #[test]
    fn binary_simd_matches_scalar_twin(len in 1usize..300, seed in any::<u64>()) {
        let a = twin_values(len, seed);
        let mut b = twin_values(len, seed.wrapping_add(1));
        b[len / 2] = a[len / 2];
        let (a32, b32): (Vec<f32>, Vec<f32>) =
            (a.iter().map(|&x| x as f32).collect(), b.iter().map(|&x| x as f32).collect());
        for level in wide_levels() {
            for op in BINARY_OPS {
                for st in [Stepping::Both, Stepping::ScalarA, Stepping::ScalarB] {
                    let what = format!("{op:?} {st:?} {level:?}");
                    let (mut s, mut d) = (vec![0.0f32; len], vec![0.0f32; len]);
                    assert!(binary_with(Simd::Baseline, op, st, &a32, &b32, &mut s));
                    assert!(binary_with(level, op, st, &a32, &b32, &mut d));
                    assert_bits32(&s, &d, &format!("{what} f32"));
                    let (mut s, mut d) = (vec![0.0f64; len], vec![0.0f64; len]);
                    assert!(binary_with(Simd::Baseline, op, st, &a, &b, &mut s));
                    assert!(binary_with(level, op, st, &a, &b, &mut d));
                    assert_bits64(&s, &d, &format!("{what} f64"));
                }
            }
            let (mut s, mut d) = (b32.clone(), b32.clone());
            assert!(add_assign_with(Simd::Baseline, &mut s, &a32));
            assert!(add_assign_with(level, &mut d, &a32));
            assert_bits32(&s, &d, &format!("add_assign f32 {level:?}"));
            let (mut s, mut d) = (b.clone(), b.clone());
            assert!(add_assign_with(Simd::Baseline, &mut s, &a));
            assert!(add_assign_with(level, &mut d, &a));
            assert_bits64(&s, &d, &format!("add_assign f64 {level:?}"));
        }
    }

    /// The AVX2 and AVX-512 builds of the 8-lane run reduction equal the baseline build bit
    /// for bit.
    #[test]
    fn reduce_simd_matches_scalar_twin(len in 0usize..2000, seed in any::<u64>(), nan in any::<bool>()) {
        let mut v = values(len, seed, DType::F64);
        if nan && len > 3 {
            v[len / 3] = f64::NAN;
        }
        let v32: Vec<f32> = v.iter().map(|&x| x as f32).collect();
        for level in wide_levels() {
            for op in [ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min] {
                let (mut s, mut d) = ([0.0f32], [0.0f32]);
                assert!(reduce_run_with(Simd::Baseline, op, &v32, &mut s));
                assert!(reduce_run_with(level, op, &v32, &mut d));
                assert_bits32(&s, &d, &format!("{op:?} f32 {level:?}"));
                let (mut s, mut d) = ([0.0f64], [0.0f64]);
                assert!(reduce_run_with(Simd::Baseline, op, &v, &mut s));
                assert!(reduce_run_with(level, op, &v, &mut d));
                assert_bits64(&s, &d, &format!("{op:?} f64 {level:?}"));
            }
        }
    }

    /// `sum_to` is the adjoint of `expand`: ⟨expand(x), y⟩ = ⟨x, sum_to(y)⟩.
    #[test]
    fn sum_to_is_adjoint_of_expand(
        (ad, _bd, od) in broadcast_pair(),
        l in layout(),
        seed in any::<u64>(),
    ) {
        let (x, xv) = rand_tensor(&ad, seed, DType::F64, l);
        let (y, yv) = rand_tensor(&od, seed ^ 99, DType::F64, Layout::Contiguous);
        let ex = x.expand(od.clone());
        prop_assert_eq!(ex.dims(), &od[..]);
        let s = y.sum_to(x.shape());
        prop_assert_eq!(s.dims(), &ad[..]);
        let lhs = dot(&ex.to_vec_f64(), &yv);
        let rhs = dot(&xv, &s.to_vec_f64());
        prop_assert!((lhs - rhs).abs() <= 1e-9 * (1.0 + lhs.abs()), "{} vs {}", lhs, rhs);
    }
}

/// Random values plus every special an elementwise kernel must treat alike in both builds.
fn twin_values(len: usize, seed: u64) -> Vec<f64> {
    let specials = [
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1.0,
        -1.0,
        100.0,
        -100.0,
        1e-40,
        0.5,
    ];
    let mut r = Rng::seed(seed);
    (0..len)
        .map(|i| {
            if r.below(5) == 0 {
                specials[i % specials.len()]
            } else {
                (r.uniform() - 0.5) * 20.0
            }
        })
        .collect()
}

/// The SIMD levels this CPU has above the baseline; the twin tests compare each with the
/// baseline build. A level the CPU lacks is left out (and its `*_with` call would return false).
fn wide_levels() -> Vec<Simd> {
    Simd::ALL
        .into_iter()
        .filter(|l| *l != Simd::Baseline && l.available())
        .collect()
}

fn assert_bits32(a: &[f32], b: &[f32], what: &str) {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
            "{what}: element {i}: scalar {x:e} vs simd {y:e}"
        );
    }
}

fn assert_bits64(a: &[f64], b: &[f64], what: &str) {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
            "{what}: element {i}: scalar {x:e} vs simd {y:e}"
        );
    }
}

/// Each unary op with its reference in f64. Scalar parameters are exactly representable in f32,
/// so the same reference serves both dtypes.
#[allow(clippy::type_complexity)]
fn unary_cases() -> Vec<(UnaryOp, Box<dyn Fn(f64) -> f64>)> {
    fn softplus(x: f64) -> f64 {
        x.max(0.0) + (-x.abs()).exp().ln_1p()
    }
    vec![
        (UnaryOp::Neg, Box::new(|x: f64| -x)),
        (UnaryOp::Abs, Box::new(|x: f64| x.abs())),
        (
            UnaryOp::Sign,
            Box::new(|x: f64| {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }),
        ),
        (UnaryOp::Exp, Box::new(|x: f64| x.exp())),
        (UnaryOp::Log, Box::new(|x: f64| x.ln())),
        (UnaryOp::Sqrt, Box::new(|x: f64| x.sqrt())),
        (UnaryOp::Square, Box::new(|x: f64| x * x)),
        (UnaryOp::Recip, Box::new(|x: f64| 1.0 / x)),
        (UnaryOp::Sin, Box::new(|x: f64| x.sin())),
        (UnaryOp::Cos, Box::new(|x: f64| x.cos())),
        (UnaryOp::Relu, Box::new(|x: f64| x.max(0.0))),
        (
            UnaryOp::LeakyRelu(0.25),
            Box::new(|x: f64| if x > 0.0 { x } else { 0.25 * x }),
        ),
        (
            UnaryOp::Sigmoid,
            Box::new(|x: f64| 1.0 / (1.0 + (-x).exp())),
        ),
        (UnaryOp::Tanh, Box::new(|x: f64| x.tanh())),
        (UnaryOp::Softplus, Box::new(softplus)),
        (UnaryOp::LogSigmoid, Box::new(|x: f64| -softplus(-x))),
        (
            UnaryOp::Clamp(-1.0, 1.5),
            Box::new(|x: f64| x.clamp(-1.0, 1.5)),
        ),
        (UnaryOp::AddScalar(0.25), Box::new(|x: f64| x + 0.25)),
        (UnaryOp::MulScalar(-1.75), Box::new(|x: f64| x * -1.75)),
        (UnaryOp::DivScalar(3.0), Box::new(|x: f64| x / 3.0)),
        (UnaryOp::PowScalar(1.5), Box::new(|x: f64| x.powf(1.5))),
        (UnaryOp::PowScalar(2.0), Box::new(|x: f64| x.powf(2.0))),
        (UnaryOp::PowScalar(3.0), Box::new(|x: f64| x.powf(3.0))),
        (UnaryOp::PowScalar(-1.0), Box::new(|x: f64| x.powf(-1.0))),
        (UnaryOp::PowScalar(0.5), Box::new(|x: f64| x.powf(0.5))),
        (UnaryOp::ScalarPow(1.5), Box::new(|x: f64| 1.5f64.powf(x))),
        (UnaryOp::GtScalar(0.5), Box::new(|x: f64| bool_f(x > 0.5))),
        (UnaryOp::GeScalar(0.5), Box::new(|x: f64| bool_f(x >= 0.5))),
        (UnaryOp::LtScalar(0.5), Box::new(|x: f64| bool_f(x < 0.5))),
        (UnaryOp::EqScalar(0.5), Box::new(|x: f64| bool_f(x == 0.5))),
        (UnaryOp::Copy, Box::new(|x: f64| x)),
    ]
}

// ------------------------------------------------------------------ hand-computed cases

fn t32(v: &[f32], dims: &[usize]) -> Tensor {
    Tensor::from_slice(v, dims)
}

#[test]
fn operators_and_scalar_ops() {
    let a = t32(&[1.0, 2.0, 3.0, 4.0], &[2, 2]);
    let b = t32(&[10.0, 20.0], &[2]);
    assert_eq!((&a + &b).to_vec_f32(), vec![11.0, 22.0, 13.0, 24.0]);
    assert_eq!((&a - &b).to_vec_f32(), vec![-9.0, -18.0, -7.0, -16.0]);
    assert_eq!((&a * &b).to_vec_f32(), vec![10.0, 40.0, 30.0, 80.0]);
    assert_eq!((&b / &a).to_vec_f32(), vec![10.0, 10.0, 10.0 / 3.0, 5.0]);
    assert_eq!(
        (a.clone() + b.clone()).to_vec_f32(),
        vec![11.0, 22.0, 13.0, 24.0]
    );
    assert_eq!((&a + 1.0).to_vec_f32(), vec![2.0, 3.0, 4.0, 5.0]);
    assert_eq!((&a - 1.0).to_vec_f32(), vec![0.0, 1.0, 2.0, 3.0]);
    assert_eq!((&a * 2.0).to_vec_f32(), vec![2.0, 4.0, 6.0, 8.0]);
    assert_eq!((-&a).to_vec_f32(), vec![-1.0, -2.0, -3.0, -4.0]);
    // Division by a scalar is a true division, like a / full(c): 1/3 is not 1 * (1/3).
    let x = t32(&[1.0, 2.0, 5.0, 7.0], &[4]);
    let want: Vec<f32> = [1.0f32, 2.0, 5.0, 7.0].iter().map(|v| v / 3.0).collect();
    assert_eq!((&x / 3.0).to_vec_f32(), want);
    assert_eq!(x.div_scalar(3.0).to_vec_f32(), want);
    let y = Tensor::from_vec(vec![1.0f64, 2.0, 5.0, 7.0, 10.0], [5]);
    let want64: Vec<f64> = [1.0f64, 2.0, 5.0, 7.0, 10.0]
        .iter()
        .map(|v| v / 3.0)
        .collect();
    assert_eq!((&y / 3.0).to_vec_f64(), want64);
    assert_eq!(
        (&y / 3.0).to_vec_f64(),
        y.div(&Tensor::scalar(3.0, DType::F64)).to_vec_f64()
    );
}

#[test]
fn scalar_fast_paths_both_sides() {
    let a = t32(&[1.0, -2.0, 3.0], &[3]);
    let s = Tensor::scalar(2.0, DType::F32);
    assert_eq!(a.sub(&s).to_vec_f32(), vec![-1.0, -4.0, 1.0]);
    assert_eq!(s.sub(&a).to_vec_f32(), vec![1.0, 4.0, -1.0]);
    assert_eq!(s.div(&a).to_vec_f32(), vec![2.0, -1.0, 2.0 / 3.0]);
    let one = t32(&[2.0], &[1, 1]);
    let c = a.sub(&one);
    assert_eq!(c.dims(), &[1, 3]);
    assert_eq!(c.to_vec_f32(), vec![-1.0, -4.0, 1.0]);
    let z = s.add(&s);
    assert_eq!(z.dims(), &[] as &[usize]);
    assert_eq!(z.item(), 4.0);
}

#[test]
fn unary_special_values() {
    let x = Tensor::from_vec(vec![-2.0f64, -0.0, 0.0, 3.0, f64::NAN], [5]);
    let v = x.sign().to_vec_f64();
    assert_eq!(&v[..4], &[-1.0, 0.0, 0.0, 1.0]);
    assert_eq!(x.relu().to_vec_f64()[..4], [0.0, 0.0, 0.0, 3.0]);
    assert_eq!(x.leaky_relu(0.1).to_vec_f64()[..4], [-0.2, -0.0, 0.0, 3.0]);
    assert_eq!(x.clamp(-1.0, 1.0).to_vec_f64()[..4], [-1.0, 0.0, 0.0, 1.0]);
    assert!(x.exp().to_vec_f64()[4].is_nan());
    // NaN propagates through relu, as in PyTorch (anomaly checks must still see it)
    assert!(x.relu().to_vec_f64()[4].is_nan());
    assert!(x.to_dtype(DType::F32).relu().to_vec_f64()[4].is_nan());
    assert!(x.leaky_relu(0.1).to_vec_f64()[4].is_nan());
    assert!(x.clamp(-1.0, 1.0).to_vec_f64()[4].is_nan());
    // Stable softplus / log-sigmoid far in the tails (log σ(40) = -e^-40, not 0).
    for dt in [DType::F32, DType::F64] {
        let t = Tensor::from_vec(vec![-40.0f64, 40.0, -800.0, 800.0], [4]).to_dtype(dt);
        let sp = t.softplus().to_vec_f64();
        let ls = t.log_sigmoid().to_vec_f64();
        let e40 = (-40.0f64).exp();
        let tol = if dt == DType::F32 { 1e-6 } else { 1e-15 };
        assert!(
            (sp[0] - e40).abs() <= tol * e40,
            "{dt:?} softplus(-40) = {:e}",
            sp[0]
        );
        assert!((sp[1] - 40.0).abs() <= tol * 40.0);
        assert_eq!(sp[2], 0.0);
        assert_eq!(sp[3], 800.0);
        assert!(
            (ls[1] + e40).abs() <= tol * e40,
            "{dt:?} log_sigmoid(40) = {:e}",
            ls[1]
        );
        assert!((ls[0] + 40.0).abs() <= tol * 40.0);
        assert_eq!(ls[2], -800.0);
        assert_eq!(ls[3], -0.0);
    }
}

#[test]
fn where_broadcasts_all_three() {
    let c = t32(&[1.0, 0.0], &[2, 1]);
    let a = t32(&[1.0, 2.0, 3.0], &[3]);
    let b = Tensor::scalar(-1.0, DType::F32);
    let w = Tensor::where_(&c, &a, &b);
    assert_eq!(w.dims(), &[2, 3]);
    assert_eq!(w.to_vec_f32(), vec![1.0, 2.0, 3.0, -1.0, -1.0, -1.0]);
    // A condition in another dtype counts non-zero as true.
    let c64 = Tensor::from_vec(vec![0.0f64, 2.0, 0.0], [3]);
    assert_eq!(
        Tensor::where_(&c64, &a, &b).to_vec_f32(),
        vec![-1.0, 2.0, -1.0]
    );
}

/// Large tensors take the parallel chunked paths; every element must still be right.
#[test]
fn large_unary_and_broadcast_binary_are_elementwise_correct() {
    let n = 3 * minimax_tensor::parallel::CHUNK + 123;
    let v = values(n, 1, DType::F32);
    let x = from_f64(v.clone(), &[n], DType::F32);
    let y = x.mul_scalar(3.0).to_vec_f64();
    for i in 0..n {
        assert_eq!(y[i], round_to(v[i] * 3.0, DType::F32), "element {i}");
    }
    // [300, 257] (a transposed view: inner stride 300) + [257] through the general path.
    let (r, c) = (300, 257);
    let av = values(r * c, 2, DType::F64);
    let bv = values(c, 3, DType::F64);
    let a = build(&av, &[r, c], DType::F64, Layout::Permuted);
    let b = from_f64(bv.clone(), &[c], DType::F64);
    let s = a.add(&b).to_vec_f64();
    let d = b.sub(&a).to_vec_f64();
    for i in 0..r {
        for j in 0..c {
            assert_eq!(s[i * c + j], av[i * c + j] + bv[j], "({i}, {j})");
            assert_eq!(d[i * c + j], bv[j] - av[i * c + j], "({i}, {j})");
        }
    }
    // [300, 1] * [1, 257] (outer product, both operands broadcast).
    let col = from_f64(av[..r].to_vec(), &[r, 1], DType::F64);
    let row = from_f64(bv.clone(), &[1, c], DType::F64);
    let o = col.mul(&row).to_vec_f64();
    for i in 0..r {
        for j in 0..c {
            assert_eq!(o[i * c + j], av[i] * bv[j]);
        }
    }
}

#[test]
fn empty_tensors() {
    let a = Tensor::zeros([0, 3], DType::F32);
    let b = Tensor::ones([3], DType::F32);
    let c = a.add(&b);
    assert_eq!(c.dims(), &[0, 3]);
    assert_eq!(a.exp().dims(), &[0, 3]);
}

/// Small contiguous inputs take a short path in `Tensor::unary`; it gives the bits of the
/// general path (here: the same elements inside a large tensor), on views with an offset, on
/// 0-d tensors and on both sides of its size limit, and its output is a plain contiguous
/// tensor. A small non-contiguous view takes the general path.
#[test]
fn small_unary_matches_the_general_path() {
    for dt in [DType::F32, DType::F64] {
        let vals = twin_values(4096, 11);
        let big = from_f64(vals, &[4096], dt);
        for (op, _) in unary_cases() {
            let whole = big.unary(op).to_vec_f64();
            for n in [1, 2, 5, 15, 16, 17, 40] {
                for start in [0, 3] {
                    let what = format!("{op:?} {dt:?} n={n} start={start}");
                    let got = big.narrow(0, start, n).unary(op);
                    assert_eq!(got.dims(), &[n], "{what}");
                    assert_eq!(got.strides(), &[1], "{what}");
                    assert_same(&got.to_vec_f64(), &whole[start..start + n], &what);
                }
            }
            let what = format!("{op:?} {dt:?}");
            let s = big
                .narrow(0, 7, 1)
                .reshape(minimax_tensor::Shape::scalar())
                .unary(op);
            assert_eq!(s.ndim(), 0, "{what}");
            assert_same(&s.to_vec_f64(), &whole[7..8], &what);
            let m = big.narrow(0, 2, 6).reshape([2, 3]);
            let got = m.unary(op);
            assert_eq!(got.strides(), &[3, 1], "{what}");
            assert_same(&got.to_vec_f64(), &whole[2..8], &what);
            let mt = m.t().unary(op).to_vec_f64();
            let want: Vec<f64> = [0, 3, 1, 4, 2, 5].iter().map(|&k| whole[2 + k]).collect();
            assert_same(&mt, &want, &what);
        }
    }
}

/// `add_assign_if_unique` adds in place only into a buffer nothing else shares, contiguous and
/// of the same shape and dtype, with the bits of `add`; otherwise it leaves everything alone.
#[test]
fn add_assign_if_unique_only_touches_an_unshared_buffer() {
    for dt in [DType::F32, DType::F64] {
        let a = from_f64(twin_values(300, 1), &[300], dt);
        let b = from_f64(twin_values(300, 2), &[300], dt);
        let want = a.add(&b).to_vec_f64();
        let mut own = from_f64(a.to_vec_f64(), &[300], dt);
        assert!(own.add_assign_if_unique(&b));
        assert_same(&own.to_vec_f64(), &want, &format!("{dt:?}"));
        // shared with a clone or a view: refused, both unchanged
        let mut shared = a.clone();
        assert!(!shared.add_assign_if_unique(&b));
        assert_same(&a.to_vec_f64(), &shared.to_vec_f64(), "shared by a clone");
        let mut owner = from_f64(a.to_vec_f64(), &[300], dt);
        let v = owner.reshape([3, 100]);
        assert!(!owner.add_assign_if_unique(&b));
        assert_same(&v.to_vec_f64(), &a.to_vec_f64(), "shared by a view");
        // the sole holder of a buffer it sees only part of: refused
        let mut part = from_f64(a.to_vec_f64(), &[300], dt).narrow(0, 5, 10);
        assert!(!part.add_assign_if_unique(&b.narrow(0, 0, 10)));
        assert_same(&part.to_vec_f64(), &a.to_vec_f64()[5..15], "offset view");
        // a non-contiguous layout, other shapes or dtypes: refused
        let mut m = from_f64(twin_values(6, 3), &[2, 3], dt).t();
        let mt = m.to_vec_f64();
        assert!(!m.add_assign_if_unique(&from_f64(vec![1.0; 6], &[3, 2], dt)));
        assert_same(&m.to_vec_f64(), &mt, "transposed");
        let mut small = from_f64(vec![1.0; 3], &[3], dt);
        assert!(!small.add_assign_if_unique(&from_f64(vec![1.0; 4], &[4], dt)));
        let other = if dt == DType::F32 {
            DType::F64
        } else {
            DType::F32
        };
        assert!(!small.add_assign_if_unique(&from_f64(vec![1.0; 3], &[3], other)));
        assert_eq!(small.to_vec_f64(), vec![1.0; 3]);
    }
}
