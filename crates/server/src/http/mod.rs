//! The axum application: `/api/*` JSON endpoints, the built web app, and the headers every answer
//! carries.

mod account;
mod api_error;
mod assets;
mod auth;
mod change;
mod client;
mod client_config;
pub mod clock;
mod confirm;
mod csc;
mod csrf;
mod enrol;
mod health;
mod jma;
pub mod metrics;
mod mynumber;
mod oidc;
mod passkey;
mod phone;
mod rate_limit;
mod security;
pub mod session;
pub mod signin;
mod watch;

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    handler::Handler,
    http::StatusCode,
    middleware,
    routing::{MethodFilter, get, on, post},
};
use mahpki_protocol::endpoints::{self as ep, Endpoint, Method};
use tower_http::{limit::RequestBodyLimitLayer, timeout::TimeoutLayer, trace::TraceLayer};

pub use crate::pki::cert_error_code;
pub use api_error::{ApiError, ApiJson, error_response};
pub use assets::{AssetError, Assets};
pub use clock::Clock;
pub use rate_limit::RateLimiter;

use crate::{
    Config,
    events::{Events, Streams},
    metrics::Metrics,
    pki::{SharedTrust, TrustStore},
    secret::ServerSecret,
    store::Store,
};

/// Largest request body the API accepts: certificates and signatures are a few KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    /// Swapped whole when the CRLs are reloaded (timer, SIGHUP): see [`AppState::reload_crls`].
    pub hpki_trust: SharedTrust,
    pub jpki_trust: SharedTrust,
    pub clock: Clock,
    pub limiter: RateLimiter,
    /// The WebAuthn relying party (`public_origin`); `None` if the origin has no domain name.
    pub webauthn: Option<Arc<webauthn_rs::Webauthn>>,
    /// Enrolment changes, to the PCs watching them.
    pub events: Events,
    /// The server secret (`secret_file`), which keys the JMA path's hashes. `main` sets it once
    /// the store adopted it; while it is unset the JMA path answers `internal`.
    pub secret: Option<Arc<ServerSecret>>,
    /// The PCs' open live-event streams, capped.
    pub streams: Streams,
    /// What `/metrics` reports; also told of every audit row the store writes.
    pub metrics: Arc<Metrics>,
    /// The OpenID Provider's signing keys. `main` loads them (creating the file on first
    /// start); while unset the token endpoint and the JWKS answer `server_error`.
    pub oidc_keys: Option<crate::oidc_keys::SharedKeys>,
    /// The second certificates and the HSM pool holding their keys (`[hsm]`). The pool
    /// connects on first use, so a server whose HSM is down starts and answers 503 for signing.
    pub second_certs: crate::service::second_cert::SecondCerts,
}

impl AppState {
    pub fn new(
        config: Config,
        store: Store,
        mut hpki_trust: TrustStore,
        mut jpki_trust: TrustStore,
    ) -> Self {
        hpki_trust.crl_max_age_secs = config.crl_max_age_secs;
        jpki_trust.crl_max_age_secs = config.crl_max_age_secs;
        let metrics = Arc::new(Metrics::new());
        store.observe_audit({
            let metrics = Arc::clone(&metrics);
            move |e| metrics.audited(e.action.as_str(), &e.outcome)
        });
        let second_certs = crate::service::second_cert::SecondCerts::new(
            store.clone(),
            crate::hsm::Hsm::new(config.hsm.clone()),
        );
        Self {
            second_certs,
            metrics,
            limiter: RateLimiter::new(config.rate_limit.burst, config.rate_limit.per_minute),
            streams: Streams::new(config.streams.per_session, config.streams.per_server),
            webauthn: crate::service::phone_code::relying_party(&config.public_origin),
            config: Arc::new(config),
            store,
            hpki_trust: SharedTrust::new(hpki_trust),
            jpki_trust: SharedTrust::new(jpki_trust),
            clock: Clock::system(),
            events: Events::local(),
            secret: None,
            oidc_keys: None,
        }
    }
}

