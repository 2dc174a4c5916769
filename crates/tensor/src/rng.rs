//! The seeded random generator every random draw in minimax comes from.
//!
//! xoshiro256++ (Blackman & Vigna): small, fast, and its whole state is four `u64`s, so a
//! training run can save and restore it and resume bit-for-bit. There is no hidden global
//! generator: every function that draws takes an `&mut Rng`.

use rand::RngCore;

/// A seeded xoshiro256++ pseudo-random generator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    s: [u64; 4],
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator seeded from `seed` (expanded with splitmix64, as the authors recommend).
    pub fn seed(seed: u64) -> Rng {
        let mut st = seed;
        let s = [
            splitmix64(&mut st),
            splitmix64(&mut st),
            splitmix64(&mut st),
            splitmix64(&mut st),
        ];
        Rng { s }
    }
    /// The full state, to save in a checkpoint.
    pub fn state(&self) -> [u64; 4] {
        self.s
    }
    /// A generator restored from a saved state. Panics on the all-zero state, which
    /// xoshiro cannot leave.
    #[track_caller]
    pub fn from_state(s: [u64; 4]) -> Rng {
        assert!(
            s != [0; 4],
            "Rng::from_state: the all-zero state is invalid"
        );
        Rng { s }
    }
    /// The next 64 random bits.
    #[inline]
    pub fn next(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }
    /// A uniform f64 in [0, 1) with 53 random bits.
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// A uniform integer in `0..n` (n > 0), without modulo bias.
    #[track_caller]
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below: n must be positive");
        let n = n as u64;
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.next();
            if v < zone {
                return (v % n) as usize;
            }
        }
    }
    /// A standard normal draw (mean 0, std 1).
    #[inline]
    pub fn normal(&mut self) -> f64 {
        use rand_distr::Distribution;
        rand_distr::StandardNormal.sample(self)
    }
    /// A random permutation of `0..n` (Fisher–Yates).
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.below(i + 1);
            p.swap(i, j);
        }
        p
    }
    /// An independent generator derived from this one (for a sub-task that needs its own stream).
    pub fn fork(&mut self) -> Rng {
        Rng::seed(self.next())
    }
}

impl RngCore for Rng {
    fn next_u32(&mut self) -> u32 {
        (self.next() >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.next()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_state_roundtrip() {
        let mut a = Rng::seed(42);
        let mut b = Rng::seed(42);
        for _ in 0..10 {
            assert_eq!(a.next(), b.next());
        }
        let st = a.state();
        let x: Vec<u64> = (0..5).map(|_| a.next()).collect();
        let mut c = Rng::from_state(st);
        let y: Vec<u64> = (0..5).map(|_| c.next()).collect();
        assert_eq!(x, y);
        assert_ne!(Rng::seed(1).next(), Rng::seed(2).next());
    }

    #[test]
    fn normal_moments() {
        let mut r = Rng::seed(7);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n as f64;
        assert!(m.abs() < 0.01, "mean {m}");
        assert!((v - 1.0).abs() < 0.01, "var {v}");
        let u: f64 = (0..n).map(|_| r.uniform()).sum::<f64>() / n as f64;
        assert!((u - 0.5).abs() < 0.005);
    }

    #[test]
    fn permutation_is_a_permutation() {
        let mut r = Rng::seed(3);
        let mut p = r.permutation(100);
        p.sort();
        assert_eq!(p, (0..100).collect::<Vec<_>>());
    }
}
