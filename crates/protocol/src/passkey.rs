//! The スマートフォン way of the daily sign-in (issue 12): the bound phone's passkey, asked for
//! without a 本人ID (a discoverable credential), with user verification.
//!
//! On the device itself (the phone, or a PC whose browser reaches the phone itself):
//!
//! | who     | request                                         | answer                 |
//! |---------|-------------------------------------------------|------------------------|
//! | browser | `POST /api/signin/passkey/begin`                | [`AssertionOptions`]   |
//! | browser | `POST /api/signin/passkey/finish` [`PasskeyAnswer`] | `SignedIn` + cookie |
//!
//! From a PC through the phone: the PC shows a sign-in code (2D code of
//! `https://<origin>/signin/phone#<token>`); the phone opens it, passes its passkey check and
//! shows a confirmation code; the holder types it on the PC, whose answer signs the PC in (the
//! phone never gets the PC's signing cookie).
//!
//! | who   | request                                                    | answer                |
//! |-------|------------------------------------------------------------|-----------------------|
//! | PC    | `POST /api/signin/phone`                                   | [`SignInCodeIssued`]  |
//! | PC    | `GET /api/signin/phone/current/events` (SSE)               | `CodeEvent`s          |
//! | phone | `POST /api/signin/phone/open` [`OpenEnrolment`]            | [`SignInCodeOpened`]  |
//! | phone | `POST /api/signin/phone/begin`                             | [`AssertionOptions`]  |
//! | phone | `POST /api/signin/phone/finish` [`PasskeyAnswer`]          | [`SignInCodeProved`]  |
//! | phone | `GET /api/phone/confirmation/events` (SSE)                 | `PhoneConfirmEvent`s  |
//! | PC    | `POST /api/smartphone/confirm` [`ConfirmCode`]             | `Confirmed` + the signing cookie |
//! | PC    | `DELETE /api/signin/phone/current` (中止)                  | 204                   |
//!
//! The PC hears `waiting`, `opened` (the phone is at its passkey check), `confirm` (ask for the
//! code), `completed` (signed in), `confirm_failed`, `expired`, `cancelled`.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

pub use crate::enrol::{AssertionOptions, PhoneConfirm, PublicKeyCredential};
#[cfg(doc)]
use crate::enrol::{ConfirmCode, OpenEnrolment};

/// Path of the phone's sign-in page; a PC's token follows as the fragment.
pub const SIGNIN_PHONE_PATH: &str = "/signin/phone";

/// Answer to `POST /api/signin/phone`: what the PC shows.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct SignInCodeIssued {
    /// `https://<origin>/signin/phone#<token>`: the 2D code's content. Secret until used.
    pub url: String,
    pub expires_in_secs: u32,
}

impl std::fmt::Debug for SignInCodeIssued {
    /// The URL carries the token: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInCodeIssued")
            .field("expires_in_secs", &self.expires_in_secs)
            .finish_non_exhaustive()
    }
}

/// Answer to `POST /api/signin/phone/open`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInCodeOpened {
    pub expires_in_secs: u32,
}

/// A passkey's answer to the options of a `begin`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeyAnswer {
    pub credential: PublicKeyCredential,
}

/// Answer to `POST /api/signin/phone/finish`: the phone passed; it shows `confirm` (always
/// [`PhoneConfirm::Show`]) until the PC entered it. It names no holder: the phone's page has
/// nothing to show but the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInCodeProved {
    pub confirm: PhoneConfirm,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_never_printed() {
        let i = SignInCodeIssued {
            url: "https://a.example/signin/phone#secret-token".into(),
            expires_in_secs: 300,
        };
        assert!(!format!("{i:?}").contains("secret"));
        let p = SignInCodeProved { confirm: PhoneConfirm::Show { code: "987654".into() } };
        assert!(!format!("{p:?}").contains("987654"));
    }
}
