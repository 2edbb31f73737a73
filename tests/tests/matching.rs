//! End to end: a phone hears a person's RPIs, the person's key is hidden among 10,000 others in a signed
//! export, and the phone finds exactly the day it met them; a phone that never met them finds nothing.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use openzone_core::export::signing::SigningKey;
use openzone_core::export::{Export, ExportBuilder, ExportKey, ReportType};
use openzone_core::exposure::{check_export, exposure_days};
use openzone_core::matching::MatchContext;
use openzone_core::protocol::en_v1::{EnV1, ExposureKey, TemporaryExposureKey};
use openzone_core::protocol::Scheme;
use openzone_core::risk::calibration::CalibrationTable;
use openzone_core::risk::{ProximityBand, RiskConfig};
use openzone_core::sighting::{Sighting, Source};
use openzone_core::store::{DataKey, Store, StoreConfig};
use openzone_core::time::{format_day, MS_PER_DAY};
use openzone_tests::lesson::lesson_sightings;
use ring::rand::{SecureRandom, SystemRandom};

/// 2026-11-20, the day of the meeting.
const DAY: u32 = 20_777;
const DAY_MS: u64 = DAY as u64 * MS_PER_DAY;

fn random_key(rng: &SystemRandom, day: u32) -> ExportKey {
    let mut tek = [0u8; 16];
    rng.fill(&mut tek).unwrap();
    ExportKey {
        key: ExposureKey::new(TemporaryExposureKey::from_bytes(tek), day * 144, 144).unwrap(),
        transmission_risk_level: Some(6),
        report_type: ReportType::ConfirmedTest,
        days_since_onset: Some(0),
    }
}

fn other_sightings(rng: &SystemRandom) -> Vec<Sighting> {
    (0..500u64)
        .map(|i| {
            let key = random_key(rng, DAY).key;
            Sighting {
                payload: EnV1::new(-25).payload(&key, (i % 144) as u32),
                rssi: -70,
                tx_power: None,
                time_ms: DAY_MS + (i % 144) * 600_000,
                source: Source::Advertisement,
            }
        })
        .collect()
}

#[test]
fn a_hidden_key_is_found_on_exactly_the_right_day() {
    let rng = SystemRandom::new();
    let person = random_key(&rng, DAY);
    let now = DAY_MS + 3 * MS_PER_DAY;

    let met = tempfile::tempdir().unwrap();
    let never_met = tempfile::tempdir().unwrap();
    let data_key = DataKey::from_bytes([3; 32]);
    let store = Store::open(met.path(), &data_key, StoreConfig::default(), now).unwrap();
    store.record(&other_sightings(&rng)).unwrap();
    store.record(&lesson_sightings(&person.key, DAY)).unwrap();
    store.checkpoint(now).unwrap();
    let stranger = Store::open(never_met.path(), &data_key, StoreConfig::default(), now).unwrap();
    stranger.record(&other_sightings(&rng)).unwrap();
    stranger.checkpoint(now).unwrap();

    // The person's key among 10,000 others of the last days, sorted by key bytes as servers publish them.
    let mut keys: Vec<ExportKey> = (0..10_000u32)
        .map(|i| random_key(&rng, DAY - 5 + i % 5))
        .collect();
    keys.push(person.clone());
    keys.sort_by(|a, b| a.key.tek.as_bytes().cmp(b.key.tek.as_bytes()));
    let (signer, _) = SigningKey::generate("310", "v1").unwrap();
    let zip = ExportBuilder {
        region: "VN".into(),
        batch_num: 1,
        batch_size: 1,
        keys,
        ..Default::default()
    }
    .build_zip(&signer)
    .unwrap();
    let export = Export::from_zip_bytes(&zip)
        .unwrap()
        .verify(&[signer.verification_key()])
        .unwrap();

    let table = CalibrationTable::builtin();
    let ctx = MatchContext::new(
        now,
        table.lookup("samsung", "beyond1", "SM-G973F"),
        table.fleet().tx_power_dbm,
    );
    let risk = RiskConfig::corona_warn_app_2021();

    let report = check_export(&store, &export, &risk, &ctx).unwrap();
    assert_eq!(report.keys_processed, 10_001);
    assert_eq!(report.keys_matched, 1);
    assert_eq!(report.days.len(), 1);
    let day = &report.days[0];
    assert_eq!(format_day(day.day), "2026-11-20");
    assert!(day.at_risk, "{day:?}");
    assert_eq!(day.closest, ProximityBand::Immediate);
    assert!(!day.tx_power_estimated);
    assert_eq!(exposure_days(&store).unwrap(), report.days);

    // The same batch again changes nothing.
    let again = check_export(&store, &export, &risk, &ctx).unwrap();
    assert!(again.already_processed);
    assert_eq!(exposure_days(&store).unwrap(), report.days);

    let nothing = check_export(&stranger, &export, &risk, &ctx).unwrap();
    assert_eq!((nothing.keys_processed, nothing.keys_matched), (10_001, 0));
    assert!(nothing.days.is_empty());
    assert!(exposure_days(&stranger).unwrap().is_empty());

    // A tampered copy never gets as far as matching.
    let mut tampered = zip.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 0x01;
    let verified =
        Export::from_zip_bytes(&tampered).and_then(|e| e.verify(&[signer.verification_key()]));
    assert!(verified.is_err());
}
