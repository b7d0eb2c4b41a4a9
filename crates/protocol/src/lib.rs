//! The wire format of mahpki: every type that crosses a process boundary (browser ↔ server,
//! browser ↔ local helper, CLI ↔ server) lives here and only here, so the app, the server and the
//! helper cannot drift apart. Compiles for wasm32 and native.

pub mod account;
pub mod apdu;
pub mod api;
pub mod audit;
#[cfg(feature = "card-profile")]
pub mod card_profile;
pub mod csc;
pub mod endpoints;
pub mod enrol;
pub mod error;
pub mod health;
pub mod helper;
pub mod hpki_id;
pub mod import;
pub mod oidc;
pub mod pages;
pub mod passkey;

pub use error::{ErrorBody, ErrorCode};
pub use health::{DatabaseStatus, Health, Liveness, Readiness};
pub use hpki_id::{HpkiId, HpkiIdError};

/// Prefix of every server JSON endpoint.
pub const API_PREFIX: &str = "/api";
