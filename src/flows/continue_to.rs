//! Where a signed-in holder goes, written once for every sign-in page: the relying service's
//! `/oidc/` step that sent them (`?continue=`), anything else ignored (no open redirect), else
//! their own page. A link from one sign-in page to another carries the parameter along.

/// The first path a relying service may send the holder back to; anything else in `continue`
/// is ignored, so a sign-in page cannot be made to send a signed-in holder elsewhere.
const CONTINUE_PREFIX: &str = "/oidc/";

/// The holder's page, where a sign-in without `continue` ends.
pub const ACCOUNT_PATH: &str = "/account";

/// Where to go after signing in, given the page's `continue` parameter (decoded): a same-site
/// path under `/oidc/`, else the holder's page.
pub fn after_sign_in(continue_to: Option<&str>) -> &str {
    continue_to.filter(|p| is_continue_path(p)).unwrap_or(ACCOUNT_PATH)
}

/// A path on this site under `/oidc/`: no scheme or host can hide in it (`//`, `\`), nor
/// anything the browser's URL parser would strip (ASCII tab and newlines) or rewrite (other
/// controls, space). Non-ASCII it percent-encodes, which cannot change the path's site. Written
/// over bytes: `str::contains("//")` and the Unicode classes would link the substring searcher
/// and Unicode tables into every sign-in bundle (about 0.8 KB gzipped).
pub fn is_continue_path(p: &str) -> bool {
    let b = p.as_bytes();
    b.starts_with(CONTINUE_PREFIX.as_bytes())
        && !b.windows(2).any(|w| w == b"//")
        && !b.iter().any(|&c| c == b'\\' || c == b' ' || c.is_ascii_control())
}

/// `path` carrying `continue_to` along when it is one to continue to (another sign-in page of
/// the same sign-in), else `path` alone.
pub fn link(path: &str, continue_to: Option<&str>) -> String {
    match continue_to.filter(|p| is_continue_path(p)) {
        Some(c) => format!("{path}?continue={}", js_sys::encode_uri_component(c)),
        None => path.to_owned(),
    }
}

/// This page's `continue` parameter, decoded.
pub fn here() -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search).ok()?.get("continue")
}

/// Leaves for [`after_sign_in`] of this page's parameter: a whole page load, since `/oidc/` is
/// the server's and the holder's page may live in another bundle.
pub fn go_on() {
    let target = after_sign_in(here().as_deref()).to_owned();
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign(&target);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_oidc_path_is_continued_to() {
        assert_eq!(after_sign_in(None), ACCOUNT_PATH);
        assert_eq!(
            after_sign_in(Some("/oidc/authorize?client_id=x&state=y")),
            "/oidc/authorize?client_id=x&state=y"
        );
        for evil in [
            "https://evil.example/oidc/",
            "//evil.example/oidc/",
            "/oidc//evil.example",
            "/oidc/\\evil.example",
            "/\\evil.example/oidc/",
            "/account/../oidc/",
            "/oidc/\tx",
            "/oidcx",
            "oidc/authorize",
            "",
        ] {
            assert_eq!(after_sign_in(Some(evil)), ACCOUNT_PATH, "{evil:?}");
        }
    }
}
