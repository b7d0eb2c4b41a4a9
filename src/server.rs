//! Typed client of the platform server's API. Every failure becomes an [`ErrorCode`] from the one
//! catalogue, so pages render it the same way in either language.

use gloo_net::http::{Request, Response};
use mahpki_protocol::{
    ErrorBody, ErrorCode, Health, HpkiId,
    api::{CardSignature, Challenge, ClientConfig, Holder, MyNumberBound, SessionInfo},
    enrol::{
        AssertionOptions, ChangeBegin, ChangeFinish, ChangeIssued, ChangeOpened, ChangeProved,
        ConfirmCode, Confirmed, EnrolmentIssued, EnrolmentOpened, EnrolmentRequest,
        FinishEnrolment, JmaLogin, OpenEnrolment, PhoneBound, PublicKeyCredential,
        RegistrationOptions,
    },
    error::ErrorDetail,
    oidc::{CONSENT_API, ConsentAnswer, ConsentOutcome, ConsentPrompt},
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

/// `GET /api/oidc/consent?request=…`: who asks the holder for consent.
pub async fn consent_prompt(request: &str) -> Result<ConsentPrompt, ErrorCode> {
    get_json(&format!("{CONSENT_API}?request={request}")).await
}

/// `POST /api/oidc/consent`: the holder's answer; says where to go back to.
pub async fn consent_answer(request: &str, approve: bool) -> Result<ConsentOutcome, ErrorCode> {
    post_json(CONSENT_API, &ConsentAnswer { request: request.to_owned(), approve }).await
}

/// `GET /api/health`.
pub async fn health() -> Result<Health, ErrorCode> {
    get_json("/api/health").await
}

/// `GET /api/config`: where the local helper listens.
pub async fn client_config() -> Result<ClientConfig, ErrorCode> {
    get_json("/api/config").await
}

/// `POST /api/hpki/challenge`: opens (or keeps) this browser's session.
pub async fn hpki_challenge() -> Result<Challenge, ErrorCode> {
    post_empty("/api/hpki/challenge").await
}

/// `POST /api/hpki/finish`: the HPKI card's answer; on success the session is the holder's.
pub async fn hpki_finish(sig: &CardSignature) -> Result<SessionInfo, ErrorCode> {
    post_json("/api/hpki/finish", sig).await
}

/// `GET /api/session`: the holder of this session, if the HPKI card identified one.
pub async fn session() -> Result<SessionInfo, ErrorCode> {
    get_json("/api/session").await
}

/// `POST /api/mynumber/challenge`.
pub async fn mynumber_challenge() -> Result<Challenge, ErrorCode> {
    post_empty("/api/mynumber/challenge").await
}

/// `POST /api/mynumber/finish`: binds the My Number card that signed.
pub async fn mynumber_finish(sig: &CardSignature) -> Result<MyNumberBound, ErrorCode> {
    post_json("/api/mynumber/finish", sig).await
}

/// `POST /api/smartphone/enrolments`: the 2D code for a phone (`replace` once the holder said はい).
pub async fn issue_enrolment(replace: bool) -> Result<EnrolmentIssued, ErrorCode> {
    post_json("/api/smartphone/enrolments", &EnrolmentRequest { replace }).await
}

/// `POST /api/smartphone/confirm`: the code the phone shows, as typed on the PC.
pub async fn confirm(code: String) -> Result<Confirmed, ErrorCode> {
    post_json("/api/smartphone/confirm", &ConfirmCode { code }).await
}

/// `GET /api/smartphone/holder`: whose phone this session may enrol, however it proved it.
pub async fn smartphone_holder() -> Result<Holder, ErrorCode> {
    get_json("/api/smartphone/holder").await
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
    let req = Request::post("/api/jma/login").json(login).map_err(|_| bare(ErrorCode::Internal))?;
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
    post_empty("/api/smartphone/change").await
}

/// `POST /api/change/open` (old phone): claims the first code for this phone.
pub async fn change_open(token: String) -> Result<ChangeOpened, ErrorCode> {
    post_json("/api/change/open", &OpenEnrolment { token }).await
}

/// `POST /api/change/begin` (old phone): assertion options for the holder's bound phone.
pub async fn change_begin(hpki_id: HpkiId) -> Result<AssertionOptions, ErrorCode> {
    post_json("/api/change/begin", &ChangeBegin { hpki_id }).await
}

/// `POST /api/change/finish` (old phone): its assertion; the PC may then enrol the new phone.
pub async fn change_finish(credential: PublicKeyCredential) -> Result<ChangeProved, ErrorCode> {
    post_json("/api/change/finish", &ChangeFinish { credential }).await
}

/// `POST /api/enrol/open` (phone): claims the enrolment for this phone.
pub async fn enrol_open(token: String) -> Result<EnrolmentOpened, ErrorCode> {
    post_json("/api/enrol/open", &OpenEnrolment { token }).await
}

/// `POST /api/enrol/begin` (phone): WebAuthn creation options.
pub async fn enrol_begin() -> Result<RegistrationOptions, ErrorCode> {
    post_empty("/api/enrol/begin").await
}

/// `POST /api/enrol/finish` (phone): the new credential and its label.
pub async fn enrol_finish(finish: &FinishEnrolment) -> Result<PhoneBound, ErrorCode> {
    post_json("/api/enrol/finish", finish).await
}

/// `DELETE /api/smartphone/enrolments/current` (204, no body): 中止 on the PC; the code on
/// screen stops working now instead of at its expiry. Best effort: it expires by itself too.
pub async fn cancel_enrolment() {
    if let Err(e) = Request::delete("/api/smartphone/enrolments/current").send().await {
        tracing_fallback(&e.to_string());
    }
}

/// `DELETE /api/smartphone/change/current` (204, no body): 中止 on the PC during a change; the
/// first code on screen stops working now. Best effort, like [`cancel_enrolment`].
pub async fn cancel_change() {
    if let Err(e) = Request::delete("/api/smartphone/change/current").send().await {
        tracing_fallback(&e.to_string());
    }
}

/// `POST /api/session/logout` (204, no body). Best effort: the session also expires by itself.
pub async fn logout() {
    if let Err(e) = Request::post("/api/session/logout").send().await {
        tracing_fallback(&e.to_string());
    }
}

/// The app has no log sink but the console; a failed cancel or logout only delays an expiry.
fn tracing_fallback(what: &str) {
    web_sys::console::warn_1(&format!("server: {what}").into());
}
