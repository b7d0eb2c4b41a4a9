//! 別紙2: binding a smartphone (a WebAuthn platform credential) to the holder.
//!
//! The PC, identified by the HPKI card, asks for an enrolment and shows the 2D code of
//! `https://<origin>/enrol#<token>`. The token travels only in the URL fragment, which browsers
//! never send to a server or put in a Referer; the phone reads it from the fragment and posts it
//! once, to `open`. From then on the phone is recognised by its own cookie, never by the token.
//!
//! | who   | request                                        | answer               |
//! |-------|------------------------------------------------|----------------------|
//! | PC    | `POST /api/smartphone/enrolments` [`EnrolmentRequest`] | [`EnrolmentIssued`] |
//! | PC    | `GET /api/smartphone/enrolments/current/events` (SSE)  | [`CodeEvent`]s |
//! | phone | `POST /api/enrol/open` [`OpenEnrolment`]      | [`EnrolmentOpened`]  |
//! | phone | `POST /api/enrol/begin`                       | [`RegistrationOptions`] |
//! | phone | `POST /api/enrol/finish` [`FinishEnrolment`]  | [`PhoneBound`]       |
//! | PC    | `DELETE /api/smartphone/enrolments/current` (中止: the code dies now) | 204 |
//! | PC    | `POST /api/jma/login` [`JmaLogin`] (JMA path, instead of the HPKI card) | `Holder` |
//! | PC    | `GET /api/smartphone/holder` (whose phone it enrols, however proved)   | `Holder` |
//! | PC    | `POST /api/smartphone/confirm` [`ConfirmCode`] (the code the phone shows) | [`Confirmed`] |
//! | phone | `GET /api/phone/confirmation/events` (SSE)     | [`PhoneConfirmEvent`]s |
//!
//! Confirmation (both flows): once a phone has opened a PC's code (and, in a change, once the old
//! phone passed its check), the server makes a short code shown only on that phone. The holder
//! types it on the PC; only then may that phone go on. Three wrong entries kill the code. A CA's
//! link has no PC and needs no confirmation.
//!
//! スマートフォン変更 (no HPKI card): the PC shows a first code for the phone bound now, which
//! proves the holder with a WebAuthn assertion; the PC's session may then issue an enrolment with
//! `replace` for the new phone, as above. The old phone works until the new one is committed.
//!
//! | who       | request                                          | answer                |
//! |-----------|--------------------------------------------------|-----------------------|
//! | PC        | `POST /api/smartphone/change`                    | [`ChangeIssued`]      |
//! | PC        | `GET /api/smartphone/change/current/events` (SSE) | [`CodeEvent`]s     |
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
pub const ENROL_PATH: &str = "/enrol";

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
    /// `https://<origin>/enrol#<token>`: the content of the 2D code. Secret until used.
    pub url: String,
    /// Seconds until the code can no longer be opened (the PC's countdown).
    pub expires_in_secs: u32,
    pub replace: bool,
}

impl std::fmt::Debug for EnrolmentIssued {
    /// The URL carries the token: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrolmentIssued")
            .field("expires_in_secs", &self.expires_in_secs)
            .field("replace", &self.replace)
            .finish_non_exhaustive()
    }
}

/// `POST /api/enrol/open`: the phone presents the token from the URL fragment.
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
    /// Seconds the phone has to finish.
    pub expires_in_secs: u32,
    pub replace: bool,
    /// What the phone shows before it may register.
    pub confirm: PhoneConfirm,
}

/// The confirmation a phone faces once it opened a code.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case", try_from = "PhoneConfirmWire")]
pub enum PhoneConfirm {
    /// A CA's link: no PC, nothing to confirm.
    NotNeeded,
    /// Show `code` and wait until the PC entered it (see [`PhoneConfirmEvent`]).
    Show { code: String },
    /// The PC already entered it (the phone reloaded its page).
    Done,
}

