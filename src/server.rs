//! Typed client of the platform server's API. Every failure becomes an [`ErrorCode`] from the one
//! catalogue, so pages render it the same way in either language. Paths, methods and the types
//! each endpoint takes and answers come from protocol's table ([`ep`]), which the server's router
//! reads too: a call that does not match its row does not compile.

use gloo_net::http::{Request, Response};
use std::future::Future;

use mahpki_protocol::{
    ErrorBody, ErrorCode, Health, HpkiId,
    account::{Account, AccountDone},
    api::{CardSignature, Challenge, ClientConfig, Holder, MyNumberBound, SessionInfo, SignedIn},
    endpoints::{self as ep, Endpoint, Method},
    enrol::{
        AssertionOptions, ChangeBegin, ChangeFinish, ChangeIssued, ChangeOpened, ChangeProved,
        ConfirmCode, Confirmed, EnrolmentIssued, EnrolmentOpened, EnrolmentRequest,
        FinishEnrolment, JmaLogin, OpenEnrolment, PhoneBound, PublicKeyCredential,
        RegistrationOptions,
    },
    error::ErrorDetail,
    oidc::{ConsentAnswer, ConsentOutcome, ConsentPrompt},
    passkey::{PasskeyAnswer, SignInCodeIssued, SignInCodeOpened, SignInCodeProved},
};
use serde::{Serialize, de::DeserializeOwned};

/// Reads a typed answer: the value, or the catalogue's code from an error body. `unreachable`
/// stands for no answer at all (or one from something in between that is not ours). The session
/// cookie rides along by itself (same origin), and the browser adds `Sec-Fetch-Site:
/// same-origin`, which is what the server's CSRF guard checks.
pub(crate) async fn typed_answer<T: DeserializeOwned>(
    sent: Result<Response, gloo_net::Error>,
    unreachable: ErrorCode,
    undecodable: ErrorCode,
) -> Result<T, ErrorCode> {
    let res = sent.map_err(|_| unreachable)?;
    if res.ok() {
        return res.json::<T>().await.map_err(|_| undecodable);
    }
    match res.json::<ErrorBody>().await {
        Ok(body) => Err(body.error.code),
        Err(_) => Err(unreachable),
    }
}

async fn answer<T: DeserializeOwned>(
    sent: Result<Response, gloo_net::Error>,
) -> Result<T, ErrorCode> {
    typed_answer(sent, ErrorCode::ServerUnreachable, ErrorCode::Internal).await
}

async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, ErrorCode> {
    answer(Request::get(path).send().await).await
}

async fn post_json<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
) -> Result<T, ErrorCode> {
    let req = Request::post(path).json(body).map_err(|_| ErrorCode::Internal)?;
    answer(req.send().await).await
}

async fn post_empty<T: DeserializeOwned>(path: &str) -> Result<T, ErrorCode> {
    answer(Request::post(path).send().await).await
}

// The calls by endpoint: each checks its row's method when it is compiled, then is the plain
// call above at the row's URL, so the bundle's code is what it was with the paths written out
// (the helpers stay generic over the answer's type alone, not over each endpoint).

/// `GET` of endpoint `E`, at `url` (its URL, or with a path parameter filled).
fn get_at<E: Endpoint<Request = ()>>(
    url: &str,
) -> impl Future<Output = Result<E::Response, ErrorCode>>
where
    E::Response: DeserializeOwned,
{
    const { assert!(matches!(E::METHOD, Method::Get)) };
    get_json(url)
}

fn get<E: Endpoint<Request = ()>>() -> impl Future<Output = Result<E::Response, ErrorCode>>
where
    E::Response: DeserializeOwned,
{
    get_at::<E>(E::URL)
}

/// `POST` of endpoint `E` with its JSON body.
fn post<E: Endpoint>(body: &E::Request) -> impl Future<Output = Result<E::Response, ErrorCode>>
where
    E::Request: Serialize,
    E::Response: DeserializeOwned,
{
    const { assert!(matches!(E::METHOD, Method::Post)) };
    post_json(E::URL, body)
}

