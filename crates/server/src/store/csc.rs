//! CSC API v2 signature activation data: the SAD rows `credentials/authorize` writes and
//! `signatures/signHash` spends. The spend decrements the counter in the statement that checks
//! it and stays open (its transaction) while the HSM signs, so a failed signature gives the
//! signatures back and parallel spends never exceed what was granted.

use super::{AuditEvent, Store, StoreError};

/// A SAD as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SadRecord {
    pub id: i64,
    pub credential_id: String,
    pub hpki_id: String,
    pub client_id: String,
    pub sid: String,
    /// Base64 hashes, space separated.
    pub hashes: String,
    pub remaining: i64,
    pub created_ms: i64,
    pub expires_ms: i64,
}

/// A new SAD to record.
#[derive(Debug, Clone)]
pub struct NewSad<'a> {
    pub sad_hash: &'a [u8],
    pub credential_id: &'a str,
    pub hpki_id: &'a str,
    pub client_id: &'a str,
    pub sid: &'a str,
    pub hashes: String,
    pub remaining: i64,
    pub now_ms: i64,
    pub expires_ms: i64,
}

/// Signatures taken from a SAD, not yet committed: `commit` with their audit rows, or drop to
/// give them back.
pub struct SadSpend {
    store: Store,
    tx: sqlx::Transaction<'static, sqlx::Any>,
}

impl SadSpend {
    pub async fn commit(mut self, events: &[AuditEvent]) -> Result<(), StoreError> {
        for e in events {
            self.store.audit_in(&mut self.tx, e).await?;
        }
        self.tx.commit().await?;
        Ok(())
    }
}

const COLUMNS: &str =
    "id, credential_id, hpki_id, client_id, sid, hashes, remaining, created_ms, expires_ms";

impl Store {
    /// Records a SAD, with the authorisation's audit row.
    pub async fn csc_sad_insert(
        &self,
        s: &NewSad<'_>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO csc_sads (sad_hash, credential_id, hpki_id, client_id, sid, hashes, \
             remaining, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(s.sad_hash)
        .bind(s.credential_id)
        .bind(s.hpki_id)
        .bind(s.client_id)
        .bind(s.sid)
        .bind(&s.hashes)
        .bind(s.remaining)
        .bind(s.now_ms)
        .bind(s.expires_ms)
        .execute(&mut *tx)
        .await?;
        self.audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The SAD whose hash is `sad_hash`, whatever its state.
    pub async fn csc_sad_get(&self, sad_hash: &[u8]) -> Result<Option<SadRecord>, StoreError> {
        let q = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM csc_sads WHERE sad_hash = $1"));
        Ok(sqlx::query_as(q).bind(sad_hash).fetch_optional(&self.pool).await?)
    }

    /// Takes `n` signatures from the SAD `id` if it still has them and is not expired at
    /// `now_ms`; `None` otherwise (used up, expired, or another call took them first).
    pub async fn csc_sad_spend(
        &self,
        id: i64,
        n: i64,
        now_ms: i64,
    ) -> Result<Option<SadSpend>, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE csc_sads SET remaining = remaining - $1 \
             WHERE id = $2 AND remaining >= $1 AND expires_ms > $3",
        )
        .bind(n)
        .bind(id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(None);
        }
        Ok(Some(SadSpend { store: self.clone(), tx }))
    }
}
