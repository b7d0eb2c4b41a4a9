//! Certificate trust for the two card families: HPKI (who the holder is) and JPKI (the My Number
//! card being bound). Each [`TrustAnchor`] is an issuing CA certificate with the policy OIDs its
//! end-entity certificates must carry and the CRLs that say which are revoked.
//!
//! We validate ourselves rather than with webpki: real HPKI and JPKI certificates mark
//! certificatePolicies (and HPKI its hcRole) critical, which webpki refuses as unknown. The chains
//! are one level deep (the card's certificate, issued directly by a configured CA), and every check
//! a path validator would make at that depth is made here, each failing with its own reason.

mod anchor;
mod crl;
mod verify;

pub use anchor::{
    AnchorError, DEFAULT_CRL_MAX_AGE_SECS, JPKI_AUTH_CA_2023, SharedTrust, TrustAnchor,
    TrustConfig, TrustStore,
};
pub use verify::{
    CertError, VerifiedCert, cert_error_code, check_recorded, hex, signed_data,
    verify_signed_challenge,
};

/// OIDs of extensions a certificate may mark critical and still be accepted: the ones we
/// understand and check (or that real HPKI/JPKI certificates carry and that carry no constraint
/// we would have to enforce).
pub mod oid {
    pub const KEY_USAGE: &str = "2.5.29.15";
    pub const BASIC_CONSTRAINTS: &str = "2.5.29.19";
    pub const CERTIFICATE_POLICIES: &str = "2.5.29.32";
    pub const SUBJECT_ALT_NAME: &str = "2.5.29.17";
    pub const EXTENDED_KEY_USAGE: &str = "2.5.29.37";
    /// subjectDirectoryAttributes: where HPKI certificates carry the ISO 17090 hcRole.
    pub const SUBJECT_DIRECTORY_ATTRIBUTES: &str = "2.5.29.9";
    /// CRL distribution points (the real JPKI CA names a directory, not a URL).
    pub const CRL_DISTRIBUTION_POINTS: &str = "2.5.29.31";
    pub const AUTHORITY_KEY_IDENTIFIER: &str = "2.5.29.35";
    pub const SUBJECT_KEY_IDENTIFIER: &str = "2.5.29.14";
}
