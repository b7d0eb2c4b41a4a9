//! The consent page's screens, one per [`Step`]: names the service and the signed-in holder,
//! what the service will learn and, when it asks to, that it will sign with the holder's HPKI
//! second certificate; 「同意する」 and 「同意しない」; status changes are announced.

use yew::prelude::*;

use super::step::{Action, Step};
use crate::{
    flows::{
        error_view::FailureNotice,
        widgets::{Frame, Status, action_button, flow_frame, use_step_focus},
    },
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
    let body = match &props.step {
        Step::Loading | Step::Leaving => html! {},
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
                    // Signing in the holder's name is more than signing them in: said apart.
                    if p.remote_signing {
                        <p id="consent-remote-signing" class="notice">
                            <strong>{ t(Msg::ConsentRemoteSigning) }</strong>
                        </p>
                    }
                    if !sending {
                        <div class="actions">
                            { action_button(t(Msg::ConsentApprove), true, Action::Approve, on) }
                            { action_button(t(Msg::ConsentDecline), false, Action::Decline, on) }
                        </div>
                    }
                </>
            }
        }
        Step::Failed(f) => html! { <FailureNotice failure={*f} /> },
    };
    let busy = |m| Some(Status::Busy(t(m).into()));
    // The service's name heads the question: it is what the holder decides about.
    let (heading, status): (Option<AttrValue>, _) = match &props.step {
        Step::Loading => (None, busy(Msg::ConsentLoading)),
        Step::Asking(p) => (Some(p.client_name.clone().into()), None),
        Step::Sending(p) => (Some(p.client_name.clone().into()), busy(Msg::ConsentLeaving)),
        Step::Leaving => (None, busy(Msg::ConsentLeaving)),
        Step::Failed(_) => (Some(t(Msg::FailedTitle).into()), None),
    };
    let step = props.step.name();
    use_step_focus(step);
    let frame = Frame { title: Msg::ConsentTitle, step, heading, status };
    flow_frame(&ctx, frame, body)
}
