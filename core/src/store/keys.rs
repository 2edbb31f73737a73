//! Own keys: this phone's en-v1 Temporary Exposure Keys and its bluezone-v3 root key, as sealed records.
//!
//! Logical keys (hidden behind the records' names): `0x00 || rolling_start_interval (u32 BE)` for a TEK,
//! `0x01` for the single root key. The two plaintext layouts differ in length, which tells them apart. The
//! root key never leaves the store: a positive report reads [`DailyKey`]s derived from it, one per day of
//! the infectious window.

use crate::error::Error;
use crate::protocol::bluezone_v3::{DailyKey, RootKey};
use crate::protocol::en_v1::{ExposureKey, TemporaryExposureKey};

const RECORD_VERSION: u8 = 1;
const KIND_EN_V1: u8 = 0;
const KIND_BLUEZONE_ROOT: u8 = 1;

pub(crate) fn en_record_key(rolling_start_interval: u32) -> [u8; 5] {
    let mut key = [KIND_EN_V1; 5];
    key[1..].copy_from_slice(&rolling_start_interval.to_be_bytes());
    key
}

pub(crate) const ROOT_RECORD_KEY: [u8; 1] = [KIND_BLUEZONE_ROOT];

/// Length of an en-v1 key's plaintext: version, TEK, first interval, period.
pub(crate) const EN_RECORD_LEN: usize = 1 + 16 + 4 + 4;

pub(crate) fn encode_en(key: &ExposureKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(25);
    out.push(RECORD_VERSION);
    out.extend_from_slice(key.tek.as_bytes());
    out.extend_from_slice(&key.rolling_start_interval.to_be_bytes());
    out.extend_from_slice(&key.rolling_period.to_be_bytes());
    out
}

pub(crate) fn decode_en(bytes: &[u8]) -> Result<ExposureKey, Error> {
    let corrupt = || Error::StoreCorrupt("an own-key record has an unknown layout".into());
    let [RECORD_VERSION, rest @ ..] = bytes else {
        return Err(corrupt());
    };
    let (tek, rest) = rest.split_first_chunk::<16>().ok_or_else(corrupt)?;
    let (start, rest) = rest.split_first_chunk::<4>().ok_or_else(corrupt)?;
    let period: [u8; 4] = rest.try_into().map_err(|_| corrupt())?;
    ExposureKey::new(
        TemporaryExposureKey::from_bytes(*tek),
        u32::from_be_bytes(*start),
        u32::from_be_bytes(period),
    )
    .map_err(|_| corrupt())
}

pub(crate) fn encode_root(root: &RootKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(37);
    out.push(RECORD_VERSION);
    out.extend_from_slice(root.as_bytes());
    out.extend_from_slice(&root.day().to_be_bytes());
    out
}

pub(crate) fn decode_root(bytes: &[u8]) -> Result<RootKey, Error> {
    let corrupt =
        || Error::StoreCorrupt("the bluezone-v3 root key record has an unknown layout".into());
    let [RECORD_VERSION, rest @ ..] = bytes else {
        return Err(corrupt());
    };
    let (key, rest) = rest.split_first_chunk::<32>().ok_or_else(corrupt)?;
    let day: [u8; 4] = rest.try_into().map_err(|_| corrupt())?;
    Ok(RootKey::from_bytes(*key, u32::from_be_bytes(day)))
}

/// The user's explicit agreement to share their keys, required to read keys out for a positive report.
///
/// Only the UI, after showing what will be shared, should construct this.
#[derive(Debug, Clone, Copy)]
pub struct UserConsent(());

impl UserConsent {
    /// The user agreed, on this screen, to publish the keys of their infectious days.
    pub const fn given() -> Self {
        Self(())
    }
}

/// The keys a positive user publishes: en-v1 TEKs and bluezone-v3 daily keys of the infectious days.
/// Never the root key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportKeys {
    /// en-v1 keys that overlap the infectious window.
    pub en_v1: Vec<ExposureKey>,
    /// bluezone-v3 daily keys of the infectious days (empty if the phone never spoke bluezone-v3).
    pub bluezone_v3: Vec<DailyKey>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_reject_garbage() {
        let key =
            ExposureKey::new(TemporaryExposureKey::from_bytes([4; 16]), 2_700_000, 77).unwrap();
        let bytes = encode_en(&key);
        assert_eq!(decode_en(&bytes).unwrap(), key);
        for len in 0..bytes.len() {
            assert!(decode_en(&bytes[..len]).is_err());
        }
        let mut zero_period = bytes.clone();
        zero_period[24] = 0;
        assert!(decode_en(&zero_period).is_err());
        let root = RootKey::from_bytes([9; 32], 19_000);
        let bytes = encode_root(&root);
        assert_eq!(decode_root(&bytes).unwrap(), root);
        assert!(decode_root(&bytes[..36]).is_err());
        assert!(decode_root(&[2]).is_err());
    }

    #[test]
    fn the_two_layouts_differ_in_length() {
        let key = ExposureKey::new(TemporaryExposureKey::from_bytes([4; 16]), 1, 1).unwrap();
        assert_eq!(encode_en(&key).len(), EN_RECORD_LEN);
        assert_ne!(
            encode_root(&RootKey::from_bytes([9; 32], 1)).len(),
            EN_RECORD_LEN
        );
        assert_ne!(en_record_key(0).as_slice(), ROOT_RECORD_KEY.as_slice());
    }
}
