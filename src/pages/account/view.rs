//! The screens of 登録状況, one per [`Step`]. Pure rendering: the view gets the step and reports
//! the holder's [`Action`]s, so tests can show any screen in either language.

use mahpki_protocol::{
    account::{
        Account, AccountEvent, AccountMyNumber, AccountPhone, AccountSession, AccountSignatures,
    },
    api::SignInFactor,
    audit::AuditAction,
    pages::Page,
};
use yew::prelude::*;

use super::step::{Action, Pending, Step};
use crate::{
    flows::{
        error_view::FailureNotice,
        start_view::HolderCard,
        widgets::{Frame, Status, action_button, flow_frame, use_step_focus},
    },
    i18n::{self, Msg},
    lang::{LangContext, use_lang},
};

#[derive(Properties, PartialEq)]
pub struct AccountViewProps {
    pub step: Step,
    pub on_action: Callback<Action>,
}

fn step_name(step: &Step) -> &'static str {
    match step {
        Step::Loading => "loading",
        Step::NotSignedIn => "not_signed_in",
        Step::Shown { .. } => "shown",
        Step::Confirming { .. } => "confirming",
        Step::Working { .. } => "working",
        Step::SignedOut { .. } => "signed_out",
        Step::Failed { .. } => "failed",
    }
}

/// The sign-in page (built on its own branch); a plain link so this page needs no route of it.
const SIGNIN: &str = "/signin";

#[function_component(AccountView)]
pub fn account_view(props: &AccountViewProps) -> Html {
    let ctx = use_lang();
    let t = |m| ctx.t(m);
    let on = &props.on_action;
    // What the live region says: progress and results.
    let status = match &props.step {
        Step::Loading => Some(Status::Busy(t(Msg::AccountLoading).into())),
        Step::Working { .. } => Some(Status::Busy(t(Msg::AccountWorking).into())),
        Step::Shown { done: Some(p), .. } => Some(Status::Note(t(done_message(p)).into())),
        Step::SignedOut { after } => Some(Status::Note(signed_out_message(&ctx, after).into())),
        _ => None,
    };
    // The shown page's sections have their own headings: there the page's title is the step's.
    let heading: Option<AttrValue> = match &props.step {
        Step::Confirming { .. } => Some(t(Msg::AccountConfirmTitle).into()),
        Step::Failed { .. } => Some(t(Msg::FailedTitle).into()),
        _ => None,
    };
    let body = match &props.step {
        Step::Loading | Step::Working { .. } => html! {},
        Step::NotSignedIn => html! {
            <>
                <p>{ t(Msg::AccountNotSignedIn) }</p>
                <div class="actions"><a class="button primary" href={SIGNIN}>{ t(Msg::SignInLink) }</a></div>
            </>
        },
        Step::Shown { account, .. } => page(&ctx, account, on),
        Step::Confirming { account, pending } => confirming(&ctx, account, pending, on),
        Step::SignedOut { .. } => html! {
            <>
                <p>{ t(Msg::CloseWholeBrowser) }</p>
                <div class="actions"><a class="button primary" href={SIGNIN}>{ t(Msg::SignInLink) }</a></div>
            </>
        },
        Step::Failed { account, failure } => html! {
            <>
                <FailureNotice failure={*failure} />
                <div class="actions">
                    if account.is_some() {
                        { action_button(t(Msg::Back), true, Action::Back, on) }
                    }
                    { action_button(t(Msg::AccountReload), account.is_none(), Action::Reload, on) }
                </div>
            </>
        },
    };
    let step = step_name(&props.step);
    use_step_focus(step);
    let frame = Frame { title: Msg::AccountTitle, step, heading, status };
    flow_frame(&ctx, frame, body)
}

fn done_message(p: &Pending) -> Msg {
    match p {
        Pending::RevokePhone { .. } => Msg::AccountDonePhone,
        Pending::RevokeMyNumber { .. } => Msg::AccountDoneMyNumber,
        Pending::EndSession { .. } => Msg::AccountDoneSession,
        Pending::EndAll => Msg::AccountSignedOutAll,
        Pending::SignOut => Msg::AccountSignedOut,
    }
}

