//! Published keys of positive cases, and the proof of who published them.
//!
//! - [`Export`]: the diagnosis-key export format of exposure-notification key servers: a zip holding
//!   `export.bin` (the 16-byte header `EK Export v1    ` and a `TemporaryExposureKeyExport` protobuf) and
//!   `export.sig` (a `TEKSignatureList` whose signatures are DER ECDSA P-256 over the whole `export.bin`).
//!   Only a [`VerifiedExport`], whose signature a configured key checked, can be matched.
//! - [`ExportFile`]: the same zip, from a file or from memory, read as a stream: `export.bin` is never held
//!   inflated whole.
//! - [`ExportBuilder`]: builds and signs such zips (for the key server and for tests).
//! - [`bluezone`]: Bluezone's JSON list of daily keys, accepted only with a detached signature.
//! - [`signing`]: the ECDSA P-256 keys that sign and verify all of it.
//!
//! Everything here reads untrusted bytes: sizes and entry counts are capped before anything is
//! decompressed or allocated, keys are decoded one at a time (a million-key export is never turned into
//! a million structs), and a bad key is a counted skip, never a panic.

pub(crate) mod archive;
pub mod bluezone;
mod proto;
pub mod signing;
mod stream;

use prost::encoding::{decode_key, decode_varint, WireType};
use prost::Message;

use crate::error::Error;
use crate::protocol::en_v1::{ExposureKey, TemporaryExposureKey, EK_ROLLING_PERIOD};
use signing::{SigningKey, VerificationKey, ECDSA_SHA256_OID};
pub use stream::{ExportFile, StreamedExport};

/// The 16-byte header that starts every `export.bin`.
pub const EXPORT_HEADER: &[u8; 16] = b"EK Export v1    ";

/// The largest `export.bin` accepted: about 2.5 million keys.
pub const MAX_EXPORT_BIN_BYTES: u64 = 96 << 20;

/// The largest `export.sig` accepted.
pub const MAX_SIGNATURE_BYTES: u64 = 64 << 10;

/// The largest zip file accepted.
pub const MAX_ZIP_BYTES: u64 = 128 << 20;

/// The most entries a zip may list; an export has two.
pub const MAX_ZIP_ENTRIES: usize = 8;

/// Rolling start intervals a real key can have: from 2019-06 (before exposure notification existed) to
/// the year 2103. Anything else is a damaged or hostile key.
pub const PLAUSIBLE_INTERVALS: std::ops::Range<u32> = 2_600_000..7_000_000;

/// Keys per chunk when an export is matched in parallel.
const CHUNK_KEYS: usize = 4_096;

/// How a positive case was confirmed (`TemporaryExposureKey.ReportType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReportType {
    /// Not given (0).
    Unknown,
    /// A confirmed test (1).
    ConfirmedTest,
    /// A clinical diagnosis (2).
    ConfirmedClinicalDiagnosis,
    /// Self-reported (3).
    SelfReport,
    /// Recursive (4; unused by most servers).
    Recursive,
    /// Revoked (5): the key was published in error; never matched.
    Revoked,
}

impl ReportType {
    /// The protobuf value; unknown values map to [`ReportType::Unknown`].
    pub const fn from_i32(value: i32) -> Self {
        match value {
            1 => Self::ConfirmedTest,
            2 => Self::ConfirmedClinicalDiagnosis,
            3 => Self::SelfReport,
            4 => Self::Recursive,
            5 => Self::Revoked,
            _ => Self::Unknown,
        }
    }

    /// The protobuf value.
    pub const fn as_i32(self) -> i32 {
        match self {
            Self::Unknown => 0,
            Self::ConfirmedTest => 1,
            Self::ConfirmedClinicalDiagnosis => 2,
            Self::SelfReport => 3,
            Self::Recursive => 4,
            Self::Revoked => 5,
        }
    }
}

/// One published key with its metadata.
#[derive(Clone, PartialEq, Eq)]
pub struct ExportKey {
    /// The key.
    pub key: ExposureKey,
    /// Transmission risk level 1 to 8, if the server sent one.
    pub transmission_risk_level: Option<u8>,
    /// How the case was confirmed.
    pub report_type: ReportType,
    /// Days between the key's day and the onset of symptoms (negative: before onset).
    pub days_since_onset: Option<i32>,
}

