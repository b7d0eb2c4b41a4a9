//! HPKI card authentication and My Number card binding through the real router, with real RSA
//! keys and certificates, on SQLite and on PostgreSQL. Every refusal has its own error code and
//! leaves no authenticated session behind.

mod common;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use common::{
    Db,
    browser::{Answer, Browser},
    pki::{self, HPKI_POLICY, HPKI_POLICY_STR, JPKI_POLICY, REVOKED_SERIAL},
    store,
};
use mahpki_protocol::{
    ErrorCode, HpkiId,
    api::{Ca, Holder, MyNumberBound, Qualification, SessionInfo},
};
use mahpki_server::{
    Config,
    http::{AppState, Clock, RateLimiter, router},
    pki::TrustStore,
    store::{IdentityRecord, Store},
};
use x509_parser::prelude::*;

const ORIGIN: &str = "https://hpki.example.jp";

struct World {
    app: Router,
    store: Store,
    clock: Clock,
    hpki_ca: pki::Ca,
    jpki_ca: pki::Ca,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

fn holder_record(n: u32, cert: &[u8]) -> IdentityRecord {
    let (_, c) = X509Certificate::from_der(cert).unwrap();
    IdentityRecord {
        holder: Holder {
            hpki_id: HpkiId::parse(&format!("JMA-{n:07}")).unwrap(),
            ca: Ca::Jma,
            qualification: Qualification::Doctor,
            name_kanji: "医師 花子".into(),
            name_kana: "イシ ハナコ".into(),
            name_roman: "ISHI HANAKO".into(),
        },
        registration_number: "123456".into(),
        hpki_card_mac: b"card-mac".to_vec(),
        cert_issuer: c.issuer().as_raw().to_vec(),
        cert_subject: c.subject().as_raw().to_vec(),
    }
}

async fn world(db: Db) -> World {
    world_with(db, 2099, RateLimiter::new(1000, 1000)).await
}

async fn world_with_crl_until(db: Db, crl_next_update: i32) -> World {
    world_with(db, crl_next_update, RateLimiter::new(1000, 1000)).await
}

async fn world_with(db: Db, crl_next_update: i32, limiter: RateLimiter) -> World {
    let keys = pki::keys();
    let (store, data) = store(db).await;
    let trust_dir = tempfile::tempdir().unwrap();
    let hpki_ca = pki::ca("HPKI test CA", &keys.hpki_ca);
    let jpki_ca = pki::ca("JPKI test CA", &keys.jpki_ca);
    let hpki_cfg = pki::trust_config(
        trust_dir.path(),
        "hpki",
        &hpki_ca,
        &keys.hpki_ca,
        HPKI_POLICY_STR,
        crl_next_update,
    );
    let jpki_cfg = pki::trust_config(
        trust_dir.path(),
        "jpki",
        &jpki_ca,
        &keys.jpki_ca,
        "1.2.392.200149.8.5.1.3.30",
        2099,
    );
    let config = Config { public_origin: ORIGIN.into(), ..Config::default() };
    let mut state = AppState::new(
        config,
        store.clone(),
        TrustStore::load(&[hpki_cfg]).unwrap(),
        TrustStore::load(&[jpki_cfg]).unwrap(),
    );
    let clock = Clock::manual();
    state.clock = clock.clone();
    state.limiter = limiter;
    let w = World {
        app: router(state, None),
        store,
        clock,
        hpki_ca,
        jpki_ca,
        _dirs: (data, trust_dir),
    };
    for n in 1..=2 {
        w.store.identity_upsert(&holder_record(n, &w.hpki_cert(n))).await.unwrap();
    }
    w
}

impl World {
    fn browser(&self) -> Browser {
        Browser::new(&self.app)
    }

    /// Holder `n`'s HPKI authentication certificate.
    fn hpki_cert(&self, n: u32) -> Vec<u8> {
        self.hpki_with(|p| p, n)
    }

