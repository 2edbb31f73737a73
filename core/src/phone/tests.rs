//! The phone's rules: the keys a positive report publishes, the notification policy, the entry of
//! sightings, and deleting the data.

use std::sync::{Arc, Mutex};

use super::report::{check_code, release_keys};
use super::*;
use crate::engine::EngineStatus;
use crate::keyserver::wire::UploadPayload;
use crate::platform::NoRadio;
use crate::protocol::en_v1::{ExposureKey, TemporaryExposureKey};
use crate::store::{DataKey, Store, StoreConfig, UserConsent};
use crate::units::{
    BLUEZONE_SLOTS_PER_DAY, MAX_CHECKINS_PER_UPLOAD, MAX_KEYS_PER_UPLOAD, MS_PER_DAY,
};
use crate::wire::Error as WireError;

/// What a report would upload: the code checked, the keys released.
#[derive(Debug)]
struct Prepared {
    payload: UploadPayload,
    window: ReleaseWindow,
}

fn prepare(
    store: &Store,
    code: &str,
    onset_day: Option<u32>,
    test_day: Option<u32>,
    now_ms: u64,
) -> Result<Prepared, Error> {
    let code = check_code(code)?;
    let released = release_keys(
        store,
        onset_day,
        test_day,
        BLUEZONE_SLOTS_PER_DAY,
        now_ms,
        UserConsent::given(),
    )?;
    Ok(Prepared {
        payload: released.upload(code, &[])?,
        window: released.window,
    })
}

/// 2026-11-20.
const DAY: u32 = 20_777;
/// 20:00 UTC on [`DAY`], in ms: the lessons of the day before are over, the day's sync comes.
const EVENING_MS: u64 = DAY as u64 * MS_PER_DAY + 20 * 3_600_000;

fn store(now_ms: u64) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let key = DataKey::from_bytes([7; 32]);
    let store = Store::open(dir.path(), &key, StoreConfig::default(), now_ms).unwrap();
    (dir, store)
}

fn daily_key(day: u32, byte: u8) -> ExposureKey {
    ExposureKey::new(TemporaryExposureKey::from_bytes([byte; 16]), day * 144, 144).unwrap()
}

#[test]
fn the_key_in_use_ends_now_and_a_fresh_one_takes_over() {
    // 10:05 UTC: interval 60 of the day.
    let now = u64::from(DAY) * MS_PER_DAY + 10 * 3_600_000 + 5 * 60_000;
    let (_dir, store) = store(now);
    for (i, day) in (DAY - 20..=DAY).enumerate() {
        store.put_own_en_key(&daily_key(day, i as u8)).unwrap();
    }
    let current = DAY * 144 + 60;
    let prepared = prepare(&store, " 12345678 ", Some(DAY - 1), None, now).unwrap();
    assert_eq!(prepared.payload.code, "12345678");
    assert_eq!(prepared.window.ended_key_end_interval, Some(current + 1));
    // The fresh key is in force from this very interval: the phone switches at the report.
    assert_eq!(prepared.window.next_key_start_interval, Some(current));
    // Onset yesterday: from 3 days ago to today, four keys, oldest first, today's shortened.
    assert_eq!(prepared.window.first_day, DAY - 3);
    let keys: Vec<ExposureKey> = prepared
        .payload
        .keys
        .iter()
        .map(|k| k.exposure_key().unwrap())
        .collect();
    assert_eq!(
        keys.iter()
            .map(|k| k.rolling_start_interval)
            .collect::<Vec<_>>(),
        [DAY - 3, DAY - 2, DAY - 1, DAY].map(|d| d * 144)
    );
    assert_eq!(keys[3].rolling_period, 61);
    assert_eq!(keys[3].end_interval(), current + 1);
    assert_eq!(
        prepared
            .payload
            .keys
            .iter()
            .map(|k| k.days_since_onset)
            .collect::<Vec<_>>(),
        [Some(-2), Some(-1), Some(0), Some(1)]
    );
    // The store now holds the shortened key and a fresh one to the end of the day, not uploaded.
    let own = store.own_en_keys().unwrap();
    let fresh = own.last().unwrap();
    assert_eq!(fresh.rolling_start_interval, current);
    assert_eq!(fresh.end_interval(), (DAY + 1) * 144);
    assert!(keys.iter().all(|k| k.tek != fresh.tek));
    assert_eq!(
        own.iter()
            .find(|k| k.rolling_start_interval == DAY * 144)
            .unwrap(),
        &keys[3]
    );
}

