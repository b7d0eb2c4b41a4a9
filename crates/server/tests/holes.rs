//! Issue 11's smaller holes, each tried as an attacker (or a careless operator) would, through the
//! real router or the real binary, on SQLite and PostgreSQL where storage is involved:
//! `change/begin` as a 本人ID oracle, unbounded SSE streams, rows never purged, one rate bucket
//! for every client without the proxy header, no HSTS, and no CLI for a lost phone or a CA link.

mod common;

use std::{
    path::Path,
    process::{Command, Output},
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use common::{
    Db,
    browser::{Answer, Browser},
    pki::{self, HPKI_POLICY_STR},
};
use http_body_util::BodyExt as _;
use mahpki_protocol::{
    ErrorCode, HpkiId,
    api::{Ca, Holder, Qualification},
    enrol::{
        AssertionOptions, ChangeIssued, EnrolmentIssued, FinishEnrolment, PhoneBound,
        RegisterPublicKeyCredential, RegistrationOptions,
    },
};
use mahpki_server::{
    Config,
    config::{CaPolicy, RetentionConfig, StreamLimits},
    events::Events,
    http::{AppState, Clock, RateLimiter, router},
    pki::{TrustConfig, TrustStore},
    service::links::issue_link,
    store::{
        CodeState, EnrolmentKind, GrantVia, IdentityRecord, NewEnrolment, NewPhone, PcPurpose,
        ProofBegin, Retention, Store,
    },
};

const CHANGE: PcPurpose = PcPurpose::Change;
use webauthn_authenticator_rs::{WebauthnAuthenticator as _, softpasskey::SoftPasskey};
use x509_parser::prelude::*;

const ORIGIN: &str = "https://hpki.example.jp";
const HOLDER: &str = "JMA-0000001";
/// Registered, no phone.
const PHONELESS: &str = "JMA-0000002";
/// Well formed, never registered.
const NOBODY: &str = "JMA-0000999";

struct World {
    app: Router,
    store: Store,
    clock: Clock,
    hpki_ca: pki::Ca,
    trust: TrustConfig,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

fn config() -> Config {
    Config { public_origin: ORIGIN.into(), ..Config::default() }
}

/// A store on a fresh database, and its PostgreSQL URL (for the CLI) if it is one.
async fn database(db: Db) -> (Store, Option<String>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    match db {
        Db::Sqlite => (Store::open_sqlite(dir.path()).await.unwrap(), None, dir),
        Db::Postgres => {
            let url = common::postgres::fresh_database_url().await;
            (Store::open_postgres(&url).await.unwrap(), Some(url), dir)
        }
    }
}

fn holder(hpki_id: &str) -> Holder {
    Holder {
        hpki_id: HpkiId::parse(hpki_id).unwrap(),
        ca: Ca::Jma,
        qualification: Qualification::Doctor,
        name_kanji: "医師 花子".into(),
        name_kana: "イシ ハナコ".into(),
        name_roman: "ISHI HANAKO".into(),
    }
}

/// A holder whose certificate names are made up (these holders never log in with a card).
async fn register(store: &Store, hpki_id: &str) {
    store
        .identity_upsert(&IdentityRecord {
            holder: holder(hpki_id),
            registration_number: format!("R{hpki_id}"),
            hpki_card_mac: format!("C{hpki_id}").into_bytes(),
            cert_issuer: b"issuer".to_vec(),
            cert_subject: hpki_id.as_bytes().to_vec(),
        })
        .await
        .unwrap();
}

async fn world(db: Db, config: Config) -> World {
    let (store, _, data) = database(db).await;
    world_on(store, Events::local(), data, config).await
}

async fn world_on(store: Store, events: Events, data: tempfile::TempDir, config: Config) -> World {
    let keys = pki::keys();
    let trust_dir = tempfile::tempdir().unwrap();
    let hpki_ca = pki::ca("HPKI test CA", &keys.hpki_ca);
    let trust =
        pki::trust_config(trust_dir.path(), "hpki", &hpki_ca, &keys.hpki_ca, HPKI_POLICY_STR, 2099);
    let (app, clock) = node(store.clone(), events, &trust, config);
    let w = World { app, store, clock, hpki_ca, trust, _dirs: (data, trust_dir) };
    let cert = w.hpki_cert();
    let (_, c) = X509Certificate::from_der(&cert).unwrap();
    w.store
        .identity_upsert(&IdentityRecord {
            holder: holder(HOLDER),
            registration_number: "123456".into(),
            hpki_card_mac: b"HPKI0001".to_vec(),
            cert_issuer: c.issuer().as_raw().to_vec(),
            cert_subject: c.subject().as_raw().to_vec(),
        })
        .await
        .unwrap();
    common::record_certificate(&w.store, HOLDER, &cert).await;
    register(&w.store, PHONELESS).await;
    w
}

fn node(store: Store, events: Events, hpki: &TrustConfig, config: Config) -> (Router, Clock) {
    let mut state = AppState::new(
        config,
        store,
        TrustStore::load(std::slice::from_ref(hpki)).unwrap(),
        TrustStore::load(&[]).unwrap(),
    );
    let clock = Clock::manual();
    state.clock = clock.clone();
    state.limiter = RateLimiter::new(1000, 1000);
    state.events = events;
    // Every node on one database shares the server secret (the stand-in ids are keyed by it).
    state.secret = Some(common::world::SECRET.clone());
    (router(state, None), clock)
}

impl World {
    fn hpki_cert(&self) -> Vec<u8> {
        pki::holder_cert(&self.hpki_ca)
    }

    async fn pc(&self) -> Browser {
        let mut b = Browser::new(&self.app);
        let a = b.hpki_login(&self.hpki_cert(), &pki::keys().holder, ORIGIN).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        b
    }

    fn phone(&self) -> Phone {
        Phone { b: Browser::new(&self.app), key: SoftPasskey::new(true) }
    }

    async fn audit(&self) -> Vec<(Option<String>, String, String)> {
        let log = self.store.audit_tail(1000).await.unwrap();
        log.into_iter().map(|r| (r.hpki_id, r.action, r.outcome)).collect()
    }
}

fn refused(a: &Answer, code: ErrorCode) {
    assert_eq!(a.code(), Some(code), "{} {:?}", a.status, a.body);
    assert_eq!(a.status.as_u16(), code.http_status());
}

struct Phone {
    b: Browser,
    key: SoftPasskey,
}

impl Phone {
    /// The whole phone side of 別紙2 (see tests/enrol.rs), with the code it shows typed on `pc`.
    async fn enrol(&mut self, pc: &mut Browser, url: &str) -> PhoneBound {
        let token = url.split_once('#').unwrap().1;
        let body = serde_json::json!({ "token": token }).to_string();
        let a = self.b.send("POST", "/api/enrol/open", Some(body)).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        let code = a.body["confirm"]["code"].as_str().expect("the phone shows a code").to_owned();
        let body = serde_json::json!({ "code": code }).to_string();
        let c = pc.send("POST", "/api/smartphone/confirm", Some(body)).await;
        assert_eq!(c.status, StatusCode::OK, "{:?}", c.body);
        let a = self.b.send("POST", "/api/enrol/begin", None).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        let mut o: RegistrationOptions = serde_json::from_value(a.body).unwrap();
        // The soft passkey cannot claim to be a platform authenticator with a resident key
        // (see tests/enrol.rs).
        common::world::soft_key_can(o.options.public_key.authenticator_selection.as_mut().unwrap());
        let credential: RegisterPublicKeyCredential =
            self.key.do_registration(url::Url::parse(ORIGIN).unwrap(), o.options).unwrap();
        let body = FinishEnrolment { credential, label: "私のスマートフォン".into() };
        let a = self
            .b
            .send("POST", "/api/enrol/finish", Some(serde_json::to_string(&body).unwrap()))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        serde_json::from_value(a.body).unwrap()
    }

    /// Opens a スマートフォン変更 first code.
    async fn open_change(&mut self, url: &str) {
        let token = url.split_once('#').unwrap().1;
        let body = serde_json::json!({ "token": token }).to_string();
        let a = self.b.send("POST", "/api/change/open", Some(body)).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    }

    async fn begin_change(&mut self, hpki_id: &str) -> Answer {
        let body = serde_json::json!({ "hpki_id": hpki_id }).to_string();
        self.b.send("POST", "/api/change/begin", Some(body)).await
    }
}

async fn change_code(pc: &mut Browser) -> ChangeIssued {
    let a = pc.send("POST", "/api/smartphone/change", None).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    serde_json::from_value(a.body).unwrap()
}

async fn enrolment(pc: &mut Browser, replace: bool) -> EnrolmentIssued {
    let body = serde_json::json!({ "replace": replace }).to_string();
    let a = pc.send("POST", "/api/smartphone/enrolments", Some(body)).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    serde_json::from_value(a.body).unwrap()
}

/// The JSON shape of a value: its object keys, recursively, with every leaf replaced by its
/// kind (and arrays by their first element's shape and their length). String lengths are left
/// out: a real credential id's length is the phone maker's (the residual `change::begin` names).
fn shape(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value::*;
    match v {
        Object(m) => Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Array(a) => serde_json::json!({ "len": a.len(), "of": a.first().map(shape) }),
        String(_) => serde_json::json!("string"),
        Number(_) => serde_json::json!("number"),
        Bool(_) => serde_json::json!("bool"),
        Null => Null,
    }
}

// ---- 1. change/begin is no 本人ID oracle ----

async fn change_begin_answers_alike_whoever_is_named(db: Db) {
    let w = world(db, config()).await;
    let mut old = w.phone();
    let mut pc = w.pc().await;
    let url = enrolment(&mut pc, false).await.url.clone();
    let bound = old.enrol(&mut pc, &url).await;
    let real_id = URL_SAFE_NO_PAD.decode(&bound.phone.credential_id).unwrap();

    // An attacker's PC and phone: a first code each time, then a begin naming someone.
    let mut answers = Vec::new();
    for named in [HOLDER, PHONELESS, NOBODY, NOBODY] {
        let mut pc = Browser::new(&w.app);
        let mut probe = w.phone();
        probe.open_change(&change_code(&mut pc).await.url).await;
        let a = probe.begin_change(named).await;
        assert_eq!(a.status, StatusCode::OK, "{named}: {:?}", a.body);
        answers.push(a.body);
    }
    let allowed = |v: &serde_json::Value| -> Vec<u8> {
        let o: AssertionOptions = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(o.options.public_key.allow_credentials.len(), 1);
        o.options.public_key.allow_credentials[0].id.clone()
    };
    // Same status, same shape (challenge aside, which is random for everyone).
    let mut shapes: Vec<_> = answers.iter().map(shape).collect();
    shapes.dedup();
    assert_eq!(shapes.len(), 1, "{shapes:#?}");
    // The holder's own phone is named (it must be: it is not discoverable); the others get a
    // stand-in that stays the same for the same 本人ID, as a real one would.
    assert_eq!(allowed(&answers[0]), real_id);
    let (phoneless, nobody) = (allowed(&answers[1]), allowed(&answers[2]));
    assert_eq!(nobody, allowed(&answers[3]), "a stand-in must be stable");
    assert_ne!(phoneless, nobody);
    assert_ne!(phoneless, real_id);

    // Every begin is in the trail, under the 本人ID it named.
    let audit = w.audit().await;
    for named in [HOLDER, PHONELESS, NOBODY] {
        let begun = (Some(named.to_owned()), "phone.change.begin".into(), "ok".into());
        assert!(audit.contains(&begun), "{named}: {audit:?}");
    }
    // The holder's phone is untouched.
    assert_eq!(w.store.phone_active(HOLDER).await.unwrap().unwrap().credential_id, real_id);
}

async fn a_change_code_looks_up_one_hpki_id(db: Db) {
    let w = world(db, config()).await;
    let mut old = w.phone();
    let mut pc = w.pc().await;
    let url = enrolment(&mut pc, false).await.url.clone();
    old.enrol(&mut pc, &url).await;
    let mut pc = Browser::new(&w.app);
    let change = change_code(&mut pc).await;
    let mut probe = w.phone();
    probe.open_change(&change.url).await;
    assert_eq!(probe.begin_change(NOBODY).await.status, StatusCode::OK);
    // The same 本人ID again is a retry (a cancelled prompt), and is answered alike.
    assert_eq!(probe.begin_change(NOBODY).await.status, StatusCode::OK);
    // Any other is refused: one code, one 本人ID looked up.
    for other in [HOLDER, PHONELESS, "JMA-0000998"] {
        refused(&probe.begin_change(other).await, ErrorCode::ChangeCodeClaimed);
    }
    let audit = w.audit().await;
    let claimed =
        (Some(HOLDER.to_owned()), "phone.change.begin".into(), "change_code_claimed".into());
    assert!(audit.contains(&claimed), "{audit:?}");

    // The holder themselves is not hurt by it: their own code proves as before.
    let mut pc = Browser::new(&w.app);
    let change = change_code(&mut pc).await;
    old.open_change(&change.url).await;
    let a = old.begin_change(HOLDER).await;
    assert_eq!(a.status, StatusCode::OK);
    let o: AssertionOptions = serde_json::from_value(a.body).unwrap();
    let credential =
        old.key.do_authentication(url::Url::parse(ORIGIN).unwrap(), o.options).unwrap();
    let body = serde_json::json!({ "credential": credential }).to_string();
    let a = old.b.send("POST", "/api/change/finish", Some(body)).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
}

// ---- 2. SSE streams are capped and end with their session ----

const CHANGE_EVENTS: &str = "/api/smartphone/change/current/events";
const ENROL_EVENTS: &str = "/api/smartphone/enrolments/current/events";

/// An open SSE answer, or the refusal.
async fn stream(app: &Router, cookie: Option<&str>, path: &str) -> Result<Body, Answer> {
    let mut req = Request::get(path);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let res =
        tower::ServiceExt::oneshot(app.clone(), req.body(Body::empty()).unwrap()).await.unwrap();
    let status = res.status();
    if status != StatusCode::OK {
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        return Err(Answer { status, body: serde_json::from_slice(&bytes).unwrap() });
    }
    Ok(res.into_body())
}

async fn open(app: &Router, cookie: Option<&str>, path: &str) -> Body {
    match stream(app, cookie, path).await {
        Ok(body) => body,
        Err(a) => panic!("stream refused: {} {:?}", a.status, a.body),
    }
}

/// The next event's name, or `None` once the server ended the stream.
async fn next_event(body: &mut Body) -> Option<String> {
    let mut buf = String::new();
    loop {
        if let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            if let Some(name) = block.lines().find_map(|l| l.strip_prefix("event:")) {
                return Some(name.trim().to_owned());
            }
            continue; // keep-alive comment
        }
        let frame = tokio::time::timeout(Duration::from_secs(10), body.frame())
            .await
            .expect("no event within 10 s")?
            .unwrap();
        if let Ok(data) = frame.into_data() {
            buf.push_str(std::str::from_utf8(&data).unwrap());
        }
    }
}

fn capped(per_session: u32, per_server: u32) -> Config {
    Config { streams: StreamLimits { per_session, per_server }, ..config() }
}

async fn streams_are_capped_per_session_and_per_server(db: Db) {
    let w = world(db, capped(2, 3)).await;
    // The observed attack: one anonymous session (a first code costs nothing) opening streams.
    let mut a = Browser::new(&w.app);
    change_code(&mut a).await;
    let ca = a.cookie.clone();
    let first = open(&w.app, ca.as_deref(), CHANGE_EVENTS).await;
    let _second = open(&w.app, ca.as_deref(), CHANGE_EVENTS).await;
    refused(
        &stream(&w.app, ca.as_deref(), CHANGE_EVENTS).await.unwrap_err(),
        ErrorCode::TooManyStreams,
    );
    // A stream the client closed frees its place.
    drop(first);
    let _third = open(&w.app, ca.as_deref(), CHANGE_EVENTS).await;
    refused(
        &stream(&w.app, ca.as_deref(), CHANGE_EVENTS).await.unwrap_err(),
        ErrorCode::TooManyStreams,
    );

    // Many sessions: the server's cap holds too (3 here), whoever asks.
    let mut b = Browser::new(&w.app);
    change_code(&mut b).await;
    let _b1 = open(&w.app, b.cookie.as_deref(), CHANGE_EVENTS).await;
    let mut c = Browser::new(&w.app);
    change_code(&mut c).await;
    refused(
        &stream(&w.app, c.cookie.as_deref(), CHANGE_EVENTS).await.unwrap_err(),
        ErrorCode::TooManyStreams,
    );
    // Without a session there is no stream at all (and no place taken).
    refused(&stream(&w.app, None, CHANGE_EVENTS).await.unwrap_err(), ErrorCode::Unauthenticated);
}

async fn streams_end_at_logout_and_when_the_session_ends(db: Db) {
    let w = world(db, config()).await;
    // Logout: the PC's stream ends at once, though its code is still live.
    let mut pc = w.pc().await;
    enrolment(&mut pc, false).await;
    let mut events = open(&w.app, pc.cookie.as_deref(), ENROL_EVENTS).await;
    assert_eq!(next_event(&mut events).await.as_deref(), Some("waiting"));
    assert_eq!(pc.send("POST", "/api/session/logout", None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(next_event(&mut events).await, None, "the stream outlived the logout");

    // A session that ends by itself (idle): its stream of a CA link, live for months, ends too.
    let mut pc = w.pc().await;
    let trusted = Config { hpki_trust: vec![w.trust.clone()], ..config() };
    issue_link(&w.store, &trusted, &HpkiId::parse(HOLDER).unwrap(), 90, false).await.unwrap();
    let mut events = open(&w.app, pc.cookie.as_deref(), ENROL_EVENTS).await;
    assert_eq!(next_event(&mut events).await.as_deref(), Some("waiting"));
    w.clock.advance_ms(mahpki_server::http::session::IDLE_MS + 1);
    assert_eq!(next_event(&mut events).await, None, "the stream outlived its session");
    assert!(!pc.is_authenticated().await);
    // The place it held is free again.
    let mut pc = w.pc().await;
    assert!(stream(&w.app, pc.cookie.as_deref(), ENROL_EVENTS).await.is_ok());
    assert!(pc.is_authenticated().await);
}

/// Several server processes on one PostgreSQL are one service: a logout on one ends the
/// session's streams on the others (the notice crosses them through LISTEN/NOTIFY).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_on_one_process_ends_the_streams_on_another() {
    let url = common::postgres::fresh_database_url().await;
    let store = Store::open_postgres(&url).await.unwrap();
    let events = Events::postgres(&url).await.unwrap();
    let w = world_on(store, events, tempfile::tempdir().unwrap(), config()).await;
    let other = node(
        Store::open_postgres(&url).await.unwrap(),
        Events::postgres(&url).await.unwrap(),
        &w.trust,
        config(),
    )
    .0;
    let mut pc = w.pc().await;
    enrolment(&mut pc, false).await;
    let mut events = open(&other, pc.cookie.as_deref(), ENROL_EVENTS).await;
    assert_eq!(next_event(&mut events).await.as_deref(), Some("waiting"));
    assert_eq!(pc.send("POST", "/api/session/logout", None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(next_event(&mut events).await, None, "the other process kept the stream open");
}

// ---- 3. retention ----

const DAY: i64 = 24 * 60 * 60 * 1000;
const T0: i64 = 1_700_000_000_000;

fn hash(s: &str) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(s.as_bytes()).to_vec()
}

fn new_enrolment(
    hpki_id: &str,
    token: &str,
    kind: EnrolmentKind,
    now: i64,
    ttl: i64,
) -> NewEnrolment {
    NewEnrolment {
        hpki_id: hpki_id.into(),
        token_hash: hash(token),
        pc_session_hash: (kind == EnrolmentKind::Pc).then(|| hash("pc")),
        kind,
        replace: true,
        first_phone_only: false,
        policy: CaPolicy::default(),
        now_ms: now,
        expires_ms: now + ttl,
    }
}

/// Binds a phone for `hpki_id` through the store alone (the passkey is only stored here), by a
/// CA's link, which has no PC to confirm on.
async fn bind_phone(store: &Store, hpki_id: &str, token: &str, now: i64) -> (i64, i64) {
    let e = store
        .enrolment_issue(&new_enrolment(hpki_id, token, EnrolmentKind::Link, now, 300_000), None)
        .await
        .unwrap()
        .enrolment;
    let phone = hash(&format!("phone {token}"));
    store.enrolment_open(&hash(token), &phone, now, now + 300_000).await.unwrap();
    let ceremony = common::registration();
    store.ceremony_put(e.id, &ceremony, now + 300_000).await.unwrap();
    let bound = store
        .enrolment_finish(
            &NewPhone {
                enrolment_id: e.id,
                phone_session_hash: phone,
                ceremony,
                credential_id: hash(token)[..16].to_vec(),
                passkey: "{}".into(),
                label: "phone".into(),
                policy: CaPolicy::default(),
                now_ms: now,
            },
            None,
        )
        .await
        .unwrap();
    (e.id, bound.phone.id)
}

/// The old phone's begin naming [`HOLDER`], with an assertion state.
fn begun(proof_id: i64, phone: &[u8], now_ms: i64, expires_ms: i64) -> ProofBegin<'_> {
    ProofBegin {
        proof_id,
        phone_session_hash: phone,
        hpki_id: HOLDER,
        assertion: Some(common::assertion()),
        expires_ms,
        now_ms,
    }
}

async fn retention_deletes_what_ended_and_keeps_what_lives(db: Db) {
    let (store, _, _dir) = database(db).await;
    for h in [HOLDER, PHONELESS, NOBODY] {
        register(&store, h).await;
    }
    let now = T0 + 41 * DAY;
    let minute = 60_000;

    // Codes: ended long ago (go), ended lately or still live (stay), and one that bound a phone
    // (stays: the phone names it).
    let old_cancelled = store
        .enrolment_issue(&new_enrolment(HOLDER, "e1", EnrolmentKind::Pc, T0, 300_000), None)
        .await
        .unwrap()
        .enrolment;
    store.enrolment_open(&hash("e1"), &hash("p1"), T0, T0 + 300_000).await.unwrap();
    store.ceremony_put(old_cancelled.id, &common::registration(), T0 + 300_000).await.unwrap();
    let (bound_enrolment, _) = bind_phone(&store, HOLDER, "e2", T0 + 1000).await;
    let old_never_written = store
        .enrolment_issue(&new_enrolment(PHONELESS, "e4", EnrolmentKind::Pc, T0, 300_000), None)
        .await
        .unwrap()
        .enrolment;
    store.enrolment_open(&hash("e4"), &hash("p4"), T0, T0 + 300_000).await.unwrap();
    store.ceremony_put(old_never_written.id, &common::registration(), T0 + 300_000).await.unwrap();
    let recent = store
        .enrolment_issue(
            &new_enrolment(HOLDER, "e3", EnrolmentKind::Pc, now - 10 * DAY, 300_000),
            None,
        )
        .await
        .unwrap()
        .enrolment;
    let live_link = store
        .enrolment_issue(
            &new_enrolment(NOBODY, "l1", EnrolmentKind::Link, now - DAY, 90 * DAY),
            None,
        )
        .await
        .unwrap()
        .enrolment;

    // スマートフォン変更 codes, with their assertion states.
    let old_proof =
        store.pc_code_issue(CHANGE, &hash("f1"), &hash("pc1"), T0, T0 + 300_000).await.unwrap().0;
    store.pc_code_open(CHANGE, &hash("f1"), &hash("q1"), T0).await.unwrap();
    store.proof_begin(&begun(old_proof.id, &hash("q1"), T0, T0 + 300_000), None).await.unwrap();
    let live_proof = store
        .pc_code_issue(CHANGE, &hash("f2"), &hash("pc2"), now - minute, now + 4 * minute)
        .await
        .unwrap()
        .0;
    store.pc_code_open(CHANGE, &hash("f2"), &hash("q2"), now - minute).await.unwrap();
    let q2 = hash("q2");
    let live_begin = begun(live_proof.id, &q2, now - minute, now + 4 * minute);
    store.proof_begin(&live_begin, None).await.unwrap();

    // Sessions: live, idle too long, too old however active.
    store.session_insert(&hash("s-live"), now - minute).await.unwrap();
    store.session_insert(&hash("s-idle"), now - 16 * minute).await.unwrap();
    store.session_insert(&hash("s-old"), now - 70 * minute).await.unwrap();
    // (kept busy: its idle clock restarted ten minutes ago)
    store
        .session_touch(&hash("s-old"), now - 10 * minute, 1000 * minute, 1000 * minute)
        .await
        .unwrap();
    // Challenges and grants.
    store.challenge_insert(b"expired challenge", &hash("s-live"), "hpki", now - 1).await.unwrap();
    store.challenge_insert(b"live challenge", &hash("s-live"), "hpki", now + minute).await.unwrap();
    store.grant_put(&hash("s-idle"), HOLDER, GrantVia::Jma, now - 1).await.unwrap();
    store.grant_put(&hash("s-live"), HOLDER, GrantVia::Phone, now + minute).await.unwrap();

    let audit_before = store.audit_tail(10_000).await.unwrap();
    let retention = Retention {
        now_ms: now,
        session_idle_ms: mahpki_server::http::session::IDLE_MS,
        session_max_ms: mahpki_server::http::session::MAX_MS,
        ended_code_ms: RetentionConfig::default().ended_code_ms(),
    };
    let purged = store.purge(&retention).await.unwrap();
    assert_eq!(
        (purged.enrolments, purged.proofs, purged.sessions, purged.challenges, purged.grants),
        (2, 1, 2, 1, 1),
        "{purged:?}"
    );
    // (the cancelled code's ceremony state went when it was cancelled)
    assert_eq!((purged.ceremonies, purged.assertions), (1, 1), "{purged:?}");

    // Gone.
    assert!(store.enrolment_get(old_cancelled.id).await.unwrap().is_none());
    assert!(store.enrolment_get(old_never_written.id).await.unwrap().is_none());
    assert!(store.ceremony_get(old_never_written.id, 0).await.unwrap().is_none());
    assert!(store.pc_code_get(CHANGE, old_proof.id).await.unwrap().is_none());
    assert!(store.assertion_get(old_proof.id, 0).await.unwrap().is_none());
    assert!(store.session_get(&hash("s-idle")).await.unwrap().is_none());
    assert!(store.session_get(&hash("s-old")).await.unwrap().is_none());
    assert!(store.challenge_take(b"expired challenge").await.unwrap().is_none());
    // Kept.
    assert_eq!(
        store.enrolment_get(bound_enrolment).await.unwrap().unwrap().state,
        CodeState::Consumed
    );
    assert!(store.phone_active(HOLDER).await.unwrap().is_some());
    assert!(store.enrolment_get(recent.id).await.unwrap().is_some());
    assert!(store.enrolment_get(live_link.id).await.unwrap().is_some());
    assert!(store.pc_code_get(CHANGE, live_proof.id).await.unwrap().is_some());
    assert!(store.assertion_get(live_proof.id, now).await.unwrap().is_some());
    assert!(store.session_get(&hash("s-live")).await.unwrap().is_some());
    assert!(store.challenge_take(b"live challenge").await.unwrap().is_some());
    assert!(store.grant_get(&hash("s-live"), now).await.unwrap().is_some());
    // The audit log is the lasting record: not one row lost.
    assert_eq!(store.audit_tail(10_000).await.unwrap(), audit_before);
    // Nothing left to do.
    assert_eq!(store.purge(&retention).await.unwrap().total(), 0);
}

// ---- 4. the proxy header ----

/// A card endpoint request as the proxy forwards it (`xff`: its header, if any).
async fn via_proxy(app: &Router, xff: Option<&str>) -> Answer {
    let mut req = Request::post("/api/hpki/challenge").header("sec-fetch-site", "same-origin");
    if let Some(v) = xff {
        req = req.header("x-forwarded-for", v);
    }
    let res =
        tower::ServiceExt::oneshot(app.clone(), req.body(Body::empty()).unwrap()).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Answer { status, body: serde_json::from_slice(&bytes).unwrap_or_default() }
}

async fn a_missing_proxy_header_is_refused_and_ipv6_counts_by_64(db: Db) {
    let (store, _, _dir) = database(db).await;
    let config = Config { client_ip_header: Some("x-forwarded-for".into()), ..config() };
    let mut state = AppState::new(
        config,
        store,
        TrustStore::load(&[]).unwrap(),
        TrustStore::load(&[]).unwrap(),
    );
    state.limiter = RateLimiter::new(2, 1);
    let app = router(state, None);

    // No header, an empty one, or garbage: refused (never counted against the proxy's address).
    for bad in [None, Some(""), Some("unknown"), Some("203.0.113.9, not-an-ip")] {
        refused(&via_proxy(&app, bad).await, ErrorCode::ClientAddressMissing);
    }
    // Two addresses of one IPv6 /64 are one client; the next /64 is another.
    assert_eq!(via_proxy(&app, Some("2001:db8:1:2::1")).await.status, StatusCode::OK);
    assert_eq!(via_proxy(&app, Some("2001:db8:1:2::bad:1")).await.status, StatusCode::OK);
    refused(&via_proxy(&app, Some("2001:db8:1:2:ffff::9")).await, ErrorCode::RateLimited);
    assert_eq!(via_proxy(&app, Some("2001:db8:1:3::1")).await.status, StatusCode::OK);
    // IPv4 clients keep their own buckets.
    assert_eq!(via_proxy(&app, Some("198.51.100.7")).await.status, StatusCode::OK);
}

// ---- 5. HSTS ----

#[tokio::test]
async fn hsts_is_sent_over_https_only() {
    for (origin, want) in [(ORIGIN, Some("max-age=63072000")), ("http://localhost:8080", None)] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(dir.path()).await.unwrap();
        let config = Config { public_origin: origin.into(), ..Config::default() };
        let state = AppState::new(
            config,
            store,
            TrustStore::load(&[]).unwrap(),
            TrustStore::load(&[]).unwrap(),
        );
        let app = router(state, None);
        for path in ["/api/health", "/api/no-such-thing"] {
            let res = tower::ServiceExt::oneshot(
                app.clone(),
                Request::get(path).body(Body::empty()).unwrap(),
            )
            .await
            .unwrap();
            let hsts = res.headers().get(header::STRICT_TRANSPORT_SECURITY);
            assert_eq!(hsts.map(|v| v.to_str().unwrap()), want, "{origin}{path}");
        }
    }
}

// ---- 7. the operator's CLI: a lost phone, a CA link ----

const BIN: &str = env!("CARGO_BIN_EXE_mahpki-server");

fn cli(data: &Path, url: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("MAHPKI_DATA_DIR", data)
        .env("MAHPKI_DATABASE_URL", url.unwrap_or(""))
        .env("MAHPKI_PUBLIC_ORIGIN", ORIGIN)
        .env("MAHPKI_LOG", "warn")
        .env_remove("MAHPKI_CONFIG");
    cmd.output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

async fn the_cli_revokes_a_lost_phone_and_cancels_a_ca_link(db: Db) {
    let (store, url, dir) = database(db).await;
    let url = url.as_deref();
    for h in [HOLDER, PHONELESS] {
        register(&store, h).await;
    }
    let now = mahpki_server::store::now_ms();
    let (_, phone_id) = bind_phone(&store, HOLDER, "t1", now).await;
    // What a thief with the phone may have set going: a grant from a スマートフォン変更 and a
    // replacement code on that PC.
    store.grant_put(&hash("thief pc"), HOLDER, GrantVia::Phone, now + 600_000).await.unwrap();
    let stolen = store
        .enrolment_issue(&new_enrolment(HOLDER, "t2", EnrolmentKind::Pc, now, 300_000), None)
        .await
        .unwrap()
        .enrolment;

    let listed = ok(&cli(dir.path(), url, &["phone", "list", "--hpki-id", HOLDER]));
    let line: serde_json::Value = serde_json::from_str(listed.lines().next().unwrap()).unwrap();
    assert_eq!(line["id"], phone_id);
    assert!(line["revoked_ms"].is_null());

    let out =
        ok(&cli(dir.path(), url, &["phone", "revoke", &phone_id.to_string(), "--reason", "lost"]));
    assert!(out.contains("revoked"), "{out}");
    assert!(store.phone_active(HOLDER).await.unwrap().is_none());
    let listed = store.phone_list(HOLDER).await.unwrap();
    assert_eq!(listed[0].revoked_reason.as_deref(), Some("lost"));
    assert!(store.grant_get(&hash("thief pc"), now).await.unwrap().is_none());
    assert_eq!(store.enrolment_get(stolen.id).await.unwrap().unwrap().state, CodeState::Cancelled);
    let audit = store.audit_tail(1).await.unwrap();
    assert_eq!(
        (audit[0].action.as_str(), audit[0].client.as_deref()),
        ("phone.revoke", Some("cli"))
    );
    assert_eq!(audit[0].hpki_id.as_deref(), Some(HOLDER));

    // Again, or a phone that does not exist: refused, nothing written.
    let before = store.audit_tail(10_000).await.unwrap();
    for id in [phone_id.to_string(), "999999".to_owned()] {
        let out = cli(dir.path(), url, &["phone", "revoke", &id]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("no working phone"));
    }
    assert_eq!(store.audit_tail(10_000).await.unwrap(), before);

    // A CA link sent to the wrong address: cancelled by its id, then it no longer opens.
    // (Written through the store: issuing one checks the holder's standing, not what is tested.)
    const DAYS_90: i64 = 90 * 86_400_000;
    let link_of = |token: &'static str| {
        let store = store.clone();
        async move {
            store
                .enrolment_issue(
                    &new_enrolment(PHONELESS, token, EnrolmentKind::Link, now, DAYS_90),
                    None,
                )
                .await
                .unwrap()
                .enrolment
        }
    };
    let e = link_of("link1").await;
    let out = ok(&cli(dir.path(), url, &["enrolment", "cancel-link", "--id", &e.id.to_string()]));
    assert!(out.contains("cancelled"), "{out}");
    let token = "link1";
    let err = store.enrolment_open(&hash(token), &hash("someone"), now, now + 300_000).await;
    assert!(matches!(err, Err(mahpki_server::store::EnrolError::Cancelled)), "{err:?}");
    let audit = store.audit_tail(1).await.unwrap();
    assert_eq!(audit[0].action, "phone.enrolment.cancel");
    assert_eq!(audit[0].detail.as_deref(), Some(format!("enrolment={} kind=link", e.id).as_str()));
    // By the holder's 本人ID, too.
    let e2 = link_of("link2").await;
    ok(&cli(dir.path(), url, &["enrolment", "cancel-link", "--hpki-id", PHONELESS]));
    assert_eq!(store.enrolment_get(e2.id).await.unwrap().unwrap().state, CodeState::Cancelled);

    // Nothing live to cancel, or not a link (a holder's own PC code is theirs): refused.
    let pc_code = store
        .enrolment_issue(&new_enrolment(PHONELESS, "t3", EnrolmentKind::Pc, now, 300_000), None)
        .await
        .unwrap()
        .enrolment;
    let before = store.audit_tail(10_000).await.unwrap();
    for args in [
        vec!["enrolment", "cancel-link", "--id", &e.id.to_string()],
        vec!["enrolment", "cancel-link", "--hpki-id", PHONELESS],
        vec!["enrolment", "cancel-link", "--id", &pc_code.id.to_string()],
    ] {
        let out = cli(dir.path(), url, &args);
        assert!(!out.status.success(), "{args:?}");
    }
    // Naming none: a usage error.
    assert_eq!(cli(dir.path(), url, &["enrolment", "cancel-link"]).status.code(), Some(2));
    assert_eq!(store.audit_tail(10_000).await.unwrap(), before);
    assert_eq!(store.enrolment_get(pc_code.id).await.unwrap().unwrap().state, CodeState::Valid);

    // The retention job on demand: it runs, says what it deleted, and keeps the audit log and
    // what still lives (the holder's live PC code).
    let out = ok(&cli(dir.path(), url, &["maintenance", "purge"]));
    let purged: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(purged["sessions"].is_u64() && purged["enrolments"].is_u64(), "{purged}");
    assert_eq!(store.audit_tail(10_000).await.unwrap(), before);
    assert!(store.enrolment_get(pc_code.id).await.unwrap().is_some());
}

on_both_databases!(
    change_begin_answers_alike_whoever_is_named,
    a_change_code_looks_up_one_hpki_id,
    streams_are_capped_per_session_and_per_server,
    streams_end_at_logout_and_when_the_session_ends,
    retention_deletes_what_ended_and_keeps_what_lives,
    a_missing_proxy_header_is_refused_and_ipv6_counts_by_64,
    the_cli_revokes_a_lost_phone_and_cancels_a_ca_link,
);
