//! Issue 11, item 2: revocation, expiry and the operator's suspension stop every path that does
//! not read the HPKI card (JMA path, スマートフォン変更, CA links), through the real router on
//! SQLite and PostgreSQL; CRLs reload without a restart (the function, and SIGHUP on the real
//! binary); a stale CRL fails closed for its own CA only. Item 5: `identity import` is audited
//! and never silently remaps a holder's certificate.

mod common;

use axum::{Router, http::StatusCode};
use common::{
    Db,
    binary::{OneHolder, cli, request},
    browser::{Answer, Browser},
    crl::{crl, time_string},
    pki::{self, HPKI_POLICY, HPKI_POLICY_STR, REVOKED_SERIAL},
    store,
};
use mahpki_protocol::{
    ErrorCode, HpkiId,
    enrol::{AssertionOptions, EnrolmentIssued, FinishEnrolment, RegistrationOptions},
};
use mahpki_server::{
    Config,
    config::CaPolicy,
    http::{AppState, Clock, RateLimiter, router},
    import,
    pki::{TrustConfig, TrustStore},
    secret::ServerSecret,
    service::links::{LinkError, issue_link},
    standing::{NotInGoodStanding, StandingError},
    store::{ImportChange, ImportRefusal, Store},
};
use webauthn_authenticator_rs::{WebauthnAuthenticator as _, softpasskey::SoftPasskey};

const ORIGIN: &str = "https://hpki.example.jp";
/// A holder in good standing (JMA), and the demo's revoked holder.
const GOOD: &str = "JMA-0000001";
const REVOKED: &str = "HP0000000004";
/// A holder of a second CA (JPA), for the per-CA staleness test.
const OTHER_CA: &str = "JPA-0000001";
const GOOD_SERIAL: u64 = 1001;

/// The server secret the register is imported under and the JMA path compares with.
static SECRET: std::sync::LazyLock<std::sync::Arc<ServerSecret>> =
    std::sync::LazyLock::new(|| std::sync::Arc::new(ServerSecret::random()));

/// The operator CLI run with some arguments: (succeeded, stdout, stderr).
type CliRun<'a> = dyn Fn(&[&str]) -> (bool, String, String) + 'a;

const FRESH_THIS: &str = "20240101000000Z";
const FRESH_NEXT: Option<&str> = Some("20990101000000Z");

// ---- The world: a server (router) over a fresh database, holders imported from a register. ----

struct World {
    app: Router,
    state: AppState,
    store: Store,
    clock: Clock,
    config: Config,
    dir: tempfile::TempDir,
    ca: pki::Ca,
    other_ca: pki::Ca,
    _data: tempfile::TempDir,
}

fn hpki_cert(ca: &pki::Ca, ca_key: &pki::Key, cn: &str, serial: u64, until: i32) -> Vec<u8> {
    let mut p = pki::ee_params(cn, serial, HPKI_POLICY);
    p.not_after = rcgen::date_time_ymd(until, 1, 1);
    pki::issue(&p, &pki::keys().holder, &ca.params, ca_key)
}

