//! Warning packages: signed round trips, forgery, unknown keys, garbage, truncation, zip bombs, bad reports.

use super::*;
use crate::checkin::report::CheckInRecord;
use crate::checkin::venue::LocationId;
use crate::export::archive::SignedBin;
use crate::export::SignatureStatus;

fn signer() -> SigningKey {
    SigningKey::generate("262", "v1").unwrap().0
}

fn reports(n: usize) -> Vec<ProtectedReport> {
    let rng = ring::rand::SystemRandom::new();
    let id = LocationId::of_payload(b"classroom 6A");
    let record = CheckInRecord::covering(1_780_000_000, 1_780_002_700, 6).unwrap();
    (0..n)
        .map(|i| {
            if i % 3 == 0 {
                ProtectedReport::seal(&id, &record, &rng).unwrap()
            } else {
                ProtectedReport::fake(&rng).unwrap()
            }
        })
        .collect()
}

fn builder(n: usize) -> WarningPackageBuilder {
    WarningPackageBuilder {
        interval_number: 494_444,
        region: "VN".into(),
        reports: reports(n),
    }
}

#[test]
fn a_signed_package_round_trips() {
    let signer = signer();
    let built = builder(50);
    let zip = built.build_zip(&signer).unwrap();
    let package = WarningPackage::from_zip_bytes(&zip).unwrap();
    assert_eq!(
        package.header(),
        &PackageHeader {
            interval_number: 494_444,
            region: "VN".into(),
            report_count: 50
        }
    );
    assert_eq!(
        package.digest(),
        crate::checkin::venue::sha256(&[&built.package_bin()])
    );
    let verified = package.verify(&[signer.verification_key()]).unwrap();
    assert_eq!(verified.signed_by().key_id, "262");
    let read: Vec<ProtectedReport> = verified.reports().collect::<Result<_, _>>().unwrap();
    assert_eq!(read, built.reports);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("package.zip");
    std::fs::write(&path, &zip).unwrap();
    assert_eq!(
        WarningPackage::from_zip_file(&path)
            .unwrap()
            .header()
            .report_count,
        50
    );
}

#[test]
fn forged_and_unknown_signatures_are_refused() {
    let signer = signer();
    let zip = builder(9).build_zip(&signer).unwrap();
    let other = SigningKey::generate("262", "v1")
        .unwrap()
        .0
        .verification_key();
    assert!(matches!(
        WarningPackage::from_zip_bytes(&zip).unwrap().verify(&[other]),
        Err(Error::Signature(m)) if m.contains("warning package")
    ));
    let stranger = SigningKey::generate("999", "v1")
        .unwrap()
        .0
        .verification_key();
    assert!(matches!(
        WarningPackage::from_zip_bytes(&zip)
            .unwrap()
            .signed
            .signature_status(&[stranger]),
        SignatureStatus::UnknownKey(_)
    ));
    // A report swapped in after signing: the package still parses, but does not verify.
    let package = WarningPackage::from_zip_bytes(&zip).unwrap();
    let mut bin = package.signed.bin.clone();
    let at = bin.len() - 10;
    bin[at] ^= 1;
    let sig = proto_sig(&package);
    let forged = WarningPackage::from_signed(SignedBin::from_parts(bin, &sig).unwrap()).unwrap();
    assert!(matches!(
        forged.signed.signature_status(&[signer.verification_key()]),
        SignatureStatus::Invalid(_)
    ));
    // No signature at all.
    let unsigned = WarningPackage::from_signed(
        SignedBin::from_parts(package.signed.bin.clone(), &[]).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        unsigned.verify(&[signer.verification_key()]),
        Err(Error::Signature(_))
    ));
}

