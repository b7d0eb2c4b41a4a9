//! 別紙2: smartphone enrolments (single-use, short-lived tokens bound to one holder and, once
//! opened, to one phone), their WebAuthn ceremony state, and the phones they bind.
//!
//! Every state change is one SQL statement or one transaction whose `WHERE` clause carries the
//! precondition, so two phones or two server processes racing for the same row cannot both win.

use super::{
    AuditAction, AuditEvent, Backend, Bindings, Revoker, Store, StoreError,
    ceremonies::Registration,
    confirmations::{self, Purpose},
    phone_codes::{self, ByPhone, CodeState, EnrolError, PhoneCode},
    revoke_replaced, sql,
};
use crate::config::CaPolicy;

/// How the enrolment reached the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrolmentKind {
    /// A 2D code on the holder's PC.
    Pc,
    /// A link the CA issued (after a Mynaportal application), valid for months.
    Link,
}

impl EnrolmentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pc => "pc",
            Self::Link => "link",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentRecord {
    pub id: i64,
    pub hpki_id: String,
    pub kind: EnrolmentKind,
    pub replace: bool,
    /// Issued on the JMA path: it may bind a first phone only.
    pub first_phone_only: bool,
    pub state: CodeState,
    /// The PC session that issued it (`None` for a CA's link): the one that confirms its phone.
    pub pc_session_hash: Option<Vec<u8>>,
    pub phone_session_hash: Option<Vec<u8>>,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub opened_ms: Option<i64>,
    pub ended_ms: Option<i64>,
}

impl PhoneCode for EnrolmentRecord {
    fn stored_state(&self) -> CodeState {
        self.state
    }
    fn expires_ms(&self) -> i64 {
        self.expires_ms
    }
    fn phone_session_hash(&self) -> Option<&[u8]> {
        self.phone_session_hash.as_deref()
    }
    fn is_link(&self) -> bool {
        self.kind == EnrolmentKind::Link
    }
}

#[derive(sqlx::FromRow)]
struct EnrolmentRow {
    id: i64,
    hpki_id: String,
    kind: String,
    replace_phone: i64,
    first_phone_only: i64,
    state: String,
    pc_session_hash: Option<Vec<u8>>,
    phone_session_hash: Option<Vec<u8>>,
    created_ms: i64,
    expires_ms: i64,
    opened_ms: Option<i64>,
    ended_ms: Option<i64>,
}

impl TryFrom<EnrolmentRow> for EnrolmentRecord {
    type Error = StoreError;
    fn try_from(r: EnrolmentRow) -> Result<Self, StoreError> {
        let state = CodeState::parse(Purpose::Enrolment, &r.state)?;
        Ok(Self {
            id: r.id,
            hpki_id: r.hpki_id,
            kind: match r.kind.as_str() {
                "pc" => EnrolmentKind::Pc,
                "link" => EnrolmentKind::Link,
                k => return Err(StoreError::Corrupt(format!("enrolment {}: kind {k}", r.id))),
            },
            replace: r.replace_phone != 0,
            first_phone_only: r.first_phone_only != 0,
            state,
            pc_session_hash: r.pc_session_hash,
            phone_session_hash: r.phone_session_hash,
            created_ms: r.created_ms,
            expires_ms: r.expires_ms,
            opened_ms: r.opened_ms,
            ended_ms: r.ended_ms,
        })
    }
}

const ENROLMENT_COLUMNS: &str = "id, hpki_id, kind, replace_phone, first_phone_only, state, \
                                 pc_session_hash, \
                                 phone_session_hash, created_ms, expires_ms, opened_ms, ended_ms";

/// A bound phone.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PhoneRecord {
    pub id: i64,
    pub hpki_id: String,
    pub credential_id: Vec<u8>,
    /// Serialised `webauthn_rs::prelude::Passkey`.
    pub passkey: String,
    pub label: String,
    pub enrolment_id: Option<i64>,
    pub created_ms: i64,
    pub revoked_ms: Option<i64>,
    pub revoked_reason: Option<String>,
}

/// A phone as the holder's page shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PhoneUse {
    pub id: i64,
    pub label: String,
    pub created_ms: i64,
    pub revoked_ms: Option<i64>,
    /// The latest signing session begun with this phone.
    pub last_used_ms: Option<i64>,
}

const PHONE_COLUMNS: &str = "id, hpki_id, credential_id, passkey, label, enrolment_id, \
                             created_ms, revoked_ms, revoked_reason";

