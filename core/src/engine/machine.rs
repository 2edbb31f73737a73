//! The engine as a state machine, free of threads and clocks: every call carries the time, and
//! [`EngineCore::poll`] says when it next needs to run. The tokio driver ([`super::Engine`]) runs it on a
//! phone; the school-day simulation runs hundreds of them on virtual time.

use std::sync::Arc;

use ring::rand::SystemRandom;

use super::gatt::{GattReads, Heard};
use super::rotation::{OnAir, Rotation};
use super::{EngineConfig, EngineStats, EngineStatus, Now};
use crate::error::Error;
use crate::phone::PhoneListener;
use crate::platform::{
    Advertising, BlePlatform, PeerId, Permission, PlatformError, Reception, ScanFilter,
    SeenAdvertisement,
};
use crate::protocol::payload::{
    decode_gatt_value, encode_advertisement, gatt_value, AdvertisementData, Decoded,
};
use crate::protocol::Payload;
use crate::seeded::SplitMix64;
use crate::sighting::{Sighting, Source};
use crate::store::Store;
use crate::time::day_of_ms;
use crate::wire::Error as WireError;

use super::schedule::ScanMode;

/// Runs a checkpoint of an engine's store outside the engine, reporting a failure to its listener.
pub struct Checkpointer {
    store: Arc<Store>,
    listener: Option<Arc<dyn PhoneListener>>,
}

impl Checkpointer {
    /// Writes what was recorded and flushes it to disk.
    pub fn run(&self, wall_ms: u64) {
        if let Err(e) = self.store.checkpoint(wall_ms) {
            if let Some(l) = &self.listener {
                l.error(&e);
            }
        }
    }
}

/// Without new sightings a checkpoint still comes once a day, so that what expired is purged.
const HOUSEKEEPING_MS: u64 = crate::units::MS_PER_DAY;

/// A wall clock that moved by more than this against the monotonic clock was set by someone.
const CLOCK_JUMP_MS: i64 = 2_000;

/// Where the scan cycle stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// Not scanning; the next scan starts at this monotonic time.
    Idle { next_mono: u64 },
    /// Scanning since `started_mono`, until `until_mono`.
    Scanning { started_mono: u64, until_mono: u64 },
}

/// The engine's state machine.
pub struct EngineCore {
    config: EngineConfig,
    store: Arc<Store>,
    platform: Arc<dyn BlePlatform>,
    listener: Option<Arc<dyn PhoneListener>>,
    rng: SystemRandom,
    jitter: SplitMix64,
    rotation: Rotation,
    gatt: GattReads,
    running: bool,
    bluetooth_on: bool,
    foreground: bool,
    qa: bool,
    missing: Vec<Permission>,
    status: EngineStatus,
    on_air: Option<OnAir>,
    advertising: Option<Advertising>,
    next_rotation_mono: u64,
    /// The same deadline on the wall clock, with the wall time it was set at (a clock set backwards
    /// before that moment makes it void; the monotonic deadline still holds).
    next_rotation_wall: Option<(u64, u64)>,
    scan: Scan,
    next_checkpoint_mono: u64,
    /// When the first sighting not yet written by a checkpoint was recorded (monotonic ms).
    unsaved_since_mono: Option<u64>,
    /// A checkpoint came due in [`poll`](Self::poll); the driver runs it outside the machine's lock.
    checkpoint_due: bool,
    /// `wall - mono` at the last call: a change means the wall clock was set.
    clock_offset: Option<i64>,
    stats: EngineStats,
    sightings_day: u32,
    platform_error: Option<String>,
}

impl std::fmt::Debug for EngineCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineCore")
            .field("status", &self.status)
            .field("scan", &self.scan)
            .finish_non_exhaustive()
    }
}

