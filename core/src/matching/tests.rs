//! Matching rules: time tolerance, retention, duplicates, metadata, bluezone slots.

use super::*;
use crate::export::signing::SigningKey;
use crate::export::{Export, ExportBuilder, ReportType};
use crate::protocol::bluezone_v3::BluezoneId;
use crate::protocol::en_v1::{Aem, EnV1, ExposureKey, Metadata, Rpi, TemporaryExposureKey};
use crate::risk::calibration::CalibrationTable;

const DAY: u32 = 20_400;
const DAY_START_MS: u64 = DAY as u64 * MS_PER_DAY;

fn ctx(now_ms: u64) -> MatchContext {
    let table = CalibrationTable::builtin();
    MatchContext::new(now_ms, table.fleet(), table.fleet().tx_power_dbm)
}

fn tek(n: u8) -> ExposureKey {
    ExposureKey::new(TemporaryExposureKey::from_bytes([n; 16]), DAY * 144, 144).unwrap()
}

/// The scan instance a phone records when it hears `key`'s payload for `interval_offset` at `heard_ms`.
fn heard(
    key: &ExposureKey,
    interval_offset: u32,
    heard_ms: u64,
    rssi: i8,
    tx_power: i8,
) -> ScanInstance {
    let payload = EnV1::new(tx_power).payload(key, interval_offset);
    ScanInstance {
        payload,
        window_start_ms: heard_ms,
        seconds_since_previous_scan: Some(300),
        first_seen_ms: heard_ms,
        last_seen_ms: heard_ms + 2_000,
        count: 4,
        rssi_count: 4,
        max_rssi: rssi + 3,
        min_rssi: rssi - 3,
        rssi_sum: 4 * i64::from(rssi),
        tx_power: None,
        via_advertisement: true,
        via_gatt: false,
    }
}

fn export_of(keys: Vec<ExportKey>) -> VerifiedExport {
    let (signer, _) = SigningKey::generate("t", "v1").unwrap();
    let zip = ExportBuilder::one_file(keys).build_zip(&signer).unwrap();
    Export::from_zip_bytes(&zip)
        .unwrap()
        .verify(&[signer.verification_key()])
        .unwrap()
}

fn published(key: ExposureKey) -> ExportKey {
    ExportKey {
        key,
        transmission_risk_level: Some(6),
        report_type: ReportType::ConfirmedTest,
        days_since_onset: Some(0),
    }
}

#[test]
fn a_heard_rpi_matches_within_two_hours_and_not_beyond() {
    let key = tek(1);
    let interval_ms = |j: u64| DAY_START_MS + j * 600_000;
    let index = HeardIndex::new(vec![
        heard(&key, 60, interval_ms(60) + 1_000, -60, -20),
        // Interval 61's RPI heard 1 h 50 min late: still counts.
        heard(&key, 61, interval_ms(61) + 110 * 60_000, -60, -20),
        // Interval 62's RPI heard 2 h 20 min late: a replay, not a contact.
        heard(&key, 62, interval_ms(62) + 140 * 60_000, -60, -20),
        // Interval 10's RPI heard 2 h 30 min early.
        heard(&key, 10, interval_ms(10) - 150 * 60_000, -60, -20),
    ]);
    let outcome = match_export(
        &index,
        &export_of(vec![published(key)]),
        &ctx(DAY_START_MS + 3 * MS_PER_DAY),
    );
    assert_eq!(outcome.keys_matched, 1);
    assert_eq!(outcome.exposures[0].instances.len(), 2);
}

#[test]
fn attenuation_uses_the_tx_power_from_the_metadata() {
    let key = tek(2);
    let index = HeardIndex::new(vec![heard(&key, 50, DAY_START_MS + 50 * 600_000, -70, -10)]);
    let outcome = match_export(
        &index,
        &export_of(vec![published(key.clone())]),
        &ctx(DAY_START_MS + 2 * MS_PER_DAY),
    );
    let instance = outcome.exposures[0].instances[0];
    // -10 - (-70 + 4): the fleet RSSI correction is +4.
    assert_eq!(instance.typical_attenuation_db, 56.0);
    assert_eq!(instance.min_attenuation_db, 53.0);
    assert!(!outcome.exposures[0].tx_power_estimated);
    // Metadata of an unknown major version falls back to the fleet TX power and says so.
    let mut odd = heard(&key, 51, DAY_START_MS + 51 * 600_000, -70, -10);
    if let Payload::EnV1 { rpi, aem } = &mut odd.payload {
        let aemk = key.tek.aemk();
        *aem = aemk.encrypt(rpi, &Metadata([0x80, 0xF6, 0, 0]));
    }
    let outcome = match_export(
        &HeardIndex::new(vec![odd]),
        &export_of(vec![published(key)]),
        &ctx(DAY_START_MS + 2 * MS_PER_DAY),
    );
    assert!(outcome.exposures[0].tx_power_estimated);
    assert_eq!(
        outcome.exposures[0].instances[0].typical_attenuation_db,
        -25.0 - (-70.0 + 4.0)
    );
}

