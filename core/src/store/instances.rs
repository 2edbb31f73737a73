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
//!
//! A window is stored as one record, keyed by its start time and holding all its instances: sled spends
//! about 180 bytes on each record it keeps, more than an instance itself, so one record per instance
//! would double the store's size on disk.

use std::collections::HashMap;

use crate::error::Error;
use crate::protocol::bluezone_v3::BluezoneId;
use crate::protocol::en_v1::{Aem, Rpi};
use crate::protocol::{Identifier, Payload};
use crate::sighting::{Sighting, Source, RSSI_UNKNOWN};

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
    /// How many of them carried a measured RSSI (the radio reports [`RSSI_UNKNOWN`] for the others);
    /// the RSSI fields below aggregate only these.
    pub rssi_count: u32,
    /// The strongest signal, dBm as reported (the minimum attenuation); [`RSSI_UNKNOWN`] without a
    /// measured one.
    pub max_rssi: i8,
    /// The weakest signal, dBm as reported; [`RSSI_UNKNOWN`] without a measured one.
    pub min_rssi: i8,
    /// Sum of the measured RSSI values, for the mean.
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
        let mut instance = Self {
            payload: s.payload,
            window_start_ms: window.start_ms,
            seconds_since_previous_scan: window.seconds_since_previous,
            first_seen_ms: s.time_ms,
            last_seen_ms: s.time_ms,
            count: 0,
            rssi_count: 0,
            max_rssi: RSSI_UNKNOWN,
            min_rssi: RSSI_UNKNOWN,
            rssi_sum: 0,
            tx_power: None,
            via_advertisement: false,
            via_gatt: false,
        };
        instance.add(s);
        instance
    }

    fn add(&mut self, s: &Sighting) {
        let rssi = s.rssi_known().then_some(s.rssi);
        self.fold(RssiAggregate {
            first_seen_ms: s.time_ms,
            last_seen_ms: s.time_ms,
            count: 1,
            rssi_count: u32::from(rssi.is_some()),
            max_rssi: rssi.unwrap_or(RSSI_UNKNOWN),
            min_rssi: rssi.unwrap_or(RSSI_UNKNOWN),
            rssi_sum: rssi.map_or(0, i64::from),
        });
        self.tx_power = self.tx_power.or(s.tx_power);
        self.via_advertisement |= s.source == Source::Advertisement;
        self.via_gatt |= s.source == Source::GattRead;
    }

    /// Folds in another instance of the same identifier and window (one written before a restart).
    fn merge(&mut self, other: &ScanInstance) {
        self.fold(RssiAggregate {
            first_seen_ms: other.first_seen_ms,
            last_seen_ms: other.last_seen_ms,
            count: other.count,
            rssi_count: other.rssi_count,
            max_rssi: other.max_rssi,
            min_rssi: other.min_rssi,
            rssi_sum: other.rssi_sum,
        });
        self.tx_power = self.tx_power.or(other.tx_power);
        self.via_advertisement |= other.via_advertisement;
        self.via_gatt |= other.via_gatt;
    }

    fn fold(&mut self, other: RssiAggregate) {
        self.first_seen_ms = self.first_seen_ms.min(other.first_seen_ms);
        self.last_seen_ms = self.last_seen_ms.max(other.last_seen_ms);
        self.count = self.count.saturating_add(other.count);
        if other.rssi_count > 0 {
            if self.rssi_count == 0 {
                (self.max_rssi, self.min_rssi) = (other.max_rssi, other.min_rssi);
            } else {
                self.max_rssi = self.max_rssi.max(other.max_rssi);
                self.min_rssi = self.min_rssi.min(other.min_rssi);
            }
            self.rssi_count = self.rssi_count.saturating_add(other.rssi_count);
            self.rssi_sum += other.rssi_sum;
        }
    }

    /// The mean of the measured RSSI values in dBm, or `None` when the radio measured none.
    pub fn mean_rssi(&self) -> Option<f64> {
        (self.rssi_count > 0).then(|| self.rssi_sum as f64 / f64::from(self.rssi_count))
    }

    /// The identifier heard.
    pub const fn identifier(&self) -> Identifier {
        self.payload.identifier()
    }
}

/// The times, count and RSSI aggregate of some sightings, folded into a scan instance.
struct RssiAggregate {
    first_seen_ms: u64,
    last_seen_ms: u64,
    count: u32,
    rssi_count: u32,
    max_rssi: i8,
    min_rssi: i8,
    rssi_sum: i64,
}

