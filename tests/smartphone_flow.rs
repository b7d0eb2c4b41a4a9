//! Every screen of 別紙2, on the PC and on the phone, rendered in real headless Chromium in
//! Japanese and in English, and the actions they emit. The whole flow against the real server,
//! helper and a virtual authenticator is the Playwright test.
#![cfg(target_arch = "wasm32")]

mod common;

use std::{cell::RefCell, rc::Rc};

use mahpki::{
    flows::{
        card::CardStage,
        enrol::{self, EnrolView},
        smartphone::{Action, Code, Confirming, SmartphoneView, Step, Via},
    },
    i18n::{Lang, Msg},
};
use mahpki_protocol::{
    ErrorCode, HpkiId,
    api::{Ca, Holder, Qualification},
    enrol::{EnrolmentOpened, PhoneBound, PhoneConfirm, PhoneCredential},
};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

fn holder() -> Holder {
    common::holder(Ca::Jma, Qualification::Dentist)
}

fn code(replace: bool) -> Code {
    Code {
        url: "https://hpki.example.jp/enroll#AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
        deadline_ms: 1_000_000.0 + 245_000.0,
        replace,
    }
}

const NOW: f64 = 1_000_000.0;

fn asking(tries_left: u8, wrong: bool) -> Step {
    Step::Confirm(Confirming {
        holder: Some(holder()),
        code: code(false),
        tries_left,
        wrong,
        sending: false,
    })
}

async fn pc(step: Step, lang: Lang) -> (common::Mounted, Rc<RefCell<Vec<Action>>>) {
    let actions = Rc::new(RefCell::new(Vec::new()));
    let log = actions.clone();
    let on_action = Callback::from(move |a| log.borrow_mut().push(a));
    let m = common::mount(
        lang,
        html! { <SmartphoneView via={Via::Hpki} {step} now_ms={NOW} {on_action} /> },
    )
    .await;
    (m, actions)
}

fn pc_screens() -> Vec<(Step, Vec<&'static str>, Vec<&'static str>)> {
    vec![
        (
            Step::Ready { readers: vec![] },
            vec!["HPKIカードで登録または変更"],
            vec!["Register or change with HPKI card"],
        ),
        (
            Step::HpkiAuth(CardStage::Communicating),
            vec!["HPKIカードと通信をしています。"],
            vec!["Communicating with the HPKI card."],
        ),
        (Step::Issuing(holder()), vec!["2次元コードを発行しています"], vec!["Issuing the 2D code"]),
        (
            Step::AskReplace(holder()),
            vec![
                "デバイスがすでに登録済みとなっています。現在のデバイスを削除して再度登録をし直しますか?",
                "はい(現在のスマートフォンを削除して登録し直す)",
                "いいえ(現在のスマートフォンを使い続ける)",
                "現在のスマートフォンをそのまま使えます",
            ],
            vec!["A device is already registered.", "Yes", "No", "keeps working"],
        ),
        (
            Step::ShowCode(holder(), code(false)),
            vec![
                "二次元コードを読み取り",
                "有効期限まで残り 4分05秒",
                "有効期限内に読み取らないと",
                "Safariで開く",
                "二次元コードを読み取れない場合",
                "中止",
            ],
            vec![
                "Scan the 2D code",
                "Expires in 4:05",
                "Open in Safari",
                "If you cannot scan",
                "Cancel",
            ],
        ),
        (
            asking(3, false),
            vec![
                "確認コードの入力",
                "スマートフォンに表示されている確認コード(6桁の数字)を入力し",
                "確認",
                "3回間違えると",
                "中止",
            ],
            vec![
                "Enter the confirmation code",
                "shown on your smartphone",
                "Confirm",
                "three wrong entries",
                "Cancel",
            ],
        ),
        (
            asking(2, true),
            vec!["確認コードが正しくありません。あと2回入力できます。"],
            vec!["That confirmation code is not correct. Tries left: 2."],
        ),
        (
            Step::ConfirmFailed { holder: Some(holder()), replace: false },
            vec!["3回間違えたため", "心当たりのないスマートフォン", "二次元コードを再発行"],
            vec!["wrong three times", "A phone that is not yours", "Issue a new 2D code"],
        ),
        (
            Step::Opened(holder(), code(false)),
            vec!["スマートフォンで操作を続けてください"],
            vec!["Continue on your smartphone"],
        ),
        (
            Step::Expired { holder: holder(), replace: false },
            vec!["有効期限が切れました", "二次元コードを再発行"],
            vec!["The code has expired", "Issue a new 2D code"],
        ),
        (
            Step::Done { holder: holder(), replaced: false },
            vec![
                "スマートフォンの登録が完了しました。ブラウザを終了してください。",
                "タブだけでなくブラウザ全体を終了",
            ],
            vec!["Your smartphone is registered. Please close the browser.", "whole browser"],
        ),
        (
            Step::Done { holder: holder(), replaced: true },
            vec!["以前に登録されていたスマートフォンは、認証に利用できなくなりました。"],
            vec!["can no longer be used"],
        ),
        (
            Step::KeptCurrent(holder()),
            vec!["現在のスマートフォンの登録はそのままです。"],
            vec!["stays registered"],
        ),
        (
            Step::failed(ErrorCode::EnrolmentCancelled.into(), Some(holder())),
            vec![
                "登録できませんでした",
                "新しいコードの発行により無効",
                "スマートフォンは登録されていません。",
            ],
            vec![
                "did not complete",
                "replaced by a newer one",
                "No smartphone has been registered.",
            ],
        ),
        (
            Step::Cancelled,
            vec!["登録を中止しました。スマートフォンは登録されていません。"],
            vec!["You cancelled. No smartphone"],
        ),
    ]
}

