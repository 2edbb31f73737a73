//! Fuzz target for published key exports (`openzone_core::export`): the zip, its signature file and the
//! `TemporaryExposureKeyExport` protobuf a phone downloads from a key server or a CDN.
//!
//! The first byte chooses what the rest is:
//!
//! - even: a whole zip, as downloaded (`Export::from_zip_bytes`), checked against a key that did not
//!   sign it: it must be refused, never panic; its keys are iterated all the same;
//! - odd: an `export.bin`, zipped and signed here with a fixed key, so that the verified path runs:
//!   every key is iterated, and none panics.
//!
//! Run it with `fuzz/run export`: see docs/fuzzing.md.

#![no_main]

#[path = "../support/signer.rs"]
mod signer;

use libfuzzer_sys::fuzz_target;
use openzone_core::checkin::package::zip_signed_bin;
use openzone_core::export::Export;
use rayon::iter::ParallelIterator;
use signer::signer;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        if let Ok(export) = Export::from_zip_bytes(rest) {
            let _ = export.keys().count();
            assert!(export.verify(&[signer().verification_key()]).is_err());
        }
        return;
    }
    let Ok(zip) = zip_signed_bin(rest, signer()) else {
        return;
    };
    if let Ok(export) = Export::from_zip_bytes(&zip) {
        if let Ok(verified) = export.verify(&[signer().verification_key()]) {
            // The chunks the matcher walks in parallel hold exactly the keys a plain walk finds.
            let chunked: usize = verified.key_chunks().map(|c| c.keys().count()).sum();
            assert_eq!(chunked, verified.export().keys().count());
        }
    }
});
