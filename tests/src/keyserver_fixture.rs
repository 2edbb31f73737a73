//! What the key server tests share: a manual clock, a server on a loopback port, HTTP helpers, keys, and
//! reading back what the server published.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use openzone_core::export::signing::VerificationKey;
use openzone_core::export::{Export, ExportKey};
use openzone_core::keyserver::seal::{seal, SealingPublicKey};
use openzone_core::keyserver::wire::{
    ErrorBody, ServerConfigDoc, Upload, UploadKey, UploadPayload,
};
use openzone_core::protocol::en_v1::{ExposureKey, TemporaryExposureKey};
use openzone_server::{Server, ServerConfig};
use ring::rand::{SecureRandom, SystemRandom};

use crate::clock::ManualClock;

/// 2026-11-20 12:00 UTC: a Friday at noon, interval 72 of the day.
pub const NOON_MS: u64 = 20_777 * 86_400_000 + 12 * 3_600_000;
/// The UTC day of [`NOON_MS`].
pub const DAY: u32 = 20_777;

/// A running server: its address, the handle to stop it, and the server itself.
pub struct Running {
    /// The server (for its token, keys and `publish_now`).
    pub server: Server,
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
    /// The bound address.
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), openzone_server::ServerError>>>,
}

impl Running {
    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("the server task panicked")
                .expect("the server stopped with an error");
        }
    }
}

/// Opens a server with `config` and serves it on a free loopback port.
pub async fn start(config: ServerConfig) -> Running {
    let server = Server::open(config).await.expect("the server opens");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("the bound address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.clone().serve(listener, async move {
        let _ = stopped.await;
    }));
    Running {
        server,
        url: format!("http://{addr}/"),
        addr,
        stop: Some(stop),
        task: Some(task),
    }
}

/// Publication every hour (sooner only when a test calls `publish_now`), in exports padded to 10 keys.
pub fn small_hourly_exports(config: &mut ServerConfig) {
    config.publication.cadence = std::time::Duration::from_secs(3_600);
    config.publication.min_batch = 10;
}

/// Starts the server of [`crate::postgres_fixture::server_config`], set up by `configure`, storing in a
/// new temporary directory; returns the directory (removed when dropped) and the server.
pub async fn start_temp(configure: impl FnOnce(&mut ServerConfig)) -> (tempfile::TempDir, Running) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut config = crate::postgres_fixture::server_config(dir.path());
    configure(&mut config);
    let running = start(config).await;
    (dir, running)
}

/// A server on a manual clock with the tests' configuration, storing in a directory of its own, with the
/// sealing key it announces, a signed-in officer and a client: what most key server tests start from.
pub struct TestServer {
    /// The server's data directory, removed when the test ends.
    pub dir: tempfile::TempDir,
    /// The server's clock.
    pub clock: Arc<ManualClock>,
    /// The server.
    pub running: Running,
    /// The upload sealing key it announces.
    pub key: SealingPublicKey,
    /// The session of [`OFFICER`] (sessions last 12 hours: sign in again after moving the clock further).
    pub token: String,
    /// A plain HTTP client.
    pub client: reqwest::Client,
}

impl TestServer {
    /// Starts the server of [`crate::postgres_fixture::server_config`], set up by `configure`, at
    /// [`NOON_MS`].
    pub async fn at_noon(configure: impl FnOnce(&mut ServerConfig)) -> Self {
        Self::at(NOON_MS, configure).await
    }

    /// Starts the server of [`crate::postgres_fixture::server_config`], set up by `configure`, with its
    /// clock at `now_ms`.
    pub async fn at(now_ms: u64, configure: impl FnOnce(&mut ServerConfig)) -> Self {
        let clock = ManualClock::new(now_ms);
        let (dir, running) = start_temp(|config| {
            config.clock = clock.clone();
            configure(config);
        })
        .await;
        let key = announced_sealing_key(&running.url).await;
        let token = officer_token(&running).await;
        Self {
            dir,
            clock,
            running,
            key,
            token,
            client: http(),
        }
    }

    /// Issues a code of `test_type` with this `onset` as the officer; returns the 8 digits.
    pub async fn issue(&self, test_type: &str, onset: Option<&str>) -> String {
        issue_code(
            &self.client,
            &self.running.url,
            &self.token,
            test_type,
            onset,
        )
        .await
    }

    /// Seals an upload of `keys` under `code` and posts it; returns what [`post_upload`] does.
    pub async fn upload(&self, code: &str, keys: Vec<UploadKey>) -> (u16, String) {
        upload(&self.running.url, &self.key, code, keys).await
    }

