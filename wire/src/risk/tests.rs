//! Risk scoring against hand-computed results.

use super::*;
use crate::export::signing::SigningKey;
use models::Proximity;

const DAY_MS: u64 = 86_400_000;
const T0: u64 = 20_000 * DAY_MS + 8 * 3_600_000;

fn key(trl: Option<u8>) -> KeyWeighting {
    KeyWeighting {
        transmission_risk_level: trl,
        report_type: ReportType::ConfirmedTest,
        days_since_onset: Some(0),
    }
}

fn instances(n: u64, every_s: u32, attenuation: f64) -> Vec<ScoredInstance> {
    (0..n)
        .map(|i| ScoredInstance {
            time_ms: T0 + i * u64::from(every_s) * 1000,
            seconds_since_previous_scan: Some(every_s),
            typical_attenuation_db: attenuation,
            min_attenuation_db: attenuation - 5.0,
        })
        .collect()
}

fn exposure(trl: Option<u8>, instances: Vec<ScoredInstance>) -> Exposure {
    Exposure {
        key: key(trl),
        instances,
        tx_power_estimated: false,
    }
}

#[test]
fn fifteen_close_minutes_are_a_risk_under_the_cwa_configuration() {
    let config = RiskConfig::corona_warn_app_2021();
    // 3 scans 5 minutes apart at 60 dB: 15 minutes x 0.8, TRL 6 weighs 1.2: 14.4 minutes.
    let days = score(&[exposure(Some(6), instances(3, 300, 60.0))], &config);
    assert_eq!(days.len(), 1);
    let day = &days[0];
    assert_eq!(day.day, 20_000);
    assert!(
        (day.weighted_minutes - 14.4).abs() < 1e-9,
        "{}",
        day.weighted_minutes
    );
    assert!(day.at_risk);
    assert_eq!(day.closest, ProximityBand::Immediate);
    assert_eq!(day.minutes, 15.0);
    // TRL 5 weighs 1.0: 12 minutes, below 13.
    let days = score(&[exposure(Some(5), instances(3, 300, 60.0))], &config);
    assert!(!days[0].at_risk);
    assert!((days[0].weighted_minutes - 12.0).abs() < 1e-9);
}

#[test]
fn cwa_drops_short_windows_and_low_transmission_risk() {
    let config = RiskConfig::corona_warn_app_2021();
    // 4 minutes below 79 dB: dropped.
    assert!(score(&[exposure(Some(6), instances(4, 60, 70.0))], &config).is_empty());
    // 5 minutes: kept (weight 1.0 at 70 dB).
    let days = score(&[exposure(Some(5), instances(5, 60, 70.0))], &config);
    assert_eq!(days[0].weighted_minutes, 5.0);
    // Far away counts for nothing and fails the filter.
    assert!(score(&[exposure(Some(6), instances(6, 300, 85.0))], &config).is_empty());
    // TRL 1 and 2 are dropped; keys without a level weigh 1.
    assert!(score(&[exposure(Some(2), instances(6, 300, 60.0))], &config).is_empty());
    let days = score(&[exposure(None, instances(3, 300, 60.0))], &config);
    assert!((days[0].weighted_minutes - 12.0).abs() < 1e-9);
}

#[test]
fn windows_are_cut_at_thirty_minutes_and_at_midnight() {
    let config = RiskConfig::corona_warn_app_2021();
    // 12 scans 5 minutes apart: an hour, two windows of 6 scans.
    let days = score(&[exposure(Some(5), instances(12, 300, 65.0))], &config);
    assert_eq!(days[0].windows, 2);
    assert_eq!(days[0].weighted_minutes, 60.0);
    // Across midnight: two days.
    let late = ScoredInstance {
        time_ms: 20_001 * DAY_MS - 120_000,
        seconds_since_previous_scan: Some(300),
        typical_attenuation_db: 65.0,
        min_attenuation_db: 60.0,
    };
    let early = ScoredInstance {
        time_ms: 20_001 * DAY_MS + 60_000,
        ..late
    };
    let many = |base: ScoredInstance| {
        (0..2).map(move |i| ScoredInstance {
            time_ms: base.time_ms + i * 10_000,
            ..base
        })
    };
    let all: Vec<_> = many(late).chain(many(early)).collect();
    let days = score(&[exposure(Some(5), all)], &config);
    assert_eq!(
        days.iter().map(|d| d.day).collect::<Vec<_>>(),
        [20_000, 20_001]
    );
}

#[test]
fn unknown_scan_gaps_are_credited_with_the_cap() {
    let config = RiskConfig::corona_warn_app_2021();
    let mut list = instances(3, 300, 60.0);
    list.iter_mut()
        .for_each(|i| i.seconds_since_previous_scan = None);
    list[0].seconds_since_previous_scan = Some(10_000);
    let days = score(&[exposure(None, list)], &config);
    assert_eq!(days[0].minutes, 15.0);
}

