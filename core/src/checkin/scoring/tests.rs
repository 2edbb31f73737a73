//! Matching and scoring: overlaps, midnight, CWA's default mapping, tampering, configuration.

use super::*;
use crate::checkin::report::CheckInRecord;
use crate::export::signing::SigningKey;

const DAY: u64 = 20_600 * 86_400; // a UTC midnight in 2026
const H: u64 = 3600;

fn checkin(venue: &[u8], arrival: u64, departure: u64) -> CheckIn {
    CheckIn {
        location_id: LocationId::of_payload(venue),
        description: String::from_utf8_lossy(venue).into_owned(),
        address: "Hà Nội".into(),
        arrival,
        departure,
    }
}

fn case_at(venue: &[u8], from: u64, to: u64, level: u8) -> Result<ProtectedReport, ReportSkip> {
    let record = CheckInRecord::covering(from, to, level).unwrap();
    Ok(ProtectedReport::seal(
        &LocationId::of_payload(venue),
        &record,
        &ring::rand::SystemRandom::new(),
    )
    .unwrap())
}

#[test]
fn overlaps_are_found_only_at_the_same_venue_and_time() {
    let mine = [
        checkin(b"6A", DAY + 7 * H, DAY + 8 * H),
        checkin(b"gate", DAY + 7 * H - 600, DAY + 7 * H + 600),
        checkin(b"6A", DAY + 9 * H, DAY + 10 * H),
    ];
    let matcher = Matcher::new(&mine);
    let fake = ProtectedReport::fake(&ring::rand::SystemRandom::new()).unwrap();
    let outcome = matcher.match_reports([
        case_at(b"6A", DAY + 7 * H + 1800, DAY + 9 * H + 1200, 5), // overlaps both 6A stays
        case_at(b"6B", DAY + 7 * H, DAY + 8 * H, 8),               // another room
        case_at(b"gate", DAY + 12 * H, DAY + 13 * H, 8),           // the gate, later
        Ok(fake),
        Err(ReportSkip::BadIv),
    ]);
    assert_eq!(outcome.reports, 5);
    assert_eq!(outcome.matched, 2);
    assert_eq!(outcome.unopened, 0);
    assert_eq!(outcome.skipped.get(&ReportSkip::BadIv), Some(&1));
    assert_eq!(
        outcome.overlaps,
        vec![
            Overlap {
                checkin: 0,
                start: DAY + 7 * H + 1800,
                end: DAY + 8 * H,
                transmission_risk_level: 5
            },
            Overlap {
                checkin: 2,
                start: DAY + 9 * H,
                end: DAY + 9 * H + 1200,
                transmission_risk_level: 5
            },
        ]
    );
    let days = score(
        &mine,
        &outcome.overlaps,
        &PresenceConfig::corona_warn_app_2021(),
    );
    assert_eq!(days.len(), 1);
    let day = &days[0];
    assert_eq!(day.day, 20_600);
    assert!(day.at_risk);
    assert_eq!(day.normalized_minutes, 50.0);
    assert_eq!(day.visits.len(), 2);
    assert_eq!(
        (day.visits[0].minutes, day.visits[0].risk),
        (30, Some(RiskLevel::High))
    );
    assert_eq!(day.visits[0].description, "6A");
    assert_eq!(
        (day.visits[1].start, day.visits[1].end),
        (DAY + 9 * H, DAY + 9 * H + 1200)
    );
}

#[test]
fn overlaps_are_cut_at_midnight_and_scored_per_day() {
    // A night event from 22:00 to 02:00, the case there from 23:00 to 01:00.
    let mine = [checkin(b"night", DAY + 22 * H, DAY + 26 * H)];
    let outcome =
        Matcher::new(&mine).match_reports([case_at(b"night", DAY + 23 * H, DAY + 25 * H, 3)]);
    assert_eq!(outcome.overlaps.len(), 2);
    assert_eq!(outcome.overlaps[0].end, DAY + 24 * H);
    assert_eq!(outcome.overlaps[1].start, DAY + 24 * H);
    let days = score(
        &mine,
        &outcome.overlaps,
        &PresenceConfig::corona_warn_app_2021(),
    );
    assert_eq!(
        days.iter().map(|d| d.day).collect::<Vec<_>>(),
        [20_600, 20_601]
    );
    // 60 minutes at 0.6 each day.
    assert!(days
        .iter()
        .all(|d| (d.normalized_minutes - 36.0).abs() < 1e-9 && d.at_risk));
}

