//! openzone-server: the key server. Phones upload the keys of a confirmed case, sealed and with an
//! officer's one-time code; everyone downloads signed exports of all the keys.
//!
//! # Public API
//!
//! - [`ServerConfig`]: where data lives, where exports go, the publication schedule, the rate limits,
//!   the HTTP deadlines.
//! - [`Server`]: [`Server::open`] loads or creates the data directory; [`Server::app`] is the axum router
//!   (tests call it directly); [`Server::serve`] runs it on a listener with the publication loop until a
//!   shutdown signal, then stops gracefully.
//! - [`Accounts`]: officers' accounts and the audit log, of a running server or of a stopped server's
//!   data directory (`openzone officer`); [`rotate_sealing_key`] (`openzone sealing-key rotate`).
//! - [`ServerError`]: the one error type; [`ServerError::code`] is the stable code answers carry.
//!
//! Modules: `api` (routes and handlers), `http` (the connection loop: deadlines, connection limit,
//! client address), `admin` (the officer's page), `officers` (accounts, passwords, sessions), `audit`,
//! `codes` (one-time codes), `publish` (sealed uploads), `chaff` (fake uploads' answers), `publication`
//! (exports, index, crash recovery, retention), `padding` (fake keys in exports), `ratelimit`,
//! `storage` (sled or PostgreSQL), `keys` (the server's secrets), `inbox` (venues' sealed visitor logs),
//! `visitor_page` (the school's page that opens them), `metrics` (`/metrics` for the operator, on a
//! listener of its own). `docs/keyserver.md` describes the protocol and
//! `docs/deployment.md` how to run it.

#![forbid(unsafe_code)]

mod admin;
mod api;
mod audit;
mod chaff;
mod codes;
mod error;
mod http;
mod inbox;
mod keys;
mod metrics;
mod officers;
mod padding;
mod publication;
mod publish;
mod ratelimit;
mod storage;
mod visitor_page;
mod warnings;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::ObjectStore;
use openzone_wire::export::signing::{VerificationKey, ECDSA_SHA256_OID};
use openzone_wire::keyserver::seal::{MAX_SEALED_BYTES, SEAL_VERSION};
use openzone_wire::keyserver::wire::{
    ExportSigningKeyDoc, PublicationDoc, SealingKeyDoc, ServerConfigDoc, UploadLimitsDoc,
    KEY_RETENTION_DAYS, MAX_KEYS_PER_UPLOAD, SEALING_ALGORITHM,
};
use openzone_wire::risk::RiskConfig;
use openzone_wire::time::{Clock, SystemClock};
use openzone_wire::units::EN_MATCH_TOLERANCE_SECS;

pub use audit::{AuditAction, AuditEntry};
pub use codes::{IssuedCode, CODE_DIGITS, DEFAULT_CODE_VALIDITY, MAX_CODE_VALIDITY};
pub use error::{Result, ServerError};
pub use http::HttpLimits;
pub use keys::{
    rotate_sealing_key, rotate_shared_sealing_key, ADMIN_TOKEN_FILE, CODE_KEY_FILE,
    PREVIOUS_SEALING_KEY_FILE, SEALING_KEY_FILE, SIGNING_KEY_FILE,
};
pub use officers::{OfficerInfo, DEFAULT_DAILY_QUOTA, MIN_PASSWORD_CHARS};
pub use publication::{
    parse_index, PublicationReport, PublicationSettings, ReconcileReport, INDEX_NAME,
    MAX_EXPORT_KEYS,
};
pub use publish::{report_type, transmission_risk_level, MAX_KEYS_PER_START};
pub use ratelimit::{InboxLimits, RateLimits, SignInLimits};
pub use storage::TestType;

