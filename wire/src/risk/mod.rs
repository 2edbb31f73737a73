//! Exposure risk scoring: what the user is told.
//!
//! The exposure-notification v2 model (Apple/Google, "ExposureWindow" API), computed on the phone:
//!
//! 1. Each matched scan instance gets an attenuation, `TX_power(sender) - (RSSI + RSSI_correction)`: the
//!    sender's TX power from its decrypted metadata (AEM), the correction from this phone's calibration
//!    (openzone-core's `risk::calibration`). A *typical* attenuation from the mean RSSI and a *minimum* from the strongest.
//! 2. A key's scan instances are grouped into exposure windows of at most 30 minutes per UTC day; each
//!    instance is credited with the seconds since the phone's previous scan (capped).
//! 3. Minutes per attenuation bucket (by typical attenuation) are weighted, or weighed by another proximity
//!    model ([`models`]: the NHS app's Kalman smoother, a 2 m likelihood ratio); a window is dropped unless
//!    it has enough minutes below an attenuation; the window's weighted minutes are multiplied by the report
//!    type's weight, the infectiousness weight (from days since onset) and the transmission risk factor.
//! 4. A day is at risk when the sum of its windows reaches a threshold.
//!
//! [`RiskConfig::default`] ([`RiskConfig::corona_warn_app_2021`], chosen by leave-one-dataset-out validation
//! on real recordings, `docs/radio.md`) is what a phone uses; every parameter is data a health authority can
//! publish as signed JSON ([`RiskConfig::from_signed_json`]). The result ([`DayRisk`]) says per day
//! whether the user is at risk, for how many weighted minutes and how close, never which key, person or
//! place.

pub mod models;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::export::signing::{invalid_config, SignedConfig};
use crate::export::ReportType;
use models::{Proximity, WindowInstance};

/// How much one exposure window weighs, by signal strength, report and infectiousness. The fields stand in
/// the order scoring uses them: the window and the filter that drops it, how its minutes are weighed, the
/// key's weight, the day's threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {
    /// A name for the configuration, shown in reports.
    pub name: String,
    /// Length of an exposure window, minutes.
    pub exposure_window_minutes: u32,
    /// Most seconds one scan instance is credited with (the longest gap between scans that still counts
    /// as continuous presence).
    pub max_seconds_per_scan: u32,
    /// A window is dropped unless it has at least this many minutes below this attenuation.
    pub min_minutes_below: Option<MinutesBelow>,
    /// How a window's minutes are weighed by proximity: the attenuation buckets below unless another
    /// model is named (then the buckets only set the day's `closest` band).
    #[serde(default, skip_serializing_if = "Proximity::is_buckets")]
    pub proximity: Proximity,
    /// Upper bounds (exclusive) of the attenuation buckets, dB, ascending; one fewer than the weights.
    pub attenuation_thresholds_db: Vec<u8>,
    /// Weight of a minute in each bucket, nearest first.
    pub attenuation_weights: Vec<f64>,
    /// Weight by report type.
    pub report_type_weights: ReportTypeWeights,
    /// The report type assumed for keys that carry none.
    pub report_type_when_missing: ReportTypeName,
    /// Keys with these transmission risk levels are ignored.
    pub dropped_transmission_risk_levels: Vec<u8>,
    /// A key with transmission risk level L weighs `L * multiplier`; without a multiplier, or for a key
    /// without a level, the factor is 1.
    pub transmission_risk_multiplier: Option<f64>,
    /// Infectiousness by days since the onset of symptoms, and the weights of each level.
    pub infectiousness: Infectiousness,
    /// A day is at risk from this many weighted minutes.
    pub at_risk_minutes_per_day: f64,
}

/// The filter "at least `minutes` minutes below `attenuation_db`".
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinutesBelow {
    /// Attenuation bound, dB (exclusive).
    pub attenuation_db: u8,
    /// Minutes required.
    pub minutes: f64,
}

/// Weights of the report types.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportTypeWeights {
    /// A confirmed test.
    pub confirmed_test: f64,
    /// A clinical diagnosis.
    pub confirmed_clinical_diagnosis: f64,
    /// A self-report.
    pub self_report: f64,
    /// A recursive report.
    pub recursive: f64,
}

