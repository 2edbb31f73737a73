//! The officer page in headless Chromium (Debian's `chromium`, driven by playwright-core from
//! `tests/browser/admin_page.mjs`): an officer signs in with their name and password on a phone-sized
//! screen, switches language, issues a code for a case in a province chosen on the page; a phone uploads
//! with it; the counters the officer sees go up, and the key is published in that province's exports. Fails, never skips, when node, playwright-core or chromium is missing: `scripts/setup` installs
//! them.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::Path;

use openzone_core::export::{Export, ReportType};
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
    let (data, running) = start_temp(|config| {
        small_hourly_exports(config);
        config.publication.regions = vec!["01".into(), "79".into()];
    })
    .await;
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
        move || run_page(&["issue", &url, &name, &password, &onset, &shot, "79"])
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

    // What the officer chose on the page is what the export says, and where it is listed: the province's
    // index, not the other province's nor the national one.
    let exports_dir = data.path().join("exports");
    let exports = read_local_exports(&exports_dir, &running.server.verification_key());
    let (name, keys) = exports
        .iter()
        .find(|(_, keys)| keys.iter().any(|k| *k.key.tek.as_bytes() == tek))
        .unwrap();
    let listed_in = |partition: &str| {
        std::fs::read_to_string(exports_dir.join(format!("index-{partition}.txt")))
            .unwrap()
            .lines()
            .any(|line| line == name)
    };
    assert!(listed_in("79"), "{name} is not in index-79.txt");
    assert!(!listed_in("01"), "{name} is in index-01.txt");
    assert!(!listed_in("national"), "{name} is in index-national.txt");
    let export = Export::from_zip_file(&exports_dir.join(name)).unwrap();
    assert_eq!(export.header().region.as_deref(), Some("VN-79"));
    let key = keys.iter().find(|k| *k.key.tek.as_bytes() == tek).unwrap();
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
