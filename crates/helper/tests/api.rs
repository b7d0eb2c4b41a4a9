//! The localhost API on the real router, through `tower::ServiceExt::oneshot`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    http::{Request, Response, StatusCode},
};
use mahpki_helper::{
    card::backend::{CardBackend, CardSession, NoReaders},
    error::CardError,
    http,
    http::guard::Guard,
    operation::{OperationConfig, Operations},
};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const HOST: &str = "127.0.0.1:24365";
const SITE: &str = "https://hpki.example.jp";
const OTHER_SITE: &str = "https://other.example.jp";
/// 32 bytes, base64url.
const CHALLENGE: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

/// Counts every call into the card layer, so tests can show a refusal touched nothing. It has
/// no reader, like a PC without one.
#[derive(Default)]
struct Observed {
    calls: AtomicUsize,
}

impl CardBackend for Observed {
    fn readers(&self) -> Result<Vec<String>, CardError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        NoReaders.readers()
    }

    fn connect(&self, reader: &str) -> Result<Box<dyn CardSession>, CardError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        NoReaders.connect(reader)
    }

    fn wait_for_change(&self, timeout: Duration) {
        std::thread::sleep(timeout.min(Duration::from_millis(10)));
    }
}

struct Helper {
    app: Router,
    backend: Arc<Observed>,
}

fn helper(timeout: Duration) -> Helper {
    let backend = Arc::new(Observed::default());
    let cfg = OperationConfig { timeout, poll: Duration::from_millis(10), ..Default::default() };
    let ops = Arc::new(Operations::new(backend.clone(), cfg));
    let guard = Guard::new(HOST.parse().unwrap(), vec![SITE.into(), OTHER_SITE.into()]);
    Helper { app: http::router(guard, ops), backend }
}

impl Helper {
    async fn send(&self, req: Request<Body>) -> Response<Body> {
        self.app.clone().oneshot(req).await.unwrap()
    }

    fn calls(&self) -> usize {
        self.backend.calls.load(Ordering::SeqCst)
    }

    async fn start(&self, card: &str) -> Value {
        let resp = self
            .send(start_req(
                SITE,
                &json!({"operation":"authenticate","card":card,"challenge":CHALLENGE}),
            ))
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        body_json(resp).await
    }

