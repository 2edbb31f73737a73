//! openzone-wire: what OpenZone phones and the key server share, so that neither depends on the other.
//!
//! # Public API
//!
//! - [`units`]: every protocol constant (intervals, slots, retention, the infectious window, upload
//!   limits, code length, RSSI "unknown") with its source, and the arithmetic between days, intervals
//!   and slots.
//! - [`time`]: the injected [`time::Clock`] and UTC calendar days.
//! - [`Error`]: the one error type of this crate.
//!
//! `docs/architecture.md` at the repository root shows where this crate sits.

#![forbid(unsafe_code)]

mod error;
pub mod time;
pub mod units;

pub use error::Error;
