//! The OpenID Provider's rules (issue 12): the authorization code flow with PKCE S256 over the
//! holder's signing session, consent per holder and client, tokens, userinfo and revocation.
//!
//! - A pending request, a code, an access and a refresh token are 256-bit random values that the
//!   database knows only by their SHA-256. A code lives 60 seconds and is redeemed once; a second
//!   redemption revokes what the first one issued.
//! - Tokens carry the signing session's `sid` and are only good while it is alive: access and
//!   refresh tokens never outlive it, and every use checks it again.
//! - A refresh token is replaced at each use; using a replaced one revokes its whole grant.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::Header;
use mahpki_protocol::{
    ErrorCode, HpkiId,
    oidc::{ConsentPrompt, HolderClaims, OAuthError, RESUME_PATH, SIGNING_SCOPE, TokenResponse},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::{
    Ctx, ServiceError, audit_event,
    oidc_client::{OAuthFailure, OAuthRefusal},
    signin::{self, SigningSession},
};
use crate::{
    oidc_keys::{self, KeySet},
    store::{
        AuditAction, ClientRecord, CodeRecord, CodeTake, GrantOf, IdentityRecord, NewToken,
        PendingRequest, TokenKind, TokenRecord,
    },
};

/// A pending authorization request waits this long for the holder's sign-in and consent.
pub const REQUEST_TTL_MS: i64 = 10 * 60 * 1000;
/// An authorization code is good this long.
pub const CODE_TTL_MS: i64 = 60 * 1000;

/// The scopes this provider knows; `openid` is required. `service` (CSC API v2.0.0.2's
/// scope for service authorisation) is what the CSC API asks of an access token before it
/// lists credentials or signs ([`SIGNING_SCOPE`]).
pub const SCOPES: &[&str] = &["openid", "profile", SIGNING_SCOPE];

/// The scope values of a space-separated `scope` string.
pub fn scope_values(scope: &str) -> impl Iterator<Item = &str> {
    scope.split(' ').filter(|s| !s.is_empty())
}

fn random_token() -> (String, Vec<u8>) {
    let token = URL_SAFE_NO_PAD.encode(crate::random::bytes::<32>());
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The query of `/oidc/authorize` as sent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub response_mode: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
}

/// Where the holder's browser goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// To the sign-in page, which comes back to `RESUME_PATH?request=…` when done.
    SignIn { request: String },
    /// To the consent page for this request.
    Consent { request: String },
    /// Back to the client: its redirect URI with a code or an error.
    Client { redirect_to: String },
}

/// An authorization request that cannot go on.
#[derive(Debug)]
pub enum AuthorizeError {
    /// Shown on a page of ours, never sent to the redirect URI (unknown client, unregistered
    /// redirect URI, a pending request that is gone).
    Page(ErrorCode),
    Internal(String),
}

impl From<ServiceError> for AuthorizeError {
    fn from(e: ServiceError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<crate::store::StoreError> for AuthorizeError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Internal(e.to_string())
    }
}

/// `redirect_uri` with the OAuth answer's parameters added, and `iss` (RFC 9207) so a client
/// talking to several providers can tell which one answered.
fn redirect_with(redirect_uri: &str, issuer: &str, pairs: &[(&str, Option<&str>)]) -> String {
    let mut u = url::Url::parse(redirect_uri).expect("registered redirect URIs parse");
    {
        let mut q = u.query_pairs_mut();
        for (k, v) in pairs {
            if let Some(v) = v {
                q.append_pair(k, v);
            }
        }
        q.append_pair("iss", issuer);
    }
    u.into()
}

fn error_redirect(
    ctx: &Ctx<'_>,
    redirect_uri: &str,
    state: Option<&str>,
    refusal: OAuthRefusal,
) -> Next {
    let to = redirect_with(
        redirect_uri,
        ctx.config.issuer(),
        &[
            ("error", Some(refusal.error.as_str())),
            ("error_description", Some(refusal.description)),
            ("state", state),
        ],
    );
    Next::Client { redirect_to: to }
}

/// Whether `s` is a PKCE S256 challenge (base64url of 32 bytes) or a verifier (RFC 7636 §4.1).
fn is_challenge(s: &str) -> bool {
    s.len() == 43 && URL_SAFE_NO_PAD.decode(s).is_ok_and(|b| b.len() == 32)
}

