//! Exposure risk scoring: what the user is told.
//!
//! The configuration a health authority publishes and the scoring are openzone-wire's (the key server
//! serves the configuration), re-exported here; this phone's BLE [`calibration`] is here.

pub use openzone_wire::risk::*;

pub mod calibration;
