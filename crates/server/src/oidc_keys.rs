//! The OpenID Provider's signing keys: RSA keys in one JSON file outside the database (like the
//! server secret), created with one key on first start, and rotated by the operator
//! (`oidc rotate-key`), which appends a new key.
//!
//! A rotated-in key is published in the JWKS at once but signs only `publish_ahead` later, so
//! every server process (they reload the file with the CRLs) and every relying service's cached
//! JWKS know it before the first token it signs. The key it replaces stays published until the
//! last ID token it signed has expired, and is then dropped from the file at the next rotation.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use jsonwebtoken::{
    Algorithm, EncodingKey,
    jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash},
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The signing algorithm of every ID token.
pub const ALGORITHM: Algorithm = Algorithm::RS256;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the OIDC signing keys {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write the OIDC signing keys {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("the OIDC signing keys {path} are not valid: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("cannot make an RSA key: {0}")]
    Generate(String),
}

/// One key as the file holds it.
#[derive(Clone, Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    created_ms: i64,
    /// PKCS#1 DER of the private key, base64.
    private_pkcs1: String,
}

#[derive(Serialize, Deserialize, Default)]
struct KeyFile {
    keys: Vec<StoredKey>,
}

/// One usable key.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub created_ms: i64,
    encoding: EncodingKey,
    jwk: Jwk,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    fn from_pkcs1(der: &[u8], created_ms: i64) -> Result<Self, String> {
        let encoding = EncodingKey::from_rsa_der(der);
        let mut jwk = Jwk::from_encoding_key(&encoding, ALGORITHM).map_err(|e| e.to_string())?;
        let kid = jwk.thumbprint(ThumbprintHash::SHA256).map_err(|e| e.to_string())?;
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Ok(Self { kid, created_ms, encoding, jwk })
    }

    pub fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    /// The public half, as the JWKS lists it.
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }
}

/// What a key is doing at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Published, not signing yet (just rotated in).
    Next,
    /// Signs new ID tokens.
    Signing,
    /// Replaced, still published until the tokens it signed have expired.
    Retiring,
    /// Replaced long enough ago that nothing it signed is valid: dropped at the next rotation.
    Retired,
}

/// The keys in the file, oldest first.
#[derive(Debug, Clone)]
pub struct KeySet {
    keys: Vec<SigningKey>,
    /// How long a rotated-in key is published before it signs.
    pub publish_ahead_ms: i64,
    /// How long after it stops signing a key stays published: the ID token lifetime.
    pub keep_ms: i64,
}

impl KeySet {
    /// When key `i` starts signing: at once for the first, `publish_ahead` after creation for
    /// the others.
    fn signs_from(&self, i: usize) -> i64 {
        if i == 0 {
            i64::MIN
        } else {
            self.keys[i].created_ms.saturating_add(self.publish_ahead_ms)
        }
    }

    pub fn state(&self, i: usize, now_ms: i64) -> KeyState {
        if now_ms < self.signs_from(i) {
            return KeyState::Next;
        }
        // The next key that has started signing replaces this one.
        match (i + 1..self.keys.len()).find(|&j| now_ms >= self.signs_from(j)) {
            None => KeyState::Signing,
            Some(j) if now_ms < self.signs_from(j).saturating_add(self.keep_ms) => {
                KeyState::Retiring
            }
            Some(_) => KeyState::Retired,
        }
    }

    /// The key that signs now.
    pub fn signing(&self, now_ms: i64) -> &SigningKey {
        let i = (0..self.keys.len())
            .rev()
            .find(|&i| self.state(i, now_ms) == KeyState::Signing)
            .unwrap_or(0);
        &self.keys[i]
    }

    /// The JWKS: every key not yet retired.
    pub fn jwks(&self, now_ms: i64) -> JwkSet {
        let keys = (0..self.keys.len())
            .filter(|&i| self.state(i, now_ms) != KeyState::Retired)
            .map(|i| self.keys[i].jwk.clone())
            .collect();
        JwkSet { keys }
    }

    /// Each key with its state, for `oidc keys`.
    pub fn list(&self, now_ms: i64) -> Vec<(&SigningKey, KeyState)> {
        self.keys.iter().enumerate().map(|(i, k)| (k, self.state(i, now_ms))).collect()
    }