/// Report types as configuration names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportTypeName {
    /// A confirmed test.
    ConfirmedTest,
    /// A clinical diagnosis.
    ConfirmedClinicalDiagnosis,
    /// A self-report.
    SelfReport,
    /// A recursive report.
    Recursive,
}

/// Infectiousness levels by days since onset of symptoms, and their weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Infectiousness {
    /// Weight of a key of standard infectiousness.
    pub standard_weight: f64,
    /// Weight of a key of high infectiousness.
    pub high_weight: f64,
    /// Days since onset (inclusive range) considered highly infectious.
    pub high_days_since_onset: (i32, i32),
    /// Days since onset (inclusive range) considered infectious at all; outside it a key is ignored.
    pub infectious_days_since_onset: (i32, i32),
    /// Whether a key without days since onset counts as `standard` or `high`.
    pub when_missing_is_high: bool,
}

impl Default for RiskConfig {
    /// The configuration a phone uses unless its health authority publishes another: the one chosen by
    /// leave-one-dataset-out validation on real recordings (`docs/radio.md`).
    fn default() -> Self {
        Self::corona_warn_app_2021()
    }
}

impl RiskConfig {
    /// The Corona-Warn-App production configuration of 2021 (`cwa-server`,
    /// `main-config/v2/risk-calculation-parameters.yaml` and `daily-summaries-config.yaml`): minute weights
    /// 0.8 below 63 dB, 1.0 from 63 to 73 dB, 0.1 from 73 to 79 dB, 0 beyond; a window needs 5 minutes
    /// below 79 dB; transmission risk levels 1-2 are dropped and the others weigh 0.2 per level; report
    /// types and infectiousness all weigh 1; a day is at risk from 13 normalised minutes.
    pub fn corona_warn_app_2021() -> Self {
        Self {
            name: "corona-warn-app-2021".into(),
            exposure_window_minutes: 30,
            max_seconds_per_scan: 300,
            min_minutes_below: Some(MinutesBelow {
                attenuation_db: 79,
                minutes: 5.0,
            }),
            proximity: Proximity::Buckets,
            attenuation_thresholds_db: vec![63, 73, 79],
            attenuation_weights: vec![0.8, 1.0, 0.1, 0.0],
            report_type_weights: ReportTypeWeights {
                confirmed_test: 1.0,
                confirmed_clinical_diagnosis: 1.0,
                self_report: 1.0,
                recursive: 1.0,
            },
            report_type_when_missing: ReportTypeName::ConfirmedTest,
            dropped_transmission_risk_levels: vec![1, 2],
            transmission_risk_multiplier: Some(0.2),
            infectiousness: Infectiousness {
                standard_weight: 1.0,
                high_weight: 1.0,
                high_days_since_onset: (-2, 5),
                infectious_days_since_onset: (-14, 14),
                when_missing_is_high: false,
            },
            at_risk_minutes_per_day: 13.0,
        }
    }

    /// Google's sample configuration for the ExposureWindow API: buckets at 30, 50 and 60 dB weighing
    /// 150 %, 100 %, 50 % and 0 %, no window filter, every report type and infectiousness at 100 %, and a
    /// day at risk from 45 weighted minutes.
    pub fn google_sample() -> Self {
        Self::bucketed("google-sample", &[30, 50, 60], &[1.5, 1.0, 0.5, 0.0], 45.0)
    }

    /// SwissCovid's rule (DP-3T, 2020): minutes below 55 dB weigh 1.0, from 55 to 63 dB 0.5, beyond 0; a day
    /// is an exposure from 15 weighted minutes. `DP-3T/dp3t-sdk-android`,
    /// `dp3t-sdk/sdk/src/main/java/org/dpppt/android/sdk/internal/AppConfigManager.java`
    /// (`DEFAULT_ATTENUATION_THRESHOLD_LOW` 55, `..._MEDIUM` 63, factors 1.0 and 0.5,
    /// `DEFAULT_MIN_DURATION_FOR_EXPOSURE` 15); no window filter, every key weighs 1.
    pub fn swisscovid_2020() -> Self {
        Self::bucketed("swisscovid-2020", &[55, 63], &[1.0, 0.5, 0.0], 15.0)
    }

