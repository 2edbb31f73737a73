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

/// HKDF's output length: the RPIK is 16 bytes.
struct Len16;

impl hkdf::KeyType for Len16 {
    fn len(&self) -> usize {
        16
    }
}

/// The RPIK of `tek` and its 144 blocks, into `blocks`.
fn derive(salt: &hkdf::Salt, tek: &[u8; 16], blocks: &mut [Block; 144]) {
    let mut rpik = [0u8; 16];
    salt.extract(black_box(tek))
        .expand(&[b"EN-RPIK"], Len16)
        .and_then(|okm| okm.fill(&mut rpik))
        .expect("16-byte HKDF output");
    Aes128Enc::new(&rpik.into()).encrypt_blocks(blocks);
}

/// The bare derivation for each TEK.
#[allow(dead_code)] // not every user of the floor measures this one
pub fn bare_derivation<'a>(salt: &hkdf::Salt, teks: impl Iterator<Item = &'a [u8; 16]>) {
    let mut blocks = [Block::default(); 144];
    for tek in teks {
        derive(salt, tek, &mut blocks);
        black_box(&blocks);
    }
}

/// The bare derivation for each TEK plus one probe per key of a sorted array of heard identifiers (the
/// least a matcher does per key besides deriving); returns the hits, so that nothing is optimised away.
#[allow(dead_code)] // not every user of the floor measures this one
pub fn bare_derivation_probing<'a>(
    salt: &hkdf::Salt,
    teks: impl Iterator<Item = &'a [u8; 16]>,
    heard: &[[u8; 16]],
) -> usize {
    let mut blocks = [Block::default(); 144];
    let mut hits = 0;
    for tek in teks {
        derive(salt, tek, &mut blocks);
        let first: [u8; 16] = blocks[0].into();
        hits += usize::from(heard.binary_search(&first).is_ok());
    }
    hits
}
