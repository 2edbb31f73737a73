//! Bluezone's published daily keys: `{"data":[{"daily_key":HEX,"time_start":s,"max":96,"time_end":s}]}`.
//!
//! Bluezone's apps accepted this JSON from anyone who could answer the request; OpenZone accepts it only
//! with a detached ECDSA P-256 signature over its exact bytes, checked before the JSON is even parsed.

use serde::Deserialize;

use super::signing::{read_signed_json, SignedJson, VerificationKey};
use super::KeySkip;
use crate::error::Error;
use crate::protocol::bluezone_v3::{utc_day, DailyKey, SECS_PER_DAY};

/// The largest key list accepted: about 100,000 keys.
pub const MAX_JSON_BYTES: usize = 16 << 20;

#[derive(Deserialize)]
struct KeyList {
    data: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    daily_key: String,
    time_start: u64,
    max: u32,
    time_end: u64,
}

/// The keys of a verified list, with the entries that were skipped and why.
#[derive(Debug, Clone, Default)]
pub struct BluezoneKeys {
    /// Valid daily keys, in file order.
    pub keys: Vec<DailyKey>,
    /// Skipped entries.
    pub skipped: Vec<KeySkip>,
}

/// Verifies `signature` over `json` with the configured keys, then parses the list.
pub fn parse_signed(
    json: &[u8],
    signature: &[u8],
    keys: &[VerificationKey],
) -> Result<BluezoneKeys, Error> {
    read_signed_json(json, signature, keys)
}

impl SignedJson for BluezoneKeys {
    const MAX_BYTES: usize = MAX_JSON_BYTES;

    fn too_large(len: usize) -> Error {
        Error::Export(format!(
            "the Bluezone key list is {len} bytes; at most {MAX_JSON_BYTES} are accepted"
        ))
    }

    fn parse(json: &[u8]) -> Result<Self, Error> {
        let list: KeyList = serde_json::from_slice(json).map_err(|e| {
            Error::Export(format!(
                "the Bluezone key list is not the expected JSON: {e}"
            ))
        })?;
        let mut out = BluezoneKeys::default();
        for entry in list.data {
            match daily_key(&entry) {
                Ok(key) => out.keys.push(key),
                Err(skip) => out.skipped.push(skip),
            }
        }
        Ok(out)
    }
}

fn daily_key(entry: &Entry) -> Result<DailyKey, KeySkip> {
    let bytes: [u8; 32] = hex::decode(entry.daily_key.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(KeySkip::BadKeyData)?;
    // A daily key covers one UTC day: its window must start and end within a day of each other.
    if entry.time_end <= entry.time_start || entry.time_end - entry.time_start > SECS_PER_DAY {
        return Err(KeySkip::BadInterval);
    }
    DailyKey::new(bytes, utc_day(entry.time_start), entry.max)
        .map_err(|_| KeySkip::BadRollingPeriod)
}

/// Serialises daily keys as Bluezone's JSON (for the key server and tests).
pub fn to_json(keys: &[DailyKey]) -> Vec<u8> {
    let data: Vec<serde_json::Value> = keys
        .iter()
        .map(|k| {
            serde_json::json!({
                "daily_key": hex::encode_upper(k.as_bytes()),
                "time_start": k.day_start_secs(),
                "max": k.slots_per_day(),
                "time_end": k.day_start_secs() + SECS_PER_DAY,
            })
        })
        .collect();
    serde_json::json!({ "data": data }).to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::signing::SigningKey;

    #[test]
    fn signed_lists_round_trip() {
        let (signer, _) = SigningKey::generate("bz", "v1").unwrap();
        let keys = vec![
            DailyKey::new([1; 32], 18_760, 96).unwrap(),
            DailyKey::new([2; 32], 18_761, 48).unwrap(),
        ];
        let json = to_json(&keys);
        let sig = signer.sign(&json).unwrap();
        let parsed = parse_signed(&json, &sig, &[signer.verification_key()]).unwrap();
        assert_eq!(parsed.keys, keys);
        assert!(parsed.skipped.is_empty());
    }

    #[test]
    fn unsigned_or_tampered_lists_are_refused() {
        let (signer, _) = SigningKey::generate("bz", "v1").unwrap();
        let json = to_json(&[DailyKey::new([1; 32], 18_760, 96).unwrap()]);
        let sig = signer.sign(&json).unwrap();
        let public = [signer.verification_key()];
        let mut tampered = json.clone();
        tampered[20] ^= 1;
        assert!(matches!(
            parse_signed(&tampered, &sig, &public),
            Err(Error::Signature(_))
        ));
        assert!(matches!(
            parse_signed(&json, b"", &public),
            Err(Error::Signature(_))
        ));
        assert!(matches!(
            parse_signed(&json, &sig, &[]),
            Err(Error::Signature(_))
        ));
        let huge = vec![b' '; MAX_JSON_BYTES + 1];
        assert!(matches!(
            parse_signed(&huge, &sig, &public),
            Err(Error::Export(_))
        ));
    }

    #[test]
    fn bad_entries_are_skipped_and_garbage_is_an_error() {
        let (signer, _) = SigningKey::generate("bz", "v1").unwrap();
        let public = [signer.verification_key()];
        let good = "AB".repeat(32);
        let json = format!(
            r#"{{"data":[
                {{"daily_key":"{good}","time_start":1620864000,"max":96,"time_end":1620950400}},
                {{"daily_key":"12","time_start":1620864000,"max":96,"time_end":1620950400}},
                {{"daily_key":"{good}","time_start":1620864000,"max":0,"time_end":1620950400}},
                {{"daily_key":"{good}","time_start":1620864000,"max":96,"time_end":1620000000}}
            ]}}"#
        );
        let sig = signer.sign(json.as_bytes()).unwrap();
        let parsed = parse_signed(json.as_bytes(), &sig, &public).unwrap();
        assert_eq!(parsed.keys.len(), 1);
        assert_eq!(parsed.keys[0].day(), 18_760);
        assert_eq!(
            parsed.skipped,
            [
                KeySkip::BadKeyData,
                KeySkip::BadRollingPeriod,
                KeySkip::BadInterval
            ]
        );
        for garbage in [
            &b"not json"[..],
            b"{}",
            br#"{"data":{}}"#,
            br#"{"data":[{"daily_key":1}]}"#,
            b"{\"data\":[",
        ] {
            let sig = signer.sign(garbage).unwrap();
            assert!(matches!(
                parse_signed(garbage, &sig, &public),
                Err(Error::Export(_))
            ));
        }
    }
}
