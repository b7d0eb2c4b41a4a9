//! The JMA path over HTTP: the 医籍登録番号 and カードID login (rules in `service::jma`), answered
//! with the holder and the new session's cookie, or with the refusal's tries left and pause
//! (423 and `Retry-After` while the number backs off).

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use mahpki_protocol::{ErrorBody, ErrorCode, enrol::JmaLogin};

use super::{ApiError, ApiJson, AppState, client::ClientAddr, error_response, session};
use crate::service::jma::{self, JmaRefusal};

/// Seconds from `now_ms` to `until_ms`, rounded up: trying again after them is never too early.
fn wait_secs(until_ms: i64, now_ms: i64) -> u64 {
    u64::try_from((until_ms - now_ms).max(0)).unwrap_or(0).div_ceil(1000)
}

impl IntoResponse for JmaRefusal {
    fn into_response(self) -> Response {
        match self {
            Self::Service(e) => ApiError::from(e).into_response(),
            Self::Wrong { tries_left, backoff_until_ms, now_ms } => {
                let mut body = ErrorBody::from(ErrorCode::JmaLoginFailed);
                body.error.tries_left = Some(tries_left);
                body.error.retry_after_secs = backoff_until_ms.map(|u| wait_secs(u, now_ms));
                error_response(body)
            }
            Self::BackingOff { until_ms, now_ms } => {
                let secs = wait_secs(until_ms, now_ms);
                let mut body = ErrorBody::from(ErrorCode::JmaLocked);
                body.error.retry_after_secs = Some(secs);
                let mut res = error_response(body);
                res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
                res
            }
        }
    }
}

/// `POST /api/jma/login`.
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<JmaLogin>,
) -> Result<Response, JmaRefusal> {
    let cookie = session::cookie_hash(&state, &headers);
    let (holder, id) = jma::login(&state.ctx(), cookie.as_deref(), &req, client.as_deref()).await?;
    let mut res = Json(holder).into_response();
    res.headers_mut().insert(header::SET_COOKIE, session::set_cookie(state.config.is_https(), &id));
    Ok(res)
}