/// `POST` of endpoint `E`, which takes no body, at `url`.
fn post_at<E: Endpoint<Request = ()>>(
    url: &str,
) -> impl Future<Output = Result<E::Response, ErrorCode>>
where
    E::Response: DeserializeOwned,
{
    const { assert!(matches!(E::METHOD, Method::Post)) };
    post_empty(url)
}

fn post_none<E: Endpoint<Request = ()>>() -> impl Future<Output = Result<E::Response, ErrorCode>>
where
    E::Response: DeserializeOwned,
{
    post_at::<E>(E::URL)
}

/// `DELETE` of endpoint `E` (204, no body). Best effort: what it ends expires by itself too.
fn delete<E: Endpoint<Request = (), Response = ()>>() -> impl Future<Output = ()> {
    const { assert!(matches!(E::METHOD, Method::Delete)) };
    delete_at(E::URL)
}

async fn delete_at(url: &'static str) {
    if let Err(e) = Request::delete(url).send().await {
        tracing_fallback(&e.to_string());
    }
}

/// `GET /api/oidc/consent?request=…`: who asks the holder for consent.
pub async fn consent_prompt(request: &str) -> Result<ConsentPrompt, ErrorCode> {
    get_at::<ep::ConsentPromptGet>(&format!("{}?request={request}", ep::ConsentPromptGet::URL))
        .await
}

/// `POST /api/oidc/consent`: the holder's answer; says where to go back to.
pub async fn consent_answer(request: &str, approve: bool) -> Result<ConsentOutcome, ErrorCode> {
    post::<ep::ConsentAnswerPost>(&ConsentAnswer { request: request.to_owned(), approve }).await
}

/// `GET /api/health`.
pub async fn health() -> Result<Health, ErrorCode> {
    get::<ep::Health>().await
}

/// `GET /api/config`: where the local helper listens.
pub async fn client_config() -> Result<ClientConfig, ErrorCode> {
    get::<ep::Config>().await
}

/// `POST /api/hpki/challenge`: opens (or keeps) this browser's session.
pub async fn hpki_challenge() -> Result<Challenge, ErrorCode> {
    post_none::<ep::HpkiChallenge>().await
}

/// `POST /api/hpki/finish`: the HPKI card's answer; on success the session is the holder's.
pub async fn hpki_finish(sig: &CardSignature) -> Result<SessionInfo, ErrorCode> {
    post::<ep::HpkiFinish>(sig).await
}

/// `GET /api/session`: the holder of this session, if the HPKI card identified one.
pub async fn session() -> Result<SessionInfo, ErrorCode> {
    get::<ep::Session>().await
}

/// `POST /api/mynumber/challenge`.
pub async fn mynumber_challenge() -> Result<Challenge, ErrorCode> {
    post_none::<ep::MyNumberChallenge>().await
}

/// `POST /api/mynumber/finish`: binds the My Number card that signed.
pub async fn mynumber_finish(sig: &CardSignature) -> Result<MyNumberBound, ErrorCode> {
    post::<ep::MyNumberFinish>(sig).await
}

/// `GET /api/signin`: this browser's signing session (`not_signed_in` without one).
pub async fn signin_current() -> Result<SignedIn, ErrorCode> {
    get::<ep::SignIn>().await
}

/// `POST /api/signin/hpki`: the HPKI card's answer to `/api/hpki/challenge`; signs in.
pub async fn signin_hpki(sig: &CardSignature) -> Result<SignedIn, ErrorCode> {
    post::<ep::SignInHpki>(sig).await
}

/// `POST /api/signin/mynumber/challenge`: for the My Number card's sign-in.
pub async fn signin_mynumber_challenge() -> Result<Challenge, ErrorCode> {
    post_none::<ep::SignInMyNumberChallenge>().await
}

/// `POST /api/signin/mynumber`: the bound My Number card's answer; signs its holder in.
pub async fn signin_mynumber(sig: &CardSignature) -> Result<SignedIn, ErrorCode> {
    post::<ep::SignInMyNumber>(sig).await
}

/// `POST /api/smartphone/enrolments`: the 2D code for a phone (`replace` once the holder said はい).
pub async fn issue_enrolment(replace: bool) -> Result<EnrolmentIssued, ErrorCode> {
    post::<ep::EnrolmentIssue>(&EnrolmentRequest { replace }).await
}

