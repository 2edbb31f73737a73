//! Matching published keys against what this phone heard.
//!
//! The phone's scan instances go into a compact in-memory index ([`HeardIndex`]): a sorted array of the
//! identifiers heard with a directory by leading bits, fronted by a table of 16-bit fingerprints, itself
//! fronted by a bit filter, both small enough to stay in cache. Published keys are then streamed: each
//! key's identifiers are derived in one batch ([`Scheme::identifiers`]'s hot path) and each is probed
//! against the bits, then the fingerprints, so memory grows with the store and not with the number of
//! published keys, and almost every probe ends after one cached load and a bit test. Chunks of keys run
//! on every core (rayon).
//!
//! A sighting matches an identifier when it was heard close enough to the identifier's time: within
//! ±2 hours of an en-v1 RPI's interval (phones rotate at randomised moments and clocks drift), within the
//! slot of a bluezone-v3 ID with one slot of tolerance either side (Bluezone's exact-slot rule lost
//! sightings at slot boundaries).

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::export::{ExportKey, KeyChunk, KeySkip, VerifiedExport};
use crate::protocol::bluezone_v3::{BluezoneV3, DailyKey, SECS_PER_DAY};
use crate::protocol::en_v1::{RpiBatch, EN_INTERVAL_SECS};
use crate::protocol::{Identifier, Payload, Scheme};
use crate::risk::calibration::DeviceCalibration;
use crate::risk::{Exposure, KeyWeighting, ScoredInstance};
use crate::store::ScanInstance;
use crate::units::{
    BLUEZONE_MATCH_TOLERANCE_SLOTS, EN_INTERVALS_PER_DAY, EN_MATCH_TOLERANCE_SECS, MS_PER_DAY,
    RETENTION_DAYS,
};

/// Fingerprints per bucket of the table in front of the en-v1 index: eight 16-bit fingerprints fill
/// 16 bytes, so a probe is one load and one vector compare.
const SLOTS: usize = 8;

/// Buckets of the directory into the sorted en-v1 identifiers, by their leading bits: a fingerprint hit
/// then costs two loads and a scan of about one entry instead of a binary search of dependent cache misses.
const BUCKET_BITS_LOG2: u32 = 16;

/// Bits of the filter in front of the fingerprints, as a power of two: 2^21 bits, 78 per distinct identifier
/// of a heavy user (27,000 in 14 days: a scan every 5 minutes around the clock, 20 phones heard each time),
/// so that one probe of an unheard identifier in 78 passes on to the fingerprints. A store with more
/// identifiers passes more on (at 100,000, one in 21): slower, never wrong. The size is fixed so that the
/// index of a bit is a constant shift of the identifier, with no bound to check.
const FILTER_BITS_LOG2: u32 = 21;

/// One bit per value of an en-v1 identifier's last bytes, set for every identifier heard: the first
/// test of every probe. Matching a key probes 144 identifiers and nearly all of them were never heard,
/// so the cost of a miss is what counts: here a shift, one load and a bit test, where the fingerprints
/// cost a bucket load, a broadcast and two vector compares. 256 KiB, in a core's L2 cache.
#[derive(Debug, Clone)]
struct FilterBits(Box<[u64; 1 << (FILTER_BITS_LOG2 - 6)]>);

impl FilterBits {
    fn new(en: &[([u8; 16], u32)]) -> Self {
        let words = vec![0u64; 1 << (FILTER_BITS_LOG2 - 6)].into_boxed_slice();
        let mut filter = Self(
            words
                .try_into()
                .unwrap_or_else(|_| unreachable!("the vector has the array's length")),
        );
        for (rpi, _) in en {
            let bit = Self::bit(rpi);
            filter.0[bit / 64] |= 1 << (bit % 64);
        }
        filter
    }

