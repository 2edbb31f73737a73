//! PostgreSQL for the key server tests: a private cluster made with `initdb` and run with `pg_ctl` in a
//! temporary directory, as an unprivileged user (`initdb` refuses root: as root, the cluster runs as the
//! `postgres` system user through `runuser`), listening on a free loopback port with its socket in the
//! same directory; stopped and deleted when the [`Cluster`] is dropped. The binaries come from Debian's
//! `postgresql` package (`/usr/lib/postgresql/15/bin`, or the directory in `PG_BIN`). The package's own
//! `main` cluster on port 5432, if it runs, is not used.
//!
//! The server suite runs against PostgreSQL when `OPENZONE_TEST_BACKEND=postgres` and
//! `OPENZONE_TEST_DATABASE_URL` names a server whose user may create databases (`pg-cluster` starts a
//! private cluster and sets both, `scripts/test` runs the suite so); every data directory then gets a
//! database of its own ([`server_config`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use openzone_server::ServerConfig;

/// Which database the server suite runs on: `sled` (the default) or `postgres`.
pub const BACKEND_VAR: &str = "OPENZONE_TEST_BACKEND";

/// A PostgreSQL server the tests may create databases on, e.g.
/// `postgres://postgres@127.0.0.1:54321/postgres`.
pub const DATABASE_VAR: &str = "OPENZONE_TEST_DATABASE_URL";

/// Where the PostgreSQL binaries are, unless `PG_BIN` says otherwise.
const DEFAULT_PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// The file in a test's data directory that names its database, so that reopening the directory
/// reopens the same database.
const DATABASE_FILE: &str = "test-database-url";

/// The unprivileged user the cluster runs as when the tests run as root.
const CLUSTER_USER: &str = "postgres";

/// A private PostgreSQL cluster, stopped and deleted on drop (a panicking test drops it too), or by its
/// watchdog when this process dies without dropping it (SIGKILL, `std::process::exit`, Ctrl-C).
pub struct Cluster {
    dir: tempfile::TempDir,
    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub url: String,
    watchdog: Child,
}

