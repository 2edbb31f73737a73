//! The protocol's constants for the shells, so that Kotlin and Swift never write them again.

use openzone_core::units;

/// The protocol constants the shells show or schedule by (each defined once in `openzone_wire::units`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct ProtocolConstants {
    /// Days the phone keeps what it heard, and watches for exposure.
    pub retention_days: u32,
    /// Days before the onset of symptoms that a case counts as infectious.
    pub infectious_days_before_onset: u32,
    /// Digits of the officer's one-time code.
    pub code_digits: u32,
    /// Seconds in an en-v1 interval.
    pub en_interval_secs: u32,
    /// en-v1 intervals in a day.
    pub en_intervals_per_day: u32,
    /// bluezone-v3 slots in a day.
    pub bluezone_slots_per_day: u32,
    /// Seconds a GATT read may take.
    pub gatt_read_timeout_secs: u32,
    /// The RSSI value radios report when they could not measure it.
    pub rssi_unknown: i8,
}

/// The protocol constants.
#[uniffi::export]
pub fn protocol_constants() -> ProtocolConstants {
    ProtocolConstants {
        retention_days: units::RETENTION_DAYS,
        infectious_days_before_onset: units::INFECTIOUS_DAYS_BEFORE_ONSET,
        code_digits: units::CODE_DIGITS as u32,
        en_interval_secs: units::EN_INTERVAL_SECS as u32,
        en_intervals_per_day: units::EN_INTERVALS_PER_DAY,
        bluezone_slots_per_day: units::BLUEZONE_SLOTS_PER_DAY,
        gatt_read_timeout_secs: units::GATT_READ_TIMEOUT_SECS,
        rssi_unknown: units::RSSI_UNKNOWN,
    }
}
