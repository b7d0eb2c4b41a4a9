//! The スマートフォン way of the daily sign-in through the real router, on SQLite and PostgreSQL:
//! the passkey on the device itself, and a PC signed in through the phone with the
//! confirmation code — each refusal and each attack (replay, a foreign challenge, another
//! origin, no user verification, an unknown or revoked passkey, a suspended holder, a phished
//! holder opening an attacker's code, two phones racing, another PC session) tried for real.

mod common;

use axum::http::StatusCode;
use common::{
    Db,
    browser::{Answer, Browser},
    world::*,
};
use mahpki_protocol::{
    ErrorCode,
    api::{SignInFactor, SignedIn},
    enrol::{AssertionOptions, CodeEvent, PhoneConfirmEvent, PublicKeyCredential},
    passkey::{SignInCodeIssued, SignInCodeProved},
};
use serde_json::Value;
use webauthn_authenticator_rs::{WebauthnAuthenticator as _, softpasskey::SoftPasskey};
use webauthn_rs_proto::{AllowCredentials, UserVerificationPolicy};

const CODE_EVENTS: &str = "/api/signin/phone/current/events";

/// A holder whose phone is bound (through 別紙2 from a card-authenticated PC); the phone and its
/// credential id.
async fn bound(w: &World) -> (Phone, Vec<u8>) {
    let mut pc = w.pc().await;
    let mut phone = w.phone();
    phone.enrol_from(&mut pc, false).await;
    let id = w.active_phone().await.unwrap();
    (phone, id)
}

/// The phone's authenticator answering discoverable options. Nothing is named (the server does
/// not know who is coming), so the authenticator picks its own credential; the soft passkey
/// cannot discover, so it is handed the id it would pick. `uv: false` plays an authenticator
/// that skips user verification.
fn answer(
    key: &mut SoftPasskey,
    options: Value,
    cred_id: &[u8],
    origin: &str,
    uv: bool,
) -> PublicKeyCredential {
    let mut o: AssertionOptions = serde_json::from_value(options).unwrap();
    let pk = &mut o.options.public_key;
    assert!(pk.allow_credentials.is_empty(), "discoverable: no credential named");
    assert_eq!(pk.user_verification, UserVerificationPolicy::Required);
    assert_eq!(pk.rp_id, "hpki.example.jp");
    assert!(o.options.mediation.is_none(), "a modal prompt, not autofill");
    pk.allow_credentials = vec![AllowCredentials {
        type_: "public-key".into(),
        id: cred_id.to_vec(),
        transports: None,
    }];
    if !uv {
        pk.user_verification = UserVerificationPolicy::Preferred;
    }
    key.do_authentication(url::Url::parse(origin).unwrap(), o.options).unwrap()
}

async fn begin(b: &mut Browser) -> Value {
    let a = b.send("POST", "/api/signin/passkey/begin", None).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    a.body
}

async fn finish(b: &mut Browser, credential: &PublicKeyCredential) -> Answer {
    let body = serde_json::json!({ "credential": credential }).to_string();
    b.send("POST", "/api/signin/passkey/finish", Some(body)).await
}

async fn current(b: &mut Browser) -> Option<ErrorCode> {
    b.send("GET", "/api/signin", None).await.code()
}

async fn open_sessions(w: &World) -> usize {
    w.store.signing_sessions_of(HOLDER, w.clock.now_ms()).await.unwrap().len()
}

/// The `signin` audit rows: (outcome, detail).
async fn signin_rows(w: &World) -> Vec<(String, String)> {
    let log = w.store.audit_tail(200).await.unwrap();
    log.into_iter()
        .filter(|r| r.action == "signin")
        .map(|r| (r.outcome, r.detail.unwrap_or_default()))
        .collect()
}

/// Each refusal: typed, audited as a refused passkey sign-in, and nobody signed in.
async fn refused_passkey(w: &World, b: &Browser, a: &Answer, code: ErrorCode) {
    refused(a, code);
    assert!(b.signin.is_none(), "no signing cookie");
    assert_eq!(open_sessions(w).await, 0);
    let rows = signin_rows(w).await;
    assert!(
        rows.iter().any(|(o, d)| *o == code.wire() && d.contains("factor=passkey")),
        "{rows:?}"
    );
}

