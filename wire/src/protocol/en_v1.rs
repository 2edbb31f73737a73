//! `en-v1`: the Exposure Notification cryptography, v1.2 (Apple & Google, April 2020).
//!
//! Each step carries the specification's name and formula:
//!
//! ```text
//! ENIntervalNumber(t) = floor(t / 600)                                  t in unix seconds
//! TEK_i               = CRNG(16)                                         one per day, valid from i (i mod 144 = 0)
//! RPIK_i              = HKDF(TEK_i, NULL, UTF8("EN-RPIK"), 16)
//! PaddedData_j        = UTF8("EN-RPI") || 0x000000000000 || ENIN_j       ENIN_j as u32 little-endian
//! RPI_i,j             = AES128(RPIK_i, PaddedData_j)
//! AEMK_i              = HKDF(TEK_i, NULL, UTF8("EN-AEMK"), 16)
//! AEM_i,j             = AES128-CTR(AEMK_i, RPI_i,j, Metadata)
//! ```
//!
//! HKDF is HKDF-SHA256 (RFC 5869) from ring; AES comes from the RustCrypto `aes` crate because ring exposes
//! no raw block cipher. Its batch API lets the 144 RPIs of a key go through the AES pipeline together.

use aes::cipher::{BlockCipherEncrypt, KeyInit, KeyIvInit, StreamCipher};
use aes::{Aes128, Aes128Enc, Block};
use ring::hkdf;
use ring::rand::SecureRandom;

use super::hex_bytes::hex_bytes;
use super::{Payload, Scheme, SchemeId, Slot};
use crate::error::Error;

pub use crate::units::{en_interval_number, EN_INTERVAL_SECS};

/// `EKRollingPeriod`: the intervals a TEK is valid for, a UTC day's.
pub const EK_ROLLING_PERIOD: u32 = crate::units::EN_INTERVALS_PER_DAY;

/// HKDF info string for the Rolling Proximity Identifier Key.
const INFO_RPIK: &[u8] = b"EN-RPIK";
/// HKDF info string for the Associated Encrypted Metadata Key.
const INFO_AEMK: &[u8] = b"EN-AEMK";

/// Metadata version byte: major 01, minor 00 (bits 7-6 and 5-4), reserved bits 0.
pub const METADATA_VERSION_1_0: u8 = 0x40;

/// The first interval of the TEK in force at `unix_secs`: the ENIN rounded down to a multiple of 144.
pub const fn rolling_start_interval(unix_secs: u64) -> u32 {
    let enin = en_interval_number(unix_secs);
    enin - enin % EK_ROLLING_PERIOD
}

hex_bytes!(
    /// A Rolling Proximity Identifier: what a phone broadcasts for one interval.
    Rpi,
    16,
    "rolling proximity identifier",
    hex::encode
);

hex_bytes!(
    /// Associated Encrypted Metadata: the 4 metadata bytes, encrypted with the AEMK and the RPI as IV.
    Aem,
    4,
    "associated encrypted metadata",
    hex::encode
);

hex_bytes!(
    /// The 4 metadata bytes in clear: version, TX power, two reserved bytes.
    Metadata,
    4,
    "metadata",
    hex::encode
);

impl Metadata {
    /// Version 1.0 metadata announcing `tx_power_dbm`, the calibrated transmit power of this phone.
    pub const fn new(tx_power_dbm: i8) -> Self {
        Metadata([METADATA_VERSION_1_0, tx_power_dbm as u8, 0, 0])
    }

    /// The major version (bits 7-6 of byte 0); 1 for every phone that follows the specification.
    pub const fn major_version(&self) -> u8 {
        self.0[0] >> 6
    }

    /// The sender's TX power in dBm (byte 1, a signed byte).
    pub const fn tx_power_dbm(&self) -> i8 {
        self.0[1] as i8
    }
}

/// A Temporary Exposure Key: 16 random bytes, one per day. Secret until its owner reports positive.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TemporaryExposureKey([u8; 16]);

