//! The SQLite store on a real file: created with migrations, WAL mode, data survives reopening.

use mahpki_server::store::{AuditEvent, SQLITE_FILE, Store};

#[tokio::test]
async fn sqlite_file_is_created_migrated_and_durable() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("nested")).await.unwrap();
    assert_eq!(store.kind(), "sqlite");
    store.ping().await.unwrap();
    let event = AuditEvent {
        hpki_id: Some("JMA-0001".into()),
        action: "test".into(),
        client: Some("127.0.0.1".into()),
        outcome: "ok".into(),
        detail: None,
    };
    store.audit(&event).await.unwrap();
    store.close().await;

    let path = dir.path().join("nested").join(SQLITE_FILE);
    assert!(path.exists());
    // Reopening runs the migrations again: they must be recognised as applied, not re-run.
    let store = Store::open_sqlite(&dir.path().join("nested")).await.unwrap();
    let tail = store.audit_tail(10).await.unwrap();
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0].hpki_id.as_deref(), Some("JMA-0001"));
    assert_eq!(tail[0].action, "test");
    let Store::Sqlite(pool) = &store else { unreachable!() };
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(pool).await.unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn unusable_data_dir_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let err = Store::open_sqlite(&file).await.unwrap_err();
    assert!(err.to_string().contains("cannot create data directory"), "{err}");
}
