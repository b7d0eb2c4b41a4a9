//! The confirmation a phone owes the PC, for both purposes of a phone code (the rules are in
//! [`crate::service::phone_code`]): the phone that opened the PC's code shows a short code, the
//! holder types it on the PC (`POST /api/smartphone/confirm`), and the phone hears the outcome
//! (`GET /api/phone/confirmation/events`).

use std::convert::Infallible;

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, header},
    response::{
        IntoResponse, Response,
        sse::{Event, Sse},
    },
};
use futures_util::Stream;
use mahpki_protocol::enrol::{ConfirmCode, Confirmed};
use zeroize::Zeroizing;

use super::{
    ApiError, ApiJson, AppState,
    client::ClientAddr,
    phone::phone_of,
    session,
    watch::{self, Watcher},
};
use crate::{
    service::phone_code,
    store::{Purpose, Rotation},
};

/// `POST /api/smartphone/confirm` (PC): the code the phone shows. In a change, the right one
/// gives this PC's session the phone grant under a new session id (set here); for a sign-in
/// code, it signs this PC's browser in (its signing cookie is set here).
pub async fn enter(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ConfirmCode>,
) -> Result<Response, ApiError> {
    let s = session::current(&state, &headers).await?;
    let ctx = state.ctx();
    let (new_id, new_hash) = session::new_id();
    let new_id = Zeroizing::new(new_id);
    let rotation =
        Rotation { new_session_hash: &new_hash, grant_expires_ms: ctx.now_ms + session::IDLE_MS };
    let (purpose, signin) =
        phone_code::enter_confirmation(&ctx, &s.id_hash, &req.code, rotation, client.as_deref())
            .await?;
    if let Some((hpki_id, proof)) = signin {
        // A sign-in code: this PC's browser is signed in by this, its own request (the answer
        // is a `SignedIn`, which also reads as `Confirmed`).
        return super::signin::answer_begun(
            &state,
            &headers,
            &hpki_id,
            proof,
            client.as_deref(),
            None,
        )
        .await;
    }
    let mut res = Json(Confirmed {}).into_response();
    if purpose == Purpose::Change {
        let cookie = session::set_cookie(state.config.is_https(), &new_id);
        res.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(res)
}

/// `GET /api/phone/confirmation/events` (phone, by its cookie): the state of this phone's
/// newest confirmation now, then each change, until it ends.
pub async fn phone_events(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let phone = phone_of(&state, &headers)?;
    // Capped per phone cookie, as a PC's streams are per session.
    let slot = watch::stream_slot(&state, &phone)?;
    let notices = state.events.subscribe();
    let (target, key) = phone_code::watch_confirmation(&state.ctx(), &phone).await?;
    Ok(watch::watch(state, target, key, notices, Watcher::phone(slot)))
}
