//! What every flow shares about its runs: which run is live ([`Runs`], [`Ticket`]), so a
//! cancelled or superseded run never repaints the page, and why a step stopped ([`Failure`]).

use std::{cell::Cell, rc::Rc};

use mahpki_protocol::{
    ErrorCode,
    error::{ErrorDetail, Place},
};
use yew::UseStateHandle;

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
