//! Building and signing exports and warning packages, and making venues, for tests and QA tools (the
//! key server and the school do this in production).

use openzone_core::checkin::package::WarningPackageBuilder;
use openzone_core::checkin::report::pad_with_fakes;
use openzone_core::checkin::{CheckInLinks, CheckInRecord, NewVenue, ProtectedReport};
use openzone_core::export::signing::SigningKey;
use openzone_core::export::{ExportBuilder, ExportKey, ReportType};
use openzone_core::protocol::en_v1::ExposureKey;

use ring::rand::SystemRandom;

use crate::records::ReportKey;
use crate::OpenZoneError;

/// A new ECDSA P-256 key pair, as PEM.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SigningKeyPair {
    /// PKCS#8 `PRIVATE KEY`.
    pub private_pem: String,
    /// `PUBLIC KEY`.
    pub public_pem: String,
}

/// Generates a signing key pair.
#[uniffi::export]
pub fn generate_signing_key() -> Result<SigningKeyPair, OpenZoneError> {
    let (key, private_pem) = SigningKey::generate("openzone", "v1")?;
    Ok(SigningKeyPair {
        private_pem,
        public_pem: key.verification_key().to_pem(),
    })
}

/// A signed export zip of `keys` (confirmed tests, transmission risk level 6), signed by `private_pem` as
/// key `key_id`/`version`.
#[uniffi::export]
pub fn build_signed_export(
    keys: Vec<ReportKey>,
    private_pem: String,
    key_id: String,
    version: String,
) -> Result<Vec<u8>, OpenZoneError> {
    let signer = SigningKey::from_pem(&key_id, &version, &private_pem)?;
    let keys = keys
        .iter()
        .map(|k| {
            Ok(ExportKey {
                key: ExposureKey::new(
                    k.key_data.parse()?,
                    k.rolling_start_interval,
                    k.rolling_period,
                )?,
                transmission_risk_level: Some(6),
                report_type: ReportType::ConfirmedTest,
                days_since_onset: k.days_since_onset,
            })
        })
        .collect::<Result<Vec<_>, openzone_core::Error>>()?;
    let builder = ExportBuilder {
        region: "VN".into(),
        ..ExportBuilder::one_file(keys)
    };
    Ok(builder.build_zip(&signer)?)
}

/// A new classroom venue's check-in link (a 45-minute stay), for tests.
#[uniffi::export]
pub fn make_classroom_link(name: String, now_s: u64) -> Result<String, OpenZoneError> {
    let venue = NewVenue::classroom(name).create(now_s, &SystemRandom::new())?;
    Ok(CheckInLinks::default().link(&venue))
}

/// A signed warning package holding one case's stay at the venue of `link` from `from` to `to` (UTC
/// unix seconds, transmission risk level 8) and a few fakes, signed by `private_pem` as key
/// `key_id`/`version`.
#[uniffi::export]
pub fn build_warning_package(
    link: String,
    from: u64,
    to: u64,
    private_pem: String,
    key_id: String,
    version: String,
) -> Result<Vec<u8>, OpenZoneError> {
    let signer = SigningKey::from_pem(&key_id, &version, &private_pem)?;
    let venue = CheckInLinks::default().venue(&link)?;
    let rng = SystemRandom::new();
    let record = CheckInRecord::covering(from, to, 8)?;
    let reports = pad_with_fakes(
        vec![ProtectedReport::seal(&venue.location_id(), &record, &rng)?],
        10,
        &rng,
    )?;
    let builder = WarningPackageBuilder {
        interval_number: u32::try_from(to / 3_600).unwrap_or(u32::MAX),
        region: "VN".into(),
        reports,
    };
    Ok(builder.build_zip(&signer)?)
}
