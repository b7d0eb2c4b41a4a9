//! The screens of 別紙1, one per [`Step`], in the guide's wording. Pure rendering: the view gets
//! the step and reports the holder's [`Action`]s, so tests can show any screen in either language.

use mahpki_protocol::{
    api::{MyNumberBinding, SessionInfo},
    helper::{CardPresence, CardType, ReaderStatus},
};
use yew::prelude::*;
use yew_router::prelude::*;

use super::step::{Action, Step};
use crate::{
    Route,
    flows::{card_view::CardProgress, error_view::FailureNotice},
    i18n::{self, Msg},
    lang::{LangContext, use_lang},
};

#[derive(Properties, PartialEq)]
pub struct MyNumberViewProps {
    pub step: Step,
    pub on_action: Callback<Action>,
}

fn button(label: &'static str, primary: bool, action: Action, on: &Callback<Action>) -> Html {
    let on = on.clone();
    let class = if primary { "button primary" } else { "button" };
    html! {
        <button type="button" {class} onclick={move |_| on.emit(action)}>{ label }</button>
    }
}

fn step_name(step: &Step) -> &'static str {
    match step {
        Step::CheckingHelper => "checking_helper",
        Step::HelperMissing(_) => "helper_missing",
        Step::Ready { .. } => "ready",
        Step::HpkiAuth(_) => "hpki_auth",
        Step::Identified(_) => "identified",
        Step::JpkiAuth(..) => "jpki_auth",
        Step::Done { .. } => "done",
        Step::Failed { .. } => "failed",
        Step::Cancelled => "cancelled",
    }
}

#[function_component(MyNumberView)]
pub fn mynumber_view(props: &MyNumberViewProps) -> Html {
    let ctx = use_lang();
    let t = |m| ctx.t(m);
    let on = &props.on_action;
    let body = match &props.step {
        Step::CheckingHelper => html! {
            <>
                <p role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>{ t(Msg::HelperChecking) }</p>
                <p class="notice">{ t(Msg::LocalNetworkNotice) }</p>
            </>
        },
        Step::HelperMissing(code) => html! {
            <>
                <h2>{ t(Msg::HelperMissingTitle) }</h2>
                <FailureNotice failure={crate::flows::card::Failure::from(*code)} />
                <p>{ t(Msg::HelperInstallHint) }</p>
                <p class="notice">{ t(Msg::LocalNetworkNotice) }</p>
                <div class="actions">{ button(t(Msg::CheckAgain), true, Action::CheckHelper, on) }</div>
            </>
        },
        Step::Ready { readers } => html! {
            <>
                <Readers readers={readers.clone()} />
                <p class="hint">{ t(Msg::CardInReaderHint) }</p>
                <p class="notice">{ t(Msg::PinWindowNotice) }</p>
                <div class="actions">{ button(t(Msg::RegisterWithHpki), true, Action::StartHpki, on) }</div>
            </>
        },
        Step::HpkiAuth(stage) => html! {
            <CardProgress card={CardType::Hpki} stage={stage.clone()} />
        },
        Step::Identified(session) => html! {
            <>
                { holder_card(&ctx, session) }
                <p>{ t(Msg::ConfirmHpkiId) }</p>
                <p class="instruction">{ t(Msg::SwapToMyNumber) }</p>
                if let Some(b) = &session.mynumber {
                    <div class="notice">
                        <p>{ t(Msg::CurrentBindingNote) }</p>
                        { expiry(&ctx, Msg::CertificateExpiryLabel, b) }
                    </div>
                }
                <p class="hint">{ t(Msg::MyNumberInReaderHint) }</p>
                <div class="actions">{ button(t(Msg::RegisterMyNumber), true, Action::StartJpki, on) }</div>
            </>
        },
        Step::JpkiAuth(session, stage) => html! {
            <>
                { holder_card(&ctx, session) }
                <CardProgress card={CardType::Jpki} stage={stage.clone()} />
            </>
        },
        Step::Done { session, bound } => html! {
            <>
                <p class="notice success" role="status">{ t(Msg::DoneMessage) }</p>
                { holder_card(&ctx, session) }
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
                <h2>{ t(Msg::FailedTitle) }</h2>
                <FailureNotice failure={*failure} />
                <p>{ t(Msg::NothingBound) }</p>
                if let Some(s) = session {
                    { holder_card(&ctx, s) }
                }
                <div class="actions">
                    { button(t(Msg::TryAgain), true, Action::Retry, on) }
                    if session.is_some() {
                        { button(t(Msg::Cancel), false, Action::Cancel, on) }
                    }
                </div>
            </>
        },
        Step::Cancelled => html! {
            <>
                <p class="notice" role="status">{ t(Msg::CancelledMessage) }</p>
                <div class="actions">
                    { button(t(Msg::StartOver), true, Action::CheckHelper, on) }
                    <Link<Route> to={Route::Index} classes="button">{ t(Msg::BackToTop) }</Link<Route>>
                </div>
            </>
        },
    };
    html! {
        <section class="card flow" aria-labelledby="flow-title" data-step={step_name(&props.step)}
            aria-busy={props.step.busy().to_string()}>
            <h1 id="flow-title">{ t(Msg::MyNumberSiteTitle) }</h1>
            { body }
            if props.step.cancellable() {
                <div class="actions secondary">{ button(t(Msg::Cancel), false, Action::Cancel, on) }</div>
            }
        </section>
    }
}

