//! PKCS#10 certification requests for HSM keys, with RustCrypto's `x509-cert`: the request info
//! is encoded here, its SHA-256 signed by the HSM (PKCS#1 v1.5), and the two put together.

use rsa::pkcs8::EncodePublicKey as _;
use sha2::{Digest as _, Sha256};
use x509_cert::{
    der::{Decode as _, Encode as _, EncodePem as _, asn1::BitString, pem::LineEnding},
    name::Name,
    request::{CertReq, CertReqInfo, Version},
    spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned},
};

/// sha256WithRSAEncryption (RFC 4055).
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");

#[derive(Debug, thiserror::Error)]
pub enum CsrError {
    #[error("the holder's subject name is not valid DER: {0}")]
    Subject(String),
    #[error("encoding the request: {0}")]
    Encode(String),
}

/// A request waiting for its signature.
#[derive(Debug, Clone)]
pub struct Unsigned {
    info: CertReqInfo,
    /// SHA-256 of the DER request info: what the HSM signs.
    pub digest: [u8; 32],
}

/// The request info for `subject` (a DER Name) and `key`, and the digest to sign.
pub fn unsigned(subject_der: &[u8], key: &rsa::PublicKey) -> Result<Unsigned, CsrError> {
    let subject = Name::from_der(subject_der).map_err(|e| CsrError::Subject(e.to_string()))?;
    let spki_der = key.to_public_key_der().map_err(|e| CsrError::Encode(e.to_string()))?;
    let public_key = SubjectPublicKeyInfoOwned::from_der(spki_der.as_bytes())
        .map_err(|e| CsrError::Encode(e.to_string()))?;
    let info =
        CertReqInfo { version: Version::V1, subject, public_key, attributes: Default::default() };
    let tbs = info.to_der().map_err(|e| CsrError::Encode(e.to_string()))?;
    Ok(Unsigned { info, digest: Sha256::digest(&tbs).into() })
}

/// The signed request, DER.
pub fn signed(unsigned: Unsigned, signature: &[u8]) -> Result<Vec<u8>, CsrError> {
    let enc = |e: x509_cert::der::Error| CsrError::Encode(e.to_string());
    let req = CertReq {
        info: unsigned.info,
        algorithm: AlgorithmIdentifierOwned {
            oid: SHA256_WITH_RSA,
            parameters: Some(x509_cert::der::asn1::Null.into()),
        },
        signature: BitString::from_bytes(signature).map_err(enc)?,
    };
    req.to_der().map_err(enc)
}

/// DER request as PEM (`CERTIFICATE REQUEST`), as `openssl req` reads it.
pub fn pem(der: &[u8]) -> Result<String, CsrError> {
    let req = CertReq::from_der(der).map_err(|e| CsrError::Encode(e.to_string()))?;
    req.to_pem(LineEnding::LF).map_err(|e| CsrError::Encode(e.to_string()))
}
