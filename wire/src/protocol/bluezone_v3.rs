//! `bluezone-v3`: the identifiers of Bluezone 3.x phones, spoken only to interoperate with them.
//!
//! The published Bluezone 3.x algorithm (`BluezoneIdGenerator` in BluezoneGlobal/react-native-bluetooth-scan):
//!
//! ```text
//! D_0     = root key (32 random bytes)                 on the root key's UTC day
//! D_(n+1) = SHA-256(D_n)                               at each UTC midnight
//! S_0     = SHA-256(D || ASCII("bluzonesubkey"))       the misspelling is part of the protocol
//! S_(i+1) = SHA-256(S_i)
//! ID_i    = bytes 0,4,8,12,16,18,20,22,24,26,28,30 of S_i      12 bytes, uppercase hex in text
//! slot i  = [midnight + i * 86400 / max, midnight + (i + 1) * 86400 / max)      max = 96 by default
//! ```
//!
//! The hash chain runs forward, so whoever learns one daily key can compute every later day's identifiers
//! (`docs/protocol.md` explains the consequence). This module therefore offers no way to read a root key out:
//! a positive user publishes [`DailyKey`]s of the infectious days only.

use ring::digest::{Context, SHA256};
use ring::rand::SecureRandom;

use super::hex_bytes::hex_bytes;
use super::{Payload, Scheme, SchemeId, Slot};
use crate::error::Error;

// Bluezone's slots divide the UTC day from midnight.
pub use crate::units::{BLUEZONE_SLOTS_PER_DAY as DEFAULT_SLOTS_PER_DAY, SECS_PER_DAY};

/// The most slots per day accepted: one a minute. Bluezone's server could change the count; more would
/// make matching needlessly slow and no Bluezone release used it.
pub const MAX_SLOTS_PER_DAY: u32 = 1440;

/// Suffix hashed with the daily key to start the day's sub-key chain (sic).
const SUBKEY_SUFFIX: &[u8] = b"bluzonesubkey";

/// Which bytes of a sub-key make up the identifier.
const ID_BYTE_POSITIONS: [usize; 12] = [0, 4, 8, 12, 16, 18, 20, 22, 24, 26, 28, 30];

hex_bytes!(
    /// A 12-byte Bluezone identifier, uppercase hex in text as Bluezone printed it.
    BluezoneId,
    12,
    "bluezone identifier",
    hex::encode_upper
);

pub use crate::units::day_of_secs as utc_day;

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = Context::new(&SHA256);
    for part in parts {
        ctx.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// `ID_i`: bytes 0,4,8,12,16,18,20,22,24,26,28,30 of `S_i`.
fn id_of_subkey(subkey: &[u8; 32]) -> BluezoneId {
    BluezoneId(ID_BYTE_POSITIONS.map(|p| subkey[p]))
}

/// A Bluezone root key with its UTC day. Secret for ever: it generates every future identifier.
#[derive(Clone, PartialEq, Eq)]
pub struct RootKey {
    key: [u8; 32],
    day: u32,
}

impl RootKey {
    /// A fresh random root key whose first day is the UTC day of `unix_secs`.
    pub fn generate(rng: &dyn SecureRandom, unix_secs: u64) -> Result<Self, Error> {
        let mut key = [0u8; 32];
        rng.fill(&mut key).map_err(|_| Error::Random)?;
        Ok(Self {
            key,
            day: utc_day(unix_secs),
        })
    }

    /// A root key from its bytes and first UTC day (a stored key, a test vector).
    pub const fn from_bytes(key: [u8; 32], day: u32) -> Self {
        Self { key, day }
    }

    /// The UTC day on which `D_0` is the root key itself.
    pub const fn day(&self) -> u32 {
        self.day
    }

    /// The raw root key, for the encrypted store only: it must never leave the phone.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.key
    }

    /// `D_n` for UTC day `day` (n = day − root day), with `slots_per_day` slots.
    pub fn daily_key(&self, day: u32, slots_per_day: u32) -> Result<DailyKey, Error> {
        let n = day.checked_sub(self.day).ok_or_else(|| {
            Error::InvalidKey(format!(
                "day {day} is before the root key's first day {}",
                self.day
            ))
        })?;
        let mut d = self.key;
        for _ in 0..n {
            d = sha256(&[&d]);
        }
        DailyKey::new(d, day, slots_per_day)
    }
}

impl std::fmt::Debug for RootKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RootKey {{ day: {}, .. }}", self.day)
    }
}

/// One day's Bluezone key `D_n`: what a positive Bluezone user publishes, one per infectious day.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DailyKey {
    key: [u8; 32],
    day: u32,
    slots_per_day: u32,
}

