//! Holders (本人ID) as their CA registered them, and how an HPKI certificate maps to one.
//! The カードID of the JMA path is kept only as an HMAC under the server secret.

use mahpki_protocol::{
    HpkiId,
    api::{Ca, Holder, Qualification},
};

use zeroize::Zeroizing;

use super::{AuditAction, AuditEvent, Backend, Store, StoreError, now_ms, sql};
use crate::secret::ServerSecret;

/// A holder with the certificate names that identify them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRecord {
    pub holder: Holder,
    pub registration_number: String,
    /// [`ServerSecret::card_id_mac`] of the registration number and the カードID.
    pub hpki_card_mac: Vec<u8>,
    /// DER of the HPKI authentication certificate's issuer and subject names.
    pub cert_issuer: Vec<u8>,
    pub cert_subject: Vec<u8>,
}

#[derive(Clone, sqlx::FromRow)]
struct Row {
    hpki_id: String,
    ca: String,
    qualification: String,
    name_kanji: String,
    name_kana: String,
    name_roman: String,
    registration_number: String,
    hpki_card_mac: Option<Vec<u8>>,
    cert_issuer: Vec<u8>,
    cert_subject: Vec<u8>,
}

impl TryFrom<Row> for IdentityRecord {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("identity {}: {what}", r.hpki_id));
        Ok(Self {
            holder: Holder {
                hpki_id: HpkiId::parse(&r.hpki_id).map_err(|_| corrupt("本人ID"))?,
                ca: Ca::parse(&r.ca).ok_or_else(|| corrupt("ca"))?,
                qualification: Qualification::parse(&r.qualification)
                    .ok_or_else(|| corrupt("qualification"))?,
                name_kanji: r.name_kanji,
                name_kana: r.name_kana,
                name_roman: r.name_roman,
            },
            registration_number: r.registration_number,
            // Empty only for a row from before the HMAC that the start-up step has not reached.
            hpki_card_mac: r.hpki_card_mac.unwrap_or_default(),
            cert_issuer: r.cert_issuer,
            cert_subject: r.cert_subject,
        })
    }
}

const COLUMNS: &str = "hpki_id, ca, qualification, name_kanji, name_kana, name_roman, \
                       registration_number, hpki_card_mac, cert_issuer, cert_subject";

