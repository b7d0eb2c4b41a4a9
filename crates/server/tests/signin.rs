//! The daily sign-in's signing sessions through the real router, on SQLite and PostgreSQL: the
//! HPKI card way in, how long a session lasts (the CA's hours, never past the certificate), and
//! every way it ends (sign-out, a second sign-in on the same device, suspension) — each tried
//! with the cookie an attacker would have kept.

mod common;

use axum::http::StatusCode;
use common::{Db, browser::Browser, pki, world::*};
use mahpki_protocol::{
    ErrorCode,
    api::{SignInFactor, SignedIn},
};
use mahpki_server::config::CaPolicy;

const HOUR: i64 = 3600;

/// The HPKI card's answer to a challenge, sent to the sign-in endpoint.
async fn sign_in(w: &World, b: &mut Browser) -> common::browser::Answer {
    let c = b.challenge("/api/hpki/challenge").await;
    let sig = pki::keys().holder.sign_challenge(ORIGIN, &c);
    b.finish("/api/signin/hpki", &c, &w.hpki_cert(), &sig).await
}

async fn signed_in(w: &World) -> (Browser, SignedIn) {
    let mut b = Browser::new(&w.app);
    let a = sign_in(w, &mut b).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    (b, serde_json::from_value(a.body).unwrap())
}

async fn current(b: &mut Browser) -> Option<ErrorCode> {
    let a = b.send("GET", "/api/signin", None).await;
    a.code()
}

async fn open_sessions(w: &World) -> usize {
    w.store.signing_sessions_of(HOLDER, w.clock.now_ms()).await.unwrap().len()
}

async fn the_card_signs_in_for_eighteen_hours(db: Db) {
    let w = world(db).await;
    let (mut b, s) = signed_in(&w).await;
    assert_eq!(s.factor, SignInFactor::HpkiCard);
    assert_eq!(s.holder.hpki_id.as_str(), HOLDER);
    assert_eq!(s.until - s.since, 18 * HOUR, "the JMA CA's 18 hours by default");
    assert_eq!(current(&mut b).await, None);
    // The card sign-in also identifies the page session, as the card login does.
    assert!(b.is_authenticated().await);
    let log = w.actions().await;
    assert!(log.contains(&("signin".into(), "ok".into())), "{log:?}");
    // Alive until its last second, then over.
    w.clock.advance_ms((18 * HOUR - 1) * 1000);
    assert_eq!(current(&mut b).await, None);
    w.clock.advance_ms(1000);
    assert_eq!(current(&mut b).await, Some(ErrorCode::NotSignedIn));
}

async fn a_ca_sets_its_own_hours(db: Db) {
    let mut config = config();
    let policy = CaPolicy { signing_session_hours: 8, ..CaPolicy::default() };
    config.ca_policy.insert("JMA".into(), policy);
    let w = world_with(db, config).await;
    let (mut b, s) = signed_in(&w).await;
    assert_eq!(s.until - s.since, 8 * HOUR);
    w.clock.advance_ms(8 * HOUR * 1000);
    assert_eq!(current(&mut b).await, Some(ErrorCode::NotSignedIn));
}

async fn never_past_the_hpki_certificate(db: Db) {
    let w = world(db).await;
    // The test certificate ends on 2099-01-01T00:00:00Z; sign in four hours before.
    let not_after = 4_070_908_800_i64;
    w.clock.advance_ms((not_after - 4 * HOUR) * 1000 - w.clock.now_ms());
    let (_, s) = signed_in(&w).await;
    assert_eq!(s.until, not_after, "ends with the certificate, not 18 hours later");
}

async fn sign_out_ends_it_for_a_kept_cookie_too(db: Db) {
    let w = world(db).await;
    let (mut b, _) = signed_in(&w).await;
    let kept = Browser { app: w.app.clone(), cookie: None, signin: b.signin.clone() };
    assert_eq!(b.send("POST", "/api/signin/end", None).await.status, StatusCode::NO_CONTENT);
    assert!(b.signin.is_none(), "the cookie is cleared");
    assert_eq!(current(&mut b).await, Some(ErrorCode::NotSignedIn));
    let mut kept = kept;
    assert_eq!(current(&mut kept).await, Some(ErrorCode::NotSignedIn), "a copied cookie is dead");
    assert_eq!(open_sessions(&w).await, 0);
    let log = w.actions().await;
    assert!(log.contains(&("signin.end".into(), "ok".into())), "{log:?}");
}