fn is_verifier(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A value of the request that is echoed back or stored: bounded, printable.
fn bounded(v: Option<&String>) -> Result<Option<String>, ()> {
    match v {
        Some(s) if s.len() > 512 || s.chars().any(char::is_control) => Err(()),
        other => Ok(other.cloned()),
    }
}

/// `GET /oidc/authorize`: checks the request, keeps it, and says where the browser goes.
pub async fn authorize(
    ctx: &Ctx<'_>,
    p: &AuthorizeParams,
    session: Option<SigningSession>,
) -> Result<Next, AuthorizeError> {
    // Until the client and its redirect URI are known good, nothing may be sent to that URI.
    let client_id =
        p.client_id.as_deref().ok_or(AuthorizeError::Page(ErrorCode::OidcClientUnknown))?;
    let Some(client) = ctx.store.oidc_client_get(client_id).await? else {
        let detail =
            Some(format!("unknown client {:?}", client_id.chars().take(64).collect::<String>()));
        ctx.audit(
            AuditAction::OidcAuthorize,
            None,
            None,
            Some(ErrorCode::OidcClientUnknown),
            detail,
        )
        .await;
        return Err(AuthorizeError::Page(ErrorCode::OidcClientUnknown));
    };
    let redirect_uri = p.redirect_uri.as_deref().unwrap_or_default();
    if !client.redirect_uris().iter().any(|u| u == redirect_uri) {
        let detail = Some(format!("{} redirect_uri not registered", client.client_id));
        ctx.audit(
            AuditAction::OidcAuthorize,
            None,
            None,
            Some(ErrorCode::OidcRedirectUriInvalid),
            detail,
        )
        .await;
        return Err(AuthorizeError::Page(ErrorCode::OidcRedirectUriInvalid));
    }
    let Ok(state) = bounded(p.state.as_ref()) else {
        let r = OAuthRefusal::new(OAuthError::InvalidRequest, "state is too long");
        return Ok(error_redirect(ctx, redirect_uri, None, r));
    };
    match check_request(p) {
        Ok(()) => {}
        Err(refusal) => {
            let detail = Some(format!("{} {}", client.client_id, refusal.description));
            let code = Some(refusal.error.code());
            ctx.audit(AuditAction::OidcAuthorize, None, None, code, detail).await;
            return Ok(error_redirect(ctx, redirect_uri, state.as_deref(), refusal));
        }
    }
    let prompts: Vec<&str> =
        p.prompt.as_deref().unwrap_or_default().split(' ').filter(|s| !s.is_empty()).collect();
    let max_age_secs = p.max_age.as_deref().map(|m| m.parse::<i64>().unwrap_or(0));
    // A new sign-in is demanded: prompt=login, or the current one is older than max_age.
    let too_old = |s: &SigningSession| {
        max_age_secs.is_some_and(|m| ctx.now_ms - s.auth_time_ms > m.saturating_mul(1000))
    };
    let fresh = prompts.contains(&"login") || session.as_ref().is_some_and(too_old);
    let (id, id_hash) = random_token();
    let request = PendingRequest {
        id_hash,
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scope: p.scope.clone().unwrap_or_default(),
        state,
        nonce: p.nonce.clone(),
        code_challenge: p.code_challenge.clone().unwrap_or_default(),
        max_age_secs,
        fresh_after_ms: fresh.then_some(ctx.now_ms),
        created_ms: ctx.now_ms,
        expires_ms: ctx.now_ms + REQUEST_TTL_MS,
    };
    ctx.store.oidc_request_insert(&request).await?;
    let next = proceed(ctx, &client, &request, &id, session).await?;
    if prompts.contains(&"none") {
        // No page may be shown: the client hears what would have been needed.
        let refusal = match next {
            Next::SignIn { .. } => {
                Some(OAuthRefusal::new(OAuthError::LoginRequired, "the holder is not signed in"))
            }
            Next::Consent { .. } => Some(OAuthRefusal::new(
                OAuthError::ConsentRequired,
                "the holder has not consented to this client",
            )),
            Next::Client { .. } => None,
        };
        if let Some(r) = refusal {
            ctx.store.oidc_request_delete(&request.id_hash).await?;
            return Ok(error_redirect(ctx, redirect_uri, request.state.as_deref(), r));
        }
    }
    Ok(next)
}

/// The rules a request must meet once its client and redirect URI are known.
fn check_request(p: &AuthorizeParams) -> Result<(), OAuthRefusal> {
    use OAuthError as E;
    let refuse = |e, d| Err(OAuthRefusal::new(e, d));
    if p.request.is_some() {
        return refuse(E::RequestNotSupported, "request objects are not supported");
    }
    if p.request_uri.is_some() {
        return refuse(E::RequestUriNotSupported, "request_uri is not supported");
    }
    if p.response_type.as_deref() != Some("code") {
        return refuse(E::UnsupportedResponseType, "only response_type=code is supported");
    }
    if p.response_mode.as_deref().is_some_and(|m| m != "query") {
        return refuse(E::InvalidRequest, "only response_mode=query is supported");
    }
    let scope = p.scope.as_deref().unwrap_or_default();
    let scopes: Vec<&str> = scope_values(scope).collect();
    if !scopes.contains(&"openid") {
        return refuse(E::InvalidScope, "the scope must include openid");
    }
    if scopes.iter().any(|s| !SCOPES.contains(s)) || scope.len() > 200 {
        return refuse(E::InvalidScope, "unknown scope");
    }
    match (p.code_challenge.as_deref(), p.code_challenge_method.as_deref()) {
        (None, _) => {
            return refuse(E::InvalidRequest, "PKCE is required: code_challenge is missing");
        }
        (Some(_), m) if m != Some("S256") => {
            return refuse(E::InvalidRequest, "PKCE code_challenge_method must be S256");
        }
        (Some(c), _) if !is_challenge(c) => {
            return refuse(E::InvalidRequest, "code_challenge is not an S256 challenge");
        }
        _ => {}
    }
    if bounded(p.nonce.as_ref()).is_err() {
        return refuse(E::InvalidRequest, "nonce is too long");
    }
    let prompts: Vec<&str> =
        p.prompt.as_deref().unwrap_or_default().split(' ').filter(|s| !s.is_empty()).collect();
    if prompts.iter().any(|s| !matches!(*s, "none" | "login" | "consent" | "select_account")) {
        return refuse(E::InvalidRequest, "unknown prompt value");
    }
    if prompts.contains(&"none") && prompts.len() > 1 {
        return refuse(E::InvalidRequest, "prompt=none cannot be combined");
    }
    if let Some(m) = p.max_age.as_deref()
        && !m.parse::<i64>().is_ok_and(|m| m >= 0)
    {
        return refuse(E::InvalidRequest, "max_age is not a number of seconds");
    }
    Ok(())
}

/// Whether `session` may answer `request` as it stands.
fn satisfies(ctx: &Ctx<'_>, request: &PendingRequest, session: &SigningSession) -> bool {
    // Strictly after: a sign-in from before the request (even the same millisecond) is not new.
    let fresh_enough = request.fresh_after_ms.is_none_or(|t| session.auth_time_ms > t);
    let young_enough = request
        .max_age_secs
        .is_none_or(|m| ctx.now_ms - session.auth_time_ms <= m.saturating_mul(1000));
    fresh_enough && young_enough
}

async fn proceed(
    ctx: &Ctx<'_>,
    client: &ClientRecord,
    request: &PendingRequest,
    id: &str,
    session: Option<SigningSession>,
) -> Result<Next, AuthorizeError> {
    let Some(session) = session.filter(|s| satisfies(ctx, request, s)) else {
        return Ok(Next::SignIn { request: id.to_owned() });
    };
    let hpki_id = session.hpki_id.as_str();
    let consented = ctx.store.oidc_consent_scope(hpki_id, &client.client_id).await?;
    if !consented.is_some_and(|c| covers(&c, &request.scope)) {
        return Ok(Next::Consent { request: id.to_owned() });
    }
    issue_code(ctx, request, &session, None).await
}

/// Whether a consent to `consented` covers every value of `asked`: a service that was let sign
/// the holder in must ask again before it may sign for them.
fn covers(consented: &str, asked: &str) -> bool {
    scope_values(asked).all(|a| scope_values(consented).any(|c| c == a))
}

/// The scope consented to once `asked` is approved on top of `before`.
fn consent_union(before: Option<&str>, asked: &str) -> String {
    let mut all: Vec<&str> = scope_values(before.unwrap_or_default()).collect();
    for a in scope_values(asked) {
        if !all.contains(&a) {
            all.push(a);
        }
    }
    all.join(" ")
}

/// Consumes the request and answers it with a new code (recording `consent`, the scope now
/// consented to, when the holder has just approved).
async fn issue_code(
    ctx: &Ctx<'_>,
    request: &PendingRequest,
    session: &SigningSession,
    consent: Option<String>,
) -> Result<Next, AuthorizeError> {
    let (code, code_hash) = random_token();
    let hpki_id = session.hpki_id.to_string();
    let record = CodeRecord {
        code_hash,
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        nonce: request.nonce.clone(),
        scope: request.scope.clone(),
        sid: session.sid.clone(),
        hpki_id: hpki_id.clone(),
        created_ms: ctx.now_ms,
        expires_ms: ctx.now_ms + CODE_TTL_MS,
        used_ms: None,
        replayed_ms: None,
    };
    let audit = consent.as_ref().map(|scope| {
        audit_event(
            AuditAction::OidcConsent,
            Some(hpki_id.clone()),
            None,
            None,
            Some(format!("{} scope {scope}", request.client_id)),
        )
    });
    let consent = consent.as_deref().zip(audit.as_ref());
    if !ctx.store.oidc_code_issue(&request.id_hash, &record, consent).await? {
        return Err(AuthorizeError::Page(ErrorCode::OidcRequestUnknown));
    }
    let detail = Some(format!("{} sid {}", request.client_id, session.sid));
    ctx.audit(AuditAction::OidcAuthorize, Some(hpki_id), None, None, detail).await;
    let to = redirect_with(
        &request.redirect_uri,
        ctx.config.issuer(),
        &[("code", Some(&code)), ("state", request.state.as_deref())],
    );
    Ok(Next::Client { redirect_to: to })
}

/// The pending request `id` with its client, or the page saying it is gone.
async fn pending(
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<(PendingRequest, ClientRecord), AuthorizeError> {
    let gone = AuthorizeError::Page(ErrorCode::OidcRequestUnknown);
    if id.len() != 43 {
        return Err(gone);
    }
    let Some(request) = ctx.store.oidc_request_get(&token_hash(id), ctx.now_ms).await? else {
        return Err(gone);
    };
    let Some(client) = ctx.store.oidc_client_get(&request.client_id).await? else {
        return Err(gone);
    };
    Ok((request, client))
}

/// `GET /oidc/authorize/resume?request=…`: where the sign-in page returns.
pub async fn resume(
    ctx: &Ctx<'_>,
    id: &str,
    session: Option<SigningSession>,
) -> Result<Next, AuthorizeError> {
    let (request, client) = pending(ctx, id).await?;
    proceed(ctx, &client, &request, id, session).await
}

/// The URL of the sign-in page that comes back to request `id`.
pub fn signin_url(id: &str) -> String {
    let resume = format!("{RESUME_PATH}?request={id}");
    let mut u = url::Url::parse("http://x/signin").expect("constant URL");
    u.query_pairs_mut().append_pair("continue", &resume);
    format!("/signin?{}", u.query().unwrap_or_default())
}

fn consent_error(e: AuthorizeError) -> ServiceError {
    match e {
        AuthorizeError::Page(code) => ServiceError::Refused(code),
        AuthorizeError::Internal(e) => ServiceError::Internal(e),
    }
}

/// The signed-in holder that may answer `request` on the consent page.
fn consenting_session(
    ctx: &Ctx<'_>,
    request: &PendingRequest,
    session: Option<SigningSession>,
) -> Result<SigningSession, ServiceError> {
    session.filter(|s| satisfies(ctx, request, s)).ok_or(ServiceError::Unauthenticated)
}

/// `GET /api/oidc/consent?request=…`: who asks, for the consent page.
pub async fn consent_prompt(
    ctx: &Ctx<'_>,
    id: &str,
    session: Option<SigningSession>,
) -> Result<ConsentPrompt, ServiceError> {
    let (request, client) = pending(ctx, id).await.map_err(consent_error)?;
    let session = consenting_session(ctx, &request, session)?;
    let identity = identity(ctx, &session.hpki_id).await?;
    Ok(ConsentPrompt {
        client_name: client.name,
        client_id: client.client_id,
        holder: identity.holder,
        remote_signing: scope_values(&request.scope).any(|s| s == SIGNING_SCOPE),
    })
}

/// `POST /api/oidc/consent`: the holder's answer. Returns where the page navigates to: the
/// client's redirect URI with a code, or with `error=access_denied`.
pub async fn consent_answer(
    ctx: &Ctx<'_>,
    id: &str,
    approve: bool,
    session: Option<SigningSession>,
) -> Result<String, ServiceError> {
    let (request, _client) = pending(ctx, id).await.map_err(consent_error)?;
    let session = consenting_session(ctx, &request, session)?;
    if approve {
        let hpki_id = session.hpki_id.as_str();
        let before = ctx.store.oidc_consent_scope(hpki_id, &request.client_id).await?;
        let consent = consent_union(before.as_deref(), &request.scope);
        let issued = issue_code(ctx, &request, &session, Some(consent)).await;
        return match issued.map_err(consent_error)? {
            Next::Client { redirect_to } => Ok(redirect_to),
            _ => Err(ServiceError::internal("a code was issued without a redirect")),
        };
    }
    if !ctx.store.oidc_request_delete(&request.id_hash).await? {
        return Err(ServiceError::Refused(ErrorCode::OidcRequestUnknown));
    }
    let hpki_id = Some(session.hpki_id.to_string());
    ctx.audit(
        AuditAction::OidcConsent,
        hpki_id,
        None,
        Some(ErrorCode::OidcRequestInvalid),
        Some(format!("{} declined", request.client_id)),
    )
    .await;
    let refusal = OAuthRefusal::new(OAuthError::AccessDenied, "the holder declined");
    match error_redirect(ctx, &request.redirect_uri, request.state.as_deref(), refusal) {
        Next::Client { redirect_to } => Ok(redirect_to),
        _ => Err(ServiceError::internal("no redirect")),
    }
}

async fn identity(ctx: &Ctx<'_>, hpki_id: &HpkiId) -> Result<IdentityRecord, ServiceError> {
    ctx.store.identity_get(hpki_id.as_str()).await?.ok_or(ServiceError::HolderUnknown)
}

/// The token endpoint's form, as sent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenForm {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub client_id: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
    pub scope: Option<String>,
}

#[derive(Serialize)]
struct IdTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
    iat: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    acr: &'a str,
    amr: &'a [String],
    sid: &'a str,
    at_hash: String,
    #[serde(flatten)]
    holder: HolderClaims,
}

