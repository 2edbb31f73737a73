//! The officer page in headless Chromium (Debian's `chromium`, driven by playwright-core from
//! `tests/browser/admin_page.mjs`): an officer signs in with their name and password on a phone-sized
//! screen, switches language, issues a code; a phone uploads with it; the counters the officer sees go
//! up. Fails, never skips, when node, playwright-core or chromium is missing: `scripts/setup` installs
//! them.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::Path;

use openzone_core::export::ReportType;
use openzone_core::keyserver::wire::UploadPayload;
use openzone_core::keyserver::{ClientConfig, KeyServerClient};
use openzone_core::time::{day_of_ms, format_day, Clock, SystemClock};
use openzone_tests::keyserver_fixture::{
    random_tek, read_local_exports, small_hourly_exports, start_temp, upload_key,
};

/// Runs `tests/browser/admin_page.mjs`; returns its JSON output.
fn run_page(args: &[&str]) -> serde_json::Value {
    openzone_tests::browser::run_script("admin_page.mjs", args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_issues_a_code_on_a_phone_browser_and_sees_the_counters() {
    let (data, running) = start_temp(small_hourly_exports).await;
    running
        .server
        .accounts()
        .add_officer("lan", "lan's password on the page", 10)
        .await
        .unwrap();
    let (name, password) = ("lan".to_owned(), "lan's password on the page".to_owned());
    // Symptoms began two days ago, on the day of the key the phone uploads: a key that ended more than
    // the publication delay ago, at any hour.
    let onset_day = day_of_ms(SystemClock.now_ms()) - 2;
    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("admin-page.png");

    let url = running.url.clone();
    let onset = format_day(onset_day);
    let shot = screenshot.display().to_string();
    let issued = tokio::task::spawn_blocking({
        let (url, name, password) = (url.clone(), name.clone(), password.clone());
        move || run_page(&["issue", &url, &name, &password, &onset, &shot])
    })
    .await
    .unwrap();
    assert_eq!(issued["codes_issued"], 1);
    let code = issued["code"].as_str().unwrap().to_owned();
    let code_for_audit = code.clone();
    assert!(screenshot.exists());

    // A student's phone uploads the key of the day of onset with the code; the server publishes it.
    let phone = KeyServerClient::new(ClientConfig::new(&running.url)).unwrap();
    let sealing = phone.sealing_key().await.unwrap();
    let tek = random_tek();
    let payload = UploadPayload {
        checkins: Vec::new(),
        code,
        keys: vec![upload_key(tek, onset_day * 144, 144)],
    };
    assert_eq!(
        phone
            .publish(&sealing, &payload)
            .await
            .unwrap()
            .accepted_keys,
        1
    );
    running.server.publish_now().await.unwrap();

    let counters =
        tokio::task::spawn_blocking(move || run_page(&["check", &url, &name, &password]))
            .await
            .unwrap();
    assert_eq!(counters["codes_issued"], 1);
    assert_eq!(counters["codes_used"], 1);
    assert_eq!(counters["keys_published"], 1);
    assert_eq!(counters["keys_pending"], 0);

    // What the officer chose on the page is what the export says.
    let exports = read_local_exports(
        &data.path().join("exports"),
        &running.server.verification_key(),
    );
    let key = exports[0]
        .1
        .iter()
        .find(|k| *k.key.tek.as_bytes() == tek)
        .unwrap();
    assert_eq!(key.report_type, ReportType::ConfirmedClinicalDiagnosis);
    assert_eq!(key.days_since_onset, Some(0));
    assert_eq!(key.transmission_risk_level, Some(8));
    // Who issued that code is on record.
    assert_eq!(
        running
            .server
            .accounts()
            .code_issuer(&code_for_audit)
            .await
            .unwrap()
            .as_deref(),
        Some("lan")
    );
    running.stop().await;
}
