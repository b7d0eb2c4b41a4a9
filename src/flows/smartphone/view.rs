//! The PC screens of a phone binding, one per [`Step`]. Pure rendering, so tests can show any
//! screen in either language.

use mahpki_protocol::pages::Page;
use mahpki_protocol::{ErrorCode, helper::CardType};
use yew::prelude::*;

use super::{
    code_view::{CodePanel, countdown_status},
    jma_view::JmaForm,
    step::{Action, Step, Via},
};
use crate::{
    flows::{
        card_view::{self, CardProgress},
        confirm::ConfirmEntry,
        error_view::FailureNotice,
        run::Failure,
        start_view::{BackToTop, Cancelled, CheckingHelper, HelperMissing, HolderCard, HpkiReady},
        widgets::{Frame, Status, action_button, cancel_row, flow_frame, use_step_focus},
    },
    i18n::Msg,
    lang::{LangContext, use_lang},
};

#[derive(Properties, PartialEq)]
pub struct SmartphoneViewProps {
    pub via: Via,
    pub step: Step,
    /// `Date.now()` of the last countdown tick.
    pub now_ms: f64,
    pub on_action: Callback<Action>,
}

/// The step's heading, and what the live region says on it. Headings reuse the screen's own
/// words where they fit (the bundle carries each string once); where a step has none (a wait,
/// the replace question, which says itself), the page's title is the heading.
fn heading_and_status(
    ctx: &LangContext,
    props: &SmartphoneViewProps,
) -> (Option<AttrValue>, Option<Status>) {
    let t = |m| Some(AttrValue::from(ctx.t(m)));
    let said = |m| AttrValue::from(ctx.t(m));
    let busy = |m| Some(Status::Busy(said(m)));
    let change = props.via == Via::OldPhone;
    let cancelled = if change { Msg::ChangeCancelled } else { Msg::SmartphoneCancelled };
    let start = Msg::RegisterOrChangeWithHpki;
    let countdown = |code| Some(countdown_status(ctx.lang, code, props.now_ms));
    match &props.step {
        Step::CheckingHelper => (None, busy(Msg::HelperChecking)),
        Step::HelperMissing(code, _) => (Some(ctx.lang.pick(code.message()).into()), None),
        Step::Ready { .. } => (t(start), None),
        Step::HpkiAuth(stage) => (t(start), busy(card_view::headline(CardType::Hpki, stage))),
        Step::JmaForm { .. } => (t(Msg::JmaEntry), None),
        Step::JmaChecking(_) => (t(Msg::JmaEntry), busy(Msg::Checking)),
        Step::ChangeIssuing => (None, busy(Msg::Checking)),
        Step::Issuing(_) => (None, busy(Msg::Issuing)),
        Step::FirstCode(code) => (t(Msg::ChangeQrAlt), countdown(code)),
        Step::ShowCode(_, code) => (t(Msg::QrAlt), countdown(code)),
        Step::FirstOpened(_) => (t(Msg::ContinueOnOldPhone), None),
        Step::Opened(..) => (t(Msg::ContinueOnPhone), None),
        Step::Confirm(_) => (t(Msg::ConfirmEnterTitle), None),
        Step::ConfirmFailed { .. } | Step::Failed { .. } => (t(Msg::FailedTitle), None),
        Step::FirstExpired | Step::Expired { .. } => (t(Msg::ExpiredTitle), None),
        Step::AskReplace(_) => (None, None),
        Step::Done { .. } => (t(Msg::StepDoneTitle), Some(Status::Done(said(Msg::SmartphoneDone)))),
        Step::KeptCurrent(_) => {
            (t(Msg::StepCancelledTitle), Some(Status::Note(said(Msg::KeptCurrent))))
        }
        Step::Cancelled => (t(Msg::StepCancelledTitle), Some(Status::Note(said(cancelled)))),
    }
}

