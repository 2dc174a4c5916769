//! `minimax explain gan`: one iteration of the original algorithm on a tiny problem, printed
//! line by line as the tutorial writes it, with live numbers.

use crate::data::{Dataset, Gaussian1d};
use crate::method::{Noise, OptimizerKind};
use crate::methods::vanilla::{Event, Gan, GanConfig, Phase, Shown};
use crate::objectives::GanLoss;
use nn::layers::Linear;
use std::fmt::Write;
use tensor::{Rng, Tensor};

fn fmt_t(t: &Tensor) -> String {
    let v: Vec<String> = t.to_vec_f64().iter().map(|x| format!("{x:+.4}")).collect();
    format!("[{}]", v.join(", "))
}

/// The value of one loss term recorded on a fresh tape, and the norm of the gradient it sends to
/// each of `nets`' parameters (every gradient is cleared before and after).
fn gradient_reach(
    nets: &[(&str, &dyn nn::Module)],
    term: &dyn Fn(&autograd::Tape) -> autograd::Var,
) -> (f64, Vec<(String, f64)>) {
    for (_, n) in nets {
        n.zero_grad();
    }
    let tape = autograd::Tape::new();
    let t = term(&tape);
    let v = t.item();
    t.backward();
    let mut norms = Vec::new();
    for (name, n) in nets {
        norms.push((name.to_string(), nn::optim::grad_norm(&n.params())));
        n.zero_grad();
    }
    (v, norms)
}

