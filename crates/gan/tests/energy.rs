//! The discriminator alone as an energy function: the ascent on a hand-made D lands exactly
//! where the closed form says, the D update is the hand-computed gradient step, and a short
//! seeded run on the ring brings the negatives towards the modes.

use autograd::Var;
use minimax_gan::data::{Dataset, Ring8};
use minimax_gan::method::{OptimizerKind, TrainError};
use minimax_gan::methods::energy::{ascend, EnergyConfig, EnergyModel, Start};
use minimax_gan::metrics::Modes;
use nn::layers::Linear;
use nn::Module;
use tensor::{DType, Rng, Tensor};

/// D(x) = −‖x − c‖², one score per row of x `[N, 2]`: ∇ₓD = −2(x − c), maximum at c.
struct Bowl {
    c: [f32; 2],
}

impl Module for Bowl {
    fn forward(&self, x: &Var) -> Var {
        let c = x.constant(Tensor::from_vec(self.c.to_vec(), [1, 2]));
        x.sub(&c).square().sum(&[1], true).neg()
    }
    fn describe(&self) -> String {
        "Bowl".into()
    }
    nn::as_dyn!();
}

fn bowl_score(c: [f32; 2], x: &Tensor) -> f64 {
    let v = x.to_vec_f64();
    v.chunks(2)
        .map(|p| -((p[0] - c[0] as f64).powi(2) + (p[1] - c[1] as f64).powi(2)))
        .sum::<f64>()
        / (v.len() / 2) as f64
}

#[test]
fn ascent_on_a_bowl_lands_exactly_at_c_plus_half_to_the_t() {
    // x ← x + η·(−2)(x − c)  ⇒  x_T − c = (1 − 2η)^T (x₀ − c). With η = 1/4 the factor is
    // 1/2 and every number below is dyadic, so the f32 result is exact.
    let c = [0.5f32, -0.25];
    let x0 = vec![1.5f32, 0.75, -2.0, 1.0, 0.5, -0.25, 3.0, -4.0];
    let x0t = Tensor::from_vec(x0.clone(), [4, 2]);
    let bowl = Bowl { c };
    for t in [0usize, 1, 3, 7] {
        let x = ascend(&bowl, &x0t, t, 0.25, None);
        let want: Vec<f32> = x0
            .iter()
            .enumerate()
            .map(|(i, &v)| c[i % 2] + 0.5f32.powi(t as i32) * (v - c[i % 2]))
            .collect();
        assert_eq!(x.to_vec_f32(), want, "T = {t}");
        if t > 0 {
            // uphill: D(x̃) after the ascent is above D(x₀) (the point at c stays at the top)
            assert!(bowl_score(c, &x) > bowl_score(c, &x0t), "T = {t}");
        }
    }
}

#[test]
fn ascent_on_a_bowl_contracts_at_rate_one_minus_two_eta() {
    let c = [0.3f32, -0.7];
    let x0 = Tensor::from_vec(vec![2.0f32, 1.0, -1.0, 0.5], [2, 2]);
    let (eta, t) = (0.1, 20);
    let x = ascend(&Bowl { c }, &x0, t, eta, None).to_vec_f64();
    let rate = (1.0f64 - 2.0 * eta).powi(t as i32); // 0.8²⁰ ≈ 0.0115
    for (i, (&got, &start)) in x.iter().zip(&x0.to_vec_f64()).enumerate() {
        let want = c[i % 2] as f64 + rate * (start - c[i % 2] as f64);
        assert!((got - want).abs() < 1e-6, "coordinate {i}: {got} vs {want}");
    }
    // η > 1 overshoots: |1 − 2η| > 1 and the ascent diverges — the step size matters.
    let far = ascend(&Bowl { c }, &x0, 10, 1.1, None).to_vec_f64();
    assert!((far[0] - c[0] as f64).abs() > 10.0, "{far:?}");
}

#[test]
fn projected_ascent_stops_at_the_box() {
    let c = [0.5f32, -0.25];
    let x0 = Tensor::from_vec(vec![-0.25f32, 0.25], [1, 2]);
    // the first coordinate wants to reach 0.5 but is clamped to 0.25; the second is inside
    let x = ascend(&Bowl { c }, &x0, 6, 0.25, Some(0.25)).to_vec_f32();
    assert_eq!(x, vec![0.25, -0.25 + 0.5f32.powi(6) * 0.5]);
}

