//! The helper's localhost HTTP API. Every request passes the `Host` check (DNS rebinding) first;
//! `/v1/*` then passes the CORS gate (configured origins only, preflights including Chrome's
//! private/local network access); the PIN page under `/pin/*` is same-origin only.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, FromRequestParts, Path, Request, State, rejection::JsonRejection},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use base64::Engine as _;
use mahpki_protocol::{
    error::{ErrorBody, ErrorCode},
    helper::{CHALLENGE_LEN, HelperStatus, OperationCreated, StartOperation},
};

use crate::{
    card::backend::survey,
    http::guard::Guard,
    http::pin_page,
    operation::{Operation, Operations},
};

/// Largest request body: the biggest legitimate one (start, PIN) is well under 200 bytes.
pub const BODY_LIMIT: usize = 4 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub guard: Arc<Guard>,
    pub ops: Arc<Operations>,
}

pub fn router(guard: Guard, ops: Arc<Operations>) -> Router {
    router_with(Arc::new(guard), ops, Router::new())
}

/// The router plus `extra` routes (the demo page), all behind the same Host check and body
/// limit.
pub fn router_with(guard: Arc<Guard>, ops: Arc<Operations>, extra: Router) -> Router {
    let state = AppState { guard, ops };
    let v1 = Router::new()
        .route("/v1/status", get(status))
        .route("/v1/operations", axum::routing::post(start))
        .route("/v1/operations/{id}", get(follow).delete(cancel))
        .layer(middleware::from_fn_with_state(state.clone(), cors));
    Router::new()
        .merge(v1)
        .merge(pin_page::routes())
        .with_state(state.clone())
        .merge(extra)
        // Any other path (e.g. `/v1/operations/` with no id) gets a typed answer too.
        .fallback(|| async { error_response(ErrorCode::NotFound) })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state, check_host))
}

/// A typed error answer: the HTTP status and `{"error":{"code","message"}}`.
pub fn error_response(code: ErrorCode) -> Response {
    let status =
        StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(ErrorBody::from(code))).into_response()
}

/// JSON body problems, typed: too large, or malformed.
pub fn rejection_response(rejection: &JsonRejection) -> Response {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        error_response(ErrorCode::PayloadTooLarge)
    } else {
        error_response(ErrorCode::BadRequest)
    }
}

/// An operation id from the path. One that is not even UTF-8 (`/pin/%AA`) names no operation:
/// it gets the same typed `not_found` as an unknown id, not axum's plain-text rejection.
pub struct OpId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for OpId {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(Self(id)),
            Err(_) => Err(pin_page::harden(error_response(ErrorCode::NotFound))),
        }
    }
}

pub fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
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