fn fmt_params(ps: &[(String, Tensor)]) -> String {
    ps.iter()
        .map(|(n, t)| format!("{n} = {}", fmt_t(t)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The whole explanation as text (the CLI prints it).
pub fn explain_gan(seed: u64) -> String {
    let mut rng = Rng::seed(seed);
    let data = Gaussian1d::new(4.0, 1.25);
    let g = Linear::new(1, 1, true, &mut rng);
    let d = Linear::new(1, 1, true, &mut rng);
    let (eta_d, eta_g) = (0.1, 0.1);
    let cfg = GanConfig {
        k: 1,
        batch: 4,
        noise: Noise::Uniform,
        z_dim: 1,
        lr_d: eta_d,
        lr_g: eta_g,
        loss: GanLoss::NonSaturating,
        optimizer: OptimizerKind::Sgd,
        ..GanConfig::default()
    };
    let mut gan = Gan::new(Box::new(g), Box::new(d), cfg, seed).expect("valid optimizer settings");
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "One iteration of the original GAN algorithm (Goodfellow et al. 2014), live.\n"
    );
    let _ = writeln!(
        w,
        "The problem: real data x ~ N(4, 1.25²) in one dimension."
    );
    let _ = writeln!(
        w,
        "  G(z) = w_g·z + b_g turns noise z ~ U(−1, 1) into a sample."
    );
    let _ = writeln!(
        w,
        "  D(x) = σ(w_d·x + b_d) is the probability D gives that x is real."
    );
    let _ = writeln!(w, "  m = 4 samples per batch, k = 1 D step per iteration, plain gradient steps, η = {eta_d}.\n");
    let _ = writeln!(
        w,
        "Initialise θd, θg (PyTorch's default for a 1→1 linear layer: U(−1, 1)):"
    );
    let _ = writeln!(
        w,
        "  θg: {}",
        fmt_params(
            &gan.g
                .named_params()
                .into_iter()
                .map(|(n, p)| (n, p.value()))
                .collect::<Vec<_>>()
        )
    );
    let _ = writeln!(
        w,
        "  θd: {}\n",
        fmt_params(
            &gan.d
                .named_params()
                .into_iter()
                .map(|(n, p)| (n, p.value()))
                .collect::<Vec<_>>()
        )
    );
    let mut phase_printed = (false, false);
    let rec = gan
        .step_observed(&data as &dyn Dataset, &mut |e: &Event| {
            match e.phase {
                Phase::D(_) if !phase_printed.0 => {
                    phase_printed.0 = true;
                    let _ = writeln!(
                        w,
                        "Learning D (repeated k = 1 time) — D is updated by gradient ASCENT on Ṽ:"
                    );
                }
                Phase::G if !phase_printed.1 => {
                    phase_printed.1 = true;
                    let _ = writeln!(
                        w,
                        "\nLearning G (once) — D is frozen, G descends the non-saturating loss:"
                    );
                }
                _ => {}
            }
            let line = match e.shown {
                Shown::Tensor(t) => format!("  {:<48} {}", e.what, fmt_t(t)),
                Shown::Scalar(v) => format!("  {:<48} {v:+.6}", e.what),
                Shown::Params(ps) => format!("  {:<48} {}", e.what, fmt_params(ps)),
            };
            let _ = writeln!(w, "{line}");
        })
        .expect("the tiny problem trains without NaN");
    let _ = writeln!(w, "\nWhat this iteration measured:");
    let _ = writeln!(
        w,
        "  V = {:+.6}   mean D(x) = {:.4}   mean D(G(z)) = {:.4}",
        rec.v, rec.d_real, rec.d_fake
    );
    let _ = writeln!(
        w,
        "  JSD estimate (V + ln 4)/2 = {:.6}  (V = −ln 4 ≈ −1.386294 exactly when D can no longer tell: D* = ½)",
        rec.jsd
    );
    let _ = writeln!(
        w,
        "  The estimate equals the JSD only for the optimal D* = p_data/(p_data + p_g); an untrained D gives a\n  lower bound, which can even be negative, as here. Training D (k steps) tightens it."
    );
    let _ = writeln!(
        w,
        "  ‖∇θd‖ = {:.6}   ‖∇θg‖ = {:.6}",
        rec.grad_norm_d, rec.grad_norm_g
    );
    let _ = writeln!(
        w,
        "\nCheck the ascent by hand: each θd after = θd before + η·∇θd Ṽ (η = {eta_d}); each θg after = θg before − η·∇θg (η = {eta_g})."
    );
    out
}

/// `minimax explain cgan`: one D step of the conditional GAN on four real digits, with its three
/// pairs — (c, real x), (wrong ĉ, real x), (c, G(c, z)) — and their terms, live; then the same
/// step taken by the method, whose D loss is the sum shown, and D's outputs after the update.
pub fn explain_cgan(seed: u64) -> String {
    use crate::data::DataSpec;
    use crate::methods::cgan::{mismatched, Cgan, CganConfig};
    use autograd::{no_grad, Tape, Var};
    use nn::loss::{bce_with_logits, Reduction};
    use tensor::DType;

    let m = 4;
    let data = DataSpec::Digits.open().expect("the embedded digits open");
    let cfg = CganConfig {
        batch: m,
        ..CganConfig::default()
    };
    let mut cg = Cgan::new(cfg, 10, 8, seed).expect("valid optimizer settings");
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "One D step of the conditional GAN with mismatched pairs (GAN-CLS, Reed et al. 2016), live.\n"
    );
    let _ = writeln!(
        w,
        "G(c, z) draws a digit of class c; D(c, x) gives the probability that x is a real digit OF CLASS c."
    );
    let _ = writeln!(
        w,
        "D learns from three kinds of pair:\n  (c, x)        a real digit with its own class       → should say 1\n  (ĉ, x)        the same real digit with a WRONG class → should say 0 (only a D that reads c can)\n  (c, G(c, z))  a generated digit                     → should say 0\n"
    );
    // the step's own draws, replayed from a copy of its generator
    let mut r = crate::method::Method::rng(&cg).clone();
    let (x, c) = data.labelled(m, &mut r);
    let z = Tensor::randn([m, 100], 0.0, 1.0, DType::F32, &mut r);
    let wrong = mismatched(&c, 10, &mut r);
    let outputs = |cg: &Cgan| {
        let tape = Tape::new();
        let fake = {
            let _off = no_grad();
            cg.generate(&c, &tape.constant(z.clone()))
        };
        let xv = tape.constant(x.clone());
        let logits = [
            cg.judge(&c, &xv),
            cg.judge(&wrong, &xv),
            cg.judge(&c, &fake),
        ];
        let bce = |l: &Var, t: f64| {
            let target = tape.constant(Tensor::full([m, 1], t, DType::F32));
            bce_with_logits(l, &target, None, Reduction::Mean).item()
        };
        let terms = [
            bce(&logits[0], 1.0),
            0.5 * bce(&logits[1], 0.0),
            0.5 * bce(&logits[2], 0.0),
        ];
        let probs: Vec<Vec<f64>> = logits
            .iter()
            .map(|l| l.value().sigmoid().to_vec_f64())
            .collect();
        (probs, terms)
    };
    let (before, terms) = outputs(&cg);
    let _ = writeln!(w, "The batch (m = {m}) and D's outputs before the update:");
    let _ = writeln!(
        w,
        "  {:>4} {:>8} {:>12} {:>12} {:>14}",
        "c", "wrong ĉ", "D(c, x)", "D(ĉ, x)", "D(c, G(c,z))"
    );
    for i in 0..m {
        let _ = writeln!(
            w,
            "  {:>4} {:>8} {:>12.4} {:>12.4} {:>14.4}",
            c[i], wrong[i], before[0][i], before[1][i], before[2][i]
        );
    }
    let total: f64 = terms.iter().sum();
    let _ = writeln!(w, "\nD's loss, term by term:");
    let _ = writeln!(
        w,
        "  BCE(D(c, x), 1)           = −1/m Σ ln D(cⁱ, xⁱ)             = {:.6}",
        terms[0]
    );
    let _ = writeln!(
        w,
        "  ½·BCE(D(ĉ, x), 0)         = −½·1/m Σ ln(1 − D(ĉⁱ, xⁱ))      = {:.6}",
        terms[1]
    );
    let _ = writeln!(
        w,
        "  ½·BCE(D(c, G(c, z)), 0)   = −½·1/m Σ ln(1 − D(cⁱ, G(cⁱ, zⁱ))) = {:.6}",
        terms[2]
    );
    let _ = writeln!(
        w,
        "  L_D                                                          = {total:.6}"
    );
    let rec = cg.step(&data).expect("the step trains without NaN");
    let (after, _) = outputs(&cg);
    let _ = writeln!(
        w,
        "\nThe method's own step on the same draws reports L_D = {:.6}, and after one Adam step on θd\n(and one on θg) D's mean outputs moved:",
        rec.get("d_loss").unwrap_or(f64::NAN)
    );
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    for (k, (name, want)) in [("D(c, x)", "1"), ("D(ĉ, x)", "0"), ("D(c, G(c, z))", "0")]
        .iter()
        .enumerate()
    {
        let _ = writeln!(
            w,
            "  mean {:<14} {:.4} → {:.4}   (target {want})",
            name,
            mean(&before[k]),
            mean(&after[k])
        );
    }
    let _ = writeln!(
        w,
        "\nA real digit with a wrong class still looks real, so early on D(ĉ, x) follows D(c, x): telling\nthem apart needs a D that has learnt to read c, which takes many steps. Without the wrong pair\n(--no-mismatch) nothing in L_D asks D to read c at all, and G may ignore c too:\n`minimax train cgan --no-mismatch` measures how often the classifier reads the requested class."
    );
    out
}

/// `minimax explain cyclegan`: one CycleGAN iteration on four printed and four handwritten digits,
/// every loss term with its live value and the networks its gradient reaches, then the method's
/// own step on the same draws.
pub fn explain_cyclegan(seed: u64) -> String {
    use crate::data::DataSpec;
    use crate::method::Method;
    use crate::methods::cyclegan::{CycleGan, CycleGanConfig};
    use autograd::{Tape, Var};
    use nn::loss::{l1, Reduction};
    use nn::Module;

    let data = DataSpec::parse("printed8+digits")
        .expect("a data name")
        .open()
        .expect("the embedded digits open");
    let cfg = CycleGanConfig {
        batch: 4,
        ngf: 8,
        ..CycleGanConfig::default()
    };
    let lam = cfg.lambda;
    let mut cg = CycleGan::new(cfg, seed).expect("valid optimizer settings");
    let (x, y) = data.unpaired(4, &mut cg.rng().clone());
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "One CycleGAN iteration (Zhu et al. 2017), live: X = printed digits, Y = handwritten digits,\nunpaired batches of 4. G: X → Y, F: Y → X, D_Y judges G's outputs, D_X judges F's (LSGAN).\n"
    );
    let nets: [(&str, &dyn Module); 4] =
        [("G", &cg.g), ("F", &cg.f), ("D_X", &cg.dx), ("D_Y", &cg.dy)];
    // each term on its own tape; its gradient's norm on each network's parameters
    let reach = |term: &dyn Fn(&Tape) -> Var| -> (f64, String) {
        let (v, norms) = gradient_reach(&nets, term);
        let parts: Vec<String> = norms
            .iter()
            .map(|(name, g)| {
                if *g > 0.0 {
                    format!("{name} {g:.2e}")
                } else {
                    format!("{name} —")
                }
            })
            .collect();
        (v, parts.join(", "))
    };
    let ls = |s: &Var, t: f64| s.add_scalar(-t).square().mean_all();
    let (xt, yt) = (x.clone(), y.clone());
    let c = |t: &Tape, v: &Tensor| t.constant(v.clone());
    let terms: Vec<(&str, Box<dyn Fn(&Tape) -> Var + '_>)> = vec![
        (
            "(D_Y(G(x)) − 1)²          G fools D_Y",
            Box::new(|t| ls(&cg.dy.forward(&cg.g.forward(&c(t, &xt))), 1.0)),
        ),
        (
            "(D_X(F(y)) − 1)²          F fools D_X",
            Box::new(|t| ls(&cg.dx.forward(&cg.f.forward(&c(t, &yt))), 1.0)),
        ),
        (
            "λ|F(G(x)) − x|            x's cycle",
            Box::new(|t| {
                let xv = c(t, &xt);
                l1(&cg.f.forward(&cg.g.forward(&xv)), &xv, Reduction::Mean).mul_scalar(lam)
            }),
        ),
        (
            "λ|G(F(y)) − y|            y's cycle",
            Box::new(|t| {
                let yv = c(t, &yt);
                l1(&cg.g.forward(&cg.f.forward(&yv)), &yv, Reduction::Mean).mul_scalar(lam)
            }),
        ),
        (
            "½λ|G(y) − y|              G leaves Y alone",
            Box::new(|t| {
                let yv = c(t, &yt);
                l1(&cg.g.forward(&yv), &yv, Reduction::Mean).mul_scalar(0.5 * lam)
            }),
        ),
        (
            "½λ|F(x) − x|              F leaves X alone",
            Box::new(|t| {
                let xv = c(t, &xt);
                l1(&cg.f.forward(&xv), &xv, Reduction::Mean).mul_scalar(0.5 * lam)
            }),
        ),
    ];
    let _ = writeln!(
        w,
        "G and F's loss, term by term (with λ = {lam}); the gradient norm each term sends to each network:"
    );
    // D_X and D_Y are frozen during this update, as in the method
    let frozen = nn::Frozen::new(&[&cg.dx, &cg.dy]);
    let mut total = 0.0;
    for (name, f) in &terms {
        let (v, r) = reach(f.as_ref());
        total += v;
        let _ = writeln!(w, "  {name:<42} = {v:.6}   → {r}");
    }
    drop(frozen);
    let _ = writeln!(w, "  {:<42} = {total:.6}\n", "sum");
    let _ = writeln!(
        w,
        "The discriminators (each frozen G and F's output is a constant here; the history pool\nhands back this batch's images while it fills):"
    );
    for (name, d, real, fake) in [
        ("½[(D_Y(y) − 1)² + D_Y(G(x))²]", &cg.dy, &yt, "G"),
        ("½[(D_X(x) − 1)² + D_X(F(y))²]", &cg.dx, &xt, "F"),
    ] {
        let (v, r) = reach(&|t: &Tape| {
            let gen = if fake == "G" {
                crate::method::apply(&cg.g, &xt)
            } else {
                crate::method::apply(&cg.f, &yt)
            };
            ls(&d.forward(&c(t, real)), 1.0)
                .add(&ls(&d.forward(&c(t, &gen)), 0.0))
                .mul_scalar(0.5)
        });
        let _ = writeln!(w, "  {name:<42} = {v:.6}   → {r}");
    }
    drop(terms);
    let rec = cg.step(&data).expect("the step trains without NaN");
    let g = |k: &str| rec.get(k).unwrap_or(f64::NAN);
    let step_total = g("gan_g")
        + g("gan_f")
        + lam * (g("cycle_x") + g("cycle_y"))
        + 0.5 * lam * (g("identity_y") + g("identity_x"));
    let _ = writeln!(
        w,
        "\nThe method's own step on the same draws: G and F's loss {step_total:.6}, D_Y's {:.6}, D_X's {:.6}.",
        g("d_y"),
        g("d_x")
    );
    let _ = writeln!(
        w,
        "The cycle terms reach both generators (x goes through G then F); each GAN term reaches one\ngenerator and passes through its frozen D; no term of G and F's loss reaches a discriminator."
    );
    out
}

