//! Profiles, settings and declarations through a real phone on a real store.

use std::sync::{Arc, Mutex};

use crate::declaration::{Answer, Answers, DeclarationResult, DeclarationSchema};
use crate::error::{DeclarationError, Error};
use crate::export::signing::SigningKey;
use crate::phone::{DataKey, Phone, PhoneConfig, Profile};
use crate::platform::NoRadio;
use crate::store::tests::walk;
use crate::units::MS_PER_DAY;
use crate::wire::Error as WireError;

/// 2021-09-06 00:30 UTC, 07:30 in Hanoi.
const NOW_MS: u64 = 1_630_888_200_000;

struct Clock(Mutex<u64>);

impl crate::time::Clock for Clock {
    fn now_ms(&self) -> u64 {
        *self.0.lock().unwrap()
    }
}

struct Rig {
    dir: tempfile::TempDir,
    clock: Arc<Clock>,
    signer: SigningKey,
}

impl Rig {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            clock: Arc::new(Clock(Mutex::new(NOW_MS))),
            signer: SigningKey::generate("452", "v1").unwrap().0,
        }
    }

    fn open(&self) -> Phone {
        let mut config = PhoneConfig::new(self.dir.path(), DataKey::from_bytes([3; 32]));
        config.export_keys = vec![self.signer.verification_key()];
        Phone::open(config, Arc::new(NoRadio), None, self.clock.clone()).unwrap()
    }

    fn advance_days(&self, days: u64) {
        *self.clock.0.lock().unwrap() += days * MS_PER_DAY;
    }
}

fn child(name: &str) -> Profile {
    Profile {
        name: name.into(),
        class: Some("5A".into()),
        born: Some(2012),
    }
}

#[test]
fn profiles_are_added_listed_and_removed() {
    let rig = Rig::new();
    let phone = rig.open();
    phone.add_profile(child(" Bình ")).unwrap();
    phone.add_profile(child("An")).unwrap();
    let names: Vec<String> = phone
        .profiles()
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["An", "Bình"]);
    assert!(matches!(
        phone.add_profile(child("An")),
        Err(Error::Wire(WireError::Declaration(
            DeclarationError::ProfileExists { .. }
        )))
    ));
    for bad in [
        Profile {
            name: "".into(),
            class: None,
            born: None,
        },
        Profile {
            name: "a\nb".into(),
            class: None,
            born: None,
        },
        Profile {
            name: "C".into(),
            class: None,
            born: Some(2099),
        },
        Profile {
            name: "C".into(),
            class: Some("x".repeat(101)),
            born: None,
        },
    ] {
        assert!(matches!(
            phone.add_profile(bad),
            Err(Error::Wire(WireError::Declaration(
                DeclarationError::InvalidValue(_)
            )))
        ));
    }
    phone.declare_all_clear("An").unwrap();
    phone.remove_profile("An").unwrap();
    assert!(
        phone.declarations().unwrap().is_empty(),
        "its declarations go with it"
    );
    let err = phone.remove_profile("An").unwrap_err().to_string();
    assert!(err.contains("Bình"), "{err}");
}

#[test]
fn declarations_are_kept_sealed_for_14_days_and_say_when_one_is_missing() {
    let rig = Rig::new();
    let phone = rig.open();
    phone.set_phone_number(Some("0912 345 678")).unwrap();
    assert_eq!(
        phone.settings().unwrap().phone.as_deref(),
        Some("0912345678")
    );
    assert!(phone.set_phone_number(Some("call me")).is_err());
    phone.add_profile(child("An")).unwrap();
    assert!(phone.declaration_missing_today("An").unwrap());
    let clear = phone.declare_all_clear("An").unwrap();
    assert_eq!(clear.result, DeclarationResult::Clear);
    assert_eq!(clear.answers.0["phone"], Answer::Text("0912345678".into()));
    assert!(!phone.declaration_missing_today("An").unwrap());

    // A wrong answer stores nothing.
    let mut bad = phone.declaration_schema().all_clear();
    bad.0.insert("temperature".into(), Answer::Number(45.0));
    assert!(phone.declare("An", &bad).is_err());
    assert!(phone.declare("Nobody", &Answers::default()).is_err());
    assert_eq!(phone.declarations().unwrap().len(), 1);

    // Declaring again the same day replaces the day's declaration.
    let mut cough = phone.declaration_schema().all_clear();
    cough.0.insert("cough".into(), Answer::YesNo(true));
    phone.declare("An", &cough).unwrap();
    let today = phone.todays_declaration("An").unwrap().unwrap();
    assert_eq!(today.result, DeclarationResult::Symptoms);
    assert_eq!(phone.declarations().unwrap().len(), 1);
    drop(phone);

    // Nothing in clear at rest: not the name, the phone number or the day.
    for entry in walk(rig.dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        for needle in [&b"0912345678"[..], b"vn-moh-2021", b"cough", b"\"An\""] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} holds {:?}",
                entry.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }

    rig.advance_days(1);
    let phone = rig.open();
    assert!(phone.declaration_missing_today("An").unwrap());
    assert_eq!(phone.declarations().unwrap().len(), 1);
    drop(phone);
    rig.advance_days(14);
    let phone = rig.open();
    assert!(
        phone.declarations().unwrap().is_empty(),
        "purged after 14 days"
    );
    assert_eq!(phone.profiles().unwrap().len(), 1, "profiles stay");
}