/// `POST /api/smartphone/confirm`: the code the phone shows, as typed on the PC.
pub async fn confirm(code: String) -> Result<Confirmed, ErrorCode> {
    post::<ep::Confirm>(&ConfirmCode { code }).await
}

/// `GET /api/smartphone/holder`: whose phone this session may enrol, however it proved it.
pub async fn smartphone_holder() -> Result<Holder, ErrorCode> {
    get::<ep::SmartphoneHolder>().await
}

/// `POST /api/jma/login`: the JMA path (医籍登録番号 and カードID instead of the card).
/// The refusal comes whole: its tries left and pause are what the form shows.
pub async fn jma_login(login: &JmaLogin) -> Result<Holder, ErrorDetail> {
    let bare = |code| ErrorDetail {
        code,
        message: String::new(),
        retry_after_secs: None,
        tries_left: None,
    };
    const { assert!(matches!(ep::JmaLogin::METHOD, Method::Post)) };
    let req =
        Request::post(ep::JmaLogin::URL).json(login).map_err(|_| bare(ErrorCode::Internal))?;
    let res = req.send().await.map_err(|_| bare(ErrorCode::ServerUnreachable))?;
    if res.ok() {
        return res.json().await.map_err(|_| bare(ErrorCode::Internal));
    }
    match res.json::<ErrorBody>().await {
        Ok(body) => Err(body.error),
        Err(_) => Err(bare(ErrorCode::ServerUnreachable)),
    }
}

/// `POST /api/smartphone/change` (PC): the first code of a change, for the phone bound now.
pub async fn change_issue() -> Result<ChangeIssued, ErrorCode> {
    post_none::<ep::ChangeIssue>().await
}

/// `POST /api/change/open` (old phone): claims the first code for this phone.
pub async fn change_open(token: String) -> Result<ChangeOpened, ErrorCode> {
    post::<ep::ChangeOpen>(&OpenEnrolment { token }).await
}

/// `POST /api/change/begin` (old phone): assertion options for the holder's bound phone.
pub async fn change_begin(hpki_id: HpkiId) -> Result<AssertionOptions, ErrorCode> {
    post::<ep::ChangeBeginAssertion>(&ChangeBegin { hpki_id }).await
}

/// `POST /api/change/finish` (old phone): its assertion; the PC may then enrol the new phone.
pub async fn change_finish(credential: PublicKeyCredential) -> Result<ChangeProved, ErrorCode> {
    post::<ep::ChangeFinishAssertion>(&ChangeFinish { credential }).await
}

/// `POST /api/enrol/open` (phone): claims the enrolment for this phone.
pub async fn enrol_open(token: String) -> Result<EnrolmentOpened, ErrorCode> {
    post::<ep::EnrolOpen>(&OpenEnrolment { token }).await
}

/// `POST /api/enrol/begin` (phone): WebAuthn creation options.
pub async fn enrol_begin() -> Result<RegistrationOptions, ErrorCode> {
    post_none::<ep::EnrolBegin>().await
}

/// `POST /api/enrol/finish` (phone): the new credential and its label.
pub async fn enrol_finish(finish: &FinishEnrolment) -> Result<PhoneBound, ErrorCode> {
    post::<ep::EnrolFinish>(finish).await
}

/// `DELETE /api/smartphone/enrolments/current` (204, no body): 中止 on the PC; the code on
/// screen stops working now instead of at its expiry. Best effort: it expires by itself too.
pub fn cancel_enrolment() -> impl Future<Output = ()> {
    delete::<ep::EnrolmentCancel>()
}

/// `DELETE /api/smartphone/change/current` (204, no body): 中止 on the PC during a change; the
/// first code on screen stops working now. Best effort, like [`cancel_enrolment`].
pub fn cancel_change() -> impl Future<Output = ()> {
    delete::<ep::ChangeCancel>()
}

/// `GET /api/account`: the signed-in holder's page (登録状況).
pub async fn account() -> Result<Account, ErrorCode> {
    get::<ep::AccountShow>().await
}

/// `POST /api/account/phones/{id}/revoke`.
pub async fn account_revoke_phone(id: i64) -> Result<AccountDone, ErrorCode> {
    post_at::<ep::AccountRevokePhone>(&ep::AccountRevokePhone::url_with(id)).await
}

