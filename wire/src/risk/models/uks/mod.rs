//! The NHS COVID-19 app's risk score: an unscented Kalman smoother over log-attenuation, then minutes
//! weighted by `min(1, (1 m / d)²)`.
//!
//! Lovett, Briers, Charalambides, Jersakova, Lomax, Holmes, "Inferring proximity from Bluetooth Low Energy
//! RSSI with Unscented Kalman Smoothers", arXiv 2007.05057 (2020), as implemented in the public libraries
//! `nhsx/riskscore-kt-public` (`riskscore/`, `kalman1d/`, commit 183c20ce6249b655a5d99755570be17cf316a3dd)
//! and `nhsx/riskscore-swift-public`. This is an independent implementation of the same mathematics; the
//! tests check it against the values in those libraries' tests.
//!
//! The state is the distance `d` in metres, one step per `sample_resolution_s` seconds:
//!
//! ```text
//! transition   d(t+1) = |d(t) + w|,                 w ~ N(0, expected_distance_m²)
//! observation  ln(attenuation) = a·ln|d| + b + v,   v ~ N(0, observation_variance)
//! ```
//!
//! Seconds without a scan are steps without an observation. The smoothed mean and variance of each step are
//! read as a gamma distribution (shape `mean²/var`, scale `var/mean`) whose median is the step's distance;
//! the window's score is `Σ resolution/60 · min(1, (minimum_distance_m / d)²)` minutes. The app took each
//! scan instance's *minimum* attenuation (its strongest reading) and ran the smoother once per exposure
//! window.

use serde::{Deserialize, Serialize};

use super::{within, WindowInstance};

/// The parameters of the smoother and the risk score (the NHS configuration's `riskScore` object).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UksParams {
    /// Seconds per smoother step (`sampleResolution`).
    pub sample_resolution_s: f64,
    /// Standard deviation of the distance change per step, metres (`expectedDistance`).
    pub expected_distance_m: f64,
    /// Distances below this count as this (`minimumDistance`), metres.
    pub minimum_distance_m: f64,
    /// Slope `a` of ln(attenuation) against ln(distance) (`rssiParameters.weightCoefficient`).
    pub weight_coefficient: f64,
    /// Intercept `b`: ln(attenuation) at 1 m (`rssiParameters.intercept`).
    pub intercept: f64,
    /// Variance of ln(attenuation) around the model (`rssiParameters.covariance`).
    pub observation_variance: f64,
    /// Prior mean distance, metres (`initialData.mean`).
    pub initial_mean_m: f64,
    /// Prior variance of the distance, m² (`initialData.covariance`).
    pub initial_variance: f64,
    /// Sigma-point spread (`smootherParameters.alpha`).
    pub alpha: f64,
    /// Prior knowledge of the distribution (`smootherParameters.beta`).
    pub beta: f64,
    /// Secondary scaling (`smootherParameters.kappa`).
    pub kappa: f64,
}

impl UksParams {
    /// The NHS COVID-19 app's parameters: `RiskScoreCalculatorConfiguration.exampleConfiguration` in
    /// riskscore-kt-public (`riskscore/src/main/java/uk/nhs/riskscore/RiskScoreCalculatorConfiguration.kt`),
    /// the same values as the app's exposure configuration (`riskScore` in covid-19-app-ios-ag-public,
    /// `NHS-COVID-19/Core/Sources/Scenarios/Mocks/Networking/Requests/ExposureConfigurationHandler.swift`).
    pub const NHS_2020: Self = Self {
        sample_resolution_s: 1.0,
        expected_distance_m: 0.1,
        minimum_distance_m: 1.0,
        weight_coefficient: 0.127_054_753_108_205_1,
        intercept: 4.230_933_365_785_694_5,
        observation_variance: 0.494_761_436_102_777_3,
        initial_mean_m: 2.0,
        initial_variance: 10.0,
        alpha: 1.0,
        beta: 0.0,
        kappa: 0.0,
    };

    pub(crate) fn check(&self) -> Result<(), String> {
        let positive = [
            self.sample_resolution_s,
            self.expected_distance_m,
            self.minimum_distance_m,
            self.observation_variance,
            self.initial_mean_m,
            self.initial_variance,
            self.alpha,
        ];
        if !within(&positive, 1e-6, 1e4) || self.sample_resolution_s > 60.0 {
            return Err("the smoother's resolution (at most 60 s), distances, variances and alpha must be positive".into());
        }
        if !within(
            &[
                self.weight_coefficient,
                self.intercept,
                self.beta,
                self.kappa,
            ],
            -100.0,
            100.0,
        ) {
            return Err("the smoother's coefficients must be finite and within ±100".into());
        }
        if self.alpha * self.alpha * (AUGMENTED + self.kappa) <= 0.0 {
            return Err(
                "the smoother's alpha and kappa leave no spread for the sigma points".into(),
            );
        }
        Ok(())
    }