#[wasm_bindgen_test]
async fn every_pc_screen_says_its_part_in_both_languages() {
    common::check_screens(Msg::SmartphoneSiteTitle, pc_screens(), |step| {
        html! { <SmartphoneView via={Via::Hpki} {step} now_ms={NOW} on_action={Callback::noop()} /> }
    })
    .await;
}

#[wasm_bindgen_test]
async fn the_code_screen_draws_the_2d_code_and_offers_the_link() {
    let (m, _) = pc(Step::ShowCode(holder(), code(false)), Lang::Ja).await;
    assert!(m.root.query_selector(".qr[role=img][aria-label] svg").unwrap().is_some());
    assert_eq!(m.attr("#enrol-link", "href"), Some(code(false).url));
    assert_eq!(m.attr("#enrol-link", "rel").as_deref(), Some("noopener noreferrer"));
}

#[wasm_bindgen_test]
async fn the_pc_sends_the_code_as_typed_without_spaces() {
    let (m, actions) = pc(asking(3, false), Lang::Ja).await;
    assert!(!m.text().contains("正しくありません"), "no error before a wrong entry");
    let input = m
        .root
        .query_selector("#confirm-code")
        .unwrap()
        .unwrap()
        .dyn_into::<web_sys::HtmlInputElement>()
        .unwrap();
    assert_eq!(input.get_attribute("inputmode").as_deref(), Some("numeric"));
    input.set_value(" 123 456 ");
    m.press("確認");
    assert_eq!(*actions.borrow(), vec![Action::Confirm("123456".into())]);
    // The field is emptied for the next try.
    assert_eq!(input.value(), "");
}

#[wasm_bindgen_test]
async fn pc_buttons_emit_the_holders_answers() {
    for (step, label, action) in [
        (Step::AskReplace(holder()), Msg::Yes.in_lang(Lang::Ja), Action::Replace),
        (Step::AskReplace(holder()), Msg::No.in_lang(Lang::Ja), Action::Keep),
        (
            Step::Expired { holder: holder(), replace: true },
            "二次元コードを再発行",
            Action::Reissue,
        ),
        (Step::ShowCode(holder(), code(false)), "中止", Action::Cancel),
        (asking(1, true), "中止", Action::Cancel),
        (
            Step::ConfirmFailed { holder: Some(holder()), replace: true },
            "二次元コードを再発行",
            Action::Reissue,
        ),
        (Step::Ready { readers: vec![] }, "HPKIカードで登録または変更", Action::StartHpki),
    ] {
        let (m, actions) = pc(step.clone(), Lang::Ja).await;
        m.press(label);
        assert_eq!(*actions.borrow(), vec![action], "{step:?} / {label}");
    }
}

fn opened_with(confirm: PhoneConfirm) -> EnrolmentOpened {
    EnrolmentOpened {
        hpki_id: HpkiId::parse("HP0000000001").unwrap(),
        expires_in_secs: 300,
        replace: false,
        confirm,
    }
}

/// Opened from a PC's code, and the PC already entered the phone's code.
fn opened() -> EnrolmentOpened {
    opened_with(PhoneConfirm::Done)
}

fn showing() -> EnrolmentOpened {
    opened_with(PhoneConfirm::Show { code: "482913".into() })
}

/// Opened from a CA's link: no PC anywhere.
fn link() -> EnrolmentOpened {
    opened_with(PhoneConfirm::NotNeeded)
}

async fn phone(
    step: enrol::Step,
    lang: Lang,
) -> (common::Mounted, Rc<RefCell<Vec<enrol::Action>>>) {
    let actions = Rc::new(RefCell::new(Vec::new()));
    let log = actions.clone();
    let on_action = Callback::from(move |a| log.borrow_mut().push(a));
    let m = common::mount(lang, html! { <EnrolView {step} {on_action} /> }).await;
    (m, actions)
}

