//! The operator's `/metrics`: on a listener of its own (the public port answers 404), in Prometheus'
//! text format (parsed here: every sample belongs to a family with HELP and TYPE lines, labels and
//! values well formed), and counting what happened: accepted, repeated, refused (by reason) and fake
//! uploads, codes issued and used, publication runs and the keys of their exports, database latency per
//! operation, the lease.
//!
//! Runs on the embedded database, or on PostgreSQL with `OPENZONE_TEST_BACKEND=postgres` (as the other
//! keyserver_* tests).

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use openzone_core::keyserver::seal::seal;
use openzone_core::keyserver::wire::{FakeUpload, Upload, UploadPayload};
use openzone_server::ServerConfig;
use openzone_tests::clock::ManualClock;
use openzone_tests::keyserver_fixture::{
    announced_sealing_key, http, issue_code, officer_token, post_upload, random_tek, sealed,
    sign_in, start, upload, upload_key, DAY, NOON_MS,
};
use openzone_tests::postgres_fixture::server_config;

/// One sample line: `name{label="value",...} value`.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A metrics page, parsed: each family's type, and the samples.
#[derive(Debug, Default)]
struct Exposition {
    types: HashMap<String, String>,
    samples: Vec<Sample>,
}

impl Exposition {
    /// Parses OpenMetrics text as prometheus-client writes it; panics (failing the test) on anything
    /// malformed.
    fn parse(text: &str) -> Self {
        let mut page = Self::default();
        let mut helps = HashMap::new();
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            if line == "# EOF" {
                assert!(lines.peek().is_none(), "text after # EOF");
                return page.checked(&helps);
            }
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').expect("HELP name text");
                assert!(!help.trim().is_empty(), "{name} has an empty HELP");
                helps.insert(name.to_owned(), help.to_owned());
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("TYPE name type");
                assert!(
                    ["counter", "gauge", "histogram"].contains(&kind),
                    "{name}: unexpected type {kind}"
                );
                page.types.insert(name.to_owned(), kind.to_owned());
            } else if line.starts_with("# UNIT ") {
            } else {
                assert!(!line.starts_with('#'), "unknown comment {line:?}");
                page.samples.push(sample(line));
            }
        }
        panic!("the page does not end with # EOF");
    }

    /// Every sample belongs to a family declared before with HELP and TYPE, under a suffix its type
    /// allows; names are `openzone_`.
    fn checked(self, helps: &HashMap<String, String>) -> Self {
        for family in self.types.keys() {
            assert!(helps.contains_key(family), "{family} has no HELP");
            assert!(family.starts_with("openzone_"), "{family}");
        }
        for sample in &self.samples {
            let family = self.family_of(&sample.name);
            let kind = &self.types[family];
            let suffix = &sample.name[family.len()..];
            let allowed: &[&str] = match kind.as_str() {
                "counter" => &["_total", "_created"],
                "gauge" => &[""],
                _ => &["_bucket", "_sum", "_count", "_created"],
            };
            assert!(allowed.contains(&suffix), "{} in a {kind}", sample.name);
            if suffix == "_bucket" {
                assert!(sample.labels.contains_key("le"), "{sample:?}");
            }
        }
        self
    }

    /// The declared family `name` is a sample of (the longest declared prefix).
    fn family_of(&self, name: &str) -> &str {
        self.types
            .keys()
            .filter(|family| name.starts_with(family.as_str()))
            .max_by_key(|family| family.len())
            .unwrap_or_else(|| panic!("{name} belongs to no declared family"))
    }

    /// The value of the series `name{label="value",...}`, or 0 if it was never created.
    fn value(&self, series: &str) -> f64 {
        let wanted = sample(&format!("{series} 0"));
        let found: Vec<f64> = self
            .samples
            .iter()
            .filter(|s| s.name == wanted.name && s.labels == wanted.labels)
            .map(|s| s.value)
            .collect();
        assert!(found.len() <= 1, "{series} appears twice");
        found.first().copied().unwrap_or(0.0)
    }
}

