//! 別紙1: bind a My Number card. HPKI card authentication identifies the holder (本人ID), then
//! the My Number card's user-authentication certificate is bound to that identity.
//!
//! `step` is the state enum, `view` renders it; this module runs the steps against the server
//! and the local helper.

pub mod step;
pub mod view;

use mahpki_protocol::{api::SessionInfo, error::Place, helper::CardType};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

pub use step::{Action, Step};
pub use view::MyNumberView;

use crate::{
    flows::{
        card::{self, CardStage, PinWindow},
        hpki::{self, Found},
        run::{Failure, Runs, Ticket},
    },
    server,
};

/// Finds the helper; resumes at the swap screen if this browser's session already knows the
/// holder.
async fn check(set: impl Fn(Step)) {
    set(match hpki::find().await {
        Found::NoServer(e) => Step::failed(e.into(), None),
        Found::NoHelper(e, url) => Step::HelperMissing(e, url),
        Found::Ready(status) => Step::Ready { readers: status.readers },
        Found::Identified(session) => Step::Identified(session),
    });
}

/// HPKI card authentication. Ends identified or failed.
async fn identify(window: PinWindow, ticket: Ticket, set: impl Fn(Step) + Clone + 'static) {
    let progress = set.clone();
    let outcome =
        hpki::identify(&window, &ticket, &move |stage| progress(Step::HpkiAuth(stage))).await;
    window.close();
    set(match outcome {
        Ok(session) => Step::Identified(session),
        Err(f) => Step::failed(f, None),
    });
}

/// My Number card authentication and binding, for the identified holder.
async fn bind(
    session: SessionInfo,
    window: PinWindow,
    ticket: Ticket,
    set: impl Fn(Step) + Clone + 'static,
) {
    set(Step::JpkiAuth(session.clone(), CardStage::Preparing));
    let outcome = async {
        let helper = hpki::helper_client().await?;
        let challenge = server::mynumber_challenge().await?;
        let (progress, s) = (set.clone(), session.clone());
        let sig = card::sign(
            &helper,
            CardType::Jpki,
            challenge.challenge,
            &window,
            &ticket,
            &move |st| progress(Step::JpkiAuth(s.clone(), st)),
        )
        .await?;
        set(Step::JpkiAuth(session.clone(), CardStage::Verifying));
        Ok::<_, Failure>(server::mynumber_finish(&sig).await?)
    }
    .await
    .map_err(|f| f.at(Place::MyNumberCard));
    window.close();
    match outcome {
        Ok(bound) => {
            set(Step::Done { session, bound });
            // Registration is complete: close the session, so nobody else at this clinic PC
            // carries on as this holder ("ブラウザを終了してください").
            server::logout().await;
        }
        Err(f) => set(Step::failed(f, Some(session))),
    }
}

#[function_component(MyNumberFlow)]
pub fn mynumber_flow() -> Html {
    let step = use_state(|| Step::CheckingHelper);
    let runs = use_memo((), |()| Runs::default());
    {
        let (step, runs) = (step.clone(), runs.clone());
        use_effect_with((), move |()| {
            let ticket = runs.next();
            spawn_local(check(ticket.setter(&step)));
            // Leaving the page cancels whatever the helper is doing for it.
            move || runs.cancel()
        });
    }
    let on_action = {
        let (step, runs) = (step.clone(), runs.clone());
        Callback::from(move |action: Action| {
            let current = (*step).clone();
            match action {
                Action::CheckHelper => {
                    let ticket = runs.next();
                    let set = ticket.setter(&step);
                    set(Step::CheckingHelper);
                    spawn_local(check(set));
                }
                Action::StartHpki => {
                    // The PIN window must open inside this click, before anything is awaited.
                    let window = PinWindow::open();
                    let ticket = runs.next();
                    spawn_local(identify(window, ticket.clone(), ticket.setter(&step)));
                }
                Action::StartJpki => {
                    if let Step::Identified(session) = current {
                        let window = PinWindow::open();
                        let ticket = runs.next();
                        spawn_local(bind(session, window, ticket.clone(), ticket.setter(&step)));
                    }
                }
                Action::Retry => {
                    let next = current.retry();
                    let ticket = runs.next();
                    let set = ticket.setter(&step);
                    set(next.clone());
                    if next == Step::CheckingHelper {
                        spawn_local(check(set));
                    }
                }
                Action::Cancel => {
                    // The running step sees its ticket die, cancels the helper operation and
                    // stops; the server forgets the holder. Nothing was bound.
                    runs.cancel();
                    step.set(Step::Cancelled);
                    spawn_local(server::logout());
                }
            }
        })
    };
    html! { <MyNumberView step={(*step).clone()} {on_action} /> }
}
