//! Fuzz target for PEM keys (export-signing public keys a phone pins or `openzone sync --public-key`
//! reads, the server's private key file) and the base64 sealing key of `/v1/config`.
//!
//! No parser may panic; a public key that parses writes back to PEM that parses to the same key; a
//! sealing key that parses writes back to the same base64 key.
//!
//! Run it with `fuzz/run pem`: see docs/fuzzing.md.

#![no_main]

use libfuzzer_sys::fuzz_target;
use openzone_core::export::signing::{SigningKey, VerificationKey};
use openzone_core::keyserver::seal::SealingPublicKey;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(key) = VerificationKey::from_pem("452", "v1", &text) {
        let again = VerificationKey::from_pem("452", "v1", &key.to_pem());
        assert_eq!(again.ok(), Some(key));
    }
    if let Ok(signer) = SigningKey::from_pem("452", "v1", &text) {
        let _ = signer.verification_key().to_pem();
    }
    if let Ok(key) = SealingPublicKey::from_base64(&text) {
        assert_eq!(
            SealingPublicKey::from_base64(&key.to_base64()).ok(),
            Some(key)
        );
    }
});
