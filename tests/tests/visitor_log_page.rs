//! The school's visitor-log page in headless Chromium (Debian's `chromium`, driven by playwright-core from
//! `tests/browser/visitor_log_page.mjs`) against a real key server on loopback: a parent's phone with two
//! children registers all three at the gate (`Phone::visitor_registration`, then `register_visit`), a
//! guard records a visitor by hand, someone posts junk with the public key; the page, given the venue's
//! `venue.json` and `visitor-log.key`, checks its HPKE against RFC 9180's vector, shows the four entries
//! and who declared symptoms, skips the junk, exports CSV, and sends the secret nowhere. The server's data
//! directory holds no name in clear.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::Path;
use std::sync::Arc;

use openzone_core::checkin::venue::VisitorLogSecret;
use openzone_core::checkin::{LocationType, NewVenue};
use openzone_core::declaration::Answer;
use openzone_core::keyserver::{ClientConfig, KeyServerClient};
use openzone_core::phone::{DataKey, Phone, PhoneConfig, Profile, UserConsent};
use openzone_core::platform::NoRadio;
use openzone_core::time::{format_day, Clock, SystemClock};
use openzone_core::visitorlog::{DeclarationStatus, Direction, EntryKind, VisitorEntry};
use openzone_tests::keyserver_fixture::start;
use openzone_tests::postgres_fixture::{bytes_at_rest, server_config};

const NAMES: [&str; 4] = [
    "Vũ Thị Hạnh",
    "Đỗ Gia Bảo",
    "Đỗ Khánh Linh",
    "Hoàng Văn Nam",
];