impl TemporaryExposureKey {
    /// `TEK_i = CRNG(16)`.
    pub fn generate(rng: &dyn SecureRandom) -> Result<Self, Error> {
        let mut bytes = [0u8; 16];
        rng.fill(&mut bytes).map_err(|_| Error::Random)?;
        Ok(Self(bytes))
    }

    /// A TEK from its 16 bytes (a published key, a stored one, a test vector).
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The raw key bytes; only for storage and for publication after a positive report.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// `RPIK_i = HKDF(TEK_i, NULL, UTF8("EN-RPIK"), 16)`.
    pub fn rpik(&self) -> RollingProximityIdentifierKey {
        RollingProximityIdentifierKey(Aes128Enc::new(&hkdf_16(&self.0, INFO_RPIK).into()))
    }

    /// `AEMK_i = HKDF(TEK_i, NULL, UTF8("EN-AEMK"), 16)`.
    pub fn aemk(&self) -> AssociatedEncryptedMetadataKey {
        AssociatedEncryptedMetadataKey(hkdf_16(&self.0, INFO_AEMK))
    }
}

impl std::fmt::Debug for TemporaryExposureKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A TEK is secret until published: never let it slip into a log.
        f.write_str("TemporaryExposureKey(..)")
    }
}

impl std::str::FromStr for TemporaryExposureKey {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let bytes = hex::decode(s.trim()).map_err(|e| Error::InvalidHex {
            what: "temporary exposure key",
            reason: e.to_string(),
        })?;
        <[u8; 16]>::try_from(bytes.as_slice())
            .map(Self)
            .map_err(|_| Error::WrongLength {
                what: "temporary exposure key",
                expected: 16,
                found: bytes.len(),
            })
    }
}

/// HKDF's empty salt, keyed once: building an HMAC key costs two SHA-256 compressions, a third of the
/// whole derivation of a key, and matching derives millions of keys.
// RFC 5869: no salt means HashLen zero bytes; ring pads an empty HMAC key with zeros to the same effect.
static NO_SALT: std::sync::LazyLock<hkdf::Salt> =
    std::sync::LazyLock::new(|| hkdf::Salt::new(hkdf::HKDF_SHA256, &[]));

/// HKDF-SHA256 with no salt and 16 bytes of output.
fn hkdf_16(ikm: &[u8], info: &[u8]) -> [u8; 16] {
    struct Len16;
    impl hkdf::KeyType for Len16 {
        fn len(&self) -> usize {
            16
        }
    }
    let prk = NO_SALT.extract(ikm);
    let mut out = [0u8; 16];
    prk.expand(&[info], Len16)
        .and_then(|okm| okm.fill(&mut out))
        .unwrap_or_else(|_| unreachable!("16 bytes is far below HKDF-SHA256's 8160-byte limit"));
    out
}

/// `PaddedData_j = UTF8("EN-RPI") || 0x000000000000 || ENIN_j` (ENIN as u32 little-endian).
fn padded_data(interval: u32) -> Block {
    // As one little-endian u128, ENIN_j is simply the top 32 bits: built in registers, because writing the
    // prefix and the interval into the block byte by byte stalled store forwarding on the hot path.
    const PREFIX: u128 = u128::from_le_bytes(*b"EN-RPI\0\0\0\0\0\0\0\0\0\0");
    aes::cipher::Array((PREFIX | (u128::from(interval) << 96)).to_le_bytes())
}

/// The Rolling Proximity Identifier Key of one TEK, expanded into an AES-128 key schedule.
#[derive(Clone)]
pub struct RollingProximityIdentifierKey(Aes128Enc);

impl RollingProximityIdentifierKey {
    /// `RPI_i,j = AES128(RPIK_i, PaddedData_j)`.
    pub fn rpi(&self, interval: u32) -> Rpi {
        let mut block = padded_data(interval);
        self.0.encrypt_block(&mut block);
        Rpi(block.0)
    }

