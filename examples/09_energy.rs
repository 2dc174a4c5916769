//! 09 — the tutorial's discriminator alone as an energy function, trained iteratively on the ring of 8:
//! each round the negatives are T steps of gradient ascent x ← x + η∇ₓD(x) on the current D,
//! then D is updated to score the data above them. Prints E D(x), E D(x̃), the negatives'
//! distance to the nearest mode and their mode report every tenth of the run, then samples
//! 2,500 points from fresh noise with several T to show the cost of the argmax.
//!
//! Run: `cargo run --release --example 09_energy [-- ROUNDS SEED T START]`
//! (START: `persistent` (default) or `noise`; ETA, LAMBDA, RESTART, LR, HIDDEN, BATCH, RANGE in
//! the environment override the defaults).

use gan::data::Ring8;
use gan::methods::energy::{EnergyConfig, EnergyModel, EnergyRecord, Start};
use gan::metrics::Modes;
use std::time::Instant;
use tensor::Rng;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() {
    minimax::quiet_broken_pipes();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let d = EnergyConfig::default();
    let rounds: usize = args
        .first()
        .and_then(|s| s.parse().ok())
        .unwrap_or(d.rounds);
    let seed: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let t: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(d.t);
    let start = match args.get(3).map(String::as_str) {
        Some("noise") => Start::Noise,
        _ => Start::Persistent,
    };
    let cfg = EnergyConfig {
        rounds,
        t,
        start,
        eta: env("ETA", d.eta),
        penalty: env("LAMBDA", d.penalty),
        restart: env("RESTART", d.restart),
        lr: env("LR", d.lr),
        hidden: env("HIDDEN", d.hidden),
        batch: env("BATCH", d.batch),
        init_range: env("RANGE", d.init_range),
        clamp: env("CLAMP", d.clamp),
        ..d
    };
    println!("{cfg:?}");
    let data = Ring8::new();
    let modes = Modes::ring8();
    let t0 = Instant::now();
    let (mut ascent, mut total) = (0.0, 0.0);
    let mut em = EnergyModel::mlp(2, cfg.clone(), seed).expect("optimizer");
    let mut on = |r: &EnergyRecord| {
        ascent += r.ascent_seconds;
        total += r.seconds;
        if r.round.is_multiple_of((rounds / 10).max(1)) || r.round == 1 {
            println!(
                "round {:4}  E D(x) {:+.3}  E D(x̃⁰) {:+.3} → E D(x̃) {:+.3}  dist x̃⁰ {:.3} → x̃ {:.3}  {}  {:.2} ms/round",
                r.round,
                r.d_real,
                r.d_start,
                r.d_neg,
                r.start_mode_dist,
                r.neg_mode_dist,
                r.modes,
                1e3 * r.seconds
            );
        }
    };
    for _ in 0..rounds {
        let r = em.round(&data, &modes).expect("training");
        on(&r);
    }
    println!(
        "{rounds} rounds in {:.1} s ({:.2} ms/round, {:.0} % of it in the ascent); {} gradient evaluations ∇ₓD",
        t0.elapsed().as_secs_f64(),
        1e3 * total / rounds as f64,
        100.0 * ascent / total,
        em.total_grad_evals
    );
    println!(
        "sampling 2,500 points from fresh noise U(−{0}, {0})² with the trained D:",
        cfg.init_range
    );
    for ts in [0, 5, 10, 20, 50, 100, 200] {
        let t1 = Instant::now();
        let (x, evals) = em.sample_with(2500, &[2], ts, &mut Rng::seed(99));
        let secs = t1.elapsed().as_secs_f64();
        println!(
            "  T = {ts:3}: dist {:.3}  {}  {evals} gradient evaluations, {:.1} ms",
            modes.mean_distance(&x),
            modes.report(&x),
            1e3 * secs
        );
    }
}
