//! How well two domains' codes line up: can a classifier still tell them apart, does a code's
//! nearest neighbour in the other domain show the same digit, and a 2-D picture of them.

use super::frechet::symmetric_eigen;
use autograd::Tape;
use nn::loss::{bce_with_logits, Reduction};
use nn::optim::{compute_gradients, AdamConfig, Optimizer};
use nn::{Adam, Linear, Module, ReLU, Sequential};
use tensor::{DType, Rng, Tensor};

/// Test accuracy of a small classifier (Linear(d, 32) → ReLU → Linear(32, 1), 400 full-batch
/// Adam steps at 1e-2 on standardised codes) that guesses whether a code came from `a` or `b`
/// (`[Na, d]`, `[Nb, d]`). Each side is shuffled (from `Rng::seed(seed)`) and cut to the same
/// size n = min(Na, Nb); the first ⌊n/2⌋ of each side train it, the rest measure it.
///
/// 0.5 means the codes are indistinguishable to it; 1.0 that the domains sit apart.
///
/// Panics if a side has fewer than 4 codes or the widths differ.
#[track_caller]
pub fn domain_accuracy(a: &Tensor, b: &Tensor, seed: u64) -> f64 {
    let (na, nb) = (a.dims()[0], b.dims()[0]);
    assert!(
        na >= 4 && nb >= 4 && a.dims()[1] == b.dims()[1],
        "domain_accuracy: needs [N, d] codes with N ≥ 4 on both sides and one d, got {:?} and {:?}",
        a.dims(),
        b.dims()
    );
    let d = a.dims()[1];
    let n = na.min(nb);
    let half = n / 2;
    let mut rng = Rng::seed(seed);
    let pick = |t: &Tensor, rng: &mut Rng| {
        let mut idx = rng.permutation(t.dims()[0]);
        idx.truncate(n);
        t.index_select(0, &idx).to_dtype(DType::F32)
    };
    let (a, b) = (pick(a, &mut rng), pick(b, &mut rng));
    let train = Tensor::cat(&[&a.narrow(0, 0, half), &b.narrow(0, 0, half)], 0);
    let test = Tensor::cat(
        &[&a.narrow(0, half, n - half), &b.narrow(0, half, n - half)],
        0,
    );
    // standardise with the training part's mean and spread
    let mean = train.mean(&[0], true);
    let std = train.var(&[0], false, true).sqrt().add_scalar(1e-6);
    let norm = |t: &Tensor| t.sub(&mean).div(&std);
    let (train, test) = (norm(&train), norm(&test));
    let target = |k: usize| {
        let mut v = vec![1.0f32; k];
        v.extend(std::iter::repeat_n(0.0, k));
        Tensor::from_vec(v, [2 * k, 1])
    };
    let net = Sequential::new()
        .add(Linear::new(d, 32, true, &mut rng))
        .add(ReLU::new())
        .add(Linear::new(32, 1, true, &mut rng));
    let mut opt = Adam::new(net.params(), AdamConfig::default().lr(1e-2)).expect("valid Adam");
    let t_train = target(half);
    for _ in 0..400 {
        compute_gradients(&opt, |tape: &Tape| {
            let l = bce_with_logits(
                &net.forward(&tape.constant(train.clone())),
                &tape.constant(t_train.clone()),
                None,
                Reduction::Mean,
            );
            Ok::<_, ()>((l, ()))
        })
        .expect("no error");
        opt.step().expect("finite gradients");
    }
    let logits = net
        .forward(&Tape::new().constant(test))
        .value()
        .to_vec_f64();
    let k = n - half;
    let right = logits
        .iter()
        .enumerate()
        .filter(|&(i, &l)| (l > 0.0) == (i < k))
        .count();
    right as f64 / (2 * k) as f64
}

/// The fraction of `queries` (`[Nq, d]`, digits `query_labels`) whose nearest code among
/// `references` (`[Nr, d]`, digits `reference_labels`, Euclidean distance) shows the same digit:
/// 0.1 is chance for ten digits, 1.0 that every code sits beside its own digit in the other
/// domain.
///
/// Panics if the label counts do not match the codes or the widths differ.
#[track_caller]
pub fn nearest_label_accuracy(
    queries: &Tensor,
    query_labels: &[usize],
    references: &Tensor,
    reference_labels: &[usize],
) -> f64 {
    check_codes(
        "nearest_label_accuracy",
        queries,
        query_labels,
        references,
        reference_labels,
    );
    let right = nearest(queries, references)
        .iter()
        .zip(query_labels)
        .filter(|&(&j, &label)| reference_labels[j] == label)
        .count();
    right as f64 / queries.dims()[0].max(1) as f64
}

