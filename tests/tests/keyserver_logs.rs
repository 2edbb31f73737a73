//! The key server's logs say what happened without anything secret: no code, no key, no session token, no
//! password, no client address, even at the most verbose level; and no line per upload, whose time would
//! tell when someone reported.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::io::Write;
use std::sync::{Arc, Mutex};

use openzone_core::keyserver::wire::UploadPayload;
use openzone_core::keyserver::{ClientConfig, KeyServerClient};
use openzone_core::time::{day_of_ms, Clock, SystemClock};
use openzone_tests::keyserver_fixture::{
    http, issue_code, officer_token, random_tek, start, upload_key, OFFICER_PASSWORD,
};
use openzone_tests::postgres_fixture::server_config;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_never_hold_codes_keys_tokens_or_addresses() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "openzone_server=trace,openzone_core=trace",
        ))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let data = tempfile::tempdir().unwrap();
    let mut config = server_config(data.path());
    config.publication.min_batch = 10;
    let running = start(config).await;
    let client = http();
    let token = officer_token(&running).await;
    let code = issue_code(&client, &running.url, &token, "confirmed", None).await;
    let phone = KeyServerClient::new(ClientConfig::new(&running.url)).unwrap();
    let sealing = phone.sealing_key().await.unwrap();
    let day = day_of_ms(SystemClock.now_ms()) - 2;
    let teks = [random_tek(), random_tek()];
    let upload = |tek| UploadPayload {
        checkins: Vec::new(),
        code: code.clone(),
        keys: vec![upload_key(tek, day * 144, 144)],
    };
    phone.publish(&sealing, &upload(teks[0])).await.unwrap();
    // Refused: the code is used.
    assert!(phone.publish(&sealing, &upload(teks[1])).await.is_err());
    // A wrong password on the officer page.
    let refused = client
        .post(format!("{}admin/login", running.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=nurse&password=wrong-wrong-wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    running.server.publish_now().await.unwrap();
    running.stop().await;

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for expected in [
        "code issued",
        "uploads since the last publication run",
        "accepted=1",
        "code_used=1",
        "officer sign-in refused",
        "export published",
    ] {
        assert!(log.contains(expected), "the log lacks {expected:?}:\n{log}");
    }
    for single in ["upload accepted", "upload refused"] {
        assert!(
            !log.contains(single),
            "the log has a line per upload:\n{log}"
        );
    }
    for secret in [
        code.clone(),
        token,
        OFFICER_PASSWORD.to_owned(),
        hex::encode(teks[0]),
        hex::encode(teks[1]),
        "127.0.0.1".to_owned(),
    ] {
        assert!(!log.contains(&secret), "the log holds a secret:\n{log}");
    }
}
