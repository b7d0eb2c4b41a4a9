//! `GET /api/health`.

use axum::{Json, extract::State};
use mahpki_protocol::{DatabaseStatus, Health};

use super::AppState;

pub async fn health(State(state): State<AppState>) -> Json<Health> {
    let ok = match state.store.ping().await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "health: database did not answer");
            false
        }
    };
    Json(Health {
        service: "mahpki-server".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        database: DatabaseStatus { kind: state.store.kind().to_owned(), ok },
    })
}
