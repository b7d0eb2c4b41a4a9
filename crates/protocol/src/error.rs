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
    // ---- Local helper and cards (helper branch). Keep this block last. ----
    /// No IC card reader is connected (or the smart-card service is not running).
    NoReader,
    /// A reader is connected but holds no card.
    NoCard,
    /// The card in the reader is not the one the operation needs.
    WrongCard,
    /// The card was removed (or reset) during the operation.
    CardRemoved,
    /// The PIN was wrong; the tries left travel beside the code.
    PinWrong,
    /// The PIN entered does not have the card's PIN format; the card was not touched.
    PinFormat,
    /// The My Number card's user-authentication PIN (利用者証明用パスワード) is locked.
    JpkiPinLocked,
    /// The HPKI card's PIN is locked.
    HpkiPinLocked,
    /// The card is neither an HPKI card of a known profile nor a My Number card.
    UnsupportedCard,
    /// The card answered in a way the helper did not expect.
    CardCommunication,
    /// The holder (or the page) cancelled the operation.
    Cancelled,
    /// The operation took longer than allowed.
    TimedOut,
    /// The page's origin is not allowed to use this helper.
    ForeignOrigin,
    /// The local helper could not be reached (raised by the app, never sent by the helper).
    HelperUnreachable,
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
        // ---- Local helper and cards. ----
        Self::NoReader,
        Self::NoCard,
        Self::WrongCard,
        Self::CardRemoved,
        Self::PinWrong,
        Self::PinFormat,
        Self::JpkiPinLocked,
        Self::HpkiPinLocked,
        Self::UnsupportedCard,
        Self::CardCommunication,
        Self::Cancelled,
        Self::TimedOut,
        Self::ForeignOrigin,
        Self::HelperUnreachable,
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
            // ---- Local helper and cards. ----
            Self::NoReader | Self::NoCard | Self::WrongCard | Self::CardRemoved => 409,
            Self::PinWrong => 401,
            Self::PinFormat => 400,
            Self::JpkiPinLocked | Self::HpkiPinLocked => 423,
            Self::UnsupportedCard => 422,
            Self::CardCommunication => 502,
            Self::Cancelled => 409,
            Self::TimedOut => 408,
            Self::ForeignOrigin => 403,
            Self::HelperUnreachable => 503,
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
            // ---- Local helper and cards. ----
            Self::NoReader => Text {
                ja: "ICカードリーダーが見つかりません。",
                en: "No IC card reader was found.",
            },
            Self::NoCard => Text {
                ja: "ICカードリーダーにカードが挿入されていません。",
                en: "There is no card in the IC card reader.",
            },
            Self::WrongCard => Text {
                ja: "リーダーに挿入されているカードが、この操作に必要なカードではありません。",
                en: "The card in the reader is not the card this step needs.",
            },
            Self::CardRemoved => Text {
                ja: "操作の途中でカードが取り外されました。",
                en: "The card was removed during the operation.",
            },
            Self::PinWrong => Text {
                ja: "暗証番号(パスワード)が正しくありません。",
                en: "The PIN (password) is not correct.",
            },
            Self::PinFormat => Text {
                ja: "暗証番号(パスワード)の形式が正しくありません。カードには送信していません。",
                en: "The PIN (password) is not in the expected form. It was not sent to the card.",
            },
            Self::JpkiPinLocked => Text {
                ja: "マイナンバーカードの利用者証明用パスワードがロックされています。",
                en: "The My Number card's user-authentication password is locked.",
            },
            Self::HpkiPinLocked => Text {
                ja: "HPKIカードの暗証番号(PIN)がロックされています。",
                en: "The HPKI card's PIN is locked.",
            },
            Self::UnsupportedCard => Text {
                ja: "このカードには対応していません。",
                en: "This card is not supported.",
            },
            Self::CardCommunication => Text {
                ja: "カードとの通信で問題が発生しました。",
                en: "A problem occurred while communicating with the card.",
            },
            Self::Cancelled => {
                Text { ja: "操作が中止されました。", en: "The operation was cancelled." }
            }
            Self::TimedOut => Text {
                ja: "操作が時間内に完了しませんでした。",
                en: "The operation did not finish in time.",
            },
            Self::ForeignOrigin => Text {
                ja: "このサイトからはカード操作を利用できません。",
                en: "This site is not allowed to use the card helper.",
            },
            Self::HelperUnreachable => Text {
                ja: "カード操作用のヘルパーに接続できません。",
                en: "The card helper cannot be reached.",
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
            // ---- Local helper and cards. ----
            Self::NoReader => Text {
                ja: "ICカードリーダーをパソコンに接続してください。接続済みの場合は、ドライバーとスマートカードサービスが動作しているか確認してください。",
                en: "Connect the IC card reader to this PC. If it is connected, check its driver and that the smart-card service is running.",
            },
            Self::NoCard => Text {
                ja: "カードをICカードリーダーに挿入(または置いて)ください。",
                en: "Insert the card into (or place it on) the IC card reader.",
            },
            Self::WrongCard => Text {
                ja: "カードを取り出し、画面の指示にあるカード(HPKIカードまたはマイナンバーカード)に差し替えてください。",
                en: "Take the card out and insert the card the screen asks for (HPKI card or My Number card).",
            },
            Self::CardRemoved => Text {
                ja: "カードを挿入し直し、操作が終わるまで取り外さずに、もう一度お試しください。",
                en: "Insert the card again, leave it in until the operation ends, and try again.",
            },
            Self::PinWrong => Text {
                ja: "残り回数を確認し、正しい暗証番号を入力してください。残り回数が0になるとロックされます。",
                en: "Check the tries left and enter the correct PIN. The PIN locks when no tries are left.",
            },
            Self::PinFormat => Text {
                ja: "マイナンバーカードの利用者証明用パスワードは数字4桁、HPKIカードのPINは4〜16文字の半角英数字記号です。",
                en: "The My Number card's user-authentication password is 4 digits; the HPKI card PIN is 4 to 16 ASCII characters.",
            },
            Self::JpkiPinLocked => Text {
                ja: "お住まいの市区町村窓口でロック解除とパスワードの再設定を行ってください。スマートフォンのアプリを使ってコンビニエンスストアのキオスク端末で再設定できる場合もあります。",
                en: "Have the lock cleared and the password reset at your municipal office (市区町村窓口); it may also be reset at a convenience-store kiosk with the smartphone app.",
            },
            Self::HpkiPinLocked => Text {
                ja: "HPKIカードを発行した認証局(日本医師会・日本薬剤師会・MEDIS等)にロック解除を申請してください。",
                en: "Ask the certification authority that issued your HPKI card (JMA, JPA, MEDIS, etc.) to unlock it.",
            },
            Self::UnsupportedCard => Text {
                ja: "HPKIカードまたはマイナンバーカードを挿入してください。",
                en: "Insert an HPKI card or a My Number card.",
            },
            Self::CardCommunication => Text {
                ja: "カードを挿入し直してもう一度お試しください。解決しない場合はカードリーダーを接続し直してください。",
                en: "Insert the card again and retry. If this persists, reconnect the card reader.",
            },
            Self::Cancelled => Text {
                ja: "必要であれば、最初から操作をやり直してください。",
                en: "If needed, start the operation again.",
            },
            Self::TimedOut => Text {
                ja: "カードを準備してから、もう一度操作をやり直してください。",
                en: "Have the card ready and start the operation again.",
            },
            Self::ForeignOrigin => Text {
                ja: "プラットフォームの正しいページ(URL)から操作してください。",
                en: "Use the platform's own page (check the URL).",
            },
            Self::HelperUnreachable => Text {
                ja: "カード操作用ヘルパー(mahpki-helper)を起動してから、もう一度お試しください。",
                en: "Start the card helper (mahpki-helper) and try again.",
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