impl std::fmt::Debug for ExportKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportKey")
            .field("rolling_start_interval", &self.key.rolling_start_interval)
            .field("rolling_period", &self.key.rolling_period)
            .field("transmission_risk_level", &self.transmission_risk_level)
            .field("report_type", &self.report_type)
            .field("days_since_onset", &self.days_since_onset)
            .finish_non_exhaustive()
    }
}

/// Why a key in an export was skipped. Skips are counted, not fatal: one bad key must not hide the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeySkip {
    /// The key message is not valid protobuf.
    Malformed,
    /// `key_data` is missing or not 16 bytes.
    BadKeyData,
    /// The rolling start interval is missing, negative or implausible (before 2019 or after 2100).
    BadInterval,
    /// The rolling period is outside 1 to 144.
    BadRollingPeriod,
    /// The transmission risk level is outside 0 to 8.
    BadTransmissionRisk,
    /// The key was revoked.
    Revoked,
    /// The key ended before the retention period: nothing heard then is kept.
    OutsideRetention,
    /// The key is still in use (its last interval has not ended): matching it would be premature.
    NotYetExpired,
    /// The same key appeared earlier in the batch.
    Duplicate,
}

impl KeySkip {
    /// A short description for reports.
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Malformed => "malformed key",
            Self::BadKeyData => "key data is not 16 bytes",
            Self::BadInterval => "missing or implausible rolling start interval",
            Self::BadRollingPeriod => "rolling period outside 1-144",
            Self::BadTransmissionRisk => "transmission risk level outside 0-8",
            Self::Revoked => "revoked key",
            Self::OutsideRetention => "older than the retention period",
            Self::NotYetExpired => "still in use (not yet expired)",
            Self::Duplicate => "duplicate key",
        }
    }
}

/// The fields of a `TemporaryExposureKey` message, read in place: prost's generated decoding allocates
/// the key data, a million allocations for a million keys.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct KeyMessage<'a> {
    key_data: Option<&'a [u8]>,
    transmission_risk_level: Option<i32>,
    rolling_start_interval_number: Option<i32>,
    rolling_period: Option<i32>,
    report_type: Option<i32>,
    days_since_onset_of_symptoms: Option<i32>,
}

impl<'a> KeyMessage<'a> {
    /// Decodes one message as prost decodes `proto::TemporaryExposureKey` (with prost's own decoders of
    /// each field): the last of a repeated field wins, unknown fields are skipped, and whatever prost
    /// refuses is [`KeySkip::Malformed`].
    fn decode(mut buf: &'a [u8]) -> Result<Self, KeySkip> {
        use prost::encoding::{check_wire_type, int32, sint32, skip_field, DecodeContext};
        let malformed = |_: prost::DecodeError| KeySkip::Malformed;
        let mut m = Self::default();
        while !buf.is_empty() {
            let (tag, wire) = decode_key(&mut buf).map_err(malformed)?;
            let ctx = DecodeContext::default();
            if tag == 1 {
                check_wire_type(WireType::LengthDelimited, wire).map_err(malformed)?;
                let len = decode_varint(&mut buf).map_err(malformed)?;
                let (data, rest) = usize::try_from(len)
                    .ok()
                    .and_then(|len| buf.split_at_checked(len))
                    .ok_or(KeySkip::Malformed)?;
                m.key_data = Some(data);
                buf = rest;
                continue;
            }
            let int32_field = match tag {
                2 => Some(&mut m.transmission_risk_level),
                3 => Some(&mut m.rolling_start_interval_number),
                4 => Some(&mut m.rolling_period),
                5 => Some(&mut m.report_type),
                _ => None,
            };
            match (int32_field, tag) {
                (Some(field), _) => int32::merge(wire, field.get_or_insert(0), &mut buf, ctx),
                (None, 6) => sint32::merge(
                    wire,
                    m.days_since_onset_of_symptoms.get_or_insert(0),
                    &mut buf,
                    ctx,
                ),
                (None, _) => skip_field(wire, tag, &mut buf, ctx),
            }
            .map_err(malformed)?;
        }
        Ok(m)
    }
}

