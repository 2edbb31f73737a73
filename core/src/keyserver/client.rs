//! The phone's HTTP client for the key server: reqwest over rustls (ring), with timeouts, retries with
//! exponential back-off on transient failures, and size caps on everything it downloads.
//!
//! Transient failures are the ones a later try can fix: no connection, a timeout, HTTP 5xx and 429
//! (whose `Retry-After` is honoured up to the back-off cap). Anything else the server refused is final
//! and becomes [`Error::KeyServerRejected`] with the server's error code.

use std::time::Duration;

use reqwest::{StatusCode, Url};
use ring::rand::{SecureRandom, SystemRandom};

use crate::checkin::venue::LocationIdHash;
use crate::error::Error;
use crate::export::MAX_ZIP_BYTES;
use crate::visitorlog::inbox::{
    inbox_path, InboxEntries, InboxPostResponse, MAX_INBOX_ANSWER_BYTES,
};
use crate::wire::Error as WireError;

use super::seal::{seal, SealingPublicKey};
use super::wire::{
    ErrorBody, FakeUpload, PublishResponse, ServerConfigDoc, Upload, UploadPayload, VenueWarning,
};

/// The largest `/v1/config` or `index.txt` accepted.
pub const MAX_DOCUMENT_BYTES: u64 = 1 << 20;

/// How the client reaches the key server and which keys it trusts.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The key server's base URL, e.g. `https://keys.example.vn/`.
    pub server_url: String,
    /// Most time to establish a connection.
    pub connect_timeout: Duration,
    /// Most time for a whole request, body included.
    pub request_timeout: Duration,
    /// Tries per request, the first included (at least 1).
    pub max_attempts: u32,
    /// Wait before the second try; doubled for each further one.
    pub initial_backoff: Duration,
    /// Longest wait between tries.
    pub max_backoff: Duration,
    /// The upload sealing keys the app was built with: one, or two while the server rotates its key
    /// (the next one first). Uploads are sealed only to a pinned key ([`KeyServerClient::sealing_key`]);
    /// when empty, to the key `/v1/config` announces, which a proxy or CDN could replace.
    pub pinned_sealing_keys: Vec<SealingPublicKey>,
}

impl ClientConfig {
    /// Defaults for `server_url`: 10 s to connect, 2 minutes per request, 4 tries 0.5 s, 1 s, 2 s apart
    /// (at most 30 s), nothing pinned.
    pub fn new(server_url: &str) -> Self {
        Self {
            server_url: server_url.to_owned(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
            max_attempts: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            pinned_sealing_keys: Vec::new(),
        }
    }
}

/// TLS as the key server's client speaks it: rustls on ring (the crypto the core uses throughout), given
/// explicitly rather than installed as the process's default, and the platform's certificate verifier
/// (the operating system's roots on Android and iOS, the system store on Linux).
pub fn tls_config() -> Result<rustls::ClientConfig, Error> {
    use rustls_platform_verifier::BuilderVerifierExt as _;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_platform_verifier())
        .map_err(|e| WireError::InvalidConfig(format!("cannot set up TLS: {e}")))?
        .with_no_client_auth())
}

/// A client of one key server.
#[derive(Debug, Clone)]
pub struct KeyServerClient {
    http: reqwest::Client,
    base: Url,
    config: ClientConfig,
}

/// One entry of the export index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// The name as `index.txt` lists it; unique for ever, so it identifies the export.
    pub name: String,
    /// Where to download it.
    pub url: Url,
}