async fn one_session_per_device(db: Db) {
    let w = world(db).await;
    let (mut b, _) = signed_in(&w).await;
    let first = Browser { app: w.app.clone(), cookie: None, signin: b.signin.clone() };
    let a = sign_in(&w, &mut b).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(open_sessions(&w).await, 1, "the second sign-in replaced the first");
    let mut first = first;
    assert_eq!(current(&mut first).await, Some(ErrorCode::NotSignedIn));
    // Another device has its own.
    let (_other, _) = signed_in(&w).await;
    assert_eq!(open_sessions(&w).await, 2);
}

async fn a_suspended_holder_is_not_signed_in(db: Db) {
    let w = world(db).await;
    let (mut b, _) = signed_in(&w).await;
    assert!(w.store.identity_suspend(HOLDER, "test", None).await.unwrap());
    assert_eq!(current(&mut b).await, Some(ErrorCode::NotSignedIn));
    // Nor can they sign in again while suspended.
    let mut c = Browser::new(&w.app);
    assert_eq!(sign_in(&w, &mut c).await.code(), Some(ErrorCode::HolderSuspended));
    assert!(c.signin.is_none());
    // Standing is judged at each use: resumed, the session (still within its hours) works.
    assert!(w.store.identity_resume(HOLDER, None).await.unwrap());
    assert_eq!(current(&mut b).await, None);
}

async fn a_wrong_card_answer_signs_nobody_in(db: Db) {
    let w = world(db).await;
    let mut b = Browser::new(&w.app);
    let c = b.challenge("/api/hpki/challenge").await;
    let sig = pki::keys().holder.sign_challenge("https://evil.example", &c);
    let a = b.finish("/api/signin/hpki", &c, &w.hpki_cert(), &sig).await;
    assert_eq!(a.code(), Some(ErrorCode::SignatureInvalid), "{:?}", a.body);
    assert!(b.signin.is_none());
    assert_eq!(open_sessions(&w).await, 0);
    let log = w.actions().await;
    assert!(log.iter().any(|(a, o)| a == "signin" && o != "ok"), "{log:?}");
    // The challenge was used up: the right answer now is refused too (no replay).
    let sig = pki::keys().holder.sign_challenge(ORIGIN, &c);
    let a = b.finish("/api/signin/hpki", &c, &w.hpki_cert(), &sig).await;
    assert_ne!(a.status, StatusCode::OK);
    assert_eq!(open_sessions(&w).await, 0);
}

async fn the_holder_ends_sessions_by_sid(db: Db) {
    let w = world(db).await;
    let (mut pc, _) = signed_in(&w).await;
    let (mut other, _) = signed_in(&w).await;
    let open = w.store.signing_sessions_of(HOLDER, w.clock.now_ms()).await.unwrap();
    assert_eq!(open.len(), 2);
    // Ending one leaves the other alive; ending it twice is a no-op.
    let newest = &open[0].sid;
    let ended = w.store.signing_session_end(HOLDER, newest, w.clock.now_ms(), "holder").await;
    assert!(ended.unwrap());
    assert!(
        !w.store.signing_session_end(HOLDER, newest, w.clock.now_ms(), "holder").await.unwrap()
    );
    assert_eq!(current(&mut other).await, Some(ErrorCode::NotSignedIn));
    assert_eq!(current(&mut pc).await, None);
    // Another holder's id cannot end it.
    let oldest = &open[1].sid;
    assert!(
        !w.store
            .signing_session_end("JMA-0000002", oldest, w.clock.now_ms(), "holder")
            .await
            .unwrap()
    );
    assert_eq!(
        w.store.signing_sessions_end_all(HOLDER, w.clock.now_ms(), "holder").await.unwrap(),
        1
    );
    assert_eq!(current(&mut pc).await, Some(ErrorCode::NotSignedIn));
}

on_both_databases!(
    the_card_signs_in_for_eighteen_hours,
    a_ca_sets_its_own_hours,
    never_past_the_hpki_certificate,
    sign_out_ends_it_for_a_kept_cookie_too,
    one_session_per_device,
    a_suspended_holder_is_not_signed_in,
    a_wrong_card_answer_signs_nobody_in,
    the_holder_ends_sessions_by_sid,
);
