//! The old phone's screens in a change, one per [`Step`], sized for a phone and usable by
//! screen reader.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::step::{Action, Step};
use crate::{
    flows::{
        confirm::ConfirmShow,
        error_view::PhoneFailure,
        widgets::{Frame, Status, flow_frame, use_step_focus},
    },
    i18n::Msg,
    lang::use_lang,
};

#[derive(Properties, PartialEq)]
pub struct ProveViewProps {
    pub step: Step,
    pub on_action: Callback<Action>,
}

#[function_component(ProveView)]
pub fn prove_view(props: &ProveViewProps) -> Html {
    let ctx = use_lang();
    let t = |m| ctx.t(m);
    let on = props.on_action.clone();
    let username = use_node_ref();
    let body = match &props.step {
        Step::Opening | Step::Proving(..) => html! {},
        Step::Login { hpki_id, invalid, .. } => {
            let (on, input) = (on.clone(), username.clone());
            let onsubmit = move |e: SubmitEvent| {
                e.prevent_default();
                if let Some(el) = input.cast::<HtmlInputElement>() {
                    on.emit(Action::Login(el.value()));
                }
            };
            html! {
                <form class="login-form" {onsubmit}>
                    <div class="field">
                        <label for="username">{ t(Msg::UsernameLabel) }</label>
                        <input id="username" type="text" ref={username.clone()} value={hpki_id.clone()}
                            required=true autocomplete="username" autocapitalize="characters" spellcheck="false"
                            aria-invalid={invalid.to_string()} aria-describedby="username-error" />
                        if *invalid {
                            <p id="username-error" class="field-error" role="alert">{ t(Msg::HpkiIdInvalid) }</p>
                        }
                    </div>
                    <p>{ t(Msg::ProveLoginHint) }</p>
                    <div class="actions"><button type="submit" class="button primary">{ t(Msg::LoginButton) }</button></div>
                </form>
            }
        }
        Step::Confirming(_) => html! {
            <ConfirmShow code={props.step.confirmation().unwrap_or_default().to_owned()} />
        },
        Step::Done => html! { <p>{ t(Msg::ProveDoneNote) }</p> },
        Step::Failed { failure, .. } => html! {
            <PhoneFailure failure={*failure} note={Msg::NothingChanged} reissue={Some(Msg::ProveReissueHint)}
                on_retry={props.step.retryable().then(|| on.reform(|()| Action::Retry))} />
        },
    };
    let busy = |m| Some(Status::Busy(t(m).into()));
    let (heading, status) = match &props.step {
        Step::Opening => (Msg::StepIdentifiedTitle, busy(Msg::EnrolOpening)),
        Step::Login { .. } => (Msg::StepIdentifiedTitle, None),
        Step::Proving(..) => (Msg::StepBiometricTitle, busy(Msg::EnrolBiometric)),
        Step::Confirming(_) => (Msg::VerificationCodeLabel, busy(Msg::ConfirmWaiting)),
        Step::Done => (Msg::StepDoneTitle, Some(Status::Done(t(Msg::ProveDone).into()))),
        Step::Failed { .. } => (Msg::FailedTitle, None),
    };
    let step = props.step.name();
    use_step_focus(step);
    let frame =
        Frame { title: Msg::ProveSiteTitle, step, heading: Some(t(heading).into()), status };
    flow_frame(&ctx, frame, body)
}
