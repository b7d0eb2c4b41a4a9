//! スマートフォン変更 on the old phone (`/change#<token>`) as one explicit state enum: open the
//! first code, log in with the 本人ID, prove the phone with its biometrics, show the
//! confirmation code until the PC entered it, then back to the PC.

use mahpki_protocol::{
    ErrorCode, HpkiId,
    enrol::{ChangeOpened, ChangeProved, PhoneConfirm},
};

use crate::flows::run::Failure;

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Presenting the first code's token to the server.
    Opening,
    /// The login screen: Username (本人ID), filled in when this phone registered it, and
    /// 「ログイン」. `invalid` after an entry that cannot be a 本人ID.
    Login { opened: ChangeOpened, hpki_id: String, invalid: bool },
    /// The phone's biometric prompt is up.
    Proving(ChangeOpened, HpkiId),
    /// The phone passed: it shows the confirmation code until the PC entered it.
    Confirming(ChangeProved),
    /// The PC entered the code; it shows the second code.
    Done,
    Failed {
        failure: Failure,
        /// Present while the same code may be tried again on this phone.
        opened: Option<(ChangeOpened, String)>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// 「ログイン」 with the Username as entered.
    Login(String),
    Retry,
}

impl Step {
    /// The confirmation code this phone shows while the PC has not entered it.
    pub fn confirmation(&self) -> Option<&str> {
        match self {
            Step::Confirming(ChangeProved { confirm: PhoneConfirm::Show { code }, .. }) => {
                Some(code)
            }
            _ => None,
        }
    }

    /// A cancelled biometric prompt, a failed assertion or a 本人ID without a phone can be tried
    /// again with the same code; anything else needs a new first code from the PC.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            Step::Failed { failure, opened: Some(_) }
                if matches!(
                    failure.code,
                    ErrorCode::WebauthnNotProved | ErrorCode::WebauthnFailed | ErrorCode::PhoneNotBound
                )
        )
    }

    pub fn name(&self) -> &'static str {
        match self {
            Step::Opening => "opening",
            Step::Login { .. } => "login",
            Step::Proving(..) => "proving",
            Step::Confirming(_) => "confirming",
            Step::Done => "done",
            Step::Failed { .. } => "failed",
        }
    }
}

/// What 「ログイン」 leads to: the biometric prompt for a well-formed 本人ID, else the login screen
/// again saying what a 本人ID looks like.
pub fn login(opened: ChangeOpened, entered: &str) -> Step {
    let entered = entered.trim();
    match HpkiId::parse(entered) {
        Ok(id) => Step::Proving(opened, id),
        Err(_) => Step::Login { opened, hpki_id: entered.to_owned(), invalid: true },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opened() -> ChangeOpened {
        ChangeOpened { expires_in_secs: 300 }
    }

    #[test]
    fn only_a_well_formed_hpki_id_reaches_the_biometric_prompt() {
        assert_eq!(
            login(opened(), " HP0000000001 "),
            Step::Proving(opened(), HpkiId::parse("HP0000000001").unwrap())
        );
        for bad in ["", "HP 1", "本人", "<script>"] {
            assert!(matches!(login(opened(), bad), Step::Login { invalid: true, .. }), "{bad}");
        }
    }

    #[test]
    fn only_the_phones_own_failures_are_retried_here() {
        let failed = |code: ErrorCode| Step::Failed {
            failure: code.into(),
            opened: Some((opened(), "HP0000000001".into())),
        };
        assert!(failed(ErrorCode::WebauthnNotProved).retryable());
        assert!(failed(ErrorCode::PhoneNotBound).retryable());
        assert!(!failed(ErrorCode::EnrolmentExpired).retryable());
        assert!(
            !Step::Failed { failure: ErrorCode::WebauthnFailed.into(), opened: None }.retryable()
        );
    }
}
