//! Browser sessions and the single-use challenges bound to them.

use super::{AuditEvent, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRecord {
    pub id_hash: Vec<u8>,
    /// Set once the holder proved who they are with the HPKI card.
    pub hpki_id: Option<String>,
    pub created_ms: i64,
    pub last_seen_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChallengeRecord {
    pub session_hash: Vec<u8>,
    pub purpose: String,
    pub expires_ms: i64,
}

/// In the caller's transaction: ends session `old_hash` (if any) with everything it carried (its
/// challenges and enrolment grant) and starts `new_hash`, identified as `hpki_id` or anonymous.
/// A login hands out a fresh id this way, so an id planted before it (session fixation) is worth
/// nothing after it.
pub(super) async fn rotate_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    old_hash: Option<&[u8]>,
    new_hash: &[u8],
    hpki_id: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    if let Some(old) = old_hash {
        let owned = [
            ("challenges", "session_hash"),
            ("enrol_grants", "session_hash"),
            ("sessions", "id_hash"),
        ];
        for (table, column) in owned {
            sqlx::query(super::sql(format!("DELETE FROM {table} WHERE {column} = $1")))
                .bind(old)
                .execute(&mut **tx)
                .await?;
        }
    }
    sqlx::query(
        "INSERT INTO sessions (id_hash, hpki_id, created_ms, last_seen_ms) VALUES ($1, $2, $3, $3)",
    )
    .bind(new_hash)
    .bind(hpki_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// A new anonymous session. Not synced: after a crash the browser is simply given another.
    pub async fn session_insert(&self, id_hash: &[u8], now: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO sessions (id_hash, hpki_id, created_ms, last_seen_ms) VALUES ($1, NULL, $2, $2)")
            .bind(id_hash)
            .bind(now)
            .execute(&self.relaxed)
            .await?;
        Ok(())
    }

    /// The session with this id as stored, live or not, without touching it (a live-event
    /// stream checking that its session still lives must not keep it alive).
    pub async fn session_get(&self, id_hash: &[u8]) -> Result<Option<SessionRecord>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id_hash, hpki_id, created_ms, last_seen_ms FROM sessions WHERE id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The live session with this id, its idle clock restarted; `None` if unknown or expired
    /// (an expired one is deleted on the way).
    pub async fn session_touch(
        &self,
        id_hash: &[u8],
        now: i64,
        idle_ms: i64,
        max_ms: i64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let row: Option<SessionRecord> = sqlx::query_as(
            "SELECT id_hash, hpki_id, created_ms, last_seen_ms FROM sessions WHERE id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(mut s) = row else { return Ok(None) };
        if now - s.last_seen_ms > idle_ms || now - s.created_ms > max_ms {
            self.session_delete(id_hash).await?;
            return Ok(None);
        }
        // The idle clock is not synced: a crash can only set it back a little.
        sqlx::query("UPDATE sessions SET last_seen_ms = $1 WHERE id_hash = $2")
            .bind(now)
            .bind(id_hash)
            .execute(&self.relaxed)
            .await?;
        s.last_seen_ms = now;
        Ok(Some(s))
    }

    /// Replaces an anonymous session by a new, authenticated one in one step: a fresh id on
    /// login, so an id planted before login (session fixation) is worth nothing after it. The
    /// login's audit row, if it has one of its own, is written in the same commit: one sync for
    /// both, and neither without the other.
    pub async fn session_authenticate(
        &self,
        old_hash: &[u8],
        new_hash: &[u8],
        hpki_id: &str,
        now: i64,
        audit: Option<&AuditEvent>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        rotate_in(&mut tx, Some(old_hash), new_hash, Some(hpki_id), now).await?;
        if let Some(audit) = audit {
            self.audit_in(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn session_delete(&self, id_hash: &[u8]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM challenges WHERE session_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Not synced: an unanswered challenge lost in a crash is asked for again.
    pub async fn challenge_insert(
        &self,
        challenge: &[u8],
        session_hash: &[u8],
        purpose: &str,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO challenges (challenge, session_hash, purpose, expires_ms) VALUES ($1, $2, $3, $4)")
            .bind(challenge)
            .bind(session_hash)
            .bind(purpose)
            .bind(expires_ms)
            .execute(&self.relaxed)
            .await?;
        Ok(())
    }

    /// Removes and returns a challenge: whatever happens next, it can never be used again.
    /// Not synced itself: the durable commit that follows (the sign-in, its audit row) flushes
    /// the log up to it, so a challenge that signed someone in cannot come back after a crash.
    pub async fn challenge_take(
        &self,
        challenge: &[u8],
    ) -> Result<Option<ChallengeRecord>, StoreError> {
        Ok(sqlx::query_as(
            "DELETE FROM challenges WHERE challenge = $1 RETURNING session_hash, purpose, expires_ms",
        )
        .bind(challenge)
        .fetch_optional(&self.relaxed)
        .await?)
    }
}
