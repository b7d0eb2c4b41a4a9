//! `make bench`: how long after the phone's `finish` the PC's page hears `completed` (別紙2: "the
//! PC page shows completion too, pushed, not polled"). Through the real router and SSE, with a
//! soft passkey on the phone: on SQLite (one process), and on PostgreSQL with the phone and the
//! PC on two server processes, so the event crosses them through LISTEN/NOTIFY.
//! Prints Markdown table rows for BENCHMARKS.md.

#[path = "common/latency.rs"]
mod latency;
// The tests' shared code (PKI fixture, browser, PostgreSQL server, the soft passkey's limits);
// the bench uses part of it (common/mod.rs allows the dead code itself).
#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use axum::{
    Router,
    body::Body,
    http::{Request, header},
};
use common::{browser::Browser, pki, postgres};
use http_body_util::BodyExt as _;
use mahpki_protocol::{
    HpkiId,
    api::{Ca, Holder, Qualification},
    enrol::{EnrolmentIssued, EnrolmentOpened, FinishEnrolment, PhoneConfirm, RegistrationOptions},
};
use mahpki_server::{
    Config,
    events::Events,
    http::{AppState, RateLimiter, router},
    pki::{TrustConfig, TrustStore},
    store::{IdentityRecord, Store},
};
use webauthn_authenticator_rs::{WebauthnAuthenticator as _, softpasskey::SoftPasskey};
use x509_parser::prelude::*;

const ORIGIN: &str = "https://hpki.example.jp";
const ROUNDS: usize = 30;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
    let rt = rt.unwrap();
    let keys = pki::keys();
    let dir = tempfile::tempdir().unwrap();
    let ca = pki::ca("HPKI bench CA", &keys.hpki_ca);
    let trust =
        pki::trust_config(dir.path(), "hpki", &ca, &keys.hpki_ca, pki::HPKI_POLICY_STR, 2099);
    let cert = pki::issue(
        &pki::ee_params("bench holder", 1, pki::HPKI_POLICY),
        &keys.holder,
        &ca.params,
        &keys.hpki_ca,
    );
    rt.block_on(async {
        let store = Store::open_sqlite(&dir.path().join("data")).await.unwrap();
        register(&store, &cert).await;
        let app = node(store, Events::local(), &trust);
        let ms = latencies(&app, &app, &cert).await;
        row("SQLite, one server process", &ms);

        let url = postgres::fresh_database_url().await;
        let store_a = Store::open_postgres(&url).await.unwrap();
        register(&store_a, &cert).await;
        let pc_node = node(store_a, Events::postgres(&url).await.unwrap(), &trust);
        let store_b = Store::open_postgres(&url).await.unwrap();
        let phone_node = node(store_b, Events::postgres(&url).await.unwrap(), &trust);
        let ms = latencies(&pc_node, &phone_node, &cert).await;
        row("PostgreSQL, PC and phone on two server processes (LISTEN/NOTIFY)", &ms);
    });
}

fn row(what: &str, ms: &[f64]) {
    println!("| {what} | {} |", latency::Spread::of(ms).cells());
}

async fn register(store: &Store, cert: &[u8]) {
    let (_, parsed) = X509Certificate::from_der(cert).unwrap();
    store
        .identity_upsert(&IdentityRecord {
            holder: Holder {
                hpki_id: HpkiId::parse("JMA-0000001").unwrap(),
                ca: Ca::Jma,
                qualification: Qualification::Doctor,
                name_kanji: "医師 太郎".into(),
                name_kana: "イシ タロウ".into(),
                name_roman: "ISHI TARO".into(),
            },
            registration_number: "1".into(),
            hpki_card_mac: b"C1".to_vec(),
            cert_issuer: parsed.issuer().as_raw().to_vec(),
            cert_subject: parsed.subject().as_raw().to_vec(),
        })
        .await
        .unwrap();
}

