//! The helper's localhost API and PIN page under hostile requests, through the real router:
//! arbitrary JSON and byte bodies, hostile ids in the path, and every header the guards read
//! (Origin, Sec-Fetch-Site, Content-Type, preflight headers) set, garbled or missing. With this
//! helper's own `Host`, the answer is never a 5xx: a success or a typed
//! `{"error":{"code",…}}` whose status is the code's own. A foreign `Host` is refused before
//! any handler (421), whatever else the request carries.
//!
//! A real (cardsim) My Number card sits in the reader, so PIN posts meet an operation that
//! really waits for a PIN. The case count is small for `make test`; `make fuzz` runs it long.

mod common;

use std::{
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    http::{HeaderValue, Request, StatusCode},
};
use common::{HOST, SITE, call, start, wait};
use mahpki_cardsim::{Card, pki};
use mahpki_helper::{
    card::backend::virtual_card::{VirtualCard, VirtualReaders},
    http,
    http::guard::Guard,
    operation::{OperationConfig, Operations},
};
use mahpki_protocol::error::ErrorBody;
use proptest::{
    prelude::*,
    test_runner::{Config as RunnerConfig, TestRunner},
};
use serde_json::{Value, json};

fn test_pki() -> &'static pki::TestPki {
    static PKI: OnceLock<pki::TestPki> = OnceLock::new();
    PKI.get_or_init(|| pki::generate(17).expect("test PKI"))
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Sim<C>(C);

impl<C: Card> VirtualCard for Sim<C> {
    fn power_on(&mut self) {
        self.0.power_on();
    }
    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.0.transmit(apdu)
    }
}

fn app() -> Router {
    let readers = VirtualReaders::new(&["Reader A"]);
    let card = test_pki().holders[0].jpki_card();
    readers.insert("Reader A", Arc::new(Mutex::new(Sim(card))));
    let cfg = OperationConfig { poll: Duration::from_millis(5), ..Default::default() };
    let ops = Arc::new(Operations::new(Arc::new(readers), cfg));
    http::router(Guard::new(HOST.parse().unwrap(), vec![SITE.into()]), ops)
}

#[derive(Debug, Clone)]
struct Hostile {
    /// Method and path template; `{id}` is replaced by the live operation's id or `id`.
    route: (&'static str, &'static str),
    id: Option<String>,
    host: Option<Vec<u8>>,
    origin: Option<Vec<u8>>,
    site: Option<Vec<u8>>,
    content_type: Option<Vec<u8>>,
    preflight: Option<(Vec<u8>, Vec<u8>)>,
    body: Vec<u8>,
}

/// Every route with its own methods, and the CORS preflights.
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/operations"),
    ("GET", "/v1/operations/{id}"),
    ("DELETE", "/v1/operations/{id}"),
    ("GET", "/v1/status"),
    ("OPTIONS", "/v1/operations"),
    ("OPTIONS", "/v1/operations/{id}"),
    ("POST", "/pin/{id}"),
    ("GET", "/pin/{id}"),
    ("GET", "/pin/{id}/state"),
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        ".{0,24}".prop_map(Value::String),
        "[0-9]{0,20}".prop_map(Value::String),
        Just(json!("authenticate")),
        Just(json!("jpki")),
        Just(json!("hpki")),
        Just(json!("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")),
        (0usize..6000).prop_map(|n| json!("9".repeat(n))),
    ];
    let keys = prop::sample::select(vec!["operation", "card", "challenge", "pin", "id", "x"]);
    leaf.prop_recursive(3, 24, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..5).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

fn header(common: Vec<&'static str>) -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        4 => prop::sample::select(common).prop_map(|s| Some(s.as_bytes().to_vec())),
        1 => Just(None),
        1 => prop::collection::vec(any::<u8>(), 0..60).prop_map(Some),
    ]
}

fn hostile() -> impl Strategy<Value = Hostile> {
    let own = format!("http://{HOST}");
    let own: &'static str = Box::leak(own.into_boxed_str());
    (
        (
            prop::sample::select(ROUTES),
            prop::option::of(prop_oneof![
                "[0-9a-f]{0,40}",
                "[%0-9A-Fa-f]{1,30}",
                Just("%FF%FE".to_owned()),
                Just("..%2F..%2Fetc".to_owned()),
                ".{0,10}".prop_map(|s| s
                    .chars()
                    .filter(|c| c.is_ascii_graphic() && *c != '?' && *c != '#' && *c != '/')
                    .collect()),
            ]),
        ),
        (
            prop_oneof![
                8 => Just(Some(HOST.as_bytes().to_vec())),
                1 => header(vec!["localhost:24365", "evil.example:24365", "127.0.0.1"]),
            ],
            header(vec![SITE, own, "https://evil.example", "null"]),
            header(vec!["same-origin", "cross-site", "none"]),
            header(vec!["application/json", "text/plain", "application/json; charset=utf-8"]),
            prop::option::of((
                prop::collection::vec(any::<u8>(), 0..12),
                prop::collection::vec(any::<u8>(), 0..6),
            )),
        ),
        prop_oneof![
            3 => json_value().prop_map(|v| v.to_string().into_bytes()),
            1 => prop::collection::vec(any::<u8>(), 0..256),
            1 => (0usize..9000).prop_map(|n| vec![b'{'; n]),
        ],
    )
        .prop_map(|((route, id), (host, origin, site, content_type, preflight), body)| {
            Hostile { route, id, host, origin, site, content_type, preflight, body }
        })
}

