//! The JMA path (医籍登録番号 + カードID) attacked, on SQLite and PostgreSQL: it may enrol a first
//! phone only; its attempts are counted before they are compared and back off; unknown numbers
//! answer like known ones; a login rotates the session id; the カードID is kept only as an HMAC
//! under the server secret, and rows from before are hashed at start.

mod common;

use std::{path::Path, sync::Arc};

use axum::{Router, http::StatusCode};
use common::{
    Db,
    browser::{Answer, Browser},
    pki::{self, HPKI_POLICY, HPKI_POLICY_STR},
};
use mahpki_protocol::{
    ErrorBody, ErrorCode, HpkiId,
    api::{Ca, Holder, Qualification},
    enrol::{EnrolmentIssued, FinishEnrolment, RegisterPublicKeyCredential, RegistrationOptions},
};
use mahpki_server::{
    Config,
    config::CaPolicy,
    http::{AppState, Clock, RateLimiter, router},
    pki::{TrustConfig, TrustStore},
    secret::ServerSecret,
    store::{
        self as store_mod, JMA_FIRST_BACKOFF_MS, JMA_MAX_BACKOFF_MS, SQLITE_FILE, Store, StoreError,
    },
};
use webauthn_authenticator_rs::{WebauthnAuthenticator as _, softpasskey::SoftPasskey};
use x509_parser::prelude::*;

const ORIGIN: &str = "https://hpki.example.jp";
const HOLDER: &str = "JMA-0000001";
const NUMBER: &str = "123456";
const CARD_ID: &str = "HPKI0001";

/// A database of either kind, reachable by URL for the tests that also write to it directly.
struct Database {
    url: String,
    dir: tempfile::TempDir,
}

impl Database {
    async fn fresh(db: Db) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = match db {
            Db::Sqlite => format!("sqlite://{}?mode=rwc", dir.path().join(SQLITE_FILE).display()),
            Db::Postgres => common::postgres::fresh_database_url().await,
        };
        Self { url, dir }
    }

    async fn open(&self) -> Store {
        if self.url.starts_with("sqlite:") {
            Store::open_sqlite(self.dir.path()).await.unwrap()
        } else {
            Store::open_postgres(&self.url).await.unwrap()
        }
    }

    /// A plain connection beside the store's, standing in for another server process.
    async fn raw(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&self.url).await.unwrap()
    }
}

struct World {
    app: Router,
    store: Store,
    clock: Clock,
    secret: Arc<ServerSecret>,
    hpki_ca: pki::Ca,
    db: Database,
    _trust_dir: tempfile::TempDir,
}

fn jma_config(policy: CaPolicy) -> Config {
    let mut config = Config { public_origin: ORIGIN.into(), ..Config::default() };
    config.ca_policy.insert("JMA".into(), policy);
    config
}

fn jma_path() -> CaPolicy {
    CaPolicy { jma_path: true, ..CaPolicy::default() }
}

async fn world(db: Db, policy: CaPolicy) -> World {
    let db = Database::fresh(db).await;
    let store = db.open().await;
    let secret =
        Arc::new(ServerSecret::load_or_create(&db.dir.path().join("server-secret")).unwrap());
    store.adopt_secret(&secret).await.unwrap();
    let w = world_on(db, store, secret, jma_config(policy)).await;
    let cert = w.hpki_cert();
    let (_, c) = X509Certificate::from_der(&cert).unwrap();
    w.store
        .identity_upsert(&store_mod::IdentityRecord {
            holder: holder(),
            registration_number: NUMBER.into(),
            hpki_card_mac: w.secret.card_id_mac(NUMBER, CARD_ID).to_vec(),
            cert_issuer: c.issuer().as_raw().to_vec(),
            cert_subject: c.subject().as_raw().to_vec(),
        })
        .await
        .unwrap();
    common::record_certificate(&w.store, HOLDER, &cert).await;
    w
}

fn holder() -> Holder {
    Holder {
        hpki_id: HpkiId::parse(HOLDER).unwrap(),
        ca: Ca::Jma,
        qualification: Qualification::Doctor,
        name_kanji: "医師 花子".into(),
        name_kana: "イシ ハナコ".into(),
        name_roman: "ISHI HANAKO".into(),
    }
}

