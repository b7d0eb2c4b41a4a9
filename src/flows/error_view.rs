//! A failure as the holder reads it: what happened, what to do, and the tries left if the card
//! said so. Every error code renders through here, in the current language.

use yew::prelude::*;

use crate::{
    flows::card::Failure,
    i18n::{self, Msg},
    lang::use_lang,
};

#[derive(Properties, PartialEq)]
pub struct FailureNoticeProps {
    pub failure: Failure,
}

#[function_component(FailureNotice)]
pub fn failure_notice(props: &FailureNoticeProps) -> Html {
    let ctx = use_lang();
    let code = props.failure.code;
    let wire = code.wire();
    html! {
        <div class="notice error" role="alert" data-error={wire}>
            <p class="error-message">{ ctx.lang.pick(code.message()) }</p>
            if let Some(n) = props.failure.tries_left {
                <p class="tries">{ i18n::tries_left(ctx.lang, n) }</p>
            }
            <p class="remedy"><strong>{ ctx.t(Msg::RemedyLabel) }{ ": " }</strong>{ ctx.lang.pick(code.remedy()) }</p>
        </div>
    }
}
