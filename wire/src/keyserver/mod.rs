//! The formats phone and key server share; the phone's HTTP client is openzone-core's.
//!
//! - [`seal`]: the sealed upload format.
//! - [`wire`]: the JSON both sides exchange.
//!
//! `docs/keyserver.md` describes the protocol.

pub mod seal;
pub mod wire;
