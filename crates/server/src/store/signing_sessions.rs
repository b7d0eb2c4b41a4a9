//! Signing sessions: a holder's once-a-day sign-in on one device (see migration 0009). Whether
//! one is alive is written once, in [`ALIVE`], so every read agrees with the holder's page.

use super::{AuditEvent, Store, StoreError, sql};

/// The columns every read returns, in [`SigningSessionRecord`]'s order.
const COLUMNS: &str = "s.sid, s.hpki_id, s.factor, s.amr, s.mynumber_id, s.phone_id, \
                       s.user_agent, s.created_ms, s.expires_ms";

/// Alive at `$1` (now): not ended, not expired, and the binding it used not revoked.
const ALIVE: &str = "s.ended_ms IS NULL AND s.expires_ms > $1 \
     AND NOT EXISTS (SELECT 1 FROM mynumber_bindings b \
                     WHERE b.id = s.mynumber_id AND b.revoked_ms IS NOT NULL) \
     AND NOT EXISTS (SELECT 1 FROM phone_credentials p \
                     WHERE p.id = s.phone_id AND p.revoked_ms IS NOT NULL)";

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SigningSessionRecord {
    pub sid: String,
    pub hpki_id: String,
    pub factor: String,
    /// RFC 8176 values, space-separated.
    pub amr: String,
    pub mynumber_id: Option<i64>,
    pub phone_id: Option<i64>,
    pub user_agent: Option<String>,
    pub created_ms: i64,
    pub expires_ms: i64,
}

/// A sign-in to record.
#[derive(Debug, Clone)]
pub struct NewSigningSession<'a> {
    pub sid: &'a str,
    pub cookie_hash: &'a [u8],
    pub hpki_id: &'a str,
    pub factor: &'a str,
    pub amr: &'a str,
    pub mynumber_id: Option<i64>,
    pub phone_id: Option<i64>,
    pub user_agent: Option<&'a str>,
    pub now_ms: i64,
    pub expires_ms: i64,
    /// The cookie this browser already held: its session ends as `replaced` in the same
    /// transaction (one signing session per device).
    pub replaces_cookie_hash: Option<&'a [u8]>,
}

impl Store {
    /// Records a sign-in, ending the one it replaces on this device, and its audit row: one
    /// commit (one fsync) for both, so the row exists exactly when the session does.
    pub async fn signing_session_begin(
        &self,
        new: &NewSigningSession<'_>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(old) = new.replaces_cookie_hash {
            sqlx::query(
                "UPDATE signing_sessions SET ended_ms = $1, end_reason = 'replaced' \
                 WHERE cookie_hash = $2 AND ended_ms IS NULL",
            )
            .bind(new.now_ms)
            .bind(old)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO signing_sessions (sid, cookie_hash, hpki_id, factor, amr, mynumber_id, \
             phone_id, user_agent, created_ms, expires_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(new.sid)
        .bind(new.cookie_hash)
        .bind(new.hpki_id)
        .bind(new.factor)
        .bind(new.amr)
        .bind(new.mynumber_id)
        .bind(new.phone_id)
        .bind(new.user_agent)
        .bind(new.now_ms)
        .bind(new.expires_ms)
        .execute(&mut *tx)
        .await?;
        self.audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The alive session this browser's cookie names.
    pub async fn signing_session_by_cookie(
        &self,
        cookie_hash: &[u8],
        now_ms: i64,
    ) -> Result<Option<SigningSessionRecord>, StoreError> {
        let q = sql(format!(
            "SELECT {COLUMNS} FROM signing_sessions s WHERE {ALIVE} AND s.cookie_hash = $2"
        ));
        Ok(sqlx::query_as(q).bind(now_ms).bind(cookie_hash).fetch_optional(&self.pool).await?)
    }

    /// The alive session `sid`.
    pub async fn signing_session_by_sid(
        &self,
        sid: &str,
        now_ms: i64,
    ) -> Result<Option<SigningSessionRecord>, StoreError> {
        let q =
            sql(format!("SELECT {COLUMNS} FROM signing_sessions s WHERE {ALIVE} AND s.sid = $2"));
        Ok(sqlx::query_as(q).bind(now_ms).bind(sid).fetch_optional(&self.pool).await?)
    }

    /// Whose session `sid` is (alive or not), if it exists.
    pub async fn signing_session_holder(&self, sid: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT hpki_id FROM signing_sessions WHERE sid = $1")
            .bind(sid)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// A holder's alive sessions, newest first.
    pub async fn signing_sessions_of(
        &self,
        hpki_id: &str,
        now_ms: i64,
    ) -> Result<Vec<SigningSessionRecord>, StoreError> {
        let q = sql(format!(
            "SELECT {COLUMNS} FROM signing_sessions s WHERE {ALIVE} AND s.hpki_id = $2 \
             ORDER BY s.created_ms DESC, s.id DESC"
        ));
        Ok(sqlx::query_as(q).bind(now_ms).bind(hpki_id).fetch_all(&self.pool).await?)
    }

    /// Ends session `sid` of `hpki_id`; false if it had already ended (or is not theirs).
    pub async fn signing_session_end(
        &self,
        hpki_id: &str,
        sid: &str,
        now_ms: i64,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE signing_sessions SET ended_ms = $1, end_reason = $2 \
             WHERE sid = $3 AND hpki_id = $4 AND ended_ms IS NULL",
        )
        .bind(now_ms)
        .bind(reason)
        .bind(sid)
        .bind(hpki_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends every session of `hpki_id` still open; how many it ended.
    pub async fn signing_sessions_end_all(
        &self,
        hpki_id: &str,
        now_ms: i64,
        reason: &str,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE signing_sessions SET ended_ms = $1, end_reason = $2 \
             WHERE hpki_id = $3 AND ended_ms IS NULL AND expires_ms > $1",
        )
        .bind(now_ms)
        .bind(reason)
        .bind(hpki_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
