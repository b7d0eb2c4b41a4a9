//! 別紙1 as one explicit state enum: every screen of the flow is a variant, and what may follow
//! each is written down here rather than spread over callbacks.

use mahpki_protocol::{
    ErrorCode,
    api::{MyNumberBound, SessionInfo},
    helper::ReaderStatus,
};

use crate::flows::{card::CardStage, run::Failure};

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Looking for the local helper (the browser may ask for local-network access now).
    CheckingHelper,
    /// The helper is not running, not allowed, or too old: how to fix it, and a retry.
    /// With where to get `mahpki-helper`.
    HelperMissing(ErrorCode, String),
    /// Helper found: put the HPKI card in and press 「HPKIカードで登録」.
    Ready { readers: Vec<ReaderStatus> },
    /// HPKI card authentication under way.
    HpkiAuth(CardStage),
    /// The holder is identified: check the 本人ID, swap to the My Number card, press
    /// 「マイナンバーカードを登録」.
    Identified(SessionInfo),
    /// My Number card authentication and binding under way.
    JpkiAuth(SessionInfo, CardStage),
    /// マイナンバーカードの登録が完了しました。
    Done { session: SessionInfo, bound: MyNumberBound },
    /// A step failed; nothing was bound. `session` is kept when the holder is still identified,
    /// so a retry goes back to the swap screen rather than to the HPKI card.
    Failed { failure: Failure, session: Option<SessionInfo> },
    /// The holder cancelled; the helper operation was cancelled and the session closed.
    Cancelled,
}

/// What the holder can ask for on a screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    CheckHelper,
    StartHpki,
    StartJpki,
    Retry,
    Cancel,
}

impl Step {
    /// A failure, keeping the identified holder unless the server no longer knows the session.
    pub fn failed(failure: Failure, session: Option<SessionInfo>) -> Self {
        let session = session.filter(|_| !ends_session(failure.code));
        Step::Failed { failure, session }
    }

    /// Where 「もう一度」 leads from a failure.
    pub fn retry(&self) -> Step {
        match self {
            Step::Failed { session: Some(s), .. } => Step::Identified(s.clone()),
            _ => Step::CheckingHelper,
        }
    }

    /// Whether the 中止 button belongs on this screen: wherever something is open.
    pub fn cancellable(&self) -> bool {
        matches!(self, Step::HpkiAuth(_) | Step::Identified(_) | Step::JpkiAuth(..))
    }

    /// Whether the page is waiting on the helper, the card or the server (a live region says so).
    pub fn busy(&self) -> bool {
        matches!(self, Step::CheckingHelper | Step::HpkiAuth(_) | Step::JpkiAuth(..))
    }
}

/// Errors after which the holder must identify again with the HPKI card.
fn ends_session(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::Unauthenticated | ErrorCode::SessionExpired | ErrorCode::ChallengeWrongSession
    )
}

#[cfg(test)]
mod tests {
    use mahpki_protocol::{
        HpkiId,
        api::{Ca, Holder, Qualification},
    };

    use super::*;

    fn session() -> SessionInfo {
        SessionInfo {
            holder: Holder {
                hpki_id: HpkiId::parse("HP0000000001").unwrap(),
                ca: Ca::Medis,
                qualification: Qualification::Doctor,
                name_kanji: "医療 太郎".into(),
                name_kana: "イリョウ タロウ".into(),
                name_roman: "IRYO TARO".into(),
            },
            mynumber: None,
        }
    }

    #[test]
    fn a_card_failure_after_identification_returns_to_the_swap_screen() {
        let f = Step::failed(
            Failure { tries_left: Some(2), ..ErrorCode::PinWrong.into() },
            Some(session()),
        );
        assert_eq!(f.retry(), Step::Identified(session()));
    }

    #[test]
    fn an_expired_session_starts_again_from_the_hpki_card() {
        for code in [ErrorCode::SessionExpired, ErrorCode::Unauthenticated] {
            let f = Step::failed(code.into(), Some(session()));
            assert_eq!(f, Step::Failed { failure: code.into(), session: None });
            assert_eq!(f.retry(), Step::CheckingHelper);
        }
    }

    #[test]
    fn cancel_is_offered_wherever_something_is_open() {
        assert!(Step::HpkiAuth(CardStage::Preparing).cancellable());
        assert!(Step::Identified(session()).cancellable());
        assert!(Step::JpkiAuth(session(), CardStage::Communicating).cancellable());
        assert!(!Step::Cancelled.cancellable());
        assert!(!Step::CheckingHelper.cancellable());
    }
}