/// How a server runs: where it keeps its data and tells the time, what it publishes and signs, what
/// `/v1/config` announces, and what it allows clients.
#[derive(Clone)]
pub struct ServerConfig {
    /// The data directory: database, secrets, and (by default) the exports. With [`Self::database`], a
    /// replica's own scratch: a copy of the shared secrets.
    pub data_dir: PathBuf,
    /// A PostgreSQL database (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`) that replicas share,
    /// instead of the embedded database in the data directory.
    pub database: Option<String>,
    /// The clock (tests use a manual one).
    pub clock: Arc<dyn Clock>,
    /// The publication schedule.
    pub publication: PublicationSettings,
    /// Where exports are written: `None` for `DATA_DIR/exports`; a directory path; `file:///dir`;
    /// `s3://bucket/prefix` (credentials, region and endpoint from the standard `AWS_*` environment
    /// variables); `memory://` (tests).
    pub exports: Option<String>,
    /// Key id in export signatures (Vietnam's mobile country code, as Google's servers use MCCs).
    pub signing_key_id: String,
    /// Key version in export signatures.
    pub signing_key_version: String,
    /// What `/v1/config` announces as the index's address: e.g. a CDN's
    /// `https://cdn.example.vn/exports/index.txt`. Default: this server's `v1/exports/index.txt`.
    pub public_index_url: Option<String>,
    /// The risk configuration `/v1/config` hands to phones.
    pub risk: RiskConfig,
    /// How long a one-time code stays valid. Default one hour, at most a day.
    pub code_validity: Duration,
    /// Limits on failed code attempts.
    pub rate_limits: RateLimits,
    /// Limits on failed sign-ins and session-token checks.
    pub sign_in_limits: SignInLimits,
    /// Limits on posts to visitor-log inboxes.
    pub inbox_limits: InboxLimits,
    /// HTTP deadlines and the connection limit.
    pub http: HttpLimits,
    /// Count clients by the last `X-Forwarded-For` address, the one the proxy in front appends (only
    /// behind such a proxy).
    pub trust_forwarded_for: bool,
}

/// The clock (not `Debug`) left out, the database address without its password.
impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("data_dir", &self.data_dir)
            .field("database", &self.database.as_deref().map(storage::redacted))
            .field("publication", &self.publication)
            .field("exports", &self.exports)
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

