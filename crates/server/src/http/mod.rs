//! The axum application: `/api/*` JSON endpoints, the built web app, and the headers every answer
//! carries.

mod api_error;
mod assets;
mod health;
mod security;

use std::{sync::Arc, time::Duration};

use axum::{Router, http::StatusCode, routing::get};
use tower_http::{limit::RequestBodyLimitLayer, timeout::TimeoutLayer, trace::TraceLayer};

pub use api_error::ApiError;
pub use assets::{AssetError, Assets};

use crate::{Config, store::Store};

/// Largest request body the API accepts: certificates and signatures are a few KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
}

/// Builds the whole application. `assets` is `None` when no web app is configured.
pub fn router(state: AppState, assets: Option<Assets>) -> Router {
    let csp = security::ContentSecurityPolicy::new(
        &state.config.helper_origins,
        assets.as_ref().map(Assets::inline_script_hashes).unwrap_or_default(),
    );
    let api = Router::new()
        .route("/health", get(health::health))
        .fallback(|| async { ApiError::from(mahpki_protocol::ErrorCode::NotFound) })
        .layer(axum::middleware::map_response(security::no_store));
    let app = Router::new().nest(mahpki_protocol::API_PREFIX, api);
    let app = match assets {
        Some(assets) => app.fallback_service(assets.into_service()),
        None => app,
    };
    app.layer(axum::middleware::map_response_with_state(Arc::new(csp), security::security_headers))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
