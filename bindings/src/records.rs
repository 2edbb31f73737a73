//! Plain data crossing the FFI: settings in, states and results out.

use std::collections::HashMap;

use openzone_core::engine::{EngineStats, EngineStatus, RadioDuty, ScanMode};
use openzone_core::export::signing::VerificationKey;
use openzone_core::phone::{
    CheckReport, ClientConfig, DayRisk, KeyServerClient, ProximityBand, ReleasedKeys,
    SealingPublicKey, StoreStats, SyncReport,
};
use openzone_core::platform::{Advertising, Permission, ScanFilter};
use openzone_core::protocol::payload::AdvertisementData;
use openzone_core::protocol::SchemeId;
use openzone_core::time::format_day;

use crate::OpenZoneError;

/// The identifier scheme a phone speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum IdentifierScheme {
    /// Exposure Notification cryptography v1.2 (the default).
    EnV1,
    /// Bluezone 3.x compatibility.
    BluezoneV3,
}

impl From<IdentifierScheme> for SchemeId {
    fn from(s: IdentifierScheme) -> Self {
        match s {
            IdentifierScheme::EnV1 => SchemeId::EnV1,
            IdentifierScheme::BluezoneV3 => SchemeId::BluezoneV3,
        }
    }
}

/// The phone model, as `android.os.Build` (or `utsname` on iOS) names it, for its BLE calibration.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceModel {
    /// `Build.MANUFACTURER`.
    pub manufacturer: String,
    /// `Build.DEVICE`.
    pub device: String,
    /// `Build.MODEL`.
    pub model: String,
}

/// A public key that signs published exports.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ExportPublicKey {
    /// Key id as exports name it.
    pub key_id: String,
    /// Key version as exports name it.
    pub version: String,
    /// PEM `PUBLIC KEY`.
    pub pem: String,
}

impl TryFrom<&ExportPublicKey> for VerificationKey {
    type Error = OpenZoneError;

    fn try_from(k: &ExportPublicKey) -> Result<Self, OpenZoneError> {
        Ok(VerificationKey::from_pem(&k.key_id, &k.version, &k.pem)?)
    }
}

/// Everything a phone is opened with: what the platform gives and what the app was built with.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PhoneSettings {
    /// A directory private to the app (created if missing).
    pub data_dir: String,
    /// 32 bytes from the platform keystore (Android Keystore, iOS Keychain).
    pub data_key: Vec<u8>,
    /// The identifier scheme.
    pub scheme: IdentifierScheme,
    /// This phone, for calibration.
    pub device: DeviceModel,
    /// A risk configuration as JSON (as the health authority publishes it), or none for the default.
    pub risk_config_json: Option<String>,
    /// The key server, e.g. `https://keys.example.vn`, or none.
    pub key_server_url: Option<String>,
    /// Keys that sign published exports (pinned in the app).
    pub export_keys: Vec<ExportPublicKey>,
    /// The key server's upload sealing keys (X25519, base64), pinned in the app: the current one, and
    /// during a rotation the next. Empty: the key the server's `/v1/config` announces is used.
    pub upload_sealing_keys: Vec<String>,
}

impl PhoneSettings {
    /// The key-server client these settings describe, if they name a server.
    pub(crate) fn key_server(&self) -> Result<Option<KeyServerClient>, OpenZoneError> {
        let Some(url) = &self.key_server_url else {
            return Ok(None);
        };
        let config = ClientConfig {
            pinned_sealing_keys: self
                .upload_sealing_keys
                .iter()
                .map(|k| SealingPublicKey::from_base64(k))
                .collect::<Result<_, _>>()?,
            ..ClientConfig::new(url)
        };
        Ok(Some(KeyServerClient::new(config)?))
    }
}

