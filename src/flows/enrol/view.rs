//! The phone screens of 別紙2, one per [`Step`], sized for a phone and usable by screen reader.

use mahpki_protocol::{enrol::LABEL_MAX_CHARS, error::Place};
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
    lang::{LangContext, use_lang},
};

#[derive(Properties, PartialEq)]
pub struct EnrolViewProps {
    pub step: Step,
    pub on_action: Callback<Action>,
}

/// The step's heading, and what the live region says on it.
fn heading_and_status(ctx: &LangContext, step: &Step) -> (Msg, Option<Status>) {
    let busy = |m| Some(Status::Busy(ctx.t(m).into()));
    match step {
        Step::Opening => (Msg::StepIdentifiedTitle, busy(Msg::EnrolOpening)),
        Step::Login(_) if step.confirmation().is_some() => {
            (Msg::VerificationCodeLabel, busy(Msg::ConfirmWaiting))
        }
        Step::Login(_) if !step.link() => {
            (Msg::StepIdentifiedTitle, Some(Status::Done(ctx.t(Msg::ConfirmedOnPc).into())))
        }
        Step::Login(_) => (Msg::StepIdentifiedTitle, None),
        Step::Registering(_) => (Msg::StepBiometricTitle, busy(Msg::EnrolBiometric)),
        Step::Label { .. } => (Msg::LabelTitle, None),
        Step::Saving(_) => (Msg::LabelTitle, busy(Msg::EnrolSaving)),
        Step::Done { .. } => (Msg::StepDoneTitle, Some(Status::Done(ctx.t(Msg::EnrolDone).into()))),
        Step::Failed { .. } => (Msg::FailedTitle, None),
    }
}

#[function_component(EnrolView)]
pub fn enrol_view(props: &EnrolViewProps) -> Html {
    let ctx = use_lang();
    let t = |m| ctx.t(m);
    let on = props.on_action.clone();
    let label_input = use_node_ref();
    let username = |hpki_id: String| {
        html! {
            <div class="field">
                <label for="username">{ t(Msg::UsernameLabel) }</label>
                <input id="username" type="text" value={hpki_id} readonly=true autocomplete="username" />
            </div>
        }
    };
    let body = match &props.step {
        Step::Opening | Step::Saving(_) => html! {},
        Step::Login(opened) if props.step.confirmation().is_some() => html! {
            <>
                { username(opened.hpki_id.to_string()) }
                <ConfirmShow code={props.step.confirmation().unwrap_or_default().to_owned()} />
            </>
        },
        Step::Login(opened) => {
            let on = on.clone();
            html! {
                <>
                    { username(opened.hpki_id.to_string()) }
                    <p>{ t(Msg::EnrolLoginHint) }</p>
                    <div class="actions">
                        <button type="button" class="button primary" onclick={move |_| on.emit(Action::Register)}>{ t(Msg::RegisterButton) }</button>
                    </div>
                </>
            }
        }
        Step::Registering(opened) => username(opened.hpki_id.to_string()),
        Step::Label { label, .. } => {
            let (on, input) = (on.clone(), label_input.clone());
            let onsubmit = move |e: SubmitEvent| {
                e.prevent_default();
                if let Some(el) = input.cast::<HtmlInputElement>() {
                    on.emit(Action::ConfirmLabel(el.value()));
                }
            };
            html! {
                <form class="label-form" {onsubmit}>
                    <p>{ t(Msg::LabelHint) }</p>
                    <div class="field">
                        <label for="label">{ t(Msg::LabelField) }</label>
                        <input id="label" type="text" ref={label_input.clone()} value={label.clone()}
                            required=true maxlength={LABEL_MAX_CHARS.to_string()} />
                    </div>
                    <div class="actions"><button type="submit" class="button primary">{ t(Msg::Ok) }</button></div>
                </form>
            }
        }
        Step::Done { link, .. } => html! {
            if !*link {
                <p>{ t(Msg::EnrolDonePcNote) }</p>
            }
        },
        Step::Failed { failure, .. } => {
            // A CA's link: the remedy itself says to ask the CA, in place of any PC.
            let link = props.step.link();
            html! {
                <PhoneFailure failure={if link { failure.at(Place::CaLink) } else { *failure }}
                    reissue={(!link).then_some(Msg::EnrolReissueHint)}
                    on_retry={props.step.retryable().then(|| on.reform(|()| Action::Retry))} />
            }
        }
    };
    let (heading, status) = heading_and_status(&ctx, &props.step);
    let step = props.step.name();
    use_step_focus(step);
    let frame =
        Frame { title: Msg::EnrolSiteTitle, step, heading: Some(t(heading).into()), status };
    flow_frame(&ctx, frame, body)
}
