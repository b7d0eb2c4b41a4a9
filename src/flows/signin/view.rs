//! The screens of the sign-in page, one per [`Step`]. Pure rendering: the view gets the step and
//! reports the holder's [`Action`]s, so tests can show any screen in either language.

use mahpki_protocol::api::{SignInFactor, SignedIn};
use yew::prelude::*;

use super::step::{Action, Helper, Step, Way};
use crate::{
    flows::{
        card_view::{self, CardProgress},
        continue_to,
        error_view::FailureNotice,
        start_view::{BackToTop, HolderCard, Readers},
        widgets::{Frame, Status, action_button, flow_frame, use_step_focus},
    },
    i18n::{self, Msg},
    lang::{LangContext, use_lang},
};

/// The phone's way in, built by its own page.
pub const SMARTPHONE_PATH: &str = "/signin/smartphone";

#[derive(Properties, PartialEq)]
pub struct SignInViewProps {
    pub step: Step,
    /// Where a relying service that sent the holder here wants them back (`?continue=` under
    /// `/oidc/`, checked); the スマートフォン page's link carries it along.
    #[prop_or_default]
    pub continue_to: Option<AttrValue>,
    pub on_action: Callback<Action>,
}

fn step_name(step: &Step) -> &'static str {
    match step {
        Step::Checking => "checking",
        Step::SignedIn(_) => "signed_in",
        Step::Choose(_) => "choose",
        Step::Card(Way::HpkiCard, _) => "hpki_card",
        Step::Card(Way::MyNumber, _) => "mynumber",
        Step::Done(_) => "done",
        Step::Failed(_) => "failed",
        Step::SignedOut => "signed_out",
    }
}

fn factor_name(f: SignInFactor) -> Msg {
    match f {
        SignInFactor::HpkiCard => Msg::SignInHpkiWay,
        SignInFactor::Mynumber => Msg::SignInMyNumberWay,
        SignInFactor::Passkey => Msg::SignInSmartphoneWay,
    }
}

/// Who is signed in on this browser, with what, since and until when.
fn session(ctx: &LangContext, s: &SignedIn) -> Html {
    let t = |m| ctx.t(m);
    html! {
        <>
            <HolderCard holder={s.holder.clone()} />
            <dl class="holder signin-session">
                <dt>{ t(Msg::SignedInFactorLabel) }</dt>
                <dd id="signin-factor">{ i18n::unmarked(t(factor_name(s.factor))) }</dd>
                <dt>{ t(Msg::SignedInSinceLabel) }</dt>
                <dd>{ i18n::date_time(ctx.lang, s.since) }</dd>
                <dt>{ t(Msg::SignedInUntilLabel) }</dt>
                <dd id="signin-until">{ i18n::date_time(ctx.lang, s.until) }</dd>
            </dl>
        </>
    }
}

/// The three ways in, in the guide's order: (i) HPKIカード, (ii) マイナンバーカード, (iii) スマートフォン.
fn ways(
    ctx: &LangContext,
    helper: &Helper,
    continue_to: Option<&str>,
    on: &Callback<Action>,
) -> Html {
    let t = |m| ctx.t(m);
    let ready = matches!(helper, Helper::Ready(_));
    let start = |way: Way, label: Msg| {
        let on = on.clone();
        html! {
            <button type="button" class="button primary" disabled={!ready}
                onclick={move |_| on.emit(Action::Start(way))}>{ t(label) }</button>
        }
    };
    html! {
        <>
            <p>{ t(Msg::SignInIntro) }</p>
            { match helper {
                Helper::Ready(readers) => html! {
                    <>
                        <Readers readers={readers.clone()} />
                        <p class="notice">{ t(Msg::PinWindowNotice) }</p>
                    </>
                },
                Helper::Missing(code, download) => html! {
                    <div class="notice" data-error={code.wire()}>
                        <p><strong>{ ctx.lang.pick(code.message()) }</strong></p>
                        <p class="remedy">{ ctx.lang.pick(code.remedy()) }</p>
                        <p>{ t(Msg::SignInHelperNeeded) }</p>
                        if !download.is_empty() {
                            <p><a href={download.clone()} target="_blank" rel="noopener noreferrer" id="helper-download">{ t(Msg::HelperDownload) }</a></p>
                        }
                        <div class="actions">{ action_button(t(Msg::CheckAgain), false, Action::Retry, on) }</div>
                    </div>
                },
            } }
            <article class="card" aria-labelledby="way-hpki">
                <h3 id="way-hpki">{ t(Msg::SignInHpkiWay) }</h3>
                <p class="hint">{ t(Msg::SignInHpkiHint) }</p>
                <div class="actions">{ start(Way::HpkiCard, Msg::SignInHpkiButton) }</div>
            </article>
            <article class="card" aria-labelledby="way-mynumber">
                <h3 id="way-mynumber">{ t(Msg::SignInMyNumberWay) }</h3>
                <p class="hint">{ t(Msg::SignInMyNumberHint) }</p>
                <p class="hint">{ t(Msg::SignInMyNumberNote) }</p>
                <div class="actions">{ start(Way::MyNumber, Msg::SignInMyNumberButton) }</div>
            </article>
            <article class="card" aria-labelledby="way-smartphone">
                <h3 id="way-smartphone">{ t(Msg::SignInSmartphoneWay) }</h3>
                <p class="hint">{ t(Msg::SignInSmartphoneHint) }</p>
                <div class="actions">
                    <a class="button primary" id="signin-smartphone" href={continue_to::link(SMARTPHONE_PATH, continue_to)}>{ t(Msg::SignInSmartphoneButton) }</a>
                </div>
            </article>
        </>
    }
}