// The internally tagged enums the app reads are read through a flat wire struct (the tag and
// each variant's fields side by side): serde's own reading of an internally tagged enum first
// copies the object into a generic tree, code every page that reads one downloaded (issue 14).
// Same JSON; a variant's missing field is still an error.

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum PhoneConfirmTag {
    NotNeeded,
    Show,
    Done,
}

#[derive(Deserialize)]
struct PhoneConfirmWire {
    state: PhoneConfirmTag,
    code: Option<String>,
}

impl TryFrom<PhoneConfirmWire> for PhoneConfirm {
    type Error = &'static str;

    fn try_from(w: PhoneConfirmWire) -> Result<Self, Self::Error> {
        Ok(match w.state {
            PhoneConfirmTag::NotNeeded => Self::NotNeeded,
            PhoneConfirmTag::Show => Self::Show { code: w.code.ok_or("missing field `code`")? },
            PhoneConfirmTag::Done => Self::Done,
        })
    }
}

impl std::fmt::Debug for PhoneConfirm {
    /// The code is for the holder's eyes only: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotNeeded => f.write_str("NotNeeded"),
            Self::Show { .. } => f.write_str("Show { .. }"),
            Self::Done => f.write_str("Done"),
        }
    }
}

/// `POST /api/smartphone/confirm` (PC): the code the phone shows, as the holder typed it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub struct ConfirmCode {
    pub code: String,
}

impl std::fmt::Debug for ConfirmCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfirmCode").finish_non_exhaustive()
    }
}

/// Answer to [`ConfirmCode`]: the code was right; the phone hears it and goes on. A wrong code
/// is answered `confirmation_wrong` (the tries left come with the PC's next event), the third
/// `confirmation_failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmed {}

/// What the phone hears about its confirmation (SSE, keyed by the phone's cookie). The current
/// state comes first on connect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case", try_from = "PhoneConfirmEventWire")]
pub enum PhoneConfirmEvent {
    /// Still waiting for the PC; `tries_left` wrong entries remain.
    Pending { tries_left: u8 },
    /// The PC entered the right code: the phone may go on.
    Confirmed,
    /// Three wrong entries: this phone can never finish with this code.
    Failed,
    /// The code ended otherwise (中止 on the PC, a newer code, or it ran out).
    Ended,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum PhoneConfirmEventTag {
    Pending,
    Confirmed,
    Failed,
    Ended,
}

/// [`PhoneConfirmEvent`] as read (see [`PhoneConfirmWire`]).
#[derive(Deserialize)]
struct PhoneConfirmEventWire {
    event: PhoneConfirmEventTag,
    tries_left: Option<u8>,
}

impl TryFrom<PhoneConfirmEventWire> for PhoneConfirmEvent {
    type Error = &'static str;

    fn try_from(w: PhoneConfirmEventWire) -> Result<Self, Self::Error> {
        Ok(match w.event {
            PhoneConfirmEventTag::Pending => {
                Self::Pending { tries_left: w.tries_left.ok_or("missing field `tries_left`")? }
            }
            PhoneConfirmEventTag::Confirmed => Self::Confirmed,
            PhoneConfirmEventTag::Failed => Self::Failed,
            PhoneConfirmEventTag::Ended => Self::Ended,
        })
    }
}

impl PhoneConfirmEvent {
    pub const NAMES: &'static [&'static str] = &["pending", "confirmed", "failed", "ended"];

    pub fn name(&self) -> &'static str {
        match self {
            Self::Pending { .. } => "pending",
            Self::Confirmed => "confirmed",
            Self::Failed => "failed",
            Self::Ended => "ended",
        }
    }

    pub fn is_final(&self) -> bool {
        !matches!(self, Self::Pending { .. })
    }
}

/// Answer to `POST /api/enrol/begin`: hand `options` to `navigator.credentials.create()`
/// (webauthn-rs-proto's `wasm` feature converts it to `CredentialCreationOptions`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegistrationOptions {
    pub options: CreationChallengeResponse,
}

