//! Learning-rate schedules: a function of the epoch, and a counter.
//!
//! A schedule computes the learning rate in closed form from the epoch ([`LrSchedule::lr_at`]),
//! so the value is exact and does not drift with repeated multiplication, and a resumed run
//! only needs the epoch counter back (saved with the optimizer in a checkpoint, see
//! [`Extras::schedule`](crate::checkpoint::Extras::schedule)).
//!
//! Usage follows PyTorch: call [`LrSchedule::step`] once at the end of each epoch.
//!
//! ```
//! use minimax_nn::optim::{Adam, AdamConfig, Optimizer};
//! use minimax_nn::schedule::{LinearDecay, LrSchedule};
//! use minimax_nn::Param;
//! use tensor::{DType, Tensor};
//!
//! let p = Param::new("w", Tensor::zeros([2], DType::F32));
//! let mut opt = Adam::new(vec![p], AdamConfig::default().lr(2e-4)).unwrap();
//! // CycleGAN: 100 epochs at 2e-4, then linearly towards 0 over 100 more
//! let mut sched = LinearDecay::new(opt.lr(), 100, 100);
//! for _epoch in 0..200 {
//!     // ... train one epoch ...
//!     sched.step(&mut opt);
//! }
//! assert_eq!(opt.lr(), 0.0);
//! ```

use crate::format::{RawDType, RawTensor};
use crate::optim::{OptimError, OptimErrorKind, Optimizer};

/// A learning-rate schedule.
pub trait LrSchedule {
    /// Short lower-case name used in state keys and messages (`"steplr"`).
    fn kind(&self) -> &'static str;
    /// The learning rate for epoch `epoch` (0 is the first).
    fn lr_at(&self, epoch: usize) -> f64;
    /// The current epoch (0 until the first [`LrSchedule::step`]).
    fn epoch(&self) -> usize;
    /// Sets the epoch counter (what restoring a checkpoint does).
    fn set_epoch(&mut self, epoch: usize);

    /// The learning rate for the current epoch.
    fn lr(&self) -> f64 {
        self.lr_at(self.epoch())
    }
    /// Sets the optimizer's learning rate to the current epoch's.
    fn apply(&self, opt: &mut dyn Optimizer) {
        opt.set_lr(self.lr());
    }
    /// Advances to the next epoch and sets the optimizer's learning rate for it.
    fn step(&mut self, opt: &mut dyn Optimizer) {
        self.set_epoch(self.epoch() + 1);
        self.apply(opt);
    }
    /// The state to save: `"epoch"`, an I64 scalar.
    fn state_tensors(&self) -> Vec<(String, RawTensor)> {
        vec![(
            "epoch".to_string(),
            RawTensor::from_i64(&[], &[self.epoch() as i64]),
        )]
    }
    /// Restores what [`LrSchedule::state_tensors`] returned (changes nothing on error).
    fn load_state_tensors(&mut self, state: &[(String, RawTensor)]) -> Result<(), OptimError> {
        let err = |m: String| OptimError::new(OptimErrorKind::InvalidState, self.kind(), None, m);
        let Some((_, raw)) = state.iter().find(|(k, _)| k == "epoch") else {
            return Err(err("the saved state has no 'epoch'".into()));
        };
        let v = raw.to_i64_vec();
        if raw.dtype != RawDType::I64
            || !raw.shape.is_empty()
            || raw.validate().is_err()
            || v[0] < 0
        {
            return Err(err(format!(
                "'epoch' must be a non-negative I64 scalar (found {} {:?})",
                raw.dtype, raw.shape
            )));
        }
        if let Some((k, _)) = state.iter().find(|(k, _)| k != "epoch") {
            return Err(err(format!("unexpected saved state '{k}'")));
        }
        self.set_epoch(v[0] as usize);
        Ok(())
    }
}

/// PyTorch's `StepLR`: the learning rate times `gamma` every `step_size` epochs,
/// lr(e) = base_lr · gamma^⌊e / step_size⌋ (PyTorch's closed form).
#[derive(Clone, Debug, PartialEq)]
pub struct StepLr {
    /// The learning rate of epoch 0.
    pub base_lr: f64,
    /// Epochs between decays.
    pub step_size: usize,
    /// Multiplicative factor of each decay.
    pub gamma: f64,
    epoch: usize,
}

impl StepLr {
    /// A schedule at epoch 0. Panics if `step_size` is 0.
    #[track_caller]
    pub fn new(base_lr: f64, step_size: usize, gamma: f64) -> StepLr {
        assert!(step_size > 0, "StepLr: step_size must be positive");
        StepLr {
            base_lr,
            step_size,
            gamma,
            epoch: 0,
        }
    }
}

