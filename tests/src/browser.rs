//! Browser tests' driver: node scripts in `tests/browser/` that run Debian's headless `chromium` through
//! playwright-core and print JSON for the Rust test to check.

#![allow(clippy::unwrap_used)] // test support: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The folder of the browser scripts and their node_modules.
pub fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("browser")
}

/// Runs `tests/browser/<script>` with node (headless Chromium through playwright-core); returns the
/// JSON it prints. Panics with the page's messages when it fails, and when node, playwright-core or
/// chromium is missing (`scripts/setup` installs them): a browser test fails, never skips.
pub fn run_script(script: &str, args: &[&str]) -> serde_json::Value {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: run scripts/setup (it installs Debian's chromium)"
    );
    assert!(
        browser_dir().join("node_modules/playwright-core").exists(),
        "playwright-core is missing: run scripts/setup (npm install in tests/browser)"
    );
    let mut child = Command::new("node")
        .arg(browser_dir().join(script))
        .args(args)
        .env("CHROMIUM", &chromium)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run node ({e}): run scripts/setup"));
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the browser test did not finish in 2 minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{script} failed in the browser: {}{}",
        String::from_utf8_lossy(&output.stderr),
        stdout
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}