impl EngineCore {
    /// A stopped engine.
    pub fn new(
        config: EngineConfig,
        store: Arc<Store>,
        platform: Arc<dyn BlePlatform>,
        listener: Option<Arc<dyn PhoneListener>>,
    ) -> Result<Self, Error> {
        config.check()?;
        let rng = SystemRandom::new();
        let seed = match config.jitter_seed {
            Some(seed) => seed,
            None => {
                let mut bytes = [0u8; 8];
                ring::rand::SecureRandom::fill(&rng, &mut bytes).map_err(|_| WireError::Random)?;
                u64::from_le_bytes(bytes)
            }
        };
        Ok(Self {
            rotation: Rotation {
                scheme: config.scheme,
                tx_power_dbm: config.tx_power_dbm,
                slots_per_day: config.bluezone_slots_per_day,
            },
            gatt: GattReads::new(config.gatt),
            jitter: SplitMix64::new(seed),
            config,
            store,
            platform,
            listener,
            rng,
            running: false,
            bluetooth_on: true,
            foreground: false,
            qa: false,
            missing: Vec::new(),
            status: EngineStatus::Stopped,
            on_air: None,
            advertising: None,
            next_rotation_mono: 0,
            next_rotation_wall: None,
            scan: Scan::Idle { next_mono: 0 },
            next_checkpoint_mono: 0,
            unsaved_since_mono: None,
            checkpoint_due: false,
            clock_offset: None,
            stats: EngineStats::default(),
            sightings_day: 0,
            platform_error: None,
        })
    }

    /// The current status.
    pub fn status(&self) -> &EngineStatus {
        &self.status
    }

    /// Counters since the engine was created.
    pub fn stats(&self) -> EngineStats {
        EngineStats {
            gatt_reads_ok: self.gatt.succeeded,
            gatt_reads_failed: self.gatt.failed,
            mode: Some(self.mode()),
            ..self.stats
        }
    }

    /// What the phone advertises now, if it advertises.
    pub fn advertising(&self) -> Option<&Advertising> {
        self.advertising.as_ref()
    }

