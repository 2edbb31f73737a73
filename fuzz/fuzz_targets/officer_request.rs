//! Fuzz target for what an officer's browser or health system sends: the `Cookie` header and the forms
//! of the officer page, the JSON of the officer API (sign-in, code request with its onset date).
//!
//! The first input byte says where the cookie header ends; the rest is the body, read as every form and
//! JSON body the server accepts. Nothing may panic.
//!
//! Run it with `fuzz/run officer_request`: see docs/fuzzing.md.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let (cookie, body) = rest.split_at(usize::from(split).min(rest.len()));
    openzone_server::fuzzing::officer_request(cookie, body);
});
