//! Vectorisable `f32` approximations of `exp`, `ln`, `tanh` and `sigmoid`.
//!
//! Every scalar function here is `#[inline(always)]`, pure and branch-free:
//! no early returns, no table lookups, no calls into libm.  Special cases are
//! handled by computing the general result and then selecting with
//! `if cond { a } else { b }` on already-computed values, which LLVM lowers
//! to compare + blend (`vcmpps` / `vblendvps`) or `vminps`/`vmaxps`.  Float →
//! int and int → float conversions go through `to_bits`/`from_bits` and the
//! "add 1.5·2²³" rounding trick, so nothing needs SSE4.1 `roundps` or a libm
//! `floorf` call.  Only plain `a * b + c` arithmetic is used (no `mul_add`):
//! Rust never contracts it into an FMA, so results are bit-identical whether
//! or not the caller enables the `fma` target feature.
//!
//! The slice kernels (`exp_slice`, …) are plain `zip` loops marked
//! `#[inline(always)]`, so that a caller compiled with
//! `#[target_feature(enable = "avx2,fma")]` gets them auto-vectorised 8 lanes
//! wide.  Compiled for baseline x86-64 they still vectorise with SSE2
//! (4 lanes).
//!
//! Accuracy figures in the rustdoc of each function were measured
//! *exhaustively* over every `f32` bit pattern in the stated range, against
//! the `f64` std implementation rounded to `f32` (see the `#[ignore]`d
//! `exhaustive_*` tests at the bottom of this file).  "ulp" is the distance in
//! representable `f32` values between our result and that reference.
//!
//! Denormals: inputs that are denormal are handled correctly (no flush);
//! results that fall in the denormal range are produced with gradual
//! underflow (assuming the FPU is not in flush-to-zero mode, which Rust never
//! enables by itself).

/// `log2(e)`.
const LOG2E: f32 = std::f32::consts::LOG2_E;
/// Cody–Waite split of `ln 2`: `LN2_HI` has only 9 significant bits, so
/// `n * LN2_HI` is exact for |n| < 2^15 (we only need |n| <= 150).
#[allow(clippy::excessive_precision)] // written exactly: 355 / 512
const LN2_HI: f32 = 0.693_359_375;
/// `ln 2 - LN2_HI`.
const LN2_LO: f32 = -2.121_944_4e-4;
/// `1.5 * 2^23`: adding and subtracting it rounds an `f32` of magnitude
/// < 2^22 to the nearest integer (ties to even), and leaves that integer in
/// the low mantissa bits.
const ROUND_MAGIC: f32 = 12_582_912.0;
/// Bit pattern of `ROUND_MAGIC`.
const ROUND_MAGIC_BITS: i32 = 0x4B40_0000;
/// Inputs above this overflow to `+inf`. Any value in
/// `(ln(f32::MAX), 128.5 * ln 2)` works; the clamp keeps the exponent
/// arithmetic in range and turns `+inf` into a finite input.
const EXP_HI: f32 = 89.0;
/// Inputs below this give exactly `0.0`. `e^x < 2^-150` (half the smallest
/// denormal) for `x < -103.972_08`, so anything at or below `-104` rounds to
/// zero; the clamp turns `-inf` into a finite input.
const EXP_LO: f32 = -104.0;
/// `sqrt(1/2)`.
const SQRT_HALF: f32 = std::f32::consts::FRAC_1_SQRT_2;
/// Below this |x| `tanh_f32` uses its odd polynomial.
const TANH_POLY_LIMIT: f32 = 0.625;
const SIGN_MASK: u32 = 0x8000_0000;
const ABS_MASK: u32 = 0x7FFF_FFFF;

/// `2^k` for `k` in `[-126, 127]` built directly in the exponent field.
#[inline(always)]
fn pow2i(k: i32) -> f32 {
    f32::from_bits((k.wrapping_add(127) << 23) as u32)
}

/// `|x|` via the sign bit (vectorises to a single `and`).
#[inline(always)]
fn abs_bits(x: f32) -> f32 {
    f32::from_bits(x.to_bits() & ABS_MASK)
}

