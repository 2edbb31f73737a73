//! Store behaviour through its public API, on real sled directories.

use super::*;
use crate::protocol::bluezone_v3::{BluezoneId, RootKey};
use crate::protocol::en_v1::{Aem, ExposureKey, Rpi, TemporaryExposureKey};
use crate::protocol::{Identifier, Payload, SchemeId};
use crate::sighting::{Sighting, Source};
use crate::wire::Error as WireError;

const DAY_MS: u64 = 86_400_000;
/// 2026-11-01T00:00:00Z.
const T0: u64 = 1_793_491_200_000;

fn key() -> DataKey {
    DataKey::from_bytes([42; 32])
}

fn sighting(id: u8, time_ms: u64, rssi: i8) -> Sighting {
    Sighting {
        payload: Payload::EnV1 {
            rpi: Rpi([id; 16]),
            aem: Aem([0xAE; 4]),
        },
        rssi,
        tx_power: None,
        time_ms,
        source: Source::Advertisement,
    }
}

fn open(dir: &Path, now_ms: u64) -> Store {
    Store::open(dir, &key(), StoreConfig::default(), now_ms).unwrap()
}

#[test]
fn sightings_survive_checkpoint_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path(), T0);
        store
            .record(&[
                sighting(1, T0, -60),
                sighting(1, T0 + 1_000, -70),
                sighting(2, T0 + 500, -80),
            ])
            .unwrap();
        store.checkpoint(T0 + 2_000).unwrap();
    }
    let store = open(dir.path(), T0 + 3_000);
    let instances = store.scan_instances(0, u64::MAX).unwrap();
    assert_eq!(instances.len(), 2);
    let one = instances
        .iter()
        .find(|i| i.payload.identifier() == Identifier::EnV1(Rpi([1; 16])))
        .unwrap();
    assert_eq!(
        (one.count, one.max_rssi, one.min_rssi, one.mean_rssi()),
        (2, -60, -70, Some(-65.0))
    );
    let stats = store.stats().unwrap();
    assert_eq!(stats.days.len(), 1);
    assert_eq!((stats.days[0].instances, stats.days[0].sightings), (2, 3));
    assert_eq!(stats.days[0].scheme, SchemeId::EnV1);
    assert!(stats.bytes_on_disk > 0);
    // One window record: its 16-byte name, the sealing's nonce, the header with the window's start, two
    // instances (41 bytes each, and the count of measured RSSI values), the sealing's tag.
    assert_eq!(stats.record_bytes, 16 + 12 + (6 + 8) + 2 * (41 + 4) + 16);
}

#[test]
fn readers_see_sightings_not_yet_checkpointed() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), T0);
    store.record(&[sighting(1, T0, -60)]).unwrap();
    assert_eq!(store.scan_instances(0, u64::MAX).unwrap().len(), 1);
    store.record(&[sighting(1, T0 + 1_000, -60)]).unwrap();
    let instances = store.scan_instances(0, u64::MAX).unwrap();
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0].count, 2);
}

#[test]
fn reopening_within_a_window_merges_instead_of_overwriting() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path(), T0);
        store
            .record(&[sighting(1, T0, -60), sighting(2, T0, -60)])
            .unwrap();
        store.checkpoint(T0).unwrap();
    }
    // The clock went back: the new session's window starts at the same moment as the stored one.
    let store = open(dir.path(), T0);
    let bytes_before = store.stats().unwrap().record_bytes;
    store.record(&[sighting(1, T0, -50)]).unwrap();
    store.checkpoint(T0).unwrap();
    let instances = store.scan_instances(0, u64::MAX).unwrap();
    assert_eq!(instances.len(), 2);
    assert_eq!((instances[0].count, instances[0].max_rssi), (2, -50));
    assert_eq!(instances[1].count, 1);
    assert_eq!(store.stats().unwrap().record_bytes, bytes_before);
}

