//! Verifying a card's signature over a server challenge, and the certificate that carries its key.

use mahpki_protocol::ErrorCode;
use rsa::{pkcs8::DecodePublicKey as _, signature::Verifier as _};
use sha2::{Digest as _, Sha256};
use x509_parser::prelude::*;

use super::{
    anchor::{TrustAnchor, TrustStore},
    oid,
    signature::check_rsa_signature,
};

/// Why a certificate or signature was refused. Each maps to its own catalogued error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("the certificate could not be parsed")]
    Malformed,
    #[error("the certificate's key or algorithm is not supported: {0}")]
    UnsupportedAlgorithm(String),
    #[error("the certificate was not issued by a trusted CA")]
    Untrusted,
    #[error("the certificate is expired or not yet valid")]
    Expired,
    #[error("the certificate is revoked")]
    Revoked,
    #[error("the revocation list of CA {ca} is out of date")]
    CrlOutdated { ca: String },
    #[error("the certificate's key usage does not allow authentication")]
    KeyUsage,
    #[error("the certificate has an unsupported critical extension {0}")]
    UnsupportedCriticalExtension(String),
    #[error("the certificate does not carry a required policy")]
    Policy,
    #[error("the signature does not verify")]
    SignatureInvalid,
}

/// The catalogued error a refused certificate is answered with.
pub fn cert_error_code(e: &CertError) -> ErrorCode {
    match e {
        CertError::Malformed => ErrorCode::CertificateMalformed,
        CertError::UnsupportedAlgorithm(_) => ErrorCode::UnsupportedAlgorithm,
        CertError::Untrusted => ErrorCode::CertificateUntrusted,
        CertError::Expired => ErrorCode::CertificateExpired,
        CertError::Revoked => ErrorCode::CertificateRevoked,
        CertError::CrlOutdated { .. } => ErrorCode::CrlOutdated,
        CertError::KeyUsage => ErrorCode::CertificateKeyUsage,
        CertError::UnsupportedCriticalExtension(_) => ErrorCode::CertificateUnsupportedExtension,
        CertError::Policy => ErrorCode::CertificatePolicy,
        CertError::SignatureInvalid => ErrorCode::SignatureInvalid,
    }
}

/// A certificate that passed every check, with what the store keeps of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCert {
    pub der: Vec<u8>,
    pub issuer_raw: Vec<u8>,
    pub subject_raw: Vec<u8>,
    pub issuer: String,
    pub serial_hex: String,
    pub not_after: i64,
    /// SHA-256 of the certificate, hex.
    pub fingerprint: String,
}

const KNOWN_CRITICAL: &[&str] = &[
    oid::KEY_USAGE,
    oid::BASIC_CONSTRAINTS,
    oid::CERTIFICATE_POLICIES,
    oid::SUBJECT_ALT_NAME,
    oid::EXTENDED_KEY_USAGE,
    oid::SUBJECT_DIRECTORY_ATTRIBUTES,
];

/// The bytes the card signed: `SHA-256(origin) ‖ SHA-256(challenge)`. The card signs their
/// SHA-256 in a DigestInfo, so a signature names the site it was made for (Web eID's
/// construction): a challenge relayed from another site does not verify here.
pub fn signed_data(origin: &str, challenge: &[u8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&Sha256::digest(origin.as_bytes()));
    out[32..].copy_from_slice(&Sha256::digest(challenge));
    out
}

/// Checks `cert_der` against `store` at time `now` (Unix seconds), then `signature` (RSASSA
/// PKCS#1 v1.5 with SHA-256) over [`signed_data`].
pub fn verify_signed_challenge(
    store: &TrustStore,
    cert_der: &[u8],
    origin: &str,
    challenge: &[u8],
    signature: &[u8],
    now: i64,
) -> Result<VerifiedCert, CertError> {
    let (verified, key) = check_certificate(store, cert_der, now)?;
    let sig =
        rsa::pkcs1v15::Signature::try_from(signature).map_err(|_| CertError::SignatureInvalid)?;
    rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key)
        .verify(&signed_data(origin, challenge), &sig)
        .map_err(|_| CertError::SignatureInvalid)?;
    Ok(verified)
}

/// Checks `cert_der` alone against `store` at `now` (Unix seconds): issued by a configured CA,
/// valid now, the extensions and policy that CA's certificates carry, not revoked, an RSA key
/// of 2048 bits or more. No proof that anyone holds its key: for the operator's `binding add`.
pub fn verify_certificate(
    store: &TrustStore,
    cert_der: &[u8],
    now: i64,
) -> Result<VerifiedCert, CertError> {
    check_certificate(store, cert_der, now).map(|(verified, _)| verified)
}