    /// Corona-Warn-App's first rule (exposure notification v1, 2020): minutes below 50 dB weigh 1.0, from 50
    /// to 70 dB 0.5, beyond 0, and a day is at high risk from 15 (cwa-server,
    /// `services/distribution/src/main/resources/master-config/attenuation-duration.yaml` and
    /// `risk-score-classification.yaml`); no window filter, every key weighs 1.
    pub fn corona_warn_app_2020() -> Self {
        Self::bucketed("corona-warn-app-2020", &[50, 70], &[1.0, 0.5, 0.0], 15.0)
    }

    /// The NHS COVID-19 app's risk score (from October 2020): the unscented Kalman smoother of
    /// [`models::uks`] with the app's parameters, each minute weighing `min(1, (1 m / d)²)`. A day is at risk
    /// from what a steady 15-minute contact at 2 m scores under the model, with scans 270 s apart (the
    /// background schedule's mean); the NHS app compared its own score, in seconds and times an
    /// infectiousness weight, with a threshold the health service changed over time. The buckets only set
    /// the day's `closest` band.
    pub fn nhs_uks_2020() -> Self {
        let model = models::UksParams::NHS_2020;
        let at_2m = model.minutes_of_steady_contact(2.0, 15.0, 270.0);
        Self {
            name: "nhs-uks-2020".into(),
            proximity: Proximity::NhsUks(model),
            ..Self::unweighted_keys((at_2m * 100.0).round() / 100.0)
        }
    }

    /// "Within 2 m" against "beyond 2 m" under a log-normal path-loss model ([`models::likelihood`]): each
    /// minute weighs the probability that the phones were within 2 m, each scan instance by itself. The
    /// path loss is the NHS app's fitted observation model, `ln A = 0.127 ln d + 4.231`
    /// ([`models::UksParams::NHS_2020`]): 68.8 dB at 1 m, rising 20 dB per decade of distance (n = 2.0) near
    /// 1-2 m; the spread is 8 dB, the indoor shadowing of ITU-R P.1238; "within" spans 0.5 to 2 m and
    /// "beyond" 2 to 4 m (a room), distances spread evenly over the floor. A day is at risk from the expected
    /// minutes within 2 m that 15 minutes at exactly 2 m would earn.
    pub fn likelihood_2m() -> Self {
        Self::likelihood("likelihood-2m", Self::likelihood_model(None))
    }

    /// [`likelihood_2m`](Self::likelihood_2m) with each window weighed by the lowest quartile of its scan
    /// instances' attenuations: bodies and bags only add loss, so a window's quieter readings say least
    /// about distance.
    pub fn likelihood_2m_window() -> Self {
        Self::likelihood("likelihood-2m-window", Self::likelihood_model(Some(0.25)))
    }

    fn likelihood_model(window_quantile: Option<f64>) -> models::LikelihoodRatio {
        let uks = models::UksParams::NHS_2020;
        models::LikelihoodRatio {
            attenuation_at_1m_db: (uks.intercept.exp() * 10.0).round() / 10.0,
            path_loss_exponent: 2.0,
            shadowing_db: 8.0,
            near_from_m: 0.5,
            boundary_m: 2.0,
            far_to_m: 4.0,
            window_quantile,
        }
    }

    /// A likelihood configuration named `name`: at risk from the expected minutes within 2 m that 15
    /// minutes at the boundary earn under `model`.
    pub fn likelihood(name: &str, model: models::LikelihoodRatio) -> Self {
        let at_boundary = model.weight(model.median_attenuation_db(model.boundary_m));
        Self {
            name: name.into(),
            proximity: Proximity::LikelihoodRatio(model),
            ..Self::unweighted_keys((15.0 * at_boundary * 100.0).round() / 100.0)
        }
    }

    /// CWA 2021's buckets and filters with every key weighing 1 and a day at risk from `minutes`: the base
    /// of the configurations that have no transmission risk weighting.
    /// A rule of attenuation buckets alone (`thresholds_db` and their `weights`, as in
    /// [`unweighted_keys`](Self::unweighted_keys)), named `name`.
    fn bucketed(name: &str, thresholds_db: &[u8], weights: &[f64], minutes: f64) -> Self {
        Self {
            name: name.into(),
            attenuation_thresholds_db: thresholds_db.to_vec(),
            attenuation_weights: weights.to_vec(),
            ..Self::unweighted_keys(minutes)
        }
    }

