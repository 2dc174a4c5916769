//! Several modules as one: `Group` (one checkpoint), `params_of` (one optimizer), `Frozen` (one
//! freeze), and `compute_gradients` (the tape gone before the optimizer step).

use autograd::Tape;
use minimax_nn::optim::{compute_gradients, Optimizer, Sgd, SgdConfig};
use minimax_nn::{
    load_checkpoint, params_of, save_checkpoint, Extras, Frozen, Group, Linear, Module,
};
use tensor::Rng;

fn two() -> (Linear, Linear) {
    let mut rng = Rng::seed(3);
    (
        Linear::new(2, 3, true, &mut rng),
        Linear::new(3, 1, false, &mut rng),
    )
}

#[test]
fn a_group_names_each_module_and_round_trips_through_a_checkpoint() {
    let (g, d) = two();
    let group = Group::new(&[("gen", &g), ("disc", &d)]);
    let names: Vec<String> = group.named_params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["gen.weight", "gen.bias", "disc.weight"]);
    let path = std::env::temp_dir().join(format!("group-{}.safetensors", std::process::id()));
    save_checkpoint(&path, &group, &Extras::new()).unwrap();
    let (g2, d2) = {
        let mut rng = Rng::seed(99);
        (
            Linear::new(2, 3, true, &mut rng),
            Linear::new(3, 1, false, &mut rng),
        )
    };
    load_checkpoint(&path, &Group::new(&[("gen", &g2), ("disc", &d2)])).unwrap();
    assert_eq!(
        g.params()[0].value().to_vec_f32(),
        g2.params()[0].value().to_vec_f32()
    );
    assert_eq!(
        d.params()[0].value().to_vec_f32(),
        d2.params()[0].value().to_vec_f32()
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
#[should_panic(expected = "Group::new: the name 'gen' is used twice")]
fn a_group_refuses_a_name_twice() {
    let (g, d) = two();
    let _ = Group::new(&[("gen", &g), ("gen", &d)]);
}

#[test]
#[should_panic(expected = "a group of modules (gen, disc) has no forward pass")]
fn a_group_has_no_forward_pass() {
    let (g, d) = two();
    let group = Group::new(&[("gen", &g), ("disc", &d)]);
    let tape = Tape::new();
    let _ = group.forward(&tape.constant(tensor::Tensor::zeros([1, 2], tensor::DType::F32)));
}

#[test]
fn one_optimizer_steps_every_module_of_params_of() {
    let (g, d) = two();
    let named = params_of(&[("g", &g), ("d", &d)]);
    let names: Vec<&str> = named.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["g.weight", "g.bias", "d.weight"]);
    let mut opt = Sgd::new(named, SgdConfig::default().lr(0.1)).unwrap();
    let before: Vec<Vec<f32>> = [&g.params()[0], &d.params()[0]]
        .iter()
        .map(|p| p.value().to_vec_f32())
        .collect();
    compute_gradients(&opt, |tape| {
        let x = tape.constant(tensor::Tensor::ones([4, 2], tensor::DType::F32));
        let y = d.forward(&g.forward(&x)).square().mean_all();
        Ok::<_, ()>((y, ()))
    })
    .unwrap();
    let report = opt.step().unwrap();
    assert_eq!(report.updated, 3);
    assert_ne!(g.params()[0].value().to_vec_f32(), before[0]);
    assert_ne!(d.params()[0].value().to_vec_f32(), before[1]);
}

#[test]
fn frozen_freezes_for_its_scope_and_restores_each_parameters_own_setting() {
    let (g, d) = two();
    // a user froze g's bias on purpose: it must stay frozen afterwards
    g.params()[1].set_requires_grad(false);
    {
        let _f = Frozen::new(&[&g, &d]);
        assert!(g
            .params()
            .iter()
            .chain(&d.params())
            .all(|p| !p.requires_grad()));
    }
    assert!(g.params()[0].requires_grad());
    assert!(!g.params()[1].requires_grad());
    assert!(d.params()[0].requires_grad());
    // also when the scope is left by a panic
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _f = Frozen::new(&[&d]);
        panic!("inside the frozen scope");
    }));
    assert!(r.is_err());
    assert!(d.params()[0].requires_grad());
    // a module listed twice is restored to its original setting, not to "frozen"
    {
        let _f = Frozen::new(&[&d, &d]);
    }
    assert!(d.params()[0].requires_grad());
}

#[test]
fn compute_gradients_leaves_no_tape_so_the_step_updates_in_place() {
    let (g, _) = two();
    let mut opt = Sgd::new(g.named_params(), SgdConfig::default().lr(0.1)).unwrap();
    let w = g.params()[0].clone();
    let before = w.value();
    let loss = compute_gradients(&opt, |tape| {
        let x = tape.constant(tensor::Tensor::ones([4, 2], tensor::DType::F32));
        let y = g.forward(&x).square().mean_all();
        let v = y.item();
        Ok::<_, ()>((y, v))
    })
    .unwrap();
    assert!(loss > 0.0);
    let grad = w.grad().expect("the gradient reached the weight");
    drop(before); // our own copy of the value would force a copy too
    let ptr = w.value().as_slice::<f32>().as_ptr();
    let old = w.value().to_vec_f32();
    opt.step().unwrap();
    let new = w.value();
    assert_eq!(
        new.as_slice::<f32>().as_ptr(),
        ptr,
        "the update copied the weight: something still holds it"
    );
    let g = grad.to_vec_f32();
    for ((n, o), gi) in new.to_vec_f32().iter().zip(&old).zip(&g) {
        assert!((n - (o - 0.1 * gi)).abs() < 1e-6);
    }
}

#[test]
fn an_error_in_the_closure_back_propagates_nothing() {
    let (g, _) = two();
    let opt = Sgd::new(g.named_params(), SgdConfig::default()).unwrap();
    let r: Result<(), &str> = compute_gradients(&opt, |tape| {
        let x = tape.constant(tensor::Tensor::ones([1, 2], tensor::DType::F32));
        let _y = g.forward(&x).sum_all();
        Err("refused")
    });
    assert_eq!(r, Err("refused"));
    assert!(g.params().iter().all(|p| p.grad().is_none()));
}
