//! 別紙2 through the real router on SQLite and PostgreSQL: a PC authenticated with the HPKI card
//! issues an enrolment and watches it over SSE; phones (webauthn-authenticator-rs soft passkeys)
//! open it, register and finish. Every refusal has its own code and leaves the bound phone alone.

mod common;

use common::world::*;

use axum::http::StatusCode;
use common::{
    Db,
    browser::{Answer, Browser},
};
use mahpki_protocol::{
    ErrorCode, HpkiId,
    api::Holder,
    enrol::{
        AssertionOptions, ChangeProved, CodeEvent, EnrolmentOpened, FinishEnrolment, PhoneBound,
        RegistrationOptions,
    },
};
use mahpki_server::{
    Config,
    config::CaPolicy,
    events::Events,
    service::links::{LinkError, issue_link},
    store::{EnrolError, Store},
};
use webauthn_authenticator_rs::{WebauthnAuthenticator as _, softpasskey::SoftPasskey};
use webauthn_rs_proto::UserVerificationPolicy;

// ---- the tests ----

async fn enrolment_binds_the_phone_and_the_pc_hears_each_step(db: Db) {
    let w = world(db).await;
    let mut pc = w.pc().await;
    let issued = issued(&mut pc, false).await;
    assert_eq!(issued.expires_in_secs, 300);
    assert!(!format!("{issued:?}").contains(issued.url.split('#').nth(1).unwrap()));
    let mut events = PcEvents::connect(&pc).await;
    assert_eq!(events.next().await, Some(CodeEvent::Waiting { expires_in_secs: 300 }));

    let mut phone = w.phone();
    let a = phone.open(&issued.url).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let opened: EnrolmentOpened = serde_json::from_value(a.body).unwrap();
    assert_eq!(opened.hpki_id.as_str(), HOLDER);
    // The PC asks for the code only the phone shows; the phone may not begin before.
    assert_eq!(events.next().await, Some(CodeEvent::Confirm { tries_left: 3 }));
    refused(&phone.begin().await, ErrorCode::ConfirmationPending);
    phone.confirm_on(&mut pc).await;
    assert_eq!(events.next().await, Some(CodeEvent::Opened));

    let a = phone.begin().await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let credential = phone.create(a.body);
    let a = phone.finish(&credential, "  私のスマートフォン ").await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let bound: PhoneBound = serde_json::from_value(a.body).unwrap();
    assert_eq!(bound.phone.label, "私のスマートフォン");
    assert_eq!(bound.replaced, None);
    assert_eq!(events.next().await, Some(CodeEvent::Completed));
    assert_eq!(events.next().await, None, "the stream ends after the final event");

    let active = w.store.phone_active(HOLDER).await.unwrap().unwrap();
    assert_eq!(active.label, "私のスマートフォン");
    assert_eq!(active.credential_id, credential.raw_id.to_vec());
    // Connecting after the end still tells the PC how it ended.
    let mut late = PcEvents::connect(&pc).await;
    assert_eq!(late.next().await, Some(CodeEvent::Completed));
    let actions = w.actions().await;
    for a in ["phone.enrolment.issue", "phone.enrolment.open", "phone.bind"] {
        assert!(actions.contains(&(a.into(), "ok".into())), "{a} not audited: {actions:?}");
    }
}

async fn a_bound_phone_is_replaced_only_when_asked(db: Db) {
    let w = world(db).await;
    let mut pc = w.pc().await;
    let first = w.phone().enrol_from(&mut pc, false).await;
    let old = w.active_phone().await.unwrap();

    // The UI asks "デバイスがすでに登録済みとなっています…" on this answer.
    refused(&issue(&mut pc, false).await, ErrorCode::PhoneAlreadyBound);
    assert!(
        w.actions().await.contains(&("phone.enrolment.issue".into(), "phone_already_bound".into()))
    );

    let second = w.phone().enrol_from(&mut pc, true).await;
    assert_eq!(second.replaced.as_ref(), Some(&first.phone));
    let new = w.active_phone().await.unwrap();
    assert_ne!(new, old);
    let all = w.store.phone_list(HOLDER).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].revoked_reason.as_deref(), Some("replaced"));
    assert!(all[1].revoked_ms.is_none());
    assert!(w.actions().await.contains(&("phone.replace".into(), "ok".into())));
}

