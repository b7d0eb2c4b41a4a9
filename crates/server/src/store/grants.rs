//! Enrolment authority without an HPKI login: grants bound to one browser session, and the
//! attempt counter of the weaker JMA proof (医籍登録番号 + カードID), keyed by an HMAC of the
//! number so that numbers nobody holds back off exactly like real ones.

use super::{AuditAction, AuditEvent, Backend, Store, StoreError, sessions::rotate_in, sql};

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

/// Attempts per 医籍登録番号 before a back-off starts.
pub const JMA_BATCH: i64 = 5;
/// The first back-off; each further batch of failures doubles it.
pub const JMA_FIRST_BACKOFF_MS: i64 = 15 * 60 * 1000;
/// The longest back-off: the holder always gets another batch within a day.
pub const JMA_MAX_BACKOFF_MS: i64 = 24 * 60 * 60 * 1000;

/// A JMA attempt, reserved before its numbers are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JmaAttempt {
    /// Counted as a failure until it succeeds. `blocked_until_ms` is the number's back-off as
    /// this attempt left it: past, or (the last of a batch) the back-off it started.
    /// `tries_left`: failures this batch still allows before the back-off (0 once it started).
    Counted { blocked_until_ms: i64, started_backoff: bool, tries_left: u8 },
    /// The number is backing off: not counted, not compared.
    BackingOff { until_ms: i64 },
}

/// A JMA login whose numbers matched: what [`Store::jma_grant`] commits.
#[derive(Debug, Clone)]
pub struct JmaGrant<'a> {
    pub number_key: &'a [u8],
    /// From this attempt's [`JmaAttempt::Counted`].
    pub blocked_until_ms: i64,
    /// The session the login came in on, ended by the grant.
    pub old_session_hash: Option<&'a [u8]>,
    /// The fresh session that gets the grant.
    pub new_session_hash: &'a [u8],
    pub hpki_id: &'a str,
    pub expires_ms: i64,
    pub now_ms: i64,
    pub client: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JmaGranted {
    Granted,
    /// Parallel wrong attempts started a back-off after this one was counted.
    BackingOff {
        until_ms: i64,
    },
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

    /// Counts an attempt for the number with HMAC `number_key` unless it is backing off, in one
    /// statement, so parallel attempts cannot all slip past the check. The fifth of a batch
    /// starts the back-off, doubling the next one.
    pub async fn jma_attempt(&self, number_key: &[u8], now: i64) -> Result<JmaAttempt, StoreError> {
        // `t.` is the row as it was: both databases read every right-hand side of SET from it.
        let counted = format!(
            "INSERT INTO jma_throttle AS t \
             (number_key, tries, blocked_until_ms, next_backoff_ms, last_ms) \
             VALUES ($1, 1, 0, {JMA_FIRST_BACKOFF_MS}, $2) ON CONFLICT (number_key) DO UPDATE SET \
             last_ms = $2, tries = CASE WHEN t.tries >= {JMA_BATCH} THEN 1 ELSE t.tries + 1 END, \
             blocked_until_ms = CASE WHEN t.tries = {last} THEN $2 + t.next_backoff_ms \
                 ELSE t.blocked_until_ms END, \
             next_backoff_ms = CASE WHEN t.tries <> {last} THEN t.next_backoff_ms \
                 WHEN t.next_backoff_ms * 2 > {JMA_MAX_BACKOFF_MS} THEN {JMA_MAX_BACKOFF_MS} \
                 ELSE t.next_backoff_ms * 2 END \
             WHERE t.blocked_until_ms <= $2 RETURNING tries, blocked_until_ms",
            last = JMA_BATCH - 1,
        );
        // A row deleted between the two statements (a success, an unlock): count again.
        for _ in 0..3 {
            let row: Option<(i64, i64)> = sqlx::query_as(sql(counted.clone()))
                .bind(number_key)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
            if let Some((tries, blocked_until_ms)) = row {
                let started_backoff = tries >= JMA_BATCH;
                let tries_left = u8::try_from((JMA_BATCH - tries).max(0)).unwrap_or(0);
                return Ok(JmaAttempt::Counted { blocked_until_ms, started_backoff, tries_left });
            }
            let until: Option<i64> = sqlx::query_scalar(
                "SELECT blocked_until_ms FROM jma_throttle WHERE number_key = $1",
            )
            .bind(number_key)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(until_ms) = until.filter(|u| *u > now) {
                return Ok(JmaAttempt::BackingOff { until_ms });
            }
        }
        Err(StoreError::Corrupt("jma_throttle keeps changing under one attempt".into()))
    }

    /// A JMA login whose numbers matched, in one transaction: checks again that no back-off
    /// started since the attempt was counted, clears the count (a success resets the back-off),
    /// replaces the login's session by a fresh one (session fixation) that carries the grant, and
    /// audits it.
    pub async fn jma_grant(&self, g: &JmaGrant<'_>) -> Result<JmaGranted, StoreError> {
        let mut tx = self.begin_write().await?;
        let lock = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        };
        let until: Option<i64> = sqlx::query_scalar(sql(format!(
            "SELECT blocked_until_ms FROM jma_throttle WHERE number_key = $1{lock}"
        )))
        .bind(g.number_key)
        .fetch_optional(&mut *tx)
        .await?;
        // Blocked, and not by this attempt's own (last-of-batch) count: refuse.
        if let Some(until_ms) = until.filter(|u| *u > g.now_ms && *u != g.blocked_until_ms) {
            return Ok(JmaGranted::BackingOff { until_ms });
        }
        sqlx::query("DELETE FROM jma_throttle WHERE number_key = $1")
            .bind(g.number_key)
            .execute(&mut *tx)
            .await?;
        rotate_in(&mut tx, g.old_session_hash, g.new_session_hash, None, g.now_ms).await?;
        grant_upsert(g.new_session_hash, g.hpki_id, GrantVia::Jma, g.expires_ms)
            .execute(&mut *tx)
            .await?;
        self.audit_in(
            &mut tx,
            &AuditEvent {
                hpki_id: Some(g.hpki_id.to_owned()),
                action: AuditAction::JmaAuth,
                client: g.client.map(Into::into),
                outcome: "ok".into(),
                detail: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(JmaGranted::Granted)
    }

    /// The CA lifts a number's back-off and clears its count (operator command); true if it was
    /// backing off.
    pub async fn jma_unlock(
        &self,
        number_key: &[u8],
        hpki_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let until: Option<i64> = sqlx::query_scalar(
            "DELETE FROM jma_throttle WHERE number_key = $1 RETURNING blocked_until_ms",
        )
        .bind(number_key)
        .fetch_optional(&mut *tx)
        .await?;
        let was_backing_off = until.is_some_and(|u| u > now);
        if until.is_some() {
            self.audit_in(
                &mut tx,
                &AuditEvent {
                    hpki_id: Some(hpki_id.to_owned()),
                    action: AuditAction::JmaUnlock,
                    outcome: "ok".into(),
                    client: None,
                    detail: Some(format!("was_backing_off={was_backing_off}")),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(was_backing_off)
    }
}
