//! Issue 11 item 3, tried as an attacker would, through the real router on SQLite and
//! PostgreSQL: a captured 2D code or a phished スマートフォン変更 link is useless without the code
//! shown only on the phone in the holder's hand. Also the cancel/finish race of item 5.

mod common;

use axum::http::StatusCode;
use common::{Db, browser::Browser, world::*};
use mahpki_protocol::{
    ErrorCode, HpkiId,
    enrol::{
        CodeEvent, EnrolmentOpened, PhoneConfirm, PhoneConfirmEvent, RegisterPublicKeyCredential,
    },
};
use mahpki_server::{
    config::CaPolicy,
    service::links::issue_link,
    store::{CodeState, EnrolError, NewPhone, Store},
};

/// The outcomes of the audit trail for `action`.
async fn outcomes(store: &Store, action: &str) -> Vec<String> {
    let log = store.audit_tail(200).await.unwrap();
    log.into_iter().filter(|r| r.action == action).map(|r| r.outcome).collect()
}

/// A phone that opened the PC's code and made its credential, but has not finished.
async fn opened_and_created(
    w: &World,
    pc: &mut Browser,
    url: &str,
) -> (Phone, RegisterPublicKeyCredential) {
    let mut phone = w.phone();
    assert_eq!(phone.open(url).await.status, StatusCode::OK);
    phone.confirm_on(pc).await;
    let a = phone.begin().await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let credential = phone.create(a.body);
    (phone, credential)
}

async fn the_right_code_lets_the_phone_finish_and_the_phone_hears_it(db: Db) {
    let w = world(db).await;
    let mut pc = w.pc().await;
    let issued = issued(&mut pc, false).await;
    let mut events = PcEvents::connect(&pc).await;
    assert!(matches!(events.next().await, Some(CodeEvent::Waiting { .. })));
    let mut phone = w.phone();
    let a = phone.open(&issued.url).await;
    let opened: EnrolmentOpened = serde_json::from_value(a.body).unwrap();
    let PhoneConfirm::Show { code } = &opened.confirm else { panic!("{:?}", opened.confirm) };
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));
    // The PC is asked for the code; its events never carry it.
    let asked = events.next().await.unwrap();
    assert_eq!(asked, CodeEvent::Confirm { tries_left: 3 });
    assert!(!serde_json::to_string(&asked).unwrap().contains(code.as_str()));

    // Before the PC entered it, the phone may neither begin nor finish (typed refusals).
    refused(&phone.begin().await, ErrorCode::ConfirmationPending);
    let mut phone_events = PcEvents::connect_to(&phone.b, PHONE_EVENTS).await;
    assert_eq!(phone_events.next_phone().await, Some(PhoneConfirmEvent::Pending { tries_left: 3 }));

    phone.confirm_on(&mut pc).await;
    assert_eq!(events.next().await, Some(CodeEvent::Opened));
    assert_eq!(phone_events.next_phone().await, Some(PhoneConfirmEvent::Confirmed));
    assert_eq!(phone_events.next_phone().await, None);
    // Single use: the same code again confirms nothing more.
    refused(&confirm(&mut pc, code).await, ErrorCode::ConfirmationUnknown);

    let a = phone.begin().await;
    let credential = phone.create(a.body);
    let a = phone.finish(&credential, "私のスマートフォン").await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(events.next().await, Some(CodeEvent::Completed));
    assert_eq!(w.active_phone().await, Some(credential.raw_id.to_vec()));
    assert!(outcomes(&w.store, "phone.confirm").await.contains(&"ok".to_owned()));
}

async fn a_phone_cannot_finish_before_the_pc_confirmed(db: Db) {
    let w = world(db).await;
    let mut pc = w.pc().await;
    // The phone made a credential with a first code, then the PC issued a new one.
    let first = issued(&mut pc, false).await;
    let (mut phone, credential) = opened_and_created(&w, &mut pc, &first.url).await;
    let second = issued(&mut pc, false).await;
    assert_eq!(phone.open(&second.url).await.status, StatusCode::OK);
    // Unconfirmed: its finish is refused, whatever it holds, and nothing is bound.
    refused(&phone.finish(&credential, "phone").await, ErrorCode::ConfirmationPending);
    refused(&phone.begin().await, ErrorCode::ConfirmationPending);
    assert_eq!(w.active_phone().await, None);
    assert!(outcomes(&w.store, "phone.bind").await.contains(&"confirmation_pending".to_owned()));
}