    /// The RPIs of `count` consecutive intervals from `first_interval`, appended to `out`.
    pub fn rpis(&self, first_interval: u32, count: u32, out: &mut Vec<Rpi>) {
        out.reserve(count as usize);
        self.for_each_rpi(first_interval, count, |_, rpi| out.push(Rpi(*rpi)));
    }

    /// Calls `f(j, RPI_j)` for `count` consecutive intervals from `first_interval` (`j` counted from 0),
    /// without collecting them: matching probes each RPI as it comes out of the cipher.
    #[inline]
    pub fn for_each_rpi(&self, first_interval: u32, count: u32, f: impl FnMut(u32, &[u8; 16])) {
        RpiBatch::new(first_interval, 0).for_each_rpi(self, first_interval, count, f);
    }
}

/// Derives the RPIs of many keys whose intervals fall in one run: `PaddedData_j` of the run is built once,
/// and each key's RPIs are written over the last key's. Matching derives 144 RPIs for each of a million
/// published keys; building their padded data and clearing room for them, key by key, took a fifth of
/// the matcher's own time.
#[derive(Clone)]
pub struct RpiBatch {
    first_interval: u32,
    padded: Vec<Block>,
    rpis: [Block; EK_ROLLING_PERIOD as usize],
}

impl RpiBatch {
    /// Room for the RPIs of keys, with the padded data of the `count` intervals from `first_interval`.
    pub fn new(first_interval: u32, count: u32) -> Self {
        Self {
            first_interval,
            padded: (0..count)
                .map(|k| padded_data(first_interval.wrapping_add(k)))
                .collect(),
            rpis: [Block::default(); EK_ROLLING_PERIOD as usize],
        }
    }

    /// [`RollingProximityIdentifierKey::for_each_rpi`] of `rpik`, reading the padded data built for the
    /// run where it holds the intervals.
    #[inline]
    pub fn for_each_rpi(
        &mut self,
        rpik: &RollingProximityIdentifierKey,
        first_interval: u32,
        count: u32,
        mut f: impl FnMut(u32, &[u8; 16]),
    ) {
        let mut done = 0u32;
        while done < count {
            // A key's worth at a time: the batch call keeps the AES pipeline full.
            let n = (count - done).min(EK_ROLLING_PERIOD);
            let first = first_interval.wrapping_add(done);
            let rpis = &mut self.rpis[..n as usize];
            let built = first.checked_sub(self.first_interval).and_then(|start| {
                let start = start as usize;
                self.padded.get(start..start.checked_add(n as usize)?)
            });
            match built {
                Some(padded) => rpik
                    .0
                    .encrypt_blocks_b2b(padded, rpis)
                    .unwrap_or_else(|_| unreachable!("as many padded blocks as RPIs")),
                None => {
                    for (k, block) in rpis.iter_mut().enumerate() {
                        *block = padded_data(first.wrapping_add(k as u32));
                    }
                    rpik.0.encrypt_blocks(rpis);
                }
            }
            for (k, rpi) in rpis.iter().enumerate() {
                f(done + k as u32, &rpi.0);
            }
            done += n;
        }
    }
}

/// The Associated Encrypted Metadata Key of one TEK.
#[derive(Clone)]
pub struct AssociatedEncryptedMetadataKey([u8; 16]);

impl AssociatedEncryptedMetadataKey {
    /// `AEM_i,j = AES128-CTR(AEMK_i, RPI_i,j, Metadata)`.
    pub fn encrypt(&self, rpi: &Rpi, metadata: &Metadata) -> Aem {
        Aem(self.apply_keystream(rpi, metadata.0))
    }

    /// The inverse of [`encrypt`](Self::encrypt): CTR mode is its own inverse.
    pub fn decrypt(&self, rpi: &Rpi, aem: &Aem) -> Metadata {
        Metadata(self.apply_keystream(rpi, aem.0))
    }

