//! Presence tracing end to end on loopback, through real phones and the real key server: a case checks
//! in at a classroom's poster, a classmate at the same room at the same time, a third pupil at another
//! time; the case reports with an officer's code, the server publishes a warning package, and only the
//! classmate's sync warns (once). An officer's warning for a room, without any app upload, reaches the
//! phones that were there. Bad inputs at the new endpoints are refused and change nothing.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::sync::{Arc, Mutex};
use std::time::Duration;

use openzone_core::checkin::{CheckInLinks, NewVenue, Venue};
use openzone_core::engine::EngineStatus;
use openzone_core::keyserver::wire::{
    encode_checkin, ErrorBody, UploadPayload, MAX_CHECKINS_PER_UPLOAD, WARNING_PACKAGE_MARK,
};
use openzone_core::phone::{
    CheckInSource, ClientConfig, DayRisk, KeyServerClient, Phone, PhoneConfig, PhoneListener,
    PositiveReport, PresenceWarning, SyncProgress, UserConsent,
};
use openzone_core::protocol::en_v1::{ExposureKey, TemporaryExposureKey};
use openzone_core::time::{day_of_ms, Clock, SystemClock};
use openzone_core::Error;
use openzone_server::ServerConfig;
use openzone_tests::clock::ManualClock;
use openzone_tests::keyserver_fixture::{
    announced_sealing_key, http, issue_code, officer_token, post_upload, random_tek, sealed, start,
    upload_key, Running,
};
use openzone_tests::phone::{data_key, seed_own_keys};

/// What a phone told its app about presence.
#[derive(Default)]
struct Heard(Mutex<Vec<PresenceWarning>>);

impl PhoneListener for Heard {
    fn radio_status_changed(&self, _: &EngineStatus) {}
    fn sightings_recorded(&self, _: u64) {}
    fn day_at_risk(&self, _: &DayRisk) {}
    fn presence_warning(&self, warning: &PresenceWarning) {
        self.0.lock().unwrap().push(warning.clone());
    }
    fn sync_progress(&self, _: SyncProgress) {}
    fn error(&self, _: &Error) {}
}

struct Pupil {
    _dir: tempfile::TempDir,
    phone: Phone,
    heard: Arc<Heard>,
}

fn pupil(running: &Running, clock: &Arc<ManualClock>, keys: &[ExposureKey]) -> Pupil {
    let dir = tempfile::tempdir().unwrap();
    seed_own_keys(dir.path(), keys);
    let heard = Arc::new(Heard::default());
    let mut config = PhoneConfig::new(dir.path(), data_key());
    config.key_server = Some(KeyServerClient::new(ClientConfig::new(&running.url)).unwrap());
    config.export_keys = vec![running.server.verification_key()];
    let phone = Phone::open(
        config,
        Arc::new(openzone_core::platform::NoRadio),
        Some(Arc::clone(&heard) as Arc<dyn PhoneListener>),
        Arc::clone(clock) as Arc<dyn Clock>,
    )
    .unwrap();
    Pupil {
        _dir: dir,
        phone,
        heard,
    }
}

fn room(name: &str, now_s: u64) -> Venue {
    NewVenue {
        address: Some("Trường THCS Lê Lợi, Huế".into()),
        ..NewVenue::classroom(name)
    }
    .create(now_s, &ring::rand::SystemRandom::new())
    .unwrap()
}

async fn publish_and_sync(running: &Running, phones: &[&Pupil]) -> Vec<usize> {
    let report = running.server.publish_now().await.unwrap();
    assert!(
        report
            .warning_packages
            .iter()
            .all(|(name, ..)| name.contains(WARNING_PACKAGE_MARK)),
        "{report:?}"
    );
    let mut found = Vec::new();
    for p in phones {
        let synced = p.phone.sync().await.unwrap();
        assert!(synced.exports_rejected.is_empty(), "{synced:?}");
        found.push(synced.new_presence_warnings.len());
    }
    found
}

