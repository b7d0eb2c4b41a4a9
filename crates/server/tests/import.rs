//! The CA operator's register: JSON and CSV, checked completely before anything is written.

mod common;

use common::pki;
use mahpki_server::{
    import::{self, ImportError},
    secret::ServerSecret,
    store::{CurrentCert, IdentityRecord},
};

fn read(path: &std::path::Path) -> Result<Vec<(IdentityRecord, CurrentCert)>, ImportError> {
    import::read(path, &SECRET)
}

static SECRET: std::sync::LazyLock<ServerSecret> = std::sync::LazyLock::new(ServerSecret::random);

fn write_cert(dir: &std::path::Path) {
    let keys = pki::keys();
    let ca = pki::ca("HPKI test CA", &keys.hpki_ca);
    let cert = pki::issue(
        &pki::ee_params("holder 1", 1, pki::HPKI_POLICY),
        &keys.holder,
        &ca.params,
        &keys.hpki_ca,
    );
    std::fs::write(dir.join("h1.der"), cert).unwrap();
}

const CSV_HEADER: &str = "hpki_id,ca,qualification,name_kanji,name_kana,name_roman,registration_number,hpki_card_id,certificate\n";

#[test]
fn csv_and_json_registers_import_the_same_holder() {
    let dir = tempfile::tempdir().unwrap();
    write_cert(dir.path());
    let csv = dir.path().join("holders.csv");
    std::fs::write(&csv, format!("{CSV_HEADER}JPA-1,JPA,薬剤師,\"薬剤師, 花子\",ヤクザイシ ハナコ,YAKUZAISHI HANAKO,77,C1,h1.der\n")).unwrap();
    let json = dir.path().join("holders.json");
    std::fs::write(
        &json,
        r#"[{"hpki_id":"JPA-1","ca":"JPA","qualification":"pharmacist","name_kanji":"薬剤師, 花子",
            "name_kana":"ヤクザイシ ハナコ","name_roman":"YAKUZAISHI HANAKO","registration_number":"77",
            "hpki_card_id":"C1","certificate":"h1.der"}]"#,
    )
    .unwrap();
    let from_csv = read(&csv).unwrap();
    assert_eq!(from_csv, read(&json).unwrap());
    assert_eq!(from_csv[0].0.holder.name_kanji, "薬剤師, 花子");
    assert!(!from_csv[0].0.cert_subject.is_empty());
    // The カードID only as its HMAC under the server secret.
    assert_eq!(from_csv[0].0.hpki_card_mac, SECRET.card_id_mac("77", "C1"));
}

#[test]
fn one_bad_row_rejects_the_whole_file_and_names_the_row() {
    let dir = tempfile::tempdir().unwrap();
    write_cert(dir.path());
    let csv = dir.path().join("holders.csv");
    for (bad_row, expect) in [
        ("JMA-2,XYZ,doctor,a,b,c,1,C2,h1.der", "unknown CA"),
        ("JMA-2,JMA,nurse,a,b,c,1,C2,h1.der", "unknown qualification"),
        ("JMA 2,JMA,doctor,a,b,c,1,C2,h1.der", "本人ID"),
        ("JMA-2,JMA,doctor,a,b,c,1,C2,missing.der", "missing.der"),
    ] {
        std::fs::write(
            &csv,
            format!("{CSV_HEADER}JMA-1,JMA,doctor,a,b,c,1,C1,h1.der\n{bad_row}\n"),
        )
        .unwrap();
        match read(&csv) {
            Err(ImportError::Row { row: 2, reason, .. }) => {
                assert!(reason.contains(expect), "{reason}")
            }
            other => panic!("{bad_row}: {other:?}"),
        }
    }
    std::fs::write(&csv, "hpki_id,unexpected\nx,y\n").unwrap();
    assert!(matches!(read(&csv), Err(ImportError::Format { .. })));
}
