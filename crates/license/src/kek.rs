//! Private keys sealed with a key-encryption key (KEK) kept outside the database.
//!
//! Issuers' signing keys and the custodial wallet's holder keys are stored only wrapped: AES-256-GCM
//! under the KEK, with the key's own name (its `kid`, or the license it binds) as associated data,
//! so a wrapped key cannot be moved to another row either. A copy of the database alone signs
//! nothing. The KEK comes from a file readable by its owner only (made at first start) or from an
//! environment variable; [`KeyWrap`] is the interface an HSM or a KMS implements instead.
//!
//! Wrapped form: `kek1.<kek id>.<nonce>.<ciphertext>` (base64url), the KEK id being the first 8
//! hex digits of the KEK's SHA-256, so a key wrapped under another KEK is named as such.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rand::RngCore;
use sha2::{Digest, Sha256};
use shuju_types::{Error, Result};
use std::path::Path;

const PREFIX: &str = "kek1";

/// Wraps and unwraps private keys. Implemented by [`LocalKek`]; an HSM or a KMS implements it to
/// keep the KEK in hardware.
pub trait KeyWrap: Send + Sync + std::fmt::Debug {
    /// Which KEK this is (written into each wrapped key).
    fn id(&self) -> &str;
    /// Seal `secret`, bound to `name` (the key's id or the row it belongs to).
    fn wrap(&self, secret: &[u8], name: &str) -> Result<String>;
    /// Open a sealed key; refused when it was sealed under another KEK, for another name, or
    /// altered.
    fn unwrap(&self, wrapped: &str, name: &str) -> Result<Vec<u8>>;
}

/// Is this value a sealed key (rather than one written in clear by an older version)?
pub fn is_wrapped(v: &str) -> bool {
    v.starts_with(PREFIX) && v.split('.').count() == 4
}

/// A KEK held by this process: 32 random bytes from a file or the environment.
pub struct LocalKek {
    id: String,
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for LocalKek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKek").field("id", &self.id).finish()
    }
}

impl LocalKek {
    pub fn from_bytes(key: &[u8; 32]) -> LocalKek {
        LocalKek {
            id: hex::encode(&Sha256::digest(key)[..4]),
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    /// A fresh random KEK (tests, and the first start).
    pub fn random() -> LocalKek {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        LocalKek::from_bytes(&k)
    }

    /// A fresh random KEK written as [`LocalKek::parse`] reads it (64 hex digits).
    pub fn new_hex() -> String {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        hex::encode(k)
    }

    /// A KEK written as 64 hex digits or 43–44 base64 characters.
    pub fn parse(text: &str) -> Result<LocalKek> {
        let t = text.trim();
        let bytes = hex::decode(t)
            .ok()
            .or_else(|| B64.decode(t.trim_end_matches('=')).ok())
            .filter(|b| b.len() == 32)
            .ok_or_else(|| {
                Error::invalid(
                    "kek",
                    "the key-encryption key is 32 bytes, written as 64 hex digits or base64",
                )
            })?;
        let mut k = [0u8; 32];
        k.copy_from_slice(&bytes);
        Ok(LocalKek::from_bytes(&k))
    }

    /// The KEK in `path`; made (random, mode 0600) when the file does not exist. A file that
    /// others may read is refused.
    pub fn load_or_create(path: &Path) -> Result<LocalKek> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = std::fs::metadata(path)
                        .map_err(Error::internal)?
                        .permissions()
                        .mode();
                    if mode & 0o077 != 0 {
                        return Err(Error::invalid(
                            "kek",
                            format!(
                                "{} may be read by others (mode {:o}): chmod 600 it",
                                path.display(),
                                mode & 0o777
                            ),
                        ));
                    }
                }
                LocalKek::parse(&text)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut k = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut k);
                write_private(path, &format!("{}\n", hex::encode(k)))?;
                Ok(LocalKek::from_bytes(&k))
            }
            Err(e) => Err(Error::internal(e)),
        }
    }
}

/// Write a file only its owner may read, created that way (never widened after).
pub fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(Error::internal)?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path).map_err(Error::internal)?;
    f.write_all(text.as_bytes()).map_err(Error::internal)?;
    f.sync_all().map_err(Error::internal)
}

impl KeyWrap for LocalKek {
    fn id(&self) -> &str {
        &self.id
    }

    fn wrap(&self, secret: &[u8], name: &str) -> Result<String> {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret,
                    aad: name.as_bytes(),
                },
            )
            .map_err(|_| Error::internal("sealing a key failed"))?;
        Ok(format!(
            "{PREFIX}.{}.{}.{}",
            self.id,
            B64.encode(nonce),
            B64.encode(ct)
        ))
    }

    fn unwrap(&self, wrapped: &str, name: &str) -> Result<Vec<u8>> {
        let parts: Vec<&str> = wrapped.split('.').collect();
        let [PREFIX, kek, nonce, ct] = parts[..] else {
            return Err(Error::unavailable("a stored key is not sealed as expected"));
        };
        if kek != self.id {
            return Err(Error::unavailable(format!(
                "the signing keys are sealed under key-encryption key {kek}, but this server has {}: start it with that key (SHUJU_KEK or the kek file)",
                self.id
            )));
        }
        let nonce = B64
            .decode(nonce)
            .ok()
            .filter(|n| n.len() == 12)
            .ok_or_else(|| Error::unavailable("a sealed key is damaged"))?;
        let ct = B64
            .decode(ct)
            .map_err(|_| Error::unavailable("a sealed key is damaged"))?;
        self.cipher
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &ct,
                    aad: name.as_bytes(),
                },
            )
            .map_err(|_| {
                Error::unavailable("a sealed key does not open with this key-encryption key")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_opens_only_with_its_kek_and_its_name() {
        let a = LocalKek::random();
        let b = LocalKek::random();
        let w = a.wrap(b"secret key bytes", "es256-1").unwrap();
        assert!(is_wrapped(&w));
        assert!(!w.contains("secret"));
        assert_eq!(a.unwrap(&w, "es256-1").unwrap(), b"secret key bytes");
        assert!(a.unwrap(&w, "es256-2").is_err(), "bound to its name");
        assert!(b.unwrap(&w, "es256-1").is_err(), "another KEK");
        let mut bytes = w.clone().into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        assert!(
            a.unwrap(&String::from_utf8(bytes).unwrap(), "es256-1")
                .is_err()
        );
    }

    #[test]
    fn a_kek_file_is_made_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("kek");
        let k1 = LocalKek::load_or_create(&p).unwrap();
        let k2 = LocalKek::load_or_create(&p).unwrap();
        assert_eq!(k1.id(), k2.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(LocalKek::load_or_create(&p).is_err(), "a readable KEK file");
        }
        assert!(LocalKek::parse("00").is_err());
    }
}
