//! Holders (本人ID) as their CA registered them, and how an HPKI certificate maps to one.

use mahpki_protocol::{
    HpkiId,
    api::{Ca, Holder, Qualification},
};

use super::{Store, StoreError, now_ms};

/// A holder with the certificate names that identify them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRecord {
    pub holder: Holder,
    pub registration_number: String,
    pub hpki_card_id: String,
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
    hpki_card_id: String,
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
            hpki_card_id: r.hpki_card_id,
            cert_issuer: r.cert_issuer,
            cert_subject: r.cert_subject,
        })
    }
}

const COLUMNS: &str = "hpki_id, ca, qualification, name_kanji, name_kana, name_roman, \
                       registration_number, hpki_card_id, cert_issuer, cert_subject";

impl Store {
    /// Adds a holder, or updates one with the same 本人ID (the CA re-exports its register).
    pub async fn identity_upsert(&self, id: &IdentityRecord) -> Result<(), StoreError> {
        let h = &id.holder;
        sqlx::query(
            "INSERT INTO identities (hpki_id, ca, qualification, name_kanji, name_kana, name_roman, \
             registration_number, hpki_card_id, cert_issuer, cert_subject, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (hpki_id) DO UPDATE SET ca = excluded.ca, \
             qualification = excluded.qualification, name_kanji = excluded.name_kanji, \
             name_kana = excluded.name_kana, name_roman = excluded.name_roman, \
             registration_number = excluded.registration_number, \
             hpki_card_id = excluded.hpki_card_id, cert_issuer = excluded.cert_issuer, \
             cert_subject = excluded.cert_subject",
        )
        .bind(h.hpki_id.as_str())
        .bind(h.ca.as_str())
        .bind(h.qualification.as_str())
        .bind(&h.name_kanji)
        .bind(&h.name_kana)
        .bind(&h.name_roman)
        .bind(&id.registration_number)
        .bind(&id.hpki_card_id)
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
}
