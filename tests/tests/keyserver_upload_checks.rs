//! The upload's checks at their edges: keys sharing a start, days since onset at the integer extremes, a
//! key uploaded before that must not tell whether a code is valid, a publication delay shorter than the
//! phones' matching tolerance, and the officer page's protections against framing and plain-HTTP cookies.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::time::Duration;

use openzone_core::keyserver::wire::UploadKey;
use openzone_server::{Server, ServerError};
use openzone_tests::keyserver_fixture::{random_tek, upload_key, TestServer, DAY};
use openzone_tests::postgres_fixture::server_config;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_three_keys_share_a_start() {
    let s = TestServer::at_noon(|_| {}).await;
    let code = s.issue("confirmed", None).await;
    let same_start = |n: usize| -> Vec<UploadKey> {
        (0..n)
            .map(|_| upload_key(random_tek(), (DAY - 1) * 144, 144))
            .collect()
    };
    assert_eq!(
        s.upload(&code, same_start(4)).await,
        (400, "invalid_key".into()),
        "four keys for the same day were accepted"
    );
    // Three are fine (a phone whose user reset its keys twice that day).
    assert_eq!(s.upload(&code, same_start(3)).await, (200, "ok".into()));
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn days_since_onset_at_the_integer_extremes_are_refused() {
    let s = TestServer::at_noon(|_| {}).await;
    let code = s.issue("confirmed", None).await;
    for extreme in [i32::MIN, i32::MIN + 1, -15, 15, i32::MAX] {
        let bad = UploadKey {
            days_since_onset: Some(extreme),
            ..upload_key(random_tek(), (DAY - 1) * 144, 144)
        };
        assert_eq!(
            s.upload(&code, vec![bad]).await,
            (400, "invalid_key".into()),
            "{extreme}"
        );
    }
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_uploaded_before_does_not_tell_whether_a_code_is_valid() {
    let s = TestServer::at_noon(|_| {}).await;
    let first = s.issue("confirmed", None).await;
    let uploaded = upload_key(random_tek(), (DAY - 1) * 144, 144);
    assert_eq!(s.upload(&first, vec![uploaded.clone()]).await.0, 200);
    // Someone holding that key tries a valid, unused code and an unknown one: the same answer.
    let valid = s.issue("confirmed", None).await;
    let with_valid = s.upload(&valid, vec![uploaded.clone()]).await;
    let with_unknown = s.upload("00000000", vec![uploaded.clone()]).await;
    assert_eq!(with_valid, with_unknown, "the answer tells the codes apart");
    assert_eq!(with_valid, (409, "key_already_uploaded".into()));
    // And the valid code is still there for its student.
    let fresh = vec![upload_key(random_tek(), (DAY - 2) * 144, 144)];
    assert_eq!(s.upload(&valid, fresh).await, (200, "ok".into()));
    s.running.stop().await;
}

#[tokio::test]
async fn a_publication_delay_shorter_than_the_matching_tolerance_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for short in [Duration::ZERO, Duration::from_secs(7_199)] {
        let mut config = server_config(dir.path());
        config.publication.delay = short;
        let err = Server::open(config).await.unwrap_err();
        assert!(matches!(err, ServerError::Config(_)), "{err:?}");
        assert!(err.to_string().contains("2 hours"), "{err}");
    }
    let mut config = server_config(dir.path());
    config.publication.delay = Duration::from_secs(7_200);
    Server::open(config).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_officer_page_cannot_be_framed_and_its_cookies_need_https() {
    let s = TestServer::at_noon(|_| {}).await;
    let (running, client) = (&s.running, &s.client);
    let page = client
        .get(format!("{}admin", running.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    let logout = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}admin/logout", running.url))
        .send()
        .await
        .unwrap();
    let cookie = logout.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    // A session cookie that opens nothing (expired, or guessed) is removed, so it counts once.
    let stale = client
        .get(format!("{}admin", running.url))
        .header("cookie", "oz_session=expired-or-guessed")
        .send()
        .await
        .unwrap();
    let cleared = stale.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cleared.starts_with("oz_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    s.running.stop().await;
}
