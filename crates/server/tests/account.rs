//! The holder's own page (登録状況) through the real router, on SQLite and PostgreSQL: what it
//! shows after an HPKI card sign-in with a bound My Number card and phone, each action and its
//! audit row, and each refusal an attacker would try (no sign-in, another holder's ids, an item
//! already ended, a foreign origin), each changing nothing.

mod common;

use std::sync::Arc;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use common::{Db, browser::Browser, pki, world::*};
use http_body_util::BodyExt as _;
use mahpki_protocol::{
    ErrorBody, ErrorCode, HpkiId,
    account::{Account, AccountDone},
    api::{Ca, Holder, Qualification, SignInFactor},
    audit::AuditAction,
};
use mahpki_server::{
    events::Events,
    pki::TrustStore,
    service::{
        Ctx,
        signin::{self, Proof},
    },
    store::{IdentityRecord, NewMyNumberBinding},
};

const OTHER: &str = "JMA-0000002";
const PHONE_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) \
                        AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

/// The holder's PC signed in with the HPKI card (`POST /api/signin/hpki`).
async fn signed_in_pc(w: &World) -> Browser {
    let mut b = Browser::new(&w.app);
    let c = b.challenge("/api/hpki/challenge").await;
    let sig = pki::keys().holder.sign_challenge(ORIGIN, &c);
    let a = b.finish("/api/signin/hpki", &c, &w.hpki_cert(), &sig).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert!(b.signin.is_some());
    b
}

/// Binds a My Number card to `hpki_id` in the store (the HTTP way is tested in auth.rs); its
/// row id.
async fn bind_mynumber(w: &World, hpki_id: &str, serial: &str) -> i64 {
    let new = NewMyNumberBinding {
        hpki_id: hpki_id.into(),
        cert_issuer: "C=JP, O=JPKI, OU=JPKI for user authentication, OU=Japan Agency for Local \
                      Authority Information Systems"
            .into(),
        cert_serial: serial.into(),
        fingerprint: format!("fp-{hpki_id}-{serial}"),
        not_after_ms: 1_900_000_000_000,
        certificate: vec![0x30, 0x00],
    };
    w.store.bind_mynumber(&new, None).await.unwrap();
    w.store.mynumber_active(hpki_id).await.unwrap().unwrap().id
}

/// Enrols the holder's phone through 別紙2 (a PC identified by the card, a soft passkey); its
/// row id.
async fn enrol_phone(w: &World) -> i64 {
    let mut pc = w.pc().await;
    w.phone().enrol_from(&mut pc, false).await;
    w.store.phone_active(HOLDER).await.unwrap().unwrap().id
}

/// A signing session begun by the service directly, as another way in would (the passkey and
/// My Number sign-in endpoints are built on other branches), on a browser of its own.
async fn begin(w: &World, hpki_id: &str, proof: Proof, ua: &str) -> (Browser, String) {
    let events = Events::local();
    let ctx = Ctx {
        store: &w.store,
        config: &w.config,
        webauthn: None,
        events: &events,
        secret: None,
        hpki_trust: Arc::new(TrustStore::load(std::slice::from_ref(&w.hpki_trust)).unwrap()),
        now_ms: w.clock.now_ms(),
    };
    let hpki_id = HpkiId::parse(hpki_id).unwrap();
    let begun = signin::begin(&ctx, &hpki_id, proof, Some(ua), None, None).await.unwrap();
    let mut b = Browser::new(&w.app);
    b.signin = Some(format!("__Host-mahpki_signin={}", begun.cookie.as_str()));
    (b, begun.session.sid)
}

