//! openzone-sim: a school simulated on virtual time, to see whether the right people get notified.
//!
//! Every student and teacher carries a phone running the real engine state machine
//! ([`openzone_core::engine::EngineCore`]) with a real sled store, on a simulated radio ([`radio`]). People
//! move through a school day ([`school`]); on the report day some students test positive: an officer
//! issues codes on the real key server on loopback, the phones upload, the server publishes, and every
//! phone syncs and matches over HTTP. The same school is then run again on the bluezone-v3 scheme to
//! compare with Bluezone's own rule (any sighting is a contact). Every classroom also has a QR poster
//! (`checkins`): the en-v1 run's phones check in, the cases' encrypted check-ins go up with their keys, the
//! server publishes them in a warning package, and the presence warnings the phones' syncs tell of are
//! measured beside the Bluetooth rules.
//!
//! The ground truth is computed from the positions alone: the pairs closer than 2 m for at least 15
//! minutes in total on a day. [`run`] returns the evaluation ([`SimReport`]); [`report`] writes it as an
//! HTML page with SVG plots.

#![forbid(unsafe_code)]

mod authority;
mod checkins;
mod phone;
pub mod radio;
pub mod report;
pub mod scenario;
pub mod school;
mod world;

use std::collections::HashMap;

use openzone_core::export::signing::SignedConfig;
use openzone_core::protocol::SchemeId;
use openzone_core::risk::RiskConfig;
use openzone_core::seeded::SplitMix64;
use serde::Serialize;

pub use scenario::Scenario;
use school::{School, DAY_MINUTES};
use world::{RunResult, World};

/// What can stop a simulation.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The scenario does not make sense.
    #[error("invalid scenario: {0}")]
    Scenario(String),
    /// The machine could not host it (threads, sockets, directories).
    #[error("cannot run the simulation: {0}")]
    Setup(String),
    /// The core failed.
    #[error("{0}")]
    Core(#[from] openzone_core::Error),
    /// What phones and the key server share refused the input or failed (openzone-wire).
    #[error(transparent)]
    Wire(#[from] openzone_core::wire::Error),
    /// The key server failed.
    #[error("key server: {0}")]
    Server(#[from] openzone_server::ServerError),
}

/// How far a run is, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Which run: `en-v1` or `bluezone-v3`.
    pub run: &'static str,
    /// Share of the run's virtual time done, per mille.
    pub permille: u32,
}

/// How well one scheme and rule notified the right people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// The identifier scheme.
    pub scheme: String,
    /// The notification rule: `risk-score` (the risk configuration's threshold), `any-sighting`
    /// (Bluezone's: one sighting of a published identifier is a contact) or `presence-tracing` (a QR
    /// check-in overlapping a case's, scored as Corona-Warn-App does; scheme `qr-check-in`).
    pub rule: String,
    /// True close contacts (person-days within 2 m of a case for 15 minutes or more).
    pub true_contacts: u64,
    /// Person-days notified.
    pub notified: u64,
    /// Notified and truly close.
    pub true_positives: u64,
    /// Notified but not close.
    pub false_positives: u64,
    /// Close but not notified.
    pub false_negatives: u64,
    /// TP / (TP + FP).
    pub precision: f64,
    /// TP / (TP + FN).
    pub recall: f64,
    /// The harmonic mean of the two.
    pub f1: f64,
}

impl Evaluation {
    fn new(scheme: &str, rule: &str, truth: &[bool], predicted: &[bool]) -> Self {
        let (mut tp, mut fp, mut fn_) = (0u64, 0u64, 0u64);
        for (t, p) in truth.iter().zip(predicted) {
            match (t, p) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (true, false) => fn_ += 1,
                (false, false) => {}
            }
        }
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, tp + fn_);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Self {
            scheme: scheme.into(),
            rule: rule.into(),
            true_contacts: tp + fn_,
            notified: tp + fp,
            true_positives: tp,
            false_positives: fp,
            false_negatives: fn_,
            precision,
            recall,
            f1,
        }
    }
}

/// Summary statistics of a per-phone figure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    /// Smallest.
    pub min: f64,
    /// Median.
    pub median: f64,
    /// Largest.
    pub max: f64,
}

impl Spread {
    fn of(values: &mut [f64]) -> Self {
        if values.is_empty() {
            return Self {
                min: 0.0,
                median: 0.0,
                max: 0.0,
            };
        }
        values.sort_by(f64::total_cmp);
        Self {
            min: values[0],
            median: values[values.len() / 2],
            max: values[values.len() - 1],
        }
    }
}

