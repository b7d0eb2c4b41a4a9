//! One card authentication through the local helper, as every flow needs it: start the
//! operation over the server's challenge, show the helper's PIN page, follow the operation and
//! hand back what the server verifies. Shared by 別紙1 (HPKI, then My Number card) and 別紙2.

use std::{cell::Cell, rc::Rc};

use gloo_timers::future::TimeoutFuture;
use mahpki_protocol::{
    ErrorCode,
    api::CardSignature,
    error::{ErrorDetail, Place},
    helper::{CardPresence, CardType, OperationState, OperationStatus, WaitReason},
};

use yew::UseStateHandle;

use crate::helper::HelperClient;

/// How often the page asks the helper where the operation is. The helper answers from memory,
/// so this costs nothing on the card; 300 ms keeps the page in step with the PIN window.
const FOLLOW_INTERVAL_MS: u32 = 300;

/// Where a card operation is, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardStage {
    /// Asking the server for a challenge and the helper for an operation.
    Preparing,
    WaitingCard(WaitReason),
    /// The other card is in the reader.
    ChangeCard(CardPresence),
    /// The helper's PIN window waits for the holder. `pin_page` is offered as a link too, in case
    /// the browser blocked the window or the holder closed it.
    WaitingPin {
        tries_left: Option<u8>,
        last_error: Option<ErrorCode>,
        pin_page: String,
        /// The holder closed the PIN window (the helper heard it go): offer to reopen it.
        window_closed: bool,
    },
    Communicating,
    /// The card has answered; the server is checking it.
    Verifying,
}

/// Why a step stopped, with the tries left where the card (or the server) told them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    pub code: ErrorCode,
    pub tries_left: Option<u8>,
    /// The card or flow it happened in, when that changes what the screen says.
    pub at: Option<Place>,
    /// How long until trying again is accepted (the JMA path's pause).
    pub retry_after_secs: Option<u64>,
}

impl From<ErrorCode> for Failure {
    fn from(code: ErrorCode) -> Self {
        Self { code, tries_left: None, at: None, retry_after_secs: None }
    }
}

impl From<ErrorDetail> for Failure {
    fn from(d: ErrorDetail) -> Self {
        Self { tries_left: d.tries_left, retry_after_secs: d.retry_after_secs, ..d.code.into() }
    }
}

impl Failure {
    /// The same failure, met at `place` (unless it already says where).
    pub fn at(self, place: Place) -> Self {
        Self { at: self.at.or(Some(place)), ..self }
    }

    /// Whether trying the same thing again can work: not with a locked PIN, nor with a card
    /// whose certificate is revoked or expired. Those screens offer the remedy and the way out.
    pub fn retry_helps(&self) -> bool {
        !matches!(
            self.code,
            ErrorCode::HpkiPinLocked
                | ErrorCode::JpkiPinLocked
                | ErrorCode::CertificateRevoked
                | ErrorCode::CertificateExpired
        )
    }
}

/// The flow currently allowed to run. Cancelling (or leaving the page) moves the generation on,
/// so a running step notices, cancels its helper operation and stops touching the page.
#[derive(Debug, Clone, Default)]
pub struct Runs(Rc<Cell<u64>>);

impl Runs {
    /// A ticket for a new run; any earlier run is cancelled.
    pub fn next(&self) -> Ticket {
        self.0.set(self.0.get() + 1);
        Ticket { runs: self.clone(), id: self.0.get() }
    }

    pub fn cancel(&self) {
        self.0.set(self.0.get() + 1);
    }

    /// A ticket for the run now live, for work that belongs to it (e.g. its event stream).
    pub fn current(&self) -> Ticket {
        Ticket { runs: self.clone(), id: self.0.get() }
    }
}

#[derive(Debug, Clone)]
pub struct Ticket {
    runs: Runs,
    id: u64,
}

impl Ticket {
    pub fn live(&self) -> bool {
        self.runs.0.get() == self.id
    }

    /// Sets a flow's state only while this run is live: a cancelled run never repaints the page.
    pub fn setter<S: 'static>(&self, state: &UseStateHandle<S>) -> impl Fn(S) + Clone + 'static {
        let (state, ticket) = (state.clone(), self.clone());
        move |s| {
            if ticket.live() {
                state.set(s);
            }
        }
    }
}

/// The helper's PIN window. It must be opened inside the holder's click (or the browser blocks
/// it) and is pointed at the operation once the helper has answered.
pub struct PinWindow(Option<web_sys::Window>);

impl PinWindow {
    /// Call from the click handler only.
    pub fn open() -> Self {
        let opened = web_sys::window().and_then(|w| {
            w.open_with_url_and_target_and_features(
                "about:blank",
                "mahpki-pin",
                "popup=yes,width=520,height=680",
            )
            .ok()
            .flatten()
        });
        Self(opened)
    }

    fn show(&self, url: &str) {
        if let Some(w) = &self.0 {
            let _ = w.location().set_href(url);
        }
    }

    pub fn close(&self) {
        if let Some(w) = &self.0 {
            let _ = w.close();
        }
    }
}

/// What the page shows for a helper state that is not final.
fn stage_of(status: OperationStatus, pin_page: &str) -> Option<CardStage> {
    Some(match status.state {
        OperationState::WaitingCard { reason } => CardStage::WaitingCard(reason),
        OperationState::ChangeCard { present } => CardStage::ChangeCard(present),
        OperationState::WaitingPin { tries_left, last_error } => CardStage::WaitingPin {
            tries_left,
            last_error,
            pin_page: pin_page.to_owned(),
            window_closed: status.pin_window_closed,
        },
        OperationState::Communicating => CardStage::Communicating,
        OperationState::Done { .. } | OperationState::Failed { .. } => return None,
    })
}

/// Runs one authentication with `card` over `challenge` (base64url, from the server) and returns
/// what to post to the server. `report` gets each stage while the ticket is live.
pub async fn sign(
    helper: &HelperClient,
    card: CardType,
    challenge: String,
    window: &PinWindow,
    ticket: &Ticket,
    report: &dyn Fn(CardStage),
) -> Result<CardSignature, Failure> {
    let outcome = follow(helper, card, &challenge, window, ticket, report).await;
    window.close();
    let result = outcome?;
    Ok(CardSignature {
        challenge,
        certificate: result.certificate,
        algorithm: result.algorithm,
        signature: result.signature,
    })
}

async fn follow(
    helper: &HelperClient,
    card: CardType,
    challenge: &str,
    window: &PinWindow,
    ticket: &Ticket,
    report: &dyn Fn(CardStage),
) -> Result<mahpki_protocol::helper::AuthenticationResult, Failure> {
    let created = helper.start(card, challenge).await?;
    window.show(&created.pin_page);
    let mut status = created.status;
    loop {
        if !ticket.live() {
            helper.cancel(&created.id).await;
            return Err(ErrorCode::Cancelled.into());
        }
        match status.state {
            OperationState::Done { result } => return Ok(result),
            OperationState::Failed { error, tries_left } => {
                return Err(Failure { tries_left, ..error.into() });
            }
            _ => {
                if let Some(stage) = stage_of(status, &created.pin_page) {
                    report(stage);
                }
            }
        }
        TimeoutFuture::new(FOLLOW_INTERVAL_MS).await;
        status = helper.follow(&created.id).await?;
    }
}
