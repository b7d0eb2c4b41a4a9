//! Per-client rate limit on the authentication endpoints: a token bucket per client address,
//! so one client guessing or hammering cannot exhaust the service for others.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
};

use axum::{
    extract::{ConnectInfo, Request, State},
    middleware::Next,
    response::{IntoResponse as _, Response},
};
use mahpki_protocol::ErrorCode;

use super::{ApiError, AppState};

#[derive(Debug, Clone)]
pub struct RateLimiter {
    inner: Arc<Mutex<HashMap<IpAddr, Bucket>>>,
    capacity: f64,
    per_ms: f64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
}

impl RateLimiter {
    /// `capacity` requests at once, refilled at `per_minute`.
    pub fn new(capacity: u32, per_minute: u32) -> Self {
        Self {
            inner: Arc::default(),
            capacity: f64::from(capacity),
            per_ms: f64::from(per_minute) / 60_000.0,
        }
    }

    /// The default limits (see [`crate::config::RateLimitConfig`]).
    pub fn production() -> Self {
        let d = crate::config::RateLimitConfig::default();
        Self::new(d.burst, d.per_minute)
    }

    /// Takes one token for `ip`; false when the bucket is empty.
    pub fn check(&self, ip: IpAddr, now_ms: i64) -> bool {
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // Keep memory bounded under a flood of addresses: drop buckets that are full again.
        if map.len() > 10_000 {
            let (cap, per_ms) = (self.capacity, self.per_ms);
            map.retain(|_, b| b.tokens + (now_ms - b.at_ms) as f64 * per_ms < cap);
        }
        let b = map.entry(ip).or_insert(Bucket { tokens: self.capacity, at_ms: now_ms });
        b.tokens = (b.tokens + (now_ms - b.at_ms).max(0) as f64 * self.per_ms).min(self.capacity);
        b.at_ms = now_ms;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The client's address: the configured proxy header's last entry, else the socket peer
/// (requests through `oneshot` in tests have neither).
pub fn client_ip(parts: &axum::http::request::Parts, header: Option<&str>) -> Option<IpAddr> {
    if let Some(name) = header {
        // Strictly the last entry: earlier ones are whatever the client claimed.
        let last = parts.headers.get_all(name).iter().next_back()?.to_str().ok()?;
        return last.rsplit(',').next()?.trim().parse().ok();
    }
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let ip = client_ip(&parts, state.config.client_ip_header.as_deref())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let req = Request::from_parts(parts, body);
    if state.limiter.check(ip, state.clock.now_ms()) {
        next.run(req).await
    } else {
        tracing::warn!(%ip, path = %req.uri().path(), "rate limited");
        ApiError(ErrorCode::RateLimited).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_empties_and_refills() {
        let l = RateLimiter::new(3, 60);
        let ip = IpAddr::from([10, 0, 0, 1]);
        assert!((0..3).all(|_| l.check(ip, 0)));
        assert!(!l.check(ip, 0));
        assert!(l.check(IpAddr::from([10, 0, 0, 2]), 0), "another client is not affected");
        assert!(l.check(ip, 1_000), "one token per second at 60/min");
        assert!(!l.check(ip, 1_000));
    }

    #[test]
    fn client_address_from_the_proxy_header_only_when_configured() {
        let (mut parts, ()) = axum::http::Request::get("/")
            .header("x-forwarded-for", "203.0.113.9, 198.51.100.7")
            .body(())
            .unwrap()
            .into_parts();
        parts.extensions.insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 5000))));
        // The proxy appends the address it saw: the last entry is the one it vouches for.
        assert_eq!(
            client_ip(&parts, Some("x-forwarded-for")),
            Some(IpAddr::from([198, 51, 100, 7]))
        );
        assert_eq!(client_ip(&parts, None), Some(IpAddr::from([127, 0, 0, 1])));
    }
}
