//! The PC's screens of the スマートフォン sign-in, one per [`Step`]. The code and the
//! confirmation entry are the enrolment's own (`smartphone::code_view`, `confirm`).

use mahpki_protocol::ErrorCode;
use yew::prelude::*;

use super::step::{Action, Step};
use crate::{
    flows::{
        confirm::ConfirmEntry,
        error_view::FailureNotice,
        run::Failure,
        smartphone::code_view::{CodePanel, PhoneOpened},
        widgets::action_button,
    },
    i18n::Msg,
    lang::use_lang,
};

#[derive(Properties, PartialEq)]
pub struct SignInSmartphoneViewProps {
    pub step: Step,
    pub now_ms: f64,
    pub on_action: Callback<Action>,
}

#[function_component(SignInSmartphoneView)]
pub fn signin_smartphone_view(props: &SignInSmartphoneViewProps) -> Html {
    let ctx = use_lang();
    let t = |m| ctx.t(m);
    let on = &props.on_action;
    let waiting = |m| {
        html! {
            <p class="progress-headline" role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>{ t(m) }</p>
        }
    };
    let passkey_here = html! {
        <section class="passkey-here" aria-labelledby="passkey-here-title">
            <h2 id="passkey-here-title">{ t(Msg::PasskeyHereTitle) }</h2>
            <p>{ t(Msg::PasskeyHereHint) }</p>
            <div class="actions">{ action_button(t(Msg::PasskeyHereButton), false, Action::PasskeyHere, on) }</div>
        </section>
    };
    let reissue = html! { <div class="actions">{ action_button(t(Msg::Reissue), true, Action::Reissue, on) }</div> };
    let body = match &props.step {
        Step::Issuing => waiting(Msg::Issuing),
        Step::ShowCode(code) => html! {
            <>
                <CodePanel code={code.clone()} now_ms={props.now_ms} instruction={Msg::SignInScanCode}
                    qr_label={Msg::SignInQrAlt} link_id="signin-link" />
                <div class="actions">{ action_button(t(Msg::Cancel), false, Action::Cancel, on) }</div>
                { passkey_here }
            </>
        },
        Step::Opened(_) => html! {
            <>
                <PhoneOpened headline={Msg::SignInContinueOnPhone} hint={Msg::SignInContinueOnPhoneHint} />
                <div class="actions">{ action_button(t(Msg::Cancel), false, Action::Cancel, on) }</div>
            </>
        },
        Step::Confirm { tries_left, wrong, sending, .. } => html! {
            <>
                <ConfirmEntry tries_left={*tries_left} wrong={*wrong} sending={*sending}
                    instruction={Msg::SignInConfirmInstruction} on_submit={on.reform(Action::Confirm)} />
                <div class="actions">{ action_button(t(Msg::Cancel), false, Action::Cancel, on) }</div>
            </>
        },
        Step::PasskeyHere => waiting(Msg::PasskeyHereWaiting),
        Step::SignedIn(_) => html! {
            <p class="notice success" role="status">{ t(Msg::SignedInMoving) }</p>
        },
        Step::Expired => html! {
            <>
                <h2>{ t(Msg::ExpiredTitle) }</h2>
                <p>{ t(Msg::ExpiredHint) }</p>
                { reissue }
            </>
        },
        Step::ConfirmFailed => html! {
            <>
                <h2>{ t(Msg::SignInFailedTitle) }</h2>
                <FailureNotice failure={Failure::from(ErrorCode::ConfirmationFailed)} />
                <p>{ t(Msg::SignInNobodySignedIn) }</p>
                { reissue }
            </>
        },
        Step::Cancelled => html! {
            <>
                <p class="notice" role="status">{ t(Msg::SignInCancelled) }</p>
                { reissue }
            </>
        },
        Step::Failed(failure) => html! {
            <>
                <h2>{ t(Msg::SignInFailedTitle) }</h2>
                <FailureNotice failure={*failure} />
                { reissue }
                { passkey_here }
            </>
        },
    };
    html! {
        <section class="card flow" aria-labelledby="flow-title" data-step={props.step.name()}>
            <h1 id="flow-title">{ t(Msg::SignInSmartphoneTitle) }</h1>
            { body }
        </section>
    }
}
