//! The one error catalogue. The server answers every failure with an [`ErrorBody`] carrying an
//! [`ErrorCode`]; the app renders the code in the holder's language with a remedy, so the text a
//! clinician reads never depends on what the server happened to print.

use serde::{Deserialize, Serialize};

/// Declares [`ErrorCode`] from one row per code (name, HTTP status, message, remedy), so a code
/// is written once and the enum, [`ErrorCode::ALL`] and the lookups follow from the rows. The
/// lookups stay `match`es: a table of structs would be larger in the web app's download.
macro_rules! error_codes {
    ($(
        $(#[$attr:meta])*
        $code:ident, $status:literal, $message:expr, $remedy:expr;
    )*) => {
        /// Every error a holder can meet, wherever it arose (server, helper, or the app's own transport).
        ///
        /// On the wire a code is its name in snake_case (`payload_too_large`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$attr])* $code, )*
        }

        impl ErrorCode {
            /// Every code, in the catalogue's order.
            pub const ALL: &'static [ErrorCode] = &[$(Self::$code),*];

            /// The HTTP status the server answers with.
            pub fn http_status(self) -> u16 {
                match self {
                    $(Self::$code => $status,)*
                }
            }

            /// What went wrong, for the holder.
            pub fn message(self) -> Text {
                match self {
                    $(Self::$code => $message,)*
                }
            }

            /// What the holder can do about it.
            pub fn remedy(self) -> Text {
                match self {
                    $(Self::$code => $remedy,)*
                }
            }
        }
    };
}

/// A catalogue text: Japanese, then English.
const fn t(ja: &'static str, en: &'static str) -> Text {
    Text { ja, en }
}

// Remedies several codes share.
/// For a request the server could not place: begin the step again.
const START_AGAIN: Text =
    t("トップページから操作をやり直してください。", "Please start again from the top page.");
/// For a challenge that can no longer be answered.
const NEW_AUTHENTICATION: Text = t(
    "もう一度ボタンを押して、認証をやり直してください。",
    "Press the button again to start a new authentication.",
);
/// For what only the certificate's issuer can change.
const CONTACT_ISSUING_CA: Text = t(
    "発行元の認証局にお問い合わせください。",
    "Please contact the issuing certification authority.",
);
/// For what only the HPKI card's CA can decide.
const CONTACT_HPKI_CA: Text = t(
    "HPKIカードを発行した認証局にお問い合わせください。",
    "Please contact the certification authority that issued your HPKI card.",
);
/// For what only the relying service's provider can fix.
const ASK_SERVICE: Text = t(
    "ご利用のサービス(電子処方箋システムなど)の提供元にお問い合わせください。",
    "Please contact the provider of the service you were using (e.g. the prescription system).",
);
/// For a passing failure on the server's side.
const TRY_AGAIN_SHORTLY: Text = t(
    "しばらくしてからもう一度お試しください。解決しない場合はお問い合わせください。",
    "Please try again shortly. If this persists, contact support.",
);

