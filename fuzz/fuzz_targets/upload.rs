//! Fuzz target for an upload's payload, as the key server reads it once the seal is open.
//!
//! The input's first 16 bytes choose the clock and the code's onset; the rest is the opened plaintext:
//! read as an upload (the padding rule, the JSON, chaff or a report), checked key by key as
//! `POST /v1/publish` does, turned into what the export would say. Whatever reads, padding and reading
//! again gives it back. (The seal itself is `sealed_upload`.)
//!
//! Run it with `fuzz/run upload`: see docs/fuzzing.md.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 16 {
        return;
    }
    let (head, plain) = data.split_at(16);
    let now_ms = u64::from_le_bytes(head[..8].try_into().unwrap_or_default());
    let onset = u32::from_le_bytes(head[8..12].try_into().unwrap_or_default());
    let onset_day = (head[12] & 1 == 1).then_some(onset);
    openzone_server::fuzzing::upload_plaintext(plain, now_ms, onset_day);
});
