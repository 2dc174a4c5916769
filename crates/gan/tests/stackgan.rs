//! StackGAN: the condition vector, conditioning augmentation and its ablation, the wrong pairs,
//! stage I's D loss on replayed draws, and the files a run writes beside its samples.

use autograd::{no_grad, Tape, Var};
use minimax_gan::data::{downsample2, DataSpec};
use minimax_gan::method::Method;
use minimax_gan::methods::stackgan::{
    condition, sampling_conditions, shifted, StackGan, StackGanConfig, PHI,
};
use nn::loss::{bce_with_logits, Reduction};
use tensor::{DType, Rng, Tensor};

#[test]
fn phi_is_the_one_hot_digit_then_the_attributes_and_wrong_pairs_shift_by_one() {
    let attrs = Tensor::from_vec(
        vec![1.0f32, 0., 0., 1., 0., 0., 0., 0., 1., 0., 0., 1., 1., 0.],
        [2, 7],
    );
    let phi = condition(&[3, 7], &attrs);
    assert_eq!(phi.dims(), &[2, PHI]);
    let v = phi.to_vec_f32();
    assert_eq!(&v[..10], &[0., 0., 0., 1., 0., 0., 0., 0., 0., 0.]);
    assert_eq!(&v[10..17], &[1., 0., 0., 1., 0., 0., 0.]);
    assert_eq!(v[17 + 7], 1.0);
    let w = shifted(&phi).to_vec_f32();
    assert_eq!(&w[..17], &v[17..]);
    assert_eq!(&w[17..], &v[..17]);
}

fn bce(l: &Var, t: f64) -> f64 {
    let target = l.constant(Tensor::full(*l.shape(), t, DType::F32));
    bce_with_logits(l, &target, None, Reduction::Mean).item()
}

#[test]
fn stage_one_d_loss_is_real_plus_half_wrong_plus_half_fake() {
    let data = DataSpec::parse("printed").unwrap().open_held_out().unwrap();
    let cfg = StackGanConfig {
        batch: 8,
        stage2_from: 0,
        ..StackGanConfig::default()
    };
    let mut sg = StackGan::new(cfg, 1).unwrap();
    let mut r = sg.rng().clone();
    let (x, labels, attrs) = data.train.sample_attributed(8, &mut r).unwrap();
    let z = Tensor::randn([8, 32], 0.0, 1.0, DType::F32, &mut r);
    let e1 = Tensor::randn([8, 16], 0.0, 1.0, DType::F32, &mut r);
    let phi = condition(&labels, &attrs);
    let tape = Tape::new();
    let p = tape.constant(phi.clone());
    let fake = {
        let _off = no_grad();
        sg.stage1(&p, &z, &e1).0
    };
    let x16 = tape.constant(downsample2(&x));
    let expected = bce(&sg.d1.judge(&p, &x16), 1.0)
        + 0.5 * bce(&sg.d1.judge(&tape.constant(shifted(&phi)), &x16), 0.0)
        + 0.5 * bce(&sg.d1.judge(&p, &fake), 0.0);
    assert_eq!(fake.dims(), &[8, 1, 16, 16]);
    drop(tape);
    let rec = sg.step(&data).unwrap();
    let got = rec.get("d1_loss").unwrap();
    assert!((got - expected).abs() < 1e-5, "{got} vs {expected}");
    assert!(rec.get("kl1").unwrap() > 0.0 && rec.get("d2_loss").unwrap().is_finite());
}

#[test]
fn augmentation_draws_around_mu_and_its_ablation_does_not() {
    let (phi, _) = sampling_conditions(&[4; 6]);
    for augment in [true, false] {
        let sg = StackGan::new(
            StackGanConfig {
                augment,
                ..StackGanConfig::default()
            },
            0,
        )
        .unwrap();
        let tape = Tape::new();
        let p = tape.constant(phi.clone());
        let z = Tensor::zeros([6, 32], DType::F32);
        let e1 = Tensor::randn([6, 16], 0.0, 1.0, DType::F32, &mut Rng::seed(2));
        let e2 = Tensor::randn([6, 16], 0.0, 1.0, DType::F32, &mut Rng::seed(3));
        let (a, kl_a) = sg.stage1(&p, &z, &e1);
        let (b, _) = sg.stage1(&p, &z, &e2);
        if augment {
            assert!(kl_a.item() > 0.0);
            assert_ne!(a.value().to_vec_f32(), b.value().to_vec_f32());
        } else {
            assert_eq!(kl_a.item(), 0.0);
            assert_eq!(a.value().to_vec_f32(), b.value().to_vec_f32());
        }
    }
}

