//! `GET /api/config`: tells the page where its local helper is (and where to get it), so a deployment that moves the
//! helper's port changes one setting, not the app.

use axum::{Json, extract::State};
use mahpki_protocol::{api::ClientConfig, helper::DEFAULT_PORT};

use super::AppState;

pub async fn client_config(State(state): State<AppState>) -> Json<ClientConfig> {
    let helper_url = state
        .config
        .helper_origins
        .first()
        .cloned()
        .unwrap_or_else(|| format!("http://127.0.0.1:{DEFAULT_PORT}"));
    let helper_download_url = state.config.helper_download_url.clone();
    Json(ClientConfig { helper_url, helper_download_url })
}