/// Advertisement fields as CoreBluetooth reports them, for the core's decoder: UUID strings that do not
/// parse are ignored.
pub(crate) fn advertisement_data(
    service_uuids: Vec<String>,
    service_data: HashMap<String, Vec<u8>>,
    manufacturer_data: HashMap<u16, Vec<u8>>,
    tx_power: Option<i8>,
) -> AdvertisementData {
    let parse = |u: &str| u.parse::<uuid::Uuid>().ok();
    AdvertisementData {
        service_uuids: service_uuids.iter().filter_map(|u| parse(u)).collect(),
        service_data: service_data
            .into_iter()
            .filter_map(|(u, v)| Some((parse(&u)?, v)))
            .collect(),
        manufacturer_data: manufacturer_data.into_iter().collect(),
        tx_power,
    }
}

/// A `YYYY-MM-DD` date from the UI as a UTC day number.
pub(crate) fn parse_day(text: &str) -> Result<u32, OpenZoneError> {
    Ok(openzone_core::time::parse_day(text).map_err(openzone_core::Error::from)?)
}

/// What to advertise, in the forms the platforms take.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AdvertisementPlan {
    /// The raw AD structures (31 bytes at most).
    pub raw: Vec<u8>,
    /// Service UUIDs to list (strings, lower case).
    pub service_uuids: Vec<String>,
    /// Service data by service UUID.
    pub service_data: HashMap<String, Vec<u8>>,
    /// Manufacturer data by company id.
    pub manufacturer_data: HashMap<u16, Vec<u8>>,
    /// What the GATT characteristic returns.
    pub gatt_value: Vec<u8>,
    /// The GATT service UUID to publish.
    pub gatt_service_uuid: String,
    /// The GATT characteristic UUID to publish.
    pub gatt_characteristic_uuid: String,
}

impl From<&Advertising> for AdvertisementPlan {
    fn from(a: &Advertising) -> Self {
        use openzone_core::protocol::payload::{GATT_CHARACTERISTIC_UUID, GATT_SERVICE_UUID};
        Self {
            raw: a.raw.clone(),
            service_uuids: a.data.service_uuids.iter().map(|u| u.to_string()).collect(),
            service_data: a
                .data
                .service_data
                .iter()
                .map(|(u, v)| (u.to_string(), v.clone()))
                .collect(),
            manufacturer_data: a.data.manufacturer_data.iter().cloned().collect(),
            gatt_value: a.gatt_value.clone(),
            gatt_service_uuid: GATT_SERVICE_UUID.to_string(),
            gatt_characteristic_uuid: GATT_CHARACTERISTIC_UUID.to_string(),
        }
    }
}

/// What to scan for (platforms with hardware filters use it).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ScanFilterSpec {
    /// Service UUIDs to report.
    pub service_uuids: Vec<String>,
    /// Manufacturer ids to report (Apple's, for iPhones in the background; Bluezone's).
    pub manufacturer_ids: Vec<u16>,
}

impl From<&ScanFilter> for ScanFilterSpec {
    fn from(f: &ScanFilter) -> Self {
        Self {
            service_uuids: f.service_uuids.iter().map(|u| u.to_string()).collect(),
            manufacturer_ids: f.manufacturer_ids.clone(),
        }
    }
}

/// A permission the engine needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PermissionKind {
    /// Scanning.
    Scan,
    /// Advertising.
    Advertise,
    /// Connecting (GATT reads).
    Connect,
}

impl From<PermissionKind> for Permission {
    fn from(p: PermissionKind) -> Self {
        match p {
            PermissionKind::Scan => Permission::Scan,
            PermissionKind::Advertise => Permission::Advertise,
            PermissionKind::Connect => Permission::Connect,
        }
    }
}

impl From<Permission> for PermissionKind {
    fn from(p: Permission) -> Self {
        match p {
            Permission::Scan => PermissionKind::Scan,
            Permission::Advertise => PermissionKind::Advertise,
            Permission::Connect => PermissionKind::Connect,
        }
    }
}

/// How the engine scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ScanModeKind {
    /// The app is in the background.
    Background,
    /// The app is open.
    Foreground,
    /// Continuous scanning for testers.
    Qa,
}

