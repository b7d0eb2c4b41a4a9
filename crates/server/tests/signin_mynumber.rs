//! Signing in with the My Number card (the JPKI 利用者証明用 certificate of a card bound by 別紙1)
//! through the real router, on SQLite and PostgreSQL: from a browser nobody has signed in on,
//! the session it begins, and each refusal with its own code and audit row — a card never bound,
//! a replaced or revoked binding, a suspended holder, a revoked or expired certificate, a wrong
//! signature, a replayed challenge, and a challenge issued for another purpose. Revoking or
//! replacing the binding ends the sessions begun with it.

mod common;

use axum::http::StatusCode;
use common::{
    Db,
    browser::{Answer, Browser},
    pki::{self, REVOKED_SERIAL},
    world::*,
};
use mahpki_protocol::{
    ErrorCode,
    api::{SignInFactor, SignedIn},
};
use mahpki_server::store::NewMyNumberBinding;
use sha2::Digest as _;
use x509_parser::prelude::*;

const CHALLENGE: &str = "/api/signin/mynumber/challenge";
const SIGN_IN: &str = "/api/signin/mynumber";

/// Binds `cert` to the holder through 別紙1 (HPKI card first, then the My Number card).
async fn bind(w: &World, cert: &[u8]) -> i64 {
    let mut pc = w.pc().await;
    let c = pc.challenge("/api/mynumber/challenge").await;
    let sig = pki::keys().holder.sign_challenge(ORIGIN, &c);
    let a = pc.finish("/api/mynumber/finish", &c, cert, &sig).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    w.store.mynumber_active(HOLDER).await.unwrap().unwrap().id
}

/// The card's answer to a sign-in challenge taken by `b`.
async fn sign_in(b: &mut Browser, cert: &[u8]) -> Answer {
    let c = b.challenge(CHALLENGE).await;
    let sig = pki::keys().holder.sign_challenge(ORIGIN, &c);
    b.finish(SIGN_IN, &c, cert, &sig).await
}

async fn signed_in(w: &World, cert: &[u8]) -> Browser {
    let mut b = Browser::new(&w.app);
    let a = sign_in(&mut b, cert).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    b
}

async fn current(b: &mut Browser) -> Option<ErrorCode> {
    b.send("GET", "/api/signin", None).await.code()
}

async fn open_sessions(w: &World) -> usize {
    w.store.signing_sessions_of(HOLDER, w.clock.now_ms()).await.unwrap().len()
}

/// `a` is refused with `code`, begins nothing, and left its audit row (for `hpki_id`, if the
/// card's holder is known).
async fn refused_with(w: &World, b: &Browser, a: &Answer, code: ErrorCode, hpki_id: Option<&str>) {
    assert_eq!(a.code(), Some(code), "{:?}", a.body);
    assert_eq!(a.status.as_u16(), code.http_status());
    assert!(b.signin.is_none(), "{code:?} set a signing cookie");
    let log = w.store.audit_tail(100).await.unwrap();
    assert!(
        log.iter().any(|r| r.action == "signin"
            && r.outcome == code.wire()
            && r.detail.as_deref() == Some("factor=mynumber")
            && r.hpki_id.as_deref() == hpki_id),
        "{code:?} not audited: {log:?}"
    );
}

