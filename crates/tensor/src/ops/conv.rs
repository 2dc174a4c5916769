//! 2-D convolutions on NCHW tensors, with PyTorch's semantics and weight layouts, and the
//! gradient kernels autograd calls.
//!
//! Three kernels do all the work (see [`crate::kernels::conv`] for im2col and col2im):
//!
//! | kernel | computes | serves |
//! |---|---|---|
//! | forward | `y[n] = W · im2col(x[n])` | `conv2d`, the input gradient of `conv_transpose2d` |
//! | data-backward | `x[n] = col2im(Wᵀ · y[n])` | `conv_transpose2d`, the input gradient of `conv2d` |
//! | filter-backward | `dW = Σₙ dy[n] · im2col(x[n])ᵀ` | the weight gradients of both |
//!
//! All three work on fixed blocks of a few samples (enough for about 256 GEMM columns, fewer if
//! the block's im2col matrix would not stay in half of a 1 MiB L2 cache), with one GEMM per block
//! and group over the block's side-by-side columns. A block is computed by one
//! thread, blocks run in parallel; the filter-backward kernel deals the blocks out in
//! `WGRAD_LANES` fixed runs, each accumulating its products in place, and adds the runs in
//! order at the end. Block sizes and lanes depend only on the shapes, and `matrixmultiply`
//! computes each output element with the same operations wherever it sits, so every result is
//! bit-identical for any number of threads. With a single block the GEMM itself is split over
//! threads by [`crate::kernels::gemm::gemm`], again without changing any bit.
//!
//! The operands are laid out for `matrixmultiply`'s fast packing paths (a column-major left
//! operand, a row-major right one), with row strides padded so that columns do not alias in the
//! L1 cache.

use crate::error::{ok, TensorError};
use crate::kernels::conv::{ConvGeom, Im2col};
use crate::kernels::direct::{self, Direct};
use crate::kernels::gemm::{gemm_ptr, gemm_raw, MatRef};
use crate::kernels::winograd;
use crate::kernels::{assume_init_slice, fill_uninit};
use crate::pool::{self, Buffer};
use crate::shape::Shape;
use crate::{with_dtype, DType, Element, Tensor};
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicBool, Ordering};

/// Hyper-parameters of [`Tensor::conv2d`] (PyTorch's `nn.Conv2d` arguments).
///
/// ```
/// use minimax_tensor::Conv2dParams;
/// let p = Conv2dParams::new((2, 2), (1, 1)); // stride 2, padding 1
/// assert_eq!((p.dilation, p.groups), ((1, 1), 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dParams {
    /// Step between kernel positions (vertical, horizontal). Default `(1, 1)`.
    pub stride: (usize, usize),
    /// Zeros added on both sides of the input (vertical, horizontal). Default `(0, 0)`.
    pub padding: (usize, usize),
    /// Spacing between kernel taps (vertical, horizontal). Default `(1, 1)`.
    pub dilation: (usize, usize),
    /// Channel groups: input and output channels are split into `groups` independent parts.
    /// Default 1.
    pub groups: usize,
}

impl Default for Conv2dParams {
    fn default() -> Self {
        Conv2dParams {
            stride: (1, 1),
            padding: (0, 0),
            dilation: (1, 1),
            groups: 1,
        }
    }
}

impl Conv2dParams {
    /// Parameters with the given stride and padding, dilation 1 and one group.
    pub fn new(stride: (usize, usize), padding: (usize, usize)) -> Self {
        Conv2dParams {
            stride,
            padding,
            ..Default::default()
        }
    }
    /// The same parameters with another dilation.
    pub fn with_dilation(self, dilation: (usize, usize)) -> Self {
        Conv2dParams { dilation, ..self }
    }
    /// The same parameters with another number of groups.
    pub fn with_groups(self, groups: usize) -> Self {
        Conv2dParams { groups, ..self }
    }
}

/// Hyper-parameters of [`Tensor::conv_transpose2d`] (PyTorch's `nn.ConvTranspose2d` arguments).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvTranspose2dParams {
    /// Stride of the convolution this one transposes (vertical, horizontal). Default `(1, 1)`.
    pub stride: (usize, usize),
    /// Padding of the convolution this one transposes: `padding` rows/columns are cropped from
    /// each side of the full output. Default `(0, 0)`.
    pub padding: (usize, usize),
    /// Extra rows/columns added to one side (bottom/right) of the output, to pick among the input
    /// sizes a strided convolution maps to the same output size. Must be smaller than the stride
    /// or the dilation. Default `(0, 0)`.
    pub output_padding: (usize, usize),
    /// Spacing between kernel taps (vertical, horizontal). Default `(1, 1)`.
    pub dilation: (usize, usize),
    /// Channel groups. Default 1.
    pub groups: usize,
}

impl Default for ConvTranspose2dParams {
    fn default() -> Self {
        ConvTranspose2dParams {
            stride: (1, 1),
            padding: (0, 0),
            output_padding: (0, 0),
            dilation: (1, 1),
            groups: 1,
        }
    }
}

impl ConvTranspose2dParams {
    /// Parameters with the given stride and padding, no output padding, dilation 1, one group.
    pub fn new(stride: (usize, usize), padding: (usize, usize)) -> Self {
        ConvTranspose2dParams {
            stride,
            padding,
            ..Default::default()
        }
    }
    /// The same parameters with another output padding.
    pub fn with_output_padding(self, output_padding: (usize, usize)) -> Self {
        ConvTranspose2dParams {
            output_padding,
            ..self
        }
    }
    /// The same parameters with another dilation.
    pub fn with_dilation(self, dilation: (usize, usize)) -> Self {
        ConvTranspose2dParams { dilation, ..self }
    }
    /// The same parameters with another number of groups.
    pub fn with_groups(self, groups: usize) -> Self {
        ConvTranspose2dParams { groups, ..self }
    }
    /// The [`Conv2dParams`] of the convolution this one transposes.
    pub fn conv_params(&self) -> Conv2dParams {
        Conv2dParams {
            stride: self.stride,
            padding: self.padding,
            dilation: self.dilation,
            groups: self.groups,
        }
    }
}

// ---------------------------------------------------------------------------- validation

fn dims4(op: &str, what: &str, t: &Shape) -> Result<[usize; 4], TensorError> {
    match *t.dims() {
        [a, b, c, d] => Ok([a, b, c, d]),
        _ => Err(TensorError::new(format!(
            "{op}: {what} {t:?} must be 4-D [{}]",
            if what == "weight" {
                "out, in, kh, kw"
            } else {
                "N, C, H, W"
            }
        ))),
    }
}

fn check_hyper(
    op: &str,
    stride: (usize, usize),
    dilation: (usize, usize),
    groups: usize,
) -> Result<(), TensorError> {
    if stride.0 == 0 || stride.1 == 0 {
        return Err(TensorError::new(format!(
            "{op}: stride {stride:?} must be positive"
        )));
    }
    if dilation.0 == 0 || dilation.1 == 0 {
        return Err(TensorError::new(format!(
            "{op}: dilation {dilation:?} must be positive"
        )));
    }
    if groups == 0 {
        return Err(TensorError::new(format!("{op}: groups must be positive")));
    }
    Ok(())
}

fn check_dtypes(op: &str, a: (&str, &Tensor), b: (&str, &Tensor)) -> Result<(), TensorError> {
    if a.1.dtype() != b.1.dtype() {
        return Err(TensorError::new(format!(
            "{op}: dtype mismatch: {} {:?} is {} but {} {:?} is {} (convert one with .to_dtype())",
            a.0,
            a.1.shape(),
            a.1.dtype(),
            b.0,
            b.1.shape(),
            b.1.dtype()
        )));
    }
    Ok(())
}

