//! The store on real databases: a SQLite file and a PostgreSQL server started by the test.

mod common;

use common::{Db, store};
use mahpki_protocol::{
    HpkiId,
    api::{Ca, Holder, Qualification},
};
use mahpki_server::store::{
    AuditAction, AuditEvent, BindError, BindOutcome, IdentityRecord, NewMyNumberBinding,
    SQLITE_FILE, Store,
};

fn identity(n: u32) -> IdentityRecord {
    IdentityRecord {
        holder: Holder {
            hpki_id: HpkiId::parse(&format!("JMA-{n:07}")).unwrap(),
            ca: Ca::Jma,
            qualification: Qualification::Doctor,
            name_kanji: format!("医師 太郎{n}"),
            name_kana: "イシ タロウ".into(),
            name_roman: "ISHI TARO".into(),
        },
        registration_number: format!("{n:06}"),
        hpki_card_mac: format!("card-mac-{n}").into_bytes(),
        cert_issuer: b"issuer-der".to_vec(),
        cert_subject: format!("subject-der-{n}").into_bytes(),
    }
}

fn card(holder: u32, card: u32) -> NewMyNumberBinding {
    NewMyNumberBinding {
        hpki_id: format!("JMA-{holder:07}"),
        cert_issuer: "C=JP, O=JPKI".into(),
        cert_serial: format!("{card:08x}"),
        fingerprint: format!("{card:064x}"),
        not_after_ms: 2_000_000_000_000,
        certificate: vec![0x30, card as u8],
    }
}

async fn with_identities(db: Db, n: u32) -> (Store, tempfile::TempDir) {
    let (store, dir) = store(db).await;
    for i in 1..=n {
        store.identity_upsert(&identity(i)).await.unwrap();
    }
    (store, dir)
}

async fn identities_import_and_map_certificates(db: Db) {
    let (store, _dir) = with_identities(db, 2).await;
    let one = store.identity_get("JMA-0000001").await.unwrap().unwrap();
    assert_eq!(one, identity(1));
    let by_cert = store.identity_by_cert(b"issuer-der", b"subject-der-2").await.unwrap().unwrap();
    assert_eq!(by_cert.holder.hpki_id.as_str(), "JMA-0000002");
    assert!(store.identity_by_cert(b"issuer-der", b"nobody").await.unwrap().is_none());
    // Re-importing updates in place.
    let mut changed = identity(1);
    changed.holder.name_roman = "ISHI JIRO".into();
    store.identity_upsert(&changed).await.unwrap();
    assert_eq!(store.identity_get("JMA-0000001").await.unwrap().unwrap(), changed);
    assert_eq!(store.identity_list().await.unwrap().len(), 2);
}

async fn binding_renewal_replaces_and_is_audited(db: Db) {
    let (store, _dir) = with_identities(db, 1).await;
    let first = match store.bind_mynumber(&card(1, 1), Some("127.0.0.1")).await.unwrap() {
        BindOutcome::Bound { binding, replaced: None } => binding,
        other => panic!("{other:?}"),
    };
    // The same certificate again changes nothing.
    assert_eq!(
        store.bind_mynumber(&card(1, 1), None).await.unwrap(),
        BindOutcome::AlreadyBound(first.clone())
    );
    // A renewed card replaces the old one in the same transaction.
    let BindOutcome::Bound { binding, replaced: Some(old) } =
        store.bind_mynumber(&card(1, 2), None).await.unwrap()
    else {
        panic!("renewal did not replace");
    };
    assert_eq!(old.id, first.id);
    assert_eq!(old.revoked_reason.as_deref(), Some("replaced"));
    assert_eq!(store.mynumber_active("JMA-0000001").await.unwrap().unwrap(), binding);
    let all = store.mynumber_list(Some("JMA-0000001")).await.unwrap();
    assert_eq!(all.len(), 2);
    assert!(all[0].revoked_ms.is_some() && all[1].revoked_ms.is_none());
    let actions: Vec<String> =
        store.audit_tail(10).await.unwrap().into_iter().map(|r| r.action).collect();
    assert_eq!(actions, ["mynumber.bind", "mynumber.replace"]);
}

async fn card_bound_elsewhere_is_refused_and_changes_nothing(db: Db) {
    let (store, _dir) = with_identities(db, 2).await;
    store.bind_mynumber(&card(1, 7), None).await.unwrap();
    store.bind_mynumber(&card(2, 8), None).await.unwrap();
    let before = store.mynumber_list(None).await.unwrap();
    let audit_before = store.audit_tail(100).await.unwrap();
    // Holder 2 presents holder 1's card.
    let err = store.bind_mynumber(&card(2, 7), None).await.unwrap_err();
    assert!(matches!(err, BindError::BoundElsewhere), "{err:?}");
    assert_eq!(store.mynumber_list(None).await.unwrap(), before, "holder 2 lost their card");
    assert_eq!(store.audit_tail(100).await.unwrap(), audit_before);
}

async fn revocation_ends_a_binding_once(db: Db) {
    let (store, _dir) = with_identities(db, 1).await;
    let BindOutcome::Bound { binding, .. } = store.bind_mynumber(&card(1, 1), None).await.unwrap()
    else {
        panic!()
    };
    assert!(store.mynumber_revoke(binding.id, "lost").await.unwrap());
    assert!(!store.mynumber_revoke(binding.id, "lost").await.unwrap(), "revoked twice");
    assert!(store.mynumber_active("JMA-0000001").await.unwrap().is_none());
    // After revocation the card may be bound again.
    assert!(matches!(
        store.bind_mynumber(&card(1, 1), None).await.unwrap(),
        BindOutcome::Bound { replaced: None, .. }
    ));
}

