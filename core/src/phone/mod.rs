//! [`Phone`]: the one object an app (or the command line, or the simulation) holds. It owns the phone's
//! encrypted store, the engine that runs the radio, the risk configuration, the pinned export keys, the
//! calibration and the key-server client, and offers what a phone does: run the radio, take sightings in,
//! check published keys (a file or a sync), report a positive test, say which days are at risk, and keep
//! or delete its data. Every rule of a phone's life lives behind these methods once.
//!
//! - `exposure.rs`: checking one batch of published keys, and the once-per-day notification policy;
//! - `family.rs`: profiles, settings and health declarations;
//! - `report.rs`: which keys a positive report publishes, the same-day release, the sealed upload;
//! - `sync.rs`: downloading and checking new exports and warning packages;
//! - `checkins.rs`: check-ins at venues, their encrypted upload, and presence warnings;
//! - `visitor_log.rs`: registering chosen profiles at a venue's visitor log, with consent;
//! - `listener.rs`: what the app hears ([`PhoneListener`]).

mod chaff;
mod checkins;
mod exposure;
mod family;
mod listener;
mod report;
mod sync;
#[cfg(test)]
mod tests;
mod visitor_log;

use std::io::{Read, Seek};
use std::path::PathBuf;
use std::sync::Arc;

pub use checkins::{CheckInEntry, CheckInSource, PresenceCheckReport, PresenceWarning};
pub use exposure::CheckReport;
pub use listener::{PhoneListener, SyncProgress};
pub use report::{PositiveReport, ReleaseWindow, ReleasedKeys, ReportOutcome};
pub use sync::SyncReport;

// The plain records and settings a phone's callers see, so that they speak to the phone alone.
pub use crate::keyserver::seal::SealingPublicKey;
pub use crate::keyserver::{ClientConfig, KeyServerClient};
pub use crate::risk::calibration::{CalibrationTable, Confidence, DeviceCalibration};
pub use crate::risk::{DayRisk, ProximityBand, RiskConfig};
pub use crate::store::{
    DataKey, Profile, PurgeReport, ScanInstance, Settings, StoreConfig, StoreStats,
    StoredDeclaration, UserConsent,
};

use ring::rand::SystemRandom;

use crate::checkin::scoring::PresenceConfig;
use crate::checkin::CheckInLinks;
use crate::engine::{
    Engine, EngineConfig, EngineCore, EngineHandle, EngineStats, EngineStatus, RadioDuty,
};
use crate::error::Error;
use crate::export::bluezone;
use crate::export::signing::{SignedConfig, VerificationKey};
use crate::export::{ExportFile, ExportHeader};
use crate::matching::MatchContext;
use crate::platform::{Advertising, BlePlatform};
use crate::protocol::{Payload, SchemeId};
use crate::sighting::Sighting;
use crate::store::Store;
use crate::time::Clock;
use crate::wire::Error as WireError;
use exposure::exposure_days;

/// How a phone is set up: what the app was built with and what the platform gives it.
#[derive(Debug, Clone)]
pub struct PhoneConfig {
    /// A directory private to the app; the store lives in it (created if missing).
    pub data_dir: PathBuf,
    /// The key that seals everything stored, from the platform's keystore.
    pub data_key: DataKey,
    /// The identifier scheme spoken (en-v1 by default).
    pub scheme: SchemeId,
    /// This phone model's calibration (its TX power and RSSI correction), from
    /// [`CalibrationTable::lookup`].
    pub calibration: DeviceCalibration,
    /// How matches are scored, as the health authority publishes it.
    pub risk: RiskConfig,
    /// The keys that sign published exports and key lists, pinned in the app.
    pub export_keys: Vec<VerificationKey>,
    /// With no export key pinned, trust the keys the key server's `/v1/config` announces. Only for tests
    /// and the QA command line: an app pins its keys.
    pub trust_announced_export_keys: bool,
    /// The key server, for syncs and positive reports.
    pub key_server: Option<KeyServerClient>,
    /// How the engine runs the radio (its TX power comes from [`calibration`](Self::calibration)).
    pub engine: EngineConfig,
    /// How the store is sized.
    pub store: StoreConfig,
    /// The check-in links this app writes and reads besides Corona-Warn-App's.
    pub check_in_links: CheckInLinks,
    /// How overlaps with published cases' stays are scored.
    pub presence: PresenceConfig,
}