    async fn state(&self, id: &str, origin: &str) -> (StatusCode, Value) {
        let resp = self
            .send(
                req("GET", &format!("/v1/operations/{id}"))
                    .header("origin", origin)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        (resp.status(), body_json(resp).await)
    }

    async fn wait_state(&self, id: &str, want: &str) -> Value {
        self.wait_until(id, want, |_| true).await
    }

    async fn wait_until(&self, id: &str, want: &str, also: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..500 {
            let (_, v) = self.state(id, SITE).await;
            if v["state"] == want && also(&v) {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("operation never reached {want}");
    }
}

fn req(method: &str, uri: &str) -> axum::http::request::Builder {
    Request::builder().method(method).uri(uri).header("host", HOST)
}

fn start_req(origin: &str, body: &Value) -> Request<Body> {
    req("POST", "/v1/operations")
        .header("origin", origin)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn body_bytes(resp: Response<Body>) -> Vec<u8> {
    axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap().to_vec()
}

async fn body_json(resp: Response<Body>) -> Value {
    serde_json::from_slice(&body_bytes(resp).await).unwrap_or(Value::Null)
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_default()
}

fn pin_post(id: &str, origin: Option<&str>, fetch_site: Option<&str>, pin: &str) -> Request<Body> {
    let mut b = req("POST", &format!("/pin/{id}")).header("content-type", "application/json");
    if let Some(o) = origin {
        b = b.header("origin", o);
    }
    if let Some(s) = fetch_site {
        b = b.header("sec-fetch-site", s);
    }
    b.body(Body::from(json!({"pin": pin}).to_string())).unwrap()
}

#[tokio::test]
async fn foreign_host_is_refused_before_anything_runs() {
    let h = helper(Duration::from_secs(30));
    for (method, uri) in [("GET", "/v1/status"), ("POST", "/v1/operations"), ("GET", "/pin/00")] {
        let resp = h
            .send(
                Request::builder()
                    .method(method)
                    .uri(uri)
                    .header("host", "rebind.evil.example:24365")
                    .header("origin", SITE)
                    .header("content-type", "application/json")
                    .body(Body::from(
                        json!({"operation":"authenticate","card":"jpki","challenge":CHALLENGE})
                            .to_string(),
                    ))
                    .unwrap(),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::MISDIRECTED_REQUEST, "{method} {uri}");
    }
    assert_eq!(h.calls(), 0, "a refused request reached the card layer");
}

#[tokio::test]
async fn foreign_origin_is_refused_before_any_card_is_touched() {
    let h = helper(Duration::from_secs(30));
    let body = json!({"operation":"authenticate","card":"hpki","challenge":CHALLENGE});
    for origin in [
        "https://evil.example",
        "null",
        "https://hpki.example.jp.evil.example",
        "http://hpki.example.jp",
    ] {
        let resp = h.send(start_req(origin, &body)).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{origin}");
        assert!(resp.headers().get("access-control-allow-origin").is_none());
        assert_eq!(error_code(&body_json(resp).await), "foreign_origin");
    }
    let status = h
        .send(
            req("GET", "/v1/status")
                .header("origin", "https://evil.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status.status(), StatusCode::FORBIDDEN);
    // And a start without any Origin (not a browser page) is refused too: nothing to sign over.
    let no_origin = h
        .send(
            req("POST", "/v1/operations")
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(no_origin.status(), StatusCode::FORBIDDEN);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(h.calls(), 0, "a refused request reached the card layer");
}

#[tokio::test]
async fn preflight_answers_configured_origins_with_private_and_local_network_access() {
    let h = helper(Duration::from_secs(30));
    let resp = h
        .send(
            req("OPTIONS", "/v1/operations")
                .header("origin", SITE)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type")
                .header("access-control-request-private-network", "true")
                .header("access-control-request-local-network", "true")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let hd = resp.headers();
    assert_eq!(hd["access-control-allow-origin"], SITE);
    assert_eq!(hd["access-control-allow-private-network"], "true");
    assert_eq!(hd["access-control-allow-local-network"], "true");
    assert!(hd["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    assert!(hd["access-control-allow-methods"].to_str().unwrap().contains("DELETE"));
    assert!(hd["access-control-allow-headers"].to_str().unwrap().contains("content-type"));

    // Without the PNA request header, no PNA grant.
    let plain = h
        .send(
            req("OPTIONS", "/v1/status")
                .header("origin", SITE)
                .header("access-control-request-method", "GET")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(plain.status(), StatusCode::NO_CONTENT);
    assert!(plain.headers().get("access-control-allow-private-network").is_none());

    let foreign = h
        .send(
            req("OPTIONS", "/v1/operations")
                .header("origin", "https://evil.example")
                .header("access-control-request-method", "POST")
                .header("access-control-request-private-network", "true")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert!(foreign.headers().get("access-control-allow-origin").is_none());
    assert!(foreign.headers().get("access-control-allow-private-network").is_none());
}

#[tokio::test]
async fn status_lists_readers_and_carries_cors_for_the_site() {
    let h = helper(Duration::from_secs(30));
    let resp =
        h.send(req("GET", "/v1/status").header("origin", SITE).body(Body::empty()).unwrap()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["access-control-allow-origin"], SITE);
    let v = body_json(resp).await;
    assert_eq!(v["service"], "mahpki-helper");
    assert_eq!(v["readers"], json!([]));
}

#[tokio::test]
async fn oversized_and_malformed_bodies_are_refused() {
    let h = helper(Duration::from_secs(30));
    let big = json!({"operation":"authenticate","card":"jpki","challenge":"A".repeat(5000)});
    let resp = h.send(start_req(SITE, &big)).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&body_json(resp).await), "payload_too_large");

    for bad in [
        json!({"operation":"authenticate","card":"jpki","challenge":"AAEC"}), // 3 bytes
        json!({"operation":"authenticate","card":"jpki","challenge":"not base64!"}),
        json!({"operation":"authenticate","card":"felica","challenge":CHALLENGE}),
        json!({"operation":"authenticate","card":"jpki","challenge":CHALLENGE,"origin":"https://evil.example"}),
    ] {
        let resp = h.send(start_req(SITE, &bad)).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(error_code(&body_json(resp).await), "bad_request");
    }
}

#[tokio::test]
async fn lifecycle_start_wait_cancel() {
    let h = helper(Duration::from_secs(30));
    let created = h.start("jpki").await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);
    assert_eq!(created["pin_page"], format!("http://{HOST}/pin/{id}"));
    assert_eq!(created["status"]["origin"], SITE);
    assert_eq!(created["status"]["card"], "jpki");

    // The helper looks until a reader appears; here there is none, and it says so.
    let v = h.wait_until(&id, "waiting_card", |v| v["reason"] == "no_reader").await;
    assert_eq!(v["reason"], "no_reader");

    // Bound to its origin: another configured site cannot see or cancel it.
    let (code, _) = h.state(&id, OTHER_SITE).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let del_other = h
        .send(
            req("DELETE", &format!("/v1/operations/{id}"))
                .header("origin", OTHER_SITE)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(del_other.status(), StatusCode::NOT_FOUND);
    let (_, v) = h.state(&id, SITE).await;
    assert_eq!(v["state"], "waiting_card");

    let del = h
        .send(
            req("DELETE", &format!("/v1/operations/{id}"))
                .header("origin", SITE)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(del.status(), StatusCode::OK);
    let v = body_json(del).await;
    assert_eq!((v["state"].as_str(), v["error"].as_str()), (Some("failed"), Some("cancelled")));
    let (_, v) = h.state(&id, SITE).await;
    assert_eq!(v["error"], "cancelled");

    let (code, v) = h.state("0123456789abcdef0123456789abcdef", SITE).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&v), "not_found");
}

#[tokio::test]
async fn lifecycle_times_out() {
    let h = helper(Duration::from_millis(200));
    let created = h.start("hpki").await;
    let id = created["id"].as_str().unwrap();
    let v = h.wait_state(id, "failed").await;
    assert_eq!(v["error"], "timed_out");
}

#[tokio::test]
async fn pin_page_is_self_contained_under_a_strict_csp() {
    let h = helper(Duration::from_secs(30));
    let created = h.start("jpki").await;
    let id = created["id"].as_str().unwrap();
    let resp = h.send(req("GET", &format!("/pin/{id}")).body(Body::empty()).unwrap()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let csp = resp.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(resp.headers()["x-frame-options"], "DENY");
    let html = String::from_utf8(body_bytes(resp).await).unwrap();
    assert!(html.contains(SITE), "page must name the asking site");
    assert!(html.contains("利用者証明用パスワード"));
    assert!(html.contains("※署名用のパスワードではありませんので、ご注意ください"));
    // No inline script or style: every <script> has a src, no style attributes or elements.
    for (i, _) in html.match_indices("<script") {
        assert!(html[i..i + 40].contains("src="), "inline script at {i}");
    }
    assert!(!html.contains("<style") && !html.contains("style=") && !html.contains("onclick"));

    let js = h.send(req("GET", "/pin-assets/pin.js").body(Body::empty()).unwrap()).await;
    assert_eq!(js.status(), StatusCode::OK);
    assert!(js.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    let css = h.send(req("GET", "/pin-assets/pin.css").body(Body::empty()).unwrap()).await;
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));

    // The HPKI page asks for the HPKI PIN and carries no JPKI warning.
    let hpki = h.start("hpki").await;
    let resp = h
        .send(
            req("GET", &format!("/pin/{}", hpki["id"].as_str().unwrap()))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let html = String::from_utf8(body_bytes(resp).await).unwrap();
    assert!(html.contains("HPKIカードのPIN") && !html.contains("署名用のパスワード"));
}

#[tokio::test]
async fn pin_posts_must_come_from_the_helpers_own_page() {
    let h = helper(Duration::from_secs(30));
    let created = h.start("jpki").await;
    let id = created["id"].as_str().unwrap();
    let own = format!("http://{HOST}");
    for (origin, site) in [
        (Some(SITE), Some("cross-site")),
        (Some("https://evil.example"), Some("cross-site")),
        (Some(own.as_str()), Some("cross-site")), // forged Origin alone is not enough
        (Some(own.as_str()), None),
        (None, Some("same-origin")),
        (Some("http://localhost:24365"), Some("same-origin")), // not the origin we are reached on
    ] {
        let resp = h.send(pin_post(id, origin, site, "1234")).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{origin:?} {site:?}");
        assert_eq!(error_code(&body_json(resp).await), "foreign_origin");
    }
    // The state endpoint refuses a foreign Origin as well.
    let resp = h
        .send(
            req("GET", &format!("/pin/{id}/state"))
                .header("origin", SITE)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = h
        .send(
            req("GET", &format!("/pin/{id}/state"))
                .header("origin", own.as_str())
                .header("sec-fetch-site", "same-origin")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let v = body_json(resp).await;
    assert_eq!(v["status"]["id"], id);
}

#[tokio::test]
async fn malformed_pins_are_rejected_before_the_card() {
    let h = helper(Duration::from_secs(30));
    let created = h.start("jpki").await;
    let id = created["id"].as_str().unwrap();
    h.wait_state(id, "waiting_card").await;
    let own = format!("http://{HOST}");
    let before = h.calls();
    for bad in ["123", "12345", "12a4", "", "１２３４"] {
        let resp = h.send(pin_post(id, Some(&own), Some("same-origin"), bad)).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad:?}");
        assert_eq!(error_code(&body_json(resp).await), "pin_format");
    }
    // A well-formed PIN is still refused while the operation is not asking for one.
    let resp = h.send(pin_post(id, Some(&own), Some("same-origin"), "1234")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let (_, v) = h.state(id, SITE).await;
    assert_eq!(v["state"], "waiting_card");
    // The runner keeps looking for a reader meanwhile; only those looks may have touched the
    // backend, never a connect with a PIN. (NoReaders has nothing to connect to.)
    assert!(h.calls() >= before);
    let unknown = h
        .send(pin_post("ffffffffffffffffffffffffffffffff", Some(&own), Some("same-origin"), "1234"))
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

/// The PIN window's キャンセル ends the operation, from the helper's own page only: a foreign
/// page cannot cancel a holder's operation, and a cancelled one takes no PIN.
#[tokio::test]
async fn pin_window_cancel_is_same_origin_and_final() {
    let h = helper(Duration::from_secs(30));
    let created = h.start("hpki").await;
    let id = created["id"].as_str().unwrap();
    let own = format!("http://{HOST}");
    let cancel = |origin: Option<&str>, site: Option<&str>| {
        let mut r = req("POST", &format!("/pin/{id}/cancel"));
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        if let Some(s) = site {
            r = r.header("sec-fetch-site", s);
        }
        r.body(Body::empty()).unwrap()
    };
    for (origin, site) in [
        (Some(SITE), Some("cross-site")),
        (Some(own.as_str()), Some("cross-site")),
        (None, Some("same-origin")),
    ] {
        let resp = h.send(cancel(origin, site)).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{origin:?} {site:?}");
        assert_eq!(error_code(&body_json(resp).await), "foreign_origin");
    }
    let (_, v) = h.state(id, SITE).await;
    assert_ne!(v["state"], "failed", "a refused cancel changed nothing");

    let resp = h.send(cancel(Some(&own), Some("same-origin"))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let v = h.wait_state(id, "failed").await;
    assert_eq!(v["error"], "cancelled");
    let resp = h.send(pin_post(id, Some(&own), Some("same-origin"), "1234")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

/// Issue 17: the PIN page's `pagehide` beacon tells the helper the window was closed, so the
/// site's page (which cannot see the window) offers to reopen it; opening the page again clears
/// it; only the helper's own page may say so; and the operation still ends at its timeout.
#[tokio::test]
async fn a_closed_pin_window_is_reported_until_it_is_opened_again() {
    let h = helper(Duration::from_millis(1500));
    let created = h.start("hpki").await;
    let id = created["id"].as_str().unwrap();
    let own = format!("http://{HOST}");
    // The beacon names the load of the page that went away: 0 before the page was ever loaded.
    let beacon = |origin: Option<&str>, site: &str, load: &str| {
        let mut r = req("POST", &format!("/pin/{id}/closed")).header("sec-fetch-site", site);
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        r.body(Body::from(load.to_owned())).unwrap()
    };
    let closed = |v: &Value| v["pin_window_closed"] == true;
    for (origin, site) in [(Some(SITE), "cross-site"), (None, "same-origin")] {
        let resp = h.send(beacon(origin, site, "0")).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{origin:?} {site}");
    }
    let resp = h.send(beacon(Some(&own), "same-origin", "not a number")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let (_, v) = h.state(id, SITE).await;
    assert!(
        !closed(&v) && v.get("pin_window_closed").is_none(),
        "a refused beacon changed nothing: {v}"
    );

    let resp = h.send(beacon(Some(&own), "same-origin", "0")).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (_, v) = h.state(id, SITE).await;
    assert!(closed(&v), "{v}");
    // The closed page's last state poll, answered after its beacon, does not reopen it.
    let poll = req("GET", &format!("/pin/{id}/state"))
        .header("origin", own.as_str())
        .header("sec-fetch-site", "same-origin")
        .body(Body::empty())
        .unwrap();
    assert_eq!(h.send(poll).await.status(), StatusCode::OK);
    let (_, v) = h.state(id, SITE).await;
    assert!(closed(&v), "a late poll of the closed page changed nothing: {v}");
    // Reopened: the page accepts the same operation again (its load 1), and the notice goes.
    let page = h.send(req("GET", &format!("/pin/{id}")).body(Body::empty()).unwrap()).await;
    assert_eq!(page.status(), StatusCode::OK);
    let (_, v) = h.state(id, SITE).await;
    assert!(!closed(&v), "{v}");
    // A beacon from the earlier load (a reload's old page, arriving late) leaves it open.
    h.send(beacon(Some(&own), "same-origin", "0")).await;
    let (_, v) = h.state(id, SITE).await;
    assert!(!closed(&v), "{v}");
    // Closed again, and left closed: the operation still ends at its timeout, with no notice.
    h.send(beacon(Some(&own), "same-origin", "1")).await;
    let (_, v) = h.state(id, SITE).await;
    assert!(closed(&v), "{v}");
    let v = h.wait_state(id, "failed").await;
    assert_eq!(v["error"], "timed_out");
    assert!(!closed(&v), "{v}");
    // A beacon for an operation the helper does not know is refused as such.
    let unknown = req("POST", "/pin/ffffffffffffffffffffffffffffffff/closed")
        .header("origin", own.as_str())
        .header("sec-fetch-site", "same-origin")
        .body(Body::empty())
        .unwrap();
    assert_eq!(h.send(unknown).await.status(), StatusCode::NOT_FOUND);
}
