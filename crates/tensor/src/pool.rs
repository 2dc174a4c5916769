//! Reuse of large element buffers between tensors.
//!
//! A large buffer fresh from the allocator costs a page fault for each 4 KiB page the first time
//! it is written — 3.2 µs each on the 2-core VM the benchmarks run on, so a 3 MB activation
//! costs 2.5 ms before any arithmetic, ten times the add that fills it — and the allocator gives
//! freed memory back to the OS, so the next iteration of a training loop faults again. A
//! training iteration allocates the same sizes every time, so buffers of at least
//! [`MIN_BYTES`] are kept here when the last tensor using them is dropped, and a new tensor of
//! (nearly) the same size takes one instead of asking the allocator.
//!
//! At most [`limit`] bytes are kept (256 MiB unless [`set_limit`] says otherwise; the oldest
//! buffers go first); [`release`] hands everything back to the allocator. A reused buffer's old
//! contents are never visible: every kernel writes all the elements of its output, and the
//! zero-filled buffers are filled again.
//!
//! ```
//! use minimax_tensor::{pool, DType, Tensor};
//! let before = pool::stats();
//! drop(Tensor::zeros([333_333], DType::F32)); // 1.3 MB: kept
//! let t = Tensor::ones([333_333], DType::F32); // takes that buffer back
//! assert!(pool::stats().reused > before.reused);
//! assert_eq!(t.sum_all().item(), 333_333.0);
//! ```

use crate::{DType, Element};
use std::sync::Mutex;

/// Buffers smaller than this many bytes go straight back to the allocator (which keeps small
/// blocks itself).
pub const MIN_BYTES: usize = 64 << 10;

/// A kept buffer: the parts of a `Vec<T>` of the shelf's dtype, with length 0. (A pointer,
/// not an address: rebuilding the vector from an integer would lose the allocation's
/// provenance, which Miri's strict checks reject.)
struct Kept {
    ptr: std::ptr::NonNull<u8>,
    cap: usize,
}

// SAFETY: a kept buffer is owned by the pool alone, as its `Vec<f32>` / `Vec<f64>` (both
// `Send`) was by its last owner; it is only moved between threads under the pool's lock.
unsafe impl Send for Kept {}

struct Shelf {
    /// Oldest first.
    kept: Vec<Kept>,
    bytes: usize,
}

struct Pool {
    shelves: [Shelf; 2],
    limit: usize,
    stats: Stats,
}

/// Counters of the pool's use since the process started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes held now.
    pub held_bytes: usize,
    /// Requests served with a kept buffer.
    pub reused: u64,
    /// Requests of at least [`MIN_BYTES`] that found none and went to the allocator.
    pub allocated: u64,
    /// Kept buffers handed back to the allocator (to stay under the limit, or by [`release`]).
    pub evicted: u64,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    shelves: [
        Shelf {
            kept: Vec::new(),
            bytes: 0,
        },
        Shelf {
            kept: Vec::new(),
            bytes: 0,
        },
    ],
    limit: 256 << 20,
    stats: Stats {
        held_bytes: 0,
        reused: 0,
        allocated: 0,
        evicted: 0,
    },
});

fn lock() -> std::sync::MutexGuard<'static, Pool> {
    // the pool's state is consistent after any panic (each operation is a push or a remove)
    POOL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The shelf of `T`: f32 buffers on shelf 0, f64 ones on shelf 1, and `None` for any other
/// type (`Element` is a public trait: a type of another crate claiming a dtype tag must not have
/// its buffers rebuilt as `Vec<f32>` or `Vec<f64>`, so such buffers bypass the pool).
fn shelf_of<T: Element>() -> Option<usize> {
    use std::any::TypeId;
    let t = TypeId::of::<T>();
    let s = match T::DTYPE {
        DType::F32 if t == TypeId::of::<f32>() => 0,
        DType::F64 if t == TypeId::of::<f64>() => 1,
        _ => return None,
    };
    Some(s)
}

/// Rebuilds a kept buffer as the `Vec<T>` it was.
///
/// # Safety
/// `k` must come from a `Vec<T>` of this `T` (the shelf of `T::DTYPE`).
unsafe fn revive<T: Element>(k: Kept) -> Vec<T> {
    unsafe { Vec::from_raw_parts(k.ptr.as_ptr().cast::<T>(), 0, k.cap) }
}

/// An empty vector with room for at least `n` elements: a kept buffer of capacity in
/// `n ..= n + n/4` when there is one (the smallest such), else a new allocation.
#[inline]
pub(crate) fn take<T: Element>(n: usize) -> Vec<T> {
    if n * std::mem::size_of::<T>() < MIN_BYTES {
        return Vec::with_capacity(n);
    }
    take_kept(n)
}

/// [`take`] of a large buffer.
#[inline(never)]
fn take_kept<T: Element>(n: usize) -> Vec<T> {
    let Some(s) = shelf_of::<T>() else {
        return Vec::with_capacity(n);
    };
    let size = std::mem::size_of::<T>();
    let mut p = lock();
    let shelf = &mut p.shelves[s];
    let best = shelf
        .kept
        .iter()
        .enumerate()
        .filter(|(_, k)| k.cap >= n && k.cap <= n + n / 4)
        .min_by_key(|(_, k)| k.cap)
        .map(|(i, _)| i);
    match best {
        Some(i) => {
            let k = shelf.kept.remove(i);
            shelf.bytes -= k.cap * size;
            p.stats.reused += 1;
            // SAFETY: shelf `s` holds only buffers of `Vec<T>`s (T is f32 for shelf 0, f64 for 1).
            unsafe { revive(k) }
        }
        None => {
            p.stats.allocated += 1;
            drop(p);
            Vec::with_capacity(n)
        }
    }
}

