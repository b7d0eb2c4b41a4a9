//! The スマートフォン way of the daily sign-in, the part both pages share: the passkey on the
//! device itself (the phone, or a PC whose browser reaches the phone), and where the holder goes
//! once signed in.

use mahpki_protocol::{ErrorCode, api::SignedIn};

use crate::{server, webauthn};

/// Asks this browser for a passkey of the site (none named: the passkey says whose it is) and
/// signs this browser in with it.
pub async fn sign_in_here() -> Result<SignedIn, ErrorCode> {
    let options = server::passkey_begin().await?.options;
    let credential = webauthn::get_discoverable(options).await?;
    server::passkey_finish(credential).await
}

/// Where a signed-in holder goes: the relying service's `/oidc/` step they came from
/// (`?continue=`), anything else ignored (no open redirect), else their own page.
pub fn destination(continue_to: Option<&str>) -> String {
    match continue_to {
        Some(path) if path.starts_with("/oidc/") && !path.contains('\\') => path.to_owned(),
        _ => "/account".to_owned(),
    }
}

/// [`destination`] of this page's `?continue=`.
pub fn destination_here() -> String {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    let param =
        web_sys::UrlSearchParams::new_with_str(&search).ok().and_then(|p| p.get("continue"));
    destination(param.as_deref())
}

/// Leaves for [`destination_here`] (a whole page load: `/oidc/` is the server's).
pub fn go_on() {
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign(&destination_here());
    }
}

#[cfg(test)]
mod tests {
    use super::destination;

    #[test]
    fn only_the_oidc_steps_are_continued_to() {
        assert_eq!(destination(Some("/oidc/authorize?x=1")), "/oidc/authorize?x=1");
        for other in [
            None,
            Some(""),
            Some("https://evil.example/oidc/"),
            Some("//evil.example/oidc/"),
            Some("/account/../oidc/"),
            Some("/oidcx"),
            Some("/oidc/\\evil.example"),
        ] {
            assert_eq!(destination(other), "/account", "{other:?}");
        }
    }
}
