//! Scan instances: sightings of one identifier within one scan window, aggregated in memory before they
//! are written.
//!
//! The store never keeps one row per sighting. A phone scans in bursts (4 s every 4-5 minutes in the
//! background); every sighting in a burst belongs to that burst's *scan window*, and all sightings of one
//! identifier in a window become one [`ScanInstance`]. Windows are recognised from the sightings
//! themselves, so the command line's JSON-lines import and the engine aggregate the same way:
//! a sighting more than [`StoreConfig::merge_gap_ms`](super::StoreConfig::merge_gap_ms) after the latest one
//! starts a new window, and so does one that would stretch a window past
//! [`StoreConfig::max_window_ms`](super::StoreConfig::max_window_ms) (continuous scanning in QA mode).
//! Each window remembers how long after the previous window it began: risk scoring credits each scan
//! instance with that time, as the exposure-notification v2 model does with `secondsSinceLastScan`.

use std::collections::HashMap;

use crate::error::Error;
use crate::protocol::bluezone_v3::BluezoneId;
use crate::protocol::en_v1::{Aem, Rpi};
use crate::protocol::{Identifier, Payload};
use crate::sighting::{Sighting, Source};

/// One identifier heard during one scan window: what matching and risk scoring read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanInstance {
    /// The payload heard (identifier and, for en-v1, the AEM).
    pub payload: Payload,
    /// When the scan window began, UTC unix milliseconds.
    pub window_start_ms: u64,
    /// Seconds between the start of the previous scan window and this one; `None` when unknown (the
    /// first window after the store opened with no earlier window, or the clock went backwards).
    pub seconds_since_previous_scan: Option<u32>,
    /// First sighting, UTC unix milliseconds.
    pub first_seen_ms: u64,
    /// Last sighting, UTC unix milliseconds.
    pub last_seen_ms: u64,
    /// How many sightings were aggregated.
    pub count: u32,
    /// The strongest signal, dBm as reported (the minimum attenuation).
    pub max_rssi: i8,
    /// The weakest signal, dBm as reported.
    pub min_rssi: i8,
    /// Sum of the RSSI values, for the mean.
    pub rssi_sum: i64,
    /// The TX power level the radio reported, if any.
    pub tx_power: Option<i8>,
    /// Whether any sighting came from an advertisement.
    pub via_advertisement: bool,
    /// Whether any sighting came from a GATT read.
    pub via_gatt: bool,
}

impl ScanInstance {
    fn new(s: &Sighting, window: &Window) -> Self {
        Self {
            payload: s.payload,
            window_start_ms: window.start_ms,
            seconds_since_previous_scan: window.seconds_since_previous,
            first_seen_ms: s.time_ms,
            last_seen_ms: s.time_ms,
            count: 1,
            max_rssi: s.rssi,
            min_rssi: s.rssi,
            rssi_sum: i64::from(s.rssi),
            tx_power: s.tx_power,
            via_advertisement: s.source == Source::Advertisement,
            via_gatt: s.source == Source::GattRead,
        }
    }

    fn add(&mut self, s: &Sighting) {
        self.first_seen_ms = self.first_seen_ms.min(s.time_ms);
        self.last_seen_ms = self.last_seen_ms.max(s.time_ms);
        self.count = self.count.saturating_add(1);
        self.max_rssi = self.max_rssi.max(s.rssi);
        self.min_rssi = self.min_rssi.min(s.rssi);
        self.rssi_sum += i64::from(s.rssi);
        self.tx_power = self.tx_power.or(s.tx_power);
        self.via_advertisement |= s.source == Source::Advertisement;
        self.via_gatt |= s.source == Source::GattRead;
    }

    /// Folds in another instance of the same identifier and window (one written before a restart).
    pub(crate) fn merge(&mut self, other: &ScanInstance) {
        self.first_seen_ms = self.first_seen_ms.min(other.first_seen_ms);
        self.last_seen_ms = self.last_seen_ms.max(other.last_seen_ms);
        self.count = self.count.saturating_add(other.count);
        self.max_rssi = self.max_rssi.max(other.max_rssi);
        self.min_rssi = self.min_rssi.min(other.min_rssi);
        self.rssi_sum += other.rssi_sum;
        self.tx_power = self.tx_power.or(other.tx_power);
        self.via_advertisement |= other.via_advertisement;
        self.via_gatt |= other.via_gatt;
        self.seconds_since_previous_scan = self
            .seconds_since_previous_scan
            .or(other.seconds_since_previous_scan);
    }

    /// The mean RSSI in dBm.
    pub fn mean_rssi(&self) -> f64 {
        self.rssi_sum as f64 / f64::from(self.count.max(1))
    }

