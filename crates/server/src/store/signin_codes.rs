//! The スマートフォン way of the daily sign-in: the discoverable assertion a browser answers on
//! the device itself (`signin_assertions`), and a PC's sign-in code that the phone opens
//! (`signin_codes`, the third purpose of the phone-code lifecycle: [`Purpose::SignIn`]), proves
//! with its passkey and confirms by the code it shows (see `confirmations.rs`, which uses the
//! code up as it signs the PC in).

use super::{
    AuditAction, AuditEvent, PhoneRecord, Store, StoreError,
    ceremonies::SignInAssertion,
    confirmations::{self, NewConfirmation, Purpose},
    phone_codes::{self, ByPhone, CodeState, EnrolError, PhoneCode},
    sql,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInCodeRecord {
    pub id: i64,
    pub pc_session_hash: Vec<u8>,
    /// `Consumed` stands for 'proved' (the phone's passkey passed; the PC waits for the code).
    pub state: CodeState,
    pub phone_session_hash: Option<Vec<u8>>,
    /// Set once proved.
    pub hpki_id: Option<String>,
    /// When the PC entered the right code and was signed in.
    pub completed_ms: Option<i64>,
    pub created_ms: i64,
    pub expires_ms: i64,
}

impl PhoneCode for SignInCodeRecord {
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
struct Row {
    id: i64,
    pc_session_hash: Vec<u8>,
    state: String,
    phone_session_hash: Option<Vec<u8>>,
    hpki_id: Option<String>,
    completed_ms: Option<i64>,
    created_ms: i64,
    expires_ms: i64,
}

impl TryFrom<Row> for SignInCodeRecord {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Self {
            state: CodeState::parse(Purpose::SignIn, &r.state)?,
            id: r.id,
            pc_session_hash: r.pc_session_hash,
            phone_session_hash: r.phone_session_hash,
            hpki_id: r.hpki_id,
            completed_ms: r.completed_ms,
            created_ms: r.created_ms,
            expires_ms: r.expires_ms,
        })
    }
}

const COLUMNS: &str = "id, pc_session_hash, state, phone_session_hash, hpki_id, completed_ms, \
                       created_ms, expires_ms";

const PHONE_COLUMNS: &str = "id, hpki_id, credential_id, passkey, label, enrolment_id, \
                             created_ms, revoked_ms, revoked_reason";

/// A phone's verified passkey answer to a sign-in code, to commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInCodeProof<'a> {
    pub code_id: i64,
    pub phone_session_hash: &'a [u8],
    pub hpki_id: &'a str,
    pub phone_id: i64,
    pub backed_up: bool,
    /// The credential with its counter and backup state moved on, if they moved.
    pub updated_passkey: Option<&'a str>,
    /// SHA-256 of the confirmation code the phone will show.
    pub confirm_code_hash: &'a [u8],
    pub confirm_expires_ms: i64,
    pub now_ms: i64,
}

impl Store {
    // ---- On the device itself ----

