//! The original algorithm: one iteration equals the same iteration unrolled by hand, and the
//! loop stops with a named term on NaN.

use minimax_gan::data::Dataset;
use minimax_gan::method::{Noise, OptimizerKind};
use minimax_gan::methods::vanilla::{Event, Gan, GanConfig, Phase, Shown};
use minimax_gan::objectives::GanLoss;
use nn::layers::Linear;
use nn::Module;
use tensor::{Rng, Tensor};

/// Always the same two real samples.
struct Fixed(Vec<f32>);
impl Dataset for Fixed {
    fn sample(&self, m: usize, _rng: &mut Rng) -> Tensor {
        assert_eq!(m, self.0.len());
        Tensor::from_vec(self.0.clone(), [m, 1])
    }
    fn sample_shape(&self) -> Vec<usize> {
        vec![1]
    }
    fn name(&self) -> &str {
        "fixed"
    }
}

fn linear(w: f32, b: f32) -> Linear {
    let l = Linear::new(1, 1, true, &mut Rng::seed(0));
    l.weight.set_value(Tensor::from_vec(vec![w], [1, 1]));
    l.bias
        .as_ref()
        .unwrap()
        .set_value(Tensor::from_vec(vec![b], [1]));
    l
}

fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn params(m: &dyn Module) -> Vec<f64> {
    m.params()
        .iter()
        .flat_map(|p| p.value().to_vec_f64())
        .collect()
}

fn one_iteration_by_hand(loss: GanLoss) {
    let (a, b, c, d) = (0.7f64, -0.2f64, 1.3f64, 0.4f64); // D(x) = σ(a·x + b), G(z) = c·z + d
    let (eta_d, eta_g) = (0.1, 0.05);
    let xs = [1.5f64, 2.5];
    let cfg = GanConfig {
        k: 1,
        batch: 2,
        noise: Noise::Gaussian,
        z_dim: 1,
        lr_d: eta_d,
        lr_g: eta_g,
        loss,
        optimizer: OptimizerKind::Sgd,
        ..GanConfig::default()
    };
    let seed = 11;
    let mut gan = Gan::new(
        Box::new(linear(c as f32, d as f32)),
        Box::new(linear(a as f32, b as f32)),
        cfg,
        seed,
    )
    .unwrap();
    let data = Fixed(xs.iter().map(|&x| x as f32).collect());
    let mut seen_v = None;
    let rec = gan
        .step_observed(&data, &mut |e: &Event| {
            if let (Phase::D(0), Shown::Scalar(v)) = (e.phase, e.shown) {
                seen_v = Some(v);
            }
        })
        .unwrap();

    // The same draws, in the same order: z for the D step, then z for the G step.
    let mut rng = Rng::seed(seed);
    let z1: Vec<f64> = Noise::Gaussian.sample(2, 1, &mut rng).to_vec_f64();
    let z2: Vec<f64> = Noise::Gaussian.sample(2, 1, &mut rng).to_vec_f64();
    let c32 = |v: f64| v as f32 as f64;
    let (a, b, c, d) = (c32(a), c32(b), c32(c), c32(d));

    // learning D: Ṽ and its gradient, then ascent
    let fake: Vec<f64> = z1.iter().map(|z| c * z + d).collect();
    let v = xs.iter().map(|x| sig(a * x + b).ln()).sum::<f64>() / 2.0
        + fake
            .iter()
            .map(|f| (1.0 - sig(a * f + b)).ln())
            .sum::<f64>()
            / 2.0;
    let dv_da = xs.iter().map(|x| (1.0 - sig(a * x + b)) * x).sum::<f64>() / 2.0
        - fake.iter().map(|f| sig(a * f + b) * f).sum::<f64>() / 2.0;
    let dv_db = xs.iter().map(|x| 1.0 - sig(a * x + b)).sum::<f64>() / 2.0
        - fake.iter().map(|f| sig(a * f + b)).sum::<f64>() / 2.0;
    let (a2, b2) = (a + eta_d * dv_da, b + eta_d * dv_db);

    // learning G with the updated D
    let f2: Vec<f64> = z2.iter().map(|z| a2 * (c * z + d) + b2).collect();
    // ∂L/∂f for each sample's logit f
    let dl_df: Vec<f64> = match loss {
        GanLoss::NonSaturating => f2.iter().map(|&f| -(1.0 - sig(f)) / 2.0).collect(),
        GanLoss::Minimax => f2.iter().map(|&f| -sig(f) / 2.0).collect(),
        _ => unreachable!(),
    };
    let dl_dc: f64 = dl_df.iter().zip(&z2).map(|(g, z)| g * a2 * z).sum();
    let dl_dd: f64 = dl_df.iter().map(|g| g * a2).sum();
    let (c2, d2) = (c - eta_g * dl_dc, d - eta_g * dl_dd);

    assert!((rec.v - v).abs() < 1e-5, "V {} vs {v}", rec.v);
    assert_eq!(seen_v, Some(rec.v));
    assert!((rec.jsd - (v + 4f64.ln()) / 2.0).abs() < 1e-5);
    let dp = params(gan.d.as_dyn());
    let gp = params(gan.g.as_dyn());
    for (got, want) in dp.iter().zip([a2, b2]).chain(gp.iter().zip([c2, d2])) {
        assert!(
            (got - want).abs() < 1e-5,
            "{loss:?}: {got} vs hand-computed {want}"
        );
    }
    // the ascent moved D uphill on V: a gradient step with a positive lr
    assert!(dv_da.abs() > 1e-3 && ((dp[0] - a) * dv_da) > 0.0);
}

