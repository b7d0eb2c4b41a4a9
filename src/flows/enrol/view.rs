//! The phone screens of 別紙2, one per [`Step`], sized for a phone and usable by screen reader.

use mahpki_protocol::{enrol::LABEL_MAX_CHARS, error::Place};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::step::{Action, Step};
use crate::{
    flows::{confirm::ConfirmShow, error_view::PhoneFailure},
    i18n::Msg,
    lang::use_lang,
};

#[derive(Properties, PartialEq)]
pub struct EnrolViewProps {
    pub step: Step,
    pub on_action: Callback<Action>,
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
        Step::Opening => html! {
            <p role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>{ t(Msg::EnrolOpening) }</p>
        },
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
                    if !props.step.link() {
                        <p class="notice success" role="status">{ t(Msg::ConfirmedOnPc) }</p>
                    }
                    <p>{ t(Msg::EnrolLoginHint) }</p>
                    <div class="actions">
                        <button type="button" class="button primary" onclick={move |_| on.emit(Action::Register)}>{ t(Msg::RegisterButton) }</button>
                    </div>
                </>
            }
        }
        Step::Registering(opened) => html! {
            <>
                { username(opened.hpki_id.to_string()) }
                <p class="progress-headline" role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>{ t(Msg::EnrolBiometric) }</p>
            </>
        },
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
                    <h2>{ t(Msg::LabelTitle) }</h2>
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
        Step::Saving(_) => html! {
            <p role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>{ t(Msg::EnrolSaving) }</p>
        },
        Step::Done { link, .. } => html! {
            <>
                <p class="notice success" role="status">{ t(Msg::EnrolDone) }</p>
                if !*link {
                    <p>{ t(Msg::EnrolDonePcNote) }</p>
                }
            </>
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
    html! {
        <section class="card flow" aria-labelledby="flow-title" data-step={props.step.name()}>
            <h1 id="flow-title">{ t(Msg::EnrolSiteTitle) }</h1>
            { body }
        </section>
    }
}
