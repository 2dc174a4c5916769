//! 01 — backpropagation on a tiny expression, shown three ways.
//!
//! L = σ(a·b + c) with a = 2, b = −3, c = 10. Prints the tape as a table (values and, after
//! backward, gradients), the step-by-step backward trace with the rule each op applies, and
//! the graph in Graphviz DOT (pipe it to `dot -Tpng`).
//!
//! Run: `cargo run --release --example 01_autograd`

use autograd::Tape;
use tensor::Tensor;

fn main() {
    minimax::quiet_broken_pipes();
    let tape = Tape::new();
    let a = tape.leaf(Tensor::from_vec(vec![2.0f64], [1])).named("a");
    let b = tape.leaf(Tensor::from_vec(vec![-3.0f64], [1])).named("b");
    let c = tape.leaf(Tensor::from_vec(vec![10.0f64], [1])).named("c");
    let e = (&a * &b).named("e");
    let d = (&e + &c).named("d");
    let l = d.sigmoid().sum_all().named("L");

    println!("L = σ(a·b + c) = {:.6}\n", l.item());
    println!(
        "Step-by-step backward (each node: the gradient arriving, the rule, what it sends):\n"
    );
    print!("{}", l.backward_trace().expect("finite gradients"));
    println!("\nThe tape after backward:\n");
    print!("{tape}");
    let s = l.item();
    println!(
        "\nBy hand: ∂L/∂d = σ(d)(1−σ(d)) = {:.6}; ∂L/∂a = ∂L/∂d · b = {:.6}; ∂L/∂b = ∂L/∂d · a = {:.6}",
        s * (1.0 - s),
        s * (1.0 - s) * -3.0,
        s * (1.0 - s) * 2.0
    );
    println!(
        "From the tape: ∂L/∂a = {:.6}, ∂L/∂b = {:.6}, ∂L/∂c = {:.6}",
        a.grad().unwrap().item(),
        b.grad().unwrap().item(),
        c.grad().unwrap().item()
    );
    println!("\nGraphviz:\n{}", tape.to_dot());
}
