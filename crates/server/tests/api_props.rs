//! Every POST (and DELETE) under `/api`, through the real router on SQLite and PostgreSQL, with
//! hostile bodies and headers: arbitrary bytes, arbitrary JSON, the API's own field names with
//! hostile values (bad base64, NUL bytes, huge strings, wrong types), near-valid card signatures
//! and WebAuthn credentials with damaged bytes, from callers at every stage (anonymous, with a
//! challenge, logged in, a phone that opened and began a code). The answer is never a 5xx: it is
//! a success or a typed `{"error":{"code",…}}` whose code is in the catalogue and whose status is
//! the code's own.
//!
//! The routes are protocol's endpoint table and the router's own, so a route added later is
//! fuzzed too.
//! The case count is small for `make test`; `make fuzz` sets PROPTEST_CASES for a long run.

mod common;

use axum::{
    Router,
    body::Body,
    http::{HeaderValue, Request, header},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use common::{
    Db,
    browser::Browser,
    pki::{self, HPKI_POLICY, HPKI_POLICY_STR},
    store,
};
use http_body_util::BodyExt as _;
use mahpki_protocol::{
    ErrorBody, ErrorCode, HpkiId,
    api::{Ca, Holder, Qualification},
    endpoints::{self, Method},
    enrol::{EnrolmentIssued, RegistrationOptions},
};
use mahpki_server::{
    Config,
    http::{AppState, MAX_BODY_BYTES, RateLimiter, router},
    pki::TrustStore,
    secret::ServerSecret,
    store::IdentityRecord,
};
use proptest::{
    prelude::*,
    test_runner::{Config as RunnerConfig, TestRunner},
};
use serde_json::{Value, json};
use webauthn_authenticator_rs::{WebauthnAuthenticator as _, softpasskey::SoftPasskey};
use x509_parser::prelude::*;

const ORIGIN: &str = "https://hpki.example.jp";
const HOLDER: &str = "JMA-0000001";

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// `(method, path)` of every state-changing API route: the rows of protocol's endpoint table
/// (which the router routes, see below), and the routes the router's source writes out itself
/// (the old spellings only it keeps).
fn write_routes() -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = endpoints::ALL
        .iter()
        .filter_map(|(method, path)| {
            let method = match method {
                Method::Post => "POST",
                Method::Delete => "DELETE",
                Method::Get => return None,
            };
            Some((method, format!("{}{path}", mahpki_protocol::API_PREFIX)))
        })
        .collect();
    let src = include_str!("../src/http/mod.rs");
    for line in src.lines().map(str::trim) {
        let Some(rest) = line.strip_prefix(".route(\"") else { continue };
        let Some((path, handlers)) = rest.split_once('"') else { continue };
        for (method, call) in [("POST", "post("), ("DELETE", "delete("), ("PUT", "put(")] {
            if handlers.contains(call) {
                out.push((method, format!("{}{path}", mahpki_protocol::API_PREFIX)));
            }
        }
    }
    assert!(out.len() >= 10, "the router's routes were not found: {out:?}");
    out
}

/// Every row of the endpoint table is routed at its method: none answers `not_found` or
/// `method_not_allowed` (whatever else it refuses without a session or a body).
#[tokio::test]
async fn every_endpoint_of_the_table_is_routed() {
    let w = world(Db::Sqlite).await;
    for (method, path) in endpoints::ALL {
        let method = match method {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        };
        let path = format!("{}{}", mahpki_protocol::API_PREFIX, path.replace("{id}", "1"));
        let path = path.replace("{sid}", &"A".repeat(43));
        let req = Request::builder()
            .method(method)
            .uri(&path)
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let res = tower::ServiceExt::oneshot(w.app.clone(), req).await.unwrap();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        if let Ok(e) = serde_json::from_slice::<ErrorBody>(&bytes) {
            let code = e.error.code;
            assert!(
                !matches!(code, ErrorCode::NotFound | ErrorCode::MethodNotAllowed),
                "{method} {path}: {code:?}"
            );
        }
    }
}

fn holder_cert(ca: &pki::Ca) -> Vec<u8> {
    let keys = pki::keys();
    pki::issue(
        &pki::ee_params("HPKI holder 1", 1001, HPKI_POLICY),
        &keys.holder,
        &ca.params,
        &keys.hpki_ca,
    )
}

