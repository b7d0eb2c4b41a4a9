//! The sign-in page (「原則として、1日1回」の本人認証) as one explicit state enum: each screen is a
//! variant, and where each action leads is written here.

use mahpki_protocol::{
    ErrorCode,
    api::SignedIn,
    error::Place,
    helper::{CardType, ReaderStatus},
};

use crate::flows::{card::CardStage, run::Failure};

/// The two card ways in (the third, スマートフォン, is a page of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// (i) HPKIカード
    HpkiCard,
    /// (ii) マイナンバーカード
    MyNumber,
}

impl Way {
    pub fn card(self) -> CardType {
        match self {
            Self::HpkiCard => CardType::Hpki,
            Self::MyNumber => CardType::Jpki,
        }
    }

    pub fn place(self) -> Place {
        match self {
            Self::HpkiCard => Place::HpkiCard,
            Self::MyNumber => Place::MyNumberCard,
        }
    }
}

/// Whether the card ways can be used: the helper with its readers, or why not and where to get it.
#[derive(Debug, Clone, PartialEq)]
pub enum Helper {
    Ready(Vec<ReaderStatus>),
    Missing(ErrorCode, String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Asking the server whether this browser is signed in, and looking for the helper.
    Checking,
    /// This browser is signed in already: who, with what, until when; サインアウト.
    SignedIn(SignedIn),
    /// The three ways in, in the guide's order.
    Choose(Helper),
    /// A card sign-in under way.
    Card(Way, CardStage),
    /// Signed in: the page is moving on (to the relying service or the holder's page).
    Done(SignedIn),
    /// A card sign-in (or the sign-out) failed; nothing changed.
    Failed(Failure),
    /// Signed out on this device.
    SignedOut,
}

/// What the holder can ask for on a screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Start a card way (opens the helper's PIN window inside the click).
    Start(Way),
    /// Stop the card operation under way.
    Cancel,
    /// After a failure, or the helper missing: look again.
    Retry,
    /// Signed in already: go on (to the service that sent the holder here, or the holder's page).
    Continue,
    /// Signed in already, but sign in afresh (a relying service may ask for a new sign-in).
    SignInAgain,
    SignOut,
}

impl Step {
    /// Whether the page is waiting on the server, the helper or the card (a live region says so).
    pub fn busy(&self) -> bool {
        matches!(self, Step::Checking | Step::Card(..) | Step::Done(_))
    }

    /// Whether a card way can be started from this screen.
    pub fn can_start(&self) -> bool {
        matches!(self, Step::Choose(Helper::Ready(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_way_starts_only_with_the_helper_there() {
        assert!(Step::Choose(Helper::Ready(vec![])).can_start());
        let missing = Helper::Missing(ErrorCode::HelperUnreachable, String::new());
        assert!(!Step::Choose(missing).can_start());
        assert!(!Step::Checking.can_start());
    }
}
