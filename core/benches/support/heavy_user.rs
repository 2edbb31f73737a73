//! The heavy user of the store's benchmark: 40 peers around all day, a 4-second scan window every
//! 5 minutes, 10 hours a day, for 14 days. Each peer is heard 8 times per window (an advertisement every
//! 250 ms with half of them lost) and changes its RPI every 15 minutes, as en-v1 phones do.

use openzone_core::protocol::en_v1::{Aem, Rpi};
use openzone_core::protocol::Payload;
use openzone_core::seeded::SplitMix64;
use openzone_core::sighting::{Sighting, Source};

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
