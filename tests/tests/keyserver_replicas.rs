//! Replicas on one PostgreSQL database, as a country runs the key server: three server processes share
//! the database and the export directory; concurrent clients, each from its own loopback address
//! (127.0.0.2 and up, so that per-client limits apply as in the field), get codes from officers (signed in
//! on one replica, their sessions serving requests on the others) and upload through any replica;
//! publication runs on whichever replica holds the lease.
//!
//! - [`UPLOADS`] uploads while the replica that took the lease first (the publisher, publishing every
//!   300 ms) is SIGKILLed and restarted: every acknowledged upload's keys are published exactly once,
//!   no key of a refused upload appears, no code is used twice.
//! - A publisher that dies in the middle of a batch: another replica takes the lease over, rolls the
//!   batch back and publishes its keys once.
//!
//! The database is a private cluster (`postgres_fixture::Cluster`), or a database made on the server of
//! `OPENZONE_TEST_DATABASE_URL` when that is set.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openzone_core::export::signing::VerificationKey;
use openzone_core::keyserver::seal::SealingPublicKey;
use openzone_core::keyserver::wire::UploadPayload;
use openzone_core::time::{day_of_ms, Clock, SystemClock};
use openzone_server::Accounts;
use openzone_tests::keyserver_fixture::{
    config_doc, get_json, http, http_from, random_tek, read_local_exports, sealed, sign_in,
    upload_key, ChildServer, OFFICER, OFFICER_PASSWORD,
};
use openzone_tests::postgres_fixture::{create_database, Cluster, DATABASE_VAR};

/// Uploads of the first run: the 20,000. Both tests of this file took 152 s together on an idle
/// 2-core machine (debug build, three replicas, the clients and PostgreSQL sharing the cores); under other
/// builds' load the uploads alone once took 309 s.
const UPLOADS: usize = 20_000;
/// Concurrent clients, each with its own loopback address.
const CLIENTS: usize = 48;
/// Keys per upload.
const KEYS_PER_UPLOAD: usize = 2;
/// The publication lease of the replicas: short, so that a dead publisher is replaced quickly.
const LEASE_MS: u64 = 3_000;

/// The officer account client `c` gets its codes from.
fn officer_of(c: usize) -> String {
    format!("nurse-{c}")
}

/// The database the replicas share: its URL, and the cluster that holds it (if the test made one).
fn database() -> (String, Option<Cluster>) {
    match std::env::var(DATABASE_VAR) {
        Ok(server) => (create_database(&server), None),
        Err(_) => {
            let cluster = Cluster::start(false);
            (create_database(&cluster.url), Some(cluster))
        }
    }
}

struct Replica {
    server: ChildServer,
    dir: PathBuf,
}

/// Starts a replica on its own data directory `dir`; `failpoint` makes it die there.
fn spawn(dir: &Path, database: &str, exports: &Path, failpoint: Option<&str>) -> Replica {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keyserver-child"));
    if let Some(point) = failpoint {
        command.env("OPENZONE_FAILPOINT", point);
    }
    command
        .arg(dir)
        .env("OPENZONE_CHILD_DATABASE", database)
        .env("OPENZONE_CHILD_EXPORTS", exports)
        .env("OPENZONE_CHILD_LEASE_MS", LEASE_MS.to_string())
        .env("OPENZONE_CHILD_MIN_BATCH", "100")
        .env("OPENZONE_CHILD_CADENCE_MS", "300")
        .env("OPENZONE_CHILD_FIELD_LIMITS", "1");
    Replica {
        server: ChildServer::spawn(command),
        dir: dir.to_owned(),
    }
}

/// Three replicas (the first with `failpoint`), the officers' accounts, and what the clients need.
struct Deployment {
    replicas: Arc<Mutex<Vec<Replica>>>,
    database: String,
    exports: PathBuf,
    _dirs: Vec<tempfile::TempDir>,
    _exports_dir: tempfile::TempDir,
    _cluster: Option<Cluster>,
}

