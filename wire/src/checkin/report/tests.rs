//! Encrypted check-ins: CWA's key, MAC and report vectors, round trips, tampering, fakes, garbage.

use super::*;
use crate::checkin::tests::{b64, b64_32, cwa};

/// Replays fixed bytes as "randomness" (the vectors' IVs), cycling if more are asked for.
struct Replay(Vec<u8>);

impl Random for Replay {
    fn fill(&self, out: &mut [u8]) -> Result<(), Error> {
        for (i, b) in out.iter_mut().enumerate() {
            *b = self.0[i % self.0.len()];
        }
        Ok(())
    }
}

#[test]
fn cwa_keys_and_mac_reproduce() {
    let vectors = cwa();
    for v in &vectors.keys {
        let id = LocationId(b64_32(&v.location_id_base64));
        assert_eq!(encryption_key(&id).to_vec(), b64(&v.encryption_key_base64));
        assert_eq!(mac_key(&id).to_vec(), b64(&v.mac_key_base64));
    }
    for v in &vectors.macs {
        let got = mac(
            &b64_32(&v.mac_key_base64),
            &b64(&v.iv_base64),
            &b64(&v.ciphertext_base64),
        );
        assert_eq!(got.to_vec(), b64(&v.mac_base64));
    }
}

#[test]
fn cwa_reports_encrypt_and_decrypt_exactly() {
    for v in &cwa().protected_reports {
        let id = LocationId(b64_32(&v.location_id_base64));
        let record = CheckInRecord {
            start_interval: v.start_interval_number,
            period: v.period,
            transmission_risk_level: v.transmission_risk_level,
        };
        let sealed = ProtectedReport::seal(&id, &record, &Replay(b64(&v.iv_base64))).unwrap();
        assert_eq!(sealed.iv.to_vec(), b64(&v.iv_base64));
        assert_eq!(
            sealed.encrypted_record,
            b64(&v.encrypted_check_in_record_base64)
        );
        assert_eq!(sealed.mac.to_vec(), b64(&v.mac_base64));
        assert_eq!(sealed.location_id_hash, id.hash());
        let published = ProtectedReport {
            location_id_hash: id.hash(),
            iv: b64(&v.iv_base64).try_into().unwrap(),
            encrypted_record: b64(&v.encrypted_check_in_record_base64),
            mac: b64_32(&v.mac_base64),
        };
        assert_eq!(published.open(&id).unwrap(), record);
        assert_eq!(
            ProtectedReport::decode(&published.encode()).unwrap(),
            published
        );
    }
}

fn some_id() -> LocationId {
    LocationId::of_payload(b"a classroom")
}

#[test]
fn tampering_or_another_venue_is_refused() {
    let record = CheckInRecord::covering(1_780_000_000, 1_780_002_700, 6).unwrap();
    let report =
        ProtectedReport::seal(&some_id(), &record, &ring::rand::SystemRandom::new()).unwrap();
    assert_eq!(report.open(&some_id()).unwrap(), record);
    let other = LocationId::of_payload(b"another classroom");
    assert!(matches!(
        report.open(&other),
        Err(Error::CheckIn(CheckInError::Report(_)))
    ));
    for i in 0..16 {
        let mut bad = report.clone();
        bad.iv[i] ^= 1;
        assert!(bad.open(&some_id()).is_err());
        let mut bad = report.clone();
        bad.encrypted_record[i] ^= 0x80;
        assert!(bad.open(&some_id()).is_err());
        let mut bad = report.clone();
        bad.mac[i * 2] ^= 4;
        assert!(bad.open(&some_id()).is_err());
    }
    // A correctly MACed ciphertext whose plaintext is not padded (only someone with the id can make
    // one) is still refused, not a panic.
    let iv = [9u8; 16];
    let junk = vec![0x55u8; 16];
    let forged = ProtectedReport {
        location_id_hash: some_id().hash(),
        iv,
        mac: mac(&mac_key(&some_id()), &iv, &junk),
        encrypted_record: junk,
    };
    assert!(matches!(
        forged.open(&some_id()),
        Err(Error::CheckIn(CheckInError::Report(_)))
    ));
}

