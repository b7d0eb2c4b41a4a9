//! HPKI second certificates (HPKIセカンド電子証明書): the life cycle of a holder's signing
//! credential whose key lives in the HSM. `request` makes the key in the HSM and a PKCS#10
//! request signed by it; `import` checks the CA's certificate and activates the credential;
//! `revoke` ends it. `sign_digest` and `public_key` are what the CSC API signs with.
//!
//! Order of writes, so a failing HSM or database never leaves half a credential: the HSM work
//! comes first and the database row's change last, in one transaction with its audit row; an
//! HSM failure after a row was started removes the row (or leaves it for an idempotent retry:
//! `request` again resumes the same row and key, found by its CKA_ID).

use mahpki_protocol::{ErrorCode, hpki_id::HpkiId};
use rsa::pkcs8::{DecodePublicKey as _, EncodePublicKey as _};

use crate::{
    hsm::{Hsm, HsmError, SignAlg, csr},
    pki::{CertError, TrustStore, cert_error_code, verify_signing_certificate},
    random,
    standing::{self, NotInGoodStanding, StandingError},
    store::{
        ACTIVE, REQUESTED, SecondCertActivation, SecondCertRecord, SecondCertStoreError, Store,
        StoreError,
    },
};

#[derive(Debug, thiserror::Error)]
pub enum SecondCertError {
    #[error("no holder with HPKI ID {0} is registered")]
    HolderUnknown(String),
    #[error("the holder is not in good standing: {0}")]
    Standing(NotInGoodStanding),
    #[error(
        "{hpki_id} already has a second certificate in state {state} (credential {credential_id})"
    )]
    Exists { hpki_id: String, state: String, credential_id: String },
    #[error("no requested or active second certificate for {0}")]
    Unknown(String),
    #[error("the certificate is refused: {0}")]
    Certificate(#[from] CertError),
    #[error("the certificate certifies another key than the one in the HSM for this request")]
    KeyMismatch,
    #[error("the certificate's subject is not the holder {0}")]
    SubjectMismatch(String),
    #[error("HSM: {0}")]
    Hsm(#[from] HsmError),
    #[error("building the request: {0}")]
    Csr(#[from] csr::CsrError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SecondCertError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::HolderUnknown(_) => ErrorCode::HolderUnknown,
            Self::Standing(r) => r.code(),
            Self::Exists { .. } => ErrorCode::SecondCertExists,
            Self::Unknown(_) => ErrorCode::SecondCertUnknown,
            Self::Certificate(e) => cert_error_code(e),
            Self::KeyMismatch => ErrorCode::SecondCertKeyMismatch,
            Self::SubjectMismatch(_) => ErrorCode::SecondCertSubjectMismatch,
            Self::Hsm(e) => e.code(),
            Self::Csr(_) | Self::Store(_) => ErrorCode::Internal,
        }
    }
}

impl From<SecondCertStoreError> for SecondCertError {
    fn from(e: SecondCertStoreError) -> Self {
        match e {
            SecondCertStoreError::Store(e) => Self::Store(e),
            // Only a lost race gets here; the caller re-reads to say which.
            SecondCertStoreError::AlreadyOpen | SecondCertStoreError::WrongState => {
                Self::Unknown("(changed meanwhile: list it again)".into())
            }
        }
    }
}

/// How long a request's HSM work belongs to the process that started it.
const REQUEST_LEASE_MS: i64 = 60_000;

/// A request made: the credential row (state `requested`) and the CSR, DER.
#[derive(Debug, Clone)]
pub struct Requested {
    pub record: SecondCertRecord,
    pub csr_der: Vec<u8>,
    /// Whether this resumed an earlier request of the same holder (same key, same row).
    pub resumed: bool,
}

/// A credential revoked; the HSM key was destroyed, or why not (the database already says
/// revoked, so the key signs nothing either way).
#[derive(Debug)]
pub struct Revoked {
    pub record: SecondCertRecord,
    pub key_destroyed: Result<usize, HsmError>,
}

/// The second certificates of this server: its database and its HSM.
#[derive(Clone)]
pub struct SecondCerts {
    pub store: Store,
    pub hsm: Hsm,
}

fn key_id_bytes(r: &SecondCertRecord) -> Result<Vec<u8>, SecondCertError> {
    crate::pki::unhex(&r.key_id).ok_or_else(|| {
        StoreError::Corrupt(format!("credential {}: key_id", r.credential_id)).into()
    })
}

fn spki_der(key: &rsa::PublicKey) -> Result<Vec<u8>, SecondCertError> {
    Ok(key
        .to_public_key_der()
        .map_err(|e| StoreError::Corrupt(format!("HSM public key: {e}")))?
        .into_vec())
}

impl SecondCerts {
    pub fn new(store: Store, hsm: Hsm) -> Self {
        Self { store, hsm }
    }