async fn world(db: Db) -> World {
    let (store, data) = store(db).await;
    let dir = tempfile::tempdir().unwrap();
    let keys = pki::keys();
    let ca = pki::ca("HPKI test CA", &keys.hpki_ca);
    let other_ca = pki::ca("HPKI second test CA", &keys.rogue_ca);
    let anchor = |name: &str, ca: &pki::Ca, key: &pki::Key| {
        let ca_cert = dir.path().join(format!("{name}.der"));
        std::fs::write(&ca_cert, &ca.cert_der).unwrap();
        let crl_path = dir.path().join(format!("{name}.crl"));
        std::fs::write(&crl_path, crl(ca, key, &[REVOKED_SERIAL], FRESH_THIS, FRESH_NEXT)).unwrap();
        TrustConfig {
            ca_cert,
            policies: vec![HPKI_POLICY_STR.into()],
            signing_policies: vec![],
            crls: vec![crl_path],
        }
    };
    let mut config = Config { public_origin: ORIGIN.into(), ..Config::default() };
    config.hpki_trust =
        vec![anchor("hpki", &ca, &keys.hpki_ca), anchor("hpki2", &other_ca, &keys.rogue_ca)];
    for c in ["JMA", "JPA"] {
        config.ca_policy.insert(c.into(), CaPolicy { jma_path: true, ..CaPolicy::default() });
    }
    let mut state = AppState::new(
        config.clone(),
        store.clone(),
        TrustStore::load(&config.hpki_trust).unwrap(),
        TrustStore::default(),
    );
    let clock = Clock::manual();
    state.clock = clock.clone();
    state.limiter = RateLimiter::new(1000, 1000);
    state.secret = Some(SECRET.clone());
    let app = router(state.clone(), None);
    let w = World { app, state, store, clock, config, dir, ca, other_ca, _data: data };
    let rows = [
        w.row(GOOD, "JMA", "100001", "CARD0001", &w.good_cert()),
        w.row(REVOKED, "JMA", "100004", "CARD0004", &w.cert("revoked", REVOKED_SERIAL, 2099)),
        w.row(OTHER_CA, "JPA", "200001", "CARD2001", &w.other_cert()),
    ];
    let changes = w.import(&rows, false).await.unwrap();
    assert!(changes.iter().all(|c| matches!(c, ImportChange::Added(_))), "{changes:?}");
    w
}

impl World {
    fn cert(&self, cn: &str, serial: u64, until: i32) -> Vec<u8> {
        hpki_cert(&self.ca, &pki::keys().hpki_ca, cn, serial, until)
    }

    fn good_cert(&self) -> Vec<u8> {
        self.cert("good holder", GOOD_SERIAL, 2099)
    }

    fn other_cert(&self) -> Vec<u8> {
        hpki_cert(&self.other_ca, &pki::keys().rogue_ca, "other CA holder", 2001, 2099)
    }

    /// One register row, its certificate written beside the register.
    fn row(&self, id: &str, ca: &str, reg: &str, card: &str, cert: &[u8]) -> serde_json::Value {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(cert);
        let file = format!(
            "{id}-{:02x}{:02x}{:02x}{:02x}.der",
            digest[0], digest[1], digest[2], digest[3]
        );
        std::fs::write(self.dir.path().join(&file), cert).unwrap();
        serde_json::json!({
            "hpki_id": id, "ca": ca, "qualification": "doctor", "name_kanji": "医師 太郎",
            "name_kana": "イシ タロウ", "name_roman": "ISHI TARO", "registration_number": reg,
            "hpki_card_id": card, "certificate": file,
        })
    }

    /// `identity import` of these rows: the register read from a file, then the store's import.
    async fn import(
        &self,
        rows: &[serde_json::Value],
        force: bool,
    ) -> Result<Vec<ImportChange>, ImportRefusal> {
        let path = self.dir.path().join("register.json");
        std::fs::write(&path, serde_json::to_string(rows).unwrap()).unwrap();
        let records = import::read(&path, &SECRET).unwrap();
        self.store.identity_import(&records, force, Some("cli")).await
    }

    fn browser(&self) -> Browser {
        Browser::new(&self.app)
    }

    /// A PC logged in with `id`'s HPKI card.
    async fn card_pc(&self, cert: &[u8]) -> Browser {
        let mut b = self.browser();
        let a = b.hpki_login(cert, &pki::keys().holder, ORIGIN).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        b
    }

    async fn audit(&self) -> Vec<(Option<String>, String, String, Option<String>)> {
        let log = self.store.audit_tail(500).await.unwrap();
        log.into_iter().map(|r| (r.hpki_id, r.action, r.outcome, r.detail)).collect()
    }

    async fn refusals(&self, hpki_id: &str) -> Vec<String> {
        let log = self.audit().await.into_iter();
        log.filter(|(h, a, ..)| h.as_deref() == Some(hpki_id) && a == "standing.refuse")
            .map(|(_, _, outcome, _)| outcome)
            .collect()
    }

    /// Replaces the first CA's CRL file (`hpki.crl`).
    fn write_crl(&self, name: &str, der: Vec<u8>) {
        std::fs::write(self.dir.path().join(format!("{name}.crl")), der).unwrap();
    }
}

fn refused(a: &Answer, code: ErrorCode) {
    assert_eq!(a.code(), Some(code), "{} {:?}", a.status, a.body);
    assert_eq!(a.status.as_u16(), code.http_status());
}

