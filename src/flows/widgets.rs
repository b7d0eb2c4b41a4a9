//! Small pieces of markup that flows and the shared screens use alike.

use yew::prelude::*;

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