fn linear_d(w: [f32; 2], b: f32) -> Linear {
    let l = Linear::new(2, 1, true, &mut Rng::seed(0));
    l.weight.set_value(Tensor::from_vec(w.to_vec(), [1, 2]));
    l.bias
        .as_ref()
        .unwrap()
        .set_value(Tensor::from_vec(vec![b], [1]));
    l
}

#[test]
fn d_update_is_the_hand_computed_descent_step_on_the_documented_loss() {
    // D(x) = w·x + b; L = E D(x̃) − E D(x) + λ (E D(x)² + E D(x̃)²), one SGD step of lr η_d.
    let (w, b) = ([0.3f64, -0.2], 0.1f64);
    let (lr, lambda) = (0.1, 0.5);
    let xs = [[1.0f64, 0.0], [0.0, 1.0]];
    let negs = [[-1.0f64, -1.0], [2.0, 0.0]];
    let d = linear_d([w[0] as f32, w[1] as f32], b as f32);
    let cfg = EnergyConfig {
        optimizer: OptimizerKind::Sgd,
        lr,
        penalty: lambda,
        ..EnergyConfig::default()
    };
    let mut em = EnergyModel::new(Box::new(d), cfg, 0).unwrap();
    let flat = |a: &[[f64; 2]; 2]| {
        Tensor::from_vec(
            a.iter().flatten().map(|&v| v as f32).collect::<Vec<_>>(),
            [2, 2],
        )
    };
    let (x, neg) = (flat(&xs), flat(&negs));
    let score = |p: &[f64; 2]| w[0] * p[0] + w[1] * p[1] + b;
    let m = 2.0;
    let (mut gw, mut gb) = ([0.0f64; 2], 0.0f64);
    for p in &negs {
        let s = score(p);
        for k in 0..2 {
            gw[k] += p[k] / m + lambda * 2.0 * s * p[k] / m;
        }
        gb += 1.0 / m + lambda * 2.0 * s / m;
    }
    for p in &xs {
        let s = score(p);
        for k in 0..2 {
            gw[k] += -p[k] / m + lambda * 2.0 * s * p[k] / m;
        }
        gb += -1.0 / m + lambda * 2.0 * s / m;
    }
    let gap_before = em.score(&x).mean_all().item() - em.score(&neg).mean_all().item();
    let u = em.update_d(&x, &neg).unwrap();
    let d_real = xs.iter().map(score).sum::<f64>() / m;
    let d_neg = negs.iter().map(score).sum::<f64>() / m;
    assert!((u.d_real - d_real).abs() < 1e-6 && (u.d_neg - d_neg).abs() < 1e-6);
    let pen = xs.iter().map(|p| score(p).powi(2)).sum::<f64>() / m
        + negs.iter().map(|p| score(p).powi(2)).sum::<f64>() / m;
    assert!((u.penalty - pen).abs() < 1e-6);
    assert!((u.loss - (d_neg - d_real + lambda * pen)).abs() < 1e-6);
    let params: Vec<f64> =
        em.d.params()
            .iter()
            .flat_map(|p| p.value().to_vec_f64())
            .collect();
    let want = [w[0] - lr * gw[0], w[1] - lr * gw[1], b - lr * gb];
    for (g, e) in params.iter().zip(&want) {
        assert!((g - e).abs() < 1e-6, "{params:?} vs {want:?}");
    }
    // the direction: the gap E D(x) − E D(x̃) grew
    let gap_after = em.score(&x).mean_all().item() - em.score(&neg).mean_all().item();
    assert!(gap_after > gap_before, "{gap_before} → {gap_after}");
}