#[test]
fn identifiers_are_not_readable_from_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let marker_rpi = [
        0x5A, 0xC3, 0x96, 0x69, 0x3C, 0xA5, 0x0F, 0xF0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
        0x88,
    ];
    let bz = [
        0xB7, 0x1E, 0xE7, 0x4D, 0xD4, 0x2B, 0xB2, 0x8E, 0xE8, 0x17, 0x71, 0x9C,
    ];
    let tek = [
        0x7E, 0xC4, 0x9A, 0x0D, 0xD0, 0x1A, 0xA1, 0x3F, 0xF3, 0x5C, 0xC5, 0x6B, 0xB6, 0x7D, 0xD7,
        0x8F,
    ];
    {
        let store = open(dir.path(), T0);
        let mut records = Vec::new();
        for i in 0..200 {
            records.push(Sighting {
                payload: Payload::EnV1 {
                    rpi: Rpi(marker_rpi),
                    aem: Aem([1, 2, 3, 4]),
                },
                ..sighting(0, T0 + i * 300_000, -60)
            });
            records.push(Sighting {
                payload: Payload::BluezoneV3 { id: BluezoneId(bz) },
                ..sighting(0, T0 + i * 300_000 + 10, -60)
            });
        }
        store.record(&records).unwrap();
        store
            .put_own_en_key(
                &ExposureKey::new(TemporaryExposureKey::from_bytes(tek), 2_989_152, 144).unwrap(),
            )
            .unwrap();
        store.checkpoint(T0 + DAY_MS).unwrap();
    }
    let mut haystack = Vec::new();
    for entry in walk(dir.path()) {
        haystack.extend(std::fs::read(entry).unwrap());
    }
    assert!(haystack.len() > 10_000);
    for needle in [
        &marker_rpi[..],
        &bz[..],
        &tek[..],
        &marker_rpi[..8],
        &bz[..6],
    ] {
        assert!(
            !haystack.windows(needle.len()).any(|w| w == needle),
            "{needle:02x?} is readable"
        );
    }
}

/// Every file under `dir`.
pub(crate) fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// A store holding one checkpointed sighting, closed again.
fn closed_store_with_one_sighting() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), T0);
    store.record(&[sighting(1, T0, -60)]).unwrap();
    store.checkpoint(T0).unwrap();
    dir
}

#[test]
fn wrong_data_key_is_refused_and_destroys_nothing() {
    let dir = closed_store_with_one_sighting();
    let wrong_key = DataKey::from_bytes([1; 32]);
    let err = Store::open(dir.path(), &wrong_key, StoreConfig::default(), T0).unwrap_err();
    assert!(matches!(err, Error::WrongDataKey), "{err}");
    assert!(err.to_string().contains("nothing was changed"));
    let store = open(dir.path(), T0);
    assert_eq!(store.scan_instances(0, u64::MAX).unwrap().len(), 1);
}

#[test]
fn a_newer_schema_is_refused_without_changes() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path(), T0));
    std::fs::write(dir.path().join(MARKER_FILE), "openzone-store 3\n").unwrap();
    let before = snapshot(dir.path());
    let err = Store::open(dir.path(), &key(), StoreConfig::default(), T0).unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnsupportedStoreVersion {
                found: 3,
                supported: SCHEMA_VERSION
            }
        ),
        "{err}"
    );
    assert_eq!(snapshot(dir.path()), before);
    std::fs::write(dir.path().join(MARKER_FILE), "something else").unwrap();
    assert!(matches!(
        Store::open(dir.path(), &key(), StoreConfig::default(), T0),
        Err(Error::NotAStore { .. })
    ));
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = walk(dir)
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_directory_with_other_files_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("photo.jpg"), b"not a store").unwrap();
    let err = Store::open(dir.path(), &key(), StoreConfig::default(), T0).unwrap_err();
    assert!(matches!(err, Error::NotAStore { .. }), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_second_open_is_refused_while_the_first_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let _first = open(dir.path(), T0);
    let err = Store::open(dir.path(), &key(), StoreConfig::default(), T0).unwrap_err();
    assert!(matches!(err, Error::StoreLocked { .. }), "{err}");
}

#[test]
fn retention_purges_old_data_and_a_clock_set_back_purges_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), T0);
    for day in 0..20u64 {
        store
            .record(&[sighting(day as u8, T0 + day * DAY_MS, -60)])
            .unwrap();
    }
    store.checkpoint(T0 + 19 * DAY_MS).unwrap();
    // Days 0 to 4 are more than 14 days before day 19 (cutoff at day 5).
    assert_eq!(store.scan_instances(0, u64::MAX).unwrap().len(), 15);
    // The user sets the clock back a year: nothing fresh goes.
    let report = store.purge(T0 - 365 * DAY_MS, None).unwrap();
    assert_eq!(report, PurgeReport::default());
    assert_eq!(store.scan_instances(0, u64::MAX).unwrap().len(), 15);
    let report = store.purge(T0 + 19 * DAY_MS, Some(3)).unwrap();
    assert_eq!(report.expired_instances, 11);
    assert_eq!(store.scan_instances(0, u64::MAX).unwrap().len(), 4);
}

