//! The confirmation a phone owes the PC, written once for both flows (an enrolment code of
//! 別紙2, the first code of スマートフォン変更): the phone that opened the PC's code shows a short
//! code that the holder types on the PC. Only the code's SHA-256 is kept; every entry is one
//! conditional UPDATE that compares in the database and counts the try in the same statement,
//! so parallel guesses can never get more than [`CONFIRM_TRIES`] comparisons between them.

use super::{
    AuditAction, AuditEvent, EnrolError, GrantVia, Store, StoreError, grants::grant_upsert, sql,
};

/// Wrong entries after which the code is dead.
pub const CONFIRM_TRIES: i64 = 3;

/// Which code a confirmation guards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `subject_id` is an enrolment: its phone may register only once confirmed.
    Enrolment,
    /// `subject_id` is a first code of スマートフォン変更: the PC gets the grant only once confirmed.
    Change,
    /// `subject_id` is a sign-in code: the PC is signed in only once confirmed.
    SignIn,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enrolment => "enrolment",
            Self::Change => "change",
            Self::SignIn => "signin",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmState {
    Pending,
    Confirmed,
    /// Out of tries: dead for good.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    pub id: i64,
    pub purpose: Purpose,
    pub subject_id: i64,
    pub pc_session_hash: Vec<u8>,
    pub phone_session_hash: Vec<u8>,
    pub tries_left: u8,
    pub state: ConfirmState,
    pub expires_ms: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    purpose: String,
    subject_id: i64,
    pc_session_hash: Vec<u8>,
    phone_session_hash: Vec<u8>,
    tries_left: i64,
    state: String,
    expires_ms: i64,
}

impl TryFrom<Row> for Confirmation {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        let bad = |what: &str| StoreError::Corrupt(format!("confirmation {}: {what}", r.id));
        Ok(Self {
            id: r.id,
            purpose: match r.purpose.as_str() {
                "enrolment" => Purpose::Enrolment,
                "change" => Purpose::Change,
                "signin" => Purpose::SignIn,
                p => return Err(bad(&format!("purpose {p}"))),
            },
            subject_id: r.subject_id,
            tries_left: u8::try_from(r.tries_left).map_err(|_| bad("tries_left"))?,
            state: match r.state.as_str() {
                "pending" => ConfirmState::Pending,
                "confirmed" => ConfirmState::Confirmed,
                "failed" => ConfirmState::Failed,
                s => return Err(bad(&format!("state {s}"))),
            },
            pc_session_hash: r.pc_session_hash,
            phone_session_hash: r.phone_session_hash,
            expires_ms: r.expires_ms,
        })
    }
}

const COLUMNS: &str = "id, purpose, subject_id, pc_session_hash, phone_session_hash, tries_left, \
                       state, expires_ms";

/// A confirmation to start (or, for the same phone, to show anew).
#[derive(Debug, Clone)]
pub struct NewConfirmation<'a> {
    pub purpose: Purpose,
    pub subject_id: i64,
    pub pc_session_hash: &'a [u8],
    pub phone_session_hash: &'a [u8],
    /// SHA-256 of the code the phone will show.
    pub code_hash: &'a [u8],
    pub now_ms: i64,
    pub expires_ms: i64,
}

/// What one entry on the PC did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entered {
    /// The right code: the phone may go on. For a change, `holder` is whom the PC's (new)
    /// session may now enrol a phone for; for a sign-in, `signin` is the phone that proved them,
    /// and the PC's browser is to be signed in (the code is used up).
    Confirmed { confirmation: Confirmation, holder: String, signin: Option<SignInProved> },
    /// Wrong; this many tries remain.
    Wrong { confirmation: Confirmation, holder: String, tries_left: u8 },
    /// Wrong, and that was the last try: the code is dead.
    Failed { confirmation: Confirmation, holder: String },
}

