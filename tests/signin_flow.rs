//! Every screen of the sign-in page rendered in real headless Chromium (wasm-bindgen-test), in
//! Japanese and in English, the holder's actions they emit, and where a sign-in goes on to. The
//! view is pure, so each screen is mounted straight from its `Step`; the whole flow against real
//! parts is the Playwright test.
#![cfg(target_arch = "wasm32")]

use std::{cell::RefCell, rc::Rc};

use mahpki::{
    flows::{
        card::CardStage,
        continue_to::{ACCOUNT_PATH, after_sign_in, link},
        run::Failure,
        signin::{Action, Helper, SignInView, Step, Way},
    },
    i18n::{Lang, Msg},
};
use mahpki_protocol::{
    ErrorCode,
    api::{Ca, Qualification, SignInFactor, SignedIn},
    error::Place,
    helper::{CardPresence, ReaderStatus},
};
use wasm_bindgen_test::*;
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;

struct Mounted {
    screen: common::Mounted,
    actions: Rc<RefCell<Vec<Action>>>,
}

impl std::ops::Deref for Mounted {
    type Target = common::Mounted;
    fn deref(&self) -> &common::Mounted {
        &self.screen
    }
}

async fn mount_with(step: Step, lang: Lang, continue_to: Option<&str>) -> Mounted {
    let continue_to = continue_to.map(|c| AttrValue::from(c.to_owned()));
    let actions = Rc::new(RefCell::new(Vec::new()));
    let log = actions.clone();
    let on_action = Callback::from(move |a| log.borrow_mut().push(a));
    let screen =
        common::mount(lang, html! { <SignInView {step} {continue_to} {on_action} /> }).await;
    Mounted { screen, actions }
}

async fn mount(step: Step, lang: Lang) -> Mounted {
    mount_with(step, lang, None).await
}

/// 2031-03-31 09:00 to 2031-04-01 03:00 in Japan (18 hours).
fn signed_in(factor: SignInFactor) -> SignedIn {
    let since = 1_932_681_600;
    SignedIn {
        holder: common::holder(Ca::Jma, Qualification::Doctor),
        factor,
        since,
        until: since + 18 * 3600,
    }
}

const DOWNLOAD: &str = "https://dl.example.jp/mahpki-helper";

fn ready() -> Step {
    Step::Choose(Helper::Ready(vec![ReaderStatus {
        name: "Reader A".into(),
        card: CardPresence::Jpki,
    }]))
}

fn screens() -> Vec<(Step, Vec<&'static str>, Vec<&'static str>)> {
    vec![
        (Step::Checking, vec!["サインインの状態を確認しています"], vec!["Checking whether"]),
        (
            ready(),
            vec![
                "原則として1日1回",
                "Reader A: マイナンバーカード",
                "(i) HPKIカード",
                "HPKIカードでサインイン",
                "(ii) マイナンバーカード",
                "数字4桁",
                "別紙1の手順",
                "マイナンバーカードでサインイン",
                "(iii) スマートフォン",
                "スマートフォンでサインイン",
                "別ウィンドウ",
            ],
            vec![
                "As a rule once a day",
                "Reader A: My Number card",
                "Sign in with HPKI card",
                "4 digits",
                "Annex 1",
                "Sign in with My Number card",
                "Sign in with smartphone",
            ],
        ),
        (
            Step::Choose(Helper::Missing(ErrorCode::HelperUnreachable, DOWNLOAD.into())),
            vec!["mahpki-helper)に接続できません", "スマートフォンでのサインインは", "再確認"],
            vec!["cannot be reached", "works without it", "Check again"],
        ),
        (
            Step::Card(Way::MyNumber, CardStage::Communicating),
            vec!["マイナンバーカードでサインイン", "個人番号カードと通信をしています。", "中止"],
            vec!["Communicating with the My Number card.", "Cancel"],
        ),
        (
            Step::Card(Way::HpkiCard, CardStage::Verifying),
            vec!["HPKIカードでサインイン", "サーバーで確認しています"],
            vec!["Sign in with HPKI card", "checking"],
        ),
        (
            Step::SignedIn(signed_in(SignInFactor::Mynumber)),
            vec![
                "サインインしています",
                "医療 一郎",
                "(ii) マイナンバーカード",
                "2031年3月31日 9:00",
                "2031年4月1日 3:00",
                "登録状況へ進む",
                "サインアウト",
                "もう一度サインインする",
            ],
            vec![
                "You are signed in",
                "IRYO ICHIRO",
                "(ii) My Number card",
                "2031-04-01 3:00",
                "Sign out",
                "Sign in again",
            ],
        ),
        (
            Step::Done(signed_in(SignInFactor::HpkiCard)),
            vec!["サインインしました。次の画面に移動しています", "(i) HPKIカード"],
            vec!["Moving on", "(i) HPKI card"],
        ),
        (
            Step::Failed(Failure::from(ErrorCode::MyNumberNotBound).at(Place::MyNumberCard)),
            vec![
                "サインインできませんでした",
                "登録されていません",
                "別紙1の手順でマイナンバーカードを登録してください",
                "もう一度試す",
                "トップページへ戻る",
            ],
            vec!["You could not be signed in", "not registered", "Annex 1", "Try again"],
        ),
        (
            Step::SignedOut,
            vec!["サインアウトしました", "ブラウザも終了してください", "サインイン"],
            vec!["You have signed out", "close the browser"],
        ),
    ]
}

