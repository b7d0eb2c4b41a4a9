//! The JMA path: a holder whose CA allows it proves who they are with the 医籍登録番号 and the
//! カードID printed on the HPKI card, instead of the card. It is a weaker proof, so:
//! - every attempt is counted before the numbers are compared, per 医籍登録番号 (keyed by its
//!   HMAC, so a number nobody holds counts and answers exactly like a real one); five failures
//!   start a back-off (15 minutes, doubling), which the answer states in `retry_after_secs`;
//! - the numbers are compared in the database, as an HMAC under the server secret;
//! - a success rotates the session id, and grants the new session only what the path is for:
//!   enrolling that holder's first phone.
//!
//! Every attempt is audited.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use mahpki_protocol::{ErrorBody, ErrorCode, enrol::JmaLogin};
use zeroize::Zeroizing;

use super::{
    ApiError, ApiJson, AppState, auth::audit, client::ClientAddr, error_response, session,
};
use crate::store::AuditAction;
use crate::store::{JmaAttempt, JmaGrant, JmaGranted};

/// Why a JMA login was refused.
enum Refusal {
    Api(ApiError),
    /// The number is backing off until `until_ms`: 423 with the wait in the body and in
    /// `Retry-After`. It says nothing about whether the number exists: unknown ones back off too.
    BackingOff {
        until_ms: i64,
        now_ms: i64,
    },
    /// Wrong numbers: the failures left before a pause, and the pause this one started (the
    /// fifth), so the form can say both without another attempt.
    Wrong {
        tries_left: u8,
        backoff_until_ms: Option<i64>,
        now_ms: i64,
    },
}

/// Seconds from `now_ms` to `until_ms`, rounded up: trying again after them is never too early.
fn wait_secs(until_ms: i64, now_ms: i64) -> u64 {
    u64::try_from((until_ms - now_ms).max(0)).unwrap_or(0).div_ceil(1000)
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

impl Refusal {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Api(e) => e.0,
            Self::BackingOff { .. } => ErrorCode::JmaLocked,
            Self::Wrong { .. } => ErrorCode::JmaLoginFailed,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Api(e) => e.into_response(),
            Self::Wrong { tries_left, backoff_until_ms, now_ms } => {
                let mut body = ErrorBody::from(ErrorCode::JmaLoginFailed);
                body.error.tries_left = Some(tries_left);
                body.error.retry_after_secs = backoff_until_ms.map(|u| wait_secs(u, now_ms));
                error_response(body)
            }
            Self::BackingOff { until_ms, now_ms } => {
                let secs = wait_secs(until_ms, now_ms);
                let mut body = ErrorBody::from(ErrorCode::JmaLocked);
                body.error.retry_after_secs = Some(secs);
                let mut res = error_response(body);
                res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
                res
            }
        }
    }
}

/// `POST /api/jma/login`.
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<JmaLogin>,
) -> Response {
    match attempt(&state, client.as_deref(), &headers, &req).await {
        Ok(res) => res,
        Err((hpki_ids, refusal)) => {
            let detail = match &refusal {
                Refusal::BackingOff { until_ms, .. } => {
                    Some(format!("backing_off_until_ms={until_ms}"))
                }
                Refusal::Api(_) | Refusal::Wrong { backoff_until_ms: None, .. } => None,
                Refusal::Wrong { backoff_until_ms: Some(until_ms), .. } => {
                    Some(format!("started_backoff_until_ms={until_ms}"))
                }
            };
            let code = refusal.code();
            // Each holder of the number sees the attempt in their own trail.
            let named: Vec<Option<String>> = if hpki_ids.is_empty() {
                vec![None]
            } else {
                hpki_ids.into_iter().map(Some).collect()
            };
            for hpki_id in named {
                audit(
                    &state,
                    AuditAction::JmaAuth,
                    hpki_id,
                    client.clone(),
                    Some(code),
                    detail.clone(),
                )
                .await;
            }
            refusal.into_response()
        }
    }
}

/// The login itself; a refusal comes with the holders the number names, for the audit.
async fn attempt(
    state: &AppState,
    client: Option<&str>,
    headers: &HeaderMap,
    req: &JmaLogin,
) -> Result<Response, (Vec<String>, Refusal)> {
    let nobody = |r: Refusal| (Vec::new(), r);
    let secret = state
        .secret
        .as_deref()
        .ok_or_else(|| nobody(ApiError::internal("the server secret is not loaded").into()))?;
    let number = req.registration_number.trim();
    let card_id = Zeroizing::new(req.card_id.trim().to_owned());
    let number_key = secret.registration_key(number);
    let card_mac = secret.card_id_mac(number, &card_id);
    let now = state.clock.now_ms();
    // Counted before compared: parallel guesses cannot all pass a check made beforehand.
    let (blocked_until_ms, started_backoff, tries_left) =
        match state.store.jma_attempt(&number_key, now).await {
            Ok(JmaAttempt::Counted { blocked_until_ms, started_backoff, tries_left }) => {
                (blocked_until_ms, started_backoff, tries_left)
            }
            Ok(JmaAttempt::BackingOff { until_ms }) => {
                return Err(nobody(Refusal::BackingOff { until_ms, now_ms: now }));
            }
            Err(e) => return Err(nobody(ApiError::internal(e).into())),
        };
    let candidates = state
        .store
        .identities_by_jma_numbers(number, &card_mac)
        .await
        .map_err(|e| nobody(ApiError::internal(e).into()))?;
    // A CA without the JMA path answers like an unknown number: nothing to learn from probing.
    let candidates: Vec<_> =
        candidates.into_iter().filter(|c| state.config.policy(c.ca).jma_path).collect();
    let holders = || candidates.iter().map(|c| c.hpki_id.clone()).collect::<Vec<_>>();
    let Some(matched) = candidates.iter().find(|c| c.card_matches) else {
        if started_backoff {
            tracing::info!(holders = ?holders(), until_ms = blocked_until_ms,
                "a 医籍登録番号 started backing off after five failed JMA attempts");
        }
        let backoff_until_ms = started_backoff.then_some(blocked_until_ms);
        return Err((holders(), Refusal::Wrong { tries_left, backoff_until_ms, now_ms: now }));
    };
    let identity = state
        .store
        .identity_get(&matched.hpki_id)
        .await
        .map_err(|e| (holders(), ApiError::internal(e).into()))?
        .ok_or_else(|| {
            (holders(), ApiError::internal("holder vanished during JMA login").into())
        })?;
    // A revoked, expired or suspended holder gets nothing from the numbers on the card.
    let ctx = state.ctx();
    ctx.require_standing(&matched.hpki_id, AuditAction::JmaAuth, client)
        .await
        .map_err(|e| (holders(), ApiError::from(e).into()))?;
    // A fresh session id: one planted in the browser before the login carries nothing after it.
    let old = session::current(state, headers).await.ok().map(|s| s.id_hash);
    let (new_id, new_hash) = session::new_id();
    let new_id = Zeroizing::new(new_id);
    let granted = state
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
        .map_err(|e| (holders(), ApiError::internal(e).into()))?;
    if let JmaGranted::BackingOff { until_ms } = granted {
        return Err((holders(), Refusal::BackingOff { until_ms, now_ms: now }));
    }
    let mut res = Json(identity.holder).into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, session::set_cookie(state.config.is_https(), &new_id));
    Ok(res)
}
