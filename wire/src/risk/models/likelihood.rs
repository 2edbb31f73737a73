//! "Within 2 m" against "beyond 2 m" under a log-normal path-loss model, weighed per minute.
//!
//! The median attenuation at distance `d` follows the log-distance path-loss model, and readings scatter
//! around it log-normally (a normal spread in dB, the "shadowing" of bodies, posture and furniture):
//!
//! ```text
//! A(d) = A(1 m) + 10 · n · log10(d) + X,     X ~ N(0, σ²)
//! ```
//!
//! (Rappaport, *Wireless Communications*, ch. 4, the log-distance and log-normal shadowing models.) With
//! distances spread evenly over the floor (density ∝ d) from `near_from_m` to `boundary_m` for "within",
//! and from `boundary_m` to `far_to_m` for "beyond", the likelihood ratio of an attenuation is
//!
//! ```text
//! LR(a) = ∫ φ((a - A(d))/σ) π_within(d) dd  /  ∫ φ((a - A(d))/σ) π_beyond(d) dd
//! ```
//!
//! and a minute at attenuation `a` weighs `LR / (1 + LR)`, the probability of "within" at even prior odds:
//! the window's weighted minutes are its expected minutes within 2 m, and the day's sum is the expected
//! time within 2 m that "15 minutes" is compared with. A window may be represented by one quantile of its
//! instances' typical attenuations instead of each instance by itself: bodies only add loss, so the
//! lower quantiles of a window stay nearer the unobstructed path loss (as the NHS app took each scan's
//! strongest reading).

use serde::{Deserialize, Serialize};

use super::{within, WindowInstance};

/// Points of the numerical integration over each distance range.
const STEPS: usize = 64;

/// The parameters of the path-loss model and of the two distance ranges.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LikelihoodRatio {
    /// Median attenuation at 1 m, dB.
    pub attenuation_at_1m_db: f64,
    /// Path-loss exponent `n`: the median grows by `10·n` dB per decade of distance.
    pub path_loss_exponent: f64,
    /// Standard deviation of attenuation around the median, dB.
    pub shadowing_db: f64,
    /// Nearest distance of "within", metres.
    pub near_from_m: f64,
    /// The boundary between "within" and "beyond", metres (2 m).
    pub boundary_m: f64,
    /// Farthest distance of "beyond", metres.
    pub far_to_m: f64,
    /// `None`: each scan instance weighs by its own typical attenuation. `Some(q)`: every minute of a
    /// window weighs by the q-quantile (0 to 1) of its instances' typical attenuations.
    pub window_quantile: Option<f64>,
}

impl LikelihoodRatio {
    pub(crate) fn check(&self) -> Result<(), String> {
        let ok = within(
            &[self.attenuation_at_1m_db, self.path_loss_exponent * 10.0],
            -50.0,
            200.0,
        ) && within(&[self.shadowing_db], 0.1, 50.0)
            && within(
                &[self.near_from_m, self.boundary_m, self.far_to_m],
                0.01,
                100.0,
            )
            && self.near_from_m < self.boundary_m
            && self.boundary_m < self.far_to_m
            && self.path_loss_exponent > 0.0
            && self.window_quantile.is_none_or(|q| within(&[q], 0.0, 1.0));
        if ok {
            Ok(())
        } else {
            Err("the likelihood model needs a finite attenuation at 1 m, a positive exponent, shadowing of 0.1 to 50 dB, distances ascending from near to boundary to far, and a quantile from 0 to 1".into())
        }
    }

    /// Median attenuation at `d` metres.
    pub fn median_attenuation_db(&self, d: f64) -> f64 {
        self.attenuation_at_1m_db + 10.0 * self.path_loss_exponent * d.log10()
    }

    /// `ln ∫ φ((a - A(d))/σ) π(d) dd` over `[from, to]` with `π ∝ d`, up to a constant shared by both
    /// ranges (the midpoint rule, summed in log space so that distant attenuations do not underflow).
    fn ln_likelihood(&self, a: f64, from: f64, to: f64) -> f64 {
        let step = (to - from) / STEPS as f64;
        let area = (to * to - from * from) / 2.0;
        let terms: Vec<f64> = (0..STEPS)
            .map(|k| {
                let d = from + (k as f64 + 0.5) * step;
                let z = (a - self.median_attenuation_db(d)) / self.shadowing_db;
                (d * step / area).ln() - 0.5 * z * z
            })
            .collect();
        let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        max + terms.iter().map(|t| (t - max).exp()).sum::<f64>().ln()
    }

    /// `ln LR(a)`: how much more likely attenuation `a` is within the boundary than beyond it.
    pub fn ln_likelihood_ratio(&self, a: f64) -> f64 {
        self.ln_likelihood(a, self.near_from_m, self.boundary_m)
            - self.ln_likelihood(a, self.boundary_m, self.far_to_m)
    }

