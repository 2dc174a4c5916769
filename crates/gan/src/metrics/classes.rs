//! Class-level summaries of generated images, from a classifier's predictions.

use super::kl_to_uniform;
use std::fmt;
use tensor::Tensor;

/// Which classes a set of predicted labels covers.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassCoverage {
    /// Number of predictions per class.
    pub counts: Vec<usize>,
    /// Number of classes predicted at least once.
    pub classes_covered: usize,
    /// KL(histogram ‖ uniform) in nats, with the same convention as
    /// [`super::ModeReport::reverse_kl`] (empty classes contribute 0; NaN for no predictions).
    pub kl_to_uniform: f64,
}

impl ClassCoverage {
    /// The fraction of predictions in each class.
    pub fn frequencies(&self) -> Vec<f64> {
        let total: usize = self.counts.iter().sum();
        self.counts
            .iter()
            .map(|&c| c as f64 / total.max(1) as f64)
            .collect()
    }
}

impl fmt::Display for ClassCoverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "classes covered {}/{}, KL to uniform {:.4}, counts {:?}",
            self.classes_covered,
            self.counts.len(),
            self.kl_to_uniform,
            self.counts
        )
    }
}

/// Counts `predicted_labels` per class (e.g. a digit classifier's argmax on generated digits):
/// how many classes appear, and how far the histogram is from uniform.
///
/// Panics if a label is `>= num_classes` or `num_classes` is 0.
#[track_caller]
pub fn class_coverage(predicted_labels: &[usize], num_classes: usize) -> ClassCoverage {
    assert!(
        num_classes > 0,
        "class_coverage: num_classes must be positive"
    );
    let mut counts = vec![0usize; num_classes];
    for (i, &l) in predicted_labels.iter().enumerate() {
        assert!(
            l < num_classes,
            "class_coverage: label {l} at position {i} is not below num_classes = {num_classes}"
        );
        counts[l] += 1;
    }
    ClassCoverage {
        classes_covered: counts.iter().filter(|&&c| c > 0).count(),
        kl_to_uniform: kl_to_uniform(&counts),
        counts,
    }
}

/// How confidently a classifier labels a set of images.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfidenceSummary {
    /// Mean over images of the largest class probability (1 = always certain, 1/C = guessing).
    pub mean_max_prob: f64,
    /// Mean over images of the entropy of the class probabilities, in nats (0 = certain).
    pub mean_entropy: f64,
    /// The most probable class of each image (the first one on a tie).
    pub predicted: Vec<usize>,
}

/// Summarises class probabilities `[N, C]` (rows are softmax outputs): mean max-probability,
/// mean entropy and the argmax labels, which [`class_coverage`] can then count.
///
/// Real digits classified by a good classifier score a mean max-probability near 1; generated
/// digits that look like no class score lower, so this is a cheap "recognisability" check.
///
/// Panics unless `probs` is `[N, C]` with N, C > 0 and every row is a probability vector
/// (entries in [0, 1] and summing to 1 within 1e-3): passing logits is a mistake this catches.
#[track_caller]
pub fn confidence_summary(probs: &Tensor) -> ConfidenceSummary {
    assert!(
        probs.ndim() == 2 && probs.dims()[0] > 0 && probs.dims()[1] > 0,
        "confidence_summary: probs must be [N, C] with N, C > 0, got {:?}",
        probs.dims()
    );
    let (n, c) = (probs.dims()[0], probs.dims()[1]);
    let p = probs.to_vec_f64();
    let mut max_sum = 0.0;
    let mut ent_sum = 0.0;
    let mut predicted = Vec::with_capacity(n);
    for (i, row) in p.chunks_exact(c).enumerate() {
        let s: f64 = row.iter().sum();
        assert!(
            row.iter().all(|&x| (-1e-6..=1.0 + 1e-6).contains(&x)) && (s - 1.0).abs() <= 1e-3,
            "confidence_summary: row {i} is not a probability vector (sum {s}, values {row:?}); \
             pass softmax outputs, not logits"
        );
        let mut best = 0;
        for k in 1..c {
            if row[k] > row[best] {
                best = k;
            }
        }
        predicted.push(best);
        max_sum += row[best];
        ent_sum -= row
            .iter()
            .filter(|&&x| x > 0.0)
            .map(|&x| x * x.ln())
            .sum::<f64>();
    }
    ConfidenceSummary {
        mean_max_prob: max_sum / n as f64,
        mean_entropy: ent_sum / n as f64,
        predicted,
    }
}