impl From<ScanMode> for ScanModeKind {
    fn from(m: ScanMode) -> Self {
        match m {
            ScanMode::Background => Self::Background,
            ScanMode::Foreground => Self::Foreground,
            ScanMode::Qa => Self::Qa,
        }
    }
}

/// What the engine is doing: when it is not working, the one thing to fix.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum EngineState {
    /// Not started.
    Stopped,
    /// Working, in this mode.
    Running {
        /// The scan mode.
        mode: ScanModeKind,
    },
    /// Bluetooth is off: turn it on.
    BluetoothOff,
    /// A permission is missing: grant it.
    PermissionMissing {
        /// Which one.
        permission: PermissionKind,
    },
    /// The platform refused (the message says what it said).
    Failing {
        /// What the platform said.
        message: String,
    },
}

impl From<&EngineStatus> for EngineState {
    fn from(s: &EngineStatus) -> Self {
        match s {
            EngineStatus::Stopped => Self::Stopped,
            EngineStatus::Running(m) => Self::Running { mode: (*m).into() },
            EngineStatus::BluetoothOff => Self::BluetoothOff,
            EngineStatus::PermissionMissing(p) => Self::PermissionMissing {
                permission: (*p).into(),
            },
            EngineStatus::Failing(m) => Self::Failing { message: m.clone() },
        }
    }
}

/// Counters for the QA screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct EngineCounters {
    /// Scan windows.
    pub scans: u64,
    /// Rotations.
    pub rotations: u64,
    /// Sightings recorded.
    pub sightings: u64,
    /// Sightings recorded today.
    pub sightings_today: u64,
    /// GATT reads that returned a payload.
    pub gatt_reads_ok: u64,
    /// GATT reads that failed.
    pub gatt_reads_failed: u64,
}

impl From<EngineStats> for EngineCounters {
    fn from(s: EngineStats) -> Self {
        Self {
            scans: s.scans,
            rotations: s.rotations,
            sightings: s.sightings,
            sightings_today: s.sightings_today,
            gatt_reads_ok: s.gatt_reads_ok,
            gatt_reads_failed: s.gatt_reads_failed,
        }
    }
}

/// The radio duty of a mode: what the battery pays for.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct RadioDutyInfo {
    /// The mode.
    pub mode: ScanModeKind,
    /// Share of time scanning.
    pub scanning: f64,
    /// Share of time advertising.
    pub advertising: f64,
    /// Share of time the radio is busy.
    pub total: f64,
}

impl From<RadioDuty> for RadioDutyInfo {
    fn from(d: RadioDuty) -> Self {
        Self {
            mode: d.mode.into(),
            scanning: d.scanning,
            advertising: d.advertising,
            total: d.total,
        }
    }
}

/// How close the closest contact of a day was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Proximity {
    /// Below the first attenuation threshold.
    Immediate,
    /// Below the second.
    Near,
    /// Below the third.
    Medium,
    /// Beyond.
    Far,
}

impl From<ProximityBand> for Proximity {
    fn from(p: ProximityBand) -> Self {
        match p {
            ProximityBand::Immediate => Self::Immediate,
            ProximityBand::Near => Self::Near,
            ProximityBand::Medium => Self::Medium,
            ProximityBand::Far => Self::Far,
        }
    }
}

/// The exposure of one day: what the user is told (never who, or where).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DayExposure {
    /// The UTC date, `YYYY-MM-DD`.
    pub date: String,
    /// Whether the day reaches the health authority's threshold.
    pub at_risk: bool,
    /// Weighted minutes of exposure.
    pub weighted_minutes: f64,
    /// How close the closest contact was.
    pub closest: Proximity,
    /// Some signal strengths were estimated (Bluezone peers announce none).
    pub estimated: bool,
}

impl From<&DayRisk> for DayExposure {
    fn from(d: &DayRisk) -> Self {
        Self {
            date: format_day(d.day),
            at_risk: d.at_risk,
            weighted_minutes: d.weighted_minutes,
            closest: d.closest.into(),
            estimated: d.tx_power_estimated,
        }
    }
}