async fn the_bound_card_signs_in_from_an_anonymous_browser(db: Db) {
    let w = world(db).await;
    let card = w.jpki_cert(0x5001);
    let binding = bind(&w, &card).await;
    let mut b = Browser::new(&w.app);
    let a = sign_in(&mut b, &card).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let s: SignedIn = serde_json::from_value(a.body).unwrap();
    assert_eq!((s.holder.hpki_id.as_str(), s.factor), (HOLDER, SignInFactor::Mynumber));
    assert_eq!(s.until - s.since, 18 * 3600);
    assert_eq!(current(&mut b).await, None);
    let open = w.store.signing_sessions_of(HOLDER, w.clock.now_ms()).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!((open[0].mynumber_id, open[0].amr.as_str()), (Some(binding), "sc pin mfa"));
    let log = w.store.audit_tail(1).await.unwrap();
    assert_eq!(
        (log[0].action.as_str(), log[0].outcome.as_str(), log[0].detail.as_deref()),
        ("signin", "ok", Some("factor=mynumber"))
    );
    // The My Number card does not identify the page session: changing the holder's bindings
    // still needs the HPKI card.
    assert!(!b.is_authenticated().await);
    let a = b.send("POST", "/api/mynumber/challenge", None).await;
    assert_eq!(a.code(), Some(ErrorCode::Unauthenticated));
    // Sign-out ends it.
    assert_eq!(b.send("POST", "/api/signin/end", None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(open_sessions(&w).await, 0);
}

async fn a_card_with_no_binding_is_refused(db: Db) {
    let w = world(db).await;
    // A valid My Number card of someone (or the holder) who never did 別紙1.
    let mut b = Browser::new(&w.app);
    let a = sign_in(&mut b, &w.jpki_cert(0x5001)).await;
    refused_with(&w, &b, &a, ErrorCode::MyNumberNotBound, None).await;
    assert!(ErrorCode::MyNumberNotBound.remedy().ja.contains("別紙1"));
    // Nor is a binding of another card of the holder enough.
    bind(&w, &w.jpki_cert(0x5002)).await;
    let mut b = Browser::new(&w.app);
    let a = sign_in(&mut b, &w.jpki_cert(0x5001)).await;
    refused_with(&w, &b, &a, ErrorCode::MyNumberNotBound, None).await;
    assert_eq!(open_sessions(&w).await, 0);
}

async fn a_replaced_card_is_refused_and_its_sessions_end(db: Db) {
    let w = world(db).await;
    let (old, new) = (w.jpki_cert(0x5001), w.jpki_cert(0x5002));
    bind(&w, &old).await;
    let mut with_old = signed_in(&w, &old).await;
    // The renewed card is bound (別紙1 again): the old binding is replaced.
    bind(&w, &new).await;
    assert_eq!(current(&mut with_old).await, Some(ErrorCode::NotSignedIn));
    let mut b = Browser::new(&w.app);
    let a = sign_in(&mut b, &old).await;
    refused_with(&w, &b, &a, ErrorCode::MyNumberBindingEnded, Some(HOLDER)).await;
    let mut with_new = signed_in(&w, &new).await;
    assert_eq!(current(&mut with_new).await, None);
    assert_eq!(open_sessions(&w).await, 1);
}

async fn revoking_the_binding_ends_the_sessions_begun_with_it(db: Db) {
    let w = world(db).await;
    let card = w.jpki_cert(0x5001);
    let binding = bind(&w, &card).await;
    let mut one = signed_in(&w, &card).await;
    let mut two = signed_in(&w, &card).await;
    // A session begun with the HPKI card does not hang on the binding.
    let mut hpki = Browser::new(&w.app);
    let c = hpki.challenge("/api/hpki/challenge").await;
    let sig = pki::keys().holder.sign_challenge(ORIGIN, &c);
    let a = hpki.finish("/api/signin/hpki", &c, &w.hpki_cert(), &sig).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(open_sessions(&w).await, 3);
    assert!(w.store.mynumber_revoke(binding, "operator").await.unwrap());
    assert_eq!(current(&mut one).await, Some(ErrorCode::NotSignedIn));
    assert_eq!(current(&mut two).await, Some(ErrorCode::NotSignedIn));
    assert_eq!(current(&mut hpki).await, None);
    assert_eq!(open_sessions(&w).await, 1);
    let mut b = Browser::new(&w.app);
    let a = sign_in(&mut b, &card).await;
    refused_with(&w, &b, &a, ErrorCode::MyNumberBindingEnded, Some(HOLDER)).await;
}

async fn a_suspended_holder_cannot_sign_in_with_the_card(db: Db) {
    let w = world(db).await;
    let card = w.jpki_cert(0x5001);
    bind(&w, &card).await;
    let mut before = signed_in(&w, &card).await;
    assert!(w.store.identity_suspend(HOLDER, "test", None).await.unwrap());
    assert_eq!(current(&mut before).await, Some(ErrorCode::NotSignedIn));
    let mut b = Browser::new(&w.app);
    let a = sign_in(&mut b, &card).await;
    refused_with(&w, &b, &a, ErrorCode::HolderSuspended, Some(HOLDER)).await;
    assert!(w.store.identity_resume(HOLDER, None).await.unwrap());
    signed_in(&w, &card).await;
}

/// Binds `cert` as 別紙1 would have while it was still good (J-LIS revoked it afterwards).
async fn bound_before_revocation(w: &World, cert: &[u8]) {
    let (_, c) = X509Certificate::from_der(cert).unwrap();
    let new = NewMyNumberBinding {
        hpki_id: HOLDER.into(),
        cert_issuer: c.issuer().to_string(),
        cert_serial: c.raw_serial().iter().map(|b| format!("{b:02x}")).collect(),
        fingerprint: sha2::Sha256::digest(cert).iter().map(|b| format!("{b:02x}")).collect(),
        not_after_ms: c.validity().not_after.timestamp() * 1000,
        certificate: cert.to_vec(),
    };
    w.store.bind_mynumber(&new, None).await.unwrap();
}

async fn a_revoked_card_certificate_is_refused(db: Db) {
    let w = world(db).await;
    let card = w.jpki_cert(REVOKED_SERIAL);
    bound_before_revocation(&w, &card).await;
    let mut b = Browser::new(&w.app);
    let a = sign_in(&mut b, &card).await;
    refused_with(&w, &b, &a, ErrorCode::CertificateRevoked, None).await;
    assert_eq!(open_sessions(&w).await, 0);
}

async fn an_expired_card_certificate_is_refused(db: Db) {
    let w = world(db).await;
    let card = w.jpki_cert_with(0x5001, |mut p| {
        p.not_after = rcgen::date_time_ymd(2031, 1, 1);
        p
    });
    bind(&w, &card).await;
    signed_in(&w, &card).await;
    // 2031-01-01T00:00:01Z: the card has expired, the HPKI certificate (2099) has not.
    w.clock.advance_ms(1_924_992_001_000 - w.clock.now_ms());
    let mut b = Browser::new(&w.app);
    let a = sign_in(&mut b, &card).await;
    refused_with(&w, &b, &a, ErrorCode::CertificateExpired, None).await;
}

async fn a_wrong_signature_signs_nobody_in(db: Db) {
    let w = world(db).await;
    let card = w.jpki_cert(0x5001);
    bind(&w, &card).await;
    let keys = pki::keys();
    for (key, origin) in [(&keys.rogue_ca, ORIGIN), (&keys.holder, "https://phish.example")] {
        let mut b = Browser::new(&w.app);
        let c = b.challenge(CHALLENGE).await;
        let a = b.finish(SIGN_IN, &c, &card, &key.sign_challenge(origin, &c)).await;
        refused_with(&w, &b, &a, ErrorCode::SignatureInvalid, None).await;
        // The failed attempt used the challenge up: the right answer to it is refused too.
        let a = b.finish(SIGN_IN, &c, &card, &keys.holder.sign_challenge(ORIGIN, &c)).await;
        refused_with(&w, &b, &a, ErrorCode::ChallengeUnknown, None).await;
    }
    // The HPKI card in the reader instead: not a JPKI certificate.
    let mut b = Browser::new(&w.app);
    let a = sign_in(&mut b, &w.hpki_cert()).await;
    refused_with(&w, &b, &a, ErrorCode::CertificateUntrusted, None).await;
    assert_eq!(open_sessions(&w).await, 0);
}

async fn a_replayed_challenge_is_refused(db: Db) {
    let w = world(db).await;
    let card = w.jpki_cert(0x5001);
    bind(&w, &card).await;
    let mut b = Browser::new(&w.app);
    let c = b.challenge(CHALLENGE).await;
    let sig = pki::keys().holder.sign_challenge(ORIGIN, &c);
    // Captured on the way and sent from another browser first: bound to the page that asked.
    let mut thief = Browser::new(&w.app);
    thief.challenge(CHALLENGE).await;
    let a = thief.finish(SIGN_IN, &c, &card, &sig).await;
    refused_with(&w, &thief, &a, ErrorCode::ChallengeWrongSession, None).await;
    // That attempt used it up: the holder's own answer is refused too, and so is any replay.
    let a = b.finish(SIGN_IN, &c, &card, &sig).await;
    refused_with(&w, &b, &a, ErrorCode::ChallengeUnknown, None).await;

    let c = b.challenge(CHALLENGE).await;
    let sig = pki::keys().holder.sign_challenge(ORIGIN, &c);
    assert_eq!(b.finish(SIGN_IN, &c, &card, &sig).await.status, StatusCode::OK);
    let mut again = Browser { app: w.app.clone(), cookie: b.cookie.clone(), signin: None };
    let a = again.finish(SIGN_IN, &c, &card, &sig).await;
    refused_with(&w, &again, &a, ErrorCode::ChallengeUnknown, None).await;
    assert_eq!(open_sessions(&w).await, 1);
}

async fn a_challenge_serves_only_its_purpose(db: Db) {
    let w = world(db).await;
    let card = w.jpki_cert(0x5001);
    let mut pc = w.pc().await;
    let sign = |c: &[u8]| pki::keys().holder.sign_challenge(ORIGIN, c);
    // A challenge taken to bind the card (別紙1), answered to the sign-in.
    let c = pc.challenge("/api/mynumber/challenge").await;
    let a = pc.finish(SIGN_IN, &c, &card, &sign(&c)).await;
    refused_with(&w, &pc, &a, ErrorCode::ChallengeWrongPurpose, None).await;
    assert!(w.store.mynumber_list(None).await.unwrap().is_empty());
    // A sign-in challenge answered to the binding.
    let c = pc.challenge(CHALLENGE).await;
    let a = pc.finish("/api/mynumber/finish", &c, &card, &sign(&c)).await;
    assert_eq!(a.code(), Some(ErrorCode::ChallengeWrongPurpose), "{:?}", a.body);
    assert!(w.store.mynumber_list(None).await.unwrap().is_empty());
    // Bound now; an HPKI login challenge is no sign-in challenge either.
    bind(&w, &card).await;
    let mut b = Browser::new(&w.app);
    let c = b.challenge("/api/hpki/challenge").await;
    let a = b.finish(SIGN_IN, &c, &card, &sign(&c)).await;
    refused_with(&w, &b, &a, ErrorCode::ChallengeWrongPurpose, None).await;
    // And a sign-in challenge does not log the HPKI card in.
    let c = b.challenge(CHALLENGE).await;
    let a = b.finish("/api/hpki/finish", &c, &w.hpki_cert(), &sign(&c)).await;
    assert_eq!(a.code(), Some(ErrorCode::ChallengeWrongPurpose), "{:?}", a.body);
    assert!(!b.is_authenticated().await);
    assert_eq!(open_sessions(&w).await, 0);
}

async fn a_sign_in_without_a_page_session_is_refused(db: Db) {
    let w = world(db).await;
    let card = w.jpki_cert(0x5001);
    bind(&w, &card).await;
    let mut b = Browser::new(&w.app);
    let sig = pki::keys().holder.sign_challenge(ORIGIN, &[0; 32]);
    let a = b.finish(SIGN_IN, &[0; 32], &card, &sig).await;
    refused_with(&w, &b, &a, ErrorCode::Unauthenticated, None).await;
}

on_both_databases!(
    the_bound_card_signs_in_from_an_anonymous_browser,
    a_card_with_no_binding_is_refused,
    a_replaced_card_is_refused_and_its_sessions_end,
    revoking_the_binding_ends_the_sessions_begun_with_it,
    a_suspended_holder_cannot_sign_in_with_the_card,
    a_revoked_card_certificate_is_refused,
    an_expired_card_certificate_is_refused,
    a_wrong_signature_signs_nobody_in,
    a_replayed_challenge_is_refused,
    a_challenge_serves_only_its_purpose,
    a_sign_in_without_a_page_session_is_refused,
);
