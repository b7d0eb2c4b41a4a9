//! HPKI card authentication over HTTP: the challenge (with the cookie of the anonymous session it
//! may open), the card's answer (with the identified session's new cookie), the session's holder
//! and logout. The rules are in `service::auth` and `service::session`.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use mahpki_protocol::api::{CardSignature, SessionInfo};

use super::{ApiError, ApiJson, AppState, client::ClientAddr, session};
use crate::service::{self, challenge::Purpose};

/// `POST /api/hpki/challenge`.
pub async fn hpki_challenge(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    anonymous_challenge(&state, &headers, Purpose::Hpki).await
}

/// A challenge for a card that says who is at this PC, with the cookie of the anonymous session
/// it opened, if it opened one.
pub(super) async fn anonymous_challenge(
    state: &AppState,
    headers: &HeaderMap,
    purpose: Purpose,
) -> Result<Response, ApiError> {
    let cookie = session::cookie_hash(state, headers);
    let (body, new_id) =
        service::auth::anonymous_challenge(&state.ctx(), cookie.as_deref(), purpose).await?;
    let mut res = Json(body).into_response();
    if let Some(id) = new_id {
        let cookie = session::set_cookie(state.config.is_https(), &id);
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
    let cookie = session::cookie_hash(&state, &headers);
    let (info, id) =
        service::auth::finish(&state.ctx(), cookie.as_deref(), &sig, client.as_deref()).await?;
    let mut res = Json(info).into_response();
    res.headers_mut().insert(header::SET_COOKIE, session::set_cookie(state.config.is_https(), &id));
    Ok(res)
}

/// `GET /api/session`: who this session belongs to.
pub async fn current_session(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<SessionInfo>, ApiError> {
    let cookie = session::cookie_hash(&state, &headers);
    Ok(Json(service::auth::current_session(&state.ctx(), cookie.as_deref()).await?))
}

/// `POST /api/session/logout`.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(hash) = session::cookie_hash(&state, &headers) {
        service::session::end(&state.ctx(), &hash).await?;
    }
    let clear = session::clear_cookie(state.config.is_https());
    Ok(([(header::SET_COOKIE, clear)], axum::http::StatusCode::NO_CONTENT).into_response())
}
