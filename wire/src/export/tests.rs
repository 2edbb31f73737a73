//! Exports: the real fixture files, tampering, garbage, zip bombs, and exports built here.

use super::*;
use crate::export::signing::SigningKey;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/exports/");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{name}"))
        .expect("the export fixtures are in wire/tests/data/exports")
}

fn fixture_key(name: &str, key_id: &str) -> VerificationKey {
    let pem = String::from_utf8(fixture(name)).unwrap();
    VerificationKey::from_pem(key_id, "v1", &pem).unwrap()
}

fn google_key() -> VerificationKey {
    fixture_key("google-sample-140keys.pub.pem", "310")
}

#[test]
fn google_sample_verifies_and_yields_140_keys() {
    let export = Export::from_zip_bytes(&fixture("google-sample-140keys.zip")).unwrap();
    assert_eq!(export.header().key_count, 140);
    assert_eq!(export.header().region.as_deref(), Some("US"));
    assert_eq!(export.header().signature_infos[0].key_id, "310");
    let verified = export.verify(&[google_key()]).unwrap();
    assert_eq!(verified.signed_by().key_id, "310");
    let keys: Vec<_> = verified.export().keys().collect::<Result<_, _>>().unwrap();
    assert_eq!(keys.len(), 140);
    use rayon::prelude::*;
    let chunked: usize = verified.key_chunks().map(|c| c.keys().count()).sum();
    assert_eq!(chunked, 140);
}

#[test]
fn server_test_export_has_two_short_keys() {
    let zip = fixture("server-test-2keys.zip");
    let export = Export::from_zip_bytes(&zip).unwrap();
    let info = export.header().signature_infos[0].clone();
    let pem = String::from_utf8(fixture("server-test-2keys.pub.pem")).unwrap();
    let key = VerificationKey::from_pem(&info.key_id, &info.version, &pem).unwrap();
    let verified = export.verify(&[key]).unwrap();
    let keys: Vec<ExportKey> = verified.export().keys().collect::<Result<_, _>>().unwrap();
    let mut periods: Vec<u32> = keys.iter().map(|k| k.key.rolling_period).collect();
    periods.sort();
    assert_eq!(periods, [1, 114]);
    assert!(keys.iter().any(|k| k.key.rolling_start_interval % 144 != 0));
}

#[test]
fn a_changed_byte_anywhere_in_the_payload_is_rejected() {
    let zip = fixture("google-sample-140keys.zip");
    let export = Export::from_zip_bytes(&zip).unwrap();
    let mut bin = export.signed.bin.clone();
    let sig_list = proto::TekSignatureList {
        signatures: export
            .signed
            .signatures
            .iter()
            .map(|(info, sig)| proto::TekSignature {
                signature_info: Some(proto::SignatureInfo {
                    verification_key_version: Some(info.version.clone()),
                    verification_key_id: Some(info.key_id.clone()),
                    signature_algorithm: Some(info.algorithm.clone()),
                }),
                batch_num: Some(1),
                batch_size: Some(1),
                signature: Some(sig.clone()),
            })
            .collect(),
    }
    .encode_to_vec();
    // Flip one bit of a key deep in the file: it still parses, but no longer verifies.
    let at = bin.len() - 30;
    bin[at] ^= 0x01;
    let tampered = Export::from_parts(bin, &sig_list).unwrap();
    assert!(matches!(
        tampered.signature_status(&[google_key()]),
        SignatureStatus::Invalid(_)
    ));
    assert!(matches!(
        tampered.verify(&[google_key()]),
        Err(Error::Signature(_))
    ));
}

#[test]
fn a_changed_byte_in_the_zip_is_rejected_or_unreadable() {
    let zip = fixture("google-sample-140keys.zip");
    let mut rejected = 0;
    for at in (0..zip.len()).step_by(7) {
        let mut copy = zip.clone();
        copy[at] ^= 0x20;
        match Export::from_zip_bytes(&copy).and_then(|e| e.verify(&[google_key()])) {
            Ok(v) => {
                // Only bytes outside export.bin and the signature (zip metadata) may change harmlessly.
                assert_eq!(
                    v.export().digest(),
                    Export::from_zip_bytes(&zip).unwrap().digest(),
                    "byte {at}"
                );
            }
            Err(_) => rejected += 1,
        }
    }
    assert!(rejected > zip.len() / 14, "{rejected}");
}

