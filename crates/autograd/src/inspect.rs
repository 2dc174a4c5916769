//! Looking inside: the tape as a table, as Graphviz DOT, and a step-by-step backward trace.

use crate::backward::{AutogradError, Step};
use crate::tape::{Input, LeafKind, Tape, Var};
use std::fmt::{self, Write};
use tensor::Tensor;

fn stats(t: &Tensor) -> String {
    let v = t.to_vec_f64();
    if v.is_empty() {
        return "(empty)".into();
    }
    if v.len() == 1 {
        return format!("{:.4}", v[0]);
    }
    let min = v.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    format!("{min:.4}/{mean:.4}/{max:.4}")
}

fn node_name(tape: &Tape, i: usize) -> String {
    let d = tape.0.borrow();
    let n = &d.nodes[i];
    match (&n.label, &n.leaf) {
        (Some(l), LeafKind::Param(_)) => format!("param {l}"),
        (Some(l), _) => format!("{} {l}", n.op.name()),
        (None, LeafKind::Input) => "input".to_string(),
        (None, _) => n.op.name().to_string(),
    }
}

impl fmt::Display for Tape {
    /// The tape as a table: index, op, inputs (`#i` for nodes, `const` for constants), output
    /// shape, dtype, value min/mean/max, and the gradient's after a backward pass.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>4}  {:<22} {:<16} {:<14} {:<8} {:<30} grad min/mean/max",
            "#", "op", "inputs", "shape", "dtype", "value min/mean/max"
        )?;
        let n = self.len();
        for i in 0..n {
            let name = node_name(self, i);
            let d = self.0.borrow();
            let node = &d.nodes[i];
            let inputs = node
                .inputs
                .iter()
                .map(|x| match x.id() {
                    Some(j) => format!("#{j}"),
                    None => "const".to_string(),
                })
                .collect::<Vec<_>>()
                .join(",");
            let grad = d
                .grads
                .get(i)
                .and_then(|g| g.as_ref())
                .map(stats)
                .unwrap_or_else(|| "-".into());
            writeln!(
                f,
                "{:>4}  {:<22} {:<16} {:<14} {:<8} {:<30} {}",
                i,
                name,
                inputs,
                format!("{:?}", node.value.shape()),
                node.value.dtype().name(),
                stats(&node.value),
                grad
            )?;
        }
        Ok(())
    }
}

impl Tape {
    /// The graph in Graphviz DOT: one box per node (op, shape, value), constants as grey
    /// ellipses, edges from inputs to the ops that use them.
    pub fn to_dot(&self) -> String {
        let mut s = String::from(
            "digraph tape {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
        );
        let n = self.len();
        for i in 0..n {
            let name = node_name(self, i);
            let d = self.0.borrow();
            let node = &d.nodes[i];
            let grad = d
                .grads
                .get(i)
                .and_then(|g| g.as_ref())
                .map(|g| format!("\\ngrad {}", stats(g)))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  n{i} [label=\"#{i} {name}\\n{:?}\\n{}{grad}\"{}];",
                node.value.shape(),
                stats(&node.value),
                if matches!(node.leaf, LeafKind::None) {
                    ""
                } else {
                    ", style=filled, fillcolor=lightblue"
                }
            );
            for (k, x) in node.inputs.iter().enumerate() {
                match x {
                    Input::Node(j) => {
                        let _ = writeln!(s, "  n{j} -> n{i};");
                    }
                    Input::Constant(t) => {
                        let _ = writeln!(
                            s,
                            "  c{i}_{k} [label=\"const {:?}\\n{}\", shape=ellipse, style=filled, fillcolor=grey90];\n  c{i}_{k} -> n{i};",
                            t.shape(),
                            stats(t)
                        );
                    }
                }
            }
        }
        s.push_str("}\n");
        s
    }
}

impl Var {
    /// Runs backward from this value and returns a line-by-line account: for each node, the
    /// gradient arriving at it, the rule applied, and what it passes to each input.
    pub fn backward_trace(&self) -> Result<String, AutogradError> {
        let mut out = String::new();
        let tape = self.tape.clone();
        let mut hook = |s: &Step<'_>| {
            let name = node_name(&tape, s.index);
            let _ = writeln!(
                out,
                "#{} {}: incoming ∂L/∂out = {}",
                s.index,
                name,
                short(s.grad)
            );
            let _ = writeln!(out, "    rule: {}", s.op.rule());
            for (k, g) in s.input_grads.iter().enumerate() {
                if let (Some(g), Some(j)) = (g, s.input_ids[k]) {
                    let _ = writeln!(out, "    → #{j} receives {}", short(&g.value));
                }
            }
        };
        self.backward_with_hook(&mut hook)?;
        Ok(out)
    }
}

fn short(t: &Tensor) -> String {
    if t.numel() <= 6 {
        let v: Vec<String> = t.to_vec_f64().iter().map(|x| format!("{x:.4}")).collect();
        if t.ndim() == 0 {
            v[0].clone()
        } else {
            format!("[{}] {:?}", v.join(", "), t.shape())
        }
    } else {
        format!("{:?} min/mean/max {}", t.shape(), stats(t))
    }
}
