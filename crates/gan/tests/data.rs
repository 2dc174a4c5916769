//! Datasets: PacGAN's mixtures, the embedded digits, the IDX and NPY readers.

use minimax_gan::data::{
    idx, DataErrorKind, Dataset, Digits, Gaussian1d, GaussianMixture1d, Grid25, NpyDataset, Ring8,
};
use std::path::PathBuf;
use tensor::{DType, Rng};

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("minimax-gan-data-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn nearest(p: [f64; 2], modes: &[[f64; 2]]) -> (usize, f64) {
    modes
        .iter()
        .enumerate()
        .map(|(i, m)| (i, ((p[0] - m[0]).powi(2) + (p[1] - m[1]).powi(2)).sqrt()))
        .fold((0, f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a })
}

#[test]
fn ring8_has_eight_distinct_modes_on_the_unit_circle() {
    let modes = Ring8.modes();
    assert_eq!(modes.len(), 8);
    assert_eq!(Ring8.sigma(), 0.01);
    assert!((modes[0][0] - 1.0).abs() < 1e-12 && modes[0][1].abs() < 1e-12);
    assert!((modes[2][0]).abs() < 1e-12 && (modes[2][1] - 1.0).abs() < 1e-12);
    for (k, m) in modes.iter().enumerate() {
        assert!((m[0].hypot(m[1]) - 1.0).abs() < 1e-12);
        let angle = m[1].atan2(m[0]).rem_euclid(2.0 * std::f64::consts::PI);
        assert!((angle - k as f64 * std::f64::consts::FRAC_PI_4).abs() < 1e-9);
    }
    // The linspace(0, 2π, 8) trap would make the last mode coincide with the first.
    for i in 0..8 {
        for j in 0..i {
            let d = (modes[i][0] - modes[j][0]).hypot(modes[i][1] - modes[j][1]);
            assert!(d > 0.7, "modes {i} and {j} are {d} apart");
        }
    }
}

#[test]
fn grid25_modes_match_pacgan_order() {
    let modes = Grid25.modes();
    assert_eq!(modes.len(), 25);
    assert_eq!(Grid25.sigma(), 0.05);
    assert_eq!(modes[0], [-4.0, -4.0]);
    assert_eq!(modes[1], [-4.0, -2.0]);
    assert_eq!(modes[5], [-2.0, -4.0]);
    assert_eq!(modes[24], [4.0, 4.0]);
    let mut all: Vec<(i64, i64)> = modes.iter().map(|m| (m[0] as i64, m[1] as i64)).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 25);
    assert!(all
        .iter()
        .all(|&(x, y)| [-4, -2, 0, 2, 4].contains(&x) && [-4, -2, 0, 2, 4].contains(&y)));
}

fn check_mixture_samples(ds: &dyn Dataset, modes: &[[f64; 2]], sigma: f64) {
    let n = 20_000;
    let mut rng = Rng::seed(11);
    let x = ds.sample(n, &mut rng);
    assert_eq!(x.dims(), &[n, 2]);
    assert_eq!(x.dtype(), DType::F32);
    assert_eq!(ds.sample_shape(), vec![2]);
    let v = x.to_vec_f64();
    let mut counts = vec![0usize; modes.len()];
    let mut sq = 0.0;
    for p in v.chunks(2) {
        let (k, d) = nearest([p[0], p[1]], modes);
        assert!(d < 6.0 * sigma, "sample {p:?} is {d} from its nearest mode");
        counts[k] += 1;
        sq += d * d;
    }
    // E‖x − μ‖² = 2σ² for an isotropic 2-D Gaussian.
    let est = (sq / n as f64 / 2.0).sqrt();
    assert!((est / sigma - 1.0).abs() < 0.03, "σ estimate {est}");
    let expect = n as f64 / modes.len() as f64;
    for c in counts {
        assert!((c as f64 - expect).abs() < 5.0 * expect.sqrt(), "count {c}");
    }
    // Same seed, same batch.
    let again = ds.sample(n, &mut Rng::seed(11));
    assert_eq!(again.to_vec_f32(), x.to_vec_f32());
}

#[test]
fn ring_and_grid_samples_are_uniform_over_modes_with_the_right_sigma() {
    check_mixture_samples(&Ring8, &Ring8.modes(), Ring8.sigma());
    check_mixture_samples(&Grid25, &Grid25.modes(), Grid25.sigma());
    assert_eq!(Ring8.name(), "ring8");
    assert_eq!(Grid25.name(), "grid25");
}

