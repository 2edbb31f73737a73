//! Load benchmark of the key server as it is deployed: the release `openzone serve` binary, on PostgreSQL
//! with N replicas or on the embedded database (one process), driven over HTTP on loopback.
//!
//! ```text
//! keyserver-bench [--openzone PATH] [--sled | --replicas N] [--uploads U] [--clients C]
//!                 [--keys-per-upload K] [--publish-keys P]
//! ```
//!
//! 1. Starts a private PostgreSQL cluster (`postgres_fixture::Cluster`, fsync on) and N replicas of
//!    `openzone serve --database URL` (or, with `--sled`, one `openzone serve --data DIR`), each with
//!    `--metrics-listen` and a publication cadence of a day: the one run at start finds nothing, so no
//!    publication competes with the uploads.
//! 2. Makes one officer account per client (quota unlimited); each client signs in and gets its codes.
//! 3. Times U uploads of K keys each (sealed before the clock starts) from C concurrent clients, each
//!    from its own loopback address (127.0.0.2 and up, as distinct phones), upload i of client c going
//!    to replica (c + i) mod N. Prints uploads per second and the p50 and p99 latency.
//! 4. Stops every replica (SIGTERM: they give the publication lease up) and starts one publisher on the
//!    same data; its first run, at once, publishes every key. Prints the time from its start to the run
//!    ending (its `/metrics` counts a `published` run), and the run's own duration from
//!    `openzone_publication_duration_seconds`; checks `/v1/admin/stats` counts every key published.
//!
//! `--publish-keys P` sets U so that the uploads carry P keys in all (100,000: one full export). `PATH`
//! defaults to `openzone` beside this binary (`target/release/` when both are built with `--release`).
//! The last line is `RESULT` and tab-separated figures, for `scripts/bench-keyserver`'s table.
//! Not a test: nothing here runs in `cargo test`.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openzone_core::keyserver::wire::{UploadPayload, MAX_KEYS_PER_UPLOAD};
use openzone_core::time::{day_of_ms, Clock, SystemClock};
use openzone_server::Accounts;
use openzone_tests::keyserver_fixture::{
    config_doc, get_json, http, http_from, issue_code, random_tek, sealed, sign_in, upload_key,
    Announcements, OFFICER_PASSWORD,
};
use openzone_tests::postgres_fixture::{create_database, Cluster};

/// What to run.
#[derive(Debug)]
struct Options {
    openzone: PathBuf,
    /// `None`: the embedded database.
    replicas: Option<usize>,
    uploads: usize,
    clients: usize,
    keys_per_upload: usize,
}

const USAGE: &str =
    "usage: keyserver-bench [--openzone PATH] [--sled | --replicas N] [--uploads U] \
                     [--clients C] [--keys-per-upload K] [--publish-keys P]";

fn options() -> Result<Options, String> {
    let mut options = Options {
        openzone: std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("openzone"),
        replicas: Some(1),
        uploads: 200,
        clients: 16,
        keys_per_upload: 10,
    };
    let mut publish_keys = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--sled" {
            options.replicas = None;
            continue;
        }
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or(format!("{flag} {value}: a positive number"))
        };
        match flag.as_str() {
            "--openzone" => options.openzone = PathBuf::from(&value),
            "--replicas" => options.replicas = Some(number()?),
            "--uploads" => options.uploads = number()?,
            "--clients" => options.clients = number()?,
            "--keys-per-upload" => options.keys_per_upload = number()?,
            "--publish-keys" => publish_keys = Some(number()?),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if options.keys_per_upload > MAX_KEYS_PER_UPLOAD {
        return Err(format!(
            "--keys-per-upload: at most {MAX_KEYS_PER_UPLOAD} (the server's limit)"
        ));
    }
    // Client addresses are 127.0.0.2 to 127.0.0.254.
    if options.clients > 253 {
        return Err("--clients: at most 253".into());
    }
    if let Some(keys) = publish_keys {
        options.uploads = keys.div_ceil(options.keys_per_upload);
    }
    Ok(options)
}

/// The name of client `c`'s officer account.
fn officer_of(c: usize) -> String {
    format!("bench-{c}")
}

/// A running `openzone serve`: its process, public URL and metrics URL.
struct Replica {
    child: Child,
    url: String,
    metrics: String,
}