#[test]
fn old_unexpired_and_duplicate_keys_are_skipped() {
    let key = tek(3);
    let index = HeardIndex::new(vec![heard(&key, 5, DAY_START_MS + 5 * 600_000, -60, -20)]);
    let keys = vec![
        published(key.clone()),
        published(key.clone()),
        published(tek(4)),
    ];
    // 20 days later: outside the 14-day retention.
    let old = match_export(
        &index,
        &export_of(keys.clone()),
        &ctx(DAY_START_MS + 20 * MS_PER_DAY),
    );
    assert_eq!(old.keys_matched, 0);
    assert_eq!(old.skipped[&KeySkip::OutsideRetention], 2);
    assert_eq!(old.skipped[&KeySkip::Duplicate], 1);
    // Halfway through the key's own day: still in use.
    let early = match_export(
        &index,
        &export_of(keys.clone()),
        &ctx(DAY_START_MS + MS_PER_DAY / 2),
    );
    assert_eq!(early.keys_matched, 0);
    assert_eq!(early.skipped[&KeySkip::NotYetExpired], 2);
    let now = match_export(
        &index,
        &export_of(keys),
        &ctx(DAY_START_MS + 2 * MS_PER_DAY),
    );
    assert_eq!((now.keys_processed, now.keys_matched), (3, 1));
    // Twins far apart in the file are caught too.
    let mut spread: Vec<ExportKey> = (10..20).map(|n| published(tek(n))).collect();
    spread.insert(0, published(key.clone()));
    spread.push(published(key));
    let outcome = match_export(
        &index,
        &export_of(spread),
        &ctx(DAY_START_MS + 2 * MS_PER_DAY),
    );
    assert_eq!(outcome.keys_matched, 1);
    assert_eq!(outcome.exposures.len(), 1);
    assert_eq!(outcome.skipped[&KeySkip::Duplicate], 1);
}

#[test]
fn bluezone_ids_match_with_one_slot_of_tolerance() {
    let key = DailyKey::new([9; 32], DAY, 96).unwrap();
    let mut ids = Vec::new();
    BluezoneV3::identifiers(&key, &mut ids);
    let at = |slot: u64, offset_s: i64| {
        (DAY_START_MS as i64 + slot as i64 * 900_000 + offset_s * 1000) as u64
    };
    let instance = |slot: usize, time_ms: u64| ScanInstance {
        payload: Payload::BluezoneV3 { id: ids[slot] },
        ..heard(&tek(1), 0, time_ms, -60, -20)
    };
    let index = HeardIndex::new(vec![
        instance(10, at(10, 5)),
        // Slot 11's ID heard 30 s after its slot ended (the phone's clock is behind): counts.
        instance(11, at(12, 30)),
        // Slot 20's ID heard two slots late: does not count.
        instance(20, at(22, 30)),
        // An unrelated ID.
        ScanInstance {
            payload: Payload::BluezoneV3 {
                id: BluezoneId([1; 12]),
            },
            ..instance(0, at(1, 0))
        },
    ]);
    let outcome = match_bluezone(
        &index,
        &[key.clone(), key],
        &ctx(DAY_START_MS + 2 * MS_PER_DAY),
    );
    assert_eq!(outcome.keys_matched, 1);
    assert_eq!(outcome.exposures[0].instances.len(), 2);
    assert!(outcome.exposures[0].tx_power_estimated);
    assert_eq!(outcome.skipped[&KeySkip::Duplicate], 1);
}

