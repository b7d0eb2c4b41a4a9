//! Page sessions' rules: how long one lives, which one a request's cookie names, a new anonymous
//! one, and the end of one. The HTTP layer reads and sets the cookie; the store keeps only the
//! SHA-256 of its id.

use zeroize::Zeroizing;

use super::{Ctx, ServiceError};
use crate::store::SessionRecord;
use mahpki_protocol::{ErrorCode, HpkiId};

/// A holder who walks away: the session ends after this long without a request.
pub const IDLE_MS: i64 = 15 * 60 * 1000;
/// However active, a session lasts at most this long.
pub const MAX_MS: i64 = 60 * 60 * 1000;

/// A new random session id (the cookie's value) and its hash (the stored key).
pub fn new_id() -> (Zeroizing<String>, Vec<u8>) {
    crate::random::token()
}

/// The live session whose id hashes to `id_hash` (the cookie's), touched: `Unauthenticated`
/// without a cookie, `SessionExpired` when it names a session that ended.
pub async fn current(ctx: &Ctx<'_>, id_hash: Option<&[u8]>) -> Result<SessionRecord, ServiceError> {
    let id_hash = id_hash.ok_or(ServiceError::Unauthenticated)?;
    let s = ctx.store.session_touch(id_hash, ctx.now_ms, IDLE_MS, MAX_MS).await?;
    s.ok_or(ServiceError::Refused(ErrorCode::SessionExpired))
}

/// Like [`current`], but the session must belong to a holder the HPKI card identified.
pub async fn authenticated(
    ctx: &Ctx<'_>,
    id_hash: Option<&[u8]>,
) -> Result<(SessionRecord, HpkiId), ServiceError> {
    let s = current(ctx, id_hash).await?;
    let hpki_id = s.hpki_id.as_deref().ok_or(ServiceError::Unauthenticated)?;
    let hpki_id = HpkiId::parse(hpki_id).map_err(|_| ServiceError::internal("stored 本人ID"))?;
    Ok((s, hpki_id))
}

/// The live session `id_hash` names, or a new anonymous one and its id (for the cookie): the
/// steps that may come first on a device (a challenge) start one.
pub async fn current_or_new(
    ctx: &Ctx<'_>,
    id_hash: Option<&[u8]>,
) -> Result<(SessionRecord, Option<Zeroizing<String>>), ServiceError> {
    if let Ok(s) = current(ctx, id_hash).await {
        return Ok((s, None));
    }
    let (id, hash) = new_id();
    ctx.store.session_insert(&hash, ctx.now_ms).await?;
    let s = ctx.store.session_touch(&hash, ctx.now_ms, IDLE_MS, MAX_MS).await?;
    let s = s.ok_or_else(|| ServiceError::internal("a new session is gone"))?;
    Ok((s, Some(id)))
}

/// Logout: the session and its challenges go, and its live-event streams, on every server
/// process, check the session and end.
pub async fn end(ctx: &Ctx<'_>, id_hash: &[u8]) -> Result<(), ServiceError> {
    ctx.store.session_delete(id_hash).await?;
    ctx.events.publish(&crate::events::session_key(id_hash)).await;
    Ok(())
}
