//! The benches' holders: a doctor of the JMA CA, as `identity_upsert` records one (shared by
//! `auth` and `streams`).

use mahpki_protocol::{
    HpkiId,
    api::{Ca, Holder, Qualification},
};
use mahpki_server::store::IdentityRecord;

/// Doctor `hpki_id`, with what the store keeps of their registration and card.
pub fn doctor(
    hpki_id: &str,
    registration_number: String,
    hpki_card_mac: Vec<u8>,
    cert_issuer: Vec<u8>,
    cert_subject: Vec<u8>,
) -> IdentityRecord {
    IdentityRecord {
        holder: Holder {
            hpki_id: HpkiId::parse(hpki_id).unwrap(),
            ca: Ca::Jma,
            qualification: Qualification::Doctor,
            name_kanji: "医師 太郎".into(),
            name_kana: "イシ タロウ".into(),
            name_roman: "ISHI TARO".into(),
        },
        registration_number,
        hpki_card_mac,
        cert_issuer,
        cert_subject,
    }
}
