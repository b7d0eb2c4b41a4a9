//! One card authentication through the local helper, as every flow needs it: start the
//! operation over the server's challenge, show the helper's PIN page, follow the operation and
//! hand back what the server verifies. Shared by 別紙1 (HPKI, then My Number card) and 別紙2.

use gloo_timers::future::TimeoutFuture;
use mahpki_protocol::{
    ErrorCode,
    api::CardSignature,
    helper::{CardPresence, CardType, OperationState, OperationStatus, WaitReason},
};

use crate::{
    flows::run::{Failure, Ticket},
    helper::HelperClient,
};

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
