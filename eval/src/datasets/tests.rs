//! The loaders on the excerpts in `eval/tests/data` (provenance in its README), and on garbage and
//! truncated files.

use std::path::{Path, PathBuf};

use super::*;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

#[test]
fn pcng_files_hold_two_recordings_one_per_logging_phone() {
    let d = pcng::load(&data("pc-ng")).unwrap();
    assert_eq!(d.name, "pc-ng");
    assert_eq!(d.recordings.len(), 2);
    assert_eq!(d.files[0].rows, 240);
    assert_eq!(d.files[0].skipped, 0);
    let htc = d
        .recordings
        .iter()
        .find(|r| r.receiver.name == "HTC One M9")
        .unwrap();
    assert_eq!(htc.sender.name, "gryphonelab");
    assert_eq!(htc.readings.len(), 120);
    assert_eq!(htc.session, "pc-ng HH");
    // The HTC is calibrated by its maker's average, gryphonelab (unknown model) by the fleet's.
    assert_eq!(
        (htc.receiver.tx_power_dbm, htc.receiver.rssi_correction_db),
        (-28, 2)
    );
    assert_eq!(htc.sender.tx_power_dbm, -25);
    assert!(htc
        .readings
        .iter()
        .all(|r| matches!(r.distance, Distance::MeasuredCm(20 | 300))));
}

#[test]
fn herald_files_are_named_by_the_metadata() {
    let d = herald::load(&data("herald")).unwrap();
    assert_eq!(d.recordings.len(), 2);
    let a = &d.recordings[0];
    assert!(a.name.contains("20210113-2034-A"), "{}", a.name);
    assert!(a.receiver.name.contains("iPhone"), "{}", a.receiver.name);
    assert_eq!(a.session, d.recordings[1].session);
    assert_eq!(a.readings.len(), 160);
    assert_eq!(a.bin_cm, 10);
}

#[test]
fn h0h1_logs_keep_only_the_partner_and_are_labelled_by_folder() {
    let d = h0h1::load(&data("h0h1")).unwrap();
    assert_eq!(d.recordings.len(), 2);
    let close = d
        .recordings
        .iter()
        .find(|r| r.label == Label::Contact { near: true })
        .unwrap();
    let far = d
        .recordings
        .iter()
        .find(|r| r.label == Label::Contact { near: false })
        .unwrap();
    // Every advertisement of the partner's addresses (named or not) with a known RSSI: 209 and 231 (one
    // of the far log's 232 named lines has RSSI 127, "unknown").
    assert_eq!(close.readings.len(), 209);
    assert_eq!(far.readings.len(), 231);
    assert!(close.readings.iter().all(|r| r.rssi < 0));
    assert_eq!(close.receiver.name, "iPhone 5s");
    // Ranges in feet: 6 ft close, 10 ft far.
    assert!(
        matches!(close.readings[0].distance, Distance::NotedM(m) if (m - 6.0 * 0.3048).abs() < 1e-9)
    );
    assert!(matches!(far.readings[0].distance, Distance::NotedM(m) if (m - 3.048).abs() < 1e-9));
    // Different tests (one close, one far): different sessions.
    assert_ne!(close.session, far.session);
}

#[test]
fn load_finds_every_campaign_under_a_parent_folder() {
    let all = load(&data("")).unwrap();
    let names: Vec<&str> = all.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["h0h1", "herald", "pc-ng"]);
    assert!(load(&data("missing")).is_err());
    let empty = tempfile::tempdir().unwrap();
    assert!(load(empty.path()).is_err());
}

#[test]
fn garbage_and_truncated_rows_are_counted_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let hh = dir.path().join("HandHand");
    std::fs::create_dir(&hh).unwrap();
    let original = std::fs::read_to_string(data("pc-ng/HandHand/RSS_humanHH.csv")).unwrap();
    // Cut mid-row, then garbage: a binary line, a row with a text RSSI, a short row, an RSSI of 0.
    let cut = &original[..original.len() / 2];
    let bad = format!(
        "{cut}\n\u{0}\u{1}\u{ff}garbage\nHTC One M9,1.0,loud,-50,-50,20,1\nHTC One M9,1.0\nHTC One M9,1.0,0,0,0,20,1\n"
    );
    std::fs::write(hh.join("RSS_humanHH.csv"), bad).unwrap();
    let d = pcng::load(dir.path()).unwrap();
    assert!(d.files[0].rows > 100 && d.files[0].rows < 240);
    assert!(d.files[0].skipped >= 5, "{:?}", d.files[0]);
    // A header without the columns: refused with the file named.
    std::fs::write(hh.join("RSS_humanHH.csv"), "a,b,c\n1,2,3\n").unwrap();
    let e = pcng::load(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("RSS_humanHH.csv") && e.contains("device, elapsed"),
        "{e}"
    );
    // An empty file has no header.
    std::fs::write(hh.join("RSS_humanHH.csv"), "").unwrap();
    assert!(pcng::load(dir.path()).is_err());
}

#[test]
fn h0h1_garbage_lines_are_skipped_and_a_log_without_device_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    for folder in ["Close", "Far"] {
        std::fs::create_dir(dir.path().join(folder)).unwrap();
    }
    std::fs::write(
        dir.path().join("Close/log_a.txt"),
        "2020-04-17 07:21:08.990,Device,iPhone 5s,iPhone\n\
         2020-04-17 07:22:50.837,Bluetooth,P,-67,BlueProxTx,-999.0,-1.0\n\
         2020-04-17 07:22:50.900,Bluetooth,P,127,BlueProxTx,-999.0,-1.0\n\
         2020-04-17 07:22:51.000,Bluetooth,P,loud,BlueProxTx,-999.0,-1.0\n\
         2020-13-17 07:22:51.000,Bluetooth,P,-60,BlueProxTx,-999.0,-1.0\n\
         2020-04-17 07:22:52.000,Bluetooth,Q,-40,None,-999.0,-1.0\n\
         2020-04-17 07:22:53.000,Blue\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("Far/log_b.txt"), "no device here\n\u{0}\n").unwrap();
    let d = h0h1::load(dir.path()).unwrap();
    assert_eq!(d.recordings.len(), 1);
    assert_eq!(d.recordings[0].readings.len(), 1);
    // The text RSSI and the impossible date are skipped; a line of an unknown kind ("Blue") is not a
    // reading, as the sensors' lines are not.
    assert_eq!(d.files.iter().map(|f| f.skipped).sum::<usize>(), 2);
}

#[test]
fn timestamps_parse_only_when_plausible() {
    assert_eq!(
        parse_timestamp_ms("1970-01-02 00:00:01.5"),
        Some(86_401_500)
    );
    for bad in [
        "",
        "2021-01-07",
        "2021-02-30 00:00:00",
        "2021-01-07 24:00:00",
        "x y",
        "2021-01-07 1:2:3:4",
    ] {
        assert_eq!(parse_timestamp_ms(bad), None, "{bad}");
    }
    assert_eq!(parse_rssi("-60.0"), Some(-60));
    assert_eq!(parse_rssi("-60.5"), None);
    assert_eq!(parse_rssi("0"), None);
    assert_eq!(parse_rssi("NaN"), None);
    assert_eq!(parse_cm("250"), Some(250));
    assert_eq!(parse_cm("-1"), None);
    assert_eq!(parse_cm("1e9"), None);
}
