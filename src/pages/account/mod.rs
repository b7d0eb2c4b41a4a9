//! 登録状況: the holder's own page after any sign-in (`/account`). What is registered to them,
//! the open signing sessions and the last events, with the actions on them, each behind a
//! confirmation screen; the guide's flows (別紙1, 別紙2, スマートフォン変更) are linked from it.
//!
//! `step` is the state enum, `view` renders it; this module runs the steps against the server.

pub mod step;
pub mod view;

use mahpki_protocol::{ErrorCode, account::AccountDone};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

pub use step::{Action, Pending, Step};
pub use view::AccountView;

use crate::server;

async fn load(set: impl Fn(Step), done: Option<Pending>) {
    set(Step::loaded(server::account().await, done));
}

/// Runs `pending` on the server; signed out, or the page again with the action noted.
async fn run(working: Step, set: impl Fn(Step)) {
    let Step::Working { pending, .. } = &working else { return };
    let answer: Result<AccountDone, ErrorCode> = match pending {
        Pending::RevokePhone { id, .. } => server::account_revoke_phone(*id).await,
        Pending::RevokeMyNumber { id } => server::account_revoke_mynumber(*id).await,
        Pending::EndSession { sid, .. } => server::account_end_session(sid).await,
        Pending::EndAll => server::account_end_all().await,
        Pending::SignOut => {
            server::signin_end().await.map(|()| AccountDone { signed_out: true, sessions_ended: 1 })
        }
    };
    match working.answered(answer) {
        Some(next) => set(next),
        None => load(set, Some(pending.clone())).await,
    }
}

#[function_component(AccountPage)]
pub fn account_page() -> Html {
    let step = use_state(|| Step::Loading);
    {
        let step = step.clone();
        use_effect_with((), move |()| {
            spawn_local(load(move |s| step.set(s), None));
        });
    }
    let on_action = {
        let step = step.clone();
        Callback::from(move |action: Action| {
            let current = (*step).clone();
            let next = match action {
                Action::Ask(pending) => current.ask(pending),
                Action::Confirm => current.confirm(),
                Action::Back => current.back(),
                Action::Reload => Step::Loading,
            };
            step.set(next.clone());
            let set = {
                let step = step.clone();
                move |s| step.set(s)
            };
            match next {
                Step::Working { .. } if !current.busy() => spawn_local(run(next, set)),
                Step::Loading => spawn_local(load(set, None)),
                _ => {}
            }
        })
    };
    html! { <AccountView step={(*step).clone()} {on_action} /> }
}