#[test]
fn the_run_writes_the_requested_styles_and_the_stage_one_drafts() {
    let sg = StackGan::new(StackGanConfig::default(), 0).unwrap();
    let labels: Vec<usize> = (0..30).map(|i| i % 10).collect();
    let files = sg.files(&labels, &mut Rng::seed(9));
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["attrs.npy", "samples-stage1.npy"]);
    assert_eq!(files[0].1.shape, [30, 3]);
    assert_eq!(files[1].1.shape, [30, 1, 16, 16]);
    // the styles are the faces' (digit i in face (i / 10) · 7 mod 37)
    let (_, styles) = sampling_conditions(&labels);
    for (i, s) in styles.iter().enumerate() {
        let face = (i / 10 * 7) % 37;
        let a = minimax_gan::data::Printed::face_attributes(face);
        assert_eq!(
            *s,
            [
                a.bold as u8 as f32,
                a.italic as u8 as f32,
                a.serif() as u8 as f32
            ]
        );
    }
    // and the stage-II samples drawn from the same generator are 32×32
    let s = sg.sample_classes(&labels, &mut Rng::seed(9)).unwrap();
    assert_eq!(s.dims(), &[30, 1, 32, 32]);
}

#[test]
fn condition_words_are_read_and_mistakes_named() {
    use minimax_gan::methods::stackgan::parse_condition;
    assert_eq!(
        parse_condition("3,bold,italic,serif").unwrap(),
        (3, [0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    );
    assert_eq!(
        parse_condition("0").unwrap(),
        (0, [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    );
    assert_eq!(
        parse_condition("7, mono ,light").unwrap(),
        (7, [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0])
    );
    assert_eq!(
        parse_condition("3,fancy").unwrap_err(),
        "unknown condition word 'fancy' (bold, italic, condensed, light, sans, serif, mono)"
    );
    assert_eq!(
        parse_condition("12,bold").unwrap_err(),
        "--condition starts with a digit from 0 to 9, got '12'"
    );
    assert_eq!(
        parse_condition("1,serif,mono").unwrap_err(),
        "--condition names two families: serif and mono"
    );
}

/// A seeded small run's quality: 400 iterations at batch 16, stage II from iteration 200. At
/// the start both stages score a Fréchet distance of about 22,000 to held-out glyphs, label
/// agreement 0.100 and bold agreement 0.49 (seed 0); after it, stage I is below 4,000 (2,884 here), its
/// labels and boldness follow the condition above chance, and stage II — trained for 200
/// iterations — has more than halved its distance.
#[test]
fn a_short_seeded_run_learns_glyphs_that_follow_the_condition() {
    let data = DataSpec::parse("printed").unwrap().open_held_out().unwrap();
    let cfg = StackGanConfig {
        batch: 16,
        stage2_from: 200,
        ..StackGanConfig::default()
    };
    let mut sg = StackGan::new(cfg, 0).unwrap();
    for _ in 0..400 {
        sg.step(&data).unwrap();
    }
    let figures = sg.evaluate(&data);
    let get = |name: &str| -> Vec<f64> {
        figures
            .iter()
            .find(|(k, _)| k.starts_with(name))
            .unwrap_or_else(|| panic!("no '{name}' in {figures:?}"))
            .1
            .split(", ")
            .map(|v| v.parse().unwrap())
            .collect()
    };
    let fd1 = get("stage I (16×16, upsampled): Fréchet")[0];
    let fd2 = get("stage II (32×32): Fréchet")[0];
    let label1 = get("stage I (16×16, upsampled): label agreement")[0];
    let bold1 = get("stage I (16×16, upsampled): attribute agreement")[0];
    eprintln!("stage I: Fréchet {fd1:.0}, labels {label1:.3}, bold {bold1:.3}; stage II: Fréchet {fd2:.0}");
    assert!(fd1 < 4000.0, "stage I's Fréchet distance {fd1}");
    assert!(fd2 < 11000.0, "stage II's Fréchet distance {fd2}");
    assert!(
        label1 > 0.13,
        "stage I's label agreement {label1} (chance 0.1)"
    );
    assert!(
        bold1 > 0.56,
        "stage I's bold agreement {bold1} (0.49 untrained)"
    );
}
