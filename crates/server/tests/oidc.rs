//! Issue 12, OpenID Connect for the services that sign: the platform as an OpenID Provider,
//! through the real router on SQLite and PostgreSQL. A relying service (its server: the token,
//! userinfo and revocation calls, cross-origin and cookie-less) and a holder's browser (the
//! authorization redirects, the HPKI card sign-in, the consent page's API) are played by the
//! test; ID tokens are checked against the published JWKS. Each refusal of the issue's list is a
//! test with its OAuth error code, and checks that nothing was issued.

mod common;

use std::sync::LazyLock;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use base64::{
    Engine as _, engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE_NO_PAD,
};
use common::{
    Db,
    holder::{Holder, Reply, call, form, query_of},
    pki,
    world::{HOLDER, ORIGIN, World, world},
};
use jsonwebtoken::{DecodingKey, Validation, jwk::JwkSet};
use mahpki_protocol::{
    ErrorCode,
    oidc::{ConsentOutcome, ConsentPrompt, TokenResponse},
};
use mahpki_server::service::{oidc::s256, oidc_client};
use serde_json::Value;

const RP_CALLBACK: &str = "https://rp.example/callback";

/// One signing key file for every test of this process (RSA key generation takes a moment).
static KEY_DIR: LazyLock<tempfile::TempDir> = LazyLock::new(|| tempfile::tempdir().unwrap());

async fn provider(db: Db) -> World {
    world(db).await.with_oidc_keys(&KEY_DIR.path().join("oidc-signing-keys.json"))
}

/// A provider whose public origin (and so issuer) is `origin`.
async fn provider_at(db: Db, origin: &str) -> World {
    let config = mahpki_server::Config { public_origin: origin.into(), ..common::world::config() };
    common::world::world_with(db, config)
        .await
        .with_oidc_keys(&KEY_DIR.path().join("oidc-signing-keys.json"))
}

/// A relying service: its registration, and the calls its server makes.
struct Rp {
    app: Router,
    client_id: String,
    secret: Option<String>,
    /// The private key of its private_key_jwt, if it uses that.
    key: Option<jsonwebtoken::EncodingKey>,
}

/// One authorization request's secrets, as the relying service keeps them.
struct Flow {
    state: String,
    nonce: String,
    verifier: String,
}

impl Flow {
    fn new() -> Self {
        let r = |n| URL_SAFE_NO_PAD.encode(rand_bytes(n));
        Self { state: r(16), nonce: r(16), verifier: r(32) }
    }
}

fn rand_bytes(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).unwrap();
    b
}

impl Rp {
    async fn register(w: &World, name: &str) -> Self {
        let r =
            oidc_client::register(&w.store, name, &[RP_CALLBACK.into()], None, w.clock.now_ms())
                .await
                .unwrap();
        Self { app: w.app.clone(), client_id: r.client_id, secret: r.secret, key: None }
    }

    /// A private_key_jwt client with a fresh RSA key.
    async fn register_jwt(w: &World, name: &str) -> Self {
        let (key, jwks) = client_key();
        let r = oidc_client::register(
            &w.store,
            name,
            &[RP_CALLBACK.into()],
            Some(&jwks),
            w.clock.now_ms(),
        )
        .await
        .unwrap();
        assert_eq!(r.secret, None);
        Self { app: w.app.clone(), client_id: r.client_id, secret: None, key: Some(key) }
    }

    fn authorize_url(&self, f: &Flow, extra: &[(&str, &str)]) -> String {
        let challenge = s256(&f.verifier);
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", RP_CALLBACK),
            ("scope", "openid profile"),
            ("state", f.state.as_str()),
            ("nonce", f.nonce.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        for (k, v) in extra {
            pairs.retain(|(pk, _)| pk != k);
            if !v.is_empty() {
                pairs.push((k, v));
            }
        }
        format!("/oidc/authorize?{}", form(&pairs))
    }

    fn basic(&self) -> String {
        let secret = self.secret.as_deref().unwrap();
        format!("Basic {}", STANDARD.encode(format!("{}:{secret}", self.client_id)))
    }

    /// A private_key_jwt assertion for the token endpoint.
    fn assertion(&self, now_secs: i64, aud: &str, jti: &str) -> String {
        let claims = serde_json::json!({
            "iss": self.client_id, "sub": self.client_id, "aud": aud,
            "exp": now_secs + 60, "iat": now_secs, "jti": jti,
        });
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        h.kid = Some("rp-key-1".into());
        jsonwebtoken::encode(&h, &claims, self.key.as_ref().unwrap()).unwrap()
    }

    /// A form POST from the service's server: no cookie, no Origin of ours.
    async fn post(&self, path: &str, auth: Option<&str>, body: &[(&str, &str)]) -> Reply {
        let mut req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, "https://rp.example");
        if let Some(a) = auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        call(&self.app, req.body(Body::from(form(body))).unwrap()).await
    }

    async fn redeem(&self, code: &str, f: &Flow) -> Reply {
        let body = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", RP_CALLBACK),
            ("code_verifier", f.verifier.as_str()),
        ];
        self.post("/oidc/token", Some(&self.basic()), &body).await
    }

    async fn refresh(&self, refresh_token: &str) -> Reply {
        let body = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
        self.post("/oidc/token", Some(&self.basic()), &body).await
    }

    async fn userinfo(&self, access_token: &str) -> Reply {
        let req = Request::get("/oidc/userinfo")
            .header(header::AUTHORIZATION, format!("Bearer {access_token}"))
            .body(Body::empty())
            .unwrap();
        call(&self.app, req).await
    }
}

/// An RSA key for private_key_jwt and the JWKS of its public half.
fn client_key() -> (jsonwebtoken::EncodingKey, String) {
    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    let der = pki::keys().rogue_ca.rsa.to_pkcs1_der().unwrap();
    let key = jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes());
    let mut jwk =
        jsonwebtoken::jwk::Jwk::from_encoding_key(&key, jsonwebtoken::Algorithm::RS256).unwrap();
    jwk.common.key_id = Some("rp-key-1".into());
    (key, serde_json::json!({ "keys": [jwk] }).to_string())
}

