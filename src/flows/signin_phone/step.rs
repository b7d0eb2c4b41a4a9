//! The phone's sign-in page (`/signin/phone`) as one explicit state enum. Opened from a PC's 2D
//! code (a token in the fragment), it signs that PC in: passkey check, then the confirmation
//! code for the PC. Opened directly, it signs this phone in.

use mahpki_protocol::{
    ErrorCode,
    api::SignedIn,
    enrol::{PhoneConfirm, PhoneConfirmEvent},
    passkey::SignInCodeProved,
};

use crate::flows::run::Failure;

/// Whom the page signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum For {
    /// This phone's own browser.
    ThisPhone,
    /// The PC whose 2D code this phone opened.
    Pc,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Presenting the PC's token.
    Opening,
    /// 「パスキーでサインイン」 (the press is the user gesture the phone's prompt needs).
    Ready(For),
    /// The passkey prompt is up.
    Checking(For),
    /// The PC's code passed: show the confirmation code until the PC entered it.
    Confirming { code: String },
    /// The PC entered it and is signed in.
    PcSignedIn,
    /// This phone is signed in; the page moves on.
    SignedIn(SignedIn),
    Failed {
        failure: Failure,
        /// `Some` while the same start may be tried again (a cancelled prompt).
        retry: Option<For>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SignIn,
    Retry,
}

impl Step {
    pub fn name(&self) -> &'static str {
        match self {
            Step::Opening => "opening",
            Step::Ready(_) => "ready",
            Step::Checking(_) => "checking",
            Step::Confirming { .. } => "confirming",
            Step::PcSignedIn => "pc-signed-in",
            Step::SignedIn(_) => "signed-in",
            Step::Failed { .. } => "failed",
        }
    }

    /// The confirmation code on screen, while the PC has not entered it.
    pub fn confirmation(&self) -> Option<&str> {
        match self {
            Step::Confirming { code } => Some(code),
            _ => None,
        }
    }
}

/// A failed passkey check: the prompt may be tried again when only the phone's side failed (a
/// cancelled prompt, a challenge that ran out); anything else needs a new start.
pub fn failed(who: For, code: ErrorCode) -> Step {
    let again = matches!(
        code,
        ErrorCode::PasskeyCancelled
            | ErrorCode::PasskeyChallengeUnknown
            | ErrorCode::PasskeyNotVerified
            | ErrorCode::WebauthnUnsupported
    );
    // A PC's code is answered once: after a refused answer its challenge is gone, but the code
    // lives on and a new challenge can be asked for.
    Step::Failed { failure: code.into(), retry: again.then_some(who) }
}

/// What the phone's passkey answer to a PC's code turns the screen into.
pub fn proved(answer: Result<SignInCodeProved, ErrorCode>) -> Step {
    match answer {
        Ok(SignInCodeProved { confirm: PhoneConfirm::Show { code } }) => Step::Confirming { code },
        Ok(_) => Step::PcSignedIn,
        Err(e) => failed(For::Pc, e),
    }
}

/// What the server's word about the confirmation turns the screen into.
pub fn on_confirm(event: Result<PhoneConfirmEvent, ErrorCode>) -> Option<Step> {
    let ended = |code: ErrorCode| Step::Failed { failure: code.into(), retry: None };
    Some(match event {
        Ok(PhoneConfirmEvent::Pending { .. }) => return None,
        Ok(PhoneConfirmEvent::Confirmed) => Step::PcSignedIn,
        Ok(PhoneConfirmEvent::Failed) => ended(ErrorCode::ConfirmationFailed),
        Ok(PhoneConfirmEvent::Ended) => ended(ErrorCode::EnrolmentCancelled),
        Err(e) => ended(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_prompt_may_be_tried_again_a_refused_passkey_not() {
        assert!(matches!(
            failed(For::Pc, ErrorCode::PasskeyCancelled),
            Step::Failed { retry: Some(For::Pc), .. }
        ));
        assert!(matches!(
            failed(For::ThisPhone, ErrorCode::PasskeyUnknown),
            Step::Failed { retry: None, .. }
        ));
    }

    #[test]
    fn the_phone_shows_the_code_until_the_pc_entered_it() {
        let shown =
            proved(Ok(SignInCodeProved { confirm: PhoneConfirm::Show { code: "123456".into() } }));
        assert_eq!(shown.confirmation(), Some("123456"));
        assert_eq!(on_confirm(Ok(PhoneConfirmEvent::Pending { tries_left: 2 })), None);
        assert_eq!(on_confirm(Ok(PhoneConfirmEvent::Confirmed)), Some(Step::PcSignedIn));
        assert!(matches!(
            on_confirm(Ok(PhoneConfirmEvent::Failed)),
            Some(Step::Failed { retry: None, .. })
        ));
    }
}
