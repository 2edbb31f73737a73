//! What the command-line tests share: running `openzone` as a real process and reading what it says.

#![allow(dead_code)] // each test file uses its own subset

use std::path::Path;
use std::process::{Command, Output};

/// Runs `openzone` with `args`, without a data key in the environment.
pub fn openzone(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_openzone"))
        .args(args)
        .env_remove("OPENZONE_DATA_KEY")
        .output()
        .expect("the binary runs")
}

/// Runs `openzone`, which must succeed; returns its stdout.
pub fn ok(args: &[&str]) -> String {
    let out = openzone(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Runs `openzone`, which must fail with one line on stderr starting `openzone: `; returns that line.
pub fn fails(args: &[&str]) -> String {
    let out = openzone(args);
    assert!(!out.status.success(), "{args:?} succeeded");
    let err = String::from_utf8(out.stderr).expect("UTF-8 errors");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line on stderr: {err}"
    );
    assert!(err.starts_with("openzone: "), "{err}");
    err
}

/// Parses JSON output.
pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("valid JSON")
}

/// A path as an argument.
pub fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}
