//! Fuzz target for the check-in QR decoder: the link parser (`CheckInLinks`) and the `QRCodePayload`
//! protobuf decoder (`Venue::from_payload`), which read whatever a QR code or a pasted link holds.
//!
//! Neither may panic, and what decodes must survive a round trip:
//!
//! - `Venue::from_payload(x) == Ok(v)` implies `TraceLocation::decode(&v.location().encode())` gives the
//!   same location, the link of `v` reads back as `v`, and the check-in rules and stay answer without
//!   panicking;
//! - the input read as text goes through the link parser with the same guarantees.
//!
//! Run it with `fuzz/run checkin_link` from the repository root: see docs/fuzzing.md.

#![no_main]

use libfuzzer_sys::fuzz_target;
use openzone_core::checkin::{CheckInLinks, TraceLocation, Venue};

fn check(venue: &Venue, links: &CheckInLinks) {
    let location = venue.location();
    let again = TraceLocation::decode(&location.encode()).expect("a decoded location re-encodes");
    assert_eq!(&again, location);
    let link = links.link(venue);
    assert_eq!(&links.venue(&link).expect("own links read back"), venue);
    let _ = venue.check_in_rules(1_780_000_000);
    let _ = venue.stay_minutes(None);
    let _ = venue.location_id().hash();
}

fuzz_target!(|data: &[u8]| {
    let links = CheckInLinks::default();
    if let Ok(venue) = Venue::from_payload(data.to_vec()) {
        check(&venue, &links);
    }
    let text = String::from_utf8_lossy(data);
    for candidate in [
        text.to_string(),
        format!("openzone://checkin?v=1#{text}"),
        format!("https://e.coronawarn.app/?v=1#{text}"),
    ] {
        if let Ok(venue) = links.venue(&candidate) {
            check(&venue, &links);
        }
    }
});
