//! The engine on virtual time: scheduling, rotation, clock changes, GATT reads, platform states, and two
//! engines talking over the simulated radio.

use std::sync::{Arc, Mutex};

use super::*;
use crate::platform::simulated::{LogDistance, SimulatedRadio};
use crate::platform::{Advertising, BlePlatform, Reception, ScanFilter, SeenAdvertisement};
use crate::protocol::payload::{gatt_value, AdvertisementData, APPLE_COMPANY_ID};
use crate::protocol::Payload;
use crate::sighting::{Sighting, Source};
use crate::store::{DataKey, Store, StoreConfig};
use crate::time::MS_PER_DAY;

/// 2026-11-01T06:00:00Z.
const WALL0: u64 = 20_758 * MS_PER_DAY + 6 * 3_600_000;

/// What the engine asked of its platform, with the monotonic time of each call.
#[derive(Debug, Clone, PartialEq)]
enum Call {
    Advertise(Payload),
    StopAdvertising,
    Scan,
    StopScanning,
    ReadGatt(PeerId),
}

/// A platform that records calls (the engine's scheduling is what is under test here).
#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<(u64, Call)>>,
    now: Mutex<u64>,
    refuse_advertising: Mutex<bool>,
}

impl Recorder {
    fn log(&self, call: Call) {
        let now = *self.now.lock().unwrap();
        self.calls.lock().unwrap().push((now, call));
    }

    fn calls(&self) -> Vec<(u64, Call)> {
        self.calls.lock().unwrap().clone()
    }
}

impl BlePlatform for Recorder {
    fn start_advertising(&self, advertising: &Advertising) -> Result<(), PlatformError> {
        if *self.refuse_advertising.lock().unwrap() {
            return Err(PlatformError(
                "advertising is not supported by this adapter".into(),
            ));
        }
        let payload = crate::protocol::payload::decode_gatt_value(&advertising.gatt_value).unwrap();
        self.log(Call::Advertise(payload));
        Ok(())
    }
    fn stop_advertising(&self) {
        self.log(Call::StopAdvertising);
    }
    fn start_scanning(&self, _: &ScanFilter) -> Result<(), PlatformError> {
        self.log(Call::Scan);
        Ok(())
    }
    fn stop_scanning(&self) {
        self.log(Call::StopScanning);
    }
    fn read_gatt(&self, peer: &PeerId) -> Result<(), PlatformError> {
        self.log(Call::ReadGatt(peer.clone()));
        Ok(())
    }
}

#[derive(Default)]
struct Events {
    statuses: Mutex<Vec<EngineStatus>>,
}

impl crate::phone::PhoneListener for Events {
    fn radio_status_changed(&self, status: &EngineStatus) {
        self.statuses.lock().unwrap().push(status.clone());
    }
    fn sightings_recorded(&self, _today: u64) {}
    fn day_at_risk(&self, _day: &crate::risk::DayRisk) {}
    fn sync_progress(&self, _progress: crate::phone::SyncProgress) {}
    fn error(&self, error: &Error) {
        panic!("unexpected engine error: {error}");
    }
}

/// A store in a fresh directory under data key `[key; 32]`, at [`WALL0`].
fn open_store(key: u8) -> (Arc<Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        dir.path(),
        &DataKey::from_bytes([key; 32]),
        StoreConfig::default(),
        WALL0,
    )
    .unwrap();
    (Arc::new(store), dir)
}

struct Rig {
    core: EngineCore,
    platform: Arc<Recorder>,
    events: Arc<Events>,
    store: Arc<Store>,
    wall: u64,
    mono: u64,
    _dir: tempfile::TempDir,
}

impl Rig {
    fn new(config: EngineConfig) -> Self {
        let (store, dir) = open_store(5);
        Self::with_store(config, store, dir)
    }

    fn with_store(config: EngineConfig, store: Arc<Store>, dir: tempfile::TempDir) -> Self {
        let platform = Arc::new(Recorder::default());
        let events = Arc::new(Events::default());
        let core = EngineCore::new(
            EngineConfig {
                jitter_seed: Some(42),
                ..config
            },
            Arc::clone(&store),
            platform.clone(),
            Some(events.clone()),
        )
        .unwrap();
        Self {
            core,
            platform,
            events,
            store,
            wall: WALL0,
            mono: 1_000_000,
            _dir: dir,
        }
    }

    fn now(&self) -> Now {
        Now {
            wall_ms: self.wall,
            mono_ms: self.mono,
        }
    }

