//! The school's visitor-log page at `/visitor-log`: static HTML, CSS and JavaScript compiled into the
//! server (`visitor_page/`). The page reads the venue's `venue.json` and `visitor-log.key` from the
//! school's disk, fetches the day's sealed entries from `/v1/inbox/...` and opens them in the browser
//! with Web Crypto (HPKE, as `openzone_wire::visitorlog::hpke`); the secret is never sent. The
//! Content-Security-Policy allows only these files and requests to this server.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

const HTML: &str = include_str!("visitor_page/index.html");
const SCRIPT: &str = include_str!("visitor_page/visitor-log.js");
const STYLE: &str = include_str!("visitor_page/visitor-log.css");

/// Scripts and styles from this server only, requests to this server only, downloads as blobs, no
/// frames around it.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

pub(crate) fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/visitor-log",
            get(|| async { file(HTML, "text/html; charset=utf-8") }),
        )
        .route(
            "/visitor-log/visitor-log.js",
            get(|| async { file(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/visitor-log/visitor-log.css",
            get(|| async { file(STYLE, "text/css; charset=utf-8") }),
        )
}

fn file(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