impl TryFrom<KeyMessage<'_>> for ExportKey {
    type Error = KeySkip;

    fn try_from(k: KeyMessage<'_>) -> Result<Self, KeySkip> {
        let report_type = ReportType::from_i32(k.report_type.unwrap_or(0));
        if report_type == ReportType::Revoked {
            return Err(KeySkip::Revoked);
        }
        let tek: [u8; 16] = k
            .key_data
            .and_then(|d| d.try_into().ok())
            .ok_or(KeySkip::BadKeyData)?;
        let start = k
            .rolling_start_interval_number
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| PLAUSIBLE_INTERVALS.contains(n))
            .ok_or(KeySkip::BadInterval)?;
        let period = k.rolling_period.unwrap_or(EK_ROLLING_PERIOD as i32);
        let period = u32::try_from(period).map_err(|_| KeySkip::BadRollingPeriod)?;
        let key = ExposureKey::new(TemporaryExposureKey::from_bytes(tek), start, period)
            .map_err(|_| KeySkip::BadRollingPeriod)?;
        let transmission_risk_level = match k.transmission_risk_level {
            None | Some(0) => None,
            Some(level @ 1..=8) => Some(level as u8),
            Some(_) => return Err(KeySkip::BadTransmissionRisk),
        };
        Ok(Self {
            key,
            transmission_risk_level,
            report_type,
            days_since_onset: k.days_since_onset_of_symptoms,
        })
    }
}

impl From<&ExportKey> for proto::TemporaryExposureKey {
    fn from(k: &ExportKey) -> Self {
        Self {
            key_data: Some(k.key.tek.as_bytes().to_vec()),
            transmission_risk_level: k.transmission_risk_level.map(i32::from),
            rolling_start_interval_number: Some(k.key.rolling_start_interval as i32),
            rolling_period: Some(k.key.rolling_period as i32),
            report_type: Some(k.report_type.as_i32()),
            days_since_onset_of_symptoms: k.days_since_onset,
        }
    }
}

/// Who signed an export, as `export.bin` and `export.sig` name the key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignatureInfo {
    /// The key identifier.
    pub key_id: String,
    /// The key version.
    pub version: String,
    /// The algorithm's OID.
    pub algorithm: String,
}

impl From<proto::SignatureInfo> for SignatureInfo {
    fn from(s: proto::SignatureInfo) -> Self {
        Self {
            key_id: s.verification_key_id.unwrap_or_default(),
            version: s.verification_key_version.unwrap_or_default(),
            algorithm: s.signature_algorithm.unwrap_or_default(),
        }
    }
}

/// Everything in `export.bin` except the keys.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportHeader {
    /// Start of the export's time window, UTC seconds.
    pub start_timestamp: Option<u64>,
    /// End of the export's time window, UTC seconds.
    pub end_timestamp: Option<u64>,
    /// The region.
    pub region: Option<String>,
    /// This file's number in its batch.
    pub batch_num: Option<i32>,
    /// Files in the batch.
    pub batch_size: Option<i32>,
    /// The keys that sign it.
    pub signature_infos: Vec<SignatureInfo>,
    /// Keys in the file (valid or not).
    pub key_count: usize,
    /// Revised keys in the file (read but not matched: they repeat keys of earlier exports).
    pub revised_key_count: usize,
}

/// Whether an export's signature checks out against the configured keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureStatus {
    /// A signature made by this configured key verifies.
    Valid(SignatureInfo),
    /// No signature names a configured key.
    UnknownKey(Vec<SignatureInfo>),
    /// A signature names a configured key but does not verify: the file was altered.
    Invalid(SignatureInfo),
    /// `export.sig` holds no signature.
    Missing,
}

/// A parsed export whose signature has not been checked yet: its header can be inspected, its keys not
/// matched.
#[derive(Debug, Clone)]
pub struct Export {
    signed: archive::SignedBin,
    header: ExportHeader,
    /// Byte ranges of `bin` holding consecutive runs of key fields, for parallel matching.
    chunks: Vec<std::ops::Range<usize>>,
}

fn malformed(what: impl Into<String>) -> Error {
    Error::Export(what.into())
}

impl Export {
    /// Reads an export zip from a file, within the size caps.
    pub fn from_zip_file(path: &std::path::Path) -> Result<Self, Error> {
        let zip = archive::read_file(path, MAX_ZIP_BYTES, MAX_EXPORT_BIN_BYTES)?;
        Self::from_signed(zip)
    }

    /// Reads an export zip held in memory.
    pub fn from_zip_bytes(zip: &[u8]) -> Result<Self, Error> {
        Self::from_signed(archive::read_bytes(
            zip,
            MAX_ZIP_BYTES,
            MAX_EXPORT_BIN_BYTES,
        )?)
    }

    /// Parses `export.bin` and `export.sig` given separately.
    pub fn from_parts(bin: Vec<u8>, sig: &[u8]) -> Result<Self, Error> {
        Self::from_signed(archive::SignedBin::from_parts(bin, sig)?)
    }

