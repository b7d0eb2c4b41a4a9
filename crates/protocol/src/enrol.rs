//! 別紙2: binding a smartphone (a WebAuthn platform credential) to the holder.
//!
//! The PC, identified by the HPKI card, asks for an enrolment and shows the 2D code of
//! `https://<origin>/enroll#<token>`. The token travels only in the URL fragment, which browsers
//! never send to a server or put in a Referer; the phone reads it from the fragment and posts it
//! once, to `open`. From then on the phone is recognised by its own cookie, never by the token.
//!
//! | who   | request                                        | answer               |
//! |-------|------------------------------------------------|----------------------|
//! | PC    | `POST /api/smartphone/enrolments` [`EnrolmentRequest`] | [`EnrolmentIssued`] |
//! | PC    | `GET /api/smartphone/enrolments/current/events` (SSE)  | [`EnrolmentEvent`]s |
//! | phone | `POST /api/enroll/open` [`OpenEnrolment`]      | [`EnrolmentOpened`]  |
//! | phone | `POST /api/enroll/begin`                       | [`RegistrationOptions`] |
//! | phone | `POST /api/enroll/finish` [`FinishEnrolment`]  | [`PhoneBound`]       |
//! | PC    | `DELETE /api/smartphone/enrolments/current` (中止: the code dies now) | 204 |
//! | PC    | `POST /api/jma/login` [`JmaLogin`] (JMA path, instead of the HPKI card) | `Holder` |
//! | PC    | `GET /api/smartphone/holder` (whose phone it enrols, however proved)   | `Holder` |
//!
//! スマートフォン変更 (no HPKI card): the PC shows a first code for the phone bound now, which
//! proves the holder with a WebAuthn assertion; the PC's session may then issue an enrolment with
//! `replace` for the new phone, as above. The old phone works until the new one is committed.
//!
//! | who       | request                                          | answer                |
//! |-----------|--------------------------------------------------|-----------------------|
//! | PC        | `POST /api/smartphone/change`                    | [`ChangeIssued`]      |
//! | PC        | `GET /api/smartphone/change/current/events` (SSE) | [`ChangeEvent`]s     |
//! | old phone | `POST /api/change/open` [`OpenEnrolment`]        | [`ChangeOpened`]      |
//! | old phone | `POST /api/change/begin` [`ChangeBegin`]         | [`AssertionOptions`]  |
//! | old phone | `POST /api/change/finish` [`ChangeFinish`]       | [`ChangeProved`]      |
//! | PC        | `DELETE /api/smartphone/change/current` (中止)   | 204                   |

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

pub use webauthn_rs_proto::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};

use crate::HpkiId;

/// Path of the phone page; the token follows as the fragment.
pub const ENROLL_PATH: &str = "/enroll";

/// Path of the old phone's page in a change of phones; the token follows as the fragment.
pub const CHANGE_PATH: &str = "/change";

/// Longest phone label accepted, in characters.
pub const LABEL_MAX_CHARS: usize = 64;

/// `POST /api/smartphone/enrolments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentRequest {
    /// The holder answered はい to "デバイスがすでに登録済みとなっています。…": the phone bound now
    /// stops working when (and only when) the new one is committed.
    #[serde(default)]
    pub replace: bool,
}

/// Answer to [`EnrolmentRequest`]: what the PC shows. Issuing cancels the holder's earlier
/// enrolment, if one was still open.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct EnrolmentIssued {
    /// `https://<origin>/enroll#<token>`: the content of the 2D code. Secret until used.
    pub url: String,
    /// Short code shown on both screens, so the holder sees the phone opened this PC's code.
    #[zeroize(skip)]
    pub code: String,
    /// Seconds until the code can no longer be opened (the PC's countdown).
    pub expires_in_secs: u32,
    pub replace: bool,
}

impl std::fmt::Debug for EnrolmentIssued {
    /// The URL carries the token: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrolmentIssued")
            .field("code", &self.code)
            .field("expires_in_secs", &self.expires_in_secs)
            .field("replace", &self.replace)
            .finish_non_exhaustive()
    }
}

/// `POST /api/enroll/open`: the phone presents the token from the URL fragment.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub struct OpenEnrolment {
    pub token: String,
}

impl std::fmt::Debug for OpenEnrolment {
    /// The token is a bearer secret: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenEnrolment").finish_non_exhaustive()
    }
}

/// Answer to [`OpenEnrolment`]: what the phone's login screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentOpened {
    /// Username, pre-filled and read-only.
    pub hpki_id: HpkiId,
    /// The same code the PC shows.
    pub code: String,
    /// Seconds the phone has to finish.
    pub expires_in_secs: u32,
    pub replace: bool,
}

/// Answer to `POST /api/enroll/begin`: hand `options` to `navigator.credentials.create()`
/// (webauthn-rs-proto's `wasm` feature converts it to `CredentialCreationOptions`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegistrationOptions {
    pub options: CreationChallengeResponse,
}

/// `POST /api/enroll/finish`: the new credential and the label the holder confirmed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinishEnrolment {
    pub credential: RegisterPublicKeyCredential,
    /// 1 to [`LABEL_MAX_CHARS`] characters, no control characters.
    pub label: String,
}

/// `POST /api/jma/login`: the JMA path, for holders whose CA allows it: the numbers printed on
/// the HPKI card instead of the card itself. Answered with the [`crate::api::Holder`]; the
/// session may then enrol a phone for that holder (and nothing else).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub struct JmaLogin {
    /// 医籍登録番号.
    pub registration_number: String,
    /// カードID.
    pub card_id: String,
}

impl std::fmt::Debug for JmaLogin {
    /// The card ID is half of a (weak) secret: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JmaLogin")
            .field("registration_number", &self.registration_number)
            .finish_non_exhaustive()
    }
}

