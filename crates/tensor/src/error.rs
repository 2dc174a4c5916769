//! Errors: every message names the op and the shapes (and dtypes) involved.

use crate::{DType, Shape};
use std::fmt;

/// An error from a tensor operation, with a message a person can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorError {
    msg: String,
}

impl TensorError {
    /// An error with the given message.
    pub fn new(msg: impl Into<String>) -> TensorError {
        TensorError { msg: msg.into() }
    }
    /// The message.
    pub fn message(&self) -> &str {
        &self.msg
    }
    /// "op: shapes [..] and [..] are not broadcast-compatible" style error.
    pub fn shapes(op: &str, what: &str, a: &Shape, b: &Shape) -> TensorError {
        TensorError::new(format!("{op}: {what}: {a:?} and {b:?}"))
    }
    /// Two operands with different dtypes.
    pub fn dtypes(op: &str, a: DType, b: DType) -> TensorError {
        TensorError::new(format!(
            "{op}: dtype mismatch: {a} and {b} (convert one with .to_dtype())"
        ))
    }
}

impl fmt::Display for TensorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for TensorError {}

/// Unwraps a `Result<T, TensorError>`, panicking with its message at the caller's line.
#[track_caller]
pub(crate) fn ok<T>(r: Result<T, TensorError>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}