#[test]
fn days_add_up_across_keys_and_merges() {
    let config = RiskConfig::corona_warn_app_2021();
    let a = exposure(Some(5), instances(2, 300, 60.0));
    let b = exposure(Some(5), instances(2, 300, 68.0));
    let days = score(&[a.clone(), b.clone()], &config);
    assert_eq!(days.len(), 1);
    assert!((days[0].weighted_minutes - (8.0 + 10.0)).abs() < 1e-9);
    assert!(days[0].at_risk);
    assert_eq!(days[0].windows, 2);
    let mut first = score(&[a], &config).remove(0);
    assert!(!first.at_risk);
    first.merge(&score(&[b], &config)[0], &config);
    assert_eq!(first, days[0]);
}

#[test]
fn the_google_sample_weighs_buckets_differently() {
    let config = RiskConfig::google_sample();
    config.check().unwrap();
    // 30 minutes at 25 dB weigh 1.5: 45 weighted minutes, at risk.
    let days = score(&[exposure(Some(1), instances(6, 300, 25.0))], &config);
    assert!((days[0].weighted_minutes - 45.0).abs() < 1e-9);
    assert!(days[0].at_risk);
    // 30 minutes at 55 dB weigh 0.5.
    let days = score(&[exposure(None, instances(6, 300, 55.0))], &config);
    assert!(!days[0].at_risk);
    // The strongest signal, 50 dB, is in the third bucket.
    assert_eq!(days[0].closest, ProximityBand::Medium);
}

#[test]
fn infectiousness_and_report_types_weigh() {
    let mut config = RiskConfig::corona_warn_app_2021();
    config.infectiousness.high_weight = 2.0;
    config.report_type_weights.self_report = 0.5;
    let base = exposure(None, instances(3, 300, 65.0));
    let w = |e: &Exposure| {
        score(std::slice::from_ref(e), &config)
            .first()
            .map(|d| d.weighted_minutes)
    };
    assert_eq!(w(&base), Some(30.0));
    let outside = Exposure {
        key: KeyWeighting {
            days_since_onset: Some(20),
            ..base.key
        },
        ..base.clone()
    };
    assert_eq!(w(&outside), None);
    let standard = Exposure {
        key: KeyWeighting {
            days_since_onset: Some(-7),
            ..base.key
        },
        ..base.clone()
    };
    assert_eq!(w(&standard), Some(15.0));
    let self_report = Exposure {
        key: KeyWeighting {
            report_type: ReportType::SelfReport,
            ..base.key
        },
        ..base.clone()
    };
    assert_eq!(w(&self_report), Some(15.0));
}

#[test]
fn a_weight_written_back_reads_as_the_same_number() {
    // Found by the risk_config fuzz target: serde_json's default float parser is not exact, so a weight
    // of 1e-82 read, written and read again came back as 1.0000000000000001e-82.
    let mut config = RiskConfig::corona_warn_app_2021();
    config.attenuation_weights[2] = 1e-82;
    let json = config.to_json();
    let read = RiskConfig::from_json(json.as_bytes()).unwrap();
    assert_eq!(read, config);
    assert_eq!(read.to_json(), json);
    let text = json.replace("1e-82", "0.30000000000000004");
    let read = RiskConfig::from_json(text.as_bytes()).unwrap();
    assert_eq!(read.attenuation_weights[2], 0.1 + 0.2);
}

#[test]
fn configurations_round_trip_as_json_and_can_be_signed() {
    for config in [
        RiskConfig::corona_warn_app_2021(),
        RiskConfig::google_sample(),
    ] {
        config.check().unwrap();
        assert_eq!(
            RiskConfig::from_json(config.to_json().as_bytes()).unwrap(),
            config
        );
        assert_eq!(RiskConfig::named(&config.name).unwrap(), config);
    }
    let (signer, _) = SigningKey::generate("ha", "v1").unwrap();
    let json = RiskConfig::google_sample().to_json().into_bytes();
    let sig = signer.sign(&json).unwrap();
    let keys = [signer.verification_key()];
    assert_eq!(
        RiskConfig::from_signed_json(&json, &sig, &keys).unwrap(),
        RiskConfig::google_sample()
    );
    let mut altered = json.clone();
    let at = altered.windows(2).position(|w| w == b"45").unwrap();
    altered[at] = b'9';
    assert!(matches!(
        RiskConfig::from_signed_json(&altered, &sig, &keys),
        Err(Error::Signature(_))
    ));
}

