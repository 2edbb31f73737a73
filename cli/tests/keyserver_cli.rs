//! `openzone serve`, `openzone report-positive` and `openzone sync` as real processes on loopback: the
//! whole flow from the command line, and its errors as one line on stderr.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use openzone_core::protocol::en_v1::{EnV1, ExposureKey, TemporaryExposureKey};
use openzone_core::protocol::Scheme;
use openzone_core::sighting::{Sighting, Source};
use openzone_core::store::{DataKey, Store, StoreConfig};
use openzone_core::time::{day_of_ms, Clock, SystemClock, MS_PER_DAY};

const DATA_KEY_HEX: &str = "0101010101010101010101010101010101010101010101010101010101010101";

fn openzone(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_openzone"))
        .args(args)
        .env("OPENZONE_DATA_KEY", DATA_KEY_HEX)
        .output()
        .expect("the binary runs")
}

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A plain HTTP/1.1 request on loopback; returns the status and the body.
fn http(addr: &str, request: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn issue_code(addr: &str, token: &str) -> String {
    let body = r#"{"test_type":"confirmed"}"#;
    let (status, answer) = http(
        addr,
        &format!(
            "POST /v1/admin/codes HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert_eq!(status, 201, "{answer}");
    let json: serde_json::Value = serde_json::from_str(&answer).unwrap();
    json["code"].as_str().unwrap().to_owned()
}

fn lesson(person: &ExposureKey, day: u32) -> Vec<Sighting> {
    let scheme = EnV1::new(-25);
    let start = u64::from(day) * MS_PER_DAY + 8 * 3_600_000;
    (0..32u64)
        .map(|i| {
            let t = start + (i / 4) * 300_000 + (i % 4) * 700;
            let interval = EnV1::slot_at(person, t / 1000).unwrap().index;
            Sighting {
                payload: scheme.payload(person, interval),
                rssi: -55,
                tx_power: None,
                time_ms: t,
                source: Source::Advertisement,
            }
        })
        .collect()
}

#[test]
fn serve_report_positive_and_sync_from_the_command_line() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_openzone"))
        .args(["serve", "--data"])
        .arg(data.path())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--cadence-secs",
            "1",
            "--min-batch",
            "20",
            "--publication-delay-secs",
            "0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let _serve = Serve(child);
    let url = first
        .strip_prefix("openzone key server listening on ")
        .unwrap()
        .to_owned();
    let addr = url.strip_prefix("http://").unwrap().to_owned();
    let token_path = data.path().join("admin-token");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let token = std::fs::read_to_string(&token_path)
        .unwrap()
        .trim()
        .to_owned();

    // A reporter who met a listener yesterday.
    let now = SystemClock.now_ms();
    let yesterday = day_of_ms(now) - 1;
    let key = ExposureKey::new(
        TemporaryExposureKey::from_bytes([42; 16]),
        yesterday * 144,
        144,
    )
    .unwrap();
    let reporter = tempfile::tempdir().unwrap();
    let listener = tempfile::tempdir().unwrap();
    let data_key = DataKey::from_hex(DATA_KEY_HEX).unwrap();
    {
        let store = Store::open(reporter.path(), &data_key, StoreConfig::default(), now).unwrap();
        store.put_own_en_key(&key).unwrap();
        let store = Store::open(listener.path(), &data_key, StoreConfig::default(), now).unwrap();
        store.record(&lesson(&key, yesterday)).unwrap();
        store.checkpoint(now).unwrap();
    }
    let reporter_dir = reporter.path().to_str().unwrap();
    let listener_dir = listener.path().to_str().unwrap();

    // A wrong code: one line on stderr, with the server's error code.
    let out = openzone(&[
        "report-positive",
        "--store",
        reporter_dir,
        "--server",
        &url,
        "--code",
        "00000000",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.starts_with("openzone: ") && err.contains("code_unknown"),
        "{err}"
    );

    let code = issue_code(&addr, &token);
    let out = openzone(&[
        "report-positive",
        "--store",
        reporter_dir,
        "--server",
        &url,
        "--code",
        &code,
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["keys_uploaded"], 1);
    assert_eq!(report["repeated"], false);

    // Published within a few seconds; the listener syncs (trusting the announced key) and is at risk.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, index) = http(
            &addr,
            &format!(
                "GET /v1/exports/index.txt HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
            ),
        );
        if !index.trim().is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "nothing was published");
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = openzone(&["sync", "--store", listener_dir, "--server", &url, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sync: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sync["trusted_server_keys"], true);
    assert_eq!(sync["keys_matched"], 1);
    assert_eq!(sync["days"][0]["at_risk"], true);
    assert_eq!(
        sync["days"][0]["date"],
        openzone_core::time::format_day(yesterday)
    );

    // With the server's key pinned from a file, the text output; the export was checked already.
    let (_, config) = http(
        &addr,
        &format!("GET /v1/config HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    );
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    let pem_path = data.path().join("pinned.pem");
    std::fs::write(
        &pem_path,
        config["export_signing_keys"][0]["public_key_pem"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let out = openzone(&[
        "sync",
        "--store",
        listener_dir,
        "--server",
        &url,
        "--public-key",
        pem_path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("trusting"), "{text}");
    assert!(text.contains("0 new checked, 1 checked before"), "{text}");
    assert!(text.contains("yes"), "{text}");
}
