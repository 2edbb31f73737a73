//! The heavy user of the store's benchmark: 40 peers around all day, a 4-second scan window every
//! 5 minutes, 10 hours a day, for 14 days. Each peer is heard 8 times per window (an advertisement every
//! 250 ms with half of them lost) and changes its RPI every 15 minutes, as en-v1 phones do.

use openzone_core::export::{ExportKey, ReportType};
use openzone_core::protocol::en_v1::{Aem, ExposureKey, Rpi, TemporaryExposureKey};
use openzone_core::protocol::Payload;
use openzone_core::seeded::SplitMix64;
use openzone_core::sighting::{Sighting, Source};
use openzone_core::store::{DataKey, Store, StoreConfig};
use openzone_core::Error;

/// Peers around the heavy user.
pub const PEERS: u64 = 40;
/// Scan windows per hour (one every 5 minutes).
pub const WINDOWS_PER_HOUR: u64 = 12;
/// Hours a day with peers around.
pub const HOURS_PER_DAY: u64 = 10;
/// Days kept.
pub const DAYS: u64 = 14;
/// Sightings of each peer in each window.
pub const SIGHTINGS_PER_PEER: u64 = 8;

/// Scan windows in one day.
pub const WINDOWS_PER_DAY: u64 = WINDOWS_PER_HOUR * HOURS_PER_DAY;

/// The sightings of scan window `w` (counted from 0 over the whole 14 days), starting at `t0_ms`.
pub fn window(t0_ms: u64, w: u64) -> Vec<Sighting> {
    let day = w / WINDOWS_PER_DAY;
    let start = t0_ms + day * 86_400_000 + (w % WINDOWS_PER_DAY) * 300_000;
    let mut out = Vec::with_capacity((PEERS * SIGHTINGS_PER_PEER) as usize);
    for k in 0..SIGHTINGS_PER_PEER {
        for peer in 0..PEERS {
            // A new RPI every three windows (15 minutes).
            let rotation = w / 3;
            // Real RPIs are AES outputs, uniform in every bit; the index's filter and directory rely on
            // that, so the benchmark's must be too.
            let mut bits = SplitMix64::new(peer << 32 | rotation);
            let mut rpi = [0u8; 16];
            rpi[..8].copy_from_slice(&bits.next_u64().to_le_bytes());
            rpi[8..].copy_from_slice(&bits.next_u64().to_le_bytes());
            out.push(Sighting {
                payload: Payload::EnV1 {
                    rpi: Rpi(rpi),
                    aem: Aem([peer as u8, 1, 2, 3]),
                },
                rssi: -55 - ((peer * 7 + k * 3) % 40) as i8,
                tx_power: None,
                time_ms: start + k * 500,
                source: Source::Advertisement,
            });
        }
    }
    out
}

/// 2026-11-01T00:00:00Z, the heavy user's first day.
pub const T0_MS: u64 = 1_793_491_200_000;

/// A fresh store for the heavy user in `dir`, as a phone opens it.
pub fn open_store(dir: &std::path::Path) -> Result<Store, Error> {
    Store::open(
        dir,
        &DataKey::from_bytes([7; 32]),
        StoreConfig::default(),
        T0_MS,
    )
}

/// Records scan window `w` and, as the engine does, checkpoints after each hour of scanning.
pub fn record_window(store: &Store, w: u64, batch: &[Sighting]) -> Result<(), Error> {
    store.record(batch)?;
    if w % WINDOWS_PER_HOUR == WINDOWS_PER_HOUR - 1 {
        store.checkpoint(batch[0].time_ms)?;
    }
    Ok(())
}

/// A store in `dir` holding all 14 days of the heavy user.
pub fn filled_store(dir: &std::path::Path) -> Result<Store, Error> {
    let store = open_store(dir)?;
    for w in 0..WINDOWS_PER_DAY * DAYS {
        record_window(&store, w, &window(T0_MS, w))?;
    }
    store.checkpoint(T0_MS + DAYS * 86_400_000)?;
    Ok(store)
}

/// `count` distinct published en-v1 keys spread over the heavy user's 14 days, as a key server exports
/// them (confirmed test, transmission risk 6).
pub fn published_keys(count: u32) -> Result<Vec<ExportKey>, Error> {
    let first_day = (T0_MS / 86_400_000) as u32;
    (0..count)
        .map(|i| {
            let mut tek = [0u8; 16];
            tek[..4].copy_from_slice(&i.to_le_bytes());
            tek[4..8].copy_from_slice(&i.wrapping_mul(2_654_435_761).to_le_bytes());
            Ok(ExportKey {
                key: ExposureKey::new(
                    TemporaryExposureKey::from_bytes(tek),
                    (first_day + i % DAYS as u32) * 144,
                    144,
                )?,
                transmission_risk_level: Some(6),
                report_type: ReportType::ConfirmedTest,
                days_since_onset: Some(0),
            })
        })
        .collect()
}

/// The process's peak resident memory so far (VmHWM), in KiB; 0 where /proc does not say.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
