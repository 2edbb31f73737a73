//! Warning packages: the hourly list of encrypted check-ins of confirmed cases, as Corona-Warn-App
//! publishes it: a `TraceWarningPackage` protobuf (`trace_warning.proto`: the hour since the epoch, the
//! region, `checkInProtectedReports`) as `export.bin`, without the 16-byte header of key exports
//! (cwa-server, `CheckInProtectedReportsExportFile.java`), signed in the same zip as key exports
//! (`export.sig`, ECDSA P-256; see [`crate::export`]).
//!
//! The server builds them with [`WarningPackageBuilder`]; phones read them with [`WarningPackage`]:
//! sizes are capped before anything is decompressed, the framing of every field is checked once, and only
//! a [`VerifiedWarningPackage`] hands out its reports, one at a time as they are reached (a package of
//! 100,000 reports is never turned into 100,000 structs). A bad report is a counted skip, never a panic.

use prost::encoding::{decode_key, decode_varint, WireType};
use prost::Message;

use super::proto;
use super::report::{ProtectedReport, ReportSkip};
use crate::error::{CheckInError, Error};
use crate::export::signing::{SigningKey, VerificationKey};
use crate::export::{archive, SignatureInfo};

/// The largest `export.bin` of a warning package: about 300,000 encrypted check-ins in one hour.
pub const MAX_PACKAGE_BIN_BYTES: u64 = 32 << 20;

/// The largest warning-package zip.
pub const MAX_PACKAGE_ZIP_BYTES: u64 = 40 << 20;

/// The longest region code accepted.
const MAX_REGION_BYTES: usize = 16;

/// `TraceWarningPackage` field numbers (`trace_warning.proto`).
const FIELD_INTERVAL: u32 = 1;
const FIELD_REGION: u32 = 2;
const FIELD_REPORT: u32 = 4;

/// Builds and signs a warning package (the server's side).
#[derive(Debug, Clone, Default)]
pub struct WarningPackageBuilder {
    /// Hours since the UNIX epoch of the package.
    pub interval_number: u32,
    /// Region code.
    pub region: String,
    /// The encrypted check-ins (real ones and fakes), in the order they are written.
    pub reports: Vec<ProtectedReport>,
}

impl WarningPackageBuilder {
    /// `export.bin`: the `TraceWarningPackage` protobuf.
    pub fn package_bin(&self) -> Vec<u8> {
        proto::TraceWarningPackage {
            interval_number: self.interval_number,
            region: self.region.clone(),
            check_in_protected_reports: self.reports.iter().map(Into::into).collect(),
        }
        .encode_to_vec()
    }

    /// The signed zip: `export.bin` and `export.sig`.
    pub fn build_zip(&self, signer: &SigningKey) -> Result<Vec<u8>, Error> {
        zip_signed_bin(&self.package_bin(), signer)
    }
}

/// The signed zip of a `TraceWarningPackage` encoded elsewhere (a server that writes its reports into
/// the protobuf as it reads them, or a fuzzer).
pub fn zip_signed_bin(bin: &[u8], signer: &SigningKey) -> Result<Vec<u8>, Error> {
    archive::write(bin, signer, 1, 1)
}

/// What a package says besides its reports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PackageHeader {
    /// Hours since the UNIX epoch.
    pub interval_number: u32,
    /// The region.
    pub region: String,
    /// Reports in the package (valid or not).
    pub report_count: usize,
}

/// A parsed warning package whose signature has not been checked yet.
#[derive(Debug, Clone)]
pub struct WarningPackage {
    signed: archive::SignedBin,
    header: PackageHeader,
}

fn malformed(reason: impl Into<String>) -> Error {
    CheckInError::WarningPackage(reason.into()).into()
}

/// The archive reports its own problems as export errors; here they are a warning package's.
fn as_package_error(e: Error) -> Error {
    match e {
        Error::Export(reason) => malformed(reason),
        other => other,
    }
}

impl WarningPackage {
    /// Reads a package zip held in memory, within the size caps.
    pub fn from_zip_bytes(zip: &[u8]) -> Result<Self, Error> {
        archive::read_bytes(zip, MAX_PACKAGE_ZIP_BYTES, MAX_PACKAGE_BIN_BYTES)
            .and_then(Self::from_signed)
            .map_err(as_package_error)
    }

    /// Reads a package zip from a file, within the size caps.
    pub fn from_zip_file(path: &std::path::Path) -> Result<Self, Error> {
        archive::read_file(path, MAX_PACKAGE_ZIP_BYTES, MAX_PACKAGE_BIN_BYTES)
            .and_then(Self::from_signed)
            .map_err(as_package_error)
    }