/// `POST /api/enrol/finish`: the new credential and the label the holder confirmed.
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

/// What the PC hears about the code it shows, for both purposes (an enrolment code, a change's
/// first code; SSE: the variant name is the `event:` field, the whole value, JSON, the `data:`
/// field). The current state comes first on connect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case", try_from = "CodeEventWire")]
pub enum CodeEvent {
    /// Issued, not yet opened: keep showing the 2D code.
    Waiting { expires_in_secs: u32 },
    /// A phone shows a confirmation code: ask for it ("スマートフォンに表示されている確認コードを
    /// 入力してください"), with the tries left. (An enrolment: once a phone opened it; a change:
    /// once the old phone passed its check.)
    Confirm { tries_left: u8 },
    /// The phone is at work and nothing is asked of the PC: "スマートフォンで操作を続けてください".
    /// (An enrolment: the PC entered the phone's code; a change: the old phone opened it.)
    Opened,
    /// An enrolment's phone credential is committed: show completion.
    Completed,
    /// A change's old phone proved `hpki_id` and the PC entered its code: issue the enrolment
    /// (`replace`) for the new phone.
    Proved { hpki_id: HpkiId },
    /// Nobody finished in time: "有効期限が切れました" and a re-issue button.
    Expired,
    /// A newer code replaced it (another tab or PC), or 中止.
    Cancelled,
    /// Three wrong confirmation codes: the code is dead, this PC gets nothing from it.
    ConfirmFailed,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum CodeEventTag {
    Waiting,
    Confirm,
    Opened,
    Completed,
    Proved,
    Expired,
    Cancelled,
    ConfirmFailed,
}

/// [`CodeEvent`] as read (see [`PhoneConfirmWire`]).
#[derive(Deserialize)]
struct CodeEventWire {
    event: CodeEventTag,
    expires_in_secs: Option<u32>,
    tries_left: Option<u8>,
    hpki_id: Option<HpkiId>,
}

impl TryFrom<CodeEventWire> for CodeEvent {
    type Error = &'static str;

    fn try_from(w: CodeEventWire) -> Result<Self, Self::Error> {
        Ok(match w.event {
            CodeEventTag::Waiting => Self::Waiting {
                expires_in_secs: w.expires_in_secs.ok_or("missing field `expires_in_secs`")?,
            },
            CodeEventTag::Confirm => {
                Self::Confirm { tries_left: w.tries_left.ok_or("missing field `tries_left`")? }
            }
            CodeEventTag::Opened => Self::Opened,
            CodeEventTag::Completed => Self::Completed,
            CodeEventTag::Proved => {
                Self::Proved { hpki_id: w.hpki_id.ok_or("missing field `hpki_id`")? }
            }
            CodeEventTag::Expired => Self::Expired,
            CodeEventTag::Cancelled => Self::Cancelled,
            CodeEventTag::ConfirmFailed => Self::ConfirmFailed,
        })
    }
}

impl CodeEvent {
    /// Every SSE `event:` name, for a client that listens by name.
    pub const NAMES: &'static [&'static str] = &[
        "waiting",
        "confirm",
        "opened",
        "completed",
        "proved",
        "expired",
        "cancelled",
        "confirm_failed",
    ];

