//! The helper's `/v1` API for the site's page, behind the CORS gate (configured origins only,
//! preflights including Chrome's private/local network access).

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{Request, State, rejection::JsonRejection},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use base64::Engine as _;
use mahpki_protocol::{
    error::ErrorCode,
    helper::{CHALLENGE_LEN, HelperStatus, OperationCreated, StartOperation},
};

use crate::{
    card::backend::survey,
    http::common::{AppState, OpId, error_response, header_str, rejection_response},
    operation::Operation,
};

/// The `/v1` routes, each behind [`cors`].
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/status", get(status))
        .route("/v1/operations", axum::routing::post(start))
        .route("/v1/operations/{id}", get(follow).delete(cancel))
        .layer(middleware::from_fn_with_state(state, cors))
}

const REQUEST_PRIVATE_NETWORK: &str = "access-control-request-private-network";
const ALLOW_PRIVATE_NETWORK: &str = "access-control-allow-private-network";
const REQUEST_LOCAL_NETWORK: &str = "access-control-request-local-network";
const ALLOW_LOCAL_NETWORK: &str = "access-control-allow-local-network";

/// CORS for configured origins only. A request with a foreign `Origin`, or none, is refused here,
/// before any handler (and so any card or reader) runs. Every `/v1` caller is a configured site's
/// page, and browsers send `Origin` on its cross-origin calls; a request without one is a
/// page using a no-CORS request (an `<img>`, a `no-cors` fetch) to find out whether the helper is
/// installed or to make it poll the readers — or no browser at all, which has no business here.
/// (The helper's own pages never call `/v1`: the PIN page and the demo page have their routes.)
async fn cors(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let Some(origin) = req.headers().get(header::ORIGIN).cloned() else {
        tracing::warn!(path = %req.uri().path(), "refused a request without Origin");
        return error_response(ErrorCode::ForeignOrigin);
    };
    if let Err(refusal) = st.guard.check_origin(origin.to_str().ok()) {
        tracing::warn!(%refusal, "refused request");
        return error_response(ErrorCode::ForeignOrigin);
    }
    let h = req.headers();
    if req.method() == Method::OPTIONS && h.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
        return preflight(origin, h);
    }
    let mut resp = next.run(req).await;
    let out = resp.headers_mut();
    out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    out.append(header::VARY, HeaderValue::from_static("Origin"));
    resp
}

fn preflight(origin: HeaderValue, h: &HeaderMap) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let out = resp.headers_mut();
    out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    out.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, DELETE"));
    out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type"));
    out.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    out.insert(
        header::VARY,
        HeaderValue::from_static(
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, \
             Access-Control-Request-Private-Network, Access-Control-Request-Local-Network",
        ),
    );
    // Chrome asks before a public page may reach loopback: Private Network Access, and its
    // successor Local Network Access.
    let asks = |name| header_str(h, name).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if asks(REQUEST_PRIVATE_NETWORK) {
        out.insert(ALLOW_PRIVATE_NETWORK, HeaderValue::from_static("true"));
    }
    if asks(REQUEST_LOCAL_NETWORK) {
        out.insert(ALLOW_LOCAL_NETWORK, HeaderValue::from_static("true"));
    }
    resp
}

async fn status(State(st): State<AppState>) -> Json<HelperStatus> {
    let backend = st.ops.backend().clone();
    // Card calls block: keep them off the async workers.
    let readers =
        tokio::task::spawn_blocking(move || survey(backend.as_ref())).await.unwrap_or_default();
    Json(HelperStatus {
        service: "mahpki-helper".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        readers,
    })
}

/// The origin that the card will sign over: only ever the `Origin` header (already checked
/// against the configuration by [`cors`]).
fn request_origin(headers: &HeaderMap) -> Option<String> {
    header_str(headers, header::ORIGIN).map(str::to_owned)
}

fn decode_challenge(s: &str) -> Option<Vec<u8>> {
    let bytes =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()?;
    (bytes.len() == CHALLENGE_LEN).then_some(bytes)
}

async fn start(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<StartOperation>, JsonRejection>,
) -> Response {
    let Some(origin) = request_origin(&headers) else {
        return error_response(ErrorCode::ForeignOrigin);
    };
    let req = match body {
        Ok(Json(req)) => req,
        Err(rejection) => return rejection_response(&rejection),
    };
    let Some(challenge) = decode_challenge(&req.challenge) else {
        return error_response(ErrorCode::BadRequest);
    };
    let op = st.ops.start(origin, req.card, &challenge);
    // Host was checked to be our own loopback listener.
    let host = header_str(&headers, header::HOST).unwrap_or_default();
    let created = OperationCreated {
        id: op.id.clone(),
        pin_page: format!("http://{host}/pin/{}", op.id),
        status: op.status(),
    };
    (StatusCode::CREATED, Json(created)).into_response()
}

async fn follow(State(st): State<AppState>, headers: HeaderMap, OpId(id): OpId) -> Response {
    match own_operation(&st, &headers, &id) {
        Ok(op) => Json(op.status()).into_response(),
        Err(code) => error_response(code),
    }
}

async fn cancel(State(st): State<AppState>, headers: HeaderMap, OpId(id): OpId) -> Response {
    match own_operation(&st, &headers, &id) {
        Ok(op) => {
            op.cancel();
            Json(op.status()).into_response()
        }
        Err(code) => error_response(code),
    }
}

/// The operation `id` if the requesting origin created it; another origin's operation is as
/// unknown to it as a made-up id.
fn own_operation(
    st: &AppState,
    headers: &HeaderMap,
    id: &str,
) -> Result<Arc<Operation>, ErrorCode> {
    let origin = request_origin(headers).ok_or(ErrorCode::ForeignOrigin)?;
    st.ops.get_for_origin(id, &origin).ok_or(ErrorCode::NotFound)
}
