//! Headers on every answer: a strict Content Security Policy (no `unsafe-inline`: Trunk's inline
//! module loader is allowed by its hash), no sniffing, no referrer, no framing; over HTTPS, HSTS.

use std::sync::Arc;

use axum::{
    extract::State,
    http::{HeaderValue, header},
    response::Response,
};

pub struct ContentSecurityPolicy(HeaderValue);

/// Two years, the preload lists' minimum: once a browser has seen the site over HTTPS it never
/// again tries plain HTTP, where a network attacker could strip TLS before the first redirect.
/// No `includeSubDomains`: other hosts under the operator's domain are not ours to commit.
const HSTS: HeaderValue = HeaderValue::from_static("max-age=63072000");

/// What [`security_headers`] adds to every answer.
pub struct SecurityHeaders {
    pub csp: ContentSecurityPolicy,
    /// `public_origin` is HTTPS: send `Strict-Transport-Security` (never on plain-HTTP dev,
    /// where it would be ignored at best and pin localhost to HTTPS at worst).
    pub hsts: bool,
}

impl ContentSecurityPolicy {
    /// `helper_origins` may be called by the page (the local helper); `script_hashes` are the
    /// `sha256-…` sources of the app's inline scripts.
    pub fn new(helper_origins: &[String], script_hashes: Vec<String>) -> Self {
        let hashes: String = script_hashes.iter().map(|h| format!(" '{h}'")).collect();
        let helpers: String = helper_origins.iter().map(|o| format!(" {o}")).collect();
        let policy = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; \
             style-src 'self'; img-src 'self' data:; connect-src 'self'{helpers}; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        );
        // Origins were validated as printable ASCII by Config::validate and hashes are base64.
        Self(HeaderValue::from_str(&policy).expect("CSP is printable ASCII"))
    }
}

pub async fn security_headers(
    State(headers): State<Arc<SecurityHeaders>>,
    mut res: Response,
) -> Response {
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, headers.csp.0.clone());
    if headers.hsts {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    res
}

/// API answers are personal and never cached.
pub async fn no_store(mut res: Response) -> Response {
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
