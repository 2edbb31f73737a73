//! A BlueZ without a radio for the BLE tests: a private dbus-daemon with python-dbusmock's `bluez5`
//! template answering as `org.bluez` on it, driven by `tests/ble/bluez_mock.py`.
//!
//! Code under test finds the bus through `DBUS_SYSTEM_BUS_ADDRESS`, as it finds the real system bus.
//! Needs `dbus-daemon` (Debian: dbus) and a Python with python-dbusmock: `OPENZONE_TEST_PYTHON`, or the
//! virtual environment `scripts/setup` makes at the repository root (`.venv`).

// Each test binary that includes this file uses a different part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The bus configuration: a bus anyone may own names on and talk to, listening in the test's directory.
const BUS_CONFIG: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=DIR</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#;

/// A private bus, with or without the mock BlueZ on it. Dropping it stops both.
pub struct BluezMock {
    /// The bus address, for `DBUS_SYSTEM_BUS_ADDRESS`.
    pub address: String,
    daemon: Child,
    mock: Option<Child>,
    python: PathBuf,
    dir: tempfile::TempDir,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the repository")
        .to_path_buf()
}

fn python() -> PathBuf {
    let python = std::env::var_os("OPENZONE_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/python"));
    assert!(
        python.exists(),
        "{} is missing: the BLE tests need python-dbusmock; run scripts/setup (it makes .venv) or set \
         OPENZONE_TEST_PYTHON to a Python that has it",
        python.display()
    );
    python
}

impl BluezMock {
    /// A private bus with the mock BlueZ on it, and no adapter yet.
    pub fn start() -> Self {
        let mut bus = Self::bus_only();
        let mock = Command::new(&bus.python)
            .args(["-m", "dbusmock", "--template", "bluez5", "--system"])
            .env("DBUS_SYSTEM_BUS_ADDRESS", &bus.address)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting python -m dbusmock");
        bus.mock = Some(mock);
        bus.call(&["wait"]);
        bus
    }

    /// A private bus with nothing on it: a machine whose BlueZ is not running.
    pub fn bus_only() -> Self {
        let python = python();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            BUS_CONFIG.replace("DIR", &dir.path().display().to_string()),
        )
        .expect("writing the bus configuration");
        let mut daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--print-address", "--nofork"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting dbus-daemon (Debian package dbus; scripts/setup installs it)");
        let mut address = String::new();
        BufReader::new(daemon.stdout.take().expect("dbus-daemon's stdout"))
            .read_line(&mut address)
            .expect("reading the bus address");
        let address = address.trim().to_owned();
        assert!(
            address.starts_with("unix:"),
            "dbus-daemon printed no address"
        );
        Self {
            address,
            daemon,
            mock: None,
            python,
            dir,
        }
    }

    /// Runs `bluez_mock.py ARGS` against this bus and returns what it printed.
    pub fn call(&self, args: &[&str]) -> serde_json::Value {
        let output = Command::new(&self.python)
            .arg(repo_root().join("tests/ble/bluez_mock.py"))
            .args(args)
            .env("DBUS_SYSTEM_BUS_ADDRESS", &self.address)
            .output()
            .expect("running tests/ble/bluez_mock.py");
        assert!(
            output.status.success(),
            "bluez_mock.py {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("bluez_mock.py prints JSON")
    }

    /// How many times `method` was called on the adapter.
    pub fn calls(&self, adapter: &str, method: &str) -> u64 {
        self.call(&["calls", adapter, method])["count"]
            .as_u64()
            .expect("a count")
    }

    /// The `openzone` binary with this bus as the system bus.
    pub fn openzone(&self) -> Command {
        let mut command = Command::new(openzone_binary());
        command.env("DBUS_SYSTEM_BUS_ADDRESS", &self.address);
        command
    }

    /// A directory that lives as long as the mock.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for BluezMock {
    fn drop(&mut self) {
        if let Some(mock) = &mut self.mock {
            let _ = mock.kill();
            let _ = mock.wait();
        }
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// The `openzone` binary beside this test's own (`cargo test --workspace` builds it with the default
/// features, `desktop-ble` among them).
pub fn openzone_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let binary = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binaries live in target/<profile>/deps")
        .join("openzone");
    assert!(
        binary.exists(),
        "{} is missing: build it first (cargo build -p openzone-cli, or run the whole workspace's tests)",
        binary.display()
    );
    binary
}

/// Waits until `done` holds, checking every 50 ms for at most `secs` seconds.
pub fn wait_until(secs: u64, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