    fn from_signed(signed: archive::SignedBin) -> Result<Self, Error> {
        let (header, chunks) = scan_bin(&signed.bin)?;
        Ok(Self {
            signed,
            header,
            chunks,
        })
    }

    /// The export's header.
    pub fn header(&self) -> &ExportHeader {
        &self.header
    }

    /// SHA-256 of `export.bin`: identifies the batch, to process it only once.
    pub fn digest(&self) -> [u8; 32] {
        self.signed.digest()
    }

    /// How the signature checks out against `keys`, without consuming the export.
    pub fn signature_status(&self, keys: &[VerificationKey]) -> SignatureStatus {
        self.signed.signature_status(keys)
    }

    /// Checks the signature against the configured `keys` (chosen by the signature's key id and
    /// version); only a verified export can be matched.
    pub fn verify(self, keys: &[VerificationKey]) -> Result<VerifiedExport, Error> {
        let signed_by = archive::require_valid(self.signature_status(keys), "the export")?;
        Ok(VerifiedExport {
            export: self,
            signed_by,
        })
    }

    /// Every key, in file order, as a key or the reason it is skipped.
    pub fn keys(&self) -> impl Iterator<Item = Result<ExportKey, KeySkip>> + '_ {
        self.chunks
            .iter()
            .flat_map(|range| KeyFields(&self.signed.bin[range.clone()]))
    }
}

/// An export whose signature a configured key verified.
#[derive(Debug, Clone)]
pub struct VerifiedExport {
    export: Export,
    signed_by: SignatureInfo,
}

impl VerifiedExport {
    /// The export.
    pub fn export(&self) -> &Export {
        &self.export
    }

    /// The key that signed it.
    pub fn signed_by(&self) -> &SignatureInfo {
        &self.signed_by
    }

    /// The keys in runs of a few thousand, each decoded lazily, for matching on several cores.
    pub fn key_chunks(&self) -> impl rayon::iter::IndexedParallelIterator<Item = KeyChunk<'_>> {
        use rayon::prelude::*;
        self.export
            .chunks
            .par_iter()
            .map(|range| KeyChunk(&self.export.signed.bin[range.clone()]))
    }
}

/// A run of consecutive keys of a verified export.
#[derive(Debug, Clone, Copy)]
pub struct KeyChunk<'a>(&'a [u8]);

impl<'a> KeyChunk<'a> {
    /// The run's keys, each decoded as it is reached.
    pub fn keys(self) -> impl Iterator<Item = Result<ExportKey, KeySkip>> + 'a {
        KeyFields(self.0)
    }
}

/// Iterates the `keys` fields (field 7) of a byte range that holds only whole top-level fields.
struct KeyFields<'a>(&'a [u8]);

impl Iterator for KeyFields<'_> {
    type Item = Result<ExportKey, KeySkip>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.0.is_empty() {
            // The ranges were framed by the scan, so this framing succeeds; stop quietly if it does not.
            let Ok(Framed::Field {
                tag,
                wire,
                value,
                rest,
            }) = frame(self.0, false)
            else {
                return None;
            };
            self.0 = rest;
            if tag == 7 && wire == WireType::LengthDelimited {
                return Some(KeyMessage::decode(value).and_then(ExportKey::try_from));
            }
        }
        None
    }
}

/// One pass over a whole `export.bin`: checks the header and the framing of every top-level field, reads
/// the non-key fields, counts keys and cuts them into chunks.
fn scan_bin(bin: &[u8]) -> Result<(ExportHeader, Vec<std::ops::Range<usize>>), Error> {
    let body_start = bin_body_start(bin)?;
    let mut scan = BinScan::default();
    let mut chunks = Vec::new();
    scan.scan(bin, body_start, false, &mut chunks)?;
    Ok((scan.header, chunks))
}

/// Where the protobuf starts after the 16-byte header, or why `bin` does not start with it.
fn bin_body_start(bin: &[u8]) -> Result<usize, Error> {
    if bin.starts_with(&EXPORT_HEADER[..]) {
        Ok(EXPORT_HEADER.len())
    } else {
        Err(malformed(
            "export.bin does not start with the header \"EK Export v1    \"",
        ))
    }
}

/// One top-level field of `export.bin`, framed.
enum Framed<'a> {
    /// A whole field: its tag, wire type and value (a scalar's raw bytes), and what follows it.
    Field {
        tag: u32,
        wire: WireType,
        value: &'a [u8],
        rest: &'a [u8],
    },
    /// The field runs past the bytes read so far.
    Incomplete,
}

