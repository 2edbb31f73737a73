//! Venues: what a poster's QR code says about a place, its location id, and the rules a venue must keep
//! to be created or checked into.
//!
//! A [`Venue`] is the payload bytes as scanned (or as created) together with their decoded
//! [`TraceLocation`]. The location id hashes the payload bytes exactly as they are, so every phone that
//! scans one poster derives the same id, whatever encoder made it (Corona-Warn-App does the same:
//! cwa-app-android, `TraceLocationIdTest.kt`, "Payload -> locationId (direct from raw)").
//!
//! Decoding checks only that the payload is well formed: inspecting reports any such payload as it is
//! encoded. The rules (lengths, seed, stay, event times) apply when a venue is created
//! ([`NewVenue::create`]) and when someone checks in ([`Venue::check_in_rules`]).

use prost::Message;
use ring::digest::SHA256;

use super::proto;
use super::random::{self, Random};
use crate::error::{CheckInError, Error};

/// `SHA-256("CWA-GUID" || payload)` is the location id (cwa-app-android, `TraceLocationId.kt`).
pub const LOCATION_ID_PREFIX: &[u8] = b"CWA-GUID";

/// The largest payload a check-in code may carry. Real posters hold at most about 800 bytes (two
/// 100-character texts, the 96-byte public key, the seed and the vendor data).
pub const MAX_PAYLOAD_BYTES: usize = 1024;

/// The longest description or address, in UTF-16 code units: CWA's limit (`trace_location.proto`:
/// "max. 100 characters"), counted as Kotlin's `String.length` counts it in cwa-app-android's
/// `TraceLocationVerifier.kt`, so that every CWA app accepts an OpenZone poster.
pub const MAX_TEXT_UNITS: usize = 100;

/// Length of the cryptographic seed (cwa-app-android `TraceLocationVerifier.kt`,
/// `CROWD_NOTIFIER_CRYPTO_SEED_LENGTH`).
pub const SEED_BYTES: usize = 16;

/// The shortest default stay a venue may ask for, minutes.
pub const MIN_STAY_MINUTES: u32 = 15;

/// The longest default stay a venue may ask for, minutes (CWA's generator allows at most 1440:
/// corona-warn-app/cwa-event-qr-code, `lib/validate-qr-code-data.js`).
pub const MAX_STAY_MINUTES: u32 = 24 * 60;

/// The version written in `QRCodePayload`, `TraceLocation`, `CrowdNotifierData` and `CWALocationData`.
pub const PAYLOAD_VERSION: u32 = 1;

/// The CrowdNotifier public key CWA puts in every poster it makes (corona-warn-app/cwa-event-qr-code,
/// `lib/generate-qr-code-payload.js`, base64 `gwLMzE153tQw...bbtoaA`). Presence tracing as CWA runs it
/// never uses it, but it is part of the payload and so of the location id.
pub const CWA_CROWD_NOTIFIER_PUBLIC_KEY: [u8; 96] = [
    0x83, 0x02, 0xcc, 0xcc, 0x4d, 0x79, 0xde, 0xd4, 0x30, 0x00, 0xe7, 0xf6, 0x31, 0x9a, 0x14, 0x5d,
    0x77, 0xf3, 0x59, 0x37, 0x65, 0x4a, 0x97, 0xd2, 0xf7, 0xd8, 0x99, 0x7d, 0xf9, 0x9c, 0x9b, 0x13,
    0x86, 0xf6, 0x78, 0xd2, 0x2b, 0x84, 0x53, 0x8a, 0x61, 0x4e, 0x17, 0x00, 0xe1, 0xea, 0xdd, 0x13,
    0xcb, 0x0f, 0x17, 0x47, 0x4d, 0x6e, 0x80, 0x36, 0x23, 0xb6, 0xe2, 0xb0, 0x8e, 0x3b, 0x8a, 0xe3,
    0xd3, 0xa1, 0xf3, 0x71, 0x56, 0x72, 0xde, 0x97, 0xa5, 0xe7, 0xcf, 0x8b, 0xd4, 0xa4, 0x8f, 0x1b,
    0xef, 0xcf, 0x9d, 0xe2, 0xf6, 0x06, 0x8c, 0x99, 0x41, 0x1c, 0xf7, 0xaa, 0x5b, 0xb6, 0x86, 0x80,
];

