//! Finding out that one was there: matching published encrypted check-ins against one's own check-ins,
//! and scoring the overlap as Corona-Warn-App does (cwa-app-android,
//! `presencetracing/risk/calculation/CheckInWarningMatcher.kt`, `PresenceTracingRiskCalculator.kt`,
//! `PresenceTracingRiskModel.kt`):
//!
//! 1. A published report whose location-id hash is the hash of one of this phone's check-ins is opened
//!    with that check-in's location id ([`ProtectedReport::open`]); the others are not even decrypted.
//! 2. The overlap of the stay with the case's span is cut at UTC midnights; each piece counts its minutes,
//!    rounded to the nearest minute.
//! 3. Normalised time = overlap minutes × the transmission risk value of the case's level. It is summed per
//!    check-in and day and mapped to a risk level per check-in, and summed per day and mapped again.
//!
//! The mappings are data ([`PresenceConfig`]), published as signed JSON like the Bluetooth risk
//! configuration; the default is CWA's production configuration of 2021.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::package::VerifiedWarningPackage;
use super::report::{ProtectedReport, ReportSkip};
use super::venue::{LocationId, LocationIdHash};
use crate::export::signing::{invalid_config, SignedConfig};
use crate::wire::Error as WireError;

/// Seconds in a UTC day.
const DAY_SECONDS: u64 = 86_400;

/// The longest span a published check-in may cover, in 10-minute intervals: a stay lasts at most 24
/// hours, 145 intervals once rounded outwards; anything beyond two days is not a real stay.
pub const MAX_RECORD_PERIOD: u32 = 2 * 144;

/// One of this phone's check-ins, as matching needs it. Times are UTC unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckIn {
    /// The venue's location id.
    pub location_id: LocationId,
    /// The venue's name, for telling the user where.
    pub description: String,
    /// The venue's address.
    pub address: String,
    /// When the visitor arrived.
    pub arrival: u64,
    /// When the visitor left (or is planned to leave).
    pub departure: u64,
}

/// A risk level, as CWA's `NormalizedTimeToRiskLevelMapping.RiskLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    /// Low risk (1).
    Low,
    /// High risk (2): the user is told to act.
    High,
}

/// A range of normalised time, as CWA's `Range` (`risk_calculation_parameters.proto`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// Lower limit.
    pub min: f64,
    /// Whether `min` itself is outside the range.
    pub min_exclusive: bool,
    /// Upper limit.
    pub max: f64,
    /// Whether `max` itself is outside the range.
    pub max_exclusive: bool,
}

impl Range {
    /// Whether `value` is in the range.
    pub fn contains(&self, value: f64) -> bool {
        let above = if self.min_exclusive {
            value > self.min
        } else {
            value >= self.min
        };
        let below = if self.max_exclusive {
            value < self.max
        } else {
            value <= self.max
        };
        above && below
    }
}

/// "Normalised time in this range means this risk level."
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskMapping {
    /// The range of normalised minutes.
    pub range: Range,
    /// The level it maps to.
    pub risk: RiskLevel,
}

/// The weight of one transmission risk level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransmissionRiskValue {
    /// The level, 1 to 8.
    pub level: u32,
    /// Its weight per minute of overlap.
    pub value: f64,
}

/// How overlaps are scored: CWA's `PresenceTracingRiskCalculationParameters`
/// (`presence_tracing_parameters.proto`), as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresenceConfig {
    /// Its name, shown with results.
    pub name: String,
    /// Weight per minute of each transmission risk level; a level not listed weighs 0.
    pub transmission_risk_values: Vec<TransmissionRiskValue>,
    /// Normalised time of one check-in on one day to risk level; time in no range has no level.
    pub per_checkin: Vec<RiskMapping>,
    /// Normalised time of all check-ins of one day to risk level.
    pub per_day: Vec<RiskMapping>,
}

impl PresenceConfig {
    /// Corona-Warn-App's production configuration (cwa-server,
    /// `services/distribution/src/main/resources/main-config/v2/presence-tracing-parameters.yaml`, commit
    /// 1cad1e9): levels 1 and 2 weigh 0, 3 to 8 weigh 0.6, 0.8, 1.0, 1.2, 1.4 and 1.6; per check-in and per
    /// day, more than 0 and less than 10 normalised minutes is low risk, 10 or more is high.
    pub fn corona_warn_app_2021() -> Self {
        let values = [0.0, 0.0, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6];
        let mapping = vec![
            RiskMapping {
                range: Range {
                    min: 0.0,
                    min_exclusive: true,
                    max: 10.0,
                    max_exclusive: true,
                },
                risk: RiskLevel::Low,
            },
            RiskMapping {
                range: Range {
                    min: 10.0,
                    min_exclusive: false,
                    max: 999_999.0,
                    max_exclusive: false,
                },
                risk: RiskLevel::High,
            },
        ];
        Self {
            name: "corona-warn-app-2021".into(),
            transmission_risk_values: (1..)
                .zip(values)
                .map(|(level, value)| TransmissionRiskValue { level, value })
                .collect(),
            per_checkin: mapping.clone(),
            per_day: mapping,
        }
    }

