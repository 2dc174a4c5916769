//! Error messages name the op, both shapes and both dtypes; panics point at the caller's line
//! (`#[track_caller]` all the way through the public API); `try_` variants return `Err`.
//!
//! Each check is written as
//! ```text
//! let l = line!() + 1;
//! let p = catch(|| <one call>);
//! p.at(l, "expected message");
//! ```
//! so the expected panic line is the line of the call.

use minimax_tensor::{DType, PadMode, Rng, Shape, Tensor};
use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// Set while a `catch` runs on this thread: the hook records instead of printing.
    static CAPTURE: RefCell<Option<Option<(String, u32)>>> = const { RefCell::new(None) };
}

fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info: &panic::PanicHookInfo<'_>| {
            let captured = CAPTURE.with(|c| {
                let mut c = c.borrow_mut();
                match c.as_mut() {
                    Some(slot) => {
                        *slot = info.location().map(|l| (l.file().to_string(), l.line()));
                        true
                    }
                    None => false,
                }
            });
            if !captured {
                default(info);
            }
        }));
    });
}

/// What a caught panic said and where it happened.
struct Caught {
    msg: String,
    file: String,
    line: u32,
}

impl Caught {
    /// Asserts the panic happened on `line` of this file and its message contains `msg`.
    #[track_caller]
    fn at(&self, line: u32, msg: &str) {
        assert!(
            self.msg.contains(msg),
            "message {:?} does not contain {:?}",
            self.msg,
            msg
        );
        assert!(
            self.file.ends_with("tests/errors.rs"),
            "panic for {:?} located in {}:{}, not in the test file (missing #[track_caller])",
            self.msg,
            self.file,
            self.line
        );
        assert_eq!(
            self.line, line,
            "panic for {:?} on the wrong line",
            self.msg
        );
    }
}

/// Runs `f`, which must panic, and reports the message and location.
#[track_caller]
fn catch<R>(f: impl FnOnce() -> R) -> Caught {
    install_hook();
    CAPTURE.with(|c| *c.borrow_mut() = Some(None));
    let r = panic::catch_unwind(AssertUnwindSafe(f));
    let loc = CAPTURE.with(|c| c.borrow_mut().take()).flatten();
    let payload = match r {
        Ok(_) => panic!("expected a panic"),
        Err(p) => p,
    };
    let msg = if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else {
        String::from("<non-string payload>")
    };
    let (file, line) = loc.expect("the hook saw the panic");
    Caught { msg, file, line }
}

fn f32s(d: &[usize]) -> Tensor {
    Tensor::zeros(d, DType::F32)
}

fn f64s(d: &[usize]) -> Tensor {
    Tensor::zeros(d, DType::F64)
}

#[test]
fn binary_shape_and_dtype_mismatch() {
    let (a, b) = (f32s(&[2, 3]), f32s(&[4]));
    let l = line!() + 1;
    let p = catch(|| a.add(&b));
    p.at(
        l,
        "add: shapes cannot be broadcast together: [2, 3] and [4]",
    );
    let l = line!() + 1;
    let p = catch(|| &a * &b);
    p.at(
        l,
        "mul: shapes cannot be broadcast together: [2, 3] and [4]",
    );
    let l = line!() + 1;
    let p = catch(|| a.clone() - b.clone());
    p.at(
        l,
        "sub: shapes cannot be broadcast together: [2, 3] and [4]",
    );
    let l = line!() + 1;
    let p = catch(|| a.maximum(&b));
    p.at(l, "maximum: shapes cannot be broadcast together");
    let c = f64s(&[2, 3]);
    let l = line!() + 1;
    let p = catch(|| &a / &c);
    p.at(l, "div: dtype mismatch: float32 [2, 3] and float64 [2, 3]");
    let l = line!() + 1;
    let p = catch(|| Tensor::where_(&a, &a, &c));
    p.at(l, "where: dtype mismatch: float32 and float64");
    let l = line!() + 1;
    let p = catch(|| Tensor::where_(&b, &a, &a));
    p.at(
        l,
        "where: condition shape cannot be broadcast to: [4] and [2, 3]",
    );
}