impl ServerConfig {
    /// Defaults with data in `data_dir`: hourly publication 2 hours after keys expire, batches padded to
    /// 1000 and up to 200 more, codes valid one hour, 30-second HTTP deadlines, exports in
    /// `DATA_DIR/exports`, the core's default risk configuration (`RiskConfig::default()`).
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            database: None,
            clock: Arc::new(SystemClock),
            publication: PublicationSettings::default(),
            exports: None,
            signing_key_id: "452".into(),
            signing_key_version: "v1".into(),
            public_index_url: None,
            risk: RiskConfig::default(),
            code_validity: DEFAULT_CODE_VALIDITY,
            rate_limits: RateLimits::default(),
            sign_in_limits: SignInLimits::default(),
            inbox_limits: InboxLimits::default(),
            http: HttpLimits::default(),
            trust_forwarded_for: false,
        }
    }

    /// Refuses settings that cannot work or would publish keys phones still match; writes region codes
    /// as they are published (upper case, sorted, once each).
    fn check(&mut self) -> Result<()> {
        let mut regions = self
            .publication
            .regions
            .iter()
            .map(|r| {
                openzone_wire::keyserver::wire::check_region(r)
                    .map_err(|e| ServerError::Config(format!("--regions: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        regions.sort();
        regions.dedup();
        self.publication.regions = regions;
        if self.publication.cadence.is_zero() {
            return Err(ServerError::Config(
                "the publication cadence must be at least one second".into(),
            ));
        }
        if self.publication.delay < Duration::from_secs(EN_MATCH_TOLERANCE_SECS) {
            return Err(ServerError::Config(format!(
                "the publication delay is {} s; it must be at least 2 hours ({EN_MATCH_TOLERANCE_SECS} s), \
                 because phones still match a key's identifiers up to 2 hours after it ended",
                self.publication.delay.as_secs()
            )));
        }
        if self.code_validity.is_zero() || self.code_validity > MAX_CODE_VALIDITY {
            return Err(ServerError::Config(
                "codes must be valid for more than 0 seconds and at most 24 hours".into(),
            ));
        }
        if self.publication.delist_grace.as_secs() <= publication::INDEX_MAX_AGE_SECS {
            return Err(ServerError::Config(format!(
                "the grace period before a delisted export is deleted must be longer than caches keep \
                 the index ({} s)",
                publication::INDEX_MAX_AGE_SECS
            )));
        }
        if self.publication.lease.is_zero() {
            return Err(ServerError::Config(
                "the publication lease must last at least a second".into(),
            ));
        }
        if self.http.header_deadline.is_zero() || self.http.body_deadline.is_zero() {
            return Err(ServerError::Config(
                "the HTTP header and body deadlines must be at least one second".into(),
            ));
        }
        Ok(())
    }
}

/// Everything the handlers share.
pub(crate) struct AppState {
    pub storage: storage::Storage,
    pub publisher: publication::Publisher,
    pub sealing: keys::SealingKeys,
    pub code_key: ring::hmac::Key,
    pub config_doc: ServerConfigDoc,
    pub code_attempts: ratelimit::CodeAttempts,
    pub guesses: ratelimit::Guesses,
    pub clock: Arc<dyn Clock>,
    pub trust_forwarded_for: bool,
    pub code_validity: Duration,
    pub fake_delays: chaff::FakeDelays,
    pub tally: api::Tally,
    pub inbox: inbox::Inbox,
    pub inbox_posts: ratelimit::InboxPosts,
    pub metrics: metrics::Metrics,
}

impl AppState {
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// One publication run, after logging how uploads went since the last one.
    async fn publish(&self) -> Result<PublicationReport> {
        let tally = self.tally.take();
        if !tally.is_empty() {
            let counts: Vec<String> = tally.iter().map(|(k, n)| format!("{k}={n}")).collect();
            tracing::info!(uploads = %counts.join(" "), "uploads since the last publication run");
        }
        let started = std::time::Instant::now();
        let outcome = self.publisher.run(self.now_ms()).await;
        self.metrics.publication_run(&outcome, started.elapsed());
        outcome
    }
}

/// A key server, open on its data directory.
#[derive(Clone)]
pub struct Server {
    state: Arc<AppState>,
    cadence: Duration,
    http: HttpLimits,
    reconciled: ReconcileReport,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").finish_non_exhaustive()
    }
}

impl Server {
    /// Opens (or creates) the data directory: loads or generates the secrets, opens the database,
    /// turns an earlier version's admin token into an account, connects the export storage, checks it
    /// against the database and reconciles any publication a crash interrupted.
    pub async fn open(mut config: ServerConfig) -> Result<Self> {
        config.check()?;
        std::fs::create_dir_all(&config.data_dir).map_err(|source| ServerError::File {
            path: config.data_dir.clone(),
            source,
        })?;
        let (storage, secrets) = match &config.database {
            None => (
                storage::Storage::open(&config.data_dir.join("db"))?,
                keys::load_or_generate(
                    &config.data_dir,
                    &config.signing_key_id,
                    &config.signing_key_version,
                )?,
            ),
            Some(url) => {
                let storage = storage::Storage::connect(url).await?;
                let secrets = keys::load_shared(
                    &storage,
                    &config.data_dir,
                    &config.signing_key_id,
                    &config.signing_key_version,
                )
                .await?;
                (storage, secrets)
            }
        };
        let metrics = metrics::Metrics::new();
        let storage = storage.measured(metrics.db_latency());
        officers::migrate_admin_token(&storage, &config.data_dir, config.clock.now_ms()).await?;
        let exports = open_exports(&config)?;
        let config_doc = config_doc(&config, &secrets);
        let publisher = publication::Publisher::new(
            storage.clone(),
            exports,
            secrets.signer,
            config.publication.clone(),
        )?;
        let reconciled = publisher.startup(config.clock.now_ms()).await?;
        tracing::info!(
            completed = reconciled.completed,
            rolled_back = reconciled.rolled_back,
            orphans_deleted = reconciled.orphans_deleted,
            unknown_files = reconciled.unknown_files,
            "key server opened"
        );
        if storage.count(storage::OFFICERS).await? == 0 {
            if storage.shared() {
                tracing::warn!(
                    "there is no officer account yet: nobody can issue codes until one is made with \
                     `openzone officer add --database URL --name NAME` (replicas may be running)"
                );
            } else {
                tracing::warn!(
                    "there is no officer account yet: nobody can issue codes until one is made with \
                     `openzone officer add --data DIR --name NAME` (with the server stopped)"
                );
            }
        }
        Ok(Self {
            reconciled,
            cadence: config.publication.cadence,
            http: config.http,
            state: Arc::new(AppState {
                inbox: inbox::Inbox::new(storage.clone()),
                storage,
                publisher,
                sealing: secrets.sealing,
                code_key: secrets.code_key,
                config_doc,
                code_attempts: ratelimit::CodeAttempts::new(config.rate_limits),
                guesses: ratelimit::Guesses::new(config.sign_in_limits),
                clock: config.clock,
                trust_forwarded_for: config.trust_forwarded_for,
                code_validity: config.code_validity,
                fake_delays: chaff::FakeDelays::default(),
                tally: api::Tally::default(),
                inbox_posts: ratelimit::InboxPosts::new(config.inbox_limits),
                metrics,
            }),
        })
    }

    /// The router: the phone API, the officer API and page, the exports, `/healthz`.
    pub fn app(&self) -> axum::Router {
        api::router(Arc::clone(&self.state))
    }

    /// The operator's router: `GET /metrics` (OpenMetrics text), nothing else. Never merged into
    /// [`app`](Self::app): the public port behind the load balancer must not expose it.
    pub fn metrics_app(&self) -> axum::Router {
        api::metrics_router(Arc::clone(&self.state))
    }

    /// Serves [`metrics_app`](Self::metrics_app) on `listener` (with the same HTTP deadlines as the
    /// public port) until `shutdown` completes.
    pub async fn serve_metrics(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) {
        http::serve(listener, self.metrics_app(), self.http, shutdown).await;
    }

    /// What opening found and repaired of publications a crash interrupted.
    pub fn startup_report(&self) -> &ReconcileReport {
        &self.reconciled
    }

    /// Officers' accounts and the audit log of this server.
    pub fn accounts(&self) -> Accounts {
        Accounts {
            storage: self.state.storage.clone(),
            code_key: Some(self.state.code_key.clone()),
            clock: Arc::clone(&self.state.clock),
        }
    }

    /// The public key that verifies this server's exports.
    pub fn verification_key(&self) -> VerificationKey {
        self.state.publisher.signer.verification_key()
    }

    /// What `/v1/config` answers.
    pub fn config_doc(&self) -> &ServerConfigDoc {
        &self.state.config_doc
    }

    /// Runs one publication now (the loop in [`serve`](Self::serve) does this on every cadence tick).
    pub async fn publish_now(&self) -> Result<PublicationReport> {
        self.state.publish().await
    }

    /// Serves on `listener` (HTTP/1.1 with [`HttpLimits`]) and publishes on the cadence until `shutdown`
    /// completes; then stops accepting connections, lets open requests and a running publication
    /// finish, and flushes the database.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        let state = Arc::clone(&self.state);
        let cadence = self.cadence;
        let publication = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(cadence);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {
                        // A run in progress is never cut short: the stop signal is only looked at between runs.
                        if let Err(e) = state.publish().await {
                            tracing::error!(error = %e, "publication failed; retrying at the next tick");
                        }
                    }
                    _ = stop_rx.changed() => break,
                }
            }
        });
        http::serve(listener, self.app(), self.http, async move {
            shutdown.await;
            tracing::info!("shutting down");
            let _ = stop_tx.send(true);
        })
        .await;
        let _ = publication.await;
        self.state.publisher.release_lease().await?;
        self.state.metrics.lease_released();
        self.state.storage.flush().await
    }
}

