//! The スマートフォン way of signing in on a PC (`/signin/smartphone`) as one explicit state enum:
//! the 2D code for the phone (or the browser's own passkey prompt), the phone at its passkey
//! check, the confirmation code the phone shows typed here, signed in.

use mahpki_protocol::{ErrorCode, api::SignedIn, enrol::CodeEvent};

use crate::flows::{
    confirm::TRIES,
    run::Failure,
    smartphone::step::{Code, seconds_left},
};

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Asking the server for a sign-in code.
    Issuing,
    /// The 2D code, its countdown, and 「このパソコンでパスキーを使う」.
    ShowCode(Code),
    /// A phone opened it and is at its passkey check.
    Opened(Code),
    /// The phone passed and shows a confirmation code: type it here.
    Confirm {
        code: Code,
        tries_left: u8,
        wrong: bool,
        sending: bool,
    },
    /// The browser's own passkey prompt is up (this PC, or the phone it reaches).
    PasskeyHere,
    /// Signed in; the page moves on.
    SignedIn(SignedIn),
    /// Nobody finished in time.
    Expired,
    /// Three wrong confirmation codes.
    ConfirmFailed,
    /// 中止.
    Cancelled,
    Failed(Failure),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// 「このパソコンでパスキーを使う」.
    PasskeyHere,
    /// 「確認」 with the code as typed.
    Confirm(String),
    /// A new 2D code.
    Reissue,
    Cancel,
}

impl Step {
    pub fn name(&self) -> &'static str {
        match self {
            Step::Issuing => "issuing",
            Step::ShowCode(_) => "show-code",
            Step::Opened(_) => "opened",
            Step::Confirm { .. } => "confirm",
            Step::PasskeyHere => "passkey-here",
            Step::SignedIn(_) => "signed-in",
            Step::Expired => "expired",
            Step::ConfirmFailed => "confirm-failed",
            Step::Cancelled => "cancelled",
            Step::Failed(_) => "failed",
        }
    }

    /// The code the server's events are about, while they can still change the screen.
    pub fn live_code(&self) -> Option<&Code> {
        match self {
            Step::ShowCode(c) | Step::Opened(c) | Step::Confirm { code: c, .. } => Some(c),
            _ => None,
        }
    }
}

/// The confirmation screen once the server says `tries_left` (an entry on its way stays so).
pub fn asking(code: &Code, tries_left: u8) -> Step {
    Step::Confirm { code: code.clone(), tries_left, wrong: tries_left < TRIES, sending: false }
}

/// What a pushed event about the code turns the screen into. `completed` is not a screen of
/// its own: the confirmation's answer already signed this browser in (and set the screen).
pub fn on_event(code: &Code, event: Result<CodeEvent, ErrorCode>) -> Option<Step> {
    Some(match event {
        Ok(CodeEvent::Waiting { .. } | CodeEvent::Completed | CodeEvent::Proved { .. }) => {
            return None;
        }
        Ok(CodeEvent::Opened) => Step::Opened(code.clone()),
        Ok(CodeEvent::Confirm { tries_left }) => asking(code, tries_left),
        Ok(CodeEvent::ConfirmFailed) => Step::ConfirmFailed,
        Ok(CodeEvent::Expired) => Step::Expired,
        Ok(CodeEvent::Cancelled) => Step::Failed(ErrorCode::EnrolmentCancelled.into()),
        Err(e) => Step::Failed(e.into()),
    })
}

/// The code on screen ran out before any phone opened it.
pub fn ran_out(step: &Step, now_ms: f64) -> Option<Step> {
    match step {
        Step::ShowCode(code) if seconds_left(code, now_ms) == 0 => Some(Step::Expired),
        _ => None,
    }
}

/// What the confirmation's answer turns the screen into.
pub fn confirmed(asked: Step, answer: Result<SignedIn, ErrorCode>) -> Step {
    let Step::Confirm { code, tries_left, .. } = asked else { return asked };
    match answer {
        Ok(s) => Step::SignedIn(s),
        // The server counted exactly this entry; its event says the same, whichever is first.
        Err(ErrorCode::ConfirmationWrong) => Step::Confirm {
            code,
            tries_left: tries_left.saturating_sub(1).max(1),
            wrong: true,
            sending: false,
        },
        // Not six digits: not sent as a try.
        Err(ErrorCode::BadRequest) => {
            Step::Confirm { code, tries_left, wrong: true, sending: false }
        }
        Err(ErrorCode::ConfirmationFailed) => Step::ConfirmFailed,
        Err(e) => Step::Failed(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code() -> Code {
        Code { url: "https://a.example/signin/phone#t".into(), deadline_ms: 1000.0, replace: false }
    }

    fn asked() -> Step {
        asking(&code(), 3)
    }

    #[test]
    fn the_phones_progress_moves_the_screen() {
        assert_eq!(on_event(&code(), Ok(CodeEvent::Opened)), Some(Step::Opened(code())));
        assert_eq!(
            on_event(&code(), Ok(CodeEvent::Confirm { tries_left: 2 })),
            Some(asking(&code(), 2))
        );
        assert!(matches!(asking(&code(), 2), Step::Confirm { wrong: true, .. }));
        assert_eq!(on_event(&code(), Ok(CodeEvent::Completed)), None);
        assert_eq!(on_event(&code(), Ok(CodeEvent::Expired)), Some(Step::Expired));
        assert_eq!(on_event(&code(), Ok(CodeEvent::ConfirmFailed)), Some(Step::ConfirmFailed));
    }

    #[test]
    fn a_wrong_code_costs_a_try_and_a_typo_does_not() {
        let wrong = confirmed(asked(), Err(ErrorCode::ConfirmationWrong));
        assert_eq!(
            wrong,
            Step::Confirm { code: code(), tries_left: 2, wrong: true, sending: false }
        );
        let typo = confirmed(asked(), Err(ErrorCode::BadRequest));
        assert_eq!(
            typo,
            Step::Confirm { code: code(), tries_left: 3, wrong: true, sending: false }
        );
        assert_eq!(confirmed(asked(), Err(ErrorCode::ConfirmationFailed)), Step::ConfirmFailed);
    }

    #[test]
    fn the_code_runs_out_on_screen() {
        assert_eq!(ran_out(&Step::ShowCode(code()), 999.0), None);
        assert_eq!(ran_out(&Step::ShowCode(code()), 1000.0), Some(Step::Expired));
        assert_eq!(ran_out(&Step::Opened(code()), 5000.0), None);
    }
}