impl DailyKey {
    /// A daily key for UTC day `day`; checks `slots_per_day` is between 1 and [`MAX_SLOTS_PER_DAY`].
    pub fn new(key: [u8; 32], day: u32, slots_per_day: u32) -> Result<Self, Error> {
        if !(1..=MAX_SLOTS_PER_DAY).contains(&slots_per_day) {
            return Err(Error::InvalidKey(format!(
                "{slots_per_day} slots per day is outside 1..={MAX_SLOTS_PER_DAY}"
            )));
        }
        Ok(Self {
            key,
            day,
            slots_per_day,
        })
    }

    /// The key bytes `D_n`.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.key
    }

    /// The UTC day (days since 1970-01-01) the key covers.
    pub const fn day(&self) -> u32 {
        self.day
    }

    /// Identifier slots in the day.
    pub const fn slots_per_day(&self) -> u32 {
        self.slots_per_day
    }

    /// Unix seconds of the day's UTC midnight.
    pub const fn day_start_secs(&self) -> u64 {
        self.day as u64 * SECS_PER_DAY
    }

    /// `S_0 = SHA-256(D || "bluzonesubkey")`.
    pub fn first_subkey(&self) -> [u8; 32] {
        sha256(&[&self.key, SUBKEY_SUFFIX])
    }

    /// The next day's key, `D_(n+1) = SHA-256(D_n)`: why publishing one day exposes the days after it.
    pub fn next_day(&self) -> DailyKey {
        DailyKey {
            key: sha256(&[&self.key]),
            day: self.day + 1,
            slots_per_day: self.slots_per_day,
        }
    }

    fn slot_offset(&self, index: u32) -> u64 {
        u64::from(index) * SECS_PER_DAY / u64::from(self.slots_per_day)
    }
}

impl std::fmt::Debug for DailyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Unpublished daily keys are as secret as the root: keep them out of logs.
        write!(
            f,
            "DailyKey {{ day: {}, slots_per_day: {}, .. }}",
            self.day, self.slots_per_day
        )
    }
}

/// The `bluezone-v3` scheme.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BluezoneV3;

impl Scheme for BluezoneV3 {
    type Key = DailyKey;
    type Identifier = BluezoneId;

    const ID: SchemeId = SchemeId::BluezoneV3;

    fn slot(key: &DailyKey, index: u32) -> Option<Slot> {
        (index < key.slots_per_day).then(|| {
            let start = key.slot_offset(index);
            Slot {
                index,
                start_secs: key.day_start_secs() + start,
                duration_secs: key.slot_offset(index + 1) - start,
            }
        })
    }

    fn slot_at(key: &DailyKey, unix_secs: u64) -> Option<Slot> {
        let offset = unix_secs.checked_sub(key.day_start_secs())?;
        if offset >= SECS_PER_DAY {
            return None;
        }
        // The inverse of slot_offset: the last slot whose start is at or before `offset`.
        let index = ((offset + 1) * u64::from(key.slots_per_day)).div_ceil(SECS_PER_DAY) - 1;
        Self::slot(key, index as u32)
    }

    fn identifier(key: &DailyKey, index: u32) -> BluezoneId {
        let mut s = key.first_subkey();
        for _ in 0..index {
            s = sha256(&[&s]);
        }
        id_of_subkey(&s)
    }

    fn identifiers(key: &DailyKey, out: &mut Vec<BluezoneId>) {
        out.clear();
        out.reserve(key.slots_per_day as usize);
        let mut s = key.first_subkey();
        for i in 0..key.slots_per_day {
            if i > 0 {
                s = sha256(&[&s]);
            }
            out.push(id_of_subkey(&s));
        }
    }

