//! Plain data crossing the FFI: settings in, states and results out.

use std::collections::HashMap;

use openzone_core::engine::{EngineStatus, RadioDuty, ScanMode};
use openzone_core::platform::{Advertising, Permission, ScanFilter};
use openzone_core::protocol::SchemeId;
use openzone_core::risk::{DayRisk, ProximityBand};

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

/// Everything an engine is created from.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct EngineSettings {
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
            date: openzone_core::time::format_day(d.day),
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
