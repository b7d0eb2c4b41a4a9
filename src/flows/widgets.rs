//! Small pieces of markup that flows and the shared screens use alike, and the frame every flow
//! renders its steps in ([`FlowFrame`]): the step's heading that takes the focus when the step
//! changes, and the one live region that says what the page waits for or what happened.

use web_sys::HtmlElement;
use yew::prelude::*;

use crate::{i18n::Msg, lang::use_lang};

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

#[derive(Properties, PartialEq)]
pub struct FlowFrameProps {
    /// The flow's name: the page's `h1`.
    pub title: Msg,
    /// The step's name (`data-step`): a new one moves the focus to `heading`.
    pub step: &'static str,
    /// The step's own heading (`h2`); without one (a page whose sections have their own), the
    /// focus goes to the `h1`.
    pub heading: Option<AttrValue>,
    #[prop_or_default]
    pub status: Option<Status>,
    #[prop_or_default]
    pub children: Html,
}

/// A flow's screen. When the step changes, the focus goes to the new step's heading (so a
/// screen reader reads where the holder is, and Tab goes on from there); not on the page's first
/// render, where the browser starts at the top. The live region is always in the page, so a
/// change of its text is announced (a region inserted with its text often is not); failures are
/// `role="alert"` in the step itself (`error_view`). A countdown never goes in here.
#[function_component(FlowFrame)]
pub fn flow_frame(props: &FlowFrameProps) -> Html {
    let ctx = use_lang();
    let (title, heading) = (use_node_ref(), use_node_ref());
    let mounted = use_mut_ref(|| false);
    {
        let target = if props.heading.is_some() { heading.clone() } else { title.clone() };
        use_effect_with(props.step, move |_| {
            if mounted.replace(true)
                && let Some(h) = target.cast::<HtmlElement>()
            {
                let _ = h.focus();
            }
        });
    }
    let (class, busy, text) = match &props.status {
        None => ("flow-status", false, AttrValue::default()),
        Some(Status::Busy(t)) => ("flow-status progress-headline", true, t.clone()),
        Some(Status::Done(t)) => ("flow-status notice success", false, t.clone()),
        Some(Status::Note(t)) => ("flow-status notice", false, t.clone()),
        Some(Status::Unseen(t)) => ("flow-status visually-hidden", false, t.clone()),
    };
    html! {
        <section class="card flow" aria-labelledby="flow-title" data-step={props.step}>
            <h1 id="flow-title" tabindex="-1" ref={title}>{ ctx.t(props.title) }</h1>
            if let Some(text) = &props.heading {
                <h2 id="step-title" class="step-title" tabindex="-1" ref={heading}>{ text.clone() }</h2>
            }
            <p id="flow-status" {class} role="status" aria-live="polite" aria-atomic="true">
                if busy { <span class="spinner" aria-hidden="true"></span> }
                { text }
            </p>
            // No `aria-busy` here or above: inside a busy element a screen reader may hold back the
            // live region's and the alerts' news until the wait is over, and here the waits are
            // what the holder must hear about (the spinner and the live region say the page waits).
            { props.children.clone() }
        </section>
    }
}
