//! The buffer pool: large buffers are reused, a reused buffer's old contents never show, and
//! the limit holds. One test function, run in its own process, because the pool is global and
//! the steps below depend on its state.

use minimax_tensor::{pool, DType, Rng, Tensor};

fn ptr(t: &Tensor) -> *const f32 {
    t.as_slice::<f32>().as_ptr()
}

#[test]
fn large_buffers_are_reused_without_their_old_contents_and_within_the_limit() {
    // sizes no other allocation here has, so the buffers seen are the ones dropped
    const N: usize = 262_147; // 1 MiB of f32
    let before = pool::stats();

    // a dropped buffer is kept and handed to the next tensor of the same size
    let a = Tensor::full([N], 7.0, DType::F32);
    let pa = ptr(&a);
    drop(a);
    assert!(pool::stats().held_bytes >= N * 4);
    let z = Tensor::zeros([N], DType::F32);
    assert_eq!(ptr(&z), pa, "zeros took the dropped buffer");
    assert!(pool::stats().reused > before.reused);
    // ... with none of its old contents
    assert!(z.to_vec_f64().iter().all(|&v| v == 0.0));

    // an elementwise result, a matmul and a convolution written into reused buffers
    let mut rng = Rng::seed(1);
    let x = Tensor::randn([N], 0.0, 1.0, DType::F32, &mut rng);
    let want: Vec<f64> = x.to_vec_f64().iter().map(|v| v * 2.0).collect();
    drop(z);
    let y = x.mul_scalar(2.0);
    assert_eq!(y.to_vec_f64(), want);
    let m = Tensor::randn([300, 300], 0.0, 1.0, DType::F32, &mut rng);
    let mm1 = m.matmul(&m).to_vec_f64();
    drop(Tensor::full([300, 300], f64::NAN, DType::F32)); // a NaN-filled buffer to reuse
    let mm2 = m.matmul(&m);
    assert_eq!(mm2.to_vec_f64(), mm1);
    let img = Tensor::randn([8, 16, 20, 20], 0.0, 1.0, DType::F32, &mut rng);
    let w = Tensor::randn([32, 16, 3, 3], 0.0, 0.1, DType::F32, &mut rng);
    let p = minimax_tensor::Conv2dParams::new((1, 1), (1, 1));
    let c1 = img.conv2d(&w, None, p).to_vec_f64();
    drop(Tensor::full([8, 32, 20, 20], f64::NAN, DType::F32));
    let c2 = img.conv2d(&w, None, p).to_vec_f64();
    assert_eq!(c1, c2);
    assert!(c2.iter().all(|v| v.is_finite()));

    // small buffers are not kept
    let held = pool::stats().held_bytes;
    drop(Tensor::zeros([100], DType::F32));
    assert_eq!(pool::stats().held_bytes, held);

    // f64 buffers are kept apart from f32 ones
    let d = Tensor::full([N / 2], 1.5, DType::F64);
    let pd = d.as_slice::<f64>().as_ptr() as usize;
    drop(d);
    let f = Tensor::zeros([N / 2], DType::F32); // same bytes / 2: not the f64 buffer
    assert_ne!(ptr(&f) as usize, pd);
    let d2 = Tensor::zeros([N / 2], DType::F64);
    assert_eq!(d2.as_slice::<f64>().as_ptr() as usize, pd);
    assert!(d2.to_vec_f64().iter().all(|&v| v == 0.0));

    // the limit: shrinking it frees the oldest buffers; a buffer above it is not kept
    let old_limit = pool::limit();
    pool::set_limit(1 << 20);
    assert!(pool::stats().held_bytes <= 1 << 20);
    let evicted = pool::stats().evicted;
    drop(Tensor::zeros([600_000], DType::F32)); // 2.4 MB > 1 MiB
    assert!(pool::stats().held_bytes <= 1 << 20);
    drop(Tensor::zeros([200_000], DType::F32)); // 0.8 MB: kept, older ones go
    let s = pool::stats();
    assert!(s.held_bytes <= 1 << 20 && s.held_bytes >= 800_000);
    assert!(s.evicted >= evicted);
    pool::release();
    assert_eq!(pool::stats().held_bytes, 0);
    pool::set_limit(0);
    drop(Tensor::zeros([200_000], DType::F32));
    assert_eq!(pool::stats().held_bytes, 0, "limit 0 turns reuse off");
    pool::set_limit(old_limit);
    assert_eq!(pool::limit(), old_limit);
}