// ---- On the device itself ----

async fn the_phone_signs_itself_in_without_a_hpki_id(db: Db) {
    let w = world(db).await;
    let (mut phone, id) = bound(&w).await;
    let before = w.store.phone_active(HOLDER).await.unwrap().unwrap().passkey;
    let mut b = Browser::new(&w.app);
    let o = begin(&mut b).await;
    let cred = answer(&mut phone.key, o, &id, ORIGIN, true);
    let a = finish(&mut b, &cred).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let s: SignedIn = serde_json::from_value(a.body).unwrap();
    assert_eq!(s.factor, SignInFactor::Passkey);
    assert_eq!(s.holder.hpki_id.as_str(), HOLDER);
    assert_eq!(s.until - s.since, 18 * 3600);
    assert!(b.signin.is_some());
    assert_eq!(current(&mut b).await, None);
    // A passkey that is not synced (no backup state) is a hardware-held key.
    let open = w.store.signing_sessions_of(HOLDER, w.clock.now_ms()).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].amr, "hwk user mfa");
    assert_eq!(open[0].phone_id, Some(w.store.phone_active(HOLDER).await.unwrap().unwrap().id));
    // The signature counter moved on and is kept (a clone would show up later).
    let after = w.store.phone_active(HOLDER).await.unwrap().unwrap().passkey;
    assert_ne!(before, after);
    assert!(signin_rows(&w).await.iter().any(|(o, d)| o == "ok" && d == "factor=passkey"));
}

async fn an_answer_is_used_once(db: Db) {
    let w = world(db).await;
    let (mut phone, id) = bound(&w).await;
    let mut b = Browser::new(&w.app);
    let o = begin(&mut b).await;
    let cred = answer(&mut phone.key, o, &id, ORIGIN, true);
    let a = finish(&mut b, &cred).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    // Replayed by someone who captured it, from another browser with its own challenge.
    let mut thief = Browser::new(&w.app);
    begin(&mut thief).await;
    let a = finish(&mut thief, &cred).await;
    refused(&a, ErrorCode::PasskeyChallengeUnknown);
    assert!(thief.signin.is_none());
    // Replayed on the same browser: its challenge was used up.
    let a = finish(&mut b, &cred).await;
    refused(&a, ErrorCode::PasskeyChallengeUnknown);
    assert_eq!(open_sessions(&w).await, 1);
}

async fn a_challenge_belongs_to_the_browser_that_asked(db: Db) {
    let w = world(db).await;
    let (mut phone, id) = bound(&w).await;
    let mut mine = Browser::new(&w.app);
    let mut theirs = Browser::new(&w.app);
    begin(&mut mine).await;
    let o = begin(&mut theirs).await;
    // The answer to their challenge, sent from my browser (or the other way round): refused,
    // and my challenge is used up by the try.
    let cred = answer(&mut phone.key, o, &id, ORIGIN, true);
    let a = finish(&mut mine, &cred).await;
    refused_passkey(&w, &mine, &a, ErrorCode::PasskeyChallengeUnknown).await;
    // Without asking at all (no page session): refused too.
    let mut none = Browser::new(&w.app);
    let a = finish(&mut none, &cred).await;
    refused(&a, ErrorCode::PasskeyChallengeUnknown);
    // A challenge runs out.
    let mut late = Browser::new(&w.app);
    let o = begin(&mut late).await;
    let cred = answer(&mut phone.key, o, &id, ORIGIN, true);
    w.clock.advance_ms(i64::from(w.config.enrolment_ttl_secs) * 1000);
    let a = finish(&mut late, &cred).await;
    refused(&a, ErrorCode::PasskeyChallengeUnknown);
    assert_eq!(open_sessions(&w).await, 0);
}