#[wasm_bindgen_test]
async fn every_phone_screen_says_its_part_in_both_languages() {
    let done = PhoneBound {
        phone: PhoneCredential {
            credential_id: "AA".into(),
            label: "iPhone 2026-11-26".into(),
            bound_at: 0,
        },
        replaced: None,
    };
    let failed =
        |code: ErrorCode| enrol::Step::Failed { failure: code.into(), opened: Some(opened()) };
    let screens: Vec<(enrol::Step, Vec<&str>, Vec<&str>)> = vec![
        (enrol::Step::Opening, vec!["登録情報を確認しています"], vec!["Checking the registration"]),
        (
            enrol::Step::Login(showing()),
            vec![
                "Username(本人ID)",
                "PCの画面に次の確認コードを入力してください。",
                "確認コード: 482913",
                "他の人には絶対に教えないでください",
                "PCでの入力を待っています",
            ],
            vec![
                "Username (HPKI ID)",
                "Enter this confirmation code on the PC screen.",
                "Confirmation code: 482913",
                "never tell it to anyone",
                "Waiting for the code to be entered on the PC",
            ],
        ),
        (
            enrol::Step::Login(opened()),
            vec!["Username(本人ID)", "PCで確認コードが確認されました。", "登録"],
            vec!["Username (HPKI ID)", "accepted on the PC", "Register"],
        ),
        (
            enrol::Step::Registering(opened()),
            vec!["生体認証を行ってください"],
            vec!["biometric check"],
        ),
        (enrol::Step::Saving(opened()), vec!["登録しています"], vec!["Registering"]),
        (
            enrol::Step::Done { bound: done, link: false },
            vec!["登録が完了しました。", "PCの画面にも完了画面"],
            vec!["Registration is complete.", "PC screen shows completion"],
        ),
        (
            failed(ErrorCode::ConfirmationFailed),
            vec!["3回間違えたため", "PCで二次元コードを発行し直し"],
            vec!["wrong three times", "Issue a new 2D code on the PC"],
        ),
        (
            failed(ErrorCode::WebauthnCancelled),
            vec!["生体認証が完了しませんでした", "もう一度試す"],
            vec!["did not complete", "Try again"],
        ),
        (
            failed(ErrorCode::WebauthnUnsupported),
            vec!["画面ロックと生体認証", "標準のブラウザ", "PCで二次元コードを発行し直し"],
            vec!["screen lock", "default browser", "Issue a new 2D code on the PC"],
        ),
        (failed(ErrorCode::EnrolmentExpired), vec!["有効期限が切れました"], vec!["has expired"]),
        (failed(ErrorCode::EnrolmentUsed), vec!["既に使用されています"], vec!["already been used"]),
        (
            failed(ErrorCode::EnrolmentOtherDevice),
            vec!["別のスマートフォンで既に読み取られています"],
            vec!["another phone"],
        ),
    ];
    common::check_screens(Msg::EnrolSiteTitle, screens, |step| {
        html! { <EnrolView {step} on_action={Callback::noop()} /> }
    })
    .await;
}

/// A CA's link has no PC: none of its screens may send the holder to one.
#[wasm_bindgen_test]
async fn a_links_screens_never_mention_a_pc() {
    let done = PhoneBound {
        phone: PhoneCredential { credential_id: "AA".into(), label: "phone".into(), bound_at: 0 },
        replaced: None,
    };
    for step in [
        enrol::Step::Login(link()),
        enrol::Step::Registering(link()),
        enrol::Step::Saving(link()),
        enrol::Step::Done { bound: done, link: true },
        enrol::Step::Failed { failure: ErrorCode::WebauthnCancelled.into(), opened: Some(link()) },
        enrol::Step::Failed { failure: ErrorCode::EnrolmentLinkExpired.into(), opened: None },
        enrol::Step::Failed { failure: ErrorCode::EnrolmentExpired.into(), opened: Some(link()) },
        enrol::Step::Failed { failure: ErrorCode::EnrolmentUsed.into(), opened: Some(link()) },
        enrol::Step::Failed {
            failure: ErrorCode::WebauthnUnsupported.into(),
            opened: Some(link()),
        },
    ] {
        for lang in [Lang::Ja, Lang::En] {
            let (m, _) = phone(step.clone(), lang).await;
            let t = m.text();
            assert!(!t.contains("PC"), "{step:?} in {lang:?} mentions a PC: {t}");
            assert!(!t.contains("確認コード") && !t.contains("onfirmation code"), "{t}");
        }
    }
    // The expired link's way on is said once, and it is the CA's.
    let (m, _) = phone(
        enrol::Step::Failed { failure: ErrorCode::EnrolmentLinkExpired.into(), opened: None },
        Lang::Ja,
    )
    .await;
    assert_eq!(m.text().matches("認証局").count(), 1, "{}", m.text());
    assert!(m.text().contains(mahpki_protocol::error::ASK_CA_FOR_LINK.ja));
    let (m, actions) = phone(enrol::Step::Login(link()), Lang::Ja).await;
    m.press("登録");
    assert_eq!(*actions.borrow(), vec![enrol::Action::Register]);
    let (m, _) = phone(
        enrol::Step::Failed { failure: ErrorCode::WebauthnFailed.into(), opened: None },
        Lang::En,
    )
    .await;
    assert!(m.text().contains("on the PC"), "a PC's code says where a new one comes from");
}