fn check_bias(
    op: &str,
    bias: Option<&Tensor>,
    cout: usize,
    weight: &Tensor,
) -> Result<(), TensorError> {
    if let Some(b) = bias {
        check_dtypes(op, ("weight", weight), ("bias", b))?;
        if b.dims() != [cout] {
            return Err(TensorError::new(format!(
                "{op}: bias {:?} must have shape [{cout}] to match weight {:?}",
                b.shape(),
                weight.shape()
            )));
        }
    }
    Ok(())
}

/// Checks a conv2d weight `[cout, cin/groups, kh, kw]` against `cin` input channels (of a tensor
/// described by `what` with shape `xs`); returns `(cout, kh, kw)`.
fn check_conv_weight(
    op: &str,
    what: &str,
    xs: &Shape,
    cin: usize,
    ws: &Shape,
    groups: usize,
) -> Result<[usize; 4], TensorError> {
    let w = dims4(op, "weight", ws)?;
    if cin != w[1] * groups {
        return Err(TensorError::new(format!(
            "{op}: {what} {xs:?} has {cin} channels but weight {ws:?} expects {} (groups {groups})",
            w[1] * groups
        )));
    }
    if w[0] % groups != 0 {
        return Err(TensorError::new(format!(
            "{op}: weight {ws:?} has {} output channels, which groups {groups} does not divide",
            w[0]
        )));
    }
    Ok(w)
}

/// The output size of a conv2d, or an error naming the shapes.
fn conv_out_hw(
    op: &str,
    xs: &Shape,
    ws: &Shape,
    hw: (usize, usize),
    k: (usize, usize),
    p: &Conv2dParams,
) -> Result<(usize, usize), TensorError> {
    let oh = ConvGeom::out_len(hw.0, k.0, p.stride.0, p.padding.0, p.dilation.0);
    let ow = ConvGeom::out_len(hw.1, k.1, p.stride.1, p.padding.1, p.dilation.1);
    match (oh, ow) {
        (Some(oh), Some(ow)) => Ok((oh, ow)),
        _ => {
            let sz = |len: usize, k: usize, s: usize, pad: usize, d: usize| {
                ((len + 2 * pad) as isize - (d * (k.max(1) - 1) + 1) as isize)
                    .div_euclid(s as isize)
                    + 1
            };
            Err(TensorError::new(format!(
                "{op}: output size {}×{} is not positive: input {xs:?} padded by {:?} is smaller than \
                 weight {ws:?} dilated by {:?}",
                sz(hw.0, k.0, p.stride.0, p.padding.0, p.dilation.0),
                sz(hw.1, k.1, p.stride.1, p.padding.1, p.dilation.1),
                p.padding,
                p.dilation
            )))
        }
    }
}

/// The output size of a transposed convolution (signed, may be ≤ 0).
fn transpose_out_len(len: usize, k: usize, s: usize, pad: usize, d: usize, op: usize) -> isize {
    (len as isize - 1) * s as isize - 2 * pad as isize
        + (d * (k.max(1) - 1)) as isize
        + op as isize
        + 1
}

fn geom(
    channels: usize,
    hw: (usize, usize),
    k: (usize, usize),
    p: &Conv2dParams,
    ohw: (usize, usize),
) -> ConvGeom {
    ConvGeom {
        channels,
        h: hw.0,
        w: hw.1,
        kh: k.0,
        kw: k.1,
        stride: p.stride,
        padding: p.padding,
        dilation: p.dilation,
        oh: ohw.0,
        ow: ohw.1,
    }
}

/// Checks the arguments of a transposed convolution of an input with shape `xs`, returning
/// `(weight dims, Hout, Wout)`.
fn check_transpose(
    op: &str,
    xs: &Shape,
    ws: &Shape,
    p: &ConvTranspose2dParams,
) -> Result<([usize; 4], usize, usize), TensorError> {
    let x = dims4(op, "input", xs)?;
    let w = dims4(op, "weight", ws)?;
    check_hyper(op, p.stride, p.dilation, p.groups)?;
    let g = p.groups;
    if x[1] != w[0] {
        return Err(TensorError::new(format!(
            "{op}: input {xs:?} has {} channels but weight {ws:?} expects {} (groups {g})",
            x[1], w[0]
        )));
    }
    if w[0] % g != 0 {
        return Err(TensorError::new(format!(
            "{op}: weight {ws:?} has {} input channels, which groups {g} does not divide",
            w[0]
        )));
    }
    for (o, s, d) in [
        (p.output_padding.0, p.stride.0, p.dilation.0),
        (p.output_padding.1, p.stride.1, p.dilation.1),
    ] {
        if o >= s.max(d) {
            return Err(TensorError::new(format!(
                "{op}: output_padding {:?} must be smaller than the stride {:?} or the dilation {:?}",
                p.output_padding, p.stride, p.dilation
            )));
        }
    }
    let oh = transpose_out_len(
        x[2],
        w[2],
        p.stride.0,
        p.padding.0,
        p.dilation.0,
        p.output_padding.0,
    );
    let ow = transpose_out_len(
        x[3],
        w[3],
        p.stride.1,
        p.padding.1,
        p.dilation.1,
        p.output_padding.1,
    );
    if oh <= 0 || ow <= 0 || x[2] == 0 || x[3] == 0 {
        return Err(TensorError::new(format!(
            "{op}: output size {oh}×{ow} is not positive for input {xs:?}, weight {ws:?}, stride {:?}, \
             padding {:?}, output_padding {:?}, dilation {:?}",
            p.stride, p.padding, p.output_padding, p.dilation
        )));
    }
    Ok((w, oh as usize, ow as usize))
}

// ---------------------------------------------------------------------------- GEMM helpers

fn check_extent<T>(m: usize, n: usize, a: &MatRef<'_, T>) {
    if m > 0 && n > 0 {
        let last = a.offset as isize + (m as isize - 1) * a.rs + (n as isize - 1) * a.cs;
        assert!(
            a.rs >= 0 && a.cs >= 0 && (last as usize) < a.data.len(),
            "conv: GEMM operand out of bounds"
        );
    }
}

/// `c[m×n, rows ldc apart] = a·b + beta·c`, as one `matrixmultiply` call on this thread
/// (`split` false) or through [`crate::kernels::gemm::gemm`]'s thread split (`split` true,
/// needs `ldc == n`). Both give the same bits.
#[allow(clippy::too_many_arguments)]
fn matmul_into<T: Element>(
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: &mut [T],
    ldc: usize,
    split: bool,
) {
    // SAFETY: `c` is an initialised slice, so it may be read whatever beta is.
    unsafe { matmul_ptr(m, k, n, a, b, beta, c.as_mut_ptr(), c.len(), ldc, split) }
}

/// [`matmul_into`] with β = 0 into memory that need not be initialised: writes every element
/// of the `m` rows' first `n` columns (and nothing between rows), never reads `c`.
#[allow(clippy::too_many_arguments)]
fn matmul_into_uninit<T: Element>(
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    c: &mut [MaybeUninit<T>],
    ldc: usize,
    split: bool,
) {
    // SAFETY: `c` is valid for writes of `c.len()` elements; with β = 0 nothing reads it
    // (the k = 0 fill writes, `gemm_ptr` and `matrixmultiply` skip loading C when β = 0).
    unsafe {
        matmul_ptr(
            m,
            k,
            n,
            a,
            b,
            T::ZERO,
            c.as_mut_ptr() as *mut T,
            c.len(),
            ldc,
            split,
        )
    }
}