/// The window record's layout version: 3 holds the window's start (the record's name no longer shows it);
/// 2 added the count of sightings with a measured RSSI. Versions 1 and 2, whose start was the record's
/// key, are read when an older store is brought up to date.
const RECORD_VERSION: u8 = 3;
const RECORD_VERSION_2: u8 = 2;
const RECORD_VERSION_1: u8 = 1;
const SCHEME_EN_V1: u8 = 0;
const SCHEME_BLUEZONE_V3: u8 = 1;
/// Header of versions 1 and 2: version, flags (bit 0: gap known), gap in seconds.
const HEADER_LEN_1: usize = 1 + 1 + 4;
/// Header: version 1's, then the window's start (u64 BE ms).
const HEADER_LEN: usize = HEADER_LEN_1 + 8;
/// Per instance in version 1: scheme, identifier (16, Bluezone IDs zero-padded), AEM, flags, TX power,
/// first and last sighting as offsets from the window start, count, strongest and weakest RSSI, RSSI sum.
const INSTANCE_LEN_1: usize = 1 + 16 + 4 + 1 + 1 + 4 + 4 + 4 + 1 + 1 + 4;
/// Per instance: version 1's fields, then the count of sightings with a measured RSSI.
pub(crate) const INSTANCE_LEN: usize = INSTANCE_LEN_1 + 4;

/// All instances of one scan window: the unit the store writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WindowRecord {
    pub(crate) start_ms: u64,
    pub(crate) seconds_since_previous: Option<u32>,
    pub(crate) instances: Vec<ScanInstance>,
}

