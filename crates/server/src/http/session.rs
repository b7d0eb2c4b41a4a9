//! Browser sessions: an opaque random id in an `HttpOnly; SameSite=Strict` cookie (`__Host-` and
//! `Secure` whenever the site is HTTPS); the server keeps only its SHA-256.

use super::{ApiError, AppState};
use crate::{service, store::SessionRecord};
use axum::http::{HeaderMap, HeaderValue, header};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};

pub use crate::service::session::{IDLE_MS, MAX_MS};

/// Cookie name: `__Host-` binds it to this exact host over HTTPS; plain-HTTP localhost (dev and
/// demo) cannot use the prefix, which requires `Secure`.
pub fn cookie_name(https: bool) -> &'static str {
    if https { "__Host-mahpki_session" } else { "mahpki_session" }
}

/// A new random session id (the cookie value) and its hash (the stored key).
pub fn new_id() -> (String, Vec<u8>) {
    let (id, hash) = service::session::new_id();
    (id.to_string(), hash)
}

pub fn hash_id(id: &str) -> Vec<u8> {
    crate::random::token_hash(id)
}

pub fn set_cookie(https: bool, id: &str) -> HeaderValue {
    cookie_header(cookie_name(https), id, https, SameSite::Strict, None)
}

/// When the browser sends a cookie on a request another site started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SameSite {
    /// Never: the page session and the phone's cookie.
    Strict,
    /// On a top-level navigation too: the signing cookie, which a relying service's redirect
    /// must carry.
    Lax,
}

/// `Set-Cookie` for one of our random ids (or an empty value with `Some(0)` to clear it):
/// host-only, script-proof, sent over https only when served so. `max_age_secs` `None` lasts
/// the browser's session. Every cookie the server sets is formatted here.
pub(super) fn cookie_header(
    name: &str,
    id: &str,
    https: bool,
    same_site: SameSite,
    max_age_secs: Option<i64>,
) -> HeaderValue {
    let max_age = max_age_secs.map(|s| format!("; Max-Age={s}")).unwrap_or_default();
    let same_site = match same_site {
        SameSite::Strict => "Strict",
        SameSite::Lax => "Lax",
    };
    let secure = if https { "; Secure" } else { "" };
    let v = format!("{name}={id}; Path=/{max_age}; HttpOnly; SameSite={same_site}{secure}");
    HeaderValue::from_str(&v).expect("cookie is ASCII")
}

pub fn clear_cookie(https: bool) -> HeaderValue {
    cookie_header(cookie_name(https), "", https, SameSite::Strict, Some(0))
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

/// The SHA-256 of the session id this request's cookie holds, if any.
pub fn cookie_hash(state: &AppState, headers: &HeaderMap) -> Option<Vec<u8>> {
    cookie_id(headers, state.config.is_https()).map(|id| hash_id(&id))
}

/// The live session of this request: `Unauthenticated` without a cookie, `SessionExpired` when
/// the cookie names a session that ended.
pub async fn current(state: &AppState, headers: &HeaderMap) -> Result<SessionRecord, ApiError> {
    let hash = cookie_hash(state, headers);
    Ok(service::session::current(&state.ctx(), hash.as_deref()).await?)
}

/// Like [`current`], but the session must belong to an identified holder.
pub async fn authenticated(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(SessionRecord, String), ApiError> {
    let hash = cookie_hash(state, headers);
    let (s, hpki_id) = service::session::authenticated(&state.ctx(), hash.as_deref()).await?;
    Ok((s, hpki_id.to_string()))
}

/// This request's live session, or a new anonymous one and the cookie that names it (to set
/// with the answer): the steps that may come first on a device (a challenge) start one.
pub(super) async fn current_or_new(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(SessionRecord, Option<HeaderValue>), ApiError> {
    let hash = cookie_hash(state, headers);
    let (s, id) = service::session::current_or_new(&state.ctx(), hash.as_deref()).await?;
    Ok((s, id.map(|id| set_cookie(state.config.is_https(), &id))))
}
