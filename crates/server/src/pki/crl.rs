//! Certificate revocation lists, checked against the anchor that issued them.

use std::collections::HashSet;

use x509_parser::prelude::*;

use super::signature::check_rsa_signature;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrlError {
    #[error("not a CRL: {0}")]
    Parse(String),
    #[error("issued by {0}, not by this CA")]
    WrongIssuer(String),
    #[error("its signature does not verify with this CA's key")]
    BadSignature,
}

/// A verified CRL: which serials are revoked, and until when the list is current.
#[derive(Debug, Clone)]
pub struct Crl {
    revoked: HashSet<Vec<u8>>,
    /// Unix seconds.
    pub this_update: i64,
    /// Unix seconds; `None` when the CRL states no nextUpdate (then its age decides, see
    /// [`Crl::is_stale`]).
    pub next_update: Option<i64>,
}

impl Crl {
    /// Parses a CRL and checks it was issued and signed by the CA with `issuer_subject_raw`
    /// (its DER subject) and `issuer_key`.
    pub fn parse(
        der: &[u8],
        issuer_subject_raw: &[u8],
        issuer_key: &rsa::PublicKey,
    ) -> Result<Self, CrlError> {
        let (_, crl) =
            CertificateRevocationList::from_der(der).map_err(|e| CrlError::Parse(e.to_string()))?;
        if crl.tbs_cert_list.issuer.as_raw() != issuer_subject_raw {
            return Err(CrlError::WrongIssuer(crl.tbs_cert_list.issuer.to_string()));
        }
        check_rsa_signature(
            issuer_key,
            &crl.signature_algorithm,
            crl.tbs_cert_list.as_ref(),
            &crl.signature_value.data,
        )
        .map_err(|_| CrlError::BadSignature)?;
        let revoked = crl.iter_revoked_certificates().map(|r| r.raw_serial().to_vec()).collect();
        Ok(Self {
            revoked,
            this_update: crl.last_update().timestamp(),
            next_update: crl.next_update().map(|t| t.timestamp()),
        })
    }

    pub fn is_revoked(&self, raw_serial: &[u8]) -> bool {
        self.revoked.contains(raw_serial)
    }

    /// Past its nextUpdate; or, when it names none, older than `max_age_secs` since its
    /// thisUpdate (a list that never says when it expires must not vouch forever).
    pub fn is_stale(&self, now: i64, max_age_secs: i64) -> bool {
        match self.next_update {
            Some(n) => now > n,
            None => now > self.this_update.saturating_add(max_age_secs),
        }
    }
}
