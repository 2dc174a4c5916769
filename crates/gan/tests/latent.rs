//! The common latent space: the code discriminator's two variants send the encoders the same
//! (negated) gradient, the alignment measures say what they should on codes we build by hand,
//! and a short seeded run of a fixed variant lines up the codes better than the baseline.

use autograd::{Param, Tape};
use minimax_gan::data::DataSpec;
use minimax_gan::method::Method;
use minimax_gan::methods::latent::{
    code_loss, confusion_picture, CodeDiscriminator, Latent, LatentConfig, CONFUSION_CELL, X, Y,
};
use minimax_gan::metrics::alignment::{
    domain_accuracy, nearest_label_accuracy, nearest_label_confusion, pca2,
};
use minimax_gan::report::Picture;
use nn::{Linear, Module};
use tensor::{DType, Rng, Tensor};

fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

/// C(μ) = w·μ + b; L_C = mean BCE(C(μ_X), 1) + mean BCE(C(μ_Y), 0). By hand:
/// ∂L_C/∂μ_X,i = (σ(C(μ_X,i)) − 1)·w/m and ∂L_C/∂μ_Y,i = σ(C(μ_Y,i))·w/m.
#[test]
fn reversal_sends_the_encoders_the_negated_gradient_of_the_code_loss() {
    let w = [0.5f64, -1.0, 2.0];
    let b = 0.25;
    let c = Linear::from_params(
        Param::new("w", Tensor::from_vec(w.to_vec(), [1, 3])),
        Some(Param::new("b", Tensor::from_vec(vec![b], [1]))),
    );
    let mx = [[0.1f64, 0.2, -0.3], [1.0, -0.5, 0.4]];
    let my = [[-0.2f64, 0.7, 0.1], [0.3, 0.3, -1.2]];
    let m = 2.0;
    let flat = |a: &[[f64; 3]; 2]| a.iter().flatten().copied().collect::<Vec<_>>();
    let grads = |reverse: Option<f64>, scale: f64| {
        let px = Param::new("mx", Tensor::from_vec(flat(&mx), [2, 3]));
        let py = Param::new("my", Tensor::from_vec(flat(&my), [2, 3]));
        c.weight.zero_grad();
        if let Some(b) = &c.bias {
            b.zero_grad();
        }
        let tape = Tape::new();
        code_loss(&c, &tape.param(&px), &tape.param(&py), reverse)
            .mul_scalar(scale)
            .backward();
        (
            px.grad().unwrap().to_vec_f64(),
            py.grad().unwrap().to_vec_f64(),
            c.weight.grad().unwrap().to_vec_f64(),
        )
    };
    // by hand
    let logit = |v: &[f64; 3]| v.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() + b;
    let mut hand_x = Vec::new();
    let mut hand_y = Vec::new();
    for i in 0..2 {
        let (sx, sy) = (sigmoid(logit(&mx[i])), sigmoid(logit(&my[i])));
        hand_x.extend(w.iter().map(|wj| (sx - 1.0) * wj / m));
        hand_y.extend(w.iter().map(|wj| sy * wj / m));
    }
    let (plain_x, plain_y, plain_c) = grads(None, 1.0);
    for (a, b) in plain_x
        .iter()
        .zip(&hand_x)
        .chain(plain_y.iter().zip(&hand_y))
    {
        assert!((a - b).abs() < 1e-12, "plain L_C: {a} vs by hand {b}");
    }
    let lambda = 0.7;
    // adversarial: the encoders minimise −λ·L_C (C frozen); reversal: L_C through R with λ
    let (adv_x, adv_y, _) = grads(None, -lambda);
    let (rev_x, rev_y, rev_c) = grads(Some(lambda), 1.0);
    for (i, h) in hand_x.iter().chain(&hand_y).enumerate() {
        let (a, r) = if i < 6 {
            (adv_x[i], rev_x[i])
        } else {
            (adv_y[i - 6], rev_y[i - 6])
        };
        assert!((a + lambda * h).abs() < 1e-12, "adversarial {a} vs −λ·{h}");
        assert!((r + lambda * h).abs() < 1e-12, "reversal {r} vs −λ·{h}");
    }
    // C itself still descends L_C through the reversal layer
    for (a, b) in rev_c.iter().zip(&plain_c) {
        assert!((a - b).abs() < 1e-12, "C's gradient {a} vs {b}");
    }
}