/// The code of a redirect back to the service, after checking its `state` and `iss`.
fn code_of(location: &str, f: &Flow) -> String {
    assert!(location.starts_with(RP_CALLBACK), "{location}");
    let q = query_of(location);
    assert_eq!(q.get("state"), Some(&f.state), "{location}");
    assert_eq!(q.get("iss").map(String::as_str), Some(ORIGIN), "{location}");
    q.get("code").unwrap_or_else(|| panic!("no code: {location}")).clone()
}

/// The whole first visit: authorize → sign in → consent → code.
async fn first_code(holder: &mut Holder, rp: &Rp, f: &Flow) -> String {
    let a = holder.navigate(&rp.authorize_url(f, &[])).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    let to = a.location.unwrap();
    assert!(to.starts_with("/signin?continue="), "{to}");
    let resume = query_of(&to)["continue"].clone();
    assert!(resume.starts_with("/oidc/authorize/resume?request="), "{resume}");
    holder.sign_in().await;
    let a = holder.navigate(&resume).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    let to = a.location.unwrap();
    assert!(to.starts_with("/consent?request="), "{to}");
    let request = query_of(&to)["request"].clone();
    let a = holder.send("GET", &format!("/api/oidc/consent?request={request}"), None, true).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let prompt: ConsentPrompt = serde_json::from_str(&a.text).unwrap();
    assert_eq!(prompt.client_id, rp.client_id);
    assert_eq!(prompt.holder.hpki_id.as_str(), HOLDER);
    let body = serde_json::json!({ "request": request, "approve": true }).to_string();
    let a = holder.send("POST", "/api/oidc/consent", Some(body), true).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let out: ConsentOutcome = serde_json::from_str(&a.text).unwrap();
    code_of(&out.redirect_to, f)
}

/// A later visit of a signed-in, consenting holder: straight back with a code.
async fn next_code(holder: &mut Holder, rp: &Rp, f: &Flow, extra: &[(&str, &str)]) -> String {
    let a = holder.navigate(&rp.authorize_url(f, extra)).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    code_of(&a.location.unwrap(), f)
}

fn tokens(a: &Reply) -> TokenResponse {
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    serde_json::from_str(&a.text).unwrap()
}

fn refused(a: &Reply, status: StatusCode, error: &str) {
    assert_eq!(a.status, status, "{}", a.text);
    assert_eq!(a.oauth_error().as_deref(), Some(error), "{}", a.text);
    // Nothing issued: no token of any kind in the answer.
    for k in ["access_token", "refresh_token", "id_token"] {
        assert!(a.json().get(k).is_none(), "{}", a.text);
    }
}

/// Verifies an ID token with the published JWKS and returns its claims.
async fn id_claims(w: &World, id_token: &str, client_id: &str) -> Value {
    let a = call(&w.app, Request::get("/oidc/jwks").body(Body::empty()).unwrap()).await;
    let jwks: JwkSet = serde_json::from_str(&a.text).unwrap();
    let kid = jsonwebtoken::decode_header(id_token).unwrap().kid.unwrap();
    let key =
        DecodingKey::from_jwk(jwks.find(&kid).expect("the ID token's kid is published")).unwrap();
    let mut v = Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[client_id]);
    v.set_issuer(&[ORIGIN]);
    v.validate_exp = false; // the server's clock is the test's
    jsonwebtoken::decode::<Value>(id_token, &key, &v).unwrap().claims
}

async fn audited(w: &World, action: &str, outcome: &str) -> bool {
    w.actions().await.iter().any(|(a, o)| a == action && o == outcome)
}

// ---------------------------------------------------------------------------------------------

