//! The consent page of the OpenID Provider (`/consent?request=…`, issue 12): shown the first
//! time a holder signs in to a service; the answer goes to the server, which says where the
//! browser goes back to (the service, with a code or with `access_denied`).

pub mod step;
pub mod view;

use mahpki_protocol::ErrorCode;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

pub use step::{Action, Step};
pub use view::ConsentView;

use crate::server;

fn search() -> String {
    web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default()
}

#[function_component(ConsentFlow)]
pub fn consent_flow() -> Html {
    let step = use_state(|| Step::Loading);
    let request = use_memo((), |()| step::request_id(&search()));
    {
        let (step, request) = (step.clone(), request.clone());
        use_effect_with((), move |()| {
            spawn_local(async move {
                let Some(id) = (*request).clone() else {
                    return step.set(Step::Failed(ErrorCode::OidcRequestUnknown.into()));
                };
                step.set(match server::consent_prompt(&id).await {
                    Ok(p) => Step::Asking(p),
                    Err(e) => Step::Failed(e.into()),
                });
            });
        });
    }
    let on_action = {
        let (step, request) = (step.clone(), request.clone());
        Callback::from(move |action: Action| {
            let (Some((next, approve)), Some(id)) = (step.answer(action), (*request).clone())
            else {
                return;
            };
            step.set(next);
            let step = step.clone();
            spawn_local(async move {
                match server::consent_answer(&id, approve).await {
                    Ok(out) => {
                        step.set(Step::Leaving);
                        if let Some(w) = web_sys::window() {
                            let _ = w.location().assign(&out.redirect_to);
                        }
                    }
                    Err(e) => step.set(Step::Failed(e.into())),
                }
            });
        })
    };
    html! { <ConsentView step={(*step).clone()} {on_action} /> }
}