/// A server in `data` whose publication the test drives (`publish_now`), from `min_batch` reports.
fn test_driven(data: &std::path::Path, min_batch: usize) -> ServerConfig {
    let mut config = openzone_tests::postgres_fixture::server_config(data);
    config.publication.cadence = Duration::from_secs(3_600);
    config.publication.min_batch = min_batch;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_in_class_warns_the_classmate_and_no_one_else() {
    let data = tempfile::tempdir().unwrap();
    let mut config = test_driven(data.path(), 20);
    // Small padding keeps the packages small.
    config.publication.padding_jitter = 5;
    let running = start(config).await;

    let now = SystemClock.now_ms();
    let now_s = now / 1000;
    let today = day_of_ms(now);
    // Yesterday's first lesson, 08:00 UTC.
    let lesson = u64::from(today - 1) * 86_400 + 8 * 3_600;
    let clock = ManualClock::new(now);
    let key = |day: u32| {
        ExposureKey::new(
            TemporaryExposureKey::from_bytes(random_tek()),
            day * 144,
            144,
        )
        .unwrap()
    };
    let case = pupil(&running, &clock, &[key(today - 1), key(today)]);
    let classmate = pupil(&running, &clock, &[]);
    let later = pupil(&running, &clock, &[]);

    let class_9a = room("Lớp 9A", now_s);
    let link = CheckInLinks::default().link(&class_9a);
    case.phone
        .check_in(CheckInSource::Link(&link), Some(lesson), None)
        .unwrap();
    classmate
        .phone
        .check_in(CheckInSource::Link(&link), Some(lesson + 300), None)
        .unwrap();
    // The third pupil has the room in the afternoon.
    later
        .phone
        .check_in(CheckInSource::Link(&link), Some(lesson + 6 * 3_600), None)
        .unwrap();

    let token = officer_token(&running).await;
    let code = issue_code(&http(), &running.url, &token, "confirmed", None).await;
    let outcome = case
        .phone
        .report_positive(PositiveReport {
            code,
            onset_day: None,
            test_day: None,
            consent: UserConsent::given(),
        })
        .await
        .unwrap();
    assert_eq!(outcome.checkins_uploaded, 1);

    let found = publish_and_sync(&running, &[&classmate, &later, &case]).await;
    // The case's own phone knows the stay it reported is its own.
    assert_eq!(found, [1, 0, 0]);
    let warned = classmate.heard.0.lock().unwrap().clone();
    assert_eq!(warned.len(), 1);
    assert_eq!(warned[0].description, "Lớp 9A");
    assert!(warned[0].at_risk && warned[0].minutes >= 35, "{warned:?}");
    assert!(later.heard.0.lock().unwrap().is_empty());

    // A second sync finds nothing new and tells nothing again.
    let again = publish_and_sync(&running, &[&classmate]).await;
    assert_eq!(again, [0]);
    assert_eq!(classmate.heard.0.lock().unwrap().len(), 1);

    // An officer warns for 9A in the afternoon (a paper gate log): only the afternoon pupil is told.
    let warn = http()
        .post(format!("{}v1/admin/warnings", running.url))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(
            serde_json::json!({
                "venue": link,
                "from": lesson + 6 * 3_600,
                "to": lesson + 7 * 3_600,
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(warn.status(), 201);
    let found = publish_and_sync(&running, &[&classmate, &later]).await;
    assert_eq!(found, [0, 1]);
    assert_eq!(later.heard.0.lock().unwrap()[0].description, "Lớp 9A");
    running.stop().await;
}

/// Posts an officer's warning `body` (a bearer token if given); returns the status and error code.
async fn post_warning(running: &Running, token: Option<&str>, body: String) -> (u16, String) {
    let mut request = http()
        .post(format!("{}v1/admin/warnings", running.url))
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    if status == 201 {
        return (status, "ok".into());
    }
    let error: ErrorBody = serde_json::from_slice(&bytes).unwrap();
    (status, error.error)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_checkins_and_warnings_are_refused_and_change_nothing() {
    let data = tempfile::tempdir().unwrap();
    let running = start(test_driven(data.path(), 5)).await;
    let now_s = SystemClock.now_ms() / 1000;
    let token = officer_token(&running).await;
    let sealing = announced_sealing_key(&running.url).await;
    let link = CheckInLinks::default().link(&room("Lớp 6A", now_s));
    let hour_ago = now_s - 3_600;

    // Uploads: too many check-ins, garbage, truncated, oversized ones; the code stays unused.
    let code = issue_code(&http(), &running.url, &token, "confirmed", None).await;
    let fake = encode_checkin(
        &openzone_core::checkin::ProtectedReport::fake(&ring::rand::SystemRandom::new()).unwrap(),
    );
    let key = upload_key(random_tek(), (now_s / 600) as u32 - 200, 144);
    let bad_sets: Vec<(Vec<String>, &str)> = vec![
        (
            vec![fake.clone(); MAX_CHECKINS_PER_UPLOAD + 1],
            "too_many_checkins",
        ),
        (vec!["not base64 at all".into()], "invalid_checkin"),
        (vec![fake[..fake.len() / 2].to_owned()], "invalid_checkin"),
        (vec!["QUFB".repeat(60)], "invalid_checkin"),
        (vec![String::new()], "invalid_checkin"),
    ];
    for (checkins, expected) in bad_sets {
        let payload = UploadPayload {
            code: code.clone(),
            keys: vec![key.clone()],
            checkins,
        };
        let (status, error) =
            post_upload(&http(), &running.url, sealed(&sealing, &payload), None).await;
        assert_eq!((status, error.as_str()), (400, expected));
    }
    // Warnings: no session or code, a wrong session, bad posters, spans in the future, too old, too
    // long, backwards, malformed and oversized bodies.
    let warning = |venue: &str, from: u64, to: u64| {
        serde_json::json!({ "venue": venue, "from": from, "to": to }).to_string()
    };
    let good = warning(&link, hour_ago, now_s - 600);
    assert_eq!(post_warning(&running, None, good.clone()).await.0, 401);
    assert_eq!(
        post_warning(&running, Some("nope"), good.clone()).await.0,
        401
    );
    let other_app = "https://zalo.me/g/abcdef";
    let cases = [
        warning(other_app, hour_ago, now_s),
        warning("", hour_ago, now_s),
        warning(&link[..link.len() - 8], hour_ago, now_s),
        warning(&format!("{link}{}", "A".repeat(2_000)), hour_ago, now_s),
        warning(&link, now_s + 600, now_s + 1_200),
        warning(&link, now_s - 15 * 86_400, now_s - 15 * 86_400 + 600),
        warning(&link, now_s - 2 * 86_400, now_s),
        warning(&link, now_s - 600, now_s - 1_200),
    ];
    for body in cases {
        let (status, error) = post_warning(&running, Some(&token), body.clone()).await;
        assert_eq!((status, error.as_str()), (400, "invalid_warning"), "{body}");
    }
    for body in ["", "{", "[]", "{\"venue\":1}", &"x".repeat(100_000)] {
        let (status, _) = post_warning(&running, Some(&token), body.to_owned()).await;
        assert!(status == 400 || status == 413, "{status} for {:.40}", body);
    }
    // A warning with a code an officer issued: a wrong code is refused, the right one used once.
    let with_code = |code: &str| {
        serde_json::json!({ "venue": link, "from": hour_ago, "to": now_s - 600, "code": code })
            .to_string()
    };
    assert_eq!(
        post_warning(&running, None, with_code("00000000")).await,
        (404, "code_unknown".into())
    );
    let report = running.server.publish_now().await.unwrap();
    assert!(report.warning_packages.is_empty(), "{report:?}");
    assert_eq!(post_warning(&running, None, with_code(&code)).await.0, 201);
    assert_eq!(
        post_warning(&running, None, with_code(&code)).await,
        (409, "code_used".into())
    );
    let report = running.server.publish_now().await.unwrap();
    assert_eq!(report.warning_packages.len(), 1);
    let (_, real, total) = &report.warning_packages[0];
    assert_eq!(*real, 1);
    assert!(*total >= 5);
    running.stop().await;
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_warns_from_the_page() {
    let data = tempfile::tempdir().unwrap();
    let running = start(test_driven(data.path(), 5)).await;
    let token = officer_token(&running).await;
    let cookie = format!("oz_session={token}; oz_lang=en");
    let now_s = SystemClock.now_ms() / 1000;
    let link = CheckInLinks::default().link(&room("Lớp 6B", now_s));
    // Yesterday 09:00 to 09:45, Vietnam time.
    let yesterday = openzone_core::time::format_day(day_of_ms(SystemClock.now_ms()) - 1);
    let post = |form: Vec<(&'static str, String)>, cookie: Option<String>| {
        let url = format!("{}admin/warnings", running.url);
        async move {
            let body: Vec<String> = form
                .iter()
                .map(|(k, v)| format!("{k}={}", form_encode(v)))
                .collect();
            let mut request = http()
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.join("&"));
            if let Some(cookie) = cookie {
                request = request.header("cookie", cookie);
            }
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let form = |venue: &str, from: &str, to: &str| {
        vec![
            ("venue", venue.to_owned()),
            ("date", yesterday.clone()),
            ("from", from.to_owned()),
            ("to", to.to_owned()),
        ]
    };
    let (status, _) = post(form(&link, "09:00", "09:45"), None).await;
    assert_eq!(status, 401, "without a session");
    for bad in [
        form("https://zalo.me/g/x", "09:00", "09:45"),
        form(&link, "09:45", "09:00"),
        form(&link, "25:00", "26:00"),
        form(&link, "nine", "ten"),
    ] {
        let (status, page) = post(bad, Some(cookie.clone())).await;
        assert_eq!(status, 400);
        assert!(page.contains("id=\"error\""), "{page}");
    }
    let (status, page) = post(form(&link, "09:00", "09:45"), Some(cookie)).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"notice\""), "{page}");
    let report = running.server.publish_now().await.unwrap();
    assert_eq!(report.warning_packages.len(), 1);
    assert_eq!(report.warning_packages[0].1, 1);
    running.stop().await;
}
