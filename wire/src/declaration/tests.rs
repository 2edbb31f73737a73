use super::*;
use crate::error::Error;
use crate::export::signing::{SignedConfig, SigningKey};
use crate::time::parse_day;
use crate::units::SECS_PER_DAY;

/// 2021-09-06 08:00 in Hanoi (01:00 UTC).
const NOW: u64 = 1_630_890_000;

fn schema() -> DeclarationSchema {
    DeclarationSchema::builtin().unwrap()
}

fn prefill() -> Prefill {
    Prefill {
        name: "Nguyễn Văn An".into(),
        born: Some(2012),
        phone: Some("+84 912 345 678".into()),
    }
}

fn field_errors(err: Error) -> Vec<String> {
    match err {
        Error::Declaration(DeclarationError::InvalidAnswers(errors)) => {
            errors.into_iter().map(|e| e.field).collect()
        }
        other => panic!("expected field errors, got {other}"),
    }
}

#[test]
fn the_builtin_form_follows_the_2021_vietnamese_declaration() {
    let s = schema();
    for id in [
        "name",
        "born",
        "sex",
        "phone",
        "address",
        "fever",
        "cough",
        "short_breath",
        "sore_throat",
        "nausea",
        "diarrhoea",
        "skin_bleeding",
        "rash",
        "taste_smell",
        "temperature",
        "close_contact",
        "outbreak_area",
        "travel",
    ] {
        assert!(s.question(id).is_some(), "{id} missing");
    }
    assert!(s
        .questions
        .iter()
        .all(|q| !q.label.vi.is_empty() && !q.label.en.is_empty()));
    assert!(s.sources.len() >= 3);
    assert_eq!(s.utc_offset_minutes, 420);
}

#[test]
fn all_clear_succeeds_for_a_profile_with_only_a_name() {
    let s = schema();
    let only_name = Prefill {
        name: "Bình".into(),
        ..Prefill::default()
    };
    let checked = s.validate(&s.all_clear(), &only_name, NOW).unwrap();
    assert_eq!(checked.result, DeclarationResult::Clear);
    assert_eq!(checked.answers.0["name"], Answer::Text("Bình".into()));
    assert!(checked.reasons.is_empty());
}

#[test]
fn a_symptom_or_a_fever_means_the_nurse() {
    let s = schema();
    let mut answers = s.all_clear();
    answers.0.insert("cough".into(), Answer::YesNo(true));
    let checked = s.validate(&answers, &prefill(), NOW).unwrap();
    assert_eq!(checked.result, DeclarationResult::Symptoms);
    assert_eq!(checked.reasons, ["cough"]);

    let mut answers = s.all_clear();
    answers.0.insert("temperature".into(), Answer::Number(37.5));
    assert_eq!(
        s.validate(&answers, &prefill(), NOW).unwrap().result,
        DeclarationResult::Symptoms
    );
    answers.0.insert("temperature".into(), Answer::Number(37.4));
    assert_eq!(
        s.validate(&answers, &prefill(), NOW).unwrap().result,
        DeclarationResult::Clear
    );
    // Travel alone is recorded but does not call for the nurse.
    let mut answers = s.all_clear();
    answers.0.insert("travel".into(), Answer::YesNo(true));
    assert_eq!(
        s.validate(&answers, &prefill(), NOW).unwrap().result,
        DeclarationResult::Clear
    );
}

#[test]
fn every_wrong_field_is_named() {
    let s = schema();
    let json = br#"{"fever": "no", "temperature": 50, "born": 2030, "sex": "x",
        "phone": "abc", "contact_date": "2021-08-01", "shoe_size": 40, "name": ""}"#;
    let answers = Answers::from_json(json).unwrap();
    let mut fields = field_errors(s.validate(&answers, &prefill(), NOW).unwrap_err());
    fields.sort();
    let mut expected = vec![
        "born",
        "contact_date",
        "cough",
        "fever",
        "name",
        "phone",
        "sex",
        "shoe_size",
        "temperature",
    ];
    // Every other required yes/no question is missing too.
    expected.extend([
        "close_contact",
        "diarrhoea",
        "nausea",
        "outbreak_area",
        "rash",
        "short_breath",
        "skin_bleeding",
        "sore_throat",
        "taste_smell",
        "travel",
    ]);
    expected.sort();
    expected.dedup();
    assert_eq!(fields, expected);
}

#[test]
fn answers_are_normalised() {
    let s = schema();
    let mut answers = s.all_clear();
    answers
        .0
        .insert("contact_date".into(), Answer::Text("2021-09-01".into()));
    answers
        .0
        .insert("address".into(), Answer::Text("  12 Lê Lợi  ".into()));
    let checked = s.validate(&answers, &prefill(), NOW).unwrap();
    assert_eq!(
        checked.answers.0["phone"],
        Answer::Text("+84912345678".into())
    );
    assert_eq!(
        checked.answers.0["address"],
        Answer::Text("12 Lê Lợi".into())
    );
    assert_eq!(checked.answers.0["born"], Answer::Number(2012.0));
}

