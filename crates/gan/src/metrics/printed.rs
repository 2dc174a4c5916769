//! A classifier of the 32-px printed digits, trained here: which digit, and which of three
//! styles (bold, italic, serif) — to measure generated printed digits: label agreement,
//! attribute agreement and a Fréchet distance on its features.
//!
//! ```text
//! Conv(1, 16, 4, 2, 1) → LeakyReLU(0.2) → Conv(16, 32, 4, 2, 1) → LeakyReLU(0.2) → Flatten
//! → Linear(2048, 64) → ReLU  = features (64)
//!   → Linear(64, 10)  digit logits            (cross-entropy)
//!   → Linear(64, 3)   bold, italic, serif     (binary cross-entropy each)
//! ```
//!
//! It trains on instances 0–7 of every digit in every face and is measured on instances 8 and
//! 9 (the held-out split every paired measurement uses).

use super::frechet_distance;
use crate::data::{Printed, Resolution};
use autograd::{no_grad, Tape};
use nn::loss::{bce_with_logits, cross_entropy, Reduction};
use nn::optim::{compute_gradients, AdamConfig};
use nn::{Adam, Conv2d, Flatten, LeakyReLU, Linear, Module, Optimizer, ReLU, Sequential};
use tensor::{Conv2dParams, DType, Rng, Tensor};

/// The three styles the classifier reads, in this order.
pub const STYLES: [&str; 3] = ["bold", "italic", "serif"];

/// The style vector (bold, italic, serif) of a printed image, as 0/1.
pub fn styles_of(p: &Printed, i: usize) -> [f32; 3] {
    let a = p.attributes(i);
    [
        a.bold as u8 as f32,
        a.italic as u8 as f32,
        a.serif() as u8 as f32,
    ]
}

/// Digit and style classifier of 32×32 printed digits; see the module docs.
pub struct PrintedClassifier {
    body: Sequential,
    digit: Linear,
    style: Linear,
    held_out: Printed,
    digit_accuracy: f64,
    style_accuracy: [f64; 3],
}

impl PrintedClassifier {
    /// Trains for 6 epochs (batch 32, Adam 2e-3) from `seed` on the printed digits' training
    /// split, then measures the held-out accuracies.
    pub fn train(seed: u64) -> PrintedClassifier {
        let (train, held_out) = Printed::new(Resolution::R32).split_held_out();
        let mut rng = Rng::seed(seed);
        let p = Conv2dParams::new((2, 2), (1, 1));
        let body = Sequential::new()
            .add(Conv2d::with_options(1, 16, (4, 4), p, true, &mut rng))
            .add(LeakyReLU::new(0.2))
            .add(Conv2d::with_options(16, 32, (4, 4), p, true, &mut rng))
            .add(LeakyReLU::new(0.2))
            .add(Flatten::new())
            .add(Linear::new(32 * 8 * 8, 64, true, &mut rng))
            .add(ReLU::new());
        let digit = Linear::new(64, 10, true, &mut rng);
        let style = Linear::new(64, 3, true, &mut rng);
        let mut opt = Adam::new(
            nn::params_of(&[("body", &body), ("digit", &digit), ("style", &style)]),
            AdamConfig::default().lr(2e-3),
        )
        .expect("Adam accepts the classifier's parameters");
        let styles: Vec<[f32; 3]> = (0..train.len()).map(|i| styles_of(&train, i)).collect();
        for _ in 0..6 {
            let order = rng.permutation(train.len());
            for idx in order.chunks(32) {
                let x = train.images().index_select(0, idx);
                let y: Vec<usize> = idx.iter().map(|&i| train.labels()[i]).collect();
                let s: Vec<f32> = idx.iter().flat_map(|&i| styles[i]).collect();
                let (body, digit, style) = (&body, &digit, &style);
                compute_gradients(&opt, |tape| {
                    let f = body.forward(&tape.constant(x));
                    let l = cross_entropy(&digit.forward(&f), &y, Reduction::Mean).add(
                        &bce_with_logits(
                            &style.forward(&f),
                            &tape.constant(Tensor::from_vec(s, [idx.len(), 3])),
                            None,
                            Reduction::Mean,
                        ),
                    );
                    Ok::<_, ()>((l, ()))
                })
                .expect("no refusal");
                opt.step()
                    .unwrap_or_else(|e| panic!("PrintedClassifier: training diverged: {e}"));
            }
        }
        let mut clf = PrintedClassifier {
            body,
            digit,
            style,
            held_out,
            digit_accuracy: f64::NAN,
            style_accuracy: [f64::NAN; 3],
        };
        let h = &clf.held_out;
        let pred = clf.predict(h.images());
        clf.digit_accuracy =
            pred.iter().zip(h.labels()).filter(|(a, b)| a == b).count() as f64 / h.len() as f64;
        let st = clf.styles(h.images());
        for k in 0..3 {
            let right = (0..h.len())
                .filter(|&i| st[i][k] == (styles_of(h, i)[k] > 0.5))
                .count();
            clf.style_accuracy[k] = right as f64 / h.len() as f64;
        }
        clf
    }

