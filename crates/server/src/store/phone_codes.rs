//! The lifecycle both phone codes share, written once: 別紙2's enrolment code (purpose
//! [`Purpose::Enrolment`], table `enrolments`) and スマートフォン変更's first code ([`Purpose::Change`],
//! table `phone_proofs`). Each is issued to a PC (or, for an enrolment, as a CA's link), taken by
//! the first phone that presents its token (one conditional UPDATE decides any race), then known
//! by that phone's cookie until it is used up, runs out or is cancelled. What differs is what
//! "used up" commits (a new phone; the old phone's proof), written in `enrolments.rs` and
//! `proofs.rs`.

use sqlx::any::AnyRow;

use super::{Purpose, StoreError, sql};

/// Where a code stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeState {
    /// Issued, not yet opened by a phone.
    Valid,
    /// Opened by a phone, which now owns it.
    InUse,
    /// Used up: a credential was committed with it (enrolment), or the old phone proved the
    /// holder with it (change; stored as 'proved').
    Consumed,
    Expired,
    /// A newer code of the same holder or PC, or 中止, ended it.
    Cancelled,
}

impl CodeState {
    /// The stored spelling in the table of `purpose`.
    pub fn as_str(self, purpose: Purpose) -> &'static str {
        match (self, purpose) {
            (Self::Valid, _) => "valid",
            (Self::InUse, _) => "in_use",
            (Self::Consumed, Purpose::Enrolment) => "consumed",
            (Self::Consumed, Purpose::Change | Purpose::SignIn) => "proved",
            (Self::Expired, _) => "expired",
            (Self::Cancelled, _) => "cancelled",
        }
    }

    pub(super) fn parse(purpose: Purpose, s: &str) -> Result<Self, StoreError> {
        [Self::Valid, Self::InUse, Self::Consumed, Self::Expired, Self::Cancelled]
            .into_iter()
            .find(|st| st.as_str(purpose) == s)
            .ok_or_else(|| StoreError::Corrupt(format!("{}: state {s}", purpose.table())))
    }
}

/// What every phone code has, and the rules that follow from it.
pub trait PhoneCode {
    fn stored_state(&self) -> CodeState;
    fn expires_ms(&self) -> i64;
    /// SHA-256 of the cookie of the phone that opened it.
    fn phone_session_hash(&self) -> Option<&[u8]>;
    /// A CA's months-long link, whose expiry the phone is told apart.
    fn is_link(&self) -> bool {
        false
    }

    /// The state as of `now`: a live code past its expiry is expired even before anyone wrote
    /// that down.
    fn state_at(&self, now: i64) -> CodeState {
        match self.stored_state() {
            CodeState::Valid | CodeState::InUse if now >= self.expires_ms() => CodeState::Expired,
            s => s,
        }
    }

    /// Why `phone` cannot use this code (as of `now`), or `None` if that phone owns it and it is
    /// still live.
    fn refusal(&self, phone: &[u8], now: i64) -> Option<EnrolError> {
        match self.state_at(now) {
            CodeState::InUse if self.phone_session_hash() == Some(phone) => None,
            CodeState::InUse => Some(EnrolError::OtherDevice),
            // Never opened, so no phone may act on it by cookie.
            CodeState::Valid => Some(EnrolError::Unknown),
            CodeState::Consumed => Some(EnrolError::Used),
            CodeState::Expired if self.is_link() => Some(EnrolError::LinkExpired),
            CodeState::Expired => Some(EnrolError::Expired),
            CodeState::Cancelled => Some(EnrolError::Cancelled),
        }
    }
}

/// The code a phone looked up (by token or by its cookie), if that phone may use it now.
pub(super) fn usable<C: PhoneCode>(
    code: Option<C>,
    phone: &[u8],
    now: i64,
) -> Result<C, EnrolError> {
    let code = code.ok_or(EnrolError::Unknown)?;
    match code.refusal(phone, now) {
        None => Ok(code),
        Some(e) => Err(e),
    }
}

impl Purpose {
    /// The table of this purpose's codes.
    pub(super) fn table(self) -> &'static str {
        match self {
            Self::Enrolment => "enrolments",
            Self::Change => "phone_proofs",
            Self::SignIn => "signin_codes",
        }
    }

    /// The table of its waiting WebAuthn ceremony states and their key column.
    pub(super) fn ceremony_table(self) -> (&'static str, &'static str) {
        match self {
            Self::Enrolment => ("webauthn_ceremonies", "enrolment_id"),
            Self::Change => ("webauthn_assertions", "proof_id"),
            Self::SignIn => ("signin_code_assertions", "code_id"),
        }
    }
}