#[wasm_bindgen_test]
async fn every_screen_says_its_part_in_both_languages() {
    common::check_screens(Msg::SignInTitle, screens(), |step| {
        html! { <SignInView {step} on_action={Callback::noop()} /> }
    })
    .await;
}

/// The three ways come in the guide's order, the smartphone's as a link to its own page.
#[wasm_bindgen_test]
async fn the_three_ways_in_the_guides_order() {
    let m = mount(ready(), Lang::Ja).await;
    let t = m.text();
    let at = |s: &str| t.find(s).unwrap_or_else(|| panic!("{s:?} missing from {t}"));
    assert!(at("(i) HPKIカード") < at("(ii) マイナンバーカード"));
    assert!(at("(ii) マイナンバーカード") < at("(iii) スマートフォン"));
    assert_eq!(m.attr("a#signin-smartphone", "href").as_deref(), Some("/signin/smartphone"));
    assert_eq!(m.attr("[data-step]", "data-step").as_deref(), Some("choose"));
    // A heading per way, for a screen reader's list of headings.
    for id in ["way-hpki", "way-mynumber", "way-smartphone"] {
        assert!(m.attr(&format!("h3#{id}"), "id").is_some(), "{id}");
    }
}

/// Sent by a relying service, the smartphone way keeps where to go back to: signing in with the
/// phone from the PC ends at the service, not at the holder's page.
#[wasm_bindgen_test]
async fn the_smartphone_way_carries_the_relying_services_step() {
    let m = mount_with(ready(), Lang::Ja, Some(BACK)).await;
    let href = m.attr("a#signin-smartphone", "href").unwrap_or_default();
    assert_eq!(href, "/signin/smartphone?continue=%2Foidc%2Fauthorize%3Frequest%3Dabc%26x%3D1");
    // Only a path to continue to is carried; anything else is dropped, not passed on.
    assert_eq!(
        link("/signin/smartphone", Some("https://evil.example/oidc/")),
        "/signin/smartphone"
    );
    assert_eq!(link("/signin/smartphone", None), "/signin/smartphone");
}

/// Without the helper the card buttons are disabled (and say why); the smartphone way stays.
#[wasm_bindgen_test]
async fn without_the_helper_only_the_smartphone_way_is_offered() {
    let m = mount(
        Step::Choose(Helper::Missing(ErrorCode::HelperUnreachable, DOWNLOAD.into())),
        Lang::Ja,
    )
    .await;
    assert!(m.attr("button.primary", "disabled").is_some());
    m.press("マイナンバーカードでサインイン");
    assert!(m.actions.borrow().is_empty(), "a disabled button started a card way");
    assert_eq!(m.attr("a#helper-download", "href").as_deref(), Some(DOWNLOAD));
    assert_eq!(m.attr("a#signin-smartphone", "href").as_deref(), Some("/signin/smartphone"));
}