impl LrSchedule for StepLr {
    fn kind(&self) -> &'static str {
        "steplr"
    }
    fn lr_at(&self, epoch: usize) -> f64 {
        let k = epoch / self.step_size;
        self.base_lr * self.gamma.powf(k as f64)
    }
    fn epoch(&self) -> usize {
        self.epoch
    }
    fn set_epoch(&mut self, epoch: usize) {
        self.epoch = epoch;
    }
}

/// CycleGAN's `linear` policy: constant for `n_constant` epochs, then linear decay towards 0
/// over `n_decay` epochs:
///
/// lr(e) = base_lr · (1 − max(0, e + 1 − n_constant) / (n_decay + 1)), and 0 from
/// e = n_constant + n_decay on.
///
/// This is the reference code's `lambda_rule` (with its default `epoch_count = 1`): epochs
/// 0 … n_constant − 1 run at `base_lr`, the last training epoch n_constant + n_decay − 1 at
/// base_lr / (n_decay + 1), and the rate reaches 0 just after training ends.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearDecay {
    /// The constant learning rate of the first phase.
    pub base_lr: f64,
    /// Epochs at `base_lr` (CycleGAN's `n_epochs`, 100).
    pub n_constant: usize,
    /// Epochs of linear decay (CycleGAN's `n_epochs_decay`, 100).
    pub n_decay: usize,
    epoch: usize,
}

impl LinearDecay {
    /// A schedule at epoch 0.
    pub fn new(base_lr: f64, n_constant: usize, n_decay: usize) -> LinearDecay {
        LinearDecay {
            base_lr,
            n_constant,
            n_decay,
            epoch: 0,
        }
    }
}

impl LrSchedule for LinearDecay {
    fn kind(&self) -> &'static str {
        "lineardecay"
    }
    fn lr_at(&self, epoch: usize) -> f64 {
        let past = (epoch + 1).saturating_sub(self.n_constant);
        let factor = 1.0 - past as f64 / (self.n_decay + 1) as f64;
        self.base_lr * factor.max(0.0)
    }
    fn epoch(&self) -> usize {
        self.epoch
    }
    fn set_epoch(&mut self, epoch: usize) {
        self.epoch = epoch;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{Sgd, SgdConfig};
    use autograd::Param;
    use tensor::{DType, Tensor};

    #[test]
    fn step_lr_exact_values() {
        let s = StepLr::new(1.0, 2, 0.5);
        let got: Vec<f64> = (0..7).map(|e| s.lr_at(e)).collect();
        assert_eq!(got, vec![1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125]);
        let s = StepLr::new(0.1, 30, 0.1);
        assert_eq!(s.lr_at(29), 0.1);
        assert_eq!(s.lr_at(30), 0.1 * 0.1);
        assert_eq!(s.lr_at(65), 0.1 * 0.1f64.powf(2.0));
    }

    #[test]
    fn linear_decay_exact_values() {
        // 3 constant epochs, then 3 decay epochs: factors 1, 1, 1, 3/4, 2/4, 1/4, 0, 0
        let s = LinearDecay::new(0.5, 3, 3);
        let got: Vec<f64> = (0..8).map(|e| s.lr_at(e)).collect();
        assert_eq!(got, vec![0.5, 0.5, 0.5, 0.375, 0.25, 0.125, 0.0, 0.0]);
        // CycleGAN's defaults: lambda_rule(epoch) = 1 - max(0, epoch + 1 - 100) / 101
        let s = LinearDecay::new(2e-4, 100, 100);
        assert_eq!(s.lr_at(99), 2e-4);
        assert_eq!(s.lr_at(100), 2e-4 * (1.0 - 1.0 / 101.0));
        assert_eq!(s.lr_at(199), 2e-4 * (1.0 - 100.0 / 101.0));
        assert_eq!(s.lr_at(200), 0.0);
    }

    #[test]
    fn step_sets_the_optimizer_lr_and_state_round_trips() {
        let p = Param::new("w", Tensor::zeros([1], DType::F64));
        let mut opt = Sgd::new(vec![p], SgdConfig::default().lr(1.0)).unwrap();
        let mut s = StepLr::new(1.0, 1, 0.5);
        s.step(&mut opt);
        s.step(&mut opt);
        assert_eq!((s.epoch(), opt.lr()), (2, 0.25));
        let saved = s.state_tensors();
        let mut fresh = StepLr::new(1.0, 1, 0.5);
        fresh.load_state_tensors(&saved).unwrap();
        assert_eq!(fresh.epoch(), 2);
        let bad = vec![("epoch".to_string(), RawTensor::from_i64(&[], &[-1]))];
        let e = fresh.load_state_tensors(&bad).unwrap_err();
        assert_eq!(
            e.to_string(),
            "steplr: 'epoch' must be a non-negative I64 scalar (found I64 [])"
        );
        assert_eq!(fresh.epoch(), 2);
    }
}