    fn apply_keystream(&self, rpi: &Rpi, mut data: [u8; 4]) -> [u8; 4] {
        let mut ctr = ctr::Ctr128BE::<Aes128>::new(&self.0.into(), &rpi.0.into());
        ctr.apply_keystream(&mut data);
        data
    }
}

/// A TEK with the intervals it covers: what a phone keeps for a day and what a positive case publishes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExposureKey {
    /// The key itself.
    pub tek: TemporaryExposureKey,
    /// The first interval (ENIN) the key covers.
    pub rolling_start_interval: u32,
    /// How many intervals the key covers, 1 to 144; shorter when the key was released early.
    pub rolling_period: u32,
}

impl ExposureKey {
    /// A key covering `rolling_period` intervals from `rolling_start_interval`; checks the period is 1-144.
    pub fn new(
        tek: TemporaryExposureKey,
        rolling_start_interval: u32,
        rolling_period: u32,
    ) -> Result<Self, Error> {
        if !(1..=EK_ROLLING_PERIOD).contains(&rolling_period) {
            return Err(Error::InvalidKey(format!(
                "rolling period {rolling_period} is outside 1..={EK_ROLLING_PERIOD} intervals"
            )));
        }
        if rolling_start_interval.checked_add(rolling_period).is_none() {
            return Err(Error::InvalidKey(format!(
                "rolling start interval {rolling_start_interval} is past the end of time"
            )));
        }
        Ok(Self {
            tek,
            rolling_start_interval,
            rolling_period,
        })
    }

    /// A fresh random key for the UTC day containing `unix_secs`, valid for the whole day.
    pub fn generate(rng: &dyn SecureRandom, unix_secs: u64) -> Result<Self, Error> {
        Ok(Self {
            tek: TemporaryExposureKey::generate(rng)?,
            rolling_start_interval: rolling_start_interval(unix_secs),
            rolling_period: EK_ROLLING_PERIOD,
        })
    }

    /// The first interval after the key: the key is no longer used from then on.
    pub const fn end_interval(&self) -> u32 {
        self.rolling_start_interval + self.rolling_period
    }
}

/// The `en-v1` scheme for a phone that announces `metadata` (its TX power) in every AEM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnV1 {
    /// The metadata this phone encrypts into its AEMs.
    pub metadata: Metadata,
}

impl EnV1 {
    /// The scheme for a phone whose calibrated TX power is `tx_power_dbm`.
    pub const fn new(tx_power_dbm: i8) -> Self {
        Self {
            metadata: Metadata::new(tx_power_dbm),
        }
    }
}

impl Scheme for EnV1 {
    type Key = ExposureKey;
    type Identifier = Rpi;

    const ID: SchemeId = SchemeId::EnV1;

    fn slot(key: &ExposureKey, index: u32) -> Option<Slot> {
        (index < key.rolling_period).then(|| Slot {
            index,
            start_secs: u64::from(key.rolling_start_interval + index) * EN_INTERVAL_SECS,
            duration_secs: EN_INTERVAL_SECS,
        })
    }

    fn slot_at(key: &ExposureKey, unix_secs: u64) -> Option<Slot> {
        let index = en_interval_number(unix_secs).checked_sub(key.rolling_start_interval)?;
        Self::slot(key, index)
    }

    fn identifier(key: &ExposureKey, index: u32) -> Rpi {
        key.tek.rpik().rpi(key.rolling_start_interval + index)
    }

    fn identifiers(key: &ExposureKey, out: &mut Vec<Rpi>) {
        out.clear();
        key.tek
            .rpik()
            .rpis(key.rolling_start_interval, key.rolling_period, out);
    }

