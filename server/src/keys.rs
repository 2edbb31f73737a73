//! The server's own secrets, kept in its data directory: the export-signing key, the upload sealing key
//! and the admin token. Generated on first start, each written once with mode 0600.

use std::io::Write;
use std::path::Path;

use base64::Engine as _;
use openzone_core::export::signing::SigningKey;
use openzone_core::keyserver::seal::SealingSecret;
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{Result, ServerError};

/// The export-signing private key (PKCS#8 PEM).
pub const SIGNING_KEY_FILE: &str = "export-signing-key.pem";
/// The upload sealing private key (64 hex characters).
pub const SEALING_KEY_FILE: &str = "upload-sealing-key";
/// The officers' admin token.
pub const ADMIN_TOKEN_FILE: &str = "admin-token";

/// The secrets of one server.
pub(crate) struct Secrets {
    pub signer: SigningKey,
    pub sealing: SealingSecret,
    pub admin_token: String,
}

/// Loads the secrets from `dir`, generating whichever is missing.
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
    let sealing_path = dir.join(SEALING_KEY_FILE);
    let sealing = match read_optional(&sealing_path)? {
        Some(text) => {
            let bytes: [u8; 32] = hex::decode(text.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| {
                    ServerError::Config(format!(
                        "{} must hold 64 hex characters; restore it from a backup (phones seal to its public key)",
                        sealing_path.display()
                    ))
                })?;
            SealingSecret::from_bytes(bytes)
        }
        None => {
            let secret = SealingSecret::generate()?;
            write_secret(&sealing_path, hex::encode(secret.to_bytes()).as_bytes())?;
            secret
        }
    };
    let token_path = dir.join(ADMIN_TOKEN_FILE);
    let admin_token = match read_optional(&token_path)? {
        Some(token) if token.trim().len() >= 16 => token.trim().to_owned(),
        Some(_) => {
            return Err(ServerError::Config(format!(
                "{} holds a token shorter than 16 characters; write a longer one or delete the file to get a new one",
                token_path.display()
            )))
        }
        None => {
            let mut bytes = [0u8; 32];
            SystemRandom::new()
                .fill(&mut bytes)
                .map_err(|_| ServerError::Core(openzone_core::Error::Random))?;
            let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
            write_secret(&token_path, format!("{token}\n").as_bytes())?;
            token
        }
    };
    Ok(Secrets {
        signer,
        sealing,
        admin_token,
    })
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ServerError::File {
            path: path.to_path_buf(),
            source,
        }),
    }
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

    #[test]
    fn secrets_are_generated_once_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_generate(dir.path(), "452", "v1").unwrap();
        let again = load_or_generate(dir.path(), "452", "v1").unwrap();
        assert_eq!(first.admin_token, again.admin_token);
        assert!(first.admin_token.len() >= 40);
        assert_eq!(first.sealing.public_key(), again.sealing.public_key());
        assert_eq!(
            first.signer.verification_key(),
            again.signer.verification_key()
        );
        #[cfg(unix)]
        for file in [SIGNING_KEY_FILE, SEALING_KEY_FILE, ADMIN_TOKEN_FILE] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
        std::fs::write(dir.path().join(SEALING_KEY_FILE), "not hex").unwrap();
        assert!(matches!(
            load_or_generate(dir.path(), "452", "v1"),
            Err(ServerError::Config(_))
        ));
    }
}