    /// The SSE `event:` name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Waiting { .. } => "waiting",
            Self::Confirm { .. } => "confirm",
            Self::Opened => "opened",
            Self::Completed => "completed",
            Self::Proved { .. } => "proved",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
            Self::ConfirmFailed => "confirm_failed",
        }
    }

    /// No further event follows this one.
    pub fn is_final(&self) -> bool {
        !matches!(self, Self::Waiting { .. } | Self::Confirm { .. } | Self::Opened)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_by_listed_names() {
        let hpki_id = HpkiId::parse("HP0000000001").unwrap();
        let all = [
            CodeEvent::Waiting { expires_in_secs: 300 },
            CodeEvent::Confirm { tries_left: 3 },
            CodeEvent::Opened,
            CodeEvent::Completed,
            CodeEvent::Proved { hpki_id },
            CodeEvent::Expired,
            CodeEvent::Cancelled,
            CodeEvent::ConfirmFailed,
        ];
        for e in &all {
            let json = serde_json::to_value(e).unwrap();
            assert_eq!(json["event"], e.name());
            assert!(CodeEvent::NAMES.contains(&e.name()));
            assert_eq!(&serde_json::from_value::<CodeEvent>(json).unwrap(), e);
        }
        assert_eq!(all.len(), CodeEvent::NAMES.len());
    }

    #[test]
    fn phone_events_are_tagged_by_listed_names() {
        for e in [
            PhoneConfirmEvent::Pending { tries_left: 3 },
            PhoneConfirmEvent::Confirmed,
            PhoneConfirmEvent::Failed,
            PhoneConfirmEvent::Ended,
        ] {
            let json = serde_json::to_value(&e).unwrap();
            assert_eq!(json["event"], e.name());
            assert!(PhoneConfirmEvent::NAMES.contains(&e.name()));
            assert_eq!(serde_json::from_value::<PhoneConfirmEvent>(json).unwrap(), e);
        }
    }

    #[test]
    fn an_event_or_confirmation_without_its_field_is_refused() {
        let missing = [
            serde_json::from_str::<CodeEvent>(r#"{"event":"waiting"}"#).map(drop),
            serde_json::from_str::<CodeEvent>(r#"{"event":"confirm"}"#).map(drop),
            serde_json::from_str::<CodeEvent>(r#"{"event":"proved"}"#).map(drop),
            serde_json::from_str::<CodeEvent>(r#"{"event":"proved","hpki_id":"<b>"}"#).map(drop),
            serde_json::from_str::<CodeEvent>(r#"{"event":"nope"}"#).map(drop),
            serde_json::from_str::<PhoneConfirmEvent>(r#"{"event":"pending"}"#).map(drop),
            serde_json::from_str::<PhoneConfirm>(r#"{"state":"show"}"#).map(drop),
            serde_json::from_str::<PhoneConfirm>(r#"{"code":"1234"}"#).map(drop),
        ];
        for (i, r) in missing.into_iter().enumerate() {
            assert!(r.is_err(), "case {i}");
        }
        let show: PhoneConfirm = serde_json::from_str(r#"{"state":"show","code":"1234"}"#).unwrap();
        assert_eq!(show, PhoneConfirm::Show { code: "1234".into() });
    }

    #[test]
    fn confirmation_codes_are_never_printed() {
        let c = ConfirmCode { code: "987654".into() };
        assert!(!format!("{c:?}").contains("987654"));
        let s = PhoneConfirm::Show { code: "987654".into() };
        assert!(!format!("{s:?}").contains("987654"));
        let p = ChangeProved {
            hpki_id: HpkiId::parse("HP0000000001").unwrap(),
            confirm: PhoneConfirm::Show { code: "987654".into() },
        };
        assert!(!format!("{p:?}").contains("987654"));
    }

    #[test]
    fn token_is_never_printed() {
        let o = OpenEnrolment { token: "secret-token".into() };
        assert!(!format!("{o:?}").contains("secret"));
        let i = EnrolmentIssued {
            url: "https://a.example/enroll#secret-token".into(),
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
    pub expires_in_secs: u32,
}

impl std::fmt::Debug for ChangeIssued {
    /// The URL carries the token: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeIssued")
            .field("expires_in_secs", &self.expires_in_secs)
            .finish_non_exhaustive()
    }
}

/// Answer to `POST /api/change/open` (the body is an [`OpenEnrolment`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeOpened {
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

/// Answer to [`ChangeFinish`]: the old phone passed; it shows `confirm` (always
/// [`PhoneConfirm::Show`] here) until the PC entered it, and only then does the PC get to enrol
/// the new phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeProved {
    pub hpki_id: HpkiId,
    pub confirm: PhoneConfirm,
}
