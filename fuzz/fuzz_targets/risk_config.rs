//! Fuzz target for a risk configuration in JSON (`RiskConfig::from_json`), as a health authority publishes
//! it or `openzone match --risk` reads it.
//!
//! No input may panic; a configuration that passes its checks writes back to JSON that reads to the same
//! configuration, and scoring with it never panics.
//!
//! Run it with `fuzz/run risk_config`: see docs/fuzzing.md.

#![no_main]

use libfuzzer_sys::fuzz_target;
use openzone_core::export::signing::SignedConfig;
use openzone_core::risk::{score, RiskConfig};

fuzz_target!(|data: &[u8]| {
    let Ok(config) = RiskConfig::from_json(data) else {
        return;
    };
    let again = RiskConfig::from_json(config.to_json().as_bytes())
        .expect("a checked configuration reads back");
    assert_eq!(again.to_json(), config.to_json());
    let _ = score(&[], &config);
});
