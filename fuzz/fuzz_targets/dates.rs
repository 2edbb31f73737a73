//! Fuzz target for dates (`YYYY-MM-DD`): the onset an officer types, `--onset` and `--test-date` on
//! the command line.
//!
//! `parse_day` must never panic; a day it accepts formats to a date that parses to the same day.
//!
//! Run it with `fuzz/run dates`: see docs/fuzzing.md.

#![no_main]

use libfuzzer_sys::fuzz_target;
use openzone_core::time::{format_day, parse_day};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(day) = parse_day(&text) {
        assert_eq!(parse_day(&format_day(day)).ok(), Some(day));
    }
});