#[test]
fn alignment_measures_on_hand_built_codes() {
    let mut rng = Rng::seed(3);
    let a = Tensor::randn([200, 4], 0.0, 1.0, DType::F32, &mut rng);
    let b = Tensor::randn([200, 4], 0.0, 1.0, DType::F32, &mut rng);
    let same = domain_accuracy(&a, &b, 0);
    assert!((same - 0.5).abs() < 0.1, "same distribution: {same}");
    let apart = domain_accuracy(&a, &b.add_scalar(3.0), 0);
    assert!(apart > 0.97, "shifted by 3σ: {apart}");
    // nearest neighbours: references at digit·10 on every axis; queries near their own digit
    let refs = Tensor::from_vec(
        (0..10).flat_map(|d| [d as f32 * 10.0; 4]).collect(),
        [10, 4],
    );
    let labels: Vec<usize> = (0..10).collect();
    let q = refs.add_scalar(1.0);
    assert_eq!(nearest_label_accuracy(&q, &labels, &refs, &labels), 1.0);
    let wrong: Vec<usize> = (0..10).map(|d| (d + 1) % 10).collect();
    assert_eq!(nearest_label_accuracy(&q, &wrong, &refs, &labels), 0.0);
    // the first principal axis of points on a line is the line
    let line = Tensor::from_vec(
        (0..20)
            .flat_map(|i| [i as f64, 2.0 * i as f64, 0.0])
            .collect(),
        [20, 3],
    );
    let p = pca2(&line).to_vec_f64();
    for i in 0..20 {
        let expect = (i as f64 - 9.5) * 5f64.sqrt();
        assert!((p[2 * i].abs() - expect.abs()).abs() < 1e-9, "{}", p[2 * i]);
        assert!(p[2 * i + 1].abs() < 1e-9);
    }
}

/// References at digit·10 on every axis; two queries per digit, one beside its own digit and
/// one beside digit 8 for a 3 (the rest beside their own digit again).
fn one_three_beside_the_eight() -> (Tensor, Vec<usize>, Tensor, Vec<usize>) {
    let refs = Tensor::from_vec(
        (0..10).flat_map(|d| [d as f32 * 10.0; 4]).collect(),
        [10, 4],
    );
    let (mut q, mut ql) = (Vec::new(), Vec::new());
    for d in 0..10 {
        let second = if d == 3 { 8.0 } else { d as f32 };
        q.extend([d as f32 * 10.0 + 1.0; 4]);
        q.extend([second * 10.0 - 1.0; 4]);
        ql.extend([d, d]);
    }
    (Tensor::from_vec(q, [20, 4]), ql, refs, (0..10).collect())
}

#[test]
fn the_confusion_counts_where_each_code_lands_and_its_picture_shades_the_shares() {
    let (q, ql, refs, labels) = one_three_beside_the_eight();
    let c = nearest_label_confusion(&q, &ql, &refs, &labels, 10);
    assert_eq!((c[3][3], c[3][8]), (1, 1));
    for (d, row) in c.iter().enumerate() {
        let own = if d == 3 { 1 } else { 2 };
        assert_eq!(row[d], own, "digit {d}: {row:?}");
        assert_eq!(row.iter().sum::<usize>(), 2);
    }
    let diagonal: usize = (0..10).map(|d| c[d][d]).sum();
    assert_eq!(
        diagonal as f64 / 20.0,
        nearest_label_accuracy(&q, &ql, &refs, &labels)
    );
    assert_eq!(diagonal, 19);
    let Picture::InAxes(axes, img) = confusion_picture(&c) else {
        panic!("the confusion is drawn in axes")
    };
    assert_eq!(
        axes.image_size(),
        (10 * CONFUSION_CELL, 10 * CONFUSION_CELL)
    );
    // the centre of the cell of handwritten a, nearest printed b (row 0 at the bottom)
    let centre = |a: usize, b: usize| {
        img.pixel(
            b * CONFUSION_CELL + CONFUSION_CELL / 2,
            (9 - a) * CONFUSION_CELL + CONFUSION_CELL / 2,
        )
        .to_vec()
    };
    assert_eq!(centre(0, 0), vec![25, 60, 150], "all of the 0s land on 0");
    assert_eq!(centre(0, 1), vec![255, 255, 255], "none of them on 1");
    let half = centre(3, 8);
    assert_eq!(half, centre(3, 3), "the 3s split half and half");
    assert!(half[0] > 25 && half[0] < 255, "half shaded: {half:?}");
    assert_eq!(
        img.pixel(0, 0).to_vec(),
        vec![200, 200, 200],
        "cell borders"
    );
}

