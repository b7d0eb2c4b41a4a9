//! How the API fails: always an [`ErrorBody`] with a catalogued code and its HTTP status, never a
//! bare 500 or an internal message.

use axum::{
    Json,
    extract::{FromRequest, Request, rejection::JsonRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use mahpki_protocol::{ErrorBody, ErrorCode};
use serde::de::DeserializeOwned;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiError(pub ErrorCode);

impl ApiError {
    /// An unexpected failure: logged in full here, answered as a bare `internal` code.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self(ErrorCode::Internal)
    }
}

/// A service's refusal is answered with its code; anything else is logged and answered as a
/// bare `internal`.
impl From<crate::service::ServiceError> for ApiError {
    fn from(e: crate::service::ServiceError) -> Self {
        match e.code() {
            ErrorCode::Internal => Self::internal(e),
            code => Self(code),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::internal(e)
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        Self(code)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_response(ErrorBody::from(self.0))
    }
}

/// Every refusal's answer: `body` at its code's HTTP status, marked with the code for the
/// metrics layer (which counts refusals by code). A refusal with details (tries left, a pause)
/// fills them into the body first.
pub fn error_response(body: ErrorBody) -> Response {
    let code = body.error.code;
    let status =
        StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = (status, Json(body)).into_response();
    res.extensions_mut().insert(code);
    res
}

/// tower-http's body limit refuses an oversized request with a plain-text 413 before any handler
/// runs; the API answers every refusal as an [`ErrorBody`], so that one is typed here.
pub async fn typed_payload_too_large(res: Response) -> Response {
    let json = res
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE && !json {
        ApiError(ErrorCode::PayloadTooLarge).into_response()
    } else {
        res
    }
}

/// `Json<T>` whose every rejection (wrong content type, malformed JSON, unknown fields, too
/// large) is a catalogued error instead of axum's plain-text answer.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(JsonRejection::BytesRejection(_)) => Err(ApiError(ErrorCode::PayloadTooLarge)),
            Err(_) => Err(ApiError(ErrorCode::BadRequest)),
        }
    }
}
