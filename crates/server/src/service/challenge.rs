//! Challenges the cards sign: 32 random bytes, single use, bound to the session that asked for
//! them and to a purpose (HPKI authentication, My Number binding, My Number sign-in), valid five
//! minutes. A challenge answered for another purpose is refused: a card signature the holder made
//! to bind their card must not sign them in, nor the other way round.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use mahpki_protocol::{
    ErrorCode,
    api::{CardSignature, Challenge},
};

use super::{Ctx, ServiceError};
use crate::pki::{TrustStore, VerifiedCert, cert_error_code, verify_signed_challenge};

pub const TTL_MS: i64 = 5 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Hpki,
    /// Binding the My Number card (別紙1), for a holder identified by the HPKI card.
    Jpki,
    /// Signing in with the bound My Number card, from an anonymous page session.
    JpkiSignIn,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Hpki => "hpki",
            Purpose::Jpki => "jpki",
            Purpose::JpkiSignIn => "jpki_signin",
        }
    }
}

/// A new challenge for the page session `session_hash` to have a card sign for `purpose`.
pub async fn issue(
    ctx: &Ctx<'_>,
    session_hash: &[u8],
    purpose: Purpose,
) -> Result<Challenge, ServiceError> {
    let challenge = crate::random::bytes::<32>();
    let expires = ctx.now_ms + TTL_MS;
    ctx.store.challenge_insert(&challenge, session_hash, purpose.as_str(), expires).await?;
    Ok(Challenge {
        challenge: URL_SAFE_NO_PAD.encode(challenge),
        expires_in_secs: u32::try_from(TTL_MS / 1000).unwrap_or(u32::MAX),
    })
}

/// Consumes the challenge `sig` answers and verifies the card's signature and certificate
/// against `trust`. The challenge is gone afterwards whatever the outcome: a failed attempt
/// cannot be replayed either.
pub async fn verify(
    ctx: &Ctx<'_>,
    session_hash: &[u8],
    purpose: Purpose,
    trust: &TrustStore,
    sig: &CardSignature,
) -> Result<VerifiedCert, ServiceError> {
    let refused = ServiceError::Refused;
    let challenge = decode(&sig.challenge, ErrorCode::ChallengeUnknown)?;
    let record = ctx.store.challenge_take(&challenge).await?;
    let record = record.ok_or(refused(ErrorCode::ChallengeUnknown))?;
    if record.session_hash != session_hash {
        return Err(refused(ErrorCode::ChallengeWrongSession));
    }
    if record.purpose != purpose.as_str() {
        return Err(refused(ErrorCode::ChallengeWrongPurpose));
    }
    if ctx.now_ms > record.expires_ms {
        return Err(refused(ErrorCode::ChallengeExpired));
    }
    let certificate = decode(&sig.certificate, ErrorCode::CertificateMalformed)?;
    let signature = decode(&sig.signature, ErrorCode::SignatureInvalid)?;
    verify_signed_challenge(
        trust,
        &certificate,
        &ctx.config.public_origin,
        &challenge,
        &signature,
        ctx.now_ms.div_euclid(1000),
    )
    .map_err(|e| ServiceError::Refused(cert_error_code(&e)))
}

fn decode(b64: &str, on_error: ErrorCode) -> Result<Vec<u8>, ServiceError> {
    URL_SAFE_NO_PAD.decode(b64).map_err(|_| ServiceError::Refused(on_error))
}