/// Room for a field's tag and length (two varints of at most 10 bytes): a head shorter than this at the
/// end of the bytes read so far may only be cut short.
const MAX_FIELD_HEAD: usize = 20;

/// Frames the field at the start of `buf`. With `more` (the stream goes on after `buf`), a field cut short
/// is [`Framed::Incomplete`]; without, it is an error.
fn frame(buf: &[u8], more: bool) -> Result<Framed<'_>, Error> {
    let cut_short = |error: Error| {
        if more {
            Ok(Framed::Incomplete)
        } else {
            Err(error)
        }
    };
    let mut rest = buf;
    let (tag, wire) = match decode_key(&mut rest) {
        Ok(key) => key,
        Err(_) if more && buf.len() < MAX_FIELD_HEAD => return Ok(Framed::Incomplete),
        Err(e) => return Err(malformed(format!("export.bin is not protobuf: {e}"))),
    };
    let len = if wire == WireType::LengthDelimited {
        match decode_varint(&mut rest)
            .ok()
            .and_then(|l| usize::try_from(l).ok())
        {
            Some(len) => len,
            None if more && buf.len() < MAX_FIELD_HEAD => return Ok(Framed::Incomplete),
            None => return Err(malformed("export.bin has a damaged field length")),
        }
    } else {
        match wire {
            // A varint's value is its own bytes.
            WireType::Varint => {
                let mut after = rest;
                match decode_varint(&mut after) {
                    Ok(_) => rest.len() - after.len(),
                    Err(_) if more && buf.len() < MAX_FIELD_HEAD => return Ok(Framed::Incomplete),
                    Err(e) => return Err(malformed(format!("export.bin: {e}"))),
                }
            }
            WireType::SixtyFourBit => 8,
            WireType::ThirtyTwoBit => 4,
            _ => return Err(malformed("export.bin uses deprecated protobuf groups")),
        }
    };
    match rest.split_at_checked(len) {
        Some((value, rest)) => Ok(Framed::Field {
            tag,
            wire,
            value,
            rest,
        }),
        None => cut_short(malformed("export.bin ends in the middle of a field")),
    }
}

/// The state of one pass over `export.bin`, which may be read whole or streamed: the header so far and
/// the run of keys being cut into a chunk.
#[derive(Default)]
struct BinScan {
    header: ExportHeader,
    /// Where the current, unfinished chunk of keys starts in the bytes scanned.
    chunk_start: Option<usize>,
    keys_in_chunk: usize,
}

impl BinScan {
    /// Scans the whole top-level fields of `buf` from `from` (a field boundary), reading non-key fields
    /// and pushing each finished chunk of keys onto `chunks`. With `more` (the stream goes on after
    /// `buf`), stops before a field cut short and returns where; without, scans to the end and closes the
    /// last chunk.
    fn scan(
        &mut self,
        buf: &[u8],
        from: usize,
        more: bool,
        chunks: &mut Vec<std::ops::Range<usize>>,
    ) -> Result<usize, Error> {
        let offset = |rest: &[u8]| buf.len() - rest.len();
        let mut rest = &buf[from..];
        while !rest.is_empty() {
            let field_start = offset(rest);
            let (tag, wire, value) = match frame(rest, more)? {
                Framed::Field {
                    tag,
                    wire,
                    value,
                    rest: after,
                } => {
                    rest = after;
                    (tag, wire, value)
                }
                Framed::Incomplete => return Ok(field_start),
            };
            self.field(tag, wire, value, field_start, offset(rest), chunks)?;
        }
        if !more {
            if let Some(start) = self.chunk_start.take() {
                chunks.push(start..buf.len());
            }
        }
        Ok(buf.len())
    }