#[test]
fn unknown_or_missing_signatures_are_refused() {
    let export = Export::from_zip_bytes(&fixture("google-sample-140keys.zip")).unwrap();
    let other = SigningKey::generate("999", "v1")
        .unwrap()
        .0
        .verification_key();
    assert!(matches!(
        export.signature_status(std::slice::from_ref(&other)),
        SignatureStatus::UnknownKey(_)
    ));
    assert!(
        matches!(export.clone().verify(&[other]), Err(Error::Signature(m)) if m.contains("310/v1"))
    );
    assert!(matches!(
        export.clone().verify(&[]),
        Err(Error::Signature(_))
    ));
    // A configured key with the right id but the wrong public key: invalid, not unknown.
    let mut wrong = SigningKey::generate("x", "v1")
        .unwrap()
        .0
        .verification_key();
    wrong.key_id = "310".into();
    assert!(matches!(
        export.signature_status(&[wrong]),
        SignatureStatus::Invalid(_)
    ));
    let unsigned = Export::from_parts(fixture("unsigned-200keys.export.bin"), &[]).unwrap();
    assert_eq!(
        unsigned.signature_status(&[google_key()]),
        SignatureStatus::Missing
    );
    assert!(unsigned.verify(&[google_key()]).is_err());
}

#[test]
fn unsigned_fixtures_parse_with_varied_rolling_periods() {
    let bin = fixture("unsigned-200keys.export.bin");
    let export = Export::from_parts(bin, &[]).unwrap();
    assert_eq!(export.header().key_count, 200);
    let keys: Vec<_> = export.keys().collect();
    assert_eq!(keys.len(), 200);
    let periods: std::collections::BTreeSet<u32> = keys
        .iter()
        .filter_map(|k| k.as_ref().ok())
        .map(|k| k.key.rolling_period)
        .collect();
    assert!(periods.len() > 1, "{periods:?}");
    let export = Export::from_parts(fixture("unsigned-110keys.export.bin"), &[]).unwrap();
    assert_eq!(export.keys().count(), 110);
}

#[test]
fn built_exports_verify_and_round_trip() {
    let (signer, _) = SigningKey::generate("test", "v1").unwrap();
    let keys: Vec<ExportKey> = (0..10_000u32)
        .map(|i| ExportKey {
            key: ExposureKey::new(
                TemporaryExposureKey::from_bytes([i as u8; 16]),
                2_900_000 + i % 144,
                1 + i % 144,
            )
            .unwrap(),
            transmission_risk_level: Some((i % 8 + 1) as u8),
            report_type: ReportType::ConfirmedTest,
            days_since_onset: Some(i as i32 % 15 - 7),
        })
        .collect();
    let builder = ExportBuilder {
        start_timestamp: 1_700_000_000,
        end_timestamp: 1_700_003_600,
        region: "VN".into(),
        ..ExportBuilder::one_file(keys.clone())
    };
    let zip = builder.build_zip(&signer).unwrap();
    let verified = Export::from_zip_bytes(&zip)
        .unwrap()
        .verify(&[signer.verification_key()])
        .unwrap();
    assert_eq!(verified.export().header().region.as_deref(), Some("VN"));
    assert_eq!(
        verified.export().header().start_timestamp,
        Some(1_700_000_000)
    );
    let back: Vec<ExportKey> = verified.export().keys().collect::<Result<_, _>>().unwrap();
    assert_eq!(back, keys);
    use rayon::prelude::*;
    assert_eq!(verified.key_chunks().count(), 3);
    let chunked: Vec<ExportKey> = verified
        .key_chunks()
        .flat_map_iter(|c| c.keys().map(Result::unwrap))
        .collect();
    assert_eq!(chunked, keys);
}

