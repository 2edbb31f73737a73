//! The `openzone` command line as QA testers use it: real processes, real files.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod support;

use std::process::Command;

use openzone_core::export::signing::SigningKey;
use openzone_core::protocol::en_v1::{EnV1, ExposureKey, TemporaryExposureKey};
use openzone_core::protocol::payload::encode_advertisement;
use openzone_core::protocol::Scheme;
use support::{fails, json, ok};

fn fixture(name: &str) -> String {
    format!(
        "{}/../wire/tests/data/vectors/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn version_names_the_release_and_the_commit() {
    let out = ok(&["--version"]);
    let rest = out
        .trim_end()
        .strip_prefix(&format!("openzone {} (", env!("CARGO_PKG_VERSION")))
        .unwrap_or_else(|| panic!("`openzone VERSION (COMMIT)`: {out}"));
    let commit = rest
        .strip_suffix(')')
        .unwrap_or_else(|| panic!("ends with the commit in brackets: {out}"));
    if commit != "unknown" {
        assert!(
            (7..=40).contains(&commit.len())
                && commit
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "a short commit: {out}"
        );
        // Built from this checkout: the commit must be the one checked out.
        let head = Command::new("git")
            .args([
                "-C",
                env!("CARGO_MANIFEST_DIR"),
                "rev-parse",
                "--short",
                "HEAD",
            ])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8(head.stdout).unwrap().trim(), commit);
    }
}

/// `openzone ids ARGS --json`: one row per identifier.
fn id_rows(args: &[&str]) -> Vec<serde_json::Value> {
    let all: Vec<&str> = ["ids"]
        .iter()
        .chain(args)
        .chain(&["--json"])
        .copied()
        .collect();
    json(&ok(&all))
        .as_array()
        .expect("an array of rows")
        .clone()
}

#[test]
fn ids_reproduce_the_en_v1_vectors() {
    let vectors = json(&std::fs::read_to_string(fixture("en-v1-vectors.json")).unwrap());
    let tek = vectors["tek"].as_str().unwrap();
    let start = vectors["rolling_start_interval"].to_string();
    assert_eq!(start, "2642976");
    let rows = id_rows(&[
        "en-v1",
        "--tek",
        tek,
        "--interval",
        &start,
        "--tx-power",
        "8",
    ]);
    assert_eq!(rows.len(), 144);
    for (row, expected) in rows.iter().zip(vectors["intervals"].as_array().unwrap()) {
        assert_eq!(row["interval"], expected["interval"]);
        assert_eq!(row["rpi"], expected["rpi"]);
        assert_eq!(row["aem"], expected["aem"]);
    }
    let table = ok(&[
        "ids",
        "en-v1",
        "--tek",
        tek,
        "--interval",
        &start,
        "--count",
        "2",
    ]);
    assert_eq!(table.lines().count(), 3);
    assert!(table.starts_with("INTERVAL"));
}

#[test]
fn ids_reproduce_the_bluezone_vectors() {
    let vectors = json(&std::fs::read_to_string(fixture("bluezone-v3-vectors.json")).unwrap());
    let day = &vectors["days"][1];
    let daily_key = day["daily_key"].as_str().unwrap();
    let rows = id_rows(&[
        "bluezone-v3",
        "--daily-key",
        daily_key,
        "--from",
        "40",
        "--count",
        "3",
    ]);
    assert_eq!(rows.len(), 3);
    for (k, row) in rows.iter().enumerate() {
        assert_eq!(row["slot"], 40 + k);
        assert_eq!(row["id"], day["ids"][40 + k]);
        let id = row["id"].as_str().unwrap();
        assert_eq!(id, id.to_uppercase());
    }
    let err = fails(&["ids", "bluezone-v3", "--daily-key", "abcd"]);
    assert!(err.contains("32 bytes"), "{err}");
}