/// A bound phone as the holder sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneCredential {
    /// The WebAuthn credential id, base64url.
    pub credential_id: String,
    pub label: String,
    /// Unix seconds.
    pub bound_at: i64,
}

/// Answer to [`FinishEnrolment`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneBound {
    pub phone: PhoneCredential,
    /// The phone this one replaced, revoked in the same transaction.
    pub replaced: Option<PhoneCredential>,
}

/// What the PC hears about its current enrolment (SSE: the variant name is the `event:` field,
/// the whole value, JSON, the `data:` field). The current state comes first on connect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EnrolmentEvent {
    /// Issued, not yet opened: keep showing the 2D code.
    Waiting { code: String, expires_in_secs: u32 },
    /// A phone opened it: "スマートフォンで操作を続けてください" with the code.
    Opened { code: String },
    /// The phone's credential is committed: show completion.
    Completed,
    /// Nobody finished in time: "有効期限が切れました" and a re-issue button.
    Expired,
    /// A newer enrolment replaced it (another tab or PC of the same holder).
    Cancelled,
}

impl EnrolmentEvent {
    /// Every SSE `event:` name, for a client that listens by name.
    pub const NAMES: &'static [&'static str] =
        &["waiting", "opened", "completed", "expired", "cancelled"];

    /// The SSE `event:` name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Waiting { .. } => "waiting",
            Self::Opened { .. } => "opened",
            Self::Completed => "completed",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }

    /// No further event follows this one.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Completed | Self::Expired | Self::Cancelled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_by_name() {
        for e in [
            EnrolmentEvent::Waiting { code: "123456".into(), expires_in_secs: 300 },
            EnrolmentEvent::Opened { code: "123456".into() },
            EnrolmentEvent::Completed,
            EnrolmentEvent::Expired,
            EnrolmentEvent::Cancelled,
        ] {
            let json = serde_json::to_value(&e).unwrap();
            assert_eq!(json["event"], e.name());
            assert!(EnrolmentEvent::NAMES.contains(&e.name()));
            assert_eq!(serde_json::from_value::<EnrolmentEvent>(json).unwrap(), e);
        }
    }

    #[test]
    fn change_events_are_tagged_by_listed_names() {
        let hpki_id = HpkiId::parse("HP0000000001").unwrap();
        for e in [
            ChangeEvent::Waiting { code: "123456".into(), expires_in_secs: 300 },
            ChangeEvent::Opened { code: "123456".into() },
            ChangeEvent::Proved { hpki_id },
            ChangeEvent::Expired,
            ChangeEvent::Cancelled,
        ] {
            let json = serde_json::to_value(&e).unwrap();
            assert_eq!(json["event"], e.name());
            assert!(ChangeEvent::NAMES.contains(&e.name()));
            assert_eq!(serde_json::from_value::<ChangeEvent>(json).unwrap(), e);
        }
    }

    #[test]
    fn token_is_never_printed() {
        let o = OpenEnrolment { token: "secret-token".into() };
        assert!(!format!("{o:?}").contains("secret"));
        let i = EnrolmentIssued {
            url: "https://a.example/enroll#secret-token".into(),
            code: "123456".into(),
            expires_in_secs: 300,
            replace: false,
        };
        assert!(!format!("{i:?}").contains("secret"));
    }

    #[test]
    fn replace_defaults_to_false() {
        let r: EnrolmentRequest = serde_json::from_str("{}").unwrap();
        assert!(!r.replace);
    }
}

/// Answer to `POST /api/smartphone/change`: the first code, for the phone bound now.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct ChangeIssued {
    /// `https://<origin>/change#<token>`. Secret until used.
    pub url: String,
    #[zeroize(skip)]
    pub code: String,
    pub expires_in_secs: u32,
}

impl std::fmt::Debug for ChangeIssued {
    /// The URL carries the token: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeIssued")
            .field("code", &self.code)
            .field("expires_in_secs", &self.expires_in_secs)
            .finish_non_exhaustive()
    }
}

/// Answer to `POST /api/change/open` (the body is an [`OpenEnrolment`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeOpened {
    pub code: String,
    pub expires_in_secs: u32,
}

/// `POST /api/change/begin`: whose phone this is (the login screen's Username).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeBegin {
    pub hpki_id: HpkiId,
}

/// Answer to [`ChangeBegin`]: hand `options` to `navigator.credentials.get()`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AssertionOptions {
    pub options: RequestChallengeResponse,
}

/// `POST /api/change/finish`: the old phone's assertion.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeFinish {
    pub credential: PublicKeyCredential,
}

/// Answer to [`ChangeFinish`]: the phone may tell the holder to continue on the PC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeProved {
    pub hpki_id: HpkiId,
}

/// What the PC hears about its first code (SSE, like [`EnrolmentEvent`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ChangeEvent {
    Waiting {
        code: String,
        expires_in_secs: u32,
    },
    /// The old phone opened it.
    Opened {
        code: String,
    },
    /// The old phone proved the holder: issue the enrolment (`replace`) for the new phone.
    Proved {
        hpki_id: HpkiId,
    },
    Expired,
    /// A newer first code replaced it.
    Cancelled,
}

impl ChangeEvent {
    /// Every SSE `event:` name, for a client that listens by name.
    pub const NAMES: &'static [&'static str] =
        &["waiting", "opened", "proved", "expired", "cancelled"];

    pub fn name(&self) -> &'static str {
        match self {
            Self::Waiting { .. } => "waiting",
            Self::Opened { .. } => "opened",
            Self::Proved { .. } => "proved",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn is_final(&self) -> bool {
        matches!(self, Self::Proved { .. } | Self::Expired | Self::Cancelled)
    }
}