/// The body of [`matmul_into`] and [`matmul_into_uninit`], on `c_len` elements at `c`.
///
/// # Safety
/// `c` must be valid for writing `c_len` elements, and hold initialised ones if `beta != 0`.
#[allow(clippy::too_many_arguments)]
unsafe fn matmul_ptr<T: Element>(
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: *mut T,
    c_len: usize,
    ldc: usize,
    split: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        ldc >= n && c_len >= (m - 1) * ldc + n,
        "conv: GEMM output out of bounds"
    );
    if split && ldc == n {
        // SAFETY: `c` holds the m·n elements (checked above), initialised if beta ≠ 0;
        // `gemm_ptr` checks A and B against their buffers.
        unsafe { gemm_ptr(m, k, n, T::ONE, a, b, beta, c) };
        return;
    }
    if k == 0 {
        for r in 0..m {
            for i in r * ldc..r * ldc + n {
                // SAFETY: in bounds (checked above); read only when beta ≠ 0 (initialised).
                unsafe {
                    let e = c.add(i);
                    e.write(if beta == T::ZERO { T::ZERO } else { *e * beta });
                }
            }
        }
        return;
    }
    check_extent(m, k, &a);
    check_extent(k, n, &b);
    // SAFETY: the extents of a, b and c were checked above; strides are non-negative; with
    // beta = 0 `matrixmultiply` writes C without reading it, else C is initialised.
    unsafe {
        gemm_raw(
            m,
            k,
            n,
            T::ONE,
            a.data.as_ptr().add(a.offset),
            a.rs,
            a.cs,
            b.data.as_ptr().add(b.offset),
            b.rs,
            b.cs,
            beta,
            c,
            ldc as isize,
            1,
        )
    }
}

/// Output columns one GEMM of the three kernels aims at: narrow products waste part of
/// `matrixmultiply`'s 8-wide micro-kernel and repack the weight for every sample, so small
/// images are processed a few samples at a time.
const TARGET_COLS: usize = 256;
/// Bytes the im2col matrix of a block may take: about half of a 1 MiB L2 cache, so that it
/// stays there next to `matrixmultiply`'s packed panels.
const BLOCK_BYTES: usize = 512 << 10;
/// Blocks of samples wanted at least (when the batch allows), so threads share the work.
const MIN_BLOCKS: usize = 8;

/// Samples per block for images with `p` output positions and `rows` im2col rows: a power of
/// two (so that batches of even sizes split into equal blocks), at most `⌈TARGET_COLS / p⌉`,
/// with an im2col block of at most `BLOCK_BYTES` (pass `rows = 0` for no such cap), leaving at
/// least `MIN_BLOCKS` blocks when the batch is large enough. Depends on the shapes (and the
/// element size) only.
fn samples_per_block<T>(n: usize, p: usize, rows: usize) -> usize {
    let fit = match rows * p * std::mem::size_of::<T>() {
        0 => usize::MAX,
        bytes => BLOCK_BYTES / bytes,
    };
    let want = TARGET_COLS
        .div_ceil(p.max(1))
        .min(fit)
        .min(n / MIN_BLOCKS)
        .max(1);
    1 << want.ilog2()
}

/// Samples per block of the forward and data-backward kernels: [`samples_per_block`], except
/// for layers whose weight matrix (`cout × rows`) outweighs the block's columns (deep layers on
/// small maps, e.g. 128 → 256 channels on 4×4 outputs): repacking those weights for every
/// narrow block cost as much as the products, so the block takes about `TARGET_COLS`
/// columns whatever its im2col size, but no more than its share of the batch when several
/// threads run (one block per thread beats one GEMM split over them). The block size changes
/// no bit here: each output is computed the same way wherever it sits.
fn gemm_block<T>(n: usize, p: usize, rows: usize, cout: usize) -> usize {
    let nb = samples_per_block::<T>(n, p, rows);
    if cout > nb * p {
        let share = n / crate::parallel::current_threads().max(1);
        let want = TARGET_COLS.div_ceil(p.max(1)).min(share).max(nb).max(1);
        1 << want.ilog2()
    } else {
        nb
    }
}

/// A row stride of at least `n` elements whose byte size is not a multiple of 256, so that
/// walking down a column (as `matrixmultiply`'s packing does) spreads over the L1 cache sets
/// instead of evicting itself (a 1024-float row is exactly 4 KiB).
fn padded_ld<T>(n: usize) -> usize {
    let size = std::mem::size_of::<T>();
    if n > 0 && (n * size).is_multiple_of(256) {
        n + 64 / size
    } else {
        n
    }
}

fn add_bias<T: Element>(out: &mut [T], bias: Option<&[T]>, plane: usize) {
    if let Some(b) = bias {
        if plane == 0 {
            return;
        }
        for (i, row) in out.chunks_mut(plane).enumerate() {
            let v = b[i % b.len()];
            for o in row {
                *o += v;
            }
        }
    }
}

// ---------------------------------------------------------------------------- Winograd switch

static WINOGRAD: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// [`with_winograd`]'s setting for this thread, over the program's.
    static WINOGRAD_HERE: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

/// Turns the Winograd form of the 4×4, stride-2, padding-1 convolutions (DCGAN's layers) on or
/// off for the whole program; returns the previous setting. It is **off** by default and
/// applies to f32 only (f64 always sums directly). With it, those layers do about a third of
/// the multiplications of im2col + GEMM (see docs/performance.md for the time it saves), at a
/// normwise relative error of 2.4–7.9·10⁻⁶ on the 28×28 DCGAN's 64↔128-channel layers instead
/// of the direct sums' 1.3–2.8·10⁻⁷ (PyTorch's float32: 2·10⁻⁷–2·10⁻⁶; measured by
/// `crates/tensor/tests/accuracy.rs`) — see [`crate::kernels::winograd`]. Default off because
/// that error is more than 10× PyTorch's: a training step can flip the sign of a
/// pre-activation. Like
/// `torch.backends.cudnn.benchmark`, it is an opt-in speed-for-accuracy trade
/// (`minimax train … --winograd`).
///
/// ```
/// let before = minimax_tensor::set_winograd(true);
/// assert!(minimax_tensor::winograd_enabled());
/// minimax_tensor::set_winograd(before);
/// ```
pub fn set_winograd(on: bool) -> bool {
    WINOGRAD.swap(on, Ordering::Relaxed)
}

/// Whether the Winograd path is on for convolutions started on this thread: [`with_winograd`]'s
/// setting inside its closure, else [`set_winograd`]'s.
pub fn winograd_enabled() -> bool {
    WINOGRAD_HERE
        .with(|h| h.get())
        .unwrap_or_else(|| WINOGRAD.load(Ordering::Relaxed))
}

/// Runs `f` with the Winograd path on or off for the convolutions it starts on this thread,
/// whatever the program's setting, then restores the previous state (also on a panic). Other
/// threads — tests running beside it, or a rayon pool `f` installs — are not affected.
///
/// ```
/// let on = minimax_tensor::with_winograd(true, minimax_tensor::winograd_enabled);
/// assert!(on);
/// ```
pub fn with_winograd<R>(on: bool, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<bool>);
    impl Drop for Restore {
        fn drop(&mut self) {
            WINOGRAD_HERE.with(|h| h.set(self.0));
        }
    }
    let _restore = Restore(WINOGRAD_HERE.with(|h| h.replace(Some(on))));
    f()
}

/// The Winograd problem for a convolution of `n` images with `g.channels` input and `cout`
/// output channels, when the switch is on, `T` is f32, the layer is 4×4 / stride 2 /
/// padding 1 / dilation 1 / one group, and the shapes make it pay
/// ([`winograd::Geom::worthwhile`]).
fn winograd_geom<T: Element>(
    n: usize,
    cout: usize,
    groups: usize,
    g: &ConvGeom,
) -> Option<winograd::Geom> {
    let layer = (g.kh, g.kw, g.stride, g.padding, g.dilation, groups);
    if T::DTYPE != DType::F32 || layer != (4, 4, (2, 2), (1, 1), (1, 1), 1) || !winograd_enabled() {
        return None;
    }
    let wg = winograd::Geom {
        n,
        cin: g.channels,
        cout,
        h: g.h,
        w: g.w,
        oh: g.oh,
        ow: g.ow,
    };
    wg.worthwhile().then_some(wg)
}