    #[inline]
    fn bit(rpi: &[u8; 16]) -> usize {
        // The top bits of the identifier read as one little-endian number, i.e. of its last bytes: one
        // load and a shift. The fingerprint, its bucket and the directory use other bytes, so that the
        // four tests are independent.
        (u128::from_le_bytes(*rpi) >> (128 - FILTER_BITS_LOG2)) as usize
    }

    #[inline]
    fn may_contain(&self, rpi: &[u8; 16]) -> bool {
        let bit = Self::bit(rpi);
        self.0[bit / 64] & (1 << (bit % 64)) != 0
    }

    fn memory_bytes(&self) -> usize {
        std::mem::size_of_val(&*self.0)
    }
}

/// A 16-bit fingerprint of every en-v1 identifier heard, by bucket: almost every probe the bit filter
/// passes ends here, after one load and a compare of all eight lanes at once. A false hit, about one
/// chance in 20,000 per probe, costs two cache misses in the directory, where a bit filter passes one
/// probe in a hundred or so: so the filter sits in front of the fingerprints, not in their place.
#[derive(Debug, Clone)]
struct Fingerprints {
    buckets: Vec<Bucket>,
    log2: u32,
}

/// Eight 16-bit lanes, one aligned 16-byte load: a zero lane is empty; a bucket that overflowed has
/// every lane [`FULL`].
#[derive(Debug, Clone, Copy, Default)]
#[repr(align(16))]
struct Bucket([u16; SLOTS]);

/// The lanes of a bucket that overflowed, which no fingerprint is.
const FULL: u16 = 0xFFFF;

impl Fingerprints {
    fn new(en: &[([u8; 16], u32)]) -> Self {
        // One and a half to three identifiers a bucket of eight: buckets rarely fill (at three, 0.4 % of
        // them), and the table is half the size of one with one or two a bucket (a heavy user's 27,000
        // distinct identifiers in 14 days: 256 KiB). `en` is sorted: an identifier heard in several
        // windows counts once.
        let distinct = 1 + en.windows(2).filter(|w| w[0].0 != w[1].0).count();
        let log2 = (distinct / 3).max(64).next_power_of_two().trailing_zeros();
        let mut table = Self {
            buckets: vec![Bucket::default(); 1 << log2],
            log2,
        };
        for (rpi, _) in en {
            let fingerprint = fingerprint(rpi);
            let b = table.bucket(rpi);
            let lanes = &mut table.buckets[b].0;
            if lanes[0] == FULL || lanes.contains(&fingerprint) {
                continue;
            }
            match lanes.iter_mut().find(|lane| **lane == 0) {
                Some(empty) => *empty = fingerprint,
                // A full bucket (chance, or identifiers crafted by a hostile advertiser to collide)
                // passes every probe on to the directory: slower for that bucket, never wrong.
                None => *lanes = [FULL; SLOTS],
            }
        }
        table
    }

    #[inline]
    fn bucket(&self, rpi: &[u8; 16]) -> usize {
        // Bytes other than the fingerprint's and the directory's, so the three are independent.
        (u32::from_le_bytes([rpi[4], rpi[5], rpi[6], rpi[7]]) >> (32 - self.log2)) as usize
    }

    #[inline]
    fn may_contain(&self, rpi: &[u8; 16]) -> bool {
        // Every lane compared, with no branch between them, so that the compiler compares all eight at
        // once (one vector compare and a mask where there are vectors: a few instructions a probe).
        let fingerprint = fingerprint(rpi);
        self.buckets[self.bucket(rpi)]
            .0
            .iter()
            .fold(false, |hit, &lane| {
                hit | (lane == fingerprint) | (lane == FULL)
            })
    }

    fn memory_bytes(&self) -> usize {
        self.buckets.len() * std::mem::size_of::<Bucket>()
    }
}

#[inline]
fn fingerprint(rpi: &[u8; 16]) -> u16 {
    // RPIs are AES outputs: every byte is uniformly distributed. 0 marks an empty lane, 0xFFFF a full
    // bucket.
    u16::from_le_bytes([rpi[8], rpi[9]]).clamp(1, 0xFFFE)
}

