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
pub mod oid;
mod signature;
mod verify;

pub use anchor::{
    AnchorError, DEFAULT_CRL_MAX_AGE_SECS, JPKI_AUTH_CA_2023, SharedTrust, TrustAnchor,
    TrustConfig, TrustStore,
};
pub use verify::{
    CertError, SigningCert, VerifiedCert, cert_error_code, check_recorded, hex, signed_data, unhex,
    verify_certificate, verify_signed_challenge, verify_signing_certificate,
};
