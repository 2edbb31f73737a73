//! An export zip read without holding `export.bin` inflated, from a file or from the zip's bytes in memory
//! alike (the same size caps for both): the zip's directory and `export.sig` are read first, then
//! `export.bin` streams out of the zip once, through SHA-256 and the walker of its top-level fields, a few
//! megabytes at a time. Its runs of keys are handed on as they are read, before the signature can be checked
//! (it covers the whole file): whoever takes them must not act on what they find until
//! [`StreamedExport::verify`] succeeds.
//!
//! The SHA-256 is computed once, and both checks the signature (over the digest) and names the batch.

use std::io::{BufReader, Cursor, Read, Seek};

use ring::digest;

use super::archive;
use super::signing::VerificationKey;
use super::{
    bin_body_start, BinScan, ExportHeader, KeyChunk, SignatureInfo, MAX_EXPORT_BIN_BYTES,
    MAX_SIGNATURE_BYTES, MAX_ZIP_BYTES,
};
use crate::error::Error;

/// Bytes of `export.bin` read at a time: the most held besides the unfinished chunk of keys.
pub(super) const READ_BYTES: usize = 4 << 20;

/// An export zip opened for streaming, from a file (`R` by default) or from memory: its directory and
/// signatures read, `export.bin` not yet.
pub struct ExportFile<R = BufReader<std::fs::File>> {
    archive: zip::ZipArchive<R>,
    signatures: Vec<(SignatureInfo, Vec<u8>)>,
}

impl<R> std::fmt::Debug for ExportFile<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExportFile({} signatures)", self.signatures.len())
    }
}

impl ExportFile {
    /// Opens an export zip file, within the size caps, and reads its `export.sig`.
    pub fn open(path: &std::path::Path) -> Result<Self, Error> {
        Self::from_archive(archive::open_file(path, MAX_ZIP_BYTES)?)
    }
}

impl ExportFile<Cursor<Vec<u8>>> {
    /// Opens an export zip held in memory (as downloaded), within the same size caps as a file, and
    /// reads its `export.sig`.
    pub fn from_zip_bytes(zip: Vec<u8>) -> Result<Self, Error> {
        Self::from_archive(archive::open(Cursor::new(zip), MAX_ZIP_BYTES)?)
    }
}

impl<R: Read + Seek> ExportFile<R> {
    fn from_archive(mut archive: zip::ZipArchive<R>) -> Result<Self, Error> {
        let sig = archive::read_entry(&mut archive, "export.sig", MAX_SIGNATURE_BYTES)?;
        Ok(Self {
            archive,
            signatures: archive::signatures_of(&sig)?,
        })
    }

    /// Reads `export.bin` once, handing every few megabytes' runs of keys to `on_keys` (in file order;
    /// the same runs [`VerifiedExport::key_chunks`](super::VerifiedExport::key_chunks) gives). The keys
    /// are not verified yet: see the module's documentation.
    pub fn stream(
        mut self,
        mut on_keys: impl FnMut(&[KeyChunk<'_>]),
    ) -> Result<StreamedExport, Error> {
        const NAME: &str = "export.bin";
        let (mut reader, _) = archive::entry_reader(&mut self.archive, NAME, MAX_EXPORT_BIN_BYTES)?;
        let mut hash = digest::Context::new(&digest::SHA256);
        let mut read = 0u64;
        let mut buf = Vec::new();
        let mut scan = BinScan::default();
        let mut from = None;
        let mut ranges = Vec::new();
        loop {
            let more = fill(&mut reader, &mut buf, &mut hash, &mut read)?;
            if read > MAX_EXPORT_BIN_BYTES {
                return Err(archive::too_large(NAME, MAX_EXPORT_BIN_BYTES));
            }
            let start = match from {
                Some(from) => from,
                None => bin_body_start(&buf)?,
            };
            let stop = scan.scan(&buf, start, more, &mut ranges)?;
            let chunks: Vec<KeyChunk<'_>> = ranges.drain(..).map(|r| KeyChunk(&buf[r])).collect();
            if !chunks.is_empty() {
                on_keys(&chunks);
            }
            if !more {
                break;
            }
            // Keep the unfinished chunk of keys, or the field cut short, for the next read.
            let keep = scan.chunk_start.unwrap_or(stop);
            buf.drain(..keep);
            scan.dropped_front(keep);
            from = Some(stop - keep);
        }
        let mut digest = [0u8; 32];
        digest.copy_from_slice(hash.finish().as_ref());
        Ok(StreamedExport {
            header: scan.header,
            digest,
            signatures: self.signatures,
        })
    }
}

/// Appends up to [`READ_BYTES`] from `reader` to `buf`, hashing and counting them; whether the stream
/// may go on (false once it ended).
fn fill(
    reader: &mut impl Read,
    buf: &mut Vec<u8>,
    hash: &mut digest::Context,
    read: &mut u64,
) -> Result<bool, Error> {
    let start = buf.len();
    buf.resize(start + READ_BYTES, 0);
    let mut end = start;
    while end < buf.len() {
        match reader.read(&mut buf[end..]) {
            Ok(0) => break,
            Ok(n) => end += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(archive::decompress_error("export.bin", e)),
        }
    }
    let more = end == buf.len();
    buf.truncate(end);
    hash.update(&buf[start..]);
    *read += (end - start) as u64;
    Ok(more)
}

/// An export read whole from its zip: its header, its SHA-256 and its signatures, the keys gone.
#[derive(Debug)]
pub struct StreamedExport {
    header: ExportHeader,
    digest: [u8; 32],
    signatures: Vec<(SignatureInfo, Vec<u8>)>,
}

impl StreamedExport {
    /// The export's header.
    pub fn header(&self) -> &ExportHeader {
        &self.header
    }

    /// SHA-256 of `export.bin`: identifies the batch, to process it only once.
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    /// Checks the signature against the configured `keys` (chosen by the signature's key id and
    /// version), as [`Export::verify`](super::Export::verify) does; returns the key that signed it.
    pub fn verify(&self, keys: &[VerificationKey]) -> Result<SignatureInfo, Error> {
        let status = archive::signature_status(&self.signatures, keys, |key, signature| {
            key.verifies_digest(&self.digest, signature)
        });
        archive::require_valid(status, "the export")
    }
}