// ---------------------------------------------------------------------------- the three kernels

/// Per-task buffers, reused for every block a task computes (so they are allocated and
/// zeroed once per task, not once per block; they come from and go back to the [`pool`]).
struct Scratch<T: Element> {
    cols: Vec<T>,
    tmp: Vec<T>,
    pad: Vec<T>,
}

impl<T: Element> Scratch<T> {
    fn new() -> Self {
        Scratch {
            cols: Vec::new(),
            tmp: Vec::new(),
            pad: Vec::new(),
        }
    }
}

impl<T: Element> Drop for Scratch<T> {
    fn drop(&mut self) {
        for v in [&mut self.cols, &mut self.tmp, &mut self.pad] {
            pool::give(std::mem::take(v));
        }
    }
}

/// Grows `v` to at least `len` elements (new ones zero; a larger buffer comes from the
/// [`pool`]) and returns its first `len`.
fn buf<T: Element>(v: &mut Vec<T>, len: usize) -> &mut [T] {
    if v.len() < len {
        if v.capacity() < len {
            let mut bigger = pool::take(len);
            bigger.extend_from_slice(v);
            pool::give(std::mem::replace(v, bigger));
        }
        v.resize(len, T::ZERO);
    }
    &mut v[..len]
}

/// Multiply-adds below which a convolution runs on the calling thread (about 100 µs of work:
/// below it, waking a second thread cost more than it saved — the main job's 16-channel DCGAN
/// trained 20 % slower on 2 threads than on 1 with 2¹⁸ or 2²¹ here, and equally fast with 2²²).
#[cfg(feature = "parallel")]
const PAR_WORK: usize = 1 << 22;

/// Runs `f(scratch, block_index, block)` over the `chunk`-long blocks of `out`, in parallel
/// when there are several and `work` (multiply-adds in all) is worth it; each task reuses one
/// [`Scratch`]. Which task computes which block does not change any result (a block's values
/// depend only on its own inputs).
fn for_blocks<T: Element, E: Send, F>(out: &mut [E], chunk: usize, work: usize, f: F)
where
    F: Fn(&mut Scratch<T>, usize, &mut [E]) + Send + Sync,
{
    #[cfg(not(feature = "parallel"))]
    let _ = work;
    #[cfg(feature = "parallel")]
    {
        let threads = crate::parallel::current_threads();
        if out.len() > chunk && work >= PAR_WORK && threads > 1 {
            use rayon::prelude::*;
            // each thread takes a run of blocks with one scratch space: `for_each_init` makes a
            // new one per piece of work rayon splits off, which, one block at a time, meant
            // growing (and zero-filling) the im2col buffer for every block
            let runs = out.len().div_ceil(chunk).div_ceil(threads);
            out.par_chunks_mut(chunk)
                .enumerate()
                .with_min_len(runs)
                .for_each_init(Scratch::new, |s, (i, c)| f(s, i, c));
            return;
        }
    }
    let mut s = Scratch::new();
    for (i, c) in out.chunks_mut(chunk).enumerate() {
        f(&mut s, i, c);
    }
}

/// A new vector of `len` elements computed by [`for_blocks`], each `chunk`-long block written
/// by `f(scratch, block_index, block)`, which must write every element of its block (the
/// forward kernel does: a GEMM with β = 0 or a copy writes each output once). The vector is not
/// zero-filled first, and `f` sees the block as `MaybeUninit` slots, so nothing reads or
/// references an element before it is written.
fn new_by_blocks_uninit<T: Element, F>(len: usize, chunk: usize, work: usize, f: F) -> Vec<T>
where
    F: Fn(&mut Scratch<T>, usize, &mut [MaybeUninit<T>]) + Send + Sync,
{
    let mut v: Vec<T> = pool::take(len);
    for_blocks(&mut v.spare_capacity_mut()[..len], chunk, work, f);
    // SAFETY: the blocks cover 0..len and `f` wrote every element of each (its contract).
    unsafe { v.set_len(len) };
    v
}

/// A new vector of `len` zeros to which `f(scratch, block_index, block)` adds, block by block
/// as in [`new_by_blocks_uninit`]; each block is zeroed just before `f` fills it, while it is
/// in cache, rather than the whole vector up front.
fn new_by_blocks_zeroed<T: Element, F>(len: usize, chunk: usize, work: usize, f: F) -> Vec<T>
where
    F: Fn(&mut Scratch<T>, usize, &mut [T]) + Send + Sync,
{
    new_by_blocks_uninit(len, chunk, work, |s, i, c| f(s, i, fill_uninit(c, T::ZERO)))
}

/// Forward kernel: `out[n, co] = Σ W[co, (c, ky, kx)] · im2col(x[n])` per group, plus bias.
/// `x` is `n × g.image_len()`, `w` is `[cout, g.rows() / groups]`; returns `[n, cout, oh·ow]`.
fn conv_forward<T: Element>(
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    n: usize,
    cout: usize,
    groups: usize,
    g: &ConvGeom,
) -> Vec<T> {
    if let Some(wg) = winograd_geom::<T>(n, cout, groups, g) {
        return winograd::forward(x, w, bias, &wg);
    }
    if let Some(d) = direct_shape(cout, groups, g) {
        return direct_forward(x, w, bias, n, d, g);
    }
    let p = g.cols();
    let rows = g.rows();
    let (kg, cg) = (rows / groups, cout / groups);
    let img = g.image_len();
    if n * cout * p == 0 {
        return vec![T::ZERO; n * cout * p];
    }
    let nb = gemm_block::<T>(n, p, rows, cout);
    let split = n <= nb;
    let plan = Im2col::new(g);
    // Wᵀ of each group, [kg, cg] (rows cgp apart): matrixmultiply packs a column-major left
    // operand with straight copies, and it is packed once per block.
    let cgp = padded_ld::<T>(cg);
    let mut wt = Buffer::new(pool::filled(groups * kg * cgp, T::ZERO));
    for gi in 0..groups {
        for co in 0..cg {
            for k in 0..kg {
                wt[(gi * kg + k) * cgp + co] = w[(gi * cg + co) * kg + k];
            }
        }
    }
    let work = n * cout * p * kg;
    // every element is written: by the GEMM (β = 0) or the copy out of `tmp`
    new_by_blocks_uninit(n * cout * p, nb * cout * p, work, |s, bi, chunk| {
        let s0 = bi * nb;
        let m = chunk.len() / (cout * p);
        let np = m * p;
        let ld = padded_ld::<T>(np);
        let cols = buf(&mut s.cols, rows * ld);
        for i in 0..m {
            let xi = &x[(s0 + i) * img..(s0 + i + 1) * img];
            plan.image(xi, &mut cols[i * p..], ld, &mut s.pad);
        }
        for gi in 0..groups {
            let a = MatRef {
                data: &wt,
                offset: gi * kg * cgp,
                rs: 1,
                cs: cgp as isize,
            };
            let b = MatRef {
                data: cols,
                offset: gi * kg * ld,
                rs: ld as isize,
                cs: 1,
            };
            if m == 1 {
                let c = &mut chunk[gi * cg * p..(gi + 1) * cg * p];
                matmul_into_uninit(cg, kg, p, a, b, c, p, split);
            } else {
                // the block's outputs side by side, then moved to their samples
                let tmp = buf(&mut s.tmp, cg * ld);
                matmul_into(cg, kg, np, a, b, T::ZERO, tmp, ld, split);
                for i in 0..m {
                    for co in 0..cg {
                        let dst = (i * cout + gi * cg + co) * p;
                        let src = &tmp[co * ld + i * p..][..p];
                        for (d, &v) in chunk[dst..dst + p].iter_mut().zip(src) {
                            d.write(v);
                        }
                    }
                }
            }
        }
        // SAFETY: the groups' GEMMs (all m·cout·p outputs of a single sample, rows p apart)
        // or the copies (each (sample, channel) row of p once) wrote the whole chunk.
        add_bias(unsafe { assume_init_slice(chunk) }, bias, p);
    })
}

