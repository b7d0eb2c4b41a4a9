//! 別紙1 over HTTP: binding the My Number card to the holder identified by the HPKI card in this
//! session. The rules are in `service::mynumber`.

use axum::{Json, extract::State, http::HeaderMap};
use mahpki_protocol::api::{CardSignature, Challenge, MyNumberBound};

use super::{ApiError, ApiJson, AppState, client::ClientAddr, session};
use crate::service::mynumber;

/// `POST /api/mynumber/challenge`: only for a holder identified in this session.
pub async fn mynumber_challenge(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Challenge>, ApiError> {
    let cookie = session::cookie_hash(&state, &headers);
    Ok(Json(mynumber::challenge(&state.ctx(), cookie.as_deref()).await?))
}

/// `POST /api/mynumber/finish`.
pub async fn mynumber_finish(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(sig): ApiJson<CardSignature>,
) -> Result<Json<MyNumberBound>, ApiError> {
    let cookie = session::cookie_hash(&state, &headers);
    let trust = state.jpki_trust.current();
    let bound =
        mynumber::bind(&state.ctx(), cookie.as_deref(), &trust, &sig, client.as_deref()).await?;
    Ok(Json(bound))
}
