//! The relying services of the OpenID Provider: their registration by the operator, and how
//! each proves itself at the token and revocation endpoints — `client_secret_basic` (a random
//! secret shown once, stored as its SHA-256) or `private_key_jwt` (a JWT signed by a key of the
//! JWKS the operator registered; `aud`, `exp` and a single-use `jti` checked).

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{
    Algorithm, DecodingKey, Validation,
    jwk::{AlgorithmParameters, JwkSet},
};
use mahpki_protocol::oidc::{OAuthError, TOKEN_PATH};
use sha2::{Digest as _, Sha256};

use super::{Ctx, audit_event as event};
use crate::store::{AuditAction, ClientRecord, Store, StoreError};

/// The `client_assertion_type` of RFC 7523 §2.2.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The longest a client assertion may live (its `jti` is remembered that long).
const MAX_ASSERTION_LIFETIME_MS: i64 = 60 * 60 * 1000;

/// The algorithms a client may sign its assertions with: asymmetric only.
pub const ASSERTION_ALGORITHMS: &[Algorithm] =
    &[Algorithm::RS256, Algorithm::PS256, Algorithm::ES256];

/// A refusal at an OAuth endpoint: the error name and a description for the client's logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {description}", error.as_str())]
pub struct OAuthRefusal {
    pub error: OAuthError,
    pub description: &'static str,
}

impl OAuthRefusal {
    pub const fn new(error: OAuthError, description: &'static str) -> Self {
        Self { error, description }
    }
}

/// A failure at an OAuth endpoint: a refusal, or something internal (logged, answered as
/// `server_error`).
#[derive(Debug, thiserror::Error)]
pub enum OAuthFailure {
    #[error(transparent)]
    Refused(#[from] OAuthRefusal),
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for OAuthFailure {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<super::ServiceError> for OAuthFailure {
    fn from(e: super::ServiceError) -> Self {
        Self::Internal(e.to_string())
    }
}

const fn invalid_client(description: &'static str) -> OAuthFailure {
    OAuthFailure::Refused(OAuthRefusal::new(OAuthError::InvalidClient, description))
}

/// How a request to the token or revocation endpoint says which client sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientCredentials {
    /// `Authorization: Basic`, both parts already form-decoded (RFC 6749 §2.3.1).
    Basic { client_id: String, secret: String },
    /// `client_assertion` (with `client_assertion_type` checked by the caller) and the
    /// `client_id` form field if sent.
    Assertion { assertion: String, client_id: Option<String> },
    /// Neither: a public client, which this provider does not serve.
    None,
}

/// Why a client registration is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    #[error("the name is empty, longer than 100 characters or has control characters")]
    Name,
    #[error("at least one --redirect-uri is needed")]
    NoRedirectUri,
    #[error(
        "redirect URI {0:?} is not an absolute https:// URL (http:// only for localhost) without \
         a fragment"
    )]
    RedirectUri(String),
    #[error("the JWKS is not usable for private_key_jwt: {0}")]
    Jwks(String),
}

/// What `oidc-client add` reports: the secret is in no other place afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub client_id: String,
    /// `None` for a private_key_jwt client.
    pub secret: Option<String>,
}

pub fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Checks a redirect URI as the operator gives it: matched exactly later, so it must be a
/// plain absolute URL the browser will reach as written.
fn check_redirect_uri(uri: &str) -> Result<(), RegistrationError> {
    let bad = || RegistrationError::RedirectUri(uri.to_owned());
    let u = url::Url::parse(uri).map_err(|_| bad())?;
    let local = matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    let scheme_ok = u.scheme() == "https" || (u.scheme() == "http" && local);
    if !scheme_ok || u.fragment().is_some() || u.host_str().is_none() || u.as_str() != uri {
        return Err(bad());
    }
    Ok(())
}

