//! Every string the app shows, in Japanese (first, in the guide's wording) and English.
//! One enum, one `match`: a missing translation is a compile error, not a blank on screen.

use mahpki_protocol::error::Text;

/// The holder's chosen language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    /// BCP 47 tag for `<html lang>`, so screen readers pronounce the page correctly.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Self> {
        match tag {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks this language's side of a catalogued text.
    pub fn pick(self, text: Text) -> &'static str {
        match self {
            Lang::Ja => text.ja,
            Lang::En => text.en,
        }
    }
}

/// A string shown by the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    SiteTitle,
    SkipToContent,
    LanguageSwitch,
    ChooseHeading,
    MyNumberEntry,
    SmartphoneEntry,
    MyNumberSectionTitle,
    SmartphoneRegisterTitle,
    SmartphoneChangeTitle,
    Prepare,
    PrepareMyNumber,
    PrepareSmartphone,
    PrepareSmartphoneChange,
    Setup,
    SetupHelper,
    Caution,
    SmartphoneChangeCaution,
    SmartphoneChangeAbortNote,
    CardInReaderHint,
    RegisterWithHpki,
    RegisterOrChangeWithHpki,
    SmartphoneChange,
    MyNumberSiteTitle,
    SmartphoneSiteTitle,
    SmartphoneChangeSiteTitle,
    EnrollSiteTitle,
    NotYetAvailable,
    BackToTop,
    NotFoundTitle,
    NotFoundBody,
    FooterServer,
    FooterServerChecking,
    FooterServerUnreachable,
    FooterServerDegraded,
}