/// The real router over `store`, with a clock the test moves.
async fn world_on(db: Database, store: Store, secret: Arc<ServerSecret>, config: Config) -> World {
    let keys = pki::keys();
    let trust_dir = tempfile::tempdir().unwrap();
    let hpki_ca = pki::ca("HPKI test CA", &keys.hpki_ca);
    let trust: TrustConfig =
        pki::trust_config(trust_dir.path(), "hpki", &hpki_ca, &keys.hpki_ca, HPKI_POLICY_STR, 2099);
    let mut state = AppState::new(
        config,
        store.clone(),
        TrustStore::load(std::slice::from_ref(&trust)).unwrap(),
        TrustStore::load(&[]).unwrap(),
    );
    let clock = Clock::manual();
    state.clock = clock.clone();
    // The per-client limiter is another wall; these tests are about the one per number.
    state.limiter = RateLimiter::new(10_000, 10_000);
    state.secret = Some(secret.clone());
    World { app: router(state, None), store, clock, secret, hpki_ca, db, _trust_dir: trust_dir }
}

impl World {
    fn hpki_cert(&self) -> Vec<u8> {
        pki::holder_cert(&self.hpki_ca)
    }

    /// A PC logged in with the holder's HPKI card.
    async fn card_pc(&self) -> Browser {
        let mut b = Browser::new(&self.app);
        let a = b.hpki_login(&self.hpki_cert(), &pki::keys().holder, ORIGIN).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        b
    }

    /// A PC that passed the JMA path with the right numbers.
    async fn jma_pc(&self) -> Browser {
        let mut b = Browser::new(&self.app);
        let a = jma_login(&mut b, NUMBER, CARD_ID).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        b
    }

    /// Binds a phone through a PC, returning its credential id.
    async fn bind_phone(&self, pc: &mut Browser, replace: bool) -> Vec<u8> {
        let issued = issued(pc, replace).await;
        let mut phone = Phone { b: Browser::new(&self.app), key: SoftPasskey::new(true) };
        phone.enrol(pc, &issued.url).await;
        self.active_phone().await.expect("a phone is bound")
    }

    async fn active_phone(&self) -> Option<Vec<u8>> {
        self.store.phone_active(HOLDER).await.unwrap().map(|p| p.credential_id)
    }

    async fn actions(&self) -> Vec<(String, String)> {
        let log = self.store.audit_tail(1000).await.unwrap();
        log.into_iter().map(|r| (r.action, r.outcome)).collect()
    }
}

async fn jma_login(b: &mut Browser, registration_number: &str, card_id: &str) -> Answer {
    let body =
        serde_json::json!({ "registration_number": registration_number, "card_id": card_id });
    b.send("POST", "/api/jma/login", Some(body.to_string())).await
}

async fn issue(pc: &mut Browser, replace: bool) -> Answer {
    let body = serde_json::json!({ "replace": replace }).to_string();
    pc.send("POST", "/api/smartphone/enrolments", Some(body)).await
}

async fn issued(pc: &mut Browser, replace: bool) -> EnrolmentIssued {
    let a = issue(pc, replace).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    serde_json::from_value(a.body).unwrap()
}

fn refused(a: &Answer, code: ErrorCode) {
    assert_eq!(a.code(), Some(code), "{} {:?}", a.status, a.body);
    assert_eq!(a.status.as_u16(), code.http_status());
}

/// The wait a back-off answer states.
fn retry_after(a: &Answer) -> u64 {
    refused(a, ErrorCode::JmaLocked);
    let body: ErrorBody = serde_json::from_value(a.body.clone()).unwrap();
    body.error.retry_after_secs.expect("a back-off says how long")
}

/// A phone: its own cookie jar and a software passkey.
struct Phone {
    b: Browser,
    key: SoftPasskey,
}

impl Phone {
    async fn open(&mut self, url: &str) -> Answer {
        let (_, token) = url.split_once('#').expect("token in the fragment");
        let body = serde_json::json!({ "token": token }).to_string();
        self.b.send("POST", "/api/enrol/open", Some(body)).await
    }

