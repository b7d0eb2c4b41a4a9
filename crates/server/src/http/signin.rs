//! TEMPORARY stand-in (see service/signin.rs).

use axum::http::HeaderMap;

use super::{ApiError, AppState};
use crate::service::signin::SigningSession;

pub async fn current(
    _state: &AppState,
    _headers: &HeaderMap,
) -> Result<Option<SigningSession>, ApiError> {
    Ok(None)
}
