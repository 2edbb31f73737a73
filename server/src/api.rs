//! Routes and handlers. Handlers are thin: they extract, call the module that does the work, and let
//! [`ServerError`]'s `IntoResponse` (in `error.rs`) turn failures into answers.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use openzone_wire::keyserver::seal::MAX_SEALED_BYTES;
use openzone_wire::keyserver::wire::{
    PublishResponse, Upload, UploadPayload, MAX_KEYS_PER_UPLOAD, PADDED_PLAINTEXT_BYTES,
};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

use crate::audit::{self, AuditAction, AuditEntry};
use crate::codes::{self, CodeRequest};
use crate::error::{Result, ServerError};
use crate::publication::{is_export_name, is_index_name};
use crate::storage::{TestType, CODES_ISSUED, CODES_USED, KEYS_PUBLISHED};
use crate::{admin, inbox, officers, publish, visitor_page, warnings, AppState};

/// Largest admin JSON or form body.
pub(crate) const MAX_ADMIN_BODY: usize = 4 * 1024;

pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/v1/config", get(config))
        .route("/v1/publish", post(publish_keys))
        .route("/v1/admin/login", post(login))
        .route("/v1/admin/logout", post(logout))
        .route("/v1/admin/codes", post(issue_code))
        .route("/v1/admin/stats", get(stats))
        .route("/v1/admin/warnings", post(warn))
        .route("/v1/exports/{name}", get(export_file))
        .route("/v1/inbox/{hash}", post(inbox::post).get(inbox::get))
        .merge(admin::router())
        .merge(visitor_page::router())
        .fallback(|| async { ServerError::NotFound })
        .with_state(state)
}

/// The operator's router (`Server::metrics_app`), served on a listener of its own.
pub(crate) fn metrics_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .fallback(|| async { ServerError::NotFound })
        .with_state(state)
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [
            (header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        state.metrics.encode(),
    )
        .into_response()
}

async fn config(State(state): State<Arc<AppState>>) -> Response {
    let mut response = Json(&state.config_doc).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

/// The address that counts for the request's rate limits (`http::client_ip`): the connection's peer,
/// or behind a trusted proxy the address it appended.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Client(pub IpAddr);

impl axum::extract::FromRequestParts<Arc<AppState>> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        // Absent when the router is called without a socket, as tests do.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        Ok(Self(crate::http::client_ip(
            &parts.headers,
            peer,
            state.trust_forwarded_for,
        )))
    }
}

/// Reads a body of at most `max` bytes.
pub(crate) async fn read_body(request: Request, max: usize) -> Result<Bytes> {
    let too_large = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|len| len > max as u64);
    if too_large {
        return Err(ServerError::BodyTooLarge { max });
    }
    axum::body::to_bytes(request.into_body(), max)
        .await
        .map_err(|e| {
            // to_bytes fails on the limit, the deadline, or when the client breaks off; each leaves
            // nothing to process.
            let inner = e.into_inner();
            if inner.is::<http_body_util::LengthLimitError>() {
                ServerError::BodyTooLarge { max }
            } else if let Some(limit) = crate::http::missed_body_deadline(inner.as_ref()) {
                ServerError::BodyTimeout {
                    secs: limit.as_secs(),
                }
            } else {
                ServerError::Malformed(format!("the body could not be read: {inner}"))
            }
        })
}

fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    // Without randomness, a fake answer waits the first remembered duration: still a real one.
    let _ = SystemRandom::new().fill(&mut bytes);
    u64::from_le_bytes(bytes)
}

async fn publish_keys(
    State(state): State<Arc<AppState>>,
    Client(client): Client,
    request: Request,
) -> Response {
    let result = match read_body(request, MAX_SEALED_BYTES).await {
        Ok(body) => answer_upload(&state, client, &body).await,
        Err(e) => Err(e),
    };
    match &result {
        // Chaff is answered like an accepted upload but not counted in the log line; the operator's
        // metrics, which the public never sees, count it apart.
        Ok(answer) if answer.chaff => state.metrics.fake_upload(),
        Ok(answer) => {
            state.metrics.upload_accepted(answer.repeated);
            state.tally.count(if answer.repeated {
                "repeated"
            } else {
                "accepted"
            });
        }
        Err(e) => {
            state.metrics.upload_refused(e);
            state.tally.count(e.code());
        }
    }
    result.map(|a| Json(a.response)).into_response()
}

/// The answer to an upload, and whether it was chaff.
struct Answer {
    response: PublishResponse,
    repeated: bool,
    chaff: bool,
}