#[test]
fn cwa_levels_low_high_and_none() {
    let config = PresenceConfig::corona_warn_app_2021();
    let mine = [checkin(b"canteen", DAY + 11 * H, DAY + 12 * H)];
    let scored = |minutes: u64, level: u8| {
        let outcome = Matcher::new(&mine).match_reports([case_at(
            b"canteen",
            DAY + 11 * H,
            DAY + 11 * H + minutes * 60,
            level,
        )]);
        score(&mine, &outcome.overlaps, &config)
    };
    // 10 minutes at level 5 (1.0) is 10: high. At level 3 (0.6) it is 6: low.
    assert_eq!(scored(10, 5)[0].risk, Some(RiskLevel::High));
    let low = scored(10, 3);
    assert_eq!((low[0].risk, low[0].at_risk), (Some(RiskLevel::Low), false));
    // Levels 1 and 2 weigh nothing: no level at all, not at risk.
    let none = scored(60, 2);
    assert_eq!(
        (none[0].risk, none[0].at_risk, none[0].visits[0].minutes),
        (None, false, 60)
    );
    // No overlap, no day.
    assert!(score(&mine, &[], &config).is_empty());
}

#[test]
fn a_matched_report_that_does_not_open_is_counted_not_trusted() {
    let mine = [checkin(b"6A", DAY + 7 * H, DAY + 8 * H)];
    let mut report = case_at(b"6A", DAY + 7 * H, DAY + 8 * H, 8).unwrap();
    report.encrypted_record[0] ^= 1;
    let outcome = Matcher::new(&mine).match_reports([Ok(report)]);
    assert_eq!(
        (outcome.matched, outcome.unopened, outcome.overlaps.len()),
        (1, 1, 0)
    );
    // A span that does not overlap the stay (period 0, or before arrival) adds nothing.
    let zero = ProtectedReport::seal(
        &LocationId::of_payload(b"6A"),
        &CheckInRecord {
            start_interval: ((DAY + 7 * H) / 600) as u32,
            period: 0,
            transmission_risk_level: 8,
        },
        &ring::rand::SystemRandom::new(),
    )
    .unwrap();
    let outcome = Matcher::new(&mine).match_reports([Ok(zero), case_at(b"6A", DAY, DAY + H, 8)]);
    assert_eq!((outcome.matched, outcome.overlaps.len()), (2, 0));
    // A span of years is not a stay: ignored, and counted.
    let years = ProtectedReport::seal(
        &LocationId::of_payload(b"6A"),
        &CheckInRecord {
            start_interval: 0,
            period: u32::MAX,
            transmission_risk_level: 8,
        },
        &ring::rand::SystemRandom::new(),
    )
    .unwrap();
    let outcome = Matcher::new(&mine).match_reports([Ok(years)]);
    assert_eq!((outcome.implausible, outcome.overlaps.len()), (1, 0));
}

#[test]
fn the_configuration_is_signed_json() {
    let config = PresenceConfig::corona_warn_app_2021();
    config.check().unwrap();
    let json = config.to_json();
    assert_eq!(PresenceConfig::from_json(json.as_bytes()).unwrap(), config);
    let (signer, _) = SigningKey::generate("health", "v1").unwrap();
    let sig = signer.sign(json.as_bytes()).unwrap();
    let keys = [signer.verification_key()];
    assert_eq!(
        PresenceConfig::from_signed_json(json.as_bytes(), &sig, &keys).unwrap(),
        config
    );
    let tampered = json.replace("1.6", "9.6");
    assert!(matches!(
        PresenceConfig::from_signed_json(tampered.as_bytes(), &sig, &keys),
        Err(WireError::Signature(_))
    ));
    assert!(PresenceConfig::from_signed_json(
        &vec![b' '; crate::export::signing::MAX_SIGNED_CONFIG_BYTES + 1],
        &sig,
        &keys
    )
    .is_err());
    for bad in [
        json.replace("\"level\": 8", "\"level\": 9"),
        json.replace("\"level\": 8", "\"level\": 7"),
        json.replace("1.6", "-1.0"),
        json.replace("999999.0", "1.0"),
        json.replace("\"name\"", "\"unknown\": 1, \"name\""),
        "{".into(),
        "[]".into(),
    ] {
        assert!(PresenceConfig::from_json(bad.as_bytes()).is_err(), "{bad}");
    }
}

proptest::proptest! {
    #[test]
    fn overlap_pieces_stay_within_stay_span_and_day(
        arrival in DAY..DAY + 3 * 86_400,
        stay in 1u64..2 * 86_400,
        from in DAY..DAY + 3 * 86_400,
        span in 1u64..2 * 86_400,
    ) {
        let mine = [checkin(b"room", arrival, arrival + stay)];
        let outcome = Matcher::new(&mine).match_reports([case_at(b"room", from, from + span, 6)]);
        let record = CheckInRecord::covering(from, from + span, 6).unwrap();
        let mut total = 0;
        for o in &outcome.overlaps {
            proptest::prop_assert!(o.start < o.end);
            proptest::prop_assert!(o.start >= arrival.max(record.start()) && o.end <= (arrival + stay).min(record.end()));
            proptest::prop_assert_eq!(o.start / 86_400, (o.end - 1) / 86_400);
            total += o.end - o.start;
        }
        let expected = if record.period > MAX_RECORD_PERIOD {
            proptest::prop_assert_eq!(outcome.implausible, 1);
            0
        } else {
            (arrival + stay).min(record.end()).saturating_sub(arrival.max(record.start()))
        };
        proptest::prop_assert_eq!(total, expected);
    }
}
