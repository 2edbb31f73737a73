//! The server's own secrets, kept in its data directory: the export-signing key, the upload sealing keys
//! (the current one and, after a rotation, the previous one) and the key codes are stored under (their
//! HMAC). Generated on first start, each written once with mode 0600.
//!
//! Replicas sharing a PostgreSQL database share these secrets through it ([`load_shared`]): the
//! database's copy wins, a replica's data directory holds a copy, and the first replica to start
//! stores its own (an existing data directory's, or freshly generated ones).
//!
//! Rotating the sealing key ([`rotate_sealing_key`], `openzone sealing-key rotate`, server stopped): the
//! current key becomes the previous one, which keeps opening uploads, and a new current key is made,
//! which `/v1/config` announces from then on. The key that was previous before is gone. Apps pin the
//! current key, and during the overlap the next one too (`docs/keyserver.md`).

use std::io::Write;
use std::path::Path;

use openzone_wire::export::signing::SigningKey;
use openzone_wire::keyserver::seal::{SealingPublicKey, SealingSecret};
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{Result, ServerError};
use crate::storage::{Change, Committed, Storage, SECRETS};

/// The export-signing private key (PKCS#8 PEM).
pub const SIGNING_KEY_FILE: &str = "export-signing-key.pem";
/// The current upload sealing private key (64 hex characters).
pub const SEALING_KEY_FILE: &str = "upload-sealing-key";
/// The previous upload sealing private key, kept after a rotation (64 hex characters).
pub const PREVIOUS_SEALING_KEY_FILE: &str = "upload-sealing-key.previous";
/// The key codes are stored under, as HMAC-SHA256 (64 hex characters).
pub const CODE_KEY_FILE: &str = "code-hmac-key";
/// The shared admin token of earlier versions, which becomes the officer account `admin` once
/// (`officers::migrate_admin_token`).
pub const ADMIN_TOKEN_FILE: &str = "admin-token";

/// The keys that open sealed uploads.
pub(crate) struct SealingKeys {
    pub current: SealingSecret,
    pub previous: Option<SealingSecret>,
}

impl SealingKeys {
    /// Opens a sealed body with the current key, or else the previous one.
    pub fn open(&self, body: &[u8]) -> Result<Vec<u8>, openzone_wire::Error> {
        match (self.current.open(body), &self.previous) {
            (Ok(plain), _) => Ok(plain),
            (Err(e), None) => Err(e),
            // The previous key's answer only matters if it opens: otherwise the current key's error
            // (truncated, wrong version, another key) is the one to report.
            (Err(e), Some(previous)) => previous.open(body).map_err(|_| e),
        }
    }

    /// The key `/v1/config` announces.
    pub fn public_key(&self) -> SealingPublicKey {
        self.current.public_key()
    }
}

/// The secrets of one server.
pub(crate) struct Secrets {
    pub signer: SigningKey,
    pub sealing: SealingKeys,
    pub code_key: ring::hmac::Key,
}

/// Loads the secrets from `dir`, generating whichever is missing (never the previous sealing key).
pub(crate) fn load_or_generate(dir: &Path, key_id: &str, version: &str) -> Result<Secrets> {
    let signing_path = dir.join(SIGNING_KEY_FILE);
    let signer = match read_optional(&signing_path)? {
        Some(pem) => SigningKey::from_pem(key_id, version, &pem)?,
        None => {
            let (signer, pem) = SigningKey::generate(key_id, version)?;
            write_secret(&signing_path, pem.as_bytes())?;
            signer
        }
    };
    let current = match read_key_32(dir, SEALING_KEY_FILE)? {
        Some(bytes) => SealingSecret::from_bytes(bytes),
        None => {
            let secret = SealingSecret::generate()?;
            write_secret(
                &dir.join(SEALING_KEY_FILE),
                hex::encode(secret.to_bytes()).as_bytes(),
            )?;
            secret
        }
    };
    let previous = read_key_32(dir, PREVIOUS_SEALING_KEY_FILE)?.map(SealingSecret::from_bytes);
    let code_key = match read_key_32(dir, CODE_KEY_FILE)? {
        Some(bytes) => bytes,
        None => {
            let bytes = random_32()?;
            write_secret(&dir.join(CODE_KEY_FILE), hex::encode(bytes).as_bytes())?;
            bytes
        }
    };
    Ok(Secrets {
        signer,
        sealing: SealingKeys { current, previous },
        code_key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &code_key),
    })
}