/// What `/v1/config` announces: only what may be public (the current sealing public key, never the
/// previous one or anything secret). Apps pin the keys in their build instead of trusting this
/// document, which is cacheable and may pass through a CDN.
fn config_doc(config: &ServerConfig, secrets: &keys::Secrets) -> ServerConfigDoc {
    let index_url = config
        .public_index_url
        .clone()
        .unwrap_or_else(|| format!("v1/exports/{INDEX_NAME}"));
    let verification = secrets.signer.verification_key();
    ServerConfigDoc {
        version: 1,
        region: config.publication.region.clone(),
        export_signing_keys: vec![ExportSigningKeyDoc {
            key_id: verification.key_id.clone(),
            version: verification.version.clone(),
            algorithm: ECDSA_SHA256_OID.into(),
            public_key_pem: verification.to_pem(),
        }],
        upload_sealing_key: SealingKeyDoc {
            algorithm: SEALING_ALGORITHM.into(),
            version: SEAL_VERSION,
            public_key: secrets.sealing.public_key().to_base64(),
        },
        risk_configuration: config.risk.clone(),
        publication: PublicationDoc {
            cadence_secs: config.publication.cadence.as_secs(),
            delay_secs: config.publication.delay.as_secs(),
            min_batch_keys: config.publication.min_batch,
        },
        index_url: index_url.clone(),
        // Each partition's index beside index.txt (on this server, or at the CDN).
        region_index_urls: config
            .publication
            .partition_indexes()
            .into_iter()
            .map(|(file, partition)| {
                let url = match index_url.rsplit_once('/') {
                    Some((dir, _)) => format!("{dir}/{file}"),
                    None => file,
                };
                (partition, url)
            })
            .collect(),
        upload_limits: UploadLimitsDoc {
            max_keys: MAX_KEYS_PER_UPLOAD,
            max_key_age_days: KEY_RETENTION_DAYS,
            max_body_bytes: MAX_SEALED_BYTES,
        },
    }
}