    fn payload(&self, key: &DailyKey, index: u32) -> Payload {
        Payload::BluezoneV3 {
            id: Self::identifier(key, index),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Day {
        offset: u32,
        daily_key: [u8; 32],
        sub_key_0: [u8; 32],
        ids: Vec<BluezoneId>,
    }

    fn vectors() -> (RootKey, Vec<Day>) {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/vectors/bluezone-v3-vectors.json"
        ))
        .expect("the test vectors are in wire/tests/data/vectors");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let bytes32 = |s: &serde_json::Value| {
            <[u8; 32]>::try_from(hex::decode(s.as_str().unwrap()).unwrap()).unwrap()
        };
        assert_eq!(v["root_day_utc"], "2021-05-13");
        assert_eq!(v["slots_per_day"], 96);
        // 2021-05-13 is day 18760 since 1970-01-01.
        let root = RootKey::from_bytes(bytes32(&v["root_key"]), 18_760);
        let days = v["days"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| Day {
                offset: d["day_offset"].as_u64().unwrap() as u32,
                daily_key: bytes32(&d["daily_key"]),
                sub_key_0: bytes32(&d["sub_key_0"]),
                ids: d["ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|id| id.as_str().unwrap().parse().unwrap())
                    .collect(),
            })
            .collect();
        (root, days)
    }

    #[test]
    fn daily_keys_and_subkeys_match_vectors() {
        let (root, days) = vectors();
        assert_eq!(days.len(), 3);
        for day in &days {
            let key = root.daily_key(root.day() + day.offset, 96).unwrap();
            assert_eq!(key.as_bytes(), &day.daily_key, "D_{}", day.offset);
            assert_eq!(
                key.first_subkey(),
                day.sub_key_0,
                "S_0 of day {}",
                day.offset
            );
        }
    }

    #[test]
    fn all_ids_match_vectors() {
        let (root, days) = vectors();
        let mut ids = Vec::new();
        for day in &days {
            let key = root.daily_key(root.day() + day.offset, 96).unwrap();
            assert_eq!(day.ids.len(), 96);
            BluezoneV3::identifiers(&key, &mut ids);
            assert_eq!(ids, day.ids, "batch IDs of day {}", day.offset);
            for (i, id) in day.ids.iter().enumerate() {
                assert_eq!(BluezoneV3::identifier(&key, i as u32), *id);
            }
        }
    }

    #[test]
    fn ids_print_as_uppercase_hex() {
        let (_, days) = vectors();
        let text = days[0].ids[0].to_string();
        assert_eq!(text, text.to_uppercase());
        assert_eq!(text.len(), 24);
    }

    #[test]
    fn next_day_is_the_hash_chain() {
        let (root, _) = vectors();
        let d0 = root.daily_key(root.day(), 96).unwrap();
        assert_eq!(d0.next_day(), root.daily_key(root.day() + 1, 96).unwrap());
        assert!(root.daily_key(root.day() - 1, 96).is_err());
    }

    #[test]
    fn slots_divide_the_utc_day() {
        let key = DailyKey::new([7; 32], 18_760, 96).unwrap();
        let midnight = 18_760 * SECS_PER_DAY;
        assert_eq!(BluezoneV3::slot_at(&key, midnight - 1), None);
        assert_eq!(BluezoneV3::slot_at(&key, midnight).unwrap().index, 0);
        assert_eq!(BluezoneV3::slot_at(&key, midnight + 899).unwrap().index, 0);
        let s1 = BluezoneV3::slot_at(&key, midnight + 900).unwrap();
        assert_eq!(
            (s1.index, s1.start_secs, s1.duration_secs),
            (1, midnight + 900, 900)
        );
        assert_eq!(
            BluezoneV3::slot_at(&key, midnight + SECS_PER_DAY - 1)
                .unwrap()
                .index,
            95
        );
        assert_eq!(BluezoneV3::slot_at(&key, midnight + SECS_PER_DAY), None);
    }

    #[test]
    fn uneven_slot_counts_cover_the_day_without_gaps() {
        for slots in [1, 7, 96, 97, 1000, MAX_SLOTS_PER_DAY] {
            let key = DailyKey::new([1; 32], 100, slots).unwrap();
            let mut expected_start = key.day_start_secs();
            for i in 0..slots {
                let slot = BluezoneV3::slot(&key, i).unwrap();
                assert_eq!(slot.start_secs, expected_start);
                assert!(slot.duration_secs > 0);
                assert_eq!(BluezoneV3::slot_at(&key, slot.start_secs), Some(slot));
                assert_eq!(BluezoneV3::slot_at(&key, slot.end_secs() - 1), Some(slot));
                expected_start = slot.end_secs();
            }
            assert_eq!(expected_start, key.day_start_secs() + SECS_PER_DAY);
            assert_eq!(BluezoneV3::slot(&key, slots), None);
        }
    }

    #[test]
    fn slot_count_is_checked() {
        assert!(DailyKey::new([0; 32], 0, 0).is_err());
        assert!(DailyKey::new([0; 32], 0, MAX_SLOTS_PER_DAY + 1).is_err());
    }

    #[test]
    fn keys_stay_out_of_debug_output() {
        let root = RootKey::from_bytes([0xcd; 32], 5);
        assert!(!format!("{root:?}").contains("cd"));
        let daily = root.daily_key(5, 96).unwrap();
        assert!(!format!("{daily:?}").to_lowercase().contains("cdcd"));
    }
}