#[test]
fn without_onset_the_window_starts_two_days_before_the_test() {
    let now = u64::from(DAY) * MS_PER_DAY + 3_600_000;
    let (_dir, store) = store(now);
    for (i, day) in (DAY - 6..=DAY).enumerate() {
        store.put_own_en_key(&daily_key(day, i as u8)).unwrap();
    }
    let prepared = prepare(&store, "00000001", None, Some(DAY - 3), now).unwrap();
    assert_eq!(prepared.window.first_day, DAY - 5);
    assert_eq!(prepared.payload.keys.len(), 6);
    assert!(prepared
        .payload
        .keys
        .iter()
        .all(|k| k.days_since_onset.is_none()));
    // Without a test day, today is the test day.
    let (_dir2, store) = self::store(now);
    for (i, day) in (DAY - 6..=DAY).enumerate() {
        store.put_own_en_key(&daily_key(day, i as u8)).unwrap();
    }
    let prepared = prepare(&store, "00000001", None, None, now).unwrap();
    assert_eq!(prepared.window.first_day, DAY - 2);
    assert_eq!(prepared.payload.keys.len(), 3);
}

#[test]
fn at_most_fifteen_keys_none_older_than_fourteen_days() {
    let now = u64::from(DAY) * MS_PER_DAY + 12 * 3_600_000;
    let (_dir, store) = store(now);
    // Three keys a day (the phone restarted twice a day) for 14 days.
    for day in DAY - 13..=DAY {
        for part in 0..3u32 {
            let key = ExposureKey::new(
                TemporaryExposureKey::from_bytes([(day % 200) as u8 + part as u8; 16]),
                day * 144 + part * 48,
                48,
            )
            .unwrap();
            store.put_own_en_key(&key).unwrap();
        }
    }
    let prepared = prepare(&store, "11111111", Some(DAY - 13), None, now).unwrap();
    let keys = &prepared.payload.keys;
    assert_eq!(keys.len(), MAX_KEYS_PER_UPLOAD);
    // The newest fifteen: today's 12:00 key is the last one (it covers the current interval).
    let last = keys.last().unwrap();
    assert_eq!(last.rolling_start_interval, DAY * 144 + 48);
    assert_eq!(last.rolling_period, 72 - 48 + 1);
    assert!(keys
        .windows(2)
        .all(|w| w[0].rolling_start_interval < w[1].rolling_start_interval));
}

#[test]
fn bad_input_changes_nothing() {
    let now = u64::from(DAY) * MS_PER_DAY + 3_600_000;
    let (_dir, store) = store(now);
    store.put_own_en_key(&daily_key(DAY, 1)).unwrap();
    for code in ["", "1234567", "123456789", "1234567a", "１２３４５６７８"] {
        assert!(
            matches!(
                prepare(&store, code, None, None, now),
                Err(Error::InvalidCode)
            ),
            "{code:?}"
        );
    }
    assert!(matches!(
        prepare(&store, "12345678", Some(DAY + 1), None, now),
        Err(Error::Wire(WireError::InvalidConfig(_)))
    ));
    assert_eq!(store.own_en_keys().unwrap(), vec![daily_key(DAY, 1)]);
    // A phone without keys in the window has nothing to report (after rotating, harmlessly).
    let (_dir, empty) = self::store(now);
    assert!(matches!(
        prepare(&empty, "12345678", None, None, now),
        Err(Error::NoKeysToReport)
    ));
}

#[test]
fn in_the_last_interval_of_the_day_the_fresh_key_covers_that_interval() {
    let now = u64::from(DAY + 1) * MS_PER_DAY - 60_000;
    let (_dir, store) = store(now);
    store.put_own_en_key(&daily_key(DAY, 1)).unwrap();
    let prepared = prepare(&store, "12345678", None, None, now).unwrap();
    let last = (DAY + 1) * 144 - 1;
    assert_eq!(prepared.window.next_key_start_interval, Some(last));
    assert_eq!(
        prepared.window.ended_key_end_interval,
        Some((DAY + 1) * 144)
    );
    assert_eq!(prepared.payload.keys.last().unwrap().rolling_period, 144);
    let own = store.own_en_keys().unwrap();
    assert_eq!(own.len(), 2);
    assert_eq!(
        (own[1].rolling_start_interval, own[1].rolling_period),
        (last, 1)
    );
    assert_eq!(prepared.payload.keys.len(), 1, "never the fresh key");
}

