//! End to end: a phone hears a person's RPIs, the person's key is hidden among 10,000 others in a signed
//! export, and the phone finds exactly the day it met them; a phone that never met them finds nothing.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use openzone_core::export::signing::SigningKey;
use openzone_core::export::{ExportBuilder, ExportFile, ExportKey, ReportType};
use openzone_core::phone::{CalibrationTable, ProximityBand};
use openzone_core::protocol::en_v1::{EnV1, ExposureKey, TemporaryExposureKey};
use openzone_core::protocol::Scheme;
use openzone_core::sighting::{Sighting, Source};
use openzone_core::time::{format_day, MS_PER_DAY};
use openzone_tests::clock::ManualClock;
use openzone_tests::lesson::lesson_sightings;
use openzone_tests::phone::open_phone;
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

    let (signer, _) = SigningKey::generate("310", "v1").unwrap();
    let clock = ManualClock::new(now);
    let setup = |c: &mut openzone_core::phone::PhoneConfig| {
        c.calibration = CalibrationTable::builtin().lookup("samsung", "beyond1", "SM-G973F");
        c.export_keys = vec![signer.verification_key()];
    };
    let met = tempfile::tempdir().unwrap();
    let never_met = tempfile::tempdir().unwrap();
    let phone = open_phone(met.path(), &clock, setup);
    phone.record_sightings(&other_sightings(&rng)).unwrap();
    phone
        .record_sightings(&lesson_sightings(&person.key, DAY))
        .unwrap();
    phone.checkpoint().unwrap();
    let stranger = open_phone(never_met.path(), &clock, setup);
    stranger.record_sightings(&other_sightings(&rng)).unwrap();
    stranger.checkpoint().unwrap();

    // The person's key among 10,000 others of the last days, sorted by key bytes as servers publish them.
    let mut keys: Vec<ExportKey> = (0..10_000u32)
        .map(|i| random_key(&rng, DAY - 5 + i % 5))
        .collect();
    keys.push(person.clone());
    keys.sort_by(|a, b| a.key.tek.as_bytes().cmp(b.key.tek.as_bytes()));
    let zip = ExportBuilder {
        region: "VN".into(),
        ..ExportBuilder::one_file(keys)
    }
    .build_zip(&signer)
    .unwrap();
    let export = || ExportFile::from_zip_bytes(zip.clone()).unwrap();

    let report = phone.process_export(export()).unwrap();
    assert_eq!(report.keys_processed, 10_001);
    assert_eq!(report.keys_matched, 1);
    assert_eq!(report.days.len(), 1);
    let day = &report.days[0];
    assert_eq!(format_day(day.day), "2026-11-20");
    assert!(day.at_risk, "{day:?}");
    assert_eq!(day.closest, ProximityBand::Immediate);
    assert!(!day.tx_power_estimated);
    assert_eq!(phone.exposure_days().unwrap(), report.days);
    assert_eq!(report.newly_at_risk, [DAY]);

    // The same batch again changes nothing.
    let again = phone.process_export(export()).unwrap();
    assert!(again.already_processed);
    assert_eq!(phone.exposure_days().unwrap(), report.days);

    let nothing = stranger.process_export(export()).unwrap();
    assert_eq!((nothing.keys_processed, nothing.keys_matched), (10_001, 0));
    assert!(nothing.days.is_empty());
    assert!(stranger.exposure_days().unwrap().is_empty());

    // A tampered copy is refused and records nothing.
    let mut tampered = zip.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 0x01;
    let checked = ExportFile::from_zip_bytes(tampered)
        .map_err(openzone_core::Error::from)
        .and_then(|e| phone.process_export(e));
    assert!(checked.is_err());
    assert_eq!(phone.exposure_days().unwrap(), report.days);
}
