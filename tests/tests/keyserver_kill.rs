//! Crash safety of publication: a key server child process publishes continuously while uploads arrive;
//! the test kills it with SIGKILL at random moments, many times. After every kill, `index.txt` lists only
//! complete files that verify, and no key is in two of them; after the last restart, every acknowledged
//! key is in exactly one listed export and no file outside the index is left. With
//! `OPENZONE_TEST_BACKEND=postgres` the child keeps its records in PostgreSQL (`postgres_fixture`).

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openzone_core::export::signing::VerificationKey;
use openzone_core::keyserver::seal::SealingPublicKey;
use openzone_core::keyserver::wire::UploadPayload;
use openzone_core::keyserver::{ClientConfig, KeyServerClient};
use openzone_core::time::{day_of_ms, Clock, SystemClock};
use openzone_tests::keyserver_fixture::{
    config_doc, http, random_tek, read_local_exports, sign_in, upload_key, ChildServer, OFFICER,
    OFFICER_PASSWORD,
};
use openzone_tests::postgres_fixture::database_url;

const ROUNDS: usize = 24;

/// The child's publication lease on PostgreSQL (the embedded database needs none).
const CHILD_LEASE: Duration = Duration::from_millis(300);

/// The steps of a publication where a crash changes what recovery must do (server/src/publication.rs).
const FAILPOINTS: [&str; 3] = [
    "publication-assigned",
    "publication-written",
    "publication-listed",
];

/// A small xorshift generator: the seed is printed so that a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn spawn(dir: &std::path::Path, failpoint: Option<&str>) -> ChildServer {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keyserver-child"));
    if let Some(point) = failpoint {
        command.env("OPENZONE_FAILPOINT", point);
    }
    // On PostgreSQL the data directory's own database, with a short publication lease that the killed
    // child's successor waits out: starting with the lease, it repairs at startup and reports what it
    // repaired, as on the embedded database. (Taking a lease over from a dead replica while running is
    // keyserver_replicas's case.)
    if let Some(database) = database_url(dir) {
        std::thread::sleep(CHILD_LEASE + Duration::from_millis(50));
        command.env("OPENZONE_CHILD_DATABASE", database).env(
            "OPENZONE_CHILD_LEASE_MS",
            CHILD_LEASE.as_millis().to_string(),
        );
    }
    command.arg(dir);
    ChildServer::spawn(command)
}

/// Checks what a crash may never break: every listed file is complete and verifies, no key is listed
/// twice. Returns every key listed.
fn check_index(exports: &std::path::Path, key: &VerificationKey) -> HashMap<[u8; 16], String> {
    let mut seen = HashMap::new();
    for (name, keys) in read_local_exports(exports, key) {
        for k in keys {
            if let Some(other) = seen.insert(*k.key.tek.as_bytes(), name.clone()) {
                panic!("a key is in both {other} and {name}");
            }
        }
    }
    seen
}

/// Signs in, then uploads keys with fresh codes until stopped; records the keys of every acknowledged
/// upload. A server killed meanwhile ends the uploader, not the test.
async fn uploader(url: String, sealing: SealingPublicKey, acked: Arc<Mutex<Vec<[u8; 16]>>>) {
    let http = http();
    let Ok(token) = sign_in(&http, &url, OFFICER, OFFICER_PASSWORD).await else {
        return;
    };
    let mut config = ClientConfig::new(&url);
    config.max_attempts = 1;
    let Ok(phone) = KeyServerClient::new(config) else {
        return;
    };
    // Two days ago: ended more than the publication delay ago, at any hour.
    let day = day_of_ms(SystemClock.now_ms()) - 2;
    loop {
        let Ok(code) = issue_code_quietly(http.clone(), url.clone(), token.clone()).await else {
            return;
        };
        let teks = [random_tek(), random_tek()];
        let payload = UploadPayload {
            checkins: Vec::new(),
            code,
            keys: teks
                .iter()
                .map(|t| upload_key(*t, day * 144, 144))
                .collect(),
        };
        match phone.publish(&sealing, &payload).await {
            Ok(answer) if !answer.repeated => acked.lock().unwrap().extend(teks),
            Ok(_) => panic!("a fresh code was reported as a repeat"),
            Err(_) => return,
        }
    }
}