/// Data-backward kernel (the adjoint of [`conv_forward`] without bias):
/// `out[n] = col2im(Wᵀ · y[n])` per group, plus bias per image channel.
/// `y` is `[n, cout, g.oh·g.ow]`, `w` is `[cout, g.rows() / groups]`; returns `n × g.image_len()`.
fn conv_data_backward<T: Element>(
    y: &[T],
    w: &[T],
    bias: Option<&[T]>,
    n: usize,
    cout: usize,
    groups: usize,
    g: &ConvGeom,
) -> Vec<T> {
    if let Some(wg) = winograd_geom::<T>(n, cout, groups, g) {
        return winograd::data_backward(y, w, bias, &wg);
    }
    if let Some(d) = direct_shape(cout, groups, g) {
        return direct_data_backward(y, w, bias, n, d, g);
    }
    let p = g.cols();
    let rows = g.rows();
    let (kg, cg) = (rows / groups, cout / groups);
    let img = g.image_len();
    if n * img == 0 {
        return vec![T::ZERO; n * img];
    }
    let nb = gemm_block::<T>(n, p, rows, cout);
    let split = n <= nb;
    let plan = Im2col::new(g);
    // Wᵀ is read in place ([kg, cg] per group, row stride 1, column stride kg), unless rows of
    // kg elements would alias in the cache: then from a copy with padded rows
    let kgp = padded_ld::<T>(kg);
    let wpad;
    let wa: &[T] = if kgp == kg {
        w
    } else {
        let mut v = Buffer::new(pool::filled(cout * kgp, T::ZERO));
        for (dst, src) in v.chunks_exact_mut(kgp).zip(w.chunks_exact(kg)) {
            dst[..kg].copy_from_slice(src);
        }
        wpad = v;
        &wpad
    };
    let work = n * cout * p * kg;
    // col2im adds into the image, so it starts from zeros
    new_by_blocks_zeroed(n * img, nb * img, work, |s, bi, chunk| {
        let s0 = bi * nb;
        let m = chunk.len() / img;
        let np = m * p;
        let ld = padded_ld::<T>(np);
        let src: &[T] = if ld == p {
            &y[s0 * cout * p..(s0 + 1) * cout * p]
        } else {
            // y of the block as one [cout, m·p] matrix (rows ld apart)
            let v = buf(&mut s.tmp, cout * ld);
            for i in 0..m {
                for co in 0..cout {
                    let from = ((s0 + i) * cout + co) * p;
                    v[co * ld + i * p..][..p].copy_from_slice(&y[from..from + p]);
                }
            }
            v
        };
        let cols = buf(&mut s.cols, rows * ld);
        for gi in 0..groups {
            // Wᵀ of group gi: [kg, cg] with row stride 1
            let a = MatRef {
                data: wa,
                offset: gi * cg * kgp,
                rs: 1,
                cs: kgp as isize,
            };
            let b = MatRef {
                data: src,
                offset: gi * cg * ld,
                rs: ld as isize,
                cs: 1,
            };
            let c = &mut cols[gi * kg * ld..(gi + 1) * kg * ld];
            matmul_into(kg, cg, np, a, b, T::ZERO, c, ld, split);
        }
        for i in 0..m {
            let out_i = &mut chunk[i * img..(i + 1) * img];
            plan.col2im(&cols[i * p..], ld, out_i, &mut s.pad);
        }
        add_bias(chunk, bias, g.h * g.w);
    })
}

/// Independent accumulators of the filter-backward kernel: the sample blocks are dealt out in
/// this many contiguous runs, each summed by one task, and the runs are added in order at the
/// end. Fixed, so the sum does not depend on the number of threads.
const WGRAD_LANES: usize = 4;

/// Filter-backward kernel: `dW[co, (c, ky, kx)] = Σₙ dy[n, co] · im2col(x[n])ᵀ` per group.
/// `x` is `n × g.image_len()`, `dy` is `[n, cout, g.oh·g.ow]`; returns `[cout, g.rows() / groups]`.
///
/// Works on the same blocks of samples as the forward kernel, with both operands transposed so
/// that `matrixmultiply` packs them with straight copies: the block's im2col as one patch per
/// row (`[m·p, rows]`) and its output gradient as `[m·p, cout]`. Each lane accumulates its
/// blocks' products in place (`β = 1`), so only small, cache-resident buffers are needed.
fn conv_filter_backward<T: Element>(
    x: &[T],
    dy: &[T],
    n: usize,
    cout: usize,
    groups: usize,
    g: &ConvGeom,
) -> Vec<T> {
    if let Some(wg) = winograd_geom::<T>(n, cout, groups, g) {
        return winograd::filter_backward(x, dy, &wg);
    }
    if let Some(d) = direct_shape(cout, groups, g) {
        return direct_filter_backward(x, dy, n, d, g);
    }
    let p = g.cols();
    let rows = g.rows();
    let (kg, cg) = (rows / groups, cout / groups);
    let img = g.image_len();
    let wlen = cout * kg;
    if wlen == 0 || n == 0 || p == 0 {
        return vec![T::ZERO; wlen];
    }
    // blocks of about TARGET_COLS patches (the depth of each block's product), the batch not
    // cut smaller for threads: each product is added to the whole of dW, so fewer, deeper
    // products move far less memory (a 256 × 2048 dW was read and written 8 times for 16
    // samples of 4×4 outputs); threads share the lanes, or split the GEMM of a single lane
    let nb = 1usize << TARGET_COLS.div_ceil(p.max(1)).min(n).max(1).ilog2();
    let blocks = n.div_ceil(nb);
    let per_lane = blocks.div_ceil(WGRAD_LANES.min(blocks));
    let lanes = blocks.div_ceil(per_lane);
    let split = lanes == 1;
    let plan = Im2col::new(g);
    // row strides of the two transposed operands, padded against cache aliasing
    let (rp, cp) = (padded_ld::<T>(rows), padded_ld::<T>(cout));
    let mut acc = pool::filled(lanes * wlen, T::ZERO);
    for_blocks(&mut acc, wlen, n * cout * p * kg, |s, lane, dw| {
        let first = lane * per_lane;
        for b in first..((lane + 1) * per_lane).min(blocks) {
            let s0 = b * nb;
            let m = nb.min(n - s0);
            let np = m * p;
            let patches = buf(&mut s.cols, np * rp);
            for i in 0..m {
                let xi = &x[(s0 + i) * img..(s0 + i + 1) * img];
                plan.patches(xi, &mut patches[i * p * rp..], rp, &mut s.pad);
            }
            let dyt = buf(&mut s.tmp, np * cp);
            for i in 0..m {
                for co in 0..cout {
                    let from = &dy[((s0 + i) * cout + co) * p..][..p];
                    for (q, &v) in from.iter().enumerate() {
                        dyt[(i * p + q) * cp + co] = v;
                    }
                }
            }
            let beta = if b == first { T::ZERO } else { T::ONE };
            for gi in 0..groups {
                // dy of group gi as [cg, ld], read from [ld, cout] in place
                let a = MatRef {
                    data: dyt,
                    offset: gi * cg,
                    rs: 1,
                    cs: cp as isize,
                };
                let bm = MatRef {
                    data: patches,
                    offset: gi * kg,
                    rs: rp as isize,
                    cs: 1,
                };
                let c = &mut dw[gi * cg * kg..(gi + 1) * cg * kg];
                matmul_into(cg, np, kg, a, bm, beta, c, kg, split);
            }
        }
    });
    sum_lanes(acc, wlen)
}

