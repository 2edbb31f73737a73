//! Nobody watching can tell who reported: every upload is padded to one size on the wire, fake uploads
//! (chaff) look and are answered like real ones and are dropped, exports are padded by a random amount
//! with fake keys drawn from the real keys of the last days, and a same-day key is published whole
//! after its day, so its length does not give away the time of the report.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use openzone_core::export::ExportKey;
use openzone_core::keyserver::wire::{PublishResponse, UploadKey, UploadPayload};
use openzone_core::keyserver::{ClientConfig, KeyServerClient};
use openzone_core::seeded::SplitMix64;
use openzone_core::time::format_day;
use openzone_tests::clock::ManualClock;
use openzone_tests::keyserver_fixture::{
    get_json, http, issue_code, officer_token, random_tek, read_local_exports, start, upload_key,
    TestServer, DAY, NOON_MS,
};
use openzone_tests::postgres_fixture::server_config;

/// What a front server saw of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    path: String,
    content_type: String,
    content_length: String,
    body_len: usize,
}

/// A server that records every request and answers like the key server does to an accepted upload.
async fn recording_front() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let app = axum::Router::new().fallback(
        move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
            let log = log.clone();
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                log.lock().unwrap().push(Seen {
                    path: uri.path().to_owned(),
                    content_type: header("content-type"),
                    content_length: header("content-length"),
                    body_len: body.len(),
                });
                axum::Json(PublishResponse {
                    accepted_keys: 3,
                    repeated: false,
                })
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

fn keys(n: u32) -> Vec<UploadKey> {
    (0..n)
        .map(|i| UploadKey {
            days_since_onset: Some(-14),
            ..upload_key(random_tek(), (DAY - 1 - i) * 144, 144)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_and_fake_uploads_are_the_same_size_on_the_wire() {
    let (url, seen) = recording_front().await;
    let client = KeyServerClient::new(ClientConfig::new(&url)).unwrap();
    let key = openzone_core::keyserver::seal::SealingSecret::generate()
        .unwrap()
        .public_key();
    for n in [1, 2, 7, 15] {
        let payload = UploadPayload {
            checkins: Vec::new(),
            code: "12345678".into(),
            keys: keys(n),
        };
        client.publish(&key, &payload).await.unwrap();
    }
    for pretend in [1, 15] {
        let answer = client.publish_fake(&key, pretend).await.unwrap();
        assert!(!answer.repeated);
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 6);
    for request in &seen {
        assert_eq!(request, &seen[0], "every upload looks the same: {seen:?}");
    }
    assert_eq!(seen[0].path, "/v1/publish");
    assert_eq!(seen[0].content_type, "application/octet-stream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fake_upload_is_answered_like_a_real_one_and_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = server_config(dir.path());
    config.clock = ManualClock::new(NOON_MS);
    let running = start(config).await;
    let token = officer_token(&running).await;
    let client = KeyServerClient::new(ClientConfig::new(&running.url)).unwrap();
    let key = client.sealing_key().await.unwrap();

    let code = issue_code(&http(), &running.url, &token, "confirmed", None).await;
    let real = client
        .publish(
            &key,
            &UploadPayload {
                checkins: Vec::new(),
                code,
                keys: keys(3),
            },
        )
        .await
        .unwrap();
    let fake = client.publish_fake(&key, 3).await.unwrap();
    assert_eq!(fake, real, "a fake upload gets a real upload's answer");
    // Many fakes from one phone: none is a failed code attempt, none is stored or counted.
    for _ in 0..30 {
        client.publish_fake(&key, 5).await.unwrap();
    }
    let after = get_json(&format!("{}v1/admin/stats", running.url), &token).await;
    assert_eq!(after["codes_used"], 1);
    assert_eq!(after["keys_pending"], 3);
    running.stop().await;
}

/// What an observer sees of a key besides its bytes.
type Shape = (u32, u32, i32, Option<i32>, Option<u8>);

fn shape(k: &ExportKey) -> Shape {
    (
        k.key.rolling_start_interval,
        k.key.rolling_period,
        k.report_type.as_i32(),
        k.days_since_onset,
        k.transmission_risk_level,
    )
}

/// Total variation distance between the empirical distributions of two samples.
fn distance(a: &[Shape], b: &[Shape]) -> f64 {
    let mut counts: HashMap<Shape, (f64, f64)> = HashMap::new();
    for s in a {
        counts.entry(*s).or_default().0 += 1.0;
    }
    for s in b {
        counts.entry(*s).or_default().1 += 1.0;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    counts
        .values()
        .map(|(x, y)| (x / na - y / nb).abs())
        .sum::<f64>()
        / 2.0
}

/// Two-sample permutation test on the total variation distance: the share of random relabellings at
/// least as far apart as the samples (a p-value; small means the samples differ).
fn permutation_p_value(a: &[Shape], b: &[Shape], rounds: usize, rng: &mut SplitMix64) -> f64 {
    let observed = distance(a, b);
    let mut pooled: Vec<Shape> = a.iter().chain(b).copied().collect();
    let mut as_far = 0;
    for _ in 0..rounds {
        for i in (1..pooled.len()).rev() {
            let j = rng.between(0, i as u64) as usize;
            pooled.swap(i, j);
        }
        if distance(&pooled[..a.len()], &pooled[a.len()..]) >= observed {
            as_far += 1;
        }
    }
    (as_far + 1) as f64 / (rounds + 1) as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn padded_keys_cannot_be_told_from_the_real_keys_of_the_last_days() {
    let mut s = TestServer::at(NOON_MS - 10 * 86_400_000, |config| {
        config.publication.min_batch = 100;
    })
    .await;
    let mut rng = SplitMix64::new(19);
    let mut real_teks = HashSet::new();

    // Ten busy days: four reports a day, each with its own onset, confirmation and number of keys.
    for day in DAY - 10..DAY {
        s.clock.set(u64::from(day) * 86_400_000 + 12 * 3_600_000);
        // A session lasts 12 hours: the officer signs in each day.
        s.token = officer_token(&s.running).await;
        for _ in 0..4 {
            let onset = day - rng.between(0, 4) as u32;
            let n = rng.between(2, 8) as u32;
            let keys: Vec<UploadKey> = (1..=n)
                .map(|back| upload_key(random_tek(), (day - back) * 144, 144))
                .collect();
            real_teks.extend(keys.iter().map(|k| k.key.clone()));
            let test_type = if rng.between(0, 3) == 0 {
                "likely"
            } else {
                "confirmed"
            };
            s.report(test_type, Some(&format_day(onset)), keys).await;
        }
        s.running.server.publish_now().await.unwrap();
    }
    // A quiet hour: one student reports, alone.
    s.clock.set(NOON_MS);
    s.token = officer_token(&s.running).await;
    let lone: Vec<UploadKey> = (1..=3)
        .map(|back| upload_key(random_tek(), (DAY - back) * 144, 144))
        .collect();
    real_teks.extend(lone.iter().map(|k| k.key.clone()));
    s.report("confirmed", Some(&format_day(DAY - 1)), lone)
        .await;
    let report = s.running.server.publish_now().await.unwrap();
    assert_eq!(report.exports.len(), 1);
    let quiet_name = report.exports[0].0.clone();

    let exports = read_local_exports(
        &s.dir.path().join("exports"),
        &s.running.server.verification_key(),
    );
    let is_real = |k: &ExportKey| real_teks.contains(&hex::encode(k.key.tek.as_bytes()));
    let real: Vec<Shape> = exports
        .iter()
        .flat_map(|(_, keys)| keys.iter().filter(|k| is_real(k)).map(shape))
        .collect();
    let quiet = &exports.iter().find(|(n, _)| *n == quiet_name).unwrap().1;
    let fakes: Vec<Shape> = quiet.iter().filter(|k| !is_real(k)).map(shape).collect();
    assert!(fakes.len() >= 97, "{}", fakes.len());
    let p = permutation_p_value(&fakes, &real, 4_999, &mut SplitMix64::new(7));
    assert!(
        p > 0.001,
        "the fake keys of the quiet hour differ from the real keys of the last days (p = {p})"
    );
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_are_padded_by_a_random_amount() {
    let s = TestServer::at_noon(|config| config.publication.min_batch = 100).await;
    let (clock, running) = (&s.clock, &s.running);
    let mut totals = Vec::new();
    for hour in 0..12 {
        clock.set(NOON_MS + hour * 3_600_000);
        s.report(
            "confirmed",
            None,
            vec![upload_key(random_tek(), (DAY - 1) * 144, 144)],
        )
        .await;
        let report = running.server.publish_now().await.unwrap();
        let (_, real, total) = report.exports[0].clone();
        assert_eq!(real, 1);
        assert!(total >= 100, "{total}");
        totals.push(total);
    }
    assert!(
        totals.iter().collect::<HashSet<_>>().len() > 1,
        "every export has the same size: {totals:?}"
    );
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_same_day_key_is_published_whole_after_its_day() {
    let s = TestServer::at_noon(|config| config.publication.min_batch = 10).await;
    let (dir, clock, running) = (&s.dir, &s.clock, &s.running);
    // Reported at 12:00: today's key ends with this interval (same-day release).
    let today = random_tek();
    s.report("confirmed", None, vec![upload_key(today, DAY * 144, 73)])
        .await;
    let find = |exports: &[(String, Vec<ExportKey>)]| {
        exports
            .iter()
            .flat_map(|(_, keys)| keys.iter())
            .find(|k| *k.key.tek.as_bytes() == today)
            .cloned()
    };
    let exports_dir = dir.path().join("exports");
    let verification = running.server.verification_key();
    // Two hours after its last interval, and in the evening: still waiting for the day to end.
    for at in [NOON_MS + 2 * 3_600_000 + 600_000, NOON_MS + 11 * 3_600_000] {
        clock.set(at);
        running.server.publish_now().await.unwrap();
        assert!(
            find(&read_local_exports(&exports_dir, &verification)).is_none(),
            "the same-day key was published before its day was over"
        );
    }
    // The next day, after the publication delay: published, covering the whole day.
    clock.set(u64::from(DAY + 1) * 86_400_000 + 2 * 3_600_000);
    running.server.publish_now().await.unwrap();
    let published = find(&read_local_exports(&exports_dir, &verification)).unwrap();
    assert_eq!(published.key.rolling_start_interval, DAY * 144);
    assert_eq!(published.key.rolling_period, 144);
    s.running.stop().await;
}
