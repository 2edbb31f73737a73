//! A small school end to end: the evaluation against its ground truth, and reproducibility.

use super::*;

fn small() -> Scenario {
    Scenario {
        students: 60,
        class_size: 30,
        teachers: 4,
        days: 3,
        report_day: 3,
        onset_day: 2,
        seed: 11,
        ..Scenario::default()
    }
}

#[test]
fn a_small_school_is_evaluated_against_its_ground_truth() {
    let scenario = small();
    let report = run(&scenario, &|_| {}).unwrap();
    assert_eq!(report.evaluations.len(), 4);
    let en = &report.evaluations[0];
    assert_eq!(
        (en.scheme.as_str(), en.rule.as_str()),
        ("en-v1", "risk-score")
    );
    // The same ground truth under every rule.
    for e in &report.evaluations {
        assert_eq!(e.true_contacts, en.true_contacts);
        assert_eq!(e.true_positives + e.false_negatives, e.true_contacts);
        assert_eq!(e.true_positives + e.false_positives, e.notified);
    }
    // The case's deskmates are close every day before the report: the truth is not empty, and the real
    // engine, store and key server find most of them.
    assert!(en.true_contacts >= 3, "{en:?}");
    assert!(en.recall >= 0.5, "{en:?}");
    // Bluezone's rule notifies at least as many as any rule that needs time together.
    let any = &report.evaluations[1];
    assert!(any.notified >= report.evaluations[2].notified, "{any:?}");
    assert!(report.phones_notified > 0);
    assert!(report.notification_minutes.min > 0.0);
    assert!(report.bytes_downloaded.median > 0.0);
    // Presence tracing, with a fifth of the people forgetting to scan each day: the case's classroom
    // poster warns some classmates, and only people who were in that classroom.
    let qr = &report.evaluations[3];
    assert_eq!(
        (qr.scheme.as_str(), qr.rule.as_str()),
        ("qr-check-in", "presence-tracing")
    );
    assert!(qr.true_positives > 0, "{qr:?}");
    assert!(report.presence_phones_warned > 0 && report.checkins > 0);
    let days = infectious_days(&scenario).len() as u64;
    let in_the_room = u64::from(scenario.class_size - 1 + scenario.teachers);
    assert!(qr.notified <= in_the_room * days, "{qr:?}");
    assert!(
        report.scan_duty.median > 0.01 && report.scan_duty.median < 0.02,
        "{:?}",
        report.scan_duty
    );
    let cases: usize = report
        .per_class
        .iter()
        .flatten()
        .filter(|o| **o == Outcome::Case)
        .count();
    assert_eq!(cases, 1);
    // The ground truth computed independently here agrees with the evaluation's.
    let truth = ground_truth(
        &scenario,
        &pick_cases(&scenario),
        &infectious_days(&scenario),
    );
    let close = truth.values().filter(|s| **s >= 15 * 60).count() as u64;
    assert_eq!(close, en.true_contacts);
    let dir = tempfile::tempdir().unwrap();
    let page = report::write(&report, dir.path()).unwrap();
    let html = std::fs::read_to_string(page).unwrap();
    assert!(html.contains("<svg") && html.contains("en-v1") && html.contains("any-sighting"));
    // Text from outside the code (a risk configuration's name) is escaped on the page.
    let mut marked = report.clone();
    marked.scenario.risk = "<b>custom</b>".into();
    let html = std::fs::read_to_string(report::write(&marked, dir.path()).unwrap()).unwrap();
    assert!(html.contains("&#60;b&#62;custom&#60;/b&#62;") && !html.contains("<b>custom"));
}

/// The presence-tracing row of a two-class school over two days, with `forget` the share of people who
/// forget to scan on a day; and the check-ins made.
fn presence_tracing(forget: f64) -> (Evaluation, u64, Scenario) {
    let scenario = Scenario {
        days: 2,
        report_day: 2,
        onset_day: 1,
        checkin_forget_share: forget,
        ..small()
    };
    let report = run(&scenario, &|_| {}).unwrap();
    let qr = report
        .evaluations
        .iter()
        .find(|e| e.rule == "presence-tracing")
        .cloned()
        .unwrap();
    (qr, report.checkins, scenario)
}

#[test]
fn presence_tracing_warns_the_case_classroom_through_the_key_server() {
    // Everyone scans: every classmate is warned on each infectious day (both days here), so every true
    // contact is; the other class is not.
    let (qr, checkins, s) = presence_tracing(0.0);
    assert!(checkins >= u64::from(s.students * s.days), "{checkins}");
    assert_eq!(qr.recall, 1.0, "{qr:?}");
    let days = u64::from(s.days);
    assert!(qr.notified >= u64::from(s.class_size - 1) * days, "{qr:?}");
    assert!(
        qr.notified <= u64::from(s.class_size - 1 + s.teachers) * days,
        "{qr:?}"
    );
    // Nobody scans: no check-in goes up, nobody is warned.
    let (qr, checkins, _) = presence_tracing(1.0);
    assert_eq!((checkins, qr.notified), (0, 0), "{qr:?}");
    assert!(qr.true_contacts > 0 && qr.recall == 0.0, "{qr:?}");
}

#[test]
fn a_seed_gives_the_same_result() {
    let scenario = Scenario {
        students: 30,
        teachers: 2,
        days: 2,
        report_day: 2,
        onset_day: 1,
        ..small()
    };
    let a = run(&scenario, &|_| {}).unwrap();
    let b = run(&scenario, &|_| {}).unwrap();
    assert_eq!(a.evaluations, b.evaluations);
    assert_eq!(a.per_class, b.per_class);
    assert_eq!(a.threshold_sweep, b.threshold_sweep);
}

#[test]
fn bad_scenarios_are_refused() {
    for s in [
        Scenario {
            students: 0,
            ..small()
        },
        Scenario { days: 0, ..small() },
        Scenario {
            report_day: 9,
            ..small()
        },
        Scenario {
            onset_day: 4,
            ..small()
        },
        Scenario {
            iphone_share: 1.5,
            ..small()
        },
        Scenario {
            report_hour: 3.0,
            ..small()
        },
        Scenario {
            checkin_forget_share: -0.1,
            ..small()
        },
    ] {
        assert!(matches!(s.check(), Err(SimError::Scenario(_))), "{s:?}");
    }
    assert!(Scenario::from_json("{\"students\": 10, \"surprise\": 1}").is_err());
    assert_eq!(
        Scenario::from_json("{\"students\": 90}").unwrap().students,
        90
    );
}