/// Where the nearest-neighbour labels of [`nearest_label_accuracy`] go: `counts[a][b]` is the
/// number of `queries` of digit `a` whose nearest code among `references` shows digit `b`, for
/// digits below `classes`. The diagonal's sum over the number of queries is
/// [`nearest_label_accuracy`].
///
/// Panics if the label counts do not match the codes, the widths differ, or a label is not
/// below `classes`.
#[track_caller]
pub fn nearest_label_confusion(
    queries: &Tensor,
    query_labels: &[usize],
    references: &Tensor,
    reference_labels: &[usize],
    classes: usize,
) -> Vec<Vec<usize>> {
    check_codes(
        "nearest_label_confusion",
        queries,
        query_labels,
        references,
        reference_labels,
    );
    if let Some(bad) = query_labels
        .iter()
        .chain(reference_labels)
        .find(|&&l| l >= classes)
    {
        panic!("nearest_label_confusion: label {bad} is not below the {classes} classes");
    }
    let mut counts = vec![vec![0; classes]; classes];
    for (&j, &label) in nearest(queries, references).iter().zip(query_labels) {
        counts[label][reference_labels[j]] += 1;
    }
    counts
}

#[track_caller]
fn check_codes(
    op: &str,
    queries: &Tensor,
    query_labels: &[usize],
    references: &Tensor,
    reference_labels: &[usize],
) {
    let (nq, nr) = (queries.dims()[0], references.dims()[0]);
    assert!(
        nq == query_labels.len()
            && nr == reference_labels.len()
            && nr > 0
            && references.dims()[1] == queries.dims()[1],
        "{op}: {:?} codes with {} labels against {:?} codes with {} labels",
        queries.dims(),
        query_labels.len(),
        references.dims(),
        reference_labels.len()
    );
}

/// For each row of `queries` `[Nq, d]`, the index of its nearest row of `references` `[Nr, d]`
/// (Euclidean distance; the first of equally near ones).
fn nearest(queries: &Tensor, references: &Tensor) -> Vec<usize> {
    let (nq, nr, d) = (queries.dims()[0], references.dims()[0], queries.dims()[1]);
    let q = queries.to_vec_f64();
    let r = references.to_vec_f64();
    (0..nq)
        .map(|i| {
            let qi = &q[i * d..(i + 1) * d];
            (0..nr)
                .map(|j| {
                    let rj = &r[j * d..(j + 1) * d];
                    let dist: f64 = qi.iter().zip(rj).map(|(a, b)| (a - b) * (a - b)).sum();
                    (dist, j)
                })
                .fold((f64::INFINITY, 0), |a, b| if b.0 < a.0 { b } else { a })
                .1
        })
        .collect()
}

/// The codes `[N, d]` projected on their first two principal axes (`[N, 2]`, f64): centred, then
/// multiplied by the two eigenvectors of their covariance with the largest eigenvalues.
pub fn pca2(codes: &Tensor) -> Tensor {
    let (n, d) = (codes.dims()[0], codes.dims()[1]);
    let v = codes.to_vec_f64();
    let mut mean = vec![0.0; d];
    for row in v.chunks_exact(d) {
        for (m, x) in mean.iter_mut().zip(row) {
            *m += x / n as f64;
        }
    }
    let mut cov = vec![0.0; d * d];
    for row in v.chunks_exact(d) {
        for i in 0..d {
            for j in 0..d {
                cov[i * d + j] += (row[i] - mean[i]) * (row[j] - mean[j]) / n as f64;
            }
        }
    }
    let (vals, vecs) = symmetric_eigen(&cov, d);
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| vals[b].total_cmp(&vals[a]));
    let mut out = Vec::with_capacity(2 * n);
    for row in v.chunks_exact(d) {
        for &k in order.iter().take(2) {
            out.push((0..d).map(|i| (row[i] - mean[i]) * vecs[i * d + k]).sum());
        }
    }
    if d == 1 {
        // one dimension: the second axis is 0
        out = v.iter().flat_map(|&x| [x - mean[0], 0.0]).collect();
    }
    Tensor::from_vec(out, [n, 2])
}
