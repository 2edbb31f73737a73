//! A phone's chaff against the real key server on loopback: fake uploads go through a report's steps,
//! pretend to carry as many keys as a report could, and leave nothing on the server.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use openzone_core::phone::{ClientConfig, KeyServerClient};
use openzone_core::units::MAX_KEYS_PER_UPLOAD;
use openzone_server::ServerConfig;
use openzone_tests::clock::ManualClock;
use openzone_tests::keyserver_fixture::{get_json, officer_token, start, NOON_MS};
use openzone_tests::phone::open_phone;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phones_fake_uploads_are_answered_and_leave_nothing() {
    let data = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(data.path());
    config.clock = ManualClock::new(NOON_MS);
    let running = start(config).await;
    let dir = tempfile::tempdir().unwrap();
    let client = KeyServerClient::new(ClientConfig::new(&running.url)).unwrap();
    let phone = open_phone(dir.path(), &ManualClock::new(NOON_MS), |c| {
        c.key_server = Some(client)
    });
    let mut pretended = Vec::new();
    for _ in 0..20 {
        pretended.push(phone.send_chaff().await.unwrap());
    }
    assert!(
        pretended
            .iter()
            .all(|n| (1..=MAX_KEYS_PER_UPLOAD).contains(n)),
        "{pretended:?}"
    );
    // Drawn, not fixed: 20 draws of 15 values are all the same with probability 15^-19.
    assert!(
        pretended.iter().any(|&n| n != pretended[0]),
        "{pretended:?}"
    );
    let token = officer_token(&running).await;
    let stats = get_json(&format!("{}v1/admin/stats", running.url), &token).await;
    assert_eq!(stats["codes_used"], 0, "{stats}");
    assert_eq!(stats["keys_pending"], 0, "{stats}");
    running.stop().await;
}
