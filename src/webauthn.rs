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
    if !available() {
        return Err(ErrorCode::WebauthnUnsupported);
    }
    let window = web_sys::window().ok_or(ErrorCode::WebauthnUnsupported)?;
    let opts: web_sys::CredentialCreationOptions = options.into();
    let promise = window
        .navigator()
        .credentials()
        .create_with_options(&opts)
        .map_err(|_| ErrorCode::WebauthnUnsupported)?;
    let value = JsFuture::from(promise).await.map_err(|e| classify(&e))?;
    let credential: web_sys::PublicKeyCredential =
        value.dyn_into().map_err(|_| ErrorCode::WebauthnUnsupported)?;
    Ok(credential.into())
}

/// `navigator.credentials.get()`: the registered phone proves itself with its biometrics.
pub async fn get(options: RequestChallengeResponse) -> Result<PublicKeyCredential, ErrorCode> {
    if !available() {
        return Err(ErrorCode::WebauthnUnsupported);
    }
    let window = web_sys::window().ok_or(ErrorCode::WebauthnUnsupported)?;
    let opts: web_sys::CredentialRequestOptions = options.into();
    let promise = window
        .navigator()
        .credentials()
        .get_with_options(&opts)
        .map_err(|_| ErrorCode::WebauthnUnsupported)?;
    // NotAllowedError here also means this phone has none of the credentials the server named.
    let value = JsFuture::from(promise).await.map_err(|e| match classify(&e) {
        ErrorCode::WebauthnCancelled => ErrorCode::WebauthnNotProved,
        other => other,
    })?;
    let credential: web_sys::PublicKeyCredential =
        value.dyn_into().map_err(|_| ErrorCode::WebauthnUnsupported)?;
    Ok(credential.into())
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
