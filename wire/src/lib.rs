//! openzone-wire: what OpenZone phones and the key server share, so that the server does not depend on
//! the phone's engine, store and matching (openzone-core), and neither side's formats can drift.
//!
//! # Public API
//!
//! - [`units`]: every protocol constant (intervals, slots, retention, the infectious window, upload
//!   limits, code length, RSSI "unknown") with its source, and the arithmetic between days, intervals
//!   and slots.
//! - [`time`]: the injected [`time::Clock`] and UTC calendar days.
//! - [`protocol`]: the identifier schemes ([`protocol::en_v1`], [`protocol::bluezone_v3`]) behind one
//!   [`protocol::Scheme`] trait: exposure keys and the identifiers they generate.
//! - [`export`]: published keys (signed exposure-notification exports, signed Bluezone key lists), the
//!   ECDSA keys that sign them, and signed JSON documents.
//! - [`keyserver`]: the sealed upload ([`keyserver::seal`]) and the JSON phone and key server exchange
//!   ([`keyserver::wire`]).
//! - [`checkin`]: presence tracing's shared formats: venues and their QR check-in links (Corona-Warn-App's
//!   format), encrypted check-ins, signed warning packages.
//! - [`visitorlog`]: a venue's visitor log: HPKE-sealed entries only the venue reads, the server's inbox.
//! - [`declaration`]: health declarations: the signed form as data, answers checked per field, the result.
//! - [`risk`]: the risk configuration a health authority publishes ([`risk::RiskConfig`]), and scoring.
//! - [`seeded`]: a seeded generator for what must be reproducible and need not be secret.
//! - [`Error`]: the one error type of this crate.
//!
//! `docs/architecture.md` at the repository root shows where this crate sits.

#![forbid(unsafe_code)]

pub mod checkin;
pub mod declaration;
mod error;
pub mod export;
pub mod keyserver;
pub mod protocol;
pub mod risk;
pub mod seeded;
pub mod time;
pub mod units;
pub mod visitorlog;

pub use error::{CheckInError, DeclarationError, Error, FieldError};