async fn aborting_a_replacement_leaves_the_old_phone_working(db: Db) {
    let w = world(db).await;
    let mut pc = w.pc().await;
    w.phone().enrol_from(&mut pc, false).await;
    let old = w.active_phone().await;

    // The new phone opens and begins, then the holder walks away.
    let issued = issued(&mut pc, true).await;
    let mut new = w.phone();
    assert_eq!(new.open(&issued.url).await.status, StatusCode::OK);
    new.confirm_on(&mut pc).await;
    let options = new.begin().await.body;
    assert_eq!(w.active_phone().await, old);

    // A wrong answer (made on another origin under the RP id, which the server does not allow)
    // is refused and changes nothing.
    let mut o: RegistrationOptions = serde_json::from_value(options).unwrap();
    soft_key_can(o.options.public_key.authenticator_selection.as_mut().unwrap());
    let forged = new
        .key
        .do_registration(url::Url::parse("https://phish.hpki.example.jp").unwrap(), o.options)
        .unwrap();
    refused(&new.finish(&forged, "phone").await, ErrorCode::WebauthnFailed);
    assert_eq!(w.active_phone().await, old);
    // The failed answer used up the ceremony: the phone must begin again.
    let a = new.begin().await;
    let credential = new.create(a.body);

    // The code expires before the phone finishes.
    w.clock.advance_ms(301_000);
    refused(&new.finish(&credential, "phone").await, ErrorCode::EnrolmentExpired);
    assert_eq!(w.active_phone().await, old);
    assert_eq!(w.store.phone_list(HOLDER).await.unwrap().len(), 1);
}

