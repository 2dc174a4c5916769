use tensor::{DType, Rng, Tensor};
fn t(name: &str, f: &mut dyn FnMut()) {
    for _ in 0..5 {
        f();
    }
    let mut ts: Vec<f64> = (0..31)
        .map(|_| {
            let t0 = std::time::Instant::now();
            f();
            t0.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ts.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("{name:<30} median {:.3} ms min {:.3}", ts[15], ts[0]);
}
fn main() {
    let mut rng = Rng::seed(0);
    let x = Tensor::randn([64, 100], 0.0, 1.0, DType::F32, &mut rng);
    let w = Tensor::randn([6272, 100], 0.0, 1.0, DType::F32, &mut rng);
    let b = Tensor::randn([6272], 0.0, 1.0, DType::F32, &mut rng);
    let g = Tensor::randn([64, 6272], 0.0, 1.0, DType::F32, &mut rng);
    let bn = Tensor::randn([64, 128, 7, 7], 0.0, 1.0, DType::F32, &mut rng);
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            println!("threads {threads}");
            t("linear fwd", &mut || {
                let _ = x.linear(&w, Some(&b));
            });
            t("g.matmul(w) (dx)", &mut || {
                let _ = g.matmul(&w);
            });
            t("g^T.matmul(x) (dw)", &mut || {
                let _ = g.transpose(0, 1).matmul(&x);
            });
            t("g.sum(0) (db)", &mut || {
                let _ = g.sum(&[0], false);
            });
            t("bn sum over 0,2,3", &mut || {
                let _ = bn.sum(&[0, 2, 3], false);
            });
            t("bn normalize", &mut || {
                let _ = bn.normalize_with_stats(&[0, 2, 3], 1e-5);
            });
            t("bn mul", &mut || {
                let _ = bn.mul(&bn);
            });
        });
    }
}