#[test]
fn sightings_with_the_clock_going_backwards_keep_their_own_times() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), T0);
    store.record(&[sighting(1, T0 + DAY_MS, -60)]).unwrap();
    store.record(&[sighting(2, T0, -60)]).unwrap();
    store
        .record(&[sighting(3, T0 + DAY_MS + 400_000, -60)])
        .unwrap();
    store.checkpoint(T0).unwrap();
    let instances = store.scan_instances(0, u64::MAX).unwrap();
    let order: Vec<u8> = instances
        .iter()
        .map(|i| i.payload.identifier().as_bytes()[0])
        .collect();
    assert_eq!(order, [2, 1, 3]);
    assert_eq!(instances[1].seconds_since_previous_scan, None);
}

#[test]
fn the_size_cap_evicts_the_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        max_bytes: 1 << 20,
        ..StoreConfig::default()
    };
    let store = Store::open(dir.path(), &key(), config, T0).unwrap();
    // 3,000 windows of 10 peers, 452 bytes each: 1.36 MB against a 1 MiB cap.
    let mut sightings = Vec::new();
    for w in 0..3_000u64 {
        for peer in 0..10u8 {
            sightings.push(sighting(peer, T0 + w * 120_000, -60));
        }
    }
    store.record(&sightings).unwrap();
    let report = store.purge(T0, None).unwrap();
    let stats = store.stats().unwrap();
    assert!(stats.record_bytes <= 1 << 20, "{}", stats.record_bytes);
    assert!(
        stats.record_bytes > (1 << 20) - 452,
        "{}",
        stats.record_bytes
    );
    let left = store.scan_instances(0, u64::MAX).unwrap();
    assert_eq!(left.len() as u64 + report.evicted_instances, 30_000);
    assert_eq!(report.evicted_instances % 10, 0);
    let first_kept = report.evicted_instances / 10;
    assert_eq!(left[0].window_start_ms, T0 + first_kept * 120_000);
    assert_eq!(left.last().unwrap().window_start_ms, T0 + 2_999 * 120_000);
}

#[test]
fn own_keys_round_trip_and_report_keys_never_include_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), T0);
    let day = (T0 / DAY_MS) as u32;
    for d in 0..5u32 {
        let k = ExposureKey::new(
            TemporaryExposureKey::from_bytes([d as u8; 16]),
            (day + d) * 144,
            144,
        )
        .unwrap();
        store.put_own_en_key(&k).unwrap();
    }
    let root = RootKey::from_bytes([0xAB; 32], day);
    assert_eq!(store.ensure_bluezone_root(root.clone()).unwrap(), root);
    assert_eq!(
        store
            .ensure_bluezone_root(RootKey::from_bytes([1; 32], day))
            .unwrap(),
        root
    );
    let report = store
        .keys_for_report(day + 1, day + 3, UserConsent::given(), 96)
        .unwrap();
    assert_eq!(report.en_v1.len(), 3);
    assert_eq!(report.en_v1[0].rolling_start_interval, (day + 1) * 144);
    assert_eq!(report.bluezone_v3.len(), 3);
    assert_eq!(report.bluezone_v3[0], root.daily_key(day + 1, 96).unwrap());
    assert!(report
        .bluezone_v3
        .iter()
        .all(|k| k.as_bytes() != &[0xAB; 32]));
    assert!(store
        .keys_for_report(day + 3, day + 1, UserConsent::given(), 96)
        .is_err());
    // Ending a key early replaces it.
    let mut first = store.own_en_keys().unwrap()[0].clone();
    first.rolling_period = 10;
    store.put_own_en_key(&first).unwrap();
    assert_eq!(store.own_en_keys().unwrap()[0].rolling_period, 10);
    // Keys age out with the retention period.
    store.purge(T0 + 20 * DAY_MS, None).unwrap();
    assert_eq!(store.own_en_keys().unwrap().len(), 0);
    assert!(store.bluezone_root().unwrap().is_some());
}

#[test]
fn bookkeeping_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), T0);
    let digest = [3u8; 32];
    assert!(!store.batch_processed(&digest).unwrap());
    store.mark_batch_processed(&digest, T0).unwrap();
    assert!(store.batch_processed(&digest).unwrap());
    let day = (T0 / DAY_MS) as u32;
    let other = [4u8; 32];
    store
        .record_batch(
            BatchFindings::ExposureDays(&[(day, b"result".to_vec())]),
            &other,
            T0,
        )
        .unwrap();
    assert_eq!(store.exposures().unwrap(), vec![(day, b"result".to_vec())]);
    assert!(store.batch_processed(&other).unwrap());
    store.set_notified_days(&[day - 1, day]).unwrap();
    assert_eq!(store.notified_days().unwrap(), [day - 1, day]);
    store.clear(&key()).unwrap();
    assert!(store.exposures().unwrap().is_empty());
    assert!(!store.batch_processed(&digest).unwrap());
    assert!(store.notified_days().unwrap().is_empty());
}