async fn jma_login(b: &mut Browser, reg: &str, card: &str) -> Answer {
    let body = serde_json::json!({ "registration_number": reg, "card_id": card });
    b.send("POST", "/api/jma/login", Some(body.to_string())).await
}

async fn issue(pc: &mut Browser) -> Answer {
    let body = serde_json::json!({ "replace": false }).to_string();
    pc.send("POST", "/api/smartphone/enrolments", Some(body)).await
}

struct Phone {
    b: Browser,
    key: SoftPasskey,
}

impl Phone {
    fn new(w: &World) -> Self {
        Self { b: w.browser(), key: SoftPasskey::new(true) }
    }

    async fn open(&mut self, url: &str) -> Answer {
        let token = url.split_once('#').unwrap().1;
        let body = serde_json::json!({ "token": token }).to_string();
        self.b.send("POST", "/api/enrol/open", Some(body)).await
    }

    /// The phone side of 別紙2, with the code the phone shows typed on `pc`.
    async fn enrol(&mut self, pc: &mut Browser, url: &str) {
        let a = self.open(url).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        confirm(pc, &a).await;
        let a = self.b.send("POST", "/api/enrol/begin", None).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        let mut o: RegistrationOptions = serde_json::from_value(a.body).unwrap();
        // The soft passkey cannot claim "platform" or a resident key (see tests/enrol.rs).
        common::world::soft_key_can(o.options.public_key.authenticator_selection.as_mut().unwrap());
        let credential =
            self.key.do_registration(url::Url::parse(ORIGIN).unwrap(), o.options).unwrap();
        let body = FinishEnrolment { credential, label: "電話".into() };
        let a =
            self.b.send("POST", "/api/enrol/finish", Some(serde_json::to_string(&body).unwrap()));
        let a = a.await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    }

    /// スマートフォン変更, old phone's side: open the PC's first code, assert with the passkey.
    async fn prove(&mut self, url: &str, hpki_id: &str) -> Answer {
        let token = url.split_once('#').unwrap().1;
        let body = serde_json::json!({ "token": token }).to_string();
        let a = self.b.send("POST", "/api/change/open", Some(body)).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        let body = serde_json::json!({ "hpki_id": hpki_id }).to_string();
        let a = self.b.send("POST", "/api/change/begin", Some(body)).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        let o: AssertionOptions = serde_json::from_value(a.body).unwrap();
        let credential =
            self.key.do_authentication(url::Url::parse(ORIGIN).unwrap(), o.options).unwrap();
        let body = serde_json::json!({ "credential": credential }).to_string();
        self.b.send("POST", "/api/change/finish", Some(body)).await
    }
}

/// The holder types the code the phone shows (in `answer`, its open or proof) on `pc`.
async fn confirm(pc: &mut Browser, answer: &Answer) {
    let code = answer.body["confirm"]["code"].as_str().expect("the phone shows a code");
    let body = serde_json::json!({ "code": code }).to_string();
    let c = pc.send("POST", "/api/smartphone/confirm", Some(body)).await;
    assert_eq!(c.status, StatusCode::OK, "{:?}", c.body);
}

/// A PC without the card asks for a change code; `old` proves with it.
async fn change(w: &World, old: &mut Phone, hpki_id: &str) -> (Browser, Answer) {
    let mut pc = w.browser();
    let a = pc.send("POST", "/api/smartphone/change", None).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let url = a.body["url"].as_str().unwrap().to_owned();
    let proved = old.prove(&url, hpki_id).await;
    (pc, proved)
}

/// The holder whose grant this PC session holds, if any.
async fn granted(pc: &mut Browser) -> Option<String> {
    let a = pc.send("GET", "/api/smartphone/holder", None).await;
    (a.status == StatusCode::OK).then(|| a.body["hpki_id"].as_str().unwrap().to_owned())
}

// ---- The attacks ----