impl KeyServerClient {
    /// A client with `config`.
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        let mut base = Url::parse(&config.server_url).map_err(|e| {
            WireError::InvalidConfig(format!(
                "the key server address {:?} is not a URL: {e}",
                config.server_url
            ))
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(WireError::InvalidConfig(format!(
                "the key server address {:?} must start with https:// (or http:// for a local test server)",
                config.server_url
            )).into());
        }
        // Relative paths resolve below the base only if it ends with a slash.
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls_config()?)
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(concat!("openzone/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| WireError::InvalidConfig(format!("cannot set up HTTPS: {e}")))?;
        Ok(Self { http, base, config })
    }

    /// The configuration the client was made with.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// `reference` (absolute, or relative to the server's base URL) as an absolute URL.
    pub fn resolve(&self, reference: &str) -> Result<Url, Error> {
        self.base.join(reference).map_err(|e| {
            Error::KeyServerResponse(format!("{reference:?} is not a usable address: {e}"))
        })
    }

    /// `GET /v1/config`.
    pub async fn fetch_config(&self) -> Result<ServerConfigDoc, Error> {
        let url = self.resolve("v1/config")?;
        let body = self
            .request(|| self.http.get(url.clone()), &url, MAX_DOCUMENT_BYTES)
            .await?;
        serde_json::from_slice(&body).map_err(|e| {
            Error::KeyServerResponse(format!("the configuration is not valid JSON: {e}"))
        })
    }

    /// The key to seal uploads to. With one pinned key, that key. With two (a rotation), the one
    /// `/v1/config` announces if it is pinned, else the first. Without pins, the announced key.
    pub async fn sealing_key(&self) -> Result<SealingPublicKey, Error> {
        let pinned = &self.config.pinned_sealing_keys;
        match pinned.as_slice() {
            [] => Ok(self.fetch_config().await?.upload_sealing_key.public_key()?),
            [only] => Ok(*only),
            [first, ..] => {
                let announced = match self.fetch_config().await {
                    Ok(doc) => doc.upload_sealing_key.public_key().ok(),
                    // The server cannot be reached now: the upload will say so; seal to a pinned key.
                    Err(_) => None,
                };
                Ok(announced.filter(|k| pinned.contains(k)).unwrap_or(*first))
            }
        }
    }

    /// `POST /v1/publish`: pads `payload`, seals it to `sealing_key` and uploads it. A retry sends the
    /// same sealed body, which the server recognises and answers as a repeat.
    pub async fn publish(
        &self,
        sealing_key: &SealingPublicKey,
        payload: &UploadPayload,
    ) -> Result<PublishResponse, Error> {
        self.post_sealed(sealing_key, &Upload::Real(payload.clone()))
            .await
    }

    /// `POST /v1/publish` of chaff: an upload of the same size, path and headers as a real one, which the
    /// server answers like an accepted report of `pretend_keys` keys and drops. Phones send these at
    /// random times, through the same steps as a real report ([`sealing_key`](Self::sealing_key), then
    /// this), so that watching the network does not tell who reported.
    pub async fn publish_fake(
        &self,
        sealing_key: &SealingPublicKey,
        pretend_keys: usize,
    ) -> Result<PublishResponse, Error> {
        let fake = FakeUpload {
            fake: true,
            pretend_keys,
        };
        self.post_sealed(sealing_key, &Upload::Fake(fake)).await
    }

    async fn post_sealed(
        &self,
        sealing_key: &SealingPublicKey,
        upload: &Upload,
    ) -> Result<PublishResponse, Error> {
        let body = seal(sealing_key, &upload.to_padded_plaintext())?;
        self.post_octets("v1/publish", body, "the upload").await
    }

    /// `POST`s `body` as `application/octet-stream` to `path` and reads the JSON answer; `what` names the
    /// request in errors.
    async fn post_octets<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: Vec<u8>,
        what: &str,
    ) -> Result<T, Error> {
        let answer = self.post(path, "application/octet-stream", body).await?;
        serde_json::from_slice(&answer).map_err(|e| {
            Error::KeyServerResponse(format!("the answer to {what} is not valid JSON: {e}"))
        })
    }

    /// `POST`s `body` of `content_type` to `path`, retrying transient failures; returns the answer's body.
    async fn post(&self, path: &str, content_type: &str, body: Vec<u8>) -> Result<Vec<u8>, Error> {
        let url = self.resolve(path)?;
        self.request(
            || {
                self.http
                    .post(url.clone())
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .body(body.clone())
            },
            &url,
            MAX_DOCUMENT_BYTES,
        )
        .await
    }

