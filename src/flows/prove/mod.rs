//! スマートフォン変更 on the old phone (`/change#<token>`): like the enrolment page, the token
//! comes from the URL fragment, is presented once to claim the first code for this phone, and is
//! wiped from the address bar. The phone then proves the holder with its credential; nothing is
//! revoked here, so stopping at any point leaves this phone working.

pub mod step;
pub mod view;

use mahpki_protocol::{
    ErrorCode, HpkiId,
    enrol::{CHANGE_PATH, ChangeOpened, PhoneConfirmEvent},
};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

pub use step::{Action, Step};
pub use view::ProveView;

use crate::{
    flows::{confirm, fragment},
    remember, server, webauthn,
};

async fn open(set: impl Fn(Step)) {
    let Some(token) = fragment::take_token(CHANGE_PATH) else {
        return set(Step::Failed { failure: ErrorCode::EnrolmentUnknown.into(), opened: None });
    };
    set(match server::change_open(token).await {
        Ok(opened) => {
            let hpki_id = remember::hpki_id().unwrap_or_default();
            Step::Login { opened, hpki_id, invalid: false }
        }
        Err(e) => Step::Failed { failure: e.into(), opened: None },
    });
}

async fn prove(opened: ChangeOpened, hpki_id: HpkiId, set: impl Fn(Step)) {
    set(Step::Proving(opened.clone(), hpki_id.clone()));
    let proved = async {
        let options = server::change_begin(hpki_id.clone()).await?.options;
        let credential = webauthn::get(options).await?;
        server::change_finish(credential).await
    }
    .await;
    set(match proved {
        Ok(proved) => Step::Confirming(proved),
        Err(e) => Step::Failed { failure: e.into(), opened: Some((opened, hpki_id.to_string())) },
    });
}

/// What the server's word about this phone's confirmation turns the screen into.
pub fn on_confirm(event: Result<PhoneConfirmEvent, ErrorCode>) -> Option<Step> {
    let failed = |code: ErrorCode| Step::Failed { failure: code.into(), opened: None };
    Some(match event {
        Ok(PhoneConfirmEvent::Pending { .. }) => return None,
        Ok(PhoneConfirmEvent::Confirmed) => Step::Done,
        Ok(PhoneConfirmEvent::Failed) => failed(ErrorCode::ConfirmationFailed),
        Ok(PhoneConfirmEvent::Ended) => failed(ErrorCode::EnrolmentCancelled),
        Err(e) => failed(e),
    })
}

#[function_component(ProveFlow)]
pub fn prove_flow() -> Html {
    let step = use_state(|| Step::Opening);
    fragment::use_token_page(step.clone(), Step::Opening, open);
    {
        // While the code is on screen: hear when the PC entered it.
        let waiting = step.confirmation().is_some().then_some(());
        confirm::use_pc_confirmation(waiting, step.clone(), |(), e| on_confirm(e));
    }
    let on_action = {
        let step = step.clone();
        Callback::from(move |action: Action| {
            let set = {
                let step = step.clone();
                move |s| step.set(s)
            };
            match (action, (*step).clone()) {
                (Action::Login(entered), Step::Login { opened, .. }) => {
                    match step::login(opened, &entered) {
                        Step::Proving(opened, id) => spawn_local(prove(opened, id, set)),
                        again => step.set(again),
                    }
                }
                (Action::Retry, Step::Failed { opened: Some((opened, hpki_id)), .. }) => {
                    step.set(Step::Login { opened, hpki_id, invalid: false });
                }
                _ => {}
            }
        })
    };
    html! { <ProveView step={(*step).clone()} {on_action} /> }
}
