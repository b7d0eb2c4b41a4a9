//! A flow's page until the flow is built: its title, a plain notice, and the way back.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::{Route, i18n::Msg, lang::use_lang};

#[derive(Properties, PartialEq)]
pub struct FlowPlaceholderProps {
    pub title: Msg,
}

#[function_component(FlowPlaceholder)]
pub fn flow_placeholder(props: &FlowPlaceholderProps) -> Html {
    let ctx = use_lang();
    html! {
        <section class="card flow" aria-labelledby="flow-title">
            <h1 id="flow-title">{ ctx.t(props.title) }</h1>
            <p role="status">{ ctx.t(Msg::NotYetAvailable) }</p>
            <Link<Route> to={Route::Index} classes="button">{ ctx.t(Msg::BackToTop) }</Link<Route>>
        </section>
    }
}
