//! The audit log: append-only, one row per security-relevant event.

use std::sync::{Arc, RwLock};

use super::{Store, StoreError, now_ms};

/// The actions' table is in the protocol (the holder's page reads them back in plain words).
pub use mahpki_protocol::audit::AuditAction;

type Observe = Arc<dyn Fn(&AuditEvent) + Send + Sync>;

/// Who hears of each audit row the store writes: the server's metrics count them. One slot
/// shared by every clone of a [`Store`]; a new observer replaces the old one. A row written in a
/// transaction that then rolls back has been heard of all the same (only lost races do that, and
/// they end before auditing).
#[derive(Clone, Default)]
pub struct AuditObserver(Arc<RwLock<Option<Observe>>>);

impl std::fmt::Debug for AuditObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditObserver")
    }
}

impl AuditObserver {
    fn tell(&self, e: &AuditEvent) {
        let observe = self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        if let Some(observe) = observe {
            observe(e);
        }
    }
}

/// An event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub hpki_id: Option<String>,
    pub action: AuditAction,
    pub client: Option<String>,
    /// `"ok"` or the error code that ended the action.
    pub outcome: String,
    pub detail: Option<String>,
}

/// A recorded event, as `audit tail` prints it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at_ms: i64,
    pub hpki_id: Option<String>,
    pub action: String,
    pub client: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
}

/// The holder's successful remote signatures of one service within one minute (what one
/// signing by a pharmacy or clinic system looks like to the doctor).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SignatureBatch {
    /// The newest signature of the batch.
    pub at_ms: i64,
    /// The OIDC client that asked for them.
    pub client: Option<String>,
    /// Its display name, while it is registered.
    pub name: Option<String>,
    pub count: i64,
}

fn insert(e: &AuditEvent) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(
        "INSERT INTO audit_log (at_ms, hpki_id, action, client, outcome, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(now_ms())
    .bind(&e.hpki_id)
    .bind(e.action.as_str())
    .bind(&e.client)
    .bind(&e.outcome)
    .bind(&e.detail)
}

impl Store {
    /// Calls `observe` with every audit row this store (and its clones) writes from now on.
    pub fn observe_audit(&self, observe: impl Fn(&AuditEvent) + Send + Sync + 'static) {
        *self.observer.0.write().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(Arc::new(observe));
    }

    pub async fn audit(&self, e: &AuditEvent) -> Result<(), StoreError> {
        insert(e).execute(&self.pool).await?;
        self.observer.tell(e);
        Ok(())
    }

    /// Records `e` inside a transaction, so the event exists exactly when the change does.
    pub(super) async fn audit_in(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        e: &AuditEvent,
    ) -> Result<(), StoreError> {
        insert(e).execute(&mut **tx).await?;
        self.observer.tell(e);
        Ok(())
    }

    /// One holder's newest `limit` events, newest first (the holder's page).
    pub async fn audit_of(
        &self,
        hpki_id: &str,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, at_ms, hpki_id, action, client, outcome, detail FROM audit_log \
             WHERE hpki_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(hpki_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The holder's newest `limit` batches of successful remote signatures (`csc_sign` rows with
    /// outcome `ok`), newest first, each the signatures one client made in one minute.
    pub async fn signatures_of(
        &self,
        hpki_id: &str,
        limit: i64,
    ) -> Result<Vec<SignatureBatch>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT MAX(a.at_ms) AS at_ms, a.client AS client, c.name AS name, \
             COUNT(*) AS count FROM audit_log a \
             LEFT JOIN oidc_clients c ON c.client_id = a.client \
             WHERE a.hpki_id = $1 AND a.action = $2 AND a.outcome = 'ok' \
             GROUP BY a.client, c.name, a.at_ms / 60000 ORDER BY MAX(a.id) DESC LIMIT $3",
        )
        .bind(hpki_id)
        .bind(AuditAction::CscSign.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The newest `limit` events, oldest first.
    pub async fn audit_tail(&self, limit: i64) -> Result<Vec<AuditRecord>, StoreError> {
        let mut rows: Vec<AuditRecord> = sqlx::query_as(
            "SELECT id, at_ms, hpki_id, action, client, outcome, detail FROM audit_log \
             ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.reverse();
        Ok(rows)
    }
}
