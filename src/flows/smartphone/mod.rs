//! Binding a smartphone on the PC: prove whose phone it is ([`Via`]: the HPKI card, the JMA
//! path, or the phone bound now), answer the replace question if a phone is bound, show the 2D
//! code, and follow the phone through the server's live events.
//!
//! `step` is the state enum, `view` renders it; this module drives it.

pub mod code_view;
mod jma_view;
pub mod step;
pub mod view;

use gloo_timers::callback::Interval;
use mahpki_protocol::{
    ErrorCode,
    api::Holder,
    enrol::{CodeEvent, JmaLogin},
};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

pub use step::{Action, Code, Confirming, JmaEntry, Step, Via};
pub use view::SmartphoneView;

use crate::{
    flows::{
        card::PinWindow,
        confirm::TRIES,
        events,
        hpki::{self, Found},
        run::{Runs, Ticket},
    },
    server,
};

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn code(url: &str, expires_in_secs: u32, replace: bool) -> Code {
    Code {
        url: url.to_owned(),
        deadline_ms: now_ms() + f64::from(expires_in_secs) * 1000.0,
        replace,
    }
}

/// Where the flow starts. With the HPKI card, a reload while identified carries on with a fresh
/// code (issuing cancels the one on screen before); the other ways prove the holder again.
async fn check(via: Via, set: impl Fn(Step)) {
    match via {
        Via::Hpki => match hpki::find().await {
            Found::NoServer(e) => set(Step::failed(e.into(), None)),
            Found::NoHelper(e, url) => set(Step::HelperMissing(e, url)),
            Found::Ready(status) => set(Step::Ready { readers: status.readers }),
            Found::Identified(session) => issue(session.holder, false, set).await,
        },
        Via::Jma => set(Step::first(Via::Jma)),
        Via::OldPhone => first_code(set).await,
    }
}

/// Asks for a code. A bound phone is not replaced unless the holder said はい (`replace`).
async fn issue(holder: Holder, replace: bool, set: impl Fn(Step)) {
    set(Step::Issuing(holder.clone()));
    set(match server::issue_enrolment(replace).await {
        Ok(i) => Step::ShowCode(holder, code(&i.url, i.expires_in_secs, i.replace)),
        Err(ErrorCode::PhoneAlreadyBound) => Step::AskReplace(holder),
        Err(e) => Step::failed(e.into(), Some(holder)),
    });
}

/// スマートフォン変更: the first code, for the phone bound now.
async fn first_code(set: impl Fn(Step)) {
    set(Step::ChangeIssuing);
    set(match server::change_issue().await {
        Ok(i) => Step::FirstCode(code(&i.url, i.expires_in_secs, true)),
        Err(e) => Step::failed(e.into(), None),
    });
}

/// The old phone proved the holder: the second code, for the new phone, replacing the old.
async fn proved(set: impl Fn(Step)) {
    set(Step::ChangeIssuing);
    match server::smartphone_holder().await {
        Ok(holder) => issue(holder, true, set).await,
        Err(e) => set(Step::failed(e.into(), None)),
    }
}

async fn identify(window: PinWindow, ticket: Ticket, step: UseStateHandle<Step>) {
    let set = ticket.setter(&step);
    let progress = set.clone();
    let outcome =
        hpki::identify(&window, &ticket, &move |stage| progress(Step::HpkiAuth(stage))).await;
    window.close();
    match outcome {
        Ok(session) => issue(session.holder, false, set).await,
        Err(f) => set(Step::failed(f, None)),
    }
}

async fn jma_login(entry: JmaEntry, set: impl Fn(Step)) {
    set(Step::JmaChecking(entry.clone()));
    let login = JmaLogin {
        registration_number: entry.registration_number.clone(),
        card_id: entry.card_id.clone(),
    };
    match server::jma_login(&login).await {
        Ok(holder) => issue(holder, false, set).await,
        // Wrong numbers or a lock: back to the form, which says which and what to do.
        Err(e) => set(Step::JmaForm { failure: Some(e.into()), entry }),
    }
}