    /// The payload on air now, if any.
    pub fn payload(&self) -> Option<Payload> {
        self.on_air.map(|o| o.payload)
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The store the engine records into.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The scan mode the app's state calls for.
    pub fn mode(&self) -> ScanMode {
        if self.qa {
            ScanMode::Qa
        } else if self.foreground {
            ScanMode::Foreground
        } else {
            ScanMode::Background
        }
    }

    /// Starts advertising and scanning.
    pub fn start(&mut self, now: Now) {
        self.running = true;
        self.sightings_day = day_of_ms(now.wall_ms);
        self.scan = Scan::Idle {
            next_mono: now.mono_ms,
        };
        self.next_checkpoint_mono = now.mono_ms + HOUSEKEEPING_MS;
        self.activate(now);
    }

    /// Stops the radio and writes what was recorded.
    pub fn stop(&mut self, now: Now) {
        if self.running {
            self.deactivate();
            self.running = false;
            self.checkpoint(now);
        }
        self.set_status(EngineStatus::Stopped);
    }

    fn can_run(&self) -> bool {
        self.running && self.bluetooth_on && self.missing.is_empty()
    }

    /// Turns the radio on if everything allows it, and says why not otherwise.
    fn activate(&mut self, now: Now) {
        if !self.running {
            return;
        }
        if !self.bluetooth_on {
            self.set_status(EngineStatus::BluetoothOff);
            return;
        }
        if let Some(p) = self.missing.first() {
            self.set_status(EngineStatus::PermissionMissing(*p));
            return;
        }
        self.platform_error = None;
        self.rotate(now);
        self.scan = Scan::Idle {
            next_mono: now.mono_ms,
        };
        self.refresh_status();
    }

    /// Turns the radio off (Bluetooth off, permission gone, engine stopped).
    fn deactivate(&mut self) {
        if let Scan::Scanning { .. } = self.scan {
            self.platform.stop_scanning();
        }
        self.scan = Scan::Idle {
            next_mono: u64::MAX,
        };
        if self.advertising.take().is_some() {
            self.platform.stop_advertising();
        }
        self.on_air = None;
    }

    fn refresh_status(&mut self) {
        let status = match &self.platform_error {
            Some(e) => EngineStatus::Failing(e.clone()),
            None => EngineStatus::Running(self.mode()),
        };
        self.set_status(status);
    }

    fn set_status(&mut self, status: EngineStatus) {
        if self.status != status {
            self.status = status.clone();
            if let Some(l) = &self.listener {
                l.radio_status_changed(&status);
            }
        }
    }

    fn platform_failed(&mut self, e: PlatformError) {
        self.platform_error = Some(e.0);
        self.refresh_status();
    }

    fn report(&self, error: &Error) {
        if let Some(l) = &self.listener {
            l.error(error);
        }
    }

    /// Picks the payload in force now and restarts advertising with it (and a new address).
    fn rotate(&mut self, now: Now) {
        let on_air = match self.rotation.on_air(&self.store, &self.rng, now.wall_ms) {
            Ok(on_air) => on_air,
            Err(e) => {
                // Without a key there is nothing to send; try again in a minute.
                self.report(&e);
                self.next_rotation_mono = now.mono_ms + 60_000;
                return;
            }
        };
        let advertising = Advertising {
            data: AdvertisementData::for_payload(&on_air.payload),
            raw: encode_advertisement(&on_air.payload),
            gatt_value: gatt_value(&on_air.payload),
        };
        self.platform.stop_advertising();
        match self.platform.start_advertising(&advertising) {
            Ok(()) => {
                if self.platform_error.take().is_some() {
                    self.refresh_status();
                }
            }
            Err(e) => self.platform_failed(e),
        }
        self.advertising = Some(advertising);
        self.on_air = Some(on_air);
        self.stats.rotations += 1;
        self.gatt.rotated(now.mono_ms);
        let until_boundary = on_air.valid_until_ms.saturating_sub(now.wall_ms);
        let delay = match self.config.scheme {
            crate::protocol::SchemeId::EnV1 => self
                .jitter
                .between(
                    u64::from(self.config.rotation_min_secs) * 1000,
                    u64::from(self.config.rotation_max_secs) * 1000,
                )
                .min(until_boundary),
            crate::protocol::SchemeId::BluezoneV3 => until_boundary,
        };
        self.next_rotation_mono = now.mono_ms + delay.max(1);
        self.next_rotation_wall = Some((now.wall_ms + delay.max(1), now.wall_ms));
    }

    /// The platform reported a failure after a call had returned (or, with `None`, that it works again).
    pub fn radio_failed(&mut self, reason: Option<String>) {
        match reason {
            Some(reason) => self.platform_failed(PlatformError(reason)),
            None => {
                if self.platform_error.take().is_some() && self.can_run() {
                    self.refresh_status();
                }
            }
        }
    }

    /// Starts a new identifier at once (after a same-day key release, or when the app asks).
    pub fn rotate_now(&mut self, now: Now) {
        if self.can_run() {
            self.rotate(now);
        }
    }

    /// Runs whatever is due at `now`; returns the monotonic time it next needs to run, or `None` while
    /// it is idle (stopped, Bluetooth off, permission missing).
    pub fn poll(&mut self, now: Now) -> Option<u64> {
        let offset = now.wall_ms as i64 - now.mono_ms as i64;
        if self
            .clock_offset
            .replace(offset)
            .is_some_and(|previous| (offset - previous).abs() > CLOCK_JUMP_MS)
        {
            self.stats.clock_changes += 1;
        }
        if !self.can_run() {
            return None;
        }
        // Midnight passed, or the clock was set outside the payload's interval or slot: rotate at once.
        // The wall-clock deadline matters when the monotonic clock stood still while the phone slept
        // (CLOCK_MONOTONIC does not count suspend): an identifier must not outlive its 10-20 minutes.
        let payload_stale = self.on_air.is_none_or(|o| !o.covers(now.wall_ms));
        let wall_due = self
            .next_rotation_wall
            .is_some_and(|(due, set_at)| now.wall_ms >= due && now.wall_ms >= set_at);
        if now.mono_ms >= self.next_rotation_mono || payload_stale || wall_due {
            self.rotate(now);
        }
        self.run_scan_cycle(now);
        if self.gatt.check_timeout(now.mono_ms) {
            self.stats.gatt_timeouts += 1;
        }
        if let Some(peer) = self.gatt.start_next(now.mono_ms) {
            if let Err(e) = self.platform.read_gatt(&peer) {
                let _ = self.gatt.done(&peer, None, now.mono_ms);
                self.platform_failed(e);
            }
        }
        if now.mono_ms >= self.next_checkpoint_mono {
            self.checkpoint_due = true;
            self.unsaved_since_mono = None;
            self.next_checkpoint_mono = now.mono_ms + HOUSEKEEPING_MS;
        }
        let scan_deadline = match self.scan {
            Scan::Idle { next_mono } => next_mono,
            Scan::Scanning { until_mono, .. } => until_mono,
        };
        let mut next = self
            .next_rotation_mono
            .min(scan_deadline)
            .min(self.next_checkpoint_mono);
        if let Some(d) = self.gatt.deadline() {
            next = next.min(d);
        }
        Some(next.max(now.mono_ms + 1))
    }

    fn run_scan_cycle(&mut self, now: Now) {
        let duty = self.config.schedules.of(self.mode());
        match self.scan {
            Scan::Idle { next_mono } if now.mono_ms >= next_mono => {
                if let Err(e) = self.platform.start_scanning(&ScanFilter::default()) {
                    self.platform_failed(e);
                    self.scan = Scan::Idle {
                        next_mono: now.mono_ms + 60_000,
                    };
                    return;
                }
                self.stats.scans += 1;
                self.gatt.new_window();
                self.scan = Scan::Scanning {
                    started_mono: now.mono_ms,
                    until_mono: now.mono_ms + u64::from(duty.scan_secs) * 1000,
                };
            }
            Scan::Scanning {
                started_mono,
                until_mono,
            } if now.mono_ms >= until_mono => {
                self.scan_window_ended(now);
                if duty.is_continuous() {
                    // The receiver stays on; only the window (and the GATT budget) starts over.
                    self.stats.scans += 1;
                    self.gatt.new_window();
                    self.scan = Scan::Scanning {
                        started_mono: now.mono_ms,
                        until_mono: now.mono_ms + u64::from(duty.scan_secs) * 1000,
                    };
                } else {
                    self.platform.stop_scanning();
                    let period = self.jitter.between(
                        u64::from(duty.period_min_secs) * 1000,
                        u64::from(duty.period_max_secs) * 1000,
                    );
                    self.scan = Scan::Idle {
                        next_mono: (started_mono + period).max(now.mono_ms + 1),
                    };
                }
            }
            _ => {}
        }
    }

    fn scan_window_ended(&mut self, now: Now) {
        let day = day_of_ms(now.wall_ms);
        if day != self.sightings_day {
            self.sightings_day = day;
            self.stats.sightings_today = 0;
        }
        if let Some(l) = &self.listener {
            l.sightings_recorded(self.stats.sightings_today);
        }
    }

    fn checkpoint(&mut self, now: Now) {
        self.checkpoint_due = false;
        self.checkpointer().run(now.wall_ms);
    }

    /// Whether [`poll`](Self::poll) found a checkpoint due (and forgets it): the driver then runs
    /// [`checkpointer`](Self::checkpointer)'s checkpoint once it has released the machine.
    pub fn take_checkpoint(&mut self) -> bool {
        std::mem::take(&mut self.checkpoint_due)
    }

    /// What runs a checkpoint of this engine's store without the engine.
    pub fn checkpointer(&self) -> Checkpointer {
        Checkpointer {
            store: Arc::clone(&self.store),
            listener: self.listener.clone(),
        }
    }

    fn record(&mut self, now: Now, payload: Payload, heard: Heard, source: Source) {
        let sighting = Sighting {
            payload,
            rssi: heard.rssi,
            tx_power: heard.tx_power,
            time_ms: heard.wall_ms,
            source,
        };
        if let Err(e) = self.record_sightings(now, &[sighting]) {
            self.report(&e);
        }
    }

    /// Where every sighting enters the phone, from the radio or from a file of recorded sightings: own
    /// advertisements are dropped, the RSSI rule applied ([`Sighting::admitted`]), the rest stored and
    /// counted, and a checkpoint scheduled within `checkpoint_every_secs`. Returns how many were stored.
    pub fn record_sightings(&mut self, now: Now, sightings: &[Sighting]) -> Result<usize, Error> {
        let on_air = self.on_air.map(|o| o.payload);
        // Our own advertisement, reflected or looped back by a test radio, is not a peer.
        let admitted: Vec<Sighting> = sightings
            .iter()
            .filter(|s| Some(s.payload) != on_air)
            .map(Sighting::admitted)
            .collect();
        self.store.record(&admitted)?;
        if !admitted.is_empty() && self.unsaved_since_mono.is_none() {
            // What a kill can lose is bounded by the time until the next checkpoint.
            self.unsaved_since_mono = Some(now.mono_ms);
            self.next_checkpoint_mono = self
                .next_checkpoint_mono
                .min(now.mono_ms + u64::from(self.config.checkpoint_every_secs) * 1000);
        }
        for s in &admitted {
            let day = day_of_ms(s.time_ms);
            if day != self.sightings_day {
                self.sightings_day = day;
                self.stats.sightings_today = 0;
            }
            self.stats.sightings += 1;
            self.stats.sightings_today += 1;
        }
        Ok(admitted.len())
    }

    /// An advertisement was received.
    pub fn advertisement_seen(&mut self, now: Now, reception: Reception) {
        if !self.can_run() {
            return;
        }
        let Reception {
            peer,
            advertisement,
            rssi,
            tx_power,
        } = reception;
        let decoded = match &advertisement {
            SeenAdvertisement::Raw(bytes) => crate::protocol::payload::decode_advertisement(bytes),
            SeenAdvertisement::Structured(data) => data.decode(),
        };
        let heard = Heard {
            rssi,
            tx_power,
            wall_ms: now.wall_ms,
        };
        match decoded {
            Ok(Decoded::Payload(payload)) => {
                self.record(now, payload, heard, Source::Advertisement)
            }
            Ok(Decoded::NeedsGattRead) => {
                if let Some(payload) = self.gatt.needs_read(&peer, heard, now.mono_ms) {
                    self.record(now, payload, heard, Source::GattRead);
                }
            }
            Err(_) => self.stats.undecodable += 1,
        }
    }

    /// A GATT read finished.
    pub fn gatt_read_done(
        &mut self,
        now: Now,
        peer: PeerId,
        result: Result<Vec<u8>, PlatformError>,
    ) {
        let payload = result.ok().and_then(|value| decode_gatt_value(&value).ok());
        if let Some((payload, heard)) = self.gatt.done(&peer, payload, now.mono_ms) {
            self.record(now, payload, heard, Source::GattRead);
        }
    }

    /// Bluetooth was turned on or off.
    pub fn set_bluetooth(&mut self, now: Now, on: bool) {
        if self.bluetooth_on == on {
            return;
        }
        self.bluetooth_on = on;
        if on {
            self.activate(now);
        } else {
            self.deactivate();
            if self.running {
                self.set_status(EngineStatus::BluetoothOff);
            }
        }
    }

    /// The app went to the foreground or the background.
    pub fn set_foreground(&mut self, now: Now, foreground: bool) {
        if self.foreground != foreground {
            self.foreground = foreground;
            self.mode_changed(now);
        }
    }

    /// QA mode (continuous scanning) on or off.
    pub fn set_qa(&mut self, now: Now, qa: bool) {
        if self.qa != qa {
            self.qa = qa;
            self.mode_changed(now);
        }
    }

    fn mode_changed(&mut self, now: Now) {
        if !self.can_run() {
            return;
        }
        // A denser mode should not wait out the sparse mode's long pause.
        if let Scan::Idle { next_mono } = self.scan {
            let period = u64::from(self.config.schedules.of(self.mode()).period_max_secs) * 1000;
            self.scan = Scan::Idle {
                next_mono: next_mono.min(now.mono_ms + period),
            };
        }
        self.refresh_status();
    }

    /// A permission was granted or revoked.
    pub fn set_permission(&mut self, now: Now, permission: Permission, granted: bool) {
        let was_missing = self.missing.contains(&permission);
        if granted && was_missing {
            self.missing.retain(|p| *p != permission);
            self.activate(now);
        } else if !granted && !was_missing {
            self.missing.push(permission);
            self.deactivate();
            if self.running {
                self.set_status(EngineStatus::PermissionMissing(permission));
            }
        }
    }
}