    /// The weight per minute of a transmission risk level.
    pub fn transmission_risk_value(&self, level: u32) -> f64 {
        self.transmission_risk_values
            .iter()
            .find(|v| v.level == level)
            .map_or(0.0, |v| v.value)
    }

    fn level(mappings: &[RiskMapping], normalized: f64) -> Option<RiskLevel> {
        mappings
            .iter()
            .find(|m| m.range.contains(normalized))
            .map(|m| m.risk)
    }
}

impl SignedConfig for PresenceConfig {
    const NAME: &'static str = "presence-tracing configuration";

    fn check(&self) -> Result<(), WireError> {
        let bad = |what: &str| Err(invalid_config::<Self>(&self.name, what));
        let mut levels: Vec<u32> = self
            .transmission_risk_values
            .iter()
            .map(|v| v.level)
            .collect();
        levels.sort_unstable();
        levels.dedup();
        if levels.len() != self.transmission_risk_values.len() {
            return bad("a transmission risk level is listed twice");
        }
        if self.transmission_risk_values.iter().any(|v| {
            !(1..=8).contains(&v.level) || !v.value.is_finite() || !(0.0..=100.0).contains(&v.value)
        }) {
            return bad("transmission risk levels are 1 to 8, their values 0 to 100");
        }
        for m in self.per_checkin.iter().chain(&self.per_day) {
            let r = m.range;
            if !r.min.is_finite() || !r.max.is_finite() || r.min > r.max {
                return bad("every range needs finite limits with min <= max");
            }
        }
        Ok(())
    }
}

/// A case's span overlapping one of this phone's check-ins, within one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overlap {
    /// Index of the check-in in the slice given to the matcher.
    pub checkin: usize,
    /// Start of the overlap, UTC unix seconds.
    pub start: u64,
    /// End of the overlap, UTC unix seconds (same UTC day as the start, or its midnight).
    pub end: u64,
    /// The case's transmission risk level.
    pub transmission_risk_level: u32,
}

/// Finds which published reports concern this phone's check-ins.
#[derive(Debug)]
pub struct Matcher<'a> {
    checkins: &'a [CheckIn],
    by_hash: HashMap<LocationIdHash, Vec<usize>>,
}

/// What matching a batch of reports found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatchOutcome {
    /// Reports read.
    pub reports: u64,
    /// Reports whose location-id hash is one of this phone's check-ins.
    pub matched: u64,
    /// Matched reports that did not open (altered, forged by someone who saw the poster, or a hash
    /// collision).
    pub unopened: u64,
    /// Matched reports that opened but cover more than [`MAX_RECORD_PERIOD`] intervals (made up by
    /// someone who saw the poster): ignored.
    pub implausible: u64,
    /// Reports skipped, by reason.
    pub skipped: BTreeMap<ReportSkip, u64>,
    /// The overlaps found.
    pub overlaps: Vec<Overlap>,
}

impl<'a> Matcher<'a> {
    /// An index of `checkins` by location-id hash.
    pub fn new(checkins: &'a [CheckIn]) -> Self {
        let mut by_hash: HashMap<LocationIdHash, Vec<usize>> = HashMap::new();
        for (i, c) in checkins.iter().enumerate() {
            by_hash.entry(c.location_id.hash()).or_default().push(i);
        }
        Self { checkins, by_hash }
    }

    /// Matches every report of a verified package.
    pub fn match_package(&self, package: &VerifiedWarningPackage) -> MatchOutcome {
        self.match_reports(package.reports())
    }

