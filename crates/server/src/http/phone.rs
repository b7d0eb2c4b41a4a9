//! The phone's own cookie (not the PC's session), for both purposes of a phone code: it exists
//! only to say "this is the phone that opened the code". `__Host-` and `Secure` whenever the
//! site is HTTPS. Only its SHA-256 reaches the store.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use mahpki_protocol::ErrorCode;
use zeroize::Zeroizing;

use super::{ApiError, AppState, session};

fn cookie_name(https: bool) -> &'static str {
    if https { "__Host-mahpki_enrol" } else { "mahpki_enrol" }
}

/// The phone's cookie hash, for the endpoints after `open`.
pub(super) fn phone_of(state: &AppState, headers: &HeaderMap) -> Result<Vec<u8>, ApiError> {
    session::read_cookie(headers, cookie_name(state.config.is_https()))
        .map(|id| session::hash_id(&id))
        .ok_or(ApiError(ErrorCode::EnrolmentUnknown))
}

/// A phone presenting a token: its cookie, or a new one to set with the answer.
pub(super) struct Opening {
    id: Zeroizing<String>,
    is_new: bool,
    https: bool,
    pub hash: Vec<u8>,
}

impl Opening {
    pub(super) fn of(state: &AppState, headers: &HeaderMap) -> Self {
        let https = state.config.is_https();
        let (id, is_new) = match session::read_cookie(headers, cookie_name(https)) {
            Some(id) => (Zeroizing::new(id), false),
            None => (Zeroizing::new(session::new_id().0), true),
        };
        let hash = session::hash_id(&id);
        Self { id, is_new, https, hash }
    }

    /// Sets the cookie on `res` if the phone had none.
    pub(super) fn answer(&self, mut res: Response) -> Response {
        if self.is_new {
            let cookie: HeaderValue = session::cookie_header(
                cookie_name(self.https),
                &self.id,
                self.https,
                session::SameSite::Strict,
                None,
            );
            res.headers_mut().insert(header::SET_COOKIE, cookie);
        }
        res
    }
}

/// [`phone_of`] for a step whose every refusal is audited under `action` (a finish without
/// the cookie is someone trying).
pub(super) async fn phone_or_audit(
    state: &AppState,
    headers: &HeaderMap,
    action: crate::store::AuditAction,
    client: Option<&str>,
) -> Result<Vec<u8>, ApiError> {
    match phone_of(state, headers) {
        Ok(phone) => Ok(phone),
        Err(e) => {
            state.ctx().audit(action, None, client, Some(e.0), None).await;
            Err(e)
        }
    }
}