    /// What a contact of `minutes` at a steady `distance_m` scores: scans every `scan_gap_s` at the
    /// model's median attenuation for that distance. The threshold that keeps the meaning of "15 minutes at
    /// 2 m".
    pub fn minutes_of_steady_contact(&self, distance_m: f64, minutes: f64, scan_gap_s: f64) -> f64 {
        let attenuation = (self.intercept + self.weight_coefficient * distance_m.ln()).exp();
        let scans = (minutes * 60.0 / scan_gap_s).ceil().max(1.0) as usize;
        let instances: Vec<WindowInstance> = (0..scans)
            .map(|_| WindowInstance {
                seconds: scan_gap_s,
                typical_attenuation_db: attenuation,
                min_attenuation_db: attenuation,
            })
            .collect();
        self.weighted_minutes(&instances)
    }

    /// The window's weighted minutes (before the key's factors).
    pub(crate) fn weighted_minutes(&self, instances: &[WindowInstance]) -> f64 {
        let observations = self.observations(instances);
        if observations.is_empty() {
            return 0.0;
        }
        let step_minutes = self.sample_resolution_s / 60.0;
        let min_sq = self.minimum_distance_m * self.minimum_distance_m;
        self.smooth(&observations)
            .into_iter()
            .map(|(mean, var)| {
                let d = gamma_median_distance(mean, var);
                step_minutes * (min_sq / (d * d)).clamp(0.0, 1.0)
            })
            .sum()
    }

    /// One entry per step: `ln(attenuation)` where a scan instance falls, `None` between them. The first
    /// instance starts the series whatever its gap (as `Observation.makeObservations` does).
    fn observations(&self, instances: &[WindowInstance]) -> Vec<Option<f64>> {
        let mut out: Vec<Option<f64>> = Vec::new();
        let mut step = 0.0;
        for (k, instance) in instances.iter().enumerate() {
            if k > 0 {
                step += instance.seconds / self.sample_resolution_s;
            }
            // A window spans at most two hours of steps; anything longer is a corrupt gap.
            let index = (step as usize).min(MAX_STEPS);
            while out.len() < index {
                out.push(None);
            }
            out.push(Some(instance.min_attenuation_db.ln()).filter(|v| v.is_finite()));
        }
        out
    }

    fn weights(&self) -> Weights {
        let lambda = self.alpha * self.alpha * (AUGMENTED + self.kappa) - AUGMENTED;
        let scale = AUGMENTED + lambda;
        let common = 0.5 / scale;
        Weights {
            scale,
            mean0: lambda / scale,
            cov0: lambda / scale + (1.0 - self.alpha * self.alpha + self.beta),
            common,
        }
    }

    /// Filters forward, then smooths backward (Rauch-Tung-Striebel with unscented transforms): the
    /// smoothed (mean, variance) of every step.
    pub(crate) fn smooth(&self, observations: &[Option<f64>]) -> Vec<(f64, f64)> {
        let w = self.weights();
        let q = self.expected_distance_m * self.expected_distance_m;
        let r = self.observation_variance;
        let mut filtered = Vec::with_capacity(observations.len());
        let mut state = State {
            mean: self.initial_mean_m,
            var: self.initial_variance,
        };
        for (t, observation) in observations.iter().enumerate() {
            let points = Sigma::of(state, q, r, w.scale);
            // The first step updates the prior directly; later steps propagate it one step first.
            let propagated = if t == 0 {
                points.state
            } else {
                points.propagated()
            };
            state = self.predict_and_update(&w, &propagated, &points.observation, *observation);
            filtered.push(state);
        }
        let mut smoothed = vec![(0.0, 0.0); filtered.len()];
        let Some(&last) = filtered.last() else {
            return smoothed;
        };
        let mut next = last;
        smoothed[filtered.len() - 1] = (last.mean, last.var);
        for t in (0..filtered.len() - 1).rev() {
            let current = filtered[t];
            let points = Sigma::of(current, q, r, w.scale);
            let propagated = points.propagated();
            let predicted = w.transform(&propagated);
            let cross = w.cross(&propagated, predicted.mean, &points.state, current.mean);
            let gain = cross / predicted.var;
            next = State {
                mean: current.mean + (next.mean - predicted.mean) * gain,
                var: current.var + (next.var - predicted.var) * gain * gain,
            };
            smoothed[t] = (next.mean, next.var);
        }
        smoothed
    }

    fn predict_and_update(
        &self,
        w: &Weights,
        propagated: &[f64; POINTS],
        observation_noise: &[f64; POINTS],
        observation: Option<f64>,
    ) -> State {
        let predicted = w.transform(propagated);
        let Some(y) = observation else {
            return predicted;
        };
        let projected: [f64; POINTS] = std::array::from_fn(|i| {
            // |d| floored so that ln stays finite when a sigma point lands on 0.
            self.weight_coefficient * propagated[i].abs().max(1e-9).ln()
                + self.intercept
                + observation_noise[i]
        });
        let expected = w.transform(&projected);
        let cross = w.cross(propagated, predicted.mean, &projected, expected.mean);
        let gain = cross / expected.var;
        State {
            mean: predicted.mean + (y - expected.mean) * gain,
            var: predicted.var - cross * gain,
        }
    }
}