    /// Runs the machine until `mono + ms`, jumping from deadline to deadline.
    fn run_for(&mut self, ms: u64) {
        let end = self.mono + ms;
        loop {
            *self.platform.now.lock().unwrap() = self.mono;
            let next = self.core.poll(self.now());
            if self.core.take_checkpoint() {
                self.core.checkpointer().run(self.wall);
            }
            let Some(next) = next else {
                let step = end - self.mono;
                self.advance(step);
                return;
            };
            if next > end {
                let step = end - self.mono;
                self.advance(step);
                return;
            }
            let step = next - self.mono;
            self.advance(step);
        }
    }

    /// An iPhone's advertisement (which names no payload) arrives from `peer` now.
    fn iphone_seen(&mut self, peer: &PeerId, rssi: i8) {
        let now = self.now();
        self.core
            .advertisement_seen(now, reception(peer.clone(), iphone_advert(), rssi));
    }

    /// How many of the platform calls so far `which` picks.
    fn count_calls(&self, which: impl Fn(&Call) -> bool) -> usize {
        self.platform
            .calls()
            .iter()
            .filter(|(_, c)| which(c))
            .count()
    }

    /// How many GATT reads the engine asked the platform for, of `peer` or of anyone.
    fn gatt_reads(&self, peer: Option<&PeerId>) -> usize {
        self.count_calls(|c| matches!(c, Call::ReadGatt(p) if peer.is_none_or(|want| want == p)))
    }

    fn advance(&mut self, ms: u64) {
        self.mono += ms;
        self.wall += ms;
    }

    fn start(&mut self) {
        *self.platform.now.lock().unwrap() = self.mono;
        let now = self.now();
        self.core.start(now);
    }

