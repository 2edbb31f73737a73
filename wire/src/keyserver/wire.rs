//! What phone and key server say to each other: the JSON of `/v1/config`, of the sealed upload's
//! plaintext, and of the answers. Both sides use these types, so they cannot drift apart.
//!
//! A sealed upload's plaintext is a real report ([`UploadPayload`]) or chaff ([`FakeUpload`]), as JSON
//! followed by spaces up to [`PADDED_PLAINTEXT_BYTES`]: every upload has the same size on the wire, so
//! the size says neither how many keys were sent nor whether the upload was real.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::checkin::ProtectedReport;
use crate::error::Error;
use crate::export::signing::VerificationKey;
use crate::protocol::en_v1::{ExposureKey, TemporaryExposureKey};
use crate::risk::RiskConfig;

use super::seal::SealingPublicKey;

pub use crate::units::{
    MAX_CHECKINS_PER_UPLOAD, MAX_KEYS_PER_UPLOAD, RETENTION_DAYS as KEY_RETENTION_DAYS,
};

/// Every upload's plaintext is padded with spaces to this many bytes (or a multiple, for a payload
/// that does not fit: none a phone makes). 15 keys with every field at its widest valid value take
/// about 1.8 KiB, the [`MAX_CHECKINS_PER_UPLOAD`] encrypted check-ins about 9.2 KiB. The Corona-Warn-App pads its submissions the same way (cwa-app-android,
/// `PaddingTool.requestPadding`), as does Google's exposure-notifications-server (`padding` of
/// `verifyapi.Publish`).
pub const PADDED_PLAINTEXT_BYTES: usize = 12 * 1024;

/// Chaff: an upload a phone sends at random times that carries nothing. The server answers it like an
/// accepted report of `pretend_keys` keys, after a delay drawn like real answers', and drops it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FakeUpload {
    /// Always `true`: what tells the server to drop the upload.
    pub fake: bool,
    /// How many keys the answer says were accepted (what a real report from this phone would carry).
    pub pretend_keys: usize,
}

/// The plaintext of a sealed upload: a real report or chaff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upload {
    /// A positive report.
    Real(UploadPayload),
    /// Chaff.
    Fake(FakeUpload),
}

/// Only the field that tells chaff apart.
#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    fake: bool,
}

impl Upload {
    /// The JSON followed by spaces up to [`PADDED_PLAINTEXT_BYTES`] (or the next multiple of it).
    pub fn to_padded_plaintext(&self) -> Vec<u8> {
        // Serialising these plain structs cannot fail.
        let mut plain = match self {
            Self::Real(payload) => serde_json::to_vec(payload),
            Self::Fake(fake) => serde_json::to_vec(fake),
        }
        .unwrap_or_default();
        let padded = plain.len().div_ceil(PADDED_PLAINTEXT_BYTES).max(1) * PADDED_PLAINTEXT_BYTES;
        plain.resize(padded, b' ');
        plain
    }

    /// Reads an opened upload: JSON, then only whitespace. Unknown fields are refused.
    pub fn from_plaintext(plain: &[u8]) -> Result<Self, Error> {
        let malformed = |e: serde_json::Error| {
            Error::SealedUpload(format!("the sealed report is not valid: {e}"))
        };
        let probe: Probe = serde_json::from_slice(plain).map_err(malformed)?;
        if probe.fake {
            serde_json::from_slice(plain)
                .map(Self::Fake)
                .map_err(malformed)
        } else {
            serde_json::from_slice(plain)
                .map(Self::Real)
                .map_err(malformed)
        }
    }
}

/// The plaintext of a sealed upload.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadPayload {
    /// The one-time code an officer gave the user.
    pub code: String,
    /// The keys of the infectious window, oldest first.
    pub keys: Vec<UploadKey>,
    /// The encrypted check-ins of the infectious days with fakes, [`MAX_CHECKINS_PER_UPLOAD`] in all
    /// from a phone: each a `CheckInProtectedReport` protobuf in standard base64 ([`encode_checkin`]).
    /// Absent from the uploads of phones without presence tracing.
    #[serde(default)]
    pub checkins: Vec<String>,
}

