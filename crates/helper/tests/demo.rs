//! Demo mode: the /demo page's buttons move virtual cards in and out of the reader the
//! operations use; only the helper's own page may press them.
#![cfg(feature = "demo")]

mod common;

use common::*;
use std::{sync::Arc, time::Duration};

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use mahpki_helper::{
    demo::Demo,
    http,
    http::guard::Guard,
    operation::{OperationConfig, Operations},
};
use serde_json::{Value, json};
use tower::ServiceExt as _;

fn demo_post(path: &str, origin: &str, body: Value) -> Request<Body> {
    Request::post(path)
        .header("host", HOST)
        .header("origin", origin)
        .header(
            "sec-fetch-site",
            if origin.starts_with("http://127.0.0.1") { "same-origin" } else { "cross-site" },
        )
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn buttons_insert_cards_that_operations_then_use() {
    let guard = Arc::new(Guard::new(HOST.parse().unwrap(), vec![SITE.into()]));
    let demo = Demo::new(1, guard.clone()).unwrap();
    let cfg = OperationConfig { poll: Duration::from_millis(20), ..Default::default() };
    let ops = Arc::new(Operations::new(Arc::new(demo.backend()), cfg));
    let app = http::router_with(guard, ops, demo.routes());

    let own = format!("http://{HOST}");
    let (code, _) =
        call(&app, demo_post("/demo/insert", SITE, json!({"holder":0,"card":"jpki"}))).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "a site must not move cards");
    let (code, v) =
        call(&app, demo_post("/demo/insert", &own, json!({"holder":0,"card":"jpki"}))).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(v["inserted"]["card"], "jpki");
    let pin = v["holders"][0]["jpki_auth_pin"].as_str().unwrap().to_owned();
    assert_eq!(pin.len(), 4);

    let status = Request::get("/v1/status")
        .header("host", HOST)
        .header("origin", SITE)
        .body(Body::empty())
        .unwrap();
    let (_, v) = call(&app, status).await;
    assert_eq!(v["readers"][0]["card"], "jpki", "{v}");

    let (code, v) = call(&app, demo_post("/demo/remove", &own, json!({}))).await;
    assert_eq!(code, StatusCode::OK);
    assert!(v.get("inserted").is_none());
    let status = Request::get("/v1/status")
        .header("host", HOST)
        .header("origin", SITE)
        .body(Body::empty())
        .unwrap();
    let (_, v) = call(&app, status).await;
    assert_eq!(v["readers"][0]["card"], "empty", "{v}");

    let page = Request::get("/demo").header("host", HOST).body(Body::empty()).unwrap();
    let resp = app.clone().oneshot(page).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-security-policy"].to_str().unwrap().contains("script-src 'self'")
    );
}
