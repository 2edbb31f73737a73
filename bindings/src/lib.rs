//! openzone-ffi: the one door from the native shells into openzone-core, through uniffi.
//!
//! The Android (Kotlin) and iOS (Swift) shells, and Python for tests, see:
//! - [`OpenZonePhone`] ([`phone`]): opened from [`PhoneSettings`], its radio started and stopped, told
//!   about the app's state, fed scan results, asked for its current advertisement, checking exports,
//!   syncing, releasing keys and reporting a positive test; its family ([`family`]): profiles, the phone
//!   number, health declarations from the schema, and registering at a venue's visitor log with consent.
//! - Presence tracing on the same object ([`checkin`]): check in from a link or a poster's photo, check
//!   out, edit, list, the warnings found (`CheckInEntry`, [`PresenceWarningInfo`]).
//! - [`BlePlatform`] and [`PhoneListener`] ([`platform`]): foreign traits the shells implement for the
//!   radio and the UI, and [`WallClock`] to inject time in tests.
//! - [`protocol_constants`] ([`constants`]): the numbers the shells show or schedule by.
//! - [`OpenZoneError`] ([`error`]): one error enum whose messages a user can read.
//! - With the `test-support` feature only (never in the apps): `SimulatedAir` (`simulated`), the core's
//!   simulated radio, so tests can run two phones here, and `build_signed_export` (`export`).
//!
//! Every wrapper delegates in a line to [`openzone_core::phone::Phone`]; no logic lives here.

#![forbid(unsafe_code)]

pub mod checkin;
pub mod constants;
pub mod error;
#[cfg(feature = "test-support")]
pub mod export;
pub mod family;
pub mod phone;
pub mod platform;
pub mod records;
mod runtime;
#[cfg(feature = "test-support")]
pub mod simulated;

pub use checkin::PresenceWarningInfo;
pub use constants::{protocol_constants, ProtocolConstants};
pub use error::OpenZoneError;
#[cfg(feature = "test-support")]
pub use export::{build_signed_export, build_warning_package, make_classroom_link};
pub use family::{DeclarationInfo, ProfileInfo, VisitorEntryInfo};
pub use phone::OpenZonePhone;
pub use platform::{BlePlatform, PhoneListener, RadioError, WallClock};
pub use records::*;
#[cfg(feature = "test-support")]
pub use simulated::SimulatedAir;

uniffi::setup_scaffolding!();