/// The commit's own transaction refuses a phone the PC has not confirmed, even if a handler
/// forgot to ask, and changes nothing.
async fn the_commit_itself_refuses_an_unconfirmed_phone(db: Db) {
    use sha2::Digest as _;
    let w = world(db).await;
    let mut pc = w.pc().await;
    let issued = issued(&mut pc, false).await;
    let mut phone = w.phone();
    assert_eq!(phone.open(&issued.url).await.status, StatusCode::OK);
    let cookie = phone.b.cookie.clone().unwrap();
    let phone_hash = sha2::Sha256::digest(cookie.split_once('=').unwrap().1.as_bytes()).to_vec();
    let e = w.store.enrolment_latest(HOLDER).await.unwrap().unwrap();
    let ceremony = common::registration();
    w.store.ceremony_put(e.id, &ceremony, e.expires_ms).await.unwrap();
    let new = NewPhone {
        enrolment_id: e.id,
        phone_session_hash: phone_hash,
        ceremony,
        credential_id: vec![1, 2, 3],
        passkey: "{}".into(),
        label: "phone".into(),
        policy: CaPolicy::default(),
        now_ms: w.clock.now_ms(),
    };
    let refused = w.store.enrolment_finish(&new, None).await;
    assert!(matches!(refused, Err(EnrolError::ConfirmationPending)), "{refused:?}");
    assert_eq!(w.store.enrolment_get(e.id).await.unwrap().unwrap().state, CodeState::InUse);
    assert!(w.store.ceremony_get(e.id, w.clock.now_ms()).await.unwrap().is_some());
    assert_eq!(w.active_phone().await, None);
}

async fn three_wrong_codes_kill_the_code(db: Db) {
    let w = world(db).await;
    let mut pc = w.pc().await;
    let issued = issued(&mut pc, false).await;
    let mut events = PcEvents::connect(&pc).await;
    assert!(matches!(events.next().await, Some(CodeEvent::Waiting { .. })));
    let mut phone = w.phone();
    assert_eq!(phone.open(&issued.url).await.status, StatusCode::OK);
    let right = phone.shown.clone().unwrap();
    let wrong = wrong_code(&right);
    let mut phone_events = PcEvents::connect_to(&phone.b, PHONE_EVENTS).await;
    assert_eq!(phone_events.next_phone().await, Some(PhoneConfirmEvent::Pending { tries_left: 3 }));
    assert_eq!(events.next().await, Some(CodeEvent::Confirm { tries_left: 3 }));

    // A typo that is not six digits costs no try.
    refused(&confirm(&mut pc, "12345").await, ErrorCode::BadRequest);
    refused(&confirm(&mut pc, &wrong).await, ErrorCode::ConfirmationWrong);
    assert_eq!(events.next().await, Some(CodeEvent::Confirm { tries_left: 2 }));
    refused(&confirm(&mut pc, &wrong).await, ErrorCode::ConfirmationWrong);
    assert_eq!(events.next().await, Some(CodeEvent::Confirm { tries_left: 1 }));
    refused(&confirm(&mut pc, &wrong).await, ErrorCode::ConfirmationFailed);
    // The PC is told, the phone is told.
    assert_eq!(events.next().await, Some(CodeEvent::ConfirmFailed));
    assert_eq!(events.next().await, None);
    let mut last = None;
    while let Some(e) = phone_events.next_phone().await {
        last = Some(e);
    }
    assert_eq!(last, Some(PhoneConfirmEvent::Failed));

    // Dead for good: the right code now, a reload of the phone, its begin — all refused.
    refused(&confirm(&mut pc, &right).await, ErrorCode::ConfirmationFailed);
    refused(&phone.open(&issued.url).await, ErrorCode::ConfirmationFailed);
    refused(&phone.begin().await, ErrorCode::ConfirmationFailed);
    assert_eq!(w.active_phone().await, None);
    let audited = outcomes(&w.store, "phone.confirm").await;
    assert_eq!(audited.iter().filter(|o| *o == "wrong").count(), 2, "{audited:?}");
    assert!(audited.contains(&"failed".to_owned()), "{audited:?}");

    // A new code starts afresh, and its own phone finishes.
    let mut phone = w.phone();
    phone.enrol_from(&mut pc, false).await;
    assert!(w.active_phone().await.is_some());
}