#[test]
fn gaussians_1d_sample_their_density() {
    let g = Gaussian1d::new(1.5, 0.5);
    let mut rng = Rng::seed(3);
    let x = g.sample(50_000, &mut rng);
    assert_eq!(x.dims(), &[50_000, 1]);
    let v = x.to_vec_f64();
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / v.len() as f64;
    assert!((mean - 1.5).abs() < 0.01);
    assert!((var.sqrt() - 0.5).abs() < 0.01);
    // The density integrates to 1 and peaks at 1/(σ√(2π)).
    let integral: f64 = (0..20_000)
        .map(|i| g.pdf(-5.0 + (i as f64 + 0.5) * 1e-3))
        .sum::<f64>()
        * 1e-3;
    assert!((integral - 1.0).abs() < 1e-9);
    assert!((g.pdf(1.5) - 1.0 / (0.5 * (2.0 * std::f64::consts::PI).sqrt())).abs() < 1e-12);

    let mix = GaussianMixture1d::two_modes(-2.0, 2.0, 0.25);
    assert_eq!(mix.weights(), &[0.5, 0.5]);
    let v = mix.sample(20_000, &mut rng).to_vec_f64();
    let right = v.iter().filter(|&&a| a > 0.0).count() as f64 / v.len() as f64;
    assert!((right - 0.5).abs() < 0.02, "{right}");
    assert!(v.iter().all(|a| (a.abs() - 2.0).abs() < 2.0));
    assert!((mix.pdf(2.0) - 0.5 * Gaussian1d::new(2.0, 0.25).pdf(2.0)).abs() < 1e-9);
    let skew = GaussianMixture1d::new(
        vec![Gaussian1d::new(0.0, 1.0), Gaussian1d::new(5.0, 1.0)],
        vec![3.0, 1.0],
    );
    assert_eq!(skew.weights(), &[0.75, 0.25]);
}

#[test]
fn digits_are_the_embedded_uci_set_scaled_to_minus_one_one() {
    let d = Digits::new();
    assert_eq!(d.len(), 1797);
    assert_eq!(d.images().dims(), &[1797, 1, 8, 8]);
    assert_eq!(d.images().dtype(), DType::F32);
    let mut counts = [0usize; 10];
    for &l in d.labels() {
        counts[l] += 1;
    }
    assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
    // First line of the CSV: 0,0,5,13,9,1,0,0, … label 0.
    assert_eq!(d.labels()[0], 0);
    let first: Vec<f32> = d.images().to_vec_f32()[..8].to_vec();
    let expect: Vec<f32> = [0.0, 0.0, 5.0, 13.0, 9.0, 1.0, 0.0, 0.0]
        .iter()
        .map(|p| p / 8.0 - 1.0)
        .collect();
    assert_eq!(first, expect);
    let all = d.images().to_vec_f32();
    let lo = all.iter().cloned().fold(f32::INFINITY, f32::min);
    let hi = all.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    assert_eq!((lo, hi), (-1.0, 1.0));
    assert_eq!(d.sample_shape(), vec![1, 8, 8]);
    assert_eq!(d.name(), "digits");
}

#[test]
fn digits_split_is_deterministic_disjoint_and_stratified() {
    let d = Digits::new();
    let (train, test) = d.split(0.2, 7);
    let (train2, test2) = d.split(0.2, 7);
    assert_eq!(train.labels(), train2.labels());
    assert_eq!(
        test.images().to_vec_f32(),
        test2.images().to_vec_f32(),
        "same seed, same split"
    );
    assert_eq!(train.len() + test.len(), 1797);
    assert_eq!(train.name(), "digits-train");
    assert_eq!(test.name(), "digits-test");
    for class in 0..10 {
        let n_test = test.labels().iter().filter(|&&l| l == class).count();
        let n_all = d.labels().iter().filter(|&&l| l == class).count();
        assert_eq!(n_test, (0.2 * n_all as f64).round() as usize);
    }
    // Disjoint: every image of the full set appears exactly once across both sides.
    let key = |v: &[f32]| {
        v.iter()
            .map(|x| ((x + 1.0) * 8.0) as u8)
            .collect::<Vec<u8>>()
    };
    let mut full: Vec<Vec<u8>> = d.images().to_vec_f32().chunks(64).map(key).collect();
    let mut parts: Vec<Vec<u8>> = train
        .images()
        .to_vec_f32()
        .chunks(64)
        .chain(test.images().to_vec_f32().chunks(64))
        .map(key)
        .collect();
    full.sort();
    parts.sort();
    assert_eq!(full, parts);
    let (_, other) = d.split(0.2, 8);
    assert_ne!(other.images().to_vec_f32(), test.images().to_vec_f32());
    let (all, none) = d.split(0.0, 1);
    assert_eq!((all.len(), none.len()), (1797, 0));
}