/// The identifiers this phone heard, indexed for probing.
#[derive(Debug, Clone)]
pub struct HeardIndex {
    instances: Vec<ScanInstance>,
    en: Vec<([u8; 16], u32)>,
    /// `en[en_buckets[b]..en_buckets[b + 1]]` are the identifiers whose leading bits are `b`.
    en_buckets: Vec<u32>,
    en_filter: FilterBits,
    en_fingerprints: Fingerprints,
    bluezone: Vec<([u8; 12], u32)>,
}

impl HeardIndex {
    /// Indexes scan instances (from [`crate::store::Store::scan_instances`]).
    pub fn new(instances: Vec<ScanInstance>) -> Self {
        let mut en = Vec::new();
        let mut bluezone = Vec::new();
        for (i, instance) in instances.iter().enumerate() {
            match instance.identifier() {
                Identifier::EnV1(rpi) => en.push((rpi.0, i as u32)),
                Identifier::BluezoneV3(id) => bluezone.push((id.0, i as u32)),
            }
        }
        en.sort_unstable();
        bluezone.sort_unstable();
        let mut en_buckets = vec![0u32; (1 << BUCKET_BITS_LOG2) + 1];
        for (rpi, _) in &en {
            en_buckets[bucket(rpi) + 1] += 1;
        }
        let mut running = 0;
        for end in &mut en_buckets {
            running += *end;
            *end = running;
        }
        Self {
            en_filter: FilterBits::new(&en),
            en_fingerprints: Fingerprints::new(&en),
            instances,
            en,
            en_buckets,
            bluezone,
        }
    }

    /// Scan instances indexed.
    pub fn len(&self) -> usize {
        self.instances.len()
    }

    /// Whether nothing was heard.
    pub fn is_empty(&self) -> bool {
        self.instances.is_empty()
    }

    /// Bytes the index takes, roughly.
    pub fn memory_bytes(&self) -> usize {
        self.instances.len() * std::mem::size_of::<ScanInstance>()
            + self.en.len() * 20
            + self.bluezone.len() * 16
            + self.en_filter.memory_bytes()
            + self.en_fingerprints.memory_bytes()
            + self.en_buckets.len() * 4
    }

    #[inline]
    fn en_matches(&self, rpi: &[u8; 16]) -> &[([u8; 16], u32)] {
        if !self.en_filter.may_contain(rpi) || !self.en_fingerprints.may_contain(rpi) {
            return &[];
        }
        let b = bucket(rpi);
        let candidates = &self.en[self.en_buckets[b] as usize..self.en_buckets[b + 1] as usize];
        let start = candidates.partition_point(|(r, _)| r < rpi);
        let end = start
            + candidates[start..]
                .iter()
                .take_while(|(r, _)| r == rpi)
                .count();
        &candidates[start..end]
    }

    fn bluezone_matches(&self, id: &[u8; 12]) -> &[([u8; 12], u32)] {
        let start = self.bluezone.partition_point(|(r, _)| r < id);
        let end = start
            + self.bluezone[start..]
                .iter()
                .take_while(|(r, _)| r == id)
                .count();
        &self.bluezone[start..end]
    }
}

#[inline]
fn bucket(rpi: &[u8; 16]) -> usize {
    // The leading bytes, big-endian, so that buckets follow the sort order of the identifiers.
    (u32::from_be_bytes([rpi[0], rpi[1], rpi[2], rpi[3]]) >> (32 - BUCKET_BITS_LOG2)) as usize
}

/// What matching needs to know besides the keys.
#[derive(Debug, Clone, Copy)]
pub struct MatchContext {
    /// The current time, UTC unix milliseconds.
    pub now_ms: u64,
    /// Keys whose last interval ended more than this many days ago are ignored.
    pub retention_days: u32,
    /// How far a sighting may be from an en-v1 RPI's interval, seconds (2 hours in the specification).
    pub en_tolerance_secs: u64,
    /// How many bluezone-v3 slots a sighting may be off by.
    pub bluezone_tolerance_slots: u32,
    /// This phone's calibration (its RSSI correction).
    pub receiver: DeviceCalibration,
    /// TX power assumed for senders whose payload carries none (bluezone-v3) or an unknown metadata
    /// version: the calibration table's fleet average.
    pub fallback_tx_power_dbm: i8,
}

