//! The lifecycle every phone code shares, written once: 別紙2's enrolment code (purpose
//! [`Purpose::Enrolment`], table `enrolments`), スマートフォン変更's first code ([`Purpose::Change`],
//! table `phone_proofs`) and the PC's sign-in code ([`Purpose::SignIn`], table `signin_codes`).
//! Each is issued to a PC (or, for an enrolment, as a CA's link), taken by the first phone that
//! presents its token (one conditional UPDATE decides any race), then known by that phone's
//! cookie until it is used up, runs out or is cancelled. What differs is what "used up" commits
//! (a new phone, in `enrolments.rs`; the bound phone's proof of the holder, in `proofs.rs` and
//! `passkeys.rs`).
//!
//! The change and sign-in codes are alike down to their rows ([`PcCode`]): a PC session holds
//! one before anyone knows the holder, and the bound phone that opens it proves who the holder
//! is. Their issue, 中止, look-ups and the step to 'proved' are written here once.

use sqlx::any::AnyRow;

use super::{Purpose, Store, StoreError, sql};

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

/// The purposes whose code a PC session holds before anyone knows the holder: the bound phone
/// that opens it names and proves them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PcPurpose {
    /// スマートフォン変更's first code: the PC gets the phone grant once confirmed.
    Change,
    /// The sign-in code: the PC is signed in once confirmed.
    SignIn,
}

impl From<PcPurpose> for Purpose {
    fn from(p: PcPurpose) -> Self {
        match p {
            PcPurpose::Change => Self::Change,
            PcPurpose::SignIn => Self::SignIn,
        }
    }
}

impl PcPurpose {
    pub fn of(purpose: Purpose) -> Option<Self> {
        match purpose {
            Purpose::Enrolment => None,
            Purpose::Change => Some(Self::Change),
            Purpose::SignIn => Some(Self::SignIn),
        }
    }

    fn table(self) -> &'static str {
        Purpose::from(self).table()
    }

    /// Its rows' columns. Only a sign-in code records when its PC was signed in with it.
    fn columns(self) -> &'static str {
        match self {
            Self::Change => {
                "id, pc_session_hash, state, phone_session_hash, hpki_id, created_ms, expires_ms"
            }
            Self::SignIn => {
                "id, pc_session_hash, state, phone_session_hash, hpki_id, created_ms, expires_ms, \
                 completed_ms"
            }
        }
    }
}

/// A change or sign-in code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcCode {
    pub id: i64,
    pub purpose: PcPurpose,
    pub pc_session_hash: Vec<u8>,
    /// `Consumed` stands for 'proved' (the bound phone passed; the PC waits for the
    /// confirmation code).
    pub state: CodeState,
    pub phone_session_hash: Option<Vec<u8>>,
    /// Set once proved.
    pub hpki_id: Option<String>,
    /// A sign-in code's: when the PC entered the right confirmation code and was signed in.
    pub completed_ms: Option<i64>,
    pub created_ms: i64,
    pub expires_ms: i64,
}

impl PhoneCode for PcCode {
    fn stored_state(&self) -> CodeState {
        self.state
    }
    fn expires_ms(&self) -> i64 {
        self.expires_ms
    }
    fn phone_session_hash(&self) -> Option<&[u8]> {
        self.phone_session_hash.as_deref()
    }
}

#[derive(sqlx::FromRow)]
struct PcRow {
    id: i64,
    pc_session_hash: Vec<u8>,
    state: String,
    phone_session_hash: Option<Vec<u8>>,
    hpki_id: Option<String>,
    #[sqlx(default)]
    completed_ms: Option<i64>,
    created_ms: i64,
    expires_ms: i64,
}

impl PcRow {
    fn code(self, purpose: PcPurpose) -> Result<PcCode, StoreError> {
        Ok(PcCode {
            state: CodeState::parse(purpose.into(), &self.state)?,
            id: self.id,
            purpose,
            pc_session_hash: self.pc_session_hash,
            phone_session_hash: self.phone_session_hash,
            hpki_id: self.hpki_id,
            completed_ms: self.completed_ms,
            created_ms: self.created_ms,
            expires_ms: self.expires_ms,
        })
    }
}

