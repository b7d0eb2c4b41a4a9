//! A failure as the holder reads it: what happened, what to do, and the tries left if the card
//! said so. Every error code renders through here, in the current language.

use yew::prelude::*;

use crate::{
    flows::{run::Failure, widgets::action_button},
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

#[derive(Properties, PartialEq)]
pub struct PhoneFailureProps {
    pub failure: Failure,
    /// What the failure left as it was, if the page can say.
    #[prop_or_default]
    pub note: Option<Msg>,
    /// `Some` while this phone may try again with the same code; else `reissue` says where a new
    /// code comes from.
    pub on_retry: Option<Callback<()>>,
    pub reissue: Msg,
}

/// A phone page's failure: the notice, then 「もう一度試す」 or where to get a new code.
#[function_component(PhoneFailure)]
pub fn phone_failure(props: &PhoneFailureProps) -> Html {
    let ctx = use_lang();
    html! {
        <>
            <h2>{ ctx.t(Msg::FailedTitle) }</h2>
            <FailureNotice failure={props.failure} />
            if let Some(note) = props.note {
                <p>{ ctx.t(note) }</p>
            }
            if let Some(retry) = &props.on_retry {
                <div class="actions">
                    { action_button(ctx.t(Msg::TryAgain), true, (), retry) }
                </div>
            } else {
                <p>{ ctx.t(props.reissue) }</p>
            }
        </>
    }
}
