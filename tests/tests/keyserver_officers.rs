//! Officers have their own accounts: a name, a password stored as a slow hash, a daily quota of codes;
//! sign-in and bearer checks are throttled; an audit log says who issued which code; codes are stored as
//! HMACs, live briefly, and once used keep nothing that links them to the keys they uploaded.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::net::{IpAddr, Ipv4Addr};

use openzone_server::AuditAction;
use openzone_tests::clock::ManualClock;
use openzone_tests::keyserver_fixture::{
    http, http_from, random_tek, sign_in, start_temp, upload_key, Running, TestServer, DAY, NOON_MS,
};
use openzone_tests::postgres_fixture::stored_bytes;

/// Posts `body` (JSON) to the officer API's `path`, with a bearer token if given; returns the status and
/// the JSON answer.
async fn post_json(
    client: &reqwest::Client,
    running: &Running,
    path: &str,
    bearer: Option<&str>,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let mut request = client
        .post(format!("{}{path}", running.url))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or_default())
}

async fn login(
    client: &reqwest::Client,
    running: &Running,
    name: &str,
    password: &str,
) -> (u16, serde_json::Value) {
    let body = serde_json::json!({ "name": name, "password": password });
    post_json(client, running, "v1/admin/login", None, body).await
}

async fn issue(
    client: &reqwest::Client,
    running: &Running,
    bearer: &str,
) -> (u16, serde_json::Value) {
    let body = serde_json::json!({ "test_type": "confirmed" });
    post_json(client, running, "v1/admin/codes", Some(bearer), body).await
}

/// A server at noon with two officers, Lan (with `lan_quota` codes a day) and Minh (10).
async fn lan_and_minh(lan_quota: u32) -> (tempfile::TempDir, std::sync::Arc<ManualClock>, Running) {
    let clock = ManualClock::new(NOON_MS);
    let (dir, running) = start_temp(|config| config.clock = clock.clone()).await;
    let accounts = running.server.accounts();
    accounts
        .add_officer("lan", "lan's long password", lan_quota)
        .await
        .unwrap();
    accounts
        .add_officer("minh", "minh's long password", 10)
        .await
        .unwrap();
    (dir, clock, running)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_officer_signs_in_by_name_within_a_quota_and_is_audited() {
    let (_dir, clock, running) = lan_and_minh(2).await;
    let accounts = running.server.accounts();
    assert!(
        accounts
            .add_officer("lan", "another password!", 2)
            .await
            .is_err(),
        "names are unique"
    );
    assert!(
        accounts.add_officer("short", "2short", 2).await.is_err(),
        "passwords have a minimum length"
    );
    let client = http();

    let (status, answer) = login(&client, &running, "lan", "lan's long password").await;
    assert_eq!(status, 200, "{answer}");
    let lan = answer["token"].as_str().unwrap().to_owned();
    assert_eq!(
        login(&client, &running, "lan", "minh's long password")
            .await
            .0,
        401
    );
    assert_eq!(
        login(&client, &running, "nobody", "lan's long password")
            .await
            .0,
        401
    );

    // Lan's quota is two codes a day.
    let (status, first) = issue(&client, &running, &lan).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(issue(&client, &running, &lan).await.0, 201);
    let (status, refused) = issue(&client, &running, &lan).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (429, Some("quota_exceeded"))
    );
    let minh = sign_in(&client, &running.url, "minh", "minh's long password")
        .await
        .unwrap();
    let (status, theirs) = issue(&client, &running, &minh).await;
    assert_eq!(status, 201);
    // The next day, Lan may issue again.
    clock.set(NOON_MS + 86_400_000);
    let lan = sign_in(&client, &running.url, "lan", "lan's long password")
        .await
        .unwrap();
    assert_eq!(issue(&client, &running, &lan).await.0, 201);

    // Who issued which code.
    let code = |v: &serde_json::Value| v["code"].as_str().unwrap().to_owned();
    for (code, issuer) in [
        (code(&first), Some("lan")),
        (code(&theirs), Some("minh")),
        ("00000000".to_owned(), None),
    ] {
        let found = accounts.code_issuer(&code).await.unwrap();
        assert_eq!(found.as_deref(), issuer, "{code}");
    }
    let audit = accounts.audit_log().await.unwrap();
    let issued_by_lan = audit
        .iter()
        .filter(|e| e.officer == "lan" && e.action == AuditAction::CodeIssued)
        .count();
    assert_eq!(issued_by_lan, 3);
    assert!(audit
        .iter()
        .any(|e| e.officer == "lan" && e.action == AuditAction::SignInRefused));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_guessing_and_bearer_guessing_are_throttled() {
    let (_dir, clock, running) = lan_and_minh(10).await;

    // One address guessing: stopped after its allowance, whatever names it tries.
    let guesser = http_from(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 9)));
    let mut statuses = Vec::new();
    for n in 0..12 {
        let name = format!("officer{n}");
        statuses.push(
            login(&guesser, &running, &name, &format!("guess number {n}"))
                .await
                .0,
        );
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429));
    // Many addresses guessing one officer's password: the account is throttled, not the others.
    for i in 0..12u8 {
        let from = http_from(IpAddr::V4(Ipv4Addr::new(127, 0, 1, 10 + i)));
        login(&from, &running, "lan", &format!("guess number {i}")).await;
    }
    let (status, answer) = login(&http(), &running, "lan", "lan's long password").await;
    assert_eq!(status, 429, "{answer}");
    assert!(answer["error"] == "rate_limited");
    assert_eq!(
        login(&http(), &running, "minh", "minh's long password")
            .await
            .0,
        200
    );
    // An hour later Lan gets in.
    clock.set(NOON_MS + 3_600_000);
    assert_eq!(
        login(&http(), &running, "lan", "lan's long password")
            .await
            .0,
        200
    );

    // Guessing bearer tokens from one address is throttled too.
    let bearer_guesser = http_from(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 77)));
    let mut statuses = Vec::new();
    for n in 0..30 {
        statuses.push(
            issue(&bearer_guesser, &running, &format!("guessed-token-{n:040}"))
                .await
                .0,
        );
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    running.stop().await;
}

