//! `openzone serve`, `openzone report-positive` and `openzone sync` as real processes on loopback: the
//! whole flow from the command line, and its errors as one line on stderr.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod support;

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
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

/// Creates an officer account on a stopped server's data directory, the password on stdin.
fn add_officer(data: &std::path::Path, name: &str, password: &str, quota: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_openzone"))
        .args(["officer", "add", "--data"])
        .arg(data)
        .args(["--name", name, "--quota", quota, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    child.wait_with_output().unwrap()
}

/// Signs in through the officer API; returns the session token.
fn sign_in(addr: &str, name: &str, password: &str) -> String {
    let body = serde_json::json!({ "name": name, "password": password }).to_string();
    let (status, answer) = http(
        addr,
        &format!(
            "POST /v1/admin/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert_eq!(status, 200, "{answer}");
    let json: serde_json::Value = serde_json::from_str(&answer).unwrap();
    json["token"].as_str().unwrap().to_owned()
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

/// Runs `openzone serve` on a loopback port, publishing every second; returns it, its URL and address.
fn serve(data: &std::path::Path) -> (support::Serve, String, String) {
    let served = support::serve(
        data,
        &[
            "--cadence-secs",
            "1",
            "--min-batch",
            "20",
            "--publication-delay-secs",
            "7200",
        ],
    );
    let url = served.url.clone();
    let addr = url.strip_prefix("http://").unwrap().to_owned();
    assert_eq!(
        served.accounts_line.split(' ').next(),
        Some("1"),
        "the second line counts the officer accounts"
    );
    (served, url, addr)
}

/// Waits until the index lists a name containing `part`.
fn wait_for_index(addr: &str, part: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, index) = http(
            addr,
            &format!(
                "GET /v1/exports/index.txt HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
            ),
        );
        if index.contains(part) {
            return;
        }
        assert!(Instant::now() < deadline, "nothing was published");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Runs `openzone` and returns its stdout as JSON; fails with its stderr.
fn json_of(args: &[&str]) -> serde_json::Value {
    let out = openzone(args);
    support::assert_success(&out, args);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn check_in_report_warn_and_sync_from_the_command_line() {
    let data = tempfile::tempdir().unwrap();
    let added = add_officer(data.path(), "nurse", "the nurse's password", "10");
    assert!(added.status.success());
    let (_serve, url, addr) = serve(data.path());
    let token = sign_in(&addr, "nurse", "the nurse's password");

    // The school makes the room's poster; the case scans it, the classmate photographs it.
    let (room, venue_dir, link) = support::temp_venue(
        "9a",
        "Lớp 9A",
        &["--type", "educational-institution", "--minutes", "45"],
    );
    let poster = room.path().join("9a.png");
    let out = openzone(&[
        "venue",
        "poster",
        venue_dir.to_str().unwrap(),
        "--out",
        poster.to_str().unwrap(),
    ]);
    support::assert_success(&out, "openzone");

    let now = SystemClock.now_ms();
    let today = day_of_ms(now);
    let lesson = u64::from(today - 1) * 86_400 + 8 * 3_600;
    let key = ExposureKey::new(
        TemporaryExposureKey::from_bytes([7; 16]),
        (today - 1) * 144,
        144,
    )
    .unwrap();
    let [case, classmate, other] = [(); 3].map(|()| tempfile::tempdir().unwrap());
    {
        let data_key = DataKey::from_hex(DATA_KEY_HEX).unwrap();
        let store = Store::open(case.path(), &data_key, StoreConfig::default(), now).unwrap();
        store.put_own_en_key(&key).unwrap();
    }
    let dir = |d: &tempfile::TempDir| d.path().to_str().unwrap().to_owned();
    let lesson_s = lesson.to_string();
    let entry = json_of(&[
        "checkin",
        &link,
        "--store",
        &dir(&case),
        "--at",
        &lesson_s,
        "--json",
    ]);
    assert_eq!(entry["description"], "Lớp 9A");
    assert_eq!(entry["departure"], lesson + 45 * 60);
    let rfc = format!("{}T08:05:00Z", openzone_core::time::format_day(today - 1));
    json_of(&[
        "checkin",
        "--image",
        poster.to_str().unwrap(),
        "--store",
        &dir(&classmate),
        "--at",
        &rfc,
        "--minutes",
        "40",
        "--json",
    ]);
    let listed = json_of(&["checkins", "--store", &dir(&classmate), "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    for field in ["description", "address", "location_id"] {
        assert_eq!(listed[0][field], entry[field], "{field}");
    }
    assert_eq!(listed[0]["arrival"], lesson + 300);
    assert_eq!(listed[0]["departure"], lesson + 300 + 40 * 60);
    // The other pupil was there at another time, and checked out by hand.
    let afternoon = (lesson + 5 * 3_600).to_string();
    json_of(&[
        "checkin",
        &link,
        "--store",
        &dir(&other),
        "--at",
        &afternoon,
        "--json",
    ]);
    let out = openzone(&[
        "checkout",
        "--store",
        &dir(&other),
        "--at",
        &(lesson + 5 * 3_600 + 1_200).to_string(),
        "--json",
    ]);
    support::assert_success(&out, "openzone");
    // Bad input: one line on stderr, nothing stored.
    for bad in [
        vec!["checkin", "https://zalo.me/g/x", "--store"],
        vec!["checkin", "openzone://checkin?v=2#CAE", "--store"],
        vec!["checkin", &link, "--at", "2999-01-01T00:00:00Z", "--store"],
        vec!["checkin", &link, "--at", "yesterday", "--store"],
    ] {
        let mut args = bad.clone();
        let store = dir(&case);
        args.push(&store);
        let out = openzone(&args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    assert_eq!(
        json_of(&["checkins", "--store", &dir(&case), "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The case reports; its check-in goes up with its key.
    let code = issue_code(&addr, &token);
    let report = json_of(&[
        "report-positive",
        "--store",
        &dir(&case),
        "--server",
        &url,
        "--code",
        &code,
        "--json",
    ]);
    assert_eq!(report["checkins_uploaded"], 1);
    wait_for_index(&addr, "-warnings-");
    let synced = json_of(&[
        "sync",
        "--store",
        &dir(&classmate),
        "--server",
        &url,
        "--json",
    ]);
    assert_eq!(synced["new_presence_warnings"][0]["description"], "Lớp 9A");
    assert_eq!(synced["new_presence_warnings"][0]["at_risk"], true);
    let synced = json_of(&["sync", "--store", &dir(&other), "--server", &url, "--json"]);
    assert_eq!(synced["presence_warnings"], serde_json::json!([]));

    // An officer warns for the afternoon from the poster's photo, with a code.
    let code = issue_code(&addr, &token);
    let until = (lesson + 6 * 3_600).to_string();
    let warn = |venue: &str| {
        openzone(&[
            "warn", "--venue", venue, "--from", &afternoon, "--to", &until, "--server", &url,
            "--code", &code,
        ])
    };
    let out = warn(poster.to_str().unwrap());
    support::assert_success(&out, "openzone");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let synced = json_of(&["sync", "--store", &dir(&other), "--server", &url, "--json"]);
        if synced["warning_packages_checked"].as_u64().unwrap() > 0 {
            assert_eq!(synced["new_presence_warnings"][0]["description"], "Lớp 9A");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the officer's warning was not published"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // The same code again is refused.
    let out = warn(&link);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("code_used"));
}

#[test]
fn serve_report_positive_and_sync_from_the_command_line() {
    let data = tempfile::tempdir().unwrap();
    let added = add_officer(data.path(), "nurse", "the nurse's password", "10");
    support::assert_success(&added, "openzone");
    let (_serve, url, addr) = serve(data.path());
    #[cfg(unix)]
    for secret in [
        "export-signing-key.pem",
        "upload-sealing-key",
        "code-hmac-key",
    ] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.path().join(secret))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{secret}");
    }
    let token = sign_in(&addr, "nurse", "the nurse's password");

    // A reporter who met a listener two days ago (published after the 2-hour delay, at any hour).
    let now = SystemClock.now_ms();
    let met = day_of_ms(now) - 2;
    let key = ExposureKey::new(TemporaryExposureKey::from_bytes([42; 16]), met * 144, 144).unwrap();
    let reporter = tempfile::tempdir().unwrap();
    let listener = tempfile::tempdir().unwrap();
    let data_key = DataKey::from_hex(DATA_KEY_HEX).unwrap();
    {
        let store = Store::open(reporter.path(), &data_key, StoreConfig::default(), now).unwrap();
        store.put_own_en_key(&key).unwrap();
        let store = Store::open(listener.path(), &data_key, StoreConfig::default(), now).unwrap();
        store.record(&lesson(&key, met)).unwrap();
        store.checkpoint(now).unwrap();
    }
    let reporter_dir = reporter.path().to_str().unwrap();
    let listener_dir = listener.path().to_str().unwrap();

    let report_positive = |code: &str, extra: &[&str]| {
        let mut args = vec![
            "report-positive",
            "--store",
            reporter_dir,
            "--server",
            url.as_str(),
            "--code",
            code,
        ];
        args.extend(extra);
        openzone(&args)
    };

    // A wrong code: one line on stderr, with the server's error code.
    let out = report_positive("00000000", &[]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.starts_with("openzone: ") && err.contains("code_unknown"),
        "{err}"
    );

    let code = issue_code(&addr, &token);
    let out = report_positive(&code, &["--json"]);
    support::assert_success(&out, "openzone");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["keys_uploaded"], 1);
    assert_eq!(report["repeated"], false);

    // Published within a few seconds, with the warning package of the report's encrypted check-ins;
    // the listener syncs (trusting the announced key) and is at risk.
    wait_for_index(&addr, "-warnings-");
    let out = openzone(&["sync", "--store", listener_dir, "--server", &url, "--json"]);
    support::assert_success(&out, "openzone");
    let sync: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sync["trusted_server_keys"], true);
    assert_eq!(sync["keys_matched"], 1);
    assert_eq!(sync["days"][0]["at_risk"], true);
    assert_eq!(
        sync["days"][0]["date"],
        openzone_core::time::format_day(met)
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
    support::assert_success(&out, "openzone");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("trusting"), "{text}");
    // The export and the warning package of the report's encrypted check-ins (fakes, here).
    assert!(text.contains("0 new checked, 2 checked before"), "{text}");
    assert!(text.contains("yes"), "{text}");
}

#[test]
fn officers_and_sealing_keys_are_managed_from_the_command_line() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    // A generated password, shown once.
    let out = openzone(&[
        "officer", "add", "--data", dir, "--name", "lan", "--quota", "5",
    ]);
    support::assert_success(&out, "openzone");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("officer lan created, 5 codes a day"),
        "{text}"
    );
    let password = text.rsplit(": ").next().unwrap().trim();
    assert!(password.len() >= 20, "{text}");
    assert!(add_officer(data.path(), "minh", "minh's password", "50")
        .status
        .success());
    // Refusals are one line.
    let out = add_officer(data.path(), "lan", "another password", "5");
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("exists already") && err.lines().count() == 1,
        "{err}"
    );
    let out = add_officer(data.path(), "hoa", "short", "5");
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("at least 12"));

    let out = openzone(&["officer", "disable", "--data", dir, "--name", "minh"]);
    assert!(out.status.success());
    let out = openzone(&["officer", "list", "--data", dir, "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["name"], "lan");
    assert_eq!(list[0]["daily_quota"], 5);
    assert_eq!(list[1]["disabled"], true);
    let out = openzone(&["officer", "audit", "--data", dir, "--json"]);
    let audit: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["officer_added", "officer_added", "officer_disabled"]
    );
    let out = openzone(&["officer", "audit", "--data", dir, "--code", "12345678"]);
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("no such code"));

    // Rotation needs a key to rotate: the server makes it on its first start.
    let out = openzone(&["sealing-key", "rotate", "--data", dir]);
    assert!(!out.status.success());
    std::fs::write(data.path().join("upload-sealing-key"), "11".repeat(32)).unwrap();
    let out = openzone(&["sealing-key", "rotate", "--data", dir]);
    support::assert_success(&out, "openzone");
    assert_eq!(
        std::fs::read_to_string(data.path().join("upload-sealing-key.previous")).unwrap(),
        "11".repeat(32)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("new upload sealing key"), "{text}");
}