    fn from_signed(signed: archive::SignedBin) -> Result<Self, Error> {
        let header = scan(&signed.bin)?;
        Ok(Self { signed, header })
    }

    /// The package's header.
    pub fn header(&self) -> &PackageHeader {
        &self.header
    }

    /// SHA-256 of `export.bin`: identifies the package, to process it only once.
    pub fn digest(&self) -> [u8; 32] {
        self.signed.digest()
    }

    /// Checks the signature against the configured `keys`; only a verified package gives its reports.
    pub fn verify(self, keys: &[VerificationKey]) -> Result<VerifiedWarningPackage, Error> {
        let signed_by =
            archive::require_valid(self.signed.signature_status(keys), "the warning package")?;
        Ok(VerifiedWarningPackage {
            package: self,
            signed_by,
        })
    }
}

/// A warning package whose signature a configured key verified.
#[derive(Debug, Clone)]
pub struct VerifiedWarningPackage {
    package: WarningPackage,
    signed_by: SignatureInfo,
}

impl VerifiedWarningPackage {
    /// The package.
    pub fn package(&self) -> &WarningPackage {
        &self.package
    }

    /// The key that signed it.
    pub fn signed_by(&self) -> &SignatureInfo {
        &self.signed_by
    }

    /// Every report, in file order, decoded as it is reached, or why it is skipped.
    pub fn reports(&self) -> impl Iterator<Item = Result<ProtectedReport, ReportSkip>> + '_ {
        // scan() checked the framing, so the field walk cannot fail here.
        Fields(&self.package.signed.bin)
            .filter_map(Result::ok)
            .filter(|(tag, wire, _)| *tag == FIELD_REPORT && *wire == WireType::LengthDelimited)
            .map(|(.., value)| {
                proto::CheckInProtectedReport::decode(value)
                    .map_err(|_| ReportSkip::Malformed)
                    .and_then(ProtectedReport::try_from)
            })
    }
}

/// Walks the top-level fields of a protobuf: (tag, wire type, value bytes).
struct Fields<'a>(&'a [u8]);

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, WireType, &'a [u8]), String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let field = next_field(&mut self.0);
        if field.is_err() {
            self.0 = &[];
        }
        Some(field)
    }
}

fn next_field<'a>(buf: &mut &'a [u8]) -> Result<(u32, WireType, &'a [u8]), String> {
    let (tag, wire) = decode_key(buf).map_err(|e| format!("export.bin is not protobuf: {e}"))?;
    let len = match wire {
        WireType::LengthDelimited => decode_varint(buf)
            .ok()
            .and_then(|l| usize::try_from(l).ok())
            .ok_or("export.bin has a damaged field length")?,
        WireType::Varint => {
            let before = *buf;
            decode_varint(buf).map_err(|e| format!("export.bin has a damaged number: {e}"))?;
            return Ok((tag, wire, &before[..before.len() - buf.len()]));
        }
        WireType::SixtyFourBit => 8,
        WireType::ThirtyTwoBit => 4,
        _ => return Err("export.bin uses deprecated protobuf groups".into()),
    };
    let (value, rest) = buf
        .split_at_checked(len)
        .ok_or("export.bin ends in the middle of a field")?;
    *buf = rest;
    Ok((tag, wire, value))
}

/// One pass over `export.bin`: checks the framing of every field, reads the header, counts reports.
fn scan(bin: &[u8]) -> Result<PackageHeader, Error> {
    let mut header = PackageHeader::default();
    for field in Fields(bin) {
        let (tag, wire, value) = field.map_err(malformed)?;
        match (tag, wire) {
            (FIELD_REPORT, WireType::LengthDelimited) => header.report_count += 1,
            (FIELD_INTERVAL, WireType::Varint) => {
                let v = decode_varint(&mut &value[..]).map_err(|e| malformed(e.to_string()))?;
                header.interval_number = u32::try_from(v).map_err(|_| {
                    malformed(format!("the package's hour {v} is not a 32-bit number"))
                })?;
            }
            (FIELD_REGION, WireType::LengthDelimited) => {
                if value.len() > MAX_REGION_BYTES {
                    return Err(malformed(format!(
                        "the region is {} bytes, at most {MAX_REGION_BYTES} are accepted",
                        value.len()
                    )));
                }
                header.region = String::from_utf8(value.to_vec())
                    .map_err(|_| malformed("the region is not UTF-8"))?;
            }
            // Unknown fields, and CWA's deprecated plaintext warnings (field 3), are skipped.
            _ => {}
        }
    }
    Ok(header)
}

#[cfg(test)]
mod tests;
