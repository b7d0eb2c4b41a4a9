//! The PC screens of 別紙2, one per [`Step`]. Pure rendering, so tests can show any screen in
//! either language.

use mahpki_protocol::helper::CardType;
use yew::prelude::*;
use yew_router::prelude::*;

use super::step::{Action, Step, seconds_left};
use crate::{
    Route,
    flows::{
        card_view::CardProgress,
        error_view::FailureNotice,
        qr::Qr,
        start_view::{
            Cancelled, CheckingHelper, HelperMissing, HolderCard, HpkiReady, action_button,
        },
    },
    i18n::{self, Msg},
    lang::use_lang,
};

#[derive(Properties, PartialEq)]
pub struct SmartphoneViewProps {
    pub step: Step,
    /// `Date.now()` of the last countdown tick.
    pub now_ms: f64,
    pub on_action: Callback<Action>,
}

#[function_component(SmartphoneView)]
pub fn smartphone_view(props: &SmartphoneViewProps) -> Html {
    let ctx = use_lang();
    let t = |m| ctx.t(m);
    let on = &props.on_action;
    let body = match &props.step {
        Step::CheckingHelper => html! { <CheckingHelper /> },
        Step::HelperMissing(code) => html! {
            <HelperMissing code={*code} on_retry={on.reform(|()| Action::CheckHelper)} />
        },
        Step::Ready { readers } => html! {
            <HpkiReady readers={readers.clone()} label={Msg::RegisterOrChangeWithHpki}
                on_start={on.reform(|()| Action::StartHpki)} />
        },
        Step::HpkiAuth(stage) => html! {
            <CardProgress card={CardType::Hpki} stage={stage.clone()} />
        },
        Step::Issuing(session) => html! {
            <>
                <HolderCard session={session.clone()} />
                <p role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>{ t(Msg::Issuing) }</p>
            </>
        },
        Step::AskReplace(session) => html! {
            <>
                <HolderCard session={session.clone()} />
                <div class="notice" role="alertdialog" aria-labelledby="replace-question">
                    <p id="replace-question" class="instruction">{ t(Msg::ReplaceQuestion) }</p>
                    <p>{ t(Msg::ReplaceNote) }</p>
                </div>
                <div class="actions">
                    { action_button(t(Msg::Yes), true, Action::Replace, on) }
                    { action_button(t(Msg::No), false, Action::Keep, on) }
                </div>
            </>
        },
        Step::ShowCode(session, code) => html! {
            <>
                <HolderCard session={session.clone()} />
                <p class="instruction">{ t(Msg::ScanCode) }</p>
                <Qr data={code.url.clone()} label={t(Msg::QrAlt)} />
                <p class="verification">{ t(Msg::VerificationCodeLabel) }{ ": " }<strong id="verification-code">{ code.code.clone() }</strong></p>
                <p class="hint">{ t(Msg::VerificationCodeHint) }</p>
                <p class="countdown" id="countdown" aria-live="off">{ i18n::expires_in(ctx.lang, seconds_left(code, props.now_ms)) }</p>
                <p class="hint">{ t(Msg::ExpiryWarning) }</p>
                <p class="hint">{ t(Msg::ScanHowTo) }</p>
                <details class="cant-scan">
                    <summary>{ t(Msg::CantScan) }</summary>
                    <p>{ t(Msg::OpenLinkOnPhone) }</p>
                    <p><a id="enroll-link" href={code.url.clone()} target="_blank" rel="noopener noreferrer">{ code.url.clone() }</a></p>
                </details>
            </>
        },
        Step::Opened(session, code) => html! {
            <>
                <HolderCard session={session.clone()} />
                <p class="progress-headline" role="status" aria-live="polite">
                    <span class="spinner" aria-hidden="true"></span>{ t(Msg::ContinueOnPhone) }
                </p>
                <p class="verification">{ t(Msg::VerificationCodeLabel) }{ ": " }<strong id="verification-code">{ code.code.clone() }</strong></p>
                <p>{ t(Msg::ContinueOnPhoneHint) }</p>
            </>
        },
        Step::Expired { session, .. } => html! {
            <>
                <HolderCard session={session.clone()} />
                <h2>{ t(Msg::ExpiredTitle) }</h2>
                <p>{ t(Msg::ExpiredHint) }</p>
                <div class="actions">{ action_button(t(Msg::Reissue), true, Action::Reissue, on) }</div>
            </>
        },
        Step::Done { session, replaced } => html! {
            <>
                <p class="notice success" role="status">{ t(Msg::SmartphoneDone) }</p>
                <p>{ t(Msg::CloseWholeBrowser) }</p>
                <HolderCard session={session.clone()} />
                if *replaced {
                    <p class="notice">{ t(Msg::PhoneReplacedNote) }</p>
                }
            </>
        },
        Step::KeptCurrent(session) => html! {
            <>
                <p class="notice" role="status">{ t(Msg::KeptCurrent) }</p>
                <HolderCard session={session.clone()} />
                <Link<Route> to={Route::Index} classes="button">{ t(Msg::BackToTop) }</Link<Route>>
            </>
        },
        Step::Failed { failure, session } => html! {
            <>
                <h2>{ t(Msg::FailedTitle) }</h2>
                <FailureNotice failure={*failure} />
                <p>{ t(Msg::SmartphoneNothingBound) }</p>
                if let Some(s) = session {
                    <HolderCard session={s.clone()} />
                }
                <div class="actions">{ action_button(t(Msg::TryAgain), true, Action::Retry, on) }</div>
            </>
        },
        Step::Cancelled => html! {
            <Cancelled message={Msg::SmartphoneCancelled} on_start_over={on.reform(|()| Action::CheckHelper)} />
        },
    };
    html! {
        <section class="card flow" aria-labelledby="flow-title" data-step={props.step.name()}
            aria-busy={props.step.busy().to_string()}>
            <h1 id="flow-title">{ t(Msg::SmartphoneSiteTitle) }</h1>
            { body }
            if props.step.cancellable() {
                <div class="actions secondary">{ action_button(t(Msg::Cancel), false, Action::Cancel, on) }</div>
            }
        </section>
    }
}