    fn unweighted_keys(minutes: f64) -> Self {
        Self {
            min_minutes_below: None,
            dropped_transmission_risk_levels: Vec::new(),
            transmission_risk_multiplier: None,
            at_risk_minutes_per_day: minutes,
            ..Self::corona_warn_app_2021()
        }
    }

    /// Every configuration shipped with the core, the default first.
    pub fn all_named() -> Vec<Self> {
        vec![
            Self::default(),
            Self::corona_warn_app_2021(),
            Self::google_sample(),
            Self::swisscovid_2020(),
            Self::corona_warn_app_2020(),
            Self::nhs_uks_2020(),
            Self::likelihood_2m(),
            Self::likelihood_2m_window(),
        ]
        .into_iter()
        .fold(Vec::new(), |mut out, c| {
            if !out.iter().any(|o: &Self| o.name == c.name) {
                out.push(c);
            }
            out
        })
    }

    /// The named configurations shipped with the core.
    pub fn named(name: &str) -> Result<Self, Error> {
        Self::all_named()
            .into_iter()
            .find(|c| c.name == name)
            .ok_or_else(|| {
                let names: Vec<String> = Self::all_named().into_iter().map(|c| c.name).collect();
                Error::InvalidConfig(format!(
                    "unknown risk configuration {name:?}: use one of {}",
                    names.join(", ")
                ))
            })
    }

    fn bucket(&self, attenuation_db: f64) -> usize {
        self.attenuation_thresholds_db
            .iter()
            .position(|t| attenuation_db < f64::from(*t))
            .unwrap_or(self.attenuation_thresholds_db.len())
    }

    fn report_type_weight(&self, report_type: ReportType) -> f64 {
        let w = &self.report_type_weights;
        let name = match report_type {
            ReportType::ConfirmedTest => ReportTypeName::ConfirmedTest,
            ReportType::ConfirmedClinicalDiagnosis => ReportTypeName::ConfirmedClinicalDiagnosis,
            ReportType::SelfReport => ReportTypeName::SelfReport,
            ReportType::Recursive => ReportTypeName::Recursive,
            ReportType::Unknown | ReportType::Revoked => self.report_type_when_missing,
        };
        match name {
            ReportTypeName::ConfirmedTest => w.confirmed_test,
            ReportTypeName::ConfirmedClinicalDiagnosis => w.confirmed_clinical_diagnosis,
            ReportTypeName::SelfReport => w.self_report,
            ReportTypeName::Recursive => w.recursive,
        }
    }

    /// The weight of a key's infectiousness, `None` if the key is outside the infectious days.
    fn infectiousness_weight(&self, days_since_onset: Option<i32>) -> Option<f64> {
        let inf = &self.infectiousness;
        let high = match days_since_onset {
            None => inf.when_missing_is_high,
            Some(d) => {
                let (lo, hi) = inf.infectious_days_since_onset;
                if d < lo || d > hi {
                    return None;
                }
                (inf.high_days_since_onset.0..=inf.high_days_since_onset.1).contains(&d)
            }
        };
        Some(if high {
            inf.high_weight
        } else {
            inf.standard_weight
        })
    }

    /// The transmission risk factor of a key, `None` if its level is dropped.
    fn transmission_factor(&self, level: Option<u8>) -> Option<f64> {
        match level {
            Some(l) if self.dropped_transmission_risk_levels.contains(&l) => None,
            Some(l) => Some(
                self.transmission_risk_multiplier
                    .map_or(1.0, |m| f64::from(l) * m),
            ),
            None => Some(1.0),
        }
    }
}

impl SignedConfig for RiskConfig {
    const NAME: &'static str = "risk configuration";

