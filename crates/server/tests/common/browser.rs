//! A browser for the integration tests: keeps its session cookie like a real one, sends
//! same-origin requests through the real router, and signs challenges like the helper.

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use http_body_util::BodyExt as _;
use mahpki_protocol::{
    ErrorBody, ErrorCode,
    api::{CardSignature, Challenge, SignatureAlgorithm},
};
use serde_json::Value;

use super::pki::Key;

/// A browser: keeps its session cookie like a real one would.
pub struct Browser {
    pub app: Router,
    pub cookie: Option<String>,
    /// The signing session's cookie (the daily sign-in).
    pub signin: Option<String>,
}

pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    pub fn code(&self) -> Option<ErrorCode> {
        serde_json::from_value::<ErrorBody>(self.body.clone()).ok().map(|b| b.error.code)
    }
}

impl Browser {
    pub fn new(app: &Router) -> Self {
        Self { app: app.clone(), cookie: None, signin: None }
    }

    pub async fn send(&mut self, method: &str, path: &str, body: Option<String>) -> Answer {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/json");
        let jar: Vec<&str> =
            [&self.cookie, &self.signin].into_iter().flatten().map(String::as_str).collect();
        if !jar.is_empty() {
            req = req.header(header::COOKIE, jar.join("; "));
        }
        let req = req.body(body.map(Body::from).unwrap_or_default()).unwrap();
        let res = tower::ServiceExt::oneshot(self.app.clone(), req).await.unwrap();
        for set in res.headers().get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let pair = set.split(';').next().unwrap().to_owned();
            // The signing cookie is Lax (a relying service's redirect must carry it); the page
            // session's is Strict.
            let signin =
                set.starts_with("mahpki_signin=") || set.starts_with("__Host-mahpki_signin=");
            let same_site = if signin { "SameSite=Lax" } else { "SameSite=Strict" };
            assert!(set.contains("HttpOnly") && set.contains(same_site), "{set}");
            // HTTPS: __Host- and Secure; plain http://localhost (dev, demo): neither.
            if set.starts_with("__Host-") {
                assert!(set.contains("; Secure"), "{set}");
            } else {
                assert!(set.starts_with("mahpki_") && !set.contains("Secure"), "{set}");
            }
            let cleared = pair.ends_with('=');
            let slot = if signin { &mut self.signin } else { &mut self.cookie };
            *slot = if cleared { None } else { Some(pair) };
        }
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Answer { status, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
    }

    pub async fn challenge(&mut self, path: &str) -> Vec<u8> {
        let a = self.send("POST", path, None).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        let c: Challenge = serde_json::from_value(a.body).unwrap();
        URL_SAFE_NO_PAD.decode(c.challenge).unwrap()
    }

    pub async fn finish(
        &mut self,
        path: &str,
        challenge: &[u8],
        cert: &[u8],
        signature: &[u8],
    ) -> Answer {
        let body = CardSignature {
            challenge: URL_SAFE_NO_PAD.encode(challenge),
            certificate: URL_SAFE_NO_PAD.encode(cert),
            algorithm: SignatureAlgorithm::Rs256,
            signature: URL_SAFE_NO_PAD.encode(signature),
        };
        self.send("POST", path, Some(serde_json::to_string(&body).unwrap())).await
    }

    /// Challenge, card signature by `key` over `origin`, finish.
    pub async fn hpki_login(&mut self, cert: &[u8], key: &Key, origin: &str) -> Answer {
        let c = self.challenge("/api/hpki/challenge").await;
        self.finish("/api/hpki/finish", &c, cert, &key.sign_challenge(origin, &c)).await
    }

    pub async fn is_authenticated(&mut self) -> bool {
        self.send("GET", "/api/session", None).await.status == StatusCode::OK
    }
}
