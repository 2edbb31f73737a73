//! `openzone venue create | poster | inspect` as schools and QA testers use them: real processes, files
//! and images, and bad input.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod support;

use support::{fails, json, ok, path, temp_venue};

/// Corona-Warn-App's own test poster (cwa-app-android, `TraceLocationUrlTest.kt`, "locationUrl 2").
const CWA_LINK: &str = "https://e.coronawarn.app?v=1#CAESIAgBEg1JY2VjcmVhbSBTaG9wGg1NYWluIFN0cmVldCAxGmoIARJgOMTa6eYSiaDv8lW13xdYEvGHOZ1EYTiFSxt51HEoPCD7CNnvCUiIYPhax1MpkN0UfNClCm9ZWYy0JH01CDVD9eq-voxQ1EcFJQkEIujVwoCNK0MNGuDK1ayjGxeDc4UDGgQxMjM0IgYIARABGAo";

#[test]
fn a_venue_is_created_inspected_and_postered() {
    let (dir, venue, link) = temp_venue(
        "6a",
        "Lớp 6A",
        &["--address", "Tầng 2, THCS Nguyễn Du", "--minutes", "45"],
    );
    let link = link.as_str();
    assert!(link.starts_with("openzone://checkin?v=1#"), "{link}");
    assert_eq!(
        std::fs::read_to_string(venue.join("venue.url"))
            .unwrap()
            .trim(),
        link
    );
    assert!(!venue.join("visitor-log.key").exists());

    let inspected = json(&ok(&["venue", "inspect", link, "--json"]));
    let mut keys: Vec<&str> = inspected
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "address",
            "default_checkin_minutes",
            "description",
            "end",
            "location_id",
            "location_id_hash",
            "start",
            "type"
        ]
    );
    assert_eq!(inspected["description"], "Lớp 6A");
    assert_eq!(inspected["type"], 7);
    assert_eq!(inspected["default_checkin_minutes"], 45);
    assert!(inspected["start"].is_null() && inspected["end"].is_null());
    let id = inspected["location_id"].as_str().unwrap();
    assert_eq!(id.len(), 64);
    assert_eq!(id, id.to_lowercase());
    assert_eq!(
        json(&std::fs::read_to_string(venue.join("venue.json")).unwrap()),
        inspected
    );

    // The PNG poster scans back to the same venue; the PDF and SVG are written.
    let png = dir.path().join("6a.png");
    ok(&[
        "venue",
        "poster",
        path(&venue),
        "--out",
        path(&png),
        "--width",
        "900",
    ]);
    assert_eq!(
        json(&ok(&["venue", "inspect", path(&png), "--json"])),
        inspected
    );
    let pdf = dir.path().join("6a.pdf");
    ok(&["venue", "poster", path(&venue), "--out", path(&pdf)]);
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    let svg = dir.path().join("6a.svg");
    ok(&["venue", "poster", path(&venue), "--out", path(&svg)]);
    assert!(std::fs::read_to_string(&svg).unwrap().contains("Lớp 6A"));

    let human = ok(&["venue", "inspect", link]);
    assert!(
        human.contains("educational-institution") && human.contains("allowed"),
        "{human}"
    );

    // A second venue in the same directory would lose the first.
    assert!(
        fails(&["venue", "create", "--name", "Lớp 6B", "--out", path(&venue)])
            .contains("already holds a venue")
    );
}

