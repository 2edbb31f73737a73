//! Venues: CWA's location-id and link vectors, the rules for creating and checking in, garbage.

use super::*;
use crate::checkin::link::CheckInLinks;
use crate::checkin::tests::{b64, cwa, VenueVector};

/// Fixed bytes instead of randomness, to make seeds reproducible.
pub(crate) struct Fixed(pub u8);

impl Random for Fixed {
    fn fill(&self, out: &mut [u8]) -> Result<(), Error> {
        out.fill(self.0);
        Ok(())
    }
}

fn location_of(v: &VenueVector) -> TraceLocation {
    TraceLocation {
        description: v.description.clone(),
        address: v.address.clone(),
        location_type: v.r#type,
        default_checkin_minutes: v.default_checkin_minutes,
        start: v.start,
        end: v.end,
        public_key: b64(&v.public_key_base64),
        seed: b64(&v.seed_base64),
        visitor_log_key: None,
    }
}

#[test]
fn cwa_location_ids_reproduce_from_the_payload_and_from_the_fields() {
    let vectors = cwa();
    assert_eq!(vectors.location_ids.len(), 5);
    for v in &vectors.location_ids {
        let payload = b64(v.payload_base64.as_deref().unwrap());
        let expected = b64(v.location_id_base64.as_deref().unwrap());
        let venue = Venue::from_payload(payload.clone()).unwrap();
        assert_eq!(venue.location_id().0.to_vec(), expected, "{}", v.source);
        // Decoding gives the vector's fields, and encoding them gives the same bytes back.
        assert_eq!(venue.location(), &location_of(v), "{}", v.source);
        assert_eq!(location_of(v).encode(), payload, "{}", v.source);
    }
}

#[test]
fn cwa_links_reproduce() {
    let links = CheckInLinks::new(crate::checkin::link::CWA_BASE).unwrap();
    for v in &cwa().links {
        let payload = location_of(v).encode();
        let venue = Venue::from_payload(payload).unwrap();
        assert_eq!(links.link(&venue), v.link.clone().unwrap(), "{}", v.source);
        assert_eq!(links.venue(v.link.as_deref().unwrap()).unwrap(), venue);
    }
}

#[test]
fn cwa_location_id_hashes_reproduce() {
    for v in &cwa().location_id_hashes {
        let id = LocationId(hex::decode(&v.location_id_hex).unwrap().try_into().unwrap());
        assert_eq!(hex::encode(id.hash().0), v.hash_hex);
    }
}

fn school_gate() -> NewVenue {
    NewVenue {
        description: "Cổng trường THCS Nguyễn Du".into(),
        address: None,
        location_type: LocationType::EducationalInstitution,
        default_checkin_minutes: 8 * 60,
        event: None,
        visitor_log_key: None,
    }
}

const NOW: u64 = 1_780_000_000;

#[test]
fn a_created_venue_is_cwa_shaped_and_round_trips() {
    let venue = school_gate().create(NOW, &Fixed(7)).unwrap();
    let location = venue.location();
    assert_eq!(
        location.address, location.description,
        "the address defaults to the name"
    );
    assert_eq!(location.public_key, CWA_CROWD_NOTIFIER_PUBLIC_KEY.to_vec());
    assert_eq!(location.seed, vec![7; 16]);
    assert_eq!(location.location_type, 7);
    assert_eq!(
        Venue::from_payload(venue.payload().to_vec()).unwrap(),
        venue
    );
    venue.check_in_rules(NOW).unwrap();
    // Another seed, another venue: two rooms of the same name are not confused.
    let other = school_gate().create(NOW, &Fixed(8)).unwrap();
    assert_ne!(other.location_id(), venue.location_id());
}

