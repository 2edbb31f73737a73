//! The engine object the shells hold: each method delegates in a line or two to the core.

use std::collections::HashMap;
use std::sync::Arc;

use openzone_core::engine::{release_key_in_use, Engine, EngineConfig, EngineCore, EngineHandle};
use openzone_core::export::signing::VerificationKey;
use openzone_core::export::Export;
use openzone_core::exposure::{check_export, exposure_days};
use openzone_core::keyserver::{self, ClientConfig, KeyServerClient, SyncOptions};
use openzone_core::matching::MatchContext;
use openzone_core::platform::{EngineInput, PeerId, PlatformError, SeenAdvertisement};
use openzone_core::protocol::payload::AdvertisementData;
use openzone_core::risk::calibration::{CalibrationTable, DeviceCalibration};
use openzone_core::risk::RiskConfig;
use openzone_core::store::{DataKey, Store, StoreConfig, UserConsent};
use openzone_core::time::{day_of_ms, parse_day, Clock, SystemClock};

use crate::platform::{
    BlePlatform, ClockAdapter, EngineListener, ListenerAdapter, PlatformAdapter, WallClock,
};
use crate::records::{
    AdvertisementPlan, CheckSummary, DayExposure, EngineCounters, EngineSettings, EngineState,
    PermissionKind, RadioDutyInfo, ReportKey,
};
use crate::{runtime, OpenZoneError};

/// The exposure-notification engine of one phone.
#[derive(uniffi::Object)]
pub struct OpenZoneEngine {
    engine: Engine,
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    receiver: DeviceCalibration,
    risk: RiskConfig,
    export_keys: Vec<VerificationKey>,
    key_server: Option<String>,
}

impl OpenZoneEngine {
    /// The engine's input handle (weak), for the simulated air.
    pub(crate) fn handle(&self) -> EngineHandle {
        self.engine.handle()
    }

    fn input(&self) -> EngineHandle {
        self.engine.handle()
    }

    fn context(&self) -> MatchContext {
        let table = CalibrationTable::builtin();
        MatchContext {
            retention_days: self.store.config().retention_days,
            ..MatchContext::new(
                self.clock.now_ms(),
                self.receiver,
                table.fleet().tx_power_dbm,
            )
        }
    }

