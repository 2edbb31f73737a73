//! Encrypted check-ins, exactly as Corona-Warn-App's `CheckInProtectedReport` (cwa-app-android,
//! `presencetracing/checkins/cryptography/CheckInCryptography.kt`; cwa-app-ios `CheckinEncryption.swift`):
//!
//! ```text
//! encryption key = SHA-256("CWA-ENCRYPTION-KEY" || location id)
//! MAC key        = SHA-256("CWA-MAC-KEY" || location id)
//! ciphertext     = AES-256-CBC(encryption key, random 16-byte IV, PKCS#7(CheckInRecord protobuf))
//! mac            = HMAC-SHA256(MAC key, IV || ciphertext)
//! published with   SHA-256(location id)
//! ```
//!
//! Only someone who knows the poster (and so the location id) can read when a case was there. Uploads and
//! warning packages are padded with fake reports of the same shape ([`ProtectedReport::fake`]) so that
//! their size does not tell how many real check-ins they hold.

use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use cbc::cipher::block_padding::Pkcs7;
use prost::Message;
use ring::hmac;

use super::proto;
use super::random::{self, Random};
use super::venue::{sha256, LocationId, LocationIdHash};
use crate::error::{CheckInError, Error};

/// Prefix of the encryption key's hash input (cwa-app-android `CheckInCryptography.kt`, `CWA_ENCRYPTION_KEY`).
pub const ENCRYPTION_KEY_PREFIX: &[u8] = b"CWA-ENCRYPTION-KEY";

/// Prefix of the MAC key's hash input (cwa-app-android `CheckInCryptography.kt`, `CWA_MAC_KEY`).
pub const MAC_KEY_PREFIX: &[u8] = b"CWA-MAC-KEY";

/// Seconds in one of the 10-minute intervals check-in records count in (`trace_warning.proto`:
/// "10-minute intervals since UNIX Epoch").
pub const INTERVAL_SECONDS: u64 = 600;

/// The highest transmission risk level (exposure notification's levels are 1 to 8).
pub const MAX_TRANSMISSION_RISK_LEVEL: u8 = 8;

/// The size of every real encrypted record: a `CheckInRecord` of today's interval numbers, a period of up
/// to a day and a level is at most 12 bytes, which PKCS#7 pads to one AES block. Fakes have this size.
pub const RECORD_CIPHERTEXT_BYTES: usize = 16;

/// The largest encrypted record accepted (a record with every field at its largest is 18 bytes, two
/// blocks once padded).
pub const MAX_RECORD_CIPHERTEXT_BYTES: usize = 32;

/// The transmission risk level of a day by its days since the onset of symptoms (or the test): the
/// Corona-Warn-App's transmission risk vector for a known onset date (cwa-app-android,
/// `TransmissionRiskVectorDeterminator`, read along the diagonals: a day's level depends only on its
/// distance to the onset). The key server gives published keys the same levels.
pub fn transmission_risk_level(days_since_onset: i32) -> u8 {
    match days_since_onset {
        ..=-6 => 1,
        -5 => 2,
        -4 => 4,
        -3 => 6,
        -2 => 7,
        -1..=1 => 8,
        2 => 6,
        3 => 5,
        4 => 3,
        5..=6 => 2,
        _ => 1,
    }
}

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// The plaintext of an encrypted check-in: when, in 10-minute intervals, and how infectious.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CheckInRecord {
    /// First 10-minute interval (UTC unix seconds / 600).
    pub start_interval: u32,
    /// Number of 10-minute intervals.
    pub period: u32,
    /// Transmission risk level, 1 to 8.
    pub transmission_risk_level: u32,
}

