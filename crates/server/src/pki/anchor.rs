//! Configured trust anchors: the issuing CA certificates, their required policies, their CRLs.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

use rsa::pkcs8::DecodePublicKey as _;
use serde::Deserialize;
use x509_parser::prelude::*;

use super::crl::{Crl, CrlError};

/// One anchor as the operator configures it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TrustConfig {
    /// The issuing CA's certificate (PEM or DER).
    pub ca_cert: PathBuf,
    /// Certificate policy OIDs, one of which end-entity certificates must carry. Empty: any.
    #[serde(default)]
    pub policies: Vec<String>,
    /// Certificate policy OIDs, one of which an HPKI second certificate (signing) from this CA
    /// must carry. Empty: this CA's second certificates are not accepted.
    #[serde(default)]
    pub signing_policies: Vec<String>,
    /// CRL files (PEM or DER) issued by this CA. Without any, revocation is not checked.
    #[serde(default)]
    pub crls: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not an X.509 certificate: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("{path} is not a CA certificate (basicConstraints CA:TRUE is required)")]
    NotCa { path: PathBuf },
    #[error("{path}: the CA key is not an RSA key we can use: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("CRL {path}: {source}")]
    Crl { path: PathBuf, source: CrlError },
}

/// A loaded, usable anchor.
#[derive(Debug, Clone)]
pub struct TrustAnchor {
    pub subject_raw: Vec<u8>,
    pub key: rsa::PublicKey,
    pub not_before: i64,
    pub not_after: i64,
    pub policies: Vec<String>,
    /// Policies of the second certificates (signing) this CA issues.
    pub signing_policies: Vec<String>,
    pub crls: Vec<Crl>,
    /// Where `crls` were read from, read again by [`TrustStore::reloaded`].
    pub crl_paths: Vec<PathBuf>,
    /// For logs and the audit trail.
    pub name: String,
    /// The CA certificate as loaded (the CSC API hands it out in credential chains).
    pub der: Vec<u8>,
}

/// Seven days: how long a CRL that names no nextUpdate is trusted after its thisUpdate.
pub const DEFAULT_CRL_MAX_AGE_SECS: i64 = 7 * 24 * 60 * 60;

/// The anchors for one card family.
#[derive(Debug, Clone)]
pub struct TrustStore {
    pub anchors: Vec<TrustAnchor>,
    /// How long a CRL without nextUpdate counts as current after its thisUpdate.
    pub crl_max_age_secs: i64,
}

impl Default for TrustStore {
    fn default() -> Self {
        Self { anchors: Vec::new(), crl_max_age_secs: DEFAULT_CRL_MAX_AGE_SECS }
    }
}

/// Reads PEM or DER into DER.
pub(super) fn read_der(path: &Path) -> Result<Vec<u8>, AnchorError> {
    let bytes = std::fs::read(path)
        .map_err(|source| AnchorError::Read { path: path.to_owned(), source })?;
    if bytes.starts_with(b"-----BEGIN") {
        let (_, pem) = x509_parser::pem::parse_x509_pem(&bytes)
            .map_err(|e| AnchorError::Parse { path: path.to_owned(), reason: e.to_string() })?;
        Ok(pem.contents)
    } else {
        Ok(bytes)
    }
}

impl TrustAnchor {
    pub fn load(config: &TrustConfig) -> Result<Self, AnchorError> {
        let der = read_der(&config.ca_cert)?;
        Self::from_der(&der, &config.ca_cert, config)
    }

    /// `path` names the certificate in errors; `config` supplies policies and CRL files.
    pub fn from_der(der: &[u8], path: &Path, config: &TrustConfig) -> Result<Self, AnchorError> {
        let path = path.to_path_buf();
        let (_, cert) = X509Certificate::from_der(der)
            .map_err(|e| AnchorError::Parse { path: path.clone(), reason: e.to_string() })?;
        let is_ca = cert.basic_constraints().ok().flatten().is_some_and(|bc| bc.value.ca);
        if !is_ca {
            return Err(AnchorError::NotCa { path });
        }
        let key = rsa::PublicKey::from_public_key_der(cert.public_key().raw)
            .map_err(|e| AnchorError::Key { path: path.clone(), reason: e.to_string() })?;
        let mut anchor = Self {
            subject_raw: cert.subject().as_raw().to_vec(),
            key,
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            policies: config.policies.clone(),
            signing_policies: config.signing_policies.clone(),
            crls: Vec::new(),
            crl_paths: config.crls.clone(),
            name: cert.subject().to_string(),
            der: der.to_vec(),
        };
        anchor.crls = anchor.read_crls()?;
        Ok(anchor)
    }

