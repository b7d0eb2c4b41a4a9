//! The retention job: what has ended is deleted, so the tables hold only what may still be used
//! (and a short history of codes). The audit log is never touched: it is the lasting record.

use super::{Store, StoreError};

/// What to delete, as of `now_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub now_ms: i64,
    /// A session unused this long has ended (see `http::session::IDLE_MS`).
    pub session_idle_ms: i64,
    /// A session this old has ended however active (see `http::session::MAX_MS`).
    pub session_max_ms: i64,
    /// Ended enrolment and change codes are kept this long after they ended.
    pub ended_code_ms: i64,
}

/// Rows deleted, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    pub challenges: u64,
    pub ceremonies: u64,
    pub assertions: u64,
    pub grants: u64,
    pub sessions: u64,
    pub enrolments: u64,
    pub proofs: u64,
    /// Sign-in codes of the スマートフォン way (and their waiting assertions go with
    /// `assertions`, as do the passkey challenges of browsers that never answered).
    pub signin_codes: u64,
    /// JMA attempt counts of numbers nobody tried for a day and not backing off.
    pub jma_attempts: u64,
    /// The OpenID Provider's expired pending requests, tokens and assertion `jti`s, and codes
    /// that ran out longer ago than the retention age.
    pub oidc: u64,
}

impl Purged {
    pub fn total(&self) -> u64 {
        self.challenges
            + self.ceremonies
            + self.assertions
            + self.grants
            + self.sessions
            + self.enrolments
            + self.proofs
            + self.signin_codes
            + self.jma_attempts
            + self.oidc
    }
}

/// An enrolment or change code that ended (or ran out) before `$1`. An enrolment that bound a
/// phone stays: the phone names it.
const OLD_ENROLMENT: &str = "((ended_ms IS NOT NULL AND ended_ms < $1) OR expires_ms < $1) \
     AND NOT EXISTS (SELECT 1 FROM phone_credentials p WHERE p.enrolment_id = enrolments.id)";
const OLD_PROOF: &str = "(ended_ms IS NOT NULL AND ended_ms < $1) OR expires_ms < $1";

async fn delete(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    q: String,
    binds: &[i64],
) -> Result<u64, StoreError> {
    let q = super::sql(q);
    let mut query = sqlx::query(q);
    for b in binds {
        query = query.bind(*b);
    }
    Ok(query.execute(&mut **tx).await?.rows_affected())
}

impl Store {
    /// Deletes expired challenges, WebAuthn ceremony and assertion states, grants and sessions,
    /// and codes ended longer ago than the retention age, in one transaction. Live rows stay.
    pub async fn purge(&self, r: &Retention) -> Result<Purged, StoreError> {
        let now = r.now_ms;
        let cutoff = now - r.ended_code_ms;
        let mut tx = self.begin_write().await?;
        let p = Purged {
            challenges: delete(
                &mut tx,
                "DELETE FROM challenges WHERE expires_ms < $1".into(),
                &[now],
            )
            .await?,
            grants: delete(
                &mut tx,
                "DELETE FROM enrol_grants WHERE expires_ms < $1".into(),
                &[now],
            )
            .await?,
            // Ceremony states go when they expire, and with the codes they belong to.
            ceremonies: delete(
                &mut tx,
                format!(
                    "DELETE FROM webauthn_ceremonies WHERE expires_ms < $2 OR enrolment_id IN \
                     (SELECT id FROM enrolments WHERE {OLD_ENROLMENT})"
                ),
                &[cutoff, now],
            )
            .await?,
            // A browser's passkey challenge, and a sign-in code's, go when they expire, and the
            // latter with its code.
            assertions: delete(
                &mut tx,
                "DELETE FROM signin_assertions WHERE expires_ms < $1".into(),
                &[now],
            )
            .await?
                + delete(
                    &mut tx,
                    format!(
                        "DELETE FROM signin_code_assertions WHERE expires_ms < $2 OR code_id IN \
                         (SELECT id FROM signin_codes WHERE {OLD_PROOF})"
                    ),
                    &[cutoff, now],
                )
                .await?
                + delete(
                    &mut tx,
                    format!(
                        "DELETE FROM webauthn_assertions WHERE expires_ms < $2 OR proof_id IN \
                         (SELECT id FROM phone_proofs WHERE {OLD_PROOF})"
                    ),
                    &[cutoff, now],
                )
                .await?,
            signin_codes: delete(
                &mut tx,
                format!("DELETE FROM signin_codes WHERE {OLD_PROOF}"),
                &[cutoff],
            )
            .await?,
            enrolments: delete(
                &mut tx,
                format!("DELETE FROM enrolments WHERE {OLD_ENROLMENT}"),
                &[cutoff],
            )
            .await?,
            proofs: delete(
                &mut tx,
                format!("DELETE FROM phone_proofs WHERE {OLD_PROOF}"),
                &[cutoff],
            )
            .await?,
            sessions: delete(
                &mut tx,
                "DELETE FROM sessions WHERE last_seen_ms < $1 OR created_ms < $2".into(),
                &[now - r.session_idle_ms, now - r.session_max_ms],
            )
            .await?,
            // A count still backing off is never forgotten: that would lift the back-off.
            jma_attempts: delete(
                &mut tx,
                "DELETE FROM jma_throttle WHERE last_ms < $1 AND blocked_until_ms < $2".into(),
                &[now - super::JMA_MAX_BACKOFF_MS, now],
            )
            .await?,
            oidc: {
                let mut n = 0;
                // Expired CSC SADs go with the tokens they were granted to.
                for table in ["oidc_requests", "oidc_tokens", "oidc_assertions", "csc_sads"] {
                    let q = format!("DELETE FROM {table} WHERE expires_ms < $1");
                    n += delete(&mut tx, q, &[now]).await?;
                }
                // A code is kept past its minute so a late replay is still recognised (and
                // revokes what the first redemption issued) for as long as ended codes are kept.
                n + delete(
                    &mut tx,
                    "DELETE FROM oidc_codes WHERE expires_ms < $1".into(),
                    &[cutoff],
                )
                .await?
            },
        };
        tx.commit().await?;
        Ok(p)
    }
}
