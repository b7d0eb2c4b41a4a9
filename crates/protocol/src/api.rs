//! The platform server's JSON API (`/api/…`). Binary values (challenges, certificates,
//! signatures) travel as unpadded base64url strings.

use serde::{Deserialize, Serialize};

use crate::{HpkiId, error::Text};

/// The HPKI certificate authority that issued the holder's card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Ca {
    /// 日本医師会
    Jma,
    /// 日本薬剤師会
    Jpa,
    /// 医療情報システム開発センター
    Medis,
}

impl Ca {
    pub fn as_str(self) -> &'static str {
        match self {
            Ca::Jma => "JMA",
            Ca::Jpa => "JPA",
            Ca::Medis => "MEDIS",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "JMA" => Some(Ca::Jma),
            "JPA" => Some(Ca::Jpa),
            "MEDIS" => Some(Ca::Medis),
            _ => None,
        }
    }

    pub fn name(self) -> Text {
        match self {
            Ca::Jma => Text { ja: "日本医師会認証局", en: "Japan Medical Association CA" },
            Ca::Jpa => Text {
                ja: "日本薬剤師会認証局", en: "Japan Pharmaceutical Association CA"
            },
            Ca::Medis => Text { ja: "MEDIS認証局", en: "MEDIS CA" },
        }
    }
}

/// The national qualification the HPKI certificate attests (hcRole).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Qualification {
    Doctor,
    Dentist,
    Pharmacist,
}

impl Qualification {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Doctor => "doctor",
            Self::Dentist => "dentist",
            Self::Pharmacist => "pharmacist",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "doctor" | "医師" => Some(Self::Doctor),
            "dentist" | "歯科医師" => Some(Self::Dentist),
            "pharmacist" | "薬剤師" => Some(Self::Pharmacist),
            _ => None,
        }
    }

    pub fn name(self) -> Text {
        match self {
            Self::Doctor => Text { ja: "医師", en: "Doctor" },
            Self::Dentist => Text { ja: "歯科医師", en: "Dentist" },
            Self::Pharmacist => Text { ja: "薬剤師", en: "Pharmacist" },
        }
    }
}

/// Who the holder is, as the page shows it after HPKI authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub hpki_id: HpkiId,
    pub ca: Ca,
    pub qualification: Qualification,
    pub name_kanji: String,
    pub name_kana: String,
    pub name_roman: String,
}

/// `POST /api/hpki/challenge` and `POST /api/mynumber/challenge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// 32 random bytes, base64url.
    pub challenge: String,
    pub expires_in_secs: u32,
}

/// The same algorithm names as the helper reports (one definition for both APIs).
pub use crate::helper::SignatureAlgorithm;

/// What the helper's card operation produced, posted to `…/finish`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardSignature {
    /// The challenge being answered, base64url.
    pub challenge: String,
    /// The card's authentication certificate (DER), base64url.
    pub certificate: String,
    pub algorithm: SignatureAlgorithm,
    /// Signature over `SHA-256(SHA-256(origin) ‖ SHA-256(challenge))`, base64url.
    pub signature: String,
}

/// A My Number card binding as the holder sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyNumberBinding {
    /// SHA-256 of the JPKI authentication certificate, hex.
    pub fingerprint: String,
    /// Unix seconds: when the certificate (and so the binding) expires.
    pub not_after: i64,
    /// Unix seconds.
    pub bound_at: i64,
}

/// Answer of `POST /api/hpki/finish` and `GET /api/session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub holder: Holder,
    pub mynumber: Option<MyNumberBinding>,
}

/// How a holder signed in: the guide's three ways, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInFactor {
    /// HPKIカード
    HpkiCard,
    /// マイナンバーカード (the JPKI 利用者証明用 certificate of the bound card)
    Mynumber,
    /// スマートフォン (the bound phone's passkey)
    Passkey,
}

impl SignInFactor {
    pub const ALL: [Self; 3] = [Self::HpkiCard, Self::Mynumber, Self::Passkey];

    /// The name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HpkiCard => "hpki_card",
            Self::Mynumber => "mynumber",
            Self::Passkey => "passkey",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// This browser's signing session (the once-a-day sign-in): answer of `GET /api/signin` and of
/// each way of signing in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub holder: Holder,
    pub factor: SignInFactor,
    /// Unix seconds: when the holder signed in.
    pub since: i64,
    /// Unix seconds: when the session ends by itself.
    pub until: i64,
}

/// Answer of `POST /api/mynumber/finish`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyNumberBound {
    pub binding: MyNumberBinding,
    /// The earlier card's binding, if this one replaced it (certificate renewal).
    pub replaced: Option<MyNumberBinding>,
}

/// `GET /api/config`: what the page needs to know before a card flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientConfig {
    /// Where the local helper listens, e.g. `http://127.0.0.1:24365` (the first configured
    /// helper origin: the one the CSP lets the page call).
    pub helper_url: String,
    /// Where a holder without the helper gets `mahpki-helper` (the operator's
    /// `helper_download_url`; by default the project's README section on the helper).
    pub helper_download_url: String,
}