impl Deployment {
    async fn start(first_failpoint: Option<&str>) -> Self {
        let (database, cluster) = database();
        let exports_dir = tempfile::tempdir().unwrap();
        let exports = exports_dir.path().to_owned();
        let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
        // One after the other: the first makes the shared secrets and takes the lease.
        let mut replicas = Vec::new();
        for (i, dir) in dirs.iter().enumerate() {
            let failpoint = if i == 0 { first_failpoint } else { None };
            replicas.push(spawn(dir.path(), &database, &exports, failpoint));
        }
        // One officer per client (a nurse gives codes one at a time; one account serving every client
        // at once would make its daily quota record the bottleneck). The first replica made the test
        // officer, who reads the counters.
        let accounts = Accounts::connect(&database).await.unwrap();
        for name in (0..CLIENTS).map(officer_of) {
            accounts
                .add_officer(&name, OFFICER_PASSWORD, u32::MAX)
                .await
                .unwrap();
        }
        Self {
            replicas: Arc::new(Mutex::new(replicas)),
            database,
            exports,
            _dirs: dirs,
            _exports_dir: exports_dir,
            _cluster: cluster,
        }
    }

    fn urls(&self) -> Vec<String> {
        self.replicas
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.server.url.clone())
            .collect()
    }

    /// SIGKILLs replica `i` and starts it again on the same data directory.
    fn kill_and_restart(&self, i: usize) {
        let mut replicas = self.replicas.lock().unwrap();
        replicas[i].server.child.kill().unwrap();
        replicas[i].server.child.wait().unwrap();
        let dir = replicas[i].dir.clone();
        replicas[i] = spawn(&dir, &self.database, &self.exports, None);
    }

    fn stop(&self) {
        for replica in self.replicas.lock().unwrap().iter_mut() {
            let _ = replica.server.child.kill();
            let _ = replica.server.child.wait();
        }
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the clients saw.
#[derive(Default)]
struct Outcome {
    /// Keys of acknowledged uploads.
    acked: Vec<[u8; 16]>,
    /// Keys of uploads the server refused.
    refused: Vec<[u8; 16]>,
    /// Codes of acknowledged uploads.
    codes: Vec<String>,
    /// Requests for a code whose answer was lost (the replica died or failed after the request was
    /// sent): each may have issued a code the client never saw, so the server may count up to this many
    /// codes beyond the uploads.
    unanswered_code_requests: usize,
}

/// An answer, and how many tries before it were lost (no answer, or a 5xx).
struct Answer {
    status: u16,
    body: Vec<u8>,
    lost: usize,
}

/// Posts `body` to `path` on the replicas, from the `first`-th on, until one answers other than 429 or
/// 5xx.
async fn post_to_any(
    client: &reqwest::Client,
    urls: &Arc<Mutex<Vec<String>>>,
    first: usize,
    path: &str,
    bearer: Option<&str>,
    body: Vec<u8>,
) -> Answer {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut i = first;
    let mut lost = 0;
    loop {
        let url = urls.lock().unwrap()[i % 3].clone();
        let mut request = client.post(format!("{url}{path}")).body(body.clone());
        if let Some(token) = bearer {
            request = request
                .bearer_auth(token)
                .header("content-type", "application/json");
        }
        let last = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                match response.bytes().await {
                    Ok(bytes) if status != 429 && status < 500 => {
                        return Answer {
                            status,
                            body: bytes.to_vec(),
                            lost,
                        }
                    }
                    // Refused for the rate: nothing was done.
                    Ok(bytes) if status == 429 => {
                        format!("{status} {}", String::from_utf8_lossy(&bytes))
                    }
                    Ok(bytes) => {
                        lost += 1;
                        format!("{status} {}", String::from_utf8_lossy(&bytes))
                    }
                    Err(e) => {
                        lost += 1;
                        format!("{status}, then {e}")
                    }
                }
            }
            Err(e) => {
                lost += 1;
                e.to_string()
            }
        };
        // A replica that is down (or a moment of overload): the same request goes to the next one.
        assert!(
            Instant::now() < deadline,
            "no replica answered {path} in a minute; the last answer: {last}"
        );
        i += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One client at `ip`: gets a code from the officer, uploads fresh keys with it (the very same sealed
/// body again, to another replica, if the answer is lost), and once tries a used code again with other
/// keys, which must be refused (once per client: the failure costs the client a token of its bucket and
/// everyone one of the global budget, which the test stays within).
async fn client(
    ip: IpAddr,
    c: usize,
    n: usize,
    urls: Arc<Mutex<Vec<String>>>,
    sealing: SealingPublicKey,
    done: Arc<AtomicUsize>,
    outcome: Arc<Mutex<Outcome>>,
) {
    let http = http_from(ip);
    // Signed in on one replica (the next if it does not answer: the first may have died at its
    // failpoint already); the session serves the requests that land on the others.
    let mut r = c;
    let token = loop {
        let url = urls.lock().unwrap()[r % 3].clone();
        match sign_in(&http, &url, &officer_of(c), OFFICER_PASSWORD).await {
            Ok(token) => break token,
            Err(0) if r < c + 3 => r += 1,
            Err(status) => panic!("no replica signed officer {c} in: {status}"),
        }
    };
    let day = day_of_ms(SystemClock.now_ms()) - 2;
    let mut last_code: Option<String> = None;
    for i in 0..n {
        let Answer { status, body, lost } = post_to_any(
            &http,
            &urls,
            i,
            "v1/admin/codes",
            Some(&token),
            serde_json::json!({ "test_type": "confirmed" })
                .to_string()
                .into_bytes(),
        )
        .await;
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        outcome.lock().unwrap().unanswered_code_requests += lost;
        let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let code = answer["code"].as_str().unwrap().to_owned();
        let teks: Vec<[u8; 16]> = (0..KEYS_PER_UPLOAD).map(|_| random_tek()).collect();
        let payload = UploadPayload {
            code: code.clone(),
            keys: teks
                .iter()
                .enumerate()
                .map(|(k, t)| upload_key(*t, (day - k as u32) * 144, 144))
                .collect(),
            checkins: Vec::new(),
        };
        let Answer { status, body, .. } = post_to_any(
            &http,
            &urls,
            i + 1,
            "v1/publish",
            None,
            sealed(&sealing, &payload),
        )
        .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        {
            let mut outcome = outcome.lock().unwrap();
            outcome.acked.extend(&teks);
            outcome.codes.push(code.clone());
        }
        if i == 5 {
            if let Some(used) = last_code.take() {
                let teks = [random_tek()];
                let payload = UploadPayload {
                    code: used,
                    keys: vec![upload_key(teks[0], day * 144, 144)],
                    checkins: Vec::new(),
                };
                let Answer { status, .. } = post_to_any(
                    &http,
                    &urls,
                    i + 2,
                    "v1/publish",
                    None,
                    sealed(&sealing, &payload),
                )
                .await;
                assert_eq!(status, 409, "a used code was accepted again");
                outcome.lock().unwrap().refused.extend(&teks);
            }
        }
        last_code = Some(code);
        done.fetch_add(1, Ordering::SeqCst);
    }
}

/// Runs `uploads` uploads through the deployment, calling `midway` once when a third are done.
async fn run_clients(deployment: &Deployment, uploads: usize, midway: impl FnOnce()) -> Outcome {
    let urls = Arc::new(Mutex::new(deployment.urls()));
    let first = urls.lock().unwrap()[0].clone();
    let sealing = config_doc(&first)
        .await
        .upload_sealing_key
        .public_key()
        .unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let outcome = Arc::new(Mutex::new(Outcome::default()));
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + c as u8));
            let n = uploads / CLIENTS + usize::from(c < uploads % CLIENTS);
            tokio::spawn(client(
                ip,
                c,
                n,
                Arc::clone(&urls),
                sealing,
                Arc::clone(&done),
                Arc::clone(&outcome),
            ))
        })
        .collect();
    // A client that fails (a panic) ends the test at once, instead of leaving it to wait for uploads
    // that will never be done.
    let mut tasks = tasks;
    let mut midway = Some(midway);
    while !tasks.is_empty() {
        if done.load(Ordering::SeqCst) >= uploads / 3 {
            if let Some(midway) = midway.take() {
                tokio::task::block_in_place(midway);
                *urls.lock().unwrap() = deployment.urls();
            }
        }
        if let Some(i) = tasks.iter().position(tokio::task::JoinHandle::is_finished) {
            tasks.swap_remove(i).await.unwrap();
            continue;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        midway.is_none(),
        "the clients finished before the midway step"
    );
    let taken = std::mem::take(&mut *outcome.lock().unwrap());
    taken
}