/// Parses a client's JWKS: public asymmetric signing keys only, each named by a `kid` when
/// there are several.
pub fn parse_jwks(json: &str) -> Result<JwkSet, RegistrationError> {
    let bad = |s: &str| RegistrationError::Jwks(s.to_owned());
    let raw: serde_json::Value = serde_json::from_str(json).map_err(|e| bad(&e.to_string()))?;
    let keys =
        raw.get("keys").and_then(|k| k.as_array()).ok_or_else(|| bad("no \"keys\" array"))?;
    if keys.iter().any(|k| k.get("d").is_some()) {
        return Err(bad("it holds a private key: register the public keys only"));
    }
    let set: JwkSet = serde_json::from_value(raw.clone()).map_err(|e| bad(&e.to_string()))?;
    if set.keys.is_empty() {
        return Err(bad("no key"));
    }
    for k in &set.keys {
        if !matches!(
            k.algorithm,
            AlgorithmParameters::RSA(_) | AlgorithmParameters::EllipticCurve(_)
        ) {
            return Err(bad("only RSA and EC keys are accepted"));
        }
        if set.keys.len() > 1 && k.common.key_id.is_none() {
            return Err(bad("with several keys each needs a \"kid\""));
        }
    }
    Ok(set)
}

/// `oidc-client add`: registers a client with exact redirect URIs and either a new secret or
/// the JWKS of its private_key_jwt keys. Audited.
pub async fn register(
    store: &Store,
    name: &str,
    redirect_uris: &[String],
    jwks: Option<&str>,
    now_ms: i64,
) -> Result<Registered, super::ServiceError> {
    let refuse = |e: RegistrationError| super::ServiceError::Internal(e.to_string());
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(refuse(RegistrationError::Name));
    }
    if redirect_uris.is_empty() {
        return Err(refuse(RegistrationError::NoRedirectUri));
    }
    for uri in redirect_uris {
        check_redirect_uri(uri).map_err(refuse)?;
    }
    if let Some(jwks) = jwks {
        parse_jwks(jwks).map_err(refuse)?;
    }
    let client_id = format!("c-{}", URL_SAFE_NO_PAD.encode(crate::random::bytes::<16>()));
    let secret = jwks.is_none().then(|| URL_SAFE_NO_PAD.encode(crate::random::bytes::<32>()));
    let record = ClientRecord {
        client_id: client_id.clone(),
        name: name.to_owned(),
        secret_hash: secret.as_deref().map(secret_hash),
        jwks: jwks.map(str::to_owned),
        redirect_uris: serde_json::to_string(redirect_uris)
            .map_err(super::ServiceError::internal)?,
        created_ms: now_ms,
        removed_ms: None,
    };
    let method = if jwks.is_some() { "private_key_jwt" } else { "client_secret_basic" };
    let detail = format!("{client_id} {name:?} {method} {}", redirect_uris.join(" "));
    let audit = event(AuditAction::OidcClientAdd, None, Some("cli"), None, Some(detail));
    store.oidc_client_insert(&record, &audit).await?;
    Ok(Registered { client_id, secret })
}

/// `oidc-client remove`: its codes and tokens end with it. False if no such live client.
pub async fn remove(store: &Store, client_id: &str, now_ms: i64) -> Result<bool, StoreError> {
    let audit =
        event(AuditAction::OidcClientRemove, None, Some("cli"), None, Some(client_id.into()));
    store.oidc_client_remove(client_id, now_ms, &audit).await
}

/// The client a token or revocation request comes from, proved by its registered method.
pub async fn authenticate(
    ctx: &Ctx<'_>,
    credentials: &ClientCredentials,
) -> Result<ClientRecord, OAuthFailure> {
    match credentials {
        ClientCredentials::None => Err(invalid_client("client authentication is required")),
        ClientCredentials::Basic { client_id, secret } => {
            let client = ctx.store.oidc_client_get(client_id).await?;
            let client = client.ok_or_else(|| invalid_client("unknown client or wrong secret"))?;
            if client.secret_hash.is_none() {
                return Err(invalid_client("this client authenticates with private_key_jwt"));
            }
            if !ctx.store.oidc_client_secret_matches(client_id, &secret_hash(secret)).await? {
                return Err(invalid_client("unknown client or wrong secret"));
            }
            Ok(client)
        }
        ClientCredentials::Assertion { assertion, client_id } => {
            assertion_client(ctx, assertion, client_id.as_deref()).await
        }
    }
}

#[derive(serde::Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    exp: i64,
    jti: Option<String>,
}