impl AppState {
    /// What the services act on, at this request's time.
    pub fn ctx(&self) -> crate::service::Ctx<'_> {
        crate::service::Ctx {
            store: &self.store,
            config: &self.config,
            webauthn: self.webauthn.as_deref(),
            events: &self.events,
            secret: self.secret.as_deref(),
            hpki_trust: self.hpki_trust.current(),
            now_ms: self.clock.now_ms(),
        }
    }

    /// Reads every CRL file again and swaps the new trust stores in; requests under way keep
    /// the store they started with. Logs each CA whose list is now out of date.
    pub fn reload_crls(&self) {
        self.hpki_trust.reload();
        self.jpki_trust.reload();
        let now = self.clock.now_secs();
        self.hpki_trust.current().warn_stale(now);
        self.jpki_trust.current().warn_stale(now);
        tracing::info!("CRLs reloaded");
    }
}

/// Routes an endpoint of protocol's table at its path and method, so neither is written here.
trait At {
    fn at<E: Endpoint, H: Handler<T, AppState>, T: 'static>(self, endpoint: E, handler: H) -> Self;
}

impl At for Router<AppState> {
    fn at<E: Endpoint, H: Handler<T, AppState>, T: 'static>(self, _: E, handler: H) -> Self {
        let method = match E::METHOD {
            Method::Get => MethodFilter::GET,
            Method::Post => MethodFilter::POST,
            Method::Delete => MethodFilter::DELETE,
        };
        self.route(E::PATH, on(method, handler))
    }
}

