//! The mahpki platform server.
//!
//! `config` reads the operator's settings, `store` owns the database, `http` builds the axum
//! application (API, static app, security headers). `main.rs` only wires them together, so the
//! integration tests drive exactly the application that production runs.

pub mod config;
pub mod events;
pub mod http;
pub mod import;
pub mod pki;
mod random;
pub mod secret;
pub mod standing;
pub mod store;

pub use config::Config;