/// Officers' accounts and the audit log: of a running [`Server`] ([`Server::accounts`]), or of a
/// stopped server's data directory ([`Accounts::open`], for `openzone officer`).
#[derive(Clone)]
pub struct Accounts {
    storage: storage::Storage,
    code_key: Option<ring::hmac::Key>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts").finish_non_exhaustive()
    }
}

impl Accounts {
    /// Opens the database in `data_dir` (the server must be stopped: one process at a time).
    pub fn open(data_dir: &Path) -> Result<Self> {
        let code_key = keys::read_code_key(data_dir)?;
        Ok(Self {
            storage: storage::Storage::open(&data_dir.join("db"))?,
            code_key,
            clock: Arc::new(SystemClock),
        })
    }

    /// Connects to the PostgreSQL database replicas share (servers may be running).
    pub async fn connect(database: &str) -> Result<Self> {
        let storage = storage::Storage::connect(database).await?;
        let code_key = keys::shared_code_key(&storage).await?;
        Ok(Self {
            storage,
            code_key,
            clock: Arc::new(SystemClock),
        })
    }

    /// Creates an account with a password of at least [`MIN_PASSWORD_CHARS`] characters and a quota of
    /// codes per UTC day.
    pub async fn add_officer(&self, name: &str, password: &str, daily_quota: u32) -> Result<()> {
        officers::add(
            &self.storage,
            name,
            password,
            daily_quota,
            self.clock.now_ms(),
        )
        .await?;
        self.storage.flush().await
    }

    /// Disables an account and ends its sessions.
    pub async fn disable_officer(&self, name: &str) -> Result<()> {
        officers::disable(&self.storage, name, self.clock.now_ms()).await?;
        self.storage.flush().await
    }

    /// Every account.
    pub async fn officers(&self) -> Result<Vec<OfficerInfo>> {
        officers::list(&self.storage).await
    }

    /// The audit log, oldest first.
    pub async fn audit_log(&self) -> Result<Vec<AuditEntry>> {
        audit::entries(&self.storage).await
    }