// ---- the phone as a whole ----

/// A clock the test sets.
#[derive(Debug)]
struct TestClock(Mutex<u64>);

impl crate::time::Clock for TestClock {
    fn now_ms(&self) -> u64 {
        *self.0.lock().unwrap()
    }
}

/// What the phone told the app.
#[derive(Default)]
struct Told {
    days_at_risk: Mutex<Vec<u32>>,
    presence: Mutex<Vec<PresenceWarning>>,
}

impl PhoneListener for Told {
    fn radio_status_changed(&self, _: &EngineStatus) {}
    fn sightings_recorded(&self, _: u64) {}
    fn day_at_risk(&self, day: &DayRisk) {
        self.days_at_risk.lock().unwrap().push(day.day);
    }
    fn presence_warning(&self, warning: &PresenceWarning) {
        self.presence.lock().unwrap().push(warning.clone());
    }
    fn sync_progress(&self, _: SyncProgress) {}
    fn error(&self, error: &Error) {
        panic!("unexpected phone error: {error}");
    }
}

struct Rig {
    dir: tempfile::TempDir,
    clock: Arc<TestClock>,
    told: Arc<Told>,
    signer: crate::export::signing::SigningKey,
}

impl Rig {
    fn new(now_ms: u64) -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            clock: Arc::new(TestClock(Mutex::new(now_ms))),
            told: Arc::new(Told::default()),
            signer: crate::export::signing::SigningKey::generate("310", "v1")
                .unwrap()
                .0,
        }
    }

    fn open_with(&self, key: DataKey) -> Result<Phone, Error> {
        self.open_configured(key, vec![self.signer.verification_key()])
    }

    /// The phone, its pinned export keys `export_keys`.
    fn open_with_keys(&self, export_keys: Vec<VerificationKey>) -> Phone {
        self.open_configured(DataKey::from_bytes([3; 32]), export_keys)
            .unwrap()
    }

    fn open_configured(
        &self,
        key: DataKey,
        export_keys: Vec<VerificationKey>,
    ) -> Result<Phone, Error> {
        let mut config = PhoneConfig::new(self.dir.path(), key);
        config.export_keys = export_keys;
        Phone::open(
            config,
            Arc::new(NoRadio),
            Some(Arc::clone(&self.told) as Arc<dyn PhoneListener>),
            Arc::clone(&self.clock) as Arc<dyn crate::time::Clock>,
        )
    }

    fn open(&self) -> Phone {
        self.open_with(DataKey::from_bytes([3; 32])).unwrap()
    }

    /// A signed export of `keys`, numbered `batch` (so each is a distinct batch), as downloaded.
    fn export(&self, keys: &[ExposureKey], batch: i32) -> ExportFile<std::io::Cursor<Vec<u8>>> {
        ExportFile::from_zip_bytes(self.export_zip(keys, batch, &self.signer)).unwrap()
    }

    /// The zip of [`export`](Self::export), signed by `signer`.
    fn export_zip(
        &self,
        keys: &[ExposureKey],
        batch: i32,
        signer: &crate::export::signing::SigningKey,
    ) -> Vec<u8> {
        let builder = crate::export::ExportBuilder {
            region: "VN".into(),
            batch_num: batch,
            batch_size: batch,
            keys: keys
                .iter()
                .map(|k| crate::export::ExportKey {
                    key: k.clone(),
                    transmission_risk_level: Some(6),
                    report_type: crate::export::ReportType::ConfirmedTest,
                    days_since_onset: Some(0),
                })
                .collect(),
            ..Default::default()
        };
        builder.build_zip(signer).unwrap()
    }

    fn told(&self) -> Vec<u32> {
        self.told.days_at_risk.lock().unwrap().clone()
    }
}

/// A 40-minute lesson next to `person` on UTC day `day` from 08:00: a scan every 5 minutes, 4 sightings
/// per scan at `rssi`.
fn lesson(person: &ExposureKey, day: u32, rssi: i8) -> Vec<Sighting> {
    use crate::protocol::en_v1::EnV1;
    use crate::protocol::Scheme;
    let start_ms = u64::from(day) * MS_PER_DAY + 8 * 3_600_000;
    (0..8u64)
        .flat_map(|scan| {
            let t = start_ms + scan * 300_000;
            let index = EnV1::slot_at(person, t / 1000).unwrap().index;
            let payload = EnV1::new(-25).payload(person, index);
            (0..4u64).map(move |k| Sighting {
                payload,
                rssi,
                tx_power: None,
                time_ms: t + k * 700,
                source: crate::sighting::Source::Advertisement,
            })
        })
        .collect()
}