    /// Takes in one whole field that spans `start..end` of the bytes scanned.
    fn field(
        &mut self,
        tag: u32,
        wire: WireType,
        value: &[u8],
        start: usize,
        end: usize,
        chunks: &mut Vec<std::ops::Range<usize>>,
    ) -> Result<(), Error> {
        let header = &mut self.header;
        let mut value_buf = value;
        match (tag, wire) {
            (7, WireType::LengthDelimited) => {
                header.key_count += 1;
                let chunk_start = *self.chunk_start.get_or_insert(start);
                self.keys_in_chunk += 1;
                if self.keys_in_chunk == CHUNK_KEYS {
                    chunks.push(chunk_start..end);
                    self.chunk_start = None;
                    self.keys_in_chunk = 0;
                }
                return Ok(());
            }
            (8, WireType::LengthDelimited) => header.revised_key_count += 1,
            (1, WireType::SixtyFourBit) => {
                header.start_timestamp = Some(u64::from_le_bytes(fixed8(value)?))
            }
            (2, WireType::SixtyFourBit) => {
                header.end_timestamp = Some(u64::from_le_bytes(fixed8(value)?))
            }
            (3, WireType::LengthDelimited) => {
                header.region = Some(
                    String::from_utf8(value.to_vec())
                        .map_err(|_| malformed("the region is not UTF-8"))?,
                )
            }
            (4, WireType::Varint) => header.batch_num = Some(varint_i32(&mut value_buf)?),
            (5, WireType::Varint) => header.batch_size = Some(varint_i32(&mut value_buf)?),
            (6, WireType::LengthDelimited) => header.signature_infos.push(
                proto::SignatureInfo::decode(value)
                    .map_err(|e| malformed(format!("a signature info is damaged: {e}")))?
                    .into(),
            ),
            _ => {}
        }
        // A non-key field ends the current run of keys.
        if let Some(chunk_start) = self.chunk_start.take() {
            chunks.push(chunk_start..start);
            self.keys_in_chunk = 0;
        }
        Ok(())
    }

    /// The bytes before `n` were dropped from the front of what is scanned (streaming keeps only what it
    /// has not handed on); `n` is never past the start of the unfinished chunk.
    fn dropped_front(&mut self, n: usize) {
        if let Some(start) = &mut self.chunk_start {
            *start -= n;
        }
    }
}

fn fixed8(value: &[u8]) -> Result<[u8; 8], Error> {
    value
        .try_into()
        .map_err(|_| malformed("a timestamp is not 8 bytes"))
}

fn varint_i32(buf: &mut &[u8]) -> Result<i32, Error> {
    let v = decode_varint(buf).map_err(|e| malformed(format!("export.bin: {e}")))?;
    Ok(v as i64 as i32)
}

/// Builds and signs an export zip.
#[derive(Debug, Clone, Default)]
pub struct ExportBuilder {
    /// Start of the time window, UTC seconds.
    pub start_timestamp: u64,
    /// End of the time window, UTC seconds.
    pub end_timestamp: u64,
    /// Region code.
    pub region: String,
    /// This file's number in its batch, from 1.
    pub batch_num: i32,
    /// Files in the batch.
    pub batch_size: i32,
    /// The keys, in the order they are written.
    pub keys: Vec<ExportKey>,
}

impl ExportBuilder {
    /// An export of `keys` that is the whole of its batch (file 1 of 1), with no region or time window
    /// until the caller sets them.
    pub fn one_file(keys: Vec<ExportKey>) -> Self {
        Self {
            batch_num: 1,
            batch_size: 1,
            keys,
            ..Self::default()
        }
    }

    /// `export.bin`: the header and the protobuf.
    pub fn export_bin(&self, signer: &SigningKey) -> Vec<u8> {
        let message = proto::TemporaryExposureKeyExport {
            start_timestamp: Some(self.start_timestamp),
            end_timestamp: Some(self.end_timestamp),
            region: Some(self.region.clone()),
            batch_num: Some(self.batch_num),
            batch_size: Some(self.batch_size),
            signature_infos: vec![signature_info(signer)],
            keys: self.keys.iter().map(Into::into).collect(),
            revised_keys: Vec::new(),
        };
        let mut bin = Vec::with_capacity(16 + message.encoded_len());
        bin.extend_from_slice(EXPORT_HEADER);
        message.encode_raw(&mut bin);
        bin
    }

    /// The signed zip: `export.bin` and `export.sig`.
    pub fn build_zip(&self, signer: &SigningKey) -> Result<Vec<u8>, Error> {
        archive::write(
            &self.export_bin(signer),
            signer,
            self.batch_num,
            self.batch_size,
        )
    }
}

pub(crate) fn signature_info(signer: &SigningKey) -> proto::SignatureInfo {
    proto::SignatureInfo {
        verification_key_version: Some(signer.version.clone()),
        verification_key_id: Some(signer.key_id.clone()),
        signature_algorithm: Some(ECDSA_SHA256_OID.to_owned()),
    }
}

#[cfg(test)]
mod tests;