    /// Matches reports (or the reasons they were skipped).
    pub fn match_reports(
        &self,
        reports: impl IntoIterator<Item = Result<ProtectedReport, ReportSkip>>,
    ) -> MatchOutcome {
        let mut outcome = MatchOutcome::default();
        for report in reports {
            outcome.reports += 1;
            let report = match report {
                Ok(r) => r,
                Err(skip) => {
                    *outcome.skipped.entry(skip).or_default() += 1;
                    continue;
                }
            };
            let Some(indices) = self.by_hash.get(&report.location_id_hash) else {
                continue;
            };
            outcome.matched += 1;
            // Every check-in at one venue has the same location id: open once.
            let Ok(record) = report.open(&self.checkins[indices[0]].location_id) else {
                outcome.unopened += 1;
                continue;
            };
            if record.period > MAX_RECORD_PERIOD {
                outcome.implausible += 1;
                continue;
            }
            for &i in indices {
                let c = &self.checkins[i];
                let start = c.arrival.max(record.start());
                let end = c.departure.min(record.end());
                split_at_midnights(start, end, |start, end| {
                    outcome.overlaps.push(Overlap {
                        checkin: i,
                        start,
                        end,
                        transmission_risk_level: record.transmission_risk_level,
                    })
                });
            }
        }
        outcome
    }
}

/// Calls `f` for each UTC-day piece of `[start, end)`, if it is not empty.
fn split_at_midnights(mut start: u64, end: u64, mut f: impl FnMut(u64, u64)) {
    while start < end {
        let midnight = (start / DAY_SECONDS + 1) * DAY_SECONDS;
        let piece_end = end.min(midnight);
        f(start, piece_end);
        start = piece_end;
    }
}

/// The overlap of one check-in with cases on one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitRisk {
    /// Index of the check-in.
    pub checkin: usize,
    /// The venue's name.
    pub description: String,
    /// The venue's address.
    pub address: String,
    /// Start of the earliest overlap, UTC unix seconds.
    pub start: u64,
    /// End of the latest overlap, UTC unix seconds.
    pub end: u64,
    /// Minutes of overlap (each overlap rounded to the minute, as CWA does).
    pub minutes: u64,
    /// Minutes weighted by transmission risk.
    pub normalized_minutes: f64,
    /// The level of this check-in on this day, `None` if in no range (no weighted minute).
    pub risk: Option<RiskLevel>,
}

/// The presence-tracing result of one UTC day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresenceDayRisk {
    /// UTC day number (days since 1970-01-01).
    pub day: u32,
    /// Whether the user is told to act: the day's level, or one check-in's, is high (CWA warns on either).
    pub at_risk: bool,
    /// The day's level, `None` if in no range.
    pub risk: Option<RiskLevel>,
    /// Weighted minutes of the day.
    pub normalized_minutes: f64,
    /// The check-ins that overlapped a case that day.
    pub visits: Vec<VisitRisk>,
}

/// Scores overlaps per check-in and day, then per day (days in order).
pub fn score(
    checkins: &[CheckIn],
    overlaps: &[Overlap],
    config: &PresenceConfig,
) -> Vec<PresenceDayRisk> {
    let mut visits: BTreeMap<(u32, usize), VisitRisk> = BTreeMap::new();
    for o in overlaps {
        let Some(c) = checkins.get(o.checkin) else {
            continue;
        };
        let day = (o.start / DAY_SECONDS) as u32;
        // CWA rounds each overlap's minutes half up (`roundToLong`).
        let minutes = (o.end - o.start + 30) / 60;
        let visit = visits.entry((day, o.checkin)).or_insert_with(|| VisitRisk {
            checkin: o.checkin,
            description: c.description.clone(),
            address: c.address.clone(),
            start: o.start,
            end: o.end,
            minutes: 0,
            normalized_minutes: 0.0,
            risk: None,
        });
        visit.start = visit.start.min(o.start);
        visit.end = visit.end.max(o.end);
        visit.minutes += minutes;
        visit.normalized_minutes +=
            minutes as f64 * config.transmission_risk_value(o.transmission_risk_level);
    }
    let mut days: BTreeMap<u32, PresenceDayRisk> = BTreeMap::new();
    for ((day, _), mut visit) in visits {
        visit.risk = PresenceConfig::level(&config.per_checkin, visit.normalized_minutes);
        let entry = days.entry(day).or_insert_with(|| PresenceDayRisk {
            day,
            at_risk: false,
            risk: None,
            normalized_minutes: 0.0,
            visits: Vec::new(),
        });
        entry.normalized_minutes += visit.normalized_minutes;
        entry.visits.push(visit);
    }
    days.into_values()
        .map(|mut d| {
            d.risk = PresenceConfig::level(&config.per_day, d.normalized_minutes);
            d.at_risk = d.risk == Some(RiskLevel::High)
                || d.visits.iter().any(|v| v.risk == Some(RiskLevel::High));
            d
        })
        .collect()
}

#[cfg(test)]
mod tests;
