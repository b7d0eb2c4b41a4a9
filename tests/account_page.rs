//! 登録状況 in real headless Chromium (wasm-bindgen-test): the state machine's transitions (each
//! action behind its confirmation screen, 「戻る」 changing nothing, answers leading on), and
//! every screen in Japanese and English with the actions its buttons emit. The page against
//! the real server and card is the Playwright test.
#![cfg(target_arch = "wasm32")]

use std::{cell::RefCell, rc::Rc};

use mahpki::{
    i18n::{Lang, Msg},
    pages::account::{AccountView, Action, Pending, Step},
};
use mahpki_protocol::{
    ErrorCode,
    account::{
        Account, AccountDone, AccountEvent, AccountMyNumber, AccountPhone, AccountSession,
        AccountSignatures,
    },
    api::{Ca, Qualification, SignInFactor},
    audit::AuditAction,
};
use wasm_bindgen_test::*;
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;

/// 2031-03-31 23:59:59 in Japan.
const EXPIRY: i64 = 1_932_735_599;
/// 2026-12-02 12:34 in Japan.
const NOW: i64 = 1_796_182_440;

fn account() -> Account {
    Account {
        holder: common::holder(Ca::Jma, Qualification::Doctor),
        mynumber: Some(AccountMyNumber {
            id: 7,
            issuer: "JPKI user authentication CA".into(),
            serial: "5001".into(),
            not_after: EXPIRY,
            since: NOW - 86_400,
        }),
        phones: vec![
            AccountPhone {
                id: 3,
                label: "Pixel".into(),
                registered: NOW - 3 * 86_400,
                last_used: Some(NOW - 600),
                ended: None,
            },
            AccountPhone {
                id: 1,
                label: "Old iPhone".into(),
                registered: NOW - 90 * 86_400,
                last_used: None,
                ended: Some(NOW - 3 * 86_400),
            },
        ],
        sessions: vec![
            AccountSession {
                sid: "sid-pc".into(),
                factor: SignInFactor::HpkiCard,
                browser: "Chrome / Windows".into(),
                since: NOW,
                until: NOW + 18 * 3600,
                this_browser: true,
            },
            AccountSession {
                sid: "sid-phone".into(),
                factor: SignInFactor::Passkey,
                browser: String::new(),
                since: NOW - 600,
                until: NOW - 600 + 18 * 3600,
                this_browser: false,
            },
        ],
        events: vec![
            AccountEvent {
                at: NOW,
                action: AuditAction::SignIn,
                refused: None,
                factor: Some(SignInFactor::HpkiCard),
            },
            AccountEvent {
                at: NOW - 60,
                action: AuditAction::PhoneRevoke,
                refused: Some(ErrorCode::AccountItemEnded),
                factor: None,
            },
            AccountEvent {
                at: NOW - 120,
                action: AuditAction::MyNumberBind,
                refused: None,
                factor: None,
            },
        ],
        signatures: vec![
            AccountSignatures {
                at: NOW - 600, service: "○○薬局システム".into(), count: 3
            },
            AccountSignatures {
                at: NOW - 3 * 3600 - 20 * 60,
                service: "clinic-emr".into(),
                count: 1,
            },
        ],
    }
}

fn empty() -> Account {
    Account {
        mynumber: None,
        phones: vec![],
        sessions: vec![],
        events: vec![],
        signatures: vec![],
        ..account()
    }
}

fn shown() -> Step {
    Step::Shown { account: account(), done: None }
}