/// The observed attack: HP0000000004, whose card is refused as revoked, proved itself with the
/// numbers printed on the card and enrolled a phone. Now the JMA path refuses, nothing is
/// granted or bound, and the refusal is audited.
async fn a_revoked_holder_cannot_use_the_jma_path(db: Db) {
    let w = world(db).await;
    // The card itself is refused as revoked (as before).
    let mut card = w.browser();
    let revoked_cert = w.cert("revoked", REVOKED_SERIAL, 2099);
    let a = card.hpki_login(&revoked_cert, &pki::keys().holder, ORIGIN).await;
    refused(&a, ErrorCode::CertificateRevoked);

    let mut pc = w.browser();
    refused(&jma_login(&mut pc, "100004", "CARD0004").await, ErrorCode::CertificateRevoked);
    assert_eq!(granted(&mut pc).await, None);
    refused(&issue(&mut pc).await, ErrorCode::Unauthenticated);
    assert!(w.store.phone_list(REVOKED).await.unwrap().is_empty());
    assert_eq!(w.refusals(REVOKED).await, ["certificate_revoked"]);
    // A CA's link for that holder is refused too, and nothing was issued.
    let link = issue_link(&w.store, &w.config, &HpkiId::parse(REVOKED).unwrap(), 90, false).await;
    assert!(
        matches!(
            &link,
            Err(LinkError::Standing(StandingError::Refused(NotInGoodStanding::Certificate { .. })))
        ),
        "{:?}",
        link.map(|(_, e)| e.id)
    );
    assert!(w.store.enrolment_latest(REVOKED).await.unwrap().is_none());
    // The holder in good standing is unaffected.
    let mut pc = w.browser();
    assert_eq!(jma_login(&mut pc, "100001", "CARD0001").await.status, StatusCode::OK);
    assert_eq!(granted(&mut pc).await.as_deref(), Some(GOOD));
}

/// An operator's suspension stops the JMA path, スマートフォン変更 (the old phone's assertion is
/// refused), CA links (issuing, and a phone opening one issued before), and enrolment on the
/// card-authenticated PC; the bindings stay listed. Resuming restores every path.
async fn suspension_stops_every_path_without_the_card_and_resume_restores_them(db: Db) {
    let w = world(db).await;
    let mut card_pc = w.card_pc(&w.good_cert()).await;
    let a = issue(&mut card_pc).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let issued: EnrolmentIssued = serde_json::from_value(a.body).unwrap();
    let mut phone = Phone::new(&w);
    phone.enrol(&mut card_pc, &issued.url).await;
    let bound = w.store.phone_active(GOOD).await.unwrap().unwrap();
    let (early_link, _) =
        issue_link(&w.store, &w.config, &HpkiId::parse(GOOD).unwrap(), 90, true).await.unwrap();

    assert!(w.store.identity_suspend(GOOD, "card reported stolen", Some("cli")).await.unwrap());
    assert!(!w.store.identity_suspend(GOOD, "again", None).await.unwrap(), "already suspended");

    let mut pc = w.browser();
    refused(&jma_login(&mut pc, "100001", "CARD0001").await, ErrorCode::HolderSuspended);
    assert_eq!(granted(&mut pc).await, None);
    let (mut change_pc, proved) = change(&w, &mut phone, GOOD).await;
    refused(&proved, ErrorCode::HolderSuspended);
    assert_eq!(granted(&mut change_pc).await, None);
    refused(&issue(&mut change_pc).await, ErrorCode::Unauthenticated);
    let link = issue_link(&w.store, &w.config, &HpkiId::parse(GOOD).unwrap(), 90, false).await;
    assert!(matches!(
        link,
        Err(LinkError::Standing(StandingError::Refused(NotInGoodStanding::Suspended { .. })))
    ));
    refused(&Phone::new(&w).open(&early_link).await, ErrorCode::HolderSuspended);
    refused(&issue(&mut card_pc).await, ErrorCode::HolderSuspended);
    // Nothing changed: the phone is still the bound one, listed, not revoked.
    let phones = w.store.phone_list(GOOD).await.unwrap();
    assert_eq!(phones.len(), 1);
    assert_eq!(phones[0].id, bound.id);
    assert_eq!(phones[0].revoked_ms, None);
    let refusals = w.refusals(GOOD).await;
    assert_eq!(refusals.len(), 5, "{refusals:?}");
    assert!(refusals.iter().all(|r| r == "holder_suspended"), "{refusals:?}");
    assert!(w.audit().await.iter().any(|(h, a, o, d)| h.as_deref() == Some(GOOD)
        && a == "identity.suspend"
        && o == "ok"
        && d.as_deref() == Some("reason=card reported stolen")));

    assert!(w.store.identity_resume(GOOD, Some("cli")).await.unwrap());
    assert!(!w.store.identity_resume(GOOD, None).await.unwrap(), "not suspended any more");
    assert!(w.audit().await.iter().any(|(_, a, o, _)| a == "identity.resume" && o == "ok"));
    let mut pc = w.browser();
    assert_eq!(jma_login(&mut pc, "100001", "CARD0001").await.status, StatusCode::OK);
    let (mut change_pc, proved) = change(&w, &mut phone, GOOD).await;
    assert_eq!(proved.status, StatusCode::OK, "{:?}", proved.body);
    assert_eq!(granted(&mut change_pc).await, None, "no grant before the PC enters the code");
    confirm(&mut change_pc, &proved).await;
    assert_eq!(granted(&mut change_pc).await.as_deref(), Some(GOOD));
    assert!(issue_link(&w.store, &w.config, &HpkiId::parse(GOOD).unwrap(), 90, true).await.is_ok());
}