/// A phone-code row of either table.
pub(super) trait CodeRow: for<'r> sqlx::FromRow<'r, AnyRow> + Send + Unpin {}
impl<R: for<'r> sqlx::FromRow<'r, AnyRow> + Send + Unpin> CodeRow for R {}

/// The phone presenting `token_hash` takes the code if it is valid: it owns it from now on, and
/// `new_expires_ms` (if given) becomes its deadline. One conditional UPDATE decides any race
/// between phones or server processes. `None` if nothing was taken (look it up to say why).
pub(super) async fn take<R: CodeRow>(
    pool: &sqlx::AnyPool,
    purpose: Purpose,
    columns: &str,
    token_hash: &[u8],
    phone_session_hash: &[u8],
    now: i64,
    new_expires_ms: Option<i64>,
) -> Result<Option<R>, StoreError> {
    let table = purpose.table();
    Ok(sqlx::query_as(sql(format!(
        "UPDATE {table} SET state = 'in_use', phone_session_hash = $1, opened_ms = $2, \
         expires_ms = COALESCE($3, expires_ms) \
         WHERE token_hash = $4 AND state = 'valid' AND expires_ms > $2 RETURNING {columns}"
    )))
    .bind(phone_session_hash)
    .bind(now)
    .bind(new_expires_ms)
    .bind(token_hash)
    .fetch_optional(pool)
    .await?)
}

/// How a phone names a code: the token it scanned, or its cookie (the newest code it opened).
#[derive(Debug, Clone, Copy)]
pub(super) enum ByPhone<'a> {
    Token(&'a [u8]),
    Cookie(&'a [u8]),
}

pub(super) async fn find<R: CodeRow>(
    pool: &sqlx::AnyPool,
    purpose: Purpose,
    columns: &str,
    by: ByPhone<'_>,
) -> Result<Option<R>, StoreError> {
    let table = purpose.table();
    let (filter, key) = match by {
        ByPhone::Token(h) => ("token_hash = $1", h),
        ByPhone::Cookie(h) => ("phone_session_hash = $1 ORDER BY id DESC LIMIT 1", h),
    };
    Ok(sqlx::query_as(sql(format!("SELECT {columns} FROM {table} WHERE {filter}")))
        .bind(key)
        .fetch_optional(pool)
        .await?)
}

/// Drops the waiting ceremony states of codes that just ended, in the caller's transaction: a
/// challenge of an ended code must never be answered.
pub(super) async fn drop_ceremonies(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    purpose: Purpose,
    ids: &[i64],
) -> Result<(), StoreError> {
    let (table, key) = purpose.ceremony_table();
    for id in ids {
        sqlx::query(sql(format!("DELETE FROM {table} WHERE {key} = $1")))
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Why a phone-code step was refused. Each maps to its own error code.
#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    #[error("no such enrolment")]
    Unknown,
    #[error("the enrolment expired")]
    Expired,
    #[error("the CA's enrolment link expired")]
    LinkExpired,
    #[error("the enrolment was already used")]
    Used,
    #[error("another phone opened the enrolment")]
    OtherDevice,
    #[error("a newer enrolment cancelled this one")]
    Cancelled,
    #[error("a phone is bound and replacing it was not asked for")]
    PhoneAlreadyBound,
    #[error("a phone is bound and this enrolment may bind a first phone only (JMA path)")]
    FirstPhoneOnly,
    #[error("the holder's CA allows no further phone binding")]
    PhoneLimitReached,
    #[error("no WebAuthn ceremony is waiting (begin again)")]
    NoCeremony,
    #[error("this credential is already registered")]
    CredentialExists,
    #[error("this change code already looked up another 本人ID")]
    Claimed,
    #[error("the PC has not entered the phone's confirmation code yet")]
    ConfirmationPending,
    #[error("three wrong confirmation codes: the code is dead")]
    ConfirmationFailed,
    #[error("no phone is waiting for a confirmation code from this PC")]
    ConfirmationUnknown,
    #[error("the passkey is not an active phone's (unknown, revoked or replaced)")]
    PasskeyUnknown,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for EnrolError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}