/// The first `wlen` elements of `acc` plus each further `wlen`-long lane, added in order
/// (element by element, so the result does not depend on how the elements are shared out
/// among threads, which they are for large weights).
fn sum_lanes<T: Element>(mut acc: Vec<T>, wlen: usize) -> Vec<T> {
    let (dw, rest) = acc.split_at_mut(wlen);
    if !rest.is_empty() {
        let add = |i: usize, d: &mut [T]| {
            let len = d.len();
            for lane in rest.chunks_exact(wlen) {
                for (a, &v) in d.iter_mut().zip(&lane[i..i + len]) {
                    *a += v;
                }
            }
        };
        const CHUNK: usize = 1 << 14;
        #[cfg(feature = "parallel")]
        if dw.len() > 4 * CHUNK && crate::parallel::current_threads() > 1 {
            use rayon::prelude::*;
            dw.par_chunks_mut(CHUNK)
                .enumerate()
                .for_each(|(k, d)| add(k * CHUNK, d));
            acc.truncate(wlen);
            return acc;
        }
        for (k, d) in dw.chunks_mut(CHUNK).enumerate() {
            add(k * CHUNK, d);
        }
    }
    acc.truncate(wlen);
    acc
}

// ---------------------------------------------------------------------------- direct kernels

/// Output channels up to which a stride-1, undilated, ungrouped convolution runs the direct
/// kernels of [`crate::kernels::direct`] instead of im2col + GEMM (measured on the CycleGAN
/// generator's last layer, 32 → 1 channels, 7×7: see docs/performance.md).
const DIRECT_MAX_COUT: usize = 4;
/// Shortest run (one output channel in the direct kernels' wide layout) worth the direct
/// kernels: below it the per-tap loop overhead cost more than the GEMM's waste (a PatchGAN's
/// last layer on a 2×2 map ran 1.5× slower direct with the AVX2 rows). With the masked
/// AVX-512 rows that layer is faster direct (forward 0.63 → 0.26 ms, backward 1.03 → 0.53 ms),
/// but moving it would change the bits of every trained PatchGAN critic and so the documented
/// figures of the methods that use one; see docs/performance.md.
const DIRECT_MIN_LEN: usize = 16;

/// The direct kernels' shape for this convolution, when they serve it.
fn direct_shape(cout: usize, groups: usize, g: &ConvGeom) -> Option<Direct> {
    let ok = groups == 1
        && (1..=DIRECT_MAX_COUT).contains(&cout)
        && g.stride == (1, 1)
        && g.dilation == (1, 1)
        && g.oh * g.ow > 0
        && (g.oh - 1) * (g.ow + g.kw - 1) + g.ow >= DIRECT_MIN_LEN;
    ok.then_some(Direct {
        cin: g.channels,
        cout,
        kh: g.kh,
        kw: g.kw,
        oh: g.oh,
        ow: g.ow,
    })
}

/// One sample's image `x` (`channels × h × w`) with the geometry's zero padding, in `pad`
/// (or `x` itself when there is no padding).
fn padded_image<'a, T: Element>(x: &'a [T], g: &ConvGeom, pad: &'a mut Vec<T>) -> &'a [T] {
    if g.padding == (0, 0) {
        return x;
    }
    let (ph, pw) = g.padding;
    let (hp, wp) = (g.h + 2 * ph, g.w + 2 * pw);
    let v = buf(pad, g.channels * hp * wp);
    v.fill(T::ZERO);
    for c in 0..g.channels {
        for y in 0..g.h {
            v[(c * hp + y + ph) * wp + pw..][..g.w]
                .copy_from_slice(&x[(c * g.h + y) * g.w..][..g.w]);
        }
    }
    v
}

/// `dy` of one sample (`cout × oh × ow`) in the direct kernels' extended wide layout
/// ([`Direct::ext_len`]), zeros around and in the scratch columns.
fn widen<'a, T: Element>(dy: &[T], d: &Direct, v: &'a mut Vec<T>) -> &'a [T] {
    let (ext, wp, pad) = (d.ext_len(), d.wp(), d.kw - 1);
    let v = buf(v, d.cout * ext);
    v.fill(T::ZERO);
    for co in 0..d.cout {
        for oy in 0..d.oh {
            v[co * ext + pad + oy * wp..][..d.ow]
                .copy_from_slice(&dy[(co * d.oh + oy) * d.ow..][..d.ow]);
        }
    }
    v
}

/// [`conv_forward`] by the direct kernel, one sample per task.
fn direct_forward<T: Element>(
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    n: usize,
    d: Direct,
    g: &ConvGeom,
) -> Vec<T> {
    let (img, plane, len, wp) = (g.image_len(), d.oh * d.ow, d.wide_len(), d.wp());
    let work = n * d.cout * plane * d.taps();
    new_by_blocks_uninit(n * d.cout * plane, d.cout * plane, work, |s, i, chunk| {
        let Scratch { pad, tmp, .. } = s;
        let xp = padded_image(&x[i * img..(i + 1) * img], g, pad);
        let wide = buf(tmp, d.cout * len);
        direct::forward(d, xp, w, wide);
        for co in 0..d.cout {
            for oy in 0..d.oh {
                let src = &wide[co * len + oy * wp..][..d.ow];
                for (o, &v) in chunk[(co * d.oh + oy) * d.ow..][..d.ow].iter_mut().zip(src) {
                    o.write(v);
                }
            }
        }
        // SAFETY: the loop above wrote each of the cout·oh·ow elements once.
        add_bias(unsafe { assume_init_slice(chunk) }, bias, plane);
    })
}

/// [`conv_data_backward`] by the direct kernel, one sample per task: the gradient of the
/// padded image, cropped.
fn direct_data_backward<T: Element>(
    y: &[T],
    w: &[T],
    bias: Option<&[T]>,
    n: usize,
    d: Direct,
    g: &ConvGeom,
) -> Vec<T> {
    let (img, plane) = (g.image_len(), d.oh * d.ow);
    let work = n * d.cout * plane * d.taps();
    new_by_blocks_zeroed(n * img, img, work, |s, i, chunk| {
        let Scratch { pad, tmp, .. } = s;
        let dy = widen(&y[i * d.cout * plane..(i + 1) * d.cout * plane], &d, tmp);
        if g.padding == (0, 0) {
            direct::data_backward(d, dy, w, chunk);
        } else {
            let (ph, pw) = g.padding;
            let (hp, wp) = (d.hp(), d.wp());
            let v = buf(pad, d.cin * hp * wp);
            v.fill(T::ZERO);
            direct::data_backward(d, dy, w, v);
            for c in 0..d.cin {
                for yy in 0..g.h {
                    chunk[(c * g.h + yy) * g.w..][..g.w]
                        .copy_from_slice(&v[(c * hp + yy + ph) * wp + pw..][..g.w]);
                }
            }
        }
        add_bias(chunk, bias, g.h * g.w);
    })
}

/// [`conv_filter_backward`] by the direct kernel: the samples dealt out in the same fixed
/// lanes, each lane summing its samples in order, the lanes added in order.
fn direct_filter_backward<T: Element>(
    x: &[T],
    dy: &[T],
    n: usize,
    d: Direct,
    g: &ConvGeom,
) -> Vec<T> {
    let (img, plane) = (g.image_len(), d.oh * d.ow);
    let wlen = d.cout * d.taps();
    if n == 0 {
        return vec![T::ZERO; wlen];
    }
    let per_lane = n.div_ceil(WGRAD_LANES.min(n));
    let lanes = n.div_ceil(per_lane);
    let mut acc = pool::filled(lanes * wlen, T::ZERO);
    let work = n * d.cout * plane * d.taps();
    for_blocks(&mut acc, wlen, work, |s, lane, dw| {
        let Scratch { pad, tmp, .. } = s;
        for i in lane * per_lane..((lane + 1) * per_lane).min(n) {
            let xp = padded_image(&x[i * img..(i + 1) * img], g, pad);
            let g_wide = widen(&dy[i * d.cout * plane..(i + 1) * d.cout * plane], &d, tmp);
            direct::filter_backward(d, xp, g_wide, dw);
        }
    });
    sum_lanes(acc, wlen)
}