/// The holder's current certificate ran out: refused on the paths without the card, until a
/// card login with a renewed certificate records the new one.
async fn an_expired_current_certificate_is_refused_until_a_renewed_card_logs_in(db: Db) {
    let w = world(db).await;
    // Re-import GOOD with a certificate that runs out in 2030 (a renewal the CA registered).
    let short = w.cert("good holder", 1002, 2030);
    let changes = w.import(&[w.row(GOOD, "JMA", "100001", "CARD0001", &short)], false).await;
    assert!(
        matches!(&changes.unwrap()[..], [ImportChange::Changed { fields, .. }] if fields == &["certificate"])
    );
    let mut pc = w.browser();
    assert_eq!(jma_login(&mut pc, "100001", "CARD0001").await.status, StatusCode::OK);
    // Past 2030 (the clock the server reads, moved forward).
    let to_2031 = (rcgen::date_time_ymd(2031, 1, 1).unix_timestamp() * 1000) - w.clock.now_ms();
    w.clock.advance_ms(to_2031);
    let mut pc = w.browser();
    refused(&jma_login(&mut pc, "100001", "CARD0001").await, ErrorCode::CertificateExpired);
    assert_eq!(granted(&mut pc).await, None);
    assert_eq!(w.refusals(GOOD).await, ["certificate_expired"]);
    // The renewed card (valid to 2099) logs in: its certificate is now the holder's.
    w.card_pc(&w.good_cert()).await;
    assert!(w.audit().await.iter().any(|(_, a, o, d)| a == "hpki.certificate"
        && o == "ok"
        && d.as_deref().is_some_and(|d| d.contains("3e9"))));
    let mut pc = w.browser();
    assert_eq!(jma_login(&mut pc, "100001", "CARD0001").await.status, StatusCode::OK);
}

/// The CA publishes a CRL revoking a holder: after a reload (no restart) the JMA path refuses.
async fn a_new_crl_takes_effect_after_a_reload(db: Db) {
    let w = world(db).await;
    let mut pc = w.browser();
    assert_eq!(jma_login(&mut pc, "100001", "CARD0001").await.status, StatusCode::OK);
    let keys = pki::keys();
    w.write_crl(
        "hpki",
        crl(&w.ca, &keys.hpki_ca, &[REVOKED_SERIAL, GOOD_SERIAL], FRESH_THIS, FRESH_NEXT),
    );
    // Not yet: the server still holds the CRL it loaded.
    let mut pc = w.browser();
    assert_eq!(jma_login(&mut pc, "100001", "CARD0001").await.status, StatusCode::OK);
    w.state.reload_crls();
    let mut pc = w.browser();
    refused(&jma_login(&mut pc, "100001", "CARD0001").await, ErrorCode::CertificateRevoked);
    // A CRL file that does not verify (another CA's signature) is not taken: the last good one
    // stays, so the holder stays revoked rather than slipping through.
    w.write_crl("hpki", crl(&w.ca, &keys.rogue_ca, &[], FRESH_THIS, FRESH_NEXT));
    w.state.reload_crls();
    refused(
        &jma_login(&mut w.browser(), "100001", "CARD0001").await,
        ErrorCode::CertificateRevoked,
    );
    // The CA un-revokes (a new, good CRL): accepted again.
    w.write_crl("hpki", crl(&w.ca, &keys.hpki_ca, &[REVOKED_SERIAL], FRESH_THIS, FRESH_NEXT));
    w.state.reload_crls();
    assert_eq!(jma_login(&mut w.browser(), "100001", "CARD0001").await.status, StatusCode::OK);
}

