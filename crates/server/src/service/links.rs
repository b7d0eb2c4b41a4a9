//! A CA's enrolment link (`enrolment issue-link`): after a Mynaportal application the CA sends
//! the holder a link that enrols a phone without a PC, valid for months. Issued by the CLI;
//! opened and finished by the phone like any enrolment code (see [`super::phone_code`]).

use mahpki_protocol::HpkiId;
use zeroize::Zeroizing;

use super::phone_code::{code_url, new_token, relying_party};
use crate::{
    Config,
    standing::{self, StandingError},
    store::{
        AuditAction, EnrolError, EnrolmentKind, EnrolmentRecord, NewEnrolment, Purpose, Store,
        StoreError,
    },
};

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("no holder {0} is registered")]
    UnknownHolder(HpkiId),
    #[error("smartphone enrolment needs a public_origin with a domain name")]
    NoRelyingParty,
    #[error("refused: {0}")]
    Refused(#[from] EnrolError),
    #[error("refused: {0}")]
    Standing(#[from] StandingError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Issues the link, cancelling the holder's open enrolment like any new one; its URL (the
/// token in the fragment) and the enrolment.
pub async fn issue_link(
    store: &Store,
    config: &Config,
    hpki_id: &HpkiId,
    valid_days: u32,
    replace: bool,
) -> Result<(Zeroizing<String>, EnrolmentRecord), LinkError> {
    if relying_party(&config.public_origin).is_none() {
        return Err(LinkError::NoRelyingParty);
    }
    let identity = store.identity_get(hpki_id.as_str()).await?;
    let identity = identity.ok_or_else(|| LinkError::UnknownHolder(hpki_id.clone()))?;
    standing::require_configured(store, config, hpki_id.as_str(), AuditAction::EnrolmentIssueLink)
        .await?;
    let (token, token_hash) = new_token();
    let now = crate::store::now_ms();
    let new = NewEnrolment {
        hpki_id: hpki_id.to_string(),
        token_hash,
        kind: EnrolmentKind::Link,
        pc_session_hash: None,
        replace,
        first_phone_only: false,
        policy: config.policy(identity.holder.ca),
        now_ms: now,
        expires_ms: now + i64::from(valid_days) * 24 * 60 * 60 * 1000,
    };
    let issued = store.enrolment_issue(&new, Some("cli")).await?;
    Ok((code_url(config, Purpose::Enrolment, &token), issued.enrolment))
}