    /// The identifier heard.
    pub const fn identifier(&self) -> Identifier {
        self.payload.identifier()
    }

    /// The record's plaintext: a version byte and fixed-width fields.
    pub(crate) fn encode(&self) -> [u8; ENCODED_LEN] {
        let mut out = [0u8; ENCODED_LEN];
        let mut w = Writer(&mut out, 0);
        w.put(&[RECORD_VERSION]);
        match &self.payload {
            Payload::EnV1 { rpi, aem } => {
                w.put(&[SCHEME_EN_V1]);
                w.put(rpi.as_bytes());
                w.put(aem.as_bytes());
            }
            Payload::BluezoneV3 { id } => {
                w.put(&[SCHEME_BLUEZONE_V3]);
                w.put(id.as_bytes());
                w.put(&[0; 8]);
            }
        }
        let flags = u8::from(self.via_advertisement)
            | u8::from(self.via_gatt) << 1
            | u8::from(self.tx_power.is_some()) << 2
            | u8::from(self.seconds_since_previous_scan.is_some()) << 3;
        w.put(&[flags, self.tx_power.unwrap_or(0) as u8]);
        w.put(&self.window_start_ms.to_be_bytes());
        w.put(&self.seconds_since_previous_scan.unwrap_or(0).to_be_bytes());
        w.put(&self.first_seen_ms.to_be_bytes());
        w.put(&self.last_seen_ms.to_be_bytes());
        w.put(&self.count.to_be_bytes());
        w.put(&[self.max_rssi as u8, self.min_rssi as u8]);
        w.put(&self.rssi_sum.to_be_bytes());
        out
    }

    /// Parses [`encode`](Self::encode)'s output; anything else is [`Error::StoreCorrupt`].
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let corrupt = || Error::StoreCorrupt("a scan instance record has an unknown layout".into());
        let bytes: &[u8; ENCODED_LEN] = bytes.try_into().map_err(|_| corrupt())?;
        let mut r = Reader(bytes, 0);
        if r.take::<1>()[0] != RECORD_VERSION {
            return Err(corrupt());
        }
        let scheme = r.take::<1>()[0];
        let id = r.take::<16>();
        let aem = r.take::<4>();
        let payload = match scheme {
            SCHEME_EN_V1 => Payload::EnV1 {
                rpi: Rpi(id),
                aem: Aem(aem),
            },
            SCHEME_BLUEZONE_V3 => Payload::BluezoneV3 {
                id: BluezoneId::from_slice(&id[..BluezoneId::LEN]).map_err(|_| corrupt())?,
            },
            _ => return Err(corrupt()),
        };
        let [flags, tx] = r.take::<2>();
        let window_start_ms = u64::from_be_bytes(r.take());
        let gap = u32::from_be_bytes(r.take());
        let first_seen_ms = u64::from_be_bytes(r.take());
        let last_seen_ms = u64::from_be_bytes(r.take());
        let count = u32::from_be_bytes(r.take());
        let [max_rssi, min_rssi] = r.take::<2>();
        let rssi_sum = i64::from_be_bytes(r.take());
        Ok(Self {
            payload,
            window_start_ms,
            seconds_since_previous_scan: (flags & 8 != 0).then_some(gap),
            first_seen_ms,
            last_seen_ms,
            count,
            max_rssi: max_rssi as i8,
            min_rssi: min_rssi as i8,
            rssi_sum,
            tx_power: (flags & 4 != 0).then_some(tx as i8),
            via_advertisement: flags & 1 != 0,
            via_gatt: flags & 2 != 0,
        })
    }
}

const RECORD_VERSION: u8 = 1;
pub(crate) const SCHEME_EN_V1: u8 = 0;
pub(crate) const SCHEME_BLUEZONE_V3: u8 = 1;

/// Plaintext length of a scan instance record.
pub(crate) const ENCODED_LEN: usize = 1 + 1 + 16 + 4 + 2 + 8 + 4 + 8 + 8 + 4 + 2 + 8;

struct Writer<'a>(&'a mut [u8; ENCODED_LEN], usize);

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.0[self.1..self.1 + bytes.len()].copy_from_slice(bytes);
        self.1 += bytes.len();
    }
}

struct Reader<'a>(&'a [u8; ENCODED_LEN], usize);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        out.copy_from_slice(&self.0[self.1..self.1 + N]);
        self.1 += N;
        out
    }
}

/// The scan window sightings are currently going into.
#[derive(Debug, Clone, Copy)]
struct Window {
    start_ms: u64,
    last_ms: u64,
    seconds_since_previous: Option<u32>,
}

