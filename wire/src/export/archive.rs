//! The signed zip that published keys and presence-tracing warnings both travel in: `export.bin` and
//! `export.sig`, a `TEKSignatureList` of DER ECDSA P-256 signatures over the whole `export.bin`.
//!
//! Google's export format defines it for keys; Corona-Warn-App signs its hourly trace-warning packages
//! the same way (cwa-server, `services/distribution/.../tracewarnings/structure/directory/v2/
//! TraceTimeIntervalWarningsHourV2Directory.java` wraps the package in an archive decorated by the same
//! `DistributionArchiveSigningDecorator` as key exports).
//!
//! The zip is untrusted: its entry count is checked before the zip reader allocates anything, and every
//! entry is read through a cap whatever size it declares (a zip bomb stops at the cap).

use std::io::{Read, Seek};

use prost::Message;

use super::proto;
use super::signing::{SigningKey, VerificationKey, ECDSA_SHA256_OID};
use super::{signature_info, SignatureInfo, SignatureStatus, MAX_SIGNATURE_BYTES, MAX_ZIP_ENTRIES};
use crate::error::Error;

fn malformed(what: impl Into<String>) -> Error {
    Error::Export(what.into())
}

/// `export.bin` with the signatures `export.sig` lists, not yet checked.
#[derive(Clone)]
pub(crate) struct SignedBin {
    pub(crate) bin: Vec<u8>,
    pub(crate) signatures: Vec<(SignatureInfo, Vec<u8>)>,
}

impl std::fmt::Debug for SignedBin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SignedBin({} bytes, {} signatures)",
            self.bin.len(),
            self.signatures.len()
        )
    }
}

impl SignedBin {
    /// From `export.bin` and the bytes of `export.sig`.
    pub(crate) fn from_parts(bin: Vec<u8>, sig: &[u8]) -> Result<Self, Error> {
        Ok(Self {
            bin,
            signatures: signatures_of(sig)?,
        })
    }

    /// SHA-256 of `export.bin`: identifies the export or package, to process it only once.
    pub(crate) fn digest(&self) -> [u8; 32] {
        crate::checkin::venue::sha256(&[&self.bin])
    }

    /// How the signatures over `bin` check out against the configured `keys` (chosen by key id and
    /// version).
    pub(crate) fn signature_status(&self, keys: &[VerificationKey]) -> SignatureStatus {
        signature_status(&self.signatures, keys, |key, signature| {
            key.verifies(&self.bin, signature)
        })
    }
}

/// The signatures `export.sig` (a `TEKSignatureList`) lists.
pub(crate) fn signatures_of(sig: &[u8]) -> Result<Vec<(SignatureInfo, Vec<u8>)>, Error> {
    let list = proto::TekSignatureList::decode(sig)
        .map_err(|e| malformed(format!("export.sig is not a signature list: {e}")))?;
    Ok(list
        .signatures
        .into_iter()
        .filter_map(|s| Some((s.signature_info.unwrap_or_default().into(), s.signature?)))
        .collect())
}

/// How `signatures` check out against the configured `keys` (chosen by key id and version), `verifies`
/// telling whether a key made a signature over the signed bytes.
pub(crate) fn signature_status(
    signatures: &[(SignatureInfo, Vec<u8>)],
    keys: &[VerificationKey],
    verifies: impl Fn(&VerificationKey, &[u8]) -> bool,
) -> SignatureStatus {
    if signatures.is_empty() {
        return SignatureStatus::Missing;
    }
    let mut named_invalid = None;
    for (info, signature) in signatures {
        for key in keys
            .iter()
            .filter(|k| k.key_id == info.key_id && k.version == info.version)
        {
            let known_algorithm = info.algorithm.is_empty() || info.algorithm == ECDSA_SHA256_OID;
            if known_algorithm && verifies(key, signature) {
                return SignatureStatus::Valid(info.clone());
            }
            named_invalid = Some(info.clone());
        }
    }
    match named_invalid {
        Some(info) => SignatureStatus::Invalid(info),
        None => SignatureStatus::UnknownKey(signatures.iter().map(|(i, _)| i.clone()).collect()),
    }
}

/// Reads a signed zip from a file of at most `zip_cap` bytes, with `export.bin` at most `bin_cap`.
pub(crate) fn read_file(
    path: &std::path::Path,
    zip_cap: u64,
    bin_cap: u64,
) -> Result<SignedBin, Error> {
    read(open_file(path, zip_cap)?, bin_cap)
}

/// Opens a signed zip in a file of at most `zip_cap` bytes: its directory is read, no entry yet.
pub(crate) fn open_file(
    path: &std::path::Path,
    zip_cap: u64,
) -> Result<zip::ZipArchive<std::io::BufReader<std::fs::File>>, Error> {
    let file = std::fs::File::open(path).map_err(|source| Error::File {
        path: path.to_path_buf(),
        source,
    })?;
    open(std::io::BufReader::new(file), zip_cap)
}

/// Reads a signed zip held in memory.
pub(crate) fn read_bytes(zip: &[u8], zip_cap: u64, bin_cap: u64) -> Result<SignedBin, Error> {
    read(open(std::io::Cursor::new(zip), zip_cap)?, bin_cap)
}

fn read<R: Read + Seek>(mut archive: zip::ZipArchive<R>, bin_cap: u64) -> Result<SignedBin, Error> {
    let bin = read_entry(&mut archive, "export.bin", bin_cap)?;
    let sig = read_entry(&mut archive, "export.sig", MAX_SIGNATURE_BYTES)?;
    SignedBin::from_parts(bin, &sig)
}