/// Parses `name{k="v",...} value`.
fn sample(line: &str) -> Sample {
    let (series, value) = line.rsplit_once(' ').expect("a series and a value");
    let value: f64 = value
        .parse()
        .unwrap_or_else(|_| panic!("{line:?}: the value is not a number"));
    let (name, labels) = match series.split_once('{') {
        None => (series, BTreeMap::new()),
        Some((name, rest)) => {
            let inner = rest.strip_suffix('}').expect("labels end with }");
            let labels = inner
                .split(',')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (key, quoted) = pair.split_once('=').expect("label=\"value\"");
                    let value = quoted
                        .strip_prefix('"')
                        .and_then(|v| v.strip_suffix('"'))
                        .expect("a quoted label value");
                    assert!(is_name(key), "label name {key:?}");
                    (key.to_owned(), value.to_owned())
                })
                .collect();
            (name, labels)
        }
    };
    assert!(is_name(name), "metric name {name:?}");
    Sample {
        name: name.to_owned(),
        labels,
        value,
    }
}

/// A Prometheus metric or label name.
fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `GET url`: the status, the content type and the body.
async fn get(url: &str) -> (u16, String, String) {
    let response = http().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

fn config(dir: &std::path::Path, clock: std::sync::Arc<ManualClock>) -> ServerConfig {
    let mut config = server_config(dir);
    config.clock = clock;
    config.publication.cadence = Duration::from_secs(3_600);
    config.publication.min_batch = 10;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_uploads_codes_and_publication_on_their_own_port() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(NOON_MS);
    let running = start(config(dir.path(), clock.clone())).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_url = format!("http://{}/metrics", listener.local_addr().unwrap());
    tokio::spawn(
        running
            .server
            .clone()
            .serve_metrics(listener, std::future::pending()),
    );
    let scrape = || async {
        let (status, content_type, body) = get(&metrics_url).await;
        assert_eq!(status, 200);
        assert_eq!(
            content_type,
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
        Exposition::parse(&body)
    };

    // Not on the public port, and nothing of the public API on the metrics port.
    assert_eq!(get(&format!("{}metrics", running.url)).await.0, 404);
    assert_eq!(
        get(&metrics_url.replace("/metrics", "/v1/config")).await.0,
        404
    );

    // The publication loop's first run (at once, on an empty database) before anything is uploaded, so
    // that the one run below publishes every key.
    let deadline = Instant::now() + Duration::from_secs(60);
    while scrape()
        .await
        .value(r#"openzone_publication_runs_total{result="nothing_due"}"#)
        < 1.0
    {
        assert!(Instant::now() < deadline, "the first publication never ran");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let key = announced_sealing_key(&running.url).await;
    let token = officer_token(&running).await;
    let client = http();
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(issue_code(&client, &running.url, &token, "confirmed", None).await);
    }
    // An officer with a quota of one code a day: the second request is refused.
    running
        .server
        .accounts()
        .add_officer("clerk", "the clerk's test password", 1)
        .await
        .unwrap();
    let clerk = sign_in(&client, &running.url, "clerk", "the clerk's test password")
        .await
        .unwrap();
    issue_code(&client, &running.url, &clerk, "confirmed", None).await;
    let refused = client
        .post(format!("{}v1/admin/codes", running.url))
        .bearer_auth(&clerk)
        .header("content-type", "application/json")
        .body(r#"{"test_type": "confirmed"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    let keys = || vec![upload_key(random_tek(), (DAY - 1) * 144, 144)];
    // Accepted, then its code again with other keys: used.
    assert_eq!(upload(&running.url, &key, &codes[0], keys()).await.0, 200);
    assert_eq!(
        upload(&running.url, &key, &codes[0], keys()).await.1,
        "code_used"
    );
    // Accepted, then the very same body again: a repeat.
    let body = sealed(
        &key,
        &UploadPayload {
            code: codes[1].clone(),
            keys: keys(),
            checkins: Vec::new(),
        },
    );
    assert_eq!(
        post_upload(&client, &running.url, body.clone(), None)
            .await
            .0,
        200
    );
    assert_eq!(post_upload(&client, &running.url, body, None).await.0, 200);
    // Refusals: a code never issued, a body that does not open.
    assert_eq!(
        upload(&running.url, &key, "12345678", keys()).await.1,
        "code_unknown"
    );
    assert_eq!(
        post_upload(&client, &running.url, vec![7; 600], None)
            .await
            .1,
        "bad_seal"
    );
    // Chaff.
    let fake = Upload::Fake(FakeUpload {
        fake: true,
        pretend_keys: 3,
    });
    let fake = seal(&key, &fake.to_padded_plaintext()).unwrap();
    assert_eq!(post_upload(&client, &running.url, fake, None).await.0, 200);
    // A code past its validity (one hour).
    clock.set(NOON_MS + 2 * 3_600_000);
    assert_eq!(
        upload(&running.url, &key, &codes[2], keys()).await.1,
        "code_expired"
    );
    let report = running.server.publish_now().await.unwrap();
    assert_eq!(report.exports.len(), 1);
    assert_eq!(report.exports[0].1, 2);

    // A visitor-log post that is not a sealed entry, and a venue warning that is not one.
    for path in [
        format!("v1/inbox/{}", "ab".repeat(32)),
        "v1/admin/warnings".into(),
    ] {
        let answer = client
            .post(format!("{}{path}", running.url))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 400, "{path}");
    }

    let page = scrape().await;
    for line in [
        r#"openzone_requests_total{route="inbox_post",outcome="malformed"} 1"#,
        r#"openzone_requests_total{route="warning",outcome="malformed"} 1"#,
        r#"openzone_uploads_accepted_total{kind="new"} 2"#,
        r#"openzone_uploads_accepted_total{kind="repeat"} 1"#,
        r#"openzone_uploads_refused_total{reason="code_used"} 1"#,
        r#"openzone_uploads_refused_total{reason="code_unknown"} 1"#,
        r#"openzone_uploads_refused_total{reason="bad_seal"} 1"#,
        r#"openzone_uploads_refused_total{reason="code_expired"} 1"#,
        "openzone_fake_uploads_total 1",
        "openzone_codes_issued_total 4",
        r#"openzone_codes_refused_total{reason="quota_exceeded"} 1"#,
        "openzone_codes_used_total 2",
        r#"openzone_publication_runs_total{result="nothing_due"} 1"#,
        r#"openzone_publication_runs_total{result="published"} 1"#,
        r#"openzone_publication_runs_total{result="failed"} 0"#,
        "openzone_publication_duration_seconds_count 2",
        "openzone_publication_batch_keys_count 1",
        "openzone_publication_batch_keys_sum 2",
        r#"openzone_publication_batch_keys_bucket{le="2.0"} 1"#,
        "openzone_publication_lease_held 1",
    ] {
        let (series, expected) = line.rsplit_once(' ').unwrap();
        assert_eq!(
            page.value(series),
            expected.parse::<f64>().unwrap(),
            "{line}"
        );
    }
    for (family, kind) in [
        ("openzone_uploads_accepted", "counter"),
        ("openzone_uploads_refused", "counter"),
        ("openzone_fake_uploads", "counter"),
        ("openzone_codes_issued", "counter"),
        ("openzone_codes_refused", "counter"),
        ("openzone_codes_used", "counter"),
        ("openzone_requests", "counter"),
        ("openzone_publication_runs", "counter"),
        ("openzone_publication_duration_seconds", "histogram"),
        ("openzone_publication_batch_keys", "histogram"),
        ("openzone_database_latency_seconds", "histogram"),
        ("openzone_publication_lease_held", "gauge"),
    ] {
        assert_eq!(page.types[family], kind, "{family}");
    }
    // Every operation of the storage layer was timed, whichever the backend.
    for operation in ["get", "scan", "commit", "next_id"] {
        let count = page.value(&format!(
            r#"openzone_database_latency_seconds_count{{operation="{operation}"}}"#
        ));
        assert!(count >= 1.0, "{operation} was never timed");
        let all = page.value(&format!(
            r#"openzone_database_latency_seconds_bucket{{le="+Inf",operation="{operation}"}}"#
        ));
        assert_eq!(all, count, "{operation}: +Inf bucket and count differ");
    }
    running.stop().await;
}
