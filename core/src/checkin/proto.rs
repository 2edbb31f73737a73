//! The protobuf messages of Corona-Warn-App's presence tracing, written out for prost so that no `protoc`
//! is needed, plus OpenZone's extension of the vendor data.
//!
//! Sources (Apache-2.0), field numbers and types copied exactly:
//! - `QRCodePayload`, `TraceLocation`, `CrowdNotifierData`, `CWALocationData`: corona-warn-app/cwa-server,
//!   `common/protocols/src/main/proto/app/coronawarn/server/common/protocols/internal/pt/trace_location.proto`
//!   (commit 37f2ab8), identical to corona-warn-app/cwa-event-qr-code `proto/internal/pt/trace_location.proto`.
//! - `CheckInRecord`, `CheckInProtectedReport`: corona-warn-app/cwa-server, `.../internal/pt/check_in.proto`
//!   (commit 1a2ba83).
//! - `TraceWarningPackage`: corona-warn-app/cwa-server, `.../internal/pt/trace_warning.proto` (commit 21f15a5).
//!
//! Every message is proto3: a field at its default value is not written, which is what makes the bytes
//! (and so the location id, a hash of them) the same as CWA's encoders produce.

/// `QRCodePayload`: what a venue's QR code carries.
#[derive(Clone, PartialEq, prost::Message)]
pub struct QrCodePayload {
    /// Payload version; 1.
    #[prost(uint32, tag = "1")]
    pub version: u32,
    /// The venue as people see it.
    #[prost(message, optional, tag = "2")]
    pub location_data: Option<TraceLocation>,
    /// CrowdNotifier's data (CWA fills a fixed public key and a random seed).
    #[prost(message, optional, tag = "3")]
    pub crowd_notifier_data: Option<CrowdNotifierData>,
    /// The bytes of a [`CwaLocationData`].
    #[prost(bytes = "vec", tag = "4")]
    pub vendor_data: Vec<u8>,
}

/// `TraceLocation`: description, address and, for events, their time span.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TraceLocation {
    /// Version; 1.
    #[prost(uint32, tag = "1")]
    pub version: u32,
    /// At most 100 characters.
    #[prost(string, tag = "2")]
    pub description: String,
    /// At most 100 characters.
    #[prost(string, tag = "3")]
    pub address: String,
    /// UTC unix seconds; 0 for a permanent place.
    #[prost(uint64, tag = "5")]
    pub start_timestamp: u64,
    /// UTC unix seconds; 0 for a permanent place.
    #[prost(uint64, tag = "6")]
    pub end_timestamp: u64,
}

/// `CrowdNotifierData`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CrowdNotifierData {
    /// Version; 1.
    #[prost(uint32, tag = "1")]
    pub version: u32,
    /// The CrowdNotifier master public key.
    #[prost(bytes = "vec", tag = "2")]
    pub public_key: Vec<u8>,
    /// 16 random bytes that make every venue's location id unique.
    #[prost(bytes = "vec", tag = "3")]
    pub cryptographic_seed: Vec<u8>,
}

/// `CWALocationData`, inside `QRCodePayload.vendorData`; field 1000 is OpenZone's.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CwaLocationData {
    /// Version; 1.
    #[prost(uint32, tag = "1")]
    pub version: u32,
    /// `TraceLocationType` (an enum on the wire: a varint).
    #[prost(int32, tag = "2")]
    pub r#type: i32,
    /// Minutes a check-in lasts unless the visitor says otherwise.
    #[prost(uint32, tag = "3")]
    pub default_check_in_length_in_minutes: u32,
    /// OpenZone's extension. CWA apps parse this message with their own generated code, which skips
    /// unknown fields, so a CWA app reads an OpenZone poster as any other.
    #[prost(message, optional, tag = "1000")]
    pub openzone: Option<OpenZoneVenueData>,
}

/// OpenZone's extension of the vendor data (field 1000 of `CWALocationData`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct OpenZoneVenueData {
    /// The venue's X25519 public key: the venue asks visitors to register in its visitor log, sealed to
    /// this key.
    #[prost(bytes = "vec", tag = "1")]
    pub visitor_log_key: Vec<u8>,
}

/// `CheckInRecord`: the plaintext of an encrypted check-in.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CheckInRecord {
    /// First 10-minute interval of the stay (UTC unix seconds / 600).
    #[prost(uint32, tag = "1")]
    pub start_interval_number: u32,
    /// Number of 10-minute intervals.
    #[prost(uint32, tag = "2")]
    pub period: u32,
    /// Transmission risk level, 1 to 8.
    #[prost(uint32, tag = "3")]
    pub transmission_risk_level: u32,
}

/// `CheckInProtectedReport`: one encrypted check-in as uploaded and published.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CheckInProtectedReport {
    /// SHA-256 of the location id.
    #[prost(bytes = "vec", tag = "1")]
    pub location_id_hash: Vec<u8>,
    /// AES-CBC initialisation vector (16 bytes).
    #[prost(bytes = "vec", tag = "2")]
    pub iv: Vec<u8>,
    /// The encrypted `CheckInRecord`.
    #[prost(bytes = "vec", tag = "3")]
    pub encrypted_check_in_record: Vec<u8>,
    /// HMAC-SHA256 over `iv || encryptedCheckInRecord`.
    #[prost(bytes = "vec", tag = "4")]
    pub mac: Vec<u8>,
}

/// `TraceWarningPackage` without its deprecated field 3 (plaintext warnings), which is skipped if present.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TraceWarningPackage {
    /// Hours since the UNIX epoch of the package.
    #[prost(uint32, tag = "1")]
    pub interval_number: u32,
    /// The region.
    #[prost(string, tag = "2")]
    pub region: String,
    /// The encrypted check-ins.
    #[prost(message, repeated, tag = "4")]
    pub check_in_protected_reports: Vec<CheckInProtectedReport>,
}