#[test]
fn config_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let default_but = |change: fn(&mut StoreConfig)| {
        let mut config = StoreConfig::default();
        change(&mut config);
        config
    };
    for config in [
        default_but(|c| c.retention_days = 0),
        default_but(|c| c.retention_days = 31),
        default_but(|c| c.max_bytes = 1_000),
        default_but(|c| c.merge_gap_ms = 0),
    ] {
        assert!(matches!(
            Store::open(dir.path(), &key(), config, T0),
            Err(Error::Wire(WireError::InvalidConfig(_)))
        ));
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn garbage_in_the_database_file_is_a_clear_error() {
    let dir = closed_store_with_one_sighting();
    let db = dir.path().join("db");
    let len = std::fs::metadata(&db).unwrap().len() as usize;
    let garbage: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
    std::fs::write(&db, garbage).unwrap();
    let err = Store::open(dir.path(), &key(), StoreConfig::default(), T0).unwrap_err();
    assert!(matches!(err, Error::StoreCorrupt(_)), "{err}");
}

#[test]
fn a_truncated_database_file_is_a_clear_error_or_keeps_what_was_checkpointed() {
    for cut in [0usize, 1, 100, 4096] {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = open(dir.path(), T0);
            store.record(&[sighting(1, T0, -60)]).unwrap();
            store.checkpoint(T0).unwrap();
        }
        let db = dir.path().join("db");
        let bytes = std::fs::read(&db).unwrap();
        std::fs::write(&db, &bytes[..cut.min(bytes.len())]).unwrap();
        match Store::open(dir.path(), &key(), StoreConfig::default(), T0) {
            Err(Error::StoreCorrupt(_)) => {}
            Ok(store) => assert_eq!(
                store.scan_instances(0, u64::MAX).unwrap().len(),
                1,
                "cut at {cut}"
            ),
            Err(other) => panic!("cut at {cut}: {other}"),
        }
    }
}

#[test]
fn database_files_replaced_by_an_older_copy_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let old = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path(), T0);
        store.record(&[sighting(1, T0, -60)]).unwrap();
        store.checkpoint(T0).unwrap();
    }
    for name in ["conf", "db"] {
        std::fs::copy(dir.path().join(name), old.path().join(name)).unwrap();
    }
    {
        let store = open(dir.path(), T0);
        store.record(&[sighting(2, T0 + 600_000, -60)]).unwrap();
        store.checkpoint(T0).unwrap();
    }
    for name in ["conf", "db"] {
        std::fs::copy(old.path().join(name), dir.path().join(name)).unwrap();
    }
    let err = Store::open(dir.path(), &key(), StoreConfig::default(), T0).unwrap_err();
    assert!(
        matches!(err, Error::StoreCorrupt(ref m) if m.contains("went back to checkpoint 1")),
        "{err}"
    );
}

#[test]
fn a_store_can_be_reopened_at_once_after_closing() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..20u64 {
        let store = open(dir.path(), T0);
        store
            .record(&[sighting(i as u8, T0 + i * 600_000, -60)])
            .unwrap();
        store.checkpoint(T0).unwrap();
    }
    assert_eq!(
        open(dir.path(), T0)
            .scan_instances(0, u64::MAX)
            .unwrap()
            .len(),
        20
    );
}

/// Every record name in the data trees of `store`.
fn record_names(store: &Store) -> Vec<sled::IVec> {
    [
        &store.sled.windows,
        &store.sled.keys,
        &store.sled.batches,
        &store.sled.exposures,
    ]
    .into_iter()
    .flat_map(|tree| tree.iter().keys().map(Result::unwrap))
    .collect()
}