#[test]
fn payloads_encode_and_decode() {
    let decode = |hex: &str| json(&ok(&["payload", "decode", hex, "--json"]));
    let encoded = json(&ok(&[
        "payload",
        "encode",
        "en-v1",
        "--tek",
        "75c734c6dd1a782de7a965da5eb93125",
        "--interval",
        "2642976",
        "--tx-power",
        "8",
        "--json",
    ]));
    assert_eq!(encoded["identifier"], "8be6cd371c5c891604bfbe49df845096");
    let adv = encoded["advertisement"].as_str().unwrap();
    let decoded = decode(adv);
    assert_eq!(decoded["scheme"], "en-v1");
    assert_eq!(decoded["identifier"], encoded["identifier"]);
    assert_eq!(decoded["aem"], "72033874");
    let gatt = decode(encoded["gatt_value"].as_str().unwrap());
    assert_eq!(
        (gatt["input"].as_str(), gatt["identifier"].as_str()),
        (Some("gatt"), Some("8be6cd371c5c891604bfbe49df845096"))
    );
    let bz = json(&ok(&[
        "payload",
        "encode",
        "bluezone-v3",
        "--id",
        "A1B2C3D4E5F60718293A4B5C",
        "--json",
    ]));
    let back = decode(bz["advertisement"].as_str().unwrap());
    assert_eq!(
        (back["scheme"].as_str(), back["identifier"].as_str()),
        (Some("bluezone-v3"), Some("A1B2C3D4E5F60718293A4B5C"))
    );
    let iphone = ok(&[
        "payload",
        "decode",
        "14ff4c000100000000000000000000000000000000",
    ]);
    assert!(
        iphone.contains("iOS background: read over GATT"),
        "{iphone}"
    );
    assert!(fails(&["payload", "decode", "0201"]).contains("malformed advertisement"));
    assert!(fails(&["payload", "decode", "zz"]).contains("not valid hex"));
    assert!(fails(&["payload", "encode", "en-v1", "--rpi", "00"]).contains("--aem"));
}

/// An en-v1 key valid the day before yesterday, and the sightings of a 40-minute lesson (09:00 UTC) next
/// to its owner: more than a day old whatever the time now, so `purge --older-than-days 1` takes it.
fn key_and_lesson_two_days_ago(tek: [u8; 16]) -> (ExposureKey, String) {
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let day = now_s / 86_400 - 2;
    let key = ExposureKey::new(
        TemporaryExposureKey::from_bytes(tek),
        (day * 144) as u32,
        144,
    )
    .unwrap();
    let mut lines = String::new();
    for scan in 0..8u64 {
        let t = day * 86_400 + 9 * 3_600 + scan * 300;
        let payload = EnV1::new(-25).payload(&key, EnV1::slot_at(&key, t).unwrap().index);
        let adv = hex::encode(encode_advertisement(&payload));
        for k in 0..3u64 {
            lines.push_str(&format!(
                "{{\"time_ms\": {}, \"rssi\": -56, \"adv\": \"{adv}\"}}\n",
                t * 1000 + k * 500
            ));
        }
    }
    (key, lines)
}