async fn expired_used_cancelled_and_unknown_tokens_are_refused(db: Db) {
    let w = world(db).await;
    let mut pc = w.pc().await;

    // Expired before any phone opened it; the PC hears it on connect.
    let stale = issued(&mut pc, false).await;
    w.clock.advance_ms(300_000);
    refused(&w.phone().open(&stale.url).await, ErrorCode::EnrolmentExpired);
    let mut events = PcEvents::connect(&pc).await;
    assert_eq!(events.next().await, Some(CodeEvent::Expired));

    // Cancelled by a newer code; the PC watching the old one hears it.
    let first = issued(&mut pc, false).await;
    let mut events = PcEvents::connect(&pc).await;
    assert!(matches!(events.next().await, Some(CodeEvent::Waiting { .. })));
    issued(&mut pc, false).await;
    assert_eq!(events.next().await, Some(CodeEvent::Cancelled));
    refused(&w.phone().open(&first.url).await, ErrorCode::EnrolmentCancelled);

    // Cancelled by the PC's 中止: not openable, and a phone part way through cannot finish.
    let third = issued(&mut pc, false).await;
    let mut midway = w.phone();
    assert_eq!(midway.open(&third.url).await.status, StatusCode::OK);
    midway.confirm_on(&mut pc).await;
    let options = midway.begin().await.body;
    let credential = midway.create(options);
    let mut events = PcEvents::connect(&pc).await;
    assert_eq!(events.next().await, Some(CodeEvent::Opened));
    let a = pc.send("DELETE", "/api/smartphone/enrolments/current", None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert_eq!(events.next().await, Some(CodeEvent::Cancelled));
    refused(&midway.finish(&credential, "途中").await, ErrorCode::EnrolmentCancelled);
    refused(&w.phone().open(&third.url).await, ErrorCode::EnrolmentCancelled);
    assert_eq!(w.active_phone().await, None);
    // Nothing live: still fine, still nothing bound.
    let a = pc.send("DELETE", "/api/smartphone/enrolments/current", None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let second = issued(&mut pc, false).await;

    // Used: a completed code cannot be opened again, by another phone or the same one.
    let mut phone = w.phone();
    phone.enrol(Some(&mut pc), &second.url).await;
    refused(&w.phone().open(&second.url).await, ErrorCode::EnrolmentUsed);
    refused(&phone.open(&second.url).await, ErrorCode::EnrolmentUsed);
    refused(&phone.begin().await, ErrorCode::EnrolmentUsed);

    // Unknown and malformed tokens.
    let unknown = format!("{ORIGIN}/enrol#{}", "A".repeat(43));
    refused(&w.phone().open(&unknown).await, ErrorCode::EnrolmentUnknown);
    refused(&w.phone().open(&format!("{ORIGIN}/enrol#short")).await, ErrorCode::EnrolmentUnknown);
    // A phone that opened nothing has nothing to begin.
    refused(&w.phone().begin().await, ErrorCode::EnrolmentUnknown);
    let failures =
        w.actions().await.into_iter().filter(|(a, o)| a == "phone.enrolment.open" && o != "ok");
    assert!(failures.count() >= 5);
}

/// CA links printed before the spelling became "enrol" say `/enroll#…` and stay valid for
/// months; a page loaded then calls `/api/enroll/…`. Both still enrol.
async fn the_old_enroll_spelling_still_enrols(db: Db) {
    let w = world(db).await;
    let (url, _) =
        issue_link(&w.store, &w.config, &HpkiId::parse(HOLDER).unwrap(), 90, false).await.unwrap();
    let old = url.replacen("/enrol#", "/enroll#", 1);
    assert_ne!(old, *url);
    let mut phone = w.phone();
    phone.enrol(None, &old).await;
    assert_eq!(phone.api, "/api/enroll");
    assert!(w.active_phone().await.is_some());
}

async fn a_second_phone_is_refused(db: Db) {
    let w = world(db).await;
    let mut pc = w.pc().await;
    let issued = issued(&mut pc, false).await;
    let mut owner = w.phone();
    assert_eq!(owner.open(&issued.url).await.status, StatusCode::OK);
    let mut other = w.phone();
    refused(&other.open(&issued.url).await, ErrorCode::EnrolmentOtherDevice);
    refused(&other.begin().await, ErrorCode::EnrolmentUnknown);
    // The owner may reload the page.
    assert_eq!(owner.open(&issued.url).await.status, StatusCode::OK);
    owner.enrol(Some(&mut pc), &issued.url).await;
    assert!(w.active_phone().await.is_some());
    let refusal = w
        .store
        .audit_tail(100)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.action == "phone.enrolment.open" && r.outcome == "enrolment_other_device");
    assert_eq!(refusal.unwrap().hpki_id.as_deref(), Some(HOLDER), "in the holder's own trail");
}

async fn phones_racing_for_one_code_yield_one_owner(db: Db) {
    let w = world(db).await;
    let mut pc = w.pc().await;
    let issued = issued(&mut pc, false).await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let mut phone = w.phone();
        let url = issued.url.clone();
        tasks.push(tokio::spawn(async move { (phone.open(&url).await, phone) }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        let (a, phone) = t.await.unwrap();
        match a.status {
            StatusCode::OK => winners.push(phone),
            _ => refused(&a, ErrorCode::EnrolmentOtherDevice),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one phone owns the code");

    // The winner finishes twice at once with the same credential: one commit, one refusal.
    let mut winner = winners.pop().unwrap();
    winner.confirm_on(&mut pc).await;
    let options = winner.begin().await.body;
    let credential = winner.create(options);
    let cookie = winner.b.cookie.clone();
    let mut twin = Browser { app: w.app.clone(), cookie, signin: None };
    let body = serde_json::to_string(&FinishEnrolment { credential, label: "a".into() }).unwrap();
    let (a, b) = tokio::join!(
        winner.b.send("POST", "/api/enrol/finish", Some(body.clone())),
        twin.send("POST", "/api/enrol/finish", Some(body)),
    );
    let oks = [&a, &b].iter().filter(|x| x.status == StatusCode::OK).count();
    assert_eq!(oks, 1, "{:?} {:?}", a.body, b.body);
    assert_eq!(w.store.phone_list(HOLDER).await.unwrap().len(), 1);
}

async fn the_phone_must_verify_the_user_and_name_itself(db: Db) {
    let w = world(db).await;
    let mut pc = w.pc().await;
    let issued = issued(&mut pc, false).await;
    let mut phone = w.phone();
    assert_eq!(phone.open(&issued.url).await.status, StatusCode::OK);
    phone.confirm_on(&mut pc).await;

    // An authenticator that skips user verification (biometrics / screen lock).
    let mut o: RegistrationOptions = serde_json::from_value(phone.begin().await.body).unwrap();
    let sel = o.options.public_key.authenticator_selection.as_mut().unwrap();
    soft_key_can(sel);
    sel.user_verification = UserVerificationPolicy::Preferred;
    let no_uv = SoftPasskey::new(false)
        .do_registration(url::Url::parse(ORIGIN).unwrap(), o.options)
        .unwrap();
    refused(&phone.finish(&no_uv, "phone").await, ErrorCode::WebauthnFailed);

    // A bad label is refused without using up the ceremony: fix it and send again.
    let options = phone.begin().await.body;
    let credential = phone.create(options);
    refused(&phone.finish(&credential, " ").await, ErrorCode::CredentialLabelInvalid);
    refused(&phone.finish(&credential, &"x".repeat(65)).await, ErrorCode::CredentialLabelInvalid);
    assert_eq!(phone.finish(&credential, "iPhone").await.status, StatusCode::OK);
}

async fn only_an_identified_pc_issues_and_watches(db: Db) {
    let w = world(db).await;
    let mut anonymous = Browser::new(&w.app);
    refused(&issue(&mut anonymous, false).await, ErrorCode::Unauthenticated);
    refused(&PcEvents::try_connect(&anonymous).await.err().unwrap(), ErrorCode::Unauthenticated);
    let pc = w.pc().await;
    refused(&PcEvents::try_connect(&pc).await.err().unwrap(), ErrorCode::EnrolmentUnknown);
}

async fn the_pc_hears_expiry_without_anyone_asking(db: Db) {
    let w = world_with_ttl(db, 1).await;
    let mut pc = w.pc().await;
    issued(&mut pc, false).await;
    let mut events = PcEvents::connect(&pc).await;
    assert!(matches!(events.next().await, Some(CodeEvent::Waiting { .. })));
    w.clock.advance_ms(1_000);
    assert_eq!(events.next().await, Some(CodeEvent::Expired));
    assert_eq!(events.next().await, None);
}

async fn a_ca_link_enrols_a_phone_without_a_pc(db: Db) {
    let w = world(db).await;
    let (url, e) =
        issue_link(&w.store, &w.config, &HpkiId::parse(HOLDER).unwrap(), 90, false).await.unwrap();
    assert_eq!(e.expires_ms - e.created_ms, 90 * 24 * 3600 * 1000);
    // Weeks later, the holder opens it on the phone.
    w.clock.advance_ms(30 * 24 * 3600 * 1000);
    w.phone().enrol(None, &url).await;
    assert!(w.active_phone().await.is_some());
    assert!(w.actions().await.contains(&("phone.enrolment.issue".into(), "ok".into())));

    // Links are refused like codes: bound phone without replace, unknown holder.
    let refused_link =
        issue_link(&w.store, &w.config, &HpkiId::parse(HOLDER).unwrap(), 90, false).await;
    assert!(matches!(refused_link, Err(LinkError::Refused(EnrolError::PhoneAlreadyBound))));
    let unknown =
        issue_link(&w.store, &w.config, &HpkiId::parse("JMA-0000999").unwrap(), 90, false).await;
    assert!(matches!(unknown, Err(LinkError::UnknownHolder(_))));
}

async fn an_expired_ca_link_says_so(db: Db) {
    let w = world(db).await;
    let (url, _) =
        issue_link(&w.store, &w.config, &HpkiId::parse(HOLDER).unwrap(), 90, false).await.unwrap();
    w.clock.advance_ms(91 * 24 * 3600 * 1000);
    // Not the PC's "re-issue" message: the CA must send a new link.
    refused(&w.phone().open(&url).await, ErrorCode::EnrolmentLinkExpired);
}

async fn a_ca_may_allow_one_phone_ever(db: Db) {
    let mut config = config();
    config.ca_policy.insert("JMA".into(), CaPolicy { max_phones: Some(1), ..CaPolicy::default() });
    let w = world_with(db, config).await;
    let mut pc = w.pc().await;
    w.phone().enrol_from(&mut pc, false).await;
    // No replace question: the answer would not help.
    refused(&issue(&mut pc, false).await, ErrorCode::PhoneLimitReached);
    refused(&issue(&mut pc, true).await, ErrorCode::PhoneLimitReached);
    let link = issue_link(&w.store, &w.config, &HpkiId::parse(HOLDER).unwrap(), 90, true).await;
    assert!(matches!(link, Err(LinkError::Refused(EnrolError::PhoneLimitReached))));
    assert_eq!(w.store.phone_list(HOLDER).await.unwrap().len(), 1);
}

async fn a_ca_may_forbid_replacing(db: Db) {
    let mut config = config();
    config.ca_policy.insert("JMA".into(), CaPolicy { allow_replace: false, ..CaPolicy::default() });
    let w = world_with(db, config).await;
    let mut pc = w.pc().await;
    w.phone().enrol_from(&mut pc, false).await;
    refused(&issue(&mut pc, true).await, ErrorCode::PhoneLimitReached);
    assert_eq!(w.store.phone_list(HOLDER).await.unwrap().len(), 1);
}

fn jma_world_config() -> Config {
    let mut config = config();
    config.ca_policy.insert("JMA".into(), CaPolicy { jma_path: true, ..CaPolicy::default() });
    config
}

async fn jma_login(b: &mut Browser, registration_number: &str, card_id: &str) -> Answer {
    let body =
        serde_json::json!({ "registration_number": registration_number, "card_id": card_id });
    b.send("POST", "/api/jma/login", Some(body.to_string())).await
}

async fn the_jma_path_lets_a_pc_enrol_without_the_card(db: Db) {
    let w = world_with(db, jma_world_config()).await;
    let mut pc = Browser::new(&w.app);
    let a = jma_login(&mut pc, " 123456 ", "HPKI0001").await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let holder: Holder = serde_json::from_value(a.body).unwrap();
    assert_eq!(holder.hpki_id.as_str(), HOLDER);
    // Enrolling a phone is all it allows: the session is not an HPKI login.
    assert!(!pc.is_authenticated().await);
    let a = pc.send("GET", "/api/smartphone/holder", None).await;
    assert_eq!(serde_json::from_value::<Holder>(a.body).unwrap(), holder);
    let issued = issued(&mut pc, false).await;
    let mut events = PcEvents::connect(&pc).await;
    assert!(matches!(events.next().await, Some(CodeEvent::Waiting { .. })));
    w.phone().enrol(Some(&mut pc), &issued.url).await;
    // Read only now, the steps may have merged: the watcher always shows the latest state.
    let mut last = None;
    while let Some(e) = events.next().await {
        last = Some(e);
    }
    assert_eq!(last, Some(CodeEvent::Completed));
    assert!(w.active_phone().await.is_some());
    assert!(w.actions().await.contains(&("jma.auth".into(), "ok".into())));
}

async fn the_jma_path_backs_off_after_five_failures(db: Db) {
    let w = world_with(db, jma_world_config()).await;
    let mut pc = Browser::new(&w.app);
    for _ in 0..4 {
        refused(&jma_login(&mut pc, "123456", "HPKI9999").await, ErrorCode::JmaLoginFailed);
    }
    refused(&jma_login(&mut pc, "123456", "HPKI9999").await, ErrorCode::JmaLoginFailed);
    // Backing off: even the right numbers are refused, and nothing was granted.
    refused(&jma_login(&mut pc, "123456", "HPKI0001").await, ErrorCode::JmaLocked);
    refused(&issue(&mut pc, false).await, ErrorCode::Unauthenticated);
    assert!(w.actions().await.contains(&("jma.auth".into(), "jma_locked".into())));
    // The CA unlocks it.
    let key = SECRET.registration_key("123456");
    assert!(w.store.jma_unlock(&key, HOLDER, w.clock.now_ms()).await.unwrap());
    assert_eq!(jma_login(&mut pc, "123456", "HPKI0001").await.status, StatusCode::OK);
    // A success clears the count: four more failures do not lock.
    for _ in 0..4 {
        refused(&jma_login(&mut pc, "123456", "HPKI9999").await, ErrorCode::JmaLoginFailed);
    }
    assert_eq!(jma_login(&mut pc, "123456", "HPKI0001").await.status, StatusCode::OK);
}

async fn the_jma_path_works_only_where_the_ca_allows_it(db: Db) {
    let w = world(db).await;
    let mut pc = Browser::new(&w.app);
    // The right numbers, but JMA did not enable the path: the same answer as wrong numbers.
    refused(&jma_login(&mut pc, "123456", "HPKI0001").await, ErrorCode::JmaLoginFailed);
    refused(&jma_login(&mut pc, "999999", "HPKI0001").await, ErrorCode::JmaLoginFailed);
    refused(&issue(&mut pc, false).await, ErrorCode::Unauthenticated);
}

async fn a_phone_change_needs_the_old_phone_and_revokes_it_only_at_commit(db: Db) {
    let w = world(db).await;
    let mut old = w.phone();
    let first = old.enrol_from(&mut w.pc().await, false).await;

    // Another PC, without the HPKI card.
    let mut pc = Browser::new(&w.app);
    let change = change_code(&mut pc).await;
    let mut events = PcEvents::connect_to(&pc, CHANGE_EVENTS).await;
    assert!(matches!(events.next_change().await, Some(CodeEvent::Waiting { .. })));
    refused(&issue(&mut pc, true).await, ErrorCode::Unauthenticated);
    refused(&pc.send("GET", "/api/smartphone/holder", None).await, ErrorCode::Unauthenticated);

    let a = old.prove(&change.url, ORIGIN).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let proved: ChangeProved = serde_json::from_value(a.body).unwrap();
    assert_eq!(proved.hpki_id.as_str(), HOLDER);
    // Proved by the old phone, but no grant before the PC enters the code the phone shows.
    let mut last = None;
    while last != Some(CodeEvent::Confirm { tries_left: 3 }) {
        last = events.next_change().await;
    }
    refused(&issue(&mut pc, true).await, ErrorCode::Unauthenticated);
    let before_rotation = pc.cookie.clone();
    old.confirm_on(&mut pc).await;
    assert_ne!(pc.cookie, before_rotation, "the session id is replaced with the grant");
    let mut stale = Browser { app: w.app.clone(), cookie: before_rotation, signin: None };
    refused(&stale.send("GET", "/api/smartphone/holder", None).await, ErrorCode::SessionExpired);
    assert_eq!(
        events.next_change().await,
        Some(CodeEvent::Proved { hpki_id: proved.hpki_id.clone() })
    );
    // The PC may now show whose phone it is changing.
    let a = pc.send("GET", "/api/smartphone/holder", None).await;
    assert_eq!(serde_json::from_value::<Holder>(a.body).unwrap().hpki_id, proved.hpki_id);

    // The second code, for the new phone; the old one works until the commit.
    let issued = issued(&mut pc, true).await;
    let mut new = w.phone();
    assert_eq!(new.open(&issued.url).await.status, StatusCode::OK);
    new.confirm_on(&mut pc).await;
    let options = new.begin().await.body;
    let credential = new.create(options);
    assert_eq!(w.active_phone().await.as_deref(), Some(credential_of(&first).as_slice()));
    let a = new.finish(&credential, "新しいスマートフォン").await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let bound: PhoneBound = serde_json::from_value(a.body).unwrap();
    assert_eq!(bound.replaced, Some(first.phone));
    assert_eq!(w.active_phone().await, Some(credential.raw_id.to_vec()));
    let actions = w.actions().await;
    for a in ["phone.change.issue", "phone.change.open", "phone.change.prove", "phone.replace"] {
        assert!(actions.contains(&(a.into(), "ok".into())), "{a} not audited: {actions:?}");
    }
}

fn credential_of(b: &PhoneBound) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&b.phone.credential_id).unwrap()
}

async fn a_phone_change_refuses_what_is_not_the_old_phone(db: Db) {
    let w = world(db).await;
    let mut old = w.phone();
    old.enrol_from(&mut w.pc().await, false).await;
    let before = w.active_phone().await;
    let mut pc = Browser::new(&w.app);

    // An assertion made on another origin proves nothing and grants nothing.
    let change = change_code(&mut pc).await;
    refused(
        &old.prove(&change.url, "https://phish.hpki.example.jp").await,
        ErrorCode::WebauthnFailed,
    );
    refused(&issue(&mut pc, true).await, ErrorCode::Unauthenticated);
    assert!(w.actions().await.contains(&("phone.change.prove".into(), "webauthn_failed".into())));

    // Someone else's phone opening the PC's code is refused.
    let change = change_code(&mut pc).await;
    let mut other = w.phone();
    let mut owner = w.phone();
    let body = serde_json::json!({ "token": change.url.split_once('#').unwrap().1 }).to_string();
    assert_eq!(
        owner.b.send("POST", "/api/change/open", Some(body.clone())).await.status,
        StatusCode::OK
    );
    refused(
        &other.b.send("POST", "/api/change/open", Some(body)).await,
        ErrorCode::EnrolmentOtherDevice,
    );
    // A 本人ID without a phone is answered like any other (see tests/holes.rs).
    let nobody = serde_json::json!({ "hpki_id": "JMA-0000002" }).to_string();
    assert_eq!(
        owner.b.send("POST", "/api/change/begin", Some(nobody)).await.status,
        StatusCode::OK
    );

    // Proved, then the new phone never finishes: the old phone still works, and proves again.
    let change = change_code(&mut pc).await;
    assert_eq!(old.prove(&change.url, ORIGIN).await.status, StatusCode::OK);
    old.confirm_on(&mut pc).await;
    let issued = issued(&mut pc, true).await;
    let mut new = w.phone();
    assert_eq!(new.open(&issued.url).await.status, StatusCode::OK);
    new.confirm_on(&mut pc).await;
    new.begin().await;
    assert_eq!(w.active_phone().await, before);
    let mut later = Browser::new(&w.app);
    let change = change_code(&mut later).await;
    assert_eq!(old.prove(&change.url, ORIGIN).await.status, StatusCode::OK);
    assert_eq!(w.active_phone().await, before);

    // 中止 on the PC: its first code dies at once, before or after the old phone opened it.
    let mut pc = Browser::new(&w.app);
    let change = change_code(&mut pc).await;
    let mut events = PcEvents::connect_to(&pc, CHANGE_EVENTS).await;
    assert!(matches!(events.next_change().await, Some(CodeEvent::Waiting { .. })));
    let a = pc.send("DELETE", "/api/smartphone/change/current", None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert_eq!(events.next_change().await, Some(CodeEvent::Cancelled));
    refused(&old.prove(&change.url, ORIGIN).await, ErrorCode::EnrolmentCancelled);

    let change = change_code(&mut pc).await;
    let token = change.url.split_once('#').unwrap().1;
    let body = serde_json::json!({ "token": token }).to_string();
    assert_eq!(old.b.send("POST", "/api/change/open", Some(body)).await.status, StatusCode::OK);
    let body = serde_json::json!({ "hpki_id": HOLDER }).to_string();
    let o: AssertionOptions =
        serde_json::from_value(old.b.send("POST", "/api/change/begin", Some(body)).await.body)
            .unwrap();
    let credential =
        old.key.do_authentication(url::Url::parse(ORIGIN).unwrap(), o.options).unwrap();
    let a = pc.send("DELETE", "/api/smartphone/change/current", None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let body = serde_json::json!({ "credential": credential }).to_string();
    refused(
        &old.b.send("POST", "/api/change/finish", Some(body)).await,
        ErrorCode::EnrolmentCancelled,
    );
    refused(&issue(&mut pc, true).await, ErrorCode::Unauthenticated);
    assert_eq!(w.active_phone().await, before);
    assert!(w.actions().await.contains(&("phone.change.cancel".into(), "ok".into())));
}

async fn a_first_code_that_ran_out_is_reissued_and_says_expired(db: Db) {
    let w = world(db).await;
    let mut old = w.phone();
    old.enrol_from(&mut w.pc().await, false).await;
    let mut pc = Browser::new(&w.app);
    let stale = change_code(&mut pc).await;
    w.clock.advance_ms(300_000);
    // A new first code replaces the one that ran out without tripping over it.
    let fresh = change_code(&mut pc).await;
    refused(&old.prove(&stale.url, ORIGIN).await, ErrorCode::EnrolmentExpired);
    assert_eq!(old.prove(&fresh.url, ORIGIN).await.status, StatusCode::OK);
}

on_both_databases!(
    the_old_enroll_spelling_still_enrols,
    a_first_code_that_ran_out_is_reissued_and_says_expired,
    a_phone_change_needs_the_old_phone_and_revokes_it_only_at_commit,
    a_phone_change_refuses_what_is_not_the_old_phone,
    the_jma_path_lets_a_pc_enrol_without_the_card,
    the_jma_path_backs_off_after_five_failures,
    the_jma_path_works_only_where_the_ca_allows_it,
    a_ca_link_enrols_a_phone_without_a_pc,
    an_expired_ca_link_says_so,
    a_ca_may_allow_one_phone_ever,
    a_ca_may_forbid_replacing,
    enrolment_binds_the_phone_and_the_pc_hears_each_step,
    a_bound_phone_is_replaced_only_when_asked,
    aborting_a_replacement_leaves_the_old_phone_working,
    expired_used_cancelled_and_unknown_tokens_are_refused,
    a_second_phone_is_refused,
    phones_racing_for_one_code_yield_one_owner,
    the_phone_must_verify_the_user_and_name_itself,
    only_an_identified_pc_issues_and_watches,
    the_pc_hears_expiry_without_anyone_asking,
);

/// Two server processes on one PostgreSQL: the PC talks to one, the phone to the other (and
/// switches between them mid-ceremony); the PC hears every step pushed through LISTEN/NOTIFY.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_on_postgres_act_as_one() {
    let url = common::postgres::fresh_database_url().await;
    let store_a = Store::open_postgres(&url).await.unwrap();
    let events_a = Events::postgres(&url).await.unwrap();
    let w = world_on(store_a, events_a, tempfile::tempdir().unwrap(), config()).await;
    let node_b = w.second_node(&url).await;

    let mut pc = w.pc().await;
    let issued = issued(&mut pc, false).await;
    let mut on_a = PcEvents::connect(&pc).await;
    let pc_on_b = Browser { app: node_b.clone(), cookie: pc.cookie.clone(), signin: None };
    let mut on_b = PcEvents::connect(&pc_on_b).await;
    for events in [&mut on_a, &mut on_b] {
        assert!(matches!(events.next().await, Some(CodeEvent::Waiting { .. })));
    }

    let mut phone = Phone::on(&node_b);
    assert_eq!(phone.open(&issued.url).await.status, StatusCode::OK);
    for events in [&mut on_a, &mut on_b] {
        assert_eq!(events.next().await, Some(CodeEvent::Confirm { tries_left: 3 }));
    }
    // The PC enters the code on the other node.
    let mut pc_on_b = pc_on_b;
    phone.confirm_on(&mut pc_on_b).await;
    for events in [&mut on_a, &mut on_b] {
        assert_eq!(events.next().await, Some(CodeEvent::Opened));
    }
    let options = phone.begin().await.body;
    let credential = phone.create(options);
    // The ceremony began on B and finishes on A: its state lives in the database.
    phone.b.app = w.app.clone();
    let a = phone.finish(&credential, "phone").await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    for events in [&mut on_a, &mut on_b] {
        assert_eq!(events.next().await, Some(CodeEvent::Completed));
    }
}
