//! The phone's sign-in page (`/signin/phone`). With a PC's token in the fragment (from its 2D
//! code) it claims that code for this phone, checks the bound passkey and shows the confirmation
//! code the holder types on the PC; the phone never gets the PC's sign-in. Without a token it
//! signs this phone's own browser in with the passkey.

pub mod step;
pub mod view;

use mahpki_protocol::passkey::SIGNIN_PHONE_PATH;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

pub use step::{Action, For, Step};
pub use view::SignInPhoneView;

use crate::{
    flows::{confirm, continue_to, fragment, passkey},
    server, webauthn,
};

/// The page's start: a PC's token claims its code; none means signing this phone in.
async fn open(set: impl Fn(Step)) {
    let Some(token) = fragment::take_token(SIGNIN_PHONE_PATH) else {
        return set(Step::Ready(For::ThisPhone));
    };
    set(match server::signin_code_open(token).await {
        Ok(_) => Step::Ready(For::Pc),
        Err(e) => Step::Failed { failure: e.into(), retry: None },
    });
}

async fn sign_in(who: For, set: impl Fn(Step)) {
    set(Step::Checking(who));
    match who {
        For::ThisPhone => match passkey::sign_in_here().await {
            Ok(s) => {
                set(Step::SignedIn(s));
                continue_to::go_on();
            }
            Err(e) => set(step::failed(who, e)),
        },
        For::Pc => {
            let answer = async {
                let options = server::signin_code_begin().await?.options;
                let credential = webauthn::get_discoverable(options).await?;
                server::signin_code_finish(credential).await
            }
            .await;
            set(step::proved(answer));
        }
    }
}

#[function_component(SignInPhoneFlow)]
pub fn signin_phone_flow() -> Html {
    let step = use_state(|| Step::Opening);
    fragment::use_token_page(step.clone(), Step::Opening, open);
    {
        // While the code is on screen: hear when the PC entered it.
        let waiting = step.confirmation().is_some().then_some(());
        confirm::use_pc_confirmation(waiting, step.clone(), |(), e| step::on_confirm(e));
    }
    let on_action = {
        let step = step.clone();
        Callback::from(move |action: Action| {
            let set = {
                let step = step.clone();
                move |s| step.set(s)
            };
            match (action, (*step).clone()) {
                (Action::SignIn, Step::Ready(who))
                | (Action::Retry, Step::Failed { retry: Some(who), .. }) => {
                    spawn_local(sign_in(who, set));
                }
                _ => {}
            }
        })
    };
    html! { <SignInPhoneView step={(*step).clone()} {on_action} /> }
}