async fn another_origin_is_refused(db: Db) {
    let w = world(db).await;
    let (mut phone, id) = bound(&w).await;
    let mut b = Browser::new(&w.app);
    let o = begin(&mut b).await;
    // Another page under our name (a subdomain the browser lets use our RP id) relayed our
    // challenge; the browser signs its own origin.
    let cred = answer(&mut phone.key, o, &id, "https://login.hpki.example.jp", true);
    let a = finish(&mut b, &cred).await;
    refused_passkey(&w, &b, &a, ErrorCode::PasskeyWrongOrigin).await;
}

async fn user_verification_is_required(db: Db) {
    let w = world(db).await;
    let (mut phone, id) = bound(&w).await;
    let mut b = Browser::new(&w.app);
    let o = begin(&mut b).await;
    let cred = answer(&mut phone.key, o, &id, ORIGIN, false);
    let a = finish(&mut b, &cred).await;
    refused_passkey(&w, &b, &a, ErrorCode::PasskeyNotVerified).await;
}

async fn an_unknown_or_revoked_passkey_signs_nobody_in(db: Db) {
    let w = world(db).await;
    let (mut old, old_id) = bound(&w).await;
    // A credential the server never committed: a phone that began an enrolment and stopped.
    let mut pc = w.pc().await;
    let mut stray = w.phone();
    let url = issued(&mut pc, true).await.url.clone();
    assert_eq!(stray.open(&url).await.status, StatusCode::OK);
    stray.confirm_on(&mut pc).await;
    let a = stray.begin().await;
    let reg = stray.create(a.body);
    let mut b = Browser::new(&w.app);
    let o = begin(&mut b).await;
    let cred = answer(&mut stray.key, o, &reg.raw_id, ORIGIN, true);
    let a = finish(&mut b, &cred).await;
    refused_passkey(&w, &b, &a, ErrorCode::PasskeyUnknown).await;
    // The old phone, replaced by a new one (which revokes it), no longer signs in.
    let mut new = w.phone();
    new.enrol_from(&mut pc, true).await;
    let mut b = Browser::new(&w.app);
    let o = begin(&mut b).await;
    let cred = answer(&mut old.key, o, &old_id, ORIGIN, true);
    let a = finish(&mut b, &cred).await;
    refused_passkey(&w, &b, &a, ErrorCode::PasskeyUnknown).await;
}

async fn a_suspended_holder_is_refused(db: Db) {
    let w = world(db).await;
    let (mut phone, id) = bound(&w).await;
    assert!(w.store.identity_suspend(HOLDER, "test", None).await.unwrap());
    let mut b = Browser::new(&w.app);
    let o = begin(&mut b).await;
    let cred = answer(&mut phone.key, o, &id, ORIGIN, true);
    let a = finish(&mut b, &cred).await;
    refused_passkey(&w, &b, &a, ErrorCode::HolderSuspended).await;
}

// ---- From a PC, through the phone ----

async fn sign_in_code(pc: &mut Browser) -> SignInCodeIssued {
    let a = pc.send("POST", "/api/signin/phone", None).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    serde_json::from_value(a.body).unwrap()
}

async fn open_code(phone: &mut Phone, url: &str) -> Answer {
    let (page, token) = url.split_once('#').expect("token in the fragment");
    assert_eq!(page, format!("{ORIGIN}/signin/phone"));
    let body = serde_json::json!({ "token": token }).to_string();
    phone.b.send("POST", "/api/signin/phone/open", Some(body)).await
}

/// Open, passkey check: the phone's side; sets `phone.shown` when it passed.
async fn prove(phone: &mut Phone, url: &str, id: &[u8], origin: &str) -> Answer {
    let a = open_code(phone, url).await;
    if a.status != StatusCode::OK {
        return a;
    }
    let a = phone.b.send("POST", "/api/signin/phone/begin", None).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let cred = answer(&mut phone.key, a.body, id, origin, true);
    let body = serde_json::json!({ "credential": cred }).to_string();
    let a = phone.b.send("POST", "/api/signin/phone/finish", Some(body)).await;
    if a.status == StatusCode::OK {
        let p: SignInCodeProved = serde_json::from_value(a.body.clone()).unwrap();
        phone.shown = shown_code(&p.confirm);
    }
    a
}

