//! What every code's screen shows, whichever phone it is for: the code itself (2D code,
//! countdown, and the link for a phone that cannot scan), and what the flow's live region says
//! about its countdown. (The confirmation that follows is `flows::confirm`.)

use yew::prelude::*;

use super::step::{Code, seconds_left};
use crate::{
    flows::{qr::Qr, widgets::Status},
    i18n::{self, Lang, Msg},
    lang::use_lang,
};

#[derive(Properties, PartialEq)]
pub struct CodePanelProps {
    pub code: Code,
    pub now_ms: f64,
    /// Which phone scans it, and what for.
    pub instruction: Msg,
    pub qr_label: Msg,
    /// The id of the link under 「二次元コードを読み取れない場合」.
    pub link_id: AttrValue,
}

#[function_component(CodePanel)]
pub fn code_panel(props: &CodePanelProps) -> Html {
    let ctx = use_lang();
    let t = |m| ctx.t(m);
    let code = &props.code;
    html! {
        <>
            <p class="instruction">{ t(props.instruction) }</p>
            <Qr data={code.url.clone()} label={t(props.qr_label)} />
            <p class="countdown" id="countdown" aria-live="off">{ i18n::expires_in(ctx.lang, seconds_left(code, props.now_ms)) }</p>
            <p class="hint">{ t(Msg::ExpiryWarning) }</p>
            <p class="hint">{ t(Msg::ScanHowTo) }</p>
            <details class="cant-scan">
                <summary>{ t(Msg::CantScan) }</summary>
                <p>{ t(Msg::OpenLinkOnPhone) }</p>
                <p><a id={props.link_id.clone()} href={code.url.clone()} target="_blank" rel="noopener noreferrer">{ code.url.clone() }</a></p>
            </details>
        </>
    }
}

/// What the flow's live region says on a code's screen: the time left rounded up to the whole
/// minute, then 30 seconds once, so its words change once a minute, never each second (the
/// countdown on screen is outside any live region).
pub fn countdown_status(lang: Lang, code: &Code, now_ms: f64) -> Status {
    Status::Unseen(i18n::expires_in(lang, announced(seconds_left(code, now_ms))).into())
}

/// The seconds the live region announces for `secs` left.
pub fn announced(secs: u32) -> u32 {
    if secs > 30 { secs.div_ceil(60) * 60 } else { 30 }
}
