//! The two flows end to end on loopback, as phones use them: an officer issues a code, the reporter's
//! phone ends its key and uploads its infectious days sealed, the server publishes on a seconds cadence,
//! and another phone syncs and finds the day it met the reporter. Also the client's retries, caps and
//! resumption after an interrupted sync, and a damaged export rejected once.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use openzone_core::export::signing::VerificationKey;
use openzone_core::keyserver::wire::WARNING_PACKAGE_MARK;
use openzone_core::phone::{
    ClientConfig, KeyServerClient, Phone, PhoneConfig, PositiveReport, UserConsent,
};
use openzone_core::protocol::en_v1::{en_interval_number, ExposureKey, TemporaryExposureKey};
use openzone_core::time::{day_of_ms, Clock, SystemClock};
use openzone_core::Error;
use openzone_tests::clock::ManualClock;
use openzone_tests::keyserver_fixture::{
    get_json, http, issue_code, officer_token, random_tek, small_hourly_exports, start_temp,
    Running,
};
use openzone_tests::lesson::lesson_sightings;
use openzone_tests::phone::{open_phone, seed_own_keys};
use openzone_tests::postgres_fixture::server_config;

/// A phone of this test on `server` (a client), pinning `export_keys`.
fn phone(
    dir: &std::path::Path,
    clock: &Arc<ManualClock>,
    server: &KeyServerClient,
    export_keys: &[VerificationKey],
) -> Phone {
    open_phone(dir, clock, |c: &mut PhoneConfig| {
        c.key_server = Some(server.clone());
        c.export_keys = export_keys.to_vec();
    })
}