/// A second holder, in good standing, with their own sign-in.
async fn other_holder(w: &World) -> Browser {
    use x509_parser::prelude::*;
    // Issued by the same CA (the standing check finds the anchor by the issuer).
    let keys = pki::keys();
    let params = pki::ee_params("HPKI holder 2", 1002, pki::HPKI_POLICY);
    let cert = pki::issue(&params, &keys.holder, &w.hpki_ca.params, &keys.hpki_ca);
    let (_, c) = X509Certificate::from_der(&cert).unwrap();
    w.store
        .identity_upsert(&IdentityRecord {
            holder: Holder {
                hpki_id: HpkiId::parse(OTHER).unwrap(),
                ca: Ca::Jma,
                qualification: Qualification::Doctor,
                name_kanji: "医師 次郎".into(),
                name_kana: "イシ ジロウ".into(),
                name_roman: "ISHI JIRO".into(),
            },
            registration_number: "654321".into(),
            hpki_card_mac: SECRET.card_id_mac("654321", "HPKI0002").to_vec(),
            cert_issuer: c.issuer().as_raw().to_vec(),
            cert_subject: c.subject().as_raw().to_vec(),
        })
        .await
        .unwrap();
    common::record_certificate(&w.store, OTHER, &cert).await;
    begin(w, OTHER, Proof::HpkiCard, "Mozilla/5.0 (Windows NT 10.0) Firefox/132.0").await.0
}

async fn page(b: &mut Browser) -> Account {
    let a = b.send("GET", "/api/account", None).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    serde_json::from_value(a.body).unwrap()
}

async fn act(b: &mut Browser, path: &str) -> Result<AccountDone, ErrorCode> {
    let a = b.send("POST", path, None).await;
    match a.status {
        StatusCode::OK => Ok(serde_json::from_value(a.body).unwrap()),
        _ => Err(a.code().unwrap_or_else(|| panic!("untyped refusal {:?}", a.body))),
    }
}

/// The holder's audit rows of `action`, oldest first: (outcome, client).
async fn rows(w: &World, hpki_id: &str, action: AuditAction) -> Vec<(String, Option<String>)> {
    let log = w.store.audit_tail(500).await.unwrap();
    log.into_iter()
        .filter(|r| r.hpki_id.as_deref() == Some(hpki_id) && r.action == action.as_str())
        .map(|r| (r.outcome, r.client))
        .collect()
}

async fn open_sids(w: &World, hpki_id: &str) -> Vec<String> {
    let open = w.store.signing_sessions_of(hpki_id, w.clock.now_ms()).await.unwrap();
    open.into_iter().map(|s| s.sid).collect()
}

async fn the_page_shows_what_is_registered(db: Db) {
    let w = world(db).await;
    let binding = bind_mynumber(&w, HOLDER, "5001").await;
    let phone = enrol_phone(&w).await;
    w.clock.advance_ms(60_000);
    let (_, phone_sid) =
        begin(&w, HOLDER, Proof::Passkey { phone, backed_up: false }, PHONE_UA).await;
    w.clock.advance_ms(60_000);
    let mut pc = signed_in_pc(&w).await;
    let p = page(&mut pc).await;
    assert_eq!(p.holder.hpki_id.as_str(), HOLDER);
    assert_eq!(p.holder.name_kanji, "医師 花子");
    assert_eq!(p.holder.ca, Ca::Jma);
    let m = p.mynumber.clone().expect("the bound card");
    assert_eq!((m.id, m.serial.as_str(), m.not_after), (binding, "5001", 1_900_000_000));
    assert!(m.issuer.contains("JPKI"), "{}", m.issuer);
    assert!(m.since > 0 && m.since <= w.clock.now_ms() / 1000);
    assert_eq!(p.phones.len(), 1);
    let ph = &p.phones[0];
    assert_eq!((ph.id, ph.label.as_str(), ph.ended), (phone, "私のスマートフォン", None));
    // Last used: when the passkey session began (a minute before the PC's sign-in).
    assert_eq!(ph.last_used, Some(w.clock.now_ms() / 1000 - 60));
    // Both sessions, newest first; this browser's is marked, and no cookie is in the answer.
    assert_eq!(p.sessions.len(), 2, "{:?}", p.sessions);
    let (mine, phone_s) = (&p.sessions[0], &p.sessions[1]);
    assert!(mine.this_browser && !phone_s.this_browser);
    assert_eq!(mine.factor, SignInFactor::HpkiCard);
    assert_eq!((phone_s.factor, phone_s.sid.as_str()), (SignInFactor::Passkey, phone_sid.as_str()));
    assert_eq!(phone_s.browser, "Safari / iPhone");
    assert_eq!(mine.until - mine.since, 18 * 3600);
    let json = serde_json::to_string(&p).unwrap();
    let cookie = pc.signin.as_ref().unwrap().split('=').nth(1).unwrap().to_owned();
    assert!(!json.contains(&cookie), "the cookie never reaches the page");
    // The holder's events, newest first: the sign-ins name their way in.
    let actions: Vec<AuditAction> = p.events.iter().map(|e| e.action).collect();
    assert_eq!(actions[0], AuditAction::SignIn, "{actions:?}");
    assert_eq!(p.events[0].factor, Some(SignInFactor::HpkiCard));
    assert_eq!(p.events[1].factor, Some(SignInFactor::Passkey));
    assert!(actions.contains(&AuditAction::PhoneBind), "{actions:?}");
    assert!(actions.contains(&AuditAction::MyNumberBind), "{actions:?}");
    assert!(p.events.iter().all(|e| e.refused.is_none()));
    assert!(p.events.windows(2).all(|e| e[0].at >= e[1].at));
    // Never more than 20, and never another holder's.
    let mut other = other_holder(&w).await;
    for _ in 0..25 {
        let _ = act(&mut other, "/api/account/phones/999999/revoke").await;
    }
    for _ in 0..21 {
        signed_in_pc(&w).await;
    }
    let p = page(&mut pc).await;
    assert_eq!(p.events.len(), 20);
    let theirs = page(&mut other).await;
    assert!(theirs.mynumber.is_none() && theirs.phones.is_empty());
    assert_eq!(theirs.events.len(), 20);
    assert!(theirs.events.iter().all(|e| e.refused == Some(ErrorCode::AccountItemUnknown)));
}

