//! 別紙2 on the PC: identify with the HPKI card, answer the replace question if a phone is
//! bound, show the 2D code, and follow the phone through the server's live events.
//!
//! `step` is the state enum, `view` renders it; this module drives it.

pub mod step;
pub mod view;

use gloo_timers::callback::Interval;
use mahpki_protocol::{ErrorCode, api::SessionInfo, enrol::EnrolmentEvent};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

pub use step::{Action, Code, Step};
pub use view::SmartphoneView;

use crate::{
    flows::{
        card::{PinWindow, Runs, Ticket},
        events,
        hpki::{self, Found},
    },
    server,
};

fn now_ms() -> f64 {
    js_sys::Date::now()
}

async fn check(set: impl Fn(Step), ticket: Ticket, step: UseStateHandle<Step>) {
    match hpki::find().await {
        Found::NoServer(e) => set(Step::failed(e.into(), None)),
        Found::NoHelper(e) => set(Step::HelperMissing(e)),
        Found::Ready(status) => set(Step::Ready { readers: status.readers }),
        // A reload while identified: a fresh code (issuing cancels the one on screen before).
        Found::Identified(session) => issue(session, false, ticket.setter(&step)).await,
    }
}

/// Asks for a code. A bound phone is not replaced unless the holder said はい (`replace`).
async fn issue(session: SessionInfo, replace: bool, set: impl Fn(Step)) {
    set(Step::Issuing(session.clone()));
    set(match server::issue_enrolment(replace).await {
        Ok(issued) => Step::ShowCode(
            session,
            Code {
                url: issued.url.clone(),
                code: issued.code.clone(),
                deadline_ms: now_ms() + f64::from(issued.expires_in_secs) * 1000.0,
                replace: issued.replace,
            },
        ),
        Err(ErrorCode::PhoneAlreadyBound) => Step::AskReplace(session),
        Err(e) => Step::failed(e.into(), Some(session)),
    });
}

async fn identify(window: PinWindow, ticket: Ticket, step: UseStateHandle<Step>) {
    let set = ticket.setter(&step);
    let progress = set.clone();
    let outcome =
        hpki::identify(&window, &ticket, &move |stage| progress(Step::HpkiAuth(stage))).await;
    window.close();
    match outcome {
        Ok(session) => issue(session, false, set).await,
        Err(f) => set(Step::failed(f, None)),
    }
}

/// What a pushed event turns the code screen into.
fn on_event(
    session: &SessionInfo,
    code: &Code,
    event: Result<EnrolmentEvent, ErrorCode>,
) -> Option<Step> {
    Some(match event {
        Ok(EnrolmentEvent::Waiting { .. }) => return None,
        Ok(EnrolmentEvent::Opened { code: shown }) => {
            Step::Opened(session.clone(), Code { code: shown, ..code.clone() })
        }
        Ok(EnrolmentEvent::Completed) => {
            Step::Done { session: session.clone(), replaced: code.replace }
        }
        Ok(EnrolmentEvent::Expired) => {
            Step::Expired { session: session.clone(), replace: code.replace }
        }
        Ok(EnrolmentEvent::Cancelled) => {
            Step::failed(ErrorCode::EnrolmentCancelled.into(), Some(session.clone()))
        }
        Err(e) => Step::failed(e.into(), Some(session.clone())),
    })
}

#[function_component(SmartphoneFlow)]
pub fn smartphone_flow() -> Html {
    let step = use_state(|| Step::CheckingHelper);
    let runs = use_memo((), |()| Runs::default());
    let now = use_state(now_ms);
    {
        let (step, runs) = (step.clone(), runs.clone());
        use_effect_with((), move |()| {
            let ticket = runs.next();
            spawn_local(check(ticket.setter(&step), ticket.clone(), step.clone()));
            move || runs.cancel()
        });
    }
    // While a code is on screen: the server's events, and a countdown ticking each second.
    {
        let live = step.session().cloned().zip(step.live_code().cloned());
        let (step, runs, now) = (step.clone(), runs.clone(), now.clone());
        use_effect_with(live.as_ref().map(|(_, c)| c.url.clone()), move |_| {
            let mut guards = None;
            if let Some((session, code)) = live {
                let ticket = runs.current();
                let set = ticket.setter(&step);
                let (s, c) = (session.clone(), code.clone());
                let sub = events::subscribe(
                    server::ENROLMENT_EVENTS,
                    Callback::from(move |e| {
                        if let Some(next) = on_event(&s, &c, e) {
                            if matches!(next, Step::Done { .. }) {
                                spawn_local(server::logout());
                            }
                            set(next);
                        }
                    }),
                );
                let tick = Interval::new(1000, move || now.set(now_ms()));
                guards = Some((sub, tick));
            }
            move || drop(guards)
        });
    }
    // The code ran out before any phone opened it (the server's own event may be a moment late).
    if let Step::ShowCode(session, code) = &*step
        && step::seconds_left(code, *now) == 0
    {
        step.set(Step::Expired { session: session.clone(), replace: code.replace });
    }
    let on_action = {
        let (step, runs) = (step.clone(), runs.clone());
        Callback::from(move |action: Action| {
            let current = (*step).clone();
            match action {
                Action::CheckHelper | Action::Retry if current.session().is_none() => {
                    let ticket = runs.next();
                    ticket.setter(&step)(Step::CheckingHelper);
                    spawn_local(check(ticket.setter(&step), ticket.clone(), step.clone()));
                }
                Action::StartHpki => {
                    let window = PinWindow::open();
                    spawn_local(identify(window, runs.next(), step.clone()));
                }
                Action::Replace | Action::Reissue | Action::Retry => {
                    if let Some(session) = current.session().cloned() {
                        let replace = match (&current, action) {
                            (_, Action::Replace) => true,
                            (Step::Expired { replace, .. }, _) => *replace,
                            _ => false,
                        };
                        let ticket = runs.next();
                        spawn_local(issue(session, replace, ticket.setter(&step)));
                    }
                }
                Action::Keep => {
                    if let Some(session) = current.session().cloned() {
                        runs.cancel();
                        step.set(Step::KeptCurrent(session));
                        spawn_local(server::logout());
                    }
                }
                Action::CheckHelper => {}
                Action::Cancel => {
                    // Issuing a code again later cancels this one; closing the session now
                    // means nobody at this PC carries on as the holder.
                    runs.cancel();
                    step.set(Step::Cancelled);
                    spawn_local(server::logout());
                }
            }
        })
    };
    html! { <SmartphoneView step={(*step).clone()} now_ms={*now} {on_action} /> }
}
