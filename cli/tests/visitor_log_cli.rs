//! A school's day at the gate from the command line, against `openzone serve` on loopback: a parent's
//! phone with two children declares for all three and registers them at a gate poster that keeps a
//! visitor log (through `Phone::visitor_registration`, the step a check-in calls); the guard records a
//! visitor without a phone and a student's card; the school reads its log as JSON and CSV; the server's
//! data directory holds none of the names or numbers in clear.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use openzone_core::checkin::CheckInLinks;
use openzone_core::phone::{DataKey, Phone, PhoneConfig, UserConsent};
use openzone_core::platform::NoRadio;
use openzone_core::time::SystemClock;

const DATA_KEY_HEX: &str = "0202020202020202020202020202020202020202020202020202020202020202";

fn openzone<S: AsRef<str>>(args: &[S]) -> Output {
    openzone_with_stdin(args, "")
}

fn openzone_with_stdin<S: AsRef<str>>(args: &[S], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_openzone"))
        .args(args.iter().map(AsRef::as_ref))
        .env("OPENZONE_DATA_KEY", DATA_KEY_HEX)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// `openzone <command words> --store <store> <rest>`.
fn on_store(command: &str, store: &str, rest: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = command.split(' ').map(String::from).collect();
    args.extend(["--store".to_owned(), store.to_owned()]);
    args.extend(rest.iter().map(|a| a.to_string()));
    args
}

fn joined<S: AsRef<str>>(args: &[S]) -> String {
    args.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(" ")
}

/// Runs a command that must succeed; returns its stdout.
fn ok<S: AsRef<str>>(args: &[S]) -> String {
    let out = openzone(args);
    assert!(
        out.status.success(),
        "openzone {}: {}",
        joined(args),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a command that must fail with one line on stderr containing `word`.
fn fails<S: AsRef<str>>(args: &[S], word: &str) {
    let out = openzone(args);
    assert!(!out.status.success(), "openzone {} succeeded", joined(args));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(word), "{err:?} should mention {word:?}");
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .flat_map(|e| {
            let path = e.path();
            if path.is_dir() {
                files_under(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

#[test]
fn a_family_declares_registers_and_the_school_reads_its_log() {
    let data = tempfile::tempdir().unwrap();
    let served = support::serve(data.path(), &[]);
    let url = served.url.clone();
    let family = tempfile::tempdir().unwrap();
    let store = family.path().join("store");
    let store = store.to_str().unwrap();
    let school = tempfile::tempdir().unwrap();
    let gate = school.path().join("gate");
    let gate_dir = gate.to_str().unwrap();

    // The school's gate keeps a visitor log.
    let link = support::create_venue("Cổng chính", &gate, &["--visitor-log"]);
    let link = link.as_str();

    // The parent's phone: settings, three profiles, three declarations.
    assert!(ok(&on_store(
        "settings",
        store,
        &["--phone", "0912 345 678", "--json"]
    ))
    .contains("\"0912345678\""));
    fails(
        &on_store("settings", store, &["--phone", "call me"]),
        "phone",
    );
    ok(&on_store(
        "profile add",
        store,
        &["--name", "Nguyễn Thị Lan", "--born", "1985"],
    ));
    ok(&on_store(
        "profile add",
        store,
        &["--name", "Trần Minh An", "--class", "3B", "--born", "2016"],
    ));
    ok(&on_store(
        "profile add",
        store,
        &["--name", "Trần Bảo Ngọc", "--class", "5A"],
    ));
    fails(
        &on_store("profile add", store, &["--name", "Trần Bảo Ngọc"]),
        "exists already",
    );
    ok(&on_store("profile add", store, &["--name", "Tạm"]));
    ok(&on_store("profile remove", store, &["--name", "Tạm"]));
    fails(
        &on_store("profile remove", store, &["--name", "Tạm"]),
        "no profile named",
    );
    let list: serde_json::Value =
        serde_json::from_str(&ok(&on_store("profile list", store, &["--json"]))).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["declared_today"] == false));

    let declared: serde_json::Value = serde_json::from_str(&ok(&on_store(
        "declare",
        store,
        &["--profile", "Nguyễn Thị Lan", "--all-clear", "--json"],
    )))
    .unwrap();
    assert_eq!(declared["result"], "clear");
    // An answers file: a cough, then the per-field errors of a bad file.
    let answers = family.path().join("answers.json");
    std::fs::write(
        &answers,
        r#"{"fever": false, "cough": true, "short_breath": false, "sore_throat": false,
            "nausea": false, "diarrhoea": false, "skin_bleeding": false, "rash": false,
            "taste_smell": false, "close_contact": false, "outbreak_area": false, "travel": false,
            "temperature": 37.1}"#,
    )
    .unwrap();
    let declared: serde_json::Value = serde_json::from_str(&ok(&on_store(
        "declare",
        store,
        &[
            "--profile",
            "Trần Minh An",
            "--answers",
            answers.to_str().unwrap(),
            "--json",
        ],
    )))
    .unwrap();
    assert_eq!(declared["result"], "symptoms");
    assert_eq!(declared["reasons"], serde_json::json!(["cough"]));
    let bad = family.path().join("bad.json");
    std::fs::write(&bad, r#"{"fever": "maybe", "temperature": 50}"#).unwrap();
    let refused = |word: &str| {
        let args = [
            "declare",
            "--store",
            store,
            "--profile",
            "Trần Minh An",
            "--answers",
        ];
        fails(&[&args[..], &[bad.to_str().unwrap()]].concat(), word);
    };
    refused("temperature");
    std::fs::write(&bad, "{\"fever\": fal").unwrap();
    refused("cannot be read");
    fails(
        &on_store("declare", store, &["--profile", "Nobody", "--all-clear"]),
        "no profile named",
    );
    // Interactive: a line per question, empty lines skip; "k" is Vietnamese for no.
    let mut lines = vec!["", "", "female", "", ""];
    lines.extend(["k"; 9]);
    lines.push("36,8");
    lines.extend(["k"; 3]);
    lines.push("");
    let out = openzone_with_stdin(
        &on_store(
            "declare",
            store,
            &["--profile", "Trần Bảo Ngọc", "--interactive", "--json"],
        ),
        &(lines.join("\n") + "\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let declared: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(declared["result"], "clear");
    assert_eq!(declared["answers"]["sex"], "female");
    assert_eq!(declared["answers"]["temperature"], 36.8);
    let all: serde_json::Value =
        serde_json::from_str(&ok(&on_store("declarations", store, &["--json"]))).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 3);

    // At the gate the parent registers all three (the check-in's consent step, through the phone).
    let key_server = openzone_core::keyserver::KeyServerClient::new(
        openzone_core::keyserver::ClientConfig::new(&url),
    )
    .unwrap();
    let mut config = PhoneConfig::new(store, DataKey::from_hex(DATA_KEY_HEX).unwrap());
    config.key_server = Some(key_server);
    let phone = Phone::open(config, Arc::new(NoRadio), None, Arc::new(SystemClock)).unwrap();
    let venue = CheckInLinks::default().venue(link).unwrap();
    let profiles = ["Nguyễn Thị Lan", "Trần Minh An", "Trần Bảo Ngọc"].map(String::from);
    let registration = phone.visitor_registration(&venue, &profiles).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stored = runtime
        .block_on(phone.register_visit(&registration, UserConsent::given()))
        .unwrap();
    assert_eq!(stored, 3);
    drop(phone);

    // The guard: a grandfather without a phone, and a student's card, entering and leaving.
    let at_gate = |extra: &[&str]| -> Vec<String> {
        ["gate", "--venue", link, "--server", &url]
            .iter()
            .chain(extra)
            .map(|a| a.to_string())
            .collect()
    };
    let gate_ok = |extra: &[&str]| {
        let args = at_gate(extra);
        ok(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let gate_fails = |extra: &[&str], word: &str| {
        let args = at_gate(extra);
        fails(&args.iter().map(String::as_str).collect::<Vec<_>>(), word);
    };
    gate_ok(&[
        "--name",
        "Lê Văn Tư",
        "--phone",
        "0987654321",
        "--symptoms",
        "--purpose",
        "đón cháu",
    ]);
    let card = school.path().join("card.png");
    let card_path = card.to_str().unwrap();
    ok(&[
        "card",
        "--name",
        "Phạm Minh Châu",
        "--class",
        "4C",
        "--out",
        card_path,
    ]);
    let gate_json: serde_json::Value =
        serde_json::from_str(&gate_ok(&["--card", card_path, "--json"])).unwrap();
    assert_eq!(gate_json["name"], "Phạm Minh Châu");
    gate_ok(&["--card", card_path, "--exit"]);
    let poster = school.path().join("poster.png");
    ok(&[
        "venue",
        "poster",
        gate_dir,
        "--out",
        poster.to_str().unwrap(),
    ]);
    gate_fails(
        &["--card", poster.to_str().unwrap()],
        "no OpenZone student card",
    );
    // Junk anyone could post with the public key: skipped and counted.
    let hash = hex::encode(venue.location_id().hash().0);
    let junk = openzone_core::visitorlog::VisitorEntry {
        v: 1,
        name: "x".into(),
        phone: None,
        class: None,
        time: 0,
        declaration: openzone_core::visitorlog::DeclarationStatus::None,
        kind: openzone_core::visitorlog::EntryKind::Gate,
        direction: openzone_core::visitorlog::Direction::In,
        purpose: None,
        answers: Default::default(),
    }
    .seal(
        &[9; 32],
        &venue.location_id().hash(),
        &ring::rand::SystemRandom::new(),
    )
    .unwrap();
    let client = openzone_core::keyserver::KeyServerClient::new(
        openzone_core::keyserver::ClientConfig::new(&url),
    )
    .unwrap();
    runtime
        .block_on(client.post_visitor_entry(&venue.location_id().hash(), &junk))
        .unwrap();
    assert_eq!(hash.len(), 64);

    // The school reads its log.
    let out = openzone(&["venue", "log", gate_dir, "--server", &url, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("skipped 1 entries"), "{err}");
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows: Vec<(String, String, String)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_owned(),
                e["declaration"].as_str().unwrap().to_owned(),
                e["direction"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let find = |name: &str| {
        rows.iter()
            .filter(|r| r.0 == name)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(rows.len(), 6, "{rows:?}");
    assert_eq!(find("Nguyễn Thị Lan")[0].1, "clear");
    assert_eq!(find("Trần Minh An")[0].1, "symptoms");
    assert_eq!(find("Trần Bảo Ngọc")[0].1, "clear");
    assert_eq!(find("Lê Văn Tư")[0].1, "symptoms");
    let card_rows = find("Phạm Minh Châu");
    assert_eq!(card_rows.len(), 2);
    assert_eq!(
        (card_rows[0].1.as_str(), card_rows[0].2.as_str()),
        ("none", "in")
    );
    assert!(log[0]["time"].as_str().unwrap().ends_with("+07:00"));
    let csv = ok(&["venue", "log", gate_dir, "--server", &url, "--csv"]);
    assert!(
        csv.starts_with("time,name,class,phone,declaration,kind,direction,purpose\n"),
        "{csv}"
    );
    assert!(
        csv.contains("Lê Văn Tư,,0987654321,symptoms,gate,in,đón cháu"),
        "{csv}"
    );
    let other_day = ok(&[
        "venue",
        "log",
        gate_dir,
        "--server",
        &url,
        "--day",
        "2021-09-06",
        "--json",
    ]);
    assert_eq!(other_day.trim(), "[]");

    // A venue without a visitor log cannot be read or written as one.
    let plain_dir = school.path().join("room");
    let plain_link = support::create_venue("Phòng 12", &plain_dir, &[]);
    fails(
        &[
            "venue",
            "log",
            plain_dir.to_str().unwrap(),
            "--server",
            &url,
        ],
        "visitor-log.key",
    );
    fails(
        &[
            "gate",
            "--venue",
            plain_link.as_str(),
            "--server",
            &url,
            "--name",
            "A",
            "--phone",
            "0912345678",
        ],
        "no visitor log",
    );

    // Nothing the server stored names anyone.
    for file in files_under(data.path()) {
        let bytes = std::fs::read(&file).unwrap();
        for secret in [
            "Nguyễn Thị Lan",
            "Trần Minh An",
            "Trần Bảo Ngọc",
            "Lê Văn Tư",
            "Phạm Minh Châu",
            "0912345678",
            "0987654321",
        ] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds {secret}",
                file.display()
            );
        }
    }
}
