//! The audit log: append-only, one row per security-relevant event.

use std::time::{SystemTime, UNIX_EPOCH};

use super::{Store, StoreError};

/// An event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub hpki_id: Option<String>,
    pub action: String,
    pub client: Option<String>,
    /// `"ok"` or the error code that ended the action.
    pub outcome: String,
    pub detail: Option<String>,
}

/// A recorded event, as `audit tail` prints it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: i64,
    pub at_ms: i64,
    pub hpki_id: Option<String>,
    pub action: String,
    pub client: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
}

fn now_ms() -> i64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    pub async fn audit(&self, e: &AuditEvent) -> Result<(), StoreError> {
        let at = now_ms();
        match self {
            Self::Sqlite(p) => {
                sqlx::query("INSERT INTO audit_log (at_ms, hpki_id, action, client, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)")
                    .bind(at).bind(&e.hpki_id).bind(&e.action).bind(&e.client).bind(&e.outcome).bind(&e.detail)
                    .execute(p).await?;
            }
            Self::Postgres(p) => {
                sqlx::query("INSERT INTO audit_log (at_ms, hpki_id, action, client, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(at).bind(&e.hpki_id).bind(&e.action).bind(&e.client).bind(&e.outcome).bind(&e.detail)
                    .execute(p).await?;
            }
        }
        Ok(())
    }

    /// The newest `limit` events, oldest first.
    pub async fn audit_tail(&self, limit: i64) -> Result<Vec<AuditRecord>, StoreError> {
        let mut rows: Vec<AuditRecord> = match self {
            Self::Sqlite(p) => {
                sqlx::query_as("SELECT id, at_ms, hpki_id, action, client, outcome, detail FROM audit_log ORDER BY id DESC LIMIT ?")
                    .bind(limit).fetch_all(p).await?
            }
            Self::Postgres(p) => {
                sqlx::query_as("SELECT id, at_ms, hpki_id, action, client, outcome, detail FROM audit_log ORDER BY id DESC LIMIT $1")
                    .bind(limit).fetch_all(p).await?
            }
        };
        rows.reverse();
        Ok(rows)
    }
}
