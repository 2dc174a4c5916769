//! Shapes: a small inline array of dimensions (no heap allocation), and the broadcasting rule.

use std::fmt;
use std::ops::Deref;

/// The largest number of dimensions a tensor may have.
pub const MAX_DIMS: usize = 8;

/// The dimensions of a tensor, stored inline (a `Shape` is `Copy`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shape {
    dims: [usize; MAX_DIMS],
    ndim: u8,
}

impl Shape {
    /// A shape from a slice of dimensions. Panics above [`MAX_DIMS`] dimensions.
    #[track_caller]
    pub fn new(dims: &[usize]) -> Shape {
        assert!(
            dims.len() <= MAX_DIMS,
            "shape {:?} has {} dimensions; at most {} are supported",
            dims,
            dims.len(),
            MAX_DIMS
        );
        let mut d = [0usize; MAX_DIMS];
        d[..dims.len()].copy_from_slice(dims);
        Shape {
            dims: d,
            ndim: dims.len() as u8,
        }
    }
    /// The shape of a scalar (no dimension).
    pub fn scalar() -> Shape {
        Shape::new(&[])
    }
    /// The dimensions.
    #[inline]
    pub fn dims(&self) -> &[usize] {
        &self.dims[..self.ndim as usize]
    }
    /// Number of dimensions.
    #[inline]
    pub fn ndim(&self) -> usize {
        self.ndim as usize
    }
    /// Number of elements (1 for a scalar).
    #[inline]
    pub fn numel(&self) -> usize {
        self.dims().iter().product()
    }
    /// Row-major (C-order) strides for this shape.
    pub fn contiguous_strides(&self) -> [usize; MAX_DIMS] {
        let mut s = [0usize; MAX_DIMS];
        let mut acc = 1;
        for i in (0..self.ndim()).rev() {
            s[i] = acc;
            acc *= self.dims[i];
        }
        s
    }
    /// Resolves a possibly negative axis (`-1` is the last) against this shape.
    #[track_caller]
    pub fn axis(&self, axis: isize, op: &str) -> usize {
        let n = self.ndim() as isize;
        let a = if axis < 0 { axis + n } else { axis };
        if a < 0 || a >= n {
            panic!("{op}: axis {axis} is out of range for shape {self:?} ({n} dimensions)");
        }
        a as usize
    }
    /// The shape with one dimension replaced.
    pub fn with(&self, axis: usize, size: usize) -> Shape {
        let mut s = *self;
        s.dims[axis] = size;
        s
    }
}

impl Deref for Shape {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        self.dims()
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.dims())
    }
}
impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.dims())
    }
}

impl From<&[usize]> for Shape {
    #[track_caller]
    fn from(d: &[usize]) -> Shape {
        Shape::new(d)
    }
}
impl From<&Vec<usize>> for Shape {
    #[track_caller]
    fn from(d: &Vec<usize>) -> Shape {
        Shape::new(d)
    }
}
impl From<Vec<usize>> for Shape {
    #[track_caller]
    fn from(d: Vec<usize>) -> Shape {
        Shape::new(&d)
    }
}
impl<const N: usize> From<[usize; N]> for Shape {
    #[track_caller]
    fn from(d: [usize; N]) -> Shape {
        Shape::new(&d)
    }
}
impl<const N: usize> From<&[usize; N]> for Shape {
    #[track_caller]
    fn from(d: &[usize; N]) -> Shape {
        Shape::new(d)
    }
}
impl From<&Shape> for Shape {
    fn from(s: &Shape) -> Shape {
        *s
    }
}

/// The broadcast of two shapes under NumPy/PyTorch rules (align on the right; each pair of
/// dimensions must be equal or one of them 1), or `None` if they are incompatible.
pub fn broadcast_shapes(a: &Shape, b: &Shape) -> Option<Shape> {
    let n = a.ndim().max(b.ndim());
    let mut out = [0usize; MAX_DIMS];
    for i in 0..n {
        let da = if i < n - a.ndim() {
            1
        } else {
            a[i - (n - a.ndim())]
        };
        let db = if i < n - b.ndim() {
            1
        } else {
            b[i - (n - b.ndim())]
        };
        out[i] = if da == db {
            da
        } else if da == 1 {
            db
        } else if db == 1 {
            da
        } else {
            return None;
        };
    }
    Some(Shape::new(&out[..n]))
}
