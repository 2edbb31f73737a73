//! One person's entry in a venue's visitor log, and its sealed form.
//!
//! Sealed entry: `version (0x01) || enc (32 bytes) || ct`, where `(enc, ct)` is HPKE's single-shot seal
//! to the venue's X25519 key with `info = "openzone visitor log v1"` and `aad` = the venue's location-id
//! hash (so an entry posted to another venue's inbox does not open). The plaintext is the entry's JSON
//! padded with spaces to a multiple of [`PAD_TO`] bytes, so that the size does not tell a short name
//! from a long one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::hpke::{self, N_ENC, N_T};
use crate::checkin::random::Random;
use crate::checkin::venue::{LocationIdHash, VisitorLogSecret};
use crate::declaration::{Answer, DeclarationResult};
use crate::error::Error;

/// The first byte of a sealed entry: its format's version.
pub const ENTRY_VERSION: u8 = 1;

/// HPKE's `info` for visitor-log entries.
pub const ENTRY_INFO: &[u8] = b"openzone visitor log v1";

/// Plaintexts are padded with spaces to a multiple of this.
pub const PAD_TO: usize = 256;

/// The largest entry plaintext, padded.
pub const MAX_ENTRY_PLAINTEXT: usize = 4 * PAD_TO;

/// The largest sealed entry: version, `enc`, the largest plaintext and the tag.
pub const MAX_SEALED_ENTRY_BYTES: usize = 1 + N_ENC + MAX_ENTRY_PLAINTEXT + N_T;

/// The smallest sealed entry: one padded block.
pub const MIN_SEALED_ENTRY_BYTES: usize = 1 + N_ENC + PAD_TO + N_T;

/// The longest name, class, phone or purpose in an entry, in characters.
const MAX_FIELD_CHARS: usize = 100;

/// What a visitor declared today, as the log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclarationStatus {
    /// Declared, nothing calls for the nurse.
    Clear,
    /// Declared symptoms or exposure: the nurse first.
    Symptoms,
    /// No declaration today.
    None,
}

impl DeclarationStatus {
    /// `clear`, `symptoms` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clear => "clear",
            Self::Symptoms => "symptoms",
            Self::None => "none",
        }
    }
}

impl From<Option<DeclarationResult>> for DeclarationStatus {
    fn from(result: Option<DeclarationResult>) -> Self {
        match result {
            Some(DeclarationResult::Clear) => Self::Clear,
            Some(DeclarationResult::Symptoms) => Self::Symptoms,
            None => Self::None,
        }
    }
}

/// How an entry was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// The visitor's own app, with their consent.
    App,
    /// The guard, by hand, for someone without a smartphone.
    Gate,
    /// The guard's device scanned a student's printed card.
    Card,
}

/// Entering or leaving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Coming in.
    In,
    /// Going out.
    Out,
}

/// One person's entry in a visitor log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitorEntry {
    /// The format version, 1.
    pub v: u8,
    /// The name, as the visitor gave it (a profile's name).
    pub name: String,
    /// The phone number given, if any.
    #[serde(default)]
    pub phone: Option<String>,
    /// The class, for a student.
    #[serde(default)]
    pub class: Option<String>,
    /// When, UTC unix seconds.
    pub time: u64,
    /// Today's declaration result.
    pub declaration: DeclarationStatus,
    /// How the entry was made.
    pub kind: EntryKind,
    /// Entering or leaving.
    pub direction: Direction,
    /// Why the visitor came (gate mode).
    #[serde(default)]
    pub purpose: Option<String>,
    /// The answers the form marks as shared with visitor logs.
    #[serde(default)]
    pub answers: BTreeMap<String, Answer>,
}

