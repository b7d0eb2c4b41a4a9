//! The helper's HTTP router. Every request passes the `Host` check (DNS rebinding) first; `/v1/*`
//! then passes the CORS gate (see [`super::api`]); the PIN page under `/pin/*` is same-origin only.

use std::sync::Arc;

use axum::{
    Router,
    extract::{DefaultBodyLimit, Request, State},
    http::{StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use mahpki_protocol::error::ErrorCode;

use crate::{
    http::{
        api,
        common::{AppState, error_response, header_str},
        guard::Guard,
        pin_page,
    },
    operation::Operations,
};

/// Largest request body: the biggest legitimate one (start, PIN) is well under 200 bytes.
pub const BODY_LIMIT: usize = 4 * 1024;

pub fn router(guard: Guard, ops: Arc<Operations>) -> Router {
    router_with(Arc::new(guard), ops, Router::new())
}

/// The router plus `extra` routes (the demo page), all behind the same Host check and body
/// limit.
pub fn router_with(guard: Arc<Guard>, ops: Arc<Operations>, extra: Router) -> Router {
    let state = AppState { guard, ops };
    Router::new()
        .merge(api::routes(state.clone()))
        .merge(pin_page::routes())
        .with_state(state.clone())
        .merge(extra)
        // Any other path (e.g. `/v1/operations/` with no id) gets a typed answer too.
        .fallback(|| async { error_response(ErrorCode::NotFound) })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state, check_host))
}

/// Refuses DNS-rebinding requests before any handler runs.
async fn check_host(State(st): State<AppState>, req: Request, next: Next) -> Response {
    match st.guard.check_host(header_str(req.headers(), header::HOST)) {
        Ok(()) => next.run(req).await,
        Err(refusal) => {
            tracing::warn!(%refusal, "refused request");
            (StatusCode::MISDIRECTED_REQUEST, refusal.to_string()).into_response()
        }
    }
}