#[test]
fn a_day_at_risk_is_told_once_across_batches_and_restarts() {
    let rig = Rig::new(EVENING_MS);
    let (case_a, case_b) = (daily_key(DAY - 1, 0xA1), daily_key(DAY - 1, 0xB2));
    let phone = rig.open();
    let mut heard = lesson(&case_a, DAY - 1, -55);
    // The file of a QA tester, say, need not be in time order.
    heard.extend(lesson(&case_b, DAY - 1, -55));
    phone.record_sightings(&heard).unwrap();
    assert_eq!(phone.heard().unwrap().len(), 16);

    let first = phone
        .process_export(rig.export(std::slice::from_ref(&case_a), 1))
        .unwrap();
    assert_eq!(first.newly_at_risk, [DAY - 1]);
    assert_eq!(rig.told(), [DAY - 1]);
    // A second case the same day adds to the day: the user was told already.
    let second = phone
        .process_export(rig.export(std::slice::from_ref(&case_b), 2))
        .unwrap();
    assert_eq!(second.keys_matched, 1);
    assert!(second.newly_at_risk.is_empty());
    // The same batch again changes nothing.
    assert!(
        phone
            .process_export(rig.export(std::slice::from_ref(&case_a), 1))
            .unwrap()
            .already_processed
    );
    phone.checkpoint().unwrap();
    drop(phone);
    let again = rig.open();
    let third = again
        .process_export(rig.export(&[case_a, case_b], 3))
        .unwrap();
    assert!(third.newly_at_risk.is_empty());
    assert_eq!(rig.told(), [DAY - 1], "told once, across restarts");
    assert!(again.exposure_days().unwrap()[0].at_risk);
}

#[test]
fn an_export_checks_alike_from_a_file_and_from_memory_and_one_that_fails_records_nothing() {
    let case = daily_key(DAY - 1, 0xE5);
    let (rig, bytes_rig) = (Rig::new(EVENING_MS), Rig::new(EVENING_MS));
    // Both phones pin the one key that signs the genuine export.
    let (phone, bytes_phone) = (
        rig.open(),
        bytes_rig.open_with_keys(vec![rig.signer.verification_key()]),
    );
    for p in [&phone, &bytes_phone] {
        p.record_sightings(&lesson(&case, DAY - 1, -55)).unwrap();
    }
    let files = tempfile::tempdir().unwrap();
    let write = |name: &str, zip: &[u8]| {
        let path = files.path().join(name);
        std::fs::write(&path, zip).unwrap();
        path
    };
    let keys = std::slice::from_ref(&case);
    let from_file = |phone: &Phone, path: &std::path::Path| {
        ExportFile::open(path)
            .map_err(Error::from)
            .and_then(|export| phone.process_export(export))
    };
    let from_bytes = |phone: &Phone, zip: &[u8]| {
        ExportFile::from_zip_bytes(zip.to_vec())
            .map_err(Error::from)
            .and_then(|export| phone.process_export(export))
    };
    // The same export.bin, signed in the name of the pinned key by another key: it does not verify.
    let impostor = crate::export::signing::SigningKey::generate("310", "v1")
        .unwrap()
        .0;
    let forged = rig.export_zip(keys, 1, &impostor);
    let refused = from_file(&phone, &write("forged.zip", &forged)).unwrap_err();
    let refused_bytes = from_bytes(&bytes_phone, &forged).unwrap_err();
    assert!(
        matches!(refused, Error::Wire(openzone_wire::Error::Signature(_))),
        "{refused}"
    );
    assert_eq!(refused.to_string(), refused_bytes.to_string());
    // Damaged: cut short, or the zip over the cap (zeros, as a sparse file); refused alike, before or
    // after its keys were matched.
    let genuine = rig.export_zip(keys, 1, &rig.signer);
    let cut = &genuine[..genuine.len() - 30];
    let huge = vec![0u8; crate::export::MAX_ZIP_BYTES as usize + 1];
    let huge_file = files.path().join("huge.zip");
    std::fs::File::create(&huge_file)
        .and_then(|f| f.set_len(huge.len() as u64))
        .unwrap();
    for (path, zip) in [(write("cut.zip", cut), cut), (huge_file, &huge[..])] {
        let refused = from_file(&phone, &path).unwrap_err();
        assert!(
            matches!(refused, Error::Wire(openzone_wire::Error::Export(_))),
            "{refused}"
        );
        assert_eq!(
            refused.to_string(),
            from_bytes(&bytes_phone, zip).unwrap_err().to_string()
        );
    }
    for (p, r) in [(&phone, &rig), (&bytes_phone, &bytes_rig)] {
        assert!(p.exposure_days().unwrap().is_empty());
        assert!(r.told().is_empty());
    }

    // The genuine export, whose export.bin is the forged one's: not taken as processed before.
    let genuine_file = write("genuine.zip", &genuine);
    let report = from_file(&phone, &genuine_file).unwrap();
    assert_eq!(report.keys_matched, 1);
    assert_eq!(report.newly_at_risk, [DAY - 1]);
    assert_eq!(rig.told(), [DAY - 1]);
    assert_eq!(from_bytes(&bytes_phone, &genuine).unwrap(), report);
    assert_eq!(bytes_rig.told(), [DAY - 1]);
    assert!(from_file(&phone, &genuine_file).unwrap().already_processed);
    assert!(
        from_bytes(&bytes_phone, &genuine)
            .unwrap()
            .already_processed
    );

    // A key trusted for the export's own key id, as the command line trusts a key file.
    let other_rig = Rig::new(EVENING_MS);
    let other = other_rig.open_with_keys(Vec::new());
    other
        .record_sightings(&lesson(&case, DAY - 1, -55))
        .unwrap();
    let signer = rig.signer.verification_key();
    let trusted = other
        .process_export_trusting(ExportFile::open(&genuine_file).unwrap(), |header| {
            assert_eq!(header.signature_infos[0].key_id, "310");
            Ok(vec![signer.clone()])
        })
        .unwrap();
    assert_eq!(trusted.keys_matched, 1);
}

