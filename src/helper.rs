//! Typed client of the local helper (`http://127.0.0.1:<port>/v1/…`). The page never sees a PIN:
//! it starts an operation, follows its state and hands the card's answer to the server.

use gloo_net::http::{Request, Response};
use mahpki_protocol::{
    ErrorCode,
    helper::{
        CardType, HelperStatus, OperationCreated, OperationKind, OperationStatus, StartOperation,
    },
};
use serde::de::DeserializeOwned;

use crate::server;

/// The oldest helper whose API this app speaks (major, minor). An older one is treated like a
/// missing one, with the same "install the current helper" remedy.
pub const MIN_VERSION: (u64, u64) = (0, 1);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperClient {
    base: String,
}

/// A refused connection, a CORS refusal and a denied local-network permission all look the same
/// from the page: the helper cannot be reached. An answer the app cannot read is an older helper.
async fn answer<T: DeserializeOwned>(
    sent: Result<Response, gloo_net::Error>,
) -> Result<T, ErrorCode> {
    server::typed_answer(sent, ErrorCode::HelperUnreachable, ErrorCode::HelperOutdated).await
}

/// Whether `version` ("major.minor.patch") is at least [`MIN_VERSION`].
pub fn version_supported(version: &str) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u64>());
    match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => (major, minor) >= MIN_VERSION,
        _ => false,
    }
}

impl HelperClient {
    pub fn new(base: impl Into<String>) -> Self {
        Self { base: base.into().trim_end_matches('/').to_owned() }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET /v1/status`, refusing anything that is not a current mahpki helper.
    pub async fn status(&self) -> Result<HelperStatus, ErrorCode> {
        let status: HelperStatus =
            answer(Request::get(&self.url("/v1/status")).send().await).await?;
        if status.service != "mahpki-helper" {
            return Err(ErrorCode::HelperUnreachable);
        }
        if !version_supported(&status.version) {
            return Err(ErrorCode::HelperOutdated);
        }
        Ok(status)
    }

    /// `POST /v1/operations`: authenticate with `card` over the server's `challenge`.
    pub async fn start(
        &self,
        card: CardType,
        challenge: &str,
    ) -> Result<OperationCreated, ErrorCode> {
        let body = StartOperation {
            operation: OperationKind::Authenticate,
            card,
            challenge: challenge.to_owned(),
        };
        let req = Request::post(&self.url("/v1/operations"))
            .json(&body)
            .map_err(|_| ErrorCode::Internal)?;
        answer(req.send().await).await
    }

    /// `GET /v1/operations/{id}`.
    pub async fn follow(&self, id: &str) -> Result<OperationStatus, ErrorCode> {
        answer(Request::get(&self.url(&format!("/v1/operations/{id}"))).send().await).await
    }

    /// `DELETE /v1/operations/{id}`. Best effort: a helper that is gone has nothing to cancel.
    pub async fn cancel(&self, id: &str) {
        let _ = Request::delete(&self.url(&format!("/v1/operations/{id}"))).send().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_older_than_the_minimum_are_refused() {
        assert!(version_supported("0.1.0"));
        assert!(version_supported("0.2.5"));
        assert!(version_supported("1.0.0"));
        assert!(!version_supported("0.0.9"));
        assert!(!version_supported("banana"));
        assert!(!version_supported("1"));
    }
}