/// The secret files replicas share through the database.
const SHARED_FILES: [&str; 4] = [
    SIGNING_KEY_FILE,
    SEALING_KEY_FILE,
    PREVIOUS_SEALING_KEY_FILE,
    CODE_KEY_FILE,
];

/// Loads the secrets replicas share: the database's copy of each wins and is written into `dir`; what
/// the database lacks comes from `dir` or is generated, and is stored for the other replicas (if two
/// replicas store at once, one's copy wins and the other takes it).
pub(crate) async fn load_shared(
    storage: &Storage,
    dir: &Path,
    key_id: &str,
    version: &str,
) -> Result<Secrets> {
    copy_from_database(storage, dir).await?;
    load_or_generate(dir, key_id, version)?;
    for name in SHARED_FILES {
        let Some(text) = read_optional(&dir.join(name))? else {
            continue;
        };
        let mut change = Change::default();
        change.expect(SECRETS, name.as_bytes(), None);
        change.put(SECRETS, name.as_bytes(), text.into_bytes());
        // A conflict: the record exists (another replica's, or this one's from before).
        let _: Committed = storage.commit(change).await?;
    }
    copy_from_database(storage, dir).await?;
    load_or_generate(dir, key_id, version)
}

/// Writes the database's copy of each shared secret into `dir` where it differs.
async fn copy_from_database(storage: &Storage, dir: &Path) -> Result<()> {
    for name in SHARED_FILES {
        if let Some(bytes) = storage.get(SECRETS, name.as_bytes()).await? {
            let path = dir.join(name);
            if read_optional(&path)?.map(String::into_bytes) != Some(bytes.clone()) {
                write_secret(&path, &bytes)?;
            }
        }
    }
    Ok(())
}

/// The code key of the data directory `dir`, if the server has made one.
pub(crate) fn read_code_key(dir: &Path) -> Result<Option<ring::hmac::Key>> {
    Ok(read_key_32(dir, CODE_KEY_FILE)?.map(|k| ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &k)))
}

/// The code key replicas share, if a server has stored one in the database.
pub(crate) async fn shared_code_key(storage: &Storage) -> Result<Option<ring::hmac::Key>> {
    let Some(bytes) = storage.get(SECRETS, CODE_KEY_FILE.as_bytes()).await? else {
        return Ok(None);
    };
    parse_key_32(&String::from_utf8_lossy(&bytes))
        .map(|k| Some(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &k)))
        .ok_or_else(|| {
            ServerError::Database(format!(
                "the database's {CODE_KEY_FILE} is not 64 hex characters; restore it from a backup"
            ))
        })
}

/// Rotates the upload sealing key in the data directory `dir` of a stopped server: the current key
/// becomes the previous one (replacing an older previous key) and a new current key is made. Returns
/// the new public key, which the next app release pins.
pub fn rotate_sealing_key(dir: &Path) -> Result<SealingPublicKey> {
    let Some(current) = read_key_32(dir, SEALING_KEY_FILE)? else {
        return Err(ServerError::Config(format!(
            "{} has no {SEALING_KEY_FILE} to rotate; start the server once to create it",
            dir.display()
        )));
    };
    // Previous first: a crash in between leaves current == previous, which opens the same uploads.
    write_secret(
        &dir.join(PREVIOUS_SEALING_KEY_FILE),
        hex::encode(current).as_bytes(),
    )?;
    let next = SealingSecret::generate()?;
    write_secret(
        &dir.join(SEALING_KEY_FILE),
        hex::encode(next.to_bytes()).as_bytes(),
    )?;
    Ok(next.public_key())
}