    fn payload(&self, key: &ExposureKey, index: u32) -> Payload {
        let rpi = Self::identifier(key, index);
        let aem = key.tek.aemk().encrypt(&rpi, &self.metadata);
        Payload::EnV1 { rpi, aem }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The public EN v1.2 test vectors (`tests/data/vectors/README.md` gives their source).
    struct Vectors {
        tek: TemporaryExposureKey,
        rolling_start_interval: u32,
        rpik: [u8; 16],
        aemk: [u8; 16],
        metadata: Metadata,
        padded_data_0: [u8; 16],
        rows: Vec<(u32, Rpi, Aem)>,
    }

    fn vectors() -> Vectors {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/vectors/en-v1-vectors.json"
        ))
        .expect("the test vectors are in wire/tests/data/vectors");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let bytes16 =
            |k: &str| <[u8; 16]>::try_from(hex::decode(v[k].as_str().unwrap()).unwrap()).unwrap();
        Vectors {
            tek: v["tek"].as_str().unwrap().parse().unwrap(),
            rolling_start_interval: v["rolling_start_interval"].as_u64().unwrap() as u32,
            rpik: bytes16("rpik"),
            aemk: bytes16("aemk"),
            metadata: v["metadata"].as_str().unwrap().parse().unwrap(),
            padded_data_0: bytes16("padded_data_interval_0"),
            rows: v["intervals"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["interval"].as_u64().unwrap() as u32,
                        r["rpi"].as_str().unwrap().parse().unwrap(),
                        r["aem"].as_str().unwrap().parse().unwrap(),
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn rpik_matches_vector() {
        let v = vectors();
        assert_eq!(hkdf_16(v.tek.as_bytes(), INFO_RPIK), v.rpik);
    }

    #[test]
    fn aemk_matches_vector() {
        let v = vectors();
        assert_eq!(v.tek.aemk().0, v.aemk);
    }

    #[test]
    fn padded_data_matches_vector() {
        let v = vectors();
        assert_eq!(
            <[u8; 16]>::from(padded_data(v.rolling_start_interval)),
            v.padded_data_0
        );
    }

    #[test]
    fn an_rpi_batch_derives_the_vectors_rpis_inside_across_and_outside_its_run() {
        let v = vectors();
        let rpik = v.tek.rpik();
        let start = v.rolling_start_interval;
        let collect = |batch: &mut RpiBatch, first: u32, count: u32| {
            let mut out = Vec::new();
            batch.for_each_rpi(&rpik, first, count, |j, rpi| out.push((j, Rpi(*rpi))));
            out
        };
        // One RPI at a time, as a phone advertises them.
        let expected = |first: u32, count: u32| -> Vec<(u32, Rpi)> {
            (0..count)
                .map(|j| (j, rpik.rpi(first.wrapping_add(j))))
                .collect()
        };
        // The run holds the vectors' day and the next; one batch serves every key in turn, each key's
        // RPIs written over the last's.
        let mut batch = RpiBatch::new(start, 2 * EK_ROLLING_PERIOD);
        for (first, count) in [
            (start, 144),       // the vectors' key, from the run
            (start + 144, 144), // the next day's, at the run's end
            (start + 10, 1),    // a key released early
            (start + 200, 144), // past the run's end: built, not read
            (start - 1, 144),   // before its start
            (start, 300),       // longer than a key: in pieces
            (u32::MAX - 2, 5),  // the interval number wraps
            (start, 0),         // nothing
        ] {
            assert_eq!(
                collect(&mut batch, first, count),
                expected(first, count),
                "{count} from {first}"
            );
        }
        let from_run = collect(&mut batch, start, 144);
        for (j, (interval, rpi, _)) in v.rows.iter().enumerate() {
            assert_eq!(from_run[j], (j as u32, *rpi), "interval {interval}");
        }
    }

    #[test]
    fn metadata_matches_vector() {
        let v = vectors();
        assert_eq!(v.metadata, Metadata::new(8));
        assert_eq!(v.metadata.tx_power_dbm(), 8);
        assert_eq!(v.metadata.major_version(), 1);
    }

    #[test]
    fn all_144_rpis_and_aems_match_vectors() {
        let v = vectors();
        assert_eq!(v.rows.len(), 144);
        let key = ExposureKey::new(v.tek.clone(), v.rolling_start_interval, 144).unwrap();
        let scheme = EnV1 {
            metadata: v.metadata,
        };
        let mut batch = Vec::new();
        EnV1::identifiers(&key, &mut batch);
        assert_eq!(batch.len(), 144);
        for (index, (interval, rpi, aem)) in v.rows.iter().enumerate() {
            assert_eq!(
                v.tek.rpik().rpi(*interval),
                *rpi,
                "single RPI of interval {interval}"
            );
            assert_eq!(batch[index], *rpi, "batched RPI of interval {interval}");
            assert_eq!(
                scheme.payload(&key, index as u32),
                Payload::EnV1 {
                    rpi: *rpi,
                    aem: *aem
                },
                "payload of interval {interval}"
            );
            assert_eq!(v.tek.aemk().decrypt(rpi, aem), v.metadata);
        }
    }

    #[test]
    fn vector_key_starts_on_a_day_boundary() {
        let v = vectors();
        let t = u64::from(v.rolling_start_interval) * EN_INTERVAL_SECS;
        assert_eq!(rolling_start_interval(t), v.rolling_start_interval);
        assert_eq!(rolling_start_interval(t + 86_399), v.rolling_start_interval);
        assert_eq!(
            rolling_start_interval(t + 86_400),
            v.rolling_start_interval + 144
        );
        // 144 intervals of 600 s are one UTC day: TEKs change at UTC midnight.
        assert_eq!(t % 86_400, 0);
    }

    #[test]
    fn slots_follow_intervals() {
        let v = vectors();
        let key = ExposureKey::new(v.tek, v.rolling_start_interval, 144).unwrap();
        let start = u64::from(v.rolling_start_interval) * 600;
        assert_eq!(EnV1::slot_at(&key, start - 1), None);
        let first = EnV1::slot_at(&key, start).unwrap();
        assert_eq!(
            (first.index, first.start_secs, first.end_secs()),
            (0, start, start + 600)
        );
        assert_eq!(EnV1::slot_at(&key, start + 1199).unwrap().index, 1);
        assert_eq!(EnV1::slot_at(&key, start + 86_399).unwrap().index, 143);
        assert_eq!(EnV1::slot_at(&key, start + 86_400), None);
        let (slot, payload) = EnV1::new(8).payload_at(&key, start + 700).unwrap();
        assert_eq!(slot.index, 1);
        assert_eq!(payload, EnV1::new(8).payload(&key, 1));
    }

    #[test]
    fn rolling_period_is_checked() {
        let tek = TemporaryExposureKey::from_bytes([1; 16]);
        assert!(ExposureKey::new(tek.clone(), 0, 0).is_err());
        assert!(ExposureKey::new(tek.clone(), 0, 145).is_err());
        assert!(ExposureKey::new(tek.clone(), u32::MAX - 10, 144).is_err());
        let short = ExposureKey::new(tek, 2_642_976, 1).unwrap();
        let mut ids = Vec::new();
        EnV1::identifiers(&short, &mut ids);
        assert_eq!(ids.len(), 1);
    }

    #[test]
    fn generated_keys_differ_and_cover_the_day() {
        let rng = ring::rand::SystemRandom::new();
        let a = ExposureKey::generate(&rng, 1_620_000_000).unwrap();
        let b = ExposureKey::generate(&rng, 1_620_000_000).unwrap();
        assert_ne!(a.tek, b.tek);
        assert_eq!(a.rolling_start_interval % 144, 0);
        assert_eq!(a.rolling_period, 144);
        assert!(EnV1::slot_at(&a, 1_620_000_000).is_some());
    }

    #[test]
    fn tek_debug_hides_the_key() {
        let tek = TemporaryExposureKey::from_bytes([0xab; 16]);
        assert!(!format!("{tek:?}").contains("ab"));
    }

    #[test]
    fn bad_hex_is_an_error() {
        assert!("zz".parse::<TemporaryExposureKey>().is_err());
        assert!("00".parse::<TemporaryExposureKey>().is_err());
        assert!("00".parse::<Rpi>().is_err());
    }
}