fn signed_out_message(ctx: &LangContext, after: &Pending) -> String {
    match after {
        Pending::RevokeMyNumber { .. } => {
            format!("{}{}", ctx.t(Msg::AccountDoneMyNumber), ctx.t(Msg::AccountSignedOutMyNumber))
        }
        Pending::EndAll => ctx.t(Msg::AccountSignedOutAll).into(),
        _ => ctx.t(Msg::AccountSignedOut).into(),
    }
}

fn factor_name(f: SignInFactor) -> Msg {
    match f {
        SignInFactor::HpkiCard => Msg::FactorHpkiCard,
        SignInFactor::Mynumber => Msg::FactorMyNumber,
        SignInFactor::Passkey => Msg::FactorPasskey,
    }
}

/// Each audit action in plain words (a new action is a compile error here until it has words).
pub fn event_name(a: AuditAction) -> Msg {
    match a {
        AuditAction::HpkiAuth => Msg::EventHpkiAuth,
        AuditAction::SignIn => Msg::EventSignIn,
        AuditAction::SignInEnd => Msg::EventSignInEnd,
        AuditAction::HpkiCertificate => Msg::EventHpkiCertificate,
        AuditAction::IdentityImport => Msg::EventIdentityImport,
        AuditAction::IdentitySuspend => Msg::EventIdentitySuspend,
        AuditAction::IdentityResume => Msg::EventIdentityResume,
        AuditAction::JmaAuth => Msg::EventJmaAuth,
        AuditAction::JmaUnlock => Msg::EventJmaUnlock,
        AuditAction::MyNumberBind => Msg::EventMyNumberBind,
        AuditAction::MyNumberReplace => Msg::EventMyNumberReplace,
        AuditAction::MyNumberRevoke => Msg::EventMyNumberRevoke,
        AuditAction::PhoneEnrolmentIssue => Msg::EventPhoneEnrolmentIssue,
        AuditAction::PhoneEnrolmentOpen => Msg::EventPhoneEnrolmentOpen,
        AuditAction::PhoneEnrolmentCancel => Msg::EventPhoneEnrolmentCancel,
        AuditAction::PhoneBind => Msg::EventPhoneBind,
        AuditAction::PhoneReplace => Msg::EventPhoneReplace,
        AuditAction::PhoneRevoke => Msg::EventPhoneRevoke,
        AuditAction::PhoneChangeIssue => Msg::EventPhoneChangeIssue,
        AuditAction::PhoneChangeOpen => Msg::EventPhoneChangeOpen,
        AuditAction::PhoneChangeBegin => Msg::EventPhoneChangeBegin,
        AuditAction::PhoneChangeProve => Msg::EventPhoneChangeProve,
        AuditAction::PhoneChangeCancel => Msg::EventPhoneChangeCancel,
        AuditAction::SignInCodeIssue => Msg::EventSignInCodeIssue,
        AuditAction::SignInCodeOpen => Msg::EventSignInCodeOpen,
        AuditAction::SignInCodeProve => Msg::EventSignInCodeProve,
        AuditAction::SignInCodeCancel => Msg::EventSignInCodeCancel,
        AuditAction::PhoneConfirm => Msg::EventPhoneConfirm,
        AuditAction::StandingRefuse => Msg::EventStandingRefuse,
        AuditAction::EnrolmentIssueLink => Msg::EventEnrolmentIssueLink,
        AuditAction::OidcClientAdd => Msg::EventOidcClientAdd,
        AuditAction::OidcClientRemove => Msg::EventOidcClientRemove,
        AuditAction::OidcKeyRotate => Msg::EventOidcKeyRotate,
        AuditAction::OidcConsent => Msg::EventOidcConsent,
        AuditAction::OidcAuthorize => Msg::EventOidcAuthorize,
        AuditAction::OidcToken => Msg::EventOidcToken,
        AuditAction::OidcGrantRevoke => Msg::EventOidcGrantRevoke,
        AuditAction::OidcRevoke => Msg::EventOidcRevoke,
        AuditAction::SecondCertRequest => Msg::EventSecondCertRequest,
        AuditAction::SecondCertImport => Msg::EventSecondCertImport,
        AuditAction::SecondCertRevoke => Msg::EventSecondCertRevoke,
        AuditAction::CscAuthorize => Msg::EventCscAuthorize,
        AuditAction::CscSign => Msg::EventCscSign,
    }
}