fn node(store: Store, events: Events, trust: &TrustConfig) -> Router {
    let config = Config { public_origin: ORIGIN.into(), ..Config::default() };
    let mut state = AppState::new(
        config,
        store,
        TrustStore::load(std::slice::from_ref(trust)).unwrap(),
        TrustStore::default(),
    );
    state.limiter = RateLimiter::new(u32::MAX, u32::MAX);
    state.events = events;
    router(state, None)
}

/// Milliseconds from the phone sending `finish` to the PC's stream delivering `completed`.
async fn latencies(pc_node: &Router, phone_node: &Router, cert: &[u8]) -> Vec<f64> {
    let mut pc = Browser::new(pc_node);
    let a = pc.hpki_login(cert, &pki::keys().holder, ORIGIN).await;
    assert!(a.status.is_success(), "{}", a.status);
    let mut out = Vec::new();
    for round in 0..ROUNDS {
        let body = serde_json::json!({ "replace": round > 0 }).to_string();
        let a = pc.send("POST", "/api/smartphone/enrolments", Some(body)).await;
        let issued: EnrolmentIssued = serde_json::from_value(a.body).unwrap();
        let mut events = connect(&pc).await;
        assert_eq!(next(&mut events).await, "waiting");

        let mut phone = Browser::new(phone_node);
        let token = issued.url.split_once('#').unwrap().1;
        let body = serde_json::json!({ "token": token }).to_string();
        let a = phone.send("POST", "/api/enrol/open", Some(body)).await;
        assert!(a.status.is_success(), "{:?}", a.body);
        let opened: EnrolmentOpened = serde_json::from_value(a.body).unwrap();
        assert_eq!(next(&mut events).await, "confirm");
        // The holder types the code the phone shows on the PC.
        let PhoneConfirm::Show { code } = opened.confirm else { panic!("no confirmation code") };
        let body = serde_json::json!({ "code": code }).to_string();
        let a = pc.send("POST", "/api/smartphone/confirm", Some(body)).await;
        assert!(a.status.is_success(), "{:?}", a.body);
        assert_eq!(next(&mut events).await, "opened");
        let a = phone.send("POST", "/api/enrol/begin", None).await;
        let mut o: RegistrationOptions = serde_json::from_value(a.body).unwrap();
        // What the soft passkey can do of what a phone's platform authenticator does.
        common::world::soft_key_can(o.options.public_key.authenticator_selection.as_mut().unwrap());
        let credential = SoftPasskey::new(true)
            .do_registration(url::Url::parse(ORIGIN).unwrap(), o.options)
            .unwrap();
        let body =
            serde_json::to_string(&FinishEnrolment { credential, label: "bench".into() }).unwrap();

        let heard = tokio::spawn(async move {
            assert_eq!(next(&mut events).await, "completed");
            Instant::now()
        });
        let start = Instant::now();
        let a = phone.send("POST", "/api/enrol/finish", Some(body)).await;
        assert!(a.status.is_success(), "{:?}", a.body);
        let at = heard.await.unwrap();
        out.push(at.duration_since(start).as_secs_f64() * 1000.0);
    }
    out
}

async fn connect(pc: &Browser) -> (Body, String) {
    let req = Request::get("/api/smartphone/enrolments/current/events")
        .header(header::COOKIE, pc.cookie.clone().unwrap())
        .body(Body::empty())
        .unwrap();
    let res = tower::ServiceExt::oneshot(pc.app.clone(), req).await.unwrap();
    assert!(res.status().is_success());
    (res.into_body(), String::new())
}

/// The next event's name.
async fn next((body, buf): &mut (Body, String)) -> String {
    loop {
        if let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            if let Some(name) = block.lines().find_map(|l| l.strip_prefix("event:")) {
                return name.trim().to_owned();
            }
            continue;
        }
        let frame = tokio::time::timeout(Duration::from_secs(10), body.frame()).await;
        let frame = frame.expect("no event within 10 s").expect("stream ended").unwrap();
        if let Ok(data) = frame.into_data() {
            buf.push_str(std::str::from_utf8(&data).unwrap());
        }
    }
}
