//! The sealed upload: a positive report's body, readable only by the key server.
//!
//! Proxies and CDNs in front of the key server terminate TLS and so see request bodies; sealing the body
//! to the server's own X25519 key keeps which keys one phone sent between that phone and the server.
//!
//! ```text
//! eph_secret, eph_public = X25519 key pair, fresh for every upload (32 random bytes from ring)
//! shared   = X25519(eph_secret, server_public)            (all-zero results are refused)
//! key      = HKDF-SHA256(salt = eph_public || server_public, ikm = shared, info = "openzone upload v1", 32)
//! header   = SEAL_VERSION (1 byte) || eph_public (32) || nonce (12, random)
//! body     = header || AES-256-GCM(key, nonce, aad = header, plaintext) || tag (16)
//! ```
//!
//! The key is used once, so the nonce could be constant; it is random all the same, at no cost. The
//! header is authenticated as additional data, so a body whose version byte or nonce was changed fails
//! to open like any other tampering.

use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use x25519_dalek::{PublicKey, StaticSecret};

use crate::error::Error;

/// The version byte that starts every sealed body.
pub const SEAL_VERSION: u8 = 1;

/// HKDF `info` of the sealing key.
pub const SEAL_INFO: &[u8] = b"openzone upload v1";

/// The largest sealed body either side accepts: 15 keys take about 1.5 KiB, so this leaves room for the
/// fields of later versions while refusing floods.
pub const MAX_SEALED_BYTES: usize = 16 * 1024;

/// Bytes of a sealed body besides the plaintext: version, ephemeral public key, nonce, tag.
pub const SEAL_OVERHEAD: usize = 1 + 32 + NONCE_LEN + 16;

/// Bytes of a sealed body's header: version, ephemeral public key, nonce. Random for every upload, so it
/// identifies one sealed body (the server recognises a retry by it) and nothing inside.
pub const HEADER_LEN: usize = 1 + 32 + NONCE_LEN;

/// The key server's X25519 public key, which phones seal uploads to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SealingPublicKey([u8; 32]);

impl std::fmt::Debug for SealingPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealingPublicKey({})", self.to_base64())
    }
}

impl SealingPublicKey {
    /// The key from its 32 bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key's 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key as standard base64, as `/v1/config` publishes it.
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    /// Parses the base64 form of [`to_base64`](Self::to_base64).
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| {
                Error::InvalidPublicKey(format!("the upload sealing key is not base64: {e}"))
            })?;
        <[u8; 32]>::try_from(bytes.as_slice())
            .map(Self)
            .map_err(|_| {
                Error::InvalidPublicKey(format!(
                    "the upload sealing key must be 32 bytes, got {}",
                    bytes.len()
                ))
            })
    }
}

/// The key server's X25519 private key, which opens sealed uploads.
pub struct SealingSecret(StaticSecret);

impl std::fmt::Debug for SealingSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealingSecret({:?}, ..)", self.public_key())
    }
}

impl SealingSecret {
    /// A fresh random key.
    pub fn generate() -> Result<Self, Error> {
        Ok(Self(StaticSecret::from(random_32()?)))
    }

    /// The key from its 32 bytes (as [`to_bytes`](Self::to_bytes) wrote them).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(StaticSecret::from(bytes))
    }

    /// The key's 32 bytes, for storing in the server's data directory.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The matching public key.
    pub fn public_key(&self) -> SealingPublicKey {
        SealingPublicKey(PublicKey::from(&self.0).to_bytes())
    }

    /// Opens a sealed body; every failure (too short, too long, unknown version, altered, sealed to
    /// another key) is an [`Error::SealedUpload`] that says which.
    pub fn open(&self, body: &[u8]) -> Result<Vec<u8>, Error> {
        if body.len() > MAX_SEALED_BYTES {
            return Err(Error::SealedUpload(format!(
                "the body is {} bytes; at most {MAX_SEALED_BYTES} are accepted",
                body.len()
            )));
        }
        if body.len() < SEAL_OVERHEAD {
            return Err(Error::SealedUpload(format!(
                "the body is {} bytes, shorter than the {SEAL_OVERHEAD} bytes of an empty sealed body",
                body.len()
            )));
        }
        let (header, sealed) = body.split_at(HEADER_LEN);
        if header[0] != SEAL_VERSION {
            return Err(Error::SealedUpload(format!(
                "unknown sealing version {}; this server reads version {SEAL_VERSION}",
                header[0]
            )));
        }
        let mut eph_public = [0u8; 32];
        eph_public.copy_from_slice(&header[1..33]);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&header[33..HEADER_LEN]);
        let shared = self.0.diffie_hellman(&PublicKey::from(eph_public));
        if !shared.was_contributory() {
            return Err(Error::SealedUpload(
                "the ephemeral public key is a low-order point".into(),
            ));
        }
        let key = upload_key(shared.as_bytes(), &eph_public, self.public_key().as_bytes())?;
        let mut in_out = sealed.to_vec();
        let plain_len = key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(header),
                &mut in_out,
            )
            .map_err(|_| {
                Error::SealedUpload(
                    "the body does not authenticate: it was altered, or sealed to another server key"
                        .into(),
                )
            })?
            .len();
        in_out.truncate(plain_len);
        Ok(in_out)
    }
}