#[test]
fn bad_configurations_are_errors() {
    let base = RiskConfig::corona_warn_app_2021();
    let cases = [
        RiskConfig {
            attenuation_weights: vec![1.0],
            ..base.clone()
        },
        RiskConfig {
            attenuation_thresholds_db: vec![73, 63, 79],
            ..base.clone()
        },
        RiskConfig {
            attenuation_weights: vec![0.8, f64::NAN, 0.1, 0.0],
            ..base.clone()
        },
        RiskConfig {
            at_risk_minutes_per_day: -1.0,
            ..base.clone()
        },
        RiskConfig {
            max_seconds_per_scan: 0,
            ..base.clone()
        },
        RiskConfig {
            exposure_window_minutes: 0,
            ..base.clone()
        },
    ];
    for config in cases {
        assert!(
            matches!(config.check(), Err(Error::InvalidConfig(_))),
            "{config:?}"
        );
    }
    for json in [&b""[..], b"{}", b"[]", br#"{"name": 1}"#] {
        assert!(matches!(
            RiskConfig::from_json(json),
            Err(Error::InvalidConfig(_))
        ));
    }
    let mut extra: serde_json::Value = serde_json::from_str(&base.to_json()).unwrap();
    extra["surprise"] = 1.into();
    assert!(RiskConfig::from_json(extra.to_string().as_bytes()).is_err());
    assert!(RiskConfig::named("nope").is_err());
}

#[test]
fn every_named_configuration_checks_round_trips_and_is_found_by_name() {
    let all = RiskConfig::all_named();
    assert_eq!(all[0], RiskConfig::default());
    for config in &all {
        config.check().unwrap();
        assert_eq!(
            &RiskConfig::from_json(config.to_json().as_bytes()).unwrap(),
            config
        );
        assert_eq!(&RiskConfig::named(&config.name).unwrap(), config);
    }
    // Bucket configurations keep the layout they had before models existed: no `proximity` field.
    assert!(!RiskConfig::corona_warn_app_2021()
        .to_json()
        .contains("proximity"));
    assert!(RiskConfig::nhs_uks_2020()
        .to_json()
        .contains("\"model\": \"nhs_uks\""));
}

#[test]
fn model_configurations_are_checked_as_json() {
    let mut json: serde_json::Value =
        serde_json::from_str(&RiskConfig::likelihood_2m().to_json()).unwrap();
    json["proximity"]["shadowing_db"] = 0.0.into();
    assert!(RiskConfig::from_json(json.to_string().as_bytes()).is_err());
    json["proximity"] = serde_json::json!({"model": "telepathy"});
    assert!(RiskConfig::from_json(json.to_string().as_bytes()).is_err());
    json["proximity"] = serde_json::json!({"model": "buckets"});
    assert_eq!(
        RiskConfig::from_json(json.to_string().as_bytes())
            .unwrap()
            .proximity,
        Proximity::Buckets
    );
}

#[test]
fn swisscovid_weighs_minutes_by_its_two_thresholds() {
    let config = RiskConfig::swisscovid_2020();
    // 3 scans 5 minutes apart below 55 dB: 15 minutes at 1.0, at risk; TRL plays no part.
    let days = score(&[exposure(Some(1), instances(3, 300, 50.0))], &config);
    assert_eq!(days[0].weighted_minutes, 15.0);
    assert!(days[0].at_risk);
    // 25 minutes from 55 to 63 dB weigh 0.5: 12.5, not at risk; beyond 63 dB nothing.
    let days = score(&[exposure(None, instances(5, 300, 60.0))], &config);
    assert_eq!(days[0].weighted_minutes, 12.5);
    assert!(!days[0].at_risk);
    let days = score(&[exposure(None, instances(5, 300, 70.0))], &config);
    assert_eq!(days[0].weighted_minutes, 0.0);
}

#[test]
fn the_likelihood_configuration_counts_expected_minutes_within_two_metres() {
    let config = RiskConfig::likelihood_2m();
    let Proximity::LikelihoodRatio(model) = config.proximity else {
        unreachable!("likelihood_2m is a likelihood model")
    };
    let boundary = model.median_attenuation_db(2.0);
    // The threshold is what 15 minutes at the boundary earn.
    assert!((config.at_risk_minutes_per_day - 15.0 * model.weight(boundary)).abs() < 0.01);
    let days = score(&[exposure(Some(7), instances(3, 300, 60.0))], &config);
    assert!((days[0].weighted_minutes - 15.0 * model.weight(60.0)).abs() < 1e-9);
    assert!(days[0].at_risk);
    let days = score(
        &[exposure(Some(7), instances(3, 300, boundary + 10.0))],
        &config,
    );
    assert!(!days[0].at_risk);
}
