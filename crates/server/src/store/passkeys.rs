//! The スマートフォン way of the daily sign-in: the discoverable assertion a browser answers on
//! the device itself (`signin_assertions`), and a PC's sign-in code (`signin_codes`, a
//! [`PcCode`](super::PcCode) of [`PcPurpose::SignIn`], whose lifecycle is `phone_codes.rs`) that
//! the phone opens, proves with its passkey and confirms by the code it shows (see
//! `confirmations.rs`, which uses the code up as it signs the PC in).

use super::{
    AuditAction, AuditEvent, PhoneRecord, Store, StoreError,
    ceremonies::SignInAssertion,
    confirmations::{self, NewConfirmation, Purpose},
    phone_codes::{self, EnrolError, PcPurpose},
    sql,
};

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

/// Whose discoverable assertion waits: a browser's own on the device itself (by its session), or
/// that of the phone which owns a PC's sign-in code.
#[derive(Debug, Clone, Copy)]
pub enum AssertionFor<'a> {
    Browser(&'a [u8]),
    Code(i64),
}

impl AssertionFor<'_> {
    /// Its table and key column.
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Self::Browser(_) => ("signin_assertions", "session_hash"),
            Self::Code(_) => ("signin_code_assertions", "code_id"),
        }
    }
}

impl Store {
    // ---- The waiting assertion (on the device itself, or the phone of a PC's code) ----

    /// Stores the discoverable assertion `who` is about to answer, replacing the one asked for
    /// before (one at a time). On the relaxed pool: an unanswered challenge lost in a crash
    /// costs the holder one more tap, so it need not cost a sync.
    pub async fn signin_assertion_put(
        &self,
        who: AssertionFor<'_>,
        state: &SignInAssertion,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        let (table, key) = who.table();
        let q = format!(
            "INSERT INTO {table} ({key}, state, expires_ms) VALUES ($1, $2, $3) \
             ON CONFLICT ({key}) DO UPDATE SET state = excluded.state, \
             expires_ms = excluded.expires_ms"
        );
        let q = sqlx::query(sql(q));
        let q = match who {
            AssertionFor::Browser(session_hash) => q.bind(session_hash),
            AssertionFor::Code(code_id) => q.bind(code_id),
        };
        q.bind(state.stored()).bind(expires_ms).execute(&self.relaxed).await?;
        Ok(())
    }

    /// Takes (deletes and returns) `who`'s waiting assertion if it is still live: a challenge
    /// is answered once, right or wrong, and only by the browser or phone that asked for it.
    pub async fn signin_assertion_take(
        &self,
        who: AssertionFor<'_>,
        now: i64,
    ) -> Result<Option<SignInAssertion>, StoreError> {
        let (table, key) = who.table();
        let q = format!("DELETE FROM {table} WHERE {key} = $1 RETURNING state, expires_ms");
        let q = sqlx::query_as(sql(q));
        let q = match who {
            AssertionFor::Browser(session_hash) => q.bind(session_hash),
            AssertionFor::Code(code_id) => q.bind(code_id),
        };
        let state: Option<(String, i64)> = q.fetch_optional(&self.relaxed).await?;
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

    /// Keeps a working phone's passkey with its counter and backup state moved on. Not synced by
    /// itself: the signing session that follows is, and the log is ordered, so an acknowledged
    /// sign-in's counter is on disk; a counter lost with an unanswered sign-in is overtaken by
    /// the phone's next one.
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
        .execute(&self.relaxed)
        .await?;
        Ok(())
    }

    // ---- From a PC, through its sign-in code ----

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
        let pc = phone_codes::prove_in(
            &mut tx,
            PcPurpose::SignIn,
            p.code_id,
            p.phone_session_hash,
            p.hpki_id,
            p.now_ms,
        )
        .await?;
        // Which phone proved it: the confirmation's entry signs the PC in only if that phone
        // is still working then.
        sqlx::query("UPDATE signin_codes SET phone_id = $1, backed_up = $2 WHERE id = $3")
            .bind(p.phone_id)
            .bind(i64::from(p.backed_up))
            .bind(p.code_id)
            .execute(&mut *tx)
            .await?;
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