/// Issues a code; an error (the server was killed) ends the uploader instead of the test.
async fn issue_code_quietly(
    http: reqwest::Client,
    url: String,
    token: String,
) -> Result<String, ()> {
    let response = http
        .post(format!("{url}v1/admin/codes"))
        .bearer_auth(token)
        .body(r#"{"test_type":"confirmed"}"#)
        .send()
        .await
        .map_err(|_| ())?;
    if response.status() != 201 {
        return Err(());
    }
    let answer: serde_json::Value =
        serde_json::from_slice(&response.bytes().await.map_err(|_| ())?).map_err(|_| ())?;
    answer["code"].as_str().map(str::to_owned).ok_or(())
}

#[test]
fn sigkill_during_publication_loses_and_repeats_nothing() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| SystemClock.now_ms() | 1);
    println!("CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let exports = data.path().join("exports");
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut verification: Option<VerificationKey> = None;
    let mut sealing: Option<SealingPublicKey> = None;
    let mut repaired = [0u64; 3];

    for round in 0..ROUNDS {
        // Every fourth round crashes at an exact step of a publication (the process aborts itself
        // there); the others are killed at a random moment.
        let failpoint = (round % 4 == 3).then(|| FAILPOINTS[(round / 4) % FAILPOINTS.len()]);
        let mut server = spawn(data.path(), failpoint);
        for (total, n) in repaired.iter_mut().zip(server.reconciled) {
            *total += n;
        }
        let url = server.url.clone();
        // A server that will crash at a failpoint may do so before it answers anything (keys left
        // pending by the previous round are published at once): it gets no questions.
        if failpoint.is_none() {
            let doc = runtime.block_on(config_doc(&url));
            let key = doc.export_signing_keys[0].verification_key().unwrap();
            assert_eq!(
                verification.get_or_insert_with(|| key.clone()),
                &key,
                "the signing key survives restarts"
            );
            let public = doc.upload_sealing_key.public_key().unwrap();
            assert_eq!(
                *sealing.get_or_insert(public),
                public,
                "the sealing key survives restarts"
            );
        }
        let key = verification.clone().unwrap();
        let sealing = sealing.unwrap();
        let tasks: Vec<_> = (0..3)
            .map(|_| runtime.spawn(uploader(url.clone(), sealing, acked.clone())))
            .collect();
        if let Some(point) = failpoint {
            let deadline = Instant::now() + Duration::from_secs(30);
            while server.child.try_wait().unwrap().is_none() {
                assert!(
                    Instant::now() < deadline,
                    "the server never reached {point}"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        } else {
            std::thread::sleep(Duration::from_millis(100 + rng.next() % 1_200));
            server.child.kill().unwrap();
            server.child.wait().unwrap();
        }
        for task in tasks {
            task.abort();
        }
        let listed = check_index(&exports, &key);
        println!(
            "round {round} ({}): {} keys listed, {} acknowledged",
            failpoint.unwrap_or("SIGKILL"),
            listed.len(),
            acked.lock().unwrap().len()
        );
    }

    // A last start: reconciliation, then publication of everything acknowledged.
    let mut server = spawn(data.path(), None);
    for (total, n) in repaired.iter_mut().zip(server.reconciled) {
        *total += n;
    }
    let key = verification.unwrap();
    let acked: HashSet<[u8; 16]> = acked.lock().unwrap().iter().copied().collect();
    assert!(
        acked.len() > 100,
        "too few uploads were acknowledged to test anything: {}",
        acked.len()
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let listed = loop {
        let listed = check_index(&exports, &key);
        if acked.iter().all(|k| listed.contains_key(k)) {
            break listed;
        }
        assert!(
            Instant::now() < deadline,
            "acknowledged keys were never published"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    // Exactly once each (check_index refuses duplicates); nothing but listed files in the directory.
    assert!(acked.iter().all(|k| listed.contains_key(k)));
    let index = std::fs::read_to_string(exports.join("index.txt")).unwrap();
    let mut expected: HashSet<String> = index.lines().map(str::to_owned).collect();
    expected.insert("index.txt".into());
    let present: HashSet<String> = std::fs::read_dir(&exports)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    // The last kill may have left a file of an unfinished batch or a staging file; the next publisher
    // deletes them: at its start, or on PostgreSQL at its first run holding the lease (once the killed
    // one's lease has expired). Start once more, wait for the storage to match the index, and compare.
    let mut server = spawn(data.path(), None);
    let deadline = Instant::now() + Duration::from_secs(60);
    let (after_restart, index_now) = loop {
        let after_restart: HashSet<String> = std::fs::read_dir(&exports)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let index_now: HashSet<String> = std::fs::read_to_string(exports.join("index.txt"))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .chain(["index.txt".to_owned()])
            .collect();
        if after_restart == index_now || Instant::now() > deadline {
            break (after_restart, index_now);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    assert_eq!(
        after_restart, index_now,
        "files outside the index after a restart (before: {present:?})"
    );
    assert!(expected.is_subset(&index_now));
    println!(
        "repairs over all restarts: {} batches completed, {} rolled back, {} orphan files deleted",
        repaired[0], repaired[1], repaired[2]
    );
    // Each failpoint crashed twice: "listed" leaves batches to complete, the others batches to roll back.
    assert!(repaired[0] >= 2, "no interrupted batch was completed");
    assert!(repaired[1] >= 4, "no interrupted batch was rolled back");
}
