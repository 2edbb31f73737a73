//! Proximity models: how the scan instances of one exposure window become weighted minutes.
//!
//! [`Proximity::Buckets`] is the exposure-notification v2 model every configuration used before the others
//! existed (minutes per attenuation bucket times the bucket's weight, `RiskConfig::attenuation_weights`).
//! The others read the same scan instances differently:
//!
//! - [`Proximity::NhsUks`]: the NHS COVID-19 app's risk score ([`uks`]): an unscented Kalman smoother turns
//!   the window's attenuations into a distance per second, and each second weighs `min(1, (1 m / d)²)`.
//! - [`Proximity::LikelihoodRatio`]: the posterior probability, under a log-normal path-loss model, that the
//!   phones were within 2 m ([`likelihood`]); a window's weighted minutes are then its expected minutes within
//!   2 m.
//!
//! Every model is data in the configuration (JSON, signed by the health authority); a configuration without a
//! `proximity` field is a bucket configuration, so configurations written before the models existed still
//! parse and mean what they meant.

pub mod likelihood;
pub mod uks;

use serde::{Deserialize, Serialize};

pub use likelihood::LikelihoodRatio;
pub use uks::UksParams;

/// Which proximity model weighs a window's minutes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum Proximity {
    /// Minutes per attenuation bucket times the bucket's weight (exposure notification v2).
    #[default]
    Buckets,
    /// The NHS COVID-19 app's unscented Kalman smoother and quadratic distance weight.
    NhsUks(UksParams),
    /// The posterior probability of "within 2 m" under a log-normal path-loss model.
    LikelihoodRatio(LikelihoodRatio),
}

impl Proximity {
    /// Whether this is the bucket model (then the configuration's JSON leaves the field out).
    pub fn is_buckets(&self) -> bool {
        matches!(self, Self::Buckets)
    }

    /// Checks the model's parameters; the message names the one at fault.
    pub(crate) fn check(&self) -> Result<(), String> {
        match self {
            Self::Buckets => Ok(()),
            Self::NhsUks(p) => p.check(),
            Self::LikelihoodRatio(p) => p.check(),
        }
    }
}

/// One scan instance as the models read it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowInstance {
    /// Seconds this instance is credited with (since the previous scan, capped).
    pub seconds: f64,
    /// Attenuation from the mean RSSI, dB.
    pub typical_attenuation_db: f64,
    /// Attenuation from the strongest RSSI, dB.
    pub min_attenuation_db: f64,
}

/// `true` when every value is finite and within `lo..=hi`.
pub(crate) fn within(values: &[f64], lo: f64, hi: f64) -> bool {
    values
        .iter()
        .all(|v| v.is_finite() && (lo..=hi).contains(v))
}
