//! What the helper's integration tests share: the helper's address, the site that calls it, and
//! requests as the page and the PIN page send them, through the real router.
#![allow(dead_code)] // each test binary uses a different part

use std::time::{Duration, Instant};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode},
};
use base64::Engine as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

pub const HOST: &str = "127.0.0.1:24365";
pub const SITE: &str = "https://hpki.example.jp";

pub async fn call(app: &Router, req: Request<Body>) -> (StatusCode, Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// `GET /v1/operations/{id}` as the site.
pub async fn state(app: &Router, id: &str) -> Value {
    let req =
        Request::get(format!("/v1/operations/{id}")).header("host", HOST).header("origin", SITE);
    call(app, req.body(Body::empty()).unwrap()).await.1
}

/// Polls the operation until `pred` holds (20 s at most).
pub async fn wait(app: &Router, id: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v = state(app, id).await;
        if pred(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "condition never met; last state {v}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The PIN as the helper's own PIN page posts it.
pub async fn post_pin(app: &Router, id: &str, pin: &str) -> StatusCode {
    let req = Request::post(format!("/pin/{id}"))
        .header("host", HOST)
        .header("origin", format!("http://{HOST}"))
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/json")
        .body(Body::from(json!({ "pin": pin }).to_string()))
        .unwrap();
    call(app, req).await.0
}

/// Starts an authentication with `card` over `challenge` as the site; returns the operation id.
pub async fn start(app: &Router, card: &str, challenge: &[u8; 32]) -> String {
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(challenge);
    let req = Request::post("/v1/operations")
        .header("host", HOST)
        .header("origin", SITE)
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"operation":"authenticate","card":card,"challenge":b64url}).to_string(),
        ))
        .unwrap();
    let (code, v) = call(app, req).await;
    assert_eq!(code, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap().to_owned()
}
