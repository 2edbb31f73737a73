//! What the radio heard: one decoded payload at one moment, and the rule for its signal strength.

use crate::protocol::Payload;
pub use crate::units::RSSI_UNKNOWN;

/// How a payload reached this phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// Broadcast in an advertisement (Android phones, iPhones in the foreground).
    Advertisement,
    /// Read from the peer's GATT characteristic (iPhones in the background).
    GattRead,
}

/// One reception of a peer's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sighting {
    /// The identifier (and AEM) heard.
    pub payload: Payload,
    /// Received signal strength in dBm as the radio reported it, before any calibration;
    /// [`RSSI_UNKNOWN`] when the radio could not measure it.
    pub rssi: i8,
    /// The TX power level the advertisement carried, if the radio reported one.
    pub tx_power: Option<i8>,
    /// Receive time, UTC unix milliseconds.
    pub time_ms: u64,
    /// Advertisement or GATT read.
    pub source: Source,
}

impl Sighting {
    /// The one rule for what a radio reports as RSSI, applied where a sighting enters the phone: values
    /// outside the Bluetooth specification's range for a received signal (-127 to +20 dBm; Bluetooth
    /// Core 5.3, Vol 4, Part E, 7.7.65.2) mean "not available", whichever platform clamped or passed them
    /// on, and become [`RSSI_UNKNOWN`]. Such a sighting still proves the peer was there; risk scoring
    /// gives it no attenuation.
    pub fn admitted(&self) -> Sighting {
        Sighting {
            rssi: if (-127..=20).contains(&self.rssi) {
                self.rssi
            } else {
                RSSI_UNKNOWN
            },
            ..*self
        }
    }

    /// Whether the radio measured this sighting's signal strength.
    pub fn rssi_known(&self) -> bool {
        self.rssi != RSSI_UNKNOWN
    }
}