struct World {
    app: Router,
    cert: Vec<u8>,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

async fn world(db: Db) -> World {
    let keys = pki::keys();
    let (store, data) = store(db).await;
    let trust_dir = tempfile::tempdir().unwrap();
    let ca = pki::ca("HPKI test CA", &keys.hpki_ca);
    let hpki =
        pki::trust_config(trust_dir.path(), "hpki", &ca, &keys.hpki_ca, HPKI_POLICY_STR, 2099);
    let cert = holder_cert(&ca);
    let (_, c) = X509Certificate::from_der(&cert).unwrap();
    let secret = std::sync::Arc::new(ServerSecret::random());
    store
        .identity_upsert(&IdentityRecord {
            holder: Holder {
                hpki_id: HpkiId::parse(HOLDER).unwrap(),
                ca: Ca::Jma,
                qualification: Qualification::Doctor,
                name_kanji: "医師 花子".into(),
                name_kana: "イシ ハナコ".into(),
                name_roman: "ISHI HANAKO".into(),
            },
            registration_number: "123456".into(),
            hpki_card_mac: secret.card_id_mac("123456", "HPKI0001").to_vec(),
            cert_issuer: c.issuer().as_raw().to_vec(),
            cert_subject: c.subject().as_raw().to_vec(),
        })
        .await
        .unwrap();
    let config = Config { public_origin: ORIGIN.into(), ..Config::default() };
    let mut state = AppState::new(
        config,
        store,
        TrustStore::load(std::slice::from_ref(&hpki)).unwrap(),
        TrustStore::load(&[]).unwrap(),
    );
    // Hostile cases are many; the limiter is not what is under test here.
    state.limiter = RateLimiter::new(1_000_000, 1_000_000);
    state.secret = Some(secret);
    World { app: router(state, None), cert, _dirs: (data, trust_dir) }
}

/// Who sends the hostile request: each stage opens the next handler's deeper checks.
#[derive(Debug, Clone, Copy)]
enum Caller {
    Stranger,
    /// An anonymous session holding an HPKI (or My Number) challenge.
    WithChallenge,
    /// A PC logged in with the HPKI card.
    LoggedIn,
    /// A phone that opened the PC's enrolment code and began registering.
    PhoneBegun,
}

/// A caller set up for real, and what a near-valid body needs from it.
struct Stage {
    browser: Browser,
    challenge: Option<Vec<u8>>,
    /// A real registration answer from a soft passkey, to be damaged.
    credential: Option<Value>,
}

async fn stage(w: &World, caller: Caller) -> Stage {
    let mut b = Browser::new(&w.app);
    let mut challenge = None;
    let mut credential = None;
    match caller {
        Caller::Stranger => {}
        Caller::WithChallenge => challenge = Some(b.challenge("/api/hpki/challenge").await),
        Caller::LoggedIn | Caller::PhoneBegun => {
            let a = b.hpki_login(&w.cert, &pki::keys().holder, ORIGIN).await;
            assert!(a.status.is_success(), "{:?}", a.body);
            challenge = Some(b.challenge("/api/mynumber/challenge").await);
        }
    }
    if let Caller::PhoneBegun = caller {
        // A phone bound by an earlier case's intact credential must be replaced.
        let mut a =
            b.send("POST", "/api/smartphone/enrolments", Some(r#"{"replace":false}"#.into())).await;
        if !a.status.is_success() {
            a = b
                .send("POST", "/api/smartphone/enrolments", Some(r#"{"replace":true}"#.into()))
                .await;
        }
        assert!(a.status.is_success(), "{:?}", a.body);
        let issued: EnrolmentIssued = serde_json::from_value(a.body).unwrap();
        let token = issued.url.split_once('#').unwrap().1.to_owned();
        let mut phone = Browser::new(&w.app);
        let a = phone
            .send("POST", "/api/enrol/open", Some(json!({ "token": token }).to_string()))
            .await;
        assert!(a.status.is_success(), "{:?}", a.body);
        // The holder types the code the phone shows on the PC; only then may the phone begin.
        let code = a.body["confirm"]["code"].as_str().expect("the phone shows a code").to_owned();
        let c = b
            .send("POST", "/api/smartphone/confirm", Some(json!({ "code": code }).to_string()))
            .await;
        assert!(c.status.is_success(), "{:?}", c.body);
        let a = phone.send("POST", "/api/enrol/begin", None).await;
        assert!(a.status.is_success(), "{:?}", a.body);
        let mut o: RegistrationOptions = serde_json::from_value(a.body).unwrap();
        if let Some(sel) = o.options.public_key.authenticator_selection.as_mut() {
            common::world::soft_key_can(sel);
        }
        let cred = SoftPasskey::new(true)
            .do_registration(url::Url::parse(ORIGIN).unwrap(), o.options)
            .unwrap();
        credential = Some(serde_json::to_value(cred).unwrap());
        b = phone;
    }
    Stage { browser: b, challenge, credential }
}

/// Field names the API's bodies use, so hostile objects reach past "unknown field".
const FIELDS: &[&str] = &[
    "challenge",
    "certificate",
    "algorithm",
    "signature",
    "replace",
    "token",
    "label",
    "credential",
    "registration_number",
    "card_id",
    "hpki_id",
    "id",
    "rawId",
    "type",
    "response",
    "attestationObject",
    "clientDataJSON",
    "authenticatorData",
    "userHandle",
    "transports",
    "extensions",
    "clientExtensionResults",
];

fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "[A-Za-z0-9_-]{0,120}",
        prop::collection::vec(any::<u8>(), 0..300).prop_map(|b| URL_SAFE_NO_PAD.encode(b)),
        prop::collection::vec(any::<u8>(), 0..64)
            .prop_map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
        Just("\u{0}".to_owned()),
        "[0-9]{0,8}\u{0}[0-9]{0,8}",
        Just("RS256".to_owned()),
        Just("JMA-0000001".to_owned()),
        Just("123456".to_owned()),
        (0usize..70_000).prop_map(|n| "A".repeat(n)),
        Just("\u{202e}\u{feff}\u{1f600}".to_owned()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        Just(json!(u64::MAX)),
        hostile_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(FIELDS), inner.clone()), 0..6).prop_map(
                |kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            ),
            prop::collection::vec(("[a-z_]{1,12}", inner), 0..3)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Damage to the bytes inside a base64url field.
fn flips() -> impl Strategy<Value = Vec<(usize, u8)>> {
    prop::collection::vec((any::<usize>(), 1u8..=255), 0..4)
}

fn damage_b64(s: &str, flips: &[(usize, u8)], cut: Option<usize>) -> String {
    let mut b = URL_SAFE_NO_PAD.decode(s).unwrap_or_else(|_| s.as_bytes().to_vec());
    for (i, m) in flips {
        if !b.is_empty() {
            let i = i % b.len();
            b[i] ^= m;
        }
    }
    if let Some(n) = cut {
        b.truncate(n % (b.len() + 1));
    }
    URL_SAFE_NO_PAD.encode(b)
}

#[derive(Debug, Clone)]
enum BodyKind {
    None,
    Bytes(Vec<u8>),
    Json(Value),
    /// One of the API's own body shapes, with hostile strings in its fields.
    Shaped(usize, String, String),
    /// A card signature for the caller's live challenge, with a damaged certificate/signature.
    CardSignature {
        cert_flips: Vec<(usize, u8)>,
        cut: Option<usize>,
        sig: Vec<u8>,
        extra: Option<Value>,
    },
    /// The soft passkey's real registration answer with one damaged field (or a hostile label).
    Credential {
        field: usize,
        flips: Vec<(usize, u8)>,
        cut: Option<usize>,
        label: String,
    },
}

fn body() -> impl Strategy<Value = BodyKind> {
    prop_oneof![
        1 => Just(BodyKind::None),
        2 => prop::collection::vec(any::<u8>(), 0..512).prop_map(BodyKind::Bytes),
        4 => json_value().prop_map(BodyKind::Json),
        3 => (0usize..5, hostile_string(), hostile_string())
            .prop_map(|(i, a, b)| BodyKind::Shaped(i, a, b)),
        3 => (flips(), prop::option::of(any::<usize>()), prop::collection::vec(any::<u8>(), 0..300), prop::option::of(json_value()))
            .prop_map(|(cert_flips, cut, sig, extra)| BodyKind::CardSignature { cert_flips, cut, sig, extra }),
        3 => (0usize..6, flips(), prop::option::of(any::<usize>()), hostile_string())
            .prop_map(|(field, flips, cut, label)| BodyKind::Credential { field, flips, cut, label }),
    ]
}

#[derive(Debug, Clone)]
struct Hostile {
    route: usize,
    /// Sometimes another method on the same path.
    method: Option<&'static str>,
    caller: Caller,
    body: BodyKind,
    content_type: Option<Vec<u8>>,
    /// Fetch metadata and origin as a browser (or a forger) sends them.
    site: Option<Vec<u8>>,
    origin: Option<Vec<u8>>,
    cookie: Option<Vec<u8>>,
    forwarded: Option<Vec<u8>>,
    /// Announce the body's length (as a client must), or lie about it.
    length: Option<usize>,
}

fn header_bytes(common: &'static [&'static str]) -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        3 => prop::sample::select(common).prop_map(|s| Some(s.as_bytes().to_vec())),
        1 => Just(None),
        1 => prop::collection::vec(any::<u8>(), 0..80).prop_map(Some),
    ]
}

fn hostile() -> impl Strategy<Value = Hostile> {
    let callers = prop_oneof![
        Just(Caller::Stranger),
        Just(Caller::WithChallenge),
        Just(Caller::LoggedIn),
        Just(Caller::PhoneBegun),
    ];
    (
        (0usize..1000, prop::option::of(prop::sample::select(vec!["GET", "PUT", "PATCH", "POST", "DELETE", "OPTIONS"])), callers, body()),
        (
            header_bytes(&["application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "application/jsonx"]),
            prop_oneof![4 => Just(Some(b"same-origin".to_vec())), 1 => header_bytes(&["cross-site", "same-site", "none"])],
            header_bytes(&[ORIGIN, "https://evil.example", "null"]),
            prop_oneof![4 => Just(None), 1 => header_bytes(&["mahpki_session=AAAA", "mahpki_session=", "__Host-mahpki_session=x; mahpki_session=y", "mahpki_phone=%%%"])],
            header_bytes(&["203.0.113.7", "::1, 10.0.0.1", "not an address", ""]),
            prop_oneof![4 => Just(None), 1 => (0usize..200_000).prop_map(Some)],
        ),
    )
        .prop_map(|((route, method, caller, body), (content_type, site, origin, cookie, forwarded, length))| Hostile {
            route,
            method,
            caller,
            body,
            content_type,
            site,
            origin,
            cookie,
            forwarded,
            length,
        })
}

fn render_body(h: &Hostile, st: &Stage, cert: &[u8]) -> Vec<u8> {
    match &h.body {
        BodyKind::None => Vec::new(),
        BodyKind::Bytes(b) => b.clone(),
        BodyKind::Json(v) => v.to_string().into_bytes(),
        BodyKind::Shaped(i, a, b) => match i {
            0 => json!({ "registration_number": a, "card_id": b }),
            1 => json!({ "token": a }),
            2 => json!({ "hpki_id": a }),
            3 => json!({ "replace": a }),
            _ => json!({ "challenge": a, "certificate": b, "algorithm": "RS256", "signature": a }),
        }
        .to_string()
        .into_bytes(),
        BodyKind::CardSignature { cert_flips, cut, sig, extra } => {
            let challenge = st.challenge.clone().unwrap_or_else(|| vec![0; 32]);
            let mut v = json!({
                "challenge": URL_SAFE_NO_PAD.encode(challenge),
                "certificate": damage_b64(&URL_SAFE_NO_PAD.encode(cert), cert_flips, *cut),
                "algorithm": "RS256",
                "signature": URL_SAFE_NO_PAD.encode(sig),
            });
            if let (Some(extra), Some(o)) = (extra, v.as_object_mut()) {
                o.insert("extra".into(), extra.clone());
            }
            v.to_string().into_bytes()
        }
        BodyKind::Credential { field, flips, cut, label } => {
            let mut cred = st.credential.clone().unwrap_or_else(|| json!({}));
            let paths: [&[&str]; 6] = [
                &["rawId"],
                &["id"],
                &["response", "attestationObject"],
                &["response", "clientDataJSON"],
                &["response", "attestationObject"],
                &["response", "clientDataJSON"],
            ];
            let mut slot = Some(&mut cred);
            for key in paths[*field] {
                slot = slot.and_then(|v| v.get_mut(*key));
            }
            if let Some(Value::String(s)) = slot {
                *s = damage_b64(s, flips, *cut);
            }
            json!({ "credential": cred, "label": label }).to_string().into_bytes()
        }
    }
}

async fn attack(
    w: &World,
    routes: &[(&'static str, String)],
    h: &Hostile,
) -> Result<(), TestCaseError> {
    let (method, path) = &routes[h.route % routes.len()];
    let method = h.method.unwrap_or(method);
    let st = stage(w, h.caller).await;
    let body = render_body(h, &st, &w.cert);
    let mut req = Request::builder().method(method).uri(path.as_str());
    let mut put = |name: header::HeaderName, v: &Option<Vec<u8>>| {
        if let Some(v) = v.as_deref().and_then(|v| HeaderValue::from_bytes(v).ok()) {
            req.headers_mut().unwrap().append(name, v);
        }
    };
    put(header::CONTENT_TYPE, &h.content_type);
    put(header::HeaderName::from_static("sec-fetch-site"), &h.site);
    put(header::ORIGIN, &h.origin);
    put(header::COOKIE, &h.cookie);
    put(header::HeaderName::from_static("x-forwarded-for"), &h.forwarded);
    if let Some(c) = &st.browser.cookie {
        req.headers_mut().unwrap().append(header::COOKIE, HeaderValue::from_str(c).unwrap());
    }
    if let Some(n) = h.length {
        // Only an honest length for a body this size; a lie is the transport's to catch.
        if n > MAX_BODY_BYTES {
            let big = vec![b' '; n];
            req.headers_mut().unwrap().insert(header::CONTENT_LENGTH, n.into());
            return check(w, req.body(Body::from(big)).unwrap(), path).await;
        }
    }
    req.headers_mut().unwrap().insert(header::CONTENT_LENGTH, body.len().into());
    check(w, req.body(Body::from(body)).unwrap(), path).await
}

async fn check(w: &World, req: Request<Body>, path: &str) -> Result<(), TestCaseError> {
    let res = tower::ServiceExt::oneshot(w.app.clone(), req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    prop_assert!(!status.is_server_error(), "{path}: {status} {}", String::from_utf8_lossy(&bytes));
    if status.is_client_error() {
        let err: Result<ErrorBody, _> = serde_json::from_slice(&bytes);
        prop_assert!(
            err.is_ok(),
            "{path}: {status} is not a typed error: {}",
            String::from_utf8_lossy(&bytes)
        );
        let code = err.unwrap().error.code;
        prop_assert_eq!(status.as_u16(), code.http_status(), "{}: {:?}", path, code);
    }
    Ok(())
}

fn run(db: Db, default_cases: u32) {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let w = rt.block_on(world(db));
    let routes = write_routes();
    let config = RunnerConfig {
        cases: cases(default_cases),
        failure_persistence: None,
        ..RunnerConfig::default()
    };
    let mut runner = TestRunner::new(config);
    if let Err(e) = runner.run(&hostile(), |h| rt.block_on(attack(&w, &routes, &h))) {
        panic!("{e}");
    }
}

#[test]
fn hostile_api_requests_get_typed_errors_on_sqlite() {
    run(Db::Sqlite, 64);
}

#[test]
fn hostile_api_requests_get_typed_errors_on_postgres() {
    run(Db::Postgres, 32);
}

/// Found by the property above: an oversized request got tower-http's plain-text 413, without the
/// security headers, instead of a typed error.
#[tokio::test]
async fn an_oversized_request_gets_a_typed_payload_too_large() {
    let w = world(Db::Sqlite).await;
    for path in ["/api/jma/login", "/api/hpki/finish", "/api/health", "/"] {
        let big = vec![b'{'; MAX_BODY_BYTES + 1];
        let req = Request::post(path)
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, big.len())
            .body(Body::from(big))
            .unwrap();
        let res = tower::ServiceExt::oneshot(w.app.clone(), req).await.unwrap();
        assert_eq!(res.status().as_u16(), 413, "{path}");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff", "{path}");
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let err: ErrorBody = serde_json::from_slice(&bytes).expect("a typed error");
        assert_eq!(err.error.code, mahpki_protocol::ErrorCode::PayloadTooLarge, "{path}");
    }
}