pub fn holder_claims(identity: &IdentityRecord) -> HolderClaims {
    let h = &identity.holder;
    HolderClaims {
        name: h.name_kanji.clone(),
        name_kana: h.name_kana.clone(),
        name_roman: h.name_roman.clone(),
        hpki_qualification: h.qualification.as_str().to_owned(),
        hpki_ca: h.ca.as_str().to_owned(),
    }
}

const fn invalid_grant(description: &'static str) -> OAuthFailure {
    OAuthFailure::Refused(OAuthRefusal::new(OAuthError::InvalidGrant, description))
}

/// The token endpoint, for an authenticated `client`.
pub async fn token(
    ctx: &Ctx<'_>,
    keys: &KeySet,
    client: &ClientRecord,
    form: &TokenForm,
) -> Result<TokenResponse, OAuthFailure> {
    let outcome = match form.grant_type.as_deref() {
        Some("authorization_code") => code_grant(ctx, keys, client, form).await,
        Some("refresh_token") => refresh_grant(ctx, keys, client, form).await,
        None => Err(OAuthRefusal::new(OAuthError::InvalidRequest, "grant_type is missing").into()),
        Some(_) => Err(OAuthRefusal::new(
            OAuthError::UnsupportedGrantType,
            "only authorization_code and refresh_token",
        )
        .into()),
    };
    if let Err(OAuthFailure::Refused(r)) = &outcome {
        let detail = Some(format!("{} {}", client.client_id, r.description));
        ctx.audit(AuditAction::OidcToken, None, None, Some(r.error.code()), detail).await;
    }
    outcome
}

