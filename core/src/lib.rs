//! openzone-core: the platform-free core of the OpenZone exposure-notification app.
//!
//! # Public API
//!
//! - [`protocol`]: the identifier schemes ([`protocol::en_v1`], [`protocol::bluezone_v3`]) behind one
//!   [`protocol::Scheme`] trait, and the BLE payload codec ([`protocol::payload`]).
//! - [`sighting`]: what the radio heard ([`sighting::Sighting`]) and where it goes
//!   ([`sighting::SightingSink`]).
//! - [`export`]: published keys (signed exposure-notification exports, signed Bluezone key lists) and
//!   the ECDSA keys that sign them.
//! - [`matching`]: the index of what was heard and the key matcher; [`exposure`]: the whole check of a
//!   published batch (match, score, record).
//! - [`risk`]: exposure risk scoring ([`risk::RiskConfig`], [`risk::score`]) and BLE calibration.
//! - [`engine`]: what runs all day: rotation, duty cycles, GATT reads ([`engine::EngineCore`] as a state
//!   machine, [`engine::Engine`] on tokio); [`platform`]: the boundary the native shells implement
//!   ([`platform::BlePlatform`]) and a simulated radio.
//! - [`keyserver`]: the key server's client: sealed positive reports ([`keyserver::report_positive`]) and
//!   the sync of published exports ([`keyserver::sync()`]).
//! - [`store`]: the encrypted local store on sled ([`store::Store`]): scan instances, own keys, bookkeeping.
//! - [`checkin`]: presence tracing: venues and their QR check-in links (Corona-Warn-App's format), photos of
//!   posters, encrypted check-ins, signed warning packages, and scoring the overlap of stays.
//! - [`declaration`]: health declarations: the signed form as data, answers checked per field, the result.
//! - [`visitorlog`]: a venue's visitor log: HPKE-sealed entries only the venue reads, the server's inbox.
//! - [`time`]: the injected [`time::Clock`] and UTC calendar days.
//! - [`seeded`]: a seeded generator for what must be reproducible and need not be secret.
//! - [`Error`]: the one error type of this crate.
//!
//! [`wire`] (openzone-wire) holds what phones share with the key server: [`units`], [`time`], [`export`],
//! [`declaration`], [`seeded`] and the shared parts of [`protocol`], [`keyserver`], [`checkin`],
//! [`visitorlog`] and [`risk`], re-exported here at their usual paths. Everything else is internal.
//! `docs/architecture.md` at the repository root shows how the parts fit.

#![forbid(unsafe_code)]

pub mod checkin;
pub mod engine;
mod error;
pub mod keyserver;
pub mod matching;
pub mod phone;
pub mod platform;
pub mod protocol;
pub mod risk;
pub mod sighting;
pub mod store;
pub mod visitorlog;

pub use error::{Error, PayloadError};
// What phones share with the key server lives in openzone-wire; these paths are where the core's users
// have always found it.
pub use openzone_wire::{self as wire, declaration, export, seeded, time, units};