async fn the_pc_is_signed_in_through_the_phone(db: Db) {
    let w = world(db).await;
    let (mut phone, id) = bound(&w).await;
    let mut pc = Browser::new(&w.app);
    let code = sign_in_code(&mut pc).await;
    let mut events = PcEvents::connect_to(&pc, CODE_EVENTS).await;
    assert!(matches!(events.next().await, Some(CodeEvent::Waiting { .. })));
    assert_eq!(open_code(&mut phone, &code.url).await.status, StatusCode::OK);
    assert_eq!(events.next().await, Some(CodeEvent::Opened));
    let a = phone.b.send("POST", "/api/signin/phone/begin", None).await;
    let cred = answer(&mut phone.key, a.body, &id, ORIGIN, true);
    let body = serde_json::json!({ "credential": cred }).to_string();
    let a = phone.b.send("POST", "/api/signin/phone/finish", Some(body)).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let p: SignInCodeProved = serde_json::from_value(a.body).unwrap();
    phone.shown = shown_code(&p.confirm);
    // The phone's answer signs nobody in: neither the phone nor, yet, the PC.
    assert!(phone.b.signin.is_none());
    assert_eq!(open_sessions(&w).await, 0);
    assert_eq!(events.next().await, Some(CodeEvent::Confirm { tries_left: 3 }));
    let mut phone_events = PcEvents::connect_to(&phone.b, PHONE_EVENTS).await;
    assert_eq!(phone_events.next_phone().await, Some(PhoneConfirmEvent::Pending { tries_left: 3 }));
    // The holder types the phone's code on the PC: this answer signs the PC in.
    let a = confirm(&mut pc, phone.shown.as_deref().unwrap()).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let s: SignedIn = serde_json::from_value(a.body).unwrap();
    assert_eq!((s.factor, s.holder.hpki_id.as_str()), (SignInFactor::Passkey, HOLDER));
    assert!(pc.signin.is_some());
    assert_eq!(current(&mut pc).await, None);
    assert_eq!(events.next().await, Some(CodeEvent::Completed));
    assert_eq!(phone_events.next_phone().await, Some(PhoneConfirmEvent::Confirmed));
    // The phone never holds the PC's signing cookie.
    assert!(phone.b.signin.is_none());
    assert_eq!(current(&mut phone.b).await, Some(ErrorCode::NotSignedIn));
    assert_eq!(open_sessions(&w).await, 1);
    // Used up: the code again on the PC, or the link on another phone, gives nothing.
    refused(
        &confirm(&mut pc, phone.shown.as_deref().unwrap()).await,
        ErrorCode::ConfirmationUnknown,
    );
    let mut other = w.phone();
    refused(&open_code(&mut other, &code.url).await, ErrorCode::EnrolmentUsed);
    assert_eq!(open_sessions(&w).await, 1);
    let log = w.actions().await;
    for action in ["signin.code.issue", "signin.code.open", "signin.code.prove", "signin"] {
        assert!(log.contains(&(action.into(), "ok".into())), "{action}: {log:?}");
    }
}

