//! The conditional GAN: the mismatched pairs, D's loss as the tutorial writes it, a condition D
//! cannot see, and a short seeded run whose samples obey their conditions.

use autograd::{no_grad, Tape, Var};
use minimax_gan::data::DataSpec;
use minimax_gan::method::Method;
use minimax_gan::methods::cgan::{mismatched, Cgan, CganConfig};
use nn::loss::{bce_with_logits, Reduction};
use tensor::{DType, Rng, Tensor};

#[test]
fn wrong_conditions_are_never_right_and_cover_the_other_classes() {
    let mut rng = Rng::seed(0);
    let c: Vec<usize> = (0..10_000).map(|i| i % 10).collect();
    let w = mismatched(&c, 10, &mut rng);
    let mut counts = [[0usize; 10]; 10];
    for (&a, &b) in c.iter().zip(&w) {
        assert_ne!(a, b);
        counts[a][b] += 1;
    }
    // 1,000 draws per class over 9 others: about 111 each
    for (a, row) in counts.iter().enumerate() {
        for (b, &n) in row.iter().enumerate() {
            if a != b {
                assert!((70..=155).contains(&n), "{a}→{b}: {n}");
            }
        }
    }
}

fn bce(l: &Var, t: f64) -> f64 {
    let target = l
        .tape()
        .constant(Tensor::full([l.dims()[0], 1], t, DType::F32));
    bce_with_logits(l, &target, None, Reduction::Mean).item()
}

#[test]
fn d_loss_is_real_plus_half_wrong_plus_half_fake() {
    let data = DataSpec::Digits.open().unwrap();
    let cfg = CganConfig {
        batch: 16,
        ..CganConfig::default()
    };
    let mut cg = Cgan::new(cfg, 10, 8, 3).unwrap();
    // replay the step's draws: the batch, z, the wrong conditions
    let mut r = cg.rng().clone();
    let (x, c) = data.labelled(16, &mut r);
    let z = Tensor::randn([16, 100], 0.0, 1.0, DType::F32, &mut r);
    let wrong = mismatched(&c, 10, &mut r);
    let tape = Tape::new();
    let fake = {
        let _off = no_grad();
        cg.generate(&c, &tape.constant(z))
    };
    let real_x = tape.constant(x);
    let expected = bce(&cg.judge(&c, &real_x), 1.0)
        + 0.5 * bce(&cg.judge(&wrong, &real_x), 0.0)
        + 0.5 * bce(&cg.judge(&c, &fake), 0.0);
    drop(tape);
    let rec = cg.step(&data).unwrap();
    let got = rec.get("d_loss").unwrap();
    assert!((got - expected).abs() < 1e-5, "{got} vs {expected}");
    assert!(rec.get("d_wrong").unwrap().is_finite());
}

#[test]
fn without_the_condition_d_gives_every_class_the_same_logit() {
    let cfg = CganConfig {
        d_sees_condition: false,
        ..CganConfig::default()
    };
    let cg = Cgan::new(cfg, 10, 8, 0).unwrap();
    let tape = Tape::new();
    let x = tape.constant(Tensor::randn(
        [4, 1, 8, 8],
        0.0,
        1.0,
        DType::F32,
        &mut Rng::seed(1),
    ));
    let a = cg.judge(&[0, 1, 2, 3], &x).value().to_vec_f32();
    let b = cg.judge(&[9, 8, 7, 6], &x).value().to_vec_f32();
    assert_eq!(a, b);
    // and with it, the condition changes the logit
    let cg = Cgan::new(CganConfig::default(), 10, 8, 0).unwrap();
    let a = cg.judge(&[0, 1, 2, 3], &x).value().to_vec_f32();
    let b = cg.judge(&[9, 8, 7, 6], &x).value().to_vec_f32();
    assert_ne!(a, b);
}

#[test]
fn every_parameter_of_g_and_d_learns() {
    let data = DataSpec::Digits.open().unwrap();
    let mut cg = Cgan::new(CganConfig::default(), 10, 8, 0).unwrap();
    let before: Vec<Vec<f32>> = cg
        .networks()
        .iter()
        .flat_map(|(_, m)| m.params())
        .map(|p| p.value().to_vec_f32())
        .collect();
    cg.step(&data).unwrap();
    let after: Vec<Vec<f32>> = cg
        .networks()
        .iter()
        .flat_map(|(_, m)| m.params())
        .map(|p| p.value().to_vec_f32())
        .collect();
    for (i, (a, b)) in before.iter().zip(&after).enumerate() {
        assert_ne!(a, b, "parameter {i} did not move");
    }
}
