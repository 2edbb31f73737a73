//! What the radio heard: one decoded payload at one moment, and where sightings go.

use crate::error::Error;
use crate::protocol::Payload;

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
    /// Received signal strength in dBm as the radio reported it, before any calibration.
    pub rssi: i8,
    /// The TX power level the advertisement carried, if the radio reported one.
    pub tx_power: Option<i8>,
    /// Receive time, UTC unix milliseconds.
    pub time_ms: u64,
    /// Advertisement or GATT read.
    pub source: Source,
}

/// Somewhere sightings are recorded: the encrypted store on a phone, a plain list in tests.
///
/// The engine talks to this trait rather than to the store so that it stays free of storage details.
pub trait SightingSink: Send + Sync {
    /// Records a batch of sightings; when it returns `Ok`, the batch is accepted (durable after the
    /// sink's next checkpoint).
    fn record(&self, sightings: &[Sighting]) -> Result<(), Error>;
}
