//! The worked example of `docs/architecture.md`: a method written outside the crate, trained
//! by the same run loop as every built-in method. It matches the first two moments of 1-D data
//! with G(z) = a·z + b (mean and variance) — not a GAN, just the smallest thing the interface can hold.

use minimax_gan::data::{BatchKind, Data, DataSpec};
use minimax_gan::method::{
    finite, update, DataInfo, Method, MethodInfo, Noise, OptKind, OptSpec, Options, Record,
    TrainError,
};
use minimax_gan::run::{load_run, train, RunConfig};
use nn::optim::{compute_gradients, Adam, AdamConfig};
use nn::{Linear, Module, Optimizer};
use tensor::{Rng, Tensor};

struct Moments {
    g: Linear,
    opt: Adam,
    batch: usize,
    rng: Rng,
    step: usize,
}

impl Method for Moments {
    fn info(&self) -> &'static MethodInfo {
        &MOMENTS
    }
    /// L = (mean G(z) − mean x)² + (var G(z) − var x)², one Adam step.
    fn step(&mut self, data: &Data) -> Result<Record, TrainError> {
        self.step += 1;
        let x = data.unlabelled(self.batch, &mut self.rng);
        let z = Noise::Gaussian.sample(self.batch, 1, &mut self.rng);
        let (g, step) = (&self.g, self.step);
        let loss = compute_gradients(&self.opt, |tape| {
            let fake = g.forward(&tape.constant(z));
            let (mean_x, var_x) = (x.mean_all().item(), x.var(&[0, 1], false, false).item());
            let mean = fake.mean_all();
            let d1 = mean.add_scalar(-mean_x);
            let d2 = fake.sub(&mean).square().mean_all().add_scalar(-var_x);
            let l = d1.square().add(&d2.square());
            let v = finite(step, "moment loss", l.item())?;
            Ok((l, v))
        })?;
        update(&mut self.opt, step, "G")?;
        let mut r = Record::new();
        r.show("loss", loss);
        Ok(r)
    }
    fn networks(&self) -> Vec<(&'static str, &dyn Module)> {
        vec![("gen", &self.g)]
    }
    fn optimizers(&self) -> Vec<(&'static str, &dyn Optimizer)> {
        vec![("g", &self.opt)]
    }
    fn optimizers_mut(&mut self) -> Vec<(&'static str, &mut dyn Optimizer)> {
        vec![("g", &mut self.opt)]
    }
    minimax_gan::rng_and_step!();
    fn sample(&self, n: usize, rng: &mut Rng) -> Option<Tensor> {
        Some(minimax_gan::method::sample_generator(
            &self.g,
            Noise::Gaussian,
            1,
            n,
            rng,
        ))
    }
}

fn build(o: &Options, data: &DataInfo, seed: u64) -> Result<Box<dyn Method>, String> {
    if data.shape != [1] {
        return Err(format!(
            "moments needs 1-D data, {} is {:?}",
            data.spec, data.shape
        ));
    }
    let mut rng = Rng::seed(seed);
    let g = Linear::new(1, 1, true, &mut rng);
    let opt = Adam::new(g.named_params(), AdamConfig::default().lr(o.f64("lr")))
        .map_err(|e| e.to_string())?;
    Ok(Box::new(Moments {
        g,
        opt,
        batch: o.usize("batch"),
        rng,
        step: 0,
    }))
}

static MOMENTS: MethodInfo = MethodInfo {
    name: "moments",
    help: "match the mean and the variance of 1-D data",
    about: "G(z) = a·z + b trained on (mean G − mean x)² + (var G − var x)².",
    takes: BatchKind::Unlabelled,
    default_data: "gauss1d",
    default_steps: 1500,
    holds_out: false,
    options: &[
        OptSpec {
            name: "batch",
            help: "batch size",
            default: "256",
            kind: OptKind::Int { min: 1, max: 65536 },
        },
        OptSpec {
            name: "lr",
            help: "Adam's learning rate",
            default: "0.05",
            kind: OptKind::Float {
                min: 0.0,
                max: 10.0,
            },
        },
    ],
    charts: &[("Loss", &["loss"])],
    build,
};

#[test]
fn a_method_written_outside_the_crate_trains_in_the_run_loop() {
    let out = std::env::temp_dir().join(format!("minimax-moments-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let cfg = RunConfig {
        method: &MOMENTS,
        options: Options::defaults(&MOMENTS),
        data: DataSpec::Gauss1d,
        steps: 1500,
        seed: 0,
        out: out.clone(),
        resume: false,
        log_every: 100,
    };
    let summary = train(&cfg, &mut |_| {}).expect("trains");
    assert_eq!(summary.steps, 1500);
    // the data is N(4, 1.25²): G's samples must have its mean and spread
    let s = nn::io::load_npy(out.join("samples.npy"))
        .unwrap()
        .to_vec_f64();
    let mean = s.iter().sum::<f64>() / s.len() as f64;
    let sd = (s.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / s.len() as f64).sqrt();
    assert!((mean - 4.0).abs() < 0.15, "mean {mean}");
    assert!((sd - 1.25).abs() < 0.15, "sd {sd}");
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    // its record, then the gradient norm the run loop adds for its optimizer named "g"
    assert!(csv.starts_with("step,loss,grad_norm_g,seconds\n"), "{csv}");
    // the true JSD is measured because the data is the 1-D Gaussian, whatever the method
    assert!(summary
        .metrics
        .iter()
        .any(|(k, _)| k.starts_with("true JSD")));
    // it is not registered, so `sample`/`inspect` do not know it
    let e = load_run(&out.join("checkpoint.safetensors"), false)
        .err()
        .unwrap();
    assert!(
        e.0.contains("method 'moments', which this version does not know"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&out);
}
