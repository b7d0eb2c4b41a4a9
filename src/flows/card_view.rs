//! What the page says while a card operation runs: which card, what the helper waits for. The
//! headline goes to the flow's live region ([`headline`]); the rest is shown here.

use mahpki_protocol::{
    ErrorCode,
    helper::{CardType, WaitReason},
};
use yew::prelude::*;

use crate::{
    flows::card::CardStage,
    i18n::{self, Msg},
    lang::use_lang,
};

#[derive(Properties, PartialEq)]
pub struct CardProgressProps {
    /// The card this step needs.
    pub card: CardType,
    pub stage: CardStage,
}

/// The main line for a stage, in the guide's words where the guide has them: what the flow's
/// live region (`widgets::flow_frame`) says while the card works.
pub fn headline(card: CardType, stage: &CardStage) -> Msg {
    match (stage, card) {
        (CardStage::Preparing, _) => Msg::StagePreparing,
        (CardStage::WaitingCard(WaitReason::NoReader), _) => Msg::StageNoReader,
        (CardStage::WaitingCard(WaitReason::NoCard), CardType::Hpki) => Msg::StageInsertHpki,
        (CardStage::WaitingCard(WaitReason::NoCard), CardType::Jpki) => Msg::StageInsertJpki,
        (CardStage::ChangeCard(_), CardType::Jpki) => Msg::StageInsertJpki,
        (CardStage::ChangeCard(_), CardType::Hpki) => Msg::StageSwapToHpki,
        (CardStage::WaitingPin { .. }, CardType::Hpki) => Msg::StagePinHpki,
        (CardStage::WaitingPin { .. }, CardType::Jpki) => Msg::StagePinJpki,
        (CardStage::Communicating, CardType::Hpki) => Msg::StageCommunicatingHpki,
        (CardStage::Communicating, CardType::Jpki) => Msg::StageCommunicatingJpki,
        (CardStage::Verifying, _) => Msg::StageVerifying,
    }
}

#[function_component(CardProgress)]
pub fn card_progress(props: &CardProgressProps) -> Html {
    let ctx = use_lang();
    let t = |m| ctx.t(m);
    let detail = match &props.stage {
        // The HPKI card is still in (guide 別紙1 ⑥ ※): the swap is all that is needed.
        CardStage::ChangeCard(_) if props.card == CardType::Jpki => {
            html! { <p>{ t(Msg::StageSwapToJpki) }</p> }
        }
        // The window is gone (the helper heard it close): say so, and offer it again; the
        // flow's 中止 stays below. The operation still ends at its timeout.
        CardStage::WaitingPin { pin_page, window_closed: true, .. } => html! {
            <>
                <p class="notice warning" role="alert">{ t(Msg::PinWindowClosed) }</p>
                <div class="actions">
                    <a class="button primary" href={pin_page.clone()} target="mahpki-pin" rel="opener">{ t(Msg::ReopenPinWindow) }</a>
                </div>
            </>
        },
        CardStage::WaitingPin { tries_left, last_error, pin_page, .. } => html! {
            <>
                if let Some(code) = last_error {
                    <p class="notice error" role="alert">{ ctx.lang.pick(code.message()) }</p>
                }
                if props.card == CardType::Jpki {
                    <p class="warning">{ t(Msg::JpkiPinWarning) }</p>
                }
                if let Some(n) = tries_left {
                    <p class="tries">{ i18n::tries_left(ctx.lang, *n) }</p>
                    if *n == 1 {
                        <p class="warning">{ t(Msg::LastTryWarning) }</p>
                    }
                }
                <p><a href={pin_page.clone()} target="mahpki-pin" rel="opener">{ t(Msg::OpenPinWindow) }</a></p>
            </>
        },
        CardStage::Communicating | CardStage::Verifying => {
            html! { <p>{ t(Msg::DoNotRemoveCard) }</p> }
        }
        _ => html! {},
    };
    let stage_name = match &props.stage {
        CardStage::Preparing => "preparing",
        CardStage::WaitingCard(_) => "waiting_card",
        CardStage::ChangeCard(_) => "change_card",
        CardStage::WaitingPin { window_closed: true, .. } => "pin_window_closed",
        CardStage::WaitingPin { last_error: Some(ErrorCode::PinWrong), .. } => "pin_wrong",
        CardStage::WaitingPin { .. } => "waiting_pin",
        CardStage::Communicating => "communicating",
        CardStage::Verifying => "verifying",
    };
    html! {
        <div class="progress" data-stage={stage_name}>
            { detail }
        </div>
    }
}