    /// The weight of a minute at attenuation `a`: the probability of "within" at even prior odds.
    pub fn weight(&self, a: f64) -> f64 {
        let llr = self.ln_likelihood_ratio(a);
        if !llr.is_finite() {
            return if llr > 0.0 { 1.0 } else { 0.0 };
        }
        1.0 / (1.0 + (-llr).exp())
    }

    /// The window's weighted minutes (before the key's factors).
    pub(crate) fn weighted_minutes(&self, instances: &[WindowInstance]) -> f64 {
        match self.window_quantile {
            None => instances
                .iter()
                .map(|i| i.seconds / 60.0 * self.weight(i.typical_attenuation_db))
                .sum(),
            Some(q) => {
                let mut attenuations: Vec<f64> =
                    instances.iter().map(|i| i.typical_attenuation_db).collect();
                let Some(a) = quantile(&mut attenuations, q) else {
                    return 0.0;
                };
                let minutes: f64 = instances.iter().map(|i| i.seconds / 60.0).sum();
                minutes * self.weight(a)
            }
        }
    }
}

/// The q-quantile by linear interpolation between order statistics (sorts `values`); `None` when empty.
pub fn quantile(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let at = q.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    Some(values[lo] + (values[hi] - values[lo]) * (at - lo as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> LikelihoodRatio {
        LikelihoodRatio {
            attenuation_at_1m_db: 60.0,
            path_loss_exponent: 2.0,
            shadowing_db: 6.0,
            near_from_m: 0.5,
            boundary_m: 2.0,
            far_to_m: 4.0,
            window_quantile: None,
        }
    }

    #[test]
    fn the_likelihood_ratio_matches_a_direct_integration() {
        let m = model();
        // By hand (a finer midpoint rule, 20,000 steps, densities normalised per range): at 66 dB.
        let direct = |a: f64, from: f64, to: f64| {
            let n = 20_000;
            let step = (to - from) / n as f64;
            let area = (to * to - from * from) / 2.0;
            (0..n)
                .map(|k| {
                    let d = from + (k as f64 + 0.5) * step;
                    let z = (a - (60.0 + 20.0 * d.log10())) / 6.0;
                    d / area * (-0.5 * z * z).exp() * step
                })
                .sum::<f64>()
        };
        for a in [50.0, 60.0, 66.0, 72.0, 90.0] {
            let expected = (direct(a, 0.5, 2.0) / direct(a, 2.0, 4.0)).ln();
            assert!(
                (m.ln_likelihood_ratio(a) - expected).abs() < 1e-3,
                "{a}: {} against {expected}",
                m.ln_likelihood_ratio(a)
            );
        }
        // Monotone: the louder, the likelier within 2 m; far beyond the model, weights saturate cleanly.
        assert!(m.weight(50.0) > m.weight(60.0) && m.weight(60.0) > m.weight(70.0));
        assert!(m.weight(-1e6) > 0.999 && m.weight(1e6) < 1e-3);
        assert_eq!(m.median_attenuation_db(10.0), 80.0);
    }

    #[test]
    fn windows_weigh_each_instance_or_one_quantile() {
        let m = model();
        let instances = [
            WindowInstance {
                seconds: 300.0,
                typical_attenuation_db: 55.0,
                min_attenuation_db: 50.0,
            },
            WindowInstance {
                seconds: 240.0,
                typical_attenuation_db: 75.0,
                min_attenuation_db: 70.0,
            },
        ];
        let each = m.weighted_minutes(&instances);
        assert!((each - (5.0 * m.weight(55.0) + 4.0 * m.weight(75.0))).abs() < 1e-12);
        let lowest = LikelihoodRatio {
            window_quantile: Some(0.0),
            ..m
        };
        assert!((lowest.weighted_minutes(&instances) - 9.0 * m.weight(55.0)).abs() < 1e-12);
        let median = LikelihoodRatio {
            window_quantile: Some(0.5),
            ..m
        };
        assert!((median.weighted_minutes(&instances) - 9.0 * m.weight(65.0)).abs() < 1e-12);
        assert_eq!(median.weighted_minutes(&[]), 0.0);
    }

    #[test]
    fn quantiles_interpolate() {
        assert_eq!(quantile(&mut [3.0, 1.0, 2.0], 0.5), Some(2.0));
        assert_eq!(quantile(&mut [1.0, 2.0], 0.25), Some(1.25));
        assert_eq!(quantile(&mut [], 0.5), None);
    }

    #[test]
    fn bad_parameters_are_refused() {
        model().check().unwrap();
        for bad in [
            LikelihoodRatio {
                shadowing_db: 0.0,
                ..model()
            },
            LikelihoodRatio {
                boundary_m: 5.0,
                ..model()
            },
            LikelihoodRatio {
                window_quantile: Some(1.5),
                ..model()
            },
            LikelihoodRatio {
                attenuation_at_1m_db: f64::INFINITY,
                ..model()
            },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }
}
