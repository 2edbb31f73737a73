//! The floor that identifier generation and matching are measured against: HKDF-SHA256 for the RPIK plus
//! 144 AES-128 blocks, with no padding, no key types and no output vector.

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::{Aes128Enc, Block};
use criterion::black_box;
use ring::hkdf;

/// The empty HKDF salt, keyed once outside the measured loop as the implementation keys it once: the
/// fairest (lowest) baseline.
pub fn empty_salt() -> hkdf::Salt {
    hkdf::Salt::new(hkdf::HKDF_SHA256, &[])
}

/// The bare derivation for each TEK.
pub fn bare_derivation<'a>(salt: &hkdf::Salt, teks: impl Iterator<Item = &'a [u8; 16]>) {
    struct Len16;
    impl hkdf::KeyType for Len16 {
        fn len(&self) -> usize {
            16
        }
    }
    let mut blocks = [Block::default(); 144];
    for tek in teks {
        let mut rpik = [0u8; 16];
        salt.extract(black_box(tek))
            .expand(&[b"EN-RPIK"], Len16)
            .and_then(|okm| okm.fill(&mut rpik))
            .expect("16-byte HKDF output");
        Aes128Enc::new(&rpik.into()).encrypt_blocks(&mut blocks);
        black_box(&blocks);
    }
}