async fn a_phished_holder_signs_in_no_attackers_pc(db: Db) {
    let w = world(db).await;
    let (mut phone, id) = bound(&w).await;
    // The attacker's PC asks for a code and sends its link to the holder, who opens it on the
    // bound phone and passes the passkey check.
    let mut attacker = Browser::new(&w.app);
    let code = sign_in_code(&mut attacker).await;
    let mut events = PcEvents::connect_to(&attacker, CODE_EVENTS).await;
    assert!(matches!(events.next().await, Some(CodeEvent::Waiting { .. })));
    let a = prove(&mut phone, &code.url, &id, ORIGIN).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    // The attacker's PC learns that a code is asked for, and nothing else (no holder).
    let mut seen = events.next().await;
    if seen == Some(CodeEvent::Opened) {
        seen = events.next().await;
    }
    assert_eq!(seen, Some(CodeEvent::Confirm { tries_left: 3 }));
    assert!(attacker.signin.is_none());
    // The code is only on the holder's phone. The holder's own PC, where they type it, has no
    // confirmation waiting: it signs nobody in either.
    let right = phone.shown.clone().unwrap();
    let mut own_pc = Browser::new(&w.app);
    sign_in_code(&mut own_pc).await;
    refused(&confirm(&mut own_pc, &right).await, ErrorCode::ConfirmationUnknown);
    // Guessing: three wrong codes kill it, and the right one then does nothing.
    let wrong = wrong_code(&right);
    refused(&confirm(&mut attacker, &wrong).await, ErrorCode::ConfirmationWrong);
    refused(&confirm(&mut attacker, &wrong).await, ErrorCode::ConfirmationWrong);
    refused(&confirm(&mut attacker, &wrong).await, ErrorCode::ConfirmationFailed);
    refused(&confirm(&mut attacker, &right).await, ErrorCode::ConfirmationFailed);
    assert!(attacker.signin.is_none());
    assert_eq!(current(&mut attacker).await, Some(ErrorCode::NotSignedIn));
    assert_eq!(open_sessions(&w).await, 0);
}

async fn two_phones_race_for_one_code(db: Db) {
    let w = world(db).await;
    let (mut phone, id) = bound(&w).await;
    let mut pc = Browser::new(&w.app);
    let code = sign_in_code(&mut pc).await;
    let mut thief = w.phone();
    let (a, b) = tokio::join!(open_code(&mut phone, &code.url), open_code(&mut thief, &code.url));
    let won = [a.status, b.status].iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(won, 1, "one phone owns it: {:?} {:?}", a.body, b.body);
    let (loser, holder_won) = if a.status == StatusCode::OK { (&b, true) } else { (&a, false) };
    refused(loser, ErrorCode::EnrolmentOtherDevice);
    // The loser holds no cookie for it: it cannot ask for, or answer, its challenge.
    let (winner, other) =
        if holder_won { (&mut phone, &mut thief) } else { (&mut thief, &mut phone) };
    refused(
        &other.b.send("POST", "/api/signin/phone/begin", None).await,
        ErrorCode::EnrolmentUnknown,
    );
    let a = winner.b.send("POST", "/api/signin/phone/begin", None).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    if holder_won {
        let cred = answer(&mut phone.key, a.body, &id, ORIGIN, true);
        let body = serde_json::json!({ "credential": cred }).to_string();
        let a = thief.b.send("POST", "/api/signin/phone/finish", Some(body.clone())).await;
        refused(&a, ErrorCode::EnrolmentUnknown);
        let a = phone.b.send("POST", "/api/signin/phone/finish", Some(body)).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        let p: SignInCodeProved = serde_json::from_value(a.body).unwrap();
        let a = confirm(&mut pc, &shown_code(&p.confirm).unwrap()).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        assert_eq!(open_sessions(&w).await, 1);
    } else {
        // The thief's phone has no passkey of the holder's: it can show no code.
        assert_eq!(open_sessions(&w).await, 0);
    }
    assert!(thief.b.signin.is_none() && phone.b.signin.is_none());
}

async fn another_pc_session_cannot_use_the_code(db: Db) {
    let w = world(db).await;
    let (mut phone, id) = bound(&w).await;
    let mut pc = Browser::new(&w.app);
    let code = sign_in_code(&mut pc).await;
    let a = prove(&mut phone, &code.url, &id, ORIGIN).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    // Another PC (or tab with another session): it cannot watch this code, nor enter its code.
    let mut other = Browser::new(&w.app);
    let watch = PcEvents::try_connect_to(&other, CODE_EVENTS).await;
    assert!(watch.is_err());
    let right = phone.shown.clone().unwrap();
    refused(&confirm(&mut other, &right).await, ErrorCode::Unauthenticated);
    sign_in_code(&mut other).await;
    refused(&confirm(&mut other, &right).await, ErrorCode::ConfirmationUnknown);
    assert!(other.signin.is_none());
    // The PC that asked still can.
    let a = confirm(&mut pc, &right).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(open_sessions(&w).await, 1);
}