impl Store {
    /// Adds a holder, or updates one with the same 本人ID (the CA re-exports its register).
    pub async fn identity_upsert(&self, id: &IdentityRecord) -> Result<(), StoreError> {
        upsert(id).bind(now_ms()).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn identity_get(&self, hpki_id: &str) -> Result<Option<IdentityRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM identities WHERE hpki_id = $1");
        let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(hpki_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    /// The holder an HPKI authentication certificate belongs to.
    pub async fn identity_by_cert(
        &self,
        issuer: &[u8],
        subject: &[u8],
    ) -> Result<Option<IdentityRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM identities WHERE cert_issuer = $1 AND cert_subject = $2"
        );
        let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(issuer)
            .bind(subject)
            .fetch_optional(&self.pool)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    pub async fn identity_list(&self) -> Result<Vec<IdentityRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM identities ORDER BY hpki_id");
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// The holders registered under `registration_number` whose カードID hashes to `card_mac`,
    /// compared in the database. Also the other holders of that number, with `card_matches`
    /// false (so a wrong guess shows in their audit trail).
    pub async fn identities_by_jma_numbers(
        &self,
        registration_number: &str,
        card_mac: &[u8],
    ) -> Result<Vec<JmaCandidate>, StoreError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT hpki_id, ca, CAST(CASE WHEN hpki_card_mac = $2 THEN 1 ELSE 0 END AS BIGINT) \
             FROM identities WHERE registration_number = $1 ORDER BY hpki_id",
        )
        .bind(registration_number)
        .bind(card_mac)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(hpki_id, ca, matches)| {
                let ca = Ca::parse(&ca)
                    .ok_or_else(|| StoreError::Corrupt(format!("identity {hpki_id}: ca")))?;
                Ok(JmaCandidate { hpki_id, ca, card_matches: matches == 1 })
            })
            .collect()
    }

    /// Binds the database to `secret` (the first process to start records which one; any
    /// later process with another secret is refused), then replaces every カードID still kept
    /// in plain text, from before the HMAC, by its HMAC. Idempotent, and safe with several
    /// processes starting at once. Returns how many rows it hashed.
    pub async fn adopt_secret(&self, secret: &ServerSecret) -> Result<u64, StoreError> {
        let check = secret.check_value();
        sqlx::query(
            "INSERT INTO server_secret_check (id, mac) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
        )
        .bind(check.as_slice())
        .execute(&self.pool)
        .await?;
        let recorded: Vec<u8> =
            sqlx::query_scalar("SELECT mac FROM server_secret_check WHERE id = 1")
                .fetch_one(&self.pool)
                .await?;
        if recorded != check {
            return Err(StoreError::SecretMismatch);
        }
        let plain: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT hpki_id, registration_number, hpki_card_id FROM identities \
             WHERE hpki_card_id <> ''",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut hashed = 0;
        for (hpki_id, registration_number, card_id) in plain {
            let card_id = Zeroizing::new(card_id);
            let mac = secret.card_id_mac(&registration_number, &card_id);
            // Conditional: a concurrent start (or a re-import) that got there first wins.
            hashed += sqlx::query(
                "UPDATE identities SET hpki_card_mac = $1, hpki_card_id = '' \
                 WHERE hpki_id = $2 AND hpki_card_id = $3",
            )
            .bind(mac.as_slice())
            .bind(&hpki_id)
            .bind(card_id.as_str())
            .execute(&self.pool)
            .await?
            .rows_affected();
        }
        if hashed > 0 {
            self.scrub_free_space().await?;
            tracing::info!(hashed, "plain カードIDs replaced by their HMAC");
        }
        Ok(hashed)
    }

    /// Rewrites storage so overwritten values are gone from the files, not just unreachable:
    /// SQLite rebuilds the file and empties its write-ahead log; PostgreSQL rewrites the table
    /// (its own write-ahead log and backups still hold what they held).
    async fn scrub_free_space(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::query("VACUUM").execute(&self.pool).await?;
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await?;
            }
            Backend::Postgres => {
                sqlx::query("VACUUM FULL identities").execute(&self.pool).await?;
            }
        }
        Ok(())
    }
}

/// A holder of a 医籍登録番号, and whether the カードID given matched theirs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JmaCandidate {
    pub hpki_id: String,
    pub ca: Ca,
    pub card_matches: bool,
}

/// The HPKI authentication certificate a holder carries now: its issuer is the identity's
/// `cert_issuer`; this is what else the paths without the card check it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentCert {
    /// Hex of the DER serial number (what CRLs list).
    pub serial_hex: String,
    pub not_after_ms: i64,
}

// Here rather than in pki, so that pki needs nothing from the store.
impl crate::pki::VerifiedCert {
    /// What the store records of a holder's current HPKI certificate.
    pub fn current(&self) -> CurrentCert {
        CurrentCert {
            serial_hex: self.serial_hex.clone(),
            not_after_ms: self.not_after.saturating_mul(1000),
        }
    }
}

/// What a holder's standing is computed from (see `crate::standing`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StandingFacts {
    pub cert_issuer: Vec<u8>,
    pub cert_serial: Option<String>,
    pub cert_not_after_ms: Option<i64>,
    pub suspended_ms: Option<i64>,
    pub suspended_reason: Option<String>,
}

/// What `identity import` did to one holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportChange {
    Added(String),
    /// Listed fields changed (the certificate's serial and expiry among them, for a renewal).
    Changed {
        hpki_id: String,
        fields: Vec<&'static str>,
    },
    Unchanged(String),
}