#[test]
fn matmul_errors() {
    let (a, b) = (f32s(&[2, 3]), f32s(&[4, 5]));
    let l = line!() + 1;
    let p = catch(|| a.matmul(&b));
    p.at(
        l,
        "matmul: inner dimensions differ (3 vs 4): [2, 3] and [4, 5]",
    );
    let c = f64s(&[3, 2]);
    let l = line!() + 1;
    let p = catch(|| a.matmul(&c));
    p.at(
        l,
        "matmul: dtype mismatch: float32 [2, 3] and float64 [3, 2]",
    );
    let (x, y) = (f32s(&[2, 2, 3]), f32s(&[3, 3, 4]));
    let l = line!() + 1;
    let p = catch(|| x.matmul(&y));
    p.at(
        l,
        "matmul: batch dimensions cannot be broadcast: [2, 2, 3] and [3, 3, 4]",
    );
    let s = Tensor::scalar(1.0, DType::F32);
    let l = line!() + 1;
    let p = catch(|| s.matmul(&a));
    p.at(
        l,
        "matmul: both operands need at least 1 dimension: [] and [2, 3]",
    );
}

#[test]
fn shape_op_errors() {
    let a = f32s(&[2, 3]);
    let l = line!() + 1;
    let p = catch(|| a.reshape([4]));
    p.at(
        l,
        "reshape: cannot reshape [2, 3] (6 elements) into [4] (4 elements)",
    );
    let b = f32s(&[2, 4]);
    let l = line!() + 1;
    let p = catch(|| Tensor::cat(&[&a, &b], 0));
    p.at(
        l,
        "cat: shapes must match except in dimension 0: [2, 3] and [2, 4]",
    );
    let c = f64s(&[2, 3]);
    let l = line!() + 1;
    let p = catch(|| Tensor::cat(&[&a, &c], 1));
    p.at(l, "cat: dtype mismatch: float32 and float64");
    let l = line!() + 1;
    let p = catch(|| Tensor::stack(&[&a, &b], 0));
    p.at(l, "shapes must match");
    let l = line!() + 1;
    let p = catch(|| Tensor::stack(&[&a, &a], 3));
    p.at(l, "unsqueeze: axis 3 is out of range for shape [2, 3]");
    let l = line!() + 1;
    let p = catch(|| a.expand([2, 4]));
    p.at(l, "expand: cannot broadcast: [2, 3] and [2, 4]");
    let l = line!() + 1;
    let p = catch(|| a.permute(&[0, 0]));
    p.at(l, "permute: [0, 0] is not a permutation");
    let l = line!() + 1;
    let p = catch(|| a.transpose(0, 2));
    p.at(l, "transpose: axis 2 is out of range for shape [2, 3]");
    let l = line!() + 1;
    let p = catch(|| f32s(&[2, 3, 4]).t());
    p.at(l, "t: expects a 2-D tensor, got shape [2, 3, 4]");
    let l = line!() + 1;
    let p = catch(|| a.squeeze(1));
    p.at(l, "squeeze: dimension 1 of shape [2, 3] has size 3, not 1");
    let l = line!() + 1;
    let p = catch(|| a.unsqueeze(4));
    p.at(l, "unsqueeze: axis 4 is out of range for shape [2, 3]");
    let l = line!() + 1;
    let p = catch(|| a.narrow(1, 2, 2));
    p.at(
        l,
        "narrow: range 2..4 is out of bounds for dimension 1 of shape [2, 3]",
    );
    let l = line!() + 1;
    let p = catch(|| a.flatten(1, 0));
    p.at(l, "flatten: start 1 is after end 0");
    let l = line!() + 1;
    let p = catch(|| a.split(1, &[1, 1]));
    p.at(
        l,
        "split: sizes [1, 1] do not sum to dimension 1 of shape [2, 3]",
    );
    let l = line!() + 1;
    let p = catch(|| a.index_select(1, &[0, 3]));
    p.at(
        l,
        "index_select: index 3 is out of bounds for dimension 1 of shape [2, 3]",
    );
    let l = line!() + 1;
    let p = catch(|| a.pad(&[(3, 0)], PadMode::Reflect));
    p.at(
        l,
        "pad: reflect padding (3, 0) must be smaller than dimension 1",
    );
    let l = line!() + 1;
    let p = catch(|| a.repeat(&[2]));
    p.at(
        l,
        "repeat: 1 repetitions given for shape [2, 3]; need at least 2",
    );
    let l = line!() + 1;
    let p = catch(|| a.flip(&[2]));
    p.at(l, "flip: axis 2 is out of range for shape [2, 3]");
    let l = line!() + 1;
    let p = catch(|| Tensor::one_hot(&[0, 3], 3, DType::F32));
    p.at(l, "one_hot: class 3 is out of range for 3 classes");
}