#[test]
fn events_custom_bases_and_visitor_logs() {
    let (_dir, venue, link) = temp_venue(
        "meeting",
        "Họp phụ huynh lớp 6A",
        &[
            "--start",
            "2099-05-29T18:00:00+07:00",
            "--end",
            "4083737400",
            "--base-url",
            "https://school.example/checkin",
            "--visitor-log",
        ],
    );
    assert!(link.starts_with("https://school.example/checkin?v=1#"));
    // The school's base is not known by default: another app's code, unless the base is given.
    assert!(fails(&["venue", "inspect", &link])
        .contains("not an OpenZone or Corona-Warn-App check-in code"));
    let inspected = json(&ok(&[
        "venue",
        "inspect",
        &link,
        "--json",
        "--base-url",
        "https://school.example/checkin",
    ]));
    assert_eq!(
        inspected["type"], 2,
        "an event without --type is temporary-other"
    );
    assert_eq!(inspected["start"], 4_083_735_600u64);
    assert_eq!(inspected["end"], 4_083_737_400u64);
    assert_eq!(
        inspected["default_checkin_minutes"], 30,
        "the event's length"
    );
    let secret = venue.join("visitor-log.key");
    assert_eq!(std::fs::read_to_string(&secret).unwrap().trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let human = ok(&[
        "venue",
        "inspect",
        &link,
        "--base-url",
        "https://school.example/checkin",
    ]);
    assert!(
        human.contains("yes, key") && human.contains("starts at unix time"),
        "{human}"
    );
}

#[test]
fn cwa_posters_are_inspected_as_encoded() {
    let inspected = json(&ok(&["venue", "inspect", CWA_LINK, "--json"]));
    assert_eq!(inspected["description"], "Icecream Shop");
    assert_eq!(inspected["address"], "Main Street 1");
    assert_eq!(inspected["type"], 1);
    assert_eq!(
        inspected["default_checkin_minutes"], 10,
        "reported as encoded, below our bounds"
    );
    // Its 4-byte test seed is shown, and refused for check-in.
    let human = ok(&["venue", "inspect", CWA_LINK]);
    assert!(
        human.contains("4 bytes") && human.contains("refused"),
        "{human}"
    );
}

#[test]
fn bad_input_gets_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v");
    let o = path(&out);
    for (args, expected) in [
        (
            vec!["venue", "create", "--name", &"x".repeat(101), "--out", o],
            "101 characters",
        ),
        (
            vec![
                "venue",
                "create",
                "--name",
                "A",
                "--minutes",
                "10",
                "--out",
                o,
            ],
            "outside 15 minutes",
        ),
        (
            vec![
                "venue", "create", "--name", "A", "--type", "school", "--out", o,
            ],
            "not a venue type",
        ),
        (
            vec![
                "venue",
                "create",
                "--name",
                "A",
                "--type",
                "private-event",
                "--out",
                o,
            ],
            "is an event",
        ),
        (
            vec![
                "venue",
                "create",
                "--name",
                "A",
                "--start",
                "yesterday",
                "--end",
                "1",
                "--out",
                o,
            ],
            "not a time",
        ),
        (
            vec![
                "venue", "create", "--name", "A", "--start", "100", "--end", "200", "--out", o,
            ],
            "ended",
        ),
        (
            vec![
                "venue",
                "create",
                "--name",
                "A",
                "--base-url",
                "not a url",
                "--out",
                o,
            ],
            "base",
        ),
        (
            vec!["venue", "inspect", "https://example.com/menu"],
            "not an OpenZone",
        ),
        (
            vec!["venue", "inspect", "openzone://checkin?v=2#CAE"],
            "version 2",
        ),
        (
            vec!["venue", "inspect", "openzone://checkin?v=1#CAESLAgB"],
            "damaged",
        ),
        (
            vec!["venue", "inspect", "openzone://checkin?v=1#!!!"],
            "damaged",
        ),
        (
            vec!["venue", "poster", o, "--out", "x.doc"],
            ".pdf, .svg or .png",
        ),
    ] {
        let err = fails(&args);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    assert!(!out.exists(), "nothing was written");
    let huge = format!("openzone://checkin?v=1#{}", "A".repeat(2000));
    assert!(fails(&["venue", "inspect", &huge]).contains("at most 1024"));
    // Files that are not images, and images without a code.
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    assert!(fails(&["venue", "inspect", path(&text)]).contains("not a PNG or JPEG"));
    let empty_dir = dir.path().join("empty");
    std::fs::create_dir(&empty_dir).unwrap();
    assert!(fails(&[
        "venue",
        "poster",
        path(&empty_dir),
        "--out",
        path(&dir.path().join("p.pdf"))
    ])
    .contains("holds no venue.url"));
}

#[test]
fn a_csv_of_rooms_makes_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("rooms.csv");
    std::fs::write(&csv, "name,address,type,minutes\nLớp 6A,Tầng 2,7,45\nLớp 6B,,educational-institution,\nCổng trường,,,480\n").unwrap();
    let pdf = dir.path().join("rooms.pdf");
    let listed = json(&ok(&[
        "venue",
        "poster",
        path(&csv),
        "--out",
        path(&pdf),
        "--json",
    ]));
    let rows = listed.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2]["name"], "Cổng trường");
    assert_eq!(rows[0]["poster"], "page 1");
    let pdf_text = String::from_utf8_lossy(&std::fs::read(&pdf).unwrap()).into_owned();
    assert!(pdf_text.contains("/Count 3"));
    let png = dir.path().join("room.png");
    let table = ok(&[
        "venue",
        "poster",
        path(&csv),
        "--out",
        path(&png),
        "--width",
        "800",
    ]);
    assert!(table.contains("room-003.png"), "{table}");
    let third = dir.path().join("room-003.png");
    let inspected = json(&ok(&["venue", "inspect", path(&third), "--json"]));
    assert_eq!(inspected["description"], "Cổng trường");
    assert_eq!(inspected["default_checkin_minutes"], 480);
    // A bad row names its line and nothing is written.
    std::fs::write(
        &csv,
        "name,address,type,minutes\nLớp 6A,,7,45\nLớp 6B,,7,5\n",
    )
    .unwrap();
    let err = fails(&[
        "venue",
        "poster",
        path(&csv),
        "--out",
        path(&dir.path().join("bad.pdf")),
    ]);
    assert!(err.contains("line 3") && err.contains("minutes"), "{err}");
    assert!(!dir.path().join("bad.pdf").exists());
    std::fs::write(&csv, "name,address,type,minutes\n").unwrap();
    assert!(fails(&["venue", "poster", path(&csv), "--out", path(&pdf)]).contains("no rooms"));
}