fn browser_name(ctx: &LangContext, s: &AccountSession) -> String {
    if s.browser.is_empty() { ctx.t(Msg::AccountUnknownBrowser).into() } else { s.browser.clone() }
}

fn page(ctx: &LangContext, a: &Account, on: &Callback<Action>) -> Html {
    let t = |m| ctx.t(m);
    html! {
        <>
            <section aria-labelledby="account-holder">
                <h2 id="account-holder">{ t(Msg::AccountHolderHeading) }</h2>
                <HolderCard holder={a.holder.clone()} />
            </section>
            <section aria-labelledby="account-mynumber">
                <h2 id="account-mynumber">{ t(Msg::AccountMyNumberHeading) }</h2>
                { mynumber(ctx, a.mynumber.as_ref(), on) }
            </section>
            <section aria-labelledby="account-phones">
                <h2 id="account-phones">{ t(Msg::AccountPhonesHeading) }</h2>
                { phones(ctx, &a.phones, on) }
            </section>
            <section aria-labelledby="account-sessions">
                <h2 id="account-sessions">{ t(Msg::AccountSessionsHeading) }</h2>
                { sessions(ctx, &a.sessions, on) }
            </section>
            <section aria-labelledby="account-guide">
                <h2 id="account-guide">{ t(Msg::AccountGuideHeading) }</h2>
                <ul class="guide-links">
                    <li><a href={Page::MyNumber.path()}>{ t(Msg::MyNumberSectionTitle) }</a></li>
                    <li><a href={Page::Smartphone.path()}>{ t(Msg::SmartphoneRegisterTitle) }</a></li>
                    <li><a href={Page::SmartphoneChange.path()}>{ t(Msg::SmartphoneChangeTitle) }</a></li>
                </ul>
            </section>
            <section aria-labelledby="account-signatures">
                <h2 id="account-signatures">{ t(Msg::AccountSignaturesHeading) }</h2>
                { signatures(ctx, &a.signatures) }
            </section>
            <section aria-labelledby="account-events">
                <h2 id="account-events">{ t(Msg::AccountEventsHeading) }</h2>
                { events(ctx, &a.events) }
            </section>
            <div class="actions secondary">
                { action_button(t(Msg::SignOut), false, Action::Ask(Pending::SignOut), on) }
            </div>
        </>
    }
}

fn mynumber(ctx: &LangContext, m: Option<&AccountMyNumber>, on: &Callback<Action>) -> Html {
    let t = |m| ctx.t(m);
    let Some(m) = m else { return html! { <p>{ t(Msg::AccountMyNumberNone) }</p> } };
    html! {
        <>
            <dl class="binding">
                <dt>{ t(Msg::AccountIssuer) }</dt><dd>{ &m.issuer }</dd>
                <dt>{ t(Msg::AccountSerial) }</dt><dd class="serial">{ &m.serial }</dd>
                <dt>{ t(Msg::AccountValidUntil) }</dt><dd>{ i18n::date(ctx.lang, m.not_after) }</dd>
                <dt>{ t(Msg::AccountRegisteredOn) }</dt><dd>{ i18n::date(ctx.lang, m.since) }</dd>
            </dl>
            <div class="actions">
                { action_button(t(Msg::AccountRevokeMyNumber), false, Action::Ask(Pending::RevokeMyNumber { id: m.id }), on) }
            </div>
        </>
    }
}