#[test]
fn bad_keys_are_counted_skips() {
    let good = proto::TemporaryExposureKey {
        key_data: Some(vec![1; 16]),
        transmission_risk_level: Some(3),
        rolling_start_interval_number: Some(2_900_000),
        rolling_period: None,
        report_type: Some(1),
        days_since_onset_of_symptoms: Some(0),
    };
    let cases = [
        (
            proto::TemporaryExposureKey {
                key_data: Some(vec![1; 15]),
                ..good.clone()
            },
            KeySkip::BadKeyData,
        ),
        (
            proto::TemporaryExposureKey {
                key_data: None,
                ..good.clone()
            },
            KeySkip::BadKeyData,
        ),
        (
            proto::TemporaryExposureKey {
                rolling_start_interval_number: Some(-1),
                ..good.clone()
            },
            KeySkip::BadInterval,
        ),
        (
            proto::TemporaryExposureKey {
                rolling_start_interval_number: None,
                ..good.clone()
            },
            KeySkip::BadInterval,
        ),
        (
            proto::TemporaryExposureKey {
                rolling_period: Some(0),
                ..good.clone()
            },
            KeySkip::BadRollingPeriod,
        ),
        (
            proto::TemporaryExposureKey {
                rolling_period: Some(145),
                ..good.clone()
            },
            KeySkip::BadRollingPeriod,
        ),
        (
            proto::TemporaryExposureKey {
                rolling_period: Some(-3),
                ..good.clone()
            },
            KeySkip::BadRollingPeriod,
        ),
        (
            proto::TemporaryExposureKey {
                rolling_start_interval_number: Some(i32::MAX),
                ..good.clone()
            },
            KeySkip::BadInterval,
        ),
        (
            proto::TemporaryExposureKey {
                rolling_start_interval_number: Some(144),
                ..good.clone()
            },
            KeySkip::BadInterval,
        ),
        (
            proto::TemporaryExposureKey {
                transmission_risk_level: Some(9),
                ..good.clone()
            },
            KeySkip::BadTransmissionRisk,
        ),
        (
            proto::TemporaryExposureKey {
                report_type: Some(5),
                ..good.clone()
            },
            KeySkip::Revoked,
        ),
    ];
    let mut body = proto::TemporaryExposureKeyExport::default();
    body.keys.push(good.clone());
    for (key, _) in &cases {
        body.keys.push(key.clone());
    }
    let mut bin = EXPORT_HEADER.to_vec();
    body.encode_raw(&mut bin);
    // And one key field that is not a valid message.
    bin.extend_from_slice(&[0x3a, 0x02, 0xff, 0xff]);
    let export = Export::from_parts(bin, &[]).unwrap();
    let results: Vec<_> = export.keys().collect();
    assert_eq!(results.len(), cases.len() + 2);
    assert_eq!(
        results[0].as_ref().unwrap().key.rolling_period,
        144,
        "absent rolling period means 144"
    );
    for (result, (_, skip)) in results[1..].iter().zip(&cases) {
        assert_eq!(result.as_ref().unwrap_err(), skip);
    }
    assert_eq!(
        results.last().unwrap().as_ref().unwrap_err(),
        &KeySkip::Malformed
    );
}

