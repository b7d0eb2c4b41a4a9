//! The screens every card flow shares: looking for the helper, the helper missing, ready for the
//! HPKI card, the identified holder (本人ID), and the end after 中止.

use mahpki_protocol::pages::Page;
use mahpki_protocol::{
    ErrorCode,
    api::Holder,
    helper::{CardPresence, ReaderStatus},
};
use yew::prelude::*;

use crate::{
    flows::widgets::action_button,
    i18n::{Lang, Msg},
    lang::use_lang,
};

/// Looking for the helper (the flow's live region says so: `Msg::HelperChecking`). The
/// browser's local-network prompt may appear now: say why first.
#[function_component(CheckingHelper)]
pub fn checking_helper() -> Html {
    let ctx = use_lang();
    html! { <p class="notice">{ ctx.t(Msg::LocalNetworkNotice) }</p> }
}

#[derive(Properties, PartialEq)]
pub struct HelperMissingProps {
    pub code: ErrorCode,
    /// Where `mahpki-helper` is to be had (the operator's setting).
    pub download: AttrValue,
    pub on_retry: Callback<()>,
}

/// The helper is not there (or too old): said once (the step's heading is the code's message),
/// with where to get it and how to go on. Never a dead end.
#[function_component(HelperMissing)]
pub fn helper_missing(props: &HelperMissingProps) -> Html {
    let ctx = use_lang();
    let code = props.code;
    html! {
        <div data-error={code.wire()}>
            <p class="remedy">{ ctx.lang.pick(code.remedy()) }</p>
            <p><a href={props.download.clone()} target="_blank" rel="noopener noreferrer" id="helper-download">{ ctx.t(Msg::HelperDownload) }</a></p>
            <p class="hint">{ ctx.t(Msg::HelperBlockedHint) }</p>
            <div class="actions">
                { action_button(ctx.t(Msg::CheckAgain), true, (), &props.on_retry) }
                <BackToTop />
            </div>
        </div>
    }
}

/// 「トップページへ戻る」: the way out of a screen where nothing is open yet, or nothing can go on.
#[function_component(BackToTop)]
pub fn back_to_top() -> Html {
    let ctx = use_lang();
    html! { <a href={Page::Index.path()} class="button">{ ctx.t(Msg::BackToTop) }</a> }
}

#[derive(Properties, PartialEq)]
pub struct HpkiReadyProps {
    pub readers: Vec<ReaderStatus>,
    /// The start button's label (「HPKIカードで登録」 or 「HPKIカードで登録または変更」).
    pub label: Msg,
    pub on_start: Callback<()>,
}

/// 「HPKIカードをセットして『HPKIカードで登録』を押す」.
#[function_component(HpkiReady)]
pub fn hpki_ready(props: &HpkiReadyProps) -> Html {
    let ctx = use_lang();
    html! {
        <>
            <Readers readers={props.readers.clone()} />
            <p class="hint">{ ctx.t(Msg::CardInReaderHint) }</p>
            <p class="notice">{ ctx.t(Msg::PinWindowNotice) }</p>
            <div class="actions">
                { action_button(ctx.t(props.label), true, (), &props.on_start) }
                <BackToTop />
            </div>
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct HolderCardProps {
    pub holder: Holder,
}

/// The 本人ID, large, with who it belongs to: the holder checks it before going on.
#[function_component(HolderCard)]
pub fn holder_card(props: &HolderCardProps) -> Html {
    let ctx = use_lang();
    let h = &props.holder;
    let name = match ctx.lang {
        Lang::Ja => format!("{}({})", h.name_kanji, h.name_kana),
        Lang::En => h.name_roman.clone(),
    };
    html! {
        <dl class="holder">
            <dt>{ ctx.t(Msg::HpkiIdLabel) }</dt>
            <dd class="hpki-id" id="hpki-id">{ h.hpki_id.to_string() }</dd>
            <dt>{ ctx.t(Msg::NameLabel) }</dt>
            <dd>{ name }</dd>
            <dt>{ ctx.t(Msg::QualificationLabel) }</dt>
            <dd>{ ctx.lang.pick(h.qualification.name()) }</dd>
            <dt>{ ctx.t(Msg::CaLabel) }</dt>
            <dd>{ ctx.lang.pick(h.ca.name()) }</dd>
        </dl>
    }
}

#[derive(Properties, PartialEq)]
pub struct ReadersProps {
    pub readers: Vec<ReaderStatus>,
}

/// What the helper sees now, so "no reader" is visible before the holder presses anything.
#[function_component(Readers)]
pub fn readers(props: &ReadersProps) -> Html {
    let ctx = use_lang();
    if props.readers.is_empty() {
        return html! { <p class="notice">{ ctx.t(Msg::NoReaderFound) }</p> };
    }
    let card = |c: CardPresence| match c {
        CardPresence::Empty => Msg::CardEmpty,
        CardPresence::Hpki => Msg::CardHpki,
        CardPresence::Jpki => Msg::CardJpki,
        CardPresence::Unsupported => Msg::CardUnsupported,
    };
    html! {
        <dl class="readers">
            <dt>{ ctx.t(Msg::ReadersLabel) }</dt>
            { for props.readers.iter().map(|r| html! {
                <dd>{ format!("{}: {}", r.name, ctx.t(card(r.card))) }</dd>
            }) }
        </dl>
    }
}

#[derive(Properties, PartialEq)]
pub struct CancelledProps {
    pub on_start_over: Callback<()>,
}

/// After 中止: nothing half done (the flow's live region says `message`), and the two ways on.
#[function_component(Cancelled)]
pub fn cancelled(props: &CancelledProps) -> Html {
    let ctx = use_lang();
    html! {
        <>
            <div class="actions">
                { action_button(ctx.t(Msg::StartOver), true, (), &props.on_start_over) }
                <BackToTop />
            </div>
        </>
    }
}
