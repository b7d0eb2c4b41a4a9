//! The screens of スマートフォン変更 (the PC's two codes and the old phone's login) and of the JMA
//! path, rendered in real headless Chromium in Japanese and in English, and the actions they
//! emit. The whole change against the real server and two virtual authenticators is the
//! Playwright test.
#![cfg(target_arch = "wasm32")]

mod common;

use std::{cell::RefCell, rc::Rc};

use mahpki::{
    flows::{
        prove::{self, ProveView},
        smartphone::{Action, Code, Confirming, JmaEntry, SmartphoneView, Step, Via},
    },
    i18n::{Lang, Msg},
};
use mahpki_protocol::{
    ErrorCode,
    api::{Ca, Holder, Qualification},
    enrol::{ChangeOpened, ChangeProved, PhoneConfirm, PhoneConfirmEvent},
};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlInputElement;
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

const NOW: f64 = 1_000_000.0;

fn holder() -> Holder {
    common::holder(Ca::Jma, Qualification::Doctor)
}

fn code(path: &str) -> Code {
    Code {
        url: format!("https://hpki.example.jp{path}#AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        deadline_ms: NOW + 65_000.0,
        replace: true,
    }
}

async fn pc(via: Via, step: Step) -> (common::Mounted, Rc<RefCell<Vec<Action>>>) {
    let actions = Rc::new(RefCell::new(Vec::new()));
    let log = actions.clone();
    let on_action = Callback::from(move |a| log.borrow_mut().push(a));
    let view = html! { <SmartphoneView {via} {step} now_ms={NOW} {on_action} /> };
    (common::mount(Lang::Ja, view).await, actions)
}

fn input(m: &common::Mounted, selector: &str) -> HtmlInputElement {
    m.root.query_selector(selector).unwrap().unwrap().dyn_into().unwrap()
}

#[wasm_bindgen_test]
async fn every_change_screen_on_the_pc_says_its_part_in_both_languages() {
    let screens: Vec<(Step, Vec<&str>, Vec<&str>)> = vec![
        (
            Step::FirstCode(code("/change")),
            vec!["旧スマートフォン", "有効期限まで残り 1分05秒", "中止"],
            vec!["the old one", "Expires in 1:05", "Cancel"],
        ),
        (
            Step::FirstOpened(code("/change")),
            vec![
                "旧スマートフォンで操作を続けてください",
                "旧スマートフォンに確認コードが表示されます",
            ],
            vec!["Continue on your old smartphone", "shows a confirmation code"],
        ),
        (
            // The same confirmation screen as 別紙2's, saying where to read the code.
            Step::Confirm(Confirming {
                holder: None,
                code: code("/change"),
                tries_left: 1,
                wrong: true,
                sending: false,
            }),
            vec![
                "旧スマートフォンに表示されている確認コード",
                "確認コードが正しくありません。あと1回入力できます。",
                "中止",
            ],
            vec!["shown on your old smartphone", "Tries left: 1.", "Cancel"],
        ),
        (
            Step::ConfirmFailed { holder: None, replace: true },
            vec![
                "3回間違えたため",
                "旧スマートフォンは引き続き利用できます",
                "二次元コードを再発行",
            ],
            vec!["wrong three times", "The old smartphone keeps working", "Issue a new 2D code"],
        ),
        (
            Step::FirstExpired,
            vec!["有効期限が切れました", "二次元コードを再発行"],
            vec!["The code has expired", "Issue a new 2D code"],
        ),
        (
            Step::ShowCode(holder(), code("/enroll")),
            vec!["新しいスマートフォンのカメラで", "HP0000000001"],
            vec!["the new smartphone's camera", "HP0000000001"],
        ),
        (
            Step::Done { holder: holder(), replaced: true },
            vec![
                "スマートフォンの登録が完了しました。ブラウザを終了してください。",
                "以前に登録されていたスマートフォンは、認証に利用できなくなりました。",
            ],
            vec!["Your smartphone is registered.", "can no longer be used"],
        ),
        (
            Step::failed(ErrorCode::EnrolmentCancelled.into(), None),
            vec!["登録できませんでした", "旧スマートフォンは引き続き利用できます"],
            vec!["did not complete", "The old smartphone keeps working"],
        ),
        (
            Step::Cancelled,
            vec!["スマートフォン変更を中止しました。旧スマートフォンは引き続き利用できます。"],
            vec!["You cancelled the change. The old smartphone keeps working."],
        ),
    ];
    common::check_screens(Msg::SmartphoneChangeSiteTitle, screens, |step| {
        html! { <SmartphoneView via={Via::OldPhone} {step} now_ms={NOW} on_action={Callback::noop()} /> }
    })
    .await;
}

#[wasm_bindgen_test]
async fn the_first_code_is_drawn_with_its_own_link_and_reissued_after_expiry() {
    let (m, _) = pc(Via::OldPhone, Step::FirstCode(code("/change"))).await;
    assert!(m.root.query_selector(".qr[role=img][aria-label] svg").unwrap().is_some());
    assert_eq!(m.attr("#change-link", "href"), Some(code("/change").url));
    assert!(m.attr("#enrol-link", "href").is_none());
    let (m, actions) = pc(Via::OldPhone, Step::FirstExpired).await;
    m.press("二次元コードを再発行");
    m.press("中止");
    assert_eq!(*actions.borrow(), vec![Action::Reissue, Action::Cancel]);
}

#[wasm_bindgen_test]
async fn every_jma_screen_says_its_part_in_both_languages() {
    let entry = JmaEntry { registration_number: "101111".into(), card_id: "JMA00000001".into() };
    let form = |code: ErrorCode| Step::JmaForm { failure: Some(code.into()), entry: entry.clone() };
    let screens: Vec<(Step, Vec<&str>, Vec<&str>)> = vec![
        (
            Step::JmaForm { failure: None, entry: JmaEntry::default() },
            vec!["医籍登録番号", "カードID", "認証", "5回続けて間違えると、しばらく"],
            vec!["Medical registration number", "Card ID", "Authenticate", "5 wrong tries"],
        ),
        (
            form(ErrorCode::JmaLoginFailed),
            vec!["医籍登録番号またはカードIDが正しくありません。", "印字されている番号"],
            vec!["is not correct", "numbers printed on your HPKI card"],
        ),
        (
            form(ErrorCode::JmaLocked),
            vec!["しばらく受け付けません", "15分以上たってから", "解除を申請"],
            vec!["is paused for a while", "after at least 15 minutes", "lift the pause"],
        ),
        (Step::JmaChecking(entry.clone()), vec!["確認しています"], vec!["Checking"]),
    ];
    common::check_screens(Msg::SmartphoneSiteTitle, screens, |step| {
        html! { <SmartphoneView via={Via::Jma} {step} now_ms={NOW} on_action={Callback::noop()} /> }
    })
    .await;
}

#[wasm_bindgen_test]
async fn the_jma_form_sends_both_numbers_trimmed_and_keeps_them_after_a_refusal() {
    let (m, actions) = pc(Via::Jma, Step::first(Via::Jma)).await;
    input(&m, "#registration-number").set_value(" 123456 ");
    input(&m, "#card-id").set_value("HPKI0001 ");
    assert_eq!(m.attr("#card-id", "autocomplete").as_deref(), Some("off"));
    m.press("認証");
    let sent = JmaEntry { registration_number: "123456".into(), card_id: "HPKI0001".into() };
    assert_eq!(*actions.borrow(), vec![Action::JmaLogin(sent.clone())]);
    // Refused: the same numbers are back in the form, to correct rather than type again.
    let failure = Some(ErrorCode::JmaLoginFailed.into());
    let (m, _) = pc(Via::Jma, Step::JmaForm { failure, entry: sent }).await;
    assert_eq!(input(&m, "#registration-number").value(), "123456");
    assert_eq!(input(&m, "#card-id").value(), "HPKI0001");
    // While the server checks, the button waits.
    let (m, _) = pc(Via::Jma, Step::JmaChecking(JmaEntry::default())).await;
    assert!(m.attr("button[type=submit]", "disabled").is_some());
}

/// Like the PIN screens, the JMA form says how many tries remain and, once paused, for how long;
/// and it has a way back.
#[wasm_bindgen_test]
async fn the_jma_form_says_the_tries_left_and_the_pause_and_has_a_way_back() {
    let refused = |code: ErrorCode, tries_left, retry_after_secs| {
        let failure = mahpki::flows::run::Failure { tries_left, retry_after_secs, ..code.into() };
        Step::JmaForm { failure: Some(failure), entry: JmaEntry::default() }
    };
    let (m, _) = pc(Via::Jma, refused(ErrorCode::JmaLoginFailed, Some(3), None)).await;
    let t = m.text();
    assert!(t.contains("残り回数: 3回") && !t.contains("分後から"), "{t}");
    assert!(t.contains("トップページへ戻る"), "{t}");
    assert_eq!(m.attr("form a.button", "href").as_deref(), Some("/"));
    // The fifth wrong entry starts the pause: both at once.
    let (m, _) = pc(Via::Jma, refused(ErrorCode::JmaLoginFailed, Some(0), Some(900))).await;
    assert!(m.text().contains("残り回数: 0回") && m.text().contains("15分後から再度入力できます"));
    let (m, _) = pc(Via::Jma, refused(ErrorCode::JmaLocked, None, Some(1801))).await;
    assert!(m.text().contains("31分後から再度入力できます"), "{}", m.text());
}

#[wasm_bindgen_test]
async fn the_hpki_start_offers_the_jma_path() {
    let (m, _) = pc(Via::Hpki, Step::Ready { readers: vec![] }).await;
    assert!(m.text().contains("医籍登録番号とカードIDで登録"));
    assert_eq!(m.attr(".hint a", "href").as_deref(), Some("/smartphone/jma"));
}

fn opened() -> ChangeOpened {
    ChangeOpened { expires_in_secs: 60 }
}

async fn phone(step: prove::Step) -> (common::Mounted, Rc<RefCell<Vec<prove::Action>>>) {
    let actions = Rc::new(RefCell::new(Vec::new()));
    let log = actions.clone();
    let on_action = Callback::from(move |a| log.borrow_mut().push(a));
    (common::mount(Lang::Ja, html! { <ProveView {step} {on_action} /> }).await, actions)
}

#[wasm_bindgen_test]
async fn every_old_phone_screen_says_its_part_in_both_languages() {
    let login =
        |invalid| prove::Step::Login { opened: opened(), hpki_id: "HP0000000001".into(), invalid };
    let failed = |code: ErrorCode, again: bool| prove::Step::Failed {
        failure: code.into(),
        opened: again.then(|| (opened(), "HP0000000001".into())),
    };
    let screens: Vec<(prove::Step, Vec<&str>, Vec<&str>)> = vec![
        (prove::Step::Opening, vec!["登録情報を確認しています"], vec!["Checking the registration"]),
        (login(false), vec!["Username(本人ID)", "ログイン"], vec!["Username (HPKI ID)", "Log in"]),
        (login(true), vec!["半角英数字とハイフン"], vec!["ASCII letters, digits and hyphens"]),
        (
            prove::Step::Proving(opened(), mahpki_protocol::HpkiId::parse("HP1").unwrap()),
            vec!["生体認証を行ってください"],
            vec!["biometric check"],
        ),
        (
            prove::Step::Confirming(ChangeProved {
                hpki_id: holder().hpki_id,
                confirm: PhoneConfirm::Show { code: "731904".into() },
            }),
            vec![
                "PCの画面に次の確認コードを入力してください。",
                "確認コード: 731904",
                "他の人には絶対に教えないでください",
            ],
            vec![
                "Enter this confirmation code on the PC screen.",
                "Confirmation code: 731904",
                "never tell it to anyone",
            ],
        ),
        (
            failed(ErrorCode::ConfirmationFailed, false),
            vec!["3回間違えたため", "何も変更されていません"],
            vec!["wrong three times", "Nothing was changed"],
        ),
        (
            prove::Step::Done,
            vec!["本人確認が完了しました。", "新しいスマートフォンの登録が完了するまで"],
            vec!["You are confirmed.", "keeps working until the new one"],
        ),
        (
            failed(ErrorCode::PhoneNotBound, true),
            vec!["登録済みのスマートフォンがありません", "もう一度試す", "何も変更されていません"],
            vec!["No phone is registered", "Try again", "Nothing was changed"],
        ),
        (
            failed(ErrorCode::WebauthnNotProved, true),
            vec![
                "登録済みのものではありません",
                "もう一度「ログイン」を押して",
                "新しいスマートフォンで",
            ],
            vec!["not the registered phone", "Press Log in again", "with the new phone"],
        ),
        (
            failed(ErrorCode::EnrolmentExpired, false),
            vec!["有効期限が切れました", "スマートフォン変更をやり直し"],
            vec!["has expired", "Start the change again on the PC"],
        ),
    ];
    common::check_screens(Msg::ProveSiteTitle, screens, |step| {
        html! { <ProveView {step} on_action={Callback::noop()} /> }
    })
    .await;
}

#[wasm_bindgen_test]
async fn the_old_phone_logs_in_with_the_hpki_id_as_entered() {
    let step = prove::Step::Login { opened: opened(), hpki_id: String::new(), invalid: false };
    let (m, actions) = phone(step).await;
    // Not remembered on this phone: the holder types it, and may correct it.
    assert!(m.attr("#username", "readonly").is_none());
    input(&m, "#username").set_value("HP0000000001");
    m.press("ログイン");
    assert_eq!(*actions.borrow(), vec![prove::Action::Login("HP0000000001".into())]);
    let step = prove::Step::Login { opened: opened(), hpki_id: "bad id".into(), invalid: true };
    let (m, _) = phone(step).await;
    assert_eq!(m.attr("#username", "aria-invalid").as_deref(), Some("true"));
    assert_eq!(m.attr("#username-error", "role").as_deref(), Some("alert"));
}

#[wasm_bindgen_test]
async fn the_old_phone_goes_on_only_when_the_pc_confirmed() {
    assert_eq!(prove::on_confirm(Ok(PhoneConfirmEvent::Pending { tries_left: 3 })), None);
    assert_eq!(prove::on_confirm(Ok(PhoneConfirmEvent::Confirmed)), Some(prove::Step::Done));
    let dead = prove::on_confirm(Ok(PhoneConfirmEvent::Failed));
    assert!(
        matches!(dead, Some(prove::Step::Failed { failure, opened: None }) if failure.code == ErrorCode::ConfirmationFailed)
    );
}
