//! The digit classifier: accuracy, determinism, and what `evaluate_digits` says about real
//! digits, noise and a collapsed "generator".

use minimax_gan::data::Digits;
use minimax_gan::metrics::classifier::{CONFIDENCE_THRESHOLD, FEATURE_DIM};
use minimax_gan::metrics::{evaluate_digits, ClassifierConfig, DigitClassifier};
use tensor::{DType, Rng, Tensor};

/// `n` copies of image `i` of `images` `[N, 1, 8, 8]`.
fn repeat_image(images: &Tensor, i: usize, n: usize) -> Tensor {
    images.index_select(0, &vec![i; n])
}

/// The index of a held-out image of `class` that the classifier assigns to it with
/// probability > 0.99.
fn confident_example(clf: &DigitClassifier, class: usize) -> usize {
    let held = clf.held_out();
    let p = clf.probs(held.images()).to_vec_f64();
    (0..held.len())
        .find(|&i| held.labels()[i] == class && p[i * 10 + class] > 0.99)
        .unwrap_or_else(|| panic!("no confidently classified {class} in the held-out set"))
}

#[test]
fn held_out_accuracy_is_at_least_95_percent() {
    let clf = DigitClassifier::train(0);
    let held = clf.held_out();
    let acc = clf.accuracy(held.images(), held.labels());
    println!(
        "held-out accuracy {:.4} on {} digits, trained in {:.2} s",
        acc,
        held.len(),
        clf.training_seconds()
    );
    assert!(acc >= 0.95, "held-out accuracy {acc}");
    assert_eq!(acc, clf.held_out_accuracy());
    // The held-out part is the test side of the documented split, disjoint from training.
    let (train, test) = Digits::new().split(0.2, 0);
    assert_eq!(test.labels(), held.labels());
    assert_eq!(test.images().to_vec_f32(), held.images().to_vec_f32());
    assert_eq!(train.len() + test.len(), Digits::LEN);
    // It fits the training part at least as well.
    assert!(clf.accuracy(train.images(), train.labels()) >= acc);
}

#[test]
fn held_out_accuracy_holds_across_seeds() {
    for seed in [1, 2, 3] {
        let clf = DigitClassifier::train(seed);
        println!(
            "seed {seed}: held-out accuracy {:.4}, {:.2} s",
            clf.held_out_accuracy(),
            clf.training_seconds()
        );
        assert!(clf.held_out_accuracy() >= 0.95, "seed {seed}: {clf:?}");
    }
}

#[test]
fn same_seed_gives_identical_predictions() {
    let a = DigitClassifier::train(7);
    let b = DigitClassifier::train(7);
    let all = Digits::new();
    assert_eq!(a.predict(all.images()), b.predict(all.images()));
    // Bit for bit, not just the argmax.
    assert_eq!(
        a.probs(all.images()).to_vec_f32(),
        b.probs(all.images()).to_vec_f32()
    );
    assert_eq!(
        a.features(all.images()).to_vec_f32(),
        b.features(all.images()).to_vec_f32()
    );
    assert_eq!(a.held_out_accuracy(), b.held_out_accuracy());
    // Another seed trains another network.
    let c = DigitClassifier::train(8);
    assert_ne!(
        a.probs(all.images()).to_vec_f32(),
        c.probs(all.images()).to_vec_f32()
    );
}

#[test]
fn outputs_have_the_documented_shapes_and_are_batched_consistently() {
    let clf = DigitClassifier::train_with(
        ClassifierConfig {
            epochs: 2,
            ..ClassifierConfig::default()
        },
        0,
    );
    let all = Digits::new(); // 1,797 images: several evaluation batches
    let n = all.len();
    let probs = clf.probs(all.images());
    assert_eq!(probs.dims(), &[n, 10]);
    for (i, row) in probs.to_vec_f64().chunks_exact(10).enumerate() {
        let s: f64 = row.iter().sum();
        assert!((s - 1.0).abs() < 1e-5, "row {i} sums to {s}");
        assert!(row.iter().all(|&p| (0.0..=1.0).contains(&p)));
    }
    let feats = clf.features(all.images());
    assert_eq!(feats.dims(), &[n, FEATURE_DIM]);
    assert!(feats.to_vec_f32().iter().all(|&x| x >= 0.0), "ReLU outputs");
    let pred = clf.predict(all.images());
    assert_eq!(pred.len(), n);
    assert_eq!(pred, clf.logits(all.images()).argmax_indices(1));
    // A slice evaluated on its own gives the same rows as inside the big batch.
    let part = all.images().narrow(0, 1000, 17);
    let p_part = clf.probs(&part).to_vec_f64();
    let p_big = probs.narrow(0, 1000, 17).to_vec_f64();
    for (x, y) in p_part.iter().zip(&p_big) {
        assert!((x - y).abs() < 1e-6, "{x} vs {y}");
    }
    // f64 images are accepted and give the same answer.
    assert_eq!(clf.predict(&part.to_dtype(DType::F64)), clf.predict(&part));
    // No images, no predictions.
    let empty = Tensor::zeros([0, 1, 8, 8], DType::F32);
    assert!(clf.predict(&empty).is_empty());
    assert_eq!(clf.probs(&empty).dims(), &[0, 10]);
    assert_eq!(clf.features(&empty).dims(), &[0, FEATURE_DIM]);
}