#[test]
fn gather_scatter_index_errors() {
    let a = f32s(&[2, 3]);
    let idx = Tensor::from_vec(vec![0.0f32, 3.0], [2, 1]);
    let l = line!() + 1;
    let p = catch(|| a.gather(1, &idx));
    p.at(
        l,
        "gather: index value 3 is not a valid index into dimension 1 of size 3",
    );
    let neg = Tensor::from_vec(vec![0.0f32, -1.0], [2, 1]);
    let src = f32s(&[2, 1]);
    let l = line!() + 1;
    let p = catch(|| Tensor::scatter_add([2, 3], 1, &neg, &src));
    p.at(
        l,
        "scatter_add: index value -1 is not a valid index into dimension 1 of size 3",
    );
    let half = Tensor::from_vec(vec![0.5f32, 1.0], [2, 1]);
    let l = line!() + 1;
    let p = catch(|| Tensor::scatter_add([2, 3], 1, &half, &src));
    p.at(l, "scatter_add: index value 0.5 is not a valid index");
    // index_add: an index past the end must not land in the next row
    let s = f32s(&[2, 2]);
    let l = line!() + 1;
    let p = catch(|| Tensor::index_add([2, 3], 1, &[0, 3], &s));
    p.at(
        l,
        "index_add: index 3 is out of bounds for dimension 1 of shape [2, 3]",
    );
    let wrong = f32s(&[3, 2]);
    let l = line!() + 1;
    let p = catch(|| Tensor::index_add([2, 3], 1, &[0, 1], &wrong));
    p.at(l, "index_add: src [3, 2] does not match shape [2, 3]");
}

#[test]
fn reduction_errors_point_at_the_caller() {
    let a = f32s(&[2, 3]);
    let l = line!() + 1;
    let p = catch(|| a.sum(&[2], false));
    p.at(
        l,
        "sum: axis 2 is out of range for shape [2, 3] (2 dimensions)",
    );
    let l = line!() + 1;
    let p = catch(|| a.max(&[-3], false));
    p.at(l, "max: axis -3 is out of range for shape [2, 3]");
    let l = line!() + 1;
    let p = catch(|| a.min(&[5], true));
    p.at(l, "min: axis 5 is out of range");
    let l = line!() + 1;
    let p = catch(|| a.mean(&[2], false));
    p.at(l, "mean: axis 2 is out of range");
    let l = line!() + 1;
    let p = catch(|| a.var(&[2], true, false));
    p.at(l, "var: axis 2 is out of range");
    let l = line!() + 1;
    let p = catch(|| a.softmax(2));
    p.at(l, "axis 2 is out of range for shape [2, 3]");
    let l = line!() + 1;
    let p = catch(|| a.log_softmax(-3));
    p.at(l, "axis -3 is out of range for shape [2, 3]");
    let l = line!() + 1;
    let p = catch(|| a.argmax(2, false));
    p.at(l, "argmax: axis 2 is out of range");
    let e = f32s(&[2, 0]);
    let l = line!() + 1;
    let p = catch(|| e.max(&[1], false));
    p.at(
        l,
        "max: cannot reduce over an empty dimension of shape [2, 0]",
    );
    let l = line!() + 1;
    let p = catch(|| e.argmax(1, false));
    p.at(l, "argmax: dimension 1 of shape [2, 0] is empty");
    let l = line!() + 1;
    let p = catch(|| a.sum_to(&Shape::new(&[4])));
    p.at(l, "sum_to: cannot sum [2, 3] to [4]");
    let l = line!() + 1;
    let p = catch(|| f32s(&[3]).sum_to(&Shape::new(&[2, 3])));
    p.at(l, "sum_to: cannot sum [3] to [2, 3]");
}