#[test]
fn garbage_and_truncation_are_errors() {
    let zip = fixture("google-sample-140keys.zip");
    for len in [0, 1, 4, 21, 22, 100, zip.len() / 2, zip.len() - 1] {
        assert!(
            matches!(Export::from_zip_bytes(&zip[..len]), Err(Error::Export(_))),
            "{len}"
        );
    }
    assert!(Export::from_zip_bytes(b"PK\x05\x06 not really a zip at all").is_err());
    let export = Export::from_zip_bytes(&zip).unwrap();
    let bin = export.signed.bin.clone();
    for len in [0, 10, 16, 17, 40, bin.len() - 1] {
        match Export::from_parts(bin[..len].to_vec(), &[]) {
            Err(Error::Export(_)) => {}
            Ok(e) => assert!(e.header().key_count < 140, "{len}"),
            Err(other) => panic!("{len}: {other}"),
        }
    }
    let mut wrong_header = bin.clone();
    wrong_header[3] = b'x';
    assert!(matches!(
        Export::from_parts(wrong_header, &[]),
        Err(Error::Export(_))
    ));
    assert!(matches!(
        Export::from_parts(bin, b"\xff\xff\xff"),
        Err(Error::Export(_))
    ));
    // Arbitrary bytes after the header never panic.
    let mut state = 0x1234_5678_u32;
    for _ in 0..2_000 {
        let mut bytes = EXPORT_HEADER.to_vec();
        for _ in 0..(state % 64) {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            bytes.push(state as u8);
        }
        if let Ok(e) = Export::from_parts(bytes, &[]) {
            let _ = e.keys().count();
        }
    }
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        zip.start_file(*name, options).unwrap();
        std::io::Write::write_all(&mut zip, data).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

#[test]
fn zip_bombs_and_crowded_zips_are_refused() {
    // 100 MiB of zeros deflate to about 100 KiB: more than export.bin may ever be.
    let zeros = vec![0u8; (MAX_EXPORT_BIN_BYTES + 1) as usize];
    let bomb = zip_of(&[("export.bin", &zeros), ("export.sig", b"")]);
    assert!(bomb.len() < 1 << 20);
    let err = Export::from_zip_bytes(&bomb).unwrap_err();
    assert!(err.to_string().contains("at most"), "{err}");
    let streamed_err = streamed(&bomb).unwrap_err();
    assert_eq!(streamed_err.to_string(), err.to_string());
    let names: Vec<String> = (0..20).map(|i| format!("f{i}")).collect();
    let crowded: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let err = Export::from_zip_bytes(&zip_of(&crowded)).unwrap_err();
    assert!(err.to_string().contains("20 entries"), "{err}");
    let streamed_err = streamed(&zip_of(&crowded)).unwrap_err();
    assert_eq!(streamed_err.to_string(), err.to_string());
    let missing = zip_of(&[("export.bin", EXPORT_HEADER)]);
    assert!(Export::from_zip_bytes(&missing)
        .unwrap_err()
        .to_string()
        .contains("no export.sig"));
}

#[test]
fn a_zip_over_the_cap_is_refused_alike_from_a_file_and_from_memory() {
    // Zeros allocated, and a sparse file: neither is written out, and neither is read past its length.
    let huge = vec![0u8; MAX_ZIP_BYTES as usize + 1];
    let file = tempfile::NamedTempFile::new().unwrap();
    file.as_file().set_len(MAX_ZIP_BYTES + 1).unwrap();
    let from_file = ExportFile::open(file.path()).unwrap_err();
    assert!(
        matches!(&from_file, Error::Export(m) if m.contains("at most")),
        "{from_file}"
    );
    for refused in [
        Export::from_zip_file(file.path()).unwrap_err(),
        Export::from_zip_bytes(&huge).unwrap_err(),
        ExportFile::from_zip_bytes(huge).unwrap_err(),
    ] {
        assert_eq!(refused.to_string(), from_file.to_string());
    }
    // At the cap, the size is no reason to refuse (the zeros are no zip).
    let at_cap = ExportFile::from_zip_bytes(vec![0u8; MAX_ZIP_BYTES as usize]).unwrap_err();
    assert!(
        at_cap.to_string().contains("no end of central directory"),
        "{at_cap}"
    );
}

#[test]
fn a_million_keys_parse_in_bounded_memory() {
    let (signer, _) = SigningKey::generate("test", "v1").unwrap();
    let keys: Vec<ExportKey> = (0..1_000_000u32)
        .map(|i| {
            let mut tek = [0u8; 16];
            tek[..4].copy_from_slice(&i.to_le_bytes());
            ExportKey {
                key: ExposureKey::new(TemporaryExposureKey::from_bytes(tek), 2_900_000, 144)
                    .unwrap(),
                transmission_risk_level: None,
                report_type: ReportType::ConfirmedTest,
                days_since_onset: None,
            }
        })
        .collect();
    let builder = ExportBuilder::one_file(keys);
    let bin = builder.export_bin(&signer);
    assert!(bin.len() < 40 << 20);
    let export = Export::from_parts(bin, &[]).unwrap();
    assert_eq!(export.header().key_count, 1_000_000);
    assert_eq!(export.chunks.len(), 1_000_000usize.div_ceil(CHUNK_KEYS));
    assert_eq!(export.keys().filter(Result::is_ok).count(), 1_000_000);
}

/// Streams a zip from a file and from memory, which must come out the same (or fail alike); returns the
/// export and the keys of each run handed on.
fn streamed(zip: &[u8]) -> Result<(StreamedExport, Vec<Vec<ExportKey>>), Error> {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), zip).unwrap();
    let from_file = stream_runs(ExportFile::open(file.path()));
    let from_bytes = stream_runs(ExportFile::from_zip_bytes(zip.to_vec()));
    match (&from_file, &from_bytes) {
        (Ok(file), Ok(bytes)) => assert_eq!(format!("{file:?}"), format!("{bytes:?}")),
        (Err(file), Err(bytes)) => assert_eq!(file.to_string(), bytes.to_string()),
        _ => panic!("a file and its bytes differ: {from_file:?} against {from_bytes:?}"),
    }
    from_file
}