/// The confirmation screen after the server's event says `tries_left`: an entry on its way
/// stays on its way.
fn asking(holder: Option<Holder>, code: &Code, tries_left: u8) -> Step {
    Step::Confirm(Confirming {
        holder,
        code: code.clone(),
        tries_left,
        wrong: tries_left < TRIES,
        sending: false,
    })
}

/// 「確認」: sends the code; the server's events move the screen on (to the phone going on, or
/// to the tries left), so only a refusal with no event behind it changes the screen here.
async fn confirm(asked: Confirming, entered: String, set: impl Fn(Step)) {
    set(Step::Confirm(Confirming { sending: true, wrong: false, ..asked.clone() }));
    match server::confirm(entered).await {
        // A change's first code: this answer carries the session's new id (the grant), so the
        // second code is asked for only now. The stream's `proved` may arrive before it, and a
        // request sent then would go with the old, dead id.
        Ok(_) if asked.holder.is_none() => proved(set).await,
        Ok(_) => {}
        // The server counted exactly this entry; its event says the same number, whichever
        // arrives first.
        Err(ErrorCode::ConfirmationWrong) => {
            let tries_left = asked.tries_left.saturating_sub(1).max(1);
            set(Step::Confirm(Confirming { sending: false, wrong: true, tries_left, ..asked }));
        }
        // Not six digits: not sent as a try.
        Err(ErrorCode::BadRequest) => {
            set(Step::Confirm(Confirming { sending: false, wrong: true, ..asked }));
        }
        Err(ErrorCode::ConfirmationFailed) => {
            let replace = asked.code.replace;
            set(Step::ConfirmFailed { holder: asked.holder, replace });
        }
        Err(e) => set(Step::failed(e.into(), asked.holder)),
    }
}

/// What a pushed event about the new phone's code turns the screen into.
fn on_enrolment(holder: &Holder, code: &Code, event: Result<CodeEvent, ErrorCode>) -> Option<Step> {
    let holder = holder.clone();
    Some(match event {
        // `proved` belongs to a change's first code, never to an enrolment.
        Ok(CodeEvent::Waiting { .. } | CodeEvent::Proved { .. }) => return None,
        Ok(CodeEvent::Confirm { tries_left }) => asking(Some(holder), code, tries_left),
        Ok(CodeEvent::Opened) => Step::Opened(holder, code.clone()),
        Ok(CodeEvent::ConfirmFailed) => {
            Step::ConfirmFailed { holder: Some(holder), replace: code.replace }
        }
        Ok(CodeEvent::Completed) => Step::Done { holder, replaced: code.replace },
        Ok(CodeEvent::Expired) => Step::Expired { holder, replace: code.replace },
        Ok(CodeEvent::Cancelled) => {
            Step::failed(ErrorCode::EnrolmentCancelled.into(), Some(holder))
        }
        Err(e) => Step::failed(e.into(), Some(holder)),
    })
}

/// What a pushed event about the old phone's first code turns the screen into. `None` for
/// `proved`: the answer to the PC's own entry of the code goes on to the second code (see
/// [`confirm`]).
fn on_change(code: &Code, event: Result<CodeEvent, ErrorCode>) -> Option<Step> {
    Some(match event {
        // `completed` belongs to an enrolment, never to a change's first code.
        Ok(CodeEvent::Waiting { .. } | CodeEvent::Proved { .. } | CodeEvent::Completed) => {
            return None;
        }
        Ok(CodeEvent::Opened) => Step::FirstOpened(code.clone()),
        Ok(CodeEvent::Confirm { tries_left }) => asking(None, code, tries_left),
        Ok(CodeEvent::ConfirmFailed) => Step::ConfirmFailed { holder: None, replace: true },
        Ok(CodeEvent::Expired) => Step::FirstExpired,
        Ok(CodeEvent::Cancelled) => Step::failed(ErrorCode::EnrolmentCancelled.into(), None),
        Err(e) => Step::failed(e.into(), None),
    })
}

