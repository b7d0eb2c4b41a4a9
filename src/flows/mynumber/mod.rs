//! 別紙1: bind a My Number card. HPKI card authentication identifies the holder (本人ID), then
//! the My Number card's user-authentication certificate is bound to that identity.
//!
//! `step` is the state enum, `view` renders it; this module runs the steps against the server
//! and the local helper.

pub mod step;
pub mod view;

use mahpki_protocol::{ErrorCode, api::SessionInfo, helper::CardType};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

pub use step::{Action, Step};
pub use view::MyNumberView;

use crate::{
    flows::card::{self, CardStage, Failure, PinWindow, Runs, Ticket},
    helper::HelperClient,
    server,
};

/// Sets the step only while `ticket` is the live run: a cancelled run never repaints the page.
fn setter(step: &UseStateHandle<Step>, ticket: &Ticket) -> impl Fn(Step) + Clone + 'static {
    let (step, ticket) = (step.clone(), ticket.clone());
    move |s| {
        if ticket.live() {
            step.set(s);
        }
    }
}

async fn helper_client() -> Result<HelperClient, ErrorCode> {
    Ok(HelperClient::new(server::client_config().await?.helper_url))
}

/// Finds the helper; resumes at the swap screen if this browser's session already knows the
/// holder (a reload, or a retry after a failed My Number step).
async fn check(set: impl Fn(Step)) {
    let helper = match helper_client().await {
        Ok(h) => h,
        Err(e) => return set(Step::failed(e.into(), None)),
    };
    match helper.status().await {
        Err(e) => set(Step::HelperMissing(e)),
        Ok(status) => match server::session().await {
            Ok(session) => set(Step::Identified(session)),
            Err(_) => set(Step::Ready { readers: status.readers }),
        },
    }
}

/// HPKI card authentication: challenge, card, server. Ends identified or failed.
async fn identify(window: PinWindow, ticket: Ticket, set: impl Fn(Step) + Clone + 'static) {
    set(Step::HpkiAuth(CardStage::Preparing));
    let outcome: Result<SessionInfo, Failure> = async {
        let helper = helper_client().await?;
        let challenge = server::hpki_challenge().await?;
        let progress = set.clone();
        let sig =
            card::sign(&helper, CardType::Hpki, challenge.challenge, &window, &ticket, &move |s| {
                progress(Step::HpkiAuth(s))
            })
            .await?;
        set(Step::HpkiAuth(CardStage::Verifying));
        Ok(server::hpki_finish(&sig).await?)
    }
    .await;
    window.close();
    match outcome {
        Ok(session) => set(Step::Identified(session)),
        Err(f) => set(Step::failed(f, None)),
    }
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
        let helper = helper_client().await?;
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
    .await;
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
            spawn_local(check(setter(&step, &ticket)));
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
                    let set = setter(&step, &ticket);
                    set(Step::CheckingHelper);
                    spawn_local(check(set));
                }
                Action::StartHpki => {
                    // The PIN window must open inside this click, before anything is awaited.
                    let window = PinWindow::open();
                    let ticket = runs.next();
                    spawn_local(identify(window, ticket.clone(), setter(&step, &ticket)));
                }
                Action::StartJpki => {
                    if let Step::Identified(session) = current {
                        let window = PinWindow::open();
                        let ticket = runs.next();
                        spawn_local(bind(session, window, ticket.clone(), setter(&step, &ticket)));
                    }
                }
                Action::Retry => {
                    let next = current.retry();
                    let ticket = runs.next();
                    let set = setter(&step, &ticket);
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
