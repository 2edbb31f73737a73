//! The one error type foreign callers see: few variants, each one a situation the app can act on, with
//! a message a user can read. Converted from the core's detailed error in one place.

use openzone_core::checkin::CheckInError;
use openzone_core::wire::Error as Wire;
use openzone_core::Error as Core;

/// What went wrong, for the app.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum OpenZoneError {
    /// An argument was wrong (a key, a date, a setting): fix the input.
    #[error("{0}")]
    InvalidInput(String),
    /// The data key does not open the store: the keystore lost or changed it.
    #[error("{0}")]
    WrongDataKey(String),
    /// The store cannot be used (disk full, damaged, in use, not writable).
    #[error("{0}")]
    Storage(String),
    /// Published data failed its signature or format checks and was not used.
    #[error("{0}")]
    UntrustedData(String),
    /// The key server could not be reached or refused the request.
    #[error("{0}")]
    Network(String),
    /// Keys are only released after the user explicitly agreed.
    #[error("{0}")]
    ConsentRequired(String),
    /// The native platform failed (Bluetooth, a callback).
    #[error("{0}")]
    Platform(String),
}

impl From<Core> for OpenZoneError {
    fn from(e: Core) -> Self {
        let message = e.to_string();
        match e {
            Core::Wire(e) => e.into(),
            Core::WrongDataKey => Self::WrongDataKey(message),
            Core::StoreIo { .. }
            | Core::StoreCorrupt(_)
            | Core::StoreLocked { .. }
            | Core::DiskFull { .. }
            | Core::NotAStore { .. }
            | Core::UnsupportedStoreVersion { .. } => Self::Storage(message),
            Core::Advertisement { .. } | Core::Payload(_) => Self::UntrustedData(message),
            Core::KeyServerRejected { .. }
            | Core::KeyServerUnreachable { .. }
            | Core::KeyServerResponse(_) => Self::Network(message),
            // Keys, dates, codes, settings, check-in codes and times: what the caller passed in.
            _ => Self::InvalidInput(message),
        }
    }
}

impl From<Wire> for OpenZoneError {
    fn from(e: Wire) -> Self {
        let message = e.to_string();
        match e {
            Wire::File { .. } => Self::Storage(message),
            Wire::Export(_)
            | Wire::Signature(_)
            | Wire::CheckIn(CheckInError::WarningPackage(_) | CheckInError::Report(_)) => {
                Self::UntrustedData(message)
            }
            Wire::Random => Self::Platform(message),
            // Keys, dates, codes, settings, check-in codes and times: what the caller passed in.
            _ => Self::InvalidInput(message),
        }
    }
}