async fn parallel_guesses_get_three_tries_between_them(db: Db) {
    let w = world(db).await;
    let mut pc = w.pc().await;
    let issued = issued(&mut pc, false).await;
    let mut phone = w.phone();
    assert_eq!(phone.open(&issued.url).await.status, StatusCode::OK);
    let right = phone.shown.clone().unwrap();
    let mut guesses = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let mut b = Browser { app: w.app.clone(), cookie: pc.cookie.clone(), signin: None };
        let wrong = wrong_code(&right);
        guesses.spawn(async move { confirm(&mut b, &wrong).await.code() });
    }
    let answers = guesses.join_all().await;
    let count = |c| answers.iter().filter(|a| **a == Some(c)).count();
    assert_eq!(count(ErrorCode::ConfirmationWrong), 2, "{answers:?}");
    assert_eq!(count(ErrorCode::ConfirmationFailed), 10, "{answers:?}");
    refused(&confirm(&mut pc, &right).await, ErrorCode::ConfirmationFailed);
    refused(&phone.begin().await, ErrorCode::ConfirmationFailed);
}

async fn a_phone_that_opened_a_captured_code_cannot_finish(db: Db) {
    let w = world(db).await;
    let mut pc = w.pc().await;
    let issued = issued(&mut pc, false).await;
    // The attacker's phone opened the captured code first; the code shows only there.
    let mut attacker = w.phone();
    assert_eq!(attacker.open(&issued.url).await.status, StatusCode::OK);
    let attackers_code = attacker.shown.clone().unwrap();
    let mut holders = w.phone();
    refused(&holders.open(&issued.url).await, ErrorCode::EnrolmentOtherDevice);
    assert_eq!(holders.shown, None);

    // The attacker cannot confirm from its own PC: the code belongs to the holder's PC session.
    let mut attackers_pc = Browser::new(&w.app);
    refused(&confirm(&mut attackers_pc, &attackers_code).await, ErrorCode::Unauthenticated);
    attackers_pc.send("POST", "/api/smartphone/change", None).await; // any anonymous session
    refused(&confirm(&mut attackers_pc, &attackers_code).await, ErrorCode::ConfirmationUnknown);
    refused(&attacker.begin().await, ErrorCode::ConfirmationPending);

    // The holder's PC does not know the code; whatever it types, the attacker never finishes.
    for _ in 0..2 {
        refused(
            &confirm(&mut pc, &wrong_code(&attackers_code)).await,
            ErrorCode::ConfirmationWrong,
        );
    }
    refused(&confirm(&mut pc, &wrong_code(&attackers_code)).await, ErrorCode::ConfirmationFailed);
    refused(&attacker.begin().await, ErrorCode::ConfirmationFailed);
    assert_eq!(w.active_phone().await, None);
    assert_eq!(w.store.phone_list(HOLDER).await.unwrap().len(), 0);
}

async fn a_phished_change_link_gives_the_attacker_pc_no_grant(db: Db) {
    let w = world(db).await;
    let mut old = w.phone();
    old.enrol_from(&mut w.pc().await, false).await;
    let before = w.active_phone().await;

    // The attacker's PC asks for a first code and sends the holder its (real) link.
    let mut attackers_pc = Browser::new(&w.app);
    let change = change_code(&mut attackers_pc).await;
    let mut events = PcEvents::connect_to(&attackers_pc, CHANGE_EVENTS).await;
    assert!(matches!(events.next_change().await, Some(CodeEvent::Waiting { .. })));
    // The holder's old phone opens it and passes its check.
    let a = old.prove(&change.url, ORIGIN).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let holders_code = old.shown.clone().unwrap();
    let mut last = None;
    while last != Some(CodeEvent::Confirm { tries_left: 3 }) {
        last = events.next_change().await;
        assert!(!matches!(last, Some(CodeEvent::Proved { .. })), "the holder leaked early");
    }
    // No grant: the attacker can neither issue a code for its phone nor learn the holder.
    refused(&issue(&mut attackers_pc, true).await, ErrorCode::Unauthenticated);
    refused(
        &attackers_pc.send("GET", "/api/smartphone/holder", None).await,
        ErrorCode::Unauthenticated,
    );
    // Guessing the code shown on the holder's phone: three tries, then nothing, ever.
    let wrong = wrong_code(&holders_code);
    refused(&confirm(&mut attackers_pc, &wrong).await, ErrorCode::ConfirmationWrong);
    refused(&confirm(&mut attackers_pc, &wrong).await, ErrorCode::ConfirmationWrong);
    refused(&confirm(&mut attackers_pc, &wrong).await, ErrorCode::ConfirmationFailed);
    refused(&confirm(&mut attackers_pc, &holders_code).await, ErrorCode::ConfirmationFailed);
    let mut last = None;
    while let Some(e) = events.next_change().await {
        last = Some(e);
    }
    assert_eq!(last, Some(CodeEvent::ConfirmFailed));
    refused(&issue(&mut attackers_pc, true).await, ErrorCode::Unauthenticated);
    // The holder's phone is told, and keeps working.
    let mut phone_events = PcEvents::connect_to(&old.b, PHONE_EVENTS).await;
    assert_eq!(phone_events.next_phone().await, Some(PhoneConfirmEvent::Failed));
    assert_eq!(w.active_phone().await, before);
    assert!(outcomes(&w.store, "phone.confirm").await.contains(&"failed".to_owned()));
}

