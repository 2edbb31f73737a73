//! Venues' visitor-log inboxes on a real key server on 127.0.0.1:0: a phone's sealed entries go in
//! through the core's client and come out only for the venue's window; malformed, oversized and
//! too-frequent posts are refused with their codes; repeats are dropped; entries go after 14 days.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use openzone_core::checkin::venue::{LocationIdHash, VisitorLogSecret};
use openzone_core::keyserver::{ClientConfig, KeyServerClient};
use openzone_core::units::MS_PER_DAY;
use openzone_core::visitorlog::{
    DeclarationStatus, Direction, EntryKind, VisitorEntry, MAX_SEALED_ENTRY_BYTES,
};
use openzone_server::InboxLimits;
use openzone_tests::clock::ManualClock;
use openzone_tests::keyserver_fixture::{http, start, NOON_MS};
use openzone_tests::postgres_fixture::{bytes_at_rest, server_config};

fn entry(name: &str) -> VisitorEntry {
    VisitorEntry {
        v: 1,
        name: name.into(),
        phone: Some("0912345678".into()),
        class: None,
        time: NOON_MS / 1000,
        declaration: DeclarationStatus::Clear,
        kind: EntryKind::App,
        direction: Direction::In,
        purpose: None,
        answers: Default::default(),
    }
}

fn client(url: &str) -> KeyServerClient {
    let mut config = ClientConfig::new(url);
    config.max_attempts = 1;
    KeyServerClient::new(config).unwrap()
}

async fn post(url: &str, path: &str, body: Vec<u8>) -> (u16, String) {
    let response = http()
        .post(format!("{url}{path}"))
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let code = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["error"].as_str().map(String::from))
        .unwrap_or_else(|| "ok".into());
    (status, code)
}

#[tokio::test]
async fn entries_go_in_sealed_and_come_out_by_venue_and_window() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(NOON_MS);
    let mut config = server_config(dir.path());
    config.clock = clock.clone();
    config.inbox_limits = InboxLimits {
        per_client_burst: 6.0,
        per_client_per_hour: 0.0,
    };
    let running = start(config).await;
    let client = client(&running.url);
    let rng = ring::rand::SystemRandom::new();
    let secret = VisitorLogSecret::generate(&rng).unwrap();
    let venue = LocationIdHash([7; 32]);
    let sealed = entry("Trần Văn Hùng")
        .seal(&secret.public_key(), &venue, &rng)
        .unwrap();

    // Whether the inbox stored a posted entry (it drops repeats).
    let stored = async |entry: &[u8]| {
        client
            .post_visitor_entry(&venue, entry)
            .await
            .unwrap()
            .stored
    };
    assert!(stored(&sealed).await);
    assert!(!stored(&sealed).await);
    let other = entry("Lê Thị Hoa")
        .seal(&secret.public_key(), &venue, &rng)
        .unwrap();
    assert!(stored(&other).await);

    let path = format!("v1/inbox/{}", hex::encode(venue.0));
    assert_eq!(
        post(&running.url, &path, b"garbage".to_vec()).await,
        (400, "malformed".into())
    );
    assert_eq!(
        post(&running.url, &path, vec![1; MAX_SEALED_ENTRY_BYTES + 1]).await,
        (413, "body_too_large".into())
    );
    assert_eq!(
        post(&running.url, "v1/inbox/abcd", sealed.clone()).await,
        (400, "malformed".into())
    );
    // Six posts spent the burst.
    assert_eq!(
        post(&running.url, &path, sealed.clone()).await,
        (429, "rate_limited".into())
    );

    let log = client
        .visitor_entries(&venue, NOON_MS - 1000, NOON_MS + 1000)
        .await
        .unwrap();
    assert_eq!(log.entries.len(), 2);
    // Entries come back by arrival time, and two that arrive in the same millisecond in the order of their
    // digests (random ciphertexts): compare as a set.
    let mut names: Vec<String> = log
        .entries
        .iter()
        .map(|item| {
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&item.entry)
                .unwrap();
            VisitorEntry::open(&bytes, &secret, &venue).unwrap().name
        })
        .collect();
    names.sort();
    assert_eq!(names, ["Lê Thị Hoa", "Trần Văn Hùng"]);
    assert!(client
        .visitor_entries(&LocationIdHash([8; 32]), NOON_MS - 1000, NOON_MS + 1000)
        .await
        .unwrap()
        .entries
        .is_empty());
    assert!(
        client
            .visitor_entries(&venue, 0, 3 * MS_PER_DAY)
            .await
            .is_err(),
        "a window longer than two days"
    );

    // The data directory holds no name in clear.
    for (place, bytes) in bytes_at_rest(dir.path()) {
        for name in ["Trần Văn Hùng", "Lê Thị Hoa", "0912345678"] {
            assert!(
                !bytes.windows(name.len()).any(|w| w == name.as_bytes()),
                "{place} holds {name}"
            );
        }
    }

    clock.set(NOON_MS + 14 * MS_PER_DAY + 1);
    assert!(
        client
            .visitor_entries(&venue, NOON_MS - 1000, NOON_MS + 1000)
            .await
            .unwrap()
            .entries
            .is_empty(),
        "deleted after 14 days"
    );
    running.stop().await;
}
