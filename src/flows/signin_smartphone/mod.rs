//! Signing in on a PC with the smartphone (`/signin/smartphone`): the PC shows a 2D code for the
//! bound phone, which passes its passkey check and shows a confirmation code; the holder types
//! it here, and that answer signs this browser in. Or the browser's own passkey prompt, which
//! may reach the phone itself (「このパソコンでパスキーを使う」).
//!
//! `step` is the state enum, `view` renders it; this module drives it.

pub mod step;
pub mod view;

use gloo_timers::callback::Interval;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

pub use step::{Action, Step};
pub use view::SignInSmartphoneView;

use crate::{
    flows::{
        continue_to, events, passkey,
        run::{Runs, Ticket},
        smartphone::step::Code,
    },
    server,
};

fn now_ms() -> f64 {
    js_sys::Date::now()
}

async fn issue(set: impl Fn(Step)) {
    set(Step::Issuing);
    set(match server::signin_code_issue().await {
        Ok(i) => Step::ShowCode(Code {
            url: i.url.clone(),
            deadline_ms: now_ms() + f64::from(i.expires_in_secs) * 1000.0,
            replace: false,
        }),
        Err(e) => Step::Failed(e.into()),
    });
}

async fn confirm(asked: Step, entered: String, set: impl Fn(Step)) {
    if let Step::Confirm { code, tries_left, .. } = &asked {
        set(Step::Confirm {
            code: code.clone(),
            tries_left: *tries_left,
            wrong: false,
            sending: true,
        });
    }
    let next = step::confirmed(asked, server::confirm_signin(entered).await);
    let done = matches!(next, Step::SignedIn(_));
    set(next);
    if done {
        continue_to::go_on();
    }
}

async fn passkey_here(ticket: Ticket, step: UseStateHandle<Step>) {
    let set = ticket.setter(&step);
    // The code on screen is not needed any more: it stops working now.
    server::signin_code_cancel().await;
    set(Step::PasskeyHere);
    match passkey::sign_in_here().await {
        Ok(s) => {
            set(Step::SignedIn(s));
            continue_to::go_on();
        }
        Err(e) => set(Step::Failed(e.into())),
    }
}

/// Follows the code on screen: the server's events, and the countdown.
fn follow(
    current: &Step,
    runs: &Runs,
    step: &UseStateHandle<Step>,
    now: UseStateHandle<f64>,
) -> Option<(Option<events::Subscription>, Interval)> {
    let code = current.live_code()?.clone();
    let set = runs.current().setter(step);
    let sub = events::subscribe::<events::SignInCode>(Callback::from(move |e| {
        if let Some(next) = step::on_event(&code, e) {
            set(next);
        }
    }));
    Some((sub, Interval::new(1000, move || now.set(now_ms()))))
}

#[function_component(SignInSmartphoneFlow)]
pub fn signin_smartphone_flow() -> Html {
    let step = use_state(|| Step::Issuing);
    let runs = use_memo((), |()| Runs::default());
    let now = use_state(now_ms);
    {
        let (step, runs) = (step.clone(), runs.clone());
        use_effect_with((), move |()| {
            spawn_local(issue(runs.next().setter(&step)));
            move || runs.cancel()
        });
    }
    {
        let (current, runs, step, now) = ((*step).clone(), runs.clone(), step.clone(), now.clone());
        let key = current.live_code().map(|c| c.url.clone());
        use_effect_with(key, move |_| {
            let guards = follow(&current, &runs, &step, now);
            move || drop(guards)
        });
    }
    if let Some(next) = step::ran_out(&step, *now) {
        step.set(next);
    }
    let on_action = {
        let (step, runs) = (step.clone(), runs.clone());
        Callback::from(move |action: Action| match action {
            Action::PasskeyHere => spawn_local(passkey_here(runs.next(), step.clone())),
            Action::Confirm(entered) => {
                let asked = (*step).clone();
                if matches!(asked, Step::Confirm { .. }) {
                    // Same run: the code's events keep flowing while the entry is sent.
                    spawn_local(confirm(asked, entered, runs.current().setter(&step)));
                }
            }
            Action::Reissue => spawn_local(issue(runs.next().setter(&step))),
            Action::Cancel => {
                runs.cancel();
                step.set(Step::Cancelled);
                spawn_local(server::signin_code_cancel());
            }
        })
    };
    html! { <SignInSmartphoneView step={(*step).clone()} now_ms={*now} {on_action} /> }
}
