//! Compute kernels on slices. Hot loops are written once as plain chunked loops and compiled
//! three times: for AVX-512, for AVX2+FMA and for the baseline target (the only build on other
//! architectures); the highest level the CPU has is picked at run time ([`simd_level`]).

pub mod conv;
pub mod direct;
pub mod elementwise;
pub mod fastmath;
pub mod gemm;
pub mod reduce;
pub mod winograd;

use std::mem::MaybeUninit;

/// Writes `v` into every slot of `s` and returns the slots as the initialised slice they now
/// are: the safe way to start from a fresh (uninitialised) buffer that is accumulated into.
#[inline]
pub(crate) fn fill_uninit<T: Copy>(s: &mut [MaybeUninit<T>], v: T) -> &mut [T] {
    s.fill(MaybeUninit::new(v));
    // SAFETY: every element was written just above; `MaybeUninit<T>` has the layout of `T`.
    unsafe { assume_init_slice(s) }
}

/// Views slots that have all been written as the initialised slice they are (what the
/// unstable `<[MaybeUninit<T>]>::assume_init_mut` does).
///
/// # Safety
/// Every element of `s` must have been written with a valid `T`.
#[inline(always)]
pub(crate) unsafe fn assume_init_slice<T>(s: &mut [MaybeUninit<T>]) -> &mut [T] {
    // SAFETY: same layout; the caller promises every element is initialised.
    unsafe { &mut *(s as *mut [MaybeUninit<T>] as *mut [T]) }
}

/// The instruction sets a kernel build may use, from the portable baseline up.
///
/// Every kernel written with `simd_twin!` is compiled once per level; [`simd_level`] picks the
/// highest one the CPU has. The builds give the same bits: the code fixes the order of every
/// sum (explicit lanes), Rust never fuses a multiply and an add on its own, and `mul_add` is
/// an exact fused operation in every build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Simd {
    /// The baseline target (SSE2 on x86-64), and the only build elsewhere.
    Baseline,
    /// AVX2 and FMA: 16 registers of 8 f32 lanes.
    Avx2,
    /// AVX-512 (F, VL, DQ, BW) on top of AVX2 and FMA: 32 registers of 16 f32 lanes, and
    /// masked loads and stores for loop tails.
    Avx512,
}

impl Simd {
    /// Every level, lowest first.
    pub const ALL: [Simd; 3] = [Simd::Baseline, Simd::Avx2, Simd::Avx512];

    /// Whether this CPU can run builds of this level.
    pub fn available(self) -> bool {
        match self {
            Simd::Baseline => true,
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => {
                Simd::Avx2.available()
                    && is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512vl")
                    && is_x86_feature_detected!("avx512dq")
                    && is_x86_feature_detected!("avx512bw")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The level's name as `MINIMAX_SIMD` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Simd::Baseline => "baseline",
            Simd::Avx2 => "avx2",
            Simd::Avx512 => "avx512",
        }
    }
}

/// The kernel builds in use on this machine: the highest [`Simd`] level the CPU has, capped
/// (checked once) by the environment variable `MINIMAX_SIMD=baseline|avx2|avx512`, or forced
/// to the baseline by `MINIMAX_NO_SIMD=1`.
#[inline]
pub fn simd_level() -> Simd {
    use std::sync::OnceLock;
    static LEVEL: OnceLock<Simd> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let cap = if std::env::var_os("MINIMAX_NO_SIMD").is_some() {
            Simd::Baseline
        } else {
            match std::env::var("MINIMAX_SIMD").map(|v| v.to_ascii_lowercase()).as_deref() {
                Ok("baseline") => Simd::Baseline,
                Ok("avx2") => Simd::Avx2,
                Ok("avx512") | Err(_) => Simd::Avx512,
                Ok(other) => {
                    eprintln!(
                        "minimax: MINIMAX_SIMD={other} is not one of baseline, avx2, avx512; ignored"
                    );
                    Simd::Avx512
                }
            }
        };
        Simd::ALL
            .into_iter()
            .filter(|l| *l <= cap && l.available())
            .max()
            .unwrap_or(Simd::Baseline)
    })
}

/// Whether the AVX2+FMA (or wider) builds of the kernels are used on this machine.
#[inline]
pub fn simd_enabled() -> bool {
    simd_level() >= Simd::Avx2
}

/// Defines `$name`, which runs `$inner` compiled for the highest [`Simd`] level in use
/// ([`simd_level`]), and `$with`, which runs the build of a given level if the CPU has it
/// (returning whether it ran), for twin tests and benchmarks. `$inner` must be
/// `#[inline(always)]` so that each build compiles its own copy.
///
/// `=> $inner, up to $max` caps the level `$name` uses at `Simd::$max` (the wider builds stay
/// reachable through `$with`, for the twin tests).
macro_rules! simd_twin {
    ($(#[$m:meta])* $vis:vis fn $name:ident / $with:ident <$T:ident>($($arg:ident : $ty:ty),*) => $inner:path) => {
        $crate::kernels::simd_twin! {
            $(#[$m])* $vis fn $name / $with <$T>($($arg: $ty),*) => $inner, up to Avx512
        }
    };
    ($(#[$m:meta])* $vis:vis fn $name:ident / $with:ident <$T:ident>($($arg:ident : $ty:ty),*) => $inner:path, up to $max:ident) => {
        $(#[$m])*
        #[inline]
        $vis fn $name<$T: $crate::Element>($($arg: $ty),*) {
            let level = $crate::kernels::simd_level().min($crate::kernels::Simd::$max);
            $with::<$T>(level, $($arg),*);
        }

        #[doc = concat!("Runs the build of [`", stringify!($name), "`] for `level` if this CPU has it; returns whether it ran.")]
        #[inline]
        $vis fn $with<$T: $crate::Element>(level: $crate::kernels::Simd, $($arg: $ty),*) -> bool {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            unsafe fn avx2<$T: $crate::Element>($($arg: $ty),*) {
                $inner($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")]
            unsafe fn avx512<$T: $crate::Element>($($arg: $ty),*) {
                $inner($($arg),*)
            }
            use $crate::kernels::Simd;
            match level {
                Simd::Baseline => $inner($($arg),*),
                #[cfg(target_arch = "x86_64")]
                Simd::Avx2 if level <= $crate::kernels::simd_level() || level.available() => {
                    // SAFETY: the CPU has AVX2 and FMA (checked at run time above).
                    unsafe { avx2::<$T>($($arg),*) }
                }
                #[cfg(target_arch = "x86_64")]
                Simd::Avx512 if level <= $crate::kernels::simd_level() || level.available() => {
                    // SAFETY: the CPU has AVX-512 F/VL/DQ/BW, AVX2 and FMA (checked above).
                    unsafe { avx512::<$T>($($arg),*) }
                }
                _ => return false,
            }
            true
        }
    };
}
pub(crate) use simd_twin;
