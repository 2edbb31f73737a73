//! openzone-core: the platform-free core of the OpenZone exposure-notification app.
//!
//! # Public API
//!
//! - [`phone`]: [`phone::Phone`], the one object an app holds: opened on a data directory with the
//!   platform's data key, it owns the engine, the store, the risk configuration and the key-server client,
//!   and does what a phone does (radio, sightings, sync, positive report, check-ins, family profiles),
//!   telling a [`phone::PhoneListener`] what happened.
//! - [`engine`]: what runs all day: rotation, duty cycles, GATT reads ([`engine::EngineCore`] as a state
//!   machine, [`engine::Engine`] on tokio); [`platform`]: the boundary the native shells implement
//!   ([`platform::BlePlatform`], answered through [`platform::EngineInput`]).
//! - [`sighting`]: what the radio heard ([`sighting::Sighting`]) and the one rule for unknown RSSI.
//! - [`protocol`]: the identifier schemes and the BLE payload codec ([`protocol::payload`]).
//! - [`matching`]: the index of what was heard and the key matcher.
//! - [`risk`]: exposure risk scoring ([`risk::RiskConfig`], [`risk::score`]) and BLE calibration.
//! - [`keyserver`]: the key server's HTTP client ([`keyserver::KeyServerClient`]).
//! - [`store`]: the encrypted local store on sled ([`store::Store`]): scan instances, own keys, check-ins,
//!   profiles, bookkeeping.
//! - [`checkin`]: presence tracing: QR check-in links and photos of posters, and scoring the overlap of
//!   stays.
//! - [`visitorlog`]: a venue's visitor log: entries sealed so that only the venue reads them.
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