    /// Reads the key file at `path`, or creates it (mode 0600) with one new key. Creating is
    /// atomic (a complete temporary file hard-linked into place), so processes starting together
    /// agree on one file.
    pub fn load_or_create(
        path: &Path,
        now_ms: i64,
        publish_ahead_ms: i64,
        keep_ms: i64,
    ) -> Result<Self, KeyError> {
        match std::fs::metadata(path) {
            Ok(_) => Self::load(path, publish_ahead_ms, keep_ms),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let file = KeyFile { keys: vec![new_key(now_ms)?] };
                match write_file(path, &file, false) {
                    Ok(()) => tracing::info!(path = %path.display(), "OIDC signing key created"),
                    // Another process created it first: use theirs.
                    Err(KeyError::Write { source, .. })
                        if source.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(e),
                }
                Self::load(path, publish_ahead_ms, keep_ms)
            }
            Err(source) => Err(KeyError::Read { path: path.into(), source }),
        }
    }

    pub fn load(path: &Path, publish_ahead_ms: i64, keep_ms: i64) -> Result<Self, KeyError> {
        let file = read_file(path)?;
        let invalid = |reason: String| KeyError::Invalid { path: path.into(), reason };
        let keys = file
            .keys
            .iter()
            .map(|k| {
                let der = Zeroizing::new(
                    STANDARD
                        .decode(&k.private_pkcs1)
                        .map_err(|e| invalid(format!("key {}: {e}", k.kid)))?,
                );
                let key = SigningKey::from_pkcs1(&der, k.created_ms).map_err(&invalid)?;
                if key.kid != k.kid {
                    return Err(invalid(format!("key {} does not match its kid", k.kid)));
                }
                Ok(key)
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(invalid("no key".into()));
        }
        if keys.windows(2).any(|w| w[0].created_ms > w[1].created_ms) {
            return Err(invalid("keys are not oldest first".into()));
        }
        Ok(Self { keys, publish_ahead_ms, keep_ms })
    }

    /// `oidc rotate-key`: appends a new key to the file (which must exist), dropping the keys
    /// retired by then. Returns the new key's id.
    pub fn rotate(
        path: &Path,
        now_ms: i64,
        publish_ahead_ms: i64,
        keep_ms: i64,
    ) -> Result<String, KeyError> {
        let current = Self::load(path, publish_ahead_ms, keep_ms)?;
        let mut file = read_file(path)?;
        let retired: Vec<String> = current
            .list(now_ms)
            .into_iter()
            .filter(|(_, s)| *s == KeyState::Retired)
            .map(|(k, _)| k.kid.clone())
            .collect();
        file.keys.retain(|k| !retired.contains(&k.kid));
        let created = now_ms.max(file.keys.last().map_or(now_ms, |k| k.created_ms));
        let key = new_key(created)?;
        let kid = key.kid.clone();
        file.keys.push(key);
        write_file(path, &file, true)?;
        Ok(kid)
    }
}

fn new_key(created_ms: i64) -> Result<StoredKey, KeyError> {
    use rsa::{Generate as _, pkcs1::EncodeRsaPrivateKey as _};
    // 3072 bits, the `rsa` crate's default (about 128-bit strength).
    let key = rsa::PrivateKey::try_generate().map_err(|e| KeyError::Generate(e.to_string()))?;
    let der = key.to_pkcs1_der().map_err(|e| KeyError::Generate(e.to_string()))?;
    let signing = SigningKey::from_pkcs1(der.as_bytes(), created_ms).map_err(KeyError::Generate)?;
    Ok(StoredKey { kid: signing.kid, created_ms, private_pkcs1: STANDARD.encode(der.as_bytes()) })
}

fn read_file(path: &Path) -> Result<KeyFile, KeyError> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|source| KeyError::Read { path: path.into(), source })?,
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(m) = std::fs::metadata(path)
            && m.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %path.display(), "the OIDC signing keys are readable by other users: chmod 600 them");
        }
    }
    serde_json::from_str(&text)
        .map_err(|e| KeyError::Invalid { path: path.into(), reason: e.to_string() })
}

