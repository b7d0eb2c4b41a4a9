//! The one error catalogue. The server answers every failure with an [`ErrorBody`] carrying an
//! [`ErrorCode`]; the app renders the code in the holder's language with a remedy, so the text a
//! clinician reads never depends on what the server happened to print.

use serde::{Deserialize, Serialize};

/// Every error a holder can meet, wherever it arose (server, helper, or the app's own transport).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request could not be read (malformed JSON, wrong fields).
    BadRequest,
    /// No such endpoint or resource.
    NotFound,
    /// The request body exceeds the server's limit.
    PayloadTooLarge,
    /// Too many attempts from this client in a short time.
    RateLimited,
    /// The server could not be reached (raised by the app, never sent by the server).
    ServerUnreachable,
    /// Something failed inside the server; details are in its log, never in the answer.
    Internal,
}

/// A message in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text {
    pub ja: &'static str,
    pub en: &'static str,
}

impl ErrorCode {
    pub const ALL: &'static [ErrorCode] = &[
        Self::BadRequest,
        Self::NotFound,
        Self::PayloadTooLarge,
        Self::RateLimited,
        Self::ServerUnreachable,
        Self::Internal,
    ];

    /// The HTTP status the server answers with.
    pub fn http_status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::NotFound => 404,
            Self::PayloadTooLarge => 413,
            Self::RateLimited => 429,
            Self::ServerUnreachable => 503,
            Self::Internal => 500,
        }
    }

    /// What went wrong, for the holder.
    pub fn message(self) -> Text {
        match self {
            Self::BadRequest => Text {
                ja: "要求の形式が正しくありません。",
                en: "The request was not in the expected form.",
            },
            Self::NotFound => Text {
                ja: "お探しのページまたは情報が見つかりません。",
                en: "The page or information you asked for was not found.",
            },
            Self::PayloadTooLarge => Text {
                ja: "送信されたデータが大きすぎます。",
                en: "The data sent was too large.",
            },
            Self::RateLimited => Text {
                ja: "短時間に操作が繰り返されました。",
                en: "There were too many attempts in a short time.",
            },
            Self::ServerUnreachable => Text {
                ja: "プラットフォームのサーバーに接続できません。",
                en: "The platform server cannot be reached.",
            },
            Self::Internal => Text {
                ja: "サーバーで問題が発生しました。",
                en: "A problem occurred on the server.",
            },
        }
    }

    /// What the holder can do about it.
    pub fn remedy(self) -> Text {
        match self {
            Self::BadRequest | Self::NotFound => Text {
                ja: "トップページから操作をやり直してください。",
                en: "Please start again from the top page.",
            },
            Self::PayloadTooLarge => Text {
                ja: "トップページから操作をやり直してください。解決しない場合はお問い合わせください。",
                en: "Please start again from the top page. If this persists, contact support.",
            },
            Self::RateLimited => Text {
                ja: "しばらく(1分程度)待ってから、もう一度お試しください。",
                en: "Please wait a minute and try again.",
            },
            Self::ServerUnreachable => Text {
                ja: "ネットワーク接続を確認し、しばらくしてからもう一度お試しください。",
                en: "Check the network connection and try again shortly.",
            },
            Self::Internal => Text {
                ja: "しばらくしてからもう一度お試しください。解決しない場合はお問い合わせください。",
                en: "Please try again shortly. If this persists, contact support.",
            },
        }
    }
}

/// The JSON body of every error answer: `{"error": {"code": "...", "message": "..."}}`.
/// `message` is the Japanese text, for logs and API clients; the app renders from `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
}

impl From<ErrorCode> for ErrorBody {
    fn from(code: ErrorCode) -> Self {
        Self { error: ErrorDetail { code, message: code.message().ja.to_owned() } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_both_languages_and_an_error_status() {
        for &code in ErrorCode::ALL {
            for t in [code.message(), code.remedy()] {
                assert!(!t.ja.is_empty() && !t.en.is_empty(), "{code:?}");
                assert!(!t.ja.is_ascii(), "{code:?} Japanese text is not Japanese");
            }
            assert!((400..600).contains(&code.http_status()), "{code:?}");
        }
    }

    #[test]
    fn wire_form_is_snake_case() {
        let body = ErrorBody::from(ErrorCode::PayloadTooLarge);
        let json = serde_json::to_string(&body).unwrap();
        assert!(json.contains("\"code\":\"payload_too_large\""), "{json}");
        assert_eq!(serde_json::from_str::<ErrorBody>(&json).unwrap(), body);
    }
}