impl CheckInRecord {
    /// The record of a stay from `arrival` to `departure` (UTC unix seconds): from the interval the
    /// arrival falls in to the end of the interval the departure falls in, so that the published span
    /// covers the whole stay.
    pub fn covering(
        arrival: u64,
        departure: u64,
        transmission_risk_level: u8,
    ) -> Result<Self, Error> {
        if departure <= arrival {
            return Err(Error::InvalidConfig(format!(
                "a stay must end after it begins (arrival {arrival}, departure {departure})"
            )));
        }
        if !(1..=MAX_TRANSMISSION_RISK_LEVEL).contains(&transmission_risk_level) {
            return Err(Error::InvalidConfig(format!(
                "transmission risk level {transmission_risk_level} is outside 1 to {MAX_TRANSMISSION_RISK_LEVEL}"
            )));
        }
        let start = arrival / INTERVAL_SECONDS;
        let end = departure.div_ceil(INTERVAL_SECONDS);
        let start_interval = u32::try_from(start).map_err(|_| {
            Error::InvalidConfig(format!("arrival {arrival} is beyond the year 83,000"))
        })?;
        Ok(Self {
            start_interval,
            period: u32::try_from(end - start).unwrap_or(u32::MAX),
            transmission_risk_level: u32::from(transmission_risk_level),
        })
    }

    /// Start of the span, UTC unix seconds.
    pub fn start(&self) -> u64 {
        u64::from(self.start_interval) * INTERVAL_SECONDS
    }

    /// End of the span, UTC unix seconds.
    pub fn end(&self) -> u64 {
        (u64::from(self.start_interval) + u64::from(self.period)) * INTERVAL_SECONDS
    }
}

/// `SHA-256("CWA-ENCRYPTION-KEY" || location id)`.
pub fn encryption_key(location_id: &LocationId) -> [u8; 32] {
    sha256(&[ENCRYPTION_KEY_PREFIX, &location_id.0])
}

/// `SHA-256("CWA-MAC-KEY" || location id)`.
pub fn mac_key(location_id: &LocationId) -> [u8; 32] {
    sha256(&[MAC_KEY_PREFIX, &location_id.0])
}

/// `HMAC-SHA256(MAC key, iv || ciphertext)`.
pub fn mac(mac_key: &[u8; 32], iv: &[u8], ciphertext: &[u8]) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, mac_key);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(iv);
    ctx.update(ciphertext);
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.sign().as_ref());
    out
}

/// One encrypted check-in, as uploaded and published.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProtectedReport {
    /// SHA-256 of the location id.
    pub location_id_hash: LocationIdHash,
    /// The AES-CBC IV.
    pub iv: [u8; 16],
    /// The encrypted `CheckInRecord`: 16 to 32 bytes, a multiple of 16.
    pub encrypted_record: Vec<u8>,
    /// HMAC-SHA256 over `iv || encrypted_record`.
    pub mac: [u8; 32],
}

impl ProtectedReport {
    /// Encrypts `record` for the venue `location_id`, with an IV from `rng`.
    pub fn seal(
        location_id: &LocationId,
        record: &CheckInRecord,
        rng: &dyn Random,
    ) -> Result<Self, Error> {
        let iv = random::bytes::<16>(rng)?;
        let plaintext = proto::CheckInRecord {
            start_interval_number: record.start_interval,
            period: record.period,
            transmission_risk_level: record.transmission_risk_level,
        }
        .encode_to_vec();
        let encrypted_record = Aes256CbcEnc::new(&encryption_key(location_id).into(), &iv.into())
            .encrypt_padded_vec::<Pkcs7>(&plaintext);
        let mac = mac(&mac_key(location_id), &iv, &encrypted_record);
        Ok(Self {
            location_id_hash: location_id.hash(),
            iv,
            encrypted_record,
            mac,
        })
    }