#[test]
fn the_day_is_the_forms_local_day() {
    let s = schema();
    // 23:30 UTC is 06:30 the next morning in Hanoi.
    let evening_utc = u64::from(parse_day("2021-09-05").unwrap()) * SECS_PER_DAY + 23 * 3600 + 1800;
    assert_eq!(s.day_of(evening_utc), parse_day("2021-09-06").unwrap());
    assert_eq!(s.day_of(0), 0);
    assert_eq!(s.day_of(u64::MAX), u32::MAX);
}

#[test]
fn answer_json_garbage_truncation_and_oversize_are_refused() {
    let good = br#"{"fever": false, "temperature": 36.6, "name": "An", "sex": null}"#;
    let parsed = Answers::from_json(good).unwrap();
    assert!(!parsed.0.contains_key("sex"));
    for len in 0..good.len() - 1 {
        assert!(Answers::from_json(&good[..len]).is_err(), "prefix {len}");
    }
    for garbage in [
        &b"[]"[..],
        b"42",
        b"\xff\xfe",
        br#"{"a": [1]}"#,
        br#"{"a": {}}"#,
    ] {
        assert!(Answers::from_json(garbage).is_err());
    }
    let big = format!("{{\"a\": \"{}\"}}", "x".repeat(MAX_ANSWERS_BYTES));
    assert!(matches!(
        Answers::from_json(big.as_bytes()),
        Err(Error::Declaration(DeclarationError::Answers(_)))
    ));
}

#[test]
fn schema_json_garbage_truncation_and_oversize_are_refused() {
    let json = serde_json::to_vec(&schema()).unwrap();
    assert_eq!(
        DeclarationSchema::from_trusted_json(&json).unwrap(),
        schema()
    );
    for len in (0..json.len()).step_by(97) {
        assert!(DeclarationSchema::from_trusted_json(&json[..len]).is_err());
    }
    for garbage in [&b""[..], b"null", b"{}", b"\x00\x01", b"[1,2]"] {
        assert!(DeclarationSchema::from_trusted_json(garbage).is_err());
    }
    let big = vec![b' '; crate::export::signing::MAX_SIGNED_CONFIG_BYTES + 1];
    assert!(DeclarationSchema::from_trusted_json(&big).is_err());
}

#[test]
fn broken_forms_say_what_is_wrong() {
    type Break = fn(&mut DeclarationSchema);
    let cases: Vec<(Break, &str)> = vec![
        (|s| s.format = "v2".into(), "format"),
        (|s| s.questions.clear(), "questions"),
        (|s| s.questions.push(s.questions[0].clone()), "twice"),
        (|s| s.utc_offset_minutes = 900, "utc_offset"),
        (|s| s.sources.clear(), "sources"),
        (|s| s.questions[0].id = "Name!".into(), "a-z"),
        (|s| s.questions[0].label.vi = "a\nb".into(), "one line"),
        (
            |s| s.questions[0].answer = AnswerKind::Text { max_chars: 0 },
            "max_chars",
        ),
        (
            |s| {
                s.questions[0].answer = AnswerKind::YesNo {
                    see_nurse_if_yes: false,
                }
            },
            "prefill",
        ),
        (
            |s| {
                s.questions[1].answer = AnswerKind::Year {
                    min: 2000,
                    max: 1990,
                }
            },
            "range",
        ),
        (
            |s| {
                s.questions[14].answer = AnswerKind::Number {
                    min: 34.0,
                    max: 43.0,
                    unit: "°C".into(),
                    see_nurse_at_least: Some(50.0),
                }
            },
            "see_nurse_at_least",
        ),
        (
            |s| {
                s.questions[14].answer = AnswerKind::Number {
                    min: f64::NAN,
                    max: 43.0,
                    unit: "°C".into(),
                    see_nurse_at_least: None,
                }
            },
            "not a range",
        ),
    ];
    for (break_it, word) in cases {
        let mut s = schema();
        break_it(&mut s);
        let err = s.check().unwrap_err().to_string();
        assert!(err.contains(word), "{err:?} should mention {word:?}");
    }
    let unknown_field = br#"{"format":"openzone-declaration-schema-v1","extra":1}"#;
    assert!(DeclarationSchema::from_trusted_json(unknown_field).is_err());
}

#[test]
fn a_published_form_must_be_signed_by_a_pinned_key() {
    let (signing, _) = SigningKey::generate("452", "v1").unwrap();
    let keys = [signing.verification_key()];
    let json = serde_json::to_vec(&schema()).unwrap();
    let sig = signing.sign(&json).unwrap();
    assert_eq!(
        DeclarationSchema::from_signed_json(&json, &sig, &keys).unwrap(),
        schema()
    );
    let mut altered = json.clone();
    let at = altered.iter().position(|&b| b == b'4').unwrap();
    altered[at] = b'5';
    assert!(matches!(
        DeclarationSchema::from_signed_json(&altered, &sig, &keys),
        Err(Error::Signature(_))
    ));
    assert!(DeclarationSchema::from_signed_json(&json, &sig, &[]).is_err());
    assert!(DeclarationSchema::from_signed_json(&json, b"", &keys).is_err());
}