/// One CA's CRL past its nextUpdate fails closed for that CA's holders only, with its own code.
async fn a_stale_crl_fails_closed_for_its_own_ca_only(db: Db) {
    let w = world(db).await;
    let keys = pki::keys();
    w.write_crl("hpki", crl(&w.ca, &keys.hpki_ca, &[], "20240101000000Z", Some("20250101000000Z")));
    w.state.reload_crls();
    refused(&jma_login(&mut w.browser(), "100001", "CARD0001").await, ErrorCode::CrlOutdated);
    // Its card is refused the same way (the card path checks the same list).
    let a = w.browser().hpki_login(&w.good_cert(), &keys.holder, ORIGIN).await;
    refused(&a, ErrorCode::CrlOutdated);
    // The second CA's holder is untouched.
    let mut pc = w.browser();
    assert_eq!(jma_login(&mut pc, "200001", "CARD2001").await.status, StatusCode::OK);
    assert_eq!(granted(&mut pc).await.as_deref(), Some(OTHER_CA));
    assert_eq!(w.refusals(GOOD).await, ["crl_outdated"]);
}

/// A CRL that names no nextUpdate is current for `crl_max_age_secs` after its thisUpdate, then
/// fails closed.
async fn a_crl_without_next_update_goes_stale_after_the_max_age(db: Db) {
    let w = world(db).await;
    let keys = pki::keys();
    let now = w.clock.now_ms() / 1000;
    let this = time_string(now - 3600);
    w.write_crl("hpki", crl(&w.ca, &keys.hpki_ca, &[], &this, None));
    w.state.reload_crls();
    // An hour old, max age seven days: current.
    assert_eq!(jma_login(&mut w.browser(), "100001", "CARD0001").await.status, StatusCode::OK);
    w.clock.advance_ms(w.config.crl_max_age_secs * 1000);
    refused(&jma_login(&mut w.browser(), "100001", "CARD0001").await, ErrorCode::CrlOutdated);
    assert_eq!(jma_login(&mut w.browser(), "200001", "CARD2001").await.status, StatusCode::OK);
}

