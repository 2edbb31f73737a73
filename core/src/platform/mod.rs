//! The platform boundary: what the native shells (Android, iOS, Linux through BlueZ) do for the engine,
//! and what they tell it.
//!
//! The engine never touches a radio. It asks a [`BlePlatform`] to advertise a payload, to scan, and to read
//! a peer's GATT characteristic; the platform answers through an [`EngineInput`] handle (an advertisement
//! was seen, a GATT read finished, Bluetooth went off, the app went to the background). The handle is
//! weak: a platform that keeps it does not keep the engine alive.
//!
//! `simulated` (feature `test-support`) is a platform without a radio: a shared in-memory air with a
//! path-loss model, for tests and the school-day simulation. `bluez` (feature `desktop-ble`, Linux) is real Bluetooth LE through
//! BlueZ, for QA laptops and Raspberry Pis.

#[cfg(all(feature = "desktop-ble", target_os = "linux"))]
pub mod bluez;
#[cfg(any(test, feature = "test-support"))]
pub mod simulated;

use crate::protocol::payload::AdvertisementData;

/// An opaque handle for a peer as the platform knows it: a BLE address on Android and Linux, a
/// CoreBluetooth identifier on iOS. It changes whenever the peer rotates its address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(pub String);

/// What to advertise: the advertisement in structured form (as Android's `AdvertiseData` and BlueZ's
/// `LEAdvertisement1` take it) and as raw bytes, and the GATT characteristic's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advertising {
    /// The advertisement's fields.
    pub data: AdvertisementData,
    /// The same advertisement as raw AD structures (31 bytes at most).
    pub raw: Vec<u8>,
    /// The value the GATT characteristic must return until the next rotation.
    pub gatt_value: Vec<u8>,
}

/// What to scan for. Platforms that filter in hardware use these; the engine decodes everything it is
/// given anyway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanFilter {
    /// Service UUIDs whose advertisements matter (0x4E56, and the GATT service iPhones advertise in the
    /// foreground).
    pub service_uuids: Vec<uuid::Uuid>,
    /// Manufacturer data to report: Apple's overflow area (iPhones in the background) and Bluezone's
    /// company id.
    pub manufacturer_ids: Vec<u16>,
}

impl Default for ScanFilter {
    fn default() -> Self {
        use crate::protocol::payload::{
            APPLE_COMPANY_ID, BLUEZONE_COMPANY_ID, GATT_SERVICE_UUID, SERVICE_UUID,
        };
        Self {
            service_uuids: vec![SERVICE_UUID, GATT_SERVICE_UUID],
            manufacturer_ids: vec![APPLE_COMPANY_ID, BLUEZONE_COMPANY_ID],
        }
    }
}

/// Why the platform could not do what the engine asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PlatformError(pub String);

/// What a native shell does for the engine. Calls must return quickly: long work (a GATT connection)
/// runs in the background and reports through [`EngineInput`].
pub trait BlePlatform: Send + Sync {
    /// Starts advertising `advertising` (stopping any advertisement before it) with a fresh random
    /// address: the address must change together with the payload.
    fn start_advertising(&self, advertising: &Advertising) -> Result<(), PlatformError>;
    /// Stops advertising.
    fn stop_advertising(&self);
    /// Starts scanning with `filter`.
    fn start_scanning(&self, filter: &ScanFilter) -> Result<(), PlatformError>;
    /// Stops scanning.
    fn stop_scanning(&self);
    /// Starts reading `peer`'s GATT characteristic; the result goes to [`EngineInput::gatt_read_done`].
    fn read_gatt(&self, peer: &PeerId) -> Result<(), PlatformError>;
}

/// A phone without a radio: the command line's store, match, sync and report commands, which never start
/// it. Asked to advertise or scan anyway, it refuses, and the phone's status says so.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRadio;

impl BlePlatform for NoRadio {
    fn start_advertising(&self, _: &Advertising) -> Result<(), PlatformError> {
        Err(PlatformError("this phone has no radio".into()))
    }

    fn stop_advertising(&self) {}

    fn start_scanning(&self, _: &ScanFilter) -> Result<(), PlatformError> {
        Err(PlatformError("this phone has no radio".into()))
    }

    fn stop_scanning(&self) {}

    fn read_gatt(&self, _: &PeerId) -> Result<(), PlatformError> {
        Err(PlatformError("this phone has no radio".into()))
    }
}

/// An advertisement as the platform hands it over: raw bytes (Android's `ScanRecord`) or maps (btleplug,
/// CoreBluetooth).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeenAdvertisement {
    /// Raw AD structures.
    Raw(Vec<u8>),
    /// Service data, manufacturer data and service UUIDs as maps.
    Structured(AdvertisementData),
}

/// One advertisement as a radio received it: from whom, what, and how loud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reception {
    /// The sender, as the platform names it.
    pub peer: PeerId,
    /// What it advertised.
    pub advertisement: SeenAdvertisement,
    /// Received signal strength, dBm, as the radio reported it ([`crate::units::RSSI_UNKNOWN`] when it
    /// has none: the engine applies the one rule for that).
    pub rssi: i8,
    /// The transmit power the advertisement announced, dBm.
    pub tx_power: Option<i8>,
}

/// A permission the engine needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Scanning (Android 12+: BLUETOOTH_SCAN; before: location).
    Scan,
    /// Advertising (Android 12+: BLUETOOTH_ADVERTISE).
    Advertise,
    /// Connecting to peers for GATT reads (Android 12+: BLUETOOTH_CONNECT).
    Connect,
}

/// What a platform tells the engine. Implemented by the engine's handle.
pub trait EngineInput: Send + Sync {
    /// An advertisement was received.
    fn advertisement_seen(&self, reception: Reception);
    /// A GATT read asked for with [`BlePlatform::read_gatt`] finished.
    fn gatt_read_done(&self, peer: PeerId, result: Result<Vec<u8>, PlatformError>);
    /// Bluetooth was turned on or off.
    fn bluetooth_changed(&self, on: bool);
    /// The app went to the foreground or the background.
    fn foreground_changed(&self, foreground: bool);
    /// A permission was granted or revoked.
    fn permission_changed(&self, permission: Permission, granted: bool);
    /// The radio failed after a call had returned (Android and CoreBluetooth report advertising and scan
    /// failures in later callbacks; BlueZ may reject an advertisement late). `None` when it works again.
    fn radio_failed(&self, reason: Option<String>);
}