fn positive(code: &str) -> PositiveReport {
    PositiveReport {
        code: code.into(),
        onset_day: None,
        test_day: None,
        consent: UserConsent::given(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_upload_publication_and_sync_find_the_exposure() {
    let (_data, running) = start_temp(|config| {
        config.publication.cadence = Duration::from_secs(1);
        config.publication.min_batch = 50;
    })
    .await;

    // They met two days ago: that key ended more than the 2-hour publication delay ago at any hour.
    let now = SystemClock.now_ms();
    let today = day_of_ms(now);
    let met = today - 2;
    let reporter_key_met = ExposureKey::new(
        TemporaryExposureKey::from_bytes(random_tek()),
        met * 144,
        144,
    )
    .unwrap();
    let reporter_key_today = ExposureKey::new(
        TemporaryExposureKey::from_bytes(random_tek()),
        today * 144,
        144,
    )
    .unwrap();

    // The reporter's phone has its keys; the listener's phone heard the reporter in class; a
    // stranger heard nobody.
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let clock = ManualClock::new(now);
    let unpinned = KeyServerClient::new(ClientConfig::new(&running.url)).unwrap();
    let pinned = [running.server.verification_key()];
    seed_own_keys(
        dirs[0].path(),
        &[reporter_key_met.clone(), reporter_key_today.clone()],
    );
    let reporter = phone(dirs[0].path(), &clock, &unpinned, &[]);
    // The listener pins the server's export key, as the app does.
    let listener = phone(dirs[1].path(), &clock, &unpinned, &pinned);
    listener
        .record_sightings(&lesson_sightings(&reporter_key_met, met))
        .unwrap();
    listener.checkpoint().unwrap();
    let stranger = phone(dirs[2].path(), &clock, &unpinned, &pinned);

    // The officer issues a code; the reporter's phone reports with it.
    let client = http();
    let token = officer_token(&running).await;
    let code = issue_code(&client, &running.url, &token, "confirmed", None).await;
    let outcome = reporter.report_positive(positive(&code)).await.unwrap();
    assert_eq!(outcome.keys_uploaded, 2);
    assert!(!outcome.response.repeated);
    let current = en_interval_number(now / 1000);
    assert_eq!(outcome.window.ended_key_end_interval, Some(current + 1));
    // The phone rotated at once: a fresh key, never uploaded, in force from this interval.
    assert_eq!(outcome.window.next_key_start_interval, Some(current));
    // Yesterday's key, today's ended at the report, and the fresh one.
    assert_eq!(reporter.storage_stats().unwrap().own_en_keys, 3);
    // A phone without keys of the infectious days has nothing to report (the code stays unused).
    let again = stranger.report_positive(positive(&code)).await;
    assert!(matches!(again, Err(Error::NoKeysToReport)), "{again:?}");

    // Within a few cadence ticks the key of the day they met is published (today's waits for its day to
    // end), and the report's encrypted check-ins (all fakes here) in a warning package; the two may come
    // in different ticks, and the second sync below must see nothing new.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (entries, _) = unpinned.fetch_index("v1/exports/index.txt").await.unwrap();
        let packages = entries
            .iter()
            .filter(|e| e.name.contains(WARNING_PACKAGE_MARK))
            .count();
        if packages == 1 && entries.len() == 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the export and the warning package were not both published: {entries:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    clock.set(SystemClock.now_ms());
    let report = listener.sync().await.unwrap();
    assert!(!report.trusted_server_keys);
    assert_eq!(report.exports_checked, report.exports_listed);
    assert!(report.exports_rejected.is_empty());
    assert_eq!(report.keys_matched, 1);
    assert!(report.keys_processed >= 50);
    assert!(report.bytes_downloaded > 0);
    assert_eq!(report.days.len(), 1);
    assert_eq!(report.days[0].day, met);
    assert!(report.days[0].at_risk, "{:?}", report.days[0]);
    assert_eq!(report.newly_at_risk, [met]);

    // A second sync downloads only the index and changes nothing.
    let second = listener.sync().await.unwrap();
    assert_eq!(second.exports_checked, 0);
    assert_eq!(second.exports_already_checked, report.exports_listed);
    assert!(second.bytes_downloaded < 1_000);
    assert_eq!(second.days, report.days);
    assert!(second.newly_at_risk.is_empty());

    let nothing = stranger.sync().await.unwrap();
    assert_eq!(nothing.keys_matched, 0);
    assert!(nothing.days.is_empty());

    // Without a pinned key the phone refuses, unless told to trust the server's announcement.
    let more: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let refused = phone(more[0].path(), &clock, &unpinned, &[]).sync().await;
    assert!(
        matches!(
            refused,
            Err(Error::Wire(openzone_core::wire::Error::Signature(_)))
        ),
        "{refused:?}"
    );
    let trusting = open_phone(more[1].path(), &clock, |c| {
        c.key_server = Some(unpinned.clone());
        c.trust_announced_export_keys = true;
    });
    assert!(trusting.sync().await.unwrap().trusted_server_keys);
    // A key pinned wrongly makes every export fail its check: none is matched, and each is remembered as
    // rejected rather than downloaded again at every sync.
    let wrong = [
        openzone_core::export::signing::SigningKey::generate("452", "v1")
            .unwrap()
            .0
            .verification_key(),
    ];
    let fresh = phone(more[2].path(), &clock, &unpinned, &wrong);
    let rejected = fresh.sync().await.unwrap();
    assert_eq!(rejected.exports_rejected.len(), rejected.exports_listed);
    assert_eq!(rejected.exports_checked, 0);
    let later = fresh.sync().await.unwrap();
    assert_eq!(
        (later.exports_rejected.len(), later.exports_already_checked),
        (0, rejected.exports_listed)
    );

    let stats = get_json(&format!("{}v1/admin/stats", running.url), &token).await;
    assert_eq!(stats["codes_used"], 1);
    assert_eq!(
        stats["keys_published"].as_u64().unwrap() + stats["keys_pending"].as_u64().unwrap(),
        2
    );
    running.stop().await;
}

/// A server that fails the first `failures` requests with `status`, counting requests.
async fn flaky(
    failures: usize,
    status: StatusCode,
    body: &'static str,
) -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let app = axum::Router::new()
        .route(
            "/v1/config",
            get(move || {
                let n = seen.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n < failures {
                        (
                            status,
                            [("retry-after", "0")],
                            "{\"error\":\"x\",\"message\":\"down\"}",
                        )
                            .into_response_parts()
                    } else {
                        (StatusCode::OK, [("retry-after", "0")], body).into_response_parts()
                    }
                }
            }),
        )
        .route(
            "/v1/exports/index.txt",
            get(|| async { "x".repeat(2 << 20) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/"), count)
}

trait Parts {
    fn into_response_parts(self) -> axum::response::Response;
}

impl<T: axum::response::IntoResponse> Parts for T {
    fn into_response_parts(self) -> axum::response::Response {
        self.into_response()
    }
}

fn quick(url: &str) -> KeyServerClient {
    let mut config = ClientConfig::new(url);
    config.initial_backoff = Duration::from_millis(10);
    config.max_backoff = Duration::from_millis(50);
    config.connect_timeout = Duration::from_secs(2);
    config.request_timeout = Duration::from_secs(5);
    KeyServerClient::new(config).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_retries_transient_failures_only() {
    // The real server's configuration document, served by a flaky front.
    let data = tempfile::tempdir().unwrap();
    let server = openzone_server::Server::open(server_config(data.path()))
        .await
        .unwrap();
    let doc: &'static str = Box::leak(
        serde_json::to_string(server.config_doc())
            .unwrap()
            .into_boxed_str(),
    );

    let (url, count) = flaky(2, StatusCode::SERVICE_UNAVAILABLE, doc).await;
    let config = quick(&url).fetch_config().await.unwrap();
    assert_eq!(config.region, "VN");
    assert_eq!(count.load(Ordering::SeqCst), 3, "two 503s, then success");

    for (status, tries, why) in [
        (StatusCode::TOO_MANY_REQUESTS, 4, "4 tries, then the error"),
        (StatusCode::BAD_REQUEST, 1, "a refusal is final"),
    ] {
        let (url, count) = flaky(10, status, doc).await;
        let err = quick(&url).fetch_config().await.unwrap_err();
        assert!(
            matches!(err, Error::KeyServerRejected { status: refused, .. } if refused == status.as_u16()),
            "{err}"
        );
        assert_eq!(count.load(Ordering::SeqCst), tries, "{why}");
    }

    // An index larger than the cap is refused.
    let err = quick(&url)
        .fetch_index("v1/exports/index.txt")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::KeyServerResponse(_)), "{err}");

    // Nobody listening: unreachable, after the tries.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let err = quick(&url).fetch_config().await.unwrap_err();
    assert!(matches!(err, Error::KeyServerUnreachable { .. }), "{err}");
    assert!(err.to_string().contains("try again"), "{err}");
}

/// Publishes `count` exports on `running`, each of one case's key; returns their names.
async fn publish_exports(running: &Running, count: usize) -> Vec<String> {
    let client = http();
    let token = officer_token(running).await;
    let uploader = KeyServerClient::new(ClientConfig::new(&running.url)).unwrap();
    let sealing = uploader.sealing_key().await.unwrap();
    let today = day_of_ms(SystemClock.now_ms());
    let mut names = Vec::new();
    for _ in 0..count {
        let code = issue_code(&client, &running.url, &token, "confirmed", None).await;
        let payload = openzone_core::keyserver::wire::UploadPayload {
            checkins: Vec::new(),
            code,
            // The day before yesterday: yesterday's key may still be inside the publication delay
            // (its end plus the matching tolerance) in the first hours of a UTC day.
            keys: vec![openzone_tests::keyserver_fixture::upload_key(
                random_tek(),
                (today - 2) * 144,
                144,
            )],
        };
        uploader.publish(&sealing, &payload).await.unwrap();
        names.push(
            running.server.publish_now().await.unwrap().exports[0]
                .0
                .clone(),
        );
    }
    names
}

/// A phone in `dir`, pinning the key of `running`, that syncs through a front to it: the front counts the
/// downloads of exports in `downloads` and answers each request with what `serve` makes of its path and
/// the server's answer.
async fn phone_behind_front(
    running: &Running,
    dir: &std::path::Path,
    downloads: Arc<AtomicUsize>,
    serve: impl Fn(&str, Vec<u8>) -> (StatusCode, Vec<u8>) + Clone + Send + Sync + 'static,
) -> Phone {
    let upstream = running.url.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let (downloads, upstream, serve) = (downloads.clone(), upstream.clone(), serve.clone());
        async move {
            let path = uri.path().trim_start_matches('/').to_owned();
            if path.ends_with(".zip") {
                downloads.fetch_add(1, Ordering::SeqCst);
            }
            let body = http()
                .get(format!("{upstream}{path}"))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            serve(&path, body.to_vec())
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut config = ClientConfig::new(&url);
    config.initial_backoff = Duration::from_millis(10);
    config.max_backoff = Duration::from_millis(20);
    let client = KeyServerClient::new(config).unwrap();
    let clock = ManualClock::new(SystemClock.now_ms());
    phone(dir, &clock, &client, &[running.server.verification_key()])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_sync_resumes_where_it_stopped() {
    // Two exports on a real server, behind a front that can fail the second one's download.
    let (_data, running) = start_temp(small_hourly_exports).await;
    let names = publish_exports(&running, 2).await;
    let fail_second = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let downloads = Arc::new(AtomicUsize::new(0));
    let (flag, second) = (fail_second.clone(), names[1].clone());
    let dir = tempfile::tempdir().unwrap();
    let listener = phone_behind_front(
        &running,
        dir.path(),
        downloads.clone(),
        move |path, body| {
            if path.ends_with(&second) && flag.load(Ordering::SeqCst) {
                (StatusCode::BAD_GATEWAY, Vec::new())
            } else {
                (StatusCode::OK, body)
            }
        },
    )
    .await;
    // One export that cannot be downloaded does not stop the sync: the other is checked.
    let first = listener.sync().await.unwrap();
    assert_eq!(first.exports_checked, 1);
    assert_eq!(first.exports_failed.len(), 1);
    assert_eq!(first.exports_failed[0].0, names[1]);
    assert!(
        first.exports_failed[0].1.contains("502"),
        "{:?}",
        first.exports_failed
    );
    assert_eq!(
        downloads.load(Ordering::SeqCst),
        1 + 4,
        "the first export once, the second 4 times"
    );

    // The network is back: only the second export is downloaded.
    fail_second.store(false, Ordering::SeqCst);
    let report = listener.sync().await.unwrap();
    assert_eq!(
        (report.exports_checked, report.exports_already_checked),
        (1, 1)
    );
    assert_eq!(downloads.load(Ordering::SeqCst), 6);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_export_is_rejected_once_and_the_sound_one_checked() {
    // Two exports on a real server, behind a front that cuts the first one's zip short.
    let (_data, running) = start_temp(small_hourly_exports).await;
    let names = publish_exports(&running, 2).await;
    let downloads = Arc::new(AtomicUsize::new(0));
    let damaged = names[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let listener = phone_behind_front(
        &running,
        dir.path(),
        downloads.clone(),
        move |path, mut body| {
            if path.ends_with(&damaged) {
                body.truncate(body.len() - 30);
            }
            (StatusCode::OK, body)
        },
    )
    .await;
    let first = listener.sync().await.unwrap();
    assert_eq!(first.exports_checked, 1);
    assert!(first.keys_processed > 0, "{first:?}");
    assert_eq!(first.exports_rejected.len(), 1, "{first:?}");
    assert_eq!(first.exports_rejected[0].0, names[0]);
    assert!(first.exports_failed.is_empty(), "{first:?}");
    assert_eq!(downloads.load(Ordering::SeqCst), 2);
    // Remembered as rejected: not downloaded again.
    let again = listener.sync().await.unwrap();
    assert_eq!(
        (again.exports_rejected.len(), again.exports_already_checked),
        (0, 2)
    );
    assert_eq!(downloads.load(Ordering::SeqCst), 2);
    running.stop().await;
}
