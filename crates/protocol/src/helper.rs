//! The local helper's API (`http://127.0.0.1:<port>/v1/…`), as the page sees it.
//!
//! Flow: `POST /v1/operations` with [`StartOperation`] → [`OperationCreated`]; open
//! [`OperationCreated::pin_page`] for the holder; poll `GET /v1/operations/{id}` →
//! [`OperationStatus`] until its state is `done` or `failed`; `DELETE /v1/operations/{id}` cancels.
//! Errors outside an operation's state are [`crate::error::ErrorBody`]. Binary values are unpadded
//! base64url, as in the server's API, so the page hands the card's answer on unchanged.

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;

/// Default port the helper listens on, on 127.0.0.1.
pub const DEFAULT_PORT: u16 = 24365;

/// Length of the server challenge the card signs over, in bytes.
pub const CHALLENGE_LEN: usize = 32;

/// `GET /v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelperStatus {
    /// Always `"mahpki-helper"`.
    pub service: String,
    pub version: String,
    /// Every reader the helper sees, with what is in it. Empty when there is no reader (or no
    /// smart-card service running).
    #[serde(default)]
    pub readers: Vec<ReaderStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReaderStatus {
    pub name: String,
    pub card: CardPresence,
}

/// What a reader holds, found by selecting applications (not by ATR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardPresence {
    Empty,
    Hpki,
    Jpki,
    /// A card neither driver recognises.
    Unsupported,
}

/// Which card an operation uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardType {
    /// The HPKI card (its authentication application).
    Hpki,
    /// The My Number card (JPKI user-authentication certificate, 利用者証明用電子証明書).
    Jpki,
}

/// What an operation does. Only authentication exists so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    Authenticate,
}

/// `POST /v1/operations` body, e.g.
/// `{"operation":"authenticate","card":"jpki","challenge":"<base64url, 32 bytes>"}`.
/// The origin the card signs over is the request's `Origin` header, never a body field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartOperation {
    pub operation: OperationKind,
    pub card: CardType,
    /// The server's challenge, base64url without padding (padding is tolerated).
    pub challenge: String,
}

/// `POST /v1/operations` answer (201).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationCreated {
    /// 128-bit random, hex. Only the origin that created it can follow or cancel it.
    pub id: String,
    /// The helper's own page where the holder enters the PIN (open it from the click handler).
    pub pin_page: String,
    pub status: OperationStatus,
}

/// `GET /v1/operations/{id}` answer. Read back through [`StatusWire`] (same wire form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StatusWire")]
pub struct OperationStatus {
    pub id: String,
    pub operation: OperationKind,
    pub card: CardType,
    /// The site that asked (the `Origin` the signature binds).
    pub origin: String,
    /// The holder closed the helper's PIN window (its page said so as it went) and has not
    /// opened it again; the operation goes on until its timeout. Issue 17: the site's page cannot
    /// see the window itself (the PIN page's COOP makes `window.closed` meaningless).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pin_window_closed: bool,
    #[serde(flatten)]
    pub state: OperationState,
}

/// [`OperationStatus`] as it is read: the state's tag and each state's fields side by side.
/// serde reads a `flatten`ed, internally tagged enum by first copying every field into a generic
/// tree and reading that again; the web app's card pages downloaded that code (issue 14). This
/// reads the same JSON in one pass, and [`OperationStatus::try_from`] checks that the state's
/// fields are there.
#[derive(Deserialize)]
struct StatusWire {
    id: String,
    operation: OperationKind,
    card: CardType,
    origin: String,
    #[serde(default)]
    pin_window_closed: bool,
    state: StateTag,
    reason: Option<WaitReason>,
    present: Option<CardPresence>,
    tries_left: Option<u8>,
    last_error: Option<ErrorCode>,
    result: Option<AuthenticationResult>,
    error: Option<ErrorCode>,
}

/// The names of [`OperationState`]'s variants on the wire.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum StateTag {
    WaitingCard,
    ChangeCard,
    WaitingPin,
    Communicating,
    Done,
    Failed,
}

impl TryFrom<StatusWire> for OperationStatus {
    type Error = &'static str;

    fn try_from(w: StatusWire) -> Result<Self, Self::Error> {
        let state = match w.state {
            StateTag::WaitingCard => {
                OperationState::WaitingCard { reason: w.reason.ok_or("missing field `reason`")? }
            }
            StateTag::ChangeCard => {
                OperationState::ChangeCard { present: w.present.ok_or("missing field `present`")? }
            }
            StateTag::WaitingPin => {
                OperationState::WaitingPin { tries_left: w.tries_left, last_error: w.last_error }
            }
            StateTag::Communicating => OperationState::Communicating,
            StateTag::Done => {
                OperationState::Done { result: w.result.ok_or("missing field `result`")? }
            }
            StateTag::Failed => OperationState::Failed {
                error: w.error.ok_or("missing field `error`")?,
                tries_left: w.tries_left,
            },
        };
        Ok(Self {
            id: w.id,
            operation: w.operation,
            card: w.card,
            origin: w.origin,
            pin_window_closed: w.pin_window_closed,
            state,
        })
    }
}

/// Where an operation is. `done` and `failed` are final.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum OperationState {
    /// No reader, or no card in any reader: insert the card.
    WaitingCard {
        reason: WaitReason,
    },
    /// A card is present but it is the other kind (e.g. the HPKI card while JPKI is wanted).
    ChangeCard {
        present: CardPresence,
    },
    /// The helper's PIN page waits for the holder. `last_error` is `pin_wrong` after a wrong PIN:
    /// the helper never retries; the holder decides whether to try again with `tries_left` left.
    WaitingPin {
        tries_left: Option<u8>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_error: Option<ErrorCode>,
    },
    /// Talking to the card (e.g. 個人番号カードと通信をしています).
    Communicating,
    Done {
        result: AuthenticationResult,
    },
    Failed {
        error: ErrorCode,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tries_left: Option<u8>,
    },
}

