//! The holder and the relying service of the OpenID Provider's tests (`oidc`, `csc`): HTTP
//! answers as a client sees them, the holder's browser (cookie jar, navigations, same-origin API
//! calls, the HPKI card sign-in), and the form and query helpers of the code flow.

use std::collections::BTreeMap;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use http_body_util::BodyExt as _;
use mahpki_protocol::{
    ErrorCode,
    api::{CardSignature, Challenge, SignatureAlgorithm},
};
use serde_json::Value;

use super::{pki, world::World};

/// An HTTP answer as a client sees it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub location: Option<String>,
    pub www_authenticate: Option<String>,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// The OAuth `error` of a JSON error answer.
    pub fn oauth_error(&self) -> Option<String> {
        self.json()["error"].as_str().map(str::to_owned)
    }

    pub fn code(&self) -> Option<ErrorCode> {
        serde_json::from_value(self.json()["error"]["code"].clone()).ok()
    }
}

pub async fn call(app: &Router, req: Request<Body>) -> Reply {
    let res = tower::ServiceExt::oneshot(app.clone(), req).await.unwrap();
    let h = res.headers();
    let get = |n: header::HeaderName| h.get(n).map(|v| v.to_str().unwrap().to_owned());
    let (location, www_authenticate) = (get(header::LOCATION), get(header::WWW_AUTHENTICATE));
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Reply { status, location, www_authenticate, text: String::from_utf8_lossy(&bytes).into() }
}

/// The holder's browser: a cookie jar, top-level navigations and same-origin API calls.
pub struct Holder {
    pub app: Router,
    pub cookies: BTreeMap<String, String>,
    /// The holder's HPKI card's certificate.
    pub cert: Vec<u8>,
    /// The origin the card's signature names (the server's public origin).
    pub origin: String,
}

impl Holder {
    pub fn new(w: &World) -> Self {
        let origin = w.config.public_origin.clone();
        Self { app: w.app.clone(), cookies: BTreeMap::new(), cert: w.hpki_cert(), origin }
    }

    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<String>,
        api: bool,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        if api {
            req = req
                .header("sec-fetch-site", "same-origin")
                .header(header::CONTENT_TYPE, "application/json");
        } else {
            // A navigation that came from the relying service's page.
            req = req.header("sec-fetch-site", "cross-site");
        }
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req = req.header(header::COOKIE, jar.join("; "));
        }
        let res = tower::ServiceExt::oneshot(
            self.app.clone(),
            req.body(body.map(Body::from).unwrap_or_default()).unwrap(),
        )
        .await
        .unwrap();
        for set in res.headers().get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (kv, attrs) = set.split_once(';').unwrap_or((set, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") || v.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let get =
            |n| res.headers().get(n).map(|v: &header::HeaderValue| v.to_str().unwrap().to_owned());
        let (location, www_authenticate) = (get(header::LOCATION), get(header::WWW_AUTHENTICATE));
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Reply { status, location, www_authenticate, text: String::from_utf8_lossy(&bytes).into() }
    }

    pub async fn navigate(&mut self, path: &str) -> Reply {
        self.send("GET", path, None, false).await
    }

    /// Signs in with the HPKI card (challenge, the card's signature over the origin, the
    /// sign-in endpoint), as the sign-in page does.
    pub async fn sign_in(&mut self) {
        let a = self.send("POST", "/api/hpki/challenge", None, true).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        let c: Challenge = serde_json::from_str(&a.text).unwrap();
        let challenge = URL_SAFE_NO_PAD.decode(c.challenge).unwrap();
        let keys = pki::keys();
        let cert = &self.cert;
        let body = CardSignature {
            challenge: URL_SAFE_NO_PAD.encode(&challenge),
            certificate: URL_SAFE_NO_PAD.encode(cert),
            algorithm: SignatureAlgorithm::Rs256,
            signature: URL_SAFE_NO_PAD.encode(keys.holder.sign_challenge(&self.origin, &challenge)),
        };
        let a = self
            .send("POST", "/api/signin/hpki", Some(serde_json::to_string(&body).unwrap()), true)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    }
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// The query parameters of a URL (or path).
pub fn query_of(url: &str) -> BTreeMap<String, String> {
    let q = url.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}
