//! スマートフォン変更: the bound phone proves the holder to a PC that has no HPKI card, through a
//! single-use code (a [`PcCode`](super::PcCode) of [`PcPurpose::Change`], whose lifecycle is
//! `phone_codes.rs`) and a WebAuthn assertion naming the 本人ID it claims.

use super::{
    AuditAction, AuditEvent, PhoneRecord, Store, StoreError,
    ceremonies::Assertion,
    confirmations::{self, NewConfirmation, Purpose},
    phone_codes::{self, EnrolError, PcPurpose},
};

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
            let (id, phone) = (b.proof_id, b.phone_session_hash);
            let claimed = EnrolError::Claimed;
            return Err(phone_codes::refusal_in(
                &mut tx,
                PcPurpose::Change,
                id,
                phone,
                b.now_ms,
                claimed,
            )
            .await);
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
        let pc = phone_codes::prove_in(
            &mut tx,
            PcPurpose::Change,
            p.proof_id,
            &p.phone_session_hash,
            &hpki_id,
            p.now_ms,
        )
        .await?;
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