async fn cancelled_expired_and_refused_codes(db: Db) {
    let w = world(db).await;
    let (mut phone, id) = bound(&w).await;
    let mut pc = Browser::new(&w.app);
    // 中止 after the phone opened it: the phone cannot finish.
    let code = sign_in_code(&mut pc).await;
    assert_eq!(open_code(&mut phone, &code.url).await.status, StatusCode::OK);
    let a = phone.b.send("POST", "/api/signin/phone/begin", None).await;
    let cred = answer(&mut phone.key, a.body, &id, ORIGIN, true);
    assert_eq!(
        pc.send("DELETE", "/api/signin/phone/current", None).await.status,
        StatusCode::NO_CONTENT
    );
    let body = serde_json::json!({ "credential": cred }).to_string();
    let a = phone.b.send("POST", "/api/signin/phone/finish", Some(body)).await;
    refused(&a, ErrorCode::EnrolmentCancelled);
    // A newer code replaces the older one.
    let first = sign_in_code(&mut pc).await;
    let second = sign_in_code(&mut pc).await;
    let mut p2 = w.phone();
    refused(&open_code(&mut p2, &first.url).await, ErrorCode::EnrolmentCancelled);
    // Expired, and still told so once the PC issued another: written down as expired then, not
    // as replaced.
    w.clock.advance_ms(i64::from(w.config.enrolment_ttl_secs) * 1000);
    sign_in_code(&mut pc).await;
    refused(&open_code(&mut p2, &second.url).await, ErrorCode::EnrolmentExpired);
    // A token never issued.
    let fake = format!("{ORIGIN}/signin/phone#{}", "A".repeat(43));
    refused(&open_code(&mut p2, &fake).await, ErrorCode::EnrolmentUnknown);
    // The phone's check with another origin, and a suspended holder, are refused and audited.
    let code = sign_in_code(&mut pc).await;
    let mut p3 = w.phone();
    p3.key = std::mem::replace(&mut phone.key, SoftPasskey::new(true));
    let a = prove(&mut p3, &code.url, &id, "https://login.hpki.example.jp").await;
    refused(&a, ErrorCode::PasskeyWrongOrigin);
    assert!(p3.shown.is_none());
    assert_eq!(open_sessions(&w).await, 0);
    let rows = signin_rows(&w).await;
    assert!(
        rows.iter().any(|(o, d)| o == "passkey_wrong_origin" && d.contains("via=phone")),
        "{rows:?}"
    );
}

async fn a_phone_revoked_before_the_pc_confirms_signs_nobody_in(db: Db) {
    let w = world(db).await;
    let (mut phone, id) = bound(&w).await;
    let mut pc = Browser::new(&w.app);
    let code = sign_in_code(&mut pc).await;
    let a = prove(&mut phone, &code.url, &id, ORIGIN).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    // Meanwhile the holder replaced the phone (lost, stolen): the proof is worth nothing.
    let mut card_pc = w.pc().await;
    w.phone().enrol_from(&mut card_pc, true).await;
    let a = confirm(&mut pc, phone.shown.as_deref().unwrap()).await;
    refused(&a, ErrorCode::PasskeyUnknown);
    assert!(pc.signin.is_none());
    assert_eq!(open_sessions(&w).await, 0);
}

on_both_databases!(
    the_phone_signs_itself_in_without_a_hpki_id,
    an_answer_is_used_once,
    a_challenge_belongs_to_the_browser_that_asked,
    another_origin_is_refused,
    user_verification_is_required,
    an_unknown_or_revoked_passkey_signs_nobody_in,
    a_suspended_holder_is_refused,
    the_pc_is_signed_in_through_the_phone,
    a_phished_holder_signs_in_no_attackers_pc,
    two_phones_race_for_one_code,
    another_pc_session_cannot_use_the_code,
    cancelled_expired_and_refused_codes,
    a_phone_revoked_before_the_pc_confirms_signs_nobody_in,
);
