//! Signing in with the My Number card: its JPKI 利用者証明用 certificate (already verified against
//! the JPKI anchors and their CRLs, over a sign-in challenge) names the holder whose active
//! binding (別紙1) holds that very certificate. A card never bound, or bound once and since
//! replaced or revoked, signs nobody in; each is told apart so the holder hears what to do.

use mahpki_protocol::HpkiId;

use super::{Ctx, ServiceError, signin::Proof};
use crate::pki::VerifiedCert;

/// Who the card belongs to, and the proof to begin their signing session with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardHolder {
    pub hpki_id: HpkiId,
    pub proof: Proof,
}

/// The holder of the active binding of `cert`. The binding row goes into the proof, so revoking
/// it (or replacing the card) ends the session begun with it.
pub async fn holder_of(ctx: &Ctx<'_>, cert: &VerifiedCert) -> Result<CardHolder, ServiceError> {
    let binding = ctx
        .store
        .mynumber_by_fingerprint(&cert.fingerprint)
        .await?
        .ok_or(ServiceError::MyNumberNotBound)?;
    let hpki_id = HpkiId::parse(&binding.hpki_id)
        .map_err(|_| ServiceError::Internal(format!("binding {}: hpki_id", binding.id)))?;
    if binding.revoked_ms.is_some() {
        return Err(ServiceError::MyNumberBindingEnded { hpki_id });
    }
    Ok(CardHolder { hpki_id, proof: Proof::MyNumber { binding: binding.id } })
}