/// RFC 7523 §3 with OIDC Core §9: `iss` = `sub` = the client, `aud` the token endpoint (or the
/// issuer), not expired, living at most an hour, its `jti` never seen before from this client.
async fn assertion_client(
    ctx: &Ctx<'_>,
    assertion: &str,
    claimed: Option<&str>,
) -> Result<ClientRecord, OAuthFailure> {
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|_| invalid_client("client_assertion is not a JWT"))?;
    if !ASSERTION_ALGORITHMS.contains(&header.alg) {
        return Err(invalid_client("client_assertion must be signed with RS256, PS256 or ES256"));
    }
    // Who the assertion claims to be, to find the keys it must be signed with; nothing in it is
    // trusted before the signature is checked below.
    let unverified: AssertionClaims = jsonwebtoken::dangerous::insecure_decode_claims(assertion)
        .map_err(|_| invalid_client("client_assertion lacks iss, sub or exp"))?;
    if unverified.iss != unverified.sub || claimed.is_some_and(|c| c != unverified.sub) {
        return Err(invalid_client("client_assertion's iss, sub and client_id differ"));
    }
    let client = ctx.store.oidc_client_get(&unverified.sub).await?;
    let client = client.ok_or_else(|| invalid_client("unknown client"))?;
    let Some(jwks) = client.jwks.as_deref() else {
        return Err(invalid_client("this client authenticates with client_secret_basic"));
    };
    let jwks = parse_jwks(jwks).map_err(|e| OAuthFailure::Internal(e.to_string()))?;
    let jwk = match header.kid.as_deref() {
        Some(kid) => jwks.find(kid),
        None if jwks.keys.len() == 1 => jwks.keys.first(),
        None => None,
    };
    let jwk = jwk.ok_or_else(|| invalid_client("no registered key matches the assertion's kid"))?;
    let key = DecodingKey::from_jwk(jwk)
        .map_err(|_| invalid_client("the registered key is not usable"))?;
    let mut validation = Validation::new(header.alg);
    // Expiry against the request's clock, below (the library reads the system clock).
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    let issuer = ctx.config.issuer();
    validation.set_audience(&[format!("{issuer}{TOKEN_PATH}"), issuer.to_owned()]);
    validation.set_issuer(&[client.client_id.as_str()]);
    let claims = jsonwebtoken::decode::<AssertionClaims>(assertion, &key, &validation)
        .map_err(|_| invalid_client("client_assertion's signature or audience is wrong"))?
        .claims;
    let exp_ms = claims.exp.saturating_mul(1000);
    if exp_ms <= ctx.now_ms {
        return Err(invalid_client("client_assertion has expired"));
    }
    if exp_ms > ctx.now_ms + MAX_ASSERTION_LIFETIME_MS {
        return Err(invalid_client("client_assertion lives longer than an hour"));
    }
    let jti = claims.jti.filter(|j| !j.is_empty() && j.len() <= 256);
    let jti = jti.ok_or_else(|| invalid_client("client_assertion has no usable jti"))?;
    if !ctx.store.oidc_assertion_once(&client.client_id, &jti, exp_ms).await? {
        return Err(invalid_client("client_assertion was used before"));
    }
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_plain_absolute_urls() {
        for ok in ["https://rp.example/cb", "http://localhost:8090/cb", "http://127.0.0.1/cb?x=1"] {
            assert_eq!(check_redirect_uri(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://rp.example/cb",
            "https://rp.example/cb#frag",
            "/cb",
            "javascript:alert(1)",
            "https://RP.example/cb",
            "https://rp.example/a/../cb",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_jwks_with_a_private_key_is_refused() {
        let private = r#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB"}]}"#;
        assert!(matches!(parse_jwks(private), Err(RegistrationError::Jwks(_))));
        let two_without_kid =
            r#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"},{"kty":"RSA","n":"AQAB","e":"AQAB"}]}"#;
        assert!(parse_jwks(two_without_kid).is_err());
        assert!(parse_jwks(r#"{"keys":[{"kty":"oct","k":"AQAB"}]}"#).is_err());
        assert!(parse_jwks(r#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}"#).is_ok());
    }
}
