//! `Embedding`: a lookup table of learned vectors (class-conditional GANs embed labels).

use super::param_var;
use crate::Module;
use autograd::{Param, Var};
use tensor::{DType, Rng, Tensor};

/// A table of `num_embeddings` vectors of size `embedding_dim`, like `torch.nn.Embedding`.
///
/// `weight`: `[num_embeddings, embedding_dim]`, N(0, 1) (PyTorch's default). The input holds
/// class indices as integral values (any dtype; its gradient is not defined), of any shape `S`;
/// the output is `S + [embedding_dim]` (`[N]` → `[N, dim]`), computed with `index_select`, so
/// the weight's gradient adds up the rows that were used. Cloning shares the weight.
#[derive(Clone, Debug)]
pub struct Embedding {
    /// `[num_embeddings, embedding_dim]`.
    pub weight: Param,
}

impl Embedding {
    /// A table with N(0, 1) entries drawn from `rng`.
    pub fn new(num_embeddings: usize, embedding_dim: usize, rng: &mut Rng) -> Embedding {
        let w = Tensor::randn([num_embeddings, embedding_dim], 0.0, 1.0, DType::F32, rng);
        Embedding {
            weight: Param::new("weight", w),
        }
    }

    /// A table using the given weight `[num_embeddings, embedding_dim]`.
    #[track_caller]
    pub fn from_weight(weight: Param) -> Embedding {
        assert!(
            weight.value().ndim() == 2,
            "Embedding::from_weight: weight must be [num_embeddings, embedding_dim], got {:?}",
            weight.value().shape()
        );
        Embedding { weight }
    }

    /// Number of rows.
    pub fn num_embeddings(&self) -> usize {
        self.weight.value().dims()[0]
    }

    /// Size of each vector.
    pub fn embedding_dim(&self) -> usize {
        self.weight.value().dims()[1]
    }
}

impl Module for Embedding {
    fn forward(&self, x: &Var) -> Var {
        let n = self.num_embeddings();
        let idx: Vec<usize> = x
            .value()
            .to_vec_f64()
            .into_iter()
            .map(|v| {
                assert!(
                    v.fract() == 0.0 && v >= 0.0 && (v as usize) < n,
                    "Embedding: index {v} is not an integer in 0..{n}"
                );
                v as usize
            })
            .collect();
        let rows = param_var(x, &self.weight).index_select(0, &idx);
        let mut out = x.dims().to_vec();
        out.push(self.embedding_dim());
        rows.reshape(out)
    }

    fn describe(&self) -> String {
        format!(
            "Embedding({}, {})",
            self.num_embeddings(),
            self.embedding_dim()
        )
    }

    fn own_params(&self) -> Vec<(String, Param)> {
        vec![("weight".to_string(), self.weight.clone())]
    }

    crate::as_dyn!();
}