/// Seals `plaintext` to the server's key. The plaintext must leave the body within
/// [`MAX_SEALED_BYTES`].
pub fn seal(server: &SealingPublicKey, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
    if plaintext.len() + SEAL_OVERHEAD > MAX_SEALED_BYTES {
        return Err(Error::SealedUpload(format!(
            "a report of {} bytes is too large to upload (at most {})",
            plaintext.len(),
            MAX_SEALED_BYTES - SEAL_OVERHEAD
        )));
    }
    let eph_secret = StaticSecret::from(random_32()?);
    let eph_public = PublicKey::from(&eph_secret);
    let shared = eph_secret.diffie_hellman(&PublicKey::from(server.0));
    if !shared.was_contributory() {
        return Err(Error::InvalidPublicKey(
            "the key server's upload sealing key is a low-order point; check the configuration"
                .into(),
        ));
    }
    let key = upload_key(shared.as_bytes(), eph_public.as_bytes(), &server.0)?;
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| Error::Random)?;
    let mut body = Vec::with_capacity(plaintext.len() + SEAL_OVERHEAD);
    body.push(SEAL_VERSION);
    body.extend_from_slice(eph_public.as_bytes());
    body.extend_from_slice(&nonce);
    let mut in_out = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(&body[..HEADER_LEN]),
        &mut in_out,
    )
    .map_err(|_| Error::Random)?;
    body.extend_from_slice(&in_out);
    Ok(body)
}

/// `key = HKDF-SHA256(salt = eph_public || server_public, ikm = shared, info = SEAL_INFO, 32)`.
fn upload_key(
    shared: &[u8; 32],
    eph_public: &[u8; 32],
    server_public: &[u8; 32],
) -> Result<LessSafeKey, Error> {
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(eph_public);
    salt[32..].copy_from_slice(server_public);
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &salt).extract(shared);
    let info = [SEAL_INFO];
    let okm = prk
        .expand(&info, &AES_256_GCM)
        .map_err(|_| Error::SealedUpload("key derivation failed".into()))?;
    Ok(LessSafeKey::new(UnboundKey::from(okm)))
}

fn random_32() -> Result<[u8; 32], Error> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::Random)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_round_trips() {
        let server = SealingSecret::generate().unwrap();
        for len in [0, 1, 100, MAX_SEALED_BYTES - SEAL_OVERHEAD] {
            let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let body = seal(&server.public_key(), &plain).unwrap();
            assert_eq!(body.len(), len + SEAL_OVERHEAD);
            assert_eq!(body[0], SEAL_VERSION);
            assert_eq!(server.open(&body).unwrap(), plain);
        }
        // Two seals of the same plaintext share nothing: fresh ephemeral key and nonce each time.
        let a = seal(&server.public_key(), b"same").unwrap();
        let b = seal(&server.public_key(), b"same").unwrap();
        assert_ne!(a[1..33], b[1..33]);
        assert_ne!(a[HEADER_LEN..], b[HEADER_LEN..]);
    }

    #[test]
    fn any_flipped_bit_fails_to_open() {
        let server = SealingSecret::generate().unwrap();
        let body = seal(&server.public_key(), b"{\"code\":\"12345678\"}").unwrap();
        for i in 0..body.len() {
            for bit in [0x01, 0x80] {
                let mut bad = body.clone();
                bad[i] ^= bit;
                assert!(
                    matches!(server.open(&bad), Err(Error::SealedUpload(_))),
                    "byte {i} bit {bit:#x}"
                );
            }
        }
    }

    #[test]
    fn truncated_and_extended_bodies_fail() {
        let server = SealingSecret::generate().unwrap();
        let body = seal(&server.public_key(), b"0123456789").unwrap();
        for len in 0..body.len() {
            assert!(server.open(&body[..len]).is_err(), "{len}");
        }
        let mut longer = body.clone();
        longer.push(0);
        assert!(server.open(&longer).is_err());
    }

    #[test]
    fn oversize_is_refused_on_both_sides() {
        let server = SealingSecret::generate().unwrap();
        let too_big = vec![0u8; MAX_SEALED_BYTES - SEAL_OVERHEAD + 1];
        assert!(matches!(
            seal(&server.public_key(), &too_big),
            Err(Error::SealedUpload(_))
        ));
        let err = server
            .open(&vec![SEAL_VERSION; MAX_SEALED_BYTES + 1])
            .unwrap_err();
        assert!(err.to_string().contains("at most"), "{err}");
    }

    #[test]
    fn another_servers_key_cannot_open() {
        let server = SealingSecret::generate().unwrap();
        let other = SealingSecret::generate().unwrap();
        let body = seal(&server.public_key(), b"secret keys").unwrap();
        assert!(matches!(other.open(&body), Err(Error::SealedUpload(_))));
        // And a stored secret reopens what its public key sealed.
        let again = SealingSecret::from_bytes(server.to_bytes());
        assert_eq!(again.open(&body).unwrap(), b"secret keys");
    }

    #[test]
    fn low_order_points_are_refused() {
        let server = SealingSecret::generate().unwrap();
        let mut body = seal(&server.public_key(), b"x").unwrap();
        // The all-zero point gives an all-zero shared secret.
        body[1..33].fill(0);
        let err = server.open(&body).unwrap_err();
        assert!(err.to_string().contains("low-order"), "{err}");
        assert!(seal(&SealingPublicKey::from_bytes([0; 32]), b"x").is_err());
    }

    #[test]
    fn public_keys_round_trip_through_base64() {
        let public = SealingSecret::generate().unwrap().public_key();
        assert_eq!(
            SealingPublicKey::from_base64(&public.to_base64()).unwrap(),
            public
        );
        assert!(SealingPublicKey::from_base64("AAAA").is_err());
        assert!(SealingPublicKey::from_base64("!!").is_err());
    }
}