/// Opens a sealed upload and answers it: chaff after a delay like a real answer's, a real report by
/// storing it.
async fn answer_upload(state: &AppState, client: IpAddr, body: &[u8]) -> Result<Answer> {
    let started = tokio::time::Instant::now();
    let plain = state.sealing.open(body).map_err(|e| match e {
        openzone_wire::Error::SealedUpload(reason) => ServerError::BadSeal(reason),
        other => ServerError::BadSeal(other.to_string()),
    })?;
    if plain.len() % PADDED_PLAINTEXT_BYTES != 0 {
        return Err(ServerError::Malformed(format!(
            "the report is {} bytes; it must be padded to a multiple of {PADDED_PLAINTEXT_BYTES}",
            plain.len()
        )));
    }
    let payload = match Upload::from_plaintext(&plain) {
        Ok(Upload::Real(payload)) => payload,
        Ok(Upload::Fake(fake)) => {
            let delay = state.fake_delays.draw(random_u64());
            tokio::time::sleep_until(started + delay).await;
            return Ok(Answer {
                response: PublishResponse {
                    accepted_keys: fake.pretend_keys.clamp(1, MAX_KEYS_PER_UPLOAD),
                    repeated: false,
                },
                repeated: false,
                chaff: true,
            });
        }
        Err(openzone_wire::Error::SealedUpload(reason)) => {
            return Err(ServerError::Malformed(reason))
        }
        Err(other) => return Err(ServerError::Malformed(other.to_string())),
    };
    let response = accept_upload(state, client, &payload, body).await?;
    if !response.repeated {
        state.fake_delays.observe(started.elapsed());
    }
    Ok(Answer {
        repeated: response.repeated,
        response,
        chaff: false,
    })
}

async fn accept_upload(
    state: &AppState,
    client: IpAddr,
    payload: &UploadPayload,
    body: &[u8],
) -> Result<PublishResponse> {
    let now_ms = state.now_ms();
    let keys = publish::validate_keys(&payload.keys, now_ms)?;
    let checkins = warnings::validate_checkins(&payload.checkins)?;
    let upload = publish::Upload {
        payload,
        keys: &keys,
        checkins: &checkins,
        retry_tag: publish::retry_tag(body),
    };
    let store = publish::store_upload(&state.storage, &state.code_key, upload, now_ms);
    under_code_limit(state, client, &payload.code, now_ms, store).await
}

/// Runs `use_code` (which checks and uses `code`) under the rate limit of failed code attempts: the
/// code is looked at only then, and a failure costs the client.
async fn under_code_limit<T>(
    state: &AppState,
    client: IpAddr,
    code: &str,
    now_ms: u64,
    use_code: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    state.code_attempts.acquire(client, now_ms)?;
    let result = if codes::well_formed(code) {
        use_code.await
    } else {
        Err(ServerError::CodeUnknown)
    };
    let failed = result
        .as_ref()
        .is_err_and(ServerError::is_failed_code_attempt);
    state.code_attempts.settle(client, now_ms, failed);
    result
}

/// `POST /v1/admin/login` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    name: String,
    password: String,
}

/// `POST /v1/admin/login` answer.
#[derive(Debug, Serialize)]
struct LoginResponse {
    /// The bearer token of the new session.
    token: String,
    /// RFC 3339, UTC.
    expires_at: String,
    expires_at_ms: u64,
}

/// Checks an officer's name and password under the sign-in throttle; starts a session. The page and the
/// API share it.
pub(crate) async fn sign_in(
    state: &AppState,
    client: IpAddr,
    name: &str,
    password: &str,
) -> Result<(String, u64)> {
    let now_ms = state.now_ms();
    state.guesses.acquire(client, Some(name), now_ms)?;
    let matches = officers::check_password(&state.storage, name, password).await?;
    if !matches {
        audit::add(
            &state.storage,
            &AuditEntry::new(now_ms, name, AuditAction::SignInRefused),
        )
        .await?;
        tracing::info!("officer sign-in refused");
        return Err(ServerError::Unauthorized);
    }
    state.guesses.succeeded(client, Some(name));
    let token = officers::start_session(&state.storage, name, now_ms).await?;
    audit::add(
        &state.storage,
        &AuditEntry::new(now_ms, name, AuditAction::SignIn),
    )
    .await?;
    tracing::info!("officer signed in");
    Ok((token, now_ms + officers::SESSION_MS))
}