/// `identity import` never silently remaps a certificate: another issuer/subject for a holder,
/// or a certificate already mapped to another holder, is refused (nothing written) unless
/// `--force`, which is audited (and suspends the holder the certificate was taken from).
async fn import_refuses_a_silent_remap_and_audits_a_forced_one(db: Db) {
    let w = world(db).await;
    let before = w.store.identity_get(GOOD).await.unwrap().unwrap();
    let imports_before = w.audit().await.iter().filter(|(_, a, ..)| a == "identity.import").count();
    assert_eq!(imports_before, 3, "one audit row per holder added");

    // GOOD now named with another subject (a different card holder's name).
    let other_subject = w.cert("someone else", 4242, 2099);
    let new_holder = w.row("JMA-0000009", "JMA", "100009", "CARD0009", &w.cert("new", 9, 2099));
    let remap = [new_holder.clone(), w.row(GOOD, "JMA", "100001", "CARD0001", &other_subject)];
    let r = w.import(&remap, false).await;
    assert!(matches!(&r, Err(ImportRefusal::Remap { hpki_id }) if hpki_id == GOOD), "{r:?}");
    // Nothing of the file was written, not even the new holder before it.
    assert_eq!(w.store.identity_get(GOOD).await.unwrap().unwrap(), before);
    assert!(w.store.identity_get("JMA-0000009").await.unwrap().is_none());

    // A new holder given the revoked holder's certificate: taken from another holder.
    let revoked_cert = w.cert("revoked", REVOKED_SERIAL, 2099);
    let taken = [w.row("JMA-0000008", "JMA", "100008", "CARD0008", &revoked_cert)];
    let r = w.import(&taken, false).await;
    assert!(
        matches!(&r, Err(ImportRefusal::CertificateTaken { other, .. }) if other == REVOKED),
        "{r:?}"
    );
    assert!(w.store.identity_get("JMA-0000008").await.unwrap().is_none());

    // With --force: remapped, audited as forced, and the card with the new subject logs in as GOOD.
    let changes = w.import(&remap, true).await.unwrap();
    assert!(matches!(&changes[0], ImportChange::Added(_)));
    assert!(matches!(&changes[1], ImportChange::Changed { fields, .. }
        if fields.contains(&"certificate_names")));
    let audit = w.audit().await;
    assert!(
        audit.iter().any(|(h, a, _, d)| h.as_deref() == Some(GOOD)
            && a == "identity.import"
            && d.as_deref().is_some_and(|d| d.contains("forced=remapped"))),
        "{audit:?}"
    );
    let mut pc = w.card_pc(&other_subject).await;
    let s = pc.send("GET", "/api/session", None).await;
    assert_eq!(s.body["holder"]["hpki_id"], GOOD);

    // Re-importing the same register changes nothing and writes no audit row.
    let n = w.audit().await.len();
    let same = w.import(&remap, false).await.unwrap();
    assert!(same.iter().all(|c| matches!(c, ImportChange::Unchanged(_))), "{same:?}");
    assert_eq!(w.audit().await.len(), n);

    // Forced move of a certificate from another holder: that holder is suspended, unmapped.
    let other_cert = w.other_cert();
    let moved = [w.row("JMA-0000009", "JMA", "100009", "CARD0009", &other_cert)];
    w.import(&moved, true).await.unwrap();
    let mut pc = w.card_pc(&other_cert).await;
    let s = pc.send("GET", "/api/session", None).await;
    assert_eq!(s.body["holder"]["hpki_id"], "JMA-0000009");
    refused(&jma_login(&mut w.browser(), "200001", "CARD2001").await, ErrorCode::HolderSuspended);
    assert!(w.audit().await.iter().any(|(h, a, _, d)| h.as_deref() == Some(OTHER_CA)
        && a == "identity.suspend"
        && d.as_deref().is_some_and(|d| d.contains("JMA-0000009"))));
}

on_both_databases!(
    the_operator_sees_suspended_bindings,
    a_revoked_holder_cannot_use_the_jma_path,
    suspension_stops_every_path_without_the_card_and_resume_restores_them,
    an_expired_current_certificate_is_refused_until_a_renewed_card_logs_in,
    a_new_crl_takes_effect_after_a_reload,
    a_stale_crl_fails_closed_for_its_own_ca_only,
    a_crl_without_next_update_goes_stale_after_the_max_age,
    import_refuses_a_silent_remap_and_audits_a_forced_one,
);

// ---- The real binary: SIGHUP, and what the operator's commands print. ----