/// What processing one export did.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CheckSummary {
    /// The export had been processed before; nothing changed.
    pub already_processed: bool,
    /// Keys read.
    pub keys_processed: u64,
    /// Keys that matched.
    pub keys_matched: u64,
    /// The days the export added exposure to.
    pub days: Vec<DayExposure>,
    /// The days that became at risk with this export (`YYYY-MM-DD`); the listener was told of each.
    pub newly_at_risk: Vec<String>,
}

impl From<&CheckReport> for CheckSummary {
    fn from(r: &CheckReport) -> Self {
        Self {
            already_processed: r.already_processed,
            keys_processed: r.keys_processed,
            keys_matched: r.keys_matched,
            days: r.days.iter().map(Into::into).collect(),
            newly_at_risk: r.newly_at_risk.iter().map(|&d| format_day(d)).collect(),
        }
    }
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SyncSummary {
    /// Every day with a recorded exposure, oldest first.
    pub days: Vec<DayExposure>,
    /// The days that became at risk in this sync (`YYYY-MM-DD`); the listener was told of each.
    pub newly_at_risk: Vec<String>,
    /// Exports checked in this sync.
    pub exports_checked: u32,
    /// Exports that could not be used (damaged or badly signed) and will not be downloaded again.
    pub exports_rejected: u32,
    /// Exports whose download failed; the next sync tries them again.
    pub exports_failed: u32,
    /// Bytes downloaded.
    pub bytes_downloaded: u64,
    /// Regions chosen with `set_regions` that the key server publishes nothing for.
    pub regions_not_published: Vec<String>,
}

impl From<&SyncReport> for SyncSummary {
    fn from(r: &SyncReport) -> Self {
        Self {
            days: r.days.iter().map(Into::into).collect(),
            newly_at_risk: r.newly_at_risk.iter().map(|&d| format_day(d)).collect(),
            exports_checked: r.exports_checked as u32,
            exports_rejected: r.exports_rejected.len() as u32,
            exports_failed: r.exports_failed.len() as u32,
            bytes_downloaded: r.bytes_downloaded,
            regions_not_published: r.regions_not_published.clone(),
        }
    }
}

/// What the phone keeps, for the settings screen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StorageSummary {
    /// Days with something heard.
    pub days_recorded: u32,
    /// Scan instances kept (one per identifier heard per scan window).
    pub scan_instances: u64,
    /// Own keys kept.
    pub own_keys: u64,
    /// Bytes on disk.
    pub bytes_on_disk: u64,
}

impl From<&StoreStats> for StorageSummary {
    fn from(s: &StoreStats) -> Self {
        let mut days: Vec<u32> = s.days.iter().map(|d| d.day).collect();
        days.dedup();
        Self {
            days_recorded: days.len() as u32,
            scan_instances: s.days.iter().map(|d| d.instances).sum(),
            own_keys: s.own_en_keys,
            bytes_on_disk: s.bytes_on_disk,
        }
    }
}

/// A key released for a positive report.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReportKey {
    /// The Temporary Exposure Key, hex.
    pub key_data: String,
    /// Its first interval.
    pub rolling_start_interval: u32,
    /// Its intervals.
    pub rolling_period: u32,
    /// Days from its day to the onset of symptoms, if known.
    pub days_since_onset: Option<i32>,
}

impl ReportKey {
    /// The en-v1 keys of a release, as the shells show and upload them.
    pub(crate) fn released(r: ReleasedKeys) -> Vec<ReportKey> {
        r.en_v1
            .iter()
            .zip(r.days_since_onset)
            .map(|(k, days_since_onset)| ReportKey {
                key_data: hex::encode(k.tek.as_bytes()),
                rolling_start_interval: k.rolling_start_interval,
                rolling_period: k.rolling_period,
                days_since_onset,
            })
            .collect()
    }
}
