//! Keys that sign and verify published data: exports, Bluezone key lists and risk configurations are all
//! signed with ECDSA P-256 over SHA-256 (DER signatures), verified with ring, or with RustCrypto's p256
//! when the SHA-256 was computed as the message streamed past (an export read out of its zip).
//!
//! Public keys travel as PEM `PUBLIC KEY` (SubjectPublicKeyInfo), private keys as PEM `PRIVATE KEY`
//! (PKCS#8), as OpenSSL writes them and as the reference key servers publish them.

use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_ASN1,
    ECDSA_P256_SHA256_ASN1_SIGNING,
};

use spki::der::asn1::{AnyRef, BitStringRef, ObjectIdentifier};
use spki::der::Encode as _;
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

use crate::error::Error;

/// id-ecPublicKey, the algorithm of an elliptic-curve SubjectPublicKeyInfo (RFC 5480, section 2.1.1).
const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");

/// secp256r1 (prime256v1), the curve named in its parameters (RFC 5480, section 2.1.1.1).
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// The ASN.1 OID of ECDSA with SHA-256, as export signature infos name it.
pub const ECDSA_SHA256_OID: &str = "1.2.840.10045.4.3.2";

/// A public key that verifies published data, with the identity exports name it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationKey {
    /// The key identifier (for exposure-notification exports, often a mobile country code such as "310").
    pub key_id: String,
    /// The key version, e.g. "v1".
    pub version: String,
    /// The uncompressed P-256 point (65 bytes).
    point: Vec<u8>,
}

impl VerificationKey {
    /// A key from a PEM `PUBLIC KEY` block (a P-256 SubjectPublicKeyInfo).
    pub fn from_pem(key_id: &str, version: &str, pem: &str) -> Result<Self, Error> {
        let der = pem_decode(pem, "PUBLIC KEY")?;
        let not_p256 = || Error::InvalidPublicKey("not an ECDSA P-256 public key".into());
        let spki = SubjectPublicKeyInfoRef::try_from(der.as_slice()).map_err(|_| not_p256())?;
        let curve = spki.algorithm.parameters_oid().map_err(|_| not_p256())?;
        let point = spki
            .subject_public_key
            .as_bytes()
            .filter(|p| p.len() == 65 && p[0] == 0x04)
            .ok_or_else(not_p256)?;
        if spki.algorithm.oid != ID_EC_PUBLIC_KEY || curve != SECP256R1 {
            return Err(not_p256());
        }
        Ok(Self {
            key_id: key_id.to_owned(),
            version: version.to_owned(),
            point: point.to_vec(),
        })
    }

    /// The key as a PEM `PUBLIC KEY` block.
    pub fn to_pem(&self) -> String {
        let curve = AnyRef::from(&SECP256R1);
        let der = BitStringRef::from_bytes(&self.point)
            .and_then(|subject_public_key| {
                SubjectPublicKeyInfoRef {
                    algorithm: AlgorithmIdentifierRef {
                        oid: ID_EC_PUBLIC_KEY,
                        parameters: Some(curve),
                    },
                    subject_public_key,
                }
                .to_der()
            })
            .unwrap_or_else(|_| unreachable!("a 65-byte point always encodes"));
        pem_encode("PUBLIC KEY", &der)
    }

    /// Whether `signature` (DER ECDSA) is this key's signature over `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &self.point)
            .verify(message, signature)
            .is_ok()
    }

    /// Whether `signature` (DER ECDSA) is this key's signature over the message whose SHA-256 is
    /// `digest`: for a message hashed as it streams past, never held whole.
    pub fn verifies_digest(&self, digest: &[u8; 32], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        let (Ok(key), Ok(signature)) = (
            p256::ecdsa::VerifyingKey::from_sec1_bytes(&self.point),
            p256::ecdsa::Signature::from_der(signature),
        ) else {
            return false;
        };
        key.verify_prehash(digest, &signature).is_ok()
    }
}

/// A private key that signs published data (the key server's, or a test's).
pub struct SigningKey {
    /// The key identifier written into signature infos.
    pub key_id: String,
    /// The key version written into signature infos.
    pub version: String,
    pair: EcdsaKeyPair,
    rng: SystemRandom,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({}/{}, ..)", self.key_id, self.version)
    }
}

