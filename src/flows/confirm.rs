//! The confirmation a phone owes the PC, drawn once for both flows (別紙2 and スマートフォン変更):
//! the PC's entry form ([`ConfirmEntry`]) and the phone's code ([`ConfirmShow`]). The phone that
//! opened the PC's 2D code shows a short code; the holder types it on the PC; only then may that
//! phone go on. A captured 2D code or a sent link is then useless to anyone without the
//! holder's phone in hand.

use mahpki_protocol::{ErrorCode, enrol::PhoneConfirmEvent};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::{
    flows::events,
    i18n::{self, Msg},
    lang::use_lang,
};

/// On the phone, while its code is on screen (`waiting` is `Some`): hears when the PC entered it
/// and moves `step` to what `next` makes of the event. Both phone flows use it.
#[hook]
pub fn use_pc_confirmation<W, S>(
    waiting: Option<W>,
    step: UseStateHandle<S>,
    next: fn(&W, Result<PhoneConfirmEvent, ErrorCode>) -> Option<S>,
) where
    W: Clone + PartialEq + 'static,
    S: 'static,
{
    use_effect_with(waiting, move |waiting| {
        let sub = waiting.clone().and_then(|w| {
            events::subscribe::<PhoneConfirmEvent>(Callback::from(move |e| {
                if let Some(s) = next(&w, e) {
                    step.set(s);
                }
            }))
        });
        move || drop(sub)
    });
}

/// Entries the server allows before the code dies (the PC shows the tries left after a wrong
/// one).
pub const TRIES: u8 = 3;

#[derive(Properties, PartialEq)]
pub struct ConfirmEntryProps {
    /// Where to read the code: the phone, or (in a change) the old phone.
    pub instruction: Msg,
    pub tries_left: u8,
    /// A wrong entry was just answered.
    pub wrong: bool,
    /// An entry is on its way to the server.
    pub sending: bool,
    pub on_submit: Callback<String>,
}

/// The PC: 「スマートフォンに表示されている確認コードを入力してください」, the field, 「確認」, and
/// after a wrong entry how many tries remain. (Its heading, `Msg::ConfirmEnterTitle`, is the
/// flow's step heading.)
#[function_component(ConfirmEntry)]
pub fn confirm_entry(props: &ConfirmEntryProps) -> Html {
    let ctx = use_lang();
    let t = |m| ctx.t(m);
    let input = use_node_ref();
    let onsubmit = {
        let (input, on) = (input.clone(), props.on_submit.clone());
        move |e: SubmitEvent| {
            e.prevent_default();
            if let Some(el) = input.cast::<HtmlInputElement>() {
                let code: String = el.value().chars().filter(|c| !c.is_whitespace()).collect();
                el.set_value("");
                on.emit(code);
            }
        }
    };
    let wrong = props.wrong || props.tries_left < TRIES;
    html! {
        <form class="confirm-form" {onsubmit}>
            <p class="instruction">{ t(props.instruction) }</p>
            <div class="field">
                <label for="confirm-code">{ t(Msg::VerificationCodeLabel) }</label>
                // No `pattern`: a code typed with spaces ("123 456") is accepted and tidied
                // before it is sent, rather than refused by the browser.
                <input id="confirm-code" type="text" inputmode="numeric"
                    autocomplete="one-time-code" required=true
                    aria-invalid={wrong.to_string()} aria-describedby="confirm-error"
                    disabled={props.sending} ref={input} />
                if wrong {
                    <p id="confirm-error" class="field-error" role="alert">
                        { i18n::confirm_wrong(ctx.lang, props.tries_left) }
                    </p>
                }
            </div>
            <p class="hint">{ t(Msg::ConfirmEnterNote) }</p>
            <div class="actions">
                <button type="submit" class="button primary" disabled={props.sending}>{ t(Msg::ConfirmButton) }</button>
            </div>
        </form>
    }
}

#[derive(Properties, PartialEq)]
pub struct ConfirmShowProps {
    pub code: AttrValue,
}

/// The phone: the code, where to type it (the PC) and never to tell it to anyone. (That it waits
/// for the PC, `Msg::ConfirmWaiting`, is the flow's live region.)
#[function_component(ConfirmShow)]
pub fn confirm_show(props: &ConfirmShowProps) -> Html {
    let ctx = use_lang();
    let t = |m| ctx.t(m);
    html! {
        <div class="confirm-show">
            <p class="instruction">{ t(Msg::ConfirmShowInstruction) }</p>
            <p class="verification">{ t(Msg::VerificationCodeLabel) }{ ": " }<strong id="confirm-code-shown">{ props.code.clone() }</strong></p>
            <p class="notice">{ t(Msg::ConfirmShowNever) }</p>
        </div>
    }
}
