//! A holder's standing: whether anything may be done in their name without reading their HPKI
//! card (the JMA path, スマートフォン変更 with the old phone, CA links). Computed at use time from
//! what is on record, never stored: the operator's suspension, and the holder's current HPKI
//! certificate (recorded by `identity import` and each card login) against the clock and the
//! CRLs loaded now. While a holder is not in good standing their My Number card and phone
//! bindings stay listed but cannot be used; they work again once the cause is gone (`identity
//! resume`, a current CRL, a new valid certificate at a card login), with no row to rewrite.

use mahpki_protocol::ErrorCode;

use crate::{
    Config,
    http::{ApiError, AppState},
    pki::{AnchorError, CertError, TrustStore, check_recorded},
    store::{AuditEvent, StandingFacts, Store, StoreError},
};

/// Why a holder is not in good standing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotInGoodStanding {
    #[error("no such holder")]
    UnknownHolder,
    #[error("suspended by the operator: {reason}")]
    Suspended { reason: String },
    #[error("no HPKI certificate on record (imported before it was tracked)")]
    CertificateUnknown,
    #[error("HPKI certificate serial {serial}: {cert}")]
    Certificate { serial: String, cert: CertError },
}

impl NotInGoodStanding {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::UnknownHolder => ErrorCode::HolderUnknown,
            Self::Suspended { .. } => ErrorCode::HolderSuspended,
            Self::CertificateUnknown => ErrorCode::HpkiCertificateUnknown,
            Self::Certificate { cert, .. } => crate::pki::cert_error_code(cert),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StandingError {
    #[error(transparent)]
    Refused(#[from] NotInGoodStanding),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot load the HPKI trust anchors: {0}")]
    Trust(#[from] AnchorError),
}

/// The configured HPKI anchors with their CRLs as the files hold them now, for the operator's
/// commands (which run outside the server).
pub fn configured_trust(config: &Config) -> Result<TrustStore, AnchorError> {
    let mut trust = TrustStore::load(&config.hpki_trust)?;
    trust.crl_max_age_secs = config.crl_max_age_secs;
    Ok(trust)
}

/// For the operator's commands (`enrolment issue-link`): as [`require`], against the
/// configured anchors, auditing a refusal.
pub async fn require_configured(
    store: &Store,
    config: &Config,
    hpki_id: &str,
    at: &str,
) -> Result<(), StandingError> {
    let trust = configured_trust(config)?;
    let result = check(store, &trust, hpki_id, crate::store::now_ms()).await;
    if let Err(StandingError::Refused(r)) = &result {
        audit_refusal(store, hpki_id, at, Some("cli"), r).await;
    }
    result
}

async fn audit_refusal(
    store: &Store,
    hpki_id: &str,
    at: &str,
    client: Option<&str>,
    refusal: &NotInGoodStanding,
) {
    tracing::info!(%hpki_id, at, why = %refusal, "refused: holder not in good standing");
    let event = AuditEvent {
        hpki_id: Some(hpki_id.to_owned()),
        action: "standing.refuse".into(),
        client: client.map(Into::into),
        outcome: refusal.code().wire(),
        detail: Some(format!("at={at} why={refusal}")),
    };
    if let Err(e) = store.audit(&event).await {
        tracing::error!(error = %e, ?event, "could not write the audit log");
    }
}

/// The judgement itself, on facts already read.
pub fn judge(
    facts: &StandingFacts,
    trust: &TrustStore,
    now_ms: i64,
) -> Result<(), NotInGoodStanding> {
    if facts.suspended_ms.is_some() {
        let reason = facts.suspended_reason.clone().unwrap_or_default();
        return Err(NotInGoodStanding::Suspended { reason });
    }
    let (Some(serial), Some(not_after_ms)) = (&facts.cert_serial, facts.cert_not_after_ms) else {
        return Err(NotInGoodStanding::CertificateUnknown);
    };
    check_recorded(
        trust,
        &facts.cert_issuer,
        serial,
        not_after_ms.div_euclid(1000),
        now_ms.div_euclid(1000),
    )
    .map_err(|cert| NotInGoodStanding::Certificate { serial: serial.clone(), cert })
}

/// Whether `hpki_id` is in good standing at `now_ms` under `trust` (the HPKI anchors).
pub async fn check(
    store: &Store,
    trust: &TrustStore,
    hpki_id: &str,
    now_ms: i64,
) -> Result<(), StandingError> {
    let facts = store.identity_standing(hpki_id).await?;
    let facts = facts.ok_or(NotInGoodStanding::UnknownHolder)?;
    Ok(judge(&facts, trust, now_ms)?)
}

/// For the handlers: refuses, with its code and an audit row naming the path (`at`), a holder
/// not in good standing.
pub async fn require(
    state: &AppState,
    hpki_id: &str,
    at: &str,
    client: Option<&str>,
) -> Result<(), ApiError> {
    let now = state.clock.now_ms();
    let refusal = match check(&state.store, &state.hpki_trust.current(), hpki_id, now).await {
        Ok(()) => return Ok(()),
        Err(e @ (StandingError::Store(_) | StandingError::Trust(_))) => {
            return Err(ApiError::internal(e));
        }
        Err(StandingError::Refused(r)) => r,
    };
    audit_refusal(&state.store, hpki_id, at, client, &refusal).await;
    Err(ApiError(refusal.code()))
}
