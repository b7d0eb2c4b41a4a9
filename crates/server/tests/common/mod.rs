//! Shared by the integration tests: real databases of both kinds.
#![allow(dead_code)] // each test binary uses a different part

pub mod binary;
pub mod browser;
pub mod crl;
pub mod csc;
pub mod holder;
pub mod pki;
pub mod postgres;
pub mod world;

use mahpki_server::store::Store;

/// Records `cert` (DER) as `hpki_id`'s current HPKI certificate, as `identity import` does: the
/// paths without the card (JMA, CA links, スマートフォン変更) check the holder's standing by it.
pub async fn record_certificate(store: &Store, hpki_id: &str, cert: &[u8]) {
    use x509_parser::prelude::*;
    let (_, c) = X509Certificate::from_der(cert).unwrap();
    let current = mahpki_server::store::CurrentCert {
        serial_hex: c.raw_serial().iter().map(|b| format!("{b:02x}")).collect(),
        not_after_ms: c.validity().not_after.timestamp() * 1000,
    };
    store.hpki_cert_seen(hpki_id, &current, None).await.unwrap();
}

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A store on a fresh database; the `TempDir` keeps the SQLite file alive.
pub async fn store(db: Db) -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = match db {
        Db::Sqlite => Store::open_sqlite(dir.path()).await.unwrap(),
        Db::Postgres => Store::open_postgres(&postgres::fresh_database_url().await).await.unwrap(),
    };
    (store, dir)
}

/// Runs one async test body on SQLite and on PostgreSQL, as two named tests.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::Db::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::Db::Postgres).await })*
        }
    };
}

/// A real WebAuthn registration state (a fresh challenge each call), for store tests that put a
/// ceremony without a phone to answer it.
pub fn registration() -> mahpki_server::store::Registration {
    let (_, state) = relying_party()
        .start_passkey_registration(webauthn_rs::prelude::Uuid::new_v4(), "holder", "holder", None)
        .unwrap();
    mahpki_server::store::Registration::new(state).unwrap()
}

/// A real WebAuthn assertion state (for a 本人ID without a phone, as `change/begin` makes it).
pub fn assertion() -> &'static mahpki_server::store::Assertion {
    static STATE: std::sync::LazyLock<mahpki_server::store::Assertion> =
        std::sync::LazyLock::new(|| {
            let (_, state) = relying_party().start_passkey_authentication(&[]).unwrap();
            mahpki_server::store::Assertion::new(state).unwrap()
        });
    &STATE
}

fn relying_party() -> webauthn_rs::Webauthn {
    let origin = url::Url::parse("https://hpki.example.jp").unwrap();
    webauthn_rs::WebauthnBuilder::new("hpki.example.jp", &origin).unwrap().build().unwrap()
}