/// Ends the PC session's live codes of `purpose` and drops their ceremony states; the ids of
/// those cancelled. One that already ran out is written down as expired instead, so a phone
/// opening it late is told that, not "replaced". One proved by the phone but not yet confirmed
/// on this PC ends too, so the phone showing the code hears it ended instead of waiting out the
/// clock.
async fn cancel_live(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    purpose: PcPurpose,
    pc_session_hash: &[u8],
    now: i64,
) -> Result<Vec<i64>, StoreError> {
    let table = purpose.table();
    let ended: Vec<(i64, String)> = sqlx::query_as(sql(format!(
        "UPDATE {table} \
         SET state = CASE WHEN expires_ms <= $1 THEN 'expired' ELSE 'cancelled' END, \
             ended_ms = $1 \
         WHERE pc_session_hash = $2 AND state IN ('valid', 'in_use') RETURNING id, state"
    )))
    .bind(now)
    .bind(pc_session_hash)
    .fetch_all(&mut **tx)
    .await?;
    let unconfirmed: Vec<i64> = sqlx::query_scalar(sql(format!(
        "UPDATE {table} SET state = 'cancelled', ended_ms = $1 \
         WHERE pc_session_hash = $2 AND state = 'proved' AND id IN \
         (SELECT subject_id FROM phone_confirmations \
          WHERE purpose = $3 AND state = 'pending') RETURNING id"
    )))
    .bind(now)
    .bind(pc_session_hash)
    .bind(Purpose::from(purpose).as_str())
    .fetch_all(&mut **tx)
    .await?;
    let ended: Vec<(i64, String)> = ended
        .into_iter()
        .chain(unconfirmed.into_iter().map(|id| (id, "cancelled".to_owned())))
        .collect();
    let ids: Vec<i64> = ended.iter().map(|(id, _)| *id).collect();
    drop_ceremonies(tx, purpose.into(), &ids).await?;
    Ok(ended.into_iter().filter(|(_, state)| state == "cancelled").map(|(id, _)| id).collect())
}

/// The phone that owns live code `id` proves it for `hpki_id`, in the caller's transaction:
/// the code becomes 'proved' (only by that phone, while live). The PC session that holds it, or
/// why the phone may not (as of `now`).
pub(super) async fn prove_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    purpose: PcPurpose,
    id: i64,
    phone_session_hash: &[u8],
    hpki_id: &str,
    now: i64,
) -> Result<Vec<u8>, EnrolError> {
    let table = purpose.table();
    let pc: Option<Vec<u8>> = sqlx::query_scalar(sql(format!(
        "UPDATE {table} SET state = 'proved', hpki_id = $1, ended_ms = $2 \
         WHERE id = $3 AND state = 'in_use' AND phone_session_hash = $4 AND expires_ms > $2 \
         RETURNING pc_session_hash"
    )))
    .bind(hpki_id)
    .bind(now)
    .bind(id)
    .bind(phone_session_hash)
    .fetch_optional(&mut **tx)
    .await?;
    match pc {
        Some(pc) => Ok(pc),
        None => Err(refusal_in(tx, purpose, id, phone_session_hash, now, EnrolError::Used).await),
    }
}

/// Why the phone may not act on code `id` now, read in the caller's transaction after a
/// conditional UPDATE found nothing to change; `otherwise` if the code itself would let it.
pub(super) async fn refusal_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    purpose: PcPurpose,
    id: i64,
    phone_session_hash: &[u8],
    now: i64,
    otherwise: EnrolError,
) -> EnrolError {
    let (table, columns) = (purpose.table(), purpose.columns());
    let row: Result<PcRow, _> =
        sqlx::query_as(sql(format!("SELECT {columns} FROM {table} WHERE id = $1")))
            .bind(id)
            .fetch_one(&mut **tx)
            .await;
    match row.map_err(StoreError::from).and_then(|r| r.code(purpose)) {
        Ok(code) => code.refusal(phone_session_hash, now).unwrap_or(otherwise),
        Err(e) => e.into(),
    }
}

