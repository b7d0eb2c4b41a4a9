//! The daily sign-in (「原則として、1日1回」): a signing session for one holder on one device,
//! begun by any of the three factors, lasting the CA's hours (18 by default, the JMA CA's value)
//! and never past the holder's HPKI certificate. It ends by sign-out, from the holder's page, by
//! revoking the binding it was begun with, or when the holder stops being in good standing
//! (a suspended holder, a revoked or expired certificate): that is judged at every use, so
//! nothing has to remember to end it.

use mahpki_protocol::{HpkiId, api::SignInFactor};

use super::{Ctx, ServiceError};
use crate::{
    standing::{self, StandingError},
    store::{AuditAction, NewSigningSession, SigningSessionRecord},
};

/// What the holder signed in with, and the binding it used (so revoking it ends the session).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    HpkiCard,
    /// `binding`: the row of the active My Number binding whose card answered.
    MyNumber {
        binding: i64,
    },
    /// `phone`: the bound phone's row; `backed_up`: the passkey is synced (a software key).
    Passkey {
        phone: i64,
        backed_up: bool,
    },
}

impl Proof {
    pub fn factor(self) -> SignInFactor {
        match self {
            Self::HpkiCard => SignInFactor::HpkiCard,
            Self::MyNumber { .. } => SignInFactor::Mynumber,
            Self::Passkey { .. } => SignInFactor::Passkey,
        }
    }

    /// RFC 8176 methods: a card is something held (`sc`) unlocked by a PIN; a passkey is a
    /// hardware- or software-held key (`hwk`/`swk`, by its backup flag) unlocked by user
    /// verification (`user`). Each is two factors (`mfa`).
    pub fn amr(self) -> &'static [&'static str] {
        match self {
            Self::HpkiCard | Self::MyNumber { .. } => &["sc", "pin", "mfa"],
            Self::Passkey { backed_up: false, .. } => &["hwk", "user", "mfa"],
            Self::Passkey { backed_up: true, .. } => &["swk", "user", "mfa"],
        }
    }
}

/// The `acr` a relying service hears for each factor.
pub fn acr(factor: SignInFactor) -> &'static str {
    match factor {
        SignInFactor::HpkiCard => "urn:mahpki:acr:hpki-card",
        SignInFactor::Mynumber => "urn:mahpki:acr:jpki",
        SignInFactor::Passkey => "urn:mahpki:acr:passkey",
    }
}

/// An alive signing session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningSession {
    /// Public random id: the OIDC `sid`.
    pub sid: String,
    pub hpki_id: HpkiId,
    pub factor: SignInFactor,
    /// RFC 8176 values.
    pub amr: Vec<String>,
    pub auth_time_ms: i64,
    pub expires_ms: i64,
    pub user_agent: Option<String>,
}

impl SigningSession {
    fn from_record(r: SigningSessionRecord) -> Result<Self, ServiceError> {
        let bad = |what: &str| ServiceError::Internal(format!("signing session {}: {what}", r.sid));
        Ok(Self {
            hpki_id: HpkiId::parse(&r.hpki_id).map_err(|_| bad("hpki_id"))?,
            factor: SignInFactor::parse(&r.factor).ok_or_else(|| bad("factor"))?,
            amr: r.amr.split(' ').map(Into::into).collect(),
            auth_time_ms: r.created_ms,
            expires_ms: r.expires_ms,
            user_agent: r.user_agent,
            sid: r.sid,
        })
    }
}

/// Why a signing session ended (stored, and shown in the audit trail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The holder signed out on that device.
    SignOut,
    /// The holder ended it from their page (another device, or all).
    Holder,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignOut => "signout",
            Self::Holder => "holder",
        }
    }
}

/// The browser's side of a new signing session: its cookie value (secret, shown only to that
/// browser) and the session.
pub struct Begun {
    pub cookie: zeroize::Zeroizing<String>,
    pub session: SigningSession,
}

