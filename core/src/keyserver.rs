//! The phone's side of the key server: the HTTP client, and the formats both sides share.
//!
//! - [`seal`]: the sealed upload format, shared with the server (openzone-wire).
//! - [`wire`]: the JSON both sides exchange (openzone-wire).
//! - [`client`]: the HTTP client (timeouts, retries with back-off, size caps).
//!
//! What a phone does with them (report a positive test, sync) is [`crate::phone::Phone`]'s.
//! `docs/keyserver.md` describes the protocol.

pub mod client;
pub use openzone_wire::keyserver::{seal, wire};

pub use client::{ClientConfig, KeyServerClient};
