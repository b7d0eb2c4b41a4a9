//! The confirmation a phone owes the PC, for both flows (別紙2's enrolment code and
//! スマートフォン変更's first code): the phone that opened the PC's code shows a short code, the
//! holder types it on the PC (`POST /api/smartphone/confirm`), and the phone hears the outcome
//! (`GET /api/phone/confirmation/events`). Before, whoever opened a captured 2D code first owned
//! it, and a PC that phished the holder into proving with the old phone got the grant.

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
use mahpki_protocol::{
    ErrorCode,
    enrol::{ConfirmCode, Confirmed, PhoneConfirmEvent},
};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use super::{
    ApiError, ApiJson, AppState,
    auth::audit,
    client::ClientAddr,
    enrol::{self, Target},
    session,
};
use crate::store::{
    CodeState, ConfirmState, Confirmation, Entered, PhoneCode as _, Purpose, Rotation,
};

/// Digits of a confirmation code. Six digits and three tries: a guesser wins one time in
/// 333 333; the code lives only as long as the code it confirms.
const DIGITS: usize = 6;

/// A new confirmation code and the hash the store keeps. A six-digit code's hash is no secret
/// against someone holding the database (a million guesses), but it keeps the code out of
/// dumps and logs; the three tries and the short life are the defence.
pub(super) fn new_code() -> (Zeroizing<String>, Vec<u8>) {
    let n = u64::from_le_bytes(super::random::bytes::<8>());
    let code = Zeroizing::new(format!("{:06}", n % 1_000_000));
    let hash = code_hash(&code);
    (code, hash)
}

fn code_hash(code: &str) -> Vec<u8> {
    Sha256::digest(code.as_bytes()).to_vec()
}

/// The notice key a confirmation's watchers listen on: that of the code it confirms, so the PC
/// watching the code and the phone watching its confirmation both wake.
async fn key_of(state: &AppState, c: &Confirmation) -> Result<String, ApiError> {
    Ok(match c.purpose {
        Purpose::Enrolment => {
            let e = state.store.enrolment_get(c.subject_id).await.map_err(ApiError::internal)?;
            e.ok_or(ApiError(ErrorCode::EnrolmentUnknown))?.hpki_id
        }
        Purpose::Change => super::change::key(c.subject_id),
    })
}

/// `POST /api/smartphone/confirm` (PC): the code the phone shows. The right one lets that phone
/// go on (and, in a change, gives this PC's session — under a new id — the phone grant); a
/// wrong one costs a try; the third kills the code. Only the PC session that showed the code
/// may enter it.
pub async fn enter(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ConfirmCode>,
) -> Result<Response, ApiError> {
    let s = session::current(&state, &headers).await?;
    // Not six digits is a typo the page should have caught: refused without costing a try.
    if req.code.len() != DIGITS || !req.code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError(ErrorCode::BadRequest));
    }
    let now = state.clock.now_ms();
    let (new_id, new_hash) = session::new_id();
    let new_id = Zeroizing::new(new_id);
    let rotation =
        Rotation { new_session_hash: &new_hash, grant_expires_ms: now + session::IDLE_MS };
    let entered = state
        .store
        .confirmation_enter(&s.id_hash, &code_hash(&req.code), now, rotation, client.as_deref())
        .await;
    let (confirmation, answer) = match entered {
        Ok(Entered::Confirmed { confirmation, .. }) => (confirmation, Ok(())),
        Ok(Entered::Wrong { confirmation, tries_left, .. }) => {
            tracing::info!(confirmation = confirmation.id, tries_left, "wrong confirmation code");
            (confirmation, Err(ApiError(ErrorCode::ConfirmationWrong)))
        }
        Ok(Entered::Failed { confirmation, holder }) => {
            tracing::warn!(confirmation = confirmation.id, %holder, "confirmation code dead");
            (confirmation, Err(ApiError(ErrorCode::ConfirmationFailed)))
        }
        Err(e) => {
            let e = enrol::enrol_error(e);
            audit(&state, "phone.confirm", None, client, Some(e.0), None).await;
            return Err(e);
        }
    };
    state.events.publish(&key_of(&state, &confirmation).await?).await;
    answer?;
    let mut res = Json(Confirmed {}).into_response();
    if confirmation.purpose == Purpose::Change {
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
    let phone = enrol::phone_of(&state, &headers)?;
    // Capped per phone cookie, as a PC's streams are per session.
    let slot = enrol::stream_slot(&state, &phone)?;
    let notices = state.events.subscribe();
    let c = state
        .store
        .confirmation_of_phone(&phone)
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError(ErrorCode::ConfirmationUnknown))?;
    let key = key_of(&state, &c).await?;
    Ok(enrol::watch(state, Target::Confirmation(c.id), key, notices, enrol::Watcher::phone(slot)))
}

/// What the phone hears: pending codes whose code ended (中止, a newer code, expiry) end too.
pub(super) async fn phone_event(
    state: &AppState,
    c: &Confirmation,
    now: i64,
) -> Result<PhoneConfirmEvent, crate::store::StoreError> {
    Ok(match c.state {
        ConfirmState::Confirmed => PhoneConfirmEvent::Confirmed,
        ConfirmState::Failed => PhoneConfirmEvent::Failed,
        ConfirmState::Pending if now >= c.expires_ms => PhoneConfirmEvent::Ended,
        ConfirmState::Pending => {
            let live = match c.purpose {
                Purpose::Enrolment => state
                    .store
                    .enrolment_get(c.subject_id)
                    .await?
                    .is_some_and(|e| e.state_at(now) == CodeState::InUse),
                Purpose::Change => state
                    .store
                    .proof_get(c.subject_id)
                    .await?
                    .is_some_and(|p| p.state == CodeState::Consumed),
            };
            if live {
                PhoneConfirmEvent::Pending { tries_left: c.tries_left }
            } else {
                PhoneConfirmEvent::Ended
            }
        }
    })
}

/// How a PC screen stands on a confirmation: waiting for the code (tries left), done, or dead.
/// `None` (not started yet) reads as waiting with every try left.
pub(super) enum PcView {
    Ask(u8),
    Confirmed,
    Failed,
}

pub(super) fn pc_view(c: Option<&Confirmation>) -> PcView {
    match c {
        None => PcView::Ask(crate::store::CONFIRM_TRIES as u8),
        Some(c) => match c.state {
            ConfirmState::Pending => PcView::Ask(c.tries_left),
            ConfirmState::Confirmed => PcView::Confirmed,
            ConfirmState::Failed => PcView::Failed,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_stored_hashed() {
        for _ in 0..100 {
            let (c, h) = new_code();
            assert!(c.len() == DIGITS && c.bytes().all(|b| b.is_ascii_digit()), "{}", *c);
            assert_eq!(h, code_hash(&c));
            assert_ne!(h, c.as_bytes());
        }
    }
}
