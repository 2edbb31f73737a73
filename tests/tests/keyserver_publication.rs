//! Publication never deletes what it cannot account for: an export storage whose index went missing or
//! was replaced by an older copy stops the server with a message that says what to restore, and every
//! published file is still there afterwards.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::Path;

use openzone_server::{Server, ServerConfig, ServerError};
use openzone_tests::clock::ManualClock;
use openzone_tests::keyserver_fixture::{
    announced_sealing_key, http, issue_code, officer_token, random_tek, small_hourly_exports,
    start, upload, upload_key, DAY, NOON_MS,
};
use openzone_tests::postgres_fixture::{lose_database, server_config};

fn config(dir: &std::path::Path) -> ServerConfig {
    let mut config = server_config(dir);
    config.clock = ManualClock::new(NOON_MS);
    small_hourly_exports(&mut config);
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

/// Publishes two exports, does `damage` to the data directory, and opens the server again, which must
/// stop with a publication error; returns the error's message, the exports' names and the files the
/// export storage holds afterwards.
async fn reopened_after(
    damage: impl FnOnce(&Path, &[String]),
) -> (String, Vec<String>, Vec<String>) {
    let data = tempfile::tempdir().unwrap();
    let names = two_exports(data.path()).await;
    damage(data.path(), &names);
    let err = Server::open(config(data.path())).await.unwrap_err();
    assert!(matches!(err, ServerError::Publication(_)), "{err:?}");
    (err.to_string(), names, files(&data.path().join("exports")))
}

/// The exports' names and the index, as the export storage lists them.
fn with_index(names: &[String]) -> Vec<String> {
    let mut expected = names.to_vec();
    expected.push("index.txt".into());
    expected.sort();
    expected
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_index_stops_the_server_and_deletes_nothing() {
    let (message, names, left) = reopened_after(|data, _| {
        std::fs::remove_file(data.join("exports").join("index.txt")).unwrap();
    })
    .await;
    assert!(message.contains("index.txt"), "{message}");
    assert!(message.contains("restore"), "{message}");
    assert_eq!(left, names, "published exports were deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_index_stops_the_server_and_deletes_nothing() {
    let (message, names, left) = reopened_after(|data, names| {
        // An index restored from a backup taken before the second export.
        let index = data.join("exports").join("index.txt");
        std::fs::write(index, format!("{}\n", names[0])).unwrap();
    })
    .await;
    assert!(message.contains(&names[1]), "{message}");
    assert_eq!(left, with_index(&names), "a published export was deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_listing_unknown_exports_stops_the_server() {
    // Another server's export storage (or a database restored from an older backup).
    let (_, names, left) = reopened_after(|data, _| lose_database(data)).await;
    assert_eq!(left, with_index(&names));
}