/// Uploads the key `tek` of yesterday with `code`.
async fn post_tek(s: &TestServer, code: &str, tek: [u8; 16]) -> (u16, String) {
    s.upload(code, vec![upload_key(tek, (DAY - 1) * 144, 144)])
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_lives_one_hour() {
    let s = TestServer::at_noon(|_| {}).await;
    let answer: serde_json::Value = issue(&s.client, &s.running, &s.token).await.1;
    assert_eq!(answer["expires_at_ms"], NOON_MS + 3_600_000);
    let late = answer["code"].as_str().unwrap().to_owned();
    s.clock.set(NOON_MS + 3_600_000);
    assert_eq!(
        post_tek(&s, &late, random_tek()).await,
        (410, "code_expired".into())
    );
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_are_stored_as_hmacs_and_forget_the_keys_they_uploaded() {
    let s = TestServer::at_noon(|_| {}).await;
    let used = s.issue("confirmed", None).await;
    let unused = s.issue("likely", None).await;
    let tek = random_tek();
    assert_eq!(post_tek(&s, &used, tek).await, (200, "ok".into()));
    s.running.stop().await;

    // Nothing in the database files holds a code in clear, nor the digest of the keys a code uploaded
    // (the SHA-256 of its sorted keys and intervals, as a retry check would keep).
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    digest.update(&tek);
    digest.update(&((DAY - 1) * 144).to_be_bytes());
    digest.update(&144u32.to_be_bytes());
    let digest = digest.finish();
    let needles: Vec<(String, Vec<u8>)> = vec![
        ("the used code".into(), used.as_bytes().to_vec()),
        ("the unused code".into(), unused.as_bytes().to_vec()),
        (
            "the keys' digest (hex)".into(),
            hex::encode(digest.as_ref()).into_bytes(),
        ),
        ("the keys' digest".into(), digest.as_ref().to_vec()),
    ];
    for (place, bytes) in stored_bytes(s.dir.path()) {
        for (what, needle) in &needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{place} holds {what}"
            );
        }
    }
}