fn phones(ctx: &LangContext, phones: &[AccountPhone], on: &Callback<Action>) -> Html {
    let t = |m| ctx.t(m);
    if phones.is_empty() {
        return html! { <p>{ t(Msg::AccountPhonesNone) }</p> };
    }
    let row = |p: &AccountPhone| {
        let last = p
            .last_used
            .map_or_else(|| t(Msg::AccountNeverUsed).into(), |s| i18n::date_time(ctx.lang, s));
        let (status, action) = match p.ended {
            None => {
                let on = on.clone();
                let pending = Pending::RevokePhone { id: p.id, label: p.label.clone() };
                let name = i18n::revoke_named(ctx.lang, &p.label);
                (
                    t(Msg::AccountInUse).to_owned(),
                    html! {
                        <button type="button" class="button" aria-label={name}
                            onclick={move |_| on.emit(Action::Ask(pending.clone()))}>{ t(Msg::AccountRevoke) }</button>
                    },
                )
            }
            Some(at) => {
                let on = i18n::date(ctx.lang, at);
                (i18n::noted(ctx.lang, t(Msg::AccountRevokedOn), &on), html! {})
            }
        };
        html! {
            <tr data-phone={p.id.to_string()}>
                <th scope="row">{ &p.label }</th>
                <td>{ i18n::date(ctx.lang, p.registered) }</td>
                <td>{ last }</td>
                <td>{ status }</td>
                <td>{ action }</td>
            </tr>
        }
    };
    html! {
        <table class="account-table phones">
            <thead><tr>
                <th scope="col">{ t(Msg::AccountPhoneName) }</th>
                <th scope="col">{ t(Msg::AccountRegisteredOn) }</th>
                <th scope="col">{ t(Msg::AccountLastUsed) }</th>
                <th scope="col">{ t(Msg::AccountStatus) }</th>
                <th scope="col">{ t(Msg::AccountOperation) }</th>
            </tr></thead>
            <tbody>{ for phones.iter().map(row) }</tbody>
        </table>
    }
}

fn sessions(ctx: &LangContext, sessions: &[AccountSession], on: &Callback<Action>) -> Html {
    let t = |m| ctx.t(m);
    if sessions.is_empty() {
        return html! { <p>{ t(Msg::AccountSessionsNone) }</p> };
    }
    let row = |s: &AccountSession| {
        let browser = browser_name(ctx, s);
        let since = i18n::date_time(ctx.lang, s.since);
        let name = i18n::end_named(ctx.lang, &browser, &since);
        let pending = Pending::EndSession { sid: s.sid.clone(), this_browser: s.this_browser };
        let on = on.clone();
        html! {
            <tr data-sid={s.sid.clone()} class={classes!(s.this_browser.then_some("this-browser"))}>
                <th scope="row">
                    { browser }
                    if s.this_browser { { " " }<strong class="tag">{ t(Msg::AccountThisBrowser) }</strong> }
                </th>
                <td>{ t(factor_name(s.factor)) }</td>
                <td>{ since.clone() }</td>
                <td>{ i18n::date_time(ctx.lang, s.until) }</td>
                <td>
                    <button type="button" class="button" aria-label={name}
                        onclick={move |_| on.emit(Action::Ask(pending.clone()))}>{ t(Msg::AccountEnd) }</button>
                </td>
            </tr>
        }
    };
    html! {
        <>
            <table class="account-table sessions">
                <thead><tr>
                    <th scope="col">{ t(Msg::AccountBrowser) }</th>
                    <th scope="col">{ t(Msg::AccountFactor) }</th>
                    <th scope="col">{ t(Msg::AccountSince) }</th>
                    <th scope="col">{ t(Msg::AccountUntil) }</th>
                    <th scope="col">{ t(Msg::AccountOperation) }</th>
                </tr></thead>
                <tbody>{ for sessions.iter().map(row) }</tbody>
            </table>
            <div class="actions">
                { action_button(t(Msg::AccountEndAll), false, Action::Ask(Pending::EndAll), on) }
            </div>
        </>
    }
}