#[test]
fn real_held_out_digits_cover_every_class_confidently() {
    let clf = DigitClassifier::train(0);
    let real = clf.held_out().images();
    let r = evaluate_digits(&clf, real, real);
    println!("{r}");
    assert_eq!(r.samples, clf.held_out().len());
    assert_eq!(r.class_coverage, 10, "{r}");
    assert_eq!(r.predicted.classes_covered, 10);
    assert!(r.mean_confidence > 0.95, "{r}");
    assert!(r.confident_fraction > 0.85, "{r}");
    assert!(r.predicted.kl_to_uniform < 0.01, "{r}");
    // Identical sets: the Fréchet distance is zero up to rounding.
    assert!(r.frechet.abs() < 1e-6, "{r}");
    let shown = r.to_string();
    assert!(shown.contains("classes covered 10/10"), "{shown}");
    assert!(shown.contains("Fréchet distance"), "{shown}");
}

#[test]
fn frechet_of_real_halves_is_far_below_real_against_noise() {
    let clf = DigitClassifier::train(0);
    let held = clf.held_out();
    let n = held.len();
    // Two disjoint halves (even and odd positions: both keep every class).
    let even: Vec<usize> = (0..n).step_by(2).collect();
    let odd: Vec<usize> = (1..n).step_by(2).collect();
    let a = held.select(&even);
    let b = held.select(&odd);
    let halves = evaluate_digits(&clf, a.images(), b.images());
    let noise = Tensor::rand_uniform([n, 1, 8, 8], -1.0, 1.0, DType::F32, &mut Rng::seed(1));
    let vs_noise = evaluate_digits(&clf, &noise, held.images());
    println!("real halves: {halves}\nnoise: {vs_noise}");
    assert_eq!(halves.class_coverage, 10);
    assert!(
        halves.frechet * 10.0 < vs_noise.frechet,
        "halves {} vs noise {}",
        halves.frechet,
        vs_noise.frechet
    );
    // Noise does not look like digits.
    assert!(vs_noise.mean_confidence < halves.mean_confidence - 0.2);
    assert!(vs_noise.confident_fraction < 0.5 * halves.confident_fraction);
}

#[test]
fn one_repeated_image_covers_one_class() {
    let clf = DigitClassifier::train(0);
    let held = clf.held_out();
    let i = confident_example(&clf, 3);
    let collapsed = repeat_image(held.images(), i, 200);
    let r = evaluate_digits(&clf, &collapsed, held.images());
    println!("collapsed: {r}");
    assert_eq!(r.class_coverage, 1, "{r}");
    assert_eq!(r.confident_counts[3], 200);
    assert_eq!(r.predicted.classes_covered, 1);
    assert!(r.mean_confidence > 0.99);
    assert!(r.mean_confidence > CONFIDENCE_THRESHOLD);
    // Collapsed onto one image, the features are far from the real spread.
    let even: Vec<usize> = (0..held.len()).step_by(2).collect();
    let odd: Vec<usize> = (1..held.len()).step_by(2).collect();
    let halves = evaluate_digits(
        &clf,
        held.select(&even).images(),
        held.select(&odd).images(),
    );
    assert!(
        r.frechet > 5.0 * halves.frechet,
        "{} vs {}",
        r.frechet,
        halves.frechet
    );
}

#[test]
fn a_class_needs_one_percent_of_the_samples_to_count() {
    let clf = DigitClassifier::train(0);
    let imgs = clf.held_out().images();
    let zero = repeat_image(imgs, confident_example(&clf, 0), 200);
    let one = confident_example(&clf, 1);
    // 1 of 201 samples (< 1 %) is a confident 1: not covered.
    let few = Tensor::cat(&[&zero, &repeat_image(imgs, one, 1)], 0);
    let r = evaluate_digits(&clf, &few, imgs);
    assert_eq!(r.confident_counts[1], 1);
    assert_eq!(r.class_coverage, 1, "{r}");
    assert_eq!(r.predicted.classes_covered, 2);
    // 3 of 203 (≥ 1 %): covered.
    let enough = Tensor::cat(&[&zero, &repeat_image(imgs, one, 3)], 0);
    let r = evaluate_digits(&clf, &enough, imgs);
    assert_eq!(r.class_coverage, 2, "{r}");
}

#[test]
#[should_panic(expected = "images must be [N, 1, 8, 8]")]
fn wrong_image_shape_is_rejected() {
    let clf = DigitClassifier::train_with(
        ClassifierConfig {
            epochs: 1,
            ..ClassifierConfig::default()
        },
        0,
    );
    clf.probs(&Tensor::zeros([4, 64], DType::F32));
}

#[test]
#[should_panic(expected = "4 images but 3 labels")]
fn accuracy_needs_one_label_per_image() {
    let clf = DigitClassifier::train_with(
        ClassifierConfig {
            epochs: 1,
            ..ClassifierConfig::default()
        },
        0,
    );
    clf.accuracy(&Tensor::zeros([4, 1, 8, 8], DType::F32), &[0, 1, 2]);
}

#[test]
fn confident_fraction_is_evaluate_digits_figure_alone() {
    let clf = DigitClassifier::train(0);
    let real = clf.held_out().images();
    let noise = Tensor::rand_uniform([200, 1, 8, 8], -1.0, 1.0, DType::F32, &mut Rng::seed(1));
    for imgs in [real, &noise] {
        let r = evaluate_digits(&clf, imgs, real);
        assert_eq!(clf.confident_fraction(imgs), r.confident_fraction);
    }
    // real digits are read confidently far more often than noise
    assert!(clf.confident_fraction(real) > 0.9);
}