async fn code_grant(
    ctx: &Ctx<'_>,
    keys: &KeySet,
    client: &ClientRecord,
    form: &TokenForm,
) -> Result<TokenResponse, OAuthFailure> {
    let code = form.code.as_deref().ok_or(invalid_grant("code is missing"))?;
    if code.len() != 43 {
        return Err(invalid_grant("unknown code"));
    }
    let code_hash = token_hash(code);
    let record = match ctx.store.oidc_code_take(&code_hash, ctx.now_ms).await? {
        CodeTake::Unknown => return Err(invalid_grant("unknown code")),
        CodeTake::Replayed(r) => {
            let detail = Some(format!("{} code redeemed again: its tokens revoked", r.client_id));
            ctx.audit(
                AuditAction::OidcGrantRevoke,
                Some(r.hpki_id),
                None,
                Some(ErrorCode::OidcGrantInvalid),
                detail,
            )
            .await;
            return Err(invalid_grant("the code was used before"));
        }
        CodeTake::Fresh(r) => r,
    };
    // The code is spent whatever follows: a wrong attempt cannot be retried.
    if record.client_id != client.client_id {
        return Err(invalid_grant("the code was issued to another client"));
    }
    if ctx.now_ms > record.expires_ms {
        return Err(invalid_grant("the code has expired"));
    }
    if form.redirect_uri.as_deref() != Some(record.redirect_uri.as_str()) {
        return Err(invalid_grant("redirect_uri differs from the authorization request's"));
    }
    let verifier =
        form.code_verifier.as_deref().ok_or(invalid_grant("PKCE code_verifier is missing"))?;
    if !is_verifier(verifier) || s256(verifier) != record.code_challenge {
        return Err(invalid_grant("PKCE code_verifier does not match"));
    }
    let session = live_session(ctx, &record.sid, &record.hpki_id).await?;
    let grant = GrantOf {
        grant_hash: &record.code_hash,
        client_id: &record.client_id,
        hpki_id: &record.hpki_id,
        sid: &record.sid,
        scope: &record.scope,
    };
    let issued = Issue::new(ctx, &session);
    let audit = audit_event(
        AuditAction::OidcToken,
        Some(record.hpki_id.clone()),
        None,
        None,
        Some(format!("{} authorization_code sid {}", record.client_id, record.sid)),
    );
    if !ctx.store.oidc_tokens_issue(&grant, &issued.rows(), ctx.now_ms, &audit).await? {
        return Err(invalid_grant("the code was used before"));
    }
    issued
        .answer(ctx, keys, &record.client_id, &session, record.nonce.as_deref(), &record.scope)
        .await
}

