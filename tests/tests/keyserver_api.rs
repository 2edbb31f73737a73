//! The key server's HTTP API against a real server on 127.0.0.1:0 (and the router called directly): the
//! configuration, the officer API, every rejection of an upload with its error code, the code lifecycle,
//! rate limiting, publication (padding, order, signature, delay, same-day release) and retention.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::collections::HashSet;
use std::time::Duration;

use openzone_core::export::ReportType;
use openzone_core::keyserver::seal::{seal, SealingSecret};
use openzone_core::keyserver::wire::{
    ErrorBody, PublishResponse, ServerConfigDoc, UploadKey, UploadPayload, PADDED_PLAINTEXT_BYTES,
};
use openzone_server::{RateLimits, ServerConfig};
use openzone_tests::clock::ManualClock;
use openzone_tests::keyserver_fixture::{
    get_text, officer_token, random_tek, read_local_exports, sealed, upload_key, TestServer, DAY,
    NOON_MS,
};
use openzone_tests::postgres_fixture::server_config;
use tower::ServiceExt;

/// The current interval at [`NOON_MS`].
const CURRENT: u32 = DAY * 144 + 72;

/// Publication only when the test asks.
fn publish_when_asked(config: &mut ServerConfig) {
    config.publication.cadence = Duration::from_secs(3_600);
    config.publication.min_batch = 100;
}

/// A server on loopback at noon on a manual clock, publishing only when asked.
async fn setup() -> TestServer {
    TestServer::at_noon(publish_when_asked).await
}

trait JsonBody {
    async fn json_body<T: serde::de::DeserializeOwned>(self) -> T;
}

impl JsonBody for reqwest::Response {
    async fn json_body<T: serde::de::DeserializeOwned>(self) -> T {
        let bytes = self.bytes().await.unwrap();
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)))
    }
}

/// A plain GET of `path` on the server.
async fn get(s: &TestServer, path: &str) -> reqwest::Response {
    s.client
        .get(format!("{}{path}", s.running.url))
        .send()
        .await
        .unwrap()
}

/// The officer's statistics.
async fn stats(s: &TestServer) -> serde_json::Value {
    s.client
        .get(format!("{}v1/admin/stats", s.running.url))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap()
        .json_body()
        .await
}

/// Posts raw bytes to /v1/publish; returns the status and the error code (or "ok").
async fn post_raw(s: &TestServer, body: Vec<u8>) -> (u16, String) {
    status_of(post_body(s, body).await).await
}

async fn post_body(s: &TestServer, body: Vec<u8>) -> reqwest::Response {
    s.client
        .post(format!("{}v1/publish", s.running.url))
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The status and, for a refusal, the error code; every refusal must also explain itself.
async fn status_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    if status == 200 {
        let _: PublishResponse = response.json_body().await;
        return (status, "ok".into());
    }
    let error: ErrorBody = response.json_body().await;
    assert!(!error.message.is_empty());
    (status, error.error)
}

/// Seals an upload of `keys` under `code` and posts it.
async fn publish(s: &TestServer, code: &str, keys: Vec<UploadKey>) -> reqwest::Response {
    let payload = UploadPayload {
        checkins: Vec::new(),
        code: code.into(),
        keys,
    };
    post_body(s, sealed(&s.key, &payload)).await
}