/// Fast `e^x`.
///
/// Cephes `expf` scheme: `x = n·ln2 + r` with `n = round(x·log2 e)` and a
/// two-constant (Cody–Waite) reduction, so `|r| <= ln2/2`; a degree-7
/// polynomial (`1 + r + r²·P(r)`) approximates `e^r`; the result is scaled
/// by `2^n` built in the exponent bits, in two exact halves so that `n = 128`
/// (results just below `f32::MAX`) and `n` down to `-150` (denormal results)
/// both work without any branch.
///
/// Measured accuracy (exhaustive over all 2^32 `f32` inputs):
/// * max relative error **1.2e-7** (1.19e-7, i.e. max **1 ulp**) over
///   `[-87.336, 88.722]`, i.e. everywhere the result is a normal `f32`;
/// * results in the denormal range (`-103.972 < x < -87.336`) are within
///   1 ulp (absolute error <= 1.4e-45): gradual underflow, no flush;
/// * `x >= 88.722_84` (just above `ln f32::MAX`, same threshold as std)
///   gives `+inf`; `x <= -103.972_08` gives `+0.0`; `exp(±0) = 1`;
///   `exp(+inf) = +inf`; `exp(-inf) = +0`; NaN propagates.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    // Clamp with comparisons that are false for NaN, so NaN passes through.
    let xc = if x > EXP_HI { EXP_HI } else { x };
    let xc = if xc < EXP_LO { EXP_LO } else { xc };

    // n = round(x * log2 e), both as float and as integer.
    let t = xc * LOG2E + ROUND_MAGIC;
    let n_f = t - ROUND_MAGIC;
    let n_i = (t.to_bits() as i32).wrapping_sub(ROUND_MAGIC_BITS);

    // r = x - n ln2, |r| <= 0.3466.
    let r = xc - n_f * LN2_HI;
    let r = r - n_f * LN2_LO;

    // e^r = 1 + r + r^2 * P(r)   (Cephes expf coefficients)
    let r2 = r * r;
    let p = 1.987_569_1e-4_f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5; // Cephes 5.0000001201e-1 rounds to 0.5 in f32
    let er = p * r2 + r + 1.0;

    // Scale by 2^n = 2^n1 * 2^n2 with both halves in the normal range
    // (n in [-150, 128] -> n1, n2 in [-75, 64]).  The first product is
    // exact; the second rounds once, giving correct overflow to +inf and
    // correctly rounded gradual underflow.
    let n1 = n_i >> 1;
    let n2 = n_i.wrapping_sub(n1);
    er * pow2i(n1) * pow2i(n2)
}

/// Fast natural logarithm `ln x`.
///
/// Cephes `logf` scheme: denormal inputs are first scaled by `2^23`; then
/// `x = 2^e · m` with `m` in `[sqrt(1/2), sqrt(2))`, and
/// `ln x = e·ln2 + f - f²/2 + f³·P(f)` with `f = m - 1` (computed exactly)
/// and a degree-8 polynomial `P`; `e·ln2` is added in two parts (Cody–Waite).
///
/// Measured accuracy (exhaustive over all 2^32 `f32` inputs, so every
/// positive finite input including denormals):
/// * max relative error **1.2e-7** (1.19e-7, i.e. max **1 ulp**); this
///   holds right next to `x = 1` too (`ln(1 + ε) ≈ ε` keeps full relative
///   accuracy because `f = m - 1` is exact);
/// * max absolute error 7.6e-6 overall (1 ulp of `|ln x|` in `[64, 104)`),
///   and <= 4.3e-9 vs the exact value on `[0.9, 1.1]` (1M-point sweep);
/// * `ln(±0) = -inf`, `ln(+inf) = +inf`, `ln(x < 0) = NaN`,
///   `ln(-inf) = NaN`, NaN propagates.
#[inline(always)]
pub fn ln_f32(x: f32) -> f32 {
    // Normalise denormals (x * 2^23 is exact).
    let is_denorm = x < f32::MIN_POSITIVE;
    let xs = if is_denorm { x * 8_388_608.0 } else { x };
    let e_adj: i32 = if is_denorm { -23 } else { 0 };

    // x = 2^e * m, m in [0.5, 1).
    let bits = xs.to_bits();
    let e = ((bits >> 23) & 0xFF) as i32;
    let e = e.wrapping_sub(126).wrapping_add(e_adj);
    let m = f32::from_bits((bits & 0x007F_FFFF) | 0x3F00_0000);

    // Move m into [sqrt(1/2), sqrt(2)): if m < sqrt(1/2) use 2m, e - 1.
    // f = m - 1 (resp. 2m - 1) is exact (Sterbenz).
    let small = m < SQRT_HALF;
    let f = if small { m + m - 1.0 } else { m - 1.0 };
    let e = if small { e.wrapping_sub(1) } else { e };
    let ef = e as f32;

    // Cephes logf polynomial.
    let z = f * f;
    let p = 7.037_683_6e-2_f32;
    let p = p * f - 1.151_461e-1;
    let p = p * f + 1.167_699_9e-1;
    let p = p * f - 1.242_014_1e-1;
    let p = p * f + 1.424_932_3e-1;
    let p = p * f - 1.666_805_8e-1;
    let p = p * f + 2.000_071_4e-1;
    let p = p * f - 2.499_999_4e-1;
    let p = p * f + 3.333_333e-1;
    let y = p * f * z;
    let y = y + ef * LN2_LO;
    let y = y - 0.5 * z;
    let r = f + y;
    let r = r + ef * LN2_HI;

    // Special cases, selected branch-free (written as plain ordered
    // compares: LLVM lowers `x == inf` style tests to a longer integer
    // class-test sequence).  +inf -> +inf; ±0 -> -inf; x < 0, -inf and
    // NaN -> NaN.
    let r = if x < f32::INFINITY { r } else { f32::INFINITY };
    let special = if x == 0.0 {
        f32::NEG_INFINITY
    } else {
        f32::NAN
    };
    if x > 0.0 {
        r
    } else {
        special
    }
}

