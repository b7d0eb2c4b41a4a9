//! The OpenID Provider's tables: registered clients, pending authorization requests, consents,
//! codes, tokens and the `jti`s of client assertions. Every secret is keyed by its SHA-256; the
//! single-use rules (a code, a refresh token, a `jti`) are conditional updates and primary keys,
//! so the database decides a race.

use super::{AuditEvent, Store, StoreError};

/// A relying service as registered.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClientRecord {
    pub client_id: String,
    pub name: String,
    pub secret_hash: Option<Vec<u8>>,
    /// The JWKS (JSON) whose keys sign its `private_key_jwt` assertions.
    pub jwks: Option<String>,
    /// JSON array of exact redirect URIs.
    pub redirect_uris: String,
    pub created_ms: i64,
    pub removed_ms: Option<i64>,
}

impl ClientRecord {
    pub fn redirect_uris(&self) -> Vec<String> {
        serde_json::from_str(&self.redirect_uris).unwrap_or_default()
    }
}

/// An authorization request waiting for the holder.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingRequest {
    pub id_hash: Vec<u8>,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub max_age_secs: Option<i64>,
    pub fresh_after_ms: Option<i64>,
    pub created_ms: i64,
    pub expires_ms: i64,
}

/// An authorization code as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CodeRecord {
    pub code_hash: Vec<u8>,
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub scope: String,
    pub sid: String,
    pub hpki_id: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub used_ms: Option<i64>,
    pub replayed_ms: Option<i64>,
}

/// What redeeming a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeTake {
    /// First use: it is now marked used.
    Fresh(CodeRecord),
    /// Used before: it is now marked replayed and every token of its grant revoked.
    Replayed(CodeRecord),
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

/// A token to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub token_hash: Vec<u8>,
    pub kind: TokenKind,
    pub expires_ms: i64,
}

/// An access or refresh token as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRecord {
    pub token_hash: Vec<u8>,
    pub kind: String,
    pub grant_hash: Vec<u8>,
    pub client_id: String,
    pub hpki_id: String,
    pub sid: String,
    pub scope: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub rotated_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
}

/// What the tokens of one grant share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantOf<'a> {
    pub grant_hash: &'a [u8],
    pub client_id: &'a str,
    pub hpki_id: &'a str,
    pub sid: &'a str,
    pub scope: &'a str,
}

const CLIENT_COLUMNS: &str =
    "client_id, name, secret_hash, jwks, redirect_uris, created_ms, removed_ms";
const REQUEST_COLUMNS: &str = "id_hash, client_id, redirect_uri, scope, state, nonce, \
     code_challenge, max_age_secs, fresh_after_ms, created_ms, expires_ms";
const CODE_COLUMNS: &str = "code_hash, client_id, redirect_uri, code_challenge, nonce, scope, \
     sid, hpki_id, created_ms, expires_ms, used_ms, replayed_ms";
const TOKEN_COLUMNS: &str = "token_hash, kind, grant_hash, client_id, hpki_id, sid, scope, \
     created_ms, expires_ms, rotated_ms, revoked_ms";

async fn revoke_grant_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    grant_hash: &[u8],
    now: i64,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE oidc_tokens SET revoked_ms = $1 WHERE grant_hash = $2 AND revoked_ms IS NULL",
    )
    .bind(now)
    .bind(grant_hash)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