#[test]
fn an_unknown_rssi_proves_presence_but_gives_no_risk() {
    let rig = Rig::new(EVENING_MS);
    let case = daily_key(DAY - 1, 0xC3);
    let phone = rig.open();
    // Android's clamp of "unavailable" to 126, and 127 itself: both are the one "unknown".
    let mut heard = lesson(&case, DAY - 1, 126);
    heard.extend(lesson(&case, DAY - 1, crate::units::RSSI_UNKNOWN));
    assert_eq!(phone.record_sightings(&heard).unwrap(), heard.len());
    let instances = phone.heard().unwrap();
    assert!(instances
        .iter()
        .all(|i| i.rssi_count == 0 && i.mean_rssi().is_none() && i.count == 8));
    let check = phone
        .process_export(rig.export(std::slice::from_ref(&case), 1))
        .unwrap();
    assert_eq!(check.keys_matched, 1);
    assert_eq!(check.days_heard, [DAY - 1]);
    assert!(check.newly_at_risk.is_empty());
    assert!(rig.told().is_empty());
}

#[test]
fn known_readings_are_not_voided_by_an_unknown_one() {
    let rig = Rig::new(EVENING_MS);
    let case = daily_key(DAY - 1, 0xD4);
    let phone = rig.open();
    let mut heard = lesson(&case, DAY - 1, -50);
    heard.extend(lesson(&case, DAY - 1, crate::units::RSSI_UNKNOWN));
    phone.record_sightings(&heard).unwrap();
    for instance in phone.heard().unwrap() {
        assert_eq!((instance.count, instance.rssi_count), (8, 4));
        assert_eq!(instance.mean_rssi(), Some(-50.0));
        assert_eq!((instance.max_rssi, instance.min_rssi), (-50, -50));
    }
    let check = phone
        .process_export(rig.export(std::slice::from_ref(&case), 1))
        .unwrap();
    assert_eq!(check.newly_at_risk, [DAY - 1]);
}