fn check_certificate(
    store: &TrustStore,
    cert_der: &[u8],
    now: i64,
) -> Result<(VerifiedCert, rsa::PublicKey), CertError> {
    let (cert, anchor) = parse_and_anchor(store, cert_der)?;
    check_validity(&cert, anchor, now)?;
    check_extensions(&cert, &anchor.policies, Purpose::Authentication)?;
    check_revocation(cert.raw_serial(), anchor, now, store.crl_max_age_secs)?;

    let key = rsa::PublicKey::from_public_key_der(cert.public_key().raw)
        .map_err(|_| CertError::UnsupportedAlgorithm("holder key is not RSA".into()))?;
    if key_bits(&key) < 2048 {
        return Err(CertError::UnsupportedAlgorithm("RSA key under 2048 bits".into()));
    }
    let verified = VerifiedCert {
        der: cert_der.to_vec(),
        issuer_raw: cert.issuer().as_raw().to_vec(),
        subject_raw: cert.subject().as_raw().to_vec(),
        issuer: cert.issuer().to_string(),
        serial_hex: hex(cert.raw_serial()),
        not_after: cert.validity().not_after.timestamp(),
        fingerprint: hex(&Sha256::digest(cert_der)),
    };
    Ok((verified, key))
}

/// What a certificate is checked for: its key usage and the anchor's policies differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// A card's authentication certificate: digitalSignature, the anchor's `policies`.
    Authentication,
    /// An HPKI second certificate: digitalSignature or nonRepudiation (contentCommitment),
    /// the anchor's `signing_policies` (none configured: refused).
    Signing,
}

/// The certificate, and the configured anchor whose key verifies its signature.
fn parse_and_anchor<'s, 'c>(
    store: &'s TrustStore,
    cert_der: &'c [u8],
) -> Result<(X509Certificate<'c>, &'s TrustAnchor), CertError> {
    let (rest, cert) = X509Certificate::from_der(cert_der).map_err(|_| CertError::Malformed)?;
    if !rest.is_empty() {
        return Err(CertError::Malformed);
    }
    let anchor = store
        .issuer_of(cert.issuer().as_raw())
        .find(|a| {
            check_rsa_signature(
                &a.key,
                &cert.signature_algorithm,
                cert.tbs_certificate.as_ref(),
                &cert.signature_value.data,
            )
            .is_ok()
        })
        .ok_or(CertError::Untrusted)?;
    Ok((cert, anchor))
}

/// An HPKI second certificate that passed every check of [`verify_signing_certificate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningCert {
    pub verified: VerifiedCert,
    pub not_before: i64,
    /// The certified key, as SubjectPublicKeyInfo DER.
    pub spki_der: Vec<u8>,
}

/// Checks an HPKI second certificate (signing) against `store` at `now` (Unix seconds): issued
/// by a configured HPKI CA, valid now, a signing key usage, one of that CA's signing policies,
/// no unknown critical extension, not revoked, an RSA key of at least 2048 bits. Who the
/// subject is and which key it certifies are the caller's to compare.
pub fn verify_signing_certificate(
    store: &TrustStore,
    cert_der: &[u8],
    now: i64,
) -> Result<SigningCert, CertError> {
    let (cert, anchor) = parse_and_anchor(store, cert_der)?;
    check_validity(&cert, anchor, now)?;
    check_extensions(&cert, &anchor.signing_policies, Purpose::Signing)?;
    check_revocation(cert.raw_serial(), anchor, now, store.crl_max_age_secs)?;
    let key = rsa::PublicKey::from_public_key_der(cert.public_key().raw)
        .map_err(|_| CertError::UnsupportedAlgorithm("the key is not RSA".into()))?;
    if key_bits(&key) < 2048 {
        return Err(CertError::UnsupportedAlgorithm("RSA key under 2048 bits".into()));
    }
    Ok(SigningCert {
        verified: VerifiedCert {
            der: cert_der.to_vec(),
            issuer_raw: cert.issuer().as_raw().to_vec(),
            subject_raw: cert.subject().as_raw().to_vec(),
            issuer: cert.issuer().to_string(),
            serial_hex: hex(cert.raw_serial()),
            not_after: cert.validity().not_after.timestamp(),
            fingerprint: hex(&Sha256::digest(cert_der)),
        },
        not_before: cert.validity().not_before.timestamp(),
        spki_der: cert.public_key().raw.to_vec(),
    })
}

