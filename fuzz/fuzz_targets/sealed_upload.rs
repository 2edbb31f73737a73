//! Fuzz target for sealed uploads: the bytes of `POST /v1/publish`, opened with a fixed server key.
//!
//! Opening must fail cleanly (too short, too long, unknown version, low-order point, not authentic) and
//! never panic; whatever opens is read as the server reads it. Sealing the input as a plaintext and
//! opening it round-trips. Each input costs several X25519 operations, so this target runs far fewer
//! inputs a second than the others; the payload's parsing is `upload`.
//!
//! Run it with `fuzz/run sealed_upload`: see docs/fuzzing.md.

#![no_main]

use libfuzzer_sys::fuzz_target;
use openzone_core::keyserver::seal::{seal, SealingSecret};

fuzz_target!(|data: &[u8]| {
    let server = SealingSecret::from_bytes([7; 32]);
    if let Ok(plain) = server.open(data) {
        openzone_server::fuzzing::upload_plaintext(&plain, 0, None);
    }
    if let Ok(sealed) = seal(&server.public_key(), data) {
        assert_eq!(server.open(&sealed).ok().as_deref(), Some(data));
    }
});
