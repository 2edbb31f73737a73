//! What phone and key server say to each other: the JSON of `/v1/config`, of the sealed upload's
//! plaintext, and of the answers. Both sides use these types, so they cannot drift apart.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::export::signing::VerificationKey;
use crate::protocol::en_v1::{ExposureKey, TemporaryExposureKey};
use crate::risk::RiskConfig;

use super::seal::SealingPublicKey;

pub use crate::units::{MAX_KEYS_PER_UPLOAD, RETENTION_DAYS as KEY_RETENTION_DAYS};

/// The plaintext of a sealed upload.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadPayload {
    /// The one-time code an officer gave the user.
    pub code: String,
    /// The keys of the infectious window, oldest first.
    pub keys: Vec<UploadKey>,
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
    /// Where the export index is: an absolute URL (a CDN) or a path on this server.
    pub index_url: String,
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