    /// `POST /v1/admin/warnings` with a one-time code in `warning`: an officer's warning for a venue
    /// and a span, published with the next warning package.
    pub async fn warn_venue(&self, warning: &VenueWarning) -> Result<(), Error> {
        let body = serde_json::to_vec(warning)
            .map_err(|e| WireError::InvalidConfig(format!("the warning cannot be written: {e}")))?;
        self.post("v1/admin/warnings", "application/json", body)
            .await
            .map(drop)
    }

    /// Downloads and parses the export index at `index_url` (absolute or relative to the server).
    pub async fn fetch_index(&self, index_url: &str) -> Result<(Vec<IndexEntry>, u64), Error> {
        let url = self.resolve(index_url)?;
        let body = self
            .request(|| self.http.get(url.clone()), &url, MAX_DOCUMENT_BYTES)
            .await?;
        let text = std::str::from_utf8(&body)
            .map_err(|_| Error::KeyServerResponse("index.txt is not UTF-8 text".into()))?;
        let entries = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|name| {
                Ok(IndexEntry {
                    name: name.to_owned(),
                    url: url.join(name).map_err(|e| {
                        Error::KeyServerResponse(format!("index.txt lists {name:?}: {e}"))
                    })?,
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok((entries, body.len() as u64))
    }

    /// Downloads an export zip, refusing more than [`MAX_ZIP_BYTES`].
    pub async fn download_export(&self, url: &Url) -> Result<Vec<u8>, Error> {
        self.request(|| self.http.get(url.clone()), url, MAX_ZIP_BYTES)
            .await
    }

    /// `POST` a sealed visitor-log entry to the inbox of the venue whose location-id hash is `venue`. A
    /// retry sends the same bytes, which the server drops as a repeat.
    pub async fn post_visitor_entry(
        &self,
        venue: &LocationIdHash,
        sealed: &[u8],
    ) -> Result<InboxPostResponse, Error> {
        self.post_octets(&inbox_path(venue), sealed.to_vec(), "the visitor-log entry")
            .await
    }

    /// The sealed entries the inbox of `venue` received from `since_ms` to `until_ms` (UTC unix ms).
    pub async fn visitor_entries(
        &self,
        venue: &LocationIdHash,
        since_ms: u64,
        until_ms: u64,
    ) -> Result<InboxEntries, Error> {
        let mut url = self.resolve(&inbox_path(venue))?;
        url.query_pairs_mut()
            .append_pair("since", &since_ms.to_string())
            .append_pair("until", &until_ms.to_string());
        let body = self
            .request(|| self.http.get(url.clone()), &url, MAX_INBOX_ANSWER_BYTES)
            .await?;
        serde_json::from_slice(&body).map_err(|e| {
            Error::KeyServerResponse(format!("the visitor log is not valid JSON: {e}"))
        })
    }

    /// Sends the request `make` builds, retrying transient failures, and returns the body of a 2xx answer
    /// (at most `cap` bytes).
    async fn request(
        &self,
        make: impl Fn() -> reqwest::RequestBuilder,
        url: &Url,
        cap: u64,
    ) -> Result<Vec<u8>, Error> {
        let attempts = self.config.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (error, retry_after) = match self.try_once(make(), url, cap).await {
                Ok(body) => return Ok(body),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Transient(e, retry_after)) => (e, retry_after),
            };
            if attempt >= attempts {
                return Err(error);
            }
            tokio::time::sleep(self.backoff(attempt, retry_after)).await;
        }
    }

    /// The wait after failed try number `attempt` (from 1): exponential, with up to 25 % random jitter
    /// so that phones that failed together do not retry together; a server's `Retry-After` wins when
    /// longer. Never more than the cap.
    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .config
            .initial_backoff
            .saturating_mul(1u32 << (attempt - 1).min(16));
        let mut jitter = [0u8; 1];
        let jitter = match SystemRandom::new().fill(&mut jitter) {
            Ok(()) => exp.mul_f64(f64::from(jitter[0]) / 1020.0),
            Err(_) => Duration::ZERO,
        };
        (exp + jitter)
            .max(retry_after.unwrap_or_default())
            .min(self.config.max_backoff)
    }