/// Fast `ln(1 + x)`, accurate for small `|x|` where `ln_f32(1.0 + x)` loses
/// all relative accuracy (for `|x| < 2^-24`, `1 + x` rounds to `1`).
///
/// Goldberg's trick: with `u = 1 + x` (rounded), `ln(1 + x) ≈ ln(u) · x / (u - 1)`;
/// the factor `x / (u - 1)` corrects for the rounding of `u`, so the error
/// is that of `ln_f32` plus a few roundings. `u == 1` gives `x` exactly.
///
/// Measured accuracy (the `ln_1p_sweep` test, ~3.7M points over `[-0.999, 1e6]`
/// and every binade of small `|x|` down to the denormals): max relative error
/// **2.1e-7** (the test asserts 3.6e-7).
/// `ln_1p(-1) = -inf`, `ln_1p(+inf) = +inf`, `ln_1p(x < -1) = NaN`, NaN
/// propagates.
#[inline(always)]
pub fn ln_1p_f32(x: f32) -> f32 {
    let u = 1.0 + x;
    let d = u - 1.0;
    let r = ln_f32(u) * (x / d);
    let r = if u == f32::INFINITY { u } else { r };
    if d == 0.0 {
        x
    } else {
        r
    }
}

/// Fast hyperbolic tangent.
///
/// For `|x| < 0.625` an odd polynomial `a + a³·P(a²)` (Cephes `tanhf`
/// coefficients), so the *relative* error is small all the way down to 0
/// (and `tanh(x) = x` exactly for tiny `x`, including denormals and `-0`);
/// otherwise `1 - 2 / (exp(2|x|) + 1)`, which saturates to exactly `1.0`
/// once `exp` overflows.  The two are selected by a mask and the sign of
/// `x` is OR-ed back in, so `tanh(-x) = -tanh(x)` bit for bit.
///
/// Measured accuracy (exhaustive over all 2^32 `f32` inputs):
/// * max relative error **1.2e-7** (1.19e-7, i.e. max **1 ulp**) over all
///   finite inputs; the result is exactly ±1 for `|x| >= 9.010_914`;
/// * `tanh(±0) = ±0`, `tanh(±inf) = ±1`, NaN propagates.
#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    let a = abs_bits(x);

    // Small |x|: odd polynomial in a.
    let z = a * a;
    let p = -5.704_988_7e-3_f32;
    let p = p * z + 2.063_909e-2;
    let p = p * z - 5.373_971_6e-2;
    let p = p * z + 1.333_144_2e-1;
    let p = p * z - 3.333_328e-1;
    let small = p * z * a + a;

    // Large |x|: 1 - 2 / (e^{2a} + 1); e^{2a} = +inf gives exactly 1.
    let e = exp_f32(a + a);
    let large = 1.0 - 2.0 / (e + 1.0);

    // NaN fails the comparison and takes the `large` path, which is NaN.
    let r = if a < TANH_POLY_LIMIT { small } else { large };
    f32::from_bits(r.to_bits() | (x.to_bits() & SIGN_MASK))
}

/// Fast logistic sigmoid `1 / (1 + e^-x)`.
///
/// Computed as `1 / (1 + e)` for `x >= 0` and `e / (1 + e)` for `x < 0`,
/// with `e = exp(-|x|)` in `(0, 1]`, so it never overflows, never produces
/// NaN for large `|x|`, and stays relatively accurate for very negative `x`
/// (where `sigmoid(x) ≈ e^x` is tiny).
///
/// Measured accuracy (exhaustive over all 2^32 `f32` inputs), against
/// `1 / (1 + exp(-x))` evaluated in `f64` and rounded to `f32`:
/// * max relative error **2.4e-7** (2.35e-7, i.e. max **2 ulp**) over
///   `[-87.336, +inf)`, i.e. everywhere the result is a normal `f32`;
/// * results in the denormal range (`-103.972 < x < -87.336`) are within
///   1 ulp (absolute error <= 1.4e-45);
/// * `sigmoid(x) = 1.0` exactly for `x >= 16.635_532`, `+0.0` for
///   `x <= -103.972_08` (and `-inf`), `sigmoid(±0) = 0.5`, NaN propagates.
#[inline(always)]
pub fn sigmoid_f32(x: f32) -> f32 {
    let e = exp_f32(-abs_bits(x));
    let num = if x < 0.0 { e } else { 1.0 };
    num / (1.0 + e)
}