/// Checks a holder's recorded certificate (not the card: its issuer name, serial and expiry, as
/// `identity import` or the last card login recorded them) at `now` (Unix seconds): still
/// valid, issued by a configured CA, not revoked by that CA's current CRLs.
pub fn check_recorded(
    store: &TrustStore,
    issuer_raw: &[u8],
    serial_hex: &str,
    not_after: i64,
    now: i64,
) -> Result<(), CertError> {
    if now > not_after {
        return Err(CertError::Expired);
    }
    let serial = unhex(serial_hex).ok_or(CertError::Malformed)?;
    let mut anchors = store.issuer_of(issuer_raw).peekable();
    // No configured CA of that name: nothing can say whether it is revoked.
    if anchors.peek().is_none() {
        return Err(CertError::Untrusted);
    }
    for anchor in anchors {
        check_revocation(&serial, anchor, now, store.crl_max_age_secs)?;
    }
    Ok(())
}

/// Hex (as [`hex`] writes it) back to bytes.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

fn key_bits(key: &rsa::PublicKey) -> usize {
    use rsa::traits::PublicKeyParts as _;
    key.size() * 8
}

fn check_validity(
    cert: &X509Certificate<'_>,
    anchor: &TrustAnchor,
    now: i64,
) -> Result<(), CertError> {
    let v = cert.validity();
    let in_range = |from: i64, to: i64| from <= now && now <= to;
    if !in_range(v.not_before.timestamp(), v.not_after.timestamp())
        || !in_range(anchor.not_before, anchor.not_after)
    {
        return Err(CertError::Expired);
    }
    Ok(())
}

fn check_extensions(
    cert: &X509Certificate<'_>,
    policies: &[String],
    purpose: Purpose,
) -> Result<(), CertError> {
    for ext in cert.extensions() {
        let id = ext.oid.to_id_string();
        if ext.critical && !KNOWN_CRITICAL.contains(&id.as_str()) {
            return Err(CertError::UnsupportedCriticalExtension(id));
        }
    }
    // A CA certificate is never a holder's authentication certificate.
    if cert.basic_constraints().map_err(|_| CertError::Malformed)?.is_some_and(|bc| bc.value.ca) {
        return Err(CertError::KeyUsage);
    }
    let ku = cert.key_usage().map_err(|_| CertError::Malformed)?;
    let usable = ku.is_some_and(|ku| match purpose {
        Purpose::Authentication => ku.value.digital_signature(),
        Purpose::Signing => ku.value.digital_signature() || ku.value.non_repudiation(),
    });
    if !usable {
        return Err(CertError::KeyUsage);
    }
    if purpose == Purpose::Signing && policies.is_empty() {
        return Err(CertError::Policy);
    }
    if !policies.is_empty() {
        let ext = cert
            .get_extension_unique(&oid_registry::OID_X509_EXT_CERTIFICATE_POLICIES)
            .map_err(|_| CertError::Malformed)?;
        let carried: Vec<String> = match ext.map(|e| e.parsed_extension()) {
            Some(ParsedExtension::CertificatePolicies(p)) => {
                p.iter().map(|pi| pi.policy_id.to_id_string()).collect()
            }
            Some(_) => return Err(CertError::Malformed),
            None => Vec::new(),
        };
        if !policies.iter().any(|required| carried.contains(required)) {
            return Err(CertError::Policy);
        }
    }
    Ok(())
}

/// Whether `anchor`'s CRLs let the certificate with `raw_serial` through at `now`. Also used
/// for a holder's recorded certificate on the paths that do not read the card.
pub(crate) fn check_revocation(
    raw_serial: &[u8],
    anchor: &TrustAnchor,
    now: i64,
    max_age_secs: i64,
) -> Result<(), CertError> {
    for crl in &anchor.crls {
        if crl.is_revoked(raw_serial) {
            return Err(CertError::Revoked);
        }
        // A stale list cannot vouch that the certificate is still good: fail closed, for
        // this CA only (other CAs' lists are separate anchors).
        if crl.is_stale(now, max_age_secs) {
            tracing::warn!(ca = %anchor.name, "CRL out of date: refusing this CA's certificate");
            return Err(CertError::CrlOutdated { ca: anchor.name.clone() });
        }
    }
    Ok(())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