/// Follows the code on screen: the server's events for it, and a countdown ticking each second.
fn follow(
    current: &Step,
    runs: &Runs,
    step: &UseStateHandle<Step>,
    now: UseStateHandle<f64>,
) -> Option<(Option<events::Subscription>, Interval)> {
    let code = current.live_code()?.clone();
    let set = runs.current().setter(step);
    let sub = match current.holder().cloned() {
        Some(holder) => events::subscribe::<events::EnrolmentCode>(Callback::from(move |e| {
            if let Some(next) = on_enrolment(&holder, &code, e) {
                if matches!(next, Step::Done { .. }) {
                    spawn_local(server::logout());
                }
                set(next);
            }
        })),
        None => events::subscribe::<events::ChangeCode>(Callback::from(move |e| {
            if let Some(next) = on_change(&code, e) {
                set(next);
            }
        })),
    };
    Some((sub, Interval::new(1000, move || now.set(now_ms()))))
}

#[derive(Properties, PartialEq)]
pub struct SmartphoneFlowProps {
    pub via: Via,
}

#[function_component(SmartphoneFlow)]
pub fn smartphone_flow(props: &SmartphoneFlowProps) -> Html {
    let via = props.via;
    let step = use_state(|| Step::first(via));
    let runs = use_memo((), |()| Runs::default());
    let now = use_state(now_ms);
    let start = {
        let (step, runs) = (step.clone(), runs.clone());
        move || {
            let ticket = runs.next();
            ticket.setter(&step)(Step::first(via));
            spawn_local(check(via, ticket.setter(&step)));
        }
    };
    {
        let (start, runs) = (start.clone(), runs.clone());
        use_effect_with(via, move |_| {
            start();
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
    // The code ran out before any phone opened it (the server's own event may be a moment late).
    if let Some(next) = step::ran_out(&step, *now) {
        step.set(next);
    }
    let on_action = {
        let (step, runs) = (step.clone(), runs.clone());
        Callback::from(move |action: Action| {
            let current = (*step).clone();
            let holder = current.holder().cloned();
            match (action, holder) {
                (Action::StartHpki, _) => {
                    let window = PinWindow::open();
                    spawn_local(identify(window, runs.next(), step.clone()));
                }
                (Action::JmaLogin(entry), _) => {
                    spawn_local(jma_login(entry, runs.next().setter(&step)));
                }
                (Action::Confirm(entered), _) => {
                    if let Step::Confirm(asked) = current {
                        // Same run: the code's events keep flowing while the entry is sent.
                        spawn_local(confirm(asked, entered, runs.current().setter(&step)));
                    }
                }
                (Action::Reissue, None) => spawn_local(first_code(runs.next().setter(&step))),
                (action @ (Action::Replace | Action::Reissue | Action::Retry), Some(holder)) => {
                    let replace = match (&current, action) {
                        (_, Action::Replace) => true,
                        (
                            Step::Expired { replace, .. } | Step::ConfirmFailed { replace, .. },
                            _,
                        ) => *replace,
                        _ => via == Via::OldPhone,
                    };
                    spawn_local(issue(holder, replace, runs.next().setter(&step)));
                }
                (Action::Keep, Some(holder)) => {
                    runs.cancel();
                    step.set(Step::KeptCurrent(holder));
                    spawn_local(server::logout());
                }
                (Action::CheckHelper | Action::Retry, None) => start(),
                (Action::Cancel, holder) => {
                    // The code on screen dies now, and closing the session means nobody at
                    // this PC carries on as the holder. The old phone of a change is revoked
                    // only by a committed new one, so it keeps working.
                    let first_code = current.live_code().is_some() && holder.is_none();
                    runs.cancel();
                    step.set(Step::Cancelled);
                    spawn_local(async move {
                        if holder.is_some() {
                            server::cancel_enrolment().await;
                        } else if first_code {
                            server::cancel_change().await;
                        }
                        server::logout().await;
                    });
                }
                _ => {}
            }
        })
    };
    html! { <SmartphoneView {via} step={(*step).clone()} now_ms={*now} {on_action} /> }
}
