//! Configured trust anchors: the issuing CA certificates, their required policies, their CRLs.

use std::path::{Path, PathBuf};

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
    pub crls: Vec<Crl>,
    /// For logs and the audit trail.
    pub name: String,
}

/// The anchors for one card family.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    pub anchors: Vec<TrustAnchor>,
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
            crls: Vec::new(),
            name: cert.subject().to_string(),
        };
        for crl_path in &config.crls {
            let der = read_der(crl_path)?;
            let crl = Crl::parse(&der, &anchor)
                .map_err(|source| AnchorError::Crl { path: crl_path.clone(), source })?;
            anchor.crls.push(crl);
        }
        Ok(anchor)
    }
}

/// The real JPKI user-authentication CA (J-LIS, 2023), the production default when no JPKI
/// anchor is configured.
pub const JPKI_AUTH_CA_2023: &[u8] = include_bytes!("../../trust/jpki-auth-ca-2023.pem");

impl TrustStore {
    pub fn load(configs: &[TrustConfig]) -> Result<Self, AnchorError> {
        let anchors = configs.iter().map(TrustAnchor::load).collect::<Result<_, _>>()?;
        Ok(Self { anchors })
    }

    /// The configured JPKI anchors, or the shipped real JPKI authentication CA if none are.
    pub fn load_jpki(configs: &[TrustConfig]) -> Result<Self, AnchorError> {
        if !configs.is_empty() {
            return Self::load(configs);
        }
        let path = Path::new("(built-in) jpki-auth-ca-2023.pem");
        let (_, pem) = x509_parser::pem::parse_x509_pem(JPKI_AUTH_CA_2023)
            .map_err(|e| AnchorError::Parse { path: path.into(), reason: e.to_string() })?;
        let config = TrustConfig { ca_cert: path.into(), policies: vec![], crls: vec![] };
        Ok(Self { anchors: vec![TrustAnchor::from_der(&pem.contents, path, &config)?] })
    }

    pub(super) fn issuer_of(&self, issuer_raw: &[u8]) -> impl Iterator<Item = &TrustAnchor> {
        self.anchors.iter().filter(move |a| a.subject_raw == issuer_raw)
    }
}
