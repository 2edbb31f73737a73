//! Fuzz target for the warning-package parser (`openzone_core::checkin::package`) and what reads its
//! reports (`ProtectedReport::decode`, `open`, and the matcher).
//!
//! The first byte chooses what the rest is:
//!
//! - even: a whole zip, as downloaded (`WarningPackage::from_zip_bytes`), checked against a key that did
//!   not sign it: it must be refused, never panic;
//! - odd: an `export.bin`, zipped and signed here with a fixed key, so that the parser's verified path
//!   runs: the header's report count equals the reports iterated, every report re-encodes to itself, and
//!   opening and matching it never panic.
//!
//! Run it with `fuzz/run warning_package` from the repository root: see docs/fuzzing.md.

#![no_main]

#[path = "../support/signer.rs"]
mod signer;

use libfuzzer_sys::fuzz_target;
use openzone_core::checkin::package::{zip_signed_bin, WarningPackage};
use openzone_core::checkin::scoring::{score, CheckIn, Matcher, PresenceConfig};
use openzone_core::checkin::{LocationId, ProtectedReport};
use signer::signer;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let key = signer().verification_key();
    if mode % 2 == 0 {
        if let Ok(package) = WarningPackage::from_zip_bytes(rest) {
            let _ = package.header();
            // The fuzzer cannot forge this key's signature.
            assert!(package.verify(&[key]).is_err());
        }
        return;
    }
    let zip = zip_signed_bin(rest, signer()).expect("signing works");
    let Ok(package) = WarningPackage::from_zip_bytes(&zip) else {
        return;
    };
    let count = package.header().report_count;
    let verified = package.verify(&[key]).expect("our own signature verifies");
    let id = LocationId::of_payload(b"fuzz");
    let mut n = 0;
    for report in verified.reports() {
        n += 1;
        if let Ok(report) = report {
            assert_eq!(
                ProtectedReport::decode(&report.encode()).expect("re-decodes"),
                report
            );
            let _ = report.open(&id);
        }
    }
    assert_eq!(n, count);
    let checkins = [CheckIn {
        location_id: id,
        description: "fuzz".into(),
        address: "fuzz".into(),
        arrival: 1_780_000_000,
        departure: 1_780_000_000 + 3 * 86_400,
    }];
    let outcome = Matcher::new(&checkins).match_package(&verified);
    assert_eq!(outcome.reports as usize, count);
    let _ = score(
        &checkins,
        &outcome.overlaps,
        &PresenceConfig::corona_warn_app_2021(),
    );
});
