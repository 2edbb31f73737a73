//! The officer's web page at `/admin`: each officer signs in with their name and password, issues codes
//! within their quota, warns for a venue and a time span, sees the counters.
//!
//! Server-rendered HTML without scripts, readable on a phone, in Vietnamese (default) and English. A
//! successful sign-in starts a session (`officers.rs`): its token lives in an `HttpOnly`, `Secure`,
//! `SameSite=Strict` cookie for 12 hours; the password itself is never stored in the browser.
//! `SameSite=Strict` is what protects the forms from cross-site posts; a Content-Security-Policy allows
//! nothing but this page's own style and forms, and `frame-ancestors 'none'` (with `X-Frame-Options`)
//! keeps other sites from framing it.

use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use serde::Deserialize;

use crate::api::{current_stats, issue_for, officer_of_token, sign_in, Client};
use crate::codes::IssuedCode;
use crate::officers;
use crate::storage::TestType;
use crate::{AppState, ServerError};
use openzone_wire::keyserver::wire::VenueWarning;

const SESSION_COOKIE: &str = "oz_session";
const LANG_COOKIE: &str = "oz_lang";
/// Vietnam's offset from UTC (ICT, no daylight saving).
const ICT_OFFSET_MS: u64 = 7 * 3_600_000;

pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/admin", get(page))
        .route("/admin/login", post(login))
        .route("/admin/codes", post(issue))
        .route("/admin/warnings", post(warn))
        .route("/admin/logout", post(logout))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Vi,
    En,
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
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

/// Whose session the request's cookie opens.
enum Session {
    /// An open session of this officer.
    Of(String),
    /// No session cookie.
    None,
    /// A cookie that opens no session (expired, ended, or a guess, which counts as one).
    Stale,
}

async fn session_of(state: &AppState, headers: &HeaderMap, client: IpAddr) -> Session {
    match cookie(headers, SESSION_COOKIE) {
        None => Session::None,
        Some(token) => officer_of_token(state, client, token)
            .await
            .map_or(Session::Stale, Session::Of),
    }
}

/// The sign-in page; a stale session cookie is removed, so that it counts against the client once.
fn signed_out(lang: Lang, session: &Session, error: Option<&str>, status: StatusCode) -> Response {
    let mut response = sign_in_page(lang, error, status);
    if matches!(session, Session::Stale) {
        set_cookie(&mut response, &cleared_session_cookie());
    }
    response
}

/// The `Set-Cookie` value that removes the session cookie.
fn cleared_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/admin; Max-Age=0; HttpOnly; Secure; SameSite=Strict")
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    lang: Option<String>,
}