// One row per code: name, HTTP status, message (ja, en), remedy (ja, en).
error_codes! {
    /// The request could not be read (malformed JSON, wrong fields).
    BadRequest, 400,
        t("要求の形式が正しくありません。",
          "The request was not in the expected form."),
        START_AGAIN;
    /// No such endpoint or resource.
    NotFound, 404,
        t("お探しのページまたは情報が見つかりません。",
          "The page or information you asked for was not found."),
        START_AGAIN;
    /// The endpoint exists but not for this HTTP method.
    MethodNotAllowed, 405,
        t("この操作はこの方法では受け付けていません。",
          "This operation is not accepted this way."),
        START_AGAIN;
    /// The request body exceeds the server's limit.
    PayloadTooLarge, 413,
        t("送信されたデータが大きすぎます。",
          "The data sent was too large."),
        t("トップページから操作をやり直してください。解決しない場合はお問い合わせください。",
          "Please start again from the top page. If this persists, contact support.");
    /// Too many attempts from this client in a short time.
    RateLimited, 429,
        t("短時間に操作が繰り返されました。",
          "There were too many attempts in a short time."),
        t("しばらく(1分程度)待ってから、もう一度お試しください。",
          "Please wait a minute and try again.");
    // --- sessions, challenges, certificates, bindings (server) ---
    Unauthenticated, 401,
        t("HPKIカードによる本人確認が済んでいません。",
          "You have not been identified with your HPKI card yet."),
        t("トップページから、HPKIカードでの本人確認をやり直してください。",
          "Please start again from the top page and identify yourself with your HPKI card.");
    SessionExpired, 401,
        t("一定時間操作がなかったため、接続が切れました。",
          "The session ended because nothing happened for a while."),
        t("お手数ですが、トップページからもう一度操作してください。カードやスマートフォンの登録内容は変わっていません。",
          "Please start again from the top page. Nothing about your cards or phone has changed.");
    /// A page or endpoint that needs the daily sign-in, without one alive on this browser.
    NotSignedIn, 401,
        t("サインインしていません。",
          "You are not signed in."),
        t("HPKIカード、マイナンバーカード、スマートフォンのいずれかでサインインしてください。",
          "Please sign in with your HPKI card, your My Number card or your smartphone.");
    /// The holder's page named a phone, binding or signing session that is not one of the
    /// signed-in holder's (or does not exist: the two are not told apart).
    AccountItemUnknown, 404,
        t("ご本人の登録の中に、指定されたものが見つかりません。",
          "What you chose is not among your registrations."),
        t("登録状況の画面を開き直し、表示されている内容から選んでください。",
          "Open your registration status page again and choose from what it shows.");
    /// The holder's page named their own phone, binding or signing session that already ended.
    AccountItemEnded, 409,
        t("指定されたものは、すでに取り消されているか終了しています。",
          "What you chose was already revoked or has already ended."),
        t("登録状況の画面を開き直して、現在の状態を確認してください。",
          "Open your registration status page again to see how things stand now.");
    CsrfRejected, 403,
        t("このサイト以外から送られた要求のため、受け付けませんでした。",
          "The request did not come from this site and was refused."),
        t("ブラウザのアドレス欄で正しいサイトを開いていることを確認し、トップページからやり直してください。",
          "Check that the address bar shows this site, then start again from the top page.");
    ChallengeUnknown, 400,
        t("この認証要求は既に使用済みか、存在しません。",
          "This authentication request was already used or does not exist."),
        NEW_AUTHENTICATION;
    ChallengeExpired, 400,
        t("認証要求の有効期限(5分)が切れました。",
          "The authentication request expired (after 5 minutes)."),
        NEW_AUTHENTICATION;
    ChallengeWrongSession, 400,
        t("この認証要求は別の画面で発行されたものです。",
          "This authentication request was issued to another window."),
        t("この画面でもう一度ボタンを押して、認証をやり直してください。",
          "Press the button again in this window to start a new authentication.");
    /// A challenge issued for one use (the HPKI login, a My Number binding, a My Number sign-in)
    /// presented to another.
    ChallengeWrongPurpose, 400,
        t("この認証要求は、別の操作のために発行されたものです。",
          "This authentication request was issued for another operation."),
        t("この画面でもう一度ボタンを押して、認証をやり直してください。",
          "Press the button again in this window to start a new authentication.");
    SignatureInvalid, 400,
        t("カードの署名を確認できませんでした。",
          "The card's signature could not be verified."),
        t("カードを挿し直して、もう一度お試しください。別のサイトの画面から操作していないかもご確認ください。",
          "Re-insert the card and try again, and check that you are using this site's page.");
    UnsupportedAlgorithm, 400,
        t("このカードの鍵または署名方式には対応していません。",
          "This card's key or signature algorithm is not supported."),
        CONTACT_ISSUING_CA;
    CertificateMalformed, 400,
        t("カードの証明書を読み取れませんでした。",
          "The card's certificate could not be read."),
        t("カードを挿し直して、もう一度お試しください。",
          "Re-insert the card and try again.");
    CertificateUntrusted, 400,
        t("このカードの証明書は、本プラットフォームが信頼する認証局の発行ではありません。",
          "This card's certificate was not issued by a certification authority this platform trusts."),
        t("正しいカード(HPKIカードまたはマイナンバーカード)を使っているかご確認ください。",
          "Check that you are using the right card (HPKI card or My Number card).");
    CertificateExpired, 400,
        t("カードの証明書の有効期限が切れているか、まだ有効になっていません。",
          "The card's certificate has expired or is not valid yet."),
        t("HPKIカードは発行元の認証局、マイナンバーカードはお住まいの市区町村の窓口で更新してください。",
          "Renew it: the HPKI card at its issuing CA, the My Number card at your municipal office.");
    CertificateRevoked, 400,
        t("カードの証明書は失効しています。",
          "The card's certificate has been revoked."),
        t("HPKIカードは発行元の認証局、マイナンバーカードはお住まいの市区町村の窓口にお問い合わせください。",
          "Contact the issuing CA (HPKI card) or your municipal office (My Number card).");
    RevocationUnavailable, 503,
        t("証明書の失効情報を確認できないため、処理を中止しました。",
          "The certificate's revocation status cannot be checked right now, so nothing was done."),
        t("しばらくしてからもう一度お試しください。解決しない場合はお問い合わせください。",
          "Please try again later. If this persists, contact support.");
    CertificateKeyUsage, 400,
        t("このカードの証明書は本人確認用ではありません。",
          "This card's certificate is not meant for identification."),
        t("カードの認証用の証明書を使っているかご確認ください。解決しない場合は発行元にお問い合わせください。",
          "Check that the card's authentication certificate is used; otherwise contact its issuer.");
    CertificateUnsupportedExtension, 400,
        t("このカードの証明書には、本プラットフォームが対応していない必須の拡張があります。",
          "This card's certificate has a critical extension this platform does not support."),
        CONTACT_ISSUING_CA;
    CertificatePolicy, 400,
        t("このカードの証明書は、本プラットフォームで利用できる種類ではありません。",
          "This card's certificate is not of a kind this platform accepts."),
        t("正しいカードを使っているかご確認ください。",
          "Check that you are using the right card.");
    HolderUnknown, 403,
        t("このHPKIカードの本人IDは、本プラットフォームに登録されていません。",
          "This HPKI card's holder (HPKI ID) is not registered on this platform."),
        CONTACT_HPKI_CA;
    MyNumberBoundElsewhere, 409,
        t("このマイナンバーカードは、既に別の本人IDに登録されています。",
          "This My Number card is already registered to another HPKI ID (本人ID)."),
        t("ご自身のマイナンバーカードかご確認ください。心当たりがない場合は、HPKIカードの発行元の認証局にお問い合わせください。",
          "Check that it is your own card. If you do not know why, contact the CA that issued your HPKI card.");
    /// A My Number sign-in with a card no holder has registered (別紙1).
    MyNumberNotBound, 403,
        t("このマイナンバーカードは、本プラットフォームに登録されていません。",
          "This My Number card is not registered on this platform."),
        t("マイナンバーカードでサインインするには、先に別紙1の手順でマイナンバーカードを登録してください。それまではHPKIカードでサインインできます。",
          "To sign in with your My Number card, first register it as described in Annex 1. Until then, sign in with your HPKI card.");
    /// A My Number sign-in with a card whose registration was replaced (a renewed card) or revoked.
    MyNumberBindingEnded, 403,
        t("このマイナンバーカードの登録は、新しいカードへの切替えまたは取消しにより終了しています。",
          "This My Number card's registration has ended: it was replaced by a newer card or revoked."),
        t("新しいマイナンバーカードをお持ちの場合はそのカードでサインインしてください。お持ちでない場合は、HPKIカードでサインインし、別紙1の手順でマイナンバーカードを登録し直してください。",
          "If you have a newer My Number card, sign in with it. Otherwise sign in with your HPKI card and register your My Number card again as described in Annex 1.");
    /// The phone presented no enrolment this server knows (a mistyped link, or no code opened on this phone).
    EnrolmentUnknown, 404,
        t("この登録用の2次元コード(URL)は無効です。",
          "This registration code (link) is not valid."),
        t("PCの画面に表示されている2次元コードを、スマートフォンのカメラで読み取り直してください。",
          "Scan the 2D code shown on the PC screen again with the phone camera.");
    /// The enrolment was not opened or finished in time.
    EnrolmentExpired, 410,
        t("登録用の2次元コードの有効期限が切れました。",
          "The registration code has expired."),
        t("PCの画面で「再発行」を押し、新しい2次元コードを読み取ってください。",
          "Press \"Issue again\" on the PC and scan the new 2D code.");
    /// The enrolment was already completed: a token is single use.
    EnrolmentUsed, 410,
        t("この登録用の2次元コードは既に使用されています。",
          "This registration code has already been used."),
        t("登録をやり直す場合は、PCでHPKIカードによる本人確認から操作してください。",
          "To register again, start on the PC by identifying yourself with the HPKI card.");
    /// Another phone opened this enrolment first; it belongs to that phone.
    EnrolmentOtherDevice, 409,
        t("この登録用の2次元コードは、別のスマートフォンで既に読み取られています。",
          "This registration code has already been opened on another phone."),
        t("登録するスマートフォンで読み取ったか確認してください。心当たりがない場合は、PCで新しい2次元コードを発行し直してください。",
          "Check that you scanned it with the phone you are registering. If not, issue a new code on the PC.");
    /// A newer enrolment of the same holder replaced this one.
    EnrolmentCancelled, 410,
        t("この登録用の2次元コードは、新しいコードの発行により無効になりました。",
          "This registration code was replaced by a newer one."),
        t("PCの画面に表示されている最新の2次元コードを読み取ってください。",
          "Scan the latest 2D code shown on the PC.");
    /// A phone is bound and the request did not ask to replace it (the UI then asks the replace question).
    PhoneAlreadyBound, 409,
        t("デバイスがすでに登録済みとなっています。",
          "A device is already registered."),
        t("現在のデバイスを削除して登録し直す場合は「はい」を選んでください。",
          "To remove the current device and register again, choose \"Yes\".");
    /// The phone's WebAuthn answer did not verify (wrong challenge or origin, no user verification, bad signature).
    WebauthnFailed, 400,
        t("スマートフォンの生体認証(パスキー)による登録を確認できませんでした。",
          "The registration with the phone's biometrics (passkey) could not be verified."),
        t("スマートフォンに画面ロックと生体認証(指紋・顔)が設定されているか、標準のブラウザで開いているかを確認し、もう一度「登録」を押してください。",
          "Check that the phone has a screen lock and biometrics (fingerprint or face) set up and that you use its default browser, then press Register again.");
    /// This WebAuthn credential is already registered.
    CredentialExists, 409,
        t("このスマートフォンの認証情報は既に登録されています。",
          "This phone's credential is already registered."),
        t("登録をやり直す場合は、PCで新しい2次元コードを発行し、もう一度読み取ってください。",
          "To register again, issue a new code on the PC and scan it.");
    /// The phone label is empty, too long or has control characters.
    CredentialLabelInvalid, 400,
        t("スマートフォンの名前が正しくありません。",
          "The phone name is not valid."),
        t("1文字以上64文字以内で入力してください。",
          "Enter 1 to 64 characters.");
    /// The enrolment link a CA issued (valid for months) has run out.
    EnrolmentLinkExpired, 410,
        t("この登録用リンクの有効期限が切れました。",
          "This registration link has expired."),
        ASK_CA_FOR_LINK;
    /// The holder's CA allows no further phone binding (or no replacement).
    PhoneLimitReached, 403,
        t("認証局の定めにより、これ以上スマートフォンを登録(変更)できません。",
          "Your certification authority does not allow registering (or changing) another phone."),
        CONTACT_HPKI_CA;
    /// The 医籍登録番号 and カードID do not match a holder whose CA allows this proof.
    JmaLoginFailed, 401,
        t("医籍登録番号またはカードIDが正しくありません。",
          "The medical registration number or card ID is not correct."),
        t("HPKIカードに印字されている番号を確認して入力してください。5回続けて誤ると、しばらく入力を受け付けなくなります。",
          "Check the numbers printed on your HPKI card and enter them again. Five wrong attempts pause this method for a while.");
    /// Five failed 医籍登録番号 + カードID attempts: this number is backing off (the answer's
    /// `retry_after_secs` says until when), whether or not a holder has it.
    JmaLocked, 423,
        t("誤った入力が続いたため、この医籍登録番号による本人確認をしばらく受け付けません。",
          "Too many wrong attempts: identification with this medical registration number is paused for a while."),
        t("15分以上たってからもう一度お試しください(誤りが続くと待ち時間は倍になります)。お急ぎの場合はHPKIカードで本人確認を行うか、日本医師会認証局に解除を申請してください。",
          "Try again after at least 15 minutes (the wait doubles if wrong attempts continue). If it is urgent, identify yourself with the HPKI card, or ask the JMA certification authority to lift the pause.");
    /// The holder named on the old phone has no phone bound (スマートフォン変更 needs one).
    PhoneNotBound, 404,
        t("この本人IDには、登録済みのスマートフォンがありません。",
          "No phone is registered to this HPKI ID."),
        t("本人IDを確認してください。スマートフォンを新しく登録する場合は、HPKIカードで本人確認をして登録してください。",
          "Check the HPKI ID. To register a phone for the first time, identify yourself with the HPKI card.");
    // ---- Holder standing (revocation branch, issue 11 item 2). ----
    /// The CA operator suspended this holder (`identity suspend`): no path without the card.
    HolderSuspended, 403,
        t("この本人IDは、認証局により利用が停止されています。登録済みのマイナンバーカードとスマートフォンも利用できません。",
          "Your certification authority has suspended this HPKI ID. Your registered My Number card and phone cannot be used either."),
        t("発行元の認証局にお問い合わせください。",
          "Please contact the certification authority that issued your HPKI card.");
    /// No HPKI certificate is on record for this holder yet, so its revocation cannot be
    /// checked on a path that does not read the card.
    HpkiCertificateUnknown, 403,
        t("この本人IDのHPKIカードの証明書が確認できていないため、カードを使わない手続きはできません。",
          "The certificate of this HPKI ID's HPKI card has not been checked yet, so steps without the card are not available."),
        t("一度HPKIカードで本人確認を行ってから、もう一度お試しください。",
          "Identify yourself once with the HPKI card, then try again.");
    /// The CA's revocation list is past its nextUpdate (or too old): that CA's certificates are
    /// refused until a current one is loaded.
    CrlOutdated, 503,
        t("認証局の失効リストが更新されていないため、この認証局の証明書を確認できません。",
          "The certification authority's revocation list is out of date, so its certificates cannot be checked."),
        t("しばらくしてからもう一度お試しください。解決しない場合は、プラットフォームの運営者にお問い合わせください。",
          "Please try again later. If this persists, contact the platform operator.");
    // ---- JMA path (issue 11). ----
    /// A session proved by 医籍登録番号 + カードID may enrol a first phone only; one is bound.
    JmaFirstPhoneOnly, 403,
        t("医籍登録番号とカードIDによる本人確認では、スマートフォンの初回登録しかできません。この本人IDにはすでにスマートフォンが登録されています。",
          "Identification by medical registration number and card ID can only register a first smartphone, and one is already registered to this HPKI ID."),
        t("HPKIカードで本人確認をしてから登録し直す(別紙2)か、登録済みのスマートフォンで「スマートフォン変更」を行ってください。",
          "Identify yourself with the HPKI card and register again (Annex 2), or use Change smartphone with the registered smartphone.");
    // ---- Issue 11, smaller holes (streams, proxy address, スマートフォン変更 begin). ----
    /// This browser session (or the whole server) has as many live-event streams open as allowed.
    TooManyStreams, 429,
        t("同時に開いている画面が多すぎます。",
          "Too many screens are open at the same time."),
        t("使っていない画面やタブを閉じてから、もう一度お試しください。",
          "Close the screens or tabs you are not using, then try again.");
    /// A proxy address header is configured but the request did not carry a usable one.
    ClientAddressMissing, 400,
        t("接続元を確認できないため、この操作を受け付けられません。",
          "This operation cannot be accepted because the connection's origin could not be determined."),
        TRY_AGAIN_SHORTLY;
    /// The first code of a スマートフォン変更 was already used to look up another 本人ID.
    ChangeCodeClaimed, 409,
        t("この2次元コードは、別の本人IDの確認にすでに使われています。",
          "This code was already used to check another HPKI ID."),
        t("PCの画面で新しい2次元コードを表示し、本人IDを確認してから読み取り直してください。",
          "Show a new code on the PC, check your HPKI ID, and scan the new code.");
    // ---- Phone confirmation (issue 11 item 3): the code the phone shows, typed on the PC. ----
    /// The confirmation code typed on the PC is not the one the phone shows; tries remain.
    ConfirmationWrong, 400,
        t("確認コードが正しくありません。",
          "The confirmation code is not correct."),
        t("お手元のスマートフォンに表示されている確認コードを確かめて、もう一度入力してください。3回間違えると、この2次元コードは使用できなくなります。",
          "Check the confirmation code shown on your phone and enter it again. After three wrong entries this 2D code can no longer be used.");
    /// Three wrong confirmation codes: the 2D code is dead and the phone can never finish.
    ConfirmationFailed, 410,
        t("確認コードを3回間違えたため、この2次元コードは使用できなくなりました。",
          "The confirmation code was wrong three times, so this 2D code can no longer be used."),
        t("PCで2次元コードを発行し直し、お手元のスマートフォンで読み取ってください。心当たりのないスマートフォンが読み取った可能性があります。",
          "Issue a new 2D code on the PC and scan it with your own phone. A phone that is not yours may have scanned it.");
    /// The phone may not go on before the PC entered the code the phone shows.
    ConfirmationPending, 409,
        t("PCで確認コードがまだ入力されていません。",
          "The confirmation code has not been entered on the PC yet."),
        t("スマートフォンに表示されている確認コードをPCの画面に入力してから、スマートフォンで操作を続けてください。",
          "Enter the confirmation code shown on the phone into the PC screen, then continue on the phone.");
    /// The PC entered a confirmation code while no phone is waiting for one.
    ConfirmationUnknown, 404,
        t("確認コードを待っているスマートフォンがありません。",
          "No phone is waiting for a confirmation code."),
        t("スマートフォンで2次元コードを読み取り、表示された確認コードを入力してください。",
          "Scan the 2D code with your phone, then enter the confirmation code it shows.");
    /// A passkey sign-in named a credential that is not a bound phone's (never registered here,
    /// revoked, or replaced by a newer phone).
    PasskeyUnknown, 401,
        t("このパスキーは、登録済みのスマートフォンのものではありません(登録されていないか、削除・変更されています)。",
          "This passkey is not that of a registered phone (it was never registered, or it was removed or replaced)."),
        t("登録済みのスマートフォンでもう一度お試しください。スマートフォンを登録していない場合は、別紙2の手順で登録してください。",
          "Try again with your registered phone. If you have not registered a phone, register one as in Annex 2.");
    /// No passkey challenge is waiting for this browser: never asked for, already answered, run
    /// out, or asked for by another browser.
    PasskeyChallengeUnknown, 400,
        t("パスキーによる確認の有効期限が切れたか、すでに使用されています。",
          "The passkey check has expired or was already used."),
        t("もう一度「パスキーでサインイン」を押してください。",
          "Press Sign in with passkey again.");
    /// The passkey's answer was made for another site (a look-alike page).
    PasskeyWrongOrigin, 400,
        t("このサイト以外で行われたパスキーの確認です。",
          "The passkey check was made for another site."),
        t("アドレスバーのURLがこのサイトのものであることを確かめ、このサイトの画面からもう一度サインインしてください。",
          "Check that the address bar shows this site's address, then sign in again from this site's page.");
    /// The passkey's answer says no user verification (biometrics or screen lock) was done.
    PasskeyNotVerified, 400,
        t("スマートフォンの生体認証(指紋・顔)または画面ロックによる本人確認が行われませんでした。",
          "No biometric (fingerprint or face) or screen-lock check was made on the phone."),
        t("スマートフォンに画面ロックと生体認証を設定し、もう一度サインインしてください。",
          "Set up a screen lock and biometrics on the phone, then sign in again.");
    /// The passkey's answer did not verify (bad signature, a cloned authenticator's counter).
    PasskeyRefused, 400,
        t("パスキーによる本人確認を確認できませんでした。",
          "The passkey check could not be verified."),
        t("もう一度サインインしてください。繰り返す場合は、スマートフォン変更の手順でスマートフォンを登録し直してください。",
          "Please sign in again. If this keeps happening, register your phone again with the phone change steps.");
    /// The browser's passkey prompt for a sign-in did not complete: cancelled, timed out, or no
    /// passkey of this site on the device (raised by the app, never sent by the server).
    PasskeyCancelled, 400,
        t("パスキーによる確認が完了しませんでした(キャンセル・時間切れ、またはこの端末にこのサイトのパスキーがありません)。",
          "The passkey check did not complete (cancelled or timed out, or this device holds no passkey for this site)."),
        t("もう一度「パスキーでサインイン」を押し、登録済みのスマートフォンで生体認証を行ってください。それでもパスキーが見つからない場合は、スマートフォン変更の手順で、このスマートフォンを登録し直してください(以前の方式で登録されたスマートフォンは、登録し直すとサインインに使えるようになります)。",
          "Press Sign in with passkey again and complete the biometric check on your registered phone. If no passkey is found even then, register this phone again with the phone change steps (a phone registered the earlier way can sign in once registered again).");
    /// The server could not be reached (raised by the app, never sent by the server).
    ServerUnreachable, 503,
        t("プラットフォームのサーバーに接続できません。",
          "The platform server cannot be reached."),
        t("ネットワーク接続を確認し、しばらくしてからもう一度お試しください。",
          "Check the network connection and try again shortly.");
    /// Something failed inside the server; details are in its log, never in the answer.
    Internal, 500,
        t("サーバーで問題が発生しました。",
          "A problem occurred on the server."),
        TRY_AGAIN_SHORTLY;
    // ---- Local helper and cards (helper branch). Keep this block last. ----
    /// No IC card reader is connected (or the smart-card service is not running).
    NoReader, 409,
        t("ICカードリーダーが見つかりません。",
          "No IC card reader was found."),
        t("ICカードリーダーをパソコンに接続してください。接続済みの場合は、ドライバーとスマートカードサービスが動作しているか確認してください。",
          "Connect the IC card reader to this PC. If it is connected, check its driver and that the smart-card service is running.");
    /// A reader is connected but holds no card.
    NoCard, 409,
        t("ICカードリーダーにカードが挿入されていません。",
          "There is no card in the IC card reader."),
        t("カードをICカードリーダーに挿入(または置いて)ください。",
          "Insert the card into (or place it on) the IC card reader.");
    /// The card in the reader is not the one the operation needs.
    WrongCard, 409,
        t("リーダーに挿入されているカードが、この操作に必要なカードではありません。",
          "The card in the reader is not the card this step needs."),
        t("カードを取り出し、画面の指示にあるカード(HPKIカードまたはマイナンバーカード)に差し替えてください。",
          "Take the card out and insert the card the screen asks for (HPKI card or My Number card).");
    /// The card was removed (or reset) during the operation.
    CardRemoved, 409,
        t("操作の途中でカードが取り外されました。",
          "The card was removed during the operation."),
        t("カードを挿入し直し、操作が終わるまで取り外さずに、もう一度お試しください。",
          "Insert the card again, leave it in until the operation ends, and try again.");
    /// The PIN was wrong; the tries left travel beside the code.
    PinWrong, 401,
        t("暗証番号(パスワード)が正しくありません。",
          "The PIN (password) is not correct."),
        t("残り回数を確認し、正しい暗証番号を入力してください。残り回数が0になるとロックされます。",
          "Check the tries left and enter the correct PIN. The PIN locks when no tries are left.");
    /// The PIN entered does not have the card's PIN format; the card was not touched.
    PinFormat, 400,
        t("暗証番号(パスワード)の形式が正しくありません。カードには送信していません。",
          "The PIN (password) is not in the expected form. It was not sent to the card."),
        t("マイナンバーカードの利用者証明用パスワードは数字4桁、HPKIカードのPINは4〜16文字の半角英数字記号です。",
          "The My Number card's user-authentication password is 4 digits; the HPKI card PIN is 4 to 16 ASCII characters.");
    /// The My Number card's user-authentication PIN (利用者証明用パスワード) is locked.
    JpkiPinLocked, 423,
        t("マイナンバーカードの利用者証明用パスワードがロックされています。",
          "The My Number card's user-authentication password is locked."),
        t("お住まいの市区町村窓口でロック解除とパスワードの再設定を行ってください。スマートフォンのアプリを使ってコンビニエンスストアのキオスク端末で再設定できる場合もあります。",
          "Have the lock cleared and the password reset at your municipal office (市区町村窓口); it may also be reset at a convenience-store kiosk with the smartphone app.");
    /// The HPKI card's PIN is locked.
    HpkiPinLocked, 423,
        t("HPKIカードの暗証番号(PIN)がロックされています。",
          "The HPKI card's PIN is locked."),
        t("HPKIカードを発行した認証局(日本医師会・日本薬剤師会・MEDIS等)にロック解除を申請してください。",
          "Ask the certification authority that issued your HPKI card (JMA, JPA, MEDIS, etc.) to unlock it.");
    /// The card is neither an HPKI card of a known profile nor a My Number card.
    UnsupportedCard, 422,
        t("このカードには対応していません。",
          "This card is not supported."),
        t("HPKIカードまたはマイナンバーカードを挿入してください。",
          "Insert an HPKI card or a My Number card.");
    /// The card answered in a way the helper did not expect.
    CardCommunication, 502,
        t("カードとの通信で問題が発生しました。",
          "A problem occurred while communicating with the card."),
        t("カードを挿入し直してもう一度お試しください。解決しない場合はカードリーダーを接続し直してください。",
          "Insert the card again and retry. If this persists, reconnect the card reader.");
    /// The holder (or the page) cancelled the operation.
    Cancelled, 409,
        t("操作が中止されました。",
          "The operation was cancelled."),
        t("必要であれば、最初から操作をやり直してください。",
          "If needed, start the operation again.");
    /// The operation took longer than allowed.
    TimedOut, 408,
        t("操作が時間内に完了しませんでした。",
          "The operation did not finish in time."),
        t("カードを準備してから、もう一度操作をやり直してください。",
          "Have the card ready and start the operation again.");
    /// The page's origin is not allowed to use this helper.
    ForeignOrigin, 403,
        t("このサイトからはカード操作を利用できません。",
          "This site is not allowed to use the card helper."),
        t("プラットフォームの正しいページ(URL)から操作してください。",
          "Use the platform's own page (check the URL).");
    /// The local helper could not be reached (raised by the app, never sent by the helper).
    HelperUnreachable, 503,
        t("カード読み取りソフト(mahpki-helper)に接続できません。",
          "The card helper cannot be reached."),
        t("カード読み取りソフト(mahpki-helper)を起動してから、もう一度お試しください。",
          "Start the card helper (mahpki-helper) and try again.");
    /// The local helper answered but is older than the page needs (raised by the app).
    HelperOutdated, 502,
        t("このPCのカード読み取りソフト(mahpki-helper)は古い版のため利用できません。",
          "The card helper on this PC is too old for this site."),
        t("最新のカード読み取りソフト(mahpki-helper)をインストールして起動してから、もう一度お試しください。",
          "Install and start the current card helper (mahpki-helper), then try again.");
    // ---- HPKI second certificates in the HSM (the operator's `second-cert`; later CSC). ----
    /// The HSM cannot be reached, refused the PIN, or failed: nothing was written.
    HsmUnavailable, 503,
        t("署名用の鍵を保管する装置(HSM)を利用できないため、処理を中止しました。何も変更されていません。",
          "The device that keeps the signing keys (HSM) cannot be used right now, so nothing was done or changed."),
        TRY_AGAIN_SHORTLY;
    /// The holder already has a second certificate requested or active.
    SecondCertExists, 409,
        t("この本人IDには、申請中または有効なセカンド電子証明書が既にあります。",
          "This HPKI ID already has a second certificate that is requested or active."),
        t("既存の証明書を取り込むか、失効させてから申請し直してください。",
          "Import the pending certificate, or revoke the existing one before requesting again.");
    /// No requested (or active) second certificate matches.
    SecondCertUnknown, 404,
        t("該当する申請中または有効なセカンド電子証明書がありません。",
          "There is no requested or active second certificate for this."),
        t("本人IDまたはクレデンシャルIDを確認し、必要なら証明書を申請してください。",
          "Check the HPKI ID or credential ID, and request a certificate if needed.");
    /// The certificate certifies another key than the one the HSM made for the request.
    SecondCertKeyMismatch, 400,
        t("この証明書の公開鍵は、申請した鍵(HSM内の鍵)と一致しません。",
          "This certificate's public key is not the key that was requested (the key in the HSM)."),
        t("この本人IDの申請(CSR)に対して発行された証明書か確認してください。",
          "Check that the certificate was issued for this HPKI ID's request (CSR).");
    /// The certificate names someone other than the holder.
    SecondCertSubjectMismatch, 400,
        t("この証明書の主体者は、この本人IDの保有者ではありません。",
          "This certificate's subject is not this HPKI ID's holder."),
        CONTACT_ISSUING_CA;
    // ---- The phone's browser (raised by the app's /enroll page, never sent by the server). ----
    /// The holder cancelled the biometric prompt, or it timed out (WebAuthn `NotAllowedError`).
    WebauthnCancelled, 400,
        t("生体認証が完了しませんでした(キャンセルまたは時間切れ)。",
          "The biometric check did not complete (cancelled or timed out)."),
        t("もう一度「登録」を押し、表示される生体認証(指紋・顔など)を行ってください。",
          "Press Register again and complete the biometric check (fingerprint, face, etc.).");
    /// This browser or phone offers no passkey with user verification.
    WebauthnUnsupported, 400,
        t("このスマートフォン(ブラウザ)では生体認証による登録を利用できません。",
          "This phone (browser) cannot register with biometrics."),
        t("スマートフォンに画面ロックと生体認証(指紋・顔)が設定されているか、標準のブラウザ(iPhoneはSafari、AndroidはChrome)で開いているかを確認し、PCで2次元コードを発行し直してください。",
          "Check that the phone has a screen lock and biometrics (fingerprint or face) set up and that the link opened in the default browser (Safari on iPhone, Chrome on Android), then issue a new code on the PC.");
    /// The old phone's biometric check in a スマートフォン変更 did not complete: cancelled, timed
    /// out, or this phone holds no credential the server named (the browser cannot tell which).
    WebauthnNotProved, 400,
        t("このスマートフォンで本人確認ができませんでした(生体認証のキャンセル・時間切れ、またはこのスマートフォンが登録済みのものではありません)。",
          "This phone could not confirm you (the biometric check was cancelled or timed out, or this is not the registered phone)."),
        t("もう一度「ログイン」を押して生体認証を行ってください。すでに新しいスマートフォンに変更済みの場合は、新しいスマートフォンで二次元コードを読み取ってください。",
          "Press Log in again and complete the biometric check. If you already changed to a new phone, scan the code with the new phone.");
    // --- OpenID Connect for the services that sign (issue 12) ---
    /// An authorization request named a client the operator never registered (or removed).
    OidcClientUnknown, 400,
        t("ログインを求めたサービスは、本プラットフォームに登録されていません。",
          "The service that asked you to sign in is not registered with this platform."),
        ASK_SERVICE;
    /// An authorization request's redirect_uri is missing or not one the client registered:
    /// answered with a page, never a redirect to it.
    OidcRedirectUriInvalid, 400,
        t("ログインを求めたサービスの戻り先が、登録されたものと一致しません。",
          "The address the service asked to return to is not one it registered."),
        ASK_SERVICE;
    /// An authorization request the rules refuse (no PKCE S256, no `openid` scope, wrong
    /// response_type…): the client hears the OAuth error at its redirect URI.
    OidcRequestInvalid, 400,
        t("ログインを求めたサービスからの要求の形式が正しくありません。",
          "The service's sign-in request was not in the expected form."),
        ASK_SERVICE;
    /// A pending authorization request that is unknown, used or past its 10 minutes.
    OidcRequestUnknown, 404,
        t("このログイン要求は無効か、有効期限(10分)が切れています。",
          "This sign-in request is not valid or has expired (after 10 minutes)."),
        t("ご利用のサービスの画面から、もう一度ログインをやり直してください。",
          "Please go back to the service and sign in again from its page.");
    /// The token, revocation endpoint: the client's authentication failed (invalid_client).
    OidcClientAuthFailed, 401,
        t("連携サービスの認証に失敗しました。",
          "The service's own authentication failed."),
        ASK_SERVICE;
    /// A code or refresh token that is unknown, used, expired, another client's, or whose PKCE
    /// verifier or signing session does not match (invalid_grant).
    OidcGrantInvalid, 400,
        t("ログインの結果(認可コードまたはリフレッシュトークン)が無効です。",
          "The sign-in result (authorization code or refresh token) is not valid."),
        t("ご利用のサービスの画面から、もう一度ログインをやり直してください。",
          "Please go back to the service and sign in again from its page.");
    /// An access token that is unknown, expired, revoked, or whose signing session ended.
    OidcTokenInvalid, 401,
        t("アクセストークンが無効です(期限切れ・取り消し済み、またはログインが終了しています)。",
          "The access token is not valid (expired, revoked, or the sign-in has ended)."),
        t("ご利用のサービスの画面から、もう一度ログインをやり直してください。",
          "Please go back to the service and sign in again from its page.");
    // ---- CSC API v2 (remote signing by a prescription system; answered as OAuth errors). ----
    /// The access token is valid but its signing session (the daily sign-in) is over.
    CscSessionOver, 401,
        t("本日のサインインが終了しているため、署名できません。",
          "The day's sign-in has ended, so nothing can be signed."),
        t("もう一度サインインしてから、署名をやり直してください。",
          "Sign in again, then sign again.");
    /// A CSC request is malformed (JSON, base64, OID, hash length, numbers).
    CscRequestInvalid, 400,
        t("署名の要求が正しくありません。",
          "The signing request is not valid."),
        t("ご利用のサービスの提供元にお問い合わせください。",
          "Contact the provider of the service you use.");
    /// signDoc cannot sign the document as asked: its format, conformance level, envelope,
    /// algorithm or size.
    CscDocumentRefused, 400,
        t("この文書は、要求された形式では署名できません(署名形式・準拠レベル・大きさ)。",
          "This document cannot be signed in the form asked (format, level or size)."),
        t("ご利用のサービスの提供元にお問い合わせください。",
          "Contact the provider of the service you use.");
    /// The SAD is unknown, expired, used up, or does not cover these hashes.
    CscSadInvalid, 400,
        t("署名の許可が無効です(期限切れ・使用済み、または対象外)。",
          "The signing authorisation is not valid (expired, used up, or for other data)."),
        t("署名をもう一度最初からやり直してください。",
          "Start the signature again from the beginning.");
    /// The access token was not granted the signing scope (`service`): the holder let the
    /// service sign them in, not sign for them (RFC 6750 `insufficient_scope`).
    CscScopeInsufficient, 403,
        t("このサービスには、電子署名の許可がありません。",
          "This service was not allowed to sign for you."),
        ASK_SERVICE;
    /// The credential is not the holder's, or it or its holder cannot sign now.
    CscCredentialRefused, 403,
        t("この署名用の証明書では署名できません。",
          "This signing certificate cannot sign now."),
        CONTACT_ISSUING_CA;
}