/// CWA's `TraceLocationType` (`trace_location.proto`), with the names the command line takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LocationType {
    /// 0: not given (refused when creating a venue).
    Unspecified,
    /// 1: another permanent place.
    PermanentOther,
    /// 2: another temporary event.
    TemporaryOther,
    /// 3: a shop.
    Retail,
    /// 4: a restaurant or canteen.
    FoodService,
    /// 5: a craft business.
    Craft,
    /// 6: a workplace.
    Workplace,
    /// 7: a school, a classroom, a school gate.
    EducationalInstitution,
    /// 8: a public building.
    PublicBuilding,
    /// 9: a cultural event.
    CulturalEvent,
    /// 10: a club activity.
    ClubActivity,
    /// 11: a private event (a parents' meeting).
    PrivateEvent,
    /// 12: a worship service.
    WorshipService,
}

/// Every type with its protobuf number and command-line name.
const LOCATION_TYPES: [(LocationType, i32, &str); 13] = [
    (LocationType::Unspecified, 0, "unspecified"),
    (LocationType::PermanentOther, 1, "permanent-other"),
    (LocationType::TemporaryOther, 2, "temporary-other"),
    (LocationType::Retail, 3, "retail"),
    (LocationType::FoodService, 4, "food-service"),
    (LocationType::Craft, 5, "craft"),
    (LocationType::Workplace, 6, "workplace"),
    (
        LocationType::EducationalInstitution,
        7,
        "educational-institution",
    ),
    (LocationType::PublicBuilding, 8, "public-building"),
    (LocationType::CulturalEvent, 9, "cultural-event"),
    (LocationType::ClubActivity, 10, "club-activity"),
    (LocationType::PrivateEvent, 11, "private-event"),
    (LocationType::WorshipService, 12, "worship-service"),
];

impl LocationType {
    /// The protobuf number.
    pub fn number(self) -> i32 {
        LOCATION_TYPES
            .iter()
            .find(|(t, ..)| *t == self)
            .map_or(0, |(_, n, _)| *n)
    }

    /// The type of a protobuf number, if it is one CWA defines.
    pub fn from_number(number: i32) -> Option<Self> {
        LOCATION_TYPES
            .iter()
            .find(|(_, n, _)| *n == number)
            .map(|(t, ..)| *t)
    }