impl Store {
    /// A new code of `purpose` for the PC session `pc_session_hash`, cancelling its live ones;
    /// the new code and the ids cancelled.
    pub async fn pc_code_issue(
        &self,
        purpose: PcPurpose,
        token_hash: &[u8],
        pc_session_hash: &[u8],
        now: i64,
        expires_ms: i64,
    ) -> Result<(PcCode, Vec<i64>), StoreError> {
        let (table, columns) = (purpose.table(), purpose.columns());
        let mut tx = self.begin_write().await?;
        let cancelled = cancel_live(&mut tx, purpose, pc_session_hash, now).await?;
        let row: PcRow = sqlx::query_as(sql(format!(
            "INSERT INTO {table} (token_hash, pc_session_hash, state, created_ms, expires_ms) \
             VALUES ($1, $2, 'valid', $3, $4) RETURNING {columns}"
        )))
        .bind(token_hash)
        .bind(pc_session_hash)
        .bind(now)
        .bind(expires_ms)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((row.code(purpose)?, cancelled))
    }

    /// 中止 on the PC: its live code of `purpose` stops working, and a phone part way through
    /// cannot prove with it or be confirmed. The ids cancelled (none if nothing was live).
    pub async fn pc_code_cancel(
        &self,
        purpose: PcPurpose,
        pc_session_hash: &[u8],
        now: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        let cancelled = cancel_live(&mut tx, purpose, pc_session_hash, now).await?;
        tx.commit().await?;
        Ok(cancelled)
    }

    /// The first phone to present the token owns the code (see [`take`]).
    pub async fn pc_code_open(
        &self,
        purpose: PcPurpose,
        token_hash: &[u8],
        phone_session_hash: &[u8],
        now: i64,
    ) -> Result<PcCode, EnrolError> {
        let taken: Option<PcRow> = take(
            &self.pool,
            purpose.into(),
            purpose.columns(),
            token_hash,
            phone_session_hash,
            now,
            None,
        )
        .await?;
        if let Some(row) = taken {
            return Ok(row.code(purpose)?);
        }
        self.pc_code_usable(purpose, ByPhone::Token(token_hash), phone_session_hash, now).await
    }

    /// The code of `purpose` this phone opened and may still answer.
    pub async fn pc_code_of_phone(
        &self,
        purpose: PcPurpose,
        phone_session_hash: &[u8],
        now: i64,
    ) -> Result<PcCode, EnrolError> {
        let by = ByPhone::Cookie(phone_session_hash);
        self.pc_code_usable(purpose, by, phone_session_hash, now).await
    }

    async fn pc_code_usable(
        &self,
        purpose: PcPurpose,
        by: ByPhone<'_>,
        phone_session_hash: &[u8],
        now: i64,
    ) -> Result<PcCode, EnrolError> {
        let row: Option<PcRow> = find(&self.pool, purpose.into(), purpose.columns(), by).await?;
        usable(row.map(|r| r.code(purpose)).transpose()?, phone_session_hash, now)
    }

    /// The newest code of `purpose` of a PC session, whatever its state.
    pub async fn pc_code_latest(
        &self,
        purpose: PcPurpose,
        pc_session_hash: &[u8],
    ) -> Result<Option<PcCode>, StoreError> {
        let (table, columns) = (purpose.table(), purpose.columns());
        let row: Option<PcRow> = sqlx::query_as(sql(format!(
            "SELECT {columns} FROM {table} WHERE pc_session_hash = $1 ORDER BY id DESC LIMIT 1"
        )))
        .bind(pc_session_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| r.code(purpose)).transpose()
    }

    pub async fn pc_code_get(
        &self,
        purpose: PcPurpose,
        id: i64,
    ) -> Result<Option<PcCode>, StoreError> {
        let (table, columns) = (purpose.table(), purpose.columns());
        let row: Option<PcRow> =
            sqlx::query_as(sql(format!("SELECT {columns} FROM {table} WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| r.code(purpose)).transpose()
    }
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
