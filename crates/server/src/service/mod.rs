//! The rules, between the HTTP handlers (which parse and answer) and the store (which holds the
//! SQL). A service takes typed inputs, writes the audit trail and publishes the live events of
//! what it changed, and fails with a domain error that the HTTP layer turns into its code. The
//! CLI calls the same services.

pub mod account;
pub mod auth;
pub mod challenge;
pub mod csc;
pub mod jma;
pub mod links;
pub mod mynumber;
pub mod oidc;
pub mod oidc_client;
pub mod passkey_signin;
pub mod phone_code;
pub mod second_cert;
pub mod session;
pub mod signin;
pub mod signin_mynumber;

use std::sync::Arc;

use mahpki_protocol::{ErrorCode, HpkiId};
use webauthn_rs::Webauthn;

use crate::{
    Config,
    events::Events,
    pki::TrustStore,
    secret::ServerSecret,
    standing::{self, NotInGoodStanding, StandingError},
    store::{AuditAction, AuditEvent, Store},
};

/// What a service acts on, for one request: the server's parts without HTTP, and the time the
/// request is judged at.
#[derive(Clone)]
pub struct Ctx<'a> {
    pub store: &'a Store,
    pub config: &'a Config,
    /// The WebAuthn relying party (`public_origin`); `None` if the origin has no domain name.
    pub webauthn: Option<&'a Webauthn>,
    pub events: &'a Events,
    pub secret: Option<&'a ServerSecret>,
    /// The HPKI anchors and CRLs loaded now (a holder's standing is judged against them).
    pub hpki_trust: Arc<TrustStore>,
    pub now_ms: i64,
}

impl Ctx<'_> {
    pub(crate) fn webauthn(&self) -> Result<&Webauthn, ServiceError> {
        self.webauthn.ok_or(ServiceError::NoRelyingParty)
    }

    /// Refuses, with an audit row naming the path (`at`), a holder not in good standing.
    pub(crate) async fn require_standing(
        &self,
        hpki_id: &str,
        at: AuditAction,
        client: Option<&str>,
    ) -> Result<(), ServiceError> {
        let trust = &self.hpki_trust;
        match standing::require_in(self.store, trust, hpki_id, at, client, self.now_ms).await {
            Ok(()) => Ok(()),
            Err(StandingError::Refused(r)) => Err(ServiceError::Standing(r)),
            Err(e) => Err(ServiceError::Internal(e.to_string())),
        }
    }

    /// Writes one audit row; a failure to write is logged, never answered (the action it
    /// records already happened or was already refused).
    pub(crate) async fn audit(
        &self,
        action: AuditAction,
        hpki_id: Option<String>,
        client: Option<&str>,
        failure: Option<ErrorCode>,
        detail: Option<String>,
    ) {
        audit(self.store, action, hpki_id, client, failure, detail).await;
    }
}

/// An audit row to write, `"ok"` or the code that ended the action (for the store's
/// transactions, which write it with the change).
pub(crate) fn audit_event(
    action: AuditAction,
    hpki_id: Option<String>,
    client: Option<&str>,
    failure: Option<ErrorCode>,
    detail: Option<String>,
) -> AuditEvent {
    let outcome = failure.map_or_else(|| "ok".to_owned(), ErrorCode::wire);
    AuditEvent { hpki_id, action, client: client.map(Into::into), outcome, detail }
}

/// One audit row, `"ok"` or the code that ended the action.
pub async fn audit(
    store: &Store,
    action: AuditAction,
    hpki_id: Option<String>,
    client: Option<&str>,
    failure: Option<ErrorCode>,
    detail: Option<String>,
) {
    let outcome = failure.map_or_else(|| "ok".to_owned(), ErrorCode::wire);
    let event = AuditEvent { hpki_id, action, client: client.map(Into::into), outcome, detail };
    if let Err(e) = store.audit(&event).await {
        tracing::error!(error = %e, ?event, "could not write the audit log");
    }
}

