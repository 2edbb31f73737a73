//! HPKE (RFC 9180) in base mode for one suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM,
//! single-shot (one message per encapsulation, sequence number 0). A browser's Web Crypto has every
//! primitive of this suite, so the school's page opens what phones seal.
//!
//! Built from ring (HMAC-SHA256 for HKDF, AES-128-GCM) and x25519-dalek; names and steps follow the RFC
//! (sections 4, 4.1, 5.1, 5.2, 7.1.3), and the RFC's vector A.1.1 is checked step by step in the tests.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
use ring::hmac;
use x25519_dalek::{PublicKey, StaticSecret};

use crate::checkin::random::{self, Random};
use crate::error::Error;

/// `KEM_ID` of DHKEM(X25519, HKDF-SHA256) (RFC 9180, section 7.1).
const KEM_ID: u16 = 0x0020;
/// `KDF_ID` of HKDF-SHA256 (section 7.2).
const KDF_ID: u16 = 0x0001;
/// `AEAD_ID` of AES-128-GCM (section 7.3).
const AEAD_ID: u16 = 0x0001;
/// `mode_base` (section 5).
const MODE_BASE: u8 = 0x00;
/// The version label of every labelled derivation (section 4).
const HPKE_V1: &[u8] = b"HPKE-v1";
/// `Nsecret`, `Nh`: HKDF-SHA256's output size.
const N_H: usize = 32;
/// `Nk` of AES-128-GCM.
const N_K: usize = 16;
/// `Nn` of AES-128-GCM.
const N_N: usize = 12;
/// `Nenc`, `Npk`, `Nsk` of X25519.
pub const N_ENC: usize = 32;
/// `Nt`: AES-128-GCM's tag.
pub const N_T: usize = 16;

/// `suite_id` of the KEM: `"KEM" || I2OSP(kem_id, 2)` (section 4.1).
fn kem_suite_id() -> Vec<u8> {
    [&b"KEM"[..], &KEM_ID.to_be_bytes()].concat()
}

/// `suite_id` of the key schedule: `"HPKE" || I2OSP(kem_id, 2) || I2OSP(kdf_id, 2) || I2OSP(aead_id, 2)`.
fn hpke_suite_id() -> Vec<u8> {
    [
        &b"HPKE"[..],
        &KEM_ID.to_be_bytes(),
        &KDF_ID.to_be_bytes(),
        &AEAD_ID.to_be_bytes(),
    ]
    .concat()
}

/// `Extract(salt, ikm)` = HMAC-SHA256(salt, ikm); an empty salt is `Nh` zeros (RFC 5869), which HMAC's
/// key padding makes the same.
fn extract(salt: &[u8], ikm: &[u8]) -> [u8; N_H] {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, salt), ikm);
    let mut out = [0u8; N_H];
    out.copy_from_slice(tag.as_ref());
    out
}

/// `Expand(prk, info, L)` (RFC 5869): `T(i) = HMAC(prk, T(i-1) || info || i)`, for L ≤ 255·Nh.
fn expand(prk: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, prk);
    let mut out = Vec::with_capacity(len);
    let mut t: Vec<u8> = Vec::new();
    let mut counter = 1u8;
    while out.len() < len {
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(&t);
        ctx.update(info);
        ctx.update(&[counter]);
        t = ctx.sign().as_ref().to_vec();
        out.extend_from_slice(&t);
        counter = counter.wrapping_add(1);
    }
    out.truncate(len);
    out
}

/// `LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite_id || label || ikm)`.
fn labeled_extract(suite_id: &[u8], salt: &[u8], label: &[u8], ikm: &[u8]) -> [u8; N_H] {
    extract(salt, &[HPKE_V1, suite_id, label, ikm].concat())
}

/// `LabeledExpand(prk, label, info, L) = Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label ||
/// info, L)`.
fn labeled_expand(suite_id: &[u8], prk: &[u8], label: &[u8], info: &[u8], len: u16) -> Vec<u8> {
    let labeled_info = [&len.to_be_bytes()[..], HPKE_V1, suite_id, label, info].concat();
    expand(prk, &labeled_info, usize::from(len))
}