async fn page(
    State(state): State<Arc<AppState>>,
    Query(query): Query<PageQuery>,
    Client(client): Client,
    headers: HeaderMap,
) -> Response {
    let chosen = query.lang.as_deref().filter(|l| matches!(*l, "vi" | "en"));
    let lang = lang_of(&headers, chosen);
    let mut response = match session_of(&state, &headers, client).await {
        Session::Of(officer) => {
            let signed_in = SignedIn {
                state,
                officer,
                lang,
            };
            signed_in.dashboard(None, None, None, StatusCode::OK).await
        }
        stale_or_none => signed_out(lang, &stale_or_none, None, StatusCode::OK),
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
    name: String,
    password: String,
}

async fn login(
    State(state): State<Arc<AppState>>,
    Client(client): Client,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let lang = lang_of(&headers, None);
    let t = texts(lang);
    let Ok(Form(form)) = form else {
        return sign_in_page(lang, Some(t.wrong_password), StatusCode::BAD_REQUEST);
    };
    let token = match sign_in(&state, client, form.name.trim(), &form.password).await {
        Ok((token, _)) => token,
        Err(ServerError::RateLimited { .. }) => {
            return sign_in_page(lang, Some(t.throttled), StatusCode::TOO_MANY_REQUESTS)
        }
        Err(ServerError::Unauthorized) => {
            return sign_in_page(lang, Some(t.wrong_password), StatusCode::UNAUTHORIZED)
        }
        Err(e) => {
            tracing::error!(error = %e, "signing in failed");
            return sign_in_page(lang, Some(t.failed), StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    let mut response = Redirect::to("/admin").into_response();
    set_cookie(
        &mut response,
        &format!(
            "{SESSION_COOKIE}={token}; Path=/admin; Max-Age={}; HttpOnly; Secure; SameSite=Strict",
            officers::SESSION_MS / 1000
        ),
    );
    response
}

#[derive(Debug, Deserialize)]
struct IssueForm {
    test_type: String,
    #[serde(default)]
    onset: String,
    /// A province code, or empty for a national case.
    #[serde(default)]
    region: String,
}

/// A request in an open session: the server, the session's officer and the page's language. As the
/// forms' extractor, a request without an open session is answered with the sign-in page saying the
/// session ended.
struct SignedIn {
    state: Arc<AppState>,
    officer: String,
    lang: Lang,
}

impl FromRequestParts<Arc<AppState>> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let Ok(Client(client)) = Client::from_request_parts(parts, state).await;
        let lang = lang_of(&parts.headers, None);
        match session_of(state, &parts.headers, client).await {
            Session::Of(officer) => Ok(Self {
                state: Arc::clone(state),
                officer,
                lang,
            }),
            stale_or_none => Err(signed_out(
                lang,
                &stale_or_none,
                Some(texts(lang).signed_out),
                StatusCode::UNAUTHORIZED,
            )),
        }
    }
}

async fn issue(signed_in: SignedIn, form: Result<Form<IssueForm>, FormRejection>) -> Response {
    let t = texts(signed_in.lang);
    let outcome = match issue_from_form(&signed_in.state, &signed_in.officer, form).await {
        Ok(issued) => Ok(issued),
        Err(IssueRefusal::BadInput) => Err((t.bad_input, StatusCode::BAD_REQUEST)),
        Err(IssueRefusal::BadOnset) => Err((t.bad_onset, StatusCode::BAD_REQUEST)),
        Err(IssueRefusal::Server(ServerError::UnknownRegion(_))) => {
            Err((t.bad_input, StatusCode::BAD_REQUEST))
        }
        Err(IssueRefusal::Server(ServerError::Malformed(_))) => {
            Err((t.bad_onset, StatusCode::BAD_REQUEST))
        }
        Err(IssueRefusal::Server(ServerError::QuotaExceeded { .. })) => {
            Err((t.quota, StatusCode::TOO_MANY_REQUESTS))
        }
        Err(IssueRefusal::Server(e)) => {
            tracing::error!(error = %e, "issuing a code failed");
            Err((t.failed, StatusCode::INTERNAL_SERVER_ERROR))
        }
    };
    match outcome {
        Ok(issued) => {
            signed_in
                .dashboard(Some(&issued), None, None, StatusCode::OK)
                .await
        }
        Err((message, status)) => {
            signed_in
                .dashboard(None, Some(message.to_owned()), None, status)
                .await
        }
    }
}

/// Why the page's form did not give a code.
enum IssueRefusal {
    BadInput,
    BadOnset,
    Server(ServerError),
}

/// Reads the page's form and issues the code it asks for.
async fn issue_from_form(
    state: &AppState,
    officer: &str,
    form: Result<Form<IssueForm>, FormRejection>,
) -> Result<IssuedCode, IssueRefusal> {
    let Ok(Form(form)) = form else {
        return Err(IssueRefusal::BadInput);
    };
    let test_type = match form.test_type.as_str() {
        "confirmed" => TestType::Confirmed,
        "likely" => TestType::Likely,
        _ => return Err(IssueRefusal::BadInput),
    };
    let onset = match form.onset.trim() {
        "" => None,
        text => match openzone_wire::time::parse_day(text) {
            Ok(day) => Some(day),
            Err(_) => return Err(IssueRefusal::BadOnset),
        },
    };
    let region = Some(form.region.trim()).filter(|r| !r.is_empty());
    issue_for(state, officer, test_type, onset, region)
        .await
        .map_err(IssueRefusal::Server)
}

#[derive(Debug, Deserialize)]
struct WarnForm {
    venue: String,
    /// `YYYY-MM-DD`, Vietnam time.
    date: String,
    /// `HH:MM`, Vietnam time.
    from: String,
    /// `HH:MM`, Vietnam time.
    to: String,
}

/// UTC unix seconds of a day (`YYYY-MM-DD`) and a time (`HH:MM`) in Vietnam time.
fn vietnam_time(date: &str, time: &str) -> Option<u64> {
    let day = openzone_wire::time::parse_day(date.trim()).ok()?;
    let (h, m) = time.trim().split_once(':')?;
    let (h, m): (u64, u64) = (h.parse().ok()?, m.get(..2)?.parse().ok()?);
    if h > 23 || m > 59 {
        return None;
    }
    (u64::from(day) * 86_400 + h * 3_600 + m * 60).checked_sub(ICT_OFFSET_MS / 1000)
}

/// The form of an officer's warning for a venue (the signed-in officer's session is the authority).
async fn warn(signed_in: SignedIn, form: Result<Form<WarnForm>, FormRejection>) -> Response {
    let t = texts(signed_in.lang);
    let refuse = |message: String, status| signed_in.dashboard(None, Some(message), None, status);
    let Ok(Form(form)) = form else {
        return refuse(t.bad_warning.into(), StatusCode::BAD_REQUEST).await;
    };
    let (Some(from), Some(to)) = (
        vietnam_time(&form.date, &form.from),
        vietnam_time(&form.date, &form.to),
    ) else {
        return refuse(t.bad_warning.into(), StatusCode::BAD_REQUEST).await;
    };
    let warning = VenueWarning {
        venue: form.venue,
        from,
        to,
        code: None,
    };
    match crate::warnings::warn_as(&signed_in.state, &signed_in.officer, &warning).await {
        Ok(()) => {
            signed_in
                .dashboard(None, None, Some(t.warned), StatusCode::OK)
                .await
        }
        Err(e @ ServerError::InvalidWarning(_)) => {
            refuse(format!("{} {e}", t.bad_warning), StatusCode::BAD_REQUEST).await
        }
        Err(e) => {
            tracing::error!(error = %e, "storing a warning failed");
            refuse(t.failed.into(), StatusCode::INTERNAL_SERVER_ERROR).await
        }
    }
}

async fn logout(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = officers::end_session(&state.storage, token).await {
            tracing::error!(error = %e, "ending a session failed");
        }
    }
    let mut response = Redirect::to("/admin").into_response();
    set_cookie(&mut response, &cleared_session_cookie());
    response
}

/// Reads what a request to the page carries, as the handlers do: the cookies, then the body as each form
/// (`fuzzing::officer_request`).
pub(crate) fn read_request_parts(cookie_header: &[u8], body: &[u8]) {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(cookie_header) {
        headers.insert(header::COOKIE, value);
    }
    let _ = cookie(&headers, SESSION_COOKIE);
    let _ = lang_of(&headers, None);
    let request = || {
        axum::http::Request::builder()
            .method("POST")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(body.to_vec()))
    };
    if let (Ok(login), Ok(issue)) = (request(), request()) {
        futures::executor::block_on(async {
            let _ =
                <Form<LoginForm> as axum::extract::FromRequest<()>>::from_request(login, &()).await;
            let _ =
                <Form<IssueForm> as axum::extract::FromRequest<()>>::from_request(issue, &()).await;
        });
    }
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
    name_label: &'static str,
    password_label: &'static str,
    sign_in: &'static str,
    wrong_password: &'static str,
    throttled: &'static str,
    quota: &'static str,
    signed_in_as: &'static str,
    signed_out: &'static str,
    issue_heading: &'static str,
    test_type: &'static str,
    confirmed: &'static str,
    likely: &'static str,
    onset: &'static str,
    region: &'static str,
    national: &'static str,
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
    warn_heading: &'static str,
    warn_venue: &'static str,
    warn_date: &'static str,
    warn_from: &'static str,
    warn_to: &'static str,
    warn: &'static str,
    warned: &'static str,
    bad_warning: &'static str,
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
    name_label: "Tên đăng nhập",
    password_label: "Mật khẩu",
    sign_in: "Đăng nhập",
    wrong_password: "Tên đăng nhập hoặc mật khẩu không đúng. Hãy kiểm tra lại.",
    throttled: "Đăng nhập sai quá nhiều lần. Hãy thử lại sau.",
    quota: "Bạn đã cấp hết số mã cho phép trong hôm nay.",
    signed_in_as: "Đang đăng nhập:",
    signed_out: "Phiên làm việc đã hết. Hãy đăng nhập lại.",
    issue_heading: "Cấp mã cho học sinh",
    test_type: "Loại xác nhận",
    confirmed: "Xét nghiệm dương tính",
    likely: "Ca có khả năng (chẩn đoán lâm sàng)",
    onset: "Ngày khởi phát triệu chứng (nếu có)",
    region: "Tỉnh, thành phố của ca bệnh",
    national: "Toàn quốc (không gắn tỉnh)",
    issue: "Cấp mã",
    new_code: "Mã mới — đưa cho học sinh:",
    expires: "Hết hạn lúc",
    one_time: "Mỗi mã chỉ dùng được một lần; hãy nhập vào điện thoại trước khi hết hạn.",
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
    warn_heading: "Cảnh báo cho một phòng hoặc cổng trường",
    warn_venue: "Đường dẫn check-in trên áp phích (openzone://checkin?v=1#...)",
    warn_date: "Ngày",
    warn_from: "Từ (giờ Việt Nam)",
    warn_to: "Đến (giờ Việt Nam)",
    warn: "Gửi cảnh báo",
    warned: "Đã nhận cảnh báo; các điện thoại đã check-in lúc đó sẽ được báo sau lần công bố tới.",
    bad_warning: "Không gửi được cảnh báo:",
};