    async fn try_once(
        &self,
        request: reqwest::RequestBuilder,
        url: &Url,
        cap: u64,
    ) -> Result<Vec<u8>, Failure> {
        let unreachable = |e: reqwest::Error| {
            let reason = if e.is_timeout() {
                "the request timed out".to_owned()
            } else if e.is_connect() {
                "no connection".to_owned()
            } else {
                e.to_string()
            };
            Failure::Transient(
                Error::KeyServerUnreachable {
                    url: url.to_string(),
                    reason,
                },
                None,
            )
        };
        let mut response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        if response.content_length().is_some_and(|len| len > cap) {
            return Err(Failure::Final(Error::KeyServerResponse(format!(
                "{url} is {} bytes; at most {cap} are accepted",
                response.content_length().unwrap_or_default()
            ))));
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() as u64 + chunk.len() as u64 > cap {
                return Err(Failure::Final(Error::KeyServerResponse(format!(
                    "{url} is larger than the {cap} bytes accepted"
                ))));
            }
            body.extend_from_slice(&chunk);
        }
        if status.is_success() {
            return Ok(body);
        }
        let refused = match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(e) => Error::KeyServerRejected {
                status: status.as_u16(),
                code: e.error,
                message: e.message,
            },
            Err(_) => Error::KeyServerRejected {
                status: status.as_u16(),
                code: format!("http_{}", status.as_u16()),
                message: format!("{url} answered {status}"),
            },
        };
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            Err(Failure::Transient(refused, retry_after))
        } else {
            Err(Failure::Final(refused))
        }
    }
}

enum Failure {
    /// Worth another try, after at least the duration given.
    Transient(Error, Option<Duration>),
    Final(Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_checked_and_normalised() {
        let client = KeyServerClient::new(ClientConfig::new("http://127.0.0.1:8080/keys")).unwrap();
        assert_eq!(
            client.resolve("v1/config").unwrap().as_str(),
            "http://127.0.0.1:8080/keys/v1/config"
        );
        assert_eq!(
            client
                .resolve("https://cdn.example/exports/index.txt")
                .unwrap()
                .as_str(),
            "https://cdn.example/exports/index.txt"
        );
        for bad in ["", "not a url", "ftp://host/"] {
            assert!(
                matches!(
                    KeyServerClient::new(ClientConfig::new(bad)),
                    Err(Error::Wire(WireError::InvalidConfig(_)))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_and_respects_the_cap_and_retry_after() {
        let mut config = ClientConfig::new("http://127.0.0.1:1/");
        config.initial_backoff = Duration::from_millis(100);
        config.max_backoff = Duration::from_secs(1);
        let client = KeyServerClient::new(config).unwrap();
        for (attempt, base_ms) in [(1, 100), (2, 200), (3, 400), (4, 800)] {
            let wait = client.backoff(attempt, None);
            let base = Duration::from_millis(base_ms);
            assert!(
                wait >= base.min(Duration::from_secs(1)),
                "{attempt}: {wait:?}"
            );
            assert!(
                wait <= (base + base / 4).min(Duration::from_secs(1)),
                "{attempt}: {wait:?}"
            );
        }
        assert_eq!(client.backoff(10, None), Duration::from_secs(1));
        assert_eq!(
            client.backoff(1, Some(Duration::from_millis(700))),
            Duration::from_millis(700)
        );
        assert_eq!(
            client.backoff(1, Some(Duration::from_secs(60))),
            Duration::from_secs(1)
        );
    }
}
