//! Browser sessions: an opaque random id in an `HttpOnly; SameSite=Strict` cookie (`__Host-` and
//! `Secure` whenever the site is HTTPS); the server keeps only its SHA-256.

use axum::http::{HeaderMap, HeaderValue, header};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use mahpki_protocol::ErrorCode;

use super::{ApiError, AppState};
use crate::store::SessionRecord;

/// A holder who walks away: the session ends after this long without a request.
pub const IDLE_MS: i64 = 15 * 60 * 1000;
/// However active, a session lasts at most this long.
pub const MAX_MS: i64 = 60 * 60 * 1000;

/// Cookie name: `__Host-` binds it to this exact host over HTTPS; plain-HTTP localhost (dev and
/// demo) cannot use the prefix, which requires `Secure`.
pub fn cookie_name(https: bool) -> &'static str {
    if https { "__Host-mahpki_session" } else { "mahpki_session" }
}

/// A new random session id (the cookie value) and its hash (the stored key).
pub fn new_id() -> (String, Vec<u8>) {
    let (id, hash) = crate::random::token();
    (id.to_string(), hash)
}

pub fn hash_id(id: &str) -> Vec<u8> {
    crate::random::token_hash(id)
}

pub fn set_cookie(https: bool, id: &str) -> HeaderValue {
    cookie_header(cookie_name(https), id, https)
}

/// `Set-Cookie` for one of our random ids: host-only, script-proof, never sent cross-site.
pub(super) fn cookie_header(name: &str, id: &str, https: bool) -> HeaderValue {
    let secure = if https { "; Secure" } else { "" };
    let v = format!("{name}={id}; Path=/; HttpOnly; SameSite=Strict{secure}");
    HeaderValue::from_str(&v).expect("cookie is ASCII")
}

pub fn clear_cookie(https: bool) -> HeaderValue {
    let secure = if https { "; Secure" } else { "" };
    let v =
        format!("{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{secure}", cookie_name(https));
    HeaderValue::from_str(&v).expect("cookie is ASCII")
}

/// The session id the browser sent, if any.
pub fn cookie_id(headers: &HeaderMap, https: bool) -> Option<String> {
    read_cookie(headers, cookie_name(https))
}

/// The value of cookie `name` if it is one of our ids (43 characters of base64url).
pub(super) fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| v.len() == 43 && URL_SAFE_NO_PAD.decode(v).is_ok())
}

/// The live session of this request: `Unauthenticated` without a cookie, `SessionExpired` when
/// the cookie names a session that ended.
pub async fn current(state: &AppState, headers: &HeaderMap) -> Result<SessionRecord, ApiError> {
    let https = state.config.is_https();
    let id = cookie_id(headers, https).ok_or(ApiError(ErrorCode::Unauthenticated))?;
    state
        .store
        .session_touch(&hash_id(&id), state.clock.now_ms(), IDLE_MS, MAX_MS)
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError(ErrorCode::SessionExpired))
}

/// Like [`current`], but the session must belong to an identified holder.
pub async fn authenticated(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(SessionRecord, String), ApiError> {
    let s = current(state, headers).await?;
    match s.hpki_id.clone() {
        Some(h) => Ok((s, h)),
        None => Err(ApiError(ErrorCode::Unauthenticated)),
    }
}

/// This request's live session, or a new anonymous one and the cookie that names it (to set
/// with the answer): the steps that may come first on a device (a challenge) start one.
pub(super) async fn current_or_new(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(SessionRecord, Option<HeaderValue>), ApiError> {
    if let Ok(s) = current(state, headers).await {
        return Ok((s, None));
    }
    let (id, hash) = new_id();
    let now = state.clock.now_ms();
    state.store.session_insert(&hash, now).await.map_err(ApiError::internal)?;
    let s = state
        .store
        .session_touch(&hash, now, IDLE_MS, MAX_MS)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::internal("a new session is gone"))?;
    Ok((s, Some(set_cookie(state.config.is_https(), &id))))
}
