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
    let f = props.failure;
    let wire = f.code.wire();
    html! {
        <div class="notice error" role="alert" data-error={wire}>
            <p class="error-message">{ ctx.lang.pick(f.code.message_at(f.at)) }</p>
            if let Some(n) = f.tries_left {
                <p class="tries">{ i18n::tries_left(ctx.lang, n) }</p>
            }
            if let Some(secs) = f.retry_after_secs {
                <p class="tries">{ i18n::retry_after(ctx.lang, secs) }</p>
            }
            <p class="remedy"><strong>{ ctx.t(Msg::RemedyLabel) }{ ": " }</strong>{ ctx.lang.pick(f.code.remedy_at(f.at)) }</p>
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
    /// code comes from (unless the remedy already does: a CA's link).
    pub on_retry: Option<Callback<()>>,
    pub reissue: Option<Msg>,
}

/// A phone page's failure (the step's heading says 「登録できませんでした」): the notice, then
/// 「もう一度試す」 or where to get a new code.
#[function_component(PhoneFailure)]
pub fn phone_failure(props: &PhoneFailureProps) -> Html {
    let ctx = use_lang();
    html! {
        <>
            <FailureNotice failure={props.failure} />
            if let Some(note) = props.note {
                <p>{ ctx.t(note) }</p>
            }
            if let Some(retry) = &props.on_retry {
                <div class="actions">
                    { action_button(ctx.t(Msg::TryAgain), true, (), retry) }
                </div>
            } else if let Some(reissue) = props.reissue {
                <p>{ ctx.t(reissue) }</p>
            }
        </>
    }
}