/// Rotates the upload sealing key replicas share in the PostgreSQL database at `database`, as
/// [`rotate_sealing_key`] does in a data directory: the current key becomes the previous one, a new one
/// is made, both in one transaction. Each replica takes them up when it restarts.
pub async fn rotate_shared_sealing_key(database: &str) -> Result<SealingPublicKey> {
    let storage = Storage::connect(database).await?;
    let Some(current) = storage.get(SECRETS, SEALING_KEY_FILE.as_bytes()).await? else {
        return Err(ServerError::Config(format!(
            "the database has no {SEALING_KEY_FILE} to rotate; start a server on it once to create it"
        )));
    };
    let next = SealingSecret::generate()?;
    let mut change = Change::default();
    change.expect(SECRETS, SEALING_KEY_FILE, Some(current.clone()));
    change.put(SECRETS, PREVIOUS_SEALING_KEY_FILE, current);
    change.put(
        SECRETS,
        SEALING_KEY_FILE,
        hex::encode(next.to_bytes()).into_bytes(),
    );
    match storage.commit(change).await? {
        Committed::Yes => Ok(next.public_key()),
        Committed::Conflict => Err(ServerError::Config(
            "the sealing key was rotated by someone else at the same time; nothing was changed, run \
             the rotation again if another one is wanted"
                .into(),
        )),
    }
}

/// A 32-byte key stored as 64 hex characters in `dir/name`, if the file exists.
fn read_key_32(dir: &Path, name: &str) -> Result<Option<[u8; 32]>> {
    let path = dir.join(name);
    let Some(text) = read_optional(&path)? else {
        return Ok(None);
    };
    parse_key_32(&text).map(Some).ok_or_else(|| {
        ServerError::Config(format!(
            "{} must hold 64 hex characters; restore it from a backup",
            path.display()
        ))
    })
}

/// 32 bytes from 64 hex characters (surrounding white space allowed).
fn parse_key_32(text: &str) -> Option<[u8; 32]> {
    hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
}

pub(crate) fn read_optional(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ServerError::File {
            path: path.to_path_buf(),
            source,
        }),
    }
}

pub(crate) fn random_32() -> Result<[u8; 32]> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ServerError::Wire(openzone_wire::Error::Random))?;
    Ok(bytes)
}

/// Writes a secret readable by the owner only: a temporary file created with mode 0600, synced, then
/// renamed, so that a crash never leaves a half-written key behind.
fn write_secret(path: &Path, contents: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let io = |source| ServerError::File {
        path: tmp.clone(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp).map_err(io)?;
    file.write_all(contents).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|source| ServerError::File {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use openzone_wire::keyserver::seal::seal;

    #[test]
    fn secrets_are_generated_once_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_generate(dir.path(), "452", "v1").unwrap();
        let again = load_or_generate(dir.path(), "452", "v1").unwrap();
        assert_eq!(first.sealing.public_key(), again.sealing.public_key());
        assert!(first.sealing.previous.is_none());
        assert_eq!(
            ring::hmac::sign(&first.code_key, b"12345678").as_ref(),
            ring::hmac::sign(&again.code_key, b"12345678").as_ref()
        );
        assert_eq!(
            first.signer.verification_key(),
            again.signer.verification_key()
        );
        assert!(!dir.path().join(ADMIN_TOKEN_FILE).exists());
        #[cfg(unix)]
        for file in [SIGNING_KEY_FILE, SEALING_KEY_FILE, CODE_KEY_FILE] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
        for file in [SEALING_KEY_FILE, CODE_KEY_FILE] {
            let saved = std::fs::read(dir.path().join(file)).unwrap();
            std::fs::write(dir.path().join(file), "not hex").unwrap();
            assert!(matches!(
                load_or_generate(dir.path(), "452", "v1"),
                Err(ServerError::Config(_))
            ));
            std::fs::write(dir.path().join(file), saved).unwrap();
        }
    }

    #[test]
    fn a_rotation_keeps_the_previous_key_opening_and_retires_the_one_before() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            rotate_sealing_key(dir.path()),
            Err(ServerError::Config(_))
        ));
        let first = load_or_generate(dir.path(), "452", "v1").unwrap().sealing;
        let to_first = seal(&first.public_key(), b"first").unwrap();
        let second_public = rotate_sealing_key(dir.path()).unwrap();
        let second = load_or_generate(dir.path(), "452", "v1").unwrap().sealing;
        assert_eq!(second.public_key(), second_public);
        assert_ne!(second_public, first.public_key());
        assert_eq!(second.open(&to_first).unwrap(), b"first");
        let to_second = seal(&second_public, b"second").unwrap();
        assert_eq!(second.open(&to_second).unwrap(), b"second");
        rotate_sealing_key(dir.path()).unwrap();
        let third = load_or_generate(dir.path(), "452", "v1").unwrap().sealing;
        assert!(third.open(&to_first).is_err());
        assert_eq!(third.open(&to_second).unwrap(), b"second");
    }
}