async fn discovery_names_every_endpoint_and_the_jwks_has_kids(db: Db) {
    let w = provider(db).await;
    let a = call(
        &w.app,
        Request::get("/.well-known/openid-configuration").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let d = a.json();
    assert_eq!(d["issuer"], ORIGIN);
    assert_eq!(d["authorization_endpoint"], format!("{ORIGIN}/oidc/authorize"));
    assert_eq!(d["token_endpoint"], format!("{ORIGIN}/oidc/token"));
    assert_eq!(d["jwks_uri"], format!("{ORIGIN}/oidc/jwks"));
    assert_eq!(d["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    // `service`: the CSC API's scope for signing with the holder's second certificate.
    assert_eq!(d["scopes_supported"], serde_json::json!(["openid", "profile", "service"]));
    assert_eq!(
        d["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "private_key_jwt"])
    );
    let a = call(&w.app, Request::get("/oidc/jwks").body(Body::empty()).unwrap()).await;
    let jwks = a.json();
    let keys = jwks["keys"].as_array().unwrap();
    assert!(!keys.is_empty());
    for k in keys {
        assert!(k["kid"].as_str().is_some_and(|k| !k.is_empty()), "{k}");
        assert_eq!(k["use"], "sig");
        assert!(k.get("d").is_none(), "a private key is published: {k}");
    }
}

async fn unknown_client_or_redirect_uri_ends_on_a_page_never_a_redirect(db: Db) {
    let w = provider(db).await;
    let rp = Rp::register(&w, "処方システム").await;
    let mut holder = Holder::new(&w);
    let f = Flow::new();
    let cases = [
        (rp.authorize_url(&f, &[("client_id", "c-nobody")]), ErrorCode::OidcClientUnknown),
        (rp.authorize_url(&f, &[("client_id", "")]), ErrorCode::OidcClientUnknown),
        (
            rp.authorize_url(&f, &[("redirect_uri", "https://attacker.example/callback")]),
            ErrorCode::OidcRedirectUriInvalid,
        ),
        (
            rp.authorize_url(&f, &[("redirect_uri", "https://rp.example/callback/")]),
            ErrorCode::OidcRedirectUriInvalid,
        ),
        (rp.authorize_url(&f, &[("redirect_uri", "")]), ErrorCode::OidcRedirectUriInvalid),
        // Even with other faults (no PKCE): the redirect URI is judged first.
        (
            rp.authorize_url(
                &f,
                &[("redirect_uri", "https://attacker.example/"), ("code_challenge", "")],
            ),
            ErrorCode::OidcRedirectUriInvalid,
        ),
    ];
    for (url, code) in cases {
        let a = holder.navigate(&url).await;
        assert_eq!(a.status.as_u16(), code.http_status(), "{url}");
        assert_eq!(a.location, None, "{url} must not redirect");
        assert!(a.text.contains(code.message().ja), "{url}: {}", a.text);
        assert!(a.text.contains(&code.wire()), "{url}");
    }
    assert!(audited(&w, "oidc.authorize", "oidc_client_unknown").await);
    assert!(audited(&w, "oidc.authorize", "oidc_redirect_uri_invalid").await);
}

async fn a_bad_request_goes_back_with_its_oauth_error(db: Db) {
    let w = provider(db).await;
    let rp = Rp::register(&w, "処方システム").await;
    let mut holder = Holder::new(&w);
    let f = Flow::new();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("code_challenge", "")], "invalid_request"),
        (&[("code_challenge_method", "plain")], "invalid_request"),
        (&[("code_challenge_method", "")], "invalid_request"),
        (&[("code_challenge", "too-short")], "invalid_request"),
        (&[("scope", "profile")], "invalid_scope"),
        (&[("scope", "openid admin")], "invalid_scope"),
        (&[("scope", "openid service credential")], "invalid_scope"),
        (&[("scope", "openid Service")], "invalid_scope"),
        (&[("response_type", "token")], "unsupported_response_type"),
        (&[("response_type", "code id_token")], "unsupported_response_type"),
        (&[("max_age", "soon")], "invalid_request"),
        (&[("prompt", "none login")], "invalid_request"),
        (&[("request", "eyJ...")], "request_not_supported"),
    ];
    for (extra, error) in cases {
        let a = holder.navigate(&rp.authorize_url(&f, extra)).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{extra:?}");
        let to = a.location.unwrap();
        assert!(to.starts_with(RP_CALLBACK), "{to}");
        let q = query_of(&to);
        assert_eq!(q.get("error").map(String::as_str), Some(*error), "{extra:?}: {to}");
        assert_eq!(q.get("state"), Some(&f.state), "{to}");
        assert_eq!(q.get("iss").map(String::as_str), Some(ORIGIN));
        assert!(!q.contains_key("code"), "{to}");
    }
    // prompt=none without a sign-in: the service hears login_required, no page is shown.
    let a = holder.navigate(&rp.authorize_url(&f, &[("prompt", "none")])).await;
    assert_eq!(
        query_of(&a.location.unwrap()).get("error").map(String::as_str),
        Some("login_required")
    );
}

async fn client_authentication_is_checked_before_anything_else(db: Db) {
    let w = provider(db).await;
    let rp = Rp::register(&w, "処方システム").await;
    let other = Rp::register(&w, "別の薬局システム").await;
    let unknown_code = URL_SAFE_NO_PAD.encode([7u8; 32]);
    let body = [
        ("grant_type", "authorization_code"),
        ("code", unknown_code.as_str()),
        ("redirect_uri", RP_CALLBACK),
        ("code_verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
    ];
    let wrong_secret =
        format!("Basic {}", STANDARD.encode(format!("{}:not-the-secret", rp.client_id)));
    let others_secret = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", rp.client_id, other.secret.as_deref().unwrap()))
    );
    let nobody = format!("Basic {}", STANDARD.encode("c-nobody:secret"));
    for auth in [Some(wrong_secret.as_str()), Some(others_secret.as_str()), Some(nobody.as_str())] {
        let a = rp.post("/oidc/token", auth, &body).await;
        refused(&a, StatusCode::UNAUTHORIZED, "invalid_client");
        assert_eq!(a.www_authenticate.as_deref(), Some("Basic realm=\"mahpki\""));
    }
    // No authentication at all (a public client), or client_secret_post: refused.
    let a = rp.post("/oidc/token", None, &body).await;
    refused(&a, StatusCode::UNAUTHORIZED, "invalid_client");
    let mut post = body.to_vec();
    post.extend([
        ("client_id", rp.client_id.as_str()),
        ("client_secret", rp.secret.as_deref().unwrap()),
    ]);
    refused(&rp.post("/oidc/token", None, &post).await, StatusCode::UNAUTHORIZED, "invalid_client");
    // The right secret gets past authentication to the code, which is unknown.
    refused(
        &rp.post("/oidc/token", Some(&rp.basic()), &body).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    // The token endpoint is for servers: a cross-origin POST is not a CSRF refusal.
    let a = rp.post("/oidc/token", Some(&rp.basic()), &[("grant_type", "password")]).await;
    refused(&a, StatusCode::BAD_REQUEST, "unsupported_grant_type");
    assert!(audited(&w, "oidc.token", "oidc_grant_invalid").await);
}

async fn private_key_jwt_checks_signature_audience_expiry_and_jti(db: Db) {
    let w = provider(db).await;
    let rp = Rp::register_jwt(&w, "鍵で認証するシステム").await;
    let token_url = format!("{ORIGIN}/oidc/token");
    let now = w.clock.now_secs();
    let unknown_code = URL_SAFE_NO_PAD.encode([9u8; 32]);
    let with = |assertion: String| {
        vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), unknown_code.clone()),
            ("redirect_uri".to_owned(), RP_CALLBACK.to_owned()),
            ("code_verifier".to_owned(), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_owned()),
            ("client_assertion_type".to_owned(), oidc_client::JWT_BEARER.to_owned()),
            ("client_assertion".to_owned(), assertion),
        ]
    };
    let post = |pairs: Vec<(String, String)>| {
        let rp = &rp;
        async move {
            let pairs: Vec<(&str, &str)> =
                pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            rp.post("/oidc/token", None, &pairs).await
        }
    };
    // A good assertion passes authentication (the code is then unknown)…
    let good = rp.assertion(now, &token_url, "jti-1");
    refused(&post(with(good.clone())).await, StatusCode::BAD_REQUEST, "invalid_grant");
    // …once: the same jti again is refused.
    refused(&post(with(good)).await, StatusCode::UNAUTHORIZED, "invalid_client");
    // The issuer as audience is accepted too (OIDC Core §9).
    refused(
        &post(with(rp.assertion(now, ORIGIN, "jti-2"))).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    // Wrong audience, expired, lives too long, no jti.
    let wrong_aud = rp.assertion(now, "https://other-op.example/token", "jti-3");
    refused(&post(with(wrong_aud)).await, StatusCode::UNAUTHORIZED, "invalid_client");
    let expired = rp.assertion(now - 120, &token_url, "jti-4");
    refused(&post(with(expired)).await, StatusCode::UNAUTHORIZED, "invalid_client");
    let claims = |exp: i64, jti: Option<&str>| {
        let mut c = serde_json::json!({"iss": rp.client_id, "sub": rp.client_id, "aud": token_url, "exp": exp});
        if let Some(j) = jti {
            c["jti"] = j.into();
        }
        c
    };
    let sign = |c: &Value| {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        h.kid = Some("rp-key-1".into());
        jsonwebtoken::encode(&h, c, rp.key.as_ref().unwrap()).unwrap()
    };
    refused(
        &post(with(sign(&claims(now + 7200, Some("jti-5"))))).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
    refused(
        &post(with(sign(&claims(now + 60, None)))).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
    // Signed with a key that is not the registered one (same kid), or with HMAC over the
    // public key, or not signed at all.
    let (stranger, _) = {
        use rsa::pkcs1::EncodeRsaPrivateKey as _;
        let der = pki::keys().jpki_ca.rsa.to_pkcs1_der().unwrap();
        (jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes()), ())
    };
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    h.kid = Some("rp-key-1".into());
    let forged = jsonwebtoken::encode(&h, &claims(now + 60, Some("jti-6")), &stranger).unwrap();
    refused(&post(with(forged)).await, StatusCode::UNAUTHORIZED, "invalid_client");
    let hmac = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims(now + 60, Some("jti-7")),
        &jsonwebtoken::EncodingKey::from_secret(b"public").unwrap(),
    )
    .unwrap();
    refused(&post(with(hmac)).await, StatusCode::UNAUTHORIZED, "invalid_client");
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(claims(now + 60, Some("jti-8")).to_string())
    );
    refused(&post(with(unsigned)).await, StatusCode::UNAUTHORIZED, "invalid_client");
    // A wrong assertion type, and a secret for a client that has none.
    let mut bad_type = with(rp.assertion(now, &token_url, "jti-9"));
    bad_type[4].1 = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer".into();
    refused(&post(bad_type).await, StatusCode::UNAUTHORIZED, "invalid_client");
    let basic = format!("Basic {}", STANDARD.encode(format!("{}:guess", rp.client_id)));
    let body = [("grant_type", "authorization_code"), ("code", unknown_code.as_str())];
    refused(
        &rp.post("/oidc/token", Some(&basic), &body).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
}