/// The 本人ID, large, with who it belongs to: the holder checks it before going on.
fn holder_card(ctx: &LangContext, session: &SessionInfo) -> Html {
    let h = &session.holder;
    let name = match ctx.lang {
        i18n::Lang::Ja => format!("{}({})", h.name_kanji, h.name_kana),
        i18n::Lang::En => h.name_roman.clone(),
    };
    html! {
        <dl class="holder">
            <dt>{ ctx.t(Msg::HpkiIdLabel) }</dt>
            <dd class="hpki-id" id="hpki-id">{ h.hpki_id.to_string() }</dd>
            <dt>{ ctx.t(Msg::NameLabel) }</dt>
            <dd>{ name }</dd>
            <dt>{ ctx.t(Msg::QualificationLabel) }</dt>
            <dd>{ ctx.lang.pick(h.qualification.name()) }</dd>
            <dt>{ ctx.t(Msg::CaLabel) }</dt>
            <dd>{ ctx.lang.pick(h.ca.name()) }</dd>
        </dl>
    }
}

fn expiry(ctx: &LangContext, label: Msg, b: &MyNumberBinding) -> Html {
    html! {
        <p class="expiry">{ ctx.t(label) }{ ": " }<strong>{ i18n::date(ctx.lang, b.not_after) }</strong></p>
    }
}

#[derive(Properties, PartialEq)]
struct ReadersProps {
    readers: Vec<ReaderStatus>,
}

/// What the helper sees now, so "no reader" is visible before the holder presses anything.
#[function_component(Readers)]
fn readers(props: &ReadersProps) -> Html {
    let ctx = use_lang();
    if props.readers.is_empty() {
        return html! { <p class="notice">{ ctx.t(Msg::NoReaderFound) }</p> };
    }
    let card = |c: CardPresence| match c {
        CardPresence::Empty => Msg::CardEmpty,
        CardPresence::Hpki => Msg::CardHpki,
        CardPresence::Jpki => Msg::CardJpki,
        CardPresence::Unsupported => Msg::CardUnsupported,
    };
    html! {
        <dl class="readers">
            <dt>{ ctx.t(Msg::ReadersLabel) }</dt>
            { for props.readers.iter().map(|r| html! {
                <dd>{ format!("{}: {}", r.name, ctx.t(card(r.card))) }</dd>
            }) }
        </dl>
    }
}
