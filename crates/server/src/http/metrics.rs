//! The metrics side of the HTTP layer: the layer that times and counts every answer, and the
//! separate `/metrics` listener's router.

use std::time::Instant;

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use mahpki_protocol::ErrorCode;

use super::AppState;
use crate::metrics::{CONTENT_TYPE, CrlState, PoolUse, Snapshot};

/// The router pattern that answered, carried from the inner router (where axum knows it) out to
/// [`track`] (which sees every answer, also those no route took).
#[derive(Clone)]
struct Route(MatchedPath);

/// Inner layer on the API routes: records which pattern matched.
pub async fn mark_route(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let mut res = next.run(req).await;
    if let Some(route) = route {
        res.extensions_mut().insert(Route(route));
    }
    res
}

/// Outer layer: the duration of every answer by route, method and status, and every refusal
/// by its error code. Paths no route matched are counted under one label, so a scan of random
/// paths cannot grow the series without bound.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_owned();
    let api = req.uri().path().starts_with(mahpki_protocol::API_PREFIX);
    let started = Instant::now();
    let res = next.run(req).await;
    let route = match res.extensions().get::<Route>() {
        Some(Route(path)) => path.as_str(),
        None if api => "unmatched",
        None => "static",
    };
    state.metrics.answered(route, &method, res.status().as_u16(), started.elapsed().as_secs_f64());
    if let Some(code) = res.extensions().get::<ErrorCode>() {
        state.metrics.refused(&code.wire());
    }
    res
}

/// Each CA's revocation list as of now (anchors without a CRL are left out: the server warns
/// about them at start).
pub fn crl_states(state: &AppState) -> Vec<CrlState> {
    let now = state.clock.now_secs();
    let mut crls = Vec::new();
    for (family, trust) in
        [("hpki", state.hpki_trust.current()), ("jpki", state.jpki_trust.current())]
    {
        for a in trust.anchors.iter().filter(|a| !a.crls.is_empty()) {
            let oldest = a.crls.iter().map(|c| c.this_update).min().unwrap_or(now);
            crls.push(CrlState {
                family,
                ca: a.name.clone(),
                age_secs: now.saturating_sub(oldest),
                stale: a.crls.iter().any(|c| c.is_stale(now, trust.crl_max_age_secs)),
            });
        }
    }
    crls
}

/// What the scrape reads from the running server.
pub fn snapshot(state: &AppState) -> Snapshot {
    let (connections, idle, max) = state.store.pool_use();
    let crls = crl_states(state);
    Snapshot { streams_open: state.streams.total(), pool: PoolUse { connections, idle, max }, crls }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let body = state.metrics.render(&snapshot(&state));
    ([(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))], body).into_response()
}

/// The router of the metrics listener (`metrics_listen`): `/metrics` and nothing else.
pub fn router(state: AppState) -> Router {
    Router::new().route("/metrics", get(metrics)).with_state(state)
}
