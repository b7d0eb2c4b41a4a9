//! CSC API v2 signature activation data: the SAD rows `credentials/authorize` writes (with one
//! `csc_sad_hashes` row per hash it covers) and `signatures/signHash` / `signDoc` spend. The
//! spend deletes each signed hash's row, and decrements the counter, in statements that check
//! they found what they take, and stays open (its transaction) while the HSM signs: a failed
//! signature gives everything back, a hash is signed at most once per SAD, and parallel spends
//! never exceed what was granted.

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
    /// The same hashes, each signable once (`csc_sad_hashes`).
    pub covered: Vec<[u8; 32]>,
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
    /// Records a SAD, with the authorisation's audit row, on the relaxed pool: a SAD lost in a
    /// power cut signed nothing (its client is told `invalid_sad` and authorises again), and
    /// the durable commit of its first signature syncs it, audit row included, with it. So a
    /// signature costs the disk one sync, not two.
    pub async fn csc_sad_insert(
        &self,
        s: &NewSad<'_>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_relaxed_write().await?;
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
        let id: i64 = sqlx::query_scalar("SELECT id FROM csc_sads WHERE sad_hash = $1")
            .bind(s.sad_hash)
            .fetch_one(&mut *tx)
            .await?;
        for h in &s.covered {
            sqlx::query("INSERT INTO csc_sad_hashes (sad_id, hash) VALUES ($1, $2)")
                .bind(id)
                .bind(&h[..])
                .execute(&mut *tx)
                .await?;
        }
        self.audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The SAD whose hash is `sad_hash`, whatever its state.
    pub async fn csc_sad_get(&self, sad_hash: &[u8]) -> Result<Option<SadRecord>, StoreError> {
        let q = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM csc_sads WHERE sad_hash = $1"));
        Ok(sqlx::query_as(q).bind(sad_hash).fetch_optional(&self.pool).await?)
    }

    /// Takes the signatures of `hashes` from the SAD `id`: each hash must still be unsigned
    /// with it (its row is deleted), the counter must have them, and the SAD must not be
    /// expired at `now_ms`; `None` otherwise (used, expired, or another call took them first:
    /// the database's row locks decide between racing calls).
    pub async fn csc_sad_spend(
        &self,
        id: i64,
        hashes: &[[u8; 32]],
        now_ms: i64,
    ) -> Result<Option<SadSpend>, StoreError> {
        let n = i64::try_from(hashes.len()).unwrap_or(i64::MAX);
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
        for h in hashes {
            // A hash repeated in `hashes` finds its row gone the second time.
            let done = sqlx::query("DELETE FROM csc_sad_hashes WHERE sad_id = $1 AND hash = $2")
                .bind(id)
                .bind(&h[..])
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() != 1 {
                return Ok(None);
            }
        }
        Ok(Some(SadSpend { store: self.clone(), tx }))
    }
}