async fn the_page_needs_the_signing_session(db: Db) {
    let w = world(db).await;
    let binding = bind_mynumber(&w, HOLDER, "5001").await;
    let phone = enrol_phone(&w).await;
    let (_, sid) = begin(&w, HOLDER, Proof::HpkiCard, "x").await;
    // A PC identified by the card for 別紙2 (the page session) is not signed in.
    let mut pc = w.pc().await;
    let a = pc.send("GET", "/api/account", None).await;
    assert_eq!((a.status, a.code()), (StatusCode::UNAUTHORIZED, Some(ErrorCode::NotSignedIn)));
    for path in [
        format!("/api/account/phones/{phone}/revoke"),
        format!("/api/account/mynumber/{binding}/revoke"),
        format!("/api/account/sessions/{sid}/end"),
        "/api/account/sessions/end-all".into(),
    ] {
        assert_eq!(act(&mut pc, &path).await, Err(ErrorCode::NotSignedIn), "{path}");
    }
    assert!(w.store.phone_active(HOLDER).await.unwrap().is_some());
    assert!(w.store.mynumber_active(HOLDER).await.unwrap().is_some());
    assert_eq!(open_sids(&w, HOLDER).await, [sid]);
}

async fn revoking_the_phone_ends_its_sessions(db: Db) {
    let w = world(db).await;
    let phone = enrol_phone(&w).await;
    let (mut on_phone, _) =
        begin(&w, HOLDER, Proof::Passkey { phone, backed_up: false }, PHONE_UA).await;
    let mut pc = signed_in_pc(&w).await;
    assert_eq!(open_sids(&w, HOLDER).await.len(), 2);
    let path = format!("/api/account/phones/{phone}/revoke");
    let done = act(&mut pc, &path).await.unwrap();
    assert_eq!(done, AccountDone { signed_out: false, sessions_ended: 1 });
    assert!(pc.signin.is_some(), "this browser's card session goes on");
    assert!(w.store.phone_active(HOLDER).await.unwrap().is_none());
    // The phone's session is over, for its kept cookie too.
    let a = on_phone.send("GET", "/api/account", None).await;
    assert_eq!(a.code(), Some(ErrorCode::NotSignedIn));
    assert_eq!(open_sids(&w, HOLDER).await.len(), 1);
    let p = page(&mut pc).await;
    assert!(p.phones[0].ended.is_some());
    assert_eq!(p.sessions.len(), 1);
    assert_eq!(p.events[0].action, AuditAction::PhoneRevoke);
    // Once only: the second time is refused (typed), and both are audited with the client.
    assert_eq!(act(&mut pc, &path).await, Err(ErrorCode::AccountItemEnded));
    let log = rows(&w, HOLDER, AuditAction::PhoneRevoke).await;
    let outcomes: Vec<&str> = log.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(outcomes, ["ok", "account_item_ended"]);
    assert!(log.iter().all(|(_, c)| c.as_deref() != Some("cli")), "{log:?}");
}