// By hand rather than derived: one lookup over the catalogue instead of serde's generated match
// per name (twice, for str and bytes), which was about 20 KB of the web app's download.
impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.wire())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Self::from_wire(&wire).ok_or_else(|| {
            serde::de::Error::unknown_variant(&wire, &["an ErrorCode::ALL wire name"])
        })
    }
}

/// A message in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text {
    pub ja: &'static str,
    pub en: &'static str,
}

impl ErrorCode {
    /// The wire name: the variant's name in snake_case.
    pub fn wire(self) -> String {
        let name = format!("{self:?}");
        let mut out = String::with_capacity(name.len() + 4);
        for (i, c) in name.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }

    /// The code with this wire name.
    pub fn from_wire(wire: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.wire() == wire)
    }
}

// ---- Issue 17 (the clinician's screens): texts that depend on where the holder met the error,
// so a screen names the card in hand or the flow the holder is in instead of every case. ----

/// Where the holder met an error, when that changes what the screen should say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A step with the HPKI card.
    HpkiCard,
    /// A step with the My Number card.
    MyNumberCard,
    /// A phone that opened a CA's link: no PC takes part.
    CaLink,
}

/// The one way on for a phone whose CA link cannot be used.
pub const ASK_CA_FOR_LINK: Text = Text {
    ja: "リンクを発行した認証局に、新しい登録用リンクの発行を申請してください。",
    en: "Ask the certification authority that sent the link to issue a new one.",
};

