//! スマートフォン変更: the bound phone proves the holder to a PC that has no HPKI card, through a
//! single-use code (the same token discipline as enrolments) and a WebAuthn assertion.

use super::{
    AuditAction, AuditEvent, PhoneRecord, Store, StoreError,
    ceremonies::Assertion,
    confirmations::{self, NewConfirmation, Purpose},
    phone_codes::{self, ByPhone, CodeState, EnrolError, PhoneCode},
    sql,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofRecord {
    pub id: i64,
    pub pc_session_hash: Vec<u8>,
    /// `Consumed` stands for 'proved' (the old phone passed; the PC's grant waits for the
    /// confirmation code).
    pub state: CodeState,
    pub phone_session_hash: Option<Vec<u8>>,
    /// Set once proved.
    pub hpki_id: Option<String>,
    pub created_ms: i64,
    pub expires_ms: i64,
}

impl PhoneCode for ProofRecord {
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
    created_ms: i64,
    expires_ms: i64,
}

impl TryFrom<Row> for ProofRecord {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        let state = CodeState::parse(Purpose::Change, &r.state)?;
        Ok(Self {
            id: r.id,
            pc_session_hash: r.pc_session_hash,
            state,
            phone_session_hash: r.phone_session_hash,
            hpki_id: r.hpki_id,
            created_ms: r.created_ms,
            expires_ms: r.expires_ms,
        })
    }
}

const COLUMNS: &str = "id, pc_session_hash, state, phone_session_hash, hpki_id, \
                       created_ms, expires_ms";

/// A verified assertion of the old phone, to commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvedBy {
    pub proof_id: i64,
    pub phone_session_hash: Vec<u8>,
    /// The assertion state it was verified against; deleted in the commit.
    pub assertion: Assertion,
    pub credential_id: Vec<u8>,
    /// The credential with its signature counter moved on, if it moved.
    pub updated_passkey: Option<String>,
    /// SHA-256 of the confirmation code the old phone will show.
    pub confirm_code_hash: Vec<u8>,
    /// Until when the PC may enter it.
    pub confirm_expires_ms: i64,
    pub now_ms: i64,
}

/// The old phone's `begin`: the 本人ID it names, and the assertion state when that holder has a
/// phone to assert with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProofBegin<'a> {
    pub proof_id: i64,
    pub phone_session_hash: &'a [u8],
    pub hpki_id: &'a str,
    /// `None` when the 本人ID has no phone (or no holder).
    pub assertion: Option<&'a Assertion>,
    pub expires_ms: i64,
    pub now_ms: i64,
}