    /// Stores the discoverable assertion `session_hash`'s browser is about to answer, replacing
    /// the one it asked for before (one at a time).
    pub async fn signin_assertion_put(
        &self,
        session_hash: &[u8],
        state: &SignInAssertion,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO signin_assertions (session_hash, state, expires_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (session_hash) DO UPDATE SET state = excluded.state, \
             expires_ms = excluded.expires_ms",
        )
        .bind(session_hash)
        .bind(state.stored())
        .bind(expires_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes (deletes and returns) the browser's waiting assertion if it is still live: a
    /// challenge is answered once, right or wrong, and only by the browser that asked for it.
    pub async fn signin_assertion_take(
        &self,
        session_hash: &[u8],
        now: i64,
    ) -> Result<Option<SignInAssertion>, StoreError> {
        let state: Option<(String, i64)> = sqlx::query_as(
            "DELETE FROM signin_assertions WHERE session_hash = $1 RETURNING state, expires_ms",
        )
        .bind(session_hash)
        .fetch_optional(&self.pool)
        .await?;
        match state {
            Some((state, expires_ms)) if expires_ms > now => {
                Ok(Some(SignInAssertion::from_stored(state)?))
            }
            _ => Ok(None),
        }
    }

    /// The bound phone with this WebAuthn credential id, if it is still a working one.
    pub async fn phone_by_credential(
        &self,
        credential_id: &[u8],
    ) -> Result<Option<PhoneRecord>, StoreError> {
        Ok(sqlx::query_as(sql(format!(
            "SELECT {PHONE_COLUMNS} FROM phone_credentials \
             WHERE credential_id = $1 AND revoked_ms IS NULL"
        )))
        .bind(credential_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Keeps a working phone's passkey with its counter and backup state moved on.
    pub async fn phone_passkey_update(
        &self,
        phone_id: i64,
        passkey: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE phone_credentials SET passkey = $1 WHERE id = $2 AND revoked_ms IS NULL",
        )
        .bind(passkey)
        .bind(phone_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    // ---- From a PC ----

    /// A new sign-in code for the PC session `pc_session_hash`, cancelling its live ones; the
    /// new code and the ids cancelled.
    pub async fn signin_code_issue(
        &self,
        token_hash: &[u8],
        pc_session_hash: &[u8],
        now: i64,
        expires_ms: i64,
    ) -> Result<(SignInCodeRecord, Vec<i64>), StoreError> {
        let mut tx = self.begin_write().await?;
        let cancelled = Self::signin_cancel_live(&mut tx, pc_session_hash, now).await?;
        let row: Row = sqlx::query_as(sql(format!(
            "INSERT INTO signin_codes (token_hash, pc_session_hash, state, created_ms, expires_ms) \
             VALUES ($1, $2, 'valid', $3, $4) RETURNING {COLUMNS}"
        )))
        .bind(token_hash)
        .bind(pc_session_hash)
        .bind(now)
        .bind(expires_ms)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((row.try_into()?, cancelled))
    }

    /// 中止 on the PC: its live code stops working, and a phone part way through cannot finish
    /// or be confirmed. The ids cancelled.
    pub async fn signin_code_cancel(
        &self,
        pc_session_hash: &[u8],
        now: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        let cancelled = Self::signin_cancel_live(&mut tx, pc_session_hash, now).await?;
        tx.commit().await?;
        Ok(cancelled)
    }

    /// Ends the PC session's live codes (also one proved but not yet confirmed) and drops their
    /// assertion states.
    async fn signin_cancel_live(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        pc_session_hash: &[u8],
        now: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "UPDATE signin_codes SET state = 'cancelled', ended_ms = $1 \
             WHERE pc_session_hash = $2 AND (state IN ('valid', 'in_use') \
             OR (state = 'proved' AND completed_ms IS NULL)) RETURNING id",
        )
        .bind(now)
        .bind(pc_session_hash)
        .fetch_all(&mut **tx)
        .await?;
        phone_codes::drop_ceremonies(tx, Purpose::SignIn, &ids).await?;
        Ok(ids)
    }

    /// The first phone to present the token owns the code (see [`phone_codes::take`]).
    pub async fn signin_code_open(
        &self,
        token_hash: &[u8],
        phone_session_hash: &[u8],
        now: i64,
    ) -> Result<SignInCodeRecord, EnrolError> {
        let taken: Option<Row> = phone_codes::take(
            &self.pool,
            Purpose::SignIn,
            COLUMNS,
            token_hash,
            phone_session_hash,
            now,
            None,
        )
        .await?;
        if let Some(row) = taken {
            return Ok(row.try_into()?);
        }
        self.signin_code_usable(ByPhone::Token(token_hash), phone_session_hash, now).await
    }

    /// The code this phone opened and may still answer.
    pub async fn signin_code_of_phone(
        &self,
        phone_session_hash: &[u8],
        now: i64,
    ) -> Result<SignInCodeRecord, EnrolError> {
        self.signin_code_usable(ByPhone::Cookie(phone_session_hash), phone_session_hash, now).await
    }

    async fn signin_code_usable(
        &self,
        by: ByPhone<'_>,
        phone_session_hash: &[u8],
        now: i64,
    ) -> Result<SignInCodeRecord, EnrolError> {
        let row: Option<Row> = phone_codes::find(&self.pool, Purpose::SignIn, COLUMNS, by).await?;
        let code = row.map(SignInCodeRecord::try_from).transpose()?;
        phone_codes::usable(code, phone_session_hash, now)
    }

    /// The newest code of a PC session, whatever its state.
    pub async fn signin_code_latest(
        &self,
        pc_session_hash: &[u8],
    ) -> Result<Option<SignInCodeRecord>, StoreError> {
        let row: Option<Row> = sqlx::query_as(sql(format!(
            "SELECT {COLUMNS} FROM signin_codes WHERE pc_session_hash = $1 ORDER BY id DESC LIMIT 1"
        )))
        .bind(pc_session_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(TryInto::try_into).transpose()
    }

    pub async fn signin_code_get(&self, id: i64) -> Result<Option<SignInCodeRecord>, StoreError> {
        let row: Option<Row> =
            sqlx::query_as(sql(format!("SELECT {COLUMNS} FROM signin_codes WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(TryInto::try_into).transpose()
    }

    /// Stores the assertion the phone that owns code `code_id` is about to answer.
    pub async fn signin_code_assertion_put(
        &self,
        code_id: i64,
        state: &SignInAssertion,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO signin_code_assertions (code_id, state, expires_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (code_id) DO UPDATE SET state = excluded.state, \
             expires_ms = excluded.expires_ms",
        )
        .bind(code_id)
        .bind(state.stored())
        .bind(expires_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes (deletes and returns) the code's waiting assertion if still live: answered once.
    pub async fn signin_code_assertion_take(
        &self,
        code_id: i64,
        now: i64,
    ) -> Result<Option<SignInAssertion>, StoreError> {
        let state: Option<(String, i64)> = sqlx::query_as(
            "DELETE FROM signin_code_assertions WHERE code_id = $1 RETURNING state, expires_ms",
        )
        .bind(code_id)
        .fetch_optional(&self.pool)
        .await?;
        match state {
            Some((state, expires_ms)) if expires_ms > now => {
                Ok(Some(SignInAssertion::from_stored(state)?))
            }
            _ => Ok(None),
        }
    }

    /// Commits the phone's proof in one transaction: the code becomes 'proved' for the holder
    /// (only by the phone that owns it, while live), the phone must still be working, its
    /// passkey's counter moves on, the confirmation the phone shows starts, and it is audited.
    /// The PC gets nothing yet: it must enter the code shown only on this phone.
    pub async fn signin_code_prove(
        &self,
        p: &SignInCodeProof<'_>,
        client: Option<&str>,
    ) -> Result<(), EnrolError> {
        let mut tx = self.begin_write().await?;
        let pc: Option<Vec<u8>> = sqlx::query_scalar(
            "UPDATE signin_codes SET state = 'proved', hpki_id = $1, phone_id = $2, \
             backed_up = $3, ended_ms = $4 \
             WHERE id = $5 AND state = 'in_use' AND phone_session_hash = $6 AND expires_ms > $4 \
             RETURNING pc_session_hash",
        )
        .bind(p.hpki_id)
        .bind(p.phone_id)
        .bind(i64::from(p.backed_up))
        .bind(p.now_ms)
        .bind(p.code_id)
        .bind(p.phone_session_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(pc) = pc else {
            let row: Row =
                sqlx::query_as(sql(format!("SELECT {COLUMNS} FROM signin_codes WHERE id = $1")))
                    .bind(p.code_id)
                    .fetch_one(&mut *tx)
                    .await?;
            let now_c = SignInCodeRecord::try_from(row)?;
            return Err(now_c.refusal(p.phone_session_hash, p.now_ms).unwrap_or(EnrolError::Used));
        };
        let working: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM phone_credentials WHERE id = $1 AND hpki_id = $2 AND revoked_ms IS NULL",
        )
        .bind(p.phone_id)
        .bind(p.hpki_id)
        .fetch_optional(&mut *tx)
        .await?;
        // Revoked or replaced since it was looked up: it proves nothing.
        if working.is_none() {
            return Err(EnrolError::PasskeyUnknown);
        }
        if let Some(passkey) = p.updated_passkey {
            sqlx::query("UPDATE phone_credentials SET passkey = $1 WHERE id = $2")
                .bind(passkey)
                .bind(p.phone_id)
                .execute(&mut *tx)
                .await?;
        }
        confirmations::start_in(
            &mut tx,
            &NewConfirmation {
                purpose: Purpose::SignIn,
                subject_id: p.code_id,
                pc_session_hash: &pc,
                phone_session_hash: p.phone_session_hash,
                code_hash: p.confirm_code_hash,
                now_ms: p.now_ms,
                expires_ms: p.confirm_expires_ms,
            },
        )
        .await?;
        self.audit_in(
            &mut tx,
            &AuditEvent {
                hpki_id: Some(p.hpki_id.to_owned()),
                action: AuditAction::SignInCodeProve,
                client: client.map(Into::into),
                outcome: "ok".into(),
                detail: Some(format!("factor=passkey code={} phone={}", p.code_id, p.phone_id)),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
