//! The 1,797 real 8×8 handwritten digits embedded in the crate.

use super::{sample_rows, Dataset};
use tensor::{Rng, Tensor};

/// The embedded CSV: 64 pixels in 0..=16 then the label, one digit per line (see
/// `crates/gan/data/README.md` for its origin and licence).
const OPTDIGITS_CSV: &str = include_str!("../../data/optdigits.csv");

/// Pixels per image (8 × 8).
const PIXELS: usize = 64;

/// Real handwritten digits, 8×8, classes 0–9: the 1,797 images of the UCI "Optical Recognition
/// of Handwritten Digits" test set (E. Alpaydin, C. Kaynak, 1998; CC BY 4.0), as redistributed by
/// scikit-learn.
///
/// The data is compiled into the crate, so nothing is downloaded or read at run time. Pixels
/// (counts 0..=16) are scaled linearly to [−1, 1] (0 → −1, 16 → 1), the range of a `tanh`
/// generator. Images have shape `[1, 8, 8]` (one channel, row-major, row 0 at the top).
#[derive(Debug, Clone)]
pub struct Digits {
    images: Tensor,
    labels: Vec<usize>,
    name: String,
}

impl Default for Digits {
    fn default() -> Digits {
        Digits::new()
    }
}

impl Digits {
    /// Number of classes (the digits 0–9).
    pub const NUM_CLASSES: usize = 10;
    /// Number of images in the full embedded set.
    pub const LEN: usize = 1797;

    /// All 1,797 digits, parsed from the embedded CSV (a few milliseconds).
    pub fn new() -> Digits {
        let mut pixels = Vec::with_capacity(Digits::LEN * PIXELS);
        let mut labels = Vec::with_capacity(Digits::LEN);
        for (i, line) in OPTDIGITS_CSV.lines().enumerate() {
            let mut n = 0;
            for (j, field) in line.split(',').enumerate() {
                let v: u8 = field.trim().parse().unwrap_or_else(|_| {
                    panic!("embedded optdigits.csv line {}: bad field {field:?}", i + 1)
                });
                if j < PIXELS {
                    assert!(v <= 16, "embedded optdigits.csv line {}: pixel {v}", i + 1);
                    pixels.push(v as f32 / 8.0 - 1.0);
                } else {
                    assert!(v <= 9, "embedded optdigits.csv line {}: label {v}", i + 1);
                    labels.push(v as usize);
                }
                n += 1;
            }
            assert_eq!(n, PIXELS + 1, "embedded optdigits.csv line {}", i + 1);
        }
        let n = labels.len();
        Digits {
            images: Tensor::from_vec(pixels, [n, 1, 8, 8]),
            labels,
            name: "digits".into(),
        }
    }

    /// Any labelled 8×8 images as a digit set (the printed digits at 8 px, say): `images` f32
    /// `[N, 1, 8, 8]` in [−1, 1] and one label 0–9 per image.
    ///
    /// Panics if the shapes or the labels do not fit.
    #[track_caller]
    pub fn from_parts(images: Tensor, labels: Vec<usize>, name: String) -> Digits {
        assert!(
            images.ndim() == 4
                && images.dims()[1..] == [1, 8, 8]
                && images.dims()[0] == labels.len()
                && labels.iter().all(|&l| l < Digits::NUM_CLASSES),
            "Digits::from_parts: expected images [N, 1, 8, 8] with N labels in 0..10, got {:?} and {} labels",
            images.dims(),
            labels.len()
        );
        Digits {
            images: images.to_dtype(tensor::DType::F32).contiguous(),
            labels,
            name,
        }
    }

    /// All images, f32 `[N, 1, 8, 8]` in [−1, 1].
    pub fn images(&self) -> &Tensor {
        &self.images
    }

