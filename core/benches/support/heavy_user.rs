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

/// Scan windows in one school day.
pub const WINDOWS_PER_DAY: u64 = WINDOWS_PER_HOUR * HOURS_PER_DAY;

/// Who is around: how many peers, and for how many hours of each day.
#[derive(Debug, Clone, Copy)]
pub struct Crowd {
    /// Peers heard in every scan window.
    pub peers: u64,
    /// Hours a day with peers around, from midnight UTC.
    pub hours_per_day: u64,
}

/// The store benchmark's heavy user: 40 peers, 10 hours a day.
pub const SCHOOL_DAY: Crowd = Crowd {
    peers: PEERS,
    hours_per_day: HOURS_PER_DAY,
};

/// The whole-process match measurement's heavy user: a scan every 5 minutes around the clock, 20 phones
/// heard each time.
pub const AROUND_THE_CLOCK: Crowd = Crowd {
    peers: 20,
    hours_per_day: 24,
};

impl Crowd {
    /// Scan windows in one day.
    pub fn windows_per_day(&self) -> u64 {
        WINDOWS_PER_HOUR * self.hours_per_day
    }

    /// The sightings of scan window `w` (counted from 0 over the whole 14 days), starting at `t0_ms`.
    pub fn window(&self, t0_ms: u64, w: u64) -> Vec<Sighting> {
        let per_day = self.windows_per_day();
        let day = w / per_day;
        let start = t0_ms + day * 86_400_000 + (w % per_day) * 300_000;
        let mut out = Vec::with_capacity((self.peers * SIGHTINGS_PER_PEER) as usize);
        for k in 0..SIGHTINGS_PER_PEER {
            for peer in 0..self.peers {
                // A new RPI every three windows (15 minutes).
                let rotation = w / 3;
                // Real RPIs are AES outputs, uniform in every bit; the index's filter and directory rely
                // on that, so the benchmark's must be too.
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

    /// A store in `dir` holding 14 days of this crowd from `t0_ms` (midnight UTC).
    pub fn filled_store(&self, dir: &std::path::Path, t0_ms: u64) -> Result<Store, Error> {
        let store = open_store(dir)?;
        for w in 0..self.windows_per_day() * DAYS {
            record_window(&store, w, &self.window(t0_ms, w))?;
        }
        store.checkpoint(t0_ms + DAYS * 86_400_000)?;
        Ok(store)
    }
}

/// The sightings of the school-day heavy user's scan window `w`.
pub fn window(t0_ms: u64, w: u64) -> Vec<Sighting> {
    SCHOOL_DAY.window(t0_ms, w)
}

/// 2026-11-01T00:00:00Z, the heavy user's first day.
pub const T0_MS: u64 = 1_793_491_200_000;

/// The heavy user's data key.
pub const DATA_KEY: [u8; 32] = [7; 32];

/// A fresh store for the heavy user in `dir`, as a phone opens it.
pub fn open_store(dir: &std::path::Path) -> Result<Store, Error> {
    Store::open(
        dir,
        &DataKey::from_bytes(DATA_KEY),
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

/// A store in `dir` holding all 14 days of the school-day heavy user.
pub fn filled_store(dir: &std::path::Path) -> Result<Store, Error> {
    SCHOOL_DAY.filled_store(dir, T0_MS)
}

/// `count` distinct published en-v1 keys spread over the heavy user's 14 days, as a key server exports
/// them (confirmed test, transmission risk 6).
pub fn published_keys(count: u32) -> Result<Vec<ExportKey>, Error> {
    published_keys_from(count, (T0_MS / 86_400_000) as u32)
}

/// `count` distinct published en-v1 keys spread over the 14 days from `first_day`.
pub fn published_keys_from(count: u32, first_day: u32) -> Result<Vec<ExportKey>, Error> {
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