async fn refresh_grant(
    ctx: &Ctx<'_>,
    keys: &KeySet,
    client: &ClientRecord,
    form: &TokenForm,
) -> Result<TokenResponse, OAuthFailure> {
    let token = form.refresh_token.as_deref().ok_or(invalid_grant("refresh_token is missing"))?;
    let old = ctx.store.oidc_token_get(&token_hash(token)).await?;
    let old = old.filter(|t| t.kind == "refresh").ok_or(invalid_grant("unknown refresh token"))?;
    let old = &old;
    let revoke = |why: &'static str| async move {
        ctx.store.oidc_grant_revoke(&old.grant_hash, ctx.now_ms).await?;
        let detail = Some(format!("{} {why}: the grant's tokens revoked", old.client_id));
        ctx.audit(
            AuditAction::OidcGrantRevoke,
            Some(old.hpki_id.clone()),
            None,
            Some(ErrorCode::OidcGrantInvalid),
            detail,
        )
        .await;
        Err::<TokenResponse, _>(invalid_grant(why))
    };
    if old.client_id != client.client_id {
        return revoke("refresh token presented by another client").await;
    }
    if old.rotated_ms.is_some() {
        return revoke("refresh token used again after it was replaced").await;
    }
    if old.revoked_ms.is_some() || ctx.now_ms >= old.expires_ms {
        return Err(invalid_grant("the refresh token is revoked or expired"));
    }
    let session = match live_session(ctx, &old.sid, &old.hpki_id).await {
        Ok(s) => s,
        Err(_) => return revoke("the signing session has ended").await,
    };
    let issued = Issue::new(ctx, &session);
    let audit = audit_event(
        AuditAction::OidcToken,
        Some(old.hpki_id.clone()),
        None,
        None,
        Some(format!("{} refresh_token sid {}", old.client_id, old.sid)),
    );
    if !ctx.store.oidc_refresh_rotate(old, &issued.rows(), ctx.now_ms, &audit).await? {
        let detail =
            Some(format!("{} refresh token raced: the grant's tokens revoked", old.client_id));
        ctx.audit(
            AuditAction::OidcGrantRevoke,
            Some(old.hpki_id.clone()),
            None,
            Some(ErrorCode::OidcGrantInvalid),
            detail,
        )
        .await;
        return Err(invalid_grant("refresh token used again after it was replaced"));
    }
    issued.answer(ctx, keys, &old.client_id, &session, None, &old.scope).await
}