#[test]
fn records_cover_the_whole_stay() {
    // 07:05 to 07:51 covers 07:00 to 08:00; 07:05 to 07:50 covers 07:00 to 07:50.
    let arrival = 1_780_000_000 - 1_780_000_000 % 600 + 300;
    let record = CheckInRecord::covering(arrival, arrival + 46 * 60, 5).unwrap();
    assert_eq!(record.start(), arrival - 300);
    assert_eq!(record.end(), arrival - 300 + 3600);
    assert_eq!(record.period, 6);
    assert_eq!(
        CheckInRecord::covering(arrival, arrival + 45 * 60, 5)
            .unwrap()
            .period,
        5
    );
    assert!(CheckInRecord::covering(10, 10, 5).is_err());
    assert!(CheckInRecord::covering(10, 20, 0).is_err());
    assert!(CheckInRecord::covering(10, 20, 9).is_err());
    // Every realistic record encrypts to one block, the size fakes have.
    let sealed = ProtectedReport::seal(&some_id(), &record, &Replay(vec![1])).unwrap();
    assert_eq!(sealed.encrypted_record.len(), RECORD_CIPHERTEXT_BYTES);
    let day = CheckInRecord::covering(arrival, arrival + 86_400, 8).unwrap();
    let sealed = ProtectedReport::seal(&some_id(), &day, &Replay(vec![1])).unwrap();
    assert_eq!(sealed.encrypted_record.len(), RECORD_CIPHERTEXT_BYTES);
}

#[test]
fn fakes_look_like_real_reports_and_padding_hides_the_count() {
    let rng = ring::rand::SystemRandom::new();
    let real = ProtectedReport::seal(
        &some_id(),
        &CheckInRecord::covering(1_780_000_000, 1_780_003_600, 7).unwrap(),
        &rng,
    )
    .unwrap();
    let fake = ProtectedReport::fake(&rng).unwrap();
    assert_eq!(fake.encode().len(), real.encode().len());
    assert!(fake.open(&some_id()).is_err());
    let padded = pad_with_fakes(vec![real.clone()], 16, &rng).unwrap();
    assert_eq!(padded.len(), 16);
    assert!(padded.contains(&real));
    assert!(padded
        .windows(2)
        .all(|w| w[0].location_id_hash <= w[1].location_id_hash));
    assert_eq!(pad_with_fakes(Vec::new(), 16, &rng).unwrap().len(), 16);
    assert_eq!(pad_with_fakes(vec![real; 17], 16, &rng).unwrap().len(), 32);
}

#[test]
fn garbage_reports_are_errors() {
    let good = ProtectedReport::fake(&ring::rand::SystemRandom::new())
        .unwrap()
        .encode();
    for len in 0..good.len() {
        assert!(ProtectedReport::decode(&good[..len]).is_err(), "{len}");
    }
    assert!(ProtectedReport::decode(&[0xff; 80]).is_err());
    let sized = |hash: usize, iv: usize, ct: usize, mac: usize| proto::CheckInProtectedReport {
        location_id_hash: vec![1; hash],
        iv: vec![2; iv],
        encrypted_check_in_record: vec![3; ct],
        mac: vec![4; mac],
    };
    assert!(ProtectedReport::try_from(sized(32, 16, 16, 32)).is_ok());
    assert!(ProtectedReport::try_from(sized(32, 16, 32, 32)).is_ok());
    for (sizes, skip) in [
        ((31, 16, 16, 32), ReportSkip::BadHash),
        ((32, 15, 16, 32), ReportSkip::BadIv),
        ((32, 16, 15, 32), ReportSkip::BadCiphertext),
        ((32, 16, 48, 32), ReportSkip::BadCiphertext),
        ((32, 16, 0, 32), ReportSkip::BadCiphertext),
        ((32, 16, 16, 33), ReportSkip::BadMac),
    ] {
        let (hash, iv, ct, mac) = sizes;
        assert_eq!(
            ProtectedReport::try_from(sized(hash, iv, ct, mac)),
            Err(skip),
            "{sizes:?}"
        );
    }
}

proptest::proptest! {
    #[test]
    fn any_record_round_trips(start in 0u32..u32::MAX, period in 0u32..u32::MAX, level in 0u32..=u32::MAX, iv in proptest::prelude::any::<[u8; 16]>()) {
        let record = CheckInRecord { start_interval: start, period, transmission_risk_level: level };
        let sealed = ProtectedReport::seal(&some_id(), &record, &Replay(iv.to_vec())).unwrap();
        proptest::prop_assert!(sealed.encrypted_record.len() <= MAX_RECORD_CIPHERTEXT_BYTES);
        proptest::prop_assert_eq!(ProtectedReport::decode(&sealed.encode()).unwrap().open(&some_id()).unwrap(), record);
    }
}
