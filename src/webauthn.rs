//! The browser's WebAuthn API for the phone pages: create a platform credential from the
//! server's options, or prove the phone with the one it has. Failures become the catalogue's
//! codes so the page can say what to check.

use mahpki_protocol::{
    ErrorCode,
    enrol::{
        CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
        RequestChallengeResponse,
    },
};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Whether this browser has WebAuthn at all (old in-app browsers do not).
pub fn available() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &"PublicKeyCredential".into()).ok())
        .is_some_and(|v| !v.is_undefined())
}

/// `navigator.credentials.create()`: the phone asks for the holder's biometrics.
pub async fn create(
    options: CreationChallengeResponse,
) -> Result<RegisterPublicKeyCredential, ErrorCode> {
    let opts: web_sys::CredentialCreationOptions = options.into();
    let credential =
        ceremony(|c| c.create_with_options(&opts), ErrorCode::WebauthnCancelled).await?;
    Ok(credential.into())
}

/// `navigator.credentials.get()`: the registered phone proves itself with its biometrics.
pub async fn get(options: RequestChallengeResponse) -> Result<PublicKeyCredential, ErrorCode> {
    let opts: web_sys::CredentialRequestOptions = options.into();
    // NotAllowedError here also means this phone has none of the credentials the server named.
    let credential = ceremony(|c| c.get_with_options(&opts), ErrorCode::WebauthnNotProved).await?;
    Ok(credential.into())
}

/// `navigator.credentials.get()` naming no credential (the daily sign-in): the device offers the
/// site's passkeys itself, or the phone nearby (hybrid) on a PC.
pub async fn get_discoverable(
    options: RequestChallengeResponse,
) -> Result<PublicKeyCredential, ErrorCode> {
    let opts: web_sys::CredentialRequestOptions = options.into();
    // NotAllowedError here also means no passkey of this site was found.
    let credential = ceremony(|c| c.get_with_options(&opts), ErrorCode::PasskeyCancelled).await?;
    Ok(credential.into())
}

/// Runs one ceremony on `navigator.credentials`; `not_allowed` is what a `NotAllowedError`
/// means for it.
async fn ceremony(
    start: impl FnOnce(&web_sys::CredentialsContainer) -> Result<js_sys::Promise, wasm_bindgen::JsValue>,
    not_allowed: ErrorCode,
) -> Result<web_sys::PublicKeyCredential, ErrorCode> {
    if !available() {
        return Err(ErrorCode::WebauthnUnsupported);
    }
    let window = web_sys::window().ok_or(ErrorCode::WebauthnUnsupported)?;
    let promise =
        start(&window.navigator().credentials()).map_err(|_| ErrorCode::WebauthnUnsupported)?;
    let value = JsFuture::from(promise).await.map_err(|e| match classify(&e) {
        ErrorCode::WebauthnCancelled => not_allowed,
        other => other,
    })?;
    value.dyn_into().map_err(|_| ErrorCode::WebauthnUnsupported)
}

/// `NotAllowedError` is the holder cancelling (or the prompt timing out); the rest mean the
/// phone or browser cannot do it.
fn classify(error: &wasm_bindgen::JsValue) -> ErrorCode {
    let name = error.dyn_ref::<web_sys::DomException>().map(|e| e.name());
    match name.as_deref() {
        Some("NotAllowedError" | "AbortError") => ErrorCode::WebauthnCancelled,
        Some("InvalidStateError") => ErrorCode::CredentialExists,
        _ => ErrorCode::WebauthnUnsupported,
    }
}
