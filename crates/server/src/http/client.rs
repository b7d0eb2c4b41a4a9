//! The client's address, for the audit log.

use std::convert::Infallible;

use axum::{extract::FromRequestParts, http::request::Parts};

use super::AppState;

/// `None` only for requests that did not come over a socket (in-process tests).
pub struct ClientAddr(pub Option<String>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let header = state.config.client_ip_header.as_deref();
        // A missing proxy header is refused by the rate limit on the endpoints that matter; the
        // audit log then names no address rather than the proxy's.
        let ip = super::rate_limit::client_ip(parts, header).ok().flatten();
        Ok(Self(ip.map(|ip| ip.to_string())))
    }
}