static EN: Texts = Texts {
    html_lang: "en",
    title: "OpenZone — Codes for confirmed cases",
    sign_in_heading: "Health officer sign-in",
    name_label: "Name",
    password_label: "Password",
    sign_in: "Sign in",
    wrong_password: "Wrong name or password. Please check them.",
    throttled: "Too many failed sign-ins. Please try again later.",
    quota: "You have issued all the codes you may issue today.",
    signed_in_as: "Signed in as",
    signed_out: "Your session ended. Please sign in again.",
    issue_heading: "Issue a code for a student",
    test_type: "Confirmation",
    confirmed: "Positive test",
    likely: "Likely case (clinical diagnosis)",
    onset: "Onset of symptoms (if any)",
    region: "Province of the case",
    national: "National (no province)",
    issue: "Issue code",
    new_code: "New code — give it to the student:",
    expires: "Expires at",
    one_time: "Each code works once; enter it on the phone before it expires.",
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
    warn_heading: "Warn for a room or the gate",
    warn_venue: "The poster's check-in link (openzone://checkin?v=1#...)",
    warn_date: "Day",
    warn_from: "From (Vietnam time)",
    warn_to: "To (Vietnam time)",
    warn: "Send the warning",
    warned: "Warning accepted; phones that checked in then are told after the next publication.",
    bad_warning: "The warning was not sent:",
};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;padding:1rem;max-width:36rem;margin:auto;\
line-height:1.4;color:#1b1b1b}h1{font-size:1.3rem}h2{font-size:1.1rem;margin-top:1.5rem}\
label{display:block;margin:.6rem 0 .2rem}input,select,button{font-size:1rem;padding:.6rem;width:100%;\
box-sizing:border-box}button{margin-top:.8rem;background:#0b6e4f;color:#fff;border:0;border-radius:.3rem}\
.code{font-size:2.2rem;letter-spacing:.3rem;font-weight:bold;text-align:center;padding:.8rem;\
border:2px dashed #0b6e4f;margin:.5rem 0}.error{color:#a00;font-weight:bold}\
table{width:100%;border-collapse:collapse}td{padding:.4rem;border-bottom:1px solid #ddd}\
td.n{text-align:right;font-weight:bold}nav{text-align:right}nav a{margin-left:.8rem}\
button.secondary{background:#555}";

/// The page's Content-Security-Policy: nothing but its own inline style (by its hash) and forms posting
/// to itself; no scripts, no frames around it (`frame-ancestors`), no base-URI tricks.
static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    let digest = ring::digest::digest(&ring::digest::SHA256, STYLE.as_bytes());
    let hash = base64::engine::general_purpose::STANDARD.encode(digest.as_ref());
    let policy = format!(
        "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
});

/// The sign-in page, saying `error` if there is one.
#[derive(Template)]
#[template(path = "admin/sign_in.html")]
struct SignInPage<'a> {
    t: &'static Texts,
    style: &'static str,
    error: Option<&'a str>,
}

/// The page saying the server failed.
#[derive(Template)]
#[template(path = "admin/failed.html")]
struct FailedPage {
    t: &'static Texts,
    style: &'static str,
}

/// The signed-in officer's page: what the last form did, the two forms, the counters.
#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage<'a> {
    t: &'static Texts,
    style: &'static str,
    officer: &'a str,
    error: Option<&'a str>,
    notice: Option<&'a str>,
    issued: Option<NewCode<'a>>,
    /// The provinces a code may be tied to; none when the server does not partition its exports.
    regions: &'a [String],
    /// Each counter's element id, label and value.
    stats: [(&'static str, &'static str, u64); 4],
}

/// A code just issued, with its expiry in Vietnam time (`YYYY-MM-DD HH:MM`).
struct NewCode<'a> {
    code: &'a str,
    expires_at: String,
}