/// Waits until every acknowledged key is listed; checks each is listed once and no refused key is.
fn check_published(exports: &Path, key: &VerificationKey, outcome: &Outcome) {
    let acked: HashSet<[u8; 16]> = outcome.acked.iter().copied().collect();
    assert_eq!(acked.len(), outcome.acked.len());
    let deadline = Instant::now() + Duration::from_secs(120);
    let listed = loop {
        let mut listed: HashMap<[u8; 16], String> = HashMap::new();
        for (name, keys) in read_local_exports(exports, key) {
            for k in keys {
                if let Some(other) = listed.insert(*k.key.tek.as_bytes(), name.clone()) {
                    panic!("a key is in both {other} and {name}");
                }
            }
        }
        if acked.iter().all(|k| listed.contains_key(k)) {
            break listed;
        }
        assert!(
            Instant::now() < deadline,
            "{} acknowledged keys were never published",
            acked.iter().filter(|k| !listed.contains_key(*k)).count()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    for k in &outcome.refused {
        assert!(
            !listed.contains_key(k),
            "a refused upload's key was published"
        );
    }
}

async fn stats(url: &str) -> serde_json::Value {
    let token = sign_in(&http(), url, OFFICER, OFFICER_PASSWORD)
        .await
        .unwrap();
    get_json(&format!("{url}v1/admin/stats"), &token).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_one_killed_every_acknowledged_key_published_once() {
    let deployment = Deployment::start(None).await;
    let first = deployment.urls()[0].clone();
    let key = config_doc(&first).await.export_signing_keys[0]
        .verification_key()
        .unwrap();
    let started = Instant::now();
    let outcome = run_clients(&deployment, UPLOADS, || deployment.kill_and_restart(0)).await;
    println!(
        "{UPLOADS} uploads through 3 replicas in {:?} ({} refused reuses, {} code requests unanswered)",
        started.elapsed(),
        outcome.refused.len(),
        outcome.unanswered_code_requests
    );
    assert_eq!(outcome.codes.len(), UPLOADS);
    assert_eq!(
        outcome.codes.iter().collect::<HashSet<_>>().len(),
        UPLOADS,
        "a code was given out twice"
    );
    assert!(!outcome.refused.is_empty());
    check_published(&deployment.exports, &key, &outcome);
    // Each code was used once: the database counted exactly the acknowledged uploads.
    let stats = stats(&deployment.urls()[2]).await;
    assert_eq!(stats["codes_used"], UPLOADS as u64, "{stats}");
    // Every code a client saw was issued once; beyond them, only requests whose answer the kill lost
    // can have issued a code (committed, then the replica died before answering).
    let issued = stats["codes_issued"].as_u64().unwrap();
    let unanswered = outcome.unanswered_code_requests as u64;
    assert!(
        (UPLOADS as u64..=UPLOADS as u64 + unanswered).contains(&issued),
        "{issued} codes issued for {UPLOADS} uploads and {unanswered} unanswered code requests: {stats}"
    );
    assert_eq!(
        stats["keys_published"],
        (UPLOADS * KEYS_PER_UPLOAD) as u64,
        "{stats}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publisher_killed_mid_batch_is_replaced_and_its_batch_redone() {
    // The first replica holds the lease from its start and dies after writing its first export's
    // file, before the index lists it; the lease expires and another replica takes over.
    let deployment = Deployment::start(Some("publication-written")).await;
    let second = deployment.urls()[1].clone();
    let key = config_doc(&second).await.export_signing_keys[0]
        .verification_key()
        .unwrap();
    let uploads = 2_000;
    let outcome = run_clients(&deployment, uploads, || {}).await;
    check_published(&deployment.exports, &key, &outcome);
    let died = deployment.replicas.lock().unwrap()[0]
        .server
        .child
        .try_wait()
        .unwrap();
    assert!(
        died.is_some(),
        "the first replica never reached its failpoint"
    );
    let stats = stats(&second).await;
    assert_eq!(
        stats["keys_published"],
        (uploads * KEYS_PER_UPLOAD) as u64,
        "{stats}"
    );
    // Only listed exports and the index are left once the rolled-back batch's file is gone.
    let index: HashSet<String> = std::fs::read_to_string(deployment.exports.join("index.txt"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .chain(["index.txt".to_owned()])
        .collect();
    let present: HashSet<String> = std::fs::read_dir(&deployment.exports)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(present, index);
}
