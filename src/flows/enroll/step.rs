//! 別紙2 on the phone as one explicit state enum: open the link, the login screen with the
//! 本人ID and (for a PC's code) the confirmation code to type on the PC, the biometric
//! registration once the PC confirmed, the label screen, completion.

use std::rc::Rc;

use mahpki_protocol::{
    ErrorCode,
    enrol::{EnrolmentOpened, PhoneBound, PhoneConfirm, RegisterPublicKeyCredential},
};

use crate::flows::card::Failure;

/// The credential the phone just created, held until the holder confirms the label.
#[derive(Debug, Clone)]
pub struct NewCredential(pub Rc<RegisterPublicKeyCredential>);

impl PartialEq for NewCredential {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Presenting the link's token to the server.
    Opening,
    /// The login screen: Username (本人ID) pre-filled and read-only; the confirmation code
    /// while the PC has not entered it, then 「登録」.
    Login(EnrolmentOpened),
    /// The phone's biometric prompt is up.
    Registering(EnrolmentOpened),
    /// ラベル登録: filled in already; the holder presses OK.
    Label {
        opened: EnrolmentOpened,
        credential: NewCredential,
        label: String,
    },
    Saving(EnrolmentOpened),
    /// 登録が完了しました. `link`: a CA's link, no PC to mention.
    Done {
        bound: PhoneBound,
        link: bool,
    },
    Failed {
        failure: Failure,
        opened: Option<EnrolmentOpened>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Register,
    ConfirmLabel(String),
    Retry,
}

/// A CA's link: no PC in the picture, so no screen may mention one.
pub fn is_link(opened: &EnrolmentOpened) -> bool {
    opened.confirm == PhoneConfirm::NotNeeded
}

impl Step {
    /// The confirmation code this phone shows while the PC has not entered it.
    pub fn confirmation(&self) -> Option<&str> {
        match self {
            Step::Login(EnrolmentOpened { confirm: PhoneConfirm::Show { code }, .. }) => Some(code),
            _ => None,
        }
    }

    /// Whether this page came from a CA's link (as far as it knows).
    pub fn link(&self) -> bool {
        match self {
            Step::Login(o) | Step::Registering(o) | Step::Saving(o) => is_link(o),
            Step::Label { opened, .. } => is_link(opened),
            Step::Done { link, .. } => *link,
            Step::Failed { opened: Some(o), .. } => is_link(o),
            Step::Failed { failure, opened: None } => {
                failure.code == ErrorCode::EnrolmentLinkExpired
            }
            Step::Opening => false,
        }
    }

    /// After a failure: only a cancelled or unsupported biometric prompt can be tried again on
    /// this phone with the same code; anything else needs a new code from the PC.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            Step::Failed { failure, opened: Some(_) }
                if matches!(failure.code, ErrorCode::WebauthnCancelled | ErrorCode::WebauthnFailed)
        )
    }

    pub fn name(&self) -> &'static str {
        match self {
            Step::Opening => "opening",
            Step::Login(_) => "login",
            Step::Registering(_) => "registering",
            Step::Label { .. } => "label",
            Step::Saving(_) => "saving",
            Step::Done { .. } => "done",
            Step::Failed { .. } => "failed",
        }
    }
}

/// The label the phone's credential gets unless the holder changes it: the kind of device and
/// the day (the guide: "値はシステムで自動設定される").
pub fn default_label(user_agent: &str, (y, m, d): (i64, u32, u32)) -> String {
    let device = if user_agent.contains("iPhone") {
        "iPhone"
    } else if user_agent.contains("iPad") {
        "iPad"
    } else if user_agent.contains("Android") {
        "Android"
    } else {
        "Smartphone"
    };
    format!("{device} {y}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_the_device_and_the_day() {
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari";
        assert_eq!(default_label(iphone, (2026, 11, 26)), "iPhone 2026-11-26");
        assert_eq!(default_label("Linux; Android 14", (2026, 1, 2)), "Android 2026-01-02");
        assert_eq!(default_label("X11; Linux", (2026, 1, 2)), "Smartphone 2026-01-02");
    }
}