async fn cancel_on_the_pc_ends_an_unconfirmed_change(db: Db) {
    let w = world(db).await;
    let mut old = w.phone();
    old.enrol_from(&mut w.pc().await, false).await;
    let mut pc = Browser::new(&w.app);
    let change = change_code(&mut pc).await;
    assert_eq!(old.prove(&change.url, ORIGIN).await.status, StatusCode::OK);
    let code = old.shown.clone().unwrap();
    let mut phone_events = PcEvents::connect_to(&old.b, PHONE_EVENTS).await;
    assert_eq!(phone_events.next_phone().await, Some(PhoneConfirmEvent::Pending { tries_left: 3 }));
    let a = pc.send("DELETE", "/api/smartphone/change/current", None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    // The phone hears it ended; the code confirms nothing any more.
    assert_eq!(phone_events.next_phone().await, Some(PhoneConfirmEvent::Ended));
    refused(&confirm(&mut pc, &code).await, ErrorCode::ConfirmationUnknown);
    refused(&issue(&mut pc, true).await, ErrorCode::Unauthenticated);
}

async fn a_ca_link_needs_no_confirmation(db: Db) {
    let w = world(db).await;
    let (url, _) =
        issue_link(&w.store, &w.config, &HpkiId::parse(HOLDER).unwrap(), 90, false).await.unwrap();
    let mut phone = w.phone();
    let a = phone.open(&url).await;
    let opened: EnrolmentOpened = serde_json::from_value(a.body).unwrap();
    assert_eq!(opened.confirm, PhoneConfirm::NotNeeded);
    // No PC anywhere: begin and finish straight away.
    let a = phone.begin().await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let credential = phone.create(a.body);
    let a = phone.finish(&credential, "phone").await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(w.active_phone().await, Some(credential.raw_id.to_vec()));
    // And no PC can confirm anything about it.
    let mut pc = w.pc().await;
    refused(&confirm(&mut pc, "123456").await, ErrorCode::ConfirmationUnknown);
}

/// Item 5: 中止 on the PC and the phone's finish, in parallel, forty times. Each round ends
/// either cancelled with no new phone or consumed with it; never a 500, never both.
async fn cancel_and_finish_race_cleanly(db: Db) {
    let w = world(db).await;
    let mut pc = w.pc().await;
    for round in 0..40 {
        let issued = issued(&mut pc, true).await;
        let (mut phone, credential) = opened_and_created(&w, &mut pc, &issued.url).await;
        let mut canceller = Browser { app: w.app.clone(), cookie: pc.cookie.clone(), signin: None };
        let cancel = tokio::spawn(async move {
            canceller.send("DELETE", "/api/smartphone/enrolments/current", None).await
        });
        let finish = tokio::spawn(async move { phone.finish(&credential, "phone").await });
        let (cancel, finish) = (cancel.await.unwrap(), finish.await.unwrap());
        assert_eq!(cancel.status, StatusCode::NO_CONTENT, "round {round}: {:?}", cancel.body);
        let e = w.store.enrolment_latest(HOLDER).await.unwrap().unwrap();
        let bound = w.store.phone_list(HOLDER).await.unwrap();
        let bound_here = bound.iter().any(|p| p.enrolment_id == Some(e.id));
        match e.state {
            CodeState::Cancelled => {
                refused(&finish, ErrorCode::EnrolmentCancelled);
                assert!(!bound_here, "round {round}: cancelled, yet a phone was bound");
            }
            CodeState::Consumed => {
                assert_eq!(finish.status, StatusCode::OK, "round {round}: {:?}", finish.body);
                assert!(bound_here, "round {round}: consumed without its phone");
            }
            s => panic!("round {round}: {s:?}"),
        }
    }
}

on_both_databases!(
    the_right_code_lets_the_phone_finish_and_the_phone_hears_it,
    a_phone_cannot_finish_before_the_pc_confirmed,
    the_commit_itself_refuses_an_unconfirmed_phone,
    three_wrong_codes_kill_the_code,
    parallel_guesses_get_three_tries_between_them,
    a_phone_that_opened_a_captured_code_cannot_finish,
    a_phished_change_link_gives_the_attacker_pc_no_grant,
    a_ca_link_needs_no_confirmation,
    cancel_on_the_pc_ends_an_unconfirmed_change,
    cancel_and_finish_race_cleanly,
);
