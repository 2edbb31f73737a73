//! Rotating identifiers and what goes on air.
//!
//! The schemes ([`en_v1`], [`bluezone_v3`]) and their [`Scheme`] trait are openzone-wire's, shared with the
//! key server; [`payload`] turns an identifier into advertisement bytes and GATT values, and back, which
//! only phones do.

pub use openzone_wire::protocol::*;

pub mod payload;