    /// Opens, has the holder type the code it shows on `pc`, begins, and answers with a
    /// credential, ready to finish.
    async fn prepare(&mut self, pc: &mut Browser, url: &str) -> RegisterPublicKeyCredential {
        let a = self.open(url).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        let code = a.body["confirm"]["code"].as_str().expect("the phone shows a code").to_owned();
        let body = serde_json::json!({ "code": code }).to_string();
        let c = pc.send("POST", "/api/smartphone/confirm", Some(body)).await;
        assert_eq!(c.status, StatusCode::OK, "{:?}", c.body);
        let a = self.b.send("POST", "/api/enrol/begin", None).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        let mut o: RegistrationOptions = serde_json::from_value(a.body).unwrap();
        // The soft passkey cannot claim to be a platform authenticator with a resident key; it
        // does verify the user.
        common::world::soft_key_can(o.options.public_key.authenticator_selection.as_mut().unwrap());
        self.key.do_registration(url::Url::parse(ORIGIN).unwrap(), o.options).unwrap()
    }

    async fn finish(&mut self, credential: &RegisterPublicKeyCredential) -> Answer {
        let body = FinishEnrolment { credential: credential.clone(), label: "スマホ".into() };
        self.b.send("POST", "/api/enrol/finish", Some(serde_json::to_string(&body).unwrap())).await
    }

    async fn enrol(&mut self, pc: &mut Browser, url: &str) {
        let credential = self.prepare(pc, url).await;
        let a = self.finish(&credential).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    }
}

// ---- 1. A JMA-path grant enrols a first phone only ----

/// The observed attack: JMA login, then `replace: true`, to take over the holder's phone.
async fn the_jma_path_cannot_replace_the_holders_phone(db: Db) {
    let w = world(db, jma_path()).await;
    let mut holder_pc = w.card_pc().await;
    let phone = w.bind_phone(&mut holder_pc, false).await;
    let before = w.store.phone_list(HOLDER).await.unwrap();
    let latest = w.store.enrolment_latest(HOLDER).await.unwrap();

    let mut attacker = w.jma_pc().await;
    for replace in [true, false] {
        refused(&issue(&mut attacker, replace).await, ErrorCode::JmaFirstPhoneOnly);
    }
    // Nothing changed: the same phone, still working, and no code was issued.
    assert_eq!(w.active_phone().await, Some(phone));
    assert_eq!(w.store.phone_list(HOLDER).await.unwrap(), before);
    assert_eq!(w.store.enrolment_latest(HOLDER).await.unwrap(), latest);
    let refusals = w.actions().await.into_iter().filter(|(action, outcome)| {
        action == "phone.enrolment.issue" && outcome == "jma_first_phone_only"
    });
    assert_eq!(refusals.count(), 2);
}

/// A phone bound while a JMA-path code is open (by another process, say) stops that code at
/// commit: a typed refusal, never a 500, and the bound phone stays.
async fn a_phone_bound_meanwhile_stops_the_jma_code_at_commit(db: Db) {
    let w = world(db, jma_path()).await;
    let mut pc = w.jma_pc().await;
    let issued = issued(&mut pc, true).await;
    let mut phone = Phone { b: Browser::new(&w.app), key: SoftPasskey::new(true) };
    let credential = phone.prepare(&mut pc, &issued.url).await;
    let raw = w.db.raw().await;
    sqlx::query(
        "INSERT INTO phone_credentials (hpki_id, credential_id, passkey, label, created_ms) \
         VALUES ($1, $2, '{}', 'bound meanwhile', $3)",
    )
    .bind(HOLDER)
    .bind(b"meanwhile".as_slice())
    .bind(w.clock.now_ms())
    .execute(&raw)
    .await
    .unwrap();
    raw.close().await;
    refused(&phone.finish(&credential).await, ErrorCode::JmaFirstPhoneOnly);
    assert_eq!(w.active_phone().await, Some(b"meanwhile".to_vec()));
    assert_eq!(w.store.phone_list(HOLDER).await.unwrap().len(), 1);
}

async fn the_first_phone_still_enrols_through_the_jma_path(db: Db) {
    let w = world(db, jma_path()).await;
    let mut pc = w.jma_pc().await;
    // Asking to replace when nothing is bound is harmless: it binds the first phone.
    w.bind_phone(&mut pc, true).await;
    assert_eq!(w.store.phone_list(HOLDER).await.unwrap().len(), 1);
}

