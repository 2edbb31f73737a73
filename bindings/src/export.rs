//! Building and signing exports, for tests and QA tools (the key server does this in production).

use openzone_core::export::signing::SigningKey;
use openzone_core::export::{ExportBuilder, ExportKey, ReportType};
use openzone_core::protocol::en_v1::ExposureKey;

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
        batch_num: 1,
        batch_size: 1,
        keys,
        ..Default::default()
    };
    Ok(builder.build_zip(&signer)?)
}