impl MatchContext {
    /// The defaults of the specifications, for a phone with calibration `receiver` at `now_ms`.
    pub fn new(now_ms: u64, receiver: DeviceCalibration, fallback_tx_power_dbm: i8) -> Self {
        Self {
            now_ms,
            retention_days: RETENTION_DAYS,
            en_tolerance_secs: EN_MATCH_TOLERANCE_SECS,
            bluezone_tolerance_slots: BLUEZONE_MATCH_TOLERANCE_SLOTS,
            receiver,
            fallback_tx_power_dbm,
        }
    }

    /// Room for the RPIs of every key [`match_en_key`] keeps: the intervals from a day before the oldest
    /// retained moment to now, at most the retention period and a day.
    fn rpi_batch(&self) -> RpiBatch {
        let interval = |ms: u64| u32::try_from(ms / 1000 / EN_INTERVAL_SECS).unwrap_or(u32::MAX);
        let first = interval(self.oldest_ms()).saturating_sub(EN_INTERVALS_PER_DAY);
        let count = (interval(self.now_ms) - first)
            .saturating_add(1)
            .min((RETENTION_DAYS + 1) * EN_INTERVALS_PER_DAY);
        RpiBatch::new(first, count)
    }

    fn oldest_ms(&self) -> u64 {
        self.now_ms
            .saturating_sub(u64::from(self.retention_days) * MS_PER_DAY)
    }

    /// The typical (from the mean RSSI) and minimum (from the strongest) attenuation of an instance, or
    /// `None` when the radio measured no RSSI in it.
    fn attenuations(&self, tx_power_dbm: i8, instance: &ScanInstance) -> Option<(f64, f64)> {
        let correction = f64::from(self.receiver.rssi_correction_db);
        let tx = f64::from(tx_power_dbm);
        let mean = instance.mean_rssi()?;
        Some((
            tx - (mean + correction),
            tx - (f64::from(instance.max_rssi) + correction),
        ))
    }
}

/// What matching found, and what it skipped.
#[derive(Debug, Clone, Default)]
pub struct MatchOutcome {
    /// Keys read (valid or not).
    pub keys_processed: u64,
    /// Keys with at least one matching sighting.
    pub keys_matched: u64,
    /// Keys skipped, by reason.
    pub skipped: BTreeMap<KeySkip, u64>,
    /// The matched keys' scan instances, ready for risk scoring.
    pub exposures: Vec<Exposure>,
    /// When each matched scan instance began (its first sighting, UTC ms), with or without a measured
    /// RSSI: every sighting of a published identifier, whatever risk scoring makes of it.
    pub heard_ms: Vec<u64>,
}

impl MatchOutcome {
    fn skip(&mut self, reason: KeySkip) {
        *self.skipped.entry(reason).or_default() += 1;
    }

    fn merge(mut self, other: MatchOutcome) -> MatchOutcome {
        self.keys_processed += other.keys_processed;
        self.keys_matched += other.keys_matched;
        for (reason, n) in other.skipped {
            *self.skipped.entry(reason).or_default() += n;
        }
        self.exposures.extend(other.exposures);
        self.heard_ms.extend(other.heard_ms);
        self
    }
}

/// Matches every key of a verified export against the index, on every core.
pub fn match_export(
    index: &HeardIndex,
    export: &VerifiedExport,
    ctx: &MatchContext,
) -> MatchOutcome {
    let mut matching = ExportMatching::default();
    matching.add(index, export.key_chunks(), ctx);
    matching.finish()
}

/// Matching an export's keys run by run, as they are read: what each run found, in file order.
#[derive(Debug, Default)]
pub(crate) struct ExportMatching {
    runs: Vec<(MatchOutcome, Vec<[u8; 16]>)>,
}

