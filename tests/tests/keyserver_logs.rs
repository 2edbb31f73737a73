//! The key server's logs say what happened without anything secret: no code, no key, no admin token, no
//! client address, even at the most verbose level.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openzone_core::keyserver::wire::UploadPayload;
use openzone_core::keyserver::{ClientConfig, KeyServerClient};
use openzone_core::time::{day_of_ms, Clock, SystemClock};
use openzone_server::ServerConfig;
use openzone_tests::keyserver_fixture::{http, issue_code, random_tek, start, upload_key};

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
    let mut config = ServerConfig::new(data.path());
    config.publication.delay = Duration::ZERO;
    config.publication.min_batch = 10;
    let running = start(config).await;
    let client = http();
    let token = running.server.admin_token().to_owned();
    let code = issue_code(&client, &running.url, &token, "confirmed", None).await;
    let phone = KeyServerClient::new(ClientConfig::new(&running.url)).unwrap();
    let sealing = phone.sealing_key().await.unwrap();
    let yesterday = day_of_ms(SystemClock.now_ms()) - 1;
    let teks = [random_tek(), random_tek()];
    let upload = |tek| UploadPayload {
        code: code.clone(),
        keys: vec![upload_key(tek, yesterday * 144, 144)],
    };
    phone.publish(&sealing, &upload(teks[0])).await.unwrap();
    // Refused: the code is used.
    assert!(phone.publish(&sealing, &upload(teks[1])).await.is_err());
    // A wrong token on the officer page.
    let refused = client
        .post(format!("{}admin/login", running.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("token=wrong-wrong-wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    running.server.publish_now().await.unwrap();
    running.stop().await;

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for expected in [
        "code issued",
        "upload accepted",
        "upload refused",
        "code_used",
        "officer sign-in refused",
        "export published",
    ] {
        assert!(log.contains(expected), "the log lacks {expected:?}:\n{log}");
    }
    for secret in [
        code.clone(),
        token,
        hex::encode(teks[0]),
        hex::encode(teks[1]),
        "127.0.0.1".to_owned(),
    ] {
        assert!(!log.contains(&secret), "the log holds a secret:\n{log}");
    }
}
