//! A deterministic stream of sightings for the store's crash and bad-condition tests: sighting `seq` has
//! its own identifier, so after any crash the test knows exactly which sightings must be in the store.

use std::path::Path;

use openzone_core::protocol::en_v1::{Aem, Rpi};
use openzone_core::protocol::{Identifier, Payload};
use openzone_core::sighting::{Sighting, Source};
use openzone_core::store::{DataKey, Store, StoreConfig};
use openzone_core::Error;

/// Sightings recorded between two checkpoints.
pub const BATCH: u64 = 50;

/// 2026-11-01T00:00:00Z, the time of sighting 0.
pub const T0_MS: u64 = 1_793_491_200_000;

/// The data key the tests use.
pub fn data_key() -> DataKey {
    DataKey::from_bytes([0x5E; 32])
}

/// Opens the test store, with a clock at the start of the stream so that nothing is purged.
pub fn open_store(dir: &Path) -> Result<Store, Error> {
    open_store_with(dir, StoreConfig::default())
}

/// Opens the test store with a configuration of the test's choosing.
pub fn open_store_with(dir: &Path, config: StoreConfig) -> Result<Store, Error> {
    Store::open(dir, &data_key(), config, T0_MS)
}

/// The identifier of sighting `seq`.
pub fn rpi(seq: u64) -> Rpi {
    let mut bytes = [0xC0; 16];
    bytes[..8].copy_from_slice(&seq.to_be_bytes());
    Rpi(bytes)
}

/// When sighting `seq` was heard: 100 ms apart within a run of a million; runs come in pairs that start
/// at the same moment (as a phone restarted within a scan window would write into it again), each pair
/// 20 minutes after the previous one, so nothing ages out.
pub fn time_of(seq: u64) -> u64 {
    let run = seq / 1_000_000;
    T0_MS + (run / 2) * 1_200_000 + (seq % 1_000_000) * 100
}

/// Sightings `first..first + n`.
pub fn sightings(first: u64, n: u64) -> Vec<Sighting> {
    (first..first + n)
        .map(|seq| Sighting {
            payload: Payload::EnV1 {
                rpi: rpi(seq),
                aem: Aem([1, 2, 3, 4]),
            },
            rssi: -60 - (seq % 30) as i8,
            tx_power: None,
            time_ms: time_of(seq),
            source: Source::Advertisement,
        })
        .collect()
}

/// Checks that sightings `0..=last` are all in the store, each exactly once and intact.
pub fn check_acked(store: &Store, last: u64) -> Result<(), String> {
    check_ranges(store, &[(0, last)])
}

/// Checks, in one pass over the store, that the sightings of every range `first..=last` are all there,
/// each exactly once and intact, and that no record is damaged.
pub fn check_ranges(store: &Store, ranges: &[(u64, u64)]) -> Result<(), String> {
    let mut seen: Vec<Vec<u32>> = ranges
        .iter()
        .map(|&(first, last)| vec![0; (last - first + 1) as usize])
        .collect();
    let instances = store
        .scan_instances(0, u64::MAX)
        .map_err(|e| format!("reading the store: {e}"))?;
    for instance in instances {
        let Identifier::EnV1(rpi) = instance.identifier() else {
            return Err("a bluezone-v3 instance appeared from nowhere".into());
        };
        let seq = u64::from_be_bytes(rpi.0[..8].try_into().map_err(|_| "bad identifier")?);
        if rpi.0[8..] != [0xC0; 8] {
            return Err(format!("instance {seq} has a damaged identifier"));
        }
        if instance.count != 1 || instance.first_seen_ms != time_of(seq) {
            return Err(format!("instance {seq} is damaged: {instance:?}"));
        }
        for (range, seen) in ranges.iter().zip(&mut seen) {
            if (range.0..=range.1).contains(&seq) {
                seen[(seq - range.0) as usize] += 1;
            }
        }
    }
    for (range, seen) in ranges.iter().zip(&seen) {
        if let Some(missing) = seen.iter().position(|&n| n == 0) {
            return Err(format!(
                "acknowledged sighting {} is missing",
                range.0 + missing as u64
            ));
        }
        if let Some(twice) = seen.iter().position(|&n| n > 1) {
            return Err(format!(
                "sighting {} is stored twice",
                range.0 + twice as u64
            ));
        }
    }
    Ok(())
}
