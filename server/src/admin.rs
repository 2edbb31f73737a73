//! The officer's web page at `/admin`: sign in with the admin token, issue codes, see the counters.
//!
//! Server-rendered HTML without scripts, readable on a phone, in Vietnamese (default) and English. A
//! successful sign-in starts a session (a random id in an `HttpOnly`, `SameSite=Strict` cookie, valid for
//! 12 hours, kept in memory: a restart signs officers out); the token itself is never stored in the
//! browser. `SameSite=Strict` is what protects the forms from cross-site posts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use ring::rand::{SecureRandom, SystemRandom};
use serde::Deserialize;

use crate::api::{current_stats, Stats};
use crate::codes::{self, IssuedCode};
use crate::storage::TestType;
use crate::AppState;

/// How long a session lasts.
const SESSION_MS: u64 = 12 * 3_600_000;
const SESSION_COOKIE: &str = "oz_session";
const LANG_COOKIE: &str = "oz_lang";
/// Vietnam's offset from UTC (ICT, no daylight saving).
const ICT_OFFSET_MS: u64 = 7 * 3_600_000;

/// Open sessions: id → expiry (UTC ms).
#[derive(Debug, Default)]
pub(crate) struct Sessions(Mutex<HashMap<String, u64>>);

impl Sessions {
    fn start(&self, now_ms: u64) -> Option<String> {
        let mut id = [0u8; 32];
        SystemRandom::new().fill(&mut id).ok()?;
        let id = hex::encode(id);
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, expires| *expires > now_ms);
        map.insert(id.clone(), now_ms + SESSION_MS);
        Some(id)
    }

    fn valid(&self, id: &str, now_ms: u64) -> bool {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(id).is_some_and(|expires| *expires > now_ms)
    }

    fn end(&self, id: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }
}

/// Compares a given token with the real one in constant time (over their SHA-256, so lengths leak
/// nothing either).
pub(crate) fn token_matches(real: &str, given: &str) -> bool {
    let a = ring::digest::digest(&ring::digest::SHA256, real.as_bytes());
    let b = ring::digest::digest(&ring::digest::SHA256, given.as_bytes());
    a.as_ref()
        .iter()
        .zip(b.as_ref())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/admin", get(page))
        .route("/admin/login", post(login))
        .route("/admin/codes", post(issue))
        .route("/admin/logout", post(logout))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Vi,
    En,
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn lang_of(headers: &HeaderMap, query: Option<&str>) -> Lang {
    match query.or_else(|| cookie(headers, LANG_COOKIE)) {
        Some("en") => Lang::En,
        _ => Lang::Vi,
    }
}

fn signed_in(state: &AppState, headers: &HeaderMap) -> bool {
    cookie(headers, SESSION_COOKIE).is_some_and(|id| state.sessions.valid(id, state.now_ms()))
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    lang: Option<String>,
}

async fn page(
    State(state): State<Arc<AppState>>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let chosen = query.lang.as_deref().filter(|l| matches!(*l, "vi" | "en"));
    let lang = lang_of(&headers, chosen);
    let mut response = if signed_in(&state, &headers) {
        dashboard(&state, lang, None, None, StatusCode::OK)
    } else {
        sign_in_page(lang, None, StatusCode::OK)
    };
    if let Some(l) = chosen {
        set_cookie(
            &mut response,
            &format!("{LANG_COOKIE}={l}; Path=/admin; Max-Age=31536000; SameSite=Strict"),
        );
    }
    response
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let lang = lang_of(&headers, None);
    let token = form.map(|Form(f)| f.token).unwrap_or_default();
    if !token_matches(&state.admin_token, token.trim()) {
        tracing::info!("officer sign-in refused");
        let t = texts(lang);
        return sign_in_page(lang, Some(t.wrong_token), StatusCode::UNAUTHORIZED);
    }
    let Some(id) = state.sessions.start(state.now_ms()) else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "random number generator failed",
        )
            .into_response();
    };
    tracing::info!("officer signed in");
    let mut response = Redirect::to("/admin").into_response();
    set_cookie(
        &mut response,
        &format!(
            "{SESSION_COOKIE}={id}; Path=/admin; Max-Age={}; HttpOnly; SameSite=Strict",
            SESSION_MS / 1000
        ),
    );
    response
}