#[test]
fn store_export_and_match_work_together() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    std::fs::write(p("data.key"), "ab".repeat(32)).unwrap();
    let (key, lines) = key_and_lesson_two_days_ago([0x42; 16]);
    std::fs::write(p("sightings.jsonl"), format!("{lines}not json\n")).unwrap();

    let err = fails(&["store", "stats", "--store", &p("store")]);
    assert!(
        err.contains("--key-file") && err.contains("OPENZONE_DATA_KEY"),
        "{err}"
    );
    let ingest = json(&ok(&[
        "store",
        "ingest",
        "--store",
        &p("store"),
        "--key-file",
        &p("data.key"),
        "--sightings",
        &p("sightings.jsonl"),
        "--json",
    ]));
    assert_eq!(
        (ingest["lines"].as_u64(), ingest["recorded"].as_u64()),
        (Some(25), Some(24))
    );
    let stats = json(&ok(&[
        "store",
        "stats",
        "--store",
        &p("store"),
        "--key-file",
        &p("data.key"),
        "--json",
    ]));
    assert_eq!(stats["days"][0]["instances"], 8);
    assert_eq!(stats["days"][0]["sightings"], 24);
    assert!(stats["bytes_on_disk"].as_u64().unwrap() > 0);
    let wrong_key = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(wrong_key.path(), [7u8; 32]).unwrap();
    assert!(fails(&[
        "store",
        "stats",
        "--store",
        &p("store"),
        "--key-file",
        wrong_key.path().to_str().unwrap()
    ])
    .contains("another one"));

    // The person's key among others, in a signed export.
    let (signer, pem) = SigningKey::generate("openzone", "v1").unwrap();
    std::fs::write(p("sign.pem"), pem).unwrap();
    std::fs::write(p("pub.pem"), signer.verification_key().to_pem()).unwrap();
    let mut keys = vec![serde_json::json!({
        "key_data": hex::encode(key.tek.as_bytes()),
        "rolling_start_interval": key.rolling_start_interval,
        "rolling_period": 144,
        "transmission_risk_level": 6,
        "report_type": 1,
        "days_since_onset": 1,
    })];
    for n in 0..50u8 {
        keys.push(serde_json::json!({"key_data": hex::encode([n; 16]), "rolling_start_interval": key.rolling_start_interval, "report_type": "CONFIRMED_TEST"}));
    }
    std::fs::write(p("keys.json"), serde_json::to_string(&keys).unwrap()).unwrap();
    ok(&[
        "export",
        "build",
        "--keys",
        &p("keys.json"),
        "--signing-key",
        &p("sign.pem"),
        "--out",
        &p("export.zip"),
    ]);
    let inspected = json(&ok(&[
        "export",
        "inspect",
        &p("export.zip"),
        "--public-key",
        &p("pub.pem"),
        "--json",
    ]));
    assert_eq!(inspected["signature_valid"], true);
    assert_eq!(inspected["keys"].as_array().unwrap().len(), 51);
    assert_eq!(inspected["region"], "VN");

    // `openzone match --json` of a store against an export, with the data key and the signer's public key.
    let match_json = |store: &str, export: &str| {
        json(&ok(&[
            "match",
            "--store",
            &p(store),
            "--key-file",
            &p("data.key"),
            "--export",
            &p(export),
            "--public-key",
            &p("pub.pem"),
            "--json",
        ]))
    };
    let matched = match_json("store", "export.zip");
    assert_eq!(
        (
            matched["keys_processed"].as_u64(),
            matched["keys_matched"].as_u64()
        ),
        (Some(51), Some(1))
    );
    let days = matched["days"].as_array().unwrap();
    assert_eq!(days.len(), 1);
    assert_eq!(days[0]["at_risk"], true);
    assert!(days[0]["weighted_minutes"].as_f64().unwrap() >= 13.0);
    assert_eq!(days[0]["date"].as_str().unwrap().len(), 10);
    // Processing the batch again changes nothing.
    let again = match_json("store", "export.zip");
    assert_eq!(again["already_processed"], true);
    assert_eq!(again["days"], matched["days"]);

    // A store that never met the person.
    std::fs::write(p("none.jsonl"), "").unwrap();
    ok(&[
        "store",
        "ingest",
        "--store",
        &p("empty"),
        "--key-file",
        &p("data.key"),
        "--sightings",
        &p("none.jsonl"),
    ]);
    let nothing = match_json("empty", "export.zip");
    assert_eq!(nothing["days"].as_array().unwrap().len(), 0);

    // A tampered export is refused before matching.
    let mut zip = std::fs::read(p("export.zip")).unwrap();
    let at = zip.len() / 3;
    zip[at] ^= 0x10;
    std::fs::write(p("tampered.zip"), zip).unwrap();
    let err = fails(&[
        "match",
        "--store",
        &p("empty"),
        "--key-file",
        &p("data.key"),
        "--export",
        &p("tampered.zip"),
        "--public-key",
        &p("pub.pem"),
    ]);
    assert!(
        err.contains("signature") || err.contains("cannot be read"),
        "{err}"
    );

    let purged = json(&ok(&[
        "store",
        "purge",
        "--store",
        &p("store"),
        "--key-file",
        &p("data.key"),
        "--older-than-days",
        "1",
        "--json",
    ]));
    assert_eq!(purged["expired_instances"], 8);
}