    fn hpki_with(
        &self,
        spoil: impl FnOnce(rcgen::CertificateParams) -> rcgen::CertificateParams,
        n: u32,
    ) -> Vec<u8> {
        let keys = pki::keys();
        let params =
            spoil(pki::ee_params(&format!("HPKI holder {n}"), 1000 + u64::from(n), HPKI_POLICY));
        pki::issue(&params, &keys.holder, &self.hpki_ca.params, &keys.hpki_ca)
    }

    /// A My Number card's JPKI authentication certificate (no name, like the real ones).
    fn jpki_cert(&self, serial: u64) -> Vec<u8> {
        let keys = pki::keys();
        pki::issue(
            &pki::ee_params("", serial, JPKI_POLICY),
            &keys.holder,
            &self.jpki_ca.params,
            &keys.jpki_ca,
        )
    }
}

async fn correct_hpki_authentication_yields_the_holder(db: Db) {
    let w = world(db).await;
    let mut b = w.browser();
    let a = b.hpki_login(&w.hpki_cert(2), &pki::keys().holder, ORIGIN).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let info: SessionInfo = serde_json::from_value(a.body).unwrap();
    assert_eq!(info.holder.hpki_id.as_str(), "JMA-0000002");
    assert_eq!(info.holder.name_kanji, "医師 花子");
    assert_eq!(info.mynumber, None);
    assert!(b.is_authenticated().await);
    let audit = w.store.audit_tail(1).await.unwrap().pop().unwrap();
    assert_eq!((audit.action.as_str(), audit.outcome.as_str()), ("hpki.auth", "ok"));
    assert_eq!(audit.hpki_id.as_deref(), Some("JMA-0000002"));
}

async fn login_rotates_the_session_id(db: Db) {
    let w = world(db).await;
    let mut b = w.browser();
    let c = b.challenge("/api/hpki/challenge").await;
    let before = b.cookie.clone().unwrap();
    let sig = pki::keys().holder.sign_challenge(ORIGIN, &c);
    assert_eq!(
        b.finish("/api/hpki/finish", &c, &w.hpki_cert(1), &sig).await.status,
        StatusCode::OK
    );
    assert_ne!(b.cookie.clone().unwrap(), before);
    assert!(before.starts_with("__Host-mahpki_session="), "HTTPS site without __Host- cookie");
    // The pre-login id is worthless now.
    let mut planted = Browser { app: w.app.clone(), cookie: Some(before), signin: None };
    assert!(!planted.is_authenticated().await);
}

/// Expects `answer` to be refused with `code`, and the browser not to be authenticated after.
async fn refused(b: &mut Browser, answer: Answer, code: ErrorCode) {
    assert_eq!(answer.code(), Some(code), "{:?}", answer.body);
    assert_eq!(answer.status.as_u16(), code.http_status());
    assert!(!b.is_authenticated().await, "{code:?} left an authenticated session");
}

async fn each_bad_authentication_is_refused_with_its_own_code(db: Db) {
    let w = world(db).await;
    let keys = pki::keys();
    let good = w.hpki_cert(1);

    // Wrong signature: signed by another key.
    let mut b = w.browser();
    let a = b.hpki_login(&good, &keys.rogue_ca, ORIGIN).await;
    refused(&mut b, a, ErrorCode::SignatureInvalid).await;

    // A signature made for another site (a relayed challenge).
    let mut b = w.browser();
    let a = b.hpki_login(&good, &keys.holder, "https://phish.example").await;
    refused(&mut b, a, ErrorCode::SignatureInvalid).await;

    // Reused challenge: the first use succeeds, the replay does not.
    let mut b = w.browser();
    let c = b.challenge("/api/hpki/challenge").await;
    let sig = keys.holder.sign_challenge(ORIGIN, &c);
    assert_eq!(b.finish("/api/hpki/finish", &c, &good, &sig).await.status, StatusCode::OK);
    let mut other = w.browser();
    other.challenge("/api/hpki/challenge").await;
    let a = other.finish("/api/hpki/finish", &c, &good, &sig).await;
    refused(&mut other, a, ErrorCode::ChallengeUnknown).await;

    // Expired challenge.
    let mut b = w.browser();
    let c = b.challenge("/api/hpki/challenge").await;
    w.clock.advance_ms(5 * 60 * 1000 + 1);
    let a = b.finish("/api/hpki/finish", &c, &good, &keys.holder.sign_challenge(ORIGIN, &c)).await;
    refused(&mut b, a, ErrorCode::ChallengeExpired).await;

    // A challenge issued to another browser's session.
    let mut victim = w.browser();
    let c = victim.challenge("/api/hpki/challenge").await;
    let mut b = w.browser();
    b.challenge("/api/hpki/challenge").await;
    let a = b.finish("/api/hpki/finish", &c, &good, &keys.holder.sign_challenge(ORIGIN, &c)).await;
    refused(&mut b, a, ErrorCode::ChallengeWrongSession).await;

    // Certificates that must not be accepted.
    let untrusted = {
        let rogue = pki::ca("HPKI test CA", &keys.rogue_ca); // same name, other key
        pki::issue(
            &pki::ee_params("HPKI holder 1", 1001, HPKI_POLICY),
            &keys.holder,
            &rogue.params,
            &keys.rogue_ca,
        )
    };
    let expired = w.hpki_with(
        |mut p| {
            p.not_before = rcgen::date_time_ymd(2019, 1, 1);
            p.not_after = rcgen::date_time_ymd(2020, 1, 1);
            p
        },
        1,
    );
    let revoked = w.hpki_with(
        |mut p| {
            p.serial_number =
                Some(rcgen::SerialNumber::from(REVOKED_SERIAL.to_be_bytes().to_vec()));
            p
        },
        1,
    );
    let wrong_usage = w.hpki_with(
        |mut p| {
            p.key_usages = vec![rcgen::KeyUsagePurpose::KeyEncipherment];
            p
        },
        1,
    );
    let unknown_critical = w.hpki_with(
        |mut p| {
            let mut ext =
                rcgen::CustomExtension::from_oid_content(&[1, 2, 3, 4, 5], vec![0x05, 0x00]);
            ext.set_criticality(true);
            p.custom_extensions.push(ext);
            p
        },
        1,
    );
    let no_policy = w.hpki_with(
        |mut p| {
            p.custom_extensions = vec![pki::policies(&[1, 2, 3])];
            p
        },
        1,
    );
    let unknown_holder = w.hpki_cert(99);
    for (cert, code) in [
        (untrusted, ErrorCode::CertificateUntrusted),
        (expired, ErrorCode::CertificateExpired),
        (revoked, ErrorCode::CertificateRevoked),
        (wrong_usage, ErrorCode::CertificateKeyUsage),
        (unknown_critical, ErrorCode::CertificateUnsupportedExtension),
        (no_policy, ErrorCode::CertificatePolicy),
        (unknown_holder, ErrorCode::HolderUnknown),
        (b"garbage".to_vec(), ErrorCode::CertificateMalformed),
    ] {
        let mut b = w.browser();
        let a = b.hpki_login(&cert, &keys.holder, ORIGIN).await;
        refused(&mut b, a, code).await;
    }

    // Garbage requests.
    let mut b = w.browser();
    b.challenge("/api/hpki/challenge").await;
    for body in [
        "not json",
        "{}",
        r#"{"challenge":"x","certificate":"x","algorithm":"ES256","signature":"x"}"#,
    ] {
        let a = b.send("POST", "/api/hpki/finish", Some(body.into())).await;
        refused(&mut b, a, ErrorCode::BadRequest).await;
    }
    let a = b.finish("/api/hpki/finish", b"not base64!", &good, b"x").await;
    assert_eq!(a.code(), Some(ErrorCode::ChallengeUnknown));

    // Every failure was audited with its reason, and none authenticated anybody.
    let audit = w.store.audit_tail(100).await.unwrap();
    let failures = audit.iter().filter(|r| r.action == "hpki.auth" && r.outcome != "ok").count();
    assert!(failures >= 13, "{audit:?}");
    assert!(audit.iter().any(|r| r.outcome == "certificate_revoked"));
}

async fn finish_without_a_session_is_refused(db: Db) {
    let w = world(db).await;
    let mut b = w.browser();
    let a = b.finish("/api/hpki/finish", &[0; 32], &w.hpki_cert(1), b"x").await;
    refused(&mut b, a, ErrorCode::Unauthenticated).await;
}

async fn stale_crl_fails_closed(db: Db) {
    let w = world_with_crl_until(db, 2025).await;
    let mut b = w.browser();
    let a = b.hpki_login(&w.hpki_cert(1), &pki::keys().holder, ORIGIN).await;
    refused(&mut b, a, ErrorCode::CrlOutdated).await;
}

async fn bind_mynumber(b: &mut Browser, cert: &[u8]) -> Answer {
    let c = b.challenge("/api/mynumber/challenge").await;
    let sig = pki::keys().holder.sign_challenge(ORIGIN, &c);
    b.finish("/api/mynumber/finish", &c, cert, &sig).await
}

async fn mynumber_binding_succeeds_and_renewal_replaces(db: Db) {
    let w = world(db).await;
    let mut b = w.browser();
    assert_eq!(
        b.hpki_login(&w.hpki_cert(1), &pki::keys().holder, ORIGIN).await.status,
        StatusCode::OK
    );
    let first = bind_mynumber(&mut b, &w.jpki_cert(0x5001)).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    let first: MyNumberBound = serde_json::from_value(first.body).unwrap();
    assert_eq!(first.replaced, None);
    assert_eq!(first.binding.not_after, 4_070_908_800); // 2099-01-01

    let renewed = bind_mynumber(&mut b, &w.jpki_cert(0x5002)).await;
    let renewed: MyNumberBound = serde_json::from_value(renewed.body).unwrap();
    assert_eq!(renewed.replaced.as_ref().map(|r| &r.fingerprint), Some(&first.binding.fingerprint));
    let session: SessionInfo =
        serde_json::from_value(b.send("GET", "/api/session", None).await.body).unwrap();
    assert_eq!(session.mynumber.unwrap().fingerprint, renewed.binding.fingerprint);
    let actions: Vec<_> =
        w.store.audit_tail(10).await.unwrap().into_iter().map(|r| r.action).collect();
    assert!(
        actions.ends_with(&["mynumber.bind".to_owned(), "mynumber.replace".to_owned()]),
        "{actions:?}"
    );
}

async fn mynumber_card_of_another_holder_is_refused(db: Db) {
    let w = world(db).await;
    let card = w.jpki_cert(0x6001);
    let mut one = w.browser();
    one.hpki_login(&w.hpki_cert(1), &pki::keys().holder, ORIGIN).await;
    assert_eq!(bind_mynumber(&mut one, &card).await.status, StatusCode::OK);
    let mut two = w.browser();
    two.hpki_login(&w.hpki_cert(2), &pki::keys().holder, ORIGIN).await;
    let before = w.store.mynumber_list(None).await.unwrap();
    let a = bind_mynumber(&mut two, &card).await;
    assert_eq!(a.code(), Some(ErrorCode::MyNumberBoundElsewhere));
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(w.store.mynumber_list(None).await.unwrap(), before);
    let last = w.store.audit_tail(1).await.unwrap().pop().unwrap();
    assert_eq!(
        (last.outcome.as_str(), last.hpki_id.as_deref()),
        ("my_number_bound_elsewhere", Some("JMA-0000002"))
    );
}

async fn mynumber_binding_needs_hpki_authentication(db: Db) {
    let w = world(db).await;
    let mut b = w.browser();
    let a = b.send("POST", "/api/mynumber/challenge", None).await;
    assert_eq!(a.code(), Some(ErrorCode::Unauthenticated));
    // An anonymous session (HPKI challenge taken, never finished) is not enough either.
    let c = b.challenge("/api/hpki/challenge").await;
    let a = b.send("POST", "/api/mynumber/challenge", None).await;
    assert_eq!(a.code(), Some(ErrorCode::Unauthenticated));
    let a = b
        .finish(
            "/api/mynumber/finish",
            &c,
            &w.jpki_cert(1),
            &pki::keys().holder.sign_challenge(ORIGIN, &c),
        )
        .await;
    assert_eq!(a.code(), Some(ErrorCode::Unauthenticated));
    assert!(w.store.mynumber_list(None).await.unwrap().is_empty());
}

async fn mynumber_refuses_an_hpki_certificate_and_hpki_challenges(db: Db) {
    let w = world(db).await;
    let mut b = w.browser();
    b.hpki_login(&w.hpki_cert(1), &pki::keys().holder, ORIGIN).await;
    // The HPKI card in the reader instead of the My Number card: not a JPKI certificate.
    let a = bind_mynumber(&mut b, &w.hpki_cert(1)).await;
    assert_eq!(a.code(), Some(ErrorCode::CertificateUntrusted));
    // A challenge issued for HPKI authentication cannot be spent on a binding.
    let c = b.challenge("/api/hpki/challenge").await;
    let a = b
        .finish(
            "/api/mynumber/finish",
            &c,
            &w.jpki_cert(7),
            &pki::keys().holder.sign_challenge(ORIGIN, &c),
        )
        .await;
    assert_eq!(a.code(), Some(ErrorCode::ChallengeWrongPurpose));
    assert!(w.store.mynumber_list(None).await.unwrap().is_empty());
}

async fn expired_session_is_reported_as_such(db: Db) {
    let w = world(db).await;
    let mut b = w.browser();
    b.hpki_login(&w.hpki_cert(1), &pki::keys().holder, ORIGIN).await;
    w.clock.advance_ms(16 * 60 * 1000);
    let a = b.send("POST", "/api/mynumber/challenge", None).await;
    assert_eq!(a.code(), Some(ErrorCode::SessionExpired));
}

on_both_databases!(
    correct_hpki_authentication_yields_the_holder,
    login_rotates_the_session_id,
    each_bad_authentication_is_refused_with_its_own_code,
    finish_without_a_session_is_refused,
    stale_crl_fails_closed,
    mynumber_binding_succeeds_and_renewal_replaces,
    mynumber_card_of_another_holder_is_refused,
    mynumber_binding_needs_hpki_authentication,
    mynumber_refuses_an_hpki_certificate_and_hpki_challenges,
    expired_session_is_reported_as_such,
);

#[tokio::test]
async fn cross_site_requests_are_refused_before_anything_happens() {
    let w = world(Db::Sqlite).await;
    let send = |site: Option<&str>, origin: Option<&str>| {
        let mut req = Request::post("/api/hpki/challenge");
        if let Some(s) = site {
            req = req.header("sec-fetch-site", s);
        }
        if let Some(o) = origin {
            req = req.header(header::ORIGIN, o);
        }
        tower::ServiceExt::oneshot(w.app.clone(), req.body(Body::empty()).unwrap())
    };
    for (site, origin) in [
        (Some("cross-site"), Some(ORIGIN)),
        (Some("same-site"), None),
        (None, Some("https://evil.example")),
        (None, None),
    ] {
        let res = send(site, origin).await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{site:?} {origin:?}");
        assert!(res.headers().get(header::SET_COOKIE).is_none(), "a session was opened");
    }
    // Browsers without Fetch Metadata: the Origin header decides.
    assert_eq!(send(None, Some(ORIGIN)).await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn authentication_endpoints_are_rate_limited() {
    let w = world_with(Db::Sqlite, 2099, RateLimiter::production()).await;
    let mut b = w.browser();
    let statuses: Vec<u16> = futures_statuses(&mut b, 25).await;
    assert!(statuses[..20].iter().all(|s| *s == 200), "{statuses:?}");
    assert!(statuses[20..].iter().all(|s| *s == 429), "{statuses:?}");
    w.clock.advance_ms(60_000);
    assert_eq!(b.send("POST", "/api/hpki/challenge", None).await.status, StatusCode::OK);
}

async fn futures_statuses(b: &mut Browser, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(b.send("POST", "/api/hpki/challenge", None).await.status.as_u16());
    }
    out
}

#[test]
fn the_shipped_jpki_anchor_loads() {
    let store = TrustStore::load_jpki(&[]).unwrap();
    assert_eq!(store.anchors.len(), 1);
    assert!(
        store.anchors[0].name.contains("JPKI for user authentication"),
        "{}",
        store.anchors[0].name
    );
}