async fn attack(app: &Router, live: &str, h: &Hostile) -> Result<(), TestCaseError> {
    let (method, template) = h.route;
    let path = template.replace("{id}", h.id.as_deref().unwrap_or(live));
    let Ok(uri) = path.parse::<axum::http::Uri>() else { return Ok(()) };
    let mut req = Request::builder().method(method).uri(uri);
    let headers = req.headers_mut().unwrap();
    let mut put = |name: &'static str, v: &Option<Vec<u8>>| {
        if let Some(v) = v.as_deref().and_then(|v| HeaderValue::from_bytes(v).ok()) {
            headers.append(name, v);
        }
    };
    put("host", &h.host);
    put("origin", &h.origin);
    put("sec-fetch-site", &h.site);
    put("content-type", &h.content_type);
    if let Some((method, pna)) = &h.preflight {
        put("access-control-request-method", &Some(method.clone()));
        put("access-control-request-private-network", &Some(pna.clone()));
    }
    let host_ok = h.host.as_deref() == Some(HOST.as_bytes())
        || h.host.as_deref() == Some(b"localhost:24365".as_slice());
    let resp =
        tower::ServiceExt::oneshot(app.clone(), req.body(Body::from(h.body.clone())).unwrap())
            .await
            .unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    let text = String::from_utf8_lossy(&bytes);
    if !host_ok {
        prop_assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{}", text);
        return Ok(());
    }
    prop_assert!(!status.is_server_error(), "{} {}: {} {}", method, path, status, text);
    // The PIN page's HTML for an unknown operation is a page, not an API answer; an OPTIONS that
    // is no CORS preflight is axum's own 405.
    let untyped = (method, template) == ("GET", "/pin/{id}") || method == "OPTIONS";
    if status.is_client_error() && !untyped {
        let err: Result<ErrorBody, _> = serde_json::from_slice(&bytes);
        prop_assert!(err.is_ok(), "{} {}: {} is not a typed error: {}", method, path, status, text);
        let code = err.unwrap().error.code;
        prop_assert_eq!(status.as_u16(), code.http_status(), "{:?}", code);
    }
    Ok(())
}

#[test]
fn hostile_helper_requests_get_typed_errors() {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let config =
        RunnerConfig { cases: cases(96), failure_persistence: None, ..RunnerConfig::default() };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&hostile(), |h| {
        // A fresh helper and card each case: wrong PINs of earlier cases must not lock it.
        let app = app();
        rt.block_on(async {
            // A live operation waiting for the PIN, so PIN posts reach it.
            let id = start(&app, "jpki", &[3; 32]).await;
            wait(&app, &id, |v| v["state"] == "waiting_pin" || v["state"] == "failed").await;
            let r = attack(&app, &id, &h).await;
            let _ = call(
                &app,
                Request::delete(format!("/v1/operations/{id}"))
                    .header("host", HOST)
                    .header("origin", SITE)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            r
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Found by the property above: an id that is not UTF-8 got axum's plain-text 400.
#[tokio::test]
async fn an_id_that_is_not_utf8_is_a_typed_not_found() {
    let app = app();
    for (method, path, origin) in [
        ("POST", "/pin/%AA", format!("http://{HOST}")),
        ("GET", "/pin/%FF%FE/state", format!("http://{HOST}")),
        ("GET", "/pin/%C3", format!("http://{HOST}")),
        ("GET", "/v1/operations/%AA", SITE.to_owned()),
        ("DELETE", "/v1/operations/%AA", SITE.to_owned()),
        // No id at all (found by the property above): no route, yet a typed answer.
        ("GET", "/v1/operations/", SITE.to_owned()),
        ("GET", "/nowhere", SITE.to_owned()),
    ] {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", HOST)
            .header("origin", origin)
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"pin":"1234"}"#))
            .unwrap();
        let (status, body) = call(&app, req).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
        assert_eq!(body["error"]["code"], "not_found", "{method} {path}: {body}");
    }
}
