//! The holder register a CA operator imports with `mahpki-server identity import` (a JSON array
//! of these, or a CSV file with these columns). The test PKI writes one for the demo.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityImportRow {
    /// 本人ID.
    pub hpki_id: String,
    /// `JMA`, `JPA` or `MEDIS`.
    pub ca: String,
    /// `doctor`, `dentist`, `pharmacist` (or 医師, 歯科医師, 薬剤師).
    pub qualification: String,
    pub name_kanji: String,
    pub name_kana: String,
    pub name_roman: String,
    /// 医籍登録番号 (or the dentist's / pharmacist's register number).
    pub registration_number: String,
    /// The card ID printed on the HPKI card.
    pub hpki_card_id: String,
    /// Path of the holder's HPKI authentication certificate (PEM or DER), relative to the
    /// import file. Its issuer and subject map the card to the holder.
    pub certificate: String,
}