async fn a_ca_may_let_the_jma_path_replace(db: Db) {
    let w = world(db, CaPolicy { jma_path: true, jma_replace: true, ..CaPolicy::default() }).await;
    let mut holder_pc = w.card_pc().await;
    let old = w.bind_phone(&mut holder_pc, false).await;
    let mut pc = w.jma_pc().await;
    refused(&issue(&mut pc, false).await, ErrorCode::PhoneAlreadyBound);
    let new = w.bind_phone(&mut pc, true).await;
    assert_ne!(new, old);
    let phones = w.store.phone_list(HOLDER).await.unwrap();
    assert_eq!(phones[0].revoked_reason.as_deref(), Some("replaced"));
}

// ---- 3. Attempts counted before compared, backing off, alike for every number ----

async fn parallel_guesses_are_counted_exactly_and_then_back_off(db: Db) {
    let w = world(db, jma_path()).await;
    let guesses = (0..20).map(|i| {
        let app = w.app.clone();
        tokio::spawn(async move {
            let mut b = Browser::new(&app);
            jma_login(&mut b, NUMBER, &format!("WRONG{i:03}")).await
        })
    });
    let mut answers = Vec::new();
    for g in guesses.collect::<Vec<_>>() {
        answers.push(g.await.unwrap());
    }
    let failed = answers.iter().filter(|a| a.code() == Some(ErrorCode::JmaLoginFailed)).count();
    let backing_off = answers.iter().filter(|a| a.code() == Some(ErrorCode::JmaLocked)).count();
    let seen: Vec<_> = answers.iter().map(|a| (a.status, a.body.clone())).collect();
    assert_eq!((failed, backing_off), (5, 15), "{seen:?}");
    for a in answers.iter().filter(|a| a.code() == Some(ErrorCode::JmaLocked)) {
        assert_eq!(retry_after(a), 15 * 60);
    }
    // Every attempt is in the audit log.
    let audited = w.actions().await.into_iter().filter(|(a, _)| a == "jma.auth").count();
    assert_eq!(audited, 20);

    // The right numbers during the back-off are refused too, and grant nothing.
    let mut pc = Browser::new(&w.app);
    w.clock.advance_ms(JMA_FIRST_BACKOFF_MS - 60_000);
    assert_eq!(retry_after(&jma_login(&mut pc, NUMBER, CARD_ID).await), 60);
    refused(&issue(&mut pc, false).await, ErrorCode::Unauthenticated);

    // Once it has passed, they work; a success starts the count afresh.
    w.clock.advance_ms(60_000);
    assert_eq!(jma_login(&mut pc, NUMBER, CARD_ID).await.status, StatusCode::OK);
    issued(&mut pc, false).await;

    // The next batch of failures: 15 minutes again (the success reset the doubling), then 30.
    let mut b = Browser::new(&w.app);
    for _ in 0..5 {
        refused(&jma_login(&mut b, NUMBER, "WRONG").await, ErrorCode::JmaLoginFailed);
    }
    assert_eq!(retry_after(&jma_login(&mut b, NUMBER, CARD_ID).await), 15 * 60);
    w.clock.advance_ms(JMA_FIRST_BACKOFF_MS);
    for _ in 0..5 {
        refused(&jma_login(&mut b, NUMBER, "WRONG").await, ErrorCode::JmaLoginFailed);
    }
    assert_eq!(retry_after(&jma_login(&mut b, NUMBER, CARD_ID).await), 30 * 60);
    w.clock.advance_ms(JMA_FIRST_BACKOFF_MS);
    assert_eq!(retry_after(&jma_login(&mut b, NUMBER, CARD_ID).await), 15 * 60);
    w.clock.advance_ms(JMA_FIRST_BACKOFF_MS);
    assert_eq!(jma_login(&mut b, NUMBER, CARD_ID).await.status, StatusCode::OK);
}

/// Probing reveals nothing: a number nobody holds answers exactly as a real one, wrong or
/// backing off.
async fn unknown_and_known_numbers_answer_alike(db: Db) {
    let w = world(db, jma_path()).await;
    let (mut known, mut unknown) = (Browser::new(&w.app), Browser::new(&w.app));
    for _ in 0..6 {
        let k = jma_login(&mut known, NUMBER, "WRONG").await;
        let u = jma_login(&mut unknown, "999999", "WRONG").await;
        assert_eq!((k.status, &k.body), (u.status, &u.body));
    }
    assert_eq!(retry_after(&jma_login(&mut unknown, "999999", CARD_ID).await), 15 * 60);
}