impl Replica {
    /// Starts `openzone serve` with `storage` (`--data DIR` and, for replicas, `--database URL ...`) and
    /// waits until it listens.
    fn start(openzone: &Path, storage: &[String], log: &Path) -> Self {
        let log = std::fs::File::create(log).expect("a log file");
        let mut child = Command::new(openzone)
            .arg("serve")
            .args(storage)
            .args(["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"])
            .args(["--cadence-secs", "86400"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", openzone.display()));
        let mut said = Announcements::of(&mut child, "openzone serve");
        let url = format!("{}/", said.line("openzone key server listening on "));
        let metrics = said.line("metrics on ");
        said.drain();
        Self {
            child,
            url,
            metrics,
        }
    }

    /// SIGTERM, then waits: the server finishes its requests and gives the lease up.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Where the servers keep their data.
struct Deployment {
    /// `--data` (and `--database`, `--replicas`) of each replica.
    storage: Vec<Vec<String>>,
    dir: tempfile::TempDir,
    _cluster: Option<Cluster>,
}

impl Deployment {
    fn new(replicas: Option<usize>) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("openzone-bench-")
            .tempdir()
            .expect("a temporary directory");
        let data = |i: usize| {
            dir.path()
                .join(format!("replica-{i}"))
                .display()
                .to_string()
        };
        let Some(n) = replicas else {
            return Self {
                storage: vec![vec!["--data".into(), data(0)]],
                dir,
                _cluster: None,
            };
        };
        let cluster = Cluster::start(true);
        let database = create_database(&cluster.url);
        let exports = dir.path().join("exports").display().to_string();
        let storage = (0..n)
            .map(|i| {
                vec![
                    "--data".into(),
                    data(i),
                    "--database".into(),
                    database.clone(),
                    "--replicas".into(),
                    n.to_string(),
                    "--exports".into(),
                    exports.clone(),
                ]
            })
            .collect();
        Self {
            storage,
            dir,
            _cluster: Some(cluster),
        }
    }

    fn database(&self) -> Option<&str> {
        let flags = &self.storage[0];
        let at = flags.iter().position(|f| f == "--database")?;
        flags.get(at + 1).map(String::as_str)
    }

    /// Officer accounts for `clients` clients: in the shared database, or (the embedded database being
    /// one process's) in the data directory before the server starts.
    async fn add_officers(&self, clients: usize) {
        let accounts = match self.database() {
            Some(url) => Accounts::connect(url).await,
            None => Accounts::open(Path::new(&self.storage[0][1])),
        }
        .expect("the officer accounts");
        for c in 0..clients {
            accounts
                .add_officer(&officer_of(c), OFFICER_PASSWORD, u32::MAX)
                .await
                .expect("an officer account");
        }
    }

    fn start(&self, openzone: &Path, i: usize) -> Replica {
        let log = self.dir.path().join(format!("replica-{i}.log"));
        Replica::start(openzone, &self.storage[i], &log)
    }
}

/// Client `c`'s sealed uploads, each with a fresh code issued through replica `c mod N`.
async fn prepare(
    c: usize,
    urls: Arc<Vec<String>>,
    uploads: usize,
    keys_per_upload: usize,
) -> Vec<Vec<u8>> {
    let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + c as u8));
    let client = http_from(ip);
    let url = &urls[c % urls.len()];
    let token = sign_in(&client, url, &officer_of(c), OFFICER_PASSWORD)
        .await
        .unwrap_or_else(|status| panic!("client {c} cannot sign in: {status}"));
    let sealing = config_doc(url)
        .await
        .upload_sealing_key
        .public_key()
        .expect("a sealing key");
    // Keys of the last 12 days before yesterday: all due for publication (2 hours after they end),
    // none too old; at most 3 start on one day (the server's limit).
    let day = day_of_ms(SystemClock.now_ms()) - 2;
    let mut bodies = Vec::with_capacity(uploads);
    for _ in 0..uploads {
        let payload = UploadPayload {
            code: issue_code(&client, url, &token, "confirmed", None).await,
            keys: (0..keys_per_upload)
                .map(|k| upload_key(random_tek(), (day - (k % 12) as u32) * 144, 144))
                .collect(),
            checkins: Vec::new(),
        };
        bodies.push(sealed(&sealing, &payload));
    }
    bodies
}

/// Posts client `c`'s uploads, upload i to replica (c + i) mod N; returns each one's latency.
async fn upload_all(c: usize, urls: Arc<Vec<String>>, bodies: Vec<Vec<u8>>) -> Vec<Duration> {
    let client = http_from(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + c as u8)));
    let mut latencies = Vec::with_capacity(bodies.len());
    for (i, body) in bodies.into_iter().enumerate() {
        let url = &urls[(c + i) % urls.len()];
        let started = Instant::now();
        let response = client
            .post(format!("{url}v1/publish"))
            .body(body)
            .send()
            .await
            .expect("an upload is answered");
        let status = response.status();
        let answer = response.bytes().await.expect("an answer");
        latencies.push(started.elapsed());
        assert_eq!(
            status,
            200,
            "an upload was refused: {}",
            String::from_utf8_lossy(&answer)
        );
    }
    latencies
}

