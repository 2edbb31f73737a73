//! From recordings to contacts: the unit that is scored and counted.
//!
//! A contact is 15 minutes of two phones together, the duration of "15 minutes within 2 m". The receiving
//! phone scans on the engine's background schedule (a 4 s scan every 240 to 300 s, at a random phase), and
//! each scan hears what the recording holds:
//!
//! - **Contact recordings** (H0H1: each test is one contact, labelled by its folder): a scan at minute `t` of
//!   the contact hears the readings of the 4 s at `t` into the recording, the recording repeating if it is
//!   shorter than 15 minutes (so a short test stands for a contact of 15 minutes in the same situation).
//!   A scan that falls where the phone logged nothing hears nothing.
//! - **Distance sweeps** (pc-ng, Herald: a minute or more at each distance): a contact at a distance is
//!   stitched from the readings of that distance in one recording (one carriage pair, one direction): each
//!   scan hears a 4 s window drawn at random from them. It is labelled within 2 m when the distance is at
//!   most 200 cm. It answers "had these two phones spent 15 minutes at this distance in this carriage,
//!   would the day be at risk?": a sweep holds one posture per distance, so the contact has less variety
//!   than a real one.
//!
//! Each segment (a recording at one distance, or a whole contact recording) yields several contacts with
//! different scan phases and windows; all contacts of one session and distance form one cluster, which the
//! bootstrap resamples as a whole.

use openzone_core::engine::schedule::DutyCycle;
use openzone_core::seeded::SplitMix64;

use crate::datasets::{Dataset, Distance, Label, Reading, Recording, ScanWindows, NEAR_CM};

/// The length of a scan window, ms (the engine's background scan, 4 s).
const SCAN_MS: i64 = 4_000;

/// How contacts are built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// Minutes of each contact.
    pub minutes: u32,
    /// Contacts per segment.
    pub replicates: usize,
    /// Seed of the scan phases and window draws.
    pub seed: u64,
    /// The receiver's scan schedule.
    pub schedule: DutyCycle,
}

/// One contact, ready to replay.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    /// The recording it comes from (index into the dataset's recordings).
    pub recording: usize,
    /// The bootstrap's unit: session and distance.
    pub cluster: String,
    /// Within 2 m.
    pub near: bool,
    /// The distance, for fitting a path-loss model: the true one, else the mean of the ranges the testers
    /// noted.
    pub distance: Distance,
    /// What the receiver heard: (ms since the contact began, RSSI dBm).
    pub sightings: Vec<(u64, i8)>,
}

/// Every contact of a dataset.
pub fn build(dataset: &Dataset, plan: &Plan) -> Vec<Contact> {
    let mut out = Vec::new();
    for (index, recording) in dataset.recordings.iter().enumerate() {
        for segment in segments(recording) {
            let mut rng = SplitMix64::new(plan.seed ^ fnv1a(&segment.key));
            for _ in 0..plan.replicates {
                out.push(Contact {
                    recording: index,
                    cluster: segment.cluster.clone(),
                    near: segment.near,
                    distance: segment.distance,
                    sightings: contact_sightings(recording, &segment, plan, &mut rng),
                });
            }
        }
    }
    out
}

/// The readings one contact can draw from.
struct Segment {
    key: String,
    cluster: String,
    near: bool,
    distance: Distance,
    /// Readings in time order.
    readings: Vec<Reading>,
}

fn segments(recording: &Recording) -> Vec<Segment> {
    match recording.label {
        Label::Contact { near } => {
            let mut readings = recording.readings.clone();
            readings.sort_by_key(|r| r.t_ms);
            let noted: Vec<f64> = readings
                .iter()
                .filter_map(|r| match r.distance {
                    Distance::NotedM(m) => Some(m),
                    _ => None,
                })
                .collect();
            vec![Segment {
                key: recording.name.clone(),
                cluster: recording.session.clone(),
                near,
                distance: if noted.is_empty() {
                    Distance::Unknown
                } else {
                    Distance::NotedM(noted.iter().sum::<f64>() / noted.len() as f64)
                },
                readings,
            }]
        }
        Label::ByDistance => {
            let bin = recording.bin_cm.max(1);
            let mut bins: std::collections::BTreeMap<u32, Vec<Reading>> = Default::default();
            for r in &recording.readings {
                if let Distance::MeasuredCm(d) = r.distance {
                    // Upper edges, so that 200 cm stays within 2 m and 201-210 cm does not.
                    bins.entry(d.div_ceil(bin) * bin).or_default().push(*r);
                }
            }
            bins.into_iter()
                .map(|(d, readings)| Segment {
                    key: format!("{} @ {d}", recording.name),
                    cluster: format!("{} @ {d}", recording.session),
                    near: d <= NEAR_CM,
                    distance: Distance::MeasuredCm(d),
                    readings,
                })
                .collect()
        }
    }
}

/// The sightings of one contact: one 4 s window per background scan.
fn contact_sightings(
    recording: &Recording,
    segment: &Segment,
    plan: &Plan,
    rng: &mut SplitMix64,
) -> Vec<(u64, i8)> {
    let length_ms = i64::from(plan.minutes) * 60_000;
    let (lo, hi) = (
        i64::from(plan.schedule.period_min_secs) * 1_000,
        i64::from(
            plan.schedule
                .period_max_secs
                .max(plan.schedule.period_min_secs),
        ) * 1_000,
    );
    let mut out = Vec::new();
    let mut scan = rng.between(0, hi as u64 - 1) as i64;
    while scan < length_ms {
        let window = match recording.label {
            Label::Contact { .. } => window_at(&segment.readings, scan),
            Label::ByDistance => random_window(&segment.readings, recording, rng),
        };
        out.extend(
            window
                .into_iter()
                .map(|(offset, rssi)| ((scan + offset) as u64, rssi)),
        );
        scan += rng.between(lo as u64, hi as u64) as i64;
    }
    out
}