impl PhoneConfig {
    /// Defaults for a phone storing in `data_dir` under `data_key`: en-v1, the calibration fleet average,
    /// the default risk configuration, no export key and no key server.
    pub fn new(data_dir: impl Into<PathBuf>, data_key: DataKey) -> Self {
        Self {
            data_dir: data_dir.into(),
            data_key,
            scheme: SchemeId::EnV1,
            calibration: CalibrationTable::builtin().fleet(),
            risk: RiskConfig::default(),
            export_keys: Vec::new(),
            trust_announced_export_keys: false,
            key_server: None,
            engine: EngineConfig::default(),
            store: StoreConfig::default(),
            check_in_links: CheckInLinks::default(),
            presence: PresenceConfig::corona_warn_app_2021(),
        }
    }
}

/// One phone: cheap to clone (the clones share everything), safe to use from any thread.
#[derive(Clone)]
pub struct Phone {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<Store>,
    engine: Engine,
    clock: Arc<dyn Clock>,
    listener: Option<Arc<dyn PhoneListener>>,
    risk: RiskConfig,
    calibration: DeviceCalibration,
    export_keys: Vec<VerificationKey>,
    trust_announced_export_keys: bool,
    key_server: Option<KeyServerClient>,
    bluezone_slots_per_day: u32,
    check_in_links: CheckInLinks,
    presence: PresenceConfig,
    /// Held while a batch of published keys is checked: its days are read, merged and written back, and
    /// the days told compared with the days at risk, so two checks at once would lose an update or tell
    /// a day twice.
    checking: std::sync::Mutex<()>,
    /// The declaration form in use.
    schema: std::sync::RwLock<crate::declaration::DeclarationSchema>,
}

impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Phone")
            .field("store", &self.inner.store)
            .finish_non_exhaustive()
    }
}

