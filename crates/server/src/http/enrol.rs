//! 別紙2: binding a smartphone with a WebAuthn platform credential.
//!
//! The PC (a session authenticated by the HPKI card) issues an enrolment and watches it over SSE.
//! The phone presents the token once (`open`), gets its own cookie, and from then on is known by
//! that cookie: `begin` hands it WebAuthn creation options, `finish` verifies the credential and
//! commits it in one transaction. The token is never logged and is zeroised where held.

use std::{convert::Infallible, sync::Arc, time::Duration};

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, header},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use futures_util::Stream;
use mahpki_protocol::{
    ErrorCode, HpkiId,
    api::Holder,
    enrol::{
        ENROLL_PATH, EnrolmentEvent, EnrolmentIssued, EnrolmentOpened, EnrolmentRequest,
        FinishEnrolment, LABEL_MAX_CHARS, OpenEnrolment, PhoneBound, PhoneConfirm, PhoneCredential,
        RegistrationOptions,
    },
};
use sha2::{Digest as _, Sha256};
use tokio::sync::broadcast;
use webauthn_rs::prelude::{AuthenticatorAttachment, Url, Uuid, Webauthn, WebauthnBuilder};
use webauthn_rs_proto::PublicKeyCredentialHints;
use zeroize::Zeroizing;

use super::{
    ApiError, ApiJson, AppState,
    auth::audit,
    client::ClientAddr,
    confirm::{self, PcView},
    session,
};
use crate::events::{self, StreamSlot};
use crate::{
    Config,
    config::CaPolicy,
    store::{
        CodeState, ConfirmState, Confirmation, EnrolError, EnrolmentKind, EnrolmentRecord,
        GrantVia, Issued, NewConfirmation, NewEnrolment, NewPhone, PhoneCode as _, PhoneRecord,
        Purpose, Registration, SessionRecord, Store, StoreError,
    },
};

/// The WebAuthn relying party of `public_origin`: its host is the RP id. `None` when the origin
/// has no domain name (an IP address cannot be a WebAuthn RP id).
pub fn relying_party(public_origin: &str) -> Option<Arc<Webauthn>> {
    let origin = Url::parse(public_origin).ok()?;
    let rp_id = origin.domain()?.to_owned();
    match WebauthnBuilder::new(&rp_id, &origin)
        .and_then(|b| b.rp_name("mahpki").timeout(Duration::from_secs(300)).build())
    {
        Ok(w) => Some(Arc::new(w)),
        Err(e) => {
            tracing::warn!(error = %e, %public_origin, "smartphone enrolment unavailable");
            None
        }
    }
}

pub(super) fn webauthn(state: &AppState) -> Result<&Webauthn, ApiError> {
    state.webauthn.as_deref().ok_or_else(|| {
        ApiError::internal("smartphone enrolment needs a public_origin with a domain name")
    })
}

pub(super) fn enrol_error(e: EnrolError) -> ApiError {
    ApiError(match e {
        EnrolError::Unknown => ErrorCode::EnrolmentUnknown,
        EnrolError::Expired => ErrorCode::EnrolmentExpired,
        EnrolError::LinkExpired => ErrorCode::EnrolmentLinkExpired,
        EnrolError::PhoneLimitReached => ErrorCode::PhoneLimitReached,
        EnrolError::Used => ErrorCode::EnrolmentUsed,
        EnrolError::OtherDevice => ErrorCode::EnrolmentOtherDevice,
        EnrolError::Cancelled => ErrorCode::EnrolmentCancelled,
        EnrolError::PhoneAlreadyBound => ErrorCode::PhoneAlreadyBound,
        EnrolError::FirstPhoneOnly => ErrorCode::JmaFirstPhoneOnly,
        EnrolError::NoCeremony => ErrorCode::WebauthnFailed,
        EnrolError::CredentialExists => ErrorCode::CredentialExists,
        EnrolError::Claimed => ErrorCode::ChangeCodeClaimed,
        EnrolError::ConfirmationPending => ErrorCode::ConfirmationPending,
        EnrolError::ConfirmationFailed => ErrorCode::ConfirmationFailed,
        EnrolError::ConfirmationUnknown => ErrorCode::ConfirmationUnknown,
        EnrolError::Store(e) => return ApiError::internal(e),
    })
}