/// The readings of the 4 s at `t` ms into a contact recording, repeating it when it is shorter.
fn window_at(readings: &[Reading], t: i64) -> Vec<(i64, i8)> {
    let (Some(first), Some(last)) = (readings.first(), readings.last()) else {
        return Vec::new();
    };
    let length = (last.t_ms - first.t_ms + 1).max(SCAN_MS);
    let start = first.t_ms + t.rem_euclid(length);
    let from = readings.partition_point(|r| r.t_ms < start);
    readings[from..]
        .iter()
        .take_while(|r| r.t_ms < start + SCAN_MS)
        .map(|r| (r.t_ms - start, r.rssi))
        .collect()
}

/// A 4 s window drawn at random from a sweep's readings at one distance: from a random reading, the
/// readings that follow it within 4 s (or, on a coarse clock, the next [`ScanWindows::ByCount`]).
fn random_window(
    readings: &[Reading],
    recording: &Recording,
    rng: &mut SplitMix64,
) -> Vec<(i64, i8)> {
    if readings.is_empty() {
        return Vec::new();
    }
    let i = rng.between(0, readings.len() as u64 - 1) as usize;
    let start = readings[i].t_ms;
    match recording.windows {
        ScanWindows::ByCount(n) => readings[i..]
            .iter()
            .take(n)
            .enumerate()
            .map(|(k, r)| (k as i64 * SCAN_MS / n as i64, r.rssi))
            .collect(),
        ScanWindows::ByTime => readings[i..]
            .iter()
            .take_while(|r| r.t_ms >= start && r.t_ms < start + SCAN_MS)
            .map(|r| (r.t_ms - start, r.rssi))
            .collect(),
    }
}

/// FNV-1a of a string: a stable seed per segment, whatever the order segments are built in.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::Phone;

    fn reading(t_ms: i64, rssi: i8, dist_cm: Option<u32>) -> Reading {
        Reading {
            t_ms,
            rssi,
            distance: dist_cm.map_or(Distance::Unknown, Distance::MeasuredCm),
        }
    }

    fn recording(label: Label, readings: Vec<Reading>) -> Recording {
        Recording {
            name: "r".into(),
            session: "s".into(),
            carriage: "HH".into(),
            receiver: Phone::named("HTC One M9"),
            sender: Phone::named("gryphonelab"),
            readings,
            label,
            windows: ScanWindows::ByTime,
            bin_cm: 1,
        }
    }

    fn plan() -> Plan {
        Plan {
            minutes: 15,
            replicates: 4,
            seed: 5,
            schedule: openzone_core::engine::Schedules::default().background,
        }
    }

    #[test]
    fn a_contact_recording_repeats_and_scans_hear_its_four_seconds() {
        // One reading a second for 60 s (59.001 s long): 1 s after its end a scan hears 1-5 s again.
        let readings: Vec<Reading> = (0..60)
            .map(|s| reading(s * 1_000, -60 - s as i8, None))
            .collect();
        let heard = window_at(&readings, 60_001);
        assert_eq!(heard.len(), 4);
        assert_eq!(heard[0], (0, -61));
        assert!(window_at(&[], 0).is_empty());
        let dataset = Dataset {
            name: "d".into(),
            source: String::new(),
            recordings: vec![recording(Label::Contact { near: true }, readings)],
            files: Vec::new(),
            synthetic: false,
        };
        let contacts = build(&dataset, &plan());
        assert_eq!(contacts.len(), 4);
        assert!(contacts.iter().all(|c| c.near && c.cluster == "s"));
        // 15 minutes, a scan every 240-300 s: 3 or 4 scans of 4 readings.
        for c in &contacts {
            assert!(
                [12, 16].contains(&c.sightings.len()),
                "{}",
                c.sightings.len()
            );
            assert!(c.sightings.iter().all(|(t, _)| *t < 15 * 60_000 + 4_000));
        }
        assert_eq!(contacts, build(&dataset, &plan()));
    }

    #[test]
    fn sweeps_make_one_segment_per_distance_labelled_by_two_metres() {
        let readings: Vec<Reading> = (0..200)
            .map(|k| reading(k * 250, -50, Some(if k < 100 { 200 } else { 300 })))
            .collect();
        let dataset = Dataset {
            name: "d".into(),
            source: String::new(),
            recordings: vec![recording(Label::ByDistance, readings)],
            files: Vec::new(),
            synthetic: false,
        };
        let contacts = build(&dataset, &plan());
        assert_eq!(contacts.len(), 8);
        let near: Vec<_> = contacts.iter().filter(|c| c.near).collect();
        assert_eq!(near.len(), 4);
        assert!(near
            .iter()
            .all(|c| c.distance == Distance::MeasuredCm(200) && c.cluster == "s @ 200"));
        // A 4 s window of readings 250 ms apart holds at most 16 of them.
        assert!(contacts
            .iter()
            .all(|c| !c.sightings.is_empty() && c.sightings.len() <= 4 * 16));
    }
}