impl ErrorCode {
    /// [`ErrorCode::message`], naming the card where the place says which.
    pub fn message_at(self, place: Option<Place>) -> Text {
        match (self, place) {
            (Self::CertificateRevoked, Some(Place::HpkiCard)) => Text {
                ja: "HPKIカードの証明書は失効しています。",
                en: "The HPKI card's certificate has been revoked.",
            },
            (Self::CertificateRevoked, Some(Place::MyNumberCard)) => Text {
                ja: "マイナンバーカードの証明書は失効しています。",
                en: "The My Number card's certificate has been revoked.",
            },
            (Self::CertificateExpired, Some(Place::HpkiCard)) => Text {
                ja: "HPKIカードの証明書の有効期限が切れているか、まだ有効になっていません。",
                en: "The HPKI card's certificate has expired or is not valid yet.",
            },
            (Self::CertificateExpired, Some(Place::MyNumberCard)) => Text {
                ja: "マイナンバーカードの証明書の有効期限が切れています。",
                en: "The My Number card's certificate has expired.",
            },
            _ => self.message(),
        }
    }

    /// [`ErrorCode::remedy`] for the card in hand, or without the PC on a CA's link.
    pub fn remedy_at(self, place: Option<Place>) -> Text {
        match (self, place) {
            (Self::CertificateRevoked, Some(Place::HpkiCard)) => Text {
                ja: "HPKIカードを発行した認証局にお問い合わせください。",
                en: "Contact the certification authority that issued your HPKI card.",
            },
            (Self::CertificateRevoked, Some(Place::MyNumberCard)) => Text {
                ja: "お住まいの市区町村の窓口にお問い合わせください。",
                en: "Contact your municipal office.",
            },
            (Self::CertificateExpired, Some(Place::HpkiCard)) => Text {
                ja: "HPKIカードを発行した認証局で更新してください。",
                en: "Renew it at the certification authority that issued your HPKI card.",
            },
            (Self::CertificateExpired, Some(Place::MyNumberCard)) => Text {
                ja: "お住まいの市区町村の窓口で更新してください。",
                en: "Renew it at your municipal office.",
            },
            (Self::WebauthnUnsupported, Some(Place::CaLink)) => Text {
                ja: "スマートフォンに画面ロックと生体認証(指紋・顔)が設定されているか、標準のブラウザ(iPhoneはSafari、AndroidはChrome)で開いているかを確認してから、認証局に新しい登録用リンクを申請してください。",
                en: "Check that the phone has a screen lock and biometrics (fingerprint or face) set up and that the link opened in the default browser (Safari on iPhone, Chrome on Android), then ask the certification authority for a new link.",
            },
            (
                Self::EnrolmentUnknown
                | Self::EnrolmentExpired
                | Self::EnrolmentUsed
                | Self::EnrolmentOtherDevice
                | Self::EnrolmentCancelled
                | Self::CredentialExists,
                Some(Place::CaLink),
            ) => ASK_CA_FOR_LINK,
            _ => self.remedy(),
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
    /// Seconds until a refused attempt may be made again (`jma_locked`), where the server knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// Attempts left before a pause (`jma_login_failed`), where the server counts them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tries_left: Option<u8>,
}

impl From<ErrorCode> for ErrorBody {
    fn from(code: ErrorCode) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message: code.message().ja.to_owned(),
                retry_after_secs: None,
                tries_left: None,
            },
        }
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
    fn a_ca_links_remedies_never_send_the_holder_to_a_pc() {
        for &code in ErrorCode::ALL {
            let t = code.remedy_at(Some(Place::CaLink));
            let phone_side = matches!(
                code,
                ErrorCode::EnrolmentUnknown
                    | ErrorCode::EnrolmentExpired
                    | ErrorCode::EnrolmentUsed
                    | ErrorCode::EnrolmentOtherDevice
                    | ErrorCode::EnrolmentCancelled
                    | ErrorCode::CredentialExists
                    | ErrorCode::WebauthnUnsupported
                    | ErrorCode::WebauthnFailed
                    | ErrorCode::WebauthnCancelled
                    | ErrorCode::EnrolmentLinkExpired
            );
            if phone_side {
                assert!(!t.ja.contains("PC") && !t.en.contains("PC"), "{code:?}: {t:?}");
            }
        }
    }