    /// Who issued `code` (the 8 digits a user shows), if the audit log has it.
    pub async fn code_issuer(&self, code: &str) -> Result<Option<String>> {
        let Some(key) = &self.code_key else {
            return Ok(None);
        };
        audit::issuer_of(
            &self.storage,
            &hex::encode(codes::code_hmac(key, code.trim())),
        )
        .await
    }
}

/// Entry points for the fuzz targets in `fuzz/` (docs/fuzzing.md): the parsers of outside input, called
/// without a socket or a database. Not an API: nothing else should call them.
#[doc(hidden)]
pub mod fuzzing {
    use openzone_wire::keyserver::wire::Upload;

    use crate::storage::{CodeRecord, TestType};

    /// A post to a visitor-log inbox as the server checks it before storing: the path's location-id
    /// hash and the sealed entry's framing. Whatever passes has a well-formed hash and fits the limits.
    pub fn inbox_post(hash_hex: &str, body: &[u8]) {
        if let Ok(post) = crate::inbox::check_post(hash_hex, body) {
            assert_eq!(hex::encode(post.venue.0), hash_hex.to_ascii_lowercase());
            assert!(body.len() <= openzone_wire::visitorlog::MAX_SEALED_ENTRY_BYTES);
        }
    }

    /// An opened upload's plaintext as the server reads it at `now_ms`: the padding rule, the JSON, the
    /// key checks, and for keys that pass, what the export would say about them under a code with the
    /// onset `onset_day`. Panics only if a round trip breaks.
    pub fn upload_plaintext(plain: &[u8], now_ms: u64, onset_day: Option<u32>) {
        let Ok(upload) = Upload::from_plaintext(plain) else {
            return;
        };
        let again = Upload::from_plaintext(&upload.to_padded_plaintext());
        assert_eq!(
            again.ok().as_ref(),
            Some(&upload),
            "a padded upload reads back"
        );
        let Upload::Real(payload) = upload else {
            return;
        };
        let _ = crate::codes::well_formed(&payload.code);
        let Ok(keys) = crate::publish::validate_keys(&payload.keys, now_ms) else {
            return;
        };
        let code = CodeRecord {
            test_type: TestType::Confirmed,
            onset_day,
            issued_ms: now_ms,
            expires_ms: now_ms,
            used: false,
            retry_tag: None,
            region: None,
        };
        for key in &keys {
            let stored = crate::publish::stored_key(&code, key);
            assert!(stored.shape.rolling_period >= key.key.rolling_period);
            let _ = stored.shape.end_ms();
        }
    }

    /// What the officer page reads from a request: the `Cookie` header (session and language) and the
    /// two forms; and the officer API's two JSON bodies.
    pub fn officer_request(cookie_header: &[u8], body: &[u8]) {
        crate::admin::read_request_parts(cookie_header, body);
        crate::api::read_admin_json(body);
    }
}

