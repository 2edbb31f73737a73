//! The phone object the shells hold: each method is one line into [`openzone_core::phone::Phone`], with
//! records and errors converted.

use std::collections::HashMap;
use std::sync::Arc;

use openzone_core::export::signing::SignedConfig;
use openzone_core::export::ExportFile;
use openzone_core::phone::{
    CalibrationTable, DataKey, Phone, PhoneConfig, PositiveReport, RiskConfig, UserConsent,
};
use openzone_core::platform::{EngineInput, PeerId, PlatformError, Reception, SeenAdvertisement};
use openzone_core::time::{Clock, SystemClock};

use crate::platform::{
    BlePlatform, ClockAdapter, ListenerAdapter, PhoneListener, PlatformAdapter, WallClock,
};
use crate::records::{
    advertisement_data, parse_day, AdvertisementPlan, CheckSummary, DayExposure, EngineCounters,
    EngineState, PermissionKind, PhoneSettings, RadioDutyInfo, ReportKey, StorageSummary,
    SyncSummary,
};
use crate::{runtime, OpenZoneError};

/// One phone: its radio, its store, its exposure checks and its positive report.
#[derive(uniffi::Object)]
pub struct OpenZonePhone {
    pub(crate) phone: Phone,
}

impl OpenZonePhone {
    /// The core phone (for the simulated air of the test support).
    #[cfg(feature = "test-support")]
    pub(crate) fn phone(&self) -> &Phone {
        &self.phone
    }

