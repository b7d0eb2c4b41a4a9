//! Every screen of 別紙1 rendered in real headless Chromium (wasm-bindgen-test), in Japanese and
//! in English, and the holder's actions they emit. The view is pure, so each screen is mounted
//! straight from its `Step`; the whole flow against real parts is the Playwright test.
#![cfg(target_arch = "wasm32")]

use std::{cell::RefCell, rc::Rc};

use mahpki::{
    flows::{
        card::CardStage,
        mynumber::{Action, MyNumberView, Step},
        run::Failure,
    },
    i18n::{Lang, Msg},
};
use mahpki_protocol::{
    ErrorCode,
    api::{Ca, MyNumberBinding, MyNumberBound, Qualification, SessionInfo},
    helper::{CardPresence, ReaderStatus, WaitReason},
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

async fn mount(step: Step, lang: Lang) -> Mounted {
    let actions = Rc::new(RefCell::new(Vec::new()));
    let log = actions.clone();
    let on_action = Callback::from(move |a| log.borrow_mut().push(a));
    let screen = common::mount(lang, html! { <MyNumberView {step} {on_action} /> }).await;
    Mounted { screen, actions }
}

fn session(bound: Option<MyNumberBinding>) -> SessionInfo {
    SessionInfo { holder: common::holder(Ca::Medis, Qualification::Doctor), mynumber: bound }
}

fn binding(not_after: i64) -> MyNumberBinding {
    MyNumberBinding { fingerprint: "ab".repeat(32), not_after, bound_at: 1_700_000_000 }
}

/// The operator's download address for the helper.
const DOWNLOAD: &str = "https://dl.example.jp/mahpki-helper";

/// 2031-03-31 23:59:59 in Japan.
const EXPIRY: i64 = 1_932_735_599;

/// Each screen with what it must say in Japanese and in English.
fn screens() -> Vec<(Step, Vec<&'static str>, Vec<&'static str>)> {
    vec![
        (
            Step::CheckingHelper,
            vec!["mahpki-helper", "ローカル ネットワーク", "「許可」"],
            vec!["Looking for the card helper", "local network", "Allow"],
        ),
        (
            Step::HelperMissing(ErrorCode::HelperUnreachable, DOWNLOAD.into()),
            vec![
                "mahpki-helper)に接続できません",
                "起動してから",
                "入手とインストール方法",
                "再確認",
                "トップページへ戻る",
            ],
            vec!["cannot be reached", "Start the card helper", "Get and install", "Check again"],
        ),
        (
            Step::HelperMissing(ErrorCode::HelperOutdated, DOWNLOAD.into()),
            vec!["古い版", "最新の"],
            vec!["too old", "Install and start the current"],
        ),
        (
            Step::Ready {
                readers: vec![ReaderStatus { name: "Reader A".into(), card: CardPresence::Hpki }],
            },
            vec![
                "Reader A: HPKIカード",
                "◆HPKIカードがICカードリーダーにセットされている状態で",
                "HPKIカードで登録",
                "別ウィンドウ",
                "トップページへ戻る",
            ],
            vec!["Reader A: HPKI card", "Register with HPKI card", "never on this page"],
        ),
        (
            Step::Ready { readers: vec![] },
            vec!["カードリーダーが見つかりません"],
            vec!["No card reader found"],
        ),
        (
            Step::HpkiAuth(CardStage::WaitingCard(WaitReason::NoCard)),
            vec!["HPKIカードをカードリーダーにセットしてください。", "中止"],
            vec!["Put your HPKI card in the card reader.", "Cancel"],
        ),
        (
            Step::HpkiAuth(CardStage::WaitingCard(WaitReason::NoReader)),
            vec!["ICカードリーダーが見つかりません"],
            vec!["No IC card reader found"],
        ),
        (
            Step::HpkiAuth(CardStage::ChangeCard(CardPresence::Jpki)),
            vec!["HPKIカードではありません", "HPKIカードに差し替えてください"],
            vec!["not an HPKI card", "Put in your HPKI card"],
        ),
        (
            Step::HpkiAuth(CardStage::WaitingPin {
                tries_left: Some(15),
                last_error: None,
                pin_page: "http://127.0.0.1:24365/pin/x".into(),
                window_closed: false,
            }),
            vec![
                "HPKIカードのPIN(暗証番号)を入力してください",
                "残り回数: 15回",
                "暗証番号の入力画面を開く",
            ],
            vec!["enter your HPKI card PIN", "Tries left: 15", "Open the PIN window"],
        ),
        (
            Step::HpkiAuth(CardStage::Communicating),
            vec!["HPKIカードと通信をしています。", "カードを抜かないでください"],
            vec!["Communicating with the HPKI card.", "Leave the card in"],
        ),
        (Step::HpkiAuth(CardStage::Verifying), vec!["サーバーで確認しています"], vec!["checking"]),
        (
            Step::Identified(session(None)),
            vec![
                "本人ID",
                "HP0000000001",
                "医療 一郎(イリョウ イチロウ)",
                "医師",
                "MEDIS認証局",
                "自分のものであることを確認",
                "HPKIカードからマイナンバーカードに差し替えてください",
                "◆マイナンバーカードがICカードリーダーにセットされている状態で下のボタンをクリックしてください。◆",
                "マイナンバーカードを登録",
                "中止",
            ],
            vec![
                "HPKI ID",
                "HP0000000001",
                "IRYO ICHIRO",
                "Doctor",
                "MEDIS CA",
                "Register My Number card",
            ],
        ),
        (
            Step::Identified(session(Some(binding(EXPIRY)))),
            vec!["登録済みのマイナンバーカードがあります", "2031年3月31日"],
            vec!["already registered", "2031-03-31"],
        ),
        (
            Step::JpkiAuth(session(None), CardStage::ChangeCard(CardPresence::Hpki)),
            vec![
                "HP0000000001",
                "個人番号カードをカードリーダライタにセットしてください。",
                "差し替えると自動的に次へ進みます",
            ],
            vec!["Put your My Number card in the card reader.", "goes on by itself"],
        ),
        (
            Step::JpkiAuth(
                session(None),
                CardStage::WaitingPin {
                    tries_left: Some(1),
                    last_error: Some(ErrorCode::PinWrong),
                    pin_page: "http://127.0.0.1:24365/pin/x".into(),
                    window_closed: false,
                },
            ),
            vec![
                "利用者証明用パスワード(4桁の数字)",
                "※署名用のパスワードではありませんので、ご注意ください。",
                "暗証番号(パスワード)が正しくありません",
                "残り回数: 1回",
                "次に間違えるとロックされます",
            ],
            vec![
                "user-authentication password (4 digits)",
                "not the signing password",
                "not correct",
                "Tries left: 1",
                "locks it",
            ],
        ),
        (
            Step::JpkiAuth(session(None), CardStage::Communicating),
            vec!["個人番号カードと通信をしています。"],
            vec!["Communicating with the My Number card."],
        ),
        (
            Step::Done {
                session: session(None),
                bound: MyNumberBound { binding: binding(EXPIRY), replaced: None },
            },
            vec![
                "マイナンバーカードの登録が完了しました。ブラウザを終了してください。",
                "HP0000000001",
                "利用者証明用電子証明書の有効期限: 2031年3月31日",
            ],
            vec!["Your My Number card is registered. Please close the browser.", "2031-03-31"],
        ),
        (
            Step::Done {
                session: session(None),
                bound: MyNumberBound {
                    binding: binding(EXPIRY),
                    replaced: Some(binding(EXPIRY - 365 * 86_400)),
                },
            },
            vec!["このカードに置き換えられました", "2030年3月31日"],
            vec!["has been replaced", "2030-03-31"],
        ),
        (
            Step::failed(
                Failure { tries_left: Some(0), ..ErrorCode::JpkiPinLocked.into() },
                Some(session(None)),
            ),
            vec![
                "登録できませんでした",
                "ロックされています",
                "市区町村窓口",
                "コンビニエンスストア",
                "残り回数: 0回",
                "マイナンバーカードは登録されていません",
                "トップページへ戻る",
            ],
            vec![
                "did not complete",
                "locked",
                "municipal office",
                "convenience-store kiosk",
                "Tries left: 0",
                "No My Number card has been registered",
                "Back to the top page",
            ],
        ),
        (
            Step::failed(ErrorCode::MyNumberBoundElsewhere.into(), Some(session(None))),
            vec!["登録できませんでした"],
            vec!["did not complete"],
        ),
        (Step::failed(ErrorCode::CertificateRevoked.into(), None), vec!["失効"], vec!["revoked"]),
        (
            Step::Cancelled,
            vec![
                "登録を中止しました。マイナンバーカードは登録されていません。",
                "最初からやり直す",
                "トップページへ戻る",
            ],
            vec!["You cancelled", "Start over", "Back to the top page"],
        ),
    ]
}

#[wasm_bindgen_test]
async fn every_screen_says_its_part_in_both_languages() {
    common::check_screens(Msg::MyNumberSiteTitle, screens(), |step| {
        html! { <MyNumberView {step} on_action={Callback::noop()} /> }
    })
    .await;
}

#[wasm_bindgen_test]
async fn errors_carry_their_code_and_a_remedy() {
    for code in [
        ErrorCode::PinWrong,
        ErrorCode::JpkiPinLocked,
        ErrorCode::HpkiPinLocked,
        ErrorCode::WrongCard,
        ErrorCode::CardRemoved,
        ErrorCode::NoReader,
        ErrorCode::HelperUnreachable,
        ErrorCode::CertificateExpired,
        ErrorCode::CertificateRevoked,
        ErrorCode::HolderUnknown,
        ErrorCode::MyNumberBoundElsewhere,
        ErrorCode::SessionExpired,
        ErrorCode::ServerUnreachable,
        ErrorCode::Cancelled,
    ] {
        let m = mount(Step::failed(code.into(), None), Lang::Ja).await;
        let wire = serde_json::to_value(code).unwrap();
        assert_eq!(m.attr("[role=alert]", "data-error").as_deref(), wire.as_str(), "{code:?}");
        let t = m.text();
        assert!(t.contains(code.message().ja), "{code:?}: {t}");
        assert!(t.contains(code.remedy().ja), "{code:?}: {t}");
    }
}

/// The PIN window closed: the notice, the way to open it again (the same operation's page), and
/// 中止 — while the step waits on (the timeout ends it with the timed-out screen).
#[wasm_bindgen_test]
async fn a_closed_pin_window_is_noticed_and_offered_again() {
    let page = "http://127.0.0.1:24365/pin/abc";
    let stage = CardStage::WaitingPin {
        tries_left: Some(15),
        last_error: None,
        pin_page: page.into(),
        window_closed: true,
    };
    let m = mount(Step::HpkiAuth(stage), Lang::Ja).await;
    let t = m.text();
    assert!(t.contains("PIN入力画面が閉じられました"), "{t}");
    assert!(t.contains("PIN入力画面を開き直す") && t.contains("中止"), "{t}");
    assert!(!t.contains("暗証番号の入力画面を開く"), "one way to open it: {t}");
    assert_eq!(m.attr("a.button.primary", "href").as_deref(), Some(page));
    assert_eq!(m.attr("a.button.primary", "target").as_deref(), Some("mahpki-pin"));
    assert_eq!(m.attr("[data-stage]", "data-stage").as_deref(), Some("pin_window_closed"));
    m.press("中止");
    assert_eq!(*m.actions.borrow(), vec![Action::Cancel]);
}

/// The helper missing is said once: what is wrong, what to do, where to get it, and the way on.
#[wasm_bindgen_test]
async fn a_missing_helper_is_said_once_with_where_to_get_it() {
    let m =
        mount(Step::HelperMissing(ErrorCode::HelperUnreachable, DOWNLOAD.into()), Lang::Ja).await;
    let t = m.text();
    for once in ["接続できません", "起動", "利用できません", "ローカル ネットワーク"]
    {
        assert!(t.matches(once).count() <= 1, "{once:?} more than once: {t}");
    }
    assert!(!t.contains("アクセス(ローカル ネットワーク)」の許可を求める"), "{t}");
    assert_eq!(m.attr("a#helper-download", "href").as_deref(), Some(DOWNLOAD));
    assert_eq!(m.attr("[data-error]", "data-error").as_deref(), Some("helper_unreachable"));
}

/// Where trying again cannot work (a locked PIN, a revoked card), no 「もう一度試す」: the remedy
/// and the way back to the start.
#[wasm_bindgen_test]
async fn a_lock_offers_the_remedy_and_the_way_back_not_a_retry() {
    for code in [ErrorCode::HpkiPinLocked, ErrorCode::JpkiPinLocked, ErrorCode::CertificateRevoked]
    {
        for session in [None, Some(session(None))] {
            let m = mount(Step::failed(code.into(), session), Lang::Ja).await;
            let t = m.text();
            assert!(!t.contains("もう一度試す"), "{code:?}: {t}");
            assert!(t.contains("トップページへ戻る") && t.contains(code.remedy().ja), "{t}");
        }
    }
    let m = mount(Step::failed(ErrorCode::PinWrong.into(), None), Lang::Ja).await;
    assert!(m.text().contains("もう一度試す"));
}

/// A revoked certificate names the card of the step it happened in, and only its remedy.
#[wasm_bindgen_test]
async fn a_revoked_certificate_names_its_card() {
    use mahpki_protocol::error::Place;
    let revoked = Failure::from(ErrorCode::CertificateRevoked);
    let m =
        mount(Step::failed(revoked.at(Place::MyNumberCard), Some(session(None))), Lang::Ja).await;
    let t = m.text();
    assert!(t.contains("マイナンバーカードの証明書は失効しています"), "{t}");
    assert!(t.contains("市区町村") && !t.contains("発行元") && !t.contains("HPKIカードを"), "{t}");
    let m = mount(Step::failed(revoked.at(Place::HpkiCard), None), Lang::En).await;
    let t = m.text();
    assert!(t.contains("The HPKI card's certificate has been revoked"), "{t}");
    assert!(!t.contains("My Number card's") && !t.contains("municipal"), "{t}");
}

#[wasm_bindgen_test]
async fn buttons_emit_the_holders_actions() {
    let cases: Vec<(Step, &str, Action)> = vec![
        (Step::Ready { readers: vec![] }, "HPKIカードで登録", Action::StartHpki),
        (
            Step::HelperMissing(ErrorCode::HelperUnreachable, DOWNLOAD.into()),
            "再確認",
            Action::CheckHelper,
        ),
        (Step::Identified(session(None)), "マイナンバーカードを登録", Action::StartJpki),
        (Step::Identified(session(None)), "中止", Action::Cancel),
        (Step::HpkiAuth(CardStage::Preparing), "中止", Action::Cancel),
        (Step::JpkiAuth(session(None), CardStage::Communicating), "中止", Action::Cancel),
        (
            Step::failed(ErrorCode::CardRemoved.into(), Some(session(None))),
            "もう一度試す",
            Action::Retry,
        ),
        (Step::Cancelled, "最初からやり直す", Action::CheckHelper),
    ];
    for (step, label, action) in cases {
        let m = mount(step.clone(), Lang::Ja).await;
        m.press(label);
        assert_eq!(*m.actions.borrow(), vec![action], "{step:?} / {label}");
    }
}

#[wasm_bindgen_test]
async fn screens_name_their_step_for_assistive_technology_and_tests() {
    let m = mount(Step::HpkiAuth(CardStage::Communicating), Lang::Ja).await;
    assert_eq!(m.attr("section", "data-step").as_deref(), Some("hpki_auth"));
    // No `aria-busy` over the live region or the alerts (it would hush them while the card works).
    assert!(m.root.query_selector("[aria-busy=true]").unwrap().is_none());
    assert_eq!(m.attr("#step-title", "tabindex").as_deref(), Some("-1"));
    assert_eq!(m.attr("#flow-status", "aria-live").as_deref(), Some("polite"));
    let said = |m: &Mounted| m.root.query_selector("#flow-status").unwrap().unwrap().text_content();
    assert_eq!(said(&m).as_deref(), Some("HPKIカードと通信をしています。"));
    assert_eq!(m.attr("[data-stage]", "data-stage").as_deref(), Some("communicating"));
    assert!(m.root.query_selector("[role=status][aria-live=polite]").unwrap().is_some());
    let done = mount(
        Step::Done {
            session: session(None),
            bound: MyNumberBound { binding: binding(EXPIRY), replaced: None },
        },
        Lang::Ja,
    )
    .await;
    assert_eq!(done.attr("#hpki-id", "class").as_deref(), Some("hpki-id"));
    assert_eq!(done.attr("#step-title", "tabindex").as_deref(), Some("-1"));
    assert_eq!(
        said(&done).as_deref(),
        Some("マイナンバーカードの登録が完了しました。ブラウザを終了してください。")
    );
}
