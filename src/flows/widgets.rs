//! Small pieces of markup that flows and the shared screens use alike, and the frame every flow
//! renders its steps in ([`flow_frame`], [`use_step_focus`]): the step's heading that takes the
//! focus when the step changes, and the one live region that says what the page waits for or
//! what happened.

use wasm_bindgen::JsCast;
use web_sys::HtmlElement;
use yew::prelude::*;

use crate::{i18n::Msg, lang::LangContext};

/// A button that reports `action` to the flow.
pub fn action_button<A: Clone + 'static>(
    label: &'static str,
    primary: bool,
    action: A,
    on: &Callback<A>,
) -> Html {
    let on = on.clone();
    let class = if primary { "button primary" } else { "button" };
    html! {
        <button type="button" {class} onclick={move |_| on.emit(action.clone())}>{ label }</button>
    }
}

/// The flow's 中止 row under the step, when the step can be cancelled; nothing otherwise.
pub fn cancel_row<A: Clone + 'static>(
    ctx: &LangContext,
    shown: bool,
    cancel: A,
    on: &Callback<A>,
) -> Html {
    if !shown {
        return Html::default();
    }
    html! { <div class="actions secondary">{ action_button(ctx.t(Msg::Cancel), false, cancel, on) }</div> }
}

/// What the flow's live region says on a step: the page waits (with the spinner), the flow
/// ended well, a plain note (e.g. after 中止), or words for the screen reader only (what the
/// screen already shows another way, e.g. a countdown's thresholds).
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Busy(AttrValue),
    Done(AttrValue),
    Note(AttrValue),
    Unseen(AttrValue),
}

/// A flow's screen: the flow's name (`h1`), the step's name (`data-step`), its own heading
/// (`h2`; without one, e.g. a page whose sections have their own, the `h1` is the step's
/// heading), and what the live region says.
pub struct Frame {
    pub title: Msg,
    pub step: &'static str,
    pub heading: Option<AttrValue>,
    pub status: Option<Status>,
}

/// Moves the focus to the step's heading whenever `step` changes (so a screen reader reads where
/// the holder now is, and Tab goes on from there); not on the page's first render, where the
/// browser starts at the top. Each flow's view calls it once, beside its [`flow_frame`].
/// (A hook and a plain function rather than a component: a component type of its own costs
/// every page bundle kilobytes.)
#[hook]
pub fn use_step_focus(step: &'static str) {
    let mounted = use_mut_ref(|| false);
    use_effect_with(step, move |_| {
        if mounted.replace(true) {
            // The step's heading, or the page's title where the step has none.
            let doc = web_sys::window().and_then(|w| w.document());
            let el = doc.and_then(|d| {
                d.get_element_by_id("step-title").or(d.get_element_by_id("flow-title"))
            });
            if let Some(el) = el {
                let _ = el.unchecked_into::<HtmlElement>().focus();
            }
        }
    });
}

/// A flow's screen around `body`. The live region is always in the page, so a change of its text
/// is announced (a region inserted with its text often is not); failures are `role="alert"` in
/// the step itself (`error_view`). A countdown never goes in here.
pub fn flow_frame(ctx: &LangContext, frame: Frame, body: Html) -> Html {
    let (class, busy, text) = match frame.status {
        None => ("flow-status", false, AttrValue::default()),
        Some(Status::Busy(t)) => ("flow-status progress-headline", true, t),
        Some(Status::Done(t)) => ("flow-status notice success", false, t),
        Some(Status::Note(t)) => ("flow-status notice", false, t),
        Some(Status::Unseen(t)) => ("flow-status visually-hidden", false, t),
    };
    html! {
        <section class="card flow" aria-labelledby="flow-title" data-step={frame.step}>
            <h1 id="flow-title" tabindex="-1">{ ctx.t(frame.title) }</h1>
            if let Some(text) = frame.heading {
                <h2 id="step-title" class="step-title" tabindex="-1">{ text }</h2>
            }
            <p id="flow-status" {class} role="status" aria-live="polite" aria-atomic="true">
                if busy { <span class="spinner" aria-hidden="true"></span> }
                { text }
            </p>
            // No `aria-busy` here or above: inside a busy element a screen reader may hold back the
            // live region's and the alerts' news until the wait is over, and here the waits are
            // what the holder must hear about (the spinner and the live region say the page waits).
            { body }
        </section>
    }
}