/// `DeriveKeyPair(ikm)` for X25519 (section 7.1.3): `sk = LabeledExpand(LabeledExtract("", "dkp_prk",
/// ikm), "sk", "", Nsk)`.
pub fn derive_key_pair(ikm: &[u8]) -> StaticSecret {
    let suite = kem_suite_id();
    let dkp_prk = labeled_extract(&suite, b"", b"dkp_prk", ikm);
    let sk = labeled_expand(&suite, &dkp_prk, b"sk", b"", N_ENC as u16);
    let mut bytes = [0u8; N_ENC];
    bytes.copy_from_slice(&sk);
    StaticSecret::from(bytes)
}

/// `DH(sk, pk)`, refusing the all-zero output of a small-order public key (section 7.1.4).
fn dh(sk: &StaticSecret, pk: &PublicKey) -> Result<[u8; 32], Error> {
    let shared = sk.diffie_hellman(pk);
    if !shared.was_contributory() {
        return Err(Error::VisitorLog(
            "the public key is not a usable X25519 key (a small-order point)".into(),
        ));
    }
    Ok(shared.to_bytes())
}

/// `ExtractAndExpand(dh, kem_context)`: the KEM's shared secret (section 4.1).
fn extract_and_expand(dh: &[u8], kem_context: &[u8]) -> Vec<u8> {
    let suite = kem_suite_id();
    let eae_prk = labeled_extract(&suite, b"", b"eae_prk", dh);
    labeled_expand(&suite, &eae_prk, b"shared_secret", kem_context, N_H as u16)
}

/// `Encap(pkR)` with the ephemeral key `sk_e`: `(shared_secret, enc)`.
fn encap(pk_r: &PublicKey, sk_e: &StaticSecret) -> Result<(Vec<u8>, [u8; N_ENC]), Error> {
    let enc = PublicKey::from(sk_e).to_bytes();
    let dh = dh(sk_e, pk_r)?;
    let kem_context = [&enc[..], pk_r.as_bytes()].concat();
    Ok((extract_and_expand(&dh, &kem_context), enc))
}

/// `Decap(enc, skR)`.
fn decap(enc: &[u8; N_ENC], sk_r: &StaticSecret) -> Result<Vec<u8>, Error> {
    let pk_e = PublicKey::from(*enc);
    let dh = dh(sk_r, &pk_e)?;
    let kem_context = [&enc[..], PublicKey::from(sk_r).as_bytes()].concat();
    Ok(extract_and_expand(&dh, &kem_context))
}

/// What the key schedule gives in base mode: the AEAD key and base nonce.
#[derive(Debug, PartialEq, Eq)]
struct Context {
    key: Vec<u8>,
    base_nonce: Vec<u8>,
    exporter_secret: Vec<u8>,
}

/// `KeySchedule(mode_base, shared_secret, info, psk = "", psk_id = "")` (section 5.1).
fn key_schedule(shared_secret: &[u8], info: &[u8]) -> Context {
    let suite = hpke_suite_id();
    let psk_id_hash = labeled_extract(&suite, b"", b"psk_id_hash", b"");
    let info_hash = labeled_extract(&suite, b"", b"info_hash", info);
    let key_schedule_context = [&[MODE_BASE][..], &psk_id_hash, &info_hash].concat();
    let secret = labeled_extract(&suite, shared_secret, b"secret", b"");
    Context {
        key: labeled_expand(&suite, &secret, b"key", &key_schedule_context, N_K as u16),
        base_nonce: labeled_expand(
            &suite,
            &secret,
            b"base_nonce",
            &key_schedule_context,
            N_N as u16,
        ),
        exporter_secret: labeled_expand(&suite, &secret, b"exp", &key_schedule_context, N_H as u16),
    }
}

impl Context {
    /// `ComputeNonce(seq)`: the base nonce XOR the sequence number, big-endian at the right end.
    fn nonce(&self, seq: u64) -> Result<Nonce, Error> {
        let mut nonce = [0u8; N_N];
        nonce.copy_from_slice(&self.base_nonce);
        for (n, s) in nonce[N_N - 8..].iter_mut().zip(seq.to_be_bytes()) {
            *n ^= s;
        }
        Ok(Nonce::assume_unique_for_key(nonce))
    }