/// `POST /api/account/mynumber/{id}/revoke`.
pub async fn account_revoke_mynumber(id: i64) -> Result<AccountDone, ErrorCode> {
    let url = ep::AccountRevokeMyNumber::url_with(id);
    post_at::<ep::AccountRevokeMyNumber>(&url).await
}

/// `POST /api/account/sessions/{sid}/end`. A sid is URL-safe (random base64url).
pub async fn account_end_session(sid: &str) -> Result<AccountDone, ErrorCode> {
    let sid = js_sys::encode_uri_component(sid);
    post_at::<ep::AccountEndSession>(&ep::AccountEndSession::url_with(sid)).await
}

/// `POST /api/account/sessions/end-all`.
pub async fn account_end_all() -> Result<AccountDone, ErrorCode> {
    post_none::<ep::AccountEndAll>().await
}

/// `POST /api/signin/end` (204, no body): サインアウト on this browser.
pub async fn signin_end() -> Result<(), ErrorCode> {
    const { assert!(matches!(ep::SignInEnd::METHOD, Method::Post)) };
    let res = Request::post(ep::SignInEnd::URL).send().await;
    let res = res.map_err(|_| ErrorCode::ServerUnreachable)?;
    if res.ok() {
        return Ok(());
    }
    match res.json::<ErrorBody>().await {
        Ok(body) => Err(body.error.code),
        Err(_) => Err(ErrorCode::ServerUnreachable),
    }
}

/// `POST /api/smartphone/confirm` for a sign-in code: the right code signs this browser in
/// (the answer is the new signing session; its cookie comes with it).
pub async fn confirm_signin(code: String) -> Result<SignedIn, ErrorCode> {
    // The one endpoint whose answer depends on the code's purpose (see its row).
    const { assert!(matches!(ep::Confirm::METHOD, Method::Post)) };
    post_json(ep::Confirm::URL, &ConfirmCode { code }).await
}

/// `POST /api/signin/passkey/begin`: a discoverable passkey challenge for this browser.
pub async fn passkey_begin() -> Result<AssertionOptions, ErrorCode> {
    post_none::<ep::PasskeyBegin>().await
}

/// `POST /api/signin/passkey/finish`: this browser's passkey answer; signs it in.
pub async fn passkey_finish(credential: PublicKeyCredential) -> Result<SignedIn, ErrorCode> {
    post::<ep::PasskeyFinish>(&PasskeyAnswer { credential }).await
}

/// `POST /api/signin/phone` (PC): a sign-in code for the phone.
pub async fn signin_code_issue() -> Result<SignInCodeIssued, ErrorCode> {
    post_none::<ep::SignInCodeIssue>().await
}

/// `POST /api/signin/phone/open` (phone): claims the PC's sign-in code for this phone.
pub async fn signin_code_open(token: String) -> Result<SignInCodeOpened, ErrorCode> {
    post::<ep::SignInCodeOpen>(&OpenEnrolment { token }).await
}

/// `POST /api/signin/phone/begin` (phone): the passkey challenge of the code it opened.
pub async fn signin_code_begin() -> Result<AssertionOptions, ErrorCode> {
    post_none::<ep::SignInCodeBegin>().await
}

/// `POST /api/signin/phone/finish` (phone): its passkey answer; it then shows the PC's code.
pub async fn signin_code_finish(
    credential: PublicKeyCredential,
) -> Result<SignInCodeProved, ErrorCode> {
    post::<ep::SignInCodeFinish>(&PasskeyAnswer { credential }).await
}

/// `DELETE /api/signin/phone/current` (204): 中止 on the PC; its code stops working now.
pub fn signin_code_cancel() -> impl Future<Output = ()> {
    delete::<ep::SignInCodeCancel>()
}

/// `POST /api/session/logout` (204, no body). Best effort: the session also expires by itself.
pub async fn logout() {
    const { assert!(matches!(ep::Logout::METHOD, Method::Post)) };
    if let Err(e) = Request::post(ep::Logout::URL).send().await {
        tracing_fallback(&e.to_string());
    }
}

/// The app has no log sink but the console; a failed cancel or logout only delays an expiry.
fn tracing_fallback(what: &str) {
    web_sys::console::warn_1(&format!("server: {what}").into());
}
