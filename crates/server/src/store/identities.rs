//! Holders (本人ID) as their CA registered them, and how an HPKI certificate maps to one.
//! The カードID of the JMA path is kept only as an HMAC under the server secret.

use mahpki_protocol::{
    HpkiId,
    api::{Ca, Holder, Qualification},
};

use zeroize::Zeroizing;

use super::{Backend, Store, StoreError, now_ms};
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

#[derive(sqlx::FromRow)]
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
        let h = &id.holder;
        sqlx::query(
            "INSERT INTO identities (hpki_id, ca, qualification, name_kanji, name_kana, name_roman, \
             registration_number, hpki_card_id, hpki_card_mac, cert_issuer, cert_subject, \
             created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, '', $8, $9, $10, $11) \
             ON CONFLICT (hpki_id) DO UPDATE SET ca = excluded.ca, \
             qualification = excluded.qualification, name_kanji = excluded.name_kanji, \
             name_kana = excluded.name_kana, name_roman = excluded.name_roman, \
             registration_number = excluded.registration_number, \
             hpki_card_id = '', hpki_card_mac = excluded.hpki_card_mac, cert_issuer = excluded.cert_issuer, \
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
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
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
