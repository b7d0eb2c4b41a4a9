//! Issue 11's smaller holes in the helper: a page without `Origin` cannot detect the helper or
//! make it poll the readers, and operation ids (which open the PIN page) never reach the log.

use std::{
    io::Write,
    sync::{
        Arc, Mutex, OnceLock,
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
    operation::{OperationConfig, Operations, log_tag},
};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const HOST: &str = "127.0.0.1:24365";
const SITE: &str = "https://hpki.example.jp";
const CHALLENGE: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

/// No reader, and a count of every look at the readers.
#[derive(Default)]
struct Counted {
    calls: AtomicUsize,
}

impl CardBackend for Counted {
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

fn helper(backend: Arc<Counted>) -> Router {
    let cfg = OperationConfig {
        timeout: Duration::from_millis(200),
        poll: Duration::from_millis(10),
        ..Default::default()
    };
    let ops = Arc::new(Operations::new(backend, cfg));
    http::router(Guard::new(HOST.parse().unwrap(), vec![SITE.into()]), ops)
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, Value, Response<()>) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (parts.status, v, Response::from_parts(parts, ()))
}

fn status_req(origin: Option<&str>) -> Request<Body> {
    let mut r = Request::get("/v1/status").header("host", HOST);
    if let Some(o) = origin {
        r = r.header("origin", o);
    }
    r.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn status_without_origin_tells_nothing_and_touches_no_reader() {
    let backend = Arc::new(Counted::default());
    let app = helper(backend.clone());

    // What an <img src>, a no-cors fetch or a script outside a browser sends: no Origin.
    let (code, v, resp) = send(&app, status_req(None)).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert_eq!(v["error"]["code"], "foreign_origin");
    assert!(v.get("service").is_none() && v.get("readers").is_none(), "{v}");
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    // Following or cancelling an operation without Origin is refused the same way.
    for method in ["GET", "DELETE"] {
        let r = Request::builder()
            .method(method)
            .uri("/v1/operations/00000000000000000000000000000000")
            .header("host", HOST)
            .body(Body::empty())
            .unwrap();
        let (code, v, _) = send(&app, r).await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{method}");
        assert_eq!(v["error"]["code"], "foreign_origin");
    }
    assert_eq!(backend.calls.load(Ordering::SeqCst), 0, "a refused request polled the readers");

    // The configured site's page (the web app) still gets its answer.
    let (code, v, resp) = send(&app, status_req(Some(SITE))).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(v["service"], "mahpki-helper");
    assert_eq!(resp.headers()["access-control-allow-origin"], SITE);
    assert!(backend.calls.load(Ordering::SeqCst) > 0);
}

/// Every log line of this test binary.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured() -> &'static Log {
    static LOG: OnceLock<Log> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Log::default();
        let writer = log.clone();
        // Global: the operation runs on its own thread. Everything, debug included.
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        log
    })
}

#[tokio::test]
async fn operation_ids_never_reach_the_log() {
    let log = captured();
    let app = helper(Arc::new(Counted::default()));
    let start = Request::post("/v1/operations")
        .header("host", HOST)
        .header("origin", SITE)
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"operation":"authenticate","card":"hpki","challenge":CHALLENGE}).to_string(),
        ))
        .unwrap();
    let (code, created, _) = send(&app, start).await;
    assert_eq!(code, StatusCode::CREATED);
    let id = created["id"].as_str().unwrap().to_owned();
    // Let it run to its end (no reader: it waits, then times out), logging as it goes.
    let mut state = Value::Null;
    for _ in 0..500 {
        let follow = Request::get(format!("/v1/operations/{id}"))
            .header("host", HOST)
            .header("origin", SITE)
            .body(Body::empty())
            .unwrap();
        state = send(&app, follow).await.1;
        if state["state"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(state["state"], "failed", "{state}");
    assert_eq!(state["error"], "timed_out");
    // The failure is logged on the operation's thread just before its state is visible.
    let text = || String::from_utf8_lossy(&log.0.lock().unwrap()).into_owned();
    for _ in 0..200 {
        if text().contains("operation failed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let text = text();
    assert!(text.contains("operation started") && text.contains("operation failed"), "{text}");
    assert!(!text.contains(&id), "the operation id was logged:\n{text}");
    // Each line names the operation by its tag instead, which cannot be turned back into the id.
    let tag = log_tag(&id);
    assert_eq!(tag.len(), 8);
    assert!(!id.contains(&tag), "the tag is not a piece of the id");
    assert!(text.contains(&format!("op={tag}")), "{text}");
}