    /// The core phone, for the wrappers of other concerns (`checkin.rs`).
    pub(crate) fn core(&self) -> &Phone {
        &self.phone
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl OpenZonePhone {
    /// Opens the phone's store and prepares the radio (it starts with [`start`](Self::start)).
    #[uniffi::constructor]
    pub fn new(
        settings: PhoneSettings,
        platform: Arc<dyn BlePlatform>,
        listener: Option<Arc<dyn PhoneListener>>,
        clock: Option<Arc<dyn WallClock>>,
    ) -> Result<Arc<Self>, OpenZoneError> {
        let clock: Arc<dyn Clock> = match clock {
            Some(c) => Arc::new(ClockAdapter(c)),
            None => Arc::new(SystemClock),
        };
        let config = settings.into_config()?;
        let listener = listener
            .map(|l| Arc::new(ListenerAdapter(l)) as Arc<dyn openzone_core::phone::PhoneListener>);
        let phone = Phone::open(config, Arc::new(PlatformAdapter(platform)), listener, clock)?;
        Ok(Arc::new(Self { phone }))
    }

    /// Starts advertising and scanning.
    pub fn start(&self) {
        self.phone.start(&runtime::handle());
    }

    /// Stops the radio and writes what was recorded.
    pub fn stop(&self) {
        self.phone.stop();
    }

    /// The app went to the foreground (true) or the background.
    pub fn set_foreground(&self, foreground: bool) {
        self.phone.input().foreground_changed(foreground);
    }

    /// Bluetooth was turned on or off.
    pub fn set_bluetooth_enabled(&self, on: bool) {
        self.phone.input().bluetooth_changed(on);
    }

    /// A permission was granted or revoked.
    pub fn set_permission(&self, permission: PermissionKind, granted: bool) {
        self.phone
            .input()
            .permission_changed(permission.into(), granted);
    }

    /// The radio failed after a call had returned (Android's and CoreBluetooth's advertising and scan
    /// failures arrive in later callbacks); `None` when it works again.
    pub fn radio_failed(&self, reason: Option<String>) {
        self.phone.input().radio_failed(reason);
    }

    /// Continuous scanning for testers, on or off.
    pub fn set_qa_mode(&self, on: bool) {
        self.phone.set_qa_mode(on);
    }

    /// An advertisement as raw bytes (Android's `ScanRecord.getBytes()`), with the RSSI as the radio
    /// reported it (127 when unavailable: the core applies the one rule for that).
    pub fn advertisement_seen(&self, peer: String, raw: Vec<u8>, rssi: i8, tx_power: Option<i8>) {
        self.phone.input().advertisement_seen(Reception {
            peer: PeerId(peer),
            advertisement: SeenAdvertisement::Raw(raw),
            rssi,
            tx_power,
        });
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
        let data = advertisement_data(service_uuids, service_data, manufacturer_data, tx_power);
        self.phone.input().advertisement_seen(Reception {
            peer: PeerId(peer),
            advertisement: SeenAdvertisement::Structured(data),
            rssi,
            tx_power,
        });
    }

    /// A GATT read asked for with `BlePlatform::read_gatt` finished: the value, or the error.
    pub fn gatt_read_done(&self, peer: String, value: Option<Vec<u8>>, error: Option<String>) {
        let result =
            value.ok_or_else(|| PlatformError(error.unwrap_or_else(|| "the read failed".into())));
        self.phone.input().gatt_read_done(PeerId(peer), result);
    }

    /// What the phone advertises now, if it advertises.
    pub fn current_advertisement(&self) -> Option<AdvertisementPlan> {
        self.phone.advertising().as_ref().map(Into::into)
    }

    /// The value the GATT characteristic must return now (the shells serve it to peers).
    pub fn current_gatt_value(&self) -> Option<Vec<u8>> {
        self.phone.advertising().map(|a| a.gatt_value)
    }

    /// The radio's state.
    pub fn state(&self) -> EngineState {
        (&self.phone.radio_status()).into()
    }

    /// Counters for the QA screen.
    pub fn counters(&self) -> EngineCounters {
        self.phone.radio_stats().into()
    }

    /// The radio duty of each mode (background, foreground, QA).
    pub fn radio_duty(&self) -> Vec<RadioDutyInfo> {
        self.phone.radio_duties().map(Into::into).to_vec()
    }

    /// Every day with a recorded exposure, oldest first.
    pub fn exposure_days(&self) -> Result<Vec<DayExposure>, OpenZoneError> {
        Ok(self.phone.exposure_days()?.iter().map(Into::into).collect())
    }

    /// Checks a downloaded export (a zip) against what this phone heard, off the caller's thread:
    /// `export.bin` streams out of the zip, never inflated whole.
    pub async fn process_export(&self, zip: Vec<u8>) -> Result<CheckSummary, OpenZoneError> {
        let phone = self.phone.clone();
        let check = move || phone.process_export(ExportFile::from_zip_bytes(zip)?);
        Ok((&runtime::blocking(check).await??).into())
    }

    /// Releases the keys of the infectious window without uploading them: only with `consent` true,
    /// given after showing the user what is shared. The key in use ends now and the phone rotates to a
    /// fresh one. `onset_date` (`YYYY-MM-DD`) starts the window 2 days earlier; without it, 2 days before
    /// today.
    pub fn release_keys(
        &self,
        consent: bool,
        onset_date: Option<String>,
    ) -> Result<Vec<ReportKey>, OpenZoneError> {
        let onset = onset_date.as_deref().map(parse_day).transpose()?;
        Ok(ReportKey::released(self.phone.release_keys(
            onset,
            None,
            consent_given(consent)?,
        )?))
    }

    /// Reports a positive test to the key server with the officer's one-time `code` (only with
    /// `consent`), sealing the keys to the server; the phone rotates to a fresh key first. Returns the
    /// number of keys uploaded.
    pub async fn report_positive(
        &self,
        code: String,
        onset_date: Option<String>,
        consent: bool,
    ) -> Result<u32, OpenZoneError> {
        let report = PositiveReport {
            code,
            onset_day: onset_date.as_deref().map(parse_day).transpose()?,
            test_day: None,
            consent: consent_given(consent)?,
        };
        let phone = self.phone.clone();
        let outcome = runtime::spawn(async move { phone.report_positive(report).await }).await??;
        Ok(outcome.keys_uploaded as u32)
    }

    /// Downloads new exports from the key server and checks them; the listener hears of days newly at
    /// risk, once per day.
    pub async fn sync(&self) -> Result<SyncSummary, OpenZoneError> {
        let phone = self.phone.clone();
        Ok((&runtime::spawn(async move { phone.sync().await }).await??).into())
    }

    /// Sends a fake upload the key server drops and answers like a report, for apps that schedule chaff
    /// themselves (`sync` already sends one after about one sync in 20); returns the keys it pretended to
    /// carry.
    pub async fn send_chaff(&self) -> Result<u32, OpenZoneError> {
        let phone = self.phone.clone();
        let pretended = runtime::spawn(async move { phone.send_chaff().await }).await??;
        Ok(u32::try_from(pretended).unwrap_or(u32::MAX))
    }

    /// What the store holds, for the settings screen.
    pub fn storage(&self) -> Result<StorageSummary, OpenZoneError> {
        Ok((&self.phone.storage_stats()?).into())
    }

    /// Deletes everything the phone recorded and its keys ("delete my data"); from now on it seals
    /// under `new_data_key` (32 bytes the app has just put in the platform keystore in place of the old
    /// key).
    pub fn delete_all_data(&self, new_data_key: Vec<u8>) -> Result<(), OpenZoneError> {
        Ok(self
            .phone
            .delete_all_data(&DataKey::from_file_contents(&new_data_key)?)?)
    }
}

impl PhoneSettings {
    fn into_config(self) -> Result<PhoneConfig, OpenZoneError> {
        let d = &self.device;
        let mut config =
            PhoneConfig::new(&self.data_dir, DataKey::from_file_contents(&self.data_key)?);
        config.scheme = self.scheme.into();
        config.calibration =
            CalibrationTable::builtin().lookup(&d.manufacturer, &d.device, &d.model);
        if let Some(json) = &self.risk_config_json {
            config.risk = RiskConfig::from_json(json.as_bytes())?;
        }
        config.export_keys = self
            .export_keys
            .iter()
            .map(TryInto::try_into)
            .collect::<Result<_, _>>()?;
        config.key_server = self.key_server()?;
        Ok(config)
    }
}

pub(crate) fn consent_given(consent: bool) -> Result<UserConsent, OpenZoneError> {
    if consent {
        Ok(UserConsent::given())
    } else {
        Err(OpenZoneError::ConsentRequired(
            "the keys are shared only after the user agrees to share them".into(),
        ))
    }
}