/// The step's heading, and what the live region says on it.
fn heading_and_status(ctx: &LangContext, step: &Step) -> (AttrValue, Option<Status>) {
    let t = |m| AttrValue::from(ctx.t(m));
    match step {
        Step::Checking => (t(Msg::SignInTitle), Some(Status::Busy(t(Msg::SignInChecking)))),
        Step::SignedIn(_) => (t(Msg::SignedInTitle), None),
        Step::Choose(_) => (t(Msg::SignInChooseTitle), None),
        Step::Card(way, stage) => {
            let title = match way {
                Way::HpkiCard => Msg::SignInHpkiButton,
                Way::MyNumber => Msg::SignInMyNumberButton,
            };
            (t(title), Some(Status::Busy(t(card_view::headline(way.card(), stage)))))
        }
        Step::Done(_) => (t(Msg::SignedInTitle), Some(Status::Done(t(Msg::SignInDone)))),
        Step::Failed(_) => (t(Msg::SignInFailedTitle), None),
        Step::SignedOut => (t(Msg::SignedOutTitle), Some(Status::Done(t(Msg::SignedOutMessage)))),
    }
}

#[function_component(SignInView)]
pub fn signin_view(props: &SignInViewProps) -> Html {
    let ctx = use_lang();
    let t = |m| ctx.t(m);
    let on = &props.on_action;
    let onward =
        if props.continue_to.is_some() { Msg::ContinueToService } else { Msg::GoToAccount };
    let body = match &props.step {
        Step::Checking => html! {},
        Step::SignedIn(s) => html! {
            <>
                { session(&ctx, s) }
                <div class="actions">
                    { action_button(t(onward), true, Action::Continue, on) }
                    { action_button(t(Msg::SignOut), false, Action::SignOut, on) }
                </div>
                <p class="hint">{ t(Msg::SignInAgainHint) }</p>
                <div class="actions secondary">{ action_button(t(Msg::SignInAgain), false, Action::SignInAgain, on) }</div>
            </>
        },
        Step::Choose(helper) => html! {
            <>
                { ways(&ctx, helper, props.continue_to.as_deref(), on) }
                <div class="actions"><BackToTop /></div>
            </>
        },
        Step::Card(way, stage) => html! {
            <>
                <CardProgress card={way.card()} stage={stage.clone()} />
                <div class="actions secondary">{ action_button(t(Msg::Cancel), false, Action::Cancel, on) }</div>
            </>
        },
        Step::Done(s) => session(&ctx, s),
        Step::Failed(failure) => html! {
            <>
                <FailureNotice failure={*failure} />
                <div class="actions">
                    { action_button(t(Msg::TryAgain), true, Action::Retry, on) }
                    <BackToTop />
                </div>
            </>
        },
        Step::SignedOut => html! {
            <>
                <div class="actions">
                    { action_button(t(Msg::SignInTitle), true, Action::SignInAgain, on) }
                    <BackToTop />
                </div>
            </>
        },
    };
    let (heading, status) = heading_and_status(&ctx, &props.step);
    // While it checks, the page's own title is the heading.
    let heading = (props.step != Step::Checking).then_some(heading);
    let step = step_name(&props.step);
    use_step_focus(step);
    let frame = Frame { title: Msg::SignInTitle, step, heading, status };
    flow_frame(&ctx, frame, body)
}