#[wasm_bindgen_test]
fn every_action_passes_its_confirmation_screen() {
    let a = account();
    for pending in [
        Pending::RevokePhone { id: 3, label: "Pixel".into() },
        Pending::RevokeMyNumber { id: 7 },
        Pending::EndSession { sid: "sid-phone".into(), this_browser: false },
        Pending::EndAll,
    ] {
        let asked = shown().ask(pending.clone());
        assert_eq!(asked, Step::Confirming { account: a.clone(), pending: pending.clone() });
        // 「戻る」: the page as it was, nothing sent.
        assert_eq!(asked.back(), shown());
        let working = asked.confirm();
        assert_eq!(working, Step::Working { account: a.clone(), pending: pending.clone() });
        assert!(working.busy());
        // Confirming twice (a double click) does not start it twice; 「戻る」 cannot stop it.
        assert_eq!(working.confirm(), working);
        assert_eq!(working.back(), working);
        assert_eq!(working.ask(Pending::EndAll), working);
        // A plain success: the page is loaded again (with the result noted by the runner).
        let ok = AccountDone { signed_out: false, sessions_ended: 1 };
        assert_eq!(working.answered(Ok(ok)), None);
        // Signed out by it: the sign-out screen.
        let out = AccountDone { signed_out: true, sessions_ended: 2 };
        assert_eq!(working.answered(Ok(out)), Some(Step::SignedOut { after: pending.clone() }));
        // Refused: the failure over the page it was on, and back to the page.
        let failed = working.answered(Err(ErrorCode::AccountItemEnded)).unwrap();
        assert_eq!(
            failed,
            Step::Failed { account: Some(a.clone()), failure: ErrorCode::AccountItemEnded.into() }
        );
        assert_eq!(failed.back(), shown());
        // The sign-in lost meanwhile: the way back in.
        assert_eq!(working.answered(Err(ErrorCode::NotSignedIn)), Some(Step::NotSignedIn));
    }
    // サインアウト needs no confirmation: nothing is lost by it.
    assert_eq!(
        shown().ask(Pending::SignOut),
        Step::Working { account: a, pending: Pending::SignOut }
    );
    // Nothing can be asked before the page is shown.
    assert_eq!(Step::Loading.ask(Pending::EndAll), Step::Loading);
    assert_eq!(Step::NotSignedIn.ask(Pending::EndAll), Step::NotSignedIn);
}

#[wasm_bindgen_test]
fn loading_ends_shown_not_signed_in_or_failed() {
    assert_eq!(Step::loaded(Ok(account()), None), shown());
    assert_eq!(Step::loaded(Err(ErrorCode::NotSignedIn), None), Step::NotSignedIn);
    assert_eq!(
        Step::loaded(Err(ErrorCode::ServerUnreachable), None),
        Step::Failed { account: None, failure: ErrorCode::ServerUnreachable.into() }
    );
}

struct Mounted {
    screen: common::Mounted,
    actions: Rc<RefCell<Vec<Action>>>,
}

async fn mount(step: Step, lang: Lang) -> Mounted {
    let actions = Rc::new(RefCell::new(Vec::new()));
    let log = actions.clone();
    let on_action = Callback::from(move |a| log.borrow_mut().push(a));
    let screen = common::mount(lang, html! { <AccountView {step} {on_action} /> }).await;
    Mounted { screen, actions }
}