#[test]
fn digits_sampling_is_seeded_and_labeled() {
    let d = Digits::new();
    let a = d.sample(16, &mut Rng::seed(5));
    let (b, labels) = d.sample_labeled(16, &mut Rng::seed(5));
    assert_eq!(a.dims(), &[16, 1, 8, 8]);
    assert_eq!(a.to_vec_f32(), b.to_vec_f32());
    // Each drawn image carries its own label.
    let all = d.images().to_vec_f32();
    for (i, img) in b.to_vec_f32().chunks(64).enumerate() {
        let j = all.chunks(64).position(|c| c == img).unwrap();
        let same_pixels: Vec<usize> = all
            .chunks(64)
            .enumerate()
            .filter(|(_, c)| *c == img)
            .map(|(k, _)| d.labels()[k])
            .collect();
        assert!(
            same_pixels.contains(&labels[i]),
            "image {i} (first match {j})"
        );
    }
    let sel = d.select(&[3, 3, 0]);
    assert_eq!(sel.labels(), &[d.labels()[3], d.labels()[3], d.labels()[0]]);
}

fn idx_bytes(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut b = magic.to_be_bytes().to_vec();
    for d in dims {
        b.extend_from_slice(&d.to_be_bytes());
    }
    b.extend_from_slice(data);
    b
}