/// The signing session `sid` if it is alive and still `hpki_id`'s.
async fn live_session(
    ctx: &Ctx<'_>,
    sid: &str,
    hpki_id: &str,
) -> Result<SigningSession, OAuthFailure> {
    match signin::alive(ctx, sid).await? {
        Some(s) if s.hpki_id.as_str() == hpki_id => Ok(s),
        _ => Err(invalid_grant("the signing session has ended")),
    }
}

/// A new access and refresh token, neither outliving the signing session.
struct Issue {
    access: String,
    access_hash: Vec<u8>,
    access_expires_ms: i64,
    refresh: String,
    refresh_hash: Vec<u8>,
    refresh_expires_ms: i64,
}

impl Issue {
    fn new(ctx: &Ctx<'_>, session: &SigningSession) -> Self {
        let o = &ctx.config.oidc;
        let (access, access_hash) = random_token();
        let (refresh, refresh_hash) = random_token();
        let cap = |ttl_secs: u32| (ctx.now_ms + i64::from(ttl_secs) * 1000).min(session.expires_ms);
        Self {
            access,
            access_hash,
            access_expires_ms: cap(o.access_token_ttl_secs),
            refresh,
            refresh_hash,
            refresh_expires_ms: cap(o.refresh_token_ttl_secs),
        }
    }