async fn revoking_the_binding_ends_its_sessions(db: Db) {
    let w = world(db).await;
    let binding = bind_mynumber(&w, HOLDER, "5001").await;
    let mut pc = signed_in_pc(&w).await;
    let (mut by_card, _) = begin(&w, HOLDER, Proof::MyNumber { binding }, "Firefox/1").await;
    let (mut by_card_too, _) = begin(&w, HOLDER, Proof::MyNumber { binding }, "Chrome/1").await;
    // Revoked from a browser that signed in with that very card: it is signed out too.
    let path = format!("/api/account/mynumber/{binding}/revoke");
    let done = act(&mut by_card, &path).await.unwrap();
    assert_eq!(done, AccountDone { signed_out: true, sessions_ended: 2 });
    assert!(by_card.signin.is_none(), "the signing cookie is cleared");
    assert!(w.store.mynumber_active(HOLDER).await.unwrap().is_none());
    assert_eq!(
        by_card_too.send("GET", "/api/signin", None).await.code(),
        Some(ErrorCode::NotSignedIn)
    );
    // The HPKI card's session is not the binding's.
    let p = page(&mut pc).await;
    assert!(p.mynumber.is_none());
    assert_eq!(p.sessions.len(), 1);
    assert_eq!(p.events[0].action, AuditAction::MyNumberRevoke);
    assert_eq!(act(&mut pc, &path).await, Err(ErrorCode::AccountItemEnded));
    let log = rows(&w, HOLDER, AuditAction::MyNumberRevoke).await;
    let outcomes: Vec<&str> = log.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(outcomes, ["ok", "account_item_ended"]);
}

async fn the_holder_ends_sessions(db: Db) {
    let w = world(db).await;
    let (mut other_pc, other_sid) = begin(&w, HOLDER, Proof::HpkiCard, "Edg/1 Windows").await;
    let mut pc = signed_in_pc(&w).await;
    // Another device's session: ended, this one goes on.
    let done = act(&mut pc, &format!("/api/account/sessions/{other_sid}/end")).await.unwrap();
    assert_eq!(done, AccountDone { signed_out: false, sessions_ended: 1 });
    assert_eq!(
        other_pc.send("GET", "/api/signin", None).await.code(),
        Some(ErrorCode::NotSignedIn)
    );
    let again = act(&mut pc, &format!("/api/account/sessions/{other_sid}/end")).await;
    assert_eq!(again, Err(ErrorCode::AccountItemEnded));
    // This browser's own: signed out, cookie cleared.
    let mine = page(&mut pc).await.sessions[0].sid.clone();
    let done = act(&mut pc, &format!("/api/account/sessions/{mine}/end")).await.unwrap();
    assert_eq!(done, AccountDone { signed_out: true, sessions_ended: 1 });
    assert!(pc.signin.is_none());
    assert_eq!(pc.send("GET", "/api/account", None).await.code(), Some(ErrorCode::NotSignedIn));
    let log = rows(&w, HOLDER, AuditAction::SignInEnd).await;
    let outcomes: Vec<&str> = log.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(outcomes, ["ok", "account_item_ended", "ok"]);
}

async fn end_all_signs_out_everywhere(db: Db) {
    let w = world(db).await;
    let (mut a, _) = begin(&w, HOLDER, Proof::HpkiCard, "a").await;
    let (mut b, _) = begin(&w, HOLDER, Proof::HpkiCard, "b").await;
    let mut pc = signed_in_pc(&w).await;
    let mut other = other_holder(&w).await;
    let done = act(&mut pc, "/api/account/sessions/end-all").await.unwrap();
    assert_eq!(done, AccountDone { signed_out: true, sessions_ended: 3 });
    assert!(pc.signin.is_none());
    for br in [&mut a, &mut b, &mut pc] {
        assert_eq!(br.send("GET", "/api/signin", None).await.code(), Some(ErrorCode::NotSignedIn));
    }
    assert!(open_sids(&w, HOLDER).await.is_empty());
    // Another holder's sign-in is theirs.
    assert_eq!(other.send("GET", "/api/signin", None).await.status, StatusCode::OK);
    assert_eq!(rows(&w, HOLDER, AuditAction::SignInEnd).await.len(), 1);
}

