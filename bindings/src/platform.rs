//! The foreign traits the shells implement, and their adapters to the core's traits.
//!
//! Callbacks come from the core's threads: implementations must be thread-safe and should hand UI work to
//! the UI thread. A [`BlePlatform`] must not call back into the engine before returning (the engine is in
//! the middle of a step); report results later, from the platform's own callbacks.

use std::sync::Arc;

use openzone_core::engine::EngineStatus;
use openzone_core::phone::{self as core_phone, DayRisk, SyncProgress};
use openzone_core::platform::{
    self as core_platform, Advertising, PeerId, PlatformError, ScanFilter,
};

use crate::checkin::PresenceWarningInfo;
use crate::records::{AdvertisementPlan, DayExposure, EngineState, ScanFilterSpec};

/// What a shell raises when the radio refuses (advertising unsupported, Bluetooth off, too many scans).
/// Separate from `OpenZoneError`, which only the core raises: a shell must be able to construct it.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum RadioError {
    /// The radio refused, for this reason.
    #[error("{reason}")]
    Refused {
        /// What the platform said, for the QA screen.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for RadioError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Refused {
            reason: format!("the app's radio callback failed: {}", e.reason),
        }
    }
}

/// The radio, as the shell drives it (Android BluetoothLeAdvertiser/Scanner and GATT; CoreBluetooth).
#[uniffi::export(with_foreign)]
pub trait BlePlatform: Send + Sync {
    /// Advertise this (with a fresh random address), replacing any earlier advertisement, and serve its
    /// GATT value.
    fn start_advertising(&self, plan: AdvertisementPlan) -> Result<(), RadioError>;
    /// Stop advertising.
    fn stop_advertising(&self);
    /// Start scanning.
    fn start_scanning(&self, filter: ScanFilterSpec) -> Result<(), RadioError>;
    /// Stop scanning.
    fn stop_scanning(&self);
    /// Start reading `peer`'s GATT characteristic; report with `OpenZonePhone::gatt_read_done`.
    fn read_gatt(&self, peer: String) -> Result<(), RadioError>;
}

/// What the app hears from its phone.
#[uniffi::export(with_foreign)]
pub trait PhoneListener: Send + Sync {
    /// The radio's state changed.
    fn state_changed(&self, state: EngineState);
    /// A scan window ended; `today` sightings were recorded today so far.
    fn sightings_recorded(&self, today: u64);
    /// A day became at risk: show the notification. Called once per day, never again for that day.
    fn day_at_risk(&self, day: DayExposure);
    /// A confirmed case was at a venue the user checked into, at the same time: show the notification
    /// (the venue may be named: it is the user's own record). Called once per check-in and day.
    fn presence_warning(&self, warning: PresenceWarningInfo);
    /// A sync has checked `done` of `total` new exports.
    fn sync_progress(&self, done: u32, total: u32);
    /// Something the user may need to act on.
    fn error(&self, message: String);
}

/// The wall clock, UTC unix milliseconds (tests inject one; apps leave it out).
#[uniffi::export(with_foreign)]
pub trait WallClock: Send + Sync {
    /// Now.
    fn now_ms(&self) -> u64;
}

pub(crate) struct PlatformAdapter(pub(crate) Arc<dyn BlePlatform>);

fn failure(e: RadioError) -> PlatformError {
    PlatformError(e.to_string())
}

impl core_platform::BlePlatform for PlatformAdapter {
    fn start_advertising(&self, advertising: &Advertising) -> Result<(), PlatformError> {
        self.0
            .start_advertising(advertising.into())
            .map_err(failure)
    }

    fn stop_advertising(&self) {
        self.0.stop_advertising();
    }

    fn start_scanning(&self, filter: &ScanFilter) -> Result<(), PlatformError> {
        self.0.start_scanning(filter.into()).map_err(failure)
    }

    fn stop_scanning(&self) {
        self.0.stop_scanning();
    }

    fn read_gatt(&self, peer: &PeerId) -> Result<(), PlatformError> {
        self.0.read_gatt(peer.0.clone()).map_err(failure)
    }
}

pub(crate) struct ListenerAdapter(pub(crate) Arc<dyn PhoneListener>);

impl core_phone::PhoneListener for ListenerAdapter {
    fn radio_status_changed(&self, status: &EngineStatus) {
        self.0.state_changed(status.into());
    }

    fn sightings_recorded(&self, today: u64) {
        self.0.sightings_recorded(today);
    }

    fn day_at_risk(&self, day: &DayRisk) {
        self.0.day_at_risk(day.into());
    }

    fn presence_warning(&self, warning: &core_phone::PresenceWarning) {
        self.0.presence_warning(warning.into());
    }

    fn sync_progress(&self, progress: SyncProgress) {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        self.0
            .sync_progress(count(progress.exports_done), count(progress.exports_total));
    }

    fn error(&self, error: &openzone_core::Error) {
        self.0.error(error.to_string());
    }
}

pub(crate) struct ClockAdapter(pub(crate) Arc<dyn WallClock>);

impl openzone_core::time::Clock for ClockAdapter {
    fn now_ms(&self) -> u64 {
        self.0.now_ms()
    }
}
