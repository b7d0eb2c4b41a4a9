//! Cross-site request forgery defence for every state-changing API request: the browser's Fetch
//! Metadata (`Sec-Fetch-Site: same-origin`) where it sends it, else an `Origin` equal to ours.
//! `SameSite=Strict` cookies are the second wall; this is the first.
//!
//! It guards `/api` only. The OpenID Provider's endpoints for relying services (`/oidc/token`,
//! `/oidc/revoke`, `/oidc/userinfo`) are called cross-origin by those services' servers and are
//! routed outside `/api` deliberately: they authenticate the client or the bearer token instead
//! and read no cookie. The consent page's answer (`/api/oidc/consent`) stays under this guard.

use axum::{
    extract::{Request, State},
    http::{Method, header},
    middleware::Next,
    response::{IntoResponse as _, Response},
};
use mahpki_protocol::ErrorCode;

use super::{ApiError, AppState};

pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let h = req.headers();
    let site = h.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let origin = h.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let allowed = match (site, origin) {
        (Some(site), _) => site == "same-origin",
        (None, Some(origin)) => origin == state.config.public_origin,
        (None, None) => false,
    };
    if allowed {
        next.run(req).await
    } else {
        tracing::warn!(?site, ?origin, path = %req.uri().path(), "refused cross-site request");
        ApiError(ErrorCode::CsrfRejected).into_response()
    }
}
