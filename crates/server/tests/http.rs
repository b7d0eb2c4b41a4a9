//! The real application router over a real SQLite file: headers, caching, routing, errors.

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt as _;
use mahpki_protocol::{
    ErrorBody, ErrorCode, Health,
    pages::{Bundle, Page},
};
use mahpki_server::{
    Config,
    http::{AppState, Assets, MAX_BODY_BYTES, router},
    pki::TrustStore,
    store::Store,
};
use tower::ServiceExt as _;

/// A bundle's html as Trunk writes it: its own loader (an inline script) and the first frame's
/// language script, the same in every bundle.
fn bundle_html(bundle: Bundle) -> String {
    let b = bundle.name();
    format!(
        "<!doctype html><html><head>\
<link rel=\"modulepreload\" href=\"/{b}/{b}-0123456789abcdef.js\">\
<script type=\"module\">{}</script>\
</head><body><script>{LANG_SCRIPT}</script></body></html>",
        loader(bundle)
    )
}

fn loader(bundle: Bundle) -> String {
    let b = bundle.name();
    format!("import init from '/{b}/{b}-0123456789abcdef.js';await init();")
}

const LANG_SCRIPT: &str = "document.documentElement.lang = 'ja';";

struct Fixture {
    app: Router,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

async fn fixture() -> Fixture {
    let data = tempfile::tempdir().unwrap();
    let dist = tempfile::tempdir().unwrap();
    for &bundle in Bundle::ALL {
        let dir = dist.path().join(bundle.name());
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("index.html"), bundle_html(bundle)).unwrap();
        let js = format!("{}-0123456789abcdef.js", bundle.name());
        std::fs::write(dir.join(js), "export default 1;").unwrap();
    }
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
async fn every_page_gets_its_bundles_html_revalidated_and_locked_down() {
    let f = fixture().await;
    let pages = Page::ALL.iter().map(|p| (p.path(), p.bundle()));
    for (path, bundle) in pages.chain([("/index.html", Bundle::Home)]) {
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
        assert_eq!(body(res).await, bundle_html(bundle).as_bytes(), "{path}");
    }
}

#[tokio::test]
async fn the_phone_and_each_pc_page_get_their_own_bundle() {
    let f = fixture().await;
    for (path, bundle) in [
        ("/", "home"),
        ("/mynumber", "mynumber"),
        ("/smartphone", "smartphone"),
        ("/smartphone/jma", "smartphone"),
        ("/smartphone/change", "smartphone"),
        ("/enrol", "phone"),
        ("/enroll", "phone"),
        ("/change", "phone-change"),
        ("/signin/phone", "phone-signin"),
        ("/account", "account"),
        ("/consent", "consent"),
    ] {
        let html = String::from_utf8(body(get(&f.app, path).await).await).unwrap();
        assert!(
            html.contains(&format!("/{bundle}/{bundle}-0123456789abcdef.js")),
            "{path}: {html}"
        );
    }
}

#[tokio::test]
async fn a_path_that_is_no_page_is_404_with_the_not_found_page() {
    let f = fixture().await;
    for path in ["/no/such/page", "/enrol/", "/Enrol", "/smartphone/other", "/phone"] {
        let res = get(&f.app, path).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(header(&res, "cache-control"), "no-cache", "{path}");
        assert!(header(&res, "content-type").starts_with("text/html"), "{path}");
        assert!(header(&res, "content-security-policy").contains("'sha256-"), "{path}");
        // The home bundle renders the 404 page for any path not in the table of pages.
        assert_eq!(body(res).await, bundle_html(Bundle::Home).as_bytes(), "{path}");
    }
}

#[tokio::test]
async fn csp_hashes_cover_every_bundles_inline_scripts() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let hash = |script: &str| {
        let digest = sha2::Sha256::digest(script);
        format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
    };
    let f = fixture().await;
    let res = get(&f.app, "/enrol").await;
    let csp = header(&res, "content-security-policy").to_owned();
    for &bundle in Bundle::ALL {
        assert!(csp.contains(&hash(&loader(bundle))), "{bundle:?}: {csp}");
    }
    // The script every page shares is listed once.
    assert_eq!(csp.matches(&hash(LANG_SCRIPT)).count(), 1, "{csp}");
}

#[tokio::test]
async fn a_missing_bundle_is_a_startup_error_not_a_blank_page() {
    let dist = tempfile::tempdir().unwrap();
    for &bundle in &Bundle::ALL[1..] {
        let dir = dist.path().join(bundle.name());
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("index.html"), bundle_html(bundle)).unwrap();
    }
    let err = Assets::load(dist.path()).unwrap_err().to_string();
    assert!(err.contains(&format!("{}/index.html", Bundle::ALL[0].name())), "{err}");
}

#[tokio::test]
async fn hashed_assets_are_immutable_others_revalidated() {
    let f = fixture().await;
    let res = get(&f.app, "/phone/phone-0123456789abcdef.js").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "cache-control"), "public, max-age=31536000, immutable");
    assert!(header(&res, "content-type").contains("javascript"));
    let res = get(&f.app, "/favicon.svg").await;
    assert_eq!(header(&res, "cache-control"), "no-cache");
}

#[tokio::test]
async fn missing_files_are_404_not_the_app() {
    let f = fixture().await;
    let res = get(&f.app, "/phone/phone-ffffffffffffffff_bg.wasm").await;
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
