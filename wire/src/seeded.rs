//! A small, fast, seedable random generator for what must be reproducible and need not be secret:
//! scheduling jitter and the simulated radio's noise. Keys never come from here; they come from ring's
//! `SystemRandom`.

/// SplitMix64 (Steele, Lea and Flood, 2014): one 64-bit state, passes BigCrush, trivially seedable.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64, Option<f64>);

impl SplitMix64 {
    /// A generator started from `seed`.
    pub const fn new(seed: u64) -> Self {
        Self(seed, None)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi]`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Marsaglia's polar method: two values per pair of uniforms, no trigonometry).
    pub fn normal(&mut self) -> f64 {
        if let Some(spare) = self.1.take() {
            return spare;
        }
        loop {
            let u = self.unit() * 2.0 - 1.0;
            let v = self.unit() * 2.0 - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let f = (-2.0 * s.ln() / s).sqrt();
                self.1 = Some(v * f);
                return u * f;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproducible_and_roughly_uniform() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        assert_eq!(a.next_u64(), b.next_u64());
        let n = 100_000;
        let mean: f64 = (0..n).map(|_| a.unit()).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.01);
        let normals: Vec<f64> = (0..n).map(|_| a.normal()).collect();
        let m = normals.iter().sum::<f64>() / n as f64;
        let var = normals.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n as f64;
        assert!(m.abs() < 0.02 && (var - 1.0).abs() < 0.03, "{m} {var}");
        assert!((0..1000).all(|_| (3..=5).contains(&a.between(3, 5))));
        assert_eq!(a.between(9, 9), 9);
    }
}