/// One person-day of the evaluation, for the per-class view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    /// Close and notified.
    TruePositive,
    /// Notified, not close.
    FalsePositive,
    /// Close, not notified.
    FalseNegative,
    /// Neither.
    Clear,
    /// A case.
    Case,
}

/// The simulation's results.
#[derive(Debug, Clone, Serialize)]
pub struct SimReport {
    /// The scenario.
    pub scenario: Scenario,
    /// One evaluation per scheme and rule.
    pub evaluations: Vec<Evaluation>,
    /// Minutes from the upload to each notification (en-v1, notified phones).
    pub notification_minutes: Spread,
    /// Notified phones (en-v1).
    pub phones_notified: u64,
    /// Per phone: the share of time the receiver was on (en-v1 run).
    pub scan_duty: Spread,
    /// The share of time spent advertising (every phone).
    pub advertising_duty: f64,
    /// Per phone: bytes downloaded from the key server (en-v1 run).
    pub bytes_downloaded: Spread,
    /// Simulated phone-days per second of run time (both runs).
    pub phone_days_per_second: f64,
    /// Seconds the runs took.
    pub elapsed_secs: f64,
    /// Sightings delivered to engines (en-v1 run).
    pub sightings: u64,
    /// QR check-ins made on the phones before the report (en-v1 run).
    pub checkins: u64,
    /// Phones told of a presence warning at risk (en-v1 run).
    pub presence_phones_warned: u64,
    /// (true distance, attenuation) of a sample of sightings.
    #[serde(skip)]
    pub attenuation_samples: Vec<(f32, f32)>,
    /// Precision and recall of the risk rule against the threshold (weighted minutes per day).
    pub threshold_sweep: Vec<(f64, f64, f64)>,
    /// Per class (and a last row for teachers): each member's outcome under the risk rule, worst day.
    #[serde(skip)]
    pub per_class: Vec<Vec<Outcome>>,
}

/// Runs a scenario: the en-v1 school with the key server, then the same school on bluezone-v3.
pub fn run(
    scenario: &Scenario,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<SimReport, SimError> {
    scenario.check()?;
    let risk = risk_config(&scenario.risk)?;
    let started = std::time::Instant::now();
    let school = School::new(scenario);
    let cases = pick_cases(scenario);
    let days = infectious_days(scenario);
    let truth = ground_truth(scenario, &cases, &days);

    // The two schemes' runs share nothing but the school: one per core.
    let one_run = |scheme: SchemeId, label: &'static str| -> Result<RunResult, SimError> {
        let mut world = World::new(
            scenario,
            School::new(scenario),
            scheme,
            cases.clone(),
            risk.clone(),
        )?;
        world.run(progress, label)?;
        world.finish()
    };
    let (en, bz) = std::thread::scope(|scope| {
        let bz = scope.spawn(|| one_run(SchemeId::BluezoneV3, "bluezone-v3"));
        let en = one_run(SchemeId::EnV1, "en-v1");
        let bz = bz
            .join()
            .unwrap_or_else(|_| Err(SimError::Setup("the bluezone-v3 run crashed".into())));
        (en, bz)
    });
    let (en, bz) = (en?, bz?);
    let elapsed = started.elapsed().as_secs_f64();

    let people = scenario.people() as usize;
    let units: Vec<(usize, u32)> = (0..people)
        .filter(|p| !cases.contains(p))
        .flat_map(|p| days.iter().map(move |&d| (p, d)))
        .collect();
    let truth_flags: Vec<bool> = units
        .iter()
        .map(|u| truth.get(u).copied().unwrap_or(0) >= 15 * 60)
        .collect();
    let at_risk =
        |r: &RunResult, (p, d): &(usize, u32)| r.risk_days[*p].get(d).is_some_and(|(a, _)| *a);
    let en_flags: Vec<bool> = units.iter().map(|u| at_risk(&en, u)).collect();
    let bz_risk: Vec<bool> = units.iter().map(|u| at_risk(&bz, u)).collect();
    let bz_any: Vec<bool> = units
        .iter()
        .map(|(p, d)| bz.any_sighting_days[*p].contains(d))
        .collect();
    let presence: Vec<bool> = units
        .iter()
        .map(|(p, d)| en.presence_days[*p].binary_search(d).is_ok())
        .collect();
    let evaluations = vec![
        Evaluation::new("en-v1", "risk-score", &truth_flags, &en_flags),
        Evaluation::new("bluezone-v3", "any-sighting", &truth_flags, &bz_any),
        Evaluation::new("bluezone-v3", "risk-score", &truth_flags, &bz_risk),
        Evaluation::new("qr-check-in", "presence-tracing", &truth_flags, &presence),
    ];

    let threshold_sweep = (0..=60)
        .map(|t| {
            let t = f64::from(t);
            let predicted: Vec<bool> = units
                .iter()
                .map(|(p, d)| {
                    en.risk_days[*p]
                        .get(d)
                        .is_some_and(|(_, w)| *w >= t && *w > 0.0)
                })
                .collect();
            let e = Evaluation::new("en-v1", "sweep", &truth_flags, &predicted);
            (t, e.precision, e.recall)
        })
        .collect();

    let mut per_class: Vec<Vec<Outcome>> = vec![Vec::new(); school.classes() as usize + 1];
    for p in 0..people {
        let row = school
            .class_of(p as u32)
            .map_or(per_class.len() - 1, |c| c as usize);
        let outcome = if cases.contains(&p) {
            Outcome::Case
        } else {
            let close = days
                .iter()
                .any(|&d| truth.get(&(p, d)).copied().unwrap_or(0) >= 15 * 60);
            let notified = days.iter().any(|&d| at_risk(&en, &(p, d)));
            match (close, notified) {
                (true, true) => Outcome::TruePositive,
                (false, true) => Outcome::FalsePositive,
                (true, false) => Outcome::FalseNegative,
                (false, false) => Outcome::Clear,
            }
        };
        per_class[row].push(outcome);
    }

    let mut minutes: Vec<f64> = en
        .notified_after_ms
        .iter()
        .flatten()
        .map(|ms| *ms as f64 / 60_000.0)
        .collect();
    let phones_notified = minutes.len() as u64;
    let phone_days = 2.0 * people as f64 * f64::from(scenario.days);
    Ok(SimReport {
        scenario: scenario.clone(),
        evaluations,
        notification_minutes: Spread::of(&mut minutes),
        phones_notified,
        scan_duty: Spread::of(&mut en.scan_share.clone()),
        advertising_duty: en.advertising_share,
        bytes_downloaded: Spread::of(
            &mut en
                .bytes_downloaded
                .iter()
                .map(|b| *b as f64)
                .collect::<Vec<_>>(),
        ),
        phone_days_per_second: phone_days / elapsed.max(1e-9),
        elapsed_secs: elapsed,
        sightings: en.sightings,
        checkins: en.checkins,
        presence_phones_warned: en.presence_days.iter().filter(|d| !d.is_empty()).count() as u64,
        attenuation_samples: en.attenuation_samples,
        threshold_sweep,
        per_class,
    })
}

