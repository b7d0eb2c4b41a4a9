//! HPKI card authentication: who is at this PC. A challenge opens (or reuses) an anonymous page
//! session; the card's answer is verified, its certificate mapped to a holder, and the session
//! replaced by an authenticated one with a fresh id (one planted in the browser before carries
//! nothing after).

use mahpki_protocol::api::{CardSignature, Challenge, MyNumberBinding, SessionInfo};
use zeroize::Zeroizing;

use super::{
    Ctx, ServiceError,
    challenge::{self, Purpose},
    session,
};
use crate::store::{AuditAction, AuditEvent, IdentityRecord, MyNumberRecord};

/// A challenge for a card that says who is at this PC, so the page may not have a session yet:
/// one bound to the live page session `cookie` names (a retry after a wrong PIN), or to a new
/// anonymous one whose id comes with it (for the cookie).
pub async fn anonymous_challenge(
    ctx: &Ctx<'_>,
    cookie: Option<&[u8]>,
    purpose: Purpose,
) -> Result<(Challenge, Option<Zeroizing<String>>), ServiceError> {
    let (s, new_id) = session::current_or_new(ctx, cookie).await?;
    Ok((challenge::issue(ctx, &s.id_hash, purpose).await?, new_id))
}

/// An HPKI card identified the page session: its holder, and the session's new id.
#[derive(Debug)]
pub struct Authenticated {
    pub identity: IdentityRecord,
    pub session_id: Zeroizing<String>,
}

/// Checks the card's answer to the HPKI challenge of the session `cookie` names and identifies
/// that session (under a new id). The caller audits: the daily sign-in with the signing session
/// it begins.
pub async fn authenticate(
    ctx: &Ctx<'_>,
    cookie: Option<&[u8]>,
    sig: &CardSignature,
) -> Result<Authenticated, ServiceError> {
    identify(ctx, cookie, sig, |_| None).await
}

/// [`authenticate`], with the audit row `audit` makes for the holder written in the same commit
/// as the new session.
async fn identify(
    ctx: &Ctx<'_>,
    cookie: Option<&[u8]>,
    sig: &CardSignature,
    audit: impl FnOnce(&str) -> Option<AuditEvent>,
) -> Result<Authenticated, ServiceError> {
    let s = session::current(ctx, cookie).await?;
    let cert = challenge::verify(ctx, &s.id_hash, Purpose::Hpki, &ctx.hpki_trust, sig).await?;
    let identity = ctx.store.identity_by_cert(&cert.issuer_raw, &cert.subject_raw).await?;
    let identity = identity.ok_or(ServiceError::HolderUnknown)?;
    let hpki_id = identity.holder.hpki_id.as_str();
    // A renewed card brings a new certificate: the paths without the card check that one.
    ctx.store.hpki_cert_seen(hpki_id, &cert.current(), None).await?;
    let (id, hash) = session::new_id();
    let audit = audit(hpki_id);
    ctx.store.session_authenticate(&s.id_hash, &hash, hpki_id, ctx.now_ms, audit.as_ref()).await?;
    Ok(Authenticated { identity, session_id: id })
}

/// `authenticate`, audited (`hpki_auth`: with the new session, or on its own when refused),
/// answered with who the session now belongs to.
pub async fn finish(
    ctx: &Ctx<'_>,
    cookie: Option<&[u8]>,
    sig: &CardSignature,
    client: Option<&str>,
) -> Result<(SessionInfo, Zeroizing<String>), ServiceError> {
    let ok = |hpki_id: &str| {
        Some(super::audit_event(AuditAction::HpkiAuth, Some(hpki_id.into()), client, None, None))
    };
    let a = match identify(ctx, cookie, sig, ok).await {
        Ok(a) => a,
        Err(e) => {
            ctx.audit(AuditAction::HpkiAuth, None, client, Some(e.code()), None).await;
            return Err(e);
        }
    };
    Ok((session_info(ctx, &a.identity).await?, a.session_id))
}

/// Who the identified session `cookie` names belongs to.
pub async fn current_session(
    ctx: &Ctx<'_>,
    cookie: Option<&[u8]>,
) -> Result<SessionInfo, ServiceError> {
    let (_, hpki_id) = session::authenticated(ctx, cookie).await?;
    let identity = ctx.store.identity_get(hpki_id.as_str()).await?;
    let identity = identity.ok_or(ServiceError::Unauthenticated)?;
    session_info(ctx, &identity).await
}

pub async fn session_info(
    ctx: &Ctx<'_>,
    identity: &IdentityRecord,
) -> Result<SessionInfo, ServiceError> {
    let mynumber = ctx.store.mynumber_active(identity.holder.hpki_id.as_str()).await?;
    Ok(SessionInfo {
        holder: identity.holder.clone(),
        mynumber: mynumber.map(|b| binding_view(&b)),
    })
}

pub fn binding_view(b: &MyNumberRecord) -> MyNumberBinding {
    MyNumberBinding {
        fingerprint: b.fingerprint.clone(),
        not_after: b.not_after_ms.div_euclid(1000),
        bound_at: b.created_ms.div_euclid(1000),
    }
}