#[test]
fn a_published_form_replaces_the_builtin_one_only_when_signed() {
    let rig = Rig::new();
    let phone = rig.open();
    let mut schema = DeclarationSchema::builtin().unwrap();
    schema.id = "hanoi-2021".into();
    schema
        .questions
        .retain(|q| q.id == "name" || q.id == "fever");
    let json = serde_json::to_vec(&schema).unwrap();
    let (other, _) = SigningKey::generate("452", "v1").unwrap();
    assert!(phone
        .set_declaration_schema(&json, &other.sign(&json).unwrap())
        .is_err());
    assert_eq!(phone.declaration_schema().id, "vn-moh-2021");
    phone
        .set_declaration_schema(&json, &rig.signer.sign(&json).unwrap())
        .unwrap();
    drop(phone);
    let phone = rig.open();
    assert_eq!(phone.declaration_schema(), schema, "kept in the store");
    phone.add_profile(child("An")).unwrap();
    assert_eq!(
        phone.declare_all_clear("An").unwrap().schema,
        "hanoi-2021/1"
    );
}

#[test]
fn a_registration_holds_one_entry_per_profile_with_todays_result() {
    use crate::checkin::venue::VisitorLogSecret;
    use crate::checkin::{LocationType, NewVenue};
    use crate::store::UserConsent;
    use crate::visitorlog::{DeclarationStatus, VisitorEntry};

    let rig = Rig::new();
    let phone = rig.open();
    let rng = ring::rand::SystemRandom::new();
    let secret = VisitorLogSecret::generate(&rng).unwrap();
    let new_venue = |key| NewVenue {
        description: "Cổng trường".into(),
        address: None,
        location_type: LocationType::parse("educational-institution").unwrap(),
        default_checkin_minutes: 60,
        event: None,
        visitor_log_key: key,
    };
    let venue = new_venue(Some(secret.public_key()))
        .create(NOW_MS / 1000, &rng)
        .unwrap();
    phone.set_phone_number(Some("0912345678")).unwrap();
    for name in ["Mẹ", "An", "Bình"] {
        phone.add_profile(child(name)).unwrap();
    }
    phone.declare_all_clear("Mẹ").unwrap();
    let mut cough = phone.declaration_schema().all_clear();
    cough.0.insert("cough".into(), Answer::YesNo(true));
    phone.declare("An", &cough).unwrap();
    let chosen = ["Mẹ", "An", "Bình", "An"].map(String::from);
    let registration = phone.visitor_registration(&venue, &chosen).unwrap();
    let results: Vec<(&str, DeclarationStatus)> = registration
        .entries
        .iter()
        .map(|e| (e.name.as_str(), e.declaration))
        .collect();
    assert_eq!(
        results,
        [
            ("Mẹ", DeclarationStatus::Clear),
            ("An", DeclarationStatus::Symptoms),
            ("Bình", DeclarationStatus::None),
        ]
    );
    assert!(
        registration.entries.iter().all(|e| e.answers.is_empty()),
        "no answer is shared"
    );
    assert_eq!(registration.location_id_hash, venue.location_id().hash());
    for sealed in registration.seal(&rng, UserConsent::given()).unwrap() {
        let entry = VisitorEntry::open(&sealed, &secret, &registration.location_id_hash).unwrap();
        assert_eq!(entry.phone.as_deref(), Some("0912345678"));
    }

    let no_log = new_venue(None).create(NOW_MS / 1000, &rng).unwrap();
    assert!(phone.visitor_registration(&no_log, &chosen).is_err());
    assert!(phone.visitor_registration(&venue, &[]).is_err());
    assert!(phone
        .visitor_registration(&venue, &["Nobody".into()])
        .is_err());
}

#[test]
fn chosen_regions_are_checked_kept_across_restarts_and_beside_the_phone_number() {
    let rig = Rig::new();
    let phone = rig.open();
    phone.set_phone_number(Some("0912345678")).unwrap();
    let set = phone
        .set_regions(&["79".into(), "01".into(), "hn".into(), "79".into()])
        .unwrap();
    assert_eq!(set.regions, ["01", "79", "HN"]);
    assert_eq!(set.phone.as_deref(), Some("0912345678"));
    // A bad code changes nothing.
    for bad in ["", "7 9", "TOOLONGCODE", "79/..", "Đà"] {
        assert!(
            phone.set_regions(&["01".into(), bad.into()]).is_err(),
            "{bad:?}"
        );
    }
    phone.set_phone_number(Some("0987654321")).unwrap();
    drop(phone);
    let phone = rig.open();
    let settings = phone.settings().unwrap();
    assert_eq!(settings.regions, ["01", "79", "HN"]);
    assert_eq!(settings.phone.as_deref(), Some("0987654321"));
    assert!(phone.set_regions(&[]).unwrap().regions.is_empty());
}
