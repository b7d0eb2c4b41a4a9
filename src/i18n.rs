//! Every string the app shows, in Japanese (first, in the guide's wording) and English.
//! One row per string, from which the enum and its `match` follow: a missing translation is a
//! compile error, not a blank on screen.

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

/// Declares [`Msg`] from one row per string (name, Japanese, English), so a string is written
/// once and the constants, [`Msg::ALL`] and [`Msg::text`] follow from the rows.
///
/// Each row is a constant holding its own two strings, not a variant of an enum looked up in one
/// `match`: a `match` over every row links every string into every page bundle, while a constant
/// brings only itself, so each bundle carries only the strings its pages use (issue 14).
macro_rules! messages {
    ($(
        $(#[$attr:meta])*
        $msg:ident: $ja:literal, $en:literal;
    )*) => {
        /// A string shown by the app: `Msg::SiteTitle` and the like.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct Msg {
            ja: &'static str,
            en: &'static str,
        }

        #[allow(non_upper_case_globals)] // named like the enum variants they replaced
        impl Msg {
            $( $(#[$attr])* pub const $msg: Msg = Msg { ja: $ja, en: $en }; )*

            /// Every row (for tests: a page bundle that named it would link every string).
            pub const ALL: &'static [Msg] = &[$(Msg::$msg),*];

            pub fn text(self) -> Text {
                Text { ja: self.ja, en: self.en }
            }
        }
    };
}

// One row per string: name, Japanese, English.
messages! {
    // U+200B marks where the title may wrap on a narrow screen (between phrases, never
    // inside 「プラットフォーム」); the header turns each into <wbr>.
    SiteTitle:
        "HPKIセカンド電子証明書\u{200B}管理・認証\u{200B}プラットフォーム",
        "HPKI Second Certificate Management and Authentication Platform";
    SkipToContent:
        "本文へ移動",
        "Skip to main content";
    LanguageSwitch:
        "表示言語",
        "Language";
    ChooseHeading:
        "ご利用になるものを選んでください",
        "Choose what you will use";
    MyNumberEntry:
        "マイナンバーカードをご利用の方はこちら",
        "Using a My Number card? Start here";
    SmartphoneEntry:
        "スマートフォン(タブレットを含む)をご利用の方はこちら",
        "Using a smartphone (or tablet)? Start here";
    MyNumberSectionTitle:
        "HPKIカードを使ってマイナンバーカードを登録",
        "Register your My Number card using your HPKI card";
    SmartphoneRegisterTitle:
        "HPKIカードを使ってスマートフォンを登録",
        "Register your smartphone using your HPKI card";
    SmartphoneChangeTitle:
        "登録してあるスマートフォンを変更",
        "Change your registered smartphone";
    Prepare:
        "【準備するもの】",
        "What you need";
    PrepareMyNumber:
        "HPKIカード、マイナンバーカード、ICカードリーダー",
        "Your HPKI card, your My Number card and an IC card reader";
    PrepareSmartphone:
        "HPKIカード、スマートフォン",
        "Your HPKI card and your smartphone";
    PrepareSmartphoneChange:
        "新旧2台のスマートフォン(旧スマートフォンは既に当サイトに登録済のもの)",
        "Both smartphones, old and new (the old one already registered on this site)";
    Setup:
        "【必要な事前設定】",
        "Set up beforehand";
    SetupHelper:
        "カード読み取りソフト(mahpki-helper)がこのPCにインストールされ、起動している必要があります。",
        "The card helper (mahpki-helper) must be installed and running on this PC.";
    Caution:
        "【注意事項】",
        "Please note";
    SmartphoneChangeCaution:
        "変更後は、旧スマートフォンは認証に利用できなくなります。",
        "After the change, the old smartphone can no longer be used to authenticate.";
    SmartphoneChangeAbortNote:
        "本操作を途中でやめた場合は、旧スマートフォンを引き続き利用できます。",
        "If you stop part way, the old smartphone keeps working.";
    CardInReaderHint:
        "◆HPKIカードがICカードリーダーにセットされている状態で下のボタンをクリックしてください。◆",
        "Put your HPKI card in the IC card reader, then click the button below.";
    RegisterWithHpki:
        "HPKIカードで登録",
        "Register with HPKI card";
    RegisterOrChangeWithHpki:
        "HPKIカードで登録または変更",
        "Register or change with HPKI card";
    SmartphoneChange:
        "スマートフォン変更",
        "Change smartphone";
    MyNumberSiteTitle:
        "マイナンバーカード登録サイト",
        "My Number card registration";
    SmartphoneSiteTitle:
        "スマートフォン登録サイト",
        "Smartphone registration";
    SmartphoneChangeSiteTitle:
        "スマートフォン変更",
        "Change smartphone";
    EnrolSiteTitle:
        "スマートフォンの登録",
        "Register this smartphone";
    // Each step's heading (flows::widgets::flow_frame): the focus goes to it when the step changes.
    StepIdentifiedTitle:
        "本人IDの確認",
        "Check your HPKI ID";
    StepBiometricTitle:
        "生体認証",
        "Biometric check";
    StepDoneTitle:
        "登録完了",
        "Registration complete";
    StepCancelledTitle:
        "中止しました",
        "Cancelled";
    BackToTop:
        "トップページへ戻る",
        "Back to the top page";
    NotFoundTitle:
        "ページが見つかりません",
        "Page not found";
    NotFoundBody:
        "お探しのページは見つかりませんでした。アドレスをご確認ください。",
        "The page you asked for does not exist. Please check the address.";
    FooterServer:
        "サーバー バージョン",
        "Server version";
    FooterServerChecking:
        "サーバーを確認しています…",
        "Checking the server...";
    FooterServerUnreachable:
        "サーバーに接続できません",
        "The server cannot be reached";
    FooterServerDegraded:
        "サーバーのデータベースが応答していません",
        "The server's database is not answering";
    HelperChecking:
        "カード読み取りソフト(mahpki-helper)を確認しています…",
        "Looking for the card helper (mahpki-helper)...";
    LocalNetworkNotice:
        "ブラウザが「このデバイス上のアプリやサービスへのアクセス(ローカル ネットワーク)」の許可を求めることがあります。このPCのカード読み取りソフトと通信するために必要ですので、「許可」を選んでください。",
        "Your browser may ask whether this site may access apps and services on this device (local network). The site needs it to talk to the card helper on this PC: choose Allow.";
    HelperBlockedHint:
        "ローカル ネットワークへのアクセスを「ブロック」した場合は、アドレスバーのサイト情報のアイコンから「許可」に変更してください。",
        "If you blocked local network access, allow it again from the site information icon in the address bar.";
    CheckAgain:
        "再確認",
        "Check again";
    ReadersLabel:
        "カードリーダー",
        "Card readers";
    NoReaderFound:
        "カードリーダーが見つかりません。ICカードリーダーを接続してください。",
        "No card reader found. Connect your IC card reader.";
    CardEmpty:
        "カードなし",
        "no card";
    CardHpki:
        "HPKIカード",
        "HPKI card";
    CardJpki:
        "マイナンバーカード",
        "My Number card";
    CardUnsupported:
        "対応していないカード",
        "unsupported card";
    PinWindowNotice:
        "ボタンを押すと、暗証番号を入力する別ウィンドウ(mahpki-helper)が開きます。暗証番号はこのページではなく、その別ウィンドウに入力してください。",
        "The button opens a separate window of mahpki-helper for your PIN. Enter the PIN there, never on this page.";
    StagePreparing:
        "準備しています…",
        "Preparing...";
    StageNoReader:
        "ICカードリーダーが見つかりません。カードリーダーを接続してください。",
        "No IC card reader found. Connect your card reader.";
    StageInsertHpki:
        "HPKIカードをカードリーダーにセットしてください。",
        "Put your HPKI card in the card reader.";
    StageInsertJpki:
        "個人番号カードをカードリーダライタにセットしてください。",
        "Put your My Number card in the card reader.";
    StageSwapToJpki:
        "HPKIカードを抜いて、マイナンバーカードに差し替えてください。差し替えると自動的に次へ進みます。",
        "Take out the HPKI card and put in your My Number card. The page goes on by itself.";
    StageSwapToHpki:
        "挿入されているカードはHPKIカードではありません。HPKIカードに差し替えてください。差し替えると自動的に次へ進みます。",
        "The card in the reader is not an HPKI card. Put in your HPKI card. The page goes on by itself.";
    StagePinHpki:
        "別ウィンドウ(mahpki-helper)で、HPKIカードのPIN(暗証番号)を入力してください。",
        "In the mahpki-helper window, enter your HPKI card PIN.";
    StagePinJpki:
        "別ウィンドウ(mahpki-helper)で、個人番号カードの利用者証明用パスワード(4桁の数字)を入力してください。",
        "In the mahpki-helper window, enter your My Number card's user-authentication password (4 digits).";
    JpkiPinWarning:
        "※署名用のパスワードではありませんので、ご注意ください。",
        "Note: this is not the signing password.";
    LastTryWarning:
        "次に間違えるとロックされます。",
        "One more wrong entry locks it.";
    OpenPinWindow:
        "暗証番号の入力画面を開く",
        "Open the PIN window";
    StageCommunicatingHpki:
        "HPKIカードと通信をしています。",
        "Communicating with the HPKI card.";
    StageCommunicatingJpki:
        "個人番号カードと通信をしています。",
        "Communicating with the My Number card.";
    StageVerifying:
        "サーバーで確認しています…",
        "The platform is checking...";
    DoNotRemoveCard:
        "処理が終わるまでカードを抜かないでください。",
        "Leave the card in until this finishes.";
    HpkiIdLabel:
        "本人ID",
        "HPKI ID";
    NameLabel:
        "氏名",
        "Name";
    QualificationLabel:
        "資格",
        "Qualification";
    CaLabel:
        "認証局",
        "Certification authority";
    ConfirmHpkiId:
        "表示されている「本人ID」が自分のものであることを確認してください。異なる場合は「中止」を押してください。",
        "Check that the HPKI ID shown is yours. If it is not, press Cancel.";
    SwapToMyNumber:
        "カードドライバに挿入するカードをHPKIカードからマイナンバーカードに差し替えてください。",
        "Take the HPKI card out of the card reader and put in your My Number card instead.";
    MyNumberInReaderHint:
        "◆マイナンバーカードがICカードリーダーにセットされている状態で下のボタンをクリックしてください。◆",
        "With your My Number card in the IC card reader, click the button below.";
    RegisterMyNumber:
        "マイナンバーカードを登録",
        "Register My Number card";
    CurrentBindingNote:
        "登録済みのマイナンバーカードがあります。登録すると、新しいカードに置き換わります。",
        "A My Number card is already registered. Registering replaces it with this card.";
    CertificateExpiryLabel:
        "利用者証明用電子証明書の有効期限",
        "User-authentication certificate valid until";
    DoneMessage:
        "マイナンバーカードの登録が完了しました。ブラウザを終了してください。",
        "Your My Number card is registered. Please close the browser.";
    ReplacedNote:
        "以前に登録されていたマイナンバーカードの登録は、このカードに置き換えられました。",
        "The My Number card registered before has been replaced by this one.";
    ReplacedExpiryLabel:
        "置き換えられたカードの電子証明書の有効期限",
        "The replaced card's certificate was valid until";
    FailedTitle:
        "登録できませんでした",
        "The registration did not complete";
    NothingBound:
        "マイナンバーカードは登録されていません。",
        "No My Number card has been registered.";
    TryAgain:
        "もう一度試す",
        "Try again";
    StartOver:
        "最初からやり直す",
        "Start over";
    Cancel:
        "中止",
        "Cancel";
    CancelledMessage:
        "登録を中止しました。マイナンバーカードは登録されていません。",
        "You cancelled. No My Number card has been registered.";
    RemedyLabel:
        "対処方法",
        "What to do";
    Issuing:
        "2次元コードを発行しています…",
        "Issuing the 2D code...";
    ReplaceQuestion:
        "デバイスがすでに登録済みとなっています。現在のデバイスを削除して再度登録をし直しますか?",
        "A device is already registered. Remove the current device and register again?";
    ReplaceNote:
        "「はい」を選ぶと、新しいスマートフォンの登録が完了した時点で、現在のスマートフォンでは認証できなくなります。登録を完了しなければ、現在のスマートフォンをそのまま使えます。",
        "If you choose Yes, the current smartphone stops working for authentication when the new one is registered. Until then, the current one keeps working.";
    Yes:
        "はい(現在のスマートフォンを削除して登録し直す)",
        "Yes (remove the current smartphone and register this one)";
    No:
        "いいえ(現在のスマートフォンを使い続ける)",
        "No (keep using the current smartphone)";
    ScanCode:
        "スマートフォンのカメラで二次元コードを読み取り、登録サイトにアクセスしてください。",
        "Scan the 2D code with your smartphone's camera and open the registration site.";
    ScanHowTo:
        "iPhoneは「カメラ」アプリで読み取り「Safariで開く」を、AndroidはChromeの検索欄のカメラボタンで読み取ってください。",
        "On iPhone, scan with the Camera app and choose Open in Safari; on Android, scan with the camera button in Chrome's search box.";
    VerificationCodeLabel:
        "確認コード",
        "Confirmation code";
    ExpiryWarning:
        "有効期限内に読み取らないと二次元コードは無効になります。",
        "The 2D code stops working if it is not scanned in time.";
    QrAlt:
        "スマートフォン登録用の二次元コード",
        "2D code for registering your smartphone";
    CantScan:
        "二次元コードを読み取れない場合",
        "If you cannot scan the 2D code";
    OpenLinkOnPhone:
        "次のアドレスをスマートフォンのブラウザで開いてください(他の人に知らせないでください):",
        "Open this address in your smartphone's browser (do not share it):";
    ContinueOnPhone:
        "スマートフォンで操作を続けてください",
        "Continue on your smartphone";
    ContinueOnPhoneHint:
        "スマートフォンの画面の案内に従って登録してください。完了するとこの画面も自動的に切り替わります。",
        "Follow the steps on your smartphone. This screen changes by itself when it is done.";
    ExpiredTitle:
        "有効期限が切れました",
        "The code has expired";
    ExpiredHint:
        "二次元コードを再発行して、もう一度読み取ってください。",
        "Issue a new 2D code and scan it again.";
    Reissue:
        "二次元コードを再発行",
        "Issue a new 2D code";
    SmartphoneDone:
        "スマートフォンの登録が完了しました。ブラウザを終了してください。",
        "Your smartphone is registered. Please close the browser.";
    CloseWholeBrowser:
        "※タブだけでなくブラウザ全体を終了してください(ブラウザ右上の×)。",
        "Close the whole browser, not just this tab (the X at the top right).";
    PhoneReplacedNote:
        "以前に登録されていたスマートフォンは、認証に利用できなくなりました。",
        "The smartphone registered before can no longer be used to authenticate.";
    KeptCurrent:
        "現在のスマートフォンの登録はそのままです。新しい登録は行っていません。",
        "Your current smartphone stays registered. Nothing new was registered.";
    SmartphoneCancelled:
        "登録を中止しました。スマートフォンは登録されていません。",
        "You cancelled. No smartphone has been registered.";
    SmartphoneNothingBound:
        "スマートフォンは登録されていません。",
        "No smartphone has been registered.";
    EnrolOpening:
        "登録情報を確認しています…",
        "Checking the registration...";
    UsernameLabel:
        "Username(本人ID)",
        "Username (HPKI ID)";
    EnrolLoginHint:
        "表示されている本人IDが自分のものであることを確認して「登録」を押してください。次の画面で、スマートフォンの生体認証(指紋・顔など)を行います。",
        "Check that the HPKI ID shown is yours and press Register. Your smartphone then asks for its biometrics (fingerprint, face, etc.).";
    RegisterButton:
        "登録",
        "Register";
    EnrolBiometric:
        "スマートフォンの画面の指示に従って、生体認証を行ってください。",
        "Follow your smartphone's prompt to complete the biometric check.";
    LabelTitle:
        "ラベル登録",
        "Label";
    LabelHint:
        "ラベルは自動で設定されています。そのまま「OK」を押してください。",
        "The label is filled in for you. Press OK.";
    LabelField:
        "ラベル",
        "Label";
    Ok:
        "OK",
        "OK";
    EnrolSaving:
        "登録しています…",
        "Registering...";
    EnrolDone:
        "登録が完了しました。スマートフォンのブラウザを閉じてください。",
        "Registration is complete. Please close the browser on your smartphone.";
    EnrolDonePcNote:
        "PCの画面にも完了画面が表示されます。",
        "The PC screen shows completion too.";
    EnrolReissueHint:
        "PCで二次元コードを発行し直し、もう一度読み取ってください。",
        "Issue a new 2D code on the PC and scan it again.";
    JmaEntryHint:
        "日本医師会のHPKIカードをお持ちで、カードを読み取れない場合は:",
        "If you hold a JMA HPKI card and cannot read it:";
    JmaEntry:
        "医籍登録番号とカードIDで登録",
        "Register with your registration number and card ID";
    Checking:
        "確認しています…",
        "Checking...";
    JmaInstruction:
        "HPKIカードに記載されている医籍登録番号とカードIDを入力の上、「認証」を押してください。",
        "Enter the medical registration number and the card ID printed on your HPKI card, then press Authenticate.";
    JmaNote:
        "日本医師会が発行したHPKIカードをお持ちの方が対象です。5回続けて間違えると、しばらく(15分以上)入力を受け付けなくなります。",
        "For holders of an HPKI card issued by the Japan Medical Association. After 5 wrong tries in a row it pauses for a while (15 minutes or more).";
    JmaRegistrationNumber:
        "医籍登録番号",
        "Medical registration number";
    JmaCardId:
        "カードID",
        "Card ID";
    JmaSubmit:
        "認証",
        "Authenticate";
    ScanWithOldPhone:
        "登録済みのスマートフォン(旧スマートフォン)のカメラで二次元コードを読み取ってください。",
        "Scan this 2D code with the smartphone registered now (the old one).";
    ChangeQrAlt:
        "旧スマートフォンで読み取る二次元コード",
        "2D code for your old smartphone";
    ContinueOnOldPhone:
        "旧スマートフォンで操作を続けてください",
        "Continue on your old smartphone";
    ContinueOnOldPhoneHint:
        "旧スマートフォンで本人IDを確認し、生体認証を行ってください。完了すると旧スマートフォンに確認コードが表示されますので、この画面に入力してください。",
        "Confirm your HPKI ID on the old smartphone and pass its biometric check. The old smartphone then shows a confirmation code for you to enter on this screen.";
    ScanWithNewPhone:
        "新しいスマートフォンのカメラで二次元コードを読み取り、登録サイトにアクセスしてください。",
        "Scan this 2D code with the new smartphone's camera and open the registration site.";
    ChangeNothingChanged:
        "スマートフォンの登録は変更されていません。旧スマートフォンは引き続き利用できます。",
        "Nothing was changed. The old smartphone keeps working.";
    ChangeCancelled:
        "スマートフォン変更を中止しました。旧スマートフォンは引き続き利用できます。",
        "You cancelled the change. The old smartphone keeps working.";
    ProveSiteTitle:
        "スマートフォン変更(旧スマートフォン)",
        "Change smartphone (old smartphone)";
    ProveLoginHint:
        "本人IDを確認して「ログイン」を押してください。次の画面で、このスマートフォンの生体認証を行います。",
        "Check your HPKI ID and press Log in. This smartphone then asks for its biometrics.";
    LoginButton:
        "ログイン",
        "Log in";
    HpkiIdInvalid:
        "本人IDは半角英数字とハイフン(-)で入力してください。",
        "Enter the HPKI ID in ASCII letters, digits and hyphens (-).";
    ProveDone:
        "本人確認が完了しました。PCの画面に表示される新しい二次元コードを、新しいスマートフォンで読み取ってください。",
        "You are confirmed. Scan the new 2D code on the PC screen with the new smartphone.";
    ProveDoneNote:
        "このスマートフォンは、新しいスマートフォンの登録が完了するまで引き続き利用できます。",
        "This smartphone keeps working until the new one is registered.";
    ProveReissueHint:
        "PCでスマートフォン変更をやり直し、表示された二次元コードをこのスマートフォンで読み取ってください。",
        "Start the change again on the PC and scan the code it shows with this smartphone.";
    NothingChanged:
        "この操作では何も変更されていません。",
        "Nothing was changed by this attempt.";
    // The phone's confirmation code (issue 11 item 3).
    ConfirmEnterTitle:
        "確認コードの入力",
        "Enter the confirmation code";
    ConfirmEnterInstruction:
        "スマートフォンに表示されている確認コード(6桁の数字)を入力し、「確認」を押してください。",
        "Enter the confirmation code (6 digits) shown on your smartphone and press Confirm.";
    ConfirmEnterOldPhoneInstruction:
        "旧スマートフォンに表示されている確認コード(6桁の数字)を入力し、「確認」を押してください。",
        "Enter the confirmation code (6 digits) shown on your old smartphone and press Confirm.";
    ConfirmEnterNote:
        "お手元のスマートフォンで二次元コードを読み取っていない場合は、入力せずに「中止」を押してください。3回間違えると、この二次元コードは使用できなくなります。",
        "If you did not scan the 2D code with your own smartphone, do not enter anything and press Cancel. After three wrong entries this 2D code can no longer be used.";
    ConfirmButton:
        "確認",
        "Confirm";
    ConfirmShowInstruction:
        "PCの画面に次の確認コードを入力してください。",
        "Enter this confirmation code on the PC screen.";
    ConfirmShowNever:
        "確認コードはご自身のPCにだけ入力し、他の人には絶対に教えないでください(電話やメールで尋ねられても教えないでください)。",
        "Enter this code only on your own PC and never tell it to anyone (not even someone who asks by phone or email).";
    ConfirmWaiting:
        "PCでの入力を待っています…",
        "Waiting for the code to be entered on the PC...";
    ConfirmedOnPc:
        "PCで確認コードが確認されました。",
        "The confirmation code was accepted on the PC.";
    // Issue 17 (the clinician's screens).
    HelperDownload:
        "カード読み取りソフト(mahpki-helper)の入手とインストール方法",
        "Get and install the card helper (mahpki-helper)";
    PhoneLabelDevice:
        "スマートフォン",
        "Smartphone";
    PinWindowClosed:
        "PIN入力画面が閉じられました。開き直して入力するか、やめる場合は「中止」を押してください。",
        "The PIN window was closed. Open it again to enter your PIN, or press Cancel to stop.";
    ReopenPinWindow:
        "PIN入力画面を開き直す",
        "Open the PIN window again";
    // --- OpenID Connect: the consent page (issue 12) ---
    ConsentTitle:
        "サービス連携の確認",
        "Allow this service to sign you in";
    ConsentLead:
        "次のサービスが、このプラットフォームでの本人確認の結果を求めています。",
        "The following service asks for the result of your sign-in on this platform.";
    ConsentClientId:
        "クライアントID",
        "Client ID";
    ConsentSignedInAs:
        "本人確認済みの方",
        "Signed in as";
    ConsentShares:
        "同意すると、このサービスに本人ID、氏名、資格、認証局、本人確認の方法と時刻が伝えられます。同意は次回以降も有効です。",
        "If you agree, the service learns your HPKI ID, name, qualification, certification authority, and how and when you signed in. Your consent is kept for next time.";
    ConsentRemoteSigning:
        "このサービスは、あなたのHPKIセカンド電子証明書で電子署名(リモート署名)を行います。",
        "This service will make electronic signatures (remote signing) with your HPKI second certificate.";
    ConsentApprove:
        "同意する",
        "Agree";
    ConsentDecline:
        "同意しない",
        "Do not agree";
    ConsentLoading:
        "連携の内容を確認しています…",
        "Checking the request...";
    ConsentLeaving:
        "サービスの画面に戻っています…",
        "Returning to the service...";
    // The holder's page (登録状況, issue 12).
    AccountTitle:
        "登録状況",
        "Registration status";
    AccountLoading:
        "登録状況を読み込んでいます…",
        "Loading your registration status...";
    AccountNotSignedIn:
        "登録状況を表示するには、HPKIカード、マイナンバーカード、スマートフォンのいずれかでサインインしてください。",
        "To see your registration status, sign in with your HPKI card, your My Number card or your smartphone.";
    SignInLink:
        "サインイン",
        "Sign in";
    SignOut:
        "サインアウト",
        "Sign out";
    AccountHolderHeading:
        "ご本人の情報",
        "About you";
    AccountMyNumberHeading:
        "マイナンバーカード",
        "My Number card";
    AccountMyNumberNone:
        "マイナンバーカードは登録されていません。",
        "No My Number card is registered.";
    AccountIssuer:
        "発行者",
        "Issuer";
    AccountSerial:
        "シリアル番号",
        "Serial number";
    AccountValidUntil:
        "有効期限",
        "Valid until";
    AccountRegisteredOn:
        "登録日",
        "Registered on";
    AccountRevokeMyNumber:
        "マイナンバーカードの登録を取り消す",
        "Revoke the My Number card";
    AccountPhonesHeading:
        "スマートフォン(タブレットを含む)",
        "Smartphones (and tablets)";
    AccountPhonesNone:
        "スマートフォンは登録されていません。",
        "No smartphone is registered.";
    AccountPhoneName:
        "名前",
        "Name";
    AccountLastUsed:
        "最終利用",
        "Last used";
    AccountNeverUsed:
        "なし",
        "Never";
    AccountStatus:
        "状態",
        "Status";
    AccountInUse:
        "利用中",
        "In use";
    AccountRevokedOn:
        "取消済み",
        "Revoked";
    AccountOperation:
        "操作",
        "Action";
    AccountRevoke:
        "取り消す",
        "Revoke";
    AccountSessionsHeading:
        "サインイン中の端末",
        "Where you are signed in";
    AccountSessionsNone:
        "サインイン中の端末はありません。",
        "You are not signed in anywhere.";
    AccountFactor:
        "サインイン方法",
        "Signed in with";
    AccountBrowser:
        "ブラウザ",
        "Browser";
    AccountUnknownBrowser:
        "不明",
        "Unknown";
    AccountSince:
        "開始",
        "Since";
    AccountUntil:
        "終了予定",
        "Until";
    AccountThisBrowser:
        "この端末",
        "This browser";
    AccountEnd:
        "終了する",
        "End";
    AccountEndAll:
        "すべての端末でサインインを終了する",
        "End the sign-in everywhere";
    AccountEventsHeading:
        "最近の記録(最大20件)",
        "Recent events (up to 20)";
    AccountEventsNone:
        "記録はありません。",
        "No events yet.";
    AccountSignaturesHeading:
        "最近のリモート署名(最大20件)",
        "Recent remote signatures (up to 20)";
    AccountSignaturesNone:
        "リモート署名の記録はありません。",
        "No remote signatures yet.";
    AccountService:
        "サービス",
        "Service";
    AccountWhen:
        "日時",
        "When";
    AccountWhat:
        "内容",
        "What";
    AccountOutcome:
        "結果",
        "Result";
    AccountOutcomeOk:
        "完了",
        "Done";
    AccountOutcomeRefused:
        "受け付けられませんでした",
        "Refused";
    AccountGuideHeading:
        "登録・変更の手続き",
        "Register or change";
    FactorHpkiCard:
        "HPKIカード",
        "HPKI card";
    FactorMyNumber:
        "マイナンバーカード",
        "My Number card";
    FactorPasskey:
        "スマートフォン",
        "Smartphone";
    AccountConfirmTitle:
        "確認画面",
        "Please confirm";
    AccountConfirmRevokePhone:
        "次のスマートフォンの登録を取り消します。取り消したスマートフォンでは、サインインやスマートフォン変更ができなくなります。このスマートフォンでサインインしている端末も、サインインが終了します。",
        "This smartphone's registration will be revoked. It can then no longer be used to sign in or to change smartphones, and sign-ins made with it end too.";
    AccountConfirmRevokeMyNumber:
        "マイナンバーカードの登録を取り消します。取り消すと、マイナンバーカードでサインインできなくなり、このカードでサインインしている端末も、サインインが終了します。再び利用するには、HPKIカードを使ってマイナンバーカードを登録し直してください。",
        "Your My Number card's registration will be revoked. You can then no longer sign in with it, and sign-ins made with it end too. To use it again, register it once more using your HPKI card.";
    AccountConfirmEndSession:
        "次の端末のサインインを終了します。その端末で続けるには、もう一度サインインが必要です。",
        "The sign-in on this device will end. Continuing there needs a new sign-in.";
    AccountConfirmEndOwn:
        "この端末(いまお使いのブラウザ)のサインインを終了します。",
        "The sign-in on this browser, the one you are using now, will end.";
    AccountConfirmEndAll:
        "すべての端末のサインインを終了します。この端末もサインアウトします。",
        "The sign-in will end on every device, this one included.";
    AccountNothingDone:
        "「戻る」を押すと、何も変更せずに登録状況に戻ります。",
        "Press Back to return to your registration status without changing anything.";
    Back:
        "戻る",
        "Back";
    AccountWorking:
        "処理しています…",
        "Working...";
    AccountDonePhone:
        "スマートフォンの登録を取り消しました。",
        "The smartphone's registration was revoked.";
    AccountDoneMyNumber:
        "マイナンバーカードの登録を取り消しました。",
        "The My Number card's registration was revoked.";
    AccountDoneSession:
        "その端末のサインインを終了しました。",
        "The sign-in on that device has ended.";
    AccountSignedOut:
        "サインアウトしました。",
        "You are signed out.";
    AccountSignedOutAll:
        "すべての端末のサインインを終了しました。",
        "The sign-in has ended on every device.";
    AccountSignedOutMyNumber:
        "この端末はこのマイナンバーカードでサインインしていたため、サインアウトしました。",
        "This browser had signed in with that My Number card, so it is signed out too.";
    AccountReload:
        "登録状況を開き直す",
        "Open your registration status again";
    // Audit actions in plain words, one per AuditAction.
    EventHpkiAuth:
        "HPKIカードによる本人確認",
        "Identified with the HPKI card";
    EventSignIn:
        "サインイン",
        "Signed in";
    EventSignInEnd:
        "サインインの終了",
        "Sign-in ended";
    EventHpkiCertificate:
        "HPKIカードの証明書の更新",
        "HPKI card certificate renewed";
    EventIdentityImport:
        "認証局からの登録情報の受付",
        "Details received from the CA";
    EventIdentitySuspend:
        "認証局による利用停止",
        "Suspended by the CA";
    EventIdentityResume:
        "認証局による利用再開",
        "Resumed by the CA";
    EventJmaAuth:
        "医籍登録番号とカードIDによる本人確認",
        "Identified by medical registration number and card ID";
    EventJmaUnlock:
        "医籍登録番号による本人確認の停止解除",
        "Pause on identification by registration number lifted";
    EventMyNumberBind:
        "マイナンバーカードの登録",
        "My Number card registered";
    EventMyNumberReplace:
        "マイナンバーカードの登録の更新",
        "My Number card registration renewed";
    EventMyNumberRevoke:
        "マイナンバーカードの登録の取消し",
        "My Number card registration revoked";
    EventPhoneEnrolmentIssue:
        "スマートフォン登録用の二次元コードの発行",
        "2D code for registering a smartphone issued";
    EventPhoneEnrolmentOpen:
        "スマートフォン登録用の二次元コードの読取り",
        "2D code for registering a smartphone scanned";
    EventPhoneEnrolmentCancel:
        "スマートフォン登録の中止",
        "Smartphone registration cancelled";
    EventPhoneBind:
        "スマートフォンの登録",
        "Smartphone registered";
    EventPhoneReplace:
        "スマートフォンの変更",
        "Smartphone changed";
    EventPhoneRevoke:
        "スマートフォンの登録の取消し",
        "Smartphone registration revoked";
    EventPhoneChangeIssue:
        "スマートフォン変更用の二次元コードの発行",
        "2D code for changing smartphones issued";
    EventPhoneChangeOpen:
        "スマートフォン変更用の二次元コードの読取り",
        "2D code for changing smartphones scanned";
    EventPhoneChangeBegin:
        "旧スマートフォンでの本人確認の開始",
        "Identification on the old smartphone started";
    EventPhoneChangeProve:
        "旧スマートフォンでの本人確認",
        "Identified on the old smartphone";
    EventPhoneChangeCancel:
        "スマートフォン変更の中止",
        "Smartphone change cancelled";
    EventPhoneConfirm:
        "確認コードの入力",
        "Confirmation code entered";
    EventStandingRefuse:
        "利用停止中のため受け付けられなかった操作",
        "Refused while not in good standing";
    EventEnrolmentIssueLink:
        "認証局による登録用リンクの発行",
        "Registration link issued by the CA";
    EventSignInCodeIssue:
        "スマートフォンでのサインイン用2次元コードの発行",
        "A 2D code for signing in with your phone was shown";
    EventSignInCodeOpen:
        "サインイン用2次元コードの読み取り",
        "The sign-in 2D code was opened on a phone";
    EventSignInCodeProve:
        "スマートフォンでの本人確認(サインイン)",
        "Your phone confirmed it is you (sign-in)";
    EventSignInCodeCancel:
        "サインイン用2次元コードの中止",
        "The sign-in 2D code was cancelled";
    EventOidcClientAdd:
        "連携サービスの登録(運営者)",
        "A relying service was registered (operator)";
    EventOidcClientRemove:
        "連携サービスの登録解除(運営者)",
        "A relying service was removed (operator)";
    EventOidcKeyRotate:
        "IDトークン署名鍵の更新(運営者)",
        "The ID token signing key was rotated (operator)";
    EventOidcConsent:
        "サービス連携への同意",
        "Your answer to a service's request";
    EventOidcAuthorize:
        "サービスへのサインイン",
        "Sign-in to a service";
    EventOidcToken:
        "サービスへの認証結果の受け渡し",
        "Sign-in result handed to a service";
    EventOidcGrantRevoke:
        "不正な再利用によるサービス連携の無効化",
        "A service's access ended after a reuse";
    EventOidcRevoke:
        "サービスによる連携の終了",
        "A service ended its access";
    EventSecondCertRequest:
        "HPKIセカンド電子証明書の鍵の作成",
        "A key for your HPKI second certificate was made";
    EventSecondCertImport:
        "HPKIセカンド電子証明書の発行",
        "Your HPKI second certificate was issued";
    EventSecondCertRevoke:
        "HPKIセカンド電子証明書の失効",
        "Your HPKI second certificate was revoked";
    EventCscAuthorize:
        "リモート署名の許可(署名活性化データの発行)",
        "Remote signing authorised (signature activation data issued)";
    EventCscSign:
        "リモート署名",
        "Remote signature";
    // Issue 12: the sign-in page (「原則として、1日1回」の本人認証).
    SignInTitle:
        "サインイン",
        "Sign in";
    SignInEntry:
        "サインイン(1日1回の本人認証)",
        "Sign in (the daily identification)";
    SignInChecking:
        "サインインの状態を確認しています…",
        "Checking whether you are signed in...";
    SignInChooseTitle:
        "本人認証の方法を選んでください",
        "Choose how to identify yourself";
    SignInIntro:
        "原則として1日1回、(i) HPKIカード、(ii) マイナンバーカード、(iii) スマートフォンのいずれかで本人認証を行ってください。",
        "As a rule once a day, identify yourself with one of (i) your HPKI card, (ii) your My Number card or (iii) your smartphone.";
    SignInHelperNeeded:
        "カードでのサインインには、カード読み取りソフト(mahpki-helper)が必要です。スマートフォンでのサインインは、このまま利用できます。",
        "Signing in with a card needs the card helper (mahpki-helper). Signing in with your smartphone works without it.";
    SignInHpkiWay:
        "(i) HPKIカード",
        "(i) HPKI card";
    SignInHpkiHint:
        "HPKIカードをICカードリーダーにセットしてから押してください。",
        "Put your HPKI card in the IC card reader, then press the button.";
    SignInHpkiButton:
        "HPKIカードでサインイン",
        "Sign in with HPKI card";
    SignInMyNumberWay:
        "(ii) マイナンバーカード",
        "(ii) My Number card";
    SignInMyNumberHint:
        "マイナンバーカードをICカードリーダーにセットしてから押してください。暗証番号は、利用者証明用電子証明書の暗証番号(数字4桁)です。",
        "Put your My Number card in the IC card reader, then press the button. The PIN is that of the user-authentication certificate (4 digits).";
    SignInMyNumberNote:
        "マイナンバーカードでのサインインは、別紙1の手順でマイナンバーカードを登録した後に利用できます。",
        "Signing in with your My Number card works once you have registered it as described in Annex 1.";
    SignInMyNumberButton:
        "マイナンバーカードでサインイン",
        "Sign in with My Number card";
    SignInSmartphoneWay:
        "(iii) スマートフォン",
        "(iii) Smartphone";
    SignInSmartphoneHint:
        "登録済みのスマートフォンの生体認証(指紋・顔)で本人認証を行います。",
        "Identify yourself with the biometrics (fingerprint or face) of your registered smartphone.";
    SignInSmartphoneButton:
        "スマートフォンでサインイン",
        "Sign in with smartphone";
    SignedInTitle:
        "サインインしています",
        "You are signed in";
    SignedInFactorLabel:
        "本人認証の方法",
        "Identified with";
    SignedInSinceLabel:
        "サインインした日時",
        "Signed in at";
    SignedInUntilLabel:
        "サインインの有効期限",
        "Signed in until";
    SignInDone:
        "サインインしました。次の画面に移動しています…",
        "You are signed in. Moving on...";
    ContinueToService:
        "サービスの画面へ進む",
        "Continue to the service";
    GoToAccount:
        "登録状況へ進む",
        "Go to your registration status";
    SignInAgain:
        "もう一度サインインする",
        "Sign in again";
    SignInAgainHint:
        "別の方法で本人認証をし直すこともできます。",
        "You can also identify yourself again, by any of the ways.";
    SignInFailedTitle:
        "サインインできませんでした",
        "You could not be signed in";
    SignedOutTitle:
        "サインアウトしました",
        "You have signed out";
    SignedOutMessage:
        "このブラウザでのサインインを終了しました。共用のPCでは、ブラウザも終了してください。",
        "Your sign-in on this browser has ended. On a shared PC, close the browser too.";
    // The スマートフォン way of the daily sign-in (issue 12).
    SignInSmartphoneTitle:
        "スマートフォンでサインイン",
        "Sign in with your smartphone";
    SignInScanCode:
        "登録済みのスマートフォンのカメラで二次元コードを読み取り、表示されたページで生体認証を行ってください。",
        "Scan the 2D code with your registered smartphone's camera and pass the biometric check on the page it opens.";
    SignInQrAlt:
        "スマートフォンでサインインするための二次元コード",
        "2D code for signing in with your smartphone";
    PasskeyHereTitle:
        "このパソコンのブラウザでパスキーを使う",
        "Use a passkey in this PC's browser";
    PasskeyHereHint:
        "ブラウザの画面の案内に従ってください。ブラウザによっては、近くにある登録済みのスマートフォンで確認できます。",
        "Follow your browser's prompts. Some browsers can reach your registered smartphone nearby.";
    PasskeyHereButton:
        "このパソコンでパスキーを使う",
        "Use a passkey on this PC";
    PasskeyHereWaiting:
        "ブラウザのパスキーの画面で操作してください…",
        "Continue in your browser's passkey prompt...";
    SignInContinueOnPhone:
        "スマートフォンで生体認証を行ってください",
        "Pass the biometric check on your smartphone";
    SignInContinueOnPhoneHint:
        "完了するとスマートフォンに確認コードが表示されますので、この画面に入力してください。",
        "Your smartphone then shows a confirmation code for you to enter on this screen.";
    SignInConfirmInstruction:
        "スマートフォンに表示されている確認コード(6桁の数字)を入力し、「確認」を押してください。正しく入力すると、このパソコンでサインインします。",
        "Enter the confirmation code (6 digits) shown on your smartphone and press Confirm. This PC is then signed in.";
    SignedInMoving:
        "サインインしました。次の画面に移動します…",
        "You are signed in. Moving on...";
    SignInNobodySignedIn:
        "どなたもサインインしていません。",
        "Nobody was signed in.";
    SignInCancelled:
        "サインインを中止しました。",
        "You cancelled the sign-in.";
    SignInPhoneTitle:
        "スマートフォンでサインイン",
        "Sign in with your smartphone";
    SignInPhoneIntro:
        "このスマートフォンでサインインします。「パスキーでサインイン」を押し、生体認証(指紋・顔)を行ってください。本人IDの入力は不要です。",
        "Sign in on this smartphone. Press Sign in with passkey and pass the biometric check (fingerprint or face). No HPKI ID is needed.";
    SignInPhoneCodeIntro:
        "パソコンでサインインします。「パスキーでサインイン」を押し、このスマートフォンの生体認証(指紋・顔)を行ってください。",
        "You are signing in on a PC. Press Sign in with passkey and pass this smartphone's biometric check (fingerprint or face).";
    SignInPhoneCodeWarning:
        "ご自身がいま操作しているパソコンに表示された二次元コードでない場合は、ここで操作をやめてください。",
        "If this 2D code is not from the PC you are using yourself right now, stop here.";
    PasskeySignInButton:
        "パスキーでサインイン",
        "Sign in with passkey";
    PasskeyChecking:
        "生体認証を行っています…",
        "Checking your biometrics...";
    SignInPhoneOpening:
        "二次元コードを確認しています…",
        "Checking the 2D code...";
    SignInPhoneDone:
        "パソコンでサインインしました。このページは閉じてかまいません。",
        "The PC is signed in. You may close this page.";
    SignInPhoneReissueHint:
        "パソコンで二次元コードを再発行し、このスマートフォンで読み取ってください。",
        "Issue a new 2D code on the PC and scan it with this smartphone.";
}

impl Msg {
    pub fn in_lang(self, lang: Lang) -> &'static str {
        lang.pick(self.text())
    }
}

/// Where a text may wrap on a narrow screen (U+200B, zero width). Views that show the text turn
/// it into `<wbr>`; titles and headings that are read, not laid out, drop it ([`unmarked`]).
pub const WRAP_MARK: char = '\u{200B}';

/// The text without its [`WRAP_MARK`]s.
pub fn unmarked(text: &str) -> String {
    text.replace(WRAP_MARK, "")
}

/// 「残り回数: n回」: how many PIN tries the card has left.
pub fn tries_left(lang: Lang, n: u8) -> String {
    match lang {
        Lang::Ja => format!("残り回数: {n}回"),
        Lang::En => format!("Tries left: {n}"),
    }
}

/// 「15分後から再度入力できます」: the JMA path's pause, in whole minutes rounded up.
pub fn retry_after(lang: Lang, secs: u64) -> String {
    let m = secs.div_ceil(60);
    match lang {
        Lang::Ja => format!("{m}分後から再度入力できます。"),
        Lang::En => format!("You can try again in {m} min."),
    }
}

/// After a wrong confirmation code: what happened and the entries left.
pub fn confirm_wrong(lang: Lang, tries_left: u8) -> String {
    match lang {
        Lang::Ja => format!("確認コードが正しくありません。あと{tries_left}回入力できます。"),
        Lang::En => format!("That confirmation code is not correct. Tries left: {tries_left}."),
    }
}

/// 「有効期限まで残り 4分05秒」: the countdown of a 2D code.
pub fn expires_in(lang: Lang, secs: u32) -> String {
    let (m, s) = (secs / 60, secs % 60);
    match lang {
        Lang::Ja => format!("有効期限まで残り {m}分{s:02}秒"),
        Lang::En => format!("Expires in {m}:{s:02}"),
    }
}

/// A Unix time as the day and minute in Japan (「2031年3月31日 23:59」).
pub fn date_time(lang: Lang, secs: i64) -> String {
    let (h, min) = crate::date::jst_hm(secs);
    format!("{} {h}:{min:02}", date(lang, secs))
}

/// 「3件の署名」: how many signatures a service made at once.
pub fn signatures_count(lang: Lang, n: u32) -> String {
    match (lang, n) {
        (Lang::Ja, _) => format!("{n}件の署名"),
        (Lang::En, 1) => "1 signature".to_owned(),
        (Lang::En, _) => format!("{n} signatures"),
    }
}

/// 「「私のスマートフォン」を取り消す」: a row's button, named by its row for a screen reader.
pub fn revoke_named(lang: Lang, label: &str) -> String {
    match lang {
        Lang::Ja => format!("「{label}」の登録を取り消す"),
        Lang::En => format!("Revoke \"{label}\""),
    }
}

/// 「Chrome / Windows のサインインを終了する」: a session row's button, named by its row.
pub fn end_named(lang: Lang, browser: &str, since: &str) -> String {
    match lang {
        Lang::Ja => format!("{browser}({since}から)のサインインを終了する"),
        Lang::En => format!("End the sign-in on {browser} (since {since})"),
    }
}

/// 「取消済み(2031年3月31日)」: a text with a note in brackets, as each language writes them.
pub fn noted(lang: Lang, text: &str, note: &str) -> String {
    match lang {
        Lang::Ja => format!("{text}({note})"),
        Lang::En => format!("{text} ({note})"),
    }
}

/// A Unix time as the calendar day in Japan.
pub fn date(lang: Lang, secs: i64) -> String {
    let (y, m, d) = crate::date::jst_ymd(secs);
    match lang {
        Lang::Ja => format!("{y}年{m}月{d}日"),
        Lang::En => format!("{y}-{m:02}-{d:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_is_translated() {
        for &m in Msg::ALL {
            let t = m.text();
            // The guide's own button label is 「OK」 in both languages.
            if m == Msg::Ok {
                continue;
            }
            assert!(!t.ja.is_empty() && !t.en.is_empty(), "{m:?}");
            assert_ne!(t.ja, t.en, "{m:?}");
            assert!(!t.ja.is_ascii(), "{m:?}: Japanese side is ASCII");
            assert!(t.en.is_ascii(), "{m:?}: English side has non-ASCII");
        }
    }

    #[test]
    fn numbers_and_dates_read_naturally_in_each_language() {
        assert_eq!(tries_left(Lang::Ja, 2), "残り回数: 2回");
        assert_eq!(tries_left(Lang::En, 2), "Tries left: 2");
        assert_eq!(date(Lang::Ja, 1_932_735_599), "2031年3月31日");
        assert_eq!(date(Lang::En, 1_932_735_600), "2031-04-01");
        assert_eq!(date_time(Lang::Ja, 1_932_735_599), "2031年3月31日 23:59");
        assert_eq!(date_time(Lang::En, 1_932_735_600), "2031-04-01 0:00");
    }

    #[test]
    fn language_tags_round_trip() {
        for l in [Lang::Ja, Lang::En] {
            assert_eq!(Lang::from_tag(l.tag()), Some(l));
        }
        assert_eq!(Lang::from_tag("fr"), None);
    }
}
