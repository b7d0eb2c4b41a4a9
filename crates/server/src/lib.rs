//! The mahpki platform server.
//!
//! `config` reads the operator's settings, `store` owns the database (the SQL), `service` holds
//! the rules, `http` builds the axum application (API, static app, security headers) whose
//! handlers parse, call a service and answer. `main.rs` only wires them together, so the
//! integration tests drive exactly the application that production runs.

pub mod config;
pub mod events;
pub mod hsm;
pub mod http;
pub mod import;
pub mod metrics;
pub mod oidc_keys;
pub mod pki;
pub(crate) mod random;
pub mod secret;
pub mod service;
pub mod standing;
pub mod store;

pub use config::Config;
