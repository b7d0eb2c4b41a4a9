//! The JMA path: a holder whose CA allows it proves who they are with the 医籍登録番号 and the
//! カードID printed on the HPKI card, instead of the card. It is a weaker proof, so:
//! - every attempt is counted before the numbers are compared, per 医籍登録番号 (keyed by its
//!   HMAC, so a number nobody holds counts and answers exactly like a real one); five failures
//!   start a back-off (15 minutes, doubling), which the refusal states;
//! - the numbers are compared in the database, as an HMAC under the server secret;
//! - a success rotates the session id, and grants the new session only what the path is for:
//!   enrolling that holder's first phone.
//!
//! Every attempt is audited.

use mahpki_protocol::{ErrorCode, api::Holder, enrol::JmaLogin};
use zeroize::Zeroizing;

use super::{Ctx, ServiceError, session};
use crate::store::{AuditAction, JmaAttempt, JmaGrant, JmaGranted};

/// Why a JMA login was refused.
#[derive(Debug, thiserror::Error)]
pub enum JmaRefusal {
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The number is backing off until `until_ms`. It says nothing about whether the number
    /// exists: unknown ones back off too.
    #[error("backing off until {until_ms}")]
    BackingOff { until_ms: i64, now_ms: i64 },
    /// Wrong numbers: the failures left before a pause, and the pause this one started (the
    /// fifth), so the form can say both without another attempt.
    #[error("wrong numbers ({tries_left} tries left)")]
    Wrong { tries_left: u8, backoff_until_ms: Option<i64>, now_ms: i64 },
}

impl JmaRefusal {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Service(e) => e.code(),
            Self::BackingOff { .. } => ErrorCode::JmaLocked,
            Self::Wrong { .. } => ErrorCode::JmaLoginFailed,
        }
    }

    /// The audit row's detail: the pause it met or started.
    fn detail(&self) -> Option<String> {
        match self {
            Self::BackingOff { until_ms, .. } => Some(format!("backing_off_until_ms={until_ms}")),
            Self::Service(_) | Self::Wrong { backoff_until_ms: None, .. } => None,
            Self::Wrong { backoff_until_ms: Some(until_ms), .. } => {
                Some(format!("started_backoff_until_ms={until_ms}"))
            }
        }
    }
}

/// A JMA login from the browser whose page session `cookie` names (if any): the holder and the
/// new session's id, granted that holder's first-phone enrolment. Every refusal is audited
/// (`jma_auth`), in the trail of each holder the number names.
pub async fn login(
    ctx: &Ctx<'_>,
    cookie: Option<&[u8]>,
    req: &JmaLogin,
    client: Option<&str>,
) -> Result<(Holder, Zeroizing<String>), JmaRefusal> {
    match attempt(ctx, cookie, req, client).await {
        Ok(v) => Ok(v),
        Err((hpki_ids, refusal)) => {
            let (code, detail) = (refusal.code(), refusal.detail());
            let named: Vec<Option<String>> = if hpki_ids.is_empty() {
                vec![None]
            } else {
                hpki_ids.into_iter().map(Some).collect()
            };
            for hpki_id in named {
                ctx.audit(AuditAction::JmaAuth, hpki_id, client, Some(code), detail.clone()).await;
            }
            Err(refusal)
        }
    }
}

/// The login itself; a refusal comes with the holders the number names, for the audit.
async fn attempt(
    ctx: &Ctx<'_>,
    cookie: Option<&[u8]>,
    req: &JmaLogin,
    client: Option<&str>,
) -> Result<(Holder, Zeroizing<String>), (Vec<String>, JmaRefusal)> {
    let nobody = |r: JmaRefusal| (Vec::new(), r);
    let secret = ctx
        .secret
        .ok_or_else(|| nobody(ServiceError::internal("the server secret is not loaded").into()))?;
    let number = req.registration_number.trim();
    let card_id = Zeroizing::new(req.card_id.trim().to_owned());
    let number_key = secret.registration_key(number);
    let card_mac = secret.card_id_mac(number, &card_id);
    let now = ctx.now_ms;
    // Counted before compared: parallel guesses cannot all pass a check made beforehand.
    let (blocked_until_ms, started_backoff, tries_left) =
        match ctx.store.jma_attempt(&number_key, now).await {
            Ok(JmaAttempt::Counted { blocked_until_ms, started_backoff, tries_left }) => {
                (blocked_until_ms, started_backoff, tries_left)
            }
            Ok(JmaAttempt::BackingOff { until_ms }) => {
                return Err(nobody(JmaRefusal::BackingOff { until_ms, now_ms: now }));
            }
            Err(e) => return Err(nobody(ServiceError::from(e).into())),
        };
    let candidates = ctx
        .store
        .identities_by_jma_numbers(number, &card_mac)
        .await
        .map_err(|e| nobody(ServiceError::from(e).into()))?;
    // A CA without the JMA path answers like an unknown number: nothing to learn from probing.
    let candidates: Vec<_> =
        candidates.into_iter().filter(|c| ctx.config.policy(c.ca).jma_path).collect();
    let holders = || candidates.iter().map(|c| c.hpki_id.clone()).collect::<Vec<_>>();
    let Some(matched) = candidates.iter().find(|c| c.card_matches) else {
        if started_backoff {
            tracing::info!(holders = ?holders(), until_ms = blocked_until_ms,
                "a 医籍登録番号 started backing off after five failed JMA attempts");
        }
        let backoff_until_ms = started_backoff.then_some(blocked_until_ms);
        return Err((holders(), JmaRefusal::Wrong { tries_left, backoff_until_ms, now_ms: now }));
    };
    let failed = |e: ServiceError| (holders(), JmaRefusal::from(e));
    let identity = ctx.store.identity_get(&matched.hpki_id).await.map_err(|e| failed(e.into()))?;
    let identity = identity
        .ok_or_else(|| failed(ServiceError::internal("holder vanished during JMA login")))?;
    // A revoked, expired or suspended holder gets nothing from the numbers on the card.
    ctx.require_standing(&matched.hpki_id, AuditAction::JmaAuth, client).await.map_err(failed)?;
    // A fresh session id: one planted in the browser before the login carries nothing after it.
    let old = session::current(ctx, cookie).await.ok().map(|s| s.id_hash);
    let (new_id, new_hash) = session::new_id();
    let granted = ctx
        .store
        .jma_grant(&JmaGrant {
            number_key: &number_key,
            blocked_until_ms,
            old_session_hash: old.as_deref(),
            new_session_hash: &new_hash,
            hpki_id: &matched.hpki_id,
            expires_ms: now + session::IDLE_MS,
            now_ms: now,
            client,
        })
        .await
        .map_err(|e| failed(e.into()))?;
    if let JmaGranted::BackingOff { until_ms } = granted {
        return Err((holders(), JmaRefusal::BackingOff { until_ms, now_ms: now }));
    }
    Ok((identity.holder, new_id))
}