/// The replace question's two answers say what each does, the first styled as the main one, and
/// no third button (中止) that would do the same as 「いいえ」.
#[wasm_bindgen_test]
async fn the_replace_question_has_two_answers_that_say_what_they_do() {
    let (m, _) = pc(Step::AskReplace(holder()), Lang::Ja).await;
    let buttons = m.root.query_selector_all("button").unwrap();
    let labels: Vec<(String, String)> = (0..buttons.length())
        .filter_map(|i| buttons.item(i))
        .map(|b| b.dyn_into::<web_sys::Element>().unwrap())
        .map(|b| (b.text_content().unwrap_or_default(), b.class_name()))
        .collect();
    assert_eq!(
        labels,
        vec![
            (Msg::Yes.in_lang(Lang::Ja).to_owned(), "button primary".to_owned()),
            (Msg::No.in_lang(Lang::Ja).to_owned(), "button".to_owned()),
        ]
    );
}

/// A locked HPKI PIN ends the way: the remedy and the top page, not 「もう一度試す」.
#[wasm_bindgen_test]
async fn a_locked_pin_offers_no_retry_on_the_phone_flow() {
    let (m, _) = pc(Step::failed(ErrorCode::HpkiPinLocked.into(), None), Lang::Ja).await;
    let t = m.text();
    assert!(!t.contains("もう一度試す") && t.contains("トップページへ戻る"), "{t}");
    assert!(t.contains(ErrorCode::HpkiPinLocked.remedy().ja), "{t}");
}

#[wasm_bindgen_test]
async fn the_phone_offers_register_only_after_the_pc_confirmed() {
    let (m, _) = phone(enrol::Step::Login(showing()), Lang::Ja).await;
    assert_eq!(m.root.query_selector("button").unwrap(), None, "{}", m.text());
    assert_eq!(
        m.root.query_selector("#confirm-code-shown").unwrap().unwrap().text_content().as_deref(),
        Some("482913")
    );
    // The push that the PC confirmed turns the screen into the one with 登録.
    let next =
        enrol::on_confirm(&showing(), Ok(mahpki_protocol::enrol::PhoneConfirmEvent::Confirmed));
    assert_eq!(next, Some(enrol::Step::Login(opened())));
    let dead = enrol::on_confirm(&showing(), Ok(mahpki_protocol::enrol::PhoneConfirmEvent::Failed));
    assert!(
        matches!(dead, Some(enrol::Step::Failed { failure, .. }) if failure.code == ErrorCode::ConfirmationFailed)
    );
    assert_eq!(
        enrol::on_confirm(
            &showing(),
            Ok(mahpki_protocol::enrol::PhoneConfirmEvent::Pending { tries_left: 2 })
        ),
        None
    );
}

#[wasm_bindgen_test]
async fn the_login_screen_shows_the_hpki_id_read_only_and_registers() {
    let (m, actions) = phone(enrol::Step::Login(opened()), Lang::Ja).await;
    assert!(m.attr("#username", "readonly").is_some());
    assert_eq!(
        m.root
            .query_selector("#username")
            .unwrap()
            .unwrap()
            .dyn_into::<web_sys::HtmlInputElement>()
            .unwrap()
            .value(),
        "HP0000000001"
    );
    m.press("登録");
    assert_eq!(*actions.borrow(), vec![enrol::Action::Register]);
    // Only a cancelled prompt is retried on the phone; an expired code needs a new one.
    let (retry, _) = phone(
        enrol::Step::Failed {
            failure: ErrorCode::WebauthnCancelled.into(),
            opened: Some(opened()),
        },
        Lang::Ja,
    )
    .await;
    assert!(retry.text().contains("もう一度試す"));
    let (expired, _) = phone(
        enrol::Step::Failed { failure: ErrorCode::EnrolmentExpired.into(), opened: None },
        Lang::Ja,
    )
    .await;
    assert!(!expired.text().contains("もう一度試す"));
}
