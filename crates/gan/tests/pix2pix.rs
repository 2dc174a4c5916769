//! pix2pix: the PatchGAN's receptive field and map, the U-Net's shapes and skips, D's halved
//! loss on replayed draws, and a short run that beats doing nothing.

use autograd::{no_grad, Tape, Var};
use minimax_gan::data::DataSpec;
use minimax_gan::method::Method;
use minimax_gan::methods::pix2pix::{
    patchgan, receptive_field, Objective, Pix2pix, Pix2pixConfig, UNet,
};
use nn::loss::{bce_with_logits, Reduction};
use nn::Module;
use tensor::{DType, Rng, Tensor};

#[test]
fn receptive_fields_are_16_34_70_and_the_map_has_one_logit_per_patch() {
    assert_eq!(
        (receptive_field(1), receptive_field(2), receptive_field(3)),
        (16, 34, 70)
    );
    let mut rng = Rng::seed(0);
    let tape = Tape::new();
    let x = tape.constant(Tensor::zeros([2, 2, 32, 32], DType::F32));
    // 32 → 16 (stride 2) → 15 → 14 (two 4×4 stride-1 convolutions with padding 1)
    assert_eq!(patchgan(1, 8, &mut rng).forward(&x).dims(), &[2, 1, 14, 14]);
    assert_eq!(patchgan(2, 8, &mut rng).forward(&x).dims(), &[2, 1, 6, 6]);
    // one logit depends on a 16×16 square only: change a pixel outside it, the logit stays
    let d = patchgan(1, 8, &mut rng);
    d.eval();
    let mut v = vec![0.0f32; 2 * 32 * 32];
    let base = d
        .forward(&tape.constant(Tensor::from_vec(v.clone(), [1, 2, 32, 32])))
        .value()
        .to_vec_f32();
    v[31 * 32 + 31] = 1.0; // bottom-right pixel of channel 0
    let moved = d
        .forward(&tape.constant(Tensor::from_vec(v, [1, 2, 32, 32])))
        .value()
        .to_vec_f32();
    assert_eq!(
        base[0], moved[0],
        "the top-left patch saw the bottom-right pixel"
    );
    assert_ne!(base[14 * 14 - 1], moved[14 * 14 - 1]);
}

#[test]
fn the_unet_keeps_the_size_and_every_level_reaches_the_output() {
    let mut rng = Rng::seed(1);
    let g = UNet::new(32, 4, 0.5, &mut rng);
    let names: Vec<String> = g.children().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), 10, "{names:?}"); // 5 levels down, 5 up
    let tape = Tape::new();
    let x = tape.leaf(Tensor::randn(
        [2, 1, 32, 32],
        0.0,
        1.0,
        DType::F32,
        &mut rng,
    ));
    let y = g.forward(&x);
    assert_eq!(y.dims(), &[2, 1, 32, 32]);
    y.sum_all().backward();
    for (n, p) in g.named_params() {
        let gsum: f64 = p.grad().unwrap().abs().sum_all().item();
        assert!(gsum > 0.0, "{n} got no gradient");
    }
}

fn bce(l: &Var, t: f64) -> f64 {
    let target = l.constant(Tensor::full(*l.shape(), t, DType::F32));
    bce_with_logits(l, &target, None, Reduction::Mean).item()
}

#[test]
fn d_loss_is_halved_and_g_loss_is_gan_plus_lambda_l1() {
    let data = DataSpec::EdgesToPrinted.open().unwrap();
    let cfg = Pix2pixConfig {
        batch: 4,
        ngf: 8,
        ndf: 8,
        ..Pix2pixConfig::default()
    };
    let mut p = Pix2pix::new(cfg, 32, 2).unwrap();
    // replay the draws of the step: the batch, then G's dropout masks (saved and restored)
    let saved = p.state();
    let mut r = p.rng().clone();
    let (a, b) = data.paired(4, &mut r);
    let tape = Tape::new();
    let av = tape.constant(a);
    let fake = {
        let _off = no_grad();
        p.g.forward(&av)
    };
    let expected =
        0.5 * (bce(&p.judge(&av, &tape.constant(b)), 1.0) + bce(&p.judge(&av, &fake), 0.0));
    drop(tape);
    p.restore_state(&saved).unwrap();
    let rec = p.step(&data).unwrap();
    let got = rec.get("d_loss").unwrap();
    assert!((got - expected).abs() < 1e-5, "{got} vs {expected}");
    assert!(rec.get("g_gan").unwrap() > 0.0 && rec.get("g_l1").unwrap() > 0.0);
    // --objective l1 trains no D: its loss is not recorded and D does not move
    let cfg = Pix2pixConfig {
        batch: 4,
        ngf: 8,
        ndf: 8,
        objective: Objective::L1,
        ..Pix2pixConfig::default()
    };
    let mut p = Pix2pix::new(cfg, 32, 2).unwrap();
    let before = p.d.params()[0].value().to_vec_f32();
    let rec = p.step(&data).unwrap();
    assert!(rec.get("d_loss").unwrap().is_nan());
    assert_eq!(p.d.params()[0].value().to_vec_f32(), before);
}

#[test]
fn a_short_run_translates_held_out_edges_closer_than_the_edges_themselves() {
    let data = DataSpec::EdgesToPrinted.open_held_out().unwrap();
    let cfg = Pix2pixConfig {
        ngf: 16,
        ndf: 16,
        ..Pix2pixConfig::default()
    };
    let mut p = Pix2pix::new(cfg, 32, 0).unwrap();
    for _ in 0..150 {
        p.step(&data).unwrap();
    }
    let (a, b) = data.test.as_ref().unwrap().examples_paired().unwrap();
    let (a, b) = (a.narrow(0, 0, 200), b.narrow(0, 0, 200));
    let identity = a.sub(&b).abs().mean_all().item() / 2.0;
    let out = p.translate(&a);
    assert_eq!(out.dims(), a.dims());
    let l1 = out.sub(&b).abs().mean_all().item() / 2.0;
    // measured: identity 0.2258, pix2pix after 150 steps 0.1457
    assert!(l1 < 0.8 * identity, "L1 {l1} vs identity {identity}");
}