#[wasm_bindgen_test]
async fn each_refusal_is_shown_with_its_remedy() {
    for code in [
        ErrorCode::MyNumberNotBound,
        ErrorCode::MyNumberBindingEnded,
        ErrorCode::HolderSuspended,
        ErrorCode::CertificateRevoked,
        ErrorCode::CertificateExpired,
        ErrorCode::SignatureInvalid,
        ErrorCode::ChallengeUnknown,
        ErrorCode::ChallengeWrongPurpose,
        ErrorCode::JpkiPinLocked,
    ] {
        let m = mount(Step::Failed(Failure::from(code).at(Place::MyNumberCard)), Lang::Ja).await;
        assert_eq!(m.attr("[role=alert]", "data-error"), Some(code.wire()), "{code:?}");
        let t = m.text();
        let (msg, remedy) =
            (code.message_at(Some(Place::MyNumberCard)), code.remedy_at(Some(Place::MyNumberCard)));
        assert!(t.contains(msg.ja) && t.contains(remedy.ja), "{code:?}: {t}");
    }
}

#[wasm_bindgen_test]
async fn buttons_emit_the_holders_actions() {
    let cases: Vec<(Step, &str, Action)> = vec![
        (ready(), "HPKIカードでサインイン", Action::Start(Way::HpkiCard)),
        (ready(), "マイナンバーカードでサインイン", Action::Start(Way::MyNumber)),
        (
            Step::Choose(Helper::Missing(ErrorCode::HelperUnreachable, DOWNLOAD.into())),
            "再確認",
            Action::Retry,
        ),
        (Step::Card(Way::MyNumber, CardStage::Preparing), "中止", Action::Cancel),
        (Step::SignedIn(signed_in(SignInFactor::Passkey)), "サインアウト", Action::SignOut),
        (Step::SignedIn(signed_in(SignInFactor::Passkey)), "登録状況へ進む", Action::Continue),
        (
            Step::SignedIn(signed_in(SignInFactor::Passkey)),
            "もう一度サインインする",
            Action::SignInAgain,
        ),
        (Step::Failed(ErrorCode::PinWrong.into()), "もう一度試す", Action::Retry),
        (Step::SignedOut, "サインイン", Action::SignInAgain),
    ];
    for (step, label, action) in cases {
        let m = mount(step.clone(), Lang::Ja).await;
        m.press(label);
        assert_eq!(*m.actions.borrow(), vec![action], "{step:?} / {label}");
    }
}

/// Sent by a relying service, the signed-in screen goes back to it rather than to the holder's page.
#[wasm_bindgen_test]
async fn a_relying_services_holder_is_sent_back_to_it() {
    let m =
        mount_with(Step::SignedIn(signed_in(SignInFactor::HpkiCard)), Lang::Ja, Some(BACK)).await;
    m.press("サービスの画面へ進む");
    assert_eq!(*m.actions.borrow(), vec![Action::Continue]);
    assert!(!m.text().contains("登録状況へ進む"));
}

/// The `continue` a relying service's sign-in carries.
const BACK: &str = "/oidc/authorize?request=abc&x=1";

/// Where a sign-in goes on to: only a path of this site under /oidc/, else the holder's page.
#[wasm_bindgen_test]
fn the_continue_target_cannot_leave_the_site() {
    assert_eq!(after_sign_in(Some("/oidc/authorize?x=1")), "/oidc/authorize?x=1");
    for evil in ["https://evil.example/", "//evil.example/oidc/", "/oidc//evil.example", "/"] {
        assert_eq!(after_sign_in(Some(evil)), ACCOUNT_PATH, "{evil}");
    }
    assert_eq!(after_sign_in(None), ACCOUNT_PATH);
}
