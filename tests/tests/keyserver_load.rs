//! A bounded load test on loopback: thousands of sealed uploads, valid and invalid, 256 at a time, with
//! some codes sent twice at the same moment with different keys. Afterwards every accepted key is in
//! exactly one export, no refused key is in any, and no code was used twice. Prints uploads per second
//! (docs/benchmarks.md, "Key server", records the figure and the command).

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use futures::StreamExt;
use openzone_core::keyserver::wire::UploadPayload;
use openzone_core::keyserver::{ClientConfig, KeyServerClient};
use openzone_core::time::{day_of_ms, Clock, SystemClock};
use openzone_core::Error;
use openzone_server::{RateLimits, SignInLimits};
use openzone_tests::keyserver_fixture::{
    get_json, http, issue_code, officer_token, random_tek, read_local_exports, start, upload_key,
};
use openzone_tests::postgres_fixture::server_config;

const VALID: usize = 1_500;
const UNKNOWN: usize = 1_000;
/// Valid codes that are also sent a second time, concurrently, with other keys.
const RACED: usize = 500;
const IN_FLIGHT: usize = 256;

#[derive(Debug)]
enum Kind {
    Valid(usize),
    Raced(usize),
    Unknown,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_concurrent_uploads_each_key_published_once() {
    let data = tempfile::tempdir().unwrap();
    let mut config = server_config(data.path());
    config.publication.cadence = Duration::from_secs(3_600);
    config.rate_limits = RateLimits {
        per_client_burst: 1e9,
        per_client_per_hour: 1e9,
        global_burst: 1e9,
        global_per_hour: 1e9,
    };
    // The officer's 64 concurrent code requests each hold a token of the bearer-check limiter while
    // they are checked; on a database slower than sled more are in flight at once than its burst.
    config.sign_in_limits = SignInLimits {
        per_client_burst: 1e9,
        per_client_per_hour: 1e9,
        per_officer_burst: 1e9,
        per_officer_per_hour: 1e9,
    };
    let running = start(config).await;
    let client = http();
    let token = officer_token(&running).await;
    let codes: Vec<String> = futures::stream::iter(0..VALID)
        .map(|_| issue_code(&client, &running.url, &token, "confirmed", None))
        .buffer_unordered(64)
        .collect()
        .await;
    assert_eq!(codes.iter().collect::<HashSet<_>>().len(), VALID);

    let mut config = ClientConfig::new(&running.url);
    config.max_attempts = 1;
    config.request_timeout = Duration::from_secs(120);
    let phone = KeyServerClient::new(config).unwrap();
    let sealing = phone.sealing_key().await.unwrap();
    // From two days ago back: ended more than the publication delay ago, at any hour.
    let today = day_of_ms(SystemClock.now_ms());
    let payload = |code: &str, n: usize| UploadPayload {
        checkins: Vec::new(),
        code: code.to_owned(),
        keys: (0..n)
            .map(|i| upload_key(random_tek(), (today - 2 - i as u32) * 144, 144))
            .collect(),
    };
    let mut uploads: Vec<(Kind, UploadPayload)> = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        uploads.push((Kind::Valid(i), payload(code, 1 + i % 12)));
        if i < RACED {
            uploads.push((Kind::Raced(i), payload(code, 1 + (i + 7) % 12)));
        }
    }
    let known: HashSet<&String> = codes.iter().collect();
    let mut unknown = 0;
    while unknown < UNKNOWN {
        let code = format!(
            "{:08}",
            u64::from_le_bytes(random_tek()[..8].try_into().unwrap()) % 100_000_000
        );
        if !known.contains(&code) {
            uploads.push((Kind::Unknown, payload(&code, 3)));
            unknown += 1;
        }
    }
    // Raced pairs sit next to each other, so they are in flight together.
    let total = uploads.len();

    let started = Instant::now();
    let results: Vec<(Kind, UploadPayload, Result<usize, Error>)> = futures::stream::iter(uploads)
        .map(|(kind, payload)| {
            let phone = &phone;
            let sealing = &sealing;
            async move {
                let result = phone
                    .publish(sealing, &payload)
                    .await
                    .map(|r| r.accepted_keys);
                (kind, payload, result)
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let elapsed = started.elapsed();

    let mut accepted_keys = HashSet::new();
    let mut refused_keys = HashSet::new();
    let mut successes_per_code: HashMap<String, usize> = HashMap::new();
    let mut accepted = 0;
    for (kind, payload, result) in &results {
        let teks = payload
            .keys
            .iter()
            .map(|k| k.exposure_key().unwrap().tek.as_bytes().to_owned());
        match (kind, result) {
            (Kind::Unknown, Err(Error::KeyServerRejected { code, .. }))
                if code == "code_unknown" =>
            {
                refused_keys.extend(teks)
            }
            (Kind::Valid(_) | Kind::Raced(_), Ok(n)) => {
                assert_eq!(*n, payload.keys.len());
                *successes_per_code.entry(payload.code.clone()).or_default() += 1;
                accepted += 1;
                accepted_keys.extend(teks);
            }
            (Kind::Valid(i) | Kind::Raced(i), Err(Error::KeyServerRejected { code, .. }))
                if code == "code_used" && *i < RACED =>
            {
                refused_keys.extend(teks)
            }
            (kind, result) => panic!("{kind:?}: unexpected {result:?}"),
        }
    }
    assert_eq!(accepted, VALID, "each valid code is accepted exactly once");
    assert!(
        successes_per_code.values().all(|&n| n == 1),
        "no code was used twice"
    );
    println!(
        "key server load: {total} sealed uploads ({accepted} accepted, {} refused), {IN_FLIGHT} in flight, in {:.2} s: {:.0} uploads/s",
        total - accepted,
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );

    let report = running.server.publish_now().await.unwrap();
    assert!(!report.exports.is_empty());
    let exports = read_local_exports(
        &data.path().join("exports"),
        &running.server.verification_key(),
    );
    let mut seen = HashSet::new();
    for (name, keys) in &exports {
        for k in keys {
            assert!(
                seen.insert(*k.key.tek.as_bytes()),
                "a key is in {name} and another export"
            );
        }
    }
    assert!(
        accepted_keys.iter().all(|k| seen.contains(k)),
        "an accepted key was not published"
    );
    assert!(
        refused_keys.iter().all(|k| !seen.contains(k)),
        "a refused key was published"
    );
    let stats = get_json(&format!("{}v1/admin/stats", running.url), &token).await;
    assert_eq!(stats["codes_used"], VALID);
    assert_eq!(stats["keys_published"], accepted_keys.len());
    running.stop().await;
}
