//! 02 — tensors: storage and views, broadcasting, and a convolution as one matrix product.
//!
//! Run: `cargo run --release --example 02_tensors`

use tensor::{Conv2dParams, ConvTranspose2dParams, DType, Rng, Tensor};

fn main() {
    minimax::quiet_broken_pipes();
    // Storage and shape: a view shares the buffer, only shape/strides differ.
    let a = Tensor::arange(0.0, 6.0, 1.0, DType::F32).reshape([2, 3]);
    let t = a.t();
    println!("a = {a}\n  strides {:?}", a.strides());
    println!(
        "a.t() = {t}\n  strides {:?}, shares a's storage: {}",
        t.strides(),
        t.shares_storage(&a)
    );

    // Broadcasting: [2, 3] + [3] → [2, 3]; [2, 1] · [1, 3] → [2, 3] (an outer product).
    let row = Tensor::from_vec(vec![10.0f32, 20.0, 30.0], [3]);
    println!("\na + [10, 20, 30] = {}", &a + &row);
    let col = Tensor::from_vec(vec![1.0f32, 2.0], [2, 1]);
    println!(
        "[[1], [2]] * [[10, 20, 30]] = {}",
        col.mul(&row.reshape([1, 3]))
    );
    println!(
        "expand([3] → [2, 3]) strides: {:?} (stride 0 repeats the row without copying)",
        row.expand([2, 3]).strides()
    );

    // A convolution is one GEMM over im2col columns.
    let x = Tensor::arange(1.0, 10.0, 1.0, DType::F64).reshape([1, 1, 3, 3]);
    let w = Tensor::from_vec(vec![1.0f64, 0.0, 0.0, -1.0], [1, 1, 2, 2]);
    let y = x.conv2d(&w, None, Conv2dParams::default());
    println!("\nx = {x}\nw = {w}\nconv2d(x, w) = {y}");
    // by hand: each output is x[i][j] − x[i+1][j+1] = −4
    let cols = Tensor::from_vec(
        vec![
            1.0f64, 2.0, 4.0, 5.0, 2.0, 3.0, 5.0, 6.0, 4.0, 5.0, 7.0, 8.0, 5.0, 6.0, 8.0, 9.0,
        ],
        [4, 4],
    )
    .t();
    println!("im2col(x) (one column per output position) = {cols}");
    println!(
        "w as a row [1, 4] · im2col = {}",
        w.reshape([1, 4]).matmul(&cols)
    );

    // The transposed convolution is the adjoint: ⟨conv2d(x, w), u⟩ = ⟨x, conv_transpose2d(u, w)⟩.
    let mut rng = Rng::seed(0);
    let x = Tensor::randn([2, 3, 6, 6], 0.0, 1.0, DType::F64, &mut rng);
    let w = Tensor::randn([4, 3, 3, 3], 0.0, 1.0, DType::F64, &mut rng);
    let p = Conv2dParams::new((2, 2), (1, 1));
    let y = x.conv2d(&w, None, p);
    let u = Tensor::randn(*y.shape(), 0.0, 1.0, DType::F64, &mut rng);
    let pt = ConvTranspose2dParams::new((2, 2), (1, 1)).with_output_padding((1, 1));
    let lhs = y.mul(&u).sum_all().item();
    let rhs = x.mul(&u.conv_transpose2d(&w, None, pt)).sum_all().item();
    println!("\n⟨conv2d(x, w), u⟩ = {lhs:.12}\n⟨x, conv_transpose2d(u, w)⟩ = {rhs:.12}");
}