    fn rows(&self) -> [NewToken; 2] {
        [
            NewToken {
                token_hash: self.access_hash.clone(),
                kind: TokenKind::Access,
                expires_ms: self.access_expires_ms,
            },
            NewToken {
                token_hash: self.refresh_hash.clone(),
                kind: TokenKind::Refresh,
                expires_ms: self.refresh_expires_ms,
            },
        ]
    }

    async fn answer(
        self,
        ctx: &Ctx<'_>,
        keys: &KeySet,
        client_id: &str,
        session: &SigningSession,
        nonce: Option<&str>,
        scope: &str,
    ) -> Result<TokenResponse, OAuthFailure> {
        let identity = identity(ctx, &session.hpki_id).await?;
        let key = keys.signing(ctx.now_ms);
        let now = ctx.now_ms.div_euclid(1000);
        let id_ttl = i64::from(ctx.config.oidc.id_token_ttl_secs);
        // OIDC Core §3.1.3.6: the left half of the access token's SHA-256.
        let at_hash = URL_SAFE_NO_PAD.encode(&Sha256::digest(self.access.as_bytes())[..16]);
        let claims = IdTokenClaims {
            iss: ctx.config.issuer(),
            sub: session.hpki_id.as_str(),
            aud: client_id,
            exp: now + id_ttl,
            iat: now,
            auth_time: session.auth_time_ms.div_euclid(1000),
            nonce,
            acr: signin::acr(session.factor),
            amr: &session.amr,
            sid: &session.sid,
            at_hash,
            holder: holder_claims(&identity),
        };
        let mut header = Header::new(oidc_keys::ALGORITHM);
        header.kid = Some(key.kid.clone());
        let id_token = jsonwebtoken::encode(&header, &claims, key.encoding_key())
            .map_err(|e| OAuthFailure::Internal(format!("signing the ID token: {e}")))?;
        let expires_in = (self.access_expires_ms - ctx.now_ms).max(0) / 1000;
        Ok(TokenResponse {
            access_token: self.access,
            token_type: "Bearer".into(),
            expires_in: u64::try_from(expires_in).unwrap_or(0),
            refresh_token: Some(self.refresh),
            id_token,
            scope: scope.to_owned(),
        })
    }
}

/// What an access token allows, for the resource servers (userinfo; the CSC API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub hpki_id: HpkiId,
    pub client_id: String,
    /// The signing session it rests on.
    pub sid: String,
    pub scope: String,
    /// Unix milliseconds.
    pub expires_ms: i64,
}

impl Grant {
    /// Whether the holder granted `scope` to this token's client.
    pub fn has_scope(&self, scope: &str) -> bool {
        scope_values(&self.scope).any(|s| s == scope)
    }
}