async fn insert_tokens_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    grant: &GrantOf<'_>,
    tokens: &[NewToken],
    now: i64,
) -> Result<(), StoreError> {
    for t in tokens {
        sqlx::query(
            "INSERT INTO oidc_tokens (token_hash, kind, grant_hash, client_id, hpki_id, sid, \
             scope, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&t.token_hash)
        .bind(t.kind.as_str())
        .bind(grant.grant_hash)
        .bind(grant.client_id)
        .bind(grant.hpki_id)
        .bind(grant.sid)
        .bind(grant.scope)
        .bind(now)
        .bind(t.expires_ms)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Registers a client, with its audit row in the same transaction.
    pub async fn oidc_client_insert(
        &self,
        c: &ClientRecord,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO oidc_clients (client_id, name, secret_hash, jwks, redirect_uris, \
             created_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&c.client_id)
        .bind(&c.name)
        .bind(&c.secret_hash)
        .bind(&c.jwks)
        .bind(&c.redirect_uris)
        .bind(c.created_ms)
        .execute(&mut *tx)
        .await?;
        self.audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The registered client with this id, unless removed.
    pub async fn oidc_client_get(
        &self,
        client_id: &str,
    ) -> Result<Option<ClientRecord>, StoreError> {
        Ok(sqlx::query_as(super::sql(format!(
            "SELECT {CLIENT_COLUMNS} FROM oidc_clients WHERE client_id = $1 AND removed_ms IS NULL"
        )))
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Every client ever registered, removed ones too, oldest first.
    pub async fn oidc_client_list(&self) -> Result<Vec<ClientRecord>, StoreError> {
        Ok(sqlx::query_as(super::sql(format!(
            "SELECT {CLIENT_COLUMNS} FROM oidc_clients ORDER BY created_ms, client_id"
        )))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Whether `secret_hash` is the secret of live client `client_id` (compared in the database).
    pub async fn oidc_client_secret_matches(
        &self,
        client_id: &str,
        secret_hash: &[u8],
    ) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM oidc_clients WHERE client_id = $1 AND secret_hash = $2 \
             AND removed_ms IS NULL",
        )
        .bind(client_id)
        .bind(secret_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Removes a client: its pending requests, codes and tokens end with it. False if there is
    /// no live client of that id.
    pub async fn oidc_client_remove(
        &self,
        client_id: &str,
        now: i64,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE oidc_clients SET removed_ms = $1 WHERE client_id = $2 AND removed_ms IS NULL",
        )
        .bind(now)
        .bind(client_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM oidc_requests WHERE client_id = $1")
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE oidc_codes SET used_ms = $1 WHERE client_id = $2 AND used_ms IS NULL")
            .bind(now)
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE oidc_tokens SET revoked_ms = $1 WHERE client_id = $2 AND revoked_ms IS NULL",
        )
        .bind(now)
        .bind(client_id)
        .execute(&mut *tx)
        .await?;
        self.audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn oidc_request_insert(&self, r: &PendingRequest) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO oidc_requests (id_hash, client_id, redirect_uri, scope, state, nonce, \
             code_challenge, max_age_secs, fresh_after_ms, created_ms, expires_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&r.id_hash)
        .bind(&r.client_id)
        .bind(&r.redirect_uri)
        .bind(&r.scope)
        .bind(&r.state)
        .bind(&r.nonce)
        .bind(&r.code_challenge)
        .bind(r.max_age_secs)
        .bind(r.fresh_after_ms)
        .bind(r.created_ms)
        .bind(r.expires_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The pending request with this id, if it has not run out by `now`.
    pub async fn oidc_request_get(
        &self,
        id_hash: &[u8],
        now: i64,
    ) -> Result<Option<PendingRequest>, StoreError> {
        Ok(sqlx::query_as(super::sql(format!(
            "SELECT {REQUEST_COLUMNS} FROM oidc_requests WHERE id_hash = $1 AND expires_ms > $2"
        )))
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Ends a pending request without a code (the holder declined). False if it was gone.
    pub async fn oidc_request_delete(&self, id_hash: &[u8]) -> Result<bool, StoreError> {
        let n = sqlx::query("DELETE FROM oidc_requests WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// The scope `hpki_id` consented to for `client_id` (space separated), if they ever did.
    pub async fn oidc_consent_scope(
        &self,
        hpki_id: &str,
        client_id: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT scope FROM oidc_consents WHERE hpki_id = $1 AND client_id = $2",
        )
        .bind(hpki_id)
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Answers pending request `request_hash` with `code` in one transaction: the request is
    /// consumed (false if it already was, or ran out), the consent recorded when `consent` is
    /// given (the scope now consented to, in place of any earlier one, and its audit row), and
    /// the code stored.
    pub async fn oidc_code_issue(
        &self,
        request_hash: &[u8],
        code: &CodeRecord,
        consent: Option<(&str, &AuditEvent)>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let taken = sqlx::query("DELETE FROM oidc_requests WHERE id_hash = $1 AND expires_ms > $2")
            .bind(request_hash)
            .bind(code.created_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if taken == 0 {
            return Ok(false);
        }
        if let Some((scope, audit)) = consent {
            sqlx::query(
                "INSERT INTO oidc_consents (hpki_id, client_id, created_ms, scope) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (hpki_id, client_id) DO UPDATE SET scope = excluded.scope",
            )
            .bind(&code.hpki_id)
            .bind(&code.client_id)
            .bind(code.created_ms)
            .bind(scope)
            .execute(&mut *tx)
            .await?;
            self.audit_in(&mut tx, audit).await?;
        }
        sqlx::query(super::sql(format!(
            "INSERT INTO oidc_codes ({CODE_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL)"
        )))
        .bind(&code.code_hash)
        .bind(&code.client_id)
        .bind(&code.redirect_uri)
        .bind(&code.code_challenge)
        .bind(&code.nonce)
        .bind(&code.scope)
        .bind(&code.sid)
        .bind(&code.hpki_id)
        .bind(code.created_ms)
        .bind(code.expires_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Redeems a code: the first call marks it used and returns it; any later call marks it
    /// replayed and revokes every token issued from it, in one transaction.
    pub async fn oidc_code_take(&self, code_hash: &[u8], now: i64) -> Result<CodeTake, StoreError> {
        let mut tx = self.begin_write().await?;
        let fresh: Option<CodeRecord> = sqlx::query_as(super::sql(format!(
            "UPDATE oidc_codes SET used_ms = $1 WHERE code_hash = $2 AND used_ms IS NULL \
             RETURNING {CODE_COLUMNS}"
        )))
        .bind(now)
        .bind(code_hash)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(code) = fresh {
            tx.commit().await?;
            return Ok(CodeTake::Fresh(code));
        }
        let replayed: Option<CodeRecord> = sqlx::query_as(super::sql(format!(
            "UPDATE oidc_codes SET replayed_ms = $1 WHERE code_hash = $2 RETURNING {CODE_COLUMNS}"
        )))
        .bind(now)
        .bind(code_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(code) = replayed else { return Ok(CodeTake::Unknown) };
        revoke_grant_in(&mut tx, code_hash, now).await?;
        tx.commit().await?;
        Ok(CodeTake::Replayed(code))
    }

    /// Stores the first tokens of code `grant.grant_hash`'s grant, unless the code was replayed
    /// meanwhile (false: nothing stored). The check and the insert share the code row's lock, so
    /// a replay either sees these tokens and revokes them, or stops them.
    pub async fn oidc_tokens_issue(
        &self,
        grant: &GrantOf<'_>,
        tokens: &[NewToken],
        now: i64,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let clean = sqlx::query(
            "UPDATE oidc_codes SET used_ms = used_ms WHERE code_hash = $1 AND replayed_ms IS NULL",
        )
        .bind(grant.grant_hash)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if clean == 0 {
            return Ok(false);
        }
        insert_tokens_in(&mut tx, grant, tokens, now).await?;
        self.audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn oidc_token_get(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<TokenRecord>, StoreError> {
        Ok(sqlx::query_as(super::sql(format!(
            "SELECT {TOKEN_COLUMNS} FROM oidc_tokens WHERE token_hash = $1"
        )))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Uses refresh token `old` once: marks it rotated and stores `tokens` in its grant. False
    /// (and the whole grant revoked) if it had been used or revoked already — a reused refresh
    /// token means it was copied.
    pub async fn oidc_refresh_rotate(
        &self,
        old: &TokenRecord,
        tokens: &[NewToken],
        now: i64,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let rotated = sqlx::query(
            "UPDATE oidc_tokens SET rotated_ms = $1 WHERE token_hash = $2 AND kind = 'refresh' \
             AND rotated_ms IS NULL AND revoked_ms IS NULL",
        )
        .bind(now)
        .bind(&old.token_hash)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if rotated == 0 {
            revoke_grant_in(&mut tx, &old.grant_hash, now).await?;
            tx.commit().await?;
            return Ok(false);
        }
        let grant = GrantOf {
            grant_hash: &old.grant_hash,
            client_id: &old.client_id,
            hpki_id: &old.hpki_id,
            sid: &old.sid,
            scope: &old.scope,
        };
        insert_tokens_in(&mut tx, &grant, tokens, now).await?;
        self.audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Revokes every token of a grant; returns how many were live.
    pub async fn oidc_grant_revoke(&self, grant_hash: &[u8], now: i64) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = revoke_grant_in(&mut tx, grant_hash, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Revokes one access token.
    pub async fn oidc_token_revoke(&self, token_hash: &[u8], now: i64) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE oidc_tokens SET revoked_ms = $1 WHERE token_hash = $2 AND revoked_ms IS NULL",
        )
        .bind(now)
        .bind(token_hash)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Records a client assertion's `jti` until `expires_ms`; false if that client used it before.
    pub async fn oidc_assertion_once(
        &self,
        client_id: &str,
        jti: &str,
        expires_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "INSERT INTO oidc_assertions (client_id, jti, expires_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (client_id, jti) DO NOTHING",
        )
        .bind(client_id)
        .bind(jti)
        .bind(expires_ms)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }
}