// --- with a signed-in holder (the signing sessions of issue 12) ---

async fn a_holder_signs_in_with_the_hpki_card_and_the_service_learns_who(db: Db) {
    let w = provider(db).await;
    let rp = Rp::register(&w, "処方システム").await;
    let mut holder = Holder::new(&w);
    let f = Flow::new();
    let code = first_code(&mut holder, &rp, &f).await;
    let t = tokens(&rp.redeem(&code, &f).await);
    assert_eq!(t.token_type, "Bearer");
    assert!(t.expires_in > 0 && t.expires_in <= 600);
    let c = id_claims(&w, &t.id_token, &rp.client_id).await;
    assert_eq!(c["sub"], HOLDER);
    assert_eq!(c["nonce"], f.nonce.as_str());
    assert_eq!(c["acr"], "urn:mahpki:acr:hpki-card");
    assert_eq!(c["amr"], serde_json::json!(["sc", "pin", "mfa"]));
    assert_eq!(c["name"], "医師 花子");
    assert_eq!(c["name#ja-Kana-JP"], "イシ ハナコ");
    assert_eq!(c["hpki_qualification"], "doctor");
    assert_eq!(c["hpki_ca"], "JMA");
    assert!(c["sid"].as_str().is_some_and(|s| !s.is_empty()));
    let auth_time = c["auth_time"].as_i64().unwrap();
    assert!((w.clock.now_secs() - auth_time).abs() <= 1, "{auth_time}");
    // The access token opens userinfo and carries the session's sid.
    let u = rp.userinfo(&t.access_token).await;
    assert_eq!(u.status, StatusCode::OK, "{}", u.text);
    assert_eq!(u.json()["sub"], HOLDER);
    assert_eq!(u.json()["hpki_qualification"], "doctor");
    let ctx_grant = {
        let state_ctx = w
            .store
            .oidc_token_get(&mahpki_server::service::oidc::token_hash(&t.access_token))
            .await
            .unwrap()
            .unwrap();
        state_ctx.sid
    };
    assert_eq!(c["sid"], ctx_grant.as_str());
    // Nothing of the tokens is stored in the clear.
    assert!(w.store.oidc_token_get(t.access_token.as_bytes()).await.unwrap().is_none());
    // The consent is remembered: the next request goes straight back with a code.
    let f2 = Flow::new();
    let code2 = next_code(&mut holder, &rp, &f2, &[]).await;
    let t2 = tokens(&rp.redeem(&code2, &f2).await);
    assert_eq!(id_claims(&w, &t2.id_token, &rp.client_id).await["sid"], c["sid"]);
    assert!(audited(&w, "oidc.consent", "ok").await);
    assert!(audited(&w, "oidc.token", "ok").await);
}