#[derive(Debug, Deserialize)]
struct IssueForm {
    test_type: String,
    #[serde(default)]
    onset: String,
}

async fn issue(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    form: Result<Form<IssueForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let lang = lang_of(&headers, None);
    let t = texts(lang);
    if !signed_in(&state, &headers) {
        return sign_in_page(lang, Some(t.signed_out), StatusCode::UNAUTHORIZED);
    }
    let refuse =
        |message: &str, status| dashboard(&state, lang, None, Some(message.to_owned()), status);
    let Ok(Form(form)) = form else {
        return refuse(t.bad_input, StatusCode::BAD_REQUEST);
    };
    let test_type = match form.test_type.as_str() {
        "confirmed" => TestType::Confirmed,
        "likely" => TestType::Likely,
        _ => return refuse(t.bad_input, StatusCode::BAD_REQUEST),
    };
    let onset = match form.onset.trim() {
        "" => None,
        text => match openzone_core::time::parse_day(text) {
            Ok(day) => Some(day),
            Err(_) => return refuse(t.bad_onset, StatusCode::BAD_REQUEST),
        },
    };
    match codes::issue(&state.storage, test_type, onset, state.now_ms()) {
        Ok(issued) => {
            if let Err(e) = state.storage.flush().await {
                tracing::error!(error = %e, "saving a code failed");
                return refuse(t.failed, StatusCode::INTERNAL_SERVER_ERROR);
            }
            tracing::info!(test_type = ?test_type, "code issued from the officer page");
            dashboard(&state, lang, Some(&issued), None, StatusCode::OK)
        }
        Err(crate::ServerError::Malformed(_)) => refuse(t.bad_onset, StatusCode::BAD_REQUEST),
        Err(e) => {
            tracing::error!(error = %e, "issuing a code failed");
            refuse(t.failed, StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

async fn logout(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Some(id) = cookie(&headers, SESSION_COOKIE) {
        state.sessions.end(id);
    }
    let mut response = Redirect::to("/admin").into_response();
    set_cookie(
        &mut response,
        &format!("{SESSION_COOKIE}=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict"),
    );
    response
}

fn set_cookie(response: &mut Response, value: &str) {
    if let Ok(v) = header::HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The words of the page.
struct Texts {
    html_lang: &'static str,
    title: &'static str,
    sign_in_heading: &'static str,
    token_label: &'static str,
    sign_in: &'static str,
    wrong_token: &'static str,
    signed_out: &'static str,
    issue_heading: &'static str,
    test_type: &'static str,
    confirmed: &'static str,
    likely: &'static str,
    onset: &'static str,
    issue: &'static str,
    new_code: &'static str,
    expires: &'static str,
    one_time: &'static str,
    stats_heading: &'static str,
    codes_issued: &'static str,
    codes_used: &'static str,
    keys_published: &'static str,
    keys_pending: &'static str,
    sign_out: &'static str,
    bad_input: &'static str,
    bad_onset: &'static str,
    failed: &'static str,
    vietnam_time: &'static str,
}

fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

static VI: Texts = Texts {
    html_lang: "vi",
    title: "OpenZone — Cấp mã xác nhận ca bệnh",
    sign_in_heading: "Đăng nhập dành cho cán bộ y tế",
    token_label: "Mã truy cập quản trị",
    sign_in: "Đăng nhập",
    wrong_token: "Mã truy cập không đúng. Hãy kiểm tra lại.",
    signed_out: "Phiên làm việc đã hết. Hãy đăng nhập lại.",
    issue_heading: "Cấp mã cho học sinh",
    test_type: "Loại xác nhận",
    confirmed: "Xét nghiệm dương tính",
    likely: "Ca có khả năng (chẩn đoán lâm sàng)",
    onset: "Ngày khởi phát triệu chứng (nếu có)",
    issue: "Cấp mã",
    new_code: "Mã mới — đưa cho học sinh:",
    expires: "Hết hạn lúc",
    one_time: "Mỗi mã chỉ dùng được một lần và hết hạn sau 24 giờ.",
    stats_heading: "Thống kê",
    codes_issued: "Mã đã cấp",
    codes_used: "Mã đã dùng",
    keys_published: "Khóa đã công bố",
    keys_pending: "Khóa đang chờ công bố",
    sign_out: "Đăng xuất",
    bad_input: "Thông tin chưa hợp lệ. Hãy chọn loại xác nhận.",
    bad_onset:
        "Ngày khởi phát không hợp lệ: phải là một ngày trong 30 ngày qua, không sau hôm nay.",
    failed: "Máy chủ gặp lỗi. Hãy thử lại sau.",
    vietnam_time: "giờ Việt Nam",
};

static EN: Texts = Texts {
    html_lang: "en",
    title: "OpenZone — Codes for confirmed cases",
    sign_in_heading: "Health officer sign-in",
    token_label: "Admin token",
    sign_in: "Sign in",
    wrong_token: "Wrong token. Please check it.",
    signed_out: "Your session ended. Please sign in again.",
    issue_heading: "Issue a code for a student",
    test_type: "Confirmation",
    confirmed: "Positive test",
    likely: "Likely case (clinical diagnosis)",
    onset: "Onset of symptoms (if any)",
    issue: "Issue code",
    new_code: "New code — give it to the student:",
    expires: "Expires at",
    one_time: "Each code works once and expires after 24 hours.",
    stats_heading: "Statistics",
    codes_issued: "Codes issued",
    codes_used: "Codes used",
    keys_published: "Keys published",
    keys_pending: "Keys waiting for publication",
    sign_out: "Sign out",
    bad_input: "Invalid input. Please choose the confirmation.",
    bad_onset: "Invalid onset date: it must be within the last 30 days and not after today.",
    failed: "The server failed. Please try again later.",
    vietnam_time: "Vietnam time",
};

/// Escapes text for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;padding:1rem;max-width:36rem;margin:auto;\
line-height:1.4;color:#1b1b1b}h1{font-size:1.3rem}h2{font-size:1.1rem;margin-top:1.5rem}\
label{display:block;margin:.6rem 0 .2rem}input,select,button{font-size:1rem;padding:.6rem;width:100%;\
box-sizing:border-box}button{margin-top:.8rem;background:#0b6e4f;color:#fff;border:0;border-radius:.3rem}\
.code{font-size:2.2rem;letter-spacing:.3rem;font-weight:bold;text-align:center;padding:.8rem;\
border:2px dashed #0b6e4f;margin:.5rem 0}.error{color:#a00;font-weight:bold}\
table{width:100%;border-collapse:collapse}td{padding:.4rem;border-bottom:1px solid #ddd}\
td.n{text-align:right;font-weight:bold}nav{text-align:right}nav a{margin-left:.8rem}";

fn layout(lang: Lang, body: &str, status: StatusCode) -> Response {
    let t = texts(lang);
    let html = format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
<style>{STYLE}</style></head><body><nav><a id=\"lang-vi\" href=\"/admin?lang=vi\" lang=\"vi\">Tiếng Việt</a>\
<a id=\"lang-en\" href=\"/admin?lang=en\" lang=\"en\">English</a></nav><h1>{title}</h1>{body}</body></html>",
        lang = t.html_lang,
        title = esc(t.title),
    );
    let mut response = (status, Html(html)).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

fn sign_in_page(lang: Lang, error: Option<&str>, status: StatusCode) -> Response {
    let t = texts(lang);
    let error = error
        .map(|e| {
            format!(
                "<p id=\"error\" class=\"error\" role=\"alert\">{}</p>",
                esc(e)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<h2>{heading}</h2>{error}<form method=\"post\" action=\"/admin/login\">\
<label for=\"token\">{label}</label><input id=\"token\" name=\"token\" type=\"password\" \
autocomplete=\"current-password\" required><button id=\"sign-in\" type=\"submit\">{button}</button></form>",
        heading = esc(t.sign_in_heading),
        label = esc(t.token_label),
        button = esc(t.sign_in),
    );
    layout(lang, &body, status)
}

fn dashboard(
    state: &AppState,
    lang: Lang,
    issued: Option<&IssuedCode>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let t = texts(lang);
    let stats = match current_stats(state) {
        Ok(stats) => stats,
        Err(e) => {
            tracing::error!(error = %e, "reading the counters failed");
            return layout(
                lang,
                &format!("<p id=\"error\" class=\"error\">{}</p>", esc(t.failed)),
                StatusCode::INTERNAL_SERVER_ERROR,
            );
        }
    };
    let mut body = String::new();
    if let Some(e) = error {
        body.push_str(&format!(
            "<p id=\"error\" class=\"error\" role=\"alert\">{}</p>",
            esc(&e)
        ));
    }
    if let Some(issued) = issued {
        let local = crate::api::rfc3339(issued.expires_ms + ICT_OFFSET_MS);
        let local = local.trim_end_matches('Z').replace('T', " ");
        body.push_str(&format!(
            "<section aria-live=\"polite\"><p>{label}</p><div id=\"new-code\" class=\"code\">{code}</div>\
<p>{expires} <span id=\"expires-at\">{local}</span> ({vn}). {once}</p></section>",
            label = esc(t.new_code),
            code = esc(&issued.code),
            expires = esc(t.expires),
            local = esc(&local[..16.min(local.len())]),
            vn = esc(t.vietnam_time),
            once = esc(t.one_time),
        ));
    }
    body.push_str(&format!(
        "<h2>{heading}</h2><form method=\"post\" action=\"/admin/codes\">\
<label for=\"test-type\">{test_type}</label><select id=\"test-type\" name=\"test_type\">\
<option value=\"confirmed\">{confirmed}</option><option value=\"likely\">{likely}</option></select>\
<label for=\"onset\">{onset}</label><input id=\"onset\" name=\"onset\" type=\"date\">\
<button id=\"issue\" type=\"submit\">{issue}</button></form>",
        heading = esc(t.issue_heading),
        test_type = esc(t.test_type),
        confirmed = esc(t.confirmed),
        likely = esc(t.likely),
        onset = esc(t.onset),
        issue = esc(t.issue),
    ));
    body.push_str(&stats_table(t, &stats));
    body.push_str(&format!(
        "<form method=\"post\" action=\"/admin/logout\"><button id=\"sign-out\" type=\"submit\" \
style=\"background:#555\">{}</button></form>",
        esc(t.sign_out)
    ));
    layout(lang, &body, status)
}

fn stats_table(t: &Texts, s: &Stats) -> String {
    let row = |id: &str, label: &str, n: u64| {
        format!(
            "<tr><td>{}</td><td class=\"n\" id=\"{id}\">{n}</td></tr>",
            esc(label)
        )
    };
    format!(
        "<h2>{}</h2><table>{}{}{}{}</table>",
        esc(t.stats_heading),
        row("stat-codes-issued", t.codes_issued, s.codes_issued),
        row("stat-codes-used", t.codes_used, s.codes_used),
        row("stat-keys-published", t.keys_published, s.keys_published),
        row("stat-keys-pending", t.keys_pending, s.keys_pending),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_exactly() {
        assert!(token_matches("abcdefghijklmnop", "abcdefghijklmnop"));
        assert!(!token_matches("abcdefghijklmnop", "abcdefghijklmnoq"));
        assert!(!token_matches("abcdefghijklmnop", ""));
        assert!(!token_matches("abcdefghijklmnop", "abcdefghijklmnopq"));
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn cookies_and_language_are_read() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; oz_lang=en; oz_session=abc".parse().unwrap(),
        );
        assert_eq!(cookie(&headers, "oz_session"), Some("abc"));
        assert_eq!(lang_of(&headers, None), Lang::En);
        assert_eq!(lang_of(&headers, Some("vi")), Lang::Vi);
        assert_eq!(lang_of(&HeaderMap::new(), None), Lang::Vi);
    }

    #[test]
    fn sessions_expire_and_end() {
        let sessions = Sessions::default();
        let id = sessions.start(0).unwrap();
        assert!(sessions.valid(&id, SESSION_MS - 1));
        assert!(!sessions.valid(&id, SESSION_MS));
        assert!(!sessions.valid("nope", 0));
        sessions.end(&id);
        assert!(!sessions.valid(&id, 0));
    }
}
