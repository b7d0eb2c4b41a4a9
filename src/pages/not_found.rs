use mahpki_protocol::pages::Page;
use yew::prelude::*;

use crate::{i18n::Msg, lang::use_lang};

#[function_component(NotFound)]
pub fn not_found() -> Html {
    let ctx = use_lang();
    html! {
        <section class="card flow" aria-labelledby="nf-title">
            <h1 id="nf-title">{ ctx.t(Msg::NotFoundTitle) }</h1>
            <p>{ ctx.t(Msg::NotFoundBody) }</p>
            <a href={Page::Index.path()} class="button">{ ctx.t(Msg::BackToTop) }</a>
        </section>
    }
}
