//! The store under bad conditions, in child processes: a read-only directory, a full disk (a small tmpfs
//! in a private mount namespace), and a second process opening the same store.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::Path;
use std::process::{Command, Output, Stdio};

use openzone_core::store::StoreConfig;
use openzone_tests::store_fixture::{check_acked, open_store, sightings};

fn child() -> Command {
    Command::new(env!("CARGO_BIN_EXE_store-child"))
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs the child as an unprivileged user when the tests run as root (root ignores directory modes).
fn child_without_privileges() -> Command {
    if is_root() {
        let mut cmd = Command::new("setpriv");
        cmd.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_store-child"),
        ]);
        cmd
    } else {
        child()
    }
}

fn chmod(path: &Path, mode: &str) {
    let status = Command::new("chmod")
        .args([
            "-R",
            mode,
            path.to_str().expect("temporary paths are UTF-8"),
        ])
        .status()
        .expect("chmod runs");
    assert!(status.success());
}

/// `store-child open DIR` without privileges: how it ended and what it said.
fn open_without_privileges(dir: &Path) -> (Output, String) {
    let output = child_without_privileges()
        .arg("open")
        .arg(dir)
        .output()
        .expect("store-child runs");
    let said = stdout(&output);
    (output, said)
}

#[test]
fn a_read_only_directory_is_a_clear_error() {
    let parent = tempfile::tempdir().unwrap();
    chmod(parent.path(), "0755");
    // A new store in a directory nobody may write to.
    let fresh = parent.path().join("fresh");
    std::fs::create_dir(&fresh).unwrap();
    chmod(&fresh, "0555");
    let (output, said) = open_without_privileges(&fresh);
    assert!(
        output.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(said.starts_with("error: cannot use the store at"), "{said}");
    assert!(said.contains("Permission denied"), "{said}");

    // An existing store made read-only: refused clearly, and its data is still there afterwards.
    let existing = parent.path().join("existing");
    {
        let store = open_store(&existing).unwrap();
        store.record(&sightings(0, 10)).unwrap();
        store.checkpoint(0).unwrap();
    }
    chmod(&existing, "a-w");
    let (_, said) = open_without_privileges(&existing);
    assert!(said.starts_with("error: cannot use the store at"), "{said}");
    chmod(&existing, "u+w");
    check_acked(&open_store(&existing).unwrap(), 9).unwrap();
}

/// Fills a 12 MiB tmpfs (5 MiB of it ballast) in a private mount namespace, then verifies the store in a
/// fresh process, as after the app restarts; returns what the children printed.
fn fill_tmpfs(reserve_bytes: u64) -> String {
    let script = r#"
        set -e
        mnt=$(mktemp -d)
        mount -t tmpfs -o size=12m tmpfs "$mnt"
        out=$(mktemp)
        head -c 5242880 /dev/zero > "$mnt/ballast"
        "$0" fill "$mnt/store" "$mnt/ballast" "$1" > "$out"
        cat "$out"
        exec "$0" verify "$mnt/store" "$(sed -n 's/^acked //p' "$out")"
    "#;
    let output = Command::new("timeout")
        .args([
            "120",
            "unshare",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            script,
        ])
        .args([
            env!("CARGO_BIN_EXE_store-child"),
            &reserve_bytes.to_string(),
        ])
        .stderr(Stdio::piped())
        .output()
        .expect("unshare runs");
    let said = stdout(&output);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "stdout: {said}\nstderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        said.contains("closed"),
        "dropping the store hung or failed: {said}"
    );
    assert!(said.contains("verified"), "{said}");
    said
}

#[test]
fn a_nearly_full_disk_stops_writes_with_a_clear_error_and_loses_nothing() {
    let said = fill_tmpfs(StoreConfig::default().reserve_bytes);
    let full = said
        .lines()
        .find(|l| l.starts_with("full after"))
        .unwrap_or_default();
    assert!(
        full.contains("the disk holding") && full.contains("nearly full"),
        "{said}"
    );
}

#[test]
fn a_full_disk_inside_sled_is_a_clear_error_and_loses_nothing_acknowledged() {
    // With the reserve turned off, sled itself runs into ENOSPC.
    let said = fill_tmpfs(0);
    let full = said
        .lines()
        .find(|l| l.starts_with("full after"))
        .unwrap_or_default();
    assert!(full.contains("No space left on device"), "{said}");
}

#[test]
fn a_second_process_is_refused_while_the_store_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path()).unwrap();
    store.record(&sightings(0, 5)).unwrap();
    store.checkpoint(0).unwrap();
    let output = child()
        .args(["open", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    let said = stdout(&output);
    assert!(said.starts_with("error: the store at"), "{said}");
    assert!(said.contains("in use by another process"), "{said}");
    drop(store);
    let output = child()
        .args(["open", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(stdout(&output).trim(), "ok");
}
