//! Fuzz target for the store's records (`openzone_core::store::fuzz_record`): unsealing a stored value and
//! every decoder of a record's plaintext (scan windows of every layout version, own keys, the bluezone-v3
//! root key, exposure days), on bytes a damaged disk or a hostile backup could hold.
//!
//! Nothing may panic; a record that decodes encodes back to itself.
//!
//! Run it with `fuzz/run store_record`: see docs/fuzzing.md.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    openzone_core::store::fuzz_record(data);
});