/// Opens a signed zip of at most `zip_cap` bytes, whether in a file or in memory, after checking how
/// many entries it lists: its directory is read, no entry yet.
pub(crate) fn open<R: Read + Seek>(
    mut reader: R,
    zip_cap: u64,
) -> Result<zip::ZipArchive<R>, Error> {
    check_zip_size(&mut reader, zip_cap)?;
    let archive = zip::ZipArchive::new(reader)
        .map_err(|e| malformed(format!("not a readable zip file: {e}")))?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(malformed(format!(
            "the zip lists {} entries; a signed archive has 2",
            archive.len()
        )));
    }
    Ok(archive)
}

/// Refuses a zip longer than `zip_cap`, and reads its end-of-central-directory record to refuse archives
/// that list too many entries before the zip reader allocates anything for them.
fn check_zip_size<R: Read + Seek>(reader: &mut R, zip_cap: u64) -> Result<(), Error> {
    let len = reader
        .seek(std::io::SeekFrom::End(0))
        .map_err(|e| malformed(format!("cannot read the zip: {e}")))?;
    if len > zip_cap {
        return Err(malformed(format!(
            "the zip is {len} bytes; at most {zip_cap} are accepted"
        )));
    }
    let tail_len = len.min(22 + 65_535);
    reader
        .seek(std::io::SeekFrom::Start(len - tail_len))
        .map_err(|e| malformed(format!("cannot read the zip: {e}")))?;
    let mut tail = vec![0u8; tail_len as usize];
    reader
        .read_exact(&mut tail)
        .map_err(|e| malformed(format!("cannot read the zip: {e}")))?;
    reader
        .seek(std::io::SeekFrom::Start(0))
        .map_err(|e| malformed(format!("cannot read the zip: {e}")))?;
    let eocd = tail
        .windows(4)
        .rposition(|w| w == [0x50, 0x4b, 0x05, 0x06])
        .ok_or_else(|| malformed("not a zip file (no end of central directory)"))?;
    let entries = tail
        .get(eocd + 10..eocd + 12)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .ok_or_else(|| malformed("the zip's directory record is truncated"))?;
    if usize::from(entries) > MAX_ZIP_ENTRIES {
        return Err(malformed(format!(
            "the zip lists {entries} entries; a signed archive has 2"
        )));
    }
    Ok(())
}

/// Reads the entry `name` whole, at most `cap` bytes.
pub(crate) fn read_entry<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
    name: &str,
    cap: u64,
) -> Result<Vec<u8>, Error> {
    let (mut entry, size) = entry_reader(archive, name, cap)?;
    let mut out = Vec::with_capacity(size as usize);
    entry
        .read_to_end(&mut out)
        .map_err(|e| decompress_error(name, e))?;
    if out.len() as u64 > cap {
        return Err(too_large(name, cap));
    }
    Ok(out)
}

/// The entry `name` to read, with the size it declares (at most `cap`). The reader stops one byte past
/// the cap whatever the entry declares (a zip bomb's size lies): more than `cap` bytes read is
/// [`too_large`].
pub(crate) fn entry_reader<'a, R: Read + Seek>(
    archive: &'a mut zip::ZipArchive<R>,
    name: &str,
    cap: u64,
) -> Result<(impl Read + 'a, u64), Error> {
    let entry = archive
        .by_name(name)
        .map_err(|_| malformed(format!("the zip has no {name}")))?;
    let size = entry.size();
    if size > cap {
        return Err(malformed(format!(
            "{name} would be {size} bytes; at most {cap} are accepted"
        )));
    }
    Ok((entry.take(cap + 1), size))
}

/// The error of an entry that does not decompress.
pub(crate) fn decompress_error(name: &str, e: std::io::Error) -> Error {
    malformed(format!("{name} cannot be decompressed: {e}"))
}

/// The error of an entry that turned out larger than `cap`.
pub(crate) fn too_large(name: &str, cap: u64) -> Error {
    malformed(format!("{name} is larger than {cap} bytes"))
}

/// The key that signed `what`, or why it is not trusted.
pub(crate) fn require_valid(status: SignatureStatus, what: &str) -> Result<SignatureInfo, Error> {
    match status {
        SignatureStatus::Valid(signed_by) => Ok(signed_by),
        SignatureStatus::Missing => Err(Error::Signature(format!("{what} carries no signature"))),
        SignatureStatus::UnknownKey(infos) => Err(Error::Signature(format!(
            "{what} is signed with key {}, which is not configured",
            infos
                .iter()
                .map(|i| format!("{}/{}", i.key_id, i.version))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        SignatureStatus::Invalid(info) => Err(Error::Signature(format!(
            "the signature by key {}/{} over {what} does not verify: the file was altered, or the \
             configured key is not the one that signed it",
            info.key_id, info.version
        ))),
    }
}

/// The signed zip of `bin`.
pub(crate) fn write(
    bin: &[u8],
    signer: &SigningKey,
    batch_num: i32,
    batch_size: i32,
) -> Result<Vec<u8>, Error> {
    let sig = proto::TekSignatureList {
        signatures: vec![proto::TekSignature {
            signature_info: Some(signature_info(signer)),
            batch_num: Some(batch_num),
            batch_size: Some(batch_size),
            signature: Some(signer.sign(bin)?),
        }],
    }
    .encode_to_vec();
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for (name, data) in [("export.bin", bin), ("export.sig", &sig)] {
        zip.start_file(name, options)
            .and_then(|()| std::io::Write::write_all(&mut zip, data).map_err(Into::into))
            .map_err(|e| malformed(format!("cannot write the zip: {e}")))?;
    }
    zip.finish()
        .map_err(|e| malformed(format!("cannot write the zip: {e}")))?;
    Ok(out.into_inner())
}
