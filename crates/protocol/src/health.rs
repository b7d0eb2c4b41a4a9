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

/// Answer of `GET /api/health/live`: the process runs and answers (a restart fixes nothing else).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Liveness {
    pub service: String,
    pub version: String,
}

/// Answer of `GET /api/health/ready` (200 when `ready`, 503 when not): whether this process can
/// serve holders now, and if not, what is missing, so a load balancer can route around it and an
/// operator sees why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readiness {
    pub ready: bool,
    pub database: DatabaseStatus,
    /// CAs (HPKI and JPKI anchors) whose CRL is out of date: their cards are refused until a
    /// current CRL is loaded.
    pub stale_crls: Vec<String>,
    /// Whether the HSM holding the second certificates' keys answers (remote signing, the CSC
    /// API). Reported, not required: sign-ins work without it.
    #[serde(default)]
    pub hsm_reachable: bool,
}