async fn another_holders_ids_change_nothing(db: Db) {
    let w = world(db).await;
    let binding = bind_mynumber(&w, HOLDER, "5001").await;
    let phone = enrol_phone(&w).await;
    let (_, sid) = begin(&w, HOLDER, Proof::Passkey { phone, backed_up: true }, PHONE_UA).await;
    let mut other = other_holder(&w).await;
    let before = (open_sids(&w, HOLDER).await, w.store.phone_list(HOLDER).await.unwrap());
    let tries = [
        format!("/api/account/phones/{phone}/revoke"),
        format!("/api/account/mynumber/{binding}/revoke"),
        format!("/api/account/sessions/{sid}/end"),
        // Ids nobody has read the same.
        "/api/account/phones/999999/revoke".into(),
        "/api/account/mynumber/999999/revoke".into(),
        "/api/account/sessions/no-such-sid/end".into(),
    ];
    for path in &tries {
        assert_eq!(act(&mut other, path).await, Err(ErrorCode::AccountItemUnknown), "{path}");
    }
    assert_eq!(act(&mut other, "/api/account/phones/abc/revoke").await, Err(ErrorCode::BadRequest));
    let after = (open_sids(&w, HOLDER).await, w.store.phone_list(HOLDER).await.unwrap());
    assert_eq!(before, after);
    assert_eq!(w.store.mynumber_active(HOLDER).await.unwrap().map(|b| b.id), Some(binding));
    // The tries are in the other holder's trail, refused; nothing in the holder's.
    for action in [AuditAction::PhoneRevoke, AuditAction::MyNumberRevoke, AuditAction::SignInEnd] {
        assert!(rows(&w, HOLDER, action).await.is_empty(), "{action}");
        let theirs = rows(&w, OTHER, action).await;
        assert_eq!(theirs.len(), 2, "{action}");
        assert!(theirs.iter().all(|(o, _)| o == "account_item_unknown"), "{theirs:?}");
    }
    // The other holder's page shows none of it.
    let p = page(&mut other).await;
    assert!(p.mynumber.is_none() && p.phones.is_empty() && p.sessions.len() == 1);
}

/// A request from another site, with the holder's cookies (as a browser would send a Lax one
/// on a top-level form post).
async fn cross_site(b: &Browser, path: &str, site: Option<&str>, origin: &str) -> ErrorCode {
    let cookies: Vec<&str> =
        [&b.cookie, &b.signin].into_iter().flatten().map(String::as_str).collect();
    let mut req = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::ORIGIN, origin)
        .header(header::COOKIE, cookies.join("; "));
    if let Some(site) = site {
        req = req.header("sec-fetch-site", site);
    }
    let res =
        tower::ServiceExt::oneshot(b.app.clone(), req.body(Body::empty()).unwrap()).await.unwrap();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice::<ErrorBody>(&bytes).unwrap().error.code
}

async fn a_foreign_origin_changes_nothing(db: Db) {
    let w = world(db).await;
    let binding = bind_mynumber(&w, HOLDER, "5001").await;
    let phone = enrol_phone(&w).await;
    let mut pc = signed_in_pc(&w).await;
    let sid = page(&mut pc).await.sessions[0].sid.clone();
    for path in [
        format!("/api/account/phones/{phone}/revoke"),
        format!("/api/account/mynumber/{binding}/revoke"),
        format!("/api/account/sessions/{sid}/end"),
        "/api/account/sessions/end-all".into(),
    ] {
        for site in [Some("cross-site"), Some("same-site"), None] {
            let code = cross_site(&pc, &path, site, "https://evil.example").await;
            assert_eq!(code, ErrorCode::CsrfRejected, "{path} {site:?}");
        }
    }
    assert!(w.store.phone_active(HOLDER).await.unwrap().is_some());
    assert!(w.store.mynumber_active(HOLDER).await.unwrap().is_some());
    assert_eq!(open_sids(&w, HOLDER).await, [sid]);
}

on_both_databases!(
    the_page_shows_what_is_registered,
    the_page_needs_the_signing_session,
    revoking_the_phone_ends_its_sessions,
    revoking_the_binding_ends_its_sessions,
    the_holder_ends_sessions,
    end_all_signs_out_everywhere,
    another_holders_ids_change_nothing,
    a_foreign_origin_changes_nothing,
);