#[test]
fn idx_reads_images_and_labels() {
    let dir = temp_dir("idx-ok");
    let pixels: Vec<u8> = vec![0, 255, 51, 204, 0, 0, 10, 20, 30, 40, 50, 60];
    let img = dir.join("imgs-idx3-ubyte");
    std::fs::write(&img, idx_bytes(0x803, &[2, 3, 2], &pixels)).unwrap();
    let t = idx::read_images(&img).unwrap();
    assert_eq!(t.dims(), &[2, 1, 3, 2]);
    let v = t.to_vec_f32();
    for (a, p) in v.iter().zip(&pixels) {
        assert!((a - (*p as f32 / 255.0 * 2.0 - 1.0)).abs() < 1e-6);
    }
    assert_eq!(v[0], -1.0);
    assert_eq!(v[1], 1.0);
    let lab = dir.join("labels-idx1-ubyte");
    std::fs::write(&lab, idx_bytes(0x801, &[3], &[7, 0, 9])).unwrap();
    assert_eq!(idx::read_labels(&lab).unwrap(), vec![7, 0, 9]);
    // As a dataset.
    let ds = NpyDataset::from_tensor("mnist", &t);
    assert_eq!(ds.sample_shape(), vec![1, 3, 2]);
    assert_eq!(ds.sample(5, &mut Rng::seed(1)).dims(), &[5, 1, 3, 2]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn idx_errors_say_what_is_wrong() {
    let dir = temp_dir("idx-err");

    let missing = dir.join("no-such-file-idx3-ubyte");
    let e = idx::read_images(&missing).unwrap_err();
    assert_eq!(e.kind(), DataErrorKind::NotFound);
    assert!(e.to_string().contains("no-such-file-idx3-ubyte"), "{e}");

    let gz = dir.join("train-images-idx3-ubyte.gz");
    std::fs::write(&gz, [0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4, 5, 6]).unwrap();
    let e = idx::read_images(&gz).unwrap_err();
    assert_eq!(e.kind(), DataErrorKind::Compressed);
    let msg = e.to_string();
    assert!(msg.contains("is gzip-compressed"), "{msg}");
    assert!(msg.contains("decompress it first with `gunzip"), "{msg}");
    assert!(msg.contains("train-images-idx3-ubyte.gz"), "{msg}");
    assert_eq!(
        idx::read_labels(&gz).unwrap_err().kind(),
        DataErrorKind::Compressed
    );

    // A label file given to the image reader.
    let lab = dir.join("labels-idx1-ubyte");
    std::fs::write(&lab, idx_bytes(0x801, &[3], &[7, 0, 9])).unwrap();
    let e = idx::read_images(&lab).unwrap_err();
    assert_eq!(e.kind(), DataErrorKind::BadMagic);
    let msg = e.to_string();
    assert!(msg.contains("0x00000801") && msg.contains("found"), "{msg}");
    assert!(msg.contains("expected 0x00000803"), "{msg}");
    assert!(msg.contains("labels-idx1-ubyte"), "{msg}");
    // A PNG is not an IDX file at all.
    let e = idx::images_from_bytes(b"\x89PNG\r\n\x1a\n").unwrap_err();
    assert_eq!(e.kind(), DataErrorKind::BadMagic);
    assert!(e.to_string().contains("not an IDX file"), "{e}");

    // Truncated data: 2 × 28 × 28 declared, 100 bytes present.
    let tr = dir.join("short-idx3-ubyte");
    std::fs::write(&tr, idx_bytes(0x803, &[2, 28, 28], &[0u8; 100])).unwrap();
    let e = idx::read_images(&tr).unwrap_err();
    assert_eq!(e.kind(), DataErrorKind::Truncated);
    let msg = e.to_string();
    assert!(msg.contains("1568") && msg.contains("found 100"), "{msg}");
    // Truncated header.
    let e = idx::images_from_bytes(&[0, 0, 8, 3, 0, 0]).unwrap_err();
    assert_eq!(e.kind(), DataErrorKind::Truncated);
    let e = idx::images_from_bytes(&[0, 0]).unwrap_err();
    assert_eq!(e.kind(), DataErrorKind::Truncated);
    // Trailing bytes.
    let e = idx::labels_from_bytes(&idx_bytes(0x801, &[2], &[1, 2, 3])).unwrap_err();
    assert_eq!(e.kind(), DataErrorKind::Invalid);
    assert!(e.to_string().contains("1 unexpected bytes"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn npy_dataset_opens_arrays_and_reports_bad_files() {
    use nn::format::{npy::save_npy, RawTensor};
    let dir = temp_dir("npy");
    let p = dir.join("points.npy");
    let vals: Vec<f64> = (0..12).map(|i| i as f64 * 0.5).collect();
    save_npy(&p, &RawTensor::from_f64(&[4, 3], &vals)).unwrap();
    let ds = NpyDataset::open(&p).unwrap();
    assert_eq!(ds.len(), 4);
    assert_eq!(ds.name(), "points");
    assert_eq!(ds.sample_shape(), vec![3]);
    assert_eq!(ds.data().dtype(), DType::F32);
    let s = ds.sample(10, &mut Rng::seed(2));
    assert_eq!(s.dims(), &[10, 3]);
    for row in s.to_vec_f32().chunks(3) {
        // Each row is one of the stored rows.
        let r0 = row[0] as f64;
        assert!(r0 % 1.5 == 0.0 && r0 <= 4.5);
        assert_eq!(row[1] as f64, r0 + 0.5);
        assert_eq!(row[2] as f64, r0 + 1.0);
    }
    let v = dir.join("v.npy");
    save_npy(&v, &RawTensor::from_f32(&[5], &[1.0, 2.0, 3.0, 4.0, 5.0])).unwrap();
    assert_eq!(NpyDataset::open(&v).unwrap().sample_shape(), vec![1]);

    let e = NpyDataset::open(dir.join("missing.npy")).unwrap_err();
    assert_eq!(e.kind(), DataErrorKind::NotFound);
    assert!(e.to_string().contains("missing.npy"));
    let junk = dir.join("junk.npy");
    std::fs::write(&junk, b"hello, world").unwrap();
    let e = NpyDataset::open(&junk).unwrap_err();
    assert_eq!(e.kind(), DataErrorKind::BadMagic);
    assert!(e.to_string().contains("junk.npy") && e.to_string().contains("NUMPY"));
    let empty = dir.join("empty.npy");
    save_npy(&empty, &RawTensor::from_f32(&[0, 2], &[])).unwrap();
    assert_eq!(
        NpyDataset::open(&empty).unwrap_err().kind(),
        DataErrorKind::Invalid
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