fn events(ctx: &LangContext, events: &[AccountEvent]) -> Html {
    let t = |m| ctx.t(m);
    if events.is_empty() {
        return html! { <p>{ t(Msg::AccountEventsNone) }</p> };
    }
    let row = |e: &AccountEvent| {
        let what = match e.factor {
            Some(f) => i18n::noted(ctx.lang, t(event_name(e.action)), t(factor_name(f))),
            None => t(event_name(e.action)).to_owned(),
        };
        let outcome = match e.refused {
            None => html! { { t(Msg::AccountOutcomeOk) } },
            Some(code) => html! {
                <>{ t(Msg::AccountOutcomeRefused) }{ ": " }{ ctx.lang.pick(code.message()) }</>
            },
        };
        html! {
            <tr class={classes!(e.refused.is_some().then_some("refused"))}>
                <td>{ i18n::date_time(ctx.lang, e.at) }</td>
                <td>{ what }</td>
                <td>{ outcome }</td>
            </tr>
        }
    };
    html! {
        <table class="account-table events">
            <thead><tr>
                <th scope="col">{ t(Msg::AccountWhen) }</th>
                <th scope="col">{ t(Msg::AccountWhat) }</th>
                <th scope="col">{ t(Msg::AccountOutcome) }</th>
            </tr></thead>
            <tbody>{ for events.iter().map(row) }</tbody>
        </table>
    }
}

fn signatures(ctx: &LangContext, batches: &[AccountSignatures]) -> Html {
    let t = |m| ctx.t(m);
    if batches.is_empty() {
        return html! { <p>{ t(Msg::AccountSignaturesNone) }</p> };
    }
    let row = |b: &AccountSignatures| {
        html! {
            <tr>
                <td>{ i18n::date_time(ctx.lang, b.at) }</td>
                <td>{ &b.service }</td>
                <td>{ i18n::signatures_count(ctx.lang, b.count) }</td>
            </tr>
        }
    };
    html! {
        <table class="account-table signatures">
            <thead><tr>
                <th scope="col">{ t(Msg::AccountWhen) }</th>
                <th scope="col">{ t(Msg::AccountService) }</th>
                <th scope="col">{ t(Msg::EventCscSign) }</th>
            </tr></thead>
            <tbody>{ for batches.iter().map(row) }</tbody>
        </table>
    }
}

/// 確認画面: what will happen, then 「取り消す」 (or 「終了する」) and 「戻る」.
fn confirming(ctx: &LangContext, a: &Account, p: &Pending, on: &Callback<Action>) -> Html {
    let t = |m| ctx.t(m);
    let (explain, subject, button): (Msg, Html, Msg) = match p {
        Pending::RevokePhone { label, .. } => (
            Msg::AccountConfirmRevokePhone,
            html! { <p class="subject"><strong>{ label }</strong></p> },
            Msg::AccountRevoke,
        ),
        Pending::RevokeMyNumber { .. } => {
            let shown = a.mynumber.as_ref().map(|m| html! {
                <dl class="binding subject">
                    <dt>{ t(Msg::AccountSerial) }</dt><dd>{ &m.serial }</dd>
                    <dt>{ t(Msg::AccountValidUntil) }</dt><dd>{ i18n::date(ctx.lang, m.not_after) }</dd>
                </dl>
            });
            (Msg::AccountConfirmRevokeMyNumber, shown.unwrap_or_default(), Msg::AccountRevoke)
        }
        Pending::EndSession { sid, this_browser } => {
            let s = a.sessions.iter().find(|s| &s.sid == sid);
            let shown = s.map(|s| html! {
                <p class="subject"><strong>{ browser_name(ctx, s) }</strong>{ " " }
                    { t(factor_name(s.factor)) }{ " " }{ i18n::date_time(ctx.lang, s.since) }</p>
            });
            let explain = if *this_browser {
                Msg::AccountConfirmEndOwn
            } else {
                Msg::AccountConfirmEndSession
            };
            (explain, shown.unwrap_or_default(), Msg::AccountEnd)
        }
        Pending::EndAll | Pending::SignOut => {
            (Msg::AccountConfirmEndAll, html! {}, Msg::AccountEnd)
        }
    };
    html! {
        <div class="confirming" role="group" aria-labelledby="step-title">
            <p>{ t(explain) }</p>
            { subject }
            <p class="hint">{ t(Msg::AccountNothingDone) }</p>
            <div class="actions">
                { action_button(t(button), true, Action::Confirm, on) }
                { action_button(t(Msg::Back), false, Action::Back, on) }
            </div>
        </div>
    }
}