#[wasm_bindgen_test]
async fn every_screen_in_both_languages() {
    let confirming = |pending| Step::Confirming { account: account(), pending };
    let screens = vec![
        (Step::Loading, vec!["読み込んでいます"], vec!["Loading"]),
        (Step::NotSignedIn, vec!["サインインしてください", "サインイン"], vec!["sign in with"]),
        (
            shown(),
            vec![
                "ご本人の情報",
                "HP0000000001",
                "マイナンバーカード",
                "JPKI user authentication CA",
                "5001",
                "2031年3月31日",
                "マイナンバーカードの登録を取り消す",
                "Pixel",
                "利用中",
                "2026年12月2日 12:24",
                "取消済み(2026年11月29日)",
                "なし",
                "サインイン中の端末",
                "Chrome / Windows",
                "この端末",
                "不明",
                "HPKIカード",
                "2026年12月2日 12:34",
                "2026年12月3日 6:34",
                "すべての端末でサインインを終了する",
                "HPKIカードを使ってマイナンバーカードを登録",
                "HPKIカードを使ってスマートフォンを登録",
                "登録してあるスマートフォンを変更",
                "最近の記録",
                "サインイン(HPKIカード)",
                "スマートフォンの登録の取消し",
                "受け付けられませんでした: 指定されたものは、すでに取り消されているか終了しています。",
                "マイナンバーカードの登録",
                "最近のリモート署名",
                "○○薬局システム",
                "3件の署名",
                "2026年12月2日 9:14",
                "clinic-emr",
                "1件の署名",
                "サインアウト",
            ],
            vec![
                "About you",
                "Valid until",
                "2031-03-31",
                "In use",
                "2026-12-02 12:24",
                "Revoked (2026-11-29)",
                "Never",
                "This browser",
                "Unknown",
                "Signed in (HPKI card)",
                "Refused: What you chose was already revoked",
                "Recent remote signatures",
                "Service",
                "3 signatures",
                "1 signature",
                "Sign out",
            ],
        ),
        (
            Step::Shown {
                account: empty(),
                done: Some(Pending::RevokePhone { id: 3, label: "Pixel".into() }),
            },
            vec![
                "スマートフォンの登録を取り消しました",
                "登録されていません",
                "記録はありません",
                "リモート署名の記録はありません",
            ],
            vec![
                "was revoked",
                "No My Number card",
                "No smartphone",
                "No events",
                "No remote signatures",
            ],
        ),
        (
            confirming(Pending::RevokePhone { id: 3, label: "Pixel".into() }),
            vec!["確認画面", "次のスマートフォンの登録を取り消します", "Pixel", "取り消す", "戻る"],
            vec!["Please confirm", "will be revoked", "Pixel", "Revoke", "Back"],
        ),
        (
            confirming(Pending::RevokeMyNumber { id: 7 }),
            vec!["マイナンバーカードの登録を取り消します", "5001", "取り消す", "戻る"],
            vec!["My Number card's registration will be revoked", "Revoke", "Back"],
        ),
        (
            confirming(Pending::EndSession { sid: "sid-phone".into(), this_browser: false }),
            vec!["次の端末のサインインを終了します", "スマートフォン", "終了する", "戻る"],
            vec!["on this device will end", "Smartphone", "End", "Back"],
        ),
        (
            confirming(Pending::EndSession { sid: "sid-pc".into(), this_browser: true }),
            vec!["いまお使いのブラウザ", "Chrome / Windows"],
            vec!["the one you are using now"],
        ),
        (
            confirming(Pending::EndAll),
            vec!["すべての端末のサインインを終了します"],
            vec!["every device"],
        ),
        (
            Step::Working { account: account(), pending: Pending::EndAll },
            vec!["処理しています"],
            vec!["Working"],
        ),
        (
            Step::SignedOut { after: Pending::RevokeMyNumber { id: 7 } },
            vec!["マイナンバーカードの登録を取り消しました", "サインアウトしました", "サインイン"],
            vec!["was revoked", "signed out too", "Sign in"],
        ),
        (
            Step::SignedOut { after: Pending::EndAll },
            vec!["すべての端末のサインインを終了しました"],
            vec!["ended on every device"],
        ),
        (
            Step::Failed {
                account: Some(account()),
                failure: ErrorCode::AccountItemUnknown.into(),
            },
            vec!["ご本人の登録の中に", "戻る", "登録状況を開き直す"],
            vec!["not among your registrations", "Back", "Open your registration status again"],
        ),
    ];
    common::check_screens(Msg::AccountTitle, screens, |step| {
        html! { <AccountView {step} on_action={Callback::noop()} /> }
    })
    .await;
}

#[wasm_bindgen_test]
async fn the_buttons_ask_for_their_rows_item() {
    let m = mount(shown(), Lang::Ja).await;
    // Each row's button is named by its row for a screen reader.
    let b = m.screen.root.query_selector("tr[data-phone='3'] button").unwrap().unwrap();
    assert_eq!(b.get_attribute("aria-label").unwrap(), "「Pixel」の登録を取り消す");
    assert!(
        m.screen.root.query_selector("tr[data-phone='1'] button").unwrap().is_none(),
        "an ended phone has no action"
    );
    m.screen.press("取り消す");
    m.screen.press("マイナンバーカードの登録を取り消す");
    let end = m.screen.root.query_selector("tr[data-sid='sid-phone'] button").unwrap().unwrap();
    assert!(end.get_attribute("aria-label").unwrap().contains("不明"));
    wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(end).unwrap().click();
    m.screen.press("すべての端末でサインインを終了する");
    m.screen.press("サインアウト");
    assert_eq!(
        *m.actions.borrow(),
        [
            Action::Ask(Pending::RevokePhone { id: 3, label: "Pixel".into() }),
            Action::Ask(Pending::RevokeMyNumber { id: 7 }),
            Action::Ask(Pending::EndSession { sid: "sid-phone".into(), this_browser: false }),
            Action::Ask(Pending::EndAll),
            Action::Ask(Pending::SignOut),
        ]
    );
    // Tables have their headers; the result region is polite.
    assert_eq!(m.screen.root.query_selector_all("table th[scope='col']").unwrap().length(), 16);
    assert_eq!(m.screen.attr("[role='status']", "aria-live").as_deref(), Some("polite"));
    let c =
        mount(Step::Confirming { account: account(), pending: Pending::EndAll }, Lang::En).await;
    c.screen.press("End");
    c.screen.press("Back");
    assert_eq!(*c.actions.borrow(), [Action::Confirm, Action::Back]);
}