    fn aead(&self) -> Result<LessSafeKey, Error> {
        UnboundKey::new(&AES_128_GCM, &self.key)
            .map(LessSafeKey::new)
            .map_err(|_| Error::VisitorLog("the AES-128-GCM key cannot be made".into()))
    }

    fn seal(&self, seq: u64, aad: &[u8], pt: &[u8]) -> Result<Vec<u8>, Error> {
        let mut in_out = pt.to_vec();
        self.aead()?
            .seal_in_place_append_tag(self.nonce(seq)?, Aad::from(aad), &mut in_out)
            .map_err(|_| Error::VisitorLog("sealing failed".into()))?;
        Ok(in_out)
    }

    fn open(&self, seq: u64, aad: &[u8], ct: &[u8]) -> Result<Vec<u8>, Error> {
        let mut in_out = ct.to_vec();
        let len = self
            .aead()?
            .open_in_place(self.nonce(seq)?, Aad::from(aad), &mut in_out)
            .map_err(|_| {
                Error::VisitorLog(
                    "the entry does not open with this key (another venue's, or altered)".into(),
                )
            })?
            .len();
        in_out.truncate(len);
        Ok(in_out)
    }
}

/// Single-shot `Seal(pkR, info, aad, pt)` in base mode with a fresh ephemeral key: `(enc, ct)`.
pub fn seal(
    pk_r: &[u8; N_ENC],
    info: &[u8],
    aad: &[u8],
    pt: &[u8],
    rng: &dyn Random,
) -> Result<([u8; N_ENC], Vec<u8>), Error> {
    let sk_e = StaticSecret::from(random::bytes::<N_ENC>(rng)?);
    seal_with_ephemeral(pk_r, &sk_e, info, aad, pt)
}

fn seal_with_ephemeral(
    pk_r: &[u8; N_ENC],
    sk_e: &StaticSecret,
    info: &[u8],
    aad: &[u8],
    pt: &[u8],
) -> Result<([u8; N_ENC], Vec<u8>), Error> {
    let (shared_secret, enc) = encap(&PublicKey::from(*pk_r), sk_e)?;
    let ct = key_schedule(&shared_secret, info).seal(0, aad, pt)?;
    Ok((enc, ct))
}

