//! 別紙2 on the PC as one explicit state enum: HPKI identification, the replace question, the
//! 2D code with its countdown, the phone's progress pushed by the server, completion.

use mahpki_protocol::{ErrorCode, api::SessionInfo, helper::ReaderStatus};

use crate::flows::card::{CardStage, Failure};

/// The enrolment the PC shows. `url` is the 2D code's content (secret until used).
#[derive(Debug, Clone, PartialEq)]
pub struct Code {
    pub url: String,
    pub code: String,
    /// `Date.now()` milliseconds at which the code stops opening.
    pub deadline_ms: f64,
    pub replace: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    CheckingHelper,
    HelperMissing(ErrorCode),
    Ready {
        readers: Vec<ReaderStatus>,
    },
    HpkiAuth(CardStage),
    /// Identified; asking the server for a code.
    Issuing(SessionInfo),
    /// 「デバイスがすでに登録済みとなっています。現在のデバイスを削除して再度登録をし直しますか?」
    AskReplace(SessionInfo),
    /// The 2D code, the verification code and the countdown.
    ShowCode(SessionInfo, Code),
    /// A phone opened it: 「スマートフォンで操作を続けてください」.
    Opened(SessionInfo, Code),
    /// 「有効期限が切れました」, with a re-issue button (`replace` carries the holder's answer).
    Expired {
        session: SessionInfo,
        replace: bool,
    },
    /// The phone's credential is committed.
    Done {
        session: SessionInfo,
        replaced: bool,
    },
    /// The holder answered いいえ: the registered phone stays as it is.
    KeptCurrent(SessionInfo),
    Failed {
        failure: Failure,
        session: Option<SessionInfo>,
    },
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    CheckHelper,
    StartHpki,
    /// はい to the replace question.
    Replace,
    /// いいえ to the replace question.
    Keep,
    /// A new code after expiry (or after a failure while identified).
    Reissue,
    Retry,
    Cancel,
}

impl Step {
    pub fn failed(failure: Failure, session: Option<SessionInfo>) -> Self {
        let ends = matches!(failure.code, ErrorCode::Unauthenticated | ErrorCode::SessionExpired);
        Step::Failed { failure, session: session.filter(|_| !ends) }
    }

    pub fn session(&self) -> Option<&SessionInfo> {
        match self {
            Step::Issuing(s)
            | Step::AskReplace(s)
            | Step::ShowCode(s, _)
            | Step::Opened(s, _)
            | Step::Expired { session: s, .. }
            | Step::KeptCurrent(s) => Some(s),
            Step::Done { session, .. } => Some(session),
            Step::Failed { session, .. } => session.as_ref(),
            _ => None,
        }
    }

    /// The code on screen, while the server may still push events about it.
    pub fn live_code(&self) -> Option<&Code> {
        match self {
            Step::ShowCode(_, c) | Step::Opened(_, c) => Some(c),
            _ => None,
        }
    }

    pub fn cancellable(&self) -> bool {
        matches!(
            self,
            Step::HpkiAuth(_)
                | Step::Issuing(_)
                | Step::AskReplace(_)
                | Step::ShowCode(..)
                | Step::Opened(..)
                | Step::Expired { .. }
        )
    }

    pub fn busy(&self) -> bool {
        matches!(
            self,
            Step::CheckingHelper | Step::HpkiAuth(_) | Step::Issuing(_) | Step::Opened(..)
        )
    }

    pub fn name(&self) -> &'static str {
        match self {
            Step::CheckingHelper => "checking_helper",
            Step::HelperMissing(_) => "helper_missing",
            Step::Ready { .. } => "ready",
            Step::HpkiAuth(_) => "hpki_auth",
            Step::Issuing(_) => "issuing",
            Step::AskReplace(_) => "ask_replace",
            Step::ShowCode(..) => "show_code",
            Step::Opened(..) => "opened",
            Step::Expired { .. } => "expired",
            Step::Done { .. } => "done",
            Step::KeptCurrent(_) => "kept_current",
            Step::Failed { .. } => "failed",
            Step::Cancelled => "cancelled",
        }
    }
}

/// Seconds left on a code at `now_ms`, never negative.
pub fn seconds_left(code: &Code, now_ms: f64) -> u32 {
    let left = ((code.deadline_ms - now_ms) / 1000.0).ceil();
    if left <= 0.0 { 0 } else { left as u32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code() -> Code {
        Code { url: "u".into(), code: "123456".into(), deadline_ms: 10_000.0, replace: false }
    }

    #[test]
    fn the_countdown_rounds_up_and_stops_at_zero() {
        assert_eq!(seconds_left(&code(), 0.0), 10);
        assert_eq!(seconds_left(&code(), 9_001.0), 1);
        assert_eq!(seconds_left(&code(), 10_000.0), 0);
        assert_eq!(seconds_left(&code(), 20_000.0), 0);
    }

    #[test]
    fn an_ended_session_is_not_kept_after_a_failure() {
        let f = Step::failed(ErrorCode::SessionExpired.into(), None);
        assert_eq!(f.session(), None);
        assert!(!f.cancellable());
    }
}