/// Builds the whole application. `assets` is `None` when no web app is configured.
pub fn router(state: AppState, assets: Option<Assets>) -> Router {
    let csp = security::ContentSecurityPolicy::new(
        &state.config.helper_origins,
        assets.as_ref().map(Assets::inline_script_hashes).unwrap_or_default(),
    );
    let card_endpoints = Router::new()
        .at(ep::HpkiChallenge, auth::hpki_challenge)
        .at(ep::HpkiFinish, auth::hpki_finish)
        .at(ep::MyNumberChallenge, mynumber::mynumber_challenge)
        .at(ep::MyNumberFinish, mynumber::mynumber_finish)
        .at(ep::SignInHpki, signin::hpki)
        .at(ep::SignInMyNumberChallenge, signin::mynumber_challenge)
        .at(ep::SignInMyNumber, signin::mynumber)
        .at(ep::JmaLogin, jma::login)
        .at(ep::EnrolmentIssue, enrol::issue)
        .at(ep::EnrolmentCancel, enrol::cancel)
        .at(ep::EnrolOpen, enrol::open)
        .at(ep::EnrolBegin, enrol::begin)
        .at(ep::EnrolFinish, enrol::finish)
        // The old spelling, for a page loaded before the rename (CA links stay valid for months):
        // the server's alone, no client calls it.
        .route("/enroll/open", post(enrol::open))
        .route("/enroll/begin", post(enrol::begin))
        .route("/enroll/finish", post(enrol::finish))
        .at(ep::ChangeIssue, change::issue)
        .at(ep::ChangeCancel, change::cancel)
        .at(ep::ChangeOpen, change::open)
        .at(ep::ChangeBeginAssertion, change::begin)
        .at(ep::ChangeFinishAssertion, change::finish)
        .at(ep::Confirm, confirm::enter)
        .at(ep::PasskeyBegin, passkey::begin)
        .at(ep::PasskeyFinish, passkey::finish)
        .at(ep::SignInCodeIssue, passkey::issue)
        .at(ep::SignInCodeCancel, passkey::cancel)
        .at(ep::SignInCodeOpen, passkey::open)
        .at(ep::SignInCodeBegin, passkey::phone_begin)
        .at(ep::SignInCodeFinish, passkey::phone_finish)
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit::limit));
    let api = Router::new()
        .at(ep::Health, health::health)
        .at(ep::HealthLive, health::live)
        .at(ep::HealthReady, health::ready)
        .at(ep::Config, client_config::client_config)
        .at(ep::Session, auth::current_session)
        .at(ep::Logout, auth::logout)
        .at(ep::SignIn, signin::get)
        .at(ep::SignInEnd, signin::end)
        .at(ep::AccountShow, account::get)
        .at(ep::AccountRevokePhone, account::revoke_phone)
        .at(ep::AccountRevokeMyNumber, account::revoke_mynumber)
        .at(ep::AccountEndAll, account::end_all)
        .at(ep::AccountEndSession, account::end_session)
        .at(ep::EnrolmentEvents, enrol::events)
        .at(ep::SmartphoneHolder, enrol::holder)
        .at(ep::ChangeEvents, change::events)
        .at(ep::ConfirmationEvents, confirm::phone_events)
        .at(ep::ConsentPromptGet, oidc::consent_prompt)
        .at(ep::ConsentAnswerPost, oidc::consent_answer)
        .at(ep::SignInCodeEvents, passkey::events)
        .merge(card_endpoints)
        .fallback(|| async { ApiError::from(mahpki_protocol::ErrorCode::NotFound) })
        .method_not_allowed_fallback(|| async {
            ApiError::from(mahpki_protocol::ErrorCode::MethodNotAllowed)
        })
        .route_layer(middleware::from_fn(metrics::mark_route))
        .layer(middleware::from_fn_with_state(state.clone(), csrf::guard))
        .layer(middleware::map_response(security::no_store));
    // The OpenID Provider's endpoints for the relying services: outside `/api`, so outside its
    // CSRF guard on purpose (see `oidc`); the consent page's answer is under `/api`.
    use mahpki_protocol::oidc as p;
    let provider = Router::new()
        .route(p::DISCOVERY_PATH, get(oidc::discovery))
        .route(p::JWKS_PATH, get(oidc::jwks))
        .route(p::AUTHORIZE_PATH, get(oidc::authorize))
        .route(p::RESUME_PATH, get(oidc::resume))
        .route(p::TOKEN_PATH, post(oidc::token))
        .route(p::USERINFO_PATH, get(oidc::userinfo).post(oidc::userinfo))
        .route(p::REVOKE_PATH, post(oidc::revoke))
        .route_layer(middleware::from_fn(metrics::mark_route));
    // The CSC API for signing clients: Bearer tokens, outside `/api`'s CSRF guard like `/oidc`.
    use mahpki_protocol::csc as c;
    let csc = Router::new()
        .route(c::INFO_PATH, post(csc::info).get(csc::info))
        .route(c::CREDENTIALS_LIST_PATH, post(csc::list))
        .route(c::CREDENTIALS_INFO_PATH, post(csc::credential))
        .route(c::CREDENTIALS_AUTHORIZE_PATH, post(csc::authorize))
        .route(c::SIGN_HASH_PATH, post(csc::sign_hash))
        .route(c::SIGN_DOC_PATH, post(csc::sign_doc))
        .route_layer(middleware::from_fn(metrics::mark_route))
        .layer(middleware::map_response(security::no_store));
    let app = Router::new().nest(mahpki_protocol::API_PREFIX, api).merge(provider).merge(csc);
    let app = match assets {
        Some(assets) => app.fallback_service(assets.into_service()),
        None => app,
    };
    // The body limit sits inside the security headers, and its plain-text 413 is typed on the way
    // out, so an oversized request gets the same kind of answer as every other refusal.
    let headers = security::SecurityHeaders { csp, hsts: state.config.is_https() };
    app.layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(middleware::map_response(api_error::typed_payload_too_large))
        .layer(middleware::map_response_with_state(Arc::new(headers), security::security_headers))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        .layer(TraceLayer::new_for_http())
        .layer(middleware::from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
}
