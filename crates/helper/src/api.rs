//! The helper's localhost HTTP API.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use mahpki_protocol::helper::HelperStatus;

use crate::guard::Guard;

pub fn router(guard: Guard) -> Router {
    Router::new()
        .route("/v1/status", get(status))
        .layer(middleware::from_fn_with_state(Arc::new(guard), check_host))
}

/// Refuses DNS-rebinding requests before any handler runs.
async fn check_host(State(guard): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok());
    match guard.check_host(host) {
        Ok(()) => next.run(req).await,
        Err(refusal) => {
            tracing::warn!(%refusal, "refused request");
            (StatusCode::MISDIRECTED_REQUEST, refusal.to_string()).into_response()
        }
    }
}

async fn status() -> Json<HelperStatus> {
    Json(HelperStatus {
        service: "mahpki-helper".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        readers: vec![],
    })
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use tower::ServiceExt as _;

    use super::*;

    fn app() -> Router {
        router(Guard::new("127.0.0.1:24365".parse().unwrap(), vec![]))
    }

    #[tokio::test]
    async fn status_answers_on_our_host_only() {
        let req = |host: &str| {
            axum::http::Request::get("/v1/status").header("host", host).body(Body::empty()).unwrap()
        };
        let ok = app().oneshot(req("127.0.0.1:24365")).await.unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        let refused = app().oneshot(req("rebind.evil.example:24365")).await.unwrap();
        assert_eq!(refused.status(), StatusCode::MISDIRECTED_REQUEST);
    }
}
