//! 別紙2 on the phone as one explicit state enum: open the link, the login screen with the
//! 本人ID and (for a PC's code) the confirmation code to type on the PC, the biometric
//! registration once the PC confirmed, the label screen, completion.

use std::rc::Rc;

use mahpki_protocol::{
    ErrorCode,
    enrol::{EnrolmentOpened, PhoneBound, PhoneConfirm, RegisterPublicKeyCredential},
};

use crate::{
    flows::run::Failure,
    i18n::{Lang, Msg},
};

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

/// The label the phone's credential gets unless the holder changes it (the guide: "値はシステムで
/// 自動設定される"): in the page's language, with the phone's platform and the day, so two phones
/// tell apart in the list, e.g. 「スマートフォン (Android) 2026-12-02」. `platform` is the browser's
/// `userAgentData.platform` where it has one; the user agent string stands in otherwise.
pub fn default_label(
    lang: Lang,
    platform: Option<&str>,
    user_agent: &str,
    (y, m, d): (i64, u32, u32),
) -> String {
    let from_ua = ["iPhone", "iPad", "Android"].into_iter().find(|p| user_agent.contains(p));
    let device = Msg::PhoneLabelDevice.in_lang(lang);
    match platform.map(str::trim).filter(|p| !p.is_empty() && *p != "Unknown").or(from_ua) {
        Some(p) => format!("{device} ({p}) {y}-{m:02}-{d:02}"),
        None => format!("{device} {y}-{m:02}-{d:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_speak_the_pages_language_and_tell_phones_apart() {
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari";
        let day = (2026, 12, 2);
        assert_eq!(
            default_label(Lang::Ja, None, iphone, day),
            "スマートフォン (iPhone) 2026-12-02"
        );
        assert_eq!(
            default_label(Lang::En, None, "Linux; Android 14", (2026, 1, 2)),
            "Smartphone (Android) 2026-01-02"
        );
        // userAgentData's platform wins over a reduced user agent string.
        assert_eq!(
            default_label(Lang::Ja, Some("Android"), "Linux; K", day),
            "スマートフォン (Android) 2026-12-02"
        );
        assert_eq!(
            default_label(Lang::Ja, Some(""), "X11; Linux", day),
            "スマートフォン 2026-12-02"
        );
    }
}