#[test]
#[should_panic(expected = "nearest_label_confusion: label 5 is not below the 5 classes")]
fn the_confusion_refuses_a_label_beyond_its_classes() {
    let (q, ql, refs, labels) = one_three_beside_the_eight();
    nearest_label_confusion(&q, &ql, &refs, &labels, 5);
}

fn trained(cfg: LatentConfig, steps: usize) -> (Latent, minimax_gan::data::Data) {
    let data = DataSpec::parse("printed8+digits")
        .unwrap()
        .open_held_out()
        .unwrap();
    let mut m = Latent::new(cfg, 0).unwrap();
    for _ in 0..steps {
        m.step(&data).unwrap();
    }
    (m, data)
}

fn figure(figures: &[(String, String)], starts: &str) -> f64 {
    figures
        .iter()
        .find(|(k, _)| k.starts_with(starts))
        .unwrap_or_else(|| panic!("no figure '{starts}' in {figures:?}"))
        .1
        .parse()
        .unwrap()
}

/// Shared layers that start alike line the codes up better than two separate VAE-GANs: a
/// handwritten digit's nearest printed code shows its digit more often, and X → Y keeps more
/// digits (read by our handwritten-digit classifier).
#[test]
fn shared_layers_started_alike_align_the_codes_better_than_the_baseline() {
    let steps = 600;
    let (base, data) = trained(LatentConfig::default(), steps);
    let fixed_cfg = LatentConfig {
        share_layers: true,
        same_start: true,
        ..LatentConfig::default()
    };
    let (fixed, _) = trained(fixed_cfg, steps);
    let (fb, ff) = (base.evaluate(&data), fixed.evaluate(&data));
    let nn_b = figure(&fb, "cross-domain nearest neighbour");
    let nn_f = figure(&ff, "cross-domain nearest neighbour");
    assert!(nn_b < 0.2, "baseline near chance: {nn_b}");
    assert!(nn_f > nn_b + 0.2, "fixed {nn_f} vs baseline {nn_b}");
    // translation label preservation on the held-out printed digits
    let clf = minimax_gan::metrics::DigitClassifier::train(0);
    let x = data.test.as_ref().unwrap().examples().unwrap();
    let labels = data.test.as_ref().unwrap().example_labels().unwrap();
    let kept = |m: &Latent| {
        let pred = clf.predict(&m.translate_between(&x, X, Y));
        pred.iter().zip(&labels).filter(|(a, b)| a == b).count() as f64 / labels.len() as f64
    };
    let (kb, kf) = (kept(&base), kept(&fixed));
    eprintln!("nearest neighbour {nn_b:.3} → {nn_f:.3}, label preservation {kb:.3} → {kf:.3}");
    assert!(
        kf > kb + 0.25,
        "label preservation: fixed {kf} vs baseline {kb}"
    );
    // the codes have the configured width, for both domains
    assert_eq!(fixed.codes(&x, X).dims(), &[x.dims()[0], 16]);
    assert_eq!(fixed.encode(&x, Y).unwrap().dims(), &[x.dims()[0], 16]);
    assert!(fixed.encode(&x, 2).is_none());
}

#[test]
fn shared_layers_are_one_module_and_reversal_has_no_separate_step() {
    let cfg = LatentConfig {
        share_layers: true,
        latent_d: CodeDiscriminator::Reversal,
        batch: 8,
        ..LatentConfig::default()
    };
    let (m, _) = trained(cfg, 2);
    let names: Vec<&str> = m.networks().iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "enc_x",
            "enc_y",
            "enc_shared",
            "dec_shared",
            "dec_x",
            "dec_y",
            "disc_x",
            "disc_y",
            "code_disc"
        ]
    );
    // both domains' codes go through the one shared module: changing it changes both
    let data = DataSpec::parse("printed8+digits").unwrap().open().unwrap();
    let x = data.train.examples().unwrap().narrow(0, 0, 5);
    let before = [m.codes(&x, X), m.codes(&x, Y)];
    for p in m.enc_high[0].params() {
        p.set_value(p.value().mul_scalar(0.5));
    }
    let after = [m.codes(&x, X), m.codes(&x, Y)];
    for k in [X, Y] {
        assert_ne!(before[k].to_vec_f64(), after[k].to_vec_f64());
    }
}