impl OperationState {
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Done { .. } | Self::Failed { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitReason {
    NoReader,
    NoCard,
}

/// Signature algorithm names as in JOSE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    #[serde(rename = "RS256")]
    Rs256,
}

/// The card's answer: it signed
/// `DigestInfo(SHA-256( SHA-256(origin) ‖ SHA-256(challenge) ))` with its authentication key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticationResult {
    /// The authentication certificate, DER, base64url.
    pub certificate: String,
    /// The CA certificate the card holds, where it has one (JPKI EF `000B`), DER, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificate: Option<String>,
    pub algorithm: SignatureAlgorithm,
    /// base64url.
    pub signature: String,
}

/// `POST /pin/{id}` body, sent only by the helper's own PIN page.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinSubmission {
    pub pin: String,
}

impl std::fmt::Debug for PinSubmission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinSubmission { pin: <redacted> }")
    }
}

/// A text in both languages, for the helper's own PIN page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Localized {
    pub ja: String,
    pub en: String,
}

/// `GET /pin/{id}/state`: what the helper's PIN page shows. Same-origin only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinPageState {
    pub status: OperationStatus,
    /// Message and remedy for the current error (`failed`, or `last_error` while waiting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Localized>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<Localized>,
}

/// `GET /demo/state` (helper in demo mode only): the demo holders and which card is in the
/// virtual reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoState {
    pub holders: Vec<DemoHolder>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inserted: Option<DemoCard>,
}

/// A demo holder and the PINs of their virtual cards (demo data, shown on purpose).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoHolder {
    pub hpki_id: String,
    pub name: String,
    pub hpki_pin: String,
    pub jpki_auth_pin: String,
}

/// `POST /demo/insert` body, and what `inserted` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoCard {
    /// Index into [`DemoState::holders`].
    pub holder: usize,
    pub card: CardType,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_wire_form_is_flat_and_snake_case() {
        let s = OperationStatus {
            id: "ab".into(),
            operation: OperationKind::Authenticate,
            card: CardType::Jpki,
            origin: "https://hpki.example.jp".into(),
            pin_window_closed: true,
            state: OperationState::WaitingPin {
                tries_left: Some(2),
                last_error: Some(ErrorCode::PinWrong),
            },
        };
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["state"], "waiting_pin");
        assert_eq!(json["tries_left"], 2);
        assert_eq!(json["last_error"], "pin_wrong");
        assert_eq!(json["card"], "jpki");
        assert_eq!(json["pin_window_closed"], true);
        assert_eq!(serde_json::from_value::<OperationStatus>(json).unwrap(), s);
        let done = serde_json::to_value(OperationState::Done {
            result: AuthenticationResult {
                certificate: "AA".into(),
                ca_certificate: None,
                algorithm: SignatureAlgorithm::Rs256,
                signature: "AQ".into(),
            },
        })
        .unwrap();
        assert_eq!(done["result"]["algorithm"], "RS256");
        assert!(done["result"].get("ca_certificate").is_none());
    }

    #[test]
    fn every_state_round_trips_and_a_state_without_its_field_is_refused() {
        let result = AuthenticationResult {
            certificate: "AA".into(),
            ca_certificate: Some("AQ".into()),
            algorithm: SignatureAlgorithm::Rs256,
            signature: "AQ".into(),
        };
        for state in [
            OperationState::WaitingCard { reason: WaitReason::NoCard },
            OperationState::ChangeCard { present: CardPresence::Hpki },
            OperationState::WaitingPin { tries_left: None, last_error: None },
            OperationState::WaitingPin {
                tries_left: Some(1),
                last_error: Some(ErrorCode::PinWrong),
            },
            OperationState::Communicating,
            OperationState::Done { result: result.clone() },
            OperationState::Failed { error: ErrorCode::HpkiPinLocked, tries_left: Some(0) },
        ] {
            let s = OperationStatus {
                id: "ab".into(),
                operation: OperationKind::Authenticate,
                card: CardType::Hpki,
                origin: "https://hpki.example.jp".into(),
                pin_window_closed: false,
                state,
            };
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(serde_json::from_str::<OperationStatus>(&json).unwrap(), s, "{json}");
        }
        let base = r#""id":"ab","operation":"authenticate","card":"hpki","origin":"o""#;
        for (state, field) in [
            ("waiting_card", "reason"),
            ("change_card", "present"),
            ("done", "result"),
            ("failed", "error"),
        ] {
            let json = format!(r#"{{{base},"state":"{state}"}}"#);
            let err = serde_json::from_str::<OperationStatus>(&json).unwrap_err().to_string();
            assert!(err.contains(field), "{state}: {err}");
        }
        let json = format!(r#"{{{base},"state":"exploded"}}"#);
        assert!(serde_json::from_str::<OperationStatus>(&json).is_err());
    }

    #[test]
    fn start_refuses_unknown_fields_so_origin_cannot_be_smuggled() {
        let ok = r#"{"operation":"authenticate","card":"hpki","challenge":"AA"}"#;
        assert!(serde_json::from_str::<StartOperation>(ok).is_ok());
        let smuggled =
            r#"{"operation":"authenticate","card":"hpki","challenge":"AA","origin":"x"}"#;
        assert!(serde_json::from_str::<StartOperation>(smuggled).is_err());
    }

    #[test]
    fn pin_submission_debug_hides_the_pin() {
        let p = PinSubmission { pin: "4821".into() };
        assert!(!format!("{p:?}").contains("4821"));
    }
}