    /// The held-out printed digits (instances 8 and 9).
    pub fn held_out(&self) -> &Printed {
        &self.held_out
    }

    /// Held-out digit accuracy.
    pub fn digit_accuracy(&self) -> f64 {
        self.digit_accuracy
    }

    /// Held-out accuracy of each style (bold, italic, serif).
    pub fn style_accuracy(&self) -> [f64; 3] {
        self.style_accuracy
    }

    fn run(&self, images: &Tensor, head: Option<&Linear>) -> Tensor {
        assert!(
            images.ndim() == 4 && images.dims()[1..] == [1, 32, 32],
            "PrintedClassifier: images must be [N, 1, 32, 32], got {:?}",
            images.dims()
        );
        let _off = no_grad();
        let x = images.to_dtype(DType::F32);
        let n = x.dims()[0];
        let mut parts = Vec::new();
        let mut done = 0;
        while done < n {
            let k = (n - done).min(500);
            let t = Tape::new();
            let f = self
                .body
                .forward(&t.constant(x.narrow(0, done, k).contiguous()));
            let out = match head {
                Some(h) => h.forward(&f),
                None => f,
            };
            parts.push(out.value().clone());
            done += k;
        }
        Tensor::cat(&parts.iter().collect::<Vec<_>>(), 0)
    }

    /// The 64 features of each image `[N, 1, 32, 32]` in [−1, 1].
    #[track_caller]
    pub fn features(&self, images: &Tensor) -> Tensor {
        self.run(images, None)
    }

    /// The most probable digit of each image.
    #[track_caller]
    pub fn predict(&self, images: &Tensor) -> Vec<usize> {
        let l = self.run(images, Some(&self.digit)).to_vec_f64();
        l.chunks_exact(10)
            .map(|r| {
                (0..10)
                    .max_by(|&a, &b| r[a].total_cmp(&r[b]))
                    .expect("ten logits")
            })
            .collect()
    }

    /// The probability of the most probable digit of each image.
    #[track_caller]
    pub fn confidence(&self, images: &Tensor) -> Vec<f64> {
        let p = self.run(images, Some(&self.digit)).softmax(1).to_vec_f64();
        p.chunks_exact(10)
            .map(|r| r.iter().cloned().fold(0.0, f64::max))
            .collect()
    }

    /// Whether each image reads as bold, italic and serif (probability > ½).
    #[track_caller]
    pub fn styles(&self, images: &Tensor) -> Vec<[bool; 3]> {
        let l = self.run(images, Some(&self.style)).to_vec_f64();
        l.chunks_exact(3)
            .map(|r| [r[0] > 0.0, r[1] > 0.0, r[2] > 0.0])
            .collect()
    }

    /// The Fréchet distance between the features of `images` and of the held-out digits.
    #[track_caller]
    pub fn frechet_to_held_out(&self, images: &Tensor) -> f64 {
        frechet_distance(
            &self.features(images),
            &self.features(self.held_out.images()),
        )
    }
}

impl std::fmt::Debug for PrintedClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrintedClassifier")
            .field("digit_accuracy", &self.digit_accuracy)
            .field("style_accuracy", &self.style_accuracy)
            .finish()
    }
}

/// The sample shape the classifier reads, for callers that check first.
pub const SHAPE: [usize; 3] = [1, 32, 32];
