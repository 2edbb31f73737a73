//! Fuzz target for the BLE payload decoder (`openzone_core::protocol::payload`).
//!
//! Every input is fed to all three entry points that take bytes from the radio or from a peer:
//! `decode_advertisement`, `AdvertisementData::parse` + `decode`, and `decode_gatt_value`. None of them
//! may panic, and whatever decodes as a payload must survive a round trip through the encoders:
//!
//! - `decode_advertisement(x) == Ok(Payload(p))` implies `decode_gatt_value(&gatt_value(&p)) == Ok(p)`,
//!   `decode_advertisement(&encode_advertisement(&p)) == Ok(Payload(p))` (at most 31 bytes on air) and
//!   `AdvertisementData::for_payload(&p).decode() == Ok(Payload(p))`;
//! - `decode_gatt_value(x) == Ok(p)` implies `gatt_value(&p) == x` (a GATT value has one encoding).
//!
//! Run it with `cargo fuzz run --sanitizer none payload` from the repository root: see docs/fuzzing.md.

#![no_main]

use libfuzzer_sys::fuzz_target;
use openzone_core::protocol::payload::{
    decode_advertisement, decode_gatt_value, encode_advertisement, gatt_value, AdvertisementData,
    Decoded,
};
use openzone_core::protocol::Payload;
use openzone_core::Error;

fuzz_target!(|data: &[u8]| {
    // 1. Raw advertisement bytes, in one call.
    let decoded = decode_advertisement(data);

    // 2. The same bytes in two steps, as a platform shell that inspects the fields would do it.
    match AdvertisementData::parse(data) {
        Ok(ad) => {
            let two_step = ad.decode();
            assert_same(&decoded, &two_step, data);
        }
        Err(e) => assert!(
            decoded.is_err(),
            "parse failed ({e}) but decode_advertisement succeeded on {data:02x?}"
        ),
    }
    if let Err(e) = &decoded {
        // Error messages are shown to testers and logged: building them must not panic either.
        let _ = e.to_string();
    }

    // 3. Round trips for whatever decoded as a payload.
    if let Ok(Decoded::Payload(p)) = decoded {
        check_round_trip(&p, data);
    }

    // 4. The same bytes as a GATT characteristic value.
    match decode_gatt_value(data) {
        Ok(p) => {
            assert_eq!(
                gatt_value(&p),
                data,
                "GATT value does not re-encode to itself"
            );
            check_round_trip(&p, data);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});

/// The encoders and decoders agree on `p`.
fn check_round_trip(p: &Payload, input: &[u8]) {
    match decode_gatt_value(&gatt_value(p)) {
        Ok(q) => assert_eq!(q, *p, "GATT round trip changed the payload of {input:02x?}"),
        Err(e) => panic!("GATT round trip failed for {p:?} (from {input:02x?}): {e}"),
    }

    let ad = encode_advertisement(p);
    assert!(
        ad.len() <= 31,
        "{} bytes do not fit a legacy advertisement",
        ad.len()
    );
    match decode_advertisement(&ad) {
        Ok(d) => assert_eq!(
            d,
            Decoded::Payload(*p),
            "advertisement round trip changed the payload of {input:02x?}"
        ),
        Err(e) => panic!("advertisement round trip failed for {p:?} (from {input:02x?}): {e}"),
    }

    match AdvertisementData::for_payload(p).decode() {
        Ok(d) => assert_eq!(
            d,
            Decoded::Payload(*p),
            "for_payload(..).decode() changed {p:?}"
        ),
        Err(e) => panic!("for_payload(..).decode() failed for {p:?}: {e}"),
    }
}

/// `decode_advertisement` is `parse` then `decode`: both ways give the same answer.
fn assert_same(a: &Result<Decoded, Error>, b: &Result<Decoded, Error>, input: &[u8]) {
    match (a, b) {
        (Ok(x), Ok(y)) => assert_eq!(
            x, y,
            "one-step and two-step decoding differ on {input:02x?}"
        ),
        (Err(x), Err(y)) => assert_eq!(
            format!("{x:?}"),
            format!("{y:?}"),
            "one-step and two-step decoding fail differently on {input:02x?}"
        ),
        _ => panic!("one-step {a:?} and two-step {b:?} decoding disagree on {input:02x?}"),
    }
}