impl WindowRecord {
    /// The record's plaintext. Times of sightings are stored relative to the window's start.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.instances.len() * INSTANCE_LEN);
        out.push(RECORD_VERSION);
        out.push(u8::from(self.seconds_since_previous.is_some()));
        out.extend_from_slice(&self.seconds_since_previous.unwrap_or(0).to_be_bytes());
        out.extend_from_slice(&self.start_ms.to_be_bytes());
        for i in &self.instances {
            match &i.payload {
                Payload::EnV1 { rpi, aem } => {
                    out.push(SCHEME_EN_V1);
                    out.extend_from_slice(rpi.as_bytes());
                    out.extend_from_slice(aem.as_bytes());
                }
                Payload::BluezoneV3 { id } => {
                    out.push(SCHEME_BLUEZONE_V3);
                    out.extend_from_slice(id.as_bytes());
                    out.extend_from_slice(&[0; 8]);
                }
            }
            let flags = u8::from(i.via_advertisement)
                | u8::from(i.via_gatt) << 1
                | u8::from(i.tx_power.is_some()) << 2;
            out.extend_from_slice(&[flags, i.tx_power.unwrap_or(0) as u8]);
            out.extend_from_slice(&offset(i.first_seen_ms, self.start_ms).to_be_bytes());
            out.extend_from_slice(&offset(i.last_seen_ms, self.start_ms).to_be_bytes());
            out.extend_from_slice(&i.count.to_be_bytes());
            out.extend_from_slice(&[i.max_rssi as u8, i.min_rssi as u8]);
            // |rssi| <= 128, so the sum fits an i32 for up to 16 million sightings a window.
            let sum = i32::try_from(i.rssi_sum).unwrap_or(if i.rssi_sum < 0 {
                i32::MIN
            } else {
                i32::MAX
            });
            out.extend_from_slice(&sum.to_be_bytes());
            out.extend_from_slice(&i.rssi_count.to_be_bytes());
        }
        out
    }

    /// Parses [`encode`](Self::encode)'s output; a record of version 1 or 2 needs `legacy_start_ms`, the
    /// start its old record key gave.
    pub(crate) fn decode(bytes: &[u8], legacy_start_ms: Option<u64>) -> Result<Self, Error> {
        let corrupt = || Error::StoreCorrupt("a scan window record has an unknown layout".into());
        let (header_len, instance_len) = match bytes.first() {
            Some(&RECORD_VERSION) => (HEADER_LEN, INSTANCE_LEN),
            Some(&RECORD_VERSION_2) if legacy_start_ms.is_some() => (HEADER_LEN_1, INSTANCE_LEN),
            Some(&RECORD_VERSION_1) if legacy_start_ms.is_some() => (HEADER_LEN_1, INSTANCE_LEN_1),
            _ => return Err(corrupt()),
        };
        let (header, body) = bytes.split_at_checked(header_len).ok_or_else(corrupt)?;
        let start_ms = match legacy_start_ms {
            Some(start) if header_len == HEADER_LEN_1 => start,
            _ => u64::from_be_bytes(header[6..14].try_into().map_err(|_| corrupt())?),
        };
        if header[1] > 1 || body.len() % instance_len != 0 {
            return Err(corrupt());
        }
        let gap = u32::from_be_bytes([header[2], header[3], header[4], header[5]]);
        let seconds_since_previous = (header[1] == 1).then_some(gap);
        let mut instances = Vec::with_capacity(body.len() / instance_len);
        for chunk in body.chunks_exact(instance_len) {
            let mut r = Reader(chunk);
            let scheme = r.byte();
            let id: [u8; 16] = r.take();
            let aem: [u8; 4] = r.take();
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
            let (flags, tx) = (r.byte(), r.byte());
            let first = i32::from_be_bytes(r.take());
            let last = i32::from_be_bytes(r.take());
            let count = u32::from_be_bytes(r.take());
            let (max_rssi, min_rssi) = (r.byte() as i8, r.byte() as i8);
            let rssi_sum = i64::from(i32::from_be_bytes(r.take()));
            let rssi_count = match r.0.len() {
                4 => u32::from_be_bytes(r.take()),
                // Version 1 kept unknown readings in the aggregate; one made its strongest RSSI unknown,
                // and scoring then ignored the whole instance, as it still does.
                _ if max_rssi == RSSI_UNKNOWN => 0,
                _ => count,
            };
            let known = rssi_count > 0;
            instances.push(ScanInstance {
                payload,
                window_start_ms: start_ms,
                seconds_since_previous_scan: seconds_since_previous,
                first_seen_ms: start_ms.saturating_add_signed(i64::from(first)),
                last_seen_ms: start_ms.saturating_add_signed(i64::from(last)),
                count,
                rssi_count,
                max_rssi: if known { max_rssi } else { RSSI_UNKNOWN },
                min_rssi: if known { min_rssi } else { RSSI_UNKNOWN },
                rssi_sum: if known { rssi_sum } else { 0 },
                tx_power: (flags & 4 != 0).then_some(tx as i8),
                via_advertisement: flags & 1 != 0,
                via_gatt: flags & 2 != 0,
            });
        }
        Ok(Self {
            start_ms,
            seconds_since_previous,
            instances,
        })
    }

    /// Folds in the record written for the same window before a restart.
    pub(crate) fn merge(&mut self, older: WindowRecord) {
        self.seconds_since_previous = self.seconds_since_previous.or(older.seconds_since_previous);
        for old in older.instances {
            match self
                .instances
                .iter_mut()
                .find(|i| i.identifier() == old.identifier())
            {
                Some(mine) => mine.merge(&old),
                None => self.instances.push(old),
            }
        }
    }
}

/// `time - start` in milliseconds as an i32: sightings sit within a window of at most a few minutes,
/// slightly before its start when they arrive out of order.
fn offset(time_ms: u64, start_ms: u64) -> i32 {
    let delta = i128::from(time_ms) - i128::from(start_ms);
    i32::try_from(delta).unwrap_or(if delta < 0 { i32::MIN } else { i32::MAX })
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        out.copy_from_slice(&self.0[..N]);
        self.0 = &self.0[N..];
        out
    }

    fn byte(&mut self) -> u8 {
        self.take::<1>()[0]
    }
}

/// The scan window sightings are currently going into.
#[derive(Debug, Clone, Copy)]
struct Window {
    start_ms: u64,
    last_ms: u64,
    seconds_since_previous: Option<u32>,
}

/// A window record to write, and whether this session has written it before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    pub(crate) record: WindowRecord,
    /// No record for this window was written in this session yet.
    pub(crate) new: bool,
}