    /// Reads and verifies every CRL file of this anchor.
    fn read_crls(&self) -> Result<Vec<Crl>, AnchorError> {
        self.crl_paths
            .iter()
            .map(|path| {
                Crl::parse(&read_der(path)?, &self.subject_raw, &self.key)
                    .map_err(|source| AnchorError::Crl { path: path.clone(), source })
            })
            .collect()
    }
}

/// The real JPKI user-authentication CA (J-LIS, 2023), the production default when no JPKI
/// anchor is configured.
pub const JPKI_AUTH_CA_2023: &[u8] = include_bytes!("../../trust/jpki-auth-ca-2023.pem");

impl TrustStore {
    pub fn load(configs: &[TrustConfig]) -> Result<Self, AnchorError> {
        let anchors = configs.iter().map(TrustAnchor::load).collect::<Result<_, _>>()?;
        Ok(Self { anchors, ..Self::default() })
    }

    /// The configured JPKI anchors, or the shipped real JPKI authentication CA if none are.
    pub fn load_jpki(configs: &[TrustConfig]) -> Result<Self, AnchorError> {
        Self::load_jpki_with(configs, &[])
    }

    /// As [`Self::load_jpki`]; `builtin_crls` are the CRL files of the shipped J-LIS anchor
    /// (used only when no JPKI anchor is configured).
    pub fn load_jpki_with(
        configs: &[TrustConfig],
        builtin_crls: &[PathBuf],
    ) -> Result<Self, AnchorError> {
        if !configs.is_empty() {
            return Self::load(configs);
        }
        let path = Path::new("(built-in) jpki-auth-ca-2023.pem");
        let (_, pem) = x509_parser::pem::parse_x509_pem(JPKI_AUTH_CA_2023)
            .map_err(|e| AnchorError::Parse { path: path.into(), reason: e.to_string() })?;
        let config = TrustConfig {
            ca_cert: path.into(),
            policies: vec![],
            signing_policies: vec![],
            crls: builtin_crls.to_vec(),
        };
        let anchors = vec![TrustAnchor::from_der(&pem.contents, path, &config)?];
        Ok(Self { anchors, ..Self::default() })
    }

    /// A copy with every anchor's CRLs read again from their files. An anchor whose files
    /// cannot be read or verified keeps the CRLs it had (logged, naming the CA): they go stale
    /// at their nextUpdate and then fail closed for that CA alone.
    pub fn reloaded(&self) -> Self {
        let anchors = self
            .anchors
            .iter()
            .map(|a| match a.read_crls() {
                Ok(crls) => TrustAnchor { crls, ..a.clone() },
                Err(e) => {
                    tracing::error!(ca = %a.name, error = %e, "CRL reload failed: keeping the CRLs loaded before");
                    a.clone()
                }
            })
            .collect();
        Self { anchors, crl_max_age_secs: self.crl_max_age_secs }
    }

    /// Logs, naming the CA, every anchor whose revocation list is out of date at `now`.
    pub fn warn_stale(&self, now: i64) {
        for a in &self.anchors {
            if a.crls.iter().any(|c| c.is_stale(now, self.crl_max_age_secs)) {
                tracing::warn!(ca = %a.name, "CRL out of date: this CA's certificates are refused until a current CRL is loaded");
            }
        }
    }

    pub(super) fn issuer_of(&self, issuer_raw: &[u8]) -> impl Iterator<Item = &TrustAnchor> {
        self.anchors.iter().filter(move |a| a.subject_raw == issuer_raw)
    }
}

/// A trust store that CRL reloads replace while requests run: each request takes the current
/// one (an `Arc`, cheap) and keeps a consistent view, and a reload swaps in a whole new store.
#[derive(Debug, Clone)]
pub struct SharedTrust(Arc<RwLock<Arc<TrustStore>>>);

impl SharedTrust {
    pub fn new(store: TrustStore) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(store))))
    }

    pub fn current(&self) -> Arc<TrustStore> {
        // A panic while holding the lock leaves a whole store behind (the swap is one
        // assignment), so a poisoned lock still holds a usable value.
        self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Reads the CRL files again and swaps the result in.
    pub fn reload(&self) {
        let fresh = Arc::new(self.current().reloaded());
        *self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
    }
}