    fn check(&self) -> Result<(), Error> {
        let bad = |what: &str| Err(invalid_config::<Self>(&self.name, what));
        if self.attenuation_weights.len() != self.attenuation_thresholds_db.len() + 1 {
            return bad("there must be one more attenuation weight than thresholds");
        }
        if !self
            .attenuation_thresholds_db
            .windows(2)
            .all(|w| w[0] < w[1])
        {
            return bad("attenuation thresholds must ascend");
        }
        let weights = self
            .attenuation_weights
            .iter()
            .chain([
                &self.report_type_weights.confirmed_test,
                &self.report_type_weights.confirmed_clinical_diagnosis,
                &self.report_type_weights.self_report,
                &self.report_type_weights.recursive,
                &self.infectiousness.standard_weight,
                &self.infectiousness.high_weight,
                &self.at_risk_minutes_per_day,
            ])
            .chain(self.transmission_risk_multiplier.as_ref())
            .chain(self.min_minutes_below.as_ref().map(|m| &m.minutes));
        for w in weights {
            if !w.is_finite() || *w < 0.0 || *w > 100.0 {
                return bad("weights, minutes and multipliers must be between 0 and 100");
            }
        }
        if self.max_seconds_per_scan == 0 || self.max_seconds_per_scan > 3_600 {
            return bad("max_seconds_per_scan must be 1 to 3600");
        }
        if !(1..=120).contains(&self.exposure_window_minutes) {
            return bad("exposure_window_minutes must be 1 to 120");
        }
        if let Err(why) = self.proximity.check() {
            return bad(&why);
        }
        Ok(())
    }
}

/// What a matched key says about its owner, for weighting (never who they are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyWeighting {
    /// Transmission risk level 1 to 8, if published.
    pub transmission_risk_level: Option<u8>,
    /// How the case was confirmed.
    pub report_type: ReportType,
    /// Days between the key's day and the onset of symptoms.
    pub days_since_onset: Option<i32>,
}

/// One matched scan instance, reduced to what scoring needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredInstance {
    /// When it was heard, UTC unix milliseconds.
    pub time_ms: u64,
    /// Seconds since the previous scan, if known.
    pub seconds_since_previous_scan: Option<u32>,
    /// Attenuation from the mean RSSI, dB.
    pub typical_attenuation_db: f64,
    /// Attenuation from the strongest RSSI, dB.
    pub min_attenuation_db: f64,
}

/// The scan instances of one matched key.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure {
    /// The key's weighting.
    pub key: KeyWeighting,
    /// Its scan instances, in any order.
    pub instances: Vec<ScoredInstance>,
    /// The sender's TX power was not in the payload (bluezone-v3) and the calibration fallback was used.
    pub tx_power_estimated: bool,
}

/// How close the closest scan instance of a day was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProximityBand {
    /// Below the first attenuation threshold (63 dB by default).
    Immediate,
    /// Below the second threshold (73 dB by default).
    Near,
    /// Below the third threshold (79 dB by default).
    Medium,
    /// Beyond every threshold.
    Far,
}

impl ProximityBand {
    fn of_bucket(bucket: usize) -> Self {
        match bucket {
            0 => Self::Immediate,
            1 => Self::Near,
            2 => Self::Medium,
            _ => Self::Far,
        }
    }
}

/// The result for one UTC day: what the user is told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayRisk {
    /// UTC day number (days since 1970-01-01).
    pub day: u32,
    /// Whether the day reaches the configuration's threshold.
    pub at_risk: bool,
    /// Weighted (normalised) minutes of exposure.
    pub weighted_minutes: f64,
    /// Minutes of exposure, before weighting, that counted.
    pub minutes: f64,
    /// How close the closest contact was.
    pub closest: ProximityBand,
    /// The smallest attenuation seen, dB.
    pub min_attenuation_db: f64,
    /// Exposure windows that counted.
    pub windows: u32,
    /// Some TX powers were estimated (bluezone-v3 carries none).
    pub tx_power_estimated: bool,
}

impl DayRisk {
    /// Adds another result for the same day (a later export matched more keys), under `config`.
    pub fn merge(&mut self, other: &DayRisk, config: &RiskConfig) {
        self.weighted_minutes += other.weighted_minutes;
        self.minutes += other.minutes;
        self.windows += other.windows;
        self.closest = self.closest.min(other.closest);
        self.min_attenuation_db = self.min_attenuation_db.min(other.min_attenuation_db);
        self.tx_power_estimated |= other.tx_power_estimated;
        self.at_risk = self.weighted_minutes >= config.at_risk_minutes_per_day;
    }
}

