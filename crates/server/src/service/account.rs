//! The holder's own page (登録状況): what is registered to the signed-in holder, and the actions
//! they may take on it. Each action names an item by its id; an id that is not the holder's is
//! refused the same way as one that does not exist (nothing is said about other holders), and
//! changes nothing. Revoking a binding ends the signing sessions begun with it by itself (the
//! store's `ALIVE` condition), so nothing here has to remember to.

use mahpki_protocol::{
    ErrorCode, HpkiId,
    account::{
        Account, AccountEvent, AccountMyNumber, AccountPhone, AccountSession, AccountSignatures,
    },
    api::SignInFactor,
};

use super::{
    Ctx, ServiceError,
    signin::{self, EndReason, SigningSession},
};
use crate::store::{AuditAction, AuditRecord, Revoker, SignatureBatch};

/// How many audit events the page shows.
pub const EVENTS_SHOWN: i64 = 20;
/// How many batches of remote signatures the page shows.
pub const SIGNATURES_SHOWN: i64 = 20;

/// Why the holder's page refused an action (each a catalogued code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccountRefusal {
    #[error("not one of the holder's")]
    Unknown,
    #[error("already revoked or ended")]
    Ended,
}

impl AccountRefusal {
    pub fn code(self) -> ErrorCode {
        match self {
            Self::Unknown => ErrorCode::AccountItemUnknown,
            Self::Ended => ErrorCode::AccountItemEnded,
        }
    }
}

/// Everything the page shows, for the holder of `current` (this browser's session).
pub async fn show(ctx: &Ctx<'_>, current: &SigningSession) -> Result<Account, ServiceError> {
    let hpki_id = current.hpki_id.as_str();
    let identity = ctx.store.identity_get(hpki_id).await?.ok_or(ServiceError::HolderUnknown)?;
    let mynumber = ctx.store.mynumber_active(hpki_id).await?.map(|b| AccountMyNumber {
        id: b.id,
        issuer: b.cert_issuer,
        serial: b.cert_serial,
        not_after: secs(b.not_after_ms),
        since: secs(b.created_ms),
    });
    let phones = ctx
        .store
        .phone_uses(hpki_id)
        .await?
        .into_iter()
        .map(|p| AccountPhone {
            id: p.id,
            label: p.label,
            registered: secs(p.created_ms),
            last_used: p.last_used_ms.map(secs),
            ended: p.revoked_ms.map(secs),
        })
        .collect();
    let sessions = signin::list(ctx, &current.hpki_id)
        .await?
        .into_iter()
        .map(|s| AccountSession {
            browser: s.user_agent.as_deref().map(browser_of).unwrap_or_default(),
            this_browser: s.sid == current.sid,
            factor: s.factor,
            since: secs(s.auth_time_ms),
            until: secs(s.expires_ms),
            sid: s.sid,
        })
        .collect();
    let events =
        ctx.store.audit_of(hpki_id, EVENTS_SHOWN).await?.into_iter().filter_map(event).collect();
    let signatures =
        ctx.store.signatures_of(hpki_id, SIGNATURES_SHOWN).await?.into_iter().map(batch).collect();
    Ok(Account { holder: identity.holder, mynumber, phones, sessions, events, signatures })
}

/// A batch of signatures as the holder reads it: the service by its name, else by its id.
fn batch(b: SignatureBatch) -> AccountSignatures {
    AccountSignatures {
        at: secs(b.at_ms),
        service: b.name.or(b.client).unwrap_or_default(),
        count: u32::try_from(b.count).unwrap_or(u32::MAX),
    }
}

fn secs(ms: i64) -> i64 {
    ms.div_euclid(1000)
}

/// An audit row as the holder reads it; a row whose action this server no longer knows is left
/// out rather than shown wrongly.
fn event(r: AuditRecord) -> Option<AccountEvent> {
    let action = AuditAction::parse(&r.action)?;
    let refused = match r.outcome.as_str() {
        "ok" => None,
        code => Some(ErrorCode::from_wire(code).unwrap_or(ErrorCode::Internal)),
    };
    let factor = r
        .detail
        .as_deref()
        .and_then(|d| d.split(' ').find_map(|kv| kv.strip_prefix("factor=")))
        .and_then(SignInFactor::parse);
    Some(AccountEvent { at: secs(r.at_ms), action, refused, factor })
}

