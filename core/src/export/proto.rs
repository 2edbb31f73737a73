//! The protobuf messages of the exposure-notification key export format, as published by Google
//! (`exposure-notifications-server`, `export.proto`), written out for prost so that no `protoc` is needed.

/// `TemporaryExposureKeyExport`: the body of `export.bin` after its 16-byte header.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TemporaryExposureKeyExport {
    /// Time window of the keys, UTC seconds.
    #[prost(fixed64, optional, tag = "1")]
    pub start_timestamp: Option<u64>,
    /// End of the time window, UTC seconds.
    #[prost(fixed64, optional, tag = "2")]
    pub end_timestamp: Option<u64>,
    /// Region, e.g. an ISO 3166 code.
    #[prost(string, optional, tag = "3")]
    pub region: Option<String>,
    /// This file's number within its batch, from 1.
    #[prost(int32, optional, tag = "4")]
    pub batch_num: Option<i32>,
    /// Files in the batch.
    #[prost(int32, optional, tag = "5")]
    pub batch_size: Option<i32>,
    /// Which keys sign the file.
    #[prost(message, repeated, tag = "6")]
    pub signature_infos: Vec<SignatureInfo>,
    /// The diagnosis keys.
    #[prost(message, repeated, tag = "7")]
    pub keys: Vec<TemporaryExposureKey>,
    /// Keys whose metadata changed since an earlier export.
    #[prost(message, repeated, tag = "8")]
    pub revised_keys: Vec<TemporaryExposureKey>,
}

/// `SignatureInfo`: identifies the key that signed an export.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SignatureInfo {
    /// Key version, e.g. "v1".
    #[prost(string, optional, tag = "3")]
    pub verification_key_version: Option<String>,
    /// Key identifier, e.g. the mobile country code "310".
    #[prost(string, optional, tag = "4")]
    pub verification_key_id: Option<String>,
    /// ASN.1 OID of the algorithm: "1.2.840.10045.4.3.2" for ECDSA P-256 with SHA-256.
    #[prost(string, optional, tag = "5")]
    pub signature_algorithm: Option<String>,
}

/// `TemporaryExposureKey`: one published key.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TemporaryExposureKey {
    /// The 16-byte key.
    #[prost(bytes = "vec", optional, tag = "1")]
    pub key_data: Option<Vec<u8>>,
    /// Transmission risk level, 1 to 8 (deprecated in v1.5, still sent by many servers).
    #[prost(int32, optional, tag = "2")]
    pub transmission_risk_level: Option<i32>,
    /// The first ENIntervalNumber of the key.
    #[prost(int32, optional, tag = "3")]
    pub rolling_start_interval_number: Option<i32>,
    /// Intervals the key covers; absent means 144.
    #[prost(int32, optional, tag = "4")]
    pub rolling_period: Option<i32>,
    /// How the case was confirmed (see [`crate::export::ReportType`]).
    #[prost(int32, optional, tag = "5")]
    pub report_type: Option<i32>,
    /// Days between the key's day and the onset of symptoms.
    #[prost(sint32, optional, tag = "6")]
    pub days_since_onset_of_symptoms: Option<i32>,
}

/// `TEKSignatureList`: the content of `export.sig`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TekSignatureList {
    /// One signature per signing key.
    #[prost(message, repeated, tag = "1")]
    pub signatures: Vec<TekSignature>,
}

/// `TEKSignature`: a signature over the whole `export.bin`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TekSignature {
    /// Which key made it.
    #[prost(message, optional, tag = "1")]
    pub signature_info: Option<SignatureInfo>,
    /// The file's number within its batch.
    #[prost(int32, optional, tag = "2")]
    pub batch_num: Option<i32>,
    /// Files in the batch.
    #[prost(int32, optional, tag = "3")]
    pub batch_size: Option<i32>,
    /// DER-encoded ECDSA signature.
    #[prost(bytes = "vec", optional, tag = "4")]
    pub signature: Option<Vec<u8>>,
}
