//! The upload is sealed to a key the app pins, not to whatever `/v1/config` (cacheable, possibly served
//! through a CDN) announces; the server rotates its sealing key with an overlap in which the previous key
//! still opens uploads, and `/v1/config` announces only the current public key.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::time::Duration;

use axum::http::StatusCode;
use openzone_core::keyserver::seal::{SealingPublicKey, SealingSecret};
use openzone_core::keyserver::wire::{ServerConfigDoc, UploadPayload};
use openzone_core::keyserver::{ClientConfig, KeyServerClient};
use openzone_core::Error;
use openzone_server::ServerConfig;
use openzone_tests::clock::ManualClock;
use openzone_tests::keyserver_fixture::{
    get_text, http, issue_code, officer_token, random_tek, start, upload, upload_key, Running, DAY,
    NOON_MS,
};
use openzone_tests::postgres_fixture::{rotate_sealing_key, server_config};

fn config(dir: &std::path::Path) -> ServerConfig {
    let mut config = server_config(dir);
    config.clock = ManualClock::new(NOON_MS);
    config.publication.cadence = Duration::from_secs(3_600);
    config
}

async fn announced(url: &str) -> (ServerConfigDoc, String) {
    let text = get_text(&format!("{url}v1/config")).await;
    (serde_json::from_str(&text).unwrap(), text)
}

async fn post_sealed(running: &Running, key: &SealingPublicKey, token: &str) -> (u16, String) {
    let code = issue_code(&http(), &running.url, token, "confirmed", None).await;
    let keys = vec![upload_key(random_tek(), (DAY - 1) * 144, 144)];
    upload(&running.url, key, &code, keys).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_rotation_the_previous_sealing_key_still_opens_uploads() {
    let dir = tempfile::tempdir().unwrap();
    let running = start(config(dir.path())).await;
    let first = announced(&running.url)
        .await
        .0
        .upload_sealing_key
        .public_key()
        .unwrap();
    running.stop().await;

    rotate_sealing_key(dir.path());
    let running = start(config(dir.path())).await;
    let token = officer_token(&running).await;
    let (doc, text) = announced(&running.url).await;
    let second = doc.upload_sealing_key.public_key().unwrap();
    assert_ne!(first, second);
    assert!(
        !text.contains(&first.to_base64()),
        "/v1/config still announces the previous key"
    );
    assert_eq!(
        post_sealed(&running, &second, &token).await,
        (200, "ok".into())
    );
    assert_eq!(
        post_sealed(&running, &first, &token).await,
        (200, "ok".into()),
        "an app that pinned the previous key can no longer report"
    );
    let stranger = SealingSecret::generate().unwrap().public_key();
    assert_eq!(
        post_sealed(&running, &stranger, &token).await,
        (400, "bad_seal".into())
    );
    running.stop().await;

    // The next rotation retires the first key.
    rotate_sealing_key(dir.path());
    let running = start(config(dir.path())).await;
    let token = officer_token(&running).await;
    assert_eq!(
        post_sealed(&running, &first, &token).await,
        (400, "bad_seal".into())
    );
    assert_eq!(
        post_sealed(&running, &second, &token).await,
        (200, "ok".into())
    );
    running.stop().await;
}

/// A front (a CDN or a proxy) that passes everything to `upstream` but announces `fake` as the sealing
/// key in `/v1/config`.
async fn lying_front(upstream: String, fake: SealingPublicKey) -> String {
    let app = axum::Router::new().fallback(
        move |method: axum::http::Method, uri: axum::http::Uri, body: axum::body::Bytes| {
            let upstream = upstream.clone();
            async move {
                let url = format!("{upstream}{}", uri.path().trim_start_matches('/'));
                let response = http()
                    .request(method, url)
                    .body(body.to_vec())
                    .send()
                    .await
                    .unwrap();
                let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
                let mut bytes = response.bytes().await.unwrap().to_vec();
                if uri.path() == "/v1/config" {
                    let mut doc: ServerConfigDoc = serde_json::from_slice(&bytes).unwrap();
                    doc.upload_sealing_key.public_key = fake.to_base64();
                    bytes = serde_json::to_vec(&doc).unwrap();
                }
                (status, bytes)
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_seals_to_its_pinned_keys_whatever_the_configuration_announces() {
    let dir = tempfile::tempdir().unwrap();
    let running = start(config(dir.path())).await;
    let token = officer_token(&running).await;
    let real = announced(&running.url)
        .await
        .0
        .upload_sealing_key
        .public_key()
        .unwrap();
    let attacker = SealingSecret::generate().unwrap().public_key();
    let front = lying_front(running.url.clone(), attacker).await;
    let upload = |code: String| UploadPayload {
        checkins: Vec::new(),
        code,
        keys: vec![upload_key(random_tek(), (DAY - 1) * 144, 144)],
    };

    // Pinned: the announcement is ignored; the server opens the upload.
    let mut pinned = ClientConfig::new(&front);
    pinned.pinned_sealing_keys = vec![real];
    let phone = KeyServerClient::new(pinned).unwrap();
    assert_eq!(phone.sealing_key().await.unwrap(), real);
    let code = issue_code(&http(), &running.url, &token, "confirmed", None).await;
    phone.publish(&real, &upload(code)).await.unwrap();

    // During a rotation the app pins the next key and the current one: it takes whichever of them the
    // server announces, and never a key it did not pin.
    let next = SealingSecret::generate().unwrap().public_key();
    let mut overlap = ClientConfig::new(&running.url);
    overlap.pinned_sealing_keys = vec![next, real];
    let phone = KeyServerClient::new(overlap.clone()).unwrap();
    assert_eq!(phone.sealing_key().await.unwrap(), real);
    overlap.server_url = front.clone();
    let phone = KeyServerClient::new(overlap).unwrap();
    assert_eq!(
        phone.sealing_key().await.unwrap(),
        next,
        "an unpinned announcement falls back to the first pinned key"
    );

    // Without pins the client would seal to the front's key: what an app must never ship with.
    let unpinned = KeyServerClient::new(ClientConfig::new(&front)).unwrap();
    assert_eq!(unpinned.sealing_key().await.unwrap(), attacker);
    let code = issue_code(&http(), &running.url, &token, "confirmed", None).await;
    let err = unpinned
        .publish(&attacker, &upload(code))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::KeyServerRejected { ref code, .. } if code == "bad_seal"),
        "{err}"
    );
    running.stop().await;
}