/// Writes `file` whole to a temporary file, then links it into place (`replace`: renames over
/// the old one), so no reader ever sees half a file.
fn write_file(path: &Path, file: &KeyFile, replace: bool) -> Result<(), KeyError> {
    let err = |source| KeyError::Write { path: path.into(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let text = Zeroizing::new(serde_json::to_string_pretty(file).expect("keys serialise"));
    let suffix: [u8; 8] = crate::random::bytes();
    let tmp = path.with_extension(format!("tmp-{}", u64::from_le_bytes(suffix)));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&tmp).and_then(|mut f| {
        f.write_all(text.as_bytes())?;
        f.sync_all()
    });
    let placed = written.and_then(|()| {
        if replace { std::fs::rename(&tmp, path) } else { std::fs::hard_link(&tmp, path) }
    });
    let _ = std::fs::remove_file(&tmp);
    placed.map_err(err)
}

/// The key set every request reads, swapped whole when the file is read again.
#[derive(Debug, Clone)]
pub struct SharedKeys {
    path: PathBuf,
    current: Arc<RwLock<Arc<KeySet>>>,
}

impl SharedKeys {
    pub fn new(path: PathBuf, keys: KeySet) -> Self {
        Self { path, current: Arc::new(RwLock::new(Arc::new(keys))) }
    }

    pub fn current(&self) -> Arc<KeySet> {
        self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Reads the file again (after `oidc rotate-key`); a file that cannot be read leaves the
    /// keys in use as they are, with a warning.
    pub fn reload(&self) {
        let old = self.current();
        match KeySet::load(&self.path, old.publish_ahead_ms, old.keep_ms) {
            Ok(keys) => {
                *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) =
                    Arc::new(keys);
            }
            Err(e) => tracing::warn!(error = %e, "OIDC signing keys not reloaded"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AHEAD: i64 = 600_000;
    const KEEP: i64 = 300_000;

    #[test]
    fn rotation_publishes_first_signs_later_and_retires_after_the_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oidc-keys.json");
        let t0 = 1_000_000_000_000;
        let first = KeySet::load_or_create(&path, t0, AHEAD, KEEP).unwrap();
        let k1 = first.signing(t0).kid.clone();
        assert_eq!(first.jwks(t0).keys.len(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        // Read back, not made again.
        assert_eq!(KeySet::load_or_create(&path, t0, AHEAD, KEEP).unwrap().signing(t0).kid, k1);

        let t1 = t0 + 1000;
        let k2 = KeySet::rotate(&path, t1, AHEAD, KEEP).unwrap();
        let keys = KeySet::load(&path, AHEAD, KEEP).unwrap();
        let kids = |t| -> Vec<String> {
            keys.jwks(t).keys.iter().map(|k| k.common.key_id.clone().unwrap()).collect()
        };
        // Published at once, still the old key signing.
        assert_eq!(kids(t1), [k1.clone(), k2.clone()]);
        assert_eq!(keys.signing(t1).kid, k1);
        // After publish_ahead the new key signs; the old one is kept for the ID token lifetime.
        let t2 = t1 + AHEAD;
        assert_eq!(keys.signing(t2).kid, k2);
        assert_eq!(kids(t2), [k1.clone(), k2.clone()]);
        assert_eq!(keys.list(t2)[0].1, KeyState::Retiring);
        let t3 = t2 + KEEP;
        assert_eq!(kids(t3), std::slice::from_ref(&k2));
        assert_eq!(keys.list(t3)[0].1, KeyState::Retired);
        // The next rotation drops the retired key from the file.
        let k3 = KeySet::rotate(&path, t3, AHEAD, KEEP).unwrap();
        let keys = KeySet::load(&path, AHEAD, KEEP).unwrap();
        let all: Vec<_> = keys.list(t3).into_iter().map(|(k, _)| k.kid.clone()).collect();
        assert_eq!(all, [k2, k3]);
        // The JWK is public only: no private exponent on the wire.
        let jwk = serde_json::to_value(&keys.jwks(t3).keys[0]).unwrap();
        assert!(jwk.get("d").is_none() && jwk.get("p").is_none(), "{jwk}");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["alg"], "RS256");
    }

    #[test]
    fn a_damaged_file_is_refused_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oidc-keys.json");
        std::fs::write(&path, b"{\"keys\": []}").unwrap();
        assert!(matches!(KeySet::load_or_create(&path, 0, 0, 0), Err(KeyError::Invalid { .. })));
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"keys\": []}");
    }
}
