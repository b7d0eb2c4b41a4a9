//! 別紙1: binding the My Number card (its JPKI user-authentication certificate) to the holder
//! the HPKI card identified in this page session.

use mahpki_protocol::api::{CardSignature, Challenge, MyNumberBound};

use super::{
    Ctx, ServiceError,
    auth::binding_view,
    challenge::{self, Purpose},
    session,
};
use crate::{
    pki::TrustStore,
    store::{AuditAction, BindError, BindOutcome, NewMyNumberBinding},
};

/// A challenge for the My Number card, only for a holder identified in the session `cookie`
/// names.
pub async fn challenge(ctx: &Ctx<'_>, cookie: Option<&[u8]>) -> Result<Challenge, ServiceError> {
    let (s, _) = session::authenticated(ctx, cookie).await?;
    challenge::issue(ctx, &s.id_hash, Purpose::Jpki).await
}

/// Binds the card that answered the session's challenge (checked against the JPKI anchors
/// `trust`) to the session's holder. Every refusal is audited (`mynumber_bind`); the binding
/// itself is audited by the store with the change.
pub async fn bind(
    ctx: &Ctx<'_>,
    cookie: Option<&[u8]>,
    trust: &TrustStore,
    sig: &CardSignature,
    client: Option<&str>,
) -> Result<MyNumberBound, ServiceError> {
    let (s, hpki_id) = match session::authenticated(ctx, cookie).await {
        Ok(v) => v,
        Err(e) => {
            ctx.audit(AuditAction::MyNumberBind, None, client, Some(e.code()), None).await;
            return Err(e);
        }
    };
    let result = bind_inner(ctx, &s.id_hash, hpki_id.as_str(), trust, sig, client).await;
    if let Err(e) = &result {
        let holder = Some(hpki_id.to_string());
        ctx.audit(AuditAction::MyNumberBind, holder, client, Some(e.code()), None).await;
    }
    result
}

async fn bind_inner(
    ctx: &Ctx<'_>,
    session_hash: &[u8],
    hpki_id: &str,
    trust: &TrustStore,
    sig: &CardSignature,
    client: Option<&str>,
) -> Result<MyNumberBound, ServiceError> {
    let cert = challenge::verify(ctx, session_hash, Purpose::Jpki, trust, sig).await?;
    let new = NewMyNumberBinding {
        hpki_id: hpki_id.to_owned(),
        cert_issuer: cert.issuer,
        cert_serial: cert.serial_hex,
        fingerprint: cert.fingerprint,
        not_after_ms: cert.not_after.saturating_mul(1000),
        certificate: cert.der,
    };
    match ctx.store.bind_mynumber(&new, client).await {
        Ok(BindOutcome::Bound { binding, replaced }) => Ok(MyNumberBound {
            binding: binding_view(&binding),
            replaced: replaced.as_ref().map(binding_view),
        }),
        Ok(BindOutcome::AlreadyBound(binding)) => {
            Ok(MyNumberBound { binding: binding_view(&binding), replaced: None })
        }
        Err(BindError::BoundElsewhere) => {
            Err(ServiceError::Refused(mahpki_protocol::ErrorCode::MyNumberBoundElsewhere))
        }
        Err(BindError::Store(e)) => Err(e.into()),
    }
}
