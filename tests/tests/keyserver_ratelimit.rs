//! Code guessing cannot block real uploads: rate limits are per client first, and the global budget for
//! failed code checks never makes a valid code wait. Clients are real loopback addresses (127.0.0.2 and
//! up), as distinct phones or attackers would be, and behind a proxy the address the proxy appends.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use futures::StreamExt;
use openzone_core::keyserver::seal::SealingPublicKey;
use openzone_core::keyserver::wire::UploadPayload;
use openzone_server::ServerConfig;
use openzone_tests::clock::ManualClock;
use openzone_tests::keyserver_fixture::{
    announced_sealing_key, http, http_from, issue_code, officer_token, post_upload, random_tek,
    sealed, start, upload_key, DAY, NOON_MS,
};
use openzone_tests::postgres_fixture::server_config;

const ATTACKERS: u8 = 200;
const ATTEMPTS_EACH: usize = 10;

/// A well-formed sealed upload of yesterday's key under `code`.
fn sealed_upload(key: &SealingPublicKey, code: &str) -> Vec<u8> {
    let payload = UploadPayload {
        checkins: Vec::new(),
        code: code.to_owned(),
        keys: vec![upload_key(random_tek(), (DAY - 1) * 144, 144)],
    };
    sealed(key, &payload)
}

fn config(dir: &std::path::Path) -> ServerConfig {
    let mut config = server_config(dir);
    config.clock = ManualClock::new(NOON_MS);
    config.publication.cadence = Duration::from_secs(3_600);
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_wrong_codes_from_two_hundred_addresses_do_not_block_a_valid_upload() {
    let dir = tempfile::tempdir().unwrap();
    let running = start(config(dir.path())).await;
    let key = announced_sealing_key(&running.url).await;
    let token = officer_token(&running).await;
    let valid = issue_code(&http(), &running.url, &token, "confirmed", None).await;

    // 200 attackers, 127.0.0.2 to 127.0.0.201, each spending its whole per-client allowance on wrong codes.
    let attempts: Vec<(IpAddr, Vec<u8>)> = (0..ATTACKERS)
        .flat_map(|i| {
            let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + i));
            (0..ATTEMPTS_EACH).map(move |n| (ip, n))
        })
        .map(|(ip, n)| {
            let wrong = format!("{:08}", 90_000_000 + usize::from(ip_last(ip)) * 100 + n);
            (ip, sealed_upload(&key, &wrong))
        })
        .collect();
    assert_eq!(attempts.len(), 2_000);
    let clients: Vec<reqwest::Client> = (0..ATTACKERS)
        .map(|i| http_from(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + i))))
        .collect();
    let outcomes: Vec<(u16, String)> = futures::stream::iter(attempts)
        .map(|(ip, body)| {
            let client = &clients[usize::from(ip_last(ip) - 2)];
            let running = &running;
            async move { post_upload(client, &running.url, body, None).await }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    assert!(
        outcomes.iter().all(
            |(status, code)| (*status, code.as_str()) == (404, "code_unknown")
                || (*status, code.as_str()) == (429, "rate_limited")
        ),
        "every wrong code is refused"
    );

    // A phone at another address, with the code its officer gave it: accepted, not told to wait.
    let phone = http_from(IpAddr::V4(Ipv4Addr::new(127, 0, 1, 1)));
    assert_eq!(
        post_upload(&phone, &running.url, sealed_upload(&key, &valid), None).await,
        (200, "ok".into()),
        "a valid upload waited behind the attack"
    );
    running.stop().await;
}

fn ip_last(ip: IpAddr) -> u8 {
    match ip {
        IpAddr::V4(v4) => v4.octets()[3],
        IpAddr::V6(_) => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_proxy_the_address_the_proxy_appends_is_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.trust_forwarded_for = true;
    let running = start(config).await;
    let key = announced_sealing_key(&running.url).await;
    let client = http();
    // The client writes whatever it likes first; the proxy appends the address it saw, last.
    let mut statuses = Vec::new();
    for n in 0..11u32 {
        let chain = format!("198.51.100.{n}, 203.0.113.7");
        let wrong = format!("{:08}", 91_000_000 + n);
        statuses.push(
            post_upload(
                &client,
                &running.url,
                sealed_upload(&key, &wrong),
                Some(&chain),
            )
            .await,
        );
    }
    assert!(
        statuses[..10].iter().all(|(s, _)| *s == 404),
        "{statuses:?}"
    );
    assert_eq!(
        statuses[10],
        (429, "rate_limited".into()),
        "a client rotating the first X-Forwarded-For entry escaped its limit"
    );
    // Another client behind the same proxy is not affected.
    assert_eq!(
        post_upload(
            &client,
            &running.url,
            sealed_upload(&key, "91999999"),
            Some("203.0.113.7, 203.0.113.8")
        )
        .await
        .0,
        404
    );
    running.stop().await;
}