async fn fifty_concurrent_bindings_leave_one_consistent_binding(db: Db) {
    let (store, _dir) = with_identities(db, 1).await;
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.bind_mynumber(&card(1, 100 + i), None).await })
        })
        .collect();
    let mut bound = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(BindOutcome::Bound { .. }) => bound += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(bound, 50);
    let all = store.mynumber_list(Some("JMA-0000001")).await.unwrap();
    assert_eq!(all.len(), 50);
    assert_eq!(all.iter().filter(|b| b.revoked_ms.is_none()).count(), 1);
    // Every replaced binding was replaced by exactly one later one: a chain, not a fork.
    assert_eq!(all.iter().filter(|b| b.revoked_reason.as_deref() == Some("replaced")).count(), 49);
    assert_eq!(store.audit_tail(100).await.unwrap().len(), 50);
}

async fn one_card_raced_by_many_holders_goes_to_exactly_one(db: Db) {
    let (store, _dir) = with_identities(db, 20).await;
    let tasks: Vec<_> = (1..=20)
        .map(|h| {
            let store = store.clone();
            tokio::spawn(async move { store.bind_mynumber(&card(h, 42), None).await })
        })
        .collect();
    let (mut won, mut refused) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(BindOutcome::Bound { .. }) => won += 1,
            Err(BindError::BoundElsewhere) => refused += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((won, refused), (1, 19));
    assert_eq!(store.mynumber_list(None).await.unwrap().len(), 1);
}

async fn challenges_are_single_use(db: Db) {
    let (store, _dir) = store(db).await;
    store.session_insert(b"s1", 1_000).await.unwrap();
    store.challenge_insert(b"c1", b"s1", "hpki", 5_000).await.unwrap();
    let c = store.challenge_take(b"c1").await.unwrap().unwrap();
    assert_eq!(
        (c.session_hash.as_slice(), c.purpose.as_str(), c.expires_ms),
        (&b"s1"[..], "hpki", 5_000)
    );
    assert!(store.challenge_take(b"c1").await.unwrap().is_none());
}

async fn sessions_expire_and_rotate(db: Db) {
    let (store, _dir) = with_identities(db, 1).await;
    store.session_insert(b"old", 0).await.unwrap();
    assert!(store.session_touch(b"old", 10, 100, 1_000).await.unwrap().is_some());
    store.session_authenticate(b"old", b"new", "JMA-0000001", 20, None).await.unwrap();
    assert!(
        store.session_touch(b"old", 30, 100, 1_000).await.unwrap().is_none(),
        "old id survives login"
    );
    let s = store.session_touch(b"new", 30, 100, 1_000).await.unwrap().unwrap();
    assert_eq!(s.hpki_id.as_deref(), Some("JMA-0000001"));
    // Idle for longer than the idle timeout: gone.
    assert!(store.session_touch(b"new", 500, 100, 1_000).await.unwrap().is_none());
    assert!(store.session_touch(b"new", 501, 100, 1_000).await.unwrap().is_none());
}

async fn audit_log_keeps_events_in_order(db: Db) {
    let (store, _dir) = store(db).await;
    for action in [AuditAction::HpkiAuth, AuditAction::PhoneBind, AuditAction::PhoneRevoke] {
        store
            .audit(&AuditEvent {
                hpki_id: None,
                action,
                client: None,
                outcome: "ok".into(),
                detail: None,
            })
            .await
            .unwrap();
    }
    let tail: Vec<String> =
        store.audit_tail(2).await.unwrap().into_iter().map(|r| r.action).collect();
    // The exact strings operators grep for.
    assert_eq!(tail, ["phone.bind", "phone.revoke"]);
    let all: std::collections::HashSet<&str> =
        AuditAction::ALL.iter().map(|a| a.as_str()).collect();
    assert_eq!(all.len(), AuditAction::ALL.len(), "two actions share a string");
}

on_both_databases!(
    identities_import_and_map_certificates,
    binding_renewal_replaces_and_is_audited,
    card_bound_elsewhere_is_refused_and_changes_nothing,
    revocation_ends_a_binding_once,
    fifty_concurrent_bindings_leave_one_consistent_binding,
    one_card_raced_by_many_holders_goes_to_exactly_one,
    challenges_are_single_use,
    sessions_expire_and_rotate,
    audit_log_keeps_events_in_order,
);

#[tokio::test]
async fn sqlite_file_is_created_migrated_and_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("nested")).await.unwrap();
    assert_eq!(store.kind(), "sqlite");
    store.identity_upsert(&identity(1)).await.unwrap();
    store.close().await;
    assert!(dir.path().join("nested").join(SQLITE_FILE).exists());
    // Reopening finds the migrations applied and the data there.
    let store = Store::open_sqlite(&dir.path().join("nested")).await.unwrap();
    assert!(store.identity_get("JMA-0000001").await.unwrap().is_some());
    let conn = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join("nested").join(SQLITE_FILE).display()
    ))
    .await
    .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&conn).await.unwrap();
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
