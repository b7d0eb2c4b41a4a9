//! The server's `/api` endpoints, one row each: its name, method, path, the body it takes and
//! the answer it gives. The server's router and the app's client both read the path and method
//! from here, so a path is written once; the types say what the two sides exchange.
//!
//! A row with no request type takes no body; a row answering `()` answers 204 with no body. A path
//! parameter (at most one) is written between the path's two parts, `"/a/" {id} "/b"`: its
//! `PATH` is axum's `/a/{id}/b`, and the client fills it with [`Endpoint::url_with`].
//! Zero-sized and `const` only: a bundle carries the paths it calls and nothing else.

use crate::{
    account::{Account, AccountDone},
    api::{CardSignature, Challenge, ClientConfig, Holder, MyNumberBound, SessionInfo, SignedIn},
    enrol::{
        AssertionOptions, ChangeBegin, ChangeFinish, ChangeIssued, ChangeOpened, ChangeProved,
        CodeEvent, ConfirmCode, Confirmed, EnrolmentIssued, EnrolmentOpened, EnrolmentRequest,
        FinishEnrolment, OpenEnrolment, PhoneBound, PhoneConfirmEvent, RegistrationOptions,
    },
    oidc::{ConsentAnswer, ConsentOutcome, ConsentPrompt},
    passkey::{PasskeyAnswer, SignInCodeIssued, SignInCodeOpened, SignInCodeProved},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

/// One endpoint under [`API_PREFIX`](crate::API_PREFIX).
pub trait Endpoint {
    const METHOD: Method;
    /// The path under `/api` (the server's router nests it there).
    const PATH: &'static str;
    /// The path the browser calls: `/api` and [`Self::PATH`].
    const URL: &'static str;
    /// Its JSON body (`()`: none).
    type Request;
    /// Its JSON answer (`()`: 204, no body). A server-sent event stream's events.
    type Response;

    /// A row with a path parameter: [`Self::URL`] up to it, and after it (`""` without one).
    const URL_HEAD: &'static str;
    const URL_TAIL: &'static str;

    /// [`Self::URL`] with its path parameter (a row has at most one) filled with `value`.
    fn url_with(value: impl core::fmt::Display) -> String {
        format!("{}{value}{}", Self::URL_HEAD, Self::URL_TAIL)
    }
}

macro_rules! endpoints {
    ($(
        $(#[$doc:meta])*
        $name:ident: $method:ident $path:literal $({$param:ident} $tail:literal)?
            $(($req:ty))? => $resp:ty;
    )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub struct $name;

            impl Endpoint for $name {
                const METHOD: Method = Method::$method;
                const PATH: &'static str = concat!($path $(, "{", stringify!($param), "}", $tail)?);
                // `API_PREFIX`, spelled as a literal so `concat!` can join it (a test checks).
                const URL: &'static str = concat!("/api", $path $(, "{", stringify!($param), "}", $tail)?);
                const URL_HEAD: &'static str = concat!("/api", $path);
                const URL_TAIL: &'static str = endpoints!(@tail $($tail)?);
                type Request = endpoints!(@request $($req)?);
                type Response = $resp;
            }
        )*

        /// Every endpoint's method and path (for the tests that check the table).
        pub const ALL: &[(Method, &str)] = &[$((Method::$method, <$name as Endpoint>::PATH)),*];
    };
    (@request) => { () };
    (@request $req:ty) => { $req };
    (@tail) => { "" };
    (@tail $tail:literal) => { $tail };
}

endpoints! {
    // ---- The server, for any page ----
    /// What the footer shows.
    Health: Get "/health" => crate::Health;
    /// For an orchestrator: the process answers.
    HealthLive: Get "/health/live" => crate::Liveness;
    /// For a load balancer: 200 when this process can serve, 503 when not.
    HealthReady: Get "/health/ready" => crate::Readiness;
    /// Where the local helper listens.
    Config: Get "/config" => ClientConfig;

    // ---- The HPKI card and the page session ----
    /// Opens (or keeps) this browser's page session.
    HpkiChallenge: Post "/hpki/challenge" => Challenge;
    /// The HPKI card's answer; the session becomes the holder's.
    HpkiFinish: Post "/hpki/finish" (CardSignature) => SessionInfo;
    Session: Get "/session" => SessionInfo;
    Logout: Post "/session/logout" => ();

    // ---- 別紙1: the My Number card ----
    MyNumberChallenge: Post "/mynumber/challenge" => Challenge;
    MyNumberFinish: Post "/mynumber/finish" (CardSignature) => MyNumberBound;

    // ---- The daily sign-in ----
    SignIn: Get "/signin" => SignedIn;
    SignInEnd: Post "/signin/end" => ();
    /// The HPKI card's answer to [`HpkiChallenge`].
    SignInHpki: Post "/signin/hpki" (CardSignature) => SignedIn;
    SignInMyNumberChallenge: Post "/signin/mynumber/challenge" => Challenge;
    SignInMyNumber: Post "/signin/mynumber" (CardSignature) => SignedIn;
    PasskeyBegin: Post "/signin/passkey/begin" => AssertionOptions;
    PasskeyFinish: Post "/signin/passkey/finish" (PasskeyAnswer) => SignedIn;
    /// The PC's sign-in code for the phone.
    SignInCodeIssue: Post "/signin/phone" => SignInCodeIssued;
    SignInCodeCancel: Delete "/signin/phone/current" => ();
    SignInCodeEvents: Get "/signin/phone/current/events" => CodeEvent;
    SignInCodeOpen: Post "/signin/phone/open" (OpenEnrolment) => SignInCodeOpened;
    SignInCodeBegin: Post "/signin/phone/begin" => AssertionOptions;
    SignInCodeFinish: Post "/signin/phone/finish" (PasskeyAnswer) => SignInCodeProved;

    // ---- 別紙2: a phone's enrolment ----
    /// Whose phone this session may enrol, however it proved it.
    SmartphoneHolder: Get "/smartphone/holder" => Holder;
    /// The JMA path: 医籍登録番号 and カードID instead of the card.
    JmaLogin: Post "/jma/login" (crate::enrol::JmaLogin) => Holder;
    EnrolmentIssue: Post "/smartphone/enrolments" (EnrolmentRequest) => EnrolmentIssued;
    EnrolmentCancel: Delete "/smartphone/enrolments/current" => ();
    EnrolmentEvents: Get "/smartphone/enrolments/current/events" => CodeEvent;
    EnrolOpen: Post "/enrol/open" (OpenEnrolment) => EnrolmentOpened;
    EnrolBegin: Post "/enrol/begin" => RegistrationOptions;
    EnrolFinish: Post "/enrol/finish" (FinishEnrolment) => PhoneBound;

    // ---- スマートフォン変更 ----
    ChangeIssue: Post "/smartphone/change" => ChangeIssued;
    ChangeCancel: Delete "/smartphone/change/current" => ();
    ChangeEvents: Get "/smartphone/change/current/events" => CodeEvent;
    ChangeOpen: Post "/change/open" (OpenEnrolment) => ChangeOpened;
    ChangeBeginAssertion: Post "/change/begin" (ChangeBegin) => AssertionOptions;
    ChangeFinishAssertion: Post "/change/finish" (ChangeFinish) => ChangeProved;

    // ---- The phone's confirmation code (every purpose) ----
    /// The code the phone shows, typed on the PC. For a sign-in code the answer is the new
    /// [`SignedIn`] session instead (its cookie comes with it).
    Confirm: Post "/smartphone/confirm" (ConfirmCode) => Confirmed;
    ConfirmationEvents: Get "/phone/confirmation/events" => PhoneConfirmEvent;

    // ---- The holder's page (登録状況) ----
    AccountShow: Get "/account" => Account;
    AccountRevokePhone: Post "/account/phones/" {id} "/revoke" => AccountDone;
    AccountRevokeMyNumber: Post "/account/mynumber/" {id} "/revoke" => AccountDone;
    AccountEndAll: Post "/account/sessions/end-all" => AccountDone;
    AccountEndSession: Post "/account/sessions/" {sid} "/end" => AccountDone;

    // ---- The OpenID Provider's consent page ----
    /// `GET ?request=…` says who asks.
    ConsentPromptGet: Get "/oidc/consent" => ConsentPrompt;
    ConsentAnswerPost: Post "/oidc/consent" (ConsentAnswer) => ConsentOutcome;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_under_the_api_prefix() {
        assert_eq!(HpkiFinish::URL, format!("{}{}", crate::API_PREFIX, HpkiFinish::PATH));
    }

    #[test]
    fn each_method_and_path_once_with_at_most_one_parameter() {
        for (i, a) in ALL.iter().enumerate() {
            assert!(a.1.starts_with('/'), "{a:?}");
            assert!(!ALL[..i].contains(a), "twice: {a:?}");
            assert!(a.1.matches('{').count() <= 1, "{a:?}");
        }
    }

    #[test]
    fn path_parameters_are_filled() {
        assert_eq!(AccountRevokePhone::PATH, "/account/phones/{id}/revoke");
        assert_eq!(AccountRevokePhone::URL, "/api/account/phones/{id}/revoke");
        assert_eq!(AccountRevokePhone::url_with(7), "/api/account/phones/7/revoke");
        assert_eq!(AccountEndSession::url_with("a-b"), "/api/account/sessions/a-b/end");
        assert_eq!(Session::URL_TAIL, "");
    }
}
