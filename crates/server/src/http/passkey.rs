//! The スマートフォン way of the daily sign-in over HTTP (the rules are in
//! [`crate::service::passkey_signin`]): the passkey on the device itself, and a PC's sign-in code
//! for the phone. The PC is signed in by its own confirmation entry (`confirm::enter`), never by
//! a request of the phone's.

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
use mahpki_protocol::{
    enrol::{AssertionOptions, OpenEnrolment},
    passkey::{PasskeyAnswer, SignInCodeIssued, SignInCodeProved},
};

use super::{
    ApiError, ApiJson, AppState,
    client::ClientAddr,
    phone::{Opening, phone_of},
    session, signin, watch,
};
use crate::service::passkey_signin;

/// `POST /api/signin/passkey/begin`: a discoverable assertion for this browser (which gets a
/// page session if it had none: the challenge is bound to it).
pub async fn begin(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (s, new_cookie) = session::current_or_new(&state, &headers).await?;
    let options = passkey_signin::begin_on_device(&state.ctx(), &s.id_hash).await?;
    let mut res = Json(AssertionOptions { options }).into_response();
    if let Some(cookie) = new_cookie {
        res.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(res)
}

/// `POST /api/signin/passkey/finish`: this browser's answer; signs it in.
pub async fn finish(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PasskeyAnswer>,
) -> Result<Response, ApiError> {
    let client = client.as_deref();
    let s = match session::current(&state, &headers).await {
        Ok(s) => s,
        Err(e) => {
            // No page session: no challenge of this browser can be waiting.
            let code = mahpki_protocol::ErrorCode::PasskeyChallengeUnknown;
            signin::refused(&state, None, client, code, "passkey").await;
            tracing::info!(refused = ?e.0, "passkey finish without a page session");
            return Err(ApiError(code));
        }
    };
    let (hpki_id, proof) =
        passkey_signin::finish_on_device(&state.ctx(), &s.id_hash, &req.credential, client).await?;
    signin::answer_begun(&state, &headers, &hpki_id, proof, client, None).await
}

/// `POST /api/signin/phone` (PC): a new sign-in code for the phone.
pub async fn issue(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (s, new_cookie) = session::current_or_new(&state, &headers).await?;
    let issued: SignInCodeIssued =
        passkey_signin::issue_code(&state.ctx(), &s.id_hash, client.as_deref()).await?;
    let mut res = Json(issued).into_response();
    if let Some(cookie) = new_cookie {
        res.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(res)
}

/// `DELETE /api/signin/phone/current` (PC, 中止). 204 whether or not a code was live.
pub async fn cancel(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let s = session::current(&state, &headers).await?;
    passkey_signin::cancel_code(&state.ctx(), &s.id_hash, client.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/signin/phone/current/events` (PC): its newest code's state now, then each change.
pub async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    watch::pc_code(state, &headers, crate::store::PcPurpose::SignIn).await
}

/// `POST /api/signin/phone/open` (phone): the first phone to present the token owns the code.
pub async fn open(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<OpenEnrolment>,
) -> Result<Response, ApiError> {
    let phone = Opening::of(&state, &headers);
    let opened =
        passkey_signin::open_code(&state.ctx(), &req.token, &phone.hash, client.as_deref()).await?;
    Ok(phone.answer(Json(opened).into_response()))
}

/// `POST /api/signin/phone/begin` (phone): the assertion for the code it opened.
pub async fn phone_begin(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<AssertionOptions>, ApiError> {
    let phone = phone_of(&state, &headers)?;
    let options = passkey_signin::begin_code(&state.ctx(), &phone).await?;
    Ok(Json(AssertionOptions { options }))
}

/// `POST /api/signin/phone/finish` (phone): its answer; it then shows the confirmation code.
/// Never sets a signing cookie: the phone is not the device being signed in.
pub async fn phone_finish(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PasskeyAnswer>,
) -> Result<Json<SignInCodeProved>, ApiError> {
    let phone = phone_of(&state, &headers)?;
    let proved =
        passkey_signin::finish_code(&state.ctx(), &phone, &req.credential, client.as_deref())
            .await?;
    Ok(Json(proved))
}