/// What a new enrolment needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEnrolment {
    pub hpki_id: String,
    /// SHA-256 of the token; the token itself never reaches the store.
    pub token_hash: Vec<u8>,
    pub kind: EnrolmentKind,
    /// The issuing PC's session (`None` for a CA's link).
    pub pc_session_hash: Option<Vec<u8>>,
    pub replace: bool,
    /// Refuse it (at issue and at commit) while the holder has a phone: the JMA path's numbers
    /// are printed on the card, so they may enrol a first phone but not take over a bound one.
    pub first_phone_only: bool,
    /// The holder's CA's rules (see [`CaPolicy`]).
    pub policy: CaPolicy,
    pub now_ms: i64,
    pub expires_ms: i64,
}

/// An enrolment just issued and the earlier ones it cancelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub enrolment: EnrolmentRecord,
    pub cancelled: Vec<i64>,
}

/// A verified WebAuthn registration to commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPhone {
    pub enrolment_id: i64,
    pub phone_session_hash: Vec<u8>,
    /// The ceremony state the credential was verified against: deleted in the commit, and the
    /// commit fails if it is no longer there (used by a concurrent finish).
    pub ceremony: Registration,
    pub credential_id: Vec<u8>,
    pub passkey: String,
    pub label: String,
    pub policy: CaPolicy,
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneBinding {
    pub hpki_id: String,
    pub phone: PhoneRecord,
    /// The phone this one replaced, revoked in the same transaction.
    pub replaced: Option<PhoneRecord>,
}

/// Which CA link `enrolment cancel-link` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRef<'a> {
    /// The enrolment id `issue-link` printed.
    Id(i64),
    /// The holder's live link.
    Holder(&'a str),
}