#[test]
fn one_nonsaturating_iteration_equals_the_hand_unrolled_one() {
    one_iteration_by_hand(GanLoss::NonSaturating);
}

#[test]
fn one_minimax_iteration_equals_the_hand_unrolled_one() {
    one_iteration_by_hand(GanLoss::Minimax);
}

#[test]
fn a_nan_in_the_data_stops_training_naming_the_term() {
    let data = Fixed(vec![f32::NAN, 1.0]);
    let cfg = GanConfig {
        batch: 2,
        z_dim: 1,
        ..GanConfig::default()
    };
    let mut gan = Gan::new(
        Box::new(linear(1.0, 0.0)),
        Box::new(linear(1.0, 0.0)),
        cfg,
        1,
    )
    .unwrap();
    let before = params(gan.d.as_dyn());
    let err = gan.step(&data).unwrap_err();
    assert_eq!(err.to_string(), "step 1: the V is NaN (not finite)");
    assert_eq!(params(gan.d.as_dyn()), before, "no update was applied");
}

#[test]
fn the_g_step_restores_each_d_parameter_s_own_freeze_setting() {
    let data = Fixed(vec![1.0, 2.0]);
    let cfg = GanConfig {
        batch: 2,
        z_dim: 1,
        ..GanConfig::default()
    };
    let d = linear(1.0, 0.0);
    d.bias.as_ref().unwrap().set_requires_grad(false); // the user froze D's bias on purpose
    let mut gan = Gan::new(Box::new(linear(1.0, 0.0)), Box::new(d), cfg, 1).unwrap();
    gan.step(&data).unwrap();
    let flags: Vec<bool> = gan.d.params().iter().map(|p| p.requires_grad()).collect();
    assert_eq!(flags, vec![true, false]);
}

/// The moving average of G's weights: after each G step avg ← β_t·avg + (1 − β_t)·θ with
/// β_t = min(β, (1 + t)/(10 + t)), from G's initial weights; samples come from the average and
/// leave G's own weights untouched.
#[test]
fn the_moving_average_of_g_follows_its_formula_and_samples_come_from_it() {
    let data = Fixed(vec![1.5, 2.5]);
    let mut gan = toy(GanConfig {
        lr_g: 0.05,
        ema: 0.9,
        ..toy_config()
    });
    let mut avg = params(gan.g.as_dyn());
    assert_eq!(avg, vec![1.3f32 as f64, 0.4f32 as f64]);
    for t in 1..=4usize {
        gan.step(&data).unwrap();
        let beta = 0.9f64.min((1.0 + t as f64) / (10.0 + t as f64));
        assert_eq!(gan.ema_decay(t), beta);
        let theta = params(gan.g.as_dyn());
        for (a, th) in avg.iter_mut().zip(&theta) {
            *a = beta * *a + (1.0 - beta) * th;
        }
        let got: Vec<f64> = gan.ema.iter().flat_map(|t| t.to_vec_f64()).collect();
        for (g, w) in got.iter().zip(&avg) {
            assert!(
                (g - w).abs() < 1e-6,
                "step {t}: average {got:?}, by hand {avg:?}"
            );
        }
        assert!(theta != avg, "the average differs from G's own weights");
    }
    // samples: G(z) = w̄·z + b̄ with the averaged weights; G's weights are back afterwards
    let own = params(gan.g.as_dyn());
    let mut rng = Rng::seed(3);
    let z = Noise::Gaussian.sample(6, 1, &mut rng.clone()).to_vec_f64();
    let s = gan.sample(6, &mut rng).to_vec_f64();
    for (zi, si) in z.iter().zip(&s) {
        let want = avg[0] * zi + avg[1];
        assert!((si - want).abs() < 1e-5, "sample {si}, w̄·z + b̄ = {want}");
    }
    assert_eq!(params(gan.g.as_dyn()), own);
}

