//! Fuzz target for a Bluezone key list (`openzone_core::export::bluezone::parse_signed`): the JSON list of
//! daily keys a health authority publishes for bluezone-v3 phones, with its detached signature.
//!
//! The input is signed here with a fixed key, so that the parser behind the signature check runs; it must
//! never panic, and every entry is either a key or a skip.
//!
//! Run it with `fuzz/run bluezone_list`: see docs/fuzzing.md.

#![no_main]

#[path = "../support/signer.rs"]
mod signer;

use libfuzzer_sys::fuzz_target;
use openzone_core::export::bluezone::parse_signed;
use signer::signer;

fuzz_target!(|data: &[u8]| {
    let Ok(signature) = signer().sign(data) else {
        return;
    };
    let _ = parse_signed(data, &signature, &[signer().verification_key()]);
    // Unsigned (or signed by someone else): always refused.
    assert!(parse_signed(data, b"not a signature", &[signer().verification_key()]).is_err());
});
