//! Fuzz target for a post to a venue's visitor-log inbox, as the key server checks it before storing:
//! the path's location-id hash and the sealed entry's framing (`POST /v1/inbox/{hash}`), and for the
//! same bytes the phone-side reader of sealed entries with a fixed venue secret.
//!
//! The first byte is the length of the path text (at most 80 bytes follow as the path); the rest is the
//! body. Nothing may panic.
//!
//! Run it with `fuzz/run inbox_post`: see docs/fuzzing.md.

#![no_main]

use libfuzzer_sys::fuzz_target;
use openzone_core::checkin::venue::{LocationIdHash, VisitorLogSecret};
use openzone_core::visitorlog::VisitorEntry;

fuzz_target!(|data: &[u8]| {
    let Some((&len, rest)) = data.split_first() else {
        return;
    };
    let len = usize::from(len).min(80).min(rest.len());
    let (path, body) = rest.split_at(len);
    let path = String::from_utf8_lossy(path);
    openzone_server::fuzzing::inbox_post(&path, body);
    let _ = VisitorEntry::open(
        body,
        &VisitorLogSecret::from_bytes([7; 32]),
        &LocationIdHash([9; 32]),
    );
});
