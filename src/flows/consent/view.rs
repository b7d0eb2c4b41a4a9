//! The consent page's screens, one per [`Step`]: names the service and the signed-in holder,
//! 「同意する」 and 「同意しない」; status changes are announced.

use yew::prelude::*;

use super::step::{Action, Step};
use crate::{
    flows::{error_view::FailureNotice, widgets::action_button},
    i18n::Msg,
    lang::use_lang,
};

#[derive(Properties, PartialEq)]
pub struct ConsentViewProps {
    pub step: Step,
    pub on_action: Callback<Action>,
}

#[function_component(ConsentView)]
pub fn consent_view(props: &ConsentViewProps) -> Html {
    let ctx = use_lang();
    let t = |m| ctx.t(m);
    let on = &props.on_action;
    let status = |m: Msg| {
        html! {
            <p role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>{ t(m) }</p>
        }
    };
    let body = match &props.step {
        Step::Loading => status(Msg::ConsentLoading),
        Step::Asking(p) | Step::Sending(p) => {
            let sending = matches!(props.step, Step::Sending(_));
            html! {
                <>
                    <p>{ t(Msg::ConsentLead) }</p>
                    <p class="consent-client"><strong id="consent-client-name">{ p.client_name.clone() }</strong></p>
                    <dl class="requirements">
                        <dt>{ t(Msg::ConsentClientId) }</dt>
                        <dd><code>{ p.client_id.clone() }</code></dd>
                        <dt>{ t(Msg::ConsentSignedInAs) }</dt>
                        <dd>{ format!("{} ({})", p.holder.name_kanji, p.holder.hpki_id) }</dd>
                    </dl>
                    <p>{ t(Msg::ConsentShares) }</p>
                    if sending {
                        { status(Msg::ConsentLeaving) }
                    } else {
                        <div class="actions">
                            { action_button(t(Msg::ConsentApprove), true, Action::Approve, on) }
                            { action_button(t(Msg::ConsentDecline), false, Action::Decline, on) }
                        </div>
                    }
                </>
            }
        }
        Step::Leaving => status(Msg::ConsentLeaving),
        Step::Failed(f) => html! {
            <>
                <h2>{ t(Msg::FailedTitle) }</h2>
                <FailureNotice failure={*f} />
            </>
        },
    };
    html! {
        <section class="card flow" aria-labelledby="flow-title" data-step={props.step.name()}>
            <h1 id="flow-title">{ t(Msg::ConsentTitle) }</h1>
            { body }
        </section>
    }
}
