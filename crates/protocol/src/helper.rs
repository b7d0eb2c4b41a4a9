//! The local helper's API (`http://127.0.0.1:<port>/v1/…`), as the page sees it.

use serde::{Deserialize, Serialize};

/// Default port the helper listens on, on 127.0.0.1.
pub const DEFAULT_PORT: u16 = 24365;

/// `GET /v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelperStatus {
    /// Always `"mahpki-helper"`.
    pub service: String,
    pub version: String,
}