/// The export storage the configuration names.
fn open_exports(config: &ServerConfig) -> Result<publication::Exports> {
    let bad = |e: &dyn std::fmt::Display| {
        ServerError::Config(format!(
            "cannot use {:?} for exports: {e}",
            config.exports.as_deref().unwrap_or_default()
        ))
    };
    let local = |dir: PathBuf| -> Result<publication::Exports> {
        std::fs::create_dir_all(&dir).map_err(|source| ServerError::File {
            path: dir.clone(),
            source,
        })?;
        // fsync on: a file and the index must be on disk before the database says they are published.
        let store = LocalFileSystem::new_with_prefix(&dir)
            .map_err(|e| bad(&e))?
            .with_fsync(true);
        Ok(publication::Exports {
            store: Arc::new(store),
            prefix: ObjectPath::default(),
            local_dir: Some(dir),
        })
    };
    match config.exports.as_deref() {
        None => local(config.data_dir.join("exports")),
        Some(spec) if !spec.contains("://") => local(PathBuf::from(spec)),
        Some(spec) => {
            let url = url::Url::parse(spec).map_err(|e| bad(&e))?;
            match url.scheme() {
                "file" => local(url.to_file_path().map_err(|()| bad(&"not a local path"))?),
                "s3" => {
                    // object_store reaches S3 over reqwest with rustls, which takes the process's
                    // crypto provider. A library does not choose it for the whole process: the program
                    // installs one (`openzone serve` installs ring's), or it is told what to do here.
                    if rustls::crypto::CryptoProvider::get_default().is_none() {
                        return Err(bad(
                            &"S3 needs a process-wide rustls crypto provider; install one \
                             first (rustls::crypto::ring::default_provider().install_default())",
                        ));
                    }
                    let store = object_store::aws::AmazonS3Builder::from_env()
                        .with_url(spec)
                        .build()
                        .map_err(|e| bad(&e))?;
                    Ok(publication::Exports {
                        store: Arc::new(store) as Arc<dyn ObjectStore>,
                        prefix: ObjectPath::parse(url.path()).map_err(|e| bad(&e))?,
                        local_dir: None,
                    })
                }
                "memory" => Ok(publication::Exports {
                    store: Arc::new(object_store::memory::InMemory::new()),
                    prefix: ObjectPath::default(),
                    local_dir: None,
                }),
                other => Err(bad(&format!(
                    "unsupported scheme {other:?}; use a directory, file://, s3:// or memory://"
                ))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_can_be_pointed_at_s3_by_configuration_alone() {
        // Building the client contacts nothing; credentials would come from AWS_* variables.
        // What `openzone serve` does before it opens the exports.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut config = ServerConfig::new("/nonexistent");
        config.exports = Some("s3://openzone-exports/vn/v1".into());
        let exports = open_exports(&config).unwrap();
        assert_eq!(exports.prefix.as_ref(), "vn/v1");
        assert!(exports.local_dir.is_none());
        assert!(exports.store.to_string().contains("openzone-exports"));
        config.exports = Some("gopher://x".into());
        assert!(matches!(open_exports(&config), Err(ServerError::Config(_))));
    }

    /// On tokio's paused clock, a fake upload's answer comes exactly after a delay from the window of
    /// real durations (before any real upload: the starting spread), drawn anew each time.
    #[tokio::test(start_paused = true)]
    async fn a_fake_upload_is_answered_after_a_drawn_delay() {
        use openzone_wire::keyserver::seal::seal;
        use openzone_wire::keyserver::wire::{FakeUpload, Upload};
        use tower::ServiceExt as _;

        let dir = tempfile::tempdir().unwrap();
        let server = Server::open(ServerConfig::new(dir.path())).await.unwrap();
        let window: Vec<Duration> = (0..64u64)
            .map(|i| server.state.fake_delays.draw(i))
            .collect();
        let key = server.state.sealing.public_key();
        let mut waited = std::collections::HashSet::new();
        for _ in 0..30 {
            let fake = Upload::Fake(FakeUpload {
                fake: true,
                pretend_keys: 4,
            });
            let body = seal(&key, &fake.to_padded_plaintext()).unwrap();
            let request = axum::http::Request::post("/v1/publish")
                .body(axum::body::Body::from(body))
                .unwrap();
            let started = tokio::time::Instant::now();
            let response = server.app().oneshot(request).await.unwrap();
            let elapsed = started.elapsed();
            assert_eq!(response.status(), 200);
            let answer = axum::body::to_bytes(response.into_body(), 1_024)
                .await
                .unwrap();
            assert_eq!(&answer[..], br#"{"accepted_keys":4,"repeated":false}"#);
            assert!(
                window.contains(&elapsed),
                "{elapsed:?} is not a remembered duration"
            );
            waited.insert(elapsed);
        }
        assert!(waited.len() > 1, "every fake waited the same {waited:?}");
    }

    #[test]
    fn a_configs_debug_hides_the_database_password() {
        let mut config = ServerConfig::new("/srv/openzone");
        config.database = Some("postgres://oz:secret@db.example.vn/openzone".into());
        let shown = format!("{config:?}");
        assert!(
            shown.contains("postgres://oz:***@db.example.vn/openzone"),
            "{shown}"
        );
        assert!(!shown.contains("secret"), "{shown}");
    }
}