// ---------------------------------------------------------------------------- public ops

impl Tensor {
    /// 2-D convolution (cross-correlation, like PyTorch's `F.conv2d`).
    ///
    /// `self` is `[N, Cin, H, W]`, `weight` is `[Cout, Cin/groups, kh, kw]`, `bias` is `[Cout]`;
    /// the output is `[N, Cout, Hout, Wout]` with
    /// `Hout = ⌊(H + 2·padding − dilation·(kh − 1) − 1) / stride⌋ + 1` (same for W).
    ///
    /// ```
    /// use minimax_tensor::{Conv2dParams, Tensor};
    /// let x = Tensor::from_vec((1..=9).map(|v| v as f64).collect::<Vec<_>>(), [1, 1, 3, 3]);
    /// let w = Tensor::from_vec(vec![1.0f64, 0.0, 0.0, -1.0], [1, 1, 2, 2]);
    /// let y = x.conv2d(&w, None, Conv2dParams::default());
    /// assert_eq!(y.dims(), &[1, 1, 2, 2]);
    /// assert_eq!(y.to_vec_f64(), vec![-4.0; 4]);
    /// ```
    ///
    /// Panics (at the caller) with the message of [`Tensor::try_conv2d`].
    #[track_caller]
    pub fn conv2d(&self, weight: &Tensor, bias: Option<&Tensor>, p: Conv2dParams) -> Tensor {
        ok(self.try_conv2d(weight, bias, p))
    }