/// An instance to write, and whether this session has written it before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Change {
    pub(crate) instance: ScanInstance,
    /// No record for it was written in this session yet.
    pub(crate) new: bool,
}

/// An instance of the open window and whether it has been written in this session.
#[derive(Debug, Clone, Copy)]
struct Open {
    instance: ScanInstance,
    written: bool,
    dirty: bool,
}

/// Sightings grouped into the current window's instances, plus closed instances not yet written.
#[derive(Debug, Default)]
pub(crate) struct Aggregator {
    window: Option<Window>,
    /// Start of the last window before this session, read from the store when it opened.
    previous_start_ms: Option<u64>,
    open: HashMap<Identifier, Open>,
    /// Instances of closed windows changed since the last write.
    closed: Vec<Change>,
    merge_gap_ms: u64,
    max_window_ms: u64,
}

impl Aggregator {
    pub(crate) fn new(
        merge_gap_ms: u64,
        max_window_ms: u64,
        previous_start_ms: Option<u64>,
    ) -> Self {
        Self {
            merge_gap_ms,
            max_window_ms,
            previous_start_ms,
            ..Default::default()
        }
    }

    pub(crate) fn add(&mut self, s: &Sighting) {
        let t = s.time_ms;
        let same_window = self.window.is_some_and(|w| {
            t <= w.last_ms.saturating_add(self.merge_gap_ms)
                && t.saturating_add(self.merge_gap_ms) >= w.start_ms
                && t < w.start_ms.saturating_add(self.max_window_ms)
        });
        let window = match self.window.as_mut() {
            Some(window) if same_window => window,
            _ => {
                let previous = self.window.map(|w| w.start_ms).or(self.previous_start_ms);
                self.close_window();
                self.window.insert(Window {
                    start_ms: t,
                    last_ms: t,
                    // A window that starts before the previous one (the clock went back) has no known gap.
                    seconds_since_previous: previous
                        .and_then(|p| t.checked_sub(p))
                        .map(|ms| u32::try_from(ms / 1000).unwrap_or(u32::MAX)),
                })
            }
        };
        window.last_ms = window.last_ms.max(t);
        let window = *window;
        self.open
            .entry(s.payload.identifier())
            .and_modify(|open| {
                open.instance.add(s);
                open.dirty = true;
            })
            .or_insert_with(|| Open {
                instance: ScanInstance::new(s, &window),
                written: false,
                dirty: true,
            });
    }

    fn close_window(&mut self) {
        self.closed.extend(
            self.open
                .drain()
                .filter(|(_, o)| o.dirty)
                .map(|(_, o)| Change {
                    instance: o.instance,
                    new: !o.written,
                }),
        );
    }

    /// Instances changed since the last call: closed windows first, then the open window's changed ones,
    /// which count as written from now on.
    pub(crate) fn take_changes(&mut self) -> Vec<Change> {
        let mut out = std::mem::take(&mut self.closed);
        for open in self.open.values_mut().filter(|o| o.dirty) {
            out.push(Change {
                instance: open.instance,
                new: !open.written,
            });
            open.dirty = false;
            open.written = true;
        }
        out
    }

    /// How many changed instances wait to be written.
    pub(crate) fn pending(&self) -> usize {
        self.closed.len() + self.open.values().filter(|o| o.dirty).count()
    }

