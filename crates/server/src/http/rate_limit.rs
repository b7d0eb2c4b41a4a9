//! Per-client rate limit on the authentication endpoints: a token bucket per client address,
//! so one client guessing or hammering cannot exhaust the service for others.

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv6Addr, SocketAddr},
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

    /// Takes one token for `ip`'s bucket; false when the bucket is empty.
    pub fn check(&self, ip: IpAddr, now_ms: i64) -> bool {
        let ip = bucket_of(ip);
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

/// The bucket an address counts against. One IPv6 subscriber gets a whole /64 (and can pick any
/// address in it), so a /64 is one client; an IPv4-mapped IPv6 address is its IPv4 address.
pub fn bucket_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
        },
    }
}

/// `client_ip_header` is configured but this request carries no address in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderMissing;

/// The client's address: the configured proxy header's last entry, else the socket peer; `None`
/// when neither exists (requests through `oneshot` in tests).
pub fn client_ip(
    parts: &axum::http::request::Parts,
    header: Option<&str>,
) -> Result<Option<IpAddr>, HeaderMissing> {
    if let Some(name) = header {
        // Strictly the last entry: earlier ones are whatever the client claimed.
        let last = parts.headers.get_all(name).iter().next_back().ok_or(HeaderMissing)?;
        let last = last.to_str().map_err(|_| HeaderMissing)?;
        let entry = last.rsplit(',').next().ok_or(HeaderMissing)?;
        return entry.trim().parse().map(Some).map_err(|_| HeaderMissing);
    }
    Ok(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()))
}

/// Takes a token from the client's bucket. With `client_ip_header` configured, a request without
/// a usable header is refused rather than keyed by its connection: behind the proxy that
/// connection is the proxy's own address, one bucket for every such client (one client could
/// exhaust it for all, or all of them share one budget for guessing); and a request without the
/// header either bypassed the proxy the operator put in front, or passed a proxy that does not
/// set it. Both are configuration faults that must show (a typed refusal and a log line), not be
/// guessed around; and the audit log would name the wrong client either way.
pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let ip = match client_ip(&parts, state.config.client_ip_header.as_deref()) {
        Ok(ip) => ip.unwrap_or(IpAddr::from([127, 0, 0, 1])),
        Err(HeaderMissing) => {
            let header = state.config.client_ip_header.as_deref().unwrap_or_default();
            tracing::warn!(
                header,
                path = %parts.uri.path(),
                "refused a request without the configured client address header"
            );
            return ApiError(ErrorCode::ClientAddressMissing).into_response();
        }
    };
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
            Ok(Some(IpAddr::from([198, 51, 100, 7])))
        );
        assert_eq!(client_ip(&parts, None), Ok(Some(IpAddr::from([127, 0, 0, 1]))));
        // Configured but absent or garbage: no address, never the socket's.
        assert_eq!(client_ip(&parts, Some("x-real-ip")), Err(HeaderMissing));
        parts.headers.insert("x-real-ip", "not-an-address".parse().unwrap());
        assert_eq!(client_ip(&parts, Some("x-real-ip")), Err(HeaderMissing));
    }

    #[test]
    fn an_ipv6_client_is_its_64() {
        let l = RateLimiter::new(2, 60);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:fffe".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(l.check(a, 0) && l.check(b, 0));
        assert!(!l.check(a, 0), "another address in the same /64 shares the bucket");
        assert!(l.check(other, 0), "the next /64 is another client");
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(bucket_of(mapped), IpAddr::from([192, 0, 2, 1]));
    }
}