/// `POST /v1/admin/warnings`: an officer's warning for a venue and a span, UTC unix seconds. Sent with
/// an officer's session (`Authorization: Bearer`) or with a one-time code an officer issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueWarning {
    /// The check-in link of the venue's poster (OpenZone's, another base's, or Corona-Warn-App's).
    pub venue: String,
    /// Start of the span.
    pub from: u64,
    /// End of the span.
    pub to: u64,
    /// A one-time code an officer issued, when the request carries no officer's session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// What marks a warning package's name in the key server's index (`<batch>-warnings-<hash>.zip`);
/// every other name is a key export.
pub const WARNING_PACKAGE_MARK: &str = "-warnings-";

/// The partition of exports that belong to no province: cases an officer did not tie to one (and every
/// warning package). Lower case, so that no region code can take its name.
pub const NATIONAL_PARTITION: &str = "national";

/// The longest region code.
pub const MAX_REGION_CODE: usize = 8;

/// Checks a region code (a province a case is tied to, and a phone downloads the exports of): 1 to
/// [`MAX_REGION_CODE`] ASCII capital letters or digits, e.g. Vietnam's two-digit province codes (`01`
/// Hà Nội, `79` Thành phố Hồ Chí Minh). Lower case is taken as upper case. Returns the code as the
/// server lists it.
pub fn check_region(code: &str) -> Result<String, Error> {
    let upper = code.trim().to_ascii_uppercase();
    if upper.is_empty()
        || upper.len() > MAX_REGION_CODE
        || !upper
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Err(Error::InvalidConfig(format!(
            "{code:?} is not a region code: 1 to {MAX_REGION_CODE} letters or digits, e.g. 79 for \
             Thành phố Hồ Chí Minh"
        )));
    }
    Ok(upper)
}

/// The largest base64 text of one encrypted check-in accepted: a `CheckInProtectedReport` with a
/// two-block record is 120 bytes, 160 characters.
pub const MAX_CHECKIN_TEXT: usize = 200;

/// An encrypted check-in as an upload carries it.
pub fn encode_checkin(report: &ProtectedReport) -> String {
    base64::engine::general_purpose::STANDARD.encode(report.encode())
}

/// Reads an encrypted check-in of an upload: base64 of a `CheckInProtectedReport` whose fields have
/// their sizes.
pub fn decode_checkin(text: &str) -> Result<ProtectedReport, Error> {
    if text.len() > MAX_CHECKIN_TEXT {
        return Err(Error::SealedUpload(format!(
            "an encrypted check-in of {} characters is longer than any ({MAX_CHECKIN_TEXT})",
            text.len()
        )));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| Error::SealedUpload(format!("an encrypted check-in is not base64: {e}")))?;
    ProtectedReport::decode(&bytes)
}

impl std::fmt::Debug for UploadPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither the code nor the keys belong in a log.
        f.debug_struct("UploadPayload")
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

/// One en-v1 key in an upload.
///
/// There is no report type: it comes from the officer's code, so a phone cannot claim a confirmed test
/// it was not given.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadKey {
    /// The Temporary Exposure Key, 32 hex characters.
    pub key: String,
    /// Its first ENIntervalNumber.
    pub rolling_start_interval: u32,
    /// How many intervals it covers, 1 to 144.
    pub rolling_period: u32,
    /// Days from the onset of symptoms the user gave on the phone to the key's UTC day; the server
    /// prefers the onset on the officer's code when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_since_onset: Option<i32>,
}

impl std::fmt::Debug for UploadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadKey")
            .field("rolling_start_interval", &self.rolling_start_interval)
            .field("rolling_period", &self.rolling_period)
            .field("days_since_onset", &self.days_since_onset)
            .finish_non_exhaustive()
    }
}

impl UploadKey {
    /// The upload form of an own key.
    pub fn new(key: &ExposureKey, days_since_onset: Option<i32>) -> Self {
        Self {
            key: hex::encode(key.tek.as_bytes()),
            rolling_start_interval: key.rolling_start_interval,
            rolling_period: key.rolling_period,
            days_since_onset,
        }
    }

    /// The key, if its hex and its period are valid.
    pub fn exposure_key(&self) -> Result<ExposureKey, Error> {
        let bytes = hex::decode(&self.key).map_err(|e| Error::InvalidHex {
            what: "a temporary exposure key",
            reason: e.to_string(),
        })?;
        let tek: [u8; 16] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| Error::WrongLength {
                what: "a temporary exposure key",
                expected: 16,
                found: bytes.len(),
            })?;
        ExposureKey::new(
            TemporaryExposureKey::from_bytes(tek),
            self.rolling_start_interval,
            self.rolling_period,
        )
    }
}

