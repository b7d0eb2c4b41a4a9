//! The sign-in page: the daily identification (「原則として、1日1回」) by (i) the HPKI card,
//! (ii) the My Number card, both through the local helper, or (iii) the smartphone (its own
//! page). Signed in, the page goes on to the relying service that sent the holder (`?continue=`
//! under `/oidc/`) or to the holder's page.
//!
//! `step` is the state enum, `view` renders it; this module runs the steps against the server
//! and the local helper.

pub mod step;
pub mod view;

use mahpki_protocol::api::SignedIn;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

pub use step::{Action, Helper, Step, Way};
pub use view::SignInView;

use crate::{
    flows::{
        card::{self, CardStage, PinWindow},
        continue_to, hpki,
        run::{Failure, Runs, Ticket},
    },
    helper::HelperClient,
    server,
};

/// This browser's signing session, if alive; else the card ways' helper.
async fn check(set: impl Fn(Step), current: bool) {
    if current && let Ok(s) = server::signin_current().await {
        set(Step::SignedIn(s));
        return;
    }
    set(Step::Choose(find_helper().await));
}

async fn find_helper() -> Helper {
    let config = match server::client_config().await {
        Ok(c) => c,
        Err(e) => return Helper::Missing(e, String::new()),
    };
    match HelperClient::new(config.helper_url).status().await {
        Ok(status) => Helper::Ready(status.readers),
        Err(e) => Helper::Missing(e, config.helper_download_url),
    }
}

/// One card sign-in: the way's challenge, the card's answer through the helper, the server's
/// verdict.
async fn sign_in(
    way: Way,
    window: &PinWindow,
    ticket: &Ticket,
    set: &dyn Fn(Step),
) -> Result<SignedIn, Failure> {
    set(Step::Card(way, CardStage::Preparing));
    let helper = hpki::helper_client().await?;
    let challenge = match way {
        Way::HpkiCard => server::hpki_challenge().await?,
        Way::MyNumber => server::signin_mynumber_challenge().await?,
    };
    let report = |stage| set(Step::Card(way, stage));
    let sig = card::sign(&helper, way.card(), challenge.challenge, window, ticket, &report).await?;
    set(Step::Card(way, CardStage::Verifying));
    Ok(match way {
        Way::HpkiCard => server::signin_hpki(&sig).await?,
        Way::MyNumber => server::signin_mynumber(&sig).await?,
    })
}

async fn run(way: Way, window: PinWindow, ticket: Ticket, set: impl Fn(Step) + Clone + 'static) {
    let outcome = sign_in(way, &window, &ticket, &set).await.map_err(|f| f.at(way.place()));
    window.close();
    match outcome {
        Ok(s) => {
            set(Step::Done(s));
            if ticket.live() {
                continue_to::go_on();
            }
        }
        Err(f) => set(Step::Failed(f)),
    }
}

#[function_component(SignInFlow)]
pub fn signin_flow() -> Html {
    let step = use_state(|| Step::Checking);
    let runs = use_memo((), |()| Runs::default());
    let continue_to = use_memo((), |()| {
        continue_to::here().filter(|p| continue_to::is_continue_path(p)).map(AttrValue::from)
    });
    {
        let (step, runs) = (step.clone(), runs.clone());
        use_effect_with((), move |()| {
            let ticket = runs.next();
            spawn_local(check(ticket.setter(&step), true));
            // Leaving the page cancels whatever the helper is doing for it.
            move || runs.cancel()
        });
    }
    let on_action = {
        let (step, runs) = (step.clone(), runs.clone());
        Callback::from(move |action: Action| match action {
            Action::Start(way) => {
                // The PIN window must open inside this click, before anything is awaited.
                let window = PinWindow::open();
                let ticket = runs.next();
                spawn_local(run(way, window, ticket.clone(), ticket.setter(&step)));
            }
            // A running card step sees its ticket die and cancels the helper operation.
            Action::Cancel | Action::Retry | Action::SignInAgain => {
                let ticket = runs.next();
                let set = ticket.setter(&step);
                set(Step::Checking);
                spawn_local(check(set, false));
            }
            Action::Continue => continue_to::go_on(),
            Action::SignOut => {
                let ticket = runs.next();
                let set = ticket.setter(&step);
                spawn_local(async move {
                    match server::signin_end().await {
                        Ok(()) => set(Step::SignedOut),
                        Err(e) => set(Step::Failed(e.into())),
                    }
                });
            }
        })
    };
    html! { <SignInView step={(*step).clone()} continue_to={(*continue_to).clone()} {on_action} /> }
}
