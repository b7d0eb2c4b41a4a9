//! The JMA path's form: the 医籍登録番号 and the カードID printed on the HPKI card, instead of
//! reading the card. Neither is kept by the browser (no autocomplete); a refusal is shown above
//! the form with what to do, and the form keeps what was typed so a typo is just corrected.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::step::{Action, JmaEntry};
use crate::{
    flows::{error_view::FailureNotice, run::Failure, start_view::BackToTop},
    i18n::Msg,
    lang::use_lang,
};

#[derive(Properties, PartialEq)]
pub struct JmaFormProps {
    pub failure: Option<Failure>,
    pub entry: JmaEntry,
    /// The server is checking it: the button waits.
    pub checking: bool,
    pub on_action: Callback<Action>,
}

#[function_component(JmaForm)]
pub fn jma_form(props: &JmaFormProps) -> Html {
    let ctx = use_lang();
    let t = |m| ctx.t(m);
    let (number, card) = (use_node_ref(), use_node_ref());
    let onsubmit = {
        let (on, number, card) = (props.on_action.clone(), number.clone(), card.clone());
        move |e: SubmitEvent| {
            e.prevent_default();
            let value = |r: &NodeRef| {
                r.cast::<HtmlInputElement>()
                    .map(|el| el.value().trim().to_owned())
                    .unwrap_or_default()
            };
            on.emit(Action::JmaLogin(JmaEntry {
                registration_number: value(&number),
                card_id: value(&card),
            }));
        }
    };
    html! {
        <form class="jma-form" {onsubmit}>
            if let Some(failure) = props.failure {
                <FailureNotice {failure} />
            }
            <p class="instruction">{ t(Msg::JmaInstruction) }</p>
            <p class="hint">{ t(Msg::JmaNote) }</p>
            <div class="field">
                <label for="registration-number">{ t(Msg::JmaRegistrationNumber) }</label>
                <input id="registration-number" type="text" inputmode="numeric" ref={number}
                    value={props.entry.registration_number.clone()}
                    required=true maxlength="16" autocomplete="off" spellcheck="false" />
            </div>
            <div class="field">
                <label for="card-id">{ t(Msg::JmaCardId) }</label>
                <input id="card-id" type="text" ref={card} required=true maxlength="32"
                    value={props.entry.card_id.clone()}
                    autocomplete="off" autocapitalize="characters" spellcheck="false" />
            </div>
            <div class="actions">
                <button type="submit" class="button primary" disabled={props.checking}>{ t(Msg::JmaSubmit) }</button>
                if !props.checking {
                    <BackToTop />
                }
            </div>
        </form>
    }
}