/// The phone whose passkey proved the holder of a sign-in code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInProved {
    /// Its `phone_credentials` row.
    pub phone_id: i64,
    /// The passkey is synced (backup state): a software key.
    pub backed_up: bool,
}

/// For a change: the PC's session id is replaced as it receives the grant, so an id planted
/// in the PC's browser beforehand (session fixation) gets nothing.
#[derive(Debug, Clone)]
pub struct Rotation<'a> {
    pub new_session_hash: &'a [u8],
    pub grant_expires_ms: i64,
}

/// Starts (or re-shows) a confirmation inside the caller's transaction. The same phone opening
/// its code again (a reload) gets a new code but keeps the tries it has left, so reloading
/// never buys more guesses; one already confirmed stays confirmed; a dead one is refused.
pub(super) async fn start_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    new: &NewConfirmation<'_>,
) -> Result<ConfirmState, EnrolError> {
    let put = sqlx::query(
        "INSERT INTO phone_confirmations (purpose, subject_id, pc_session_hash, \
         phone_session_hash, code_hash, tries_left, state, created_ms, expires_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8) \
         ON CONFLICT (purpose, subject_id) DO UPDATE SET code_hash = excluded.code_hash \
         WHERE phone_confirmations.state = 'pending' \
         AND phone_confirmations.phone_session_hash = excluded.phone_session_hash",
    )
    .bind(new.purpose.as_str())
    .bind(new.subject_id)
    .bind(new.pc_session_hash)
    .bind(new.phone_session_hash)
    .bind(new.code_hash)
    .bind(CONFIRM_TRIES)
    .bind(new.now_ms)
    .bind(new.expires_ms)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if put == 1 {
        return Ok(ConfirmState::Pending);
    }
    let row: Row = sqlx::query_as(sql(format!(
        "SELECT {COLUMNS} FROM phone_confirmations WHERE purpose = $1 AND subject_id = $2"
    )))
    .bind(new.purpose.as_str())
    .bind(new.subject_id)
    .fetch_one(&mut **tx)
    .await?;
    let c = Confirmation::try_from(row)?;
    match c.state {
        _ if c.phone_session_hash != new.phone_session_hash => Err(EnrolError::OtherDevice),
        ConfirmState::Failed => Err(EnrolError::ConfirmationFailed),
        s => Ok(s),
    }
}

/// Whether the phone may go on with `subject`: `Ok` only once the PC confirmed, inside the
/// caller's transaction (so the commit and the check see the same row).
pub(super) async fn require_confirmed_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    purpose: Purpose,
    subject_id: i64,
    phone_session_hash: &[u8],
) -> Result<(), EnrolError> {
    let state: Option<String> = sqlx::query_scalar(
        "SELECT state FROM phone_confirmations \
         WHERE purpose = $1 AND subject_id = $2 AND phone_session_hash = $3",
    )
    .bind(purpose.as_str())
    .bind(subject_id)
    .bind(phone_session_hash)
    .fetch_optional(&mut **tx)
    .await?;
    match state.as_deref() {
        Some("confirmed") => Ok(()),
        Some("failed") => Err(EnrolError::ConfirmationFailed),
        _ => Err(EnrolError::ConfirmationPending),
    }
}

impl Store {
    /// Starts (or re-shows) a confirmation on its own (see [`start_in`]).
    pub async fn confirmation_start(
        &self,
        new: &NewConfirmation<'_>,
    ) -> Result<ConfirmState, EnrolError> {
        let mut tx = self.begin_write().await?;
        let state = start_in(&mut tx, new).await?;
        tx.commit().await?;
        Ok(state)
    }

