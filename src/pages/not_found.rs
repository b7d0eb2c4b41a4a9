use yew::prelude::*;
use yew_router::prelude::*;

use crate::{Route, i18n::Msg, lang::use_lang};

#[function_component(NotFound)]
pub fn not_found() -> Html {
    let ctx = use_lang();
    html! {
        <section class="card flow" aria-labelledby="nf-title">
            <h1 id="nf-title">{ ctx.t(Msg::NotFoundTitle) }</h1>
            <p>{ ctx.t(Msg::NotFoundBody) }</p>
            <Link<Route> to={Route::Index} classes="button">{ ctx.t(Msg::BackToTop) }</Link<Route>>
        </section>
    }
}