/// Sightings grouped into the current window's instances, plus closed windows not yet written.
#[derive(Debug, Default)]
pub(crate) struct Aggregator {
    window: Option<Window>,
    /// Start of the last window before this session, read from the store when it opened.
    previous_start_ms: Option<u64>,
    open: HashMap<Identifier, ScanInstance>,
    /// The open window changed since it was last written.
    dirty: bool,
    /// The open window has been written in this session.
    written: bool,
    /// Closed windows changed since the last write.
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
        self.dirty = true;
        self.open
            .entry(s.payload.identifier())
            .and_modify(|instance| instance.add(s))
            .or_insert_with(|| ScanInstance::new(s, &window));
    }

    fn open_record(&self) -> Option<WindowRecord> {
        let window = self.window?;
        let mut instances: Vec<ScanInstance> = self.open.values().copied().collect();
        instances.sort_by_key(|i| i.identifier());
        Some(WindowRecord {
            start_ms: window.start_ms,
            seconds_since_previous: window.seconds_since_previous,
            instances,
        })
    }

    fn close_window(&mut self) {
        if self.dirty {
            if let Some(record) = self.open_record() {
                self.closed.push(Change {
                    record,
                    new: !self.written,
                });
            }
        }
        self.open.clear();
        self.dirty = false;
        self.written = false;
    }

    /// Windows changed since the last call: closed ones first, then the open window if it changed, which
    /// counts as written from now on.
    pub(crate) fn take_changes(&mut self) -> Vec<Change> {
        let mut out = std::mem::take(&mut self.closed);
        if self.dirty {
            if let Some(record) = self.open_record() {
                out.push(Change {
                    record,
                    new: !self.written,
                });
            }
            self.dirty = false;
            self.written = true;
        }
        out
    }

    /// How many instances wait to be written.
    pub(crate) fn pending(&self) -> usize {
        self.closed
            .iter()
            .map(|c| c.record.instances.len())
            .sum::<usize>()
            + if self.dirty { self.open.len() } else { 0 }
    }

    /// Takes in the instances an older record of the open window held (written before the store was
    /// reopened), so that later writes of the window keep them.
    pub(crate) fn absorb(&mut self, older: &WindowRecord) {
        if self.window.is_some_and(|w| w.start_ms == older.start_ms) {
            for old in &older.instances {
                self.open
                    .entry(old.identifier())
                    .and_modify(|mine| mine.merge(old))
                    .or_insert(*old);
            }
        }
    }

    /// Puts back changes whose write failed, so that nothing acknowledged is lost.
    pub(crate) fn restore(&mut self, changes: Vec<Change>) {
        for change in changes {
            let is_open = self
                .window
                .is_some_and(|w| w.start_ms == change.record.start_ms);
            if is_open {
                // The open window in memory is at least as complete as the failed record.
                self.dirty = true;
                self.written &= !change.new;
            } else {
                self.closed.push(change);
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
        changes
            .into_iter()
            .flat_map(|c| c.record.instances)
            .collect()
    }

    /// The instances a fresh aggregator (5 s bursts, 1 min windows, no scan before) makes of `sightings`.
    fn instances_after(sightings: &[Sighting]) -> Vec<ScanInstance> {
        let mut agg = Aggregator::new(5_000, 60_000, None);
        sightings.iter().for_each(|s| agg.add(s));
        instances(agg.take_changes())
    }

    #[test]
    fn sightings_in_one_burst_make_one_instance_per_identifier() {
        let mut agg = Aggregator::new(5_000, 60_000, None);
        for (i, t) in [0u64, 1_000, 2_000, 3_500].iter().enumerate() {
            agg.add(&sighting(1, 10_000 + t, -60 - i as i8));
            agg.add(&sighting(2, 10_000 + t, -80));
        }
        assert_eq!(agg.pending(), 2);
        let changes = agg.take_changes();
        assert_eq!(changes.len(), 1);
        let changes = instances(changes);
        assert_eq!(changes.len(), 2);
        let a = changes
            .iter()
            .find(|c| c.payload.identifier() == Identifier::EnV1(Rpi([1; 16])))
            .unwrap();
        assert_eq!((a.count, a.max_rssi, a.min_rssi), (4, -60, -63));
        assert_eq!((a.first_seen_ms, a.last_seen_ms), (10_000, 13_500));
        assert_eq!(a.mean_rssi(), Some(-61.5));
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
        let scans: Vec<_> = (0..180_000)
            .step_by(1_000)
            .map(|t| sighting(1, t, -60))
            .collect();
        let changes = instances_after(&scans);
        assert_eq!(changes.len(), 3);
        assert!(changes.iter().all(|c| c.count == 60));
        assert_eq!(changes[1].seconds_since_previous_scan, Some(60));
    }

    #[test]
    fn clock_going_back_opens_a_window_without_a_gap() {
        let changes = instances_after(&[sighting(1, 1_000_000, -60), sighting(1, 400_000, -60)]);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[1].window_start_ms, 400_000);
        assert_eq!(changes[1].seconds_since_previous_scan, None);
    }

    #[test]
    fn slightly_out_of_order_sightings_stay_in_their_window() {
        let changes = instances_after(&[sighting(1, 10_000, -60), sighting(1, 9_990, -61)]);
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
        agg.add(&sighting(7, 4_000, -71));
        agg.add(&Sighting {
            payload: Payload::BluezoneV3 {
                id: BluezoneId([9; 12]),
            },
            ..sighting(0, 5_001, -90)
        });
        let changes = agg.take_changes();
        assert_eq!(changes.len(), 1);
        let record = &changes[0].record;
        let bytes = record.encode();
        assert_eq!(bytes.len(), HEADER_LEN + 2 * INSTANCE_LEN);
        assert_eq!(&WindowRecord::decode(&bytes, None).unwrap(), record);
        assert_eq!(
            WindowRecord::decode(&bytes, None).unwrap().instances[0].first_seen_ms,
            4_000
        );
        for len in 0..bytes.len() {
            if len != HEADER_LEN + INSTANCE_LEN && len != HEADER_LEN {
                assert!(WindowRecord::decode(&bytes[..len], None).is_err(), "{len}");
            }
        }
        for (at, value) in [(0, 9), (1, 7), (HEADER_LEN, 7)] {
            let mut bad = bytes.clone();
            bad[at] = value;
            assert!(WindowRecord::decode(&bad, None).is_err());
        }
        // An older record is read only with the start its old key gave.
        let mut version_2 = vec![RECORD_VERSION_2];
        version_2.extend_from_slice(&bytes[1..HEADER_LEN_1]);
        version_2.extend_from_slice(&bytes[HEADER_LEN..]);
        assert!(WindowRecord::decode(&version_2, None).is_err());
        assert_eq!(
            &WindowRecord::decode(&version_2, Some(5_000)).unwrap(),
            record
        );
    }

    #[test]
    fn merging_keeps_instances_of_both_records() {
        let mut agg = Aggregator::new(5_000, 60_000, None);
        agg.add(&sighting(1, 0, -60));
        agg.add(&sighting(2, 0, -60));
        let older = agg.take_changes().remove(0).record;
        let mut agg = Aggregator::new(5_000, 60_000, None);
        agg.add(&sighting(1, 0, -50));
        agg.add(&sighting(3, 0, -50));
        let mut newer = agg.take_changes().remove(0).record;
        agg.absorb(&older);
        newer.merge(older);
        assert_eq!(newer.instances.len(), 3);
        // The open window in memory now holds the merged state too.
        agg.add(&sighting(3, 1, -50));
        let mut rewritten = agg.take_changes().remove(0).record;
        rewritten.instances.iter_mut().for_each(|i| {
            if i.payload.identifier().as_bytes()[0] == 3 {
                i.count -= 1;
                i.rssi_count -= 1;
                i.rssi_sum += 50;
                i.last_seen_ms = 0;
            }
        });
        rewritten.instances.sort_by_key(|i| i.identifier());
        newer.instances.sort_by_key(|i| i.identifier());
        assert_eq!(rewritten, newer);
        let one = newer
            .instances
            .iter()
            .find(|i| i.payload.identifier().as_bytes()[0] == 1)
            .unwrap();
        assert_eq!((one.count, one.max_rssi, one.min_rssi), (2, -50, -60));
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
        again.sort_by_key(|c| c.record.start_ms);
        assert_eq!(again, changes);
    }

    #[test]
    fn rewrites_of_the_open_window_are_not_new() {
        let mut agg = Aggregator::new(5_000, 60_000, None);
        agg.add(&sighting(1, 0, -60));
        assert!(agg.take_changes()[0].new);
        assert!(agg.take_changes().is_empty());
        agg.add(&sighting(1, 1_000, -60));
        let change = agg.take_changes().remove(0);
        assert!(!change.new);
        assert_eq!(change.record.instances[0].count, 2);
        // Closing an unchanged, written window hands over nothing for it.
        agg.add(&sighting(2, 500_000, -60));
        let changes = agg.take_changes();
        assert_eq!(changes.len(), 1);
        assert!(changes[0].new);
        assert_eq!(changes[0].record.start_ms, 500_000);
    }
}
