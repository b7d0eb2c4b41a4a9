//! `GET /api/health`: what the footer shows and what operators probe.

use serde::{Deserialize, Serialize};

/// Answer of `GET /api/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Always `"mahpki-server"`, so a probe can tell it reached the right service.
    pub service: String,
    /// The server's crate version.
    pub version: String,
    pub database: DatabaseStatus,
}

/// Which store the server runs on and whether it answered just now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseStatus {
    /// `"sqlite"` or `"postgres"`.
    pub kind: String,
    pub ok: bool,
}