/// Re-encodes the signatures of a package as `export.sig`.
fn proto_sig(package: &WarningPackage) -> Vec<u8> {
    use crate::export::signing::ECDSA_SHA256_OID;
    #[derive(Clone, PartialEq, prost::Message)]
    struct Info {
        #[prost(string, optional, tag = "3")]
        version: Option<String>,
        #[prost(string, optional, tag = "4")]
        key_id: Option<String>,
        #[prost(string, optional, tag = "5")]
        algorithm: Option<String>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    struct Sig {
        #[prost(message, optional, tag = "1")]
        info: Option<Info>,
        #[prost(bytes = "vec", optional, tag = "4")]
        signature: Option<Vec<u8>>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    struct List {
        #[prost(message, repeated, tag = "1")]
        signatures: Vec<Sig>,
    }
    List {
        signatures: package
            .signed
            .signatures
            .iter()
            .map(|(info, sig)| Sig {
                info: Some(Info {
                    version: Some(info.version.clone()),
                    key_id: Some(info.key_id.clone()),
                    algorithm: Some(ECDSA_SHA256_OID.into()),
                }),
                signature: Some(sig.clone()),
            })
            .collect(),
    }
    .encode_to_vec()
}

#[test]
fn garbage_truncation_and_bombs_are_clear_errors() {
    let zip = builder(20).build_zip(&signer()).unwrap();
    for len in (0..zip.len()).step_by(13) {
        assert!(
            WarningPackage::from_zip_bytes(&zip[..len]).is_err(),
            "{len}"
        );
    }
    for garbage in [&b""[..], b"PK\x05\x06", &[0u8; 100], b"not a zip at all"] {
        assert!(matches!(
            WarningPackage::from_zip_bytes(garbage),
            Err(Error::CheckIn(CheckInError::WarningPackage(_)))
        ));
    }
    // An export.bin over the cap, compressed to almost nothing.
    let bomb = WarningPackageBuilder::default();
    let mut bin = bomb.package_bin();
    bin.resize(MAX_PACKAGE_BIN_BYTES as usize + 1, 0);
    let zip = zip_signed_bin(&bin, &signer()).unwrap();
    assert!(zip.len() < 1 << 20);
    let err = WarningPackage::from_zip_bytes(&zip).unwrap_err();
    assert!(err.to_string().contains("at most"), "{err}");
    let huge = vec![0u8; MAX_PACKAGE_ZIP_BYTES as usize + 1];
    assert!(WarningPackage::from_zip_bytes(&huge).is_err());
}

fn header_of(bin: &[u8]) -> Result<PackageHeader, Error> {
    scan(bin)
}

#[test]
fn damaged_bins_and_bad_reports() {
    let bin = builder(5).package_bin();
    for len in 0..bin.len() {
        // A prefix cut at a field boundary is a valid shorter package; any other cut is an error.
        if let Ok(header) = header_of(&bin[..len]) {
            assert!(header.report_count <= 5);
        }
    }
    assert!(header_of(&bin[..bin.len() - 1]).is_err());
    assert!(header_of(&[0x0b]).is_err(), "a group is refused");
    assert!(
        header_of(&[0x12, 0x20, b'V']).is_err(),
        "a region longer than its bytes"
    );
    assert!(
        header_of(&[0x12, 0x02, 0xff, 0xfe]).is_err(),
        "a region that is not UTF-8"
    );
    assert!(header_of(&[
        0x12, 17, b'a', b'a', b'a', b'a', b'a', b'a', b'a', b'a', b'a', b'a', b'a', b'a', b'a',
        b'a', b'a', b'a', b'a'
    ])
    .is_err());
    assert!(
        header_of(&[0x08, 0xff, 0xff, 0xff, 0xff, 0x7f]).is_err(),
        "an hour beyond 32 bits"
    );
    // CWA's deprecated plaintext warnings (field 3) and unknown fields are skipped.
    let mut with_extras = vec![0x1a, 0x02, 0x08, 0x01, 0x28, 0x05, 0x35, 1, 2, 3, 4];
    with_extras.extend_from_slice(&bin);
    assert_eq!(header_of(&with_extras).unwrap().report_count, 5);
    // A report with bad field sizes is a counted skip; the others still come through.
    let mut odd = bin.clone();
    let bad = proto::CheckInProtectedReport {
        location_id_hash: vec![1; 31],
        iv: vec![2; 16],
        encrypted_check_in_record: vec![3; 16],
        mac: vec![4; 32],
    };
    let mut field = Vec::new();
    prost::encoding::message::encode(FIELD_REPORT, &bad, &mut field);
    odd.extend_from_slice(&field);
    prost::encoding::bytes::encode(FIELD_REPORT, &vec![0xffu8; 8], &mut odd);
    let signer = signer();
    let zip = zip_signed_bin(&odd, &signer).unwrap();
    let verified = WarningPackage::from_zip_bytes(&zip)
        .unwrap()
        .verify(&[signer.verification_key()])
        .unwrap();
    let results: Vec<_> = verified.reports().collect();
    assert_eq!(results.len(), 7);
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 5);
    assert_eq!(results[5], Err(ReportSkip::BadHash));
    assert_eq!(results[6], Err(ReportSkip::Malformed));
}

proptest::proptest! {
    #[test]
    fn any_bin_scans_or_fails_cleanly(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
        if let Ok(header) = header_of(&bytes) {
            let package = WarningPackage { signed: SignedBin { bin: bytes, signatures: Vec::new() }, header };
            let verified = VerifiedWarningPackage { package, signed_by: SignatureInfo::default() };
            let n = verified.reports().count();
            proptest::prop_assert_eq!(n, verified.package().header().report_count);
        }
    }
}