/// Each wrong entry says how many remain before the pause; the fifth says how long it lasts.
async fn wrong_numbers_say_the_tries_left_and_the_pause(db: Db) {
    let w = world(db, jma_path()).await;
    let mut pc = Browser::new(&w.app);
    for left in (0..5).rev() {
        let a = jma_login(&mut pc, NUMBER, "WRONG").await;
        refused(&a, ErrorCode::JmaLoginFailed);
        let body: ErrorBody = serde_json::from_value(a.body.clone()).unwrap();
        assert_eq!(body.error.tries_left, Some(left), "{:?}", a.body);
        let pause = (left == 0).then_some(15 * 60);
        assert_eq!(body.error.retry_after_secs, pause, "{:?}", a.body);
    }
    assert_eq!(retry_after(&jma_login(&mut pc, NUMBER, CARD_ID).await), 15 * 60);
}

async fn the_operator_lifts_a_back_off(db: Db) {
    let w = world(db, jma_path()).await;
    let mut pc = Browser::new(&w.app);
    for _ in 0..5 {
        refused(&jma_login(&mut pc, NUMBER, "WRONG").await, ErrorCode::JmaLoginFailed);
    }
    refused(&jma_login(&mut pc, NUMBER, CARD_ID).await, ErrorCode::JmaLocked);
    let key = w.secret.registration_key(NUMBER);
    assert!(w.store.jma_unlock(&key, HOLDER, w.clock.now_ms()).await.unwrap());
    assert!(!w.store.jma_unlock(&key, HOLDER, w.clock.now_ms()).await.unwrap(), "nothing left");
    assert_eq!(jma_login(&mut pc, NUMBER, CARD_ID).await.status, StatusCode::OK);
    assert!(w.actions().await.contains(&("jma.unlock".into(), "ok".into())));
}

/// What the retention job deletes of the JMA attempt counts now.
async fn purged_counts(w: &World) -> u64 {
    let r = store_mod::Retention {
        now_ms: w.clock.now_ms(),
        session_idle_ms: i64::MAX / 4,
        session_max_ms: i64::MAX / 4,
        ended_code_ms: i64::MAX / 4,
    };
    w.store.purge(&r).await.unwrap().jma_attempts
}

/// Counts of made-up numbers do not pile up: a quiet day forgets them, never a live back-off.
async fn idle_counts_are_forgotten_but_not_a_back_off(db: Db) {
    let w = world(db, jma_path()).await;
    let mut b = Browser::new(&w.app);
    for _ in 0..5 {
        refused(&jma_login(&mut b, "999999", "WRONG").await, ErrorCode::JmaLoginFailed);
    }
    assert_eq!(purged_counts(&w).await, 0);
    w.clock.advance_ms(JMA_MAX_BACKOFF_MS + 1);
    assert_eq!(purged_counts(&w).await, 1);
    for _ in 0..5 {
        refused(&jma_login(&mut b, "999999", "WRONG").await, ErrorCode::JmaLoginFailed);
    }
    assert_eq!(retry_after(&jma_login(&mut b, "999999", "WRONG").await), 15 * 60);
}

// ---- 4. Session fixation ----

async fn a_jma_login_rotates_the_session_id(db: Db) {
    let w = world(db, jma_path()).await;
    let mut pc = Browser::new(&w.app);
    // An anonymous session, as a planted cookie would be.
    pc.send("POST", "/api/hpki/challenge", None).await;
    let planted = pc.cookie.clone().expect("an anonymous session");
    assert_eq!(jma_login(&mut pc, NUMBER, CARD_ID).await.status, StatusCode::OK);
    assert_ne!(pc.cookie.as_ref(), Some(&planted));
    // The new id carries the grant; the planted one carries nothing.
    assert_eq!(pc.send("GET", "/api/smartphone/holder", None).await.status, StatusCode::OK);
    let mut fixated = Browser { app: w.app.clone(), cookie: Some(planted), signin: None };
    refused(&fixated.send("GET", "/api/smartphone/holder", None).await, ErrorCode::SessionExpired);
    refused(&issue(&mut fixated, false).await, ErrorCode::SessionExpired);
}

// ---- 2. The カードID as an HMAC; rows from before hashed at start ----