#[test]
fn the_visitor_log_key_travels_in_the_vendor_data_and_cwa_fields_stay_readable() {
    let secret = VisitorLogSecret::generate(&Fixed(3)).unwrap();
    let venue = NewVenue {
        visitor_log_key: Some(secret.public_key()),
        ..school_gate()
    }
    .create(NOW, &Fixed(1))
    .unwrap();
    assert_eq!(venue.location().visitor_log_key, Some(secret.public_key()));
    assert_eq!(
        VisitorLogSecret::from_bytes(secret.to_bytes()).public_key(),
        secret.public_key()
    );
    // A reader that knows only CWA's messages (as a CWA app) sees the same type and stay.
    let qr = proto::QrCodePayload::decode(venue.payload()).unwrap();
    #[derive(Clone, PartialEq, prost::Message)]
    struct CwaOnly {
        #[prost(uint32, tag = "1")]
        version: u32,
        #[prost(int32, tag = "2")]
        r#type: i32,
        #[prost(uint32, tag = "3")]
        minutes: u32,
    }
    let cwa = CwaOnly::decode(qr.vendor_data.as_slice()).unwrap();
    assert_eq!((cwa.version, cwa.r#type, cwa.minutes), (1, 7, 480));
    // A key of the wrong size is a damaged poster.
    let mut bad = venue.location().clone();
    bad.visitor_log_key = None;
    let mut qr = proto::QrCodePayload::decode(bad.encode().as_slice()).unwrap();
    qr.vendor_data = proto::CwaLocationData {
        version: 1,
        r#type: 7,
        default_check_in_length_in_minutes: 45,
        openzone: Some(proto::OpenZoneVenueData {
            visitor_log_key: vec![1; 31],
        }),
    }
    .encode_to_vec();
    assert!(matches!(
        Venue::from_payload(qr.encode_to_vec()),
        Err(Error::CheckIn(CheckInError::Malformed(_)))
    ));
}

fn refused(venue: NewVenue) -> Error {
    venue.create(NOW, &Fixed(1)).unwrap_err()
}

#[test]
fn creation_rules_give_clear_errors() {
    let field = |e: Error| match e {
        Error::CheckIn(CheckInError::InvalidVenue { field, .. }) => field,
        other => panic!("{other}"),
    };
    assert_eq!(
        field(refused(NewVenue {
            description: "x".repeat(101),
            ..school_gate()
        })),
        "description"
    );
    assert_eq!(
        field(refused(NewVenue {
            description: " ".into(),
            ..school_gate()
        })),
        "description"
    );
    assert_eq!(
        field(refused(NewVenue {
            description: "a\nb".into(),
            ..school_gate()
        })),
        "description"
    );
    assert_eq!(
        field(refused(NewVenue {
            address: Some("y".repeat(101)),
            ..school_gate()
        })),
        "address"
    );
    assert_eq!(
        field(refused(NewVenue {
            default_checkin_minutes: 14,
            ..school_gate()
        })),
        "minutes"
    );
    assert_eq!(
        field(refused(NewVenue {
            default_checkin_minutes: 1441,
            ..school_gate()
        })),
        "minutes"
    );
    assert_eq!(
        field(refused(NewVenue {
            location_type: LocationType::Unspecified,
            ..school_gate()
        })),
        "type"
    );
    assert_eq!(
        field(refused(NewVenue {
            event: Some((NOW, NOW + 3600)),
            ..school_gate()
        })),
        "type"
    );
    let meeting = NewVenue {
        description: "Họp phụ huynh lớp 6A".into(),
        location_type: LocationType::PrivateEvent,
        default_checkin_minutes: 90,
        event: Some((NOW + 3600, NOW + 3 * 3600)),
        ..school_gate()
    };
    assert_eq!(
        field(refused(NewVenue {
            event: None,
            ..meeting.clone()
        })),
        "type"
    );
    assert_eq!(
        field(refused(NewVenue {
            event: Some((NOW + 10, NOW + 10)),
            ..meeting.clone()
        })),
        "start"
    );
    assert!(matches!(
        refused(NewVenue {
            event: Some((NOW - 7200, NOW - 3600)),
            ..meeting.clone()
        }),
        Error::CheckIn(CheckInError::EventEnded { .. })
    ));
    // 100 characters of Vietnamese (one UTF-16 unit each) are fine; a 101st is not.
    let hundred: String = "ệ".repeat(100);
    NewVenue {
        description: hundred.clone(),
        ..school_gate()
    }
    .create(NOW, &Fixed(1))
    .unwrap();
    assert!(refused(NewVenue {
        description: hundred + "a",
        ..school_gate()
    })
    .to_string()
    .contains("101"));
    // Emoji count two units each, as CWA's Android app counts them.
    assert_eq!(
        field(refused(NewVenue {
            description: "😀".repeat(51),
            ..school_gate()
        })),
        "description"
    );
}

#[test]
fn check_in_rules_cover_events_seeds_and_texts() {
    let meeting = NewVenue {
        description: "Họp phụ huynh".into(),
        location_type: LocationType::PrivateEvent,
        default_checkin_minutes: 90,
        event: Some((NOW + 3600, NOW + 7200)),
        ..school_gate()
    }
    .create(NOW, &Fixed(2))
    .unwrap();
    assert!(matches!(
        meeting.check_in_rules(NOW),
        Err(Error::CheckIn(CheckInError::EventNotStarted { start })) if start == NOW + 3600
    ));
    meeting.check_in_rules(NOW + 3600).unwrap();
    assert!(matches!(
        meeting.check_in_rules(NOW + 7200),
        Err(Error::CheckIn(CheckInError::EventEnded { .. }))
    ));
    // CWA's own test posters have 4-byte seeds: readable, but nobody checks in there.
    let v = &cwa().location_ids[1];
    let short_seed = Venue::from_payload(b64(v.payload_base64.as_deref().unwrap())).unwrap();
    assert!(matches!(
        short_seed.check_in_rules(NOW),
        Err(Error::CheckIn(CheckInError::InvalidVenue {
            field: "seed",
            ..
        }))
    ));
    let mut long = short_seed.location().clone();
    long.description = "d".repeat(150);
    long.seed = vec![0; 16];
    let long = Venue::from_payload(long.encode()).unwrap();
    assert_eq!(
        long.location().description.len(),
        150,
        "inspecting shows it as encoded"
    );
    assert!(long.check_in_rules(NOW).is_err());
}

#[test]
fn stays_are_bounded() {
    let gate = school_gate().create(NOW, &Fixed(1)).unwrap();
    assert_eq!(gate.stay_minutes(None).unwrap(), 480);
    assert_eq!(gate.stay_minutes(Some(15)).unwrap(), 15);
    assert!(gate.stay_minutes(Some(14)).is_err());
    assert!(gate.stay_minutes(Some(24 * 60 + 1)).is_err());
    // A poster's default below the floor is raised to it; none (0) is a whole day.
    for (default, stay) in [(10, 15), (0, 1440)] {
        let mut location = gate.location().clone();
        location.default_checkin_minutes = default;
        let venue = Venue::from_payload(location.encode()).unwrap();
        assert_eq!(venue.stay_minutes(None).unwrap(), stay, "{default}");
    }
}

#[test]
fn location_types_parse_by_number_and_name() {
    for (text, expected) in [
        ("7", LocationType::EducationalInstitution),
        (
            "educational-institution",
            LocationType::EducationalInstitution,
        ),
        (
            "LOCATION_TYPE_PERMANENT_EDUCATIONAL_INSTITUTION",
            LocationType::EducationalInstitution,
        ),
        (
            "permanent-educational-institution",
            LocationType::EducationalInstitution,
        ),
        ("private-event", LocationType::PrivateEvent),
        ("temporary-private-event", LocationType::PrivateEvent),
        (" 2 ", LocationType::TemporaryOther),
        ("Temporary-Other", LocationType::TemporaryOther),
    ] {
        assert_eq!(LocationType::parse(text).unwrap(), expected, "{text}");
    }
    for bad in ["", "13", "-1", "school", "99999999999"] {
        assert!(LocationType::parse(bad).is_err(), "{bad}");
    }
    for n in 0..=12 {
        let t = LocationType::from_number(n).unwrap();
        assert_eq!(t.number(), n);
        assert_eq!(LocationType::parse(t.name()).unwrap(), t);
    }
}

#[test]
fn garbage_and_truncation_are_errors_never_panics() {
    let payload = school_gate()
        .create(NOW, &Fixed(5))
        .unwrap()
        .payload()
        .to_vec();
    for len in 0..payload.len() {
        // Every prefix either fails to decode or decodes to something (a protobuf prefix can be valid).
        let _ = Venue::from_payload(payload[..len].to_vec());
    }
    assert!(Venue::from_payload(payload[..payload.len() - 1].to_vec()).is_err());
    assert!(matches!(
        Venue::from_payload(vec![0xff; 64]),
        Err(Error::CheckIn(CheckInError::Malformed(_)))
    ));
    assert!(matches!(
        Venue::from_payload(Vec::new()),
        Err(Error::CheckIn(CheckInError::UnsupportedVersion { .. }))
    ));
    assert!(matches!(
        Venue::from_payload(vec![0; MAX_PAYLOAD_BYTES + 1]),
        Err(Error::CheckIn(CheckInError::PayloadTooLarge { .. }))
    ));
    let of_version = |version| {
        proto::QrCodePayload {
            version,
            ..Default::default()
        }
        .encode_to_vec()
    };
    assert!(matches!(
        Venue::from_payload(of_version(2)),
        Err(Error::CheckIn(CheckInError::UnsupportedVersion { version })) if version == "2"
    ));
    // Version 1 without a location.
    assert!(matches!(
        Venue::from_payload(of_version(1)),
        Err(Error::CheckIn(CheckInError::Malformed(_)))
    ));
}

proptest::proptest! {
    #[test]
    fn any_location_round_trips(
        description in "\\PC{0,100}",
        address in "\\PC{0,100}",
        location_type in 0i32..20,
        minutes in proptest::prelude::any::<u32>(),
        event in proptest::option::of((1u64..u64::MAX / 2, 1u64..u64::MAX / 2)),
        seed in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
        key in proptest::option::of(proptest::prelude::any::<[u8; 32]>()),
    ) {
        let location = TraceLocation {
            description, address, location_type, default_checkin_minutes: minutes,
            start: event.map(|e| e.0), end: event.map(|e| e.1),
            public_key: CWA_CROWD_NOTIFIER_PUBLIC_KEY.to_vec(), seed, visitor_log_key: key,
        };
        let payload = location.encode();
        if payload.len() <= MAX_PAYLOAD_BYTES {
            let venue = Venue::from_payload(payload.clone()).unwrap();
            proptest::prop_assert_eq!(venue.location(), &location);
            let links = CheckInLinks::default();
            proptest::prop_assert_eq!(links.venue(&links.link(&venue)).unwrap(), venue);
        }
    }

    #[test]
    fn any_bytes_decode_or_fail_cleanly(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1100)) {
        let _ = Venue::from_payload(bytes);
    }
}
