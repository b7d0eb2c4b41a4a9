//! HPKI second certificates: a credential per holder whose key lives in the HSM. The database
//! keeps which key (CKA_ID), its state and the imported certificate; one open credential per
//! holder is its unique index's rule.

use super::{AuditAction, AuditEvent, Store, StoreError, now_ms};

/// A credential as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SecondCertRecord {
    pub id: i64,
    pub credential_id: String,
    pub hpki_id: String,
    /// CKA_ID, hex.
    pub key_id: String,
    pub state: String,
    /// SubjectPublicKeyInfo DER, once the HSM made the key.
    pub public_key: Option<Vec<u8>>,
    pub certificate: Option<Vec<u8>>,
    pub cert_issuer: Option<String>,
    pub cert_serial: Option<String>,
    pub not_before_ms: Option<i64>,
    pub not_after_ms: Option<i64>,
    pub created_ms: i64,
    pub activated_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
    pub revoked_reason: Option<String>,
}

/// The states, as the `state` column spells them.
pub const REQUESTED: &str = "requested";
pub const ACTIVE: &str = "active";
pub const REVOKED: &str = "revoked";

/// A checked certificate to activate a requested credential with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondCertActivation {
    pub certificate: Vec<u8>,
    pub cert_issuer: String,
    pub cert_serial: String,
    pub not_before_ms: i64,
    pub not_after_ms: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum SecondCertStoreError {
    /// The holder already has a requested or active credential (the unique index said so).
    #[error("the holder already has an open second certificate")]
    AlreadyOpen,
    /// The row is not (any more) in the state the change needs.
    #[error("the credential is not in the expected state")]
    WrongState,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for SecondCertStoreError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

const COLUMNS: &str = "id, credential_id, hpki_id, key_id, state, public_key, certificate, \
                       cert_issuer, cert_serial, not_before_ms, not_after_ms, created_ms, \
                       activated_ms, revoked_ms, revoked_reason";

fn select(filter: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM second_certificates WHERE {filter}"))
}

impl Store {
    /// Starts a request: a `requested` row without a key yet. The unique index refuses a second
    /// open credential of one holder, whatever the race.
    pub async fn second_cert_begin(
        &self,
        hpki_id: &str,
        credential_id: &str,
        key_id: &str,
    ) -> Result<SecondCertRecord, SecondCertStoreError> {
        let insert = sqlx::AssertSqlSafe(format!(
            "INSERT INTO second_certificates (credential_id, hpki_id, key_id, state, created_ms, \
             started_ms) VALUES ($1, $2, $3, 'requested', $4, $4) RETURNING {COLUMNS}"
        ));
        match sqlx::query_as(insert)
            .bind(credential_id)
            .bind(hpki_id)
            .bind(key_id)
            .bind(now_ms())
            .fetch_one(&self.pool)
            .await
        {
            Ok(r) => Ok(r),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(SecondCertStoreError::AlreadyOpen)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Records the key the HSM made for a requested credential, with the request's audit row.
    pub async fn second_cert_keyed(
        &self,
        id: i64,
        public_key: &[u8],
        detail: String,
    ) -> Result<SecondCertRecord, SecondCertStoreError> {
        let mut tx = self.begin_write().await?;
        let update = sqlx::AssertSqlSafe(format!(
            "UPDATE second_certificates SET public_key = $1 \
             WHERE id = $2 AND state = 'requested' RETURNING {COLUMNS}"
        ));
        let row: Option<SecondCertRecord> =
            sqlx::query_as(update).bind(public_key).bind(id).fetch_optional(&mut *tx).await?;
        let row = row.ok_or(SecondCertStoreError::WrongState)?;
        self.audit_in(&mut tx, &event(&row.hpki_id, AuditAction::SecondCertRequest, detail))
            .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Takes over a request whose key was never recorded, if no one started on it within
    /// `lease_ms` (its process died): false while another request is at work on it, so two
    /// processes never make the key of one CKA_ID at once.
    pub async fn second_cert_claim(&self, id: i64, lease_ms: i64) -> Result<bool, StoreError> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE second_certificates SET started_ms = $1 \
             WHERE id = $2 AND state = 'requested' AND public_key IS NULL AND started_ms <= $3",
        )
        .bind(now)
        .bind(id)
        .bind(now - lease_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes a request whose key the HSM never made (nothing refers to it yet).
    pub async fn second_cert_discard(&self, id: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "DELETE FROM second_certificates \
             WHERE id = $1 AND state = 'requested' AND public_key IS NULL",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Activates a requested credential with its checked certificate, and audits it.
    pub async fn second_cert_activate(
        &self,
        id: i64,
        a: &SecondCertActivation,
        detail: String,
    ) -> Result<SecondCertRecord, SecondCertStoreError> {
        let mut tx = self.begin_write().await?;
        let update = sqlx::AssertSqlSafe(format!(
            "UPDATE second_certificates SET state = 'active', certificate = $1, cert_issuer = $2, \
             cert_serial = $3, not_before_ms = $4, not_after_ms = $5, activated_ms = $6 \
             WHERE id = $7 AND state = 'requested' AND public_key IS NOT NULL \
             RETURNING {COLUMNS}"
        ));
        let row: Option<SecondCertRecord> = sqlx::query_as(update)
            .bind(&a.certificate)
            .bind(&a.cert_issuer)
            .bind(&a.cert_serial)
            .bind(a.not_before_ms)
            .bind(a.not_after_ms)
            .bind(now_ms())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let row = row.ok_or(SecondCertStoreError::WrongState)?;
        self.audit_in(&mut tx, &event(&row.hpki_id, AuditAction::SecondCertImport, detail)).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Revokes an open credential, with its audit row; `WrongState` if it is not open.
    pub async fn second_cert_revoke(
        &self,
        id: i64,
        reason: &str,
    ) -> Result<SecondCertRecord, SecondCertStoreError> {
        let mut tx = self.begin_write().await?;
        let update = sqlx::AssertSqlSafe(format!(
            "UPDATE second_certificates SET state = 'revoked', revoked_ms = $1, \
             revoked_reason = $2 WHERE id = $3 AND state <> 'revoked' RETURNING {COLUMNS}"
        ));
        let row: Option<SecondCertRecord> = sqlx::query_as(update)
            .bind(now_ms())
            .bind(reason)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let row = row.ok_or(SecondCertStoreError::WrongState)?;
        let detail = format!("credential={} reason={reason}", row.credential_id);
        self.audit_in(&mut tx, &event(&row.hpki_id, AuditAction::SecondCertRevoke, detail)).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The holder's requested or active credential.
    pub async fn second_cert_open(
        &self,
        hpki_id: &str,
    ) -> Result<Option<SecondCertRecord>, StoreError> {
        let q = select("hpki_id = $1 AND state <> 'revoked'");
        Ok(sqlx::query_as(q).bind(hpki_id).fetch_optional(&self.pool).await?)
    }

    /// The credential a signing client names.
    pub async fn second_cert_by_credential(
        &self,
        credential_id: &str,
    ) -> Result<Option<SecondCertRecord>, StoreError> {
        let q = select("credential_id = $1");
        Ok(sqlx::query_as(q).bind(credential_id).fetch_optional(&self.pool).await?)
    }

    /// Every credential (all states), optionally of one holder, oldest first.
    pub async fn second_cert_list(
        &self,
        hpki_id: Option<&str>,
    ) -> Result<Vec<SecondCertRecord>, StoreError> {
        Ok(match hpki_id {
            Some(h) => {
                sqlx::query_as(select("hpki_id = $1 ORDER BY id"))
                    .bind(h)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => sqlx::query_as(select("1 = 1 ORDER BY id")).fetch_all(&self.pool).await?,
        })
    }
}

fn event(hpki_id: &str, action: AuditAction, detail: String) -> AuditEvent {
    AuditEvent {
        hpki_id: Some(hpki_id.to_owned()),
        action,
        client: None,
        outcome: "ok".into(),
        detail: Some(detail),
    }
}
