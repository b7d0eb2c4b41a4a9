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
        smartphone::code_view::{CodePanel, countdown_status},
        widgets::{Frame, Status, action_button, flow_frame, use_step_focus},
    },
    i18n::Msg,
    lang::{LangContext, use_lang},
};

#[derive(Properties, PartialEq)]
pub struct SignInSmartphoneViewProps {
    pub step: Step,
    pub now_ms: f64,
    pub on_action: Callback<Action>,
}

/// The step's heading, and what the live region says on it (while the code is issued, the
/// page's title is the heading).
fn heading_and_status(
    ctx: &LangContext,
    props: &SignInSmartphoneViewProps,
) -> (Option<AttrValue>, Option<Status>) {
    let t = |m| AttrValue::from(ctx.t(m));
    let busy = |m| Some(Status::Busy(t(m)));
    let (heading, status) = match &props.step {
        Step::Issuing => return (None, busy(Msg::Issuing)),
        Step::ShowCode(code) => {
            (t(Msg::SignInQrAlt), Some(countdown_status(ctx.lang, code, props.now_ms)))
        }
        Step::Opened(_) => (t(Msg::SignInContinueOnPhone), None),
        Step::Confirm { .. } => (t(Msg::ConfirmEnterTitle), None),
        Step::PasskeyHere => (t(Msg::PasskeyHereTitle), busy(Msg::PasskeyHereWaiting)),
        Step::SignedIn(_) => (t(Msg::SignedInTitle), Some(Status::Done(t(Msg::SignedInMoving)))),
        Step::Expired => (t(Msg::ExpiredTitle), None),
        Step::ConfirmFailed | Step::Failed(_) => (t(Msg::SignInFailedTitle), None),
        Step::Cancelled => {
            (t(Msg::StepCancelledTitle), Some(Status::Note(t(Msg::SignInCancelled))))
        }
    };
    (Some(heading), status)
}

#[function_component(SignInSmartphoneView)]
pub fn signin_smartphone_view(props: &SignInSmartphoneViewProps) -> Html {
    let ctx = use_lang();
    let t = |m| ctx.t(m);
    let on = &props.on_action;
    let passkey_here = html! {
        <section class="passkey-here" aria-labelledby="passkey-here-title">
            <h2 id="passkey-here-title">{ t(Msg::PasskeyHereTitle) }</h2>
            <p>{ t(Msg::PasskeyHereHint) }</p>
            <div class="actions">{ action_button(t(Msg::PasskeyHereButton), false, Action::PasskeyHere, on) }</div>
        </section>
    };
    let reissue = html! { <div class="actions">{ action_button(t(Msg::Reissue), true, Action::Reissue, on) }</div> };
    let body = match &props.step {
        Step::Issuing | Step::PasskeyHere | Step::SignedIn(_) => html! {},
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
                <p>{ t(Msg::SignInContinueOnPhoneHint) }</p>
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
        Step::Expired => html! {
            <>
                <p>{ t(Msg::ExpiredHint) }</p>
                { reissue }
            </>
        },
        Step::ConfirmFailed => html! {
            <>
                <FailureNotice failure={Failure::from(ErrorCode::ConfirmationFailed)} />
                <p>{ t(Msg::SignInNobodySignedIn) }</p>
                { reissue }
            </>
        },
        Step::Cancelled => reissue,
        Step::Failed(failure) => html! {
            <>
                <FailureNotice failure={*failure} />
                { reissue }
                { passkey_here }
            </>
        },
    };
    let (heading, status) = heading_and_status(&ctx, props);
    let step = props.step.name();
    use_step_focus(step);
    let frame = Frame { title: Msg::SignInSmartphoneTitle, step, heading, status };
    flow_frame(&ctx, frame, body)
}
