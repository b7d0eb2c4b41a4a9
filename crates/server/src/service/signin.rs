//! TEMPORARY stand-in with the signing-session foundation's contract, so the OIDC branch
//! compiles before the foundation lands; replaced by main's file at the merge.

use mahpki_protocol::HpkiId;

use super::{Ctx, ServiceError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    HpkiCard,
    MyNumber,
    Passkey,
}

impl Factor {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HpkiCard => "hpki_card",
            Self::MyNumber => "mynumber",
            Self::Passkey => "passkey",
        }
    }

    pub fn acr(self) -> &'static str {
        match self {
            Self::HpkiCard => "urn:mahpki:acr:hpki-card",
            Self::MyNumber => "urn:mahpki:acr:jpki",
            Self::Passkey => "urn:mahpki:acr:passkey",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningSession {
    pub sid: String,
    pub hpki_id: HpkiId,
    pub factor: Factor,
    pub amr: Vec<String>,
    pub auth_time_ms: i64,
    pub expires_ms: i64,
    pub user_agent: Option<String>,
}

pub async fn alive(_ctx: &Ctx<'_>, _sid: &str) -> Result<Option<SigningSession>, ServiceError> {
    Ok(None)
}
