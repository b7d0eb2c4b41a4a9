//! スマートフォン変更 without the HPKI card (the rules are in [`crate::service::phone_code`]):
//! the phone bound now proves the holder to the PC with a WebAuthn assertion, through a first
//! code the PC shows; once the holder typed the code that phone then shows, the PC's session
//! may enrol the new phone with `replace`. Nothing is revoked here: the old phone keeps working
//! until the new credential is committed, so aborting anywhere leaves it as it was.

use std::convert::Infallible;

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{
        IntoResponse, Response,
        sse::{Event, Sse},
    },
};
use futures_util::Stream;
use mahpki_protocol::enrol::{
    AssertionOptions, ChangeBegin, ChangeFinish, ChangeProved, OpenEnrolment,
};

use super::{
    ApiError, ApiJson, AppState,
    client::ClientAddr,
    phone::{Opening, phone_of, phone_or_audit},
    session, watch,
};
use crate::{service::phone_code, store::AuditAction};

/// `POST /api/smartphone/change`: the first code, for the phone bound now. Opens an anonymous
/// session if the PC has none (this PC has no HPKI card to log in with).
pub async fn issue(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ctx = state.ctx();
    ctx.webauthn()?;
    let (pc, new_cookie) = session::current_or_new(&state, &headers).await?;
    let issued = phone_code::issue_change(&ctx, &pc.id_hash, client.as_deref()).await?;
    let mut res = Json(issued).into_response();
    if let Some(cookie) = new_cookie {
        res.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(res)
}

/// `GET /api/smartphone/change/current/events`: the PC's newest first code, as it changes.
pub async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    watch::pc_code(state, &headers, crate::store::PcPurpose::Change).await
}

/// `DELETE /api/smartphone/change/current` (PC, 中止). 204 whether or not one was live.
pub async fn cancel(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let s = session::current(&state, &headers).await?;
    phone_code::cancel_change(&state.ctx(), &s.id_hash, client.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/change/open`: the first phone to present the token owns the first code.
pub async fn open(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<OpenEnrolment>,
) -> Result<Response, ApiError> {
    let phone = Opening::of(&state, &headers);
    let ctx = state.ctx();
    let opened = phone_code::open_change(&ctx, &req.token, &phone.hash, client.as_deref()).await?;
    Ok(phone.answer(Json(opened).into_response()))
}

/// `POST /api/change/begin`: assertion options for the named holder's bound phone (answered
/// alike whether or not it has one: see [`phone_code::begin_assertion`]).
pub async fn begin(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ChangeBegin>,
) -> Result<Json<AssertionOptions>, ApiError> {
    let phone = phone_of(&state, &headers)?;
    let ctx = state.ctx();
    let options =
        phone_code::begin_assertion(&ctx, &phone, &req.hpki_id, client.as_deref()).await?;
    Ok(Json(AssertionOptions { options }))
}

/// `POST /api/change/finish`: verifies the old phone's assertion; it then shows the code the
/// holder types on the PC.
pub async fn finish(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ChangeFinish>,
) -> Result<Json<ChangeProved>, ApiError> {
    let phone =
        phone_or_audit(&state, &headers, AuditAction::PhoneChangeProve, client.as_deref()).await?;
    let ctx = state.ctx();
    Ok(Json(phone_code::prove(&ctx, &phone, &req.credential, client.as_deref()).await?))
}
