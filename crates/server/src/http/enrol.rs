//! 別紙2: binding a smartphone with a WebAuthn platform credential (the rules are in
//! [`crate::service::phone_code`]).
//!
//! The PC (a session authenticated by the HPKI card, or proved by the JMA path or the bound
//! phone) issues an enrolment code and watches it over SSE. The phone presents the token once
//! (`open`), gets its own cookie, and from then on is known by that cookie: `begin` hands it
//! WebAuthn creation options, `finish` verifies the credential and commits it.

use std::convert::Infallible;

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{
        IntoResponse, Response,
        sse::{Event, Sse},
    },
};
use futures_util::Stream;
use mahpki_protocol::{
    api::Holder,
    enrol::{
        EnrolmentIssued, EnrolmentRequest, FinishEnrolment, OpenEnrolment, PhoneBound,
        RegistrationOptions,
    },
};

use super::{
    ApiError, ApiJson, AppState,
    client::ClientAddr,
    phone::{Opening, phone_of, phone_or_audit},
    session,
    watch::{self, Watcher},
};
use crate::{
    service::phone_code::{self, Enroller},
    store::AuditAction,
};

async fn enroller(state: &AppState, headers: &HeaderMap) -> Result<Enroller, ApiError> {
    let s = session::current(state, headers).await?;
    Ok(phone_code::enroller(&state.ctx(), &s).await?)
}

/// `GET /api/smartphone/holder`: whose phone this PC session may enrol, for the screens that
/// did not identify the holder with the HPKI card (the JMA path, or the old phone in a change).
pub async fn holder(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Holder>, ApiError> {
    let who = enroller(&state, &headers).await?;
    Ok(Json(phone_code::holder(&state.ctx(), &who).await?))
}

/// `POST /api/smartphone/enrolments` (PC).
pub async fn issue(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<EnrolmentRequest>,
) -> Result<Json<EnrolmentIssued>, ApiError> {
    let who = enroller(&state, &headers).await?;
    let ctx = state.ctx();
    Ok(Json(phone_code::issue_enrolment(&ctx, &who, req.replace, client.as_deref()).await?))
}

/// `DELETE /api/smartphone/enrolments/current` (PC, 中止). 204 whether or not a code was live.
pub async fn cancel(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let who = enroller(&state, &headers).await?;
    phone_code::cancel_enrolment(&state.ctx(), &who, client.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/smartphone/enrolments/current/events`: the state of the holder's newest enrolment
/// now, then every change, until it ends. Authenticated by the PC's session, never by the token.
pub async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let s = session::current(&state, &headers).await?;
    let who = phone_code::enroller(&state.ctx(), &s).await?;
    let slot = watch::stream_slot(&state, &s.id_hash)?;
    // Subscribed before the first read: a change between the two is not lost.
    let notices = state.events.subscribe();
    let (target, key) = phone_code::watch_enrolment(&state.ctx(), &who).await?;
    Ok(watch::watch(state, target, key, notices, Watcher::new(s, slot)))
}

/// `POST /api/enrol/open`: the first phone to present the token owns the enrolment.
pub async fn open(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<OpenEnrolment>,
) -> Result<Response, ApiError> {
    let phone = Opening::of(&state, &headers);
    let ctx = state.ctx();
    let opened =
        phone_code::open_enrolment(&ctx, &req.token, &phone.hash, client.as_deref()).await?;
    Ok(phone.answer(Json(opened).into_response()))
}

/// `POST /api/enrol/begin`: WebAuthn creation options, once the PC confirmed this phone.
pub async fn begin(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<RegistrationOptions>, ApiError> {
    let phone = phone_of(&state, &headers)?;
    let options = phone_code::begin_registration(&state.ctx(), &phone).await?;
    Ok(Json(RegistrationOptions { options }))
}

/// `POST /api/enrol/finish`: verifies the credential and commits it.
pub async fn finish(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<FinishEnrolment>,
) -> Result<Json<PhoneBound>, ApiError> {
    let phone = phone_or_audit(&state, &headers, AuditAction::PhoneBind, client.as_deref()).await?;
    let ctx = state.ctx();
    let bound = phone_code::finish_registration(
        &ctx,
        &phone,
        &req.credential,
        &req.label,
        client.as_deref(),
    )
    .await?;
    Ok(Json(bound))
}