async fn a_replayed_code_is_refused_and_revokes_what_it_gave(db: Db) {
    let w = provider(db).await;
    let rp = Rp::register(&w, "処方システム").await;
    let mut holder = Holder::new(&w);
    let f = Flow::new();
    let code = first_code(&mut holder, &rp, &f).await;
    let t = tokens(&rp.redeem(&code, &f).await);
    refused(&rp.redeem(&code, &f).await, StatusCode::BAD_REQUEST, "invalid_grant");
    // What the first redemption issued is dead.
    refused(&rp.userinfo(&t.access_token).await, StatusCode::UNAUTHORIZED, "invalid_token");
    refused(
        &rp.refresh(t.refresh_token.as_deref().unwrap()).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    assert!(audited(&w, "oidc.grant.revoke", "oidc_grant_invalid").await);
}

async fn an_expired_code_is_refused(db: Db) {
    let w = provider(db).await;
    let rp = Rp::register(&w, "処方システム").await;
    let mut holder = Holder::new(&w);
    let f = Flow::new();
    let code = first_code(&mut holder, &rp, &f).await;
    w.clock.advance_ms(61_000);
    refused(&rp.redeem(&code, &f).await, StatusCode::BAD_REQUEST, "invalid_grant");
}

async fn a_missing_or_wrong_pkce_verifier_is_refused_and_spends_the_code(db: Db) {
    let w = provider(db).await;
    let rp = Rp::register(&w, "処方システム").await;
    let mut holder = Holder::new(&w);
    let f = Flow::new();
    let code = first_code(&mut holder, &rp, &f).await;
    let body = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", RP_CALLBACK),
    ];
    refused(
        &rp.post("/oidc/token", Some(&rp.basic()), &body).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    // A code is tried once: even the right verifier now fails.
    refused(&rp.redeem(&code, &f).await, StatusCode::BAD_REQUEST, "invalid_grant");
    let f2 = Flow::new();
    let code2 = next_code(&mut holder, &rp, &f2, &[]).await;
    let wrong = Flow { verifier: Flow::new().verifier, ..f2 };
    refused(&rp.redeem(&code2, &wrong).await, StatusCode::BAD_REQUEST, "invalid_grant");
    // A redirect_uri other than the request's.
    let f3 = Flow::new();
    let code3 = next_code(&mut holder, &rp, &f3, &[]).await;
    let body = [
        ("grant_type", "authorization_code"),
        ("code", code3.as_str()),
        ("redirect_uri", "https://rp.example/other"),
        ("code_verifier", f3.verifier.as_str()),
    ];
    refused(
        &rp.post("/oidc/token", Some(&rp.basic()), &body).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
}

async fn a_code_is_only_good_for_its_client_and_bad_client_auth_leaves_it_alone(db: Db) {
    let w = provider(db).await;
    let rp = Rp::register(&w, "処方システム").await;
    let thief = Rp::register(&w, "悪いシステム").await;
    let mut holder = Holder::new(&w);
    let f = Flow::new();
    let code = first_code(&mut holder, &rp, &f).await;
    // A wrong secret is refused before the code is looked at: the code still works after.
    let wrong = format!("Basic {}", STANDARD.encode(format!("{}:wrong", rp.client_id)));
    let body = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", RP_CALLBACK),
        ("code_verifier", f.verifier.as_str()),
    ];
    refused(
        &rp.post("/oidc/token", Some(&wrong), &body).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
    tokens(&rp.redeem(&code, &f).await);
    // Another client's code: refused, and nothing issued.
    let f2 = Flow::new();
    let code2 = next_code(&mut holder, &rp, &f2, &[]).await;
    refused(&thief.redeem(&code2, &f2).await, StatusCode::BAD_REQUEST, "invalid_grant");
}

async fn max_age_exceeded_or_prompt_login_forces_a_new_sign_in(db: Db) {
    let w = provider(db).await;
    let rp = Rp::register(&w, "処方システム").await;
    let mut holder = Holder::new(&w);
    let f = Flow::new();
    let code = first_code(&mut holder, &rp, &f).await;
    let first = id_claims(&w, &tokens(&rp.redeem(&code, &f).await).id_token, &rp.client_id).await;
    w.clock.advance_ms(120_000);
    for extra in [&[("max_age", "60")][..], &[("prompt", "login")][..]] {
        let f = Flow::new();
        let a = holder.navigate(&rp.authorize_url(&f, extra)).await;
        let to = a.location.unwrap();
        assert!(to.starts_with("/signin?continue="), "{extra:?}: {to}");
        let resume = query_of(&to)["continue"].clone();
        // Coming back without signing in again does not do: the old sign-in is too old.
        let a = holder.navigate(&resume).await;
        assert!(a.location.as_deref().unwrap().starts_with("/signin?"), "{extra:?}");
        let a = holder
            .send(
                "GET",
                &format!("/api/oidc/consent?{}", resume.split_once('?').unwrap().1),
                None,
                true,
            )
            .await;
        assert_eq!(a.code(), Some(ErrorCode::Unauthenticated), "{}", a.text);
        w.clock.advance_ms(1000);
        holder.sign_in().await;
        let a = holder.navigate(&resume).await;
        let code = code_of(&a.location.unwrap(), &f);
        let c = id_claims(&w, &tokens(&rp.redeem(&code, &f).await).id_token, &rp.client_id).await;
        assert!(c["auth_time"].as_i64() > first["auth_time"].as_i64(), "{extra:?}: {c}");
    }
}

async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_family(db: Db) {
    let w = provider(db).await;
    let rp = Rp::register(&w, "処方システム").await;
    let mut holder = Holder::new(&w);
    let f = Flow::new();
    let code = first_code(&mut holder, &rp, &f).await;
    let t1 = tokens(&rp.redeem(&code, &f).await);
    let r1 = t1.refresh_token.clone().unwrap();
    let t2 = tokens(&rp.refresh(&r1).await);
    let r2 = t2.refresh_token.clone().unwrap();
    assert_ne!(r1, r2);
    let c = id_claims(&w, &t2.id_token, &rp.client_id).await;
    assert_eq!(c["sub"], HOLDER);
    assert_eq!(rp.userinfo(&t2.access_token).await.status, StatusCode::OK);
    // The replaced token used again (a copy): refused, and the new ones die with it.
    refused(&rp.refresh(&r1).await, StatusCode::BAD_REQUEST, "invalid_grant");
    refused(&rp.refresh(&r2).await, StatusCode::BAD_REQUEST, "invalid_grant");
    refused(&rp.userinfo(&t2.access_token).await, StatusCode::UNAUTHORIZED, "invalid_token");
    // Another client presenting a refresh token gets nothing.
    let f = Flow::new();
    let code = next_code(&mut holder, &rp, &f, &[]).await;
    let t = tokens(&rp.redeem(&code, &f).await);
    let thief = Rp::register(&w, "悪いシステム").await;
    refused(
        &thief.refresh(t.refresh_token.as_deref().unwrap()).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
}

async fn tokens_never_outlive_the_signing_session(db: Db) {
    let w = provider(db).await;
    let rp = Rp::register(&w, "処方システム").await;
    let mut holder = Holder::new(&w);
    let f = Flow::new();
    let code = first_code(&mut holder, &rp, &f).await;
    let t = tokens(&rp.redeem(&code, &f).await);
    let refresh = t.refresh_token.clone().unwrap();
    // The refresh token's expiry is capped by the session's.
    let until =
        holder.send("GET", "/api/signin", None, true).await.json()["until"].as_i64().unwrap();
    let hash = mahpki_server::service::oidc::token_hash(&refresh);
    let stored = w.store.oidc_token_get(&hash).await.unwrap().unwrap();
    assert!(stored.expires_ms <= until * 1000 + 999, "{} > {until}", stored.expires_ms);
    // Signing out on the device ends what the service holds.
    let a = holder.send("POST", "/api/signin/end", None, true).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    refused(&rp.refresh(&refresh).await, StatusCode::BAD_REQUEST, "invalid_grant");
    refused(&rp.userinfo(&t.access_token).await, StatusCode::UNAUTHORIZED, "invalid_token");

    // A session that runs out takes its refresh token with it.
    let mut holder = Holder::new(&w);
    let f = Flow::new();
    holder.sign_in().await;
    let code = next_code(&mut holder, &rp, &f, &[]).await;
    let t = tokens(&rp.redeem(&code, &f).await);
    w.clock.advance_ms(18 * 3_600_000 + 1000);
    refused(
        &rp.refresh(t.refresh_token.as_deref().unwrap()).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );

    // A holder suspended by the operator: their session, and so their tokens, stop at once.
    let mut holder = Holder::new(&w);
    let f = Flow::new();
    holder.sign_in().await;
    let code = next_code(&mut holder, &rp, &f, &[]).await;
    let t = tokens(&rp.redeem(&code, &f).await);
    assert_eq!(rp.userinfo(&t.access_token).await.status, StatusCode::OK);
    assert!(w.store.identity_suspend(HOLDER, "test", Some("cli")).await.unwrap());
    refused(&rp.userinfo(&t.access_token).await, StatusCode::UNAUTHORIZED, "invalid_token");
    refused(
        &rp.refresh(t.refresh_token.as_deref().unwrap()).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
}

async fn a_revoked_access_token_opens_nothing(db: Db) {
    let w = provider(db).await;
    let rp = Rp::register(&w, "処方システム").await;
    let other = Rp::register(&w, "別のシステム").await;
    let mut holder = Holder::new(&w);
    let f = Flow::new();
    let code = first_code(&mut holder, &rp, &f).await;
    let t = tokens(&rp.redeem(&code, &f).await);
    // Another client cannot revoke it.
    let a = other
        .post("/oidc/revoke", Some(&other.basic()), &[("token", t.access_token.as_str())])
        .await;
    refused(&a, StatusCode::BAD_REQUEST, "unauthorized_client");
    assert_eq!(rp.userinfo(&t.access_token).await.status, StatusCode::OK);
    let a = rp.post("/oidc/revoke", Some(&rp.basic()), &[("token", t.access_token.as_str())]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    refused(&rp.userinfo(&t.access_token).await, StatusCode::UNAUTHORIZED, "invalid_token");
    // An unknown token is not an error (RFC 7009 §2.2); revoking the refresh token ends the grant.
    let a = rp.post("/oidc/revoke", Some(&rp.basic()), &[("token", "no-such-token")]).await;
    assert_eq!(a.status, StatusCode::OK);
    let a = rp
        .post("/oidc/revoke", Some(&rp.basic()), &[("token", t.refresh_token.as_deref().unwrap())])
        .await;
    assert_eq!(a.status, StatusCode::OK);
    refused(
        &rp.refresh(t.refresh_token.as_deref().unwrap()).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    // A bearer that is no token at all.
    refused(&rp.userinfo("garbage").await, StatusCode::UNAUTHORIZED, "invalid_token");
}

/// A consent covers the scope agreed to: a service the holder let sign them in that later asks
/// to sign too (`service`) shows the consent page again, which now says it will sign with the
/// HPKI second certificate; once agreed, either request goes straight back. Declining the
/// wider request keeps the narrower consent as it was.
async fn asking_to_sign_needs_its_own_consent(db: Db) {
    let w = provider(db).await;
    let rp = Rp::register(&w, "処方システム").await;
    let mut holder = Holder::new(&w);
    holder.sign_in().await;
    let consent_page = |a: Reply| -> String {
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
        let to = a.location.unwrap();
        assert!(to.starts_with("/consent?request="), "{to}");
        query_of(&to)["request"].clone()
    };
    let prompt = async |holder: &mut Holder, request: &str| -> ConsentPrompt {
        let a =
            holder.send("GET", &format!("/api/oidc/consent?request={request}"), None, true).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        serde_json::from_str(&a.text).unwrap()
    };
    let answer = async |holder: &mut Holder, request: &str, approve: bool| -> String {
        let body = serde_json::json!({ "request": request, "approve": approve }).to_string();
        let a = holder.send("POST", "/api/oidc/consent", Some(body), true).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        serde_json::from_str::<ConsentOutcome>(&a.text).unwrap().redirect_to
    };

    // Sign-in only: the page does not speak of signing.
    let f = Flow::new();
    let request = consent_page(holder.navigate(&rp.authorize_url(&f, &[])).await);
    assert!(!prompt(&mut holder, &request).await.remote_signing);
    code_of(&answer(&mut holder, &request, true).await, &f);
    let scope = w.store.oidc_consent_scope(HOLDER, &rp.client_id).await.unwrap();
    assert_eq!(scope.as_deref(), Some("openid profile"));
    next_code(&mut holder, &rp, &f, &[]).await;

    // Asking to sign: asked again, and the page says so. Declined: the sign-in consent stays.
    let signing = [("scope", "openid profile service")];
    let request = consent_page(holder.navigate(&rp.authorize_url(&f, &signing)).await);
    assert!(prompt(&mut holder, &request).await.remote_signing);
    let back = answer(&mut holder, &request, false).await;
    assert_eq!(query_of(&back).get("error").map(String::as_str), Some("access_denied"));
    let scope = w.store.oidc_consent_scope(HOLDER, &rp.client_id).await.unwrap();
    assert_eq!(scope.as_deref(), Some("openid profile"));
    next_code(&mut holder, &rp, &f, &[]).await;
    // prompt=none cannot skip it: the service hears consent_required.
    let a = holder.navigate(&rp.authorize_url(&f, &[signing[0], ("prompt", "none")])).await;
    let to = a.location.unwrap();
    assert_eq!(query_of(&to).get("error").map(String::as_str), Some("consent_required"), "{to}");

    // Agreed: the token carries the scope, and both kinds of request go straight back.
    let request = consent_page(holder.navigate(&rp.authorize_url(&f, &signing)).await);
    let code = code_of(&answer(&mut holder, &request, true).await, &f);
    assert_eq!(tokens(&rp.redeem(&code, &f).await).scope, "openid profile service");
    let scope = w.store.oidc_consent_scope(HOLDER, &rp.client_id).await.unwrap();
    assert_eq!(scope.as_deref(), Some("openid profile service"));
    let code = next_code(&mut holder, &rp, &f, &signing).await;
    assert_eq!(tokens(&rp.redeem(&code, &f).await).scope, "openid profile service");
    let code = next_code(&mut holder, &rp, &f, &[("scope", "openid")]).await;
    assert_eq!(tokens(&rp.redeem(&code, &f).await).scope, "openid");
    let log = w.actions().await;
    let consents = log.iter().filter(|(a, o)| a == "oidc.consent" && o == "ok").count();
    assert_eq!(consents, 2, "{log:?}");

    // Another service's consent is its own.
    let other = Rp::register(&w, "他のシステム").await;
    let request = consent_page(holder.navigate(&other.authorize_url(&f, &signing)).await);
    assert!(prompt(&mut holder, &request).await.remote_signing);
}

async fn declining_consent_sends_access_denied_and_no_code(db: Db) {
    let w = provider(db).await;
    let rp = Rp::register(&w, "処方システム").await;
    let mut holder = Holder::new(&w);
    holder.sign_in().await;
    let f = Flow::new();
    let a = holder.navigate(&rp.authorize_url(&f, &[])).await;
    let to = a.location.unwrap();
    assert!(to.starts_with("/consent?request="), "{to}");
    let request = query_of(&to)["request"].clone();
    // The consent answer is a same-origin API call: a cross-site one is refused.
    let body = serde_json::json!({ "request": request, "approve": true }).to_string();
    let a = holder.send("POST", "/api/oidc/consent", Some(body.clone()), false).await;
    assert_eq!(a.code(), Some(ErrorCode::CsrfRejected), "{}", a.text);
    let body = serde_json::json!({ "request": request, "approve": false }).to_string();
    let a = holder.send("POST", "/api/oidc/consent", Some(body), true).await;
    let out: ConsentOutcome = serde_json::from_str(&a.text).unwrap();
    let q = query_of(&out.redirect_to);
    assert_eq!(q.get("error").map(String::as_str), Some("access_denied"));
    assert_eq!(q.get("state"), Some(&f.state));
    assert!(!q.contains_key("code"));
    // The request is spent: neither answer works again, and no consent was recorded.
    let body = serde_json::json!({ "request": request, "approve": true }).to_string();
    let a = holder.send("POST", "/api/oidc/consent", Some(body), true).await;
    assert_eq!(a.code(), Some(ErrorCode::OidcRequestUnknown), "{}", a.text);
    assert_eq!(w.store.oidc_consent_scope(HOLDER, &rp.client_id).await.unwrap(), None);
    // A removed client's requests and tokens end with it.
    let code = first_code(&mut Holder::new(&w), &rp, &f).await;
    assert!(oidc_client::remove(&w.store, &rp.client_id, w.clock.now_ms()).await.unwrap());
    refused(&rp.redeem(&code, &f).await, StatusCode::UNAUTHORIZED, "invalid_client");
}

/// The independent client: the `openidconnect` crate discovers the provider over real HTTP,
/// builds the request (PKCE, nonce, state), redeems the code with client_secret_basic and
/// verifies the ID token itself (JWKS, signature, issuer, audience, expiry, nonce).
async fn an_independent_openid_connect_client_signs_the_holder_in(db: Db) {
    use openidconnect::{
        AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
        OAuth2TokenResponse as _, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse as _,
        core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata},
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let w = provider_at(db, &origin).await;
    let served = w.app.clone().into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, served).await.unwrap() });
    let rp = Rp::register(&w, "処方システム").await;

    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let meta = CoreProviderMetadata::discover_async(IssuerUrl::new(origin.clone()).unwrap(), &http)
        .await
        .unwrap();
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(rp.client_id.clone()),
        Some(ClientSecret::new(rp.secret.clone().unwrap())),
    )
    .set_redirect_uri(RedirectUrl::new(RP_CALLBACK.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    assert!(url.as_str().starts_with(&format!("{origin}/oidc/authorize?")), "{url}");

    // The holder's browser follows the request: sign-in with the HPKI card, consent.
    let mut holder = Holder::new(&w);
    let a = holder.navigate(&format!("{}?{}", url.path(), url.query().unwrap())).await;
    let resume = query_of(a.location.as_deref().unwrap())["continue"].clone();
    holder.sign_in().await;
    let a = holder.navigate(&resume).await;
    let request = query_of(a.location.as_deref().unwrap())["request"].clone();
    let body = serde_json::json!({ "request": request, "approve": true }).to_string();
    let a = holder.send("POST", "/api/oidc/consent", Some(body), true).await;
    let out: ConsentOutcome = serde_json::from_str(&a.text).unwrap();
    let q = query_of(&out.redirect_to);
    assert_eq!(q.get("state"), Some(csrf.secret()));
    let code = q["code"].clone();

    // The client's server redeems it and checks the ID token on its own.
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = token.id_token().expect("an ID token");
    let claims = id_token.claims(&client.id_token_verifier(), &nonce).unwrap();
    assert_eq!(claims.subject().as_str(), HOLDER);
    assert_eq!(claims.issuer().as_str(), origin);
    assert_eq!(claims.auth_context_ref().map(|a| a.as_str()), Some("urn:mahpki:acr:hpki-card"));
    let amr: Vec<&str> = claims.auth_method_refs().unwrap().iter().map(|m| m.as_str()).collect();
    assert_eq!(amr, ["sc", "pin", "mfa"]);
    assert!(claims.auth_time().is_some());
    let name = claims.name().unwrap();
    assert_eq!(name.get(None).map(|n| n.as_str()), Some("医師 花子"));
    let kana = openidconnect::LanguageTag::new("ja-Kana-JP".into());
    assert_eq!(name.get(Some(&kana)).map(|n| n.as_str()), Some("イシ ハナコ"));
    // The platform's own claims, from the token the library verified.
    let payload = id_token.to_string().split('.').nth(1).unwrap().to_owned();
    let own: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(own["hpki_qualification"], "doctor");
    assert_eq!(own["hpki_ca"], "JMA");
    assert!(own["sid"].as_str().is_some_and(|s| !s.is_empty()));
    // The same nonce is refused by the client for another token: its check is real.
    assert!(id_token.claims(&client.id_token_verifier(), &Nonce::new("other".into())).is_err());
    // Userinfo through the library.
    let info: openidconnect::core::CoreUserInfoClaims = client
        .user_info(token.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(info.subject().as_str(), HOLDER);
}

on_both_databases!(
    an_independent_openid_connect_client_signs_the_holder_in,
    discovery_names_every_endpoint_and_the_jwks_has_kids,
    asking_to_sign_needs_its_own_consent,
    unknown_client_or_redirect_uri_ends_on_a_page_never_a_redirect,
    a_bad_request_goes_back_with_its_oauth_error,
    client_authentication_is_checked_before_anything_else,
    private_key_jwt_checks_signature_audience_expiry_and_jti,
    a_holder_signs_in_with_the_hpki_card_and_the_service_learns_who,
    a_replayed_code_is_refused_and_revokes_what_it_gave,
    an_expired_code_is_refused,
    a_missing_or_wrong_pkce_verifier_is_refused_and_spends_the_code,
    a_code_is_only_good_for_its_client_and_bad_client_auth_leaves_it_alone,
    max_age_exceeded_or_prompt_login_forces_a_new_sign_in,
    refresh_tokens_rotate_and_a_reused_one_revokes_the_family,
    tokens_never_outlive_the_signing_session,
    a_revoked_access_token_opens_nothing,
    declining_consent_sends_access_denied_and_no_code,
);

/// The operator's commands through the real binary: a client's secret is printed once and only
/// its hash reaches the database; bad redirect URIs are refused; removal and key rotation are
/// audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_registers_lists_removes_clients_and_rotates_the_key() {
    let data = tempfile::tempdir().unwrap();
    let store = mahpki_server::store::Store::open_sqlite(data.path()).await.unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mahpki-server"))
            .args(args)
            .env("MAHPKI_DATA_DIR", data.path())
            .env("MAHPKI_LOG", "warn")
            .env_remove("MAHPKI_CONFIG")
            .env_remove("MAHPKI_DATABASE_URL")
            .output()
            .unwrap();
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        (out.status.success(), text(out.stdout), text(out.stderr))
    };
    let (ok, out, err) =
        run(&["oidc-client", "add", "処方システム", "--redirect-uri", RP_CALLBACK]);
    assert!(ok, "{err}");
    let added: Value = serde_json::from_str(out.trim()).unwrap();
    let client_id = added["client_id"].as_str().unwrap().to_owned();
    let secret = added["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 43);
    assert!(err.contains("shown only now"), "{err}");
    // Only the hash is stored: the secret is nowhere in the database file.
    let stored = store.oidc_client_get(&client_id).await.unwrap().unwrap();
    assert_eq!(stored.secret_hash, Some(oidc_client::secret_hash(&secret)));
    store.close().await;
    let mut db = Vec::new();
    for f in std::fs::read_dir(data.path()).unwrap() {
        let p = f.unwrap().path();
        if p.to_string_lossy().contains("mahpki.sqlite3") {
            db.extend(std::fs::read(p).unwrap());
        }
    }
    assert!(
        !db.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the secret is in the database"
    );
    let (ok, out, _) = run(&["oidc-client", "list"]);
    assert!(ok && out.contains(&client_id) && !out.contains(&secret), "{out}");
    // Redirect URIs the provider could not match safely are refused.
    for bad in ["http://rp.example/cb", "https://rp.example/cb#x", "rp.example/cb"] {
        let (ok, _, err) = run(&["oidc-client", "add", "x", "--redirect-uri", bad]);
        assert!(!ok, "{bad} accepted");
        assert!(err.contains("redirect URI"), "{err}");
    }
    // A JWKS with a private key is refused; with public keys, no secret is made.
    let dir = tempfile::tempdir().unwrap();
    let (_, jwks) = client_key();
    let jwks_file = dir.path().join("jwks.json");
    std::fs::write(&jwks_file, &jwks).unwrap();
    let (ok, out, err) = run(&[
        "oidc-client",
        "add",
        "鍵のシステム",
        "--redirect-uri",
        RP_CALLBACK,
        "--jwks",
        jwks_file.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let added: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(added["client_secret"], Value::Null);
    assert_eq!(added["token_endpoint_auth_method"], "private_key_jwt");
    let private = r#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB"}]}"#;
    std::fs::write(&jwks_file, private).unwrap();
    let (ok, _, err) = run(&[
        "oidc-client",
        "add",
        "x",
        "--redirect-uri",
        RP_CALLBACK,
        "--jwks",
        jwks_file.to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("private key"), "{err}");

    let (ok, _, err) = run(&["oidc-client", "remove", &client_id]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&["oidc-client", "remove", &client_id]);
    assert!(!ok && err.contains("no registered client"), "{err}");

    // Rotation needs the key file the server creates on its first start.
    let (ok, _, err) = run(&["oidc", "rotate-key"]);
    assert!(!ok && err.contains("creates them on its first start"), "{err}");
    let key_file = data.path().join("oidc-signing-keys.json");
    std::fs::copy(KEY_DIR.path().join("oidc-signing-keys.json"), &key_file)
        .or_else(|_| {
            mahpki_server::Config { data_dir: data.path().into(), ..Default::default() }
                .oidc_keys(mahpki_server::store::now_ms())
                .map(|_| 0)
                .map_err(|e| std::io::Error::other(e.to_string()))
        })
        .unwrap();
    let (ok, out, err) = run(&["oidc", "rotate-key"]);
    assert!(ok, "{err}");
    assert!(out.starts_with("new signing key "), "{out}");
    let (ok, out, _) = run(&["oidc", "keys"]);
    assert!(ok);
    let states: Vec<String> = out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states, ["signing", "next"]);

    let store = mahpki_server::store::Store::open_sqlite(data.path()).await.unwrap();
    let actions: Vec<String> =
        store.audit_tail(20).await.unwrap().into_iter().map(|r| r.action).collect();
    for a in ["oidc.client.add", "oidc.client.remove", "oidc.key.rotate"] {
        assert!(actions.iter().any(|x| x == a), "{a} not audited: {actions:?}");
    }
}
