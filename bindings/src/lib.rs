//! openzone-ffi: the one door from the native shells into openzone-core, through uniffi.
//!
//! The Android (Kotlin) and iOS (Swift) shells, and Python for tests, see:
//! - [`OpenZoneEngine`] ([`engine`]): created from [`EngineSettings`], started and stopped, told about
//!   the app's state, fed scan results, asked for its current advertisement, processing exports,
//!   releasing keys for a positive report, reporting and syncing with the key server.
//! - [`BlePlatform`] and [`EngineListener`] ([`platform`]): foreign traits the shells implement for the
//!   radio and the UI, and [`WallClock`] to inject time in tests.
//! - [`OpenZoneError`] ([`error`]): one error enum whose messages a user can read.
//! - [`SimulatedAir`] ([`simulated`]): the core's simulated radio, so tests can run two engines here.
//! - [`build_signed_export`] and friends ([`export`]): for tests and QA tools.
//!
//! Every wrapper delegates in a line or two to the core; no logic lives here.

#![forbid(unsafe_code)]

pub mod engine;
pub mod error;
pub mod export;
pub mod platform;
pub mod records;
mod runtime;
pub mod simulated;

pub use engine::OpenZoneEngine;
pub use error::OpenZoneError;
pub use export::build_signed_export;
pub use platform::{BlePlatform, EngineListener, RadioError, WallClock};
pub use records::*;
pub use simulated::SimulatedAir;

uniffi::setup_scaffolding!();
