//! The daily sign-in over HTTP: the signing cookie, the HPKI card and My Number card ways in, the
//! browser's current signing session and sign-out. The rules are in `service::signin` and
//! `service::signin_mynumber`.
//!
//! The signing cookie is `SameSite=Lax`, unlike the page session's `Strict`: a relying service
//! sends the holder here by a top-level redirect (`/oidc/authorize`), and a `Strict` cookie would
//! not come with it. State changes stay behind the CSRF guard's same-origin check.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use mahpki_protocol::{
    ErrorCode,
    api::{CardSignature, SignedIn},
};

use super::{
    ApiError, ApiJson, AppState, auth,
    client::ClientAddr,
    session::{self, SameSite},
};
use crate::service::{
    self, ServiceError,
    challenge::{self, Purpose},
    signin::{self, Begun, EndReason, Proof, SigningSession},
    signin_mynumber::{self, CardHolder},
};
use crate::store::AuditAction;

pub fn cookie_name(https: bool) -> &'static str {
    if https { "__Host-mahpki_signin" } else { "mahpki_signin" }
}

/// The browser's signing cookie, if it holds one of our ids.
fn cookie_hash(state: &AppState, headers: &HeaderMap) -> Option<Vec<u8>> {
    session::read_cookie(headers, cookie_name(state.config.is_https()))
        .map(|id| crate::random::token_hash(&id))
}

fn set_cookie(state: &AppState, value: &str, max_age_secs: i64) -> HeaderValue {
    let https = state.config.is_https();
    session::cookie_header(cookie_name(https), value, https, SameSite::Lax, Some(max_age_secs))
}

pub(super) fn clear_cookie(state: &AppState) -> HeaderValue {
    set_cookie(state, "", 0)
}

/// The alive signing session of this browser, if any.
pub async fn current(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<SigningSession>, ApiError> {
    let Some(hash) = cookie_hash(state, headers) else { return Ok(None) };
    Ok(signin::by_cookie(&state.ctx(), &hash).await?)
}

/// Like [`current`], but a page that needs the sign-in is refused without one.
pub async fn required(state: &AppState, headers: &HeaderMap) -> Result<SigningSession, ApiError> {
    current(state, headers).await?.ok_or(ApiError(ErrorCode::NotSignedIn))
}

fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok())
}

/// What the holder's browser hears of a session.
pub async fn signed_in(state: &AppState, s: &SigningSession) -> Result<SignedIn, ApiError> {
    let identity = state
        .store
        .identity_get(s.hpki_id.as_str())
        .await?
        .ok_or(ApiError(ErrorCode::HolderUnknown))?;
    Ok(SignedIn {
        holder: identity.holder,
        factor: s.factor,
        since: s.auth_time_ms.div_euclid(1000),
        until: s.expires_ms.div_euclid(1000),
    })
}