/// The grant of a live access token: known, not revoked, not expired, and its signing session
/// alive. `None` otherwise.
pub async fn access_token(ctx: &Ctx<'_>, token: &str) -> Result<Option<Grant>, ServiceError> {
    if token.len() != 43 {
        return Ok(None);
    }
    let Some(t) = ctx.store.oidc_token_get(&token_hash(token)).await? else { return Ok(None) };
    if t.kind != "access" || t.revoked_ms.is_some() || ctx.now_ms >= t.expires_ms {
        return Ok(None);
    }
    let Some(session) = signin::alive(ctx, &t.sid).await? else { return Ok(None) };
    if session.hpki_id.as_str() != t.hpki_id {
        return Ok(None);
    }
    let hpki_id = HpkiId::parse(&t.hpki_id).map_err(ServiceError::internal)?;
    Ok(Some(Grant {
        hpki_id,
        client_id: t.client_id,
        sid: t.sid,
        scope: t.scope,
        expires_ms: t.expires_ms,
    }))
}

/// `/oidc/userinfo`: the holder's claims for a live access token.
pub async fn userinfo(ctx: &Ctx<'_>, token: &str) -> Result<serde_json::Value, OAuthFailure> {
    let grant = access_token(ctx, token).await?;
    let grant = grant.ok_or(OAuthFailure::Refused(OAuthRefusal::new(
        OAuthError::InvalidToken,
        "the access token is unknown, expired or revoked, or its sign-in has ended",
    )))?;
    let identity = identity(ctx, &grant.hpki_id).await?;
    let mut claims = serde_json::to_value(holder_claims(&identity))
        .map_err(|e| OAuthFailure::Internal(e.to_string()))?;
    claims["sub"] = serde_json::Value::String(grant.hpki_id.to_string());
    Ok(claims)
}

/// `/oidc/revoke` (RFC 7009): revokes `token` if it is one of `client`'s. A refresh token takes
/// its whole grant with it. Unknown tokens are not an error (§2.2).
pub async fn revoke(ctx: &Ctx<'_>, client: &ClientRecord, token: &str) -> Result<(), OAuthFailure> {
    let Some(t): Option<TokenRecord> = ctx.store.oidc_token_get(&token_hash(token)).await? else {
        return Ok(());
    };
    if t.client_id != client.client_id {
        // §2.1: another client's token is refused, and left alone.
        return Err(OAuthRefusal::new(
            OAuthError::UnauthorizedClient,
            "the token belongs to another client",
        )
        .into());
    }
    if t.kind == "refresh" {
        ctx.store.oidc_grant_revoke(&t.grant_hash, ctx.now_ms).await?;
    } else {
        ctx.store.oidc_token_revoke(&t.token_hash, ctx.now_ms).await?;
    }
    let detail = Some(format!("{} {} token", t.client_id, t.kind));
    ctx.audit(AuditAction::OidcRevoke, Some(t.hpki_id), None, None, detail).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(is_verifier(verifier));
        assert_eq!(s256(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert!(is_challenge(&s256(verifier)));
        assert!(!is_verifier("short"));
        assert!(!is_verifier(&"a".repeat(129)));
        assert!(!is_verifier(&format!("{}!", "a".repeat(50))));
    }

    #[test]
    fn a_consent_covers_only_what_was_agreed() {
        assert!(covers("openid profile", "openid"));
        assert!(covers("openid profile", "profile  openid"));
        assert!(!covers("openid profile", "openid profile service"));
        assert!(covers("openid profile service", "openid service"));
        assert_eq!(
            consent_union(Some("openid profile"), "openid service"),
            "openid profile service"
        );
        assert_eq!(consent_union(None, "openid  service"), "openid service");
    }

    #[test]
    fn the_signin_link_comes_back_to_resume_only() {
        let url = signin_url("abc");
        assert_eq!(url, "/signin?continue=%2Foidc%2Fauthorize%2Fresume%3Frequest%3Dabc");
    }

    #[test]
    fn the_answer_keeps_the_redirect_uris_own_query() {
        let to = redirect_with(
            "https://rp.example/cb?x=1",
            "https://op.example",
            &[("code", Some("c")), ("state", None)],
        );
        assert_eq!(to, "https://rp.example/cb?x=1&code=c&iss=https%3A%2F%2Fop.example");
    }
}