async fn upload(s: &TestServer, code: &str, keys: Vec<UploadKey>) -> (u16, String) {
    status_of(publish(s, code, keys).await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_health_and_unknown_routes() {
    let s = setup().await;
    let health = get(&s, "healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");

    let doc: ServerConfigDoc = get(&s, "v1/config").await.json_body().await;
    assert_eq!(doc.version, 1);
    assert_eq!(doc.region, "VN");
    assert_eq!(
        doc.export_signing_keys[0].verification_key().unwrap(),
        s.running.server.verification_key()
    );
    assert_eq!(
        doc.upload_sealing_key.algorithm,
        "X25519-HKDF-SHA256-AES-256-GCM"
    );
    doc.upload_sealing_key.public_key().unwrap();
    assert_eq!(doc.publication.cadence_secs, 3_600);
    assert_eq!(doc.publication.delay_secs, 7_200);
    assert_eq!(doc.publication.min_batch_keys, 100);
    assert_eq!(doc.risk_configuration.name, "corona-warn-app-2021");
    assert_eq!(doc.index_url, "v1/exports/index.txt");
    assert_eq!(doc.upload_limits.max_keys, 15);

    // The index exists from the start, empty.
    let index = get(&s, "v1/exports/index.txt").await;
    assert_eq!(index.status(), 200);
    assert_eq!(index.text().await.unwrap(), "");

    for path in [
        "nothing",
        "v1/exports/admin-token",
        "v1/exports/..%2Fadmin-token",
        "v1/exports/0000000001-0000000000000000.zip",
    ] {
        let response = get(&s, path).await;
        assert_eq!(response.status(), 404, "{path}");
        let error: ErrorBody = response.json_body().await;
        assert_eq!(error.error, "not_found");
    }
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_officer_api_needs_a_session_and_a_valid_body() {
    let s = setup().await;
    let (client, token) = (&s.client, &s.token);
    let url = format!("{}v1/admin/codes", s.running.url);

    for auth in [None, Some("wrong-token-wrong-token")] {
        let mut request = client.post(&url).body(r#"{"test_type":"confirmed"}"#);
        if let Some(auth) = auth {
            request = request.bearer_auth(auth);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        assert!(response.headers().contains_key("www-authenticate"));
        let error: ErrorBody = response.json_body().await;
        assert_eq!(error.error, "unauthorized");
    }
    for body in [
        "",
        "not json",
        r#"{"test_type":"maybe"}"#,
        r#"{"test_type":"confirmed","extra":1}"#,
        r#"{"test_type":"confirmed","onset":"2026-11-21"}"#,
        r#"{"test_type":"confirmed","onset":"2026-10-01"}"#,
        r#"{"test_type":"confirmed","onset":"21/11/2026"}"#,
    ] {
        let response = client
            .post(&url)
            .bearer_auth(token)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let error: ErrorBody = response.json_body().await;
        assert_eq!(error.error, "malformed", "{body}");
    }
    let response = client
        .post(&url)
        .bearer_auth(token)
        .body(r#"{"test_type":"likely","onset":"2026-11-18"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let answer: serde_json::Value = response.json_body().await;
    let code = answer["code"].as_str().unwrap();
    assert_eq!(code.len(), 8);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));
    // Valid for one hour.
    assert_eq!(answer["expires_at"], "2026-11-20T13:00:00Z");
    assert_eq!(answer["expires_at_ms"], NOON_MS + 3_600_000);

    let stats = stats(&s).await;
    assert_eq!(stats["codes_issued"], 1);
    assert_eq!(stats["codes_used"], 0);
    let unauthorized = get(&s, "v1/admin/stats").await;
    assert_eq!(unauthorized.status(), 401);
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_truncated_oversized_and_foreign_bodies_are_refused() {
    let s = setup().await;
    let code = s.issue("confirmed", None).await;
    let good = UploadPayload {
        checkins: Vec::new(),
        code: code.clone(),
        keys: vec![upload_key(random_tek(), (DAY - 1) * 144, 144)],
    };
    let sealed_good = sealed(&s.key, &good);

    let mut bad_seals = vec![
        ("nothing".to_owned(), Vec::new()),
        (
            "a report in the clear".to_owned(),
            b"{\"code\":\"12345678\",\"keys\":[]}".to_vec(),
        ),
    ];
    for len in [1, 33, 45, sealed_good.len() - 1] {
        bad_seals.push((format!("cut to {len} bytes"), sealed_good[..len].to_vec()));
    }
    let mut flipped = sealed_good.clone();
    flipped[50] ^= 1;
    bad_seals.push(("a flipped bit".to_owned(), flipped));
    let foreign = SealingSecret::generate().unwrap().public_key();
    bad_seals.push(("sealed to another key".to_owned(), sealed(&foreign, &good)));
    for (what, body) in bad_seals {
        assert_eq!(post_raw(&s, body).await, (400, "bad_seal".into()), "{what}");
    }
    assert_eq!(
        post_raw(&s, vec![1u8; 20 * 1024]).await,
        (413, "body_too_large".into())
    );
    // A sealed body that is not the report's JSON, padded or not, or a report without its padding.
    let unpadded = serde_json::to_vec(&good).unwrap();
    for plain in [
        &b"not json"[..],
        b"{\"code\":\"12345678\"}",
        b"{\"code\":\"12345678\",\"keys\":[],\"x\":1}",
        b"{\"fake\":true,\"pretend_keys\":\"x\"}",
        &unpadded,
    ] {
        let mut padded = plain.to_vec();
        padded.resize(PADDED_PLAINTEXT_BYTES, b' ');
        for body in [plain.to_vec(), padded] {
            let body = seal(&s.key, &body).unwrap();
            if body.len() == sealed_good.len() && plain == unpadded.as_slice() {
                continue;
            }
            assert_eq!(
                post_raw(&s, body).await,
                (400, "malformed".into()),
                "{}",
                String::from_utf8_lossy(plain)
            );
        }
    }
    // Sent without a length (chunked) and too large: refused all the same.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..40).map(|_| Ok(vec![0u8; 1024])).collect();
    let response = s
        .client
        .post(format!("{}v1/publish", s.running.url))
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await;
    // (The server may also close the connection before the client has sent the rest; then there is no
    // status to check.)
    if let Ok(response) = response {
        assert_eq!(response.status(), 413);
        let error: ErrorBody = response.json_body().await;
        assert_eq!(error.error, "body_too_large");
    }
    // None of that used the code.
    assert_eq!(post_raw(&s, sealed_good).await, (200, "ok".into()));
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_are_used_once_only_with_their_keys_and_expire() {
    let s = setup().await;
    let code = s.issue("confirmed", None).await;
    let yesterday = |tek| upload_key(tek, (DAY - 1) * 144, 144);

    assert_eq!(
        upload(&s, "00000000", vec![yesterday(random_tek())]).await,
        (404, "code_unknown".into())
    );
    // Key problems are found before the code is looked at, and do not use it.
    let sixteen: Vec<UploadKey> = (0..16)
        .map(|i| upload_key(random_tek(), (DAY - 1 - i) * 144, 144))
        .collect();
    let twice = random_tek();
    let key_problems = [
        ("sixteen keys", sixteen, "too_many_keys"),
        ("no key", vec![], "no_keys"),
        (
            "a key of the future",
            vec![upload_key(random_tek(), DAY * 144, 74)],
            "key_in_future",
        ),
        (
            "a key of 15 days ago",
            vec![upload_key(random_tek(), CURRENT - 15 * 144, 144)],
            "key_too_old",
        ),
        (
            "a key of no interval",
            vec![UploadKey {
                rolling_period: 0,
                ..upload_key(random_tek(), CURRENT, 1)
            }],
            "invalid_key",
        ),
        (
            "a key twice",
            vec![yesterday(twice), upload_key(twice, (DAY - 2) * 144, 144)],
            "duplicate_key",
        ),
    ];
    for (what, keys, error) in key_problems {
        assert_eq!(upload(&s, &code, keys).await, (400, error.into()), "{what}");
    }

    // Accepted: three keys, including today's up to the current interval (same-day release).
    let keys = vec![
        yesterday(random_tek()),
        upload_key(random_tek(), (DAY - 2) * 144, 144),
        upload_key(random_tek(), DAY * 144, 73),
    ];
    let body = sealed(
        &s.key,
        &UploadPayload {
            checkins: Vec::new(),
            code: code.clone(),
            keys: keys.clone(),
        },
    );
    let response = post_body(&s, body.clone()).await;
    assert_eq!(response.status(), 200);
    let accepted: PublishResponse = response.json_body().await;
    assert_eq!(
        accepted,
        PublishResponse {
            accepted_keys: 3,
            repeated: false
        }
    );

    // The same sealed upload again (a retry after a lost answer) is a harmless repeat; the code with
    // other keys is refused, and the same keys sealed anew are keys uploaded before.
    let response = post_body(&s, body).await;
    let repeat: PublishResponse = response.json_body().await;
    assert!(repeat.repeated);
    // A key uploaded before cannot come back with another code either, which stays unused.
    let other = s.issue("likely", None).await;
    let afterwards = [
        (
            "the same keys sealed anew",
            &code,
            keys.clone(),
            (409, "key_already_uploaded"),
        ),
        (
            "the code with other keys",
            &code,
            vec![yesterday(random_tek())],
            (409, "code_used"),
        ),
        (
            "a key uploaded before with another code",
            &other,
            vec![keys[0].clone()],
            (409, "key_already_uploaded"),
        ),
        (
            "the other code with a new key",
            &other,
            vec![yesterday(random_tek())],
            (200, "ok"),
        ),
    ];
    for (what, code, keys, (status, error)) in afterwards {
        assert_eq!(
            upload(&s, code, keys).await,
            (status, error.into()),
            "{what}"
        );
    }

    // A code is valid for one hour.
    let late = s.issue("confirmed", None).await;
    s.clock.set(NOON_MS + 3_600_000);
    assert_eq!(
        upload(&s, &late, vec![yesterday(random_tek())]).await,
        (410, "code_expired".into())
    );
    let stats = stats(&s).await;
    assert_eq!(
        (stats["codes_issued"].as_u64(), stats["codes_used"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(stats["keys_pending"], 4);
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_code_attempts_are_rate_limited() {
    let s = TestServer::at_noon(|config| {
        publish_when_asked(config);
        config.rate_limits = RateLimits {
            per_client_burst: 3.0,
            per_client_per_hour: 6.0,
            global_burst: 1_000.0,
            global_per_hour: 1_000.0,
        };
    })
    .await;
    let code = s.issue("confirmed", None).await;
    let key_of = || vec![upload_key(random_tek(), (DAY - 1) * 144, 144)];
    // Bad keys and malformed bodies are not code attempts.
    for _ in 0..5 {
        assert_eq!(upload(&s, "99999999", vec![]).await.1, "no_keys");
        assert_eq!(post_raw(&s, vec![0; 10]).await.1, "bad_seal");
    }
    for wrong in ["99999999", "99999998", "1234"] {
        assert_eq!(
            upload(&s, wrong, key_of()).await,
            (404, "code_unknown".into())
        );
    }
    let response = publish(&s, &code, key_of()).await;
    assert_eq!(response.status(), 429);
    // 6 an hour: a token every 10 minutes.
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((590..=602).contains(&retry_after), "{retry_after}");
    let error: ErrorBody = response.json_body().await;
    assert_eq!(error.error, "rate_limited");
    // Ten minutes later the valid code goes through, and a success costs nothing.
    s.clock.set(NOON_MS + 600_000);
    assert_eq!(upload(&s, &code, key_of()).await, (200, "ok".into()));
    assert_eq!(
        upload(&s, "99999999", key_of()).await,
        (404, "code_unknown".into())
    );
    assert_eq!(upload(&s, "99999999", key_of()).await.0, 429);
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publication_pads_sorts_signs_delays_and_expires() {
    let mut s = setup().await;
    let (running, clock) = (&s.running, &s.clock);
    let verification = running.server.verification_key();
    let exports_dir = s.dir.path().join("exports");

    // A confirmed case with onset two days ago, and a likely case without onset.
    let confirmed = s.issue("confirmed", Some("2026-11-18")).await;
    let likely = s.issue("likely", None).await;
    let old_tek = random_tek();
    let today_tek = random_tek();
    let likely_tek = random_tek();
    assert_eq!(
        upload(
            &s,
            &confirmed,
            vec![
                upload_key(old_tek, (DAY - 3) * 144, 144),
                // Today's key, ended now: published once 2 hours have passed.
                upload_key(today_tek, DAY * 144, 73),
            ]
        )
        .await
        .0,
        200
    );
    let likely_keys = vec![upload_key(likely_tek, (DAY - 1) * 144, 144)];
    assert_eq!(upload(&s, &likely, likely_keys).await.0, 200);

    let report = running.server.publish_now().await.unwrap();
    assert_eq!(report.exports.len(), 1);
    let (first_name, real, total) = report.exports[0].clone();
    assert_eq!(real, 2);
    assert!(
        (100..=300).contains(&total),
        "padded to 100 and a random 0 to 200 more: {total}"
    );
    let exports = read_local_exports(&exports_dir, &verification);
    assert_eq!(exports.len(), 1);
    let keys = &exports[0].1;
    assert_eq!(keys.len() as u64, total);
    assert!(
        keys.windows(2)
            .all(|w| w[0].key.tek.as_bytes() < w[1].key.tek.as_bytes()),
        "sorted by key bytes"
    );
    let find = |tek: [u8; 16]| keys.iter().find(|k| *k.key.tek.as_bytes() == tek).cloned();
    let old = find(old_tek).unwrap();
    assert_eq!(old.report_type, ReportType::ConfirmedTest);
    assert_eq!(old.days_since_onset, Some(-1));
    assert_eq!(old.transmission_risk_level, Some(8));
    let likely_key = find(likely_tek).unwrap();
    assert_eq!(
        likely_key.report_type,
        ReportType::ConfirmedClinicalDiagnosis
    );
    assert_eq!(likely_key.days_since_onset, None);
    assert_eq!(likely_key.transmission_risk_level, Some(8));
    assert!(
        find(today_tek).is_none(),
        "today's key waits for its day to end"
    );
    // Fakes take the metadata of keys that could be published now (here, only these two).
    let real_shapes: HashSet<_> = [&old, &likely_key]
        .iter()
        .map(|k| {
            (
                k.key.rolling_start_interval,
                k.key.rolling_period,
                k.report_type,
                k.days_since_onset,
                k.transmission_risk_level,
            )
        })
        .collect();
    assert!(keys.iter().all(|k| real_shapes.contains(&(
        k.key.rolling_start_interval,
        k.key.rolling_period,
        k.report_type,
        k.days_since_onset,
        k.transmission_risk_level
    ))));

    // Served by the server too, byte for byte.
    let served = get(&s, &format!("v1/exports/{first_name}")).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "application/zip");
    assert_eq!(
        served.bytes().await.unwrap().as_ref(),
        std::fs::read(exports_dir.join(&first_name)).unwrap()
    );

    // Nothing new is due: no empty export; two hours after today's key ended (12:10), it still waits,
    // as its day is not over.
    for at in [NOON_MS, NOON_MS + 10 * 60_000 + 2 * 3_600_000] {
        clock.set(at);
        let report = running.server.publish_now().await.unwrap();
        assert!(report.exports.is_empty());
    }
    // Two hours after the day ended, it is published in a second export, covering the whole day.
    clock.set(u64::from(DAY + 1) * 86_400_000 + 2 * 3_600_000);
    let report = running.server.publish_now().await.unwrap();
    assert_eq!(report.exports.len(), 1);
    assert_eq!(report.exports[0].1, 1);
    let exports = read_local_exports(&exports_dir, &verification);
    assert_eq!(
        exports.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        vec![first_name.clone(), report.exports[0].0.clone()]
    );
    let today = exports[1]
        .1
        .iter()
        .find(|k| *k.key.tek.as_bytes() == today_tek)
        .unwrap();
    assert_eq!(
        (
            today.key.rolling_period,
            today.days_since_onset,
            today.transmission_risk_level
        ),
        (144, Some(2), Some(6))
    );
    let index = get_text(&format!("{}v1/exports/index.txt", running.url)).await;
    assert_eq!(index, format!("{first_name}\n{}\n", report.exports[0].0));

    // 14 days later everything is gone: exports, keys, codes.
    clock.set(NOON_MS + 15 * 86_400_000);
    let report = running.server.publish_now().await.unwrap();
    assert_eq!(report.exports_expired, 2);
    assert_eq!(report.keys_expired, 3);
    assert_eq!(report.codes_expired, 2);
    assert_eq!(
        std::fs::read_to_string(exports_dir.join("index.txt")).unwrap(),
        ""
    );
    // Their files stay while caches may still hold an index that lists them, then go.
    let zips = |dir: &std::path::Path| {
        std::fs::read_dir(dir)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name() != "index.txt")
            .count()
    };
    assert_eq!(zips(&exports_dir), 2);
    clock.set(NOON_MS + 15 * 86_400_000 + 3_600_000 - 1);
    running.server.publish_now().await.unwrap();
    assert_eq!(zips(&exports_dir), 2);
    clock.set(NOON_MS + 15 * 86_400_000 + 3_600_000);
    running.server.publish_now().await.unwrap();
    let left: Vec<_> = std::fs::read_dir(&exports_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("index.txt")]);
    // (Sessions last 12 hours: the officer signs in again.)
    s.token = officer_token(&s.running).await;
    let stats = stats(&s).await;
    // The counters outlive the data.
    assert_eq!(
        (
            stats["keys_published"].as_u64(),
            stats["keys_pending"].as_u64()
        ),
        (Some(3), Some(0))
    );
    let fresh = vec![upload_key(random_tek(), (DAY + 14) * 144, 144)];
    assert_eq!(
        upload(&s, &confirmed, fresh).await,
        (404, "code_unknown".into())
    );
    s.running.stop().await;
}

#[tokio::test]
async fn the_router_answers_without_a_socket() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = server_config(dir.path());
    config.clock = ManualClock::new(NOON_MS);
    publish_when_asked(&mut config);
    let server = openzone_server::Server::open(config).await.unwrap();
    let answer = |method: &str, uri: &str, body: &'static [u8]| {
        let request = axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .body(axum::body::Body::from(body))
            .unwrap();
        server.app().oneshot(request)
    };
    let response = answer("GET", "/healthz", b"").await.unwrap();
    assert_eq!(response.status(), 200);
    let response = answer("POST", "/v1/publish", b"garbage").await.unwrap();
    assert_eq!(response.status(), 400);
    let body = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap();
    let error: ErrorBody = serde_json::from_slice(&body).unwrap();
    assert_eq!(error.error, "bad_seal");
    let response = answer("GET", "/v1/publish", b"").await.unwrap();
    assert_eq!(response.status(), 405);
}
