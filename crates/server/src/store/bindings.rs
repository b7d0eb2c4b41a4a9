//! My Number card bindings: one active card per holder, one holder per card, replaced atomically.

use super::{
    AuditAction, AuditEvent, Backend, Bindings, Revoker, Store, StoreError, now_ms, revoke_replaced,
};

/// A verified JPKI authentication certificate to bind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMyNumberBinding {
    pub hpki_id: String,
    pub cert_issuer: String,
    pub cert_serial: String,
    pub fingerprint: String,
    pub not_after_ms: i64,
    pub certificate: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct MyNumberRecord {
    pub id: i64,
    pub hpki_id: String,
    pub cert_issuer: String,
    pub cert_serial: String,
    pub fingerprint: String,
    pub not_after_ms: i64,
    pub created_ms: i64,
    pub revoked_ms: Option<i64>,
    pub revoked_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindOutcome {
    /// Bound now; `replaced` is the holder's earlier card, revoked in the same transaction.
    Bound { binding: MyNumberRecord, replaced: Option<MyNumberRecord> },
    /// This very certificate was already bound to this holder: nothing changed.
    AlreadyBound(MyNumberRecord),
}

#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("this My Number card is bound to another holder")]
    BoundElsewhere,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for BindError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

const COLUMNS: &str = "id, hpki_id, cert_issuer, cert_serial, fingerprint, not_after_ms, \
                       created_ms, revoked_ms, revoked_reason";

impl Store {
    /// Binds `new` to its holder in one transaction, with its audit record: all of it happens or
    /// none of it does. The database's unique indexes are the last word under any race.
    pub async fn bind_mynumber(
        &self,
        new: &NewMyNumberBinding,
        client: Option<&str>,
    ) -> Result<BindOutcome, BindError> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            // Serialises binders of one holder; SQLite's IMMEDIATE transaction already did.
            sqlx::query("SELECT hpki_id FROM identities WHERE hpki_id = $1 FOR UPDATE")
                .bind(&new.hpki_id)
                .execute(&mut *tx)
                .await?;
        }
        let holder_of_card: Option<String> = sqlx::query_scalar(
            "SELECT hpki_id FROM mynumber_bindings WHERE fingerprint = $1 AND revoked_ms IS NULL",
        )
        .bind(&new.fingerprint)
        .fetch_optional(&mut *tx)
        .await?;
        let select_active = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM mynumber_bindings WHERE hpki_id = $1 AND revoked_ms IS NULL"
        ));
        let current: Option<MyNumberRecord> =
            sqlx::query_as(select_active).bind(&new.hpki_id).fetch_optional(&mut *tx).await?;
        match holder_of_card {
            Some(h) if h == new.hpki_id => {
                let current = current.ok_or_else(|| {
                    StoreError::Corrupt(format!("active binding of {h} vanished"))
                })?;
                return Ok(BindOutcome::AlreadyBound(current));
            }
            Some(_) => return Err(BindError::BoundElsewhere),
            None => {}
        }
        let replaced = match current {
            Some(mut old) => {
                revoke_replaced(&mut tx, Bindings::MyNumber, old.id, now).await?;
                old.revoked_ms = Some(now);
                old.revoked_reason = Some("replaced".into());
                Some(old)
            }
            None => None,
        };
        let insert = sqlx::AssertSqlSafe(format!(
            "INSERT INTO mynumber_bindings (hpki_id, cert_issuer, cert_serial, fingerprint, \
             not_after_ms, certificate, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             RETURNING {COLUMNS}"
        ));
        let binding: MyNumberRecord = match sqlx::query_as(insert)
            .bind(&new.hpki_id)
            .bind(&new.cert_issuer)
            .bind(&new.cert_serial)
            .bind(&new.fingerprint)
            .bind(new.not_after_ms)
            .bind(&new.certificate)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
        {
            Ok(b) => b,
            // Another holder bound this card between our check and our insert (PostgreSQL).
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(BindError::BoundElsewhere);
            }
            Err(e) => return Err(e.into()),
        };
        let detail = match &replaced {
            Some(old) => {
                format!("fingerprint={} replaced={}", binding.fingerprint, old.fingerprint)
            }
            None => format!("fingerprint={}", binding.fingerprint),
        };
        let action = if replaced.is_some() {
            AuditAction::MyNumberReplace
        } else {
            AuditAction::MyNumberBind
        };
        self.audit_in(
            &mut tx,
            &AuditEvent {
                hpki_id: Some(new.hpki_id.clone()),
                action,
                client: client.map(Into::into),
                outcome: "ok".into(),
                detail: Some(detail),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(BindOutcome::Bound { binding, replaced })
    }

    pub async fn mynumber_active(
        &self,
        hpki_id: &str,
    ) -> Result<Option<MyNumberRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM mynumber_bindings WHERE hpki_id = $1 AND revoked_ms IS NULL"
        ));
        Ok(sqlx::query_as(sql).bind(hpki_id).fetch_optional(&self.pool).await?)
    }

    /// The newest binding of the card whose certificate has this fingerprint, active or ended.
    /// An active one is always the newest: a card is bound again only once its binding ended.
    pub async fn mynumber_by_fingerprint(
        &self,
        fingerprint: &str,
    ) -> Result<Option<MyNumberRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM mynumber_bindings WHERE fingerprint = $1 \
             ORDER BY id DESC LIMIT 1"
        ));
        Ok(sqlx::query_as(sql).bind(fingerprint).fetch_optional(&self.pool).await?)
    }

    /// Every binding (active and ended), optionally of one holder, oldest first.
    pub async fn mynumber_list(
        &self,
        hpki_id: Option<&str>,
    ) -> Result<Vec<MyNumberRecord>, StoreError> {
        let rows = match hpki_id {
            Some(h) => {
                let sql = sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM mynumber_bindings WHERE hpki_id = $1 ORDER BY id"
                ));
                sqlx::query_as(sql).bind(h).fetch_all(&self.pool).await?
            }
            None => {
                let sql = sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM mynumber_bindings ORDER BY id"
                ));
                sqlx::query_as(sql).fetch_all(&self.pool).await?
            }
        };
        Ok(rows)
    }

    /// A binding by its row, active or ended.
    pub async fn mynumber_get(&self, id: i64) -> Result<Option<MyNumberRecord>, StoreError> {
        let sql =
            sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM mynumber_bindings WHERE id = $1"));
        Ok(sqlx::query_as(sql).bind(id).fetch_optional(&self.pool).await?)
    }

    /// Revokes an active binding (the CA operator's command); false if none was active.
    pub async fn mynumber_revoke(&self, id: i64, reason: &str) -> Result<bool, StoreError> {
        self.mynumber_revoke_by(id, Revoker::Operator, reason).await
    }

    /// [`Store::mynumber_revoke`] by either revoker: a holder's own page revokes only their own
    /// binding (the owner is in the `UPDATE`). The signing sessions begun with it end with it
    /// (see `signing_sessions::ALIVE`).
    pub async fn mynumber_revoke_by(
        &self,
        id: i64,
        by: Revoker<'_>,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut update = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "UPDATE mynumber_bindings SET revoked_ms = $1, revoked_reason = $2 \
             WHERE id = $3 AND revoked_ms IS NULL{} RETURNING hpki_id",
            by.owner_clause(4)
        )))
        .bind(now_ms())
        .bind(reason)
        .bind(id);
        if let Some(owner) = by.owner() {
            update = update.bind(owner);
        }
        let hpki_id: Option<String> = update.fetch_optional(&mut *tx).await?;
        let Some(hpki_id) = hpki_id else { return Ok(false) };
        self.audit_in(
            &mut tx,
            &AuditEvent {
                hpki_id: Some(hpki_id),
                action: AuditAction::MyNumberRevoke,
                outcome: "ok".into(),
                client: by.client().map(Into::into),
                detail: Some(format!("binding={id} reason={reason}")),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
