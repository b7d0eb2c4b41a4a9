//! OpenID Connect for the services that sign (issue 12): what the platform, as an OpenID
//! Provider, answers relying services (discovery, tokens, OAuth errors), and the consent page's
//! API (`/api/oidc/consent`).

use serde::{Deserialize, Serialize};

use crate::{ErrorCode, api::Holder};

/// Where each endpoint lives, relative to the issuer (the server's `public_origin`).
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
pub const AUTHORIZE_PATH: &str = "/oidc/authorize";
pub const RESUME_PATH: &str = "/oidc/authorize/resume";
pub const TOKEN_PATH: &str = "/oidc/token";
pub const USERINFO_PATH: &str = "/oidc/userinfo";
pub const JWKS_PATH: &str = "/oidc/jwks";
pub const REVOKE_PATH: &str = "/oidc/revoke";
/// The app's consent page; takes `?request=…`.
pub const CONSENT_PAGE: &str = "/consent";

/// The scope a relying service asks for to sign with the holder's HPKI second certificate
/// through the CSC API: CSC API v2.0.0.2's `service` scope (service authorisation, which
/// `credentials/list`, `credentials/authorize` and the signing methods need). An access token
/// without it signs the holder in and nothing more.
pub const SIGNING_SCOPE: &str = "service";

/// The OAuth 2.0 / OpenID Connect error names this provider answers (RFC 6749 §4.1.2.1 and
/// §5.2, OIDC Core §3.1.2.6, RFC 6750 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthError {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    LoginRequired,
    ConsentRequired,
    RequestNotSupported,
    RequestUriNotSupported,
    InvalidToken,
    InsufficientScope,
    ServerError,
}

impl OAuthError {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::ServerError => "server_error",
        }
    }

    /// The catalogued code the platform records (audit log) for this refusal.
    pub fn code(self) -> ErrorCode {
        match self {
            Self::InvalidClient | Self::UnauthorizedClient => ErrorCode::OidcClientAuthFailed,
            Self::InvalidGrant => ErrorCode::OidcGrantInvalid,
            Self::InvalidToken => ErrorCode::OidcTokenInvalid,
            Self::InsufficientScope => ErrorCode::CscScopeInsufficient,
            Self::ServerError => ErrorCode::Internal,
            Self::AccessDenied
            | Self::LoginRequired
            | Self::ConsentRequired
            | Self::InvalidRequest
            | Self::UnsupportedGrantType
            | Self::UnsupportedResponseType
            | Self::InvalidScope
            | Self::RequestNotSupported
            | Self::RequestUriNotSupported => ErrorCode::OidcRequestInvalid,
        }
    }
}

/// An OAuth error answer of the token, userinfo and revocation endpoints (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthErrorBody {
    pub error: OAuthError,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// The token endpoint's answer (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    pub expires_in: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub id_token: String,
    pub scope: String,
}

/// The claims of an ID token and of the userinfo answer that are the platform's own (besides
/// the registered `iss`, `sub`, `aud`, `exp`, `iat`, `auth_time`, `nonce`, `acr`, `amr`, `sid`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderClaims {
    /// The name in kanji (OIDC `name`).
    pub name: String,
    /// The name in katakana, as OIDC Core §5.2's language-tagged claim.
    #[serde(rename = "name#ja-Kana-JP")]
    pub name_kana: String,
    /// The name in Latin letters.
    #[serde(rename = "name#ja-Latn-JP")]
    pub name_roman: String,
    /// `doctor`, `dentist` or `pharmacist`: the qualification the HPKI certificate attests.
    pub hpki_qualification: String,
    /// `JMA`, `JPA` or `MEDIS`: the CA that issued the holder's HPKI card.
    pub hpki_ca: String,
}

/// `GET /api/oidc/consent?request=…`: who asks the signed-in holder for consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentPrompt {
    /// The client's name as the operator registered it.
    pub client_name: String,
    /// The client's id, shown small so a holder can tell two services of one name apart.
    pub client_id: String,
    /// The signed-in holder the service will learn about.
    pub holder: Holder,
    /// Whether the service also asks to sign with the holder's HPKI second certificate
    /// ([`SIGNING_SCOPE`]): the page says so, since that is more than signing in.
    #[serde(default)]
    pub remote_signing: bool,
}

/// `POST /api/oidc/consent`: the holder's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentAnswer {
    pub request: String,
    pub approve: bool,
}

/// What the consent page does next: a full navigation back to the service (with a code, or
/// with `error=access_denied`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentOutcome {
    pub redirect_to: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_error_names_are_the_registered_ones() {
        let body = OAuthErrorBody { error: OAuthError::InvalidGrant, error_description: None };
        assert_eq!(serde_json::to_string(&body).unwrap(), r#"{"error":"invalid_grant"}"#);
        for e in [OAuthError::UnsupportedGrantType, OAuthError::RequestUriNotSupported] {
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(json, format!("\"{}\"", e.as_str()));
        }
    }

    #[test]
    fn holder_claims_use_language_tags() {
        let c = HolderClaims {
            name: "医師 花子".into(),
            name_kana: "イシ ハナコ".into(),
            name_roman: "ISHI HANAKO".into(),
            hpki_qualification: "doctor".into(),
            hpki_ca: "JMA".into(),
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["name#ja-Kana-JP"], "イシ ハナコ");
        assert_eq!(v["name#ja-Latn-JP"], "ISHI HANAKO");
    }
}
