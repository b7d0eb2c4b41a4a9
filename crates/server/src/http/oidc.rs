//! The OpenID Provider's endpoints (issue 12). Discovery, JWKS, token, userinfo and revocation
//! are called by the relying services' servers, cross-origin and without cookies, so they sit
//! outside `/api` and its CSRF guard on purpose: each authenticates its caller itself (client
//! authentication, a bearer token). The authorization endpoint is a top-level navigation; it
//! changes nothing but a pending request, and hands a code only to a registered redirect URI.
//! The consent page's answer is an `/api` call, under the CSRF guard.

use axum::{
    Json,
    extract::{Form, Query, State, rejection::FormRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use mahpki_protocol::{
    ErrorCode,
    oidc::{
        AUTHORIZE_PATH, CONSENT_PAGE, ConsentAnswer, ConsentOutcome, ConsentPrompt, JWKS_PATH,
        OAuthError, OAuthErrorBody, REVOKE_PATH, TOKEN_PATH, USERINFO_PATH,
    },
};
use serde::Deserialize;

use super::{ApiError, ApiJson, AppState};
use crate::service::{
    oidc::{self, AuthorizeError, AuthorizeParams, Next, TokenForm},
    oidc_client::{self, ClientCredentials, JWT_BEARER, OAuthFailure, OAuthRefusal},
    signin::SigningSession,
};

/// `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §3).
pub async fn discovery(State(state): State<AppState>) -> Response {
    let iss = state.config.issuer();
    let acrs: Vec<&str> = mahpki_protocol::api::SignInFactor::ALL
        .into_iter()
        .map(crate::service::signin::acr)
        .collect();
    let algs: Vec<&str> = oidc_client::ASSERTION_ALGORITHMS.iter().map(alg_name).collect();
    let doc = serde_json::json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}{AUTHORIZE_PATH}"),
        "token_endpoint": format!("{iss}{TOKEN_PATH}"),
        "userinfo_endpoint": format!("{iss}{USERINFO_PATH}"),
        "jwks_uri": format!("{iss}{JWKS_PATH}"),
        "revocation_endpoint": format!("{iss}{REVOKE_PATH}"),
        "scopes_supported": oidc::SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": algs,
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "acr_values_supported": acrs,
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid",
            "name", "name#ja-Kana-JP", "name#ja-Latn-JP", "hpki_qualification", "hpki_ca",
        ],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
        "ui_locales_supported": ["ja", "en"],
    });
    cacheable(Json(doc).into_response())
}

fn alg_name(a: &jsonwebtoken::Algorithm) -> &'static str {
    match a {
        jsonwebtoken::Algorithm::RS256 => "RS256",
        jsonwebtoken::Algorithm::PS256 => "PS256",
        jsonwebtoken::Algorithm::ES256 => "ES256",
        _ => "none",
    }
}

/// Discovery and the JWKS may be cached a few minutes: a rotated-in key is published
/// `key_publish_ahead_secs` (10 minutes by default) before it signs.
fn cacheable(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    res
}

/// `GET /oidc/jwks`.
pub async fn jwks(State(state): State<AppState>) -> Response {
    let Some(keys) = &state.oidc_keys else {
        return oauth_error(&OAuthFailure::Internal("no OIDC signing keys loaded".into()), false);
    };
    cacheable(Json(keys.current().jwks(state.clock.now_ms())).into_response())
}

/// `GET /oidc/authorize`.
pub async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<AuthorizeParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(params)) = query else {
        return error_page(ErrorCode::OidcRequestInvalid);
    };
    let session = match signing_session(&state, &headers).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let next = oidc::authorize(&state.ctx(), &params, session).await;
    navigate(next)
}

#[derive(Deserialize)]
pub struct RequestRef {
    request: String,
}

/// `GET /oidc/authorize/resume?request=…`: where the sign-in page sends the browser back.
pub async fn resume(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<RequestRef>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(r)) = query else {
        return error_page(ErrorCode::OidcRequestUnknown);
    };
    let session = match signing_session(&state, &headers).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    navigate(oidc::resume(&state.ctx(), &r.request, session).await)
}

