//! The one check every other pki module builds on: a CA's RSA signature over a certificate or
//! CRL body. A leaf: it imports nothing from the rest of the crate, so certificate checks,
//! revocation lists and trust anchors can all use it without importing each other.

use rsa::signature::Verifier as _;
use sha2::{Sha256, Sha384, Sha512};
use x509_parser::{oid_registry, x509::AlgorithmIdentifier};

/// Why a CA signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("signature algorithm {0} is not supported")]
    UnsupportedAlgorithm(String),
    #[error("the signature does not verify")]
    Invalid,
}

/// Verifies a CA's RSA signature over `tbs` (a certificate or CRL body).
pub(super) fn check_rsa_signature(
    key: &rsa::PublicKey,
    alg: &AlgorithmIdentifier<'_>,
    tbs: &[u8],
    sig: &[u8],
) -> Result<(), SignatureError> {
    let sig = rsa::pkcs1v15::Signature::try_from(sig).map_err(|_| SignatureError::Invalid)?;
    let alg_id = &alg.algorithm;
    let ok = if *alg_id == oid_registry::OID_PKCS1_SHA256WITHRSA {
        rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key.clone()).verify(tbs, &sig).is_ok()
    } else if *alg_id == oid_registry::OID_PKCS1_SHA384WITHRSA {
        rsa::pkcs1v15::VerifyingKey::<Sha384>::new(key.clone()).verify(tbs, &sig).is_ok()
    } else if *alg_id == oid_registry::OID_PKCS1_SHA512WITHRSA {
        rsa::pkcs1v15::VerifyingKey::<Sha512>::new(key.clone()).verify(tbs, &sig).is_ok()
    } else {
        return Err(SignatureError::UnsupportedAlgorithm(alg_id.to_id_string()));
    };
    if ok { Ok(()) } else { Err(SignatureError::Invalid) }
}