/// The value of the series `name` (exactly as written, labels included) on a metrics page.
async fn metric(metrics_url: &str, series: &str) -> f64 {
    let page = http()
        .get(metrics_url)
        .send()
        .await
        .expect("the metrics are answered")
        .text()
        .await
        .expect("the metrics page");
    page.lines()
        .filter_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .find_map(|value| value.parse().ok())
        .unwrap_or(0.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[at - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

async fn run(options: Options) {
    let backend = match options.replicas {
        Some(n) => format!("postgres x{n}"),
        None => "sled".into(),
    };
    let keys = options.uploads * options.keys_per_upload;
    println!(
        "{backend}: {} uploads of {} keys ({keys} keys) from {} clients",
        options.uploads, options.keys_per_upload, options.clients
    );
    let deployment = Deployment::new(options.replicas);
    let replicas: Vec<Replica> = if deployment.database().is_none() {
        deployment.add_officers(options.clients).await;
        vec![deployment.start(&options.openzone, 0)]
    } else {
        // One after the other: the first makes the schema and the shared secrets.
        let replicas = (0..deployment.storage.len())
            .map(|i| deployment.start(&options.openzone, i))
            .collect();
        deployment.add_officers(options.clients).await;
        replicas
    };
    let urls = Arc::new(replicas.iter().map(|r| r.url.clone()).collect::<Vec<_>>());

    let started = Instant::now();
    let share = |c: usize| {
        options.uploads / options.clients + usize::from(c < options.uploads % options.clients)
    };
    let prepared: Vec<_> = (0..options.clients)
        .map(|c| {
            tokio::spawn(prepare(
                c,
                Arc::clone(&urls),
                share(c),
                options.keys_per_upload,
            ))
        })
        .collect();
    let mut bodies = Vec::new();
    for task in prepared {
        bodies.push(task.await.expect("a client prepared its uploads"));
    }
    println!(
        "  {} codes issued in {:.1} s",
        options.uploads,
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let tasks: Vec<_> = bodies
        .into_iter()
        .enumerate()
        .map(|(c, bodies)| tokio::spawn(upload_all(c, Arc::clone(&urls), bodies)))
        .collect();
    let mut latencies = Vec::with_capacity(options.uploads);
    for task in tasks {
        latencies.extend(task.await.expect("a client uploaded"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let per_second = options.uploads as f64 / elapsed.as_secs_f64();
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    println!(
        "  uploads: {per_second:.0}/s ({:.1} s), latency p50 {:.1} ms, p99 {:.1} ms",
        elapsed.as_secs_f64(),
        ms(p50),
        ms(p99)
    );

    for replica in replicas {
        replica.stop();
    }
    let started = Instant::now();
    let publisher = deployment.start(&options.openzone, 0);
    let published = r#"openzone_publication_runs_total{result="published"}"#;
    while metric(&publisher.metrics, published).await < 1.0 {
        let failed = r#"openzone_publication_runs_total{result="failed"}"#;
        assert!(
            metric(&publisher.metrics, failed).await == 0.0,
            "publication failed; see {}",
            deployment.dir.path().display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let until_published = started.elapsed();
    let run_secs = metric(
        &publisher.metrics,
        "openzone_publication_duration_seconds_sum",
    )
    .await;
    let token = sign_in(&http(), &publisher.url, &officer_of(0), OFFICER_PASSWORD)
        .await
        .expect("the officer signs in");
    let stats = get_json(&format!("{}v1/admin/stats", publisher.url), &token).await;
    assert_eq!(
        stats["keys_published"].as_u64(),
        Some(keys as u64),
        "not every key was published: {stats}"
    );
    println!(
        "  publication of {keys} keys: {:.2} s from the publisher's start ({run_secs:.2} s in the run), {} exports",
        until_published.as_secs_f64(),
        stats["exports"]
    );
    publisher.stop();
    println!(
        "RESULT\t{backend}\t{}\t{}\t{}\t{per_second:.0}\t{:.1}\t{:.1}\t{keys}\t{:.2}\t{run_secs:.2}",
        options.uploads,
        options.clients,
        options.keys_per_upload,
        ms(p50),
        ms(p99),
        until_published.as_secs_f64()
    );
}

fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("keyserver-bench: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if !options.openzone.exists() {
        eprintln!(
            "keyserver-bench: {} is missing: build it (cargo build --release -p openzone-cli) or give \
             --openzone PATH",
            options.openzone.display()
        );
        return ExitCode::from(2);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build();
    match runtime {
        Ok(runtime) => {
            runtime.block_on(run(options));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("keyserver-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
