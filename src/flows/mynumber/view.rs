//! The screens of 別紙1, one per [`Step`], in the guide's wording. Pure rendering: the view gets
//! the step and reports the holder's [`Action`]s, so tests can show any screen in either language.

use mahpki_protocol::{api::MyNumberBinding, helper::CardType};
use yew::prelude::*;

use super::step::{Action, Step};
use crate::{
    flows::{
        card_view::{self, CardProgress},
        error_view::FailureNotice,
        start_view::{BackToTop, Cancelled, CheckingHelper, HelperMissing, HolderCard, HpkiReady},
        widgets::{Frame, Status, action_button, cancel_row, flow_frame, use_step_focus},
    },
    i18n::{self, Msg},
    lang::{LangContext, use_lang},
};

#[derive(Properties, PartialEq)]
pub struct MyNumberViewProps {
    pub step: Step,
    pub on_action: Callback<Action>,
}

fn step_name(step: &Step) -> &'static str {
    match step {
        Step::CheckingHelper => "checking_helper",
        Step::HelperMissing(..) => "helper_missing",
        Step::Ready { .. } => "ready",
        Step::HpkiAuth(_) => "hpki_auth",
        Step::Identified(_) => "identified",
        Step::JpkiAuth(..) => "jpki_auth",
        Step::Done { .. } => "done",
        Step::Failed { .. } => "failed",
        Step::Cancelled => "cancelled",
    }
}

/// The step's heading, and what the live region says on it. Headings reuse the screen's own
/// words where they fit (the bundle carries each string once); while the helper is looked for,
/// the page's title is the heading.
fn heading_and_status(ctx: &LangContext, step: &Step) -> (Option<AttrValue>, Option<Status>) {
    let t = |m| AttrValue::from(ctx.t(m));
    let busy = |card, stage| Some(Status::Busy(t(card_view::headline(card, stage))));
    let (heading, status) = match step {
        Step::CheckingHelper => return (None, Some(Status::Busy(t(Msg::HelperChecking)))),
        Step::HelperMissing(code, _) => (ctx.lang.pick(code.message()).into(), None),
        Step::Ready { .. } => (t(Msg::RegisterWithHpki), None),
        Step::HpkiAuth(stage) => (t(Msg::RegisterWithHpki), busy(CardType::Hpki, stage)),
        Step::Identified(_) => (t(Msg::StepIdentifiedTitle), None),
        Step::JpkiAuth(_, stage) => (t(Msg::RegisterMyNumber), busy(CardType::Jpki, stage)),
        Step::Done { .. } => (t(Msg::StepDoneTitle), Some(Status::Done(t(Msg::DoneMessage)))),
        Step::Failed { .. } => (t(Msg::FailedTitle), None),
        Step::Cancelled => {
            (t(Msg::StepCancelledTitle), Some(Status::Note(t(Msg::CancelledMessage))))
        }
    };
    (Some(heading), status)
}

#[function_component(MyNumberView)]
pub fn mynumber_view(props: &MyNumberViewProps) -> Html {
    let ctx = use_lang();
    let t = |m| ctx.t(m);
    let on = &props.on_action;
    let body = match &props.step {
        Step::CheckingHelper => html! { <CheckingHelper /> },
        Step::HelperMissing(code, url) => html! {
            <HelperMissing code={*code} download={url.clone()} on_retry={on.reform(|()| Action::CheckHelper)} />
        },
        Step::Ready { readers } => html! {
            <HpkiReady readers={readers.clone()} label={Msg::RegisterWithHpki} on_start={on.reform(|()| Action::StartHpki)} />
        },
        Step::HpkiAuth(stage) => html! {
            <CardProgress card={CardType::Hpki} stage={stage.clone()} />
        },
        Step::Identified(session) => html! {
            <>
                <HolderCard holder={session.holder.clone()} />
                <p>{ t(Msg::ConfirmHpkiId) }</p>
                <p class="instruction">{ t(Msg::SwapToMyNumber) }</p>
                if let Some(b) = &session.mynumber {
                    <div class="notice">
                        <p>{ t(Msg::CurrentBindingNote) }</p>
                        { expiry(&ctx, Msg::CertificateExpiryLabel, b) }
                    </div>
                }
                <p class="hint">{ t(Msg::MyNumberInReaderHint) }</p>
                <div class="actions">{ action_button(t(Msg::RegisterMyNumber), true, Action::StartJpki, on) }</div>
            </>
        },
        Step::JpkiAuth(session, stage) => html! {
            <>
                <CardProgress card={CardType::Jpki} stage={stage.clone()} />
                <HolderCard holder={session.holder.clone()} />
            </>
        },
        Step::Done { session, bound } => html! {
            <>
                <HolderCard holder={session.holder.clone()} />
                { expiry(&ctx, Msg::CertificateExpiryLabel, &bound.binding) }
                if let Some(old) = &bound.replaced {
                    <div class="notice">
                        <p>{ t(Msg::ReplacedNote) }</p>
                        { expiry(&ctx, Msg::ReplacedExpiryLabel, old) }
                    </div>
                }
            </>
        },
        Step::Failed { failure, session } => html! {
            <>
                <FailureNotice failure={*failure} />
                <p>{ t(Msg::NothingBound) }</p>
                if let Some(s) = session {
                    <HolderCard holder={s.holder.clone()} />
                }
                <div class="actions">
                    if failure.retry_helps() {
                        { action_button(t(Msg::TryAgain), true, Action::Retry, on) }
                    } else {
                        <BackToTop />
                    }
                    if session.is_some() {
                        { action_button(t(Msg::Cancel), false, Action::Cancel, on) }
                    }
                </div>
            </>
        },
        Step::Cancelled => html! {
            <Cancelled on_start_over={on.reform(|()| Action::CheckHelper)} />
        },
    };
    let (heading, status) = heading_and_status(&ctx, &props.step);
    let step = step_name(&props.step);
    use_step_focus(step);
    let frame = Frame { title: Msg::MyNumberSiteTitle, step, heading, status };
    flow_frame(
        &ctx,
        frame,
        html! { <>{ body }{ cancel_row(&ctx, props.step.cancellable(), Action::Cancel, on) }</> },
    )
}

fn expiry(ctx: &LangContext, label: Msg, b: &MyNumberBinding) -> Html {
    html! {
        <p class="expiry">{ ctx.t(label) }{ ": " }<strong>{ i18n::date(ctx.lang, b.not_after) }</strong></p>
    }
}