impl Store {
    /// A new first code for `pc_session_hash`, cancelling its earlier live one.
    pub async fn proof_issue(
        &self,
        token_hash: &[u8],
        pc_session_hash: &[u8],
        now: i64,
        expires_ms: i64,
    ) -> Result<ProofRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        Self::cancel_live(&mut tx, pc_session_hash, now).await?;
        let row: Row = sqlx::query_as(sql(format!(
            "INSERT INTO phone_proofs (token_hash, pc_session_hash, state, created_ms, \
             expires_ms) VALUES ($1, $2, 'valid', $3, $4) RETURNING {COLUMNS}"
        )))
        .bind(token_hash)
        .bind(pc_session_hash)
        .bind(now)
        .bind(expires_ms)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        row.try_into()
    }

    /// The PC pressed 中止: its live first code stops opening, and a phone part way through
    /// cannot prove with it. The ids of those cancelled (none if nothing was live).
    pub async fn proof_cancel(
        &self,
        pc_session_hash: &[u8],
        now: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        let cancelled = Self::cancel_live(&mut tx, pc_session_hash, now).await?;
        tx.commit().await?;
        Ok(cancelled)
    }

    /// Ends the PC session's live first codes and drops their assertion states; the ids of those
    /// cancelled. One that already ran out is written down as expired instead, so a phone
    /// opening it late is told that, not "replaced".
    async fn cancel_live(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        pc_session_hash: &[u8],
        now: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let ended: Vec<(i64, String)> = sqlx::query_as(
            "UPDATE phone_proofs \
             SET state = CASE WHEN expires_ms <= $1 THEN 'expired' ELSE 'cancelled' END, \
                 ended_ms = $1 \
             WHERE pc_session_hash = $2 AND state IN ('valid', 'in_use') RETURNING id, state",
        )
        .bind(now)
        .bind(pc_session_hash)
        .fetch_all(&mut **tx)
        .await?;
        // Proved by the old phone but not yet confirmed on this PC: 中止 ends it too, so the
        // phone showing the code hears it ended instead of waiting out the clock.
        let unconfirmed: Vec<i64> = sqlx::query_scalar(
            "UPDATE phone_proofs SET state = 'cancelled', ended_ms = $1 \
             WHERE pc_session_hash = $2 AND state = 'proved' AND id IN \
             (SELECT subject_id FROM phone_confirmations \
              WHERE purpose = 'change' AND state = 'pending') RETURNING id",
        )
        .bind(now)
        .bind(pc_session_hash)
        .fetch_all(&mut **tx)
        .await?;
        let ended: Vec<(i64, String)> = ended
            .into_iter()
            .chain(unconfirmed.into_iter().map(|id| (id, "cancelled".to_owned())))
            .collect();
        let ids: Vec<i64> = ended.iter().map(|(id, _)| *id).collect();
        phone_codes::drop_ceremonies(tx, Purpose::Change, &ids).await?;
        Ok(ended.into_iter().filter(|(_, state)| state == "cancelled").map(|(id, _)| id).collect())
    }

    /// The first phone to present the token owns the proof (see [`phone_codes::take`]).
    pub async fn proof_open(
        &self,
        token_hash: &[u8],
        phone_session_hash: &[u8],
        now: i64,
    ) -> Result<ProofRecord, EnrolError> {
        let taken: Option<Row> = phone_codes::take(
            &self.pool,
            Purpose::Change,
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
        self.proof_usable(ByPhone::Token(token_hash), phone_session_hash, now).await
    }

    /// The proof this phone opened and may still answer.
    pub async fn proof_of_phone(
        &self,
        phone_session_hash: &[u8],
        now: i64,
    ) -> Result<ProofRecord, EnrolError> {
        self.proof_usable(ByPhone::Cookie(phone_session_hash), phone_session_hash, now).await
    }

    async fn proof_usable(
        &self,
        by: ByPhone<'_>,
        phone_session_hash: &[u8],
        now: i64,
    ) -> Result<ProofRecord, EnrolError> {
        let row: Option<Row> = phone_codes::find(&self.pool, Purpose::Change, COLUMNS, by).await?;
        phone_codes::usable(row.map(ProofRecord::try_from).transpose()?, phone_session_hash, now)
    }

    /// The newest proof of a PC session, whatever its state.
    pub async fn proof_latest(
        &self,
        pc_session_hash: &[u8],
    ) -> Result<Option<ProofRecord>, StoreError> {
        let row: Option<Row> = sqlx::query_as(sql(format!(
            "SELECT {COLUMNS} FROM phone_proofs WHERE pc_session_hash = $1 ORDER BY id DESC LIMIT 1"
        )))
        .bind(pc_session_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(TryInto::try_into).transpose()
    }

    pub async fn proof_get(&self, id: i64) -> Result<Option<ProofRecord>, StoreError> {
        let row: Option<Row> =
            sqlx::query_as(sql(format!("SELECT {COLUMNS} FROM phone_proofs WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(TryInto::try_into).transpose()
    }

    /// The old phone's begin, in one transaction: the first begin of a proof fixes the 本人ID it
    /// may look up (a later begin naming another is refused), the assertion state is stored when
    /// the holder has a phone and any earlier one dropped when not (one statement either way, so
    /// both take alike), and the begin is audited.
    pub async fn proof_begin(
        &self,
        b: &ProofBegin<'_>,
        client: Option<&str>,
    ) -> Result<(), EnrolError> {
        let mut tx = self.begin_write().await?;
        let claimed = sqlx::query(
            "UPDATE phone_proofs SET begun_hpki_id = $1 \
             WHERE id = $2 AND state = 'in_use' AND phone_session_hash = $3 AND expires_ms > $4 \
             AND (begun_hpki_id IS NULL OR begun_hpki_id = $1)",
        )
        .bind(b.hpki_id)
        .bind(b.proof_id)
        .bind(b.phone_session_hash)
        .bind(b.now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed != 1 {
            let row: Row =
                sqlx::query_as(sql(format!("SELECT {COLUMNS} FROM phone_proofs WHERE id = $1")))
                    .bind(b.proof_id)
                    .fetch_one(&mut *tx)
                    .await?;
            let p = ProofRecord::try_from(row)?;
            return Err(p.refusal(b.phone_session_hash, b.now_ms).unwrap_or(EnrolError::Claimed));
        }
        match b.assertion {
            Some(state) => {
                sqlx::query(
                    "INSERT INTO webauthn_assertions (proof_id, hpki_id, state, expires_ms) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (proof_id) DO UPDATE SET \
                     hpki_id = excluded.hpki_id, state = excluded.state, \
                     expires_ms = excluded.expires_ms",
                )
                .bind(b.proof_id)
                .bind(b.hpki_id)
                .bind(state.stored())
                .bind(b.expires_ms)
                .execute(&mut *tx)
                .await?;
            }
            None => phone_codes::drop_ceremonies(&mut tx, Purpose::Change, &[b.proof_id]).await?,
        }
        let phone = if b.assertion.is_some() { "bound" } else { "none" };
        self.audit_in(
            &mut tx,
            &AuditEvent {
                hpki_id: Some(b.hpki_id.to_owned()),
                action: AuditAction::PhoneChangeBegin,
                client: client.map(Into::into),
                outcome: "ok".into(),
                detail: Some(format!("proof={} phone={phone}", b.proof_id)),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The waiting assertion of a proof: the holder it is for and its state.
    pub async fn assertion_get(
        &self,
        proof_id: i64,
        now: i64,
    ) -> Result<Option<(String, Assertion)>, StoreError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT hpki_id, state FROM webauthn_assertions WHERE proof_id = $1 AND expires_ms > $2",
        )
        .bind(proof_id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(hpki_id, state)| Ok((hpki_id, Assertion::from_stored(state)?))).transpose()
    }

    /// Discards an assertion whose answer failed verification: a challenge is answered once.
    pub async fn assertion_discard(
        &self,
        proof_id: i64,
        state: &Assertion,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM webauthn_assertions WHERE proof_id = $1 AND state = $2")
            .bind(proof_id)
            .bind(state.stored())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Commits the old phone's proof in one transaction: consumes the assertion state and the
    /// proof, checks the credential is still the holder's working phone, records its counter,
    /// starts the confirmation the old phone shows, and audits it. The PC's session gets
    /// nothing yet: a PC that sent the holder its link (phishing) has no grant until it enters
    /// the code shown only on the holder's phone.
    pub async fn proof_commit(
        &self,
        p: &ProvedBy,
        client: Option<&str>,
    ) -> Result<String, EnrolError> {
        let mut tx = self.begin_write().await?;
        let hpki_id: Option<String> = sqlx::query_scalar(
            "DELETE FROM webauthn_assertions WHERE proof_id = $1 AND state = $2 AND expires_ms > $3 \
             RETURNING hpki_id",
        )
        .bind(p.proof_id)
        .bind(p.assertion.stored())
        .bind(p.now_ms)
        .fetch_optional(&mut *tx)
        .await?;
        let hpki_id = hpki_id.ok_or(EnrolError::NoCeremony)?;
        let pc: Option<Vec<u8>> = sqlx::query_scalar(
            "UPDATE phone_proofs SET state = 'proved', hpki_id = $1, ended_ms = $2 \
             WHERE id = $3 AND state = 'in_use' AND phone_session_hash = $4 AND expires_ms > $2 \
             RETURNING pc_session_hash",
        )
        .bind(&hpki_id)
        .bind(p.now_ms)
        .bind(p.proof_id)
        .bind(&p.phone_session_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(pc) = pc else {
            let row: Row =
                sqlx::query_as(sql(format!("SELECT {COLUMNS} FROM phone_proofs WHERE id = $1")))
                    .bind(p.proof_id)
                    .fetch_one(&mut *tx)
                    .await?;
            let now_p = ProofRecord::try_from(row)?;
            return Err(now_p.refusal(&p.phone_session_hash, p.now_ms).unwrap_or(EnrolError::Used));
        };
        // Revoked or replaced since the assertion began: it proves nothing any more.
        let phone: Option<PhoneRecord> = sqlx::query_as(
            "SELECT id, hpki_id, credential_id, passkey, label, enrolment_id, created_ms, \
             revoked_ms, revoked_reason FROM phone_credentials \
             WHERE credential_id = $1 AND hpki_id = $2 AND revoked_ms IS NULL",
        )
        .bind(&p.credential_id)
        .bind(&hpki_id)
        .fetch_optional(&mut *tx)
        .await?;
        let phone = phone.ok_or(EnrolError::NoCeremony)?;
        if let Some(passkey) = &p.updated_passkey {
            sqlx::query("UPDATE phone_credentials SET passkey = $1 WHERE id = $2")
                .bind(passkey)
                .bind(phone.id)
                .execute(&mut *tx)
                .await?;
        }
        confirmations::start_in(
            &mut tx,
            &NewConfirmation {
                purpose: Purpose::Change,
                subject_id: p.proof_id,
                pc_session_hash: &pc,
                phone_session_hash: &p.phone_session_hash,
                code_hash: &p.confirm_code_hash,
                now_ms: p.now_ms,
                expires_ms: p.confirm_expires_ms,
            },
        )
        .await?;
        self.audit_in(
            &mut tx,
            &AuditEvent {
                hpki_id: Some(hpki_id.clone()),
                action: AuditAction::PhoneChangeProve,
                client: client.map(Into::into),
                outcome: "ok".into(),
                detail: Some(format!("proof={} phone={}", p.proof_id, phone.id)),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(hpki_id)
    }
}
