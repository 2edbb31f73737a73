//! Corona-Warn-App's published test vectors (`wire/data/cwa/`, provenance in its README): test
//! support for checkin's tests.

use base64::Engine as _;
use serde::Deserialize;

const VECTORS: &str = include_str!("../../data/cwa/presence-tracing-vectors.json");

/// Every vector.
#[derive(Debug, Deserialize)]
pub struct Vectors {
    pub location_ids: Vec<VenueVector>,
    pub links: Vec<VenueVector>,
    pub location_id_hashes: Vec<HashVector>,
    pub keys: Vec<KeyVector>,
    pub macs: Vec<MacVector>,
    pub protected_reports: Vec<ReportVector>,
}

/// A venue with its payload and location id, or with its link.
#[derive(Debug, Deserialize)]
pub struct VenueVector {
    pub source: String,
    pub payload_base64: Option<String>,
    pub location_id_base64: Option<String>,
    pub link: Option<String>,
    pub description: String,
    pub address: String,
    pub r#type: i32,
    pub default_checkin_minutes: u32,
    pub start: Option<u64>,
    pub end: Option<u64>,
    pub seed_base64: String,
    pub public_key_base64: String,
}

#[derive(Debug, Deserialize)]
pub struct HashVector {
    pub location_id_hex: String,
    pub hash_hex: String,
}

#[derive(Debug, Deserialize)]
pub struct KeyVector {
    pub location_id_base64: String,
    pub encryption_key_base64: String,
    pub mac_key_base64: String,
}

#[derive(Debug, Deserialize)]
pub struct MacVector {
    pub mac_key_base64: String,
    pub iv_base64: String,
    pub ciphertext_base64: String,
    pub mac_base64: String,
}

#[derive(Debug, Deserialize)]
pub struct ReportVector {
    pub location_id_base64: String,
    pub iv_base64: String,
    pub encrypted_check_in_record_base64: String,
    pub mac_base64: String,
    pub start_interval_number: u32,
    pub period: u32,
    pub transmission_risk_level: u32,
}

/// The vectors.
pub fn cwa() -> Vectors {
    serde_json::from_str(VECTORS).expect("the committed vectors parse")
}

/// Standard or URL-safe base64, padded or not.
pub fn b64(text: &str) -> Vec<u8> {
    let standard = text.replace('-', "+").replace('_', "/");
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(standard.trim_end_matches('='))
        .expect("the committed vectors are base64")
}

/// 32 bytes of base64.
pub fn b64_32(text: &str) -> [u8; 32] {
    b64(text).try_into().expect("a 32-byte vector")
}
