//! Enrolment authority without an HPKI login: grants bound to one browser session, and the
//! failure counter of the weaker JMA proof (医籍登録番号 + カードID).

use super::{AuditEvent, Store, StoreError};

/// How a session without an HPKI login proved the holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantVia {
    /// 医籍登録番号 and カードID, where the holder's CA allows it.
    Jma,
    /// A WebAuthn assertion of the holder's bound phone (スマートフォン変更).
    Phone,
}

impl GrantVia {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jma => "jma",
            Self::Phone => "phone",
        }
    }
}

/// Failures after which the JMA proof locks for the holder.
pub const JMA_MAX_FAILURES: i64 = 5;

/// The outcome of one failed JMA attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JmaFailure {
    /// Counted; more tries remain.
    Counted,
    /// This failure locked the holder (audited).
    LockedNow,
}

/// The statement that grants `session_hash` enrolment for `hpki_id` (replacing its earlier
/// grant), for use alone or inside a transaction.
pub(super) fn grant_upsert<'a>(
    session_hash: &'a [u8],
    hpki_id: &'a str,
    via: GrantVia,
    expires_ms: i64,
) -> sqlx::query::Query<'a, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(
        "INSERT INTO enrol_grants (session_hash, hpki_id, via, expires_ms) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (session_hash) DO UPDATE SET \
         hpki_id = excluded.hpki_id, via = excluded.via, expires_ms = excluded.expires_ms",
    )
    .bind(session_hash)
    .bind(hpki_id)
    .bind(via.as_str())
    .bind(expires_ms)
}

impl Store {
    /// Lets `session_hash` enrol a phone for `hpki_id` until `expires_ms` (replacing any grant
    /// it had).
    pub async fn grant_put(
        &self,
        session_hash: &[u8],
        hpki_id: &str,
        via: GrantVia,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        grant_upsert(session_hash, hpki_id, via, expires_ms).execute(&self.pool).await?;
        Ok(())
    }

    /// The live grant of a session, if any.
    pub async fn grant_get(
        &self,
        session_hash: &[u8],
        now: i64,
    ) -> Result<Option<(String, GrantVia)>, StoreError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT hpki_id, via FROM enrol_grants WHERE session_hash = $1 AND expires_ms > $2",
        )
        .bind(session_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(h, via)| (h, if via == "jma" { GrantVia::Jma } else { GrantVia::Phone })))
    }

    /// Holders registered under this 医籍登録番号 (normally one): 本人ID, カードID, CA.
    pub async fn identities_by_registration_number(
        &self,
        registration_number: &str,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT hpki_id, hpki_card_id, ca FROM identities WHERE registration_number = $1 \
             ORDER BY hpki_id",
        )
        .bind(registration_number)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn jma_locked(&self, hpki_id: &str) -> Result<bool, StoreError> {
        let locked: Option<Option<i64>> =
            sqlx::query_scalar("SELECT locked_ms FROM jma_attempts WHERE hpki_id = $1")
                .bind(hpki_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(matches!(locked, Some(Some(_))))
    }

    /// Counts a failed attempt; the fifth locks the holder, with its audit record, in the same
    /// transaction.
    pub async fn jma_fail(
        &self,
        hpki_id: &str,
        now: i64,
        client: Option<&str>,
    ) -> Result<JmaFailure, StoreError> {
        let mut tx = self.begin_write().await?;
        let failures: i64 = sqlx::query_scalar(
            "INSERT INTO jma_attempts (hpki_id, failures) VALUES ($1, 1) \
             ON CONFLICT (hpki_id) DO UPDATE SET failures = jma_attempts.failures + 1 \
             RETURNING failures",
        )
        .bind(hpki_id)
        .fetch_one(&mut *tx)
        .await?;
        let locked_now = sqlx::query(
            "UPDATE jma_attempts SET locked_ms = $1 \
             WHERE hpki_id = $2 AND failures >= $3 AND locked_ms IS NULL",
        )
        .bind(now)
        .bind(hpki_id)
        .bind(JMA_MAX_FAILURES)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if locked_now {
            self.audit_in(
                &mut tx,
                &AuditEvent {
                    hpki_id: Some(hpki_id.to_owned()),
                    action: "jma.lock".into(),
                    client: client.map(Into::into),
                    outcome: "ok".into(),
                    detail: Some(format!("failures={failures}")),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(if locked_now { JmaFailure::LockedNow } else { JmaFailure::Counted })
    }

    /// A correct attempt clears the count (a locked holder never gets this far).
    pub async fn jma_succeed(&self, hpki_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM jma_attempts WHERE hpki_id = $1 AND locked_ms IS NULL")
            .bind(hpki_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The CA lifts a lock (operator command); false if the holder was not locked.
    pub async fn jma_unlock(&self, hpki_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done =
            sqlx::query("DELETE FROM jma_attempts WHERE hpki_id = $1 AND locked_ms IS NOT NULL")
                .bind(hpki_id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        if done {
            self.audit_in(
                &mut tx,
                &AuditEvent {
                    hpki_id: Some(hpki_id.to_owned()),
                    action: "jma.unlock".into(),
                    outcome: "ok".into(),
                    ..AuditEvent::default()
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(done)
    }
}