#[test]
fn starting_points_are_noise_or_last_rounds_negatives() {
    let data = Ring8::new();
    let modes = Modes::ring8();
    let cfg = EnergyConfig {
        restart: 0.0,
        batch: 32,
        t: 3,
        ..EnergyConfig::default()
    };
    let mut em = EnergyModel::mlp(2, cfg.clone(), 5).unwrap();
    let r = em.round(&data, &modes).unwrap();
    assert_eq!(r.grad_evals, 3 * 32);
    let prev = em.negatives.clone().unwrap();
    let x0 = em.starting_points(32, &[2]);
    assert_eq!(
        x0.to_vec_f32(),
        prev.to_vec_f32(),
        "persistent chains, no restart"
    );
    let r2 = em.round(&data, &modes).unwrap();
    assert_eq!(r2.total_grad_evals, 2 * 3 * 32);

    let mut fresh = EnergyModel::mlp(
        2,
        EnergyConfig {
            start: Start::Noise,
            ..cfg
        },
        5,
    )
    .unwrap();
    fresh.round(&data, &modes).unwrap();
    let prev = fresh.negatives.clone().unwrap();
    let x0 = fresh.starting_points(32, &[2]);
    assert_ne!(x0.to_vec_f32(), prev.to_vec_f32());
    assert!(x0.to_vec_f32().iter().all(|v| v.abs() <= 2.0));
}

#[test]
fn a_diverging_ascent_stops_training_with_a_named_term() {
    let cfg = EnergyConfig {
        eta: 1e38,
        clamp: false,
        t: 4,
        batch: 16,
        ..EnergyConfig::default()
    };
    let mut em = EnergyModel::mlp(2, cfg, 0).unwrap();
    let mut err = None;
    for _ in 0..5 {
        if let Err(e) = em.round(&Ring8::new(), &Modes::ring8()) {
            err = Some(e);
            break;
        }
    }
    match err {
        Some(TrainError::NonFinite { term, .. }) => assert_eq!(term, "negatives' mean"),
        other => panic!("expected a non-finite negatives error, got {other:?}"),
    }
}

fn short_run(
    seed: u64,
    rounds: usize,
) -> (EnergyModel, Vec<minimax_gan::methods::energy::EnergyRecord>) {
    let cfg = EnergyConfig {
        rounds,
        ..EnergyConfig::default()
    };
    let mut recs = Vec::new();
    let em = minimax_gan::methods::energy::train_energy(
        cfg,
        &Ring8::new(),
        &Modes::ring8(),
        seed,
        &mut |r| recs.push(r.clone()),
    )
    .unwrap();
    (em, recs)
}

#[test]
fn a_short_run_on_the_ring_brings_the_negatives_to_the_modes() {
    let modes = Modes::ring8();
    let noise = Tensor::rand_uniform([2500, 2], -2.0, 2.0, DType::F32, &mut Rng::seed(1));
    let noise_dist = modes.mean_distance(&noise);
    assert!((noise_dist - 0.73).abs() < 0.02, "{noise_dist}");
    let (em, recs) = short_run(0, 600);
    let last = &recs[recs.len() - 20..];
    let neg_dist = last.iter().map(|r| r.neg_mode_dist).sum::<f64>() / last.len() as f64;
    // measured: 0.121 (persistent chains, last 20 of 600 rounds of T = 10), vs 0.73 for the
    // noise: a ratio of 0.17
    assert!(
        neg_dist < 0.25 * noise_dist,
        "negatives {neg_dist} vs noise {noise_dist}"
    );
    // the ascent goes uphill on average in (nearly) every round (measured: 600 of 600)
    let uphill = recs.iter().filter(|r| r.d_neg > r.d_start).count();
    assert!(
        uphill as f64 > 0.95 * recs.len() as f64,
        "{uphill} of {}",
        recs.len()
    );
    // fresh samples from U(−2, 2)²: T = 100 ascent steps each (a round uses T = 10 on chains
    // that persist across rounds)
    let (x, evals) = em.sample_with(2500, &[2], 100, &mut Rng::seed(2));
    assert_eq!(evals, 250_000);
    let m = modes.report(&x);
    let d = modes.mean_distance(&x);
    // measured: 0.0127, 8/8 modes, 99.6 % high quality, reverse KL 0.011
    assert!(d < 0.1 * noise_dist, "{d}");
    assert!(m.modes_covered >= 7 && m.high_quality_frac > 0.8, "{m}");
}

#[test]
fn same_seed_same_run() {
    let (a, ra) = short_run(3, 15);
    let (b, rb) = short_run(3, 15);
    let strip = |r: &[minimax_gan::methods::energy::EnergyRecord]| {
        r.iter()
            .map(|r| (r.d_real, r.d_neg, r.neg_mode_dist, r.loss))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&ra), strip(&rb));
    for (p, q) in a.d.params().iter().zip(b.d.params()) {
        assert_eq!(p.value().to_vec_f32(), q.value().to_vec_f32());
    }
    let _ = Ring8::new().name();
}
