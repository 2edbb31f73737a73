//! The candidate decisions, and the one whose parameters are fitted on data.
//!
//! Every configuration the core ships ([`RiskConfig::all_named`]) is a candidate as published; nothing in
//! them is fitted to these recordings. One more is fitted: the likelihood model with its path-loss
//! parameters estimated from recordings ([`fit_path_loss`]). In the leave-one-dataset-out validation it is
//! fitted on the other datasets only and tested on the held-out one.

use openzone_core::export::signing::SignedConfig;
use openzone_core::risk::models::{LikelihoodRatio, Proximity};
use openzone_core::risk::{self, Exposure, RiskConfig};

use crate::contacts::Contact;

/// The name of the fitted candidate in tables.
pub const FITTED: &str = "likelihood-2m-fitted";

/// The published candidates: every named configuration of the core.
pub fn published() -> Vec<RiskConfig> {
    RiskConfig::all_named()
}

/// The day's score and decision of one contact under `config`, from its matched exposures through
/// `risk::score`: the weighted minutes of its day (0 when nothing counted) and whether the day is at risk.
pub fn score(exposures: &[Exposure], config: &RiskConfig) -> (f64, bool) {
    risk::score(exposures, config)
        .iter()
        .fold((0.0, false), |(s, r), day| {
            (s + day.weighted_minutes, r || day.at_risk)
        })
}

/// Training data for the path-loss fit: every matched scan instance's typical attenuation with the
/// distance of its contact, and the dataset it comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathLossPoint {
    /// Distance, metres (the true one, or the range the testers noted).
    pub distance_m: f64,
    /// Typical attenuation, dB.
    pub attenuation_db: f64,
    /// Which dataset (each weighs the same in the fit, whatever its size).
    pub dataset: usize,
}

/// The points of one dataset's contacts.
pub fn path_loss_points(
    contacts: &[Contact],
    exposures: &[Vec<Exposure>],
    dataset: usize,
) -> Vec<PathLossPoint> {
    contacts
        .iter()
        .zip(exposures)
        .filter_map(|(c, e)| Some((c.distance.metres()?, e)))
        .flat_map(|(d, e)| {
            e.iter().flat_map(move |x| {
                x.instances.iter().map(move |i| PathLossPoint {
                    distance_m: d.max(0.1),
                    attenuation_db: i.typical_attenuation_db,
                    dataset,
                })
            })
        })
        .collect()
}

/// `A(1 m)`, `n` and `σ` of `A = A(1 m) + 10 n log10(d) + N(0, σ²)` by weighted least squares, each dataset
/// weighing the same; `σ` is the weighted residual spread, so differences between datasets widen it.
/// `None` when the points cannot determine a slope.
pub fn fit_path_loss(points: &[PathLossPoint]) -> Option<(f64, f64, f64)> {
    let datasets = points.iter().map(|p| p.dataset + 1).max().unwrap_or(0);
    let mut counts = vec![0usize; datasets];
    points.iter().for_each(|p| counts[p.dataset] += 1);
    let weight = |p: &PathLossPoint| 1.0 / counts[p.dataset] as f64;
    let (mut sw, mut sx, mut sy) = (0.0, 0.0, 0.0);
    for p in points {
        let w = weight(p);
        sw += w;
        sx += w * p.distance_m.log10();
        sy += w * p.attenuation_db;
    }
    if sw == 0.0 {
        return None;
    }
    let (mx, my) = (sx / sw, sy / sw);
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for p in points {
        let w = weight(p);
        let dx = p.distance_m.log10() - mx;
        sxx += w * dx * dx;
        sxy += w * dx * (p.attenuation_db - my);
    }
    if sxx <= 1e-12 {
        return None;
    }
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let residual: f64 = points
        .iter()
        .map(|p| weight(p) * (p.attenuation_db - intercept - slope * p.distance_m.log10()).powi(2))
        .sum::<f64>()
        / sw;
    Some((intercept, slope / 10.0, residual.sqrt()))
}

/// The fitted candidate: [`RiskConfig::likelihood_2m`] with the path loss fitted on `points`. A fit that
/// comes out with a flat or negative slope keeps the published slope (a model in which distance does not
/// raise attenuation cannot tell near from far).
pub fn fitted(points: &[PathLossPoint]) -> Option<RiskConfig> {
    let (a1, n, sigma) = fit_path_loss(points)?;
    let Proximity::LikelihoodRatio(published) = RiskConfig::likelihood_2m().proximity else {
        return None;
    };
    let model = LikelihoodRatio {
        attenuation_at_1m_db: a1,
        path_loss_exponent: if n > 0.1 {
            n
        } else {
            published.path_loss_exponent
        },
        shadowing_db: sigma.max(1.0),
        ..published
    };
    let config = RiskConfig::likelihood(FITTED, model);
    config.check().ok()?;
    Some(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_loss_fit_recovers_a_known_line_with_datasets_weighed_equally() {
        // Dataset 0: 60 + 20 log10(d) exactly, many points; dataset 1: 10 dB louder, few points.
        let mut points = Vec::new();
        for (dataset, offset, copies) in [(0, 0.0, 50), (1, -10.0, 1)] {
            for d in [0.5, 1.0, 2.0, 4.0] {
                for _ in 0..copies {
                    points.push(PathLossPoint {
                        distance_m: d,
                        attenuation_db: 60.0 + offset + 20.0 * f64::log10(d),
                        dataset,
                    });
                }
            }
        }
        let (a1, n, sigma) = fit_path_loss(&points).unwrap();
        // Equal weights: the intercept halfway, the slope exact, the spread the 5 dB half-offset.
        assert!((a1 - 55.0).abs() < 1e-9, "{a1}");
        assert!((n - 2.0).abs() < 1e-9, "{n}");
        assert!((sigma - 5.0).abs() < 1e-9, "{sigma}");
        let config = fitted(&points).unwrap();
        assert_eq!(config.name, FITTED);
        config.check().unwrap();
        // One distance only: no slope.
        let flat: Vec<PathLossPoint> = points
            .iter()
            .map(|p| PathLossPoint {
                distance_m: 1.0,
                ..*p
            })
            .collect();
        assert_eq!(fit_path_loss(&flat), None);
        assert_eq!(fit_path_loss(&[]), None);
    }
}
