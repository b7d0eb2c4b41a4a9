//! The phone's sign-in screens, one per [`Step`], sized for a phone and usable by screen reader.
//! The confirmation code is the enrolment's own (`confirm::ConfirmShow`).

use yew::prelude::*;

use super::step::{Action, For, Step};
use crate::{
    flows::{confirm::ConfirmShow, error_view::FailureNotice, widgets::action_button},
    i18n::Msg,
    lang::use_lang,
};

#[derive(Properties, PartialEq)]
pub struct SignInPhoneViewProps {
    pub step: Step,
    pub on_action: Callback<Action>,
}

#[function_component(SignInPhoneView)]
pub fn signin_phone_view(props: &SignInPhoneViewProps) -> Html {
    let ctx = use_lang();
    let t = |m| ctx.t(m);
    let on = &props.on_action;
    let waiting = |m| {
        html! {
            <p class="progress-headline" role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>{ t(m) }</p>
        }
    };
    let body = match &props.step {
        Step::Opening => waiting(Msg::SignInPhoneOpening),
        Step::Ready(who) => html! {
            <>
                if *who == For::Pc {
                    <p class="instruction">{ t(Msg::SignInPhoneCodeIntro) }</p>
                    <p class="notice">{ t(Msg::SignInPhoneCodeWarning) }</p>
                } else {
                    <p class="instruction">{ t(Msg::SignInPhoneIntro) }</p>
                }
                <div class="actions">{ action_button(t(Msg::PasskeySignInButton), true, Action::SignIn, on) }</div>
            </>
        },
        Step::Checking(_) => waiting(Msg::PasskeyChecking),
        Step::Confirming { code } => html! { <ConfirmShow code={code.clone()} /> },
        Step::PcSignedIn => html! {
            <p class="notice success" role="status">{ t(Msg::SignInPhoneDone) }</p>
        },
        Step::SignedIn(_) => html! {
            <p class="notice success" role="status">{ t(Msg::SignedInMoving) }</p>
        },
        Step::Failed { failure, retry } => html! {
            <>
                <h2>{ t(Msg::SignInFailedTitle) }</h2>
                <FailureNotice failure={*failure} />
                if retry.is_some() {
                    <div class="actions">{ action_button(t(Msg::TryAgain), true, Action::Retry, on) }</div>
                } else {
                    <p>{ t(Msg::SignInPhoneReissueHint) }</p>
                }
            </>
        },
    };
    html! {
        <section class="card flow" aria-labelledby="flow-title" data-step={props.step.name()}>
            <h1 id="flow-title">{ t(Msg::SignInPhoneTitle) }</h1>
            { body }
        </section>
    }
}