/// The answer to an accepted upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishResponse {
    /// Keys stored for publication.
    pub accepted_keys: usize,
    /// The same code and keys had been accepted before (a retry after a lost answer); nothing changed.
    pub repeated: bool,
}

/// The body of every error answer: a stable machine code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable code, e.g. `code_used` (docs/keyserver.md lists them).
    pub error: String,
    /// What went wrong and what to do.
    pub message: String,
}

/// `GET /v1/config`: what a phone needs to talk to this key server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerConfigDoc {
    /// The version of this document; 1.
    pub version: u32,
    /// The region written into exports.
    pub region: String,
    /// The keys that sign exports.
    pub export_signing_keys: Vec<ExportSigningKeyDoc>,
    /// The key uploads are sealed to.
    pub upload_sealing_key: SealingKeyDoc,
    /// The risk configuration phones score matches with.
    pub risk_configuration: RiskConfig,
    /// When exports appear.
    pub publication: PublicationDoc,
    /// Where the export index is: an absolute URL (a CDN) or a path on this server. It lists every
    /// export, of every region.
    pub index_url: String,
    /// With exports partitioned by region: each partition's index ([`NATIONAL_PARTITION`] and every
    /// region code the server publishes for), absolute or relative like `index_url`. A phone that chose
    /// its regions reads the national index and theirs instead of `index_url`. Empty: not partitioned.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub region_index_urls: std::collections::BTreeMap<String, String>,
    /// Limits on uploads.
    pub upload_limits: UploadLimitsDoc,
}

/// An export-signing public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportSigningKeyDoc {
    /// The key id exports name.
    pub key_id: String,
    /// The key version exports name.
    pub version: String,
    /// The signature algorithm's OID (ECDSA P-256 with SHA-256).
    pub algorithm: String,
    /// The key as PEM `PUBLIC KEY`.
    pub public_key_pem: String,
}

impl ExportSigningKeyDoc {
    /// The key, ready to verify exports.
    pub fn verification_key(&self) -> Result<VerificationKey, Error> {
        VerificationKey::from_pem(&self.key_id, &self.version, &self.public_key_pem)
    }
}

/// The upload sealing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealingKeyDoc {
    /// The construction, `X25519-HKDF-SHA256-AES-256-GCM`.
    pub algorithm: String,
    /// The sealing version byte.
    pub version: u8,
    /// The X25519 public key, base64.
    pub public_key: String,
}

impl SealingKeyDoc {
    /// The key, ready to seal uploads.
    pub fn public_key(&self) -> Result<SealingPublicKey, Error> {
        SealingPublicKey::from_base64(&self.public_key)
    }
}

/// The publication schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicationDoc {
    /// Seconds between publications.
    pub cadence_secs: u64,
    /// Seconds a key waits after its validity ended before it is published.
    pub delay_secs: u64,
    /// Exports are padded with random keys to at least this many.
    pub min_batch_keys: usize,
}

/// Limits the server enforces on uploads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadLimitsDoc {
    /// Most keys per upload.
    pub max_keys: usize,
    /// Oldest key accepted, days.
    pub max_key_age_days: u32,
    /// Largest sealed body, bytes.
    pub max_body_bytes: usize,
}

