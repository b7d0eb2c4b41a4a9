//! How the API fails: always an [`ErrorBody`] with a catalogued code and its HTTP status, never a
//! bare 500 or an internal message.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use mahpki_protocol::{ErrorBody, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiError(pub ErrorCode);

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        Self(code)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(ErrorBody::from(self.0))).into_response()
    }
}