    /// The command-line name, e.g. `educational-institution`.
    pub fn name(self) -> &'static str {
        LOCATION_TYPES
            .iter()
            .find(|(t, ..)| *t == self)
            .map_or("unspecified", |(.., name)| name)
    }

    /// Parses a protobuf number (`7`) or a name: `educational-institution`, with or without the
    /// `permanent-`/`temporary-` prefix, or the protobuf's own `LOCATION_TYPE_PERMANENT_...`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        let by_number = text.parse::<i32>().ok().and_then(Self::from_number);
        let name = text.to_ascii_lowercase().replace('_', "-");
        let name = name.strip_prefix("location-type-").unwrap_or(&name);
        let candidates = [
            Some(name),
            name.strip_prefix("permanent-"),
            name.strip_prefix("temporary-"),
        ];
        let by_name = LOCATION_TYPES
            .iter()
            .find(|(.., n)| candidates.contains(&Some(n)))
            .map(|(t, ..)| *t);
        by_number.or(by_name).ok_or_else(|| {
            invalid(
                "type",
                format!(
                    "{text:?} is not a venue type; use a number 1-12 or a name: {}",
                    LOCATION_TYPES[1..]
                        .iter()
                        .map(|(.., n)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
    }

    /// Whether the type is an event with a start and an end (CWA's temporary types 2 and 9 to 12).
    pub fn is_event(self) -> bool {
        matches!(
            self,
            Self::TemporaryOther
                | Self::CulturalEvent
                | Self::ClubActivity
                | Self::PrivateEvent
                | Self::WorshipService
        )
    }
}

/// The location id: `SHA-256("CWA-GUID" || payload)`. Only phones that saw the poster know it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocationId(pub [u8; 32]);

/// `SHA-256(location id)`: what uploads and warnings carry instead of the location id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocationIdHash(pub [u8; 32]);

impl LocationId {
    /// The location id of a payload.
    pub fn of_payload(payload: &[u8]) -> Self {
        Self(sha256(&[LOCATION_ID_PREFIX, payload]))
    }

    /// Its hash, as published.
    pub fn hash(&self) -> LocationIdHash {
        LocationIdHash(sha256(&[&self.0]))
    }
}

impl std::fmt::Debug for LocationId {
    // The id is the secret that opens the venue's encrypted check-ins: show only its hash's start.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LocationId(hash {}..)", hex::encode(&self.hash().0[..4]))
    }
}

/// SHA-256 of the concatenation of `parts`.
pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&SHA256);
    for part in parts {
        ctx.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// A venue as its payload encodes it: what the place is and asks of visitors, an event's times, and
/// CrowdNotifier's data. Times are UTC unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceLocation {
    /// The name people see (a classroom, the gate).
    pub description: String,
    /// Where it is.
    pub address: String,
    /// The protobuf's `TraceLocationType` number (see [`LocationType`]), as encoded.
    pub location_type: i32,
    /// The default stay, minutes; 0 when the payload gives none.
    pub default_checkin_minutes: u32,
    /// The venue's X25519 public key, when it asks visitors to register in its visitor log.
    pub visitor_log_key: Option<[u8; 32]>,
    /// An event's start, `None` for a permanent place.
    pub start: Option<u64>,
    /// An event's end, `None` for a permanent place.
    pub end: Option<u64>,
    /// CrowdNotifier's public key.
    pub public_key: Vec<u8>,
    /// The cryptographic seed (16 bytes on a valid poster).
    pub seed: Vec<u8>,
}

impl TraceLocation {
    /// The `QRCodePayload` bytes, as CWA's encoders write them (no rules checked).
    pub fn encode(&self) -> Vec<u8> {
        let vendor = proto::CwaLocationData {
            version: PAYLOAD_VERSION,
            r#type: self.location_type,
            default_check_in_length_in_minutes: self.default_checkin_minutes,
            openzone: self.visitor_log_key.map(|key| proto::OpenZoneVenueData {
                visitor_log_key: key.to_vec(),
            }),
        };
        proto::QrCodePayload {
            version: PAYLOAD_VERSION,
            location_data: Some(proto::TraceLocation {
                version: PAYLOAD_VERSION,
                description: self.description.clone(),
                address: self.address.clone(),
                start_timestamp: self.start.unwrap_or(0),
                end_timestamp: self.end.unwrap_or(0),
            }),
            crowd_notifier_data: Some(proto::CrowdNotifierData {
                version: PAYLOAD_VERSION,
                public_key: self.public_key.clone(),
                cryptographic_seed: self.seed.clone(),
            }),
            vendor_data: vendor.encode_to_vec(),
        }
        .encode_to_vec()
    }

    /// Decodes a payload; checks only that it is well formed.
    pub fn decode(payload: &[u8]) -> Result<Self, Error> {
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(CheckInError::PayloadTooLarge {
                len: payload.len(),
                max: MAX_PAYLOAD_BYTES,
            }
            .into());
        }
        let qr = proto::QrCodePayload::decode(payload)
            .map_err(|e| malformed(format!("not a QRCodePayload: {e}")))?;
        if qr.version != PAYLOAD_VERSION {
            return Err(CheckInError::UnsupportedVersion {
                version: qr.version.to_string(),
            }
            .into());
        }
        let location = qr
            .location_data
            .ok_or_else(|| malformed("the payload names no venue".into()))?;
        let crowd = qr.crowd_notifier_data.unwrap_or_default();
        let vendor = proto::CwaLocationData::decode(qr.vendor_data.as_slice())
            .map_err(|e| malformed(format!("the vendor data is not CWALocationData: {e}")))?;
        let visitor_log_key = match vendor.openzone {
            None => None,
            Some(ext) if ext.visitor_log_key.is_empty() => None,
            Some(ext) => Some(ext.visitor_log_key.as_slice().try_into().map_err(|_| {
                malformed(format!(
                    "the visitor-log key is {} bytes, an X25519 key is 32",
                    ext.visitor_log_key.len()
                ))
            })?),
        };
        let nonzero = |t: u64| (t != 0).then_some(t);
        Ok(Self {
            description: location.description,
            address: location.address,
            location_type: vendor.r#type,
            default_checkin_minutes: vendor.default_check_in_length_in_minutes,
            visitor_log_key,
            start: nonzero(location.start_timestamp),
            end: nonzero(location.end_timestamp),
            public_key: crowd.public_key,
            seed: crowd.cryptographic_seed,
        })
    }

    /// The rules every venue keeps, at creation and at check-in: a one-line description and address of
    /// 1 to 100 characters, a 16-byte seed, and an event that ends after it starts.
    fn check_common(&self) -> Result<(), Error> {
        check_text("description", &self.description)?;
        check_text("address", &self.address)?;
        if self.seed.len() != SEED_BYTES {
            return Err(invalid(
                "seed",
                format!(
                    "the cryptographic seed is {} bytes, a valid poster has {SEED_BYTES}",
                    self.seed.len()
                ),
            ));
        }
        match (self.start, self.end) {
            (Some(start), Some(end)) if start >= end => Err(invalid(
                "start",
                format!("the event starts at {start}, not before it ends at {end}"),
            )),
            (Some(_), None) | (None, Some(_)) => Err(invalid(
                "end",
                "an event needs both a start and an end".into(),
            )),
            _ => Ok(()),
        }
    }
}