#[test]
fn simulate_prints_one_evaluation_per_scheme_and_rule() {
    let out = json(&ok(&[
        "simulate",
        "--students",
        "30",
        "--class-size",
        "15",
        "--teachers",
        "2",
        "--days",
        "1",
        "--report-day",
        "1",
        "--onset-day",
        "1",
        "--checkin-forget-share",
        "0",
        "--json",
    ]));
    let evaluations = out.as_array().unwrap();
    let rules: Vec<(&str, &str)> = evaluations
        .iter()
        .map(|e| (e["scheme"].as_str().unwrap(), e["rule"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rules,
        [
            ("en-v1", "risk-score"),
            ("bluezone-v3", "any-sighting"),
            ("bluezone-v3", "risk-score"),
            ("qr-check-in", "presence-tracing")
        ]
    );
    for e in evaluations {
        let tp = e["true_positives"].as_u64().unwrap();
        assert_eq!(
            tp + e["false_negatives"].as_u64().unwrap(),
            e["true_contacts"].as_u64().unwrap()
        );
        assert_eq!(
            tp + e["false_positives"].as_u64().unwrap(),
            e["notified"].as_u64().unwrap()
        );
        for key in ["precision", "recall", "f1"] {
            assert!(e[key].as_f64().unwrap() <= 1.0, "{key} in {e}");
        }
    }
    // The flags reached the scenario: one simulated day, reported on it.
    assert_eq!(evaluations[0]["scenario"]["days"], 1);
    assert_eq!(evaluations[0]["scenario"]["report_day"], 1);
    // The radio figures come from the en-v1 run and go with its entry only.
    assert!(evaluations[0]["scan_duty"]["median"].as_f64().unwrap() > 0.0);
    assert!(evaluations[1].get("scan_duty").is_none());
    // Everyone scanned the classroom's poster (the flag reached the scenario): the case's 14 classmates
    // were warned through the key server; the check-in figures go with the presence-tracing entry only.
    assert_eq!(evaluations[3]["scenario"]["checkin_forget_share"], 0.0);
    assert!(evaluations[3]["checkins"].as_u64().unwrap() >= 30);
    assert!(evaluations[3]["phones_warned"].as_u64().unwrap() >= 14);
    assert!(evaluations[0].get("checkins").is_none());
    let sweep = evaluations[0]["threshold_sweep"].as_array().unwrap();
    let recalls: Vec<f64> = sweep
        .iter()
        .map(|p| p["recall"].as_f64().unwrap())
        .collect();
    assert!(
        recalls.windows(2).all(|w| w[1] <= w[0]),
        "recall never grows with the threshold: {recalls:?}"
    );
}

#[test]
fn simulate_refuses_an_impossible_scenario() {
    let err = fails(&["simulate", "--days", "2", "--report-day", "3"]);
    assert!(err.contains("report day"), "{err}");
    let err = fails(&["simulate", "--students", "many"]);
    assert!(err.contains("many"), "{err}");
}

#[test]
fn evaluate_scores_every_candidate_on_recorded_excerpts_and_writes_plots() {
    let data = format!("{}/../eval/tests/data", env!("CARGO_MANIFEST_DIR"));
    let report = tempfile::tempdir().unwrap();
    let out = json(&ok(&[
        "evaluate",
        &data,
        "--replicates",
        "2",
        "--bootstrap",
        "20",
        "--report",
        report.path().to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(
        out["datasets"],
        serde_json::json!(["h0h1", "herald", "pc-ng"])
    );
    let names: Vec<&str> = out["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[0], "corona-warn-app-2021");
    assert!(names.contains(&"nhs-uks-2020"));
    assert_eq!(out["folds"].as_array().unwrap().len(), 3);
    assert!(out["choice"]["chosen"].is_string());
    for file in [
        "report.md",
        "roc-h0h1.svg",
        "roc-herald.svg",
        "roc-pc-ng.svg",
    ] {
        assert!(report.path().join(file).is_file(), "{file}");
    }
    let e = fails(&["evaluate", "/nonexistent-dataset"]);
    assert!(e.contains("/nonexistent-dataset"), "{e}");
    assert!(fails(&["evaluate", &data, "--replicates", "0"]).contains("--replicates"));
}