/// `n` copies of `v`, in a buffer from [`take`].
pub(crate) fn filled<T: Element>(n: usize, v: T) -> Vec<T> {
    let mut out = take(n);
    out.resize(n, v);
    out
}

/// Keeps `v`'s buffer for a later [`take`] if it is large enough and fits under the limit
/// (dropping the oldest kept buffers to make room), else frees it.
#[inline]
pub(crate) fn give<T: Element>(v: Vec<T>) {
    if v.capacity() * std::mem::size_of::<T>() >= MIN_BYTES {
        keep(v);
    }
}

/// [`give`] of a large buffer.
#[inline(never)]
fn keep<T: Element>(mut v: Vec<T>) {
    let Some(s) = shelf_of::<T>() else {
        return;
    };
    let bytes = v.capacity() * std::mem::size_of::<T>();
    v.clear();
    let mut p = lock();
    if bytes > p.limit {
        return;
    }
    let target = p.limit - bytes;
    let evicted = evict_to(&mut p, target, s);
    let mut v = std::mem::ManuallyDrop::new(v);
    let shelf = &mut p.shelves[s];
    shelf.kept.push(Kept {
        ptr: std::ptr::NonNull::new(v.as_mut_ptr().cast::<u8>())
            .expect("a Vec's pointer is not null"),
        cap: v.capacity(),
    });
    shelf.bytes += bytes;
    drop(p);
    free(evicted);
}

/// Takes the oldest kept buffers off the shelves (the shelf `prefer` first) until at most
/// `target` bytes are held; returns them, to be freed outside the lock.
fn evict_to(p: &mut Pool, target: usize, prefer: usize) -> Vec<(usize, Kept)> {
    let mut out = Vec::new();
    while p.shelves[0].bytes + p.shelves[1].bytes > target {
        let s = if p.shelves[prefer].kept.is_empty() {
            1 - prefer
        } else {
            prefer
        };
        let k = p.shelves[s].kept.remove(0);
        p.shelves[s].bytes -= k.cap * ELEMENT_BYTES[s];
        p.stats.evicted += 1;
        out.push((s, k));
    }
    out
}

/// Element size of each shelf's dtype.
const ELEMENT_BYTES: [usize; 2] = [4, 8];

/// Frees buffers taken off the shelves.
fn free(bufs: Vec<(usize, Kept)>) {
    for (s, k) in bufs {
        // SAFETY: shelf 0 holds only `Vec<f32>` buffers, shelf 1 only `Vec<f64>` ones.
        unsafe {
            if s == 0 {
                drop(revive::<f32>(k));
            } else {
                drop(revive::<f64>(k));
            }
        }
    }
}

/// The most bytes kept for reuse.
pub fn limit() -> usize {
    lock().limit
}

/// Sets the most bytes kept for reuse (0 turns reuse off), freeing the oldest kept buffers
/// beyond it.
pub fn set_limit(bytes: usize) {
    let evicted = {
        let mut p = lock();
        p.limit = bytes;
        evict_to(&mut p, bytes, 0)
    };
    free(evicted);
}

/// Hands every kept buffer back to the allocator.
pub fn release() {
    let evicted = evict_to(&mut lock(), 0, 0);
    free(evicted);
}

/// The pool's counters and the bytes it holds now.
pub fn stats() -> Stats {
    let p = lock();
    Stats {
        held_bytes: p.shelves[0].bytes + p.shelves[1].bytes,
        ..p.stats
    }
}

/// An owned element buffer that goes back to the pool when dropped: the storage of a tensor.
#[derive(Debug)]
pub struct Buffer<T: Element>(Vec<T>);

impl<T: Element> Buffer<T> {
    /// Wraps `v`.
    pub fn new(v: Vec<T>) -> Buffer<T> {
        Buffer(v)
    }
}

impl<T: Element> Drop for Buffer<T> {
    #[inline]
    fn drop(&mut self) {
        if self.0.capacity() * std::mem::size_of::<T>() >= MIN_BYTES {
            keep(std::mem::take(&mut self.0));
        }
    }
}

impl<T: Element> Clone for Buffer<T> {
    fn clone(&self) -> Buffer<T> {
        let mut v = take(self.0.len());
        v.extend_from_slice(&self.0);
        Buffer(v)
    }
}

impl<T: Element> std::ops::Deref for Buffer<T> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.0
    }
}

impl<T: Element> std::ops::DerefMut for Buffer<T> {
    fn deref_mut(&mut self) -> &mut Vec<T> {
        &mut self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_buffers_come_back_as_the_vectors_they_were() {
        // Small enough for Miri (docs/tensor.md): a 64 KiB buffer of each dtype goes on its
        // shelf and comes back out as a vector that is written and read in full, and
        // `release` frees what is left. (Other tests share the global pool, so which kept
        // buffer `take` returns is not asserted, only that it is sound to use.)
        const N: usize = (MIN_BYTES / 4) + 3;
        give::<f32>(vec![1.5; N]);
        give::<f64>(vec![2.5; N / 2 + 1]);
        let mut a = take::<f32>(N);
        let mut b = take::<f64>(N / 2 + 1);
        assert!(a.is_empty() && a.capacity() >= N);
        assert!(b.is_empty() && b.capacity() >= N / 2 + 1);
        a.resize(N, 3.0);
        b.resize(N / 2 + 1, 4.0);
        assert!(a.iter().all(|&v| v == 3.0) && b.iter().all(|&v| v == 4.0));
        drop(Buffer::new(a));
        give(b);
        release();
    }
}
