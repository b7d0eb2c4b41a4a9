//! The axum application: `/api/*` JSON endpoints, the built web app, and the headers every answer
//! carries.

mod api_error;
mod assets;
mod auth;
mod challenge;
mod change;
mod client;
mod client_config;
pub mod clock;
mod confirm;
mod csrf;
mod enrol;
mod health;
mod jma;
mod mynumber;
mod random;
mod rate_limit;
mod security;
pub mod session;

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    http::StatusCode,
    middleware,
    routing::{delete, get, post},
};
use tower_http::{limit::RequestBodyLimitLayer, timeout::TimeoutLayer, trace::TraceLayer};

pub use api_error::{ApiError, ApiJson};
pub use assets::{AssetError, Assets};
pub use clock::Clock;
pub use enrol::{LinkError, issue_link};
pub use rate_limit::RateLimiter;

use crate::{Config, events::Events, pki::TrustStore, store::Store};

/// Largest request body the API accepts: certificates and signatures are a few KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub hpki_trust: Arc<TrustStore>,
    pub jpki_trust: Arc<TrustStore>,
    pub clock: Clock,
    pub limiter: RateLimiter,
    /// The WebAuthn relying party (`public_origin`); `None` if the origin has no domain name.
    pub webauthn: Option<Arc<webauthn_rs::Webauthn>>,
    /// Enrolment changes, to the PCs watching them.
    pub events: Events,
}

impl AppState {
    pub fn new(
        config: Config,
        store: Store,
        hpki_trust: TrustStore,
        jpki_trust: TrustStore,
    ) -> Self {
        Self {
            limiter: RateLimiter::new(config.rate_limit.burst, config.rate_limit.per_minute),
            webauthn: enrol::relying_party(&config.public_origin),
            config: Arc::new(config),
            store,
            hpki_trust: Arc::new(hpki_trust),
            jpki_trust: Arc::new(jpki_trust),
            clock: Clock::system(),
            events: Events::local(),
        }
    }
}

/// Builds the whole application. `assets` is `None` when no web app is configured.
pub fn router(state: AppState, assets: Option<Assets>) -> Router {
    let csp = security::ContentSecurityPolicy::new(
        &state.config.helper_origins,
        assets.as_ref().map(Assets::inline_script_hashes).unwrap_or_default(),
    );
    let card_endpoints = Router::new()
        .route("/hpki/challenge", post(auth::hpki_challenge))
        .route("/hpki/finish", post(auth::hpki_finish))
        .route("/mynumber/challenge", post(mynumber::mynumber_challenge))
        .route("/mynumber/finish", post(mynumber::mynumber_finish))
        .route("/jma/login", post(jma::login))
        .route("/smartphone/enrolments", post(enrol::issue))
        .route("/smartphone/enrolments/current", delete(enrol::cancel))
        .route("/enroll/open", post(enrol::open))
        .route("/enroll/begin", post(enrol::begin))
        .route("/enroll/finish", post(enrol::finish))
        .route("/smartphone/change", post(change::issue))
        .route("/smartphone/change/current", delete(change::cancel))
        .route("/change/open", post(change::open))
        .route("/change/begin", post(change::begin))
        .route("/change/finish", post(change::finish))
        .route("/smartphone/confirm", post(confirm::enter))
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit::limit));
    let api = Router::new()
        .route("/health", get(health::health))
        .route("/config", get(client_config::client_config))
        .route("/session", get(auth::current_session))
        .route("/session/logout", post(auth::logout))
        .route("/smartphone/enrolments/current/events", get(enrol::events))
        .route("/smartphone/holder", get(enrol::holder))
        .route("/smartphone/change/current/events", get(change::events))
        .route("/phone/confirmation/events", get(confirm::phone_events))
        .merge(card_endpoints)
        .fallback(|| async { ApiError::from(mahpki_protocol::ErrorCode::NotFound) })
        .method_not_allowed_fallback(|| async {
            ApiError::from(mahpki_protocol::ErrorCode::MethodNotAllowed)
        })
        .layer(middleware::from_fn_with_state(state.clone(), csrf::guard))
        .layer(middleware::map_response(security::no_store));
    let app = Router::new().nest(mahpki_protocol::API_PREFIX, api);
    let app = match assets {
        Some(assets) => app.fallback_service(assets.into_service()),
        None => app,
    };
    app.layer(middleware::map_response_with_state(Arc::new(csp), security::security_headers))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