/// The officer whose session token `token` is, under the throttle of failed checks.
pub(crate) async fn officer_of_token(
    state: &AppState,
    client: IpAddr,
    token: &str,
) -> Result<String> {
    state.guesses.acquire(client, None, state.now_ms())?;
    match officers::session_officer(&state.storage, token, state.now_ms()).await? {
        Some(officer) => {
            state.guesses.succeeded(client, None);
            Ok(officer)
        }
        None => Err(ServerError::Unauthorized),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

async fn check_bearer(state: &AppState, headers: &HeaderMap, client: IpAddr) -> Result<String> {
    let token = bearer(headers).ok_or(ServerError::Unauthorized)?;
    officer_of_token(state, client, token).await
}

async fn login(
    State(state): State<Arc<AppState>>,
    Client(client): Client,
    request: Request,
) -> Result<Response> {
    let body = read_body(request, MAX_ADMIN_BODY).await?;
    let req: LoginRequest = serde_json::from_slice(&body).map_err(|e| {
        ServerError::Malformed(format!(
            "expected {{\"name\": \"...\", \"password\": \"...\"}}: {e}"
        ))
    })?;
    let (token, expires_ms) = sign_in(&state, client, &req.name, &req.password).await?;
    Ok(Json(LoginResponse {
        token,
        expires_at: rfc3339(expires_ms),
        expires_at_ms: expires_ms,
    })
    .into_response())
}

async fn logout(
    State(state): State<Arc<AppState>>,
    Client(client): Client,
    request: Request,
) -> Result<StatusCode> {
    check_bearer(&state, request.headers(), client).await?;
    if let Some(token) = bearer(request.headers()) {
        officers::end_session(&state.storage, token).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/admin/codes` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueCodeRequest {
    test_type: TestType,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    onset: Option<String>,
    /// The province code the case is tied to (one of the server's `--regions`); absent: national.
    #[serde(default)]
    region: Option<String>,
}

/// Reads `body` as the officer API's JSON bodies (`fuzzing::officer_request`).
pub(crate) fn read_admin_json(body: &[u8]) {
    let _ = serde_json::from_slice::<LoginRequest>(body);
    if let Ok(request) = serde_json::from_slice::<IssueCodeRequest>(body) {
        if let Some(onset) = request.onset {
            let _ = openzone_wire::time::parse_day(&onset);
        }
    }
}

/// `POST /v1/admin/codes` answer.
#[derive(Debug, Serialize)]
struct IssueCodeResponse {
    code: String,
    /// RFC 3339, UTC.
    expires_at: String,
    expires_at_ms: u64,
}

/// Issues a code for `officer` and makes it durable before it is handed out. The page and the API
/// share it.
pub(crate) async fn issue_for(
    state: &AppState,
    officer: &str,
    test_type: TestType,
    onset_day: Option<u32>,
    region: Option<&str>,
) -> Result<codes::IssuedCode> {
    let region = state.publisher.settings.partition_of(region)?;
    let request = CodeRequest {
        officer,
        test_type,
        onset_day,
        region: region.as_deref(),
    };
    let issued = async {
        let issued = codes::issue(
            &state.storage,
            &state.code_key,
            request,
            state.now_ms(),
            state.code_validity,
        )
        .await?;
        state.storage.flush().await?;
        Ok(issued)
    }
    .await;
    state.metrics.code_request(&issued);
    let issued = issued?;
    tracing::info!(test_type = ?test_type, "code issued");
    Ok(issued)
}

async fn issue_code(
    State(state): State<Arc<AppState>>,
    Client(client): Client,
    request: Request,
) -> Result<Response> {
    let officer = check_bearer(&state, request.headers(), client).await?;
    let body = read_body(request, MAX_ADMIN_BODY).await?;
    let req: IssueCodeRequest = serde_json::from_slice(&body).map_err(|e| {
        ServerError::Malformed(format!(
            "expected {{\"test_type\": \"confirmed\" or \"likely\", \"onset\": \"YYYY-MM-DD\" (optional), \"region\": a province code (optional)}}: {e}"
        ))
    })?;
    let onset_day = req
        .onset
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(openzone_wire::time::parse_day)
        .transpose()
        .map_err(|e| ServerError::Malformed(e.to_string()))?;
    let issued = issue_for(
        &state,
        &officer,
        req.test_type,
        onset_day,
        req.region.as_deref(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(IssueCodeResponse {
            code: issued.code,
            expires_at: rfc3339(issued.expires_ms),
            expires_at_ms: issued.expires_ms,
        }),
    )
        .into_response())
}

/// `POST /v1/admin/warnings` answer.
#[derive(Debug, Serialize)]
struct WarningResponse {
    /// Always `true`: the warning waits for the next publication run.
    accepted: bool,
}

/// `POST /v1/admin/warnings`: an officer warns for a venue and a span, signed in (`Authorization:
/// Bearer`) or with a one-time code an officer issued (checked under the rate limit of code attempts,
/// and used up).
async fn warn(
    State(state): State<Arc<AppState>>,
    Client(client): Client,
    request: Request,
) -> Result<Response> {
    let outcome = accept_warning(&state, client, request).await;
    state.metrics.request("warning", &outcome);
    outcome
}

async fn accept_warning(state: &AppState, client: IpAddr, request: Request) -> Result<Response> {
    let officer = match bearer(request.headers()) {
        Some(_) => Some(check_bearer(state, request.headers(), client).await?),
        None => None,
    };
    let body = read_body(request, MAX_ADMIN_BODY).await?;
    let req: openzone_wire::keyserver::wire::VenueWarning = serde_json::from_slice(&body).map_err(|e| {
        ServerError::Malformed(format!(
            "expected {{\"venue\": \"<check-in link>\", \"from\": <unix seconds>, \"to\": <unix seconds>, \"code\": \"<8 digits>\" (without a session)}}: {e}"
        ))
    })?;
    let now_ms = state.now_ms();
    let report = warnings::officer_report(&req, now_ms)?;
    match (&officer, req.code.as_deref()) {
        (Some(officer), _) => warnings::store_as(state, officer, &report).await?,
        (None, Some(code)) => {
            let store = warnings::store_warning(
                &state.storage,
                &state.code_key,
                Some(code),
                &report,
                now_ms,
            );
            under_code_limit(state, client, code, now_ms, store).await?;
        }
        (None, None) => return Err(ServerError::Unauthorized),
    }
    tracing::info!("venue warning accepted");
    Ok((
        StatusCode::CREATED,
        Json(WarningResponse { accepted: true }),
    )
        .into_response())
}

/// Upload outcomes since the last publication run, logged with it as one line of counts: a line per
/// upload would give each report's time. Chaff is not counted.
#[derive(Debug, Default)]
pub(crate) struct Tally(Mutex<BTreeMap<&'static str, u64>>);

impl Tally {
    fn count(&self, outcome: &'static str) {
        *self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(outcome)
            .or_default() += 1;
    }

    /// The counts so far, starting again from zero.
    pub fn take(&self) -> BTreeMap<&'static str, u64> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Counters for officers.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Stats {
    pub codes_issued: u64,
    pub codes_used: u64,
    pub keys_published: u64,
    pub keys_pending: u64,
    pub exports: u64,
}

pub(crate) async fn current_stats(state: &AppState) -> Result<Stats> {
    Ok(Stats {
        codes_issued: state.storage.counter(CODES_ISSUED).await?,
        codes_used: state.storage.counter(CODES_USED).await?,
        keys_published: state.storage.counter(KEYS_PUBLISHED).await?,
        keys_pending: crate::publication::pending_keys(&state.storage).await?,
        exports: state.storage.count(crate::storage::BATCHES).await?,
    })
}

async fn stats(
    State(state): State<Arc<AppState>>,
    Client(client): Client,
    request: Request,
) -> Result<Json<Stats>> {
    check_bearer(&state, request.headers(), client).await?;
    Ok(Json(current_stats(&state).await?))
}

async fn export_file(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response> {
    if !is_index_name(&name) && !is_export_name(&name) {
        return Err(ServerError::NotFound);
    }
    let bytes = state
        .publisher
        .exports
        .get(&name)
        .await?
        .ok_or(ServerError::NotFound)?;
    let (content_type, cache) = if is_index_name(&name) {
        ("text/plain; charset=utf-8", "public, max-age=60")
    } else {
        // A name is never reused, so its file never changes.
        ("application/zip", "public, max-age=1209600, immutable")
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response())
}

/// `2026-11-21T12:00:00Z` for UTC unix milliseconds.
pub(crate) fn rfc3339(ms: u64) -> String {
    let day = (ms / 86_400_000) as u32;
    let secs = (ms / 1000) % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        openzone_wire::time::format_day(day),
        secs / 3_600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_names_are_checked() {
        assert!(is_export_name("0000000001-0123456789abcdef.zip"));
        for bad in [
            "",
            "../db",
            "0000000001-0123456789abcdeg.zip",
            "000000001-0123456789abcdef.zip",
            "0000000001-0123456789abcdef.zip.tmp",
            "0000000001-0123456789ABCDEF.zip",
            "admin-token",
        ] {
            assert!(!is_export_name(bad), "{bad}");
        }
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(20_777 * 86_400_000 + 13 * 3_600_000 + 4 * 60_000 + 5_999),
            "2026-11-20T13:04:05Z"
        );
    }
}