/// The name of the sealing construction in [`SealingKeyDoc::algorithm`].
pub const SEALING_ALGORITHM: &str = "X25519-HKDF-SHA256-AES-256-GCM";

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A key with every field at its widest valid value.
    fn widest_key() -> UploadKey {
        UploadKey {
            key: "ff".repeat(16),
            rolling_start_interval: u32::MAX - 144,
            rolling_period: 144,
            days_since_onset: Some(-14),
        }
    }

    /// The encrypted check-ins a phone sends with every report: real ones have the size of fakes.
    fn full_checkins() -> Vec<String> {
        let rng = ring::rand::SystemRandom::new();
        (0..MAX_CHECKINS_PER_UPLOAD)
            .map(|_| encode_checkin(&ProtectedReport::fake(&rng).unwrap()))
            .collect()
    }

    #[test]
    fn region_codes_are_letters_or_digits_in_upper_case() {
        assert_eq!(check_region("79").unwrap(), "79");
        assert_eq!(check_region(" hn ").unwrap(), "HN");
        let long = "9".repeat(MAX_REGION_CODE + 1);
        for bad in ["", "  ", "7-9", "national", "Đà", "79\n01", &long] {
            if bad == "national" {
                // Lower-case words become codes; the national partition's name is never one.
                assert_ne!(check_region(bad).unwrap(), NATIONAL_PARTITION);
                continue;
            }
            assert!(check_region(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn encrypted_checkins_round_trip_and_bad_ones_are_refused() {
        let rng = ring::rand::SystemRandom::new();
        let report = ProtectedReport::fake(&rng).unwrap();
        let text = encode_checkin(&report);
        assert_eq!(decode_checkin(&text).unwrap(), report);
        for cut in [0, 1, text.len() / 2, text.len() - 4] {
            assert!(decode_checkin(&text[..cut]).is_err(), "{cut}");
        }
        for bad in ["not base64!", "AAAA", "////"] {
            assert!(decode_checkin(bad).is_err(), "{bad}");
        }
        assert!(decode_checkin(&"A".repeat(MAX_CHECKIN_TEXT + 4)).is_err());
    }

    #[test]
    fn real_and_fake_uploads_pad_to_the_same_length() {
        for n in 0..=MAX_KEYS_PER_UPLOAD {
            let real = Upload::Real(UploadPayload {
                checkins: full_checkins(),
                code: "99999999".into(),
                keys: vec![widest_key(); n],
            });
            assert_eq!(
                real.to_padded_plaintext().len(),
                PADDED_PLAINTEXT_BYTES,
                "{n} keys"
            );
        }
        for pretend_keys in [0, 1, 15, usize::MAX] {
            let fake = Upload::Fake(FakeUpload {
                fake: true,
                pretend_keys,
            });
            assert_eq!(fake.to_padded_plaintext().len(), PADDED_PLAINTEXT_BYTES);
        }
        // What no phone sends still pads, to a multiple.
        let huge = Upload::Real(UploadPayload {
            checkins: Vec::new(),
            code: "x".repeat(PADDED_PLAINTEXT_BYTES + 1),
            keys: Vec::new(),
        });
        assert_eq!(huge.to_padded_plaintext().len(), 2 * PADDED_PLAINTEXT_BYTES);
    }

    #[test]
    fn garbage_truncated_and_unknown_plaintexts_are_refused() {
        let real = Upload::Real(UploadPayload {
            checkins: Vec::new(),
            code: "12345678".into(),
            keys: vec![widest_key()],
        })
        .to_padded_plaintext();
        let end = real.iter().rposition(|b| *b != b' ').unwrap_or(0);
        for cut in [0, 1, end / 2, end] {
            assert!(Upload::from_plaintext(&real[..cut]).is_err(), "{cut}");
        }
        for bad in [
            &b"not json"[..],
            b"{}",
            b"{\"fake\":true}",
            b"{\"fake\":true,\"pretend_keys\":-1}",
            b"{\"fake\":true,\"pretend_keys\":1,\"code\":\"1\"}",
            b"{\"code\":\"1\",\"keys\":[],\"fake\":false}",
            b"{\"code\":\"1\",\"keys\":[]} x",
            b"{\"code\":\"1\",\"keys\":[]}\0",
        ] {
            assert!(
                Upload::from_plaintext(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    proptest! {
        #[test]
        fn padded_plaintexts_read_back(
            code in "[0-9]{8}",
            starts in proptest::collection::vec(any::<u32>(), 0..=15),
            days in proptest::option::of(any::<i32>()),
            pretend_keys in any::<usize>(),
        ) {
            let real = Upload::Real(UploadPayload {
                checkins: Vec::new(),
                code,
                keys: starts
                    .iter()
                    .map(|s| UploadKey {
                        rolling_start_interval: *s,
                        days_since_onset: days,
                        ..widest_key()
                    })
                    .collect(),
            });
            prop_assert_eq!(Upload::from_plaintext(&real.to_padded_plaintext()).unwrap(), real);
            let fake = Upload::Fake(FakeUpload { fake: true, pretend_keys });
            let plain = fake.to_padded_plaintext();
            prop_assert_eq!(plain.len(), PADDED_PLAINTEXT_BYTES);
            prop_assert_eq!(Upload::from_plaintext(&plain).unwrap(), fake);
        }
    }
}