    pub async fn confirmation_of_subject(
        &self,
        purpose: Purpose,
        subject_id: i64,
    ) -> Result<Option<Confirmation>, StoreError> {
        let row: Option<Row> = sqlx::query_as(sql(format!(
            "SELECT {COLUMNS} FROM phone_confirmations WHERE purpose = $1 AND subject_id = $2"
        )))
        .bind(purpose.as_str())
        .bind(subject_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(TryInto::try_into).transpose()
    }

    pub async fn confirmation_get(&self, id: i64) -> Result<Option<Confirmation>, StoreError> {
        let row: Option<Row> =
            sqlx::query_as(sql(format!("SELECT {COLUMNS} FROM phone_confirmations WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(TryInto::try_into).transpose()
    }

    /// The newest confirmation of the phone with this cookie.
    pub async fn confirmation_of_phone(
        &self,
        phone_session_hash: &[u8],
    ) -> Result<Option<Confirmation>, StoreError> {
        let row: Option<Row> = sqlx::query_as(sql(format!(
            "SELECT {COLUMNS} FROM phone_confirmations WHERE phone_session_hash = $1 \
             ORDER BY id DESC LIMIT 1"
        )))
        .bind(phone_session_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(TryInto::try_into).transpose()
    }

    /// The holder typed a code on the PC with session `pc_session_hash`: compared with the
    /// newest confirmation that PC is asked for, in one statement that also counts the try.
    /// For a change, the right code grants the PC's session (rotated by `rotation`) enrolment
    /// for the holder, in the same transaction. Every outcome is audited.
    pub async fn confirmation_enter(
        &self,
        pc_session_hash: &[u8],
        code_hash: &[u8],
        now: i64,
        rotation: Rotation<'_>,
        client: Option<&str>,
    ) -> Result<Entered, EnrolError> {
        let mut tx = self.begin_write().await?;
        let row: Option<Row> = sqlx::query_as(sql(format!(
            "SELECT {COLUMNS} FROM phone_confirmations WHERE pc_session_hash = $1 \
             ORDER BY id DESC LIMIT 1"
        )))
        .bind(pc_session_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let c = Confirmation::try_from(row.ok_or(EnrolError::ConfirmationUnknown)?)?;
        match c.state {
            ConfirmState::Pending => {}
            ConfirmState::Failed => return Err(EnrolError::ConfirmationFailed),
            ConfirmState::Confirmed => return Err(EnrolError::ConfirmationUnknown),
        }
        // The code the PC may still confirm belongs to a live subject: a cancelled or expired
        // code confirms nothing.
        let holder: Option<String> = match c.purpose {
            Purpose::Enrolment => {
                sqlx::query_scalar(
                    "SELECT hpki_id FROM enrolments WHERE id = $1 AND state = 'in_use' \
                     AND expires_ms > $2",
                )
                .bind(c.subject_id)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?
            }
            Purpose::Change => {
                sqlx::query_scalar(
                    "SELECT hpki_id FROM phone_proofs WHERE id = $1 AND state = 'proved'",
                )
                .bind(c.subject_id)
                .fetch_optional(&mut *tx)
                .await?
            }
            Purpose::SignIn => {
                sqlx::query_scalar(
                    "SELECT hpki_id FROM signin_codes WHERE id = $1 AND state = 'proved' \
                     AND completed_ms IS NULL",
                )
                .bind(c.subject_id)
                .fetch_optional(&mut *tx)
                .await?
            }
        };
        let holder = holder.ok_or(EnrolError::ConfirmationUnknown)?;
        // Compare and count in one statement: the row lock (PostgreSQL) or the single writer
        // (SQLite) orders parallel entries, and each re-checks `state = 'pending'`.
        let after: Option<(String, i64)> = sqlx::query_as(
            "UPDATE phone_confirmations SET \
               state = CASE WHEN code_hash = $1 THEN 'confirmed' \
                            WHEN tries_left <= 1 THEN 'failed' ELSE 'pending' END, \
               ended_ms = CASE WHEN code_hash = $1 OR tries_left <= 1 THEN $2 ELSE NULL END, \
               tries_left = CASE WHEN code_hash = $1 THEN tries_left ELSE tries_left - 1 END \
             WHERE id = $3 AND state = 'pending' AND expires_ms > $2 \
             RETURNING state, tries_left",
        )
        .bind(code_hash)
        .bind(now)
        .bind(c.id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((state, tries_left)) = after else {
            // Another entry or the clock won meanwhile.
            let state: String =
                sqlx::query_scalar("SELECT state FROM phone_confirmations WHERE id = $1")
                    .bind(c.id)
                    .fetch_one(&mut *tx)
                    .await?;
            return Err(match state.as_str() {
                "failed" => EnrolError::ConfirmationFailed,
                "pending" => EnrolError::Expired,
                _ => EnrolError::ConfirmationUnknown,
            });
        };
        let tries_left = u8::try_from(tries_left).unwrap_or(0);
        let subject = format!("{}={}", c.purpose.as_str(), c.subject_id);
        let (outcome, entered) = match state.as_str() {
            "confirmed" => {
                let mut signin = None;
                if c.purpose == Purpose::SignIn {
                    // Used up here, once: only this entry signs the PC in. The phone must still
                    // be the holder's working one (not revoked or replaced since it proved).
                    let used: Option<(i64, i64)> = sqlx::query_as(
                        "UPDATE signin_codes SET completed_ms = $1 \
                         WHERE id = $2 AND state = 'proved' AND completed_ms IS NULL \
                         AND phone_id IN (SELECT id FROM phone_credentials \
                                          WHERE revoked_ms IS NULL AND hpki_id = $3) \
                         RETURNING phone_id, backed_up",
                    )
                    .bind(now)
                    .bind(c.subject_id)
                    .bind(&holder)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let (phone_id, backed_up) = used.ok_or(EnrolError::PasskeyUnknown)?;
                    signin = Some(SignInProved { phone_id, backed_up: backed_up != 0 });
                }
                if c.purpose == Purpose::Change {
                    rotate_in(&mut tx, pc_session_hash, &rotation, now).await?;
                    grant_upsert(
                        rotation.new_session_hash,
                        &holder,
                        GrantVia::Phone,
                        rotation.grant_expires_ms,
                    )
                    .execute(&mut *tx)
                    .await?;
                }
                ("ok", Entered::Confirmed { confirmation: c, holder: holder.clone(), signin })
            }
            "failed" => ("failed", Entered::Failed { confirmation: c, holder: holder.clone() }),
            _ => ("wrong", Entered::Wrong { confirmation: c, holder: holder.clone(), tries_left }),
        };
        self.audit_in(
            &mut tx,
            &AuditEvent {
                hpki_id: Some(holder),
                action: AuditAction::PhoneConfirm,
                client: client.map(Into::into),
                outcome: outcome.into(),
                detail: Some(format!("{subject} tries_left={tries_left}")),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(entered)
    }
}

/// Replaces the PC's session by a fresh anonymous one (same age), dropping what hung on the old
/// id: its challenges, its grant, its live first codes.
async fn rotate_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    old: &[u8],
    rotation: &Rotation<'_>,
    now: i64,
) -> Result<(), StoreError> {
    let created: Option<i64> =
        sqlx::query_scalar("SELECT created_ms FROM sessions WHERE id_hash = $1")
            .bind(old)
            .fetch_optional(&mut **tx)
            .await?;
    for q in [
        "DELETE FROM challenges WHERE session_hash = $1",
        "DELETE FROM enrol_grants WHERE session_hash = $1",
        "DELETE FROM sessions WHERE id_hash = $1",
    ] {
        sqlx::query(q).bind(old).execute(&mut **tx).await?;
    }
    // The session's age carries over: rotation must not extend its maximum life.
    sqlx::query(
        "INSERT INTO sessions (id_hash, hpki_id, created_ms, last_seen_ms) VALUES ($1, NULL, $2, $3)",
    )
    .bind(rotation.new_session_hash)
    .bind(created.unwrap_or(now))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
