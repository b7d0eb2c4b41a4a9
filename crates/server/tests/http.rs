//! The real application router over a real SQLite file: headers, caching, routing, errors.

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt as _;
use mahpki_protocol::{ErrorBody, ErrorCode, Health};
use mahpki_server::{
    Config,
    http::{AppState, Assets, MAX_BODY_BYTES, router},
    pki::TrustStore,
    store::Store,
};
use tower::ServiceExt as _;

const INDEX: &str = "<!doctype html><html><head>\
<link rel=\"modulepreload\" href=\"/mahpki-0123456789abcdef.js\">\
<script type=\"module\">import init from '/mahpki-0123456789abcdef.js';await init();</script>\
</head><body></body></html>";

struct Fixture {
    app: Router,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

async fn fixture() -> Fixture {
    let data = tempfile::tempdir().unwrap();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), INDEX).unwrap();
    std::fs::write(dist.path().join("mahpki-0123456789abcdef.js"), "export default 1;").unwrap();
    std::fs::write(dist.path().join("favicon.svg"), "<svg/>").unwrap();
    let config = Config {
        data_dir: data.path().into(),
        dist_dir: Some(dist.path().into()),
        ..Config::default()
    };
    let store = Store::open_sqlite(data.path()).await.unwrap();
    let assets = Assets::load(dist.path()).unwrap();
    let app = router(
        AppState::new(config, store, TrustStore::default(), TrustStore::default()),
        Some(assets),
    );
    Fixture { app, _dirs: (data, dist) }
}

async fn get(app: &Router, path: &str) -> axum::response::Response {
    app.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap()
}

async fn body(res: axum::response::Response) -> Vec<u8> {
    res.into_body().collect().await.unwrap().to_bytes().to_vec()
}

fn header<'a>(res: &'a axum::response::Response, name: &str) -> &'a str {
    res.headers().get(name).map(|v| v.to_str().unwrap()).unwrap_or_default()
}

#[tokio::test]
async fn health_reports_version_and_database() {
    let f = fixture().await;
    let res = get(&f.app, "/api/health").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "cache-control"), "no-store");
    let health: Health = serde_json::from_slice(&body(res).await).unwrap();
    assert_eq!(health.service, "mahpki-server");
    assert_eq!(health.version, env!("CARGO_PKG_VERSION"));
    assert_eq!((health.database.kind.as_str(), health.database.ok), ("sqlite", true));
}

#[tokio::test]
async fn config_names_the_helper_the_csp_allows() {
    let f = fixture().await;
    let res = get(&f.app, "/api/config").await;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = header(&res, "content-security-policy").to_owned();
    let config: mahpki_protocol::api::ClientConfig =
        serde_json::from_slice(&body(res).await).unwrap();
    assert_eq!(config.helper_url, "http://127.0.0.1:24365");
    assert!(csp.contains(&format!("connect-src 'self' {}", config.helper_url)), "{csp}");
    // Where a PC without the helper gets it: the README's section until the operator says.
    assert_eq!(config.helper_download_url, "https://github.com/mahpki/mahpki#local-helper");
}

#[tokio::test]
async fn index_and_client_routes_are_revalidated_and_locked_down() {
    let f = fixture().await;
    for path in ["/", "/index.html", "/mynumber", "/smartphone/change", "/enroll"] {
        let res = get(&f.app, path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&res, "cache-control"), "no-cache", "{path}");
        assert!(header(&res, "content-type").starts_with("text/html"), "{path}");
        let csp = header(&res, "content-security-policy").to_owned();
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("connect-src 'self' http://127.0.0.1:24365"), "{csp}");
        assert_eq!(header(&res, "x-content-type-options"), "nosniff");
        assert_eq!(header(&res, "referrer-policy"), "no-referrer");
        assert_eq!(body(res).await, INDEX.as_bytes());
    }
}

#[tokio::test]
async fn csp_hash_is_that_of_the_inline_loader() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let f = fixture().await;
    let res = get(&f.app, "/").await;
    let loader = "import init from '/mahpki-0123456789abcdef.js';await init();";
    let expected = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(loader));
    assert!(header(&res, "content-security-policy").contains(&format!("'sha256-{expected}'")));
}

#[tokio::test]
async fn hashed_assets_are_immutable_others_revalidated() {
    let f = fixture().await;
    let res = get(&f.app, "/mahpki-0123456789abcdef.js").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "cache-control"), "public, max-age=31536000, immutable");
    assert!(header(&res, "content-type").contains("javascript"));
    let res = get(&f.app, "/favicon.svg").await;
    assert_eq!(header(&res, "cache-control"), "no-cache");
}

#[tokio::test]
async fn missing_files_are_404_not_the_app() {
    let f = fixture().await;
    let res = get(&f.app, "/mahpki-ffffffffffffffff_bg.wasm").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = get(&f.app, "/../../etc/passwd.txt").await;
    assert_ne!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_api_paths_get_a_typed_json_error() {
    let f = fixture().await;
    let res = get(&f.app, "/api/no-such-thing").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(header(&res, "cache-control"), "no-store");
    let err: ErrorBody = serde_json::from_slice(&body(res).await).unwrap();
    assert_eq!(err.error.code, ErrorCode::NotFound);
    assert_eq!(err.error.message, ErrorCode::NotFound.message().ja);
}

#[tokio::test]
async fn wrong_methods_on_the_api_get_a_typed_error() {
    let f = fixture().await;
    let req = Request::delete("/api/health")
        .header("sec-fetch-site", "same-origin")
        .body(Body::empty())
        .unwrap();
    let res = f.app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let err: ErrorBody = serde_json::from_slice(&body(res).await).unwrap();
    assert_eq!(err.error.code, ErrorCode::MethodNotAllowed);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let f = fixture().await;
    let big = vec![b'x'; MAX_BODY_BYTES + 1];
    let req = Request::post("/api/health")
        .header(header::CONTENT_LENGTH, big.len())
        .body(Body::from(big))
        .unwrap();
    let res = f.app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn writes_to_the_app_are_refused() {
    let f = fixture().await;
    let res = f.app.clone().oneshot(Request::post("/").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
}