    /// The label (0–9) of each image.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The images at `indices` (in that order, repeats allowed) with their labels.
    ///
    /// Panics if an index is out of range.
    #[track_caller]
    pub fn select(&self, indices: &[usize]) -> Digits {
        let src = self.images.as_slice::<f32>();
        let mut pixels = Vec::with_capacity(indices.len() * PIXELS);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            assert!(
                i < self.len(),
                "Digits::select: index {i} out of range for {} images",
                self.len()
            );
            pixels.extend_from_slice(&src[i * PIXELS..(i + 1) * PIXELS]);
            labels.push(self.labels[i]);
        }
        Digits {
            images: Tensor::from_vec(pixels, [indices.len(), 1, 8, 8]),
            labels,
            name: self.name.clone(),
        }
    }

    /// A deterministic stratified split into `(train, test)`.
    ///
    /// For each class separately, its images are shuffled with `Rng::seed(seed)` and
    /// `round(test_fraction × class size)` of them go to the test set, so both sides keep the
    /// class balance. Within each side the images keep their original order. The same seed always
    /// gives the same split; the two sides never share an image.
    ///
    /// Panics unless `0 ≤ test_fraction ≤ 1`.
    #[track_caller]
    pub fn split(&self, test_fraction: f64, seed: u64) -> (Digits, Digits) {
        assert!(
            (0.0..=1.0).contains(&test_fraction),
            "Digits::split: test_fraction must be in [0, 1], got {test_fraction}"
        );
        let mut rng = Rng::seed(seed);
        let mut is_test = vec![false; self.len()];
        for class in 0..Digits::NUM_CLASSES {
            let members: Vec<usize> = (0..self.len())
                .filter(|&i| self.labels[i] == class)
                .collect();
            let k = (test_fraction * members.len() as f64).round() as usize;
            let perm = rng.permutation(members.len());
            for &p in &perm[..k] {
                is_test[members[p]] = true;
            }
        }
        let train: Vec<usize> = (0..self.len()).filter(|&i| !is_test[i]).collect();
        let test: Vec<usize> = (0..self.len()).filter(|&i| is_test[i]).collect();
        let mut a = self.select(&train);
        let mut b = self.select(&test);
        a.name = format!("{}-train", self.name);
        b.name = format!("{}-test", self.name);
        (a, b)
    }

    /// `m` images drawn uniformly with replacement, with their labels: `([m, 1, 8, 8], labels)`.
    /// Draws exactly what [`Dataset::sample`] draws for the same generator state.
    pub fn sample_labeled(&self, m: usize, rng: &mut Rng) -> (Tensor, Vec<usize>) {
        let src = self.images.as_slice::<f32>();
        let n = self.len();
        assert!(n > 0, "Digits: cannot sample from an empty set");
        let mut pixels = Vec::with_capacity(m * PIXELS);
        let mut labels = Vec::with_capacity(m);
        for _ in 0..m {
            let i = rng.below(n);
            pixels.extend_from_slice(&src[i * PIXELS..(i + 1) * PIXELS]);
            labels.push(self.labels[i]);
        }
        (Tensor::from_vec(pixels, [m, 1, 8, 8]), labels)
    }
}

impl Dataset for Digits {
    fn sample(&self, m: usize, rng: &mut Rng) -> Tensor {
        let v = sample_rows(self.images.as_slice::<f32>(), self.len(), PIXELS, m, rng);
        Tensor::from_vec(v, [m, 1, 8, 8])
    }
    fn sample_shape(&self) -> Vec<usize> {
        vec![1, 8, 8]
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn num_classes(&self) -> usize {
        Digits::NUM_CLASSES
    }
    fn examples(&self) -> Option<Tensor> {
        Some(self.images.clone())
    }
    fn example_labels(&self) -> Option<Vec<usize>> {
        Some(self.labels.clone())
    }
    fn sample_labelled(&self, m: usize, rng: &mut Rng) -> Option<(Tensor, Vec<usize>)> {
        Some(self.sample_labeled(m, rng))
    }
}