/// `--lr` sets G's learning rate and D's unless `--lr-d` gives D its own; `--channels` sets the
/// width of DCGAN's networks.
#[test]
fn dcgan_options_set_each_learning_rate_and_the_width() {
    use minimax_gan::method::{DataInfo, Options};
    use minimax_gan::methods::vanilla::DCGAN;
    let data = DataInfo {
        spec: "digits".into(),
        shape: vec![1, 8, 8],
    };
    let lrs = |given: &[(&str, &str)]| {
        let given: Vec<(String, String)> = given
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let m = (DCGAN.build)(&Options::parse(&DCGAN, &given).unwrap(), &data, 0).unwrap();
        let lrs: Vec<(String, f64)> = m
            .optimizers()
            .into_iter()
            .map(|(n, o)| (n.to_string(), o.lr()))
            .collect();
        let weights: usize = m.networks()[0].1.params().iter().map(|p| p.numel()).sum();
        (lrs, weights)
    };
    let (same, wide) = lrs(&[("lr", "1e-3")]);
    assert_eq!(same, vec![("g".into(), 1e-3), ("d".into(), 1e-3)]);
    let (own, narrow) = lrs(&[("lr", "1e-3"), ("lr-d", "2.5e-4"), ("channels", "16")]);
    assert_eq!(own, vec![("g".into(), 1e-3), ("d".into(), 2.5e-4)]);
    // G: Linear(100, 2c·4) + BN(2c) + ConvT(2c, c, 4) + BN(c) + ConvT(c, 1, 4)
    let g_weights =
        |c: usize| (100 * 8 * c + 8 * c) + 4 * c + (2 * c * c * 16 + c) + 2 * c + (c * 16 + 1);
    assert_eq!((wide, narrow), (g_weights(64), g_weights(16)));
}

/// Batch 2 of 1-D z, SGD with D at 0.1: the settings of the hand-checked toy runs below.
fn toy_config() -> GanConfig {
    GanConfig {
        batch: 2,
        z_dim: 1,
        lr_d: 0.1,
        optimizer: OptimizerKind::Sgd,
        ..GanConfig::default()
    }
}

/// G(z) = 1.3·z + 0.4 and D(x) = 0.7·x − 0.2, seed 5.
fn toy(cfg: GanConfig) -> Gan {
    Gan::new(
        Box::new(linear(1.3, 0.4)),
        Box::new(linear(0.7, -0.2)),
        cfg,
        5,
    )
    .unwrap()
}

/// `--decay-from`/`--decay-steps`: both optimizers follow the linear rule, G's and D's own
/// rates scaled alike.
#[test]
fn both_learning_rates_decay_linearly_after_decay_from() {
    let data = Fixed(vec![1.5, 2.5]);
    let mut gan = toy(GanConfig {
        lr_g: 0.04,
        decay_from: 2,
        decay_steps: 3,
        ..toy_config()
    });
    // iterations 1, 2 at the full rate; then 3/4, 2/4, 1/4 of it; then 0
    for (t, k) in [(1, 1.0), (2, 1.0), (3, 0.75), (4, 0.5), (5, 0.25), (6, 0.0)] {
        gan.step(&data).unwrap();
        assert!(
            (gan.opt_g.lr() - 0.04 * k).abs() < 1e-15,
            "G at {t}: {}",
            gan.opt_g.lr()
        );
        assert!(
            (gan.opt_d.lr() - 0.1 * k).abs() < 1e-15,
            "D at {t}: {}",
            gan.opt_d.lr()
        );
    }
}

/// `--refine T`: with G(z) = 1.3·z + 0.4 and D's logit 0.7·x − 0.2, the climb
/// l(G(z)) − z²/2 has gradient 1.3·0.7 − z, so each step is z ← z + η·(0.91 − z): after T steps
/// z = 0.91 + (1 − η)ᵀ·(z₀ − 0.91). Samples are G of the refined z; T = 0 leaves them alone.
#[test]
fn latent_refinement_climbs_ds_logit_minus_the_prior() {
    let z0 = Tensor::from_vec(vec![-1.0f32, 0.0, 2.5], [3, 1]);
    for (steps, eta) in [(1usize, 0.1f64), (3, 0.1), (4, 0.5)] {
        let gan = toy(GanConfig {
            refine: steps,
            refine_eta: eta,
            ..toy_config()
        });
        let z = gan.refine(&z0).to_vec_f64();
        for (got, start) in z.iter().zip(z0.to_vec_f64()) {
            let want = 0.91 + (1.0 - eta).powi(steps as i32) * (start - 0.91);
            assert!(
                (got - want).abs() < 1e-5,
                "T {steps}, η {eta}: {got} vs {want}"
            );
        }
    }
    // sampling draws z, refines it and returns G(z)
    let gan = toy(GanConfig {
        refine: 2,
        refine_eta: 0.25,
        ..toy_config()
    });
    let plain = toy(toy_config());
    let (a, b) = (
        gan.sample(4, &mut Rng::seed(3)).to_vec_f64(),
        plain.sample(4, &mut Rng::seed(3)).to_vec_f64(),
    );
    for (x, x0) in a.iter().zip(&b) {
        let z0 = (x0 - 0.4) / 1.3;
        let z = 0.91 + 0.75f64.powi(2) * (z0 - 0.91);
        assert!((x - (1.3 * z + 0.4)).abs() < 1e-5, "{x} from z₀ {z0}");
    }
    assert!(a.iter().zip(&b).any(|(x, y)| (x - y).abs() > 1e-3));
}