/// Why `identity import` refused (nothing of the file was written).
#[derive(Debug, thiserror::Error)]
pub enum ImportRefusal {
    #[error(
        "{hpki_id}: the file maps this holder to a certificate of a different issuer or subject \
         than the one on record; check the register, or give --force to remap it"
    )]
    Remap { hpki_id: String },
    #[error(
        "{hpki_id}: the file gives this holder the certificate (issuer and subject) of {other}; \
         check the register, or give --force to move it (then {other} is suspended)"
    )]
    CertificateTaken { hpki_id: String, other: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ImportRefusal {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

#[derive(sqlx::FromRow)]
struct Stored {
    #[sqlx(flatten)]
    row: Row,
    cert_serial: Option<String>,
    cert_not_after_ms: Option<i64>,
}

impl Store {
    /// Imports a register in one transaction: every holder is added or updated (with an audit
    /// row per holder added or changed), or, on the first refusal, none is. A holder's
    /// certificate is never silently remapped: a different issuer or subject than on record, or
    /// one already mapped to another holder, is refused unless `force` (then audited, and a
    /// holder whose certificate moved away is suspended and mapped to nothing).
    pub async fn identity_import(
        &self,
        rows: &[(IdentityRecord, CurrentCert)],
        force: bool,
        client: Option<&str>,
    ) -> Result<Vec<ImportChange>, ImportRefusal> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            // One import at a time, and no card login remapping beneath it.
            sqlx::query("LOCK TABLE identities IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
        }
        let mut changes = Vec::with_capacity(rows.len());
        for (id, cert) in rows {
            let hpki_id = id.holder.hpki_id.as_str();
            let select = format!(
                "SELECT {COLUMNS}, cert_serial, cert_not_after_ms FROM identities WHERE hpki_id = $1"
            );
            let stored: Option<Stored> =
                sqlx::query_as(sql(select)).bind(hpki_id).fetch_optional(&mut *tx).await?;
            let other: Option<String> = sqlx::query_scalar(
                "SELECT hpki_id FROM identities WHERE cert_issuer = $1 AND cert_subject = $2 \
                 AND hpki_id <> $3",
            )
            .bind(&id.cert_issuer)
            .bind(&id.cert_subject)
            .bind(hpki_id)
            .fetch_optional(&mut *tx)
            .await?;
            let mut forced = Vec::new();
            if let Some(s) = &stored
                && (s.row.cert_issuer != id.cert_issuer || s.row.cert_subject != id.cert_subject)
            {
                if !force {
                    return Err(ImportRefusal::Remap { hpki_id: hpki_id.into() });
                }
                forced.push("remapped".to_owned());
            }
            if let Some(other) = other {
                if !force {
                    return Err(ImportRefusal::CertificateTaken { hpki_id: hpki_id.into(), other });
                }
                // The certificate moves: the other holder keeps nothing a card can map to (an
                // issuer no DER name can equal) and is suspended until the CA sorts it out.
                let reason = format!("certificate moved to {hpki_id} by identity import --force");
                sqlx::query(
                    "UPDATE identities SET cert_issuer = $1, cert_subject = $2, cert_serial = NULL, \
                     cert_not_after_ms = NULL, suspended_ms = $3, suspended_reason = $4 \
                     WHERE hpki_id = $5",
                )
                .bind(format!("unmapped:{other}").into_bytes())
                .bind(Vec::<u8>::new())
                .bind(now)
                .bind(&reason)
                .bind(&other)
                .execute(&mut *tx)
                .await?;
                self.audit_in(
                    &mut tx,
                    &AuditEvent {
                        hpki_id: Some(other.clone()),
                        action: AuditAction::IdentitySuspend,
                        client: client.map(Into::into),
                        outcome: "ok".into(),
                        detail: Some(reason),
                    },
                )
                .await?;
                forced.push(format!("taken_from={other}"));
            }
            let change = match &stored {
                None => ImportChange::Added(hpki_id.into()),
                Some(s) => {
                    let before = IdentityRecord::try_from(s.row.clone())?;
                    let fields = changed_fields(&before, id, s, cert);
                    if fields.is_empty() {
                        ImportChange::Unchanged(hpki_id.into())
                    } else {
                        ImportChange::Changed { hpki_id: hpki_id.into(), fields }
                    }
                }
            };
            if matches!(change, ImportChange::Unchanged(_)) {
                changes.push(change);
                continue;
            }
            upsert(id).bind(now).execute(&mut *tx).await?;
            sqlx::query(
                "UPDATE identities SET cert_serial = $1, cert_not_after_ms = $2 WHERE hpki_id = $3",
            )
            .bind(&cert.serial_hex)
            .bind(cert.not_after_ms)
            .bind(hpki_id)
            .execute(&mut *tx)
            .await?;
            let mut detail = match &change {
                ImportChange::Changed { fields, .. } => format!("changed={}", fields.join(",")),
                _ => "added".to_owned(),
            };
            detail.push_str(&format!(" serial={}", cert.serial_hex));
            if !forced.is_empty() {
                detail.push_str(&format!(" forced={}", forced.join(",")));
            }
            self.audit_in(
                &mut tx,
                &AuditEvent {
                    hpki_id: Some(hpki_id.into()),
                    action: AuditAction::IdentityImport,
                    client: client.map(Into::into),
                    outcome: "ok".into(),
                    detail: Some(detail),
                },
            )
            .await?;
            changes.push(change);
        }
        tx.commit().await?;
        Ok(changes)
    }

    /// Records the certificate a successful HPKI card login presented, if it differs from the
    /// one on record (a renewed card): audited. False when nothing changed.
    pub async fn hpki_cert_seen(
        &self,
        hpki_id: &str,
        cert: &CurrentCert,
        client: Option<&str>,
    ) -> Result<bool, StoreError> {
        // Every card login comes here and almost always with the certificate on record: a read
        // settles that, so a login takes no write lock (and no commit) for it.
        let on_record = self.identity_standing(hpki_id).await?;
        if on_record.is_some_and(|f| {
            f.cert_serial.as_deref() == Some(cert.serial_hex.as_str())
                && f.cert_not_after_ms == Some(cert.not_after_ms)
        }) {
            return Ok(false);
        }
        let mut tx = self.begin_write().await?;
        // Still conditional: another process may have recorded it meanwhile.
        let changed = sqlx::query(
            "UPDATE identities SET cert_serial = $1, cert_not_after_ms = $2 WHERE hpki_id = $3 \
             AND (cert_serial IS NULL OR cert_serial <> $1 OR cert_not_after_ms IS NULL \
             OR cert_not_after_ms <> $2)",
        )
        .bind(&cert.serial_hex)
        .bind(cert.not_after_ms)
        .bind(hpki_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if changed {
            self.audit_in(
                &mut tx,
                &AuditEvent {
                    hpki_id: Some(hpki_id.into()),
                    action: AuditAction::HpkiCertificate,
                    client: client.map(Into::into),
                    outcome: "ok".into(),
                    detail: Some(format!("serial={}", cert.serial_hex)),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// The facts a holder's standing is computed from; `None` for an unknown holder.
    pub async fn identity_standing(
        &self,
        hpki_id: &str,
    ) -> Result<Option<StandingFacts>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT cert_issuer, cert_serial, cert_not_after_ms, suspended_ms, suspended_reason \
             FROM identities WHERE hpki_id = $1",
        )
        .bind(hpki_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The CA operator suspends a holder (audited); false if no such holder or already
    /// suspended.
    pub async fn identity_suspend(
        &self,
        hpki_id: &str,
        reason: &str,
        client: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.set_suspension(hpki_id, Some(reason), client).await
    }

    /// Lifts an operator suspension (audited); false if the holder was not suspended.
    pub async fn identity_resume(
        &self,
        hpki_id: &str,
        client: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.set_suspension(hpki_id, None, client).await
    }

    async fn set_suspension(
        &self,
        hpki_id: &str,
        reason: Option<&str>,
        client: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let query = match reason {
            Some(reason) => sqlx::query(
                "UPDATE identities SET suspended_ms = $1, suspended_reason = $2 \
                 WHERE hpki_id = $3 AND suspended_ms IS NULL",
            )
            .bind(now_ms())
            .bind(reason)
            .bind(hpki_id),
            None => sqlx::query(
                "UPDATE identities SET suspended_ms = NULL, suspended_reason = NULL \
                 WHERE hpki_id = $1 AND suspended_ms IS NOT NULL",
            )
            .bind(hpki_id),
        };
        let done = query.execute(&mut *tx).await?.rows_affected() == 1;
        if done {
            let (action, detail) = match reason {
                Some(r) => (AuditAction::IdentitySuspend, Some(format!("reason={r}"))),
                None => (AuditAction::IdentityResume, None),
            };
            self.audit_in(
                &mut tx,
                &AuditEvent {
                    hpki_id: Some(hpki_id.into()),
                    action,
                    client: client.map(Into::into),
                    outcome: "ok".into(),
                    detail,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(done)
    }
}

/// The statement that adds or updates a holder (bind `created_ms` as `$11` after it).
fn upsert(id: &IdentityRecord) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
    let h = &id.holder;
    sqlx::query(
        "INSERT INTO identities (hpki_id, ca, qualification, name_kanji, name_kana, name_roman, \
         registration_number, hpki_card_id, hpki_card_mac, cert_issuer, cert_subject, \
         created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, '', $8, $9, $10, $11) \
         ON CONFLICT (hpki_id) DO UPDATE SET ca = excluded.ca, \
         qualification = excluded.qualification, name_kanji = excluded.name_kanji, \
         name_kana = excluded.name_kana, name_roman = excluded.name_roman, \
         registration_number = excluded.registration_number, \
         hpki_card_id = '', hpki_card_mac = excluded.hpki_card_mac, \
         cert_issuer = excluded.cert_issuer, \
         cert_subject = excluded.cert_subject",
    )
    .bind(h.hpki_id.as_str())
    .bind(h.ca.as_str())
    .bind(h.qualification.as_str())
    .bind(&h.name_kanji)
    .bind(&h.name_kana)
    .bind(&h.name_roman)
    .bind(&id.registration_number)
    .bind(&id.hpki_card_mac)
    .bind(&id.cert_issuer)
    .bind(&id.cert_subject)
}

/// Names of what an import changes (never values: the カードID is a secret).
fn changed_fields(
    before: &IdentityRecord,
    after: &IdentityRecord,
    stored: &Stored,
    cert: &CurrentCert,
) -> Vec<&'static str> {
    let (b, a) = (&before.holder, &after.holder);
    [
        ("ca", b.ca != a.ca),
        ("qualification", b.qualification != a.qualification),
        (
            "name",
            b.name_kanji != a.name_kanji
                || b.name_kana != a.name_kana
                || b.name_roman != a.name_roman,
        ),
        ("registration_number", before.registration_number != after.registration_number),
        ("hpki_card_id", before.hpki_card_mac != after.hpki_card_mac),
        (
            "certificate_names",
            before.cert_issuer != after.cert_issuer || before.cert_subject != after.cert_subject,
        ),
        (
            "certificate",
            stored.cert_serial.as_deref() != Some(cert.serial_hex.as_str())
                || stored.cert_not_after_ms != Some(cert.not_after_ms),
        ),
    ]
    .into_iter()
    .filter_map(|(name, changed)| changed.then_some(name))
    .collect()
}