pub(super) fn ttl_ms(state: &AppState) -> i64 {
    i64::from(state.config.enrolment_ttl_secs) * 1000
}

pub(super) fn secs_left(expires_ms: i64, now: i64) -> u32 {
    u32::try_from((expires_ms - now).max(0) / 1000).unwrap_or(u32::MAX)
}

pub(super) fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new enrolment token (256 random bits, base64url) and the hash the store keeps.
pub(super) fn new_token() -> (Zeroizing<String>, Vec<u8>) {
    let raw = Zeroizing::new(super::random::bytes::<32>());
    let token = Zeroizing::new(URL_SAFE_NO_PAD.encode(*raw));
    let hash = token_hash(&token);
    (token, hash)
}

fn enrol_url(config: &Config, token: &str) -> String {
    format!("{}{ENROLL_PATH}#{token}", config.public_origin)
}

/// The rules of the CA of `hpki_id`.
async fn policy_of(store: &Store, config: &Config, hpki_id: &str) -> Result<CaPolicy, ApiError> {
    let identity = store.identity_get(hpki_id).await.map_err(ApiError::internal)?;
    let identity = identity.ok_or(ApiError(ErrorCode::HolderUnknown))?;
    Ok(config.policy(identity.holder.ca))
}

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("no holder {0} is registered")]
    UnknownHolder(String),
    #[error("smartphone enrolment needs a public_origin with a domain name")]
    NoRelyingParty,
    #[error("refused: {0}")]
    Refused(#[from] EnrolError),
    #[error("refused: {0}")]
    Standing(#[from] crate::standing::StandingError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A CA-issued enrolment link (`enrolment issue-link`): the holder opens it on the phone and
/// enrols without a PC. It cancels the holder's open enrolment, like any new one.
pub async fn issue_link(
    store: &Store,
    config: &Config,
    hpki_id: &str,
    valid_days: u32,
    replace: bool,
) -> Result<(Zeroizing<String>, EnrolmentRecord), LinkError> {
    if relying_party(&config.public_origin).is_none() {
        return Err(LinkError::NoRelyingParty);
    }
    let identity = store.identity_get(hpki_id).await?;
    let identity = identity.ok_or_else(|| LinkError::UnknownHolder(hpki_id.to_owned()))?;
    crate::standing::require_configured(store, config, hpki_id, "enrolment.issue-link").await?;
    let (token, token_hash) = new_token();
    let now = crate::store::now_ms();
    let new = NewEnrolment {
        hpki_id: hpki_id.to_owned(),
        token_hash,
        kind: EnrolmentKind::Link,
        pc_session_hash: None,
        replace,
        first_phone_only: false,
        policy: config.policy(identity.holder.ca),
        now_ms: now,
        expires_ms: now + i64::from(valid_days) * 24 * 60 * 60 * 1000,
    };
    let issued = store.enrolment_issue(&new, Some("cli")).await?;
    Ok((Zeroizing::new(enrol_url(config, &token)), issued.enrolment))
}

/// The holder this PC session may enrol a phone for: the one it logged in with the HPKI card,
/// else the one it proved another way (JMA path, or the bound phone for a change).
async fn enrolling_holder(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    enrolling_session(state, headers).await.map(|(_, hpki_id, _)| hpki_id)
}

/// [`enrolling_holder`], the session it came from, and how that session proved them.
async fn enrolling_session(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(SessionRecord, String, Option<GrantVia>), ApiError> {
    let s = session::current(state, headers).await?;
    if let Some(hpki_id) = s.hpki_id.clone() {
        return Ok((s, hpki_id, None));
    }
    let grant = state.store.grant_get(&s.id_hash, state.clock.now_ms()).await;
    match grant.map_err(ApiError::internal)? {
        Some((hpki_id, via)) => Ok((s, hpki_id, Some(via))),
        None => Err(ApiError(ErrorCode::Unauthenticated)),
    }
}

/// A place for one more live-event stream of session `s`, or the typed refusal.
pub(super) fn stream_slot(state: &AppState, key: &[u8]) -> Result<StreamSlot, ApiError> {
    state.streams.open(key).map_err(|e| {
        tracing::warn!(refused = %e, "live-event stream refused");
        ApiError(ErrorCode::TooManyStreams)
    })
}

/// `GET /api/smartphone/holder`: whose phone this PC session may enrol, for the screens that
/// did not identify the holder with the HPKI card (the JMA path, or the old phone in a change).
pub async fn holder(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Holder>, ApiError> {
    let hpki_id = enrolling_holder(&state, &headers).await?;
    let identity = state.store.identity_get(&hpki_id).await.map_err(ApiError::internal)?;
    Ok(Json(identity.ok_or(ApiError(ErrorCode::Unauthenticated))?.holder))
}

/// `POST /api/smartphone/enrolments` (PC: HPKI-authenticated session, or one proved by the JMA
/// path or the bound phone).
pub async fn issue(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<EnrolmentRequest>,
) -> Result<Json<EnrolmentIssued>, ApiError> {
    let (s, hpki_id, via) = enrolling_session(&state, &headers).await?;
    crate::standing::require(&state, &hpki_id, "phone.enrolment.issue", client.as_deref()).await?;
    let pc = s.id_hash.clone();
    webauthn(&state)?;
    let (token, token_hash) = new_token();
    let now = state.clock.now_ms();
    let policy = policy_of(&state.store, &state.config, &hpki_id).await?;
    let new = NewEnrolment {
        hpki_id: hpki_id.clone(),
        token_hash,
        kind: EnrolmentKind::Pc,
        pc_session_hash: Some(pc),
        replace: req.replace,
        // The JMA path's numbers are printed on the card: they may enrol a first phone, never
        // take over a bound one, unless the CA chose to allow it.
        first_phone_only: via == Some(GrantVia::Jma) && !policy.jma_replace,
        policy,
        now_ms: now,
        expires_ms: now + ttl_ms(&state),
    };
    match state.store.enrolment_issue(&new, client.as_deref()).await {
        Ok(Issued { enrolment, cancelled }) => {
            if !cancelled.is_empty() {
                tracing::info!(%hpki_id, ?cancelled, "earlier enrolments cancelled");
            }
            state.events.publish(&hpki_id).await;
            Ok(Json(EnrolmentIssued {
                url: enrol_url(&state.config, &token),
                expires_in_secs: secs_left(enrolment.expires_ms, now),
                replace: enrolment.replace,
            }))
        }
        Err(e) => {
            let e = enrol_error(e);
            audit(&state, "phone.enrolment.issue", Some(hpki_id), client, Some(e.0), None).await;
            Err(e)
        }
    }
}

/// `DELETE /api/smartphone/enrolments/current` (PC, 中止): the code on screen stops working at
/// once rather than at its expiry, and a phone that opened it cannot finish. The phone bound
/// now is untouched. 204 whether or not a code was live.
pub async fn cancel(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
) -> Result<axum::http::StatusCode, ApiError> {
    let hpki_id = enrolling_holder(&state, &headers).await?;
    let now = state.clock.now_ms();
    if state.store.enrolment_cancel(&hpki_id, now).await.map_err(ApiError::internal)? {
        state.events.publish(&hpki_id).await;
        audit(&state, "phone.enrolment.cancel", Some(hpki_id), client, None, None).await;
    }
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// `GET /api/smartphone/enrolments/current/events`: the state of the holder's newest enrolment
/// now, then every change, until it ends. Authenticated by the PC's session, never by the token.
pub async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let (s, hpki_id, _) = enrolling_session(&state, &headers).await?;
    let slot = stream_slot(&state, &s.id_hash)?;
    // Subscribed before the first read: a change between the two is not lost.
    let notices = state.events.subscribe();
    let current = state
        .store
        .enrolment_latest(&hpki_id)
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError(ErrorCode::EnrolmentUnknown))?;
    Ok(watch(state, Target::Enrolment(current.id), hpki_id, notices, Watcher::new(s, slot)))
}

/// Who a stream serves. A PC's stream ends when its browser session does (logout, idle,
/// maximum age); a phone has no session, and its stream ends with its code. Either holds its
/// [`StreamSlot`] until then.
pub(super) struct Watcher {
    session: Option<WatchedSession>,
    _slot: StreamSlot,
}

struct WatchedSession {
    hash: Vec<u8>,
    /// The notice that sends this session's streams to check it (see [`events::session_key`]).
    key: String,
    /// When the session ends unless the PC makes a request meanwhile.
    ends_ms: i64,
}

impl Watcher {
    pub(super) fn new(s: SessionRecord, slot: StreamSlot) -> Self {
        let session = WatchedSession {
            key: events::session_key(&s.id_hash),
            ends_ms: session_ends(&s),
            hash: s.id_hash,
        };
        Self { session: Some(session), _slot: slot }
    }

    /// A phone's stream (capped per phone cookie like a session's).
    pub(super) fn phone(slot: StreamSlot) -> Self {
        Self { session: None, _slot: slot }
    }

    fn session_ends_ms(&self) -> i64 {
        self.session.as_ref().map_or(i64::MAX, |s| s.ends_ms)
    }

    fn is_session_notice(&self, key: &str) -> bool {
        self.session.as_ref().is_some_and(|s| s.key == key)
    }
}

fn session_ends(s: &SessionRecord) -> i64 {
    (s.last_seen_ms + session::IDLE_MS).min(s.created_ms + session::MAX_MS)
}

/// What a PC watches (pinned at connect: a newer one shows as `cancelled`).
#[derive(Debug, Clone, Copy)]
pub(super) enum Target {
    Enrolment(i64),
    /// スマートフォン変更's first code.
    Proof(i64),
    /// A phone's confirmation (the phone watches it).
    Confirmation(i64),
}

/// One read of a target: the event it stands at.
struct Snapshot {
    name: &'static str,
    data: serde_json::Value,
    is_final: bool,
    expires_ms: i64,
}

impl Target {
    async fn read(self, state: &AppState) -> Result<Option<Snapshot>, StoreError> {
        let now = state.clock.now_ms();
        Ok(match self {
            Self::Enrolment(id) => {
                let Some(e) = state.store.enrolment_get(id).await? else { return Ok(None) };
                if e.state_at(now) == CodeState::Expired && e.state != CodeState::Expired {
                    // Nobody else may be looking: write the expiry down, so every node agrees.
                    if state.store.enrolment_expire(e.id, now).await? {
                        state.events.publish(&e.hpki_id).await;
                    }
                }
                let c = match e.state_at(now) {
                    CodeState::InUse => {
                        state.store.confirmation_of_subject(Purpose::Enrolment, e.id).await?
                    }
                    _ => None,
                };
                let event = event_of(&e, c.as_ref(), now);
                Some(Snapshot {
                    name: event.name(),
                    is_final: event.is_final(),
                    data: serde_json::to_value(&event).unwrap_or_default(),
                    expires_ms: e.expires_ms,
                })
            }
            Self::Proof(id) => {
                let Some(p) = state.store.proof_get(id).await? else { return Ok(None) };
                let c = match p.state {
                    CodeState::Consumed => {
                        state.store.confirmation_of_subject(Purpose::Change, p.id).await?
                    }
                    _ => None,
                };
                let event = super::change::event_of(&p, c.as_ref(), now);
                Some(Snapshot {
                    name: event.name(),
                    is_final: event.is_final(),
                    data: serde_json::to_value(&event).unwrap_or_default(),
                    // Once proved, the confirmation's own deadline is the one to wake for.
                    expires_ms: c.map_or(p.expires_ms, |c| c.expires_ms),
                })
            }
            Self::Confirmation(id) => {
                let Some(c) = state.store.confirmation_get(id).await? else { return Ok(None) };
                let event = confirm::phone_event(state, &c, now).await?;
                Some(Snapshot {
                    name: event.name(),
                    is_final: event.is_final(),
                    data: serde_json::to_value(&event).unwrap_or_default(),
                    expires_ms: c.expires_ms,
                })
            }
        })
    }
}

/// The SSE answer: `target`'s state now, then each change (woken by notices under `key`, or by
/// the expiry passing), until a final event.
pub(super) fn watch(
    state: AppState,
    target: Target,
    key: String,
    notices: broadcast::Receiver<Arc<str>>,
    watcher: Watcher,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let w = Watch {
        state,
        target,
        key,
        notices,
        last: None,
        last_name: None,
        done: false,
        expires_ms: None,
        watcher,
    };
    let stream = futures_util::stream::unfold(w, |mut w| async move {
        let snap = w.next().await?;
        let sse = Event::default()
            .event(snap.name)
            .json_data(&snap.data)
            .unwrap_or_else(|_| Event::default().comment("unserialisable event"));
        Some((Ok(sse), w))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

struct Watch {
    state: AppState,
    target: Target,
    key: String,
    notices: broadcast::Receiver<Arc<str>>,
    last: Option<serde_json::Value>,
    /// The event name of `last`.
    last_name: Option<&'static str>,
    done: bool,
    /// From the last read; `None` before the first.
    expires_ms: Option<i64>,
    watcher: Watcher,
}

impl Watch {
    /// The next event that differs from the last one sent; `None` once a final one was sent.
    async fn next(&mut self) -> Option<Snapshot> {
        loop {
            if self.done {
                return None;
            }
            let mut session_ended = false;
            if let Some(deadline) = self.expires_ms {
                self.wait(deadline.min(self.watcher.session_ends_ms())).await?;
                session_ended = !self.session_lives().await;
            }
            let snap = match self.target.read(&self.state).await {
                Ok(Some(s)) => s,
                Ok(None) => return None,
                Err(err) => {
                    tracing::error!(error = %err, target = ?self.target, "cannot read a watched state");
                    return None;
                }
            };
            self.expires_ms = Some(snap.expires_ms);
            // A session that ended (logout, idle, or its id replaced at a grant) still hears
            // a change of state that came with its end (not a mere countdown), then nothing.
            if session_ended {
                self.done = true;
                if self.last_name == Some(snap.name) {
                    return None;
                }
            }
            if self.last.as_ref() != Some(&snap.data) {
                self.last_name = Some(snap.name);
                self.last = Some(snap.data.clone());
                self.done |= snap.is_final;
                return Some(snap);
            }
        }
    }

    /// Whether the PC's session still lives (not logged out, idle or too old), re-reading when
    /// it ends meanwhile (the PC's other requests keep it alive).
    async fn session_lives(&mut self) -> bool {
        let now = self.state.clock.now_ms();
        let Some(watched) = self.watcher.session.as_mut() else { return true };
        match self.state.store.session_get(&watched.hash).await {
            Ok(Some(s)) => {
                watched.ends_ms = session_ends(&s);
                now <= watched.ends_ms
            }
            Ok(None) => false,
            Err(err) => {
                tracing::error!(error = %err, "cannot read a watching session");
                false
            }
        }
    }

    /// Until a notice under our key or our session's arrives, or `deadline` passes. `None` when
    /// the server is shutting down.
    async fn wait(&mut self, deadline: i64) -> Option<()> {
        let left = u64::try_from(deadline - self.state.clock.now_ms()).unwrap_or(0);
        let sleep = tokio::time::sleep(Duration::from_millis(left + 50));
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => return Some(()),
                n = self.notices.recv() => match n {
                    Ok(k) if *k == *self.key
                        || self.watcher.is_session_notice(&k)
                        || *k == *events::EVERYONE => return Some(()),
                    Ok(_) => {}
                    // Fell behind: re-read, which covers whatever was missed.
                    Err(broadcast::error::RecvError::Lagged(_)) => return Some(()),
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
            }
        }
    }
}

fn event_of(e: &EnrolmentRecord, c: Option<&Confirmation>, now: i64) -> EnrolmentEvent {
    match e.state_at(now) {
        CodeState::Valid => {
            EnrolmentEvent::Waiting { expires_in_secs: secs_left(e.expires_ms, now) }
        }
        CodeState::InUse => match confirm::pc_view(c) {
            PcView::Ask(tries_left) => EnrolmentEvent::Confirm { tries_left },
            PcView::Confirmed => EnrolmentEvent::Opened,
            PcView::Failed => EnrolmentEvent::ConfirmFailed,
        },
        CodeState::Consumed => EnrolmentEvent::Completed,
        CodeState::Expired => EnrolmentEvent::Expired,
        CodeState::Cancelled => EnrolmentEvent::Cancelled,
    }
}

// ---- Phone side ----

/// The phone's own cookie (not the PC's session): it exists only to say "this is the phone that
/// opened the enrolment". `__Host-` and `Secure` whenever the site is HTTPS.
fn phone_cookie_name(https: bool) -> &'static str {
    if https { "__Host-mahpki_enrol" } else { "mahpki_enrol" }
}

pub(super) fn phone_cookie(headers: &HeaderMap, https: bool) -> Option<String> {
    session::read_cookie(headers, phone_cookie_name(https))
}

pub(super) fn set_phone_cookie(https: bool, id: &str) -> HeaderValue {
    session::cookie_header(phone_cookie_name(https), id, https)
}

/// The phone's cookie hash, for the endpoints after `open`.
pub(super) fn phone_of(state: &AppState, headers: &HeaderMap) -> Result<Vec<u8>, ApiError> {
    phone_cookie(headers, state.config.is_https())
        .map(|id| session::hash_id(&id))
        .ok_or(ApiError(ErrorCode::EnrolmentUnknown))
}

/// `POST /api/enroll/open`: the first phone to present the token owns the enrolment.
pub async fn open(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<OpenEnrolment>,
) -> Result<Response, ApiError> {
    let https = state.config.is_https();
    let (cookie_id, new_cookie) = match phone_cookie(&headers, https) {
        Some(id) => (Zeroizing::new(id), false),
        None => (Zeroizing::new(session::new_id().0), true),
    };
    let phone = session::hash_id(&cookie_id);
    // A token of any other shape was never issued: refuse it without a database round trip.
    let well_formed = req.token.len() == 43 && URL_SAFE_NO_PAD.decode(&req.token).is_ok();
    let now = state.clock.now_ms();
    let hash = token_hash(&req.token);
    let result = if well_formed {
        state
            .store
            .enrolment_open(&hash, &phone, now, now + ttl_ms(&state))
            .await
            .map_err(enrol_error)
    } else {
        Err(ApiError(ErrorCode::EnrolmentUnknown))
    };
    let e = match result {
        Ok(e) => e,
        Err(err) => {
            // A refused phone goes into the holder's own trail (someone else scanned their code).
            let holder = match err.0 {
                ErrorCode::EnrolmentUnknown | ErrorCode::Internal => None,
                _ => state.store.enrolment_holder_of_token(&hash).await.ok().flatten(),
            };
            audit(&state, "phone.enrolment.open", holder, client, Some(err.0), None).await;
            return Err(err);
        }
    };
    crate::standing::require(&state, &e.hpki_id, "phone.enrolment.open", client.as_deref()).await?;
    let confirm = match start_confirmation(&state, &e, &phone, now).await {
        Ok(c) => c,
        Err(err) => {
            audit(&state, "phone.enrolment.open", Some(e.hpki_id), client, Some(err.0), None).await;
            return Err(err);
        }
    };
    state.events.publish(&e.hpki_id).await;
    audit(
        &state,
        "phone.enrolment.open",
        Some(e.hpki_id.clone()),
        client,
        None,
        Some(format!("enrolment={}", e.id)),
    )
    .await;
    let hpki_id = HpkiId::parse(&e.hpki_id).map_err(|_| ApiError::internal("stored 本人ID"))?;
    let body = EnrolmentOpened {
        hpki_id,
        expires_in_secs: secs_left(e.expires_ms, now),
        replace: e.replace,
        confirm,
    };
    let mut res = Json(body).into_response();
    if new_cookie {
        res.headers_mut().insert(header::SET_COOKIE, set_phone_cookie(https, &cookie_id));
    }
    Ok(res)
}

/// The confirmation the phone that opened `e` shows: a new code for a PC's enrolment (the same
/// phone reopening gets a new one, its tries left unchanged), nothing for a CA's link.
async fn start_confirmation(
    state: &AppState,
    e: &EnrolmentRecord,
    phone: &[u8],
    now: i64,
) -> Result<PhoneConfirm, ApiError> {
    if e.kind == EnrolmentKind::Link {
        return Ok(PhoneConfirm::NotNeeded);
    }
    // Issued before the PC's session was recorded (an upgrade mid-enrolment): nobody can
    // confirm it, so it cannot be used.
    let pc = e.pc_session_hash.as_deref().ok_or(ApiError(ErrorCode::EnrolmentCancelled))?;
    let (code, code_hash) = confirm::new_code();
    let new = NewConfirmation {
        purpose: Purpose::Enrolment,
        subject_id: e.id,
        pc_session_hash: pc,
        phone_session_hash: phone,
        code_hash: &code_hash,
        now_ms: now,
        expires_ms: e.expires_ms,
    };
    match state.store.confirmation_start(&new).await.map_err(enrol_error)? {
        ConfirmState::Pending => Ok(PhoneConfirm::Show { code: code.to_string() }),
        ConfirmState::Confirmed => Ok(PhoneConfirm::Done),
        ConfirmState::Failed => Err(ApiError(ErrorCode::ConfirmationFailed)),
    }
}

/// Whether the phone may register with `e` now: a PC's code only once the PC confirmed.
async fn confirmed(state: &AppState, e: &EnrolmentRecord) -> Result<(), ApiError> {
    if e.kind == EnrolmentKind::Link {
        return Ok(());
    }
    let c = state
        .store
        .confirmation_of_subject(Purpose::Enrolment, e.id)
        .await
        .map_err(ApiError::internal)?;
    match c.map(|c| c.state) {
        Some(ConfirmState::Confirmed) => Ok(()),
        Some(ConfirmState::Failed) => Err(ApiError(ErrorCode::ConfirmationFailed)),
        _ => Err(ApiError(ErrorCode::ConfirmationPending)),
    }
}

/// `POST /api/enroll/begin`: creation options for a platform authenticator with user
/// verification required. The ceremony state stays on the server (any node can finish it).
pub async fn begin(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<RegistrationOptions>, ApiError> {
    let webauthn = webauthn(&state)?;
    let phone = phone_of(&state, &headers)?;
    let now = state.clock.now_ms();
    let e = state.store.enrolment_of_phone(&phone, now).await.map_err(enrol_error)?;
    // The WebAuthn prompt comes only after the PC confirmed: the 登録 button the holder presses
    // then is the user gesture the phone's browser needs, and no credential is ever created on
    // a phone that cannot finish (simpler and safer than registering first and committing later).
    confirmed(&state, &e).await?;
    let display = match state.store.identity_get(&e.hpki_id).await.map_err(ApiError::internal)? {
        Some(identity) => identity.holder.name_kanji,
        None => e.hpki_id.clone(),
    };
    // A fresh user handle per enrolment: a phone that already holds this holder's old passkey
    // keeps it beside the new one instead of overwriting it, so an abort leaves it working.
    let (mut options, registration) = webauthn
        .start_passkey_registration(Uuid::new_v4(), &e.hpki_id, &display, None)
        .map_err(ApiError::internal)?;
    let pk = &mut options.public_key;
    if let Some(sel) = pk.authenticator_selection.as_mut() {
        // The phone itself (its biometrics), not a roaming security key.
        sel.authenticator_attachment = Some(AuthenticatorAttachment::Platform);
    }
    pk.hints = Some(vec![PublicKeyCredentialHints::ClientDevice]);
    let registration = Registration::new(registration).map_err(ApiError::internal)?;
    state
        .store
        .ceremony_put(e.id, &registration, e.expires_ms)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(RegistrationOptions { options }))
}

/// `POST /api/enroll/finish`: verifies the credential and commits it (replacing the old phone
/// when the enrolment says so) in one transaction.
pub async fn finish(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<FinishEnrolment>,
) -> Result<Json<PhoneBound>, ApiError> {
    let result = finish_inner(&state, client.as_deref(), &headers, &req).await;
    match result {
        Ok((hpki_id, bound)) => {
            state.events.publish(&hpki_id).await;
            Ok(Json(bound))
        }
        Err((hpki_id, e)) => {
            audit(&state, "phone.bind", hpki_id, client, Some(e.0), None).await;
            Err(e)
        }
    }
}

type Failure = (Option<String>, ApiError);

async fn finish_inner(
    state: &AppState,
    client: Option<&str>,
    headers: &HeaderMap,
    req: &FinishEnrolment,
) -> Result<(String, PhoneBound), Failure> {
    let webauthn = webauthn(state).map_err(|e| (None, e))?;
    let phone = phone_of(state, headers).map_err(|e| (None, e))?;
    let now = state.clock.now_ms();
    let e =
        state.store.enrolment_of_phone(&phone, now).await.map_err(|e| (None, enrol_error(e)))?;
    let who = || Some(e.hpki_id.clone());
    crate::standing::require(state, &e.hpki_id, "phone.bind", client)
        .await
        .map_err(|err| (who(), err))?;
    let label =
        valid_label(&req.label).ok_or((who(), ApiError(ErrorCode::CredentialLabelInvalid)))?;
    let policy =
        policy_of(&state.store, &state.config, &e.hpki_id).await.map_err(|err| (who(), err))?;
    // Early and typed; the commit checks it again in its transaction.
    confirmed(state, &e).await.map_err(|err| (who(), err))?;
    let ceremony = state
        .store
        .ceremony_get(e.id, now)
        .await
        .map_err(|err| (who(), ApiError::internal(err)))?;
    let Some(ceremony) = ceremony else {
        // Gone with the enrolment (中止, a newer code, expiry): say that, not "begin again".
        state.store.enrolment_of_phone(&phone, now).await.map_err(|e| (who(), enrol_error(e)))?;
        return Err((who(), ApiError(ErrorCode::WebauthnFailed)));
    };
    let passkey = match webauthn.finish_passkey_registration(&req.credential, ceremony.value()) {
        Ok(p) => p,
        Err(err) => {
            tracing::info!(error = %err, enrolment = e.id, "WebAuthn registration refused");
            // A challenge is answered once, right or wrong: the phone begins again.
            if let Err(err) = state.store.ceremony_discard(e.id, &ceremony).await {
                tracing::error!(error = %err, "cannot discard a used WebAuthn ceremony");
            }
            return Err((who(), ApiError(ErrorCode::WebauthnFailed)));
        }
    };
    let new = NewPhone {
        enrolment_id: e.id,
        phone_session_hash: phone,
        ceremony,
        credential_id: passkey.cred_id().to_vec(),
        passkey: serde_json::to_string(&passkey).map_err(|err| (who(), ApiError::internal(err)))?,
        label,
        policy,
        now_ms: now,
    };
    let bound = state
        .store
        .enrolment_finish(&new, client)
        .await
        .map_err(|err| (who(), enrol_error(err)))?;
    let answer = PhoneBound {
        phone: phone_view(&bound.phone),
        replaced: bound.replaced.as_ref().map(phone_view),
    };
    Ok((bound.hpki_id, answer))
}

/// Trimmed; 1 to [`LABEL_MAX_CHARS`] characters; no control characters.
fn valid_label(label: &str) -> Option<String> {
    let l = label.trim();
    let n = l.chars().count();
    ((1..=LABEL_MAX_CHARS).contains(&n) && !l.chars().any(char::is_control)).then(|| l.to_owned())
}

pub fn phone_view(p: &PhoneRecord) -> PhoneCredential {
    PhoneCredential {
        credential_id: URL_SAFE_NO_PAD.encode(&p.credential_id),
        label: p.label.clone(),
        bound_at: p.created_ms.div_euclid(1000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(valid_label("  iPhone 15 "), Some("iPhone 15".into()));
        assert_eq!(valid_label("私のスマートフォン"), Some("私のスマートフォン".into()));
        assert_eq!(valid_label("   "), None);
        assert_eq!(valid_label("a\u{0}b"), None);
        assert_eq!(valid_label(&"あ".repeat(LABEL_MAX_CHARS)).map(|l| l.chars().count()), Some(64));
        assert_eq!(valid_label(&"あ".repeat(LABEL_MAX_CHARS + 1)), None);
    }

    #[test]
    fn relying_party_needs_a_domain() {
        assert!(relying_party("https://hpki.example.jp").is_some());
        assert!(relying_party("http://localhost:8080").is_some());
        assert!(relying_party("http://127.0.0.1:8080").is_none());
    }
}