fn check_text(field: &'static str, text: &str) -> Result<(), Error> {
    let units = text.encode_utf16().count();
    if text.trim().is_empty() {
        return Err(invalid(field, "must not be empty".into()));
    }
    if units > MAX_TEXT_UNITS {
        return Err(invalid(
            field,
            format!("is {units} characters long, at most {MAX_TEXT_UNITS} are allowed"),
        ));
    }
    if text.contains(['\n', '\r']) {
        return Err(invalid(field, "must be one line".into()));
    }
    Ok(())
}

fn invalid(field: &'static str, reason: String) -> Error {
    CheckInError::InvalidVenue { field, reason }.into()
}

fn malformed(reason: String) -> Error {
    CheckInError::Malformed(reason).into()
}

/// A venue: its payload bytes and what they say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Venue {
    location: TraceLocation,
    payload: Vec<u8>,
}

impl Venue {
    /// A venue from payload bytes (decoded from a link or a QR code); checks only that they are well
    /// formed.
    pub fn from_payload(payload: Vec<u8>) -> Result<Self, Error> {
        let location = TraceLocation::decode(&payload)?;
        Ok(Self { location, payload })
    }

    /// What the payload says.
    pub fn location(&self) -> &TraceLocation {
        &self.location
    }

    /// The payload bytes, as scanned or created.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The location id.
    pub fn location_id(&self) -> LocationId {
        LocationId::of_payload(&self.payload)
    }

    /// The rules for checking in at `now` (UTC unix seconds): a valid description, address and seed, and
    /// for an event, that it has begun and not ended.
    pub fn check_in_rules(&self, now: u64) -> Result<(), Error> {
        self.location.check_common()?;
        if let Some(start) = self.location.start.filter(|s| now < *s) {
            return Err(CheckInError::EventNotStarted { start }.into());
        }
        if let Some(end) = self.location.end.filter(|e| now >= *e) {
            return Err(CheckInError::EventEnded { end }.into());
        }
        Ok(())
    }

    /// How long a check-in lasts, minutes: what the visitor asked for (which must be 15 minutes to 24
    /// hours), else the venue's default brought into those bounds (a CWA poster may ask for 10 minutes or
    /// none: none means the longest stay, as for a gate open all day).
    pub fn stay_minutes(&self, requested: Option<u32>) -> Result<u32, Error> {
        match requested {
            Some(minutes) => check_stay(minutes).map(|()| minutes),
            None if self.location.default_checkin_minutes == 0 => Ok(MAX_STAY_MINUTES),
            None => Ok(self
                .location
                .default_checkin_minutes
                .clamp(MIN_STAY_MINUTES, MAX_STAY_MINUTES)),
        }
    }
}

