//! Display: PyTorch-like layout with the shape and dtype appended; long tensors are elided.

use minimax_tensor::{DType, Tensor};

#[test]
fn one_d_aligns_values() {
    let a = Tensor::from_vec(vec![1.0f32, -2.5, 3.0], [3]);
    assert_eq!(
        a.to_string(),
        "tensor([ 1.0000, -2.5000,  3.0000], shape=[3], dtype=float32)"
    );
    // Debug prints the same
    assert_eq!(format!("{a:?}"), a.to_string());
}

#[test]
fn two_d_one_row_per_line() {
    let b = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
    assert_eq!(
        b.to_string(),
        "tensor([[1.0000, 2.0000, 3.0000],\n        [4.0000, 5.0000, 6.0000]], shape=[2, 3], dtype=float32)"
    );
    // a transposed view prints its logical order
    assert_eq!(
        b.t().to_string(),
        "tensor([[1.0000, 4.0000],\n        [2.0000, 5.0000],\n        [3.0000, 6.0000]], shape=[3, 2], dtype=float32)"
    );
    // precision is honoured
    assert_eq!(
        format!("{b:.1}"),
        "tensor([[1.0, 2.0, 3.0],\n        [4.0, 5.0, 6.0]], shape=[2, 3], dtype=float32)"
    );
}

#[test]
fn three_d_separates_blocks_with_a_blank_line() {
    let c = Tensor::arange(0.0, 8.0, 1.0, DType::F64).reshape([2, 2, 2]);
    assert_eq!(
        c.to_string(),
        "tensor([[[0.0000, 1.0000],\n         [2.0000, 3.0000]],\n\n        [[4.0000, 5.0000],\n         [6.0000, 7.0000]]], shape=[2, 2, 2], dtype=float64)"
    );
}

#[test]
fn zero_d_f64_and_specials() {
    assert_eq!(
        Tensor::scalar(1.5, DType::F64).to_string(),
        "tensor(1.5000, shape=[], dtype=float64)"
    );
    assert_eq!(
        Tensor::from_vec(vec![f64::NAN, f64::NEG_INFINITY, 0.25], [3]).to_string(),
        "tensor([   nan,   -inf, 0.2500], shape=[3], dtype=float64)"
    );
    assert_eq!(
        Tensor::from_vec(vec![1.0f64, 1e-7, 12345678.0], [3]).to_string(),
        "tensor([   1.0000, 1.0000e-7,  1.2346e7], shape=[3], dtype=float64)"
    );
    assert_eq!(
        Tensor::zeros([0, 2], DType::F32).to_string(),
        "tensor([], shape=[0, 2], dtype=float32)"
    );
}

#[test]
fn large_tensors_are_elided() {
    let v = Tensor::arange(0.0, 2000.0, 1.0, DType::F32);
    let s = v.to_string();
    assert_eq!(
        s,
        "tensor([   0.0000,    1.0000,    2.0000, ..., 1997.0000, 1998.0000, 1999.0000], shape=[2000], dtype=float32)"
    );
    let m = Tensor::arange(0.0, 1200.0, 1.0, DType::F32).reshape([40, 30]);
    let s = m.to_string();
    assert!(s.contains("..."));
    assert_eq!(s.lines().count(), 7, "{s}");
    assert!(s.lines().nth(3).unwrap().trim() == "...,", "{s}");
    assert!(s.ends_with("1199.0000]], shape=[40, 30], dtype=float32)"));
    // at most 1000 elements: nothing elided
    let small = Tensor::arange(0.0, 1000.0, 1.0, DType::F32);
    assert!(!small.to_string().contains("..."));
}