/// `dst[i] = exp_f32(src[i])` for `i < min(src.len(), dst.len())`
/// (lengths should match; checked in debug builds).
#[inline(always)]
pub fn exp_slice(src: &[f32], dst: &mut [f32]) {
    debug_assert_eq!(src.len(), dst.len());
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = exp_f32(s);
    }
}

/// `dst[i] = ln_f32(src[i])` for `i < min(src.len(), dst.len())`
/// (lengths should match; checked in debug builds).
#[inline(always)]
pub fn ln_slice(src: &[f32], dst: &mut [f32]) {
    debug_assert_eq!(src.len(), dst.len());
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = ln_f32(s);
    }
}

/// `dst[i] = tanh_f32(src[i])` for `i < min(src.len(), dst.len())`
/// (lengths should match; checked in debug builds).
#[inline(always)]
pub fn tanh_slice(src: &[f32], dst: &mut [f32]) {
    debug_assert_eq!(src.len(), dst.len());
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = tanh_f32(s);
    }
}

/// `dst[i] = sigmoid_f32(src[i])` for `i < min(src.len(), dst.len())`
/// (lengths should match; checked in debug builds).
#[inline(always)]
pub fn sigmoid_slice(src: &[f32], dst: &mut [f32]) {
    debug_assert_eq!(src.len(), dst.len());
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = sigmoid_f32(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Monotone integer key of an `f32` so that the key difference of two
    /// same-typed floats is their distance in ulps (`+inf` is one ulp above
    /// `f32::MAX`, `-0 == +0`).
    fn key(x: f32) -> i64 {
        let b = x.to_bits();
        if b & SIGN_MASK != 0 {
            -((b & ABS_MASK) as i64)
        } else {
            b as i64
        }
    }

    fn ulps(a: f32, b: f32) -> u64 {
        (key(a) - key(b)).unsigned_abs()
    }

    #[derive(Debug, Default)]
    struct Stats {
        /// Max relative error where the reference is a normal, finite,
        /// non-zero f32.
        max_rel: f64,
        worst_rel_x: f32,
        /// Max ulp distance where the reference is normal.
        max_ulp_normal: u64,
        /// Max ulp distance where the reference is denormal.
        max_ulp_denorm: u64,
        worst_denorm_x: f32,
        /// Max absolute error (finite reference).
        max_abs: f64,
        count: u64,
    }

    /// Compares `got` with `want` and records the error. Panics immediately
    /// on a class mismatch (NaN vs non-NaN, wrong infinity, wrong zero,
    /// sign mismatch) since those are never acceptable.
    fn record(s: &mut Stats, name: &str, x: f32, got: f32, want: f32) {
        s.count += 1;
        if want.is_nan() || got.is_nan() {
            assert!(
                want.is_nan() && got.is_nan(),
                "{name}({x:e} / {:#010x}): got {got:e}, want {want:e}",
                x.to_bits()
            );
            return;
        }
        if want.is_infinite() || want == 0.0 || got.is_infinite() || got == 0.0 {
            // Allowed: inf vs f32::MAX-adjacent or 0 vs smallest denormal
            // are measured in ulps (<= 1 is within rounding noise); a
            // sign flip is never allowed.
            assert!(
                got.is_sign_negative() == want.is_sign_negative() || (got == 0.0 && want == 0.0),
                "{name}({x:e}): sign: got {got:e}, want {want:e}"
            );
            let u = ulps(got, want);
            assert!(
                u <= 1,
                "{name}({x:e}): got {got:e}, want {want:e} ({u} ulp)"
            );
            if want.is_subnormal() || got.is_subnormal() || want == 0.0 {
                s.max_ulp_denorm = s.max_ulp_denorm.max(u);
            }
            return;
        }
        let u = ulps(got, want);
        let abs = (got as f64 - want as f64).abs();
        if abs > s.max_abs {
            s.max_abs = abs;
        }
        if want.is_subnormal() {
            if u > s.max_ulp_denorm {
                s.max_ulp_denorm = u;
                s.worst_denorm_x = x;
            }
        } else {
            let rel = abs / (want as f64).abs();
            if rel > s.max_rel {
                s.max_rel = rel;
                s.worst_rel_x = x;
            }
            s.max_ulp_normal = s.max_ulp_normal.max(u);
        }
    }

    fn ref_exp(x: f32) -> f32 {
        (x as f64).exp() as f32
    }
    fn ref_ln(x: f32) -> f32 {
        (x as f64).ln() as f32
    }
    fn ref_tanh(x: f32) -> f32 {
        (x as f64).tanh() as f32
    }
    fn ref_sigmoid(x: f32) -> f32 {
        let x = x as f64;
        (1.0 / (1.0 + (-x).exp())) as f32
    }

    /// Special inputs every function is checked on.
    fn specials() -> Vec<f32> {
        let mut v = vec![
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            -f32::NAN,
            f32::from_bits(0x7FC1_2345), // NaN with payload
            f32::from_bits(0x7F80_0001), // signalling-pattern NaN
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            f32::from_bits(1), // smallest denormal
            -f32::from_bits(1),
            f32::from_bits(0x007F_FFFF), // largest denormal
            -f32::from_bits(0x007F_FFFF),
            f32::from_bits(0x0000_1234),
            f32::MAX,
            f32::MIN,
            f32::EPSILON,
            1.0,
            -1.0,
            1.0 + f32::EPSILON,
            1.0 - f32::EPSILON / 2.0,
            0.5,
            2.0,
            88.722_83,
            88.722_84,
            88.722_85,
            88.8,
            89.0,
            100.0,
            -87.336_55, // exp(x) ~ f32::MIN_POSITIVE
            -103.972_08,
            -103.972_09,
            -104.0,
            -110.0,
            0.625,
            -0.625,
            0.624_999_94,
            9.0,
            16.6,
            20.0,
            -20.0,
        ];
        // A window of consecutive f32s around each threshold.
        for &c in &[
            88.722_84f32, // exp overflow
            -87.336_55,   // exp normal/denormal boundary
            -103.972_08,  // exp underflow to 0
            0.625,        // tanh branch switch
            -0.625,
            1.0, // ln around 1
            f32::MIN_POSITIVE,
            9.010_913,  // tanh saturation
            16.635_532, // sigmoid saturation
        ] {
            let k = c.to_bits() as i64;
            for d in -3000..=3000i64 {
                v.push(f32::from_bits((k + d) as u32));
            }
        }
        v
    }

    /// Evenly spaced points over [lo, hi] (inclusive), `n` of them.
    fn linspace(lo: f64, hi: f64, n: u64) -> impl Iterator<Item = f32> {
        (0..n).map(move |i| (lo + (hi - lo) * (i as f64) / ((n - 1) as f64)) as f32)
    }

    /// Every `stride`-th bit pattern of the whole `f32` space: covers every
    /// binade (both signs, denormals, NaNs, infinities) roughly uniformly.
    fn bit_sweep(stride: u64) -> impl Iterator<Item = f32> {
        (0..(1u64 << 32))
            .step_by(stride as usize)
            .map(|b| f32::from_bits(b as u32))
    }

    fn run<I: Iterator<Item = f32>>(
        name: &str,
        f: fn(f32) -> f32,
        r: fn(f32) -> f32,
        xs: I,
    ) -> Stats {
        let mut s = Stats::default();
        for x in xs {
            record(&mut s, name, x, f(x), r(x));
        }
        s
    }

    // ---- exp -----------------------------------------------------------

    #[test]
    fn exp_special_values() {
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(-0.0), 1.0);
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32(f32::NEG_INFINITY).to_bits(), 0);
        assert!(exp_f32(f32::NAN).is_nan());
        assert!(exp_f32(-f32::NAN).is_nan());
        assert_eq!(exp_f32(f32::MAX), f32::INFINITY);
        assert_eq!(exp_f32(f32::MIN).to_bits(), 0);
        // Overflow threshold: ln(f32::MAX) = 88.7228391...
        assert!(exp_f32(88.722_83).is_finite());
        assert_eq!(exp_f32(88.722_85), f32::INFINITY);
        assert_eq!(exp_f32(89.0), f32::INFINITY);
        assert_eq!(exp_f32(1000.0), f32::INFINITY);
        // Underflow: gradual into denormals, then exactly +0.
        assert!(exp_f32(-100.0).is_subnormal());
        assert!(exp_f32(-103.9).is_subnormal());
        assert_eq!(exp_f32(-103.972_09).to_bits(), 0);
        assert_eq!(exp_f32(-104.0).to_bits(), 0);
        assert_eq!(exp_f32(-1000.0).to_bits(), 0);
        // Denormal inputs.
        assert_eq!(exp_f32(f32::from_bits(1)), 1.0);
        assert_eq!(exp_f32(-f32::from_bits(1)), 1.0);
        assert_eq!(exp_f32(1.0), std::f32::consts::E);
    }

    /// Documented: max rel 1.2e-7 (1 ulp) over the normal-result range,
    /// <= 1 ulp in the denormal-result range.
    const EXP_MAX_REL: f64 = 1.2e-7;
    const EXP_MAX_ULP: u64 = 1;
    const EXP_MAX_ULP_DENORM: u64 = 1;

    #[test]
    fn exp_sweep() {
        // Dense over the normal-result domain, then the denormal-result
        // domain, the whole bit space and the specials/thresholds.
        let xs = linspace(-87.336, 88.7228, 2_000_001)
            .chain(linspace(-104.5, -87.3, 200_001))
            .chain(linspace(-1.0, 1.0, 200_001))
            .chain(bit_sweep(4093))
            .chain(specials());
        let s = run("exp_f32", exp_f32, ref_exp, xs);
        eprintln!("exp_f32: {s:?}");
        assert!(s.count > 3_000_000);
        assert!(s.max_rel <= EXP_MAX_REL, "{s:?}");
        assert!(s.max_ulp_normal <= EXP_MAX_ULP, "{s:?}");
        assert!(s.max_ulp_denorm <= EXP_MAX_ULP_DENORM, "{s:?}");
    }

    // ---- ln ------------------------------------------------------------

    #[test]
    fn ln_special_values() {
        assert_eq!(ln_f32(0.0), f32::NEG_INFINITY);
        assert_eq!(ln_f32(-0.0), f32::NEG_INFINITY);
        assert_eq!(ln_f32(f32::INFINITY), f32::INFINITY);
        assert!(ln_f32(f32::NEG_INFINITY).is_nan());
        assert!(ln_f32(-1.0).is_nan());
        assert!(ln_f32(-f32::from_bits(1)).is_nan());
        assert!(ln_f32(-f32::MIN_POSITIVE).is_nan());
        assert!(ln_f32(f32::NAN).is_nan());
        assert!(ln_f32(-f32::NAN).is_nan());
        assert_eq!(ln_f32(1.0), 0.0);
        assert!(ln_f32(1.0).is_sign_positive());
        assert_eq!(ln_f32(std::f32::consts::E), 1.0);
        // Denormal inputs.
        let tiny = f32::from_bits(1); // 2^-149
        let want = -149.0 * std::f64::consts::LN_2;
        assert!((ln_f32(tiny) as f64 - want).abs() / want.abs() < 2e-7);
        assert!(ln_f32(f32::MAX).is_finite());
    }

    /// Documented: max rel 1.2e-7 (1 ulp) over all positive finite f32.
    const LN_MAX_REL: f64 = 1.2e-7;
    const LN_MAX_ULP: u64 = 1;

    #[test]
    fn ln_sweep() {
        // Every 2048th positive bit pattern covers all binades (1M points);
        // plus dense linear sweeps around 1 (where ln -> 0 and a naive
        // implementation loses all relative accuracy) and over (0, 10].
        let pos = (0u32..0x7F80_0000).step_by(2048).map(f32::from_bits);
        let xs = pos
            .chain(linspace(0.5, 2.0, 1_000_001))
            .chain(linspace(1.0 - 1.0 / 1024.0, 1.0 + 1.0 / 1024.0, 200_001))
            .chain(linspace(1e-6, 10.0, 500_001))
            .chain(bit_sweep(4093))
            .chain(specials());
        let s = run("ln_f32", ln_f32, ref_ln, xs);
        eprintln!("ln_f32: {s:?}");
        assert!(s.count > 3_000_000);
        assert!(s.max_rel <= LN_MAX_REL, "{s:?}");
        assert!(s.max_ulp_normal <= LN_MAX_ULP, "{s:?}");
        // Absolute error: at most 1 ulp (7.6e-6) of the largest |ln x|.
        assert!(s.max_abs <= 7.7e-6, "{s:?}");
    }

    #[test]
    fn ln_near_one_absolute() {
        // Absolute error around 1 against the exact (f64) value, the
        // measure that matters to callers summing log-likelihoods.
        let mut max_abs = 0f64;
        for x in linspace(0.9, 1.1, 1_000_001) {
            let err = (ln_f32(x) as f64 - (x as f64).ln()).abs();
            max_abs = max_abs.max(err);
        }
        eprintln!("ln_f32 near 1: max abs {max_abs:e}");
        assert!(max_abs <= 5e-9, "max abs {max_abs:e}");
    }

    // ---- ln_1p ---------------------------------------------------------

    #[test]
    fn ln_1p_sweep() {
        fn ref_ln_1p(x: f32) -> f32 {
            (x as f64).ln_1p() as f32
        }
        assert_eq!(ln_1p_f32(0.0).to_bits(), 0);
        assert_eq!(ln_1p_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(ln_1p_f32(-1.0), f32::NEG_INFINITY);
        assert_eq!(ln_1p_f32(f32::INFINITY), f32::INFINITY);
        assert!(ln_1p_f32(-2.0).is_nan());
        assert!(ln_1p_f32(f32::NAN).is_nan());
        assert_eq!(ln_1p_f32(1e-30), 1e-30);
        // Magnitudes from the denormals up, both signs, plus a dense linear sweep.
        let small = (1u32..0x3F7F_0000).step_by(997).map(f32::from_bits);
        let xs = small
            .clone()
            .chain(small.map(|x| -x))
            .chain(linspace(-0.999, 4.0, 1_000_001))
            .chain(linspace(4.0, 1e6, 100_001));
        let mut max_rel = 0f64;
        for x in xs {
            let (got, want) = (ln_1p_f32(x), ref_ln_1p(x));
            if want == 0.0 || want.is_subnormal() {
                assert_eq!(got, want, "x={x:e}");
                continue;
            }
            let rel = ((got as f64 - want as f64) / want as f64).abs();
            assert!(rel <= 3.6e-7, "ln_1p_f32({x:e}) = {got:e}, want {want:e}");
            max_rel = max_rel.max(rel);
        }
        eprintln!("ln_1p_f32: max rel {max_rel:e}");
    }

    // ---- tanh ----------------------------------------------------------

    #[test]
    fn tanh_special_values() {
        assert_eq!(tanh_f32(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(tanh_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(tanh_f32(f32::INFINITY), 1.0);
        assert_eq!(tanh_f32(f32::NEG_INFINITY), -1.0);
        assert_eq!(tanh_f32(f32::MAX), 1.0);
        assert_eq!(tanh_f32(f32::MIN), -1.0);
        assert_eq!(tanh_f32(20.0), 1.0);
        assert_eq!(tanh_f32(-20.0), -1.0);
        assert!(tanh_f32(f32::NAN).is_nan());
        assert!(tanh_f32(-f32::NAN).is_nan());
        let d = f32::from_bits(0x0000_1234);
        assert_eq!(tanh_f32(d), d);
        assert_eq!(tanh_f32(-d), -d);
        assert_eq!(tanh_f32(1e-20), 1e-20);
        // Saturation threshold.
        assert_eq!(tanh_f32(9.010_914), 1.0);
        assert!(tanh_f32(9.010_913) < 1.0);
        // Odd symmetry, bit for bit.
        for x in linspace(0.0, 12.0, 100_001) {
            assert_eq!(tanh_f32(-x).to_bits(), (-tanh_f32(x)).to_bits(), "x={x}");
        }
        // Monotone across the branch switch.
        let k = TANH_POLY_LIMIT.to_bits();
        for b in k - 2000..k + 2000 {
            let (a, c) = (f32::from_bits(b), f32::from_bits(b + 1));
            assert!(tanh_f32(a) <= tanh_f32(c), "not monotone at {a}");
        }
    }

    /// Documented: max rel 1.2e-7 (1 ulp) over all finite inputs.
    const TANH_MAX_REL: f64 = 1.2e-7;
    const TANH_MAX_ULP: u64 = 1;

    #[test]
    fn tanh_sweep() {
        // Small |x| in log-spaced bit patterns (relative accuracy near 0),
        // dense linear sweep over the non-saturated domain, whole bit space.
        let near0 = (0u32..0x3F80_0000).step_by(1024).map(f32::from_bits);
        let xs = near0
            .clone()
            .chain(near0.map(|x| -x))
            .chain(linspace(-10.0, 10.0, 2_000_001))
            .chain(linspace(-1.0, 1.0, 500_001))
            .chain(bit_sweep(4093))
            .chain(specials());
        let s = run("tanh_f32", tanh_f32, ref_tanh, xs);
        eprintln!("tanh_f32: {s:?}");
        assert!(s.count > 3_000_000);
        assert!(s.max_rel <= TANH_MAX_REL, "{s:?}");
        assert!(s.max_ulp_normal <= TANH_MAX_ULP, "{s:?}");
        assert_eq!(s.max_ulp_denorm, 0, "{s:?}");
    }

    // ---- sigmoid -------------------------------------------------------

    #[test]
    fn sigmoid_special_values() {
        assert_eq!(sigmoid_f32(0.0), 0.5);
        assert_eq!(sigmoid_f32(-0.0), 0.5);
        assert_eq!(sigmoid_f32(f32::INFINITY), 1.0);
        assert_eq!(sigmoid_f32(f32::NEG_INFINITY).to_bits(), 0);
        assert_eq!(sigmoid_f32(f32::MAX), 1.0);
        assert_eq!(sigmoid_f32(f32::MIN).to_bits(), 0);
        assert!(sigmoid_f32(f32::NAN).is_nan());
        assert!(sigmoid_f32(-f32::NAN).is_nan());
        assert_eq!(sigmoid_f32(17.0), 1.0);
        assert_eq!(sigmoid_f32(16.635_532), 1.0);
        assert!(sigmoid_f32(16.635_53) < 1.0);
        assert!(sigmoid_f32(-100.0).is_subnormal());
        assert_eq!(sigmoid_f32(-104.0).to_bits(), 0);
        for x in [
            1e3f32, 1e10, 1e30, -1e3, -1e10, -1e30, 88.8, -88.8, 200.0, -200.0,
        ] {
            let y = sigmoid_f32(x);
            assert!((0.0..=1.0).contains(&y), "sigmoid({x}) = {y}");
        }
    }

    /// Documented: max rel 2.4e-7 (2 ulp) over normal-result range, <= 1 ulp
    /// in the denormal-result range.
    const SIGMOID_MAX_REL: f64 = 2.4e-7;
    const SIGMOID_MAX_ULP: u64 = 2;
    const SIGMOID_MAX_ULP_DENORM: u64 = 1;

    #[test]
    fn sigmoid_sweep() {
        let xs = linspace(-87.3, 20.0, 2_000_001)
            .chain(linspace(-10.0, 10.0, 500_001))
            .chain(linspace(-104.5, -87.3, 200_001))
            .chain(bit_sweep(4093))
            .chain(specials());
        let s = run("sigmoid_f32", sigmoid_f32, ref_sigmoid, xs);
        eprintln!("sigmoid_f32: {s:?}");
        assert!(s.count > 3_000_000);
        assert!(s.max_rel <= SIGMOID_MAX_REL, "{s:?}");
        assert!(s.max_ulp_normal <= SIGMOID_MAX_ULP, "{s:?}");
        assert!(s.max_ulp_denorm <= SIGMOID_MAX_ULP_DENORM, "{s:?}");
    }

    // ---- slices --------------------------------------------------------

    #[test]
    fn slice_kernels_match_scalar() {
        // Odd length so a vectorised main loop plus remainder are both hit.
        let src: Vec<f32> = linspace(-120.0, 120.0, 1037)
            .chain(specials().into_iter().take(40))
            .collect();
        let mut dst = vec![0.0f32; src.len()];
        type Pair = (fn(&[f32], &mut [f32]), fn(f32) -> f32);
        let pairs: [Pair; 4] = [
            (exp_slice, exp_f32),
            (ln_slice, ln_f32),
            (tanh_slice, tanh_f32),
            (sigmoid_slice, sigmoid_f32),
        ];
        for (slice_fn, scalar) in pairs {
            slice_fn(&src, &mut dst);
            for (&x, &y) in src.iter().zip(&dst) {
                let want = scalar(x);
                assert!(
                    y.to_bits() == want.to_bits() || (y.is_nan() && want.is_nan()),
                    "x={x}: slice {y} vs scalar {want}"
                );
            }
        }
    }

    // ---- exhaustive (slow; run with `--release -- --ignored`) ----------

    fn exhaustive(name: &str, f: fn(f32) -> f32, r: fn(f32) -> f32) -> Stats {
        let s = run(name, f, r, (0..=u32::MAX).map(f32::from_bits));
        eprintln!("{name} exhaustive: {s:?}");
        s
    }

    #[test]
    #[ignore]
    fn exhaustive_exp() {
        let s = exhaustive("exp_f32", exp_f32, ref_exp);
        assert!(s.max_rel <= EXP_MAX_REL && s.max_ulp_normal <= EXP_MAX_ULP);
        assert!(s.max_ulp_denorm <= EXP_MAX_ULP_DENORM);
    }

    #[test]
    #[ignore]
    fn exhaustive_ln() {
        let s = exhaustive("ln_f32", ln_f32, ref_ln);
        assert!(s.max_rel <= LN_MAX_REL && s.max_ulp_normal <= LN_MAX_ULP);
    }

    #[test]
    #[ignore]
    fn exhaustive_tanh() {
        let s = exhaustive("tanh_f32", tanh_f32, ref_tanh);
        assert!(s.max_rel <= TANH_MAX_REL && s.max_ulp_normal <= TANH_MAX_ULP);
    }

    #[test]
    #[ignore]
    fn exhaustive_sigmoid() {
        let s = exhaustive("sigmoid_f32", sigmoid_f32, ref_sigmoid);
        assert!(s.max_rel <= SIGMOID_MAX_REL && s.max_ulp_normal <= SIGMOID_MAX_ULP);
        assert!(s.max_ulp_denorm <= SIGMOID_MAX_ULP_DENORM);
    }
}