impl ExportMatching {
    /// Matches the next runs of keys, on every core.
    pub(crate) fn add<'a>(
        &mut self,
        index: &HeardIndex,
        chunks: impl IndexedParallelIterator<Item = KeyChunk<'a>>,
        ctx: &MatchContext,
    ) {
        self.runs
            .par_extend(chunks.map(|chunk| match_chunk(index, chunk, ctx)));
    }

    /// The outcome of all the runs.
    pub(crate) fn finish(self) -> MatchOutcome {
        // Twins that were not next to each other: keep each key's exposure once.
        let mut seen = std::collections::HashSet::new();
        let mut total = MatchOutcome::default();
        for (mut outcome, keys) in self.runs {
            let exposures = std::mem::take(&mut outcome.exposures);
            total = total.merge(outcome);
            for (exposure, key) in exposures.into_iter().zip(keys) {
                if seen.insert(key) {
                    total.exposures.push(exposure);
                } else {
                    total.skip(KeySkip::Duplicate);
                }
            }
        }
        total.keys_matched = total.exposures.len() as u64;
        total
    }
}

/// Matches one run of keys; returns what it found and the bytes of each key matched.
fn match_chunk(
    index: &HeardIndex,
    chunk: KeyChunk<'_>,
    ctx: &MatchContext,
) -> (MatchOutcome, Vec<[u8; 16]>) {
    let mut rpis = ctx.rpi_batch();
    let mut outcome = MatchOutcome::default();
    let mut matched_keys = Vec::new();
    let mut previous: Option<[u8; 16]> = None;
    for key in chunk.keys() {
        outcome.keys_processed += 1;
        let key = match key {
            Ok(key) => key,
            Err(skip) => {
                outcome.skip(skip);
                continue;
            }
        };
        let bytes = *key.key.tek.as_bytes();
        // Servers sort keys by their bytes, so a repeated key sits next to its twin.
        if previous.replace(bytes) == Some(bytes) {
            outcome.skip(KeySkip::Duplicate);
            continue;
        }
        if let Some(exposure) = match_en_key(index, &key, ctx, &mut rpis, &mut outcome) {
            outcome.exposures.push(exposure);
            matched_keys.push(bytes);
        }
    }
    (outcome, matched_keys)
}

fn match_en_key(
    index: &HeardIndex,
    key: &ExportKey,
    ctx: &MatchContext,
    rpis: &mut RpiBatch,
    outcome: &mut MatchOutcome,
) -> Option<Exposure> {
    let k = &key.key;
    let end_ms = u64::from(k.end_interval()) * EN_INTERVAL_SECS * 1000;
    if end_ms <= ctx.oldest_ms() {
        outcome.skip(KeySkip::OutsideRetention);
        return None;
    }
    if end_ms > ctx.now_ms {
        outcome.skip(KeySkip::NotYetExpired);
        return None;
    }
    if index.en.is_empty() {
        return None;
    }
    let mut hits: Vec<(u32, u32)> = Vec::new();
    let tolerance_ms = ctx.en_tolerance_secs * 1000;
    rpis.for_each_rpi(
        &k.tek.rpik(),
        k.rolling_start_interval,
        k.rolling_period,
        |j, rpi| {
            for &(_, i) in index.en_matches(rpi) {
                let interval = k.rolling_start_interval + j;
                let start_ms = u64::from(interval) * EN_INTERVAL_SECS * 1000;
                let heard = index.instances[i as usize].first_seen_ms;
                if heard + tolerance_ms >= start_ms
                    && heard < start_ms + EN_INTERVAL_SECS * 1000 + tolerance_ms
                {
                    hits.push((i, interval));
                }
            }
        },
    );
    if hits.is_empty() {
        return None;
    }
    outcome.heard_ms.extend(
        hits.iter()
            .map(|&(i, _)| index.instances[i as usize].first_seen_ms),
    );
    let aemk = k.tek.aemk();
    let mut estimated = false;
    let instances = hits
        .iter()
        .filter_map(|&(i, _)| {
            let instance = &index.instances[i as usize];
            let tx = match instance.payload {
                Payload::EnV1 { rpi, aem } => {
                    let metadata = aemk.decrypt(&rpi, &aem);
                    // Only major version 1 has the TX power where this code reads it.
                    (metadata.major_version() == 1).then(|| metadata.tx_power_dbm())
                }
                Payload::BluezoneV3 { .. } => None,
            };
            estimated |= tx.is_none();
            scored(instance, tx.unwrap_or(ctx.fallback_tx_power_dbm), ctx)
        })
        .collect();
    Some(Exposure {
        key: KeyWeighting {
            transmission_risk_level: key.transmission_risk_level,
            report_type: key.report_type,
            days_since_onset: key.days_since_onset,
        },
        instances,
        tx_power_estimated: estimated,
    })
}

