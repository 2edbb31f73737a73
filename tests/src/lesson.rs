//! Sightings of a close contact, for the end-to-end tests that follow a key from a phone to a match.

use openzone_core::protocol::en_v1::{EnV1, ExposureKey};
use openzone_core::protocol::Scheme;
use openzone_core::sighting::{Sighting, Source};
use openzone_core::time::MS_PER_DAY;

/// A 40-minute lesson next to the person on UTC day `day` from 08:00: a scan every 5 minutes, 4 sightings
/// per scan at about -55 dBm, enough for any risk configuration to call the day at risk.
///
/// # Panics
/// If `person`'s key is not valid at that time (a test's mistake).
pub fn lesson_sightings(person: &ExposureKey, day: u32) -> Vec<Sighting> {
    let scheme = EnV1::new(-25);
    let start_ms = u64::from(day) * MS_PER_DAY + 8 * 3_600_000;
    let mut out = Vec::new();
    for scan in 0..8u64 {
        let t = start_ms + scan * 300_000;
        let interval = EnV1::slot_at(person, t / 1000)
            .expect("the key is valid during the lesson")
            .index;
        let payload = scheme.payload(person, interval);
        for k in 0..4u64 {
            out.push(Sighting {
                payload,
                rssi: -55 - k as i8,
                tx_power: None,
                time_ms: t + k * 700,
                source: Source::Advertisement,
            });
        }
    }
    out
}