    fn adverts(&self) -> Vec<(u64, Payload)> {
        self.platform
            .calls()
            .into_iter()
            .filter_map(|(t, c)| match c {
                Call::Advertise(p) => Some((t, p)),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn background_scans_four_seconds_every_four_to_five_minutes() {
    let mut rig = Rig::new(EngineConfig::default());
    rig.start();
    rig.run_for(6 * 3_600_000);
    let calls = rig.platform.calls();
    let starts: Vec<u64> = calls
        .iter()
        .filter(|(_, c)| *c == Call::Scan)
        .map(|(t, _)| *t)
        .collect();
    let stops: Vec<u64> = calls
        .iter()
        .filter(|(_, c)| *c == Call::StopScanning)
        .map(|(t, _)| *t)
        .collect();
    assert!(
        starts.len() >= 72 && starts.len() <= 91,
        "{} scans in 6 h",
        starts.len()
    );
    for pair in starts.windows(2) {
        let period = pair[1] - pair[0];
        assert!((240_000..=300_000).contains(&period), "period {period} ms");
    }
    for (start, stop) in starts.iter().zip(&stops) {
        assert_eq!(stop - start, 4_000);
    }
    // The periods are spread, not all the same.
    let distinct: std::collections::BTreeSet<u64> =
        starts.windows(2).map(|p| p[1] - p[0]).collect();
    assert!(distinct.len() > 20);
    let scanned: u64 = starts.iter().zip(&stops).map(|(a, b)| b - a).sum();
    let share = scanned as f64 / (6.0 * 3_600_000.0);
    let expected = rig
        .core
        .config()
        .schedules
        .duty(ScanMode::Background)
        .scanning;
    assert!(
        (share - expected).abs() < 0.002,
        "measured {share}, computed {expected}"
    );
}

#[test]
fn foreground_and_qa_scan_more() {
    let mut rig = Rig::new(EngineConfig::default());
    rig.start();
    rig.run_for(10 * 60_000);
    let now = rig.now();
    rig.core.set_foreground(now, true);
    let before = rig.platform.calls().len();
    rig.run_for(10 * 60_000);
    let scans = rig.platform.calls()[before..]
        .iter()
        .filter(|(_, c)| *c == Call::Scan)
        .count();
    assert!(
        (9..=11).contains(&scans),
        "{scans} foreground scans in 10 minutes"
    );
    assert_eq!(
        rig.core.status(),
        &EngineStatus::Running(ScanMode::Foreground)
    );
    let now = rig.now();
    rig.core.set_qa(now, true);
    rig.run_for(120_000);
    let before = rig.platform.calls().len();
    rig.run_for(10 * 60_000);
    let tail = &rig.platform.calls()[before..];
    assert!(
        !tail.iter().any(|(_, c)| *c == Call::StopScanning),
        "QA scanning never stops"
    );
    assert_eq!(rig.core.status(), &EngineStatus::Running(ScanMode::Qa));
}

#[test]
fn en_v1_rotates_every_10_to_20_minutes_and_at_midnight() {
    let mut rig = Rig::new(EngineConfig::default());
    rig.start();
    rig.run_for(2 * MS_PER_DAY);
    let adverts = rig.adverts();
    assert!(
        adverts.len() > 2 * 24 * 3 && adverts.len() < 2 * 24 * 6 + 4,
        "{}",
        adverts.len()
    );
    let wall_at = |mono: u64| mono - 1_000_000 + WALL0;
    let mut midnights = 0;
    for pair in adverts.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        let at_midnight = wall_at(pair[1].0) % MS_PER_DAY == 0;
        if at_midnight {
            midnights += 1;
            assert!(gap <= 1_200_000);
        } else {
            assert!((600_000..=1_200_000).contains(&gap), "gap {gap}");
        }
        assert_ne!(pair[0].1, pair[1].1, "every rotation changes the payload");
    }
    assert_eq!(midnights, 2);
    // Every advertisement restarts advertising: stop, then start with the new payload.
    let calls = rig.platform.calls();
    for (i, (_, call)) in calls.iter().enumerate() {
        if matches!(call, Call::Advertise(_)) {
            assert_eq!(calls[i - 1].1, Call::StopAdvertising);
        }
    }
    // One key per UTC day.
    assert_eq!(rig.store.own_en_keys().unwrap().len(), 3);
}

#[test]
fn bluezone_rotates_at_slot_boundaries() {
    let mut rig = Rig::new(EngineConfig {
        scheme: SchemeId::BluezoneV3,
        ..EngineConfig::default()
    });
    rig.start();
    rig.run_for(3 * 3_600_000);
    let adverts = rig.adverts();
    assert_eq!(
        adverts.len(),
        13,
        "the slot at the start and 12 boundaries in 3 hours"
    );
    for (t, _) in &adverts[1..] {
        assert_eq!((t - 1_000_000 + WALL0) % 900_000, 0);
    }
}

#[test]
fn clock_changes_rotate_at_once_and_do_not_stall_scanning() {
    let mut rig = Rig::new(EngineConfig::default());
    rig.start();
    rig.run_for(30 * 60_000);
    let keys_before = rig.store.own_en_keys().unwrap();
    let scans_before = rig.count_calls(|c| *c == Call::Scan);
    // The user sets the clock back a day: the payload must be the one of that (past) moment.
    rig.wall -= MS_PER_DAY;
    let adverts_before = rig.adverts().len();
    rig.run_for(1);
    assert_eq!(
        rig.adverts().len(),
        adverts_before + 1,
        "rotated immediately"
    );
    rig.run_for(30 * 60_000);
    let scans_after = rig.count_calls(|c| *c == Call::Scan);
    assert!(
        scans_after - scans_before >= 6,
        "scanning kept its monotonic schedule"
    );
    // A key for the day the clock now shows was created; yesterday's was not touched.
    let keys_after = rig.store.own_en_keys().unwrap();
    assert_eq!(keys_after.len(), keys_before.len() + 1);
    assert!(keys_after.contains(&keys_before[0]));
    // And forward again: today's key is found again, not replaced.
    rig.wall += MS_PER_DAY;
    rig.run_for(1);
    assert_eq!(rig.store.own_en_keys().unwrap().len(), keys_after.len());
    assert_eq!(rig.core.stats().clock_changes, 2);
    // A time-zone change moves nothing: protocol time is UTC, and `Now` carries UTC only.
}

#[test]
fn a_restart_in_the_middle_of_an_interval_keeps_the_same_identifier() {
    let (store, dir) = open_store(5);
    let mut first = Rig::with_store(
        EngineConfig::default(),
        Arc::clone(&store),
        tempfile::tempdir().unwrap(),
    );
    first.start();
    first.run_for(1);
    let before = first.core.payload().unwrap();
    let now = first.now();
    first.core.stop(now);
    let mut second = Rig::with_store(EngineConfig::default(), store, dir);
    second.wall = first.wall + 10_000;
    second.start();
    second.run_for(1);
    assert_eq!(second.core.payload().unwrap(), before);
}

fn reception(peer: PeerId, advertisement: SeenAdvertisement, rssi: i8) -> Reception {
    Reception {
        peer,
        advertisement,
        rssi,
        tx_power: None,
    }
}

fn iphone_advert() -> SeenAdvertisement {
    SeenAdvertisement::Structured(AdvertisementData {
        manufacturer_data: vec![(APPLE_COMPANY_ID, vec![1; 17])],
        ..Default::default()
    })
}

#[test]
fn iphones_are_read_over_gatt_once_per_rotation() {
    let mut rig = Rig::new(EngineConfig::default());
    rig.start();
    rig.run_for(1);
    let iphone = PeerId("AA".into());
    rig.iphone_seen(&iphone, -60);
    rig.run_for(1);
    assert_eq!(rig.gatt_reads(None), 1);
    let their = Payload::BluezoneV3 {
        id: crate::protocol::bluezone_v3::BluezoneId([7; 12]),
    };
    let now = rig.now();
    rig.core
        .gatt_read_done(now, iphone.clone(), Ok(gatt_value(&their)));
    // Seen again: the cached payload is recorded, no new read.
    rig.iphone_seen(&iphone, -62);
    rig.run_for(1);
    assert_eq!(rig.gatt_reads(None), 1);
    let instances = rig.store.scan_instances(0, u64::MAX).unwrap();
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0].payload, their);
    assert_eq!(instances[0].count, 2);
    assert!(instances[0].via_gatt);
    // A peer that never answers times out after 10 s and is not asked again for a minute.
    let silent = PeerId("BB".into());
    rig.iphone_seen(&silent, -70);
    rig.run_for(10_001);
    assert_eq!(rig.core.stats().gatt_timeouts, 1);
    rig.iphone_seen(&silent, -70);
    rig.run_for(1);
    assert_eq!(rig.gatt_reads(Some(&silent)), 1);
}

#[test]
fn bluetooth_off_permissions_and_platform_failures_are_reported() {
    let mut rig = Rig::new(EngineConfig::default());
    rig.start();
    rig.run_for(10_000);
    let now = rig.now();
    rig.core.set_bluetooth(now, false);
    assert_eq!(rig.core.status(), &EngineStatus::BluetoothOff);
    let calls = rig.platform.calls();
    assert!(calls
        .iter()
        .rev()
        .take(2)
        .any(|(_, c)| *c == Call::StopAdvertising));
    let silent_from = rig.platform.calls().len();
    rig.run_for(3_600_000);
    assert_eq!(
        rig.platform.calls().len(),
        silent_from,
        "nothing happens while Bluetooth is off"
    );
    let now = rig.now();
    rig.core.set_bluetooth(now, true);
    assert_eq!(
        rig.core.status(),
        &EngineStatus::Running(ScanMode::Background)
    );
    let now = rig.now();
    rig.core
        .set_permission(now, crate::platform::Permission::Advertise, false);
    assert_eq!(
        rig.core.status(),
        &EngineStatus::PermissionMissing(crate::platform::Permission::Advertise)
    );
    let now = rig.now();
    rig.core
        .set_permission(now, crate::platform::Permission::Advertise, true);
    assert_eq!(
        rig.core.status(),
        &EngineStatus::Running(ScanMode::Background)
    );
    *rig.platform.refuse_advertising.lock().unwrap() = true;
    let now = rig.now();
    rig.core.rotate_now(now);
    assert!(matches!(rig.core.status(), EngineStatus::Failing(m) if m.contains("not supported")));
    let statuses = rig.events.statuses.lock().unwrap().clone();
    assert_eq!(statuses[0], EngineStatus::Running(ScanMode::Background));
    assert!(statuses.contains(&EngineStatus::BluetoothOff));
}

#[test]
fn two_engines_on_the_simulated_radio_record_each_other() {
    let radio = SimulatedRadio::new(LogDistance::default(), 1);
    let mut phones = Vec::new();
    for (i, (pos, ios)) in [((0.0, 0.0), false), ((1.5, 0.0), true)]
        .into_iter()
        .enumerate()
    {
        let platform = radio.add_node(pos, ios);
        let (store, dir) = open_store(i as u8);
        let core = EngineCore::new(
            EngineConfig {
                jitter_seed: Some(i as u64),
                ..EngineConfig::default()
            },
            Arc::clone(&store),
            platform,
            None,
        )
        .unwrap();
        phones.push((core, store, dir));
    }
    // QA mode: both scan all the time, so every round is heard.
    let mut mono = 0;
    for (core, _, _) in &mut phones {
        core.start(Now {
            wall_ms: WALL0,
            mono_ms: mono,
        });
        core.set_qa(
            Now {
                wall_ms: WALL0,
                mono_ms: mono,
            },
            true,
        );
    }
    for _ in 0..2_400 {
        mono += 250;
        let now = Now {
            wall_ms: WALL0 + mono,
            mono_ms: mono,
        };
        for (core, _, _) in &mut phones {
            core.poll(now);
        }
        for (node, event) in radio.events() {
            let core = &mut phones[node].0;
            match event {
                crate::platform::simulated::RadioEvent::Seen {
                    peer,
                    advertisement,
                    rssi,
                } => core.advertisement_seen(now, reception(peer, advertisement, rssi)),
                crate::platform::simulated::RadioEvent::GattRead { peer, result } => {
                    core.gatt_read_done(now, peer, result)
                }
            }
        }
    }
    let payload_of = |i: usize| phones[i].0.payload().unwrap();
    let heard_by = |i: usize| phones[i].1.scan_instances(0, u64::MAX).unwrap();
    // The Android phone heard the iPhone by reading its GATT value; the iPhone heard the Android phone's
    // advertisements. Ten minutes: at least one rotation, all of it heard.
    let a = heard_by(0);
    assert!(a.iter().any(|i| i.payload == payload_of(1) && i.via_gatt));
    assert!(a.iter().all(|i| i.via_gatt && !i.via_advertisement));
    let b = heard_by(1);
    assert!(b
        .iter()
        .any(|i| i.payload == payload_of(0) && i.via_advertisement));
    assert!(phones[0].0.stats().gatt_reads_ok >= 1);
}

#[tokio::test(start_paused = true)]
async fn the_tokio_engine_runs_a_day_on_paused_time() {
    let (store, _dir) = open_store(5);
    let platform = Arc::new(Recorder::default());
    let events = Arc::new(Events::default());
    struct Paused(u64, tokio::time::Instant);
    impl crate::time::Clock for Paused {
        fn now_ms(&self) -> u64 {
            self.0 + self.1.elapsed().as_millis() as u64
        }
    }
    let core = EngineCore::new(
        EngineConfig::default(),
        store,
        platform.clone(),
        Some(events.clone()),
    )
    .unwrap();
    let engine = Engine::new(core, Arc::new(Paused(WALL0, tokio::time::Instant::now())));
    engine.start(&tokio::runtime::Handle::current());
    tokio::time::sleep(std::time::Duration::from_secs(86_400)).await;
    let stats = engine.stats();
    assert!(
        (288..=360).contains(&stats.scans),
        "{} scans in a day",
        stats.scans
    );
    assert!(
        (72..=150).contains(&stats.rotations),
        "{} rotations",
        stats.rotations
    );
    // Inputs through the handle reach the machine; a dropped engine drops them.
    let handle = engine.handle();
    handle.foreground_changed(true);
    assert_eq!(engine.status(), EngineStatus::Running(ScanMode::Foreground));
    drop(engine);
    handle.foreground_changed(false);
    assert_eq!(
        events.statuses.lock().unwrap().last(),
        Some(&EngineStatus::Stopped)
    );
}

/// The mono time of each checkpoint the machine asks for while it runs `ms` from now.
fn checkpoints_during(rig: &mut Rig, ms: u64) -> Vec<u64> {
    let end = rig.mono + ms;
    let mut at = Vec::new();
    while rig.mono < end {
        let next = rig.core.poll(rig.now());
        if rig.core.take_checkpoint() {
            at.push(rig.mono);
            rig.core.checkpointer().run(rig.wall);
        }
        let step = next.map_or(end, |n| n.min(end)).max(rig.mono + 1) - rig.mono;
        rig.advance(step);
    }
    at
}

#[test]
fn a_checkpoint_follows_new_sightings_within_the_period_and_comes_daily_without_them() {
    let mut rig = Rig::new(EngineConfig::default());
    rig.start();
    // Nothing heard: no checkpoint for hours (no battery spent flushing nothing).
    assert!(checkpoints_during(&mut rig, 6 * 3_600_000).is_empty());
    let sighting = Sighting {
        payload: Payload::BluezoneV3 {
            id: crate::protocol::bluezone_v3::BluezoneId([7; 12]),
        },
        rssi: -60,
        tx_power: None,
        time_ms: rig.wall,
        source: Source::Advertisement,
    };
    let heard_at = rig.mono;
    assert_eq!(
        rig.core.record_sightings(rig.now(), &[sighting]).unwrap(),
        1
    );
    let period = u64::from(crate::units::CHECKPOINT_PERIOD_SECS) * 1000;
    let after = checkpoints_during(&mut rig, 2 * 3_600_000);
    assert_eq!(after.len(), 1, "one checkpoint for one burst: {after:?}");
    assert!(after[0] - heard_at <= period, "{} ms", after[0] - heard_at);
    // A quiet day still gets its housekeeping checkpoint (expired records are purged there).
    assert_eq!(checkpoints_during(&mut rig, MS_PER_DAY).len(), 1);
}