async fn signing_session(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<SigningSession>, Response> {
    super::signin::current(state, headers).await.map_err(|_| error_page(ErrorCode::Internal))
}

fn navigate(next: Result<Next, AuthorizeError>) -> Response {
    let to = match next {
        Ok(Next::SignIn { request }) => oidc::signin_url(&request),
        Ok(Next::Consent { request }) => format!("{CONSENT_PAGE}?request={request}"),
        Ok(Next::Client { redirect_to }) => redirect_to,
        Err(AuthorizeError::Page(code)) => return error_page(code),
        Err(AuthorizeError::Internal(e)) => {
            tracing::error!(error = %e, "authorization request failed");
            return error_page(ErrorCode::Internal);
        }
    };
    match HeaderValue::from_str(&to) {
        Ok(location) => {
            let mut res = StatusCode::SEE_OTHER.into_response();
            res.headers_mut().insert(header::LOCATION, location);
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(_) => error_page(ErrorCode::Internal),
    }
}

/// The page an authorization request that cannot go back to its client ends on: the code's
/// message and remedy in both languages (static HTML: the app is not involved).
fn error_page(code: ErrorCode) -> Response {
    let (m, r) = (code.message(), code.remedy());
    let html = format!(
        "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>ログインできません / Cannot sign in</title></head><body><main>\
         <h1>ログインできません</h1><p id=\"message\">{}</p><p>{}</p>\
         <h2 lang=\"en\">Cannot sign in</h2><p lang=\"en\">{}</p><p lang=\"en\">{}</p>\
         <p><small>{}</small></p></main></body></html>",
        m.ja,
        r.ja,
        m.en,
        r.en,
        code.wire()
    );
    let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = (status, Html(html)).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.extensions_mut().insert(code);
    res
}

/// An OAuth error answer (RFC 6749 §5.2, RFC 6750 §3 for `invalid_token`).
fn oauth_error(failure: &OAuthFailure, basic_used: bool) -> Response {
    let (error, description) = match failure {
        OAuthFailure::Refused(OAuthRefusal { error, description }) => (*error, *description),
        OAuthFailure::Internal(e) => {
            tracing::error!(error = %e, "OAuth endpoint failed");
            (OAuthError::ServerError, "internal error")
        }
    };
    let status = match error {
        OAuthError::InvalidClient | OAuthError::InvalidToken => StatusCode::UNAUTHORIZED,
        OAuthError::InsufficientScope => StatusCode::FORBIDDEN,
        OAuthError::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = OAuthErrorBody { error, error_description: Some(description.to_owned()) };
    let mut res = (status, Json(body)).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if error == OAuthError::InvalidToken {
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
    } else if error == OAuthError::InvalidClient && basic_used {
        h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"mahpki\""));
    }
    res.extensions_mut().insert(error.code());
    res
}

const fn refused(error: OAuthError, description: &'static str) -> OAuthFailure {
    OAuthFailure::Refused(OAuthRefusal::new(error, description))
}

/// The client's credentials: `Authorization: Basic` or a `client_assertion`, not both.
fn credentials(
    headers: &HeaderMap,
    form_client_id: Option<&str>,
    assertion_type: Option<&str>,
    assertion: Option<&str>,
) -> Result<ClientCredentials, OAuthFailure> {
    let basic = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(v) => Some(parse_basic(v).ok_or(refused(
            OAuthError::InvalidClient,
            "the Authorization header is not client_secret_basic",
        ))?),
    };
    match (basic, assertion) {
        (Some(_), Some(_)) => {
            Err(refused(OAuthError::InvalidRequest, "more than one client authentication"))
        }
        (Some((client_id, secret)), None) => {
            if form_client_id.is_some_and(|c| c != client_id) {
                return Err(refused(OAuthError::InvalidClient, "client_id differs"));
            }
            Ok(ClientCredentials::Basic { client_id, secret })
        }
        (None, Some(a)) => {
            if assertion_type != Some(JWT_BEARER) {
                return Err(refused(
                    OAuthError::InvalidClient,
                    "unsupported client_assertion_type",
                ));
            }
            let client_id = form_client_id.map(str::to_owned);
            Ok(ClientCredentials::Assertion { assertion: a.to_owned(), client_id })
        }
        (None, None) => Ok(ClientCredentials::None),
    }
}