/// Scores matched exposures into per-day results, oldest day first. Days whose windows were all dropped
/// are left out.
pub fn score(exposures: &[Exposure], config: &RiskConfig) -> Vec<DayRisk> {
    let mut days: BTreeMap<u32, DayRisk> = BTreeMap::new();
    let window_ms = u64::from(config.exposure_window_minutes) * 60_000;
    for exposure in exposures {
        let Some(factor) = key_factor(&exposure.key, config) else {
            continue;
        };
        let mut instances = exposure.instances.clone();
        instances.sort_by_key(|i| i.time_ms);
        // Windows of at most `window_ms`, never across a UTC midnight.
        let mut start = 0;
        while start < instances.len() {
            let first = instances[start].time_ms;
            let day = crate::time::day_of_ms(first);
            let end = instances[start..]
                .iter()
                .position(|i| {
                    i.time_ms >= first + window_ms || crate::time::day_of_ms(i.time_ms) != day
                })
                .map_or(instances.len(), |n| start + n);
            if let Some(window) = score_window(&instances[start..end], factor, config) {
                let result = DayRisk {
                    day,
                    at_risk: false,
                    weighted_minutes: window.weighted_minutes,
                    minutes: window.minutes,
                    closest: window.closest,
                    min_attenuation_db: window.min_attenuation_db,
                    windows: 1,
                    tx_power_estimated: exposure.tx_power_estimated,
                };
                days.entry(day)
                    .and_modify(|d| d.merge(&result, config))
                    .or_insert(DayRisk {
                        at_risk: result.weighted_minutes >= config.at_risk_minutes_per_day,
                        ..result
                    });
            }
            start = end;
        }
    }
    days.into_values().collect()
}

/// The product of the report type, infectiousness and transmission risk weights; `None` drops the key.
fn key_factor(key: &KeyWeighting, config: &RiskConfig) -> Option<f64> {
    let infectiousness = config.infectiousness_weight(key.days_since_onset)?;
    let transmission = config.transmission_factor(key.transmission_risk_level)?;
    Some(config.report_type_weight(key.report_type) * infectiousness * transmission)
}

struct WindowScore {
    weighted_minutes: f64,
    minutes: f64,
    closest: ProximityBand,
    min_attenuation_db: f64,
}

fn score_window(
    instances: &[ScoredInstance],
    factor: f64,
    config: &RiskConfig,
) -> Option<WindowScore> {
    let mut minutes_per_bucket = vec![0.0; config.attenuation_weights.len()];
    let mut minutes_below = 0.0;
    let mut min_attenuation = f64::INFINITY;
    let mut credited = Vec::with_capacity(instances.len());
    for i in instances {
        let seconds = i
            .seconds_since_previous_scan
            .unwrap_or(config.max_seconds_per_scan)
            .min(config.max_seconds_per_scan);
        let minutes = f64::from(seconds) / 60.0;
        minutes_per_bucket[config.bucket(i.typical_attenuation_db)] += minutes;
        if let Some(filter) = config.min_minutes_below {
            if i.typical_attenuation_db < f64::from(filter.attenuation_db) {
                minutes_below += minutes;
            }
        }
        min_attenuation = min_attenuation.min(i.min_attenuation_db);
        credited.push(WindowInstance {
            seconds: f64::from(seconds),
            typical_attenuation_db: i.typical_attenuation_db,
            min_attenuation_db: i.min_attenuation_db,
        });
    }
    if let Some(filter) = config.min_minutes_below {
        if minutes_below < filter.minutes {
            return None;
        }
    }
    let (weighted, counted) = match &config.proximity {
        Proximity::Buckets => (
            minutes_per_bucket
                .iter()
                .zip(&config.attenuation_weights)
                .map(|(m, w)| m * w)
                .sum(),
            minutes_per_bucket
                .iter()
                .zip(&config.attenuation_weights)
                .filter(|(_, w)| **w > 0.0)
                .map(|(m, _)| m)
                .sum(),
        ),
        Proximity::NhsUks(model) => (
            model.weighted_minutes(&credited),
            minutes_per_bucket.iter().sum(),
        ),
        Proximity::LikelihoodRatio(model) => (
            model.weighted_minutes(&credited),
            minutes_per_bucket.iter().sum(),
        ),
    };
    Some(WindowScore {
        weighted_minutes: weighted * factor,
        minutes: counted,
        closest: ProximityBand::of_bucket(config.bucket(min_attenuation)),
        min_attenuation_db: min_attenuation,
    })
}

#[cfg(test)]
mod tests;