    /// Uploads `keys` with a fresh code of `test_type` and this `onset`; asserts it is accepted.
    pub async fn report(&self, test_type: &str, onset: Option<&str>, keys: Vec<UploadKey>) {
        let code = self.issue(test_type, onset).await;
        assert_eq!(self.upload(&code, keys).await, (200, "ok".into()));
    }
}

/// A plain HTTP client for requests the phone's client would never make.
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("an HTTP client")
}

/// Issues a code through the officer API; returns the 8 digits.
pub async fn issue_code(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    test_type: &str,
    onset: Option<&str>,
) -> String {
    let mut body = serde_json::json!({ "test_type": test_type });
    if let Some(onset) = onset {
        body["onset"] = onset.into();
    }
    let (status, answer) = request_code(client, url, token, &body).await;
    assert_eq!(status, 201, "issuing a code: {answer}");
    answer["code"].as_str().expect("a code").to_owned()
}

/// Posts `body` to the officer API's `/v1/admin/codes`; returns the status and the JSON answer.
pub async fn request_code(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let response = client
        .post(format!("{url}v1/admin/codes"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("the code request is answered");
    let status = response.status().as_u16();
    let answer = serde_json::from_slice(&response.bytes().await.expect("a body")).expect("JSON");
    (status, answer)
}

/// 16 random bytes.
pub fn random_tek() -> [u8; 16] {
    let mut tek = [0u8; 16];
    SystemRandom::new().fill(&mut tek).expect("random bytes");
    tek
}

/// An upload key with these bytes and intervals.
pub fn upload_key(tek: [u8; 16], start: u32, period: u32) -> UploadKey {
    UploadKey::new(
        &ExposureKey::new(TemporaryExposureKey::from_bytes(tek), start, period)
            .expect("a valid key"),
        None,
    )
}

/// Every export the index in `dir` lists, with its keys, verified with `key`. Panics (failing the test)
/// if the index lists a file that is missing, partial or badly signed.
pub fn read_local_exports(dir: &Path, key: &VerificationKey) -> Vec<(String, Vec<ExportKey>)> {
    let index = std::fs::read_to_string(dir.join("index.txt")).unwrap_or_default();
    index
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|name| {
            let path = dir.join(name);
            let export = Export::from_zip_file(&path)
                .unwrap_or_else(|e| panic!("index.txt lists {name}, which cannot be read: {e}"));
            let verified = export
                .verify(std::slice::from_ref(key))
                .unwrap_or_else(|e| panic!("index.txt lists {name}, whose signature fails: {e}"));
            let keys = verified
                .export()
                .keys()
                .map(|k| k.expect("the server writes only valid keys"))
                .collect();
            (name.to_owned(), keys)
        })
        .collect()
}

/// An HTTP client whose connections leave from `ip` (any 127.x.y.z works on Linux's loopback), so that
/// the server sees a distinct peer address per simulated phone.
pub fn http_from(ip: std::net::IpAddr) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .local_address(ip)
        .build()
        .expect("an HTTP client")
}

/// The officer account tests sign in with.
pub const OFFICER: &str = "nurse";
/// Its password.
pub const OFFICER_PASSWORD: &str = "the nurse's test password";

/// Signs in as the test officer (creating the account, with a quota no test reaches, the first time)
/// through `POST /v1/admin/login`; returns the bearer token.
pub async fn officer_token(running: &Running) -> String {
    let accounts = running.server.accounts();
    if !accounts
        .officers()
        .await
        .expect("the accounts are readable")
        .iter()
        .any(|o| o.name == OFFICER)
    {
        accounts
            .add_officer(OFFICER, OFFICER_PASSWORD, u32::MAX)
            .await
            .expect("the test officer is created");
    }
    sign_in(&http(), &running.url, OFFICER, OFFICER_PASSWORD)
        .await
        .expect("the test officer signs in")
}

/// Signs in through `POST /v1/admin/login`; returns the bearer token, or the status of a refusal (0 when
/// the server did not answer).
pub async fn sign_in(
    client: &reqwest::Client,
    url: &str,
    name: &str,
    password: &str,
) -> Result<String, u16> {
    let response = client
        .post(format!("{url}v1/admin/login"))
        .header("content-type", "application/json")
        .body(serde_json::json!({ "name": name, "password": password }).to_string())
        .send()
        .await
        .map_err(|_| 0u16)?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(|_| 0u16)?;
    if status != 200 {
        return Err(status);
    }
    let answer: serde_json::Value = serde_json::from_slice(&body).map_err(|_| 0u16)?;
    answer["token"].as_str().map(str::to_owned).ok_or(0)
}