/// The scan instance with its attenuations, or `None` when the radio measured no RSSI in it: it proves
/// presence but says nothing of distance.
fn scored(instance: &ScanInstance, tx_power_dbm: i8, ctx: &MatchContext) -> Option<ScoredInstance> {
    let (typical, min) = ctx.attenuations(tx_power_dbm, instance)?;
    Some(ScoredInstance {
        time_ms: instance.first_seen_ms,
        seconds_since_previous_scan: instance.seconds_since_previous_scan,
        typical_attenuation_db: typical,
        min_attenuation_db: min,
    })
}

/// Matches bluezone-v3 daily keys (from a verified list) against the index. Bluezone peers announce no
/// TX power: every attenuation uses the fallback, and the result says so.
pub fn match_bluezone(index: &HeardIndex, keys: &[DailyKey], ctx: &MatchContext) -> MatchOutcome {
    let results: Vec<(MatchOutcome, Option<[u8; 32]>)> = keys
        .par_iter()
        .map(|key| {
            let mut outcome = MatchOutcome {
                keys_processed: 1,
                ..Default::default()
            };
            let day_end_ms = (key.day_start_secs() + SECS_PER_DAY) * 1000;
            if day_end_ms <= ctx.oldest_ms() {
                outcome.skip(KeySkip::OutsideRetention);
                return (outcome, None);
            }
            let mut ids = Vec::with_capacity(key.slots_per_day() as usize);
            BluezoneV3::identifiers(key, &mut ids);
            let mut instances = Vec::new();
            for (slot, id) in ids.iter().enumerate() {
                for &(_, i) in index.bluezone_matches(&id.0) {
                    let Some(s) = BluezoneV3::slot(key, slot as u32) else {
                        continue;
                    };
                    let margin = s.duration_secs * u64::from(ctx.bluezone_tolerance_slots) * 1000;
                    let instance = &index.instances[i as usize];
                    let heard = instance.first_seen_ms;
                    if heard + margin >= s.start_secs * 1000 && heard < s.end_secs() * 1000 + margin
                    {
                        outcome.heard_ms.push(heard);
                        instances.extend(scored(instance, ctx.fallback_tx_power_dbm, ctx));
                    }
                }
            }
            if instances.is_empty() {
                return (outcome, None);
            }
            outcome.exposures.push(Exposure {
                key: KeyWeighting {
                    transmission_risk_level: None,
                    report_type: crate::export::ReportType::ConfirmedTest,
                    days_since_onset: None,
                },
                instances,
                tx_power_estimated: true,
            });
            (outcome, Some(*key.as_bytes()))
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    let mut total = MatchOutcome::default();
    for (outcome, key) in results {
        match key {
            Some(key) if !seen.insert(key) => {
                total.keys_processed += 1;
                total.skip(KeySkip::Duplicate);
            }
            _ => total = total.merge(outcome),
        }
    }
    total.keys_matched = total.exposures.len() as u64;
    total
}

#[cfg(test)]
mod tests;