fn check_stay(minutes: u32) -> Result<(), Error> {
    if (MIN_STAY_MINUTES..=MAX_STAY_MINUTES).contains(&minutes) {
        Ok(())
    } else {
        Err(invalid(
            "minutes",
            format!(
                "a stay of {minutes} minutes is outside {MIN_STAY_MINUTES} minutes to 24 hours ({MAX_STAY_MINUTES} minutes)"
            ),
        ))
    }
}

/// The default stay at a permanent venue: a 45-minute lesson.
pub const DEFAULT_STAY_MINUTES: u32 = 45;

/// What the school decides about a new venue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVenue {
    /// The name people see.
    pub description: String,
    /// Where it is; the description when `None` (CWA refuses an empty address).
    pub address: Option<String>,
    /// The type.
    pub location_type: LocationType,
    /// The default stay, 15 minutes to 24 hours.
    pub default_checkin_minutes: u32,
    /// For an event: its start and end, UTC unix seconds.
    pub event: Option<(u64, u64)>,
    /// The venue's X25519 public key, when it asks visitors to register.
    pub visitor_log_key: Option<[u8; 32]>,
}

impl NewVenue {
    /// A room of a school called `description`: a permanent venue of an educational institution with the
    /// default stay ([`DEFAULT_STAY_MINUTES`]), no address of its own (the description stands in) and no
    /// visitor log.
    pub fn classroom(description: impl Into<String>) -> Self {
        Self {
            description: description.into(),
            address: None,
            location_type: LocationType::EducationalInstitution,
            default_checkin_minutes: DEFAULT_STAY_MINUTES,
            event: None,
            visitor_log_key: None,
        }
    }

    /// Checks the rules for creating a venue at `now` (UTC unix seconds) and makes it, with a fresh random
    /// seed and CWA's public key, so that CWA apps can check in too.
    pub fn create(&self, now: u64, rng: &dyn Random) -> Result<Venue, Error> {
        let location = TraceLocation {
            description: self.description.clone(),
            address: self
                .address
                .clone()
                .filter(|a| !a.trim().is_empty())
                .unwrap_or_else(|| self.description.clone()),
            location_type: self.location_type.number(),
            default_checkin_minutes: self.default_checkin_minutes,
            start: self.event.map(|(start, _)| start),
            end: self.event.map(|(_, end)| end),
            public_key: CWA_CROWD_NOTIFIER_PUBLIC_KEY.to_vec(),
            seed: random::bytes::<SEED_BYTES>(rng)?.to_vec(),
            visitor_log_key: self.visitor_log_key,
        };
        location.check_common()?;
        check_stay(self.default_checkin_minutes)?;
        let name = self.location_type.name();
        match (self.location_type, self.event) {
            (LocationType::Unspecified, _) => {
                return Err(invalid("type", "give the venue a type (e.g. educational-institution)".into()))
            }
            (t, None) if t.is_event() => {
                return Err(invalid("type", format!("a {name} is an event: give its start and end")))
            }
            (t, Some(_)) if !t.is_event() => {
                return Err(invalid(
                    "type",
                    format!("a {name} is a permanent place without start and end; for an event use temporary-other, private-event, cultural-event, club-activity or worship-service"),
                ))
            }
            (_, Some((_, end))) if end <= now => {
                return Err(CheckInError::EventEnded { end }.into())
            }
            _ => {}
        }
        let payload = location.encode();
        Ok(Venue { location, payload })
    }
}

/// The secret half of a venue's visitor-log key: whoever holds it reads the venue's visitor log.
pub struct VisitorLogSecret(x25519_dalek::StaticSecret);

impl std::fmt::Debug for VisitorLogSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VisitorLogSecret(..)")
    }
}

impl VisitorLogSecret {
    /// A fresh secret.
    pub fn generate(rng: &dyn Random) -> Result<Self, Error> {
        Ok(Self::from_bytes(random::bytes::<32>(rng)?))
    }

    /// The secret from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(x25519_dalek::StaticSecret::from(bytes))
    }

    /// The 32 bytes, for the venue's secret file.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public key that goes on the poster.
    pub fn public_key(&self) -> [u8; 32] {
        x25519_dalek::PublicKey::from(&self.0).to_bytes()
    }

    /// The X25519 secret, for opening visitor-log entries.
    pub(crate) fn as_static(&self) -> &x25519_dalek::StaticSecret {
        &self.0
    }
}

#[cfg(test)]
mod tests;
