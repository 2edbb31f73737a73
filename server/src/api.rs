//! Routes and handlers. Handlers are thin: they extract, call the module that does the work, and let
//! [`ServerError`]'s `IntoResponse` (in `error.rs`) turn failures into answers.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use openzone_core::keyserver::seal::MAX_SEALED_BYTES;
use openzone_core::keyserver::wire::{PublishResponse, UploadPayload};
use serde::{Deserialize, Serialize};

use crate::error::{Result, ServerError};
use crate::publication::INDEX_NAME;
use crate::storage::{TestType, CODES_ISSUED, CODES_USED, KEYS_PUBLISHED};
use crate::{admin, codes, publish, AppState};

/// Largest admin JSON or form body.
const MAX_ADMIN_BODY: usize = 4 * 1024;

pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/v1/config", get(config))
        .route("/v1/publish", post(publish_keys))
        .route("/v1/admin/codes", post(issue_code))
        .route("/v1/admin/stats", get(stats))
        .route("/v1/exports/{name}", get(export_file))
        .merge(admin::router())
        .fallback(|| async { ServerError::NotFound })
        .with_state(state)
}

async fn config(State(state): State<Arc<AppState>>) -> Response {
    let mut response = Json(&state.config_doc).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

/// The client's address: the connection's peer, or the first `X-Forwarded-For` entry when configured.
pub(crate) fn client_ip(state: &AppState, request: &Request) -> IpAddr {
    if state.trust_forwarded_for {
        if let Some(ip) = request
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
        {
            return ip;
        }
    }
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
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
            // to_bytes fails on the limit or when the client breaks off; both leave nothing to process.
            let inner = e.into_inner();
            if inner.is::<http_body_util::LengthLimitError>() {
                ServerError::BodyTooLarge { max }
            } else {
                ServerError::Malformed(format!("the body could not be read: {inner}"))
            }
        })
}

async fn publish_keys(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let result = accept_upload(&state, request).await;
    match &result {
        Ok(answer) => tracing::info!(
            keys = answer.accepted_keys,
            repeated = answer.repeated,
            "upload accepted"
        ),
        // Only the error code: never the code, the keys or the address.
        Err(e) => tracing::info!(error = e.code(), "upload refused"),
    }
    result.map(Json).into_response()
}

async fn accept_upload(state: &AppState, request: Request) -> Result<PublishResponse> {
    let ip = client_ip(state, &request);
    let body = read_body(request, MAX_SEALED_BYTES).await?;
    let plain = state.sealing.open(&body).map_err(|e| match e {
        openzone_core::Error::SealedUpload(reason) => ServerError::BadSeal(reason),
        other => ServerError::BadSeal(other.to_string()),
    })?;
    let payload: UploadPayload = serde_json::from_slice(&plain)
        .map_err(|e| ServerError::Malformed(format!("the sealed report is not valid: {e}")))?;
    let now_ms = state.now_ms();
    let keys = publish::validate_keys(&payload.keys, now_ms)?;
    // The code is looked at only under the rate limit.
    state.limiter.acquire(ip, now_ms)?;
    let result = if codes::well_formed(&payload.code) {
        publish::store_upload(&state.storage, &payload, &keys, now_ms).await
    } else {
        Err(ServerError::CodeUnknown)
    };
    if !result
        .as_ref()
        .is_err_and(ServerError::is_failed_code_attempt)
    {
        state.limiter.refund(ip);
    }
    result
}

/// `POST /v1/admin/codes` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueCodeRequest {
    test_type: TestType,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    onset: Option<String>,
}

/// `POST /v1/admin/codes` answer.
#[derive(Debug, Serialize)]
struct IssueCodeResponse {
    code: String,
    /// RFC 3339, UTC.
    expires_at: String,
    expires_at_ms: u64,
}

fn check_bearer(state: &AppState, headers: &HeaderMap) -> Result<()> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(ServerError::Unauthorized)?;
    if admin::token_matches(&state.admin_token, given) {
        Ok(())
    } else {
        Err(ServerError::Unauthorized)
    }
}

async fn issue_code(State(state): State<Arc<AppState>>, request: Request) -> Result<Response> {
    check_bearer(&state, request.headers())?;
    let body = read_body(request, MAX_ADMIN_BODY).await?;
    let req: IssueCodeRequest = serde_json::from_slice(&body).map_err(|e| {
        ServerError::Malformed(format!(
            "expected {{\"test_type\": \"confirmed\" or \"likely\", \"onset\": \"YYYY-MM-DD\" (optional)}}: {e}"
        ))
    })?;
    let onset_day = req
        .onset
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(openzone_core::time::parse_day)
        .transpose()
        .map_err(|e| ServerError::Malformed(e.to_string()))?;
    let issued = codes::issue(&state.storage, req.test_type, onset_day, state.now_ms())?;
    // Durable before the officer hands it out.
    state.storage.flush().await?;
    tracing::info!(test_type = ?req.test_type, "code issued");
    Ok((
        axum::http::StatusCode::CREATED,
        Json(IssueCodeResponse {
            code: issued.code,
            expires_at: rfc3339(issued.expires_ms),
            expires_at_ms: issued.expires_ms,
        }),
    )
        .into_response())
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

pub(crate) fn current_stats(state: &AppState) -> Result<Stats> {
    Ok(Stats {
        codes_issued: state.storage.counter(CODES_ISSUED)?,
        codes_used: state.storage.counter(CODES_USED)?,
        keys_published: state.storage.counter(KEYS_PUBLISHED)?,
        keys_pending: crate::publication::pending_keys(&state.storage)?,
        exports: state.storage.batches.len() as u64,
    })
}

async fn stats(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Result<Json<Stats>> {
    check_bearer(&state, &headers)?;
    Ok(Json(current_stats(&state)?))
}

/// Export names: `index.txt`, or `<10 digits>-<16 hex>.zip`.
fn valid_export_name(name: &str) -> bool {
    if name == INDEX_NAME {
        return true;
    }
    let Some(stem) = name.strip_suffix(".zip") else {
        return false;
    };
    let Some((seq, hash)) = stem.split_once('-') else {
        return false;
    };
    seq.len() == 10
        && seq.bytes().all(|b| b.is_ascii_digit())
        && hash.len() == 16
        && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

async fn export_file(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response> {
    if !valid_export_name(&name) {
        return Err(ServerError::NotFound);
    }
    let bytes = state
        .publisher
        .exports
        .get(&name)
        .await?
        .ok_or(ServerError::NotFound)?;
    let (content_type, cache) = if name == INDEX_NAME {
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
        openzone_core::time::format_day(day),
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
        assert!(valid_export_name("index.txt"));
        assert!(valid_export_name("0000000001-0123456789abcdef.zip"));
        for bad in [
            "",
            "../db",
            "0000000001-0123456789abcdeg.zip",
            "000000001-0123456789abcdef.zip",
            "0000000001-0123456789abcdef.zip.tmp",
            "0000000001-0123456789ABCDEF.zip",
            "admin-token",
        ] {
            assert!(!valid_export_name(bad), "{bad}");
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