#[test]
fn deleting_the_data_reseals_under_the_new_key() {
    let rig = Rig::new(EVENING_MS);
    let phone = rig.open();
    phone
        .record_sightings(&lesson(&daily_key(DAY, 9), DAY, -60))
        .unwrap();
    phone.checkpoint().unwrap();
    let fresh = DataKey::from_bytes([4; 32]);
    phone.delete_all_data(&fresh).unwrap();
    assert!(phone.heard().unwrap().is_empty());
    phone
        .record_sightings(&lesson(&daily_key(DAY, 10), DAY, -60))
        .unwrap();
    phone.checkpoint().unwrap();
    drop(phone);
    assert!(matches!(
        rig.open_with(DataKey::from_bytes([3; 32])),
        Err(Error::WrongDataKey)
    ));
    let reopened = rig.open_with(fresh).unwrap();
    assert_eq!(reopened.heard().unwrap().len(), 8);
}

#[test]
fn a_report_without_a_key_server_or_with_a_bad_code_changes_nothing() {
    let now = u64::from(DAY) * MS_PER_DAY + 3_600_000;
    let rig = Rig::new(now);
    let phone = rig.open();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let report = |code: &str| PositiveReport {
        code: code.into(),
        onset_day: None,
        test_day: None,
        consent: UserConsent::given(),
    };
    assert!(matches!(
        runtime.block_on(phone.report_positive(report("12345678"))),
        Err(Error::Wire(WireError::InvalidConfig(_)))
    ));
    let mut config = PhoneConfig::new(rig.dir.path().join("other"), DataKey::from_bytes([5; 32]));
    config.key_server = Some(
        crate::keyserver::KeyServerClient::new(crate::keyserver::ClientConfig::new(
            "http://127.0.0.1:9/",
        ))
        .unwrap(),
    );
    let other = Phone::open(
        config,
        Arc::new(NoRadio),
        None,
        Arc::clone(&rig.clock) as Arc<dyn crate::time::Clock>,
    )
    .unwrap();
    assert!(matches!(
        runtime.block_on(other.report_positive(report("1234"))),
        Err(Error::InvalidCode)
    ));
    assert!(
        other.storage_stats().unwrap().own_en_keys == 0,
        "no key was released"
    );
}

#[test]
fn checks_at_the_same_time_lose_nothing_and_tell_once() {
    let now = EVENING_MS;
    let cases: Vec<ExposureKey> = (0..6).map(|i| daily_key(DAY - 1, 0x10 + i)).collect();
    let single_case_minutes = {
        let rig = Rig::new(now);
        let alone = rig.open();
        alone
            .record_sightings(&lesson(&cases[0], DAY - 1, -55))
            .unwrap();
        alone
            .process_export(rig.export(std::slice::from_ref(&cases[0]), 1))
            .unwrap()
            .days[0]
            .weighted_minutes
    };
    // The race needs the threads to meet in a short stretch; a few rounds make it near certain to show.
    for _ in 0..8 {
        let rig = Rig::new(now);
        let phone = rig.open();
        for case in &cases {
            phone.record_sightings(&lesson(case, DAY - 1, -55)).unwrap();
        }
        let exports: Vec<_> = cases
            .iter()
            .enumerate()
            .map(|(i, case)| rig.export(std::slice::from_ref(case), i as i32 + 1))
            .collect();
        let start = std::sync::Barrier::new(exports.len());
        std::thread::scope(|scope| {
            for export in exports {
                let (phone, start) = (phone.clone(), &start);
                scope.spawn(move || {
                    start.wait();
                    phone.process_export(export).unwrap()
                });
            }
        });
        assert_eq!(rig.told(), [DAY - 1], "told once");
        let day = &phone.exposure_days().unwrap()[0];
        assert!(
            (day.weighted_minutes - 6.0 * single_case_minutes).abs() < 1e-6,
            "every case's minutes count: {} against 6 x {single_case_minutes}",
            day.weighted_minutes
        );
    }
}

// ---- check-ins ----

mod checkins {
    use ring::rand::SystemRandom;

    use super::*;
    use crate::checkin::package::{WarningPackage, WarningPackageBuilder};
    use crate::checkin::{CheckInError, CheckInLinks, LocationType, NewVenue, Venue};

    /// 2026-11-20 09:00 UTC, in seconds.
    const NINE: u64 = DAY as u64 * 86_400 + 9 * 3_600;

    fn classroom(name: &str) -> Venue {
        NewVenue {
            address: Some("Trường THCS Nguyễn Du".into()),
            ..NewVenue::classroom(name)
        }
        .create(NINE, &SystemRandom::new())
        .unwrap()
    }

    fn link(venue: &Venue) -> String {
        CheckInLinks::default().link(venue)
    }

    fn set_now(rig: &Rig, s: u64) {
        *rig.clock.0.lock().unwrap() = s * 1000;
    }