/// Single-shot `Open(enc, skR, info, aad, ct)` in base mode.
pub fn open(
    enc: &[u8; N_ENC],
    sk_r: &StaticSecret,
    info: &[u8],
    aad: &[u8],
    ct: &[u8],
) -> Result<Vec<u8>, Error> {
    let shared_secret = decap(enc, sk_r)?;
    key_schedule(&shared_secret, info).open(0, aad, ct)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9180 A.1.1, as Go ships it (`vectors/README.md`).
    const VECTOR: &str = include_str!("vectors/rfc9180-a1.json");

    /// One encryption of the vector: sequence number, pt, aad, nonce, ct.
    type Encryption = (u64, Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>);

    struct Vector {
        fields: std::collections::HashMap<String, Vec<u8>>,
        encryptions: Vec<Encryption>,
    }

    fn vector() -> Vector {
        let json: serde_json::Value = serde_json::from_str(VECTOR).unwrap();
        let entry = &json[0];
        let fields = entry["Setup"]
            .as_str()
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_owned(), hex::decode(v).unwrap_or_default()))
            .collect();
        let encryptions = entry["Encryptions"]
            .as_str()
            .unwrap()
            .split("\n\n")
            .map(|block| {
                let get = |name: &str| {
                    block
                        .lines()
                        .find_map(|l| l.strip_prefix(name))
                        .unwrap()
                        .to_owned()
                };
                (
                    get("sequence number: ").parse().unwrap(),
                    hex::decode(get("pt: ")).unwrap(),
                    hex::decode(get("aad: ")).unwrap(),
                    hex::decode(get("nonce: ")).unwrap(),
                    hex::decode(get("ct: ")).unwrap(),
                )
            })
            .collect();
        Vector {
            fields,
            encryptions,
        }
    }

    fn arr(v: &[u8]) -> [u8; 32] {
        v.try_into().unwrap()
    }

    #[test]
    fn rfc9180_a1_1_derive_key_pair() {
        let v = vector();
        let sk_e = derive_key_pair(&v.fields["ikmE"]);
        assert_eq!(sk_e.to_bytes().to_vec(), v.fields["skEm"]);
        assert_eq!(PublicKey::from(&sk_e).as_bytes().to_vec(), v.fields["pkEm"]);
        let sk_r = derive_key_pair(&v.fields["ikmR"]);
        assert_eq!(sk_r.to_bytes().to_vec(), v.fields["skRm"]);
        assert_eq!(PublicKey::from(&sk_r).as_bytes().to_vec(), v.fields["pkRm"]);
    }

    #[test]
    fn rfc9180_a1_1_encap_decap_and_key_schedule() {
        let v = vector();
        let sk_e = StaticSecret::from(arr(&v.fields["skEm"]));
        let sk_r = StaticSecret::from(arr(&v.fields["skRm"]));
        let (shared, enc) = encap(&PublicKey::from(arr(&v.fields["pkRm"])), &sk_e).unwrap();
        assert_eq!(enc.to_vec(), v.fields["enc"]);
        assert_eq!(shared, v.fields["shared_secret"]);
        assert_eq!(decap(&enc, &sk_r).unwrap(), shared);
        let ctx = key_schedule(&shared, &v.fields["info"]);
        assert_eq!(ctx.key, v.fields["key"]);
        assert_eq!(ctx.base_nonce, v.fields["base_nonce"]);
        assert_eq!(ctx.exporter_secret, v.fields["exporter_secret"]);
    }

    #[test]
    fn rfc9180_a1_1_encryptions() {
        let v = vector();
        let shared = decap(
            &arr(&v.fields["enc"]),
            &StaticSecret::from(arr(&v.fields["skRm"])),
        )
        .unwrap();
        let ctx = key_schedule(&shared, &v.fields["info"]);
        assert_eq!(v.encryptions.len(), 6);
        for (seq, pt, aad, _nonce, ct) in &v.encryptions {
            assert_eq!(&ctx.seal(*seq, aad, pt).unwrap(), ct, "seq {seq}");
            assert_eq!(&ctx.open(*seq, aad, ct).unwrap(), pt, "seq {seq}");
        }
        // The single-shot API is sequence number 0.
        let (seq0_pt, seq0_aad, seq0_ct) = (
            &v.encryptions[0].1,
            &v.encryptions[0].2,
            &v.encryptions[0].4,
        );
        let (enc, ct) = seal_with_ephemeral(
            &arr(&v.fields["pkRm"]),
            &StaticSecret::from(arr(&v.fields["skEm"])),
            &v.fields["info"],
            seq0_aad,
            seq0_pt,
        )
        .unwrap();
        assert_eq!((enc.to_vec(), &ct), (v.fields["enc"].clone(), seq0_ct));
    }

    #[test]
    fn altered_or_misdirected_ciphertexts_do_not_open() {
        let rng = ring::rand::SystemRandom::new();
        let sk_r = StaticSecret::from([7u8; 32]);
        let pk_r = PublicKey::from(&sk_r).to_bytes();
        let (enc, ct) = seal(&pk_r, b"info", b"aad", b"hello", &rng).unwrap();
        assert_eq!(open(&enc, &sk_r, b"info", b"aad", &ct).unwrap(), b"hello");
        assert!(open(&enc, &sk_r, b"info", b"other", &ct).is_err());
        assert!(open(&enc, &sk_r, b"other", b"aad", &ct).is_err());
        assert!(open(&enc, &StaticSecret::from([8u8; 32]), b"info", b"aad", &ct).is_err());
        let mut flipped = ct.clone();
        flipped[0] ^= 1;
        assert!(open(&enc, &sk_r, b"info", b"aad", &flipped).is_err());
        assert!(open(&enc, &sk_r, b"info", b"aad", &ct[..ct.len() - 1]).is_err());
        assert!(open(&enc, &sk_r, b"info", b"aad", &[]).is_err());
        // A small-order point (here zero) is refused instead of giving an all-zero secret.
        assert!(seal(&[0u8; 32], b"info", b"aad", b"x", &rng).is_err());
        assert!(open(&[0u8; 32], &sk_r, b"info", b"aad", &ct).is_err());
    }
}