/// Streams an opened export; returns it and the keys of each run handed on.
fn stream_runs<R: std::io::Read + std::io::Seek>(
    export: Result<ExportFile<R>, Error>,
) -> Result<(StreamedExport, Vec<Vec<ExportKey>>), Error> {
    let mut runs = Vec::new();
    let export = export?.stream(|chunks| {
        runs.extend(
            chunks
                .iter()
                .map(|c| c.keys().filter_map(Result::ok).collect::<Vec<_>>()),
        )
    })?;
    Ok((export, runs))
}

/// The keys of each run of a verified export read whole.
fn runs_of(export: &VerifiedExport) -> Vec<Vec<ExportKey>> {
    use rayon::prelude::*;
    export
        .key_chunks()
        .map(|c| c.keys().filter_map(Result::ok).collect())
        .collect()
}

#[test]
fn a_streamed_export_is_the_export_read_whole() {
    let zip = fixture("google-sample-140keys.zip");
    let whole = Export::from_zip_bytes(&zip)
        .unwrap()
        .verify(&[google_key()])
        .unwrap();
    let (export, runs) = streamed(&zip).unwrap();
    assert_eq!(export.header(), whole.export().header());
    assert_eq!(export.digest(), whole.export().digest());
    assert_eq!(export.verify(&[google_key()]).unwrap(), *whole.signed_by());
    assert_eq!(runs, runs_of(&whole));
}

