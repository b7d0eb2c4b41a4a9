//! The server secret: 32 random bytes in a file outside the database, generated on first start.
//! It keys the HMACs that stand in for the JMA path's numbers (the カードID, and the 医籍登録番号 as
//! the key of the attempt counter), so a copy of the database alone yields neither.
//!
//! Every server process on one PostgreSQL database must read the same file; the database keeps
//! an HMAC of a constant under it, and a process with another secret refuses to start.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
};

use hmac::Mac as _;
use zeroize::Zeroizing;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Bytes in the secret file.
pub const SECRET_LEN: usize = 32;

/// An HMAC-SHA-256 output.
pub type Mac = [u8; 32];

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read the server secret {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot create the server secret {path}: {source}")]
    Create { path: PathBuf, source: std::io::Error },
    #[error("the server secret {path} holds {len} bytes, not {SECRET_LEN}: restore the right file")]
    Length { path: PathBuf, len: usize },
}

/// The secret itself; zeroised on drop and never printed.
pub struct ServerSecret(Zeroizing<[u8; SECRET_LEN]>);

impl std::fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSecret(..)")
    }
}

impl ServerSecret {
    /// Reads the secret at `path`, or creates it (mode 0600) if there is none. Creating is
    /// atomic (a complete temporary file hard-linked into place), so processes starting together
    /// agree on one secret and none ever reads half a file.
    pub fn load_or_create(path: &Path) -> Result<Self, SecretError> {
        match Self::read(path) {
            Err(SecretError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Self::create(path)
            }
            other => other,
        }
    }

    fn read(path: &Path) -> Result<Self, SecretError> {
        let read_err = |source| SecretError::Read { path: path.into(), source };
        let bytes = Zeroizing::new(std::fs::read(path).map_err(read_err)?);
        let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
        if bytes.len() != SECRET_LEN {
            return Err(SecretError::Length { path: path.into(), len: bytes.len() });
        }
        secret.copy_from_slice(&bytes);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path).map_err(read_err)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(path = %path.display(), mode = format!("{mode:o}"),
                    "the server secret is readable by other users: chmod 600 it");
            }
        }
        Ok(Self(secret))
    }

    fn create(path: &Path) -> Result<Self, SecretError> {
        let create_err = |source| SecretError::Create { path: path.into(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(create_err)?;
        }
        let secret = Self::random();
        let suffix: [u8; 8] = crate::random::bytes();
        let tmp = path.with_extension(format!("tmp-{}", u64::from_le_bytes(suffix)));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&tmp).and_then(|mut f| {
            f.write_all(secret.0.as_slice())?;
            f.sync_all()
        });
        let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                tracing::info!(path = %path.display(), "server secret created");
                Ok(secret)
            }
            // Another process created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::read(path),
            Err(e) => Err(create_err(e)),
        }
    }

    /// A fresh random secret that lives only in memory (tests; `create` writes one out).
    pub fn random() -> Self {
        Self(Zeroizing::new(crate::random::bytes()))
    }

    /// HMAC-SHA-256 of the parts, each prefixed by its length so no two inputs run together.
    fn mac(&self, domain: &str, parts: &[&[u8]]) -> Mac {
        let mut m = <HmacSha256 as hmac::KeyInit>::new_from_slice(self.0.as_slice())
            .expect("HMAC takes any key length");
        for part in std::iter::once(domain.as_bytes()).chain(parts.iter().copied()) {
            m.update(&(part.len() as u64).to_be_bytes());
            m.update(part);
        }
        m.finalize().into_bytes().into()
    }

    /// What the database keeps of a holder's カードID: bound to their 医籍登録番号, so two
    /// holders' equal IDs do not show as equal.
    pub fn card_id_mac(&self, registration_number: &str, card_id: &str) -> Mac {
        self.mac("mahpki/jma/card-id/v1", &[registration_number.as_bytes(), card_id.as_bytes()])
    }

    /// The key of a 医籍登録番号's attempt counter: numbers nobody holds get one too, so they
    /// back off exactly like real ones.
    pub fn registration_key(&self, registration_number: &str) -> Mac {
        self.mac("mahpki/jma/attempts/v1", &[registration_number.as_bytes()])
    }

    /// The stand-in credential id スマートフォン変更's begin answers for a 本人ID without a
    /// phone: stable for a 本人ID, unpredictable without the secret, `len` bytes.
    pub fn stand_in_credential_id(&self, hpki_id: &str, len: usize) -> Vec<u8> {
        self.mac("mahpki/change-begin/stand-in/v1", &[hpki_id.as_bytes()])[..len].to_vec()
    }

    /// Proof of which secret a database was set up with (reveals nothing of the secret).
    pub fn check_value(&self) -> Mac {
        self.mac("mahpki/secret-check/v1", &[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/server-secret");
        let a = ServerSecret::load_or_create(&path).unwrap();
        let b = ServerSecret::load_or_create(&path).unwrap();
        assert_eq!(a.check_value(), b.check_value());
        assert_eq!(std::fs::read(&path).unwrap().len(), SECRET_LEN);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Only the secret is left in the directory (no temporary file).
        assert_eq!(std::fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
        assert!(!format!("{a:?}").contains(&format!("{:?}", &a.0[..4])));
    }

    #[test]
    fn a_damaged_file_is_refused_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server-secret");
        std::fs::write(&path, b"short").unwrap();
        assert!(matches!(
            ServerSecret::load_or_create(&path),
            Err(SecretError::Length { len: 5, .. })
        ));
        assert_eq!(std::fs::read(&path).unwrap(), b"short");
    }

    #[test]
    fn macs_are_keyed_and_separated() {
        let (a, b) = (ServerSecret::random(), ServerSecret::random());
        assert_ne!(a.card_id_mac("1", "C"), b.card_id_mac("1", "C"));
        assert_ne!(a.card_id_mac("1", "C"), a.card_id_mac("2", "C"));
        assert_ne!(a.card_id_mac("1", "2C"), a.card_id_mac("12", "C"));
        assert_ne!(a.registration_key("1"), a.card_id_mac("1", ""));
        assert_eq!(a.registration_key("1"), a.registration_key("1"));
    }
}