/// `page` as the answer, with the headers that keep it out of caches and other sites' frames. Askama
/// escapes every value the templates show.
fn respond(page: &impl Template, status: StatusCode) -> Response {
    let mut response = match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering the officer page failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::CONTENT_SECURITY_POLICY, CSP.clone());
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn sign_in_page(lang: Lang, error: Option<&str>, status: StatusCode) -> Response {
    let page = SignInPage {
        t: texts(lang),
        style: STYLE,
        error,
    };
    respond(&page, status)
}

impl SignedIn {
    /// The officer's page, with the code just issued, the error or the notice a form ended with.
    async fn dashboard(
        &self,
        issued: Option<&IssuedCode>,
        error: Option<String>,
        notice: Option<&str>,
        status: StatusCode,
    ) -> Response {
        let t = texts(self.lang);
        let stats = match current_stats(&self.state).await {
            Ok(stats) => stats,
            Err(e) => {
                tracing::error!(error = %e, "reading the counters failed");
                let page = FailedPage { t, style: STYLE };
                return respond(&page, StatusCode::INTERNAL_SERVER_ERROR);
            }
        };
        let issued = issued.map(|issued| {
            let local = crate::api::rfc3339(issued.expires_ms + ICT_OFFSET_MS);
            let local = local.trim_end_matches('Z').replace('T', " ");
            NewCode {
                code: &issued.code,
                expires_at: local[..16.min(local.len())].to_owned(),
            }
        });
        let page = DashboardPage {
            t,
            style: STYLE,
            officer: &self.officer,
            error: error.as_deref(),
            notice,
            issued,
            regions: &self.state.publisher.settings.regions,
            stats: [
                ("stat-codes-issued", t.codes_issued, stats.codes_issued),
                ("stat-codes-used", t.codes_used, stats.codes_used),
                (
                    "stat-keys-published",
                    t.keys_published,
                    stats.keys_published,
                ),
                ("stat-keys-pending", t.keys_pending, stats.keys_pending),
            ],
        };
        respond(&page, status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_page_shows_is_escaped() {
        let marked_up = "<a href=\"x\">'&'</a>";
        let page = DashboardPage {
            t: &EN,
            style: STYLE,
            officer: marked_up,
            error: Some(marked_up),
            notice: Some(marked_up),
            issued: Some(NewCode {
                code: marked_up,
                expires_at: marked_up.into(),
            }),
            regions: &[marked_up.into()],
            stats: [("stat-codes-issued", marked_up, 1); 4],
        };
        let html = page.render().unwrap();
        assert!(!html.contains(marked_up), "{html}");
        let escaped = "&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;";
        // Officer, error, notice, code, expiry, the region's value and label, four counters' labels.
        assert_eq!(html.matches(escaped).count(), 11, "{html}");
        let sign_in = SignInPage {
            t: &EN,
            style: STYLE,
            error: Some(marked_up),
        };
        let html = sign_in.render().unwrap();
        assert!(
            !html.contains(marked_up) && html.contains(escaped),
            "{html}"
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
    fn the_policy_allows_exactly_the_pages_style() {
        let policy = CSP.to_str().unwrap();
        let digest = ring::digest::digest(&ring::digest::SHA256, STYLE.as_bytes());
        let hash = base64::engine::general_purpose::STANDARD.encode(digest.as_ref());
        assert!(policy.contains(&format!("'sha256-{hash}'")), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe"));
    }
}