impl VisitorEntry {
    /// The rules an entry keeps before it is sealed: a name, one-line fields of at most 100 characters.
    pub fn check(&self) -> Result<(), Error> {
        let fields = [
            ("name", Some(&self.name)),
            ("phone", self.phone.as_ref()),
            ("class", self.class.as_ref()),
            ("purpose", self.purpose.as_ref()),
        ];
        for (field, value) in fields {
            if let Some(value) = value {
                if value.trim().is_empty()
                    || value.chars().count() > MAX_FIELD_CHARS
                    || value.chars().any(char::is_control)
                {
                    return Err(Error::VisitorLog(format!(
                        "the {field} must be one line of 1 to {MAX_FIELD_CHARS} characters"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The padded plaintext.
    fn to_padded(&self) -> Result<Vec<u8>, Error> {
        self.check()?;
        let mut plain = serde_json::to_vec(self)
            .map_err(|e| Error::VisitorLog(format!("the entry cannot be encoded: {e}")))?;
        let padded = plain.len().div_ceil(PAD_TO).max(1) * PAD_TO;
        if padded > MAX_ENTRY_PLAINTEXT {
            return Err(Error::VisitorLog(format!(
                "the entry takes {} bytes, at most {MAX_ENTRY_PLAINTEXT} fit (fewer shared answers)",
                plain.len()
            )));
        }
        plain.resize(padded, b' ');
        Ok(plain)
    }

    /// Seals the entry to the venue's key for the venue whose location-id hash is `venue`.
    pub fn seal(
        &self,
        venue_key: &[u8; 32],
        venue: &LocationIdHash,
        rng: &dyn Random,
    ) -> Result<Vec<u8>, Error> {
        let (enc, ct) = hpke::seal(venue_key, ENTRY_INFO, &venue.0, &self.to_padded()?, rng)?;
        Ok([&[ENTRY_VERSION][..], &enc, &ct].concat())
    }

    /// Opens a sealed entry with the venue's secret; refuses what is malformed, oversized, another
    /// venue's, altered, or not an entry.
    pub fn open(
        sealed: &[u8],
        secret: &VisitorLogSecret,
        venue: &LocationIdHash,
    ) -> Result<Self, Error> {
        let (enc, ct) = split_sealed(sealed)?;
        let plain = hpke::open(enc, secret.as_static(), ENTRY_INFO, &venue.0, ct)?;
        let entry: Self = serde_json::from_slice(&plain)
            .map_err(|e| Error::VisitorLog(format!("the entry opened but is not an entry: {e}")))?;
        if entry.v != 1 {
            return Err(Error::VisitorLog(format!(
                "the entry has version {}, this app reads 1",
                entry.v
            )));
        }
        entry.check()?;
        Ok(entry)
    }
}

/// Checks a sealed entry's framing (what the server checks without a key): version, `enc` and a
/// ciphertext of whole padded blocks within the size limits. Returns `(enc, ct)`.
pub fn split_sealed(sealed: &[u8]) -> Result<(&[u8; N_ENC], &[u8]), Error> {
    if sealed.len() > MAX_SEALED_ENTRY_BYTES {
        return Err(Error::VisitorLog(format!(
            "an entry of {} bytes is larger than the {MAX_SEALED_ENTRY_BYTES} allowed",
            sealed.len()
        )));
    }
    let malformed = |what: &str| Error::VisitorLog(format!("the entry is malformed: {what}"));
    let [version, rest @ ..] = sealed else {
        return Err(malformed("it is empty"));
    };
    if *version != ENTRY_VERSION {
        return Err(malformed(&format!(
            "version {version}, this app reads {ENTRY_VERSION}"
        )));
    }
    let (enc, ct) = rest
        .split_first_chunk::<N_ENC>()
        .ok_or_else(|| malformed("it is shorter than its key"))?;
    if ct.len() < PAD_TO + N_T || !(ct.len() - N_T).is_multiple_of(PAD_TO) {
        return Err(malformed(&format!(
            "a ciphertext of {} bytes is not whole blocks of {PAD_TO} and a tag",
            ct.len()
        )));
    }
    Ok((enc, ct))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    fn entry() -> VisitorEntry {
        VisitorEntry {
            v: 1,
            name: "Nguyễn Thị Mai".into(),
            phone: Some("+84912345678".into()),
            class: Some("5A".into()),
            time: 1_630_888_200,
            declaration: DeclarationStatus::Clear,
            kind: EntryKind::App,
            direction: Direction::In,
            purpose: None,
            answers: BTreeMap::new(),
        }
    }

    fn venue() -> (VisitorLogSecret, LocationIdHash) {
        (
            VisitorLogSecret::from_bytes([5; 32]),
            LocationIdHash([9; 32]),
        )
    }

    #[test]
    fn entries_round_trip_and_only_the_venue_opens_them() {
        let rng = SystemRandom::new();
        let (secret, hash) = venue();
        let sealed = entry().seal(&secret.public_key(), &hash, &rng).unwrap();
        assert_eq!(sealed.len(), MIN_SEALED_ENTRY_BYTES, "one padded block");
        assert_eq!(
            VisitorEntry::open(&sealed, &secret, &hash).unwrap(),
            entry()
        );
        let other = VisitorLogSecret::from_bytes([6; 32]);
        assert!(VisitorEntry::open(&sealed, &other, &hash).is_err());
        assert!(VisitorEntry::open(&sealed, &secret, &LocationIdHash([8; 32])).is_err());
        // Short and long names seal to the same size.
        let mut long = entry();
        long.name = "x".repeat(90);
        assert_eq!(
            long.seal(&secret.public_key(), &hash, &rng).unwrap().len(),
            sealed.len()
        );
    }

    #[test]
    fn garbage_truncation_and_oversize_are_refused() {
        let rng = SystemRandom::new();
        let (secret, hash) = venue();
        let sealed = entry().seal(&secret.public_key(), &hash, &rng).unwrap();
        for len in 0..sealed.len() {
            assert!(VisitorEntry::open(&sealed[..len], &secret, &hash).is_err());
        }
        let mut altered = sealed.clone();
        altered[0] = 2;
        assert!(split_sealed(&altered).is_err());
        assert!(split_sealed(&vec![1; MAX_SEALED_ENTRY_BYTES + 1]).is_err());
        assert!(split_sealed(&[1; 1 + 32 + PAD_TO + N_T + 1]).is_err());
        assert!(split_sealed(&[1; MIN_SEALED_ENTRY_BYTES]).is_ok());
        // Well framed, sealed to the venue, but not an entry.
        let (enc, ct) = hpke::seal(
            &secret.public_key(),
            ENTRY_INFO,
            &hash.0,
            &[b'{'; PAD_TO],
            &rng,
        )
        .unwrap();
        let not_entry = [&[ENTRY_VERSION][..], &enc, &ct].concat();
        assert!(VisitorEntry::open(&not_entry, &secret, &hash)
            .unwrap_err()
            .to_string()
            .contains("not an entry"));
    }

    #[test]
    fn bad_fields_are_refused_before_sealing() {
        let rng = SystemRandom::new();
        let (secret, hash) = venue();
        for change in [
            |e: &mut VisitorEntry| e.name = " ".into(),
            |e: &mut VisitorEntry| e.name = "a\nb".into(),
            |e: &mut VisitorEntry| e.phone = Some("9".repeat(101)),
        ] {
            let mut e = entry();
            change(&mut e);
            assert!(e.seal(&secret.public_key(), &hash, &rng).is_err());
        }
        let mut big = entry();
        for i in 0..40 {
            big.answers
                .insert(format!("question_{i}"), Answer::Text("y".repeat(30)));
        }
        assert!(big.seal(&secret.public_key(), &hash, &rng).is_err());
    }
}