/// Why a service refused or failed: each refusal names its catalogued code; anything else is
/// internal (logged in full by the HTTP layer, answered as a bare `internal`).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Code(#[from] crate::store::EnrolError),
    #[error("refused: {0}")]
    Standing(NotInGoodStanding),
    #[error("smartphone enrolment needs a public_origin with a domain name")]
    NoRelyingParty,
    #[error("not signed in, and no other proof of the holder")]
    Unauthenticated,
    #[error("no such holder")]
    HolderUnknown,
    #[error("the credential's label is empty, too long or has control characters")]
    LabelInvalid,
    #[error("WebAuthn refused the answer")]
    WebauthnRefused,
    #[error("the confirmation code is not six digits")]
    BadConfirmationCode,
    #[error("the confirmation code is wrong")]
    ConfirmationWrong,
    /// A refusal named by its catalogued code alone.
    #[error("refused: {0:?}")]
    Refused(ErrorCode),
    #[error("the holder's page: {0}")]
    Account(account::AccountRefusal),
    #[error("this My Number card is bound to nobody")]
    MyNumberNotBound,
    #[error("this My Number card's binding to {hpki_id} was replaced or revoked")]
    MyNumberBindingEnded { hpki_id: HpkiId },
    #[error("passkey refused: {0}")]
    Passkey(#[from] passkey_signin::PasskeyRefusal),
    #[error("stored data: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Internal(String),
}

impl ServiceError {
    /// The catalogued code a client hears (and the audit log records).
    pub fn code(&self) -> ErrorCode {
        use crate::store::EnrolError as E;
        match self {
            Self::Code(e) => match e {
                E::Unknown => ErrorCode::EnrolmentUnknown,
                E::Expired => ErrorCode::EnrolmentExpired,
                E::LinkExpired => ErrorCode::EnrolmentLinkExpired,
                E::PhoneLimitReached => ErrorCode::PhoneLimitReached,
                E::Used => ErrorCode::EnrolmentUsed,
                E::OtherDevice => ErrorCode::EnrolmentOtherDevice,
                E::Cancelled => ErrorCode::EnrolmentCancelled,
                E::PhoneAlreadyBound => ErrorCode::PhoneAlreadyBound,
                E::FirstPhoneOnly => ErrorCode::JmaFirstPhoneOnly,
                E::NoCeremony => ErrorCode::WebauthnFailed,
                E::CredentialExists => ErrorCode::CredentialExists,
                E::Claimed => ErrorCode::ChangeCodeClaimed,
                E::ConfirmationPending => ErrorCode::ConfirmationPending,
                E::ConfirmationFailed => ErrorCode::ConfirmationFailed,
                E::ConfirmationUnknown => ErrorCode::ConfirmationUnknown,
                E::PasskeyUnknown => ErrorCode::PasskeyUnknown,
                E::Store(_) => ErrorCode::Internal,
            },
            Self::Standing(r) => r.code(),
            Self::Account(r) => r.code(),
            Self::Unauthenticated => ErrorCode::Unauthenticated,
            Self::HolderUnknown => ErrorCode::HolderUnknown,
            Self::LabelInvalid => ErrorCode::CredentialLabelInvalid,
            Self::WebauthnRefused => ErrorCode::WebauthnFailed,
            Self::BadConfirmationCode => ErrorCode::BadRequest,
            Self::ConfirmationWrong => ErrorCode::ConfirmationWrong,
            Self::Refused(code) => *code,
            Self::MyNumberNotBound => ErrorCode::MyNumberNotBound,
            Self::MyNumberBindingEnded { .. } => ErrorCode::MyNumberBindingEnded,
            Self::Passkey(r) => r.code(),
            Self::NoRelyingParty | Self::Store(_) | Self::Internal(_) => ErrorCode::Internal,
        }
    }

    pub(crate) fn internal(e: impl std::fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}