/// Begins the signing session for a holder the request has just proved, and answers with it and
/// its cookie (replacing the one this browser held).
pub async fn answer_begun(
    state: &AppState,
    headers: &HeaderMap,
    hpki_id: &mahpki_protocol::HpkiId,
    proof: Proof,
    client: Option<&str>,
    mut extra_cookie: Option<HeaderValue>,
) -> Result<Response, ApiError> {
    let replaces = cookie_hash(state, headers);
    let ctx = state.ctx();
    let Begun { cookie, session } =
        signin::begin(&ctx, hpki_id, proof, user_agent(headers), replaces.as_deref(), client)
            .await?;
    let max_age = (session.expires_ms - ctx.now_ms).div_euclid(1000).max(0);
    let body = signed_in(state, &session).await?;
    let mut res = Json(body).into_response();
    res.headers_mut().append(header::SET_COOKIE, set_cookie(state, &cookie, max_age));
    if let Some(c) = extra_cookie.take() {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(res)
}

/// `POST /api/signin/hpki`: the card's answer to `/api/hpki/challenge`. Also identifies the page
/// session, as `/api/hpki/finish` does, so the guide's flows can follow without the card again.
pub async fn hpki(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(sig): ApiJson<CardSignature>,
) -> Result<Response, ApiError> {
    let cookie = session::cookie_hash(&state, &headers);
    let a = match service::auth::authenticate(&state.ctx(), cookie.as_deref(), &sig).await {
        Ok(v) => v,
        Err(e) => {
            let e = ApiError::from(e);
            refused(&state, None, client.as_deref(), e.0, "hpki_card").await;
            return Err(e);
        }
    };
    let page_cookie = session::set_cookie(state.config.is_https(), &a.session_id);
    let hpki_id = a.identity.holder.hpki_id.clone();
    answer_begun(&state, &headers, &hpki_id, Proof::HpkiCard, client.as_deref(), Some(page_cookie))
        .await
}

/// `POST /api/signin/mynumber/challenge`: a challenge for the My Number card, from a browser
/// nobody has signed in on yet (so on an anonymous page session, made here if need be).
pub async fn mynumber_challenge(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    auth::anonymous_challenge(&state, &headers, Purpose::JpkiSignIn).await
}

/// `POST /api/signin/mynumber`: the My Number card's answer to that challenge. Unlike the HPKI
/// card it does not identify the page session: the guide's steps that change a holder's
/// bindings still need the HPKI card.
pub async fn mynumber(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(sig): ApiJson<CardSignature>,
) -> Result<Response, ApiError> {
    const FACTOR: &str = "mynumber";
    let holder = match mynumber_holder(&state, &headers, &sig).await {
        Ok(h) => h,
        Err((e, hpki_id)) => {
            refused(&state, hpki_id, client.as_deref(), e.0, FACTOR).await;
            return Err(e);
        }
    };
    let CardHolder { hpki_id, proof } = holder;
    let result = answer_begun(&state, &headers, &hpki_id, proof, client.as_deref(), None).await;
    if let Err(e) = &result {
        refused(&state, Some(hpki_id.to_string()), client.as_deref(), e.0, FACTOR).await;
    }
    result
}

/// The holder the card's answer names, or the refusal and the holder it concerns (if known).
async fn mynumber_holder(
    state: &AppState,
    headers: &HeaderMap,
    sig: &CardSignature,
) -> Result<CardHolder, (ApiError, Option<String>)> {
    let s = session::current(state, headers).await.map_err(|e| (e, None))?;
    let trust = state.jpki_trust.current();
    let cert = challenge::verify(&state.ctx(), &s.id_hash, Purpose::JpkiSignIn, &trust, sig)
        .await
        .map_err(|e| (e.into(), None))?;
    signin_mynumber::holder_of(&state.ctx(), &cert).await.map_err(|e| {
        let hpki_id = match &e {
            ServiceError::MyNumberBindingEnded { hpki_id } => Some(hpki_id.to_string()),
            _ => None,
        };
        (ApiError::from(e), hpki_id)
    })
}

/// Audits a sign-in refused before a signing session could begin.
pub async fn refused(
    state: &AppState,
    hpki_id: Option<String>,
    client: Option<&str>,
    code: ErrorCode,
    factor: &str,
) {
    let detail = Some(format!("factor={factor}"));
    service::audit(&state.store, AuditAction::SignIn, hpki_id, client, Some(code), detail).await;
}

/// `GET /api/signin`: this browser's signing session.
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<SignedIn>, ApiError> {
    let s = required(&state, &headers).await?;
    Ok(Json(signed_in(&state, &s).await?))
}

/// `POST /api/signin/end`: sign-out on this device.
pub async fn end(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(s) = current(&state, &headers).await? {
        signin::end(&state.ctx(), &s.hpki_id, &s.sid, EndReason::SignOut, client.as_deref())
            .await?;
    }
    Ok(([(header::SET_COOKIE, clear_cookie(&state))], axum::http::StatusCode::NO_CONTENT)
        .into_response())
}
