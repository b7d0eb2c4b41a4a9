//! `/csc/v2/*`: the CSC API v2 handlers. They read the Bearer token and the JSON body and
//! answer; the rules are in `service::csc`.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use mahpki_protocol::{csc::CscErrorBody, oidc::SIGNING_SCOPE};
use serde::{Serialize, de::DeserializeOwned};

use super::AppState;
use crate::service::csc::{self, Caller, CscError, Method};

fn error(e: &CscError) -> Response {
    if matches!(e, CscError::Internal(_) | CscError::Hsm(_)) {
        tracing::error!(error = %e, "CSC API failed");
    }
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = CscErrorBody { error: e.error().into(), error_description: e.description() };
    let mut res = (status, Json(body)).into_response();
    // RFC 6750 §3: the challenge names the error (and the scope a token lacks).
    let challenge = match e {
        CscError::InvalidToken(_) | CscError::SessionOver => {
            Some(HeaderValue::from_static("Bearer error=\"invalid_token\""))
        }
        CscError::InsufficientScope => HeaderValue::from_str(&format!(
            "Bearer error=\"insufficient_scope\", scope=\"{SIGNING_SCOPE}\""
        ))
        .ok(),
        _ => None,
    };
    if let Some(c) = challenge {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, c);
    }
    res.extensions_mut().insert(e.code());
    res
}

fn answer<T: Serialize>(r: Result<T, CscError>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => error(&e),
    }
}

fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, CscError> {
    serde_json::from_slice(bytes)
        .map_err(|e| CscError::InvalidRequest(format!("the request body is not valid: {e}")))
}

async fn caller(state: &AppState, headers: &HeaderMap, method: Method) -> Result<Caller, CscError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    csc::caller(&state.ctx(), token, method).await
}

/// `info` needs no token (CSC §11.1).
pub async fn info(State(state): State<AppState>) -> Response {
    Json(csc::info(&state.ctx())).into_response()
}

pub async fn list(State(state): State<AppState>, headers: HeaderMap, bytes: Bytes) -> Response {
    answer(
        async {
            let caller = caller(&state, &headers, Method::CredentialsList).await?;
            let req = if bytes.is_empty() { Default::default() } else { body(&bytes)? };
            csc::list(&state.ctx(), &caller, &req).await
        }
        .await,
    )
}

pub async fn credential(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    answer(
        async {
            let caller = caller(&state, &headers, Method::CredentialsInfo).await?;
            csc::credential(&state.ctx(), &caller, &body(&bytes)?).await
        }
        .await,
    )
}

pub async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    answer(
        async {
            let caller = caller(&state, &headers, Method::CredentialsAuthorize).await?;
            csc::authorize(&state.ctx(), &caller, &body(&bytes)?).await
        }
        .await,
    )
}

pub async fn sign_hash(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    answer(
        async {
            let caller = caller(&state, &headers, Method::SignHash).await?;
            csc::sign_hash(&state.ctx(), &state.second_certs, &caller, &body(&bytes)?).await
        }
        .await,
    )
}

pub async fn sign_doc(State(state): State<AppState>, headers: HeaderMap, bytes: Bytes) -> Response {
    answer(
        async {
            let caller = caller(&state, &headers, Method::SignDoc).await?;
            csc::sign_doc(&state.ctx(), &state.second_certs, &caller, &body(&bytes)?).await
        }
        .await,
    )
}