fn profile(name: &str, class: Option<&str>) -> Profile {
    Profile {
        name: name.into(),
        class: class.map(String::from),
        born: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_school_reads_its_visitor_log_in_the_browser() {
    let data = tempfile::tempdir().unwrap();
    let running = start(server_config(data.path())).await;
    let client = || KeyServerClient::new(ClientConfig::new(&running.url)).unwrap();
    let rng = ring::rand::SystemRandom::new();

    // The gate's venue, its files as `openzone venue create --visitor-log` writes them.
    let now_secs = SystemClock.now_ms() / 1000;
    let secret = VisitorLogSecret::generate(&rng).unwrap();
    let venue = NewVenue {
        description: "Cổng trường Tiểu học Kim Đồng".into(),
        address: None,
        location_type: LocationType::EducationalInstitution,
        default_checkin_minutes: 60,
        event: None,
        visitor_log_key: Some(secret.public_key()),
    }
    .create(now_secs, &rng)
    .unwrap();
    let school = tempfile::tempdir().unwrap();
    let venue_json = school.path().join("venue.json");
    let key_file = school.path().join("visitor-log.key");
    let hash = venue.location_id().hash();
    std::fs::write(
        &venue_json,
        serde_json::json!({ "location_id_hash": hex::encode(hash.0) }).to_string(),
    )
    .unwrap();
    let secret_hex = hex::encode(secret.to_bytes());
    std::fs::write(&key_file, format!("{secret_hex}\n")).unwrap();

    // The family: a parent and two children, one of whom coughs today.
    let family = tempfile::tempdir().unwrap();
    let mut config = PhoneConfig::new(family.path(), DataKey::from_bytes([4; 32]));
    config.key_server = Some(client());
    let phone = Phone::open(config, Arc::new(NoRadio), None, Arc::new(SystemClock)).unwrap();
    phone.set_phone_number(Some("0903 111 222")).unwrap();
    phone.add_profile(profile(NAMES[0], None)).unwrap();
    phone.add_profile(profile(NAMES[1], Some("2A"))).unwrap();
    phone.add_profile(profile(NAMES[2], Some("4B"))).unwrap();
    phone.declare_all_clear(NAMES[0]).unwrap();
    phone.declare_all_clear(NAMES[1]).unwrap();
    let mut cough = phone.declaration_schema().all_clear();
    cough.0.insert("cough".into(), Answer::YesNo(true));
    phone.declare(NAMES[2], &cough).unwrap();
    let chosen: Vec<String> = NAMES[..3].iter().map(|n| n.to_string()).collect();
    let registration = phone.visitor_registration(&venue, &chosen).unwrap();
    assert_eq!(
        phone
            .register_visit(&registration, UserConsent::given())
            .await
            .unwrap(),
        3
    );

    // The guard records a visitor by hand; someone posts junk sealed to the public key.
    let by_hand = |name: &str, declaration| VisitorEntry {
        v: 1,
        name: name.into(),
        phone: Some("0987000111".into()),
        class: None,
        time: now_secs,
        declaration,
        kind: EntryKind::Gate,
        direction: Direction::In,
        purpose: Some("giao hàng".into()),
        answers: Default::default(),
    };
    let guard = by_hand(NAMES[3], DeclarationStatus::Symptoms)
        .seal(&secret.public_key(), &hash, &rng)
        .unwrap();
    let junk = by_hand("junk", DeclarationStatus::None)
        .seal(
            &VisitorLogSecret::generate(&rng).unwrap().public_key(),
            &hash,
            &rng,
        )
        .unwrap();
    for sealed in [guard, junk] {
        assert!(
            client()
                .post_visitor_entry(&hash, &sealed)
                .await
                .unwrap()
                .stored
        );
    }

    // Today in Vietnam, as the page's browser (set to Asia/Ho_Chi_Minh) counts it.
    let day = format_day(((now_secs + 7 * 3600) / 86_400) as u32);
    let vector = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../wire/src/visitorlog/vectors/rfc9180-a1.json");
    let url = running.url.clone();
    let args = [
        url.as_str(),
        venue_json.to_str().unwrap(),
        key_file.to_str().unwrap(),
        day.as_str(),
        vector.to_str().unwrap(),
    ]
    .map(String::from);
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        openzone_tests::browser::run_script("visitor_log_page.mjs", &args)
    })
    .await
    .unwrap();

    assert_eq!(out["vector_ok"], true, "{}", out["vector"]);
    assert_eq!(out["status"]["entries"], "4", "{}", out["status"]);
    assert_eq!(out["status"]["skipped"], "1");
    let rows = out["rows"].as_array().unwrap();
    let row_of = |name: &str| {
        rows.iter()
            .find(|r| r["cells"][1] == name)
            .unwrap_or_else(|| panic!("{name} is not shown: {rows:?}"))
    };
    for (name, declaration) in [
        (NAMES[0], "clear"),
        (NAMES[1], "clear"),
        (NAMES[2], "symptoms"),
        (NAMES[3], "symptoms"),
    ] {
        assert_eq!(row_of(name)["class"], declaration, "{name}");
    }
    assert_eq!(row_of(NAMES[1])["cells"][2], "2A");
    assert_eq!(row_of(NAMES[0])["cells"][3], "0903111222");
    let symptoms: Vec<&str> = out["symptoms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(symptoms.len(), 2);
    assert!(symptoms[0].starts_with(NAMES[2]) || symptoms[1].starts_with(NAMES[2]));
    let csv = out["csv"].as_str().unwrap();
    assert!(csv.starts_with("time,name,class,phone,declaration,kind,direction,purpose\n"));
    assert_eq!(csv.lines().count(), 5, "{csv}");
    assert!(
        csv.contains(",Hoàng Văn Nam,,0987000111,symptoms,gate,in,giao hàng"),
        "{csv}"
    );

    // The page asked only for itself and the venue's inbox; the secret went nowhere.
    for request in out["requests"].as_array().unwrap() {
        let url = request["url"].as_str().unwrap();
        assert_eq!(request["method"], "GET", "{request}");
        assert!(url.starts_with(&running.url), "{url}");
        assert!(
            url.contains("/visitor-log")
                || url.contains(&format!("/v1/inbox/{}", hex::encode(hash.0))),
            "{url}"
        );
        assert!(!request.to_string().contains(&secret_hex), "{request}");
    }

    running.stop().await;
    for (place, bytes) in bytes_at_rest(data.path()) {
        for secret in NAMES.iter().copied().chain(["0903111222", "0987000111"]) {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{place} holds {secret}"
            );
        }
    }
}
