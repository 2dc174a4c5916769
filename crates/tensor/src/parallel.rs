//! Where rayon is used, and how results stay independent of the thread count.
//!
//! Work is always cut into the same fixed-size chunks whatever the number of threads; rayon
//! only decides who runs which chunk. Combining per-chunk results happens in chunk order, so
//! 1 thread and 16 threads give the same bits. With the `parallel` feature off, the chunks run
//! in a plain loop.

/// Below this many elements an elementwise op runs on the calling thread (waking rayon's
/// workers costs more than a memory-bound loop over a few hundred KB saves). 2¹⁶ rather than
/// 2¹⁸: CycleGAN's 64 × 32 × 8 × 8 and 64 × 64 × 4 × 4 activations are worth splitting (W6 on 2
/// threads, fastest of 3 alternating runs: 105–136 → 100–126 ms).
pub const PAR_THRESHOLD: usize = 1 << 16;
/// Chunk length for parallel elementwise work and reductions.
pub const CHUNK: usize = 1 << 14;

/// Applies `f(chunk_index, chunk)` to fixed-size chunks of `data`, in parallel when there are
/// at least two chunks. Use it when each chunk is substantial work (a sample of a convolution);
/// for cheap per-element work use [`for_chunks_mut_if`] with a size test.
#[inline]
pub fn for_chunks_mut<T: Send, F>(data: &mut [T], chunk: usize, f: F)
where
    F: Fn(usize, &mut [T]) + Send + Sync,
{
    let chunk = chunk.max(1);
    for_chunks_mut_if(data.len() > chunk, data, chunk, f)
}

/// Like [`for_chunks_mut`], in parallel only when `parallel` is true (and the feature is on).
/// The chunks are the same either way, so the results are too.
#[inline]
pub fn for_chunks_mut_if<T: Send, F>(parallel: bool, data: &mut [T], chunk: usize, f: F)
where
    F: Fn(usize, &mut [T]) + Send + Sync,
{
    let chunk = chunk.max(1);
    #[cfg(feature = "parallel")]
    {
        if parallel && data.len() > chunk {
            use rayon::prelude::*;
            data.par_chunks_mut(chunk)
                .enumerate()
                .for_each(|(i, c)| f(i, c));
            return;
        }
    }
    let _ = parallel;
    for (i, c) in data.chunks_mut(chunk).enumerate() {
        f(i, c);
    }
}

/// Computes `f(i)` for `i in 0..n` (in parallel when `parallel` is on and `n > 1`), returning
/// the results in index order.
#[inline]
pub fn map_indexed<R: Send, F>(n: usize, f: F) -> Vec<R>
where
    F: Fn(usize) -> R + Send + Sync,
{
    map_indexed_if(true, n, f)
}

/// [`map_indexed`], in parallel only when `parallel` is true.
#[inline]
pub fn map_indexed_if<R: Send, F>(parallel: bool, n: usize, f: F) -> Vec<R>
where
    F: Fn(usize) -> R + Send + Sync,
{
    #[cfg(feature = "parallel")]
    {
        if parallel && n > 1 {
            use rayon::prelude::*;
            return (0..n).into_par_iter().map(f).collect();
        }
    }
    let _ = parallel;
    (0..n).map(f).collect()
}

/// Runs two closures, in parallel when possible.
#[inline]
pub fn join<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    #[cfg(feature = "parallel")]
    {
        rayon::join(a, b)
    }
    #[cfg(not(feature = "parallel"))]
    {
        (a(), b())
    }
}

/// Number of threads work may be spread over right now.
pub fn current_threads() -> usize {
    #[cfg(feature = "parallel")]
    {
        rayon::current_num_threads()
    }
    #[cfg(not(feature = "parallel"))]
    {
        1
    }
}