    /// Fallible [`Tensor::conv2d`]: errors name the op and the shapes, e.g.
    /// `conv2d: input [2, 3, 8, 8] has 3 channels but weight [16, 4, 3, 3] expects 4 (groups 1)`.
    pub fn try_conv2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        p: Conv2dParams,
    ) -> Result<Tensor, TensorError> {
        let op = "conv2d";
        let x = dims4(op, "input", &self.shape)?;
        check_hyper(op, p.stride, p.dilation, p.groups)?;
        let w = check_conv_weight(op, "input", &self.shape, x[1], &weight.shape, p.groups)?;
        check_dtypes(op, ("input", self), ("weight", weight))?;
        check_bias(op, bias, w[0], weight)?;
        let (oh, ow) = conv_out_hw(
            op,
            &self.shape,
            &weight.shape,
            (x[2], x[3]),
            (w[2], w[3]),
            &p,
        )?;
        let g = geom(x[1], (x[2], x[3]), (w[2], w[3]), &p, (oh, ow));
        let (xc, wc) = (self.contiguous(), weight.contiguous());
        let bc = bias.map(|b| b.contiguous());
        Ok(with_dtype!(self.dtype(), T => {
            let out = conv_forward(
                xc.as_slice::<T>(),
                wc.as_slice::<T>(),
                bc.as_ref().map(|b| b.as_slice::<T>()),
                x[0],
                w[0],
                p.groups,
                &g,
            );
            Tensor::from_vec(out, [x[0], w[0], oh, ow])
        }))
    }

    /// 2-D transposed convolution (PyTorch's `F.conv_transpose2d`), the adjoint of
    /// [`Tensor::conv2d`] with the same weight.
    ///
    /// `self` is `[N, Cin, H, W]`, `weight` is `[Cin, Cout/groups, kh, kw]` (PyTorch's layout),
    /// `bias` is `[Cout]`; the output is `[N, Cout, Hout, Wout]` with
    /// `Hout = (H − 1)·stride − 2·padding + dilation·(kh − 1) + output_padding + 1`.
    ///
    /// Panics (at the caller) with the message of [`Tensor::try_conv_transpose2d`].
    #[track_caller]
    pub fn conv_transpose2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        p: ConvTranspose2dParams,
    ) -> Tensor {
        ok(self.try_conv_transpose2d(weight, bias, p))
    }

    /// Fallible [`Tensor::conv_transpose2d`].
    pub fn try_conv_transpose2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        p: ConvTranspose2dParams,
    ) -> Result<Tensor, TensorError> {
        let op = "conv_transpose2d";
        let (w, oh, ow) = check_transpose(op, &self.shape, &weight.shape, &p)?;
        check_dtypes(op, ("input", self), ("weight", weight))?;
        let cout = w[1] * p.groups;
        check_bias(op, bias, cout, weight)?;
        let x = self.dims();
        let g = geom(cout, (oh, ow), (w[2], w[3]), &p.conv_params(), (x[2], x[3]));
        let (xc, wc) = (self.contiguous(), weight.contiguous());
        let bc = bias.map(|b| b.contiguous());
        Ok(with_dtype!(self.dtype(), T => {
            let out = conv_data_backward(
                xc.as_slice::<T>(),
                wc.as_slice::<T>(),
                bc.as_ref().map(|b| b.as_slice::<T>()),
                x[0],
                x[1],
                p.groups,
                &g,
            );
            Tensor::from_vec(out, [x[0], cout, oh, ow])
        }))
    }

    /// The gradient of [`Tensor::conv2d`] with respect to its input: `self` is the output
    /// gradient `[N, Cout, Hout, Wout]`, `weight` the conv weight `[Cout, Cin/groups, kh, kw]`,
    /// `input_hw` the input's `(H, W)`. Returns `[N, Cin, H, W]`.
    ///
    /// This is [`Tensor::conv_transpose2d`] with the same weight and the output padding that
    /// gives back `H × W`.
    #[track_caller]
    pub fn conv2d_input_grad(
        &self,
        weight: &Tensor,
        input_hw: (usize, usize),
        p: Conv2dParams,
    ) -> Tensor {
        ok(self.try_conv2d_input_grad(weight, input_hw, p))
    }

    fn try_conv2d_input_grad(
        &self,
        weight: &Tensor,
        input_hw: (usize, usize),
        p: Conv2dParams,
    ) -> Result<Tensor, TensorError> {
        let op = "conv2d_input_grad";
        let gy = dims4(op, "grad_out", &self.shape)?;
        let w = dims4(op, "weight", &weight.shape)?;
        check_hyper(op, p.stride, p.dilation, p.groups)?;
        check_dtypes(op, ("grad_out", self), ("weight", weight))?;
        if gy[1] != w[0] || w[0] % p.groups != 0 {
            return Err(TensorError::new(format!(
                "{op}: grad_out {:?} has {} channels but weight {:?} has {} output channels (groups {})",
                self.shape, gy[1], weight.shape, w[0], p.groups
            )));
        }
        let k = (w[2], w[3]);
        let out = conv_out_hw(
            op,
            &Shape::new(&[gy[0], w[1] * p.groups, input_hw.0, input_hw.1]),
            &weight.shape,
            input_hw,
            k,
            &p,
        )?;
        if out != (gy[2], gy[3]) {
            return Err(TensorError::new(format!(
                "{op}: grad_out {:?} is {}×{} but an input of {}×{} with weight {:?} gives {}×{}",
                self.shape, gy[2], gy[3], input_hw.0, input_hw.1, weight.shape, out.0, out.1
            )));
        }
        let cin = w[1] * p.groups;
        let g = geom(cin, input_hw, k, &p, out);
        let (gc, wc) = (self.contiguous(), weight.contiguous());
        Ok(with_dtype!(self.dtype(), T => {
            let v = conv_data_backward(gc.as_slice::<T>(), wc.as_slice::<T>(), None, gy[0], w[0], p.groups, &g);
            Tensor::from_vec(v, [gy[0], cin, input_hw.0, input_hw.1])
        }))
    }

    /// The gradient of [`Tensor::conv2d`] with respect to its weight: `self` is the conv input
    /// `[N, Cin, H, W]`, `grad_out` the output gradient `[N, Cout, Hout, Wout]`, `weight_shape`
    /// `[Cout, Cin/groups, kh, kw]`. Computes `dW[Cout, K] = Σₙ dY[n] · cols[n]ᵀ` as one GEMM per
    /// group over the columns of the whole batch. The bias gradient is
    /// `grad_out.sum(&[0, 2, 3], false)`.
    #[track_caller]
    pub fn conv2d_weight_grad(
        &self,
        grad_out: &Tensor,
        weight_shape: impl Into<Shape>,
        p: Conv2dParams,
    ) -> Tensor {
        ok(self.try_conv2d_weight_grad(grad_out, weight_shape.into(), p))
    }

    fn try_conv2d_weight_grad(
        &self,
        grad_out: &Tensor,
        ws: Shape,
        p: Conv2dParams,
    ) -> Result<Tensor, TensorError> {
        let op = "conv2d_weight_grad";
        let x = dims4(op, "input", &self.shape)?;
        let gy = dims4(op, "grad_out", &grad_out.shape)?;
        check_hyper(op, p.stride, p.dilation, p.groups)?;
        let w = check_conv_weight(op, "input", &self.shape, x[1], &ws, p.groups)?;
        check_dtypes(op, ("input", self), ("grad_out", grad_out))?;
        let out = conv_out_hw(op, &self.shape, &ws, (x[2], x[3]), (w[2], w[3]), &p)?;
        if gy[0] != x[0] || gy[1] != w[0] || (gy[2], gy[3]) != out {
            return Err(TensorError::new(format!(
                "{op}: grad_out {:?} does not match the output [{}, {}, {}, {}] of input {:?} with weight {ws:?}",
                grad_out.shape, x[0], w[0], out.0, out.1, self.shape
            )));
        }
        let g = geom(x[1], (x[2], x[3]), (w[2], w[3]), &p, out);
        let (xc, gc) = (self.contiguous(), grad_out.contiguous());
        Ok(with_dtype!(self.dtype(), T => {
            let v = conv_filter_backward(xc.as_slice::<T>(), gc.as_slice::<T>(), x[0], w[0], p.groups, &g);
            Tensor::from_vec(v, ws)
        }))
    }

    /// The gradient of [`Tensor::conv_transpose2d`] with respect to its input: `self` is the
    /// output gradient `[N, Cout, Hout, Wout]`, `weight` is `[Cin, Cout/groups, kh, kw]`.
    /// Returns `[N, Cin, H, W]`; this is [`Tensor::conv2d`] of the gradient with the same weight.
    #[track_caller]
    pub fn conv_transpose2d_input_grad(&self, weight: &Tensor, p: ConvTranspose2dParams) -> Tensor {
        ok(self.try_conv_transpose2d_input_grad(weight, p))
    }

    fn try_conv_transpose2d_input_grad(
        &self,
        weight: &Tensor,
        p: ConvTranspose2dParams,
    ) -> Result<Tensor, TensorError> {
        let op = "conv_transpose2d_input_grad";
        let gy = dims4(op, "grad_out", &self.shape)?;
        let w = dims4(op, "weight", &weight.shape)?;
        check_hyper(op, p.stride, p.dilation, p.groups)?;
        check_dtypes(op, ("grad_out", self), ("weight", weight))?;
        let (h, wd) = transpose_input_hw(op, &self.shape, &weight.shape, &p)?;
        if gy[1] != w[1] * p.groups || w[0] % p.groups != 0 {
            return Err(TensorError::new(format!(
                "{op}: grad_out {:?} has {} channels but weight {:?} gives {} (groups {})",
                self.shape,
                gy[1],
                weight.shape,
                w[1] * p.groups,
                p.groups
            )));
        }
        let g = geom(
            gy[1],
            (gy[2], gy[3]),
            (w[2], w[3]),
            &p.conv_params(),
            (h, wd),
        );
        let (gc, wc) = (self.contiguous(), weight.contiguous());
        Ok(with_dtype!(self.dtype(), T => {
            let v = conv_forward(gc.as_slice::<T>(), wc.as_slice::<T>(), None, gy[0], w[0], p.groups, &g);
            Tensor::from_vec(v, [gy[0], w[0], h, wd])
        }))
    }

    /// The gradient of [`Tensor::conv_transpose2d`] with respect to its weight: `self` is the
    /// input `[N, Cin, H, W]`, `grad_out` the output gradient `[N, Cout, Hout, Wout]`,
    /// `weight_shape` `[Cin, Cout/groups, kh, kw]`. This is [`Tensor::conv2d_weight_grad`] with
    /// the roles of input and output gradient swapped.
    #[track_caller]
    pub fn conv_transpose2d_weight_grad(
        &self,
        grad_out: &Tensor,
        weight_shape: impl Into<Shape>,
        p: ConvTranspose2dParams,
    ) -> Tensor {
        ok(self.try_conv_transpose2d_weight_grad(grad_out, weight_shape.into(), p))
    }

    fn try_conv_transpose2d_weight_grad(
        &self,
        grad_out: &Tensor,
        ws: Shape,
        p: ConvTranspose2dParams,
    ) -> Result<Tensor, TensorError> {
        let op = "conv_transpose2d_weight_grad";
        let (w, oh, ow) = check_transpose(op, &self.shape, &ws, &p)?;
        check_dtypes(op, ("input", self), ("grad_out", grad_out))?;
        let x = self.dims();
        let gy = dims4(op, "grad_out", &grad_out.shape)?;
        let cout = w[1] * p.groups;
        if gy != [x[0], cout, oh, ow] {
            return Err(TensorError::new(format!(
                "{op}: grad_out {:?} does not match the output [{}, {cout}, {oh}, {ow}] of input {:?} with weight {ws:?}",
                grad_out.shape, x[0], self.shape
            )));
        }
        // the transposed conv's output plays the conv input; its input plays the conv output
        let g = geom(cout, (oh, ow), (w[2], w[3]), &p.conv_params(), (x[2], x[3]));
        let (xc, gc) = (self.contiguous(), grad_out.contiguous());
        Ok(with_dtype!(self.dtype(), T => {
            let v = conv_filter_backward(gc.as_slice::<T>(), xc.as_slice::<T>(), x[0], x[1], p.groups, &g);
            Tensor::from_vec(v, ws)
        }))
    }
}

/// The input size `(H, W)` of a transposed convolution whose output is `gs`, or an error if no
/// input size gives it.
fn transpose_input_hw(
    op: &str,
    gs: &Shape,
    ws: &Shape,
    p: &ConvTranspose2dParams,
) -> Result<(usize, usize), TensorError> {
    let g = gs.dims();
    let w = ws.dims();
    let one = |out: usize, k: usize, s: usize, pad: usize, d: usize, o: usize| -> Option<usize> {
        // out = (len − 1)·s − 2·pad + d·(k − 1) + o + 1
        let num = out as isize - 1 - o as isize + 2 * pad as isize - (d * (k.max(1) - 1)) as isize;
        if num < 0 || num % s as isize != 0 {
            None
        } else {
            Some(num as usize / s + 1)
        }
    };
    let h = one(
        g[2],
        w[2],
        p.stride.0,
        p.padding.0,
        p.dilation.0,
        p.output_padding.0,
    );
    let wd = one(
        g[3],
        w[3],
        p.stride.1,
        p.padding.1,
        p.dilation.1,
        p.output_padding.1,
    );
    match (h, wd) {
        (Some(h), Some(wd)) => Ok((h, wd)),
        _ => Err(TensorError::new(format!(
            "{op}: no input size gives grad_out {gs:?} with weight {ws:?}, stride {:?}, padding {:?}, \
             output_padding {:?}, dilation {:?}",
            p.stride, p.padding, p.output_padding, p.dilation
        ))),
    }
}
