//! Publication never deletes what it cannot account for: an export storage whose index went missing or
//! was replaced by an older copy stops the server with a message that says what to restore, and every
//! published file is still there afterwards.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::time::Duration;

use openzone_server::{Server, ServerConfig, ServerError};
use openzone_tests::clock::ManualClock;
use openzone_tests::keyserver_fixture::{
    announced_sealing_key, http, issue_code, officer_token, random_tek, start, upload, upload_key,
    DAY, NOON_MS,
};
use openzone_tests::postgres_fixture::{lose_database, server_config};

fn config(dir: &std::path::Path) -> ServerConfig {
    let mut config = server_config(dir);
    config.clock = ManualClock::new(NOON_MS);
    config.publication.cadence = Duration::from_secs(3_600);
    config.publication.min_batch = 10;
    config
}

/// Publishes two exports (one upload each) and stops the server; returns their names.
async fn two_exports(dir: &std::path::Path) -> Vec<String> {
    let running = start(config(dir)).await;
    let key = announced_sealing_key(&running.url).await;
    let token = officer_token(&running).await;
    let mut names = Vec::new();
    for _ in 0..2 {
        let code = issue_code(&http(), &running.url, &token, "confirmed", None).await;
        let keys = vec![upload_key(random_tek(), (DAY - 1) * 144, 144)];
        assert_eq!(upload(&running.url, &key, &code, keys).await.0, 200);
        let report = running.server.publish_now().await.unwrap();
        names.push(report.exports[0].0.clone());
    }
    running.stop().await;
    names
}

fn files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_index_stops_the_server_and_deletes_nothing() {
    let data = tempfile::tempdir().unwrap();
    let names = two_exports(data.path()).await;
    let exports = data.path().join("exports");
    std::fs::remove_file(exports.join("index.txt")).unwrap();

    let err = Server::open(config(data.path())).await.unwrap_err();
    assert!(matches!(err, ServerError::Publication(_)), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("index.txt"), "{message}");
    assert!(message.contains("restore"), "{message}");
    assert_eq!(files(&exports), names, "published exports were deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_index_stops_the_server_and_deletes_nothing() {
    let data = tempfile::tempdir().unwrap();
    let names = two_exports(data.path()).await;
    let exports = data.path().join("exports");
    // An index restored from a backup taken before the second export.
    std::fs::write(exports.join("index.txt"), format!("{}\n", names[0])).unwrap();

    let err = Server::open(config(data.path())).await.unwrap_err();
    assert!(matches!(err, ServerError::Publication(_)), "{err:?}");
    assert!(err.to_string().contains(&names[1]), "{err}");
    let mut expected = names.clone();
    expected.push("index.txt".into());
    expected.sort();
    assert_eq!(files(&exports), expected, "a published export was deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_listing_unknown_exports_stops_the_server() {
    let data = tempfile::tempdir().unwrap();
    let names = two_exports(data.path()).await;
    let exports = data.path().join("exports");
    // Another server's export storage (or a database restored from an older backup).
    lose_database(data.path());

    let err = Server::open(config(data.path())).await.unwrap_err();
    assert!(matches!(err, ServerError::Publication(_)), "{err:?}");
    let mut expected = names.clone();
    expected.push("index.txt".into());
    expected.sort();
    assert_eq!(files(&exports), expected);
}
