//! Rotating identifiers and what goes on air.
//!
//! Two schemes share one interface, [`Scheme`]:
//! - [`en_v1`]: the Exposure Notification cryptography v1.2 (the default);
//! - [`bluezone_v3`]: the identifiers of Bluezone 3.x phones, for compatibility only (it leaks: see
//!   `docs/protocol.md`).
//!
//! Turning an identifier into advertisement bytes and back is the phone's (openzone-core's
//! `protocol::payload`).
//!
//! All protocol time is UTC unix seconds: local time zones and the user's clock settings never enter here.

pub mod bluezone_v3;
pub mod en_v1;
pub(crate) mod hex_bytes;

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// Which identifier scheme a phone speaks; chosen by configuration, [`SchemeId::EnV1`] by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum SchemeId {
    /// Exposure Notification cryptography v1.2 (`en-v1`).
    #[default]
    EnV1,
    /// Bluezone 3.x legacy identifiers (`bluezone-v3`).
    BluezoneV3,
}

impl SchemeId {
    /// The scheme's name in configuration, on the command line and in JSON.
    pub const fn name(self) -> &'static str {
        match self {
            SchemeId::EnV1 => "en-v1",
            SchemeId::BluezoneV3 => "bluezone-v3",
        }
    }
}

impl fmt::Display for SchemeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SchemeId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "en-v1" => Ok(SchemeId::EnV1),
            "bluezone-v3" => Ok(SchemeId::BluezoneV3),
            other => Err(Error::UnknownScheme(other.to_owned())),
        }
    }
}

/// A decoded identifier as heard on air or read over GATT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Payload {
    /// An en-v1 Rolling Proximity Identifier with its Associated Encrypted Metadata.
    EnV1 {
        /// The Rolling Proximity Identifier.
        rpi: en_v1::Rpi,
        /// The Associated Encrypted Metadata (TX power, encrypted under the sender's key).
        aem: en_v1::Aem,
    },
    /// A Bluezone 3.x identifier.
    BluezoneV3 {
        /// The 12-byte identifier.
        id: bluezone_v3::BluezoneId,
    },
}

impl Payload {
    /// The scheme this payload belongs to.
    pub const fn scheme(&self) -> SchemeId {
        match self {
            Payload::EnV1 { .. } => SchemeId::EnV1,
            Payload::BluezoneV3 { .. } => SchemeId::BluezoneV3,
        }
    }

    /// The part matching compares: the RPI or the Bluezone ID, without the AEM.
    pub const fn identifier(&self) -> Identifier {
        match *self {
            Payload::EnV1 { rpi, .. } => Identifier::EnV1(rpi),
            Payload::BluezoneV3 { id } => Identifier::BluezoneV3(id),
        }
    }
}

/// The identifier of a payload: what a published key regenerates and matching looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Identifier {
    /// An en-v1 Rolling Proximity Identifier.
    EnV1(en_v1::Rpi),
    /// A Bluezone 3.x identifier.
    BluezoneV3(bluezone_v3::BluezoneId),
}

impl Identifier {
    /// The scheme the identifier belongs to.
    pub const fn scheme(&self) -> SchemeId {
        match self {
            Identifier::EnV1(_) => SchemeId::EnV1,
            Identifier::BluezoneV3(_) => SchemeId::BluezoneV3,
        }
    }

    /// The identifier's bytes (16 for en-v1, 12 for bluezone-v3).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Identifier::EnV1(rpi) => rpi.as_bytes(),
            Identifier::BluezoneV3(id) => id.as_bytes(),
        }
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identifier::EnV1(rpi) => rpi.fmt(f),
            Identifier::BluezoneV3(id) => id.fmt(f),
        }
    }
}

/// One identifier slot of a key: the slot's index within the key, when it starts, and how long it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Index of the slot within its key, from 0.
    pub index: u32,
    /// Start of the slot, UTC unix seconds.
    pub start_secs: u64,
    /// Length of the slot in seconds.
    pub duration_secs: u64,
}

impl Slot {
    /// End of the slot (exclusive), UTC unix seconds: the next rotation boundary.
    pub const fn end_secs(&self) -> u64 {
        self.start_secs + self.duration_secs
    }
}

/// A rotating-identifier scheme: how one key turns into the identifiers a phone broadcasts over time.
///
/// A key covers consecutive slots of equal length; the identifier changes at each slot boundary. The
/// engine decides when the radio address rotates; the scheme only says which identifier is in force.
pub trait Scheme {
    /// The key material that generates identifiers, as a phone keeps it and as it is published.
    type Key;
    /// The identifier matching compares (the part of the payload derived from the key alone).
    type Identifier: Copy + Eq + std::hash::Hash + Send + Sync;

    /// Which scheme this is.
    const ID: SchemeId;

    /// Slot `index` of the key, or `None` past the key's last slot.
    fn slot(key: &Self::Key, index: u32) -> Option<Slot>;

    /// The slot in force at `unix_secs`, or `None` if the key does not cover that moment.
    fn slot_at(key: &Self::Key, unix_secs: u64) -> Option<Slot>;

    /// The identifier of slot `index` (the caller checks that [`slot`](Self::slot) has it).
    fn identifier(key: &Self::Key, index: u32) -> Self::Identifier;

    /// Every identifier of the key in slot order, appended to `out` (cleared first).
    ///
    /// This is the hot path of matching: implementations derive sub-keys once and batch the work.
    fn identifiers(key: &Self::Key, out: &mut Vec<Self::Identifier>);

    /// The payload a phone broadcasts during slot `index`.
    fn payload(&self, key: &Self::Key, index: u32) -> Payload;

    /// The payload in force at `unix_secs`, with its slot, or `None` if the key does not cover that moment.
    fn payload_at(&self, key: &Self::Key, unix_secs: u64) -> Option<(Slot, Payload)> {
        let slot = Self::slot_at(key, unix_secs)?;
        Some((slot, self.payload(key, slot.index)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_names_round_trip() {
        for scheme in [SchemeId::EnV1, SchemeId::BluezoneV3] {
            assert_eq!(scheme.name().parse::<SchemeId>().unwrap(), scheme);
        }
        assert_eq!(SchemeId::default(), SchemeId::EnV1);
        assert!(matches!(
            "bluezone".parse::<SchemeId>(),
            Err(Error::UnknownScheme(s)) if s == "bluezone"
        ));
    }
}
