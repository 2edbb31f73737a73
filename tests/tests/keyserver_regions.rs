//! Exports partitioned by region: an officer ties a case to a province (or to none), the server
//! publishes each case's keys in that province's exports (or the national ones) with an index per
//! partition, and a phone that chose its provinces downloads the national index and theirs only; a phone
//! that chose none downloads everything, as before.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::collections::BTreeMap;
use std::path::Path;

use openzone_core::export::Export;
use openzone_core::keyserver::wire::{UploadPayload, NATIONAL_PARTITION};
use openzone_core::phone::{ClientConfig, KeyServerClient, PhoneConfig};
use openzone_core::time::{day_of_ms, Clock, SystemClock};
use openzone_tests::clock::ManualClock;
use openzone_tests::keyserver_fixture::{
    config_doc, http, officer_token, random_tek, request_code, start, upload_key,
};
use openzone_tests::phone::open_phone;
use openzone_tests::postgres_fixture::server_config;

/// The names an index file in `exports` lists.
fn listed(exports: &Path, file: &str) -> Vec<String> {
    std::fs::read_to_string(exports.join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_case_is_published_in_its_region_and_a_phone_downloads_only_its_own() {
    let data = tempfile::tempdir().unwrap();
    let mut config = server_config(data.path());
    // Given in lower case and twice: the server lists each code once, as published.
    config.publication.regions = vec!["79".into(), "01".into(), "79".into(), "hn".into()];
    config.publication.min_batch = 10;
    let running = start(config).await;
    let client = http();
    let token = officer_token(&running).await;

    // A region the server does not publish for, or no region code at all, is refused and issues nothing.
    for region in ["48", "7/9", "a-much-too-long-region"] {
        let body = serde_json::json!({ "test_type": "confirmed", "region": region });
        let (status, answer) = request_code(&client, &running.url, &token, &body).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (400, Some("unknown_region"))
        );
    }

    // Three cases: one in 79, one in 01, one national (no region, or an empty one from the page).
    let uploader = KeyServerClient::new(ClientConfig::new(&running.url)).unwrap();
    let sealing = uploader.sealing_key().await.unwrap();
    let today = day_of_ms(SystemClock.now_ms());
    let mut teks = BTreeMap::new();
    for (partition, region) in [
        ("79", Some("79")),
        ("01", Some("01")),
        (NATIONAL_PARTITION, None),
    ] {
        let mut body = serde_json::json!({ "test_type": "confirmed" });
        if let Some(region) = region {
            body["region"] = region.into();
        }
        let (status, answer) = request_code(&client, &running.url, &token, &body).await;
        assert_eq!(status, 201, "{answer}");
        let tek = random_tek();
        let payload = UploadPayload {
            code: answer["code"].as_str().unwrap().to_owned(),
            // Two days ago: past the publication delay at any time of day.
            keys: vec![upload_key(tek, (today - 2) * 144, 144)],
            checkins: Vec::new(),
        };
        uploader.publish(&sealing, &payload).await.unwrap();
        teks.insert(partition, tek);
    }
    let report = running.server.publish_now().await.unwrap();
    assert_eq!(report.exports.len(), 3, "one export per partition");

    // An index per partition, each listing its one export; index.txt lists all three.
    let exports = data.path().join("exports");
    let all = listed(&exports, "index.txt");
    assert_eq!(all.len(), 3);
    for partition in teks.keys() {
        let names = listed(&exports, &format!("index-{partition}.txt"));
        assert_eq!(names.len(), 1, "{partition}");
        assert!(all.contains(&names[0]));
        let export = Export::from_zip_file(&exports.join(&names[0])).unwrap();
        let region = match *partition {
            NATIONAL_PARTITION => "VN".to_owned(),
            code => format!("VN-{code}"),
        };
        assert_eq!(export.header().region.as_deref(), Some(region.as_str()));
        let keys: Vec<[u8; 16]> = export
            .keys()
            .map(|k| *k.unwrap().key.tek.as_bytes())
            .collect();
        for (other, other_tek) in &teks {
            assert_eq!(
                keys.contains(other_tek),
                other == partition,
                "{other} in {partition}"
            );
        }
    }
    // HN was configured and has no case yet: its index is there, empty, so phones that chose it read it.
    assert!(listed(&exports, "index-HN.txt").is_empty());
    let doc = config_doc(&running.url).await;
    let partitions: Vec<&str> = doc.region_index_urls.keys().map(String::as_str).collect();
    assert_eq!(partitions, ["01", "79", "HN", NATIONAL_PARTITION]);
    let index = http()
        .get(format!("{}{}", running.url, doc.region_index_urls["79"]))
        .send()
        .await
        .unwrap();
    assert_eq!(index.status(), 200);
    assert_eq!(
        index.text().await.unwrap().trim(),
        listed(&exports, "index-79.txt")[0]
    );

    // A phone in 79 downloads the national export and 79's; one that chose nothing downloads all three;
    // one that chose a region the server does not know is told so and still gets the national export.
    let clock = ManualClock::new(SystemClock.now_ms());
    let announced = |c: &mut PhoneConfig| {
        c.key_server = Some(uploader.clone());
        c.trust_announced_export_keys = true;
    };
    for (regions, checked, not_published) in [
        (vec!["79".to_owned()], 2, vec![]),
        (vec![], 3, vec![]),
        (vec!["48".to_owned()], 1, vec!["48".to_owned()]),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let phone = open_phone(dir.path(), &clock, announced);
        phone.set_regions(&regions).unwrap();
        let sync = phone.sync().await.unwrap();
        assert_eq!(sync.exports_listed, checked, "{regions:?}");
        assert_eq!(sync.exports_checked, checked, "{regions:?}");
        assert_eq!(sync.regions_not_published, not_published);
    }
    running.stop().await;
}