/// Begins a signing session for `hpki_id`, proved by `proof`, ending the one this browser held
/// (`replaces`, the hash of its cookie). Refuses a holder not in good standing.
pub async fn begin(
    ctx: &Ctx<'_>,
    hpki_id: &HpkiId,
    proof: Proof,
    user_agent: Option<&str>,
    replaces: Option<&[u8]>,
    client: Option<&str>,
) -> Result<Begun, ServiceError> {
    let factor = proof.factor();
    let detail = || Some(format!("factor={}", factor.as_str()));
    ctx.require_standing(hpki_id.as_str(), AuditAction::SignIn, client).await?;
    let identity =
        ctx.store.identity_get(hpki_id.as_str()).await?.ok_or(ServiceError::HolderUnknown)?;
    let facts = ctx.store.identity_standing(hpki_id.as_str()).await?;
    let hours = i64::from(ctx.config.policy(identity.holder.ca).signing_session_hours);
    let mut expires_ms = ctx.now_ms + hours * 3_600_000;
    if let Some(not_after) = facts.and_then(|f| f.cert_not_after_ms) {
        expires_ms = expires_ms.min(not_after);
    }
    let (cookie, cookie_hash) = crate::random::token();
    let sid = crate::random::id();
    let amr = proof.amr().join(" ");
    let (mynumber_id, phone_id) = match proof {
        Proof::HpkiCard => (None, None),
        Proof::MyNumber { binding } => (Some(binding), None),
        Proof::Passkey { phone, .. } => (None, Some(phone)),
    };
    // A browser agent string is the holder's own description of the device; keep it short.
    let user_agent: Option<String> = user_agent.map(|ua| ua.chars().take(200).collect());
    ctx.store
        .signing_session_begin(
            &NewSigningSession {
                sid: &sid,
                cookie_hash: &cookie_hash,
                hpki_id: hpki_id.as_str(),
                factor: factor.as_str(),
                amr: &amr,
                mynumber_id,
                phone_id,
                user_agent: user_agent.as_deref(),
                now_ms: ctx.now_ms,
                expires_ms,
                replaces_cookie_hash: replaces,
            },
            &super::audit_event(
                AuditAction::SignIn,
                Some(hpki_id.to_string()),
                client,
                None,
                detail(),
            ),
        )
        .await?;
    let session = SigningSession {
        sid,
        hpki_id: hpki_id.clone(),
        factor,
        amr: proof.amr().iter().map(|s| (*s).to_owned()).collect(),
        auth_time_ms: ctx.now_ms,
        expires_ms,
        user_agent,
    };
    Ok(Begun { cookie, session })
}

/// Keeps `record` only if its holder is still in good standing now.
async fn judged(
    ctx: &Ctx<'_>,
    record: Option<SigningSessionRecord>,
) -> Result<Option<SigningSession>, ServiceError> {
    let Some(record) = record else { return Ok(None) };
    match standing::check(ctx.store, &ctx.hpki_trust, &record.hpki_id, ctx.now_ms).await {
        Ok(()) => Ok(Some(SigningSession::from_record(record)?)),
        Err(StandingError::Refused(why)) => {
            tracing::info!(sid = %record.sid, why = %why, "signing session not usable: holder not in good standing");
            Ok(None)
        }
        Err(e) => Err(ServiceError::internal(e)),
    }
}

/// The alive session `sid`: `None` when unknown, ended, expired, its binding revoked, or its
/// holder not in good standing now.
pub async fn alive(ctx: &Ctx<'_>, sid: &str) -> Result<Option<SigningSession>, ServiceError> {
    let record = ctx.store.signing_session_by_sid(sid, ctx.now_ms).await?;
    judged(ctx, record).await
}

/// The alive session a browser's cookie (its hash) names.
pub async fn by_cookie(
    ctx: &Ctx<'_>,
    cookie_hash: &[u8],
) -> Result<Option<SigningSession>, ServiceError> {
    let record = ctx.store.signing_session_by_cookie(cookie_hash, ctx.now_ms).await?;
    judged(ctx, record).await
}

/// A holder's alive sessions, newest first (the holder's page).
pub async fn list(ctx: &Ctx<'_>, hpki_id: &HpkiId) -> Result<Vec<SigningSession>, ServiceError> {
    let records = ctx.store.signing_sessions_of(hpki_id.as_str(), ctx.now_ms).await?;
    records.into_iter().map(SigningSession::from_record).collect()
}

/// Ends the holder's session `sid`; false if it was not open (or not theirs).
pub async fn end(
    ctx: &Ctx<'_>,
    hpki_id: &HpkiId,
    sid: &str,
    reason: EndReason,
    client: Option<&str>,
) -> Result<bool, ServiceError> {
    let ended =
        ctx.store.signing_session_end(hpki_id.as_str(), sid, ctx.now_ms, reason.as_str()).await?;
    if ended {
        let detail = Some(format!("sid={sid} reason={}", reason.as_str()));
        ctx.audit(AuditAction::SignInEnd, Some(hpki_id.to_string()), client, None, detail).await;
    }
    Ok(ended)
}

/// Ends every open session of the holder; how many.
pub async fn end_all(
    ctx: &Ctx<'_>,
    hpki_id: &HpkiId,
    client: Option<&str>,
) -> Result<u64, ServiceError> {
    let reason = EndReason::Holder.as_str();
    let n = ctx.store.signing_sessions_end_all(hpki_id.as_str(), ctx.now_ms, reason).await?;
    let detail = Some(format!("all={n} reason={reason}"));
    ctx.audit(AuditAction::SignInEnd, Some(hpki_id.to_string()), client, None, detail).await;
    Ok(n)
}