#[test]
fn construction_and_access_errors() {
    let l = line!() + 1;
    let p = catch(|| Tensor::from_vec(vec![1.0f32; 5], [2, 3]));
    p.at(
        l,
        "from_vec: 5 values cannot fill shape [2, 3] (6 elements)",
    );
    let a = f32s(&[2, 3]);
    let l = line!() + 1;
    let p = catch(|| a.item());
    p.at(l, "item: tensor of shape [2, 3] has 6 elements, not 1");
    let l = line!() + 1;
    let p = catch(|| a.get(&[2, 0]));
    p.at(l, "get: index [2, 0] is out of bounds for shape [2, 3]");
    let l = line!() + 1;
    let p = catch(|| a.as_slice::<f64>().len());
    p.at(
        l,
        "as_slice: tensor has dtype float32 but float64 was asked for",
    );
    let l = line!() + 1;
    let p = catch(|| a.t().as_slice::<f32>().len());
    p.at(
        l,
        "as_slice: tensor of shape [3, 2] with strides [1, 3] is a non-contiguous view",
    );
    let mut m = a.clone();
    let l = line!() + 1;
    let p = catch(move || m.data_mut::<f64>().len());
    p.at(
        l,
        "data_mut: tensor has dtype float32 but float64 was asked for",
    );
    let s = Tensor::scalar(1.0, DType::F32);
    let l = line!() + 1;
    let p = catch(|| s.dim(0));
    p.at(l, "dim: axis 0 is out of range for shape [] (0 dimensions)");
    let l = line!() + 1;
    let p = catch(|| s.transpose(0, -1));
    p.at(
        l,
        "transpose: axis 0 is out of range for shape [] (0 dimensions)",
    );
    let l = line!() + 1;
    let p = catch(|| s.sum(&[1], false));
    p.at(l, "sum: axis 1 is out of range for shape [] (0 dimensions)");
    let l = line!() + 1;
    let p = catch(|| a.dim(2));
    p.at(l, "dim: axis 2 is out of range for shape [2, 3]");
    let mut r = Rng::seed(0);
    let l = line!() + 1;
    let p = catch(|| Tensor::bernoulli([2], 1.5, DType::F32, &mut r));
    p.at(l, "bernoulli: p = 1.5 is not in [0, 1]");
    let l = line!() + 1;
    let p = catch(|| Tensor::arange(0.0, 1.0, 0.0, DType::F32));
    p.at(l, "arange: step must be non-zero");
    let l = line!() + 1;
    let p = catch(|| r.below(0));
    p.at(l, "Rng::below: n must be positive");
}

#[test]
fn try_variants_return_errors() {
    let a = f32s(&[2, 3]);
    let e = a.try_reshape([5]).unwrap_err();
    assert_eq!(
        e.message(),
        "reshape: cannot reshape [2, 3] (6 elements) into [5] (5 elements)"
    );
    assert_eq!(e.to_string(), e.message());
    assert!(a.try_reshape([3, 2]).is_ok());

    let b = f32s(&[3, 3]);
    let e = Tensor::try_cat(&[&a, &b], 1).unwrap_err();
    assert_eq!(
        e.message(),
        "cat: shapes must match except in dimension 1: [2, 3] and [3, 3]"
    );
    let e = Tensor::try_cat(&[], 0).unwrap_err();
    assert_eq!(e.message(), "cat: expects at least one tensor");
    let e = Tensor::try_cat(&[&a], 2).unwrap_err();
    assert_eq!(e.message(), "cat: axis 2 is out of range for shape [2, 3]");
    assert_eq!(Tensor::try_cat(&[&a, &b], 0).unwrap().dims(), &[5, 3]);

    let e = a.try_matmul(&a).unwrap_err();
    assert_eq!(
        e.message(),
        "matmul: inner dimensions differ (3 vs 2): [2, 3] and [2, 3]"
    );
    let e = a.try_matmul(&f64s(&[3, 1])).unwrap_err();
    assert!(e.message().contains("float32") && e.message().contains("float64"));
    assert_eq!(a.try_matmul(&a.t()).unwrap().dims(), &[2, 2]);

    let e = a
        .try_binary(&f32s(&[2]), minimax_tensor::BinaryOp::Pow)
        .unwrap_err();
    assert_eq!(
        e.message(),
        "pow: shapes cannot be broadcast together: [2, 3] and [2]"
    );
    let e = a.try_expand([3]).unwrap_err();
    assert_eq!(e.message(), "expand: cannot broadcast: [2, 3] and [3]");
    let e = Tensor::try_where(&a, &a, &f32s(&[4])).unwrap_err();
    assert_eq!(
        e.message(),
        "where: shapes cannot be broadcast together: [2, 3] and [4]"
    );
    let e = Tensor::try_from_vec(vec![1.0f64; 3], [2]).unwrap_err();
    assert_eq!(
        e.message(),
        "from_vec: 3 values cannot fill shape [2] (2 elements)"
    );
    // TensorError is a std error
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert!(boxed.to_string().starts_with("from_vec"));
}