impl SigningKey {
    /// A key from a PEM `PRIVATE KEY` block (PKCS#8 holding a P-256 key with its public key).
    pub fn from_pem(key_id: &str, version: &str, pem: &str) -> Result<Self, Error> {
        let der = pem_decode(pem, "PRIVATE KEY")?;
        let rng = SystemRandom::new();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &der, &rng).map_err(|e| {
                Error::InvalidPublicKey(format!("not a PKCS#8 ECDSA P-256 private key ({e})"))
            })?;
        Ok(Self {
            key_id: key_id.to_owned(),
            version: version.to_owned(),
            pair,
            rng,
        })
    }

    /// A fresh random key; returns it with its PKCS#8 PEM, for storing.
    pub fn generate(key_id: &str, version: &str) -> Result<(Self, String), Error> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| Error::Random)?;
        let pem = pem_encode("PRIVATE KEY", pkcs8.as_ref());
        Ok((Self::from_pem(key_id, version, &pem)?, pem))
    }

    /// The matching public key.
    pub fn verification_key(&self) -> VerificationKey {
        VerificationKey {
            key_id: self.key_id.clone(),
            version: self.version.clone(),
            point: self.pair.public_key().as_ref().to_vec(),
        }
    }

    /// A DER ECDSA P-256 / SHA-256 signature over `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.pair
            .sign(&self.rng, message)
            .map(|sig| sig.as_ref().to_vec())
            .map_err(|_| Error::Random)
    }
}

/// Checks a detached signature against every key given; returns the key that made it.
pub fn verify_detached<'k>(
    keys: &'k [VerificationKey],
    message: &[u8],
    signature: &[u8],
) -> Result<&'k VerificationKey, Error> {
    if keys.is_empty() {
        return Err(Error::Signature(
            "no public key is configured to check the signature with".into(),
        ));
    }
    keys.iter()
        .find(|k| k.verifies(message, signature))
        .ok_or_else(|| Error::Signature("the signature does not match any configured public key; the data was altered or signed by someone else".into()))
}

/// The largest configuration published as signed JSON (risk scoring, presence tracing).
pub const MAX_SIGNED_CONFIG_BYTES: usize = 64 * 1024;

/// A configuration a health authority publishes as JSON with a detached signature (risk scoring,
/// presence tracing, the declaration form): read, then checked against its own rules.
pub trait SignedConfig: serde::Serialize + serde::de::DeserializeOwned {
    /// What it is called in errors ("risk configuration").
    const NAME: &'static str;

    /// Checks that the parameters make sense together.
    fn check(&self) -> Result<(), Error>;

    /// One published as JSON with a detached ECDSA P-256 signature by one of `keys`: at most
    /// [`MAX_SIGNED_CONFIG_BYTES`], then checked.
    fn from_signed_json(
        json: &[u8],
        signature: &[u8],
        keys: &[VerificationKey],
    ) -> Result<Self, Error> {
        read_signed_json(json, signature, keys)
    }

    /// One in JSON that is already trusted (built in, or given on the QA command line), checked.
    fn from_json(json: &[u8]) -> Result<Self, Error> {
        let config: Self = serde_json::from_slice(json).map_err(|e| {
            Error::InvalidConfig(format!("the {} is not valid JSON: {e}", Self::NAME))
        })?;
        config.check()?;
        Ok(config)
    }

    /// The configuration as JSON.
    fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| unreachable!("plain data serialises"))
    }
}

/// The error of the configuration `name`, a `C`, that breaks a rule: `what`.
pub fn invalid_config<C: SignedConfig>(name: &str, what: &str) -> Error {
    Error::InvalidConfig(format!("{} {name:?}: {what}", C::NAME))
}

/// A JSON document published with a detached ECDSA P-256 signature over its exact bytes: a
/// configuration ([`SignedConfig`]), a Bluezone key list. Its size is capped and its signature checked
/// before a byte of it is parsed ([`read_signed_json`]).
pub trait SignedJson: Sized {
    /// The largest document accepted, in bytes.
    const MAX_BYTES: usize;

    /// The error for a document of `len` bytes, more than [`Self::MAX_BYTES`].
    fn too_large(len: usize) -> Error;

    /// Reads a document that is trusted: its signature checked out, or it is built in.
    fn parse(json: &[u8]) -> Result<Self, Error>;
}