#[function_component(SmartphoneView)]
pub fn smartphone_view(props: &SmartphoneViewProps) -> Html {
    let ctx = use_lang();
    let t = |m| ctx.t(m);
    let on = &props.on_action;
    let change = props.via == Via::OldPhone;
    let body = match &props.step {
        Step::CheckingHelper => html! { <CheckingHelper /> },
        Step::HelperMissing(code, url) => html! {
            <HelperMissing code={*code} download={url.clone()} on_retry={on.reform(|()| Action::CheckHelper)} />
        },
        Step::Ready { readers } => html! {
            <>
                <HpkiReady readers={readers.clone()} label={Msg::RegisterOrChangeWithHpki}
                    on_start={on.reform(|()| Action::StartHpki)} />
                <p class="hint">{ t(Msg::JmaEntryHint) }{ " " }
                    <a href={Page::SmartphoneJma.path()}>{ t(Msg::JmaEntry) }</a></p>
            </>
        },
        Step::HpkiAuth(stage) => html! {
            <CardProgress card={CardType::Hpki} stage={stage.clone()} />
        },
        Step::JmaForm { failure, entry } => html! {
            <JmaForm failure={*failure} entry={entry.clone()} checking=false on_action={on.clone()} />
        },
        Step::JmaChecking(entry) => html! {
            <JmaForm failure={None} entry={entry.clone()} checking=true on_action={on.clone()} />
        },
        Step::ChangeIssuing => html! {},
        Step::FirstCode(code) => html! {
            <CodePanel code={code.clone()} now_ms={props.now_ms} instruction={Msg::ScanWithOldPhone}
                qr_label={Msg::ChangeQrAlt} link_id="change-link" />
        },
        Step::FirstOpened(_) => html! { <p>{ t(Msg::ContinueOnOldPhoneHint) }</p> },
        Step::Confirm(c) => html! {
            <>
                if let Some(h) = &c.holder {
                    <HolderCard holder={h.clone()} />
                }
                <ConfirmEntry tries_left={c.tries_left} wrong={c.wrong} sending={c.sending}
                    instruction={if c.holder.is_none() { Msg::ConfirmEnterOldPhoneInstruction } else { Msg::ConfirmEnterInstruction }}
                    on_submit={on.reform(Action::Confirm)} />
            </>
        },
        Step::ConfirmFailed { holder, .. } => html! {
            <>
                if let Some(h) = holder {
                    <HolderCard holder={h.clone()} />
                }
                <FailureNotice failure={Failure::from(ErrorCode::ConfirmationFailed)} />
                <p>{ t(if change { Msg::ChangeNothingChanged } else { Msg::SmartphoneNothingBound }) }</p>
                <div class="actions">{ action_button(t(Msg::Reissue), true, Action::Reissue, on) }</div>
            </>
        },
        Step::FirstExpired => html! {
            <>
                <p>{ t(Msg::ExpiredHint) }</p>
                <div class="actions">{ action_button(t(Msg::Reissue), true, Action::Reissue, on) }</div>
            </>
        },
        Step::Issuing(holder) => html! {
            <>
                <HolderCard holder={holder.clone()} />
            </>
        },
        Step::AskReplace(holder) => html! {
            <>
                <HolderCard holder={holder.clone()} />
                <div class="notice" role="alertdialog" aria-labelledby="replace-question">
                    <p id="replace-question" class="instruction">{ t(Msg::ReplaceQuestion) }</p>
                    <p>{ t(Msg::ReplaceNote) }</p>
                </div>
                <div class="actions">
                    { action_button(t(Msg::Yes), true, Action::Replace, on) }
                    { action_button(t(Msg::No), false, Action::Keep, on) }
                </div>
            </>
        },
        Step::ShowCode(holder, code) => html! {
            <>
                <HolderCard holder={holder.clone()} />
                <CodePanel code={code.clone()} now_ms={props.now_ms}
                    instruction={if change { Msg::ScanWithNewPhone } else { Msg::ScanCode }}
                    qr_label={Msg::QrAlt} link_id="enrol-link" />
            </>
        },
        Step::Opened(holder, _) => html! {
            <>
                <p>{ t(Msg::ContinueOnPhoneHint) }</p>
                <HolderCard holder={holder.clone()} />
            </>
        },
        Step::Expired { holder, .. } => html! {
            <>
                <p>{ t(Msg::ExpiredHint) }</p>
                <HolderCard holder={holder.clone()} />
                <div class="actions">{ action_button(t(Msg::Reissue), true, Action::Reissue, on) }</div>
            </>
        },
        Step::Done { holder, replaced } => html! {
            <>
                <p>{ t(Msg::CloseWholeBrowser) }</p>
                <HolderCard holder={holder.clone()} />
                if *replaced {
                    <p class="notice">{ t(Msg::PhoneReplacedNote) }</p>
                }
            </>
        },
        Step::KeptCurrent(holder) => html! {
            <>
                <HolderCard holder={holder.clone()} />
                <a href={Page::Index.path()} class="button">{ t(Msg::BackToTop) }</a>
            </>
        },
        Step::Failed { failure, holder } => html! {
            <>
                <FailureNotice failure={*failure} />
                <p>{ t(if change { Msg::ChangeNothingChanged } else { Msg::SmartphoneNothingBound }) }</p>
                if let Some(h) = holder {
                    <HolderCard holder={h.clone()} />
                }
                <div class="actions">
                    if failure.retry_helps() {
                        { action_button(t(Msg::TryAgain), true, Action::Retry, on) }
                    } else {
                        <BackToTop />
                    }
                </div>
            </>
        },
        Step::Cancelled => html! {
            <Cancelled on_start_over={on.reform(|()| Action::CheckHelper)} />
        },
    };
    let (heading, status) = heading_and_status(&ctx, props);
    let step = props.step.name();
    use_step_focus(step);
    let frame = Frame {
        title: if change { Msg::SmartphoneChangeSiteTitle } else { Msg::SmartphoneSiteTitle },
        step,
        heading,
        status,
    };
    flow_frame(
        &ctx,
        frame,
        html! { <>{ body }{ cancel_row(&ctx, props.step.cancellable(), Action::Cancel, on) }</> },
    )
}