/// `payload` padded and sealed to `key`, as a phone uploads it.
pub fn sealed(key: &SealingPublicKey, payload: &UploadPayload) -> Vec<u8> {
    seal(key, &Upload::Real(payload.clone()).to_padded_plaintext()).expect("sealing works")
}

/// The body of a plain GET of `url`.
pub async fn get_text(url: &str) -> String {
    http()
        .get(url)
        .send()
        .await
        .expect("the server answers")
        .text()
        .await
        .expect("a text body")
}

/// The upload sealing key the server at `url` announces in `/v1/config`.
pub async fn announced_sealing_key(url: &str) -> SealingPublicKey {
    config_doc(url)
        .await
        .upload_sealing_key
        .public_key()
        .expect("a valid sealing key")
}

/// The configuration document (`GET /v1/config`) of the server at `url`.
pub async fn config_doc(url: &str) -> ServerConfigDoc {
    let body = get_text(&format!("{url}v1/config")).await;
    serde_json::from_str(&body).expect("the configuration's JSON")
}

/// Posts `body` to `/v1/publish` from `client`, with an `X-Forwarded-For` chain if given; returns the
/// status and the error code (`"ok"` for an accepted upload).
pub async fn post_upload(
    client: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
    forwarded_for: Option<&str>,
) -> (u16, String) {
    let mut request = client.post(format!("{url}v1/publish")).body(body);
    if let Some(chain) = forwarded_for {
        request = request.header("x-forwarded-for", chain);
    }
    let response = request.send().await.expect("the upload is answered");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("a body");
    if status == 200 {
        return (status, "ok".into());
    }
    let error: ErrorBody = serde_json::from_slice(&bytes).expect("an error body");
    (status, error.error)
}

/// Seals an upload of `keys` under `code` to `key` and posts it; returns what [`post_upload`] does.
pub async fn upload(
    url: &str,
    key: &SealingPublicKey,
    code: &str,
    keys: Vec<UploadKey>,
) -> (u16, String) {
    let payload = UploadPayload {
        checkins: Vec::new(),
        code: code.to_owned(),
        keys,
    };
    post_upload(&http(), url, sealed(key, &payload), None).await
}

/// `GET url` with a bearer token, as JSON.
pub async fn get_json(url: &str, bearer: &str) -> serde_json::Value {
    let body = http()
        .get(url)
        .bearer_auth(bearer)
        .send()
        .await
        .expect("the request is answered")
        .bytes()
        .await
        .expect("a body");
    serde_json::from_slice(&body).expect("JSON")
}

/// A key server child process (`src/bin/keyserver-child.rs`), listening.
pub struct ChildServer {
    /// The process, for the test to kill.
    pub child: std::process::Child,
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
    /// What opening repaired: batches completed, rolled back, orphan files deleted.
    pub reconciled: [u64; 3],
}

impl ChildServer {
    /// Runs `command` (a `keyserver-child` with its arguments and environment) and waits until it
    /// listens.
    pub fn spawn(mut command: std::process::Command) -> Self {
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("keyserver-child starts");
        let mut said = Announcements::of(&mut child, "keyserver-child");
        let mut line = |prefix: &str| said.line(prefix);
        let reconciled: Vec<u64> = line("reconciled ")
            .split(' ')
            .map(|n| n.parse().expect("a count"))
            .collect();
        let url = line("listening ");
        Self {
            child,
            url,
            reconciled: [reconciled[0], reconciled[1], reconciled[2]],
        }
    }
}

/// The lines a server process announces itself with on stdout (its address, ...), read in order.
pub struct Announcements {
    lines: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
    program: &'static str,
}

impl Announcements {
    /// The stdout of `child` (spawned with `Stdio::piped()`), which `program` names in panics.
    pub fn of(child: &mut std::process::Child, program: &'static str) -> Self {
        use std::io::BufRead as _;
        let stdout = child.stdout.take().expect("the child's stdout is piped");
        Self {
            lines: std::io::BufReader::new(stdout).lines(),
            program,
        }
    }

    /// The next line, which must start with `prefix`, without it.
    pub fn line(&mut self, prefix: &str) -> String {
        let program = self.program;
        let line = self
            .lines
            .next()
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("{program} ended before saying {prefix:?}"));
        line.strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{program} said {line:?}, not {prefix:?}"))
            .to_owned()
    }

    /// Reads whatever else the process prints, in a thread of its own: a closed pipe would fail its
    /// writes.
    pub fn drain(self) {
        std::thread::spawn(move || self.lines.for_each(drop));
    }
}