    /// Checks the MAC with the venue's location id (in constant time), then decrypts the record.
    pub fn open(&self, location_id: &LocationId) -> Result<CheckInRecord, Error> {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &mac_key(location_id));
        let mut signed = Vec::with_capacity(16 + self.encrypted_record.len());
        signed.extend_from_slice(&self.iv);
        signed.extend_from_slice(&self.encrypted_record);
        hmac::verify(&key, &signed, &self.mac).map_err(|_| {
            report_error("its MAC does not match: it was altered, or is for another venue")
        })?;
        let plaintext = Aes256CbcDec::new(&encryption_key(location_id).into(), &self.iv.into())
            .decrypt_padded_vec::<Pkcs7>(&self.encrypted_record)
            .map_err(|_| report_error("its padding is wrong after decryption"))?;
        let record = proto::CheckInRecord::decode(plaintext.as_slice()).map_err(|e| {
            report_error(&format!(
                "the decrypted record is not a CheckInRecord ({e})"
            ))
        })?;
        Ok(CheckInRecord {
            start_interval: record.start_interval_number,
            period: record.period,
            transmission_risk_level: record.transmission_risk_level,
        })
    }

    /// A fake report: random hash, IV, ciphertext of the real size and MAC. It matches no venue.
    pub fn fake(rng: &dyn Random) -> Result<Self, Error> {
        Ok(Self {
            location_id_hash: LocationIdHash(random::bytes::<32>(rng)?),
            iv: random::bytes::<16>(rng)?,
            encrypted_record: random::bytes::<RECORD_CIPHERTEXT_BYTES>(rng)?.to_vec(),
            mac: random::bytes::<32>(rng)?,
        })
    }

    /// The `CheckInProtectedReport` protobuf.
    pub fn encode(&self) -> Vec<u8> {
        proto::CheckInProtectedReport::from(self).encode_to_vec()
    }

    /// Parses a `CheckInProtectedReport` protobuf and checks its field sizes.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let message = proto::CheckInProtectedReport::decode(bytes)
            .map_err(|e| report_error(&format!("not a CheckInProtectedReport ({e})")))?;
        Self::try_from(message).map_err(|skip| report_error(skip.describe()))
    }
}

fn report_error(reason: &str) -> Error {
    CheckInError::Report(reason.to_owned()).into()
}

impl TryFrom<proto::CheckInProtectedReport> for ProtectedReport {
    type Error = ReportSkip;

    fn try_from(m: proto::CheckInProtectedReport) -> Result<Self, ReportSkip> {
        let len = m.encrypted_check_in_record.len();
        if len == 0 || len > MAX_RECORD_CIPHERTEXT_BYTES || !len.is_multiple_of(16) {
            return Err(ReportSkip::BadCiphertext);
        }
        Ok(Self {
            location_id_hash: LocationIdHash(
                m.location_id_hash
                    .try_into()
                    .map_err(|_| ReportSkip::BadHash)?,
            ),
            iv: m.iv.try_into().map_err(|_| ReportSkip::BadIv)?,
            encrypted_record: m.encrypted_check_in_record,
            mac: m.mac.try_into().map_err(|_| ReportSkip::BadMac)?,
        })
    }
}

impl From<&ProtectedReport> for proto::CheckInProtectedReport {
    fn from(r: &ProtectedReport) -> Self {
        Self {
            location_id_hash: r.location_id_hash.0.to_vec(),
            iv: r.iv.to_vec(),
            encrypted_check_in_record: r.encrypted_record.clone(),
            mac: r.mac.to_vec(),
        }
    }
}

/// Why a published report was skipped: one bad report must not hide the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReportSkip {
    /// Not a valid `CheckInProtectedReport` protobuf.
    Malformed,
    /// The location-id hash is not 32 bytes.
    BadHash,
    /// The IV is not 16 bytes.
    BadIv,
    /// The ciphertext is empty, longer than 32 bytes or not whole AES blocks.
    BadCiphertext,
    /// The MAC is not 32 bytes.
    BadMac,
}

impl ReportSkip {
    /// A short description for reports.
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Malformed => "malformed report",
            Self::BadHash => "location-id hash is not 32 bytes",
            Self::BadIv => "IV is not 16 bytes",
            Self::BadCiphertext => "encrypted record is not 1 or 2 AES blocks",
            Self::BadMac => "MAC is not 32 bytes",
        }
    }
}

/// Pads `reports` with fakes up to the next multiple of `bucket` (at least one bucket, so that no
/// check-ins and a few look alike) and sorts them by location-id hash, so that neither the count nor the
/// order tells which are real.
pub fn pad_with_fakes(
    mut reports: Vec<ProtectedReport>,
    bucket: usize,
    rng: &dyn Random,
) -> Result<Vec<ProtectedReport>, Error> {
    let bucket = bucket.max(1);
    let total = reports.len().div_ceil(bucket).max(1) * bucket;
    while reports.len() < total {
        reports.push(ProtectedReport::fake(rng)?);
    }
    reports.sort_by_key(|r| r.location_id_hash);
    Ok(reports)
}

#[cfg(test)]
mod tests;