/// A database written by the server before the HMAC (migrations 0001–0004, カードID in plain
/// text) is hashed at start: the JMA login still works, and the plain value is gone.
async fn plain_card_ids_from_before_are_hashed_at_start(db: Db) {
    let db = Database::fresh(db).await;
    let plain = "JMAPLAIN0000777";
    // The old server: its migrations only, and its plain row.
    let old_migrations = tempfile::tempdir().unwrap();
    let kind = if db.url.starts_with("sqlite:") { "sqlite" } else { "postgres" };
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(kind);
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.as_str() < "0005" {
            std::fs::copy(&path, old_migrations.path().join(name)).unwrap();
        }
    }
    let raw = db.raw().await;
    sqlx::migrate::Migrator::new(old_migrations.path()).await.unwrap().run(&raw).await.unwrap();
    let keys = pki::keys();
    let trust_probe = pki::ca("HPKI test CA", &keys.hpki_ca);
    let cert = pki::issue(
        &pki::ee_params("HPKI holder 1", 1001, HPKI_POLICY),
        &keys.holder,
        &trust_probe.params,
        &keys.hpki_ca,
    );
    let (_, c) = X509Certificate::from_der(&cert).unwrap();
    sqlx::query(
        "INSERT INTO identities (hpki_id, ca, qualification, name_kanji, name_kana, name_roman, \
         registration_number, hpki_card_id, cert_issuer, cert_subject, created_ms) \
         VALUES ($1, 'JMA', 'doctor', '医師 花子', 'イシ ハナコ', 'ISHI HANAKO', $2, $3, $4, $5, 0)",
    )
    .bind(HOLDER)
    .bind(NUMBER)
    .bind(plain)
    .bind(c.issuer().as_raw())
    .bind(c.subject().as_raw())
    .execute(&raw)
    .await
    .unwrap();
    raw.close().await;

    // The new server starts: SQL migrations, then the secret and the Rust step.
    let store = db.open().await;
    let secret =
        Arc::new(ServerSecret::load_or_create(&db.dir.path().join("server-secret")).unwrap());
    assert_eq!(store.adopt_secret(&secret).await.unwrap(), 1);
    assert_eq!(store.adopt_secret(&secret).await.unwrap(), 0, "idempotent");
    // Another process with another secret is refused, and changes nothing.
    let stranger = ServerSecret::random();
    assert!(matches!(store.adopt_secret(&stranger).await, Err(StoreError::SecretMismatch)));
    let record = store.identity_get(HOLDER).await.unwrap().unwrap();
    assert_eq!(record.hpki_card_mac, secret.card_id_mac(NUMBER, plain));

    if kind == "sqlite" {
        for suffix in ["", "-wal", "-shm"] {
            let file = db.dir.path().join(format!("{SQLITE_FILE}{suffix}"));
            let bytes = std::fs::read(&file).unwrap_or_default();
            assert!(
                !bytes.windows(plain.len()).any(|w| w == plain.as_bytes()),
                "{} still holds the plain カードID",
                file.display()
            );
        }
    } else {
        let raw = db.raw().await;
        let left: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM identities WHERE hpki_card_id <> '' OR hpki_card_id = $1",
        )
        .bind(plain)
        .fetch_one(&raw)
        .await
        .unwrap();
        assert_eq!(left, 0);
        raw.close().await;
    }

    common::record_certificate(&store, HOLDER, &cert).await;
    let w = world_on(db, store, secret, jma_config(jma_path())).await;
    let mut pc = Browser::new(&w.app);
    refused(&jma_login(&mut pc, NUMBER, "JMAPLAIN0000778").await, ErrorCode::JmaLoginFailed);
    let a = jma_login(&mut pc, NUMBER, plain).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(serde_json::from_value::<Holder>(a.body).unwrap(), holder());
}

on_both_databases!(
    the_jma_path_cannot_replace_the_holders_phone,
    a_phone_bound_meanwhile_stops_the_jma_code_at_commit,
    the_first_phone_still_enrols_through_the_jma_path,
    a_ca_may_let_the_jma_path_replace,
    parallel_guesses_are_counted_exactly_and_then_back_off,
    unknown_and_known_numbers_answer_alike,
    the_operator_lifts_a_back_off,
    wrong_numbers_say_the_tries_left_and_the_pause,
    idle_counts_are_forgotten_but_not_a_back_off,
    a_jma_login_rotates_the_session_id,
    plain_card_ids_from_before_are_hashed_at_start,
);