fn pg_bin(name: &str) -> PathBuf {
    let dir = std::env::var("PG_BIN").unwrap_or_else(|_| DEFAULT_PG_BIN.into());
    let path = Path::new(&dir).join(name);
    assert!(
        path.exists(),
        "{} is missing: install Debian's postgresql package (scripts/setup does) or set PG_BIN",
        path.display()
    );
    path
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs a PostgreSQL binary, as [`CLUSTER_USER`] when this process is root.
fn run_pg(name: &str, args: &[&str]) -> Output {
    let bin = pg_bin(name);
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", CLUSTER_USER, "--"]).arg(&bin);
        c
    } else {
        Command::new(&bin)
    };
    command
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Cluster {
    /// Makes and starts a cluster. `durable: false` turns fsync off, for tests that kill servers, not
    /// the database.
    pub fn start(durable: bool) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("openzone-pg-")
            .tempdir()
            .expect("a temporary directory");
        if is_root() {
            let chown = Command::new("chown")
                .args(["-R", CLUSTER_USER])
                .arg(dir.path())
                .status()
                .expect("chown runs");
            assert!(
                chown.success(),
                "cannot give {} to the {CLUSTER_USER} user (does it exist? Debian's postgresql package makes it)",
                dir.path().display()
            );
        }
        let data = dir.path().join("data");
        let data_arg = data.to_string_lossy().into_owned();
        let init = run_pg(
            "initdb",
            &[
                "-D",
                &data_arg,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        assert!(
            init.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let log = dir.path().join("postgres.log");
        let log_arg = log.to_string_lossy().into_owned();
        let socket_dir = dir.path().to_string_lossy().into_owned();
        for _ in 0..5 {
            let port = free_port();
            let options = format!(
                "-k {socket_dir} -p {port} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync={}",
                if durable { "on" } else { "off" }
            );
            let started = run_pg(
                "pg_ctl",
                &[
                    "-D", &data_arg, "-l", &log_arg, "-w", "-o", &options, "start",
                ],
            );
            if started.status.success() {
                let watchdog = watchdog(dir.path());
                return Self {
                    dir,
                    url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
                    watchdog,
                };
            }
        }
        panic!(
            "pg_ctl could not start the cluster: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
}

/// The arguments of `pg_ctl` that stop the cluster in `dir` at once (as a crash would: nothing of the
/// tests' data matters after).
fn stop_args(dir: &Path) -> [String; 6] {
    [
        "-D".into(),
        dir.join("data").to_string_lossy().into_owned(),
        "-m".into(),
        "immediate".into(),
        "-w".into(),
        "stop".into(),
    ]
}

/// A shell that waits for this process to end, then stops the cluster in `dir` and deletes it: the
/// cluster outlives no test process, however it ends. It ignores the terminal's signals (Ctrl-C reaches
/// the whole process group) so that it can clean up after them; [`Cluster`]'s drop kills it.
fn watchdog(dir: &Path) -> Child {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut stop: Vec<String> = Vec::new();
    if is_root() {
        stop.extend(["runuser", "-u", CLUSTER_USER, "--"].map(String::from));
    }
    stop.push(pg_bin("pg_ctl").to_string_lossy().into_owned());
    stop.extend(stop_args(dir));
    let stop: Vec<String> = stop.iter().map(|a| quote(a)).collect();
    let script = format!(
        "trap '' INT TERM HUP; while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        stop = stop.join(" "),
        dir = quote(&dir.to_string_lossy()),
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sh runs the cluster's watchdog")
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let args = stop_args(self.dir.path());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let _ = run_pg("pg_ctl", &args);
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
    }
}

/// Runs `future` to completion on a runtime of its own, on another thread: callable from synchronous
/// test helpers and from inside other runtimes alike.
fn block_on_own_runtime<T: Send>(future: impl std::future::Future<Output = T> + Send) -> T {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a tokio runtime")
                    .block_on(future)
            })
            .join()
            .expect("the database set-up thread panicked")
    })
}

/// Creates a fresh database on the server at `server_url`; returns its URL.
pub fn create_database(server_url: &str) -> String {
    use sqlx::Connection as _;
    let name = format!("oz_{}", hex::encode(crate::keyserver_fixture::random_tek()));
    block_on_own_runtime(async {
        let mut connection = sqlx::PgConnection::connect(server_url)
            .await
            .unwrap_or_else(|e| {
                panic!("cannot connect to the test PostgreSQL at {server_url}: {e}")
            });
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("cannot create a test database: {e}"));
    });
    let mut url = url::Url::parse(server_url).expect("a database URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// Whether the server suite runs on PostgreSQL (`OPENZONE_TEST_BACKEND=postgres`).
pub fn on_postgres() -> bool {
    match std::env::var(BACKEND_VAR).as_deref() {
        Ok("postgres") => true,
        Ok("sled") | Err(_) => false,
        Ok(other) => panic!("{BACKEND_VAR}={other}: use sled or postgres"),
    }
}

/// The server of [`DATABASE_VAR`], which the PostgreSQL runs need.
pub fn test_server_url() -> String {
    std::env::var(DATABASE_VAR).unwrap_or_else(|_| {
        panic!(
            "{BACKEND_VAR}=postgres needs {DATABASE_VAR}, a PostgreSQL server the tests may create \
             databases on; `cargo run -p openzone-tests --bin pg-cluster -- COMMAND` starts a private one \
             and runs COMMAND with both set"
        )
    })
}

/// A server configuration with data in `dir` on the backend the suite runs on: with PostgreSQL, the
/// directory's own database (made on first use, the same one when the directory is opened again).
pub fn server_config(dir: &Path) -> ServerConfig {
    let mut config = ServerConfig::new(dir);
    config.database = database_url(dir);
    config
}

/// The PostgreSQL database of a test's data directory when the suite runs on PostgreSQL (made on first
/// use), `None` on the embedded database: what `ServerConfig::database` gets.
pub fn database_url(dir: &Path) -> Option<String> {
    on_postgres().then(|| database_of(dir))
}

/// The database of a test's data directory, created on first use.
fn database_of(dir: &Path) -> String {
    let file = dir.join(DATABASE_FILE);
    if let Ok(url) = std::fs::read_to_string(&file) {
        return url;
    }
    let url = create_database(&test_server_url());
    std::fs::create_dir_all(dir).expect("the data directory");
    std::fs::write(&file, &url).expect("the database file is written");
    url
}

/// Loses the database of a test's data directory, as a failed disk or a wrong restore would: the
/// embedded database's files, or (on PostgreSQL) the directory's tie to its database, so that the next
/// opening starts on an empty one.
pub fn lose_database(dir: &Path) {
    if on_postgres() {
        std::fs::remove_file(dir.join(DATABASE_FILE)).expect("the database file");
    } else {
        std::fs::remove_dir_all(dir.join("db")).expect("the database files");
    }
}

/// Everything the database of a test's data directory stores, as (where, bytes): each file of the
/// embedded database, or each PostgreSQL row (kind, key and value) and counter. For tests that look for
/// what must never be stored.
pub fn stored_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    if !on_postgres() {
        return crate::files_under(&dir.join("db"))
            .into_iter()
            .map(|path| {
                let bytes = std::fs::read(&path).expect("a database file");
                (path.display().to_string(), bytes)
            })
            .collect();
    }
    use sqlx::{Connection as _, Row as _};
    let url = database_of(dir);
    block_on_own_runtime(async {
        let mut connection = sqlx::PgConnection::connect(&url)
            .await
            .expect("the test database");
        let rows = sqlx::query("SELECT kind, key, value FROM records")
            .fetch_all(&mut connection)
            .await
            .expect("the records");
        let mut stored: Vec<(String, Vec<u8>)> = rows
            .iter()
            .map(|row| {
                let kind: String = row.get(0);
                let mut bytes: Vec<u8> = row.get(1);
                bytes.extend(row.get::<Vec<u8>, _>(2));
                (format!("a {kind} row"), bytes)
            })
            .collect();
        let counters = sqlx::query("SELECT name, value::text FROM counters")
            .fetch_all(&mut connection)
            .await
            .expect("the counters");
        for row in counters {
            let name: String = row.get(0);
            let value: String = row.get(1);
            stored.push((format!("the counter {name}"), value.into_bytes()));
        }
        stored
    })
}

/// Everything a test's data directory holds at rest, as (where, bytes): each of its files, and on
/// PostgreSQL each row and counter of its database too. For tests that look for plaintext at rest.
pub fn bytes_at_rest(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<(String, Vec<u8>)> = crate::files_under(dir)
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).expect("a data file");
            (path.display().to_string(), bytes)
        })
        .collect();
    if on_postgres() {
        all.extend(stored_bytes(dir));
    }
    all
}

/// Rotates the upload sealing key of a test's data directory: in its files, or in its database.
pub fn rotate_sealing_key(dir: &Path) -> openzone_core::keyserver::seal::SealingPublicKey {
    if on_postgres() {
        let url = database_of(dir);
        block_on_own_runtime(openzone_server::rotate_shared_sealing_key(&url))
    } else {
        openzone_server::rotate_sealing_key(dir)
    }
    .expect("the sealing key rotates")
}