    /// Makes (or, for a request not yet imported, finds again) the holder's key pair in the HSM
    /// and returns a CSR for it whose subject is the holder's HPKI certificate subject. Refused
    /// while the holder has an active credential.
    pub async fn request(
        &self,
        hpki_id: &HpkiId,
        trust: &TrustStore,
        now_ms: i64,
    ) -> Result<Requested, SecondCertError> {
        let id = hpki_id.as_str();
        let identity = self
            .store
            .identity_get(id)
            .await?
            .ok_or_else(|| SecondCertError::HolderUnknown(id.into()))?;
        match standing::check(&self.store, trust, id, now_ms).await {
            Ok(()) => {}
            Err(StandingError::Refused(r)) => return Err(SecondCertError::Standing(r)),
            Err(e) => return Err(StoreError::Corrupt(e.to_string()).into()),
        }
        // Before anything is written: an unreachable HSM changes nothing.
        self.hsm.check().await?;
        let (record, resumed) = match self.store.second_cert_open(id).await? {
            // The key is made and recorded: the same request again (no new key).
            Some(r) if r.state == REQUESTED && r.public_key.is_some() => (r, true),
            // Another request is making the key right now, or died doing it (then resumed).
            Some(r) if r.state == REQUESTED => {
                if !self.store.second_cert_claim(r.id, REQUEST_LEASE_MS).await? {
                    return Err(exists(&r));
                }
                (r, true)
            }
            Some(r) => return Err(exists(&r)),
            None => {
                let credential_id = crate::pki::hex(&random::bytes::<16>());
                let key_id = crate::pki::hex(&random::bytes::<16>());
                match self.store.second_cert_begin(id, &credential_id, &key_id).await {
                    Ok(r) => (r, false),
                    Err(SecondCertStoreError::AlreadyOpen) => {
                        let open = self.store.second_cert_open(id).await?;
                        return Err(open
                            .map_or_else(|| SecondCertError::Unknown(id.into()), |r| exists(&r)));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let key_id = key_id_bytes(&record)?;
        match self.key_and_csr(&record, &key_id, &identity.cert_subject).await {
            Ok((spki, csr_der)) => {
                let detail = format!(
                    "credential={} key_id={}{}",
                    record.credential_id,
                    record.key_id,
                    if resumed { " resumed" } else { "" }
                );
                match self.store.second_cert_keyed(record.id, &spki, detail).await {
                    Ok(record) => Ok(Requested { record, csr_der, resumed }),
                    Err(e) => {
                        if record.public_key.is_none() {
                            self.undo_request(&record, &key_id).await;
                        }
                        Err(e.into())
                    }
                }
            }
            Err(e) => {
                if record.public_key.is_none() {
                    self.undo_request(&record, &key_id).await;
                }
                Err(e)
            }
        }
    }

    /// The key (made if missing) and a CSR signed by it.
    async fn key_and_csr(
        &self,
        record: &SecondCertRecord,
        key_id: &[u8],
        subject: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>), SecondCertError> {
        let label = format!("mahpki second certificate {}", record.hpki_id);
        let key = self.hsm.ensure_key_pair(key_id.to_vec(), label).await?;
        let spki = spki_der(&key)?;
        if record.public_key.as_ref().is_some_and(|k| *k != spki) {
            return Err(StoreError::Corrupt(format!(
                "credential {}: the HSM key differs from the recorded one",
                record.credential_id
            ))
            .into());
        }
        let unsigned = csr::unsigned(subject, &key)?;
        let signature =
            self.hsm.sign_digest(key_id.to_vec(), SignAlg::RsaPkcs1Sha256, unsigned.digest).await?;
        Ok((spki, csr::signed(unsigned, &signature)?))
    }

    /// Takes back a request that failed before its key was recorded: the key (if the HSM
    /// made it) and the row. Best effort: what stays is resumed by the next `request`.
    async fn undo_request(&self, record: &SecondCertRecord, key_id: &[u8]) {
        if let Err(e) = self.hsm.destroy(key_id.to_vec()).await {
            tracing::warn!(credential = %record.credential_id, error = %e, "could not remove the key of a failed request; the next request resumes it");
            return;
        }
        if let Err(e) = self.store.second_cert_discard(record.id).await {
            tracing::warn!(credential = %record.credential_id, error = %e, "could not remove a failed request's row; the next request resumes it");
        }
    }

    /// Checks `cert_der` (DER) against the holder's open request and activates it: issued by a
    /// configured HPKI CA with one of its signing policies, valid at `now_ms`, not revoked, the
    /// holder's subject, and the very key the HSM holds for the request. The certificate is
    /// also stored in the token beside its key (same CKA_ID).
    pub async fn import(
        &self,
        hpki_id: &HpkiId,
        cert_der: &[u8],
        trust: &TrustStore,
        now_ms: i64,
    ) -> Result<SecondCertRecord, SecondCertError> {
        let id = hpki_id.as_str();
        let identity = self
            .store
            .identity_get(id)
            .await?
            .ok_or_else(|| SecondCertError::HolderUnknown(id.into()))?;
        let record = match self.store.second_cert_open(id).await? {
            Some(r) if r.state == REQUESTED && r.public_key.is_some() => r,
            Some(r) if r.state == ACTIVE => return Err(exists(&r)),
            _ => return Err(SecondCertError::Unknown(id.into())),
        };
        let cert = verify_signing_certificate(trust, cert_der, now_ms.div_euclid(1000))?;
        if cert.verified.subject_raw != identity.cert_subject {
            return Err(SecondCertError::SubjectMismatch(id.into()));
        }
        let certified = rsa::PublicKey::from_public_key_der(&cert.spki_der)
            .map_err(|_| CertError::UnsupportedAlgorithm("the key is not RSA".into()))?;
        let key_id = key_id_bytes(&record)?;
        let in_hsm = self.hsm.public_key(key_id.clone()).await?;
        if certified != in_hsm || record.public_key.as_deref() != Some(&spki_der(&in_hsm)?[..]) {
            return Err(SecondCertError::KeyMismatch);
        }
        let label = format!("mahpki second certificate {id}");
        let (der, issuer, subject) = (
            cert_der.to_vec(),
            cert.verified.issuer_raw.clone(),
            cert.verified.subject_raw.clone(),
        );
        let serial = crate::pki::unhex(&cert.verified.serial_hex).unwrap_or_default();
        self.hsm.store_certificate(key_id.clone(), label, der, subject, issuer, serial).await?;
        let activation = SecondCertActivation {
            certificate: cert_der.to_vec(),
            cert_issuer: cert.verified.issuer.clone(),
            cert_serial: cert.verified.serial_hex.clone(),
            not_before_ms: cert.not_before * 1000,
            not_after_ms: cert.verified.not_after * 1000,
        };
        let detail = format!(
            "credential={} serial={} issuer={} fingerprint={}",
            record.credential_id,
            activation.cert_serial,
            activation.cert_issuer,
            cert.verified.fingerprint
        );
        match self.store.second_cert_activate(record.id, &activation, detail).await {
            Ok(r) => Ok(r),
            Err(e) => {
                // The certificate object alone changes nothing (the row decides); remove it so
                // the token holds only what the database knows.
                let _ = self.hsm.destroy_certificate(key_id).await;
                Err(e.into())
            }
        }
    }

    /// Revokes the open credential named by `target`: a holder's HPKI ID or a credential id.
    /// The database first (from then on nothing signs with it), then the key in the HSM.
    pub async fn revoke(&self, target: &str, reason: &str) -> Result<Revoked, SecondCertError> {
        let record = match HpkiId::parse(target) {
            Ok(h) => self.store.second_cert_open(h.as_str()).await?,
            Err(_) => None,
        };
        let record = match record {
            Some(r) => r,
            None => self
                .store
                .second_cert_by_credential(target)
                .await?
                .filter(|r| r.state != crate::store::REVOKED)
                .ok_or_else(|| SecondCertError::Unknown(target.into()))?,
        };
        let record = match self.store.second_cert_revoke(record.id, reason).await {
            Ok(r) => r,
            Err(SecondCertStoreError::WrongState) => {
                return Err(SecondCertError::Unknown(target.into()));
            }
            Err(e) => return Err(e.into()),
        };
        let key_destroyed = match key_id_bytes(&record) {
            Ok(k) => self.hsm.destroy(k).await,
            Err(e) => Err(HsmError::Device(e.to_string())),
        };
        Ok(Revoked { record, key_destroyed })
    }

    /// The active credential `credential_id`, valid at `now_ms`.
    pub async fn active(
        &self,
        credential_id: &str,
        now_ms: i64,
    ) -> Result<SecondCertRecord, SecondCertError> {
        let unknown = || SecondCertError::Unknown(credential_id.into());
        let r = self.store.second_cert_by_credential(credential_id).await?.ok_or_else(unknown)?;
        if r.state != ACTIVE {
            return Err(unknown());
        }
        let (from, to) = (r.not_before_ms.unwrap_or(i64::MAX), r.not_after_ms.unwrap_or(0));
        if now_ms < from || now_ms > to {
            return Err(CertError::Expired.into());
        }
        Ok(r)
    }

    /// Signs a SHA-256 `digest` with an active credential's key. The caller (the CSC API)
    /// decides whether the holder authorised it.
    pub async fn sign_digest(
        &self,
        credential_id: &str,
        digest: [u8; 32],
        alg: SignAlg,
        now_ms: i64,
    ) -> Result<Vec<u8>, SecondCertError> {
        let r = self.active(credential_id, now_ms).await?;
        Ok(self.hsm.sign_digest(key_id_bytes(&r)?, alg, digest).await?)
    }

    /// The active credential's public key, as the HSM holds it.
    pub async fn public_key(
        &self,
        credential_id: &str,
        now_ms: i64,
    ) -> Result<rsa::PublicKey, SecondCertError> {
        let r = self.active(credential_id, now_ms).await?;
        Ok(self.hsm.public_key(key_id_bytes(&r)?).await?)
    }
}

fn exists(r: &SecondCertRecord) -> SecondCertError {
    SecondCertError::Exists {
        hpki_id: r.hpki_id.clone(),
        state: r.state.clone(),
        credential_id: r.credential_id.clone(),
    }
}