/// The operator's view: `identity suspend`, `binding list` and `identity show` say a holder's
/// bindings are suspended and why, `identity resume` lifts it; `identity import` without
/// `--force` refuses a remap. Through the real binary, on both databases.
async fn the_operator_sees_suspended_bindings(db: Db) {
    let w = world(db).await;
    let db_url = match db {
        Db::Sqlite => None,
        Db::Postgres => Some(common::postgres::fresh_database_url().await),
    };
    let data = w.dir.path().join("cli-data");
    let config_path = w.dir.path().join("server.toml");
    let trust = &w.config.hpki_trust[0];
    std::fs::write(
        &config_path,
        format!(
            "public_origin = {ORIGIN:?}\n[[hpki_trust]]\nca_cert = {:?}\npolicies = [{HPKI_POLICY_STR:?}]\ncrls = [{:?}]\n",
            trust.ca_cert, trust.crls[0]
        ),
    )
    .unwrap();
    let register = w.dir.path().join("register.json");
    let rows = [
        w.row(GOOD, "JMA", "100001", "CARD0001", &w.good_cert()),
        w.row(REVOKED, "JMA", "100004", "CARD0004", &w.cert("revoked", REVOKED_SERIAL, 2099)),
    ];
    std::fs::write(&register, serde_json::to_string(&rows).unwrap()).unwrap();
    let run = |args: &[&str]| cli(&config_path, &data, db_url.as_deref(), args);
    let (ok, _, err) = run(&["identity", "import", register.to_str().unwrap()]);
    assert!(ok, "{err}");

    // The revoked holder: suspended by its certificate.
    let (ok, out, err) = run(&["identity", "show", REVOKED]);
    assert!(ok, "{err}");
    let show: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(show["standing"], "suspended");
    assert!(show["suspended_because"].as_str().unwrap().contains("revoked"), "{show}");

    // A My Number binding for GOOD (written directly: the card flows are tested elsewhere).
    let store = match &db_url {
        None => Store::open_sqlite(&data).await.unwrap(),
        Some(url) => Store::open_postgres(url).await.unwrap(),
    };
    store
        .bind_mynumber(
            &mahpki_server::store::NewMyNumberBinding {
                hpki_id: GOOD.into(),
                cert_issuer: "CN=JPKI".into(),
                cert_serial: "01".into(),
                fingerprint: "ab".repeat(32),
                not_after_ms: 4_000_000_000_000,
                certificate: vec![1, 2, 3],
            },
            None,
        )
        .await
        .unwrap();
    let list = |run: &CliRun<'_>| {
        let (ok, out, err) = run(&["binding", "list", "--hpki-id", GOOD]);
        assert!(ok, "{err}");
        serde_json::from_str::<serde_json::Value>(out.trim()).unwrap()
    };
    assert_eq!(list(&run)["status"], "active");
    let (ok, _, err) = run(&["identity", "suspend", GOOD, "--reason", "stolen card"]);
    assert!(ok, "{err}");
    let b = list(&run);
    assert_eq!(b["status"], "suspended");
    assert!(b["suspended_because"].as_str().unwrap().contains("stolen card"), "{b}");
    let (_, out, _) = run(&["identity", "show", GOOD]);
    let show: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(show["mynumber_bindings"][0]["status"], "suspended");
    let (ok, _, err) = run(&["identity", "resume", GOOD]);
    assert!(ok, "{err}");
    assert_eq!(list(&run)["status"], "active");
    let (ok, _, _) = run(&["identity", "resume", GOOD]);
    assert!(!ok, "resuming a holder in good standing is an error");

    // A remap through the CLI: refused without --force, then accepted with it.
    let remapped = [w.row(GOOD, "JMA", "100001", "CARD0001", &w.cert("renamed", 77, 2099))];
    std::fs::write(&register, serde_json::to_string(&remapped).unwrap()).unwrap();
    let (ok, _, err) = run(&["identity", "import", register.to_str().unwrap()]);
    assert!(!ok && err.contains("--force"), "{err}");
    let (ok, _, err) = run(&["identity", "import", "--force", register.to_str().unwrap()]);
    assert!(ok, "{err}");
    let log = store.audit_tail(100).await.unwrap();
    let actions: Vec<_> = log.iter().map(|r| r.action.as_str()).collect();
    for a in ["identity.import", "identity.suspend", "identity.resume"] {
        assert!(actions.contains(&a), "{a}: {actions:?}");
    }
    store.close().await;
}

/// SIGHUP makes the running server read its CRL files again: a holder revoked in the new file
/// is refused on the JMA path without a restart. The timer is off, so only the signal reloads.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_crls_of_the_running_server() {
    let files = OneHolder::new("");
    let mut server = files.serve(1);
    let addr = server.addr.clone();
    let body = OneHolder::LOGIN;
    assert_eq!(request(&addr, "POST", "/api/jma/login", body).await.status, 200);
    files.write_crl(&[OneHolder::SERIAL], "20990101000000Z");
    assert_eq!(request(&addr, "POST", "/api/jma/login", body).await.status, 200, "no reload yet");
    server.signal(libc::SIGHUP);
    // Wait for the server to say it reloaded (its log), not for a time.
    assert!(server.await_log("CRLs reloaded").await, "the server stopped before reloading");
    let answer = request(&addr, "POST", "/api/jma/login", body).await;
    let rest = server.stop();
    assert_eq!(answer.status, 400, "{answer:?} {rest}");
    assert!(answer.body.contains("certificate_revoked"), "{answer:?}");
}
