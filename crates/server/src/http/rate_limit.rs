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

    /// A holder needs a handful of attempts (a wrong PIN, a swapped card); a burst of 20 and
    /// 20 a minute leaves room for that and none for brute force.
    pub fn production() -> Self {
        Self::new(20, 20)
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

/// The client's address as the server saw it (requests through `oneshot` in tests have none).
pub fn client_ip(req: &Request) -> Option<IpAddr> {
    req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ip = client_ip(&req).unwrap_or(IpAddr::from([127, 0, 0, 1]));
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
}
