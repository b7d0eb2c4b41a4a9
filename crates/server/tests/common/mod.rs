//! Shared by the integration tests: real databases of both kinds.
#![allow(dead_code)] // each test binary uses a different part

pub mod browser;
pub mod pki;
pub mod postgres;
pub mod world;

use mahpki_server::store::Store;

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
