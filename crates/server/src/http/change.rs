//! スマートフォン変更 without the HPKI card: the phone bound now proves the holder to the PC with
//! a WebAuthn assertion, through a first code the PC shows; the PC's session may then enrol the
//! new phone with `replace`. Nothing is revoked here: the old phone keeps working until the new
//! credential is committed, so aborting anywhere leaves it as it was.

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
    ErrorCode, HpkiId,
    enrol::{
        AssertionOptions, CHANGE_PATH, ChangeBegin, ChangeEvent, ChangeFinish, ChangeIssued,
        ChangeOpened, ChangeProved, OpenEnrolment, PhoneConfirm,
    },
};
use webauthn_rs::prelude::Passkey;
use webauthn_rs_proto::{AllowCredentials, AuthenticatorTransport};
use zeroize::Zeroizing;

use super::{
    ApiError, ApiJson, AppState,
    auth::audit,
    client::ClientAddr,
    confirm::{self, PcView},
    enrol::{self, Target},
    session,
};
use crate::store::{
    Assertion, CodeState, Confirmation, PhoneCode as _, ProofBegin, ProofRecord, ProvedBy,
};

/// The notice key of a proof (its PC watches before anyone knows the holder).
pub(super) fn key(proof_id: i64) -> String {
    format!("proof:{proof_id}")
}

/// `POST /api/smartphone/change`: the first code, for the phone bound now. Opens an anonymous
/// session if the PC has none (this PC has no HPKI card to log in with).
pub async fn issue(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    enrol::webauthn(&state)?;
    let https = state.config.is_https();
    let now = state.clock.now_ms();
    let (pc, new_cookie) = match session::current(&state, &headers).await {
        Ok(s) => (s.id_hash, None),
        Err(_) => {
            let (id, hash) = session::new_id();
            state.store.session_insert(&hash, now).await.map_err(ApiError::internal)?;
            (hash, Some(session::set_cookie(https, &id)))
        }
    };
    let (token, token_hash) = enrol::new_token();
    let expires = now + enrol::ttl_ms(&state);
    let p = state
        .store
        .proof_issue(&token_hash, &pc, now, expires)
        .await
        .map_err(ApiError::internal)?;
    // The holder is not known yet: the trail names the proof, and its commit names the holder.
    let detail = Some(format!("proof={}", p.id));
    audit(&state, "phone.change.issue", None, client, None, detail).await;
    let body = ChangeIssued {
        url: format!("{}{CHANGE_PATH}#{}", state.config.public_origin, token.as_str()),
        expires_in_secs: enrol::secs_left(p.expires_ms, now),
    };
    let mut res = Json(body).into_response();
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
    let s = session::current(&state, &headers).await?;
    let slot = enrol::stream_slot(&state, &s.id_hash)?;
    let notices = state.events.subscribe();
    let p = state
        .store
        .proof_latest(&s.id_hash)
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError(ErrorCode::EnrolmentUnknown))?;
    let watcher = enrol::Watcher::new(s, slot);
    Ok(enrol::watch(state, Target::Proof(p.id), key(p.id), notices, watcher))
}

/// The PC's view of its first code. Proved by the old phone is not enough: the PC hears the
/// holder (and gets the grant) only once it entered the code that phone shows.
pub(super) fn event_of(p: &ProofRecord, c: Option<&Confirmation>, now: i64) -> ChangeEvent {
    match p.state_at(now) {
        CodeState::Valid => {
            ChangeEvent::Waiting { expires_in_secs: enrol::secs_left(p.expires_ms, now) }
        }
        CodeState::InUse => ChangeEvent::Opened,
        CodeState::Consumed => match (confirm::pc_view(c), p.hpki_id.as_deref()) {
            (PcView::Ask(_), _) if c.is_some_and(|c| now >= c.expires_ms) => ChangeEvent::Expired,
            (PcView::Ask(tries_left), _) => ChangeEvent::Confirm { tries_left },
            (PcView::Failed, _) => ChangeEvent::ConfirmFailed,
            (PcView::Confirmed, Some(h)) => match HpkiId::parse(h) {
                Ok(hpki_id) => ChangeEvent::Proved { hpki_id },
                Err(_) => ChangeEvent::Cancelled,
            },
            // A proved row always names its holder (see proof_commit); never claim otherwise.
            (PcView::Confirmed, None) => ChangeEvent::Cancelled,
        },
        CodeState::Expired => ChangeEvent::Expired,
        CodeState::Cancelled => ChangeEvent::Cancelled,
    }
}

