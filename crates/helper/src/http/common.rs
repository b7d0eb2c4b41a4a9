//! What every route of the helper shares: its state, typed error answers, the headers that
//! harden the helper's own pages, and the check that a request comes from those pages.

use std::sync::Arc;

use axum::{
    Json,
    extract::{FromRequestParts, Path, rejection::JsonRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use mahpki_protocol::error::{ErrorBody, ErrorCode};

use crate::{http::guard::Guard, operation::Operations};

#[derive(Clone)]
pub struct AppState {
    pub guard: Arc<Guard>,
    pub ops: Arc<Operations>,
}

/// A typed error answer: the HTTP status and `{"error":{"code","message"}}`.
pub fn error_response(code: ErrorCode) -> Response {
    let status =
        StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(ErrorBody::from(code))).into_response()
}

/// JSON body problems, typed: too large, or malformed.
pub fn rejection_response(rejection: &JsonRejection) -> Response {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        error_response(ErrorCode::PayloadTooLarge)
    } else {
        error_response(ErrorCode::BadRequest)
    }
}

/// An operation id from the path. One that is not even UTF-8 (`/pin/%AA`) names no operation:
/// it gets the same typed `not_found` as an unknown id, not axum's plain-text rejection.
pub struct OpId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for OpId {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(Self(id)),
            Err(_) => Err(harden(error_response(ErrorCode::NotFound))),
        }
    }
}

pub fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// No inline script or style anywhere; only this origin's files; no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                       img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// The headers of every answer the helper's own pages (and their operation ids) get.
pub fn harden(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Whether a request comes from the helper's own pages. With `require` (state changes), both
/// `Origin` and `Sec-Fetch-Site: same-origin` must say so; without, a request that names no
/// origin at all (a plain navigation) passes, but a foreign one never does.
pub fn same_origin_request(guard: &Guard, headers: &HeaderMap, require: bool) -> bool {
    let origin = header_str(headers, header::ORIGIN);
    if origin.is_none() && !require {
        return true;
    }
    let fetch_site = header_str(headers, "sec-fetch-site");
    guard.is_own_origin(origin, header_str(headers, header::HOST))
        && (fetch_site == Some("same-origin") || (!require && fetch_site.is_none()))
}