    #[test]
    fn a_card_step_names_its_card_only() {
        for code in [ErrorCode::CertificateRevoked, ErrorCode::CertificateExpired] {
            for (place, mine, other) in [
                (Place::HpkiCard, "HPKIカード", "マイナンバーカード"),
                (Place::MyNumberCard, "マイナンバーカード", "HPKIカード"),
            ] {
                let (m, r) = (code.message_at(Some(place)), code.remedy_at(Some(place)));
                assert!(m.ja.contains(mine) && !m.ja.contains(other), "{code:?} {m:?}");
                assert!(!r.ja.contains(other), "{code:?} {r:?}");
            }
            // Without a place the catalogue still names both.
            assert!(code.remedy_at(None).ja.contains("マイナンバーカード"));
        }
    }

    #[test]
    fn wire_form_is_snake_case() {
        let body = ErrorBody::from(ErrorCode::PayloadTooLarge);
        let json = serde_json::to_string(&body).unwrap();
        assert!(json.contains("\"code\":\"payload_too_large\""), "{json}");
        assert_eq!(serde_json::from_str::<ErrorBody>(&json).unwrap(), body);
        assert_eq!(ErrorCode::WebauthnNotProved.wire(), "webauthn_not_proved");
        assert_eq!(ErrorCode::JmaLoginFailed.wire(), "jma_login_failed");
    }

    #[test]
    fn every_code_round_trips_and_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
            assert!(seen.insert(code.wire()), "{code:?}");
            assert!(code.wire().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{code:?}");
        }
        assert!(serde_json::from_str::<ErrorCode>("\"no_such_code\"").is_err());
    }
}
