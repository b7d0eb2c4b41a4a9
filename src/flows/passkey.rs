//! The スマートフォン way of the daily sign-in, the part both pages share: the passkey on the
//! device itself (the phone, or a PC whose browser reaches the phone).

use mahpki_protocol::{ErrorCode, api::SignedIn};

use crate::{server, webauthn};

/// Asks this browser for a passkey of the site (none named: the passkey says whose it is) and
/// signs this browser in with it.
pub async fn sign_in_here() -> Result<SignedIn, ErrorCode> {
    let options = server::passkey_begin().await?.options;
    let credential = webauthn::get_discoverable(options).await?;
    server::passkey_finish(credential).await
}