/// RFC 6749 §2.3.1: `base64(urlencode(id) ":" urlencode(secret))`.
fn parse_basic(v: &HeaderValue) -> Option<(String, String)> {
    let b64 = v.to_str().ok()?.strip_prefix("Basic ")?;
    let raw = String::from_utf8(STANDARD.decode(b64.trim()).ok()?).ok()?;
    let (id, secret) = raw.split_once(':')?;
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned())
    };
    Some((decode(id)?, decode(secret)?))
}

/// `POST /oidc/token`.
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let basic_used = headers.contains_key(header::AUTHORIZATION);
    let Ok(Form(form)) = form else {
        return oauth_error(
            &refused(OAuthError::InvalidRequest, "the body is not a form"),
            basic_used,
        );
    };
    let Some(keys) = &state.oidc_keys else {
        return oauth_error(&OAuthFailure::Internal("no OIDC signing keys loaded".into()), false);
    };
    let ctx = state.ctx();
    let outcome = async {
        let creds = credentials(
            &headers,
            form.client_id.as_deref(),
            form.client_assertion_type.as_deref(),
            form.client_assertion.as_deref(),
        )?;
        let client = oidc_client::authenticate(&ctx, &creds).await?;
        oidc::token(&ctx, &keys.current(), &client, &form).await
    }
    .await;
    match outcome {
        Ok(t) => {
            let mut res = Json(t).into_response();
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            res
        }
        Err(e) => oauth_error(&e, basic_used),
    }
}

/// `GET` or `POST /oidc/userinfo` with `Authorization: Bearer` (RFC 6750 §2.1).
pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(token) = bearer else {
        return oauth_error(
            &refused(OAuthError::InvalidToken, "a Bearer access token is required"),
            false,
        );
    };
    match oidc::userinfo(&state.ctx(), token).await {
        Ok(claims) => {
            let mut res = Json(claims).into_response();
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => oauth_error(&e, false),
    }
}

#[derive(Deserialize, Default)]
pub struct RevokeForm {
    token: Option<String>,
    #[allow(dead_code)] // accepted (RFC 7009 §2.1); the token's own kind decides
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

/// `POST /oidc/revoke` (RFC 7009).
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<RevokeForm>, FormRejection>,
) -> Response {
    let basic_used = headers.contains_key(header::AUTHORIZATION);
    let Ok(Form(form)) = form else {
        return oauth_error(
            &refused(OAuthError::InvalidRequest, "the body is not a form"),
            basic_used,
        );
    };
    let ctx = state.ctx();
    let outcome = async {
        let creds = credentials(
            &headers,
            form.client_id.as_deref(),
            form.client_assertion_type.as_deref(),
            form.client_assertion.as_deref(),
        )?;
        let client = oidc_client::authenticate(&ctx, &creds).await?;
        let token =
            form.token.as_deref().ok_or(refused(OAuthError::InvalidRequest, "token is missing"))?;
        oidc::revoke(&ctx, &client, token).await
    }
    .await;
    match outcome {
        Ok(()) => {
            let mut res = StatusCode::OK.into_response();
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => oauth_error(&e, basic_used),
    }
}

/// `GET /api/oidc/consent?request=…`.
pub async fn consent_prompt(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<RequestRef>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ConsentPrompt>, ApiError> {
    // No or a malformed `request`: the typed refusal, not axum's plain-text 400.
    let Ok(Query(r)) = query else { return Err(ApiError(ErrorCode::BadRequest)) };
    let session = super::signin::current(&state, &headers).await?;
    Ok(Json(oidc::consent_prompt(&state.ctx(), &r.request, session).await?))
}

/// `POST /api/oidc/consent`.
pub async fn consent_answer(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(a): ApiJson<ConsentAnswer>,
) -> Result<Json<ConsentOutcome>, ApiError> {
    let session = super::signin::current(&state, &headers).await?;
    let redirect_to = oidc::consent_answer(&state.ctx(), &a.request, a.approve, session).await?;
    Ok(Json(ConsentOutcome { redirect_to }))
}
