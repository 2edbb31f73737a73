//! Fuzz target for the export index (`index.txt`), which the key server reads back from its export
//! storage (a bucket others may write to) at every start.
//!
//! `parse_index` must never panic; what it accepts, written back one name per line, parses to the same
//! names.
//!
//! Run it with `fuzz/run index`: see docs/fuzzing.md.

#![no_main]

use libfuzzer_sys::fuzz_target;
use openzone_server::parse_index;

fuzz_target!(|data: &[u8]| {
    if let Ok(names) = parse_index(data) {
        let mut text = String::new();
        for name in &names {
            text.push_str(name);
            text.push('\n');
        }
        assert_eq!(parse_index(text.as_bytes()).ok(), Some(names));
    }
});
