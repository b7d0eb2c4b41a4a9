//! Typed client of the platform server's API. Every failure becomes an [`ErrorCode`] from the one
//! catalogue, so pages render it the same way in either language.

use mahpki_protocol::{ErrorBody, ErrorCode, Health};
use serde::de::DeserializeOwned;

async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, ErrorCode> {
    let res = gloo_net::http::Request::get(path)
        .send()
        .await
        .map_err(|_| ErrorCode::ServerUnreachable)?;
    if res.ok() {
        return res.json::<T>().await.map_err(|_| ErrorCode::Internal);
    }
    // A typed error from our server, or something in between (proxy, no server at all).
    match res.json::<ErrorBody>().await {
        Ok(body) => Err(body.error.code),
        Err(_) => Err(ErrorCode::ServerUnreachable),
    }
}

/// `GET /api/health`.
pub async fn health() -> Result<Health, ErrorCode> {
    get_json("/api/health").await
}