    fn package(rig: &Rig, reports: Vec<crate::checkin::ProtectedReport>) -> WarningPackage {
        let zip = WarningPackageBuilder {
            interval_number: (NINE / 3_600) as u32,
            region: "VN".into(),
            reports,
        }
        .build_zip(&rig.signer)
        .unwrap();
        WarningPackage::from_zip_bytes(&zip).unwrap()
    }

    #[test]
    fn a_second_scan_extends_the_stay_and_check_out_and_edits_keep_one_entry() {
        let rig = Rig::new(NINE * 1000);
        let phone = rig.open();
        let room = classroom("Lớp 9A");
        let first = phone
            .check_in(CheckInSource::Link(&link(&room)), Some(NINE - 1_800), None)
            .unwrap();
        assert_eq!(first.description, "Lớp 9A");
        assert_eq!(first.departure, NINE - 1_800 + 45 * 60);
        assert!(first.active);
        assert_eq!(first.location_id, hex::encode(room.location_id().0));
        // Scanned again during the stay: the same stay, longer.
        let again = phone
            .check_in(CheckInSource::Link(&link(&room)), None, Some(60))
            .unwrap();
        assert_eq!(again.id, first.id);
        assert_eq!(again.arrival, NINE - 1_800);
        assert_eq!(again.departure, NINE + 3_600);
        assert_eq!(phone.check_ins().unwrap().len(), 1);
        // Another room is another stay.
        phone
            .check_in(CheckInSource::Link(&link(&classroom("Lớp 9B"))), None, None)
            .unwrap();
        set_now(&rig, NINE + 600);
        let out = phone.check_out(Some(first.id), None).unwrap();
        assert_eq!(out[0].departure, NINE + 600);
        assert!(out[0].checked_out && !out[0].active);
        // Out of everything in progress: only 9B is left.
        let out = phone.check_out(None, None).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].description, "Lớp 9B");
        assert!(matches!(
            phone.check_out(None, None),
            Err(Error::Wire(WireError::CheckIn(
                CheckInError::NotCheckedIn { .. }
            )))
        ));
        let edited = phone
            .edit_check_in(first.id, NINE - 3_600, NINE - 600)
            .unwrap();
        assert_eq!(
            (edited.arrival, edited.departure),
            (NINE - 3_600, NINE - 600)
        );
        for (arrival, departure) in [(NINE, NINE), (NINE, NINE - 1), (NINE - 90_000, NINE)] {
            assert!(phone.edit_check_in(first.id, arrival, departure).is_err());
        }
        assert!(matches!(
            phone.edit_check_in(42, NINE - 60, NINE),
            Err(Error::Wire(WireError::CheckIn(
                CheckInError::NoSuchCheckIn { id: 42 }
            )))
        ));
        // Survives a restart, sealed.
        drop(phone);
        let phone = rig.open();
        let kept = phone.check_ins().unwrap();
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0], Phone::check_ins(&phone).unwrap()[0]);
        assert_eq!(
            (kept[0].arrival, kept[0].departure),
            (NINE - 3_600, NINE - 600)
        );
    }

    #[test]
    fn the_planned_departure_checks_out_and_fourteen_days_purge() {
        let rig = Rig::new(NINE * 1000);
        let phone = rig.open();
        let room = classroom("Lớp 6C");
        phone
            .check_in(CheckInSource::Link(&link(&room)), None, None)
            .unwrap();
        set_now(&rig, NINE + 46 * 60);
        let entry = &phone.check_ins().unwrap()[0];
        assert!(!entry.active && !entry.checked_out);
        assert!(phone.check_out(None, None).is_err());
        // A scan after the stay ended is a new stay.
        phone
            .check_in(CheckInSource::Link(&link(&room)), None, None)
            .unwrap();
        assert_eq!(phone.check_ins().unwrap().len(), 2);
        set_now(&rig, NINE + 15 * 86_400);
        let purged = phone.purge(None).unwrap();
        assert!(purged.other_records >= 2);
        assert!(phone.check_ins().unwrap().is_empty());
    }

    #[test]
    fn bad_codes_and_times_change_nothing() {
        let rig = Rig::new(NINE * 1000);
        let phone = rig.open();
        let good = link(&classroom("Lớp 7A"));
        let event = NewVenue {
            description: "Họp phụ huynh".into(),
            address: None,
            location_type: LocationType::PrivateEvent,
            default_checkin_minutes: 60,
            event: Some((NINE + 3_600, NINE + 7_200)),
            visitor_log_key: None,
        }
        .create(NINE, &SystemRandom::new())
        .unwrap();
        let fragment = good.split_once('#').unwrap().1;
        let oversized = format!("openzone://checkin?v=1#{}", "A".repeat(2_000));
        let cases: Vec<(String, Option<u64>)> = vec![
            ("".into(), None),
            ("garbage".into(), None),
            ("https://zalo.me/g/abc".into(), None),
            (format!("openzone://checkin?v=2#{fragment}"), None),
            (good[..good.len() - 10].to_string(), None),
            (oversized, None),
            (link(&event), None),
            (link(&event), Some(NINE + 7_100)),
            (good.clone(), Some(NINE + 3_600)),
            (good.clone(), Some(NINE - 15 * 86_400)),
        ];
        for (text, at) in &cases {
            let result = phone.check_in(CheckInSource::Link(text), *at, None);
            assert!(
                matches!(result, Err(Error::Wire(WireError::CheckIn(_)))),
                "{text} {at:?}: {result:?}"
            );
        }
        assert!(phone
            .check_in(CheckInSource::Image(b"not an image"), None, None)
            .is_err());
        assert!(phone
            .check_in(CheckInSource::Link(&good), None, Some(5))
            .is_err());
        assert!(phone.check_ins().unwrap().is_empty());
        // Once the event has begun it takes check-ins, and the stay ends with it.
        set_now(&rig, NINE + 5_400);
        let at_event = phone
            .check_in(CheckInSource::Link(&link(&event)), None, None)
            .unwrap();
        assert_eq!(at_event.departure, NINE + 7_200);
    }

    #[test]
    fn a_published_overlap_is_told_once_and_other_times_are_not() {
        let rig = Rig::new(NINE * 1000);
        let room = classroom("Lớp 8D");
        let case = Rig::new(NINE * 1000);
        let case_phone = case.open();
        case_phone
            .check_in(CheckInSource::Link(&link(&room)), Some(NINE - 2_700), None)
            .unwrap();
        let (real, reports) = case_phone.checkin_reports(DAY - 2, DAY).unwrap();
        assert_eq!((real.len(), reports.len()), (1, MAX_CHECKINS_PER_UPLOAD));

        let phone = rig.open();
        // A classmate in the same lesson, and the same pupil's stay at another room.
        let stay = phone
            .check_in(CheckInSource::Link(&link(&room)), Some(NINE - 2_400), None)
            .unwrap();
        phone
            .check_in(CheckInSource::Link(&link(&classroom("Lớp 8E"))), None, None)
            .unwrap();
        let checked = phone
            .process_warning_package(package(&rig, reports.clone()))
            .unwrap();
        assert_eq!(checked.matched, 1);
        assert_eq!(checked.new_warnings.len(), 1);
        let warning = &checked.new_warnings[0];
        assert_eq!(warning.check_in_id, stay.id);
        assert_eq!(warning.description, "Lớp 8D");
        assert!(warning.at_risk && warning.minutes >= 30);
        assert_eq!(rig.told.presence.lock().unwrap().len(), 1);
        // The same package again, another package with the same report, a restart: told once.
        let again = phone
            .process_warning_package(package(&rig, reports.clone()))
            .unwrap();
        assert!(again.already_processed);
        let mut shuffled = reports.clone();
        shuffled.reverse();
        phone
            .process_warning_package(package(&rig, shuffled))
            .unwrap();
        drop(phone);
        let phone = rig.open();
        assert_eq!(phone.presence_warnings().unwrap().len(), 1);
        assert_eq!(rig.told.presence.lock().unwrap().len(), 1);
        // Moving the stay away from the case's time removes the warning.
        phone.edit_check_in(stay.id, NINE + 60, NINE + 600).unwrap();
        assert!(phone.presence_warnings().unwrap().is_empty());

        // The case's own phone is not warned of the stays it reported.
        case_phone.mark_reported(&real).unwrap();
        let own = case_phone
            .process_warning_package(package(&case, reports.clone()))
            .unwrap();
        assert_eq!((own.matched, own.new_warnings.len()), (1, 0));

        // A package signed by another key is refused, and changes nothing.
        let stranger = Rig::new(NINE * 1000);
        assert!(phone
            .process_warning_package(package(&stranger, reports))
            .is_err());
    }
}
