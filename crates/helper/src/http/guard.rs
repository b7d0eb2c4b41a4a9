//! Which requests the helper answers. A web page on any site can send requests to 127.0.0.1, and a
//! DNS-rebinding attacker can make its own name resolve there; so the helper checks the `Host`
//! header against its own loopback address and the `Origin` against the configured sites before
//! any card is touched.

use std::net::SocketAddr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("Host header {0:?} is not this helper's loopback address")]
    ForeignHost(String),
    #[error("origin {0:?} is not allowed to use this helper")]
    ForeignOrigin(String),
    #[error("request has no Origin header")]
    NoOrigin,
}

#[derive(Debug, Clone)]
pub struct Guard {
    local: SocketAddr,
    allowed_origins: Vec<String>,
}

impl Guard {
    pub fn new(local: SocketAddr, allowed_origins: Vec<String>) -> Self {
        Self { local, allowed_origins }
    }

    /// The loopback address this helper listens on.
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// `Host` must name this listener exactly: `127.0.0.1:<port>` (or `localhost:<port>`).
    pub fn check_host(&self, host: Option<&str>) -> Result<(), Refusal> {
        let host = host.unwrap_or_default();
        let port = self.local.port();
        let ok =
            host == format!("{}:{port}", self.local.ip()) || host == format!("localhost:{port}");
        if ok { Ok(()) } else { Err(Refusal::ForeignHost(host.to_owned())) }
    }

    /// Whether `origin` is this helper's own origin as reached through `host` (its PIN page).
    pub fn is_own_origin(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        match (origin, host) {
            (Some(origin), Some(host)) => {
                self.check_host(Some(host)).is_ok() && origin == format!("http://{host}")
            }
            _ => false,
        }
    }

    /// Cross-origin calls must come from a configured site; compared exactly, as browsers send it.
    pub fn check_origin(&self, origin: Option<&str>) -> Result<String, Refusal> {
        let origin = origin.ok_or(Refusal::NoOrigin)?;
        if self.allowed_origins.iter().any(|o| o == origin) {
            Ok(origin.to_owned())
        } else {
            Err(Refusal::ForeignOrigin(origin.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard::new("127.0.0.1:24365".parse().unwrap(), vec!["https://hpki.example.jp".into()])
    }

    #[test]
    fn host_must_be_our_loopback_listener() {
        let g = guard();
        assert!(g.check_host(Some("127.0.0.1:24365")).is_ok());
        assert!(g.check_host(Some("localhost:24365")).is_ok());
        for bad in ["evil.example:24365", "127.0.0.1:80", "127.0.0.1", "127.0.0.1:24365.evil", ""] {
            assert_eq!(g.check_host(Some(bad)), Err(Refusal::ForeignHost(bad.into())), "{bad}");
        }
        assert!(g.check_host(None).is_err());
    }

    #[test]
    fn origin_must_be_configured_exactly() {
        let g = guard();
        assert_eq!(
            g.check_origin(Some("https://hpki.example.jp")).unwrap(),
            "https://hpki.example.jp"
        );
        for bad in [
            "https://hpki.example.jp.evil",
            "http://hpki.example.jp",
            "null",
            "https://evil.example",
        ] {
            assert!(matches!(g.check_origin(Some(bad)), Err(Refusal::ForeignOrigin(_))), "{bad}");
        }
        assert_eq!(g.check_origin(None), Err(Refusal::NoOrigin));
    }
}