/// A short description of a browser from its user agent (`Edge / Windows`), for the holder to
/// tell their devices apart; not a fingerprint. Order matters: Edge and Chrome on iOS say
/// `Safari` too, and Chrome says `Safari`.
pub fn browser_of(user_agent: &str) -> String {
    const BROWSERS: &[(&str, &str)] = &[
        ("Edg", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ];
    const SYSTEMS: &[(&str, &str)] = &[
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ];
    let find = |table: &[(&str, &'static str)]| {
        table.iter().find(|(needle, _)| user_agent.contains(needle)).map(|(_, name)| *name)
    };
    match (find(BROWSERS), find(SYSTEMS)) {
        (Some(b), Some(s)) => format!("{b} / {s}"),
        (Some(one), None) | (None, Some(one)) => one.to_owned(),
        (None, None) => String::new(),
    }
}

/// Audits a refusal of the holder's action (the row says what was asked for).
async fn refuse(
    ctx: &Ctx<'_>,
    action: AuditAction,
    hpki_id: &HpkiId,
    client: Option<&str>,
    why: AccountRefusal,
    detail: String,
) -> ServiceError {
    ctx.audit(action, Some(hpki_id.to_string()), client, Some(why.code()), Some(detail)).await;
    ServiceError::Account(why)
}

/// Whether an item found by id is the holder's, and still in force.
fn judge(owner: Option<&str>, ended: bool, hpki_id: &HpkiId) -> Result<(), AccountRefusal> {
    match owner {
        Some(o) if o == hpki_id.as_str() && ended => Err(AccountRefusal::Ended),
        Some(o) if o == hpki_id.as_str() => Ok(()),
        _ => Err(AccountRefusal::Unknown),
    }
}

/// What the holder's page writes as the reason of a revocation it made.
const BY_HOLDER: &str = "revoked by holder";

/// Revokes the holder's phone `id` (as the operator's `phone revoke` does: its grants and the
/// holder's live PC codes end too); the sessions begun with it end with it.
pub async fn revoke_phone(
    ctx: &Ctx<'_>,
    hpki_id: &HpkiId,
    id: i64,
    client: Option<&str>,
) -> Result<(), ServiceError> {
    let detail = || format!("phone={id} by=holder");
    let phone = ctx.store.phone_get(id).await?;
    let found = phone.as_ref().map(|p| (p.hpki_id.as_str(), p.revoked_ms.is_some()));
    if let Err(why) = judge(found.map(|f| f.0), found.is_some_and(|f| f.1), hpki_id) {
        return Err(refuse(ctx, AuditAction::PhoneRevoke, hpki_id, client, why, detail()).await);
    }
    let by = Revoker::Holder { hpki_id: hpki_id.as_str(), client };
    if ctx.store.phone_revoke_by(id, by, BY_HOLDER, ctx.now_ms).await?.is_none() {
        // Revoked in between (another tab, the operator).
        let why = AccountRefusal::Ended;
        return Err(refuse(ctx, AuditAction::PhoneRevoke, hpki_id, client, why, detail()).await);
    }
    Ok(())
}

/// Revokes the holder's My Number card binding `id`; the sessions begun with it end with it.
pub async fn revoke_mynumber(
    ctx: &Ctx<'_>,
    hpki_id: &HpkiId,
    id: i64,
    client: Option<&str>,
) -> Result<(), ServiceError> {
    let detail = || format!("binding={id} by=holder");
    let binding = ctx.store.mynumber_get(id).await?;
    let found = binding.as_ref().map(|b| (b.hpki_id.as_str(), b.revoked_ms.is_some()));
    if let Err(why) = judge(found.map(|f| f.0), found.is_some_and(|f| f.1), hpki_id) {
        return Err(refuse(ctx, AuditAction::MyNumberRevoke, hpki_id, client, why, detail()).await);
    }
    let by = Revoker::Holder { hpki_id: hpki_id.as_str(), client };
    if !ctx.store.mynumber_revoke_by(id, by, BY_HOLDER).await? {
        let why = AccountRefusal::Ended;
        return Err(refuse(ctx, AuditAction::MyNumberRevoke, hpki_id, client, why, detail()).await);
    }
    Ok(())
}

/// Ends the holder's signing session `sid` (another device's, or this one's).
pub async fn end_session(
    ctx: &Ctx<'_>,
    hpki_id: &HpkiId,
    sid: &str,
    client: Option<&str>,
) -> Result<(), ServiceError> {
    if signin::end(ctx, hpki_id, sid, EndReason::Holder, client).await? {
        return Ok(());
    }
    // Nothing ended: say why without telling whose another holder's session is.
    let owner = ctx.store.signing_session_holder(sid).await?;
    let why = judge(owner.as_deref(), true, hpki_id).err().unwrap_or(AccountRefusal::Ended);
    // A sid is a public id, but an attacker's guesses need not fill the log: keep it short.
    let shown: String = sid.chars().take(64).collect();
    let detail = format!("sid={shown} by=holder");
    Err(refuse(ctx, AuditAction::SignInEnd, hpki_id, client, why, detail).await)
}

/// Ends every signing session of the holder, this browser's too; how many.
pub async fn end_all(
    ctx: &Ctx<'_>,
    hpki_id: &HpkiId,
    client: Option<&str>,
) -> Result<u64, ServiceError> {
    signin::end_all(ctx, hpki_id, client).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_are_told_apart_briefly() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                "Edge / Windows",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 HeadlessChrome/131.0.0.0 Safari/537.36",
                "Chrome / Linux",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
                "Safari / iPhone",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:132.0) Gecko/20100101 \
                 Firefox/132.0",
                "Firefox / macOS",
            ),
            ("curl/8.5.0", ""),
        ];
        for (ua, want) in cases {
            assert_eq!(browser_of(ua), want, "{ua}");
        }
    }

    #[test]
    fn only_the_holders_own_items_in_force_pass() {
        let me = HpkiId::parse("JMA-0000001").unwrap();
        assert_eq!(judge(Some("JMA-0000001"), false, &me), Ok(()));
        assert_eq!(judge(Some("JMA-0000001"), true, &me), Err(AccountRefusal::Ended));
        // Another holder's, ended or not, reads as unknown: nothing about it is told.
        assert_eq!(judge(Some("JMA-0000002"), false, &me), Err(AccountRefusal::Unknown));
        assert_eq!(judge(Some("JMA-0000002"), true, &me), Err(AccountRefusal::Unknown));
        assert_eq!(judge(None, false, &me), Err(AccountRefusal::Unknown));
    }
}