#[test]
fn the_index_finds_every_heard_rpi_and_little_else() {
    let instances: Vec<ScanInstance> = (0..30_000u32)
        .map(|i| {
            let mut rpi = [0u8; 16];
            rpi[..4].copy_from_slice(&i.wrapping_mul(2_654_435_761).to_le_bytes());
            rpi[4..8].copy_from_slice(&i.to_le_bytes());
            instance_with_rpi(rpi)
        })
        .collect();
    let index = assert_all_found(instances);
    assert!(index.en_matches(&[0xFF; 16]).is_empty());
    assert!(index.memory_bytes() < 8 << 20);
}

/// Indexes `instances` and checks that each is found once.
fn assert_all_found(instances: Vec<ScanInstance>) -> HeardIndex {
    let index = HeardIndex::new(instances.clone());
    for instance in &instances {
        let Identifier::EnV1(rpi) = instance.identifier() else {
            unreachable!()
        };
        assert_eq!(index.en_matches(&rpi.0).len(), 1);
    }
    index
}

fn instance_with_rpi(rpi: [u8; 16]) -> ScanInstance {
    ScanInstance {
        payload: Payload::EnV1 {
            rpi: Rpi(rpi),
            aem: Aem([0; 4]),
        },
        ..heard(&tek(1), 0, 0, -60, -20)
    }
}

/// How many of 200,000 random (unheard) identifiers `passes` lets through, with 30,000 random ones heard.
fn unheard_passing(passes: impl Fn(&HeardIndex, &[u8; 16]) -> bool) -> usize {
    let mut bits = crate::seeded::SplitMix64::new(3);
    let mut random_rpi = || {
        let mut rpi = [0u8; 16];
        rpi[..8].copy_from_slice(&bits.next_u64().to_le_bytes());
        rpi[8..].copy_from_slice(&bits.next_u64().to_le_bytes());
        rpi
    };
    let instances: Vec<ScanInstance> = (0..30_000)
        .map(|_| instance_with_rpi(random_rpi()))
        .collect();
    let index = assert_all_found(instances);
    (0..200_000)
        .filter(|_| passes(&index, &random_rpi()))
        .count()
}

#[test]
fn few_unheard_identifiers_pass_the_fingerprints() {
    let passed = unheard_passing(|index, rpi| index.en_fingerprints.may_contain(rpi));
    // Expected: 200,000 probes x about 1.8 fingerprints a bucket / 65,534 values = about 6.
    assert!(passed < 40, "{passed} unheard identifiers passed");
}

#[test]
fn one_unheard_identifier_in_seventy_passes_the_filter_bits() {
    let passed = unheard_passing(|index, rpi| {
        assert_eq!(index.en_filter.memory_bytes(), 256 << 10);
        index.en_filter.may_contain(rpi)
    });
    // Expected: 200,000 probes x 30,000 bits set / 2^21 = about 2,860.
    assert!(
        (2_000..4_000).contains(&passed),
        "{passed} unheard identifiers passed"
    );
}

#[test]
fn identifiers_crafted_to_share_a_bucket_are_all_found() {
    // A hostile advertiser can choose its identifiers: forty that land in one bucket with forty
    // different fingerprints overflow it, and must still all be found, without a slow or huge index.
    let instances: Vec<ScanInstance> = (0..40u8)
        .map(|i| {
            let mut rpi = [0x55u8; 16];
            rpi[8] = i;
            rpi[15] = i;
            instance_with_rpi(rpi)
        })
        .collect();
    let index = assert_all_found(instances);
    let mut unheard = [0x55u8; 16];
    unheard[8] = 200;
    assert!(index.en_matches(&unheard).is_empty());
    assert!(index.memory_bytes() < 1 << 20);
}

#[test]
fn a_bucket_passes_exactly_its_fingerprints() {
    // The eight lanes are compared at once with arithmetic on one word: check every possible value.
    let with_fingerprint = |f: u16| {
        let mut rpi = [0x11u8; 16];
        rpi[8..10].copy_from_slice(&f.to_le_bytes());
        rpi
    };
    let stored = [1u16, 2, 0x0100, 0x7FFF, 0x8000, 0xFFFE, 0x8001];
    let instances: Vec<ScanInstance> = stored
        .iter()
        .map(|&f| instance_with_rpi(with_fingerprint(f)))
        .collect();
    let index = HeardIndex::new(instances);
    for f in 1..=0xFFFE {
        assert_eq!(
            index.en_fingerprints.may_contain(&with_fingerprint(f)),
            stored.contains(&f),
            "fingerprint {f:#06x}"
        );
    }
}