impl Msg {
    pub const ALL: &'static [Msg] = &[
        Msg::SiteTitle,
        Msg::SkipToContent,
        Msg::LanguageSwitch,
        Msg::ChooseHeading,
        Msg::MyNumberEntry,
        Msg::SmartphoneEntry,
        Msg::MyNumberSectionTitle,
        Msg::SmartphoneRegisterTitle,
        Msg::SmartphoneChangeTitle,
        Msg::Prepare,
        Msg::PrepareMyNumber,
        Msg::PrepareSmartphone,
        Msg::PrepareSmartphoneChange,
        Msg::Setup,
        Msg::SetupHelper,
        Msg::Caution,
        Msg::SmartphoneChangeCaution,
        Msg::SmartphoneChangeAbortNote,
        Msg::CardInReaderHint,
        Msg::RegisterWithHpki,
        Msg::RegisterOrChangeWithHpki,
        Msg::SmartphoneChange,
        Msg::MyNumberSiteTitle,
        Msg::SmartphoneSiteTitle,
        Msg::SmartphoneChangeSiteTitle,
        Msg::EnrollSiteTitle,
        Msg::NotYetAvailable,
        Msg::BackToTop,
        Msg::NotFoundTitle,
        Msg::NotFoundBody,
        Msg::FooterServer,
        Msg::FooterServerChecking,
        Msg::FooterServerUnreachable,
        Msg::FooterServerDegraded,
    ];

    pub fn text(self) -> Text {
        let (ja, en) = match self {
            Msg::SiteTitle => (
                "HPKIセカンド電子証明書管理・認証プラットフォーム",
                "HPKI Second Certificate Management and Authentication Platform",
            ),
            Msg::SkipToContent => ("本文へ移動", "Skip to main content"),
            Msg::LanguageSwitch => ("表示言語", "Language"),
            Msg::ChooseHeading => ("ご利用になるものを選んでください", "Choose what you will use"),
            Msg::MyNumberEntry => {
                ("マイナンバーカードをご利用の方はこちら", "Using a My Number card? Start here")
            }
            Msg::SmartphoneEntry => (
                "スマートフォン(タブレットを含む)をご利用の方はこちら",
                "Using a smartphone (or tablet)? Start here",
            ),
            Msg::MyNumberSectionTitle => (
                "HPKIカードを使ってマイナンバーカードを登録",
                "Register your My Number card using your HPKI card",
            ),
            Msg::SmartphoneRegisterTitle => (
                "HPKIカードを使ってスマートフォンを登録",
                "Register your smartphone using your HPKI card",
            ),
            Msg::SmartphoneChangeTitle => {
                ("登録してあるスマートフォンを変更", "Change your registered smartphone")
            }
            Msg::Prepare => ("【準備するもの】", "What you need"),
            Msg::PrepareMyNumber => (
                "HPKIカード、マイナンバーカード、ICカードリーダー",
                "Your HPKI card, your My Number card and an IC card reader",
            ),
            Msg::PrepareSmartphone => {
                ("HPKIカード、スマートフォン", "Your HPKI card and your smartphone")
            }
            Msg::PrepareSmartphoneChange => (
                "新旧2台のスマートフォン(旧スマートフォンは既に当サイトに登録済のもの)",
                "Both smartphones, old and new (the old one already registered on this site)",
            ),
            Msg::Setup => ("【必要な事前設定】", "Set up beforehand"),
            Msg::SetupHelper => (
                "カード読み取りソフト(mahpki helper)がこのPCにインストールされ、起動している必要があります。",
                "The card helper (mahpki helper) must be installed and running on this PC.",
            ),
            Msg::Caution => ("【注意事項】", "Please note"),
            Msg::SmartphoneChangeCaution => (
                "変更後は、旧スマートフォンは認証に利用できなくなります。",
                "After the change, the old smartphone can no longer be used to authenticate.",
            ),
            Msg::SmartphoneChangeAbortNote => (
                "本操作を途中でやめた場合は、旧スマートフォンを引き続き利用できます。",
                "If you stop part way, the old smartphone keeps working.",
            ),
            Msg::CardInReaderHint => (
                "◆HPKIカードがICカードリーダーにセットされている状態で下のボタンをクリックしてください。◆",
                "Put your HPKI card in the IC card reader, then click the button below.",
            ),
            Msg::RegisterWithHpki => ("HPKIカードで登録", "Register with HPKI card"),
            Msg::RegisterOrChangeWithHpki => {
                ("HPKIカードで登録または変更", "Register or change with HPKI card")
            }
            Msg::SmartphoneChange => ("スマートフォン変更", "Change smartphone"),
            Msg::MyNumberSiteTitle => {
                ("マイナンバーカード登録サイト", "My Number card registration")
            }
            Msg::SmartphoneSiteTitle => ("スマートフォン登録サイト", "Smartphone registration"),
            Msg::SmartphoneChangeSiteTitle => ("スマートフォン変更", "Change smartphone"),
            Msg::EnrollSiteTitle => ("スマートフォンの登録", "Register this smartphone"),
            Msg::NotYetAvailable => (
                "この手続きは現在準備中です。公開までしばらくお待ちください。",
                "This procedure is being prepared and is not available yet.",
            ),
            Msg::BackToTop => ("トップページへ戻る", "Back to the top page"),
            Msg::NotFoundTitle => ("ページが見つかりません", "Page not found"),
            Msg::NotFoundBody => (
                "お探しのページは見つかりませんでした。アドレスをご確認ください。",
                "The page you asked for does not exist. Please check the address.",
            ),
            Msg::FooterServer => ("サーバー バージョン", "Server version"),
            Msg::FooterServerChecking => ("サーバーを確認しています…", "Checking the server..."),
            Msg::FooterServerUnreachable => {
                ("サーバーに接続できません", "The server cannot be reached")
            }
            Msg::FooterServerDegraded => (
                "サーバーのデータベースが応答していません",
                "The server's database is not answering",
            ),
        };
        Text { ja, en }
    }

    pub fn in_lang(self, lang: Lang) -> &'static str {
        lang.pick(self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_is_translated() {
        for &m in Msg::ALL {
            let t = m.text();
            assert!(!t.ja.is_empty() && !t.en.is_empty(), "{m:?}");
            assert_ne!(t.ja, t.en, "{m:?}");
            assert!(!t.ja.is_ascii(), "{m:?}: Japanese side is ASCII");
            assert!(t.en.is_ascii(), "{m:?}: English side has non-ASCII");
        }
    }

    #[test]
    fn language_tags_round_trip() {
        for l in [Lang::Ja, Lang::En] {
            assert_eq!(Lang::from_tag(l.tag()), Some(l));
        }
        assert_eq!(Lang::from_tag("fr"), None);
    }
}
