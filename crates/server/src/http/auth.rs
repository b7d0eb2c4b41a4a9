//! HPKI card authentication: who is at this PC. `challenge` opens (or reuses) an anonymous
//! session and issues a challenge; `finish` verifies the card's answer, maps its certificate to
//! a holder and replaces the session by an authenticated one with a fresh id.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use mahpki_protocol::{
    ErrorCode,
    api::{CardSignature, MyNumberBinding, SessionInfo},
};

use super::{
    ApiError, ApiJson, AppState,
    challenge::{self, Purpose},
    client::ClientAddr,
    session,
};
use crate::store::AuditAction;
use crate::store::{AuditEvent, IdentityRecord, MyNumberRecord};

/// `POST /api/hpki/challenge`.
pub async fn hpki_challenge(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    anonymous_challenge(&state, &headers, Purpose::Hpki).await
}

/// A challenge for a card that says who is at this PC, so the page may not have a session yet:
/// one bound to the live page session (a retry after a wrong PIN), or to a new anonymous one
/// whose cookie comes with it.
pub(super) async fn anonymous_challenge(
    state: &AppState,
    headers: &HeaderMap,
    purpose: Purpose,
) -> Result<Response, ApiError> {
    let (s, new_cookie) = session::current_or_new(state, headers).await?;
    let body = challenge::issue(state, &s.id_hash, purpose).await?;
    let mut res = Json(body).into_response();
    if let Some(cookie) = new_cookie {
        res.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(res)
}

/// `POST /api/hpki/finish`.
pub async fn hpki_finish(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(sig): ApiJson<CardSignature>,
) -> Result<Response, ApiError> {
    let outcome = authenticate(&state, &headers, &sig).await;
    let (hpki_id, code) = match &outcome {
        Ok((identity, _)) => (Some(identity.holder.hpki_id.to_string()), None),
        Err(e) => (None, Some(e.0)),
    };
    audit(&state, AuditAction::HpkiAuth, hpki_id, client, code, None).await;
    let (identity, cookie) = outcome?;
    let info = session_info(&state, &identity).await?;
    let mut res = Json(info).into_response();
    res.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(res)
}

/// Checks the card's answer to this session's HPKI challenge and identifies the session: the
/// holder and the new page-session cookie.
pub(super) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    sig: &CardSignature,
) -> Result<(IdentityRecord, HeaderValue), ApiError> {
    let s = session::current(state, headers).await?;
    let trust = state.hpki_trust.current();
    let cert = challenge::verify(state, &s.id_hash, Purpose::Hpki, &trust, sig).await?;
    let identity = state
        .store
        .identity_by_cert(&cert.issuer_raw, &cert.subject_raw)
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError(ErrorCode::HolderUnknown))?;
    // A renewed card brings a new certificate: the paths without the card check that one.
    let hpki_id = identity.holder.hpki_id.as_str();
    state.store.hpki_cert_seen(hpki_id, &cert.current(), None).await.map_err(ApiError::internal)?;
    let (id, hash) = session::new_id();
    state
        .store
        .session_authenticate(
            &s.id_hash,
            &hash,
            identity.holder.hpki_id.as_str(),
            state.clock.now_ms(),
        )
        .await
        .map_err(ApiError::internal)?;
    Ok((identity, session::set_cookie(state.config.is_https(), &id)))
}

/// `GET /api/session`: who this session belongs to.
pub async fn current_session(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<SessionInfo>, ApiError> {
    let (_, hpki_id) = session::authenticated(&state, &headers).await?;
    let identity = state
        .store
        .identity_get(&hpki_id)
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError(ErrorCode::Unauthenticated))?;
    Ok(Json(session_info(&state, &identity).await?))
}

/// `POST /api/session/logout`.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let https = state.config.is_https();
    if let Some(id) = session::cookie_id(&headers, https) {
        let hash = session::hash_id(&id);
        state.store.session_delete(&hash).await.map_err(ApiError::internal)?;
        // Its live-event streams, on every server process, check the session and end.
        state.events.publish(&crate::events::session_key(&hash)).await;
    }
    Ok(([(header::SET_COOKIE, session::clear_cookie(https))], axum::http::StatusCode::NO_CONTENT)
        .into_response())
}

pub async fn session_info(
    state: &AppState,
    identity: &IdentityRecord,
) -> Result<SessionInfo, ApiError> {
    let mynumber = state
        .store
        .mynumber_active(identity.holder.hpki_id.as_str())
        .await
        .map_err(ApiError::internal)?
        .map(|b| binding_view(&b));
    Ok(SessionInfo { holder: identity.holder.clone(), mynumber })
}

pub fn binding_view(b: &MyNumberRecord) -> MyNumberBinding {
    MyNumberBinding {
        fingerprint: b.fingerprint.clone(),
        not_after: b.not_after_ms.div_euclid(1000),
        bound_at: b.created_ms.div_euclid(1000),
    }
}

/// Records an authentication or binding attempt. A failure to write the audit log is logged
/// loudly but does not turn the holder's answer into an error.
pub async fn audit(
    state: &AppState,
    action: AuditAction,
    hpki_id: Option<String>,
    client: Option<String>,
    failure: Option<ErrorCode>,
    detail: Option<String>,
) {
    let outcome = match failure {
        None => "ok".to_owned(),
        Some(code) => code.wire(),
    };
    let event = AuditEvent { hpki_id, action, client, outcome, detail };
    if let Err(e) = state.store.audit(&event).await {
        tracing::error!(error = %e, ?event, "could not write the audit log");
    }
}
