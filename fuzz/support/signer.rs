//! The fixed signing key of the fuzz targets that sign their input, so that the parsers behind a
//! signature check are reached.

use std::sync::OnceLock;

use openzone_core::export::signing::SigningKey;

/// One key per process, made on first use.
pub fn signer() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate("fuzz", "v1").expect("a key").0)
}