#[test]
fn a_streamed_export_is_refused_as_the_export_read_whole_is() {
    let zip = fixture("google-sample-140keys.zip");
    let (export, _) = streamed(&zip).unwrap();
    let whole = Export::from_zip_bytes(&zip).unwrap();
    let other = SigningKey::generate("999", "v1")
        .unwrap()
        .0
        .verification_key();
    let mut wrong = other.clone();
    wrong.key_id = "310".into();
    for keys in [vec![], vec![other], vec![wrong]] {
        let message = |r: Result<SignatureInfo, Error>| match r {
            Err(Error::Signature(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            message(export.verify(&keys)),
            message(whole.clone().verify(&keys).map(|v| v.signed_by().clone()))
        );
    }
}

#[test]
fn every_changed_byte_of_a_streamed_zip_is_refused_or_harmless_as_when_read_whole() {
    let zip = fixture("google-sample-140keys.zip");
    let digest = Export::from_zip_bytes(&zip).unwrap().digest();
    for at in (0..zip.len()).step_by(3) {
        let mut copy = zip.clone();
        copy[at] ^= 0x20;
        let whole = Export::from_zip_bytes(&copy)
            .and_then(|e| e.verify(&[google_key()]))
            .map(|v| v.export().digest());
        let streamed = streamed(&copy).and_then(|(e, _)| {
            e.verify(&[google_key()])?;
            Ok(e.digest())
        });
        assert_eq!(whole.is_ok(), streamed.is_ok(), "byte {at}: {streamed:?}");
        if let Ok(d) = streamed {
            assert_eq!(d, digest, "byte {at}");
        }
    }
}

#[test]
fn a_truncated_zip_or_export_bin_is_refused_when_streamed() {
    let zip = fixture("google-sample-140keys.zip");
    for len in [0, 10, zip.len() / 2, zip.len() - 1] {
        assert!(
            matches!(streamed(&zip[..len]), Err(Error::Export(_))),
            "{len}"
        );
    }
    // A signed export.bin that ends in the middle of a key.
    let (signer, _) = SigningKey::generate("test", "v1").unwrap();
    let bin = ExportBuilder::one_file(vec![key_of(1), key_of(2)]).export_bin(&signer);
    let cut = archive::write(&bin[..bin.len() - 5], &signer, 1, 1).unwrap();
    assert!(
        matches!(streamed(&cut), Err(Error::Export(m)) if m.contains("middle of a field")),
        "{:?}",
        streamed(&cut).map(|(e, _)| e.digest())
    );
    assert!(Export::from_zip_bytes(&cut).is_err());
}

fn key_of(i: u32) -> ExportKey {
    let mut tek = [0u8; 16];
    tek[..4].copy_from_slice(&i.to_le_bytes());
    ExportKey {
        key: ExposureKey::new(TemporaryExposureKey::from_bytes(tek), 2_900_000, 144).unwrap(),
        transmission_risk_level: None,
        report_type: ReportType::ConfirmedTest,
        days_since_onset: None,
    }
}

#[test]
fn a_streamed_export_larger_than_one_read_is_cut_into_the_same_runs() {
    // About 10 MiB of export.bin, read 4 MiB at a time, with a region field between the keys that ends
    // a run early: runs cut at read boundaries must come out whole and in order.
    let (signer, _) = SigningKey::generate("test", "v1").unwrap();
    let mut bin = ExportBuilder::one_file((0..150_000).map(key_of).collect()).export_bin(&signer);
    let region = proto::TemporaryExposureKeyExport {
        region: Some("VN".into()),
        ..Default::default()
    }
    .encode_to_vec();
    bin.extend_from_slice(&region);
    let more = proto::TemporaryExposureKeyExport {
        keys: (150_000..300_000).map(|i| (&key_of(i)).into()).collect(),
        ..Default::default()
    }
    .encode_to_vec();
    bin.extend_from_slice(&more);
    assert!(bin.len() > 2 * super::stream::READ_BYTES);
    let zip = archive::write(&bin, &signer, 1, 1).unwrap();
    let key = signer.verification_key();
    let whole = Export::from_zip_bytes(&zip)
        .unwrap()
        .verify(std::slice::from_ref(&key))
        .unwrap();
    let (export, runs) = streamed(&zip).unwrap();
    export.verify(&[key]).unwrap();
    assert_eq!(export.header().key_count, 300_000);
    assert_eq!(export.header(), whole.export().header());
    assert_eq!(export.digest(), whole.export().digest());
    // Two runs of 150,000 keys, each cut into chunks, the region field between them.
    assert_eq!(runs.len(), 2 * 150_000usize.div_ceil(CHUNK_KEYS));
    assert_eq!(runs, runs_of(&whole));
}

proptest::proptest! {
    /// Keys read in place decode exactly as prost's generated decoder reads them, whatever the bytes.
    #[test]
    fn keys_read_in_place_are_the_keys_prost_decodes(
        fields in proptest::collection::vec((0u32..9, 0u8..6, proptest::collection::vec(proptest::prelude::any::<u8>(), 0..20)), 0..8),
        garbage in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
    ) {
        // Plausible messages (tags 1 to 8, every wire type, values of any bytes) and plain garbage.
        let mut message = Vec::new();
        for (tag, wire, value) in &fields {
            prost::encoding::encode_varint(u64::from(tag << 3 | u32::from(*wire)), &mut message);
            if *wire == 2 {
                prost::encoding::encode_varint(value.len() as u64, &mut message);
            }
            message.extend_from_slice(value);
        }
        for bytes in [&message, &garbage] {
            let by_prost = proto::TemporaryExposureKey::decode(bytes.as_slice()).map_err(|_| KeySkip::Malformed);
            let in_place = KeyMessage::decode(bytes);
            proptest::prop_assert_eq!(
                in_place.map(|k| (k.key_data.map(<[u8]>::to_vec), k.transmission_risk_level, k.rolling_start_interval_number, k.rolling_period, k.report_type, k.days_since_onset_of_symptoms)),
                by_prost.map(|k| (k.key_data, k.transmission_risk_level, k.rolling_start_interval_number, k.rolling_period, k.report_type, k.days_since_onset_of_symptoms)),
            );
        }
    }
}