/// The `D` in `json`, whose detached `signature` must be by one of `keys`: at most `D::MAX_BYTES`, and
/// signed, before it is parsed.
pub fn read_signed_json<D: SignedJson>(
    json: &[u8],
    signature: &[u8],
    keys: &[VerificationKey],
) -> Result<D, Error> {
    if json.len() > D::MAX_BYTES {
        return Err(D::too_large(json.len()));
    }
    verify_detached(keys, json, signature)?;
    D::parse(json)
}

/// A configuration is a signed JSON document of at most [`MAX_SIGNED_CONFIG_BYTES`].
impl<C: SignedConfig> SignedJson for C {
    const MAX_BYTES: usize = MAX_SIGNED_CONFIG_BYTES;

    fn too_large(_len: usize) -> Error {
        Error::InvalidConfig(format!(
            "a {} is at most {MAX_SIGNED_CONFIG_BYTES} bytes",
            C::NAME
        ))
    }

    fn parse(json: &[u8]) -> Result<Self, Error> {
        C::from_json(json)
    }
}

/// The DER inside the first PEM block of `pem`, which must carry `label`; text around the block (comments,
/// as OpenSSL writes them) and base64 lines of any length (Google's published keys use one long line) are
/// accepted.
fn pem_decode(pem: &str, label: &str) -> Result<Vec<u8>, Error> {
    let block = ::pem::parse(pem)
        .map_err(|e| Error::InvalidPublicKey(format!("no readable PEM {label} block: {e}")))?;
    if block.tag() != label {
        return Err(Error::InvalidPublicKey(format!(
            "the PEM block is a {}, not a {label}",
            block.tag()
        )));
    }
    Ok(block.into_contents())
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    ::pem::encode_config(
        &::pem::Pem::new(label, der),
        ::pem::EncodeConfig::new().set_line_ending(::pem::LineEnding::LF),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOGLE_PEM: &str = include_str!("../../tests/data/exports/google-sample-140keys.pub.pem");

    #[test]
    fn the_fixture_public_key_parses_and_round_trips() {
        let key = VerificationKey::from_pem("310", "v1", GOOGLE_PEM).unwrap();
        assert_eq!(
            VerificationKey::from_pem("310", "v1", &key.to_pem()).unwrap(),
            key
        );
    }

    #[test]
    fn generated_keys_sign_and_verify() {
        let (signing, pem) = SigningKey::generate("test", "v1").unwrap();
        let again = SigningKey::from_pem("test", "v1", &pem).unwrap();
        let sig = signing.sign(b"message").unwrap();
        let public = again.verification_key();
        assert!(public.verifies(b"message", &sig));
        assert!(!public.verifies(b"messagf", &sig));
        let digest = |m: &[u8]| -> [u8; 32] {
            ring::digest::digest(&ring::digest::SHA256, m)
                .as_ref()
                .try_into()
                .unwrap()
        };
        assert!(public.verifies_digest(&digest(b"message"), &sig));
        assert!(!public.verifies_digest(&digest(b"messagf"), &sig));
        assert!(!public.verifies_digest(&digest(b"message"), &sig[..sig.len() - 1]));
        assert_eq!(
            verify_detached(std::slice::from_ref(&public), b"message", &sig).unwrap(),
            &public
        );
        let other = SigningKey::generate("other", "v1")
            .unwrap()
            .0
            .verification_key();
        assert!(matches!(
            verify_detached(&[other], b"message", &sig),
            Err(Error::Signature(_))
        ));
        assert!(matches!(
            verify_detached(&[], b"message", &sig),
            Err(Error::Signature(_))
        ));
    }

    #[test]
    fn bad_pem_is_an_error() {
        for pem in [
            "",
            "-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        ] {
            assert!(
                matches!(
                    VerificationKey::from_pem("a", "v1", pem),
                    Err(Error::InvalidPublicKey(_))
                ),
                "{pem}"
            );
        }
        assert!(matches!(
            SigningKey::from_pem("a", "v1", GOOGLE_PEM),
            Err(Error::InvalidPublicKey(_))
        ));
        assert!(!format!("{:?}", SigningKey::generate("k", "v1").unwrap().0).contains("pair"));
    }
}