/// `DELETE /api/smartphone/change/current` (PC, 中止): the first code on screen stops working at
/// once, and an old phone part way through cannot prove with it. 204 whether or not one was live.
pub async fn cancel(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
) -> Result<axum::http::StatusCode, ApiError> {
    let s = session::current(&state, &headers).await?;
    let now = state.clock.now_ms();
    let cancelled = state.store.proof_cancel(&s.id_hash, now).await.map_err(ApiError::internal)?;
    for id in cancelled {
        state.events.publish(&key(id)).await;
        let detail = Some(format!("proof={id}"));
        audit(&state, "phone.change.cancel", None, client.clone(), None, detail).await;
    }
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// `POST /api/change/open`: the first phone to present the token owns the proof.
pub async fn open(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<OpenEnrolment>,
) -> Result<Response, ApiError> {
    let https = state.config.is_https();
    let (cookie_id, new_cookie) = match enrol::phone_cookie(&headers, https) {
        Some(id) => (Zeroizing::new(id), false),
        None => (Zeroizing::new(session::new_id().0), true),
    };
    let phone = session::hash_id(&cookie_id);
    let now = state.clock.now_ms();
    let result = if req.token.len() == 43 {
        state
            .store
            .proof_open(&enrol::token_hash(&req.token), &phone, now)
            .await
            .map_err(enrol::enrol_error)
    } else {
        Err(ApiError(ErrorCode::EnrolmentUnknown))
    };
    let p = match result {
        Ok(p) => p,
        Err(e) => {
            audit(&state, "phone.change.open", None, client, Some(e.0), None).await;
            return Err(e);
        }
    };
    state.events.publish(&key(p.id)).await;
    audit(&state, "phone.change.open", None, client, None, Some(format!("proof={}", p.id))).await;
    let body = ChangeOpened { expires_in_secs: enrol::secs_left(p.expires_ms, now) };
    let mut res = Json(body).into_response();
    if new_cookie {
        res.headers_mut().insert(header::SET_COOKIE, enrol::set_phone_cookie(https, &cookie_id));
    }
    Ok(res)
}

/// `POST /api/change/begin`: assertion options for the named holder's bound phone.
///
/// Anyone who scans a first code may name any 本人ID here, so the answer must not tell whether
/// it names a holder, or one with a phone: the status and shape are the same, and a 本人ID
/// without a phone gets a stand-in credential id (keyed, so the same 本人ID always gets the same
/// one, as a real holder does). Each code may look up one 本人ID only (a retry for the same one
/// is allowed: the holder may have cancelled the prompt), and every begin is audited.
///
/// Why not a discoverable assertion (no `allowCredentials`, nothing named at all): phones bound
/// so far were registered with `residentKey: discouraged` (webauthn-rs's passkey registration),
/// so nothing promises they are discoverable, and a holder whose phone is not could never change
/// phones. What remains: the real credential id reaches whoever holds a live code and names the
/// 本人ID (it is an identifier, not a secret: it signs nothing); a stand-in id has a fixed length
/// that a real one of another length would not share; and the holder's path also parses the
/// stored passkey. Each look-up costs a fresh first code (a rate-limited PC request and a phone
/// opening it), and is in the audit log under the 本人ID it named.
pub async fn begin(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ChangeBegin>,
) -> Result<Json<AssertionOptions>, ApiError> {
    let webauthn = enrol::webauthn(&state)?;
    let phone = enrol::phone_of(&state, &headers)?;
    let now = state.clock.now_ms();
    let p = state.store.proof_of_phone(&phone, now).await.map_err(enrol::enrol_error)?;
    let hpki_id = req.hpki_id.as_str();
    let secret = state
        .secret
        .as_deref()
        .ok_or_else(|| ApiError::internal("the server secret is not loaded"))?;
    let bound = state.store.phone_active(hpki_id).await.map_err(ApiError::internal)?;
    let passkeys = match &bound {
        Some(b) => vec![serde_json::from_str::<Passkey>(&b.passkey).map_err(ApiError::internal)?],
        None => Vec::new(),
    };
    let (mut options, authentication) =
        webauthn.start_passkey_authentication(&passkeys).map_err(ApiError::internal)?;
    let credential_id = match &bound {
        Some(b) => b.credential_id.clone(),
        None => secret.stand_in_credential_id(hpki_id, STAND_IN_LEN),
    };
    // Built here for both, so a real entry and a stand-in look alike. The credential lives in
    // the phone that registered it (a platform authenticator), and that phone is the one asking.
    options.public_key.allow_credentials = vec![AllowCredentials {
        type_: "public-key".into(),
        id: credential_id,
        transports: Some(vec![AuthenticatorTransport::Internal]),
    }];
    let assertion = match bound {
        Some(_) => Some(Assertion::new(authentication).map_err(ApiError::internal)?),
        None => None,
    };
    let begun = ProofBegin {
        proof_id: p.id,
        phone_session_hash: &phone,
        hpki_id,
        assertion: assertion.as_ref(),
        expires_ms: p.expires_ms,
        now_ms: now,
    };
    if let Err(e) = state.store.proof_begin(&begun, client.as_deref()).await {
        let e = enrol::enrol_error(e);
        let detail = Some(format!("proof={}", p.id));
        audit(&state, "phone.change.begin", Some(hpki_id.to_owned()), client, Some(e.0), detail)
            .await;
        return Err(e);
    }
    Ok(Json(AssertionOptions { options }))
}

/// Bytes in a stand-in credential id: what the phones' platform authenticators commonly make
/// (Android's and Chromium's are 16 bytes; iOS's 20, which is the residual named above).
const STAND_IN_LEN: usize = 16;

/// `POST /api/change/finish`: verifies the old phone's assertion; the PC's session may then
/// enrol the new phone for that holder.
pub async fn finish(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ChangeFinish>,
) -> Result<Json<ChangeProved>, ApiError> {
    match prove(&state, client.as_deref(), &headers, &req).await {
        Ok((proof_id, hpki_id, code)) => {
            state.events.publish(&key(proof_id)).await;
            Ok(Json(ChangeProved {
                hpki_id,
                confirm: PhoneConfirm::Show { code: code.to_string() },
            }))
        }
        Err((hpki_id, e)) => {
            audit(&state, "phone.change.prove", hpki_id, client, Some(e.0), None).await;
            Err(e)
        }
    }
}

async fn prove(
    state: &AppState,
    client: Option<&str>,
    headers: &HeaderMap,
    req: &ChangeFinish,
) -> Result<(i64, HpkiId, Zeroizing<String>), (Option<String>, ApiError)> {
    let webauthn = enrol::webauthn(state).map_err(|e| (None, e))?;
    let phone = enrol::phone_of(state, headers).map_err(|e| (None, e))?;
    let now = state.clock.now_ms();
    let p =
        state.store.proof_of_phone(&phone, now).await.map_err(|e| (None, enrol::enrol_error(e)))?;
    let (hpki_id, assertion) = state
        .store
        .assertion_get(p.id, now)
        .await
        .map_err(|e| (None, ApiError::internal(e)))?
        .ok_or((None, ApiError(ErrorCode::WebauthnFailed)))?;
    let who = || Some(hpki_id.clone());
    let result = match webauthn.finish_passkey_authentication(&req.credential, assertion.value()) {
        Ok(r) => r,
        Err(err) => {
            tracing::info!(error = %err, proof = p.id, "WebAuthn assertion refused");
            if let Err(err) = state.store.assertion_discard(p.id, &assertion).await {
                tracing::error!(error = %err, "cannot discard a used WebAuthn assertion");
            }
            return Err((who(), ApiError(ErrorCode::WebauthnFailed)));
        }
    };
    crate::standing::require(state, &hpki_id, "phone.change.prove", client)
        .await
        .map_err(|e| (who(), e))?;
    // The signature counter moved on: keep it, so a cloned authenticator shows up later.
    let updated_passkey = match state.store.phone_active(&hpki_id).await {
        Ok(Some(bound)) => {
            serde_json::from_str::<Passkey>(&bound.passkey).ok().and_then(|mut pk| {
                pk.update_credential(&result)
                    .filter(|changed| *changed)
                    .and_then(|_| serde_json::to_string(&pk).ok())
            })
        }
        _ => None,
    };
    let (code, confirm_code_hash) = confirm::new_code();
    let proved = ProvedBy {
        proof_id: p.id,
        phone_session_hash: phone,
        assertion,
        credential_id: result.cred_id().to_vec(),
        updated_passkey,
        confirm_code_hash,
        confirm_expires_ms: now + enrol::ttl_ms(state),
        now_ms: now,
    };
    let holder = state.store.proof_commit(&proved, client).await.map_err(|e| {
        let e = match e {
            crate::store::EnrolError::NoCeremony => ApiError(ErrorCode::WebauthnFailed),
            e => enrol::enrol_error(e),
        };
        (who(), e)
    })?;
    let hpki_id =
        HpkiId::parse(&holder).map_err(|_| (who(), ApiError::internal("stored 本人ID")))?;
    Ok((p.id, hpki_id, code))
}