impl Store {
    /// Issues an enrolment, cancelling the holder's live one, with its audit record, in one
    /// transaction. Refused when a phone is bound and `replace` is false.
    pub async fn enrolment_issue(
        &self,
        new: &NewEnrolment,
        client: Option<&str>,
    ) -> Result<Issued, EnrolError> {
        let mut tx = self.begin_write().await?;
        self.lock_identity(&mut tx, &new.hpki_id).await?;
        let bound = self.check_policy(&mut tx, &new.hpki_id, &new.policy).await?;
        if bound.is_some() && new.first_phone_only {
            return Err(EnrolError::FirstPhoneOnly);
        }
        if bound.is_some() && !new.replace {
            return Err(EnrolError::PhoneAlreadyBound);
        }
        let cancelled: Vec<i64> = sqlx::query_scalar(
            "UPDATE enrolments SET state = 'cancelled', ended_ms = $1 \
             WHERE hpki_id = $2 AND state IN ('valid', 'in_use') RETURNING id",
        )
        .bind(new.now_ms)
        .bind(&new.hpki_id)
        .fetch_all(&mut *tx)
        .await?;
        phone_codes::drop_ceremonies(&mut tx, Purpose::Enrolment, &cancelled).await?;
        let row: EnrolmentRow = sqlx::query_as(sql(format!(
            "INSERT INTO enrolments (token_hash, hpki_id, pc_session_hash, kind, replace_phone, \
             first_phone_only, state, created_ms, expires_ms) \
             VALUES ($1, $2, $3, $4, $5, $8, 'valid', $6, $7) RETURNING {ENROLMENT_COLUMNS}"
        )))
        .bind(&new.token_hash)
        .bind(&new.hpki_id)
        .bind(new.pc_session_hash.as_deref())
        .bind(new.kind.as_str())
        .bind(i64::from(new.replace))
        .bind(new.now_ms)
        .bind(new.expires_ms)
        .bind(i64::from(new.first_phone_only))
        .fetch_one(&mut *tx)
        .await?;
        let enrolment = EnrolmentRecord::try_from(row)?;
        let mut detail = format!(
            "enrolment={} kind={} replace={} first_phone_only={} expires_ms={}",
            enrolment.id,
            new.kind.as_str(),
            new.replace,
            new.first_phone_only,
            new.expires_ms
        );
        if !cancelled.is_empty() {
            detail.push_str(&format!(" cancelled={cancelled:?}"));
        }
        self.audit_in(
            &mut tx,
            &AuditEvent {
                hpki_id: Some(new.hpki_id.clone()),
                action: AuditAction::PhoneEnrolmentIssue,
                client: client.map(Into::into),
                outcome: "ok".into(),
                detail: Some(detail),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Issued { enrolment, cancelled })
    }

    /// The phone presenting `token_hash` takes the enrolment (see [`phone_codes::take`]) and
    /// gets `expires_ms` as its deadline to finish; a phone that already owns it may open it
    /// again (a reload).
    pub async fn enrolment_open(
        &self,
        token_hash: &[u8],
        phone_session_hash: &[u8],
        now: i64,
        expires_ms: i64,
    ) -> Result<EnrolmentRecord, EnrolError> {
        let taken: Option<EnrolmentRow> = phone_codes::take(
            &self.pool,
            Purpose::Enrolment,
            ENROLMENT_COLUMNS,
            token_hash,
            phone_session_hash,
            now,
            Some(expires_ms),
        )
        .await?;
        if let Some(row) = taken {
            return Ok(row.try_into()?);
        }
        self.usable_by_phone(ByPhone::Token(token_hash), phone_session_hash, now).await
    }

    /// The enrolment a phone names, if that phone may use it now. One that has run out is
    /// marked expired on the way.
    async fn usable_by_phone(
        &self,
        by: ByPhone<'_>,
        phone_session_hash: &[u8],
        now: i64,
    ) -> Result<EnrolmentRecord, EnrolError> {
        let row: Option<EnrolmentRow> =
            phone_codes::find(&self.pool, Purpose::Enrolment, ENROLMENT_COLUMNS, by).await?;
        let e = row.map(EnrolmentRecord::try_from).transpose()?;
        if let Some(e) = &e
            && e.state_at(now) == CodeState::Expired
            && e.state != CodeState::Expired
        {
            self.enrolment_expire(e.id, now).await?;
        }
        phone_codes::usable(e, phone_session_hash, now)
    }

    /// Whose enrolment a token names (for the audit record of a refused open).
    pub async fn enrolment_holder_of_token(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT hpki_id FROM enrolments WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The enrolment the phone with this cookie opened and may still finish.
    pub async fn enrolment_of_phone(
        &self,
        phone_session_hash: &[u8],
        now: i64,
    ) -> Result<EnrolmentRecord, EnrolError> {
        self.usable_by_phone(ByPhone::Cookie(phone_session_hash), phone_session_hash, now).await
    }

    /// The holder's newest enrolment, whatever its state.
    pub async fn enrolment_latest(
        &self,
        hpki_id: &str,
    ) -> Result<Option<EnrolmentRecord>, StoreError> {
        let row: Option<EnrolmentRow> = sqlx::query_as(sql(format!(
            "SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE hpki_id = $1 ORDER BY id DESC LIMIT 1"
        )))
        .bind(hpki_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(TryInto::try_into).transpose()
    }

    pub async fn enrolment_get(&self, id: i64) -> Result<Option<EnrolmentRecord>, StoreError> {
        let row: Option<EnrolmentRow> = sqlx::query_as(sql(format!(
            "SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(TryInto::try_into).transpose()
    }

    /// Writes down that a live enrolment ran out; true if this call did it (so the caller tells
    /// the PC). Its ceremony state goes with it.
    pub async fn enrolment_expire(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE enrolments SET state = 'expired', ended_ms = $1 \
             WHERE id = $2 AND state IN ('valid', 'in_use') AND expires_ms <= $1",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if done {
            phone_codes::drop_ceremonies(&mut tx, Purpose::Enrolment, &[id]).await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    /// The holder pressed 中止 on the PC: their live PC code stops opening, and a phone part way
    /// through it cannot finish. A CA's link is not the PC's to cancel. True if one was live.
    ///
    /// Takes the holder lock first, like [`Store::enrolment_finish`], and cancels only what is
    /// still live in the same statement: a finish that committed first stays committed (the PC
    /// then hears "completed"), and the two never deadlock.
    pub async fn enrolment_cancel(&self, hpki_id: &str, now: i64) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        self.lock_identity(&mut tx, hpki_id).await?;
        let cancelled: Vec<i64> = sqlx::query_scalar(
            "UPDATE enrolments SET state = 'cancelled', ended_ms = $1 \
             WHERE hpki_id = $2 AND kind = 'pc' AND state IN ('valid', 'in_use') RETURNING id",
        )
        .bind(now)
        .bind(hpki_id)
        .fetch_all(&mut *tx)
        .await?;
        phone_codes::drop_ceremonies(&mut tx, Purpose::Enrolment, &cancelled).await?;
        tx.commit().await?;
        Ok(!cancelled.is_empty())
    }

    /// Stores the ceremony state of a registration the phone is about to perform, replacing an
    /// earlier one of the same enrolment (the holder cancelled the prompt and pressed 登録 again).
    pub async fn ceremony_put(
        &self,
        enrolment_id: i64,
        state: &Registration,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO webauthn_ceremonies (enrolment_id, state, expires_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (enrolment_id) DO UPDATE SET state = excluded.state, \
             expires_ms = excluded.expires_ms",
        )
        .bind(enrolment_id)
        .bind(state.stored())
        .bind(expires_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The waiting ceremony state of an enrolment, if any and not past `now`.
    pub async fn ceremony_get(
        &self,
        enrolment_id: i64,
        now: i64,
    ) -> Result<Option<Registration>, StoreError> {
        let stored: Option<String> = sqlx::query_scalar(
            "SELECT state FROM webauthn_ceremonies WHERE enrolment_id = $1 AND expires_ms > $2",
        )
        .bind(enrolment_id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        stored.map(Registration::from_stored).transpose()
    }

    /// Discards a ceremony whose answer failed verification: a challenge is answered once.
    pub async fn ceremony_discard(
        &self,
        enrolment_id: i64,
        state: &Registration,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM webauthn_ceremonies WHERE enrolment_id = $1 AND state = $2")
            .bind(enrolment_id)
            .bind(state.stored())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Commits a verified phone in one transaction: consumes the ceremony state and the
    /// enrolment, revokes the holder's old phone when replacing, stores the new one and audits
    /// it. Any refusal leaves everything as it was, the old phone included.
    pub async fn enrolment_finish(
        &self,
        new: &NewPhone,
        client: Option<&str>,
    ) -> Result<PhoneBinding, EnrolError> {
        let now = new.now_ms;
        let mut tx = self.begin_write().await?;
        let row: Option<EnrolmentRow> = sqlx::query_as(sql(format!(
            "SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE id = $1"
        )))
        .bind(new.enrolment_id)
        .fetch_optional(&mut *tx)
        .await?;
        let e = EnrolmentRecord::try_from(row.ok_or(EnrolError::Unknown)?)?;
        // The holder lock first, then the enrolment row, then its ceremony: the order every
        // writer of these rows takes (issue, cancel, expiry), so none waits on another in a cycle.
        self.lock_identity(&mut tx, &e.hpki_id).await?;
        let consumed = sqlx::query(
            "UPDATE enrolments SET state = 'consumed', ended_ms = $1 \
             WHERE id = $2 AND state = 'in_use' AND phone_session_hash = $3 AND expires_ms > $1",
        )
        .bind(now)
        .bind(e.id)
        .bind(&new.phone_session_hash)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if consumed != 1 {
            // Re-read inside the transaction: a concurrent finish, a re-issue or the clock won.
            let row: EnrolmentRow = sqlx::query_as(sql(format!(
                "SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE id = $1"
            )))
            .bind(e.id)
            .fetch_one(&mut *tx)
            .await?;
            let now_e = EnrolmentRecord::try_from(row)?;
            return Err(now_e.refusal(&new.phone_session_hash, now).unwrap_or(EnrolError::Used));
        }
        // A PC's code: only the phone whose code the holder typed on that PC may commit.
        if e.kind == EnrolmentKind::Pc {
            confirmations::require_confirmed_in(
                &mut tx,
                Purpose::Enrolment,
                e.id,
                &new.phone_session_hash,
            )
            .await?;
        }
        let used = sqlx::query(
            "DELETE FROM webauthn_ceremonies WHERE enrolment_id = $1 AND state = $2 \
             AND expires_ms > $3",
        )
        .bind(e.id)
        .bind(new.ceremony.stored())
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if used != 1 {
            return Err(EnrolError::NoCeremony);
        }
        // Checked again at commit: the policy or the bound phone may have changed since issue.
        let current = self.check_policy(&mut tx, &e.hpki_id, &new.policy).await?;
        let replaced = match current {
            Some(_) if e.first_phone_only => return Err(EnrolError::FirstPhoneOnly),
            Some(_) if !e.replace => return Err(EnrolError::PhoneAlreadyBound),
            Some(mut old) => {
                revoke_replaced(&mut tx, Bindings::Phone, old.id, now).await?;
                old.revoked_ms = Some(now);
                old.revoked_reason = Some("replaced".into());
                Some(old)
            }
            None => None,
        };
        let phone: PhoneRecord = match sqlx::query_as(sql(format!(
            "INSERT INTO phone_credentials (hpki_id, credential_id, passkey, label, enrolment_id, \
             created_ms) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {PHONE_COLUMNS}"
        )))
        .bind(&e.hpki_id)
        .bind(&new.credential_id)
        .bind(&new.passkey)
        .bind(&new.label)
        .bind(e.id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        {
            Ok(p) => p,
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                return Err(EnrolError::CredentialExists);
            }
            Err(err) => return Err(err.into()),
        };
        let (action, detail) = match &replaced {
            Some(old) => (
                AuditAction::PhoneReplace,
                format!("enrolment={} phone={} replaced={}", e.id, phone.id, old.id),
            ),
            None => (AuditAction::PhoneBind, format!("enrolment={} phone={}", e.id, phone.id)),
        };
        self.audit_in(
            &mut tx,
            &AuditEvent {
                hpki_id: Some(e.hpki_id.clone()),
                action,
                client: client.map(Into::into),
                outcome: "ok".into(),
                detail: Some(detail),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(PhoneBinding { hpki_id: e.hpki_id, phone, replaced })
    }

    pub async fn phone_active(&self, hpki_id: &str) -> Result<Option<PhoneRecord>, StoreError> {
        Ok(sqlx::query_as(sql(format!(
            "SELECT {PHONE_COLUMNS} FROM phone_credentials WHERE hpki_id = $1 AND revoked_ms IS NULL"
        )))
        .bind(hpki_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// A phone by its row, working or ended.
    pub async fn phone_get(&self, id: i64) -> Result<Option<PhoneRecord>, StoreError> {
        Ok(sqlx::query_as(sql(format!(
            "SELECT {PHONE_COLUMNS} FROM phone_credentials WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Every phone of a holder with its latest sign-in (the holder's page): the working one
    /// first, then the ended ones, newest first.
    pub async fn phone_uses(&self, hpki_id: &str) -> Result<Vec<PhoneUse>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT p.id, p.label, p.created_ms, p.revoked_ms, \
             (SELECT MAX(s.created_ms) FROM signing_sessions s WHERE s.phone_id = p.id) \
             AS last_used_ms \
             FROM phone_credentials p WHERE p.hpki_id = $1 \
             ORDER BY CASE WHEN p.revoked_ms IS NULL THEN 0 ELSE 1 END, p.id DESC",
        )
        .bind(hpki_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every phone (working and ended) of a holder, oldest first.
    pub async fn phone_list(&self, hpki_id: &str) -> Result<Vec<PhoneRecord>, StoreError> {
        Ok(sqlx::query_as(sql(format!(
            "SELECT {PHONE_COLUMNS} FROM phone_credentials WHERE hpki_id = $1 ORDER BY id"
        )))
        .bind(hpki_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The operator revokes a lost or stolen phone (`phone revoke`), in one transaction with what
    /// the phone may have set going: grants it gave a PC in a スマートフォン変更 and the holder's
    /// live PC codes are ended too (the holder starts again with the HPKI card); a CA's link stays.
    /// Audited. The holder, or `None` if no working phone has this id.
    pub async fn phone_revoke(
        &self,
        id: i64,
        reason: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        self.phone_revoke_by(id, Revoker::Operator, reason, now).await
    }

    /// [`Store::phone_revoke`] by either revoker: a holder's own page revokes only a phone of
    /// theirs (the owner is in the `UPDATE`, so no race between checking and revoking).
    pub async fn phone_revoke_by(
        &self,
        id: i64,
        by: Revoker<'_>,
        reason: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut update = sqlx::query_scalar(sql(format!(
            "UPDATE phone_credentials SET revoked_ms = $1, revoked_reason = $2 \
             WHERE id = $3 AND revoked_ms IS NULL{} RETURNING hpki_id",
            by.owner_clause(4)
        )))
        .bind(now)
        .bind(reason)
        .bind(id);
        if let Some(owner) = by.owner() {
            update = update.bind(owner);
        }
        let hpki_id: Option<String> = update.fetch_optional(&mut *tx).await?;
        let Some(hpki_id) = hpki_id else { return Ok(None) };
        let grants = sqlx::query("DELETE FROM enrol_grants WHERE hpki_id = $1 AND via = 'phone'")
            .bind(&hpki_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let cancelled = Self::end_live(&mut tx, &hpki_id, EnrolmentKind::Pc, now).await?;
        self.audit_in(
            &mut tx,
            &AuditEvent {
                hpki_id: Some(hpki_id.clone()),
                action: AuditAction::PhoneRevoke,
                client: by.client().map(Into::into),
                outcome: "ok".into(),
                detail: Some(format!(
                    "phone={id} reason={reason:?} grants_ended={grants} cancelled={cancelled:?}"
                )),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Some(hpki_id))
    }

    /// The operator cancels a CA's enrolment link (`enrolment cancel-link`): by its enrolment id,
    /// or the holder's live one. Audited. The enrolment and holder, or `None` if no live link
    /// matched.
    pub async fn enrolment_cancel_link(
        &self,
        which: LinkRef<'_>,
        now: i64,
    ) -> Result<Option<(i64, String)>, StoreError> {
        let mut tx = self.begin_write().await?;
        let live: Option<(i64, String)> = match which {
            LinkRef::Id(id) => {
                sqlx::query_as(
                    "SELECT id, hpki_id FROM enrolments \
                     WHERE id = $1 AND kind = 'link' AND state IN ('valid', 'in_use')",
                )
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
            }
            LinkRef::Holder(hpki_id) => {
                sqlx::query_as(
                    "SELECT id, hpki_id FROM enrolments \
                     WHERE hpki_id = $1 AND kind = 'link' AND state IN ('valid', 'in_use')",
                )
                .bind(hpki_id)
                .fetch_optional(&mut *tx)
                .await?
            }
        };
        let Some((id, hpki_id)) = live else { return Ok(None) };
        sqlx::query("UPDATE enrolments SET state = 'cancelled', ended_ms = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        phone_codes::drop_ceremonies(&mut tx, Purpose::Enrolment, &[id]).await?;
        self.audit_in(
            &mut tx,
            &AuditEvent {
                hpki_id: Some(hpki_id.clone()),
                action: AuditAction::PhoneEnrolmentCancel,
                client: Some("cli".into()),
                outcome: "ok".into(),
                detail: Some(format!("enrolment={id} kind=link")),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Some((id, hpki_id)))
    }

    /// Ends the holder's live enrolments of `kind` and their ceremony states; their ids.
    async fn end_live(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        hpki_id: &str,
        kind: EnrolmentKind,
        now: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "UPDATE enrolments SET state = 'cancelled', ended_ms = $1 \
             WHERE hpki_id = $2 AND state IN ('valid', 'in_use') AND kind = $3 RETURNING id",
        )
        .bind(now)
        .bind(hpki_id)
        .bind(kind.as_str())
        .fetch_all(&mut **tx)
        .await?;
        phone_codes::drop_ceremonies(tx, Purpose::Enrolment, &ids).await?;
        Ok(ids)
    }

    /// The holder's working phone, after checking that `policy` allows binding another one.
    async fn check_policy(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        hpki_id: &str,
        policy: &CaPolicy,
    ) -> Result<Option<PhoneRecord>, EnrolError> {
        if let Some(max) = policy.max_phones {
            let ever: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM phone_credentials WHERE hpki_id = $1")
                    .bind(hpki_id)
                    .fetch_one(&mut **tx)
                    .await?;
            if ever >= i64::from(max) {
                return Err(EnrolError::PhoneLimitReached);
            }
        }
        let current: Option<PhoneRecord> = sqlx::query_as(sql(format!(
            "SELECT {PHONE_COLUMNS} FROM phone_credentials WHERE hpki_id = $1 AND revoked_ms IS NULL"
        )))
        .bind(hpki_id)
        .fetch_optional(&mut **tx)
        .await?;
        if current.is_some() && !policy.allow_replace {
            return Err(EnrolError::PhoneLimitReached);
        }
        Ok(current)
    }

    /// Serialises writers of one holder's enrolments and phones (PostgreSQL; SQLite's IMMEDIATE
    /// transaction already holds the database's write lock).
    async fn lock_identity(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        hpki_id: &str,
    ) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT hpki_id FROM identities WHERE hpki_id = $1 FOR UPDATE")
                .bind(hpki_id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}