/// `minimax explain latent`: one iteration of the latent-space method with every fix on
/// (shared layers, a code discriminator through the gradient-reversal layer, the latent cycle,
/// semantic consistency) on four printed and four handwritten digits: every term with its live
/// value and the networks its gradient reaches, then the reversal seen as a sign flip, then the
/// method's own step on the same draws.
pub fn explain_latent(seed: u64) -> String {
    use crate::data::DataSpec;
    use crate::method::Method;
    use crate::methods::latent::{code_loss, CodeDiscriminator, Latent, LatentConfig, X, Y};
    use autograd::{Tape, Var};
    use nn::loss::{kl_normal, l1, smooth_l1, Reduction};
    use nn::Module;

    let data = DataSpec::parse("printed8+digits")
        .expect("a data name")
        .open()
        .expect("the embedded digits open");
    let cfg = LatentConfig {
        batch: 4,
        code: 4,
        channels: 4,
        hidden: 16,
        share_layers: true,
        latent_d: CodeDiscriminator::Reversal,
        latent_cycle: true,
        semantic: true,
        ..LatentConfig::default()
    };
    let cfg2 = cfg.clone();
    let mut lat = Latent::new(cfg, seed).expect("valid optimizer settings");
    let (x, y) = data.unpaired(4, &mut lat.rng().clone());
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "One iteration of a common latent space, live: X = printed digits, Y = handwritten digits,\nunpaired batches of 4, codes of 4 dimensions, every fix on. Enc_X and Enc_Y keep their own\nfirst layer and share the rest (Enc_shared); Dec_X and Dec_Y share their first layers\n(Dec_shared) and keep their own last one. Terms below use the mean codes μ (ε = 0).\n"
    );
    let c_net = lat.code_disc.as_ref().expect("a code discriminator");
    let nets: Vec<(&str, &dyn Module)> = vec![
        ("Enc_X", &lat.enc_low[X]),
        ("Enc_Y", &lat.enc_low[Y]),
        ("Enc_shared", &lat.enc_high[0]),
        ("Dec_shared", &lat.dec_high[0]),
        ("Dec_X", &lat.dec_low[X]),
        ("Dec_Y", &lat.dec_low[Y]),
        ("D_X", &lat.disc[X]),
        ("D_Y", &lat.disc[Y]),
        ("C", c_net),
    ];
    let reach = |term: &dyn Fn(&Tape) -> Var| -> (f64, String) {
        let (v, norms) = gradient_reach(&nets, term);
        let parts: Vec<String> = norms
            .iter()
            .filter(|(_, g)| *g > 0.0)
            .map(|(name, g)| format!("{name} {g:.1e}"))
            .collect();
        (v, parts.join(", "))
    };
    let c = |t: &Tape, v: &Tensor| t.constant(v.clone());
    let ls = |s: &Var, t: f64| s.add_scalar(-t).square().mean_all();
    let l = &lat;
    let (xt, yt) = (x.clone(), y.clone());
    let mu = |t: &Tape, k: usize| l.encode_var(&c(t, if k == X { &xt } else { &yt }), k).0;
    let terms: Vec<(String, Box<dyn Fn(&Tape) -> Var + '_>)> = vec![
        (
            format!("{} |Dec_X(μ_X) − x|", cfg2.lambda_rec),
            Box::new(|t| {
                l1(&l.decode_var(&mu(t, X), X), &c(t, &xt), Reduction::Mean)
                    .mul_scalar(cfg2.lambda_rec)
            }),
        ),
        (
            format!("{} KL(μ_X, σ_X)", cfg2.lambda_kl),
            Box::new(|t| {
                let (m, lv) = l.encode_var(&c(t, &xt), X);
                kl_normal(&m, &lv, Reduction::Mean).mul_scalar(cfg2.lambda_kl)
            }),
        ),
        (
            "(D_X(Dec_X(μ_X)) − 1)²".into(),
            Box::new(|t| ls(&l.disc[X].forward(&l.decode_var(&mu(t, X), X)), 1.0)),
        ),
        (
            "(D_Y(Dec_Y(μ_X)) − 1)²   translation".into(),
            Box::new(|t| ls(&l.disc[Y].forward(&l.decode_var(&mu(t, X), Y)), 1.0)),
        ),
        (
            format!("{} SmoothL1(Dec_X(μ_Y(Dec_Y(μ_X))), x)", cfg2.lambda_cycle),
            Box::new(|t| {
                let across = l.decode_var(&mu(t, X), Y);
                let back = l.decode_var(&l.encode_var(&across, Y).0, X);
                smooth_l1(&back, &c(t, &xt), 1.0, Reduction::Mean).mul_scalar(cfg2.lambda_cycle)
            }),
        ),
        (
            format!("{} |μ_Y(Dec_Y(μ_X)) − μ_X|", cfg2.lambda_sem),
            Box::new(|t| {
                let m = mu(t, X);
                let across = l.decode_var(&m, Y);
                l1(&l.encode_var(&across, Y).0, &m, Reduction::Mean).mul_scalar(cfg2.lambda_sem)
            }),
        ),
        (
            "L_C(C(R(μ_X)), C(R(μ_Y)))   reversal".into(),
            Box::new(|t| code_loss(c_net, &mu(t, X), &mu(t, Y), Some(cfg2.lambda_dom))),
        ),
    ];
    let _ = writeln!(
        w,
        "X's terms of the encoders' and decoders' loss (Y's are the mirror image), and the gradient\nnorm each sends to each network (D_X, D_Y frozen; C is trained by the same step):"
    );
    let frozen = nn::Frozen::new(&[&lat.disc[X], &lat.disc[Y]]);
    for (name, f) in &terms {
        let (v, r) = reach(f.as_ref());
        let _ = writeln!(w, "  {name:<44} = {v:>9.5}   → {r}");
    }
    drop(frozen);
    // the sign flip: L_C's gradient on the shared encoder's last bias, plain and reversed
    let last_bias = |reverse: Option<f64>| -> (Vec<f64>, Vec<f64>) {
        for (_, n) in &nets {
            n.zero_grad();
        }
        let tape = Tape::new();
        code_loss(c_net, &mu(&tape, X), &mu(&tape, Y), reverse).backward();
        let grad = |m: &dyn Module| {
            let p = m.params();
            let b = p.last().expect("a bias");
            b.grad().map(|g| g.to_vec_f64()).unwrap_or_default()
        };
        let (e, cg) = (grad(&lat.enc_high[0]), grad(c_net));
        for (_, n) in &nets {
            n.zero_grad();
        }
        (e, cg)
    };
    let (plain, c_plain) = last_bias(None);
    let (rev, c_rev) = last_bias(Some(1.0));
    let head = |v: &[f64]| {
        v.iter()
            .take(4)
            .map(|g| format!("{g:+.3e}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let _ = writeln!(
        w,
        "\nThe gradient-reversal layer R is the identity forwards and multiplies the gradient by −λ\nbackwards. L_C's gradient on Enc_shared's last bias (μ's first 4 entries):\n  without R: {}\n  through R: {}   ← the same numbers, signs flipped: the encoders climb L_C\nand on C's last bias: {} without R, {} through R: C still descends L_C.",
        head(&plain),
        head(&rev),
        head(&c_plain),
        head(&c_rev)
    );
    drop(terms);
    let rec = lat.step(&data).expect("the step trains without NaN");
    let g = |k: &str| rec.get(k).unwrap_or(f64::NAN);
    let _ = writeln!(
        w,
        "\nThe method's own step on the same draws (with sampled codes z = μ + σ ⊙ ε, both domains):\n  reconstruction X {:.5}, Y {:.5}; KL X {:.4}, Y {:.4}; translation GAN {:.5}; cycle {:.5};\n  semantic {:.5}; code discriminator {:.5}; D_X {:.5}, D_Y {:.5}.",
        g("rec_x"),
        g("rec_y"),
        g("kl_x"),
        g("kl_y"),
        g("translation_gan"),
        g("cycle"),
        g("semantic"),
        g("code_d"),
        g("d_x"),
        g("d_y")
    );
    let _ = writeln!(
        w,
        "Every term reaches the shared layers; the reconstruction of X never reaches Enc_Y or Dec_Y,\nthe translation reaches Dec_Y and the cycle both decoders."
    );
    out
}
