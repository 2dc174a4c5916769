//! Compute kernels on slices. Hot loops are written once as plain chunked loops and compiled
//! twice: for AVX2+FMA (selected at run time with `is_x86_feature_detected!`) and for the
//! baseline target, which is also the path on other architectures.

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

/// Whether the AVX2+FMA variants of the kernels are used on this machine.
///
/// Setting the environment variable `MINIMAX_NO_SIMD=1` forces the scalar path (checked once).
#[inline]
pub fn simd_enabled() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::sync::OnceLock;
        static ON: OnceLock<bool> = OnceLock::new();
        *ON.get_or_init(|| {
            std::env::var_os("MINIMAX_NO_SIMD").is_none()
                && is_x86_feature_detected!("avx2")
                && is_x86_feature_detected!("fma")
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Defines `$name` that calls `$inner` compiled with AVX2+FMA when available, else the
/// baseline build of the same code. `$inner` must be `#[inline(always)]`.
macro_rules! simd_twin {
    ($(#[$m:meta])* $vis:vis fn $name:ident / $avx:ident / $scalar:ident <$T:ident>($($arg:ident : $ty:ty),*) => $inner:path) => {
        $(#[$m])*
        #[inline]
        $vis fn $name<$T: $crate::Element>($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                if $crate::kernels::simd_enabled() {
                    // SAFETY: the CPU supports avx2 and fma (checked at run time above).
                    unsafe { $avx::<$T>($($arg),*) };
                    return;
                }
            }
            $scalar::<$T>($($arg),*)
        }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $avx<$T: $crate::Element>($($arg: $ty),*) {
            $inner($($arg),*)
        }
        /// The baseline (scalar-target) build of the kernel, public for twin tests.
        pub fn $scalar<$T: $crate::Element>($($arg: $ty),*) {
            $inner($($arg),*)
        }
    };
}
pub(crate) use simd_twin;
