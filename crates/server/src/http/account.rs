//! The holder's own page over HTTP: `GET /api/account` and its actions. Each needs this
//! browser's signing session; the rules are in `service::account`. An action that leaves this
//! browser without an alive session (ending it, ending all, revoking the binding it was begun
//! with) clears the signing cookie in the same answer.

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use mahpki_protocol::{
    HpkiId,
    account::{Account, AccountDone},
};

use super::{ApiError, AppState, client::ClientAddr, signin};
use crate::service::account;

/// `GET /api/account`.
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Account>, ApiError> {
    let current = signin::required(&state, &headers).await?;
    Ok(Json(account::show(&state.ctx(), &current).await?))
}

/// What the action did to the holder's sessions, with the cookie cleared if this browser's
/// session did not survive it.
async fn answer(
    state: &AppState,
    headers: &HeaderMap,
    hpki_id: &HpkiId,
    before: usize,
) -> Result<Response, ApiError> {
    let signed_out = signin::current(state, headers).await?.is_none();
    let after = crate::service::signin::list(&state.ctx(), hpki_id).await?.len();
    let done = AccountDone { signed_out, sessions_ended: before.saturating_sub(after) as u64 };
    let mut res = Json(done).into_response();
    if signed_out {
        res.headers_mut().append(header::SET_COOKIE, signin::clear_cookie(state));
    }
    Ok(res)
}

/// The signed-in holder and how many sessions they have open now.
async fn holder(state: &AppState, headers: &HeaderMap) -> Result<(HpkiId, usize), ApiError> {
    let s = signin::required(state, headers).await?;
    let open = crate::service::signin::list(&state.ctx(), &s.hpki_id).await?.len();
    Ok((s.hpki_id, open))
}

/// A row id from the path; anything else is a malformed request (typed, like every refusal).
fn row_id(s: &str) -> Result<i64, ApiError> {
    s.parse().map_err(|_| ApiError(mahpki_protocol::ErrorCode::BadRequest))
}

/// `POST /api/account/phones/{id}/revoke`.
pub async fn revoke_phone(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = row_id(&id)?;
    let (hpki_id, before) = holder(&state, &headers).await?;
    account::revoke_phone(&state.ctx(), &hpki_id, id, client.as_deref()).await?;
    answer(&state, &headers, &hpki_id, before).await
}

/// `POST /api/account/mynumber/{id}/revoke`.
pub async fn revoke_mynumber(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = row_id(&id)?;
    let (hpki_id, before) = holder(&state, &headers).await?;
    account::revoke_mynumber(&state.ctx(), &hpki_id, id, client.as_deref()).await?;
    answer(&state, &headers, &hpki_id, before).await
}

/// `POST /api/account/sessions/{sid}/end`.
pub async fn end_session(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Path(sid): Path<String>,
) -> Result<Response, ApiError> {
    let (hpki_id, before) = holder(&state, &headers).await?;
    account::end_session(&state.ctx(), &hpki_id, &sid, client.as_deref()).await?;
    answer(&state, &headers, &hpki_id, before).await
}

/// `POST /api/account/sessions/end-all`.
pub async fn end_all(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (hpki_id, before) = holder(&state, &headers).await?;
    account::end_all(&state.ctx(), &hpki_id, client.as_deref()).await?;
    answer(&state, &headers, &hpki_id, before).await
}
