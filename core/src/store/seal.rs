//! Encryption at rest: every value the store writes is sealed with AES-256-GCM, and every record's name
//! in the database is a keyed hash, so that neither identifiers, nor times, days or digests can be read
//! from the files without the data key.
//!
//! ```text
//! SealKey   = HKDF-SHA256(DataKey, NULL, "openzone store seal v1", 32)
//! NameKey   = HKDF-SHA256(DataKey, NULL, "openzone store names v1", 32)
//! name      = HMAC-SHA256(NameKey, tree || logical key)[..16]
//! sealed    = nonce(12, random) || AES-256-GCM(SealKey, nonce, aad = tree || name, value) || tag(16)
//! ```
//!
//! Binding the tree and record name into the AAD means a value copied to another record fails to open.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};

use super::TreeId;
use crate::error::Error;
use crate::wire::Error as WireError;

/// The 32-byte key the platform keystore (Android Keystore, iOS Keychain) supplies for the store.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey([u8; 32]);

impl DataKey {
    /// A data key from its 32 bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh random data key, for platforms that generate it and then keep it in their keystore.
    pub fn generate() -> Result<Self, Error> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| WireError::Random)?;
        Ok(Self(bytes))
    }

    /// Parses 64 hex characters, or takes 32 raw bytes as they are (the two forms a key file may have).
    pub fn from_file_contents(contents: &[u8]) -> Result<Self, Error> {
        if let Ok(raw) = <[u8; 32]>::try_from(contents) {
            return Ok(Self(raw));
        }
        let text = std::str::from_utf8(contents).map_err(|_| {
            Error::InvalidDataKey("it is neither 32 raw bytes nor 64 hex characters".into())
        })?;
        Self::from_hex(text)
    }

    /// Parses 64 hex characters.
    pub fn from_hex(text: &str) -> Result<Self, Error> {
        let bytes = hex::decode(text.trim())
            .map_err(|e| Error::InvalidDataKey(format!("not 64 hex characters: {e}")))?;
        <[u8; 32]>::try_from(bytes.as_slice())
            .map(Self)
            .map_err(|_| Error::InvalidDataKey(format!("{} bytes instead of 32", bytes.len())))
    }

    /// The raw key, for handing to the platform keystore.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

const INFO_SEAL: &[u8] = b"openzone store seal v1";
const INFO_NAMES: &[u8] = b"openzone store names v1";

/// Length of a record's name: 128 bits of HMAC-SHA256, far from any collision among a store's records.
pub(crate) const NAME_LEN: usize = 16;

/// Length a sealed value adds to its plaintext: nonce and tag.
pub(crate) const SEAL_OVERHEAD: usize = NONCE_LEN + 16;

/// Seals and opens the store's values, and names its records.
pub(crate) struct Sealer {
    seal: LessSafeKey,
    names: ring::hmac::Key,
    rng: SystemRandom,
}

impl Sealer {
    pub(crate) fn new(data_key: &DataKey) -> Self {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &[]).extract(&data_key.0);
        let seal_bytes = expand_32(&prk, INFO_SEAL);
        let unbound = UnboundKey::new(&AES_256_GCM, &seal_bytes)
            .unwrap_or_else(|_| unreachable!("AES-256-GCM takes any 32-byte key"));
        Self {
            seal: LessSafeKey::new(unbound),
            names: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &expand_32(&prk, INFO_NAMES)),
            rng: SystemRandom::new(),
        }
    }

    /// `HMAC-SHA256(NameKey, tree || logical)[..16]`: a record's name, stable for a logical key (so a
    /// record can be found and replaced) and meaningless without the data key.
    pub(crate) fn name(&self, tree: TreeId, logical: &[u8]) -> [u8; NAME_LEN] {
        let mut ctx = ring::hmac::Context::with_key(&self.names);
        ctx.update(&[tree as u8]);
        ctx.update(logical);
        let mut out = [0u8; NAME_LEN];
        out.copy_from_slice(&ctx.sign().as_ref()[..NAME_LEN]);
        out
    }

    /// `nonce || AES-256-GCM(SealKey, nonce, tree || key, value) || tag`.
    pub(crate) fn seal(&self, tree: TreeId, key: &[u8], value: &[u8]) -> Result<Vec<u8>, Error> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| WireError::Random)?;
        let mut out = Vec::with_capacity(value.len() + SEAL_OVERHEAD);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(value);
        let tag = self
            .seal
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(tree, key)),
                &mut out[NONCE_LEN..],
            )
            .map_err(|_| WireError::Random)?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Opens a sealed value; `None` if it does not authenticate (wrong data key, or tampered).
    pub(crate) fn open(&self, tree: TreeId, key: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < SEAL_OVERHEAD {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut body = body.to_vec();
        let plain_len = self
            .seal
            .open_in_place(nonce, Aad::from(aad(tree, key)), &mut body)
            .ok()?
            .len();
        body.truncate(plain_len);
        Some(body)
    }
}

fn aad(tree: TreeId, key: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(1 + key.len());
    aad.push(tree as u8);
    aad.extend_from_slice(key);
    aad
}

fn expand_32(prk: &hkdf::Prk, info: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    prk.expand(&[info], &AES_256_GCM)
        .and_then(|okm| okm.fill(&mut out))
        .unwrap_or_else(|_| unreachable!("32 bytes is within HKDF-SHA256's output limit"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_where_they_were_sealed() {
        let sealer = Sealer::new(&DataKey::from_bytes([7; 32]));
        let sealed = sealer
            .seal(TreeId::Windows, b"key", b"secret identifier")
            .unwrap();
        assert_eq!(sealed.len(), 17 + SEAL_OVERHEAD);
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(
            sealer.open(TreeId::Windows, b"key", &sealed).unwrap(),
            b"secret identifier"
        );
        assert!(sealer.open(TreeId::Keys, b"key", &sealed).is_none());
        assert!(sealer.open(TreeId::Windows, b"other", &sealed).is_none());
        let wrong = Sealer::new(&DataKey::from_bytes([8; 32]));
        assert!(wrong.open(TreeId::Windows, b"key", &sealed).is_none());
        for len in 0..sealed.len() {
            assert!(sealer
                .open(TreeId::Windows, b"key", &sealed[..len])
                .is_none());
        }
        let mut flipped = sealed.clone();
        flipped[15] ^= 1;
        assert!(sealer.open(TreeId::Windows, b"key", &flipped).is_none());
    }

    #[test]
    fn nonces_differ_between_seals() {
        let sealer = Sealer::new(&DataKey::from_bytes([7; 32]));
        assert_ne!(
            sealer.seal(TreeId::Windows, b"k", b"v").unwrap(),
            sealer.seal(TreeId::Windows, b"k", b"v").unwrap()
        );
    }

    #[test]
    fn data_keys_parse_from_files() {
        let hex64 = "ab".repeat(32);
        assert_eq!(
            DataKey::from_file_contents(format!("{hex64}\n").as_bytes())
                .unwrap()
                .as_bytes(),
            &[0xab; 32]
        );
        assert_eq!(
            DataKey::from_file_contents(&[5; 32]).unwrap().as_bytes(),
            &[5; 32]
        );
        for bad in [&b"abc"[..], &[0xff; 31][..], &[0xff; 64][..], b"zz"] {
            assert!(matches!(
                DataKey::from_file_contents(bad),
                Err(Error::InvalidDataKey(_))
            ));
        }
        assert!(!format!("{:?}", DataKey::from_bytes([0xcd; 32])).contains("cd"));
    }
}