impl Phone {
    /// Opens the phone's store (creating it on first use) and prepares the engine on `platform`'s radio;
    /// nothing is broadcast until [`start`](Self::start). `clock` gives the time (the system clock in an
    /// app, a virtual one in tests and the simulation).
    pub fn open(
        config: PhoneConfig,
        platform: Arc<dyn BlePlatform>,
        listener: Option<Arc<dyn PhoneListener>>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        config.risk.check()?;
        config.presence.check()?;
        let store = Arc::new(Store::open(
            &config.data_dir,
            &config.data_key,
            config.store,
            clock.now_ms(),
        )?);
        let engine_config = EngineConfig {
            scheme: config.scheme,
            tx_power_dbm: config.calibration.tx_power_dbm,
            ..config.engine
        };
        let bluezone_slots_per_day = engine_config.bluezone_slots_per_day;
        let schema = family::load_schema(&store)?;
        let core = EngineCore::new(
            engine_config,
            Arc::clone(&store),
            platform,
            listener.clone(),
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                engine: Engine::new(core, Arc::clone(&clock)),
                store,
                clock,
                listener,
                risk: config.risk,
                calibration: config.calibration,
                export_keys: config.export_keys,
                trust_announced_export_keys: config.trust_announced_export_keys,
                key_server: config.key_server,
                bluezone_slots_per_day,
                check_in_links: config.check_in_links,
                presence: config.presence,
                checking: std::sync::Mutex::new(()),
                schema,
            }),
        })
    }

    // ---- the radio ----

    /// Starts advertising and scanning, driven by a task on `runtime`.
    pub fn start(&self, runtime: &tokio::runtime::Handle) {
        self.inner.engine.start(runtime);
    }

    /// Starts advertising and scanning without a task: the caller runs [`step`](Self::step) when the last
    /// step asked, on the time of the phone's clock (a simulation on virtual time).
    pub fn start_stepped(&self) {
        self.inner.engine.start_stepped();
    }

    /// Runs whatever is due now; returns the monotonic time the radio next needs to run, or `None` while
    /// it is idle. Only for phones started with [`start_stepped`](Self::start_stepped).
    pub fn step(&self) -> Option<u64> {
        self.inner.engine.step()
    }

    /// Stops the radio and writes what was recorded.
    pub fn stop(&self) {
        self.inner.engine.stop();
    }

    /// Where the platform reports what the radio heard and how the phone's state changed (Bluetooth,
    /// permissions, foreground, failures). A weak handle: holding it does not keep the phone alive.
    pub fn input(&self) -> EngineHandle {
        self.inner.engine.handle()
    }

    /// Starts a new identifier at once.
    pub fn rotate_now(&self) {
        self.inner.engine.rotate_now();
    }

    /// Continuous scanning for testers, on or off.
    pub fn set_qa_mode(&self, on: bool) {
        self.inner.engine.set_qa(on);
    }

    /// What the radio is doing, and what to fix when it is not working.
    pub fn radio_status(&self) -> EngineStatus {
        self.inner.engine.status()
    }

    /// The radio's counters.
    pub fn radio_stats(&self) -> EngineStats {
        self.inner.engine.stats()
    }

    /// What the phone advertises now, if it advertises (the shells serve its GATT value).
    pub fn advertising(&self) -> Option<Advertising> {
        self.inner
            .engine
            .with_core(|core, _| core.advertising().cloned())
    }

    /// The payload on air now, if any.
    pub fn payload_on_air(&self) -> Option<Payload> {
        self.inner.engine.with_core(|core, _| core.payload())
    }

    /// The radio duty of each mode (background, foreground, QA).
    pub fn radio_duties(&self) -> [RadioDuty; 3] {
        self.inner
            .engine
            .with_core(|core, _| core.config().duties())
    }

    /// The engine's configuration (what the phone was opened with, its TX power from the calibration).
    pub fn engine_config(&self) -> EngineConfig {
        self.inner.engine.with_core(|core, _| core.config().clone())
    }

    // ---- what was heard ----

    /// Takes in sightings recorded elsewhere (a QA file, a test) through the same entry as the radio's:
    /// the same RSSI rule, the same store. Returns how many were stored; they are durable after the next
    /// checkpoint ([`checkpoint`](Self::checkpoint)).
    pub fn record_sightings(&self, sightings: &[Sighting]) -> Result<usize, Error> {
        self.inner
            .engine
            .with_core(|core, now| core.record_sightings(now, sightings))
    }

    /// What this phone heard in the retention period, oldest first (QA screens and tests).
    pub fn heard(&self) -> Result<Vec<ScanInstance>, Error> {
        self.inner.store.scan_instances(0, u64::MAX)
    }

    // ---- published keys ----

    /// Checks a published export ([`ExportFile::open`] of a file, or [`ExportFile::from_zip_bytes`] of a
    /// zip in memory) against what this phone heard, verified against the pinned export keys, and records
    /// the result. `export.bin` streams out of the zip, never held inflated whole; an export whose
    /// signature fails records nothing.
    pub fn process_export<R: Read + Seek>(
        &self,
        export: ExportFile<R>,
    ) -> Result<CheckReport, Error> {
        self.check_export(export, |_| Ok(self.inner.export_keys.clone()))
    }

    /// [`process_export`](Self::process_export), verified against the pinned export keys and those
    /// `also_trusted` gives for the export's header (a key trusted for whatever key ids the export names,
    /// as the command line trusts a key file).
    pub fn process_export_trusting<R: Read + Seek>(
        &self,
        export: ExportFile<R>,
        also_trusted: impl FnOnce(&ExportHeader) -> Result<Vec<VerificationKey>, Error>,
    ) -> Result<CheckReport, Error> {
        self.check_export(export, |header| {
            let mut keys = self.inner.export_keys.clone();
            keys.extend(also_trusted(header)?);
            Ok(keys)
        })
    }

    /// Checks a signed Bluezone key list (its JSON and detached signature), verified against the pinned
    /// keys, and records the result.
    pub fn process_bluezone_list(
        &self,
        json: &[u8],
        signature: &[u8],
    ) -> Result<CheckReport, Error> {
        let keys = bluezone::parse_signed(json, signature, &self.inner.export_keys)?;
        let digest: [u8; 32] = ring::digest::digest(&ring::digest::SHA256, json)
            .as_ref()
            .try_into()
            .map_err(|_| WireError::InvalidConfig("SHA-256 gave no 32-byte digest".into()))?;
        let _one_at_a_time = self.one_check_at_a_time();
        exposure::check_bluezone(
            &self.inner.store,
            &keys,
            &digest,
            &self.inner.risk,
            &self.match_context(),
            self.inner.listener.as_deref(),
        )
    }

    /// Every day with a recorded exposure, oldest first.
    pub fn exposure_days(&self) -> Result<Vec<DayRisk>, Error> {
        exposure_days(&self.inner.store)
    }

    /// Downloads the exports the key server published since the last sync and checks each; after about
    /// one sync in 20, also sends a fake upload (chaff, so that an upload does not mean a report).
    pub async fn sync(&self) -> Result<SyncReport, Error> {
        let client = self.key_server()?;
        let report = sync::sync(self, client).await?;
        if chaff::due_after_sync(&SystemRandom::new()) {
            // Chaff that fails changes nothing for the user; the next draw comes with the next sync.
            let _ = chaff::send(client, &SystemRandom::new()).await;
        }
        Ok(report)
    }

    /// Sends a fake upload now, one the key server drops and answers like a report: for apps that
    /// schedule chaff themselves ([`sync`](Self::sync) already sends one after about one sync in 20).
    /// Returns how many keys it pretended to carry.
    pub async fn send_chaff(&self) -> Result<usize, Error> {
        chaff::send(self.key_server()?, &SystemRandom::new()).await
    }

    /// Checks an export streamed out of its zip, verified against `keys(header)` (the one check of an
    /// export: [`process_export`](Self::process_export), the command line's and a sync's).
    fn check_export<R: Read + Seek>(
        &self,
        export: ExportFile<R>,
        keys: impl FnOnce(&ExportHeader) -> Result<Vec<VerificationKey>, Error>,
    ) -> Result<CheckReport, Error> {
        let _one_at_a_time = self.one_check_at_a_time();
        exposure::check_export(
            &self.inner.store,
            export,
            keys,
            &self.inner.risk,
            &self.match_context(),
            self.inner.listener.as_deref(),
        )
    }

    fn one_check_at_a_time(&self) -> std::sync::MutexGuard<'_, ()> {
        // A panic in another check leaves nothing half-written that this one could not use.
        self.inner
            .checking
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// What matching needs to know: now, this phone's calibration, the retention period.
    fn match_context(&self) -> MatchContext {
        MatchContext {
            retention_days: self.inner.store.config().retention_days,
            ..MatchContext::new(
                self.now_ms(),
                self.inner.calibration,
                CalibrationTable::builtin().fleet().tx_power_dbm,
            )
        }
    }

    // ---- a positive test ----

    /// Releases the keys of the infectious window without uploading them (for QA, and for a health
    /// authority that collects keys another way): ends the key in use, rotates to a fresh one, and returns
    /// the keys a report would publish. Only with the user's `consent`.
    pub fn release_keys(
        &self,
        onset_day: Option<u32>,
        test_day: Option<u32>,
        consent: UserConsent,
    ) -> Result<ReleasedKeys, Error> {
        let released = report::release_keys(
            &self.inner.store,
            onset_day,
            test_day,
            self.inner.bluezone_slots_per_day,
            self.now_ms(),
            consent,
        )?;
        self.rotate_now();
        Ok(released)
    }

    /// Reports a positive test: checks the code, releases the keys of the infectious window (the phone
    /// advertises a fresh key from now on, whatever the upload's result), encrypts the check-ins of those
    /// days, and uploads both sealed to the key server with the officer's one-time code, in one upload
    /// of the same size as every other.
    pub async fn report_positive(&self, report: PositiveReport) -> Result<ReportOutcome, Error> {
        let client = self.key_server()?;
        let code = report::check_code(&report.code)?;
        let released = self.release_keys(report.onset_day, report.test_day, report.consent)?;
        let reference_day = report
            .onset_day
            .or(report.test_day)
            .unwrap_or(released.window.last_day);
        let (reported, checkins) =
            self.checkin_reports(released.window.first_day, reference_day)?;
        let payload = released.upload(code, &checkins)?;
        let sealing_key = client.sealing_key().await?;
        let response = client.publish(&sealing_key, &payload).await?;
        self.mark_reported(&reported)?;
        Ok(ReportOutcome {
            keys_uploaded: payload.keys.len(),
            checkins_uploaded: reported.len(),
            response,
            window: released.window,
        })
    }

    // ---- the store ----

    /// What the store holds, per day and scheme, and its size.
    pub fn storage_stats(&self) -> Result<StoreStats, Error> {
        self.inner.store.stats()
    }

    /// Removes data older than `older_than_days` (default: the retention period).
    pub fn purge(&self, older_than_days: Option<u32>) -> Result<PurgeReport, Error> {
        self.inner.store.purge(self.now_ms(), older_than_days)
    }

    /// Writes everything recorded so far to disk.
    pub fn checkpoint(&self) -> Result<(), Error> {
        self.inner.store.checkpoint(self.now_ms())
    }

    /// Deletes everything the phone recorded and its keys ("delete my data"), and seals what it records
    /// from now on under `new_data_key` (the platform's fresh keystore key), so that a copy of the old
    /// files cannot be read with the key that remains. The phone rotates to a fresh identifier.
    pub fn delete_all_data(&self, new_data_key: &DataKey) -> Result<(), Error> {
        self.inner.store.clear(new_data_key)?;
        self.rotate_now();
        Ok(())
    }

    // ---- internals ----

    fn now_ms(&self) -> u64 {
        self.inner.clock.now_ms()
    }

    fn key_server(&self) -> Result<&KeyServerClient, Error> {
        self.inner.key_server.as_ref().ok_or_else(|| {
            WireError::InvalidConfig("no key server is configured for this phone".into()).into()
        })
    }

    fn sync_progress(&self, progress: SyncProgress) {
        if let Some(listener) = &self.inner.listener {
            listener.sync_progress(progress);
        }
    }
}
