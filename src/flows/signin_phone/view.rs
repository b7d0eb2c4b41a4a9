//! The phone's sign-in screens, one per [`Step`], sized for a phone and usable by screen reader.
//! The confirmation code is the enrolment's own (`confirm::ConfirmShow`).

use yew::prelude::*;

use super::step::{Action, For, Step};
use crate::{
    flows::{
        confirm::ConfirmShow,
        error_view::FailureNotice,
        widgets::{Frame, Status, action_button, flow_frame, use_step_focus},
    },
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
    let body = match &props.step {
        Step::Opening | Step::Checking(_) | Step::PcSignedIn | Step::SignedIn(_) => html! {},
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
        Step::Confirming { code } => html! { <ConfirmShow code={code.clone()} /> },
        Step::Failed { failure, retry } => html! {
            <>
                <FailureNotice failure={*failure} />
                if retry.is_some() {
                    <div class="actions">{ action_button(t(Msg::TryAgain), true, Action::Retry, on) }</div>
                } else {
                    <p>{ t(Msg::SignInPhoneReissueHint) }</p>
                }
            </>
        },
    };
    let busy = |m| Some(Status::Busy(t(m).into()));
    let done = |m| Some(Status::Done(t(m).into()));
    let (heading, status) = match &props.step {
        Step::Opening => (Msg::SignInPhoneTitle, busy(Msg::SignInPhoneOpening)),
        Step::Ready(_) => (Msg::SignInPhoneTitle, None),
        Step::Checking(_) => (Msg::StepBiometricTitle, busy(Msg::PasskeyChecking)),
        Step::Confirming { .. } => (Msg::VerificationCodeLabel, busy(Msg::ConfirmWaiting)),
        Step::PcSignedIn => (Msg::SignedInTitle, done(Msg::SignInPhoneDone)),
        Step::SignedIn(_) => (Msg::SignedInTitle, done(Msg::SignedInMoving)),
        Step::Failed { .. } => (Msg::SignInFailedTitle, None),
    };
    // Where the step has no heading of its own, the page's title is the heading.
    let heading = (heading != Msg::SignInPhoneTitle).then(|| AttrValue::from(t(heading)));
    let step = props.step.name();
    use_step_focus(step);
    let frame = Frame { title: Msg::SignInPhoneTitle, step, heading, status };
    flow_frame(&ctx, frame, body)
}