    fn client(&self) -> Result<KeyServerClient, OpenZoneError> {
        let url = self.key_server.as_deref().ok_or_else(|| {
            OpenZoneError::InvalidInput("no key server is configured in the engine settings".into())
        })?;
        Ok(KeyServerClient::new(ClientConfig {
            pinned_export_keys: self.export_keys.clone(),
            ..ClientConfig::new(url)
        })?)
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl OpenZoneEngine {
    /// Opens the phone's store and prepares the engine (it starts with [`start`](Self::start)).
    #[uniffi::constructor]
    pub fn new(
        settings: EngineSettings,
        platform: Arc<dyn BlePlatform>,
        listener: Option<Arc<dyn EngineListener>>,
        clock: Option<Arc<dyn WallClock>>,
    ) -> Result<Arc<Self>, OpenZoneError> {
        let data_key = DataKey::from_file_contents(&settings.data_key)?;
        let clock: Arc<dyn Clock> = match clock {
            Some(c) => Arc::new(ClockAdapter(c)),
            None => Arc::new(SystemClock),
        };
        let store = Arc::new(Store::open(
            std::path::Path::new(&settings.data_dir),
            &data_key,
            StoreConfig::default(),
            clock.now_ms(),
        )?);
        let d = &settings.device;
        let receiver = CalibrationTable::builtin().lookup(&d.manufacturer, &d.device, &d.model);
        let risk = match &settings.risk_config_json {
            Some(json) => RiskConfig::from_json(json.as_bytes())?,
            None => RiskConfig::default(),
        };
        let export_keys = settings
            .export_keys
            .iter()
            .map(|k| VerificationKey::from_pem(&k.key_id, &k.version, &k.pem))
            .collect::<Result<Vec<_>, _>>()?;
        let config = EngineConfig {
            scheme: settings.scheme.into(),
            tx_power_dbm: receiver.tx_power_dbm,
            ..EngineConfig::default()
        };
        let core = EngineCore::new(
            config,
            Arc::clone(&store),
            Arc::new(PlatformAdapter(platform)),
            listener.map(|l| {
                Arc::new(ListenerAdapter(l)) as Arc<dyn openzone_core::engine::EngineListener>
            }),
        )?;
        Ok(Arc::new(Self {
            engine: Engine::new(core, Arc::clone(&clock)),
            store,
            clock,
            receiver,
            risk,
            export_keys,
            key_server: settings.key_server_url,
        }))
    }

    /// Starts advertising and scanning.
    pub fn start(&self) {
        self.engine.start(&runtime::handle());
    }

    /// Stops the radio and writes what was recorded.
    pub fn stop(&self) {
        self.engine.stop();
    }

    /// The app went to the foreground (true) or the background.
    pub fn set_foreground(&self, foreground: bool) {
        self.input().foreground_changed(foreground);
    }

    /// Bluetooth was turned on or off.
    pub fn set_bluetooth_enabled(&self, on: bool) {
        self.input().bluetooth_changed(on);
    }

    /// A permission was granted or revoked.
    pub fn set_permission(&self, permission: PermissionKind, granted: bool) {
        self.input().permission_changed(permission.into(), granted);
    }

    /// The radio failed after a call had returned (Android's and CoreBluetooth's advertising and scan
    /// failures arrive in later callbacks); `None` when it works again.
    pub fn radio_failed(&self, reason: Option<String>) {
        self.input().radio_failed(reason);
    }

    /// Continuous scanning for testers, on or off.
    pub fn set_qa_mode(&self, on: bool) {
        self.engine.set_qa(on);
    }

    /// An advertisement as raw bytes (Android's `ScanRecord.getBytes()`).
    pub fn advertisement_seen(&self, peer: String, raw: Vec<u8>, rssi: i8, tx_power: Option<i8>) {
        self.input()
            .advertisement_seen(PeerId(peer), SeenAdvertisement::Raw(raw), rssi, tx_power);
    }

    /// An advertisement as maps (CoreBluetooth's advertisement data): service data by UUID string,
    /// manufacturer data by company id, advertised service UUIDs. Unparseable UUIDs are ignored.
    pub fn advertisement_seen_fields(
        &self,
        peer: String,
        service_uuids: Vec<String>,
        service_data: HashMap<String, Vec<u8>>,
        manufacturer_data: HashMap<u16, Vec<u8>>,
        rssi: i8,
        tx_power: Option<i8>,
    ) {
        let data = AdvertisementData {
            service_uuids: service_uuids.iter().filter_map(|u| parse_uuid(u)).collect(),
            service_data: service_data
                .into_iter()
                .filter_map(|(u, v)| Some((parse_uuid(&u)?, v)))
                .collect(),
            manufacturer_data: manufacturer_data.into_iter().collect(),
            tx_power,
        };
        self.input().advertisement_seen(
            PeerId(peer),
            SeenAdvertisement::Structured(data),
            rssi,
            tx_power,
        );
    }

    /// A GATT read asked for with `BlePlatform::read_gatt` finished: the value, or the error.
    pub fn gatt_read_done(&self, peer: String, value: Option<Vec<u8>>, error: Option<String>) {
        let result =
            value.ok_or_else(|| PlatformError(error.unwrap_or_else(|| "the read failed".into())));
        self.input().gatt_read_done(PeerId(peer), result);
    }

    /// What the phone advertises now, if it advertises.
    pub fn current_advertisement(&self) -> Option<AdvertisementPlan> {
        self.engine
            .with_core(|core, _| core.advertising().map(Into::into))
    }

    /// The value the GATT characteristic must return now (the shells serve it to peers).
    pub fn current_gatt_value(&self) -> Option<Vec<u8>> {
        self.engine
            .with_core(|core, _| core.advertising().map(|a| a.gatt_value.clone()))
    }

    /// The engine's state.
    pub fn state(&self) -> EngineState {
        (&self.engine.status()).into()
    }

    /// Counters for the QA screen.
    pub fn counters(&self) -> EngineCounters {
        let s = self.engine.stats();
        EngineCounters {
            scans: s.scans,
            rotations: s.rotations,
            sightings: s.sightings,
            sightings_today: s.sightings_today,
            gatt_reads_ok: s.gatt_reads_ok,
            gatt_reads_failed: s.gatt_reads_failed,
        }
    }

    /// The radio duty of each mode (background, foreground, QA).
    pub fn radio_duty(&self) -> Vec<RadioDutyInfo> {
        self.engine
            .with_core(|core, _| core.config().duties().map(Into::into).to_vec())
    }

    /// Every day with a recorded exposure, oldest first.
    pub fn exposure_days(&self) -> Result<Vec<DayExposure>, OpenZoneError> {
        Ok(exposure_days(&self.store)?.iter().map(Into::into).collect())
    }

    /// Checks a downloaded export (a zip) against what this phone heard, off the caller's thread.
    pub async fn process_export(
        self: Arc<Self>,
        zip: Vec<u8>,
    ) -> Result<CheckSummary, OpenZoneError> {
        runtime::blocking(move || {
            let verified = Export::from_zip_bytes(&zip)?.verify(&self.export_keys)?;
            let report = check_export(&self.store, &verified, &self.risk, &self.context())?;
            Ok(CheckSummary {
                already_processed: report.already_processed,
                keys_processed: report.keys_processed,
                keys_matched: report.keys_matched,
                days: report.days.iter().map(Into::into).collect(),
            })
        })
        .await?
    }

    /// Releases the keys of the infectious window for a positive report: only with `consent` true, given
    /// after showing the user what is shared. The key in use ends now and the phone rotates to a fresh
    /// one, so the keys can be published today. `onset_date` (`YYYY-MM-DD`) starts the window 2 days
    /// earlier; without it, 2 days before today.
    pub fn release_keys(
        &self,
        consent: bool,
        onset_date: Option<String>,
    ) -> Result<Vec<ReportKey>, OpenZoneError> {
        if !consent {
            return Err(OpenZoneError::ConsentRequired(
                "the keys are shared only after the user agrees to share them".into(),
            ));
        }
        let now = self.clock.now_ms();
        let onset = onset_date.as_deref().map(parse_day).transpose()?;
        let today = day_of_ms(now);
        release_key_in_use(&self.store, &ring::rand::SystemRandom::new(), now)?;
        self.engine.rotate_now();
        let first = onset.unwrap_or(today).saturating_sub(2);
        let keys = self
            .store
            .keys_for_report(first, today, UserConsent::given(), 96)?;
        // Every key that has ended by the end of this interval; never the fresh key now in use.
        let current = openzone_core::protocol::en_v1::en_interval_number(now / 1000);
        let in_force = keys
            .en_v1
            .iter()
            .filter(|k| k.rolling_start_interval <= current && current < k.end_interval())
            .map(|k| k.rolling_start_interval)
            .max();
        Ok(keys
            .en_v1
            .iter()
            .filter(|k| {
                k.end_interval() <= current + 1 && Some(k.rolling_start_interval) != in_force
            })
            .map(|k| ReportKey {
                key_data: hex::encode(k.tek.as_bytes()),
                rolling_start_interval: k.rolling_start_interval,
                rolling_period: k.rolling_period,
                days_since_onset: onset.map(|o| (k.rolling_start_interval / 144) as i32 - o as i32),
            })
            .collect())
    }

    /// Reports a positive test to the key server with the officer's one-time `code` (only with
    /// `consent`), sealing the keys to the server; the phone rotates to a fresh key first.
    pub async fn report_positive(
        self: Arc<Self>,
        code: String,
        onset_date: Option<String>,
        consent: bool,
    ) -> Result<u32, OpenZoneError> {
        if !consent {
            return Err(OpenZoneError::ConsentRequired(
                "the keys are shared only after the user agrees to share them".into(),
            ));
        }
        let onset = onset_date.as_deref().map(parse_day).transpose()?;
        let client = self.client()?;
        let this = Arc::clone(&self);
        let outcome = runtime::handle()
            .spawn(async move {
                let now = this.clock.now_ms();
                keyserver::report_positive(
                    &this.store,
                    &client,
                    &code,
                    onset,
                    None,
                    now,
                    UserConsent::given(),
                )
                .await
            })
            .await
            .map_err(|e| OpenZoneError::Platform(format!("the report was interrupted: {e}")))?;
        // The key in use was ended whatever the upload's result: advertise the fresh one now.
        self.engine.rotate_now();
        Ok(outcome?.keys_uploaded as u32)
    }

    /// Downloads new exports from the key server, checks them, and returns every exposed day.
    pub async fn sync(self: Arc<Self>) -> Result<Vec<DayExposure>, OpenZoneError> {
        let client = self.client()?;
        let options = SyncOptions {
            risk: self.risk.clone(),
            ctx: self.context(),
            trust_server_keys: false,
        };
        let this = Arc::clone(&self);
        let report = runtime::handle()
            .spawn(async move { keyserver::sync(&this.store, &client, &options).await })
            .await
            .map_err(|e| OpenZoneError::Platform(format!("the sync was interrupted: {e}")))??;
        Ok(report.days.iter().map(Into::into).collect())
    }

    /// Deletes everything the phone recorded and its keys ("delete my data").
    pub fn delete_all_data(&self) -> Result<(), OpenZoneError> {
        self.store.clear()?;
        self.engine.rotate_now();
        Ok(())
    }
}

fn parse_uuid(text: &str) -> Option<uuid::Uuid> {
    text.parse().ok()
}