    /// Puts back changes whose write failed, so that nothing acknowledged is lost.
    pub(crate) fn restore(&mut self, changes: Vec<Change>) {
        for change in changes {
            let in_open_window = self
                .window
                .is_some_and(|w| w.start_ms == change.instance.window_start_ms);
            match self.open.get_mut(&change.instance.identifier()) {
                Some(open) if in_open_window => {
                    open.dirty = true;
                    open.written &= !change.new;
                }
                _ => self.closed.push(change),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sighting(id: u8, time_ms: u64, rssi: i8) -> Sighting {
        Sighting {
            payload: Payload::EnV1 {
                rpi: Rpi([id; 16]),
                aem: Aem([id; 4]),
            },
            rssi,
            tx_power: None,
            time_ms,
            source: Source::Advertisement,
        }
    }

    fn instances(changes: Vec<Change>) -> Vec<ScanInstance> {
        changes.into_iter().map(|c| c.instance).collect()
    }

    #[test]
    fn sightings_in_one_burst_make_one_instance_per_identifier() {
        let mut agg = Aggregator::new(5_000, 60_000, None);
        for (i, t) in [0u64, 1_000, 2_000, 3_500].iter().enumerate() {
            agg.add(&sighting(1, 10_000 + t, -60 - i as i8));
            agg.add(&sighting(2, 10_000 + t, -80));
        }
        let changes = instances(agg.take_changes());
        assert_eq!(changes.len(), 2);
        let a = changes
            .iter()
            .find(|c| c.payload.identifier() == Identifier::EnV1(Rpi([1; 16])))
            .unwrap();
        assert_eq!((a.count, a.max_rssi, a.min_rssi), (4, -60, -63));
        assert_eq!((a.first_seen_ms, a.last_seen_ms), (10_000, 13_500));
        assert_eq!(a.mean_rssi(), -61.5);
        assert_eq!(a.seconds_since_previous_scan, None);
        assert_eq!(agg.pending(), 0);
    }

    #[test]
    fn a_gap_starts_a_new_window_with_its_distance_to_the_last() {
        let mut agg = Aggregator::new(5_000, 60_000, Some(0));
        agg.add(&sighting(1, 100_000, -60));
        agg.add(&sighting(1, 370_000, -60));
        let changes = instances(agg.take_changes());
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].seconds_since_previous_scan, Some(100));
        assert_eq!(changes[1].seconds_since_previous_scan, Some(270));
    }

    #[test]
    fn continuous_scanning_is_cut_into_windows() {
        let mut agg = Aggregator::new(5_000, 60_000, None);
        for t in (0..180_000).step_by(1_000) {
            agg.add(&sighting(1, t, -60));
        }
        let changes = instances(agg.take_changes());
        assert_eq!(changes.len(), 3);
        assert!(changes.iter().all(|c| c.count == 60));
        assert_eq!(changes[1].seconds_since_previous_scan, Some(60));
    }

    #[test]
    fn clock_going_back_opens_a_window_without_a_gap() {
        let mut agg = Aggregator::new(5_000, 60_000, None);
        agg.add(&sighting(1, 1_000_000, -60));
        agg.add(&sighting(1, 400_000, -60));
        let changes = instances(agg.take_changes());
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[1].window_start_ms, 400_000);
        assert_eq!(changes[1].seconds_since_previous_scan, None);
    }

    #[test]
    fn slightly_out_of_order_sightings_stay_in_their_window() {
        let mut agg = Aggregator::new(5_000, 60_000, None);
        agg.add(&sighting(1, 10_000, -60));
        agg.add(&sighting(1, 9_990, -61));
        let changes = instances(agg.take_changes());
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].first_seen_ms, 9_990);
    }

    #[test]
    fn records_round_trip_and_reject_garbage() {
        let mut agg = Aggregator::new(5_000, 60_000, Some(1));
        let mut s = sighting(7, 5_000, -70);
        s.tx_power = Some(-12);
        s.source = Source::GattRead;
        agg.add(&s);
        agg.add(&Sighting {
            payload: Payload::BluezoneV3 {
                id: BluezoneId([9; 12]),
            },
            ..sighting(0, 5_001, -90)
        });
        for instance in instances(agg.take_changes()) {
            let bytes = instance.encode();
            assert_eq!(ScanInstance::decode(&bytes).unwrap(), instance);
            assert!(ScanInstance::decode(&bytes[1..]).is_err());
            let mut bad = bytes;
            bad[0] = 9;
            assert!(ScanInstance::decode(&bad).is_err());
            let mut bad = bytes;
            bad[1] = 7;
            assert!(ScanInstance::decode(&bad).is_err());
        }
    }

    #[test]
    fn restored_changes_are_written_next_time() {
        let mut agg = Aggregator::new(5_000, 60_000, None);
        agg.add(&sighting(1, 0, -60));
        agg.add(&sighting(2, 100_000, -60));
        let changes = agg.take_changes();
        assert_eq!(changes.len(), 2);
        assert!(changes.iter().all(|c| c.new));
        assert_eq!(agg.pending(), 0);
        agg.restore(changes.clone());
        assert_eq!(agg.pending(), 2);
        let mut again = agg.take_changes();
        again.sort_by_key(|c| c.instance.window_start_ms);
        assert_eq!(again, changes);
    }

    #[test]
    fn rewrites_of_the_open_window_are_not_new() {
        let mut agg = Aggregator::new(5_000, 60_000, None);
        agg.add(&sighting(1, 0, -60));
        assert!(agg.take_changes()[0].new);
        assert!(agg.take_changes().is_empty());
        agg.add(&sighting(1, 1_000, -60));
        let change = agg.take_changes()[0];
        assert!(!change.new);
        assert_eq!(change.instance.count, 2);
        // Closing the window hands over only instances that changed since they were written.
        agg.add(&sighting(2, 500_000, -60));
        let changes = agg.take_changes();
        assert_eq!(changes.len(), 1);
        assert!(changes[0].new);
    }
}