/// The augmented state (distance, transition noise, observation noise) has dimension 3.
const AUGMENTED: f64 = 3.0;
/// `2 · 3 + 1` sigma points.
const POINTS: usize = 7;
/// Two hours of one-second steps: a bound on a window's length (windows last at most 120 minutes).
const MAX_STEPS: usize = 7_200;

#[derive(Debug, Clone, Copy)]
struct State {
    mean: f64,
    var: f64,
}

/// Van der Merwe's scaled sigma-point weights.
struct Weights {
    scale: f64,
    mean0: f64,
    cov0: f64,
    common: f64,
}

impl Weights {
    fn mean_weight(&self, i: usize) -> f64 {
        if i == 0 {
            self.mean0
        } else {
            self.common
        }
    }

    fn cov_weight(&self, i: usize) -> f64 {
        if i == 0 {
            self.cov0
        } else {
            self.common
        }
    }

    /// The unscented transform: mean and variance of propagated points.
    fn transform(&self, points: &[f64; POINTS]) -> State {
        let mean: f64 = (0..POINTS).map(|i| self.mean_weight(i) * points[i]).sum();
        let var = (0..POINTS)
            .map(|i| self.cov_weight(i) * (points[i] - mean).powi(2))
            .sum();
        State { mean, var }
    }

    fn cross(&self, a: &[f64; POINTS], mean_a: f64, b: &[f64; POINTS], mean_b: f64) -> f64 {
        (0..POINTS)
            .map(|i| self.cov_weight(i) * (a[i] - mean_a) * (b[i] - mean_b))
            .sum()
    }
}

/// The sigma points of the augmented state: the state spread by `±√(scale·var)`, the transition and the
/// observation noise by `±√(scale·q)` and `±√(scale·r)`, each in its own pair of points.
struct Sigma {
    state: [f64; POINTS],
    transition: [f64; POINTS],
    observation: [f64; POINTS],
}

impl Sigma {
    fn of(state: State, q: f64, r: f64, scale: f64) -> Self {
        let m = state.mean;
        let s = (scale * state.var).max(0.0).sqrt();
        let t = (scale * q).sqrt();
        let o = (scale * r).sqrt();
        Self {
            state: [m, m + s, m, m, m - s, m, m],
            transition: [0.0, 0.0, t, 0.0, 0.0, -t, 0.0],
            observation: [0.0, 0.0, 0.0, o, 0.0, 0.0, -o],
        }
    }

    /// One step of the transition `|d + w|`.
    fn propagated(&self) -> [f64; POINTS] {
        std::array::from_fn(|i| (self.state[i] + self.transition[i]).abs())
    }
}

/// The median of the gamma distribution with this mean and variance, the NHS library's distance estimate;
/// the mean itself when the variance does not make a gamma distribution.
fn gamma_median_distance(mean: f64, var: f64) -> f64 {
    if !(mean > 0.0 && var > 0.0 && mean.is_finite() && var.is_finite()) {
        return mean.abs().max(1e-9);
    }
    let shape = mean * mean / var;
    let scale = var / mean;
    gamma_median(shape) * scale
}

/// The median of Gamma(shape, 1): Newton's method on the regularised lower incomplete gamma function,
/// from the Wilson-Hilferty approximation.
pub(crate) fn gamma_median(shape: f64) -> f64 {
    let wilson_hilferty = shape * (1.0 - 1.0 / (9.0 * shape)).max(1e-3).powi(3);
    if shape > 1e4 {
        return wilson_hilferty;
    }
    let ln_gamma = ln_gamma(shape);
    let mut x = wilson_hilferty.max(1e-12);
    for _ in 0..50 {
        let p = lower_regularized_gamma(shape, x, ln_gamma);
        let density = ((shape - 1.0) * x.ln() - x - ln_gamma).exp();
        if density <= 0.0 || !density.is_finite() {
            break;
        }
        let step = (p - 0.5) / density;
        let next = (x - step).max(x / 10.0);
        if (next - x).abs() <= 1e-12 * x {
            return next;
        }
        x = next;
    }
    x
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, nine coefficients).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1-x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + G + 0.5;
    let sum: f64 = C[0]
        + C[1..]
            .iter()
            .enumerate()
            .map(|(i, c)| c / (x + i as f64 + 1.0))
            .sum::<f64>();
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// `P(a, x)`, the regularised lower incomplete gamma function: the series below `a + 1`, the continued
/// fraction (modified Lentz) above.
fn lower_regularized_gamma(a: f64, x: f64, ln_gamma_a: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let prefix = (a * x.ln() - x - ln_gamma_a).exp();
    if x < a + 1.0 {
        let (mut term, mut sum, mut n) = (1.0 / a, 1.0 / a, a);
        for _ in 0..10_000 {
            n += 1.0;
            term *= x / n;
            sum += term;
            if term.abs() < sum.abs() * 1e-15 {
                break;
            }
        }
        (sum * prefix).clamp(0.0, 1.0)
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-15 {
                break;
            }
        }
        (1.0 - prefix * h).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests;