#[test]
fn no_time_day_or_digest_shows_in_the_record_names() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), T0);
    let day = (T0 / DAY_MS) as u32;
    let interval = (T0 / 600_000) as u32;
    store.record(&[sighting(1, T0 + 5_000, -60)]).unwrap();
    store
        .put_own_en_key(
            &ExposureKey::new(TemporaryExposureKey::from_bytes([8; 16]), interval, 144).unwrap(),
        )
        .unwrap();
    store
        .ensure_bluezone_root(RootKey::from_bytes([2; 32], day))
        .unwrap();
    let digest = [0xD1; 32];
    store
        .record_batch(
            BatchFindings::ExposureDays(&[(day, b"result".to_vec())]),
            &digest,
            T0,
        )
        .unwrap();
    store
        .mark_export_fetched("1793491200-00001.zip", T0)
        .unwrap();
    store.checkpoint(T0 + 10_000).unwrap();
    let names = record_names(&store);
    assert_eq!(names.len(), 6);
    let clear: [&[u8]; 4] = [
        &(T0 + 5_000).to_be_bytes(),
        &interval.to_be_bytes(),
        &day.to_be_bytes(),
        &digest[..8],
    ];
    for name in &names {
        assert_eq!(name.len(), 16);
        for value in clear {
            assert!(
                !name.windows(value.len()).any(|w| w == value),
                "{name:?} holds {value:?}"
            );
        }
    }
    // Everything still reads back by its logical key.
    assert_eq!(store.scan_instances(T0, T0 + 6_000).unwrap().len(), 1);
    assert_eq!(store.own_en_keys().unwrap().len(), 1);
    assert!(store.bluezone_root().unwrap().is_some());
    assert!(store.batch_processed(&digest).unwrap());
    assert!(store.export_fetched("1793491200-00001.zip").unwrap());
    assert_eq!(store.exposures().unwrap(), [(day, b"result".to_vec())]);
}

#[test]
fn a_store_of_the_older_layout_is_brought_up_to_date_once() {
    let dir = tempfile::tempdir().unwrap();
    let day = (T0 / DAY_MS) as u32;
    let key_record = ExposureKey::new(
        TemporaryExposureKey::from_bytes([8; 16]),
        (T0 / 600_000) as u32,
        144,
    )
    .unwrap();
    {
        // Schema 1 as it was written: records keyed in clear, sealed under those keys.
        let store = open(dir.path(), T0);
        let sealer = store.sealer();
        let mut window = instances::Aggregator::new(5_000, 60_000, None);
        window.add(&sighting(7, T0, -65));
        let record = window.take_changes().remove(0).record;
        let mut legacy_window = record.encode();
        // Version 2's layout: the header without the start.
        legacy_window.drain(6..14);
        legacy_window[0] = 2;
        let start = T0.to_be_bytes();
        let en_key = keys::en_record_key(key_record.rolling_start_interval);
        let digest = [0xD2; 32];
        let day_key = day.to_be_bytes();
        for (tree, id, key, plain) in [
            (
                &store.sled.windows,
                TreeId::Windows,
                &start[..],
                legacy_window,
            ),
            (
                &store.sled.keys,
                TreeId::Keys,
                &en_key[..],
                keys::encode_en(&key_record),
            ),
            (
                &store.sled.batches,
                TreeId::Batches,
                &digest[..],
                T0.to_be_bytes().to_vec(),
            ),
            (
                &store.sled.exposures,
                TreeId::Exposures,
                &day_key[..],
                b"legacy".to_vec(),
            ),
        ] {
            tree.insert(key, sealer.seal(id, key, &plain).unwrap())
                .unwrap();
        }
        drop(sealer);
        store
            .sled
            .meta
            .insert(META_SCHEMA, &1u32.to_be_bytes())
            .unwrap();
        store.sled.db.flush().unwrap();
        std::fs::write(
            dir.path().join(MARKER_FILE),
            "openzone-store 1\ncheckpoint 0\n",
        )
        .unwrap();
    }
    let store = open(dir.path(), T0 + 1_000);
    assert!(record_names(&store).iter().all(|n| n.len() == 16));
    let instances = store.scan_instances(0, u64::MAX).unwrap();
    assert_eq!(instances.len(), 1);
    assert_eq!(
        (instances[0].window_start_ms, instances[0].max_rssi),
        (T0, -65)
    );
    assert_eq!(store.own_en_keys().unwrap(), [key_record]);
    assert!(store.batch_processed(&[0xD2; 32]).unwrap());
    assert_eq!(store.exposures().unwrap(), [(day, b"legacy".to_vec())]);
    drop(store);
    let marker = std::fs::read_to_string(dir.path().join(MARKER_FILE)).unwrap();
    assert!(
        marker.starts_with(&format!("openzone-store {SCHEMA_VERSION}\n")),
        "{marker}"
    );
    // Opening again finds nothing left to bring up to date.
    assert_eq!(
        open(dir.path(), T0 + 2_000)
            .scan_instances(0, u64::MAX)
            .unwrap()
            .len(),
        1
    );
}
