//! Presence tracing: QR check-in at school gates and rooms, and warnings for the places a confirmed case
//! visited, interoperable with Corona-Warn-App's event registration.
//!
//! The formats the key server shares (venues, check-in links, encrypted check-ins, warning packages) are
//! openzone-wire's, re-exported here. The phone's parts are here:
//!
//! - [`image`]: reading a venue's QR code from a photo of its poster;
//! - [`scoring`]: matching published check-ins against one's own and scoring the overlap, with a
//!   signable configuration modelled on CWA's presence-tracing parameters.
//!
//! `docs/checkin.md` explains the design, the formats and what each party can learn.

pub use openzone_wire::checkin::*;

pub mod image;
pub mod scoring;