fn risk_config(spec: &str) -> Result<RiskConfig, SimError> {
    if spec.ends_with(".json") {
        let text = std::fs::read(spec).map_err(|e| SimError::Scenario(format!("{spec}: {e}")))?;
        return Ok(RiskConfig::from_json(&text)?);
    }
    Ok(RiskConfig::named(spec)?)
}

/// The students who become cases, drawn from the seed.
fn pick_cases(s: &Scenario) -> Vec<usize> {
    let mut rng = SplitMix64::new(s.seed ^ 0xCA5E);
    let mut cases = Vec::new();
    while cases.len() < s.cases as usize {
        let c = rng.between(0, u64::from(s.students) - 1) as usize;
        if !cases.contains(&c) {
            cases.push(c);
        }
    }
    cases
}

/// The 0-based days whose keys are published: from two days before the onset to the report.
fn infectious_days(s: &Scenario) -> Vec<u32> {
    ((s.onset_day - 1).saturating_sub(2)..s.report_day).collect()
}

/// Seconds each person spent within 2 m of any case, per 0-based day: from the positions, minute by minute.
fn ground_truth(s: &Scenario, cases: &[usize], days: &[u32]) -> HashMap<(usize, u32), u64> {
    let mut school = School::new(s);
    let report_minute = ((s.report_hour - 7.0) * 60.0) as u32;
    for &c in cases {
        school.send_home(c as u32, s.report_day - 1, report_minute);
    }
    let mut seconds: HashMap<(usize, u32), u64> = HashMap::new();
    for &day in days {
        for minute in 0..DAY_MINUTES {
            let case_places: Vec<_> = cases
                .iter()
                .map(|&c| school.place(c as u32, day, minute))
                .collect();
            if case_places.iter().all(|p| p.room == school::Room::Away) {
                continue;
            }
            for p in 0..s.people() {
                if cases.contains(&(p as usize)) {
                    continue;
                }
                let place = school.place(p, day, minute);
                if case_places
                    .iter()
                    .any(|c| c.room == place.room && c.distance(&place) < 2.0)
                {
                    *seconds.entry((p as usize, day)).or_default() += 60;
                }
            }
        }
    }
    seconds
}

#[cfg(test)]
mod tests;
