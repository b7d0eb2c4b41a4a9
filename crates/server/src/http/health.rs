//! `GET /api/health` (what the footer shows), `/api/health/live` and `/api/health/ready` (what
//! an orchestrator probes: restart when not live, route elsewhere when not ready).

use axum::{Json, extract::State, http::StatusCode};
use mahpki_protocol::{DatabaseStatus, Health, Liveness, Readiness};

use super::AppState;

const SERVICE: &str = "mahpki-server";

async fn database(state: &AppState) -> DatabaseStatus {
    let ok = match state.store.ping().await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "health: database did not answer");
            false
        }
    };
    DatabaseStatus { kind: state.store.kind().to_owned(), ok }
}

pub async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        service: SERVICE.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        database: database(&state).await,
    })
}

pub async fn live() -> Json<Liveness> {
    Json(Liveness { service: SERVICE.to_owned(), version: env!("CARGO_PKG_VERSION").to_owned() })
}

pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let database = database(&state).await;
    let stale_crls: Vec<String> =
        super::metrics::crl_states(&state).into_iter().filter(|c| c.stale).map(|c| c.ca).collect();
    let ready = database.ok && stale_crls.is_empty();
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let hsm_reachable = match state.second_certs.hsm.check().await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "health: the HSM did not answer");
            false
        }
    };
    (status, Json(Readiness { ready, database, stale_crls, hsm_reachable }))
}
